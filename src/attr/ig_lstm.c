/* Integrated Gradients fast path for LSTM -> Dense networks
 * (PERFORMANCE.md, "Linearity along the path").
 *
 * The LSTM's input projection is linear: at path point alpha it is
 * P(alpha) = P(x') + alpha (P(x) - P(x')), two GEMMs for all n points.
 * The recurrence advances the n points together (one (n, U) x (U, 4U) GEMM
 * per time step, forward and backward). Backwards, the gradient at the input
 * projection is summed over points (quadrature weights already applied) and
 * the projection's transpose is applied once: (T, 4U) x (4U, D).
 *
 * Leading rows where the input equals the baseline bit for bit (IMDB's
 * "pre" padding under the pad baseline) are the same at every path point:
 * x' + alpha (x - x') = x there, so every point has the same state after
 * them. That prefix is run once per review, on one row, and every point's
 * recurrence starts from it. Its gradient is not computed: the attribution
 * of such a row is (x - x') g = 0 whatever g is, so its grad row is left 0
 * (before the skip: the true g, whose product with 0 was a zero of either
 * sign; the per-position scores, sums starting from +0, are +0 both ways).
 * Only leading rows qualify: after a real token the points' states differ,
 * so "post" padding is computed in full (nothing is skipped). A backward
 * LSTM (go_backwards, or the backward half of a Bidirectional) meets "pre"
 * padding last, where the states differ too; such models never take this
 * path (tk_ig_lstm_create) but the generic one, which computes everything. */
/* The gate loops below only vectorise when comparisons may be if-converted:
 * with GCC's default -ftrapping-math a float compare counts as a possible
 * trap and keeps the loop scalar. Nothing here relies on FP exceptions. */
#pragma GCC optimize("no-trapping-math")

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr/ig_fast.h"
#include "attr/target.h"
#include "core/gemm.h"
#include "core/isa.h"
#include "model/activation.h"

enum { IG_LSTM_MAX_DENSE = 8 };
/* Points advanced together through the recurrence. The whole trace of a
 * group (gates, cells, tanh(c), h for every step) is ~2 MB at T = 80,
 * U = 128, so the backward pass finds it in cache; the trace of all 50
 * points (~14 MB) went to memory and back. With R packed once, a GEMM of 8
 * rows runs the kernel as fast as one of 50, and a point's recurrent
 * products do not depend on its group (core/gemm.h); the groups depend
 * only on n, so a review's bits depend only on the review. */
enum { IG_LSTM_GROUP = 8 };

/* tk_ig_lstm_gradient is compiled once per ISA level (core/isa.h): the gate
 * loops are a quarter of the time with 256-bit vectors. */

struct tk_ig_lstm {
    const tk_model *model;
    const tk_layer *lstm;
    int n_dense;
    const tk_layer *dense[IG_LSTM_MAX_DENSE];
    int max_steps, max_points;
    int group;         /* points per group: min(max_points, IG_LSTM_GROUP) */
    int d, u;          /* input dim D, units U */
    float *p1, *p0;    /* (max_steps, 4U) input projections of x and x' (bias included) */
    float *gates;      /* (max_steps, max_points, 4U) activated i, f, g, o */
    float *cells;      /* (max_steps, max_points, U) c_t */
    float *tanh_cells; /* (max_steps, max_points, U) tanh(c_t), kept for the backward pass */
    float *hidden;     /* (max_steps, max_points, U) h_t */
    float *act[IG_LSTM_MAX_DENSE]; /* (max_points, units) dense outputs */
    float *dact[2];    /* (max_points, max(width, U)) */
    float *dh, *dc;    /* (max_points, U) */
    float *zeros;      /* (U) c_{-1} */
    float *dg;         /* (max_points, 4U) gradient at the gate pre-activations */
    float *gsum;       /* (max_steps, 4U) dg summed over points */
    float *gsum2;      /* (max_steps, 4U) the second sum's (weight2), when asked */
    float *pre_row;    /* (4U) the shared prefix's gates */
    float *pre_c, *pre_h; /* (2, U) each: the shared prefix's c_t and h_t, alternating */
    float *pre_tc;     /* (U) its tanh(c_t) */
    bool no_skip;      /* tests: run the shared prefix once per point, as before the skip */
    tk_packed_b *rec;  /* the recurrent kernel R (U, 4U), packed once per explainer */
    tk_packed_b *rec_t; /* R^T (4U, U), for the backward pass */
};

void tk_ig_lstm_destroy(tk_ig_lstm *l)
{
    if (l == NULL)
        return;
    free(l->p1);
    free(l->p0);
    free(l->gates);
    free(l->cells);
    free(l->tanh_cells);
    free(l->hidden);
    for (int i = 0; i < IG_LSTM_MAX_DENSE; i++)
        free(l->act[i]);
    free(l->dact[0]);
    free(l->dact[1]);
    free(l->dh);
    free(l->dc);
    free(l->zeros);
    free(l->dg);
    free(l->gsum);
    free(l->gsum2);
    free(l->pre_row);
    free(l->pre_c);
    free(l->pre_h);
    free(l->pre_tc);
    tk_packed_b_destroy(l->rec);
    tk_packed_b_destroy(l->rec_t);
    free(l);
}

void tk_ig_lstm_set_prefix_skip(tk_ig_lstm *l, bool skip)
{
    l->no_skip = !skip;
}

tk_status tk_ig_lstm_create(const tk_model *model, int max_steps, int max_points,
                            tk_ig_lstm **out, tk_error *err)
{
    *out = NULL;
    int i = model->first_body_layer;
    if (i >= model->n_layers)
        return TK_OK;
    const tk_layer *lstm = &model->layers[i];
    if (lstm->kind != TK_LAYER_LSTM || lstm->return_sequences || lstm->go_backwards ||
        lstm->activation != TK_ACT_TANH ||
        (lstm->recurrent_activation != TK_ACT_SIGMOID &&
         lstm->recurrent_activation != TK_ACT_HARD_SIGMOID))
        return TK_OK;
    const tk_layer *dense[IG_LSTM_MAX_DENSE];
    int n_dense = 0;
    for (i++; i < model->n_layers; i++) {
        const tk_layer *l = &model->layers[i];
        if (l->kind == TK_LAYER_DROPOUT)
            continue;
        if (l->kind != TK_LAYER_DENSE || n_dense == IG_LSTM_MAX_DENSE)
            return TK_OK;
        dense[n_dense++] = l;
    }
    if (n_dense == 0)
        return TK_OK;
    for (int d = 0; d + 1 < n_dense; d++)
        if (dense[d]->activation != TK_ACT_RELU && dense[d]->activation != TK_ACT_LINEAR)
            return TK_OK;

    tk_ig_lstm *l = tk_calloc(1, sizeof *l, err);
    if (l == NULL)
        return TK_E_NOMEM;
    l->model = model;
    l->lstm = lstm;
    l->n_dense = n_dense;
    memcpy(l->dense, dense, sizeof dense);
    l->max_steps = max_steps;
    l->max_points = max_points;
    l->d = model->input_dim;
    l->u = lstm->units;
    l->group = max_points < IG_LSTM_GROUP ? max_points : IG_LSTM_GROUP;
    size_t T = (size_t)max_steps, N = (size_t)l->group, U = (size_t)l->u;
    int width = l->u;
    l->p1 = tk_malloc(T * 4 * U, sizeof *l->p1, err);
    l->p0 = tk_malloc(T * 4 * U, sizeof *l->p0, err);
    l->gates = tk_malloc(T * N * 4 * U, sizeof *l->gates, err);
    l->cells = tk_malloc(T * N * U, sizeof *l->cells, err);
    l->tanh_cells = tk_malloc(T * N * U, sizeof *l->tanh_cells, err);
    l->hidden = tk_malloc(T * N * U, sizeof *l->hidden, err);
    l->dh = tk_malloc(N * U, sizeof *l->dh, err);
    l->dc = tk_malloc(N * U, sizeof *l->dc, err);
    l->zeros = tk_calloc(U, sizeof *l->zeros, err);
    l->dg = tk_malloc(N * 4 * U, sizeof *l->dg, err);
    l->gsum = tk_malloc(T * 4 * U, sizeof *l->gsum, err);
    l->gsum2 = tk_malloc(T * 4 * U, sizeof *l->gsum2, err);
    l->pre_row = tk_malloc(4 * U, sizeof *l->pre_row, err);
    l->pre_c = tk_malloc(2 * U, sizeof *l->pre_c, err);
    l->pre_h = tk_malloc(2 * U, sizeof *l->pre_h, err);
    l->pre_tc = tk_malloc(U, sizeof *l->pre_tc, err);
    bool ok = l->p1 && l->p0 && l->gates && l->cells && l->tanh_cells && l->hidden && l->dh && l->dc && l->zeros && l->dg &&
              l->gsum && l->gsum2 && l->pre_row && l->pre_c && l->pre_h && l->pre_tc;
    for (int d = 0; ok && d < n_dense; d++) {
        if (dense[d]->units > width)
            width = dense[d]->units;
        l->act[d] = tk_malloc(N * (size_t)dense[d]->units, sizeof *l->act[d], err);
        ok = l->act[d] != NULL;
    }
    if (ok) {
        l->dact[0] = tk_malloc(N * (size_t)width, sizeof *l->dact[0], err);
        l->dact[1] = tk_malloc(N * (size_t)width, sizeof *l->dact[1], err);
        ok = l->dact[0] && l->dact[1];
    }
    if (!ok) {
        tk_ig_lstm_destroy(l);
        return TK_E_NOMEM;
    }
    const float *rec = lstm->lstm[0].recurrent;
    tk_status st = tk_packed_b_create(false, l->u, 4 * l->u, rec, 4 * l->u, &l->rec, err);
    if (st == TK_OK)
        st = tk_packed_b_create(true, 4 * l->u, l->u, rec, 4 * l->u, &l->rec_t, err);
    if (st != TK_OK) {
        tk_ig_lstm_destroy(l);
        return st;
    }
    *out = l;
    return TK_OK;
}

static inline float rec_act(tk_activation a, float v)
{
    return a == TK_ACT_HARD_SIGMOID ? tk_hard_sigmoid_vec(v) : tk_sigmoid_vec(v);
}

/* Derivative of the recurrent activation from its value y. */
static inline float rec_grad(bool hard, float y)
{
    if (hard)
        return (y > 0.0f && y < 1.0f) ? 0.2f : 0.0f;
    return y * (1.0f - y);
}

/* One point, one step forwards. row (4U) holds the gate pre-activations
 * P(alpha)_t + h_{t-1} R; cprev (U) is c_{t-1}. Out: row the activated i, f,
 * g, o (kept for the backward pass), c (U) c_t, tc (U) tanh(c_t), h (U) h_t.
 * Called with a constant `hard` so that each copy is a straight,
 * vectorisable loop. */
TK_ALWAYS_INLINE static inline void forward_row(float *restrict row, const float *restrict cprev,
                                                float *restrict c, float *restrict tc,
                                                float *restrict h, int U, bool hard)
{
    tk_activation a = hard ? TK_ACT_HARD_SIGMOID : TK_ACT_SIGMOID;
    for (int j = 0; j < U; j++) {
        float ig = rec_act(a, row[j]);
        float fg = rec_act(a, row[U + j]);
        float gg = tk_tanh_vec(row[2 * U + j]);
        float og = rec_act(a, row[3 * U + j]);
        row[j] = ig;
        row[U + j] = fg;
        row[2 * U + j] = gg;
        row[3 * U + j] = og;
        c[j] = ig * gg + fg * cprev[j];
        tc[j] = tk_tanh_vec(c[j]);
        h[j] = og * tc[j];
    }
}

/* One point, one step backwards: gates (4U) activated, tc (U) tanh(c_t),
 * cprev (U) c_{t-1}; dh, dc (U) in (dc out as dc_{t-1}); dg (4U) out. */
TK_ALWAYS_INLINE static inline void backward_row(const float *restrict row, const float *restrict tc,
                                const float *restrict cprev, const float *restrict dh,
                                float *restrict dc, float *restrict dg, int U, bool hard)
{
    for (int j = 0; j < U; j++) {
        float ig = row[j], fg = row[U + j], gg = row[2 * U + j], og = row[3 * U + j];
        float dct = dc[j] + dh[j] * og * (1.0f - tc[j] * tc[j]);
        dg[j] = dct * gg * rec_grad(hard, ig);
        dg[U + j] = dct * cprev[j] * rec_grad(hard, fg);
        dg[2 * U + j] = dct * ig * (1.0f - gg * gg);
        dg[3 * U + j] = dh[j] * tc[j] * rec_grad(hard, og);
        dc[j] = dct * fg;
    }
}

/* row (n) = p0 + al dp */
TK_ALWAYS_INLINE static inline void interpolate(const float *restrict p0, const float *restrict dp,
                                                float al, float *restrict row, int n)
{
    for (int j = 0; j < n; j++)
        row[j] = p0[j] + al * dp[j];
}

/* sum (n) += v (n) */
TK_ALWAYS_INLINE static inline void add_row(float *restrict sum, const float *restrict v, int n)
{
    for (int j = 0; j < n; j++)
        sum[j] += v[j];
}

TK_ALWAYS_INLINE static inline void add_scaled_row(float *restrict sum, float r,
                                                   const float *restrict v, int n)
{
    for (int j = 0; j < n; j++)
        sum[j] += r * v[j];
}

/* p (steps, 4U) = x (steps, D) kernel (D, 4U) + bias. */
static void project(const tk_ig_lstm *l, const float *x, int steps, float *p)
{
    int G = 4 * l->u;
    const tk_lstm_weights *w = &l->lstm->lstm[0];
    for (int t = 0; t < steps; t++)
        for (int j = 0; j < G; j++)
            p[(size_t)t * G + j] = w->bias ? w->bias[j] : 0.0f;
    tk_sgemm(false, false, steps, G, l->d, 1.0f, x, l->d, w->kernel, G, 1.0f, p, G);
}

TK_ISA_CLONES
tk_status tk_ig_lstm_gradient(tk_ig_lstm *l, const tk_method_params *params, int target,
                              const float *x, const float *xb, int steps, int n,
                              const double *alpha, const double *weight, const double *weight2,
                              float *grad, float *grad2, tk_error *err)
{
    for (int p = 0; weight2 != NULL && p < n; p++)
        if (weight2[p] != 0.0 && weight[p] == 0.0)
            return tk_error_set(err, TK_E_INTERNAL, "ig_lstm: point %d has a second weight but no first", p);
    if (steps > l->max_steps || n > l->max_points)
        return tk_error_set(err, TK_E_INTERNAL,
                            "ig_lstm: %d steps x %d points exceed the scratch made for %d x %d",
                            steps, n, l->max_steps, l->max_points);
    int U = l->u, G = 4 * U;
    const tk_lstm_weights *w = &l->lstm->lstm[0];
    bool hard = l->lstm->recurrent_activation == TK_ACT_HARD_SIGMOID;
    project(l, x, steps, l->p1);
    project(l, xb, steps, l->p0);
    for (size_t i = 0; i < (size_t)steps * G; i++)
        l->p1[i] -= l->p0[i]; /* p1 becomes the direction P(x) - P(x') */

    /* The shared prefix (file comment): rows 0..lead-1 equal the baseline's
     * bit for bit, so their two projections are equal too (the same GEMM
     * shape, the same row), the direction there is +0 and every point's
     * gates p0 + alpha (+0) are the same bits (alpha >= 0). At most
     * steps - 1 rows, so that every point runs at least its last step. */
    int lead = 0;
    while (!l->no_skip && lead < steps - 1 &&
           memcmp(x + (size_t)lead * l->d, xb + (size_t)lead * l->d, (size_t)l->d * sizeof *x) == 0)
        lead++;
    const float *hp = NULL, *cp = NULL; /* (U) h and c after the prefix */
    for (int t = 0; t < lead; t++) {
        /* The operations a point's own step t would do, on one row: a row
         * of tk_sgemm_packed does not depend on m, so these are its bits. */
        float *hn = l->pre_h + (size_t)(t & 1) * U, *cn = l->pre_c + (size_t)(t & 1) * U;
        interpolate(l->p0 + (size_t)t * G, l->p1 + (size_t)t * G, (float)alpha[0], l->pre_row, G);
        if (t > 0)
            tk_sgemm_packed(1, hp, U, l->rec, 1.0f, l->pre_row, G);
        const float *cprev = t > 0 ? cp : l->zeros;
        if (hard)
            forward_row(l->pre_row, cprev, cn, l->pre_tc, hn, U, true);
        else
            forward_row(l->pre_row, cprev, cn, l->pre_tc, hn, U, false);
        hp = hn;
        cp = cn;
    }
    /* The prefix's rows get no gradient (their attribution is 0). */
    memset(l->gsum, 0, (size_t)lead * G * sizeof *l->gsum);
    if (weight2 != NULL)
        memset(l->gsum2, 0, (size_t)steps * G * sizeof *l->gsum2);

    for (int first = 0; first < n; first += l->group) {
        int ng = n - first < l->group ? n - first : l->group;
        /* Every point starts from the prefix's state, stored as its step lead - 1. */
        for (int p = 0; lead > 0 && p < ng; p++) {
            size_t r = ((size_t)(lead - 1) * ng + p) * U;
            memcpy(l->hidden + r, hp, (size_t)U * sizeof *hp);
            memcpy(l->cells + r, cp, (size_t)U * sizeof *cp);
        }
        /* Forward, the group's points together: gates_t (ng, 4U) = P(alpha)_t + h_{t-1} R. */
        for (int t = lead; t < steps; t++) {
            float *gt = l->gates + (size_t)t * ng * G;
            const float *p0 = l->p0 + (size_t)t * G, *dp = l->p1 + (size_t)t * G;
            for (int p = 0; p < ng; p++)
                interpolate(p0, dp, (float)alpha[first + p], gt + (size_t)p * G, G);
            if (t > 0)
                tk_sgemm_packed(ng, l->hidden + (size_t)(t - 1) * ng * U, U, l->rec, 1.0f, gt, G);
            float *ct = l->cells + (size_t)t * ng * U, *ht = l->hidden + (size_t)t * ng * U;
            float *tct = l->tanh_cells + (size_t)t * ng * U;
            for (int p = 0; p < ng; p++) {
                const float *cprev = t > 0 ? l->cells + ((size_t)(t - 1) * ng + p) * U : l->zeros;
                size_t r = (size_t)p * U;
                if (hard)
                    forward_row(gt + (size_t)p * G, cprev, ct + r, tct + r, ht + r, U, true);
                else
                    forward_row(gt + (size_t)p * G, cprev, ct + r, tct + r, ht + r, U, false);
            }
        }
        /* Dense head on the last state. */
        const float *in = l->hidden + (size_t)(steps - 1) * ng * U;
        int in_w = U;
        for (int d = 0; d < l->n_dense; d++) {
            const tk_layer *ly = l->dense[d];
            float *o = l->act[d];
            for (int p = 0; p < ng; p++)
                for (int j = 0; j < ly->units; j++)
                    o[(size_t)p * ly->units + j] = ly->use_bias ? ly->bias[j] : 0.0f;
            tk_sgemm(false, false, ng, ly->units, in_w, 1.0f, in, in_w, ly->kernel, ly->units, 1.0f, o,
                     ly->units);
            if (d + 1 < l->n_dense && ly->activation == TK_ACT_RELU)
                for (size_t i = 0; i < (size_t)ng * ly->units; i++)
                    o[i] = o[i] < 0.0f ? 0.0f : o[i];
            in = o;
            in_w = ly->units;
        }
        int k = l->model->n_outputs;
        float *g = l->dact[0];
        for (int p = 0; p < ng; p++) {
            tk_explained_scalar(l->model, params->output, target, l->act[l->n_dense - 1] + (size_t)p * k,
                                g + (size_t)p * k);
            for (int q = 0; q < k; q++)
                g[(size_t)p * k + q] = (float)(g[(size_t)p * k + q] * weight[first + p]);
        }
        int which = 0;
        for (int d = l->n_dense - 1; d >= 0; d--) {
            const tk_layer *ly = l->dense[d];
            int w_in = d > 0 ? l->dense[d - 1]->units : U;
            float *gin = l->dact[1 - which];
            tk_sgemm(false, true, ng, w_in, ly->units, 1.0f, l->dact[which], ly->units, ly->kernel,
                     ly->units, 0.0f, gin, w_in);
            if (d > 0 && l->dense[d - 1]->activation == TK_ACT_RELU) {
                const float *a = l->act[d - 1];
                for (size_t i = 0; i < (size_t)ng * w_in; i++)
                    if (a[i] <= 0.0f)
                        gin[i] = 0.0f;
            }
            which = 1 - which;
        }
        memcpy(l->dh, l->dact[which], (size_t)ng * U * sizeof *l->dh);
        memset(l->dc, 0, (size_t)ng * U * sizeof *l->dc);

        /* Backward through time, the group's points together. */
        for (int t = steps - 1; t >= lead; t--) {
            const float *gt = l->gates + (size_t)t * ng * G;
            const float *ct = l->tanh_cells + (size_t)t * ng * U;
            for (int p = 0; p < ng; p++) {
                const float *row = gt + (size_t)p * G;
                const float *cprev = t > 0 ? l->cells + ((size_t)(t - 1) * ng + p) * U : l->zeros;
                float *dh = l->dh + (size_t)p * U, *dc = l->dc + (size_t)p * U;
                float *dg = l->dg + (size_t)p * G;
                if (hard)
                    backward_row(row, ct + (size_t)p * U, cprev, dh, dc, dg, U, true);
                else
                    backward_row(row, ct + (size_t)p * U, cprev, dh, dc, dg, U, false);
            }
            /* The input projection's gradient, summed over all n points in point order. */
            float *gs = l->gsum + (size_t)t * G;
            if (first == 0)
                memcpy(gs, l->dg, (size_t)G * sizeof *gs);
            else
                add_row(gs, l->dg, G);
            for (int p = 1; p < ng; p++)
                add_row(gs, l->dg + (size_t)p * G, G);
            /* The second sum from the same points: their dg carry weight
             * (the seed's), so weight2 / weight rescales them. */
            for (int p = 0; weight2 != NULL && p < ng; p++)
                if (weight2[first + p] != 0.0)
                    add_scaled_row(l->gsum2 + (size_t)t * G,
                                   (float)(weight2[first + p] / weight[first + p]),
                                   l->dg + (size_t)p * G, G);
            if (t > lead) /* dh of the prefix's last step is never used */
                tk_sgemm_packed(ng, l->dg, G, l->rec_t, 0.0f, l->dh, U);
        }
    }
    /* grad (steps, D) = gsum (steps, 4U) kernel^T (4U, D). */
    tk_sgemm(false, true, steps, l->d, G, 1.0f, l->gsum, G, w->kernel, G, 0.0f, grad, l->d);
    if (weight2 != NULL)
        tk_sgemm(false, true, steps, l->d, G, 1.0f, l->gsum2, G, w->kernel, G, 0.0f, grad2, l->d);
    return TK_OK;
}
