/* Rank 0's side of a run before any work: output checks, the dataset and
 * model read and checked against each other, the selection, every review's
 * model input, the results file laid out (or reopened for --resume) and the
 * work units in hand-out order. No MPI here (run.c does the talking). */
#ifndef TOKATTR_PIPELINE_PLAN_H
#define TOKATTR_PIPELINE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"
#include "model/model.h"
#include "pipeline/run.h"
#include "pipeline/writer.h"

typedef struct tk_plan {
    tk_dataset *ds;
    tk_model *model;        /* rank 0's loaded model, until weights are shared */
    char model_sha[65], dataset_sha[65];
    char model_vocab_sha[65]; /* the model file's tokattr_vocab_sha256, "" when absent */
    double recorded_accuracy; /* its tokattr_test_accuracy, NaN when absent */
    int steps, num_words, n_classes;
    int64_t n;              /* selected reviews */
    int64_t *index;         /* (n) canonical positions in the split */
    int32_t *review_id, *label, *rating; /* (n) */
    int32_t *inputs;        /* (n, steps) prepared model input */
    float *wv_table;        /* (wv_n_ids, wv_dim) input vector of each id, embedding-less
                               models only (data/word_vectors.h), else NULL */
    int64_t wv_n_ids;
    int wv_dim;
    int64_t *tok_off;       /* (n + 1) */
    int32_t *tok_id, *word_pos; /* (T) */
    /* The words, needed only to lay out the results file (freed after):
     * token t's word is word_buf[word_off[t] .. word_off[t + 1]); doc_id (n)
     * points into doc_buf (NUL-terminated). */
    char *word_buf, *doc_buf;
    int64_t *word_off;      /* (T + 1) */
    const char **doc_id;
    int32_t *truncated;     /* (n) words cut by truncation */
    int n_class_names;      /* the dataset's class names name the model's: n, else 0 */
    int64_t n_chunks;
    int64_t *order;         /* (n_chunks) chunk numbers, most tokens first */
    uint8_t *done;          /* (n) */
    int64_t n_done_before;
    char partial[4200];
    tk_writer *writer;
} tk_plan;

/* Fills p (zeroed by the caller). *complete: --resume found a finished
 * file of this job, nothing to do. */
tk_status tk_plan_setup(const tk_run_config *cfg, int ranks, tk_plan *p, bool *complete,
                        tk_error *err);

/* DeepSHAP background of method mp: ids (background_size, steps). Needs p->ds. */
tk_status tk_plan_background(const tk_run_config *cfg, const tk_plan *p,
                             const tk_method_params *mp, int32_t *ids, tk_error *err);

void tk_plan_free(tk_plan *p); /* frees what p holds; p itself is the caller's */

#endif
