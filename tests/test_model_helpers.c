/* The shared helpers the model and the methods use: window geometry
 * (model/window.h) against hand-computed Keras/TensorFlow cases and a
 * brute-force count, activations (model/activation.h) against each other
 * and against finite differences, the PRNG (core/rng.h) against values from
 * an independent python3 splitmix64, and the forward pass's kept
 * pre-activations (tk_workspace_keep_pre) against its outputs. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/activation.h"
#include "model/model.h"
#include "model/window.h"
#include "core/gemm.h"
#include "support/testutil.h"

/* ---- window ---- */

static void test_window_cases(void)
{
    /* Keras Conv1D(kernel 3, strides 2, "same") on 10 steps: 5 outputs, one
     * zero of padding in total, on the right (TensorFlow). */
    tk_window w = {3, 2, 1, true};
    CU_ASSERT_EQUAL(tk_window_out(w, 10), 5);
    CU_ASSERT_EQUAL(tk_window_pad_left(w, 10), 0);
    CU_ASSERT_EQUAL(tk_window_pos(w, 10, 4, 2), 10); /* the right padding */
    /* kernel 4, stride 1, "same": 3 zeros, 1 left, 2 right */
    w = (tk_window){4, 1, 1, true};
    CU_ASSERT_EQUAL(tk_window_out(w, 10), 10);
    CU_ASSERT_EQUAL(tk_window_pad_left(w, 10), 1);
    CU_ASSERT_EQUAL(tk_window_pos(w, 10, 0, 0), -1);
    /* "valid", kernel 3, dilation 2 (span 5), stride 2: (10 - 5) / 2 + 1 = 3 */
    w = (tk_window){3, 2, 2, false};
    CU_ASSERT_EQUAL(tk_window_span(w), 5);
    CU_ASSERT_EQUAL(tk_window_out(w, 10), 3);
    CU_ASSERT_EQUAL(tk_window_out(w, 4), 0);
    CU_ASSERT_EQUAL(tk_window_pos(w, 10, 2, 2), 8);
    /* pooling: MaxPooling1D(2, strides 2, "same") on 5 steps: 3 windows, the
     * last holds position 4 alone */
    w = (tk_window){2, 2, 1, true};
    int lo, hi;
    CU_ASSERT_EQUAL(tk_window_out(w, 5), 3);
    tk_window_range(w, 5, 2, &lo, &hi);
    CU_ASSERT_EQUAL(lo, 4);
    CU_ASSERT_EQUAL(hi, 5);
    /* a layer's window: strides 0 (unset) count as 1 */
    tk_layer l;
    memset(&l, 0, sizeof l);
    l.kernel_size = 3;
    l.padding_same = true;
    w = tk_window_conv(&l);
    CU_ASSERT_EQUAL(w.stride, 1);
    CU_ASSERT_EQUAL(w.dilation, 1);
    CU_ASSERT_EQUAL(tk_window_out(w, 7), 7);
}

/* Taps that read input, against a direct count, over many geometries;
 * "same" covers every input position at least once when stride <= span. */
static void test_window_taps(void)
{
    for (int n = 1; n <= 12; n++)
        for (int size = 1; size <= 5; size++)
            for (int stride = 1; stride <= 3; stride++)
                for (int dil = 1; dil <= 2; dil++)
                    for (int same = 0; same <= 1; same++) {
                        tk_window w = {size, stride, dil, same != 0};
                        int out = tk_window_out(w, n);
                        if (same)
                            CU_ASSERT_EQUAL(out, (n + stride - 1) / stride);
                        for (int t = 0; t < out; t++) {
                            int count = 0, first = -1, last = -1;
                            for (int k = 0; k < size; k++) {
                                int p = t * stride + k * dil - tk_window_pad_left(w, n);
                                CU_ASSERT_EQUAL(tk_window_pos(w, n, t, k), p);
                                if (p >= 0 && p < n) {
                                    count++;
                                    first = first < 0 ? k : first;
                                    last = k;
                                }
                            }
                            int f, l2;
                            int taps = tk_window_taps(w, n, t, &f, &l2);
                            /* taps counts first..last, contiguous only without holes */
                            CU_ASSERT_EQUAL(taps, count > 0 ? last - first + 1 : 0);
                            if (count > 0) {
                                CU_ASSERT_EQUAL(f, first);
                                CU_ASSERT_EQUAL(l2, last);
                            }
                            if (!same) /* valid windows never touch padding */
                                CU_ASSERT_EQUAL(count, size);
                        }
                    }
}

/* ---- activations ---- */

static const tk_activation ELEMENTWISE[] = {TK_ACT_LINEAR, TK_ACT_RELU, TK_ACT_SIGMOID,
                                            TK_ACT_HARD_SIGMOID, TK_ACT_TANH};

static void test_activation_consistent(void)
{
    const double zs[] = {-7.3, -2.6, -1.1, -0.4, -0.05, 0.07, 0.3, 0.9, 1.7, 2.4, 6.2};
    for (size_t a = 0; a < sizeof ELEMENTWISE / sizeof ELEMENTWISE[0]; a++) {
        tk_activation act = ELEMENTWISE[a];
        for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
            double z = zs[i];
            float y = tk_act_value(act, (float)z);
            /* float and double forward: one formula */
            CU_ASSERT(fabs(y - tk_act_value_d(act, (float)z)) <= 1e-6 * fmax(1.0, fabs(y)));
            /* derivative from the input against a central difference */
            double h = 1e-5;
            double fd = (tk_act_value_d(act, z + h) - tk_act_value_d(act, z - h)) / (2 * h);
            CU_ASSERT(fabs(fd - tk_act_grad(act, z)) < 1e-6);
            /* derivative from the output (the backward pass) agrees with it */
            float dy = 1.0f, dz;
            tk_act_backward(act, &y, &dy, &dz, 1, 1);
            CU_ASSERT(fabs(dz - tk_act_grad(act, (float)z)) < 2e-6);
            /* the array forward is the element-wise one, bit for bit */
            float v = (float)z;
            tk_act_forward(act, &v, 1, 1);
            CU_ASSERT_EQUAL(v, y);
        }
    }
    /* sigmoid saturates without NaN: exp(1000) is inf */
    CU_ASSERT_EQUAL(tk_act_value(TK_ACT_SIGMOID, -1000.0f), 0.0f);
    CU_ASSERT_EQUAL(tk_act_value(TK_ACT_SIGMOID, 1000.0f), 1.0f);
    CU_ASSERT_EQUAL(tk_act_value_d(TK_ACT_SIGMOID, -1000.0), 0.0);
    /* softmax rows sum to 1 and keep the order */
    float s[6] = {1.0f, 2.0f, 3.0f, -1.0f, -1.0f, 50.0f};
    tk_act_forward(TK_ACT_SOFTMAX, s, 2, 3);
    CU_ASSERT(fabs(s[0] + s[1] + s[2] - 1.0) < 1e-6);
    CU_ASSERT(s[0] < s[1] && s[1] < s[2]);
    CU_ASSERT(fabs(s[5] - 1.0) < 1e-6);
}

static void test_activation_fast_variants(void)
{
    double worst_cell = 0, worst_sig = 0, worst_tanh = 0;
    for (int i = -4000; i <= 4000; i++) {
        float v = (float)i * 0.005f; /* [-20, 20] */
        worst_cell = fmax(worst_cell, fabs(tk_tanh_cell(v) - tanh((double)v)));
        double s = 1.0 / (1.0 + exp(-(double)v));
        worst_sig = fmax(worst_sig, fabs(tk_sigmoid_vec(v) - s) / s);
        worst_tanh = fmax(worst_tanh, fabs(tk_tanh_vec(v) - tanh((double)v)));
        CU_ASSERT_EQUAL(tk_tanh_cell(-v), -tk_tanh_cell(v)); /* odd by construction */
        CU_ASSERT_EQUAL(tk_hard_sigmoid_vec(v), tk_act_value(TK_ACT_HARD_SIGMOID, v));
    }
    CU_ASSERT(worst_cell < 2e-7);
    CU_ASSERT(worst_sig < 1e-6);
    CU_ASSERT(worst_tanh < 1e-6);
}

/* ---- PRNG ---- */

static void test_rng(void)
{
    /* splitmix64 from seed 0 and 12345: python3, an independent implementation */
    uint64_t s = 0;
    CU_ASSERT_EQUAL(tk_rng_u64(&s), 0xe220a8397b1dcdafULL);
    CU_ASSERT_EQUAL(tk_rng_u64(&s), 0x6e789e6aa1b965f4ULL);
    CU_ASSERT_EQUAL(tk_rng_u64(&s), 0x06c45d188009454fULL);
    CU_ASSERT_EQUAL(tk_rng_u64(&s), 0xf88bb8a8724c81ecULL);
    s = 12345;
    CU_ASSERT_EQUAL(tk_rng_u64(&s), 0x22118258a9d111a0ULL);
    CU_ASSERT_EQUAL(tk_rng_u64(&s), 0x346edce5f713f8edULL);
    /* the model's names draw from the same generator */
    uint64_t a = 99, b = 99;
    CU_ASSERT_EQUAL(tk_model_rng_next(&a), tk_rng_u64(&b));
    CU_ASSERT_EQUAL(tk_model_rng_uniform(&a), tk_rng_uniform(&b));
    /* ranges and moments over 200000 draws */
    s = 7;
    double sum = 0, sq = 0;
    int counts[7] = {0};
    bool in_range = true;
    for (int i = 0; i < 200000; i++) {
        float u = tk_rng_uniform(&s);
        in_range = in_range && u >= 0.0f && u < 1.0f;
        counts[tk_rng_below(&s, 7)]++;
        double g = tk_rng_normal(&s);
        sum += g;
        sq += g * g;
    }
    CU_ASSERT(in_range);
    for (int k = 0; k < 7; k++)
        CU_ASSERT(abs(counts[k] - 200000 / 7) < 800); /* ~ 5 sigma */
    CU_ASSERT(fabs(sum / 200000) < 0.015);
    CU_ASSERT(fabs(sq / 200000 - 1.0) < 0.02);
}

/* ---- kept pre-activations ---- */

/* D=4, T=6: Conv1D(5, 3, tanh, same) -> Dense(4, relu) -> LSTM(3, seq, hard_sigmoid)
 * -> Bidirectional(LSTM(2), sum) -> Dense(2, softmax) */
static void test_keep_pre(void)
{
    tk_layer l[5];
    l[0] = tk_test_layer(TK_LAYER_CONV1D, "conv");
    l[0].filters = 5, l[0].kernel_size = 3, l[0].padding_same = true, l[0].activation = TK_ACT_TANH;
    l[1] = tk_test_layer(TK_LAYER_DENSE, "dense");
    l[1].units = 4, l[1].activation = TK_ACT_RELU;
    l[2] = tk_test_layer(TK_LAYER_LSTM, "lstm");
    l[2].units = 3, l[2].return_sequences = true, l[2].activation = TK_ACT_TANH;
    l[2].recurrent_activation = TK_ACT_HARD_SIGMOID;
    l[3] = tk_test_layer(TK_LAYER_BIDIRECTIONAL, "bidi");
    l[3].units = 2, l[3].activation = TK_ACT_TANH, l[3].recurrent_activation = TK_ACT_SIGMOID;
    l[3].merge_mode = TK_MERGE_SUM;
    l[4] = tk_test_layer(TK_LAYER_DENSE, "out");
    l[4].units = 2, l[4].activation = TK_ACT_SOFTMAX;
    enum { T = 6, D = 4, B = 3 };
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_model_from_layers(l, 5, T, D, &m, &err) == TK_OK);
    uint64_t s = 3;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = tk_rng_uniform(&s) * 1.6f - 0.8f;
    float x[B * T * D], plain[B * 2], kept[B * 2];
    for (int i = 0; i < B * T * D; i++)
        x[i] = tk_rng_uniform(&s) * 2.0f - 1.0f;
    tk_workspace *w0 = tk_workspace_create(m, B, T, &err), *w1 = tk_workspace_create(m, B, T, &err);
    CU_ASSERT_FATAL(w0 && w1);
    CU_ASSERT_EQUAL(tk_workspace_keep_pre(w1, m, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_model_forward(m, w0, B, T, x, plain, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_model_forward(m, w1, B, T, x, kept, &err), TK_OK);
    CU_ASSERT_EQUAL(memcmp(plain, kept, sizeof plain), 0); /* keeping changes nothing */
    CU_ASSERT_PTR_NULL(tk_workspace_layer_pre(w0, 0));
    /* Conv1D and Dense: output = act(pre), bit for bit */
    for (int i = 0; i < 2; i++) {
        const float *pre = tk_workspace_layer_pre(w1, i), *y = tk_workspace_layer_output(w1, i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pre);
        int n = B * T * (i == 0 ? 5 : 4);
        bool same = true;
        for (int k = 0; k < n; k++)
            same = same && y[k] == tk_act_value(m->layers[i].activation, pre[k]);
        CU_ASSERT(same);
    }
    /* recurrent layers: their pre-activations are in the trace; none for the logits */
    CU_ASSERT_PTR_NULL(tk_workspace_layer_pre(w1, 2));
    CU_ASSERT_PTR_NULL(tk_workspace_layer_pre(w1, 4));
    for (int i = 2; i <= 3; i++)
        for (int d = 0; d < tk_layer_directions(&m->layers[i]); d++) {
            tk_lstm_trace t = tk_workspace_lstm_trace(w1, i, d);
            CU_ASSERT_PTR_NULL(tk_workspace_lstm_trace(w0, i, d).pre);
            CU_ASSERT_PTR_NOT_NULL_FATAL(t.pre);
            CU_ASSERT_PTR_NOT_NULL_FATAL(t.tanh_cells);
            int u = m->layers[i].units;
            tk_activation ra = m->layers[i].recurrent_activation;
            bool same = true;
            for (int r = 0; r < T * B; r++)
                for (int j = 0; j < u; j++) {
                    const float *p = t.pre + (size_t)r * 4 * u, *g = t.gates + (size_t)r * 4 * u;
                    same = same && g[j] == tk_act_value(ra, p[j]) &&
                           g[u + j] == tk_act_value(ra, p[u + j]) &&
                           g[2 * u + j] == tk_tanh_cell(p[2 * u + j]) &&
                           g[3 * u + j] == tk_act_value(ra, p[3 * u + j]);
                    float c = t.cells[(size_t)r * u + j];
                    same = same && t.tanh_cells[(size_t)r * u + j] == tk_tanh_cell(c) &&
                           t.hidden[(size_t)r * u + j] == g[3 * u + j] * tk_tanh_cell(c);
                }
            CU_ASSERT(same);
        }
    CU_ASSERT_EQUAL(tk_layer_directions(&m->layers[3]), 2);
    CU_ASSERT_EQUAL(tk_layer_directions(&m->layers[2]), 1);
    /* FLOPs from the table: Conv1D 2*6*3*4*5, Dense 2*6*5*4 */
    tk_shape in[5], out[5];
    CU_ASSERT_EQUAL(tk_model_shapes(m, T, in, out, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_model_layer_flops(m, 0, in[0], out[0]), 2.0 * 6 * 3 * 4 * 5);
    CU_ASSERT_EQUAL(tk_model_layer_flops(m, 1, in[1], out[1]), 2.0 * 6 * 5 * 4);
    CU_ASSERT_EQUAL(tk_model_layer_flops(m, 3, in[3], out[3]), 2 * 2.0 * 6 * (3 + 2) * 4 * 2);
    tk_workspace_destroy(w0);
    tk_workspace_destroy(w1);
    tk_model_destroy(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case helpers[] = {
        {"window: Keras cases", test_window_cases},
        {"window: taps against a direct count", test_window_taps},
        {"activations: forward, both derivatives, finite differences", test_activation_consistent},
        {"activations: cell and vectorised variants", test_activation_fast_variants},
        {"rng: splitmix64 reference values, ranges, moments", test_rng},
        {"forward keeps pre-activations", test_keep_pre},
        {NULL, NULL},
    };
    tk_test_add_suite("model helpers", helpers);
    return tk_test_run_all();
}
