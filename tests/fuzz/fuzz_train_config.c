/* Training config YAML (src/cli/train_config.c); it reads a path. */
#include <stdlib.h>

#include "cli/train_config.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_path("train", ".yaml");
    if (fuzz_write_file(path, data, size) != 0)
        abort();
    tk_train_config *cfg = NULL;
    tk_error err = {0};
    fuzz_verdict("train_config", tk_train_config_load(path, &cfg, &err), &err);
    tk_train_config_destroy(cfg);
    return 0;
}
