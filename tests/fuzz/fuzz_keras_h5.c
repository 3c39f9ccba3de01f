/* A Keras .h5 file (src/model/keras_h5.c): attributes (model_config,
 * keras_version, layer_names, weight_names) and weight datasets come from an
 * h5_script (support/h5_script.h), then tk_model_load reads the file. */
#include <stdlib.h>

#include "fuzz_support.h"
#include "h5_script.h"
#include "model/model.h"

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
    const char *path = fuzz_scratch_path("model", ".h5");
    if (h5_script_build(path, data, size) != 0)
        return 0;
    tk_model *m = NULL;
    tk_error err = {0};
    fuzz_verdict("keras_h5", tk_model_load(path, &m, &err), &err);
    tk_model_destroy(m);
    return 0;
}
