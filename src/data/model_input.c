#include "data/model_input.h"

#include <stddef.h>

void tk_input_spec_default(tk_input_spec *spec, int num_words, int maxlen)
{
    spec->num_words = num_words;
    spec->maxlen = maxlen;
    spec->padding_post = false;
    spec->truncating_post = false;
    spec->start_marker = true;
    spec->start_id = TK_ID_START;
    spec->oov_id = TK_ID_OOV;
    spec->pad_id = TK_ID_PAD;
}

void tk_input_spec_from_convention(tk_input_spec *spec, const tk_id_convention *c, int num_words,
                                   int maxlen)
{
    tk_input_spec_default(spec, num_words, maxlen);
    spec->start_marker = c->start_id >= 0;
    spec->start_id = c->start_id >= 0 ? c->start_id : TK_ID_START;
    spec->oov_id = c->oov_id;
    spec->pad_id = c->pad_id;
    spec->padding_post = c->padding_post;
    spec->truncating_post = c->truncating_post;
}

/* Whether id survives the vocabulary: -1 never does; with no OOV id an id
 * cut by num_words does not either. */
static bool kept(const tk_input_spec *spec, int32_t id)
{
    return id >= 0 && !(spec->oov_id < 0 && spec->num_words > 0 && id >= spec->num_words);
}

bool tk_input_keeps_every_id(const tk_input_spec *spec)
{
    return !(spec->oov_id < 0 && spec->num_words > 0);
}

/* Positions of the model input that `words` kept words fill: the sequence
 * before padding is [start] + the words, cut to maxlen. */
static int64_t input_length(const tk_input_spec *spec, int64_t words)
{
    int64_t maxlen = spec->maxlen > 0 ? spec->maxlen : 0;
    int64_t total = words + (spec->start_marker ? 1 : 0);
    return total < maxlen ? total : maxlen;
}

int tk_input_length(const tk_input_spec *spec, int64_t n_ids)
{
    return (int)input_length(spec, n_ids);
}

int tk_prepare_input_ex(const tk_input_spec *spec, const int32_t *ids, int64_t n, int32_t *out,
                        int32_t *word_pos, int64_t *truncated)
{
    int maxlen = spec->maxlen > 0 ? spec->maxlen : 0;
    int64_t words = 0; /* ids that survive the vocabulary */
    for (int64_t i = 0; i < n; i++)
        words += kept(spec, ids[i]);
    /* The sequence before padding is [start] + the kept words, positions
     * -1, 0 .. words-1. */
    int64_t first = spec->start_marker ? -1 : 0;
    int64_t total = words - first;
    /* pad_sequences: "pre" truncation keeps the last maxlen entries (the
     * start marker goes first), "post" keeps the first maxlen. */
    int64_t keep = input_length(spec, words);
    int64_t from = spec->truncating_post ? first : first + (total - keep);
    int pad = (int)(maxlen - keep);
    int lead = spec->padding_post ? 0 : pad;
    for (int i = 0; i < maxlen; i++) {
        out[i] = spec->pad_id;
        if (word_pos != NULL)
            word_pos[i] = -2;
    }
    int k = 0;
    if (from < 0 && keep > 0) {
        out[lead] = spec->start_id;
        if (word_pos != NULL)
            word_pos[lead] = -1;
        k = 1;
    }
    /* Kept word j (0-based) goes out when from <= j < from + keep. */
    int64_t j = 0;
    for (int64_t i = 0; i < n && k < keep; i++) {
        int32_t id = ids[i];
        if (!kept(spec, id))
            continue;
        if (j++ < from)
            continue;
        /* imdb.load_data's num_words: every id >= num_words is the OOV id. */
        if (spec->num_words > 0 && id >= spec->num_words)
            id = spec->oov_id;
        out[lead + k] = id;
        if (word_pos != NULL)
            word_pos[lead + k] = (int32_t)i;
        k++;
    }
    if (truncated != NULL)
        *truncated = words - (keep - (from < 0 && keep > 0 ? 1 : 0));
    return (int)keep;
}

int tk_prepare_input(const tk_input_spec *spec, const int32_t *ids, int64_t n, int32_t *out,
                     int32_t *word_pos)
{
    return tk_prepare_input_ex(spec, ids, n, out, word_pos, NULL);
}
