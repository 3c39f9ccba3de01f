/* Keras' default initialisers over a seeded, portable PRNG, so that the same
 * seed on the same machine gives the same weights bit for bit. */
#ifndef TOKATTR_MODEL_INIT_H
#define TOKATTR_MODEL_INIT_H

#include <stdint.h>

#include "core/status.h"
#include "model/model.h"

/* The PRNG is core/rng.h (splitmix64); included here for the callers
 * that drew from init.h before it moved. */
#include "core/rng.h"

/* U(-limit, limit): w (count) */
void tk_init_uniform(float *w, size_t count, float limit, uint64_t *state);

/* glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
 * w (count) */
void tk_init_glorot_uniform(float *w, size_t count, double fan_in, double fan_out,
                            uint64_t *state);

/* orthogonal (gain 1) for a (rows, cols) matrix, rows <= cols: the rows are
 * orthonormal, as Keras' Orthogonal gives for an LSTM recurrent kernel
 * (units, 4 units). Modified Gram-Schmidt on Gaussian rows in double.
 * w (rows, cols), row-major. */
tk_status tk_init_orthogonal(float *w, int rows, int cols, uint64_t *state, tk_error *err);

/* Every weight of a freshly built model (tk_model_build) with the Keras 2
 * defaults: Embedding U(-0.05, 0.05); Dense / Conv1D / LSTM kernels
 * glorot_uniform (Conv1D fans multiplied by the kernel width); LSTM recurrent
 * kernel orthogonal; biases zero except the LSTM forget gate (unit_forget_bias).
 * Layers are visited in order and draw from one stream seeded with `seed`. */
tk_status tk_model_init_keras(tk_model *model, uint64_t seed, tk_error *err);

#endif
