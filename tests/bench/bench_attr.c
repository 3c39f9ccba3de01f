/* Speed of the gradient, IG and occlusion methods on the seed models, one
 * core: reviews/s, FLOPs per review (tk_explainer_flops), the share of the
 * single-thread sgemm peak measured in the same run, and peak RSS.
 *
 * usage: bench_attr [--shared DIR] [--reviews N] [--model cnn|lstm|gru|simple_rnn]
 *                   [--method NAME] [--dataset FILE]
 * Inputs are random in-vocabulary ids of the model's length (speed does not
 * depend on which words), or with --dataset the first N reviews of the
 * test split of a `tokattr prepare` file, prepared the Keras way (start
 * marker, "pre" padding and truncation): their padding is what the LSTM's
 * IG skips, so its speed does depend on their lengths. gru and simple_rnn are the LSTM model with its
 * LSTM(128) replaced by GRU(128) (reset_after, sigmoid) or SimpleRNN(128)
 * (tanh), Keras-initialised weights: the same T = 80, D = 128, 128 units. tests/bench/README.md compares with PyTorch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "attr/attr.h"
#include "core/gemm.h"
#include "core/paths.h"
#include "core/progress.h"
#include "core/status.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "model/init.h"
#include "model/model.h"
#include "model/window.h"

/* GFLOP/s of one single-thread sgemm, n = 2048, best of 3. */
static double sgemm_peak(void)
{
    const int n = 2048;
    float *a = malloc(sizeof *a * n * n), *b = malloc(sizeof *b * n * n);
    float *c = malloc(sizeof *c * n * n);
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return 0.0;
    }
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = tk_now();
        tk_sgemm(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = tk_now() - t0;
        if (dt < best)
            best = dt;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * n * (double)n * n / best / 1e9;
}

/* The minimal work of IG with n points on the two fast-path shapes
 * (PERFORMANCE.md, "Linearity along the path"), FLOPs = 2 x multiply-adds:
 * CNN: the convolution of x and of x', per point the interpolation of the
 * conv output and the dense layers forward and backward;
 * LSTM: the input projections of x and x', per point the recurrent GEMM
 * forward and backward over T - 1 steps, the projection's transpose once.
 * 0 for other models (no minimal count). */
static double ig_min_flops(const tk_model *m, int n, int T)
{
    const tk_layer *first = &m->layers[m->first_body_layer];
    double dense = 0.0, width = first->kind == TK_LAYER_CONV1D ? first->filters : first->units;
    for (int i = m->first_body_layer + 1; i < m->n_layers; i++)
        if (m->layers[i].kind == TK_LAYER_DENSE) {
            dense += width * m->layers[i].units;
            width = m->layers[i].units;
        }
    if (first->kind == TK_LAYER_CONV1D) {
        double out = tk_window_out(tk_window_conv(first), T);
        double conv = out * first->kernel_size * m->input_dim * first->filters;
        return 2.0 * (2.0 * conv + n * (out * first->filters + 2.0 * dense));
    }
    if (first->kind == TK_LAYER_LSTM) {
        double U = first->units, proj = (double)T * m->input_dim * 4.0 * U;
        return 2.0 * (3.0 * proj + n * (2.0 * (T - 1) * U * 4.0 * U + 2.0 * dense));
    }
    return 0.0;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* ids (n_reviews, T): the first reviews of the test split of `dataset`
 * (repeated if it has fewer), as the model's input. */
static int dataset_ids(const char *dataset, const tk_model *model, int T, int n_reviews,
                       int32_t *ids)
{
    tk_error err = {0};
    tk_docs_reader *r = NULL;
    tk_split sp = {0};
    int64_t have = 0;
    tk_status st = tk_docs_open(dataset, "test", &r, &err);
    if (st == TK_OK) {
        have = tk_docs_count(r) < n_reviews ? tk_docs_count(r) : n_reviews;
        st = have > 0 ? tk_docs_read(r, 0, have, false, &sp, &err)
                      : tk_error_set(&err, TK_E_INVALID, "%s: no test reviews", dataset);
    }
    if (st == TK_OK) {
        tk_input_spec spec;
        tk_input_spec_default(&spec, model->vocab_size, T);
        for (int i = 0; i < n_reviews; i++) {
            int64_t d = i % have;
            tk_prepare_input(&spec, sp.ids + sp.offset[d], sp.offset[d + 1] - sp.offset[d],
                             ids + (size_t)i * T, NULL);
        }
    }
    if (st != TK_OK)
        fprintf(stderr, "bench_attr: %s\n", err.msg);
    tk_split_free(&sp);
    tk_docs_close(r);
    return st == TK_OK ? 0 : 1;
}

static int bench_one(const char *label, tk_model *model, tk_method_kind kind, int n_reviews,
                     double peak, const char *dataset)
{
    tk_error err = {0};
    tk_method_params p;
    tk_method_params_default(&p, kind);
    int T = model->maxlen;
    tk_explainer *ex = NULL;
    if (tk_explainer_create(model, &p, NULL, T, &ex, &err) != TK_OK) {
        fprintf(stderr, "bench_attr: %s\n", err.msg);
        return 1;
    }
    int32_t *ids = malloc(sizeof *ids * (size_t)T * n_reviews);
    float *score = malloc(sizeof *score * (size_t)T);
    if (!ids || !score) {
        free(ids);
        free(score);
        tk_explainer_destroy(ex);
        return 1;
    }
    uint64_t s = 12345;
    for (long i = 0; i < (long)T * n_reviews; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = 4 + (int32_t)((s >> 33) % (uint64_t)(model->vocab_size - 4));
    }
    if (dataset && dataset_ids(dataset, model, T, n_reviews, ids) != 0) {
        free(ids);
        free(score);
        tk_explainer_destroy(ex);
        return 1;
    }
    tk_attribution a = {.score = score};
    tk_review rv = {.ids = ids, .steps = T, .label = -1};
    int rc = 0;
    if (tk_explain(ex, &rv, &a, &err) != TK_OK) /* warm-up: caches, page faults */
        rc = 1;
    double t0 = tk_now();
    for (int r = 0; rc == 0 && r < n_reviews; r++) {
        rv.ids = ids + (size_t)r * T;
        if (tk_explain(ex, &rv, &a, &err) != TK_OK)
            rc = 1;
    }
    double dt = tk_now() - t0;
    if (rc != 0) {
        fprintf(stderr, "bench_attr: %s\n", err.msg);
    } else {
        double rate = n_reviews / dt, flops = tk_explainer_flops(ex, T);
        double min_flops = kind == TK_METHOD_INTEGRATED_GRADIENTS ? ig_min_flops(model, p.n_steps, T) : 0.0;
        printf("%-10s %-22s %9.2f reviews/s %8.3f ms/review %9.2f MFLOP/review %7.1f GFLOP/s "
               "%5.1f%% of sgemm peak  RSS %.0f MB",
               label, tk_method_kind_name(kind), rate, 1e3 * dt / n_reviews, flops / 1e6,
               flops * rate / 1e9, 100.0 * flops * rate / 1e9 / peak, peak_rss_mb());
        if (min_flops > 0.0)
            printf("  minimal %.2f MFLOP/review: %.1f%% of the limit", min_flops / 1e6,
                   100.0 * min_flops * rate / 1e9 / peak);
        const tk_layer *first = &model->layers[model->first_body_layer];
        if (min_flops > 0.0 && first->kind == TK_LAYER_LSTM) {
            /* The same count over each review's rows after its leading
             * padding only: the work the LSTM path cannot skip. */
            double real = 0.0;
            for (int r = 0; r < n_reviews; r++) {
                int lead = 0;
                while (lead < T - 1 && ids[(size_t)r * T + lead] == TK_ID_PAD)
                    lead++;
                real += ig_min_flops(model, p.n_steps, T - lead);
            }
            real /= n_reviews;
            printf("  without the leading padding %.2f MFLOP/review: %.1f%% of the limit",
                   real / 1e6, 100.0 * real * rate / 1e9 / peak);
        }
        printf("\n");
    }
    free(ids);
    free(score);
    tk_explainer_destroy(ex);
    return rc;
}

/* The LSTM model with its LSTM layer replaced by `kind` of the same units. */
static tk_model *swap_recurrent(const tk_model *lstm, tk_layer_kind kind, tk_error *err)
{
    tk_layer ls[8];
    if (lstm->n_layers > 8)
        return NULL;
    memcpy(ls, lstm->layers, sizeof *ls * (size_t)lstm->n_layers);
    for (int i = 0; i < lstm->n_layers; i++) {
        if (ls[i].kind != TK_LAYER_LSTM)
            continue;
        ls[i].kind = kind;
        ls[i].reset_after = true;
        ls[i].recurrent_activation = TK_ACT_SIGMOID;
        ls[i].activation = TK_ACT_TANH;
        snprintf(ls[i].class_name, sizeof ls[i].class_name, "%s",
                 kind == TK_LAYER_GRU ? "GRU" : "SimpleRNN");
    }
    tk_model *m = NULL;
    if (tk_model_from_layers(ls, lstm->n_layers, lstm->maxlen, lstm->input_dim, &m, err) != TK_OK)
        return NULL;
    if (tk_model_init_keras(m, 2026, err) != TK_OK) {
        tk_model_destroy(m);
        return NULL;
    }
    return m;
}

int main(int argc, char **argv)
{
    const char *shared = NULL, *only_model = NULL, *only_method = NULL, *dataset = NULL;
    int n_reviews = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--shared") == 0)
            shared = argv[i + 1];
        else if (strcmp(argv[i], "--reviews") == 0)
            n_reviews = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--model") == 0)
            only_model = argv[i + 1];
        else if (strcmp(argv[i], "--method") == 0)
            only_method = argv[i + 1];
        else if (strcmp(argv[i], "--dataset") == 0)
            dataset = argv[i + 1];
    }
    if (n_reviews < 1) {
        fprintf(stderr, "bench_attr: --reviews must be positive\n");
        return 2;
    }
    tk_blas_single_thread();
    double peak = sgemm_peak();
    printf("single-thread sgemm n=2048: %.1f GFLOP/s\n", peak);
    static const struct {
        const char *label, *file;
    } MODELS[] = {{"cnn", "models/imdb_cnn.h5"},
                  {"lstm", "models/imdb_lstm.h5"},
                  {"gru", "models/imdb_lstm.h5"},
                  {"simple_rnn", "models/imdb_lstm.h5"}};
    static const tk_method_kind KINDS[] = {TK_METHOD_SALIENCY, TK_METHOD_GRAD_INPUT,
                                           TK_METHOD_INTEGRATED_GRADIENTS, TK_METHOD_OCCLUSION};
    int rc = 0;
    for (size_t m = 0; m < 4; m++) {
        if (only_model && strcmp(only_model, MODELS[m].label) != 0)
            continue;
        char path[4096];
        tk_error err = {0};
        tk_model *model = NULL;
        if (!tk_shared_path(path, sizeof path, shared, MODELS[m].file) ||
            tk_model_load(path, &model, &err) != TK_OK) {
            fprintf(stderr, "bench_attr: %s\n", err.msg[0] ? err.msg : "shared path too long");
            return 1;
        }
        if (m >= 2) {
            tk_model *swapped = swap_recurrent(model, m == 2 ? TK_LAYER_GRU : TK_LAYER_SIMPLE_RNN, &err);
            tk_model_destroy(model);
            if (swapped == NULL) {
                fprintf(stderr, "bench_attr: %s\n", err.msg);
                return 1;
            }
            model = swapped;
        }
        for (size_t k = 0; k < 4; k++) {
            if (only_method && strcmp(only_method, tk_method_kind_name(KINDS[k])) != 0)
                continue;
            rc |= bench_one(MODELS[m].label, model, KINDS[k], n_reviews, peak, dataset);
        }
        tk_model_destroy(model);
    }
    return rc;
}
