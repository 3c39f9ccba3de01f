/* The end-of-run summary of `tokattr run` computed from the results file
 * itself, over every review marked done: after --resume the figures cover
 * the reviews of earlier runs too, not only those computed now. */
#ifndef TOKATTR_CLI_RUN_SUMMARY_H
#define TOKATTR_CLI_RUN_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

typedef struct tk_file_method_stats {
    char name[64];
    int64_t n;               /* reviews marked done */
    double mean_abs_error;   /* mean |axiom_error| over the finite ones */
    double max_abs_error;
    int64_t n_nonfinite_error; /* reviews whose axiom error is NaN or infinite */
    int64_t n_nonfinite_score; /* tokens whose score is NaN or infinite */
    int64_t n_all_zero;      /* reviews (with tokens) whose scores are all exactly 0 */
    bool has_faith;          /* /faithfulness/<method>: mean AOPC and that of the random order */
    double faith_aopc, faith_random_aopc;
} tk_file_method_stats;

typedef struct tk_file_summary {
    int64_t n_reviews;       /* in the file */
    int64_t n_done;          /* marked done */
    int n_methods;
    tk_file_method_stats *methods; /* (n_methods) */
} tk_file_summary;

tk_status tk_file_summary_read(const char *path, tk_file_summary *out, tk_error *err);
void tk_file_summary_free(tk_file_summary *s);

#endif
