/* The whole of `tokattr prepare` minus the command line.
 *
 * tk_prepare_corpus: any corpus (data/corpus.h) with any tokenizer
 * (data/text_tokenizer.h), streamed to the dataset file (data/dataset.h):
 * rows in file order; IMDB in canonical order (DATA.md). Bad input stops
 * with one message naming file:line and the problem, and no file is left.
 *
 * tk_prepare_dataset: the IMDB archive with DATA.md's own tokenizer
 * (tokattr-imdb, counted on train or from a word index) into memory; what
 * tk_prepare_corpus does for that pair, byte for byte as before. */
#ifndef TOKATTR_DATA_PREPARE_H
#define TOKATTR_DATA_PREPARE_H

#include <stdint.h>

#include "core/status.h"
#include "data/corpus.h"
#include "data/dataset.h"
#include "data/text_tokenizer.h"

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

typedef struct tk_prepare_corpus_options {
    tk_corpus_options corpus;
    tk_tokenizer_spec tokenizer;
    const char *shared_dir;        /* resolves the tokenizers' default files (may be NULL) */
    const char *out;               /* the dataset file */
    const char *export_word_index; /* NULL, or also write the vocabulary as a word index JSON */
    void (*progress)(void *ctx, int64_t docs);
    void *progress_ctx;
} tk_prepare_corpus_options;

enum { TK_PREPARE_MAX_LISTED_SPLITS = 16 };

typedef struct tk_prepare_split_summary {
    char name[64];
    int64_t docs, tokens;
    int64_t oov;       /* tokens with the OOV id */
    int64_t dropped;   /* words the tokenizer drops (not stored) */
    int64_t labelled;  /* documents with a label */
    int64_t per_class[8]; /* documents of classes 0..7 */
} tk_prepare_split_summary;

typedef struct tk_prepare_summary {
    int n_splits;      /* all splits; the first TK_PREPARE_MAX_LISTED_SPLITS are in split[] */
    tk_prepare_split_summary split[TK_PREPARE_MAX_LISTED_SPLITS];
    int64_t docs, bytes;
    int n_classes;
    int64_t vocab_size;
    tk_tokenizer_record tokenizer;
    tk_corpus_format format;
} tk_prepare_summary;

tk_status tk_prepare_corpus(const tk_prepare_corpus_options *opt, tk_prepare_summary *sum, tk_error *err);

#endif
