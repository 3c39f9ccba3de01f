/* epsilon-LRP (Bach et al. 2015) with the LSTM rules of Arras, Montavon,
 * Müller, Samek 2017 ("signal-take-all"), as METHODS.md and the `rule`
 * attribute of ../shared/fixtures/bilstm_lrp.h5 define them.
 *
 * The forward pass is float (tk_dl_forward); relevance is carried in double
 * and every linear map's z is recomputed in double from the stored float
 * inputs, so that with eps = 0 and bias_factor = 1 conservation holds to
 * double rounding rather than to the float forward's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/deeplift_net.h"
#include "attr/method.h"
#include "attr/rules_norm.h"
#include "attr/rules_rnn.h"
#include "attr/target.h"

typedef struct lrp_state {
    const tk_model *model;
    tk_method_params params;
    int max_steps;
    tk_dl_acts *acts;  /* (1) */
    float *x;          /* (max_steps, D) */
    double *r_a, *r_b; /* (max_size) relevance, ping-pong */
    double *q;         /* (max(units, filters) * max_steps) z-normalised relevance */
    double *rh, *rc;   /* (units) carried through the recurrence */
    double *gd, *cd, *hd; /* LSTM trace in double: (steps, 4 units) gates, (steps, units) c and h */
    double *pd;           /* (steps, units): pre-activation of g, the z of its linear rule */
    double absorbed;   /* relevance that biases and eps took, this review */
    double init_state; /* relevance left on initial LSTM states, this review */
} lrp_state;

static void lrp_destroy(void *p)
{
    lrp_state *st = p;
    if (!st)
        return;
    tk_dl_acts_destroy(st->acts);
    free(st->x);
    free(st->r_a);
    free(st->r_b);
    free(st->q);
    free(st->rh);
    free(st->rc);
    free(st->gd);
    free(st->cd);
    free(st->hd);
    free(st->pd);
    free(st);
}

static const tk_layer *body(const lrp_state *st, int k)
{
    return &st->model->layers[st->model->first_body_layer + k];
}

static tk_status lrp_create(const tk_model *model, const tk_method_params *params,
                            const tk_background *bg, int max_steps, void **out, tk_error *err)
{
    (void)bg;
    *out = NULL;
    lrp_state *st = tk_calloc(1, sizeof *st, err);
    if (!st)
        return TK_E_NOMEM;
    st->model = model;
    st->params = *params;
    st->max_steps = max_steps;
    tk_dl_plan plan;
    tk_status s = tk_dl_plan_init(&plan, model, max_steps, err);
    if (s != TK_OK)
        goto fail;
    int wide = 1;
    for (int k = 0; k < plan.n; k++) {
        const tk_layer *l = body(st, k);
        if (tk_layer_rnn_dirs(l) == 2 && l->merge_mode != TK_MERGE_CONCAT) {
            s = tk_error_set(err, TK_E_UNSUPPORTED, "layer %s: LRP supports Bidirectional merge_mode 'concat' only",
                             l->name);
            tk_dl_plan_free(&plan);
            goto fail;
        }
        int w = l->units > l->filters ? l->units : l->filters;
        if (w > wide)
            wide = w;
    }
    size_t ms = (size_t)plan.max_size;
    tk_dl_plan_free(&plan);
    if (!isfinite(params->eps) || params->eps < 0 || !isfinite(params->bias_factor)) {
        s = tk_error_set(err, TK_E_INVALID, "method %s: eps must be >= 0 and bias_factor finite",
                         params->name);
        goto fail;
    }
    st->x = tk_calloc((size_t)max_steps * model->input_dim, sizeof(float), err);
    st->r_a = tk_malloc(ms, sizeof(double), err);
    st->r_b = tk_malloc(ms, sizeof(double), err);
    st->q = tk_malloc((size_t)wide * 4 * max_steps, sizeof(double), err);
    st->rh = tk_malloc((size_t)wide, sizeof(double), err);
    st->rc = tk_malloc((size_t)wide, sizeof(double), err);
    st->gd = tk_malloc((size_t)wide * 4 * max_steps, sizeof(double), err);
    st->cd = tk_malloc((size_t)wide * max_steps, sizeof(double), err);
    st->hd = tk_malloc((size_t)wide * max_steps, sizeof(double), err);
    st->pd = tk_malloc((size_t)wide * max_steps, sizeof(double), err);
    if (!st->x || !st->r_a || !st->r_b || !st->q || !st->rh || !st->rc || !st->gd || !st->cd || !st->hd || !st->pd) {
        s = TK_E_NOMEM;
        goto fail;
    }
    if ((s = tk_dl_acts_create(model, 1, max_steps, &st->acts, err)) != TK_OK)
        goto fail;
    *out = st;
    return TK_OK;
fail:
    lrp_destroy(st);
    return s;
}

/* z + eps·s (s = sign(z), sign(0) = +1), and q = R / that (0 when it is 0,
 * which only eps = 0 allows: that relevance is then lost and shows in the
 * conservation error). */
static inline double stab(double z, double eps)
{
    return z + (z >= 0 ? eps : -eps);
}

static inline double share_q(double r, double z, double eps)
{
    double den = stab(z, eps);
    return den != 0.0 ? r / den : 0.0;
}

/* The bias/eps share bias_factor·(b_j + eps·s_j)/N · q_j that every one of
 * the N inputs of unit j receives. */
static inline double bias_share(const lrp_state *st, double b, double z, double q, int n)
{
    return st->params.bias_factor * (b + (z >= 0 ? st->params.eps : -st->params.eps)) * q / n;
}

/* Dense on rows (Keras applies it to the last axis): R_in (rows, in), R_out (rows, units). */
static void dense_relevance(lrp_state *st, const tk_layer *l, int rows, int in_ch, const float *a,
                            const double *ro, double *ri)
{
    int u = l->units;
    double eps = st->params.eps;
    for (int r = 0; r < rows; r++) {
        const float *ar = a + (size_t)r * in_ch;
        double *q = st->q, share = 0, out_sum = 0;
        for (int j = 0; j < u; j++) {
            double z = l->use_bias && l->bias ? l->bias[j] : 0.0;
            for (int i = 0; i < in_ch; i++)
                z += (double)ar[i] * l->kernel[(size_t)i * u + j];
            double rj = ro[(size_t)r * u + j];
            q[j] = share_q(rj, z, eps);
            share += bias_share(st, l->use_bias && l->bias ? l->bias[j] : 0.0, z, q[j], in_ch);
            out_sum += rj;
        }
        double in_sum = 0;
        for (int i = 0; i < in_ch; i++) {
            const float *w = l->kernel + (size_t)i * u;
            double acc = 0;
            for (int j = 0; j < u; j++)
                acc += w[j] * q[j];
            ri[(size_t)r * in_ch + i] = ar[i] * acc + share;
            in_sum += ri[(size_t)r * in_ch + i];
        }
        st->absorbed += out_sum - in_sum;
    }
}

/* Conv1D: every (position, filter) unit is a linear map over its window;
 * N = the inputs the window really reads. Units without relevance (all but
 * the arg-max after global max pooling) are skipped. */
static void conv_relevance(lrp_state *st, const tk_layer *l, tk_shape si, tk_shape so,
                           const float *a, const double *ro, double *ri)
{
    int ch = si.channels, nf = l->filters;
    double eps = st->params.eps;
    memset(ri, 0, sizeof(double) * (size_t)si.steps * ch);
    double out_sum = 0, in_sum = 0;
    for (int t = 0; t < so.steps; t++) {
        int first, last;
        int taps = tk_dl_conv_window(l, si.steps, t, &first, &last);
        int n = taps * ch;
        for (int f = 0; f < nf; f++) {
            double rj = ro[(size_t)t * nf + f];
            if (rj == 0.0 || n == 0)
                continue;
            double b = l->use_bias && l->bias ? l->bias[f] : 0.0, z = b;
            for (int k = first; k <= last; k++) {
                int p = tk_dl_conv_pos(l, si.steps, t, k);
                if (p < 0 || p >= si.steps)
                    continue;
                const float *w = l->kernel + (size_t)k * ch * nf + f;
                for (int c = 0; c < ch; c++)
                    z += (double)a[(size_t)p * ch + c] * w[(size_t)c * nf];
            }
            double q = share_q(rj, z, eps), share = bias_share(st, b, z, q, n);
            out_sum += rj;
            for (int k = first; k <= last; k++) {
                int p = tk_dl_conv_pos(l, si.steps, t, k);
                if (p < 0 || p >= si.steps)
                    continue;
                const float *w = l->kernel + (size_t)k * ch * nf + f;
                for (int c = 0; c < ch; c++) {
                    double v = (double)a[(size_t)p * ch + c] * w[(size_t)c * nf] * q + share;
                    ri[(size_t)p * ch + c] += v;
                    in_sum += v;
                }
            }
        }
    }
    st->absorbed += out_sum - in_sum;
}

/* Average pooling as the linear map it is: weights 1/count, no bias. */
static void avg_relevance(lrp_state *st, const tk_layer *l, tk_shape si, tk_shape so, const float *a,
                          const double *ro, double *ri)
{
    bool global = l->kind == TK_LAYER_GLOBAL_AVG_POOL1D;
    int nout = global ? 1 : so.steps, ch = si.channels;
    int pad = 0, win = global ? si.steps : l->pool_size, stride = global ? 0 : l->pool_strides;
    if (!global && l->pool_padding_same) {
        int total = (so.steps - 1) * l->pool_strides + l->pool_size - si.steps;
        pad = total > 0 ? total / 2 : 0;
    }
    memset(ri, 0, sizeof(double) * (size_t)si.steps * ch);
    double out_sum = 0, in_sum = 0;
    for (int t = 0; t < nout; t++) {
        int first = t * stride - pad, cnt = 0;
        for (int q = 0; q < win; q++)
            cnt += first + q >= 0 && first + q < si.steps;
        for (int c = 0; c < ch; c++) {
            double z = 0, rj = ro[(size_t)t * ch + c];
            for (int q = 0; q < win; q++)
                if (first + q >= 0 && first + q < si.steps)
                    z += (double)a[(size_t)(first + q) * ch + c] / cnt;
            double qq = share_q(rj, z, st->params.eps), share = bias_share(st, 0.0, z, qq, cnt);
            out_sum += rj;
            for (int q = 0; q < win; q++)
                if (first + q >= 0 && first + q < si.steps) {
                    double v = (double)a[(size_t)(first + q) * ch + c] / cnt * qq + share;
                    ri[(size_t)(first + q) * ch + c] += v;
                    in_sum += v;
                }
        }
    }
    st->absorbed += out_sum - in_sum;
}

/* Winner-take-all: each pooled unit's relevance to its window's arg-max. */
static void max_relevance(const tk_layer *l, tk_shape si, tk_shape so, const float *a, const double *ro,
                          double *ri)
{
    bool global = l->kind == TK_LAYER_GLOBAL_MAX_POOL1D;
    int nout = global ? 1 : so.steps, ch = si.channels;
    int pad = 0, win = global ? si.steps : l->pool_size, stride = global ? 0 : l->pool_strides;
    if (!global && l->pool_padding_same) {
        int total = (so.steps - 1) * l->pool_strides + l->pool_size - si.steps;
        pad = total > 0 ? total / 2 : 0;
    }
    memset(ri, 0, sizeof(double) * (size_t)si.steps * ch);
    for (int t = 0; t < nout; t++)
        for (int c = 0; c < ch; c++) {
            int lo = t * stride - pad, hi = lo + win;
            lo = lo < 0 ? 0 : lo;
            hi = hi > si.steps ? si.steps : hi;
            int best = lo + tk_dl_argmax(a + (size_t)lo * ch + c, hi - lo, (size_t)ch);
            ri[(size_t)best * ch + c] += ro[(size_t)t * ch + c];
        }
}

static double act_d(tk_activation act, double z)
{
    switch (act) {
    case TK_ACT_SIGMOID:
        return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
    case TK_ACT_HARD_SIGMOID:
        return fmin(fmax(0.2 * z + 0.5, 0.0), 1.0);
    case TK_ACT_HARD_SIGMOID_K3:
        return fmin(fmax(z / 6.0 + 0.5, 0.0), 1.0);
    case TK_ACT_TANH:
        return tanh(z);
    case TK_ACT_RELU:
        return z > 0 ? z : 0.0;
    default:
        return z;
    }
}

/* The direction's gates, cells and hidden states again, in double: with
 * eps = 0 the rule divides by z = c_t and pre_g, and small ones magnify the
 * float forward's rounding (the fixture's conservation group is float64). */
static void lstm_trace_d(lrp_state *st, const tk_layer *l, const tk_lstm_weights *w, int steps,
                         int in_dim, const float *x, bool reverse)
{
    int u = l->units, g4 = 4 * u;
    for (int s = 0; s < steps; s++) {
        const float *xt = x + (size_t)(reverse ? steps - 1 - s : s) * in_dim;
        const double *hp = s > 0 ? st->hd + (size_t)(s - 1) * u : NULL;
        const double *cp = s > 0 ? st->cd + (size_t)(s - 1) * u : NULL;
        double *g = st->gd + (size_t)s * g4, *c = st->cd + (size_t)s * u, *h = st->hd + (size_t)s * u;
        for (int j = 0; j < g4; j++)
            g[j] = w->bias ? w->bias[j] : 0.0;
        for (int i = 0; i < in_dim; i++) {
            double xi = xt[i];
            const float *wr = w->kernel + (size_t)i * g4;
            for (int j = 0; j < g4; j++)
                g[j] += xi * wr[j];
        }
        for (int i = 0; hp && i < u; i++) {
            double hi = hp[i];
            const float *wr = w->recurrent + (size_t)i * g4;
            for (int j = 0; j < g4; j++)
                g[j] += hi * wr[j];
        }
        for (int j = 0; j < u; j++) {
            g[j] = act_d(l->recurrent_activation, g[j]);
            g[u + j] = act_d(l->recurrent_activation, g[u + j]);
            st->pd[(size_t)s * u + j] = g[2 * u + j];
            g[2 * u + j] = act_d(l->activation, g[2 * u + j]);
            g[3 * u + j] = act_d(l->recurrent_activation, g[3 * u + j]);
            c[j] = g[u + j] * (cp ? cp[j] : 0.0) + g[j] * g[2 * u + j];
            h[j] = g[3 * u + j] * act_d(l->activation, c[j]);
        }
    }
}

/* One LSTM direction, backwards in processing order (Arras et al. 2017):
 * R(c_t) += R(h_t); c_t = f⊙c_{t−1} + i⊙g as a dense identity map of 2u
 * inputs (N = 2u); R(pre_g) = R(g); pre_g = x K_g + h_{t−1} R_g + b_g with
 * N = input_dim + units. What reaches h_{−1} and c_{−1} stays there. */
static void lstm_relevance(lrp_state *st, int k, int dir, bool reverse, bool flip, tk_shape si, int out_ch,
                           int off, const double *ro, double *ri)
{
    const tk_layer *l = body(st, k);
    const tk_lstm_weights *w = &l->lstm[dir];
    int steps = si.steps, in_dim = si.channels, u = l->units, g4 = 4 * u;
    const float *x = k == 0 ? st->acts->x : st->acts->out[k - 1]; /* (steps, in_dim) */
    lstm_trace_d(st, l, w, steps, in_dim, x, reverse);
    double eps = st->params.eps, bf = st->params.bias_factor;
    double *rh = st->rh, *rc = st->rc, *q = st->q;
    memset(rh, 0, sizeof(double) * u);
    memset(rc, 0, sizeof(double) * u);
    for (int s = steps - 1; s >= 0; s--) {
        int r = l->return_sequences ? (flip ? steps - 1 - s : s) : (s == steps - 1 ? 0 : -1);
        if (r >= 0)
            for (int j = 0; j < u; j++)
                rh[j] += ro[(size_t)r * out_ch + off + j];
        const double *act = st->gd + (size_t)s * g4;
        const double *cp = s > 0 ? st->cd + (size_t)(s - 1) * u : NULL;
        /* cell update: inputs a1 = f⊙c_prev, a2 = i⊙g, identity weights */
        double share = 0, out_sum = 0, in_sum = 0;
        for (int j = 0; j < u; j++) {
            double rcj = rc[j] + rh[j]; /* signal-take-all: o gets nothing */
            double a1 = act[u + j] * (cp ? cp[j] : 0.0);
            double a2 = act[j] * act[2 * u + j];
            double z = a1 + a2;
            q[j] = share_q(rcj, z, eps);
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
        st->absorbed += out_sum - in_sum;
        /* pre_g: linear over [x_t, h_prev] */
        int pos = reverse ? steps - 1 - s : s;
        const float *xt = x + (size_t)pos * in_dim;
        const double *hp = s > 0 ? st->hd + (size_t)(s - 1) * u : NULL;
        int n = in_dim + u;
        double gshare = 0;
        out_sum = in_sum = 0;
        for (int j = 0; j < u; j++) {
            double b = w->bias ? w->bias[2 * u + j] : 0.0, z = st->pd[(size_t)s * u + j];
            double rg = q[u + j];
            out_sum += rg;
            q[2 * u + j] = share_q(rg, z, eps);
            gshare += bias_share(st, b, z, q[2 * u + j], n);
        }
        const double *qg = q + 2 * u;
        double *rx = ri + (size_t)pos * in_dim;
        for (int i = 0; i < in_dim; i++) {
            const float *wr = w->kernel + (size_t)i * g4 + 2 * u;
            double acc = 0;
            for (int j = 0; j < u; j++)
                acc += wr[j] * qg[j];
            double v = xt[i] * acc + gshare;
            rx[i] += v;
            in_sum += v;
        }
        for (int i = 0; i < u; i++) {
            const float *wr = w->recurrent + (size_t)i * g4 + 2 * u;
            double acc = 0;
            for (int j = 0; j < u; j++)
                acc += wr[j] * qg[j];
            rh[i] = (hp ? hp[i] * acc : 0.0) + gshare;
            in_sum += rh[i];
        }
        st->absorbed += out_sum - in_sum;
    }
    /* rh, rc now hold R(h_{-1}), R(c_{-1}) */
    for (int j = 0; j < u; j++)
        st->init_state += rh[j] + rc[j];
}

static tk_status lrp_explain(void *p, const tk_review *rv, tk_attribution *out, tk_error *err)
{
    lrp_state *st = p;
    const tk_model *m = st->model;
    int d = m->input_dim, steps = rv->steps;
    tk_status s;
    if (steps <= 0 || steps > st->max_steps)
        return tk_error_set(err, TK_E_INVALID, "method %s: review of %d steps (this explainer takes 1 to %d)",
                            st->params.name, steps, st->max_steps);
    if (rv->ids)
        s = m->has_embedding ? tk_dl_embed(m, rv->ids, 1, steps, st->x, err)
                             : tk_error_set(err, TK_E_INVALID, "method %s: token ids given to a model without an embedding",
                                            st->params.name);
    else if (rv->vectors)
        memcpy(st->x, rv->vectors, sizeof(float) * (size_t)steps * d), s = TK_OK;
    else
        s = tk_error_set(err, TK_E_INVALID, "method %s: review has neither ids nor vectors", st->params.name);
    if (s != TK_OK)
        return s;
    tk_dl_plan plan;
    if ((s = tk_dl_plan_init(&plan, m, steps, err)) != TK_OK)
        return s;
    if ((s = tk_dl_forward(&plan, st->acts, 1, st->x, err)) != TK_OK)
        goto done;
    const float *z = tk_dl_logits(&plan, st->acts, 0);
    int target;
    if ((s = tk_choose_target(m, &st->params, z, rv->label, &target, err)) != TK_OK)
        goto done;
    out->target = target;
    out->predicted = tk_predicted_class(m, z);
    double logit = tk_explained_scalar(m, TK_OUTPUT_LOGIT, target, z, NULL);
    out->f_input = logit;
    out->f_baseline = 0;
    st->absorbed = 0;
    st->init_state = 0;

    double *ro = st->r_a, *ri = st->r_b;
    for (int c = 0; c < m->n_outputs; c++)
        ro[c] = 0.0;
    ro[m->n_outputs == 1 ? 0 : target] = logit;
    for (int k = plan.n - 1; k >= 0; k--) {
        const tk_layer *l = body(st, k);
        tk_shape si = plan.in[k], so = plan.out[k];
        size_t isz = (size_t)(si.steps > 0 ? si.steps : 1) * si.channels;
        const float *a = k == 0 ? st->acts->x : st->acts->out[k - 1];
        if (tk_rules_rnn_kind(l) || l->kind == TK_LAYER_BATCH_NORM) {
            s = tk_rules_rnn_kind(l)
                    ? tk_rules_rnn_lrp(l, si, so, a, ro, ri, st->params.eps, st->params.bias_factor,
                                       &st->absorbed, &st->init_state, err)
                    : tk_rules_norm_lrp(l, si, a, ro, ri, st->params.eps, st->params.bias_factor,
                                        &st->absorbed, err);
            if (s != TK_OK)
                goto done;
            double *t = ro;
            ro = ri;
            ri = t;
            continue;
        }
        switch (l->kind) {
        case TK_LAYER_DENSE:
            dense_relevance(st, l, si.steps > 0 ? si.steps : 1, si.channels, a, ro, ri);
            break;
        case TK_LAYER_CONV1D:
            conv_relevance(st, l, si, so, a, ro, ri);
            break;
        case TK_LAYER_MAX_POOL1D:
        case TK_LAYER_GLOBAL_MAX_POOL1D:
            max_relevance(l, si, so, a, ro, ri);
            break;
        case TK_LAYER_AVG_POOL1D:
        case TK_LAYER_GLOBAL_AVG_POOL1D:
            avg_relevance(st, l, si, so, a, ro, ri);
            break;
        case TK_LAYER_LSTM:
            memset(ri, 0, sizeof(double) * isz);
            lstm_relevance(st, k, 0, l->go_backwards, false, si, so.channels, 0, ro, ri);
            break;
        case TK_LAYER_BIDIRECTIONAL:
            memset(ri, 0, sizeof(double) * isz);
            lstm_relevance(st, k, 0, l->go_backwards, false, si, so.channels, 0, ro, ri);
            lstm_relevance(st, k, 1, !l->go_backwards, true, si, so.channels, l->units, ro, ri);
            break;
        default: /* activations, Dropout, Flatten: relevance passes unchanged */
            memcpy(ri, ro, sizeof(double) * isz);
            break;
        }
        double *t = ro;
        ro = ri;
        ri = t;
    }
    double tokens = 0;
    for (int t = 0; t < steps; t++) {
        double sum = 0, sq = 0;
        for (int j = 0; j < d; j++) {
            double r = ro[(size_t)t * d + j];
            sum += r;
            sq += r * r;
            if (out->full)
                out->full[(size_t)t * d + j] = (float)r;
        }
        tokens += sum;
        out->score[t] = (float)(st->params.reduce == TK_REDUCE_L2 ? sqrt(sq) : sum);
    }
    out->lrp_init_state = st->init_state;
    out->lrp_absorbed = st->absorbed;
    out->axiom_error = logit - tokens - st->init_state;
done:
    tk_dl_plan_free(&plan);
    return s;
}

/* The forward pass plus one relevance pass touching every weight once
 * (for Conv1D behind global max pooling: one window per filter). */
static double lrp_flops(const void *p, int steps)
{
    const lrp_state *st = p;
    tk_dl_plan plan;
    if (tk_dl_plan_init(&plan, st->model, steps, NULL) != TK_OK)
        return 0;
    double f = tk_dl_forward_flops(&plan), back = tk_dl_backward_flops(&plan, 4.0, 1, 1);
    tk_dl_plan_free(&plan);
    return f + back;
}

const tk_method_ops tk_lrp_ops = {
    .create = lrp_create,
    .explain = lrp_explain,
    .destroy = lrp_destroy,
    .flops = lrp_flops,
};
