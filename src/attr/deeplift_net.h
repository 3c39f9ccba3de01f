/* Inside src/attr, shared by deeplift.c and lrp.c: the forward passes their
 * rules read, taken from the model's own forward pass (tk_model_forward on
 * a workspace that keeps pre-activations, tk_workspace_keep_pre), and the
 * views of one layer's stored activations that the rules take (rules.h).
 * DeepSHAP keeps one of these per job for the background (one forward of
 * B references at create time). */
#ifndef TOKATTR_ATTR_DEEPLIFT_NET_H
#define TOKATTR_ATTR_DEEPLIFT_NET_H

#include <stdint.h>

#include "core/status.h"
#include "model/model.h"

/* Per body layer (index k = model layer first_body_layer + k), shapes for
 * one step count. size = max(steps,1) * channels. */
typedef struct tk_dl_plan {
    const tk_model *model;
    int n;          /* number of body layers */
    int steps;      /* the input length this plan was made for */
    tk_shape *in;   /* (n) */
    tk_shape *out;  /* (n) */
    int max_size;   /* largest per-sample activation size, input included */
} tk_dl_plan;

/* Shapes from the model (tk_model_shapes); the body must end in a vector
 * of the model's outputs. */
tk_status tk_dl_plan_init(tk_dl_plan *plan, const tk_model *model, int steps, tk_error *err);
void tk_dl_plan_free(tk_dl_plan *plan);

/* The activations of the last forward pass of up to cap_batch sequences
 * of up to cap_steps positions: a model workspace that keeps
 * pre-activations. */
typedef struct tk_dl_acts {
    tk_workspace *ws;
    int cap_batch, cap_steps;
    int batch; /* of the last forward */
} tk_dl_acts;

tk_status tk_dl_acts_create(const tk_model *model, int cap_batch, int cap_steps,
                            tk_dl_acts **out, tk_error *err);
void tk_dl_acts_destroy(tk_dl_acts *a);

/* x (batch, plan->steps, input_dim) -> every layer's activations in acts. */
tk_status tk_dl_forward(const tk_dl_plan *plan, tk_dl_acts *acts, int batch, const float *x,
                        tk_error *err);

/* The logits (n_outputs) of sequence b of the last forward: the last
 * layer's pre-activation. */
const float *tk_dl_logits(const tk_dl_plan *plan, const tk_dl_acts *acts, int b);

/* What the last forward kept of body layer k, for all its rows:
 * in (rows, in size), out (rows, out size), pre (rows, out size) the input
 * of the layer's output activation or NULL (linear, or the last layer),
 * rnn[dir] the recurrent trace of each direction (gates, cells, hidden,
 * pre, tanh_cells; see model.h). */
typedef struct tk_dl_side {
    const float *in;
    const float *out;
    const float *pre;
    tk_lstm_trace rnn[2];
    tk_rnn_trace cell[2]; /* SimpleRNN/GRU directions (model.h tk_rnn_trace) */
} tk_dl_side;

tk_dl_side tk_dl_side_of(const tk_dl_plan *plan, const tk_dl_acts *acts, int k);

/* The arg-max of v[0], v[stride], ... v[(n-1) stride]: the FIRST position
 * within 1e-7 max(1, |max|) of the maximum. Identical windows (runs of
 * padding) should tie, but a float GEMM may round identical rows
 * differently at its tile edges; max pooling's rules must route to the
 * same position an exact computation would (the first of equal values). */
int tk_dl_argmax(const float *v, int n, size_t stride);

/* Multiply-adds of one forward pass of one sequence, times two. */
double tk_dl_forward_flops(const tk_dl_plan *plan);

/* FLOPs of one backward pass that touches every weight of the plan's
 * linear maps: mac_flops per multiply-add; a layer whose output reaches a
 * global max pooling only through element-wise layers only in
 * routed_windows windows per filter (else every output position); a
 * recurrent layer's input projection and recurrence in lstm_gates of their
 * 4 gate blocks. DeepLIFT's multipliers and epsilon-LRP's relevance differ
 * only in these three factors; the rules table says each kind's count. */
double tk_dl_backward_flops(const tk_dl_plan *plan, double mac_flops, int routed_windows,
                            int lstm_gates);

#endif
