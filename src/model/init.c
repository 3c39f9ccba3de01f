#include "model/init.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t tk_rng_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

float tk_rng_uniform(uint64_t *state)
{
    return (float)(tk_rng_u64(state) >> 40) * (1.0f / 16777216.0f);
}

double tk_rng_normal(uint64_t *state)
{
    /* 53-bit uniforms; u1 in (0, 1] so that log never sees 0. */
    double u1 = ((double)(tk_rng_u64(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(tk_rng_u64(state) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t tk_rng_below(uint64_t *state, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = tk_rng_u64(state);
    while (r >= limit);
    return r % n;
}

static void fill_uniform(float *w, size_t count, float limit, uint64_t *state)
{
    for (size_t i = 0; i < count; i++)
        w[i] = (2.0f * tk_rng_uniform(state) - 1.0f) * limit;
}

void tk_init_glorot_uniform(float *w, size_t count, double fan_in, double fan_out,
                            uint64_t *state)
{
    fill_uniform(w, count, (float)sqrt(6.0 / (fan_in + fan_out)), state);
}

tk_status tk_init_orthogonal(float *w, int rows, int cols, uint64_t *state, tk_error *err)
{
    if (rows > cols)
        return tk_error_set(err, TK_E_INTERNAL,
                            "init.c: orthogonal init needs rows <= cols, got (%d, %d)", rows,
                            cols);
    double *q = tk_malloc((size_t)rows * (size_t)cols, sizeof *q, err); /* (rows, cols) */
    if (q == NULL)
        return err ? err->status : TK_E_NOMEM;
    for (int r = 0; r < rows; r++) {
        double *v = q + (size_t)r * cols;
        for (;;) {
            for (int c = 0; c < cols; c++)
                v[c] = tk_rng_normal(state);
            for (int p = 0; p < r; p++) {
                const double *u = q + (size_t)p * cols;
                double dot = 0;
                for (int c = 0; c < cols; c++)
                    dot += u[c] * v[c];
                for (int c = 0; c < cols; c++)
                    v[c] -= dot * u[c];
            }
            double norm = 0;
            for (int c = 0; c < cols; c++)
                norm += v[c] * v[c];
            norm = sqrt(norm);
            if (norm > 1e-6) { /* a degenerate draw is astronomically rare: redraw */
                for (int c = 0; c < cols; c++)
                    v[c] /= norm;
                break;
            }
        }
    }
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
        w[i] = (float)q[i];
    free(q);
    return TK_OK;
}

static tk_status init_lstm(tk_lstm_weights *lw, int in_dim, int units, uint64_t *state,
                           tk_error *err)
{
    tk_init_glorot_uniform(lw->kernel, (size_t)in_dim * 4 * units, in_dim, 4.0 * units, state);
    tk_status st = tk_init_orthogonal(lw->recurrent, units, 4 * units, state, err);
    if (st != TK_OK)
        return st;
    if (lw->bias) {
        memset(lw->bias, 0, sizeof(float) * 4 * (size_t)units);
        for (int u = 0; u < units; u++)
            lw->bias[units + u] = 1.0f; /* unit_forget_bias: gate block f */
    }
    return TK_OK;
}

/* SimpleRNN / GRU direction: kernel glorot_uniform, recurrent orthogonal,
 * bias zero (both rows for reset_after). G = units or 3 units. */
static tk_status init_rnn(tk_rnn_weights *w, int in_dim, int units, int g, bool two_rows,
                          uint64_t *state, tk_error *err)
{
    tk_init_glorot_uniform(w->kernel, (size_t)in_dim * g, in_dim, g, state);
    tk_status st = tk_init_orthogonal(w->recurrent, units, g, state, err);
    if (st == TK_OK && w->bias)
        memset(w->bias, 0, sizeof(float) * (size_t)g * (two_rows ? 2 : 1));
    return st;
}

/* Issue 16's kinds: false when l is none of them. */
static bool init_new_kind(tk_layer *l, uint64_t *state, tk_status *st, tk_error *err)
{
    int dirs = tk_layer_rnn_dirs(l);
    bool gru = l->kind == TK_LAYER_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
    if (l->kind == TK_LAYER_BATCH_NORM) {
        for (int c = 0; c < l->input_dim; c++) {
            if (l->bn_gamma)
                l->bn_gamma[c] = 1.0f;
            if (l->bn_beta)
                l->bn_beta[c] = 0.0f;
            l->bn_mean[c] = 0.0f;
            l->bn_var[c] = 1.0f;
        }
        return true;
    }
    if (dirs == 0 || l->kind == TK_LAYER_LSTM || l->kind == TK_LAYER_BIDIRECTIONAL)
        return false;
    int g = gru ? 3 * l->units : l->units;
    for (int d = 0; d < dirs && *st == TK_OK; d++)
        *st = init_rnn(&l->rnn[d], l->in.channels, l->units, g, gru && l->reset_after, state, err);
    return true;
}

tk_status tk_model_init_keras(tk_model *model, uint64_t seed, tk_error *err)
{
    uint64_t state = seed;
    for (int i = 0; i < model->n_layers; i++) {
        tk_layer *l = &model->layers[i];
        tk_status st = TK_OK;
        if (init_new_kind(l, &state, &st, err)) {
            if (st != TK_OK)
                return st;
            continue;
        }
        switch (l->kind) {
        case TK_LAYER_EMBEDDING:
            fill_uniform(l->embeddings, (size_t)l->input_dim * l->output_dim, 0.05f, &state);
            break;
        case TK_LAYER_DENSE:
            tk_init_glorot_uniform(l->kernel, (size_t)l->in.channels * l->units,
                                   l->in.channels, l->units, &state);
            if (l->bias)
                memset(l->bias, 0, sizeof(float) * (size_t)l->units);
            break;
        case TK_LAYER_CONV1D:
            tk_init_glorot_uniform(l->kernel,
                                   (size_t)l->kernel_size * l->in.channels * l->filters,
                                   (double)l->kernel_size * l->in.channels,
                                   (double)l->kernel_size * l->filters, &state);
            if (l->bias)
                memset(l->bias, 0, sizeof(float) * (size_t)l->filters);
            break;
        case TK_LAYER_LSTM:
            st = init_lstm(&l->lstm[0], l->in.channels, l->units, &state, err);
            break;
        case TK_LAYER_BIDIRECTIONAL:
            st = init_lstm(&l->lstm[0], l->in.channels, l->units, &state, err);
            if (st == TK_OK)
                st = init_lstm(&l->lstm[1], l->in.channels, l->units, &state, err);
            break;
        default:
            break;
        }
        if (st != TK_OK)
            return st;
    }
    return TK_OK;
}
