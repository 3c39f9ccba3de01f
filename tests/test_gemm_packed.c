/* core/gemm: products with a packed right-hand matrix (tk_sgemm_packed)
 * against its contract, computed here independently: every element is the
 * fused multiply-add chain over k in order from 0 (fmaf), then acc + beta C,
 * bit for bit, whatever vector kernel the CPU runs; a row of C is the same
 * bits alone or in a batch with any other rows (what lets the LSTM IG path
 * group points, and would let reviews share a GEMM); beta 0 never reads C;
 * and the values agree with a double-precision product. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "core/status.h"
#include "support/testutil.h"

static float *random_matrix(int rows, int cols, uint64_t seed)
{
    float *m = malloc(sizeof *m * (size_t)rows * cols);
    uint64_t s = seed;
    for (long i = 0; m != NULL && i < (long)rows * cols; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        m[i] = (float)((double)(s >> 40) / (double)(1ull << 24) - 0.5);
    }
    return m;
}

/* op(B)[kk][j] for B stored (k, n), or (n, k) when trans. */
static float op_b(const float *b, int ldb, bool trans, int kk, int j)
{
    return trans ? b[(size_t)j * ldb + kk] : b[(size_t)kk * ldb + j];
}

/* The contract, element by element. */
static float chain(const float *a_row, const float *b, int ldb, bool trans, int k, int j,
                   float beta, float c)
{
    float acc = 0.0f;
    for (int kk = 0; kk < k; kk++)
        acc = fmaf(a_row[kk], op_b(b, ldb, trans, kk, j), acc);
    return beta == 0.0f ? acc : acc + beta * c;
}

static void check_shape(bool trans, int m, int n, int k, float beta)
{
    int lda = k + 3, ldb = (trans ? k : n) + 1, ldc = n + 5;
    float *a = random_matrix(m, lda, 11u + (uint64_t)m);
    float *b = random_matrix(trans ? n : k, ldb, 23u + (uint64_t)n);
    float *c0 = random_matrix(m, ldc, 37u);
    float *c = malloc(sizeof *c * (size_t)m * ldc);
    CU_ASSERT_FATAL(a && b && c0 && c);
    memcpy(c, c0, sizeof *c * (size_t)m * ldc);
    tk_error err = {0};
    tk_packed_b *p = NULL;
    CU_ASSERT_FATAL(tk_packed_b_create(trans, k, n, b, ldb, &p, &err) == TK_OK);
    tk_sgemm_packed(m, a, lda, p, beta, c, ldc);
    int mismatches = 0;
    double worst = 0.0;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            float want = chain(a + (size_t)i * lda, b, ldb, trans, k, j, beta, c0[(size_t)i * ldc + j]);
            float got = c[(size_t)i * ldc + j];
            mismatches += memcmp(&want, &got, sizeof got) != 0;
            double ref = beta * (double)c0[(size_t)i * ldc + j];
            for (int kk = 0; kk < k; kk++)
                ref += (double)a[(size_t)i * lda + kk] * op_b(b, ldb, trans, kk, j);
            worst = fmax(worst, fabs(got - ref));
        }
        /* the padding columns of C beyond n are never written */
        for (int j = n; j < ldc; j++)
            mismatches += c[(size_t)i * ldc + j] != c0[(size_t)i * ldc + j];
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT(worst < 1e-4 * k);
    tk_packed_b_destroy(p);
    free(a);
    free(b);
    free(c0);
    free(c);
}

static void test_packed_contract_bits(void)
{
    /* the LSTM's shapes (U = 128, 4U = 512), row tails 1-7 and column tails */
    check_shape(false, 50, 512, 128, 1.0f);
    check_shape(true, 50, 128, 512, 0.0f);
    check_shape(false, 7, 40, 9, 0.5f);
    check_shape(true, 13, 33, 17, 1.0f);
    check_shape(false, 1, 5, 3, 0.0f);
    check_shape(true, 9, 64, 1, 2.0f);
}

/* Row i of C computed with all m rows, alone, and in a batch with other
 * rows in another order: the same bits. */
static void test_packed_row_independent_of_batch(void)
{
    enum { M = 50, K = 128, N = 512, SUB = 11 };
    float *a = random_matrix(M, K, 5u), *b = random_matrix(K, N, 6u);
    float *init = random_matrix(M, N, 7u);
    float *all = malloc(sizeof *all * M * N), *one = malloc(sizeof *one * N);
    float *sub_a = malloc(sizeof *sub_a * SUB * K), *sub_c = malloc(sizeof *sub_c * SUB * N);
    CU_ASSERT_FATAL(a && b && init && all && one && sub_a && sub_c);
    tk_error err = {0};
    tk_packed_b *p = NULL;
    CU_ASSERT_FATAL(tk_packed_b_create(false, K, N, b, N, &p, &err) == TK_OK);
    memcpy(all, init, sizeof *all * M * N);
    tk_sgemm_packed(M, a, K, p, 1.0f, all, N);
    int differ = 0;
    for (int i = 0; i < M; i++) {
        memcpy(one, init + (size_t)i * N, sizeof *one * N);
        tk_sgemm_packed(1, a + (size_t)i * K, K, p, 1.0f, one, N);
        differ += memcmp(one, all + (size_t)i * N, sizeof *one * N) != 0;
    }
    /* rows 3, 10, 17, ... in reverse order, as an 11-row batch */
    for (int s = 0; s < SUB; s++) {
        int i = (3 + 7 * (SUB - 1 - s)) % M;
        memcpy(sub_a + (size_t)s * K, a + (size_t)i * K, sizeof *sub_a * K);
        memcpy(sub_c + (size_t)s * N, init + (size_t)i * N, sizeof *sub_c * N);
    }
    tk_sgemm_packed(SUB, sub_a, K, p, 1.0f, sub_c, N);
    for (int s = 0; s < SUB; s++) {
        int i = (3 + 7 * (SUB - 1 - s)) % M;
        differ += memcmp(sub_c + (size_t)s * N, all + (size_t)i * N, sizeof *sub_c * N) != 0;
    }
    CU_ASSERT_EQUAL(differ, 0);
    tk_packed_b_destroy(p);
    free(a);
    free(b);
    free(init);
    free(all);
    free(one);
    free(sub_a);
    free(sub_c);
}

/* beta 0: what C held (NaN here) is never read. */
static void test_packed_beta_zero_ignores_c(void)
{
    float a[2 * 3] = {1, 2, 3, 4, 5, 6}, b[3 * 2] = {1, 0, 0, 1, 1, 1};
    float c[2 * 2] = {NAN, NAN, NAN, NAN};
    tk_error err = {0};
    tk_packed_b *p = NULL;
    CU_ASSERT_FATAL(tk_packed_b_create(false, 3, 2, b, 2, &p, &err) == TK_OK);
    tk_sgemm_packed(2, a, 3, p, 0.0f, c, 2);
    CU_ASSERT_EQUAL(c[0], 4.0f);
    CU_ASSERT_EQUAL(c[1], 5.0f);
    CU_ASSERT_EQUAL(c[2], 10.0f);
    CU_ASSERT_EQUAL(c[3], 11.0f);
    tk_packed_b_destroy(p);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"packed gemm: every element is the fmaf chain, bit for bit", test_packed_contract_bits},
        {"packed gemm: a row's bits alone or in any batch", test_packed_row_independent_of_batch},
        {"packed gemm: beta 0 ignores what C held", test_packed_beta_zero_ignores_c},
        {NULL, NULL},
    };
    tk_test_add_suite("gemm_packed", cases);
    return tk_test_run_all();
}
