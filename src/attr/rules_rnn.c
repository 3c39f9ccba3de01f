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
#include <math.h>
#include <string.h>

#include "attr/rules.h"
#include "core/gemm.h"

static bool gru_of(const tk_layer *l)
{
    return l->kind == TK_LAYER_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
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

/* ---- DeepLIFT ---- */

static tk_status rnn_dl_prepare(const tk_layer *l, tk_shape in, tk_shape out, int nb, void **aux,
                                tk_error *err)
{
    (void)in;
    (void)out;
    (void)nb;
    (void)aux;
    if (tk_layer_directions(l) == 2 && l->merge_mode == TK_MERGE_MUL)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "layer %s: Bidirectional merge_mode 'mul' has no DeepLIFT rule in tokattr",
                            l->name);
    return TK_OK;
}

/* m_pre (steps, nb, G), m_rec (nb, G), m_h, m_hp, m_aux (nb, U), proj (steps, nb, in). */
static size_t rnn_dl_scratch(const tk_layer *l, tk_shape in, tk_shape out, int nb)
{
    (void)out;
    size_t sb = (size_t)in.steps * nb, g = (size_t)width(l), u = (size_t)l->units;
    return sb * g + (size_t)nb * (g + 3 * u) + sb * (size_t)in.channels;
}

/* One direction; its multipliers arrive from mo at channel offset off, times scale. */
static void dl_dir(tk_dl_layer *c, int dir, int off, float scale)
{
    const tk_layer *l = c->layer;
    tk_shape si = c->in;
    int out_ch = c->out.channels, nb = c->nb;
    const float *mo = c->mo;
    float *min = c->mi, *work = c->scratch;
    const tk_rnn_weights *w = &l->rnn[dir];
    int steps = si.steps, in_dim = si.channels, U = l->units, G = width(l);
    int nout = l->return_sequences ? steps : 1;
    bool gru = gru_of(l), back = reversed(l, dir);
    tk_activation ra = l->recurrent_activation, ca = l->activation;
    tk_rnn_trace tx = c->x.cell[dir], tr = c->ref.cell[dir];
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

static bool rnn_dl(tk_dl_layer *c)
{
    const tk_layer *l = c->layer;
    memset(c->mi, 0, sizeof(float) * (size_t)c->nb * tk_rules_size(c->in));
    int dirs = tk_layer_directions(l);
    bool concat = dirs == 2 && l->merge_mode == TK_MERGE_CONCAT;
    float scale = dirs == 2 && l->merge_mode == TK_MERGE_AVE ? 0.5f : 1.0f;
    for (int d = 0; d < dirs; d++)
        dl_dir(c, d, concat && d == 1 ? l->units : 0, scale);
    c->nz->valid = false;
    return true;
}

/* ---- LRP ---- */

static tk_status rnn_lrp_check(const tk_layer *l, tk_error *err)
{
    if (tk_layer_directions(l) == 2 && l->merge_mode != TK_MERGE_CONCAT)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "layer %s: LRP supports Bidirectional merge_mode 'concat' only", l->name);
    return TK_OK;
}

/* The trace in double: h (steps + 1, U), act (steps, G), pre (steps, U); rh, rc, q, rhp (U). */
static size_t rnn_lrp_scratch(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)out;
    size_t t = (size_t)in.steps, u = (size_t)l->units, g = (size_t)width(l);
    return (t + 1) * u + t * g + t * u + 4 * u;
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
                a[j] = h[j] = tk_act_value_d(l->activation, v);
            }
            continue;
        }
        for (int j = 0; j < 2 * U; j++) {
            double v = a[j] + (br ? br[j] : 0.0);
            for (int i = 0; i < U; i++)
                v += hp[i] * w->recurrent[(size_t)i * G + j];
            a[j] = tk_act_value_d(l->recurrent_activation, v);
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
            a[2 * U + j] = tk_act_value_d(l->activation, pc[j]);
            h[j] = a[j] * hp[j] + (1.0 - a[j]) * a[2 * U + j];
        }
    }
}

/* One direction, backwards in processing order. rx (steps, in_dim) is added to. */
static void lrp_dir(tk_lrp_layer *c, int dir, int off, lrp_trace *t, double *work)
{
    const tk_layer *l = c->layer;
    tk_shape si = c->in;
    int out_ch = c->out.channels;
    const float *x = c->a;
    const double *ro = c->ro;
    double *ri = c->ri, eps = c->eps, bf = c->bias_factor;
    double *absorbed = c->absorbed, *init_state = c->init_state;
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
                double qq = tk_lrp_share_q(rh[j], a1 + a2, eps);
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
            q[j] = tk_lrp_share_q(rc[j], pc[j], eps);
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

static void rnn_lrp(tk_lrp_layer *c)
{
    const tk_layer *l = c->layer;
    size_t U = (size_t)l->units, G = (size_t)width(l), steps = (size_t)c->in.steps;
    lrp_trace t;
    t.h = c->scratch;
    t.act = t.h + (steps + 1) * U;
    t.pre = t.act + steps * G;
    double *work = t.pre + steps * U;
    memset(c->ri, 0, sizeof(double) * tk_rules_size(c->in));
    for (int d = 0; d < tk_layer_directions(l); d++)
        lrp_dir(c, d, d == 1 ? (int)U : 0, &t, work);
}

/* The input projection and the recurrence of every gate block (the
 * DeepLIFT pass goes through all G columns; LRP's through the candidate's
 * U only, which lstm_gates of 4 scales as for the LSTM). */
static double rnn_macs(const tk_layer *l, tk_shape in, tk_shape out, const tk_backward_cost *cost)
{
    (void)out;
    double g = gru_of(l) ? 3.0 * cost->lstm_gates / 4.0 : 1.0;
    return (double)tk_layer_directions(l) * in.steps * (in.channels + l->units) * g * l->units;
}

const tk_attr_rules tk_rules_rnn = {
    .dl_backward = rnn_dl,
    .dl_prepare = rnn_dl_prepare,
    .dl_scratch = rnn_dl_scratch,
    .lrp_backward = rnn_lrp,
    .lrp_check = rnn_lrp_check,
    .lrp_scratch = rnn_lrp_scratch,
    .backward_macs = rnn_macs,
};
