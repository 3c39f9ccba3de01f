/* Benchmark of attr2's methods: reviews/s, counted FLOPs per review
 * (tk_explainer_flops: multiply-adds x 2 of the minimal work) and the share
 * of the single-thread sgemm peak measured in the same run (n = 2048), for
 * DeepSHAP-100 on the LSTM and the CNN and epsilon-LRP on all three models.
 *
 *   bench_attr2 [--shared DIR] [--seconds S] [--only LABEL-SUBSTRING]
 *   bench_attr2 [--shared DIR] --check DATASET [--reviews N]
 *
 * --check: DeepLIFT and DeepSHAP-100 (background: the first 100 train
 * reviews) completeness on the first N (500) test reviews of a dataset made
 * by `tokattr prepare`, for the CNN and the LSTM: |δ| <= 1e-5 max(1,
 * |F(x) - E|) for every review, else exit 1 (tests/it_attr_deeplift.sh).
 *
 * Reviews: the 40 prepared test reviews of fixtures/forward.h5; background:
 * the 100 train reviews of fixtures/attributions.h5 (for the LSTM their last
 * 80 positions, which is its input length - the cost does not depend on
 * the words). Everything runs single-threaded, one process. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "core/gemm.h"
#include "core/paths.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "model/model.h"

/* The machine is shared: the peak is measured again right before each run
 * (best of `reps`), so that a run is compared with what a core gave then. */
static double sgemm_peak(int reps)
{
    int n = 2048;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
    float *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    tk_sgemm(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* warm-up */
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = tk_now();
        tk_sgemm(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = tk_now() - t0;
        best = dt < best ? dt : best;
    }
    free(a), free(b), free(c);
    return 2.0 * n * (double)n * n / best;
}

static int read_ids(const char *file, const char *path, int32_t *buf)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return -1;
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    herr_t e = d < 0 ? -1 : H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (d >= 0)
        H5Dclose(d);
    H5Fclose(f);
    return e < 0 ? -1 : 0;
}

typedef struct run {
    const char *label;
    const tk_model *model;
    tk_method_kind kind;
    const tk_background *bg;
    const int32_t *ids;   /* (n, steps) or NULL */
    const float *vectors; /* (n, steps, D) or NULL */
    int n, steps;
} run;

static int bench(const run *r, double seconds)
{
    double peak = sgemm_peak(2);
    tk_method_params p;
    tk_method_params_default(&p, r->kind);
    tk_explainer *ex = NULL;
    tk_error err = {0};
    double t0 = tk_now();
    if (tk_explainer_create(r->model, &p, r->bg, r->steps, &ex, &err) != TK_OK) {
        fprintf(stderr, "%s: %s\n", r->label, err.msg);
        return 1;
    }
    double setup = tk_now() - t0;
    float *score = malloc(sizeof(float) * r->steps);
    if (!score) {
        tk_explainer_destroy(ex);
        return 1;
    }
    int done = 0;
    double worst = 0;
    t0 = tk_now();
    do {
        int i = done % r->n;
        tk_review rv = {r->ids ? r->ids + (size_t)i * r->steps : NULL,
                        r->vectors ? r->vectors + (size_t)i * r->steps * r->model->input_dim : NULL,
                        r->steps, -1};
        tk_attribution a = {0};
        a.score = score;
        if (tk_explain(ex, &rv, &a, &err) != TK_OK) {
            fprintf(stderr, "%s: %s\n", r->label, err.msg);
            free(score);
            tk_explainer_destroy(ex);
            return 1;
        }
        double rel = fabs(a.axiom_error) / fmax(1.0, fabs(a.f_input - a.f_baseline));
        worst = rel > worst ? rel : worst;
        done++;
    } while (tk_now() - t0 < seconds || done < 3);
    double dt = tk_now() - t0;
    double flops = tk_explainer_flops(ex, r->steps);
    double rate = done / dt;
    printf("%-22s %8.1f reviews/s  %9.1f MFLOP/review  %6.1f GFLOP/s  %5.1f%% of sgemm peak (%.1f)"
           "  setup %.2f s, worst |axiom_error| / max(1, |F(x) - E|) %.1e%s\n",
           r->label, rate, flops / 1e6, flops * rate / 1e9, 100.0 * flops * rate / peak, peak / 1e9,
           setup, worst, r->kind == TK_METHOD_LRP_EPSILON ? " (LRP: absorbed by eps, bias_factor 0)" : "");
    free(score);
    tk_explainer_destroy(ex);
    return 0;
}

/* ids (n, maxlen) of the first n reviews of a split, prepared for a model. */
static int32_t *prepare_ids(const tk_split *sp, int n, int num_words, int maxlen)
{
    int32_t *out = malloc(sizeof(int32_t) * (size_t)n * maxlen);
    if (!out)
        return NULL;
    tk_input_spec spec;
    tk_input_spec_default(&spec, num_words, maxlen);
    for (int i = 0; i < n; i++)
        tk_prepare_input(&spec, sp->ids + sp->offset[i], sp->offset[i + 1] - sp->offset[i],
                         out + (size_t)i * maxlen, NULL);
    return out;
}

static int check_model(const char *label, const char *model_path, const tk_dataset *ds, int n,
                       int num_words, int maxlen)
{
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_load(model_path, &m, &err) != TK_OK) {
        fprintf(stderr, "bench_attr2: %s\n", err.msg);
        return 1;
    }
    int fails = 0;
    int32_t *bg = prepare_ids(tk_dataset_split(ds, "train", NULL), 100, num_words, maxlen);
    int32_t *ids = prepare_ids(tk_dataset_split(ds, "test", NULL), n, num_words, maxlen);
    float *score = malloc(sizeof(float) * maxlen);
    if (!bg || !ids || !score) {
        fails = 1;
        goto done;
    }
    tk_background b = {bg, NULL, 100, maxlen};
    for (int v = 0; v < 2; v++) {
        tk_method_params p;
        tk_method_params_default(&p, v ? TK_METHOD_DEEPSHAP : TK_METHOD_DEEPLIFT);
        tk_explainer *ex = NULL;
        if (tk_explainer_create(m, &p, &b, maxlen, &ex, &err) != TK_OK) {
            fprintf(stderr, "bench_attr2: %s\n", err.msg);
            fails++;
            continue;
        }
        double worst = 0, t0 = tk_now();
        int bad = 0;
        for (int i = 0; i < n; i++) {
            tk_review rv = {ids + (size_t)i * maxlen, NULL, maxlen, tk_dataset_split(ds, "test", NULL)->label[i]};
            tk_attribution a = {0};
            a.score = score;
            if (tk_explain(ex, &rv, &a, &err) != TK_OK) {
                fprintf(stderr, "bench_attr2: review %d: %s\n", i, err.msg);
                bad++;
                continue;
            }
            double tol = 1e-5 * fmax(1.0, fabs(a.f_input - a.f_baseline));
            worst = fmax(worst, fabs(a.axiom_error) / tol * 1e-5);
            if (!(fabs(a.axiom_error) <= tol)) {
                fprintf(stderr, "%s %s review %d: delta %g, F(x) - E = %g\n", label,
                        v ? "deepshap" : "deeplift", i, a.axiom_error, a.f_input - a.f_baseline);
                bad++;
            }
        }
        double dt = tk_now() - t0;
        printf("%s %-9s %d test reviews: %d over the bound, worst |delta| / max(1, |F(x) - E|) = %.2e, "
               "%.1f reviews/s\n",
               label, v ? "deepshap" : "deeplift", n, bad, worst, n / dt);
        fails += bad;
        tk_explainer_destroy(ex);
    }
done:
    free(bg);
    free(ids);
    free(score);
    tk_model_destroy(m);
    return fails ? 1 : 0;
}

static int check_dataset(const char *shared, const char *dataset, int n)
{
    char cnn_path[4096], lstm_path[4096];
    if (!tk_shared_path(cnn_path, sizeof cnn_path, shared, "models/imdb_cnn.h5") ||
        !tk_shared_path(lstm_path, sizeof lstm_path, shared, "models/imdb_lstm.h5"))
        return 1;
    tk_dataset *ds = NULL;
    tk_error err = {0};
    if (tk_dataset_read(dataset, &ds, &err) != TK_OK) {
        fprintf(stderr, "bench_attr2: %s\n", err.msg);
        return 1;
    }
    const tk_split *tr = tk_dataset_split(ds, "train", NULL), *te = tk_dataset_split(ds, "test", NULL);
    if (tr == NULL || te == NULL || te->n < n || tr->n < 100) {
        fprintf(stderr, "bench_attr2: %s has %lld test and %lld train reviews, need %d and 100\n", dataset,
                (long long)(te ? te->n : 0), (long long)(tr ? tr->n : 0), n);
        tk_dataset_destroy(ds);
        return 1;
    }
    int rc = check_model("cnn ", cnn_path, ds, n, 10000, 100);
    rc |= check_model("lstm", lstm_path, ds, n, 20000, 80);
    tk_dataset_destroy(ds);
    return rc;
}

int main(int argc, char **argv)
{
    const char *shared = NULL;
    double seconds = 3.0;
    const char *only = NULL, *dataset = NULL;
    int n_check = 500;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--shared") == 0 && i + 1 < argc)
            shared = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--check") == 0 && i + 1 < argc)
            dataset = argv[++i];
        else if (strcmp(argv[i], "--reviews") == 0 && i + 1 < argc)
            n_check = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_attr2 [--shared DIR] [--seconds S] [--only LABEL]\n"
                            "       bench_attr2 [--shared DIR] --check DATASET [--reviews N]\n");
            return 2;
        }
    }
    tk_blas_single_thread();
    if (dataset)
        return check_dataset(shared, dataset, n_check > 0 ? n_check : 500);
    printf("sgemm n=2048 single thread: %.1f GFLOP/s (measured again before each run)\n",
           sgemm_peak(3) / 1e9);

    char cnn_path[4096], lstm_path[4096], bi_path[4096], fwd[4096], attr[4096];
    if (!tk_shared_path(cnn_path, sizeof cnn_path, shared, "models/imdb_cnn.h5") ||
        !tk_shared_path(lstm_path, sizeof lstm_path, shared, "models/imdb_lstm.h5") ||
        !tk_shared_path(bi_path, sizeof bi_path, shared, "models/keras_bilstm_sst5.h5") ||
        !tk_shared_path(fwd, sizeof fwd, shared, "fixtures/forward.h5") ||
        !tk_shared_path(attr, sizeof attr, shared, "fixtures/attributions.h5")) {
        fprintf(stderr, "bench_attr2: shared path too long\n");
        return 1;
    }
    tk_model *cnn = NULL, *lstm = NULL, *bi = NULL;
    tk_error err = {0};
    static int32_t cnn_ids[40 * 100], lstm_ids[40 * 80], bg100[100 * 100], bg80[100 * 80];
    int rc = 1;
    if (tk_model_load(cnn_path, &cnn, &err) != TK_OK || tk_model_load(lstm_path, &lstm, &err) != TK_OK ||
        tk_model_load(bi_path, &bi, &err) != TK_OK) {
        fprintf(stderr, "bench_attr2: %s\n", err.msg);
        goto done;
    }
    if (read_ids(fwd, "cnn/input_ids", cnn_ids) || read_ids(fwd, "lstm/input_ids", lstm_ids) ||
        read_ids(attr, "cnn/background_input_ids", bg100)) {
        fprintf(stderr, "bench_attr2: cannot read the fixture reviews\n");
        goto done;
    }
    for (int b = 0; b < 100; b++)
        memcpy(bg80 + b * 80, bg100 + b * 100 + 20, sizeof(int32_t) * 80);
    enum { BI_N = 8, BI_T = 50 };
    static float bi_x[BI_N * BI_T * 60];
    uint64_t s = 42;
    for (size_t i = 0; i < sizeof bi_x / sizeof bi_x[0]; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        bi_x[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5) * 2.0f;
    }
    tk_background b_cnn = {bg100, NULL, 100, 100}, b_lstm = {bg80, NULL, 100, 80};
    run runs[] = {
        {"deepshap-100 lstm", lstm, TK_METHOD_DEEPSHAP, &b_lstm, lstm_ids, NULL, 40, 80},
        {"deepshap-100 cnn", cnn, TK_METHOD_DEEPSHAP, &b_cnn, cnn_ids, NULL, 40, 100},
        {"deeplift lstm", lstm, TK_METHOD_DEEPLIFT, NULL, lstm_ids, NULL, 40, 80},
        {"lrp lstm", lstm, TK_METHOD_LRP_EPSILON, NULL, lstm_ids, NULL, 40, 80},
        {"lrp cnn", cnn, TK_METHOD_LRP_EPSILON, NULL, cnn_ids, NULL, 40, 100},
        {"lrp bilstm (T=50)", bi, TK_METHOD_LRP_EPSILON, NULL, NULL, bi_x, BI_N, BI_T},
    };
    rc = 0;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        if (!only || strstr(runs[i].label, only))
            rc |= bench(&runs[i], seconds);
done:
    tk_model_destroy(cnn);
    tk_model_destroy(lstm);
    tk_model_destroy(bi);
    return rc;
}
