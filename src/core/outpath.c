#define _POSIX_C_SOURCE 200809L
#include "core/outpath.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Parent directory and last component of path (which need not exist). */
static bool split_path(const char *path, struct stat *dir, const char **base)
{
    char buf[4200];
    const char *slash = strrchr(path, '/');
    int len = slash ? (int)(slash - path) : 0;
    if (slash == NULL)
        snprintf(buf, sizeof buf, ".");
    else if (snprintf(buf, sizeof buf, "%.*s", len > 0 ? len : 1, path) >= (int)sizeof buf)
        return false;
    *base = slash ? slash + 1 : path;
    return stat(buf, dir) == 0;
}

bool tk_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (a == NULL || b == NULL)
        return false;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea || eb)
        return false;
    /* Neither exists yet (two outputs): the same name in the same directory. */
    const char *ba, *bb;
    return split_path(a, &sa, &ba) && split_path(b, &sb, &bb) && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino && strcmp(ba, bb) == 0 && ba[0] != '\0';
}

tk_status tk_outpath_check(const tk_path_role *output, const tk_path_role *inputs, int n,
                           tk_error *err)
{
    static const char *const siblings[] = TK_OUTPATH_SIBLINGS;
    if (output == NULL || output->path == NULL)
        return TK_OK;
    char sib[4200];
    for (int i = 0; i < n; i++) {
        const tk_path_role *in = &inputs[i];
        if (in->path == NULL)
            continue;
        if (tk_same_file(output->path, in->path))
            return tk_error_set(err, TK_E_INVALID,
                                "%s: the %s is the same file as the %s '%s'; refusing to write over "
                                "an input (nothing was changed)",
                                output->path, output->role, in->role, in->path);
        for (size_t s = 0; s < sizeof siblings / sizeof siblings[0]; s++) {
            int len = snprintf(sib, sizeof sib, "%s%s", output->path, siblings[s]);
            if (len > 0 && (size_t)len < sizeof sib && tk_same_file(sib, in->path))
                return tk_error_set(err, TK_E_INVALID,
                                    "%s: the %s '%s' is where this %s's temporary file '%s' goes; "
                                    "refusing to write over an input (nothing was changed)",
                                    output->path, in->role, in->path, output->role, sib);
        }
    }
    return TK_OK;
}

tk_status tk_outpath_replaceable(const tk_path_role *output, const char *kind,
                                 bool (*probe)(const char *path), tk_error *err)
{
    struct stat st;
    if (output == NULL || output->path == NULL || lstat(output->path, &st) != 0)
        return TK_OK; /* nothing there (or a dangling name the writer will report) */
    if (S_ISLNK(st.st_mode) && stat(output->path, &st) != 0)
        return TK_OK;
    if (!S_ISREG(st.st_mode))
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the %s exists and is not a regular file; refusing to replace it",
                            output->path, output->role);
    if (probe == NULL || !probe(output->path))
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the %s exists and is not a %s; refusing to replace it (only a "
                            "previous %s is replaced; remove the file yourself if it is not needed)",
                            output->path, output->role, kind, kind);
    return TK_OK;
}
