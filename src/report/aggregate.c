#include "report/aggregate.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* qsort has no context argument: sort (value, index) pairs instead. */
typedef struct vi {
    double v;
    int i;
} vi;

static int cmp_vi(const void *pa, const void *pb)
{
    const vi *a = pa, *b = pb;
    bool na = isnan(a->v), nb = isnan(b->v); /* NaN last, so the order stays total */
    if (na != nb)
        return na ? 1 : -1;
    if (!na && a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return a->i - b->i;
}

/* Average ranks (1-based) of x (n) into rank (n); pairs is scratch (n). */
static void ranks(const float *x, int n, vi *pairs, double *rank)
{
    for (int i = 0; i < n; i++)
        pairs[i] = (vi){x[i], i};
    qsort(pairs, (size_t)n, sizeof *pairs, cmp_vi);
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && (pairs[j + 1].v == pairs[i].v || (isnan(pairs[j + 1].v) && isnan(pairs[i].v))))
            j++;
        double avg = 0.5 * (i + j) + 1.0;
        for (int k = i; k <= j; k++)
            rank[pairs[k].i] = avg;
        i = j + 1;
    }
}

double tk_report_spearman(const float *a, const float *b, int n, double *scratch)
{
    if (n < 2)
        return NAN;
    double *ra = scratch, *rb = scratch + n;
    vi *pairs = (vi *)(scratch + 2 * n); /* needs n * sizeof(vi) = 2n doubles */
    ranks(a, n, pairs, ra);
    ranks(b, n, pairs, rb);
    double mean = 0.5 * (n + 1); /* average ranks always sum to n(n+1)/2 */
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        double da = ra[i] - mean, db = rb[i] - mean;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (saa <= 0 || sbb <= 0)
        return NAN;
    return sab / sqrt(saa * sbb);
}

tk_status tk_report_agreement(const tk_results *r, int ma, int mb, double *rho, tk_error *err)
{
    int64_t longest = 0;
    for (int64_t i = 0; i < r->n; i++)
        if (r->token_offset[i + 1] - r->token_offset[i] > longest)
            longest = r->token_offset[i + 1] - r->token_offset[i];
    if (longest > INT32_MAX / 8)
        return tk_error_set(err, TK_E_UNSUPPORTED, "%s: a review has too many tokens", r->path);
    double *scratch = tk_malloc(4 * (size_t)(longest ? longest : 1), sizeof *scratch, err);
    if (scratch == NULL)
        return TK_E_NOMEM;
    const float *a = r->methods[ma].score, *b = r->methods[mb].score;
    for (int64_t i = 0; i < r->n; i++) {
        int64_t o = r->token_offset[i];
        int len = (int)(r->token_offset[i + 1] - o);
        rho[i] = r->done[i] ? tk_report_spearman(a + o, b + o, len, scratch) : NAN;
    }
    free(scratch);
    return TK_OK;
}

tk_status tk_report_agreement_all(const tk_results *r, double *rho, tk_error *err)
{
    int M = r->n_methods;
    int64_t longest = 0;
    for (int64_t i = 0; i < r->n; i++)
        if (r->token_offset[i + 1] - r->token_offset[i] > longest)
            longest = r->token_offset[i + 1] - r->token_offset[i];
    if (longest > INT32_MAX / 8)
        return tk_error_set(err, TK_E_UNSUPPORTED, "%s: a review has too many tokens", r->path);
    size_t L = (size_t)(longest ? longest : 1);
    double *rk = tk_malloc((size_t)(M ? M : 1) * L, sizeof *rk, err); /* (M, L) centred ranks */
    double *ss = tk_malloc((size_t)(M ? M : 1), sizeof *ss, err);      /* (M) sum of squares */
    vi *pairs = tk_malloc(L, sizeof *pairs, err);                       /* (L) */
    if (rk == NULL || ss == NULL || pairs == NULL) {
        free(rk);
        free(ss);
        free(pairs);
        return TK_E_NOMEM;
    }
    int64_t n_pairs = (int64_t)M * (M - 1) / 2;
    for (int64_t i = 0; i < r->n; i++) {
        int64_t o = r->token_offset[i];
        int len = (int)(r->token_offset[i + 1] - o);
        if (!r->done[i] || len < 2) {
            for (int64_t p = 0; p < n_pairs; p++)
                rho[p * r->n + i] = NAN;
            continue;
        }
        double mean = 0.5 * (len + 1); /* average ranks always sum to n(n+1)/2 */
        for (int m = 0; m < M; m++) {
            double *x = rk + (size_t)m * L;
            ranks(r->methods[m].score + o, len, pairs, x);
            ss[m] = 0;
            for (int t = 0; t < len; t++) {
                x[t] -= mean;
                ss[m] += x[t] * x[t];
            }
        }
        int64_t p = 0;
        for (int a = 0; a < M; a++)
            for (int b = a + 1; b < M; b++, p++) {
                const double *xa = rk + (size_t)a * L, *xb = rk + (size_t)b * L;
                double sab = 0;
                for (int t = 0; t < len; t++)
                    sab += xa[t] * xb[t];
                rho[p * r->n + i] = ss[a] > 0 && ss[b] > 0 ? sab / sqrt(ss[a] * ss[b]) : NAN;
            }
    }
    free(rk);
    free(ss);
    free(pairs);
    return TK_OK;
}

/* Sorting indices by confidence: (confidence, index) pairs, descending. */
static int cmp_conf(const void *pa, const void *pb)
{
    const vi *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return a->i - b->i;
}

int64_t tk_report_confident(const tk_results *r, bool want_correct, int64_t max, int64_t *idx,
                            tk_error *err)
{
    vi *p = tk_malloc(r->n ? (size_t)r->n : 1, sizeof *p, err);
    if (p == NULL)
        return -1;
    int64_t k = 0;
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->done[i] || r->label[i] < 0)
            continue;
        bool correct = tk_results_predicted(r, i) == r->label[i];
        double c = tk_results_confidence(r, i);
        if (correct == want_correct && isfinite(c))
            p[k++] = (vi){c, (int)i};
    }
    qsort(p, (size_t)k, sizeof *p, cmp_conf);
    int64_t m = k < max ? k : max;
    for (int64_t j = 0; j < m; j++)
        idx[j] = p[j].i;
    free(p);
    return m;
}


int64_t tk_report_random_sample(const tk_results *r, uint64_t seed, int64_t max, int64_t *idx)
{
    int64_t n_done = 0;
    for (int64_t i = 0; i < r->n; i++)
        n_done += r->done[i] != 0;
    int64_t want = max < n_done ? max : n_done, k = 0;
    uint64_t s = seed;
    /* Rejection of repeats is cheap: the sample is a handful of reviews. */
    while (k < want) {
        int64_t i = (int64_t)(tk_rng_u64(&s) % (uint64_t)r->n);
        if (!r->done[i])
            continue;
        bool seen = false;
        for (int64_t j = 0; j < k; j++)
            seen = seen || idx[j] == i;
        if (!seen)
            idx[k++] = i;
    }
    return k;
}

double tk_report_accuracy(const tk_results *r, int64_t *n_scored)
{
    int64_t n = 0, right = 0;
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->done[i] || r->label[i] < 0)
            continue;
        n++;
        right += tk_results_predicted(r, i) == r->label[i];
    }
    *n_scored = n;
    return n ? (double)right / (double)n : NAN;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

double tk_report_quantile(double *v, int64_t n, double q)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    int64_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (pos - (double)lo) * (v[hi] - v[lo]);
}

/* AOPC of one curve (k1): (1/(K+1)) sum_k (F(x) - F(x without top k)),
 * curve[0] being F(x) (Samek et al. 2017). */
static double curve_aopc(const float *c, int k1)
{
    double s = 0;
    for (int k = 0; k < k1; k++)
        s += (double)c[0] - c[k];
    return s / k1;
}

static double mean_of(const float *v, const uint8_t *done, int64_t n)
{
    double s = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (done[i] && isfinite(v[i])) {
            s += v[i];
            k++;
        }
    return k ? s / (double)k : NAN;
}

tk_status tk_report_faith_summary(const tk_results *r, int m, tk_faith_summary *s, tk_error *err)
{
    memset(s, 0, sizeof *s);
    const tk_results_faith *f = r->methods[m].faith;
    if (f == NULL)
        return TK_OK;
    int k1 = f->k1;
    s->k1 = k1;
    s->curve = tk_calloc((size_t)k1, sizeof *s->curve, err);
    if (s->curve == NULL)
        return TK_E_NOMEM;
    if (f->random_curve != NULL) {
        s->random_curve = tk_calloc((size_t)k1, sizeof *s->random_curve, err);
        if (s->random_curve == NULL) {
            tk_report_faith_summary_free(s);
            return TK_E_NOMEM;
        }
    }
    double aopc = 0, raopc = 0;
    int64_t n = 0, nr = 0;
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->done[i])
            continue;
        const float *c = f->curve + i * k1; /* (k1) */
        bool ok = true;
        for (int k = 0; k < k1; k++)
            ok = ok && isfinite(c[k]);
        if (ok) {
            for (int k = 0; k < k1; k++)
                s->curve[k] += c[k];
            aopc += curve_aopc(c, k1);
            n++;
        }
        if (f->random_curve != NULL) {
            const float *rc = f->random_curve + i * k1; /* (k1) */
            ok = true;
            for (int k = 0; k < k1; k++)
                ok = ok && isfinite(rc[k]);
            if (ok) {
                for (int k = 0; k < k1; k++)
                    s->random_curve[k] += rc[k];
                raopc += curve_aopc(rc, k1);
                nr++;
            }
        }
    }
    for (int k = 0; k < k1; k++) {
        s->curve[k] = n ? s->curve[k] / (double)n : NAN;
        if (s->random_curve != NULL)
            s->random_curve[k] = nr ? s->random_curve[k] / (double)nr : NAN;
    }
    s->n = n;
    s->aopc = f->aopc != NULL ? mean_of(f->aopc, r->done, r->n) : n ? aopc / (double)n : NAN;
    s->random_aopc = nr ? raopc / (double)nr : NAN;
    s->comprehensiveness = f->comprehensiveness ? mean_of(f->comprehensiveness, r->done, r->n) : NAN;
    s->sufficiency = f->sufficiency ? mean_of(f->sufficiency, r->done, r->n) : NAN;
    return TK_OK;
}

void tk_report_faith_summary_free(tk_faith_summary *s)
{
    free(s->curve);
    free(s->random_curve);
    s->curve = s->random_curve = NULL;
}
