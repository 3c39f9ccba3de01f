/* epsilon-LRP: conservation with eps = 0 and bias_factor = 1 (tokens +
 * initial states = the target logit) on random and real CNN, LSTM and
 * BiLSTM models, the epsilon rule of a linear model by hand, and the
 * independent numpy values of ../shared/fixtures/bilstm_lrp.h5. */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "model/model.h"
#include "core/rng.h"
#include "support/testutil.h"

static uint64_t rng = 0x9876543u;

static float urand(void)
{
    return tk_rng_uniform(&rng);
}

static tk_model *build(const tk_layer *l, int n, int maxlen, float scale)
{
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_from_layers(l, n, maxlen, 0, &m, &err) != TK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = (2.0f * urand() - 1.0f) * scale;
    return m;
}

/* Embedding(30, 8) -> Conv1D(6, 3, relu, same) -> MaxPooling1D(2) -> Conv1D(5, 2, relu)
 * -> GlobalMaxPooling1D -> Dense(7, relu) -> Dropout -> Dense(k) */
static tk_model *cnn_model(int k)
{
    tk_layer l[8];
    l[0] = tk_test_layer(TK_LAYER_EMBEDDING, "embedding");
    l[0].input_dim = 30, l[0].output_dim = 8;
    l[1] = tk_test_layer(TK_LAYER_CONV1D, "conv1d");
    l[1].filters = 6, l[1].kernel_size = 3, l[1].activation = TK_ACT_RELU, l[1].padding_same = true;
    l[2] = tk_test_layer(TK_LAYER_MAX_POOL1D, "max_pooling1d");
    l[2].pool_size = 2, l[2].pool_strides = 2;
    l[3] = tk_test_layer(TK_LAYER_CONV1D, "conv1d_1");
    l[3].filters = 5, l[3].kernel_size = 2, l[3].activation = TK_ACT_RELU;
    l[4] = tk_test_layer(TK_LAYER_GLOBAL_MAX_POOL1D, "global_max_pooling1d");
    l[5] = tk_test_layer(TK_LAYER_DENSE, "dense");
    l[5].units = 7, l[5].activation = TK_ACT_RELU;
    l[6] = tk_test_layer(TK_LAYER_DROPOUT, "dropout");
    l[7] = tk_test_layer(TK_LAYER_DENSE, "dense_1");
    l[7].units = k, l[7].activation = k == 1 ? TK_ACT_SIGMOID : TK_ACT_SOFTMAX;
    return build(l, 8, 12, 0.6f);
}

/* Embedding(30, 8) -> LSTM(6, return_sequences) -> Bidirectional(LSTM(5)) -> Dense(3) */
static tk_model *lstm_model(bool go_backwards)
{
    tk_layer l[4];
    l[0] = tk_test_layer(TK_LAYER_EMBEDDING, "embedding");
    l[0].input_dim = 30, l[0].output_dim = 8;
    l[1] = tk_test_layer(TK_LAYER_LSTM, "lstm");
    l[1].units = 6, l[1].activation = TK_ACT_TANH, l[1].recurrent_activation = TK_ACT_SIGMOID;
    l[1].return_sequences = true, l[1].go_backwards = go_backwards;
    l[2] = tk_test_layer(TK_LAYER_BIDIRECTIONAL, "bidirectional");
    l[2].units = 5, l[2].activation = TK_ACT_TANH, l[2].recurrent_activation = TK_ACT_SIGMOID;
    l[2].merge_mode = TK_MERGE_CONCAT;
    l[3] = tk_test_layer(TK_LAYER_DENSE, "dense");
    l[3].units = 3, l[3].activation = TK_ACT_SOFTMAX;
    return build(l, 4, 0, 0.7f);
}

static tk_explainer *make_lrp(const tk_model *m, double eps, double bf, int steps)
{
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_LRP_EPSILON);
    p.eps = eps;
    p.bias_factor = bf;
    tk_explainer *ex = NULL;
    tk_error err = {0};
    if (tk_explainer_create(m, &p, NULL, steps, &ex, &err) != TK_OK)
        fprintf(stderr, "%s\n", err.msg);
    return ex;
}

/* eps = 0, bf = 1: Σ tokens + init state = logit (1e-5 relative); with the
 * defaults the recorded absorption accounts for all that is missing. */
static void check_conservation(const tk_model *m, int steps, int nrev, const int32_t *given,
                               const float *vectors)
{
    CU_ASSERT_FATAL(m != NULL);
    tk_explainer *ex0 = make_lrp(m, 0.0, 1.0, steps), *ex1 = make_lrp(m, 0.001, 0.0, steps);
    CU_ASSERT_FATAL(ex0 && ex1);
    int32_t *ids = malloc(sizeof(int32_t) * steps);
    float *score = malloc(sizeof(float) * steps);
    double worst = 0;
    for (int r = 0; r < nrev; r++) {
        for (int t = 0; t < steps && m->has_embedding; t++)
            ids[t] = given ? given[(size_t)r * steps + t]
                           : (int32_t)(urand() * m->vocab_size) % m->vocab_size;
        tk_review rv = {m->has_embedding ? ids : NULL,
                        vectors ? vectors + (size_t)r * steps * m->input_dim : NULL, steps, -1};
        tk_attribution a = {0};
        a.score = score;
        tk_error err = {0};
        CU_ASSERT_FATAL(tk_explain(ex0, &rv, &a, &err) == TK_OK);
        /* axiom_error is logit - tokens - init state with the token sums
         * taken in double; the float scores agree with it to their own
         * rounding (eps = 0 lets relevances grow large and cancel). */
        double tokens = 0, mass = 0;
        for (int t = 0; t < steps; t++) {
            tokens += score[t];
            mass += fabs(score[t]);
        }
        double rel = fabs(a.axiom_error) / fmax(1e-3, fabs(a.f_input));
        worst = fmax(worst, rel);
        CU_ASSERT(rel <= 1e-5);
        CU_ASSERT(fabs(tokens + a.lrp_init_state - a.f_input) <=
                  1e-5 * fmax(1e-3, fabs(a.f_input)) + 1e-6 * mass);
        CU_ASSERT(fabs(a.lrp_absorbed) <= 1e-5 * fmax(1.0, fabs(a.f_input)));
        CU_ASSERT(fabs(a.axiom_error) <= 1e-5 * fmax(1.0, fabs(a.f_input)));

        CU_ASSERT_FATAL(tk_explain(ex1, &rv, &a, &err) == TK_OK);
        tokens = 0;
        for (int t = 0; t < steps; t++)
            tokens += score[t];
        CU_ASSERT(fabs(a.f_input - tokens - a.lrp_init_state - a.lrp_absorbed) <=
                  1e-5 * fmax(1.0, fabs(a.f_input)));
    }
    printf(" [worst conservation error %.1e]", worst);
    free(ids);
    free(score);
    tk_explainer_destroy(ex0);
    tk_explainer_destroy(ex1);
}

static void test_conservation_cnn(void)
{
    for (int k = 1; k <= 2; k++) {
        tk_model *m = cnn_model(k);
        check_conservation(m, 12, 8, NULL, NULL);
        tk_model_destroy(m);
    }
}

static void test_conservation_lstm(void)
{
    for (int b = 0; b < 2; b++) {
        tk_model *m = lstm_model(b);
        check_conservation(m, 9, 8, NULL, NULL);
        tk_model_destroy(m);
    }
}

/* Embedding(10, 4) -> Flatten -> Dense(2): one linear map, so the epsilon
 * rule can be written out: R_i = (x_i w_ic + bf (b_c + eps s)/N) / (z_c + eps s) z_c. */
static void test_linear_by_hand(void)
{
    tk_layer l[3];
    l[0] = tk_test_layer(TK_LAYER_EMBEDDING, "embedding");
    l[0].input_dim = 10, l[0].output_dim = 4;
    l[1] = tk_test_layer(TK_LAYER_FLATTEN, "flatten");
    l[2] = tk_test_layer(TK_LAYER_DENSE, "dense");
    l[2].units = 2, l[2].activation = TK_ACT_SOFTMAX;
    tk_model *m = build(l, 3, 5, 1.0f);
    CU_ASSERT_FATAL(m != NULL);
    const tk_layer *d = &m->layers[2];
    int32_t ids[5] = {1, 7, 3, 3, 9};
    double eps = 0.05, bf = 0.5;
    tk_explainer *ex = make_lrp(m, eps, bf, 5);
    CU_ASSERT_FATAL(ex != NULL);
    float score[5];
    tk_attribution a = {0};
    a.score = score;
    tk_review rv = {ids, NULL, 5, -1};
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
    int c = a.target;
    double z = d->bias[c];
    for (int t = 0; t < 5; t++)
        for (int j = 0; j < 4; j++)
            z += (double)m->layers[0].embeddings[ids[t] * 4 + j] * d->kernel[(t * 4 + j) * 2 + c];
    double s = z >= 0 ? eps : -eps;
    for (int t = 0; t < 5; t++) {
        double want = 0;
        for (int j = 0; j < 4; j++) {
            double xi = m->layers[0].embeddings[ids[t] * 4 + j];
            want += (xi * d->kernel[(t * 4 + j) * 2 + c] + bf * (d->bias[c] + s) / 20) / (z + s) * z;
        }
        CU_ASSERT(fabs(score[t] - want) <= 1e-5 * fmax(1.0, fabs(want)));
    }
    CU_ASSERT(fabs(a.f_input - z) <= 1e-5 * fmax(1.0, fabs(z)));
    tk_explainer_destroy(ex);
    tk_model_destroy(m);
}

/* Bad input: an id outside the vocabulary, a review longer than the
 * explainer's scratch, a review without ids or vectors. */
static void test_bad_input(void)
{
    tk_model *m = cnn_model(2);
    CU_ASSERT_FATAL(m != NULL);
    tk_explainer *ex = make_lrp(m, 0.001, 0.0, 12);
    CU_ASSERT_FATAL(ex != NULL);
    int32_t ids[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 30, 1};
    float score[13];
    tk_attribution a = {0};
    a.score = score;
    tk_error err = {0};
    tk_review r1 = {ids, NULL, 12, -1};
    CU_ASSERT(tk_explain(ex, &r1, &a, &err) != TK_OK);
    CU_ASSERT(strstr(err.msg, "30") != NULL);
    tk_review r2 = {ids, NULL, 13, -1};
    memset(&err, 0, sizeof err);
    CU_ASSERT(tk_explain(ex, &r2, &a, &err) != TK_OK);
    tk_review r3 = {NULL, NULL, 12, -1};
    memset(&err, 0, sizeof err);
    CU_ASSERT(tk_explain(ex, &r3, &a, &err) != TK_OK);
    tk_explainer_destroy(ex);
    /* a negative eps is refused at create time */
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_LRP_EPSILON);
    p.eps = -1;
    tk_explainer *bad = NULL;
    memset(&err, 0, sizeof err);
    CU_ASSERT(tk_explainer_create(m, &p, NULL, 12, &bad, &err) != TK_OK);
    CU_ASSERT(bad == NULL);
    tk_model_destroy(m);
}

/* ---- the real models ---- */

static void test_conservation_real(void)
{
    const char *models[2] = {"models/imdb_cnn.h5", "models/imdb_lstm.h5"};
    const char *groups[2] = {"cnn/input_ids", "lstm/input_ids"};
    int lens[2] = {100, 80};
    static int32_t ids[40 * 100];
    for (int i = 0; i < 2; i++) {
        tk_model *m = NULL;
        m = tk_test_load_model(tk_test_shared(models[i]));
    CU_ASSERT_FATAL(m != NULL);
        hid_t f = H5Fopen(tk_test_shared("fixtures/forward.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
        CU_ASSERT_FATAL(f >= 0);
        CU_ASSERT_FATAL(tk_test_read_h5(f, groups[i], H5T_NATIVE_INT32, ids) == 0);
        H5Fclose(f);
        check_conservation(m, lens[i], 20, ids, NULL);
        tk_model_destroy(m);
    }
}

/* The real Keras BiLSTM against the independent numpy LRP: per-token
 * relevance within 1e-4 of the largest |score|, the initial states, the
 * absorbed relevance, for eps 0.001 / bf 0 and for the conservation group. */
static void test_fixture_bilstm(void)
{
    tk_model *m = NULL;
    tk_error err = {0};
    m = tk_test_load_model(tk_test_shared("models/keras_bilstm_sst5.h5"));
    CU_ASSERT_FATAL(m != NULL);
    hid_t f = H5Fopen(tk_test_shared("fixtures/bilstm_lrp.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    for (int seq = 0; seq < 2; seq++) {
        int steps = seq == 0 ? 8 : 10;
        float input[10 * 60], score[10], full[10 * 60];
        double tok[10], rel[10 * 60], init[4], absorbed = 0;
        int32_t target;
        char path[128];
        for (int g = 0; g < 2; g++) {
            const char *sub = g ? "conservation/" : "";
            snprintf(path, sizeof path, "seq%d/input", seq);
            CU_ASSERT_FATAL(tk_test_read_h5(f, path, H5T_NATIVE_FLOAT, input) == 0);
            snprintf(path, sizeof path, "seq%d/target", seq);
            CU_ASSERT_FATAL(tk_test_read_h5(f, path, H5T_NATIVE_INT32, &target) == 0);
            snprintf(path, sizeof path, "seq%d/%srelevance_token", seq, sub);
            CU_ASSERT_FATAL(tk_test_read_h5(f, path, H5T_NATIVE_DOUBLE, tok) == 0);
            snprintf(path, sizeof path, "seq%d/%srelevance", seq, sub);
            CU_ASSERT_FATAL(tk_test_read_h5(f, path, H5T_NATIVE_DOUBLE, rel) == 0);
            snprintf(path, sizeof path, "seq%d/%srelevance_init_states", seq, sub);
            CU_ASSERT_FATAL(tk_test_read_h5(f, path, H5T_NATIVE_DOUBLE, init) == 0);
            if (!g) {
                snprintf(path, sizeof path, "seq%d/relevance_absorbed", seq);
                CU_ASSERT_FATAL(tk_test_read_h5(f, path, H5T_NATIVE_DOUBLE, &absorbed) == 0);
            }
            tk_explainer *ex = g ? make_lrp(m, 0.0, 1.0, steps) : make_lrp(m, 0.001, 0.0, steps);
            CU_ASSERT_FATAL(ex != NULL);
            tk_review rv = {NULL, input, steps, -1};
            tk_attribution a = {0};
            a.score = score;
            a.full = full;
            CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
            CU_ASSERT_EQUAL(a.target, target);
            double big = 0, diff = 0, bigf = 0, difff = 0;
            for (int t = 0; t < steps; t++) {
                big = fmax(big, fabs(tok[t]));
                diff = fmax(diff, fabs(score[t] - tok[t]));
                for (int j = 0; j < 60; j++) {
                    bigf = fmax(bigf, fabs(rel[t * 60 + j]));
                    difff = fmax(difff, fabs(full[t * 60 + j] - rel[t * 60 + j]));
                }
            }
            printf(" [seq%d %s: %.1e of max]", seq, g ? "cons" : "eps", diff / big);
            if (getenv("ATTR2_DEBUG")) {
                for (int t = 0; t < steps; t++)
                    printf("\n   t%d ours %.6f want %.6f", t, score[t], tok[t]);
                printf("\n   init ours %.6f want %.6f %.6f %.6f %.6f absorbed %.6f\n", a.lrp_init_state,
                       init[0], init[1], init[2], init[3], a.lrp_absorbed);
            }
            /* The fixture's inputs are float64; ours are float32. With eps = 0
             * the rule divides by unstabilised z, and the fixture's own
             * float64 code fed the float32-rounded inputs moves by 5.7e-4
             * (seq0) and 1.2e-4 (seq1) of the largest score: that group is
             * held to 1e-3, the default eps group to 1e-4. */
            double tol = g ? 1e-3 : 1e-4;
            CU_ASSERT(diff <= tol * big);
            CU_ASSERT(difff <= tol * bigf);
            double init_sum = init[0] + init[1] + init[2] + init[3];
            CU_ASSERT(fabs(a.lrp_init_state - init_sum) <= tol * fmax(big, fabs(init_sum)));
            if (!g)
                CU_ASSERT(fabs(a.lrp_absorbed - absorbed) <= 1e-4 * fmax(big, fabs(absorbed)));
            tk_explainer_destroy(ex);
        }
    }
    H5Fclose(f);
    tk_model_destroy(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case synthetic[] = {
        {"linear model by hand", test_linear_by_hand},
        {"cnn conservation", test_conservation_cnn},
        {"lstm + bilstm conservation", test_conservation_lstm},
        {"bad input", test_bad_input},
        {NULL, NULL}};
    static const tk_test_case fixtures[] = {
        {"real cnn + lstm conservation", test_conservation_real},
        {"bilstm vs numpy fixture", test_fixture_bilstm},
        {NULL, NULL}};
    tk_test_add_suite("lrp synthetic", synthetic);
    tk_test_add_suite("lrp fixtures", fixtures);
    return tk_test_run_all();
}
