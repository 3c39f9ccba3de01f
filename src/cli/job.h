/* An attribution job (`tokattr run JOB`): a YAML file parsed with libcyaml
 * into one struct, defaults set in one place (tk_job_defaults in job.c).
 * The job's syntax is documented in README.md ("Running a job") and in
 * the jobs/ directory.
 *
 * Paths in a job are relative to the job file's directory unless absolute;
 * a path starting with "shared:" is resolved in the shared directory
 * (--shared, then TOKATTR_SHARED, then ../shared; src/core/paths.h). */
#ifndef TOKATTR_CLI_JOB_H
#define TOKATTR_CLI_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "attr/attr.h"
#include "core/status.h"
#include "data/text_tokenizer.h"
#include "pipeline/run.h" /* tk_select_kind */


typedef struct tk_job {
    char *yaml_text;    /* the job file's bytes, NUL-terminated (stored in the results) */
    char *model_path;   /* resolved */
    char *architecture_path; /* resolved `architecture:` (weights-only model), or NULL */
    char *dataset_path; /* resolved */
    char split[64];     /* a split of the dataset: "test" (default), "train", "dev", ... */

    tk_select_kind select;
    int64_t first, count; /* TK_SELECT_RANGE */
    int64_t *indices;     /* (n_indices) TK_SELECT_IDS, ascending, unique */
    int64_t n_indices;
    int label;            /* TK_SELECT_LABEL */

    /* Input preparation; 0 = take it from the model. */
    int num_words;
    int maxlen;
    bool padding_post;
    bool truncating_post;
    bool padding_set, truncating_set; /* the job says; else the dataset's tokenizer's side */

    char *word_vectors; /* resolved path, or NULL (embedding-less models) */
    bool ids_as_feature; /* embedding-less models: the id itself is the 1-d input */
    char *word_index;   /* resolved path of the word index the model was trained with, or
                           NULL; its SHA-256 must equal the dataset's word_index_sha256 */
    /* `tokenizer: KIND[:FILE]`: the tokenizer the model was trained with
     * (file resolved like every path), checked against the dataset's
     * record; `tokenizer: dataset` says the model was trained on the
     * dataset's own ids (tokattr train, synthetic data). */
    bool has_tokenizer;
    tk_tokenizer_spec tokenizer;
    bool tokenizer_dataset;
    char *shared_dir;   /* the shared directory the job was read with, or NULL */

    int n_methods;
    tk_method_params *methods; /* (n_methods) */

    bool faith_enabled;   /* a `faithfulness:` key is present */
    tk_faith_params faith;/* its parameters (tk_faith_params_default + the keys) */

    char *output_path;    /* the results file, resolved */
    int chunk_size;       /* reviews per work unit (default 16) */
    int checkpoint_every; /* at least this many chunks between flushes (default 1) */
    double checkpoint_seconds; /* and at least this long between flushes (default 2) */
    tk_results_writer writer; /* who writes the results (default: the computing ranks) */
    char *select_spec;    /* TK_SELECT_REVIEWS: `select: {reviews: SPEC}` (data/selection.h) */
} tk_job;

/* A top-level job key: whether changing it changes what a run computes
 * (results bits), and why. */
typedef struct tk_job_key {
    const char *key;
    bool affects_results;
    const char *why;
} tk_job_key;

/* Every top-level key of a job, NULL-key terminated. */
const tk_job_key *tk_job_keys(void);
/* The row of a top-level key, or NULL. */
const tk_job_key *tk_job_key_find(const char *key);

/* The keys the job parser's schema reads, NULL past the last (i >= 0):
 * top-level keys, and the keys of one `methods` entry. What the key table
 * and the method parameters are checked against (tests/test_job_edit.c). */
const char *tk_job_schema_key(int i);
const char *tk_job_schema_method_key(int i);

/* Parses a job file. shared_dir may be NULL (TOKATTR_SHARED / ../shared).
 * Errors name the file, the line when known, and the key. */
tk_status tk_job_load(const char *path, const char *shared_dir, tk_job **out, tk_error *err);

/* The same from a YAML text; base_dir resolves relative paths; name is used
 * in messages. */
tk_status tk_job_parse(const char *yaml, const char *name, const char *base_dir,
                       const char *shared_dir, tk_job **out, tk_error *err);

void tk_job_destroy(tk_job *job);

#endif
