/* Turning a review's token ids into model input, the Keras way
 * (imdb.load_data + pad_sequences; DATA.md "Token ids"). */
#ifndef TOKATTR_DATA_MODEL_INPUT_H
#define TOKATTR_DATA_MODEL_INPUT_H

#include <stdbool.h>
#include <stdint.h>

enum { TK_ID_PAD = 0, TK_ID_START = 1, TK_ID_OOV = 2, TK_ID_UNUSED = 3, TK_INDEX_FROM = 3 };

typedef struct tk_input_spec {
    int num_words;      /* ids >= num_words become TK_ID_OOV; 0 = no limit */
    int maxlen;         /* output length */
    bool padding_post;  /* false: zeros in front ("pre", the default) */
    bool truncating_post; /* false: keep the last maxlen ids ("pre", the default) */
    bool start_marker;  /* true (default): TK_ID_START before the first word */
} tk_input_spec;

void tk_input_spec_default(tk_input_spec *spec, int num_words, int maxlen);

/* ids (n) -> out (spec->maxlen). word_pos (may be NULL) gets, per output
 * position, the index of the word in the review (0-based), -1 for the start
 * marker and -2 for padding. Returns the number of non-padding positions. */
int tk_prepare_input(const tk_input_spec *spec, const int32_t *ids, int64_t n, int32_t *out,
                     int32_t *word_pos);

#endif
