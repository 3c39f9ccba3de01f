/* Training a built model (tk_model_build + tk_model_init_keras) on token-id
 * matrices: mini-batch loop, losses, optimiser, per-epoch figures. The
 * forward and backward passes are the model module's (model.h); this file
 * adds the loss, the Embedding's row gradients and L2 terms. */
#ifndef TOKATTR_MODEL_TRAIN_H
#define TOKATTR_MODEL_TRAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "model/model.h"
#include "model/optim.h"

/* What a review's class is. */
typedef enum tk_train_target {
    TK_TRAIN_TARGET_LABEL,  /* 0 neg, 1 pos */
    TK_TRAIN_TARGET_RATING4 /* rating buckets 1-2, 3-4, 7-8, 9-10 -> 0..3 */
} tk_train_target;

/* Prepared inputs and classes of a split. */
typedef struct tk_train_data {
    int64_t n;
    int steps;
    int32_t *ids; /* (n, steps) model input ids */
    int32_t *y;   /* (n) class index */
} tk_train_data;

/* split -> model input with tk_prepare_input; rows in split order. */
tk_status tk_train_data_from_split(const tk_split *split, const tk_input_spec *spec,
                                   tk_train_target target, tk_train_data **out, tk_error *err);
/* Moves the last `fraction` of the rows (after a seeded shuffle) into *held:
 * Keras' validation_split, but shuffled first because our rows are sorted
 * by label. */
tk_status tk_train_data_hold_out(tk_train_data *data, double fraction, uint64_t seed,
                                 tk_train_data **held, tk_error *err);
void tk_train_data_destroy(tk_train_data *data); /* NULL is fine */

typedef struct tk_epoch_stats {
    int epoch;        /* 1-based */
    double loss;      /* mean training loss over the epoch (with dropout, L2 included) */
    double accuracy;  /* training accuracy over the epoch (with dropout) */
    double val_loss;  /* NaN without validation data */
    double val_accuracy;
    double seconds;   /* training part of the epoch (validation excluded) */
    double val_seconds;
} tk_epoch_stats;

typedef struct tk_train_options {
    int epochs;
    int batch_size;
    uint64_t seed;          /* shuffling and dropout masks */
    tk_optim_config optim;
    const float *kernel_l2; /* (model->n_layers) L2 factor per layer's kernel, or NULL */
    FILE *progress;         /* progress bar within each epoch, or NULL */
    /* Called after every epoch (may be NULL); the library prints nothing. */
    void (*on_epoch)(const tk_epoch_stats *stats, void *ctx);
    void *ctx;
    /* Stop after this many batches per epoch (0 = all): benchmarks. */
    int64_t max_batches;
} tk_train_options;

void tk_train_options_default(tk_train_options *opt);

/* Trains model in place. val may be NULL. last (may be NULL) gets the final
 * epoch's figures. */
tk_status tk_train(tk_model *model, const tk_train_options *opt, const tk_train_data *train,
                   const tk_train_data *val, tk_epoch_stats *last, tk_error *err);

/* Mean loss and accuracy in inference mode. Keras' rules: one sigmoid
 * output -> binary cross-entropy, p > 0.5 is class 1; otherwise softmax
 * categorical cross-entropy and arg-max (ties to the lower class). */
tk_status tk_train_evaluate(const tk_model *model, const tk_train_data *data, int batch_size,
                            double *loss, double *accuracy, tk_error *err);

/* The training loss of n rows in inference mode (no dropout), mean
 * cross-entropy plus the L2 terms, and its gradient w.r.t. every parameter,
 * Embedding rows included. ids (n, steps), y (n), grad (model->n_params),
 * laid out like model->params. For gradient checks. */
tk_status tk_train_loss_grad(const tk_model *model, const int32_t *ids, const int32_t *y,
                             int n, int steps, const float *kernel_l2, float *grad,
                             double *loss, tk_error *err);

#endif
