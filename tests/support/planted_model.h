/* A tiny model trained in-process on the planted-token task
 * (src/data/synthetic.h), for tests that check explanations against the one
 * token that decides the label. Separate from the tests because
 * model/train.h and attr/attr.h both name an enum tk_train_target. */
#ifndef TOKATTR_TESTS_PLANTED_MODEL_H
#define TOKATTR_TESTS_PLANTED_MODEL_H

#include <stdint.h>

#include "core/status.h"
#include "model/build.h"
#include "model/model.h"

typedef struct tk_planted_case {
    tk_model *model;
    int steps;            /* model input length */
    int n_test;           /* positive test reviews (they hold the planted token) */
    int32_t *test_ids;    /* (n_test, steps) model input ids */
    int32_t *planted_at;  /* (n_test) model input position of the planted token */
    int n_background;
    int32_t *bg_ids;      /* (n_background, steps) the first train reviews */
    double test_accuracy; /* over every test review, both classes */
} tk_planted_case;

/* Synthetic data as configs/synthetic_planted.yaml (2,000 / 1,000 reviews,
 * vocabulary 1,000, 10-40 words, planted id 7, seed 1), model input of
 * maxlen 40, the given layers trained with Adam (lr 0.01, batch 32, seed 1). */
tk_status tk_planted_case_create(const tk_layer_spec *specs, int n_specs, int epochs,
                                 int n_background, tk_planted_case **out, tk_error *err);
void tk_planted_case_destroy(tk_planted_case *pc); /* NULL is fine */

#endif
