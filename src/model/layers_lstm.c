/* LSTM and Bidirectional(LSTM), Keras semantics (gate order i, f, g, o;
 * c_t = f c_{t-1} + i g; h_t = o tanh(c_t); zero initial states).
 *
 * The input projection of all steps of all sequences is one GEMM; the
 * recurrence then advances every sequence of the batch together, one GEMM
 * of M = batch rows per step. Training input dropout follows Keras'
 * implementation 2: one mask (batch, input_dim) for all steps and gates. */
#include <math.h>
#include <string.h>

#include "core/gemm.h"
#include "core/rng.h"
#include "model/init.h"
#include "model/layer_ops.h"

/* Per direction, the state block holds, in order:
 * gates (T, B, 4U) activated, cells (T, B, U), hidden (T, B, U),
 * and with input dropout: mask (B, D), masked input (B, T, D). */
typedef struct dir_state {
    float *gates, *cells, *hidden, *mask, *xm;
} dir_state;

static int n_dirs(const tk_layer *l)
{
    return l->kind == TK_LAYER_BIDIRECTIONAL ? 2 : 1;
}

static size_t dir_floats(const tk_layer *l, int batch, int steps, int in_dim)
{
    size_t tb = (size_t)batch * (size_t)steps, u = (size_t)l->units;
    size_t n = tb * 4 * u + 2 * tb * u;
    if (l->dropout_rate > 0.0f)
        n += (size_t)batch * in_dim + tb * in_dim;
    return n;
}

static dir_state dir_state_at(const tk_layer *l, float *state, int batch, int steps, int in_dim,
                              int dir)
{
    size_t tb = (size_t)batch * (size_t)steps, u = (size_t)l->units;
    float *p = state + (size_t)dir * dir_floats(l, batch, steps, in_dim);
    dir_state s = {0};
    s.gates = p;
    s.cells = p + tb * 4 * u;
    s.hidden = s.cells + tb * u;
    if (l->dropout_rate > 0.0f) {
        s.mask = s.hidden + tb * u;
        s.xm = s.mask + (size_t)batch * in_dim;
    }
    return s;
}

tk_lstm_trace tk_lstm_trace_of(const tk_layer *l, float *state, int batch, int steps, int in_dim,
                               int dir)
{
    tk_lstm_trace t = {0};
    if (state == NULL || dir < 0 || dir >= n_dirs(l))
        return t;
    dir_state s = dir_state_at(l, state, batch, steps, in_dim, dir);
    t.gates = s.gates;
    t.cells = s.cells;
    t.hidden = s.hidden;
    return t;
}

static size_t lstm_state(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)out;
    return (size_t)n_dirs(l) * dir_floats(l, batch, in.steps, in.channels);
}

static size_t lstm_scratch(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)out;
    size_t tb = (size_t)batch * (size_t)in.steps, u = (size_t)l->units;
    /* backward: dZ + dXp (T B 4U each), dH per direction (T B U), dh, dc (B U), dx temp (T B D) */
    return 2 * tb * 4 * u + (size_t)n_dirs(l) * tb * u + 2 * (size_t)batch * u +
           tb * (size_t)in.channels;
}

static float rec_act(tk_activation a, float v)
{
    return tk_act_value(a, v);
}

/* Derivative of the recurrent activation from its value y. */
static float rec_grad(tk_activation a, float y)
{
    if (a == TK_ACT_HARD_SIGMOID)
        return (y > 0.0f && y < 1.0f) ? 0.2f : 0.0f;
    if (a == TK_ACT_HARD_SIGMOID_K3)
        return tk_act_grad_from_output(a, y);
    return y * (1.0f - y);
}

/* The kept pre-activations of direction dir (tk_workspace_keep_pre):
 * gate pre-activations (T, B, 4U), then tanh(c_t) (T, B, U). */
static size_t dir_pre_floats(const tk_layer *l, int batch, int steps)
{
    return (size_t)batch * (size_t)steps * 5 * (size_t)l->units;
}

void tk_lstm_pre_of(const tk_layer *l, float *pre, int batch, int steps, int dir,
                    tk_lstm_trace *t)
{
    if (pre == NULL || dir < 0 || dir >= n_dirs(l))
        return;
    float *p = pre + (size_t)dir * dir_pre_floats(l, batch, steps);
    t->pre = p;
    t->tanh_cells = p + (size_t)batch * (size_t)steps * 4 * (size_t)l->units;
}

static void dir_forward(const tk_layer_ctx *c, int dir, const float *x, dir_state *s, float *xp)
{
    const tk_layer *l = c->layer;
    const tk_lstm_weights *w = &l->lstm[dir];
    int B = c->batch, T = c->in.steps, D = c->in.channels, U = l->units, G = 4 * U;
    bool back = tk_rnn_dir_backwards(l, dir);
    tk_lstm_trace kp = {0};
    tk_lstm_pre_of(l, c->pre, B, T, dir, &kp);

    /* xp (B * T, 4U) = x W + b for every step of every sequence at once. */
    float beta = 0.0f;
    if (w->bias != NULL) {
        for (size_t r = 0; r < (size_t)B * T; r++)
            memcpy(xp + r * G, w->bias, (size_t)G * sizeof *xp);
        beta = 1.0f;
    }
    tk_sgemm(false, false, B * T, G, D, 1.0f, x, D, w->kernel, G, beta, xp, G);

    for (int st = 0; st < T; st++) {
        int t = back ? T - 1 - st : st;
        float *g = s->gates + (size_t)st * B * G;   /* (B, 4U) */
        float *cc = s->cells + (size_t)st * B * U;  /* (B, U) */
        float *h = s->hidden + (size_t)st * B * U;  /* (B, U) */
        for (int b = 0; b < B; b++)
            memcpy(g + (size_t)b * G, xp + ((size_t)b * T + t) * G, (size_t)G * sizeof *g);
        if (st > 0)
            tk_sgemm(false, false, B, G, U, 1.0f, h - (size_t)B * U, U, w->recurrent, G, 1.0f, g, G);
        if (kp.pre != NULL)
            memcpy((float *)kp.pre + (size_t)st * B * G, g, (size_t)B * G * sizeof *g);
        for (int b = 0; b < B; b++) {
            float *gb = g + (size_t)b * G;
            const float *cprev = st > 0 ? cc - (size_t)B * U + (size_t)b * U : NULL;
            for (int j = 0; j < U; j++) {
                float i = rec_act(l->recurrent_activation, gb[j]);
                float f = rec_act(l->recurrent_activation, gb[U + j]);
                float gg = tk_tanh_cell(gb[2 * U + j]);
                float o = rec_act(l->recurrent_activation, gb[3 * U + j]);
                gb[j] = i;
                gb[U + j] = f;
                gb[2 * U + j] = gg;
                gb[3 * U + j] = o;
                float cv = i * gg + (cprev != NULL ? f * cprev[j] : 0.0f);
                cc[(size_t)b * U + j] = cv;
                float tc = tk_tanh_cell(cv);
                if (kp.tanh_cells != NULL)
                    ((float *)kp.tanh_cells)[((size_t)st * B + b) * U + j] = tc;
                h[(size_t)b * U + j] = o * tc;
            }
        }
    }
}

/* dH (T, B, U): gradient arriving at each step's hidden state from the
 * layer's output. Accumulates parameter gradients; dx (B, T, D) is
 * written (or added to when accumulate) unless NULL. */
static void dir_backward(const tk_layer_ctx *c, int dir, const float *x, const dir_state *s,
                         const float *dH, float *dx, bool accumulate, float *scratch)
{
    const tk_layer *l = c->layer;
    const tk_lstm_weights *w = &l->lstm[dir];
    int B = c->batch, T = c->in.steps, D = c->in.channels, U = l->units, G = 4 * U;
    bool back = tk_rnn_dir_backwards(l, dir);
    size_t tb = (size_t)B * T;
    float *dZ = scratch;                 /* (T, B, 4U) pre-activation gate gradients */
    float *dXp = dZ + tb * G;            /* (B, T, 4U) the same in input order */
    float *dh = dXp + tb * G;            /* (B, U) from step s+1 through the recurrence */
    float *dc = dh + (size_t)B * U;      /* (B, U) */
    memset(dh, 0, (size_t)B * U * sizeof *dh);
    memset(dc, 0, (size_t)B * U * sizeof *dc);

    for (int st = T - 1; st >= 0; st--) {
        const float *g = s->gates + (size_t)st * B * G;
        const float *cc = s->cells + (size_t)st * B * U;
        float *dz = dZ + (size_t)st * B * G;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                size_t k = (size_t)b * U + j;
                const float *gb = g + (size_t)b * G;
                float i = gb[j], f = gb[U + j], gg = gb[2 * U + j], o = gb[3 * U + j];
                float cprev = st > 0 ? cc[k - (size_t)B * U] : 0.0f;
                float tc = tk_tanh_cell(cc[k]);
                float dhv = dh[k] + dH[(size_t)st * B * U + k];
                float dcv = dc[k] + dhv * o * (1.0f - tc * tc);
                float *dzb = dz + (size_t)b * G;
                dzb[j] = dcv * gg * rec_grad(l->recurrent_activation, i);
                dzb[U + j] = dcv * cprev * rec_grad(l->recurrent_activation, f);
                dzb[2 * U + j] = dcv * i * (1.0f - gg * gg);
                dzb[3 * U + j] = dhv * tc * rec_grad(l->recurrent_activation, o);
                dc[k] = dcv * f;
            }
        if (st > 0)
            tk_sgemm(false, true, B, U, G, 1.0f, dz, G, w->recurrent, G, 0.0f, dh, U);
    }
    for (int st = 0; st < T; st++) {
        int t = back ? T - 1 - st : st;
        for (int b = 0; b < B; b++)
            memcpy(dXp + ((size_t)b * T + t) * G, dZ + ((size_t)st * B + b) * G,
                   (size_t)G * sizeof *dXp);
    }
    if (dx != NULL)
        tk_sgemm(false, true, (int)tb, D, G, 1.0f, dXp, G, w->kernel, G, accumulate ? 1.0f : 0.0f, dx,
                     D);
    float *dw = tk_grad_of(c, w->kernel), *dr = tk_grad_of(c, w->recurrent);
    float *db = tk_grad_of(c, w->bias);
    if (dw != NULL)
        tk_sgemm(true, false, D, G, (int)tb, 1.0f, x, D, dXp, G, 1.0f, dw, G);
    /* h_{s-1} pairs with dZ[s]: hidden[0 .. T-2] against dZ[1 .. T-1], one GEMM. */
    if (dr != NULL && T > 1)
        tk_sgemm(true, false, U, G, (T - 1) * B, 1.0f, s->hidden, U, dZ + (size_t)B * G, G, 1.0f,
                 dr, G);
    if (db != NULL)
        for (size_t r = 0; r < tb; r++)
            for (int j = 0; j < G; j++)
                db[j] += dZ[r * G + j];
}

/* The input a direction sees: x, or x times its dropout mask in training. */
static const float *dir_input(const tk_layer_ctx *c, dir_state *s, bool draw)
{
    const tk_layer *l = c->layer;
    if (!c->training || l->dropout_rate <= 0.0f || s->mask == NULL)
        return c->x;
    int B = c->batch, T = c->in.steps, D = c->in.channels;
    if (draw) {
        float keep = 1.0f / (1.0f - l->dropout_rate);
        for (size_t i = 0; i < (size_t)B * D; i++)
            s->mask[i] = tk_rng_uniform(c->rng) >= l->dropout_rate ? keep : 0.0f;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int k = 0; k < D; k++)
                    s->xm[((size_t)b * T + t) * D + k] =
                        c->x[((size_t)b * T + t) * D + k] * s->mask[(size_t)b * D + k];
    }
    return s->xm;
}

static void lstm_forward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    int B = c->batch, T = c->in.steps, nd = n_dirs(l);
    dir_state s[2];
    for (int d = 0; d < nd; d++) {
        s[d] = dir_state_at(l, c->state, B, T, c->in.channels, d);
        dir_forward(c, d, dir_input(c, &s[d], true), &s[d], c->scratch);
    }
    tk_rnn_merge_forward(l, B, T, s[0].hidden, nd == 2 ? s[1].hidden : NULL, c->y);
}

static void lstm_backward(const tk_layer_ctx *c)
{
    const tk_layer *l = c->layer;
    int B = c->batch, T = c->in.steps, D = c->in.channels, U = l->units, nd = n_dirs(l);
    size_t tb = (size_t)B * T;
    float *work = c->scratch;                       /* dir_backward's part */
    float *dH = work + 2 * tb * 4 * U + 2 * (size_t)B * U; /* (nd, T, B, U) */
    float *dxt = dH + (size_t)nd * tb * U;          /* (B, T, D) */
    dir_state s[2];
    for (int d = 0; d < nd; d++)
        s[d] = dir_state_at(l, c->state, B, T, D, d);
    tk_rnn_merge_backward(l, B, T, s[0].hidden, nd == 2 ? s[1].hidden : NULL, c->dy, dH);
    bool masked = c->training && l->dropout_rate > 0.0f;
    for (int d = 0; d < nd; d++) {
        const float *x = dir_input(c, &s[d], false);
        const float *dHd = dH + (size_t)d * tb * U;
        if (c->dx == NULL) {
            dir_backward(c, d, x, &s[d], dHd, NULL, false, work);
        } else if (!masked) {
            dir_backward(c, d, x, &s[d], dHd, c->dx, d > 0, work);
        } else {
            dir_backward(c, d, x, &s[d], dHd, dxt, false, work);
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++)
                    for (int k = 0; k < D; k++) {
                        size_t i = ((size_t)b * T + t) * D + k;
                        float v = dxt[i] * s[d].mask[(size_t)b * D + k];
                        c->dx[i] = d > 0 ? c->dx[i] + v : v;
                    }
        }
    }
}

static int lstm_weights(tk_layer *l, tk_weight_spec *s)
{
    int n = 0, nd = n_dirs(l);
    for (int d = 0; d < nd; d++) {
        int dir = nd == 2 ? d : -1;
        s[n++] = (tk_weight_spec){"kernel", dir, 2, {l->input_dim, 4 * l->units, 0},
                                  &l->lstm[d].kernel};
        s[n++] = (tk_weight_spec){"recurrent_kernel", dir, 2, {l->units, 4 * l->units, 0},
                                  &l->lstm[d].recurrent};
        if (l->use_bias)
            s[n++] = (tk_weight_spec){"bias", dir, 1, {4 * l->units, 0, 0}, &l->lstm[d].bias};
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

static bool lstm_sizes_ok(const tk_layer *l)
{
    return l->units > 0 && l->dropout_rate >= 0.0f && l->dropout_rate < 1.0f;
}

/* tk_model_build's LSTM is Keras 2's default one. */
static void lstm_build_defaults(tk_layer *l)
{
    l->activation = TK_ACT_TANH;
    l->recurrent_activation = TK_ACT_SIGMOID;
}

/* kernel glorot_uniform, recurrent kernel orthogonal, bias zero except the
 * forget gate's (unit_forget_bias); Bidirectional: forward then backward. */
static tk_status lstm_init(tk_layer *l, uint64_t *rng, tk_error *err)
{
    int in_dim = l->in.channels, units = l->units;
    for (int d = 0; d < n_dirs(l); d++) {
        tk_lstm_weights *lw = &l->lstm[d];
        tk_init_glorot_uniform(lw->kernel, (size_t)in_dim * 4 * units, in_dim, 4.0 * units, rng);
        tk_status st = tk_init_orthogonal(lw->recurrent, units, 4 * units, rng, err);
        if (st != TK_OK)
            return st;
        if (lw->bias) {
            memset(lw->bias, 0, sizeof(float) * 4 * (size_t)units);
            for (int u = 0; u < units; u++)
                lw->bias[units + u] = 1.0f; /* gate block f */
        }
    }
    return TK_OK;
}

static double lstm_flops(const tk_layer *l, tk_shape in, tk_shape out)
{
    (void)out;
    return n_dirs(l) * 2.0 * in.steps * (double)(in.channels + l->units) * 4.0 * l->units;
}

/* A plain LSTM's input kernel (Bidirectional: none, as before the table). */
static const float *lstm_kernel(const tk_layer *l, size_t *count)
{
    *count = (size_t)l->in.channels * 4 * l->units;
    return l->lstm[0].kernel;
}

static size_t lstm_pre_floats(const tk_layer *l, int batch, tk_shape in, tk_shape out)
{
    (void)out;
    return (size_t)n_dirs(l) * dir_pre_floats(l, batch, in.steps);
}

const tk_layer_ops tk_ops_lstm = {
    .shape = tk_rnn_shape, .state_floats = lstm_state, .state_ints = no_ints,
    .scratch_floats = lstm_scratch, .forward = lstm_forward, .backward = lstm_backward,
    .weights = lstm_weights, .class_name = "LSTM", .base_name = "lstm",
    .sizes_ok = lstm_sizes_ok, .build_defaults = lstm_build_defaults, .init = lstm_init,
    .flops = lstm_flops, .kernel = lstm_kernel, .pre_floats = lstm_pre_floats,
    .pre_in_trace = true,
};
const tk_layer_ops tk_ops_bidirectional = {
    .shape = tk_rnn_shape, .state_floats = lstm_state, .state_ints = no_ints,
    .scratch_floats = lstm_scratch, .forward = lstm_forward, .backward = lstm_backward,
    .weights = lstm_weights, .class_name = "Bidirectional", .base_name = "bidirectional",
    .init = lstm_init, .flops = lstm_flops, .pre_floats = lstm_pre_floats, .directions = 2,
    .pre_in_trace = true,
};
