#include "model/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tk_layer_class_name(tk_layer_kind kind)
{
    switch (kind) {
    case TK_LAYER_INPUT: return "InputLayer";
    case TK_LAYER_EMBEDDING: return "Embedding";
    case TK_LAYER_CONV1D: return "Conv1D";
    case TK_LAYER_MAX_POOL1D: return "MaxPooling1D";
    case TK_LAYER_AVG_POOL1D: return "AveragePooling1D";
    case TK_LAYER_GLOBAL_MAX_POOL1D: return "GlobalMaxPooling1D";
    case TK_LAYER_GLOBAL_AVG_POOL1D: return "GlobalAveragePooling1D";
    case TK_LAYER_FLATTEN: return "Flatten";
    case TK_LAYER_DENSE: return "Dense";
    case TK_LAYER_ACTIVATION: return "Activation";
    case TK_LAYER_DROPOUT: return "Dropout";
    case TK_LAYER_LSTM: return "LSTM";
    case TK_LAYER_BIDIRECTIONAL: return "Bidirectional";
    case TK_LAYER_SIMPLE_RNN: return "SimpleRNN";
    case TK_LAYER_GRU: return "GRU";
    case TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN: return "Bidirectional";
    case TK_LAYER_BIDIRECTIONAL_GRU: return "Bidirectional";
    case TK_LAYER_BATCH_NORM: return "BatchNormalization";
    case TK_LAYER_KIND_COUNT: break;
    }
    return "?";
}

/* tf.keras' snake_case base names. */
static const char *base_name(tk_layer_kind kind)
{
    switch (kind) {
    case TK_LAYER_EMBEDDING: return "embedding";
    case TK_LAYER_CONV1D: return "conv1d";
    case TK_LAYER_MAX_POOL1D: return "max_pooling1d";
    case TK_LAYER_AVG_POOL1D: return "average_pooling1d";
    case TK_LAYER_GLOBAL_MAX_POOL1D: return "global_max_pooling1d";
    case TK_LAYER_GLOBAL_AVG_POOL1D: return "global_average_pooling1d";
    case TK_LAYER_FLATTEN: return "flatten";
    case TK_LAYER_DENSE: return "dense";
    case TK_LAYER_ACTIVATION: return "activation";
    case TK_LAYER_DROPOUT: return "dropout";
    case TK_LAYER_LSTM: return "lstm";
    case TK_LAYER_BIDIRECTIONAL: return "bidirectional";
    case TK_LAYER_GRU: return "gru";
    case TK_LAYER_SIMPLE_RNN: return "simple_rnn";
    case TK_LAYER_BATCH_NORM: return "batch_normalization";
    default: return "layer";
    }
}

/* Sizes the model module cannot judge (it reads them from trusted-looking
 * Keras files): zero or negative widths, rates outside [0, 1). */
static tk_status check_spec(const tk_layer *l, const tk_layer_spec *s, tk_error *err)
{
    bool bad = false;
    switch (s->kind) {
    case TK_LAYER_EMBEDDING: bad = s->input_dim <= 0 || s->output_dim <= 0; break;
    case TK_LAYER_CONV1D: bad = s->filters <= 0 || s->kernel_size <= 0; break;
    case TK_LAYER_MAX_POOL1D:
    case TK_LAYER_AVG_POOL1D: bad = s->pool_size <= 0; break;
    case TK_LAYER_DENSE: bad = s->units <= 0; break;
    case TK_LAYER_LSTM: bad = s->units <= 0 || s->rate < 0 || s->rate >= 1; break;
    case TK_LAYER_DROPOUT: bad = s->rate < 0 || s->rate >= 1; break;
    case TK_LAYER_GRU:
    case TK_LAYER_SIMPLE_RNN: bad = s->units <= 0; break;
    case TK_LAYER_BATCH_NORM: break;
    case TK_LAYER_GLOBAL_MAX_POOL1D:
    case TK_LAYER_GLOBAL_AVG_POOL1D:
    case TK_LAYER_FLATTEN:
    case TK_LAYER_ACTIVATION: break;
    default:
        return tk_error_set(err, TK_E_UNSUPPORTED, "layer %s: training a %s is not supported",
                            l->name, l->class_name);
    }
    if (bad)
        return tk_error_set(err, TK_E_INVALID,
                            "layer %s (%s): sizes must be positive (input_dim, output_dim, "
                            "filters, kernel_size, pool_size, units) and rates in [0, 1)",
                            l->name, l->class_name);
    return TK_OK;
}

/* The Keras config of one layer; weights are laid out by the model module. */
static void fill_layer(tk_layer *l, const tk_layer_spec *s)
{
    l->kind = s->kind;
    l->input_dim = s->input_dim;
    l->output_dim = s->output_dim;
    l->filters = s->filters;
    l->kernel_size = s->kernel_size;
    l->strides = 1;
    l->dilation = 1;
    l->padding_same = s->padding_same;
    l->pool_size = s->pool_size;
    l->pool_strides = s->pool_size;
    l->pool_padding_same = s->padding_same;
    l->units = s->units;
    l->activation = s->activation;
    l->use_bias = true;
    l->dropout_rate = s->rate;
    if (s->kind == TK_LAYER_LSTM) {
        l->activation = TK_ACT_TANH;
        l->recurrent_activation = TK_ACT_SIGMOID;
        l->return_sequences = s->return_sequences;
    }
    /* tf.keras 2 defaults: GRU reset_after with sigmoid gates; SimpleRNN
     * tanh unless the config names an activation */
    if (s->kind == TK_LAYER_GRU || s->kind == TK_LAYER_SIMPLE_RNN) {
        if (s->kind == TK_LAYER_GRU || s->activation == TK_ACT_LINEAR)
            l->activation = TK_ACT_TANH;
        l->recurrent_activation = TK_ACT_SIGMOID;
        l->reset_after = true;
        l->return_sequences = s->return_sequences;
    }
    if (s->kind == TK_LAYER_BATCH_NORM) {
        l->bn_center = l->bn_scale = true;
        l->bn_epsilon = 1e-3f;
        l->bn_axis = -1;
    }
}

tk_status tk_model_build(const tk_layer_spec *specs, int n_specs, int maxlen, tk_model **out,
                         tk_error *err)
{
    *out = NULL;
    if (n_specs <= 1 || maxlen <= 0)
        return tk_error_set(err, TK_E_INVALID,
                            "model: needs an Embedding and at least one more layer, and "
                            "maxlen > 0");
    tk_layer *layers = tk_calloc((size_t)n_specs, sizeof *layers, err);
    if (layers == NULL)
        return TK_E_NOMEM;
    tk_status st = TK_OK;
    int seen[TK_LAYER_KIND_COUNT] = {0};
    for (int i = 0; i < n_specs && st == TK_OK; i++) {
        tk_layer *l = &layers[i];
        const tk_layer_spec *s = &specs[i];
        if (s->kind < 0 || s->kind >= TK_LAYER_KIND_COUNT) {
            st = tk_error_set(err, TK_E_INVALID, "model: layer %d has an unknown kind", i + 1);
            break;
        }
        snprintf(l->class_name, sizeof l->class_name, "%s", tk_layer_class_name(s->kind));
        if (seen[s->kind] == 0)
            snprintf(l->name, sizeof l->name, "%s", base_name(s->kind));
        else
            snprintf(l->name, sizeof l->name, "%s_%d", base_name(s->kind), seen[s->kind]);
        seen[s->kind]++;
        if ((s->kind == TK_LAYER_EMBEDDING) != (i == 0))
            st = tk_error_set(err, TK_E_UNSUPPORTED,
                              "layer %s: the Embedding must be the first layer, and only it",
                              l->name);
        if (st == TK_OK)
            st = check_spec(l, s, err);
        fill_layer(l, s);
    }
    const tk_layer_spec *last = &specs[n_specs - 1];
    if (st == TK_OK && last->kind != TK_LAYER_DENSE)
        st = tk_error_set(err, TK_E_INVALID, "model: the last layer must be a Dense layer, not %s",
                          tk_layer_class_name(last->kind));
    if (st == TK_OK)
        st = tk_model_from_layers(layers, n_specs, maxlen, 0, out, err);
    free(layers);
    return st;
}

void tk_layer_kernel_range(const tk_model *model, int layer, size_t *offset, size_t *count)
{
    const tk_layer *l = &model->layers[layer];
    *offset = 0;
    *count = 0;
    switch (l->kind) {
    case TK_LAYER_DENSE:
        *offset = (size_t)(l->kernel - model->params);
        *count = (size_t)l->in.channels * l->units;
        break;
    case TK_LAYER_CONV1D:
        *offset = (size_t)(l->kernel - model->params);
        *count = (size_t)l->kernel_size * l->in.channels * l->filters;
        break;
    case TK_LAYER_LSTM:
        *offset = (size_t)(l->lstm[0].kernel - model->params);
        *count = (size_t)l->in.channels * 4 * l->units;
        break;
    default:
        break;
    }
}
