/* Word vectors as HDF5 /vectors + /words (src/data/word_vectors.c), the
 * file built from an h5_script (support/h5_script.h). */
#include <math.h>
#include <stdlib.h>

#include "data/word_vectors.h"
#include "fuzz_support.h"
#include "h5_script.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_hdf5();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_path("wvh5", ".h5");
    if (h5_script_build(path, data, size) != 0)
        return 0;
    tk_word_vectors *wv = NULL;
    tk_error err = {0};
    fuzz_verdict("word_vectors_h5", tk_word_vectors_load(path, &wv, &err), &err);
    for (int64_t i = 0; wv && i < wv->n * wv->dim; i++)
        if (!isfinite(wv->vectors[i]))
            abort();
    tk_word_vectors_destroy(wv);
    return 0;
}
