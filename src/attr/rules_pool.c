/* Rules of the pooling layers: MaxPooling1D and GlobalMaxPooling1D
 * (DeepLIFT cross-max, LRP winner-take-all), AveragePooling1D and
 * GlobalAveragePooling1D (the linear map they are: weights 1/count, no
 * bias). Padding is excluded, as TensorFlow does (model/window.h). A
 * global pooling is the one window over the whole sequence: its output is
 * a vector (out.steps == 0). */
#include <stdlib.h>
#include <string.h>

#include "attr/rules.h"
#include "model/window.h"

static int n_outputs(tk_shape so)
{
    return so.steps > 0 ? so.steps : 1;
}

/* Output t's valid input positions [*lo, *hi). */
static void pool_range(const tk_layer *l, tk_shape si, tk_shape so, int t, int *lo, int *hi)
{
    if (so.steps == 0) {
        *lo = 0;
        *hi = si.steps;
        return;
    }
    tk_window_range(tk_window_pool(l), si.steps, t, lo, hi);
}

/* ---- max ---- */

/* What global max pooling keeps of the references (none of it depends on
 * the review), in one block (freed with free()): each reference's arg-max
 * per channel, and its input transposed to (steps, channels, references),
 * because a review's arg-max (t, k) is one position for every reference:
 * read that way the B values are contiguous instead of B rows apart. */
typedef struct max_aux {
    int *arg;    /* (channels, nb): the pass goes channel by channel */
    float *in_t; /* (steps, channels, nb) */
    float *out_t; /* (channels, nb) the pooled outputs */
} max_aux;

static tk_status max_dl_prepare(const tk_layer *l, tk_shape in, tk_shape out, int nb, void **aux,
                                tk_error *err)
{
    (void)l;
    if (out.steps != 0)
        return TK_OK;
    size_t n_arg = (size_t)nb * in.channels, n_in = (size_t)nb * in.steps * in.channels;
    /* the floats after the ints, aligned for them */
    size_t head = sizeof(max_aux) + n_arg * sizeof(int);
    head = (head + sizeof(float) - 1) / sizeof(float) * sizeof(float);
    char *block = tk_malloc(head + (n_in + n_arg) * sizeof(float), 1, err);
    if (!block)
        return TK_E_NOMEM;
    max_aux *a = (max_aux *)block;
    a->arg = (int *)(block + sizeof(max_aux));
    a->in_t = (float *)(block + head);
    a->out_t = a->in_t + n_in;
    *aux = a;
    return TK_OK;
}

static void max_dl_refs(tk_dl_layer *c)
{
    if (c->out.steps != 0)
        return;
    tk_shape si = c->in;
    max_aux *a = c->aux;
    int nb = c->nb, ch = si.channels;
    for (int b = 0; b < nb; b++) {
        const float *rb = c->ref.in + (size_t)b * si.steps * ch;
        for (int k = 0; k < ch; k++) {
            a->arg[(size_t)k * nb + b] = tk_dl_argmax(rb + k, si.steps, (size_t)ch);
            a->out_t[(size_t)k * nb + b] = c->ref.out[(size_t)b * ch + k];
        }
        for (size_t i = 0; i < (size_t)si.steps * ch; i++)
            a->in_t[i * nb + b] = rb[i];
    }
}

/* Each reference's arg-max cell of each channel, cell k * nb + b (the
 * order the pass visits them). */
static size_t max_dl_ref_cells(const tk_dl_layer *c, tk_dl_cell *cells)
{
    if (c->out.steps != 0)
        return 0;
    const max_aux *a = c->aux;
    int ch = c->in.channels, nb = c->nb;
    for (int k = 0; k < ch; k++)
        for (int b = 0; b < nb; b++) {
            size_t i = (size_t)k * nb + b;
            cells[i] = (tk_dl_cell){b, a->arg[i], k, (int32_t)i};
        }
    return (size_t)nb * ch;
}

/* Global max pooling lists at most two cells per (reference, channel). */
static size_t max_dl_sparse(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)l;
    return out.steps == 0 ? 2 * (size_t)in.channels : 0;
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

/* Global: the multipliers go to the sparse list (tk_dl_sparse), two cells
 * per (reference, channel), never to the (nb, steps, channels) buffer. */
static void global_max_dl(tk_dl_layer *c)
{
    tk_shape si = c->in;
    int nb = c->nb, ch = si.channels;
    const float *inx = c->x.in;
    const max_aux *a = c->aux;
    tk_dl_sparse *nz = c->nz;
    nz->n = 0;
    for (int k = 0; k < ch; k++) {
        int ax = tk_dl_argmax(inx + k, si.steps, (size_t)ch);
        float yx = c->x.out[k];
        const float *r_ax = a->in_t + ((size_t)ax * ch + k) * nb; /* (nb) */
        for (int b = 0; b < nb; b++) {
            float m = c->mo[(size_t)b * ch + k];
            if (m == 0.0f)
                continue;
            int ar = a->arg[(size_t)k * nb + b];
            float yr = a->out_t[(size_t)k * nb + b];
            float dax = yx - r_ax[b];
            float dar = inx[(size_t)ar * ch + k] - yr;
            /* one cell when the arg-maxes meet: both shares add in it, in
             * the order a dense buffer would take them */
            float v_ax = 0.0f, v_ar = 0.0f;
            cross_max(m, yx, yr, dax, dar, &v_ax, ar != ax ? &v_ar : &v_ax);
            nz->cell[nz->n] = (tk_dl_cell){b, ax, k, -1};
            nz->val[nz->n++] = v_ax;
            if (ar != ax) {
                nz->cell[nz->n] = (tk_dl_cell){b, ar, k, k * nb + b};
                nz->val[nz->n++] = v_ar;
            }
        }
    }
    nz->valid = true;
}

static bool max_dl(tk_dl_layer *c)
{
    tk_shape si = c->in, so = c->out;
    if (so.steps == 0) {
        global_max_dl(c);
        return true;
    }
    int nb = c->nb, nout = n_outputs(so), ch = si.channels;
    size_t isz = tk_rules_size(si), osz = tk_rules_size(so);
    const float *inx = c->x.in, *inr = c->ref.in;
    memset(c->mi, 0, sizeof(float) * nb * isz);
    for (int t = 0; t < nout; t++)
        for (int k = 0; k < ch; k++) {
            int lo, hi;
            pool_range(c->layer, si, so, t, &lo, &hi);
            int ax = lo + tk_dl_argmax(inx + (size_t)lo * ch + k, hi - lo, (size_t)ch);
            for (int b = 0; b < nb; b++) {
                const float *rb = inr + b * isz;
                int ar = lo + tk_dl_argmax(rb + (size_t)lo * ch + k, hi - lo, (size_t)ch);
                float m = c->mo[b * osz + (size_t)t * ch + k];
                if (m == 0.0f)
                    continue;
                /* the pooled values as the forward computed them */
                float yx = c->x.out[(size_t)t * ch + k];
                float yr = c->ref.out[b * osz + (size_t)t * ch + k];
                float dax = yx - rb[(size_t)ax * ch + k];
                float dar = inx[(size_t)ar * ch + k] - yr;
                float *mb = c->mi + b * isz;
                cross_max(m, yx, yr, dax, dar, &mb[(size_t)ax * ch + k], &mb[(size_t)ar * ch + k]);
            }
        }
    c->nz->valid = false;
    return true;
}

/* Winner-take-all: each pooled unit's relevance to its window's arg-max. */
static void max_lrp(tk_lrp_layer *c)
{
    tk_shape si = c->in, so = c->out;
    int nout = n_outputs(so), ch = si.channels;
    memset(c->ri, 0, sizeof(double) * (size_t)si.steps * ch);
    for (int t = 0; t < nout; t++)
        for (int k = 0; k < ch; k++) {
            int lo, hi;
            pool_range(c->layer, si, so, t, &lo, &hi);
            int best = lo + tk_dl_argmax(c->a + (size_t)lo * ch + k, hi - lo, (size_t)ch);
            c->ri[(size_t)best * ch + k] += c->ro[(size_t)t * ch + k];
        }
}

/* ---- average ---- */

static bool avg_dl(tk_dl_layer *c)
{
    tk_shape si = c->in, so = c->out;
    int nb = c->nb, nout = n_outputs(so), ch = si.channels;
    size_t isz = tk_rules_size(si), osz = tk_rules_size(so);
    memset(c->mi, 0, sizeof(float) * nb * isz);
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < nout; t++) {
            int lo, hi;
            pool_range(c->layer, si, so, t, &lo, &hi);
            int cnt = hi - lo;
            for (int p = lo; p < hi; p++)
                for (int k = 0; k < ch; k++)
                    c->mi[b * isz + (size_t)p * ch + k] += c->mo[b * osz + (size_t)t * ch + k] / cnt;
        }
    c->nz->valid = false;
    return true;
}

static void avg_lrp(tk_lrp_layer *c)
{
    tk_shape si = c->in, so = c->out;
    int nout = n_outputs(so), ch = si.channels;
    const float *a = c->a;
    memset(c->ri, 0, sizeof(double) * (size_t)si.steps * ch);
    double out_sum = 0, in_sum = 0;
    for (int t = 0; t < nout; t++) {
        int lo, hi;
        pool_range(c->layer, si, so, t, &lo, &hi);
        int cnt = hi - lo;
        for (int k = 0; k < ch; k++) {
            double z = 0, rj = c->ro[(size_t)t * ch + k];
            for (int p = lo; p < hi; p++)
                z += (double)a[(size_t)p * ch + k] / cnt;
            double qq = tk_lrp_share_q(rj, z, c->eps), share = tk_lrp_bias_share(c, 0.0, z, qq, cnt);
            out_sum += rj;
            for (int p = lo; p < hi; p++) {
                double v = (double)a[(size_t)p * ch + k] / cnt * qq + share;
                c->ri[(size_t)p * ch + k] += v;
                in_sum += v;
            }
        }
    }
    *c->absorbed += out_sum - in_sum;
}

const tk_attr_rules tk_rules_max_pool = {
    .dl_backward = max_dl,
    .dl_prepare = max_dl_prepare,
    .dl_refs = max_dl_refs,
    .dl_ref_cells = max_dl_ref_cells,
    .dl_sparse = max_dl_sparse,
    .lrp_backward = max_lrp,
};

const tk_attr_rules tk_rules_global_max_pool = {
    .dl_backward = max_dl,
    .dl_prepare = max_dl_prepare,
    .dl_refs = max_dl_refs,
    .dl_ref_cells = max_dl_ref_cells,
    .dl_sparse = max_dl_sparse,
    .lrp_backward = max_lrp,
    .route = TK_ROUTE_ONE, /* one position per channel gets gradient */
};

const tk_attr_rules tk_rules_avg_pool = {
    .dl_backward = avg_dl,
    .lrp_backward = avg_lrp,
};
