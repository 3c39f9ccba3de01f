#include "core/utf8.h"

#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

static const char REPLACEMENT[3] = {'\xEF', '\xBF', '\xBD'}; /* U+FFFD */

/* utf8proc_iterate stops at a NUL byte's code point 0, which is valid and 1
 * byte long; no sequence is longer than 4 bytes. */
size_t tk_utf8_next(const char *s, size_t left, int32_t *cp)
{
    utf8proc_int32_t c = -1;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s,
                                          (utf8proc_ssize_t)(left > 4 ? 4 : left), &c);
    *cp = n > 0 ? c : -1;
    return n > 0 ? (size_t)n : 0;
}

bool tk_utf8_displayable(int32_t cp)
{
    return cp >= 0 && !(cp < 0x20 && cp != '\t' && cp != '\n') && cp != 0x7F &&
           !(cp >= 0x80 && cp < 0xA0);
}

static size_t valid_at(const char *s, size_t left)
{
    int32_t cp;
    return tk_utf8_next(s, left, &cp);
}

bool tk_utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = valid_at(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t tk_utf8_replaced_len(const char *s, size_t len)
{
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        size_t n = valid_at(s + i, len - i);
        out += n == 0 ? sizeof REPLACEMENT : n;
        i += n == 0 ? 1 : n;
    }
    return out;
}

size_t tk_utf8_replace_into(char *dst, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = valid_at(s + i, len - i);
        if (n == 0) {
            memcpy(dst + o, REPLACEMENT, sizeof REPLACEMENT);
            o += sizeof REPLACEMENT;
            i++;
        } else {
            memcpy(dst + o, s + i, n);
            o += n;
            i += n;
        }
    }
    return o;
}

char *tk_utf8_replace_invalid(const char *s, size_t len, size_t *out_len, tk_error *err)
{
    char *out = tk_malloc(tk_utf8_replaced_len(s, len) + 1, 1, err);
    if (out == NULL)
        return NULL;
    size_t o = tk_utf8_replace_into(out, s, len);
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return out;
}
