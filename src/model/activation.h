/* The element-wise activations of Keras layers, in one place: forward,
 * derivative from the output and derivative from the input, in float (the
 * passes) and double (the rules of DeepLIFT and LRP, the explained scalar).
 *
 * One formula each: sigmoid(z) = 1 / (1 + exp(-z)) (exp(-z) = inf gives 0,
 * never NaN); hard_sigmoid(z) = clip(0.2 z + 0.5, 0, 1) (old Keras LSTM
 * default); tanh from libm, except the recurrent cells' tk_tanh_cell, which
 * trades the last bit for one expf (glibc's tanhf was 13% of an LSTM
 * forward pass). The _vec variants at the end are the same formulas over a
 * branch-free exp, for loops that must vectorise (the IG LSTM fast path). */
#ifndef TOKATTR_MODEL_ACTIVATION_H
#define TOKATTR_MODEL_ACTIVATION_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model/model.h"

/* The float formulas, inline so that the passes' loops keep them in
 * registers (and vectorise relu). */
static inline float tk_sigmoidf(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

static inline float tk_hard_sigmoidf(float z)
{
    return fminf(fmaxf(0.2f * z + 0.5f, 0.0f), 1.0f);
}

static inline float tk_reluf(float z)
{
    return z > 0.0f ? z : 0.0f;
}

/* Keras 3's hard_sigmoid: relu6(z + 3) / 6 = clip(z / 6 + 0.5, 0, 1). */
static inline float tk_hard_sigmoid_k3f(float z)
{
    return fminf(fmaxf(z / 6.0f + 0.5f, 0.0f), 1.0f);
}

/* act(z) for one value; softmax is not element-wise and gives z. */
static inline float tk_act_value(tk_activation act, float z)
{
    switch (act) {
    case TK_ACT_RELU: return tk_reluf(z);
    case TK_ACT_SIGMOID: return tk_sigmoidf(z);
    case TK_ACT_HARD_SIGMOID: return tk_hard_sigmoidf(z);
    case TK_ACT_HARD_SIGMOID_K3: return tk_hard_sigmoid_k3f(z);
    case TK_ACT_TANH: return tanhf(z);
    case TK_ACT_LINEAR:
    case TK_ACT_SOFTMAX: break;
    }
    return z;
}

double tk_act_value_d(tk_activation act, double z);

/* act'(z) from the input z (double: DeepLIFT's rescale at Δz -> 0);
 * softmax gives 1. */
double tk_act_grad(tk_activation act, double z);

/* act'(.) of one element-wise activation from its output y (relu and the
 * hard sigmoids: 0 at the kinks), as tk_act_backward uses it; softmax and
 * linear give 1. Inline: the recurrent cells call it per element. */
static inline float tk_act_grad_from_output(tk_activation act, float y)
{
    switch (act) {
    case TK_ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case TK_ACT_SIGMOID: return y * (1.0f - y);
    case TK_ACT_HARD_SIGMOID: return (y > 0.0f && y < 1.0f) ? 0.2f : 0.0f;
    case TK_ACT_HARD_SIGMOID_K3: return (y > 0.0f && y < 1.0f) ? 1.0f / 6.0f : 0.0f;
    case TK_ACT_TANH: return 1.0f - y * y;
    case TK_ACT_LINEAR:
    case TK_ACT_SOFTMAX: break;
    }
    return 1.0f;
}

/* In place over y (rows, n): y = act(y); softmax per row of n. */
void tk_act_forward(tk_activation act, float *y, size_t rows, int n);

/* dz = dy * act'(.) from the activated values y (rows, n), the derivative
 * from the output; dz may alias dy. */
void tk_act_backward(tk_activation act, const float *y, const float *dy, float *dz, size_t rows,
                     int n);

/* tanh of an LSTM cell: one expf, absolute error below 1e-7, odd by
 * construction. The model's LSTM and every rule that needs the value the
 * forward pass used call this. */
static inline float tk_tanh_cell(float v)
{
    float e = expf(-2.0f * fabsf(v));
    return copysignf((1.0f - e) / (1.0f + e), v);
}

/* exp(x) for float, branch-free so that gate loops vectorise (libm's expf
 * does not): Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, and a
 * degree-6 Taylor polynomial, relative error < 2e-7. */
static inline float tk_exp_vec(float x)
{
    /* Ternaries, not fminf/fmaxf: those are libm calls here and stop vectorisation. */
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float k = (x * 1.44269504f + magic) - magic;
    float r = x - k * 0.693145752f - k * 1.42860677e-06f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f +
              r * (0.00833333377f + r * 0.00138888892f)))));
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float tk_sigmoid_vec(float v)
{
    return 1.0f / (1.0f + tk_exp_vec(-v));
}

/* clip(0.2 v + 0.5, 0, 1) with ternaries: fminf/fmaxf are libm calls
 * where they stop vectorisation. */
static inline float tk_hard_sigmoid_vec(float v)
{
    float y = 0.2f * v + 0.5f;
    y = y < 0.0f ? 0.0f : y;
    return y > 1.0f ? 1.0f : y;
}

/* 1 - 2 / (exp(2v) + 1): exact limits +-1, no cancellation problem for the
 * |v| where tanh is not already +-1 in float. */
static inline float tk_tanh_vec(float v)
{
    return 1.0f - 2.0f / (tk_exp_vec(2.0f * v) + 1.0f);
}

#endif
