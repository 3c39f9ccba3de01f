/* Inside src/attr: the DeepLIFT and epsilon-LRP rules of BatchNormalization
 * (issue 16; README "Methods"), folded into y = a x + b per channel
 * (tk_batchnorm_affine). */
#ifndef TOKATTR_ATTR_RULES_NORM_H
#define TOKATTR_ATTR_RULES_NORM_H

#include "core/status.h"
#include "model/model.h"

/* DeepLIFT, the linear rule: min = a ⊙ mo over rows (nb, rows of si,
 * channels); work holds 2 channels floats. */
void tk_rules_norm_deeplift(const tk_layer *l, int nb, tk_shape si, const float *mo, float *min,
                            float *work);

/* epsilon-LRP on the affine map of each channel (one input per unit, so
 * N = 1): R(x) = a x q + bias_factor (b + eps s) q, q = R(y) / (a x + b +
 * eps s). a (si) the layer's input; adds the biases' and eps' share to
 * *absorbed. */
tk_status tk_rules_norm_lrp(const tk_layer *l, tk_shape si, const float *a, const double *ro,
                            double *ri, double eps, double bias_factor, double *absorbed,
                            tk_error *err);

#endif
