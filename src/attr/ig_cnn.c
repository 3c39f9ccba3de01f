/* Integrated Gradients fast path for Conv1D -> GlobalMaxPooling1D -> Dense
 * networks (PERFORMANCE.md, "Linearity along the path").
 *
 * The convolution is linear, so at path point alpha its pre-activation is
 * u(alpha) = z(x') + alpha (z(x) - z(x')): two convolutions give all n points.
 * Per point only the activation, the max over time and the small dense
 * layers remain (one GEMM per dense layer over the n points). Backwards, the
 * global max pooling lets one position per filter through, so the weighted
 * sum over points of the upstream gradient at the convolution output is
 * sparse, and the convolution's transpose is applied once, to that sum. */
/* The pooling loop only vectorises when comparisons may be if-converted
 * (see ig_lstm.c); nothing here relies on FP exceptions. */
#pragma GCC optimize("no-trapping-math")

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr/ig_cnn_kinks.h"
#include "attr/ig_cnn_pool.h"
#include "attr/ig_fast.h"
#include "attr/target.h"
#include "core/gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include "model/window.h"

enum { IG_CNN_MAX_DENSE = 8 };

struct tk_ig_cnn {
    const tk_model *model;
    const tk_layer *conv;
    int n_dense;
    const tk_layer *dense[IG_CNN_MAX_DENSE];
    int max_steps, max_points;
    int k, c, f;       /* kernel size, input channels D, filters */
    int pad_left;      /* "same": zeros in front */
    float *wt;         /* (f, k * c): the kernel transposed, for the sparse backward */
    float *cols;       /* (max_steps, k * c) im2col of one input */
    uint32_t *hash;    /* (max_steps) of each im2col row, to find repeated windows */
    float *occ_cols;   /* (max_steps + k, k * c) im2col rows of one occluded copy */
    float *occ_z;      /* (max_steps + k, f) their conv outputs */
    float *occ_suf;    /* (max_steps, f) running maxima from the back */
    float *zx, *z0;    /* (max_steps, f) conv pre-activations of x and x' (bias included) */
    float *dz;         /* (max_steps, f) zx - z0, the pre-activation's slope along the path */
    tk_cnn_pool *pool; /* the max pooling along the path (ig_cnn_pool.h) */
    bool dz_valid;     /* dz and the pool's candidates belong to the kept zx and z0 */
    float *pooled;     /* (max_points, f) */
    int *arg;          /* (max_points, f) winning position */
    float *act[IG_CNN_MAX_DENSE]; /* (max_points, units) dense outputs (activated but the last) */
    float *dact[2];    /* (max_points, max width) ping-pong gradient buffers */
    double *gz;        /* (max_steps, f) weighted upstream gradient at the conv pre-activation */
    tk_cnn_kinks *kinks; /* the path's exact kinks (ig_cnn_kinks.h), or NULL */
    double *gz_lo;     /* (max_steps, f) the kinks' lower-order integral, with kinks */
    /* The conv kernel (k c, f) and each dense kernel (in, units) and its
     * transpose, packed once (core/gemm.h): no OpenBLAS packing per call,
     * and a row's result independent of its neighbours in the GEMM. */
    tk_packed_b *conv_p;
    tk_packed_b *dense_p[IG_CNN_MAX_DENSE], *dense_pt[IG_CNN_MAX_DENSE];
    unsigned char *mark; /* (max_steps, f) entries of gz in use; all 0 between calls */
    int *touched;      /* (max_steps * f) their indices t * f + q */
    /* zx, z0 and dz are kept between calls: the baseline's conv output is
     * the same for every review of a length, the explainer asks for F(x)
     * (tk_ig_cnn_logits) before the path, and the adaptive rule evaluates
     * one review's path in several batches of points. A cache hit is
     * decided by comparing the inputs, so it returns exactly the bits a
     * recomputation would. */
    float *key_x, *key_xb; /* (max_steps, c) the inputs zx and z0 were computed from */
    int key_steps_x, key_steps_xb; /* their lengths; 0 = nothing kept */
};

void tk_ig_cnn_destroy(tk_ig_cnn *c)
{
    if (c == NULL)
        return;
    free(c->wt);
    free(c->cols);
    free(c->hash);
    free(c->occ_cols);
    free(c->occ_z);
    free(c->occ_suf);
    free(c->zx);
    free(c->z0);
    free(c->dz);
    tk_cnn_pool_destroy(c->pool);
    free(c->pooled);
    free(c->arg);
    for (int i = 0; i < IG_CNN_MAX_DENSE; i++)
        free(c->act[i]);
    free(c->dact[0]);
    free(c->dact[1]);
    free(c->gz);
    tk_cnn_kinks_destroy(c->kinks);
    free(c->gz_lo);
    free(c->mark);
    free(c->touched);
    tk_packed_b_destroy(c->conv_p);
    for (int i = 0; i < IG_CNN_MAX_DENSE; i++) {
        tk_packed_b_destroy(c->dense_p[i]);
        tk_packed_b_destroy(c->dense_pt[i]);
    }
    free(c->key_x);
    free(c->key_xb);
    free(c);
}

static bool relu_or_linear(tk_activation a)
{
    return a == TK_ACT_RELU || a == TK_ACT_LINEAR;
}

tk_status tk_ig_cnn_create(const tk_model *model, int max_steps, int max_points,
                           tk_ig_cnn **out, tk_error *err)
{
    *out = NULL;
    int i = model->first_body_layer;
    if (i >= model->n_layers)
        return TK_OK;
    const tk_layer *conv = &model->layers[i];
    if (conv->kind != TK_LAYER_CONV1D || conv->strides != 1 ||
        (conv->dilation != 1 && conv->dilation != 0) || !relu_or_linear(conv->activation))
        return TK_OK;
    for (i++; i < model->n_layers && model->layers[i].kind == TK_LAYER_DROPOUT; i++)
        ;
    if (i >= model->n_layers || model->layers[i].kind != TK_LAYER_GLOBAL_MAX_POOL1D)
        return TK_OK;
    const tk_layer *dense[IG_CNN_MAX_DENSE];
    int n_dense = 0;
    for (i++; i < model->n_layers; i++) {
        const tk_layer *l = &model->layers[i];
        if (l->kind == TK_LAYER_DROPOUT)
            continue;
        if (l->kind != TK_LAYER_DENSE || n_dense == IG_CNN_MAX_DENSE)
            return TK_OK;
        dense[n_dense++] = l;
    }
    if (n_dense == 0)
        return TK_OK;
    for (int d = 0; d + 1 < n_dense; d++)
        if (!relu_or_linear(dense[d]->activation))
            return TK_OK;

    tk_ig_cnn *c = tk_calloc(1, sizeof *c, err);
    if (c == NULL)
        return TK_E_NOMEM;
    c->model = model;
    c->conv = conv;
    c->n_dense = n_dense;
    memcpy(c->dense, dense, sizeof dense);
    c->max_steps = max_steps;
    c->max_points = max_points;
    c->k = conv->kernel_size;
    c->c = model->input_dim;
    c->f = conv->filters;
    /* the fast path takes stride 1 only: the padding is the same for every length */
    c->pad_left = tk_window_pad_left(tk_window_conv(conv), max_steps);
    size_t kc = (size_t)c->k * (size_t)c->c;
    int width = c->f;
    bool ok = true;
    c->wt = tk_malloc((size_t)c->f * kc, sizeof *c->wt, err);
    c->cols = tk_malloc((size_t)max_steps * kc, sizeof *c->cols, err);
    c->hash = tk_malloc((size_t)max_steps, sizeof *c->hash, err);
    c->occ_cols = tk_malloc((size_t)(max_steps + c->k) * kc, sizeof *c->occ_cols, err);
    c->occ_z = tk_malloc((size_t)(max_steps + c->k) * c->f, sizeof *c->occ_z, err);
    c->occ_suf = tk_malloc((size_t)max_steps * c->f, sizeof *c->occ_suf, err);
    c->zx = tk_malloc((size_t)max_steps * c->f, sizeof *c->zx, err);
    c->z0 = tk_malloc((size_t)max_steps * c->f, sizeof *c->z0, err);
    c->dz = tk_malloc((size_t)max_steps * c->f, sizeof *c->dz, err);
    c->pooled = tk_malloc((size_t)max_points * c->f, sizeof *c->pooled, err);
    c->arg = tk_malloc((size_t)max_points * c->f, sizeof *c->arg, err);
    c->gz = tk_malloc((size_t)max_steps * c->f, sizeof *c->gz, err);
    c->key_x = tk_malloc((size_t)max_steps * c->c, sizeof *c->key_x, err);
    c->key_xb = tk_malloc((size_t)max_steps * c->c, sizeof *c->key_xb, err);
    c->mark = tk_calloc((size_t)max_steps * c->f, 1, err);
    c->touched = tk_malloc((size_t)max_steps * c->f, sizeof *c->touched, err);
    ok = c->mark && c->touched && c->key_x && c->key_xb && c->wt && c->cols && c->hash && c->occ_cols && c->occ_z && c->occ_suf && c->zx && c->z0 && c->dz && c->pooled && c->arg && c->gz;
    for (int d = 0; ok && d < n_dense; d++) {
        if (dense[d]->units > width)
            width = dense[d]->units;
        c->act[d] = tk_malloc((size_t)max_points * dense[d]->units, sizeof *c->act[d], err);
        ok = c->act[d] != NULL;
    }
    if (ok) {
        c->dact[0] = tk_malloc((size_t)max_points * width, sizeof *c->dact[0], err);
        c->dact[1] = tk_malloc((size_t)max_points * width, sizeof *c->dact[1], err);
        ok = c->dact[0] && c->dact[1];
    }
    if (!ok) {
        tk_ig_cnn_destroy(c);
        return TK_E_NOMEM;
    }
    tk_status st = tk_cnn_pool_create(c->f, max_steps, &c->pool, err);
    if (st == TK_OK)
        st = tk_cnn_kinks_create(model, conv->activation == TK_ACT_RELU, c->f, c->dense, n_dense,
                                 max_steps, &c->kinks, err);
    if (st == TK_OK && c->kinks != NULL &&
        (c->gz_lo = tk_malloc((size_t)max_steps * c->f, sizeof *c->gz_lo, err)) == NULL)
        st = TK_E_NOMEM;
    if (st == TK_OK)
        st = tk_packed_b_create(false, (int)kc, c->f, conv->kernel, c->f, &c->conv_p, err);
    for (int d = 0, in_w = c->f; st == TK_OK && d < n_dense; in_w = dense[d]->units, d++) {
        st = tk_packed_b_create(false, in_w, dense[d]->units, dense[d]->kernel, dense[d]->units,
                                &c->dense_p[d], err);
        if (st == TK_OK)
            st = tk_packed_b_create(true, dense[d]->units, in_w, dense[d]->kernel,
                                    dense[d]->units, &c->dense_pt[d], err);
    }
    if (st != TK_OK) {
        tk_ig_cnn_destroy(c);
        return st;
    }
    /* kernel (k, c, f) row-major = (k*c, f); wt = its transpose (f, k*c). */
    for (size_t j = 0; j < kc; j++)
        for (int q = 0; q < c->f; q++)
            c->wt[(size_t)q * kc + j] = conv->kernel[j * c->f + q];
    *out = c;
    return TK_OK;
}

/* The indices of the set bytes of mark (n), ascending, into out; returns
 * their number. Eight bytes at a time: most are zero. */
static int touched_in_order(const unsigned char *mark, size_t n, int *out)
{
    int m = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, mark + i, sizeof w);
        if (w == 0)
            continue;
        for (size_t j = i; j < i + 8; j++)
            if (mark[j])
                out[m++] = (int)j;
    }
    for (; i < n; i++)
        if (mark[i])
            out[m++] = (int)i;
    return m;
}

static int conv_out_steps(const tk_ig_cnn *c, int steps)
{
    return tk_window_out(tk_window_conv(c->conv), steps);
}

/* z (out_steps, f) = conv(x) + bias, as im2col + one GEMM. */
static void conv_forward(tk_ig_cnn *c, const float *x, int steps, float *z)
{
    int out = conv_out_steps(c, steps), kc = c->k * c->c;
    for (int t = 0; t < out; t++)
        for (int j = 0; j < c->k; j++) {
            int src = t + j - c->pad_left;
            float *dst = c->cols + (size_t)t * kc + (size_t)j * c->c;
            if (src < 0 || src >= steps)
                memset(dst, 0, (size_t)c->c * sizeof *dst);
            else
                memcpy(dst, x + (size_t)src * c->c, (size_t)c->c * sizeof *dst);
        }
    for (int t = 0; t < out; t++)
        for (int q = 0; q < c->f; q++)
            z[(size_t)t * c->f + q] = c->conv->use_bias ? c->conv->bias[q] : 0.0f;
    tk_sgemm_packed(out, c->cols, kc, c->conv_p, 1.0f, z, c->f);
    /* The GEMM's rounding depends on a row's place in its blocking, so two
     * identical windows (repeated phrases, runs of padding) can come out a
     * few ulps apart and the max pooling would pick the later one. Copying
     * the first occurrence's output keeps exact ties exact, so the first
     * maximum wins as in the float64 reference. */
    uint32_t *hash = c->hash;
    for (int t = 0; t < out; t++) {
        const float *b = c->cols + (size_t)t * kc;
        /* A weighted sum of the 32-bit words with odd weights, mod 2^32: only
         * a filter before the memcmp, and unlike a multiply chain (FNV) it
         * vectorises. Rows that differ in one word always differ here. */
        uint32_t h = 0;
        for (int i = 0; i < kc; i++) {
            uint32_t w;
            memcpy(&w, b + i, sizeof w);
            h += w * (2u * (uint32_t)i + 1u) * 2654435761u;
        }
        hash[t] = h;
        for (int s = 0; s < t; s++)
            if (hash[s] == h &&
                memcmp(c->cols + (size_t)s * kc, b, (size_t)kc * sizeof(float)) == 0) {
                memcpy(z + (size_t)t * c->f, z + (size_t)s * c->f, (size_t)c->f * sizeof *z);
                break;
            }
    }
}

/* zx (out, f) = z(x), unless it is kept from a call on the same input. */
static void conv_input(tk_ig_cnn *c, const float *x, int steps)
{
    size_t row = (size_t)steps * c->c * sizeof *x;
    if (c->key_steps_x == steps && memcmp(c->key_x, x, row) == 0)
        return;
    conv_forward(c, x, steps, c->zx);
    memcpy(c->key_x, x, row);
    c->key_steps_x = steps;
    c->dz_valid = false;
}

/* dz (out, f) = z(x) - z(x'), z0 (out, f) = z(x') and the candidates,
 * reusing what the last calls left when their inputs were the same. */
static void conv_pair(tk_ig_cnn *c, const float *x, const float *xb, int steps)
{
    size_t row = (size_t)steps * c->c * sizeof *x;
    int out = conv_out_steps(c, steps), f = c->f;
    if (c->key_steps_xb != steps || memcmp(c->key_xb, xb, row) != 0) {
        conv_forward(c, xb, steps, c->z0);
        tk_cnn_pool_set_baseline(c->pool, c->z0, out);
        memcpy(c->key_xb, xb, row);
        c->key_steps_xb = steps;
        c->dz_valid = false;
    }
    conv_input(c, x, steps);
    if (c->dz_valid)
        return;
    int finite = 1;
    for (size_t i = 0; i < (size_t)out * f; i++) {
        c->dz[i] = c->zx[i] - c->z0[i];
        finite &= fabsf(c->dz[i]) <= FLT_MAX;
    }
    tk_cnn_pool_set_slope(c->pool, c->z0, c->dz, out, finite);
    c->dz_valid = true;
}

/* Dense layers over all n pooled rows at once: pooled (n, f) -> act[d]
 * (n, units_d); the last one holds the logits (no output activation). */
static void dense_forward(tk_ig_cnn *c, int n)
{
    const float *in = c->pooled;
    int in_w = c->f;
    for (int d = 0; d < c->n_dense; d++) {
        const tk_layer *l = c->dense[d];
        float *o = c->act[d];
        for (int p = 0; p < n; p++)
            for (int u = 0; u < l->units; u++)
                o[(size_t)p * l->units + u] = l->use_bias ? l->bias[u] : 0.0f;
        tk_sgemm_packed(n, in, in_w, c->dense_p[d], 1.0f, o, l->units);
        if (d + 1 < c->n_dense && l->activation == TK_ACT_RELU)
            for (size_t i = 0; i < (size_t)n * l->units; i++)
                o[i] = o[i] < 0.0f ? 0.0f : o[i];
        in = o;
        in_w = l->units;
    }
}

/* grad (steps, D) += the convolution's transpose of gz at the n touched
 * entries (in c->touched, ascending), clearing their marks when asked. */
static void conv_transpose(tk_ig_cnn *c, const double *gz, bool clear, int n, int steps,
                           float *grad)
{
    size_t kc = (size_t)c->k * c->c;
    int f = c->f;
    for (int e = 0; e < n; e++) {
        int at = c->touched[e], t = at / f, q = at % f;
        if (clear)
            c->mark[at] = 0;
        double gv = gz[at];
        if (gv == 0.0)
            continue;
        float gf = (float)gv;
        const float *w = c->wt + (size_t)q * kc;
        int j0 = c->pad_left - t > 0 ? c->pad_left - t : 0;
        int j1 = steps + c->pad_left - t < c->k ? steps + c->pad_left - t : c->k;
        for (int j = j0; j < j1; j++) {
            float *gr = grad + (size_t)(t + j - c->pad_left) * c->c;
            const float *wj = w + (size_t)j * c->c;
            for (int ch = 0; ch < c->c; ch++)
                gr[ch] += gf * wj[ch];
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same with 16 channels a vector, a multiply then an add as above. */
__attribute__((target("avx512f"))) static void conv_transpose_avx512(tk_ig_cnn *c,
                                                                    const double *gz, bool clear,
                                                                    int n, int steps, float *grad)
{
    size_t kc = (size_t)c->k * c->c;
    int f = c->f, ch_n = c->c;
    __mmask16 tail = (__mmask16)((1u << (ch_n % 16)) - 1u);
    for (int e = 0; e < n; e++) {
        int at = c->touched[e], t = at / f, q = at % f;
        if (clear)
            c->mark[at] = 0;
        double gv = gz[at];
        if (gv == 0.0)
            continue;
        __m512 gf = _mm512_set1_ps((float)gv);
        const float *w = c->wt + (size_t)q * kc;
        int j0 = c->pad_left - t > 0 ? c->pad_left - t : 0;
        int j1 = steps + c->pad_left - t < c->k ? steps + c->pad_left - t : c->k;
        for (int j = j0; j < j1; j++) {
            float *gr = grad + (size_t)(t + j - c->pad_left) * ch_n;
            const float *wj = w + (size_t)j * ch_n;
            int ch = 0;
            for (; ch + 16 <= ch_n; ch += 16)
                _mm512_storeu_ps(gr + ch, _mm512_add_ps(_mm512_loadu_ps(gr + ch),
                                                        _mm512_mul_ps(gf, _mm512_loadu_ps(wj + ch))));
            if (ch < ch_n)
                _mm512_mask_storeu_ps(
                    gr + ch, tail,
                    _mm512_add_ps(_mm512_maskz_loadu_ps(tail, gr + ch),
                                  _mm512_mul_ps(gf, _mm512_maskz_loadu_ps(tail, wj + ch))));
        }
    }
}
#endif

static void transpose_touched(tk_ig_cnn *c, const double *gz, bool clear, int n, int steps,
                              float *grad)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f"))
        conv_transpose_avx512(c, gz, clear, n, steps, grad);
    else
#endif
        conv_transpose(c, gz, clear, n, steps, grad);
}

tk_status tk_ig_cnn_logits(tk_ig_cnn *c, const float *x, int steps, float *logits, tk_error *err)
{
    if (steps > c->max_steps)
        return tk_error_set(err, TK_E_INTERNAL,
                            "ig_cnn: %d steps exceed the scratch made for %d", steps, c->max_steps);
    int out = conv_out_steps(c, steps), f = c->f;
    if (out < 1)
        return tk_error_set(err, TK_E_INVALID,
                            "review of %d positions is shorter than the convolution's kernel (%d)",
                            steps, c->k);
    bool relu = c->conv->activation == TK_ACT_RELU;
    conv_input(c, x, steps);
    /* Activation and max over time (the pooled row's value only: the
     * position is the gradient's business), then the dense layers on
     * one row, which the packed GEMM computes as it would among others. */
    float *best = c->pooled;
    for (int q = 0; q < f; q++) {
        float u = c->zx[q];
        best[q] = relu && u < 0.0f ? 0.0f : u;
    }
    for (int t = 1; t < out; t++) {
        const float *z = c->zx + (size_t)t * f;
        for (int q = 0; q < f; q++) {
            float h = relu && z[q] < 0.0f ? 0.0f : z[q];
            best[q] = h > best[q] ? h : best[q];
        }
    }
    dense_forward(c, 1);
    memcpy(logits, c->act[c->n_dense - 1], (size_t)c->model->n_outputs * sizeof *logits);
    return TK_OK;
}

tk_status tk_ig_cnn_gradient(tk_ig_cnn *c, const tk_method_params *params, int target,
                             const float *x, const float *xb, int steps, int n,
                             const double *alpha, const double *weight, float *grad,
                             tk_error *err)
{
    if (steps > c->max_steps || n > c->max_points)
        return tk_error_set(err, TK_E_INTERNAL,
                            "ig_cnn: %d steps x %d points exceed the scratch made for %d x %d",
                            steps, n, c->max_steps, c->max_points);
    int out = conv_out_steps(c, steps), f = c->f;
    if (out < 1)
        return tk_error_set(err, TK_E_INVALID,
                            "review of %d positions is shorter than the convolution's kernel (%d)",
                            steps, c->k);
    bool relu = c->conv->activation == TK_ACT_RELU;
    conv_pair(c, x, xb, steps);
    /* Forward per point: activation and max over time, fused. */
    bool cand = tk_cnn_pool_points(c->pool, c->z0, c->dz, out, n, alpha, relu, c->pooled, c->arg);
    dense_forward(c, n);
    /* d_logits per point, weighted by the quadrature. */
    int k = c->model->n_outputs;
    float *g = c->dact[0];
    for (int p = 0; p < n; p++) {
        tk_explained_scalar(c->model, params->output, target, c->act[c->n_dense - 1] + (size_t)p * k,
                            g + (size_t)p * k);
        for (int q = 0; q < k; q++)
            g[(size_t)p * k + q] = (float)(g[(size_t)p * k + q] * weight[p]);
    }
    /* Dense backward: g (n, units_d) -> (n, in_d), through the previous relu. */
    int which = 0;
    for (int d = c->n_dense - 1; d >= 0; d--) {
        const tk_layer *l = c->dense[d];
        int w_in = d > 0 ? c->dense[d - 1]->units : f;
        float *gin = c->dact[1 - which];
        tk_sgemm_packed(n, c->dact[which], l->units, c->dense_pt[d], 0.0f, gin, w_in);
        if (d > 0 && c->dense[d - 1]->activation == TK_ACT_RELU) {
            const float *a = c->act[d - 1];
            for (size_t i = 0; i < (size_t)n * w_in; i++) /* a select: vectorises */
                gin[i] = a[i] <= 0.0f ? 0.0f : gin[i];
        }
        which = 1 - which;
    }
    const float *gp = c->dact[which]; /* (n, f) gradient at the pooled vector */
    /* Through the max pooling and the activation: one position per filter
     * and point, summed over points (weights already applied). */
    if (cand) {
        tk_cnn_pool_sum(c->pool, n, gp, c->pooled, c->arg, relu, c->gz, c->mark);
    } else {
        /* gz starts at 0 everywhere; a skipped entry adds +0.0, which
         * changes no sum (one that starts at +0.0 and adds non-zero values
         * is never -0.0), so the loop needs no branch on the data. */
        tk_cnn_pool_clear(c->pool, false, out, c->gz);
        for (int p = 0; p < n; p++) {
            const float *gpp = gp + (size_t)p * f, *pp = c->pooled + (size_t)p * f;
            const int *ap = c->arg + (size_t)p * f;
            for (int q = 0; q < f; q++) {
                bool use = gpp[q] != 0.0f && !(relu && pp[q] <= 0.0f);
                size_t at = (size_t)ap[q] * f + q;
                c->gz[at] += use ? (double)gpp[q] : 0.0;
                c->mark[at] |= (unsigned char)use;
            }
        }
    }
    /* The convolution's transpose, once, on the touched entries in (t, q)
     * order, the order of a dense sweep: read off the marks in that order. */
    int n_touched = touched_in_order(c->mark, (size_t)out * f, c->touched);
    memset(grad, 0, (size_t)steps * c->c * sizeof *grad);
    transpose_touched(c, c->gz, true, n_touched, steps, grad);
    return TK_OK;
}

bool tk_ig_cnn_has_exact(const tk_ig_cnn *c)
{
    return c->kinks != NULL;
}

tk_status tk_ig_cnn_exact(tk_ig_cnn *c, const tk_method_params *params, int target, const float *x,
                          const float *xb, int steps, float *grad, float *grad_lo, int *pieces,
                          tk_error *err)
{
    if (c->kinks == NULL || steps > c->max_steps)
        return tk_error_set(err, TK_E_INTERNAL, "ig_cnn: no exact path for %d steps", steps);
    int out = conv_out_steps(c, steps), f = c->f;
    if (out < 1)
        return tk_error_set(err, TK_E_INVALID,
                            "review of %d positions is shorter than the convolution's kernel (%d)",
                            steps, c->k);
    conv_pair(c, x, xb, steps);
    size_t n = (size_t)out * f;
    memset(c->gz, 0, n * sizeof *c->gz);
    memset(c->gz_lo, 0, n * sizeof *c->gz_lo);
    tk_status st = tk_cnn_kinks_integrate(c->kinks, c->pool, params->output, target, c->z0, c->dz,
                                          out, c->gz, c->gz_lo, c->mark, pieces, err);
    int n_touched = touched_in_order(c->mark, n, c->touched);
    memset(grad, 0, (size_t)steps * c->c * sizeof *grad);
    memset(grad_lo, 0, (size_t)steps * c->c * sizeof *grad_lo);
    if (st == TK_OK)
        transpose_touched(c, c->gz_lo, false, n_touched, steps, grad_lo);
    transpose_touched(c, c->gz, true, n_touched, steps, grad); /* clears the marks either way */
    return st;
}

/* Occlusion through the same network: replacing positions p..p+w-1 changes
 * only the convolution rows whose windows touch them, so each occluded copy
 * costs a few conv rows, the max over time from prefix/suffix maxima of the
 * untouched rows, and its share of one batched dense GEMM. */
tk_status tk_ig_cnn_occlusion(tk_ig_cnn *c, const float *x, const float *repl, int steps,
                              int window, float *logits, tk_error *err)
{
    int out = conv_out_steps(c, steps), f = c->f, n_win = steps - window + 1;
    if (out < 1)
        return tk_error_set(err, TK_E_INVALID,
                            "review of %d positions is shorter than the convolution's kernel (%d)",
                            steps, c->k);
    if (steps > c->max_steps || n_win + 1 > c->max_points || window + c->k - 1 > c->max_steps + c->k)
        return tk_error_set(err, TK_E_INTERNAL, "ig_cnn: occlusion of %d steps exceeds the scratch",
                            steps);
    bool relu = c->conv->activation == TK_ACT_RELU;
    c->key_steps_x = c->key_steps_xb = 0; /* zx and z0 become scratch */
    c->dz_valid = false;
    float *h = c->zx; /* (out, f) activated conv output of x */
    conv_forward(c, x, steps, h);
    if (relu)
        for (size_t i = 0; i < (size_t)out * f; i++)
            h[i] = h[i] < 0.0f ? 0.0f : h[i];
    float *pre = c->z0, *suf = c->occ_suf; /* (out, f) running maxima from the front / back */
    memcpy(pre, h, (size_t)f * sizeof *pre);
    for (int t = 1; t < out; t++)
        for (int q = 0; q < f; q++) {
            float a = pre[(size_t)(t - 1) * f + q], b = h[(size_t)t * f + q];
            pre[(size_t)t * f + q] = b > a ? b : a;
        }
    memcpy(suf + (size_t)(out - 1) * f, h + (size_t)(out - 1) * f, (size_t)f * sizeof *suf);
    for (int t = out - 2; t >= 0; t--)
        for (int q = 0; q < f; q++) {
            float a = suf[(size_t)(t + 1) * f + q], b = h[(size_t)t * f + q];
            suf[(size_t)t * f + q] = b > a ? b : a;
        }
    /* Row 0: the input itself. */
    memcpy(c->pooled, pre + (size_t)(out - 1) * f, (size_t)f * sizeof *c->pooled);
    int kc = c->k * c->c;
    for (int p = 0; p < n_win; p++) {
        /* Conv rows t with a window [t - pad_left, t - pad_left + k) touching [p, p + w). */
        int lo = p - c->k + 1 + c->pad_left, hi = p + window - 1 + c->pad_left;
        lo = lo < 0 ? 0 : lo;
        hi = hi > out - 1 ? out - 1 : hi;
        float *best = c->pooled + (size_t)(p + 1) * f;
        for (int q = 0; q < f; q++) {
            float a = lo > 0 ? pre[(size_t)(lo - 1) * f + q] : -INFINITY;
            float b = hi < out - 1 ? suf[(size_t)(hi + 1) * f + q] : -INFINITY;
            best[q] = a > b ? a : b;
        }
        if (hi < lo)
            continue;
        int rows = hi - lo + 1;
        for (int t = lo; t <= hi; t++)
            for (int j = 0; j < c->k; j++) {
                int src = t + j - c->pad_left;
                float *dst = c->occ_cols + (size_t)(t - lo) * kc + (size_t)j * c->c;
                if (src < 0 || src >= steps)
                    memset(dst, 0, (size_t)c->c * sizeof *dst);
                else if (src >= p && src < p + window)
                    memcpy(dst, repl, (size_t)c->c * sizeof *dst);
                else
                    memcpy(dst, x + (size_t)src * c->c, (size_t)c->c * sizeof *dst);
            }
        for (int t = 0; t < rows; t++)
            for (int q = 0; q < f; q++)
                c->occ_z[(size_t)t * f + q] = c->conv->use_bias ? c->conv->bias[q] : 0.0f;
        tk_sgemm_packed(rows, c->occ_cols, kc, c->conv_p, 1.0f, c->occ_z, f);
        for (int t = 0; t < rows; t++)
            for (int q = 0; q < f; q++) {
                float v = c->occ_z[(size_t)t * f + q];
                v = relu && v < 0.0f ? 0.0f : v;
                best[q] = v > best[q] ? v : best[q];
            }
    }
    dense_forward(c, n_win + 1);
    int k = c->model->n_outputs;
    memcpy(logits, c->act[c->n_dense - 1], (size_t)(n_win + 1) * k * sizeof *logits);
    return TK_OK;
}
