/* The forward passes DeepLIFT/DeepSHAP and LRP read their rules from: the
 * model's own (tk_model_forward), on a workspace that also keeps the
 * pre-activations; and the FLOP counts of those methods, from the model's
 * and the rules' tables. */
#include "attr/deeplift_net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/rules.h"

static int imax(int a, int b)
{
    return a > b ? a : b;
}

tk_status tk_dl_plan_init(tk_dl_plan *plan, const tk_model *model, int steps, tk_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->model = model;
    plan->steps = steps;
    plan->n = model->n_layers - model->first_body_layer;
    if (plan->n <= 0)
        return tk_error_set(err, TK_E_UNSUPPORTED, "model has no layers after its embedding");
    tk_shape *in = tk_calloc((size_t)model->n_layers * 2, sizeof *in, err);
    if (!in)
        return TK_E_NOMEM;
    tk_status s = tk_model_shapes(model, steps, in, in + model->n_layers, err);
    if (s != TK_OK) {
        free(in);
        return s;
    }
    /* one block: in (n) then out (n), body layers only */
    memmove(in, in + model->first_body_layer, sizeof *in * (size_t)plan->n);
    memmove(in + plan->n, in + model->n_layers + model->first_body_layer,
            sizeof *in * (size_t)plan->n);
    plan->in = in;
    plan->out = in + plan->n;
    plan->max_size = (int)tk_rules_size((tk_shape){steps, model->input_dim});
    for (int k = 0; k < plan->n; k++)
        plan->max_size = imax(plan->max_size, (int)tk_rules_size(plan->out[k]));
    tk_shape last = plan->out[plan->n - 1];
    if (last.steps != 0 || last.channels != model->n_outputs) {
        tk_dl_plan_free(plan);
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "the model's body ends in shape (%d, %d), not a vector of its %d outputs",
                            last.steps, last.channels, model->n_outputs);
    }
    return TK_OK;
}

void tk_dl_plan_free(tk_dl_plan *plan)
{
    if (!plan)
        return;
    free(plan->in);
    plan->in = plan->out = NULL;
}

tk_status tk_dl_acts_create(const tk_model *model, int cap_batch, int cap_steps,
                            tk_dl_acts **out, tk_error *err)
{
    *out = NULL;
    tk_dl_acts *a = tk_calloc(1, sizeof *a, err);
    if (!a)
        return TK_E_NOMEM;
    a->cap_batch = cap_batch;
    a->cap_steps = cap_steps;
    a->ws = tk_workspace_create(model, cap_batch, cap_steps, err);
    tk_status s = a->ws ? tk_workspace_keep_pre(a->ws, model, err) : (err ? err->status : TK_E_NOMEM);
    if (s != TK_OK) {
        tk_dl_acts_destroy(a);
        return s;
    }
    *out = a;
    return TK_OK;
}

void tk_dl_acts_destroy(tk_dl_acts *a)
{
    if (!a)
        return;
    tk_workspace_destroy(a->ws);
    free(a);
}

tk_status tk_dl_forward(const tk_dl_plan *plan, tk_dl_acts *acts, int batch, const float *x,
                        tk_error *err)
{
    if (batch > acts->cap_batch || plan->steps > acts->cap_steps)
        return tk_error_set(err, TK_E_INTERNAL, "forward of %d x %d steps exceeds the scratch of %d x %d",
                            batch, plan->steps, acts->cap_batch, acts->cap_steps);
    acts->batch = batch;
    return tk_model_forward(plan->model, acts->ws, batch, plan->steps, x, NULL, err);
}

const float *tk_dl_logits(const tk_dl_plan *plan, const tk_dl_acts *acts, int b)
{
    const tk_model *m = plan->model;
    return tk_workspace_layer_output(acts->ws, m->n_layers - 1) + (size_t)b * m->n_outputs;
}

tk_dl_side tk_dl_side_of(const tk_dl_plan *plan, const tk_dl_acts *acts, int k)
{
    int i = plan->model->first_body_layer + k;
    tk_dl_side s = {
        .in = tk_workspace_layer_input(acts->ws, i),
        .out = tk_workspace_layer_output(acts->ws, i),
        .pre = tk_workspace_layer_pre(acts->ws, i),
    };
    s.rnn[0] = tk_workspace_lstm_trace(acts->ws, i, 0);
    s.rnn[1] = tk_workspace_lstm_trace(acts->ws, i, 1);
    s.cell[0] = tk_workspace_rnn_trace(acts->ws, i, 0);
    s.cell[1] = tk_workspace_rnn_trace(acts->ws, i, 1);
    return s;
}

double tk_dl_forward_flops(const tk_dl_plan *plan)
{
    const tk_model *m = plan->model;
    double f = 0;
    for (int k = 0; k < plan->n; k++)
        f += tk_model_layer_flops(m, m->first_body_layer + k, plan->in[k], plan->out[k]);
    return f;
}

double tk_dl_backward_flops(const tk_dl_plan *plan, double mac_flops, int routed_windows,
                            int lstm_gates)
{
    const tk_model *m = plan->model;
    const tk_layer *body = &m->layers[m->first_body_layer];
    double macs = 0;
    for (int k = 0; k < plan->n; k++) {
        const tk_attr_rules *r = tk_attr_rules_of(body[k].kind);
        if (!r->backward_macs)
            continue;
        int nx = k + 1;
        while (nx < plan->n && tk_attr_rules_of(body[nx].kind)->route == TK_ROUTE_PASS)
            nx++;
        tk_backward_cost cost = {
            .routed = nx < plan->n && tk_attr_rules_of(body[nx].kind)->route == TK_ROUTE_ONE,
            .routed_windows = routed_windows,
            .lstm_gates = lstm_gates,
        };
        macs += r->backward_macs(&body[k], plan->in[k], plan->out[k], &cost);
    }
    return mac_flops * macs;
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
