/* Run summary from the results file (run_summary.h). */
#include "cli/run_summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/results.h"

/* The same figures as the pipeline's per-run statistics (pipeline/run.c),
 * over the file's done reviews. */
static void method_stats(const tk_results *r, const tk_results_method *m, tk_file_method_stats *s)
{
    snprintf(s->name, sizeof s->name, "%s", m->name);
    double sum = 0, aopc = 0, random_aopc = 0;
    int64_t n_finite = 0;
    for (int64_t i = 0; i < r->n; i++) {
        if (!r->done[i])
            continue;
        s->n++;
        if (m->axiom_error) {
            double e = fabs(m->axiom_error[i]);
            if (!isfinite(e)) {
                s->n_nonfinite_error++;
            } else {
                sum += e;
                n_finite++;
                if (e > s->max_abs_error)
                    s->max_abs_error = e;
            }
        }
        int64_t b = r->token_offset[i], e = r->token_offset[i + 1];
        bool zero = e > b;
        for (int64_t t = b; t < e; t++) {
            if (!isfinite(m->score[t]))
                s->n_nonfinite_score++;
            zero = zero && m->score[t] == 0.0f;
        }
        s->n_all_zero += zero;
        const tk_results_faith *f = m->faith;
        if (f && f->aopc && f->random_curve) {
            const float *rc = f->random_curve + i * f->k1; /* (k1) */
            double drop = 0;
            for (int j = 0; j < f->k1; j++)
                drop += (double)rc[0] - rc[j];
            s->has_faith = true;
            aopc += f->aopc[i];
            random_aopc += drop / f->k1;
        }
    }
    s->mean_abs_error = n_finite > 0 ? sum / (double)n_finite : 0;
    if (s->n > 0) {
        s->faith_aopc = aopc / (double)s->n;
        s->faith_random_aopc = random_aopc / (double)s->n;
    }
}

tk_status tk_file_summary_read(const char *path, tk_file_summary *out, tk_error *err)
{
    memset(out, 0, sizeof *out);
    tk_results *r = NULL;
    tk_status st = tk_results_load(path, &r, err);
    if (st != TK_OK)
        return st;
    out->methods = tk_calloc(r->n_methods > 0 ? (size_t)r->n_methods : 1, sizeof *out->methods,
                             err);
    if (!out->methods) {
        tk_results_destroy(r);
        return TK_E_NOMEM;
    }
    out->n_methods = r->n_methods;
    out->n_reviews = r->n;
    for (int64_t i = 0; i < r->n; i++)
        out->n_done += r->done[i] != 0;
    for (int k = 0; k < r->n_methods; k++)
        method_stats(r, &r->methods[k], &out->methods[k]);
    tk_results_destroy(r);
    return TK_OK;
}

void tk_file_summary_free(tk_file_summary *s)
{
    if (!s)
        return;
    free(s->methods);
    s->methods = NULL;
    s->n_methods = 0;
}
