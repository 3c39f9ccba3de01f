/* The JSON of a Keras Tokenizer, `tokenizer.to_json()`:
 *   {"class_name": "Tokenizer", "config": {"num_words": null | N,
 *    "filters": "...", "lower": true, "split": " ", "char_level": false,
 *    "oov_token": null | "...", "word_index": "{\"the\": 1, ...}", ...}}
 * word_index (and word_counts, index_word, ...) are JSON texts inside
 * strings, as to_json writes them; an object is accepted too. A missing key
 * takes the Tokenizer constructor's default, as tokenizer_from_json does. */
#ifndef TOKATTR_DATA_KERAS_TOKENIZER_JSON_H
#define TOKATTR_DATA_KERAS_TOKENIZER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct tk_keras_tokenizer_config {
    int32_t num_words;     /* 0: none (null, or 0, as `if num_words` reads it) */
    char *filters;         /* UTF-8 as in the file */
    int32_t *filter_cps;   /* (n_filters) its code points */
    size_t n_filters;
    bool lower;
    char *split;           /* not empty */
    bool char_level;
    char *oov_token;       /* NULL: none */
    char *word_index;      /* (word_index_len) the JSON text {"word": index} */
    size_t word_index_len;
} tk_keras_tokenizer_config;

/* Parses text (len bytes, the content of path). Every problem names path
 * and the key. */
tk_status tk_keras_tokenizer_config_parse(const char *path, const char *text, size_t len,
                                          tk_keras_tokenizer_config *cfg, tk_error *err);
void tk_keras_tokenizer_config_free(tk_keras_tokenizer_config *cfg);

#endif
