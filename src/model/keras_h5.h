/* Internal to src/model: the HDF5 pieces shared by the Keras 2 h5 reader
 * (keras_h5.c) and the Keras 3 layouts (keras_archive.c). */
#ifndef TOKATTR_MODEL_KERAS_H5_H
#define TOKATTR_MODEL_KERAS_H5_H

#include <hdf5.h>

#include "model/layer_ops.h"

/* One string attribute (fixed or variable length, ASCII or UTF-8). */
tk_status tk_h5_read_string(hid_t obj, const char *attr, const char *path, char **out,
                            tk_error *err);

/* Dataset name (relative to g) into spec's view, after checking its shape
 * against the config; errors name path, the layer and the weight. */
tk_status tk_h5_read_weight(hid_t g, const char *name, const char *path, const tk_layer *l,
                            const tk_weight_spec *spec, tk_error *err);

/* Creates dataset name (relative to loc; lcpl may create the groups on the
 * way) with spec's shape as float32 and writes the weight. */
herr_t tk_h5_write_weight(hid_t loc, const char *name, hid_t lcpl, const tk_weight_spec *spec);

/* keras.src.utils.naming.to_snake_case: "GlobalMaxPooling1D" ->
 * "global_max_pooling1d", "SimpleRNN" -> "simple_rnn" (Keras 3 group names). */
void tk_keras_snake_case(const char *cls, char *out, size_t size);

/* Keras 3 weights (model.weights.h5 of a .keras archive, or a
 * save_weights("x.weights.h5") file): layers/<snake_case class>[_N]/vars/<i>,
 * recurrent layers' weights in their cell (layers/lstm/cell/vars/0),
 * Bidirectional's in forward_layer/cell and backward_layer/cell. */
tk_status tk_keras3_read_weights(hid_t file, const char *path, tk_model *m, tk_error *err);
tk_status tk_keras3_write_weights(hid_t file, const tk_model *m, const char *path,
                                  tk_error *err);

/* Is the file a zip archive (a .keras file)? */
bool tk_keras_archive_probe(const char *path);

/* A .keras archive: config.json (or the architecture JSON arch when not NULL),
 * model.weights.h5, metadata.json. */
tk_status tk_keras_archive_load(const char *path, const char *arch, tk_model **out,
                                tk_error *err);

/* The text of a small file (architecture JSON, vocabulary), NUL-terminated;
 * bounded by max_bytes. */
tk_status tk_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len,
                            tk_error *err);

#endif
