/* Vocabulary (DATA.md "Vocabulary"): every distinct token is interned once in
 * a hash table; train occurrences are counted; ranks come either from the
 * counts (count desc, ties by memcmp of the UTF-8 bytes) or from a Keras-style
 * word index JSON {"word": rank, ...}. */
#ifndef TOKATTR_DATA_VOCAB_H
#define TOKATTR_DATA_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct tk_vocab tk_vocab;

tk_status tk_vocab_create(tk_vocab **out, tk_error *err);
void tk_vocab_destroy(tk_vocab *v);

/* The dense index (0, 1, 2, ... in order of first sight) of word w (len
 * bytes), interning it if new. */
tk_status tk_vocab_intern(tk_vocab *v, const char *w, uint32_t len, int32_t *index, tk_error *err);

/* The bytes of the word with this dense index (NUL-terminated), *len its length. */
const char *tk_vocab_text(const tk_vocab *v, int32_t index, uint32_t *len);

/* The dense index of word w (len bytes), or -1 when it was never interned.
 * Does not change v: safe to call from many readers at once. */
int32_t tk_vocab_find(const tk_vocab *v, const char *w, uint32_t len);

/* Distinct words interned so far. */
int32_t tk_vocab_distinct(const tk_vocab *v);

/* One more train occurrence of the word with this dense index. */
void tk_vocab_count(tk_vocab *v, int32_t index);

/* Ranks every word with a non-zero count: count descending, equal counts by
 * memcmp of the bytes (shorter prefix first). */
tk_status tk_vocab_rank_by_counts(tk_vocab *v, tk_error *err);

/* Takes the ranks from a word index JSON file instead (Keras'
 * imdb_word_index.json works). Ranks must be distinct positive integers,
 * the largest at most TK_WORD_INDEX_MAX_RANK(number of words) (a gap-riddled
 * index would give a vocabulary of empty words), words valid UTF-8;
 * call before interning the text so words not in the file get rank 0. */
#define TK_WORD_INDEX_MAX_RANK(n_words) (2 * (int64_t)(n_words) + 1000)
tk_status tk_vocab_load_word_index(tk_vocab *v, const char *path, tk_error *err);

/* The same from JSON text in memory (len bytes); path names it in errors.
 * A rank larger than len is refused: tables sized by the largest rank stay
 * bounded by the input's size. */
tk_status tk_vocab_load_word_index_text(tk_vocab *v, const char *text, size_t len, const char *path,
                                        tk_error *err);

/* Rank of a dense index: 1 = most frequent, 0 = not in the vocabulary. */
int32_t tk_vocab_rank(const tk_vocab *v, int32_t index);

/* Largest rank (the vocabulary size) after ranking or loading. */
int64_t tk_vocab_size(const tk_vocab *v);

/* Copies out the ranked vocabulary: words (size), words[r - 1] the word of
 * rank r ("" for a rank a word index skipped) made valid UTF-8 by
 * core/utf8.h's rule (invalid bytes -> U+FFFD), counts (size) the train
 * counts, or -1 for every word when the ranks came from a word index.
 * Free each word, then the arrays. */
tk_status tk_vocab_export(const tk_vocab *v, char ***words, int64_t **counts, int64_t *size,
                          tk_error *err);

/* The word index JSON exactly as Python's json.dumps(ensure_ascii=False)
 * writes {"word": rank} in rank order: ", " and ": " separators, UTF-8 kept,
 * control characters escaped. Byte-identical to ../shared/models/
 * imdb_word_index.json for the same vocabulary, so its SHA-256 matches.
 * Invalid UTF-8 in a word is written as core/utf8.h's rule makes it.
 * words (n) in rank order; *json is NUL-terminated, free() it. */
tk_status tk_word_index_serialize(char *const *words, int64_t n, char **json, size_t *len,
                                  tk_error *err);

/* Writes the serialization to path (via path.tmp + rename). */
tk_status tk_word_index_write(const char *path, char *const *words, int64_t n, tk_error *err);

#endif
