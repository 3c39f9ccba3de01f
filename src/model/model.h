/* A Keras classifier held as config + one flat parameter buffer, and the
 * forward/backward passes over batches of embedded sequences.
 *
 * Data flow: token ids -> tk_model_embed -> x (batch, steps, input_dim) ->
 * body layers -> logits (batch, n_outputs), the pre-activation of the last
 * layer. Probabilities are the output activation applied to the logits.
 * Methods differentiate in embedding space, so the Embedding layer is not
 * part of the body: x is the input of layers[first_body_layer]. */
#ifndef TOKATTR_MODEL_MODEL_H
#define TOKATTR_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum tk_layer_kind {
    TK_LAYER_INPUT,            /* InputLayer: nothing to compute */
    TK_LAYER_EMBEDDING,
    TK_LAYER_CONV1D,
    TK_LAYER_MAX_POOL1D,
    TK_LAYER_AVG_POOL1D,
    TK_LAYER_GLOBAL_MAX_POOL1D,
    TK_LAYER_GLOBAL_AVG_POOL1D,
    TK_LAYER_FLATTEN,
    TK_LAYER_DENSE,
    TK_LAYER_ACTIVATION,
    TK_LAYER_DROPOUT,          /* Dropout, SpatialDropout1D: identity at inference */
    TK_LAYER_LSTM,
    TK_LAYER_BIDIRECTIONAL,    /* Bidirectional(LSTM) */
    /* Added for issue 16 (layers_rnn.c, layers_norm.c): */
    TK_LAYER_SIMPLE_RNN,
    TK_LAYER_GRU,
    TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN, /* Bidirectional(SimpleRNN) */
    TK_LAYER_BIDIRECTIONAL_GRU,        /* Bidirectional(GRU) */
    TK_LAYER_BATCH_NORM,               /* BatchNormalization at inference: one affine map per channel */
    TK_LAYER_KIND_COUNT
} tk_layer_kind;

typedef enum tk_activation {
    TK_ACT_LINEAR,
    TK_ACT_RELU,
    TK_ACT_SIGMOID,
    TK_ACT_HARD_SIGMOID, /* old Keras LSTM default: clip(0.2 x + 0.5, 0, 1) */
    TK_ACT_TANH,
    TK_ACT_SOFTMAX,
    /* Keras 3's hard_sigmoid: relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1). Written
     * "hard_sigmoid" like TK_ACT_HARD_SIGMOID; which one a file means is decided
     * by its keras_version (tk_model_apply_keras_version). */
    TK_ACT_HARD_SIGMOID_K3
} tk_activation;

typedef enum tk_merge_mode { TK_MERGE_CONCAT, TK_MERGE_SUM, TK_MERGE_AVE, TK_MERGE_MUL } tk_merge_mode;

/* Per-sample activation shape, row-major (steps, channels). steps == 0 means
 * a plain vector of `channels` (after global pooling, Flatten, Dense on a
 * vector, an LSTM without return_sequences). */
typedef struct tk_shape {
    int steps;
    int channels;
} tk_shape;

/* One LSTM direction. Gate blocks in Keras order i, f, c(g), o. */
typedef struct tk_lstm_weights {
    float *kernel;    /* (input_dim, 4 * units), row-major */
    float *recurrent; /* (units, 4 * units), row-major */
    float *bias;      /* (4 * units), or NULL when !use_bias */
} tk_lstm_weights;

/* One SimpleRNN or GRU direction. G = units (SimpleRNN) or 3 units (GRU,
 * Keras gate order z, r, h). */
typedef struct tk_rnn_weights {
    float *kernel;    /* (input_dim, G), row-major */
    float *recurrent; /* (units, G), row-major */
    float *bias;      /* (G); GRU reset_after: (2, G), row 0 input bias, row 1 recurrent
                       * bias; NULL when !use_bias */
} tk_rnn_weights;

typedef struct tk_layer {
    tk_layer_kind kind;
    char name[128];       /* Keras layer name */
    char class_name[64];  /* Keras class, for messages */
    tk_shape in, out;     /* per sample, for steps = the model's input length */

    tk_activation activation; /* Dense, Conv1D, Activation; LSTM cell activation (tanh) */
    bool use_bias;

    /* Embedding */
    int input_dim, output_dim;
    float *embeddings; /* (input_dim, output_dim) */

    /* Conv1D */
    int filters, kernel_size, strides, dilation;
    bool padding_same; /* "same" when true, "valid" otherwise */

    /* MaxPooling1D, AveragePooling1D */
    int pool_size, pool_strides;
    bool pool_padding_same;

    /* Dense and LSTM */
    int units;

    /* Dense: kernel (in, units); Conv1D: kernel (kernel_size, in_channels, filters) */
    float *kernel;
    float *bias; /* (units) or (filters); NULL when !use_bias */

    /* LSTM (lstm[0]) and Bidirectional (lstm[0] forward, lstm[1] backward) */
    tk_activation recurrent_activation; /* sigmoid or hard_sigmoid */
    bool return_sequences, go_backwards;
    tk_merge_mode merge_mode;
    tk_lstm_weights lstm[2];

    float dropout_rate; /* Dropout; LSTM input dropout (training only) */

    /* Added by the model module (additive): */
    bool dropout_spatial;   /* SpatialDropout1D: one mask value per (sample, channel) */
    char inner_name[128];   /* Bidirectional: the wrapped LSTM's name (weight paths) */
    size_t param_offset;    /* first float of this layer's weights in model->params */
    size_t param_count;     /* floats of this layer's weights (alignment gaps included) */

    /* SimpleRNN, GRU and Bidirectional over them (issue 16). units,
     * activation (SimpleRNN: tanh/relu/linear; GRU candidate: tanh),
     * recurrent_activation (GRU gates), use_bias, return_sequences,
     * go_backwards, merge_mode and dropout_rate are the fields above;
     * rnn[0] forward, rnn[1] backward direction. */
    bool reset_after;       /* GRU: reset gate applied after the recurrent product */
    tk_rnn_weights rnn[2];

    /* BatchNormalization (inference): y = gamma (x - mean) / sqrt(var + eps) + beta
     * per channel of the last axis. channels = input_dim. */
    float bn_epsilon;
    int bn_axis;                       /* as written: -1, or the last axis counted with the batch */
    bool bn_center, bn_scale;          /* beta / gamma present */
    float *bn_gamma, *bn_beta;         /* (channels); NULL when !scale / !center */
    float *bn_mean, *bn_var;           /* (channels) moving statistics */

    /* Layers kept as TK_LAYER_DROPOUT with dropout_rate 0 because they are the
     * identity at inference (and tokattr trains them as the identity):
     * GaussianNoise (stddev), GaussianDropout and AlphaDropout (rate),
     * ActivityRegularization (l1, l2). 0: a real Dropout/SpatialDropout1D. */
    int identity_class;     /* tk_identity_class */
    float identity_args[2]; /* the options above, to write the config back */
} tk_layer;

typedef enum tk_identity_class {
    TK_IDENTITY_NONE,
    TK_IDENTITY_GAUSSIAN_NOISE,
    TK_IDENTITY_GAUSSIAN_DROPOUT,
    TK_IDENTITY_ALPHA_DROPOUT,
    TK_IDENTITY_ACTIVITY_REGULARIZATION
} tk_identity_class;

typedef struct tk_model {
    int n_layers;
    tk_layer *layers;        /* in order, InputLayer dropped */
    int first_body_layer;    /* index of the first layer after the Embedding (0 without one) */

    float *params;           /* one flat buffer; every weight pointer above is a view into it */
    size_t n_params;
    bool owns_params;        /* false when params live in a shared MPI window */

    bool has_embedding;
    int vocab_size;          /* Embedding input_dim (0 without embedding) */
    int input_dim;           /* D: channels of x, the body's input */
    int maxlen;              /* input length from the config; 0 when any length is accepted */
    int n_outputs;           /* units of the last layer */
    tk_activation output_activation; /* softmax, sigmoid or linear */

    char keras_version[32];
    char backend[32];
} tk_model;

/* Reads a Keras 2 HDF5 file (model.save("x.h5")): model_config (JSON) and
 * model_weights. Every attribute and dataset is untrusted: failures name the
 * file, the layer, the class and the option or weight at fault. */
tk_status tk_model_load(const char *path, tk_model **out, tk_error *err);

/* Writes a Keras 2 HDF5 file with the same groups, attributes and dataset
 * names that Keras writes, so tk_model_load (and Keras) reads it back. */
tk_status tk_model_save(const tk_model *model, const char *path, tk_error *err);

void tk_model_destroy(tk_model *model); /* NULL is fine */

/* A copy of src whose weight views point into params, caller-owned memory of
 * src->n_params floats (e.g. an MPI shared window); the copy does not own
 * or free it. When copy_values, src's parameters are copied into params
 * first (skip it on ranks that only map a window rank 0 filled). */
tk_status tk_model_clone_with_params(const tk_model *src, float *params, bool copy_values,
                                     tk_model **out, tk_error *err);

/* A model from layer configs (kind, name, class_name and the fields of its
 * kind; weight pointers are ignored): parameters laid out and zeroed, ready
 * to be filled through the views (tests, training from scratch).
 * layers[0] may be an Embedding; input_dim is D when there is none. */
tk_status tk_model_from_layers(const tk_layer *layers, int n_layers, int maxlen, int input_dim,
                               tk_model **out, tk_error *err);

/* A deep copy that owns its own parameter buffer. */
tk_status tk_model_clone(const tk_model *src, tk_model **out, tk_error *err);

/* The PRNG of tk_model_forward_train: core/rng.h's splitmix64
 * (tk_rng_u64, tk_rng_uniform), under the model's names for its callers. */
uint64_t tk_model_rng_next(uint64_t *rng_state);
float tk_model_rng_uniform(uint64_t *rng_state);

/* Resolves every layer's in/out shape for sequences of `steps` positions
 * (steps must equal model->maxlen when that is non-zero and a layer needs a
 * fixed length, e.g. Flatten). */
tk_status tk_model_check_steps(const tk_model *model, int steps, tk_error *err);

/* ids (batch, steps) -> x (batch, steps, input_dim) by Embedding lookup.
 * Every id must be in [0, vocab_size); an id outside gives TK_E_INVALID. */
tk_status tk_model_embed(const tk_model *model, const int32_t *ids, int batch, int steps,
                         float *x, tk_error *err);

/* Scratch for forward and backward passes: every layer's output for up to
 * max_batch sequences of up to max_steps positions, the LSTM gates and cell
 * states needed by backward passes, gradients. Allocated once per worker. */
typedef struct tk_workspace tk_workspace;

tk_workspace *tk_workspace_create(const tk_model *model, int max_batch, int max_steps,
                                  tk_error *err);
void tk_workspace_destroy(tk_workspace *ws);

/* x (batch, steps, input_dim) -> logits (batch, n_outputs). Keeps every
 * layer's activations in ws for a following backward pass. Inference mode:
 * dropout is the identity. Row b of the result depends only on row b of x. */
tk_status tk_model_forward(const tk_model *model, tk_workspace *ws, int batch, int steps,
                           const float *x, float *logits, tk_error *err);

/* The same in training mode: Dropout (and LSTM input dropout) masks drawn
 * from *rng_state (any PRNG the model module documents, seeded by the caller),
 * kept in ws so that tk_model_backward applies the same masks. */
tk_status tk_model_forward_train(const tk_model *model, tk_workspace *ws, int batch, int steps,
                                 const float *x, float *logits, uint64_t *rng_state,
                                 tk_error *err);

/* Applies the output activation: logits (batch, n_outputs) -> probs. */
void tk_model_output_probs(const tk_model *model, int batch, const float *logits, float *probs);

/* After tk_model_forward on the same ws: d_logits (batch, n_outputs) ->
 * dx (batch, steps, input_dim), the gradient w.r.t. the body's input.
 * dx may be NULL when only parameter gradients are wanted. When d_params is
 * not NULL it is ACCUMULATED (+=) with the gradients w.r.t. every parameter,
 * laid out like model->params (the Embedding's rows are not touched: use
 * dx to update them). */
tk_status tk_model_backward(const tk_model *model, tk_workspace *ws, const float *d_logits,
                            float *dx, float *d_params, tk_error *err);

/* Read access to what the last forward pass kept, for methods whose rules
 * need the activations (DeepLIFT, LRP, the IG fast path).
 * Output of layer i: (batch, out.steps or 1, out.channels), row-major. */
const float *tk_workspace_layer_output(const tk_workspace *ws, int layer);
/* Input of layer i (the previous layer's output, or x for the first body layer). */
const float *tk_workspace_layer_input(const tk_workspace *ws, int layer);

/* LSTM internals of layer i, direction dir (0 forward, 1 backward), per time
 * step in processing order (for go_backwards / the backward direction,
 * step 0 is the last position of the sequence):
 * gates (steps, batch, 4 * units): activated i, f, g, o;
 * cells (steps, batch, units): c_t; hidden (steps, batch, units): h_t.
 * NULL for non-LSTM layers. */
typedef struct tk_lstm_trace {
    const float *gates;
    const float *cells;
    const float *hidden;
    /* With tk_workspace_keep_pre, else NULL: pre (steps, batch, 4 * units)
     * the gate pre-activations i, f, g, o; tanh_cells (steps, batch, units)
     * tanh(c_t) as h_t = o tanh(c_t) used it. */
    const float *pre;
    const float *tanh_cells;
} tk_lstm_trace;
tk_lstm_trace tk_workspace_lstm_trace(const tk_workspace *ws, int layer, int dir);

/* From now on the forward passes on ws also keep what DeepLIFT's rules
 * need besides the outputs: the input of each layer's output activation
 * (Dense, Conv1D, Activation with a non-linear activation, except the last
 * layer, whose output is the logits) and the LSTM traces' pre and
 * tanh_cells. Allocates them for the workspace's max batch and steps. */
tk_status tk_workspace_keep_pre(tk_workspace *ws, const tk_model *model, tk_error *err);

/* Layer i's kept pre-activation, laid out like its output; NULL when the
 * layer has none (its output is its own pre-activation) or none is kept. */
const float *tk_workspace_layer_pre(const tk_workspace *ws, int layer);

/* Every body layer's shapes for sequences of `steps` positions: in and out
 * have model->n_layers entries (those before first_body_layer untouched).
 * The error names the layer that cannot take its input. */
tk_status tk_model_shapes(const tk_model *model, int steps, tk_shape *in, tk_shape *out,
                          tk_error *err);

/* 2 for a Bidirectional wrapper (lstm[0] forward, lstm[1] backward), else 1. */
int tk_layer_directions(const tk_layer *l);

/* FLOPs (2 per multiply-add) of layer i's forward pass of one sample of
 * input shape in and output shape out (0 for layers without weights). */
double tk_model_layer_flops(const tk_model *model, int layer, tk_shape in, tk_shape out);

/* ---- SimpleRNN / GRU / BatchNormalization (issue 16): the views their
 * rules read (attr/rules_rnn.c, rules_norm.c). ---- */

/* SimpleRNN/GRU internals of one direction, per processing step (step 0
 * of a backward direction is the last position), G as in tk_rnn_weights;
 * always kept by the forward pass (no tk_workspace_keep_pre needed):
 * pre (steps, batch, G): pre-activations (SimpleRNN: a; GRU: z, r and the
 *   candidate's x_h + recurrent term);
 * act (steps, batch, G): activated (SimpleRNN: h; GRU: z, r, candidate hh);
 * aux (steps, batch, units), GRU only: reset_after: q = h_{t-1} U_h + b_rh
 *   (so the candidate is act(x_h + r q)); else r h_{t-1} (the candidate is
 *   act(x_h + (r h_{t-1}) U_h));
 * hidden (steps, batch, units): h_t. */
typedef struct tk_rnn_trace {
    const float *pre, *act, *aux, *hidden;
} tk_rnn_trace;

/* The trace of direction dir (0, or 1 for Bidirectional) of layer i after a
 * forward pass on ws; all NULL for kinds other than SimpleRNN/GRU. */
tk_rnn_trace tk_workspace_rnn_trace(const tk_workspace *ws, int layer, int dir);

/* BatchNormalization folded: y = scale[c] x + shift[c] for every channel. */
void tk_batchnorm_affine(const tk_layer *l, float *scale, float *shift);

/* Activations whose name a file's keras_version decides: Keras >= 3 files
 * get TK_ACT_HARD_SIGMOID_K3 wherever they say "hard_sigmoid". Called by
 * the loaders once keras_version is known. */
void tk_model_apply_keras_version(tk_model *m);

#endif
