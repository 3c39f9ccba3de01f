/* The batch loop of one computing rank: a work unit's prepared model inputs
 * in, its tk_chunk_result out (predictions in one batch over the unit, then
 * every method and the faithfulness step review by review). No MPI here:
 * run.c hands units to it and carries the results; tests call it directly.
 *
 * A review's result depends only on the review, its row in the results
 * file and the job, never on which rank or in which order it ran: that is
 * what keeps the file bitwise identical for any number of ranks. */
#ifndef TOKATTR_PIPELINE_COMPUTE_CHUNK_H
#define TOKATTR_PIPELINE_COMPUTE_CHUNK_H

#include <stdint.h>

#include "attr/attr.h"
#include "attr/faithfulness.h"
#include "core/status.h"
#include "model/model.h"
#include "pipeline/writer.h"

/* What a computer needs besides the model. Pointers are borrowed: they
 * must stay valid while the computer lives. */
typedef struct tk_compute_spec {
    int n_methods;
    const tk_method_params *methods; /* (n_methods) */
    const tk_faith_params *faith;    /* the `faithfulness:` step, or NULL */
    int chunk_size;                  /* most reviews in one unit */
    int steps;                       /* model input length */
    /* DeepSHAP backgrounds: NULL, or (n_methods) pointers, each NULL or
     * (methods[k].background_size, steps) prepared ids */
    int32_t *const *background;
    /* embedding-less models: id -> input vector (vtab_n, model->input_dim),
     * else NULL */
    const float *vtab;
    int64_t vtab_n;
} tk_compute_spec;

typedef struct tk_compute tk_compute;

/* Explainers, workspaces and a result sized for chunk_size reviews. */
tk_status tk_compute_create(const tk_model *model, const tk_compute_spec *spec, tk_compute **out,
                            tk_error *err);
void tk_compute_destroy(tk_compute *c); /* NULL is fine */

/* Called between reviews (rank 0 serves its queue while it computes). */
typedef void (*tk_compute_poll_fn)(void *ctx);

/* Explains reviews [first, first + count) of the results file from their
 * prepared inputs ids (count, steps) and labels (count) into the result
 * (tk_compute_result), count <= chunk_size. Tokens are the non-padding
 * positions in order; padding's scores are summed into padding_score. A
 * NaN or infinity from the model or a method is an error naming the
 * review. poll may be NULL. */
tk_status tk_compute_chunk(tk_compute *c, const int32_t *ids, const int32_t *labels, int64_t first,
                           int64_t count, tk_compute_poll_fn poll, void *poll_ctx, tk_error *err);

/* The result of the last tk_compute_chunk (arrays owned by c). */
tk_chunk_result *tk_compute_result(tk_compute *c);

#endif
