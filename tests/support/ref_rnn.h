/* An independent float64 reference for SimpleRNN, GRU and
 * BatchNormalization, written straight from the Keras equations with plain
 * loops (keras/src/layers/rnn/simple_rnn.py, gru.py, normalization/
 * batch_normalization.py). It shares no code or types with src/: weights
 * are plain row-major float arrays as Keras stores them. */
#ifndef TOKATTR_TESTS_REF_RNN_H
#define TOKATTR_TESTS_REF_RNN_H

#include <stdbool.h>

enum ref_act { REF_LINEAR, REF_RELU, REF_TANH, REF_SIGMOID, REF_HARD_SIGMOID_K2, REF_HARD_SIGMOID_K3 };

typedef struct ref_rnn {
    bool gru;            /* else SimpleRNN */
    int in_dim, units;
    int act;             /* SimpleRNN activation, GRU candidate activation */
    int rec_act;         /* GRU gates */
    bool reset_after;    /* GRU; bias then (2, 3 units) */
    const float *kernel;    /* (in_dim, G), G = units or 3 units (z, r, h) */
    const float *recurrent; /* (units, G) */
    const float *bias;      /* (G) or (2, G); NULL without bias */
} ref_rnn;

double ref_act(int act, double z);

/* One direction over x (T, in_dim), read backwards when go_backwards:
 * h (T, units) the hidden state of every processing step. */
void ref_rnn_run(const ref_rnn *c, int T, const float *x, bool go_backwards, double *h);

/* A Keras layer's output: (T or 1, units or 2 units). bidirectional: a
 * second direction c2 over the reversed input, its sequence re-reversed,
 * merged by merge: 0 concat, 1 sum, 2 ave, 3 mul. */
void ref_rnn_layer(const ref_rnn *c, const ref_rnn *c2, int merge, int T, const float *x,
                   bool go_backwards, bool return_sequences, double *out);

/* BatchNormalization at inference over rows (n, channels); gamma or beta
 * may be NULL (scale / center false). */
void ref_batchnorm(int n, int channels, const float *x, const float *gamma, const float *beta,
                   const float *mean, const float *var, double eps, double *y);

#endif
