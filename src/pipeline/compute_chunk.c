/* One rank's batch loop (compute_chunk.h). */
#include "pipeline/compute_chunk.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "attr/target.h"
#include "data/model_input.h"
#include "data/word_vectors.h"

struct tk_compute {
    tk_compute_spec spec;
    const tk_model *model;
    tk_explainer **ex;    /* (n_methods) */
    float **bgv;          /* (n_methods) background vectors (B, steps, input_dim) or NULL */
    tk_workspace *ws;     /* predictions: chunk_size sequences */
    int n_out;
    float *x;             /* (cs, steps, input_dim) */
    float *logits;        /* (cs, n_out) */
    float *score;         /* (steps) one method's per-position scores */
    tk_chunk_result res;  /* (cs reviews, cs * steps tokens) */
    tk_faith_workspace *fws;     /* the faithfulness step, or NULL */
    tk_faith_model_ctx *fctx[2]; /* per tk_output_kind the methods explain (prob, logit) */
    /* the first method gives the logits at x (IG computes them for F(x)):
     * the predictions come from them, without a forward pass of the unit */
    bool method_logits;
};

void tk_compute_destroy(tk_compute *c)
{
    if (!c)
        return;
    for (int k = 0; c->ex && k < c->spec.n_methods; k++)
        tk_explainer_destroy(c->ex[k]);
    for (int k = 0; c->bgv && k < c->spec.n_methods; k++)
        free(c->bgv[k]);
    free(c->ex);
    free(c->bgv);
    tk_workspace_destroy(c->ws);
    free(c->x);
    free(c->logits);
    free(c->score);
    tk_chunk_result_free(&c->res);
    tk_faith_workspace_destroy(c->fws);
    tk_faith_model_ctx_destroy(c->fctx[0]);
    tk_faith_model_ctx_destroy(c->fctx[1]);
    free(c);
}

/* One model context per output kind in use: the faithfulness step's F is
 * the same scalar the method explained (prob or logit of its target). */
static tk_status faith_init(tk_compute *c, tk_error *err)
{
    const tk_compute_spec *sp = &c->spec;
    if (!(c->fws = tk_faith_workspace_create(sp->faith, sp->steps, err)))
        return err->status != TK_OK ? err->status : TK_E_NOMEM;
    int batch = tk_faith_batch_size(sp->faith);
    for (int k = 0; k < sp->n_methods; k++) {
        tk_output_kind o =
            sp->methods[k].output == TK_OUTPUT_LOGIT ? TK_OUTPUT_LOGIT : TK_OUTPUT_PROB;
        if (c->fctx[o])
            continue;
        if (!(c->fctx[o] = tk_faith_model_ctx_create(c->model, o, batch, sp->steps, err)))
            return err->status != TK_OK ? err->status : TK_E_NOMEM;
    }
    return TK_OK;
}

/* Method k's explainer, with its DeepSHAP background (as ids, or for an
 * embedding-less model as the vectors of the same table the reviews read). */
static tk_status explainer_init(tk_compute *c, int k, tk_error *err)
{
    const tk_compute_spec *sp = &c->spec;
    const tk_method_params *mp = &sp->methods[k];
    const tk_model *m = c->model;
    tk_status st;
    tk_background bg = {0};
    if (mp->kind == TK_METHOD_DEEPSHAP && sp->background && sp->background[k])
        bg = (tk_background){.ids = sp->background[k], .n = mp->background_size, .steps = sp->steps};
    if (bg.ids && sp->vtab) {
        size_t nbv = (size_t)bg.n * (size_t)sp->steps * (size_t)m->input_dim;
        if (!c->bgv && !(c->bgv = tk_calloc((size_t)sp->n_methods, sizeof *c->bgv, err)))
            return TK_E_NOMEM;
        if (!(c->bgv[k] = tk_malloc(nbv, sizeof **c->bgv, err)))
            return TK_E_NOMEM;
        if ((st = tk_word_vectors_map(sp->vtab, sp->vtab_n, m->input_dim, bg.ids, bg.n, sp->steps,
                                      c->bgv[k], err)) != TK_OK)
            return st;
        bg = (tk_background){.vectors = c->bgv[k], .n = bg.n, .steps = sp->steps};
    }
    if ((st = tk_explainer_create(m, mp, (bg.ids || bg.vectors) ? &bg : NULL, sp->steps, &c->ex[k],
                                  err)) != TK_OK)
        tk_error_prefix(err, "method '%s'", mp->name);
    return st;
}

tk_status tk_compute_create(const tk_model *model, const tk_compute_spec *spec, tk_compute **out,
                            tk_error *err)
{
    *out = NULL;
    if (spec->chunk_size < 1 || spec->steps < 1 || spec->n_methods < 0)
        return tk_error_set(err, TK_E_INVALID,
                            "compute: chunk_size %d, steps %d, %d methods: all must be positive",
                            spec->chunk_size, spec->steps, spec->n_methods);
    tk_compute *c = tk_calloc(1, sizeof *c, err);
    if (!c)
        return TK_E_NOMEM;
    c->spec = *spec;
    c->model = model;
    c->n_out = model->n_outputs;
    size_t cs = (size_t)spec->chunk_size, s = (size_t)spec->steps;
    tk_status st = TK_E_NOMEM;
    c->ex = tk_calloc((size_t)(spec->n_methods > 0 ? spec->n_methods : 1), sizeof *c->ex, err);
    c->x = tk_malloc(cs * s * (size_t)model->input_dim, sizeof *c->x, err);
    c->logits = tk_malloc(cs * (size_t)c->n_out, sizeof *c->logits, err);
    c->score = tk_malloc(s, sizeof *c->score, err);
    if (!c->ex || !c->x || !c->logits || !c->score)
        goto fail;
    if (!(c->ws = tk_workspace_create(model, spec->chunk_size, spec->steps, err))) {
        st = err->status != TK_OK ? err->status : TK_E_NOMEM;
        goto fail;
    }
    if ((st = tk_chunk_result_alloc(&c->res, spec->chunk_size, (int64_t)(cs * s), c->n_out,
                                    spec->n_methods, err)) != TK_OK)
        goto fail;
    if (spec->faith &&
        ((st = tk_chunk_result_alloc_faith(&c->res, spec->chunk_size, spec->faith->k_max + 1,
                                           err)) != TK_OK ||
         (st = faith_init(c, err)) != TK_OK))
        goto fail;
    for (int k = 0; k < spec->n_methods; k++)
        if ((st = explainer_init(c, k, err)) != TK_OK)
            goto fail;
    c->method_logits = spec->n_methods > 0 && tk_explainer_gives_logits(c->ex[0]);
    *out = c;
    return TK_OK;
fail:
    tk_compute_destroy(c);
    return st;
}

tk_chunk_result *tk_compute_result(tk_compute *c)
{
    return &c->res;
}

/* The faithfulness step for method k on one review (row: steps), whose
 * scores are in c->score: curves and figures go to slot o = k * count + i
 * of the result. The random order is seeded by the review's row in the
 * results file (as `tokattr report` does), so it does not depend on the
 * ranks. */
static tk_status faith_review(tk_compute *c, int k, const int32_t *row, int64_t file_row, int64_t o,
                              tk_error *err)
{
    tk_chunk_result *r = &c->res;
    const tk_method_params *mp = &c->spec.methods[k];
    tk_faith_model_ctx *ctx =
        c->fctx[mp->output == TK_OUTPUT_LOGIT ? TK_OUTPUT_LOGIT : TK_OUTPUT_PROB];
    int k1 = r->faith_k1;
    tk_faith_model_set_target(ctx, r->target[o]);
    tk_faith_result fr = {.curve = r->faith_curve + o * k1, .random_curve = r->faith_random + o * k1};
    tk_status st = tk_faith_review(c->fws, c->spec.faith, tk_faith_model_eval, ctx, row, c->score,
                                   NULL, c->spec.steps, (uint64_t)file_row, &fr, err);
    if (st != TK_OK)
        return st;
    r->faith_aopc[o] = (float)fr.aopc;
    r->faith_comp[o] = (float)fr.comprehensiveness;
    r->faith_suff[o] = (float)fr.sufficiency;
    return TK_OK;
}

/* Numbers are checked where they leave a model or a method: a NaN or an
 * infinity (a model or an input that overflows float32) stops the job,
 * naming the review and the method, instead of reaching the results file
 * and the summary. The reviews finished before stay resumable. */
static tk_status check_finite(const float *v, int64_t n, const double *d, int64_t nd, const char *what,
                              const char *method, int64_t review, tk_error *err)
{
    bool ok = true;
    for (int64_t i = 0; i < n && ok; i++)
        ok = isfinite(v[i]);
    for (int64_t i = 0; i < nd && ok; i++)
        ok = isfinite(d[i]);
    if (ok)
        return TK_OK;
    if (method == NULL)
        return tk_error_set(err, TK_E_FORMAT,
                            "review %lld of the results: the model's %s is not finite (NaN or "
                            "infinity: the model or its input overflows float32); the job stops",
                            (long long)review, what);
    return tk_error_set(err, TK_E_FORMAT,
                        "method '%s', review %lld of the results: the %s is not finite (NaN or "
                        "infinity: the model or its input overflows float32); the job stops",
                        method, (long long)review, what);
}

/* Probabilities and predicted class of reviews [i0, i0 + count) of the
 * unit from their logits in c->logits. */
static tk_status outputs(tk_compute *c, int64_t i0, int64_t count, int64_t first, tk_error *err)
{
    tk_chunk_result *r = &c->res;
    const tk_model *m = c->model;
    tk_model_output_probs(m, (int)count, c->logits + i0 * c->n_out, r->prob + i0 * r->n_classes);
    tk_status st;
    for (int64_t i = i0; i < i0 + count; i++)
        if ((st = check_finite(r->prob + i * r->n_classes, r->n_classes, NULL, 0, "output", NULL,
                               first + i, err)) != TK_OK)
            return st;
    for (int64_t i = i0; i < i0 + count; i++)
        r->predicted[i] = tk_predicted_class(m, c->logits + i * c->n_out);
    return TK_OK;
}

/* Predictions: one batch over the unit, unless the first method gives
 * each review's logits (then only an embedding-less model's vectors are
 * mapped here). The units are fixed by the job, so the batch (and its
 * bits) do not depend on the rank count; a method's logits depend on the
 * review alone. */
static tk_status predict(tk_compute *c, const int32_t *ids, int64_t first, int64_t count,
                         tk_error *err)
{
    const tk_model *m = c->model;
    int s = c->spec.steps;
    tk_status st = TK_OK;
    if (c->spec.vtab)
        st = tk_word_vectors_map(c->spec.vtab, c->spec.vtab_n, m->input_dim, ids, count, s, c->x,
                                 err);
    else if (!c->method_logits)
        st = tk_model_embed(m, ids, (int)count, s, c->x, err);
    if (st != TK_OK || c->method_logits)
        return st;
    if ((st = tk_model_forward(m, c->ws, (int)count, s, c->x, c->logits, err)) != TK_OK)
        return st;
    return outputs(c, 0, count, first, err);
}

tk_status tk_compute_chunk(tk_compute *c, const int32_t *ids, const int32_t *labels, int64_t first,
                           int64_t count, tk_compute_poll_fn poll, void *poll_ctx, tk_error *err)
{
    tk_chunk_result *r = &c->res;
    const tk_compute_spec *sp = &c->spec;
    int s = sp->steps;
    if (count < 1 || count > sp->chunk_size)
        return tk_error_set(err, TK_E_INTERNAL, "compute: a unit of %lld reviews (at most %d)",
                            (long long)count, sp->chunk_size);
    r->first = first;
    r->count = count;
    tk_status st = predict(c, ids, first, count, err);
    if (st != TK_OK)
        return st;

    int64_t ntok_chunk = 0;
    for (int64_t i = 0; i < count * s; i++)
        ntok_chunk += ids[i] != TK_ID_PAD;
    r->tc = ntok_chunk;
    int64_t t0 = 0; /* first token of review i within the chunk */
    for (int64_t i = 0; i < count; i++) {
        const int32_t *row = ids + i * s;
        int64_t ti = 0;
        for (int k = 0; k < sp->n_methods; k++) {
            const char *name = sp->methods[k].name;
            /* embedding-less: the vectors mapped by predict (forward leaves x as it was) */
            const float *vec = sp->vtab ? c->x + i * s * c->model->input_dim : NULL;
            tk_review rv = {.ids = vec ? NULL : row, .vectors = vec, .steps = s, .label = labels[i]};
            bool from_method = k == 0 && c->method_logits;
            tk_attribution a = {.score = c->score, .full = NULL,
                                .logits = from_method ? c->logits + i * c->n_out : NULL};
            st = tk_explain(c->ex[k], &rv, &a, err);
            /* the model's output is checked first, as with the batch */
            tk_status out_st;
            if (from_method && a.has_logits) {
                if ((out_st = outputs(c, i, 1, first, err)) != TK_OK)
                    return out_st;
            } else if (from_method && st == TK_OK) {
                return tk_error_set(err, TK_E_INTERNAL, "method '%s' gave no logits", name);
            }
            if (st != TK_OK) {
                tk_error_prefix(err, "method '%s', review %lld of the results", name,
                                (long long)(first + i));
                return st;
            }
            const double f3[3] = {a.axiom_error, a.f_input, a.f_baseline};
            if ((st = check_finite(c->score, s, NULL, 0, "score of a token", name, first + i,
                                   err)) != TK_OK ||
                (st = check_finite(NULL, 0, f3, 3, "axiom error (or F(x), F(x'))", name, first + i,
                                   err)) != TK_OK)
                return st;
            float *dst = r->score + (int64_t)k * r->tc + t0;
            double pad = 0;
            int64_t t = 0;
            for (int j = 0; j < s; j++) {
                if (row[j] == TK_ID_PAD)
                    pad += c->score[j];
                else
                    dst[t++] = c->score[j];
            }
            int64_t o = (int64_t)k * count + i;
            r->padding_score[o] = (float)pad;
            r->axiom_error[o] = a.axiom_error;
            r->f_input[o] = a.f_input;
            r->f_baseline[o] = a.f_baseline;
            r->target[o] = a.target;
            r->steps[o] = a.steps;
            r->error_estimate[o] = a.error_estimate;
            ti = t;
            if (c->fws && (st = faith_review(c, k, row, first + i, o, err)) != TK_OK) {
                tk_error_prefix(err, "faithfulness of method '%s', review %lld of the results",
                                name, (long long)(first + i));
                return st;
            }
        }
        t0 += ti;
        if (poll)
            poll(poll_ctx);
    }
    return TK_OK;
}
