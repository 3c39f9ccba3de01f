#include "support/ref_rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double ref_act(int act, double z)
{
    double v;
    switch (act) {
    case REF_RELU: return z > 0 ? z : 0;
    case REF_TANH: return tanh(z);
    case REF_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case REF_HARD_SIGMOID_K2:
        v = 0.2 * z + 0.5;
        return v < 0 ? 0 : v > 1 ? 1 : v;
    case REF_HARD_SIGMOID_K3: /* relu6(z + 3) / 6 */
        v = z + 3.0;
        v = v < 0 ? 0 : v > 6 ? 6 : v;
        return v / 6.0;
    default: return z;
    }
}

/* sum_i a[i] * W[i][col] for W (n, ld) */
static double dot_col(const double *a, int n, const float *W, int ld, int col)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * W[(size_t)i * ld + col];
    return s;
}

void ref_rnn_run(const ref_rnn *c, int T, const float *x, bool go_backwards, double *h)
{
    int U = c->units, D = c->in_dim, G = c->gru ? 3 * U : U;
    double *prev = calloc((size_t)U, sizeof *prev), *xt = malloc((size_t)D * sizeof *xt);
    double *rh = malloc((size_t)U * sizeof *rh);
    for (int s = 0; s < T; s++) {
        int t = go_backwards ? T - 1 - s : s;
        for (int i = 0; i < D; i++)
            xt[i] = x[(size_t)t * D + i];
        double *out = h + (size_t)s * U;
        if (!c->gru) {
            for (int j = 0; j < U; j++) {
                double a = dot_col(xt, D, c->kernel, G, j) + dot_col(prev, U, c->recurrent, G, j);
                if (c->bias)
                    a += c->bias[j];
                out[j] = ref_act(c->act, a);
            }
        } else {
            const float *bi = c->bias, *br = c->bias && c->reset_after ? c->bias + G : NULL;
            double z[4096], r[4096];
            for (int j = 0; j < U; j++) {
                double xz = dot_col(xt, D, c->kernel, G, j) + (bi ? bi[j] : 0);
                double xr = dot_col(xt, D, c->kernel, G, U + j) + (bi ? bi[U + j] : 0);
                double hz = dot_col(prev, U, c->recurrent, G, j) + (br ? br[j] : 0);
                double hr = dot_col(prev, U, c->recurrent, G, U + j) + (br ? br[U + j] : 0);
                z[j] = ref_act(c->rec_act, xz + hz);
                r[j] = ref_act(c->rec_act, xr + hr);
            }
            for (int j = 0; j < U; j++)
                rh[j] = r[j] * prev[j];
            for (int j = 0; j < U; j++) {
                double xh = dot_col(xt, D, c->kernel, G, 2 * U + j) + (bi ? bi[2 * U + j] : 0);
                double rec;
                if (c->reset_after)
                    rec = r[j] * (dot_col(prev, U, c->recurrent, G, 2 * U + j) + (br ? br[2 * U + j] : 0));
                else
                    rec = dot_col(rh, U, c->recurrent, G, 2 * U + j);
                double hh = ref_act(c->act, xh + rec);
                out[j] = z[j] * prev[j] + (1 - z[j]) * hh;
            }
        }
        memcpy(prev, out, (size_t)U * sizeof *prev);
    }
    free(prev);
    free(xt);
    free(rh);
}

void ref_rnn_layer(const ref_rnn *c, const ref_rnn *c2, int merge, int T, const float *x,
                   bool go_backwards, bool return_sequences, double *out)
{
    int U = c->units;
    double *h1 = malloc((size_t)T * U * sizeof *h1), *h2 = malloc((size_t)T * U * sizeof *h2);
    ref_rnn_run(c, T, x, go_backwards, h1);
    if (c2)
        ref_rnn_run(c2, T, x, !go_backwards, h2);
    int nq = return_sequences ? T : 1, C = c2 && merge == 0 ? 2 * U : U;
    for (int q = 0; q < nq; q++) {
        int s1 = return_sequences ? q : T - 1;
        int s2 = return_sequences ? T - 1 - q : T - 1; /* Keras re-reverses the backward half */
        for (int j = 0; j < U; j++) {
            double a = h1[(size_t)s1 * U + j];
            double *o = out + (size_t)q * C;
            if (!c2) {
                o[j] = a;
                continue;
            }
            double b = h2[(size_t)s2 * U + j];
            switch (merge) {
            case 0: o[j] = a; o[U + j] = b; break;
            case 1: o[j] = a + b; break;
            case 2: o[j] = (a + b) / 2; break;
            default: o[j] = a * b; break;
            }
        }
    }
    free(h1);
    free(h2);
}

void ref_batchnorm(int n, int channels, const float *x, const float *gamma, const float *beta,
                   const float *mean, const float *var, double eps, double *y)
{
    for (int i = 0; i < n; i++)
        for (int c = 0; c < channels; c++) {
            double v = ((double)x[(size_t)i * channels + c] - mean[c]) / sqrt((double)var[c] + eps);
            y[(size_t)i * channels + c] = (gamma ? gamma[c] : 1.0) * v + (beta ? beta[c] : 0.0);
        }
}
