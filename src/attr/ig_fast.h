/* Inside src/attr: Integrated Gradients fast paths that use the linearity
 * of the first body layer along the straight path (PERFORMANCE.md), and the
 * straightforward method table they are tested against. */
#ifndef TOKATTR_ATTR_IG_FAST_H
#define TOKATTR_ATTR_IG_FAST_H

#include "attr/attr.h"
#include "attr/method.h"

/* IG that always pushes every interpolated input through the whole model
 * (forward + backward); the reference for the fast paths. */
extern const tk_method_ops tk_ig_plain_ops;

/* CNN fast path: Conv1D (stride 1, dilation 1, linear or relu) -> Dropout* ->
 * GlobalMaxPooling1D -> (Dense | Dropout)*. */
typedef struct tk_ig_cnn tk_ig_cnn;

/* *out = NULL (and TK_OK) when the model does not have that shape. */
tk_status tk_ig_cnn_create(const tk_model *model, int max_steps, int max_points,
                           tk_ig_cnn **out, tk_error *err);
void tk_ig_cnn_destroy(tk_ig_cnn *c);

/* grad (steps, D) = sum_k weight_k dF/dx at x' + alpha_k (x - x'), for the
 * explained scalar of `target`. x, xb (steps, D); alpha, weight (n). */
tk_status tk_ig_cnn_gradient(tk_ig_cnn *c, const tk_method_params *params, int target,
                             const float *x, const float *xb, int steps, int n,
                             const double *alpha, const double *weight, float *grad,
                             tk_error *err);

/* logits (K) = F(x) through the path's own kernels, x (steps, D): the
 * convolution of x is kept for the gradient that follows on the same x
 * (and one kept from a gradient call is reused here), so the explainer's
 * F(x) and target cost no second convolution. The bits are those of a
 * first call on x, whatever came before (tests/test_attr_methods.c);
 * they differ from tk_model_forward's by float rounding (other GEMM). */
tk_status tk_ig_cnn_logits(tk_ig_cnn *c, const float *x, int steps, float *logits, tk_error *err);

/* The CNN path with its kinks along the path found exactly (ig_cnn_kinks.h:
 * one Dense layer after the pooling, or a relu/linear one and the output
 * layer), for the adaptive rule: grad (steps, D) = the integral of dF/dx over
 * alpha in [0, 1], from Boole's rule per affine piece of the path;
 * grad_lo with Simpson's on its halves (their difference estimates the error; for output
 * logit both are exact). *pieces: the affine pieces. */
bool tk_ig_cnn_has_exact(const tk_ig_cnn *c);
tk_status tk_ig_cnn_exact(tk_ig_cnn *c, const tk_method_params *params, int target, const float *x,
                          const float *xb, int steps, float *grad, float *grad_lo, int *pieces,
                          tk_error *err);

/* Occlusion through the CNN path: logits (steps - window + 2, K), row 0 for
 * x itself, row 1 + p for x with positions p..p+window-1 replaced by repl (D).
 * Needs max_points >= steps + 1 at create. */
tk_status tk_ig_cnn_occlusion(tk_ig_cnn *c, const float *x, const float *repl, int steps,
                              int window, float *logits, tk_error *err);

/* LSTM fast path: LSTM (one direction, last state, tanh cell) -> Dropout* ->
 * Dense*. The input projection of the path is interpolated from two
 * evaluations; the recurrence advances all points together; the input
 * projection's transpose is applied once to the point-summed gradient. */
typedef struct tk_ig_lstm tk_ig_lstm;

tk_status tk_ig_lstm_create(const tk_model *model, int max_steps, int max_points,
                            tk_ig_lstm **out, tk_error *err);
void tk_ig_lstm_destroy(tk_ig_lstm *l);
/* Leading rows of x equal to xb's bit for bit are run once per call, not
 * once per point (ig_lstm.c); their grad rows are 0. false (tests only)
 * runs them per point as a full computation would, gradient included. */
void tk_ig_lstm_set_prefix_skip(tk_ig_lstm *l, bool skip);
/* grad as tk_ig_cnn_gradient's; with weight2 (n, or NULL) also grad2 (steps,
 * D) = sum_k weight2_k dF/dx from the same points in the same pass (the
 * adaptive rule's Gauss sum at the Kronrod nodes), where weight2_k != 0
 * needs weight_k != 0. grad is the same bits with or without weight2. */
tk_status tk_ig_lstm_gradient(tk_ig_lstm *l, const tk_method_params *params, int target,
                              const float *x, const float *xb, int steps, int n,
                              const double *alpha, const double *weight, const double *weight2,
                              float *grad, float *grad2, tk_error *err);

#endif
