#define _POSIX_C_SOURCE 200809L
#include "data/dataset.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/model_input.h"

/* Every HDF5 call is checked; a failure names the file, the object and the
 * source line. HDF5's own error stack printing is turned off around calls. */
#define TK_H5CHECK(call, what)                                                                     \
    do {                                                                                        \
        if ((call) < 0) {                                                                       \
            st = tk_error_set(err, TK_E_IO, "%s: HDF5 failed to %s (%s:%d)", path, what,        \
                              __FILE__, __LINE__);                                              \
            goto done;                                                                          \
        }                                                                                       \
    } while (0)

/* Big arrays are chunked and deflated; tiny ones stay contiguous (a chunk
 * larger than a fixed-size dataspace is not allowed). */
static tk_status write_array(const char *path, hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                             int64_t n, const void *data, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, dset = H5I_INVALID_HID;
    hsize_t dims[1] = {(hsize_t)n};
    TK_H5CHECK(space = H5Screate_simple(1, dims, NULL), "create a dataspace");
    TK_H5CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE), "create a property list");
    if (n >= 4096) {
        hsize_t chunk[1] = {n < 65536 ? (hsize_t)n : 65536};
        TK_H5CHECK(H5Pset_chunk(dcpl, 1, chunk), "set the chunk size");
        TK_H5CHECK(H5Pset_shuffle(dcpl), "set the shuffle filter");
        TK_H5CHECK(H5Pset_deflate(dcpl, 4), "set deflate");
    }
    TK_H5CHECK(dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "create a dataset");
    if (n > 0)
        TK_H5CHECK(H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write a dataset");
done:
    if (st != TK_OK)
        tk_error_prefix(err, "%s", name);
    if (dset >= 0)
        H5Dclose(dset);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return st;
}

static tk_status write_string_attr(const char *path, hid_t loc, const char *name, const char *value,
                                   tk_error *err)
{
    tk_status st = TK_OK;
    hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    TK_H5CHECK(type = H5Tcopy(H5T_C_S1), "copy a string type");
    TK_H5CHECK(H5Tset_size(type, H5T_VARIABLE), "set a string size");
    TK_H5CHECK(H5Tset_cset(type, H5T_CSET_UTF8), "set a string character set");
    TK_H5CHECK(space = H5Screate(H5S_SCALAR), "create a dataspace");
    TK_H5CHECK(attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT), "create an attribute");
    TK_H5CHECK(H5Awrite(attr, type, &value), "write an attribute");
done:
    if (attr >= 0)
        H5Aclose(attr);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return st;
}

static tk_status write_split(const char *path, hid_t file, const char *name, const tk_split *s, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t g = H5I_INVALID_HID;
    TK_H5CHECK(g = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create a group");
    if ((st = write_array(path, g, "offset", H5T_STD_I64LE, H5T_NATIVE_INT64, s->n + 1, s->offset, err)) ||
        (st = write_array(path, g, "ids", H5T_STD_I32LE, H5T_NATIVE_INT32, s->offset[s->n], s->ids, err)) ||
        (st = write_array(path, g, "label", H5T_STD_I8LE, H5T_NATIVE_INT8, s->n, s->label, err)) ||
        (st = write_array(path, g, "rating", H5T_STD_I8LE, H5T_NATIVE_INT8, s->n, s->rating, err)) ||
        (st = write_array(path, g, "review_id", H5T_STD_I32LE, H5T_NATIVE_INT32, s->n, s->review_id, err)))
        tk_error_prefix(err, "/%s", name);
done:
    if (g >= 0)
        H5Gclose(g);
    return st;
}

tk_status tk_dataset_write(const tk_dataset *ds, const char *out_path, const char *source, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t file = H5I_INVALID_HID, g = H5I_INVALID_HID, str = H5I_INVALID_HID;
    size_t plen = strlen(out_path);
    char *tmp = tk_malloc(plen + 5, 1, err);
    if (tmp == NULL)
        return TK_E_NOMEM;
    memcpy(tmp, out_path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    const char *path = tmp; /* the file being written, as TK_H5CHECK names it */
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot create the dataset file (is the directory writable?)", tmp);
        goto done;
    }
    if ((st = write_string_attr(path, file, "tokattr_version", TOKATTR_VERSION, err)) ||
        (st = write_string_attr(tmp, file, "source", source ? source : "", err)) ||
        (st = write_string_attr(tmp, file, "word_index_sha256", ds->word_index_sha256, err)) ||
        (st = write_split(tmp, file, "train", &ds->train, err)) ||
        (st = write_split(tmp, file, "test", &ds->test, err)))
        goto done;
    TK_H5CHECK(g = H5Gcreate2(file, "vocab", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create /vocab");
    TK_H5CHECK(str = H5Tcopy(H5T_C_S1), "copy a string type");
    TK_H5CHECK(H5Tset_size(str, H5T_VARIABLE), "set a string size");
    TK_H5CHECK(H5Tset_cset(str, H5T_CSET_UTF8), "set a string character set");
    if ((st = write_array(tmp, g, "word", str, str, ds->vocab_size, ds->vocab, err)) ||
        (st = write_array(tmp, g, "count", H5T_STD_I64LE, H5T_NATIVE_INT64, ds->vocab_size, ds->counts, err)))
        goto done;
    H5Gclose(g);
    g = H5I_INVALID_HID;
    if (H5Fclose(file) < 0) {
        file = H5I_INVALID_HID;
        st = tk_error_set(err, TK_E_IO, "%s: HDF5 failed to close (flush) the file", tmp);
        goto done;
    }
    file = H5I_INVALID_HID;
    if (rename(tmp, out_path) != 0)
        st = tk_error_set(err, TK_E_IO, "%s: cannot rename to %s: %s", tmp, out_path, strerror(errno));
done:
    if (str >= 0)
        H5Tclose(str);
    if (g >= 0)
        H5Gclose(g);
    if (file >= 0)
        H5Fclose(file);
    if (st != TK_OK)
        remove(tmp);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    free(tmp);
    return st;
}

/* Reads a 1-D dataset of exactly n elements (n < 0: any length, returned in
 * *got) into a fresh buffer. */
static tk_status read_array(const char *path, hid_t loc, const char *name, hid_t mem_type, size_t elem,
                            int64_t n, int64_t *got, void **out, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID;
    *out = NULL;
    if ((dset = H5Dopen2(loc, name, H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: no dataset '%s' (not a tokattr dataset file?)", path, name);
        goto done;
    }
    TK_H5CHECK(space = H5Dget_space(dset), "get a dataspace");
    hsize_t dims[1] = {0};
    if (H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: dataset '%s' is not one-dimensional", path, name);
        goto done;
    }
    if (n >= 0 && dims[0] != (hsize_t)n) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: dataset '%s' has %llu elements, expected %lld", path, name,
                          (unsigned long long)dims[0], (long long)n);
        goto done;
    }
    *out = tk_malloc(dims[0] ? dims[0] : 1, elem, err);
    if (*out == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    if (dims[0] > 0)
        TK_H5CHECK(H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out), "read a dataset");
    if (got != NULL)
        *got = (int64_t)dims[0];
done:
    if (st != TK_OK) {
        free(*out);
        *out = NULL;
    }
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return st;
}

static tk_status read_split(const char *path, hid_t file, const char *name, tk_split *s, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t g = H5I_INVALID_HID;
    void *p = NULL;
    int64_t n = 0, nids = 0;
    if ((g = H5Gopen2(file, name, H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: no group /%s (not a tokattr dataset file?)", path, name);
        goto done;
    }
    if ((st = read_array(path, g, "offset", H5T_NATIVE_INT64, sizeof(int64_t), -1, &n, &p, err)))
        goto done;
    s->offset = p;
    if (n < 1) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /%s/offset is empty", path, name);
        goto done;
    }
    s->n = n - 1;
    if ((st = read_array(path, g, "ids", H5T_NATIVE_INT32, sizeof(int32_t), -1, &nids, &p, err)))
        goto done;
    s->ids = p;
    if ((st = read_array(path, g, "label", H5T_NATIVE_INT8, 1, s->n, NULL, &p, err)))
        goto done;
    s->label = p;
    if ((st = read_array(path, g, "rating", H5T_NATIVE_INT8, 1, s->n, NULL, &p, err)))
        goto done;
    s->rating = p;
    if ((st = read_array(path, g, "review_id", H5T_NATIVE_INT32, sizeof(int32_t), s->n, NULL, &p, err)))
        goto done;
    s->review_id = p;
    /* A damaged file must not send a reader out of bounds later. */
    if (s->offset[0] != 0 || s->offset[s->n] != nids) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /%s/offset does not span /%s/ids", path, name, name);
        goto done;
    }
    for (int64_t i = 0; i < s->n; i++)
        if (s->offset[i + 1] < s->offset[i] || (s->label[i] != 0 && s->label[i] != 1)) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: /%s review %lld has a bad offset or label", path, name,
                              (long long)i);
            goto done;
        }
    for (int64_t i = 0; i < nids; i++)
        if (s->ids[i] < TK_ID_OOV) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: /%s/ids[%lld] = %d is not a word id", path, name,
                              (long long)i, s->ids[i]);
            goto done;
        }
done:
    if (g >= 0)
        H5Gclose(g);
    return st;
}

static tk_status read_string_attr(const char *path, hid_t file, const char *name, char *buf, size_t size,
                                  tk_error *err)
{
    tk_status st = TK_OK;
    hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID;
    char *value = NULL;
    if ((attr = H5Aopen(file, name, H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: no root attribute '%s'", path, name);
        goto done;
    }
    TK_H5CHECK(type = H5Tcopy(H5T_C_S1), "copy a string type");
    TK_H5CHECK(H5Tset_size(type, H5T_VARIABLE), "set a string size");
    /* HDF5 does not convert between character sets: read as written. */
    TK_H5CHECK(H5Tset_cset(type, H5T_CSET_UTF8), "set a string character set");
    TK_H5CHECK(H5Aread(attr, type, &value), "read a string attribute");
    snprintf(buf, size, "%s", value ? value : "");
done:
    if (value != NULL)
        H5free_memory(value);
    if (type >= 0)
        H5Tclose(type);
    if (attr >= 0)
        H5Aclose(attr);
    return st;
}

tk_status tk_dataset_read(const char *path, tk_dataset **out, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t file = H5I_INVALID_HID, dset = H5I_INVALID_HID, str = H5I_INVALID_HID;
    void *p = NULL;
    *out = NULL;
    tk_dataset *ds = tk_calloc(1, sizeof *ds, err);
    if (ds == NULL)
        return TK_E_NOMEM;
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if ((file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot open as an HDF5 file", path);
        goto done;
    }
    if ((st = read_string_attr(path, file, "word_index_sha256", ds->word_index_sha256,
                               sizeof ds->word_index_sha256, err)) ||
        (st = read_split(path, file, "train", &ds->train, err)) ||
        (st = read_split(path, file, "test", &ds->test, err)))
        goto done;
    if ((st = read_array(path, file, "vocab/count", H5T_NATIVE_INT64, sizeof(int64_t), -1, &ds->vocab_size, &p,
                         err)))
        goto done;
    ds->counts = p;
    if ((dset = H5Dopen2(file, "vocab/word", H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: no dataset /vocab/word", path);
        goto done;
    }
    ds->vocab = tk_calloc(ds->vocab_size ? (size_t)ds->vocab_size : 1, sizeof *ds->vocab, err);
    if (ds->vocab == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    {
        hid_t space = H5Dget_space(dset);
        hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
        if (space >= 0)
            H5Sclose(space);
        if (npoints != ds->vocab_size) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: /vocab/word and /vocab/count differ in length", path);
            goto done;
        }
    }
    TK_H5CHECK(str = H5Tcopy(H5T_C_S1), "copy a string type");
    TK_H5CHECK(H5Tset_size(str, H5T_VARIABLE), "set a string size");
    TK_H5CHECK(H5Tset_cset(str, H5T_CSET_UTF8), "set a string character set");
    if (ds->vocab_size > 0) {
        char **raw = tk_calloc((size_t)ds->vocab_size, sizeof *raw, err);
        if (raw == NULL) {
            st = TK_E_NOMEM;
            goto done;
        }
        if (H5Dread(dset, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
            free(raw);
            st = tk_error_set(err, TK_E_IO, "%s: HDF5 failed to read /vocab/word", path);
            goto done;
        }
        /* Copy into malloc'd strings so that destroy frees with free(). */
        for (int64_t i = 0; i < ds->vocab_size && st == TK_OK; i++)
            if ((ds->vocab[i] = strdup(raw[i] ? raw[i] : "")) == NULL)
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading the vocabulary", path);
        for (int64_t i = 0; i < ds->vocab_size; i++)
            H5free_memory(raw[i]);
        free(raw);
        if (st != TK_OK)
            goto done;
    }
    for (int i = 0; i < 2; i++) {
        const tk_split *s = i ? &ds->test : &ds->train;
        for (int64_t k = 0; k < s->offset[s->n]; k++)
            if (s->ids[k] > ds->vocab_size + TK_INDEX_FROM) {
                st = tk_error_set(err, TK_E_FORMAT, "%s: /%s/ids holds id %d beyond the vocabulary (%lld words)",
                                  path, i ? "test" : "train", s->ids[k], (long long)ds->vocab_size);
                goto done;
            }
    }
done:
    if (str >= 0)
        H5Tclose(str);
    if (dset >= 0)
        H5Dclose(dset);
    if (file >= 0)
        H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (st != TK_OK)
        tk_dataset_destroy(ds);
    else
        *out = ds;
    return st;
}

bool tk_dataset_probe(const char *path)
{
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    bool yes = false;
    if (H5Fis_hdf5(path) > 0) {
        hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (file >= 0) {
            yes = H5Lexists(file, "train", H5P_DEFAULT) > 0 && H5Lexists(file, "test", H5P_DEFAULT) > 0 &&
                  H5Lexists(file, "vocab", H5P_DEFAULT) > 0;
            H5Fclose(file);
        }
    }
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return yes;
}

void tk_split_free(tk_split *s)
{
    if (s == NULL)
        return;
    free(s->offset);
    free(s->ids);
    free(s->label);
    free(s->rating);
    free(s->review_id);
    memset(s, 0, sizeof *s);
}

void tk_dataset_destroy(tk_dataset *ds)
{
    if (ds == NULL)
        return;
    tk_split_free(&ds->train);
    tk_split_free(&ds->test);
    if (ds->vocab != NULL)
        for (int64_t i = 0; i < ds->vocab_size; i++)
            free(ds->vocab[i]);
    free(ds->vocab);
    free(ds->counts);
    free(ds);
}

const tk_split *tk_dataset_split(const tk_dataset *ds, const char *name, tk_error *err)
{
    if (name != NULL && strcmp(name, "train") == 0)
        return &ds->train;
    if (name != NULL && strcmp(name, "test") == 0)
        return &ds->test;
    tk_error_set(err, TK_E_INVALID, "unknown split '%s' (use train or test)", name ? name : "(null)");
    return NULL;
}

const char *tk_dataset_word(const tk_dataset *ds, int32_t id)
{
    static const char *const special[] = {"<pad>", "<start>", "<oov>", "<unused>"};
    if (id >= 0 && id <= TK_ID_UNUSED)
        return special[id];
    if (id < 0 || (int64_t)id - TK_INDEX_FROM > ds->vocab_size)
        return "<oov>";
    return ds->vocab[id - TK_INDEX_FROM - 1];
}
