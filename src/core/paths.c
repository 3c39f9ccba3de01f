#include "core/paths.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool tk_shared_path(char *buf, size_t size, const char *explicit_dir, const char *relative)
{
    const char *dir = explicit_dir;
    if (dir == NULL || dir[0] == '\0')
        dir = getenv("TOKATTR_SHARED");
    if (dir == NULL || dir[0] == '\0')
        dir = "../shared";
    int n = snprintf(buf, size, "%s/%s", dir, relative);
    return n >= 0 && (size_t)n < size;
}

bool tk_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

tk_status tk_read_file(const char *path, char **data, size_t *len, tk_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tk_error_set(err, TK_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *b = cap <= SIZE_MAX / 2 ? realloc(buf, 2 * cap) : NULL;
        if (b == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (buf == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading the file", path);
    if (failed) {
        free(buf);
        return tk_error_set(err, TK_E_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return TK_OK;
}
