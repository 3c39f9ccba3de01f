/* report: reading results files defensively, escaping hostile text, the
 * dataset-wide word tables (a planted token must rank first), Spearman
 * against a brute-force definition, JSON/CSV tables.
 *
 * `test_report --write-fake PATH N [hostile] [faith]` writes a synthetic
 * results file for the integration scripts (chromium, speed). */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "model/build.h"
#include "report/aggregate.h"
#include "report/faith_compute.h"
#include "report/escape.h"
#include "report/export.h"
#include "report/report.h"
#include "report/results.h"
#include "support/fake_results.h"
#include "support/testutil.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static bool valid_utf8(const char *s, size_t n)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (n > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)n, &cp);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static const char *tmp_path(const char *name)
{
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", tk_test_tmpdir(), name);
    return b;
}

static void test_escape(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    tk_html_escape(f, TK_FAKE_HOSTILE_WORD);
    fclose(f);
    CU_ASSERT_PTR_NULL(strstr(out, "<"));
    CU_ASSERT_PTR_NULL(strstr(out, ">"));
    CU_ASSERT_PTR_NULL(strstr(out, "\""));
    CU_ASSERT_PTR_NULL(strstr(out, "'"));
    CU_ASSERT_STRING_EQUAL(out, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;&quot;q&quot;"
                                "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CU_ASSERT(valid_utf8(out, len));
    free(out);

    /* Valid multi-byte text passes unchanged; a truncated sequence does not. */
    char *s = tk_utf8_sanitize("caf\xc3\xa9 \xe2\x80\x94 ok \xe2\x80", NULL);
    CU_ASSERT_STRING_EQUAL(s, "caf\xc3\xa9 \xe2\x80\x94 ok \xEF\xBF\xBD\xEF\xBF\xBD");
    free(s);

    f = open_memstream(&out, &len);
    tk_csv_field(f, "a,\"b\"");
    fputc('|', f);
    tk_csv_field(f, "plain");
    fclose(f);
    CU_ASSERT_STRING_EQUAL(out, "\"a,\"\"b\"\"\"|plain");
    free(out);
}

/* Spearman from its definition: ranks by counting (average for ties),
 * then Pearson; O(n^2), independent of the sort-based code. */
static double brute_spearman(const float *a, const float *b, int n)
{
    double ra[64], rb[64];
    for (int i = 0; i < n; i++) {
        int la = 0, ea = 0, lb = 0, eb = 0;
        for (int j = 0; j < n; j++) {
            la += a[j] < a[i];
            ea += a[j] == a[i];
            lb += b[j] < b[i];
            eb += b[j] == b[i];
        }
        ra[i] = la + (ea + 1) / 2.0;
        rb[i] = lb + (eb + 1) / 2.0;
    }
    double ma = 0, mb = 0;
    for (int i = 0; i < n; i++) {
        ma += ra[i] / n;
        mb += rb[i] / n;
    }
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

static void test_spearman(void)
{
    double scratch[4 * 64];
    float a[64], b[64];
    for (int i = 0; i < 10; i++) {
        a[i] = (float)i;
        b[i] = (float)(100 - i * i);
    }
    CU_ASSERT_DOUBLE_EQUAL(tk_report_spearman(a, a, 10, scratch), 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(tk_report_spearman(a, b, 10, scratch), -1.0, 1e-12);
    CU_ASSERT(isnan(tk_report_spearman(a, a, 1, scratch)));
    for (int i = 0; i < 10; i++)
        b[i] = 3.0f;
    CU_ASSERT(isnan(tk_report_spearman(a, b, 10, scratch)));
    srand(3);
    for (int trial = 0; trial < 50; trial++) {
        int n = 2 + rand() % 60;
        for (int i = 0; i < n; i++) {
            a[i] = (float)(rand() % 7); /* many ties */
            b[i] = (float)(rand() % 5) + 0.1f * a[i];
        }
        double want = brute_spearman(a, b, n);
        double got = tk_report_spearman(a, b, n, scratch);
        if (isnan(want)) {
            CU_ASSERT(isnan(got));
        } else {
            CU_ASSERT_DOUBLE_EQUAL(got, want, 1e-9);
        }
    }
}

/* The all-pairs agreement (ranks computed once per method) equals the
 * pairwise function built on tk_report_spearman. */
static void test_agreement_all(void)
{
    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    sp.n_methods = 4;
    sp.partial = true;
    const char *path = tmp_path("agree.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    double *all = malloc(sizeof(double) * 6 * (size_t)r->n), *one = malloc(sizeof(double) * (size_t)r->n);
    CU_ASSERT_FATAL(tk_report_agreement_all(r, all, &err) == TK_OK);
    int p = 0, nan_seen = 0, n_val = 0;
    double mean = 0;
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++, p++) {
            CU_ASSERT_FATAL(tk_report_agreement(r, a, b, one, &err) == TK_OK);
            for (int64_t i = 0; i < r->n; i++) {
                double x = all[p * r->n + i];
                if (isnan(one[i])) {
                    CU_ASSERT(isnan(x));
                    nan_seen++;
                } else {
                    CU_ASSERT_DOUBLE_EQUAL(x, one[i], 1e-12);
                    mean += x;
                    n_val++;
                }
            }
        }
    CU_ASSERT(nan_seen > 0); /* reviews not done have no value */
    CU_ASSERT(mean / n_val > 0.6); /* the fake methods share a common score */
    free(all);
    free(one);
    tk_results_destroy(r);
}

/* Brute force over the file's arrays, independent of export.c: the mean
 * oriented score of the word `word` toward cls (sign +1 where the review's
 * target is cls, -1 elsewhere: a binary file) and its count. */
static double brute_oriented_mean(const tk_results *r, int m, int cls, const char *word, int64_t *count)
{
    double sum = 0;
    *count = 0;
    char buf[32];
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->done[i])
            continue;
        double sign = r->target[i] == cls ? 1 : -1;
        for (int64_t t = r->token_offset[i]; t < r->token_offset[i + 1]; t++)
            if (r->word_pos[t] >= 0 && strcmp(tk_results_token_word(r, t, buf, sizeof buf), word) == 0) {
                sum += sign * r->methods[m].score[t];
                (*count)++;
            }
    }
    return *count ? sum / (double)*count : NAN;
}

/* The k reviews where word weighs most toward cls, by brute force: each
 * review's largest oriented score of the word, descending, ties by row. */
static void brute_top_reviews(const tk_results *r, int m, int cls, const char *word, int k, int64_t *out)
{
    double *best = malloc(sizeof(double) * (size_t)r->n);
    char buf[32];
    for (int64_t i = 0; i < r->n; i++) {
        best[i] = -INFINITY;
        double sign = r->target[i] == cls ? 1 : -1;
        for (int64_t t = r->token_offset[i]; t < r->token_offset[i + 1] && r->done[i]; t++)
            if (r->word_pos[t] >= 0 && strcmp(tk_results_token_word(r, t, buf, sizeof buf), word) == 0)
                best[i] = fmax(best[i], sign * r->methods[m].score[t]);
    }
    for (int q = 0; q < k; q++) {
        int64_t at = -1;
        for (int64_t i = 0; i < r->n; i++)
            if (best[i] > -INFINITY && (at < 0 || best[i] > best[at]))
                at = i;
        out[q] = at;
        if (at >= 0)
            best[at] = -INFINITY;
    }
    free(best);
}

static void test_planted_token_ranks_first(void)
{
    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    sp.n_reviews = 300;
    sp.planted_id = 17;
    sp.planted_score = 1.5f; /* above the others' |score| <= 1.5 only on average */
    sp.planted_class = 1;    /* evidence for class 1: +1.5 where it is the target, -1.5 elsewhere */
    const char *path = tmp_path("planted.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    CU_ASSERT_EQUAL(r->n, 300);
    CU_ASSERT_EQUAL(r->n_methods, 3);
    tk_word_index *x = NULL;
    CU_ASSERT_FATAL(tk_word_index_create(r, &x, &err) == TK_OK);
    int n_target1 = 0;
    for (int64_t i = 0; i < r->n; i++)
        n_target1 += r->target[i] == 1;
    CU_ASSERT(n_target1 > 50 && n_target1 < 250); /* both targets occur: orientation matters */
    for (int m = 0; m < r->n_methods; m++)
        for (int c = 0; c < 2; c++) {
            tk_oriented_word *w;
            int64_t n;
            CU_ASSERT_FATAL(tk_word_index_rank(x, m, c, 20, &w, &n, &err) == TK_OK);
            CU_ASSERT_FATAL(n > 10);
            /* Toward class 1 the planted word is first with mean +1.5 over
             * every review; toward class 0 it is last with -1.5. */
            const tk_oriented_word *p = c == 1 ? &w[0] : &w[n - 1];
            CU_ASSERT_STRING_EQUAL(p->word, "w17");
            CU_ASSERT_DOUBLE_EQUAL(p->mean, c == 1 ? 1.5 : -1.5, 1e-6);
            CU_ASSERT_EQUAL(p->count, 300);
            CU_ASSERT_DOUBLE_EQUAL(p->ci_low, p->mean, 1e-6); /* no variance */
            for (int64_t j = 0; j < n; j++) {
                CU_ASSERT(w[j].count >= 20);
                CU_ASSERT(strcmp(w[j].word, "<start>") != 0 && strcmp(w[j].word, "<pad>") != 0);
                CU_ASSERT(j == 0 || w[j - 1].mean >= w[j].mean);
                CU_ASSERT(w[j].ci_low <= w[j].mean && w[j].mean <= w[j].ci_high);
            }
            /* Two other words against the brute-force definition. */
            for (int64_t j = 1; j <= 2; j++) {
                int64_t cnt;
                double mean = brute_oriented_mean(r, m, c, w[j].word, &cnt);
                CU_ASSERT_EQUAL(cnt, w[j].count);
                CU_ASSERT_DOUBLE_EQUAL(w[j].mean, mean, 1e-9);
            }
            /* The reviews where the 2nd and 3rd words weigh most. */
            int64_t top[2 * 5], want[5];
            CU_ASSERT_FATAL(tk_word_index_top_reviews(x, m, c, w + 1, 2, 5, top, &err) == TK_OK);
            for (int j = 0; j < 2; j++) {
                brute_top_reviews(r, m, c, w[1 + j].word, 5, want);
                for (int q = 0; q < 5; q++)
                    CU_ASSERT_EQUAL(top[j * 5 + q], want[q]);
            }
            free(w);
        }
    tk_word_index_destroy(x);

    /* The same ranking through --format json, as pandas would read it. */
    tk_report_options o;
    tk_report_options_default(&o);
    CU_ASSERT_EQUAL(o.min_count, 20);
    o.format = TK_REPORT_JSON;
    const char *dir = tmp_path("planted_json");
    CU_ASSERT_FATAL(tk_report_write(r, dir, &o, &err) == TK_OK);
    char p[1200];
    snprintf(p, sizeof p, "%s/words.json", dir);
    char *text = slurp(p, NULL);
    CU_ASSERT_FATAL(text != NULL);
    cJSON *arr = cJSON_Parse(text);
    CU_ASSERT_FATAL(cJSON_IsArray(arr));
    int firsts = 0;
    cJSON *rec;
    cJSON_ArrayForEach(rec, arr) {
        CU_ASSERT(cJSON_GetObjectItem(rec, "count")->valuedouble >= 20);
        if (cJSON_GetObjectItem(rec, "rank")->valuedouble == 1 &&
            cJSON_GetObjectItem(rec, "class")->valuedouble == 1) {
            firsts++;
            CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(rec, "word")->valuestring, "w17");
            CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(rec, "class_name")->valuestring, "positive");
        }
    }
    CU_ASSERT_EQUAL(firsts, 3); /* 3 methods */
    cJSON_Delete(arr);
    free(text);
    o.format = TK_REPORT_CSV;
    CU_ASSERT_FATAL(tk_report_write(r, dir, &o, &err) == TK_OK);
    snprintf(p, sizeof p, "%s/words.csv", dir);
    text = slurp(p, NULL);
    CU_ASSERT_FATAL(text != NULL);
    CU_ASSERT(strncmp(text, "method,class,class_name,rank,word,count,mean,ci_low,ci_high\n", 60) == 0);
    CU_ASSERT(strstr(text, "\nm0,1,positive,1,w17,300,1.5,1.5,1.5\n") != NULL);
    free(text);

    /* The page: its word table for m0 toward positive starts with w17,
     * shows the minimum count, and links w17 to its reviews' pages. */
    o.format = TK_REPORT_HTML;
    const char *hdir = tmp_path("planted_html");
    CU_ASSERT_FATAL(tk_report_write(r, hdir, &o, &err) == TK_OK);
    snprintf(p, sizeof p, "%s/index.html", hdir);
    text = slurp(p, NULL);
    CU_ASSERT_FATAL(text != NULL);
    const char *t01 = strstr(text, "id=\"t-words-0-1\"");
    CU_ASSERT_FATAL(t01 != NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "at least 20 occurrences"));
    CU_ASSERT(strncmp(strstr(t01, "<tbody>"), "<tbody><tr data-w=\"w17\"", 23) == 0);
    /* every review has the planted word at +1.5: ties keep the first rows */
    CU_ASSERT_PTR_NOT_NULL(strstr(t01, "<a href=\"reviews/r0.html\">1000</a> <a href=\"reviews/r1.html\">1007</a>"));
    free(text);
    snprintf(p, sizeof p, "%s/reviews/r0.html", hdir);
    text = slurp(p, NULL);
    CU_ASSERT_FATAL(text != NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"w17\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "href=\"../index.html\""));
    free(text);
    tk_results_destroy(r);
}

/* page holds exactly two <script elements in any letter case (the JSON
 * one with id `id`, and the code), the JSON has no "</", "<!--" or raw
 * U+2028/9 and parses, and the hostile words are in it exactly. */
static void check_script_json(char *page, const char *id, bool index)
{
    size_t len = strlen(page);
    char *low = malloc(len + 1);
    for (size_t i = 0; i <= len; i++)
        low[i] = (char)((page[i] >= 'A' && page[i] <= 'Z') ? page[i] + 32 : page[i]);
    int n_open = 0, n_close = 0;
    for (const char *q = low; (q = strstr(q, "<script")) != NULL; q++)
        n_open++;
    for (const char *q = low; (q = strstr(q, "</script")) != NULL; q++)
        n_close++;
    CU_ASSERT_EQUAL(n_open, 2);
    CU_ASSERT_EQUAL(n_close, 2);
    free(low);
    char head[96];
    snprintf(head, sizeof head, "<script type=\"application/json\" id=\"%s\">", id);
    char *a = strstr(page, head);
    CU_ASSERT_FATAL(a != NULL);
    a += strlen(head);
    char *b = strstr(a, "</script>");
    CU_ASSERT_FATAL(b != NULL);
    *b = '\0';
    CU_ASSERT_PTR_NULL(strstr(a, "<"));
    CU_ASSERT_PTR_NULL(strstr(a, "\xe2\x80\xa8"));
    CU_ASSERT_PTR_NULL(strstr(a, "\xe2\x80\xa9"));
    cJSON *j = cJSON_Parse(a);
    CU_ASSERT_FATAL(j != NULL);
    char *w1 = tk_utf8_sanitize(TK_FAKE_HOSTILE_WORD, NULL), *w2 = tk_utf8_sanitize(TK_FAKE_SCRIPT_WORD, NULL);
    CU_ASSERT_STRING_EQUAL(w2, TK_FAKE_SCRIPT_WORD); /* nothing in it to replace */
    if (index) {
        cJSON *words = cJSON_GetObjectItem(j, "words");
        CU_ASSERT(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(words, w1)));
        CU_ASSERT(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(words, w2)));
    } else {
        bool seen1 = false, seen2 = false;
        cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItem(j, "w")) {
            seen1 = seen1 || strcmp(w->valuestring, w1) == 0;
            seen2 = seen2 || strcmp(w->valuestring, w2) == 0;
        }
        CU_ASSERT(seen1 && seen2);
        /* the hostile method name is in the method list as itself */
        bool named = false;
        cJSON_ArrayForEach(w, cJSON_GetObjectItem(j, "m"))
            named = named || strcmp(w->valuestring, "x<b>&\"'") == 0;
        CU_ASSERT(named);
    }
    free(w1);
    free(w2);
    cJSON_Delete(j);
    *b = '<';
}

/* A review page against the file's arrays: the model's outputs, the
 * method agreement matrix against the brute-force Spearman, the scores in
 * its JSON (round(1000 s / max|s|) with max|s| per method), the deletion
 * curves; and the index's axiom-error chart (share of reviews with
 * |error| <= 10^x: 0 at 1e-12, 1 at 100 for errors in [1e-6, 1e-2]). */
static void test_review_page(void)
{
    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    sp.n_reviews = 40;
    sp.min_len = 10;
    sp.max_len = 40; /* brute_spearman takes up to 64 tokens */
    sp.faithfulness = true;
    const char *path = tmp_path("page.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    tk_report_options o;
    tk_report_options_default(&o);
    const char *dir = tmp_path("page_html");
    CU_ASSERT_FATAL(tk_report_write(r, dir, &o, &err) == TK_OK);
    char p[1200];
    const int64_t i = 7;
    snprintf(p, sizeof p, "%s/reviews/r%d.html", dir, (int)i);
    char *page = slurp(p, NULL);
    CU_ASSERT_FATAL(page != NULL);
    char want[256];
    snprintf(want, sizeof want, "<h1>review %lld ", (long long)r->review_id[i]);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, want));
    snprintf(want, sizeof want, "<tr><th>p(positive)</th><td class=\"n\">%.6f</td></tr>", r->prob[2 * i + 1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "rel=\"prev\"") ? strstr(page, "href=\"r6.html\" rel=\"prev\"") : NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "href=\"r8.html\" rel=\"next\""));
    /* the agreement matrix, row by row */
    int64_t o0 = r->token_offset[i];
    int len = (int)(r->token_offset[i + 1] - o0);
    const char *at = strstr(page, "<table id=\"agreement\">");
    CU_ASSERT_FATAL(at != NULL);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            at = strstr(at, "<td class=\"n\"");
            CU_ASSERT_FATAL(at != NULL);
            at = strchr(at, '>') + 1;
            double got = strtod(at, NULL);
            double rho = a == b ? 1 : brute_spearman(r->methods[a].score + o0, r->methods[b].score + o0, len);
            CU_ASSERT_DOUBLE_EQUAL(got, rho, 5e-4);
        }
    /* the JSON scores */
    char *js = strstr(page, "id=\"tk-review\">");
    CU_ASSERT_FATAL(js != NULL);
    js += strlen("id=\"tk-review\">");
    char *end = strstr(js, "</script>");
    *end = '\0';
    cJSON *d = cJSON_Parse(js);
    CU_ASSERT_FATAL(d != NULL);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(d, "w")), len);
    for (int m = 0; m < 3; m++) {
        const float *sc = r->methods[m].score + o0;
        double mx = 0;
        for (int t = 0; t < len; t++)
            mx = fmax(mx, fabs(sc[t]));
        CU_ASSERT_DOUBLE_EQUAL(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "x"), m)->valuedouble, mx, 1e-5 * mx);
        CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "u"), m)->valuestring,
                               tk_results_method_output(&r->methods[m]));
        cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "s"), m);
        CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(q), len);
        for (int t = 0; t < len; t++)
            CU_ASSERT_EQUAL(cJSON_GetArrayItem(q, t)->valueint, (int)lround(1000 * sc[t] / mx));
    }
    cJSON_Delete(d);
    *end = '<';
    /* this review's deletion curves: 3 methods and the random order */
    at = strstr(page, "id=\"curves\"");
    CU_ASSERT_FATAL(at != NULL);
    int lines = 0;
    for (const char *q = at; (q = strstr(q, "<polyline")) != NULL && q < strstr(at, "</svg>"); q++)
        lines++;
    CU_ASSERT_EQUAL(lines, 4);
    free(page);

    snprintf(p, sizeof p, "%s/index.html", dir);
    page = slurp(p, NULL);
    CU_ASSERT_FATAL(page != NULL);
    at = strstr(page, "share of reviews with |error|");
    CU_ASSERT_FATAL(at != NULL);
    for (int m = 0; m < 3; m++) {
        at = strstr(at, "points=\"");
        CU_ASSERT_FATAL(at != NULL);
        at += 8;
        CU_ASSERT(strncmp(at, "58.0,184.0 ", 11) == 0); /* share 0 at x = -12 */
        const char *q = strchr(at, '"');
        CU_ASSERT(q - at > 20 && strncmp(q - 11, "408.0,24.0 ", 11) == 0); /* share 1 at x = 2 */
    }
    free(page);
    tk_results_destroy(r);
}

static void test_hostile_html(void)
{
    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    sp.hostile = true;
    sp.faithfulness = true;
    sp.partial = true;
    sp.min_len = 30; /* the hostile word (id 4 of 200) appears in shown reviews */
    sp.vocab_size = 12;
    const char *path = tmp_path("hostile.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    tk_report_options o;
    tk_report_options_default(&o);
    o.review_spec = "4"; /* row 4: not done, still shown, marked */
    o.min_count = 1;
    const char *dir = tmp_path("hostile_html");
    CU_ASSERT_FATAL(tk_report_write(r, dir, &o, &err) == TK_OK);
    char p[1200];
    snprintf(p, sizeof p, "%s/index.html", dir);
    size_t len;
    char *html = slurp(p, &len);
    CU_ASSERT_FATAL(html != NULL);
    CU_ASSERT(valid_utf8(html, len));
    CU_ASSERT_PTR_NULL(strstr(html, "<b>&"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;&quot;q&quot;\xEF\xBF\xBD"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "x&lt;b&gt;&amp;&quot;&#39;")); /* the method name */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<svg"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Faithfulness"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Method agreement"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "not done"));
    CU_ASSERT(strstr(html, "</html>") != NULL);
    /* Accuracy over done reviews only, computed here from the file's arrays. */
    int64_t right = 0, scored = 0;
    for (int64_t i = 0; i < r->n; i++)
        if (i % 5 != 4) {
            scored++;
            right += (r->prob[2 * i + 1] > r->prob[2 * i]) == (r->label[i] == 1);
        }
    char want[128];
    snprintf(want, sizeof want, "%.4f (%lld of %lld)", (double)right / scored, (long long)right, (long long)scored);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, want));
    /* The hostile words reach the embedded search index as JSON text that
     * cannot end the <script> element: exactly our two script elements,
     * no raw U+2028, and the words read back exactly (after U+FFFD). */
    check_script_json(html, "tk-index", true);
    free(html);
    snprintf(p, sizeof p, "%s/reviews/r0.html", dir);
    html = slurp(p, &len);
    CU_ASSERT_FATAL(html != NULL);
    CU_ASSERT(valid_utf8(html, len));
    check_script_json(html, "tk-review", false);
    free(html);

    /* An unknown --review id is an error and leaves no new file. */
    o.review_spec = "id:-5";
    const char *dir2 = tmp_path("hostile_bad");
    CU_ASSERT(tk_report_write(r, dir2, &o, &err) == TK_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "-5"));
    snprintf(p, sizeof p, "%s/index.html", dir2);
    CU_ASSERT(fopen(p, "r") == NULL);

    /* An id two reviews share is refused with both listed, as explain
     * --reviews does; the label picks one (data/selection.h). */
    char want_id[64];
    snprintf(want_id, sizeof want_id, "%lld", (long long)r->review_id[0]);
    r->review_id[1] = r->review_id[0];
    if (r->doc_id.n == r->n)
        r->doc_id.s[1] = r->doc_id.s[0];
    char spec[96];
    snprintf(spec, sizeof spec, "id:%s", r->doc_id.n == r->n ? r->doc_id.s[0] : want_id);
    o.review_spec = spec;
    const char *dir3 = tmp_path("hostile_ambiguous");
    memset(&err, 0, sizeof err);
    CU_ASSERT(tk_report_write(r, dir3, &o, &err) == TK_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ambiguous"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "index 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "index 1"));
    snprintf(p, sizeof p, "%s/index.html", dir3);
    CU_ASSERT(fopen(p, "r") == NULL);
    if (r->label[0] != r->label[1]) {
        char cls[32];
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "@label:%s",
                 tk_results_class_name(r, r->label[1], cls, sizeof cls));
        CU_ASSERT(tk_report_write(r, tmp_path("hostile_label"), &o, &err) == TK_OK);
    }
    tk_results_destroy(r);
}

static void test_faith_summary(void)
{
    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    sp.faithfulness = true;
    sp.n_methods = 2;
    const char *path = tmp_path("faith.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    for (int m = 0; m < 2; m++) {
        tk_faith_summary s;
        CU_ASSERT_FATAL(tk_report_faith_summary(r, m, &s, &err) == TK_OK);
        CU_ASSERT_EQUAL(s.k1, 11);
        /* The fake curve is F0 exp(-k (m+1)/4): AOPC = mean F0 (1 - mean_k exp(..)). */
        double f0 = 0, g = 0;
        for (int64_t i = 0; i < r->n; i++)
            f0 += tk_results_confidence(r, i) / (double)r->n;
        for (int k = 0; k < 11; k++)
            g += exp(-0.25 * k * (m + 1)) / 11;
        CU_ASSERT_DOUBLE_EQUAL(s.aopc, f0 * (1 - g), 1e-5);
        CU_ASSERT_DOUBLE_EQUAL(s.curve[0], f0, 1e-5);
        CU_ASSERT_DOUBLE_EQUAL(s.random_aopc, f0 * 0.05, 1e-5); /* mean of 0.01 k */
        CU_ASSERT_DOUBLE_EQUAL(s.comprehensiveness, 0.3 / (m + 1), 1e-6);
        tk_report_faith_summary_free(&s);
    }
    tk_results_destroy(r);
}

/* --faithfulness on a bag-of-words model F = z_target, z_c = (-1)^c 41 *
 * mean_t w[id_t], with each method's scores: rows outside the sample stay
 * NaN, sampled rows match tk_faith_review called directly. */
static void test_faith_compute(void)
{
    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    sp.n_methods = 2;
    sp.partial = true;
    const char *path = tmp_path("fc.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    tk_layer_spec specs[3];
    memset(specs, 0, sizeof specs);
    specs[0].kind = TK_LAYER_EMBEDDING;
    specs[0].input_dim = 200;
    specs[0].output_dim = 1;
    specs[1].kind = TK_LAYER_GLOBAL_AVG_POOL1D;
    specs[2].kind = TK_LAYER_DENSE;
    specs[2].units = 2;
    specs[2].activation = TK_ACT_LINEAR;
    tk_model *m = NULL;
    CU_ASSERT_FATAL(tk_model_build(specs, 3, 41, &m, &err) == TK_OK);
    for (int l = 0; l < m->n_layers; l++) {
        tk_layer *L = &m->layers[l];
        if (L->kind == TK_LAYER_EMBEDDING)
            for (int i = 0; i < 200; i++)
                L->embeddings[i] = (float)((i * 37) % 11) / 10.0f;
        if (L->kind == TK_LAYER_DENSE) {
            L->kernel[0] = 41.0f;
            L->kernel[1] = -41.0f;
            if (L->bias)
                L->bias[0] = L->bias[1] = 0.0f;
        }
    }
    tk_faith_params fp;
    tk_faith_params_default(&fp);
    fp.k_max = 5;
    CU_ASSERT_FATAL(tk_report_compute_faithfulness(r, m, &fp, 10, 3, &err) == TK_OK);
    tk_faith_workspace *ws = tk_faith_workspace_create(&fp, 41, &err);
    tk_faith_model_ctx *ctx = tk_faith_model_ctx_create(m, TK_OUTPUT_PROB, 64, 41, &err);
    int sampled = 0;
    for (int64_t i = 0; i < r->n; i++) {
        const tk_results_faith *f = r->methods[1].faith;
        CU_ASSERT_FATAL(f != NULL && f->k1 == 6);
        if (isnan(f->aopc[i]))
            continue;
        sampled++;
        CU_ASSERT(r->done[i]);
        int32_t ids[41] = {0};
        float score[41] = {0}, curve[6], rcurve[6];
        int64_t o = r->token_offset[i];
        int len = (int)(r->token_offset[i + 1] - o);
        for (int t = 0; t < len; t++) {
            ids[41 - len + t] = r->token_id[o + t];
            score[41 - len + t] = r->methods[1].score[o + t];
        }
        tk_faith_model_set_target(ctx, r->target[i]);
        tk_faith_result res = {.curve = curve, .random_curve = rcurve};
        CU_ASSERT_FATAL(tk_faith_review(ws, &fp, tk_faith_model_eval, ctx, ids, score, NULL, 41, (uint64_t)i,
                                        &res, &err) == TK_OK);
        CU_ASSERT_DOUBLE_EQUAL(f->aopc[i], res.aopc, 1e-5);
        CU_ASSERT_DOUBLE_EQUAL(f->sufficiency[i], res.sufficiency, 1e-5);
        for (int k = 0; k < 6; k++)
            CU_ASSERT_DOUBLE_EQUAL(f->random_curve[i * 6 + k], rcurve[k], 1e-6);
    }
    CU_ASSERT_EQUAL(sampled, 10);
    tk_faith_model_ctx_destroy(ctx);
    tk_faith_workspace_destroy(ws);
    tk_model_destroy(m);
    tk_results_destroy(r);
}

/* A single sigmoid column (the LSTM): two classes, p > 0.5 is positive. */
static void test_sigmoid_column(void)
{
    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    sp.n_classes = 1;
    const char *path = tmp_path("sigmoid.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    CU_ASSERT_EQUAL(r->c, 1);
    CU_ASSERT_EQUAL(tk_results_n_classes(r), 2);
    int64_t right = 0, scored;
    for (int64_t i = 0; i < r->n; i++) {
        int want = r->prob[i] > 0.5f;
        CU_ASSERT_EQUAL(tk_results_predicted(r, i), want);
        CU_ASSERT_DOUBLE_EQUAL(tk_results_confidence(r, i), want ? r->prob[i] : 1 - r->prob[i], 1e-7);
        right += want == r->label[i];
    }
    CU_ASSERT_DOUBLE_EQUAL(tk_report_accuracy(r, &scored), (double)right / (double)r->n, 1e-12);
    CU_ASSERT_EQUAL(scored, r->n);
    tk_report_options o;
    tk_report_options_default(&o);
    CU_ASSERT(tk_report_write(r, tmp_path("sigmoid_html"), &o, &err) == TK_OK);
    tk_results_destroy(r);
}

/* Copies src's first n bytes to dst (a truncated file, as a full disk or a
 * kill during the creation flush leaves it). */
static void copy_prefix(const char *src, const char *dst, long n)
{
    size_t len = 0;
    char *all = slurp(src, &len);
    CU_ASSERT_FATAL(all != NULL && (size_t)n <= len);
    FILE *f = fopen(dst, "wb");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fwrite(all, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    free(all);
}

/* Issue 20: a damaged results file is called damaged (and may be replaced
 * by --force, never resumed); anything else is not a results file. */
static void test_damaged_files(void)
{
    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    const char *good = tmp_path("whole.h5"), *cut = tmp_path("cut.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(good, &sp) == 0);
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_results_examine(good, &err), TK_RESULTS_READABLE);
    CU_ASSERT_EQUAL(tk_results_check_reuse(good, false, NULL), TK_OK);
    size_t len = 0;
    char *bytes = slurp(good, &len);
    CU_ASSERT_FATAL(bytes != NULL);
    /* where the writer's root attribute names end: cut after them, the file
     * still says whose it is */
    long named = -1;
    for (size_t i = 0; i + 12 <= len && named < 0; i++)
        if (memcmp(bytes + i, "model_sha256", 12) == 0)
            named = (long)i + 12;
    free(bytes);
    CU_ASSERT_FATAL(named > 0 && (size_t)named < len - 1);
    const long cuts[] = {named, (named + (long)len) / 2, (long)len - 1};
    for (int k = 0; k < 3; k++) {
        copy_prefix(good, cut, cuts[k]);
        tk_error_clear(&err);
        CU_ASSERT_EQUAL(tk_results_examine(cut, &err), TK_RESULTS_DAMAGED);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cut));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a damaged tokattr results file"));
        CU_ASSERT_PTR_NULL(strstr(err.msg, "not a tokattr results file"));
        CU_ASSERT_TRUE(tk_results_probe(cut)); /* --force replaces it */
        CU_ASSERT_EQUAL(tk_results_check_reuse(cut, true, NULL), TK_OK);
        tk_error_clear(&err);
        CU_ASSERT_EQUAL(tk_results_check_reuse(cut, false, &err), TK_E_FORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot be resumed"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--force"));
        CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
        tk_results *r = NULL;
        tk_error_clear(&err);
        CU_ASSERT_EQUAL(tk_results_load(cut, &r, &err), TK_E_FORMAT); /* report, export, inspect */
        CU_ASSERT_PTR_NULL(r);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cut));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a damaged tokattr results file"));
    }

    /* the layout there, a dataset short: what report, export and inspect
     * read says damaged, naming the dataset */
    hid_t h = H5Fopen(good, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT(H5Ldelete(h, "/reviews/label", H5P_DEFAULT) >= 0);
    hsize_t three = 3;
    hid_t sp3 = H5Screate_simple(1, &three, NULL);
    int32_t short_labels[3] = {0, 1, 0};
    hid_t dl = H5Dcreate2(h, "/reviews/label", H5T_NATIVE_INT32, sp3, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    H5Dwrite(dl, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, short_labels);
    H5Dclose(dl);
    H5Sclose(sp3);
    H5Fclose(h);
    tk_results *r = NULL;
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(tk_results_load(good, &r, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, good));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a damaged tokattr results file (dataset /reviews/label has 3"));

    /* the writer's attributes there, a required dataset gone: damaged too */
    h = H5Fopen(good, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT(H5Ldelete(h, "/attributions", H5P_DEFAULT) >= 0);
    H5Fclose(h);
    tk_error_clear(&err);
    CU_ASSERT_EQUAL(tk_results_examine(good, &err), TK_RESULTS_DAMAGED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/attributions is missing"));

    /* not results: empty, the first bytes only, text, and HDF5 files of
     * another kind, whole or cut */
    copy_prefix(cut, tmp_path("empty.h5"), 0);
    copy_prefix(cut, tmp_path("four.h5"), 4);
    const char *foreign = tmp_path("other.h5"), *foreign_cut = tmp_path("other_cut.h5");
    h = H5Fcreate(foreign, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = 100000;
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(h, "/reviews", H5T_NATIVE_INT32, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    int32_t *zero = calloc(n, sizeof *zero);
    H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, zero);
    free(zero);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(h);
    copy_prefix(foreign, foreign_cut, 200000);
    const char *const others[] = {tmp_path("empty.h5"), tmp_path("four.h5"), foreign, foreign_cut};
    for (int k = 0; k < 4; k++) {
        tk_error_clear(&err);
        CU_ASSERT_EQUAL(tk_results_examine(others[k], &err), TK_RESULTS_FOREIGN);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, others[k]));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a tokattr results file"));
        CU_ASSERT_FALSE(tk_results_probe(others[k])); /* --force never replaces it */
        CU_ASSERT_EQUAL(tk_results_check_reuse(others[k], false, NULL), TK_OK); /* left to outpath */
    }
    CU_ASSERT_EQUAL(tk_results_examine(tmp_path("absent.h5"), NULL), TK_RESULTS_ABSENT);
    CU_ASSERT_FALSE(tk_results_probe(tmp_path("absent.h5")));
}

static void test_bad_files(void)
{
    tk_results *r = NULL;
    tk_error err = {0};
    CU_ASSERT(tk_results_load(tmp_path("nope.h5"), &r, &err) == TK_E_IO);
    CU_ASSERT_PTR_NULL(r);

    const char *txt = tmp_path("text.h5");
    FILE *f = fopen(txt, "w");
    fputs("not hdf5", f);
    fclose(f);
    tk_error_clear(&err);
    CU_ASSERT(tk_results_load(txt, &r, &err) == TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "text.h5"));

    tk_fake_results_spec sp;
    tk_fake_results_default(&sp);
    static const char *const required[] = {"/tokens/id", "/reviews/token_offset", "/predictions/prob",
                                           "/reviews/label", "/attributions/m1/score"};
    for (int k = 0; k < 5; k++) {
        const char *path = tmp_path("missing.h5");
        CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
        hid_t h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        CU_ASSERT(H5Ldelete(h, required[k], H5P_DEFAULT) >= 0);
        H5Fclose(h);
        tk_error_clear(&err);
        CU_ASSERT(tk_results_load(path, &r, &err) == TK_E_FORMAT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, required[k]));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing.h5"));
    }

    /* Offsets that do not end at T. */
    const char *path = tmp_path("offsets.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    hid_t h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(h, "/reviews/token_offset", H5P_DEFAULT);
    int64_t off[61];
    H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, off);
    off[30] = off[31] + 1;
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, off);
    H5Dclose(d);
    H5Fclose(h);
    tk_error_clear(&err);
    CU_ASSERT(tk_results_load(path, &r, &err) == TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "token_offset"));

    /* NaN scores and probabilities, labels outside the classes: a report,
     * not a crash (the values are data, not structure). */
    path = tmp_path("nan.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    d = H5Dopen2(h, "/attributions/m0/score", H5P_DEFAULT);
    hid_t space = H5Dget_space(d);
    hssize_t nt = H5Sget_simple_extent_npoints(space);
    float *sc = malloc(sizeof(float) * (size_t)nt);
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, sc);
    for (hssize_t t = 0; t < nt; t += 3)
        sc[t] = NAN;
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, sc);
    free(sc);
    H5Sclose(space);
    H5Dclose(d);
    d = H5Dopen2(h, "/reviews/label", H5P_DEFAULT);
    int32_t lab[60];
    H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab);
    lab[0] = 7;
    lab[1] = -1;
    H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab);
    H5Dclose(d);
    d = H5Dopen2(h, "/predictions/prob", H5P_DEFAULT);
    float pr[120];
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, pr);
    pr[4] = pr[5] = NAN;
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, pr);
    H5Dclose(d);
    H5Fclose(h);
    tk_error_clear(&err);
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    tk_report_options on;
    tk_report_options_default(&on);
    on.n_random = 60;
    CU_ASSERT(tk_report_write(r, tmp_path("nan_html"), &on, &err) == TK_OK);
    on.format = TK_REPORT_JSON;
    CU_ASSERT(tk_report_write(r, tmp_path("nan_json"), &on, &err) == TK_OK);
    tk_results_destroy(r);

    /* Optional parts absent: still a report, words shown by id. */
    sp.omit_optional = true;
    path = tmp_path("minimal.h5");
    CU_ASSERT_FATAL(tk_fake_results_write(path, &sp) == 0);
    tk_error_clear(&err);
    CU_ASSERT_FATAL(tk_results_load(path, &r, &err) == TK_OK);
    CU_ASSERT_PTR_NULL(r->vocab);
    CU_ASSERT_PTR_NULL(r->rating);
    tk_report_options o;
    tk_report_options_default(&o);
    CU_ASSERT(tk_report_write(r, tmp_path("minimal_html"), &o, &err) == TK_OK);
    tk_results_destroy(r);
    tk_results_destroy(NULL);
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "--write-fake") == 0) {
        tk_fake_results_spec sp;
        tk_fake_results_default(&sp);
        sp.n_reviews = atoi(argv[3]);
        for (int i = 4; i < argc; i++) {
            sp.hostile |= strcmp(argv[i], "hostile") == 0;
            sp.faithfulness |= strcmp(argv[i], "faith") == 0;
            if (strcmp(argv[i], "imdb") == 0) { /* IMDB-sized reviews and vocabulary */
                sp.vocab_size = 20000;
                sp.min_len = 40;
                sp.max_len = 420;
            }
        }
        sp.planted_id = 9;
        sp.planted_class = 1; /* w9 leads the words toward class 1 */
        return tk_fake_results_write(argv[2], &sp) == 0 ? 0 : 1;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"escape", test_escape},
        {"spearman", test_spearman},
        {"agreement, all pairs", test_agreement_all},
        {"planted token ranks first", test_planted_token_ranks_first},
        {"hostile html", test_hostile_html},
        {"review page", test_review_page},
        {"faithfulness summary", test_faith_summary},
        {"bad files", test_bad_files},
        {"damaged results files", test_damaged_files},
        {"sigmoid column", test_sigmoid_column},
        {"faithfulness computed by the report", test_faith_compute},
        {NULL, NULL},
    };
    tk_test_add_suite("report", cases);
    return tk_test_run_all();
}
