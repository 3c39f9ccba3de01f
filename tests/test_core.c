/* core: the GEMM wrapper against a naive triple loop, error values, the
 * HDF5 scalar attribute reader. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "core/h5.h"
#include "core/status.h"
#include "support/testutil.h"

static float at(const float *m, int ld, bool trans, int i, int j)
{
    return trans ? m[j * ld + i] : m[i * ld + j];
}

static void check_gemm(bool ta, bool tb, int m, int n, int k)
{
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
    float *a = calloc((size_t)(ta ? k : m) * lda, sizeof *a);
    float *b = calloc((size_t)(tb ? n : k) * ldb, sizeof *b);
    float *c = calloc((size_t)m * ldc, sizeof *c);
    CU_ASSERT_FATAL(a && b && c);
    srand(7);
    for (int i = 0; i < (ta ? k : m) * lda; i++)
        a[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int i = 0; i < (tb ? n : k) * ldb; i++)
        b[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int i = 0; i < m * ldc; i++)
        c[i] = 1.0f;
    tk_sgemm(ta, tb, m, n, k, 2.0f, a, lda, b, ldb, 0.5f, c, ldc);
    double worst = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (double)at(a, lda, ta, i, p) * at(b, ldb, tb, p, j);
            double want = 2.0 * s + 0.5;
            worst = fmax(worst, fabs(want - c[i * ldc + j]));
        }
    CU_ASSERT(worst < 1e-4);
    free(a);
    free(b);
    free(c);
}

static void test_gemm_all_transposes(void)
{
    check_gemm(false, false, 17, 13, 29);
    check_gemm(true, false, 17, 13, 29);
    check_gemm(false, true, 17, 13, 29);
    check_gemm(true, true, 17, 13, 29);
    check_gemm(false, false, 1, 1, 1);
}

/* One row or one column goes through sgemv: every transpose, strided. */
static void test_gemm_vector_shapes(void)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_gemm(ta, tb, 1, 13, 29);
            check_gemm(ta, tb, 17, 1, 29);
            check_gemm(ta, tb, 1, 1, 29);
        }
}

/* beta = 0 means C is not read, as for sgemm: a NaN left in C must not leak. */
static void test_gemm_beta_zero_ignores_c(void)
{
    float a[3] = {1, 2, 3}, b[6] = {1, 0, 0, 1, 1, 1}, c[2] = {NAN, NAN};
    tk_sgemm(false, false, 1, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
    CU_ASSERT_EQUAL(c[0], 4.0f);
    CU_ASSERT_EQUAL(c[1], 5.0f);
    float col[2] = {NAN, NAN};
    tk_sgemm(false, true, 2, 1, 3, 1.0f, b, 3, a, 3, 0.0f, col, 1);
    CU_ASSERT_EQUAL(col[0], 1.0f + 0.0f + 0.0f * 3);
    CU_ASSERT_EQUAL(col[1], 1.0f * 1 + 2.0f * 1 + 3.0f * 1);
}

static void test_error_first_cause_wins(void)
{
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_error_set(&err, TK_E_IO, "%s: cannot open", "a.h5"), TK_E_IO);
    tk_error_set(&err, TK_E_FORMAT, "later");
    CU_ASSERT_EQUAL(err.status, TK_E_IO);
    CU_ASSERT_STRING_EQUAL(err.msg, "a.h5: cannot open");
    tk_error_prefix(&err, "model %s", "x");
    CU_ASSERT_STRING_EQUAL(err.msg, "model x: a.h5: cannot open");
    CU_ASSERT_EQUAL(tk_error_set(NULL, TK_E_NOMEM, "ignored"), TK_E_NOMEM);
    CU_ASSERT_STRING_EQUAL(tk_strerror(TK_E_FORMAT), "bad format");
}

static void test_malloc_overflow_is_an_error(void)
{
    tk_error err = {0};
    void *p = tk_malloc((size_t)-1, 16, &err);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(err.status, TK_E_NOMEM);
}

/* A numeric attribute is read only when it holds one value: a stranger's
 * array attribute of 32 int32 once went past the caller's one int32 (found
 * by fuzz_results, corpus/results/array_start_id.txt). */
static void test_attr_read_num_takes_one_value(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/attr.h5", tk_test_tmpdir());
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    int32_t one = 7, many[32];
    for (int i = 0; i < 32; i++)
        many[i] = 100 + i;
    CU_ASSERT(tk_h5_attr_num(f, "one", H5T_NATIVE_INT32, &one) >= 0);
    hsize_t dims[1] = {32};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t a = H5Acreate2(f, "many", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(a >= 0);
    CU_ASSERT(H5Awrite(a, H5T_NATIVE_INT32, many) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    struct {
        int32_t v, guard[4];
    } out = {-1, {-2, -2, -2, -2}};
    CU_ASSERT(tk_h5_attr_read_num(f, "one", H5T_NATIVE_INT32, &out.v) >= 0);
    CU_ASSERT_EQUAL(out.v, 7);
    out.v = -1;
    CU_ASSERT(tk_h5_attr_read_num(f, "many", H5T_NATIVE_INT32, &out.v) < 0);
    CU_ASSERT_EQUAL(out.v, -1);
    CU_ASSERT_EQUAL(out.guard[0], -2);
    CU_ASSERT(tk_h5_attr_read_num(f, "absent", H5T_NATIVE_INT32, &out.v) < 0);
    H5Fclose(f);
}

/* A string attribute past the 64 KiB an object header holds (a job that
 * selects 25,000 reviews by id) is written, replaced and read back whole;
 * a short one stays a fixed-size string (what tk_h5_attr_str_overwrite
 * rewrites in place). */
static void test_attr_str_long(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/attr_long.h5", tk_test_tmpdir());
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    size_t n = 200000;
    char *big = malloc(n + 1);
    CU_ASSERT_FATAL(big != NULL);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    CU_ASSERT(tk_h5_attr_str(f, "job", big) >= 0);
    big[7] = 'Z';
    CU_ASSERT(tk_h5_attr_str(f, "job", big) >= 0); /* replaced */
    CU_ASSERT(tk_h5_attr_str(f, "short", "select: {all: true}") >= 0);
    H5Fclose(f);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    char *got = tk_h5_attr_read_str(f, "job");
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(strlen(got), n);
    CU_ASSERT(strcmp(got, big) == 0);
    free(got);
    CU_ASSERT(tk_h5_attr_str_overwrite(f, "short", "select: {ids: [1]}") >= 0);
    got = tk_h5_attr_read_str(f, "short");
    CU_ASSERT(got != NULL && strcmp(got, "select: {ids: [1]}") == 0);
    free(got);
    H5Fclose(f);
    free(big);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"gemm matches naive loops for all transposes", test_gemm_all_transposes},
        {"gemm with one row or column matches naive loops", test_gemm_vector_shapes},
        {"gemm with beta 0 ignores what C held", test_gemm_beta_zero_ignores_c},
        {"first error cause wins, prefix", test_error_first_cause_wins},
        {"malloc size overflow is an error", test_malloc_overflow_is_an_error},
        {"a numeric attribute is read only when it holds one value",
         test_attr_read_num_takes_one_value},
        {"a string attribute past 64 KiB is written and read whole", test_attr_str_long},
        {NULL, NULL},
    };
    tk_test_add_suite("core", cases);
    return tk_test_run_all();
}
