/* Which class a method explains and the scalar F it explains (METHODS.md,
 * "Target and explained scalar"), shared by every method. */
#ifndef TOKATTR_ATTR_TARGET_H
#define TOKATTR_ATTR_TARGET_H

#include "attr/attr.h"

/* Predicted class from logits (n_outputs): arg-max with ties to the lower
 * class; a single sigmoid unit predicts 1 when p > 0.5 (z > 0). */
int tk_predicted_class(const tk_model *model, const float *logits);

/* The class to explain for one review, or TK_E_INVALID (a label of -1 with
 * TK_TARGET_LABEL, a class outside the model's outputs). */
tk_status tk_choose_target(const tk_model *model, const tk_method_params *params,
                           const float *logits, int label, int *target, tk_error *err);

/* F(logits) for the target, in double, and dF/dlogits (n_outputs) in
 * d_logits when that is not NULL:
 * - softmax + prob: p_c = softmax(z)_c; 2 classes are the same number as
 *   sigmoid(z_c - z_other).
 * - sigmoid + prob: p (class 1) or 1 - p (class 0).
 * - logit: z_c; for a single unit z (class 1) or -z (class 0).
 * - linear output: z_c either way; a single linear unit, like a single
 *   sigmoid's logit, is z for class 1 and -z for class 0. */
double tk_explained_scalar(const tk_model *model, tk_output_kind output, int target,
                           const float *logits, float *d_logits);

#endif
