/* Issue 20's guards: bad input gets one message naming the file and the
 * problem, and no user data is lost. UTF-8 replacement, outputs that would
 * touch inputs, sizes taken from headers or ranks, absurd numbers, duplicate
 * review ids, and (through the binary) a run whose model overflows and an
 * LRP whose eps absorbs everything. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/job.h"
#include "cli/method_params.h"
#include "core/outpath.h"
#include "core/utf8.h"
#include "data/dataset.h"
#include "data/prepare.h"
#include "data/vocab.h"
#include "data/word_vectors.h"
#include "model/model.h"
#include "report/escape.h"
#include "support/testutil.h"

static const char *tmp_path(const char *name)
{
    static char buf[8][4096];
    static int next;
    char *out = buf[next++ % 8];
    snprintf(out, sizeof buf[0], "%s/%s", tk_test_tmpdir(), name);
    return out;
}

static const char *write_file(const char *name, const char *bytes, size_t len)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return strdup("");
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* ---- UTF-8 ------------------------------------------------------------- */

static void check_replace(const char *in, size_t len, const char *want)
{
    size_t out_len = 0;
    char *out = tk_utf8_replace_invalid(in, len, &out_len, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(out_len, strlen(want));
    CU_ASSERT_EQUAL(out_len, tk_utf8_replaced_len(in, len));
    CU_ASSERT_STRING_EQUAL(out, want);
    CU_ASSERT_TRUE(tk_utf8_valid(out, out_len));
    free(out);
}

static void test_utf8_rule(void)
{
    /* The three byte patterns of the issue, and the documented rule. */
    check_replace("\xE9t\xE9", 3, "\xEF\xBF\xBDt\xEF\xBF\xBD");
    check_replace("\xFF\xFE", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");
    check_replace("\xC3\x28", 2, "\xEF\xBF\xBD(");
    check_replace("\xE2\x82", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");
    /* overlong '/' and a UTF-16 surrogate are not UTF-8 either */
    check_replace("\xC0\xAF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");
    check_replace("\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    /* valid text (controls, 4-byte emoji) is copied unchanged */
    check_replace("caf\xC3\xA9 \t\x01 \xF0\x9F\x8E\xAC", 13, "caf\xC3\xA9 \t\x01 \xF0\x9F\x8E\xAC");
    CU_ASSERT_FALSE(tk_utf8_valid("ok\xE9", 3));
    CU_ASSERT_TRUE(tk_utf8_valid("", 0));
}

/* The vocabulary writer: words interned from invalid bytes come out valid,
 * and so does the serialized word index (`--export-word-index`). */
/* The decoder step and the display rule the report's escaping uses. */
static void test_utf8_display_rule(void)
{
    int32_t cp = 0;
    CU_ASSERT_EQUAL(tk_utf8_next("\xC3\xA9t", 3, &cp), 2);
    CU_ASSERT_EQUAL(cp, 0xE9);
    CU_ASSERT_EQUAL(tk_utf8_next("\xE2\x82\xAC", 3, &cp), 3);
    CU_ASSERT_EQUAL(cp, 0x20AC);
    CU_ASSERT_EQUAL(tk_utf8_next("\xE2\x82", 2, &cp), 0); /* truncated */
    CU_ASSERT_EQUAL(tk_utf8_next("\xC0\xAF", 2, &cp), 0); /* overlong '/' */
    CU_ASSERT_EQUAL(tk_utf8_next("\xED\xA0\x80", 3, &cp), 0); /* surrogate */
    CU_ASSERT_EQUAL(tk_utf8_next("\xF4\x90\x80\x80", 4, &cp), 0); /* above U+10FFFF */
    /* every code point below U+00A0, against its definition: C0 but tab
     * and newline, DEL and C1 are not shown; the rest is */
    for (int32_t c = 0; c < 0xA0; c++) {
        bool control = (c < 0x20 && c != 9 && c != 10) || (c >= 0x7F && c < 0xA0);
        CU_ASSERT_EQUAL(tk_utf8_displayable(c), !control);
    }
    CU_ASSERT_TRUE(tk_utf8_displayable(0xFFFD));
    CU_ASSERT_TRUE(tk_utf8_displayable(0x2028));
    CU_ASSERT_FALSE(tk_utf8_displayable(-1));
    char *shown = tk_utf8_sanitize("a\x01\tb\xC2\x85\xE9\n", NULL);
    CU_ASSERT_STRING_EQUAL(shown, "a\xEF\xBF\xBD\tb\xEF\xBF\xBD\xEF\xBF\xBD\n");
    free(shown);
}

static void test_vocab_export_utf8(void)
{
    tk_vocab *v = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_vocab_create(&v, &err), TK_OK);
    const char *words[] = {"\xE9t\xE9", "\xFF\xFE", "\xC3\x28", "good"};
    for (int i = 0; i < 4; i++) {
        int32_t index;
        CU_ASSERT_EQUAL_FATAL(tk_vocab_intern(v, words[i], (uint32_t)strlen(words[i]), &index, &err), TK_OK);
        for (int c = 0; c <= i; c++)
            tk_vocab_count(v, index);
    }
    CU_ASSERT_EQUAL_FATAL(tk_vocab_rank_by_counts(v, &err), TK_OK);
    char **out = NULL;
    int64_t *counts = NULL, n = 0;
    CU_ASSERT_EQUAL_FATAL(tk_vocab_export(v, &out, &counts, &n, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_STRING_EQUAL(out[0], "good");
    CU_ASSERT_STRING_EQUAL(out[1], "\xEF\xBF\xBD(");
    CU_ASSERT_STRING_EQUAL(out[2], "\xEF\xBF\xBD\xEF\xBF\xBD");
    CU_ASSERT_STRING_EQUAL(out[3], "\xEF\xBF\xBDt\xEF\xBF\xBD");
    char *json = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(tk_word_index_serialize(out, n, &json, &len, &err), TK_OK);
    CU_ASSERT_TRUE(tk_utf8_valid(json, len));
    free(json);
    for (int64_t i = 0; i < n; i++)
        free(out[i]);
    free(out);
    free(counts);
    tk_vocab_destroy(v);
}

/* ---- outputs never touch inputs --------------------------------------- */

static bool always(const char *path)
{
    (void)path;
    return true;
}

static void test_outpath(void)
{
    char data[4096];
    snprintf(data, sizeof data, "%s", write_text("data.h5", "precious"));
    const char *link = tmp_path("link.h5");
    unlink(link);
    CU_ASSERT_EQUAL_FATAL(symlink(data, link), 0);
    CU_ASSERT_TRUE(tk_same_file(data, link));
    CU_ASSERT_FALSE(tk_same_file(data, tmp_path("nothing-here.h5")));

    tk_error err = {0};
    tk_path_role in[] = {{NULL, "model"}, {data, "dataset"}};
    tk_path_role out = {link, "results file"};
    CU_ASSERT_EQUAL(tk_outpath_check(&out, in, 2, &err), TK_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, link));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dataset"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, data));

    /* the output's .partial sibling is the input */
    const char *partial = write_text("r.h5.partial", "x");
    tk_path_role in2[] = {{partial, "word vectors"}};
    tk_path_role out2 = {tmp_path("r.h5"), "results file"};
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(tk_outpath_check(&out2, in2, 1, &err), TK_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "r.h5.partial"));

    /* ... or its .partial.new, the name a run's file has until its layout
     * is written (created with truncation) */
    const char *fresh = write_text("q.h5.partial.new", "x");
    tk_path_role in3[] = {{fresh, "dataset"}};
    tk_path_role out3 = {tmp_path("q.h5"), "results file"};
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(tk_outpath_check(&out3, in3, 1, &err), TK_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "q.h5.partial.new"));

    /* two outputs that do not exist yet but name the same file */
    tk_path_role a = {tmp_path("new.json"), "output dataset"};
    char other[4200];
    snprintf(other, sizeof other, "%s/./new.json", tk_test_tmpdir());
    tk_path_role b[] = {{other, "exported word index"}};
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(tk_outpath_check(&a, b, 1, &err), TK_E_INVALID);
    tk_path_role c[] = {{tmp_path("other.json"), "exported word index"}};
    CU_ASSERT_EQUAL(tk_outpath_check(&a, c, 1, NULL), TK_OK);

    /* --force: only what the probe recognises */
    tk_path_role job = {write_text("job.yaml", "model: m.h5\n"), "results file"};
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(tk_outpath_replaceable(&job, "tokattr results file", NULL, &err), TK_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "job.yaml"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a tokattr results file"));
    CU_ASSERT_EQUAL(tk_outpath_replaceable(&job, "x", always, NULL), TK_OK);
    tk_path_role dir = {tk_test_tmpdir(), "results file"};
    CU_ASSERT_EQUAL(tk_outpath_replaceable(&dir, "x", always, NULL), TK_E_INVALID);
    tk_path_role none = {tmp_path("absent.h5"), "results file"};
    CU_ASSERT_EQUAL(tk_outpath_replaceable(&none, "x", NULL, NULL), TK_OK);
    char *kept = slurp(data);
    CU_ASSERT_STRING_EQUAL(kept, "precious"); /* nothing above wrote anything */
    free(kept);
}

/* ---- sizes from data, not headers ------------------------------------- */

static tk_status load_index(const char *name, const char *json, tk_error *err)
{
    tk_vocab *v = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_vocab_create(&v, err), TK_OK);
    tk_status st = tk_vocab_load_word_index(v, write_text(name, json), err);
    if (st == TK_OK)
        CU_ASSERT_TRUE(tk_vocab_size(v) <= TK_WORD_INDEX_MAX_RANK(2));
    tk_vocab_destroy(v);
    return st;
}

static void test_word_index_ranks(void)
{
    tk_error err = {0};
    CU_ASSERT_EQUAL(load_index("gap.json", "{\"great\": 1, \"film\": 1000000}", &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gap.json"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "1000000"));
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(load_index("huge.json", "{\"great\": 2147483644}", &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "2147483644"));
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(load_index("bad_utf8.json", "{\"caf\xE9\": 1}", &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not valid UTF-8"));
    /* small gaps (a Keras index cut to its top words is dense anyway) pass */
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(load_index("ok.json", "{\"great\": 1, \"film\": 7}", &err), TK_OK);
}

static void test_word2vec_header(void)
{
    tk_word_vectors *wv = NULL;
    tk_error err = {0};
    const char *p = write_text("big.txt", "288888888 4\nthe 1 2 3 4\nfilm 1 2 3 4\n");
    CU_ASSERT_EQUAL(tk_word_vectors_load_text(p, &wv, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NULL(wv);
    /* read as far as the data goes, then the file's name, line and count */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "big.txt:4: the file ends after 2 of the 288888888 words"));
    tk_error_clear(&err);
    p = write_text("huge.txt", "2147483648 100000\nthe 1\n");
    CU_ASSERT_EQUAL(tk_word_vectors_load_text(p, &wv, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "huge.txt:2: value 2 of 'the' is missing")); /* not "out of memory" */
    /* a header the file can hold is fine */
    p = write_text("fits.txt", "2 2\nthe 1 2\nfilm 3 4\n");
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_load_text(p, &wv, &err), TK_OK);
    CU_ASSERT_EQUAL(wv->n, 2);
    tk_word_vectors_destroy(wv);
}

static void test_word_vector_values(void)
{
    tk_word_vectors *wv = NULL;
    tk_error err = {0};
    const char *p = write_text("e38.txt", "2 2\nthe 1 2\nfilm 1e38 4\n");
    CU_ASSERT_EQUAL(tk_word_vectors_load_text(p, &wv, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "e38.txt:3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "film"));
    tk_error_clear(&err);
    p = write_text("nan.txt", "1 2\nthe nan 2\n");
    CU_ASSERT_EQUAL(tk_word_vectors_load_text(p, &wv, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nan.txt:2"));
    tk_error_clear(&err);
    p = write_text("inf.txt", "1 2\nthe 1 1e39\n"); /* overflows float: inf */
    CU_ASSERT_EQUAL(tk_word_vectors_load_text(p, &wv, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "inf.txt:2"));
}

/* ---- duplicate ids ------------------------------------------------------ */

static void test_duplicate_ids(void)
{
    const char *y = "model: m.h5\n"
                    "dataset: d.h5\n"
                    "select: {ids: [3, 3, 3, 7]}\n"
                    "methods: [{name: s, method: saliency}]\n"
                    "results: r.h5\n";
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_job_parse(y, "dup.yaml", ".", NULL, &job, &err), TK_E_INVALID);
    CU_ASSERT_PTR_NULL(job);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dup.yaml:3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "review 3"));
}

/* ---- numbers where they leave the model: through `tokattr run` --------- */

static void put(const char *root, const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* A small dataset, prepared in-process from a hand-made aclImdb/. */
static const char *small_dataset(void)
{
    static char path[4096];
    if (path[0])
        return path;
    const char *root = tmp_path("src");
    mkdir(root, 0755);
    put(root, "aclImdb/train/neg/0_1.txt", "bad bad film, dull plot");
    put(root, "aclImdb/train/pos/1_9.txt", "great film great cast");
    put(root, "aclImdb/test/neg/2_2.txt", "dull and bad");
    put(root, "aclImdb/test/pos/3_8.txt", "great plot, a great film");
    tk_prepare_options opt = {.source = root};
    tk_dataset *ds = NULL;
    tk_prepare_stats stats;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_prepare_dataset(&opt, &ds, &stats, &err), TK_OK);
    snprintf(path, sizeof path, "%s", tmp_path("small.h5"));
    CU_ASSERT_EQUAL_FATAL(tk_dataset_write(ds, path, root, &err), TK_OK);
    tk_dataset_destroy(ds);
    return path;
}

/* Embedding(8, 4) -> GlobalAveragePooling1D -> Dense(2, softmax), every
 * parameter `value`, or small deterministic values when value is 0. */
static const char *small_model(const char *name, float value)
{
    tk_layer l[3];
    memset(l, 0, sizeof l);
    const char *names[3] = {"embedding", "global_average_pooling1d", "dense"};
    const char *classes[3] = {"Embedding", "GlobalAveragePooling1D", "Dense"};
    tk_layer_kind kinds[3] = {TK_LAYER_EMBEDDING, TK_LAYER_GLOBAL_AVG_POOL1D, TK_LAYER_DENSE};
    for (int i = 0; i < 3; i++) {
        l[i].kind = kinds[i];
        snprintf(l[i].name, sizeof l[i].name, "%s", names[i]);
        snprintf(l[i].class_name, sizeof l[i].class_name, "%s", classes[i]);
        l[i].use_bias = true;
        l[i].activation = TK_ACT_LINEAR;
    }
    l[0].input_dim = 8, l[0].output_dim = 4; /* ids < 8: the small dataset has 6 words (ids <= 9) */
    l[2].units = 2, l[2].activation = TK_ACT_SOFTMAX;
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_from_layers(l, 3, 12, 0, &m, &err), TK_OK);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = value != 0 ? value : (float)((int)(i * 7919 % 13) - 6) / 10.0f;
    const char *path = tmp_path(name);
    CU_ASSERT_EQUAL_FATAL(tk_model_save(m, path, &err), TK_OK);
    tk_model_destroy(m);
    return path;
}

/* Runs `tokattr run` on a job; returns its exit status, stderr in *log. */
static int run_job(const char *name, const char *yaml, char **log)
{
    const char *bin = getenv("TOKATTR_BIN");
    const char *job = write_text(name, yaml);
    char cmd[16384];
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    /* In the sanitizer build the binary is instrumented too; Open MPI's
     * dlopen'd components leak at exit without symbols a suppression could
     * name, so leak checking is off for the child (not for this test). */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" '%s' run '%s' --quiet > '%s.out' 2> '%s.err'",
             bin, job, job, job);
    int rc = system(cmd);
    char err_path[4200];
    snprintf(err_path, sizeof err_path, "%s.err", job);
    *log = slurp(err_path);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_run_nonfinite_output(void)
{
    if (getenv("TOKATTR_BIN") == NULL) {
        CU_FAIL("TOKATTR_BIN is not set (ctest sets it)");
        return;
    }
    const char *ds = small_dataset();
    const char *model = small_model("overflow.h5", 1e30f); /* logits overflow float32 */
    char yaml[8192];
    snprintf(yaml, sizeof yaml,
             "model: %s\ndataset: %s\ntokenizer: dataset\nmethods: [{name: ig, method: integrated_gradients, n_steps: 4}]\n"
             "results: %s\n",
             model, ds, tmp_path("overflow_results.h5"));
    char *log = NULL;
    int rc = run_job("overflow.yaml", yaml, &log);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "not finite"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "review"));
    CU_ASSERT_PTR_NULL(strstr(log, "nan"));
    if (rc == 0 || strstr(log, "not finite") == NULL)
        fprintf(stderr, "run said: %s\n", log);
    free(log);
    struct stat sb;
    CU_ASSERT_NOT_EQUAL(stat(tmp_path("overflow_results.h5"), &sb), 0); /* never a finished file */
}

static void test_run_lrp_eps_warning(void)
{
    if (getenv("TOKATTR_BIN") == NULL) {
        CU_FAIL("TOKATTR_BIN is not set (ctest sets it)");
        return;
    }
    const char *ds = small_dataset();
    const char *model = small_model("plain.h5", 0);
    char yaml[8192];
    snprintf(yaml, sizeof yaml,
             "model: %s\ndataset: %s\ntokenizer: dataset\nmethods:\n  - {name: lrp, method: lrp_epsilon, eps: 1e300}\n"
             "  - {name: lrp_ok, method: lrp_epsilon}\nresults: %s\n",
             model, ds, tmp_path("lrp_results.h5"));
    char *log = NULL;
    int rc = run_job("lrp.yaml", yaml, &log);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "warning: lrp: 2 of 2 reviews have every score 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "eps 1e+300"));
    CU_ASSERT_PTR_NULL(strstr(log, "lrp_ok:")); /* the default eps explains */
    if (strstr(log, "every score 0") == NULL)
        fprintf(stderr, "run said: %s\n", log);
    free(log);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case utf8[] = {{"replacement rule", test_utf8_rule},
                                        {"display rule", test_utf8_display_rule},
                                        {"vocabulary export", test_vocab_export_utf8},
                                        {NULL, NULL}};
    static const tk_test_case out[] = {{"outputs never touch inputs", test_outpath}, {NULL, NULL}};
    static const tk_test_case sizes[] = {{"word index ranks", test_word_index_ranks},
                                         {"word2vec header", test_word2vec_header},
                                         {"word vector values", test_word_vector_values},
                                         {"duplicate select ids", test_duplicate_ids},
                                         {NULL, NULL}};
    static const tk_test_case run[] = {{"non-finite model output stops the run", test_run_nonfinite_output},
                                       {"lrp eps that zeroes every score warns", test_run_lrp_eps_warning},
                                       {NULL, NULL}};
    tk_test_add_suite("utf8", utf8);
    tk_test_add_suite("outpath", out);
    tk_test_add_suite("sizes", sizes);
    tk_test_add_suite("run numbers", run);
    return tk_test_run_all();
}
