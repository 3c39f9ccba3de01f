/* Rules of LSTM and Bidirectional(LSTM) (Keras gate order i, f, g, o;
 * c_t = f c_{t-1} + i g; h_t = o tanh(c_t)). DeepLIFT: rescale for every
 * activation, the Shapley split for the gate products. LRP: Arras,
 * Montavon, Müller, Samek 2017 ("signal-take-all": the gates pass no
 * relevance). The traces are the model's forward pass's (model.h
 * tk_lstm_trace, processing order: step 0 of a backward direction is the
 * last position). */
#include <string.h>

#include "attr/rules.h"
#include "core/gemm.h"
#include "core/isa.h"

static int n_dirs(const tk_layer *l)
{
    return tk_layer_directions(l);
}

/* Direction d reads positions backwards when go_backwards (d = 0) or not (d = 1). */
static bool dir_reverse(const tk_layer *l, int dir)
{
    return dir == 0 ? l->go_backwards : !l->go_backwards;
}

/* Output row fed by processing step s of direction dir, or -1. Keras
 * returns a plain LSTM's sequence in processing order; only the
 * Bidirectional wrapper flips its backward half back. */
static int output_row(const tk_layer *l, int dir, int s, int steps)
{
    if (l->return_sequences)
        return dir == 1 ? steps - 1 - s : s;
    return s == steps - 1 ? 0 : -1;
}

/* ---- DeepLIFT ---- */

static tk_status lstm_dl_prepare(const tk_layer *l, tk_shape in, tk_shape out, int nb, void **aux,
                                 tk_error *err)
{
    (void)in;
    (void)out;
    (void)nb;
    (void)aux;
    if (n_dirs(l) == 2 && l->merge_mode == TK_MERGE_MUL)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "layer %s: Bidirectional merge_mode 'mul' has no DeepLIFT rule in tokattr",
                            l->name);
    return TK_OK;
}

/* m_pre (steps, nb, 4u), m_proj (steps, nb, in), m_h and m_c (nb, u). */
static size_t lstm_dl_scratch(const tk_layer *l, tk_shape in, tk_shape out, int nb)
{
    (void)out;
    size_t u = (size_t)l->units, t = (size_t)in.steps;
    return (size_t)nb * (t * (4 * u + (size_t)in.channels) + 2 * u);
}

/* One direction: multipliers of its hidden states arrive from the layer
 * output mo (nb, out rows, out channels) at channel offset off (scaled by
 * scale for merge 'ave'); the gate pre-activation multipliers of every step
 * are kept and projected onto the input (nb, steps, in) at the end. */
static void dir_dl(tk_dl_layer *c, int dir, int off, float scale)
{
    const tk_layer *l = c->layer;
    const tk_lstm_weights *w = &l->lstm[dir];
    int nb = c->nb, steps = c->in.steps, in_dim = c->in.channels;
    int u = l->units, g4 = 4 * u, out_ch = c->out.channels;
    int nout = l->return_sequences ? steps : 1;
    bool reverse = dir_reverse(l, dir);
    const tk_lstm_trace *tx = &c->x.rnn[dir], *tr = &c->ref.rnn[dir];
    tk_activation ra = l->recurrent_activation, ca = l->activation;
    float *m_pre = c->scratch;                                /* (steps, nb, 4u) */
    float *m_proj = m_pre + (size_t)steps * nb * g4;          /* (steps, nb, in) */
    float *m_hs = m_proj + (size_t)steps * nb * in_dim;       /* (nb, u) */
    float *m_cs = m_hs + (size_t)nb * u;                      /* (nb, u) */
    const float *mo = c->mo;
    memset(m_hs, 0, sizeof(float) * (size_t)nb * u);
    memset(m_cs, 0, sizeof(float) * (size_t)nb * u);
    for (int s = steps - 1; s >= 0; s--) {
        int r = output_row(l, dir, s, steps);
        const float *px = tx->pre + (size_t)s * g4, *ax = tx->gates + (size_t)s * g4;
        const float *cx = tx->cells + (size_t)s * u, *tcx = tx->tanh_cells + (size_t)s * u;
        const float *cpx = s > 0 ? tx->cells + (size_t)(s - 1) * u : NULL;
        float *mp = m_pre + (size_t)s * nb * g4;
        for (int b = 0; b < nb; b++) {
            size_t rb = (size_t)s * nb + b;
            const float *pr = tr->pre + rb * g4, *ar = tr->gates + rb * g4;
            const float *cr = tr->cells + rb * u, *tcr = tr->tanh_cells + rb * u;
            const float *cpr = s > 0 ? tr->cells + (rb - nb) * u : NULL;
            float *mh = m_hs + (size_t)b * u, *mc = m_cs + (size_t)b * u;
            const float *mob = r >= 0 ? mo + ((size_t)b * nout + r) * out_ch + off : NULL;
            float *mpb = mp + (size_t)b * g4;
            for (int j = 0; j < u; j++) {
                float m_h = mh[j] + (mob ? scale * mob[j] : 0.0f);
                float ox = ax[3 * u + j], orr = ar[3 * u + j];
                /* h = o ⊙ tanh(c): Shapley split */
                float m_o = m_h * 0.5f * (tcx[j] + tcr[j]);
                float m_tc = m_h * 0.5f * (ox + orr);
                float m_c = mc[j] + m_tc * tk_dl_rescale(ca, cx[j], cr[j], tcx[j], tcr[j]);
                /* c = f ⊙ c_prev + i ⊙ g: Shapley split of both products */
                float cpxj = cpx ? cpx[j] : 0.0f, cprj = cpr ? cpr[j] : 0.0f;
                float ix = ax[j], ir = ar[j], fx = ax[u + j], fr = ar[u + j];
                float gx = ax[2 * u + j], gr = ar[2 * u + j];
                float m_f = m_c * 0.5f * (cpxj + cprj);
                mc[j] = m_c * 0.5f * (fx + fr); /* to c_prev */
                float m_i = m_c * 0.5f * (gx + gr);
                float m_g = m_c * 0.5f * (ix + ir);
                mpb[j] = m_i * tk_dl_rescale(ra, px[j], pr[j], ix, ir);
                mpb[u + j] = m_f * tk_dl_rescale(ra, px[u + j], pr[u + j], fx, fr);
                mpb[2 * u + j] = m_g * tk_dl_rescale(ca, px[2 * u + j], pr[2 * u + j], gx, gr);
                mpb[3 * u + j] = m_o * tk_dl_rescale(ra, px[3 * u + j], pr[3 * u + j], ox, orr);
            }
        }
        if (s > 0) /* to h_prev through the recurrent kernel (units, 4 units) */
            tk_sgemm(false, true, nb, u, g4, 1.0f, mp, g4, w->recurrent, g4, 0.0f, m_hs, u);
    }
    /* every step and reference through the input kernel in one GEMM of
     * steps x B rows, then added at each reference's position */
    tk_sgemm(false, true, steps * nb, in_dim, g4, 1.0f, m_pre, g4, w->kernel, g4, 0.0f, m_proj,
             in_dim);
    for (int s = 0; s < steps; s++) {
        int pos = reverse ? steps - 1 - s : s;
        for (int b = 0; b < nb; b++) {
            const float *src = m_proj + ((size_t)s * nb + b) * in_dim;
            float *dst = c->mi + ((size_t)b * steps + pos) * in_dim;
            for (int i = 0; i < in_dim; i++)
                dst[i] += src[i];
        }
    }
}

static bool lstm_dl(tk_dl_layer *c)
{
    const tk_layer *l = c->layer;
    memset(c->mi, 0, sizeof(float) * (size_t)c->nb * tk_rules_size(c->in));
    if (n_dirs(l) == 1) {
        dir_dl(c, 0, 0, 1.0f);
    } else {
        bool concat = l->merge_mode == TK_MERGE_CONCAT;
        float scale = l->merge_mode == TK_MERGE_AVE ? 0.5f : 1.0f;
        dir_dl(c, 0, 0, scale);
        dir_dl(c, 1, concat ? l->units : 0, scale);
    }
    c->nz->valid = false;
    return true;
}

/* ---- epsilon-LRP ---- */

static tk_status lstm_lrp_check(const tk_layer *l, tk_error *err)
{
    if (n_dirs(l) == 2 && l->merge_mode != TK_MERGE_CONCAT)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "layer %s: LRP supports Bidirectional merge_mode 'concat' only", l->name);
    return TK_OK;
}

/* q (4u), rh, rc (u), the trace in double: gates (steps, 4u), c, h and
 * pre_g (steps, u); the g block of the kernels transposed, (u, in + u),
 * and its products (in + u). */
static size_t lstm_lrp_scratch(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)out;
    size_t u = (size_t)l->units, t = (size_t)in.steps, n = (size_t)in.channels + u;
    return 4 * u + 2 * u + t * 4 * u + 3 * t * u + u * n + n;
}

typedef struct lrp_trace {
    double *q, *rh, *rc; /* (4u), (u), (u) */
    double *gd, *cd, *hd, *pd; /* (steps, 4u) gates, (steps, u) c, h, pre_g */
    double *wg_t; /* (u, in + u): kernel then recurrent kernel, g block, transposed */
    double *acc;  /* (in + u) */
} lrp_trace;

static lrp_trace trace_of(const tk_lrp_layer *c)
{
    size_t u = (size_t)c->layer->units, t = (size_t)c->in.steps, n = (size_t)c->in.channels + u;
    lrp_trace r;
    r.q = c->scratch;
    r.rh = r.q + 4 * u;
    r.rc = r.rh + u;
    r.gd = r.rc + u;
    r.cd = r.gd + t * 4 * u;
    r.hd = r.cd + t * u;
    r.pd = r.hd + t * u;
    r.wg_t = r.pd + t * u;
    r.acc = r.wg_t + u * n;
    return r;
}

/* The direction's gates, cells and hidden states again, in double: with
 * eps = 0 the rule divides by z = c_t and pre_g, and small ones magnify the
 * float forward's rounding (the fixture's conservation group is float64). */
/* g (n) += Σ_i v_i W[i] (rows of n floats), v float (vf) or double (vd),
 * the terms added to each g[j] one by one in i order, as a loop over i
 * would; four rows per pass over g so that g is loaded and stored once per
 * four multiply-adds (what bounded this loop, at 8 doubles a vector). */
TK_ALWAYS_INLINE static inline void axpy_rows(double *restrict g, const float *restrict vf,
                                              const double *restrict vd, int rows,
                                              const float *restrict w, int n)
{
    int i = 0;
    for (; i + 4 <= rows; i += 4) {
        double v0 = vf ? vf[i] : vd[i], v1 = vf ? vf[i + 1] : vd[i + 1];
        double v2 = vf ? vf[i + 2] : vd[i + 2], v3 = vf ? vf[i + 3] : vd[i + 3];
        const float *w0 = w + (size_t)i * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
        for (int j = 0; j < n; j++) {
            double a = g[j] + v0 * w0[j];
            a = a + v1 * w1[j];
            a = a + v2 * w2[j];
            g[j] = a + v3 * w3[j];
        }
    }
    for (; i < rows; i++) {
        double v = vf ? vf[i] : vd[i];
        const float *wr = w + (size_t)i * n;
        for (int j = 0; j < n; j++)
            g[j] += v * wr[j];
    }
}

TK_ALWAYS_INLINE static inline void trace_d(const tk_lrp_layer *c, const lrp_trace *tr,
                                            const tk_lstm_weights *w, bool reverse)
{
    const tk_layer *l = c->layer;
    int steps = c->in.steps, in_dim = c->in.channels, u = l->units, g4 = 4 * u;
    for (int s = 0; s < steps; s++) {
        const float *xt = c->a + (size_t)(reverse ? steps - 1 - s : s) * in_dim;
        const double *hp = s > 0 ? tr->hd + (size_t)(s - 1) * u : NULL;
        const double *cp = s > 0 ? tr->cd + (size_t)(s - 1) * u : NULL;
        double *g = tr->gd + (size_t)s * g4, *cc = tr->cd + (size_t)s * u, *h = tr->hd + (size_t)s * u;
        for (int j = 0; j < g4; j++)
            g[j] = w->bias ? w->bias[j] : 0.0;
        axpy_rows(g, xt, NULL, in_dim, w->kernel, g4);
        if (hp)
            axpy_rows(g, NULL, hp, u, w->recurrent, g4);
        for (int j = 0; j < u; j++) {
            g[j] = tk_act_value_d(l->recurrent_activation, g[j]);
            g[u + j] = tk_act_value_d(l->recurrent_activation, g[u + j]);
            tr->pd[(size_t)s * u + j] = g[2 * u + j];
            g[2 * u + j] = tk_act_value_d(l->activation, g[2 * u + j]);
            g[3 * u + j] = tk_act_value_d(l->recurrent_activation, g[3 * u + j]);
            cc[j] = g[u + j] * (cp ? cp[j] : 0.0) + g[j] * g[2 * u + j];
            h[j] = g[3 * u + j] * tk_act_value_d(l->activation, cc[j]);
        }
    }
}

/* One direction, backwards in processing order (Arras et al. 2017):
 * R(c_t) += R(h_t); c_t = f⊙c_{t−1} + i⊙g as a dense identity map of 2u
 * inputs (N = 2u); R(pre_g) = R(g); pre_g = x K_g + h_{t−1} R_g + b_g with
 * N = input_dim + units. What reaches h_{−1} and c_{−1} stays there. */
/* Compiled per ISA level (isa.h): the trace's axpys and the products with
 * the transposed g block run along contiguous rows, one multiply and one
 * add per element in the same order as a scalar loop (no contraction), so
 * every level gives the bits of the baseline. */
TK_ISA_CLONES
static void dir_lrp(tk_lrp_layer *c, int dir, int off)
{
    const tk_layer *l = c->layer;
    const tk_lstm_weights *w = &l->lstm[dir];
    int steps = c->in.steps, in_dim = c->in.channels, u = l->units, g4 = 4 * u;
    int out_ch = c->out.channels;
    bool reverse = dir_reverse(l, dir);
    lrp_trace tr = trace_of(c);
    trace_d(c, &tr, w, reverse);
    /* R(x_i) and R(h_i) need Σ_j W[i][g_j] q_g[j] for every i: with the g
     * block transposed, j outer and i inner, each sum still runs over j in
     * order (the bits of a dot product per i) but along contiguous rows */
    int n_in = in_dim + u;
    for (int j = 0; j < u; j++) {
        double *row = tr.wg_t + (size_t)j * n_in;
        for (int i = 0; i < in_dim; i++)
            row[i] = w->kernel[(size_t)i * g4 + 2 * u + j];
        for (int i = 0; i < u; i++)
            row[in_dim + i] = w->recurrent[(size_t)i * g4 + 2 * u + j];
    }
    double eps = c->eps, bf = c->bias_factor;
    double *rh = tr.rh, *rc = tr.rc, *q = tr.q;
    memset(rh, 0, sizeof(double) * u);
    memset(rc, 0, sizeof(double) * u);
    for (int s = steps - 1; s >= 0; s--) {
        int r = output_row(l, dir, s, steps);
        if (r >= 0)
            for (int j = 0; j < u; j++)
                rh[j] += c->ro[(size_t)r * out_ch + off + j];
        const double *act = tr.gd + (size_t)s * g4;
        const double *cp = s > 0 ? tr.cd + (size_t)(s - 1) * u : NULL;
        /* cell update: inputs a1 = f⊙c_prev, a2 = i⊙g, identity weights */
        double share = 0, out_sum = 0, in_sum = 0;
        for (int j = 0; j < u; j++) {
            double rcj = rc[j] + rh[j]; /* signal-take-all: o gets nothing */
            double a1 = act[u + j] * (cp ? cp[j] : 0.0);
            double a2 = act[j] * act[2 * u + j];
            double z = a1 + a2;
            q[j] = tk_lrp_share_q(rcj, z, eps);
            share += bf * (z >= 0 ? eps : -eps) * q[j] / (2.0 * u);
            out_sum += rcj;
        }
        for (int j = 0; j < u; j++) {
            double a1 = act[u + j] * (cp ? cp[j] : 0.0);
            double a2 = act[j] * act[2 * u + j];
            rc[j] = a1 * q[j] + share;        /* to c_prev */
            q[u + j] = a2 * q[j] + share;     /* R(g) = R(pre_g) */
            in_sum += rc[j] + q[u + j];
        }
        *c->absorbed += out_sum - in_sum;
        /* pre_g: linear over [x_t, h_prev] */
        int pos = reverse ? steps - 1 - s : s;
        const float *xt = c->a + (size_t)pos * in_dim;
        const double *hp = s > 0 ? tr.hd + (size_t)(s - 1) * u : NULL;
        int n = in_dim + u;
        double gshare = 0;
        out_sum = in_sum = 0;
        for (int j = 0; j < u; j++) {
            double b = w->bias ? w->bias[2 * u + j] : 0.0, z = tr.pd[(size_t)s * u + j];
            double rg = q[u + j];
            out_sum += rg;
            q[2 * u + j] = tk_lrp_share_q(rg, z, eps);
            gshare += tk_lrp_bias_share(c, b, z, q[2 * u + j], n);
        }
        const double *qg = q + 2 * u;
        double *rx = c->ri + (size_t)pos * in_dim, *acc = tr.acc;
        for (int i = 0; i < n_in; i++)
            acc[i] = 0;
        int j = 0;
        for (; j + 4 <= u; j += 4) { /* four j per pass, each sum still in j order */
            const double *r0 = tr.wg_t + (size_t)j * n_in, *r1 = r0 + n_in, *r2 = r1 + n_in,
                         *r3 = r2 + n_in;
            double q0 = qg[j], q1 = qg[j + 1], q2 = qg[j + 2], q3 = qg[j + 3];
            for (int i = 0; i < n_in; i++) {
                double a = acc[i] + r0[i] * q0;
                a = a + r1[i] * q1;
                a = a + r2[i] * q2;
                acc[i] = a + r3[i] * q3;
            }
        }
        for (; j < u; j++) {
            const double *row = tr.wg_t + (size_t)j * n_in;
            double qj = qg[j];
            for (int i = 0; i < n_in; i++)
                acc[i] += row[i] * qj;
        }
        for (int i = 0; i < in_dim; i++) {
            double v = xt[i] * acc[i] + gshare;
            rx[i] += v;
            in_sum += v;
        }
        for (int i = 0; i < u; i++) {
            rh[i] = (hp ? hp[i] * acc[in_dim + i] : 0.0) + gshare;
            in_sum += rh[i];
        }
        *c->absorbed += out_sum - in_sum;
    }
    /* rh, rc now hold R(h_{-1}), R(c_{-1}) */
    for (int j = 0; j < u; j++)
        *c->init_state += rh[j] + rc[j];
}

static void lstm_lrp(tk_lrp_layer *c)
{
    memset(c->ri, 0, sizeof(double) * tk_rules_size(c->in));
    dir_lrp(c, 0, 0);
    if (n_dirs(c->layer) == 2)
        dir_lrp(c, 1, c->layer->units);
}

/* The input projection and the recurrence, in cost->lstm_gates of the 4
 * gate blocks, per direction. */
static double lstm_macs(const tk_layer *l, tk_shape in, tk_shape out, const tk_backward_cost *cost)
{
    (void)out;
    return (double)n_dirs(l) * in.steps * (in.channels + l->units) * cost->lstm_gates * l->units;
}

const tk_attr_rules tk_rules_lstm = {
    .dl_backward = lstm_dl,
    .dl_prepare = lstm_dl_prepare,
    .dl_scratch = lstm_dl_scratch,
    .lrp_backward = lstm_lrp,
    .lrp_check = lstm_lrp_check,
    .lrp_scratch = lstm_lrp_scratch,
    .backward_macs = lstm_macs,
};
