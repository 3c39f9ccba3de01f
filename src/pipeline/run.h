/* The distributed attribution job (`mpirun -n N tokattr run JOB`).
 *
 * Roles: rank 0 reads the dataset's index and the model, checks that they
 * fit, lays out the results file (plan.h), and hands out work units
 * (contiguous runs of chunk_size reviews, in windows of 1,024 units, the
 * units with the most tokens first in each) on request as their reviews' split positions. With
 * one or two ranks it explains reviews too, so no core idles. A computing
 * rank reads its unit's documents from the dataset file and prepares their
 * model inputs (unit_input.h), explains them (compute_chunk.h), and with
 * the ranks writer (the default) writes them into the results file itself
 * (slab_writer.h) and tells rank 0 which units it wrote and synced, which
 * rank 0 marks done; with the root writer it sends the results to rank 0,
 * which writes them. Weights live once per node in an MPI shared window.
 *
 * Determinism: a review's result depends only on the review and the job
 * (methods are per-review; predictions use the same fixed chunks whatever
 * the rank count), so the results datasets are bitwise identical for any
 * number of ranks and across kills and resumes.
 *
 * This is the only module that includes mpi.h. tk_run initialises and
 * finalises MPI itself. */
#ifndef TOKATTR_PIPELINE_RUN_H
#define TOKATTR_PIPELINE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "attr/attr.h"
#include "attr/faithfulness.h"
#include "core/status.h"
#include "data/text_tokenizer.h"

typedef enum tk_select_kind {
    TK_SELECT_ALL,   /* every review of the split */
    TK_SELECT_RANGE, /* indices [first, first + count) in canonical order */
    TK_SELECT_IDS,   /* review indices (canonical positions) listed in the job */
    TK_SELECT_LABEL, /* every review with this label */
    TK_SELECT_REVIEWS /* select_spec: indices and ids (data/selection.h) */
} tk_select_kind;

/* Who writes the results datasets (README "Results file"). */
typedef enum tk_results_writer {
    TK_WRITER_RANKS, /* each computing rank its own units, with pwrite into the regions rank 0's
                        file holds (slab_writer.h); rank 0 only marks them done. The results
                        path must be one file for every node (a shared filesystem) */
    TK_WRITER_ROOT   /* every result travels to rank 0, which writes it with HDF5 */
} tk_results_writer;

typedef struct tk_run_config {
    const char *model_path;
    const char *architecture_path; /* model.to_json() of a weights-only model file, or NULL */
    const char *dataset_path;
    const char *split;          /* the dataset's split to explain ("test", "train", ...) */
    const char *word_index;     /* NULL or a word index whose SHA-256 the dataset must match */
    const tk_tokenizer_spec *tokenizer; /* NULL, or the model's tokenizer: the dataset's
                                   record must match it (kind, vocabulary SHA-256) */
    bool tokenizer_dataset;     /* the job says the model was trained on the dataset's ids */
    const char *shared_dir;     /* resolves the tokenizers' default files; NULL: the default */
    const char *word_vectors;   /* NULL or the word-vector table of an embedding-less model */
    bool ids_as_feature;        /* embedding-less model: the id as a 1-d feature instead */

    tk_select_kind select;
    int64_t first, count;       /* TK_SELECT_RANGE; count -1 = to the end */
    const int64_t *indices;     /* (n_indices) TK_SELECT_IDS, ascending */
    int64_t n_indices;
    int label;                  /* TK_SELECT_LABEL */

    int num_words, maxlen;      /* 0 = from the model */
    bool padding_post, truncating_post;
    bool padding_set, truncating_set; /* false: the dataset's tokenizer's default side
                                         (pre for the IMDB kinds, post for text-vectorization) */

    int n_methods;
    const tk_method_params *methods; /* (n_methods) */

    const tk_faith_params *faith; /* the `faithfulness:` step, or NULL for none */

    const char *output_path;
    int chunk_size;
    int checkpoint_every;       /* flush after at least this many units ... */
    double checkpoint_seconds;  /* ... and at least this many seconds */
    tk_results_writer writer;   /* rank 0's value counts */

    const char *job_yaml;       /* stored in the file; resume compares it */
    const char *command_line;
    bool resume, force;
    FILE *progress;             /* rank 0's progress output, or NULL for none */

    /* Nodes. 0 = a node is what MPI calls a shared-memory domain (a host);
     * k > 0 cuts each host's ranks into groups of k consecutive ranks, each
     * acting as a node (its own weight window and leader), so that one host
     * runs the multi-node path. Rank 0's values count. */
    int ranks_per_node;
    FILE *window_report;        /* NULL, or where rank 0 lists every rank's weight
                                 * window mapping and PSS at the end (Linux /proc) */
    FILE *errors;               /* NULL, or where rank 0 prints "tokattr run: <message>"
                                 * of a failure, before any rank can exit */
    const char *select_spec;    /* TK_SELECT_REVIEWS: `select: {reviews: SPEC}` */
    double stop_deadline_seconds; /* > 0: a stop by SIGTERM/SIGINT ends the rank with status
                                   * 3 after this long at most (pipeline/stop_deadline.h) */
} tk_run_config;

typedef struct tk_run_method_stats {
    char name[64];
    int64_t n;            /* reviews explained in this run */
    double mean_abs_error;/* mean |axiom_error| */
    double max_abs_error;
    int64_t n_all_zero;   /* reviews (with tokens) whose scores are all exactly 0: e.g. an
                             lrp_epsilon eps so large it absorbs all relevance */
    bool has_faith;       /* the faithfulness step ran: mean AOPC over this run's reviews, */
    double faith_aopc, faith_random_aopc; /* of the method's order and of the random one */
    /* integrated_gradients rule adaptive (has_tolerance): this run's reviews whose
     * error estimate exceeds the tolerance (budget spent), the largest estimate,
     * and the integrand evaluations (sum, max) */
    bool has_tolerance;
    int64_t n_over_tolerance;
    double max_error_estimate;
    int64_t steps_sum;
    int steps_max;
} tk_run_method_stats;

/* Wall time per phase, as CoMD reports its timers: rank 0's own figure
 * and the min / mean / max over the ranks that ran the phase. */
typedef enum tk_run_phase {
    TK_PHASE_COMPUTE, /* explaining reviews (rank 0: minus its serving) */
    TK_PHASE_WAIT,    /* a worker sending its result and waiting for work */
    TK_PHASE_RECEIVE, /* rank 0 receiving and unpacking a result */
    TK_PHASE_WRITE,   /* rank 0 putting a result into the file */
    TK_PHASE_FLUSH,   /* rank 0 flushing the file (checkpoints) */
    TK_PHASE_N
} tk_run_phase;

typedef struct tk_run_timer {
    double rank0, min, mean, max;
    int ranks;            /* ranks that ran the phase */
} tk_run_timer;

typedef struct tk_run_summary {
    bool is_root;         /* this process is rank 0 (the one that should print) */
    int ranks;
    int64_t n_reviews;    /* selected */
    int64_t n_done_before;/* already done when the run started (resume) */
    int64_t n_done;       /* done at the end */
    double seconds;       /* wall time of the work phase */
    double setup_seconds; /* reading, checks, file creation, weights sharing */
    double layout_seconds; /* rank 0 writing the file's layout, while the work ran */
    double layout_cpu_seconds; /* the same in CPU time */
    double root_busy_seconds; /* rank 0's time receiving and writing results */
    tk_run_timer timers[TK_PHASE_N];
    int64_t root_received;/* reviews whose results rank 0 received from other ranks */
    double root_cpu[TK_PHASE_N]; /* rank 0's CPU seconds in receive, write, flush */
    double root_wall[TK_PHASE_N]; /* the same in wall time (its coordinating side only) */
    int64_t root_flushes; /* checkpoints during the work (the final close not counted) */
    int nodes;            /* (simulated) nodes = weight windows */
    int node_ranks_min, node_ranks_max;
    size_t weight_bytes;  /* one window's weights */
    bool already_complete;
    bool error_printed;   /* the failure's message went to cfg->errors */
    char final_path[4200];
    int n_methods;
    tk_run_method_stats methods[16];
    double recorded_accuracy; /* the model file's tokattr_test_accuracy, NaN when absent */
} tk_run_summary;

/* Runs the job. Returns TK_OK, TK_E_INTERRUPTED (SIGTERM/SIGUSR1/SIGINT:
 * stopped cleanly, resumable) or an error, the same status on every rank;
 * err carries the one message (identical on every rank). */
tk_status tk_run(int *argc, char ***argv, const tk_run_config *cfg, tk_run_summary *summary,
                 tk_error *err);

/* The file a run writes while it is in progress: "<output>.partial". */
void tk_run_partial_path(const char *output, char *buf, size_t size);

#endif
