/* The Keras text_to_word_sequence defaults (DATA.md "Tokenizer"): lowercase
 * each code point (utf8proc simple mapping), the Keras filters become spaces,
 * split on the space character only. Bytes that are not valid UTF-8 are kept
 * unchanged inside words. */
#ifndef TOKATTR_DATA_TOKENIZER_H
#define TOKATTR_DATA_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Scratch reused from review to review; the tokens of the last call. */
typedef struct tk_tokens {
    char *buf;          /* (buf_cap): the lowercased, filtered text; tokens point into it */
    size_t buf_cap;
    size_t *start;      /* (n): byte offset of token i in buf */
    uint32_t *len;      /* (n): byte length of token i (never 0) */
    size_t n;
    size_t cap;         /* capacity of start and len */
} tk_tokens;

void tk_tokens_init(tk_tokens *t);
void tk_tokens_free(tk_tokens *t);

/* Tokenizes text (len bytes, need not be NUL-terminated) into t, replacing
 * the previous tokens. Fails only when memory runs out. */
tk_status tk_tokenize(tk_tokens *t, const char *text, size_t len, tk_error *err);

/* How letters are lowercased before splitting. */
typedef enum tk_lowercase {
    TK_LOWER_UNICODE, /* DATA.md: utf8proc's simple lowercase mapping of every code point */
    TK_LOWER_ASCII    /* A-Z only, as Keras' own imdb_word_index.json was built */
} tk_lowercase;

/* tk_tokenize with the lowercasing chosen; tk_tokenize is TK_LOWER_UNICODE. */
tk_status tk_tokenize_lower(tk_tokens *t, const char *text, size_t len, tk_lowercase lower,
                            tk_error *err);

static inline const char *tk_token(const tk_tokens *t, size_t i, uint32_t *len)
{
    *len = t->len[i];
    return t->buf + t->start[i];
}

#endif
