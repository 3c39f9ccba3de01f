/* JSONL: one JSON object per line (cJSON), blank lines skipped. The text
 * must be a string; a label, id or split may also be a number (turned to
 * its text, 3 -> "3") or a boolean. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/corpus_readers.h"

/* The value of key in obj as text: a string as it is, a number without a
 * fraction as an integer, another number with 17 significant digits. */
static const char *as_text(const cJSON *v, char *buf, size_t size)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            snprintf(buf, size, "%.0f", d);
        else
            snprintf(buf, size, "%.17g", d);
        return buf;
    }
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    return NULL;
}

static const char *type_name(const cJSON *v)
{
    return cJSON_IsNull(v)     ? "null"
           : cJSON_IsArray(v)  ? "an array"
           : cJSON_IsObject(v) ? "an object"
           : cJSON_IsNumber(v) ? "a number"
           : cJSON_IsBool(v)   ? "a boolean"
                               : "not a string";
}

tk_status tk_corpus_read_jsonl(const tk_corpus_options *opt, tk_corpus_visit visit, void *ctx, tk_error *err)
{
    const char *keys[4] = {opt->text_column ? opt->text_column : "text", opt->label_column, opt->id_column,
                           opt->split_column};
    static const char *const WHAT[4] = {"text", "label", "id", "split"};
    tk_corpus_stream s;
    tk_line_reader lr;
    tk_status st = tk_corpus_stream_open(opt->source, &s, err);
    if (st != TK_OK)
        return st;
    tk_line_reader_init(&lr, &s);
    char where[4200];
    char num[3][40];
    int64_t docs = 0;
    for (;;) {
        const char *line;
        size_t len;
        if ((st = tk_line_reader_next(&lr, &line, &len, err)) != TK_OK || line == NULL)
            break;
        if (!tk_corpus_text_nonempty(line, len))
            continue;
        snprintf(where, sizeof where, "%s:%lld", opt->source, (long long)lr.line);
        const char *end = NULL;
        cJSON *obj = cJSON_ParseWithLengthOpts(line, len, &end, false);
        if (obj == NULL || !cJSON_IsObject(obj)) {
            size_t at = obj == NULL && end != NULL && end >= line ? (size_t)(end - line) : 0;
            if (obj == NULL) {
                const char *e = cJSON_GetErrorPtr();
                at = e != NULL && e >= line && e <= line + len ? (size_t)(e - line) : 0;
            }
            st = tk_error_set(err, TK_E_FORMAT, obj == NULL ? "%s: not valid JSON (near byte %zu of the line)"
                                                            : "%s: not a JSON object (each line must be {...})",
                              where, at + 1);
            cJSON_Delete(obj);
            break;
        }
        /* Text after the object on the same line is an error too. */
        if (end != NULL && tk_corpus_text_nonempty(end, (size_t)(line + len - end))) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: text after the JSON object (one object per line)", where);
            cJSON_Delete(obj);
            break;
        }
        const char *val[4] = {NULL, NULL, NULL, NULL};
        for (int k = 0; k < 4 && st == TK_OK; k++) {
            if (keys[k] == NULL)
                continue;
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, keys[k]);
            if (v == NULL || cJSON_IsNull(v)) {
                st = tk_error_set(err, TK_E_FORMAT, "%s: no %s key '%s'%s", where, WHAT[k], keys[k],
                                  v ? " (it is null)" : "");
                break;
            }
            val[k] = k == 0 ? (cJSON_IsString(v) ? v->valuestring : NULL) : as_text(v, num[k - 1], sizeof num[0]);
            if (val[k] == NULL)
                st = tk_error_set(err, TK_E_FORMAT, "%s: the %s key '%s' is %s, not a string", where, WHAT[k],
                                  keys[k], type_name(v));
            else if (k > 0 && val[k][0] == '\0')
                st = tk_error_set(err, TK_E_FORMAT, "%s: empty %s (key '%s')", where, WHAT[k], keys[k]);
        }
        if (st == TK_OK) {
            tk_corpus_doc doc = {.split = val[3] ? val[3] : opt->split ? opt->split : "test",
                                 .label = val[1], .id = val[2], .text = val[0], .len = strlen(val[0]),
                                 .where = where};
            st = visit(ctx, &doc, err);
            docs++;
        }
        cJSON_Delete(obj);
        if (st != TK_OK)
            break;
    }
    if (st == TK_OK && docs == 0)
        st = tk_error_set(err, TK_E_FORMAT, "%s: no documents (expected one JSON object per line)", opt->source);
    tk_line_reader_free(&lr);
    tk_corpus_stream_close(&s);
    return st;
}
