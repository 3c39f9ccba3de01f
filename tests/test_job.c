/* Job parsing: defaults, overrides, path resolution and the messages for
 * bad jobs (file, line, key). job.c lives in src/cli (the binary, not the
 * library), so it is compiled into this test directly. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/job.h"
#include "cli/method_params.h"
#include "support/testutil.h"

static const char *MINIMAL = "model: shared:models/imdb_cnn.h5\n"
                             "dataset: ../data/imdb.h5\n"
                             "results: out/r.h5\n"
                             "methods:\n"
                             "  - name: sal\n"
                             "    method: saliency\n";

static void test_defaults(void)
{
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_job_parse(MINIMAL, "m.yaml", "jobs", "/sh", &job, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(job->model_path, "/sh/models/imdb_cnn.h5");
    CU_ASSERT_STRING_EQUAL(job->dataset_path, "jobs/../data/imdb.h5");
    CU_ASSERT_STRING_EQUAL(job->output_path, "jobs/out/r.h5");
    CU_ASSERT_STRING_EQUAL(job->split, "test");
    CU_ASSERT_EQUAL(job->select, TK_SELECT_ALL);
    CU_ASSERT_EQUAL(job->num_words, 0);
    CU_ASSERT_EQUAL(job->maxlen, 0);
    CU_ASSERT_FALSE(job->padding_post);
    CU_ASSERT_EQUAL(job->chunk_size, 16);
    CU_ASSERT_EQUAL(job->checkpoint_every, 1);
    CU_ASSERT_DOUBLE_EQUAL(job->checkpoint_seconds, 2.0, 0);
    CU_ASSERT_EQUAL(job->n_methods, 1);
    tk_method_params def;
    tk_method_params_default(&def, TK_METHOD_SALIENCY);
    CU_ASSERT_EQUAL(job->methods[0].kind, TK_METHOD_SALIENCY);
    CU_ASSERT_STRING_EQUAL(job->methods[0].name, "sal");
    CU_ASSERT_EQUAL(job->methods[0].target, def.target);
    CU_ASSERT_STRING_EQUAL(job->yaml_text, MINIMAL);
    tk_job_destroy(job);
}

static void test_overrides(void)
{
    const char *y = "model: /abs/m.h5\n"
                    "dataset: d.h5\n"
                    "split: train\n"
                    "select: {ids: [5, 1, 3]}\n"
                    "input: {num_words: 5000, maxlen: 64, padding: post, truncating: post}\n"
                    "target: label\n"
                    "output: logit\n"
                    "results: r.h5\n"
                    "chunk_size: 4\n"
                    "checkpoint_seconds: 0.5\n"
                    "methods:\n"
                    "  - {name: ig, method: integrated_gradients, n_steps: 20, rule: riemann_left,"
                    " baseline: token, baseline_token: 2}\n"
                    "  - {name: lrp, method: lrp_epsilon, eps: 0.01, target: class, target_class: 1,"
                    " reduction: l2}\n";
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_job_parse(y, "o.yaml", ".", NULL, &job, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(job->model_path, "/abs/m.h5");
    CU_ASSERT_STRING_EQUAL(job->split, "train");
    CU_ASSERT_EQUAL(job->select, TK_SELECT_IDS);
    CU_ASSERT_EQUAL_FATAL(job->n_indices, 3); /* sorted */
    CU_ASSERT_EQUAL(job->indices[0], 1);
    CU_ASSERT_EQUAL(job->indices[2], 5);
    CU_ASSERT_EQUAL(job->num_words, 5000);
    CU_ASSERT_EQUAL(job->maxlen, 64);
    CU_ASSERT_TRUE(job->padding_post);
    CU_ASSERT_TRUE(job->truncating_post);
    CU_ASSERT_EQUAL(job->chunk_size, 4);
    CU_ASSERT_DOUBLE_EQUAL(job->checkpoint_seconds, 0.5, 0);
    CU_ASSERT_EQUAL_FATAL(job->n_methods, 2);
    CU_ASSERT_EQUAL(job->methods[0].n_steps, 20);
    CU_ASSERT_EQUAL(job->methods[0].rule, TK_IG_RIEMANN_LEFT);
    CU_ASSERT_EQUAL(job->methods[0].baseline, TK_BASELINE_TOKEN);
    CU_ASSERT_EQUAL(job->methods[0].target, TK_TARGET_LABEL); /* job-wide default */
    CU_ASSERT_EQUAL(job->methods[0].output, TK_OUTPUT_LOGIT);
    CU_ASSERT_EQUAL(job->methods[1].target, TK_TARGET_CLASS); /* method's own wins */
    CU_ASSERT_EQUAL(job->methods[1].target_class, 1);
    CU_ASSERT_EQUAL(job->methods[1].reduce, TK_REDUCE_L2);
    CU_ASSERT_DOUBLE_EQUAL(job->methods[1].eps, 0.01, 1e-12);
    tk_job_destroy(job);
}

/* Parses y, expects failure whose message contains every needle. */
static void expect_error(const char *y, const char *n1, const char *n2)
{
    tk_job *job = NULL;
    tk_error err = {0};
    tk_status st = tk_job_parse(y, "bad.yaml", ".", NULL, &job, &err);
    CU_ASSERT_NOT_EQUAL(st, TK_OK);
    CU_ASSERT_PTR_NULL(job);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad.yaml"));
    if (n1 && !strstr(err.msg, n1)) {
        fprintf(stderr, "\nmissing '%s' in: %s\n", n1, err.msg);
        CU_FAIL("message lacks expected text");
    }
    if (n2 && !strstr(err.msg, n2)) {
        fprintf(stderr, "\nmissing '%s' in: %s\n", n2, err.msg);
        CU_FAIL("message lacks expected text");
    }
    tk_job_destroy(job);
}

static void test_errors(void)
{
    /* a typo'd key: key and its line */
    expect_error("model: m.h5\ndataset: d.h5\nresults: r.h5\nchunk_sise: 4\n"
                 "methods: [{name: a, method: saliency}]\n",
                 "chunk_sise", "line 4");
    /* unknown parameter inside a method: line of the method entry */
    expect_error("model: m.h5\ndataset: d.h5\nresults: r.h5\nmethods:\n"
                 "  - name: a\n    method: saliency\n    n_stepz: 3\n",
                 "n_stepz", "line 7");
    expect_error("model: m.h5\ndataset: d.h5\nresults: r.h5\n"
                 "methods: [{name: a, method: shapley}]\n",
                 "unknown method 'shapley'", NULL);
    expect_error("model: m.h5\ndataset: d.h5\nresults: r.h5\n"
                 "methods: [{name: a, method: integrated_gradients, rule: simpson}]\n",
                 "rule", "simpson");
    expect_error("model: m.h5\ndataset: d.h5\nresults: r.h5\n"
                 "methods: [{name: a, method: saliency, n_steps: many}]\n",
                 "n_steps", NULL);
    expect_error("model: m.h5\ndataset: d.h5\nmethods: [{name: a, method: saliency}]\n",
                 "results", NULL);
    expect_error("model: m.h5\ndataset: d.h5\nresults: r.h5\n"
                 "methods: [{name: a, method: saliency}, {name: a, method: grad_input}]\n",
                 "used twice", NULL);
    expect_error("model: m.h5\ndataset: d.h5\nresults: r.h5\nsplit: a/b\n"
                 "methods: [{name: a, method: saliency}]\n",
                 "split", "a/b");
    expect_error("model: m.h5\ndataset: d.h5\nresults: r.h5\n"
                 "methods: [{name: a/b, method: saliency}]\n",
                 "name", NULL);
    expect_error("model: [\n", NULL, NULL);
}

static void test_load_file(void)
{
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s", tk_test_tmpdir());
    snprintf(path, sizeof path, "%s/j.yaml", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(MINIMAL, f);
    fclose(f);
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_job_load(path, NULL, &job, &err), TK_OK);
    char want[1200];
    snprintf(want, sizeof want, "%s/out/r.h5", dir);
    CU_ASSERT_STRING_EQUAL(job->output_path, want);
    tk_job_destroy(job);

    tk_error e2 = {0};
    CU_ASSERT_NOT_EQUAL(tk_job_load("/nonexistent/j.yaml", NULL, &job, &e2), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "/nonexistent/j.yaml"));
}

/* Every shipped job parses. */
static void test_shipped_jobs(void)
{
    const char *names[] = {"smoke", "ig_cnn_test", "lstm_deepshap", "lstm_all_methods",
                           "bilstm_lrp"};
    const char *src = getenv("TOKATTR_SOURCE");
    if (!src)
        src = ".";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/jobs/%s.yaml", src, names[i]);
        tk_job *job = NULL;
        tk_error err = {0};
        tk_status st = tk_job_load(path, NULL, &job, &err);
        if (st != TK_OK)
            fprintf(stderr, "\n%s\n", err.msg);
        CU_ASSERT_EQUAL(st, TK_OK);
        tk_job_destroy(job);
    }
}

/* `tokenizer:` is parsed by the tokenizer module's parser, its file
 * resolved like every path of the job. */
static void test_tokenizer_key(void)
{
    char y[512];
    tk_job *job = NULL;
    tk_error err = {0};
    snprintf(y, sizeof y, "%stokenizer: keras-imdb\n", MINIMAL);
    CU_ASSERT_EQUAL_FATAL(tk_job_parse(y, "t.yaml", "jobs", "/sh", &job, &err), TK_OK);
    CU_ASSERT_TRUE(job->has_tokenizer);
    CU_ASSERT_EQUAL(job->tokenizer.kind, TK_TOKENIZER_KERAS_IMDB);
    CU_ASSERT_STRING_EQUAL(job->tokenizer.file, "");
    CU_ASSERT_STRING_EQUAL(job->shared_dir, "/sh");
    tk_job_destroy(job);
    snprintf(y, sizeof y, "%stokenizer: keras-tokenizer:tok.json\n", MINIMAL);
    CU_ASSERT_EQUAL_FATAL(tk_job_parse(y, "t.yaml", "jobs", "/sh", &job, &err), TK_OK);
    CU_ASSERT_EQUAL(job->tokenizer.kind, TK_TOKENIZER_KERAS_TOKENIZER);
    CU_ASSERT_STRING_EQUAL(job->tokenizer.file, "jobs/tok.json");
    tk_job_destroy(job);
    snprintf(y, sizeof y, "%stokenizer: tokattr-imdb:shared:models/imdb_word_index.json\n", MINIMAL);
    CU_ASSERT_EQUAL_FATAL(tk_job_parse(y, "t.yaml", "jobs", "/sh", &job, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(job->tokenizer.file, "/sh/models/imdb_word_index.json");
    tk_job_destroy(job);
    snprintf(y, sizeof y, "%stokenizer: dataset\n", MINIMAL);
    CU_ASSERT_EQUAL_FATAL(tk_job_parse(y, "t.yaml", "jobs", "/sh", &job, &err), TK_OK);
    CU_ASSERT_TRUE(job->tokenizer_dataset);
    CU_ASSERT_FALSE(job->has_tokenizer);
    tk_job_destroy(job);
    snprintf(y, sizeof y, "%stokenizer: keras-tokenizer\n", MINIMAL); /* needs a file */
    expect_error(y, "tokenizer", "keras-tokenizer");
    snprintf(y, sizeof y, "%stokenizer: bpe:x\n", MINIMAL);
    expect_error(y, "tokenizer", "bpe");
}

/* select.reviews: kept as text for rank 0 (which resolves ids against the
 * dataset), its syntax checked at load; one kind of selection only. */
static void test_select_reviews(void)
{
    char y[1024];
    tk_job *job = NULL;
    tk_error err = {0};
    snprintf(y, sizeof y, "%sselect: {reviews: \"0-4, id:1234@label:pos\"}\n", MINIMAL);
    CU_ASSERT_EQUAL_FATAL(tk_job_parse(y, "t.yaml", ".", NULL, &job, &err), TK_OK);
    CU_ASSERT_EQUAL(job->select, TK_SELECT_REVIEWS);
    CU_ASSERT_STRING_EQUAL(job->select_spec, "0-4, id:1234@label:pos");
    tk_job_destroy(job);
    snprintf(y, sizeof y, "%sselect: {reviews: \"id:12@colour:red\"}\n", MINIMAL);
    expect_error(y, "select.reviews", "not a qualifier");
    snprintf(y, sizeof y, "%sselect: {reviews: \"3-1\"}\n", MINIMAL);
    expect_error(y, "select.reviews", "backwards");
    snprintf(y, sizeof y, "%sselect: {reviews: \"1\", label: 1}\n", MINIMAL);
    expect_error(y, "only one of", "reviews");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {{"defaults", test_defaults},
                                         {"overrides", test_overrides},
                                         {"errors", test_errors},
                                         {"load_file", test_load_file},
                                         {"shipped_jobs", test_shipped_jobs},
                                         {"tokenizer_key", test_tokenizer_key},
                                         {"select_reviews", test_select_reviews},
                                         {NULL, NULL}};
    tk_test_add_suite("job", cases);
    return tk_test_run_all();
}
