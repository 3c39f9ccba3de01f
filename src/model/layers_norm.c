/* BatchNormalization at inference (axis -1): y = gamma (x - mean) /
 * sqrt(var + epsilon) + beta per channel, folded into y = a x + b with
 * a = gamma / sqrt(var + epsilon), b = beta - mean a (gamma = 1 without
 * scale, beta = 0 without center). The moving statistics are Keras'
 * non-trainable weights: training leaves them (and their gradients) alone
 * and uses the same affine map (no batch statistics). */
#include <math.h>
#include <string.h>

#include "model/layer_ops.h"

void tk_batchnorm_affine(const tk_layer *l, float *scale, float *shift)
{
    for (int c = 0; c < l->input_dim; c++) {
        double inv = 1.0 / sqrt((double)l->bn_var[c] + (double)l->bn_epsilon);
        double a = (l->bn_gamma != NULL ? l->bn_gamma[c] : 1.0) * inv;
        scale[c] = (float)a;
        shift[c] = (float)((l->bn_beta != NULL ? l->bn_beta[c] : 0.0) - (double)l->bn_mean[c] * a);
    }
}

static tk_status bn_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    if (in.channels != l->input_dim)
        return tk_error_set(err, TK_E_INVALID, "layer '%s' (%s) has statistics for %d channels but gets %d",
                            l->name, l->class_name, l->input_dim, in.channels);
    int last_axis = in.steps > 0 ? 2 : 1; /* counted with the batch axis, as Keras */
    if (l->bn_axis != -1 && l->bn_axis != 0 && l->bn_axis != last_axis)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "layer '%s' (%s): axis %d is not supported (supported: the channel "
                            "axis, -1 or %d here)", l->name, l->class_name, l->bn_axis, last_axis);
    *out = in;
    return TK_OK;
}

static size_t bn_zero(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)l;
    (void)batch;
    (void)in;
    (void)out;
    return 0;
}

/* scratch: a, b (channels each) */
static size_t bn_scratch(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)batch;
    (void)in;
    (void)out;
    return 2 * (size_t)l->input_dim;
}

static size_t rows_of(int batch, tk_shape s)
{
    return (size_t)batch * (size_t)(s.steps > 0 ? s.steps : 1);
}

static void bn_forward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    int C = l->input_dim;
    float *a = c->scratch, *b = a + C;
    tk_batchnorm_affine(l, a, b);
    size_t rows = rows_of(c->batch, c->in);
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < C; j++)
            c->y[r * C + j] = a[j] * c->x[r * C + j] + b[j];
}

static void bn_backward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    int C = l->input_dim;
    float *a = c->scratch, *b = a + C;
    tk_batchnorm_affine(l, a, b);
    size_t rows = rows_of(c->batch, c->in);
    if (c->dx != NULL)
        for (size_t r = 0; r < rows; r++)
            for (int j = 0; j < C; j++)
                c->dx[r * C + j] = a[j] * c->dy[r * C + j];
    float *dg = tk_grad_of(c, l->bn_gamma), *dbeta = tk_grad_of(c, l->bn_beta);
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < C; j++) {
            float g = c->dy[r * C + j];
            if (dbeta != NULL)
                dbeta[j] += g;
            if (dg != NULL) /* y = gamma xhat + beta */
                dg[j] += g * (c->x[r * C + j] - l->bn_mean[j]) /
                         sqrtf(l->bn_var[j] + l->bn_epsilon);
        }
}

static int bn_weights(tk_layer *l, tk_weight_spec *s)
{
    int n = 0, C = l->input_dim;
    if (l->bn_scale)
        s[n++] = (tk_weight_spec){"gamma", -1, 1, {C, 0, 0}, &l->bn_gamma};
    if (l->bn_center)
        s[n++] = (tk_weight_spec){"beta", -1, 1, {C, 0, 0}, &l->bn_beta};
    s[n++] = (tk_weight_spec){"moving_mean", -1, 1, {C, 0, 0}, &l->bn_mean};
    s[n++] = (tk_weight_spec){"moving_variance", -1, 1, {C, 0, 0}, &l->bn_var};
    return n;
}

static bool bn_sizes_ok(const tk_layer *l)
{
    (void)l;
    return true;
}

/* tk_model_build's BatchNormalization: Keras' defaults. */
static void bn_build_defaults(tk_layer *l)
{
    l->bn_center = l->bn_scale = true;
    l->bn_epsilon = 1e-3f;
    l->bn_axis = -1;
}

/* Keras' initialisers: gamma 1, beta 0, moving mean 0, moving variance 1. */
static tk_status bn_init(tk_layer *l, uint64_t *rng, tk_error *err)
{
    (void)rng;
    (void)err;
    for (int c = 0; c < l->input_dim; c++) {
        if (l->bn_gamma)
            l->bn_gamma[c] = 1.0f;
        if (l->bn_beta)
            l->bn_beta[c] = 0.0f;
        l->bn_mean[c] = 0.0f;
        l->bn_var[c] = 1.0f;
    }
    return TK_OK;
}

static double bn_flops(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)l;
    (void)out;
    return 2.0 * (in.steps > 0 ? in.steps : 1) * in.channels;
}

const tk_layer_ops tk_ops_batch_norm = {
    .shape = bn_shape, .state_floats = bn_zero, .state_ints = bn_zero,
    .scratch_floats = bn_scratch, .forward = bn_forward, .backward = bn_backward,
    .weights = bn_weights, .class_name = "BatchNormalization",
    .base_name = "batch_normalization", .sizes_ok = bn_sizes_ok,
    .build_defaults = bn_build_defaults, .init = bn_init, .flops = bn_flops,
};
