#include "report/faith_compute.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/aggregate.h"

static tk_results_faith *faith_alloc(int64_t n, int k1, tk_error *err)
{
    tk_results_faith *f = tk_calloc(1, sizeof *f, err);
    if (f == NULL)
        return NULL;
    size_t nn = (size_t)(n ? n : 1);
    f->k1 = k1;
    f->curve = tk_malloc(nn * (size_t)k1, sizeof(float), err);        /* (N, k1) */
    f->random_curve = tk_malloc(nn * (size_t)k1, sizeof(float), err); /* (N, k1) */
    f->aopc = tk_malloc(nn, sizeof(float), err);                       /* (N) */
    f->comprehensiveness = tk_malloc(nn, sizeof(float), err);          /* (N) */
    f->sufficiency = tk_malloc(nn, sizeof(float), err);                /* (N) */
    if (!f->curve || !f->random_curve || !f->aopc || !f->comprehensiveness || !f->sufficiency) {
        free(f->curve);
        free(f->random_curve);
        free(f->aopc);
        free(f->comprehensiveness);
        free(f->sufficiency);
        free(f);
        return NULL;
    }
    /* Reviews outside the sample stay NaN: the summaries skip them. */
    for (size_t i = 0; i < (size_t)n * (size_t)k1; i++)
        f->curve[i] = f->random_curve[i] = NAN;
    for (size_t i = 0; i < (size_t)n; i++)
        f->aopc[i] = f->comprehensiveness[i] = f->sufficiency[i] = NAN;
    return f;
}

tk_status tk_report_compute_faithfulness(tk_results *r, const tk_model *model, const tk_faith_params *p,
                                         int64_t max_reviews, uint64_t seed, tk_error *err)
{
    if (!model->has_embedding)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "faithfulness: the model has no Embedding layer; the results file holds token ids");
    int steps = model->maxlen;
    int64_t longest = 0;
    for (int64_t i = 0; i < r->n; i++)
        if (r->token_offset[i + 1] - r->token_offset[i] > longest)
            longest = r->token_offset[i + 1] - r->token_offset[i];
    if (steps <= 0)
        steps = longest > 0 ? (int)longest : 1;
    tk_status st = tk_model_check_steps(model, steps, err);
    if (st != TK_OK)
        return st;
    for (int64_t t = 0; t < r->t; t++)
        if (r->token_id[t] >= model->vocab_size)
            return tk_error_set(err, TK_E_INVALID,
                                "%s: token id %d is outside the model's vocabulary of %d: wrong model?",
                                r->path, (int)r->token_id[t], model->vocab_size);
    int64_t *sample = tk_malloc((size_t)(max_reviews > 0 ? max_reviews : 1), sizeof *sample, err);
    int32_t *ids = tk_malloc((size_t)steps, sizeof *ids, err); /* (steps) */
    float *score = tk_malloc((size_t)steps, sizeof *score, err); /* (steps) */
    float *curve = tk_malloc((size_t)p->k_max + 1, sizeof *curve, err);
    float *rcurve = tk_malloc((size_t)p->k_max + 1, sizeof *rcurve, err);
    tk_faith_workspace *ws = tk_faith_workspace_create(p, steps, err);
    if (!sample || !ids || !score || !curve || !rcurve || !ws) {
        st = err && err->status ? err->status : TK_E_NOMEM;
        goto done;
    }
    int64_t n_sample = tk_report_random_sample(r, seed, max_reviews, sample);
    int k1 = p->k_max + 1;
    for (int m = 0; m < r->n_methods && st == TK_OK; m++) {
        tk_results_method *me = &r->methods[m];
        if (me->faith != NULL)
            continue;
        const char *out_kind = tk_results_attr_find(me->attrs, me->n_attrs, "output");
        tk_output_kind kind = out_kind && strcmp(out_kind, "logit") == 0 ? TK_OUTPUT_LOGIT : TK_OUTPUT_PROB;
        tk_faith_model_ctx *ctx = tk_faith_model_ctx_create(model, kind, tk_faith_batch_size(p), steps, err);
        me->faith = ctx ? faith_alloc(r->n, k1, err) : NULL;
        if (me->faith == NULL) {
            tk_faith_model_ctx_destroy(ctx);
            st = err && err->status ? err->status : TK_E_NOMEM;
            break;
        }
        for (int64_t j = 0; j < n_sample && st == TK_OK; j++) {
            int64_t i = sample[j], o = r->token_offset[i];
            int len = (int)(r->token_offset[i + 1] - o);
            if (len > steps)
                continue; /* cannot be the model input: leave NaN */
            /* DATA.md "pre" padding: the tokens sit at the end. */
            for (int t = 0; t < steps - len; t++) {
                ids[t] = 0;
                score[t] = 0;
            }
            memcpy(ids + steps - len, r->token_id + o, (size_t)len * sizeof *ids);
            memcpy(score + steps - len, me->score + o, (size_t)len * sizeof *score);
            int target = me->target ? me->target[i] : r->target ? r->target[i] : tk_results_predicted(r, i);
            if (target < 0 || target >= (model->n_outputs == 1 ? 2 : model->n_outputs)) {
                st = tk_error_set(err, TK_E_FORMAT, "%s: review %lld explains class %d, which the model lacks",
                                  r->path, (long long)r->review_id[i], target);
                break;
            }
            tk_faith_model_set_target(ctx, target);
            tk_faith_result res = {.curve = curve, .random_curve = rcurve};
            st = tk_faith_review(ws, p, tk_faith_model_eval, ctx, ids, score, NULL, steps, (uint64_t)i, &res, err);
            if (st != TK_OK)
                break;
            memcpy(me->faith->curve + i * k1, curve, (size_t)k1 * sizeof *curve);
            memcpy(me->faith->random_curve + i * k1, rcurve, (size_t)k1 * sizeof *rcurve);
            me->faith->aopc[i] = (float)res.aopc;
            me->faith->comprehensiveness[i] = (float)res.comprehensiveness;
            me->faith->sufficiency[i] = (float)res.sufficiency;
        }
        tk_faith_model_ctx_destroy(ctx);
    }
done:
    tk_faith_workspace_destroy(ws);
    free(sample);
    free(ids);
    free(score);
    free(curve);
    free(rcurve);
    return st;
}
