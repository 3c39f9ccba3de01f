#define _POSIX_C_SOURCE 200809L
/* model I/O: tk_model_save round trips and keeps Keras' layout; broken and
 * unsupported files give an error naming the file and what is wrong. */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "model/model.h"
#include "support/testutil.h"

static char *tmp_path(const char *name)
{
    static char buf[8][1024];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 1024, "%s/%s", tk_test_tmpdir(), name);
    return p;
}

static bool copy_file(const char *from, const char *to, long max_bytes)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in != NULL && out != NULL;
    char buf[65536];
    long total = 0;
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (max_bytes >= 0 && total + (long)n > max_bytes)
            n = (size_t)(max_bytes - total);
        ok = fwrite(buf, 1, n, out) == n;
        total += (long)n;
        if (max_bytes >= 0 && total >= max_bytes)
            break;
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    return ok;
}

static char *read_vstring_attr(hid_t obj, const char *name)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    char *v = NULL, *copy = NULL;
    if (a >= 0 && H5Aread(a, t, &v) >= 0 && v != NULL) {
        copy = strdup(v);
        free(v);
    }
    H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return copy;
}

static void write_string_attr(hid_t obj, const char *name, const char *value, bool fixed)
{
    if (H5Aexists(obj, name) > 0)
        H5Adelete(obj, name);
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, fixed ? strlen(value) : H5T_VARIABLE);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT(H5Awrite(a, t, fixed ? (const void *)value : (const void *)&value) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

/* A copy of a shared model with `from` replaced by `to` in its model_config. */
static const char *variant(const char *model_rel, const char *name, const char *from,
                           const char *to, bool fixed)
{
    const char *path = tmp_path(name);
    CU_ASSERT_FATAL(copy_file(tk_test_shared(model_rel), path, -1));
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    char *json = read_vstring_attr(f, "model_config");
    CU_ASSERT_FATAL(json != NULL);
    char *hit = from != NULL ? strstr(json, from) : NULL;
    CU_ASSERT_FATAL(from == NULL || hit != NULL);
    size_t len = strlen(json) + (to ? strlen(to) : 0) + 1;
    char *edited = malloc(len);
    if (hit != NULL)
        snprintf(edited, len, "%.*s%s%s", (int)(hit - json), json, to, hit + strlen(from));
    else
        snprintf(edited, len, "%s", json);
    write_string_attr(f, "model_config", edited, fixed);
    free(json);
    free(edited);
    H5Fclose(f);
    return path;
}

/* Loading path fails with status st and a message holding every needle. */
static void expect_error(const char *path, tk_status st, const char *n1, const char *n2,
                         const char *n3)
{
    tk_model *m = NULL;
    tk_error err = {0};
    tk_status got = tk_model_load(path, &m, &err);
    CU_ASSERT_EQUAL(got, st);
    CU_ASSERT_PTR_NULL(m);
    const char *needles[] = {path, n1, n2, n3};
    for (int i = 0; i < 4; i++)
        if (needles[i] != NULL && strstr(err.msg, needles[i]) == NULL) {
            fprintf(stderr, "\nmessage lacks '%s': %s\n", needles[i], err.msg);
            CU_FAIL("message");
        }
    tk_model_destroy(m);
}

static void forward_some(const tk_model *m, int steps, float *logits)
{
    tk_error err = {0};
    int B = 3, D = m->input_dim;
    float *x = malloc(sizeof(float) * (size_t)B * steps * D);
    uint64_t s = 11;
    for (int i = 0; i < B * steps * D; i++)
        x[i] = tk_model_rng_uniform(&s) - 0.5f;
    tk_workspace *ws = tk_workspace_create(m, B, steps, &err);
    CU_ASSERT_FATAL(ws != NULL);
    CU_ASSERT_EQUAL(tk_model_forward(m, ws, B, steps, x, logits, &err), TK_OK);
    tk_workspace_destroy(ws);
    free(x);
}

static int string_list(hid_t obj, const char *attr, char out[][128], int max, bool *empty_f64)
{
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int n = (int)H5Sget_simple_extent_npoints(sp);
    *empty_f64 = H5Tget_class(t) == H5T_FLOAT && n == 0;
    if (H5Tget_class(t) == H5T_STRING && n <= max) {
        size_t size = H5Tget_size(t);
        char *buf = calloc((size_t)n, size + 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, size);
        H5Tset_strpad(mt, H5T_STR_NULLPAD);
        H5Aread(a, mt, buf);
        for (int i = 0; i < n; i++)
            snprintf(out[i], 128, "%.*s", (int)size, buf + (size_t)i * size);
        H5Tclose(mt);
        free(buf);
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return n;
}

/* Saved files follow the layout of the real Keras file: same root and
 * model_weights attributes, layer_names, weight_names naming datasets that
 * exist, weightless layers with an empty float64 weight_names. */
static void check_layout(const char *orig, const char *saved)
{
    hid_t fo = H5Fopen(orig, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t fs = H5Fopen(saved, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(fo >= 0 && fs >= 0);
    static const char *root_attrs[] = {"model_config", "keras_version", "backend"};
    for (int i = 0; i < 3; i++)
        CU_ASSERT(H5Aexists(fs, root_attrs[i]) > 0);
    hid_t mo = H5Gopen2(fo, "model_weights", H5P_DEFAULT);
    hid_t ms = H5Gopen2(fs, "model_weights", H5P_DEFAULT);
    CU_ASSERT_FATAL(mo >= 0 && ms >= 0);
    CU_ASSERT(H5Aexists(ms, "backend") > 0 && H5Aexists(ms, "keras_version") > 0);
    char lo[32][128], ls[32][128];
    bool e1, e2;
    int no = string_list(mo, "layer_names", lo, 32, &e1);
    int ns = string_list(ms, "layer_names", ls, 32, &e2);
    CU_ASSERT_EQUAL_FATAL(no, ns);
    for (int i = 0; i < no; i++) {
        CU_ASSERT_STRING_EQUAL(lo[i], ls[i]);
        hid_t go = H5Gopen2(mo, lo[i], H5P_DEFAULT), gs = H5Gopen2(ms, ls[i], H5P_DEFAULT);
        CU_ASSERT_FATAL(go >= 0 && gs >= 0);
        char wo[8][128], wsn[8][128];
        bool eo, es;
        int nwo = string_list(go, "weight_names", wo, 8, &eo);
        int nws = string_list(gs, "weight_names", wsn, 8, &es);
        CU_ASSERT_EQUAL(nwo, nws);
        CU_ASSERT_EQUAL(eo, es);
        for (int w = 0; w < nws && w < 8; w++) {
            CU_ASSERT(H5Lexists(gs, wsn[w], H5P_DEFAULT) > 0 || strchr(wsn[w], '/') != NULL);
            hid_t d = H5Dopen2(gs, wsn[w], H5P_DEFAULT);
            CU_ASSERT(d >= 0);
            if (d >= 0)
                H5Dclose(d);
        }
        H5Gclose(go);
        H5Gclose(gs);
    }
    H5Gclose(mo);
    H5Gclose(ms);
    H5Fclose(fo);
    H5Fclose(fs);
}

static void round_trip(const char *rel, const char *name, bool same_names)
{
    tk_model *a = NULL, *b = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_load(tk_test_shared(rel), &a, &err), TK_OK);
    const char *path = tmp_path(name);
    CU_ASSERT_EQUAL_FATAL(tk_model_save(a, path, &err), TK_OK);
    if (tk_model_load(path, &b, &err) != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL(a->n_layers, b->n_layers);
    CU_ASSERT_EQUAL(a->n_params, b->n_params);
    CU_ASSERT_EQUAL(a->maxlen, b->maxlen);
    CU_ASSERT_EQUAL(memcmp(a->params, b->params, a->n_params * sizeof(float)), 0);
    for (int i = 0; i < a->n_layers; i++) {
        const tk_layer *x = &a->layers[i], *y = &b->layers[i];
        CU_ASSERT(x->kind == y->kind && x->activation == y->activation &&
                  x->use_bias == y->use_bias && x->units == y->units &&
                  x->return_sequences == y->return_sequences && x->merge_mode == y->merge_mode &&
                  x->recurrent_activation == y->recurrent_activation &&
                  x->dropout_rate == y->dropout_rate && x->filters == y->filters &&
                  x->kernel_size == y->kernel_size);
        CU_ASSERT_STRING_EQUAL(x->name, y->name);
    }
    int steps = a->maxlen > 0 ? a->maxlen : 9;
    float la[3 * 8], lb[3 * 8];
    forward_some(a, steps, la);
    forward_some(b, steps, lb);
    CU_ASSERT_EQUAL(memcmp(la, lb, sizeof(float) * 3 * (size_t)a->n_outputs), 0);
    check_layout(tk_test_shared(rel), path);
    if (same_names) {
        /* tf.keras-style files: our weight_names are Keras' exactly. */
        hid_t fo = H5Fopen(tk_test_shared(rel), H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t fs = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        for (int i = 0; i < a->n_layers; i++) {
            char p[300], wo[8][128], wsn[8][128];
            bool e;
            snprintf(p, sizeof p, "model_weights/%s", a->layers[i].name);
            hid_t go = H5Gopen2(fo, p, H5P_DEFAULT), gs = H5Gopen2(fs, p, H5P_DEFAULT);
            int n = string_list(go, "weight_names", wo, 8, &e);
            string_list(gs, "weight_names", wsn, 8, &e);
            for (int w = 0; w < n; w++)
                CU_ASSERT_STRING_EQUAL(wo[w], wsn[w]);
            H5Gclose(go);
            H5Gclose(gs);
        }
        H5Fclose(fo);
        H5Fclose(fs);
    }
    tk_model_destroy(a);
    tk_model_destroy(b);
}

static void test_round_trip_cnn(void)
{
    round_trip("models/imdb_cnn.h5", "cnn.h5", true);
}

static void test_round_trip_lstm(void)
{
    round_trip("models/imdb_lstm.h5", "lstm.h5", true);
}

static void test_round_trip_bilstm(void)
{
    round_trip("models/keras_bilstm_sst5.h5", "bilstm.h5", false);
}

/* A model built in memory with every option the writer must express. */
static void test_round_trip_all_layers(void)
{
    tk_layer l[9];
    memset(l, 0, sizeof l);
    const tk_layer_kind kinds[9] = {TK_LAYER_EMBEDDING, TK_LAYER_CONV1D, TK_LAYER_DROPOUT,
                                    TK_LAYER_MAX_POOL1D, TK_LAYER_BIDIRECTIONAL,
                                    TK_LAYER_AVG_POOL1D, TK_LAYER_FLATTEN, TK_LAYER_DENSE,
                                    TK_LAYER_ACTIVATION};
    for (int i = 0; i < 9; i++) {
        l[i].kind = kinds[i];
        snprintf(l[i].name, sizeof l[i].name, "layer_%d", i);
        snprintf(l[i].class_name, sizeof l[i].class_name, "k%d", i);
        l[i].use_bias = true;
    }
    l[0].input_dim = 30;
    l[0].output_dim = 6;
    l[1].filters = 5;
    l[1].kernel_size = 3;
    l[1].strides = 1;
    l[1].dilation = 2;
    l[1].padding_same = true;
    l[1].activation = TK_ACT_RELU;
    l[2].dropout_rate = 0.25f;
    l[2].dropout_spatial = true;
    l[3].pool_size = 2;
    l[3].pool_strides = 2;
    l[4].units = 4;
    l[4].recurrent_activation = TK_ACT_HARD_SIGMOID;
    l[4].return_sequences = true;
    l[4].merge_mode = TK_MERGE_MUL;
    snprintf(l[4].inner_name, sizeof l[4].inner_name, "lstm_7");
    l[5].pool_size = 2;
    l[5].pool_strides = 1;
    l[5].pool_padding_same = true;
    l[7].units = 3;
    l[7].use_bias = false;
    l[8].activation = TK_ACT_SOFTMAX;
    tk_model *a = NULL, *b = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_from_layers(l, 9, 12, 0, &a, &err), TK_OK);
    uint64_t s = 5;
    for (size_t i = 0; i < a->n_params; i++)
        a->params[i] = tk_model_rng_uniform(&s) - 0.5f;
    const char *path = tmp_path("all.h5");
    CU_ASSERT_EQUAL_FATAL(tk_model_save(a, path, &err), TK_OK);
    if (tk_model_load(path, &b, &err) != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL(b->output_activation, TK_ACT_SOFTMAX);
    CU_ASSERT(b->layers[2].dropout_spatial);
    CU_ASSERT_EQUAL(b->layers[4].merge_mode, TK_MERGE_MUL);
    CU_ASSERT_EQUAL(b->layers[1].dilation, 2);
    CU_ASSERT(b->layers[5].pool_padding_same);
    float la[9], lb[9];
    forward_some(a, 12, la);
    forward_some(b, 12, lb);
    CU_ASSERT_EQUAL(memcmp(la, lb, sizeof la), 0);
    tk_model_destroy(a);
    tk_model_destroy(b);
}

static void test_string_attribute_kinds(void)
{
    /* model_config as a fixed-length string loads like the variable-length one. */
    const char *p = variant("models/imdb_lstm.h5", "fixed.h5", NULL, NULL, true);
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_model_load(p, &m, &err), TK_OK);
    tk_model_destroy(m);
}

/* The LSTM model as a Functional config: same weights, same outputs. */
static const char *FUNCTIONAL =
    "{\"class_name\": \"Functional\", \"config\": {\"name\": \"model\", \"layers\": ["
    "{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 80], "
    "\"dtype\": \"float32\", \"name\": \"input_1\"}, \"name\": \"input_1\", \"inbound_nodes\": []},"
    "{\"class_name\": \"Embedding\", \"config\": {\"name\": \"embedding\", \"input_dim\": 20000, "
    "\"output_dim\": 128, \"input_length\": 80}, \"name\": \"embedding\", "
    "\"inbound_nodes\": [[[\"input_1\", 0, 0, {}]]]},"
    "{\"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": 128, "
    "\"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\", \"use_bias\": true}, "
    "\"name\": \"lstm\", \"inbound_nodes\": [[[\"%s\", 0, 0, {}]]]},"
    "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 1, "
    "\"activation\": \"sigmoid\"}, \"name\": \"dense\", \"inbound_nodes\": [[[\"lstm\", 0, 0, {}]]]}"
    "], \"input_layers\": [[\"input_1\", 0, 0]], \"output_layers\": [[\"dense\", 0, 0]]}}";

static void test_functional_chain(void)
{
    char json[4096];
    snprintf(json, sizeof json, FUNCTIONAL, "embedding");
    const char *p = tmp_path("functional.h5");
    CU_ASSERT_FATAL(copy_file(tk_test_shared("models/imdb_lstm.h5"), p, -1));
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    write_string_attr(f, "model_config", json, false);
    H5Fclose(f);
    tk_model *a = NULL, *b = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_load(tk_test_shared("models/imdb_lstm.h5"), &a, &err), TK_OK);
    if (tk_model_load(p, &b, &err) != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL(b->n_layers, 3);
    CU_ASSERT_EQUAL(b->maxlen, 80);
    float la[3], lb[3];
    forward_some(a, 80, la);
    forward_some(b, 80, lb);
    CU_ASSERT_EQUAL(memcmp(la, lb, sizeof la), 0);
    tk_model_destroy(a);
    tk_model_destroy(b);
    /* A branch (lstm fed from the input, skipping the embedding) is refused. */
    snprintf(json, sizeof json, FUNCTIONAL, "input_1");
    f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    write_string_attr(f, "model_config", json, false);
    H5Fclose(f);
    expect_error(p, TK_E_UNSUPPORTED, "lstm", "single chain", NULL);
}

/* Keras 2.0-2.3 naming: "lstm/kernel:0" with no lstm_cell group. */
static void test_old_naming_style(void)
{
    const char *p = tmp_path("oldnames.h5");
    CU_ASSERT_FATAL(copy_file(tk_test_shared("models/imdb_lstm.h5"), p, -1));
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "model_weights/lstm", H5P_DEFAULT);
    static const char *w[3] = {"kernel:0", "recurrent_kernel:0", "bias:0"};
    for (int i = 0; i < 3; i++) {
        char from[128], to[128];
        snprintf(from, sizeof from, "lstm/lstm_cell/%s", w[i]);
        snprintf(to, sizeof to, "lstm/%s", w[i]);
        CU_ASSERT(H5Lmove(g, from, g, to, H5P_DEFAULT, H5P_DEFAULT) >= 0);
    }
    H5Adelete(g, "weight_names");
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 24);
    hsize_t three = 3;
    hid_t sp = H5Screate_simple(1, &three, NULL);
    hid_t a = H5Acreate2(g, "weight_names", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    char names[3 * 24] = {0};
    /* deliberately not in Keras' order: matching is by name */
    memcpy(names, "lstm/bias:0", 11);
    memcpy(names + 24, "lstm/kernel:0", 13);
    memcpy(names + 48, "lstm/recurrent_kernel:0", 23);
    H5Awrite(a, t, names);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(g);
    H5Fclose(f);
    tk_model *x = NULL, *y = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_model_load(tk_test_shared("models/imdb_lstm.h5"), &x, &err), TK_OK);
    if (tk_model_load(p, &y, &err) != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_FATAL(y != NULL);
    CU_ASSERT_EQUAL(memcmp(x->params, y->params, x->n_params * sizeof(float)), 0);
    tk_model_destroy(x);
    tk_model_destroy(y);
}

static void test_bad_config(void)
{
    const char *cnn = "models/imdb_cnn.h5";
    expect_error(variant(cnn, "json.h5", "{\"class_name\": \"Sequential\"", "{[", false),
                 TK_E_FORMAT, "JSON", NULL, NULL);
    expect_error(variant(cnn, "conv2d.h5", "\"class_name\": \"Conv1D\"", "\"class_name\": \"Conv2D\"",
                         false), TK_E_UNSUPPORTED, "conv1d", "Conv2D", "supported");
    expect_error(variant(cnn, "elu.h5", "\"activation\": \"relu\"", "\"activation\": \"elu\"",
                         false), TK_E_UNSUPPORTED, "conv1d", "elu", "relu");
    expect_error(variant(cnn, "causal.h5", "\"padding\": \"valid\"", "\"padding\": \"causal\"",
                         false), TK_E_UNSUPPORTED, "Conv1D", "causal", "same");
    expect_error(variant(cnn, "units.h5", "\"units\": 250", "\"units\": \"many\"", false),
                 TK_E_FORMAT, "dense", "units", NULL);
    expect_error(variant(cnn, "noname.h5", "\"name\": \"conv1d\"", "\"nom\": \"conv1d\"", false),
                 TK_E_FORMAT, "name", NULL, NULL);
    expect_error(variant(cnn, "huge.h5", "\"input_dim\": 10000", "\"input_dim\": 1e15", false),
                 TK_E_FORMAT, "input_dim", NULL, NULL);
    expect_error(variant(cnn, "huge2.h5", "\"units\": 250", "\"units\": 16000000", false),
                 TK_E_FORMAT, "dense", NULL, NULL);
    expect_error(variant(cnn, "shape.h5", "\"units\": 250", "\"units\": 200", false),
                 TK_E_FORMAT, "dense", "(250, 250)", "(250, 200)");
    expect_error(variant("models/imdb_lstm.h5", "rec.h5", "\"recurrent_activation\": \"sigmoid\"",
                         "\"recurrent_activation\": \"relu\"", false),
                 TK_E_UNSUPPORTED, "lstm", "recurrent_activation 'relu'", "hard_sigmoid");
    expect_error(variant("models/keras_bilstm_sst5.h5", "merge.h5", "\"merge_mode\": \"concat\"",
                         "\"merge_mode\": \"max\"", false),
                 TK_E_UNSUPPORTED, "bidirectional_3", "max", "ave");
    expect_error(variant(cnn, "seq.h5", "\"class_name\": \"Sequential\"",
                         "\"class_name\": \"Graph\"", false), TK_E_UNSUPPORTED, "Graph", NULL, NULL);
}

static void test_bad_files(void)
{
    expect_error(tmp_path("missing.h5"), TK_E_IO, "no such file", NULL, NULL);
    const char *text = tmp_path("text.h5");
    FILE *f = fopen(text, "w");
    fputs("hello", f);
    fclose(f);
    expect_error(text, TK_E_FORMAT, "not an HDF5 file", NULL, NULL);
    /* Truncated: the header survives, the weights do not. */
    const char *cut = tmp_path("cut.h5");
    CU_ASSERT_FATAL(copy_file(tk_test_shared("models/imdb_cnn.h5"), cut, 1000000));
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_NOT_EQUAL(tk_model_load(cut, &m, &err), TK_OK);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT(strstr(err.msg, cut) != NULL);
    /* No model_weights group; no model_config. */
    const char *now = tmp_path("noweights.h5");
    CU_ASSERT_FATAL(copy_file(tk_test_shared("models/imdb_lstm.h5"), now, -1));
    hid_t h = H5Fopen(now, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(h, "model_weights/lstm", H5P_DEFAULT);
    H5Fclose(h);
    expect_error(now, TK_E_FORMAT, "lstm", "LSTM", NULL);
    h = H5Fopen(now, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(h, "model_weights", H5P_DEFAULT);
    H5Fclose(h);
    expect_error(now, TK_E_FORMAT, "model_weights", NULL, NULL);
    h = H5Fopen(now, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(h, "model_config");
    H5Fclose(h);
    expect_error(now, TK_E_FORMAT, "model_config", NULL, NULL);
}

static void test_bad_weight_names(void)
{
    /* weight_names naming a dataset that is not there. */
    const char *p = tmp_path("wn.h5");
    CU_ASSERT_FATAL(copy_file(tk_test_shared("models/imdb_lstm.h5"), p, -1));
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "model_weights/dense", H5P_DEFAULT);
    H5Adelete(g, "weight_names");
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 16);
    hsize_t two = 2;
    hid_t sp = H5Screate_simple(1, &two, NULL);
    hid_t a = H5Acreate2(g, "weight_names", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, "dense/kernel:0\0\0dense/bogus:0\0\0\0");
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(g);
    H5Fclose(f);
    expect_error(p, TK_E_FORMAT, "dense", "bias", NULL);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"save/load round trip: CNN, tf.keras names kept", test_round_trip_cnn},
        {"save/load round trip: LSTM, tf.keras names kept", test_round_trip_lstm},
        {"save/load round trip: Keras 2.3.1 BiLSTM", test_round_trip_bilstm},
        {"save/load round trip: every layer option", test_round_trip_all_layers},
        {"fixed-length string attributes", test_string_attribute_kinds},
        {"Functional single-chain model; branches refused", test_functional_chain},
        {"old Keras weight names (lstm/kernel:0), any order", test_old_naming_style},
        {"bad or unsupported model_config", test_bad_config},
        {"missing, non-HDF5, truncated, incomplete files", test_bad_files},
        {"weight_names that do not match the config", test_bad_weight_names},
        {NULL, NULL},
    };
    tk_test_add_suite("model_io", cases);
    return tk_test_run_all();
}
