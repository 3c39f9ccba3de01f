#include "core/utf8.h"

#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

static const char REPLACEMENT[3] = {'\xEF', '\xBF', '\xBD'}; /* U+FFFD */

/* Length of the valid sequence at s (left bytes > 0), or 0 if the byte at s
 * does not begin one. utf8proc_iterate stops at a NUL byte's code point 0,
 * which is valid and 1 byte long. */
static size_t valid_at(const char *s, size_t left)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s,
                                          (utf8proc_ssize_t)(left > 4 ? 4 : left), &cp);
    return n > 0 ? (size_t)n : 0;
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
