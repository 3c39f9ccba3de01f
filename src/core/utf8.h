/* Text that tokattr stores or exports as UTF-8 (the vocabulary, the per-token
 * words, an exported word index) must be valid UTF-8, while the tokenizer
 * keeps reading the bytes as they are (DATA.md). The one rule, used by every
 * writer: each byte that does not begin a valid UTF-8 sequence (utf8proc's
 * decoder: no overlong forms, no surrogates, nothing above U+10FFFF) is
 * replaced by U+FFFD (EF BF BD), and decoding goes on at the next byte.
 * So "\xE9t\xE9" -> "\uFFFDt\uFFFD", "\xC3\x28" -> "\uFFFD(", and a
 * truncated 3-byte sequence "\xE2\x82" gives two U+FFFD. Valid text,
 * control characters included, is copied unchanged. */
#ifndef TOKATTR_CORE_UTF8_H
#define TOKATTR_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* The decoding step of the rule: the code point that begins s (left > 0
 * bytes) in *cp and its length in bytes, or 0 when the byte at s begins no
 * valid sequence (the caller replaces that one byte and goes on). */
size_t tk_utf8_next(const char *s, size_t left, int32_t *cp);

/* The display rule on top of it, for text we show rather than store (report
 * pages, CSV, JSON): a control character other than tab and newline (C0,
 * DEL, C1) is shown as U+FFFD too, like an invalid byte; false for those. */
bool tk_utf8_displayable(int32_t cp);

/* True when the len bytes of s are valid UTF-8 (NUL bytes count as valid). */
bool tk_utf8_valid(const char *s, size_t len);

/* Bytes tk_utf8_replace_invalid would write for s (len), without the NUL. */
size_t tk_utf8_replaced_len(const char *s, size_t len);

/* Writes the replaced text of s (len bytes) to dst, which has room for
 * tk_utf8_replaced_len(s, len) bytes (at most 3 * len); returns that length.
 * No NUL is appended. */
size_t tk_utf8_replace_into(char *dst, const char *s, size_t len);

/* A NUL-terminated copy of s (len bytes) with every invalid byte replaced by
 * U+FFFD as described above; *out_len (may be NULL) gets its length. free()
 * it. NULL on allocation failure (err set). */
char *tk_utf8_replace_invalid(const char *s, size_t len, size_t *out_len, tk_error *err);

#endif
