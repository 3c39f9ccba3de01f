#define _GNU_SOURCE /* memmem */
#include "data/keras_text.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

tk_status tk_encoded_push(tk_encoded *e, size_t start, size_t n, tk_error *err)
{
    if (n > UINT32_MAX)
        return tk_error_set(err, TK_E_UNSUPPORTED, "tokenizer: a word of %zu bytes is too long", n);
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 256;
        size_t *s = realloc(e->word_start, cap * sizeof *s);
        if (s == NULL)
            return tk_error_set(err, TK_E_NOMEM, "tokenizer: out of memory");
        e->word_start = s;
        uint32_t *l = realloc(e->word_len, cap * sizeof *l);
        if (l == NULL)
            return tk_error_set(err, TK_E_NOMEM, "tokenizer: out of memory");
        e->word_len = l;
        int32_t *ids = realloc(e->ids, cap * sizeof *ids);
        if (ids == NULL)
            return tk_error_set(err, TK_E_NOMEM, "tokenizer: out of memory");
        e->ids = ids;
        e->cap = cap;
    }
    e->word_start[e->n] = start;
    e->word_len[e->n] = (uint32_t)n;
    e->ids[e->n] = 0;
    e->n++;
    return TK_OK;
}

/* Room for `more` bytes after the first `used` of e->buf. */
static tk_status reserve(tk_encoded *e, size_t used, size_t more, tk_error *err)
{
    if (used + more <= e->buf_cap)
        return TK_OK;
    size_t cap = e->buf_cap ? e->buf_cap : 1024;
    while (cap < used + more) {
        if (cap > SIZE_MAX / 2)
            return tk_error_set(err, TK_E_NOMEM, "tokenizer: text too long");
        cap *= 2;
    }
    char *b = realloc(e->buf, cap);
    if (b == NULL)
        return tk_error_set(err, TK_E_NOMEM, "tokenizer: out of memory");
    e->buf = b;
    e->buf_cap = cap;
    return TK_OK;
}

/* The code point at p (n > 0 bytes) and the bytes it takes; -1 and 1 for
 * a byte that does not start a valid UTF-8 sequence. */
static size_t decode(const unsigned char *p, size_t n, int32_t *cp)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t used = utf8proc_iterate(p, (utf8proc_ssize_t)n, &c);
    if (used <= 0) {
        *cp = -1;
        return 1;
    }
    *cp = c;
    return (size_t)used;
}

/* Unicode's Case_Ignorable: categories Mn Me Cf Lm Sk and the Word_Break
 * classes MidLetter, MidNumLet and Single_Quote. */
static bool case_ignorable(int32_t cp)
{
    switch (cp) {
    case 0x27: case 0x2e: case 0x3a: case 0xb7: case 0x387: case 0x55f: case 0x5f4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xfe13: case 0xfe52:
    case 0xfe55: case 0xff07: case 0xff0e: case 0xff1a:
        return true;
    default:
        break;
    }
    if (cp < 0)
        return false;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_CF ||
           c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_SK;
}

/* Unicode's Cased: upper, lower or title case letters, and the symbols
 * with a case mapping (Ⓐ, Ⅰ, ...). */
static bool cased(int32_t cp)
{
    if (cp < 0)
        return false;
    utf8proc_category_t c = utf8proc_category(cp);
    if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT)
        return true;
    return utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp;
}

/* Python's lower() of cp, which ends at byte `next` of text; after_cased:
 * the last character before it that is not case-ignorable is cased. */
static int python_lower(const unsigned char *text, size_t len, size_t next, int32_t cp,
                        bool after_cased, int32_t out[2])
{
    if (cp == 0x130) {
        out[0] = 'i';
        out[1] = 0x307;
        return 2;
    }
    if (cp == 0x3a3) {
        /* Final_Sigma: cased (case-ignorable)* Σ, not followed by
         * (case-ignorable)* cased. */
        bool final = after_cased;
        for (size_t j = next; final && j < len;) {
            int32_t c;
            j += decode(text + j, len - j, &c);
            if (!case_ignorable(c)) {
                final = !cased(c);
                break;
            }
        }
        out[0] = final ? 0x3c2 : 0x3c3;
        return 1;
    }
    out[0] = cp < 0 ? cp : utf8proc_tolower(cp);
    return 1;
}

/* ascii: the filters below 128 as a table (built per text: the filters
 * are few, the characters many); the others are looked up in the list. */
static bool is_filter(const tk_keras_text_rules *r, const bool ascii[128], int32_t cp)
{
    if (cp < 128)
        return ascii[cp];
    for (size_t k = 0; k < r->n_filters; k++)
        if (r->filters[k] == cp)
            return true;
    return false;
}

tk_status tk_keras_text_words(const tk_keras_text_rules *r, const char *text, size_t len,
                              tk_encoded *e, tk_error *err)
{
    const unsigned char *in = (const unsigned char *)text;
    e->n = 0;
    size_t o = 0;
    bool ascii[128] = {false};
    for (size_t k = 0; k < r->n_filters; k++)
        if (r->filters[k] >= 0 && r->filters[k] < 128)
            ascii[r->filters[k]] = true;
    bool after_cased = false;
    /* Per output code point at most 4 bytes, or the split string. */
    size_t unit = r->split_len > 4 ? r->split_len : 4;
    for (size_t i = 0; i < len;) {
        int32_t cp;
        size_t at = i;
        i += decode(in + i, len - i, &cp);
        int32_t low[2] = {cp, 0};
        int n_low = r->lower ? python_lower(in, len, i, cp, after_cased, low) : 1;
        if (!case_ignorable(cp))
            after_cased = cased(cp);
        tk_status st = reserve(e, o, 2 * unit + 1, err);
        if (st != TK_OK)
            return st;
        for (int k = 0; k < n_low; k++) {
            size_t start = o;
            if (low[k] < 0)
                e->buf[o++] = (char)in[at]; /* an invalid byte, kept */
            else if (!r->char_level && is_filter(r, ascii, low[k])) {
                memcpy(e->buf + o, r->split, r->split_len);
                o += r->split_len;
                continue;
            } else
                o += (size_t)utf8proc_encode_char(low[k], (utf8proc_uint8_t *)e->buf + o);
            if (r->char_level && (st = tk_encoded_push(e, start, o - start, err)) != TK_OK)
                return st;
        }
    }
    tk_status st = reserve(e, o, 1, err);
    if (st != TK_OK)
        return st;
    e->buf[o] = '\0';
    if (r->char_level)
        return TK_OK;
    /* str.split(split): the pieces between non-overlapping occurrences,
     * left to right; empty pieces dropped. */
    size_t from = 0;
    while (from <= o) {
        const char *hit = memmem(e->buf + from, o - from, r->split, r->split_len);
        size_t end = hit ? (size_t)(hit - e->buf) : o;
        if (end > from && (st = tk_encoded_push(e, from, end - from, err)) != TK_OK)
            return st;
        if (hit == NULL)
            break;
        from = end + r->split_len;
    }
    return TK_OK;
}

/* TextVectorization's DEFAULT_STRIP_REGEX: string.punctuation, the
 * apostrophe included. */
static bool tv_punctuation(unsigned char c)
{
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
           (c >= '{' && c <= '~');
}

static bool ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

tk_status tk_text_vectorization_words(bool strip, const char *text, size_t len, tk_encoded *e,
                                      tk_error *err)
{
    e->n = 0;
    tk_status st = reserve(e, 0, len + 1, err);
    if (st != TK_OK)
        return st;
    /* Every step is per byte (tf.strings.lower and the strip regex touch
     * ASCII only), so one pass does lower, delete and split. */
    size_t o = 0, word = 0;
    bool in_word = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (ascii_space(c)) {
            if (in_word && (st = tk_encoded_push(e, word, o - word, err)) != TK_OK)
                return st;
            in_word = false;
            continue;
        }
        if (strip && tv_punctuation(c))
            continue; /* deleted: "don't" is one word, "dont" */
        if (strip && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        if (!in_word) {
            word = o;
            in_word = true;
        }
        e->buf[o++] = (char)c;
    }
    if (in_word && (st = tk_encoded_push(e, word, o - word, err)) != TK_OK)
        return st;
    e->buf[o] = '\0';
    return TK_OK;
}
