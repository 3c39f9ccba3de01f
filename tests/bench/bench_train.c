/* Seconds per training epoch of the two reference architectures (a fraction
 * of an epoch on random ids, extrapolated to 25,000 reviews) and the share
 * of the machine's sgemm peak, measured in the same run.
 * usage: bench_train [cnn_batches] [lstm_batches] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/gemm.h"
#include "core/progress.h"
#include "model/build.h"
#include "model/init.h"
#include "model/train.h"

enum { EPOCH_REVIEWS = 25000 };

/* GFLOP/s of one large square sgemm, best of 3. */
static double sgemm_peak(void)
{
    const int n = 2048;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
    float *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return 0;
    }
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = tk_now();
        tk_sgemm(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = tk_now() - t0;
        if (t < best)
            best = t;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * n * n * (double)n / best / 1e9;
}

static int run(const char *name, const tk_layer_spec *specs, int n_specs, int maxlen, int vocab,
               int batch, int n_batches, double flop_per_review, double peak)
{
    tk_error err = {0};
    tk_model *m = NULL;
    tk_train_data *d = NULL;
    int64_t n = (int64_t)batch * n_batches;
    if (tk_model_build(specs, n_specs, maxlen, &m, &err) != TK_OK ||
        tk_model_init_keras(m, 1, &err) != TK_OK)
        goto fail;
    d = calloc(1, sizeof *d);
    if (d == NULL)
        goto fail;
    d->n = n;
    d->steps = maxlen;
    d->ids = malloc(sizeof(int32_t) * (size_t)n * maxlen);
    d->y = malloc(sizeof(int32_t) * (size_t)n);
    if (!d->ids || !d->y)
        goto fail;
    uint64_t st = 3;
    for (int64_t i = 0; i < n * maxlen; i++)
        d->ids[i] = 4 + (int32_t)tk_rng_below(&st, (uint64_t)vocab - 4);
    for (int64_t i = 0; i < n; i++)
        d->y[i] = (int32_t)(i & 1);
    tk_train_options opt;
    tk_train_options_default(&opt);
    opt.batch_size = batch;
    tk_epoch_stats last;
    clock_t c0 = clock();
    if (tk_train(m, &opt, d, NULL, &last, &err) != TK_OK)
        goto fail;
    /* CPU time too: on a shared machine wall time measures the neighbours. */
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    double per_review = last.seconds / (double)n;
    double gflops = flop_per_review / per_review / 1e9;
    printf("%-4s batch %4d: %lld reviews in %.2f s (%.2f s CPU) -> %.1f s per epoch of %d "
           "reviews (%.1f s CPU); %.1f GFLOP/s = %.0f%% of the sgemm peak\n",
           name, batch, (long long)n, last.seconds, cpu, per_review * EPOCH_REVIEWS,
           EPOCH_REVIEWS, cpu / (double)n * EPOCH_REVIEWS, gflops, 100.0 * gflops / peak);
    tk_train_data_destroy(d);
    tk_model_destroy(m);
    return 0;
fail:
    fprintf(stderr, "bench_train %s: %s\n", name, err.msg);
    tk_train_data_destroy(d);
    tk_model_destroy(m);
    return 1;
}

int main(int argc, char **argv)
{
    int cnn_batches = argc > 1 ? atoi(argv[1]) : 10;
    int lstm_batches = argc > 2 ? atoi(argv[2]) : 40;
    tk_blas_single_thread();
    double peak = sgemm_peak();
    printf("sgemm peak (2048^3, one thread, wall clock like the runs below): %.1f GFLOP/s\n",
           peak);
    /* configs/cnn_imdb.yaml */
    const tk_layer_spec cnn[] = {
        {.kind = TK_LAYER_EMBEDDING, .input_dim = 10000, .output_dim = 50},
        {.kind = TK_LAYER_CONV1D, .filters = 250, .kernel_size = 3, .activation = TK_ACT_RELU},
        {.kind = TK_LAYER_DROPOUT, .rate = 0.4f},
        {.kind = TK_LAYER_GLOBAL_MAX_POOL1D},
        {.kind = TK_LAYER_DENSE, .units = 250, .activation = TK_ACT_RELU},
        {.kind = TK_LAYER_DROPOUT, .rate = 0.4f},
        {.kind = TK_LAYER_DENSE, .units = 2, .activation = TK_ACT_SOFTMAX},
    };
    /* configs/lstm_imdb.yaml */
    const tk_layer_spec lstm[] = {
        {.kind = TK_LAYER_EMBEDDING, .input_dim = 20000, .output_dim = 128},
        {.kind = TK_LAYER_LSTM, .units = 128, .rate = 0.2f},
        {.kind = TK_LAYER_DENSE, .units = 1, .activation = TK_ACT_SIGMOID},
    };
    /* Counted GEMM work per review, forward + the two backward products
     * (input and weight gradients): 3 x the forward multiply-adds x 2.
     * CNN: conv 98 x (3 x 50) x 250, dense 250 x 250 + 250 x 2.
     * LSTM: input 80 x 128 x 512, recurrent 80 x 128 x 512, dense 128. */
    double cnn_flop = 3.0 * 2.0 * (98.0 * 150 * 250 + 250.0 * 250 + 250.0 * 2);
    double lstm_flop = 3.0 * 2.0 * (80.0 * 128 * 512 * 2 + 128.0);
    int rc = run("cnn", cnn, 7, 100, 10000, 256, cnn_batches, cnn_flop, peak);
    rc |= run("lstm", lstm, 3, 80, 20000, 32, lstm_batches, lstm_flop, peak);
    return rc;
}
