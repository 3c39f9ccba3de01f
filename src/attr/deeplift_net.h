/* Inside src/attr, shared by deeplift.c and lrp.c: a forward pass over the
 * model's body that keeps everything DeepLIFT's and LRP's rules need (the
 * pre-activations of every non-linear layer, the LSTM gates before and after
 * their activations, cells and hidden states), for a batch of sequences.
 *
 * Why not the model module's workspace: the rules need pre-activations and
 * gate pre-activations it does not expose, and DeepSHAP keeps one of these
 * per job for the background (computed once at create time). */
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

tk_status tk_dl_plan_init(tk_dl_plan *plan, const tk_model *model, int steps, tk_error *err);
void tk_dl_plan_free(tk_dl_plan *plan);

/* One LSTM direction's trace, in processing order (step 0 of the backward
 * direction is the last position). */
typedef struct tk_dl_lstm {
    float *pre;  /* (steps, batch, 4 units): gate pre-activations, Keras order i, f, g, o */
    float *act;  /* (steps, batch, 4 units): activated gates */
    float *c;    /* (steps, batch, units): cell states */
    float *tc;   /* (steps, batch, units): tanh(c), as the forward used it */
    float *h;    /* (steps, batch, units): hidden states */
} tk_dl_lstm;

/* Activations of `batch` sequences. For layer k:
 * out[k] (batch, out size); pre[k] (batch, out size) the pre-activation of
 * Dense/Conv1D/Activation (== out[k] when the activation is linear, and
 * then not allocated separately); lstm[k][dir] for LSTM/Bidirectional. */
typedef struct tk_dl_acts {
    int cap_batch, cap_steps;
    int batch;        /* of the last forward */
    int n;
    const float *x;   /* (batch, steps, input_dim) the input of the last forward (caller's) */
    float **out;      /* (n) */
    float **pre;      /* (n) */
    tk_dl_lstm (*lstm)[2]; /* (n) */
    float *cols;      /* im2col scratch: (batch * out steps, kernel * channels) */
    size_t cols_size;
    /* Layers the model module runs for us (tk_layer_forward_alone: SimpleRNN,
     * GRU, their Bidirectional, BatchNormalization): their state blocks
     * (traces, tk_rnn_trace_of) and one forward scratch. */
    float **state;    /* (n); NULL for the other kinds */
    float *layer_scratch;
} tk_dl_acts;

tk_status tk_dl_acts_create(const tk_model *model, int cap_batch, int cap_steps,
                            tk_dl_acts **out, tk_error *err);
void tk_dl_acts_destroy(tk_dl_acts *a);

/* x (batch, plan->steps, input_dim) -> every layer's activations in acts;
 * acts->x keeps the pointer, so x must outlive the use of acts. */
tk_status tk_dl_forward(const tk_dl_plan *plan, tk_dl_acts *acts, int batch, const float *x,
                        tk_error *err);

/* The logits (n_outputs) of sequence b of the last forward: the last
 * layer's pre-activation. */
const float *tk_dl_logits(const tk_dl_plan *plan, const tk_dl_acts *acts, int b);

/* DeepLIFT's rescale multiplier m = Δf / Δz from stored values (so that
 * m Δz = Δy to rounding), or f'((z + z') / 2) when Δz is too small to divide by. */
float tk_dl_rescale(tk_activation act, float zx, float zr, float yx, float yr);

/* Element-wise activation and its derivative, as the forward computes them. */
float tk_dl_act(tk_activation act, float z);
double tk_dl_act_grad(tk_activation act, double z);

/* The number of input channels a Conv1D unit reads at output position t
 * (less than kernel * channels at the borders of "same" padding). */
int tk_dl_conv_window(const tk_layer *l, int in_steps, int t, int *first_tap, int *last_tap);

/* Input position of tap k for output position t (may be out of range with
 * "same" padding: then the tap reads zero). */
int tk_dl_conv_pos(const tk_layer *l, int in_steps, int t, int k);

/* The arg-max of v[0], v[stride], ... v[(n-1) stride]: the FIRST position
 * within 1e-7 max(1, |max|) of the maximum. Identical windows (runs of
 * padding) should tie, but a float GEMM may round identical rows
 * differently at its tile edges; max pooling's rules must route to the
 * same position an exact computation would (the first of equal values). */
int tk_dl_argmax(const float *v, int n, size_t stride);

/* ids (batch, steps) -> x (batch, steps, input_dim), the Embedding rows;
 * an id outside the vocabulary is TK_E_INVALID. */
tk_status tk_dl_embed(const tk_model *model, const int32_t *ids, int batch, int steps, float *x,
                      tk_error *err);

/* Multiply-adds of one forward pass of one sequence, times two. */
double tk_dl_forward_flops(const tk_dl_plan *plan);

/* FLOPs of one backward pass that touches every weight of the plan's
 * linear maps: mac_flops per multiply-add; a Conv1D followed by global max
 * pooling only in routed_windows windows per filter (else every output
 * position); an LSTM's input projection and recurrence in lstm_gates of
 * their 4 gate blocks. DeepLIFT's multipliers and epsilon-LRP's relevance
 * differ only in these three factors. */
double tk_dl_backward_flops(const tk_dl_plan *plan, double mac_flops, int routed_windows,
                            int lstm_gates);

#endif
