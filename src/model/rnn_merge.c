/* How a recurrent layer's per-step hidden states become its output, and
 * the output gradient goes back to them: one place for every recurrent
 * kind (LSTM, GRU, SimpleRNN, each alone or inside Bidirectional). */
#include <string.h>

#include "model/layer_ops.h"

void tk_rnn_merge_forward(const tk_layer *l, int batch, int steps, const float *hidden0,
                          const float *hidden1, float *y)
{
    int U = l->units, Tq = l->return_sequences ? steps : 1;
    int C = hidden1 != NULL && l->merge_mode == TK_MERGE_CONCAT ? 2 * U : U;
    for (int b = 0; b < batch; b++)
        for (int q = 0; q < Tq; q++) {
            float *out = y + ((size_t)b * Tq + q) * C;
            const float *h0 = hidden0 + ((size_t)tk_rnn_step_of_output(l, 0, q, steps) * batch + b) * U;
            if (hidden1 == NULL) {
                memcpy(out, h0, (size_t)U * sizeof *out);
                continue;
            }
            const float *h1 = hidden1 + ((size_t)tk_rnn_step_of_output(l, 1, q, steps) * batch + b) * U;
            for (int j = 0; j < U; j++) {
                switch (l->merge_mode) {
                case TK_MERGE_CONCAT: out[j] = h0[j]; out[U + j] = h1[j]; break;
                case TK_MERGE_SUM: out[j] = h0[j] + h1[j]; break;
                case TK_MERGE_AVE: out[j] = 0.5f * (h0[j] + h1[j]); break;
                case TK_MERGE_MUL: out[j] = h0[j] * h1[j]; break;
                }
            }
        }
}

void tk_rnn_merge_backward(const tk_layer *l, int batch, int steps, const float *hidden0,
                           const float *hidden1, const float *dy, float *dH)
{
    int U = l->units, Tq = l->return_sequences ? steps : 1, nd = hidden1 != NULL ? 2 : 1;
    int C = nd == 2 && l->merge_mode == TK_MERGE_CONCAT ? 2 * U : U;
    size_t tb = (size_t)batch * steps;
    memset(dH, 0, (size_t)nd * tb * U * sizeof *dH);
    for (int b = 0; b < batch; b++)
        for (int q = 0; q < Tq; q++) {
            const float *g = dy + ((size_t)b * Tq + q) * C;
            int s0 = tk_rnn_step_of_output(l, 0, q, steps);
            float *g0 = dH + ((size_t)s0 * batch + b) * U;
            if (nd == 1) {
                for (int j = 0; j < U; j++)
                    g0[j] += g[j];
                continue;
            }
            int s1 = tk_rnn_step_of_output(l, 1, q, steps);
            float *g1 = dH + tb * U + ((size_t)s1 * batch + b) * U;
            const float *h0 = hidden0 + ((size_t)s0 * batch + b) * U;
            const float *h1 = hidden1 + ((size_t)s1 * batch + b) * U;
            for (int j = 0; j < U; j++) {
                switch (l->merge_mode) {
                case TK_MERGE_CONCAT: g0[j] += g[j]; g1[j] += g[U + j]; break;
                case TK_MERGE_SUM: g0[j] += g[j]; g1[j] += g[j]; break;
                case TK_MERGE_AVE: g0[j] += 0.5f * g[j]; g1[j] += 0.5f * g[j]; break;
                case TK_MERGE_MUL: g0[j] += g[j] * h1[j]; g1[j] += g[j] * h0[j]; break;
                }
            }
        }
}
