#define _POSIX_C_SOURCE 200809L
#include "core/progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

double tk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tk_progress_start(tk_progress *p, FILE *out, const char *label, const char *unit,
                       int64_t total, int64_t already_done, bool enabled)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    snprintf(p->label, sizeof p->label, "%s", label);
    snprintf(p->unit, sizeof p->unit, "%s", unit);
    p->total = total;
    p->done = already_done;
    p->done_at_start = already_done;
    p->t_start = tk_now();
    p->t_last_print = p->t_start;
    p->plain_interval = 10.0;
    p->tty = enabled && isatty(fileno(out));
    p->enabled = enabled;
}

static void format_duration(char *buf, size_t size, double seconds)
{
    if (seconds < 0 || seconds > 1e7) {
        snprintf(buf, size, "--:--");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf(buf, size, "%02ld:%02ld", s / 60, s % 60);
}

static void print_state(tk_progress *p, double now, bool final)
{
    double elapsed = now - p->t_start;
    int64_t new_done = p->done - p->done_at_start;
    double rate = elapsed > 0 ? (double)new_done / elapsed : 0.0;
    double eta = rate > 0 ? (double)(p->total - p->done) / rate : -1.0;
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 1.0;
    char eta_s[32], el_s[32];
    format_duration(eta_s, sizeof eta_s, eta);
    format_duration(el_s, sizeof el_s, elapsed);
    if (p->tty) {
        enum { WIDTH = 30 };
        char bar[WIDTH + 1];
        int fill = (int)(frac * WIDTH);
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(p->out, "\r%s [%s] %lld/%lld %s  %.1f/s  %s  ETA %s   %s", p->label, bar,
                (long long)p->done, (long long)p->total, p->unit, rate, el_s,
                final ? "00:00" : eta_s, final ? "\n" : "");
    } else {
        fprintf(p->out, "%s: %lld/%lld %s (%.1f%%), %.1f %s/s, elapsed %s, ETA %s\n", p->label,
                (long long)p->done, (long long)p->total, p->unit, 100.0 * frac, rate, p->unit,
                el_s, final ? "00:00" : eta_s);
    }
    fflush(p->out);
}

void tk_progress_update(tk_progress *p, int64_t done)
{
    if (!p->enabled)
        return;
    p->done = done;
    double now = tk_now();
    double interval = p->tty ? 0.2 : p->plain_interval;
    if (now - p->t_last_print >= interval) {
        p->t_last_print = now;
        print_state(p, now, false);
    }
}

void tk_progress_finish(tk_progress *p)
{
    if (!p->enabled)
        return;
    print_state(p, tk_now(), true);
}
