/* Model inputs where they are used (unit_input.h). */
#include "pipeline/unit_input.h"

#include <stdlib.h>
#include <string.h>

/* A span longer than this many documents beyond the ones wanted is read
 * one document at a time instead (a sparse `select: ids`). */
enum { SPAN_SLACK = 4096 };

void tk_unit_docs_free(tk_unit_docs *u)
{
    tk_split_free(&u->span);
    free(u->doc);
    memset(u, 0, sizeof *u);
}

/* Appends split b's documents to a (both offsets from 0). */
static tk_status split_append(tk_split *a, const tk_split *b, tk_error *err)
{
    int64_t n = a->n + b->n, t0 = a->offset ? a->offset[a->n] : 0, nt = t0 + b->offset[b->n];
    bool words = b->word_offset != NULL;
    int64_t w0 = words && a->word_offset ? a->word_offset[t0] : 0;
    int64_t nw = w0 + (words ? b->word_offset[b->offset[b->n]] : 0);
    int64_t *off = realloc(a->offset, (size_t)(n + 1) * sizeof *off);
    if (off)
        a->offset = off;
    int32_t *ids = realloc(a->ids, (size_t)(nt > 0 ? nt : 1) * sizeof *ids);
    if (ids)
        a->ids = ids;
    int32_t *label = realloc(a->label, (size_t)n * sizeof *label);
    if (label)
        a->label = label;
    int8_t *rating = realloc(a->rating, (size_t)n);
    if (rating)
        a->rating = rating;
    int32_t *rid = realloc(a->review_id, (size_t)n * sizeof *rid);
    if (rid)
        a->review_id = rid;
    char **doc = realloc(a->doc_id, (size_t)n * sizeof *doc);
    if (doc)
        a->doc_id = doc;
    int64_t *woff = words ? realloc(a->word_offset, (size_t)(nt + 1) * sizeof *woff) : NULL;
    if (woff)
        a->word_offset = woff;
    char *text = words ? realloc(a->word_text, (size_t)(nw > 0 ? nw : 1)) : NULL;
    if (text)
        a->word_text = text;
    if (!off || !ids || !label || !rating || !rid || !doc || (words && (!woff || !text)))
        return tk_error_set(err, TK_E_NOMEM, "out of memory reading the selected reviews");
    if (a->n == 0)
        a->offset[0] = 0;
    for (int64_t i = 0; i < b->n; i++) {
        a->offset[a->n + i + 1] = t0 + b->offset[i + 1];
        a->label[a->n + i] = b->label[i];
        a->rating[a->n + i] = b->rating[i];
        a->review_id[a->n + i] = b->review_id[i];
        a->doc_id[a->n + i] = b->doc_id[i];
        b->doc_id[i] = NULL; /* moved */
    }
    memcpy(a->ids + t0, b->ids, (size_t)b->offset[b->n] * sizeof *ids);
    if (words) {
        if (t0 == 0)
            a->word_offset[0] = 0;
        for (int64_t t = 0; t < b->offset[b->n]; t++)
            a->word_offset[t0 + t + 1] = w0 + b->word_offset[t + 1];
        memcpy(a->word_text + w0, b->word_text, (size_t)(nw - w0));
    }
    a->n = n;
    return TK_OK;
}

tk_status tk_unit_docs_read(tk_docs_reader *r, const int64_t *pos, int64_t count, bool text,
                            tk_unit_docs *u, tk_error *err)
{
    tk_split_free(&u->span);
    u->count = 0;
    if (count > u->cap) {
        int64_t *d = realloc(u->doc, (size_t)count * sizeof *d);
        if (!d)
            return tk_error_set(err, TK_E_NOMEM, "out of memory reading the selected reviews");
        u->doc = d;
        u->cap = count;
    }
    if (count == 0)
        return TK_OK;
    int64_t a = pos[0], b = pos[count - 1] + 1;
    tk_status st;
    if (b - a <= count + SPAN_SLACK) {
        if ((st = tk_docs_read(r, a, b - a, text, &u->span, err)) != TK_OK)
            return st;
        for (int64_t i = 0; i < count; i++)
            u->doc[i] = pos[i] - a;
    } else {
        for (int64_t i = 0; i < count; i++) {
            tk_split one;
            if ((st = tk_docs_read(r, pos[i], 1, text, &one, err)) != TK_OK)
                return st;
            st = split_append(&u->span, &one, err);
            tk_split_free(&one);
            if (st != TK_OK)
                return st;
            u->doc[i] = i;
        }
    }
    u->count = count;
    return TK_OK;
}

const int32_t *tk_unit_docs_ids(const tk_unit_docs *u, int64_t r, int64_t *n)
{
    const tk_split *s = &u->span;
    int64_t d = u->doc[r];
    *n = s->offset[d + 1] - s->offset[d];
    return s->ids + s->offset[d];
}

tk_status tk_unit_input(tk_docs_reader *r, const tk_input_spec *spec, const int64_t *pos,
                        int64_t count, tk_unit_docs *scratch, int32_t *ids, int32_t *labels,
                        tk_error *err)
{
    tk_status st = tk_unit_docs_read(r, pos, count, false, scratch, err);
    if (st != TK_OK)
        return st;
    for (int64_t i = 0; i < count; i++) {
        int64_t n = 0;
        const int32_t *w = tk_unit_docs_ids(scratch, i, &n);
        tk_prepare_input_ex(spec, w, n, ids + i * spec->maxlen, NULL, NULL);
        labels[i] = scratch->span.label[scratch->doc[i]];
    }
    return TK_OK;
}
