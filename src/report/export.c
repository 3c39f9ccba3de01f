/* Tables for pandas (export.h). */
#define _POSIX_C_SOURCE 200809L
#include "report/export.h"

#include <csv.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

tk_status tk_export_format_parse(const char *name, tk_export_format *f, tk_error *err)
{
    if (strcmp(name, "csv") == 0)
        *f = TK_EXPORT_CSV;
    else if (strcmp(name, "jsonl") == 0)
        *f = TK_EXPORT_JSONL;
    else
        return tk_error_set(err, TK_E_INVALID, "--format '%s': expected csv or jsonl", name);
    return TK_OK;
}

void tk_export_csv_field(FILE *out, const char *s)
{
    size_t n = strlen(s);
    bool quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (quote)
        csv_fwrite(out, s, n); /* libcsv: quotes the field and doubles its quotes */
    else
        fwrite(s, 1, n, out);
}

void tk_export_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* ---- one table, either format ------------------------------------------ */

/* A row under construction: CSV writes values in column order; JSONL needs
 * the column names, which are the header's. */
typedef struct table {
    FILE *out;
    tk_export_format f;
    const char **cols; /* (n_cols) names; JSONL keys */
    char **owned;      /* names built at run time, freed with the table */
    int n_cols, cap, col;
} table;

static tk_status table_col(table *t, const char *name, bool copy, tk_error *err)
{
    if (t->n_cols == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        const char **c = realloc(t->cols, (size_t)cap * sizeof *c);
        char **o = c ? realloc(t->owned, (size_t)cap * sizeof *o) : NULL;
        if (c)
            t->cols = c;
        if (!c || !o)
            return tk_error_set(err, TK_E_NOMEM, "export: out of memory");
        t->owned = o;
        t->cap = cap;
    }
    t->owned[t->n_cols] = NULL;
    if (copy) {
        t->owned[t->n_cols] = strdup(name);
        if (!t->owned[t->n_cols])
            return tk_error_set(err, TK_E_NOMEM, "export: out of memory");
        name = t->owned[t->n_cols];
    }
    t->cols[t->n_cols++] = name;
    return TK_OK;
}

static void table_free(table *t)
{
    for (int i = 0; i < t->n_cols; i++)
        free(t->owned[i]);
    free(t->owned);
    free(t->cols);
}

static void table_header(table *t)
{
    if (t->f != TK_EXPORT_CSV)
        return;
    for (int i = 0; i < t->n_cols; i++) {
        if (i)
            fputc(',', t->out);
        tk_export_csv_field(t->out, t->cols[i]);
    }
    fputc('\n', t->out);
}

/* Before each value: the separator and, in JSONL, the key. */
static void next(table *t)
{
    if (t->f == TK_EXPORT_CSV) {
        if (t->col > 0)
            fputc(',', t->out);
    } else {
        fputs(t->col > 0 ? ", " : "{", t->out);
        tk_export_json_string(t->out, t->cols[t->col]);
        fputs(": ", t->out);
    }
    t->col++;
}

static void end_row(table *t)
{
    if (t->f == TK_EXPORT_JSONL)
        fputc('}', t->out);
    fputc('\n', t->out);
    t->col = 0;
}

static void put_str(table *t, const char *s)
{
    next(t);
    if (t->f == TK_EXPORT_CSV)
        tk_export_csv_field(t->out, s);
    else
        tk_export_json_string(t->out, s);
}

static void put_int(table *t, int64_t v)
{
    next(t);
    fprintf(t->out, "%" PRId64, v);
}

/* digits: 9 round-trips a float32, 17 a float64. Not finite: empty in CSV
 * (pandas reads NaN), null in JSON. */
static void put_num(table *t, double v, int digits)
{
    next(t);
    if (isfinite(v))
        fprintf(t->out, "%.*g", digits, v);
    else if (t->f == TK_EXPORT_JSONL)
        fputs("null", t->out);
}

static tk_status check_written(FILE *out, tk_error *err)
{
    if (ferror(out))
        return tk_error_set(err, TK_E_IO, "export: writing the table failed");
    return TK_OK;
}

static const char *doc_id(const tk_results *r, int64_t i, char *buf, size_t size)
{
    if (r->doc_id.s)
        return r->doc_id.s[i];
    snprintf(buf, size, "%" PRId64, r->review_id[i]);
    return buf;
}

/* ---- the tables ---------------------------------------------------------- */

tk_status tk_export_tokens(const tk_results *r, tk_export_format f, FILE *out, tk_error *err)
{
    table t = {.out = out, .f = f};
    tk_status st = TK_OK;
    const char *fixed[] = {"review", "doc_id", "label", "position", "word", "token_id", "oov"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && st == TK_OK; i++)
        st = table_col(&t, fixed[i], false, err);
    for (int m = 0; m < r->n_methods && st == TK_OK; m++)
        st = table_col(&t, r->methods[m].name, false, err);
    if (st != TK_OK)
        goto done;
    table_header(&t);
    char ib[32], wb[32];
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->done[i])
            continue;
        const char *id = doc_id(r, i, ib, sizeof ib);
        for (int64_t k = r->token_offset[i]; k < r->token_offset[i + 1]; k++) {
            put_int(&t, i);
            put_str(&t, id);
            put_int(&t, r->label[i]);
            put_int(&t, r->word_pos ? r->word_pos[k] : k - r->token_offset[i]);
            put_str(&t, tk_results_token_word(r, k, wb, sizeof wb));
            put_int(&t, r->token_id[k]);
            put_int(&t, tk_results_token_is_oov(r, k));
            for (int m = 0; m < r->n_methods; m++)
                put_num(&t, r->methods[m].score[k], 9);
            end_row(&t);
        }
    }
    st = check_written(out, err);
done:
    table_free(&t);
    return st;
}

static int method_target(const tk_results *r, int m, int64_t i)
{
    if (r->methods[m].target)
        return r->methods[m].target[i];
    if (r->target)
        return r->target[i];
    return tk_results_predicted(r, i);
}

tk_status tk_export_reviews(const tk_results *r, tk_export_format f, FILE *out, tk_error *err)
{
    table t = {.out = out, .f = f};
    tk_status st = TK_OK;
    const char *fixed[] = {"review", "index", "doc_id", "label", "predicted"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && st == TK_OK; i++)
        st = table_col(&t, fixed[i], false, err);
    char name[320], cb[32];
    for (int c = 0; c < r->c && st == TK_OK; c++) {
        /* a single sigmoid column is the probability of class 1 */
        int cls = r->c == 1 ? 1 : c;
        snprintf(name, sizeof name, "prob_%s", tk_results_class_name(r, cls, cb, sizeof cb));
        st = table_col(&t, name, true, err);
    }
    if (st == TK_OK)
        st = table_col(&t, "truncated", false, err);
    if (st == TK_OK)
        st = table_col(&t, "n_tokens", false, err);
    const char *per[] = {"target", "axiom_error", "f_input", "f_baseline", "padding_score"};
    for (int m = 0; m < r->n_methods && st == TK_OK; m++)
        for (size_t k = 0; k < sizeof per / sizeof per[0] && st == TK_OK; k++) {
            snprintf(name, sizeof name, "%s_%s", r->methods[m].name, per[k]);
            st = table_col(&t, name, true, err);
        }
    if (st != TK_OK)
        goto done;
    table_header(&t);
    char ib[32];
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->done[i])
            continue;
        put_int(&t, i);
        put_int(&t, r->index ? r->index[i] : i);
        put_str(&t, doc_id(r, i, ib, sizeof ib));
        put_int(&t, r->label[i]);
        put_int(&t, tk_results_predicted(r, i));
        for (int c = 0; c < r->c; c++)
            put_num(&t, r->prob[i * r->c + c], 9);
        put_int(&t, r->truncated ? r->truncated[i] : 0);
        put_int(&t, r->token_offset[i + 1] - r->token_offset[i]);
        for (int m = 0; m < r->n_methods; m++) {
            const tk_results_method *mm = &r->methods[m];
            put_int(&t, method_target(r, m, i));
            put_num(&t, mm->axiom_error ? mm->axiom_error[i] : NAN, 9);
            put_num(&t, mm->f_input ? mm->f_input[i] : NAN, 17);
            put_num(&t, mm->f_baseline ? mm->f_baseline[i] : NAN, 17);
            put_num(&t, mm->padding_score ? mm->padding_score[i] : NAN, 9);
        }
        end_row(&t);
    }
    st = check_written(out, err);
done:
    table_free(&t);
    return st;
}

/* ---- words: one slot per distinct word ---------------------------------- */

typedef struct word_map {
    const char **word; /* (n) distinct words, in order of first sight */
    int64_t n, cap;
    int64_t *slot;     /* (mask + 1) open addressing: index into word, -1 empty */
    uint64_t mask;
} word_map;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static tk_status map_grow(word_map *m, tk_error *err)
{
    uint64_t size = m->mask ? 2 * (m->mask + 1) : 1u << 16;
    int64_t *slot = tk_malloc((size_t)size, sizeof *slot, err);
    if (!slot)
        return TK_E_NOMEM;
    for (uint64_t i = 0; i < size; i++)
        slot[i] = -1;
    for (int64_t w = 0; w < m->n; w++) {
        uint64_t h = fnv1a(m->word[w]) & (size - 1);
        while (slot[h] >= 0)
            h = (h + 1) & (size - 1);
        slot[h] = w;
    }
    free(m->slot);
    m->slot = slot;
    m->mask = size - 1;
    return TK_OK;
}

/* The slot of word w (a string that outlives the map), added when new. */
static tk_status map_add(word_map *m, const char *w, int64_t *out, tk_error *err)
{
    tk_status st;
    if ((uint64_t)(m->n + 1) * 2 > m->mask + 1 && (st = map_grow(m, err)) != TK_OK)
        return st;
    uint64_t h = fnv1a(w) & m->mask;
    while (m->slot[h] >= 0) {
        if (strcmp(m->word[m->slot[h]], w) == 0) {
            *out = m->slot[h];
            return TK_OK;
        }
        h = (h + 1) & m->mask;
    }
    if (m->n == m->cap) {
        int64_t cap = m->cap ? 2 * m->cap : 4096;
        const char **p = realloc(m->word, (size_t)cap * sizeof *p);
        if (!p)
            return tk_error_set(err, TK_E_NOMEM, "export: out of memory");
        m->word = p;
        m->cap = cap;
    }
    m->word[m->n] = w;
    m->slot[h] = m->n;
    *out = m->n++;
    return TK_OK;
}

static void map_free(word_map *m)
{
    free(m->word);
    free(m->slot);
}

/* Each token's word slot (-1: not a word: the start marker, or an id
 * outside the vocabulary of a file without /tokens/word). */
static tk_status token_slots(const tk_results *r, word_map *map, int64_t **slots, tk_error *err)
{
    int64_t *s = tk_malloc((size_t)(r->t > 0 ? r->t : 1), sizeof *s, err);
    if (!s)
        return TK_E_NOMEM;
    char buf[32];
    for (int64_t k = 0; k < r->t; k++) {
        s[k] = -1;
        bool start = r->word_pos ? r->word_pos[k] == -1 : r->token_id[k] == r->start_id;
        if (start)
            continue;
        const char *w = tk_results_token_word(r, k, buf, sizeof buf);
        if (w == buf) /* "#id": no stable text, and not a word of the vocabulary */
            continue;
        tk_status st = map_add(map, w, &s[k], err);
        if (st != TK_OK) {
            free(s);
            return st;
        }
    }
    *slots = s;
    return TK_OK;
}

typedef struct word_acc {
    int64_t *count;
    double *sum, *sumsq;
} word_acc;

static int cmp_oriented(const void *a, const void *b)
{
    const tk_oriented_word *x = a, *y = b;
    if (x->mean != y->mean)
        return x->mean < y->mean ? 1 : -1;
    return strcmp(x->word, y->word);
}

double tk_export_orientation(const tk_results *r, int m, int64_t i, int cls)
{
    int target = method_target(r, m, i);
    if (target == cls)
        return 1.0;
    return tk_results_n_classes(r) == 2 ? -1.0 : 0.0;
}

struct tk_word_index {
    const tk_results *r;
    word_map map;
    int64_t *slots; /* (T) each token's word slot, -1: not a word */
};

tk_status tk_word_index_create(const tk_results *r, tk_word_index **out, tk_error *err)
{
    *out = NULL;
    tk_word_index *x = tk_calloc(1, sizeof *x, err);
    if (!x)
        return TK_E_NOMEM;
    x->r = r;
    tk_status st = token_slots(r, &x->map, &x->slots, err);
    if (st != TK_OK) {
        tk_word_index_destroy(x);
        return st;
    }
    *out = x;
    return TK_OK;
}

void tk_word_index_destroy(tk_word_index *x)
{
    if (!x)
        return;
    free(x->slots);
    map_free(&x->map);
    free(x);
}

int64_t tk_word_index_n_words(const tk_word_index *x)
{
    return x->map.n;
}

const char *tk_word_index_word(const tk_word_index *x, int64_t slot)
{
    return x->map.word[slot];
}

int64_t tk_word_index_slot(const tk_word_index *x, int64_t t)
{
    return x->slots[t];
}

tk_status tk_word_index_rank(const tk_word_index *x, int m, int cls, int64_t min_count,
                             tk_oriented_word **out, int64_t *n_out, tk_error *err)
{
    const tk_results *r = x->r;
    const word_map *map = &x->map;
    const int64_t *slots = x->slots;
    *out = NULL;
    *n_out = 0;
    if (m < 0 || m >= r->n_methods || cls < 0 || cls >= tk_results_n_classes(r))
        return tk_error_set(err, TK_E_INVALID, "%s: no method %d or class %d", r->path, m, cls);
    size_t u = (size_t)(map->n > 0 ? map->n : 1);
    word_acc a = {tk_calloc(u, sizeof *a.count, err), tk_calloc(u, sizeof *a.sum, err),
                  tk_calloc(u, sizeof *a.sumsq, err)};
    tk_status st = TK_OK;
    if (!a.count || !a.sum || !a.sumsq) {
        st = TK_E_NOMEM;
        goto done;
    }
    const float *score = r->methods[m].score;
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->done[i])
            continue;
        double sign = tk_export_orientation(r, m, i, cls);
        if (sign == 0.0)
            continue;
        for (int64_t k = r->token_offset[i]; k < r->token_offset[i + 1]; k++) {
            int64_t w = slots[k];
            if (w < 0 || !isfinite(score[k]))
                continue;
            double v = sign * score[k];
            a.count[w]++;
            a.sum[w] += v;
            a.sumsq[w] += v * v;
        }
    }
    int64_t n = 0;
    for (int64_t w = 0; w < map->n; w++)
        n += a.count[w] >= min_count && a.count[w] > 0;
    tk_oriented_word *o = tk_malloc((size_t)(n > 0 ? n : 1), sizeof *o, err);
    if (!o) {
        st = TK_E_NOMEM;
        goto done;
    }
    n = 0;
    for (int64_t w = 0; w < map->n; w++) {
        int64_t c = a.count[w];
        if (c < min_count || c == 0)
            continue;
        double mean = a.sum[w] / (double)c;
        /* sample variance; the interval is mean +- 1.96 s / sqrt(c) */
        double var = c > 1 ? (a.sumsq[w] - (double)c * mean * mean) / (double)(c - 1) : NAN;
        double half = 1.96 * sqrt(var > 0 ? var : 0) / sqrt((double)c);
        o[n++] = (tk_oriented_word){map->word[w], c, mean, mean - half, mean + half, w};
    }
    qsort(o, (size_t)n, sizeof *o, cmp_oriented);
    *out = o;
    *n_out = n;
done:
    free(a.count);
    free(a.sum);
    free(a.sumsq);
    return st;
}

tk_status tk_word_index_top_reviews(const tk_word_index *x, int m, int cls,
                                    const tk_oriented_word *w, int64_t n, int k, int64_t *idx,
                                    tk_error *err)
{
    const tk_results *r = x->r;
    if (m < 0 || m >= r->n_methods || k < 1)
        return tk_error_set(err, TK_E_INVALID, "%s: no method %d, or k = %d", r->path, m, k);
    for (int64_t j = 0; j < n * k; j++)
        idx[j] = -1;
    if (n == 0)
        return TK_OK;
    /* which of the n words a slot is, -1 for the others */
    int64_t *pick = tk_malloc((size_t)(x->map.n > 0 ? x->map.n : 1), sizeof *pick, err); /* (slots) */
    double *best = tk_malloc((size_t)(n * k), sizeof *best, err); /* (n, k) the scores of idx */
    if (!pick || !best) {
        free(pick);
        free(best);
        return TK_E_NOMEM;
    }
    for (int64_t s = 0; s < x->map.n; s++)
        pick[s] = -1;
    for (int64_t j = 0; j < n; j++)
        if (w[j].slot >= 0 && w[j].slot < x->map.n)
            pick[w[j].slot] = j;
    const float *score = r->methods[m].score;
    for (int64_t i = 0; i < r->n; i++) {
        double sign = r->done[i] ? tk_export_orientation(r, m, i, cls) : 0.0;
        if (sign == 0.0)
            continue;
        for (int64_t t = r->token_offset[i]; t < r->token_offset[i + 1]; t++) {
            int64_t j = x->slots[t] >= 0 ? pick[x->slots[t]] : -1;
            if (j < 0 || !isfinite(score[t]))
                continue;
            double v = sign * score[t];
            int64_t *ri = idx + j * k;
            double *rv = best + j * k;
            /* review i already listed (an earlier occurrence): keep its best */
            int at = -1;
            for (int q = 0; q < k && ri[q] >= 0; q++)
                if (ri[q] == i)
                    at = q;
            if (at >= 0) {
                if (v <= rv[at])
                    continue;
            } else {
                at = k - 1;
                if (ri[at] >= 0 && v <= rv[at])
                    continue; /* not among the k best; ties keep the earlier review */
            }
            /* insert at its place, shifting the lower ones down over slot at */
            int q = at;
            while (q > 0 && (ri[q - 1] < 0 || v > rv[q - 1])) {
                ri[q] = ri[q - 1];
                rv[q] = rv[q - 1];
                q--;
            }
            ri[q] = i;
            rv[q] = v;
        }
    }
    free(pick);
    free(best);
    return TK_OK;
}

tk_status tk_export_oriented_words(const tk_results *r, int m, int cls, int64_t min_count,
                                   tk_oriented_word **out, int64_t *n, tk_error *err)
{
    *out = NULL;
    *n = 0;
    if (m < 0 || m >= r->n_methods || cls < 0 || cls >= tk_results_n_classes(r))
        return tk_error_set(err, TK_E_INVALID, "%s: no method %d or class %d", r->path, m, cls);
    tk_word_index *x = NULL;
    tk_status st = tk_word_index_create(r, &x, err);
    if (st == TK_OK)
        st = tk_word_index_rank(x, m, cls, min_count, out, n, err);
    tk_word_index_destroy(x);
    return st;
}

tk_status tk_export_words(const tk_results *r, int64_t min_count, tk_export_format f, FILE *out,
                          tk_error *err)
{
    table t = {.out = out, .f = f};
    tk_status st = TK_OK;
    const char *cols[] = {"method", "class", "rank", "word", "count", "mean", "ci_low", "ci_high"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0] && st == TK_OK; i++)
        st = table_col(&t, cols[i], false, err);
    tk_word_index *x = NULL;
    if (st == TK_OK)
        st = tk_word_index_create(r, &x, err);
    if (st != TK_OK)
        goto done;
    table_header(&t);
    char cb[32];
    for (int m = 0; m < r->n_methods && st == TK_OK; m++)
        for (int c = 0; c < tk_results_n_classes(r) && st == TK_OK; c++) {
            tk_oriented_word *w = NULL;
            int64_t n = 0;
            st = tk_word_index_rank(x, m, c, min_count, &w, &n, err);
            for (int64_t k = 0; k < n; k++) {
                put_str(&t, r->methods[m].name);
                put_str(&t, tk_results_class_name(r, c, cb, sizeof cb));
                put_int(&t, k + 1);
                put_str(&t, w[k].word);
                put_int(&t, w[k].count);
                put_num(&t, w[k].mean, 9);
                put_num(&t, w[k].ci_low, 9);
                put_num(&t, w[k].ci_high, 9);
                end_row(&t);
            }
            free(w);
        }
    if (st == TK_OK)
        st = check_written(out, err);
done:
    tk_word_index_destroy(x);
    table_free(&t);
    return st;
}
