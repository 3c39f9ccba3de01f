#define _POSIX_C_SOURCE 200809L
/* Keras model_config JSON <-> layer configs. The attribute is untrusted:
 * every key is looked up with its type checked, and anything tokattr does
 * not compute exactly as Keras would is refused with the layer, its class,
 * the option and what is supported. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
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

/* Keras 3 may write a built-in activation as {"module": "keras.activations",
 * "class_name": "function", "config": "relu", ...}; tf.keras as a string. */
static tk_status get_activation(const where *w, const cJSON *cfg, const char *key,
                                const char *dflt, tk_activation *out, tk_error *err)
{
    int i = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "config");
    tk_status st;
    if (cJSON_IsObject(v) && cJSON_IsString(name)) {
        cJSON *flat = cJSON_CreateObject();
        if (flat == NULL || cJSON_AddStringToObject(flat, key, name->valuestring) == NULL) {
            cJSON_Delete(flat);
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", w->path);
        }
        st = get_choice(w, flat, key, dflt, ACTIVATIONS, 6, &i, err);
        cJSON_Delete(flat);
    } else {
        st = get_choice(w, cfg, key, dflt, ACTIVATIONS, 6, &i, err);
    }
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

static tk_status builtin_class_name(const char *path, const char *lname, const cJSON *item,
                                    const char *cls, char *out, size_t size, tk_error *err);

/* Bidirectional(LSTM). Keras 3 also writes "backward_layer": it must be the
 * same LSTM going backwards (a different backward layer is not supported). */
static tk_status parse_bidirectional(const where *w, const cJSON *c, tk_layer *l, tk_error *err)
{
    int merge = 0;
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(c, "layer");
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(inner, "class_name");
    const cJSON *icfg = cJSON_GetObjectItemCaseSensitive(inner, "config");
    char icls[64], msg[240];
    if (!cJSON_IsString(cls) || !cJSON_IsObject(icfg))
        return bad(w, err, TK_E_FORMAT, "option 'layer' must be an object with class_name and config");
    TRY(builtin_class_name(w->path, w->l->name, inner, cls->valuestring, icls, sizeof icls, err));
    /* The wrapped recurrent layer: its class decides the kind and its parser. */
    const char *dflt_name;
    parse_fn parse_inner;
    if (strcmp(icls, "LSTM") == 0) {
        l->kind = TK_LAYER_BIDIRECTIONAL;
        dflt_name = "lstm";
        parse_inner = parse_lstm;
    } else if (strcmp(icls, "GRU") == 0) {
        l->kind = TK_LAYER_BIDIRECTIONAL_GRU;
        dflt_name = "gru";
        parse_inner = parse_gru;
    } else if (strcmp(icls, "SimpleRNN") == 0) {
        l->kind = TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN;
        dflt_name = "simple_rnn";
        parse_inner = parse_simple_rnn;
    } else {
        snprintf(msg, sizeof msg,
                 "wrapped layer class '%.64s' is not supported (supported: LSTM GRU SimpleRNN)",
                 icls);
        return bad(w, err, TK_E_UNSUPPORTED, msg);
    }
    const cJSON *iname = cJSON_GetObjectItemCaseSensitive(icfg, "name");
    /* Keras 3 serializes the forward copy, named "forward_" + the wrapped name. */
    const char *base = cJSON_IsString(iname) ? iname->valuestring : dflt_name;
    if (strncmp(base, "forward_", 8) == 0 && base[8] != '\0')
        base += 8;
    snprintf(l->inner_name, sizeof l->inner_name, "%s", base);
    TRY(parse_inner(w, icfg, l, err));
    if (l->go_backwards) {
        snprintf(msg, sizeof msg,
                 "a wrapped %.64s with go_backwards = true is not supported (supported: false)",
                 icls);
        return bad(w, err, TK_E_UNSUPPORTED, msg);
    }
    const cJSON *back = cJSON_GetObjectItemCaseSensitive(c, "backward_layer");
    if (back != NULL && !cJSON_IsNull(back)) {
        const cJSON *bcls = cJSON_GetObjectItemCaseSensitive(back, "class_name");
        const cJSON *bcfg = cJSON_GetObjectItemCaseSensitive(back, "config");
        char bname[64];
        tk_layer b = *l;
        if (!cJSON_IsString(bcls) || !cJSON_IsObject(bcfg))
            return bad(w, err, TK_E_FORMAT,
                       "option 'backward_layer' must be an object with class_name and config");
        TRY(builtin_class_name(w->path, w->l->name, back, bcls->valuestring, bname, sizeof bname,
                               err));
        if (strcmp(bname, icls) == 0)
            TRY(parse_inner(w, bcfg, &b, err));
        if (strcmp(bname, icls) != 0 || !b.go_backwards || b.units != l->units ||
            b.activation != l->activation || b.recurrent_activation != l->recurrent_activation ||
            b.use_bias != l->use_bias || b.reset_after != l->reset_after ||
            b.return_sequences != l->return_sequences) {
            snprintf(msg, sizeof msg,
                     "a backward_layer that is not the wrapped %.64s going backwards is not "
                     "supported (supported: the same config with go_backwards = true)",
                     icls);
            return bad(w, err, TK_E_UNSUPPORTED, msg);
        }
    }
    /* null is Keras' None: two outputs instead of one merged. */
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c, "merge_mode")))
        return bad(w, err, TK_E_UNSUPPORTED,
                   "merge_mode null (two outputs) is not supported (supported: concat sum ave mul)");
    TRY(get_choice(w, c, "merge_mode", "concat", MERGES, 4, &merge, err));
    l->merge_mode = (tk_merge_mode)merge;
    return TK_OK;
}

/* ---- writers: the options of one class, as Keras writes them ---- */

typedef struct write_ctx {
    const tk_model *m;
    tk_keras_format fmt;
} write_ctx;

/* Writes the class-specific keys of l into c (name, trainable, dtype and the
 * input shape are written by the caller). */
typedef void (*write_fn)(cJSON *c, const tk_layer *l, const write_ctx *x);

static void add_act(cJSON *c, const char *key, tk_activation a)
{
    cJSON_AddStringToObject(c, key, tk_activation_name(a));
}

/* Keras 2 writes 1-D sizes as one-element lists; Keras 3 as well (tuples). */
static void add_list1(cJSON *c, const char *key, int v)
{
    cJSON *a = cJSON_AddArrayToObject(c, key);
    if (a != NULL)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v));
}

static void write_none(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)c;
    (void)l;
    (void)x;
}

static void write_embedding(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    cJSON_AddNumberToObject(c, "input_dim", l->input_dim);
    cJSON_AddNumberToObject(c, "output_dim", l->output_dim);
    cJSON_AddBoolToObject(c, "mask_zero", false);
    if (x->fmt == TK_KERAS_3) /* Keras 3 dropped input_length (the InputLayer has it) */
        return;
    if (x->m->maxlen > 0)
        cJSON_AddNumberToObject(c, "input_length", x->m->maxlen);
    else
        cJSON_AddNullToObject(c, "input_length");
}

static void write_conv(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)x;
    cJSON_AddNumberToObject(c, "filters", l->filters);
    add_list1(c, "kernel_size", l->kernel_size);
    add_list1(c, "strides", l->strides);
    cJSON_AddStringToObject(c, "padding", l->padding_same ? "same" : "valid");
    cJSON_AddStringToObject(c, "data_format", "channels_last");
    add_list1(c, "dilation_rate", l->dilation);
    cJSON_AddNumberToObject(c, "groups", 1);
    add_act(c, "activation", l->activation);
    cJSON_AddBoolToObject(c, "use_bias", l->use_bias);
}

static void write_pool(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)x;
    add_list1(c, "strides", l->pool_strides);
    add_list1(c, "pool_size", l->pool_size);
    cJSON_AddStringToObject(c, "padding", l->pool_padding_same ? "same" : "valid");
    cJSON_AddStringToObject(c, "data_format", "channels_last");
}

static void write_global(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)l;
    (void)x;
    cJSON_AddStringToObject(c, "data_format", "channels_last");
    cJSON_AddBoolToObject(c, "keepdims", false);
}

static void write_dense(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)x;
    cJSON_AddNumberToObject(c, "units", l->units);
    add_act(c, "activation", l->activation);
    cJSON_AddBoolToObject(c, "use_bias", l->use_bias);
}

static void write_activation(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)x;
    add_act(c, "activation", l->activation);
}

static void write_dropout(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)x;
    cJSON_AddNumberToObject(c, "rate", l->dropout_rate);
    cJSON_AddNullToObject(c, "noise_shape");
    cJSON_AddNullToObject(c, "seed");
}

static void write_lstm(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    cJSON_AddBoolToObject(c, "return_sequences", l->return_sequences);
    cJSON_AddBoolToObject(c, "return_state", false);
    cJSON_AddBoolToObject(c, "go_backwards", l->go_backwards);
    cJSON_AddBoolToObject(c, "stateful", false);
    cJSON_AddBoolToObject(c, "unroll", false);
    if (x->fmt == TK_KERAS_2) /* Keras 3's LSTM refuses these keys */
        cJSON_AddBoolToObject(c, "time_major", false);
    cJSON_AddNumberToObject(c, "units", l->units);
    add_act(c, "activation", TK_ACT_TANH);
    add_act(c, "recurrent_activation", l->recurrent_activation);
    cJSON_AddBoolToObject(c, "use_bias", l->use_bias);
    cJSON_AddBoolToObject(c, "unit_forget_bias", true);
    cJSON_AddNumberToObject(c, "dropout", l->dropout_rate);
    cJSON_AddNumberToObject(c, "recurrent_dropout", 0.0);
    if (x->fmt == TK_KERAS_2)
        cJSON_AddNumberToObject(c, "implementation", 2);
}

/* SimpleRNN and GRU options, as tf.keras writes them (Keras 3 refuses
 * time_major and implementation). */
static void write_rnn(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    bool gru = l->kind == TK_LAYER_GRU || l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
    cJSON_AddBoolToObject(c, "return_sequences", l->return_sequences);
    cJSON_AddBoolToObject(c, "return_state", false);
    cJSON_AddBoolToObject(c, "go_backwards", l->go_backwards);
    cJSON_AddBoolToObject(c, "stateful", false);
    cJSON_AddBoolToObject(c, "unroll", false);
    if (x->fmt == TK_KERAS_2)
        cJSON_AddBoolToObject(c, "time_major", false);
    cJSON_AddNumberToObject(c, "units", l->units);
    add_act(c, "activation", l->activation);
    if (gru)
        add_act(c, "recurrent_activation", l->recurrent_activation);
    cJSON_AddBoolToObject(c, "use_bias", l->use_bias);
    cJSON_AddNumberToObject(c, "dropout", l->dropout_rate);
    cJSON_AddNumberToObject(c, "recurrent_dropout", 0.0);
    if (gru) {
        if (x->fmt == TK_KERAS_2)
            cJSON_AddNumberToObject(c, "implementation", 2);
        cJSON_AddBoolToObject(c, "reset_after", l->reset_after);
    }
}

static void write_batch_norm(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)x;
    cJSON_AddNumberToObject(c, "axis", l->bn_axis != 0 ? l->bn_axis : -1);
    cJSON_AddNumberToObject(c, "momentum", 0.99);
    cJSON_AddNumberToObject(c, "epsilon", l->bn_epsilon);
    cJSON_AddBoolToObject(c, "center", l->bn_center);
    cJSON_AddBoolToObject(c, "scale", l->bn_scale);
}

/* GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization:
 * their options back as they were read. */
static void write_identity(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    (void)x;
    switch (l->identity_class) {
    case TK_IDENTITY_GAUSSIAN_NOISE:
        cJSON_AddNumberToObject(c, "stddev", l->identity_args[0]);
        break;
    case TK_IDENTITY_GAUSSIAN_DROPOUT:
    case TK_IDENTITY_ALPHA_DROPOUT:
        cJSON_AddNumberToObject(c, "rate", l->identity_args[0]);
        break;
    case TK_IDENTITY_ACTIVITY_REGULARIZATION:
        cJSON_AddNumberToObject(c, "l1", l->identity_args[0]);
        cJSON_AddNumberToObject(c, "l2", l->identity_args[1]);
        break;
    default:
        break;
    }
}

static void add_dtype(cJSON *c, tk_keras_format fmt);

/* The wrapped recurrent layer: Keras 2 writes "layer" only; Keras 3
 * "layer" (the forward copy, named forward_<inner>) and "backward_layer". */
static void add_inner_rnn(cJSON *c, const char *key, const char *name, bool backwards,
                          const tk_layer *l, const write_ctx *x)
{
    bool gru = l->kind == TK_LAYER_BIDIRECTIONAL_GRU;
    bool simple = l->kind == TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN;
    cJSON *inner = cJSON_AddObjectToObject(c, key);
    if (x->fmt == TK_KERAS_3)
        cJSON_AddStringToObject(inner, "module", "keras.layers");
    cJSON_AddStringToObject(inner, "class_name", gru ? "GRU" : simple ? "SimpleRNN" : "LSTM");
    cJSON *ic = cJSON_AddObjectToObject(inner, "config");
    cJSON_AddStringToObject(ic, "name", name);
    cJSON_AddBoolToObject(ic, "trainable", true);
    add_dtype(ic, x->fmt);
    tk_layer copy = *l;
    copy.go_backwards = backwards;
    if (gru || simple)
        write_rnn(ic, &copy, x);
    else
        write_lstm(ic, &copy, x);
    if (x->fmt == TK_KERAS_3)
        cJSON_AddNullToObject(inner, "registered_name");
}

static void write_bidirectional(cJSON *c, const tk_layer *l, const write_ctx *x)
{
    const char *dflt = l->kind == TK_LAYER_BIDIRECTIONAL_GRU          ? "gru"
                       : l->kind == TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN ? "simple_rnn"
                                                                      : "lstm";
    const char *inner = l->inner_name[0] ? l->inner_name : dflt;
    char name[160];
    if (x->fmt == TK_KERAS_2) {
        add_inner_rnn(c, "layer", inner, false, l, x);
    } else {
        snprintf(name, sizeof name, "forward_%s", inner);
        add_inner_rnn(c, "layer", name, false, l, x);
        snprintf(name, sizeof name, "backward_%s", inner);
        add_inner_rnn(c, "backward_layer", name, true, l, x);
    }
    cJSON_AddStringToObject(c, "merge_mode", MERGES[l->merge_mode]);
}

/* ---- the table: one row per Keras class name ---- */

/* A Keras class: its name, the layer kind it becomes, the parser of its
 * config and the writer of it. A kind's first row is the name the writers
 * use unless the layer was read under another row of the same kind.
 * A new layer's Keras I/O is one row here. */
typedef struct keras_class {
    const char *name;
    tk_layer_kind kind;
    parse_fn parse;
    write_fn write;
} keras_class;

static const keras_class CLASSES[] = {
    {"InputLayer", TK_LAYER_INPUT, parse_none, write_none},
    /* Not computed: turns strings into ids (tk_model.text_vectorization). */
    {"TextVectorization", TK_LAYER_INPUT, parse_none, write_none},
    {"Embedding", TK_LAYER_EMBEDDING, parse_embedding, write_embedding},
    {"Conv1D", TK_LAYER_CONV1D, parse_conv, write_conv},
    {"Convolution1D", TK_LAYER_CONV1D, parse_conv, write_conv},
    {"MaxPooling1D", TK_LAYER_MAX_POOL1D, parse_pool, write_pool},
    {"MaxPool1D", TK_LAYER_MAX_POOL1D, parse_pool, write_pool},
    {"AveragePooling1D", TK_LAYER_AVG_POOL1D, parse_pool, write_pool},
    {"AvgPool1D", TK_LAYER_AVG_POOL1D, parse_pool, write_pool},
    {"GlobalMaxPooling1D", TK_LAYER_GLOBAL_MAX_POOL1D, parse_global, write_global},
    {"GlobalMaxPool1D", TK_LAYER_GLOBAL_MAX_POOL1D, parse_global, write_global},
    {"GlobalAveragePooling1D", TK_LAYER_GLOBAL_AVG_POOL1D, parse_global, write_global},
    {"GlobalAvgPool1D", TK_LAYER_GLOBAL_AVG_POOL1D, parse_global, write_global},
    {"Flatten", TK_LAYER_FLATTEN, parse_none, write_none},
    {"Dense", TK_LAYER_DENSE, parse_dense, write_dense},
    {"Activation", TK_LAYER_ACTIVATION, parse_activation, write_activation},
    {"Dropout", TK_LAYER_DROPOUT, parse_dropout, write_dropout},
    {"SpatialDropout1D", TK_LAYER_DROPOUT, parse_spatial_dropout, write_dropout},
    /* Identity at inference: kept as a rate-0 Dropout with identity_class. */
    {"GaussianNoise", TK_LAYER_DROPOUT, parse_identity, write_identity},
    {"GaussianDropout", TK_LAYER_DROPOUT, parse_identity, write_identity},
    {"AlphaDropout", TK_LAYER_DROPOUT, parse_identity, write_identity},
    {"ActivityRegularization", TK_LAYER_DROPOUT, parse_identity, write_identity},
    {"LSTM", TK_LAYER_LSTM, parse_lstm, write_lstm},
    {"SimpleRNN", TK_LAYER_SIMPLE_RNN, parse_simple_rnn, write_rnn},
    {"GRU", TK_LAYER_GRU, parse_gru, write_rnn},
    {"BatchNormalization", TK_LAYER_BATCH_NORM, parse_batch_norm, write_batch_norm},
    /* parse_bidirectional sets the kind from the wrapped class; the writers
     * find these rows by kind. */
    {"Bidirectional", TK_LAYER_BIDIRECTIONAL, parse_bidirectional, write_bidirectional},
    {"Bidirectional", TK_LAYER_BIDIRECTIONAL_GRU, parse_bidirectional, write_bidirectional},
    {"Bidirectional", TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN, parse_bidirectional, write_bidirectional},
};
enum { N_CLASSES = sizeof CLASSES / sizeof CLASSES[0] };

static const keras_class *find_class(const char *name)
{
    for (int k = 0; k < N_CLASSES; k++)
        if (strcmp(CLASSES[k].name, name) == 0)
            return &CLASSES[k];
    return NULL;
}

/* The row a layer is written under: the class it was read as when that row
 * has its kind (Convolution1D stays Convolution1D), else the kind's first row. */
static const keras_class *class_of_layer(const tk_layer *l)
{
    /* Dropout, SpatialDropout1D and the identity classes share a kind: the
     * layer's own fields say which one it is. */
    if (l->kind == TK_LAYER_DROPOUT)
        return find_class(tk_keras_python_class(l));
    const keras_class *c = find_class(l->class_name);
    if (c != NULL && c->kind == l->kind &&
        (l->kind != TK_LAYER_DROPOUT || (c->parse == parse_spatial_dropout) == l->dropout_spatial))
        return c;
    if (l->kind == TK_LAYER_DROPOUT && l->dropout_spatial)
        return find_class("SpatialDropout1D");
    for (int i = 0; i < N_CLASSES; i++)
        if (CLASSES[i].kind == l->kind)
            return &CLASSES[i];
    return NULL;
}

const char *tk_keras_python_class(const tk_layer *l)
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

/* "InputLayer Embedding Conv1D ...": every class name of the table. */
static void supported_classes(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_CLASSES && len + 1 < size; i++)
        if (find_class(CLASSES[i].name) == &CLASSES[i]) /* each name once */
            len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", CLASSES[i].name);
}

/* Keras modules whose classes are the built-in layers: Keras 3 writes
 * "module": "keras.layers" (or "keras.src.layers.core.dense" in some
 * writers), tf.keras "keras.layers"/"tf_keras..."; a custom layer has its
 * own module or a registered_name "Package>Name". */
static bool keras_module(const char *m)
{
    static const char *const PREFIX[] = {"keras", "tf_keras", "tensorflow.keras",
                                         "tensorflow.python.keras"};
    for (size_t i = 0; i < sizeof PREFIX / sizeof *PREFIX; i++) {
        size_t n = strlen(PREFIX[i]);
        if (strncmp(m, PREFIX[i], n) == 0 && (m[n] == '\0' || m[n] == '.'))
            return true;
    }
    return false;
}

/* The built-in class an item of a layers list names, module prefixes
 * ("keras.layers.Dense", "keras.src.layers.Dense") removed; "" and a
 * message when it is a custom class. */
static tk_status builtin_class_name(const char *path, const char *lname, const cJSON *item,
                                    const char *cls, char *out, size_t size, tk_error *err)
{
    const cJSON *mod = cJSON_GetObjectItemCaseSensitive(item, "module");
    const cJSON *reg = cJSON_GetObjectItemCaseSensitive(item, "registered_name");
    const char *dot = strrchr(cls, '.');
    if (dot != NULL) {
        char prefix[256];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(dot - cls), cls);
        if (!keras_module(prefix))
            return tk_error_set(err, TK_E_UNSUPPORTED,
                                "%s: layer '%s' has the custom class '%.64s', which is not "
                                "supported (only built-in Keras layers are)", path, lname, cls);
        cls = dot + 1;
    }
    if (cJSON_IsString(mod) && !keras_module(mod->valuestring))
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "%s: layer '%s' has class '%.64s' from module '%.64s', a custom "
                            "layer, which is not supported (only built-in Keras layers are)",
                            path, lname, cls, mod->valuestring);
    if (cJSON_IsString(reg) && strchr(reg->valuestring, '>') != NULL)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "%s: layer '%s' has the registered custom class '%.64s', which is "
                            "not supported (only built-in Keras layers are)", path, lname,
                            reg->valuestring);
    snprintf(out, size, "%s", cls);
    return TK_OK;
}

/* The input shape: Keras 2 batch_input_shape, Keras 3 batch_shape, both
 * [null, T] (ids) or [null, T, D] (vectors); null T is any length. */
static tk_status parse_input_shape(const where *w, const cJSON *c, bool ids, int *maxlen,
                                   int *input_dim, tk_error *err)
{
    const char *key = "batch_input_shape";
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, key);
    if (s == NULL || cJSON_IsNull(s))
        s = cJSON_GetObjectItemCaseSensitive(c, key = "batch_shape");
    if (s == NULL || cJSON_IsNull(s))
        return TK_OK;
    int n = cJSON_IsArray(s) ? cJSON_GetArraySize(s) : -1;
    char msg[200];
    if (n != (ids ? 2 : 3)) {
        snprintf(msg, sizeof msg, ids ? "%s must be [batch, steps] for token ids"
                                      : "%s must be [batch, steps, channels]", key);
        return bad(w, err, TK_E_UNSUPPORTED, msg);
    }
    const cJSON *t = cJSON_GetArrayItem(s, 1);
    if (cJSON_IsNull(t))
        *maxlen = 0;
    else if (cJSON_IsNumber(t) && t->valuedouble >= 1 && t->valuedouble <= MAX_DIM)
        *maxlen = (int)t->valuedouble;
    else {
        snprintf(msg, sizeof msg, "%s has a bad length", key);
        return bad(w, err, TK_E_FORMAT, msg);
    }
    if (!ids) {
        const cJSON *d = cJSON_GetArrayItem(s, 2);
        if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > MAX_DIM) {
            snprintf(msg, sizeof msg, "%s has a bad channel count", key);
            return bad(w, err, TK_E_FORMAT, msg);
        }
        *input_dim = (int)d->valuedouble;
    }
    return TK_OK;
}

/* Does a Keras 3 call argument hold a tensor (a second input)? */
static bool holds_tensor(const cJSON *v)
{
    if (cJSON_IsObject(v)) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(v, "class_name");
        if (cJSON_IsString(cls) && strcmp(cls->valuestring, "__keras_tensor__") == 0)
            return true;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
        if (holds_tensor(e))
            return true;
    return false;
}

/* The one layer a node reads, or NULL when it reads several or none.
 * Keras 2: [[name, node, tensor, kwargs]]; Keras 3: {"args": [{"class_name":
 * "__keras_tensor__", "config": {"keras_history": [name, node, tensor]}}],
 * "kwargs": {...}}. */
static const char *node_source(const cJSON *node)
{
    const cJSON *hist = NULL;
    if (cJSON_IsArray(node)) {
        const cJSON *first = cJSON_GetArraySize(node) == 1 ? cJSON_GetArrayItem(node, 0) : NULL;
        hist = cJSON_IsArray(first) ? first : NULL;
    } else if (cJSON_IsObject(node)) {
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(node, "args");
        const cJSON *kwargs = cJSON_GetObjectItemCaseSensitive(node, "kwargs");
        const cJSON *t = cJSON_IsArray(args) && cJSON_GetArraySize(args) == 1
                             ? cJSON_GetArrayItem(args, 0) : NULL;
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(t, "class_name");
        if (!cJSON_IsString(cls) || strcmp(cls->valuestring, "__keras_tensor__") != 0 ||
            holds_tensor(kwargs))
            return NULL;
        hist = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "config"),
                                                "keras_history");
    }
    const cJSON *src = cJSON_IsArray(hist) && cJSON_GetArraySize(hist) >= 3
                           ? cJSON_GetArrayItem(hist, 0) : NULL;
    const cJSON *tensor = cJSON_GetArrayItem(hist, 2);
    if (!cJSON_IsString(src) || !cJSON_IsNumber(tensor) || tensor->valuedouble != 0)
        return NULL;
    return src->valuestring;
}

/* Functional models: layer i must take exactly layer i-1's output (a plain
 * chain is the Sequential model it equals); anything else is a graph. */
static tk_status check_chain(const char *path, const cJSON *layer, const char *prev,
                             const char *name, tk_error *err)
{
    if (prev == NULL)
        return TK_OK;
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(layer, "inbound_nodes");
    const cJSON *node = cJSON_IsArray(nodes) && cJSON_GetArraySize(nodes) == 1
                            ? cJSON_GetArrayItem(nodes, 0) : NULL;
    const char *src = node_source(node);
    if (src == NULL || strcmp(src, prev) != 0)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "%s: layer '%s' does not take exactly the output of '%s' (the layer "
                            "before it) but %s%s%s: only Functional models forming a single "
                            "chain are supported, branches and merges are not", path, name, prev,
                            src != NULL ? "the output of '" : "",
                            src != NULL ? src
                            : cJSON_IsArray(nodes) && cJSON_GetArraySize(nodes) > 1
                                ? "is called several times"
                                : "several inputs",
                            src != NULL ? "'" : "");
    return TK_OK;
}

/* The Functional model's output must be its last layer. */
static tk_status check_output(const char *path, const cJSON *cfg, const char *last,
                              tk_error *err)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cfg, "output_layers");
    /* Keras 2: [[name, 0, 0]]; Keras 3 with one output: [name, 0, 0]. */
    if (cJSON_IsArray(o) && cJSON_GetArraySize(o) == 1)
        o = cJSON_GetArrayItem(o, 0);
    const cJSON *n = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, 0) : NULL;
    if (o == NULL)
        return TK_OK;
    if (!cJSON_IsString(n) || strcmp(n->valuestring, last) != 0)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "%s: the model's output_layers are not exactly the last layer "
                            "'%s': only single-output chains are supported", path, last);
    return TK_OK;
}

/* The class of layers-list entry i, module prefix removed, or NULL. */
static const char *item_class(const cJSON *list, int i, char *buf, size_t size)
{
    const cJSON *item = cJSON_GetArrayItem(list, i);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(item, "class_name");
    if (!cJSON_IsString(c) || builtin_class_name("", "", item, c->valuestring, buf, size,
                                                 NULL) != TK_OK)
        return NULL;
    return buf;
}

/* A leading TextVectorization: only what the text-vectorization tokenizer
 * reproduces (data/text_tokenizer.h) is accepted. */
static tk_status parse_text_vectorization(const where *w, const cJSON *c,
                                          tk_text_vectorization *tv, tk_error *err)
{
    static const char *const MODES[] = {"int"};
    static const char *const SPLITS[] = {"whitespace"};
    static const char *const STANDARDIZE[] = {"lower_and_strip_punctuation", "none"};
    int i;
    memset(tv, 0, sizeof *tv);
    tv->present = true;
    snprintf(tv->name, sizeof tv->name, "%s", w->l->name);
    TRY(get_choice(w, c, "output_mode", "int", MODES, 1, &i, err));
    TRY(get_choice(w, c, "split", "whitespace", SPLITS, 1, &i, err));
    snprintf(tv->split, sizeof tv->split, "%s", SPLITS[i]);
    /* standardize null is Keras' None: no standardization. */
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(c, "standardize");
    if (cJSON_IsNull(sv))
        i = 1;
    else
        TRY(get_choice(w, c, "standardize", "lower_and_strip_punctuation", STANDARDIZE, 2, &i,
                       err));
    snprintf(tv->standardize, sizeof tv->standardize, "%s", STANDARDIZE[i]);
    const cJSON *ng = cJSON_GetObjectItemCaseSensitive(c, "ngrams");
    if (ng != NULL && !cJSON_IsNull(ng))
        return bad(w, err, TK_E_UNSUPPORTED, "option ngrams is not supported (supported: null)");
    TRY(get_int(w, c, "output_sequence_length", 0, 0, MAX_DIM, &tv->output_sequence_length, err));
    TRY(get_int(w, c, "max_tokens", 0, 0, INT32_MAX, &tv->max_tokens, err));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "vocabulary");
    tv->vocabulary_in_config = cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0;
    return TK_OK;
}

tk_status tk_keras_config_vocabulary(const char *json, const char *path, char ***words,
                                     int64_t *n, tk_error *err)
{
    *words = NULL;
    *n = 0;
    cJSON *root = cJSON_Parse(json);
    if (root == NULL)
        return tk_error_set(err, TK_E_FORMAT, "%s: model_config is not valid JSON", path);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
    const cJSON *list = cJSON_IsArray(cfg) ? cfg : cJSON_GetObjectItemCaseSensitive(cfg, "layers");
    const cJSON *item, *vocab = NULL;
    cJSON_ArrayForEach(item, list) {
        char cls[64];
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(item, "class_name");
        if (cJSON_IsString(c) && builtin_class_name("", "", item, c->valuestring, cls,
                                                    sizeof cls, NULL) == TK_OK &&
            strcmp(cls, "TextVectorization") == 0) {
            vocab = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(item, "config"), "vocabulary");
            break;
        }
    }
    tk_status st = TK_OK;
    int count = cJSON_IsArray(vocab) ? cJSON_GetArraySize(vocab) : 0;
    if (count > 0) {
        char **list_w = tk_calloc((size_t)count, sizeof *list_w, err);
        st = list_w != NULL ? TK_OK : TK_E_NOMEM;
        for (int k = 0; k < count && st == TK_OK; k++) {
            const cJSON *e = cJSON_GetArrayItem(vocab, k);
            if (!cJSON_IsString(e))
                st = tk_error_set(err, TK_E_FORMAT,
                                  "%s: TextVectorization vocabulary entry %d is not a string",
                                  path, k);
            else if ((list_w[k] = strdup(e->valuestring)) == NULL)
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
        }
        if (st != TK_OK) {
            for (int k = 0; list_w != NULL && k < count; k++)
                free(list_w[k]);
            free(list_w);
        } else {
            *words = list_w;
            *n = count;
        }
    }
    cJSON_Delete(root);
    return st;
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
    tk_text_vectorization tv;
    memset(&tv, 0, sizeof tv);
    const cJSON *first_item = NULL; /* the entry of layers[0] */
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
        if ((st = builtin_class_name(path, l->name, item, lcls->valuestring, l->class_name,
                                     sizeof l->class_name, err)) != TK_OK)
            goto done;
        where w = {path, l};
        if (functional && (st = check_chain(path, item, prev, l->name, err)) != TK_OK)
            goto done;
        prev = lname->valuestring;
        const keras_class *ce = find_class(l->class_name);
        if (ce == NULL) {
            char supported[1024];
            supported_classes(supported, sizeof supported);
            st = tk_error_set(err, TK_E_UNSUPPORTED,
                              "%s: layer '%s' has class '%s', which is not supported "
                              "(supported: %s)", path, l->name, l->class_name, supported);
            goto done;
        }
        l->kind = ce->kind;
        if ((st = ce->parse(&w, lcfg, l, err)) != TK_OK)
            goto done;
        bool text_vec = strcmp(ce->name, "TextVectorization") == 0;
        if (text_vec) {
            if (count != 0 || tv.present) {
                st = bad(&w, err, TK_E_UNSUPPORTED,
                         "a TextVectorization is supported only as the first layer");
                goto done;
            }
            if ((st = parse_text_vectorization(&w, lcfg, &tv, err)) != TK_OK)
                goto done;
            if (tv.output_sequence_length > 0)
                maxlen = tv.output_sequence_length;
            continue;
        }
        /* The input shape: on the InputLayer, or on the first real layer;
         * strings into a TextVectorization have none. */
        bool ids = ce->kind == TK_LAYER_EMBEDDING, shape = count == 0 && !tv.present;
        if (ce->kind == TK_LAYER_INPUT) {
            char next[64];
            const char *nc = item_class(list, i + 1, next, sizeof next);
            ids = nc != NULL && strcmp(nc, "Embedding") == 0;
            shape = shape && (nc == NULL || strcmp(nc, "TextVectorization") != 0);
        }
        if (shape && (st = parse_input_shape(&w, lcfg, ids, &maxlen, &input_dim, err)) != TK_OK)
            goto done;
        if (ce->kind == TK_LAYER_EMBEDDING) {
            int len = 0;
            if ((st = get_int(&w, lcfg, "input_length", 0, 0, MAX_DIM, &len, err)) != TK_OK)
                goto done;
            if (len > 0 && tv.output_sequence_length == 0)
                maxlen = len;
            if (count != 0) {
                st = bad(&w, err, TK_E_UNSUPPORTED, "an Embedding must be the first layer");
                goto done;
            }
        }
        if (ce->kind != TK_LAYER_INPUT && count++ == 0)
            first_item = item;
    }
    if (count == 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: model_config has no layers to compute", path);
        goto done;
    }
    if (functional && (st = check_output(path, cfg, layers[count - 1].name, err)) != TK_OK)
        goto done;
    /* Keras 3 models built without an InputLayer keep the shape in the
     * Sequential's build_input_shape or the first layer's build_config. */
    if (maxlen == 0 && input_dim == 0 && !tv.present) {
        where w = {path, &layers[0]};
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(cfg, "build_input_shape");
        if (b == NULL || cJSON_IsNull(b))
            b = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(first_item, "build_config"), "input_shape");
        if (b != NULL && !cJSON_IsNull(b)) {
            cJSON *tmp = cJSON_CreateObject();
            cJSON *bc = cJSON_Duplicate(b, true);
            if (tmp == NULL || bc == NULL || !cJSON_AddItemToObject(tmp, "batch_shape", bc)) {
                cJSON_Delete(bc);
                cJSON_Delete(tmp);
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
                goto done;
            }
            st = parse_input_shape(&w, tmp, layers[0].kind == TK_LAYER_EMBEDDING, &maxlen,
                                   &input_dim, err);
            cJSON_Delete(tmp);
            if (st != TK_OK)
                goto done;
        }
    }
    if (layers[0].kind != TK_LAYER_EMBEDDING && input_dim <= 0) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: the model has no Embedding and no batch_input_shape giving its "
                          "input channels", path);
        goto done;
    }
    if (tv.present && layers[0].kind != TK_LAYER_EMBEDDING) {
        st = tk_error_set(err, TK_E_UNSUPPORTED,
                          "%s: the TextVectorization layer '%s' must be followed by an Embedding",
                          path, tv.name);
        goto done;
    }
    st = tk_model_from_layers(layers, count, maxlen, input_dim, out, err);
    if (st != TK_OK)
        tk_error_prefix(err, "%s", path);
    else
        (*out)->text_vectorization = tv;
done:
    free(layers);
    cJSON_Delete(root);
    return st;
}

/* ---- writer ---- */

/* Keras 2: "dtype": "float32"; Keras 3: the dtype policy object. */
static void add_dtype(cJSON *c, tk_keras_format fmt)
{
    if (fmt == TK_KERAS_2) {
        cJSON_AddStringToObject(c, "dtype", "float32");
        return;
    }
    cJSON *d = cJSON_AddObjectToObject(c, "dtype");
    cJSON_AddStringToObject(d, "module", "keras");
    cJSON_AddStringToObject(d, "class_name", "DTypePolicy");
    cJSON *dc = cJSON_AddObjectToObject(d, "config");
    cJSON_AddStringToObject(dc, "name", "float32");
    cJSON_AddNullToObject(d, "registered_name");
}

/* [null, T or null] or [null, T or null, D]. */
static void add_shape(cJSON *c, const char *key, int steps, int channels)
{
    cJSON *s = cJSON_AddArrayToObject(c, key);
    cJSON_AddItemToArray(s, cJSON_CreateNull());
    cJSON_AddItemToArray(s, steps > 0 ? cJSON_CreateNumber(steps) : cJSON_CreateNull());
    if (channels > 0)
        cJSON_AddItemToArray(s, cJSON_CreateNumber(channels));
}

/* One entry of the layers list: {"class_name", "config"} (Keras 2), with
 * "module", "registered_name" and "build_config" (Keras 3). */
static cJSON *layer_item(const tk_model *m, const tk_layer *l, int index, tk_keras_format fmt)
{
    const keras_class *kc = class_of_layer(l);
    write_ctx x = {m, fmt};
    cJSON *item = cJSON_CreateObject();
    if (item == NULL || kc == NULL) {
        cJSON_Delete(item);
        return NULL;
    }
    if (fmt == TK_KERAS_3)
        cJSON_AddStringToObject(item, "module", "keras.layers");
    cJSON_AddStringToObject(item, "class_name", kc->name);
    cJSON *c = cJSON_AddObjectToObject(item, "config");
    cJSON_AddStringToObject(c, "name", l->name);
    cJSON_AddBoolToObject(c, "trainable", true);
    /* Keras 2 puts the input shape on the first layer; Keras 3 only on the InputLayer. */
    if (fmt == TK_KERAS_2 && index == 0)
        add_shape(c, "batch_input_shape", m->maxlen, m->has_embedding ? 0 : m->input_dim);
    add_dtype(c, fmt);
    kc->write(c, l, &x);
    if (fmt == TK_KERAS_3) {
        cJSON_AddNullToObject(item, "registered_name");
        cJSON *b = cJSON_AddObjectToObject(item, "build_config");
        if (index == 0 && m->has_embedding)
            add_shape(b, "input_shape", m->maxlen, 0);
        else
            add_shape(b, "input_shape", m->maxlen > 0 ? l->in.steps : 0, l->in.channels);
    }
    return item;
}

/* The InputLayer: tf.keras writes one first in a Sequential model with an
 * Embedding; Keras 3 always (batch_shape; token ids are int32). */
static cJSON *input_item(const tk_model *m, tk_keras_format fmt)
{
    cJSON *in = cJSON_CreateObject();
    if (in == NULL)
        return NULL;
    if (fmt == TK_KERAS_3)
        cJSON_AddStringToObject(in, "module", "keras.layers");
    cJSON_AddStringToObject(in, "class_name", "InputLayer");
    cJSON *ic = cJSON_AddObjectToObject(in, "config");
    add_shape(ic, fmt == TK_KERAS_3 ? "batch_shape" : "batch_input_shape", m->maxlen,
              m->has_embedding ? 0 : m->input_dim);
    cJSON_AddStringToObject(ic, "dtype", m->has_embedding && fmt == TK_KERAS_3 ? "int32"
                                                                                : "float32");
    cJSON_AddBoolToObject(ic, "sparse", false);
    cJSON_AddBoolToObject(ic, "ragged", false);
    cJSON_AddStringToObject(ic, "name", fmt == TK_KERAS_3 ? "input_layer" : "embedding_input");
    if (fmt == TK_KERAS_3) {
        cJSON_AddBoolToObject(ic, "optional", false);
        cJSON_AddNullToObject(in, "registered_name");
    }
    return in;
}

char *tk_keras_config_json(const tk_model *m, tk_keras_format fmt, tk_error *err)
{
    cJSON *root = cJSON_CreateObject();
    if (fmt == TK_KERAS_3)
        cJSON_AddStringToObject(root, "module", "keras");
    cJSON_AddStringToObject(root, "class_name", "Sequential");
    cJSON *cfg = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(cfg, "name", "sequential");
    if (fmt == TK_KERAS_3) {
        cJSON_AddBoolToObject(cfg, "trainable", true);
        add_dtype(cfg, fmt);
    }
    cJSON *layers = cJSON_AddArrayToObject(cfg, "layers");
    bool ok = root != NULL && cfg != NULL && layers != NULL;
    if (ok && (m->has_embedding || fmt == TK_KERAS_3)) {
        cJSON *in = input_item(m, fmt);
        ok = in != NULL && cJSON_AddItemToArray(layers, in);
    }
    for (int i = 0; ok && i < m->n_layers; i++) {
        cJSON *item = layer_item(m, &m->layers[i], i, fmt);
        ok = item != NULL && cJSON_AddItemToArray(layers, item);
    }
    if (ok && fmt == TK_KERAS_3) {
        add_shape(cfg, "build_input_shape", m->maxlen, m->has_embedding ? 0 : m->input_dim);
        cJSON_AddNullToObject(root, "registered_name");
        cJSON *b = cJSON_AddObjectToObject(root, "build_config");
        add_shape(b, "input_shape", m->maxlen, m->has_embedding ? 0 : m->input_dim);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (text == NULL)
        tk_error_set(err, TK_E_NOMEM, "model_config: out of memory writing the JSON");
    return text;
}
