/* SimpleRNN, GRU and Bidirectional over each, Keras semantics (zero
 * initial state; keras/src/layers/rnn/simple_rnn.py and gru.py):
 *
 * SimpleRNN: h_t = act(x_t K + b + h_{t-1} U)
 * GRU, gate blocks z, r, h of kernel (in, 3u) and recurrent_kernel (u, 3u):
 *   z = ra(x K_z + b_z + h_{t-1} U_z [+ b'_z])
 *   r = ra(x K_r + b_r + h_{t-1} U_r [+ b'_r])
 *   reset_after:  hh = act(x K_h + b_h + r (h_{t-1} U_h + b'_h))   bias (2, 3u)
 *   else:         hh = act(x K_h + b_h + (r h_{t-1}) U_h)           bias (3u)
 *   h_t = z h_{t-1} + (1 - z) hh
 *
 * As for the LSTM, the input projection of every step is one GEMM and the
 * recurrence advances the whole batch one GEMM per step. Dropout and
 * recurrent_dropout act only in training; tokattr trains these layers
 * without them (the rate is kept for writing the config back). */
#include <math.h>
#include <string.h>

#include "core/gemm.h"
#include "model/init.h"
#include "model/layer_ops.h"

static bool is_gru(const tk_layer *l)
{
    return l->kind == TK_LAYER_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
}

static int n_dirs(const tk_layer *l)
{
    return l->kind == TK_LAYER_BIDIRECTIONAL_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN
               ? 2 : 1;
}

static int gate_width(const tk_layer *l)
{
    return is_gru(l) ? 3 * l->units : l->units;
}

/* Per direction: pre (T,B,G), act (T,B,G) [GRU], aux (T,B,U) [GRU], hidden (T,B,U). */
static size_t dir_floats(const tk_layer *l, int batch, int steps)
{
    size_t tb = (size_t)batch * (size_t)steps, g = (size_t)gate_width(l), u = (size_t)l->units;
    return is_gru(l) ? tb * (2 * g + 2 * u) : tb * (g + u);
}

tk_rnn_trace tk_rnn_trace_of(const tk_layer *l, const float *state, int batch, int steps, int dir)
{
    tk_rnn_trace t = {0};
    if (state == NULL || (l->kind != TK_LAYER_SIMPLE_RNN && l->kind != TK_LAYER_GRU &&
                          l->kind != TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN &&
                          l->kind != TK_LAYER_BIDIRECTIONAL_GRU) ||
        dir < 0 || dir >= n_dirs(l))
        return t;
    size_t tb = (size_t)batch * (size_t)steps, g = (size_t)gate_width(l), u = (size_t)l->units;
    const float *p = state + (size_t)dir * dir_floats(l, batch, steps);
    t.pre = p;
    if (is_gru(l)) {
        t.act = p + tb * g;
        t.aux = t.act + tb * g;
        t.hidden = t.aux + tb * u;
    } else {
        t.hidden = p + tb * g;
        t.act = t.hidden; /* SimpleRNN: the activated value is h */
    }
    return t;
}

tk_status tk_rnn_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err)
{
    if (in.steps <= 0)
        return tk_error_set(err, TK_E_INVALID,
                            "layer '%s' (%s) needs a sequence input but gets a vector", l->name,
                            l->class_name);
    if (in.channels != l->input_dim)
        return tk_error_set(err, TK_E_INVALID,
                            "layer '%s' (%s) has a kernel for %d inputs but gets %d channels",
                            l->name, l->class_name, l->input_dim, in.channels);
    int ch = l->units;
    if (tk_layer_directions(l) == 2 && l->merge_mode == TK_MERGE_CONCAT)
        ch = 2 * l->units;
    *out = (tk_shape){l->return_sequences ? in.steps : 0, ch};
    return TK_OK;
}

static size_t rnn_state(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)out;
    return (size_t)n_dirs(l) * dir_floats(l, batch, in.steps);
}

/* forward: xp (B T, G). backward: dXp (B T, G), dH per direction (T B U),
 * dh, dh_prev (B U), drec (B G), daux (B U). */
static size_t rnn_scratch(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)out;
    size_t tb = (size_t)batch * (size_t)in.steps, g = (size_t)gate_width(l), u = (size_t)l->units;
    return tb * g + (size_t)n_dirs(l) * tb * u + (size_t)batch * (3 * u + g);
}

/* The cell's activation: tanh as the LSTM cell computes it (tk_tanh_cell),
 * the others as activation.h. The rules read the stored values, so the
 * choice of tanh formula changes nothing they rely on. */
static inline float cell_act(tk_activation act, float z)
{
    if (act == TK_ACT_TANH)
        return tk_tanh_cell(z);
    if (act == TK_ACT_SIGMOID)
        return tk_sigmoidf(z);
    return tk_act_value(act, z);
}

/* One direction over x (B, T, D) into its trace; xp is scratch (B T, G). */
static void dir_forward(const tk_layer *l, int dir, int B, int T, int D, const float *x,
                        float *state, float *xp)
{
    const tk_rnn_weights *w = &l->rnn[dir];
    int U = l->units, G = gate_width(l);
    bool gru = is_gru(l), back = tk_rnn_dir_backwards(l, dir);
    tk_rnn_trace tr = tk_rnn_trace_of(l, state, B, T, dir);
    float *pre = (float *)tr.pre, *act = (float *)tr.act, *aux = (float *)tr.aux;
    float *hid = (float *)tr.hidden;
    const float *b_in = w->bias, *b_rec = gru && l->reset_after && w->bias ? w->bias + G : NULL;

    /* xp (B T, G) = x K + b_in for every step of every sequence at once */
    float beta = 0.0f;
    if (b_in != NULL) {
        for (size_t r = 0; r < (size_t)B * T; r++)
            memcpy(xp + r * G, b_in, (size_t)G * sizeof *xp);
        beta = 1.0f;
    }
    tk_sgemm(false, false, B * T, G, D, 1.0f, x, D, w->kernel, G, beta, xp, G);

    for (int st = 0; st < T; st++) {
        int t = back ? T - 1 - st : st;
        float *p = pre + (size_t)st * B * G;         /* (B, G) */
        float *a = gru ? act + (size_t)st * B * G : NULL;
        float *h = hid + (size_t)st * B * U;          /* (B, U) */
        const float *hp = st > 0 ? h - (size_t)B * U : NULL;
        if (!gru) {
            for (int b = 0; b < B; b++)
                memcpy(p + (size_t)b * G, xp + ((size_t)b * T + t) * G, (size_t)G * sizeof *p);
            if (hp != NULL)
                tk_sgemm(false, false, B, U, U, 1.0f, hp, U, w->recurrent, U, 1.0f, p, U);
            for (size_t i = 0; i < (size_t)B * U; i++)
                h[i] = cell_act(l->activation, p[i]);
            continue;
        }
        float *q = aux + (size_t)st * B * U; /* (B, U) */
        /* recurrent terms into p: z, r blocks (and q for reset_after) */
        for (int b = 0; b < B; b++) {
            float *pb = p + (size_t)b * G;
            for (int j = 0; j < G; j++)
                pb[j] = b_rec != NULL ? b_rec[j] : 0.0f;
        }
        int ncols = l->reset_after ? G : 2 * U;
        if (hp != NULL)
            tk_sgemm(false, false, B, ncols, U, 1.0f, hp, U, w->recurrent, G, 1.0f, p, G);
        for (int b = 0; b < B; b++) {
            float *pb = p + (size_t)b * G, *ab = a + (size_t)b * G;
            const float *xb = xp + ((size_t)b * T + t) * G;
            for (int j = 0; j < 2 * U; j++) {
                pb[j] += xb[j];
                ab[j] = cell_act(l->recurrent_activation, pb[j]);
            }
            if (l->reset_after) {
                for (int j = 0; j < U; j++) {
                    q[(size_t)b * U + j] = pb[2 * U + j];
                    pb[2 * U + j] = xb[2 * U + j] + ab[U + j] * pb[2 * U + j];
                }
            } else {
                for (int j = 0; j < U; j++) {
                    q[(size_t)b * U + j] = hp != NULL ? ab[U + j] * hp[(size_t)b * U + j] : 0.0f;
                    pb[2 * U + j] = xb[2 * U + j];
                }
            }
        }
        if (!l->reset_after && hp != NULL) /* (r h_{t-1}) U_h */
            tk_sgemm(false, false, B, U, U, 1.0f, q, U, w->recurrent + 2 * U, G, 1.0f, p + 2 * U, G);
        for (int b = 0; b < B; b++) {
            float *pb = p + (size_t)b * G, *ab = a + (size_t)b * G;
            for (int j = 0; j < U; j++) {
                float hh = cell_act(l->activation, pb[2 * U + j]);
                float z = ab[j], hpv = hp != NULL ? hp[(size_t)b * U + j] : 0.0f;
                ab[2 * U + j] = hh;
                h[(size_t)b * U + j] = z * hpv + (1.0f - z) * hh;
            }
        }
    }
}

/* dH (T, B, U): gradient arriving at each step's hidden state. Accumulates
 * parameter gradients; dx (B, T, D) is written (or added to when
 * accumulate) unless NULL. */
static void dir_backward(const tk_layer_ctx *c, int dir, const float *dH, float *dx,
                         bool accumulate, float *scratch)
{
    const tk_layer *l = c->layer;
    const tk_rnn_weights *w = &l->rnn[dir];
    int B = c->batch, T = c->in.steps, D = c->in.channels, U = l->units, G = gate_width(l);
    bool gru = is_gru(l), back = tk_rnn_dir_backwards(l, dir);
    size_t tb = (size_t)B * T;
    tk_rnn_trace tr = tk_rnn_trace_of(l, c->state, B, T, dir);
    float *dXp = scratch;                          /* (B, T, G) input-side gradients */
    float *dh = dXp + tb * G + (size_t)n_dirs(l) * tb * U; /* (B, U) into step st */
    float *dhp = dh + (size_t)B * U;                /* (B, U) to step st-1 */
    float *drec = dhp + (size_t)B * U;              /* (B, G) recurrent-side gradients */
    float *daux = drec + (size_t)B * G;             /* (B, U) */
    float *dw = tk_grad_of(c, w->kernel), *dr = tk_grad_of(c, w->recurrent);
    float *db = tk_grad_of(c, w->bias);
    float *db_rec = db != NULL && gru && l->reset_after ? db + G : NULL;
    memset(dh, 0, (size_t)B * U * sizeof *dh);

    for (int st = T - 1; st >= 0; st--) {
        int t = back ? T - 1 - st : st;
        const float *hp = st > 0 ? tr.hidden + (size_t)(st - 1) * B * U : NULL;
        for (size_t i = 0; i < (size_t)B * U; i++)
            dh[i] += dH[(size_t)st * B * U + i];
        memset(dhp, 0, (size_t)B * U * sizeof *dhp);
        if (!gru) {
            const float *h = tr.hidden + (size_t)st * B * U;
            for (size_t i = 0; i < (size_t)B * U; i++)
                drec[i] = dh[i] * tk_act_grad_from_output(l->activation, h[i]);
            if (hp != NULL) {
                tk_sgemm(false, true, B, U, U, 1.0f, drec, U, w->recurrent, U, 0.0f, dhp, U);
                if (dr != NULL)
                    tk_sgemm(true, false, U, U, B, 1.0f, hp, U, drec, U, 1.0f, dr, U);
            }
        } else {
            const float *a = tr.act + (size_t)st * B * G, *q = tr.aux + (size_t)st * B * U;
            for (int b = 0; b < B; b++) {
                const float *ab = a + (size_t)b * G;
                float *gb = drec + (size_t)b * G;
                for (int j = 0; j < U; j++) {
                    size_t k = (size_t)b * U + j;
                    float z = ab[j], hh = ab[2 * U + j], hpv = hp != NULL ? hp[k] : 0.0f;
                    float g = dh[k];
                    gb[j] = g * (hpv - hh) * tk_act_grad_from_output(l->recurrent_activation, z);
                    gb[2 * U + j] = g * (1.0f - z) * tk_act_grad_from_output(l->activation, hh);
                    dhp[k] = g * z;
                }
            }
            if (l->reset_after) {
                /* candidate pre = xh + r q: dr = dc q; dq = dc r; recurrent side [dz, dr, dq] */
                for (int b = 0; b < B; b++) {
                    const float *ab = a + (size_t)b * G;
                    float *gb = drec + (size_t)b * G;
                    for (int j = 0; j < U; j++) {
                        float dc = gb[2 * U + j], r = ab[U + j];
                        daux[(size_t)b * U + j] = dc; /* the input side's candidate gradient */
                        gb[U + j] = dc * q[(size_t)b * U + j] *
                                    tk_act_grad_from_output(l->recurrent_activation, r);
                        gb[2 * U + j] = dc * r;
                    }
                }
                if (hp != NULL) {
                    tk_sgemm(false, true, B, U, G, 1.0f, drec, G, w->recurrent, G, 1.0f, dhp, U);
                    if (dr != NULL)
                        tk_sgemm(true, false, U, G, B, 1.0f, hp, U, drec, G, 1.0f, dr, G);
                }
                if (db_rec != NULL)
                    for (int b = 0; b < B; b++)
                        for (int j = 0; j < G; j++)
                            db_rec[j] += drec[(size_t)b * G + j];
                for (int b = 0; b < B; b++) {
                    float *dst = dXp + ((size_t)b * T + t) * G;
                    const float *gb = drec + (size_t)b * G;
                    memcpy(dst, gb, (size_t)2 * U * sizeof *dst);
                    memcpy(dst + 2 * U, daux + (size_t)b * U, (size_t)U * sizeof *dst);
                }
                goto next;
            }
            /* reset before: candidate pre = xh + aux U_h, aux = r h_{t-1} */
            if (hp != NULL) {
                tk_sgemm(false, true, B, U, U, 1.0f, drec + 2 * U, G, w->recurrent + 2 * U, G, 0.0f,
                         daux, U);
                if (dr != NULL)
                    tk_sgemm(true, false, U, U, B, 1.0f, q, U, drec + 2 * U, G, 1.0f, dr + 2 * U, G);
                for (int b = 0; b < B; b++) {
                    const float *ab = a + (size_t)b * G;
                    float *gb = drec + (size_t)b * G;
                    for (int j = 0; j < U; j++) {
                        size_t k = (size_t)b * U + j;
                        float r = ab[U + j];
                        gb[U + j] = daux[k] * hp[k] *
                                    tk_act_grad_from_output(l->recurrent_activation, r);
                        dhp[k] += daux[k] * r;
                    }
                }
                tk_sgemm(false, true, B, U, 2 * U, 1.0f, drec, G, w->recurrent, G, 1.0f, dhp, U);
                if (dr != NULL)
                    tk_sgemm(true, false, U, 2 * U, B, 1.0f, hp, U, drec, G, 1.0f, dr, G);
            } else {
                for (int b = 0; b < B; b++)
                    for (int j = 0; j < U; j++)
                        drec[(size_t)b * G + U + j] = 0.0f; /* r multiplies h_{-1} = 0 */
            }
        }
        for (int b = 0; b < B; b++)
            memcpy(dXp + ((size_t)b * T + t) * G, drec + (size_t)b * G, (size_t)G * sizeof *dXp);
    next:
        memcpy(dh, dhp, (size_t)B * U * sizeof *dh);
    }
    if (dx != NULL)
        tk_sgemm(false, true, (int)tb, D, G, 1.0f, dXp, G, w->kernel, G, accumulate ? 1.0f : 0.0f,
                 dx, D);
    if (dw != NULL)
        tk_sgemm(true, false, D, G, (int)tb, 1.0f, c->x, D, dXp, G, 1.0f, dw, G);
    if (db != NULL)
        for (size_t r = 0; r < tb; r++)
            for (int j = 0; j < G; j++)
                db[j] += dXp[r * G + j];
}

static void rnn_forward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    int B = c->batch, T = c->in.steps, nd = n_dirs(l);
    tk_rnn_trace tr[2];
    for (int d = 0; d < nd; d++) {
        dir_forward(l, d, B, T, c->in.channels, c->x, c->state, c->scratch);
        tr[d] = tk_rnn_trace_of(l, c->state, B, T, d);
    }
    tk_rnn_merge_forward(l, B, T, tr[0].hidden, nd == 2 ? tr[1].hidden : NULL, c->y);
}

static void rnn_backward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    int B = c->batch, T = c->in.steps, U = l->units, nd = n_dirs(l), G = gate_width(l);
    size_t tb = (size_t)B * T;
    float *dH = c->scratch + tb * G; /* (nd, T, B, U) */
    tk_rnn_trace tr[2];
    for (int d = 0; d < nd; d++)
        tr[d] = tk_rnn_trace_of(l, c->state, B, T, d);
    tk_rnn_merge_backward(l, B, T, tr[0].hidden, nd == 2 ? tr[1].hidden : NULL, c->dy, dH);
    for (int d = 0; d < nd; d++)
        dir_backward(c, d, dH + (size_t)d * tb * U, c->dx, d > 0, c->scratch);
}

static int rnn_weights(tk_layer *l, tk_weight_spec *s)
{
    int n = 0, nd = n_dirs(l), G = gate_width(l);
    for (int d = 0; d < nd; d++) {
        int dir = nd == 2 ? d : -1;
        s[n++] = (tk_weight_spec){"kernel", dir, 2, {l->input_dim, G, 0}, &l->rnn[d].kernel};
        s[n++] = (tk_weight_spec){"recurrent_kernel", dir, 2, {l->units, G, 0},
                                  &l->rnn[d].recurrent};
        if (!l->use_bias)
            continue;
        if (is_gru(l) && l->reset_after)
            s[n++] = (tk_weight_spec){"bias", dir, 2, {2, G, 0}, &l->rnn[d].bias};
        else
            s[n++] = (tk_weight_spec){"bias", dir, 1, {G, 0, 0}, &l->rnn[d].bias};
    }
    return n;
}

static size_t no_ints(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)l;
    (void)batch;
    (void)in;
    (void)out;
    return 0;
}

/* tk_model_build's SimpleRNN and GRU are tf.keras 2's defaults: tanh (a
 * SimpleRNN may ask for relu), GRU reset_after with sigmoid gates. */
static void rnn_build_defaults(tk_layer *l)
{
    if (is_gru(l) || l->activation != TK_ACT_RELU)
        l->activation = TK_ACT_TANH;
    l->recurrent_activation = TK_ACT_SIGMOID;
    l->reset_after = is_gru(l);
}

static bool rnn_sizes_ok(const tk_layer *l)
{
    return l->units > 0 && l->dropout_rate == 0.0f;
}

/* kernel glorot_uniform, recurrent kernel orthogonal, bias zero (both rows
 * for reset_after); Bidirectional: forward then backward. */
static tk_status rnn_init(tk_layer *l, uint64_t *rng, tk_error *err)
{
    int in_dim = l->in.channels, units = l->units, g = gate_width(l);
    for (int d = 0; d < n_dirs(l); d++) {
        tk_rnn_weights *w = &l->rnn[d];
        tk_init_glorot_uniform(w->kernel, (size_t)in_dim * g, in_dim, g, rng);
        tk_status st = tk_init_orthogonal(w->recurrent, units, g, rng, err);
        if (st != TK_OK)
            return st;
        if (w->bias)
            memset(w->bias, 0, sizeof(float) * (size_t)g * (is_gru(l) && l->reset_after ? 2 : 1));
    }
    return TK_OK;
}

static double rnn_flops(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)out;
    return n_dirs(l) * 2.0 * in.steps * (double)(in.channels + l->units) * gate_width(l);
}

/* A plain layer's input kernel (L2 regularisation). */
static const float *rnn_kernel(const tk_layer *l, size_t *count)
{
    *count = (size_t)l->in.channels * gate_width(l);
    return l->rnn[0].kernel;
}

const tk_layer_ops tk_ops_simple_rnn = {
    .shape = tk_rnn_shape, .state_floats = rnn_state, .state_ints = no_ints,
    .scratch_floats = rnn_scratch, .forward = rnn_forward, .backward = rnn_backward,
    .weights = rnn_weights, .class_name = "SimpleRNN", .base_name = "simple_rnn",
    .sizes_ok = rnn_sizes_ok, .build_defaults = rnn_build_defaults, .init = rnn_init,
    .flops = rnn_flops, .kernel = rnn_kernel,
};
const tk_layer_ops tk_ops_gru = {
    .shape = tk_rnn_shape, .state_floats = rnn_state, .state_ints = no_ints,
    .scratch_floats = rnn_scratch, .forward = rnn_forward, .backward = rnn_backward,
    .weights = rnn_weights, .class_name = "GRU", .base_name = "gru",
    .sizes_ok = rnn_sizes_ok, .build_defaults = rnn_build_defaults, .init = rnn_init,
    .flops = rnn_flops, .kernel = rnn_kernel,
};
const tk_layer_ops tk_ops_bidirectional_simple_rnn = {
    .shape = tk_rnn_shape, .state_floats = rnn_state, .state_ints = no_ints,
    .scratch_floats = rnn_scratch, .forward = rnn_forward, .backward = rnn_backward,
    .weights = rnn_weights, .class_name = "Bidirectional", .base_name = "bidirectional",
    .init = rnn_init, .flops = rnn_flops, .directions = 2,
};
const tk_layer_ops tk_ops_bidirectional_gru = {
    .shape = tk_rnn_shape, .state_floats = rnn_state, .state_ints = no_ints,
    .scratch_floats = rnn_scratch, .forward = rnn_forward, .backward = rnn_backward,
    .weights = rnn_weights, .class_name = "Bidirectional", .base_name = "bidirectional",
    .init = rnn_init, .flops = rnn_flops, .directions = 2,
};
