/* Internal to src/model: Keras model_config JSON <-> tk_model layers. */
#ifndef TOKATTR_MODEL_KERAS_CONFIG_H
#define TOKATTR_MODEL_KERAS_CONFIG_H

#include "model/model.h"

/* Which Keras writes a config: Keras 2 (tf.keras h5 model_config) or Keras 3
 * (.keras config.json: module/registered_name, dtype policies, batch_shape). */
typedef enum tk_keras_format { TK_KERAS_2, TK_KERAS_3 } tk_keras_format;

/* Builds a model (parameters zeroed) from the model_config JSON of path:
 * Keras 2 or 3, Sequential or a Functional chain. */
tk_status tk_keras_parse_config(const char *json, const char *path, tk_model **out,
                                tk_error *err);

/* A Sequential model_config that reproduces m (malloc'd; free()). */
char *tk_keras_config_json(const tk_model *m, tk_keras_format fmt, tk_error *err);

const char *tk_activation_name(tk_activation act);

/* The Python class Keras instantiates for l ("Conv1D" also for a layer
 * read as Convolution1D): what Keras 3 names its weights group after. */
const char *tk_keras_python_class(const tk_layer *l);

/* The vocabulary list of the config's leading TextVectorization layer
 * (its "vocabulary" option), NULL when the config holds none. */
tk_status tk_keras_config_vocabulary(const char *json, const char *path, char ***words,
                                     int64_t *n, tk_error *err);

#endif
