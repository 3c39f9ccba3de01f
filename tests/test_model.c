/* model: loading the shipped Keras files and the forward pass against
 * ../shared/fixtures/forward.h5 (an independent float64 implementation). */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "model/model.h"
#include "support/testutil.h"

/* Reads a whole dataset converted to float (or int32 when ints); returns its
 * element count, 0 on failure. dims (up to 4) when not NULL. */
static size_t read_all(const char *file, const char *name, bool ints, void **out, hsize_t *dims)
{
    *out = NULL;
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return 0;
    size_t n = 0;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d >= 0) {
        hid_t sp = H5Dget_space(d);
        hssize_t np = H5Sget_simple_extent_npoints(sp);
        if (dims != NULL)
            H5Sget_simple_extent_dims(sp, dims, NULL);
        void *buf = malloc((size_t)np * 4 + 4);
        if (buf != NULL && H5Dread(d, ints ? H5T_NATIVE_INT32 : H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                   H5P_DEFAULT, buf) >= 0) {
            *out = buf;
            n = (size_t)np;
        } else {
            free(buf);
        }
        H5Sclose(sp);
        H5Dclose(d);
    }
    H5Fclose(f);
    return n;
}

static tk_model *load(const char *rel)
{
    tk_model *m = NULL;
    tk_error err = {0};
    tk_status st = tk_model_load(tk_test_shared(rel), &m, &err);
    if (st != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_EQUAL(st, TK_OK);
    return m;
}

static void test_load_cnn_structure(void)
{
    tk_model *m = load("models/imdb_cnn.h5");
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_EQUAL(m->n_layers, 7);
    CU_ASSERT(m->has_embedding);
    CU_ASSERT_EQUAL(m->first_body_layer, 1);
    CU_ASSERT_EQUAL(m->vocab_size, 10000);
    CU_ASSERT_EQUAL(m->input_dim, 50);
    CU_ASSERT_EQUAL(m->maxlen, 100);
    CU_ASSERT_EQUAL(m->n_outputs, 2);
    CU_ASSERT_EQUAL(m->output_activation, TK_ACT_SOFTMAX);
    CU_ASSERT_EQUAL(m->layers[1].kind, TK_LAYER_CONV1D);
    CU_ASSERT_EQUAL(m->layers[1].out.steps, 98);
    CU_ASSERT_EQUAL(m->layers[3].kind, TK_LAYER_GLOBAL_MAX_POOL1D);
    CU_ASSERT_STRING_EQUAL(m->keras_version, "2.6.0");
    /* Views inside the one buffer. */
    for (int i = 0; i < m->n_layers; i++) {
        const tk_layer *l = &m->layers[i];
        if (l->kernel != NULL)
            CU_ASSERT(l->kernel >= m->params && l->kernel < m->params + m->n_params);
    }
    tk_model_destroy(m);
    tk_model_destroy(NULL);
}

/* Forward on the fixture's reviews, one batch and one review at a time. */
static void check_fixture(const char *model_rel, const char *group)
{
    tk_model *m = load(model_rel);
    CU_ASSERT_FATAL(m != NULL);
    const char *fx = tk_test_shared("fixtures/forward.h5");
    char name[128];
    int32_t *ids;
    float *want_logits, *want_probs;
    hsize_t dims[4];
    snprintf(name, sizeof name, "%s/input_ids", group);
    size_t n_ids = read_all(fx, name, true, (void **)&ids, dims);
    snprintf(name, sizeof name, "%s/logits", group);
    read_all(fx, name, false, (void **)&want_logits, NULL);
    snprintf(name, sizeof name, "%s/probs", group);
    read_all(fx, name, false, (void **)&want_probs, NULL);
    CU_ASSERT_FATAL(n_ids > 0 && want_logits != NULL && want_probs != NULL);
    int n = (int)dims[0], T = (int)dims[1], D = m->input_dim, K = m->n_outputs;
    CU_ASSERT_EQUAL(T, m->maxlen);
    tk_error err = {0};
    float *x = malloc(sizeof(float) * (size_t)n * T * D);
    float *logits = malloc(sizeof(float) * (size_t)n * K);
    float *probs = malloc(sizeof(float) * (size_t)n * K);
    float *one = malloc(sizeof(float) * (size_t)K);
    tk_workspace *ws = tk_workspace_create(m, n, T, &err);
    CU_ASSERT_FATAL(x && logits && probs && one && ws);
    CU_ASSERT_EQUAL_FATAL(tk_model_embed(m, ids, n, T, x, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_model_forward(m, ws, n, T, x, logits, &err), TK_OK);
    tk_model_output_probs(m, n, logits, probs);
    double worst_l = 0, worst_p = 0;
    for (int i = 0; i < n * K; i++) {
        worst_l = fmax(worst_l, fabs(logits[i] - want_logits[i]));
        worst_p = fmax(worst_p, fabs(probs[i] - want_probs[i]));
    }
    CU_ASSERT(worst_l < 1e-5);
    CU_ASSERT(worst_p < 1e-5);
    if (worst_l >= 1e-5 || worst_p >= 1e-5)
        fprintf(stderr, "\n%s: worst |logit| %.3g |prob| %.3g\n", group, worst_l, worst_p);
    /* Row b depends only on review b: the same alone as in the batch up to
     * BLAS rounding (layer_ops.h), and bitwise for a repeated batch. */
    double worst_b = 0;
    for (int b = 0; b < n; b += 7) {
        CU_ASSERT_EQUAL(tk_model_forward(m, ws, 1, T, x + (size_t)b * T * D, one, &err), TK_OK);
        for (int j = 0; j < K; j++)
            worst_b = fmax(worst_b, fabs(one[j] - logits[(size_t)b * K + j]));
    }
    CU_ASSERT(worst_b < 1e-5);
    float *again = malloc(sizeof(float) * (size_t)n * K);
    CU_ASSERT_EQUAL(tk_model_forward(m, ws, n, T, x, again, &err), TK_OK);
    CU_ASSERT_EQUAL(memcmp(again, logits, sizeof(float) * (size_t)n * K), 0);
    free(again);
    tk_workspace_destroy(ws);
    free(x);
    free(logits);
    free(probs);
    free(one);
    free(ids);
    free(want_logits);
    free(want_probs);
    tk_model_destroy(m);
}

static void test_forward_cnn_fixture(void)
{
    check_fixture("models/imdb_cnn.h5", "cnn");
}

static void test_forward_lstm_fixture(void)
{
    check_fixture("models/imdb_lstm.h5", "lstm");
}

static void test_forward_bilstm_fixture(void)
{
    tk_model *m = load("models/keras_bilstm_sst5.h5");
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_FALSE(m->has_embedding);
    CU_ASSERT_EQUAL(m->input_dim, 60);
    CU_ASSERT_EQUAL(m->maxlen, 0);
    CU_ASSERT_EQUAL(m->n_outputs, 5);
    CU_ASSERT_EQUAL(m->layers[0].kind, TK_LAYER_BIDIRECTIONAL);
    CU_ASSERT_PTR_NULL(m->layers[1].bias);
    const char *fx = tk_test_shared("fixtures/forward.h5");
    tk_error err = {0};
    tk_workspace *ws = tk_workspace_create(m, 1, 64, &err);
    CU_ASSERT_FATAL(ws != NULL);
    int checked = 0;
    for (int k = 0; k < 16; k++) {
        char name[64];
        float *x, *want;
        hsize_t dims[4];
        snprintf(name, sizeof name, "bilstm_sst5/seq%d/input", k);
        if (read_all(fx, name, false, (void **)&x, dims) == 0)
            break;
        snprintf(name, sizeof name, "bilstm_sst5/seq%d/logits", k);
        read_all(fx, name, false, (void **)&want, NULL);
        CU_ASSERT_FATAL(want != NULL);
        float got[5];
        CU_ASSERT_EQUAL(tk_model_forward(m, ws, 1, (int)dims[0], x, got, &err), TK_OK);
        for (int j = 0; j < 5; j++)
            CU_ASSERT(fabs(got[j] - want[j]) < 1e-5);
        /* The trace: the forward direction's last hidden state is the output's first half. */
        tk_lstm_trace tr = tk_workspace_lstm_trace(ws, 0, 0);
        const float *y = tk_workspace_layer_output(ws, 0);
        CU_ASSERT_FATAL(tr.hidden != NULL && y != NULL);
        CU_ASSERT_EQUAL(memcmp(tr.hidden + (dims[0] - 1) * 60, y, 60 * sizeof(float)), 0);
        tk_lstm_trace tb = tk_workspace_lstm_trace(ws, 0, 1);
        CU_ASSERT_EQUAL(memcmp(tb.hidden + (dims[0] - 1) * 60, y + 60, 60 * sizeof(float)), 0);
        checked++;
        free(x);
        free(want);
    }
    CU_ASSERT(checked >= 5);
    tk_workspace_destroy(ws);
    tk_model_destroy(m);
}

static void test_clone_with_params(void)
{
    tk_model *m = load("models/imdb_lstm.h5");
    CU_ASSERT_FATAL(m != NULL);
    tk_error err = {0};
    float *buf = malloc(m->n_params * sizeof(float));
    tk_model *c = NULL;
    CU_ASSERT_FATAL(buf != NULL);
    CU_ASSERT_EQUAL_FATAL(tk_model_clone_with_params(m, buf, true, &c, &err), TK_OK);
    CU_ASSERT_FALSE(c->owns_params);
    CU_ASSERT(c->layers[1].lstm[0].kernel == buf + (m->layers[1].lstm[0].kernel - m->params));
    int32_t ids[80];
    for (int t = 0; t < 80; t++)
        ids[t] = (t * 37) % 20000;
    float x[80 * 128], a, b;
    tk_workspace *ws = tk_workspace_create(m, 1, 80, &err);
    CU_ASSERT_EQUAL(tk_model_embed(c, ids, 1, 80, x, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_model_forward(m, ws, 1, 80, x, &a, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_model_forward(c, ws, 1, 80, x, &b, &err), TK_OK);
    CU_ASSERT_EQUAL(a, b);
    tk_model_destroy(c);
    tk_model_destroy(m);
    free(buf);
    tk_workspace_destroy(ws);
}

static void test_embed_rejects_bad_ids(void)
{
    tk_model *m = load("models/imdb_cnn.h5");
    CU_ASSERT_FATAL(m != NULL);
    int32_t ids[3] = {1, 10000, 5};
    float x[3 * 50];
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_model_embed(m, ids, 1, 3, x, &err), TK_E_INVALID);
    CU_ASSERT(strstr(err.msg, "10000") != NULL);
    tk_model_destroy(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"load imdb_cnn.h5: structure and views", test_load_cnn_structure},
        {"forward CNN matches forward.h5, batch independent", test_forward_cnn_fixture},
        {"forward LSTM matches forward.h5, batch independent", test_forward_lstm_fixture},
        {"forward BiLSTM (Keras 2.3.1 file) matches forward.h5", test_forward_bilstm_fixture},
        {"clone with caller params gives the same outputs", test_clone_with_params},
        {"embed rejects ids outside the vocabulary", test_embed_rejects_bad_ids},
        {NULL, NULL},
    };
    tk_test_add_suite("model", cases);
    return tk_test_run_all();
}
