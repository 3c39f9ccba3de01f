#include "attr/faithfulness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/target.h"
#include "core/rng.h"

void tk_faith_params_default(tk_faith_params *p)
{
    static const double q[] = {0.01, 0.05, 0.10, 0.20, 0.50}; /* ERASER's fractions */
    memset(p, 0, sizeof *p);
    p->k_max = 10;
    p->mode = TK_FAITH_PAD;
    p->pad_id = 0;
    p->seed = 1;
    p->n_q = 5;
    memcpy(p->q, q, sizeof q);
}

int tk_faith_batch_size(const tk_faith_params *p)
{
    return 1 + 2 * p->k_max + 4 * p->n_q;
}

/* (score, position) for sorting: qsort has no context argument. */
typedef struct ranked {
    float score;
    int pos;
} ranked;

struct tk_faith_workspace {
    int max_steps, max_batch;
    int32_t *ids;     /* (max_batch, max_steps) the variants */
    double *f;        /* (max_batch) */
    ranked *pairs;    /* (max_steps) */
    int *order;       /* (max_steps) candidates by descending score */
    int *rorder;      /* (max_steps) candidates in random order */
    uint8_t *removed; /* (max_steps) */
};

static tk_status check_params(const tk_faith_params *p, tk_error *err)
{
    if (p->k_max < 0 || p->k_max > 100000)
        return tk_error_set(err, TK_E_INVALID, "faithfulness: k_max must be in [0, 100000], got %d", p->k_max);
    if (p->n_q < 0 || p->n_q > TK_FAITH_MAX_Q)
        return tk_error_set(err, TK_E_INVALID, "faithfulness: between 0 and %d fractions q, got %d",
                            TK_FAITH_MAX_Q, p->n_q);
    for (int j = 0; j < p->n_q; j++)
        if (!(p->q[j] > 0 && p->q[j] <= 1))
            return tk_error_set(err, TK_E_INVALID, "faithfulness: q must be in (0, 1], got %g", p->q[j]);
    return TK_OK;
}

tk_faith_workspace *tk_faith_workspace_create(const tk_faith_params *p, int max_steps, tk_error *err)
{
    if (check_params(p, err) != TK_OK)
        return NULL;
    if (max_steps < 1) {
        tk_error_set(err, TK_E_INVALID, "faithfulness: max_steps must be positive, got %d", max_steps);
        return NULL;
    }
    tk_faith_workspace *ws = tk_calloc(1, sizeof *ws, err);
    if (ws == NULL)
        return NULL;
    ws->max_steps = max_steps;
    ws->max_batch = tk_faith_batch_size(p);
    size_t ms = (size_t)max_steps;
    ws->ids = tk_malloc((size_t)ws->max_batch * ms, sizeof *ws->ids, err);
    ws->f = tk_malloc((size_t)ws->max_batch, sizeof *ws->f, err);
    ws->pairs = tk_malloc(ms, sizeof *ws->pairs, err);
    ws->order = tk_malloc(ms, sizeof *ws->order, err);
    ws->rorder = tk_malloc(ms, sizeof *ws->rorder, err);
    ws->removed = tk_malloc(ms, sizeof *ws->removed, err);
    if (!ws->ids || !ws->f || !ws->pairs || !ws->order || !ws->rorder || !ws->removed) {
        tk_faith_workspace_destroy(ws);
        return NULL;
    }
    return ws;
}

void tk_faith_workspace_destroy(tk_faith_workspace *ws)
{
    if (ws == NULL)
        return;
    free(ws->ids);
    free(ws->f);
    free(ws->pairs);
    free(ws->order);
    free(ws->rorder);
    free(ws->removed);
    free(ws);
}

static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    /* NaN scores rank last: they carry no evidence. */
    bool na = isnan(a->score), nb = isnan(b->score);
    if (na != nb)
        return na ? 1 : -1;
    if (!na && a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->pos - b->pos;
}


/* Writes one variant: ids with the positions flagged in `removed` taken out
 * (replaced by pad in place, or deleted and padded at the front). */
static void make_variant(const tk_faith_params *p, const int32_t *ids, const uint8_t *removed,
                         int steps, int32_t *dst)
{
    if (p->mode == TK_FAITH_PAD) {
        for (int t = 0; t < steps; t++)
            dst[t] = removed[t] ? p->pad_id : ids[t];
        return;
    }
    int w = steps;
    for (int t = steps - 1; t >= 0; t--)
        if (!removed[t])
            dst[--w] = ids[t];
    while (w > 0)
        dst[--w] = p->pad_id;
}

/* removed = the first m entries of order (n candidates); keep_only inverts
 * the choice among the candidates (sufficiency keeps only those m). */
static void mark(uint8_t *removed, int steps, const int *order, int n, int m, bool keep_only)
{
    memset(removed, 0, (size_t)steps);
    for (int j = 0; j < n; j++)
        removed[order[j]] = (uint8_t)((j < m) != keep_only);
}

static int eraser_m(double q, int n)
{
    if (n == 0)
        return 0;
    int m = (int)ceil(q * n - 1e-9);
    return m < 1 ? 1 : m > n ? n : m;
}

tk_status tk_faith_review(tk_faith_workspace *ws, const tk_faith_params *p, tk_faith_eval_fn eval,
                          void *eval_ctx, const int32_t *ids, const float *score,
                          const uint8_t *candidate, int steps, uint64_t review_key,
                          tk_faith_result *out, tk_error *err)
{
    tk_status st = check_params(p, err);
    if (st != TK_OK)
        return st;
    if (steps < 1 || steps > ws->max_steps)
        return tk_error_set(err, TK_E_INVALID, "faithfulness: a review of %d positions, the workspace holds %d",
                            steps, ws->max_steps);
    if (tk_faith_batch_size(p) > ws->max_batch)
        return tk_error_set(err, TK_E_INVALID, "faithfulness: parameters changed since the workspace was made");
    int n = 0;
    for (int t = 0; t < steps; t++) {
        bool c = candidate ? candidate[t] != 0 : (ids[t] != p->pad_id && ids[t] != 1);
        if (c)
            ws->pairs[n++] = (ranked){score[t], t};
    }
    qsort(ws->pairs, (size_t)n, sizeof *ws->pairs, cmp_ranked);
    for (int j = 0; j < n; j++)
        ws->order[j] = ws->pairs[j].pos;
    /* Fisher-Yates from the candidates in position order, so the random
     * order depends only on (seed, key) and the candidate set, never on the
     * scores. */
    for (int t = 0, k = 0; t < steps; t++)
        if (candidate ? candidate[t] != 0 : (ids[t] != p->pad_id && ids[t] != 1))
            ws->rorder[k++] = t;
    uint64_t rng = p->seed ^ (review_key * 0xD1B54A32D192ED03ull);
    for (int j = n - 1; j > 0; j--) {
        int r = (int)(tk_rng_u64(&rng) % (uint64_t)(j + 1));
        int tmp = ws->rorder[j];
        ws->rorder[j] = ws->rorder[r];
        ws->rorder[r] = tmp;
    }

    int K = p->k_max, B = tk_faith_batch_size(p);
    size_t s = (size_t)steps;
    memcpy(ws->ids, ids, s * sizeof *ids); /* variant 0: x itself */
    for (int k = 1; k <= K; k++) {
        int m = k < n ? k : n;
        mark(ws->removed, steps, ws->order, n, m, false);
        make_variant(p, ids, ws->removed, steps, ws->ids + (size_t)k * s);
        mark(ws->removed, steps, ws->rorder, n, m, false);
        make_variant(p, ids, ws->removed, steps, ws->ids + (size_t)(K + k) * s);
    }
    for (int j = 0; j < p->n_q; j++) {
        int m = eraser_m(p->q[j], n);
        const int *orders[2] = {ws->order, ws->rorder};
        for (int r = 0; r < 2; r++) {
            int base = 1 + 2 * K + 2 * r * p->n_q;
            mark(ws->removed, steps, orders[r], n, m, false);
            make_variant(p, ids, ws->removed, steps, ws->ids + (size_t)(base + j) * s);
            mark(ws->removed, steps, orders[r], n, m, true);
            make_variant(p, ids, ws->removed, steps, ws->ids + (size_t)(base + p->n_q + j) * s);
        }
    }
    st = eval(eval_ctx, ws->ids, B, steps, ws->f, err);
    if (st != TK_OK)
        return st;

    const double *f = ws->f;
    double f0 = f[0], a = 0, ra = 0;
    for (int k = 0; k <= K; k++) {
        double c = k == 0 ? f0 : f[k], rc = k == 0 ? f0 : f[K + k];
        if (out->curve)
            out->curve[k] = (float)c;
        if (out->random_curve)
            out->random_curve[k] = (float)rc;
        a += f0 - c;
        ra += f0 - rc;
    }
    out->f_input = f0;
    out->n_candidates = n;
    out->aopc = a / (K + 1);
    out->random_aopc = ra / (K + 1);
    double sums[4] = {0, 0, 0, 0}; /* comp, suff, random comp, random suff */
    for (int j = 0; j < p->n_q; j++)
        for (int v = 0; v < 4; v++)
            sums[v] += f0 - f[1 + 2 * K + v * p->n_q + j];
    double nq = p->n_q > 0 ? p->n_q : NAN;
    out->comprehensiveness = sums[0] / nq;
    out->sufficiency = sums[1] / nq;
    out->random_comprehensiveness = sums[2] / nq;
    out->random_sufficiency = sums[3] / nq;
    return TK_OK;
}

struct tk_faith_model_ctx {
    const tk_model *model;
    tk_workspace *ws;
    tk_output_kind output;
    int target;
    int max_batch, max_steps;
    float *x;      /* (max_batch, max_steps, input_dim) */
    float *logits; /* (max_batch, n_outputs) */
};

tk_faith_model_ctx *tk_faith_model_ctx_create(const tk_model *model, tk_output_kind output,
                                              int max_batch, int max_steps, tk_error *err)
{
    if (!model->has_embedding) {
        tk_error_set(err, TK_E_UNSUPPORTED,
                     "faithfulness: the model has no Embedding layer, so tokens cannot be removed by id");
        return NULL;
    }
    if (max_batch < 1 || max_steps < 1) {
        tk_error_set(err, TK_E_INVALID, "faithfulness: max_batch and max_steps must be positive");
        return NULL;
    }
    tk_faith_model_ctx *c = tk_calloc(1, sizeof *c, err);
    if (c == NULL)
        return NULL;
    c->model = model;
    c->output = output;
    c->max_batch = max_batch;
    c->max_steps = max_steps;
    c->x = tk_malloc((size_t)max_batch * (size_t)max_steps, (size_t)model->input_dim * sizeof(float), err);
    c->logits = tk_malloc((size_t)max_batch * (size_t)model->n_outputs, sizeof(float), err);
    c->ws = c->x && c->logits ? tk_workspace_create(model, max_batch, max_steps, err) : NULL;
    if (c->ws == NULL) {
        tk_faith_model_ctx_destroy(c);
        return NULL;
    }
    return c;
}

void tk_faith_model_ctx_destroy(tk_faith_model_ctx *c)
{
    if (c == NULL)
        return;
    tk_workspace_destroy(c->ws);
    free(c->x);
    free(c->logits);
    free(c);
}

void tk_faith_model_set_target(tk_faith_model_ctx *c, int target)
{
    c->target = target;
}

tk_status tk_faith_model_eval(void *ctx, const int32_t *ids, int batch, int steps, double *f, tk_error *err)
{
    tk_faith_model_ctx *c = ctx;
    if (steps > c->max_steps)
        return tk_error_set(err, TK_E_INVALID, "faithfulness: %d positions, the model context holds %d", steps,
                            c->max_steps);
    int n_out = c->model->n_outputs;
    /* Chunks of max_batch rows: a row's F does not depend on its batch mates. */
    for (int b0 = 0; b0 < batch; b0 += c->max_batch) {
        int nb = batch - b0 < c->max_batch ? batch - b0 : c->max_batch;
        const int32_t *chunk = ids + (size_t)b0 * (size_t)steps; /* (nb, steps) */
        tk_status st = tk_model_embed(c->model, chunk, nb, steps, c->x, err);
        if (st == TK_OK)
            st = tk_model_forward(c->model, c->ws, nb, steps, c->x, c->logits, err);
        if (st != TK_OK)
            return st;
        for (int b = 0; b < nb; b++)
            f[b0 + b] = tk_explained_scalar(c->model, c->output, c->target, c->logits + (size_t)b * n_out, NULL);
    }
    return TK_OK;
}
