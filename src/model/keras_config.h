/* Internal to src/model: Keras model_config JSON <-> tk_model layers. */
#ifndef TOKATTR_MODEL_KERAS_CONFIG_H
#define TOKATTR_MODEL_KERAS_CONFIG_H

#include "model/model.h"

/* Builds a model (parameters zeroed) from the model_config JSON of path. */
tk_status tk_keras_parse_config(const char *json, const char *path, tk_model **out,
                                tk_error *err);

/* A Sequential model_config that reproduces m (malloc'd; free()). */
char *tk_keras_config_json(const tk_model *m, tk_error *err);

const char *tk_activation_name(tk_activation act);

#endif
