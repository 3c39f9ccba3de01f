/* The stop deadline (stop_deadline.h). */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/stop_deadline.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/status.h"

/* What the handlers may read: set once before any stop signal is handled. */
static struct itimerval deadline;
static bool speaker;
static char stop_note[4608], kill_note[4608];
static size_t stop_note_len, kill_note_len;
static volatile sig_atomic_t started = 0;

enum { EXIT_RESUMABLE = 3 }; /* TK_EXIT_RESUMABLE of the command line */

static void on_deadline(int sig)
{
    (void)sig;
    if (speaker && write(STDERR_FILENO, kill_note, kill_note_len) < 0) {
        /* nothing more can be done about a closed stderr */
    }
    _exit(EXIT_RESUMABLE);
}

void tk_stop_deadline_setup(double seconds, bool is_speaker, const char *partial)
{
    memset(&deadline, 0, sizeof deadline);
    speaker = is_speaker;
    if (!(seconds > 0))
        return;
    /* Rank 0 ends first: once one rank has left, Open MPI kills the others
     * at once, and rank 0 is the one that writes the file and says how to
     * resume. The others get their status 3 in if they can before that. */
    seconds *= is_speaker ? 0.8 : 1.5;
    deadline.it_value.tv_sec = (time_t)seconds;
    deadline.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
    snprintf(stop_note, sizeof stop_note,
             "tokattr run: stopping on a signal (mpirun kills the ranks soon after); %s stays "
             "resumable: run the same command with --resume\n",
             partial);
    snprintf(kill_note, sizeof kill_note,
             "tokattr run: ending the ranks with status 3 %.2g s after the signal, ahead of "
             "mpirun's kill; %s is resumable: run the same command with --resume\n",
             seconds, partial);
    stop_note_len = strlen(stop_note);
    kill_note_len = strlen(kill_note);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_deadline;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

void tk_stop_deadline_start(int sig)
{
    if ((sig != SIGTERM && sig != SIGINT) || started || deadline.it_value.tv_sec < 0 ||
        (deadline.it_value.tv_sec == 0 && deadline.it_value.tv_usec == 0))
        return;
    started = 1;
    if (speaker && write(STDERR_FILENO, stop_note, stop_note_len) < 0) {
        /* as above */
    }
    setitimer(ITIMER_REAL, &deadline, NULL);
}

void tk_stop_deadline_disarm(void)
{
    started = 1;
}

double tk_stop_deadline_for_env(void)
{
    const char *hnp = getenv("OMPI_MCA_orte_hnp_uri");
    if (!hnp || !*hnp)
        return 0;
    double timeout = 1.0; /* Open MPI 4's default */
    const char *t = getenv("OMPI_MCA_odls_base_sigkill_timeout");
    if (t && *t) {
        char *end;
        double v = strtod(t, &end);
        if (end != t && !*end && v > 0)
            timeout = v;
    }
    return timeout / 2;
}
