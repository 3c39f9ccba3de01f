/* Internal to src/model: the one table of operations per layer kind.
 * Forward, backward, shapes, scratch sizes and the list of weights (which
 * drives loading, saving and cloning) all come from here, so no other code
 * switches on the layer kind. */
#ifndef TOKATTR_MODEL_LAYER_OPS_H
#define TOKATTR_MODEL_LAYER_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/activation.h"
#include "model/model.h"

/* Everything one layer's forward or backward pass sees. Activations are
 * (batch, steps or 1, channels) row-major, as tk_shape describes them. */
typedef struct tk_layer_ctx {
    const tk_layer *layer;
    int batch;
    tk_shape in, out;     /* per sample, for this pass's steps */
    const float *x;       /* (batch, in) the layer's input */
    float *y;             /* (batch, out) the layer's output */
    float *state;         /* kept from forward to backward: state_floats(...) floats */
    int32_t *istate;      /* kept from forward to backward: state_ints(...) ints */
    float *scratch;       /* temporary, scratch_floats(...) floats, not kept */
    bool last;            /* last layer: y holds the pre-activation (logits) */
    bool training;
    uint64_t *rng;        /* training: dropout masks */
    float *pre;           /* NULL, or pre_floats(...) floats: keep the pre-activations here */
    /* backward only */
    const float *dy;      /* (batch, out) */
    float *dx;            /* (batch, in), overwritten; NULL when not wanted */
    float *d_params;      /* laid out like model->params, accumulated; NULL when not wanted */
    const float *params;  /* model->params, to find a weight's offset in d_params */
} tk_layer_ctx;

/* One weight of a layer: Keras' name and shape, and the view to set. */
typedef struct tk_weight_spec {
    const char *name; /* "kernel", "recurrent_kernel", "bias", "embeddings" */
    int dir;          /* Bidirectional: 0 forward, 1 backward; -1 otherwise */
    int rank;
    int dims[3];
    float **view;     /* the tk_layer field that points into params */
} tk_weight_spec;

enum { TK_MAX_WEIGHTS = 6 };

typedef struct tk_layer_ops {
    /* in -> out for one sample; TK_E_INVALID when the input does not fit. */
    tk_status (*shape)(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err);
    size_t (*state_floats)(const tk_layer *l, int batch, tk_shape in, tk_shape out);
    size_t (*state_ints)(const tk_layer *l, int batch, tk_shape in, tk_shape out);
    size_t (*scratch_floats)(const tk_layer *l, int batch, tk_shape in, tk_shape out);
    void (*forward)(const tk_layer_ctx *c);
    void (*backward)(const tk_layer_ctx *c);
    /* Fills specs (up to TK_MAX_WEIGHTS) from the layer's config; returns the count. */
    int (*weights)(tk_layer *l, tk_weight_spec *specs);
    /* Dropout at inference: the output is the input, no copy is made. */
    bool identity_at_inference;

    /* Per-kind facts, so that build.c and init.c do not switch on the kind.
     * A NULL function means "none" as each comment says. */
    const char *class_name; /* Keras class ("Conv1D"), for built models and messages */
    const char *base_name;  /* tf.keras' automatic name stem ("conv1d", "conv1d_1", ...) */
    /* tk_model_build: sizes valid for training (widths > 0, rates in
     * [0, 1)). NULL: this kind cannot be built for training. */
    bool (*sizes_ok)(const tk_layer *l);
    /* tk_model_build: the options a built layer of this kind takes
     * besides those of tk_layer_spec (LSTM: tanh and sigmoid). NULL: none. */
    void (*build_defaults)(tk_layer *l);
    /* Keras' default initialisers, drawing from *rng in weight order.
     * NULL: no weights to initialise. */
    tk_status (*init)(tk_layer *l, uint64_t *rng, tk_error *err);
    /* FLOPs (2 per multiply-add) of one forward pass of one sample. NULL: 0. */
    double (*flops)(const tk_layer *l, tk_shape in, tk_shape out);
    /* The kernel that L2 regularisation takes: first float and count.
     * NULL: none. */
    const float *(*kernel)(const tk_layer *l, size_t *count);
    /* Floats of pre-activations the forward keeps when the workspace asks
     * for them (tk_workspace_keep_pre); written through tk_layer_ctx.pre.
     * NULL: 0 (the output is its own pre-activation). */
    size_t (*pre_floats)(const tk_layer *l, int batch, tk_shape in, tk_shape out);
    /* The kept block is the recurrent trace's (tk_lstm_trace pre,
     * tanh_cells), not the input of an output activation. */
    bool pre_in_trace;
    /* Recurrent layers run over the sequence in this many directions
     * (lstm[0], lstm[1]); 0 means 1. */
    int directions;
} tk_layer_ops;

const tk_layer_ops *tk_layer_ops_of(tk_layer_kind kind);

/* Shared helpers (layers_basic.c). */
size_t tk_layer_size(int batch, tk_shape s); /* floats of (batch, s) */
float *tk_grad_of(const tk_layer_ctx *c, const float *weight);

/* LSTM/Bidirectional trace views inside a layer's state block (layers_lstm.c). */
tk_lstm_trace tk_lstm_trace_of(const tk_layer *l, float *state, int batch, int steps, int in_dim,
                               int dir);
/* SimpleRNN/GRU trace views inside a layer's state block (layers_rnn.c). */
tk_rnn_trace tk_rnn_trace_of(const tk_layer *l, const float *state, int batch, int steps,
                             int dir);

/* Sets t->pre and t->tanh_cells from a layer's kept pre-activations. */
void tk_lstm_pre_of(const tk_layer *l, float *pre, int batch, int steps, int dir,
                    tk_lstm_trace *t);

/* Batch independence, measured (OpenBLAS 0.3.21, Haswell kernels, one
 * thread): a GEMM row's result depends on its position in the kernel's
 * 12-row blocks (rows 6-11 of a block round differently from rows 0-5)
 * and tail rows use other kernels, so a sample's outputs can differ in
 * the last bits with the batch around it. Results are deterministic for
 * the same batch; keep one review per batch (its IG steps, occlusion
 * windows...) for bitwise reproducibility. With OPENBLAS_CORETYPE=SkylakeX
 * the kernels did not depend on the position. */

/* The sequence geometry every recurrent layer (LSTM, GRU, SimpleRNN and
 * Bidirectional over each) shares. Direction dir processes position t at
 * step s = t, or s = T-1-t when it runs backwards. */
static inline bool tk_rnn_dir_backwards(const tk_layer *l, int dir)
{
    return dir == 0 ? l->go_backwards : !l->go_backwards;
}

/* The processing step whose hidden state is output q of direction dir
 * (Keras: a plain recurrent layer returns its sequence in processing order;
 * the Bidirectional wrapper re-reverses its backward half). */
static inline int tk_rnn_step_of_output(const tk_layer *l, int dir, int q, int steps)
{
    if (!l->return_sequences)
        return steps - 1;
    return dir == 1 ? steps - 1 - q : q;
}

/* Output q of a recurrent layer from its directions' hidden states, each
 * (steps, batch, units) in processing order; hidden1 = NULL for one
 * direction, else the Bidirectional merge_mode applies. y is (batch, steps
 * or 1, channels) (rnn_merge.c). */
void tk_rnn_merge_forward(const tk_layer *l, int batch, int steps, const float *hidden0,
                          const float *hidden1, float *y);
/* The reverse: dy (batch, steps or 1, channels) -> dH (directions, steps,
 * batch, units), zeroed first; mul needs the hidden states. */
void tk_rnn_merge_backward(const tk_layer *l, int batch, int steps, const float *hidden0,
                           const float *hidden1, const float *dy, float *dH);

/* (steps, input_dim) -> (steps or vector, units, or 2 units for a
 * concatenating Bidirectional) (layers_rnn.c). */
tk_status tk_rnn_shape(const tk_layer *l, tk_shape in, tk_shape *out, tk_error *err);

/* Per-kind tables (layers_basic.c, layers_lstm.c). */
extern const tk_layer_ops tk_ops_lstm;
extern const tk_layer_ops tk_ops_bidirectional;
/* SimpleRNN, GRU and their Bidirectional (layers_rnn.c), BatchNormalization (layers_norm.c). */
extern const tk_layer_ops tk_ops_simple_rnn;
extern const tk_layer_ops tk_ops_gru;
extern const tk_layer_ops tk_ops_bidirectional_simple_rnn;
extern const tk_layer_ops tk_ops_bidirectional_gru;
extern const tk_layer_ops tk_ops_batch_norm;

#endif
