/* The results file (README "Results file"; DESIGN.md), made by rank 0
 * with serial HDF5 calls in the default file format: per the crash
 * measurements in INFRA.md, that format plus an H5Fflush after each batch
 * survives SIGKILL with every flushed batch intact. That holds for a kill
 * inside a flush too only because nothing written after creation moves:
 * the results datasets are contiguous, allocated up front (writer.c,
 * make_dset; tests/it_run_kill_hdf5.sh).
 *
 * Two writers fill the results datasets, from one table of the fields a
 * unit fills (tk_result_region below): the root writer, tk_writer_put here
 * (every result sent to rank 0), and the ranks writer (slab_writer.h: each
 * computing rank pwrites its units at the regions' file addresses, after
 * tk_writer_release_results; this handle then writes only /progress/done
 * through tk_writer_mark + tk_writer_checkpoint, a streamed layout's
 * blocks, and finish_time). Both give the same bytes.
 *
 * Everything that does not depend on the attributions (reviews, tokens,
 * vocabulary, every per-review offset) is written when the file is created
 * (a streamed layout: in blocks after it, while the first units are
 * explained, into datasets no unit writes), so the layout never depends on
 * the order in which chunks complete. A
 * chunk's results go in (and with the ranks writer are synced), the file
 * is flushed, and only then is /progress/done set for its reviews. No MPI
 * here. */
#ifndef TOKATTR_PIPELINE_WRITER_H
#define TOKATTR_PIPELINE_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "attr/attr.h"
#include "attr/faithfulness.h"
#include "core/status.h"

/* Root attributes (provenance). Strings may be NULL (not written). */
typedef struct tk_writer_meta {
    const char *command_line;
    const char *job_yaml;
    const char *model_path;
    const char *model_sha256;
    const char *dataset_path;
    const char *dataset_sha256;
    const char *split;
    int ranks;
} tk_writer_meta;

/* What is known before any attribution is computed. */
typedef struct tk_writer_layout {
    int64_t n;                   /* reviews */
    const int64_t *index;        /* (n) position in the split's canonical order */
    const int32_t *review_id;    /* (n) */
    const int32_t *label;        /* (n) */
    const int32_t *rating;       /* (n) */
    const int64_t *token_offset; /* (n + 1) ragged index into the token arrays */
    const int32_t *token_id;     /* (T = token_offset[n]) model input ids, padding excluded */
    const int32_t *word_pos;     /* (T) word index in the review, -1 = start marker */
    int n_classes;               /* columns of /predictions/prob */
    int n_methods;
    const tk_method_params *methods; /* (n_methods) */
    int64_t vocab_size;
    char *const *vocab;          /* (vocab_size) or NULL */
    /* The words (README "Results file"); each may be NULL (not written). */
    const int64_t *token_word_offset; /* (T + 1) token t's word is text[off[t] .. off[t+1]) */
    const char *token_word_text;      /* the words as the tokenizer produced them, "<start>" */
    const char *const *doc_id;   /* (n) the user's id as written */
    const int32_t *truncated;    /* (n) words cut by truncation */
    bool truncating_post;        /* where they were cut: false = before the kept words */
    int n_class_names;
    const char *const *class_names; /* (n_class_names) or NULL */
    int32_t pad_id, start_id, oov_id; /* the model-input id convention (-1 = none) */
    const tk_faith_params *faith;/* NULL, or /faithfulness/<method>/... with K + 1 curve points */
    /* A streamed layout (rank 0 keeps a few integers per review): review_id,
     * label, rating, truncated, doc_id and the token arrays above are NULL;
     * their rows come block by block through tk_writer_put_layout, and
     * /tokens/word_text grows with them. */
    bool streamed;
} tk_writer_layout;

/* One block of a streamed layout: reviews [first, first + count) and their
 * tc = token_offset[first + count] - token_offset[first] tokens. */
typedef struct tk_writer_layout_block {
    int64_t first, count;
    const int32_t *review_id, *label, *rating, *truncated; /* (count) */
    const char *const *doc_id;          /* (count) */
    const int32_t *token_id, *word_pos; /* (tc) */
    const int64_t *token_word_offset;   /* (tc + 1) file-wide byte offsets into the words */
    const char *token_word_text;        /* their bytes [token_word_offset[0], token_word_offset[tc]) */
} tk_writer_layout_block;

/* One work unit's results: reviews [first, first + count) of the file, whose
 * tokens are [token_offset[first], token_offset[first + count)) = (tc). */
typedef struct tk_chunk_result {
    int64_t first, count;
    int64_t tc;            /* tokens in the chunk */
    int n_classes, n_methods;
    float *prob;           /* (count, n_classes) */
    int32_t *predicted;    /* (count) */
    int32_t *target;       /* (n_methods, count) */
    float *score;          /* (n_methods, tc) */
    float *padding_score;  /* (n_methods, count) */
    double *axiom_error;   /* (n_methods, count) */
    double *f_input;       /* (n_methods, count) */
    double *f_baseline;    /* (n_methods, count) */
    /* the `faithfulness:` step; faith_k1 = 0 and NULL arrays without it */
    int faith_k1;          /* K + 1 */
    float *faith_curve;    /* (n_methods, count, faith_k1) */
    float *faith_random;   /* (n_methods, count, faith_k1) random-order baseline */
    float *faith_aopc;     /* (n_methods, count) */
    float *faith_comp;     /* (n_methods, count) comprehensiveness */
    float *faith_suff;     /* (n_methods, count) sufficiency */
    /* integrated_gradients (tk_attribution.steps, .error_estimate); written
     * only for the methods that report them (README "Results file") */
    int32_t *steps;         /* (n_methods, count) */
    double *error_estimate; /* (n_methods, count) */
} tk_chunk_result;

/* Allocates the arrays for up to max_count reviews and max_tc tokens. */
tk_status tk_chunk_result_alloc(tk_chunk_result *r, int64_t max_count, int64_t max_tc,
                                int n_classes, int n_methods, tk_error *err);
void tk_chunk_result_free(tk_chunk_result *r);

/* Adds the faithfulness arrays (k1 = K + 1 curve points) to an allocated
 * result; tk_chunk_result_free frees them too. */
tk_status tk_chunk_result_alloc_faith(tk_chunk_result *r, int64_t max_count, int k1, tk_error *err);

/* ---- the results regions ---------------------------------------------
 * Every dataset a work unit fills, in one table (writer.c, FIELDS): which
 * tk_chunk_result array goes into which dataset. tk_writer_put writes
 * through it with HDF5; the ranks writer (slab_writer.h) through the same
 * table with pwrite, so the two cannot disagree on what a unit fills.
 * Those datasets are contiguous, allocated at creation, unfiltered and
 * little-endian (make_dset): a unit's rows of each are one byte range at
 * a fixed file address, known once the file exists. */
typedef enum tk_result_type { TK_RT_F32, TK_RT_F64, TK_RT_I32 } tk_result_type;

/* One results dataset as the file holds it. Plain integers: it is
 * broadcast as bytes to every rank. */
typedef struct tk_result_region {
    int64_t offset;   /* file address of row 0 (H5Dget_offset); -1: no rows */
    int64_t rows;     /* n reviews, or T tokens when by_token */
    int32_t field;    /* which array of tk_chunk_result (writer.c's field ids) */
    int32_t method;   /* its method k, or -1 for /predictions */
    int32_t type;     /* tk_result_type, file and memory (little-endian hosts) */
    int32_t cols;     /* 0: 1-D, else the columns of a 2-D dataset */
    int32_t by_token; /* rows are tokens [token_offset[first], ...) */
    int32_t elem_size;/* bytes per element: 4 or 8 */
} tk_result_region;

/* A unit's part of one region: rows [row0, row0 + rows) of the dataset,
 * row_bytes each, from data (row-major). */
typedef struct tk_result_slab {
    int64_t row0, rows, row_bytes;
    const void *data;
} tk_result_slab;

/* The slab of region g in result r, whose first token is row t0 of the
 * token datasets (token_offset[r->first]). Fails when it does not fit. */
tk_status tk_result_slab_of(const tk_result_region *g, const tk_chunk_result *r, int64_t t0,
                            tk_result_slab *s, tk_error *err);

typedef struct tk_writer tk_writer;

/* Creates a new file at path (truncating). */
tk_status tk_writer_create(const char *path, const tk_writer_layout *layout,
                           const tk_writer_meta *meta, tk_writer **out, tk_error *err);

/* Reopens a file for --resume: the job text and both SHA-256 must equal
 * meta's, the shapes must equal layout's; done (n) gets /progress/done. */
tk_status tk_writer_open_resume(const char *path, const tk_writer_layout *layout,
                                const tk_writer_meta *meta, uint8_t *done, tk_writer **out,
                                tk_error *err);

/* Writes one block of a streamed layout (after tk_writer_create); the
 * block that ends at review n flushes the file. */
tk_status tk_writer_put_layout(tk_writer *w, const tk_writer_layout_block *b, tk_error *err);

/* The inputs' SHA-256 (64 hex digits each), for a file created with ""
 * for them: a fresh job hashes its inputs while the work runs. */
tk_status tk_writer_set_digests(tk_writer *w, const char *model_sha256,
                                const char *dataset_sha256, tk_error *err);

/* Writes a chunk's data (not yet marked done). */
tk_status tk_writer_put(tk_writer *w, const tk_chunk_result *r, tk_error *err);

/* Flushes everything written so far, then marks those chunks done (the
 * marks reach the disk with the next flush or at close). */
tk_status tk_writer_checkpoint(tk_writer *w, tk_error *err);

/* The results regions of the file (n of them), valid while w lives. */
const tk_result_region *tk_writer_regions(const tk_writer *w, int *n);

/* The ranks writer: from now on this handle writes no results dataset
 * (their HDF5 handles are closed, tk_writer_put refuses); other processes
 * write the regions with pwrite, and only /progress/done and finish_time
 * go through HDF5 here. HDF5 keeps a sieve buffer per open contiguous
 * dataset, clamped to that dataset's extent (H5Dcontig.c: max_data =
 * dset_size - dst_off), so writing /progress/done cannot carry stale bytes
 * of a results region; with their handles closed none of theirs exists. */
tk_status tk_writer_release_results(tk_writer *w, tk_error *err);

/* Reviews [first, first + count) are on disk (written and synced by the
 * ranks writer): the next checkpoint marks them done. */
tk_status tk_writer_mark(tk_writer *w, int64_t first, int64_t count, tk_error *err);

/* Final checkpoint, finish-time attribute, close. w is freed either way. */
tk_status tk_writer_close(tk_writer *w, bool finished, tk_error *err);

/* Closes without further writes (error paths). NULL is fine. */
void tk_writer_abandon(tk_writer *w);

#endif
