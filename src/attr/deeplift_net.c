/* The forward pass DeepLIFT/DeepSHAP and LRP read their rules from (see
 * deeplift_net.h for why it is not the model module's workspace). Heavy
 * work goes through tk_sgemm: Conv1D as im2col + GEMM, Dense as one GEMM
 * over every row of the batch, the LSTM input projection per step on the
 * strided input and the recurrence as one GEMM of `batch` rows per step. */
#include "attr/deeplift_net.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/rules_norm.h"
#include "attr/rules_rnn.h"
#include "core/gemm.h"

static int imax(int a, int b)
{
    return a > b ? a : b;
}

static int rows_of(tk_shape s)
{
    return s.steps > 0 ? s.steps : 1;
}

static size_t size_of(tk_shape s)
{
    return (size_t)rows_of(s) * (size_t)s.channels;
}

static int conv_out_steps(const tk_layer *l, int in_steps)
{
    int span = (l->kernel_size - 1) * l->dilation + 1;
    if (l->padding_same)
        return (in_steps + l->strides - 1) / l->strides;
    return in_steps >= span ? (in_steps - span) / l->strides + 1 : 0;
}

static int conv_pad_left(const tk_layer *l, int in_steps)
{
    if (!l->padding_same)
        return 0;
    int out = conv_out_steps(l, in_steps);
    int span = (l->kernel_size - 1) * l->dilation + 1;
    int total = imax((out - 1) * l->strides + span - in_steps, 0);
    return total / 2; /* Keras/TF put the odd extra on the right */
}

int tk_dl_conv_pos(const tk_layer *l, int in_steps, int t, int k)
{
    return t * l->strides + k * l->dilation - conv_pad_left(l, in_steps);
}

int tk_dl_conv_window(const tk_layer *l, int in_steps, int t, int *first_tap, int *last_tap)
{
    int first = l->kernel_size, last = -1;
    for (int k = 0; k < l->kernel_size; k++) {
        int p = tk_dl_conv_pos(l, in_steps, t, k);
        if (p >= 0 && p < in_steps) {
            if (k < first)
                first = k;
            last = k;
        }
    }
    if (first_tap)
        *first_tap = first;
    if (last_tap)
        *last_tap = last;
    return last >= first ? last - first + 1 : 0;
}

static int pool_out_steps(const tk_layer *l, int in_steps)
{
    if (l->pool_padding_same)
        return (in_steps + l->pool_strides - 1) / l->pool_strides;
    return in_steps >= l->pool_size ? (in_steps - l->pool_size) / l->pool_strides + 1 : 0;
}

tk_status tk_dl_plan_init(tk_dl_plan *plan, const tk_model *model, int steps, tk_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->model = model;
    plan->steps = steps;
    plan->n = model->n_layers - model->first_body_layer;
    if (plan->n <= 0)
        return tk_error_set(err, TK_E_UNSUPPORTED, "model has no layers after its embedding");
    plan->in = tk_calloc((size_t)plan->n, sizeof *plan->in, err);
    plan->out = tk_calloc((size_t)plan->n, sizeof *plan->out, err);
    if (!plan->in || !plan->out) {
        tk_dl_plan_free(plan);
        return TK_E_NOMEM;
    }
    tk_shape s = {steps, model->input_dim};
    plan->max_size = (int)size_of(s);
    for (int k = 0; k < plan->n; k++) {
        const tk_layer *l = &model->layers[model->first_body_layer + k];
        tk_shape o = s;
        switch (l->kind) {
        case TK_LAYER_DROPOUT:
        case TK_LAYER_ACTIVATION:
        case TK_LAYER_INPUT:
            break;
        case TK_LAYER_FLATTEN:
            o.steps = 0;
            o.channels = (int)size_of(s);
            break;
        case TK_LAYER_DENSE:
            o.channels = l->units;
            break;
        case TK_LAYER_CONV1D:
            if (s.steps <= 0)
                goto bad;
            o.steps = conv_out_steps(l, s.steps);
            o.channels = l->filters;
            if (o.steps <= 0)
                goto bad;
            break;
        case TK_LAYER_MAX_POOL1D:
        case TK_LAYER_AVG_POOL1D:
            if (s.steps <= 0)
                goto bad;
            o.steps = pool_out_steps(l, s.steps);
            if (o.steps <= 0)
                goto bad;
            break;
        case TK_LAYER_GLOBAL_MAX_POOL1D:
        case TK_LAYER_GLOBAL_AVG_POOL1D:
            if (s.steps <= 0)
                goto bad;
            o.steps = 0;
            break;
        case TK_LAYER_SIMPLE_RNN:
        case TK_LAYER_GRU:
        case TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN:
        case TK_LAYER_BIDIRECTIONAL_GRU:
        case TK_LAYER_BATCH_NORM:
            if (tk_layer_out_shape(l, s, &o, NULL) != TK_OK)
                goto bad;
            break;
        case TK_LAYER_LSTM:
        case TK_LAYER_BIDIRECTIONAL: {
            if (s.steps <= 0)
                goto bad;
            bool concat = l->kind == TK_LAYER_BIDIRECTIONAL && l->merge_mode == TK_MERGE_CONCAT;
            o.channels = concat ? 2 * l->units : l->units;
            o.steps = l->return_sequences ? s.steps : 0;
            break;
        }
        default:
            tk_dl_plan_free(plan);
            return tk_error_set(err, TK_E_UNSUPPORTED,
                                "layer %s (%s) has no DeepLIFT/LRP rule in tokattr", l->name,
                                l->class_name);
        }
        plan->in[k] = s;
        plan->out[k] = o;
        plan->max_size = imax(plan->max_size, (int)size_of(o));
        if (l->kind == TK_LAYER_LSTM || l->kind == TK_LAYER_BIDIRECTIONAL)
            plan->max_size = imax(plan->max_size, s.steps * 4 * l->units);
        s = o;
        continue;
    bad:
        tk_dl_plan_free(plan);
        return tk_error_set(err, TK_E_INVALID,
                            "layer %s (%s) cannot take an input of %d steps", l->name,
                            l->class_name, s.steps);
    }
    if (s.steps != 0 || s.channels != model->n_outputs) {
        tk_dl_plan_free(plan);
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "the model's body ends in shape (%d, %d), not a vector of its %d outputs",
                            s.steps, s.channels, model->n_outputs);
    }
    return TK_OK;
}

void tk_dl_plan_free(tk_dl_plan *plan)
{
    if (!plan)
        return;
    free(plan->in);
    free(plan->out);
    plan->in = plan->out = NULL;
}

static bool has_pre(const tk_layer *l)
{
    return (l->kind == TK_LAYER_DENSE || l->kind == TK_LAYER_CONV1D || l->kind == TK_LAYER_ACTIVATION) &&
           l->activation != TK_ACT_LINEAR;
}

tk_status tk_dl_acts_create(const tk_model *model, int cap_batch, int cap_steps,
                            tk_dl_acts **out, tk_error *err)
{
    *out = NULL;
    tk_dl_plan plan;
    tk_status st = tk_dl_plan_init(&plan, model, cap_steps, err);
    if (st != TK_OK)
        return st;
    tk_dl_acts *a = tk_calloc(1, sizeof *a, err);
    if (!a)
        goto nomem;
    a->cap_batch = cap_batch;
    a->cap_steps = cap_steps;
    a->n = plan.n;
    a->out = tk_calloc((size_t)plan.n, sizeof *a->out, err);
    a->pre = tk_calloc((size_t)plan.n, sizeof *a->pre, err);
    a->lstm = tk_calloc((size_t)plan.n, sizeof *a->lstm, err);
    a->state = tk_calloc((size_t)plan.n, sizeof *a->state, err);
    if (!a->out || !a->pre || !a->lstm || !a->state)
        goto nomem;
    size_t cols = 1, lscratch = 1;
    for (int k = 0; k < plan.n; k++) {
        const tk_layer *l = &model->layers[model->first_body_layer + k];
        size_t sz = (size_t)cap_batch * size_of(plan.out[k]);
        if (!(a->out[k] = tk_malloc(sz, sizeof(float), err)))
            goto nomem;
        if (has_pre(l) && !(a->pre[k] = tk_malloc(sz, sizeof(float), err)))
            goto nomem;
        if (l->kind == TK_LAYER_CONV1D) {
            size_t c = (size_t)cap_batch * (size_t)plan.out[k].steps * (size_t)l->kernel_size *
                       (size_t)plan.in[k].channels;
            if (c > cols)
                cols = c;
        }
        if (tk_rules_rnn_kind(l) || l->kind == TK_LAYER_BATCH_NORM) {
            size_t ns = tk_layer_state_floats(l, cap_batch, plan.in[k]);
            size_t nt = tk_layer_scratch_floats(l, cap_batch, plan.in[k]);
            if (ns > 0 && !(a->state[k] = tk_malloc(ns, sizeof(float), err)))
                goto nomem;
            lscratch = nt > lscratch ? nt : lscratch;
        }
        if (l->kind == TK_LAYER_LSTM || l->kind == TK_LAYER_BIDIRECTIONAL) {
            int dirs = l->kind == TK_LAYER_BIDIRECTIONAL ? 2 : 1;
            size_t tb = (size_t)cap_batch * (size_t)plan.in[k].steps * (size_t)l->units;
            for (int d = 0; d < dirs; d++) {
                tk_dl_lstm *t = &a->lstm[k][d];
                t->pre = tk_malloc(4 * tb, sizeof(float), err);
                t->act = tk_malloc(4 * tb, sizeof(float), err);
                t->c = tk_malloc(tb, sizeof(float), err);
                t->tc = tk_malloc(tb, sizeof(float), err);
                t->h = tk_malloc(tb, sizeof(float), err);
                if (!t->pre || !t->act || !t->c || !t->tc || !t->h)
                    goto nomem;
            }
        }
    }
    a->cols_size = cols;
    if (!(a->cols = tk_malloc(cols, sizeof(float), err)) ||
        !(a->layer_scratch = tk_malloc(lscratch, sizeof(float), err)))
        goto nomem;
    tk_dl_plan_free(&plan);
    *out = a;
    return TK_OK;
nomem:
    tk_dl_plan_free(&plan);
    tk_dl_acts_destroy(a);
    return TK_E_NOMEM;
}

void tk_dl_acts_destroy(tk_dl_acts *a)
{
    if (!a)
        return;
    for (int k = 0; k < a->n; k++) {
        if (a->out)
            free(a->out[k]);
        if (a->pre)
            free(a->pre[k]);
        if (a->state)
            free(a->state[k]);
        if (a->lstm)
            for (int d = 0; d < 2; d++) {
                tk_dl_lstm *t = &a->lstm[k][d];
                free(t->pre);
                free(t->act);
                free(t->c);
                free(t->tc);
                free(t->h);
            }
    }
    free(a->out);
    free(a->pre);
    free(a->lstm);
    free(a->cols);
    free(a->state);
    free(a->layer_scratch);
    free(a);
}

static float sigmoidf_(float z)
{
    return z >= 0 ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z));
}

float tk_dl_act(tk_activation act, float z)
{
    switch (act) {
    case TK_ACT_RELU:
        return z > 0 ? z : 0.0f;
    case TK_ACT_SIGMOID:
        return sigmoidf_(z);
    case TK_ACT_HARD_SIGMOID: {
        float y = 0.2f * z + 0.5f;
        return y < 0 ? 0.0f : (y > 1 ? 1.0f : y);
    }
    case TK_ACT_HARD_SIGMOID_K3:
        return tk_act_value(act, z);
    case TK_ACT_TANH:
        return tanhf(z);
    default:
        return z;
    }
}

double tk_dl_act_grad(tk_activation act, double z)
{
    switch (act) {
    case TK_ACT_RELU:
        return z > 0 ? 1.0 : 0.0;
    case TK_ACT_SIGMOID: {
        double s = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        return s * (1.0 - s);
    }
    case TK_ACT_HARD_SIGMOID:
        return (z > -2.5 && z < 2.5) ? 0.2 : 0.0;
    case TK_ACT_HARD_SIGMOID_K3:
        return (z > -3.0 && z < 3.0) ? 1.0 / 6.0 : 0.0;
    case TK_ACT_TANH: {
        double t = tanh(z);
        return 1.0 - t * t;
    }
    default:
        return 1.0;
    }
}

float tk_dl_rescale(tk_activation act, float zx, float zr, float yx, float yr)
{
    float dz = zx - zr;
    if (fabsf(dz) < 1e-6f)
        return (float)tk_dl_act_grad(act, 0.5 * ((double)zx + zr));
    return (yx - yr) / dz;
}

/* The activation of the body's last layer is applied by the methods (the
 * explained scalar), so the last layer's stored output is its logits. */
static tk_activation layer_act(const tk_dl_plan *plan, int k, const tk_layer *l)
{
    if (k == plan->n - 1 && (l->activation == TK_ACT_SOFTMAX || l->activation == TK_ACT_SIGMOID))
        return TK_ACT_LINEAR;
    return l->activation;
}

static void apply_act(tk_activation act, const float *pre, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = tk_dl_act(act, pre[i]);
}

static void conv_forward(const tk_layer *l, tk_shape in, tk_shape o, int batch, const float *x,
                         float *cols, float *z)
{
    int kc = l->kernel_size * in.channels;
    for (int b = 0; b < batch; b++)
        for (int t = 0; t < o.steps; t++) {
            float *row = cols + ((size_t)b * o.steps + t) * kc; /* (kernel, channels) */
            for (int k = 0; k < l->kernel_size; k++) {
                int p = tk_dl_conv_pos(l, in.steps, t, k);
                float *dst = row + (size_t)k * in.channels;
                if (p < 0 || p >= in.steps)
                    memset(dst, 0, sizeof(float) * in.channels);
                else
                    memcpy(dst, x + ((size_t)b * in.steps + p) * in.channels,
                           sizeof(float) * in.channels);
            }
        }
    int rows = batch * o.steps;
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < l->filters; f++)
            z[(size_t)r * l->filters + f] = l->use_bias && l->bias ? l->bias[f] : 0.0f;
    tk_sgemm(false, false, rows, l->filters, kc, 1.0f, cols, kc, l->kernel, l->filters, 1.0f, z,
             l->filters);
}

static void pool_forward(const tk_layer *l, tk_shape in, tk_shape o, int batch, const float *x,
                         float *y)
{
    bool is_max = l->kind == TK_LAYER_MAX_POOL1D;
    int pad = 0;
    if (l->pool_padding_same) {
        int total = imax((o.steps - 1) * l->pool_strides + l->pool_size - in.steps, 0);
        pad = total / 2;
    }
    int ch = in.channels;
    for (int b = 0; b < batch; b++)
        for (int t = 0; t < o.steps; t++)
            for (int c = 0; c < ch; c++) {
                float best = -FLT_MAX, sum = 0;
                int cnt = 0;
                for (int k = 0; k < l->pool_size; k++) {
                    int p = t * l->pool_strides + k - pad;
                    if (p < 0 || p >= in.steps)
                        continue;
                    float v = x[((size_t)b * in.steps + p) * ch + c];
                    if (v > best)
                        best = v;
                    sum += v;
                    cnt++;
                }
                y[((size_t)b * o.steps + t) * ch + c] = is_max ? best : sum / (float)(cnt ? cnt : 1);
            }
}

/* One LSTM direction over x (batch, steps, in) into trace t. reverse: the
 * direction reads positions steps-1 .. 0. */
static void lstm_forward(const tk_layer *l, const tk_lstm_weights *w, int batch, int steps,
                         int in_dim, const float *x, bool reverse, tk_dl_lstm *t)
{
    int u = l->units, g4 = 4 * u;
    for (int s = 0; s < steps; s++) {
        int pos = reverse ? steps - 1 - s : s;
        float *pre = t->pre + (size_t)s * batch * g4;  /* (batch, 4u) */
        float *act = t->act + (size_t)s * batch * g4;
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < g4; j++)
                pre[(size_t)b * g4 + j] = w->bias ? w->bias[j] : 0.0f;
        /* x rows of this position are strided by steps * in_dim */
        tk_sgemm(false, false, batch, g4, in_dim, 1.0f, x + (size_t)pos * in_dim,
                 steps * in_dim, w->kernel, g4, 1.0f, pre, g4);
        if (s > 0)
            tk_sgemm(false, false, batch, g4, u, 1.0f, t->h + (size_t)(s - 1) * batch * u, u,
                     w->recurrent, g4, 1.0f, pre, g4);
        float *c = t->c + (size_t)s * batch * u, *tc = t->tc + (size_t)s * batch * u;
        float *h = t->h + (size_t)s * batch * u;
        const float *cp = s > 0 ? t->c + (size_t)(s - 1) * batch * u : NULL;
        for (int b = 0; b < batch; b++) {
            const float *p = pre + (size_t)b * g4;
            float *a = act + (size_t)b * g4;
            for (int j = 0; j < u; j++) {
                a[j] = tk_dl_act(l->recurrent_activation, p[j]);
                a[u + j] = tk_dl_act(l->recurrent_activation, p[u + j]);
                a[2 * u + j] = tk_dl_act(l->activation, p[2 * u + j]);
                a[3 * u + j] = tk_dl_act(l->recurrent_activation, p[3 * u + j]);
                float cprev = cp ? cp[(size_t)b * u + j] : 0.0f;
                float cc = a[u + j] * cprev + a[j] * a[2 * u + j];
                c[(size_t)b * u + j] = cc;
                float tcc = tk_dl_act(l->activation, cc);
                tc[(size_t)b * u + j] = tcc;
                h[(size_t)b * u + j] = a[3 * u + j] * tcc;
            }
        }
    }
}

/* Copies the hidden states of one direction into the layer output
 * (batch, steps or 1, channels) at channel offset off, merged by mode.
 * Keras returns a plain LSTM's sequence in processing order (reversed for
 * go_backwards); only the Bidirectional wrapper flips its backward half
 * back (flip). */
static void lstm_emit(const tk_layer *l, int batch, int steps, const tk_dl_lstm *t, bool flip,
                      bool first, int out_ch, int off, float *y)
{
    int u = l->units;
    int nout = l->return_sequences ? steps : 1;
    for (int b = 0; b < batch; b++)
        for (int r = 0; r < nout; r++) {
            /* position r of the output reads processing step s */
            int s = l->return_sequences ? (flip ? steps - 1 - r : r) : steps - 1;
            const float *h = t->h + ((size_t)s * batch + b) * u;
            float *dst = y + ((size_t)b * nout + r) * out_ch + off;
            for (int j = 0; j < u; j++) {
                if (first || l->merge_mode == TK_MERGE_CONCAT)
                    dst[j] = h[j];
                else if (l->merge_mode == TK_MERGE_MUL)
                    dst[j] *= h[j];
                else if (l->merge_mode == TK_MERGE_AVE)
                    dst[j] = 0.5f * (dst[j] + h[j]);
                else
                    dst[j] += h[j];
            }
        }
}

tk_status tk_dl_forward(const tk_dl_plan *plan, tk_dl_acts *acts, int batch, const float *x,
                        tk_error *err)
{
    const tk_model *m = plan->model;
    if (batch > acts->cap_batch || plan->steps > acts->cap_steps)
        return tk_error_set(err, TK_E_INTERNAL, "forward of %d x %d steps exceeds the scratch of %d x %d",
                            batch, plan->steps, acts->cap_batch, acts->cap_steps);
    acts->batch = batch;
    acts->x = x;
    const float *in = x;
    for (int k = 0; k < plan->n; k++) {
        const tk_layer *l = &m->layers[m->first_body_layer + k];
        tk_shape si = plan->in[k], so = plan->out[k];
        size_t nin = (size_t)batch * size_of(si), nout = (size_t)batch * size_of(so);
        float *y = acts->out[k];
        tk_activation act = layer_act(plan, k, l);
        float *z = act != TK_ACT_LINEAR && acts->pre[k] ? acts->pre[k] : y;
        switch (l->kind) {
        case TK_LAYER_DENSE: {
            int rows = batch * rows_of(si);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < l->units; j++)
                    z[(size_t)r * l->units + j] = l->use_bias && l->bias ? l->bias[j] : 0.0f;
            tk_sgemm(false, false, rows, l->units, si.channels, 1.0f, in, si.channels, l->kernel,
                     l->units, 1.0f, z, l->units);
            break;
        }
        case TK_LAYER_CONV1D:
            conv_forward(l, si, so, batch, in, acts->cols, z);
            break;
        case TK_LAYER_ACTIVATION:
            memcpy(z, in, nin * sizeof(float));
            break;
        case TK_LAYER_MAX_POOL1D:
        case TK_LAYER_AVG_POOL1D:
            pool_forward(l, si, so, batch, in, y);
            break;
        case TK_LAYER_GLOBAL_MAX_POOL1D:
        case TK_LAYER_GLOBAL_AVG_POOL1D:
            for (int b = 0; b < batch; b++)
                for (int c = 0; c < si.channels; c++) {
                    float best = -FLT_MAX;
                    double sum = 0;
                    for (int t = 0; t < si.steps; t++) {
                        float v = in[((size_t)b * si.steps + t) * si.channels + c];
                        best = v > best ? v : best;
                        sum += v;
                    }
                    y[(size_t)b * si.channels + c] =
                        l->kind == TK_LAYER_GLOBAL_MAX_POOL1D ? best : (float)(sum / si.steps);
                }
            break;
        case TK_LAYER_LSTM:
            lstm_forward(l, &l->lstm[0], batch, si.steps, si.channels, in, l->go_backwards,
                         &acts->lstm[k][0]);
            lstm_emit(l, batch, si.steps, &acts->lstm[k][0], false, true, so.channels, 0, y);
            break;
        case TK_LAYER_SIMPLE_RNN:
        case TK_LAYER_GRU:
        case TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN:
        case TK_LAYER_BIDIRECTIONAL_GRU:
        case TK_LAYER_BATCH_NORM: {
            tk_status st = tk_layer_forward_alone(l, batch, si, in, y, acts->state[k],
                                                  acts->layer_scratch, k == plan->n - 1, err);
            if (st != TK_OK)
                return st;
            break;
        }
        case TK_LAYER_BIDIRECTIONAL:
            lstm_forward(l, &l->lstm[0], batch, si.steps, si.channels, in, l->go_backwards,
                         &acts->lstm[k][0]);
            lstm_forward(l, &l->lstm[1], batch, si.steps, si.channels, in, !l->go_backwards,
                         &acts->lstm[k][1]);
            lstm_emit(l, batch, si.steps, &acts->lstm[k][0], false, true, so.channels, 0, y);
            lstm_emit(l, batch, si.steps, &acts->lstm[k][1], true, false, so.channels,
                      l->merge_mode == TK_MERGE_CONCAT ? l->units : 0, y);
            break;
        default: /* Dropout, Flatten, Input: identity on the same memory layout */
            memcpy(y, in, nin * sizeof(float));
            break;
        }
        if (z != y) /* pooling and recurrent layers carry no output activation */
            apply_act(act, z, y, nout);
        in = y;
    }
    return TK_OK;
}

const float *tk_dl_logits(const tk_dl_plan *plan, const tk_dl_acts *acts, int b)
{
    return acts->out[plan->n - 1] + (size_t)b * plan->model->n_outputs;
}

double tk_dl_forward_flops(const tk_dl_plan *plan)
{
    const tk_model *m = plan->model;
    double f = 0;
    for (int k = 0; k < plan->n; k++) {
        const tk_layer *l = &m->layers[m->first_body_layer + k];
        tk_shape si = plan->in[k], so = plan->out[k];
        if (l->kind == TK_LAYER_DENSE)
            f += 2.0 * rows_of(si) * si.channels * l->units;
        else if (l->kind == TK_LAYER_CONV1D)
            f += 2.0 * so.steps * l->kernel_size * si.channels * l->filters;
        else if (tk_rules_rnn_kind(l))
            f += 2.0 * tk_rules_rnn_macs(l, si);
        else if (l->kind == TK_LAYER_LSTM || l->kind == TK_LAYER_BIDIRECTIONAL) {
            int dirs = l->kind == TK_LAYER_BIDIRECTIONAL ? 2 : 1;
            f += dirs * 2.0 * si.steps * (si.channels + l->units) * 4.0 * l->units;
        }
    }
    return f;
}

double tk_dl_backward_flops(const tk_dl_plan *plan, double mac_flops, int routed_windows,
                            int lstm_gates)
{
    const tk_model *m = plan->model;
    const tk_layer *body = &m->layers[m->first_body_layer];
    double macs = 0;
    for (int k = 0; k < plan->n; k++) {
        const tk_layer *l = &body[k];
        tk_shape si = plan->in[k], so = plan->out[k];
        if (l->kind == TK_LAYER_DENSE) {
            macs += (double)rows_of(si) * si.channels * l->units;
        } else if (l->kind == TK_LAYER_CONV1D) {
            int nx = k + 1;
            while (nx < plan->n && body[nx].kind == TK_LAYER_DROPOUT)
                nx++;
            bool routed = nx < plan->n && body[nx].kind == TK_LAYER_GLOBAL_MAX_POOL1D;
            macs += (double)(routed ? routed_windows : so.steps) * l->kernel_size * si.channels *
                    l->filters;
        } else if (tk_rules_rnn_kind(l)) {
            macs += tk_rules_rnn_macs(l, si);
        } else if (l->kind == TK_LAYER_LSTM || l->kind == TK_LAYER_BIDIRECTIONAL) {
            int dirs = l->kind == TK_LAYER_BIDIRECTIONAL ? 2 : 1;
            macs += (double)dirs * si.steps * (si.channels + l->units) * lstm_gates * l->units;
        }
    }
    return mac_flops * macs;
}

tk_status tk_dl_embed(const tk_model *model, const int32_t *ids, int batch, int steps, float *x,
                      tk_error *err)
{
    int d = model->input_dim;
    const tk_layer *emb = NULL;
    for (int k = 0; k < model->n_layers; k++)
        if (model->layers[k].kind == TK_LAYER_EMBEDDING)
            emb = &model->layers[k];
    if (!emb)
        return tk_error_set(err, TK_E_INVALID, "token ids given to a model without an Embedding layer");
    for (size_t i = 0; i < (size_t)batch * steps; i++) {
        if (ids[i] < 0 || ids[i] >= model->vocab_size)
            return tk_error_set(err, TK_E_INVALID, "token id %d at position %zu is outside the vocabulary of %d",
                                (int)ids[i], i, model->vocab_size);
        memcpy(x + i * d, emb->embeddings + (size_t)ids[i] * d,
               sizeof(float) * d);
    }
    return TK_OK;
}

int tk_dl_argmax(const float *v, int n, size_t stride)
{
    float best = v[0];
    for (int i = 1; i < n; i++)
        if (v[(size_t)i * stride] > best)
            best = v[(size_t)i * stride];
    float tol = 1e-7f * (fabsf(best) > 1.0f ? fabsf(best) : 1.0f);
    for (int i = 0; i < n; i++)
        if (v[(size_t)i * stride] >= best - tol)
            return i;
    return 0;
}
