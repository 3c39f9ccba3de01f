/* Internal to src/model: completing a model whose layers hold their config. */
#ifndef TOKATTR_MODEL_MODEL_BUILD_H
#define TOKATTR_MODEL_MODEL_BUILD_H

#include "model/model.h"

/* From layers[] with config set (kind, name, units, ...), input_dim (no
 * embedding), maxlen, has_embedding and first_body_layer: resolves every
 * layer's shapes and input_dim, lays out model->params (each weight
 * aligned to 16 floats, in layer order and each layer's Keras weight
 * order), allocates it zeroed and points every weight view into it. */
tk_status tk_model_finish(tk_model *m, tk_error *err);

#endif
