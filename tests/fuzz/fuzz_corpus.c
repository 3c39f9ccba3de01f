/* The corpus readers (src/data/corpus*.c, issue 15): CSV, TSV, JSONL and
 * plain lines. Byte 0 picks the format (% 4) and, in its upper bits, which
 * of the label / id / split columns the options name; the rest is the file.
 * Every document handed over must have readable text and a split. */
#include <stdlib.h>

#include "data/corpus.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tk_status visit(void *ctx, const tk_corpus_doc *doc, tk_error *err)
{
    (void)err;
    size_t *n = ctx;
    if (doc->split == NULL || doc->where == NULL || (doc->len > 0 && doc->text == NULL))
        abort();
    volatile char sink = 0;
    for (size_t i = 0; i < doc->len; i++)
        sink ^= doc->text[i];
    for (const char *s = doc->label; s && *s; s++)
        sink ^= *s;
    for (const char *s = doc->id; s && *s; s++)
        sink ^= *s;
    (void)sink;
    ++*n;
    return TK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const tk_corpus_format formats[4] = {TK_CORPUS_CSV, TK_CORPUS_TSV, TK_CORPUS_JSONL,
                                                TK_CORPUS_LINES};
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const char *path = fuzz_scratch_path("corpus", ".txt");
    if (fuzz_write_file(path, data + 1, size - 1) != 0)
        abort();
    tk_corpus_options opt = {.source = path, .format = formats[sel % 4],
                             .label_column = (sel & 0x10) ? "label" : NULL,
                             .id_column = (sel & 0x20) ? "id" : NULL,
                             .split_column = (sel & 0x40) ? "split" : NULL,
                             .text_column = (sel & 0x80) ? "body" : NULL};
    size_t n = 0;
    tk_error err = {0};
    fuzz_verdict("corpus", tk_corpus_read(&opt, visit, &n, &err), &err);
    return 0;
}
