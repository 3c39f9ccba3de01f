/* Rank 0's side of a run before any work: output checks, the dataset's
 * index and the model read and checked against each other, the selection,
 * the results file created (its layout then written block by block from
 * the dataset file while the work runs) or reopened for --resume and the work units in hand-out order. Rank 0
 * keeps a few integers per review (its split position, token offset and
 * done mark); the model inputs are prepared by the ranks that explain them
 * (unit_input.h). No MPI here (run.c does the talking). */
#ifndef TOKATTR_PIPELINE_PLAN_H
#define TOKATTR_PIPELINE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "model/model.h"
#include "pipeline/run.h"
#include "pipeline/writer.h"

typedef struct tk_plan {
    tk_dataset *ds;         /* the dataset's header (tk_dataset_read_header): no per-review array */
    tk_model *model;        /* rank 0's loaded model, until weights are shared */
    char model_sha[65], dataset_sha[65];
    char model_vocab_sha[65]; /* the model file's tokattr_vocab_sha256, "" when absent */
    char model_tokenizer[32]; /* its tokattr_tokenizer, "" when absent */
    double recorded_accuracy; /* its tokattr_test_accuracy, NaN when absent */
    int steps, num_words, n_classes;
    int64_t n;              /* selected reviews */
    int64_t *index;         /* (n) canonical positions in the split */
    tk_input_spec spec;     /* how a review becomes its model input */
    float *wv_table;        /* (wv_n_ids, wv_dim) input vector of each id, embedding-less
                               models only (data/word_vectors.h), else NULL */
    int64_t wv_n_ids;
    int wv_dim;
    int64_t *tok_off;       /* (n + 1) the results file's token offsets */
    int n_class_names;      /* the dataset's class names name the model's: n, else 0 */
    int64_t *unit_ids;      /* (units) the ids each work unit reads, until the units are planned */
    int64_t n_chunks;
    int64_t *order;         /* (n_chunks) chunk numbers: windows of 1,024 in file order, most tokens first in each */
    uint8_t *done;          /* (n) */
    int64_t n_done_before;
    char partial[4200];
    tk_writer *writer;
    struct tk_plan_layout *layout; /* a fresh file's layout still to write, or NULL */
} tk_plan;

/* Fills p (zeroed by the caller). *complete: --resume found a finished
 * file of this job, nothing to do. A fresh file is created with its
 * results datasets in place and its layout (reviews, tokens, words) still
 * to write: tk_plan_layout_step writes it, while the work already runs. */
tk_status tk_plan_setup(const tk_run_config *cfg, int ranks, tk_plan *p, bool *complete,
                        tk_error *err);

/* Whether the layout is still to write; the file is then at
 * tk_plan_file_path's temporary name, not yet at p->partial. */
bool tk_plan_layout_pending(const tk_plan *p);
const char *tk_plan_file_path(const tk_plan *p);

/* Writes the layout of the next `max` reviews (at least one), in blocks,
 * and hashes a piece of the inputs, calling poll(ctx) (may be NULL) between
 * the pieces (rank 0 answers the other ranks there); the step that writes
 * the last review flushes the file and renames it to p->partial. Needs
 * p->ds. */
tk_status tk_plan_layout_step(tk_plan *p, int64_t max, void (*poll)(void *ctx), void *ctx,
                              tk_error *err);

/* A layout left unfinished (a failure): the writer closed, the temporary
 * file removed. Nothing when none is pending. */
void tk_plan_layout_discard(tk_plan *p);

/* DeepSHAP background of method mp: ids (background_size, steps). Needs p->ds. */
tk_status tk_plan_background(const tk_run_config *cfg, const tk_plan *p,
                             const tk_method_params *mp, int32_t *ids, tk_error *err);

void tk_plan_free(tk_plan *p); /* frees what p holds; p itself is the caller's */

#endif
