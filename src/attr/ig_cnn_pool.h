/* Inside src/attr: the max pooling over time of the CNN fast path along
 * the IG path (ig_cnn.c): for each point alpha_p and filter q, the value
 * and the first position of max_t act(z0_t + alpha_p dz_t), act = relu or
 * linear, z0 the baseline's conv pre-activation and dz the slope
 * z(x) - z(x'), both (out, f) row-major.
 *
 * For alpha >= 0 the rounded u = fl(z0_t + fl(alpha dz_t)) is monotone in
 * z0_t and in dz_t, and so is the relu, so a position t with an earlier s
 * where z0_s >= z0_t and dz_s >= dz_t has h_t <= h_s <= the running
 * maximum and never wins the first-maximum scan ("h > best"). Scanning
 * only the other positions, in order, gives the same value and position
 * bit for bit. With the pad baseline z0 is the same at every position
 * ("valid" padding) and those candidates are the strict records of dz_t:
 * about ln(out) + 0.6 of them for out positions in random order (5 of 98)
 * instead of every position for every point. Lists past 24 entries keep
 * every later position (a superset is still exact), which bounds the
 * dominance checks. No candidates when a value is not finite (NaN breaks
 * the monotonicity), nor for alpha < 0: the full scan then. */
#ifndef TOKATTR_ATTR_IG_CNN_POOL_H
#define TOKATTR_ATTR_IG_CNN_POOL_H

#include <stdbool.h>

#include "core/status.h"

typedef struct tk_cnn_pool tk_cnn_pool;

/* Scratch for f filters and up to max_steps positions. */
tk_status tk_cnn_pool_create(int f, int max_steps, tk_cnn_pool **out, tk_error *err);
void tk_cnn_pool_destroy(tk_cnn_pool *p); /* NULL is fine */

/* z0 (out, f) changed: what the candidates need to know of it (finite,
 * flat filters), once per baseline. */
void tk_cnn_pool_set_baseline(tk_cnn_pool *p, const float *z0, int out);

/* The candidates for z0 (the one of set_baseline) and dz (out, f);
 * dz_finite: no inf or NaN in dz. */
void tk_cnn_pool_set_slope(tk_cnn_pool *p, const float *z0, const float *dz, int out,
                           bool dz_finite);

/* Filter q's candidates of the last set_slope into z0c, dzc, tc (each room
 * for max_steps): their z0, dz and positions t, in increasing t; the
 * count, or -1 when there are none (a value not finite). Every other
 * position is dominated (an earlier one no lower at 0 and no less steep),
 * so it never rises above them for alpha >= 0: the upper envelope of a
 * filter's lines over [0, 1] is that of its candidates. */
int tk_cnn_pool_candidates(const tk_cnn_pool *p, int q, float *z0c, float *dzc, int *tc);

/* pooled (n, f), arg (n, f) for the n points alpha, over the candidates of
 * the last set_slope (then true, and arg holds the winner's candidate
 * number, see tk_cnn_pool_sum) or every position (arg: the position t). */
bool tk_cnn_pool_points(const tk_cnn_pool *p, const float *z0, const float *dz, int out, int n,
                        const double *alpha, bool relu, float *pooled, int *arg);

/* After tk_cnn_pool_points returned true: gp (n, f) the gradient at the
 * pooled values of its points, summed in double in increasing point order
 * per winning (t, q), the points where gp is 0 or the relu is off
 * (pooled <= 0, when relu) left out. gz (out, f) and mark (out, f) are
 * set at the entries whose sum is not 0 (the others are not touched);
 * returns their number. */
int tk_cnn_pool_sum(tk_cnn_pool *p, int n, const float *gp, const float *pooled, const int *arg,
                    bool relu, double *gz, unsigned char *mark);

/* gz (out, f) = 0 wherever tk_cnn_pool_points may have put a position:
 * the candidates when it returned true (candidates), else everywhere. */
void tk_cnn_pool_clear(const tk_cnn_pool *p, bool candidates, int out, double *gz);

#endif
