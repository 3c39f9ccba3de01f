#include "core/gemm.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TK_GEMM_X86 1
#endif

/* C (1, n) or C (m, 1): a matrix-vector product. OpenBLAS' sgemm packs
 * both operands on every call, so one row through a (128, 512) LSTM
 * recurrent kernel spends most of its time copying the kernel; sgemv reads
 * it in place, about 4x faster for the single-review forward and backward
 * passes (one per step of every LSTM). */
static void gemv_row(bool trans_a, bool trans_b, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c)
{
    /* c (n) = alpha op(B)^T a + beta c; a is a row (1, k), or a column
     * (k, 1) with stride lda when trans_a. */
    int inc_a = trans_a ? lda : 1;
    if (trans_b)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, a, inc_a, beta, c, 1);
    else
        cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a, inc_a, beta, c, 1);
}

static void gemv_col(bool trans_a, bool trans_b, int m, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    /* c (m, stride ldc) = alpha op(A) b + beta c; b is a column (k, 1) with
     * stride ldb, or a row (1, k) when trans_b. */
    int inc_b = trans_b ? 1 : ldb;
    if (trans_a)
        cblas_sgemv(CblasRowMajor, CblasTrans, k, m, alpha, a, lda, b, inc_b, beta, c, ldc);
    else
        cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, alpha, a, lda, b, inc_b, beta, c, ldc);
}

void tk_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k > 0 && (m == 1 || n == 1)) {
        /* sgemm ignores C when beta is 0, sgemv scales it: NaN * 0 stays NaN. */
        if (beta == 0.0f)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    c[(long)i * ldc + j] = 0.0f;
        if (m == 1)
            gemv_row(trans_a, trans_b, n, k, alpha, a, lda, b, ldb, beta, c);
        else
            gemv_col(trans_a, trans_b, m, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                ldc);
}

void tk_blas_single_thread(void)
{
    openblas_set_num_threads(1);
}

/* ---- Products with a packed right-hand matrix ----
 * Layout: panels of PANEL columns; panel j holds op(B)[kk][j PANEL + c] at
 * [j][kk][c], zero beyond n. A micro-kernel keeps an (MR, PANEL) block of
 * C in registers while it walks k: per kk one row of the panel (two
 * 512-bit or four 256-bit loads) and MR broadcasts of A. */
enum { PANEL = 32 };

typedef void (*panel_fn)(int m, int k, const float *a, int lda, const float *bp, float beta,
                         float *c, int ldc, int cols);

struct tk_packed_b {
    int k, n, panels;
    float *data; /* (panels, k, PANEL) */
    panel_fn run; /* the widest kernel the CPU has, chosen once */
};

/* c (cols) = acc (cols) + beta c, or acc when beta is 0 (C never read). */
static inline void store_row(float *c, const float *acc, float beta, int cols)
{
    for (int j = 0; j < cols; j++)
        c[j] = beta == 0.0f ? acc[j] : acc[j] + beta * c[j];
}

/* Any CPU: the same chains with fmaf, so the bits match the vector kernels. */
static void panel_scalar(int m, int k, const float *a, int lda, const float *bp, float beta,
                         float *c, int ldc, int cols)
{
    for (int i = 0; i < m; i++) {
        float acc[PANEL] = {0};
        const float *ai = a + (size_t)i * lda;
        for (int kk = 0; kk < k; kk++) {
            const float *b = bp + (size_t)kk * PANEL;
            for (int j = 0; j < PANEL; j++)
                acc[j] = fmaf(ai[kk], b[j], acc[j]);
        }
        store_row(c + (size_t)i * ldc, acc, beta, cols);
    }
}

#ifdef TK_GEMM_X86
/* MR rows x 32 columns, AVX-512: 2 MR accumulators. */
__attribute__((target("avx512f"), always_inline)) static inline void
block512(int MR, int k, const float *a, int lda, const float *bp, float beta, float *c, int ldc,
         int cols)
{
    __m512 acc[8][2];
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(bp + (size_t)kk * PANEL);
        __m512 b1 = _mm512_loadu_ps(bp + (size_t)kk * PANEL + 16);
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(a[(size_t)r * lda + kk]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < MR; r++) {
        float *cr = c + (size_t)r * ldc;
        if (cols == PANEL) {
            __m512 lo = acc[r][0], hi = acc[r][1];
            if (beta != 0.0f) {
                __m512 bv = _mm512_set1_ps(beta);
                lo = _mm512_add_ps(lo, _mm512_mul_ps(bv, _mm512_loadu_ps(cr)));
                hi = _mm512_add_ps(hi, _mm512_mul_ps(bv, _mm512_loadu_ps(cr + 16)));
            }
            _mm512_storeu_ps(cr, lo);
            _mm512_storeu_ps(cr + 16, hi);
        } else {
            float tmp[PANEL];
            _mm512_storeu_ps(tmp, acc[r][0]);
            _mm512_storeu_ps(tmp + 16, acc[r][1]);
            store_row(cr, tmp, beta, cols);
        }
    }
}

__attribute__((target("avx512f"))) static void panel_avx512(int m, int k, const float *a, int lda,
                                                           const float *bp, float beta, float *c,
                                                           int ldc, int cols)
{
    int i = 0;
    for (; i + 8 <= m; i += 8)
        block512(8, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols);
    switch (m - i) { /* constant MR per case: the accumulators stay in registers */
    case 7: block512(7, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols); break;
    case 6: block512(6, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols); break;
    case 5: block512(5, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols); break;
    case 4: block512(4, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols); break;
    case 3: block512(3, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols); break;
    case 2: block512(2, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols); break;
    case 1: block512(1, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols); break;
    default: break;
    }
}

/* MR rows x 32 columns, AVX2 + FMA: 4 MR accumulators (MR <= 3). */
__attribute__((target("avx2,fma"), always_inline)) static inline void
block256(int MR, int k, const float *a, int lda, const float *bp, float beta, float *c, int ldc,
         int cols)
{
    __m256 acc[3][4];
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < 4; q++)
            acc[r][q] = _mm256_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        const float *b = bp + (size_t)kk * PANEL;
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 b2 = _mm256_loadu_ps(b + 16), b3 = _mm256_loadu_ps(b + 24);
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_broadcast_ss(a + (size_t)r * lda + kk);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
            acc[r][2] = _mm256_fmadd_ps(av, b2, acc[r][2]);
            acc[r][3] = _mm256_fmadd_ps(av, b3, acc[r][3]);
        }
    }
    for (int r = 0; r < MR; r++) {
        float tmp[PANEL];
        for (int q = 0; q < 4; q++)
            _mm256_storeu_ps(tmp + 8 * q, acc[r][q]);
        store_row(c + (size_t)r * ldc, tmp, beta, cols);
    }
}

__attribute__((target("avx2,fma"))) static void panel_avx2(int m, int k, const float *a, int lda,
                                                          const float *bp, float beta, float *c,
                                                          int ldc, int cols)
{
    int i = 0;
    for (; i + 3 <= m; i += 3)
        block256(3, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols);
    if (m - i == 2)
        block256(2, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols);
    else if (m - i == 1)
        block256(1, k, a + (size_t)i * lda, lda, bp, beta, c + (size_t)i * ldc, ldc, cols);
}
#endif

tk_status tk_packed_b_create(bool trans_b, int k, int n, const float *b, int ldb,
                             tk_packed_b **out, tk_error *err)
{
    *out = NULL;
    tk_packed_b *p = tk_calloc(1, sizeof *p, err);
    if (p == NULL)
        return TK_E_NOMEM;
    p->k = k;
    p->n = n;
    p->panels = (n + PANEL - 1) / PANEL;
    p->data = tk_calloc((size_t)p->panels * (size_t)k * PANEL, sizeof *p->data, err);
    if (p->data == NULL) {
        free(p);
        return TK_E_NOMEM;
    }
    for (int j = 0; j < n; j++)
        for (int kk = 0; kk < k; kk++)
            p->data[((size_t)(j / PANEL) * k + kk) * PANEL + j % PANEL] =
                trans_b ? b[(size_t)j * ldb + kk] : b[(size_t)kk * ldb + j];
    p->run = panel_scalar;
#ifdef TK_GEMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        p->run = panel_avx512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        p->run = panel_avx2;
#endif
    *out = p;
    return TK_OK;
}

void tk_packed_b_destroy(tk_packed_b *p)
{
    if (p == NULL)
        return;
    free(p->data);
    free(p);
}

void tk_sgemm_packed(int m, const float *a, int lda, const tk_packed_b *b, float beta, float *c,
                     int ldc)
{
    if (m <= 0)
        return;
    /* Panel outer: its (k, 32) slice stays in L1 while all rows of A pass. */
    for (int j = 0; j < b->panels; j++) {
        int cols = b->n - j * PANEL < PANEL ? b->n - j * PANEL : PANEL;
        b->run(m, b->k, a, lda, b->data + (size_t)j * b->k * PANEL, beta, c + (size_t)j * PANEL,
               ldc, cols);
    }
}
