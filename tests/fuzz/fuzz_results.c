/* A results file as `tokattr report` reads it (tk_results_load,
 * src/report/results.c) and as `run --resume` reopens it
 * (tk_writer_open_resume, src/pipeline/writer.c), built from an h5_script
 * (support/h5_script.h). The resume check uses a fixed small layout: 2
 * reviews of 3 and 2 tokens, 2 classes, one method "ig". */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_support.h"
#include "h5_script.h"
#include "pipeline/writer.h"
#include "report/results.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_hdf5();
    return 0;
}

static void check_resume(const char *path)
{
    static const int64_t index[2] = {0, 1}, offset[3] = {0, 3, 5};
    static const int32_t review_id[2] = {10, 11}, label[2] = {0, 1}, rating[2] = {2, 9};
    static const int32_t token_id[5] = {1, 5, 6, 1, 7}, word_pos[5] = {-1, 0, 1, -1, 0};
    tk_method_params method;
    tk_error err = {0};
    tk_method_params_default(&method, TK_METHOD_INTEGRATED_GRADIENTS);
    snprintf(method.name, sizeof method.name, "ig");
    tk_writer_layout layout = {.n = 2, .index = index, .review_id = review_id, .label = label,
                               .rating = rating, .token_offset = offset, .token_id = token_id,
                               .word_pos = word_pos, .n_classes = 2, .n_methods = 1,
                               .methods = &method};
    tk_writer_meta meta = {.job_yaml = "model: m.h5\n", .model_sha256 = "0", .dataset_sha256 = "0"};
    uint8_t done[2];
    tk_writer *w = NULL;
    tk_status st = tk_writer_open_resume(path, &layout, &meta, done, &w, &err);
    fuzz_verdict("results", st, &err);
    tk_writer_abandon(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_path("results", ".h5");
    if (h5_script_build(path, data, size) != 0)
        return 0;
    tk_results *r = NULL;
    tk_error err = {0};
    fuzz_verdict("results", tk_results_load(path, &r, &err), &err);
    if (r != NULL) {
        char buf[32];
        for (int64_t t = 0; t < r->t; t++)
            (void)tk_results_word(r, r->token_id[t], buf, sizeof buf);
        for (int64_t i = 0; i < r->n; i++)
            (void)tk_results_confidence(r, i);
    }
    tk_results_destroy(r);
    check_resume(path);
    return 0;
}
