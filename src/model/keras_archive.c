/* Keras 3 .keras archives and the Keras 3 weights layout.
 *
 * A .keras file is a zip (keras/src/saving/saving_lib.py): config.json
 * (serialize_keras_object(model)), metadata.json ({"keras_version",
 * "date_saved"}), model.weights.h5 and assets/. Weights are stored by the
 * object path Keras walks, not by layer name: the model's layers list is
 * "layers", each layer "layers/<snake_case of its class>" with "_1", "_2"...
 * for the second and later of a class, its own variables in "vars/0",
 * "vars/1"... in creation order (kernel, recurrent_kernel, bias), those of a
 * recurrent layer's cell in "<layer>/cell/vars", Bidirectional's in
 * "forward_layer/cell" and "backward_layer/cell". model.save_weights(
 * "x.weights.h5") writes the same layout to a plain HDF5 file.
 * Everything in the archive is untrusted: sizes are bounded, members that
 * are not regular files are refused by name. */
#define _POSIX_C_SOURCE 200809L
#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/keras_config.h"
#include "model/keras_h5.h"

enum {
    MAX_CONFIG = 64 << 20,   /* config.json, metadata.json */
    MAX_VOCAB = 256 << 20,   /* assets/.../vocabulary.txt */
    MAX_GROUP_NAME = 512
};
static const size_t MAX_WEIGHTS_BYTES = (size_t)8 << 30; /* model.weights.h5 */

bool tk_keras_archive_probe(const char *path)
{
    unsigned char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    /* local file header, or the end record of an empty archive */
    return n == 4 && magic[0] == 'P' && magic[1] == 'K' &&
           ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
}

/* ---- the archive ---- */

typedef struct member {
    const char *name;  /* wanted name ("config.json") */
    size_t max;        /* bytes; 0: only whether it is there */
    char *data;        /* NUL-terminated copy, NULL when absent */
    size_t size;
    char found_name[MAX_GROUP_NAME];
} member;

static tk_status read_member(struct archive *a, const char *path, const char *name, size_t max,
                             member *m, tk_error *err)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = tk_malloc(cap + 1, 1, err);
    if (buf == NULL)
        return TK_E_NOMEM;
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                return tk_error_set(err, TK_E_FORMAT,
                                    "%s: archive member '%s' is larger than %zu bytes", path,
                                    name, max);
            }
            size_t nc = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, nc + 1);
            if (nb == NULL) {
                free(buf);
                return tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading '%s'", path,
                                    name);
            }
            buf = nb;
            cap = nc;
        }
        la_ssize_t got = archive_read_data(a, buf + n, cap - n);
        if (got < 0) {
            free(buf);
            return tk_error_set(err, TK_E_FORMAT, "%s: archive member '%s' cannot be read: %s",
                                path, name, archive_error_string(a));
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    m->data = buf;
    m->size = n;
    snprintf(m->found_name, sizeof m->found_name, "%s", name);
    return TK_OK;
}

/* Reads the wanted members of the zip at path; any member that is not a
 * regular file or a directory is refused with its name. */
static tk_status read_archive(const char *path, member *members, int n_members, tk_error *err)
{
    struct archive *a = archive_read_new();
    if (a == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
    tk_status st = TK_OK;
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: not a readable zip archive (.keras): %s", path,
                          archive_error_string(a));
        goto done;
    }
    struct archive_entry *e;
    int r;
    while (st == TK_OK && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        if (name == NULL)
            name = "";
        mode_t type = archive_entry_filetype(e);
        if (type == AE_IFDIR)
            continue;
        if (type != AE_IFREG) {
            st = tk_error_set(err, TK_E_FORMAT,
                              "%s: archive member '%.200s' is not a regular file (a link or "
                              "device): refused", path, name);
            break;
        }
        for (int i = 0; i < n_members; i++) {
            member *m = &members[i];
            bool want = m->data == NULL && strcmp(name, m->name) == 0;
            if (want && m->max == 0) { /* only whether it is there */
                m->data = tk_calloc(1, 1, err);
                snprintf(m->found_name, sizeof m->found_name, "%s", name);
                st = m->data != NULL ? TK_OK : TK_E_NOMEM;
                break;
            }
            if (want) {
                st = read_member(a, path, name, m->max, m, err);
                break;
            }
        }
    }
    if (st == TK_OK && r != ARCHIVE_EOF)
        st = tk_error_set(err, TK_E_FORMAT, "%s: corrupt zip archive: %s", path,
                          archive_error_string(a));
done:
    archive_read_free(a);
    return st;
}

static void free_members(member *m, int n)
{
    for (int i = 0; i < n; i++)
        free(m[i].data);
}

/* An HDF5 file held in memory (the archive's model.weights.h5). */
static hid_t open_h5_image(const void *data, size_t size, const char *path, tk_error *err)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID;
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0 &&
        H5Pset_file_image(fapl, (void *)data, size) >= 0)
        f = H5Fopen("model.weights.h5", H5F_ACC_RDONLY, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (f < 0)
        tk_error_set(err, TK_E_FORMAT, "%s: model.weights.h5 in the archive is not an HDF5 file",
                     path);
    return f;
}

/* ---- the Keras 3 weights layout ---- */

/* keras.src.utils.naming.to_snake_case: "(.)([A-Z][a-z]+)" -> "\1_\2", then
 * "([a-z])([A-Z])" -> "\1_\2", lowercased ("GlobalMaxPooling1D" ->
 * "global_max_pooling1d", "LSTM" -> "lstm", "SimpleRNN" -> "simple_rnn"). */
void tk_keras_snake_case(const char *cls, char *out, size_t size)
{
    char a[256];
    size_t n = 0, len = strlen(cls);
    for (size_t i = 0; i < len && n + 2 < sizeof a;) {
        bool word = i + 2 < len && cls[i + 1] >= 'A' && cls[i + 1] <= 'Z' && cls[i + 2] >= 'a' &&
                    cls[i + 2] <= 'z';
        a[n++] = cls[i++];
        if (!word)
            continue;
        a[n++] = '_';
        a[n++] = cls[i++]; /* the capital, then its lower-case run */
        while (i < len && n + 2 < sizeof a && cls[i] >= 'a' && cls[i] <= 'z')
            a[n++] = cls[i++];
    }
    a[n] = '\0';
    size_t o = 0;
    for (size_t i = 0; a[i] != '\0' && o + 3 < size;) {
        char c = a[i];
        if (c >= 'a' && c <= 'z' && a[i + 1] >= 'A' && a[i + 1] <= 'Z') {
            out[o++] = c;
            out[o++] = '_';
            out[o++] = (char)(a[i + 1] - 'A' + 'a');
            i += 2;
        } else {
            out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
            i++;
        }
    }
    out[o] = '\0';
}

/* The object path of layer i: "layers/dense", "layers/dense_1"... */
static void layer_path(const tk_model *m, int i, const char *root, char *out, size_t size)
{
    char snake[128], other[128];
    tk_keras_snake_case(tk_keras_python_class(&m->layers[i]), snake, sizeof snake);
    int seen = 0;
    for (int k = 0; k < i; k++) {
        tk_keras_snake_case(tk_keras_python_class(&m->layers[k]), other, sizeof other);
        seen += strcmp(snake, other) == 0;
    }
    /* A TextVectorization before the layers is its own class: no effect. */
    if (seen == 0)
        snprintf(out, size, "%s/%s", root, snake);
    else
        snprintf(out, size, "%s/%s_%d", root, snake, seen);
}

/* Where weight w lives inside its layer: "" (own vars), "cell",
 * "forward_layer/cell", "backward_layer/cell". A layer with a
 * recurrent_kernel keeps its weights in its cell. */
static const char *weight_owner(const tk_weight_spec *specs, int n, int w)
{
    if (specs[w].dir == 0)
        return "forward_layer/cell";
    if (specs[w].dir == 1)
        return "backward_layer/cell";
    for (int k = 0; k < n; k++)
        if (strcmp(specs[k].name, "recurrent_kernel") == 0)
            return "cell";
    return "";
}

/* "<layer path>[/<owner>]/vars": the group weight w of the layer lives in;
 * *index its position there (earlier weights of the same owner first). */
static void weight_group(const char *lp, const tk_weight_spec *specs, int n, int w, char *out,
                         size_t size, int *index)
{
    const char *owner = weight_owner(specs, n, w);
    *index = 0;
    for (int k = 0; k < w; k++)
        *index += strcmp(weight_owner(specs, n, k), owner) == 0;
    snprintf(out, size, "%s%s%s/vars", lp, owner[0] ? "/" : "", owner);
}

static int count_links(hid_t f, const char *group)
{
    if (H5Lexists(f, group, H5P_DEFAULT) <= 0)
        return 0;
    H5G_info_t info;
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    int n = g >= 0 && H5Gget_info(g, &info) >= 0 ? (int)info.nlinks : -1;
    if (g >= 0)
        H5Gclose(g);
    return n;
}

/* Does every prefix of p exist (H5Lexists needs each step)? */
static bool path_exists(hid_t f, const char *p)
{
    char buf[MAX_GROUP_NAME + 64];
    snprintf(buf, sizeof buf, "%s", p);
    for (char *s = strchr(buf, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        bool ok = H5Lexists(f, buf, H5P_DEFAULT) > 0;
        *s = '/';
        if (!ok)
            return false;
    }
    return H5Lexists(f, buf, H5P_DEFAULT) > 0;
}

tk_status tk_keras3_read_weights(hid_t f, const char *path, tk_model *m, tk_error *err)
{
    /* Keras 3.0 files written by 2.13-era code name the list differently. */
    const char *root = H5Lexists(f, "layers", H5P_DEFAULT) > 0 ? "layers"
                       : H5Lexists(f, "_layer_checkpoint_dependencies", H5P_DEFAULT) > 0
                           ? "_layer_checkpoint_dependencies" : NULL;
    if (root == NULL)
        return tk_error_set(err, TK_E_FORMAT,
                            "%s: the weights file has no 'layers' group (Keras 3 layout)", path);
    for (int i = 0; i < m->n_layers; i++) {
        tk_layer *l = &m->layers[i];
        tk_weight_spec specs[TK_MAX_WEIGHTS];
        int n = tk_layer_ops_of(l->kind)->weights(l, specs);
        char lp[MAX_GROUP_NAME], name[MAX_GROUP_NAME + 64];
        layer_path(m, i, root, lp, sizeof lp);
        if (n > 0 && !path_exists(f, lp))
            return tk_error_set(err, TK_E_FORMAT,
                                "%s: layer '%s' (%s): its weights group '%s' is missing", path,
                                l->name, l->class_name, lp);
        for (int w = 0; w < n; w++) {
            char group[MAX_GROUP_NAME + 32];
            int idx;
            weight_group(lp, specs, n, w, group, sizeof group, &idx);
            snprintf(name, sizeof name, "%s/%d", group, idx);
            if (!path_exists(f, name))
                return tk_error_set(err, TK_E_FORMAT,
                                    "%s: layer '%s' (%s): weight '%s'%s is missing (no dataset "
                                    "'%s')", path, l->name, l->class_name, specs[w].name,
                                    specs[w].dir == 0 ? " (forward)"
                                    : specs[w].dir == 1 ? " (backward)" : "", name);
            tk_status st = tk_h5_read_weight(f, name, path, l, &specs[w], err);
            if (st != TK_OK)
                return st;
            /* after the last weight of a group: nothing more in it */
            char next[MAX_GROUP_NAME + 32];
            int nidx;
            if (w + 1 < n)
                weight_group(lp, specs, n, w + 1, next, sizeof next, &nidx);
            if (w + 1 == n || strcmp(next, group) != 0) {
                int have = count_links(f, group);
                if (have != idx + 1)
                    return tk_error_set(err, TK_E_FORMAT,
                                        "%s: layer '%s' (%s): '%s' holds %d weights but the "
                                        "config explains %d", path, l->name, l->class_name,
                                        group, have, idx + 1);
            }
        }
        if (n == 0) {
            snprintf(name, sizeof name, "%s/vars", lp);
            int have = count_links(f, name);
            if (have > 0)
                return tk_error_set(err, TK_E_FORMAT,
                                    "%s: layer '%s' (%s) has %d weights in '%s' but its config "
                                    "has none", path, l->name, l->class_name, have, name);
        }
    }
    return TK_OK;
}

tk_status tk_keras3_write_weights(hid_t f, const tk_model *m, const char *path, tk_error *err)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    tk_status st = TK_OK;
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0)
        st = tk_error_set(err, TK_E_IO, "%s: cannot create HDF5 property lists", path);
    for (int i = 0; i < m->n_layers && st == TK_OK; i++) {
        tk_layer copy = m->layers[i]; /* weights() takes a mutable layer for the views */
        tk_weight_spec specs[TK_MAX_WEIGHTS];
        int n = tk_layer_ops_of(copy.kind)->weights(&copy, specs);
        char lp[MAX_GROUP_NAME], name[MAX_GROUP_NAME + 64];
        layer_path(m, i, "layers", lp, sizeof lp);
        for (int w = 0; w < n && st == TK_OK; w++) {
            char group[MAX_GROUP_NAME + 32];
            int idx;
            weight_group(lp, specs, n, w, group, sizeof group, &idx);
            snprintf(name, sizeof name, "%s/%d", group, idx);
            if (tk_h5_write_weight(f, name, lcpl, &specs[w]) < 0)
                st = tk_error_set(err, TK_E_IO, "%s: cannot write weight '%s'", path, name);
        }
    }
    if (lcpl >= 0)
        H5Pclose(lcpl);
    return st;
}

/* ---- loading and saving .keras ---- */

enum { M_CONFIG, M_WEIGHTS, M_METADATA, M_NPZ, M_VOCAB, M_VOCAB_213, M_COUNT };

static void init_members(member *mm)
{
    memset(mm, 0, M_COUNT * sizeof *mm);
    mm[M_CONFIG] = (member){.name = "config.json", .max = MAX_CONFIG};
    mm[M_WEIGHTS] = (member){.name = "model.weights.h5", .max = MAX_WEIGHTS_BYTES};
    mm[M_METADATA] = (member){.name = "metadata.json", .max = MAX_CONFIG};
    mm[M_NPZ] = (member){.name = "model.weights.npz", .max = 0};
    /* A leading TextVectorization's adapted vocabulary (its save_assets):
     * the layer is the first and only of its class, so its object path is
     * layers/text_vectorization (tf.keras 2.13+: _layer_checkpoint_dependencies). */
    mm[M_VOCAB] = (member){.name = "assets/layers/text_vectorization/vocabulary.txt",
                           .max = MAX_VOCAB};
    mm[M_VOCAB_213] = (member){
        .name = "assets/_layer_checkpoint_dependencies/text_vectorization/vocabulary.txt",
        .max = MAX_VOCAB};
}

/* The archive's members, with the ones every .keras file has checked. */
static tk_status open_archive(const char *path, member *mm, tk_error *err)
{
    init_members(mm);
    /* the model alone: a vocabulary is read by tk_model_text_vocabulary */
    mm[M_VOCAB].max = mm[M_VOCAB_213].max = 0;
    tk_status st = read_archive(path, mm, M_COUNT, err);
    if (st != TK_OK)
        return st;
    if (mm[M_CONFIG].data == NULL)
        return tk_error_set(err, TK_E_FORMAT,
                            "%s: the zip archive has no config.json: not a Keras 3 .keras file",
                            path);
    return TK_OK;
}

tk_status tk_keras_archive_load(const char *path, const char *arch, tk_model **out,
                                tk_error *err)
{
    *out = NULL;
    member mm[M_COUNT];
    tk_model *m = NULL;
    char *arch_json = NULL, label[4200];
    hid_t f = H5I_INVALID_HID;
    tk_status st = open_archive(path, mm, err);
    if (st != TK_OK)
        goto done;
    if (mm[M_WEIGHTS].data == NULL && mm[M_NPZ].data != NULL) {
        st = tk_error_set(err, TK_E_UNSUPPORTED,
                          "%s: weights saved as model.weights.npz are not supported "
                          "(supported: model.weights.h5, Keras' default)", path);
        goto done;
    }
    if (mm[M_WEIGHTS].data == NULL) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: the .keras archive has no model.weights.h5",
                          path);
        goto done;
    }
    const char *json = mm[M_CONFIG].data;
    snprintf(label, sizeof label, "%s: config.json", path);
    if (arch != NULL) {
        if ((st = tk_read_text_file(arch, MAX_CONFIG, &arch_json, NULL, err)) != TK_OK)
            goto done;
        json = arch_json;
        snprintf(label, sizeof label, "%s", arch);
    }
    if ((st = tk_keras_parse_config(json, label, &m, err)) != TK_OK)
        goto done;
    snprintf(m->keras_version, sizeof m->keras_version, "3");
    m->backend[0] = '\0'; /* a .keras file does not record it */
    if (mm[M_METADATA].data != NULL) {
        cJSON *meta = cJSON_Parse(mm[M_METADATA].data);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, "keras_version");
        if (cJSON_IsString(v))
            snprintf(m->keras_version, sizeof m->keras_version, "%s", v->valuestring);
        cJSON_Delete(meta);
    }
    tk_model_apply_keras_version(m); /* Keras 3's hard_sigmoid */
    snprintf(m->format, sizeof m->format, "Keras 3 .keras%s", arch ? " + architecture JSON" : "");
    snprintf(label, sizeof label, "%s: model.weights.h5", path);
    if ((f = open_h5_image(mm[M_WEIGHTS].data, mm[M_WEIGHTS].size, path, err)) < 0) {
        st = TK_E_FORMAT;
        goto done;
    }
    st = tk_keras3_read_weights(f, label, m, err);
done:
    if (f >= 0)
        H5Fclose(f);
    free(arch_json);
    free_members(mm, M_COUNT);
    if (st != TK_OK) {
        tk_model_destroy(m);
        return st;
    }
    *out = m;
    return TK_OK;
}

/* model.weights.h5 built in memory (HDF5 core driver, no backing file). */
static tk_status weights_image(const tk_model *m, const char *path, void **data, size_t *size,
                               tk_error *err)
{
    *data = NULL;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID;
    tk_status st = TK_OK;
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ||
        (f = H5Fcreate("model.weights.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0)
        st = tk_error_set(err, TK_E_IO, "%s: cannot create model.weights.h5 in memory", path);
    if (st == TK_OK)
        st = tk_keras3_write_weights(f, m, path, err);
    ssize_t n = -1;
    if (st == TK_OK && (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0 ||
                        (n = H5Fget_file_image(f, NULL, 0)) <= 0))
        st = tk_error_set(err, TK_E_IO, "%s: cannot build model.weights.h5", path);
    if (st == TK_OK && (*data = tk_malloc((size_t)n, 1, err)) == NULL)
        st = TK_E_NOMEM;
    if (st == TK_OK && H5Fget_file_image(f, *data, (size_t)n) != n)
        st = tk_error_set(err, TK_E_IO, "%s: cannot build model.weights.h5", path);
    if (f >= 0)
        H5Fclose(f);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (st != TK_OK) {
        free(*data);
        *data = NULL;
        return st;
    }
    *size = (size_t)n;
    return TK_OK;
}

static bool add_entry(struct archive *a, const char *name, const void *data, size_t size,
                      time_t when)
{
    struct archive_entry *e = archive_entry_new();
    if (e == NULL)
        return false;
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, when, 0);
    bool ok = archive_write_header(a, e) == ARCHIVE_OK &&
              (size == 0 || archive_write_data(a, data, size) == (la_ssize_t)size);
    archive_entry_free(e);
    return ok;
}

/* The Keras 3 version whose .keras layout tokattr writes, in metadata.json
 * when the model did not come from a Keras 3 file. */
static const char *const KERAS3_FORMAT_VERSION = "3.5.0";

tk_status tk_model_save_keras(const tk_model *model, const char *path, tk_error *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char tmp[4096], meta[256], date[32];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return tk_error_set(err, TK_E_INVALID, "%s: path too long", path);
    char *json = tk_keras_config_json(model, TK_KERAS_3, err);
    if (json == NULL)
        return TK_E_NOMEM;
    void *weights = NULL;
    size_t wsize = 0;
    tk_status st = weights_image(model, path, &weights, &wsize, err);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d@%H:%M:%S", &tm);
    snprintf(meta, sizeof meta, "{\"keras_version\": \"%s\", \"date_saved\": \"%s\"}",
             strncmp(model->keras_version, "3.", 2) == 0 ? model->keras_version
                                                          : KERAS3_FORMAT_VERSION, date);
    struct archive *a = st == TK_OK ? archive_write_new() : NULL;
    if (st == TK_OK && a == NULL)
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
    if (st == TK_OK && (archive_write_set_format_zip(a) != ARCHIVE_OK ||
                        archive_write_open_filename(a, tmp) != ARCHIVE_OK))
        st = tk_error_set(err, TK_E_IO, "%s: cannot create the file: %s", tmp,
                          archive_error_string(a));
    /* Keras writes metadata.json, config.json, then the weights. */
    if (st == TK_OK && (!add_entry(a, "metadata.json", meta, strlen(meta), now) ||
                        !add_entry(a, "config.json", json, strlen(json), now) ||
                        !add_entry(a, "model.weights.h5", weights, wsize, now)))
        st = tk_error_set(err, TK_E_IO, "%s: cannot write the archive: %s", tmp,
                          archive_error_string(a));
    if (a != NULL) {
        if (archive_write_close(a) != ARCHIVE_OK && st == TK_OK)
            st = tk_error_set(err, TK_E_IO, "%s: cannot finish the archive: %s", tmp,
                              archive_error_string(a));
        archive_write_free(a);
    }
    free(weights);
    free(json);
    if (st == TK_OK && rename(tmp, path) != 0)
        st = tk_error_set(err, TK_E_IO, "%s: cannot rename the finished file into place", path);
    if (st != TK_OK)
        unlink(tmp);
    return st;
}

/* ---- the TextVectorization vocabulary ---- */

void tk_model_free_words(char **words, int64_t n)
{
    for (int64_t i = 0; words != NULL && i < n; i++)
        free(words[i]);
    free(words);
}

/* vocabulary.txt: "\n"-joined, trailing empty lines dropped (Keras' load_assets). */
static tk_status split_lines(char *text, size_t len, const char *path, char ***words,
                             int64_t *n, tk_error *err)
{
    int64_t count = 1;
    for (size_t i = 0; i < len; i++)
        count += text[i] == '\n';
    char **w = tk_calloc((size_t)count, sizeof *w, err);
    if (w == NULL)
        return TK_E_NOMEM;
    int64_t k = 0;
    char *p = text, *end = text + len;
    while (k < count) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if ((w[k] = tk_malloc(l + 1, 1, err)) == NULL) {
            tk_model_free_words(w, k);
            return TK_E_NOMEM;
        }
        memcpy(w[k], p, l);
        w[k][l] = '\0';
        k++;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    while (k > 0 && w[k - 1][0] == '\0')
        free(w[--k]);
    if (k == 0) {
        free(w);
        return tk_error_set(err, TK_E_FORMAT, "%s: the vocabulary is empty", path);
    }
    *words = w;
    *n = k;
    return TK_OK;
}

tk_status tk_model_text_vocabulary(const char *path, const char *arch, char ***words,
                                   int64_t *n, tk_error *err)
{
    *words = NULL;
    *n = 0;
    tk_model *m = NULL;
    tk_status st = tk_model_load_with_architecture(path, arch, &m, err);
    if (st != TK_OK)
        return st;
    char name[160];
    snprintf(name, sizeof name, "%s", m->text_vectorization.name);
    bool present = m->text_vectorization.present;
    tk_model_destroy(m);
    if (!present)
        return tk_error_set(err, TK_E_INVALID, "%s: the model has no TextVectorization layer",
                            arch ? arch : path);
    char *json = NULL, label[4200];
    member mm[M_COUNT];
    init_members(mm);
    bool zip = tk_keras_archive_probe(path);
    snprintf(label, sizeof label, "%s", arch ? arch : path);
    if (arch != NULL) {
        st = tk_read_text_file(arch, MAX_CONFIG, &json, NULL, err);
    } else if (zip) {
        st = read_archive(path, mm, M_COUNT, err);
        snprintf(label, sizeof label, "%s: config.json", path);
    } else {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        st = f >= 0 ? tk_h5_read_string(f, "model_config", path, &json, err)
                    : tk_error_set(err, TK_E_IO, "%s: cannot open the HDF5 file", path);
        if (f >= 0)
            H5Fclose(f);
    }
    if (st == TK_OK && zip && arch == NULL)
        st = tk_keras_config_vocabulary(mm[M_CONFIG].data, label, words, n, err);
    else if (st == TK_OK)
        st = tk_keras_config_vocabulary(json, label, words, n, err);
    /* Adapted vocabularies are assets: assets/layers/text_vectorization/vocabulary.txt. */
    const member *vm = mm[M_VOCAB].data != NULL ? &mm[M_VOCAB] : &mm[M_VOCAB_213];
    if (st == TK_OK && *words == NULL && zip && vm->data != NULL)
        st = split_lines(vm->data, vm->size, path, words, n, err);
    if (st == TK_OK && *words == NULL)
        st = tk_error_set(err, TK_E_UNSUPPORTED,
                          "%s: the TextVectorization layer '%s' has no vocabulary in this file "
                          "(%s): pass it with --tokenizer text-vectorization:VOCAB.txt (one "
                          "token a line, layer.get_vocabulary())", path, name,
                          zip ? "no vocabulary list in config.json and no "
                                "assets/.../vocabulary.txt"
                              : "tf.keras h5 files do not store an adapted vocabulary");
    free(json);
    free_members(mm, M_COUNT);
    return st;
}
