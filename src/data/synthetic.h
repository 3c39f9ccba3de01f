/* Planted-token reviews: random token ids where the label is decided only by
 * the presence of one planted token. A model that learns the task must look
 * at that token, so explanations of it can be checked: the planted position
 * should get the largest attribution in positive reviews. */
#ifndef TOKATTR_DATA_SYNTHETIC_H
#define TOKATTR_DATA_SYNTHETIC_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"

typedef struct tk_synthetic_spec {
    int64_t n_train, n_test; /* reviews per split, half of each positive */
    int vocab_size;          /* noise ids are drawn from [4, vocab_size), like ranks + 3 */
    int min_len, max_len;    /* review length in words, uniform in [min_len, max_len] */
    int32_t planted_id;      /* in [4, vocab_size): present in positives, absent in negatives */
    int n_planted;           /* copies of it in a positive review (>= 1) */
    uint64_t seed;
} tk_synthetic_spec;

/* 2,000 train and 1,000 test reviews, vocabulary 1,000, 10-40 words,
 * planted id 7 once per positive review, seed 1. */
void tk_synthetic_spec_default(tk_synthetic_spec *spec);

/* Splits with the tk_split layout of dataset.h (canonical order: negatives,
 * then positives; ids without start marker; rating 1 for negatives and 10
 * for positives; review_id = row). planted_pos (n): the word index of the
 * first planted copy in the review, -1 in negatives. */
typedef struct tk_synthetic {
    tk_split train, test;
    int32_t *train_planted_pos; /* (train.n) */
    int32_t *test_planted_pos;  /* (test.n) */
    tk_synthetic_spec spec;
} tk_synthetic;

/* Same spec (seed included) -> identical data on every machine. */
tk_status tk_synthetic_create(const tk_synthetic_spec *spec, tk_synthetic **out, tk_error *err);
void tk_synthetic_destroy(tk_synthetic *syn); /* NULL is fine */

#endif
