/* The tokenizer a model was trained with, reproduced exactly: text -> words
 * -> token ids, byte for byte what Keras produces (issue 15).
 *
 * Kinds (the `--tokenizer KIND[:FILE]` spelling):
 *   keras-imdb[:FILE]          keras.datasets.imdb: Keras' imdb_word_index.json
 *                              (default <shared>/models/keras_imdb_word_index.json),
 *                              DATA.md splitting with ASCII-only lowercasing,
 *                              id = rank + 3, start 1, OOV 2, pad 0.
 *   tokattr-imdb[:FILE]        DATA.md exactly (utf8proc lowercasing); FILE the
 *                              word index (default <shared>/models/imdb_word_index.json).
 *   tokattr-imdb:count         the same, no file: ranks counted on the train split
 *                              (tk_tokenizer_count, tk_tokenizer_fit). A file
 *                              literally named "count" is ./count.
 *   keras-tokenizer:FILE.json  tokenizer.to_json(): text_to_word_sequence with the
 *                              config's filters/lower (Python's str.lower())/split,
 *                              or char_level; word_index ids from 1; unknown words
 *                              get word_index[oov_token] (normally 1) or, without
 *                              one, are dropped; num_words cut (at model input);
 *                              no start marker.
 *   text-vectorization:VOCAB   one token a line (get_vocabulary(): "" and [UNK]
 *                              first, else they are prepended); standardize
 *                              lower_and_strip_punctuation (default) or none;
 *                              split on ASCII whitespace; pad 0, OOV 1, post
 *                              padding and truncation.
 *   word-index:FILE.json       a plain {"word": rank} index with index_from,
 *                              start_char, oov_char (defaults 3, 1, 2), DATA.md
 *                              splitting.
 *
 * Options go between the kind and the file, comma-separated, in Keras'
 * own names:
 *   text-vectorization,standardize=none,output_sequence_length=200:vocab.txt
 *   word-index,index_from=2,start_char=1,oov_char=2:index.json
 * (the spec fields below say the same; a CLI may also set them directly).
 *
 * The model-input side (start marker, num_words clip, pad/truncate) is
 * data/model_input.h, parameterised by tk_id_convention. */
#ifndef TOKATTR_DATA_TEXT_TOKENIZER_H
#define TOKATTR_DATA_TEXT_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum tk_tokenizer_kind {
    TK_TOKENIZER_KERAS_IMDB,
    TK_TOKENIZER_TOKATTR_IMDB,
    TK_TOKENIZER_KERAS_TOKENIZER,
    TK_TOKENIZER_TEXT_VECTORIZATION,
    TK_TOKENIZER_WORD_INDEX,
    TK_TOKENIZER_KIND_COUNT
} tk_tokenizer_kind;

/* How ids are laid out for the model: what pad_sequences and
 * imdb.load_data / texts_to_sequences put in front and instead of words. */
typedef struct tk_id_convention {
    int32_t pad_id;        /* 0 for every kind */
    int32_t start_id;      /* put before the first word; -1: no start marker */
    int32_t oov_id;        /* a word not in the vocabulary, or cut by num_words;
                              -1: such words are dropped (Tokenizer without oov_token) */
    int32_t index_from;    /* id of the word of rank r is r + index_from */
    bool padding_post;     /* the kind's own default (TextVectorization: true) */
    bool truncating_post;  /* likewise */
} tk_id_convention;

/* What is parsed from the command line / a job before any file is read. */
typedef struct tk_tokenizer_spec {
    tk_tokenizer_kind kind;
    char file[4096];       /* "" when the kind takes its default or none */
    /* word-index only (the --index-from, --start-char, --oov-char options);
     * -1 = the default */
    int32_t index_from, start_char, oov_char;
    /* text-vectorization only: false = standardize "none" */
    bool strip_punctuation;
    /* text-vectorization only: output_sequence_length when known, else 0 */
    int32_t sequence_length;
    /* tokattr-imdb:count: no file, the vocabulary is counted on train */
    bool count_vocab;
} tk_tokenizer_spec;

/* "keras-imdb", "keras-tokenizer:tok.json", ... -> spec (defaults filled).
 * An unknown kind, or a kind that needs a file given without one, is
 * TK_E_INVALID naming the accepted spellings. */
tk_status tk_tokenizer_spec_parse(const char *text, tk_tokenizer_spec *spec, tk_error *err);
const char *tk_tokenizer_kind_name(tk_tokenizer_kind kind); /* "keras-imdb", ... */
/* The accepted spellings, one line, for help texts and errors. */
const char *tk_tokenizer_spellings(void);

typedef struct tk_tokenizer tk_tokenizer;

/* Loads the vocabulary the spec names. shared_dir resolves the default files
 * of keras-imdb and tokattr-imdb. Every file is untrusted: failures name the
 * file, the line or key, and the problem. tokattr-imdb:count gets an
 * empty vocabulary to be filled with tk_tokenizer_count / tk_tokenizer_fit. */
tk_status tk_tokenizer_create(const tk_tokenizer_spec *spec, const char *shared_dir,
                              tk_tokenizer **out, tk_error *err);
void tk_tokenizer_destroy(tk_tokenizer *t); /* NULL is fine */

/* One text, split into words and mapped to ids. The words are the
 * tokenizer's output (after lowercasing/filtering), also for OOV words. */
typedef struct tk_encoded {
    size_t n;              /* words */
    int32_t *ids;          /* (n): unclipped id (rank + index_from), or the OOV id,
                              or -1 for a word the tokenizer drops */
    size_t *word_start;    /* (n): byte offset of word i in buf */
    uint32_t *word_len;    /* (n): byte length of word i (never 0) */
    char *buf;             /* the words' bytes */
    size_t cap, buf_cap;   /* capacities, reused from text to text */
} tk_encoded;

void tk_encoded_init(tk_encoded *e);
void tk_encoded_free(tk_encoded *e);

/* Replaces e's content with the words and ids of text (len bytes, need not
 * be NUL-terminated; invalid UTF-8 is kept as bytes inside words). */
tk_status tk_tokenizer_encode(const tk_tokenizer *t, const char *text, size_t len, tk_encoded *e,
                              tk_error *err);

/* tokattr-imdb without a word index: count the words of one train text,
 * then rank them (DATA.md: count desc, ties by memcmp) once all are seen.
 * Encoding before tk_tokenizer_fit is TK_E_INVALID. */
tk_status tk_tokenizer_count(tk_tokenizer *t, const char *text, size_t len, tk_error *err);
tk_status tk_tokenizer_fit(tk_tokenizer *t, tk_error *err);

tk_tokenizer_kind tk_tokenizer_kind_of(const tk_tokenizer *t);
tk_id_convention tk_tokenizer_convention(const tk_tokenizer *t);
/* The num_words a keras-tokenizer file records (0: none; other kinds 0):
 * the default vocabulary cut of the model input. */
int32_t tk_tokenizer_num_words(const tk_tokenizer *t);
/* text-vectorization's output_sequence_length (0: none or other kinds). */
int32_t tk_tokenizer_sequence_length(const tk_tokenizer *t);
/* The vocabulary file read ("" for tokattr-imdb:count). */
const char *tk_tokenizer_path(const tk_tokenizer *t);

/* The vocabulary by rank: word of rank r (1-based) is tk_tokenizer_word(t, r),
 * "" for a rank the file skips. */
int64_t tk_tokenizer_vocab_size(const tk_tokenizer *t);
const char *tk_tokenizer_word(const tk_tokenizer *t, int64_t rank);

/* A name for an id that is not a vocabulary word ("<pad>", "<start>",
 * "<oov>", "[UNK]", "<unused>"), or NULL when the id is a word's. */
const char *tk_tokenizer_special(const tk_tokenizer *t, int32_t id);

/* What a dataset records so that a job can check it was prepared with the
 * tokenizer its model expects: the kind, its parameters as one JSON object
 * (num_words, filters, lower, split, oov_token, index_from, ...), and the
 * SHA-256 of the vocabulary file (of the serialized counted index for
 * tokattr-imdb without a file). */
typedef struct tk_tokenizer_record {
    char kind[32];
    char params_json[2048];
    char vocab_sha256[65];
} tk_tokenizer_record;

void tk_tokenizer_record_of(const tk_tokenizer *t, tk_tokenizer_record *rec);

#endif
