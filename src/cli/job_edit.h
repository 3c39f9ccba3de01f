/* What changed between the job text a results file was made with and the
 * job given to `tokattr run --resume`, and whether the change touches
 * what was computed (the job key table, job.h). Both texts are flattened
 * with libyaml into "path = value" leaves (`methods[0].n_steps = 50`), so
 * comments, blank lines, quoting style and key order are no change; the
 * differing leaves are the change.
 *
 * Also the results file's `job` attribute, read before a resume and
 * rewritten after a resume that accepted an edited job (the text it
 * replaces is appended to `job_history`). */
#ifndef TOKATTR_CLI_JOB_EDIT_H
#define TOKATTR_CLI_JOB_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

typedef struct tk_job_change {
    char *path;       /* "checkpoint_seconds", "methods[0].n_steps" */
    char *before;     /* the old value, or NULL when the key was absent */
    char *after;      /* the new value, or NULL when the key is gone */
    bool affects_results;
} tk_job_change;

typedef struct tk_job_diff {
    bool same_text;          /* byte for byte */
    int n_changes;           /* 0 with !same_text: comments or layout only */
    tk_job_change *changes;  /* (n_changes) in the new text's order, then removed keys */
    bool affects_results;    /* any change does */
} tk_job_diff;

/* Compares the texts; before / after name them in messages. A text that
 * is not YAML is an error. */
tk_status tk_job_diff_texts(const char *before, const char *after, tk_job_diff *out,
                            tk_error *err);
void tk_job_diff_free(tk_job_diff *d);

/* One line for messages: "comments or layout only", or
 * "chunk_size: 16 -> 32 (changes what is computed); checkpoint_seconds: 2 -> 5". */
void tk_job_diff_describe(const tk_job_diff *d, char *buf, size_t size);

/* The `job` attribute of a results file (NULL when it has none: *text
 * NULL, TK_OK). Opens read-only without HDF5's file lock, so every rank
 * may read it before the run starts. */
tk_status tk_results_job_text_read(const char *path, char **text, tk_error *err);

/* Replaces the `job` attribute by text and appends the replaced one to
 * `job_history` ("--- replaced by an edited job (tokattr run --resume
 * --allow-job-edit):\n<old text>"). */
tk_status tk_results_job_text_write(const char *path, const char *text, tk_error *err);

#endif
