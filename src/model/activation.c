#include "model/activation.h"

#include <float.h>

/* The same formulas in double (LRP's recomputed traces, the explained
 * scalar); linear and softmax give z. */
double tk_act_value_d(tk_activation act, double z)
{
    if (act == TK_ACT_SIGMOID)
        return 1.0 / (1.0 + exp(-z));
    if (act == TK_ACT_TANH)
        return tanh(z);
    if (act == TK_ACT_RELU)
        return z > 0.0 ? z : 0.0;
    if (act == TK_ACT_HARD_SIGMOID)
        return fmin(fmax(0.2 * z + 0.5, 0.0), 1.0);
    if (act == TK_ACT_HARD_SIGMOID_K3)
        return fmin(fmax(z / 6.0 + 0.5, 0.0), 1.0);
    return z;
}

double tk_act_grad(tk_activation act, double z)
{
    switch (act) {
    case TK_ACT_RELU: return z > 0.0 ? 1.0 : 0.0;
    case TK_ACT_SIGMOID: {
        double s = tk_act_value_d(act, z);
        return s * (1.0 - s);
    }
    case TK_ACT_HARD_SIGMOID: return (z > -2.5 && z < 2.5) ? 0.2 : 0.0;
    case TK_ACT_HARD_SIGMOID_K3: return (z > -3.0 && z < 3.0) ? 1.0 / 6.0 : 0.0;
    case TK_ACT_TANH: {
        double t = tanh(z);
        return 1.0 - t * t;
    }
    case TK_ACT_LINEAR:
    case TK_ACT_SOFTMAX: break;
    }
    return 1.0;
}

void tk_act_forward(tk_activation act, float *y, size_t rows, int n)
{
    size_t total = rows * (size_t)n;
    switch (act) {
    case TK_ACT_LINEAR: break;
    case TK_ACT_RELU:
        for (size_t i = 0; i < total; i++)
            y[i] = tk_reluf(y[i]);
        break;
    case TK_ACT_SIGMOID:
        for (size_t i = 0; i < total; i++)
            y[i] = tk_sigmoidf(y[i]);
        break;
    case TK_ACT_HARD_SIGMOID:
        for (size_t i = 0; i < total; i++)
            y[i] = tk_hard_sigmoidf(y[i]);
        break;
    case TK_ACT_HARD_SIGMOID_K3:
        for (size_t i = 0; i < total; i++)
            y[i] = tk_hard_sigmoid_k3f(y[i]);
        break;
    case TK_ACT_TANH:
        for (size_t i = 0; i < total; i++)
            y[i] = tanhf(y[i]);
        break;
    case TK_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            float *v = y + r * (size_t)n;
            float mx = -FLT_MAX;
            for (int j = 0; j < n; j++)
                mx = fmaxf(mx, v[j]);
            double sum = 0.0;
            for (int j = 0; j < n; j++) {
                v[j] = expf(v[j] - mx);
                sum += v[j];
            }
            for (int j = 0; j < n; j++)
                v[j] = (float)(v[j] / sum);
        }
        break;
    }
}

void tk_act_backward(tk_activation act, const float *y, const float *dy, float *dz, size_t rows,
                     int n)
{
    size_t total = rows * (size_t)n;
    switch (act) {
    case TK_ACT_LINEAR:
        if (dz != dy)
            memmove(dz, dy, total * sizeof *dz);
        break;
    case TK_ACT_RELU:
        for (size_t i = 0; i < total; i++)
            dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case TK_ACT_SIGMOID:
        for (size_t i = 0; i < total; i++)
            dz[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case TK_ACT_HARD_SIGMOID:
        for (size_t i = 0; i < total; i++)
            dz[i] = (y[i] > 0.0f && y[i] < 1.0f) ? 0.2f * dy[i] : 0.0f;
        break;
    case TK_ACT_HARD_SIGMOID_K3:
        for (size_t i = 0; i < total; i++)
            dz[i] = dy[i] * tk_act_grad_from_output(act, y[i]);
        break;
    case TK_ACT_TANH:
        for (size_t i = 0; i < total; i++)
            dz[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case TK_ACT_SOFTMAX:
        /* dz_j = y_j (dy_j - sum_k dy_k y_k): the softmax Jacobian. */
        for (size_t r = 0; r < rows; r++) {
            const float *v = y + r * (size_t)n, *g = dy + r * (size_t)n;
            float *o = dz + r * (size_t)n;
            double dot = 0.0;
            for (int j = 0; j < n; j++)
                dot += (double)g[j] * v[j];
            for (int j = 0; j < n; j++)
                o[j] = v[j] * (float)(g[j] - dot);
        }
        break;
    }
}

