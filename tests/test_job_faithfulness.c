/* The `faithfulness:` job key: off when absent, the library's defaults for
 * `{}`, each key overriding, and bad values refused with file and key (an
 * unknown key also with its line). job.c is compiled in, as in test_job.c. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/job.h"
#include "cli/method_params.h"
#include "support/testutil.h"

/* A minimal job followed by `extra` (one or more YAML lines). */
static tk_status parse_with(const char *extra, tk_job **job, tk_error *err)
{
    char y[1024];
    snprintf(y, sizeof y,
             "model: m.h5\n"
             "dataset: d.h5\n"
             "results: r.h5\n"
             "methods:\n"
             "  - {name: sal, method: saliency}\n"
             "%s",
             extra);
    return tk_job_parse(y, "f.yaml", ".", "/sh", job, err);
}

static void test_absent_is_off(void)
{
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(parse_with("", &job, &err), TK_OK);
    CU_ASSERT_FALSE(job->faith_enabled);
    tk_job_destroy(job);
}

static void test_empty_takes_library_defaults(void)
{
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(parse_with("faithfulness: {}\n", &job, &err), TK_OK);
    CU_ASSERT_TRUE(job->faith_enabled);
    tk_faith_params def;
    tk_faith_params_default(&def);
    CU_ASSERT_EQUAL(job->faith.k_max, def.k_max);
    CU_ASSERT_EQUAL(job->faith.mode, def.mode);
    CU_ASSERT_EQUAL(job->faith.seed, def.seed);
    CU_ASSERT_EQUAL(job->faith.n_q, def.n_q);
    tk_job_destroy(job);
}

static void test_keys(void)
{
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(
        parse_with("faithfulness:\n  k: 25\n  replace: remove\n  seed: 12345678901\n", &job, &err),
        TK_OK);
    CU_ASSERT_TRUE(job->faith_enabled);
    CU_ASSERT_EQUAL(job->faith.k_max, 25);
    CU_ASSERT_EQUAL(job->faith.mode, TK_FAITH_REMOVE);
    CU_ASSERT_EQUAL(job->faith.seed, 12345678901ull);
    tk_job_destroy(job);
}

static void expect_error(const char *extra, const char *needle1, const char *needle2)
{
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_NOT_EQUAL(parse_with(extra, &job, &err), TK_OK);
    CU_ASSERT_PTR_NULL(job);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "f.yaml"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle1));
    if (needle2)
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle2));
    if (!strstr(err.msg, needle1))
        fprintf(stderr, "\nmessage: %s\n", err.msg);
}

static void test_errors(void)
{
    expect_error("faithfulness: {k: 0}\n", "faithfulness.k", NULL);
    expect_error("faithfulness: {k: 5000}\n", "faithfulness.k", NULL);
    expect_error("faithfulness: {replace: drop}\n", "replace", "drop");
    expect_error("faithfulness:\n  k: 3\n  depth: 2\n", "depth", "line 8");
    expect_error("faithfulness: {k: ten}\n", "k", NULL);
    expect_error("faithfulness: 3\n", "faithfulness", NULL);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {{"absent_is_off", test_absent_is_off},
                                         {"empty_takes_library_defaults",
                                          test_empty_takes_library_defaults},
                                         {"keys", test_keys},
                                         {"errors", test_errors},
                                         {NULL, NULL}};
    tk_test_add_suite("job_faithfulness", cases);
    return tk_test_run_all();
}
