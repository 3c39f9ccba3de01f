/* The dataset file made by `tokattr prepare` and read by every later step.
 * Schema: src/data/README.md. Rules: ../shared/docs/DATA.md. */
#ifndef TOKATTR_DATA_DATASET_H
#define TOKATTR_DATA_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

/* One split (train or test) in canonical order: neg by ascending id, then pos. */
typedef struct tk_split {
    int64_t n;          /* reviews */
    int64_t *offset;    /* (n + 1): review i's ids are ids[offset[i] .. offset[i+1]) */
    int32_t *ids;       /* (offset[n]): unclipped ids (rank + 3, 2 = not in vocabulary), no start marker */
    int8_t *label;      /* (n): 0 neg, 1 pos */
    int8_t *rating;     /* (n): 1-10 */
    int32_t *review_id; /* (n): the integer before '_' in the file name */
} tk_split;

typedef struct tk_dataset {
    tk_split train;
    tk_split test;
    int64_t vocab_size;  /* words in the vocabulary */
    char **vocab;        /* (vocab_size): vocab[r - 1] is the word of rank r (UTF-8) */
    int64_t *counts;     /* (vocab_size): train occurrences, or -1 when taken from a word index */
    char word_index_sha256[65];
} tk_dataset;

tk_status tk_dataset_read(const char *path, tk_dataset **out, tk_error *err);

/* Writes ds to out_path (through out_path.tmp, renamed at the end; nothing is left
 * behind on failure). source is recorded as a root attribute. */
tk_status tk_dataset_write(const tk_dataset *ds, const char *out_path, const char *source, tk_error *err);

/* True when path is an HDF5 file with the dataset layout (/train, /test,
 * /vocab); false for anything else, a missing file included. */
bool tk_dataset_probe(const char *path);

/* Frees the arrays of a split and zeroes it. */
void tk_split_free(tk_split *s);
void tk_dataset_destroy(tk_dataset *ds);

/* "train" or "test"; NULL (and err set) for anything else. */
const tk_split *tk_dataset_split(const tk_dataset *ds, const char *name, tk_error *err);

/* The word of an id in model-input terms: "<pad>", "<start>", "<oov>",
 * "<unused>", or the vocabulary word of rank id - 3. */
const char *tk_dataset_word(const tk_dataset *ds, int32_t id);

#endif
