/* Layers without recurrence: Embedding (weights only: the lookup is
 * tk_model_embed), Conv1D, pooling, Flatten, Dense, Activation, Dropout.
 * Every matrix product goes through tk_sgemm. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/gemm.h"
#include "core/rng.h"
#include "model/init.h"
#include "model/layer_ops.h"
#include "model/window.h"

size_t tk_layer_size(int batch, tk_shape s)
{
    return (size_t)batch * (size_t)(s.steps > 0 ? s.steps : 1) * (size_t)s.channels;
}

static size_t rows_of(int batch, tk_shape s)
{
    return (size_t)batch * (size_t)(s.steps > 0 ? s.steps : 1);
}

float *tk_grad_of(const tk_layer_ctx *c, const float *weight)
{
    if (c->d_params == NULL || weight == NULL)
        return NULL;
    return c->d_params + (weight - c->params);
}

/* y (rows, n) before the activation, when the workspace keeps it. */
static void keep_pre(const tk_layer_ctx *c, size_t rows, int n)
{
    if (c->pre != NULL && !c->last && c->layer->activation != TK_ACT_LINEAR)
        memcpy(c->pre, c->y, rows * (size_t)n * sizeof *c->pre);
}

/* Adds the column sums of m (rows, n) to acc (n). */
static void add_colsum(float *acc, const float *m, size_t rows, int n)
{
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < n; j++)
            acc[j] += m[r * (size_t)n + j];
}

static size_t zero_size(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)l;
    (void)batch;
    (void)in;
    (void)out;
    return 0;
}

static int no_weights(tk_layer *l, tk_weight_spec *specs)
{
    (void)l;
    (void)specs;
    return 0;
}

static tk_status need_sequence(const tk_layer *l, tk_shape in, tk_error *err)
{
    if (in.steps <= 0)
        return tk_error_set(err, TK_E_INVALID,
                            "layer '%s' (%s) needs a sequence input (steps, channels) but gets a "
                            "vector of %d", l->name, l->class_name, in.channels);
    return TK_OK;
}

/* ---- Embedding: weights only ---- */

static tk_status embedding_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    (void)l;
    (void)err;
    *out = (tk_shape){in.steps, l->output_dim};
    return TK_OK;
}

static int embedding_weights(tk_layer *l, tk_weight_spec *s)
{
    s[0] = (tk_weight_spec){"embeddings", -1, 2, {l->input_dim, l->output_dim, 0}, &l->embeddings};
    return 1;
}

/* ---- Dense: y = act(x W + b) on the last axis ---- */

static tk_status dense_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    if (in.channels != l->input_dim)
        return tk_error_set(err, TK_E_INVALID,
                            "layer '%s' (Dense) has a kernel for %d inputs but gets %d channels",
                            l->name, l->input_dim, in.channels);
    *out = (tk_shape){in.steps, l->units};
    return TK_OK;
}

static size_t dense_scratch(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)l;
    return rows_of(batch, in) * (size_t)out.channels;
}

static void dense_forward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    size_t rows = rows_of(c->batch, c->in);
    int n = l->units, k = l->input_dim;
    float beta = 0.0f;
    if (l->bias != NULL) {
        for (size_t r = 0; r < rows; r++)
            memcpy(c->y + r * (size_t)n, l->bias, (size_t)n * sizeof *c->y);
        beta = 1.0f;
    }
    tk_sgemm(false, false, (int)rows, n, k, 1.0f, c->x, k, l->kernel, n, beta, c->y, n);
    keep_pre(c, rows, n);
    if (!c->last)
        tk_act_forward(l->activation, c->y, rows, n);
}

static void dense_backward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    size_t rows = rows_of(c->batch, c->in);
    int n = l->units, k = l->input_dim;
    float *dz = c->scratch; /* (rows, units) */
    tk_act_backward(c->last ? TK_ACT_LINEAR : l->activation, c->y, c->dy, dz, rows, n);
    if (c->dx != NULL)
        tk_sgemm(false, true, (int)rows, k, n, 1.0f, dz, n, l->kernel, n, 0.0f, c->dx, k);
    float *dw = tk_grad_of(c, l->kernel), *db = tk_grad_of(c, l->bias);
    if (dw != NULL)
        tk_sgemm(true, false, k, n, (int)rows, 1.0f, c->x, k, dz, n, 1.0f, dw, n);
    if (db != NULL)
        add_colsum(db, dz, rows, n);
}

static int dense_weights(tk_layer *l, tk_weight_spec *s)
{
    s[0] = (tk_weight_spec){"kernel", -1, 2, {l->input_dim, l->units, 0}, &l->kernel};
    if (!l->use_bias)
        return 1;
    s[1] = (tk_weight_spec){"bias", -1, 1, {l->units, 0, 0}, &l->bias};
    return 2;
}

/* ---- Conv1D as im2col + one GEMM ---- */

static tk_status conv_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    tk_status st = need_sequence(l, in, err);
    if (st != TK_OK)
        return st;
    if (in.channels != l->input_dim)
        return tk_error_set(err, TK_E_INVALID,
                            "layer '%s' (Conv1D) has a kernel for %d channels but gets %d",
                            l->name, l->input_dim, in.channels);
    tk_window w = tk_window_conv(l);
    int span = tk_window_span(w), t = tk_window_out(w, in.steps);
    if (t <= 0)
        return tk_error_set(err, TK_E_INVALID,
                            "layer '%s' (Conv1D) needs at least %d steps but gets %d", l->name,
                            span, in.steps);
    *out = (tk_shape){t, l->filters};
    return TK_OK;
}

static size_t conv_scratch(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)in;
    size_t rows = rows_of(batch, out);
    return rows * (size_t)l->kernel_size * (size_t)l->input_dim + rows * (size_t)l->filters;
}

/* col (batch * T_out, kernel_size * C): row (b, t) holds the taps of output t. */
static void im2col(const tk_layer_ctx *c, float *col)
{
    const tk_layer *l = c->layer;
    int T = c->in.steps, C = c->in.channels, To = c->out.steps, K = l->kernel_size;
    tk_window w = tk_window_conv(l);
    for (int b = 0; b < c->batch; b++)
        for (int t = 0; t < To; t++) {
            float *row = col + ((size_t)b * To + t) * (size_t)K * C;
            for (int j = 0; j < K; j++) {
                int src = tk_window_pos(w, T, t, j);
                if (src < 0 || src >= T)
                    memset(row + (size_t)j * C, 0, (size_t)C * sizeof *row);
                else
                    memcpy(row + (size_t)j * C, c->x + ((size_t)b * T + src) * C,
                           (size_t)C * sizeof *row);
            }
        }
}

static void conv_forward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    size_t rows = rows_of(c->batch, c->out);
    int kc = l->kernel_size * l->input_dim, n = l->filters;
    float *col = c->scratch; /* (rows, kc) */
    im2col(c, col);
    float beta = 0.0f;
    if (l->bias != NULL) {
        for (size_t r = 0; r < rows; r++)
            memcpy(c->y + r * (size_t)n, l->bias, (size_t)n * sizeof *c->y);
        beta = 1.0f;
    }
    tk_sgemm(false, false, (int)rows, n, kc, 1.0f, col, kc, l->kernel, n, beta, c->y, n);
    keep_pre(c, rows, n);
    if (!c->last)
        tk_act_forward(l->activation, c->y, rows, n);
}

static void conv_backward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    size_t rows = rows_of(c->batch, c->out);
    int kc = l->kernel_size * l->input_dim, n = l->filters;
    float *col = c->scratch;             /* (rows, kc) */
    float *dz = c->scratch + rows * kc;  /* (rows, filters) */
    tk_act_backward(c->last ? TK_ACT_LINEAR : l->activation, c->y, c->dy, dz, rows, n);
    float *dw = tk_grad_of(c, l->kernel), *db = tk_grad_of(c, l->bias);
    if (dw != NULL) {
        im2col(c, col);
        tk_sgemm(true, false, kc, n, (int)rows, 1.0f, col, kc, dz, n, 1.0f, dw, n);
    }
    if (db != NULL)
        add_colsum(db, dz, rows, n);
    if (c->dx == NULL)
        return;
    int T = c->in.steps, C = c->in.channels, To = c->out.steps, K = l->kernel_size;
    /* dcol = dz W^T, then scattered back onto the taps' input positions.
     * Behind a max pooling most of dz is zero (GlobalMaxPooling1D passes one
     * position per filter), so a sample whose dz is sparse takes its
     * nonzeros one by one: nnz * kc work instead of T_out * filters * kc.
     * The choice is made per sample, never for the batch as a whole, so a
     * sample's gradient does not depend on the reviews beside it. */
    size_t per = (size_t)To * n;
    for (int b = 0; b < c->batch; b++) {
        const float *dzb = dz + (size_t)b * per;
        float *colb = col + (size_t)b * To * kc;
        size_t nnz = 0;
        for (size_t i = 0; i < per; i++)
            nnz += dzb[i] != 0.0f;
        if (nnz * 8 >= per) {
            tk_sgemm(false, true, To, kc, n, 1.0f, dzb, n, l->kernel, n, 0.0f, colb, kc);
            continue;
        }
        memset(colb, 0, (size_t)To * kc * sizeof *colb);
        for (int t = 0; t < To; t++)
            for (int f = 0; f < n; f++) {
                float v = dzb[(size_t)t * n + f];
                if (v == 0.0f)
                    continue;
                float *row = colb + (size_t)t * kc;
                const float *wf = l->kernel + f;
                for (int j = 0; j < kc; j++)
                    row[j] += v * wf[(size_t)j * n];
            }
    }
    tk_window w = tk_window_conv(l);
    memset(c->dx, 0, tk_layer_size(c->batch, c->in) * sizeof *c->dx);
    for (int b = 0; b < c->batch; b++)
        for (int t = 0; t < To; t++) {
            const float *row = col + ((size_t)b * To + t) * (size_t)kc;
            for (int j = 0; j < K; j++) {
                int src = tk_window_pos(w, T, t, j);
                if (src < 0 || src >= T)
                    continue;
                float *d = c->dx + ((size_t)b * T + src) * C;
                for (int ch = 0; ch < C; ch++)
                    d[ch] += row[(size_t)j * C + ch];
            }
        }
}

static int conv_weights(tk_layer *l, tk_weight_spec *s)
{
    s[0] = (tk_weight_spec){"kernel", -1, 3, {l->kernel_size, l->input_dim, l->filters}, &l->kernel};
    if (!l->use_bias)
        return 1;
    s[1] = (tk_weight_spec){"bias", -1, 1, {l->filters, 0, 0}, &l->bias};
    return 2;
}

/* ---- MaxPooling1D / AveragePooling1D ---- */

static tk_status pool_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    tk_status st = need_sequence(l, in, err);
    if (st != TK_OK)
        return st;
    int t = tk_window_out(tk_window_pool(l), in.steps);
    if (t <= 0)
        return tk_error_set(err, TK_E_INVALID, "layer '%s' (%s) needs at least %d steps but gets %d",
                            l->name, l->class_name, l->pool_size, in.steps);
    *out = (tk_shape){t, in.channels};
    return TK_OK;
}

static size_t pool_ints(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)in;
    return l->kind == TK_LAYER_MAX_POOL1D ? tk_layer_size(batch, out) : 0;
}

/* Window of output t over the input, clipped to the valid positions. */
static void pool_window(const tk_layer_ctx *c, int t, int *lo, int *hi)
{
    tk_window_range(tk_window_pool(c->layer), c->in.steps, t, lo, hi);
}

static void pool_forward(const tk_layer_ctx *c)
{
    int T = c->in.steps, C = c->in.channels, To = c->out.steps;
    bool is_max = c->layer->kind == TK_LAYER_MAX_POOL1D;
    for (int b = 0; b < c->batch; b++)
        for (int t = 0; t < To; t++) {
            int lo, hi;
            pool_window(c, t, &lo, &hi);
            float *y = c->y + ((size_t)b * To + t) * C;
            for (int ch = 0; ch < C; ch++) {
                /* Padding is excluded (TensorFlow): max over, and average over the count of,
                 * the valid positions only. */
                float best = -FLT_MAX, sum = 0.0f;
                int arg = lo;
                for (int s = lo; s < hi; s++) {
                    float v = c->x[((size_t)b * T + s) * C + ch];
                    sum += v;
                    if (v > best) {
                        best = v;
                        arg = s;
                    }
                }
                if (is_max) {
                    y[ch] = best;
                    c->istate[((size_t)b * To + t) * C + ch] = arg;
                } else {
                    y[ch] = sum / (float)(hi - lo);
                }
            }
        }
}

static void pool_backward(const tk_layer_ctx *c)
{
    if (c->dx == NULL)
        return;
    int T = c->in.steps, C = c->in.channels, To = c->out.steps;
    bool is_max = c->layer->kind == TK_LAYER_MAX_POOL1D;
    memset(c->dx, 0, tk_layer_size(c->batch, c->in) * sizeof *c->dx);
    for (int b = 0; b < c->batch; b++)
        for (int t = 0; t < To; t++) {
            int lo, hi;
            pool_window(c, t, &lo, &hi);
            const float *dy = c->dy + ((size_t)b * To + t) * C;
            for (int ch = 0; ch < C; ch++) {
                if (is_max) {
                    int s = c->istate[((size_t)b * To + t) * C + ch];
                    c->dx[((size_t)b * T + s) * C + ch] += dy[ch];
                } else {
                    float g = dy[ch] / (float)(hi - lo);
                    for (int s = lo; s < hi; s++)
                        c->dx[((size_t)b * T + s) * C + ch] += g;
                }
            }
        }
}

/* ---- GlobalMaxPooling1D / GlobalAveragePooling1D ---- */

static tk_status global_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    tk_status st = need_sequence(l, in, err);
    if (st != TK_OK)
        return st;
    *out = (tk_shape){0, in.channels};
    return TK_OK;
}

static size_t global_ints(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)in;
    return l->kind == TK_LAYER_GLOBAL_MAX_POOL1D ? tk_layer_size(batch, out) : 0;
}

static void global_forward(const tk_layer_ctx *c)
{
    int T = c->in.steps, C = c->in.channels;
    bool is_max = c->layer->kind == TK_LAYER_GLOBAL_MAX_POOL1D;
    /* Steps outer, channels inner: contiguous rows, vectorisable. */
    for (int b = 0; b < c->batch; b++) {
        const float *x = c->x + (size_t)b * T * C;
        float *y = c->y + (size_t)b * C;
        int32_t *arg = is_max ? c->istate + (size_t)b * C : NULL;
        memcpy(y, x, (size_t)C * sizeof *y);
        if (is_max)
            memset(arg, 0, (size_t)C * sizeof *arg);
        for (int s = 1; s < T; s++) {
            const float *row = x + (size_t)s * C;
            if (is_max) {
                for (int ch = 0; ch < C; ch++)
                    if (row[ch] > y[ch]) { /* first maximum wins, like tf.reduce_max's gradient */
                        y[ch] = row[ch];
                        arg[ch] = s;
                    }
            } else {
                for (int ch = 0; ch < C; ch++)
                    y[ch] += row[ch];
            }
        }
        if (!is_max)
            for (int ch = 0; ch < C; ch++)
                y[ch] /= (float)T;
    }
}

static void global_backward(const tk_layer_ctx *c)
{
    if (c->dx == NULL)
        return;
    int T = c->in.steps, C = c->in.channels;
    bool is_max = c->layer->kind == TK_LAYER_GLOBAL_MAX_POOL1D;
    memset(c->dx, 0, tk_layer_size(c->batch, c->in) * sizeof *c->dx);
    for (int b = 0; b < c->batch; b++)
        for (int ch = 0; ch < C; ch++) {
            float g = c->dy[(size_t)b * C + ch];
            float *dx = c->dx + (size_t)b * T * C + ch;
            if (is_max)
                dx[(size_t)c->istate[(size_t)b * C + ch] * C] = g;
            else
                for (int s = 0; s < T; s++)
                    dx[(size_t)s * C] = g / (float)T;
        }
}

/* ---- Flatten, Activation, Dropout: elementwise ---- */

static tk_status flatten_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    (void)l;
    (void)err;
    *out = (tk_shape){0, (in.steps > 0 ? in.steps : 1) * in.channels};
    return TK_OK;
}

static tk_status same_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    (void)l;
    (void)err;
    *out = in;
    return TK_OK;
}

static void copy_forward(const tk_layer_ctx *c)
{
    memcpy(c->y, c->x, tk_layer_size(c->batch, c->in) * sizeof *c->y);
}

static void copy_backward(const tk_layer_ctx *c)
{
    if (c->dx != NULL)
        memcpy(c->dx, c->dy, tk_layer_size(c->batch, c->in) * sizeof *c->dx);
}

static void activation_forward(const tk_layer_ctx *c)
{
    copy_forward(c);
    keep_pre(c, rows_of(c->batch, c->out), c->out.channels);
    if (!c->last)
        tk_act_forward(c->layer->activation, c->y, rows_of(c->batch, c->out), c->out.channels);
}

static void activation_backward(const tk_layer_ctx *c)
{
    if (c->dx != NULL)
        tk_act_backward(c->last ? TK_ACT_LINEAR : c->layer->activation, c->y, c->dy, c->dx,
                        rows_of(c->batch, c->out), c->out.channels);
}

/* Training masks: 0 or 1 / (1 - rate) (inverted dropout, as Keras). Spatial
 * dropout keeps one value per (sample, channel) for every step. */
static size_t dropout_state(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)out;
    return l->dropout_spatial ? (size_t)batch * (size_t)in.channels : tk_layer_size(batch, in);
}

static float mask_value(const tk_layer_ctx *c, size_t b, size_t i, size_t per_sample)
{
    const tk_layer *l = c->layer;
    if (l->dropout_spatial)
        return c->state[b * (size_t)c->in.channels + i % (size_t)c->in.channels];
    return c->state[b * per_sample + i];
}

static void dropout_forward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    if (!c->training || l->dropout_rate <= 0.0f) {
        copy_forward(c);
        return;
    }
    size_t n_mask = dropout_state(l, c->batch, c->in, c->out);
    float keep = 1.0f / (1.0f - l->dropout_rate);
    for (size_t i = 0; i < n_mask; i++)
        c->state[i] = tk_rng_uniform(c->rng) >= l->dropout_rate ? keep : 0.0f;
    size_t per = tk_layer_size(1, c->in);
    for (size_t b = 0; b < (size_t)c->batch; b++)
        for (size_t i = 0; i < per; i++)
            c->y[b * per + i] = c->x[b * per + i] * mask_value(c, b, i, per);
}

static void dropout_backward(const tk_layer_ctx *c)
{
    if (c->dx == NULL)
        return;
    if (!c->training || c->layer->dropout_rate <= 0.0f) {
        copy_backward(c);
        return;
    }
    size_t per = tk_layer_size(1, c->in);
    for (size_t b = 0; b < (size_t)c->batch; b++)
        for (size_t i = 0; i < per; i++)
            c->dx[b * per + i] = c->dy[b * per + i] * mask_value(c, b, i, per);
}

static tk_status input_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    return same_shape(l, in, out, err);
}

/* ---- per-kind facts: sizes, initialisers, FLOPs ---- */

static bool embedding_sizes_ok(const tk_layer *l)
{
    return l->input_dim > 0 && l->output_dim > 0;
}

static bool dense_sizes_ok(const tk_layer *l)
{
    return l->units > 0;
}

static bool conv_sizes_ok(const tk_layer *l)
{
    return l->filters > 0 && l->kernel_size > 0;
}

static bool pool_sizes_ok(const tk_layer *l)
{
    return l->pool_size > 0;
}

static bool always_ok(const tk_layer *l)
{
    (void)l;
    return true;
}

static bool dropout_sizes_ok(const tk_layer *l)
{
    return l->dropout_rate >= 0.0f && l->dropout_rate < 1.0f;
}

static tk_status embedding_init(tk_layer *l, uint64_t *rng, tk_error *err)
{
    (void)err;
    tk_init_uniform(l->embeddings, (size_t)l->input_dim * l->output_dim, 0.05f, rng);
    return TK_OK;
}

static tk_status dense_init(tk_layer *l, uint64_t *rng, tk_error *err)
{
    (void)err;
    tk_init_glorot_uniform(l->kernel, (size_t)l->in.channels * l->units, l->in.channels, l->units,
                           rng);
    if (l->bias)
        memset(l->bias, 0, sizeof(float) * (size_t)l->units);
    return TK_OK;
}

static tk_status conv_init(tk_layer *l, uint64_t *rng, tk_error *err)
{
    (void)err;
    tk_init_glorot_uniform(l->kernel, (size_t)l->kernel_size * l->in.channels * l->filters,
                           (double)l->kernel_size * l->in.channels,
                           (double)l->kernel_size * l->filters, rng);
    if (l->bias)
        memset(l->bias, 0, sizeof(float) * (size_t)l->filters);
    return TK_OK;
}

static double dense_flops(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)out;
    return 2.0 * (in.steps > 0 ? in.steps : 1) * in.channels * l->units;
}

static double conv_flops(const tk_layer *l, tk_shape in, tk_shape out)
{
    return 2.0 * out.steps * l->kernel_size * in.channels * l->filters;
}

static const float *dense_kernel(const tk_layer *l, size_t *count)
{
    *count = (size_t)l->in.channels * l->units;
    return l->kernel;
}

static const float *conv_kernel(const tk_layer *l, size_t *count)
{
    *count = (size_t)l->kernel_size * l->in.channels * l->filters;
    return l->kernel;
}

/* Dense, Conv1D and Activation keep act's input when asked (not for the
 * last layer: its output is the logits, the pre-activation already). */
static size_t act_pre_floats(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)in;
    return l->activation == TK_ACT_LINEAR ? 0 : tk_layer_size(batch, out);
}

static const tk_layer_ops OPS_INPUT = {
    .shape = input_shape, .state_floats = zero_size, .state_ints = zero_size,
    .scratch_floats = zero_size, .forward = copy_forward, .backward = copy_backward,
    .weights = no_weights, .class_name = "InputLayer", .base_name = "input",
};
static const tk_layer_ops OPS_EMBEDDING = {
    .shape = embedding_shape, .state_floats = zero_size, .state_ints = zero_size,
    .scratch_floats = zero_size, .forward = copy_forward, .backward = copy_backward,
    .weights = embedding_weights, .class_name = "Embedding", .base_name = "embedding",
    .sizes_ok = embedding_sizes_ok, .init = embedding_init,
};
static const tk_layer_ops OPS_CONV = {
    .shape = conv_shape, .state_floats = zero_size, .state_ints = zero_size,
    .scratch_floats = conv_scratch, .forward = conv_forward, .backward = conv_backward,
    .weights = conv_weights, .class_name = "Conv1D", .base_name = "conv1d",
    .sizes_ok = conv_sizes_ok, .init = conv_init, .flops = conv_flops, .kernel = conv_kernel,
    .pre_floats = act_pre_floats,
};
static const tk_layer_ops OPS_MAX_POOL = {
    .shape = pool_shape, .state_floats = zero_size, .state_ints = pool_ints,
    .scratch_floats = zero_size, .forward = pool_forward, .backward = pool_backward,
    .weights = no_weights, .class_name = "MaxPooling1D", .base_name = "max_pooling1d",
    .sizes_ok = pool_sizes_ok,
};
static const tk_layer_ops OPS_AVG_POOL = {
    .shape = pool_shape, .state_floats = zero_size, .state_ints = pool_ints,
    .scratch_floats = zero_size, .forward = pool_forward, .backward = pool_backward,
    .weights = no_weights, .class_name = "AveragePooling1D", .base_name = "average_pooling1d",
    .sizes_ok = pool_sizes_ok,
};
static const tk_layer_ops OPS_GLOBAL_MAX = {
    .shape = global_shape, .state_floats = zero_size, .state_ints = global_ints,
    .scratch_floats = zero_size, .forward = global_forward, .backward = global_backward,
    .weights = no_weights, .class_name = "GlobalMaxPooling1D",
    .base_name = "global_max_pooling1d", .sizes_ok = always_ok,
};
static const tk_layer_ops OPS_GLOBAL_AVG = {
    .shape = global_shape, .state_floats = zero_size, .state_ints = global_ints,
    .scratch_floats = zero_size, .forward = global_forward, .backward = global_backward,
    .weights = no_weights, .class_name = "GlobalAveragePooling1D",
    .base_name = "global_average_pooling1d", .sizes_ok = always_ok,
};
static const tk_layer_ops OPS_FLATTEN = {
    .shape = flatten_shape, .state_floats = zero_size, .state_ints = zero_size,
    .scratch_floats = zero_size, .forward = copy_forward, .backward = copy_backward,
    .weights = no_weights, .class_name = "Flatten", .base_name = "flatten",
    .sizes_ok = always_ok,
};
static const tk_layer_ops OPS_DENSE = {
    .shape = dense_shape, .state_floats = zero_size, .state_ints = zero_size,
    .scratch_floats = dense_scratch, .forward = dense_forward, .backward = dense_backward,
    .weights = dense_weights, .class_name = "Dense", .base_name = "dense",
    .sizes_ok = dense_sizes_ok, .init = dense_init, .flops = dense_flops,
    .kernel = dense_kernel, .pre_floats = act_pre_floats,
};
static const tk_layer_ops OPS_ACTIVATION = {
    .shape = same_shape, .state_floats = zero_size, .state_ints = zero_size,
    .scratch_floats = zero_size, .forward = activation_forward,
    .backward = activation_backward, .weights = no_weights, .class_name = "Activation",
    .base_name = "activation", .sizes_ok = always_ok, .pre_floats = act_pre_floats,
};
static const tk_layer_ops OPS_DROPOUT = {
    .shape = same_shape, .state_floats = dropout_state, .state_ints = zero_size,
    .scratch_floats = zero_size, .forward = dropout_forward, .backward = dropout_backward,
    .weights = no_weights, .identity_at_inference = true, .class_name = "Dropout",
    .base_name = "dropout", .sizes_ok = dropout_sizes_ok,
};

const tk_layer_ops *tk_layer_ops_of(tk_layer_kind kind)
{
    static const tk_layer_ops *const TABLE[TK_LAYER_KIND_COUNT] = {
        [TK_LAYER_INPUT] = &OPS_INPUT,
        [TK_LAYER_EMBEDDING] = &OPS_EMBEDDING,
        [TK_LAYER_CONV1D] = &OPS_CONV,
        [TK_LAYER_MAX_POOL1D] = &OPS_MAX_POOL,
        [TK_LAYER_AVG_POOL1D] = &OPS_AVG_POOL,
        [TK_LAYER_GLOBAL_MAX_POOL1D] = &OPS_GLOBAL_MAX,
        [TK_LAYER_GLOBAL_AVG_POOL1D] = &OPS_GLOBAL_AVG,
        [TK_LAYER_FLATTEN] = &OPS_FLATTEN,
        [TK_LAYER_DENSE] = &OPS_DENSE,
        [TK_LAYER_ACTIVATION] = &OPS_ACTIVATION,
        [TK_LAYER_DROPOUT] = &OPS_DROPOUT,
        [TK_LAYER_LSTM] = &tk_ops_lstm,
        [TK_LAYER_BIDIRECTIONAL] = &tk_ops_bidirectional,
        [TK_LAYER_SIMPLE_RNN] = &tk_ops_simple_rnn,
        [TK_LAYER_GRU] = &tk_ops_gru,
        [TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN] = &tk_ops_bidirectional_simple_rnn,
        [TK_LAYER_BIDIRECTIONAL_GRU] = &tk_ops_bidirectional_gru,
        [TK_LAYER_BATCH_NORM] = &tk_ops_batch_norm,
    };
    if ((int)kind < 0 || kind >= TK_LAYER_KIND_COUNT)
        return NULL;
    return TABLE[kind];
}
