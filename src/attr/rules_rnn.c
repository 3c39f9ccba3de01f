/* DeepLIFT and epsilon-LRP rules of SimpleRNN and GRU (README "Methods").
 *
 * DeepLIFT (every rule exact, so completeness holds to rounding):
 *   activations: rescale m = Δy/Δz from the stored values;
 *   GRU h = z h_{t-1} + (1 - z) hh: Shapley split of both products,
 *   m_z = m_h ((h̄_{t-1}) − (h̄h)), m_{h_{t-1}} += m_h z̄, m_hh = m_h (1 − z̄)
 *   (bars: means of the review's and the reference's values);
 *   reset_after: hh = act(x_h + r q): m_r = m_c q̄, m_q = m_c r̄;
 *   reset before: hh = act(x_h + (r h_{t-1}) U_h): the product r h_{t-1}
 *   split the same way; linear maps transpose.
 *
 * LRP (Arras et al. 2017's gate rule; relevance in double over a double
 * recomputation of the trace): gates z and r receive no relevance;
 * h = z h_{t-1} + (1 - z) hh is the linear rule over its two summands
 * (the gates are weights, N = 2 per unit); the candidate's pre-activation
 * is linear over [x_t, h_{t-1}] with the reset gate folded into the
 * weights ("signal-take-all" through r⊙): reset_after: r_j U_h[i, j] and
 * bias b_h + r b'_h; reset before: r_i U_h[i, j]. SimpleRNN: h = act(pre),
 * pre linear over [x_t, h_{t-1}] (N = in + units). Activations pass
 * relevance unchanged. */
#include "attr/rules_rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/deeplift_net.h"
#include "core/gemm.h"

static bool gru_of(const tk_layer *l)
{
    return l->kind == TK_LAYER_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
}

bool tk_rules_rnn_kind(const tk_layer *l)
{
    return l->kind == TK_LAYER_SIMPLE_RNN || l->kind == TK_LAYER_GRU ||
           l->kind == TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN || l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
}

static int width(const tk_layer *l)
{
    return gru_of(l) ? 3 * l->units : l->units;
}

/* Direction d reads position steps-1-s at step s when it runs backwards. */
static bool reversed(const tk_layer *l, int dir)
{
    return dir == 0 ? l->go_backwards : !l->go_backwards;
}

/* The output row fed by processing step s, or -1. */
static int out_row(const tk_layer *l, int dir, int s, int steps)
{
    if (l->return_sequences)
        return dir == 1 ? steps - 1 - s : s;
    return s == steps - 1 ? 0 : -1;
}

size_t tk_rules_rnn_deeplift_work(const tk_layer *l, int nb, tk_shape si)
{
    size_t sb = (size_t)si.steps * nb, g = (size_t)width(l), u = (size_t)l->units;
    return sb * g + (size_t)nb * (g + 3 * u) + sb * (size_t)si.channels;
}

/* One direction; its multipliers arrive from mo at channel offset off, times scale. */
static void dl_dir(const tk_layer *l, int dir, tk_shape si, int out_ch, int nb, const float *state_x,
                   const float *state_r, const float *mo, int off, float scale, float *min,
                   float *work)
{
    const tk_rnn_weights *w = &l->rnn[dir];
    int steps = si.steps, in_dim = si.channels, U = l->units, G = width(l);
    int nout = l->return_sequences ? steps : 1;
    bool gru = gru_of(l), back = reversed(l, dir);
    tk_activation ra = l->recurrent_activation, ca = l->activation;
    tk_rnn_trace tx = tk_rnn_trace_of(l, state_x, 1, steps, dir);
    tk_rnn_trace tr = tk_rnn_trace_of(l, state_r, nb, steps, dir);
    float *mp = work;                          /* (steps, nb, G) input-side pre-activation multipliers */
    float *mrec = mp + (size_t)steps * nb * G; /* (nb, G) recurrent side (reset_after) */
    float *mh = mrec + (size_t)nb * G;         /* (nb, U) into the step */
    float *mhp = mh + (size_t)nb * U;          /* (nb, U) to h_{t-1} */
    float *maux = mhp + (size_t)nb * U;        /* (nb, U) */
    float *proj = maux + (size_t)nb * U;       /* (steps nb, in_dim) */
    memset(mh, 0, sizeof(float) * (size_t)nb * U);
    for (int s = steps - 1; s >= 0; s--) {
        int r = out_row(l, dir, s, steps);
        float *mps = mp + (size_t)s * nb * G;
        const float *px = tx.pre + (size_t)s * G, *ax = tx.act + (size_t)s * G;
        const float *hpx = s > 0 ? tx.hidden + (size_t)(s - 1) * U : NULL;
        for (int b = 0; b < nb; b++) {
            size_t rb = (size_t)s * nb + b;
            const float *pr = tr.pre + rb * G, *ar = tr.act + rb * G;
            const float *hpr = s > 0 ? tr.hidden + (rb - nb) * U : NULL;
            const float *mob = r >= 0 ? mo + ((size_t)b * nout + r) * out_ch + off : NULL;
            float *mpb = mps + (size_t)b * G, *mrb = mrec + (size_t)b * G;
            float *mhb = mh + (size_t)b * U, *mhpb = mhp + (size_t)b * U;
            for (int j = 0; j < U; j++) {
                float m_h = mhb[j] + (mob ? scale * mob[j] : 0.0f);
                if (!gru) {
                    mpb[j] = m_h * tk_dl_rescale(ca, px[j], pr[j], ax[j], ar[j]);
                    continue;
                }
                float zx = ax[j], zr = ar[j], hhx = ax[2 * U + j], hhr = ar[2 * U + j];
                float hpxj = hpx ? hpx[j] : 0.0f, hprj = hpr ? hpr[j] : 0.0f;
                float m_z = m_h * 0.5f * ((hpxj + hprj) - (hhx + hhr));
                mhpb[j] = m_h * 0.5f * (zx + zr);
                float m_hh = m_h * 0.5f * (2.0f - zx - zr);
                float m_c = m_hh * tk_dl_rescale(ca, px[2 * U + j], pr[2 * U + j], hhx, hhr);
                mpb[j] = m_z * tk_dl_rescale(ra, px[j], pr[j], zx, zr);
                mpb[2 * U + j] = m_c;
                if (l->reset_after) {
                    const float *qx = tx.aux + (size_t)s * U, *qr = tr.aux + rb * U;
                    float rx = ax[U + j], rr = ar[U + j];
                    float m_r = m_c * 0.5f * (qx[j] + qr[j]);
                    mpb[U + j] = m_r * tk_dl_rescale(ra, px[U + j], pr[U + j], rx, rr);
                    mrb[j] = mpb[j];
                    mrb[U + j] = mpb[U + j];
                    mrb[2 * U + j] = m_c * 0.5f * (rx + rr); /* to q = h U_h + b' */
                }
            }
        }
        if (!gru) {
            if (s > 0)
                tk_sgemm(false, true, nb, U, U, 1.0f, mps, G, w->recurrent, G, 0.0f, mh, U);
            continue;
        }
        if (l->reset_after) {
            if (s > 0)
                tk_sgemm(false, true, nb, U, G, 1.0f, mrec, G, w->recurrent, G, 1.0f, mhp, U);
        } else if (s > 0) {
            /* aux = r h_{t-1}: m_aux = m_c U_h^T, then its Shapley split */
            tk_sgemm(false, true, nb, U, U, 1.0f, mps + 2 * U, G, w->recurrent + 2 * U, G, 0.0f,
                     maux, U);
            for (int b = 0; b < nb; b++) {
                size_t rb = (size_t)s * nb + b;
                const float *pr = tr.pre + rb * G, *ar = tr.act + rb * G;
                const float *hpr = tr.hidden + (rb - nb) * U;
                float *mpb = mps + (size_t)b * G, *mhpb = mhp + (size_t)b * U;
                for (int j = 0; j < U; j++) {
                    float ma = maux[(size_t)b * U + j], rx = ax[U + j], rr = ar[U + j];
                    float m_r = ma * 0.5f * (hpx[j] + hpr[j]);
                    mhpb[j] += ma * 0.5f * (rx + rr);
                    mpb[U + j] = m_r * tk_dl_rescale(ra, px[U + j], pr[U + j], rx, rr);
                }
            }
            tk_sgemm(false, true, nb, U, 2 * U, 1.0f, mps, G, w->recurrent, G, 1.0f, mhp, U);
        } else {
            for (int b = 0; b < nb; b++)
                for (int j = 0; j < U; j++)
                    mps[(size_t)b * G + U + j] = 0.0f; /* r multiplies h_{-1} = 0 */
        }
        memcpy(mh, mhp, sizeof(float) * (size_t)nb * U);
    }
    /* every step and reference through the input kernel in one GEMM */
    tk_sgemm(false, true, steps * nb, in_dim, G, 1.0f, mp, G, w->kernel, G, 0.0f, proj, in_dim);
    for (int s = 0; s < steps; s++) {
        int pos = back ? steps - 1 - s : s;
        for (int b = 0; b < nb; b++) {
            const float *src = proj + ((size_t)s * nb + b) * in_dim;
            float *dst = min + ((size_t)b * steps + pos) * in_dim;
            for (int i = 0; i < in_dim; i++)
                dst[i] += src[i];
        }
    }
}

void tk_rules_rnn_deeplift(const tk_layer *l, tk_shape si, tk_shape so, int nb,
                           const float *state_x, const float *state_r, const float *mo, float *min,
                           float *work)
{
    memset(min, 0, sizeof(float) * (size_t)nb * si.steps * si.channels);
    int dirs = tk_layer_rnn_dirs(l);
    bool concat = dirs == 2 && l->merge_mode == TK_MERGE_CONCAT;
    float scale = dirs == 2 && l->merge_mode == TK_MERGE_AVE ? 0.5f : 1.0f;
    for (int d = 0; d < dirs; d++)
        dl_dir(l, d, si, so.channels, nb, state_x, state_r, mo, concat && d == 1 ? l->units : 0,
               scale, min, work);
}

/* ---- LRP ---- */

static inline double stab(double z, double eps)
{
    return z + (z >= 0 ? eps : -eps);
}

static inline double share_q(double r, double z, double eps)
{
    double den = stab(z, eps);
    return den != 0.0 ? r / den : 0.0;
}

static double act_d(tk_activation a, double z)
{
    double v;
    switch (a) {
    case TK_ACT_SIGMOID: return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
    case TK_ACT_HARD_SIGMOID: v = 0.2 * z + 0.5; return v < 0 ? 0 : v > 1 ? 1 : v;
    case TK_ACT_HARD_SIGMOID_K3: v = z / 6.0 + 0.5; return v < 0 ? 0 : v > 1 ? 1 : v;
    case TK_ACT_TANH: return tanh(z);
    case TK_ACT_RELU: return z > 0 ? z : 0.0;
    default: return z;
    }
}

typedef struct lrp_trace {
    double *h;   /* (steps + 1, U): h[0] = h_{-1} = 0, h[s + 1] after step s */
    double *act; /* (steps, G) activated: SimpleRNN h; GRU z, r, hh */
    double *pre; /* (steps, U) SimpleRNN pre / GRU candidate pre-activation */
} lrp_trace;

static void trace_d(const tk_layer *l, int dir, int steps, int in_dim, const float *x, lrp_trace *t)
{
    const tk_rnn_weights *w = &l->rnn[dir];
    int U = l->units, G = width(l);
    bool gru = gru_of(l), back = reversed(l, dir);
    const float *bi = w->bias, *br = gru && l->reset_after && w->bias ? w->bias + G : NULL;
    memset(t->h, 0, sizeof(double) * U);
    for (int s = 0; s < steps; s++) {
        const float *xt = x + (size_t)(back ? steps - 1 - s : s) * in_dim;
        const double *hp = t->h + (size_t)s * U;
        double *h = t->h + (size_t)(s + 1) * U, *a = t->act + (size_t)s * G, *pc = t->pre + (size_t)s * U;
        for (int j = 0; j < G; j++) {
            double v = bi ? bi[j] : 0.0;
            for (int i = 0; i < in_dim; i++)
                v += (double)xt[i] * w->kernel[(size_t)i * G + j];
            a[j] = v; /* input projection for now */
        }
        if (!gru) {
            for (int j = 0; j < U; j++) {
                double v = a[j];
                for (int i = 0; i < U; i++)
                    v += hp[i] * w->recurrent[(size_t)i * G + j];
                pc[j] = v;
                a[j] = h[j] = act_d(l->activation, v);
            }
            continue;
        }
        for (int j = 0; j < 2 * U; j++) {
            double v = a[j] + (br ? br[j] : 0.0);
            for (int i = 0; i < U; i++)
                v += hp[i] * w->recurrent[(size_t)i * G + j];
            a[j] = act_d(l->recurrent_activation, v);
        }
        for (int j = 0; j < U; j++) {
            double rec = 0;
            if (l->reset_after) {
                double q = br ? br[2 * U + j] : 0.0;
                for (int i = 0; i < U; i++)
                    q += hp[i] * w->recurrent[(size_t)i * G + 2 * U + j];
                rec = a[U + j] * q;
            } else {
                for (int i = 0; i < U; i++)
                    rec += a[U + i] * hp[i] * w->recurrent[(size_t)i * G + 2 * U + j];
            }
            pc[j] = a[2 * U + j] + rec;
        }
        for (int j = 0; j < U; j++) {
            a[2 * U + j] = act_d(l->activation, pc[j]);
            h[j] = a[j] * hp[j] + (1.0 - a[j]) * a[2 * U + j];
        }
    }
}

/* One direction, backwards in processing order. rx (steps, in_dim) is added to. */
static void lrp_dir(const tk_layer *l, int dir, tk_shape si, int out_ch, int off, const float *x,
                    const double *ro, double *ri, double eps, double bf, lrp_trace *t, double *work,
                    double *absorbed, double *init_state)
{
    const tk_rnn_weights *w = &l->rnn[dir];
    int steps = si.steps, in_dim = si.channels, U = l->units, G = width(l);
    bool gru = gru_of(l), back = reversed(l, dir);
    trace_d(l, dir, steps, in_dim, x, t);
    double *rh = work, *rc = rh + U, *q = rc + U, *rhp = q + U; /* (U) each */
    const float *bi = w->bias, *br = gru && l->reset_after && w->bias ? w->bias + G : NULL;
    int koff = gru ? 2 * U : 0; /* the candidate's (or SimpleRNN's) kernel columns */
    memset(rh, 0, sizeof(double) * U);
    for (int s = steps - 1; s >= 0; s--) {
        int r = out_row(l, dir, s, steps);
        if (r >= 0)
            for (int j = 0; j < U; j++)
                rh[j] += ro[(size_t)r * out_ch + off + j];
        const double *hp = t->h + (size_t)s * U, *a = t->act + (size_t)s * G;
        const double *pc = t->pre + (size_t)s * U;
        double out_sum = 0, in_sum = 0;
        memset(rhp, 0, sizeof(double) * U);
        if (gru) {
            /* h = z h_{t-1} + (1 - z) hh: two summands per unit, gates as weights */
            for (int j = 0; j < U; j++) {
                double a1 = a[j] * hp[j], a2 = (1.0 - a[j]) * a[2 * U + j];
                double qq = share_q(rh[j], a1 + a2, eps);
                double sh = bf * (a1 + a2 >= 0 ? eps : -eps) * qq / 2.0;
                rhp[j] = a1 * qq + sh;
                rc[j] = a2 * qq + sh; /* R(hh) = R(candidate pre-activation) */
                out_sum += rh[j];
                in_sum += rhp[j] + rc[j];
            }
            *absorbed += out_sum - in_sum;
        } else {
            memcpy(rc, rh, sizeof(double) * U); /* R(pre) = R(h) */
        }
        /* the linear map into the candidate (or SimpleRNN pre): [x_t, h_{t-1}] */
        int pos = back ? steps - 1 - s : s, n = in_dim + U;
        const float *xt = x + (size_t)pos * in_dim;
        double gshare = 0;
        out_sum = in_sum = 0;
        for (int j = 0; j < U; j++) {
            double b = bi ? bi[koff + j] : 0.0;
            if (br != NULL)
                b += a[U + j] * br[2 * U + j];
            q[j] = share_q(rc[j], pc[j], eps);
            gshare += bf * (b + (pc[j] >= 0 ? eps : -eps)) * q[j] / n;
            out_sum += rc[j];
        }
        double *rxp = ri + (size_t)pos * in_dim;
        for (int i = 0; i < in_dim; i++) {
            const float *wr = w->kernel + (size_t)i * G + koff;
            double acc = 0;
            for (int j = 0; j < U; j++)
                acc += wr[j] * q[j];
            double v = xt[i] * acc + gshare;
            rxp[i] += v;
            in_sum += v;
        }
        for (int i = 0; i < U; i++) {
            const float *wr = w->recurrent + (size_t)i * G + koff;
            double acc = 0;
            for (int j = 0; j < U; j++) {
                double wij = wr[j];
                if (gru)
                    wij *= l->reset_after ? a[U + j] : a[U + i];
                acc += wij * q[j];
            }
            double v = hp[i] * acc + gshare;
            rhp[i] += v;
            in_sum += v;
        }
        *absorbed += out_sum - in_sum;
        memcpy(rh, rhp, sizeof(double) * U);
    }
    for (int j = 0; j < U; j++)
        *init_state += rh[j];
}

tk_status tk_rules_rnn_lrp(const tk_layer *l, tk_shape si, tk_shape so, const float *a,
                           const double *ro, double *ri, double eps, double bias_factor,
                           double *absorbed, double *init_state, tk_error *err)
{
    int U = l->units, G = width(l), steps = si.steps;
    lrp_trace t;
    t.h = tk_malloc((size_t)(steps + 1) * U, sizeof(double), err);
    t.act = tk_malloc((size_t)steps * G, sizeof(double), err);
    t.pre = tk_malloc((size_t)steps * U, sizeof(double), err);
    double *work = tk_malloc(4 * (size_t)U, sizeof(double), err);
    tk_status st = TK_OK;
    if (!t.h || !t.act || !t.pre || !work) {
        st = TK_E_NOMEM;
        goto done;
    }
    memset(ri, 0, sizeof(double) * (size_t)steps * si.channels);
    int dirs = tk_layer_rnn_dirs(l);
    for (int d = 0; d < dirs; d++)
        lrp_dir(l, d, si, so.channels, d == 1 ? U : 0, a, ro, ri, eps, bias_factor, &t, work,
                absorbed, init_state);
done:
    free(t.h);
    free(t.act);
    free(t.pre);
    free(work);
    return st;
}

double tk_rules_rnn_macs(const tk_layer *l, tk_shape si)
{
    return (double)tk_layer_rnn_dirs(l) * si.steps * (si.channels + l->units) * width(l);
}
