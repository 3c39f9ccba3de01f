/* The model as a chain of layers over one flat parameter buffer, the
 * workspace, and the forward/backward passes that walk the layer table.
 *
 * Batch independence: every op is row-wise except the GEMMs, whose M is
 * batch * steps (Dense, Conv1D, LSTM input projection) or batch (LSTM
 * recurrence): see layer_ops.h for how far BLAS keeps rows independent.
 * Parameter gradients are sums over the batch and do depend on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/layer_ops.h"
#include "model/model_build.h"

enum { PARAM_ALIGN = 16 }; /* floats: each weight starts on a 64-byte boundary */

struct tk_workspace {
    const tk_model *model; /* of the last forward pass */
    int n_layers;
    int max_batch, max_steps;
    int batch, steps;     /* of the last forward pass */
    bool have_forward;
    bool training;
    float *x;             /* (max_batch, max_steps, input_dim) the body's input */
    tk_shape *in, *out;   /* (n_layers) shapes of the last forward pass */
    float **y;            /* (n_layers) output buffers, sized for (max_batch, max_steps) */
    float **act;          /* (n_layers) the last pass's outputs: y[i], or the input of an
                           * identity layer (Dropout at inference) */
    float **state;        /* (n_layers) kept for backward */
    int32_t **istate;     /* (n_layers) kept for backward (arg-max indices) */
    float **pre;          /* (n_layers) kept pre-activations (tk_workspace_keep_pre), or NULL */
    float *scratch;       /* temporary, the largest any layer needs */
    float *grad[2];       /* ping-pong gradients, the largest activation */
};

/* Kept for callers of the model's API; the generator is core/rng.h. */
uint64_t tk_model_rng_next(uint64_t *rng_state)
{
    return tk_rng_u64(rng_state);
}

float tk_model_rng_uniform(uint64_t *rng_state)
{
    return tk_rng_uniform(rng_state);
}

static tk_status resolve_shapes(const tk_model *m, int steps, tk_shape *in, tk_shape *out,
                                tk_error *err)
{
    tk_shape cur = {steps, m->input_dim};
    for (int i = m->first_body_layer; i < m->n_layers; i++) {
        const tk_layer *l = &m->layers[i];
        in[i] = cur;
        tk_status st = tk_layer_ops_of(l->kind)->shape(l, cur, &out[i], err);
        if (st != TK_OK)
            return st;
        cur = out[i];
    }
    return TK_OK;
}

tk_status tk_model_check_steps(const tk_model *model, int steps, tk_error *err)
{
    if (steps <= 0)
        return tk_error_set(err, TK_E_INVALID, "model: sequence length %d is not positive", steps);
    tk_shape *in = tk_calloc((size_t)model->n_layers * 2, sizeof *in, err);
    if (in == NULL)
        return TK_E_NOMEM;
    tk_status st = resolve_shapes(model, steps, in, in + model->n_layers, err);
    free(in);
    return st;
}

tk_status tk_model_finish(tk_model *m, tk_error *err)
{
    if (m->n_layers <= m->first_body_layer)
        return tk_error_set(err, TK_E_FORMAT, "model has no layer after its input");
    if (m->has_embedding) {
        const tk_layer *e = &m->layers[m->first_body_layer - 1];
        m->vocab_size = e->input_dim;
        m->input_dim = e->output_dim;
    }
    if (m->input_dim <= 0)
        return tk_error_set(err, TK_E_FORMAT, "model: the input dimension is unknown (%d)",
                            m->input_dim);
    /* Nominal length for the per-layer shapes of models that take any length. */
    int steps = m->maxlen > 0 ? m->maxlen : 64;
    tk_shape cur = {steps, m->input_dim};
    size_t total = 0;
    for (int i = 0; i < m->n_layers; i++) {
        tk_layer *l = &m->layers[i];
        const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
        if (ops == NULL)
            return tk_error_set(err, TK_E_INTERNAL, "layer '%s' has no operations", l->name);
        if (i >= m->first_body_layer) {
            if (l->kind == TK_LAYER_FLATTEN && m->maxlen <= 0 && cur.steps > 0)
                return tk_error_set(err, TK_E_UNSUPPORTED,
                                    "layer '%s' (Flatten) needs a fixed input length, but the "
                                    "model accepts any length", l->name);
            /* Dense, Conv1D and LSTM kernels take the incoming channels. */
            if (l->kind != TK_LAYER_EMBEDDING)
                l->input_dim = cur.channels;
            l->in = cur;
            tk_status st = ops->shape(l, cur, &l->out, err);
            if (st != TK_OK)
                return st;
            cur = l->out;
        } else {
            l->in = (tk_shape){steps, 1};
            l->out = (tk_shape){steps, m->input_dim};
        }
        tk_weight_spec specs[TK_MAX_WEIGHTS];
        int n = ops->weights(l, specs);
        l->param_offset = total;
        for (int w = 0; w < n; w++) {
            size_t count = 1;
            for (int d = 0; d < specs[w].rank; d++) {
                if (specs[w].dims[d] <= 0 || specs[w].dims[d] > (1 << 26))
                    return tk_error_set(err, TK_E_FORMAT,
                                        "layer '%s' (%s): weight '%s' has an impossible "
                                        "dimension %d", l->name, l->class_name, specs[w].name,
                                        specs[w].dims[d]);
                count *= (size_t)specs[w].dims[d];
            }
            if (count > ((size_t)1 << 31))
                return tk_error_set(err, TK_E_FORMAT,
                                    "layer '%s' (%s): weight '%s' has %zu values, too many",
                                    l->name, l->class_name, specs[w].name, count);
            *specs[w].view = (float *)(uintptr_t)total; /* offset for now, pointer below */
            total += (count + PARAM_ALIGN - 1) / PARAM_ALIGN * PARAM_ALIGN;
        }
        l->param_count = total - l->param_offset;
    }
    if (cur.steps > 0)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "model: the last layer '%s' outputs a sequence (%d, %d); tokattr "
                            "needs one vector per input", m->layers[m->n_layers - 1].name,
                            cur.steps, cur.channels);
    if (total > ((size_t)1 << 31))
        return tk_error_set(err, TK_E_FORMAT, "model has %zu parameters, too many", total);
    m->n_outputs = cur.channels;
    const tk_layer *last = &m->layers[m->n_layers - 1];
    m->output_activation = TK_ACT_LINEAR;
    if (last->kind == TK_LAYER_DENSE || last->kind == TK_LAYER_CONV1D ||
        last->kind == TK_LAYER_ACTIVATION)
        m->output_activation = last->activation;
    m->params = tk_calloc(total > 0 ? total : 1, sizeof *m->params, err);
    if (m->params == NULL)
        return TK_E_NOMEM;
    m->n_params = total;
    m->owns_params = true;
    for (int i = 0; i < m->n_layers; i++) {
        tk_weight_spec specs[TK_MAX_WEIGHTS];
        int n = tk_layer_ops_of(m->layers[i].kind)->weights(&m->layers[i], specs);
        for (int w = 0; w < n; w++)
            *specs[w].view = m->params + (size_t)(uintptr_t)*specs[w].view;
    }
    return TK_OK;
}

tk_status tk_model_from_layers(const tk_layer *layers, int n_layers, int maxlen, int input_dim,
                               tk_model **out, tk_error *err)
{
    *out = NULL;
    if (n_layers <= 0)
        return tk_error_set(err, TK_E_INVALID, "model: no layers");
    tk_model *m = tk_calloc(1, sizeof *m, err);
    if (m == NULL)
        return TK_E_NOMEM;
    m->layers = tk_calloc((size_t)n_layers, sizeof *m->layers, err);
    if (m->layers == NULL) {
        free(m);
        return TK_E_NOMEM;
    }
    memcpy(m->layers, layers, (size_t)n_layers * sizeof *m->layers);
    m->n_layers = n_layers;
    m->maxlen = maxlen;
    m->input_dim = input_dim;
    m->has_embedding = layers[0].kind == TK_LAYER_EMBEDDING;
    m->first_body_layer = m->has_embedding ? 1 : 0;
    snprintf(m->keras_version, sizeof m->keras_version, "2.6.0");
    snprintf(m->backend, sizeof m->backend, "tensorflow");
    for (int i = 0; i < n_layers; i++) {
        tk_layer *l = &m->layers[i];
        l->kernel = l->bias = l->embeddings = NULL;
        memset(l->lstm, 0, sizeof l->lstm);
        memset(l->rnn, 0, sizeof l->rnn);
        l->bn_gamma = l->bn_beta = l->bn_mean = l->bn_var = NULL;
        if (l->kind == TK_LAYER_INPUT || (i > 0 && l->kind == TK_LAYER_EMBEDDING)) {
            tk_model_destroy(m);
            return tk_error_set(err, TK_E_UNSUPPORTED,
                                "model: layer '%s' (%s) may only be first (after the input)",
                                l->name, l->class_name);
        }
    }
    tk_status st = tk_model_finish(m, err);
    if (st != TK_OK) {
        tk_model_destroy(m);
        return st;
    }
    *out = m;
    return TK_OK;
}

void tk_model_destroy(tk_model *model)
{
    if (model == NULL)
        return;
    if (model->owns_params)
        free(model->params);
    free(model->layers);
    free(model);
}

tk_status tk_model_clone_with_params(const tk_model *src, float *params, bool copy_values,
                                     tk_model **out, tk_error *err)
{
    *out = NULL;
    tk_model *m = tk_calloc(1, sizeof *m, err);
    if (m == NULL)
        return TK_E_NOMEM;
    *m = *src;
    m->layers = tk_calloc((size_t)src->n_layers, sizeof *m->layers, err);
    if (m->layers == NULL) {
        free(m);
        return TK_E_NOMEM;
    }
    memcpy(m->layers, src->layers, (size_t)src->n_layers * sizeof *m->layers);
    m->params = params;
    m->owns_params = false;
    if (copy_values && params != src->params)
        memcpy(params, src->params, src->n_params * sizeof *params);
    for (int i = 0; i < m->n_layers; i++) {
        tk_weight_spec specs[TK_MAX_WEIGHTS];
        int n = tk_layer_ops_of(m->layers[i].kind)->weights(&m->layers[i], specs);
        for (int w = 0; w < n; w++)
            *specs[w].view = params + (*specs[w].view - src->params);
    }
    *out = m;
    return TK_OK;
}

tk_status tk_model_clone(const tk_model *src, tk_model **out, tk_error *err)
{
    *out = NULL;
    float *p = tk_malloc(src->n_params > 0 ? src->n_params : 1, sizeof *p, err);
    if (p == NULL)
        return TK_E_NOMEM;
    tk_status st = tk_model_clone_with_params(src, p, true, out, err);
    if (st != TK_OK) {
        free(p);
        return st;
    }
    (*out)->owns_params = true;
    return TK_OK;
}

tk_status tk_model_embed(const tk_model *model, const int32_t *ids, int batch, int steps,
                         float *x, tk_error *err)
{
    if (!model->has_embedding)
        return tk_error_set(err, TK_E_INVALID, "model has no Embedding layer to look ids up in");
    const tk_layer *e = &model->layers[model->first_body_layer - 1];
    size_t D = (size_t)e->output_dim;
    for (size_t i = 0; i < (size_t)batch * (size_t)steps; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= e->input_dim)
            return tk_error_set(err, TK_E_INVALID,
                                "token id %d at position %zu is outside the Embedding's "
                                "vocabulary [0, %d)", (int)id, i, e->input_dim);
        memcpy(x + i * D, e->embeddings + (size_t)id * D, D * sizeof *x);
    }
    return TK_OK;
}

void tk_workspace_destroy(tk_workspace *ws)
{
    if (ws == NULL)
        return;
    for (int i = 0; i < ws->n_layers; i++) {
        if (ws->y != NULL)
            free(ws->y[i]);
        if (ws->state != NULL)
            free(ws->state[i]);
        if (ws->istate != NULL)
            free(ws->istate[i]);
        if (ws->pre != NULL)
            free(ws->pre[i]);
    }
    free(ws->pre);
    free(ws->y);
    free(ws->act);
    free(ws->state);
    free(ws->istate);
    free(ws->in);
    free(ws->x);
    free(ws->scratch);
    free(ws->grad[0]);
    free(ws->grad[1]);
    free(ws);
}

tk_workspace *tk_workspace_create(const tk_model *model, int max_batch, int max_steps,
                                  tk_error *err)
{
    if (max_batch <= 0 || max_steps <= 0 || max_batch > (1 << 24) || max_steps > (1 << 24)) {
        tk_error_set(err, TK_E_INVALID, "workspace: batch %d and steps %d must be positive",
                     max_batch, max_steps);
        return NULL;
    }
    tk_workspace *ws = tk_calloc(1, sizeof *ws, err);
    if (ws == NULL)
        return NULL;
    int n = model->n_layers;
    ws->n_layers = n;
    ws->max_batch = max_batch;
    ws->max_steps = max_steps;
    ws->y = tk_calloc((size_t)n, sizeof *ws->y, err);
    ws->act = tk_calloc((size_t)n, sizeof *ws->act, err);
    ws->state = tk_calloc((size_t)n, sizeof *ws->state, err);
    ws->istate = tk_calloc((size_t)n, sizeof *ws->istate, err);
    ws->in = tk_calloc((size_t)n * 2, sizeof *ws->in, err);
    ws->x = tk_malloc(tk_layer_size(max_batch, (tk_shape){max_steps, model->input_dim}),
                      sizeof *ws->x, err);
    if (ws->y == NULL || ws->act == NULL || ws->state == NULL || ws->istate == NULL || ws->in == NULL ||
        ws->x == NULL)
        goto fail;
    ws->out = ws->in + n;
    /* Sizes grow with batch and steps, so the largest pass fits everything. */
    if (resolve_shapes(model, max_steps, ws->in, ws->out, err) != TK_OK) {
        tk_error_prefix(err, "workspace for %d steps", max_steps);
        goto fail;
    }
    size_t scratch = 1, grad = tk_layer_size(max_batch, (tk_shape){max_steps, model->input_dim});
    for (int i = model->first_body_layer; i < n; i++) {
        const tk_layer *l = &model->layers[i];
        const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
        tk_shape in = ws->in[i], out = ws->out[i];
        size_t ny = tk_layer_size(max_batch, out);
        size_t ns = ops->state_floats(l, max_batch, in, out);
        size_t ni = ops->state_ints(l, max_batch, in, out);
        size_t nt = ops->scratch_floats(l, max_batch, in, out);
        ws->y[i] = tk_malloc(ny, sizeof(float), err);
        if (ws->y[i] == NULL)
            goto fail;
        if (ns > 0 && (ws->state[i] = tk_calloc(ns, sizeof(float), err)) == NULL)
            goto fail;
        if (ni > 0 && (ws->istate[i] = tk_calloc(ni, sizeof(int32_t), err)) == NULL)
            goto fail;
        if (nt > scratch)
            scratch = nt;
        if (ny > grad)
            grad = ny;
    }
    ws->scratch = tk_malloc(scratch, sizeof(float), err);
    ws->grad[0] = tk_malloc(grad, sizeof(float), err);
    ws->grad[1] = tk_malloc(grad, sizeof(float), err);
    if (ws->scratch == NULL || ws->grad[0] == NULL || ws->grad[1] == NULL)
        goto fail;
    return ws;
fail:
    tk_workspace_destroy(ws);
    return NULL;
}

static tk_status forward(const tk_model *model, tk_workspace *ws, int batch, int steps,
                         const float *x, float *logits, bool training, uint64_t *rng,
                         tk_error *err)
{
    ws->have_forward = false;
    if (ws->n_layers != model->n_layers)
        return tk_error_set(err, TK_E_INVALID, "workspace was made for another model");
    if (batch <= 0 || batch > ws->max_batch || steps <= 0 || steps > ws->max_steps)
        return tk_error_set(err, TK_E_INVALID,
                            "forward pass of batch %d x %d steps does not fit the workspace "
                            "(%d x %d)", batch, steps, ws->max_batch, ws->max_steps);
    if (training && rng == NULL)
        return tk_error_set(err, TK_E_INVALID, "training forward pass needs a PRNG state");
    tk_status st = resolve_shapes(model, steps, ws->in, ws->out, err);
    if (st != TK_OK)
        return st;
    memcpy(ws->x, x, tk_layer_size(batch, (tk_shape){steps, model->input_dim}) * sizeof *ws->x);
    const float *in = ws->x;
    for (int i = model->first_body_layer; i < model->n_layers; i++) {
        const tk_layer *l = &model->layers[i];
        tk_layer_ctx c = {
            .layer = l, .batch = batch, .in = ws->in[i], .out = ws->out[i], .x = in,
            .y = ws->y[i], .state = ws->state[i], .istate = ws->istate[i],
            .scratch = ws->scratch, .last = i == model->n_layers - 1,
            .training = training,
            .rng = rng, .params = model->params, .pre = ws->pre ? ws->pre[i] : NULL,
        };
        const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
        if (!training && ops->identity_at_inference) {
            ws->act[i] = (float *)in; /* layers never write their input */
        } else {
            ops->forward(&c);
            ws->act[i] = ws->y[i];
        }
        in = ws->act[i];
    }
    if (logits != NULL)
        memcpy(logits, in, (size_t)batch * (size_t)model->n_outputs * sizeof *logits);
    ws->model = model;
    ws->batch = batch;
    ws->steps = steps;
    ws->training = training;
    ws->have_forward = true;
    return TK_OK;
}

tk_status tk_model_forward(const tk_model *model, tk_workspace *ws, int batch, int steps,
                           const float *x, float *logits, tk_error *err)
{
    return forward(model, ws, batch, steps, x, logits, false, NULL, err);
}

tk_status tk_model_forward_train(const tk_model *model, tk_workspace *ws, int batch, int steps,
                                 const float *x, float *logits, uint64_t *rng_state,
                                 tk_error *err)
{
    return forward(model, ws, batch, steps, x, logits, true, rng_state, err);
}

void tk_model_output_probs(const tk_model *model, int batch, const float *logits, float *probs)
{
    size_t n = (size_t)batch * (size_t)model->n_outputs;
    if (probs != logits)
        memmove(probs, logits, n * sizeof *probs);
    tk_act_forward(model->output_activation, probs, (size_t)batch, model->n_outputs);
}

tk_status tk_model_backward(const tk_model *model, tk_workspace *ws, const float *d_logits,
                            float *dx, float *d_params, tk_error *err)
{
    if (!ws->have_forward || ws->n_layers != model->n_layers)
        return tk_error_set(err, TK_E_INVALID,
                            "backward pass without a forward pass of this model on the workspace");
    int batch = ws->batch, first = model->first_body_layer;
    if (dx == NULL && d_params == NULL)
        return TK_OK;
    float *cur = ws->grad[0];
    memcpy(cur, d_logits, (size_t)batch * (size_t)model->n_outputs * sizeof *cur);
    for (int i = model->n_layers - 1; i >= first; i--) {
        const tk_layer *l = &model->layers[i];
        float *next = i == first ? dx : (cur == ws->grad[0] ? ws->grad[1] : ws->grad[0]);
        tk_layer_ctx c = {
            .layer = l, .batch = batch, .in = ws->in[i], .out = ws->out[i],
            .x = i == first ? ws->x : ws->act[i - 1], .y = ws->act[i], .state = ws->state[i],
            .istate = ws->istate[i], .scratch = ws->scratch, .last = i == model->n_layers - 1,
            .training = ws->training, .dy = cur, .dx = next, .d_params = d_params,
            .params = model->params,
        };
        const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
        if (!ws->training && ops->identity_at_inference) {
            if (i != first)
                next = cur; /* pass the gradient through without a copy */
            else if (dx != NULL)
                memcpy(dx, cur, tk_layer_size(batch, ws->in[i]) * sizeof *dx);
        } else {
            ops->backward(&c);
        }
        cur = next;
    }
    return TK_OK;
}

const float *tk_workspace_layer_output(const tk_workspace *ws, int layer)
{
    if (ws == NULL || layer < 0 || layer >= ws->n_layers)
        return NULL;
    if (ws->y[layer] == NULL)
        return ws->x;
    return ws->have_forward ? ws->act[layer] : ws->y[layer];
}

const float *tk_workspace_layer_input(const tk_workspace *ws, int layer)
{
    if (ws == NULL || layer < 0 || layer >= ws->n_layers)
        return NULL;
    if (layer == 0 || ws->y[layer - 1] == NULL)
        return ws->x;
    return ws->have_forward ? ws->act[layer - 1] : ws->y[layer - 1];
}

tk_lstm_trace tk_workspace_lstm_trace(const tk_workspace *ws, int layer, int dir)
{
    tk_lstm_trace none = {0};
    if (ws == NULL || layer < 0 || layer >= ws->n_layers || ws->state[layer] == NULL ||
        !ws->have_forward)
        return none;
    const tk_layer *l = &ws->model->layers[layer];
    if (l->kind != TK_LAYER_LSTM && l->kind != TK_LAYER_BIDIRECTIONAL)
        return none;
    tk_lstm_trace t = tk_lstm_trace_of(l, ws->state[layer], ws->batch, ws->steps,
                                       ws->in[layer].channels, dir);
    if (t.gates != NULL && ws->pre != NULL && !ws->training)
        tk_lstm_pre_of(l, ws->pre[layer], ws->batch, ws->steps, dir, &t);
    return t;
}

tk_status tk_workspace_keep_pre(tk_workspace *ws, const tk_model *model, tk_error *err)
{
    if (ws->pre != NULL)
        return TK_OK;
    if (ws->n_layers != model->n_layers)
        return tk_error_set(err, TK_E_INVALID, "workspace was made for another model");
    ws->pre = tk_calloc((size_t)ws->n_layers, sizeof *ws->pre, err);
    if (ws->pre == NULL)
        return TK_E_NOMEM;
    tk_shape *in = tk_calloc((size_t)ws->n_layers * 2, sizeof *in, err);
    if (in == NULL)
        return TK_E_NOMEM;
    tk_shape *out = in + ws->n_layers;
    tk_status st = resolve_shapes(model, ws->max_steps, in, out, err);
    for (int i = model->first_body_layer; st == TK_OK && i < model->n_layers - 1; i++) {
        const tk_layer *l = &model->layers[i];
        const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
        size_t n = ops->pre_floats ? ops->pre_floats(l, ws->max_batch, in[i], out[i]) : 0;
        if (n > 0 && (ws->pre[i] = tk_malloc(n, sizeof(float), err)) == NULL)
            st = TK_E_NOMEM;
    }
    free(in);
    return st;
}

const float *tk_workspace_layer_pre(const tk_workspace *ws, int layer)
{
    if (ws == NULL || ws->pre == NULL || layer < 0 || layer >= ws->n_layers || !ws->have_forward ||
        ws->training)
        return NULL;
    const tk_layer *l = &ws->model->layers[layer];
    const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
    if (ops->pre_floats == NULL || ops->pre_in_trace)
        return NULL;
    return ws->pre[layer];
}

tk_status tk_model_shapes(const tk_model *model, int steps, tk_shape *in, tk_shape *out,
                          tk_error *err)
{
    if (steps <= 0)
        return tk_error_set(err, TK_E_INVALID, "sequences of %d steps", steps);
    return resolve_shapes(model, steps, in, out, err);
}

int tk_layer_directions(const tk_layer *l)
{
    const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
    return ops && ops->directions > 1 ? ops->directions : 1;
}

double tk_model_layer_flops(const tk_model *model, int layer, tk_shape in, tk_shape out)
{
    const tk_layer *l = &model->layers[layer];
    const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
    return ops->flops ? ops->flops(l, in, out) : 0.0;
}

/* ---- issue 16: SimpleRNN/GRU traces, Keras 3 names ---- */

tk_rnn_trace tk_workspace_rnn_trace(const tk_workspace *ws, int layer, int dir)
{
    tk_rnn_trace none = {0};
    if (ws == NULL || layer < 0 || layer >= ws->n_layers || ws->state[layer] == NULL ||
        !ws->have_forward)
        return none;
    return tk_rnn_trace_of(&ws->model->layers[layer], ws->state[layer], ws->batch, ws->steps,
                           dir);
}

void tk_model_apply_keras_version(tk_model *m)
{
    if (strncmp(m->keras_version, "3.", 2) != 0)
        return;
    for (int i = 0; i < m->n_layers; i++) {
        tk_layer *l = &m->layers[i];
        if (l->activation == TK_ACT_HARD_SIGMOID)
            l->activation = TK_ACT_HARD_SIGMOID_K3;
        if (l->recurrent_activation == TK_ACT_HARD_SIGMOID)
            l->recurrent_activation = TK_ACT_HARD_SIGMOID_K3;
    }
    if (m->output_activation == TK_ACT_HARD_SIGMOID)
        m->output_activation = TK_ACT_HARD_SIGMOID_K3;
}
