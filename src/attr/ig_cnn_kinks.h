/* Inside src/attr: Integrated Gradients along the CNN fast path's straight
 * path with its kinks found exactly (ig_cnn.c, the adaptive rule).
 *
 * Conv1D's pre-activation is u_tq(alpha) = z0_tq + alpha dz_tq: lines in
 * alpha. GlobalMaxPooling1D of relu(u) is relu of the upper envelope of a
 * filter's lines, piecewise linear with its breakpoints where the winner
 * changes (and where it crosses 0). A Dense layer of the pooled vector is
 * then piecewise linear on the union of the filters' breakpoints, and an
 * optional hidden relu adds one kink per unit and zero crossing. Between
 * consecutive kinks the network is affine in alpha: the logits are
 * Z + alpha V, and the gradient at the conv pre-activation is, per
 * filter, the winner's entry times C_q . dF/dlogits, C (f, K) the product
 * of the Dense kernels through the active hidden units. So
 *
 *   integral_0^1 dF/du_tq dalpha = sum over pieces where t wins q and is
 *                                  active of C_q . integral dF/dlogits
 *
 * with the last integral of a smooth function of alpha on each piece
 * (constant for output logit, softmax/sigmoid for prob), taken with
 * Boole's rule (gz) and Simpson's on the halves (gz_lo, for the estimate),
 * the piece halved while the two differ.
 * Everything runs in double from the float z0, dz; events are ordered by
 * alpha then filter, so the result depends only on the review. */
#ifndef TOKATTR_ATTR_IG_CNN_KINKS_H
#define TOKATTR_ATTR_IG_CNN_KINKS_H

#include <stdbool.h>

#include "attr/attr.h"
#include "attr/ig_cnn_pool.h"
#include "model/model.h"

typedef struct tk_cnn_kinks tk_cnn_kinks;

/* For f filters (conv activation relu or linear), dense (n_dense) the
 * layers after the pooling, and up to max_out conv positions. *out = NULL
 * (TK_OK) unless n_dense is 1, or 2 with a relu or linear first layer. */
tk_status tk_cnn_kinks_create(const tk_model *model, bool conv_relu, int f,
                              const tk_layer *const *dense, int n_dense, int max_out,
                              tk_cnn_kinks **out, tk_error *err);
void tk_cnn_kinks_destroy(tk_cnn_kinks *k); /* NULL is fine */

/* gz, gz_lo (out, f) = the integral over alpha in [0, 1] of dF/du along
 * z0 + alpha dz (both (out, f)), F the explained scalar of `target`,
 * with Boole's rule and Simpson's on the halves per piece (pool, when not
 * NULL: the candidates of its last set_slope, for z0 and dz, ig_cnn_pool.h,
 * so that each envelope scans those alone); mark (out, f) gets 1 where
 * an entry was written (gz and gz_lo are written only there; the caller
 * zeroes them). *pieces: the affine pieces of [0, 1]. TK_E_INVALID when
 * z0 or dz is not finite. */
tk_status tk_cnn_kinks_integrate(tk_cnn_kinks *k, const tk_cnn_pool *pool, tk_output_kind output,
                                 int target, const float *z0, const float *dz, int out, double *gz,
                                 double *gz_lo, unsigned char *mark, int *pieces, tk_error *err);

#endif
