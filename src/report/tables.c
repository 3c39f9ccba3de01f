/* --format json|csv: the dataset-wide tables as flat records for pandas
 * (pd.read_json(path) / pd.read_csv(path)). JSON goes through cJSON so that
 * every string is escaped by the library; text is made valid UTF-8 first. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/aggregate.h"
#include "report/escape.h"
#include "report/export.h"
#include "report/output.h"

typedef struct table_sink {
    bool json;
    cJSON *array;   /* json: the records */
    FILE *csv;      /* csv: the open file */
    tk_error *err;
    bool failed;
} table_sink;

static void add_number(cJSON *o, const char *k, double v)
{
    /* JSON has no NaN: absent values become null, which pandas reads as NaN. */
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void csv_number(FILE *f, double v, bool last)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    fputc(last ? '\n' : ',', f);
}


/* The oriented ranking (export.h, the same as `tokattr export --words` and
 * the page's word tables): method, class, class_name, rank, word, count,
 * mean, ci_low, ci_high. */
static tk_status words_table(const tk_results *r, const tk_report_options *o, table_sink *s)
{
    char cb[32];
    if (!s->json)
        fputs("method,class,class_name,rank,word,count,mean,ci_low,ci_high\n", s->csv);
    tk_word_index *x = NULL;
    tk_status st = tk_word_index_create(r, &x, s->err);
    for (int m = 0; m < r->n_methods && st == TK_OK; m++)
        for (int c = 0; c < tk_results_n_classes(r) && st == TK_OK; c++) {
            tk_oriented_word *w = NULL;
            int64_t n = 0;
            st = tk_word_index_rank(x, m, c, o->min_count, &w, &n, s->err);
            const char *cname = tk_report_class_name(r, c, cb, sizeof cb);
            for (int64_t j = 0; j < n && st == TK_OK; j++) {
                char *clean = tk_utf8_sanitize(w[j].word, s->err);
                if (clean == NULL) {
                    st = TK_E_NOMEM;
                    break;
                }
                if (s->json) {
                    cJSON *rec = cJSON_CreateObject();
                    if (rec == NULL || !cJSON_AddItemToArray(s->array, rec)) {
                        cJSON_Delete(rec);
                        st = tk_error_set(s->err, TK_E_NOMEM, "out of memory building JSON");
                    } else {
                        cJSON_AddStringToObject(rec, "method", r->methods[m].name);
                        cJSON_AddNumberToObject(rec, "class", c);
                        cJSON_AddStringToObject(rec, "class_name", cname);
                        cJSON_AddNumberToObject(rec, "rank", (double)(j + 1));
                        cJSON_AddStringToObject(rec, "word", clean);
                        cJSON_AddNumberToObject(rec, "count", (double)w[j].count);
                        add_number(rec, "mean", w[j].mean);
                        add_number(rec, "ci_low", w[j].ci_low);
                        add_number(rec, "ci_high", w[j].ci_high);
                    }
                } else {
                    tk_csv_field(s->csv, r->methods[m].name);
                    fprintf(s->csv, ",%d,", c);
                    tk_csv_field(s->csv, cname);
                    fprintf(s->csv, ",%" PRId64 ",", j + 1);
                    tk_csv_field(s->csv, clean);
                    fprintf(s->csv, ",%" PRId64 ",", w[j].count);
                    csv_number(s->csv, w[j].mean, false);
                    csv_number(s->csv, w[j].ci_low, false);
                    csv_number(s->csv, w[j].ci_high, true);
                }
                free(clean);
            }
            free(w);
        }
    tk_word_index_destroy(x);
    return st;
}

static tk_status agreement_table(const tk_results *r, table_sink *s)
{
    if (!s->json)
        fputs("method_a,method_b,review_id,spearman\n", s->csv);
    if (r->n_methods < 2)
        return TK_OK;
    int64_t n_pairs = (int64_t)r->n_methods * (r->n_methods - 1) / 2;
    double *rho = tk_malloc((size_t)n_pairs * (size_t)(r->n ? r->n : 1), sizeof *rho, s->err); /* (pairs, N) */
    if (rho == NULL)
        return TK_E_NOMEM;
    tk_status st = tk_report_agreement_all(r, rho, s->err);
    int64_t p = 0;
    for (int a = 0; a < r->n_methods && st == TK_OK; a++)
        for (int b = a + 1; b < r->n_methods && st == TK_OK; b++, p++) {
            for (int64_t i = 0; i < r->n && st == TK_OK; i++) {
                if (!r->done[i])
                    continue;
                double v = rho[p * r->n + i];
                if (s->json) {
                    cJSON *rec = cJSON_CreateObject();
                    if (rec == NULL || !cJSON_AddItemToArray(s->array, rec)) {
                        cJSON_Delete(rec);
                        st = tk_error_set(s->err, TK_E_NOMEM, "out of memory building JSON");
                        break;
                    }
                    cJSON_AddStringToObject(rec, "method_a", r->methods[a].name);
                    cJSON_AddStringToObject(rec, "method_b", r->methods[b].name);
                    cJSON_AddNumberToObject(rec, "review_id", (double)r->review_id[i]);
                    add_number(rec, "spearman", v);
                } else {
                    tk_csv_field(s->csv, r->methods[a].name);
                    fputc(',', s->csv);
                    tk_csv_field(s->csv, r->methods[b].name);
                    fprintf(s->csv, ",%" PRId64 ",", r->review_id[i]);
                    csv_number(s->csv, v, true);
                }
            }
        }
    free(rho);
    return st;
}

static tk_status faith_table(const tk_results *r, table_sink *s)
{
    if (!s->json)
        fputs("method,reviews,aopc,random_aopc,comprehensiveness,sufficiency\n", s->csv);
    for (int m = 0; m < r->n_methods; m++) {
        if (r->methods[m].faith == NULL)
            continue;
        tk_faith_summary f;
        tk_status st = tk_report_faith_summary(r, m, &f, s->err);
        if (st != TK_OK)
            return st;
        if (s->json) {
            cJSON *rec = cJSON_CreateObject();
            if (rec == NULL || !cJSON_AddItemToArray(s->array, rec)) {
                cJSON_Delete(rec);
                tk_report_faith_summary_free(&f);
                return tk_error_set(s->err, TK_E_NOMEM, "out of memory building JSON");
            }
            cJSON_AddStringToObject(rec, "method", r->methods[m].name);
            cJSON_AddNumberToObject(rec, "reviews", (double)f.n);
            add_number(rec, "aopc", f.aopc);
            add_number(rec, "random_aopc", f.random_aopc);
            add_number(rec, "comprehensiveness", f.comprehensiveness);
            add_number(rec, "sufficiency", f.sufficiency);
        } else {
            tk_csv_field(s->csv, r->methods[m].name);
            fprintf(s->csv, ",%" PRId64 ",", f.n);
            csv_number(s->csv, f.aopc, false);
            csv_number(s->csv, f.random_aopc, false);
            csv_number(s->csv, f.comprehensiveness, false);
            csv_number(s->csv, f.sufficiency, true);
        }
        tk_report_faith_summary_free(&f);
    }
    return TK_OK;
}

typedef tk_status (*table_fn)(const tk_results *r, const tk_report_options *o, table_sink *s);

static tk_status words_fn(const tk_results *r, const tk_report_options *o, table_sink *s)
{
    return words_table(r, o, s);
}

static tk_status agreement_fn(const tk_results *r, const tk_report_options *o, table_sink *s)
{
    (void)o;
    return agreement_table(r, s);
}

static tk_status faith_fn(const tk_results *r, const tk_report_options *o, table_sink *s)
{
    (void)o;
    return faith_table(r, s);
}

tk_status tk_report_write_tables(const tk_results *r, const char *dir, const tk_report_options *o,
                                 tk_error *err)
{
    static const char *const names[3] = {"words", "agreement", "faithfulness"};
    static const table_fn fns[3] = {words_fn, agreement_fn, faith_fn};
    bool json = o->format == TK_REPORT_JSON;
    for (int k = 0; k < 3; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", names[k], json ? "json" : "csv");
        tk_out_file f;
        tk_status st = tk_out_open(&f, dir, name, err);
        if (st != TK_OK)
            return st;
        table_sink s = {.json = json, .csv = f.f, .err = err};
        if (json && (s.array = cJSON_CreateArray()) == NULL)
            st = tk_error_set(err, TK_E_NOMEM, "out of memory building JSON");
        if (st == TK_OK)
            st = fns[k](r, o, &s);
        if (st == TK_OK && json) {
            char *text = cJSON_PrintUnformatted(s.array);
            if (text == NULL) {
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory printing JSON", f.final);
            } else {
                fputs(text, f.f);
                fputc('\n', f.f);
                cJSON_free(text);
            }
        }
        cJSON_Delete(s.array);
        if (st != TK_OK) {
            tk_out_abort(&f);
            return st;
        }
        if ((st = tk_out_commit(&f, err)) != TK_OK)
            return st;
    }
    return TK_OK;
}
