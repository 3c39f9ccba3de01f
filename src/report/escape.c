#include "report/escape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Walks s one code point at a time; calls emit(piece, len, is_replacement).
 * Invalid sequences advance by one byte so that the rest is still read. */
typedef void (*emit_fn)(void *ctx, const char *piece, size_t len, int32_t cp);

static void walk(const char *s, emit_fn emit, void *ctx)
{
    size_t left = strlen(s);
    while (left > 0) {
        int32_t cp;
        size_t n = tk_utf8_next(s, left, &cp); /* core/utf8.h: the one decoder and display rule */
        if (n == 0 || !tk_utf8_displayable(cp)) {
            emit(ctx, REPLACEMENT, 3, 0xFFFD);
            n = n == 0 ? 1 : n;
        } else {
            emit(ctx, s, n, cp);
        }
        s += n;
        left -= n;
    }
}

static void emit_html(void *ctx, const char *piece, size_t len, int32_t cp)
{
    FILE *out = ctx;
    switch (cp) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&#39;", out); break;
    default: fwrite(piece, 1, len, out);
    }
}

void tk_html_escape(FILE *out, const char *s)
{
    walk(s, emit_html, out);
}

typedef struct sink {
    char *buf;
    size_t len;
} sink;

static void emit_copy(void *ctx, const char *piece, size_t len, int32_t cp)
{
    (void)cp;
    sink *k = ctx;
    memcpy(k->buf + k->len, piece, len);
    k->len += len;
}

char *tk_utf8_sanitize(const char *s, tk_error *err)
{
    /* Each input byte becomes at most 3 output bytes (one U+FFFD). */
    size_t n = strlen(s);
    sink k = {tk_malloc(3 * n + 1, 1, err), 0};
    if (k.buf == NULL)
        return NULL;
    walk(s, emit_copy, &k);
    k.buf[k.len] = '\0';
    return k.buf;
}

void tk_csv_field(FILE *out, const char *s)
{
    char *clean = tk_utf8_sanitize(s, NULL);
    const char *t = clean ? clean : "";
    size_t n = strlen(t);
    bool quote = strpbrk(t, ",\"\n\r") != NULL || (n > 0 && (t[0] == ' ' || t[n - 1] == ' '));
    if (!quote) {
        fputs(t, out);
    } else {
        fputc('"', out);
        for (const char *c = t; *c; c++) {
            if (*c == '"')
                fputc('"', out);
            fputc(*c, out);
        }
        fputc('"', out);
    }
    free(clean);
}

static void emit_json_script(void *ctx, const char *piece, size_t len, int32_t cp)
{
    FILE *out = ctx;
    switch (cp) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    case '<': fputs("\\u003c", out); break;
    case '>': fputs("\\u003e", out); break;
    case '&': fputs("\\u0026", out); break;
    case 0x2028: fputs("\\u2028", out); break;
    case 0x2029: fputs("\\u2029", out); break;
    default: fwrite(piece, 1, len, out);
    }
}

void tk_json_script_string(FILE *out, const char *s)
{
    /* Most words are plain ASCII with nothing to escape: written at once. */
    const unsigned char *p = (const unsigned char *)s;
    while (*p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\' && *p != '<' && *p != '>' && *p != '&')
        p++;
    if (*p == '\0') {
        fputc('"', out);
        fwrite(s, 1, (size_t)(p - (const unsigned char *)s), out);
        fputc('"', out);
        return;
    }
    fputc('"', out);
    walk(s, emit_json_script, out); /* walk() already replaced other control characters */
    fputc('"', out);
}
