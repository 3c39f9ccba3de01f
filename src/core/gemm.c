#include "core/gemm.h"

#include <cblas.h>

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
