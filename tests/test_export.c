/* The words in the results file and the export tables: a file written by
 * the pipeline's writer with words, document ids, class names and
 * truncation counts reads back through report/results.c (one schema
 * header for both); the CSV export parses back with libcsv's reader to
 * the same words and scores; JSON strings parse back with cJSON; the
 * oriented word ranking flips the sign where a binary model's method
 * explained the other class. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>
#include <csv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/results_schema.h"
#include "pipeline/writer.h"
#include "report/export.h"
#include "report/results.h"
#include "support/testutil.h"

enum { N = 3, T = 7, C = 2 };

/* review 0: <start> good "odd,word" (target 1); review 1: <start> good
 * bad (target 0); review 2: zzqx (OOV, target 1) */
static const int64_t OFF[N + 1] = {0, 3, 6, 7};
static const int32_t TOK[T] = {1, 10, 11, 1, 10, 12, 2};
static const int32_t POS[T] = {-1, 0, 1, -1, 0, 1, 0};
static const char *WORD[T] = {"<start>", "good", "odd,\"word\"", "<start>", "good", "bad", "zzqx"};
static const float SCORE[T] = {0.5f, 1.0f, 0.25f, 0.5f, -1.0f, 2.0f, 3.0f};
static const int32_t TARGET[N] = {1, 0, 1};

static void write_fixture(const char *path)
{
    int64_t index[N] = {4, 5, 6};
    int32_t id[N] = {40, 50, 60}, label[N] = {1, 0, -1}, rating[N] = {0, 0, 0};
    int32_t truncated[N] = {0, 312, 0};
    const char *doc[N] = {"a,1", "b \"2\"", "c3"};
    const char *classes[2] = {"neg", "pos"};
    int64_t woff[T + 1] = {0};
    char text[256] = "";
    for (int t = 0; t < T; t++) {
        strcat(text, WORD[t]);
        woff[t + 1] = (int64_t)strlen(text);
    }
    tk_method_params mp;
    tk_method_params_default(&mp, TK_METHOD_SALIENCY);
    snprintf(mp.name, sizeof mp.name, "sal");
    tk_writer_layout L = {.n = N,
                          .index = index,
                          .review_id = id,
                          .label = label,
                          .rating = rating,
                          .token_offset = OFF,
                          .token_id = TOK,
                          .word_pos = POS,
                          .n_classes = C,
                          .n_methods = 1,
                          .methods = &mp,
                          .token_word_offset = woff,
                          .token_word_text = text,
                          .doc_id = doc,
                          .truncated = truncated,
                          .n_class_names = 2,
                          .class_names = classes,
                          .pad_id = 0,
                          .start_id = 1,
                          .oov_id = 2};
    tk_writer_meta meta = {.job_yaml = "j", .model_sha256 = "m", .dataset_sha256 = "d", .ranks = 1};
    tk_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_writer_create(path, &L, &meta, &w, &err), TK_OK);
    tk_chunk_result r;
    CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc(&r, N, T, C, 1, &err), TK_OK);
    r.first = 0;
    r.count = N;
    r.tc = T;
    for (int i = 0; i < N; i++) {
        r.prob[i * C] = 0.25f;
        r.prob[i * C + 1] = 0.75f;
        r.predicted[i] = 1;
        r.target[i] = TARGET[i];
        r.padding_score[i] = 0;
        r.axiom_error[i] = 0;
        r.f_input[i] = 0.75;
        r.f_baseline[i] = 0;
    }
    memcpy(r.score, SCORE, sizeof SCORE);
    CU_ASSERT_EQUAL(tk_writer_put(w, &r, &err), TK_OK);
    tk_chunk_result_free(&r);
    CU_ASSERT_EQUAL(tk_writer_close(w, true, &err), TK_OK);
}

static tk_results *load_fixture(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/words.h5", tk_test_tmpdir());
    write_fixture(path);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_results_load(path, &r, &err), TK_OK);
    if (!r)
        fprintf(stderr, "%s\n", err.msg);
    return r;
}

static void test_words_roundtrip(void)
{
    tk_results *r = load_fixture();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->token_word.n, T);
    char buf[32];
    for (int t = 0; t < T; t++)
        CU_ASSERT_STRING_EQUAL(tk_results_token_word(r, t, buf, sizeof buf), WORD[t]);
    CU_ASSERT_EQUAL_FATAL(r->doc_id.n, N);
    CU_ASSERT_STRING_EQUAL(r->doc_id.s[1], "b \"2\"");
    CU_ASSERT_EQUAL_FATAL(r->class_name.n, 2);
    CU_ASSERT_STRING_EQUAL(tk_results_class_name(r, 1, buf, sizeof buf), "pos");
    CU_ASSERT_STRING_EQUAL(tk_results_class_name(r, 5, buf, sizeof buf), "5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->truncated);
    CU_ASSERT_EQUAL(r->truncated[1], 312);
    CU_ASSERT_FALSE(r->truncating_post);
    CU_ASSERT_EQUAL(r->oov_id, 2);
    CU_ASSERT_TRUE(tk_results_token_is_oov(r, 6));
    CU_ASSERT_FALSE(tk_results_token_is_oov(r, 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->index);
    CU_ASSERT_EQUAL(r->index[2], 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->methods[0].f_input);
    CU_ASSERT_DOUBLE_EQUAL(r->methods[0].f_input[0], 0.75, 0);
    int64_t n, correct, majority;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_results_accuracy(r->path, &n, &correct, &majority, &err), TK_OK);
    CU_ASSERT_EQUAL(n, 2);       /* review 2 is unlabelled */
    CU_ASSERT_EQUAL(correct, 1); /* predicted 1 everywhere, labels 1, 0 */
    CU_ASSERT_EQUAL(majority, 1);
    tk_results_destroy(r);
}

/* libcsv's reader collects the cells of the export back. */
typedef struct cells {
    char cell[64][40][64];
    int rows, col;
} cells;

static void on_field(void *s, size_t len, void *data)
{
    cells *c = data;
    if (c->rows < 64 && c->col < 40) {
        size_t n = len < 63 ? len : 63;
        memcpy(c->cell[c->rows][c->col], s, n);
        c->cell[c->rows][c->col][n] = '\0';
    }
    c->col++;
}

static void on_row(int ch, void *data)
{
    (void)ch;
    cells *c = data;
    c->rows++;
    c->col = 0;
}

static char *export_to_string(tk_status (*fn)(const tk_results *, tk_export_format, FILE *,
                                              tk_error *),
                              const tk_results *r, tk_export_format f)
{
    char *text = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&text, &size);
    tk_error err = {0};
    CU_ASSERT_EQUAL(fn(r, f, m, &err), TK_OK);
    fclose(m);
    return text;
}

static int column(const cells *c, const char *name)
{
    for (int k = 0; k < 40; k++)
        if (strcmp(c->cell[0][k], name) == 0)
            return k;
    return -1;
}

static void test_tokens_csv(void)
{
    tk_results *r = load_fixture();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    char *text = export_to_string(tk_export_tokens, r, TK_EXPORT_CSV);
    struct csv_parser p;
    CU_ASSERT_EQUAL_FATAL(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
    static cells c;
    memset(&c, 0, sizeof c);
    CU_ASSERT_EQUAL(csv_parse(&p, text, strlen(text), on_field, on_row, &c), strlen(text));
    CU_ASSERT_EQUAL(csv_fini(&p, on_field, on_row, &c), 0);
    csv_free(&p);
    CU_ASSERT_EQUAL(c.rows, T + 1);
    int word = column(&c, "word"), sal = column(&c, "sal"), doc = column(&c, "doc_id");
    int oov = column(&c, "oov");
    CU_ASSERT_FATAL(word >= 0 && sal >= 0 && doc >= 0 && oov >= 0);
    for (int t = 0; t < T; t++) {
        CU_ASSERT_STRING_EQUAL(c.cell[t + 1][word], WORD[t]);
        CU_ASSERT_EQUAL(strtof(c.cell[t + 1][sal], NULL), SCORE[t]);
    }
    CU_ASSERT_STRING_EQUAL(c.cell[4][doc], "b \"2\"");
    CU_ASSERT_STRING_EQUAL(c.cell[7][oov], "1");
    free(text);

    text = export_to_string(tk_export_reviews, r, TK_EXPORT_CSV);
    CU_ASSERT_EQUAL_FATAL(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
    memset(&c, 0, sizeof c);
    csv_parse(&p, text, strlen(text), on_field, on_row, &c);
    csv_fini(&p, on_field, on_row, &c);
    csv_free(&p);
    CU_ASSERT_EQUAL(c.rows, N + 1);
    int pp = column(&c, "prob_pos"), tr = column(&c, "truncated"), tg = column(&c, "sal_target");
    CU_ASSERT_FATAL(pp >= 0 && tr >= 0 && tg >= 0);
    CU_ASSERT_STRING_EQUAL(c.cell[2][tr], "312");
    CU_ASSERT_STRING_EQUAL(c.cell[2][tg], "0");
    CU_ASSERT_DOUBLE_EQUAL(strtod(c.cell[1][pp], NULL), 0.75, 0);
    free(text);
    tk_results_destroy(r);
}

/* Every JSONL line parses with cJSON and gives back the word. */
static void test_tokens_jsonl(void)
{
    tk_results *r = load_fixture();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    char *text = export_to_string(tk_export_tokens, r, TK_EXPORT_JSONL);
    int lines = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), lines++) {
        cJSON *o = cJSON_Parse(line);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        const cJSON *w = cJSON_GetObjectItem(o, "word");
        CU_ASSERT_TRUE(cJSON_IsString(w));
        if (lines < T && cJSON_IsString(w))
            CU_ASSERT_STRING_EQUAL(w->valuestring, WORD[lines]);
        CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(o, "sal")->valuedouble, SCORE[lines], 0);
        cJSON_Delete(o);
    }
    CU_ASSERT_EQUAL(lines, T);
    free(text);

    const char *nasty = "q\"b\\s\n\t\x01 caf\xc3\xa9";
    char *js = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&js, &size);
    tk_export_json_string(m, nasty);
    fclose(m);
    cJSON *v = cJSON_Parse(js);
    CU_ASSERT_TRUE_FATAL(cJSON_IsString(v));
    CU_ASSERT_STRING_EQUAL(v->valuestring, nasty);
    cJSON_Delete(v);
    free(js);
    tk_results_destroy(r);
}

/* Toward pos: review 0 (target pos) counts as is, review 1 (target neg)
 * flipped. good: +1 and -(-1) -> mean 1, both +1 so the interval is 0
 * wide; bad: -2; odd,word: 0.25; zzqx: 3 (an OOV word as itself). The
 * start marker is not a word. Toward neg, everything flips. */
static void test_oriented_words(void)
{
    tk_results *r = load_fixture();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    tk_oriented_word *w = NULL;
    int64_t n = 0;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_export_oriented_words(r, 0, 1, 1, &w, &n, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_STRING_EQUAL(w[0].word, "zzqx");
    CU_ASSERT_DOUBLE_EQUAL(w[0].mean, 3.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(w[1].word, "good");
    CU_ASSERT_EQUAL(w[1].count, 2);
    CU_ASSERT_DOUBLE_EQUAL(w[1].mean, 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(w[1].ci_low, 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(w[1].ci_high, 1.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(w[3].word, "bad");
    CU_ASSERT_DOUBLE_EQUAL(w[3].mean, -2.0, 1e-12);
    free(w);
    CU_ASSERT_EQUAL_FATAL(tk_export_oriented_words(r, 0, 0, 2, &w, &n, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1); /* min count 2: only good */
    CU_ASSERT_STRING_EQUAL(w[0].word, "good");
    CU_ASSERT_DOUBLE_EQUAL(w[0].mean, -1.0, 1e-12);
    free(w);
    CU_ASSERT_NOT_EQUAL(tk_export_oriented_words(r, 3, 0, 1, &w, &n, &err), TK_OK);
    tk_results_destroy(r);
}

static void test_csv_field(void)
{
    const char *in[] = {"plain", "a,b", "say \"hi\"", " lead", "line\nbreak", ""};
    const char *want[] = {"plain", "\"a,b\"", "\"say \"\"hi\"\"\"", "\" lead\"", "\"line\nbreak\"",
                          ""};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *s = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&s, &size);
        tk_export_csv_field(m, in[i]);
        fclose(m);
        CU_ASSERT_STRING_EQUAL(s, want[i]);
        free(s);
    }
    tk_export_format f;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_export_format_parse("jsonl", &f, &err), TK_OK);
    CU_ASSERT_EQUAL(f, TK_EXPORT_JSONL);
    CU_ASSERT_NOT_EQUAL(tk_export_format_parse("xlsx", &f, &err), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "xlsx"));
}

/* A results file from before the words: the words come from /vocab/word
 * and the ids, nothing else breaks. */
static void test_old_file(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/old.h5", tk_test_tmpdir());
    write_fixture(path);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    CU_ASSERT(H5Ldelete(f, TK_RS_TOKEN_WORD_OFFSET, H5P_DEFAULT) >= 0);
    CU_ASSERT(H5Ldelete(f, TK_RS_TOKEN_WORD_TEXT, H5P_DEFAULT) >= 0);
    CU_ASSERT(H5Ldelete(f, TK_RS_REVIEW_DOC_ID, H5P_DEFAULT) >= 0);
    CU_ASSERT(H5Ldelete(f, TK_RS_CLASSES, H5P_DEFAULT) >= 0);
    H5Fclose(f);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_results_load(path, &r, &err), TK_OK);
    char buf[32];
    CU_ASSERT_PTR_NULL(r->token_word.s);
    CU_ASSERT_STRING_EQUAL(tk_results_token_word(r, 0, buf, sizeof buf), "<start>");
    CU_ASSERT_STRING_EQUAL(tk_results_token_word(r, 6, buf, sizeof buf), "<oov>");
    CU_ASSERT_STRING_EQUAL(tk_results_class_name(r, 1, buf, sizeof buf), "1");
    tk_results_destroy(r);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    static const tk_test_case cases[] = {{"words_roundtrip", test_words_roundtrip},
                                         {"tokens_csv", test_tokens_csv},
                                         {"tokens_jsonl", test_tokens_jsonl},
                                         {"oriented_words", test_oriented_words},
                                         {"csv_field", test_csv_field},
                                         {"old_file", test_old_file},
                                         {NULL, NULL}};
    tk_test_add_suite("export", cases);
    return tk_test_run_all();
}
