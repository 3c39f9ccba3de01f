/* Building a fresh tk_model (layers, shapes, one flat parameter buffer) from
 * a list of Keras-like layer specifications, for training. */
#ifndef TOKATTR_MODEL_BUILD_H
#define TOKATTR_MODEL_BUILD_H

#include <stdbool.h>

#include "core/status.h"
#include "model/model.h"

typedef struct tk_layer_spec {
    tk_layer_kind kind;        /* EMBEDDING first, then body layers */
    int input_dim, output_dim; /* Embedding: vocabulary size, vector size */
    int filters, kernel_size;  /* Conv1D (strides 1, dilation 1) */
    bool padding_same;         /* Conv1D, MaxPooling1D: "same" instead of "valid" */
    int pool_size;             /* MaxPooling1D, AveragePooling1D (strides = pool_size) */
    int units;                 /* Dense, LSTM */
    tk_activation activation;  /* Dense, Conv1D, Activation */
    float rate;                /* Dropout rate; LSTM input dropout */
    bool return_sequences;     /* LSTM */
} tk_layer_spec;

/* Builds the model for input sequences of length maxlen (maxlen > 0) with
 * the model module's tk_model_from_layers (its weight layout and shape
 * rules). The weights are zero: initialise with tk_model_init_keras. Layer
 * names follow tf.keras' automatic naming ("dense", "dense_1", ...). The
 * result is freed with tk_model_destroy. Bad sizes give an error naming the
 * layer. */
tk_status tk_model_build(const tk_layer_spec *specs, int n_specs, int maxlen, tk_model **out,
                         tk_error *err);

/* Keras class name of a kind ("Conv1D", ...). */
const char *tk_layer_class_name(tk_layer_kind kind);

/* Offset and length inside model->params of a layer's kernel (Dense, Conv1D,
 * LSTM input kernel(s)); *count = 0 when it has none. For regularisation. */
void tk_layer_kernel_range(const tk_model *model, int layer, size_t *offset, size_t *count);

#endif
