/* Word-vector tables for models without an Embedding layer (they read
 * D-dimensional vectors per step, e.g. keras_bilstm_sst5.h5 with D = 60).
 *
 * The user supplies the table the model was trained with, as
 *   - word2vec TEXT: first line "count dim", then count lines "word v1 ... vdim";
 *   - HDF5: /vectors float [V, D] and /words variable-length strings [V].
 * or asks for the ids themselves as a 1-dimensional feature (D = 1).
 *
 * Mapping a prepared review (model-input ids) to vectors: a vocabulary word
 * found in the table gets its vector; padding, the start marker, the OOV id,
 * "<unused>" and vocabulary words missing from the table get zeros (a zero
 * vector is what an unknown word contributes nothing through, the usual
 * choice when such tables are built, and it keeps padding neutral). */
#ifndef TOKATTR_DATA_WORD_VECTORS_H
#define TOKATTR_DATA_WORD_VECTORS_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"

typedef struct tk_word_vectors {
    int64_t n;       /* words */
    int dim;         /* D */
    char **words;    /* (n) UTF-8, distinct */
    float *vectors;  /* (n, dim) row-major */
    int64_t *sorted; /* (n) indices of words in strcmp order, for lookup */
} tk_word_vectors;

/* Reads a table; the format is chosen by content (HDF5 signature, else
 * word2vec text). Errors name the file (and the line for text). */
tk_status tk_word_vectors_load(const char *path, tk_word_vectors **out, tk_error *err);
tk_status tk_word_vectors_load_text(const char *path, tk_word_vectors **out, tk_error *err);
tk_status tk_word_vectors_load_hdf5(const char *path, tk_word_vectors **out, tk_error *err);
void tk_word_vectors_destroy(tk_word_vectors *wv);

/* Row of word in the table, or -1. */
int64_t tk_word_vectors_find(const tk_word_vectors *wv, const char *word);

/* The per-id table for a dataset: out (n_ids, wv->dim) with
 * n_ids = ds->vocab_size + TK_INDEX_FROM + 1 (every model-input id the
 * dataset can produce); rows as documented above. *found counts the
 * vocabulary words that have a vector. wv NULL: the ids-as-feature table,
 * dim 1, row id = (float)id. Caller frees *out. */
tk_status tk_word_vectors_id_table(const tk_word_vectors *wv, const tk_dataset *ds, float **out,
                                   int64_t *n_ids, int *dim, int64_t *found, tk_error *err);

/* ids (n, steps) -> out (n, steps, dim) through an id table (n_ids, dim).
 * An id outside [0, n_ids) is an error (not a crash). */
tk_status tk_word_vectors_map(const float *table, int64_t n_ids, int dim, const int32_t *ids,
                              int64_t n, int steps, float *out, tk_error *err);

#endif
