/* The one matrix-product entry point. Everything heavy goes through it so
 * that profiling and optimising happen in one place. Row-major throughout. */
#ifndef TOKATTR_CORE_GEMM_H
#define TOKATTR_CORE_GEMM_H

#include <stdbool.h>

/* C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C.
 * op(A) = A (m, k) with leading dimension lda >= k, or, when trans_a,
 * A is stored (k, m) with lda >= m; likewise B. ldc >= n. */
void tk_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* Makes OpenBLAS single-threaded in this process: one rank per core, and a
 * result that does not depend on how many threads the library would pick. */
void tk_blas_single_thread(void);

#endif
