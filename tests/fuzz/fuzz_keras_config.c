/* Keras model_config JSON (src/model/keras_config.c), the text of the .h5
 * attribute, straight into the layer parser. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "model/keras_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_cstr(data, size);
    tk_model *m = NULL;
    tk_error err = {0};
    fuzz_verdict("keras_config", tk_keras_parse_config(json, "fuzz.h5", &m, &err), &err);
    tk_model_destroy(m);
    free(json);
    return 0;
}
