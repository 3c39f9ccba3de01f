/* The run summary's per-method figures (tk_run_method_stats, run.h) from
 * chunk results. Both writers use these: the root writer adds every result
 * rank 0 receives; with the ranks writer each computing rank adds its own
 * units and sends the partial figures of a unit with its small "written"
 * message, and rank 0 merges them. Sums stay sums until tk_run_stats_finish.
 * No MPI here. */
#ifndef TOKATTR_PIPELINE_RUN_STATS_H
#define TOKATTR_PIPELINE_RUN_STATS_H

#include <stdint.h>

#include "attr/attr.h"
#include "pipeline/run.h"
#include "pipeline/writer.h"

/* Adds r's reviews to ms (n_methods); tok_off (r->count + 1) are the
 * reviews' token offsets (file-wide or from 0: only differences count). */
void tk_run_stats_add(tk_run_method_stats *ms, int n_methods, const tk_method_params *methods,
                      const tk_chunk_result *r, const int64_t *tok_off);

/* dst += src, method by method (the names stay dst's). */
void tk_run_stats_merge(tk_run_method_stats *dst, const tk_run_method_stats *src, int n_methods);

/* The sums become means. */
void tk_run_stats_finish(tk_run_method_stats *ms, int n_methods);

#endif
