/* Keras model_config JSON <-> layer configs. The attribute is untrusted:
 * every key is looked up with its type checked, and anything tokattr does
 * not compute exactly as Keras would is refused with the layer, its class,
 * the option and what is supported. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/keras_config.h"
#include "model/model_build.h"

enum { MAX_LAYERS = 4096, MAX_DIM = 1 << 24 };

static const char *const ACTIVATIONS[] = {
    [TK_ACT_LINEAR] = "linear",   [TK_ACT_RELU] = "relu", [TK_ACT_SIGMOID] = "sigmoid",
    [TK_ACT_HARD_SIGMOID] = "hard_sigmoid", [TK_ACT_TANH] = "tanh", [TK_ACT_SOFTMAX] = "softmax",
    [TK_ACT_HARD_SIGMOID_K3] = "hard_sigmoid", /* never parsed: see tk_model_apply_keras_version */
};
static const char *const MERGES[] = {"concat", "sum", "ave", "mul"};

const char *tk_activation_name(tk_activation act)
{
    return (unsigned)act < sizeof ACTIVATIONS / sizeof *ACTIVATIONS ? ACTIVATIONS[act] : "?";
}

/* Where we are, for messages: "file: layer 'x' (Class)". */
typedef struct where {
    const char *path;
    const tk_layer *l;
} where;

static tk_status bad(const where *w, tk_error *err, tk_status st, const char *what)
{
    return tk_error_set(err, st, "%s: layer '%s' (%s): %s", w->path, w->l->name,
                        w->l->class_name, what);
}

static tk_status get_int(const where *w, const cJSON *cfg, const char *key, int dflt, int lo,
                         int hi, int *out, tk_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    char msg[256];
    if (v == NULL || cJSON_IsNull(v)) {
        if (dflt < lo) {
            snprintf(msg, sizeof msg, "option '%s' is missing", key);
            return bad(w, err, TK_E_FORMAT, msg);
        }
        *out = dflt;
        return TK_OK;
    }
    /* Keras writes 1-D sizes as one-element lists: kernel_size [3]. */
    if (cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) != 1) {
            snprintf(msg, sizeof msg, "option '%s' must have one value (1-D layers only)", key);
            return bad(w, err, TK_E_UNSUPPORTED, msg);
        }
        v = cJSON_GetArrayItem(v, 0);
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        snprintf(msg, sizeof msg, "option '%s' must be an integer in [%d, %d]", key, lo, hi);
        return bad(w, err, TK_E_FORMAT, msg);
    }
    *out = (int)v->valuedouble;
    return TK_OK;
}

static tk_status get_bool(const where *w, const cJSON *cfg, const char *key, bool dflt,
                          bool *out, tk_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (v == NULL || cJSON_IsNull(v)) {
        *out = dflt;
        return TK_OK;
    }
    if (!cJSON_IsBool(v)) {
        char msg[160];
        snprintf(msg, sizeof msg, "option '%s' must be true or false", key);
        return bad(w, err, TK_E_FORMAT, msg);
    }
    *out = cJSON_IsTrue(v);
    return TK_OK;
}

static tk_status get_float(const where *w, const cJSON *cfg, const char *key, float *out,
                           tk_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (v == NULL || cJSON_IsNull(v)) {
        *out = 0.0f;
        return TK_OK;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0 && v->valuedouble < 1.0)) {
        char msg[160];
        snprintf(msg, sizeof msg, "option '%s' must be a number in [0, 1)", key);
        return bad(w, err, TK_E_FORMAT, msg);
    }
    *out = (float)v->valuedouble;
    return TK_OK;
}

/* A string option that must be one of allowed[] (count n); *out its index. */
static tk_status get_choice(const where *w, const cJSON *cfg, const char *key, const char *dflt,
                            const char *const *allowed, int n, int *out, tk_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    const char *s = dflt;
    char msg[512];
    if (v != NULL && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v)) {
            snprintf(msg, sizeof msg, "option '%s' must be a string", key);
            return bad(w, err, TK_E_UNSUPPORTED, msg);
        }
        s = v->valuestring;
    }
    if (s == NULL) {
        snprintf(msg, sizeof msg, "option '%s' is missing", key);
        return bad(w, err, TK_E_FORMAT, msg);
    }
    for (int i = 0; i < n; i++)
        if (allowed[i] != NULL && strcmp(s, allowed[i]) == 0) {
            *out = i;
            return TK_OK;
        }
    int len = snprintf(msg, sizeof msg, "%s '%.64s' is not supported (supported:", key, s);
    for (int i = 0; i < n && len > 0 && (size_t)len < sizeof msg; i++)
        if (allowed[i] != NULL)
            len += snprintf(msg + len, sizeof msg - (size_t)len, " %s", allowed[i]);
    if (len > 0 && (size_t)len < sizeof msg - 2)
        snprintf(msg + len, sizeof msg - (size_t)len, ")");
    return bad(w, err, TK_E_UNSUPPORTED, msg);
}

static tk_status get_activation(const where *w, const cJSON *cfg, const char *key,
                                const char *dflt, tk_activation *out, tk_error *err)
{
    int i = 0;
    tk_status st = get_choice(w, cfg, key, dflt, ACTIVATIONS, 6, &i, err);
    *out = (tk_activation)i;
    return st;
}

/* An option that must have a given string value if present. */
static tk_status require_str(const where *w, const cJSON *cfg, const char *key, const char *only,
                             tk_error *err)
{
    int i;
    const char *allowed[1] = {only};
    return get_choice(w, cfg, key, only, allowed, 1, &i, err);
}

static tk_status require_false(const where *w, const cJSON *cfg, const char *key, tk_error *err)
{
    bool b = false;
    tk_status st = get_bool(w, cfg, key, false, &b, err);
    if (st == TK_OK && b) {
        char msg[160];
        snprintf(msg, sizeof msg, "option %s = true is not supported (supported: false)", key);
        return bad(w, err, TK_E_UNSUPPORTED, msg);
    }
    return st;
}

#define TRY(expr)                   \
    do {                            \
        tk_status st_ = (expr);     \
        if (st_ != TK_OK)           \
            return st_;             \
    } while (0)

static tk_status parse_lstm(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    tk_activation act;
    int impl;
    TRY(get_int(w, c, "units", -1, 1, MAX_DIM, &l->units, err));
    TRY(get_activation(w, c, "activation", "tanh", &act, err));
    char msg[200];
    if (act != TK_ACT_TANH) {
        snprintf(msg, sizeof msg, "activation '%s' is not supported for LSTM (supported: tanh)",
                 tk_activation_name(act));
        return bad(w, err, TK_E_UNSUPPORTED, msg);
    }
    l->activation = act;
    TRY(get_activation(w, c, "recurrent_activation", "hard_sigmoid", &act, err));
    if (act != TK_ACT_SIGMOID && act != TK_ACT_HARD_SIGMOID) {
        snprintf(msg, sizeof msg,
                 "recurrent_activation '%s' is not supported (supported: sigmoid hard_sigmoid)",
                 tk_activation_name(act));
        return bad(w, err, TK_E_UNSUPPORTED, msg);
    }
    l->recurrent_activation = act;
    TRY(get_bool(w, c, "use_bias", true, &l->use_bias, err));
    TRY(get_bool(w, c, "return_sequences", false, &l->return_sequences, err));
    TRY(get_bool(w, c, "go_backwards", false, &l->go_backwards, err));
    TRY(require_false(w, c, "return_state", err));
    TRY(require_false(w, c, "stateful", err));
    TRY(require_false(w, c, "time_major", err));
    TRY(get_float(w, c, "dropout", &l->dropout_rate, err));
    /* recurrent_dropout acts only in training: the identity at inference. */
    float rd;
    TRY(get_float(w, c, "recurrent_dropout", &rd, err));
    TRY(get_int(w, c, "implementation", 2, 1, 2, &impl, err));
    return TK_OK;
}

/* ---- issue 16: SimpleRNN, GRU, BatchNormalization, inference-identity layers ---- */

/* The options SimpleRNN and GRU share with LSTM. */
static tk_status parse_rnn_common(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    static const char *const CELL_ACTS[] = {"linear", "relu", "sigmoid", NULL, "tanh"};
    int act, impl;
    float rd;
    TRY(get_int(w, c, "units", -1, 1, MAX_DIM, &l->units, err));
    TRY(get_choice(w, c, "activation", "tanh", CELL_ACTS, 5, &act, err));
    l->activation = (tk_activation)act;
    TRY(get_bool(w, c, "use_bias", true, &l->use_bias, err));
    TRY(get_bool(w, c, "return_sequences", false, &l->return_sequences, err));
    TRY(get_bool(w, c, "go_backwards", false, &l->go_backwards, err));
    TRY(require_false(w, c, "return_state", err));
    TRY(require_false(w, c, "stateful", err));
    TRY(require_false(w, c, "time_major", err));
    /* dropout and recurrent_dropout act only in training: the identity at inference */
    TRY(get_float(w, c, "dropout", &l->dropout_rate, err));
    TRY(get_float(w, c, "recurrent_dropout", &rd, err));
    return get_int(w, c, "implementation", 2, 0, 2, &impl, err);
}

static tk_status parse_simple_rnn(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    return parse_rnn_common(w, c, l, err);
}

/* reset_after: absent in configs of Keras < 2.1.4, whose GRU was the
 * reset-before variant; tf.keras 2 and Keras 3 write it (default true). */
static tk_status parse_gru(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    tk_activation act;
    TRY(parse_rnn_common(w, c, l, err));
    TRY(get_activation(w, c, "recurrent_activation", "hard_sigmoid", &act, err));
    if (act != TK_ACT_SIGMOID && act != TK_ACT_HARD_SIGMOID) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "recurrent_activation '%s' is not supported (supported: sigmoid hard_sigmoid)",
                 tk_activation_name(act));
        return bad(w, err, TK_E_UNSUPPORTED, msg);
    }
    l->recurrent_activation = act;
    return get_bool(w, c, "reset_after", false, &l->reset_after, err);
}

static tk_status parse_batch_norm(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    const cJSON *axis = cJSON_GetObjectItemCaseSensitive(c, "axis");
    if (cJSON_IsArray(axis) && cJSON_GetArraySize(axis) == 1)
        axis = cJSON_GetArrayItem(axis, 0);
    if (axis == NULL || cJSON_IsNull(axis))
        l->bn_axis = -1;
    else if (cJSON_IsNumber(axis) && axis->valuedouble == floor(axis->valuedouble) &&
             (axis->valuedouble == -1 || (axis->valuedouble >= 1 && axis->valuedouble <= 2)))
        l->bn_axis = (int)axis->valuedouble;
    else
        return bad(w, err, TK_E_UNSUPPORTED,
                   "option axis is not supported (supported: -1, the channel axis)");
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(c, "epsilon");
    l->bn_epsilon = 1e-3f;
    if (eps != NULL && !cJSON_IsNull(eps)) {
        if (!cJSON_IsNumber(eps) || !(eps->valuedouble > 0.0 && eps->valuedouble < 1.0))
            return bad(w, err, TK_E_FORMAT, "option 'epsilon' must be a number in (0, 1)");
        l->bn_epsilon = (float)eps->valuedouble;
    }
    TRY(get_bool(w, c, "center", true, &l->bn_center, err));
    TRY(get_bool(w, c, "scale", true, &l->bn_scale, err));
    TRY(require_false(w, c, "renorm", err));
    const cJSON *vb = cJSON_GetObjectItemCaseSensitive(c, "virtual_batch_size");
    if (vb != NULL && !cJSON_IsNull(vb))
        return bad(w, err, TK_E_UNSUPPORTED,
                   "option virtual_batch_size is not supported (supported: null)");
    return TK_OK;
}

/* A non-negative number option (stddev, l1, l2: not limited to [0, 1)). */
static tk_status get_nonneg(const where *w, const cJSON *cfg, const char *key, float *out,
                            tk_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    *out = 0.0f;
    if (v == NULL || cJSON_IsNull(v))
        return TK_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0 && v->valuedouble < 1e30)) {
        char msg[160];
        snprintf(msg, sizeof msg, "option '%s' must be a non-negative number", key);
        return bad(w, err, TK_E_FORMAT, msg);
    }
    *out = (float)v->valuedouble;
    return TK_OK;
}

/* GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization: the
 * identity at inference, kept as a Dropout of rate 0 (model.h). */
static tk_status parse_identity(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    l->dropout_rate = 0.0f;
    if (strcmp(l->class_name, "GaussianNoise") == 0) {
        l->identity_class = TK_IDENTITY_GAUSSIAN_NOISE;
        return get_nonneg(w, c, "stddev", &l->identity_args[0], err);
    }
    if (strcmp(l->class_name, "ActivityRegularization") == 0) {
        l->identity_class = TK_IDENTITY_ACTIVITY_REGULARIZATION;
        TRY(get_nonneg(w, c, "l1", &l->identity_args[0], err));
        return get_nonneg(w, c, "l2", &l->identity_args[1], err);
    }
    l->identity_class = strcmp(l->class_name, "AlphaDropout") == 0 ? TK_IDENTITY_ALPHA_DROPOUT
                                                                     : TK_IDENTITY_GAUSSIAN_DROPOUT;
    return get_float(w, c, "rate", &l->identity_args[0], err);
}

/* One parser per Keras class; all alias names map to the same kind. */
typedef tk_status (*parse_fn)(const where *w, const cJSON *c, tk_layer *l, tk_error *err);

static tk_status parse_none(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    (void)w;
    (void)c;
    (void)l;
    (void)err;
    return TK_OK;
}

static tk_status parse_embedding(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    TRY(get_int(w, c, "input_dim", -1, 1, MAX_DIM, &l->input_dim, err));
    TRY(get_int(w, c, "output_dim", -1, 1, MAX_DIM, &l->output_dim, err));
    return require_false(w, c, "mask_zero", err);
}

static tk_status parse_conv(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    static const char *const PAD[] = {"valid", "same"};
    int pad, groups;
    TRY(get_int(w, c, "filters", -1, 1, MAX_DIM, &l->filters, err));
    TRY(get_int(w, c, "kernel_size", -1, 1, 4096, &l->kernel_size, err));
    TRY(get_int(w, c, "strides", 1, 1, 4096, &l->strides, err));
    TRY(get_int(w, c, "dilation_rate", 1, 1, 4096, &l->dilation, err));
    TRY(get_choice(w, c, "padding", "valid", PAD, 2, &pad, err));
    l->padding_same = pad == 1;
    TRY(get_int(w, c, "groups", 1, 1, 1, &groups, err));
    TRY(require_str(w, c, "data_format", "channels_last", err));
    TRY(get_activation(w, c, "activation", "linear", &l->activation, err));
    return get_bool(w, c, "use_bias", true, &l->use_bias, err);
}

static tk_status parse_pool(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    static const char *const PAD[] = {"valid", "same"};
    int pad;
    TRY(get_int(w, c, "pool_size", 2, 1, 4096, &l->pool_size, err));
    TRY(get_int(w, c, "strides", l->pool_size, 1, 4096, &l->pool_strides, err));
    TRY(get_choice(w, c, "padding", "valid", PAD, 2, &pad, err));
    l->pool_padding_same = pad == 1;
    return require_str(w, c, "data_format", "channels_last", err);
}

static tk_status parse_global(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    (void)l;
    TRY(require_false(w, c, "keepdims", err));
    return require_str(w, c, "data_format", "channels_last", err);
}

static tk_status parse_dense(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    TRY(get_int(w, c, "units", -1, 1, MAX_DIM, &l->units, err));
    TRY(get_activation(w, c, "activation", "linear", &l->activation, err));
    return get_bool(w, c, "use_bias", true, &l->use_bias, err);
}

static tk_status parse_activation(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    return get_activation(w, c, "activation", NULL, &l->activation, err);
}

static tk_status parse_dropout(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(c, "noise_shape");
    if (ns != NULL && !cJSON_IsNull(ns))
        return bad(w, err, TK_E_UNSUPPORTED, "option noise_shape is not supported (supported: null)");
    return get_float(w, c, "rate", &l->dropout_rate, err);
}

static tk_status parse_spatial_dropout(const where *w, const cJSON *c, tk_layer *l,
                                       tk_error *err)
{
    l->dropout_spatial = true;
    return get_float(w, c, "rate", &l->dropout_rate, err);
}

static tk_status parse_bidirectional(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    int merge = 0;
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(c, "layer");
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(inner, "class_name");
    const cJSON *icfg = cJSON_GetObjectItemCaseSensitive(inner, "config");
    if (!cJSON_IsString(cls) || !cJSON_IsObject(icfg))
        return bad(w, err, TK_E_FORMAT, "option 'layer' must be an object with class_name and config");
    const char *dflt_name = "lstm";
    if (strcmp(cls->valuestring, "GRU") == 0) {
        l->kind = TK_LAYER_BIDIRECTIONAL_GRU;
        dflt_name = "gru";
    } else if (strcmp(cls->valuestring, "SimpleRNN") == 0) {
        l->kind = TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN;
        dflt_name = "simple_rnn";
    } else if (strcmp(cls->valuestring, "LSTM") != 0) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "wrapped layer class '%.64s' is not supported (supported: LSTM GRU SimpleRNN)",
                 cls->valuestring);
        return bad(w, err, TK_E_UNSUPPORTED, msg);
    }
    const cJSON *iname = cJSON_GetObjectItemCaseSensitive(icfg, "name");
    snprintf(l->inner_name, sizeof l->inner_name, "%s",
             cJSON_IsString(iname) ? iname->valuestring : dflt_name);
    if (l->kind == TK_LAYER_BIDIRECTIONAL_GRU)
        TRY(parse_gru(w, icfg, l, err));
    else if (l->kind == TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN)
        TRY(parse_simple_rnn(w, icfg, l, err));
    else
        TRY(parse_lstm(w, icfg, l, err));
    TRY(get_choice(w, c, "merge_mode", "concat", MERGES, 4, &merge, err));
    l->merge_mode = (tk_merge_mode)merge;
    return TK_OK;
}

typedef struct class_entry {
    const char *name;
    tk_layer_kind kind;
    parse_fn parse;
} class_entry;

static const class_entry CLASSES[] = {
    {"InputLayer", TK_LAYER_INPUT, parse_none},
    {"Embedding", TK_LAYER_EMBEDDING, parse_embedding},
    {"Conv1D", TK_LAYER_CONV1D, parse_conv},
    {"Convolution1D", TK_LAYER_CONV1D, parse_conv},
    {"MaxPooling1D", TK_LAYER_MAX_POOL1D, parse_pool},
    {"MaxPool1D", TK_LAYER_MAX_POOL1D, parse_pool},
    {"AveragePooling1D", TK_LAYER_AVG_POOL1D, parse_pool},
    {"AvgPool1D", TK_LAYER_AVG_POOL1D, parse_pool},
    {"GlobalMaxPooling1D", TK_LAYER_GLOBAL_MAX_POOL1D, parse_global},
    {"GlobalMaxPool1D", TK_LAYER_GLOBAL_MAX_POOL1D, parse_global},
    {"GlobalAveragePooling1D", TK_LAYER_GLOBAL_AVG_POOL1D, parse_global},
    {"GlobalAvgPool1D", TK_LAYER_GLOBAL_AVG_POOL1D, parse_global},
    {"Flatten", TK_LAYER_FLATTEN, parse_none},
    {"Dense", TK_LAYER_DENSE, parse_dense},
    {"Activation", TK_LAYER_ACTIVATION, parse_activation},
    {"Dropout", TK_LAYER_DROPOUT, parse_dropout},
    {"SpatialDropout1D", TK_LAYER_DROPOUT, parse_spatial_dropout},
    {"LSTM", TK_LAYER_LSTM, parse_lstm},
    {"Bidirectional", TK_LAYER_BIDIRECTIONAL, parse_bidirectional},
    {"SimpleRNN", TK_LAYER_SIMPLE_RNN, parse_simple_rnn},
    {"GRU", TK_LAYER_GRU, parse_gru},
    {"BatchNormalization", TK_LAYER_BATCH_NORM, parse_batch_norm},
    {"GaussianNoise", TK_LAYER_DROPOUT, parse_identity},
    {"GaussianDropout", TK_LAYER_DROPOUT, parse_identity},
    {"AlphaDropout", TK_LAYER_DROPOUT, parse_identity},
    {"ActivityRegularization", TK_LAYER_DROPOUT, parse_identity},
};
enum { N_CLASSES = sizeof CLASSES / sizeof CLASSES[0] };

/* The first class name of a kind: what the writer puts in model_config. */
static const char *class_of_kind(const tk_layer *l)
{
    if (l->kind == TK_LAYER_DROPOUT && l->dropout_spatial)
        return "SpatialDropout1D";
    static const char *const IDENTITY[] = {
        [TK_IDENTITY_GAUSSIAN_NOISE] = "GaussianNoise",
        [TK_IDENTITY_GAUSSIAN_DROPOUT] = "GaussianDropout",
        [TK_IDENTITY_ALPHA_DROPOUT] = "AlphaDropout",
        [TK_IDENTITY_ACTIVITY_REGULARIZATION] = "ActivityRegularization",
    };
    if (l->kind == TK_LAYER_DROPOUT && l->identity_class > 0 &&
        l->identity_class <= TK_IDENTITY_ACTIVITY_REGULARIZATION)
        return IDENTITY[l->identity_class];
    if (l->kind == TK_LAYER_BIDIRECTIONAL_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN)
        return "Bidirectional";
    for (int i = 0; i < N_CLASSES; i++)
        if (CLASSES[i].kind == l->kind)
            return CLASSES[i].name;
    return "?";
}

/* batch_input_shape [null, T] (ids) or [null, T, D] (vectors); null T is any length. */
static tk_status parse_input_shape(const where *w, const cJSON *c, bool ids, int *maxlen,
                                   int *input_dim, tk_error *err)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "batch_input_shape");
    if (s == NULL || cJSON_IsNull(s))
        return TK_OK;
    int n = cJSON_IsArray(s) ? cJSON_GetArraySize(s) : -1;
    if (n != (ids ? 2 : 3))
        return bad(w, err, TK_E_UNSUPPORTED,
                   ids ? "batch_input_shape must be [batch, steps] for token ids"
                       : "batch_input_shape must be [batch, steps, channels]");
    const cJSON *t = cJSON_GetArrayItem(s, 1);
    if (cJSON_IsNull(t))
        *maxlen = 0;
    else if (cJSON_IsNumber(t) && t->valuedouble >= 1 && t->valuedouble <= MAX_DIM)
        *maxlen = (int)t->valuedouble;
    else
        return bad(w, err, TK_E_FORMAT, "batch_input_shape has a bad length");
    if (!ids) {
        const cJSON *d = cJSON_GetArrayItem(s, 2);
        if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > MAX_DIM)
            return bad(w, err, TK_E_FORMAT, "batch_input_shape has a bad channel count");
        *input_dim = (int)d->valuedouble;
    }
    return TK_OK;
}

/* Functional models: layer i must take exactly layer i-1's output. */
static tk_status check_chain(const char *path, const cJSON *layer, const char *prev,
                             const char *name, tk_error *err)
{
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(layer, "inbound_nodes");
    if (prev == NULL)
        return TK_OK;
    const cJSON *node = cJSON_IsArray(nodes) && cJSON_GetArraySize(nodes) == 1
                            ? cJSON_GetArrayItem(nodes, 0) : NULL;
    const cJSON *first = cJSON_IsArray(node) && cJSON_GetArraySize(node) == 1
                             ? cJSON_GetArrayItem(node, 0) : NULL;
    const cJSON *src = cJSON_IsArray(first) ? cJSON_GetArrayItem(first, 0) : NULL;
    if (!cJSON_IsString(src) || strcmp(src->valuestring, prev) != 0)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "%s: layer '%s' does not take exactly the output of '%s': only "
                            "models forming a single chain are supported", path, name, prev);
    return TK_OK;
}

tk_status tk_keras_parse_config(const char *json, const char *path, tk_model **out,
                                tk_error *err)
{
    *out = NULL;
    tk_status st = TK_OK;
    tk_layer *layers = NULL;
    cJSON *root = cJSON_Parse(json);
    if (root == NULL)
        return tk_error_set(err, TK_E_FORMAT, "%s: model_config is not valid JSON", path);
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "class_name");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
    bool functional = false;
    if (!cJSON_IsString(cls)) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: model_config has no class_name", path);
        goto done;
    }
    if (strcmp(cls->valuestring, "Model") == 0 || strcmp(cls->valuestring, "Functional") == 0) {
        functional = true;
    } else if (strcmp(cls->valuestring, "Sequential") != 0) {
        st = tk_error_set(err, TK_E_UNSUPPORTED,
                          "%s: model class '%.64s' is not supported (supported: Sequential, "
                          "Model, Functional)", path, cls->valuestring);
        goto done;
    }
    /* Keras <= 2.1 wrote a Sequential config as the bare list of layers. */
    const cJSON *list = cJSON_IsArray(cfg) ? cfg : cJSON_GetObjectItemCaseSensitive(cfg, "layers");
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : -1;
    if (n <= 0 || n > MAX_LAYERS) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: model_config has no list of layers", path);
        goto done;
    }
    layers = tk_calloc((size_t)n, sizeof *layers, err);
    if (layers == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    int count = 0, maxlen = 0, input_dim = 0;
    const char *prev = NULL;
    for (int i = 0; i < n; i++) {
        const cJSON *item = cJSON_GetArrayItem(list, i);
        const cJSON *lcls = cJSON_GetObjectItemCaseSensitive(item, "class_name");
        const cJSON *lcfg = cJSON_GetObjectItemCaseSensitive(item, "config");
        const cJSON *lname = cJSON_GetObjectItemCaseSensitive(lcfg, "name");
        if (!cJSON_IsString(lcls) || !cJSON_IsObject(lcfg) || !cJSON_IsString(lname)) {
            st = tk_error_set(err, TK_E_FORMAT,
                              "%s: layer %d of model_config lacks class_name, config or name",
                              path, i);
            goto done;
        }
        tk_layer *l = &layers[count];
        memset(l, 0, sizeof *l);
        snprintf(l->name, sizeof l->name, "%s", lname->valuestring);
        snprintf(l->class_name, sizeof l->class_name, "%s", lcls->valuestring);
        where w = {path, l};
        if (functional && (st = check_chain(path, item, prev, l->name, err)) != TK_OK)
            goto done;
        prev = lname->valuestring;
        const class_entry *ce = NULL;
        for (int k = 0; k < N_CLASSES; k++)
            if (strcmp(CLASSES[k].name, l->class_name) == 0)
                ce = &CLASSES[k];
        if (ce == NULL) {
            st = tk_error_set(err, TK_E_UNSUPPORTED,
                              "%s: layer '%s' has class '%s', which is not supported "
                              "(supported: InputLayer Embedding Conv1D MaxPooling1D "
                              "AveragePooling1D GlobalMaxPooling1D GlobalAveragePooling1D "
                              "Flatten Dense Activation Dropout SpatialDropout1D LSTM "
                              "Bidirectional SimpleRNN GRU BatchNormalization GaussianNoise "
                              "GaussianDropout AlphaDropout ActivityRegularization)",
                              path, l->name, l->class_name);
            goto done;
        }
        l->kind = ce->kind;
        if ((st = ce->parse(&w, lcfg, l, err)) != TK_OK)
            goto done;
        /* The input shape: on the InputLayer, or on the first real layer. */
        bool ids = ce->kind == TK_LAYER_EMBEDDING;
        if (ce->kind == TK_LAYER_INPUT) {
            const cJSON *nx = cJSON_GetArrayItem(list, i + 1);
            const cJSON *nc = cJSON_GetObjectItemCaseSensitive(nx, "class_name");
            ids = cJSON_IsString(nc) && strcmp(nc->valuestring, "Embedding") == 0;
        }
        if (count == 0 && (st = parse_input_shape(&w, lcfg, ids, &maxlen, &input_dim, err)) != TK_OK)
            goto done;
        if (ce->kind == TK_LAYER_EMBEDDING) {
            int len = 0;
            if ((st = get_int(&w, lcfg, "input_length", 0, 0, MAX_DIM, &len, err)) != TK_OK)
                goto done;
            if (len > 0)
                maxlen = len;
            if (count != 0) {
                st = bad(&w, err, TK_E_UNSUPPORTED, "an Embedding must be the first layer");
                goto done;
            }
        }
        if (ce->kind != TK_LAYER_INPUT)
            count++;
    }
    if (count == 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: model_config has no layers to compute", path);
        goto done;
    }
    if (layers[0].kind != TK_LAYER_EMBEDDING && input_dim <= 0) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: the model has no Embedding and no batch_input_shape giving its "
                          "input channels", path);
        goto done;
    }
    st = tk_model_from_layers(layers, count, maxlen, input_dim, out, err);
    if (st != TK_OK)
        tk_error_prefix(err, "%s", path);
done:
    free(layers);
    cJSON_Delete(root);
    return st;
}

/* ---- writer ---- */

static cJSON *layer_config(const tk_model *m, const tk_layer *l, int index);

static void add_act(cJSON *c, const char *key, tk_activation a)
{
    cJSON_AddStringToObject(c, key, tk_activation_name(a));
}

static void add_list1(cJSON *c, const char *key, int v)
{
    cJSON *a = cJSON_AddArrayToObject(c, key);
    if (a != NULL)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v));
}

static void add_lstm(cJSON *c, const tk_layer *l)
{
    cJSON_AddBoolToObject(c, "return_sequences", l->return_sequences);
    cJSON_AddBoolToObject(c, "return_state", false);
    cJSON_AddBoolToObject(c, "go_backwards", l->go_backwards);
    cJSON_AddBoolToObject(c, "stateful", false);
    cJSON_AddBoolToObject(c, "unroll", false);
    cJSON_AddBoolToObject(c, "time_major", false);
    cJSON_AddNumberToObject(c, "units", l->units);
    add_act(c, "activation", TK_ACT_TANH);
    add_act(c, "recurrent_activation", l->recurrent_activation);
    cJSON_AddBoolToObject(c, "use_bias", l->use_bias);
    cJSON_AddBoolToObject(c, "unit_forget_bias", true);
    cJSON_AddNumberToObject(c, "dropout", l->dropout_rate);
    cJSON_AddNumberToObject(c, "recurrent_dropout", 0.0);
    cJSON_AddNumberToObject(c, "implementation", 2);
}

/* SimpleRNN and GRU options, as tf.keras writes them. */
static void add_rnn(cJSON *c, const tk_layer *l)
{
    bool gru = l->kind == TK_LAYER_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
    cJSON_AddBoolToObject(c, "return_sequences", l->return_sequences);
    cJSON_AddBoolToObject(c, "return_state", false);
    cJSON_AddBoolToObject(c, "go_backwards", l->go_backwards);
    cJSON_AddBoolToObject(c, "stateful", false);
    cJSON_AddBoolToObject(c, "unroll", false);
    cJSON_AddBoolToObject(c, "time_major", false);
    cJSON_AddNumberToObject(c, "units", l->units);
    add_act(c, "activation", l->activation);
    if (gru)
        add_act(c, "recurrent_activation", l->recurrent_activation);
    cJSON_AddBoolToObject(c, "use_bias", l->use_bias);
    cJSON_AddNumberToObject(c, "dropout", l->dropout_rate);
    cJSON_AddNumberToObject(c, "recurrent_dropout", 0.0);
    if (gru) {
        cJSON_AddNumberToObject(c, "implementation", 2);
        cJSON_AddBoolToObject(c, "reset_after", l->reset_after);
    }
}

/* Issue 16's layers; false when l is none of them. */
static bool add_new_layer(cJSON *c, const tk_layer *l)
{
    switch (l->kind) {
    case TK_LAYER_SIMPLE_RNN:
    case TK_LAYER_GRU:
        add_rnn(c, l);
        return true;
    case TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN:
    case TK_LAYER_BIDIRECTIONAL_GRU: {
        bool gru = l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
        cJSON *inner = cJSON_AddObjectToObject(c, "layer");
        cJSON_AddStringToObject(inner, "class_name", gru ? "GRU" : "SimpleRNN");
        cJSON *ic = cJSON_AddObjectToObject(inner, "config");
        cJSON_AddStringToObject(ic, "name",
                                l->inner_name[0] ? l->inner_name : gru ? "gru" : "simple_rnn");
        cJSON_AddBoolToObject(ic, "trainable", true);
        cJSON_AddStringToObject(ic, "dtype", "float32");
        add_rnn(ic, l);
        cJSON_AddStringToObject(c, "merge_mode", MERGES[l->merge_mode]);
        return true;
    }
    case TK_LAYER_BATCH_NORM:
        cJSON_AddNumberToObject(c, "axis", l->bn_axis != 0 ? l->bn_axis : -1);
        cJSON_AddNumberToObject(c, "momentum", 0.99);
        cJSON_AddNumberToObject(c, "epsilon", l->bn_epsilon);
        cJSON_AddBoolToObject(c, "center", l->bn_center);
        cJSON_AddBoolToObject(c, "scale", l->bn_scale);
        return true;
    case TK_LAYER_DROPOUT:
        switch (l->identity_class) {
        case TK_IDENTITY_GAUSSIAN_NOISE:
            cJSON_AddNumberToObject(c, "stddev", l->identity_args[0]);
            return true;
        case TK_IDENTITY_GAUSSIAN_DROPOUT:
        case TK_IDENTITY_ALPHA_DROPOUT:
            cJSON_AddNumberToObject(c, "rate", l->identity_args[0]);
            return true;
        case TK_IDENTITY_ACTIVITY_REGULARIZATION:
            cJSON_AddNumberToObject(c, "l1", l->identity_args[0]);
            cJSON_AddNumberToObject(c, "l2", l->identity_args[1]);
            return true;
        default:
            return false;
        }
    default:
        return false;
    }
}

static cJSON *layer_config(const tk_model *m, const tk_layer *l, int index)
{
    cJSON *c = cJSON_CreateObject();
    if (c == NULL)
        return NULL;
    cJSON_AddStringToObject(c, "name", l->name);
    cJSON_AddBoolToObject(c, "trainable", true);
    if (index == 0 && !m->has_embedding) {
        cJSON *s = cJSON_AddArrayToObject(c, "batch_input_shape");
        cJSON_AddItemToArray(s, cJSON_CreateNull());
        cJSON_AddItemToArray(s, m->maxlen > 0 ? cJSON_CreateNumber(m->maxlen) : cJSON_CreateNull());
        cJSON_AddItemToArray(s, cJSON_CreateNumber(m->input_dim));
    }
    cJSON_AddStringToObject(c, "dtype", "float32");
    if (add_new_layer(c, l))
        return c;
    switch (l->kind) {
    case TK_LAYER_EMBEDDING: {
        cJSON *s = cJSON_AddArrayToObject(c, "batch_input_shape");
        cJSON_AddItemToArray(s, cJSON_CreateNull());
        cJSON_AddItemToArray(s, m->maxlen > 0 ? cJSON_CreateNumber(m->maxlen) : cJSON_CreateNull());
        cJSON_AddNumberToObject(c, "input_dim", l->input_dim);
        cJSON_AddNumberToObject(c, "output_dim", l->output_dim);
        cJSON_AddBoolToObject(c, "mask_zero", false);
        if (m->maxlen > 0)
            cJSON_AddNumberToObject(c, "input_length", m->maxlen);
        else
            cJSON_AddNullToObject(c, "input_length");
        break;
    }
    case TK_LAYER_CONV1D:
        cJSON_AddNumberToObject(c, "filters", l->filters);
        add_list1(c, "kernel_size", l->kernel_size);
        add_list1(c, "strides", l->strides);
        cJSON_AddStringToObject(c, "padding", l->padding_same ? "same" : "valid");
        cJSON_AddStringToObject(c, "data_format", "channels_last");
        add_list1(c, "dilation_rate", l->dilation);
        cJSON_AddNumberToObject(c, "groups", 1);
        add_act(c, "activation", l->activation);
        cJSON_AddBoolToObject(c, "use_bias", l->use_bias);
        break;
    case TK_LAYER_MAX_POOL1D:
    case TK_LAYER_AVG_POOL1D:
        add_list1(c, "strides", l->pool_strides);
        add_list1(c, "pool_size", l->pool_size);
        cJSON_AddStringToObject(c, "padding", l->pool_padding_same ? "same" : "valid");
        cJSON_AddStringToObject(c, "data_format", "channels_last");
        break;
    case TK_LAYER_GLOBAL_MAX_POOL1D:
    case TK_LAYER_GLOBAL_AVG_POOL1D:
        cJSON_AddStringToObject(c, "data_format", "channels_last");
        cJSON_AddBoolToObject(c, "keepdims", false);
        break;
    case TK_LAYER_DENSE:
        cJSON_AddNumberToObject(c, "units", l->units);
        add_act(c, "activation", l->activation);
        cJSON_AddBoolToObject(c, "use_bias", l->use_bias);
        break;
    case TK_LAYER_ACTIVATION:
        add_act(c, "activation", l->activation);
        break;
    case TK_LAYER_DROPOUT:
        cJSON_AddNumberToObject(c, "rate", l->dropout_rate);
        cJSON_AddNullToObject(c, "noise_shape");
        cJSON_AddNullToObject(c, "seed");
        break;
    case TK_LAYER_LSTM:
        add_lstm(c, l);
        break;
    case TK_LAYER_BIDIRECTIONAL: {
        cJSON *inner = cJSON_AddObjectToObject(c, "layer");
        cJSON_AddStringToObject(inner, "class_name", "LSTM");
        cJSON *ic = cJSON_AddObjectToObject(inner, "config");
        cJSON_AddStringToObject(ic, "name", l->inner_name[0] ? l->inner_name : "lstm");
        cJSON_AddBoolToObject(ic, "trainable", true);
        cJSON_AddStringToObject(ic, "dtype", "float32");
        add_lstm(ic, l);
        cJSON_AddStringToObject(c, "merge_mode", MERGES[l->merge_mode]);
        break;
    }
    default:
        break;
    }
    return c;
}

char *tk_keras_config_json(const tk_model *m, tk_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *cfg = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(root, "class_name", "Sequential");
    cJSON_AddStringToObject(cfg, "name", "sequential");
    cJSON *layers = cJSON_AddArrayToObject(cfg, "layers");
    bool ok = root != NULL && cfg != NULL && layers != NULL;
    if (ok && m->has_embedding) {
        /* tf.keras writes the InputLayer of a Sequential model first. */
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "class_name", "InputLayer");
        cJSON *ic = cJSON_AddObjectToObject(in, "config");
        cJSON *s = cJSON_AddArrayToObject(ic, "batch_input_shape");
        cJSON_AddItemToArray(s, cJSON_CreateNull());
        cJSON_AddItemToArray(s, m->maxlen > 0 ? cJSON_CreateNumber(m->maxlen) : cJSON_CreateNull());
        cJSON_AddStringToObject(ic, "dtype", "float32");
        cJSON_AddBoolToObject(ic, "sparse", false);
        cJSON_AddBoolToObject(ic, "ragged", false);
        cJSON_AddStringToObject(ic, "name", "embedding_input");
        ok = cJSON_AddItemToArray(layers, in);
    }
    for (int i = 0; ok && i < m->n_layers; i++) {
        cJSON *item = cJSON_CreateObject();
        cJSON *c = layer_config(m, &m->layers[i], i);
        ok = item != NULL && c != NULL;
        if (ok) {
            cJSON_AddStringToObject(item, "class_name", class_of_kind(&m->layers[i]));
            cJSON_AddItemToObject(item, "config", c);
            ok = cJSON_AddItemToArray(layers, item);
        } else {
            cJSON_Delete(item);
            cJSON_Delete(c);
        }
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (text == NULL)
        tk_error_set(err, TK_E_NOMEM, "model_config: out of memory writing the JSON");
    return text;
}
