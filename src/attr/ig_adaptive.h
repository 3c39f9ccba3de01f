/* Inside src/attr: the adaptive rule of Integrated Gradients (README
 * "Integrated Gradients", rule adaptive).
 *
 * The path integral over alpha in [0, 1] is split into sub-intervals, each
 * integrated by Gauss-Kronrod 7/15. Per interval j and token t the error
 * estimate is e_jt = |reduce_d (x - x')_td (K_j - G_j)_td| (K, G the
 * Kronrod and Gauss sums of the gradient; reduce as the score's: sum, or
 * the L2 norm). The review's estimate is the max over tokens of sum_j e_jt
 * (the L-infinity norm over tokens of the per-token bound), divided by
 * scale = max(|F(x) - F(x')|, 1e-3). While it exceeds the tolerance and
 * the budget allows, the interval with the largest max_t e_jt is halved.
 *
 * Everything depends only on the review (the integrand and the order of
 * refinement; ties go to the interval nearer alpha = 0), so the result is
 * bitwise the same whatever was explained before, on any rank. */
#ifndef TOKATTR_ATTR_IG_ADAPTIVE_H
#define TOKATTR_ATTR_IG_ADAPTIVE_H

#include "attr/attr.h"

/* The integrand: grad (steps, D) = sum_k weight_k dF/dx(x' + alpha_k (x - x')),
 * for n <= TK_GK_KRONROD points (one batch, e.g. tk_ig_cnn_gradient); and,
 * when weight2 is not NULL (only for an integrand created one_pass), also
 * grad2 = sum_k weight2_k dF/dx from the same points. */
typedef tk_status (*tk_ig_integrand)(void *ctx, int n, const double *alpha, const double *weight,
                                     const double *weight2, double *grad, double *grad2,
                                     tk_error *err);

/* Scale floor: reviews whose F barely moves from the baseline are held to
 * tolerance * 1e-3 absolute instead of a relative tolerance of nothing. */
#define TK_IG_ADAPTIVE_SCALE_FLOOR 1e-3

typedef struct tk_ig_adaptive tk_ig_adaptive;

/* max over tokens t of e_t = |reduce_d dx_td (hi - lo)_td| (reduce sum: the
 * sum, L2: the norm); e (steps) gets each e_t when not NULL. hi, lo
 * (steps, dim) two integrals of the gradient, dx = x - x'. A NaN e_t is
 * not the max (but is in e: the review's estimate checks there). */
double tk_ig_adaptive_token_error(tk_reduce_kind reduce, const float *dx, int steps, int dim,
                                  const double *hi, const double *lo, double *e);

/* Scratch for reviews of up to max_steps positions of dim values, and the
 * intervals params->max_steps evaluations can make. one_pass: the
 * integrand returns the Gauss sum with the Kronrod sum from the 15 Kronrod
 * points (the 7 Gauss nodes are among them), so an interval costs 15
 * evaluations; else the Gauss sum is a second batch of 7, and 22. */
tk_status tk_ig_adaptive_create(const tk_method_params *params, int max_steps, int dim,
                                bool one_pass, tk_ig_adaptive **out, tk_error *err);
void tk_ig_adaptive_destroy(tk_ig_adaptive *a);

typedef struct tk_ig_adaptive_result {
    int evaluations;       /* integrand evaluations (15 or 22 per interval evaluated) */
    int intervals;         /* sub-intervals at the end */
    double error_estimate; /* relative (over scale), as described above */
    double abs_estimate;   /* the same before the division: max_t sum_j e_jt */
} tk_ig_adaptive_result;

/* gsum (steps, D) = the integral of the gradient over alpha in [0, 1];
 * dx (steps, D) = x - x'; delta_f = F(x) - F(x'). */
tk_status tk_ig_adaptive_integrate(tk_ig_adaptive *a, tk_ig_integrand f, void *ctx,
                                   const float *dx, int steps, double delta_f, double *gsum,
                                   tk_ig_adaptive_result *res, tk_error *err);

#endif
