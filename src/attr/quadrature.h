/* Step points and weights of the Integrated Gradients path integral
 * (METHODS.md table): the integral of g over alpha in [0, 1] is approximated
 * by sum_k w_k g(alpha_k). */
#ifndef TOKATTR_ATTR_QUADRATURE_H
#define TOKATTR_ATTR_QUADRATURE_H

#include "attr/attr.h"

/* alpha (n), weight (n), ascending alpha, computed in double.
 * n >= 1 (>= 2 for the trapezoid); TK_E_INVALID otherwise, and for the
 * adaptive rule (its points depend on the review: ig_adaptive.h). */
tk_status tk_quadrature(tk_ig_rule rule, int n, double *alpha, double *weight, tk_error *err);

/* n-point Gauss-Legendre rule on [-1, 1]: nodes ascending, weights summing
 * to 2, as numpy.polynomial.legendre.leggauss. */
void tk_gauss_legendre(int n, double *node, double *weight);

/* Gauss-Kronrod 7/15 on [a, b] (QUADPACK's qk15 constants): the 15
 * Kronrod nodes ascending with their weights, and the 7 Gauss nodes (every
 * second Kronrod node) with the Gauss weights. Both rules sum their
 * weights to b - a; their difference estimates the Gauss rule's error. */
enum { TK_GK_KRONROD = 15, TK_GK_GAUSS = 7 };
void tk_gauss_kronrod15(double a, double b, double *k_alpha, double *k_weight, double *g_alpha,
                        double *g_weight);

const char *tk_ig_rule_name(tk_ig_rule rule);
/* "gausslegendre", "riemann_left", "riemann_right", "riemann_middle",
 * "riemann_trapezoid", "adaptive" (also "trapezoid", "gl", "left", "right", "middle"). */
tk_status tk_ig_rule_parse(const char *name, tk_ig_rule *rule, tk_error *err);

#endif
