/* Every method on models with SimpleRNN, GRU, Bidirectional over each and
 * BatchNormalization (issue 16): DeepLIFT/DeepSHAP completeness to 1e-5,
 * epsilon-LRP conservation (eps 0, bias_factor 1) to 1e-5, IG
 * completeness, saliency = the model's backward, occlusion = the model's
 * forward, and a review's result bit for bit the same whatever was
 * explained before it (the project's reproducibility promise). */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "attr/target.h"
#include "core/gemm.h"
#include "model/model.h"
#include "support/testutil.h"

enum { STEPS = 9, VOCAB = 30, EMB = 6, NREV = 4 };

static uint64_t seed = 77;

static float uni(void)
{
    return tk_model_rng_uniform(&seed) * 2.0f - 1.0f;
}

static tk_layer rnn(tk_layer_kind kind, const char *name, int units, tk_activation act,
                    tk_activation rec, bool reset_after, bool seq, bool back, tk_merge_mode merge)
{
    tk_layer l = tk_test_layer(kind, name);
    l.units = units;
    l.activation = act;
    l.recurrent_activation = rec;
    l.reset_after = reset_after;
    l.return_sequences = seq;
    l.go_backwards = back;
    l.merge_mode = merge;
    return l;
}

static tk_layer bn(bool center, bool scale)
{
    tk_layer l = tk_test_layer(TK_LAYER_BATCH_NORM, "batch_normalization");
    l.bn_center = center;
    l.bn_scale = scale;
    l.bn_epsilon = 1e-3f;
    l.bn_axis = -1;
    return l;
}

static tk_layer dense(int units, tk_activation act)
{
    tk_layer l = tk_test_layer(TK_LAYER_DENSE, "dense");
    l.units = units;
    l.activation = act;
    return l;
}

static tk_model *finish(tk_layer *ls, int n)
{
    ls[0] = tk_test_layer(TK_LAYER_EMBEDDING, "embedding");
    ls[0].input_dim = VOCAB;
    ls[0].output_dim = EMB;
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_from_layers(ls, n, 0, 0, &m, &err) != TK_OK) {
        fprintf(stderr, "\nmodel: %s\n", err.msg);
        return NULL;
    }
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = 0.7f * uni();
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == TK_LAYER_BATCH_NORM)
            for (int c = 0; c < m->layers[i].input_dim; c++)
                m->layers[i].bn_var[c] = 0.3f + fabsf(m->layers[i].bn_var[c]);
    return m;
}

/* The models of this test; lrp_ok: every Bidirectional merges by concat. */
static tk_model *model_of(int which, bool *lrp_ok)
{
    tk_layer ls[6];
    *lrp_ok = true;
    switch (which) {
    case 0: /* GRU (reset_after, sigmoid) -> BatchNormalization -> SimpleRNN (tanh) -> Dense(2, softmax) */
        ls[1] = rnn(TK_LAYER_GRU, "gru", 5, TK_ACT_TANH, TK_ACT_SIGMOID, true, true, false, 0);
        ls[2] = bn(true, true);
        ls[3] = rnn(TK_LAYER_SIMPLE_RNN, "simple_rnn", 4, TK_ACT_TANH, 0, false, false, false, 0);
        ls[4] = dense(2, TK_ACT_SOFTMAX);
        return finish(ls, 5);
    case 1: /* Bidirectional(GRU reset before, hard_sigmoid) concat -> GlobalMaxPooling1D -> Dense(1, sigmoid) */
        ls[1] = rnn(TK_LAYER_BIDIRECTIONAL_GRU, "bidirectional", 4, TK_ACT_TANH, TK_ACT_HARD_SIGMOID,
                    false, true, false, TK_MERGE_CONCAT);
        ls[2] = tk_test_layer(TK_LAYER_GLOBAL_MAX_POOL1D, "global_max_pooling1d");
        ls[3] = dense(1, TK_ACT_SIGMOID);
        return finish(ls, 4);
    case 2: /* GRU (Keras 3 hard_sigmoid, go_backwards) -> BatchNormalization(no center) -> Dense(3, softmax) */
        ls[1] = rnn(TK_LAYER_GRU, "gru", 5, TK_ACT_TANH, TK_ACT_HARD_SIGMOID_K3, false, false, true, 0);
        ls[2] = bn(false, true);
        ls[3] = dense(3, TK_ACT_SOFTMAX);
        return finish(ls, 4);
    case 3: /* Bidirectional(SimpleRNN relu) concat, return_sequences -> Bidirectional(GRU) concat -> Dense */
        ls[1] = rnn(TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN, "bidirectional", 3, TK_ACT_RELU, 0, false,
                    true, true, TK_MERGE_CONCAT);
        ls[2] = rnn(TK_LAYER_BIDIRECTIONAL_GRU, "bidirectional_1", 3, TK_ACT_TANH, TK_ACT_SIGMOID,
                    true, false, false, TK_MERGE_CONCAT);
        ls[3] = dense(1, TK_ACT_SIGMOID);
        return finish(ls, 4);
    default: /* merges sum and ave (DeepLIFT yes, LRP refuses) */
        *lrp_ok = false;
        ls[1] = rnn(TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN, "bidirectional", 3, TK_ACT_TANH, 0, false,
                    true, false, TK_MERGE_SUM);
        ls[2] = rnn(TK_LAYER_BIDIRECTIONAL_GRU, "bidirectional_1", 3, TK_ACT_TANH, TK_ACT_SIGMOID,
                    true, false, true, TK_MERGE_AVE);
        ls[3] = dense(2, TK_ACT_SOFTMAX);
        return finish(ls, 4);
    }
}

enum { N_MODELS = 5 };

static void random_ids(int32_t *ids, int n)
{
    for (int t = 0; t < n; t++)
        ids[t] = (int32_t)((uni() + 1.0f) * 0.5f * VOCAB) % VOCAB;
}

typedef struct run {
    float score[STEPS];
    float full[STEPS * EMB];
    tk_attribution a;
} run;

static tk_status explain(tk_explainer *ex, const int32_t *ids, run *r, tk_error *err)
{
    memset(r, 0, sizeof *r);
    r->a.score = r->score;
    r->a.full = r->full;
    tk_review rv = {ids, NULL, STEPS, 1};
    return tk_explain(ex, &rv, &r->a, err);
}

/* Completeness/conservation of one method on NREV reviews, and the last
 * review again after the others, bit for bit. */
static void check_method(const tk_model *m, tk_method_kind kind, tk_baseline_kind base, double tol_rel,
                         const char *label)
{
    int32_t bg[5 * STEPS], ids[NREV][STEPS];
    random_ids(bg, 5 * STEPS);
    tk_background background = {bg, NULL, 5, STEPS};
    tk_method_params p;
    tk_method_params_default(&p, kind);
    p.baseline = base;
    if (kind == TK_METHOD_LRP_EPSILON) {
        p.eps = 0.0;
        p.bias_factor = 1.0;
    }
    if (kind == TK_METHOD_INTEGRATED_GRADIENTS)
        p.n_steps = 64;
    tk_explainer *ex = NULL;
    tk_error err = {0};
    tk_status s = tk_explainer_create(m, &p, &background, STEPS, &ex, &err);
    if (s != TK_OK)
        fprintf(stderr, "\n%s: %s\n", label, err.msg);
    CU_ASSERT_FATAL(s == TK_OK);
    run first, r;
    for (int i = 0; i < NREV; i++) {
        random_ids(ids[i], STEPS);
        CU_ASSERT_FATAL(explain(ex, ids[i], i == 0 ? &first : &r, &err) == TK_OK);
        const tk_attribution *a = i == 0 ? &first.a : &r.a;
        const float *score = i == 0 ? first.score : r.score;
        double sum = 0;
        for (int t = 0; t < STEPS; t++)
            sum += score[t];
        double scale = kind == TK_METHOD_LRP_EPSILON ? fabs(a->f_input) : fabs(a->f_input - a->f_baseline);
        double tol = tol_rel * fmax(kind == TK_METHOD_INTEGRATED_GRADIENTS ? scale : 1.0, scale) +
                     (kind == TK_METHOD_INTEGRATED_GRADIENTS ? 1e-4 : 0.0);
        if (!(fabs(a->axiom_error) <= tol))
            fprintf(stderr, "\n%s review %d: axiom error %.3g (scale %.3g)\n", label, i, a->axiom_error,
                    scale);
        CU_ASSERT(fabs(a->axiom_error) <= tol);
        /* the scores are what is complete: Σ score = F(x) − F(ref) (LRP: − init state) */
        double want = kind == TK_METHOD_LRP_EPSILON ? a->f_input - a->lrp_init_state
                                                    : a->f_input - a->f_baseline;
        CU_ASSERT(fabs(sum - want) <= tol + 1e-5);
        CU_ASSERT(scale > 1e-7); /* something to explain */
    }
    /* the first review again, after three others: the same bits */
    CU_ASSERT_FATAL(explain(ex, ids[0], &r, &err) == TK_OK);
    CU_ASSERT(memcmp(first.score, r.score, sizeof first.score) == 0);
    CU_ASSERT(memcmp(first.full, r.full, sizeof first.full) == 0);
    CU_ASSERT(first.a.axiom_error == r.a.axiom_error);
    tk_explainer_destroy(ex);
}

static void test_deeplift_deepshap(void)
{
    for (int w = 0; w < N_MODELS; w++) {
        bool lrp_ok;
        tk_model *m = model_of(w, &lrp_ok);
        CU_ASSERT_FATAL(m != NULL);
        char label[64];
        snprintf(label, sizeof label, "model %d deeplift pad", w);
        check_method(m, TK_METHOD_DEEPLIFT, TK_BASELINE_PAD, 1e-5, label);
        snprintf(label, sizeof label, "model %d deeplift zeros", w);
        check_method(m, TK_METHOD_DEEPLIFT, TK_BASELINE_ZEROS, 1e-5, label);
        snprintf(label, sizeof label, "model %d deepshap", w);
        check_method(m, TK_METHOD_DEEPSHAP, TK_BASELINE_PAD, 1e-5, label);
        tk_model_destroy(m);
    }
}

static void test_lrp(void)
{
    for (int w = 0; w < N_MODELS; w++) {
        bool lrp_ok;
        tk_model *m = model_of(w, &lrp_ok);
        CU_ASSERT_FATAL(m != NULL);
        char label[64];
        snprintf(label, sizeof label, "model %d lrp", w);
        if (lrp_ok) {
            check_method(m, TK_METHOD_LRP_EPSILON, TK_BASELINE_PAD, 1e-5, label);
        } else {
            /* merge 'sum' has no LRP rule: refused at create time, naming the layer */
            tk_method_params p;
            tk_method_params_default(&p, TK_METHOD_LRP_EPSILON);
            tk_explainer *ex = NULL;
            tk_error err = {0};
            CU_ASSERT(tk_explainer_create(m, &p, NULL, STEPS, &ex, &err) == TK_E_UNSUPPORTED);
            CU_ASSERT(strstr(err.msg, "bidirectional") != NULL && strstr(err.msg, "concat") != NULL);
            CU_ASSERT(ex == NULL);
        }
        tk_model_destroy(m);
    }
}

static void test_ig(void)
{
    for (int w = 0; w < N_MODELS; w++) {
        bool lrp_ok;
        tk_model *m = model_of(w, &lrp_ok);
        CU_ASSERT_FATAL(m != NULL);
        char label[64];
        snprintf(label, sizeof label, "model %d ig", w);
        /* Gauss-Legendre with 64 points: 1% of F(x) - F(x') as the project's IG tests */
        check_method(m, TK_METHOD_INTEGRATED_GRADIENTS, TK_BASELINE_PAD, 1e-2, label);
        tk_model_destroy(m);
    }
}

/* saliency is |dF/dx| from the model's backward; occlusion the model's F
 * with the position replaced; both checked against the model directly. */
static void test_saliency_occlusion(void)
{
    for (int w = 0; w < N_MODELS; w++) {
        bool lrp_ok;
        tk_model *m = model_of(w, &lrp_ok);
        CU_ASSERT_FATAL(m != NULL);
        int32_t ids[STEPS];
        random_ids(ids, STEPS);
        tk_error err = {0};
        float x[STEPS * EMB], logits[4], probs[4];
        CU_ASSERT_FATAL(tk_model_embed(m, ids, 1, STEPS, x, &err) == TK_OK);
        tk_workspace *ws = tk_workspace_create(m, 1, STEPS, &err);
        CU_ASSERT_FATAL(ws != NULL);
        CU_ASSERT_FATAL(tk_model_forward(m, ws, 1, STEPS, x, logits, &err) == TK_OK);
        double f = tk_explained_scalar(m, TK_OUTPUT_PROB, tk_predicted_class(m, logits), logits, NULL);
        tk_model_output_probs(m, 1, logits, probs);
        /* occlusion, window 1, pad replacement: F(x) − F(x with position t = pad) */
        tk_method_params p;
        tk_method_params_default(&p, TK_METHOD_OCCLUSION);
        tk_explainer *ex = NULL;
        CU_ASSERT_FATAL(tk_explainer_create(m, &p, NULL, STEPS, &ex, &err) == TK_OK);
        run r;
        CU_ASSERT_FATAL(explain(ex, ids, &r, &err) == TK_OK);
        CU_ASSERT(fabs(r.a.f_input - f) <= 1e-6);
        for (int t = 0; t < STEPS; t++) {
            int32_t occ[STEPS];
            memcpy(occ, ids, sizeof occ);
            occ[t] = 0;
            float xo[STEPS * EMB], lo[4];
            CU_ASSERT_FATAL(tk_model_embed(m, occ, 1, STEPS, xo, &err) == TK_OK);
            CU_ASSERT_FATAL(tk_model_forward(m, ws, 1, STEPS, xo, lo, &err) == TK_OK);
            double fo = tk_explained_scalar(m, TK_OUTPUT_PROB, r.a.target, lo, NULL);
            CU_ASSERT(fabs(r.score[t] - (f - fo)) <= 1e-6);
        }
        tk_explainer_destroy(ex);
        /* saliency: the L2 norm over the embedding of the gradient (METHODS.md) or its sum */
        tk_method_params_default(&p, TK_METHOD_GRAD_INPUT);
        CU_ASSERT_FATAL(tk_explainer_create(m, &p, NULL, STEPS, &ex, &err) == TK_OK);
        CU_ASSERT_FATAL(explain(ex, ids, &r, &err) == TK_OK);
        /* grad_input summed over dims; finite differences of F along x at each position */
        for (int t = 0; t < STEPS; t++) {
            double fd = 0;
            for (int d = 0; d < EMB; d++) {
                float keep = x[t * EMB + d], h = 1e-3f, lp[4], lm[4];
                x[t * EMB + d] = keep + h;
                tk_model_forward(m, ws, 1, STEPS, x, lp, &err);
                x[t * EMB + d] = keep - h;
                tk_model_forward(m, ws, 1, STEPS, x, lm, &err);
                x[t * EMB + d] = keep;
                double g = (tk_explained_scalar(m, TK_OUTPUT_PROB, r.a.target, lp, NULL) -
                            tk_explained_scalar(m, TK_OUTPUT_PROB, r.a.target, lm, NULL)) / (2.0 * h);
                fd += g * keep;
            }
            if (fabs(r.score[t] - fd) > 2e-3 * fmax(1.0, fabs(fd)))
                fprintf(stderr, "\nmodel %d grad_input t %d: %g vs fd %g\n", w, t, r.score[t], fd);
            CU_ASSERT(fabs(r.score[t] - fd) <= 2e-3 * fmax(1.0, fabs(fd)));
        }
        tk_explainer_destroy(ex);
        tk_workspace_destroy(ws);
        tk_model_destroy(m);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"DeepLIFT (pad, zeros) and DeepSHAP complete to 1e-5", test_deeplift_deepshap},
        {"epsilon-LRP conserves (eps 0, bias_factor 1) to 1e-5; merge sum refused", test_lrp},
        {"Integrated Gradients complete", test_ig},
        {"occlusion and grad_input against the model", test_saliency_occlusion},
        {NULL, NULL},
    };
    tk_test_add_suite("attr_rnn", cases);
    return tk_test_run_all();
}
