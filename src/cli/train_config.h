/* The YAML file of `tokattr train` (the files in configs/), parsed with libcyaml
 * into one struct. Defaults live in tk_train_config_load (one place);
 * `tokattr train --help` prints them. */
#ifndef TOKATTR_CLI_TRAIN_CONFIG_H
#define TOKATTR_CLI_TRAIN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "data/synthetic.h"
#include "model/build.h"
#include "model/optim.h"
#include "model/train.h"

typedef enum tk_train_source { TK_SOURCE_IMDB, TK_SOURCE_SYNTHETIC } tk_train_source;
typedef enum tk_validation_kind { TK_VAL_TEST, TK_VAL_HOLDOUT, TK_VAL_NONE } tk_validation_kind;

typedef struct tk_train_config {
    char name[64];
    tk_train_source data;
    char dataset[1024];     /* dataset file of `tokattr prepare` (imdb) */
    char output[1024];      /* the Keras .h5 to write */
    int num_words;          /* ids >= num_words -> OOV; default: the Embedding's input_dim */
    int maxlen;
    tk_train_target target;
    int n_layers;
    tk_layer_spec *layers;  /* (n_layers) */
    float *kernel_l2;       /* (n_layers) L2 factor of each layer's kernel, 0 = none */
    tk_optim_config optim;
    int batch_size;
    int epochs;
    uint64_t seed;
    tk_validation_kind validation;
    double validation_fraction; /* TK_VAL_HOLDOUT */
    tk_synthetic_spec synthetic;
} tk_train_config;

/* Reads and checks path. Unknown keys, wrong types and bad values give
 * TK_E_INVALID with a message naming the file, the key and its line. */
tk_status tk_train_config_load(const char *path, tk_train_config **out, tk_error *err);
void tk_train_config_destroy(tk_train_config *cfg); /* NULL is fine */

/* The defaults, one per line, for --help. */
const char *tk_train_config_defaults_text(void);

#endif
