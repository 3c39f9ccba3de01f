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


static tk_status words_table(const tk_results *r, const tk_report_options *o, table_sink *s)
{
    char cb[32], wb[32];
    if (!s->json)
        fputs("method,predicted_class,class_name,word,id,count,total,mean,rank_mean,rank_total\n", s->csv);
    for (int m = 0; m < r->n_methods; m++)
        for (int c = 0; c < tk_results_n_classes(r); c++) {
            tk_word_stat *w;
            int64_t n;
            tk_status st = tk_report_word_table(r, m, c, o->min_count, &w, &n, s->err);
            if (st != TK_OK)
                return st;
            /* Ranks by total, looked up by id after re-sorting by mean. */
            tk_report_sort_words(w, n, true);
            int32_t max_id = 0;
            for (int64_t j = 0; j < n; j++)
                max_id = w[j].id > max_id ? w[j].id : max_id;
            int64_t *by_id = tk_calloc((size_t)max_id + 1, sizeof *by_id, s->err); /* (max_id + 1) */
            if (by_id == NULL) {
                free(w);
                return TK_E_NOMEM;
            }
            for (int64_t j = 0; j < n; j++)
                by_id[w[j].id] = j + 1;
            tk_report_sort_words(w, n, false);
            const char *cname = tk_report_class_name(r, c, cb, sizeof cb);
            for (int64_t j = 0; j < n; j++) {
                const char *word = tk_results_word(r, w[j].id, wb, sizeof wb);
                char *clean = tk_utf8_sanitize(word, s->err);
                if (clean == NULL) {
                    st = TK_E_NOMEM;
                    break;
                }
                if (s->json) {
                    cJSON *rec = cJSON_CreateObject();
                    if (rec == NULL || !cJSON_AddItemToArray(s->array, rec)) {
                        cJSON_Delete(rec);
                        free(clean);
                        st = tk_error_set(s->err, TK_E_NOMEM, "out of memory building JSON");
                        break;
                    }
                    cJSON_AddStringToObject(rec, "method", r->methods[m].name);
                    cJSON_AddNumberToObject(rec, "predicted_class", c);
                    cJSON_AddStringToObject(rec, "class_name", cname);
                    cJSON_AddStringToObject(rec, "word", clean);
                    cJSON_AddNumberToObject(rec, "id", w[j].id);
                    cJSON_AddNumberToObject(rec, "count", (double)w[j].count);
                    add_number(rec, "total", w[j].total);
                    add_number(rec, "mean", w[j].mean);
                    cJSON_AddNumberToObject(rec, "rank_mean", (double)(j + 1));
                    cJSON_AddNumberToObject(rec, "rank_total", (double)by_id[w[j].id]);
                } else {
                    tk_csv_field(s->csv, r->methods[m].name);
                    fprintf(s->csv, ",%d,%s,", c, cname);
                    tk_csv_field(s->csv, clean);
                    fprintf(s->csv, ",%" PRId32 ",%" PRId64 ",", w[j].id, w[j].count);
                    csv_number(s->csv, w[j].total, false);
                    csv_number(s->csv, w[j].mean, false);
                    fprintf(s->csv, "%" PRId64 ",%" PRId64 "\n", j + 1, by_id[w[j].id]);
                }
                free(clean);
            }
            free(by_id);
            free(w);
            if (st != TK_OK)
                return st;
        }
    return TK_OK;
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
