/* Rules of BatchNormalization, folded into y = a x + b per channel
 * (tk_batchnorm_affine; README "Methods"). */
#include "attr/rules.h"

/* DeepLIFT: the linear rule, m_x = a m_y (scratch: a, b). */
static bool bn_dl(tk_dl_layer *c)
{
    int C = c->in.channels;
    float *a = c->scratch;
    tk_batchnorm_affine(c->layer, a, a + C);
    size_t rows = (size_t)c->nb * (c->in.steps > 0 ? c->in.steps : 1);
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < C; j++)
            c->mi[r * C + j] = a[j] * c->mo[r * C + j];
    c->nz->valid = false;
    return true;
}

static size_t bn_dl_scratch(const tk_layer *l, tk_shape in, tk_shape out, int nb)
{
    (void)l;
    (void)out;
    (void)nb;
    return 2 * (size_t)in.channels;
}

/* epsilon-LRP on each channel's affine map (one input per unit, N = 1):
 * R(x) = a x q + bias_factor (b + eps s) q, q = R(y) / (a x + b + eps s).
 * With bias_factor 1 the layer passes relevance unchanged. */
static void bn_lrp(tk_lrp_layer *c)
{
    int C = c->in.channels;
    double *a = c->scratch, *b = a + C;
    float *af = (float *)(b + C); /* 2 C floats after the doubles */
    tk_batchnorm_affine(c->layer, af, af + C);
    for (int j = 0; j < C; j++) {
        a[j] = af[j];
        b[j] = af[C + j];
    }
    size_t rows = (size_t)(c->in.steps > 0 ? c->in.steps : 1);
    double out_sum = 0, in_sum = 0;
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < C; j++) {
            double x = c->a[r * C + j], z = a[j] * x + b[j];
            double q = tk_lrp_share_q(c->ro[r * C + j], z, c->eps);
            c->ri[r * C + j] = a[j] * x * q + tk_lrp_bias_share(c, b[j], z, q, 1);
            out_sum += c->ro[r * C + j];
            in_sum += c->ri[r * C + j];
        }
    *c->absorbed += out_sum - in_sum;
}

/* a, b in double (2 C) and the float fold (2 C floats = C doubles). */
static size_t bn_lrp_scratch(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)l;
    (void)out;
    return 3 * (size_t)in.channels;
}

static double bn_macs(const tk_layer *l, tk_shape in, tk_shape out, const tk_backward_cost *cost)
{
    (void)l;
    (void)out;
    (void)cost;
    return (double)(in.steps > 0 ? in.steps : 1) * in.channels;
}

const tk_attr_rules tk_rules_batch_norm = {
    .dl_backward = bn_dl,
    .dl_scratch = bn_dl_scratch,
    .lrp_backward = bn_lrp,
    .lrp_scratch = bn_lrp_scratch,
    .backward_macs = bn_macs,
};
