/* Per-run statistics (run_stats.h). */
#include "pipeline/run_stats.h"

void tk_run_stats_add(tk_run_method_stats *ms, int n_methods, const tk_method_params *methods,
                      const tk_chunk_result *r, const int64_t *tok_off)
{
    for (int k = 0; k < r->n_methods && k < n_methods; k++) {
        tk_run_method_stats *m = &ms[k];
        for (int64_t i = 0; i < r->count; i++) {
            double e = r->axiom_error[(int64_t)k * r->count + i];
            e = e < 0 ? -e : e;
            m->mean_abs_error += e; /* a sum until the end */
            if (e > m->max_abs_error)
                m->max_abs_error = e;
        }
        const float *sc = r->score + (int64_t)k * r->tc; /* (tc) this method's chunk scores */
        for (int64_t i = 0; i < r->count; i++) {
            int64_t b = tok_off[i] - tok_off[0], e = tok_off[i + 1] - tok_off[0];
            bool zero = e > b;
            for (int64_t t = b; t < e && zero; t++)
                zero = sc[t] == 0.0f;
            m->n_all_zero += zero;
        }
        for (int64_t i = 0; r->faith_k1 > 0 && i < r->count; i++) {
            int64_t o = (int64_t)k * r->count + i;
            const float *rc = r->faith_random + o * r->faith_k1; /* (K+1) */
            double drop = 0;
            for (int j = 0; j < r->faith_k1; j++)
                drop += (double)rc[0] - rc[j];
            m->has_faith = true;
            m->faith_aopc += r->faith_aopc[o]; /* sums until the end */
            m->faith_random_aopc += drop / r->faith_k1;
        }
        const tk_method_params *mp = &methods[k];
        for (int64_t i = 0; mp->kind == TK_METHOD_INTEGRATED_GRADIENTS && i < r->count; i++) {
            int64_t o = (int64_t)k * r->count + i;
            m->steps_sum += r->steps[o];
            if (r->steps[o] > m->steps_max)
                m->steps_max = r->steps[o];
            if (mp->rule != TK_IG_ADAPTIVE)
                continue;
            double est = r->error_estimate[o];
            m->has_tolerance = true;
            m->n_over_tolerance += !(est <= mp->tolerance); /* NaN counts as over */
            if (!(est <= m->max_error_estimate))
                m->max_error_estimate = est;
        }
        m->n += r->count;
    }
}

void tk_run_stats_merge(tk_run_method_stats *dst, const tk_run_method_stats *src, int n_methods)
{
    for (int k = 0; k < n_methods; k++) {
        tk_run_method_stats *d = &dst[k];
        const tk_run_method_stats *s = &src[k];
        if (s->n == 0)
            continue;
        d->n += s->n;
        d->mean_abs_error += s->mean_abs_error;
        if (s->max_abs_error > d->max_abs_error)
            d->max_abs_error = s->max_abs_error;
        d->n_all_zero += s->n_all_zero;
        d->has_faith = d->has_faith || s->has_faith;
        d->faith_aopc += s->faith_aopc;
        d->faith_random_aopc += s->faith_random_aopc;
        d->steps_sum += s->steps_sum;
        if (s->steps_max > d->steps_max)
            d->steps_max = s->steps_max;
        if (s->has_tolerance) {
            /* the comparison of tk_run_stats_add, so a NaN is treated alike */
            if (!(s->max_error_estimate <= d->max_error_estimate))
                d->max_error_estimate = s->max_error_estimate;
            d->has_tolerance = true;
        }
        d->n_over_tolerance += s->n_over_tolerance;
    }
}

void tk_run_stats_finish(tk_run_method_stats *ms, int n_methods)
{
    for (int k = 0; k < n_methods; k++)
        if (ms[k].n > 0) {
            ms[k].mean_abs_error /= (double)ms[k].n;
            ms[k].faith_aopc /= (double)ms[k].n;
            ms[k].faith_random_aopc /= (double)ms[k].n;
        }
}
