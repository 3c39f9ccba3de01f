#include "core/paths.h"

#include <stdio.h>
#include <stdlib.h>
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
