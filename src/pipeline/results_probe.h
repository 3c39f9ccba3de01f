/* Is a file a tokattr results file (finished or .partial)? `run --force`
 * replaces only such a file (core/outpath.h): never a dataset, a model, a
 * job file or anything else a typo in `results:` may name. */
#ifndef TOKATTR_PIPELINE_RESULTS_PROBE_H
#define TOKATTR_PIPELINE_RESULTS_PROBE_H

#include <stdbool.h>

/* HDF5 with the groups every results file has from its creation on:
 * /reviews, /tokens, /predictions and /progress. */
bool tk_results_probe(const char *path);

#endif
