/* CSV and TSV (RFC 4180: a header row, fields quoted with '"', '""' for a
 * quote, newlines allowed inside quoted fields) with Debian's libcsv in
 * strict mode, fed in line-sized pieces so that every record knows the line
 * it starts on. Only the wanted fields of the current record are kept. */
#define _POSIX_C_SOURCE 200809L
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/corpus_readers.h"

enum { COL_TEXT, COL_LABEL, COL_ID, COL_SPLIT, N_COLS };
static const char *const COL_WHAT[N_COLS] = {"text", "label", "id", "split"};

typedef struct field {
    char *p;
    size_t len, cap;
    bool set;
} field;

typedef struct csv_state {
    const tk_corpus_options *opt;
    tk_corpus_visit visit;
    void *ctx;
    tk_error *err;
    tk_status st;
    int64_t line;        /* the line being fed (1-based) */
    int64_t row_line;    /* the line the current record starts on */
    int64_t records;     /* records seen, the header included */
    size_t col;          /* fields of the current record so far */
    size_t n_header;
    const char *name[N_COLS]; /* the wanted column names (NULL: not wanted) */
    long want[N_COLS];   /* their indices in the header, -1 until found */
    field f[N_COLS];
    char *header;        /* the header's names, ", "-joined, for messages */
    size_t header_len, header_cap;
    char where[4200];
} csv_state;

static int no_space(unsigned char c)
{
    (void)c;
    return 0; /* RFC 4180: spaces are part of the field */
}

static bool append(char **p, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1)
            c *= 2;
        char *b = realloc(*p, c);
        if (b == NULL)
            return false;
        *p = b;
        *cap = c;
    }
    memcpy(*p + *len, s, n);
    *len += n;
    (*p)[*len] = '\0';
    return true;
}

static void on_field(void *data, size_t len, void *ctx)
{
    csv_state *c = ctx;
    const char *s = data ? data : "";
    if (c->st != TK_OK)
        return;
    if (c->records == 0) {
        /* Header: a UTF-8 byte order mark in front of the first name is not part of it. */
        if (c->col == 0 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
        }
        for (int k = 0; k < N_COLS; k++)
            if (c->name[k] != NULL && c->want[k] < 0 && strlen(c->name[k]) == len && memcmp(c->name[k], s, len) == 0)
                c->want[k] = (long)c->col;
        if ((c->col > 0 && !append(&c->header, &c->header_len, &c->header_cap, ", ", 2)) ||
            !append(&c->header, &c->header_len, &c->header_cap, s, len))
            c->st = tk_error_set(c->err, TK_E_NOMEM, "%s: out of memory", c->opt->source);
    } else {
        for (int k = 0; k < N_COLS; k++)
            if (c->want[k] == (long)c->col) {
                c->f[k].len = 0;
                if (!append(&c->f[k].p, &c->f[k].len, &c->f[k].cap, s, len)) {
                    c->st = tk_error_set(c->err, TK_E_NOMEM, "%s:%lld: out of memory (a field of %zu bytes)",
                                         c->opt->source, (long long)c->row_line, len);
                    return;
                }
                c->f[k].set = true;
            }
    }
    c->col++;
}

static void on_record(int term, void *ctx)
{
    csv_state *c = ctx;
    (void)term;
    if (c->st != TK_OK)
        return;
    const char *src = c->opt->source;
    if (c->records == 0) {
        c->n_header = c->col;
        for (int k = 0; k < N_COLS; k++)
            if (c->name[k] != NULL && c->want[k] < 0) {
                c->st = tk_error_set(c->err, TK_E_FORMAT, "%s:%lld: no %s column '%s' in the header (columns: %s)",
                                     src, (long long)c->row_line, COL_WHAT[k], c->name[k],
                                     c->header ? c->header : "");
                return;
            }
    } else {
        if (c->col != c->n_header) {
            c->st = tk_error_set(c->err, TK_E_FORMAT, "%s:%lld: the record has %zu fields, the header has %zu",
                                 src, (long long)c->row_line, c->col, c->n_header);
            return;
        }
        for (int k = COL_LABEL; k < N_COLS; k++)
            if (c->name[k] != NULL && c->f[k].len == 0) {
                c->st = tk_error_set(c->err, TK_E_FORMAT, "%s:%lld: empty %s (column '%s')", src,
                                     (long long)c->row_line, COL_WHAT[k], c->name[k]);
                return;
            }
        snprintf(c->where, sizeof c->where, "%s:%lld", src, (long long)c->row_line);
        tk_corpus_doc doc = {
            .split = c->name[COL_SPLIT] ? c->f[COL_SPLIT].p : c->opt->split ? c->opt->split : "test",
            .label = c->name[COL_LABEL] ? c->f[COL_LABEL].p : NULL,
            .id = c->name[COL_ID] ? c->f[COL_ID].p : NULL,
            .text = c->f[COL_TEXT].p ? c->f[COL_TEXT].p : "",
            .len = c->f[COL_TEXT].len,
            .where = c->where,
        };
        c->st = c->visit(c->ctx, &doc, c->err);
    }
    c->records++;
    c->col = 0;
    for (int k = 0; k < N_COLS; k++) {
        c->f[k].set = false;
        c->f[k].len = 0;
    }
}

/* libcsv's state before a record begins (ROW_NOT_BEGUN in libcsv.c). */
enum { CSV_ROW_NOT_BEGUN = 0 };

tk_status tk_corpus_read_csv(const tk_corpus_options *opt, char delim, tk_corpus_visit visit, void *ctx,
                             tk_error *err)
{
    enum { CHUNK = 1 << 20 };
    csv_state c = {.opt = opt, .visit = visit, .ctx = ctx, .err = err, .line = 1, .row_line = 1};
    c.name[COL_TEXT] = opt->text_column ? opt->text_column : "text";
    c.name[COL_LABEL] = opt->label_column;
    c.name[COL_ID] = opt->id_column;
    c.name[COL_SPLIT] = opt->split_column;
    for (int k = 0; k < N_COLS; k++)
        c.want[k] = -1;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return tk_error_set(err, TK_E_NOMEM, "%s: cannot create a CSV parser", opt->source);
    csv_set_delim(&p, (unsigned char)delim);
    csv_set_space_func(&p, no_space);
    tk_corpus_stream s;
    char *buf = NULL;
    tk_status st = tk_corpus_stream_open(opt->source, &s, err);
    if (st != TK_OK) {
        csv_free(&p);
        return st;
    }
    if ((buf = malloc(CHUNK)) == NULL) {
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", opt->source);
        goto done;
    }
    for (;;) {
        size_t got = 0;
        if ((st = tk_corpus_stream_read(&s, buf, CHUNK, &got, err)) != TK_OK)
            goto done;
        if (got == 0)
            break;
        /* One line at a time: a record that begins while the parser is
         * between records begins on this line. */
        for (size_t at = 0; at < got;) {
            const char *nl = memchr(buf + at, '\n', got - at);
            size_t end = nl ? (size_t)(nl - buf) + 1 : got;
            if (p.pstate == CSV_ROW_NOT_BEGUN)
                c.row_line = c.line;
            size_t used = csv_parse(&p, buf + at, end - at, on_field, on_record, &c);
            if (c.st != TK_OK) {
                st = c.st;
                goto done;
            }
            if (used != end - at) {
                st = tk_error_set(err, TK_E_FORMAT,
                                  csv_error(&p) == CSV_EPARSE
                                      ? "%s:%lld: malformed quoting (a '\"' inside an unquoted field, or text "
                                        "after a closing quote; write a quote as \"\" inside a quoted field)"
                                      : "%s:%lld: the CSV parser ran out of memory",
                                  opt->source, (long long)c.line);
                goto done;
            }
            if (nl != NULL)
                c.line++;
            at = end;
        }
    }
    if (p.pstate == CSV_ROW_NOT_BEGUN)
        c.row_line = c.line;
    if (csv_fini(&p, on_field, on_record, &c) != 0) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s:%lld: a quoted field is never closed (a '\"' without its closing quote before "
                          "the end of the file)",
                          opt->source, (long long)c.row_line);
        goto done;
    }
    if ((st = c.st) != TK_OK)
        goto done;
    if (c.records == 0)
        st = tk_error_set(err, TK_E_FORMAT, "%s: empty file (expected a header row naming the columns)",
                          opt->source);
done:
    csv_free(&p);
    tk_corpus_stream_close(&s);
    free(buf);
    free(c.header);
    for (int k = 0; k < N_COLS; k++)
        free(c.f[k].p);
    return st;
}
