/* Word vectors as word2vec text (src/data/word_vectors.c). */
#include <math.h>
#include <stdlib.h>

#include "data/word_vectors.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_path("w2v", ".txt");
    if (fuzz_write_file(path, data, size) != 0)
        abort();
    tk_word_vectors *wv = NULL;
    tk_error err = {0};
    fuzz_verdict("word2vec", tk_word_vectors_load_text(path, &wv, &err), &err);
    for (int64_t i = 0; wv && i < wv->n * wv->dim; i++)
        if (!isfinite(wv->vectors[i]))
            abort(); /* numbers are checked where they enter */
    tk_word_vectors_destroy(wv);
    return 0;
}
