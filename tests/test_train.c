/* Training: optimisers against the papers' formulas in double, Keras'
 * initialisers against their definitions, the training gradient (loss +
 * model backward + Embedding rows + L2) against finite differences, seeded
 * repeatability, and a tiny model learning the planted-token task. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "data/model_input.h"
#include "data/synthetic.h"
#include "model/build.h"
#include "model/init.h"
#include "model/optim.h"
#include "model/train.h"
#include "support/testutil.h"

/* ---- optimisers ---- */

static void random_grads(float *g, int n, uint64_t *state)
{
    for (int i = 0; i < n; i++)
        g[i] = (float)tk_rng_normal(state) * (i % 3 == 0 ? 1e-3f : 1.0f);
}

static void test_adam_matches_paper(void)
{
    enum { N = 50, STEPS = 6 };
    tk_optim_config cfg;
    tk_optim_config_default(&cfg, TK_OPTIM_ADAM);
    CU_ASSERT_DOUBLE_EQUAL(cfg.lr, 0.001, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cfg.epsilon, 1e-7, 1e-13);
    tk_optim *opt = tk_optim_create(&cfg, N, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(opt);
    float p[N], g[N];
    double rp[N], m[N] = {0}, v[N] = {0};
    uint64_t st = 5;
    for (int i = 0; i < N; i++)
        rp[i] = p[i] = (float)tk_rng_normal(&st);
    double worst = 0;
    for (int t = 1; t <= STEPS; t++) {
        random_grads(g, N, &st);
        tk_optim_step(opt, p, g);
        /* Kingma & Ba, Algorithm 1, with Keras' epsilon placed on the
         * uncorrected sqrt(v): eps_hat = eps / sqrt(1 - b2^t). */
        double b1t = pow(0.9, t), b2t = pow(0.999, t);
        for (int i = 0; i < N; i++) {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + 0.001 * (double)g[i] * g[i];
            double mh = m[i] / (1 - b1t), vh = v[i] / (1 - b2t);
            rp[i] -= 0.001 * mh / (sqrt(vh) + 1e-7 / sqrt(1 - b2t));
            worst = fmax(worst, fabs(rp[i] - p[i]));
        }
    }
    CU_ASSERT(worst < 1e-6);
    CU_ASSERT_EQUAL(tk_optim_iterations(opt), STEPS);
    tk_optim_destroy(opt);
}

static void test_rmsprop_matches_formula(void)
{
    enum { N = 40, STEPS = 5 };
    tk_optim_config cfg;
    tk_optim_config_default(&cfg, TK_OPTIM_RMSPROP);
    tk_optim *opt = tk_optim_create(&cfg, N, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(opt);
    float p[N], g[N];
    double rp[N], s[N] = {0};
    uint64_t st = 9;
    for (int i = 0; i < N; i++)
        rp[i] = p[i] = (float)tk_rng_normal(&st);
    double worst = 0;
    for (int t = 1; t <= STEPS; t++) {
        random_grads(g, N, &st);
        tk_optim_step(opt, p, g);
        for (int i = 0; i < N; i++) {
            s[i] = 0.9 * s[i] + 0.1 * (double)g[i] * g[i];
            rp[i] -= 0.001 * g[i] / (sqrt(s[i]) + 1e-7);
            worst = fmax(worst, fabs(rp[i] - p[i]));
        }
    }
    CU_ASSERT(worst < 1e-6);
    tk_optim_destroy(opt);
    tk_optim_destroy(NULL);
}

/* ---- building and initialising ---- */

static const tk_layer_spec CNN[] = {
    {.kind = TK_LAYER_EMBEDDING, .input_dim = 30, .output_dim = 4},
    {.kind = TK_LAYER_CONV1D, .filters = 5, .kernel_size = 3, .activation = TK_ACT_RELU},
    {.kind = TK_LAYER_DROPOUT, .rate = 0.0f},
    {.kind = TK_LAYER_GLOBAL_MAX_POOL1D},
    {.kind = TK_LAYER_DENSE, .units = 6, .activation = TK_ACT_RELU},
    {.kind = TK_LAYER_DENSE, .units = 2, .activation = TK_ACT_SOFTMAX},
};

static const tk_layer_spec LSTM[] = {
    {.kind = TK_LAYER_EMBEDDING, .input_dim = 30, .output_dim = 4},
    {.kind = TK_LAYER_LSTM, .units = 3},
    {.kind = TK_LAYER_DENSE, .units = 1, .activation = TK_ACT_SIGMOID},
};

static const tk_layer_spec POOLED[] = {
    {.kind = TK_LAYER_EMBEDDING, .input_dim = 30, .output_dim = 3},
    {.kind = TK_LAYER_CONV1D, .filters = 4, .kernel_size = 2, .activation = TK_ACT_TANH},
    {.kind = TK_LAYER_MAX_POOL1D, .pool_size = 2},
    {.kind = TK_LAYER_FLATTEN},
    {.kind = TK_LAYER_DENSE, .units = 5, .activation = TK_ACT_TANH},
    {.kind = TK_LAYER_DENSE, .units = 4, .activation = TK_ACT_SOFTMAX},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void test_build_names_and_shapes(void)
{
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_build(CNN, COUNT(CNN), 9, &m, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(m->layers[0].name, "embedding");
    CU_ASSERT_STRING_EQUAL(m->layers[4].name, "dense");
    CU_ASSERT_STRING_EQUAL(m->layers[5].name, "dense_1");
    CU_ASSERT_EQUAL(m->layers[1].out.steps, 7); /* valid conv of width 3 over 9 steps */
    CU_ASSERT_EQUAL(m->n_outputs, 2);
    CU_ASSERT_EQUAL(m->output_activation, TK_ACT_SOFTMAX);
    CU_ASSERT_EQUAL(m->vocab_size, 30);
    CU_ASSERT_EQUAL(m->input_dim, 4);
    size_t off, count;
    tk_layer_kernel_range(m, 1, &off, &count);
    CU_ASSERT_EQUAL(count, 3 * 4 * 5);
    CU_ASSERT_PTR_EQUAL(m->params + off, m->layers[1].kernel);
    tk_model_destroy(m);

    tk_layer_spec bad[COUNT(CNN)];
    memcpy(bad, CNN, sizeof bad);
    bad[1].filters = 0;
    CU_ASSERT_EQUAL(tk_model_build(bad, COUNT(bad), 9, &m, &err), TK_E_INVALID);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT(strstr(err.msg, "conv1d") != NULL);
}

static void test_keras_initialisers(void)
{
    tk_model *m = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_model_build(LSTM, COUNT(LSTM), 6, &m, NULL), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_model_init_keras(m, 3, NULL), TK_OK);
    const tk_layer *e = &m->layers[0], *l = &m->layers[1], *d = &m->layers[2];
    for (int i = 0; i < 30 * 4; i++)
        CU_ASSERT(fabsf(e->embeddings[i]) <= 0.05f);
    float lim = sqrtf(6.0f / (4 + 12));
    for (int i = 0; i < 4 * 12; i++)
        CU_ASSERT(fabsf(l->lstm[0].kernel[i]) <= lim);
    /* orthogonal: the 3 rows of the (3, 12) recurrent kernel are orthonormal */
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double dot = 0;
            for (int c = 0; c < 12; c++)
                dot += (double)l->lstm[0].recurrent[a * 12 + c] * l->lstm[0].recurrent[b * 12 + c];
            CU_ASSERT_DOUBLE_EQUAL(dot, a == b ? 1.0 : 0.0, 1e-5);
        }
    for (int g = 0; g < 12; g++)
        CU_ASSERT_EQUAL(l->lstm[0].bias[g], g >= 3 && g < 6 ? 1.0f : 0.0f);
    CU_ASSERT_EQUAL(d->bias[0], 0.0f);
    tk_model_destroy(m);

    /* glorot_uniform's variance is limit^2 / 3 = 2 / (fan_in + fan_out) */
    enum { N = 20000 };
    float *w = malloc(N * sizeof *w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    uint64_t st = 11;
    tk_init_glorot_uniform(w, N, 100, 200, &st);
    double var = 0;
    for (int i = 0; i < N; i++)
        var += (double)w[i] * w[i];
    var /= N;
    CU_ASSERT(fabs(var - 2.0 / 300) < 0.05 * 2.0 / 300);
    free(w);
}

/* ---- gradient of the training loss against finite differences ---- */

static void check_gradient(const tk_layer_spec *specs, int n_specs, int classes,
                           const float *l2)
{
    enum { B = 3, T = 6 };
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_build(specs, n_specs, T, &m, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_model_init_keras(m, 17, &err), TK_OK);
    /* larger weights than the initialiser's so that every layer matters */
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] *= 4.0f;
    int32_t ids[B * T], y[B];
    uint64_t st = 23;
    for (int i = 0; i < B * T; i++)
        ids[i] = (int32_t)tk_rng_below(&st, 30);
    ids[0] = ids[7] = 5; /* a row looked up twice accumulates both */
    for (int b = 0; b < B; b++)
        y[b] = b % classes;
    float *grad = calloc(m->n_params, sizeof *grad);
    CU_ASSERT_PTR_NOT_NULL_FATAL(grad);
    double loss;
    CU_ASSERT_EQUAL_FATAL(tk_train_loss_grad(m, ids, y, B, T, l2, grad, &loss, &err), TK_OK);
    CU_ASSERT(isfinite(loss) && loss > 0);
    double num = 0, den = 0;
    const float h = 5e-4f;
    for (size_t i = 0; i < m->n_params; i++) {
        float keep = m->params[i];
        double lp, lm;
        float *scratch = calloc(m->n_params, sizeof *scratch);
        m->params[i] = keep + h;
        tk_train_loss_grad(m, ids, y, B, T, l2, scratch, &lp, NULL);
        m->params[i] = keep - h;
        tk_train_loss_grad(m, ids, y, B, T, l2, scratch, &lm, NULL);
        m->params[i] = keep;
        free(scratch);
        double fd = (lp - lm) / (2.0 * h);
        if (getenv("TK_DEBUG_GRAD") && fabs(fd - grad[i]) > 1e-3)
            fprintf(stderr, "param %zu: fd %g analytic %g\n", i, fd, grad[i]);
        num += (fd - grad[i]) * (fd - grad[i]);
        den += fd * fd;
    }
    CU_ASSERT(den > 0);
    CU_ASSERT(sqrt(num / den) < 2e-2);
    free(grad);
    tk_model_destroy(m);
}

static void test_gradient_cnn(void)
{
    check_gradient(CNN, COUNT(CNN), 2, NULL);
}

static void test_gradient_lstm(void)
{
    check_gradient(LSTM, COUNT(LSTM), 2, NULL);
}

static void test_gradient_pooled_l2(void)
{
    const float l2[COUNT(POOLED)] = {0, 0.01f, 0, 0, 0.02f, 0};
    check_gradient(POOLED, COUNT(POOLED), 4, l2);
}

/* ---- whole runs on the planted-token task ---- */

static const tk_layer_spec TINY[] = {
    {.kind = TK_LAYER_EMBEDDING, .input_dim = 200, .output_dim = 8},
    {.kind = TK_LAYER_CONV1D, .filters = 8, .kernel_size = 1, .activation = TK_ACT_RELU},
    {.kind = TK_LAYER_DROPOUT, .rate = 0.2f},
    {.kind = TK_LAYER_GLOBAL_MAX_POOL1D},
    {.kind = TK_LAYER_DENSE, .units = 2, .activation = TK_ACT_SOFTMAX},
};

static void planted_data(int64_t n_train, tk_train_data **train, tk_train_data **test)
{
    tk_synthetic_spec spec;
    tk_synthetic_spec_default(&spec);
    spec.n_train = n_train;
    spec.vocab_size = 200;
    tk_synthetic *syn = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_synthetic_create(&spec, &syn, NULL), TK_OK);
    tk_input_spec in;
    tk_input_spec_default(&in, 200, 40); /* 40 words: none truncated away */
    CU_ASSERT_EQUAL_FATAL(tk_train_data_from_split(&syn->train, &in, TK_TRAIN_TARGET_LABEL, train, NULL),
                          TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_train_data_from_split(&syn->test, &in, TK_TRAIN_TARGET_LABEL, test, NULL),
                          TK_OK);
    tk_synthetic_destroy(syn);
}

static tk_model *train_tiny(const tk_train_data *train, uint64_t seed, int epochs,
                            tk_epoch_stats *last)
{
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_build(TINY, COUNT(TINY), train->steps, &m, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_model_init_keras(m, seed, &err), TK_OK);
    tk_train_options opt;
    tk_train_options_default(&opt);
    opt.epochs = epochs;
    opt.batch_size = 32;
    opt.seed = seed;
    opt.optim.lr = 0.01f;
    tk_status st = tk_train(m, &opt, train, NULL, last, &err);
    CU_ASSERT_EQUAL(st, TK_OK);
    if (st != TK_OK)
        fprintf(stderr, "%s\n", err.msg);
    return m;
}

static void test_same_seed_same_weights(void)
{
    tk_train_data *train = NULL, *test = NULL;
    planted_data(400, &train, &test);
    tk_model *a = train_tiny(train, 7, 1, NULL);
    tk_model *b = train_tiny(train, 7, 1, NULL);
    tk_model *c = train_tiny(train, 8, 1, NULL);
    CU_ASSERT_EQUAL_FATAL(a->n_params, b->n_params);
    CU_ASSERT(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
    CU_ASSERT(memcmp(a->params, c->params, a->n_params * sizeof(float)) != 0);
    tk_model_destroy(a);
    tk_model_destroy(b);
    tk_model_destroy(c);
    tk_train_data_destroy(train);
    tk_train_data_destroy(test);
}

static void test_learns_planted_token(void)
{
    tk_train_data *train = NULL, *test = NULL;
    planted_data(2000, &train, &test);
    tk_epoch_stats last;
    tk_model *m = train_tiny(train, 1, 3, &last);
    double loss, acc;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_train_evaluate(m, test, 256, &loss, &acc, &err), TK_OK);
    CU_ASSERT(acc >= 0.99);
    CU_ASSERT(last.loss < 0.5); /* chance is ln 2 = 0.69 */
    if (acc < 0.99 || last.loss >= 0.5)
        fprintf(stderr, "planted token: test accuracy %.4f, last training loss %.4f\n", acc,
                last.loss);
    tk_model_destroy(m);
    tk_train_data_destroy(train);
    tk_train_data_destroy(test);
}

static void test_saved_model_reads_back(void)
{
    tk_train_data *train = NULL, *test = NULL;
    planted_data(200, &train, &test);
    tk_model *m = train_tiny(train, 5, 1, NULL);
    char path[2048];
    snprintf(path, sizeof path, "%s/tiny.h5", tk_test_tmpdir());
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_save(m, path, &err), TK_OK);
    tk_model *back = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_model_load(path, &back, &err), TK_OK);
    CU_ASSERT_EQUAL(back->n_layers, m->n_layers);
    CU_ASSERT_EQUAL(back->n_outputs, 2);
    double la, aa, lb, ab;
    CU_ASSERT_EQUAL(tk_train_evaluate(m, test, 100, &la, &aa, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_train_evaluate(back, test, 100, &lb, &ab, &err), TK_OK);
    CU_ASSERT_EQUAL(la, lb); /* the same float weights: the same results */
    CU_ASSERT_EQUAL(aa, ab);
    tk_model_destroy(back);
    tk_model_destroy(m);
    tk_train_data_destroy(train);
    tk_train_data_destroy(test);
}

/* ---- data preparation ---- */

static void test_rating_buckets_and_hold_out(void)
{
    int64_t offset[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    int32_t ids[8] = {4, 5, 6, 7, 8, 9, 10, 11};
    int32_t label[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    int8_t rating[8] = {1, 2, 3, 4, 7, 8, 9, 10};
    int32_t rid[8] = {0};
    tk_split s = {8, offset, ids, label, rating, rid, NULL, NULL, NULL, NULL};
    tk_input_spec in;
    tk_input_spec_default(&in, 100, 3);
    tk_train_data *d = NULL, *held = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_train_data_from_split(&s, &in, TK_TRAIN_TARGET_RATING4, &d, NULL), TK_OK);
    const int32_t want[8] = {0, 0, 1, 1, 2, 2, 3, 3};
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(d->y[i], want[i]);
    /* "pre" padding with the start marker: 0, 1, id */
    CU_ASSERT_EQUAL(d->ids[2], 4);
    CU_ASSERT_EQUAL(d->ids[1], TK_ID_START);
    CU_ASSERT_EQUAL(tk_train_data_hold_out(d, 0.25, 1, &held, NULL), TK_OK);
    CU_ASSERT_EQUAL(d->n, 6);
    CU_ASSERT_EQUAL(held->n, 2);
    int sum = 0;
    for (int i = 0; i < d->n; i++)
        sum += d->y[i];
    for (int i = 0; i < held->n; i++)
        sum += held->y[i];
    CU_ASSERT_EQUAL(sum, 12); /* every row on exactly one side */
    tk_train_data_destroy(d);
    tk_train_data_destroy(held);

    rating[3] = 5;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_train_data_from_split(&s, &in, TK_TRAIN_TARGET_RATING4, &d, &err), TK_E_FORMAT);
    CU_ASSERT(strstr(err.msg, "rating 5") != NULL);
}

int main(void)
{
    tk_blas_single_thread(); /* as `tokattr train`: results independent of thread count */
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case optim[] = {
        {"adam matches the paper", test_adam_matches_paper},
        {"rmsprop matches its formula", test_rmsprop_matches_formula},
        {NULL, NULL},
    };
    static const tk_test_case build[] = {
        {"names and shapes", test_build_names_and_shapes},
        {"keras initialisers", test_keras_initialisers},
        {NULL, NULL},
    };
    static const tk_test_case grad[] = {
        {"cnn", test_gradient_cnn},
        {"lstm", test_gradient_lstm},
        {"pooling, flatten, l2, 4 classes", test_gradient_pooled_l2},
        {NULL, NULL},
    };
    static const tk_test_case run[] = {
        {"same seed, same weights", test_same_seed_same_weights},
        {"learns the planted token", test_learns_planted_token},
        {"saved model reads back", test_saved_model_reads_back},
        {"rating buckets and hold-out", test_rating_buckets_and_hold_out},
        {NULL, NULL},
    };
    tk_test_add_suite("optim", optim);
    tk_test_add_suite("build", build);
    tk_test_add_suite("gradient", grad);
    tk_test_add_suite("train", run);
    return tk_test_run_all();
}
