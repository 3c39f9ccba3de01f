/* Turning a review's token ids into model input, the Keras way
 * (imdb.load_data / texts_to_sequences + pad_sequences; DATA.md "Token ids"). */
#ifndef TOKATTR_DATA_MODEL_INPUT_H
#define TOKATTR_DATA_MODEL_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "data/text_tokenizer.h"

enum { TK_ID_PAD = 0, TK_ID_START = 1, TK_ID_OOV = 2, TK_ID_UNUSED = 3, TK_INDEX_FROM = 3 };

typedef struct tk_input_spec {
    int num_words;      /* ids >= num_words become oov_id (or are dropped); 0 = no limit */
    int maxlen;         /* output length */
    bool padding_post;  /* false: padding in front ("pre", the default) */
    bool truncating_post; /* false: keep the last maxlen ids ("pre", the default) */
    bool start_marker;  /* true (default): start_id before the first word */
    int32_t start_id;   /* 1 (imdb.load_data's start_char) */
    int32_t oov_id;     /* 2 (oov_char); -1: ids >= num_words are dropped, as
                           texts_to_sequences does without an oov_token */
    int32_t pad_id;     /* 0 */
} tk_input_spec;

/* DATA.md's convention: start 1, OOV 2, pad 0, "pre" padding and truncation. */
void tk_input_spec_default(tk_input_spec *spec, int num_words, int maxlen);

/* The spec of a tokenizer's convention: its start marker (none when
 * start_id is -1), OOV id, padding id and default padding/truncation side. */
void tk_input_spec_from_convention(tk_input_spec *spec, const tk_id_convention *c, int num_words,
                                   int maxlen);

/* ids (n) -> out (spec->maxlen). An id of -1 (a word the tokenizer drops)
 * and, when oov_id is -1, an id >= num_words are left out before padding
 * and truncation. word_pos (may be NULL) gets, per output position, the
 * index of the word in ids (0-based), -1 for the start marker and -2 for
 * padding. *truncated (may be NULL) gets the number of words that were
 * kept by the vocabulary but cut by truncation. Returns the number of
 * non-padding positions. */
int tk_prepare_input_ex(const tk_input_spec *spec, const int32_t *ids, int64_t n, int32_t *out,
                        int32_t *word_pos, int64_t *truncated);

/* Whether every id >= 0 survives the vocabulary (there is an OOV id, or
 * no num_words limit). Then a review of n_ids ids, none of them -1 (a
 * dataset's ids: data/dataset.h), fills tk_input_length(spec, n_ids)
 * positions, what tk_prepare_input_ex returns for it: its tokens are
 * counted without reading its ids. */
bool tk_input_keeps_every_id(const tk_input_spec *spec);
int tk_input_length(const tk_input_spec *spec, int64_t n_ids);

/* tk_prepare_input_ex without the truncation count. */
int tk_prepare_input(const tk_input_spec *spec, const int32_t *ids, int64_t n, int32_t *out,
                     int32_t *word_pos);

#endif
