/* SimpleRNN, GRU, Bidirectional over each, BatchNormalization and the
 * inference-identity layers (issue 16): hand-computable cases, forward
 * outputs against the independent float64 reference of tests/support/
 * ref_rnn.c, finite differences of every gradient (input and parameters)
 * for each option, and Keras files: round trips through tk_model_save and
 * files written here with HDF5 calls in the layouts Keras 2 writes. */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "model/model.h"
#include "support/ref_rnn.h"
#include "support/testutil.h"

enum { NB = 2 };

static float uni(uint64_t *s)
{
    return tk_model_rng_uniform(s) * 2.0f - 1.0f;
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

static tk_layer rnn(tk_layer_kind kind, int units, tk_activation act, bool seq, bool back)
{
    tk_layer l = layer(kind, kind == TK_LAYER_GRU || kind == TK_LAYER_BIDIRECTIONAL_GRU ? "gru"
                                                                                          : "simple_rnn");
    l.units = units;
    l.activation = act;
    l.recurrent_activation = TK_ACT_SIGMOID;
    l.return_sequences = seq;
    l.go_backwards = back;
    return l;
}

static tk_layer gru(int units, tk_activation rec, bool reset_after, bool seq, bool back)
{
    tk_layer l = rnn(TK_LAYER_GRU, units, TK_ACT_TANH, seq, back);
    l.recurrent_activation = rec;
    l.reset_after = reset_after;
    return l;
}

static tk_layer batchnorm(bool center, bool scale)
{
    tk_layer l = layer(TK_LAYER_BATCH_NORM, "batch_normalization");
    l.bn_center = center;
    l.bn_scale = scale;
    l.bn_epsilon = 1e-3f;
    l.bn_axis = -1;
    return l;
}

static tk_model *build(tk_layer *ls, int n, int T, int D)
{
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_from_layers(ls, n, T, D, &m, &err) != TK_OK)
        fprintf(stderr, "\nmodel: %s\n", err.msg);
    return m;
}

/* Random weights in [-a, a]; BatchNormalization variances made positive. */
static void randomize(tk_model *m, uint64_t seed, float a)
{
    uint64_t s = seed;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = a * uni(&s);
    for (int i = 0; i < m->n_layers; i++) {
        tk_layer *l = &m->layers[i];
        if (l->kind != TK_LAYER_BATCH_NORM)
            continue;
        for (int c = 0; c < l->input_dim; c++)
            l->bn_var[c] = 0.2f + fabsf(l->bn_var[c]) * 2.0f;
    }
}

static int ref_of(tk_activation a)
{
    switch (a) {
    case TK_ACT_RELU: return REF_RELU;
    case TK_ACT_TANH: return REF_TANH;
    case TK_ACT_SIGMOID: return REF_SIGMOID;
    case TK_ACT_HARD_SIGMOID: return REF_HARD_SIGMOID_K2;
    case TK_ACT_HARD_SIGMOID_K3: return REF_HARD_SIGMOID_K3;
    default: return REF_LINEAR;
    }
}

static ref_rnn ref_cfg(const tk_layer *l, int dir)
{
    bool g = l->kind == TK_LAYER_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
    ref_rnn c = {g, l->input_dim, l->units, ref_of(l->activation), ref_of(l->recurrent_activation),
                 l->reset_after, l->rnn[dir].kernel, l->rnn[dir].recurrent, l->rnn[dir].bias};
    return c;
}

static float *model_forward(const tk_model *m, int batch, int T, const float *x)
{
    tk_error err = {0};
    tk_workspace *ws = tk_workspace_create(m, batch, T, &err);
    float *logits = malloc((size_t)batch * m->n_outputs * sizeof *logits);
    CU_ASSERT_FATAL(ws != NULL && logits != NULL);
    CU_ASSERT_EQUAL(tk_model_forward(m, ws, batch, T, x, logits, &err), TK_OK);
    tk_workspace_destroy(ws);
    return logits;
}

/* ---- hand-computable cases: 1 unit, 2 steps ---- */

static void test_hand_simple_rnn(void)
{
    tk_layer ls[1] = {rnn(TK_LAYER_SIMPLE_RNN, 1, TK_ACT_TANH, false, false)};
    tk_model *m = build(ls, 1, 2, 1);
    CU_ASSERT_FATAL(m != NULL);
    tk_layer *l = &m->layers[0];
    l->rnn[0].kernel[0] = 0.5f;
    l->rnn[0].recurrent[0] = 0.25f;
    l->rnn[0].bias[0] = 0.1f;
    float x[2] = {1.0f, 2.0f};
    float *y = model_forward(m, 1, 2, x);
    double h1 = tanh(0.5 * 1 + 0.1);
    double h2 = tanh(0.5 * 2 + 0.1 + 0.25 * h1);
    CU_ASSERT_DOUBLE_EQUAL(y[0], h2, 1e-6);
    free(y);
    /* go_backwards reads 2 then 1; relu */
    l->go_backwards = true;
    l->activation = TK_ACT_RELU;
    y = model_forward(m, 1, 2, x);
    h1 = 0.5 * 2 + 0.1;
    h2 = 0.5 * 1 + 0.1 + 0.25 * h1;
    CU_ASSERT_DOUBLE_EQUAL(y[0], h2, 1e-6);
    free(y);
    tk_model_destroy(m);
}

static void test_hand_gru(void)
{
    for (int ra = 0; ra < 2; ra++) {
        tk_layer ls[1] = {gru(1, TK_ACT_HARD_SIGMOID, ra == 1, false, false)};
        tk_model *m = build(ls, 1, 2, 1);
        CU_ASSERT_FATAL(m != NULL);
        tk_layer *l = &m->layers[0];
        /* kernel (1, 3): z, r, h; recurrent (1, 3); gates' pre-activations 0 at step 1 */
        float k[3] = {0.0f, 0.0f, 1.0f}, r[3] = {0.0f, 0.0f, 1.0f};
        memcpy(l->rnn[0].kernel, k, sizeof k);
        memcpy(l->rnn[0].recurrent, r, sizeof r);
        if (ra)
            l->rnn[0].bias[5] = 0.2f; /* recurrent bias of the candidate: r (h U_h + 0.2) */
        float x[2] = {1.0f, 2.0f};
        float *y = model_forward(m, 1, 2, x);
        /* hard sigmoid (Keras 2): z = r = clip(0.2 * 0 + 0.5) = 0.5 at step 1; at
         * step 2 the gates see h1 U = 0 too (U_z = U_r = 0). */
        double z = 0.5, rr = 0.5, h1, h2;
        if (ra) {
            h1 = (1 - z) * tanh(1.0 + rr * (0.0 + 0.2));
            h2 = z * h1 + (1 - z) * tanh(2.0 + rr * (h1 + 0.2));
        } else {
            h1 = (1 - z) * tanh(1.0);
            h2 = z * h1 + (1 - z) * tanh(2.0 + rr * h1);
        }
        CU_ASSERT_DOUBLE_EQUAL(y[0], h2, 1e-6);
        free(y);
        /* Keras 3's hard sigmoid: z_pre = 0.6 gives 0.6 / 6 + 0.5 = 0.6, not 0.62 */
        l->rnn[0].kernel[0] = 0.6f;
        l->recurrent_activation = TK_ACT_HARD_SIGMOID_K3;
        float x1[1] = {1.0f};
        tk_workspace *ws = tk_workspace_create(m, 1, 1, NULL);
        float out;
        CU_ASSERT_EQUAL(tk_model_forward(m, ws, 1, 1, x1, &out, NULL), TK_OK);
        tk_rnn_trace tr = tk_workspace_rnn_trace(ws, 0, 0);
        CU_ASSERT_FATAL(tr.act != NULL);
        CU_ASSERT_DOUBLE_EQUAL(tr.act[0], 0.6, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(out, 0.4 * tanh(1.0 + (ra ? 0.5 * 0.2 : 0.0)), 1e-6);
        tk_workspace_destroy(ws);
        tk_model_destroy(m);
    }
}

static void test_hand_batchnorm(void)
{
    tk_layer ls[2] = {batchnorm(true, true), layer(TK_LAYER_FLATTEN, "flatten")};
    tk_model *m = build(ls, 2, 2, 1);
    CU_ASSERT_FATAL(m != NULL);
    tk_layer *l = &m->layers[0];
    l->bn_epsilon = 1.0f;
    l->bn_gamma[0] = 2.0f;
    l->bn_beta[0] = 1.0f;
    l->bn_mean[0] = 0.5f;
    l->bn_var[0] = 3.0f;
    float x[2] = {1.0f, -2.0f};
    float *y = model_forward(m, 1, 2, x);
    /* 2 (x - 0.5) / sqrt(3 + 1) + 1 = x + 0.5 */
    CU_ASSERT_DOUBLE_EQUAL(y[0], 1.5, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(y[1], -1.5, 1e-6);
    free(y);
    tk_model_destroy(m);
}

/* ---- against the float64 reference ---- */

static void check_rnn_ref(const char *label, tk_layer l0, int T, int D)
{
    tk_layer ls[2] = {l0, layer(TK_LAYER_FLATTEN, "flatten")};
    int n = l0.return_sequences ? 2 : 1;
    tk_model *m = build(ls, n, T, D);
    CU_ASSERT_FATAL(m != NULL);
    randomize(m, 11, 0.7f);
    const tk_layer *l = &m->layers[0];
    float *x = malloc((size_t)NB * T * D * sizeof *x);
    uint64_t s = 5;
    for (int i = 0; i < NB * T * D; i++)
        x[i] = 1.5f * uni(&s);
    float *y = model_forward(m, NB, T, x);
    int nout = m->n_outputs;
    double *ref = malloc((size_t)nout * sizeof *ref), worst = 0;
    bool bi = tk_layer_directions(l) == 2;
    ref_rnn c0 = ref_cfg(l, 0), c1 = bi ? ref_cfg(l, 1) : c0;
    for (int b = 0; b < NB; b++) {
        ref_rnn_layer(&c0, bi ? &c1 : NULL, (int)l->merge_mode, T, x + (size_t)b * T * D,
                      l->go_backwards, l->return_sequences, ref);
        for (int i = 0; i < nout; i++)
            worst = fmax(worst, fabs(ref[i] - y[(size_t)b * nout + i]));
    }
    if (worst > 1e-5)
        fprintf(stderr, "\n%s: |model - reference| = %.3g\n", label, worst);
    CU_ASSERT(worst <= 1e-5);
    free(ref);
    free(x);
    free(y);
    tk_model_destroy(m);
}

static void test_reference_forward(void)
{
    static const tk_activation sr_acts[] = {TK_ACT_TANH, TK_ACT_RELU, TK_ACT_LINEAR};
    for (int a = 0; a < 3; a++)
        for (int opt = 0; opt < 4; opt++) {
            tk_layer l = rnn(TK_LAYER_SIMPLE_RNN, 3, sr_acts[a], opt & 1, opt & 2);
            l.use_bias = a != 2;
            check_rnn_ref("simple_rnn", l, 5, 4);
        }
    static const tk_activation recs[] = {TK_ACT_SIGMOID, TK_ACT_HARD_SIGMOID, TK_ACT_HARD_SIGMOID_K3};
    for (int ra = 0; ra < 2; ra++)
        for (int r = 0; r < 3; r++)
            for (int opt = 0; opt < 4; opt++) {
                tk_layer l = gru(3, recs[r], ra, opt & 1, opt & 2);
                l.use_bias = opt != 3;
                check_rnn_ref("gru", l, 5, 4);
            }
    for (int merge = 0; merge < 4; merge++)
        for (int seq = 0; seq < 2; seq++) {
            tk_layer b = rnn(TK_LAYER_BIDIRECTIONAL_GRU, 3, TK_ACT_TANH, seq, false);
            b.reset_after = merge % 2 == 0;
            b.merge_mode = (tk_merge_mode)merge;
            check_rnn_ref("bidirectional gru", b, 4, 3);
            tk_layer s = rnn(TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN, 2, TK_ACT_TANH, seq, merge == 1);
            s.merge_mode = (tk_merge_mode)merge;
            check_rnn_ref("bidirectional simple_rnn", s, 4, 3);
        }
}

static void test_reference_batchnorm(void)
{
    for (int opt = 0; opt < 4; opt++) {
        tk_layer ls[2] = {batchnorm(opt & 1, opt & 2), layer(TK_LAYER_FLATTEN, "flatten")};
        int T = 3, D = 4;
        tk_model *m = build(ls, 2, T, D);
        CU_ASSERT_FATAL(m != NULL);
        randomize(m, 3 + opt, 0.9f);
        const tk_layer *l = &m->layers[0];
        float x[2 * 3 * 4];
        uint64_t s = 9;
        for (int i = 0; i < NB * T * D; i++)
            x[i] = 2.0f * uni(&s);
        float *y = model_forward(m, NB, T, x);
        double ref[2 * 3 * 4], worst = 0;
        ref_batchnorm(NB * T, D, x, l->bn_gamma, l->bn_beta, l->bn_mean, l->bn_var, l->bn_epsilon, ref);
        for (int i = 0; i < NB * T * D; i++)
            worst = fmax(worst, fabs(ref[i] - y[i]));
        CU_ASSERT(worst <= 1e-5);
        CU_ASSERT((l->bn_gamma != NULL) == (bool)(opt & 2));
        CU_ASSERT((l->bn_beta != NULL) == (bool)(opt & 1));
        free(y);
        tk_model_destroy(m);
    }
}

/* ---- finite differences ---- */

static double loss(const tk_model *m, tk_workspace *ws, int T, const float *x, const float *w)
{
    float logits[NB * 64];
    CU_ASSERT_EQUAL(tk_model_forward(m, ws, NB, T, x, logits, NULL), TK_OK);
    double s = 0.0;
    for (int i = 0; i < NB * m->n_outputs; i++)
        s += (double)w[i] * logits[i];
    return s;
}

static double fd_error(float *v, float an, const tk_model *m, tk_workspace *ws, int T,
                       const float *x, const float *w)
{
    /* h = 1e-4: with 1e-2 and 1e-3 a relu SimpleRNN's bias sat within h of a
     * kink (a pre-activation crossing 0), which no smooth check can pass. */
    float keep = *v, h = 1e-4f;
    *v = keep + h;
    double up = loss(m, ws, T, x, w);
    *v = keep - h;
    double down = loss(m, ws, T, x, w);
    *v = keep;
    double fd = (up - down) / (2.0 * h);
    return fabs(fd - an) / (1e-2 + 0.05 * fabs(an));
}

/* Is params[i] a BatchNormalization moving statistic (not trained: no gradient)? */
static bool is_statistic(const tk_model *m, size_t i)
{
    for (int k = 0; k < m->n_layers; k++) {
        const tk_layer *l = &m->layers[k];
        if (l->kind != TK_LAYER_BATCH_NORM)
            continue;
        const float *p = m->params + i;
        if ((p >= l->bn_mean && p < l->bn_mean + l->input_dim) ||
            (p >= l->bn_var && p < l->bn_var + l->input_dim))
            return true;
    }
    return false;
}

static void gradcheck(const char *label, tk_layer *ls, int n, int T, int D)
{
    tk_model *m = build(ls, n, T, D);
    CU_ASSERT_FATAL(m != NULL);
    randomize(m, 7, 0.6f);
    size_t nx = (size_t)NB * T * D;
    float *x = malloc(nx * sizeof *x), *dx = malloc(nx * sizeof *dx);
    float *dp = calloc(m->n_params, sizeof *dp), w[NB * 64];
    CU_ASSERT_FATAL(x && dx && dp && m->n_outputs <= 64);
    uint64_t s = 17;
    for (size_t i = 0; i < nx; i++)
        x[i] = uni(&s);
    for (int i = 0; i < NB * m->n_outputs; i++)
        w[i] = uni(&s);
    tk_error err = {0};
    tk_workspace *ws = tk_workspace_create(m, NB, T, &err);
    CU_ASSERT_FATAL(ws != NULL);
    loss(m, ws, T, x, w);
    CU_ASSERT_EQUAL(tk_model_backward(m, ws, w, dx, dp, &err), TK_OK);
    double worst_x = 0, worst_p = 0;
    for (size_t i = 0; i < nx; i++)
        worst_x = fmax(worst_x, fd_error(&x[i], dx[i], m, ws, T, x, w));
    for (size_t i = 0; i < m->n_params; i++) {
        if (is_statistic(m, i)) {
            CU_ASSERT_EQUAL(dp[i], 0.0f);
            continue;
        }
        worst_p = fmax(worst_p, fd_error(&m->params[i], dp[i], m, ws, T, x, w));
    }
    if (worst_x > 1.0 || worst_p > 1.0)
        fprintf(stderr, "\n%s: worst scaled error dx %.3g, d_params %.3g\n", label, worst_x, worst_p);
    CU_ASSERT(worst_x <= 1.0);
    CU_ASSERT(worst_p <= 1.0);
    tk_workspace_destroy(ws);
    tk_model_destroy(m);
    free(x);
    free(dx);
    free(dp);
}

static tk_layer dense(int units, tk_activation act)
{
    tk_layer l = layer(TK_LAYER_DENSE, "dense");
    l.units = units;
    l.activation = act;
    return l;
}

static void test_fd_simple_rnn(void)
{
    static const tk_activation acts[] = {TK_ACT_TANH, TK_ACT_RELU, TK_ACT_LINEAR};
    for (int a = 0; a < 3; a++)
        for (int opt = 0; opt < 4; opt++) {
            bool seq = opt & 1, back = opt & 2;
            tk_layer ls[3] = {rnn(TK_LAYER_SIMPLE_RNN, 3, acts[a], seq, back),
                              layer(TK_LAYER_FLATTEN, "flatten"), dense(2, TK_ACT_SOFTMAX)};
            if (!seq)
                ls[1] = dense(4, TK_ACT_TANH);
            char label[80];
            snprintf(label, sizeof label, "simple_rnn act %d seq %d back %d", a, seq, back);
            gradcheck(label, ls, 3, 4, 3);
        }
}

static void test_fd_gru(void)
{
    static const tk_activation recs[] = {TK_ACT_SIGMOID, TK_ACT_HARD_SIGMOID, TK_ACT_HARD_SIGMOID_K3};
    for (int ra = 0; ra < 2; ra++)
        for (int r = 0; r < 3; r++)
            for (int opt = 0; opt < 4; opt++) {
                bool seq = opt & 1, back = opt & 2;
                tk_layer ls[2] = {gru(3, recs[r], ra, seq, back), dense(2, TK_ACT_LINEAR)};
                int n = 2;
                tk_layer l3[3] = {ls[0], layer(TK_LAYER_FLATTEN, "flatten"), ls[1]};
                ls[0].use_bias = opt != 2;
                l3[0].use_bias = ls[0].use_bias;
                char label[80];
                snprintf(label, sizeof label, "gru reset_after %d rec %d seq %d back %d", ra, r, seq,
                         back);
                if (seq)
                    gradcheck(label, l3, 3, 4, 3);
                else
                    gradcheck(label, ls, n, 4, 3);
            }
}

static void test_fd_bidirectional(void)
{
    for (int merge = 0; merge < 4; merge++)
        for (int seq = 0; seq < 2; seq++) {
            tk_layer g = rnn(TK_LAYER_BIDIRECTIONAL_GRU, 2, TK_ACT_TANH, seq, merge == 3);
            g.reset_after = merge != 1;
            g.merge_mode = (tk_merge_mode)merge;
            tk_layer s = rnn(TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN, 2, TK_ACT_TANH, seq, merge == 2);
            s.merge_mode = (tk_merge_mode)merge;
            char label[80];
            snprintf(label, sizeof label, "bidirectional merge %d seq %d", merge, seq);
            tk_layer a[3] = {g, layer(TK_LAYER_GLOBAL_AVG_POOL1D, "gap"), dense(2, TK_ACT_SOFTMAX)};
            tk_layer b[3] = {s, layer(TK_LAYER_GLOBAL_MAX_POOL1D, "gmp"), dense(1, TK_ACT_SIGMOID)};
            if (seq) {
                gradcheck(label, a, 3, 4, 3);
                gradcheck(label, b, 3, 4, 3);
            } else {
                a[1] = dense(2, TK_ACT_SOFTMAX);
                b[1] = dense(1, TK_ACT_SIGMOID);
                gradcheck(label, a, 2, 4, 3);
                gradcheck(label, b, 2, 4, 3);
            }
        }
}

static void test_fd_stacks_and_batchnorm(void)
{
    /* return_sequences stack: GRU -> SimpleRNN -> BatchNormalization -> Dense */
    tk_layer st[4] = {gru(3, TK_ACT_SIGMOID, true, true, false),
                      rnn(TK_LAYER_SIMPLE_RNN, 2, TK_ACT_TANH, false, false), batchnorm(true, true),
                      dense(2, TK_ACT_SOFTMAX)};
    gradcheck("gru -> simple_rnn -> batchnorm stack", st, 4, 4, 3);
    for (int opt = 0; opt < 4; opt++) {
        tk_layer ls[4] = {batchnorm(opt & 1, opt & 2), rnn(TK_LAYER_GRU, 2, TK_ACT_TANH, false, false),
                          batchnorm(opt & 2, opt & 1), dense(1, TK_ACT_SIGMOID)};
        char label[64];
        snprintf(label, sizeof label, "batchnorm center %d scale %d", opt & 1, (opt & 2) != 0);
        gradcheck(label, ls, 4, 3, 3);
    }
}

/* ---- Keras files ---- */

static tk_model *round_trip(const tk_model *m, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", tk_test_tmpdir(), name);
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_save(m, path, &err), TK_OK);
    tk_model *back = NULL;
    if (tk_model_load(path, &back, &err) != TK_OK)
        fprintf(stderr, "\n%s: %s\n", name, err.msg);
    CU_ASSERT_FATAL(back != NULL);
    return back;
}

static void test_save_load(void)
{
    tk_layer emb = layer(TK_LAYER_EMBEDDING, "embedding");
    emb.input_dim = 20;
    emb.output_dim = 4;
    tk_layer noise = layer(TK_LAYER_DROPOUT, "gaussian_noise");
    noise.identity_class = TK_IDENTITY_GAUSSIAN_NOISE;
    noise.identity_args[0] = 1.5f;
    tk_layer reg = layer(TK_LAYER_DROPOUT, "activity_regularization");
    reg.identity_class = TK_IDENTITY_ACTIVITY_REGULARIZATION;
    reg.identity_args[1] = 0.01f;
    tk_layer bg = rnn(TK_LAYER_BIDIRECTIONAL_GRU, 3, TK_ACT_TANH, true, false);
    bg.reset_after = true;
    bg.merge_mode = TK_MERGE_SUM;
    tk_layer g = gru(2, TK_ACT_HARD_SIGMOID, false, true, true);
    g.name[0] = 'G'; /* any name: weight paths follow it */
    tk_layer bs = rnn(TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN, 2, TK_ACT_RELU, false, false);
    snprintf(bs.name, sizeof bs.name, "bidirectional_1");
    tk_layer ls[8] = {emb, noise, bg, batchnorm(false, true), g, reg, bs, dense(3, TK_ACT_SOFTMAX)};
    snprintf(ls[5].name, sizeof ls[5].name, "activity_regularization");
    tk_model *m = build(ls, 8, 6, 0);
    CU_ASSERT_FATAL(m != NULL);
    randomize(m, 21, 0.5f);
    tk_model *back = round_trip(m, "rnn_round_trip.h5");
    CU_ASSERT_EQUAL(back->n_layers, m->n_layers);
    CU_ASSERT_EQUAL(back->n_params, m->n_params);
    /* every weight bit for bit (the alignment gaps between them are not saved) */
    for (int i = 0; i < m->n_layers && i < back->n_layers; i++) {
        const tk_layer *a = &m->layers[i], *b = &back->layers[i];
        size_t gw = (size_t)(a->kind == TK_LAYER_GRU || a->kind == TK_LAYER_BIDIRECTIONAL_GRU ? 3 : 1) * a->units;
        bool recurrent = a->kind == TK_LAYER_GRU || a->kind == TK_LAYER_SIMPLE_RNN ||
                         a->kind == TK_LAYER_BIDIRECTIONAL_GRU ||
                         a->kind == TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN;
        for (int d = 0; recurrent && d < tk_layer_directions(a); d++) {
            CU_ASSERT(memcmp(a->rnn[d].kernel, b->rnn[d].kernel, a->input_dim * gw * sizeof(float)) == 0);
            CU_ASSERT(memcmp(a->rnn[d].recurrent, b->rnn[d].recurrent, a->units * gw * sizeof(float)) == 0);
            CU_ASSERT(memcmp(a->rnn[d].bias, b->rnn[d].bias, (a->reset_after ? 2 : 1) * gw * sizeof(float)) == 0);
        }
        if (a->kind == TK_LAYER_BATCH_NORM) {
            size_t c = (size_t)a->input_dim * sizeof(float);
            CU_ASSERT(b->bn_beta == NULL && memcmp(a->bn_gamma, b->bn_gamma, c) == 0);
            CU_ASSERT(memcmp(a->bn_mean, b->bn_mean, c) == 0 && memcmp(a->bn_var, b->bn_var, c) == 0);
            CU_ASSERT_EQUAL(a->bn_epsilon, b->bn_epsilon);
        }
    }

    for (int i = 0; i < m->n_layers && i < back->n_layers; i++) {
        CU_ASSERT_EQUAL(back->layers[i].kind, m->layers[i].kind);
        CU_ASSERT_STRING_EQUAL(back->layers[i].name, m->layers[i].name);
        CU_ASSERT_EQUAL(back->layers[i].identity_class, m->layers[i].identity_class);
        CU_ASSERT_EQUAL(back->layers[i].reset_after, m->layers[i].reset_after);
        CU_ASSERT_EQUAL(back->layers[i].merge_mode, m->layers[i].merge_mode);
        if (m->layers[i].kind == TK_LAYER_GRU || m->layers[i].kind == TK_LAYER_BIDIRECTIONAL_GRU)
            CU_ASSERT_EQUAL(back->layers[i].recurrent_activation, m->layers[i].recurrent_activation);
        CU_ASSERT_EQUAL(back->layers[i].activation, m->layers[i].activation);
        CU_ASSERT_EQUAL(back->layers[i].bn_scale, m->layers[i].bn_scale);
        CU_ASSERT_EQUAL(back->layers[i].bn_center, m->layers[i].bn_center);
    }
    CU_ASSERT_STRING_EQUAL(back->layers[1].class_name, "GaussianNoise");
    CU_ASSERT_DOUBLE_EQUAL(back->layers[1].identity_args[0], 1.5, 1e-6);
    /* the same outputs from the same ids */
    int32_t ids[6] = {1, 5, 7, 19, 0, 3};
    float x[6 * 4], *y1, *y2;
    CU_ASSERT_EQUAL(tk_model_embed(m, ids, 1, 6, x, NULL), TK_OK);
    y1 = model_forward(m, 1, 6, x);
    y2 = model_forward(back, 1, 6, x);
    CU_ASSERT(memcmp(y1, y2, 3 * sizeof *y1) == 0);
    free(y1);
    free(y2);
    tk_model_destroy(back);
    tk_model_destroy(m);
}

/* ---- files in the layouts Keras 2 writes, built here with HDF5 calls ---- */

static void attr_string(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT(H5Awrite(a, t, &value) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

/* A fixed-length string list attribute, as h5py writes numpy bytes arrays. */
static void attr_names(hid_t obj, const char *name, const char *const *names, int n)
{
    size_t size = 1;
    for (int i = 0; i < n; i++)
        size = strlen(names[i]) > size ? strlen(names[i]) : size;
    char *buf = calloc((size_t)n, size);
    for (int i = 0; i < n; i++)
        memcpy(buf + (size_t)i * size, names[i], strlen(names[i]));
    hsize_t dim = (hsize_t)n;
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(1, &dim, NULL);
    H5Tset_size(t, size);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT(H5Awrite(a, t, buf) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    free(buf);
}

static void dataset(hid_t g, const char *path, int rank, const hsize_t *dims, const float *v)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(g, path, H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(lcpl);
}

/* model_config of a Sequential [GRU or SimpleRNN, Dense(1, sigmoid)] on
 * vectors (T=3, D=2), units 2, as the given Keras writes it. */
static void write_keras2_file(const char *path, const char *keras_version, const char *config,
                              const char *rnn_name, const char *const *wnames, int nw,
                              const hsize_t (*dims)[2], const int *ranks, float *const *values,
                              const float *dense_k, const float *dense_b)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    attr_string(f, "model_config", config);
    attr_string(f, "keras_version", keras_version);
    attr_string(f, "backend", "tensorflow");
    hid_t mw = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char *layers[2] = {rnn_name, "dense"};
    attr_names(mw, "layer_names", layers, 2);
    attr_string(mw, "keras_version", keras_version);
    attr_string(mw, "backend", "tensorflow");
    hid_t g = H5Gcreate2(mw, rnn_name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    attr_names(g, "weight_names", wnames, nw);
    for (int i = 0; i < nw; i++)
        dataset(g, wnames[i], ranks[i], dims[i], values[i]);
    H5Gclose(g);
    g = H5Gcreate2(mw, "dense", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char *dn[2] = {"dense/kernel:0", "dense/bias:0"};
    attr_names(g, "weight_names", dn, 2);
    hsize_t kd[2] = {2, 1}, bd[1] = {1};
    dataset(g, dn[0], 2, kd, dense_k);
    dataset(g, dn[1], 1, bd, dense_b);
    H5Gclose(g);
    H5Gclose(mw);
    H5Fclose(f);
}

static const char *const GRU_TF_CONFIG =
    "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"layers\": ["
    "{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 3, 2], "
    "\"dtype\": \"float32\", \"sparse\": false, \"ragged\": false, \"name\": \"gru_input\"}}, "
    "{\"class_name\": \"GRU\", \"config\": {\"name\": \"gru\", \"trainable\": true, "
    "\"dtype\": \"float32\", \"return_sequences\": false, \"return_state\": false, "
    "\"go_backwards\": false, \"stateful\": false, \"unroll\": false, \"time_major\": false, "
    "\"units\": 2, \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\", "
    "\"use_bias\": true, \"kernel_initializer\": {\"class_name\": \"GlorotUniform\", "
    "\"config\": {\"seed\": null}}, \"dropout\": 0.0, \"recurrent_dropout\": 0.2, "
    "\"implementation\": 2, \"reset_after\": true}}, "
    "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"trainable\": true, "
    "\"dtype\": \"float32\", \"units\": 1, \"activation\": \"sigmoid\", \"use_bias\": true}}]}}";

/* Keras 2.2.4 (standalone): GRU without reset_after defaults to reset-before,
 * hard_sigmoid gates; weights named "gru_1/kernel:0". */
static const char *const GRU_OLD_CONFIG =
    "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential_1\", \"layers\": ["
    "{\"class_name\": \"GRU\", \"config\": {\"name\": \"gru_1\", \"trainable\": true, "
    "\"batch_input_shape\": [null, 3, 2], \"dtype\": \"float32\", "
    "\"return_sequences\": false, \"return_state\": false, \"go_backwards\": false, "
    "\"stateful\": false, \"unroll\": false, \"units\": 2, \"activation\": \"tanh\", "
    "\"recurrent_activation\": \"hard_sigmoid\", \"use_bias\": true, \"dropout\": 0.1, "
    "\"recurrent_dropout\": 0.1, \"implementation\": 1}}, "
    "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"trainable\": true, "
    "\"units\": 1, \"activation\": \"sigmoid\", \"use_bias\": true}}]}}";

static const char *const SRNN_TF_CONFIG =
    "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"layers\": ["
    "{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 3, 2], "
    "\"dtype\": \"float32\", \"name\": \"simple_rnn_input\"}}, "
    "{\"class_name\": \"SimpleRNN\", \"config\": {\"name\": \"simple_rnn\", \"trainable\": true, "
    "\"dtype\": \"float32\", \"return_sequences\": false, \"return_state\": false, "
    "\"go_backwards\": true, \"stateful\": false, \"unroll\": false, \"time_major\": false, "
    "\"units\": 2, \"activation\": \"relu\", \"use_bias\": true, \"dropout\": 0.0, "
    "\"recurrent_dropout\": 0.0}}, "
    "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"trainable\": true, "
    "\"dtype\": \"float32\", \"units\": 1, \"activation\": \"sigmoid\", \"use_bias\": true}}]}}";

static void check_file_against_ref(const char *path, bool gru_cell, int rec_act, bool reset_after,
                                   int act, bool back, const float *k, const float *r,
                                   const float *b, const float *dk, const float *db)
{
    tk_error err = {0};
    tk_model *m = NULL;
    if (tk_model_load(path, &m, &err) != TK_OK)
        fprintf(stderr, "\n%s: %s\n", path, err.msg);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_EQUAL(m->maxlen, 3);
    float x[6] = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 1.0f};
    float *logit = model_forward(m, 1, 3, x);
    ref_rnn c = {gru_cell, 2, 2, act, rec_act, reset_after, k, r, b};
    double h[3 * 2];
    ref_rnn_run(&c, 3, x, back, h);
    double z = db[0] + h[4] * dk[0] + h[5] * dk[1];
    CU_ASSERT_DOUBLE_EQUAL(logit[0], z, 1e-5);
    CU_ASSERT_EQUAL(m->output_activation, TK_ACT_SIGMOID);
    free(logit);
    tk_model_destroy(m);
}

static void test_keras2_layouts(void)
{
    uint64_t s = 99;
    float k[2 * 6], r[2 * 6], b[12], dk[2], db[1];
    for (int i = 0; i < 12; i++) {
        k[i] = uni(&s);
        r[i] = uni(&s);
        b[i] = 0.5f * uni(&s);
    }
    dk[0] = 0.7f, dk[1] = -1.1f, db[0] = 0.05f;
    char path[4096];
    /* tf.keras 2.x GRU: reset_after, bias (2, 3u), names under gru/gru_cell/ */
    {
        const char *names[3] = {"gru/gru_cell/kernel:0", "gru/gru_cell/recurrent_kernel:0",
                                "gru/gru_cell/bias:0"};
        hsize_t dims[3][2] = {{2, 6}, {2, 6}, {2, 6}};
        int ranks[3] = {2, 2, 2};
        float *vals[3] = {k, r, b};
        snprintf(path, sizeof path, "%s/gru_tf2.h5", tk_test_tmpdir());
        write_keras2_file(path, "2.4.0", GRU_TF_CONFIG, "gru", names, 3, (const hsize_t(*)[2])dims,
                          ranks, vals, dk, db);
        check_file_against_ref(path, true, REF_SIGMOID, true, REF_TANH, false, k, r, b, dk, db);
    }
    /* standalone Keras 2.2.4 GRU: reset before, hard_sigmoid 0.2 x + 0.5, bias (3u), gru_1/ */
    {
        const char *names[3] = {"gru_1/kernel:0", "gru_1/recurrent_kernel:0", "gru_1/bias:0"};
        hsize_t dims[3][2] = {{2, 6}, {2, 6}, {6, 0}};
        int ranks[3] = {2, 2, 1};
        float *vals[3] = {k, r, b};
        snprintf(path, sizeof path, "%s/gru_keras224.h5", tk_test_tmpdir());
        write_keras2_file(path, "2.2.4", GRU_OLD_CONFIG, "gru_1", names, 3,
                          (const hsize_t(*)[2])dims, ranks, vals, dk, db);
        check_file_against_ref(path, true, REF_HARD_SIGMOID_K2, false, REF_TANH, false, k, r, b, dk, db);
        /* the same file said to come from Keras 3: its hard_sigmoid is relu6(x + 3) / 6 */
        write_keras2_file(path, "3.3.3", GRU_OLD_CONFIG, "gru_1", names, 3,
                          (const hsize_t(*)[2])dims, ranks, vals, dk, db);
        check_file_against_ref(path, true, REF_HARD_SIGMOID_K3, false, REF_TANH, false, k, r, b, dk, db);
    }
    /* tf.keras SimpleRNN, relu, go_backwards: simple_rnn/simple_rnn_cell/ */
    {
        const char *names[3] = {"simple_rnn/simple_rnn_cell/kernel:0",
                                "simple_rnn/simple_rnn_cell/recurrent_kernel:0",
                                "simple_rnn/simple_rnn_cell/bias:0"};
        hsize_t dims[3][2] = {{2, 2}, {2, 2}, {2, 0}};
        int ranks[3] = {2, 2, 1};
        float *vals[3] = {k, r, b};
        snprintf(path, sizeof path, "%s/simple_rnn_tf2.h5", tk_test_tmpdir());
        write_keras2_file(path, "2.6.0", SRNN_TF_CONFIG, "simple_rnn", names, 3,
                          (const hsize_t(*)[2])dims, ranks, vals, dk, db);
        check_file_against_ref(path, false, 0, false, REF_RELU, true, k, r, b, dk, db);
    }
    /* a bias of the wrong shape is refused with the layer and both shapes */
    {
        const char *names[3] = {"gru/gru_cell/kernel:0", "gru/gru_cell/recurrent_kernel:0",
                                "gru/gru_cell/bias:0"};
        hsize_t dims[3][2] = {{2, 6}, {2, 6}, {6, 0}};
        int ranks[3] = {2, 2, 1};
        float *vals[3] = {k, r, b};
        snprintf(path, sizeof path, "%s/gru_bad_bias.h5", tk_test_tmpdir());
        write_keras2_file(path, "2.4.0", GRU_TF_CONFIG, "gru", names, 3, (const hsize_t(*)[2])dims,
                          ranks, vals, dk, db);
        tk_model *m = NULL;
        tk_error err = {0};
        CU_ASSERT_NOT_EQUAL(tk_model_load(path, &m, &err), TK_OK);
        CU_ASSERT(strstr(err.msg, "gru") != NULL && strstr(err.msg, "(2, 6)") != NULL);
        CU_ASSERT(m == NULL);
    }
}

static void test_config_refusals(void)
{
    /* return_state and an unknown wrapped class are refused with layer, class and option */
    static const char *const bad[] = {
        "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"GRU\", "
        "\"config\": {\"name\": \"g\", \"batch_input_shape\": [null, 3, 2], \"units\": 2, "
        "\"return_state\": true}}, {\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", "
        "\"units\": 1}}]}}",
        "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": "
        "\"BatchNormalization\", \"config\": {\"name\": \"bn\", \"batch_input_shape\": [null, 3, 2], "
        "\"renorm\": true}}, {\"class_name\": \"Flatten\", \"config\": {\"name\": \"f\"}}]}}",
        "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"SimpleRNN\", "
        "\"config\": {\"name\": \"s\", \"batch_input_shape\": [null, 3, 2], \"units\": 2, "
        "\"activation\": \"softmax\"}}]}}",
    };
    static const char *const want[] = {"return_state", "renorm", "softmax"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/refuse_%d.h5", tk_test_tmpdir(), i);
        hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        attr_string(f, "model_config", bad[i]);
        attr_string(f, "keras_version", "2.6.0");
        H5Gclose(H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        H5Fclose(f);
        tk_model *m = NULL;
        tk_error err = {0};
        CU_ASSERT_NOT_EQUAL(tk_model_load(path, &m, &err), TK_OK);
        if (strstr(err.msg, want[i]) == NULL)
            fprintf(stderr, "\nrefusal %d: %s\n", i, err.msg);
        CU_ASSERT(strstr(err.msg, want[i]) != NULL);
        CU_ASSERT(m == NULL);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"hand: SimpleRNN 1 unit 2 steps", test_hand_simple_rnn},
        {"hand: GRU 1 unit 2 steps, reset_after both, hard sigmoids", test_hand_gru},
        {"hand: BatchNormalization", test_hand_batchnorm},
        {"forward = float64 reference: SimpleRNN, GRU, Bidirectional", test_reference_forward},
        {"forward = float64 reference: BatchNormalization", test_reference_batchnorm},
        {"finite differences: SimpleRNN", test_fd_simple_rnn},
        {"finite differences: GRU", test_fd_gru},
        {"finite differences: Bidirectional merges", test_fd_bidirectional},
        {"finite differences: stacks, BatchNormalization", test_fd_stacks_and_batchnorm},
        {"save and load round trip", test_save_load},
        {"Keras 2 file layouts written by hand", test_keras2_layouts},
        {"config refusals", test_config_refusals},
        {NULL, NULL},
    };
    tk_test_add_suite("layers_rnn", cases);
    return tk_test_run_all();
}
