/* Keras 2 HDF5 files (model.save("x.h5")): reading and writing.
 * Layout: root attrs model_config (JSON), keras_version, backend; group
 * model_weights with attr layer_names and per layer a group whose attr
 * weight_names lists dataset paths relative to it ("conv1d/kernel:0",
 * "lstm/lstm_cell/kernel:0", "bidirectional_3/forward_lstm_3/kernel:0").
 * Every attribute and dataset is untrusted. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/paths.h"
#include "model/keras_config.h"
#include "model/layer_ops.h"

enum { MAX_NAMES = 100000, MAX_STRING = 64 << 20 };

static void free_strings(char **s, int n)
{
    if (s == NULL)
        return;
    for (int i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

static char *dup_n(const char *s, size_t n, tk_error *err)
{
    size_t len = 0;
    while (len < n && s[len] != '\0')
        len++;
    char *d = tk_malloc(len + 1, 1, err);
    if (d != NULL) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* Reads a string attribute, scalar or 1-D, fixed- or variable-length.
 * A numeric attribute with no elements (Keras' weight_names of a weightless
 * layer) gives 0 strings. */
static tk_status read_strings(hid_t obj, const char *attr, const char *path, char ***out, int *n,
                              tk_error *err)
{
    *out = NULL;
    *n = 0;
    tk_status st = TK_OK;
    hid_t a = H5I_INVALID_HID, t = H5I_INVALID_HID, sp = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    char **list = NULL;
    void *buf = NULL;
    int count = 0;
    if (H5Aexists(obj, attr) <= 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' is missing", path, attr);
    if ((a = H5Aopen(obj, attr, H5P_DEFAULT)) < 0 || (t = H5Aget_type(a)) < 0 ||
        (sp = H5Aget_space(a)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' cannot be opened", path, attr);
        goto done;
    }
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    int rank = H5Sget_simple_extent_ndims(sp);
    if (np < 0 || np > MAX_NAMES || rank > 1) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' has a bad shape", path, attr);
        goto done;
    }
    count = (int)np;
    if (H5Tget_class(t) != H5T_STRING) {
        if (count == 0)
            goto done;
        st = tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' is not a string", path, attr);
        goto done;
    }
    list = tk_calloc(count > 0 ? (size_t)count : 1, sizeof *list, err);
    if (list == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    htri_t var = H5Tis_variable_str(t);
    mt = H5Tcopy(H5T_C_S1);
    if (var > 0) {
        char **v = tk_calloc(count > 0 ? (size_t)count : 1, sizeof *v, err);
        if (v == NULL) {
            st = TK_E_NOMEM;
            goto done;
        }
        buf = v;
        if (H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, v) < 0) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' cannot be read", path, attr);
            goto done;
        }
        for (int i = 0; i < count && st == TK_OK; i++) {
            const char *s = v[i] != NULL ? v[i] : "";
            size_t len = strlen(s);
            if (len > MAX_STRING)
                st = tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' is too long", path, attr);
            else if ((list[i] = dup_n(s, len, err)) == NULL)
                st = TK_E_NOMEM;
        }
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
    } else {
        size_t size = H5Tget_size(t);
        if (size == 0 || size > MAX_STRING || (size_t)count * size > MAX_STRING) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' has a bad string size", path,
                              attr);
            goto done;
        }
        buf = tk_malloc(count > 0 ? (size_t)count * size : 1, 1, err);
        if (buf == NULL) {
            st = TK_E_NOMEM;
            goto done;
        }
        /* NULLPAD: a NULLTERM memory type would drop the last character. */
        if (H5Tset_size(mt, size) < 0 || H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0 ||
            H5Aread(a, mt, buf) < 0) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' cannot be read", path, attr);
            goto done;
        }
        for (int i = 0; i < count && st == TK_OK; i++)
            if ((list[i] = dup_n((char *)buf + (size_t)i * size, size, err)) == NULL)
                st = TK_E_NOMEM;
    }
done:
    free(buf);
    if (mt >= 0)
        H5Tclose(mt);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    if (st != TK_OK) {
        free_strings(list, count);
        return st;
    }
    *out = list;
    *n = list != NULL ? count : 0;
    return TK_OK;
}

static tk_status read_string(hid_t obj, const char *attr, const char *path, char **out,
                             tk_error *err)
{
    char **list;
    int n;
    *out = NULL;
    tk_status st = read_strings(obj, attr, path, &list, &n, err);
    if (st != TK_OK)
        return st;
    if (n != 1) {
        free_strings(list, n);
        return tk_error_set(err, TK_E_FORMAT, "%s: attribute '%s' must be one string", path, attr);
    }
    *out = list[0];
    free(list);
    return TK_OK;
}

static void format_dims(char *buf, size_t size, int rank, const hsize_t *dims)
{
    size_t len = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? ", " : "",
                                (unsigned long long)dims[i]);
    if (len < size)
        snprintf(buf + len, size - len, ")");
}

/* Does Keras' weight path name (e.g. "bidirectional_3/backward_lstm_3/kernel:0")
 * denote spec? */
static bool name_matches(const char *name, const tk_weight_spec *spec)
{
    const char *base = strrchr(name, '/');
    base = base != NULL ? base + 1 : name;
    size_t len = strcspn(base, ":");
    if (len != strlen(spec->name) || strncmp(base, spec->name, len) != 0)
        return false;
    if (spec->dir < 0)
        return true;
    const char *want = spec->dir == 0 ? "forward_" : "backward_";
    for (const char *p = name; p != NULL && *p != '\0'; p = strchr(p, '/')) {
        if (*p == '/')
            p++;
        if (strncmp(p, want, strlen(want)) == 0)
            return true;
    }
    return false;
}

static tk_status read_weight(hid_t g, const char *name, const char *path, const tk_layer *l,
                             const tk_weight_spec *spec, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t d = H5I_INVALID_HID, sp = H5I_INVALID_HID, t = H5I_INVALID_HID;
    hsize_t dims[8], want[3];
    char got_s[160], want_s[160];
    d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: layer '%s' (%s): weight dataset '%s' is missing",
                            path, l->name, l->class_name, name);
    if ((sp = H5Dget_space(d)) < 0 || (t = H5Dget_type(d)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: layer '%s': weight '%s' cannot be opened", path,
                          l->name, name);
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank < 0 || rank > 8) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: layer '%s': weight '%s' has a bad rank", path,
                          l->name, name);
        goto done;
    }
    H5Sget_simple_extent_dims(sp, dims, NULL);
    bool same = rank == spec->rank;
    for (int i = 0; i < spec->rank; i++) {
        want[i] = (hsize_t)spec->dims[i];
        if (same && dims[i] != want[i])
            same = false;
    }
    if (!same) {
        format_dims(got_s, sizeof got_s, rank, dims);
        format_dims(want_s, sizeof want_s, spec->rank, want);
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: layer '%s' (%s): weight '%s' has shape %s but the config needs %s",
                          path, l->name, l->class_name, name, got_s, want_s);
        goto done;
    }
    if (H5Tget_class(t) != H5T_FLOAT) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: layer '%s': weight '%s' is not floating point",
                          path, l->name, name);
        goto done;
    }
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *spec->view) < 0)
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: layer '%s': weight '%s' cannot be read (truncated file?)", path,
                          l->name, name);
done:
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return st;
}

static tk_status read_layer_weights(hid_t mw, const char *path, tk_layer *l, tk_error *err)
{
    tk_weight_spec specs[TK_MAX_WEIGHTS];
    int n = tk_layer_ops_of(l->kind)->weights(l, specs);
    if (n == 0)
        return TK_OK;
    if (strchr(l->name, '/') != NULL || l->name[0] == '\0' || l->name[0] == '.' ||
        H5Lexists(mw, l->name, H5P_DEFAULT) <= 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: model_weights has no group for layer '%s' (%s)",
                            path, l->name, l->class_name);
    hid_t g = H5Gopen2(mw, l->name, H5P_DEFAULT);
    if (g < 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: model_weights/%s is not a group", path,
                            l->name);
    char **names = NULL;
    int nn = 0;
    bool used[64] = {false};
    tk_status st = read_strings(g, "weight_names", path, &names, &nn, err);
    if (st != TK_OK)
        goto done;
    if (nn > 64) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: layer '%s' lists %d weights", path, l->name, nn);
        goto done;
    }
    for (int w = 0; w < n && st == TK_OK; w++) {
        int k = -1;
        for (int i = 0; i < nn; i++)
            if (!used[i] && name_matches(names[i], &specs[w])) {
                k = i;
                break;
            }
        if (k < 0) {
            st = tk_error_set(err, TK_E_FORMAT,
                              "%s: layer '%s' (%s): weight '%s'%s is not among its weight_names",
                              path, l->name, l->class_name, specs[w].name,
                              specs[w].dir == 0 ? " (forward)"
                              : specs[w].dir == 1 ? " (backward)" : "");
            break;
        }
        used[k] = true;
        st = read_weight(g, names[k], path, l, &specs[w], err);
    }
    for (int i = 0; i < nn && st == TK_OK; i++)
        if (!used[i])
            st = tk_error_set(err, TK_E_FORMAT,
                              "%s: layer '%s' (%s) has a weight '%s' that its config does not "
                              "explain", path, l->name, l->class_name, names[i]);
done:
    free_strings(names, nn);
    H5Gclose(g);
    return st;
}

tk_status tk_model_load(const char *path, tk_model **out, tk_error *err)
{
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported as values, not printed */
    if (!tk_file_exists(path))
        return tk_error_set(err, TK_E_IO, "%s: no such file", path);
    if (H5Fis_hdf5(path) <= 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: not an HDF5 file", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open the HDF5 file", path);
    hid_t mw = H5I_INVALID_HID;
    char *json = NULL, *s = NULL;
    tk_model *m = NULL;
    tk_status st;
    if (H5Aexists(f, "model_config") <= 0) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: no model_config attribute: not a Keras model.save() file "
                          "(weights-only files are not supported)", path);
        goto done;
    }
    if ((st = read_string(f, "model_config", path, &json, err)) != TK_OK)
        goto done;
    if ((st = tk_keras_parse_config(json, path, &m, err)) != TK_OK)
        goto done;
    if (read_string(f, "keras_version", path, &s, NULL) == TK_OK)
        snprintf(m->keras_version, sizeof m->keras_version, "%s", s);
    free(s);
    s = NULL;
    if (read_string(f, "backend", path, &s, NULL) == TK_OK)
        snprintf(m->backend, sizeof m->backend, "%s", s);
    free(s);
    tk_model_apply_keras_version(m);
    if (H5Lexists(f, "model_weights", H5P_DEFAULT) <= 0 ||
        (mw = H5Gopen2(f, "model_weights", H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: no model_weights group", path);
        goto done;
    }
    for (int i = 0; i < m->n_layers && st == TK_OK; i++)
        st = read_layer_weights(mw, path, &m->layers[i], err);
done:
    if (mw >= 0)
        H5Gclose(mw);
    H5Fclose(f);
    free(json);
    if (st != TK_OK) {
        tk_model_destroy(m);
        return st;
    }
    *out = m;
    return TK_OK;
}

/* ---- writer ---- */

static herr_t write_vstring(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    herr_t r = -1;
    if (t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
        (a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        r = H5Awrite(a, t, &value);
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    return r;
}

/* A 1-D fixed-length, null-padded string array, as h5py writes numpy bytes;
 * an empty float64 array when there are none (Keras' weightless layers). */
static herr_t write_name_list(hid_t obj, const char *name, char names[][512], int n)
{
    hsize_t dim = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &dim, NULL), t = H5I_INVALID_HID, a = H5I_INVALID_HID;
    herr_t r = -1;
    char *buf = NULL;
    if (sp < 0)
        return -1;
    if (n == 0) {
        a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        double none = 0.0;
        r = a >= 0 ? H5Awrite(a, H5T_NATIVE_DOUBLE, &none) : -1;
        goto done;
    }
    size_t size = 1;
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) > size)
            size = strlen(names[i]);
    buf = calloc((size_t)n, size);
    t = H5Tcopy(H5T_C_S1);
    if (buf == NULL || t < 0 || H5Tset_size(t, size) < 0 ||
        H5Tset_strpad(t, H5T_STR_NULLPAD) < 0)
        goto done;
    for (int i = 0; i < n; i++)
        memcpy(buf + (size_t)i * size, names[i], strlen(names[i]));
    if ((a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        r = H5Awrite(a, t, buf);
done:
    free(buf);
    if (a >= 0)
        H5Aclose(a);
    if (t >= 0)
        H5Tclose(t);
    H5Sclose(sp);
    return r;
}

/* tf.keras paths: "dense/kernel:0", "lstm/lstm_cell/kernel:0",
 * "bidirectional/forward_lstm/lstm_cell/kernel:0". */
/* The recurrent cell of a layer kind ("gru" -> "gru/gru_cell/kernel:0"), NULL for others. */
static const char *cell_of(tk_layer_kind kind)
{
    switch (kind) {
    case TK_LAYER_LSTM:
    case TK_LAYER_BIDIRECTIONAL: return "lstm";
    case TK_LAYER_GRU:
    case TK_LAYER_BIDIRECTIONAL_GRU: return "gru";
    case TK_LAYER_SIMPLE_RNN:
    case TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN: return "simple_rnn";
    default: return NULL;
    }
}

static void weight_path(const tk_layer *l, const tk_weight_spec *s, char *buf, size_t size)
{
    const char *cell = cell_of(l->kind);
    const char *inner = l->inner_name[0] ? l->inner_name : cell != NULL ? cell : "lstm";
    if (s->dir >= 0)
        snprintf(buf, size, "%s/%s_%s/%s_cell/%s:0", l->name, s->dir == 0 ? "forward" : "backward",
                 inner, cell != NULL ? cell : "lstm", s->name);
    else if (cell != NULL)
        snprintf(buf, size, "%s/%s_cell/%s:0", l->name, cell, s->name);
    else
        snprintf(buf, size, "%s/%s:0", l->name, s->name);
}

static tk_status write_layer(hid_t mw, hid_t lcpl, const tk_layer *l, const char *path,
                             tk_error *err)
{
    tk_weight_spec specs[TK_MAX_WEIGHTS];
    char names[TK_MAX_WEIGHTS][512];
    tk_layer copy = *l; /* weights() takes a mutable layer for the views */
    int n = tk_layer_ops_of(l->kind)->weights(&copy, specs);
    hid_t g = H5Gcreate2(mw, l->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot create group for layer '%s'", path, l->name);
    tk_status st = TK_OK;
    for (int w = 0; w < n; w++)
        weight_path(l, &specs[w], names[w], sizeof names[w]);
    if (write_name_list(g, "weight_names", names, n) < 0)
        st = tk_error_set(err, TK_E_IO, "%s: cannot write weight_names of '%s'", path, l->name);
    for (int w = 0; w < n && st == TK_OK; w++) {
        hsize_t dims[3];
        for (int d = 0; d < specs[w].rank; d++)
            dims[d] = (hsize_t)specs[w].dims[d];
        hid_t sp = H5Screate_simple(specs[w].rank, dims, NULL);
        hid_t d = sp >= 0 ? H5Dcreate2(g, names[w], H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT,
                                       H5P_DEFAULT)
                          : H5I_INVALID_HID;
        if (d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *specs[w].view) < 0)
            st = tk_error_set(err, TK_E_IO, "%s: cannot write weight '%s'", path, names[w]);
        if (d >= 0)
            H5Dclose(d);
        if (sp >= 0)
            H5Sclose(sp);
    }
    H5Gclose(g);
    return st;
}

tk_status tk_model_save(const tk_model *model, const char *path, tk_error *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return tk_error_set(err, TK_E_INVALID, "%s: path too long", path);
    char *json = tk_keras_config_json(model, err);
    if (json == NULL)
        return TK_E_NOMEM;
    tk_status st = TK_OK;
    hid_t mw = H5I_INVALID_HID, lcpl = H5I_INVALID_HID;
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        free(json);
        return tk_error_set(err, TK_E_IO, "%s: cannot create the file", tmp);
    }
    const char *kv = model->keras_version[0] ? model->keras_version : "2.6.0";
    const char *be = model->backend[0] ? model->backend : "tensorflow";
    if (write_vstring(f, "model_config", json) < 0 || write_vstring(f, "keras_version", kv) < 0 ||
        write_vstring(f, "backend", be) < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot write the root attributes", tmp);
        goto done;
    }
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    mw = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0 || mw < 0 ||
        write_vstring(mw, "keras_version", kv) < 0 || write_vstring(mw, "backend", be) < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot write model_weights", tmp);
        goto done;
    }
    char(*names)[512] = tk_calloc((size_t)model->n_layers, sizeof *names, err);
    if (names == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    for (int i = 0; i < model->n_layers; i++)
        snprintf(names[i], sizeof names[i], "%s", model->layers[i].name);
    if (write_name_list(mw, "layer_names", names, model->n_layers) < 0)
        st = tk_error_set(err, TK_E_IO, "%s: cannot write layer_names", tmp);
    free(names);
    for (int i = 0; i < model->n_layers && st == TK_OK; i++)
        st = write_layer(mw, lcpl, &model->layers[i], tmp, err);
done:
    free(json);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (mw >= 0)
        H5Gclose(mw);
    if (H5Fclose(f) < 0 && st == TK_OK)
        st = tk_error_set(err, TK_E_IO, "%s: cannot close the file", tmp);
    if (st == TK_OK && rename(tmp, path) != 0)
        st = tk_error_set(err, TK_E_IO, "%s: cannot rename the finished file into place", path);
    if (st != TK_OK)
        unlink(tmp);
    return st;
}
