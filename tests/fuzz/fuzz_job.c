/* Job YAML (src/cli/job.c) from bytes: the parse must end in a job or a
 * message, never a crash. */
#include <stdlib.h>
#include <string.h>

#include "cli/job.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *yaml = fuzz_cstr(data, size);
    tk_job *job = NULL;
    tk_error err = {0};
    /* tk_job_load refuses NUL bytes before parsing; so does the harness. */
    if (strlen(yaml) == size &&
        fuzz_verdict("job", tk_job_parse(yaml, "fuzz.yaml", "jobs", "shared", &job, &err), &err) == TK_OK &&
        job == NULL)
        abort(); /* success without a job */
    tk_job_destroy(job);
    free(yaml);
    return 0;
}
