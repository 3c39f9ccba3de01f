/* Dataset-wide findings computed from a loaded results file: method
 * agreement, error and faithfulness summaries, review selection.
 * Only reviews with /progress/done = 1 count. Plain C, no I/O. */
#ifndef TOKATTR_REPORT_AGGREGATE_H
#define TOKATTR_REPORT_AGGREGATE_H

#include <stdint.h>

#include "core/status.h"
#include "report/results.h"

/* Word tables are export.h's oriented ranking (tk_word_index_rank), the
 * one definition shared with `tokattr export --words`. */

/* Spearman rank correlation of a and b (n): Pearson correlation of their
 * ranks, ties given their average rank. NaN when n < 2 or a ranking is
 * constant. scratch: 4 * n doubles (two rank vectors and a sort buffer). */
double tk_report_spearman(const float *a, const float *b, int n, double *scratch);

/* Per review i (N), the Spearman correlation between methods ma and mb over
 * the review's tokens; NaN for reviews not done or too short. */
tk_status tk_report_agreement(const tk_results *r, int ma, int mb, double *rho, tk_error *err);

/* All method pairs at once, each review's ranks computed once per method:
 * rho (n_pairs, N) row-major with pairs in the order (0,1), (0,2), ...,
 * (1,2), ...; n_pairs = M (M - 1) / 2. NaN as above. */
tk_status tk_report_agreement_all(const tk_results *r, double *rho, tk_error *err);

/* Indices of done reviews sorted by confidence of the prediction,
 * descending, restricted to correct (want_correct) or wrong predictions
 * with a known label; at most max of them. Returns the count. */
int64_t tk_report_confident(const tk_results *r, bool want_correct, int64_t max, int64_t *idx,
                            tk_error *err);

/* Up to max distinct done reviews drawn with a seeded generator
 * (SplitMix64): the same seed gives the same sample. Returns the count. */
int64_t tk_report_random_sample(const tk_results *r, uint64_t seed, int64_t max, int64_t *idx);

/* Accuracy of the predictions against the labels over done reviews with a
 * label >= 0; *n_scored receives the count (accuracy NaN when 0). */
double tk_report_accuracy(const tk_results *r, int64_t *n_scored);

/* Quantile q in [0,1] of v (n), which is sorted in place; NaN when n = 0. */
double tk_report_quantile(double *v, int64_t n, double q);

/* Means over done reviews (NaN entries skipped) of one method's
 * /faithfulness data. curve and random_curve (k1) are allocated; free(). */
typedef struct tk_faith_summary {
    int k1;
    double *curve;        /* (k1) mean deletion curve */
    double *random_curve; /* (k1), or NULL */
    double aopc;          /* from /aopc, or computed from the curves */
    double random_aopc;   /* the same for the random order (NaN without one) */
    double comprehensiveness, sufficiency; /* NaN when absent */
    int64_t n;            /* reviews averaged */
} tk_faith_summary;

tk_status tk_report_faith_summary(const tk_results *r, int m, tk_faith_summary *s, tk_error *err);
void tk_report_faith_summary_free(tk_faith_summary *s);

#endif
