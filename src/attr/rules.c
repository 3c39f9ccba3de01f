/* The attribution rules table: one row per layer kind of model.h. */
#include "attr/rules.h"

static const tk_attr_rules *const TABLE[] = {
    [TK_LAYER_INPUT] = &tk_rules_identity,
    [TK_LAYER_EMBEDDING] = &tk_rules_none, /* looked up before the body: never walked */
    [TK_LAYER_CONV1D] = &tk_rules_conv,
    [TK_LAYER_MAX_POOL1D] = &tk_rules_max_pool,
    [TK_LAYER_AVG_POOL1D] = &tk_rules_avg_pool,
    [TK_LAYER_GLOBAL_MAX_POOL1D] = &tk_rules_global_max_pool,
    [TK_LAYER_GLOBAL_AVG_POOL1D] = &tk_rules_avg_pool,
    [TK_LAYER_FLATTEN] = &tk_rules_identity,
    [TK_LAYER_DENSE] = &tk_rules_dense,
    [TK_LAYER_ACTIVATION] = &tk_rules_activation,
    [TK_LAYER_DROPOUT] = &tk_rules_identity,
    [TK_LAYER_LSTM] = &tk_rules_lstm,
    [TK_LAYER_BIDIRECTIONAL] = &tk_rules_lstm,
    [TK_LAYER_SIMPLE_RNN] = &tk_rules_rnn,
    [TK_LAYER_GRU] = &tk_rules_rnn,
    [TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN] = &tk_rules_rnn,
    [TK_LAYER_BIDIRECTIONAL_GRU] = &tk_rules_rnn,
    [TK_LAYER_BATCH_NORM] = &tk_rules_batch_norm,
};

/* A new kind in model.h needs its row here (rules_none if it has no rules yet). */
_Static_assert(sizeof TABLE / sizeof TABLE[0] == TK_LAYER_KIND_COUNT,
               "every layer kind needs a row in the attribution rules table");

const tk_attr_rules *tk_attr_rules_of(tk_layer_kind kind)
{
    if ((int)kind < 0 || kind >= TK_LAYER_KIND_COUNT || TABLE[kind] == NULL)
        return &tk_rules_none;
    return TABLE[kind];
}

const tk_attr_rules tk_rules_none = {0};
