/* Inside src/attr: what the gradient, IG and occlusion methods share —
 * building x and the baseline for a review, reducing A to per-position
 * scores, and counting the FLOPs of one pass. */
#ifndef TOKATTR_ATTR_ATTR_COMMON_H
#define TOKATTR_ATTR_ATTR_COMMON_H

#include "attr/attr.h"

/* x (steps, input_dim): the embedding rows of review->ids, or a copy of
 * review->vectors for embedding-less models. */
tk_status tk_attr_input(const tk_model *model, const tk_review *review, float *x, tk_error *err);

/* The row every position of the baseline / replacement takes:
 * row (input_dim). pad = E[0], oov = E[2], token N = E[N], zeros = 0.
 * Embedding-less models: pad is the zero vector too (sequences of vectors
 * are padded with zeros); oov and token are errors. */
tk_status tk_attr_baseline_row(const tk_model *model, const tk_method_params *params, float *row,
                               tk_error *err);

/* score (steps) from A (steps, input_dim): sum over the dimension, or its L2
 * norm; both accumulated in double. */
void tk_attr_reduce(tk_reduce_kind reduce, const float *a, int steps, int dim, float *score);

/* FLOPs (2 per multiply-add) of one forward pass, and of one backward pass
 * to the input gradient, for a sequence of `steps` positions. The backward
 * count lets a global max pooling pass one position per channel, so the
 * layers before it cost one window instead of `steps` (PERFORMANCE.md). */
double tk_attr_forward_flops(const tk_model *model, int steps);
double tk_attr_backward_flops(const tk_model *model, int steps);

#endif
