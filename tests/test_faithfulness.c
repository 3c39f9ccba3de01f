/* faithfulness: deletion curves, AOPC and ERASER on a bag-of-words model
 * F(x) = sum_t w[id_t], where the exact answer is known: with the scores
 * s_t = w[id_t] (a perfect attribution) removing the top k tokens lowers F
 * by the sum of the k largest weights, and no order can do better, so the
 * random baseline's curve never lies below. Checked through a callback and
 * through a real tk_model built to compute the same F. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/faithfulness.h"
#include "model/build.h"
#include "support/testutil.h"

/* ids (7): two pads, the start marker, four words. Weights by id. */
static const int32_t IDS[7] = {0, 0, 1, 5, 6, 7, 8};
static const double W[10] = {0, 0.25, 0, 0, 0, 3.0, -1.0, 2.0, 0.5, 0};

typedef struct bow_ctx {
    int calls, last_batch;
    int32_t row1[7]; /* the variant "top 1 removed" */
} bow_ctx;

static tk_status bow_eval(void *ctx, const int32_t *ids, int batch, int steps, double *f, tk_error *err)
{
    (void)err;
    bow_ctx *c = ctx;
    c->calls++;
    c->last_batch = batch;
    for (int b = 0; b < batch; b++) {
        double s = 0;
        for (int t = 0; t < steps; t++)
            s += W[ids[b * steps + t]];
        f[b] = s;
    }
    if (batch > 1)
        memcpy(c->row1, ids + steps, sizeof c->row1);
    return TK_OK;
}

/* tol: 1e-9 for the double callback, float32 rounding for a tk_model. */
static void check_known(const tk_faith_params *p, const tk_faith_result *r, const float *curve, double tol)
{
    /* F0 = 0.25 + 3 - 1 + 2 + 0.5; removal order 3, 2, 0.5, -1. */
    const double want[7] = {4.75, 1.75, -0.25, -0.75, 0.25, 0.25, 0.25};
    CU_ASSERT_DOUBLE_EQUAL(r->f_input, 4.75, tol);
    CU_ASSERT_EQUAL(r->n_candidates, 4);
    double aopc = 0;
    for (int k = 0; k <= p->k_max; k++) {
        CU_ASSERT_DOUBLE_EQUAL(curve[k], want[k], tol);
        aopc += 4.75 - want[k];
    }
    CU_ASSERT_DOUBLE_EQUAL(r->aopc, aopc / (p->k_max + 1), tol);
    /* n = 4: q = 1, 5, 10, 20% keep or drop 1 token, 50% 2 tokens.
     * comprehensiveness (3 * 4 + 5) / 5; sufficiency: F0 - F(start + top m)
     * = (4 * (4.75 - 3.25) + (4.75 - 5.25)) / 5. */
    CU_ASSERT_DOUBLE_EQUAL(r->comprehensiveness, 3.4, tol);
    CU_ASSERT_DOUBLE_EQUAL(r->sufficiency, 1.1, tol);
}

static void test_known_answer(void)
{
    tk_faith_params p;
    tk_faith_params_default(&p);
    p.k_max = 6; /* beyond the 4 candidates: the curve stays flat */
    tk_error err = {0};
    tk_faith_workspace *ws = tk_faith_workspace_create(&p, 7, &err);
    CU_ASSERT_FATAL(ws != NULL);
    float score[7], curve[7], rcurve[7], rcurve2[7];
    for (int t = 0; t < 7; t++)
        score[t] = (float)W[IDS[t]];
    score[2] = 100; /* the start marker is never a candidate, whatever its score */
    bow_ctx c = {0};
    tk_faith_result r = {.curve = curve, .random_curve = rcurve};
    CU_ASSERT_FATAL(tk_faith_review(ws, &p, bow_eval, &c, IDS, score, NULL, 7, 11, &r, &err) == TK_OK);
    CU_ASSERT_EQUAL(c.calls, 1); /* every variant in one batch */
    CU_ASSERT_EQUAL(c.last_batch, 1 + 2 * 6 + 4 * 5);
    check_known(&p, &r, curve, 1e-6);
    const int32_t pad_row1[7] = {0, 0, 1, 0, 6, 7, 8};
    CU_ASSERT(memcmp(c.row1, pad_row1, sizeof pad_row1) == 0);
    /* No order removes more than the top-scored one from a linear model. */
    CU_ASSERT_DOUBLE_EQUAL(rcurve[0], 4.75, 1e-9);
    for (int k = 0; k <= 6; k++)
        CU_ASSERT(rcurve[k] >= curve[k] - 1e-6);
    CU_ASSERT(r.random_aopc <= r.aopc + 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(rcurve[6], 0.25, 1e-6); /* all removed either way */
    CU_ASSERT(r.random_comprehensiveness <= r.comprehensiveness + 1e-9);

    /* Seeded: the same key gives the same baseline. */
    tk_faith_result r2 = {.curve = curve, .random_curve = rcurve2};
    CU_ASSERT_FATAL(tk_faith_review(ws, &p, bow_eval, &c, IDS, score, NULL, 7, 11, &r2, &err) == TK_OK);
    CU_ASSERT(memcmp(rcurve, rcurve2, sizeof rcurve) == 0);

    /* Deleting and re-padding at the front gives the same F for a bag of
     * words, with the tokens shifted right. */
    p.mode = TK_FAITH_REMOVE;
    CU_ASSERT_FATAL(tk_faith_review(ws, &p, bow_eval, &c, IDS, score, NULL, 7, 11, &r, &err) == TK_OK);
    check_known(&p, &r, curve, 1e-6);
    const int32_t removed_row1[7] = {0, 0, 0, 1, 6, 7, 8};
    CU_ASSERT(memcmp(c.row1, removed_row1, sizeof removed_row1) == 0);

    /* Bad parameters are errors, not crashes. */
    p.n_q = 99;
    CU_ASSERT(tk_faith_review(ws, &p, bow_eval, &c, IDS, score, NULL, 7, 11, &r, &err) == TK_E_INVALID);
    p.n_q = 5;
    tk_error_clear(&err);
    CU_ASSERT(tk_faith_review(ws, &p, bow_eval, &c, IDS, score, NULL, 99, 11, &r, &err) == TK_E_INVALID);
    tk_faith_workspace_destroy(ws);
    tk_faith_workspace_destroy(NULL);
}

/* A real model computing the same F: Embedding(10, 1) holding w, global
 * average pooling over the 7 positions, Dense(2, linear) with kernel
 * (7, -1): z_0 = F. */
static void test_real_model(void)
{
    tk_layer_spec specs[3];
    memset(specs, 0, sizeof specs);
    specs[0].kind = TK_LAYER_EMBEDDING;
    specs[0].input_dim = 10;
    specs[0].output_dim = 1;
    specs[1].kind = TK_LAYER_GLOBAL_AVG_POOL1D;
    specs[2].kind = TK_LAYER_DENSE;
    specs[2].units = 2; /* two linear outputs: F = z_0 without the sigmoid sign rule */
    specs[2].activation = TK_ACT_LINEAR;
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_model_build(specs, 3, 7, &m, &err) == TK_OK);
    for (int l = 0; l < m->n_layers; l++) {
        tk_layer *L = &m->layers[l];
        if (L->kind == TK_LAYER_EMBEDDING)
            for (int i = 0; i < 10; i++)
                L->embeddings[i] = (float)W[i];
        if (L->kind == TK_LAYER_DENSE) {
            L->kernel[0] = 7.0f; /* (1, 2) */
            L->kernel[1] = -1.0f;
            if (L->bias)
                L->bias[0] = L->bias[1] = 0.0f;
        }
    }
    tk_faith_params p;
    tk_faith_params_default(&p);
    p.k_max = 6;
    tk_faith_workspace *ws = tk_faith_workspace_create(&p, 7, &err);
    tk_faith_model_ctx *ctx = tk_faith_model_ctx_create(m, TK_OUTPUT_LOGIT, 8, 7, &err); /* chunks of 8 */
    CU_ASSERT_FATAL(ws != NULL && ctx != NULL);
    tk_faith_model_set_target(ctx, 0);
    float score[7], curve[7], rcurve[7];
    for (int t = 0; t < 7; t++)
        score[t] = (float)W[IDS[t]];
    tk_faith_result r = {.curve = curve, .random_curve = rcurve};
    CU_ASSERT_FATAL(tk_faith_review(ws, &p, tk_faith_model_eval, ctx, IDS, score, NULL, 7, 3, &r, &err) == TK_OK);
    if (fabs(r.f_input - 4.75) > 1e-5)
        fprintf(stderr, "F(x) = %.9g, curve %g %g %g\n", r.f_input, curve[1], curve[2], curve[3]);
    check_known(&p, &r, curve, 1e-5);
    for (int k = 0; k <= 6; k++)
        CU_ASSERT(rcurve[k] >= curve[k] - 1e-5);
    tk_faith_model_ctx_destroy(ctx);
    tk_faith_workspace_destroy(ws);
    tk_model_destroy(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"known answer, callback", test_known_answer},
        {"known answer, tk_model", test_real_model},
        {NULL, NULL},
    };
    tk_test_add_suite("faithfulness", cases);
    return tk_test_run_all();
}
