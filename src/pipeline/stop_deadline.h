/* A stop that beats Open MPI's kill. Ctrl-C or SIGTERM to `mpirun` makes
 * Open MPI 4 abort the job: its daemons send the ranks SIGTERM and, after
 * odls_base_sigkill_timeout seconds (default 1), SIGKILL, so a clean stop
 * that waits for the units in flight is often killed before it can say
 * anything. With a deadline set, the stop signal (SIGTERM / SIGINT) also
 * starts a timer; when the clean stop has not finished by then, the rank
 * ends at once with status 3 (rank 0 first saying how to resume). That
 * is as safe as the kill it forestalls: the results file keeps every
 * flushed unit (writer.h) and `--resume` recomputes the rest.
 *
 * Signal-handler state lives here, next to run.c's one flag, and only
 * async-signal-safe calls (write, setitimer, _exit) are made in it. */
#ifndef TOKATTR_PIPELINE_STOP_DEADLINE_H
#define TOKATTR_PIPELINE_STOP_DEADLINE_H

#include <stdbool.h>

/* seconds <= 0: no deadline (the clean stop may take as long as it needs).
 * speaker: this rank (rank 0) prints, and takes 0.8 x seconds, the others
 * 1.5 x, so rank 0 leaves first; partial: the file to resume. Not in a
 * handler. */
void tk_stop_deadline_setup(double seconds, bool speaker, const char *partial);

/* The run has failed and says so: a stop signal from now on (mpirun
 * killing the job after another rank's error exit) is no stop to report
 * as resumable, so the handler stays silent and starts no timer. */
void tk_stop_deadline_disarm(void);

/* From the stop-signal handler: SIGTERM and SIGINT start the timer once. */
void tk_stop_deadline_start(int sig);

/* The deadline for a rank launched by Open MPI's mpirun (ORTE sets
 * OMPI_MCA_orte_hnp_uri): half its SIGKILL timeout
 * (OMPI_MCA_odls_base_sigkill_timeout, default 1 s); 0 otherwise (srun,
 * a single process: nothing kills the ranks that fast). */
double tk_stop_deadline_for_env(void);

#endif
