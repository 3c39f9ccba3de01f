/* labels: unit */
/* The job comparison of `run --resume` (cli/job_edit.h): comments and
 * layout are no change, changed / added / removed keys are listed with
 * both values, and whether they touch what is computed comes from the job
 * key table, which has exactly the keys the job parser knows. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/job.h"
#include "cli/job_edit.h"
#include "cli/method_params.h"
#include "core/h5.h"
#include "support/testutil.h"

static const char *BASE = "model: m.h5\n"
                          "dataset: d.h5\n"
                          "results: r.h5\n"
                          "methods:\n"
                          "  - name: ig\n"
                          "    method: integrated_gradients\n"
                          "    n_steps: 50\n"
                          "chunk_size: 16\n";

static void diff(const char *after, tk_job_diff *d)
{
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_job_diff_texts(BASE, after, d, &err), TK_OK);
}

static void test_comments_only(void)
{
    tk_job_diff d;
    diff(BASE, &d);
    CU_ASSERT_TRUE(d.same_text);
    tk_job_diff_free(&d);
    /* a comment, blank lines, flow style and another key order */
    diff("# resumed on another node\nmodel: m.h5   # same file\n\ndataset: \"d.h5\"\n"
         "chunk_size: 16\nresults: r.h5\n"
         "methods: [{method: integrated_gradients, name: ig, n_steps: 50}]\n",
         &d);
    CU_ASSERT_FALSE(d.same_text);
    CU_ASSERT_EQUAL(d.n_changes, 0);
    CU_ASSERT_FALSE(d.affects_results);
    char buf[512];
    tk_job_diff_describe(&d, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "comments or layout only");
    tk_job_diff_free(&d);
}

static void test_harmless_and_harmful(void)
{
    tk_job_diff d;
    char y[1024], buf[1024];
    snprintf(y, sizeof y, "%scheckpoint_seconds: 10\n", BASE);
    diff(y, &d);
    CU_ASSERT_EQUAL(d.n_changes, 1);
    CU_ASSERT_FALSE(d.affects_results);
    tk_job_diff_describe(&d, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "checkpoint_seconds: (absent) -> 10");
    tk_job_diff_free(&d);

    /* a method parameter and chunk_size (the prediction batches) do */
    snprintf(y, sizeof y, "%s", BASE);
    char *p = strstr(y, "n_steps: 50");
    memcpy(p, "n_steps: 64", 11);
    p = strstr(y, "chunk_size: 16");
    memcpy(p, "chunk_size: 32", 14);
    diff(y, &d);
    CU_ASSERT_EQUAL(d.n_changes, 2);
    CU_ASSERT_TRUE(d.affects_results);
    tk_job_diff_describe(&d, buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "methods[0].n_steps: 50 -> 64 (changes what is computed)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "chunk_size: 16 -> 32 (changes what is computed)"));
    tk_job_diff_free(&d);

    /* a removed key, and an added mapping with no keys (faithfulness: {}) */
    diff("model: m.h5\ndataset: d.h5\nresults: r.h5\nmethods:\n  - name: ig\n"
         "    method: integrated_gradients\n    n_steps: 50\nfaithfulness: {}\n",
         &d);
    CU_ASSERT_EQUAL(d.n_changes, 2);
    CU_ASSERT_TRUE(d.affects_results);
    tk_job_diff_describe(&d, buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "faithfulness: (absent) -> {}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "chunk_size: 16 -> (absent)"));
    tk_job_diff_free(&d);

    /* a moved model file is checked by its SHA-256, not by its path */
    snprintf(y, sizeof y, "%s", BASE);
    memcpy(strstr(y, "m.h5"), "n.h5", 4);
    diff(y, &d);
    CU_ASSERT_EQUAL(d.n_changes, 1);
    CU_ASSERT_FALSE(d.affects_results);
    tk_job_diff_free(&d);
}

static void test_not_yaml(void)
{
    tk_job_diff d;
    tk_error err = {0};
    CU_ASSERT_NOT_EQUAL(tk_job_diff_texts(BASE, "model: [\n", &d, &err), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not YAML"));
}

/* The key table and the parser's schema list the same top-level keys, and
 * every method key the parser knows is a method parameter or its name. */
static void test_key_table_is_the_schema(void)
{
    int n_schema = 0, n_table = 0;
    for (const char *key; (key = tk_job_schema_key(n_schema)) != NULL; n_schema++)
        if (!tk_job_key_find(key)) {
            fprintf(stderr, "\njob key '%s' has no row in JOB_KEYS\n", key);
            CU_FAIL("a job key without a row");
        }
    for (const tk_job_key *k = tk_job_keys(); k->key; k++, n_table++) {
        bool in_schema = false;
        for (int i = 0; tk_job_schema_key(i) != NULL; i++)
            in_schema |= strcmp(tk_job_schema_key(i), k->key) == 0;
        CU_ASSERT_TRUE(in_schema);
        CU_ASSERT_PTR_NOT_NULL(k->why);
    }
    CU_ASSERT_EQUAL(n_schema, n_table);
    CU_ASSERT_TRUE(n_schema > 10); /* the schema was read, not an empty list */
    int n_method = 0;
    for (const char *key; (key = tk_job_schema_method_key(n_method)) != NULL; n_method++)
        CU_ASSERT_TRUE(strcmp(key, "name") == 0 || strcmp(key, "method") == 0 ||
                       tk_method_param_find(key) != NULL);
    CU_ASSERT_TRUE(n_method > 2);
    CU_ASSERT_TRUE(tk_job_key_find("methods")->affects_results);
}

static void test_file_attribute(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/job_attr.h5", tk_test_tmpdir());
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    CU_ASSERT(tk_h5_attr_str(f, "job", BASE) >= 0);
    H5Fclose(f);
    tk_error err = {0};
    char *text = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_results_job_text_read(path, &text, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(text, BASE);
    free(text);
    CU_ASSERT_EQUAL(tk_results_job_text_write(path, "edited: 1\n", &err), TK_OK);
    CU_ASSERT_EQUAL(tk_results_job_text_write(path, "edited: 2\n", &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_results_job_text_read(path, &text, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(text, "edited: 2\n");
    free(text);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char *history = tk_h5_attr_read_str(f, "job_history");
    H5Fclose(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(history);
    /* both replaced texts, oldest first */
    char *a = strstr(history, BASE), *b = strstr(history, "edited: 1\n");
    CU_ASSERT_TRUE(a && b && a < b);
    free(history);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.h5", tk_test_tmpdir());
    CU_ASSERT_NOT_EQUAL(tk_results_job_text_read(missing, &text, &err), TK_OK);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {{"comments_only", test_comments_only},
                                         {"harmless_and_harmful", test_harmless_and_harmful},
                                         {"not_yaml", test_not_yaml},
                                         {"key_table_is_the_schema", test_key_table_is_the_schema},
                                         {"file_attribute", test_file_attribute},
                                         {NULL, NULL}};
    tk_test_add_suite("job_edit", cases);
    return tk_test_run_all();
}
