/* DeepLIFT and DeepSHAP: completeness (δ = Σ A − (F(x) − E) at float
 * precision) on small random models of every supported layer kind, the
 * forward pass against the model module's, and per-token agreement with the
 * independent Captum values of ../shared/fixtures/attributions.h5. */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "attr/method.h"
#include "attr/target.h"
#include "model/model.h"
#include "core/rng.h"
#include "support/testutil.h"

static uint64_t rng = 0x1234567u;

static float urand(void)
{
    return tk_rng_uniform(&rng);
}

static void fill_random(tk_model *m, float scale)
{
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = (2.0f * urand() - 1.0f) * scale;
}

/* Embedding(30, 8) -> Conv1D(6, 3, relu, same) -> MaxPooling1D(2) -> Conv1D(5, 2, tanh)
 * -> GlobalMaxPooling1D -> Dense(7, sigmoid) -> Dense(k, softmax) */
static tk_model *cnn_model(int k)
{
    tk_layer l[7];
    l[0] = tk_test_layer(TK_LAYER_EMBEDDING, "embedding");
    l[0].input_dim = 30;
    l[0].output_dim = 8;
    l[1] = tk_test_layer(TK_LAYER_CONV1D, "conv1d");
    l[1].filters = 6, l[1].kernel_size = 3, l[1].activation = TK_ACT_RELU, l[1].padding_same = true;
    l[2] = tk_test_layer(TK_LAYER_MAX_POOL1D, "max_pooling1d");
    l[2].pool_size = 2, l[2].pool_strides = 2;
    l[3] = tk_test_layer(TK_LAYER_CONV1D, "conv1d_1");
    l[3].filters = 5, l[3].kernel_size = 2, l[3].activation = TK_ACT_TANH;
    l[4] = tk_test_layer(TK_LAYER_GLOBAL_MAX_POOL1D, "global_max_pooling1d");
    l[5] = tk_test_layer(TK_LAYER_DENSE, "dense");
    l[5].units = 7, l[5].activation = TK_ACT_SIGMOID;
    l[6] = tk_test_layer(TK_LAYER_DENSE, "dense_1");
    l[6].units = k, l[6].activation = k == 1 ? TK_ACT_SIGMOID : TK_ACT_SOFTMAX;
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_from_layers(l, 7, 12, 0, &m, &err) != TK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    fill_random(m, 0.6f);
    return m;
}

/* Embedding(30, 8) -> LSTM(6, return_sequences) -> Bidirectional(LSTM(5)) -> Dense(1, sigmoid) */
static tk_model *lstm_model(tk_activation rec, tk_merge_mode merge, bool go_backwards)
{
    tk_layer l[4];
    l[0] = tk_test_layer(TK_LAYER_EMBEDDING, "embedding");
    l[0].input_dim = 30;
    l[0].output_dim = 8;
    l[1] = tk_test_layer(TK_LAYER_LSTM, "lstm");
    l[1].units = 6, l[1].activation = TK_ACT_TANH, l[1].recurrent_activation = rec;
    l[1].return_sequences = true, l[1].go_backwards = go_backwards;
    l[2] = tk_test_layer(TK_LAYER_BIDIRECTIONAL, "bidirectional");
    l[2].units = 5, l[2].activation = TK_ACT_TANH, l[2].recurrent_activation = rec;
    l[2].merge_mode = merge;
    l[3] = tk_test_layer(TK_LAYER_DENSE, "dense");
    l[3].units = 1, l[3].activation = TK_ACT_SIGMOID;
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_from_layers(l, 4, 0, 0, &m, &err) != TK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    fill_random(m, 0.7f);
    return m;
}

/* Completeness for nrev random reviews, DeepLIFT (pad, zeros) and DeepSHAP
 * with 7 random background reviews; also the model module's logits. */
static void check_completeness(tk_model *m, int steps, tk_output_kind output, tk_target_kind target)
{
    CU_ASSERT_FATAL(m != NULL);
    enum { NB = 7, NREV = 6 };
    int32_t bg_ids[NB * 40], ids[40];
    CU_ASSERT_FATAL(steps <= 40);
    for (int i = 0; i < NB * steps; i++)
        bg_ids[i] = (int32_t)(urand() * m->vocab_size) % m->vocab_size;
    tk_background bg = {bg_ids, NULL, NB, steps};
    tk_method_kind kinds[3] = {TK_METHOD_DEEPLIFT, TK_METHOD_DEEPLIFT, TK_METHOD_DEEPSHAP};
    tk_baseline_kind bases[3] = {TK_BASELINE_PAD, TK_BASELINE_ZEROS, TK_BASELINE_PAD};
    float score[40];
    float *full = malloc(sizeof(float) * 40 * (size_t)m->input_dim);
    for (int v = 0; v < 3; v++) {
        tk_method_params p;
        tk_method_params_default(&p, kinds[v]);
        p.output = output;
        p.target = target;
        p.target_class = 0;
        p.baseline = bases[v];
        tk_explainer *ex = NULL;
        tk_error err = {0};
        tk_status s = tk_explainer_create(m, &p, &bg, steps, &ex, &err);
        if (s != TK_OK)
            fprintf(stderr, "create: %s\n", err.msg);
        CU_ASSERT_FATAL(s == TK_OK);
        for (int r = 0; r < NREV; r++) {
            for (int t = 0; t < steps; t++)
                ids[t] = r == 0 && t < steps / 2 ? 0 : (int32_t)(urand() * m->vocab_size) % m->vocab_size;
            tk_review rv = {ids, NULL, steps, 1};
            tk_attribution a = {0};
            a.score = score;
            a.full = full;
            s = tk_explain(ex, &rv, &a, &err);
            CU_ASSERT_FATAL(s == TK_OK);
            double sum = 0, fsum = 0;
            for (int t = 0; t < steps; t++) {
                sum += score[t];
                for (int d = 0; d < m->input_dim; d++)
                    fsum += full[t * m->input_dim + d];
            }
            double diff = a.f_input - a.f_baseline;
            double tol = 1e-5 * fmax(1.0, fabs(diff));
            if (fabs(a.axiom_error) > tol)
                fprintf(stderr, "method %d review %d: delta %g (F(x) - E = %g)\n", v, r,
                        a.axiom_error, diff);
            CU_ASSERT(fabs(a.axiom_error) <= tol);
            /* our forward pass against the model module's */
            if (v == 0) {
                tk_workspace *ws = tk_workspace_create(m, 1, steps, &err);
                float *x = malloc(sizeof(float) * steps * (size_t)m->input_dim), logits[8];
                CU_ASSERT_FATAL(ws && x);
                CU_ASSERT_FATAL(tk_model_embed(m, ids, 1, steps, x, &err) == TK_OK);
                CU_ASSERT_FATAL(tk_model_forward(m, ws, 1, steps, x, logits, &err) == TK_OK);
                double f = tk_explained_scalar(m, output, a.target, logits, NULL);
                if (fabs(f - a.f_input) > 1e-5 * fmax(1.0, fabs(f)))
                    fprintf(stderr, "steps %d: model F %g, ours %g\n", steps, f, a.f_input);
                CU_ASSERT(fabs(f - a.f_input) <= 1e-5 * fmax(1.0, fabs(f)));
                free(x);
                tk_workspace_destroy(ws);
            }
            CU_ASSERT(fabs(sum - diff) <= tol + 1e-5 * steps * 1e-2);
            CU_ASSERT(fabs(fsum - sum) <= 1e-4 * fmax(1.0, fabs(sum)));
            /* the reviews must actually be explained: something non-zero */
            CU_ASSERT(fabs(diff) > 1e-6 || v == 0);
            /* pad positions of a pad reference get exactly 0 */
            if (r == 0 && kinds[v] == TK_METHOD_DEEPLIFT && bases[v] == TK_BASELINE_PAD)
                for (int t = 0; t < steps / 2; t++)
                    CU_ASSERT(score[t] == 0.0f);
        }
        tk_explainer_destroy(ex);
    }
    free(full);
}

static void test_cnn_softmax2(void)
{
    tk_model *m = cnn_model(2);
    check_completeness(m, 12, TK_OUTPUT_PROB, TK_TARGET_PREDICTED);
    check_completeness(m, 12, TK_OUTPUT_LOGIT, TK_TARGET_CLASS);
    tk_model_destroy(m);
}

static void test_cnn_softmax3(void)
{
    tk_model *m = cnn_model(3);
    check_completeness(m, 12, TK_OUTPUT_PROB, TK_TARGET_PREDICTED);
    check_completeness(m, 12, TK_OUTPUT_PROB, TK_TARGET_CLASS);
    tk_model_destroy(m);
}

static void test_cnn_sigmoid(void)
{
    tk_model *m = cnn_model(1);
    check_completeness(m, 12, TK_OUTPUT_PROB, TK_TARGET_CLASS);
    tk_model_destroy(m);
}

static void test_lstm_stack(void)
{
    tk_model *m = lstm_model(TK_ACT_SIGMOID, TK_MERGE_CONCAT, false);
    check_completeness(m, 9, TK_OUTPUT_PROB, TK_TARGET_PREDICTED);
    check_completeness(m, 17, TK_OUTPUT_LOGIT, TK_TARGET_CLASS);
    tk_model_destroy(m);
    m = lstm_model(TK_ACT_HARD_SIGMOID, TK_MERGE_SUM, true);
    check_completeness(m, 11, TK_OUTPUT_PROB, TK_TARGET_CLASS);
    tk_model_destroy(m);
    m = lstm_model(TK_ACT_SIGMOID, TK_MERGE_AVE, false);
    check_completeness(m, 11, TK_OUTPUT_PROB, TK_TARGET_PREDICTED);
    tk_model_destroy(m);
}

/* Reviews of different lengths through one DeepLIFT explainer (the pad
 * reference is re-run per length): complete, and a review's result does not
 * depend on what was explained before it. */
static void test_lengths_and_history(void)
{
    tk_model *m = lstm_model(TK_ACT_SIGMOID, TK_MERGE_CONCAT, false);
    CU_ASSERT_FATAL(m != NULL);
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_DEEPLIFT);
    tk_explainer *ex = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_explainer_create(m, &p, NULL, 17, &ex, &err) == TK_OK);
    int32_t ids[17];
    for (int t = 0; t < 17; t++)
        ids[t] = 1 + (t * 7) % 29;
    float first[17], score[17];
    int lens[3] = {17, 5, 17};
    for (int i = 0; i < 3; i++) {
        tk_attribution a = {0};
        a.score = i == 0 ? first : score;
        tk_review rv = {ids, NULL, lens[i], -1};
        CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
        CU_ASSERT(fabs(a.axiom_error) <= 1e-5 * fmax(1.0, fabs(a.f_input - a.f_baseline)));
    }
    CU_ASSERT(memcmp(first, score, sizeof first) == 0);
    tk_explainer_destroy(ex);
    tk_model_destroy(m);
}

/* Bad input gives a message and an error status, never a crash. */
static void test_bad_input(void)
{
    tk_model *m = cnn_model(2);
    CU_ASSERT_FATAL(m != NULL);
    int32_t ids[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    tk_method_params p;
    tk_explainer *ex = NULL;
    tk_error err = {0};
    /* DeepSHAP without a background */
    tk_method_params_default(&p, TK_METHOD_DEEPSHAP);
    CU_ASSERT(tk_explainer_create(m, &p, NULL, 12, &ex, &err) != TK_OK);
    CU_ASSERT(ex == NULL && strlen(err.msg) > 0);
    /* a background id outside the vocabulary */
    int32_t bad_bg[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99};
    tk_background bg = {bad_bg, NULL, 1, 12};
    memset(&err, 0, sizeof err);
    CU_ASSERT(tk_explainer_create(m, &p, &bg, 12, &ex, &err) != TK_OK);
    CU_ASSERT(ex == NULL && strstr(err.msg, "99") != NULL);
    /* a review of another length than the background */
    tk_background good = {ids, NULL, 1, 12};
    memset(&err, 0, sizeof err);
    CU_ASSERT_FATAL(tk_explainer_create(m, &p, &good, 12, &ex, &err) == TK_OK);
    float score[12];
    tk_attribution a = {0};
    a.score = score;
    tk_review rv = {ids, NULL, 11, -1};
    CU_ASSERT(tk_explain(ex, &rv, &a, &err) != TK_OK);
    /* an id outside the vocabulary in the review */
    int32_t bad[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -4};
    tk_review rv2 = {bad, NULL, 12, -1};
    memset(&err, 0, sizeof err);
    CU_ASSERT(tk_explain(ex, &rv2, &a, &err) != TK_OK);
    CU_ASSERT(strlen(err.msg) > 0);
    /* and the explainer still works afterwards */
    tk_review rv3 = {ids, NULL, 12, -1};
    CU_ASSERT(tk_explain(ex, &rv3, &a, &err) == TK_OK);
    tk_explainer_destroy(ex);
    tk_explainer_destroy(NULL);
    tk_model_destroy(m);
}

/* ---- fixtures ---- */

/* Per-token agreement within 1e-4 of each review's largest |score|. */
static void check_cnn_fixture(const char *output_name, const char *name, tk_method_kind kind)
{
    tk_model *m = NULL;
    tk_error err = {0};
    m = tk_test_load_model(tk_test_shared("models/imdb_cnn.h5"));
    CU_ASSERT_FATAL(m != NULL);
    hid_t f = H5Fopen(tk_test_shared("fixtures/attributions.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    enum { N = 10, T = 100 };
    static int32_t ids[N * T], bg_ids[100 * T];
    static double want[N * T];
    int32_t target[N];
    char path[256];
    snprintf(path, sizeof path, "cnn/%s/%s", output_name, name);
    CU_ASSERT_FATAL(tk_test_read_h5(f, "cnn/input_ids", H5T_NATIVE_INT32, ids) == 0);
    CU_ASSERT_FATAL(tk_test_read_h5(f, "cnn/background_input_ids", H5T_NATIVE_INT32, bg_ids) == 0);
    CU_ASSERT_FATAL(tk_test_read_h5(f, "cnn/target", H5T_NATIVE_INT32, target) == 0);
    CU_ASSERT_FATAL(tk_test_read_h5(f, path, H5T_NATIVE_DOUBLE, want) == 0);
    H5Fclose(f);

    tk_method_params p;
    tk_method_params_default(&p, kind);
    p.output = strcmp(output_name, "logit") == 0 ? TK_OUTPUT_LOGIT : TK_OUTPUT_PROB;
    p.baseline = TK_BASELINE_ZEROS;
    tk_background bg = {bg_ids, NULL, 100, T};
    tk_explainer *ex = NULL;
    CU_ASSERT_FATAL(tk_explainer_create(m, &p, &bg, T, &ex, &err) == TK_OK);
    float score[T];
    double worst = 0;
    for (int r = 0; r < N; r++) {
        tk_review rv = {ids + r * T, NULL, T, -1};
        tk_attribution a = {0};
        a.score = score;
        CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
        CU_ASSERT_EQUAL(a.target, target[r]);
        double big = 0, diff = 0;
        for (int t = 0; t < T; t++) {
            big = fmax(big, fabs(want[r * T + t]));
            diff = fmax(diff, fabs(score[t] - want[r * T + t]));
        }
        worst = fmax(worst, diff / big);
        if (getenv("ATTR2_DEBUG")) {
            for (int t = 0; t < T; t++)
                if (fabs(score[t] - want[r * T + t]) > 1e-4 * big)
                    printf("\n   t%d id %d ours %.6g want %.6g", t, ids[r * T + t], score[t], want[r * T + t]);
            printf("\n   f_input %.8g f_base %.8g delta %.3g\n", a.f_input, a.f_baseline, a.axiom_error);
        }
        CU_ASSERT(diff <= 1e-4 * big);
        CU_ASSERT(fabs(a.axiom_error) <= 1e-5 * fmax(1.0, fabs(a.f_input - a.f_baseline)));
    }
    printf("\n  %s/%s: worst per-token error %.2e of the largest |score|\n", output_name, name, worst);
    tk_explainer_destroy(ex);
    tk_model_destroy(m);
}

static void test_fixture_cnn_deeplift(void)
{
    check_cnn_fixture("prob", "deeplift_zero", TK_METHOD_DEEPLIFT);
    check_cnn_fixture("logit", "deeplift_zero", TK_METHOD_DEEPLIFT);
}

static void test_fixture_cnn_deepshap(void)
{
    check_cnn_fixture("prob", "deepliftshap_train100", TK_METHOD_DEEPSHAP);
    check_cnn_fixture("logit", "deepliftshap_train100", TK_METHOD_DEEPSHAP);
}

/* The real LSTM (no Captum reference exists): completeness of DeepSHAP with
 * 20 of the fixture reviews as background over the other 20, and DeepLIFT. */
static void test_fixture_lstm_completeness(void)
{
    tk_model *m = NULL;
    tk_error err = {0};
    m = tk_test_load_model(tk_test_shared("models/imdb_lstm.h5"));
    CU_ASSERT_FATAL(m != NULL);
    hid_t f = H5Fopen(tk_test_shared("fixtures/forward.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    enum { N = 40, T = 80 };
    static int32_t ids[N * T];
    CU_ASSERT_FATAL(tk_test_read_h5(f, "lstm/input_ids", H5T_NATIVE_INT32, ids) == 0);
    H5Fclose(f);
    for (int v = 0; v < 2; v++) {
        tk_method_params p;
        tk_method_params_default(&p, v ? TK_METHOD_DEEPSHAP : TK_METHOD_DEEPLIFT);
        tk_background bg = {ids, NULL, 20, T};
        tk_explainer *ex = NULL;
        CU_ASSERT_FATAL(tk_explainer_create(m, &p, &bg, T, &ex, &err) == TK_OK);
        float score[T];
        double worst = 0;
        for (int r = 20; r < N; r++) {
            tk_review rv = {ids + r * T, NULL, T, -1};
            tk_attribution a = {0};
            a.score = score;
            CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
            double rel = fabs(a.axiom_error) / fmax(1.0, fabs(a.f_input - a.f_baseline));
            worst = fmax(worst, rel);
            CU_ASSERT(rel <= 1e-5);
        }
        printf("\n  lstm %s: worst completeness error %.2e\n", v ? "deepshap" : "deeplift", worst);
        tk_explainer_destroy(ex);
    }
    tk_model_destroy(m);
}

/* The real Keras BiLSTM (no embedding): DeepSHAP with a background of
 * vector sequences and DeepLIFT with the zero reference are complete on the
 * fixture's input, for every one of the 5 classes' logits. */
static void test_bilstm_vectors(void)
{
    tk_model *m = tk_test_load_model(tk_test_shared("models/keras_bilstm_sst5.h5"));
    CU_ASSERT_FATAL(m != NULL);
    hid_t f = H5Fopen(tk_test_shared("fixtures/bilstm_lrp.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    float input[10 * 60], bgv[4 * 10 * 60], score[10];
    CU_ASSERT_FATAL(tk_test_read_h5(f, "seq1/input", H5T_NATIVE_FLOAT, input) == 0);
    H5Fclose(f);
    for (int i = 0; i < 4 * 10 * 60; i++)
        bgv[i] = 2.0f * urand() - 1.0f;
    tk_background bg = {NULL, bgv, 4, 10};
    for (int v = 0; v < 2; v++)
        for (int c = 0; c < 5; c++) {
            tk_method_params p;
            tk_method_params_default(&p, v ? TK_METHOD_DEEPSHAP : TK_METHOD_DEEPLIFT);
            p.target = TK_TARGET_CLASS;
            p.target_class = c;
            tk_explainer *ex = NULL;
            tk_error err = {0};
            CU_ASSERT_FATAL(tk_explainer_create(m, &p, &bg, 10, &ex, &err) == TK_OK);
            tk_review rv = {NULL, input, 10, -1};
            tk_attribution a = {0};
            a.score = score;
            CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
            CU_ASSERT(fabs(a.axiom_error) <= 1e-5 * fmax(1.0, fabs(a.f_input - a.f_baseline)));
            CU_ASSERT(fabs(a.f_input - a.f_baseline) > 1e-3);
            tk_explainer_destroy(ex);
        }
    tk_model_destroy(m);
}

/* Bodies that put global max pooling's sparse multiplier list
 * (rules.h tk_dl_sparse) through every kind of layer below it: a Conv1D
 * (scattered from the list), an Activation and a Dropout (the list passes),
 * a per-step Dense (made dense first) and the input itself. */
static tk_model *sparse_model(int variant)
{
    tk_layer l[7];
    int n = 0;
    l[n] = tk_test_layer(TK_LAYER_EMBEDDING, "embedding");
    l[n].input_dim = 30, l[n++].output_dim = 20; /* 20 channels: padded rows of 32 */
    if (variant == 0) {
        l[n] = tk_test_layer(TK_LAYER_CONV1D, "conv1d");
        l[n].filters = 9, l[n].kernel_size = 3, l[n].activation = TK_ACT_RELU, l[n++].padding_same = true;
    } else if (variant == 1) {
        l[n] = tk_test_layer(TK_LAYER_CONV1D, "conv1d");
        l[n].filters = 9, l[n].kernel_size = 2, l[n++].activation = TK_ACT_LINEAR;
        l[n++] = tk_test_layer(TK_LAYER_ACTIVATION, "activation");
        l[n - 1].activation = TK_ACT_TANH;
        l[n++] = tk_test_layer(TK_LAYER_DROPOUT, "dropout");
    } else if (variant == 2) {
        l[n] = tk_test_layer(TK_LAYER_DENSE, "dense_steps");
        l[n].units = 9, l[n++].activation = TK_ACT_RELU;
    } /* variant 3: the pooling reads the embedding */
    l[n++] = tk_test_layer(TK_LAYER_GLOBAL_MAX_POOL1D, "global_max_pooling1d");
    l[n] = tk_test_layer(TK_LAYER_DENSE, "dense");
    l[n].units = 4, l[n++].activation = TK_ACT_RELU;
    l[n] = tk_test_layer(TK_LAYER_DENSE, "dense_1");
    l[n].units = 1, l[n++].activation = TK_ACT_SIGMOID;
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_from_layers(l, n, 0, 0, &m, &err) != TK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    fill_random(m, 0.6f);
    return m;
}

static void explain_full(tk_explainer *ex, const int32_t *ids, int steps, float *score, float *full,
                         tk_attribution *a)
{
    tk_review rv = {ids, NULL, steps, 1};
    tk_error err = {0};
    memset(a, 0, sizeof *a);
    a->score = score;
    a->full = full;
    tk_status s = tk_explain(ex, &rv, a, &err);
    if (s != TK_OK)
        fprintf(stderr, "explain: %s\n", err.msg);
    CU_ASSERT_FATAL(s == TK_OK);
}

/* DeepSHAP over B references at once (every layer's rule on B rows) equals
 * the mean of B explainers of one reference each: a reference's
 * multipliers depend on no other reference. Not bitwise: the Dense layers'
 * transposes are cblas GEMMs of B rows against 1, which may round
 * differently, so to 1e-5 of the largest attribution. And explaining the
 * same review again after others gives the same bits: cells the sparse
 * list leaves undefined in its buffers never leak into a result. */
static void test_batched_references(void)
{
    enum { NB = 9, T = 14, D = 20 };
    for (int variant = 0; variant < 4; variant++) {
        tk_model *m = sparse_model(variant);
        CU_ASSERT_FATAL(m != NULL);
        int32_t bg_ids[NB * T], ids[3][T];
        for (int i = 0; i < NB * T; i++)
            bg_ids[i] = (int32_t)(urand() * 30) % 30;
        for (int r = 0; r < 3; r++)
            for (int t = 0; t < T; t++)
                ids[r][t] = (int32_t)(urand() * 30) % 30;
        tk_method_params p;
        tk_method_params_default(&p, TK_METHOD_DEEPSHAP);
        tk_error err = {0};
        tk_explainer *all = NULL, *one[NB] = {0};
        tk_background bg = {bg_ids, NULL, NB, T};
        CU_ASSERT_FATAL(tk_explainer_create(m, &p, &bg, T, &all, &err) == TK_OK);
        for (int b = 0; b < NB; b++) {
            tk_background bg1 = {bg_ids + b * T, NULL, 1, T};
            CU_ASSERT_FATAL(tk_explainer_create(m, &p, &bg1, T, &one[b], &err) == TK_OK);
        }
        static float score[T], full[T * D], first[T * D], s1[T], f1[T * D];
        static double mean[T * D];
        for (int r = 0; r < 3; r++) {
            tk_attribution a, a1;
            explain_full(all, ids[r], T, score, full, &a);
            if (r == 0)
                memcpy(first, full, sizeof full);
            memset(mean, 0, sizeof mean);
            double base = 0;
            for (int b = 0; b < NB; b++) {
                explain_full(one[b], ids[r], T, s1, f1, &a1);
                base += a1.f_baseline / NB;
                for (int i = 0; i < T * D; i++)
                    mean[i] += (double)f1[i] / NB;
            }
            double big = 0, worst = 0;
            for (int i = 0; i < T * D; i++) {
                big = fmax(big, fabs(mean[i]));
                worst = fmax(worst, fabs(full[i] - mean[i]));
            }
            if (worst > 1e-5 * big + 1e-7)
                fprintf(stderr, "variant %d review %d: batched vs per reference %g (largest %g)\n",
                        variant, r, worst, big);
            CU_ASSERT(big > 1e-4); /* something was attributed */
            CU_ASSERT(worst <= 1e-5 * big + 1e-7);
            CU_ASSERT(fabs(a.f_baseline - base) <= 1e-6);
            CU_ASSERT(fabs(a.axiom_error) <= 1e-5 * fmax(1.0, fabs(a.f_input - a.f_baseline)));
        }
        tk_attribution a;
        explain_full(all, ids[0], T, score, full, &a);
        CU_ASSERT(memcmp(first, full, sizeof full) == 0);
        for (int b = 0; b < NB; b++)
            tk_explainer_destroy(one[b]);
        tk_explainer_destroy(all);
        tk_model_destroy(m);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case synthetic[] = {
        {"cnn softmax-2 completeness", test_cnn_softmax2},
        {"cnn softmax-3 completeness", test_cnn_softmax3},
        {"cnn sigmoid completeness", test_cnn_sigmoid},
        {"lstm + bilstm completeness", test_lstm_stack},
        {"lengths and history", test_lengths_and_history},
        {"bad input", test_bad_input},
        {"deepshap: B references at once = mean of one each", test_batched_references},
        {NULL, NULL}};
    static const tk_test_case fixtures[] = {
        {"cnn deeplift_zero vs captum", test_fixture_cnn_deeplift},
        {"cnn deepliftshap_train100 vs captum", test_fixture_cnn_deepshap},
        {"lstm completeness on fixture reviews", test_fixture_lstm_completeness},
        {"bilstm vectors deepshap/deeplift completeness", test_bilstm_vectors},
        {NULL, NULL}};
    tk_test_add_suite("deeplift synthetic", synthetic);
    tk_test_add_suite("deeplift fixtures", fixtures);
    return tk_test_run_all();
}
