#define _POSIX_C_SOURCE 200809L
#include "fuzz_support.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_SCRATCH = 8 };
static char scratch[MAX_SCRATCH][512];
static char scratch_tag[MAX_SCRATCH][64];
static int n_scratch;

static void remove_scratch(void)
{
    for (int i = 0; i < n_scratch; i++)
        unlink(scratch[i]);
}

const char *fuzz_scratch_path(const char *tag, const char *suffix)
{
    for (int i = 0; i < n_scratch; i++)
        if (strcmp(scratch_tag[i], tag) == 0)
            return scratch[i];
    if (n_scratch == MAX_SCRATCH)
        abort(); /* a harness bug, not a finding */
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    snprintf(scratch[n_scratch], sizeof scratch[0], "%s/tokattr-fuzz-%ld-%s%s", dir, (long)getpid(),
             tag, suffix);
    snprintf(scratch_tag[n_scratch], sizeof scratch_tag[0], "%s", tag);
    const char *keep = getenv("FUZZ_KEEP_SCRATCH");
    if (n_scratch == 0 && (keep == NULL || keep[0] != '1'))
        atexit(remove_scratch);
    return scratch[n_scratch++];
}

int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t wrote = size ? fwrite(data, 1, size, f) : 0;
    int bad = wrote != size;
    if (fclose(f) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_quiet_hdf5(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

tk_status fuzz_verdict(const char *harness, tk_status st, const tk_error *err)
{
    static int verbose = -1;
    if (verbose < 0) {
        const char *v = getenv("FUZZ_VERBOSE");
        verbose = v != NULL && v[0] == '1';
    }
    if (verbose)
        fprintf(stderr, "%s: %s\n", harness, st == TK_OK ? "accepted" : err->msg);
    if (st != TK_OK && err->msg[0] == '\0')
        abort(); /* a refusal must say why */
    return st;
}
