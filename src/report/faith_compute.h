/* Faithfulness computed by the report itself, for results files without
 * /faithfulness: the model is run on the stored tokens (pre-padded to the
 * model's input length, as DATA.md prepares them) with src/attr's
 * faithfulness library, for a seeded sample of done reviews. */
#ifndef TOKATTR_REPORT_FAITH_COMPUTE_H
#define TOKATTR_REPORT_FAITH_COMPUTE_H

#include <stdint.h>

#include "attr/faithfulness.h"
#include "core/status.h"
#include "model/model.h"
#include "report/results.h"

/* Fills r->methods[m].faith for every method that has none: rows of the
 * sampled reviews (at most max_reviews, drawn with seed; all done reviews
 * when there are fewer), NaN rows elsewhere. The explained class of a
 * review is the method's /attributions/<m>/target, else
 * /predictions/target, else the predicted class; F is the probability, or
 * the logit when the method's `output` attribute says "logit". */
tk_status tk_report_compute_faithfulness(tk_results *r, const tk_model *model, const tk_faith_params *p,
                                         int64_t max_reviews, uint64_t seed, tk_error *err);

#endif
