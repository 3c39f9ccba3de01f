/* Errors as values: every fallible function returns a tk_status and, on
 * failure, fills a tk_error with one sentence that names the file and the
 * problem. The command line prints that sentence and exits non-zero; library
 * code never prints and never exits. */
#ifndef TOKATTR_CORE_STATUS_H
#define TOKATTR_CORE_STATUS_H

#include <stddef.h>

typedef enum tk_status {
    TK_OK = 0,
    TK_E_IO,          /* a file could not be opened, read or written */
    TK_E_FORMAT,      /* a file's content is not what it must be */
    TK_E_UNSUPPORTED, /* valid input that tokattr does not handle */
    TK_E_INVALID,     /* a bad argument, option, key or value */
    TK_E_NOMEM,       /* an allocation failed */
    TK_E_MPI,         /* an MPI call failed or another rank failed */
    TK_E_INTERRUPTED, /* stopped by a signal; the work can be resumed */
    TK_E_INTERNAL     /* a bug: should never be seen */
} tk_status;

#define TK_ERROR_MAX 1024

typedef struct tk_error {
    tk_status status;
    char msg[TK_ERROR_MAX]; /* one sentence, no trailing newline */
} tk_error;

/* Short name of a status ("I/O error", "bad format", ...). */
const char *tk_strerror(tk_status status);

/* Records status and a printf-style message; returns status so that callers
 * can write `return tk_error_set(err, TK_E_IO, "%s: ...", path);`.
 * err may be NULL. An error already set is kept (the first cause wins). */
tk_status tk_error_set(tk_error *err, tk_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, replacing any message already set. */
tk_status tk_error_reset(tk_error *err, tk_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts "prefix: " in front of the message already recorded, e.g. the file. */
void tk_error_prefix(tk_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void tk_error_clear(tk_error *err);

/* Allocation helpers that record TK_E_NOMEM in err on failure. Sizes are
 * checked for overflow (count * size). Memory from them is freed with free(). */
void *tk_malloc(size_t count, size_t size, tk_error *err);
void *tk_calloc(size_t count, size_t size, tk_error *err);

#endif
