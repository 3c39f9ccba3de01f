/* Progress of a long run on stderr: a bar with rate and ETA when stderr is
 * a terminal, a plain line every few seconds otherwise (a Slurm log). */
#ifndef TOKATTR_CORE_PROGRESS_H
#define TOKATTR_CORE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct tk_progress {
    FILE *out;
    char label[48];
    char unit[16];        /* "reviews", "batches", ... */
    int64_t total;
    int64_t done;
    int64_t done_at_start; /* already done when the run began (resume) */
    double t_start;        /* seconds, monotonic */
    double t_last_print;
    double plain_interval; /* seconds between plain lines */
    bool tty;
    bool enabled;
} tk_progress;

/* enabled = false makes every call a no-op (ranks other than 0, --quiet). */
void tk_progress_start(tk_progress *p, FILE *out, const char *label, const char *unit,
                       int64_t total, int64_t already_done, bool enabled);
void tk_progress_update(tk_progress *p, int64_t done);
/* Prints the final line: count, time, rate. */
void tk_progress_finish(tk_progress *p);

/* Monotonic wall clock in seconds. */
double tk_now(void);

#endif
