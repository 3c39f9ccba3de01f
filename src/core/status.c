#include "core/status.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tk_strerror(tk_status status)
{
    switch (status) {
    case TK_OK: return "success";
    case TK_E_IO: return "I/O error";
    case TK_E_FORMAT: return "bad format";
    case TK_E_UNSUPPORTED: return "unsupported";
    case TK_E_INVALID: return "invalid input";
    case TK_E_NOMEM: return "out of memory";
    case TK_E_MPI: return "MPI error";
    case TK_E_INTERRUPTED: return "interrupted";
    case TK_E_INTERNAL: return "internal error";
    }
    return "unknown error";
}

static void set_message(tk_error *err, tk_status status, const char *fmt, va_list ap)
{
    err->status = status;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

tk_status tk_error_set(tk_error *err, tk_status status, const char *fmt, ...)
{
    if (err != NULL && err->status == TK_OK) {
        va_list ap;
        va_start(ap, fmt);
        set_message(err, status, fmt, ap);
        va_end(ap);
    }
    return status;
}

tk_status tk_error_reset(tk_error *err, tk_status status, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        set_message(err, status, fmt, ap);
        va_end(ap);
    }
    return status;
}

void tk_error_prefix(tk_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char prefix[TK_ERROR_MAX];
    char old[TK_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation keeps the start of the sentence, which names the file. */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    err->msg[n] = ':';
    err->msg[n + 1] = ' ';
    size_t rest = sizeof err->msg - n - 3;
    size_t m = strlen(old);
    if (m > rest)
        m = rest;
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
}

void tk_error_clear(tk_error *err)
{
    if (err != NULL) {
        err->status = TK_OK;
        err->msg[0] = '\0';
    }
}

void *tk_malloc(size_t count, size_t size, tk_error *err)
{
    if (size != 0 && count > SIZE_MAX / size) {
        tk_error_set(err, TK_E_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    size_t bytes = count * size;
    void *p = malloc(bytes ? bytes : 1);
    if (p == NULL)
        tk_error_set(err, TK_E_NOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *tk_calloc(size_t count, size_t size, tk_error *err)
{
    if (size != 0 && count > SIZE_MAX / size) {
        tk_error_set(err, TK_E_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        tk_error_set(err, TK_E_NOMEM, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}
