/* DeepLIFT with the rescale rule (Shrikumar et al. 2017) and DeepSHAP
 * (Lundberg & Lee 2017): multipliers propagated backwards from the
 * explained scalar, one row per reference, with the local rules of
 * METHODS.md. The B references of a job are pushed forward once at create
 * time (the model's forward on a batch of B) and kept; a review then costs one
 * forward pass of its own and one multiplier backward pass of B rows, every
 * layer's transpose being one GEMM of B (or B x steps) rows. Each layer's
 * rule comes from the rules table (rules.h), never from a switch here.
 *
 * Exactness: every local rule satisfies Δout = Σ m Δin exactly (rescale:
 * m = Δf/Δz from the stored activations; products: the Shapley split
 * (b + b')/2 Δa + (a + a')/2 Δb = ab − a'b'; cross-max for max pooling), so
 * completeness holds up to float rounding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/deeplift_net.h"
#include "attr/method.h"
#include "attr/rules.h"
#include "attr/target.h"
#include "core/isa.h"

typedef struct dl_state {
    const tk_model *model;
    tk_method_params params;
    int n_refs;            /* B */
    int max_steps;
    bool fixed_refs;       /* DeepSHAP: the background's own length only */
    int32_t ref_token;     /* DeepLIFT reference token, -1 for the zero vector */

    tk_dl_plan plan;       /* for plan.steps == the references' steps */
    tk_dl_acts *ref;       /* (B) reference activations */
    float *ref_x;          /* (B, max_steps, D) reference inputs */
    void **aux;            /* (n_aux) what each body layer's dl_prepare made */
    int n_aux;

    tk_dl_acts *xa;        /* (1) the review's activations */
    float *x;              /* (max_steps, D) */
    float *m_a, *m_b;      /* (B, max_size) multipliers, ping-pong */
    float *scratch;        /* the largest dl_scratch of the layers */
    double *acc;           /* (max_steps, D) per-position sums */
    /* Global max pooling lets at most two cells per (reference, channel)
     * through: it lists them, so that the layers below touch only those
     * instead of scanning (B, steps, filters). */
    tk_dl_sparse nz;
    /* Per body layer whose multipliers can arrive sparse (global max
     * pooling above it through element-wise layers) and that has an output
     * activation: the references' pre-activations and outputs transposed
     * to (channels, steps, B), else NULL. The review's arg-max cell (t, c)
     * is the same for every reference, so its B values are then
     * contiguous, not 100 x 250 floats apart; and the references' own
     * arg-max cells of channel c all lie in one (steps, B) slab, which
     * stays in cache while the pass goes through that channel. */
    float **pre_t, **out_t;
    /* The same layers' reference values at the cells the references alone
     * fix (the pooling's dl_ref_cells: their own arg-maxes), in that
     * list's order, else NULL; ref_cells is the list's room. */
    float **pre_at, **out_at;
    tk_dl_cell *ref_cells;
} dl_state;

static void dl_destroy(void *p)
{
    dl_state *st = p;
    if (!st)
        return;
    for (int k = 0; k < st->n_aux; k++)
        free(st->aux[k]);
    free(st->aux);
    tk_dl_plan_free(&st->plan);
    tk_dl_acts_destroy(st->ref);
    tk_dl_acts_destroy(st->xa);
    free(st->ref_x);
    free(st->x);
    free(st->m_a);
    free(st->m_b);
    free(st->scratch);
    free(st->acc);
    free(st->nz.cell);
    free(st->nz.val);
    free(st->nz.order);
    free(st->nz.row_start);
    for (int k = 0; st->pre_t && st->out_t && st->pre_at && st->out_at && k < st->n_aux; k++) {
        free(st->pre_t[k]);
        free(st->out_t[k]);
        free(st->pre_at[k]);
        free(st->out_at[k]);
    }
    free(st->pre_t);
    free(st->out_t);
    free(st->pre_at);
    free(st->out_at);
    free(st->ref_cells);
    free(st);
}

static const tk_layer *body(const dl_state *st, int k)
{
    return &st->model->layers[st->model->first_body_layer + k];
}

/* Layer k's rule context: shapes, both sides' activations, its data. */
static tk_dl_layer layer_ctx(dl_state *st, int k)
{
    return (tk_dl_layer){
        .layer = body(st, k),
        .nb = st->n_refs,
        .in = st->plan.in[k],
        .out = st->plan.out[k],
        .x = tk_dl_side_of(&st->plan, st->xa, k),
        .ref = tk_dl_side_of(&st->plan, st->ref, k),
        .nz = &st->nz,
        .aux = st->aux[k],
        .scratch = st->scratch,
    };
}

/* The first layer above k that is not element-wise (plan.n: none). */
static int next_blocking(const dl_state *st, int k)
{
    int nx = k + 1;
    while (nx < st->plan.n && tk_attr_rules_of(body(st, nx)->kind)->route == TK_ROUTE_PASS)
        nx++;
    return nx;
}

/* The reference forward passes for `steps` positions, and what the rules
 * read from them that does not depend on the review (dl_refs). */
static tk_status refs_forward(dl_state *st, int steps, tk_error *err)
{
    const tk_model *m = st->model;
    int d = m->input_dim, nb = st->n_refs;
    tk_dl_plan_free(&st->plan);
    tk_status s = tk_dl_plan_init(&st->plan, m, steps, err);
    if (s != TK_OK)
        return s;
    if (!st->fixed_refs) {
        /* DeepLIFT: the same vector at every position */
        if (st->ref_token >= 0) {
            if (!m->has_embedding || st->ref_token >= m->vocab_size)
                return tk_error_set(err, TK_E_INVALID,
                                    "method %s: reference token %d needs an embedding with that row",
                                    st->params.name, st->ref_token);
            if ((s = tk_model_embed(m, &st->ref_token, 1, 1, st->ref_x, err)) != TK_OK)
                return s;
        } else {
            memset(st->ref_x, 0, sizeof(float) * (size_t)d);
        }
        for (int t = 1; t < steps; t++)
            memcpy(st->ref_x + (size_t)t * d, st->ref_x, sizeof(float) * (size_t)d);
    }
    s = tk_dl_forward(&st->plan, st->ref, nb, st->ref_x, err);
    if (s != TK_OK)
        return s;
    for (int k = 0; k < st->plan.n; k++) {
        const tk_attr_rules *r = tk_attr_rules_of(body(st, k)->kind);
        tk_dl_layer c = layer_ctx(st, k);
        if (r->dl_refs)
            r->dl_refs(&c);
        if (st->pre_t[k] && c.ref.pre) {
            int ch = c.out.channels;
            size_t osz = tk_rules_size(c.out), rows = osz / (size_t)ch;
            for (int b = 0; b < nb; b++)
                for (size_t t = 0; t < rows; t++)
                    for (int j = 0; j < ch; j++) {
                        size_t from = (size_t)b * osz + t * ch + j, to = ((size_t)j * rows + t) * nb + b;
                        st->pre_t[k][to] = c.ref.pre[from];
                        st->out_t[k][to] = c.ref.out[from];
                    }
        }
    }
    /* after every dl_refs: the pooling above has found the references'
     * arg-maxes */
    for (int k = 0; k < st->plan.n; k++) {
        if (!st->pre_at[k])
            continue;
        int nx = next_blocking(st, k);
        const tk_attr_rules *r = tk_attr_rules_of(body(st, nx)->kind);
        tk_dl_layer c = layer_ctx(st, k), cp = layer_ctx(st, nx);
        size_t n = r->dl_ref_cells ? r->dl_ref_cells(&cp, st->ref_cells) : 0;
        size_t osz = tk_rules_size(c.out);
        for (size_t e = 0; e < n; e++) {
            size_t i = tk_dl_cell_index(st->ref_cells[e], osz, c.out.channels);
            st->pre_at[k][e] = c.ref.pre ? c.ref.pre[i] : 0.0f;
            st->out_at[k][e] = c.ref.out[i];
        }
    }
    return TK_OK;
}

/* The most sparse cells per reference any layer lists (at least 1). */
static size_t max_sparse(const dl_state *st)
{
    size_t most = 1;
    for (int k = 0; k < st->plan.n; k++) {
        const tk_attr_rules *r = tk_attr_rules_of(body(st, k)->kind);
        size_t n = r->dl_sparse ? r->dl_sparse(body(st, k), st->plan.in[k], st->plan.out[k]) : 0;
        most = n > most ? n : most;
    }
    return most;
}

/* Whether layer k's multipliers can arrive as global max pooling's sparse
 * list: the next layer above it that is not element-wise is that pooling
 * (the same walk as tk_dl_backward_flops). */
static bool gets_sparse(const dl_state *st, int k)
{
    int nx = next_blocking(st, k);
    return nx < st->plan.n && tk_attr_rules_of(body(st, nx)->kind)->route == TK_ROUTE_ONE;
}

static tk_status dl_create(const tk_model *model, const tk_method_params *params,
                           const tk_background *bg, int max_steps, void **out, tk_error *err)
{
    *out = NULL;
    tk_status s = TK_OK;
    dl_state *st = tk_calloc(1, sizeof *st, err);
    if (!st)
        return TK_E_NOMEM;
    st->model = model;
    st->params = *params;
    st->max_steps = max_steps;
    int d = model->input_dim;
    if (params->kind == TK_METHOD_DEEPSHAP) {
        if (!bg || bg->n <= 0 || bg->steps <= 0 || (!bg->ids && !bg->vectors)) {
            s = tk_error_set(err, TK_E_INVALID, "method %s: DeepSHAP needs a background of at least one review",
                             params->name);
            goto fail;
        }
        if (bg->steps > max_steps) {
            s = tk_error_set(err, TK_E_INVALID, "method %s: background reviews have %d steps, more than %d",
                             params->name, bg->steps, max_steps);
            goto fail;
        }
        if (bg->ids && !model->has_embedding) {
            s = tk_error_set(err, TK_E_INVALID, "method %s: background given as token ids but the model has no embedding",
                             params->name);
            goto fail;
        }
        st->n_refs = bg->n;
        st->fixed_refs = true;
    } else {
        st->n_refs = 1;
        switch (params->baseline) {
        case TK_BASELINE_ZEROS:
            st->ref_token = -1;
            break;
        case TK_BASELINE_OOV:
            st->ref_token = 2;
            break;
        case TK_BASELINE_TOKEN:
            st->ref_token = params->baseline_token;
            break;
        case TK_BASELINE_PAD:
        default:
            st->ref_token = 0;
            break;
        }
        /* an embedding-less model's `pad` is the zero vector (DATA.md padding) */
        if (!model->has_embedding && st->ref_token == 0)
            st->ref_token = -1;
    }
    int nb = st->n_refs;
    if ((s = tk_dl_plan_init(&st->plan, model, max_steps, err)) != TK_OK)
        goto fail;
    size_t ms = (size_t)st->plan.max_size, scratch = 1, sparse = 1;
    if (!(st->aux = tk_calloc((size_t)st->plan.n, sizeof *st->aux, err)) ||
        !(st->pre_t = tk_calloc((size_t)st->plan.n, sizeof *st->pre_t, err)) ||
        !(st->out_t = tk_calloc((size_t)st->plan.n, sizeof *st->out_t, err)) ||
        !(st->pre_at = tk_calloc((size_t)st->plan.n, sizeof *st->pre_at, err)) ||
        !(st->out_at = tk_calloc((size_t)st->plan.n, sizeof *st->out_at, err))) {
        s = TK_E_NOMEM;
        goto fail;
    }
    st->n_aux = st->plan.n;
    for (int k = 0; k < st->plan.n; k++) {
        const tk_layer *l = body(st, k);
        const tk_attr_rules *r = tk_attr_rules_of(l->kind);
        tk_shape si = st->plan.in[k], so = st->plan.out[k];
        if (!r->dl_backward) {
            s = tk_error_set(err, TK_E_UNSUPPORTED, "layer %s (%s) has no DeepLIFT rule in tokattr",
                             l->name, l->class_name);
            goto fail;
        }
        if (r->dl_prepare && (s = r->dl_prepare(l, si, so, nb, &st->aux[k], err)) != TK_OK)
            goto fail;
        size_t n = r->dl_scratch ? r->dl_scratch(l, si, so, nb) : 0;
        scratch = n > scratch ? n : scratch;
        n = r->dl_sparse ? r->dl_sparse(l, si, so) : 0;
        sparse = n > sparse ? n : sparse;
        if (l->activation != TK_ACT_LINEAR && gets_sparse(st, k)) {
            size_t cells = (size_t)nb * tk_rules_size(so);
            size_t fixed = (size_t)nb * max_sparse(st);
            if (!(st->pre_t[k] = tk_malloc(cells, sizeof(float), err)) ||
                !(st->out_t[k] = tk_malloc(cells, sizeof(float), err)) ||
                !(st->pre_at[k] = tk_malloc(fixed, sizeof(float), err)) ||
                !(st->out_at[k] = tk_malloc(fixed, sizeof(float), err))) {
                s = TK_E_NOMEM;
                goto fail;
            }
        }
    }
    st->ref_x = tk_calloc((size_t)nb * max_steps * d, sizeof(float), err);
    st->x = tk_calloc((size_t)max_steps * d, sizeof(float), err);
    st->m_a = tk_malloc((size_t)nb * ms, sizeof(float), err);
    st->m_b = tk_malloc((size_t)nb * ms, sizeof(float), err);
    st->scratch = tk_malloc(scratch, sizeof(float), err);
    st->acc = tk_malloc((size_t)max_steps * d, sizeof(double), err);
    st->nz.cell = tk_malloc(sparse * nb, sizeof(tk_dl_cell), err);
    st->nz.val = tk_malloc(sparse * nb, sizeof(float), err);
    st->ref_cells = tk_malloc(sparse * nb, sizeof(tk_dl_cell), err);
    st->nz.order = tk_malloc(sparse * nb, sizeof(size_t), err);
    st->nz.row_start = tk_malloc((size_t)nb + 1, sizeof(size_t), err);
    if (!st->ref_x || !st->x || !st->m_a || !st->m_b || !st->scratch || !st->acc || !st->nz.cell ||
        !st->nz.val || !st->ref_cells || !st->nz.order || !st->nz.row_start) {
        s = TK_E_NOMEM;
        goto fail;
    }
    if ((s = tk_dl_acts_create(model, nb, max_steps, &st->ref, err)) != TK_OK ||
        (s = tk_dl_acts_create(model, 1, max_steps, &st->xa, err)) != TK_OK)
        goto fail;
    int ref_steps = max_steps;
    if (st->fixed_refs) {
        ref_steps = bg->steps;
        if (bg->ids)
            s = tk_model_embed(model, bg->ids, nb, bg->steps, st->ref_x, err);
        else
            memcpy(st->ref_x, bg->vectors, sizeof(float) * (size_t)nb * bg->steps * d);
        if (s != TK_OK) {
            tk_error_prefix(err, "method %s: background", params->name);
            goto fail;
        }
    }
    if ((s = refs_forward(st, ref_steps, err)) != TK_OK)
        goto fail;
    *out = st;
    return TK_OK;
fail:
    dl_destroy(st);
    return s;
}

/* The rescale multiplier of the output sigmoid, in double. */
static double rescale_sigmoid_d(double zx, double zr)
{
    if (fabs(zx - zr) < 1e-6) {
        double s = tk_act_value_d(TK_ACT_SIGMOID, 0.5 * (zx + zr));
        return s * (1 - s);
    }
    return (tk_act_value_d(TK_ACT_SIGMOID, zx) - tk_act_value_d(TK_ACT_SIGMOID, zr)) / (zx - zr);
}

/* Multipliers of the explained scalar w.r.t. the logits for one reference
 * (METHODS.md, softmax: 2 classes as σ(z_c − z_other), K classes as exp,
 * sum and a Shapley-split divide). */
static void start_multipliers(const tk_model *m, tk_output_kind output, int target, const float *zx,
                              const float *zr, float *mz)
{
    int k = m->n_outputs;
    for (int c = 0; c < k; c++)
        mz[c] = 0.0f;
    if (k == 1) {
        double sign = target == 1 ? 1.0 : -1.0;
        if (output == TK_OUTPUT_LOGIT || m->output_activation != TK_ACT_SIGMOID)
            mz[0] = (float)sign;
        else
            mz[0] = (float)(sign * rescale_sigmoid_d(sign * zx[0], sign * zr[0]));
        return;
    }
    if (output == TK_OUTPUT_LOGIT || m->output_activation != TK_ACT_SOFTMAX) {
        mz[target] = 1.0f;
        return;
    }
    if (k == 2) {
        int o = 1 - target;
        double md = rescale_sigmoid_d((double)zx[target] - zx[o], (double)zr[target] - zr[o]);
        mz[target] = (float)md;
        mz[o] = (float)-md;
        return;
    }
    /* A common shift keeps exp finite; the multipliers do not depend on it. */
    double shift = zx[0];
    for (int c = 0; c < k; c++) {
        shift = fmax(shift, zx[c]);
        shift = fmax(shift, zr[c]);
    }
    double sx = 0, sr = 0;
    for (int c = 0; c < k; c++) {
        sx += exp(zx[c] - shift);
        sr += exp(zr[c] - shift);
    }
    double ex = exp(zx[target] - shift), er = exp(zr[target] - shift);
    double m_num = 0.5 * (1 / sx + 1 / sr);         /* p = num * (1/S) */
    double m_inv = 0.5 * (ex + er);
    double m_s = m_inv * (fabs(sx - sr) < 1e-12 ? -1 / (sx * sx) : (1 / sx - 1 / sr) / (sx - sr));
    for (int c = 0; c < k; c++) {
        double me = m_s + (c == target ? m_num : 0.0);
        double dz = (double)zx[c] - zr[c];
        double ecx = exp(zx[c] - shift), ecr = exp(zr[c] - shift);
        double r = fabs(dz) < 1e-6 ? exp(0.5 * (zx[c] + zr[c]) - shift) : (ecx - ecr) / dz;
        mz[c] = (float)(me * r);
    }
}

/* The sparse list nz written into the buffer m (cells, rows of `size` =
 * steps x ch), every other cell cleared. */
static void make_dense(tk_dl_sparse *nz, float *m, size_t cells, size_t size, int ch)
{
    memset(m, 0, sizeof(float) * cells);
    for (size_t e = 0; e < nz->n; e++)
        m[tk_dl_cell_index(nz->cell[e], size, ch)] = nz->val[e];
    nz->valid = false;
}

/* Backwards through layer k: mo (nb, out size) -> min (nb, in size).
 * Returns false when the multipliers stay in mo (identity layers). */
static bool layer_backward(dl_state *st, int k, float *mo, float *min)
{
    const tk_layer *l = body(st, k);
    tk_dl_layer c = layer_ctx(st, k);
    c.mo = mo;
    c.mi = min;
    /* the layer's output activation (Dense, Conv1D, Activation): rescale in place */
    if (c.x.pre && c.ref.pre) {
        size_t osz = tk_rules_size(c.out);
        const float *zx = c.x.pre, *yx = c.x.out;
        if (st->nz.valid) {
            int ch = c.out.channels;
            size_t rows = osz / (size_t)ch;
            const float *pre_t = st->pre_t[k], *out_t = st->out_t[k];
            for (size_t e = 0; e < st->nz.n; e++) {
                tk_dl_cell u = st->nz.cell[e];
                size_t j = (size_t)u.t * ch + u.c;
                float zr, yr;
                if (u.ref >= 0 && st->pre_at[k]) {
                    zr = st->pre_at[k][u.ref];
                    yr = st->out_at[k][u.ref];
                } else if (pre_t) {
                    size_t jt = ((size_t)u.c * rows + u.t) * c.nb + u.b;
                    zr = pre_t[jt];
                    yr = out_t[jt];
                } else {
                    zr = c.ref.pre[(size_t)u.b * osz + j];
                    yr = c.ref.out[(size_t)u.b * osz + j];
                }
                if (st->nz.val[e] != 0.0f)
                    st->nz.val[e] *= tk_dl_rescale(l->activation, zx[j], zr, yx[j], yr);
            }
        } else {
            for (int b = 0; b < c.nb; b++) {
                const float *zr = c.ref.pre + b * osz, *yr = c.ref.out + b * osz;
                float *m = mo + b * osz;
                for (size_t i = 0; i < osz; i++)
                    if (m[i] != 0.0f)
                        m[i] *= tk_dl_rescale(l->activation, zx[i], zr[i], yx[i], yr[i]);
            }
        }
    }
    const tk_attr_rules *r = tk_attr_rules_of(l->kind);
    if (st->nz.valid && !r->dl_sparse_in)
        make_dense(&st->nz, mo, (size_t)c.nb * tk_rules_size(c.out), tk_rules_size(c.out),
                   c.out.channels);
    return r->dl_backward(&c);
}

/* acc (n) += m ⊙ (x − r) in double, one reference's share of the
 * attribution; per ISA level, element-wise so the same bits in each. */
TK_ISA_CLONES
static void accumulate(double *restrict acc, const float *restrict m, const float *restrict x,
                       const float *restrict r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        acc[i] += (double)m[i] * ((double)x[i] - r[i]);
}

static tk_status dl_explain(void *p, const tk_review *rv, tk_attribution *out, tk_error *err)
{
    dl_state *st = p;
    const tk_model *m = st->model;
    int d = m->input_dim, nb = st->n_refs, steps = rv->steps;
    tk_status s;
    if (steps <= 0 || steps > st->max_steps)
        return tk_error_set(err, TK_E_INVALID, "method %s: review of %d steps (this explainer takes 1 to %d)",
                            st->params.name, steps, st->max_steps);
    if (steps != st->plan.steps) {
        if (st->fixed_refs)
            return tk_error_set(err, TK_E_INVALID,
                                "method %s: review of %d steps but the background reviews have %d",
                                st->params.name, steps, st->plan.steps);
        if ((s = refs_forward(st, steps, err)) != TK_OK)
            return s;
    }
    if (rv->ids)
        s = m->has_embedding ? tk_model_embed(m, rv->ids, 1, steps, st->x, err)
                             : tk_error_set(err, TK_E_INVALID, "method %s: token ids given to a model without an embedding",
                                            st->params.name);
    else if (rv->vectors)
        memcpy(st->x, rv->vectors, sizeof(float) * (size_t)steps * d), s = TK_OK;
    else
        s = tk_error_set(err, TK_E_INVALID, "method %s: review has neither ids nor vectors", st->params.name);
    if (s != TK_OK)
        return s;
    if ((s = tk_dl_forward(&st->plan, st->xa, 1, st->x, err)) != TK_OK)
        return s;

    const float *zx = tk_dl_logits(&st->plan, st->xa, 0);
    int target;
    if ((s = tk_choose_target(m, &st->params, zx, rv->label, &target, err)) != TK_OK)
        return s;
    out->target = target;
    out->predicted = tk_predicted_class(m, zx);
    out->f_input = tk_explained_scalar(m, st->params.output, target, zx, NULL);
    double e = 0;
    int k_out = m->n_outputs;
    for (int b = 0; b < nb; b++) {
        const float *zr = tk_dl_logits(&st->plan, st->ref, b);
        e += tk_explained_scalar(m, st->params.output, target, zr, NULL);
        start_multipliers(m, st->params.output, target, zx, zr, st->m_a + (size_t)b * k_out);
    }
    out->f_baseline = e / nb;

    float *mo = st->m_a, *mi = st->m_b;
    st->nz.valid = false;
    for (int k = st->plan.n - 1; k >= 0; k--) {
        if (!layer_backward(st, k, mo, mi))
            continue;
        float *t = mo;
        mo = mi;
        mi = t;
    }
    if (st->nz.valid) /* the body began with a global max pooling */
        make_dense(&st->nz, mo, (size_t)nb * steps * d, (size_t)steps * d, d);
    /* mo: (nb, steps, d); A = (1/B) Σ_b m_b ⊙ (x − r_b) */
    memset(st->acc, 0, sizeof(double) * (size_t)steps * d);
    for (int b = 0; b < nb; b++)
        accumulate(st->acc, mo + (size_t)b * steps * d, st->x, st->ref_x + (size_t)b * steps * d,
                   (size_t)steps * d);
    double total = 0;
    for (int t = 0; t < steps; t++) {
        double sum = 0, sq = 0;
        for (int j = 0; j < d; j++) {
            double a = st->acc[(size_t)t * d + j] / nb;
            sum += a;
            sq += a * a;
            if (out->full)
                out->full[(size_t)t * d + j] = (float)a;
        }
        total += sum;
        out->score[t] = (float)(st->params.reduce == TK_REDUCE_L2 ? sqrt(sq) : sum);
    }
    out->axiom_error = total - (out->f_input - out->f_baseline);
    out->lrp_init_state = 0;
    out->lrp_absorbed = 0;
    return TK_OK;
}

/* One forward of the review plus, per reference, the transposes of every
 * linear map (the input projection and recurrence of an LSTM each cost a
 * forward's worth; Conv1D behind global max pooling only the routed
 * windows, counted as 2 per filter). */
static double dl_flops(const void *p, int steps)
{
    const dl_state *st = p;
    tk_dl_plan plan;
    if (tk_dl_plan_init(&plan, st->model, steps, NULL) != TK_OK)
        return 0;
    double fwd = tk_dl_forward_flops(&plan), back = tk_dl_backward_flops(&plan, 2.0, 2, 4);
    tk_dl_plan_free(&plan);
    return fwd + st->n_refs * back;
}

const tk_method_ops tk_deeplift_ops = {
    .create = dl_create,
    .explain = dl_explain,
    .destroy = dl_destroy,
    .flops = dl_flops,
};
