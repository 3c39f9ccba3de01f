/* Rules of Dense (on the last axis: one GEMM over every row). */
#include "attr/rules.h"
#include "core/gemm.h"

/* DeepLIFT: the linear rule, m_in = m_out W^T for every reference row. */
static bool dense_dl(tk_dl_layer *c)
{
    const tk_layer *l = c->layer;
    int rows = c->nb * (c->in.steps > 0 ? c->in.steps : 1);
    tk_sgemm(false, true, rows, c->in.channels, l->units, 1.0f, c->mo, l->units, l->kernel,
             l->units, 0.0f, c->mi, c->in.channels);
    c->nz->valid = false;
    return true;
}

/* epsilon-LRP on each row: R_in (rows, in), R_out (rows, units); z is
 * recomputed in double from the stored float input. */
static void dense_lrp(tk_lrp_layer *c)
{
    const tk_layer *l = c->layer;
    int u = l->units, in_ch = c->in.channels, rows = c->in.steps > 0 ? c->in.steps : 1;
    for (int r = 0; r < rows; r++) {
        const float *ar = c->a + (size_t)r * in_ch;
        double *q = c->scratch, share = 0, out_sum = 0;
        for (int j = 0; j < u; j++) {
            double z = l->use_bias && l->bias ? l->bias[j] : 0.0;
            for (int i = 0; i < in_ch; i++)
                z += (double)ar[i] * l->kernel[(size_t)i * u + j];
            double rj = c->ro[(size_t)r * u + j];
            q[j] = tk_lrp_share_q(rj, z, c->eps);
            share += tk_lrp_bias_share(c, l->use_bias && l->bias ? l->bias[j] : 0.0, z, q[j], in_ch);
            out_sum += rj;
        }
        double in_sum = 0;
        for (int i = 0; i < in_ch; i++) {
            const float *w = l->kernel + (size_t)i * u;
            double acc = 0;
            for (int j = 0; j < u; j++)
                acc += w[j] * q[j];
            c->ri[(size_t)r * in_ch + i] = ar[i] * acc + share;
            in_sum += c->ri[(size_t)r * in_ch + i];
        }
        *c->absorbed += out_sum - in_sum;
    }
}

static size_t dense_lrp_scratch(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)in;
    (void)out;
    return (size_t)l->units;
}

static double dense_macs(const tk_layer *l, tk_shape in, tk_shape out, const tk_backward_cost *cost)
{
    (void)out;
    (void)cost;
    return (double)(in.steps > 0 ? in.steps : 1) * in.channels * l->units;
}

const tk_attr_rules tk_rules_dense = {
    .dl_backward = dense_dl,
    .lrp_backward = dense_lrp,
    .lrp_scratch = dense_lrp_scratch,
    .backward_macs = dense_macs,
};
