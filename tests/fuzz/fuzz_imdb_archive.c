/* The archive reader (tk_imdb_read, src/data/imdb_reader.c): the bytes are
 * an archive (tar, tar.gz, zip, ... whatever libarchive reads); every review
 * it hands over must have a sane shape. */
#include <stdlib.h>
#include <string.h>

#include "data/imdb_reader.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tk_status visit(void *ctx, const tk_imdb_review *r, tk_error *err)
{
    (void)err;
    size_t *seen = ctx;
    if ((r->len > 0 && r->text == NULL) || r->entry == NULL || r->rating < 1 || r->rating > 10)
        abort();
    volatile char sink = 0;
    for (size_t i = 0; i < r->len; i++)
        sink ^= r->text[i]; /* the bytes must be readable */
    (void)sink;
    ++*seen;
    return TK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_path("archive", ".tar.gz");
    if (fuzz_write_file(path, data, size) != 0)
        abort();
    size_t seen = 0;
    tk_error err = {0};
    fuzz_verdict("imdb_archive", tk_imdb_read(path, visit, &seen, &err), &err);
    return 0;
}
