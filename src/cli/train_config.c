#include "cli/train_config.h"

#include <cyaml/cyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What libcyaml parses into: pointers and counts as it wants them. Zero /
 * NULL means "not given", and tk_train_config_load puts the defaults in. */
typedef struct yaml_layer {
    int type; /* tk_layer_kind */
    int input_dim, output_dim, filters, kernel_size, pool_size, units;
    int padding;    /* 0 valid, 1 same */
    int activation; /* tk_activation */
    float rate, dropout, recurrent_dropout, l2;
    bool return_sequences;
} yaml_layer;

typedef struct yaml_optimizer {
    int name; /* tk_optim_kind */
    float learning_rate, beta_1, beta_2, rho, epsilon;
} yaml_optimizer;

typedef struct yaml_synthetic {
    int n_train, n_test, vocab_size, min_len, max_len, planted_id, n_planted;
} yaml_synthetic;

typedef struct yaml_config {
    char *name;
    int data;
    char *dataset;
    char *output;
    int num_words, maxlen;
    int target;
    yaml_layer *layers;
    unsigned layers_count;
    yaml_optimizer *optimizer;
    char *loss;
    int batch_size, epochs;
    unsigned seed;
    int validation;
    float validation_fraction;
    yaml_synthetic *synthetic;
} yaml_config;

static const cyaml_strval_t LAYER_TYPES[] = {
    {"embedding", TK_LAYER_EMBEDDING},
    {"conv1d", TK_LAYER_CONV1D},
    {"max_pooling1d", TK_LAYER_MAX_POOL1D},
    {"average_pooling1d", TK_LAYER_AVG_POOL1D},
    {"global_max_pooling1d", TK_LAYER_GLOBAL_MAX_POOL1D},
    {"global_average_pooling1d", TK_LAYER_GLOBAL_AVG_POOL1D},
    {"flatten", TK_LAYER_FLATTEN},
    {"dense", TK_LAYER_DENSE},
    {"activation", TK_LAYER_ACTIVATION},
    {"dropout", TK_LAYER_DROPOUT},
    {"lstm", TK_LAYER_LSTM},
    {"gru", TK_LAYER_GRU},
    {"simple_rnn", TK_LAYER_SIMPLE_RNN},
    {"batch_normalization", TK_LAYER_BATCH_NORM},
};
static const cyaml_strval_t ACTIVATIONS[] = {
    {"linear", TK_ACT_LINEAR}, {"relu", TK_ACT_RELU},       {"sigmoid", TK_ACT_SIGMOID},
    {"tanh", TK_ACT_TANH},     {"softmax", TK_ACT_SOFTMAX},
};
static const cyaml_strval_t PADDINGS[] = {{"valid", 0}, {"same", 1}};
static const cyaml_strval_t OPTIMIZERS[] = {
    {"adam", TK_OPTIM_ADAM}, {"rmsprop", TK_OPTIM_RMSPROP}, {"sgd", TK_OPTIM_SGD}};
static const cyaml_strval_t SOURCES[] = {{"imdb", TK_SOURCE_IMDB},
                                         {"synthetic", TK_SOURCE_SYNTHETIC}};
static const cyaml_strval_t TARGETS[] = {{"label", TK_TRAIN_TARGET_LABEL},
                                         {"rating4", TK_TRAIN_TARGET_RATING4}};
static const cyaml_strval_t VALIDATIONS[] = {
    {"test", TK_VAL_TEST}, {"holdout", TK_VAL_HOLDOUT}, {"none", TK_VAL_NONE}};

#define OPT CYAML_FLAG_OPTIONAL
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const cyaml_schema_field_t LAYER_FIELDS[] = {
    CYAML_FIELD_ENUM("type", CYAML_FLAG_DEFAULT, yaml_layer, type, LAYER_TYPES,
                     COUNT(LAYER_TYPES)),
    CYAML_FIELD_INT("input_dim", OPT, yaml_layer, input_dim),
    CYAML_FIELD_INT("output_dim", OPT, yaml_layer, output_dim),
    CYAML_FIELD_INT("filters", OPT, yaml_layer, filters),
    CYAML_FIELD_INT("kernel_size", OPT, yaml_layer, kernel_size),
    CYAML_FIELD_INT("pool_size", OPT, yaml_layer, pool_size),
    CYAML_FIELD_INT("units", OPT, yaml_layer, units),
    CYAML_FIELD_ENUM("padding", OPT, yaml_layer, padding, PADDINGS, COUNT(PADDINGS)),
    CYAML_FIELD_ENUM("activation", OPT, yaml_layer, activation, ACTIVATIONS,
                     COUNT(ACTIVATIONS)),
    CYAML_FIELD_FLOAT("rate", OPT, yaml_layer, rate),
    CYAML_FIELD_FLOAT("dropout", OPT, yaml_layer, dropout),
    CYAML_FIELD_FLOAT("recurrent_dropout", OPT, yaml_layer, recurrent_dropout),
    CYAML_FIELD_FLOAT("l2", OPT, yaml_layer, l2),
    CYAML_FIELD_BOOL("return_sequences", OPT, yaml_layer, return_sequences),
    CYAML_FIELD_END};
static const cyaml_schema_value_t LAYER_SCHEMA = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, yaml_layer, LAYER_FIELDS)};

static const cyaml_schema_field_t OPTIMIZER_FIELDS[] = {
    CYAML_FIELD_ENUM("name", CYAML_FLAG_DEFAULT, yaml_optimizer, name, OPTIMIZERS,
                     COUNT(OPTIMIZERS)),
    CYAML_FIELD_FLOAT("learning_rate", OPT, yaml_optimizer, learning_rate),
    CYAML_FIELD_FLOAT("beta_1", OPT, yaml_optimizer, beta_1),
    CYAML_FIELD_FLOAT("beta_2", OPT, yaml_optimizer, beta_2),
    CYAML_FIELD_FLOAT("rho", OPT, yaml_optimizer, rho),
    CYAML_FIELD_FLOAT("epsilon", OPT, yaml_optimizer, epsilon),
    CYAML_FIELD_END};

static const cyaml_schema_field_t SYNTHETIC_FIELDS[] = {
    CYAML_FIELD_INT("n_train", OPT, yaml_synthetic, n_train),
    CYAML_FIELD_INT("n_test", OPT, yaml_synthetic, n_test),
    CYAML_FIELD_INT("vocab_size", OPT, yaml_synthetic, vocab_size),
    CYAML_FIELD_INT("min_len", OPT, yaml_synthetic, min_len),
    CYAML_FIELD_INT("max_len", OPT, yaml_synthetic, max_len),
    CYAML_FIELD_INT("planted_id", OPT, yaml_synthetic, planted_id),
    CYAML_FIELD_INT("n_planted", OPT, yaml_synthetic, n_planted),
    CYAML_FIELD_END};

static const cyaml_schema_field_t TOP_FIELDS[] = {
    CYAML_FIELD_STRING_PTR("name", OPT, yaml_config, name, 0, 63),
    CYAML_FIELD_ENUM("data", OPT, yaml_config, data, SOURCES, COUNT(SOURCES)),
    CYAML_FIELD_STRING_PTR("dataset", OPT, yaml_config, dataset, 0, 1023),
    CYAML_FIELD_STRING_PTR("output", OPT, yaml_config, output, 0, 1023),
    CYAML_FIELD_INT("num_words", OPT, yaml_config, num_words),
    CYAML_FIELD_INT("maxlen", CYAML_FLAG_DEFAULT, yaml_config, maxlen),
    CYAML_FIELD_ENUM("target", OPT, yaml_config, target, TARGETS, COUNT(TARGETS)),
    CYAML_FIELD_SEQUENCE("layers", CYAML_FLAG_POINTER, yaml_config, layers, &LAYER_SCHEMA, 2,
                         64),
    CYAML_FIELD_MAPPING_PTR("optimizer", OPT, yaml_config, optimizer, OPTIMIZER_FIELDS),
    CYAML_FIELD_STRING_PTR("loss", OPT, yaml_config, loss, 0, 63),
    CYAML_FIELD_INT("batch_size", OPT, yaml_config, batch_size),
    CYAML_FIELD_INT("epochs", OPT, yaml_config, epochs),
    CYAML_FIELD_UINT("seed", OPT, yaml_config, seed),
    CYAML_FIELD_ENUM("validation", OPT, yaml_config, validation, VALIDATIONS,
                     COUNT(VALIDATIONS)),
    CYAML_FIELD_FLOAT("validation_fraction", OPT, yaml_config, validation_fraction),
    CYAML_FIELD_MAPPING_PTR("synthetic", OPT, yaml_config, synthetic, SYNTHETIC_FIELDS),
    CYAML_FIELD_END};
static const cyaml_schema_value_t TOP_SCHEMA = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, yaml_config, TOP_FIELDS)};

const char *tk_train_config_defaults_text(void)
{
    return "  data: imdb             (imdb | synthetic)\n"
           "  dataset: (required for imdb; --dataset overrides)\n"
           "  output: <name>.h5      (--output overrides)\n"
           "  num_words: the Embedding's input_dim\n"
           "  target: label          (label | rating4: buckets 1-2, 3-4, 7-8, 9-10)\n"
           "  optimizer: {name: adam, learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999,\n"
           "              epsilon: 1e-7}   (rmsprop: rho 0.9, epsilon 1e-7)\n"
           "  loss: from the last layer (binary_crossentropy for Dense(1, sigmoid),\n"
           "        categorical_crossentropy for Dense(C, softmax))\n"
           "  batch_size: 32, epochs: 1, seed: 1\n"
           "  validation: test       (test | holdout | none; validation_fraction: 0.1)\n"
           "  synthetic: {n_train: 2000, n_test: 1000, vocab_size: 1000, min_len: 10,\n"
           "              max_len: 40, planted_id: 7, n_planted: 1}\n";
}

/* libcyaml reports through a log callback: keep the first error and the
 * backtrace lines (which carry the key and the line) in one sentence. */
typedef struct log_capture {
    char text[TK_ERROR_MAX];
    size_t len;
} log_capture;

static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    log_capture *c = ctx;
    if (level < CYAML_LOG_ERROR || c->len + 2 >= sizeof c->text)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, args);
    /* drop "Load: " prefixes and newlines, join with "; " */
    const char *s = line;
    if (strncmp(s, "Load: ", 6) == 0)
        s += 6;
    if (strncmp(s, "Backtrace:", 10) == 0)
        return;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    while (*s == ' ' && n > 0) {
        s++;
        n--;
    }
    if (n == 0)
        return;
    int w = snprintf(c->text + c->len, sizeof c->text - c->len, "%s%.*s",
                     c->len ? "; " : "", (int)n, s);
    if (w > 0)
        c->len += (size_t)w < sizeof c->text - c->len ? (size_t)w : sizeof c->text - c->len - 1;
}

/* libcyaml places an unknown key at the line of its enclosing mapping; find
 * the key's own line (first "key:" that starts a line, a flow item or
 * follows "- ") so that the message points where the typo is. 0 if absent. */
static int find_key_line(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[4096];
    size_t klen = strlen(key);
    int lineno = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        lineno++;
        for (char *p = strstr(line, key); p; p = strstr(p + 1, key)) {
            char before = p == line ? ' ' : p[-1];
            const char *after = p + klen;
            while (*after == ' ')
                after++;
            if (strchr(" {,-", before) && *after == ':') {
                found = lineno;
                break;
            }
        }
    }
    fclose(f);
    return found;
}

void tk_train_config_destroy(tk_train_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->layers);
    free(cfg->kernel_l2);
    free(cfg);
}

static tk_status convert(const char *path, const yaml_config *y, tk_train_config *c,
                         tk_error *err)
{
    snprintf(c->name, sizeof c->name, "%s", y->name ? y->name : "model");
    c->data = (tk_train_source)y->data;
    snprintf(c->dataset, sizeof c->dataset, "%s", y->dataset ? y->dataset : "");
    if (y->output)
        snprintf(c->output, sizeof c->output, "%s", y->output);
    else
        snprintf(c->output, sizeof c->output, "%s.h5", c->name);
    c->maxlen = y->maxlen;
    c->target = (tk_train_target)y->target;
    c->batch_size = y->batch_size ? y->batch_size : 32;
    c->epochs = y->epochs ? y->epochs : 1;
    c->seed = y->seed ? y->seed : 1;
    c->validation = (tk_validation_kind)y->validation;
    c->validation_fraction = y->validation_fraction > 0 ? y->validation_fraction : 0.1;
    if (c->maxlen <= 0 || c->batch_size <= 0 || c->epochs <= 0)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: maxlen, batch_size and epochs must be positive", path);
    if (c->validation == TK_VAL_HOLDOUT &&
        !(c->validation_fraction > 0 && c->validation_fraction < 1))
        return tk_error_set(err, TK_E_INVALID, "%s: validation_fraction must be in (0, 1)",
                            path);
    if (y->loss && strcmp(y->loss, "binary_crossentropy") != 0 &&
        strcmp(y->loss, "categorical_crossentropy") != 0 &&
        strcmp(y->loss, "sparse_categorical_crossentropy") != 0)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: key 'loss': '%s' is not binary_crossentropy or "
                            "categorical_crossentropy",
                            path, y->loss);

    tk_optim_kind kind = y->optimizer ? (tk_optim_kind)y->optimizer->name : TK_OPTIM_ADAM;
    tk_optim_config_default(&c->optim, kind);
    if (y->optimizer) {
        const yaml_optimizer *o = y->optimizer;
        if (o->learning_rate < 0 || o->epsilon < 0 || o->beta_1 < 0 || o->beta_1 >= 1 ||
            o->beta_2 < 0 || o->beta_2 >= 1 || o->rho < 0 || o->rho >= 1)
            return tk_error_set(err, TK_E_INVALID,
                                "%s: optimizer: learning_rate and epsilon must be >= 0, "
                                "beta_1, beta_2 and rho in [0, 1)",
                                path);
        if (o->learning_rate > 0)
            c->optim.lr = o->learning_rate;
        if (o->beta_1 > 0)
            c->optim.beta1 = o->beta_1;
        if (o->beta_2 > 0)
            c->optim.beta2 = o->beta_2;
        if (o->rho > 0)
            c->optim.rho = o->rho;
        if (o->epsilon > 0)
            c->optim.epsilon = o->epsilon;
    }

    c->n_layers = (int)y->layers_count;
    c->layers = tk_calloc(y->layers_count, sizeof *c->layers, err);
    c->kernel_l2 = tk_calloc(y->layers_count, sizeof *c->kernel_l2, err);
    if (c->layers == NULL || c->kernel_l2 == NULL)
        return TK_E_NOMEM;
    for (unsigned i = 0; i < y->layers_count; i++) {
        const yaml_layer *l = &y->layers[i];
        tk_layer_spec *s = &c->layers[i];
        s->kind = (tk_layer_kind)l->type;
        s->input_dim = l->input_dim;
        s->output_dim = l->output_dim;
        s->filters = l->filters;
        s->kernel_size = l->kernel_size;
        s->pool_size = l->pool_size;
        s->units = l->units;
        s->padding_same = l->padding == 1;
        s->activation = (tk_activation)l->activation;
        s->rate = s->kind == TK_LAYER_LSTM ? l->dropout : l->rate;
        if (s->kind == TK_LAYER_GRU || s->kind == TK_LAYER_SIMPLE_RNN) {
            if (l->dropout != 0 || l->rate != 0)
                return tk_error_set(err, TK_E_UNSUPPORTED,
                                    "%s: layer %u: dropout is not supported for gru and "
                                    "simple_rnn (tokattr trains them without it)", path, i + 1);
            s->rate = 0;
        }
        s->return_sequences = l->return_sequences;
        if (l->l2 < 0)
            return tk_error_set(err, TK_E_INVALID, "%s: layer %u: l2 must be >= 0", path,
                                i + 1);
        c->kernel_l2[i] = l->l2;
        if (l->recurrent_dropout != 0)
            return tk_error_set(err, TK_E_UNSUPPORTED,
                                "%s: layer %u: recurrent_dropout is not supported (the "
                                "model's LSTM applies input dropout only)",
                                path, i + 1);
    }
    if (c->layers[0].kind != TK_LAYER_EMBEDDING)
        return tk_error_set(err, TK_E_INVALID, "%s: the first layer must be an embedding",
                            path);
    c->num_words = y->num_words ? y->num_words : c->layers[0].input_dim;
    if (c->num_words <= 0 || c->num_words > c->layers[0].input_dim)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: num_words %d must be in [1, the embedding's input_dim %d]",
                            path, c->num_words, c->layers[0].input_dim);

    tk_synthetic_spec_default(&c->synthetic);
    c->synthetic.seed = c->seed;
    if (y->synthetic) {
        const yaml_synthetic *s = y->synthetic;
        if (s->n_train)
            c->synthetic.n_train = s->n_train;
        if (s->n_test)
            c->synthetic.n_test = s->n_test;
        if (s->vocab_size)
            c->synthetic.vocab_size = s->vocab_size;
        if (s->min_len)
            c->synthetic.min_len = s->min_len;
        if (s->max_len)
            c->synthetic.max_len = s->max_len;
        if (s->planted_id)
            c->synthetic.planted_id = s->planted_id;
        if (s->n_planted)
            c->synthetic.n_planted = s->n_planted;
    }
    if (c->data == TK_SOURCE_SYNTHETIC && c->synthetic.vocab_size > c->num_words)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: synthetic vocab_size %d exceeds num_words %d", path,
                            c->synthetic.vocab_size, c->num_words);
    if (c->data == TK_SOURCE_SYNTHETIC && c->target != TK_TRAIN_TARGET_LABEL)
        return tk_error_set(err, TK_E_INVALID, "%s: synthetic data has only target: label",
                            path);
    return TK_OK;
}

tk_status tk_train_config_load(const char *path, tk_train_config **out, tk_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tk_error_set(err, TK_E_IO, "%s: cannot open the training config", path);
    fclose(f);
    log_capture cap = {.len = 0};
    cap.text[0] = '\0';
    cyaml_config_t config = {
        .log_fn = capture_log,
        .log_ctx = &cap,
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_DEFAULT,
    };
    yaml_config *y = NULL;
    cyaml_err_t ce = cyaml_load_file(path, &config, &TOP_SCHEMA, (cyaml_data_t **)&y, NULL);
    if (ce != CYAML_OK) {
        char key[128];
        if (sscanf(cap.text, "Unexpected key: %127[^;]", key) == 1) {
            int line = find_key_line(path, key);
            if (line > 0)
                return tk_error_set(err, TK_E_INVALID, "%s: unknown key '%s' (line %d)", path,
                                    key, line);
            return tk_error_set(err, TK_E_INVALID, "%s: unknown key '%s'", path, key);
        }
        return tk_error_set(err, TK_E_INVALID, "%s: %s", path,
                            cap.len ? cap.text : cyaml_strerror(ce));
    }
    /* An empty file (or one holding only comments) is a null document:
     * libcyaml succeeds without a struct. */
    if (y == NULL)
        return tk_error_set(err, TK_E_INVALID, "%s: the training config is empty", path);
    tk_train_config *c = tk_calloc(1, sizeof *c, err);
    tk_status st = c ? convert(path, y, c, err) : TK_E_NOMEM;
    cyaml_free(&config, &TOP_SCHEMA, y, 0);
    if (st != TK_OK) {
        tk_train_config_destroy(c);
        return st;
    }
    *out = c;
    return TK_OK;
}
