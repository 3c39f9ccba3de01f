#include "data/model_input.h"

#include <stddef.h>

void tk_input_spec_default(tk_input_spec *spec, int num_words, int maxlen)
{
    spec->num_words = num_words;
    spec->maxlen = maxlen;
    spec->padding_post = false;
    spec->truncating_post = false;
    spec->start_marker = true;
}

int tk_prepare_input(const tk_input_spec *spec, const int32_t *ids, int64_t n, int32_t *out,
                     int32_t *word_pos)
{
    int maxlen = spec->maxlen > 0 ? spec->maxlen : 0;
    /* The sequence before padding is [start] + ids, positions -1, 0 .. n-1. */
    int64_t first = spec->start_marker ? -1 : 0;
    int64_t total = n - first;
    /* pad_sequences: "pre" truncation keeps the last maxlen entries (the
     * start marker goes first), "post" keeps the first maxlen. */
    int64_t keep = total < maxlen ? total : maxlen;
    int64_t from = spec->truncating_post ? first : first + (total - keep);
    int pad = (int)(maxlen - keep);
    int lead = spec->padding_post ? 0 : pad;
    for (int i = 0; i < maxlen; i++) {
        out[i] = TK_ID_PAD;
        if (word_pos != NULL)
            word_pos[i] = -2;
    }
    for (int64_t k = 0; k < keep; k++) {
        int64_t p = from + k; /* -1: start marker, else index into ids */
        int32_t id = p < 0 ? TK_ID_START : ids[p];
        /* imdb.load_data's num_words: every id >= num_words is the OOV id. */
        if (spec->num_words > 0 && id >= spec->num_words)
            id = TK_ID_OOV;
        out[lead + k] = id;
        if (word_pos != NULL)
            word_pos[lead + k] = (int32_t)(p < 0 ? -1 : p);
    }
    return (int)keep;
}
