/* Keras 2 optimisers over one flat parameter buffer. Dense semantics: every
 * parameter (embedding rows included) is updated every step, and moments of
 * rows without gradient decay, as Keras/TF do for an Embedding. */
#ifndef TOKATTR_MODEL_OPTIM_H
#define TOKATTR_MODEL_OPTIM_H

#include <stddef.h>

#include "core/status.h"

typedef enum tk_optim_kind { TK_OPTIM_SGD, TK_OPTIM_ADAM, TK_OPTIM_RMSPROP } tk_optim_kind;

typedef struct tk_optim_config {
    tk_optim_kind kind;
    float lr;      /* Keras default 0.001 (Adam, RMSprop), 0.01 (SGD) */
    float beta1;   /* Adam, 0.9 */
    float beta2;   /* Adam, 0.999 */
    float rho;     /* RMSprop, 0.9 */
    float epsilon; /* 1e-7 */
} tk_optim_config;

/* Keras' defaults for kind. */
void tk_optim_config_default(tk_optim_config *cfg, tk_optim_kind kind);
/* "adam", "rmsprop", "sgd"; NULL for anything else. */
const char *tk_optim_name(tk_optim_kind kind);

typedef struct tk_optim tk_optim;

tk_optim *tk_optim_create(const tk_optim_config *cfg, size_t n_params, tk_error *err);
void tk_optim_destroy(tk_optim *opt);

/* One update. params (n_params), grad (n_params).
 * Adam (Kingma & Ba 2015, Alg. 1 with the "efficient" ordering Keras uses):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   lr_t = lr sqrt(1 - b2^t) / (1 - b1^t);  p -= lr_t m / (sqrt(v) + eps)
 * RMSprop (Keras, no momentum, not centred):
 *   s = rho s + (1 - rho) g^2;  p -= lr g / (sqrt(s) + eps)
 * SGD: p -= lr g. */
void tk_optim_step(tk_optim *opt, float *params, const float *grad);

/* Steps taken so far. */
long tk_optim_iterations(const tk_optim *opt);

#endif
