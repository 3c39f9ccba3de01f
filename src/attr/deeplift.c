/* DeepLIFT with the rescale rule (Shrikumar et al. 2017) and DeepSHAP
 * (Lundberg & Lee 2017): multipliers propagated backwards from the
 * explained scalar, one row per reference, with the local rules of
 * METHODS.md. The B references of a job are pushed forward once at create
 * time (tk_dl_forward on a batch of B) and kept; a review then costs one
 * forward pass of its own and one multiplier backward pass of B rows, every
 * layer's transpose being one GEMM of B (or B x steps) rows.
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
#include "attr/rules_norm.h"
#include "attr/rules_rnn.h"
#include "attr/target.h"
#include "core/gemm.h"

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
    int **ref_argmax;      /* (layers) global max pool: (B, channels) arg-max of each reference */

    tk_dl_acts *xa;        /* (1) the review's activations */
    float *x;              /* (max_steps, D) */
    float **conv_wt;       /* (layers) Conv1D kernel transposed: (filters, kernel * channels) */
    float *m_a, *m_b;      /* (B, max_size) multipliers, ping-pong */
    float *m_pre;          /* (max_steps, B, 4 units) LSTM gate pre-activation multipliers */
    float *m_proj;         /* (max_steps, B, LSTM input dim): m_pre through the input kernel */
    float *m_h, *m_c;      /* (B, units) carried through the recurrence */
    double *acc;           /* (max_steps, D) per-position sums */
    float *rules_work;     /* SimpleRNN/GRU/BatchNormalization rules (rules_rnn.c, rules_norm.c) */
    /* Global max pooling lets at most two cells per (reference, channel)
     * through: it lists them, so that the Conv1D below touches only those
     * instead of scanning (B, steps, filters). */
    size_t *nz;            /* (B * 2 * channels) flat indices into the multiplier buffer */
    size_t n_nz;
    bool nz_valid;
} dl_state;

static void dl_destroy(void *p)
{
    dl_state *st = p;
    if (!st)
        return;
    if (st->ref_argmax)
        for (int k = 0; k < st->plan.n; k++)
            free(st->ref_argmax[k]);
    if (st->conv_wt)
        for (int k = 0; k < st->plan.n; k++)
            free(st->conv_wt[k]);
    free(st->ref_argmax);
    free(st->conv_wt);
    tk_dl_plan_free(&st->plan);
    tk_dl_acts_destroy(st->ref);
    tk_dl_acts_destroy(st->xa);
    free(st->ref_x);
    free(st->x);
    free(st->m_a);
    free(st->m_b);
    free(st->m_pre);
    free(st->m_proj);
    free(st->m_h);
    free(st->m_c);
    free(st->acc);
    free(st->rules_work);
    free(st->nz);
    free(st);
}

static const tk_layer *body(const dl_state *st, int k)
{
    return &st->model->layers[st->model->first_body_layer + k];
}

/* The reference forward passes for `steps` positions, and what the rules
 * read from them that does not depend on the review (global max arg-max). */
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
        const float *row = NULL;
        if (st->ref_token >= 0) {
            const tk_layer *emb = NULL;
            for (int i = 0; i < m->n_layers; i++)
                if (m->layers[i].kind == TK_LAYER_EMBEDDING)
                    emb = &m->layers[i];
            if (!emb || st->ref_token >= m->vocab_size)
                return tk_error_set(err, TK_E_INVALID,
                                    "method %s: reference token %d needs an embedding with that row",
                                    st->params.name, st->ref_token);
            row = emb->embeddings + (size_t)st->ref_token * d;
        }
        for (int t = 0; t < steps; t++)
            for (int j = 0; j < d; j++)
                st->ref_x[(size_t)t * d + j] = row ? row[j] : 0.0f;
    }
    s = tk_dl_forward(&st->plan, st->ref, nb, st->ref_x, err);
    if (s != TK_OK)
        return s;
    for (int k = 0; k < st->plan.n; k++) {
        if (body(st, k)->kind != TK_LAYER_GLOBAL_MAX_POOL1D)
            continue;
        tk_shape si = st->plan.in[k];
        const float *in = k == 0 ? st->ref_x : st->ref->out[k - 1];
        for (int b = 0; b < nb; b++)
            for (int c = 0; c < si.channels; c++) {
                st->ref_argmax[k][(size_t)b * si.channels + c] =
                    tk_dl_argmax(in + (size_t)b * si.steps * si.channels + c, si.steps, si.channels);
            }
    }
    return TK_OK;
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
    for (int k = 0; k < st->plan.n; k++) {
        const tk_layer *l = body(st, k);
        if (tk_layer_rnn_dirs(l) == 2 && l->merge_mode == TK_MERGE_MUL) {
            s = tk_error_set(err, TK_E_UNSUPPORTED, "layer %s: Bidirectional merge_mode 'mul' has no DeepLIFT rule in tokattr",
                             l->name);
            goto fail;
        }
    }
    size_t ms = (size_t)st->plan.max_size;
    int units = 1;
    for (int k = 0; k < st->plan.n; k++)
        if (body(st, k)->units > units)
            units = body(st, k)->units;
    st->ref_argmax = tk_calloc((size_t)st->plan.n, sizeof *st->ref_argmax, err);
    st->conv_wt = tk_calloc((size_t)st->plan.n, sizeof *st->conv_wt, err);
    st->ref_x = tk_calloc((size_t)nb * max_steps * d, sizeof(float), err);
    st->x = tk_calloc((size_t)max_steps * d, sizeof(float), err);
    st->m_a = tk_malloc((size_t)nb * ms, sizeof(float), err);
    st->m_b = tk_malloc((size_t)nb * ms, sizeof(float), err);
    st->m_pre = tk_malloc((size_t)nb * max_steps * 4 * units, sizeof(float), err);
    int lstm_in = 1;
    for (int k = 0; k < st->plan.n; k++)
        if ((body(st, k)->kind == TK_LAYER_LSTM || body(st, k)->kind == TK_LAYER_BIDIRECTIONAL) &&
            st->plan.in[k].channels > lstm_in)
            lstm_in = st->plan.in[k].channels;
    st->m_proj = tk_malloc((size_t)nb * max_steps * lstm_in, sizeof(float), err);
    st->m_h = tk_malloc((size_t)nb * units, sizeof(float), err);
    st->m_c = tk_malloc((size_t)nb * units, sizeof(float), err);
    st->acc = tk_malloc((size_t)max_steps * d, sizeof(double), err);
    size_t nz_cap = 1;
    for (int k = 0; k < st->plan.n; k++)
        if (body(st, k)->kind == TK_LAYER_GLOBAL_MAX_POOL1D && 2 * (size_t)st->plan.in[k].channels > nz_cap)
            nz_cap = 2 * (size_t)st->plan.in[k].channels;
    st->nz = tk_malloc(nz_cap * nb, sizeof(size_t), err);
    size_t rw = 1;
    for (int k = 0; k < st->plan.n; k++) {
        const tk_layer *l = body(st, k);
        size_t n = tk_rules_rnn_kind(l) ? tk_rules_rnn_deeplift_work(l, nb, st->plan.in[k])
                   : l->kind == TK_LAYER_BATCH_NORM ? 2 * (size_t)st->plan.in[k].channels : 0;
        rw = n > rw ? n : rw;
    }
    st->rules_work = tk_malloc(rw, sizeof(float), err);
    if (!st->rules_work || !st->ref_argmax || !st->conv_wt || !st->ref_x || !st->x || !st->m_a || !st->m_b ||
        !st->m_pre || !st->m_proj || !st->m_h || !st->m_c || !st->acc || !st->nz) {
        s = TK_E_NOMEM;
        goto fail;
    }
    for (int k = 0; k < st->plan.n; k++) {
        const tk_layer *l = body(st, k);
        if (l->kind == TK_LAYER_GLOBAL_MAX_POOL1D &&
            !(st->ref_argmax[k] = tk_malloc((size_t)nb * st->plan.in[k].channels, sizeof(int), err))) {
            s = TK_E_NOMEM;
            goto fail;
        }
        if (l->kind == TK_LAYER_CONV1D) {
            int kc = l->kernel_size * st->plan.in[k].channels;
            if (!(st->conv_wt[k] = tk_malloc((size_t)kc * l->filters, sizeof(float), err))) {
                s = TK_E_NOMEM;
                goto fail;
            }
            for (int i = 0; i < kc; i++)
                for (int f = 0; f < l->filters; f++)
                    st->conv_wt[k][(size_t)f * kc + i] = l->kernel[(size_t)i * l->filters + f];
        }
    }
    if ((s = tk_dl_acts_create(model, nb, max_steps, &st->ref, err)) != TK_OK ||
        (s = tk_dl_acts_create(model, 1, max_steps, &st->xa, err)) != TK_OK)
        goto fail;
    int ref_steps = max_steps;
    if (st->fixed_refs) {
        ref_steps = bg->steps;
        if (bg->ids)
            s = tk_dl_embed(model, bg->ids, nb, bg->steps, st->ref_x, err);
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

/* m = Δf / Δz from the stored values (so that m Δz = Δy to rounding), or
 * f'((z + z') / 2) when the difference is too small to divide by. */
static inline float rescale(tk_activation act, float zx, float zr, float yx, float yr)
{
    float dz = zx - zr;
    if (fabsf(dz) < 1e-6f)
        return (float)tk_dl_act_grad(act, 0.5 * ((double)zx + zr));
    return (yx - yr) / dz;
}

static double sigmoid_d(double z)
{
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

static double rescale_sigmoid_d(double zx, double zr)
{
    if (fabs(zx - zr) < 1e-6) {
        double s = sigmoid_d(0.5 * (zx + zr));
        return s * (1 - s);
    }
    return (sigmoid_d(zx) - sigmoid_d(zr)) / (zx - zr);
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

/* Cross-max (METHODS.md): the pooled unit's Δ goes to the arg-max of x and
 * of the reference, each divided by that position's own Δ. */
static inline void cross_max(float mo, float yx, float yr, float dx_at_ax, float dx_at_ar, float *m_ax,
                             float *m_ar)
{
    float mm = yx > yr ? yx : yr;
    if (fabsf(dx_at_ax) >= 1e-7f)
        *m_ax += mo * (mm - yr) / dx_at_ax;
    if (fabsf(dx_at_ar) >= 1e-7f)
        *m_ar += mo * (yx - mm) / dx_at_ar;
}

/* Conv1D transpose: only the few (reference, position, filter) cells that
 * carry a multiplier after global max pooling are scattered through the
 * kernel; a dense map takes the im2col GEMM. */
static void conv_backward(const dl_state *st, int k, int nb, const float *mz, float *min)
{
    const tk_layer *l = body(st, k);
    tk_shape si = st->plan.in[k], so = st->plan.out[k];
    int ch = si.channels, kc = l->kernel_size * ch, nf = l->filters;
    memset(min, 0, sizeof(float) * (size_t)nb * si.steps * ch);
    size_t osz = (size_t)so.steps * nf;
    if (st->nz_valid) {
        for (size_t e = 0; e < st->n_nz; e++) {
            size_t i = st->nz[e];
            float v = mz[i];
            if (v == 0.0f)
                continue;
            int b = (int)(i / osz), t = (int)(i % osz / nf), f = (int)(i % nf);
            const float *w = st->conv_wt[k] + (size_t)f * kc; /* (kernel, channels) */
            for (int tap = 0; tap < l->kernel_size; tap++) {
                int p = tk_dl_conv_pos(l, si.steps, t, tap);
                if (p < 0 || p >= si.steps)
                    continue;
                float *dst = min + ((size_t)b * si.steps + p) * ch;
                for (int c = 0; c < ch; c++)
                    dst[c] += v * w[(size_t)tap * ch + c];
            }
        }
        return;
    }
    size_t cells = (size_t)nb * osz, nnz = 0;
    for (size_t i = 0; i < cells; i++)
        nnz += mz[i] != 0.0f;
    if (nnz * 8 < cells) {
        for (int b = 0; b < nb; b++)
            for (int t = 0; t < so.steps; t++) {
                const float *row = mz + ((size_t)b * so.steps + t) * nf;
                for (int f = 0; f < nf; f++) {
                    if (row[f] == 0.0f)
                        continue;
                    const float *w = st->conv_wt[k] + (size_t)f * kc; /* (kernel, channels) */
                    for (int tap = 0; tap < l->kernel_size; tap++) {
                        int p = tk_dl_conv_pos(l, si.steps, t, tap);
                        if (p < 0 || p >= si.steps)
                            continue;
                        float *dst = min + ((size_t)b * si.steps + p) * ch;
                        for (int c = 0; c < ch; c++)
                            dst[c] += row[f] * w[(size_t)tap * ch + c];
                    }
                }
            }
        return;
    }
    float *cols = st->ref->cols; /* (nb * out steps, kernel * channels), free after the forward */
    tk_sgemm(false, true, nb * so.steps, kc, nf, 1.0f, mz, nf, l->kernel, nf, 0.0f, cols, kc);
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < so.steps; t++)
            for (int tap = 0; tap < l->kernel_size; tap++) {
                int p = tk_dl_conv_pos(l, si.steps, t, tap);
                if (p < 0 || p >= si.steps)
                    continue;
                const float *src = cols + ((size_t)b * so.steps + t) * kc + (size_t)tap * ch;
                float *dst = min + ((size_t)b * si.steps + p) * ch;
                for (int c = 0; c < ch; c++)
                    dst[c] += src[c];
            }
}

/* One LSTM direction: multipliers of its hidden states arrive from the layer
 * output mo (nb, out rows, out channels) at channel offset off (scaled by
 * scale for merge 'ave'; flip: the Bidirectional backward half, whose
 * output rows are re-reversed); the gate pre-activation multipliers of every step
 * are kept and projected onto the input (nb, steps, in) at the end. */
static void lstm_backward(dl_state *st, int k, int dir, bool reverse, bool flip, const float *mo, int off,
                          float scale, float *min)
{
    const tk_layer *l = body(st, k);
    const tk_lstm_weights *w = &l->lstm[dir];
    int nb = st->n_refs, steps = st->plan.in[k].steps, in_dim = st->plan.in[k].channels;
    int u = l->units, g4 = 4 * u, out_ch = st->plan.out[k].channels;
    int nout = l->return_sequences ? steps : 1;
    const tk_dl_lstm *tx = &st->xa->lstm[k][dir], *tr = &st->ref->lstm[k][dir];
    tk_activation ra = l->recurrent_activation, ca = l->activation;
    memset(st->m_h, 0, sizeof(float) * (size_t)nb * u);
    memset(st->m_c, 0, sizeof(float) * (size_t)nb * u);
    for (int s = steps - 1; s >= 0; s--) {
        int r = -1; /* output row fed by this step */
        if (l->return_sequences)
            r = flip ? steps - 1 - s : s;
        else if (s == steps - 1)
            r = 0;
        const float *px = tx->pre + (size_t)s * g4, *ax = tx->act + (size_t)s * g4;
        const float *cx = tx->c + (size_t)s * u, *tcx = tx->tc + (size_t)s * u;
        const float *cpx = s > 0 ? tx->c + (size_t)(s - 1) * u : NULL;
        float *mp = st->m_pre + (size_t)s * nb * g4;
        for (int b = 0; b < nb; b++) {
            size_t rb = (size_t)s * nb + b;
            const float *pr = tr->pre + rb * g4, *ar = tr->act + rb * g4;
            const float *cr = tr->c + rb * u, *tcr = tr->tc + rb * u;
            const float *cpr = s > 0 ? tr->c + (rb - nb) * u : NULL;
            float *mh = st->m_h + (size_t)b * u, *mc = st->m_c + (size_t)b * u;
            const float *mob = r >= 0 ? mo + ((size_t)b * nout + r) * out_ch + off : NULL;
            float *mpb = mp + (size_t)b * g4;
            for (int j = 0; j < u; j++) {
                float m_h = mh[j] + (mob ? scale * mob[j] : 0.0f);
                float ox = ax[3 * u + j], orr = ar[3 * u + j];
                /* h = o ⊙ tanh(c): Shapley split */
                float m_o = m_h * 0.5f * (tcx[j] + tcr[j]);
                float m_tc = m_h * 0.5f * (ox + orr);
                float m_c = mc[j] + m_tc * rescale(ca, cx[j], cr[j], tcx[j], tcr[j]);
                /* c = f ⊙ c_prev + i ⊙ g: Shapley split of both products */
                float cpxj = cpx ? cpx[j] : 0.0f, cprj = cpr ? cpr[j] : 0.0f;
                float ix = ax[j], ir = ar[j], fx = ax[u + j], fr = ar[u + j];
                float gx = ax[2 * u + j], gr = ar[2 * u + j];
                float m_f = m_c * 0.5f * (cpxj + cprj);
                mc[j] = m_c * 0.5f * (fx + fr); /* to c_prev */
                float m_i = m_c * 0.5f * (gx + gr);
                float m_g = m_c * 0.5f * (ix + ir);
                mpb[j] = m_i * rescale(ra, px[j], pr[j], ix, ir);
                mpb[u + j] = m_f * rescale(ra, px[u + j], pr[u + j], fx, fr);
                mpb[2 * u + j] = m_g * rescale(ca, px[2 * u + j], pr[2 * u + j], gx, gr);
                mpb[3 * u + j] = m_o * rescale(ra, px[3 * u + j], pr[3 * u + j], ox, orr);
            }
        }
        if (s > 0) /* to h_prev through the recurrent kernel (units, 4 units) */
            tk_sgemm(false, true, nb, u, g4, 1.0f, mp, g4, w->recurrent, g4, 0.0f, st->m_h, u);
    }
    /* every step and reference through the input kernel in one GEMM of
     * steps x B rows, then added at each reference's position */
    tk_sgemm(false, true, steps * nb, in_dim, g4, 1.0f, st->m_pre, g4, w->kernel, g4, 0.0f,
             st->m_proj, in_dim);
    for (int s = 0; s < steps; s++) {
        int pos = reverse ? steps - 1 - s : s;
        for (int b = 0; b < nb; b++) {
            const float *src = st->m_proj + ((size_t)s * nb + b) * in_dim;
            float *dst = min + ((size_t)b * steps + pos) * in_dim;
            for (int i = 0; i < in_dim; i++)
                dst[i] += src[i];
        }
    }
}

/* Backwards through layer k: mo (nb, out size) -> min (nb, in size). */
static bool layer_backward(dl_state *st, int k, float *mo, float *min)
{
    const tk_layer *l = body(st, k);
    int nb = st->n_refs;
    tk_shape si = st->plan.in[k], so = st->plan.out[k];
    size_t isz = (size_t)(si.steps > 0 ? si.steps : 1) * si.channels;
    size_t osz = (size_t)(so.steps > 0 ? so.steps : 1) * so.channels;
    const float *inx = k == 0 ? st->xa->x : st->xa->out[k - 1];
    const float *inr = k == 0 ? st->ref->x : st->ref->out[k - 1];

    /* output activation of Dense / Conv1D / Activation: rescale in place */
    if (l->kind == TK_LAYER_DROPOUT || l->kind == TK_LAYER_FLATTEN || l->kind == TK_LAYER_INPUT)
        return false; /* identity: the multipliers stay where they are */
    if (st->xa->pre[k] && k != st->plan.n - 1 && st->nz_valid) {
        const float *zx = st->xa->pre[k], *yx = st->xa->out[k];
        for (size_t e = 0; e < st->n_nz; e++) {
            size_t i = st->nz[e], j = i % osz, b = i / osz;
            if (mo[i] != 0.0f)
                mo[i] *= rescale(l->activation, zx[j], st->ref->pre[k][b * osz + j], yx[j],
                                 st->ref->out[k][b * osz + j]);
        }
    } else if (st->xa->pre[k] && k != st->plan.n - 1) {
        const float *zx = st->xa->pre[k], *yx = st->xa->out[k];
        for (int b = 0; b < nb; b++) {
            const float *zr = st->ref->pre[k] + b * osz, *yr = st->ref->out[k] + b * osz;
            float *m = mo + b * osz;
            for (size_t i = 0; i < osz; i++)
                if (m[i] != 0.0f)
                    m[i] *= rescale(l->activation, zx[i], zr[i], yx[i], yr[i]);
        }
    }
    if (tk_rules_rnn_kind(l)) {
        tk_rules_rnn_deeplift(l, si, so, nb, st->xa->state[k], st->ref->state[k], mo, min,
                              st->rules_work);
        st->nz_valid = false;
        return true;
    }
    if (l->kind == TK_LAYER_BATCH_NORM) {
        tk_rules_norm_deeplift(l, nb, si, mo, min, st->rules_work);
        st->nz_valid = false;
        return true;
    }
    switch (l->kind) {
    case TK_LAYER_DENSE: {
        int rows = nb * (si.steps > 0 ? si.steps : 1);
        tk_sgemm(false, true, rows, si.channels, l->units, 1.0f, mo, l->units, l->kernel, l->units,
                 0.0f, min, si.channels);
        st->nz_valid = false;
        return true;
    }
    case TK_LAYER_CONV1D:
        conv_backward(st, k, nb, mo, min);
        st->nz_valid = false;
        return true;
    case TK_LAYER_GLOBAL_MAX_POOL1D:
    case TK_LAYER_MAX_POOL1D: {
        memset(min, 0, sizeof(float) * nb * isz);
        bool global = l->kind == TK_LAYER_GLOBAL_MAX_POOL1D;
        st->n_nz = 0;
        int nout = global ? 1 : so.steps, ch = si.channels;
        int pad = 0, win = global ? si.steps : l->pool_size, stride = global ? 0 : l->pool_strides;
        if (!global && l->pool_padding_same) {
            int total = (so.steps - 1) * l->pool_strides + l->pool_size - si.steps;
            pad = total > 0 ? total / 2 : 0;
        }
        for (int t = 0; t < nout; t++)
            for (int c = 0; c < ch; c++) {
                /* the window's valid positions: [lo, hi) */
                int lo = t * stride - pad, hi = lo + win;
                lo = lo < 0 ? 0 : lo;
                hi = hi > si.steps ? si.steps : hi;
                int ax = lo + tk_dl_argmax(inx + (size_t)lo * ch + c, hi - lo, (size_t)ch);
                for (int b = 0; b < nb; b++) {
                    const float *rb = inr + b * isz;
                    int ar = global ? st->ref_argmax[k][(size_t)b * ch + c]
                                    : lo + tk_dl_argmax(rb + (size_t)lo * ch + c, hi - lo, (size_t)ch);
                    float m = mo[b * osz + (size_t)t * ch + c];
                    if (m == 0.0f)
                        continue;
                    /* the pooled values as the forward computed them */
                    float yx = st->xa->out[k][(size_t)t * ch + c];
                    float yr = st->ref->out[k][b * osz + (size_t)t * ch + c];
                    float dax = yx - rb[(size_t)ax * ch + c];
                    float dar = inx[(size_t)ar * ch + c] - yr;
                    float *mb = min + b * isz;
                    cross_max(m, yx, yr, dax, dar, &mb[(size_t)ax * ch + c], &mb[(size_t)ar * ch + c]);
                    if (global) {
                        st->nz[st->n_nz++] = b * isz + (size_t)ax * ch + c;
                        if (ar != ax)
                            st->nz[st->n_nz++] = b * isz + (size_t)ar * ch + c;
                    }
                }
            }
        st->nz_valid = global;
        return true;
    }
    case TK_LAYER_AVG_POOL1D:
    case TK_LAYER_GLOBAL_AVG_POOL1D: {
        memset(min, 0, sizeof(float) * nb * isz);
        bool global = l->kind == TK_LAYER_GLOBAL_AVG_POOL1D;
        int nout = global ? 1 : so.steps, ch = si.channels;
        int pad = 0, win = global ? si.steps : l->pool_size, stride = global ? 0 : l->pool_strides;
        if (!global && l->pool_padding_same) {
            int total = (so.steps - 1) * l->pool_strides + l->pool_size - si.steps;
            pad = total > 0 ? total / 2 : 0;
        }
        for (int b = 0; b < nb; b++)
            for (int t = 0; t < nout; t++) {
                int first = t * stride - pad, cnt = 0;
                for (int q = 0; q < win; q++)
                    cnt += first + q >= 0 && first + q < si.steps;
                for (int q = 0; q < win; q++) {
                    int p = first + q;
                    if (p < 0 || p >= si.steps)
                        continue;
                    for (int c = 0; c < ch; c++)
                        min[b * isz + (size_t)p * ch + c] += mo[b * osz + (size_t)t * ch + c] / cnt;
                }
            }
        st->nz_valid = false;
        return true;
    }
    case TK_LAYER_LSTM:
        memset(min, 0, sizeof(float) * nb * isz);
        lstm_backward(st, k, 0, l->go_backwards, false, mo, 0, 1.0f, min);
        st->nz_valid = false;
        return true;
    case TK_LAYER_BIDIRECTIONAL: {
        memset(min, 0, sizeof(float) * nb * isz);
        bool concat = l->merge_mode == TK_MERGE_CONCAT;
        float scale = l->merge_mode == TK_MERGE_AVE ? 0.5f : 1.0f;
        lstm_backward(st, k, 0, l->go_backwards, false, mo, 0, scale, min);
        lstm_backward(st, k, 1, !l->go_backwards, true, mo, concat ? l->units : 0, scale, min);
        st->nz_valid = false;
        return true;
    }
    default: /* Activation (rescaled above): identity, same sparsity */
        memcpy(min, mo, sizeof(float) * nb * isz);
        return true;
    }
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
        s = m->has_embedding ? tk_dl_embed(m, rv->ids, 1, steps, st->x, err)
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
    st->nz_valid = false;
    for (int k = st->plan.n - 1; k >= 0; k--) {
        if (!layer_backward(st, k, mo, mi))
            continue;
        float *t = mo;
        mo = mi;
        mi = t;
    }
    /* mo: (nb, steps, d); A = (1/B) Σ_b m_b ⊙ (x − r_b) */
    memset(st->acc, 0, sizeof(double) * (size_t)steps * d);
    for (int b = 0; b < nb; b++) {
        const float *mb = mo + (size_t)b * steps * d, *rb = st->ref_x + (size_t)b * steps * d;
        for (size_t i = 0; i < (size_t)steps * d; i++)
            st->acc[i] += (double)mb[i] * ((double)st->x[i] - rb[i]);
    }
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
