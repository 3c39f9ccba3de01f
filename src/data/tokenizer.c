#include "data/tokenizer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Keras' default filters: !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ plus TAB and LF.
 * The apostrophe is not one of them. */
static bool is_filter(unsigned char c)
{
    return c == '\t' || c == '\n' || (c != '\'' && ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') ||
                                                    (c >= '[' && c <= '`') || (c >= '{' && c <= '~')));
}

void tk_tokens_init(tk_tokens *t)
{
    memset(t, 0, sizeof *t);
}

void tk_tokens_free(tk_tokens *t)
{
    if (t == NULL)
        return;
    free(t->buf);
    free(t->start);
    free(t->len);
    memset(t, 0, sizeof *t);
}

static tk_status push_token(tk_tokens *t, size_t start, size_t end, tk_error *err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        size_t *s = realloc(t->start, cap * sizeof *s);
        if (s == NULL)
            return tk_error_set(err, TK_E_NOMEM, "tokenizer: out of memory");
        t->start = s;
        uint32_t *l = realloc(t->len, cap * sizeof *l);
        if (l == NULL)
            return tk_error_set(err, TK_E_NOMEM, "tokenizer: out of memory");
        t->len = l;
        t->cap = cap;
    }
    t->start[t->n] = start;
    t->len[t->n] = (uint32_t)(end - start);
    t->n++;
    return TK_OK;
}

tk_status tk_tokenize(tk_tokens *t, const char *text, size_t len, tk_error *err)
{
    return tk_tokenize_lower(t, text, len, TK_LOWER_UNICODE, err);
}

tk_status tk_tokenize_lower(tk_tokens *t, const char *text, size_t len, tk_lowercase lower,
                            tk_error *err)
{
    /* Lowercasing can lengthen a code point (U+023A, 2 bytes -> U+2C65, 3
     * bytes) but never beyond 3/2, so 2 * len + 1 always suffices. */
    if (len > (SIZE_MAX - 1) / 2 || len >= UINT32_MAX)
        return tk_error_set(err, TK_E_INVALID, "tokenizer: text too long (%zu bytes)", len);
    if (t->buf_cap < 2 * len + 1) {
        char *b = realloc(t->buf, 2 * len + 1);
        if (b == NULL)
            return tk_error_set(err, TK_E_NOMEM, "tokenizer: out of memory");
        t->buf = b;
        t->buf_cap = 2 * len + 1;
    }
    t->n = 0;
    const unsigned char *in = (const unsigned char *)text;
    unsigned char *out = (unsigned char *)t->buf;
    size_t o = 0, word = 0, i = 0;
    bool in_word = false;
    while (i < len) {
        unsigned char c = in[i];
        if (c < 0x80) {
            i++;
            if (c == ' ' || is_filter(c)) {
                if (in_word) {
                    tk_status st = push_token(t, word, o, err);
                    if (st != TK_OK)
                        return st;
                }
                in_word = false;
                continue;
            }
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c + ('a' - 'A'));
            if (!in_word) {
                word = o;
                in_word = true;
            }
            out[o++] = c;
            continue;
        }
        /* Non-ASCII: never a separator. A valid code point is lowercased;
         * a byte that does not start a valid sequence is copied as it is. */
        if (!in_word) {
            word = o;
            in_word = true;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t used = utf8proc_iterate(in + i, (utf8proc_ssize_t)(len - i), &cp);
        if (used <= 0) {
            out[o++] = c;
            i++;
            continue;
        }
        if (lower == TK_LOWER_UNICODE)
            cp = utf8proc_tolower(cp);
        o += (size_t)utf8proc_encode_char(cp, out + o);
        i += (size_t)used;
    }
    if (in_word) {
        tk_status st = push_token(t, word, o, err);
        if (st != TK_OK)
            return st;
    }
    t->buf[o] = '\0';
    return TK_OK;
}
