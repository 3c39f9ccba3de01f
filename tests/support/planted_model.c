/* See planted_model.h. */
#include "support/planted_model.h"

#include <stdlib.h>
#include <string.h>

#include "data/model_input.h"
#include "data/synthetic.h"
#include "model/init.h"
#include "model/train.h"

enum { PLANTED_MAXLEN = 40 };

void tk_planted_case_destroy(tk_planted_case *pc)
{
    if (!pc)
        return;
    tk_model_destroy(pc->model);
    free(pc->test_ids);
    free(pc->planted_at);
    free(pc->bg_ids);
    free(pc);
}

tk_status tk_planted_case_create(const tk_layer_spec *specs, int n_specs, int epochs,
                                 int n_background, tk_planted_case **out, tk_error *err)
{
    *out = NULL;
    tk_status st = TK_OK;
    tk_synthetic *syn = NULL;
    tk_train_data *train = NULL, *test = NULL;
    tk_planted_case *pc = calloc(1, sizeof *pc);
    int32_t *word_pos = NULL; /* (maxlen) */
    if (!pc) {
        tk_error_set(err, TK_E_NOMEM, "planted_model.c: out of memory");
        return TK_E_NOMEM;
    }
    tk_synthetic_spec spec;
    tk_synthetic_spec_default(&spec); /* the config's figures */
    st = tk_synthetic_create(&spec, &syn, err);
    if (st != TK_OK)
        goto fail;
    tk_input_spec in;
    tk_input_spec_default(&in, spec.vocab_size, PLANTED_MAXLEN);
    st = tk_train_data_from_split(&syn->train, &in, TK_TRAIN_TARGET_LABEL, &train, err);
    if (st == TK_OK)
        st = tk_train_data_from_split(&syn->test, &in, TK_TRAIN_TARGET_LABEL, &test, err);
    if (st != TK_OK)
        goto fail;
    pc->steps = PLANTED_MAXLEN;
    st = tk_model_build(specs, n_specs, PLANTED_MAXLEN, &pc->model, err);
    if (st == TK_OK)
        st = tk_model_init_keras(pc->model, 1, err);
    if (st != TK_OK)
        goto fail;
    tk_train_options opt;
    tk_train_options_default(&opt);
    opt.epochs = epochs;
    opt.batch_size = 32;
    opt.seed = 1;
    opt.optim.lr = 0.01f;
    st = tk_train(pc->model, &opt, train, NULL, NULL, err);
    if (st != TK_OK)
        goto fail;
    double loss;
    st = tk_train_evaluate(pc->model, test, 256, &loss, &pc->test_accuracy, err);
    if (st != TK_OK)
        goto fail;

    int64_t n = syn->test.n;
    pc->test_ids = malloc((size_t)n * PLANTED_MAXLEN * sizeof *pc->test_ids);
    pc->planted_at = malloc((size_t)n * sizeof *pc->planted_at);
    word_pos = malloc(PLANTED_MAXLEN * sizeof *word_pos);
    pc->n_background = n_background < syn->train.n ? n_background : (int)syn->train.n;
    pc->bg_ids = malloc((size_t)pc->n_background * PLANTED_MAXLEN * sizeof *pc->bg_ids);
    if (!pc->test_ids || !pc->planted_at || !word_pos || !pc->bg_ids) {
        st = tk_error_set(err, TK_E_NOMEM, "planted_model.c: out of memory");
        goto fail;
    }
    for (int64_t r = 0; r < n; r++) {
        int32_t want = syn->test_planted_pos[r];
        if (want < 0)
            continue; /* negatives hold no planted token */
        const tk_split *s = &syn->test;
        int32_t *row = pc->test_ids + (size_t)pc->n_test * PLANTED_MAXLEN;
        tk_prepare_input(&in, s->ids + s->offset[r], s->offset[r + 1] - s->offset[r], row,
                         word_pos);
        int at = -1;
        for (int t = 0; t < PLANTED_MAXLEN; t++)
            if (word_pos[t] == want)
                at = t;
        if (at < 0 || row[at] != spec.planted_id) {
            st = tk_error_set(err, TK_E_INVALID,
                              "planted_model.c: test review %lld lost its planted token",
                              (long long)r);
            goto fail;
        }
        pc->planted_at[pc->n_test++] = at;
    }
    /* the background the way the pipeline takes it: the first train rows */
    memcpy(pc->bg_ids, train->ids, (size_t)pc->n_background * PLANTED_MAXLEN * sizeof *pc->bg_ids);
    free(word_pos);
    tk_train_data_destroy(train);
    tk_train_data_destroy(test);
    tk_synthetic_destroy(syn);
    *out = pc;
    return TK_OK;
fail:
    free(word_pos);
    tk_train_data_destroy(train);
    tk_train_data_destroy(test);
    tk_synthetic_destroy(syn);
    tk_planted_case_destroy(pc);
    return st;
}
