/* Forward (and input-gradient backward) throughput of the two IMDB models,
 * as reviews/s and GFLOP/s, next to this machine's single-thread sgemm peak
 * measured in the same run (n = 2048), so the share of peak is comparable
 * across machines (PERFORMANCE.md, INFRA.md).
 *
 * usage: bench_forward [SHARED_DIR] [BATCH] [SECONDS]  (defaults: ../shared, 64, 2) */
#include <stdio.h>
#include <stdlib.h>

#include "core/gemm.h"
#include "core/paths.h"
#include "core/progress.h"
#include "model/model.h"

/* Counted multiply-adds x 2 of one review's forward pass (the GEMM work;
 * elementwise work is not counted, as in PERFORMANCE.md). */
static double forward_flops(const tk_model *m)
{
    double f = 0;
    for (int i = m->first_body_layer; i < m->n_layers; i++) {
        const tk_layer *l = &m->layers[i];
        double rows = l->out.steps > 0 ? l->out.steps : 1;
        switch (l->kind) {
        case TK_LAYER_CONV1D:
            f += 2.0 * rows * l->kernel_size * l->in.channels * l->filters;
            break;
        case TK_LAYER_DENSE:
            f += 2.0 * rows * l->in.channels * l->units;
            break;
        case TK_LAYER_LSTM:
        case TK_LAYER_BIDIRECTIONAL:
            f += (l->kind == TK_LAYER_BIDIRECTIONAL ? 2.0 : 1.0) * 2.0 * l->in.steps *
                 (double)(l->in.channels + l->units) * 4.0 * l->units;
            break;
        default:
            break;
        }
    }
    return f;
}

static double sgemm_peak(void)
{
    int n = 2048;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
    float *c = malloc(sizeof(float) * n * n);
    if (a == NULL || b == NULL || c == NULL)
        return 0;
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    tk_sgemm(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* warm-up */
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double t0 = tk_now();
        tk_sgemm(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double g = 2.0 * n * n * (double)n / (tk_now() - t0) / 1e9;
        if (g > best)
            best = g;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

static int bench(const char *shared, const char *rel, int batch, double seconds, double peak)
{
    char path[4096];
    tk_error err = {0};
    tk_model *m = NULL;
    if (!tk_shared_path(path, sizeof path, shared, rel) || tk_model_load(path, &m, &err) != TK_OK) {
        fprintf(stderr, "bench_forward: %s\n", err.msg[0] ? err.msg : "path too long");
        return 1;
    }
    int T = m->maxlen, D = m->input_dim, K = m->n_outputs;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)batch * T);
    float *x = malloc(sizeof(float) * (size_t)batch * T * D);
    float *dx = malloc(sizeof(float) * (size_t)batch * T * D);
    float *logits = malloc(sizeof(float) * (size_t)batch * K);
    tk_workspace *ws = tk_workspace_create(m, batch, T, &err);
    if (ids == NULL || x == NULL || dx == NULL || logits == NULL || ws == NULL) {
        fprintf(stderr, "bench_forward: out of memory\n");
        return 1;
    }
    uint64_t s = 1;
    for (int i = 0; i < batch * T; i++)
        ids[i] = (int32_t)(tk_model_rng_next(&s) % (uint64_t)m->vocab_size);
    tk_model_embed(m, ids, batch, T, x, &err);
    double flops = forward_flops(m);
    double rates[2] = {0, 0};
    for (int pass = 0; pass < 2; pass++) {
        long reviews = 0;
        tk_model_forward(m, ws, batch, T, x, logits, &err); /* warm-up */
        double t0 = tk_now(), t = 0;
        while ((t = tk_now() - t0) < seconds) {
            tk_model_forward(m, ws, batch, T, x, logits, &err);
            if (pass == 1) {
                for (int i = 0; i < batch * K; i++)
                    logits[i] = 1.0f;
                tk_model_backward(m, ws, logits, dx, NULL, &err);
            }
            reviews += batch;
        }
        rates[pass] = (double)reviews / t;
    }
    double gf = rates[0] * flops / 1e9;
    printf("%-22s batch %3d  forward %8.0f reviews/s  %6.2f MFLOP/review  %6.1f GFLOP/s  "
           "%5.1f%% of sgemm peak\n", rel, batch, rates[0], flops / 1e6, gf,
           peak > 0 ? 100.0 * gf / peak : 0.0);
    printf("%-22s batch %3d  forward + input-gradient backward %8.0f reviews/s\n", rel, batch,
           rates[1]);
    tk_workspace_destroy(ws);
    tk_model_destroy(m);
    free(ids);
    free(x);
    free(dx);
    free(logits);
    return 0;
}

int main(int argc, char **argv)
{
    const char *shared = argc > 1 ? argv[1] : NULL;
    int batch = argc > 2 ? atoi(argv[2]) : 64;
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    if (batch <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: bench_forward [SHARED_DIR] [BATCH] [SECONDS]\n");
        return 2;
    }
    tk_blas_single_thread();
    double peak = sgemm_peak();
    printf("sgemm peak (n = 2048, 1 thread, this run): %.1f GFLOP/s%s\n", peak,
           getenv("OPENBLAS_CORETYPE") ? " (OPENBLAS_CORETYPE set)" : "");
    int rc = bench(shared, "models/imdb_cnn.h5", batch, seconds, peak);
    rc |= bench(shared, "models/imdb_lstm.h5", batch, seconds, peak);
    return rc;
}
