/* Text -> words the way the Keras text layers do it, beyond DATA.md's fixed
 * rules (data/tokenizer.h):
 * - Tokenizer / text_to_word_sequence with any filters, lower and split, or
 *   char_level, lowercasing as Python's str.lower() does;
 * - TextVectorization's lower_and_strip_punctuation (tf.strings.lower: ASCII
 *   only; the punctuation deleted) or no standardization, split on ASCII
 *   whitespace.
 * The words go into a tk_encoded (ids left for the caller to fill). Bytes
 * that are not valid UTF-8 stay inside words, one "character" each.
 *
 * Python's str.lower() is utf8proc's simple mapping except for the two
 * cases of Unicode's SpecialCasing that Python applies: U+0130 (İ) becomes
 * "i" + U+0307, and a capital sigma ending a word (after a cased letter,
 * not before one, case-ignorable characters skipped) becomes final ς.
 * "Cased" and "case-ignorable" are derived from utf8proc's categories and
 * case mappings, which matches Python's tables except for a few modifier
 * letters (ª º ʰ ...); only the sigma rule looks at them. */
#ifndef TOKATTR_DATA_KERAS_TEXT_H
#define TOKATTR_DATA_KERAS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "data/text_tokenizer.h"

/* Keras' default Tokenizer filters: !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ TAB LF. */
#define TK_KERAS_DEFAULT_FILTERS "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n"

typedef struct tk_keras_text_rules {
    bool lower;               /* Python str.lower() first */
    bool char_level;          /* every character a word; filters and split unused */
    const int32_t *filters;   /* (n_filters) code points that become `split` */
    size_t n_filters;
    const char *split;        /* (split_len) UTF-8, not empty */
    size_t split_len;
} tk_keras_text_rules;

/* Tokenizer.texts_to_sequences' words of text (len bytes) into e. */
tk_status tk_keras_text_words(const tk_keras_text_rules *r, const char *text, size_t len,
                              tk_encoded *e, tk_error *err);

/* TextVectorization's words: strip = lower_and_strip_punctuation, else
 * standardize=None; then split on ASCII whitespace. */
tk_status tk_text_vectorization_words(bool strip, const char *text, size_t len, tk_encoded *e,
                                      tk_error *err);

/* One word onto the end of e (bytes already in e->buf at start). */
tk_status tk_encoded_push(tk_encoded *e, size_t start, size_t n, tk_error *err);

#endif
