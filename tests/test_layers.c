/* layers: tk_model_backward against central finite differences for every
 * layer kind and option, on tiny models with random weights. The loss is
 * L = sum_b,k w[b,k] logits[b,k] with random w, so d_logits = w. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "model/model.h"
#include "support/testutil.h"

enum { B = 2 };

static float uni(uint64_t *s)
{
    return tk_model_rng_uniform(s) * 2.0f - 1.0f;
}

static double loss(const tk_model *m, tk_workspace *ws, int T, const float *x, const float *w,
                   bool training)
{
    float logits[B * 16];
    uint64_t rng = 42; /* the same dropout masks at every evaluation */
    tk_error err = {0};
    tk_status st = training ? tk_model_forward_train(m, ws, B, T, x, logits, &rng, &err)
                            : tk_model_forward(m, ws, B, T, x, logits, &err);
    CU_ASSERT_EQUAL(st, TK_OK);
    double s = 0.0;
    for (int i = 0; i < B * m->n_outputs; i++)
        s += (double)w[i] * logits[i];
    return s;
}

/* Returns the worst |fd - analytic| relative to the gradient's scale. */
static double check_one(float *v, float an, const tk_model *m, tk_workspace *ws, int T,
                        const float *x, const float *w, bool training, float h)
{
    float keep = *v;
    *v = keep + h;
    double up = loss(m, ws, T, x, w, training);
    *v = keep - h;
    double down = loss(m, ws, T, x, w, training);
    *v = keep;
    double fd = (up - down) / (2.0 * h);
    return fabs(fd - an) / (1e-2 + 0.05 * fabs(an));
}

static void gradcheck(const char *label, tk_layer *layers, int n, int T, int D, bool training)
{
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_from_layers(layers, n, T, D, &m, &err) != TK_OK) {
        fprintf(stderr, "\n%s: %s\n", label, err.msg);
        CU_FAIL_FATAL("model");
    }
    uint64_t s = 7;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = 0.6f * uni(&s);
    size_t nx = (size_t)B * T * D;
    float *x = malloc(nx * sizeof *x), *dx = malloc(nx * sizeof *dx);
    float *dp = calloc(m->n_params, sizeof *dp), *dp2 = calloc(m->n_params, sizeof *dp2);
    float w[B * 16];
    CU_ASSERT_FATAL(x && dx && dp && dp2 && m->n_outputs <= 16);
    for (size_t i = 0; i < nx; i++)
        x[i] = uni(&s);
    for (int i = 0; i < B * m->n_outputs; i++)
        w[i] = uni(&s);
    tk_workspace *ws = tk_workspace_create(m, B, T, &err);
    CU_ASSERT_FATAL(ws != NULL);
    loss(m, ws, T, x, w, training);
    CU_ASSERT_EQUAL(tk_model_backward(m, ws, w, dx, dp, &err), TK_OK);
    /* d_params accumulates: a second backward doubles it. */
    CU_ASSERT_EQUAL(tk_model_backward(m, ws, w, NULL, dp2, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_model_backward(m, ws, w, NULL, dp2, &err), TK_OK);
    double worst_acc = 0;
    for (size_t i = 0; i < m->n_params; i++)
        worst_acc = fmax(worst_acc, fabs(dp2[i] - 2.0f * dp[i]));
    CU_ASSERT(worst_acc < 1e-5);

    float h = 1e-2f;
    double worst_x = 0, worst_p = 0;
    for (size_t i = 0; i < nx; i++)
        worst_x = fmax(worst_x, check_one(&x[i], dx[i], m, ws, T, x, w, training, h));
    for (size_t i = 0; i < m->n_params; i++)
        worst_p = fmax(worst_p, check_one(&m->params[i], dp[i], m, ws, T, x, w, training, h));
    if (worst_x > 1.0 || worst_p > 1.0)
        fprintf(stderr, "\n%s: worst scaled error dx %.3g, d_params %.3g\n", label, worst_x,
                worst_p);
    CU_ASSERT(worst_x <= 1.0);
    CU_ASSERT(worst_p <= 1.0);
    tk_workspace_destroy(ws);
    tk_model_destroy(m);
    free(x);
    free(dx);
    free(dp);
    free(dp2);
}

static tk_layer layer(tk_layer_kind kind, const char *name)
{
    tk_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    snprintf(l.name, sizeof l.name, "%s", name);
    snprintf(l.class_name, sizeof l.class_name, "%s", name);
    l.use_bias = true;
    l.strides = l.dilation = 1;
    return l;
}

static tk_layer dense(int units, tk_activation act)
{
    tk_layer l = layer(TK_LAYER_DENSE, "dense");
    l.units = units;
    l.activation = act;
    return l;
}

static tk_layer conv(int filters, int k, int stride, int dil, bool same, tk_activation act)
{
    tk_layer l = layer(TK_LAYER_CONV1D, "conv1d");
    l.filters = filters;
    l.kernel_size = k;
    l.strides = stride;
    l.dilation = dil;
    l.padding_same = same;
    l.activation = act;
    return l;
}

static tk_layer lstm(int units, tk_activation rec, bool seq, bool back)
{
    tk_layer l = layer(TK_LAYER_LSTM, "lstm");
    l.units = units;
    l.activation = TK_ACT_TANH;
    l.recurrent_activation = rec;
    l.return_sequences = seq;
    l.go_backwards = back;
    return l;
}

static void test_dense_activations(void)
{
    static const tk_activation acts[] = {TK_ACT_LINEAR, TK_ACT_RELU, TK_ACT_SIGMOID,
                                         TK_ACT_TANH, TK_ACT_SOFTMAX, TK_ACT_HARD_SIGMOID};
    for (int i = 0; i < 6; i++) {
        tk_layer ls[3] = {layer(TK_LAYER_FLATTEN, "flatten"), dense(5, acts[i]),
                          dense(3, TK_ACT_SOFTMAX)};
        char label[64];
        snprintf(label, sizeof label, "dense activation %d", i);
        gradcheck(label, ls, 3, 3, 4, false);
    }
    tk_layer nb[2] = {dense(4, TK_ACT_TANH), layer(TK_LAYER_GLOBAL_AVG_POOL1D, "gap")};
    nb[0].use_bias = false;
    gradcheck("dense per step, no bias", nb, 2, 5, 3, false);
}

static void test_conv_options(void)
{
    tk_layer a[3] = {conv(4, 3, 1, 1, false, TK_ACT_TANH), layer(TK_LAYER_GLOBAL_MAX_POOL1D, "gmp"),
                     dense(2, TK_ACT_SOFTMAX)};
    gradcheck("conv valid", a, 3, 7, 3, false);
    tk_layer b[3] = {conv(3, 3, 2, 1, true, TK_ACT_RELU), layer(TK_LAYER_FLATTEN, "flatten"),
                     dense(2, TK_ACT_LINEAR)};
    gradcheck("conv same stride 2", b, 3, 7, 2, false);
    tk_layer c[3] = {conv(3, 2, 1, 2, true, TK_ACT_SIGMOID), layer(TK_LAYER_GLOBAL_AVG_POOL1D, "gap"),
                     dense(1, TK_ACT_SIGMOID)};
    c[0].use_bias = false;
    gradcheck("conv same dilation 2 no bias", c, 3, 6, 3, false);
}

static void test_pooling(void)
{
    tk_layer a[3] = {layer(TK_LAYER_MAX_POOL1D, "mp"), layer(TK_LAYER_FLATTEN, "flatten"),
                     dense(2, TK_ACT_LINEAR)};
    a[0].pool_size = 2;
    a[0].pool_strides = 2;
    gradcheck("maxpool valid", a, 3, 7, 3, false);
    a[0].pool_padding_same = true;
    a[0].pool_size = 3;
    gradcheck("maxpool same", a, 3, 7, 3, false);
    a[0].kind = TK_LAYER_AVG_POOL1D;
    gradcheck("avgpool same", a, 3, 7, 3, false);
    a[0].pool_padding_same = false;
    a[0].pool_strides = 1;
    gradcheck("avgpool valid stride 1", a, 3, 7, 3, false);
}

static void test_activation_dropout(void)
{
    tk_layer a[5] = {dense(4, TK_ACT_LINEAR), layer(TK_LAYER_ACTIVATION, "act"),
                     layer(TK_LAYER_DROPOUT, "dropout"), layer(TK_LAYER_GLOBAL_AVG_POOL1D, "gap"),
                     layer(TK_LAYER_ACTIVATION, "out")};
    a[1].activation = TK_ACT_TANH;
    a[2].dropout_rate = 0.4f;
    a[4].activation = TK_ACT_SOFTMAX;
    gradcheck("activation + dropout (inference)", a, 5, 4, 3, false);
    gradcheck("dropout (training, fixed mask)", a, 5, 4, 3, true);
    a[2].dropout_spatial = true;
    gradcheck("spatial dropout (training)", a, 5, 4, 3, true);
}

static void test_lstm_options(void)
{
    tk_layer a[2] = {lstm(3, TK_ACT_SIGMOID, false, false), dense(2, TK_ACT_SOFTMAX)};
    gradcheck("lstm sigmoid", a, 2, 5, 3, false);
    a[0].recurrent_activation = TK_ACT_HARD_SIGMOID;
    gradcheck("lstm hard_sigmoid", a, 2, 5, 3, false);
    tk_layer b[3] = {lstm(3, TK_ACT_SIGMOID, true, true), layer(TK_LAYER_FLATTEN, "flatten"),
                     dense(2, TK_ACT_LINEAR)};
    b[0].use_bias = false;
    gradcheck("lstm return_sequences go_backwards no bias", b, 3, 4, 2, false);
    tk_layer c[3] = {lstm(3, TK_ACT_SIGMOID, true, false), lstm(2, TK_ACT_SIGMOID, false, false),
                     dense(1, TK_ACT_SIGMOID)};
    c[0].dropout_rate = 0.3f;
    gradcheck("stacked lstm, input dropout (training)", c, 3, 4, 3, true);
}

static void test_bidirectional_merges(void)
{
    for (int mode = 0; mode < 4; mode++) {
        for (int seq = 0; seq < 2; seq++) {
            tk_layer a[3] = {lstm(3, TK_ACT_SIGMOID, seq, false), layer(TK_LAYER_FLATTEN, "flatten"),
                             dense(2, TK_ACT_LINEAR)};
            a[0].kind = TK_LAYER_BIDIRECTIONAL;
            a[0].merge_mode = (tk_merge_mode)mode;
            char label[64];
            snprintf(label, sizeof label, "bidirectional merge %d seq %d", mode, seq);
            gradcheck(label, a, 3, 4, 2, false);
        }
    }
}

/* The trace holds the gates: c_t = f c_{t-1} + i g and h_t = o tanh(c_t). */
static void test_lstm_trace_consistent(void)
{
    tk_layer a[2] = {lstm(4, TK_ACT_SIGMOID, false, true), dense(1, TK_ACT_SIGMOID)};
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_model_from_layers(a, 2, 5, 3, &m, &err) == TK_OK);
    uint64_t s = 3;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = uni(&s);
    float x[B * 5 * 3], logits[B];
    for (int i = 0; i < B * 15; i++)
        x[i] = uni(&s);
    tk_workspace *ws = tk_workspace_create(m, B, 5, &err);
    CU_ASSERT_EQUAL_FATAL(tk_model_forward(m, ws, B, 5, x, logits, &err), TK_OK);
    tk_lstm_trace tr = tk_workspace_lstm_trace(ws, 0, 0);
    CU_ASSERT_FATAL(tr.gates && tr.cells && tr.hidden);
    CU_ASSERT_PTR_NULL(tk_workspace_lstm_trace(ws, 1, 0).gates);
    CU_ASSERT_PTR_NULL(tk_workspace_lstm_trace(ws, 0, 1).gates);
    double worst = 0;
    for (int t = 0; t < 5; t++)
        for (int b = 0; b < B; b++)
            for (int j = 0; j < 4; j++) {
                const float *g = tr.gates + ((size_t)t * B + b) * 16;
                float cp = t > 0 ? tr.cells[((size_t)(t - 1) * B + b) * 4 + j] : 0.0f;
                float c = tr.cells[((size_t)t * B + b) * 4 + j];
                worst = fmax(worst, fabs(c - (g[4 + j] * cp + g[j] * g[8 + j])));
                worst = fmax(worst, fabs(tr.hidden[((size_t)t * B + b) * 4 + j] -
                                         g[12 + j] * tanhf(c)));
            }
    CU_ASSERT(worst < 1e-6);
    /* The layer's output is the last processed step's hidden state. */
    CU_ASSERT_EQUAL(memcmp(tk_workspace_layer_output(ws, 0), tr.hidden + 4 * B * 4,
                           B * 4 * sizeof(float)), 0);
    CU_ASSERT_PTR_EQUAL(tk_workspace_layer_input(ws, 1), tk_workspace_layer_output(ws, 0));
    tk_workspace_destroy(ws);
    tk_model_destroy(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"Dense, every activation, vector and per-step", test_dense_activations},
        {"Conv1D valid/same, strides, dilation, bias", test_conv_options},
        {"Max/Average pooling valid/same", test_pooling},
        {"Activation, Dropout, SpatialDropout1D (train masks)", test_activation_dropout},
        {"LSTM options and input dropout", test_lstm_options},
        {"Bidirectional, every merge mode", test_bidirectional_merges},
        {"LSTM trace satisfies the cell equations", test_lstm_trace_consistent},
        {NULL, NULL},
    };
    tk_test_add_suite("layers", cases);
    return tk_test_run_all();
}
