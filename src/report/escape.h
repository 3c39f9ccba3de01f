/* Text from a results file (vocabulary words, attributes, the job YAML) is
 * untrusted: it may hold markup, quotes, control characters and bytes that
 * are not UTF-8. These helpers make it safe for HTML, JSON and CSV. */
#ifndef TOKATTR_REPORT_ESCAPE_H
#define TOKATTR_REPORT_ESCAPE_H

#include <stdio.h>

#include "core/status.h"

/* Writes s as HTML text or attribute content: & < > " ' as entities,
 * invalid UTF-8 and control characters other than tab and newline as
 * U+FFFD (the replacement character). */
void tk_html_escape(FILE *out, const char *s);

/* A copy of s that is valid UTF-8 without control characters (except tab
 * and newline), invalid bytes replaced by U+FFFD; free() it. NULL on
 * allocation failure (err set). */
char *tk_utf8_sanitize(const char *s, tk_error *err);

/* Writes s as one CSV field (RFC 4180): sanitized, quoted when it holds a
 * comma, quote, newline or leading/trailing space, quotes doubled. */
void tk_csv_field(FILE *out, const char *s);

/* Writes s as a JSON string literal (quotes included) that is safe inside
 * an HTML <script> element: sanitized as above, then " \\ and control
 * characters escaped per RFC 8259, and < > & as \u003c \u003e \u0026 so
 * that no "</script>" or "<!--" can close or comment the element; U+2028
 * and U+2029 as \u2028 \u2029 (line terminators to older JavaScript). */
void tk_json_script_string(FILE *out, const char *s);

#endif
