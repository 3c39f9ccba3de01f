/* The one matrix-product entry point. Everything heavy goes through it so
 * that profiling and optimising happen in one place. Row-major throughout. */
#ifndef TOKATTR_CORE_GEMM_H
#define TOKATTR_CORE_GEMM_H

#include <stdbool.h>

#include "core/status.h"

/* C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C.
 * op(A) = A (m, k) with leading dimension lda >= k, or, when trans_a,
 * A is stored (k, m) with lda >= m; likewise B. ldc >= n. */
void tk_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* A right-hand matrix packed once for many products with it (an LSTM's
 * recurrent kernel: 80 steps x every review of a job). OpenBLAS packs both
 * operands on every call; with B packed once a product reads A in place.
 *
 * Each element of C is one fused multiply-add chain over k in order,
 * started from 0, then added to beta C: a row of C depends only on the same
 * row of A, never on m or on the other rows (so batching rows of several
 * reviews cannot change a review's bits), and the AVX-512, AVX2 and scalar
 * kernels give the same bits. */
typedef struct tk_packed_b tk_packed_b;

/* Packs op(B) (k, n): B stored (k, n) with ldb >= n, or (n, k) when trans_b. */
tk_status tk_packed_b_create(bool trans_b, int k, int n, const float *b, int ldb,
                             tk_packed_b **out, tk_error *err);
void tk_packed_b_destroy(tk_packed_b *p);

/* C (m, n) = A (m, k) op(B) (k, n) + beta C, lda >= k, ldc >= n; beta 0
 * never reads C. */
void tk_sgemm_packed(int m, const float *a, int lda, const tk_packed_b *b, float beta, float *c,
                     int ldc);

/* Makes OpenBLAS single-threaded in this process: one rank per core, and a
 * result that does not depend on how many threads the library would pick. */
void tk_blas_single_thread(void);

#endif
