/* The max pooling over time along the IG path of the CNN fast path
 * (ig_cnn_pool.h): the full scan, and the scan over the positions that
 * can win. */
/* The pooling loops only vectorise when comparisons may be if-converted
 * (see ig_lstm.c); nothing here relies on FP exceptions. */
#pragma GCC optimize("no-trapping-math")

#include "attr/ig_cnn_pool.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

enum { LANES = 16 }; /* filters per candidate block: one AVX-512 vector */

struct tk_cnn_pool {
    int f, max_steps;
    /* The candidates in blocks of 16 filters: entry (b, j, lane) is filter
     * 16 b + lane's j-th candidate, a block's lists padded to its longest
     * by repeating their last entry. */
    float *cz0, *cdz;    /* (n_blocks, max_steps, 16) z0 and dz at the candidates */
    int *ct;             /* (n_blocks, max_steps, 16) their positions t */
    int *n_cand;         /* (n_blocks) entries per block */
    double *acc;         /* (n_blocks, max_steps, 16) the gradient summed per candidate */
    int *cnt;            /* (f) candidates per filter */
    float *rec;          /* (f) scratch: running maximum of dz */
    unsigned char *flat; /* (f) z0 the same at every position, filter by filter */
    bool z0_finite;      /* z0 has no inf or NaN */
    bool cand_ok;        /* the candidates may be used (all values finite) */
};

tk_status tk_cnn_pool_create(int f, int max_steps, tk_cnn_pool **out, tk_error *err)
{
    *out = NULL;
    tk_cnn_pool *c = tk_calloc(1, sizeof *c, err);
    if (c == NULL)
        return TK_E_NOMEM;
    c->f = f;
    c->max_steps = max_steps;
    size_t n_blocks = ((size_t)f + LANES - 1) / LANES;
    size_t cand = n_blocks * (size_t)max_steps * LANES;
    c->cz0 = tk_malloc(cand, sizeof *c->cz0, err);
    c->cdz = tk_malloc(cand, sizeof *c->cdz, err);
    c->ct = tk_malloc(cand, sizeof *c->ct, err);
    c->n_cand = tk_malloc(n_blocks, sizeof *c->n_cand, err);
    c->acc = tk_malloc(cand, sizeof *c->acc, err);
    c->cnt = tk_malloc((size_t)f, sizeof *c->cnt, err);
    c->rec = tk_malloc((size_t)f, sizeof *c->rec, err);
    c->flat = tk_malloc((size_t)f, sizeof *c->flat, err);
    if (!c->cz0 || !c->cdz || !c->ct || !c->n_cand || !c->acc || !c->cnt || !c->rec || !c->flat) {
        tk_cnn_pool_destroy(c);
        return TK_E_NOMEM;
    }
    *out = c;
    return TK_OK;
}

void tk_cnn_pool_destroy(tk_cnn_pool *c)
{
    if (c == NULL)
        return;
    free(c->cz0);
    free(c->cdz);
    free(c->ct);
    free(c->n_cand);
    free(c->acc);
    free(c->cnt);
    free(c->rec);
    free(c->flat);
    free(c);
}

enum { POOL_BLOCK = 32 }; /* filters per block: z0, dz columns stay in L1 */

/* One block of nq filters starting at q0 (see pool_points). Inlined with
 * constant nq and relu, so the full blocks keep best and at in registers. */
TK_ALWAYS_INLINE static inline void pool_block(const float *restrict z0, const float *restrict dz,
                                               int out, int f, int q0, int nq, int n,
                                               const double *alpha, bool relu,
                                               float *restrict pooled, int *restrict arg)
{
    for (int p = 0; p < n; p++) {
        float al = (float)alpha[p];
        float best[POOL_BLOCK];
        int at[POOL_BLOCK];
        for (int q = 0; q < nq; q++) {
            float u = z0[q0 + q] + al * dz[q0 + q];
            best[q] = relu && u < 0.0f ? 0.0f : u;
            at[q] = 0;
        }
        for (int t = 1; t < out; t++) {
            const float *a = z0 + (size_t)t * f + q0, *d = dz + (size_t)t * f + q0;
            for (int q = 0; q < nq; q++) {
                float u = a[q] + al * d[q];
                float h = relu && u < 0.0f ? 0.0f : u;
                bool win = h > best[q]; /* first maximum wins, like the plain path's pooling */
                best[q] = win ? h : best[q];
                at[q] = win ? t : at[q];
            }
        }
        memcpy(pooled + (size_t)p * f + q0, best, (size_t)nq * sizeof *best);
        memcpy(arg + (size_t)p * f + q0, at, (size_t)nq * sizeof *at);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same pooling with explicit vectors: GCC's own vectorisation of the
 * loop above turns the running maximum into branchy masked stores to the
 * stack (35% of IG-50's time). Same operations in the same order (u = z0 +
 * al dz as a multiply then an add, the relu as "u < 0 ? 0 : u", "h > best"
 * for the first maximum), so the bits equal the loop's. Lanes of 16
 * (AVX-512) or 8 (AVX2) filters keep best and the winning position in
 * registers along t; the filters left over take pool_block. */
__attribute__((target("avx512f"))) static void pool_avx512(const float *z0, const float *dz,
                                                          int out, int f, int n,
                                                          const double *alpha, bool relu,
                                                          float *pooled, int *arg)
{
    const __m512 zero = _mm512_setzero_ps();
    int q0 = 0;
    for (; q0 + 16 <= f; q0 += 16)
        for (int p = 0; p < n; p++) {
            __m512 al = _mm512_set1_ps((float)alpha[p]);
            __m512 best = _mm512_add_ps(_mm512_loadu_ps(z0 + q0),
                                        _mm512_mul_ps(al, _mm512_loadu_ps(dz + q0)));
            if (relu)
                best = _mm512_mask_mov_ps(best, _mm512_cmp_ps_mask(best, zero, _CMP_LT_OQ), zero);
            __m512i at = _mm512_setzero_si512();
            for (int t = 1; t < out; t++) {
                __m512 u = _mm512_add_ps(_mm512_loadu_ps(z0 + (size_t)t * f + q0),
                                         _mm512_mul_ps(al, _mm512_loadu_ps(dz + (size_t)t * f + q0)));
                if (relu)
                    u = _mm512_mask_mov_ps(u, _mm512_cmp_ps_mask(u, zero, _CMP_LT_OQ), zero);
                __mmask16 win = _mm512_cmp_ps_mask(u, best, _CMP_GT_OQ);
                best = _mm512_mask_mov_ps(best, win, u);
                at = _mm512_mask_mov_epi32(at, win, _mm512_set1_epi32(t));
            }
            _mm512_storeu_ps(pooled + (size_t)p * f + q0, best);
            _mm512_storeu_si512((void *)(arg + (size_t)p * f + q0), at);
        }
    if (q0 < f)
        pool_block(z0, dz, out, f, q0, f - q0, n, alpha, relu, pooled, arg);
}

__attribute__((target("avx2"))) static void pool_avx2(const float *z0, const float *dz, int out,
                                                     int f, int n, const double *alpha, bool relu,
                                                     float *pooled, int *arg)
{
    const __m256 zero = _mm256_setzero_ps();
    int q0 = 0;
    for (; q0 + 8 <= f; q0 += 8)
        for (int p = 0; p < n; p++) {
            __m256 al = _mm256_set1_ps((float)alpha[p]);
            __m256 best = _mm256_add_ps(_mm256_loadu_ps(z0 + q0),
                                        _mm256_mul_ps(al, _mm256_loadu_ps(dz + q0)));
            if (relu)
                best = _mm256_blendv_ps(best, zero, _mm256_cmp_ps(best, zero, _CMP_LT_OQ));
            __m256i at = _mm256_setzero_si256();
            for (int t = 1; t < out; t++) {
                __m256 u = _mm256_add_ps(_mm256_loadu_ps(z0 + (size_t)t * f + q0),
                                         _mm256_mul_ps(al, _mm256_loadu_ps(dz + (size_t)t * f + q0)));
                if (relu)
                    u = _mm256_blendv_ps(u, zero, _mm256_cmp_ps(u, zero, _CMP_LT_OQ));
                __m256 win = _mm256_cmp_ps(u, best, _CMP_GT_OQ);
                best = _mm256_blendv_ps(best, u, win);
                at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at),
                                                          _mm256_castsi256_ps(_mm256_set1_epi32(t)),
                                                          win));
            }
            _mm256_storeu_ps(pooled + (size_t)p * f + q0, best);
            _mm256_storeu_si256((__m256i *)(arg + (size_t)p * f + q0), at);
        }
    if (q0 < f)
        pool_block(z0, dz, out, f, q0, f - q0, n, alpha, relu, pooled, arg);
}
#endif

/* pooled (n, f), arg (n, f) = max over t (first maximum wins) of
 * act(z0_t + alpha_p dz_t), z0 and dz (out, f). Filters in blocks so that a
 * block's columns of z0 and dz stay in cache across the n points. */
static void pool_points(const float *restrict z0, const float *restrict dz, int out, int f, int n,
                        const double *alpha, bool relu, float *restrict pooled, int *restrict arg)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) {
        pool_avx512(z0, dz, out, f, n, alpha, relu, pooled, arg);
        return;
    }
    if (__builtin_cpu_supports("avx2")) {
        pool_avx2(z0, dz, out, f, n, alpha, relu, pooled, arg);
        return;
    }
#endif
    int q0 = 0;
    for (; q0 + POOL_BLOCK <= f; q0 += POOL_BLOCK)
        if (relu)
            pool_block(z0, dz, out, f, q0, POOL_BLOCK, n, alpha, true, pooled, arg);
        else
            pool_block(z0, dz, out, f, q0, POOL_BLOCK, n, alpha, false, pooled, arg);
    if (q0 < f)
        pool_block(z0, dz, out, f, q0, f - q0, n, alpha, relu, pooled, arg);
}


/* The positions that can win the max pooling of act(z0_t + alpha dz_t) for
 * some alpha >= 0, per filter. For alpha >= 0 the rounded u = fl(z0_t +
 * fl(alpha dz_t)) is monotone in both z0_t and dz_t, and so is the relu, so
 * a position t with an earlier s where z0_s >= z0_t and dz_s >= dz_t has
 * h_t <= h_s <= the running maximum and never wins the first-maximum scan
 * ("h > best"). Scanning only the others, in order, gives the same maximum
 * and position bit for bit. With the pad baseline z0 is the same at every
 * position ("valid" padding), and the candidates are the strict records of
 * dz_t: about ln(out) + 0.6 of them for out positions in random order
 * (5 of 98), instead of every position for every point. Lists past
 * CAND_CAP keep every later position (a superset is still exact),
 * which bounds the dominance checks. No candidates (cand_ok false) when a
 * value is not finite: NaN breaks the monotonicity argument. */
enum { CAND_CAP = 24 };

/* Filter q's candidate entry j in the block layout. */
static size_t cand_at(const tk_cnn_pool *c, int q, int j)
{
    return ((size_t)(q / LANES) * (size_t)c->max_steps + (size_t)j) * LANES +
           (size_t)(q % LANES);
}

static void cand_append(tk_cnn_pool *c, int q, int t, float a, float d)
{
    size_t e = cand_at(c, q, c->cnt[q]++);
    c->cz0[e] = a;
    c->cdz[e] = d;
    c->ct[e] = t;
}

/* Block b's lists from position 1 on, one filter at a time. */
static void cand_block_lists(tk_cnn_pool *c, const float *z0, const float *dz, int out, int b)
{
    int f = c->f, q1 = (b + 1) * LANES < f ? (b + 1) * LANES : f;
    for (int t = 1; t < out; t++)
        for (int q = b * LANES; q < q1; q++) {
            float a = z0[(size_t)t * f + q], d = dz[(size_t)t * f + q];
            bool keep;
            if (c->flat[q])
                keep = d > c->rec[q];
            else if (c->cnt[q] >= CAND_CAP)
                keep = true;
            else {
                keep = true;
                for (int j = 0; keep && j < c->cnt[q]; j++) {
                    size_t e = cand_at(c, q, j);
                    keep = !(c->cz0[e] >= a && c->cdz[e] >= d);
                }
            }
            if (d > c->rec[q])
                c->rec[q] = d;
            if (keep)
                cand_append(c, q, t, a, d);
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same for a block whose filters are all flat: the records of dz, one
 * vector comparison per position and an append per new record only. */
__attribute__((target("avx512f"))) static void cand_block_records(tk_cnn_pool *c, const float *z0,
                                                                 const float *dz, int out, int b)
{
    int f = c->f, q0 = b * LANES, nq = f - q0 < LANES ? f - q0 : LANES;
    __mmask16 live = (__mmask16)((1u << nq) - 1u);
    __m512 rec = _mm512_maskz_loadu_ps(live, dz + q0);
    for (int t = 1; t < out; t++) {
        const float *dt = dz + (size_t)t * f + q0;
        __m512 d = _mm512_maskz_loadu_ps(live, dt);
        __mmask16 up = _mm512_mask_cmp_ps_mask(live, d, rec, _CMP_GT_OQ);
        rec = _mm512_mask_mov_ps(rec, up, d);
        for (unsigned m = up; m != 0; m &= m - 1) {
            int q = q0 + __builtin_ctz(m);
            cand_append(c, q, t, z0[(size_t)t * f + q], dz[(size_t)t * f + q]);
        }
    }
}
#endif

/* What the candidates need to know of z0 (out, f), once per baseline:
 * whether it is finite, and which filters are flat. */
void tk_cnn_pool_set_baseline(tk_cnn_pool *c, const float *z0, int out)
{
    int f = c->f;
    int finite = 1; /* as an int and "&" so that the loop vectorises */
    for (size_t i = 0; i < (size_t)out * f; i++)
        finite &= fabsf(z0[i]) <= FLT_MAX;
    c->z0_finite = finite;
    for (int q = 0; q < f; q++)
        c->flat[q] = 1;
    for (int t = 1; t < out; t++)
        for (int q = 0; q < f; q++)
            c->flat[q] &= z0[(size_t)t * f + q] == z0[q];
}

int tk_cnn_pool_candidates(const tk_cnn_pool *c, int q, float *z0c, float *dzc, int *tc)
{
    if (!c->cand_ok)
        return -1;
    for (int j = 0; j < c->cnt[q]; j++) {
        size_t e = cand_at(c, q, j);
        z0c[j] = c->cz0[e];
        dzc[j] = c->cdz[e];
        tc[j] = c->ct[e];
    }
    return c->cnt[q];
}

void tk_cnn_pool_set_slope(tk_cnn_pool *c, const float *z0, const float *dz, int out,
                           bool dz_finite)
{
    int f = c->f;
    c->cand_ok = dz_finite && c->z0_finite;
    if (!c->cand_ok)
        return;
    for (int q = 0; q < f; q++) {
        size_t e = cand_at(c, q, 0);
        c->cz0[e] = z0[q];
        c->cdz[e] = dz[q];
        c->ct[e] = 0;
        c->cnt[q] = 1;
        c->rec[q] = dz[q];
    }
    int n_blocks = (f + LANES - 1) / LANES;
    for (int b = 0; b < n_blocks; b++) {
        bool all_flat = true;
        for (int q = b * LANES; q < f && q < (b + 1) * LANES; q++)
            all_flat &= c->flat[q] != 0;
#if defined(__x86_64__) && defined(__GNUC__)
        if (all_flat && __builtin_cpu_supports("avx512f")) {
            cand_block_records(c, z0, dz, out, b);
            continue;
        }
#endif
        cand_block_lists(c, z0, dz, out, b);
    }
    /* Pad each block's lists to its longest with their last entry (an equal
     * value never wins "h > best"); lanes past f with zeros. */
    for (int b = 0; b < n_blocks; b++) {
        int longest = 0;
        for (int q = b * LANES; q < f && q < (b + 1) * LANES; q++)
            longest = c->cnt[q] > longest ? c->cnt[q] : longest;
        c->n_cand[b] = longest;
        for (int l = 0; l < LANES; l++) {
            int q = b * LANES + l;
            if (q >= f) {
                for (int j = 0; j < longest; j++) {
                    size_t e = ((size_t)b * c->max_steps + (size_t)j) * LANES + (size_t)l;
                    c->cz0[e] = c->cdz[e] = 0.0f;
                    c->ct[e] = 0;
                }
                continue;
            }
            size_t last = cand_at(c, q, c->cnt[q] - 1);
            for (int j = c->cnt[q]; j < longest; j++) {
                size_t e = cand_at(c, q, j);
                c->cz0[e] = c->cz0[last];
                c->cdz[e] = c->cdz[last];
                c->ct[e] = c->ct[last];
            }
        }
    }
}

/* One block of 16 filters (lanes past f are padding), the candidate scan
 * of pool_points for every point. The same operations per lane as there
 * (u = z0 + al dz as a multiply then an add, "u < 0 ? 0 : u", "h > best"). */
static void cand_block(const float *restrict z0, const float *restrict dz, int m, int nq, int n,
                       const double *alpha, bool relu, float *restrict pooled, int *restrict arg,
                       int f)
{
    for (int p = 0; p < n; p++) {
        float al = (float)alpha[p];
        float best[LANES];
        int at[LANES];
        for (int l = 0; l < LANES; l++) {
            float u = z0[l] + al * dz[l];
            best[l] = relu && u < 0.0f ? 0.0f : u;
            at[l] = 0;
        }
        for (int j = 1; j < m; j++)
            for (int l = 0; l < LANES; l++) {
                size_t e = (size_t)j * LANES + l;
                float u = z0[e] + al * dz[e];
                float h = relu && u < 0.0f ? 0.0f : u;
                bool win = h > best[l];
                best[l] = win ? h : best[l];
                at[l] = win ? j : at[l];
            }
        memcpy(pooled + (size_t)p * f, best, (size_t)nq * sizeof *best);
        memcpy(arg + (size_t)p * f, at, (size_t)nq * sizeof *at);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static void cand_avx512(const tk_cnn_pool *c, int n,
                                                          const double *alpha, bool relu,
                                                          float *pooled, int *arg)
{
    const __m512 zero = _mm512_setzero_ps();
    int f = c->f, n_blocks = (f + LANES - 1) / LANES;
    size_t ms = (size_t)c->max_steps;
    for (int b = 0; b < n_blocks; b++) {
        const float *z0 = c->cz0 + (size_t)b * ms * LANES;
        const float *dz = c->cdz + (size_t)b * ms * LANES;
        int m = c->n_cand[b], nq = f - b * LANES;
        __mmask16 keep = nq >= LANES ? (__mmask16)0xffff : (__mmask16)((1u << nq) - 1u);
        for (int p = 0; p < n; p++) {
            __m512 al = _mm512_set1_ps((float)alpha[p]);
            __m512 best = _mm512_add_ps(_mm512_loadu_ps(z0), _mm512_mul_ps(al, _mm512_loadu_ps(dz)));
            if (relu)
                best = _mm512_mask_mov_ps(best, _mm512_cmp_ps_mask(best, zero, _CMP_LT_OQ), zero);
            __m512i at = _mm512_setzero_si512();
            for (int j = 1; j < m; j++) {
                size_t e = (size_t)j * LANES;
                __m512 u = _mm512_add_ps(_mm512_loadu_ps(z0 + e),
                                         _mm512_mul_ps(al, _mm512_loadu_ps(dz + e)));
                if (relu)
                    u = _mm512_mask_mov_ps(u, _mm512_cmp_ps_mask(u, zero, _CMP_LT_OQ), zero);
                __mmask16 win = _mm512_cmp_ps_mask(u, best, _CMP_GT_OQ);
                best = _mm512_mask_mov_ps(best, win, u);
                at = _mm512_mask_mov_epi32(at, win, _mm512_set1_epi32(j));
            }
            _mm512_mask_storeu_ps(pooled + (size_t)p * f + b * LANES, keep, best);
            _mm512_mask_storeu_epi32(arg + (size_t)p * f + b * LANES, keep, at);
        }
    }
}
#endif

/* pool_points over the candidates only; alpha >= 0. */
static void pool_candidates(const tk_cnn_pool *c, int n, const double *alpha, bool relu,
                            float *pooled, int *arg)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) {
        cand_avx512(c, n, alpha, relu, pooled, arg);
        return;
    }
#endif
    int f = c->f, n_blocks = (f + LANES - 1) / LANES;
    size_t ms = (size_t)c->max_steps;
    for (int b = 0; b < n_blocks; b++) {
        size_t base = (size_t)b * ms * LANES;
        int nq = f - b * LANES < LANES ? f - b * LANES : LANES;
        cand_block(c->cz0 + base, c->cdz + base, c->n_cand[b], nq, n, alpha, relu,
                   pooled + b * LANES, arg + b * LANES, f);
    }
}


bool tk_cnn_pool_points(const tk_cnn_pool *c, const float *z0, const float *dz, int out, int n,
                        const double *alpha, bool relu, float *pooled, int *arg)
{
    bool use = c->cand_ok;
    for (int p = 0; use && p < n; p++)
        use = alpha[p] >= 0.0;
    if (use)
        pool_candidates(c, n, alpha, relu, pooled, arg);
    else
        pool_points(z0, dz, out, c->f, n, alpha, relu, pooled, arg);
    return use;
}

void tk_cnn_pool_clear(const tk_cnn_pool *c, bool candidates, int out, double *gz)
{
    int f = c->f;
    if (!candidates) {
        for (size_t i = 0; i < (size_t)out * f; i++)
            gz[i] = 0.0;
        return;
    }
    for (int q = 0; q < f; q++)
        for (int j = 0; j < c->cnt[q]; j++)
            gz[(size_t)c->ct[cand_at(c, q, j)] * f + q] = 0.0;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* Block b's sums of tk_cnn_pool_sum: per point, each candidate adds the
 * lanes whose position it is, in double, a masked add (the others keep
 * their bits). */
__attribute__((target("avx512f"))) static void sum_block_avx512(tk_cnn_pool *c, int b, int n,
                                                               const float *gp,
                                                               const float *pooled,
                                                               const int *arg, bool relu)
{
    int f = c->f, m = c->n_cand[b], q0 = b * LANES, nq = f - q0 < LANES ? f - q0 : LANES;
    __mmask16 live = (__mmask16)((1u << nq) - 1u);
    double *acc = c->acc + (size_t)b * (size_t)c->max_steps * LANES;
    const __m512 zero = _mm512_setzero_ps();
    for (int p = 0; p < n; p++) {
        size_t o = (size_t)p * f + q0;
        __m512 g = _mm512_maskz_loadu_ps(live, gp + o);
        __mmask16 use = _mm512_mask_cmp_ps_mask(live, g, zero, _CMP_NEQ_UQ);
        if (relu)
            use &= _mm512_mask_cmp_ps_mask(live, _mm512_maskz_loadu_ps(live, pooled + o), zero,
                                           _CMP_NLE_UQ);
        if (use == 0)
            continue;
        __m512i j = _mm512_maskz_loadu_epi32(live, arg + o);
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(g));
        __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(g), 1)));
        for (int k = 0; k < m; k++) {
            __mmask16 hit = _mm512_mask_cmpeq_epi32_mask(use, j, _mm512_set1_epi32(k));
            if (hit == 0)
                continue;
            double *a = acc + (size_t)k * LANES;
            _mm512_storeu_pd(a, _mm512_mask_add_pd(_mm512_loadu_pd(a), (__mmask8)hit,
                                                   _mm512_loadu_pd(a), lo));
            _mm512_storeu_pd(a + 8, _mm512_mask_add_pd(_mm512_loadu_pd(a + 8), (__mmask8)(hit >> 8),
                                                       _mm512_loadu_pd(a + 8), hi));
        }
    }
}
#endif

int tk_cnn_pool_sum(tk_cnn_pool *c, int n, const float *gp, const float *pooled, const int *arg,
                    bool relu, double *gz, unsigned char *mark)
{
    int f = c->f, n_blocks = (f + LANES - 1) / LANES, marked = 0;
    size_t ms = (size_t)c->max_steps;
    for (int b = 0; b < n_blocks; b++) {
        double *acc = c->acc + (size_t)b * ms * LANES;
        for (size_t e = 0; e < (size_t)c->n_cand[b] * LANES; e++)
            acc[e] = 0.0;
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("avx512f")) {
            sum_block_avx512(c, b, n, gp, pooled, arg, relu);
            goto emit;
        }
#endif
        for (int p = 0; p < n; p++)
            for (int q = b * LANES; q < f && q < (b + 1) * LANES; q++) {
                size_t o = (size_t)p * f + q;
                if (gp[o] != 0.0f && !(relu && pooled[o] <= 0.0f))
                    acc[(size_t)arg[o] * LANES + (size_t)(q % LANES)] += gp[o];
            }
#if defined(__x86_64__) && defined(__GNUC__)
    emit:
#endif
        for (int q = b * LANES; q < f && q < (b + 1) * LANES; q++)
            for (int j = 0; j < c->cnt[q]; j++) {
                double v = acc[(size_t)j * LANES + (size_t)(q % LANES)];
                if (v == 0.0)
                    continue;
                size_t at = (size_t)c->ct[cand_at(c, q, j)] * f + (size_t)q;
                gz[at] = v;
                mark[at] = 1;
                marked++;
            }
    }
    return marked;
}
