#include "data/synthetic.h"

#include <stdlib.h>

#include "core/rng.h"

static int64_t below(uint64_t *state, int64_t n)
{
    return (int64_t)tk_rng_below(state, (uint64_t)n);
}

void tk_synthetic_spec_default(tk_synthetic_spec *spec)
{
    spec->n_train = 2000;
    spec->n_test = 1000;
    spec->vocab_size = 1000;
    spec->min_len = 10;
    spec->max_len = 40;
    spec->planted_id = 7;
    spec->n_planted = 1;
    spec->seed = 1;
}

static void free_split(tk_split *s)
{
    free(s->offset);
    free(s->ids);
    free(s->label);
    free(s->rating);
    free(s->review_id);
}

void tk_synthetic_destroy(tk_synthetic *syn)
{
    if (syn == NULL)
        return;
    free_split(&syn->train);
    free_split(&syn->test);
    free(syn->train_planted_pos);
    free(syn->test_planted_pos);
    free(syn);
}

static tk_status make_split(const tk_synthetic_spec *spec, int64_t n, uint64_t *state,
                            tk_split *s, int32_t **planted_pos, tk_error *err)
{
    s->n = n;
    s->offset = tk_malloc((size_t)n + 1, sizeof *s->offset, err);
    s->label = tk_malloc((size_t)n ? (size_t)n : 1, sizeof *s->label, err);
    s->rating = tk_malloc((size_t)n ? (size_t)n : 1, sizeof *s->rating, err);
    s->review_id = tk_malloc((size_t)n ? (size_t)n : 1, sizeof *s->review_id, err);
    *planted_pos = tk_malloc((size_t)n ? (size_t)n : 1, sizeof **planted_pos, err);
    if (!s->offset || !s->label || !s->rating || !s->review_id || !*planted_pos)
        return TK_E_NOMEM;
    /* Lengths first, so that ids can be allocated in one block. */
    s->offset[0] = 0;
    for (int64_t i = 0; i < n; i++)
        s->offset[i + 1] =
            s->offset[i] + spec->min_len + below(state, spec->max_len - spec->min_len + 1);
    s->ids = tk_malloc((size_t)s->offset[n] ? (size_t)s->offset[n] : 1, sizeof *s->ids, err);
    if (s->ids == NULL)
        return TK_E_NOMEM;
    int64_t n_neg = n / 2;
    for (int64_t i = 0; i < n; i++) {
        int pos = i >= n_neg;
        int32_t *w = s->ids + s->offset[i];
        int64_t len = s->offset[i + 1] - s->offset[i];
        for (int64_t t = 0; t < len; t++) {
            /* noise from [4, vocab) minus the planted id: draw from one id
             * fewer and step over it */
            int32_t id = 4 + (int32_t)below(state, spec->vocab_size - 5);
            w[t] = id >= spec->planted_id ? id + 1 : id;
        }
        int32_t first = -1;
        if (pos)
            for (int k = 0; k < spec->n_planted; k++) {
                int32_t at = (int32_t)below(state, len);
                w[at] = spec->planted_id;
                if (first < 0 || at < first)
                    first = at;
            }
        s->label[i] = (int32_t)pos;
        s->rating[i] = pos ? 10 : 1;
        s->review_id[i] = (int32_t)i;
        (*planted_pos)[i] = first;
    }
    return TK_OK;
}

tk_status tk_synthetic_create(const tk_synthetic_spec *spec, tk_synthetic **out, tk_error *err)
{
    *out = NULL;
    if (spec->n_train < 2 || spec->n_test < 0 || spec->vocab_size < 6 || spec->min_len < 1 ||
        spec->max_len < spec->min_len || spec->planted_id < 4 ||
        spec->planted_id >= spec->vocab_size || spec->n_planted < 1)
        return tk_error_set(err, TK_E_INVALID,
                            "synthetic data: need n_train >= 2, vocab_size >= 6, "
                            "1 <= min_len <= max_len, 4 <= planted_id < vocab_size and "
                            "n_planted >= 1");
    tk_synthetic *syn = tk_calloc(1, sizeof *syn, err);
    if (syn == NULL)
        return TK_E_NOMEM;
    syn->spec = *spec;
    /* Two streams so that the test split does not change with n_train. */
    uint64_t train_state = spec->seed, test_state = spec->seed ^ 0x5851f42d4c957f2dULL;
    tk_status st = make_split(spec, spec->n_train, &train_state, &syn->train,
                              &syn->train_planted_pos, err);
    if (st == TK_OK)
        st = make_split(spec, spec->n_test, &test_state, &syn->test, &syn->test_planted_pos,
                        err);
    if (st != TK_OK) {
        tk_synthetic_destroy(syn);
        return st;
    }
    *out = syn;
    return TK_OK;
}
