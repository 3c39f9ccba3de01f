/* IG along the CNN path with its kinks found exactly (ig_cnn_kinks.h). */
/* The sign tests over the hidden units only vectorise when comparisons may
 * be if-converted (see ig_lstm.c); nothing here relies on FP exceptions. */
#pragma GCC optimize("no-trapping-math")

#include "attr/ig_cnn_kinks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/ig_cnn_pool.h"
#include "attr/target.h"
#include "core/isa.h"

enum { MAX_OUTPUTS = 64 };

/* A change of one filter's pooled value at alpha a: its new winning
 * position w and whether the pooled value is then above 0. */
typedef struct kink_event {
    double a;
    int q, w, act;
} kink_event;

/* Hidden unit j's state becomes `on` at alpha a (a zero crossing). */
typedef struct kink_flip {
    double a;
    int j, on;
} kink_flip;

/* The filters' shares by summation by parts. With s(alpha) the running
 * integral of dF/dlogits and C changing only at the hidden units' flips,
 * the integral of C_q . ds over [a, b] is V_q(b) - V_q(a), where
 * V_q = C_q . s - R_q and R_q = sum over flips so far of dC_q . s(flip):
 * a flip costs one pass over the filters (dC_q is W1[q, j] W2[j, .]),
 * never a flush of each. base_q is V_q where q's current winner began. */
struct tk_cnn_kinks {
    const tk_model *model;
    bool conv_relu, hidden_relu;
    int f, h, k;          /* filters, hidden units (0: one Dense layer), outputs */
    const float *w1, *b1; /* (f, h), (h) the hidden layer, or (f, k), (k) the only one */
    const float *w2, *b2; /* (h, k), (k) the output layer after a hidden one */
    float *w1t;           /* (h, f) w1 transposed: a unit's row over the filters */
    int max_out;
    kink_event *ev;       /* (f * (2 max_out + 2)) */
    kink_flip *fl;        /* (2 h) */
    int *win;             /* (f) the winning position of each filter */
    unsigned char *act;   /* (f) its pooled value is above 0 */
    /* 64-bit flags, the width of the doubles they are tested with, so that
     * the pass over the units per interval vectorises */
    int64_t *on;          /* (h) hidden unit active */
    int64_t *turns;       /* (h) the unit changes within the interval in hand */
    float *zr, *dr;       /* (max_out) one filter's z0 and dz at its candidates */
    int *pos;             /* (max_out) their positions */
    double *c;            /* (k, f) dlogits / dpooled through the active units */
    double *ha, *hb;      /* (h) the hidden pre-activation ha + alpha hb */
    double *r, *r_lo;     /* (f) R_q, for the integrals of both orders */
    double *base, *base_lo; /* (f) V_q where the filter's winner began */
};

void tk_cnn_kinks_destroy(tk_cnn_kinks *k)
{
    if (k == NULL)
        return;
    free(k->w1t);
    free(k->ev);
    free(k->fl);
    free(k->win);
    free(k->act);
    free(k->on);
    free(k->turns);
    free(k->zr);
    free(k->dr);
    free(k->pos);
    free(k->c);
    free(k->ha);
    free(k->hb);
    free(k->r);
    free(k->r_lo);
    free(k->base);
    free(k->base_lo);
    free(k);
}

tk_status tk_cnn_kinks_create(const tk_model *model, bool conv_relu, int f,
                              const tk_layer *const *dense, int n_dense, int max_out,
                              tk_cnn_kinks **out, tk_error *err)
{
    *out = NULL;
    if (n_dense < 1 || n_dense > 2 || model->n_outputs > MAX_OUTPUTS)
        return TK_OK;
    if (n_dense == 2 && dense[0]->activation != TK_ACT_RELU &&
        dense[0]->activation != TK_ACT_LINEAR)
        return TK_OK;
    tk_cnn_kinks *k = tk_calloc(1, sizeof *k, err);
    if (k == NULL)
        return TK_E_NOMEM;
    k->model = model;
    k->conv_relu = conv_relu;
    k->f = f;
    k->k = model->n_outputs;
    k->h = n_dense == 2 ? dense[0]->units : 0;
    k->hidden_relu = n_dense == 2 && dense[0]->activation == TK_ACT_RELU;
    k->w1 = dense[0]->kernel;
    k->b1 = dense[0]->use_bias ? dense[0]->bias : NULL;
    k->w2 = n_dense == 2 ? dense[1]->kernel : NULL;
    k->b2 = n_dense == 2 && dense[1]->use_bias ? dense[1]->bias : NULL;
    k->max_out = max_out;
    size_t nf = (size_t)f, nh = (size_t)(k->h > 0 ? k->h : 1), nk = (size_t)k->k;
    k->w1t = tk_malloc(nh * nf, sizeof *k->w1t, err);
    k->ev = tk_malloc(nf * (2 * (size_t)max_out + 2), sizeof *k->ev, err);
    k->fl = tk_malloc(2 * nh, sizeof *k->fl, err);
    k->win = tk_malloc(nf, sizeof *k->win, err);
    k->act = tk_malloc(nf, 1, err);
    k->on = tk_malloc(nh, sizeof *k->on, err);
    k->turns = tk_malloc(nh, sizeof *k->turns, err);
    k->zr = tk_malloc((size_t)max_out, sizeof *k->zr, err);
    k->dr = tk_malloc((size_t)max_out, sizeof *k->dr, err);
    k->pos = tk_malloc((size_t)max_out, sizeof *k->pos, err);
    k->c = tk_malloc(nf * nk, sizeof *k->c, err);
    k->ha = tk_malloc(nh, sizeof *k->ha, err);
    k->hb = tk_malloc(nh, sizeof *k->hb, err);
    k->r = tk_malloc(nf, sizeof *k->r, err);
    k->r_lo = tk_malloc(nf, sizeof *k->r_lo, err);
    k->base = tk_malloc(nf, sizeof *k->base, err);
    k->base_lo = tk_malloc(nf, sizeof *k->base_lo, err);
    if (!k->w1t || !k->ev || !k->fl || !k->win || !k->act || !k->on || !k->turns || !k->zr ||
        !k->dr || !k->pos || !k->c || !k->ha || !k->hb ||
        !k->r || !k->r_lo || !k->base || !k->base_lo) {
        tk_cnn_kinks_destroy(k);
        return TK_E_NOMEM;
    }
    for (int j = 0; j < k->h; j++)
        for (int q = 0; q < f; q++)
            k->w1t[(size_t)j * f + q] = k->w1[(size_t)q * k->h + j];
    *out = k;
    return TK_OK;
}

/* Whether a + alpha b is above 0 just after alpha. */
TK_ALWAYS_INLINE static inline bool above_after(double a, double b, double alpha)
{
    double v = a + alpha * b;
    return v > 0.0 || (v == 0.0 && b > 0.0);
}

/* Filter q's pooled value along [0, 1], from its candidate lines zr, dr
 * (out of them, at positions pos, increasing): its winner at 0 into
 * win/act and its changes into ev from *n on. The winner just after alpha
 * is the line highest there, then steepest, then first. */
TK_ALWAYS_INLINE static inline void filter_events(tk_cnn_kinks *k, const float *zr,
                                                  const float *dr, const int *pos, int out, int q,
                                                  int *n)
{
    int w = 0;
    for (int t = 1; t < out; t++) {
        double v = zr[t], s = dr[t];
        double bv = zr[w], bs = dr[w];
        if (v > bv || (v == bv && s > bs))
            w = t;
    }
    double a = 0.0;
    k->win[q] = pos[w];
    k->act[q] = !k->conv_relu || above_after(zr[w], dr[w], 0.0);
    int act = k->act[q];
    for (;;) {
        double wv = zr[w], ws = dr[w];
        /* the next line to overtake w: the first crossing after a, at
         * x = num / den (den > 0), compared by cross-multiplying: one
         * division per winner, not per line */
        double bn = 1.0, bd = 1.0; /* the best crossing so far, 1: none before the end */
        int by = -1;
        for (int t = 0; t < out; t++) {
            double s = dr[t];
            if (!(s > ws))
                continue;
            double num = wv - zr[t], den = s - ws;
            if (num < a * den)
                num = a * den; /* rounding: it is already level */
            double l = num * bd, r = bn * den;
            if (l < r || (l == r && by >= 0 && s > dr[by])) {
                bn = num;
                bd = den;
                by = t;
            }
        }
        double next = by >= 0 ? bn / bd : 1.0;
        if (next < a)
            next = a;
        /* a relu crossing of w's line inside (a, next) */
        if (k->conv_relu && ws != 0.0) {
            double r = -wv / ws;
            if (r > a && r < next && (ws > 0.0) != act) {
                act = ws > 0.0;
                k->ev[(*n)++] = (kink_event){r, q, pos[w], act};
            }
        }
        if (by < 0 || next >= 1.0)
            return;
        w = by;
        a = next;
        act = !k->conv_relu || above_after(zr[w], dr[w], a);
        k->ev[(*n)++] = (kink_event){a, q, pos[w], act};
    }
}

static int event_order(const void *pa, const void *pb)
{
    const kink_event *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return (a->q > b->q) - (a->q < b->q);
}

static int flip_order(const void *pa, const void *pb)
{
    const kink_flip *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return (a->j > b->j) - (a->j < b->j);
}

/* g (k) = dF/dlogits at Z + alpha V. */
static void grad_at(const tk_cnn_kinks *k, tk_output_kind output, int target, const double *z,
                    const double *v, double alpha, double *g)
{
    float lg[MAX_OUTPUTS], dl[MAX_OUTPUTS];
    for (int c = 0; c < k->k; c++)
        lg[c] = (float)(z[c] + alpha * v[c]);
    tk_explained_scalar(k->model, output, target, lg, dl);
    for (int c = 0; c < k->k; c++)
        g[c] = dl[c];
}

/* The piece [a, b], dF/dlogits ga and gb at its ends: Simpson's rule on
 * each half (s_lo) and its Richardson extrapolation with Simpson's on the
 * whole, Boole's rule (s), halved while the two differ by more than
 * PIECE_TOL per unit of alpha (an output's softmax that turns within the
 * piece; for the logit output all are exact) up to MAX_HALVINGS deep:
 * s - s_lo stays a bound of the error left (that of the halves' Simpson,
 * conservative for Boole's). The ends are shared with the neighbours:
 * four evaluations a piece. dF/dlogits comes in float, so the test allows
 * ROUNDING_TOL of its size on top: a smaller allowance would halve
 * against float rounding, not against the function. */
enum { MAX_HALVINGS = 12 };
#define PIECE_TOL 1e-8
#define ROUNDING_TOL 2e-7
static void piece_integrals(const tk_cnn_kinks *k, tk_output_kind output, int target,
                            const double *z, const double *v, double a, double b, const double *ga,
                            const double *gb, int depth, double *s, double *s_lo)
{
    double g1[MAX_OUTPUTS], gm[MAX_OUTPUTS], g3[MAX_OUTPUTS], w[MAX_OUTPUTS], wl[MAX_OUTPUTS];
    double mid = 0.5 * (a + b), h = b - a, gap = 0.0, size = 0.0;
    grad_at(k, output, target, z, v, a + 0.25 * h, g1);
    grad_at(k, output, target, z, v, mid, gm);
    grad_at(k, output, target, z, v, a + 0.75 * h, g3);
    for (int c = 0; c < k->k; c++) {
        double whole = h / 6.0 * (ga[c] + 4.0 * gm[c] + gb[c]);
        double halves = h / 12.0 * (ga[c] + 4.0 * g1[c] + 2.0 * gm[c] + 4.0 * g3[c] + gb[c]);
        wl[c] = halves;
        w[c] = halves + (halves - whole) / 15.0;
        gap = fmax(gap, fabs(w[c] - wl[c]));
        size = fmax(size, fabs(gm[c]));
    }
    if (gap > (PIECE_TOL + ROUNDING_TOL * size) * h && depth < MAX_HALVINGS && mid > a && mid < b) {
        piece_integrals(k, output, target, z, v, a, mid, ga, gm, depth + 1, s, s_lo);
        piece_integrals(k, output, target, z, v, mid, b, gm, gb, depth + 1, s, s_lo);
        return;
    }
    for (int c = 0; c < k->k; c++) {
        s[c] += w[c];
        s_lo[c] += wl[c];
    }
}

/* V_q = C_q . s - R_q (the struct's comment). */
TK_ALWAYS_INLINE static inline double filter_value(const tk_cnn_kinks *k, int q, const double *s,
                                                   const double *r)
{
    double v = -r[q];
    for (int c = 0; c < k->k; c++)
        v += k->c[(size_t)c * k->f + q] * s[c];
    return v;
}

/* Filter q's share since its winner began goes to that winner's entry; its
 * next share starts here. */
TK_ALWAYS_INLINE static inline void settle_filter(tk_cnn_kinks *k, int q, const double *s,
                                                  const double *s_lo, double *gz,
                                                  double *gz_lo, unsigned char *mark)
{
    double v = filter_value(k, q, s, k->r), vl = filter_value(k, q, s_lo, k->r_lo);
    if (k->act[q] && (v != k->base[q] || vl != k->base_lo[q])) {
        size_t at = (size_t)k->win[q] * k->f + q;
        gz[at] += v - k->base[q];
        gz_lo[at] += vl - k->base_lo[q];
        mark[at] = 1;
    }
    k->base[q] = v;
    k->base_lo[q] = vl;
}

/* Hidden unit j turns on or off at the running integrals s, s_lo: the
 * logits gain or lose its line, C and R their rank-one terms. */
TK_ALWAYS_INLINE static inline void toggle_unit(tk_cnn_kinks *k, int j, const double *s,
                                                const double *s_lo, double *zl, double *vl)
{
    int f = k->f, nk = k->k;
    const float *w2 = k->w2 + (size_t)j * nk, *w1 = k->w1t + (size_t)j * f;
    double sg = k->on[j] ? -1.0 : 1.0, sig = 0.0, sig_lo = 0.0;
    k->on[j] = !k->on[j];
    for (int c = 0; c < nk; c++) {
        zl[c] += sg * w2[c] * k->ha[j];
        vl[c] += sg * w2[c] * k->hb[j];
        sig += w2[c] * s[c];
        sig_lo += w2[c] * s_lo[c];
    }
    for (int q = 0; q < f; q++) {
        k->r[q] += sg * w1[q] * sig;
        k->r_lo[q] += sg * w1[q] * sig_lo;
    }
    for (int c = 0; c < nk; c++) {
        double *cc = k->c + (size_t)c * f, sw = sg * w2[c];
        for (int q = 0; q < f; q++)
            cc[q] += sw * w1[q];
    }
}

/* Compiled once per ISA level (core/isa.h): the passes over the filters and
 * the hidden units are most of its time. */
TK_ISA_CLONES tk_status tk_cnn_kinks_integrate(tk_cnn_kinks *k, const tk_cnn_pool *pool,
                                               tk_output_kind output, int target, const float *z0,
                                               const float *dz, int out, double *gz, double *gz_lo,
                                               unsigned char *mark, int *pieces, tk_error *err)
{
    int f = k->f, h = k->h, nk = k->k;
    if (out > k->max_out)
        return tk_error_set(err, TK_E_INTERNAL, "ig_cnn_kinks: %d positions exceed %d", out,
                            k->max_out);
    for (size_t i = 0; i < (size_t)out * f; i++)
        if (!isfinite(z0[i]) || !isfinite(dz[i]))
            return tk_error_set(err, TK_E_INVALID,
                                "ig_cnn_kinks: a convolution output is not finite");
    /* the filters' events, in alpha order: each envelope over the filter's
     * candidates (about 5 of 98 positions on the IMDB CNN), or over every
     * position */
    int ne = 0;
    for (int q = 0; q < f; q++) {
        int nc = pool != NULL ? tk_cnn_pool_candidates(pool, q, k->zr, k->dr, k->pos) : -1;
        if (nc < 0) {
            nc = out;
            for (int t = 0; t < out; t++) {
                k->zr[t] = z0[(size_t)t * f + q];
                k->dr[t] = dz[(size_t)t * f + q];
                k->pos[t] = t;
            }
        }
        filter_events(k, k->zr, k->dr, k->pos, nc, q, &ne);
    }
    qsort(k->ev, (size_t)ne, sizeof *k->ev, event_order);

    /* the state at alpha = 0: pooled value p_q = act_q (z0 + alpha dz)[win_q] */
    double zl[MAX_OUTPUTS], vl[MAX_OUTPUTS], s[MAX_OUTPUTS] = {0}, s_lo[MAX_OUTPUTS] = {0};
    const float *wo = h > 0 ? k->w2 : k->w1, *bo = h > 0 ? k->b2 : k->b1;
    for (int i = 0; i < nk; i++) {
        zl[i] = bo ? bo[i] : 0.0;
        vl[i] = 0.0;
    }
    for (size_t i = 0; i < (size_t)nk * f; i++)
        k->c[i] = 0.0;
    if (h > 0) {
        for (int j = 0; j < h; j++) {
            k->ha[j] = k->b1 ? k->b1[j] : 0.0;
            k->hb[j] = 0.0;
        }
        for (int q = 0; q < f; q++) {
            if (!k->act[q])
                continue;
            size_t at = (size_t)k->win[q] * f + q;
            double p0 = z0[at], p1 = dz[at];
            const float *row = k->w1 + (size_t)q * h;
            for (int j = 0; j < h; j++) {
                k->ha[j] += row[j] * p0;
                k->hb[j] += row[j] * p1;
            }
        }
        for (int j = 0; j < h; j++) {
            k->on[j] = !k->hidden_relu || above_after(k->ha[j], k->hb[j], 0.0);
            if (!k->on[j])
                continue;
            const float *w2 = k->w2 + (size_t)j * nk, *w1 = k->w1t + (size_t)j * f;
            for (int c = 0; c < nk; c++) {
                zl[c] += w2[c] * k->ha[j];
                vl[c] += w2[c] * k->hb[j];
                double *cc = k->c + (size_t)c * f;
                for (int q = 0; q < f; q++)
                    cc[q] += (double)w2[c] * w1[q];
            }
        }
    } else {
        for (int q = 0; q < f; q++) {
            for (int c = 0; c < nk; c++)
                k->c[(size_t)c * f + q] = wo[(size_t)q * nk + c];
            if (!k->act[q])
                continue;
            size_t at = (size_t)k->win[q] * f + q;
            for (int c = 0; c < nk; c++) {
                zl[c] += wo[(size_t)q * nk + c] * (double)z0[at];
                vl[c] += wo[(size_t)q * nk + c] * (double)dz[at];
            }
        }
    }
    for (int q = 0; q < f; q++)
        k->r[q] = k->r_lo[q] = k->base[q] = k->base_lo[q] = 0.0;

    int n_pieces = 0;
    double cur = 0.0, g_cur[MAX_OUTPUTS], g_next[MAX_OUTPUTS];
    grad_at(k, output, target, zl, vl, 0.0, g_cur);
    for (int e = 0; e <= ne; e++) {
        double next = e < ne ? k->ev[e].a : 1.0;
        if (next > 1.0)
            next = 1.0;
        /* the hidden units' changes before next, in order: a unit whose
         * line the event just moved across 0 (an exact tie with it) turns
         * at cur; one that crosses 0 inside the interval, at its root,
         * to the side its slope takes it */
        int nf = 0;
        int64_t any = 0;
        for (int j = 0; k->hidden_relu && j < h; j++) {
            /* above_after at cur and at next, branch-free: one pass over the
             * units that vectorises, the rare ones that turn picked after */
            double vc = k->ha[j] + cur * k->hb[j], vn = k->ha[j] + next * k->hb[j];
            int64_t up = k->hb[j] > 0.0;
            int64_t sc = (vc > 0.0) | ((vc == 0.0) & up), sn = (vn > 0.0) | ((vn == 0.0) & up);
            int64_t t = (sc != k->on[j]) | (sn != sc);
            k->turns[j] = t;
            any |= t;
        }
        for (int j = 0; any && j < h; j++) {
            if (!k->turns[j])
                continue;
            bool at_cur = above_after(k->ha[j], k->hb[j], cur);
            bool at_next = above_after(k->ha[j], k->hb[j], next);
            if (at_cur == (bool)k->on[j] && at_next == at_cur)
                continue;
            if (at_cur != (bool)k->on[j])
                k->fl[nf++] = (kink_flip){cur, j, at_cur};
            if (at_next != at_cur) {
                double r = -k->ha[j] / k->hb[j]; /* hb != 0: the sign changed */
                k->fl[nf++] = (kink_flip){r < cur ? cur : r > next ? next : r, j, at_next};
            }
        }
        if (nf > 1)
            qsort(k->fl, (size_t)nf, sizeof *k->fl, flip_order);
        for (int i = 0; i <= nf; i++) {
            double b = i < nf ? k->fl[i].a : next;
            if (b > cur) {
                /* Simpson and the trapezoid: the pieces are short (about
                 * 250 on the IMDB CNN), and both are exact for the logit */
                grad_at(k, output, target, zl, vl, b, g_next);
                piece_integrals(k, output, target, zl, vl, cur, b, g_cur, g_next, 0, s, s_lo);
                memcpy(g_cur, g_next, (size_t)nk * sizeof *g_cur);
                n_pieces++;
                cur = b;
            }
            if (i < nf && k->fl[i].on != k->on[k->fl[i].j])
                toggle_unit(k, k->fl[i].j, s, s_lo, zl, vl);
        }
        if (e == ne || k->ev[e].a >= 1.0)
            break;
        /* filter q's winner or activity changes at cur */
        const kink_event *ev = &k->ev[e];
        int q = ev->q;
        settle_filter(k, q, s, s_lo, gz, gz_lo, mark);
        size_t was = (size_t)k->win[q] * f + q, now = (size_t)ev->w * f + q;
        double d0 = (ev->act ? z0[now] : 0.0) - (k->act[q] ? z0[was] : 0.0);
        double d1 = (ev->act ? dz[now] : 0.0) - (k->act[q] ? dz[was] : 0.0);
        for (int c = 0; c < nk; c++) {
            zl[c] += k->c[(size_t)c * f + q] * d0;
            vl[c] += k->c[(size_t)c * f + q] * d1;
        }
        const float *row = h > 0 ? k->w1 + (size_t)q * h : NULL;
        for (int j = 0; j < h; j++) {
            k->ha[j] += row[j] * d0;
            k->hb[j] += row[j] * d1;
        }
        k->win[q] = ev->w;
        k->act[q] = (unsigned char)ev->act;
    }
    for (int q = 0; q < f; q++)
        settle_filter(k, q, s, s_lo, gz, gz_lo, mark);
    *pieces = n_pieces;
    return TK_OK;
}
