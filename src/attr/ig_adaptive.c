/* The adaptive rule of Integrated Gradients (ig_adaptive.h). */
#include "attr/ig_adaptive.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/quadrature.h"


struct tk_ig_adaptive {
    int max_steps, dim;
    int max_intervals;
    int budget;
    bool one_pass;   /* the Gauss sum comes with the Kronrod points' batch */
    int evals;       /* integrand evaluations per interval: 15 one_pass, else 22 */
    double tolerance;
    tk_reduce_kind reduce;
    double *lo, *hi; /* (max_intervals) the intervals, in no particular order */
    double *err;     /* (max_intervals) max over tokens of the interval's e_jt */
    double *k;       /* (max_intervals, max_steps * dim) Kronrod sum of each interval */
    double *e;       /* (max_intervals, max_steps) per-token error estimate of each interval */
    double *gk, *gg; /* (max_steps * dim) Kronrod and Gauss sums of the interval in hand */
    double *tok;     /* (max_steps) sum over intervals of e_jt */
    int *order;      /* (max_intervals) by lower end, for the final sum */
};

void tk_ig_adaptive_destroy(tk_ig_adaptive *a)
{
    if (a == NULL)
        return;
    free(a->lo);
    free(a->hi);
    free(a->err);
    free(a->k);
    free(a->e);
    free(a->gk);
    free(a->gg);
    free(a->tok);
    free(a->order);
    free(a);
}

tk_status tk_ig_adaptive_create(const tk_method_params *params, int max_steps, int dim,
                                bool one_pass, tk_ig_adaptive **out, tk_error *err)
{
    *out = NULL;
    tk_ig_adaptive *a = tk_calloc(1, sizeof *a, err);
    if (a == NULL)
        return TK_E_NOMEM;
    a->max_steps = max_steps;
    a->dim = dim;
    a->budget = params->max_steps;
    a->tolerance = params->tolerance;
    a->reduce = params->reduce;
    a->one_pass = one_pass;
    a->evals = one_pass ? TK_GK_KRONROD : TK_GK_KRONROD + TK_GK_GAUSS;
    /* the first interval costs one pair, each halving two more */
    a->max_intervals = 1 + (a->budget - a->evals) / (2 * a->evals);
    if (a->max_intervals < 1)
        a->max_intervals = 1;
    size_t ni = (size_t)a->max_intervals, row = (size_t)max_steps * (size_t)dim;
    a->lo = tk_malloc(ni, sizeof *a->lo, err);
    a->hi = tk_malloc(ni, sizeof *a->hi, err);
    a->err = tk_malloc(ni, sizeof *a->err, err);
    a->k = tk_malloc(ni * row, sizeof *a->k, err);
    a->e = tk_malloc(ni * (size_t)max_steps, sizeof *a->e, err);
    a->gk = tk_malloc(row, sizeof *a->gk, err);
    a->gg = tk_malloc(row, sizeof *a->gg, err);
    a->tok = tk_malloc((size_t)max_steps, sizeof *a->tok, err);
    a->order = tk_malloc(ni, sizeof *a->order, err);
    if (!a->lo || !a->hi || !a->err || !a->k || !a->e || !a->gk || !a->gg || !a->tok ||
        !a->order) {
        tk_ig_adaptive_destroy(a);
        return TK_E_NOMEM;
    }
    *out = a;
    return TK_OK;
}

double tk_ig_adaptive_token_error(tk_reduce_kind reduce, const float *dx, int steps, int dim,
                                  const double *hi, const double *lo, double *e)
{
    double worst = 0.0;
    for (int t = 0; t < steps; t++) {
        const float *d = dx + (size_t)t * dim;
        const double *h = hi + (size_t)t * dim, *l = lo + (size_t)t * dim;
        double s = 0.0;
        for (int c = 0; c < dim; c++) {
            double v = (double)d[c] * (h[c] - l[c]);
            s += reduce == TK_REDUCE_L2 ? v * v : v;
        }
        double et = reduce == TK_REDUCE_L2 ? sqrt(s) : fabs(s);
        if (e != NULL)
            e[t] = et;
        if (et > worst)
            worst = et;
    }
    return worst;
}

/* Integrates [lo, hi] into slot j: its Kronrod sum and per-token errors. */
static tk_status eval_interval(tk_ig_adaptive *a, tk_ig_integrand f, void *ctx, const float *dx,
                               int steps, int j, double lo, double hi, tk_error *err)
{
    double ka[TK_GK_KRONROD], kw[TK_GK_KRONROD], ga[TK_GK_GAUSS], gw[TK_GK_GAUSS];
    tk_gauss_kronrod15(lo, hi, ka, kw, ga, gw);
    tk_status st;
    if (a->one_pass) {
        /* the Gauss nodes are the Kronrod points 1, 3, .., 13 (quadrature.h) */
        double gwk[TK_GK_KRONROD] = {0};
        for (int i = 0; i < TK_GK_GAUSS; i++)
            gwk[2 * i + 1] = gw[i];
        st = f(ctx, TK_GK_KRONROD, ka, kw, gwk, a->gk, a->gg, err);
    } else {
        st = f(ctx, TK_GK_KRONROD, ka, kw, NULL, a->gk, NULL, err);
        if (st == TK_OK)
            st = f(ctx, TK_GK_GAUSS, ga, gw, NULL, a->gg, NULL, err);
    }
    if (st != TK_OK)
        return st;
    int dim = a->dim;
    size_t row = (size_t)steps * (size_t)dim;
    double *kj = a->k + (size_t)j * (size_t)a->max_steps * (size_t)dim;
    double *ej = a->e + (size_t)j * (size_t)a->max_steps;
    for (size_t i = 0; i < row; i++)
        kj[i] = a->gk[i];
    double worst = tk_ig_adaptive_token_error(a->reduce, dx, steps, dim, a->gk, a->gg, ej);
    a->lo[j] = lo;
    a->hi[j] = hi;
    a->err[j] = worst;
    return TK_OK;
}

/* max over tokens of sum_j e_jt; NaN propagates (a NaN gradient must not
 * look converged). */
static double review_estimate(tk_ig_adaptive *a, int n, int steps)
{
    for (int t = 0; t < steps; t++)
        a->tok[t] = 0.0;
    for (int j = 0; j < n; j++) {
        const double *ej = a->e + (size_t)j * (size_t)a->max_steps;
        for (int t = 0; t < steps; t++)
            a->tok[t] += ej[t];
    }
    double worst = 0.0;
    for (int t = 0; t < steps; t++) {
        if (isnan(a->tok[t]))
            return NAN;
        if (a->tok[t] > worst)
            worst = a->tok[t];
    }
    return worst;
}

tk_status tk_ig_adaptive_integrate(tk_ig_adaptive *a, tk_ig_integrand f, void *ctx,
                                   const float *dx, int steps, double delta_f, double *gsum,
                                   tk_ig_adaptive_result *res, tk_error *err)
{
    if (steps > a->max_steps)
        return tk_error_set(err, TK_E_INTERNAL, "ig adaptive: %d steps exceed the scratch (%d)",
                            steps, a->max_steps);
    double scale = fabs(delta_f);
    if (!(scale >= TK_IG_ADAPTIVE_SCALE_FLOOR))
        scale = TK_IG_ADAPTIVE_SCALE_FLOOR;
    double target = a->tolerance * scale;
    int n = 0, evals = 0;
    tk_status st = eval_interval(a, f, ctx, dx, steps, n++, 0.0, 1.0, err);
    evals += a->evals;
    double est = st == TK_OK ? review_estimate(a, n, steps) : 0.0;
    while (st == TK_OK && !(est <= target) && !isnan(est) && evals + 2 * a->evals <= a->budget &&
           n < a->max_intervals) {
        /* the interval with the largest error; ties to the lower end */
        int w = 0;
        for (int j = 1; j < n; j++)
            if (a->err[j] > a->err[w] || (a->err[j] == a->err[w] && a->lo[j] < a->lo[w]))
                w = j;
        double lo = a->lo[w], hi = a->hi[w], mid = 0.5 * (lo + hi);
        if (!(mid > lo && mid < hi))
            break; /* halved down to double resolution: nothing left to gain */
        st = eval_interval(a, f, ctx, dx, steps, w, lo, mid, err);
        if (st == TK_OK)
            st = eval_interval(a, f, ctx, dx, steps, n++, mid, hi, err);
        evals += 2 * a->evals;
        if (st == TK_OK)
            est = review_estimate(a, n, steps);
    }
    if (st != TK_OK)
        return st;
    /* the sum in the order of alpha, so it depends only on the partition */
    for (int j = 0; j < n; j++)
        a->order[j] = j;
    for (int i = 1; i < n; i++) { /* insertion sort: n is small and this is stable */
        int v = a->order[i], k = i - 1;
        while (k >= 0 && a->lo[a->order[k]] > a->lo[v]) {
            a->order[k + 1] = a->order[k];
            k--;
        }
        a->order[k + 1] = v;
    }
    size_t row = (size_t)steps * (size_t)a->dim;
    for (size_t i = 0; i < row; i++)
        gsum[i] = 0.0;
    for (int q = 0; q < n; q++) {
        const double *kj = a->k + (size_t)a->order[q] * (size_t)a->max_steps * (size_t)a->dim;
        for (size_t i = 0; i < row; i++)
            gsum[i] += kj[i];
    }
    res->evaluations = evals;
    res->intervals = n;
    res->abs_estimate = est;
    res->error_estimate = est / scale;
    return TK_OK;
}
