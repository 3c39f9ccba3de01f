/* The review-name parser (tk_imdb_classify, src/data/imdb_reader.c): any
 * entry path is classified; a review has a sane id, rating and label. */
#include <stdlib.h>
#include <string.h>

#include "data/imdb_reader.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_cstr(data, size);
    int split = -1, label = -1, rating = -1;
    int32_t id = -1;
    int kind = tk_imdb_classify(path, &split, &label, &id, &rating);
    if (kind < -1 || kind > 1)
        abort();
    if (kind == 1 && (id < 0 || rating < 1 || rating > 10 || (label != 0 && label != 1) ||
                      (split != TK_SPLIT_TRAIN && split != TK_SPLIT_TEST)))
        abort();
    free(path);
    return 0;
}
