/* The whole of `tokattr prepare` minus the command line: read the reviews,
 * tokenize, build or load the vocabulary, map to ids, sort into canonical
 * order (DATA.md). The result is a tk_dataset ready for tk_dataset_write. */
#ifndef TOKATTR_DATA_PREPARE_H
#define TOKATTR_DATA_PREPARE_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"

typedef struct tk_prepare_options {
    const char *source;     /* aclImdb_v1.tar.gz or an aclImdb/ directory */
    const char *word_index; /* NULL: count the train split; else a Keras word index JSON */
    /* Optional: called after each review with the number read so far. */
    void (*progress)(void *ctx, int64_t reviews);
    void *progress_ctx;
} tk_prepare_options;

typedef struct tk_prepare_stats {
    int64_t reviews[2][2];  /* [split][label] */
    int64_t tokens[2];      /* [split] */
    int64_t oov_tokens[2];  /* [split] tokens whose word is not in the vocabulary (id 2) */
    int64_t distinct_words; /* distinct tokens over both splits */
    int64_t text_bytes;     /* review bytes read */
} tk_prepare_stats;

tk_status tk_prepare_dataset(const tk_prepare_options *opt, tk_dataset **out, tk_prepare_stats *stats,
                             tk_error *err);

#endif
