/* labels: pipeline */
/* pipeline/compute_chunk: the batch loop without MPI, on a tiny CNN built
 * here (Keras initialisation, seeded). Checked against things outside the
 * loop: each review explained alone by its own explainer (the scores in
 * the chunk are that review's non-padding scores, bit for bit, in order;
 * padding's sum goes to padding_score), the model's forward pass on one
 * review at a time, IG completeness recomputed from what the chunk holds,
 * the token count, and the failures a unit can meet. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "data/model_input.h"
#include "model/build.h"
#include "model/init.h"
#include "pipeline/compute_chunk.h"
#include "support/testutil.h"

enum { STEPS = 10, VOCAB = 40, N_REV = 5, N_METHODS = 3, CHUNK = 8, N_BG = 3 };

/* (N_REV, STEPS) prepared inputs, pre-padded: a short review, a full one,
 * one with a word whose id equals nothing special, one-token, and a
 * review that is only padding (no token at all). */
static const int32_t IDS[N_REV * STEPS] = {
    0, 0, 0, 0, 1, 5,  9, 17, 23, 4,   /* 6 tokens */
    1, 3, 8, 12, 31, 30, 2, 7, 19, 39, /* 10 tokens */
    0, 0, 1, 6, 6, 6, 33, 2, 11, 25,   /* 8 tokens */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1,      /* the start marker only */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,      /* padding only */
};
static const int32_t LABELS[N_REV] = {0, 1, 1, 0, 1};
static const int32_t BG[N_BG * STEPS] = {
    0, 0, 0, 1, 4, 4, 9, 10, 11, 12, 1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 0, 0, 0, 0, 0, 0, 0, 0, 1, 8,
};

/* Embedding(40, 6) -> Conv1D(5, 3, tanh) -> GlobalAveragePooling1D -> Dense(2, softmax):
 * smooth, so that 64 Gauss-Legendre points make IG's completeness exact
 * to float rounding */
static tk_model *tiny_cnn(void)
{
    tk_layer_spec s[4];
    memset(s, 0, sizeof s);
    s[0] = (tk_layer_spec){.kind = TK_LAYER_EMBEDDING, .input_dim = VOCAB, .output_dim = 6};
    s[1] = (tk_layer_spec){.kind = TK_LAYER_CONV1D, .filters = 5, .kernel_size = 3,
                           .activation = TK_ACT_TANH};
    s[2] = (tk_layer_spec){.kind = TK_LAYER_GLOBAL_AVG_POOL1D};
    s[3] = (tk_layer_spec){.kind = TK_LAYER_DENSE, .units = 2, .activation = TK_ACT_SOFTMAX};
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_build(s, 4, STEPS, &m, &err) != TK_OK ||
        tk_model_init_keras(m, 3, &err) != TK_OK) {
        fprintf(stderr, "\n%s\n", err.msg);
        tk_model_destroy(m);
        return NULL;
    }
    /* Keras' initialisation leaves a flat model: larger embeddings make
     * the scores and the completeness check say something */
    for (int i = 0; i < VOCAB * 6; i++)
        m->params[i] *= 20.0f;
    return m;
}

static void methods(tk_method_params *mp)
{
    tk_method_params_default(&mp[0], TK_METHOD_INTEGRATED_GRADIENTS);
    snprintf(mp[0].name, sizeof mp[0].name, "ig");
    mp[0].n_steps = 64;
    tk_method_params_default(&mp[1], TK_METHOD_SALIENCY);
    snprintf(mp[1].name, sizeof mp[1].name, "saliency");
    tk_method_params_default(&mp[2], TK_METHOD_DEEPSHAP);
    snprintf(mp[2].name, sizeof mp[2].name, "deepshap");
    mp[2].background_size = N_BG;
}

static int polls;
static void count_poll(void *ctx)
{
    (void)ctx;
    polls++;
}

static void test_chunk_matches_reviews_alone(void)
{
    tk_model *m = tiny_cnn();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    tk_method_params mp[N_METHODS];
    methods(mp);
    int32_t *bg[N_METHODS] = {NULL, NULL, (int32_t *)BG};
    tk_compute_spec spec = {.n_methods = N_METHODS, .methods = mp, .chunk_size = CHUNK,
                            .steps = STEPS, .background = bg};
    tk_compute *c = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_compute_create(m, &spec, &c, &err), TK_OK);
    polls = 0;
    const int64_t first = 40; /* the unit's row in the results file */
    CU_ASSERT_EQUAL_FATAL(tk_compute_chunk(c, IDS, LABELS, first, N_REV, count_poll, NULL, &err),
                          TK_OK);
    const tk_chunk_result *r = tk_compute_result(c);
    CU_ASSERT_EQUAL(polls, N_REV);
    CU_ASSERT_EQUAL(r->first, first);
    CU_ASSERT_EQUAL(r->count, N_REV);
    CU_ASSERT_EQUAL(r->n_methods, N_METHODS);
    int64_t tokens = 0;
    for (int i = 0; i < N_REV * STEPS; i++)
        tokens += IDS[i] != TK_ID_PAD;
    CU_ASSERT_EQUAL(r->tc, tokens);
    CU_ASSERT_EQUAL(r->tc, 6 + 10 + 8 + 1 + 0);

    /* predictions: the model on one review at a time (a batch of one) */
    tk_workspace *ws = tk_workspace_create(m, 1, STEPS, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ws);
    float x[STEPS * 6], logits[2], prob[2];
    for (int i = 0; i < N_REV; i++) {
        CU_ASSERT_EQUAL_FATAL(tk_model_embed(m, IDS + i * STEPS, 1, STEPS, x, &err), TK_OK);
        CU_ASSERT_EQUAL_FATAL(tk_model_forward(m, ws, 1, STEPS, x, logits, &err), TK_OK);
        tk_model_output_probs(m, 1, logits, prob);
        for (int j = 0; j < 2; j++)
            CU_ASSERT(fabsf(prob[j] - r->prob[i * 2 + j]) <= 1e-6f);
        CU_ASSERT_EQUAL(r->predicted[i], prob[1] > prob[0] ? 1 : 0);
    }
    tk_workspace_destroy(ws);

    /* every method on every review, alone, through its own explainer */
    double worst_ig = 0;
    for (int k = 0; k < N_METHODS; k++) {
        tk_background b = {.ids = BG, .n = N_BG, .steps = STEPS};
        tk_explainer *ex = NULL;
        CU_ASSERT_EQUAL_FATAL(tk_explainer_create(m, &mp[k], k == 2 ? &b : NULL, STEPS, &ex, &err),
                              TK_OK);
        int64_t t0 = 0;
        for (int i = 0; i < N_REV; i++) {
            float score[STEPS];
            tk_review rv = {.ids = IDS + i * STEPS, .steps = STEPS, .label = LABELS[i]};
            tk_attribution a = {.score = score};
            CU_ASSERT_EQUAL_FATAL(tk_explain(ex, &rv, &a, &err), TK_OK);
            const float *got = r->score + (int64_t)k * r->tc + t0; /* this review's tokens */
            double pad = 0, all = 0;
            int t = 0;
            for (int j = 0; j < STEPS; j++) {
                if (IDS[i * STEPS + j] == TK_ID_PAD) {
                    pad += score[j];
                } else {
                    CU_ASSERT(memcmp(&got[t], &score[j], sizeof(float)) == 0);
                    all += got[t];
                    t++;
                }
            }
            int64_t o = (int64_t)k * N_REV + i;
            CU_ASSERT(r->padding_score[o] == (float)pad);
            CU_ASSERT(r->axiom_error[o] == a.axiom_error);
            CU_ASSERT(r->f_input[o] == a.f_input);
            CU_ASSERT(r->f_baseline[o] == a.f_baseline);
            CU_ASSERT_EQUAL(r->target[o], a.target);
            if (k == 0) {
                /* IG completeness from the stored figures alone: tokens plus
                 * padding add up to F(x) - F(x') */
                double gap = fabs(all + r->padding_score[o] - (r->f_input[o] - r->f_baseline[o]));
                worst_ig = gap > worst_ig ? gap : worst_ig;
                /* and the gap is the one the method reports */
                CU_ASSERT(fabs(gap - fabs(r->axiom_error[o])) <= 1e-5);
            }
            t0 += t;
        }
        CU_ASSERT_EQUAL(t0, r->tc);
        tk_explainer_destroy(ex);
    }
    CU_ASSERT(worst_ig < 1e-4);
    /* the check says something: F moved between baseline and input */
    double moved = 0;
    for (int i = 0; i < N_REV; i++)
        moved = fmax(moved, fabs(r->f_input[i] - r->f_baseline[i]));
    CU_ASSERT(moved > 1e-3);

    /* a second, smaller unit reuses the buffers: its figures are its own */
    CU_ASSERT_EQUAL_FATAL(tk_compute_chunk(c, IDS + STEPS, LABELS + 1, 3, 1, NULL, NULL, &err), TK_OK);
    CU_ASSERT_EQUAL(r->first, 3);
    CU_ASSERT_EQUAL(r->count, 1);
    CU_ASSERT_EQUAL(r->tc, 10);
    tk_compute_destroy(c);
    tk_model_destroy(m);
}

/* The predictions come from the first method's logits when it gives them
 * (IG) and from one forward pass of the unit otherwise: the same classes,
 * probabilities to float rounding, both the model's own on one review,
 * and every method's scores bitwise the same in either order. A model
 * that overflows is named as such with IG first too. */
static void test_predictions_either_way(void)
{
    tk_model *m = tiny_cnn();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    tk_method_params all[N_METHODS], ig_first[2], sal_first[2];
    methods(all); /* ig, saliency, deepshap */
    ig_first[0] = all[0];
    ig_first[1] = all[1];
    sal_first[0] = ig_first[1];
    sal_first[1] = ig_first[0];
    tk_compute_spec spec = {.n_methods = 2, .methods = ig_first, .chunk_size = CHUNK,
                            .steps = STEPS};
    tk_compute *a = NULL, *b = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_compute_create(m, &spec, &a, &err), TK_OK);
    spec.methods = sal_first;
    CU_ASSERT_EQUAL_FATAL(tk_compute_create(m, &spec, &b, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_compute_chunk(a, IDS, LABELS, 0, N_REV, NULL, NULL, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_compute_chunk(b, IDS, LABELS, 0, N_REV, NULL, NULL, &err), TK_OK);
    const tk_chunk_result *ra = tk_compute_result(a), *rb = tk_compute_result(b);
    tk_workspace *ws = tk_workspace_create(m, 1, STEPS, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ws);
    float x[STEPS * 6], logits[2], prob[2];
    for (int i = 0; i < N_REV; i++) {
        CU_ASSERT_EQUAL_FATAL(tk_model_embed(m, IDS + i * STEPS, 1, STEPS, x, &err), TK_OK);
        CU_ASSERT_EQUAL_FATAL(tk_model_forward(m, ws, 1, STEPS, x, logits, &err), TK_OK);
        tk_model_output_probs(m, 1, logits, prob);
        CU_ASSERT_EQUAL(ra->predicted[i], rb->predicted[i]);
        CU_ASSERT_EQUAL(ra->predicted[i], prob[1] > prob[0] ? 1 : 0);
        for (int j = 0; j < 2; j++) {
            CU_ASSERT(fabsf(ra->prob[i * 2 + j] - prob[j]) <= 1e-6f);
            CU_ASSERT(fabsf(rb->prob[i * 2 + j] - prob[j]) <= 1e-6f);
        }
    }
    for (int k = 0; k < 2; k++) /* method k of a is method 1 - k of b */
        CU_ASSERT(memcmp(ra->score + (int64_t)k * ra->tc, rb->score + (int64_t)(1 - k) * rb->tc,
                         (size_t)ra->tc * sizeof *ra->score) == 0);
    tk_workspace_destroy(ws);
    tk_compute_destroy(a);
    tk_compute_destroy(b);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = NAN;
    spec.methods = ig_first;
    CU_ASSERT_EQUAL_FATAL(tk_compute_create(m, &spec, &a, &err), TK_OK);
    err = (tk_error){0};
    CU_ASSERT_EQUAL(tk_compute_chunk(a, IDS, LABELS, 17, 2, NULL, NULL, &err), TK_E_FORMAT);
    CU_ASSERT(strstr(err.msg, "review 17") != NULL && strstr(err.msg, "model's output") != NULL);
    tk_compute_destroy(a);
    tk_model_destroy(m);
}

static void test_chunk_failures(void)
{
    tk_model *m = tiny_cnn();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    tk_method_params mp[1];
    tk_method_params_default(&mp[0], TK_METHOD_SALIENCY);
    snprintf(mp[0].name, sizeof mp[0].name, "sal");
    tk_compute_spec spec = {.n_methods = 1, .methods = mp, .chunk_size = 2, .steps = STEPS};
    tk_compute *c = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_compute_create(m, &spec, &c, &err), TK_OK);
    /* more reviews than the unit was sized for */
    CU_ASSERT_NOT_EQUAL(tk_compute_chunk(c, IDS, LABELS, 0, 3, NULL, NULL, &err), TK_OK);
    /* an id outside the Embedding names itself */
    int32_t bad[STEPS] = {0, 0, 1, 4, VOCAB + 5, 2, 3, 4, 5, 6};
    CU_ASSERT_NOT_EQUAL(tk_compute_chunk(c, bad, LABELS, 0, 1, NULL, NULL, &err), TK_OK);
    tk_compute_destroy(c);
    /* a model that overflows: the review's row in the results file named
     * (weights changed before the computer is made: its workspaces may
     * hold the weights in their own layout) */
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = NAN;
    err = (tk_error){0};
    CU_ASSERT_EQUAL_FATAL(tk_compute_create(m, &spec, &c, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_compute_chunk(c, IDS, LABELS, 17, 2, NULL, NULL, &err), TK_E_FORMAT);
    CU_ASSERT(strstr(err.msg, "review 17") != NULL);
    CU_ASSERT(strstr(err.msg, "not finite") != NULL);
    tk_compute_destroy(c);
    /* a spec that cannot work */
    spec.chunk_size = 0;
    CU_ASSERT_NOT_EQUAL(tk_compute_create(m, &spec, &c, &err), TK_OK);
    CU_ASSERT_PTR_NULL(c);
    tk_compute_destroy(NULL);
    tk_model_destroy(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"chunk = each review alone, completeness", test_chunk_matches_reviews_alone},
        {"predictions from the first method's logits or a forward pass", test_predictions_either_way},
        {"failures", test_chunk_failures},
        {NULL, NULL},
    };
    tk_test_add_suite("compute_chunk", cases);
    return tk_test_run_all();
}
