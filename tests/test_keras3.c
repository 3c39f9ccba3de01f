#define _POSIX_C_SOURCE 200809L
/* Keras 3 files: the shared Keras 2 models (CNN, LSTM, BiLSTM) converted in
 * this test into every layout Keras 3 writes -- legacy .h5 (model.save("x.h5")
 * under Keras 3: batch_shape, module/registered_name, dtype policies,
 * variable-length UTF-8 model_config, weight paths "sequential/dense/kernel"),
 * .keras zip archives (config.json + model.weights.h5 laid out by object
 * path + metadata.json), Functional configs with the args/kwargs
 * inbound_nodes, weights-only files with an architecture JSON -- must load
 * to the same parameters and forward outputs, bit for bit, as the Keras 2
 * file. The JSON is written here the way keras/src/saving/serialization_lib
 * serializes each object, independently of tokattr's own writer.
 *
 * With "--write DIR" the program writes its files to DIR and exits (used by
 * it_keras3.sh to run tokattr evaluate on them). */
#include <CUnit/CUnit.h>
#include <archive.h>
#include <archive_entry.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gemm.h"
#include "model/keras_h5.h"
#include "model/model.h"
#include "support/testutil.h"

/* ---- small text builder ---- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

/* text with the first `from` after `after` replaced by `to` (malloc'd). */
static char *replace_once(const char *text, const char *after, const char *from, const char *to)
{
    const char *a = strstr(text, after);
    const char *at = a != NULL ? strstr(a, from) : NULL;
    if (at == NULL)
        return NULL;
    sbuf b = {0};
    sb_add(&b, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return b.s;
}

static char *tmp_path(const char *name)
{
    static char buf[16][1024];
    static int next;
    char *p = buf[next++ % 16];
    snprintf(p, 1024, "%s/%s", tk_test_tmpdir(), name);
    return p;
}

/* ---- the weights of a layer, listed here independently of src/model ---- */

typedef struct wview {
    const float *data;
    int rank;
    hsize_t dims[3];
    const char *name;  /* Keras 2/3 variable name */
    int dir;           /* Bidirectional direction, -1 otherwise */
} wview;

static int layer_weights(const tk_layer *l, wview *w)
{
    int n = 0;
    switch (l->kind) {
    case TK_LAYER_EMBEDDING:
        w[n++] = (wview){l->embeddings, 2, {(hsize_t)l->input_dim, (hsize_t)l->output_dim}, "embeddings", -1};
        break;
    case TK_LAYER_CONV1D:
        w[n++] = (wview){l->kernel, 3, {(hsize_t)l->kernel_size, (hsize_t)l->in.channels, (hsize_t)l->filters}, "kernel", -1};
        if (l->use_bias)
            w[n++] = (wview){l->bias, 1, {(hsize_t)l->filters}, "bias", -1};
        break;
    case TK_LAYER_DENSE:
        w[n++] = (wview){l->kernel, 2, {(hsize_t)l->in.channels, (hsize_t)l->units}, "kernel", -1};
        if (l->use_bias)
            w[n++] = (wview){l->bias, 1, {(hsize_t)l->units}, "bias", -1};
        break;
    case TK_LAYER_LSTM:
    case TK_LAYER_BIDIRECTIONAL:
        for (int d = 0; d < (l->kind == TK_LAYER_LSTM ? 1 : 2); d++) {
            int dir = l->kind == TK_LAYER_LSTM ? -1 : d;
            hsize_t g = 4 * (hsize_t)l->units;
            w[n++] = (wview){l->lstm[d].kernel, 2, {(hsize_t)l->in.channels, g}, "kernel", dir};
            w[n++] = (wview){l->lstm[d].recurrent, 2, {(hsize_t)l->units, g}, "recurrent_kernel", dir};
            if (l->use_bias)
                w[n++] = (wview){l->lstm[d].bias, 1, {g}, "bias", dir};
        }
        break;
    default:
        break;
    }
    return n;
}

static bool write_dataset(hid_t loc, const char *name, const wview *w)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(w->rank, w->dims, NULL);
    hid_t d = H5Dcreate2(loc, name, H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    bool ok = d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w->data) >= 0;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(lcpl);
    return ok;
}

/* h5py: a Python str attribute is a scalar variable-length UTF-8 string. */
static void write_vlen_utf8(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    if (H5Aexists(obj, name) > 0)
        H5Adelete(obj, name);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &value);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

/* h5py: a list of bytes is a 1-D fixed-length null-padded string array. */
static void write_bytes_list(hid_t obj, const char *name, char **items, int n)
{
    size_t size = 1;
    for (int i = 0; i < n; i++)
        if (strlen(items[i]) > size)
            size = strlen(items[i]);
    char *buf = calloc((size_t)(n > 0 ? n : 1), size);
    for (int i = 0; i < n; i++)
        memcpy(buf + (size_t)i * size, items[i], strlen(items[i]));
    hsize_t dim = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, size);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t a;
    if (n == 0) { /* numpy: an empty float64 array */
        a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    } else {
        a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, buf);
    }
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);
    free(buf);
}

/* ---- Keras 3 JSON, as serialization_lib writes it ---- */

static const char *DTYPE =
    "{\"module\": \"keras\", \"class_name\": \"DTypePolicy\", \"config\": {\"name\": "
    "\"float32\"}, \"registered_name\": null}";

static const char *init_json(const char *cls)
{
    static char buf[4][256];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, 256, "{\"module\": \"keras.initializers\", \"class_name\": \"%s\", \"config\": "
             "{\"seed\": null}, \"registered_name\": null}", cls);
    return b;
}

static const char *act(tk_activation a)
{
    static const char *const N[] = {"linear", "relu", "sigmoid", "hard_sigmoid", "tanh", "softmax"};
    return N[a];
}

static void lstm_json(sbuf *b, const tk_layer *l, const char *name, bool backwards)
{
    sb_add(b, "{\"name\": \"%s\", \"trainable\": true, \"dtype\": %s, \"return_sequences\": %s, "
              "\"return_state\": false, \"go_backwards\": %s, \"stateful\": false, \"unroll\": "
              "false, \"zero_output_for_mask\": %s, \"units\": %d, \"activation\": \"tanh\", "
              "\"recurrent_activation\": \"%s\", \"use_bias\": %s, \"kernel_initializer\": %s, "
              "\"recurrent_initializer\": %s, \"bias_initializer\": %s, \"unit_forget_bias\": "
              "true, \"kernel_regularizer\": null, \"recurrent_regularizer\": null, "
              "\"bias_regularizer\": null, \"activity_regularizer\": null, \"kernel_constraint\": "
              "null, \"recurrent_constraint\": null, \"bias_constraint\": null, \"dropout\": 0.0, "
              "\"recurrent_dropout\": 0.0, \"seed\": null}",
           name, DTYPE, l->return_sequences ? "true" : "false", backwards ? "true" : "false",
           backwards ? "true" : "false", l->units, act(l->recurrent_activation),
           l->use_bias ? "true" : "false", init_json("GlorotUniform"), init_json("Orthogonal"),
           init_json("Zeros"));
}

/* One layer's {"module", "class_name", "config", "registered_name",
 * "build_config"}; functional adds "name" and "inbound_nodes" reading prev. */
static void layer_json(sbuf *b, const tk_model *m, const tk_layer *l, bool functional,
                       const char *prev, const char *prev_shape)
{
    const char *cls = l->class_name;
    sb_add(b, "{\"module\": \"keras.layers\", \"class_name\": \"%s\", \"config\": ", cls);
    if (l->kind != TK_LAYER_LSTM)
        sb_add(b, "{\"name\": \"%s\", \"trainable\": true, \"dtype\": %s", l->name, DTYPE);
    switch (l->kind) {
    case TK_LAYER_EMBEDDING:
        sb_add(b, ", \"input_dim\": %d, \"output_dim\": %d, \"embeddings_initializer\": "
                  "{\"module\": \"keras.initializers\", \"class_name\": \"RandomUniform\", "
                  "\"config\": {\"minval\": -0.05, \"maxval\": 0.05, \"seed\": null}, "
                  "\"registered_name\": null}, \"embeddings_regularizer\": null, "
                  "\"activity_regularizer\": null, \"embeddings_constraint\": null, "
                  "\"mask_zero\": false}", l->input_dim, l->output_dim);
        break;
    case TK_LAYER_CONV1D:
        sb_add(b, ", \"filters\": %d, \"kernel_size\": [%d], \"strides\": [%d], \"padding\": "
                  "\"%s\", \"data_format\": \"channels_last\", \"dilation_rate\": [%d], "
                  "\"groups\": 1, \"activation\": \"%s\", \"use_bias\": %s, \"kernel_initializer\": "
                  "%s, \"bias_initializer\": %s, \"kernel_regularizer\": null, "
                  "\"bias_regularizer\": null, \"activity_regularizer\": null, "
                  "\"kernel_constraint\": null, \"bias_constraint\": null}",
               l->filters, l->kernel_size, l->strides, l->padding_same ? "same" : "valid",
               l->dilation, act(l->activation), l->use_bias ? "true" : "false",
               init_json("GlorotUniform"), init_json("Zeros"));
        break;
    case TK_LAYER_DENSE:
        sb_add(b, ", \"units\": %d, \"activation\": \"%s\", \"use_bias\": %s, "
                  "\"kernel_initializer\": %s, \"bias_initializer\": %s, \"kernel_regularizer\": "
                  "null, \"bias_regularizer\": null, \"kernel_constraint\": null, "
                  "\"bias_constraint\": null}", l->units, act(l->activation),
               l->use_bias ? "true" : "false", init_json("GlorotUniform"), init_json("Zeros"));
        break;
    case TK_LAYER_DROPOUT:
        sb_add(b, ", \"rate\": %g, \"seed\": null, \"noise_shape\": null}", l->dropout_rate);
        break;
    case TK_LAYER_GLOBAL_MAX_POOL1D:
        sb_add(b, ", \"data_format\": \"channels_last\", \"keepdims\": false}");
        break;
    case TK_LAYER_LSTM:
        lstm_json(b, l, l->name, false);
        break;
    case TK_LAYER_BIDIRECTIONAL: {
        char fw[160], bw[160];
        snprintf(fw, sizeof fw, "forward_%s", l->inner_name);
        snprintf(bw, sizeof bw, "backward_%s", l->inner_name);
        sb_add(b, ", \"merge_mode\": \"concat\", \"layer\": {\"module\": \"keras.layers\", "
                  "\"class_name\": \"LSTM\", \"config\": ");
        lstm_json(b, l, fw, false);
        sb_add(b, ", \"registered_name\": null}, \"backward_layer\": {\"module\": "
                  "\"keras.layers\", \"class_name\": \"LSTM\", \"config\": ");
        lstm_json(b, l, bw, true);
        sb_add(b, ", \"registered_name\": null}}");
        break;
    }
    default:
        sb_add(b, "}");
        break;
    }
    sb_add(b, ", \"registered_name\": null");
    if (l->kind != TK_LAYER_DROPOUT && l->kind != TK_LAYER_GLOBAL_MAX_POOL1D) {
        if (l == &m->layers[0] && m->has_embedding)
            sb_add(b, ", \"build_config\": {\"input_shape\": [null, %d]}", m->maxlen);
        else if (l->in.steps > 0 && m->maxlen > 0)
            sb_add(b, ", \"build_config\": {\"input_shape\": [null, %d, %d]}", l->in.steps,
                   l->in.channels);
        else if (l->in.steps > 0)
            sb_add(b, ", \"build_config\": {\"input_shape\": [null, null, %d]}", l->in.channels);
        else
            sb_add(b, ", \"build_config\": {\"input_shape\": [null, %d]}", l->in.channels);
    }
    if (functional) {
        sb_add(b, ", \"name\": \"%s\", \"inbound_nodes\": [{\"args\": [{\"class_name\": "
                  "\"__keras_tensor__\", \"config\": {\"shape\": %s, \"dtype\": \"float32\", "
                  "\"keras_history\": [\"%s\", 0, 0]}}], \"kwargs\": %s}]", l->name, prev_shape,
               prev, l->kind == TK_LAYER_DROPOUT ? "{\"training\": false}" : "{}");
    }
    sb_add(b, "}");
}

static void input_json(sbuf *b, const tk_model *m, bool functional)
{
    if (m->has_embedding)
        sb_add(b, "{\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"config\": "
                  "{\"batch_shape\": [null, %d], \"dtype\": \"int32\", \"sparse\": false, "
                  "\"name\": \"input_layer\"}, \"registered_name\": null", m->maxlen);
    else
        sb_add(b, "{\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"config\": "
                  "{\"batch_shape\": [null, null, %d], \"dtype\": \"float32\", \"sparse\": false, "
                  "\"name\": \"input_layer\"}, \"registered_name\": null", m->input_dim);
    if (functional)
        sb_add(b, ", \"name\": \"input_layer\", \"inbound_nodes\": []");
    sb_add(b, "}");
}

typedef enum { SEQUENTIAL, FUNCTIONAL, FUNCTIONAL_BRANCH } k3_kind;

/* model.to_json() / config.json of m under Keras 3. */
static char *k3_config(const tk_model *m, k3_kind kind)
{
    sbuf b = {0};
    bool fn = kind != SEQUENTIAL;
    sb_add(&b, "{\"module\": \"keras%s\", \"class_name\": \"%s\", \"config\": {\"name\": \"%s\", "
               "\"trainable\": true, ", fn ? ".src.models.functional" : "",
           fn ? "Functional" : "Sequential", fn ? "functional" : "sequential");
    if (!fn)
        sb_add(&b, "\"dtype\": %s, ", DTYPE);
    sb_add(&b, "\"layers\": [");
    input_json(&b, m, fn);
    char prev[160] = "input_layer", shape[64];
    if (m->has_embedding)
        snprintf(shape, sizeof shape, "[null, %d]", m->maxlen);
    else
        snprintf(shape, sizeof shape, "[null, null, %d]", m->input_dim);
    for (int i = 0; i < m->n_layers; i++) {
        const tk_layer *l = &m->layers[i];
        sb_add(&b, ", ");
        /* The branch: the last layer reads the output of two layers back. */
        const char *src = prev;
        if (kind == FUNCTIONAL_BRANCH && i == m->n_layers - 1 && i >= 2)
            src = m->layers[i - 2].name;
        layer_json(&b, m, l, fn, src, shape);
        snprintf(prev, sizeof prev, "%s", l->name);
        if (l->out.steps > 0)
            snprintf(shape, sizeof shape, "[null, %d, %d]", l->out.steps, l->out.channels);
        else
            snprintf(shape, sizeof shape, "[null, %d]", l->out.channels);
    }
    sb_add(&b, "]");
    if (fn)
        sb_add(&b, ", \"input_layers\": [\"input_layer\", 0, 0], \"output_layers\": [\"%s\", 0, "
                   "0]}, \"registered_name\": \"Functional\"", prev);
    else if (m->has_embedding)
        sb_add(&b, ", \"build_input_shape\": [null, %d]}, \"registered_name\": null, "
                   "\"build_config\": {\"input_shape\": [null, %d]}", m->maxlen, m->maxlen);
    else
        sb_add(&b, ", \"build_input_shape\": [null, null, %d]}, \"registered_name\": null",
               m->input_dim);
    sb_add(&b, ", \"compile_config\": null}");
    return b.s;
}

/* ---- Keras 3 weight layouts ---- */

/* saving_lib's names: snake_case class, "_1", "_2" for repeats. */
static void k3_layer_group(const tk_model *m, int i, char *out, size_t size)
{
    static const struct { tk_layer_kind k; const char *snake; } S[] = {
        {TK_LAYER_EMBEDDING, "embedding"}, {TK_LAYER_CONV1D, "conv1d"},
        {TK_LAYER_DENSE, "dense"},         {TK_LAYER_LSTM, "lstm"},
        {TK_LAYER_BIDIRECTIONAL, "bidirectional"},
        {TK_LAYER_DROPOUT, "dropout"},     {TK_LAYER_GLOBAL_MAX_POOL1D, "global_max_pooling1d"},
    };
    const char *snake = "?";
    for (size_t k = 0; k < sizeof S / sizeof *S; k++)
        if (S[k].k == m->layers[i].kind)
            snake = S[k].snake;
    int seen = 0;
    for (int k = 0; k < i; k++)
        seen += m->layers[k].kind == m->layers[i].kind;
    if (seen)
        snprintf(out, size, "layers/%s_%d", snake, seen);
    else
        snprintf(out, size, "layers/%s", snake);
}

/* model.weights.h5 / x.weights.h5: layers/<name>[/cell|/forward_layer/cell]/vars/<i>. */
static void write_k3_weights(hid_t f, const tk_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        wview w[8];
        int n = layer_weights(&m->layers[i], w);
        char g[256], name[400];
        k3_layer_group(m, i, g, sizeof g);
        int idx[3] = {0, 0, 0};
        for (int k = 0; k < n; k++) {
            const char *owner = w[k].dir == 0 ? "/forward_layer/cell"
                                : w[k].dir == 1 ? "/backward_layer/cell"
                                : m->layers[i].kind == TK_LAYER_LSTM ? "/cell" : "";
            snprintf(name, sizeof name, "%s%s/vars/%d", g, owner, idx[w[k].dir + 1]++);
            CU_ASSERT(write_dataset(f, name, &w[k]));
        }
    }
}

/* Keras 3's legacy h5 (model.save("x.h5")): model_config as h5py writes a
 * str, model_weights/layer_names, weight_names = variable paths. */
static void write_k3_h5(const char *path, const tk_model *m, const char *config)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_vlen_utf8(f, "model_config", config);
    write_vlen_utf8(f, "keras_version", "3.3.3");
    write_vlen_utf8(f, "backend", "tensorflow");
    hid_t mw = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    char *names[64];
    for (int i = 0; i < m->n_layers; i++)
        names[i] = (char *)m->layers[i].name;
    write_bytes_list(mw, "layer_names", names, m->n_layers);
    write_vlen_utf8(mw, "backend", "tensorflow");
    write_vlen_utf8(mw, "keras_version", "3.3.3");
    for (int i = 0; i < m->n_layers; i++) {
        const tk_layer *l = &m->layers[i];
        hid_t g = H5Gcreate2(mw, l->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        wview w[8];
        int n = layer_weights(l, w);
        char paths[8][300], *pp[8];
        for (int k = 0; k < n; k++) {
            if (l->kind == TK_LAYER_BIDIRECTIONAL)
                snprintf(paths[k], 300, "sequential/%s/%s_%s/lstm_cell/%s", l->name,
                         w[k].dir == 0 ? "forward" : "backward", l->inner_name, w[k].name);
            else if (l->kind == TK_LAYER_LSTM)
                snprintf(paths[k], 300, "sequential/%s/lstm_cell/%s", l->name, w[k].name);
            else
                snprintf(paths[k], 300, "sequential/%s/%s", l->name, w[k].name);
            pp[k] = paths[k];
            CU_ASSERT(write_dataset(g, paths[k], &w[k]));
        }
        write_bytes_list(g, "weight_names", pp, n);
        H5Gclose(g);
    }
    hid_t top = H5Gcreate2(mw, "top_level_model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    write_bytes_list(top, "weight_names", NULL, 0);
    H5Gclose(top);
    H5Gclose(mw);
    H5Fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

typedef struct zmember {
    const char *name;
    const char *data;
    size_t size;
    const char *symlink; /* not NULL: a symbolic link to this target */
} zmember;

static void write_zip(const char *path, const zmember *mm, int n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    CU_ASSERT_FATAL(archive_write_open_filename(a, path) == ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, mm[i].name);
        if (mm[i].symlink != NULL) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, mm[i].symlink);
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)mm[i].size);
        }
        archive_entry_set_perm(e, 0644);
        CU_ASSERT(archive_write_header(a, e) == ARCHIVE_OK);
        if (mm[i].symlink == NULL && mm[i].size > 0)
            CU_ASSERT(archive_write_data(a, mm[i].data, mm[i].size) == (la_ssize_t)mm[i].size);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static const char *METADATA = "{\"keras_version\": \"3.3.3\", \"date_saved\": \"2024-05-01@12:00:00\"}";

/* A .keras archive: metadata.json, config.json, model.weights.h5 (+ extras). */
static void write_keras(const char *path, const tk_model *m, const char *config,
                        const zmember *extra, int n_extra)
{
    char wpath[1100];
    snprintf(wpath, sizeof wpath, "%s.weights-member.h5", path);
    hid_t f = H5Fcreate(wpath, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_k3_weights(f, m);
    H5Fclose(f);
    size_t wlen = 0;
    char *w = slurp(wpath, &wlen);
    zmember mm[8] = {
        {"metadata.json", METADATA, strlen(METADATA), NULL},
        {"config.json", config, strlen(config), NULL},
        {"model.weights.h5", w, wlen, NULL},
    };
    for (int i = 0; i < n_extra; i++)
        mm[3 + i] = extra[i];
    write_zip(path, mm, 3 + n_extra);
    free(w);
    unlink(wpath);
}

/* The model_config attribute's text, fixed or variable length (malloc'd). */
static char *read_config_attr(hid_t f)
{
    hid_t a = H5Aopen(f, "model_config", H5P_DEFAULT), t = H5Aget_type(a);
    char *text = NULL;
    if (H5Tis_variable_str(t) > 0) {
        char *v = NULL;
        hid_t mt = H5Tcopy(t);
        H5Aread(a, mt, &v);
        text = strdup(v);
        H5free_memory(v);
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(t);
        text = calloc(sz + 1, 1);
        H5Aread(a, t, text);
    }
    H5Tclose(t);
    H5Aclose(a);
    return text;
}

/* ---- comparison ---- */

static tk_model *load(const char *path, const char *arch)
{
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_load_with_architecture(path, arch, &m, &err) != TK_OK)
        fprintf(stderr, "load %s: %s\n", path, err.msg);
    return m;
}

/* Same parameters and bit-identical logits on a few inputs. */
static void expect_same_model(const tk_model *a, const tk_model *b)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL_FATAL(a->n_layers, b->n_layers);
    CU_ASSERT_EQUAL_FATAL(a->n_params, b->n_params);
    CU_ASSERT_EQUAL(a->maxlen, b->maxlen);
    CU_ASSERT_EQUAL(a->input_dim, b->input_dim);
    CU_ASSERT_EQUAL(a->n_outputs, b->n_outputs);
    CU_ASSERT_EQUAL(a->output_activation, b->output_activation);
    for (int i = 0; i < a->n_layers; i++)
        CU_ASSERT_EQUAL(a->layers[i].kind, b->layers[i].kind);
    CU_ASSERT(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
    int steps = a->maxlen > 0 ? a->maxlen : 23, batch = 3, d = a->input_dim;
    float *x = calloc((size_t)batch * steps * d, sizeof *x);
    float *la = calloc((size_t)batch * a->n_outputs, sizeof *la);
    float *lb = calloc((size_t)batch * a->n_outputs, sizeof *lb);
    uint64_t rng = 42;
    tk_error err = {0};
    if (a->has_embedding) {
        int32_t *ids = calloc((size_t)batch * steps, sizeof *ids);
        for (int i = 0; i < batch * steps; i++)
            ids[i] = (int32_t)(tk_model_rng_next(&rng) % (uint64_t)a->vocab_size);
        CU_ASSERT(tk_model_embed(a, ids, batch, steps, x, &err) == TK_OK);
        free(ids);
    } else {
        for (int i = 0; i < batch * steps * d; i++)
            x[i] = tk_model_rng_uniform(&rng) - 0.5f;
    }
    tk_workspace *wa = tk_workspace_create(a, batch, steps, &err);
    tk_workspace *wb = tk_workspace_create(b, batch, steps, &err);
    CU_ASSERT_FATAL(wa != NULL && wb != NULL);
    CU_ASSERT(tk_model_forward(a, wa, batch, steps, x, la, &err) == TK_OK);
    CU_ASSERT(tk_model_forward(b, wb, batch, steps, x, lb, &err) == TK_OK);
    CU_ASSERT(memcmp(la, lb, (size_t)batch * a->n_outputs * sizeof *la) == 0);
    bool nonzero = false;
    for (int i = 0; i < batch * a->n_outputs; i++)
        nonzero |= la[i] != 0.0f;
    CU_ASSERT(nonzero); /* a real comparison, not of two zero outputs */
    tk_workspace_destroy(wa);
    tk_workspace_destroy(wb);
    free(x);
    free(la);
    free(lb);
}

static void expect_error(const char *path, const char *arch, const char *n1, const char *n2,
                         const char *n3)
{
    tk_model *m = NULL;
    tk_error err = {0};
    tk_status st = tk_model_load_with_architecture(path, arch, &m, &err);
    CU_ASSERT_NOT_EQUAL(st, TK_OK);
    CU_ASSERT_PTR_NULL(m);
    const char *need[] = {path, n1, n2, n3};
    for (int i = 0; i < 4; i++)
        if (need[i] != NULL && strstr(err.msg, need[i]) == NULL) {
            fprintf(stderr, "\nmessage lacks '%s': %s\n", need[i], err.msg);
            CU_FAIL("message");
        }
    tk_model_destroy(m);
}

static const char *const SEEDS[] = {"models/imdb_cnn.h5", "models/imdb_lstm.h5",
                                    "models/keras_bilstm_sst5.h5"};
static const char *const SEED_NAMES[] = {"cnn", "lstm", "bilstm"};

/* ---- tests ---- */

static void test_keras3_h5(void)
{
    for (int s = 0; s < 3; s++) {
        tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[s]));
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
        char name[64];
        snprintf(name, sizeof name, "%s_k3.h5", SEED_NAMES[s]);
        char *cfg = k3_config(ref, SEQUENTIAL);
        write_k3_h5(tmp_path(name), ref, cfg);
        tk_model *m = load(tmp_path(name), NULL);
        expect_same_model(ref, m);
        if (m != NULL)
            CU_ASSERT_STRING_EQUAL(m->format, "Keras 3 h5");
        tk_model_destroy(m);
        free(cfg);
        tk_model_destroy(ref);
    }
}

static void test_keras_archive(void)
{
    for (int s = 0; s < 3; s++) {
        tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[s]));
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
        char name[64];
        snprintf(name, sizeof name, "%s.keras", SEED_NAMES[s]);
        char *cfg = k3_config(ref, SEQUENTIAL);
        write_keras(tmp_path(name), ref, cfg, NULL, 0);
        tk_model *m = load(tmp_path(name), NULL);
        expect_same_model(ref, m);
        if (m != NULL) {
            CU_ASSERT_STRING_EQUAL(m->format, "Keras 3 .keras");
            CU_ASSERT_STRING_EQUAL(m->keras_version, "3.3.3");
        }
        tk_model_destroy(m);
        free(cfg);
        tk_model_destroy(ref);
    }
}

/* Keras 3 names weight groups by keras.src.utils.naming.to_snake_case of the
 * class; the expected names are that function's output (its two re.sub
 * rules run with python3), including classes other branches add. */
static void test_snake_case(void)
{
    static const char *const CASES[][2] = {
        {"Conv1D", "conv1d"}, {"GlobalMaxPooling1D", "global_max_pooling1d"},
        {"GlobalAveragePooling1D", "global_average_pooling1d"}, {"LSTM", "lstm"},
        {"SimpleRNN", "simple_rnn"}, {"GRU", "gru"},
        {"BatchNormalization", "batch_normalization"}, {"SpatialDropout1D", "spatial_dropout1d"},
        {"TextVectorization", "text_vectorization"}, {"InputLayer", "input_layer"},
        {"MaxPooling1D", "max_pooling1d"}, {"Bidirectional", "bidirectional"},
        {"ActivityRegularization", "activity_regularization"},
        {"GaussianNoise", "gaussian_noise"}, {"ABcDe", "a_bc_de"}, {"aBC", "a_bc"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        char out[64];
        tk_keras_snake_case(CASES[i][0], out, sizeof out);
        if (strcmp(out, CASES[i][1]) != 0)
            fprintf(stderr, "\nsnake_case(%s) = %s, Keras gives %s\n", CASES[i][0], out,
                    CASES[i][1]);
        CU_ASSERT_STRING_EQUAL(out, CASES[i][1]);
    }
}

/* A Sequential config without InputLayer or build_input_shape (built
 * lazily): the length comes from the first layer's build_config. */
static void test_no_input_layer(void)
{
    tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[0]));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    char *cfg = k3_config(ref, SEQUENTIAL);
    char *a = strstr(cfg, "{\"module\": \"keras.layers\", \"class_name\": \"InputLayer\"");
    char *e = strstr(cfg, "{\"module\": \"keras.layers\", \"class_name\": \"Embedding\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    memmove(a, e, strlen(e) + 1);
    char *lazy = replace_once(cfg, "\"layers\"", ", \"build_input_shape\": [null, 100]", "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lazy);
    CU_ASSERT(strstr(lazy, "InputLayer") == NULL);
    write_keras(tmp_path("lazy.keras"), ref, lazy, NULL, 0);
    tk_model *m = load(tmp_path("lazy.keras"), NULL);
    expect_same_model(ref, m);
    if (m != NULL)
        CU_ASSERT_EQUAL(m->maxlen, 100);
    tk_model_destroy(m);
    free(lazy);
    free(cfg);
    tk_model_destroy(ref);
}

static void test_functional(void)
{
    for (int s = 0; s < 3; s++) {
        tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[s]));
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
        char name[64];
        snprintf(name, sizeof name, "%s_fn.keras", SEED_NAMES[s]);
        char *cfg = k3_config(ref, FUNCTIONAL);
        write_keras(tmp_path(name), ref, cfg, NULL, 0);
        tk_model *m = load(tmp_path(name), NULL);
        expect_same_model(ref, m);
        tk_model_destroy(m);
        free(cfg);
        /* A real branch: the last layer reads two layers back. */
        if (ref->n_layers >= 3) {
            snprintf(name, sizeof name, "%s_branch.keras", SEED_NAMES[s]);
            cfg = k3_config(ref, FUNCTIONAL_BRANCH);
            write_keras(tmp_path(name), ref, cfg, NULL, 0);
            const tk_layer *last = &ref->layers[ref->n_layers - 1];
            expect_error(tmp_path(name), NULL, last->name, ref->layers[ref->n_layers - 3].name,
                         "single chain");
            free(cfg);
        }
        tk_model_destroy(ref);
    }
    /* A merge layer: two tensors in its first argument. */
    tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[0]));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    char *cfg = k3_config(ref, FUNCTIONAL);
    const char *from = "\"args\": [{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": "
                       "[null, 250], \"dtype\": \"float32\", \"keras_history\": [\"dropout_1\"";
    char *at = strstr(cfg, from);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    sbuf b = {0};
    sb_add(&b, "%.*s\"args\": [[{\"class_name\": \"__keras_tensor__\", \"config\": "
               "{\"keras_history\": [\"dense\", 0, 0]}}, {\"class_name\": \"__keras_tensor__\", "
               "\"config\": {\"keras_history\": [\"dropout_1\", 0, 0]}}]], \"kwargs\": {}}]}",
           (int)(at - cfg), cfg);
    /* close the rest of the config after the merged layer */
    char *rest = strstr(at, "\"inbound_nodes\"");
    (void)rest;
    char *tail = strstr(at, "], \"input_layers\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tail);
    sb_add(&b, "%s", tail);
    write_keras(tmp_path("merge.keras"), ref, b.s, NULL, 0);
    expect_error(tmp_path("merge.keras"), NULL, "dense_1", "several inputs", NULL);
    free(b.s);
    free(cfg);
    tk_model_destroy(ref);
}

static void test_weights_only(void)
{
    for (int s = 0; s < 3; s++) {
        tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[s]));
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
        char name[64], arch[64];
        /* Keras 2 save_weights: layer groups at the root, layer_names; the
         * architecture is the model_config text (model.to_json()). */
        snprintf(name, sizeof name, "%s_k2.weights.h5", SEED_NAMES[s]);
        snprintf(arch, sizeof arch, "%s_k2.json", SEED_NAMES[s]);
        hid_t src = H5Fopen(tk_test_shared(SEEDS[s]), H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t dst = H5Fcreate(tmp_path(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t mw = H5Gopen2(src, "model_weights", H5P_DEFAULT);
        for (int i = 0; i < ref->n_layers; i++)
            H5Ocopy(mw, ref->layers[i].name, dst, ref->layers[i].name, H5P_DEFAULT, H5P_DEFAULT);
        H5Ocopy(src, "model_weights", dst, "unused", H5P_DEFAULT, H5P_DEFAULT);
        H5Ldelete(dst, "unused", H5P_DEFAULT);
        char *names[64];
        for (int i = 0; i < ref->n_layers; i++)
            names[i] = (char *)ref->layers[i].name;
        write_bytes_list(dst, "layer_names", names, ref->n_layers);
        H5Gclose(mw);
        /* the architecture: the file's own model_config text */
        char *text = read_config_attr(src);
        spit(tmp_path(arch), text);
        free(text);
        H5Fclose(src);
        H5Fclose(dst);
        expect_error(tmp_path(name), NULL, "weights-only", "--architecture", NULL);
        tk_model *m = load(tmp_path(name), tmp_path(arch));
        expect_same_model(ref, m);
        if (m != NULL)
            CU_ASSERT(strstr(m->format, "weights h5 + architecture JSON") != NULL);
        tk_model_destroy(m);

        /* Keras 3 save_weights("x.weights.h5") + a Keras 3 to_json(). */
        snprintf(name, sizeof name, "%s_k3.weights.h5", SEED_NAMES[s]);
        snprintf(arch, sizeof arch, "%s_k3.json", SEED_NAMES[s]);
        hid_t f = H5Fcreate(tmp_path(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        write_k3_weights(f, ref);
        H5Fclose(f);
        char *cfg = k3_config(ref, SEQUENTIAL);
        spit(tmp_path(arch), cfg);
        free(cfg);
        m = load(tmp_path(name), tmp_path(arch));
        expect_same_model(ref, m);
        if (m != NULL)
            CU_ASSERT_STRING_EQUAL(m->format, "Keras 3 weights h5 + architecture JSON");
        tk_model_destroy(m);
        expect_error(tmp_path(name), "no-such-architecture.json", "no-such-architecture.json",
                     "no such file", NULL);
        /* tf.keras 2.13-2.15 named the layers list _layer_checkpoint_dependencies. */
        f = H5Fopen(tmp_path(name), H5F_ACC_RDWR, H5P_DEFAULT);
        CU_ASSERT(H5Lmove(f, "layers", f, "_layer_checkpoint_dependencies", H5P_DEFAULT,
                          H5P_DEFAULT) >= 0);
        H5Fclose(f);
        m = load(tmp_path(name), tmp_path(arch));
        expect_same_model(ref, m);
        tk_model_destroy(m);
        /* a weight too many in a layer's vars */
        f = H5Fopen(tmp_path(name), H5F_ACC_RDWR, H5P_DEFAULT);
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        CU_ASSERT(H5Lcreate_hard(f, "_layer_checkpoint_dependencies/dense/vars/0", f,
                                 "_layer_checkpoint_dependencies/dense/vars/7", lcpl,
                                 H5P_DEFAULT) >= 0);
        H5Pclose(lcpl);
        H5Fclose(f);
        const tk_layer *dense = NULL;
        for (int i = 0; i < ref->n_layers && dense == NULL; i++)
            if (ref->layers[i].kind == TK_LAYER_DENSE)
                dense = &ref->layers[i];
        CU_ASSERT_PTR_NOT_NULL_FATAL(dense);
        char who[200], holds[64], explains[64];
        wview wv[8];
        int nw = layer_weights(dense, wv);
        snprintf(who, sizeof who, "'%s' (Dense)", dense->name);
        snprintf(holds, sizeof holds, "holds %d weights", nw + 1);
        snprintf(explains, sizeof explains, "explains %d", nw);
        expect_error(tmp_path(name), tmp_path(arch), who, holds, explains);
        tk_model_destroy(ref);
    }
}

/* h5py's default for a str attribute: variable-length UTF-8 (issue 20). */
static void test_vlen_utf8_config(void)
{
    tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[0]));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    size_t len = 0;
    char *bytes = slurp(tk_test_shared(SEEDS[0]), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    FILE *out = fopen(tmp_path("cnn_vlen.h5"), "wb");
    fwrite(bytes, 1, len, out);
    fclose(out);
    free(bytes);
    hid_t f = H5Fopen(tmp_path("cnn_vlen.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    char *text = read_config_attr(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    write_vlen_utf8(f, "model_config", text);
    free(text);
    H5Fclose(f);
    tk_model *m = load(tmp_path("cnn_vlen.h5"), NULL);
    expect_same_model(ref, m);
    tk_model_destroy(m);
    tk_model_destroy(ref);
}

static void test_save_keras_round_trip(void)
{
    for (int s = 0; s < 3; s++) {
        tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[s]));
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
        char name[64];
        snprintf(name, sizeof name, "%s_saved.keras", SEED_NAMES[s]);
        tk_error err = {0};
        CU_ASSERT_EQUAL_FATAL(tk_model_save_keras(ref, tmp_path(name), &err), TK_OK);
        tk_model *m = load(tmp_path(name), NULL);
        expect_same_model(ref, m);
        if (m != NULL)
            for (int i = 0; i < m->n_layers; i++)
                CU_ASSERT_STRING_EQUAL(m->layers[i].name, ref->layers[i].name);
        tk_model_destroy(m);
        tk_model_destroy(ref);
    }
}

static void test_bad_archives(void)
{
    tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[1]));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    char *cfg = k3_config(ref, SEQUENTIAL);
    write_keras(tmp_path("good.keras"), ref, cfg, NULL, 0);
    size_t len = 0;
    char *bytes = slurp(tmp_path("good.keras"), &len);
    /* truncated zip */
    FILE *f = fopen(tmp_path("cut.keras"), "wb");
    fwrite(bytes, 1, len / 2, f);
    fclose(f);
    expect_error(tmp_path("cut.keras"), NULL, NULL, NULL, NULL);
    /* a zip magic, then garbage */
    f = fopen(tmp_path("junk.keras"), "wb");
    static const char junk[] = "PK\x03\x04 this is not a zip archive at all";
    fwrite(junk, 1, sizeof junk - 1, f);
    fclose(f);
    expect_error(tmp_path("junk.keras"), NULL, "zip", NULL, NULL);
    free(bytes);
    /* missing members */
    zmember only_cfg[] = {{"config.json", cfg, strlen(cfg), NULL}};
    write_zip(tmp_path("noweights.keras"), only_cfg, 1);
    expect_error(tmp_path("noweights.keras"), NULL, "model.weights.h5", NULL, NULL);
    zmember only_meta[] = {{"metadata.json", METADATA, strlen(METADATA), NULL}};
    write_zip(tmp_path("noconfig.keras"), only_meta, 1);
    expect_error(tmp_path("noconfig.keras"), NULL, "config.json", NULL, NULL);
    /* corrupt config.json */
    write_keras(tmp_path("badjson.keras"), ref, "{\"class_name\": \"Sequential\", ", NULL, 0);
    expect_error(tmp_path("badjson.keras"), NULL, "config.json", "not valid JSON", NULL);
    /* a member that is a link */
    zmember link[] = {{"assets/evil", NULL, 0, "/etc/passwd"}};
    write_keras(tmp_path("link.keras"), ref, cfg, link, 1);
    expect_error(tmp_path("link.keras"), NULL, "assets/evil", "not a regular file", NULL);
    /* a weight of the wrong shape, an extra weight, an unknown layer */
    char *wrong = strdup(cfg);
    char *u = strstr(wrong, "\"units\": 128");
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    memcpy(u, "\"units\": 127", 12);
    write_keras(tmp_path("shape.keras"), ref, wrong, NULL, 0);
    free(wrong);
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_NOT_EQUAL(tk_model_load(tmp_path("shape.keras"), &m, &err), TK_OK);
    CU_ASSERT(strstr(err.msg, "layers/lstm/cell/vars/0") != NULL || strstr(err.msg, "shape") != NULL);
    CU_ASSERT(strstr(err.msg, "lstm") != NULL);
    char *custom = replace_once(cfg, "\"class_name\": \"LSTM\"", "\"module\": \"keras.layers\"",
                                "\"module\": \"my_project.ly\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(custom);
    write_keras(tmp_path("custom.keras"), ref, custom, NULL, 0);
    expect_error(tmp_path("custom.keras"), NULL, "dense", "my_project.ly", "custom");
    free(custom);
    free(cfg);
    tk_model_destroy(ref);
}

/* m's Keras 3 config with an adapted TextVectorization before the Embedding. */
static char *tv_config(const tk_model *ref)
{
    char *cfg = k3_config(ref, SEQUENTIAL);
    const char *emb = "{\"module\": \"keras.layers\", \"class_name\": \"Embedding\"";
    char *at = strstr(cfg, emb);
    if (at == NULL) {
        free(cfg);
        return NULL;
    }
    sbuf b = {0};
    sb_add(&b, "{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": "
               "\"sequential\", \"trainable\": true, \"dtype\": %s, \"layers\": [{\"module\": "
               "\"keras.layers\", \"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": "
               "[null, 1], \"dtype\": \"string\", \"sparse\": false, \"name\": \"input_layer\"}, "
               "\"registered_name\": null}, {\"module\": \"keras.layers\", \"class_name\": "
               "\"TextVectorization\", \"config\": {\"name\": \"text_vectorization\", "
               "\"trainable\": true, \"dtype\": %s, \"max_tokens\": 20000, \"standardize\": "
               "\"lower_and_strip_punctuation\", \"split\": \"whitespace\", \"ngrams\": null, "
               "\"output_mode\": \"int\", \"output_sequence_length\": %d, \"pad_to_max_tokens\": "
               "false, \"sparse\": false, \"ragged\": false, \"vocabulary\": null, "
               "\"idf_weights\": null, \"encoding\": \"utf-8\", \"vocabulary_size\": 5}, "
               "\"registered_name\": null}, %s", DTYPE, DTYPE, ref->maxlen, at);
    free(cfg);
    return b.s;
}

static const char *TV_VOCAB = "\n[UNK]\nthe\nfilm\ngreat\n";

static void test_text_vectorization(void)
{
    tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[1]));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    char *cfg = k3_config(ref, SEQUENTIAL);
    sbuf b = {tv_config(ref), 0, 0};
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.s);
    zmember assets[] = {{"assets/layers/text_vectorization/vocabulary.txt", TV_VOCAB,
                         strlen(TV_VOCAB), NULL}};
    write_keras(tmp_path("tv.keras"), ref, b.s, assets, 1);
    tk_model *m = load(tmp_path("tv.keras"), NULL);
    expect_same_model(ref, m);
    if (m != NULL) {
        CU_ASSERT(m->text_vectorization.present);
        CU_ASSERT_EQUAL(m->text_vectorization.output_sequence_length, 80);
        CU_ASSERT_STRING_EQUAL(m->text_vectorization.standardize, "lower_and_strip_punctuation");
        CU_ASSERT_STRING_EQUAL(m->text_vectorization.split, "whitespace");
    }
    tk_model_destroy(m);
    char **words = NULL;
    int64_t n = 0;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_model_text_vocabulary(tmp_path("tv.keras"), NULL, &words, &n, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    CU_ASSERT_STRING_EQUAL(words[0], "");
    CU_ASSERT_STRING_EQUAL(words[1], "[UNK]");
    CU_ASSERT_STRING_EQUAL(words[4], "great");
    tk_model_free_words(words, n);
    /* Not adapted: the vocabulary as a list in the config. */
    char *listed = strdup(b.s);
    char *v = strstr(listed, "\"vocabulary\": null");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    sbuf b2 = {0};
    sb_add(&b2, "%.*s\"vocabulary\": [\"\", \"[UNK]\", \"caf\\u00e9\"]%s", (int)(v - listed),
           listed, v + strlen("\"vocabulary\": null"));
    write_keras(tmp_path("tv_list.keras"), ref, b2.s, NULL, 0);
    err = (tk_error){0};
    CU_ASSERT_EQUAL(tk_model_text_vocabulary(tmp_path("tv_list.keras"), NULL, &words, &n, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(words[2], "caf\xc3\xa9");
    tk_model_free_words(words, n);
    /* Not stored (a Keras 3 h5 keeps no assets): say exactly what to pass. */
    write_k3_h5(tmp_path("tv.h5"), ref, b.s);
    err = (tk_error){0};
    CU_ASSERT_EQUAL(tk_model_text_vocabulary(tmp_path("tv.h5"), NULL, &words, &n, &err),
                    TK_E_UNSUPPORTED);
    CU_ASSERT(strstr(err.msg, "--tokenizer text-vectorization:VOCAB.txt") != NULL);
    CU_ASSERT(strstr(err.msg, "text_vectorization") != NULL);
    /* A TextVectorization option tokattr cannot reproduce. */
    char *bigram = strdup(b.s);
    char *ng = strstr(bigram, "\"ngrams\": null");
    memcpy(ng, "\"ngrams\": 2   ", 14);
    write_keras(tmp_path("tv_ngrams.keras"), ref, bigram, assets, 1);
    expect_error(tmp_path("tv_ngrams.keras"), NULL, "text_vectorization", "ngrams", "not supported");
    free(bigram);
    free(listed);
    free(b2.s);
    free(b.s);
    free(cfg);
    tk_model_destroy(ref);
}

/* --write DIR: the files it_keras3.sh evaluates. */
static const char *fixture_dir;

static int write_fixtures(const char *dir)
{
    for (int s = 0; s < 3; s++) {
        tk_model *ref = tk_test_load_model(tk_test_shared(SEEDS[s]));
        if (ref == NULL)
            return 1;
        char p[2048], q[2048];
        char *cfg = k3_config(ref, SEQUENTIAL);
        snprintf(p, sizeof p, "%s/%s_k3.h5", dir, SEED_NAMES[s]);
        write_k3_h5(p, ref, cfg);
        snprintf(p, sizeof p, "%s/%s.keras", dir, SEED_NAMES[s]);
        write_keras(p, ref, cfg, NULL, 0);
        snprintf(p, sizeof p, "%s/%s.weights.h5", dir, SEED_NAMES[s]);
        hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        write_k3_weights(f, ref);
        H5Fclose(f);
        snprintf(q, sizeof q, "%s/%s.json", dir, SEED_NAMES[s]);
        spit(q, cfg);
        free(cfg);
        cfg = k3_config(ref, FUNCTIONAL);
        snprintf(p, sizeof p, "%s/%s_fn.keras", dir, SEED_NAMES[s]);
        write_keras(p, ref, cfg, NULL, 0);
        free(cfg);
        cfg = k3_config(ref, FUNCTIONAL_BRANCH);
        snprintf(p, sizeof p, "%s/%s_branch.keras", dir, SEED_NAMES[s]);
        write_keras(p, ref, cfg, NULL, 0);
        free(cfg);
        if (ref->has_embedding) {
            cfg = tv_config(ref);
            zmember assets[] = {{"assets/layers/text_vectorization/vocabulary.txt", TV_VOCAB,
                                 strlen(TV_VOCAB), NULL}};
            snprintf(p, sizeof p, "%s/%s_tv.keras", dir, SEED_NAMES[s]);
            write_keras(p, ref, cfg, assets, 1);
            free(cfg);
        }
        tk_model_destroy(ref);
    }
    return 0;
}

static void test_write_fixtures(void)
{
    CU_ASSERT_EQUAL(write_fixtures(fixture_dir), 0);
}

int main(int argc, char **argv)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        fixture_dir = argv[2];
        static const tk_test_case write_case[] = {{"write the Keras 3 files", test_write_fixtures},
                                                  {NULL, NULL}};
        tk_test_add_suite("keras3-write", write_case);
        return tk_test_run_all();
    }
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"Keras 3 .h5 (batch_shape, modules, dtype policies, vlen config) = Keras 2 file", test_keras3_h5},
        {".keras archives (weights by object path) = Keras 2 file", test_keras_archive},
        {"Keras 3 Functional chains load; branches and merges refused", test_functional},
        {"Keras 3 Sequential without InputLayer: length from build_config", test_no_input_layer},
        {"weight group names: Keras' to_snake_case", test_snake_case},
        {"weights-only h5 (Keras 2 and 3 layouts) + architecture JSON", test_weights_only},
        {"model_config as variable-length UTF-8 (h5py)", test_vlen_utf8_config},
        {"tk_model_save_keras round trip", test_save_keras_round_trip},
        {"bad zip, missing member, corrupt config, links, custom layers", test_bad_archives},
        {"TextVectorization: config, assets vocabulary, refusal", test_text_vectorization},
        {NULL, NULL},
    };
    tk_test_add_suite("keras3", cases);
    return tk_test_run_all();
}
