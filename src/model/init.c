#include "model/init.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/layer_ops.h"

void tk_init_uniform(float *w, size_t count, float limit, uint64_t *state)
{
    for (size_t i = 0; i < count; i++)
        w[i] = (2.0f * tk_rng_uniform(state) - 1.0f) * limit;
}

void tk_init_glorot_uniform(float *w, size_t count, double fan_in, double fan_out,
                            uint64_t *state)
{
    tk_init_uniform(w, count, (float)sqrt(6.0 / (fan_in + fan_out)), state);
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

tk_status tk_model_init_keras(tk_model *model, uint64_t seed, tk_error *err)
{
    uint64_t state = seed;
    for (int i = 0; i < model->n_layers; i++) {
        tk_layer *l = &model->layers[i];
        const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
        tk_status st = ops->init ? ops->init(l, &state, err) : TK_OK;
        if (st != TK_OK)
            return st;
    }
    return TK_OK;
}
