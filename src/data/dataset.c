#define _POSIX_C_SOURCE 200809L
#include "data/dataset.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h5.h"
#include "core/utf8.h"

static const char *const V1_SPLITS[2] = {"train", "test"};
static const char *const IMDB_CLASSES[2] = {"neg", "pos"};

tk_id_convention tk_dataset_imdb_convention(void)
{
    return (tk_id_convention){.pad_id = 0, .start_id = 1, .oov_id = 2, .index_from = 3,
                              .padding_post = false, .truncating_post = false};
}

/* ---- valid UTF-8 ---- */

/* Appends s (len bytes) to dst with every byte that does not start a valid
 * UTF-8 sequence replaced by U+FFFD (EF BF BD), the rule of issue 20: text
 * tagged UTF-8 in our files is always valid. dst needs 3 * len bytes. */
static size_t utf8_clean(char *dst, const char *s, size_t len)
{
    return tk_utf8_replace_into(dst, s, len); /* the one rule: core/utf8.h */
}

/* A NUL-terminated clean copy of s (len bytes), or NULL when memory runs out. */
static char *utf8_clean_dup(const char *s, size_t len)
{
    return tk_utf8_replace_invalid(s, len, NULL, NULL);
}

/* ---- small writes ---- */

/* Big arrays are chunked and deflated; tiny ones stay contiguous (a chunk
 * larger than a fixed-size dataspace is not allowed). */
static tk_status write_array(const char *path, hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                             int64_t n, const void *data, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, dset = H5I_INVALID_HID;
    hsize_t dims[1] = {(hsize_t)n};
    TK_H5_CHECK(space = H5Screate_simple(1, dims, NULL), path, "create a dataspace");
    TK_H5_CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE), path, "create a property list");
    if (n >= 4096) {
        hsize_t chunk[1] = {n < 65536 ? (hsize_t)n : 65536};
        TK_H5_CHECK(H5Pset_chunk(dcpl, 1, chunk), path, "set the chunk size");
        TK_H5_CHECK(H5Pset_shuffle(dcpl), path, "set the shuffle filter");
        TK_H5_CHECK(H5Pset_deflate(dcpl, 4), path, "set deflate");
    }
    TK_H5_CHECK(dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                path, "create a dataset");
    if (n > 0)
        TK_H5_CHECK(H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path, "write a dataset");
fail:
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

/* n strings as a vlen UTF-8 dataset (n >= 0) or attribute (attr: true),
 * each made valid UTF-8 first. */
static tk_status write_strings(const char *path, hid_t loc, const char *name, char *const *strs, int64_t n,
                               bool attr, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID, obj = H5I_INVALID_HID;
    char **clean = tk_calloc(n > 0 ? (size_t)n : 1, sizeof *clean, err);
    if (clean == NULL)
        return TK_E_NOMEM;
    for (int64_t i = 0; i < n; i++)
        if ((clean[i] = utf8_clean_dup(strs[i] ? strs[i] : "", strs[i] ? strlen(strs[i]) : 0)) == NULL) {
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory writing %s", path, name);
            goto fail;
        }
    if (!attr) {
        TK_H5_CHECK(type = tk_h5_str_vlen_type(), path, "make a string type");
        st = write_array(path, loc, name, type, type, n, clean, err);
        goto fail;
    }
    hsize_t dims[1] = {(hsize_t)n};
    TK_H5_CHECK(type = tk_h5_str_vlen_type(), path, "make a string type");
    TK_H5_CHECK(space = H5Screate_simple(1, dims, NULL), path, "create a dataspace");
    TK_H5_CHECK(obj = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT),
                path, "create an attribute");
    if (n > 0)
        TK_H5_CHECK(H5Awrite(obj, type, clean), path, "write an attribute");
fail:
    if (obj >= 0)
        H5Aclose(obj);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    for (int64_t i = 0; i < n; i++)
        free(clean[i]);
    free(clean);
    return st;
}

/* Text attributes of a dataset file are vlen UTF-8, made valid first. */
static tk_status write_string_attr(const char *path, hid_t loc, const char *name, const char *value,
                                   tk_error *err)
{
    tk_status st = TK_OK;
    char *clean = utf8_clean_dup(value, strlen(value));
    if (clean == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
    TK_H5_CHECK(tk_h5_attr_str_vlen(loc, name, clean), path, "write an attribute");
fail:
    free(clean);
    return st;
}

static tk_status write_int_attr(const char *path, hid_t loc, const char *name, hid_t file_type, int32_t value,
                                tk_error *err)
{
    tk_status st = TK_OK;
    TK_H5_CHECK(tk_h5_attr_num_as(loc, name, file_type, H5T_NATIVE_INT32, &value), path,
                "write an attribute");
fail:
    return st;
}

/* ---- the streaming writer ---- */

/* One extendable 1-D dataset, appended through a buffer of `cap` elements. */
typedef struct column {
    hid_t dset;
    hid_t mem_type;
    size_t elem;       /* bytes per element in memory */
    bool strings;      /* buf holds malloc'd char * to free after each flush */
    char *buf;
    size_t n, cap;     /* buffered elements, capacity */
    hsize_t written;
} column;

typedef struct wsplit {
    char *name;
    hid_t group;
    column offset, ids, label, rating, review_id, doc_id, word_offset, word_text;
    int64_t n, tokens, bytes;
} wsplit;

struct tk_dataset_writer {
    char *path, *tmp;
    hid_t file, str_type;
    wsplit *splits;
    int n_splits, cap_splits;
    int last;          /* the split of the previous document, tried first */
    char *clean;       /* scratch for a document's cleaned words */
    size_t clean_cap;
    size_t *clean_len; /* (tokens) cleaned length of each word */
    size_t clean_len_cap;
    H5E_auto2_t old_func;
    void *old_data;
};

static tk_status column_create(const char *path, hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                               size_t elem, size_t cap, bool compress, column *c, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
    memset(c, 0, sizeof *c);
    c->dset = H5I_INVALID_HID;
    c->mem_type = mem_type;
    c->elem = elem;
    c->cap = cap;
    c->strings = H5Tis_variable_str(mem_type) > 0;
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {cap};
    if ((c->buf = tk_malloc(cap, elem, err)) == NULL)
        return TK_E_NOMEM;
    TK_H5_CHECK(space = H5Screate_simple(1, dims, maxdims), path, "create a dataspace");
    TK_H5_CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE), path, "create a property list");
    TK_H5_CHECK(H5Pset_chunk(dcpl, 1, chunk), path, "set the chunk size");
    if (compress) {
        /* Level 1: most of the gain of deflate at a speed that keeps a
         * 1 GB corpus reading-bound. */
        TK_H5_CHECK(H5Pset_shuffle(dcpl), path, "set the shuffle filter");
        TK_H5_CHECK(H5Pset_deflate(dcpl, 1), path, "set deflate");
    }
    TK_H5_CHECK(c->dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                path, "create a dataset");
fail:
    if (st != TK_OK)
        tk_error_prefix(err, "%s", name);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return st;
}

static tk_status column_flush(const char *path, column *c, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    if (c->n == 0)
        return TK_OK;
    hsize_t size[1] = {c->written + c->n}, start[1] = {c->written}, count[1] = {c->n};
    TK_H5_CHECK(H5Dset_extent(c->dset, size), path, "extend a dataset");
    TK_H5_CHECK(fspace = H5Dget_space(c->dset), path, "get a dataspace");
    TK_H5_CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL), path, "select rows");
    TK_H5_CHECK(mspace = H5Screate_simple(1, count, NULL), path, "create a dataspace");
    TK_H5_CHECK(H5Dwrite(c->dset, c->mem_type, mspace, fspace, H5P_DEFAULT, c->buf), path, "append rows");
    c->written += c->n;
fail:
    if (c->strings)
        for (size_t i = 0; i < c->n; i++)
            free(((char **)c->buf)[i]);
    c->n = 0;
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    return st;
}

static tk_status column_append(const char *path, column *c, const void *data, size_t n, tk_error *err)
{
    const char *p = data;
    while (n > 0) {
        size_t take = c->cap - c->n < n ? c->cap - c->n : n;
        memcpy(c->buf + c->n * c->elem, p, take * c->elem);
        c->n += take;
        p += take * c->elem;
        n -= take;
        if (c->n == c->cap) {
            tk_status st = column_flush(path, c, err);
            if (st != TK_OK)
                return st;
        }
    }
    return TK_OK;
}

static void column_close(column *c)
{
    if (c->strings)
        for (size_t i = 0; i < c->n; i++)
            free(((char **)c->buf)[i]);
    free(c->buf);
    c->buf = NULL;
    c->n = 0;
    if (c->dset > 0)
        H5Dclose(c->dset);
    c->dset = H5I_INVALID_HID;
}

#define SPLIT_COLUMNS(s)                                                                                     \
    {                                                                                                        \
        &(s)->offset, &(s)->ids, &(s)->label, &(s)->rating, &(s)->review_id, &(s)->doc_id, &(s)->word_offset, \
            &(s)->word_text                                                                                  \
    }

static void wsplit_close(wsplit *s)
{
    column *cols[] = SPLIT_COLUMNS(s);
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        column_close(cols[i]);
    if (s->group > 0)
        H5Gclose(s->group);
    s->group = H5I_INVALID_HID;
    free(s->name);
    s->name = NULL;
}

tk_status tk_dataset_writer_create(const char *out_path, tk_dataset_writer **out, tk_error *err)
{
    *out = NULL;
    tk_dataset_writer *w = tk_calloc(1, sizeof *w, err);
    if (w == NULL)
        return TK_E_NOMEM;
    w->file = w->str_type = H5I_INVALID_HID;
    size_t plen = strlen(out_path);
    w->path = strdup(out_path);
    w->tmp = malloc(plen + 5);
    if (w->path == NULL || w->tmp == NULL) {
        tk_dataset_writer_abort(w);
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", out_path);
    }
    memcpy(w->tmp, out_path, plen);
    memcpy(w->tmp + plen, ".tmp", 5);
    H5Eget_auto2(H5E_DEFAULT, &w->old_func, &w->old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    w->str_type = tk_h5_str_vlen_type();
    if (w->file < 0 || w->str_type < 0) {
        tk_status st = tk_error_set(err, TK_E_IO, "%s: cannot create the dataset file (is the directory writable?)",
                                    w->tmp);
        tk_dataset_writer_abort(w);
        return st;
    }
    *out = w;
    return TK_OK;
}

static bool bad_split_name(const char *name)
{
    return name == NULL || name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
           strcmp(name, "vocab") == 0 || strcmp(name, "classes") == 0 || strcmp(name, "splits") == 0;
}

static tk_status open_split(tk_dataset_writer *w, const char *name, wsplit **out, tk_error *err)
{
    tk_status st = TK_OK;
    const char *path = w->tmp;
    if (w->last >= 0 && w->last < w->n_splits && strcmp(w->splits[w->last].name, name) == 0) {
        *out = &w->splits[w->last];
        return TK_OK;
    }
    for (int i = 0; i < w->n_splits; i++)
        if (strcmp(w->splits[i].name, name) == 0) {
            w->last = i;
            *out = &w->splits[i];
            return TK_OK;
        }
    if (bad_split_name(name))
        return tk_error_set(err, TK_E_INVALID,
                            "split name '%s' cannot be used (empty, holds '/', or is vocab, classes or splits)",
                            name ? name : "");
    if (w->n_splits == w->cap_splits) {
        int cap = w->cap_splits ? 2 * w->cap_splits : 4;
        wsplit *s = realloc(w->splits, (size_t)cap * sizeof *s);
        if (s == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
        w->splits = s;
        w->cap_splits = cap;
    }
    wsplit *s = &w->splits[w->n_splits];
    memset(s, 0, sizeof *s);
    column *cols[] = SPLIT_COLUMNS(s);
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        cols[i]->dset = H5I_INVALID_HID;
    s->group = H5I_INVALID_HID;
    w->n_splits++; /* from here on wsplit_close cleans up after a failure */
    if ((s->name = strdup(name)) == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
    TK_H5_CHECK(s->group = H5Gcreate2(w->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                path, "create a group");
    enum { ROWS = 16384, TOKENS = 65536, BYTES = 1 << 20 };
    if ((st = column_create(path, s->group, "offset", H5T_STD_I64LE, H5T_NATIVE_INT64, 8, ROWS, true, &s->offset, err)) ||
        (st = column_create(path, s->group, "ids", H5T_STD_I32LE, H5T_NATIVE_INT32, 4, TOKENS, true, &s->ids, err)) ||
        (st = column_create(path, s->group, "label", H5T_STD_I32LE, H5T_NATIVE_INT32, 4, ROWS, true, &s->label, err)) ||
        (st = column_create(path, s->group, "rating", H5T_STD_I8LE, H5T_NATIVE_INT8, 1, ROWS, true, &s->rating, err)) ||
        (st = column_create(path, s->group, "review_id", H5T_STD_I32LE, H5T_NATIVE_INT32, 4, ROWS, true,
                            &s->review_id, err)) ||
        (st = column_create(path, s->group, "doc_id", w->str_type, w->str_type, sizeof(char *), 4096, false,
                            &s->doc_id, err)) ||
        (st = column_create(path, s->group, "word_offset", H5T_STD_I64LE, H5T_NATIVE_INT64, 8, TOKENS, true,
                            &s->word_offset, err)) ||
        (st = column_create(path, s->group, "word_text", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, BYTES, true,
                            &s->word_text, err)))
        goto fail;
    int64_t zero = 0;
    if ((st = column_append(path, &s->offset, &zero, 1, err)) ||
        (st = column_append(path, &s->word_offset, &zero, 1, err)))
        goto fail;
    w->last = w->n_splits - 1;
    *out = s;
fail:
    if (st != TK_OK)
        tk_error_prefix(err, "/%s", name);
    return st;
}

int64_t tk_dataset_writer_count(const tk_dataset_writer *w, const char *split)
{
    for (int i = 0; i < w->n_splits; i++)
        if (strcmp(w->splits[i].name, split) == 0)
            return w->splits[i].n;
    return 0;
}

tk_status tk_dataset_writer_add(tk_dataset_writer *w, const tk_dataset_doc *doc, tk_error *err)
{
    wsplit *s = NULL;
    const char *path = w->tmp;
    tk_status st = open_split(w, doc->split, &s, err);
    if (st != TK_OK)
        return st;
    /* The words, cleaned to valid UTF-8 (at most 3 bytes per byte). */
    size_t raw = 0;
    if (doc->words != NULL)
        for (size_t i = 0; i < doc->n; i++)
            raw += doc->word_len[i];
    if (3 * raw + 1 > w->clean_cap) {
        size_t cap = 3 * raw + 1 > 2 * w->clean_cap ? 3 * raw + 1 : 2 * w->clean_cap;
        char *b = realloc(w->clean, cap);
        if (b == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
        w->clean = b;
        w->clean_cap = cap;
    }
    if (doc->n > w->clean_len_cap) {
        size_t cap = doc->n > 2 * w->clean_len_cap ? doc->n : 2 * w->clean_len_cap;
        size_t *b = realloc(w->clean_len, cap * sizeof *b);
        if (b == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
        w->clean_len = b;
        w->clean_len_cap = cap;
    }
    size_t k = 0;
    for (size_t i = 0; i < doc->n; i++) {
        size_t got = doc->words ? utf8_clean(w->clean + k, doc->words + doc->word_start[i], doc->word_len[i]) : 0;
        w->clean_len[i] = got;
        k += got;
    }
    char *id = utf8_clean_dup(doc->doc_id ? doc->doc_id : "", doc->doc_id ? strlen(doc->doc_id) : 0);
    if (id == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
    /* doc_id takes ownership of id (freed after its flush). */
    if ((st = column_append(path, &s->doc_id, &id, 1, err)) != TK_OK)
        return st;
    int64_t end = s->tokens + (int64_t)doc->n;
    if ((st = column_append(path, &s->ids, doc->ids, doc->n, err)) ||
        (st = column_append(path, &s->offset, &end, 1, err)) ||
        (st = column_append(path, &s->label, &doc->label, 1, err)) ||
        (st = column_append(path, &s->rating, &doc->rating, 1, err)) ||
        (st = column_append(path, &s->review_id, &doc->review_id, 1, err)) ||
        (st = column_append(path, &s->word_text, w->clean, k, err)))
        return st;
    int64_t at = s->bytes;
    for (size_t i = 0; i < doc->n; i++) {
        at += (int64_t)w->clean_len[i];
        if ((st = column_append(path, &s->word_offset, &at, 1, err)) != TK_OK)
            return st;
    }
    s->bytes = at;
    s->tokens = end;
    s->n++;
    return TK_OK;
}

static void writer_free(tk_dataset_writer *w, bool remove_tmp)
{
    for (int i = 0; i < w->n_splits; i++)
        wsplit_close(&w->splits[i]);
    free(w->splits);
    if (w->str_type >= 0)
        H5Tclose(w->str_type);
    if (w->file >= 0)
        H5Fclose(w->file);
    if (remove_tmp && w->tmp != NULL)
        remove(w->tmp);
    if (w->tmp != NULL) /* created: HDF5's error printing was switched off */
        H5Eset_auto2(H5E_DEFAULT, w->old_func, w->old_data);
    free(w->clean);
    free(w->clean_len);
    free(w->path);
    free(w->tmp);
    free(w);
}

void tk_dataset_writer_abort(tk_dataset_writer *w)
{
    if (w != NULL)
        writer_free(w, true);
}

tk_status tk_dataset_writer_finish(tk_dataset_writer *w, const tk_dataset_meta *meta, tk_error *err)
{
    tk_status st = TK_OK;
    const char *path = w->tmp;
    hid_t g = H5I_INVALID_HID;
    int64_t *counts = NULL;
    char **names = NULL;
    for (int i = 0; i < w->n_splits && st == TK_OK; i++) {
        column *cols[] = SPLIT_COLUMNS(&w->splits[i]);
        for (size_t c = 0; c < sizeof cols / sizeof *cols && st == TK_OK; c++)
            st = column_flush(path, cols[c], err);
    }
    if (st != TK_OK)
        goto fail;
    if ((names = tk_calloc(w->n_splits ? (size_t)w->n_splits : 1, sizeof *names, err)) == NULL) {
        st = TK_E_NOMEM;
        goto fail;
    }
    for (int i = 0; i < w->n_splits; i++)
        names[i] = w->splits[i].name;
    TK_H5_CHECK(g = H5Gcreate2(w->file, "splits", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                path, "create /splits");
    if ((st = write_strings(path, g, "names", names, w->n_splits, true, err)))
        goto fail;
    H5Gclose(g);
    g = H5I_INVALID_HID;
    if (meta->n_classes > 0) {
        TK_H5_CHECK(g = H5Gcreate2(w->file, "classes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    path, "create /classes");
        if ((st = write_strings(path, g, "name", meta->class_names, meta->n_classes, false, err)))
            goto fail;
        H5Gclose(g);
        g = H5I_INVALID_HID;
    }
    if ((counts = tk_malloc(meta->vocab_size ? (size_t)meta->vocab_size : 1, sizeof *counts, err)) == NULL) {
        st = TK_E_NOMEM;
        goto fail;
    }
    for (int64_t r = 0; r < meta->vocab_size; r++)
        counts[r] = meta->counts ? meta->counts[r] : -1;
    TK_H5_CHECK(g = H5Gcreate2(w->file, "vocab", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                path, "create /vocab");
    if ((st = write_strings(path, g, "word", meta->vocab, meta->vocab_size, false, err)) ||
        (st = write_array(path, g, "count", H5T_STD_I64LE, H5T_NATIVE_INT64, meta->vocab_size, counts, err)))
        goto fail;
    H5Gclose(g);
    g = H5I_INVALID_HID;
    const tk_tokenizer_record *rec = meta->tokenizer;
    const tk_id_convention *cv = &meta->convention;
    if ((st = write_string_attr(path, w->file, "tokattr_version", TOKATTR_VERSION, err)) ||
        (st = write_string_attr(path, w->file, "source", meta->source ? meta->source : "", err)) ||
        (st = write_string_attr(path, w->file, "format", meta->format ? meta->format : "", err)) ||
        (st = write_string_attr(path, w->file, "word_index_sha256", rec->vocab_sha256, err)) ||
        (st = write_string_attr(path, w->file, "tokenizer_kind", rec->kind, err)) ||
        (st = write_string_attr(path, w->file, "tokenizer_params", rec->params_json, err)) ||
        (st = write_string_attr(path, w->file, "tokenizer_vocab_sha256", rec->vocab_sha256, err)) ||
        (st = write_int_attr(path, w->file, "index_from", H5T_STD_I32LE, cv->index_from, err)) ||
        (st = write_int_attr(path, w->file, "start_id", H5T_STD_I32LE, cv->start_id, err)) ||
        (st = write_int_attr(path, w->file, "oov_id", H5T_STD_I32LE, cv->oov_id, err)) ||
        (st = write_int_attr(path, w->file, "pad_id", H5T_STD_I32LE, cv->pad_id, err)) ||
        (st = write_int_attr(path, w->file, "padding_post", H5T_STD_I8LE, cv->padding_post, err)) ||
        (st = write_int_attr(path, w->file, "truncating_post", H5T_STD_I8LE, cv->truncating_post, err)) ||
        (st = write_int_attr(path, w->file, "dataset_version", H5T_STD_I32LE, TK_DATASET_VERSION, err)))
        goto fail;
    for (int i = 0; i < w->n_splits; i++)
        wsplit_close(&w->splits[i]);
    w->n_splits = 0;
    H5Tclose(w->str_type);
    w->str_type = H5I_INVALID_HID;
    herr_t closed = H5Fclose(w->file);
    w->file = H5I_INVALID_HID;
    if (closed < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: HDF5 failed to close (flush) the file", path);
        goto fail;
    }
    if (rename(w->tmp, w->path) != 0)
        st = tk_error_set(err, TK_E_IO, "%s: cannot rename to %s: %s", w->tmp, w->path, strerror(errno));
fail:
    free(names);
    free(counts);
    if (g >= 0)
        H5Gclose(g);
    writer_free(w, st != TK_OK);
    return st;
}

/* ---- the whole dataset at once ---- */

/* Hand-built datasets (tests, the synthetic corpus) leave the v2 metadata
 * empty: they are IMDB-like (neg/pos, tokattr-imdb ids). */
static bool convention_unset(const tk_id_convention *c)
{
    return c->pad_id == 0 && c->start_id == 0 && c->oov_id == 0 && c->index_from == 0;
}

tk_status tk_dataset_write(const tk_dataset *ds, const char *out_path, const char *source, tk_error *err)
{
    tk_dataset_writer *w = NULL;
    size_t *start = NULL;
    uint32_t *len = NULL;
    size_t cap = 0, wcap = 0;
    char buf[24], *wbuf = NULL;
    tk_status st = tk_dataset_writer_create(out_path, &w, err);
    if (st != TK_OK)
        return st;
    int32_t max_label = -1;
    for (int si = 0; si < ds->n_splits && st == TK_OK; si++) {
        const tk_split *s = &ds->splits[si];
        const char *name = s->name ? s->name : si < 2 && ds->n_splits == 2 ? V1_SPLITS[si] : NULL;
        if (name == NULL) {
            st = tk_error_set(err, TK_E_INVALID, "%s: split %d has no name", out_path, si);
            break;
        }
        for (int64_t i = 0; i < s->n && st == TK_OK; i++) {
            size_t n = (size_t)(s->offset[i + 1] - s->offset[i]);
            if (n > cap) {
                size_t c = n > 2 * cap ? n : 2 * cap;
                size_t *a = realloc(start, c * sizeof *a);
                if (a != NULL)
                    start = a;
                uint32_t *b = realloc(len, c * sizeof *b);
                if (b != NULL)
                    len = b;
                if (a == NULL || b == NULL) {
                    st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", out_path);
                    break;
                }
                cap = c;
            }
            /* Words as stored, else the vocabulary's word of each id copied
             * into wbuf. */
            const char *base = s->word_text;
            if (s->word_offset == NULL) {
                size_t need = 0;
                for (size_t k = 0; k < n; k++)
                    need += strlen(tk_dataset_word(ds, s->ids[s->offset[i] + (int64_t)k]));
                if (need + 1 > wcap) {
                    char *b = realloc(wbuf, need + 1 > 2 * wcap ? need + 1 : 2 * wcap);
                    if (b == NULL) {
                        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", out_path);
                        break;
                    }
                    wbuf = b;
                    wcap = need + 1 > 2 * wcap ? need + 1 : 2 * wcap;
                }
                base = wbuf;
            }
            size_t at = 0;
            for (size_t k = 0; k < n; k++) {
                int64_t t = s->offset[i] + (int64_t)k;
                if (s->word_offset != NULL) {
                    start[k] = (size_t)s->word_offset[t];
                    len[k] = (uint32_t)(s->word_offset[t + 1] - s->word_offset[t]);
                } else {
                    const char *word = tk_dataset_word(ds, s->ids[t]);
                    start[k] = at;
                    len[k] = (uint32_t)strlen(word);
                    if (len[k] > 0)
                        memcpy(wbuf + at, word, len[k]);
                    at += len[k];
                }
            }
            if (s->doc_id == NULL)
                snprintf(buf, sizeof buf, "%d", s->review_id[i]);
            if (s->label[i] > max_label)
                max_label = s->label[i];
            tk_dataset_doc doc = {.split = name, .label = s->label[i], .rating = s->rating[i],
                                  .review_id = s->review_id[i], .doc_id = s->doc_id ? s->doc_id[i] : buf,
                                  .n = n, .ids = s->ids + s->offset[i], .words = base, .word_start = start,
                                  .word_len = len};
            st = tk_dataset_writer_add(w, &doc, err);
        }
    }
    free(start);
    free(len);
    free(wbuf);
    if (st != TK_OK) {
        tk_dataset_writer_abort(w);
        return st;
    }
    tk_tokenizer_record rec = ds->tokenizer;
    if (rec.kind[0] == '\0') {
        snprintf(rec.kind, sizeof rec.kind, "tokattr-imdb");
        snprintf(rec.params_json, sizeof rec.params_json, "{\"index_from\": 3, \"start_char\": 1, \"oov_char\": 2}");
    }
    if (rec.vocab_sha256[0] == '\0')
        memcpy(rec.vocab_sha256, ds->word_index_sha256, sizeof rec.vocab_sha256);
    bool imdb_like = ds->n_classes == 0 && max_label >= 0;
    tk_dataset_meta meta = {.source = source, .format = ds->format[0] ? ds->format : "imdb",
                            .vocab_size = ds->vocab_size, .vocab = ds->vocab, .counts = ds->counts,
                            .n_classes = imdb_like ? 2 : ds->n_classes,
                            .class_names = imdb_like ? (char *const *)IMDB_CLASSES : ds->class_names,
                            .tokenizer = &rec,
                            .convention = convention_unset(&ds->convention) ? tk_dataset_imdb_convention()
                                                                             : ds->convention};
    return tk_dataset_writer_finish(w, &meta, err);
}

/* ---- reading ---- */

/* Reads a 1-D dataset of exactly n elements (n < 0: any length, returned in
 * *got) into a fresh buffer. */
static tk_status read_array(const char *path, hid_t loc, const char *name, hid_t mem_type, size_t elem,
                            int64_t n, int64_t *got, void **out, tk_error *err)
{
    hsize_t dims[2];
    tk_status st = tk_h5_read_all(loc, path, name, mem_type, elem, 1, dims, out, err);
    if (st == TK_OK && n >= 0 && dims[0] != (hsize_t)n) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: dataset '%s' has %llu elements, expected %lld", path, name,
                          (unsigned long long)dims[0], (long long)n);
        free(*out);
        *out = NULL;
    }
    if (st == TK_OK && got != NULL)
        *got = (int64_t)dims[0];
    return st;
}

/* The n strings HDF5 allocated in raw copied into malloc'd ones in out
 * (raw's freed either way). */
static tk_status copy_vlen(char **raw, int64_t n, char **out, const char *path, const char *name,
                           tk_error *err)
{
    tk_status st = TK_OK;
    for (int64_t i = 0; i < n && st == TK_OK; i++)
        if ((out[i] = strdup(raw[i] ? raw[i] : "")) == NULL)
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading '%s'", path, name);
    for (int64_t i = 0; i < n; i++)
        H5free_memory(raw[i]);
    return st;
}

/* n vlen strings (a dataset, or an attribute of loc when attr) copied into
 * malloc'd strings; n < 0: any length, returned in *got. */
static tk_status read_strings(const char *path, hid_t loc, const char *name, bool attr, int64_t n, int64_t *got,
                              char ***out, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t obj = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    char **raw = NULL, **res = NULL;
    hssize_t npoints = 0;
    *out = NULL;
    obj = attr ? H5Aopen(loc, name, H5P_DEFAULT) : H5Dopen2(loc, name, H5P_DEFAULT);
    if (obj < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: no %s '%s'", path, attr ? "attribute" : "dataset", name);
        goto fail;
    }
    TK_H5_CHECK(space = attr ? H5Aget_space(obj) : H5Dget_space(obj), path, "get a dataspace");
    TK_H5_CHECK(npoints = H5Sget_simple_extent_npoints(space), path, "count strings");
    if (n >= 0 && npoints != n) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: '%s' has %lld strings, expected %lld", path, name,
                          (long long)npoints, (long long)n);
        goto fail;
    }
    {
        hid_t ftype = attr ? H5Aget_type(obj) : H5Dget_type(obj);
        bool vlen = ftype >= 0 && H5Tget_class(ftype) == H5T_STRING && H5Tis_variable_str(ftype) > 0;
        if (ftype >= 0)
            H5Tclose(ftype);
        if (!vlen) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: '%s' is not a variable-length string", path, name);
            goto fail;
        }
    }
    TK_H5_CHECK(type = tk_h5_str_vlen_type(), path, "make a string type");
    if ((raw = tk_calloc(npoints ? (size_t)npoints : 1, sizeof *raw, err)) == NULL ||
        (res = tk_calloc(npoints ? (size_t)npoints : 1, sizeof *res, err)) == NULL) {
        st = TK_E_NOMEM;
        goto fail;
    }
    if (npoints > 0)
        TK_H5_CHECK(attr ? H5Aread(obj, type, raw) : H5Dread(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw),
                    path, "read strings");
    st = copy_vlen(raw, npoints, res, path, name, err);
fail:
    free(raw);
    if (st == TK_OK) {
        *out = res;
        if (got != NULL)
            *got = npoints;
    } else if (res != NULL) {
        for (hssize_t i = 0; i < npoints; i++)
            free(res[i]);
        free(res);
    }
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (obj >= 0)
        attr ? H5Aclose(obj) : H5Dclose(obj);
    return st;
}

/* Elements of the 1-D dataset name in loc, -1 when it is none. */
static int64_t dset_length(hid_t loc, const char *name)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[1] = {0};
    int64_t n = -1;
    if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, dims, NULL) == 1)
        n = (int64_t)dims[0];
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return n;
}

/* Ids are used as indices later: ids (n), the split's tokens [at, at + n). */
static tk_status check_ids(const char *path, const char *split, int version, int index_from,
                           int64_t vocab_size, const int32_t *ids, int64_t at, int64_t n, tk_error *err)
{
    int32_t min_id = version >= 2 ? 0 : 2; /* v1: OOV (2) and up */
    for (int64_t k = 0; k < n; k++) {
        int32_t id = ids[k];
        if (id < min_id)
            return tk_error_set(err, TK_E_FORMAT, "%s: /%s/ids[%lld] = %d is not a word id", path, split,
                                (long long)(at + k), id);
        if ((int64_t)id - index_from > vocab_size)
            return tk_error_set(err, TK_E_FORMAT, "%s: /%s/ids holds id %d beyond the vocabulary (%lld words)",
                                path, split, id, (long long)vocab_size);
    }
    return TK_OK;
}

static tk_status read_string_attr(const char *path, hid_t file, const char *name, char *buf, size_t size,
                                  tk_error *err)
{
    char *value = tk_h5_attr_read_str(file, name);
    if (value == NULL)
        return tk_error_set(err, TK_E_FORMAT, "%s: no root attribute '%s' (or not a string)", path, name);
    snprintf(buf, size, "%s", value);
    free(value);
    return TK_OK;
}

static tk_status read_int_attr(const char *path, hid_t file, const char *name, int32_t *value, tk_error *err)
{
    if (tk_h5_attr_read_num(file, name, H5T_NATIVE_INT32, value) < 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: no root attribute '%s' (or not an integer)", path,
                            name);
    return TK_OK;
}

/* ---- a split read in pieces (dataset.h) ---- */

/* The datasets of a split a reader reads from, kept open so that their
 * chunk caches serve consecutive reads. */
enum { D_OFFSET, D_IDS, D_LABEL, D_RATING, D_REVIEW_ID, D_DOC_ID, D_WORD_OFFSET, D_WORD_TEXT, N_DOCS_DSETS };
static const char *DOCS_DSETS[N_DOCS_DSETS] = {"offset",    "ids",    "label",       "rating",
                                               "review_id", "doc_id", "word_offset", "word_text"};

struct tk_docs_reader {
    char path[4096], split[128];
    hid_t file, g;
    bool own_file; /* opened by tk_docs_open; else the caller's */
    hid_t d[N_DOCS_DSETS];
    int version, index_from;
    int n_classes; /* labels are -1 (v2 only) .. n_classes - 1, as tk_dataset_read counts them */
    int64_t vocab_size, n, nids, nbytes; /* documents, ids, word_text bytes */
};

void tk_docs_close(tk_docs_reader *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < N_DOCS_DSETS; i++)
        if (r->d[i] >= 0)
            H5Dclose(r->d[i]);
    if (r->g >= 0)
        H5Gclose(r->g);
    if (r->own_file && r->file >= 0)
        H5Fclose(r->file);
    free(r);
}

/* How a reader's reads come: in no particular order (units handed out
 * longest first), in file order (each read at or after the last one's
 * start), or one whole-split read (every chunk passed once). */
typedef enum docs_cache { DOCS_CACHE_RANDOM, DOCS_CACHE_SEQUENTIAL, DOCS_CACHE_NONE } docs_cache;

/* The reader of split in file (own: closed with the reader, also on
 * failure), with the chunk caches that `cache` calls for. */
static tk_status docs_open_in(const char *path, hid_t file, bool own, docs_cache cache, const char *split,
                              tk_docs_reader **out, tk_error *err)
{
    tk_status st = TK_OK;
    *out = NULL;
    tk_docs_reader *r = tk_calloc(1, sizeof *r, err);
    if (r == NULL) {
        if (own)
            H5Fclose(file);
        return TK_E_NOMEM;
    }
    r->file = file;
    r->own_file = own;
    r->g = H5I_INVALID_HID;
    for (int i = 0; i < N_DOCS_DSETS; i++)
        r->d[i] = H5I_INVALID_HID;
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->split, sizeof r->split, "%s", split);
    int32_t v = 1, from = 3;
    if (H5Aexists(r->file, "dataset_version") > 0 &&
        (st = read_int_attr(path, r->file, "dataset_version", &v, err)))
        goto done;
    if (v >= 2 && (st = read_int_attr(path, r->file, "index_from", &from, err)))
        goto done;
    r->version = v;
    r->index_from = from;
    r->vocab_size = dset_length(r->file, "vocab/count");
    /* the classes, as tk_dataset_read counts them (v1: IMDB's two) */
    r->n_classes = 2;
    if (v >= 2) {
        int64_t nc = H5Lexists(r->file, "classes", H5P_DEFAULT) > 0 ? dset_length(r->file, "classes/name") : 0;
        r->n_classes = nc < 0 || nc > INT32_MAX ? -1 : (int)nc;
    }
    if (split[0] == '\0' || strchr(split, '/') || H5Lexists(r->file, split, H5P_DEFAULT) <= 0 ||
        (r->g = H5Gopen2(r->file, split, H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: no split '%s'", path, split);
        goto done;
    }
    r->n = dset_length(r->g, "offset") - 1;
    r->nids = dset_length(r->g, "ids");
    r->nbytes = v >= 2 ? dset_length(r->g, "word_text") : 0;
    if (r->vocab_size < 0 || r->n < 0 || r->nids < 0 || r->nbytes < 0 || r->n_classes < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: split '%s' is not a tokattr dataset split", path, split);
        goto done;
    }
    for (int i = 0; i < N_DOCS_DSETS; i++) {
        if (v < 2 && i >= D_DOC_ID)
            break; /* v1: no ids as written, no words */
        /* Units come in no particular order (a run hands out the longest
         * first): a chunk cache that holds many decompressed chunks spares
         * re-inflating one per read (tests/bench/bench_unit_input, 25,000
         * reviews in random order: 0.041 -> 0.002 ms per review), bounded
         * whatever the corpus: 16 MB for the per-token datasets, 2 MB for
         * the per-document ones. A reader that goes through the split in
         * order needs only the chunk a read ends in for the next one: 1 MB
         * holds one (tokattr writes chunks of 65,536 elements, <= 512 KB),
         * and a pass over the split stays 50 MB lighter. */
        size_t bytes = (i == D_IDS || i >= D_WORD_OFFSET) ? (size_t)16 << 20 : (size_t)2 << 20;
        if (cache == DOCS_CACHE_SEQUENTIAL)
            bytes = (size_t)1 << 20;
        bool set = cache != DOCS_CACHE_NONE;
        hid_t dapl = set ? H5Pcreate(H5P_DATASET_ACCESS) : H5P_DEFAULT;
        if (!set || (dapl >= 0 && H5Pset_chunk_cache(dapl, 4099, bytes, 0.75) >= 0))
            r->d[i] = H5Dopen2(r->g, DOCS_DSETS[i], dapl);
        if (set && dapl >= 0)
            H5Pclose(dapl);
        if (r->d[i] < 0) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: split '%s' has no dataset '%s'", path, split, DOCS_DSETS[i]);
            goto done;
        }
        /* a damaged file must not send a reader out of bounds: one row per
         * document, one word offset per id and one more */
        int64_t want = i == D_OFFSET ? r->n + 1 : i == D_IDS ? r->nids : i == D_WORD_OFFSET ? r->nids + 1
                     : i == D_WORD_TEXT ? r->nbytes : r->n;
        int64_t have = dset_length(r->g, DOCS_DSETS[i]);
        if (have != want) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: dataset '/%s/%s' has %lld elements, expected %lld",
                              path, split, DOCS_DSETS[i], (long long)have, (long long)want);
            goto done;
        }
    }
done:
    if (st != TK_OK)
        tk_docs_close(r);
    else
        *out = r;
    return st;
}

tk_status tk_docs_open(const char *path, const char *split, tk_docs_reader **out, tk_error *err)
{
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are values, not printed */
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open as an HDF5 file", path);
    return docs_open_in(path, file, true, DOCS_CACHE_RANDOM, split, out, err);
}

tk_status tk_docs_open_ex(const char *path, const char *split, bool sequential, tk_docs_reader **out,
                          tk_error *err)
{
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are values, not printed */
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open as an HDF5 file", path);
    return docs_open_in(path, file, true, sequential ? DOCS_CACHE_SEQUENTIAL : DOCS_CACHE_RANDOM, split,
                        out, err);
}

int64_t tk_docs_count(const tk_docs_reader *r)
{
    return r->n;
}

/* count variable-length strings from row first of the dataset d (name), copied. */
static tk_status read_string_slab(const char *path, hid_t d, const char *name, int64_t first, int64_t count,
                                  char **out, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t type = H5I_INVALID_HID;
    char **raw = tk_calloc(count ? (size_t)count : 1, sizeof *raw, err);
    if (raw == NULL)
        return TK_E_NOMEM;
    TK_H5_CHECK(type = tk_h5_str_vlen_type(), path, "make a string type");
    TK_H5_CHECK(tk_h5_read_rows(d, type, first, count, 0, raw), path, "read document ids");
    st = copy_vlen(raw, count, out, path, name, err);
fail:
    free(raw);
    if (type >= 0)
        H5Tclose(type);
    return st;
}

/* What a read takes: the index only (offsets stay the split's, no ids, no
 * doc_id), the ids too, or the ids and the text. */
typedef enum docs_what { DOCS_INDEX, DOCS_IDS, DOCS_TEXT } docs_what;

/* Documents [first, first + count) as tk_docs_read says; whole: the read
 * is the whole split, whose offsets must span all of its ids and words. */
static tk_status docs_read(tk_docs_reader *r, int64_t first, int64_t count, docs_what what, bool whole,
                           tk_split *s, tk_error *err)
{
    bool text = what == DOCS_TEXT;
    tk_status st = TK_OK;
    const char *path = r->path;
    memset(s, 0, sizeof *s);
    if (first < 0 || count < 0 || first + count > r->n)
        return tk_error_set(err, TK_E_INTERNAL, "%s: documents [%lld, %lld) of split '%s' (%lld documents)", path,
                            (long long)first, (long long)(first + count), r->split, (long long)r->n);
    size_t c = (size_t)count;
    s->n = count;
    s->offset = tk_malloc(c + 1, sizeof *s->offset, err);
    s->label = tk_malloc(c ? c : 1, sizeof *s->label, err);
    s->rating = tk_malloc(c ? c : 1, sizeof *s->rating, err);
    s->review_id = tk_malloc(c ? c : 1, sizeof *s->review_id, err);
    s->doc_id = what == DOCS_INDEX ? NULL : tk_calloc(c ? c : 1, sizeof *s->doc_id, err);
    s->name = strdup(r->split);
    if (!s->offset || !s->label || !s->rating || !s->review_id || (what != DOCS_INDEX && !s->doc_id) ||
        !s->name) {
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading documents", path);
        goto fail;
    }
    TK_H5_CHECK(tk_h5_read_rows(r->d[D_OFFSET], H5T_NATIVE_INT64, first, count + 1, 0, s->offset),
                path, "read /offset");
    int64_t a = s->offset[0], b = s->offset[count];
    for (int64_t i = 0; i < count; i++)
        if (s->offset[i + 1] < s->offset[i]) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: /%s review %lld has a bad offset", path, r->split,
                              (long long)(first + i));
            goto fail;
        }
    if (a < 0 || b > r->nids || (whole && (a != 0 || b != r->nids))) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /%s/offset does not span /%s/ids", path, r->split, r->split);
        goto fail;
    }
    for (int64_t i = 0; i <= count; i++)
        s->offset[i] -= a;
    if (what == DOCS_INDEX)
        goto labels;
    if ((s->ids = tk_malloc(b - a > 0 ? (size_t)(b - a) : 1, sizeof *s->ids, err)) == NULL) {
        st = TK_E_NOMEM;
        goto fail;
    }
    TK_H5_CHECK(tk_h5_read_rows(r->d[D_IDS], H5T_NATIVE_INT32, a, b - a, 0, s->ids), path, "read /ids");
    if ((st = check_ids(path, r->split, r->version, r->index_from, r->vocab_size, s->ids, a, b - a, err)))
        goto fail;
labels:
    TK_H5_CHECK(tk_h5_read_rows(r->d[D_LABEL], H5T_NATIVE_INT32, first, count, 0, s->label),
                path, "read /label");
    /* labels index class tables later; tk_dataset_read_header checks none */
    for (int64_t i = 0; i < count; i++)
        if (s->label[i] < (r->version >= 2 ? -1 : 0) || s->label[i] >= r->n_classes) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: /%s review %lld has label %d outside the %d classes", path,
                              r->split, (long long)(first + i), s->label[i], r->n_classes);
            goto fail;
        }
    TK_H5_CHECK(tk_h5_read_rows(r->d[D_RATING], H5T_NATIVE_INT8, first, count, 0, s->rating),
                path, "read /rating");
    TK_H5_CHECK(tk_h5_read_rows(r->d[D_REVIEW_ID], H5T_NATIVE_INT32, first, count, 0, s->review_id),
                path, "read /review_id");
    if (!text) {
        /* the model input and the label only, or the index */
    } else if (r->version >= 2) {
        if ((st = read_string_slab(path, r->d[D_DOC_ID], "doc_id", first, count, s->doc_id, err)))
            goto fail;
        if ((s->word_offset = tk_malloc((size_t)(b - a) + 1, sizeof *s->word_offset, err)) == NULL) {
            st = TK_E_NOMEM;
            goto fail;
        }
        TK_H5_CHECK(tk_h5_read_rows(r->d[D_WORD_OFFSET], H5T_NATIVE_INT64, a, b - a + 1, 0, s->word_offset),
                    path, "read /word_offset");
        int64_t wa = s->word_offset[0], wb = s->word_offset[b - a];
        for (int64_t i = 0; i < b - a; i++)
            if (s->word_offset[i + 1] < s->word_offset[i]) {
                st = tk_error_set(err, TK_E_FORMAT, "%s: /%s/word_offset[%lld] goes backwards", path, r->split,
                                  (long long)(a + i));
                goto fail;
            }
        if (wa < 0 || wb > r->nbytes || (whole && (wa != 0 || wb != r->nbytes))) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: /%s/word_offset does not span /%s/word_text", path,
                              r->split, r->split);
            goto fail;
        }
        for (int64_t i = 0; i <= b - a; i++)
            s->word_offset[i] -= wa;
        if ((s->word_text = tk_malloc(wb - wa > 0 ? (size_t)(wb - wa) : 1, 1, err)) == NULL) {
            st = TK_E_NOMEM;
            goto fail;
        }
        TK_H5_CHECK(tk_h5_read_rows(r->d[D_WORD_TEXT], H5T_NATIVE_UINT8, wa, wb - wa, 0, s->word_text),
                    path, "read /word_text");
    } else {
        for (int64_t i = 0; i < count; i++) {
            char buf[16];
            snprintf(buf, sizeof buf, "%d", s->review_id[i]);
            if ((s->doc_id[i] = strdup(buf)) == NULL) {
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
                goto fail;
            }
        }
    }
fail:
    if (st != TK_OK)
        tk_split_free(s);
    return st;
}

tk_status tk_docs_read(tk_docs_reader *r, int64_t first, int64_t count, bool text, tk_split *s,
                       tk_error *err)
{
    return docs_read(r, first, count, text ? DOCS_TEXT : DOCS_IDS, false, s, err);
}

tk_status tk_docs_read_lengths(tk_docs_reader *r, int64_t first, int64_t count, int64_t *n_ids,
                               tk_error *err)
{
    if (first < 0 || count < 0 || first + count > r->n)
        return tk_error_set(err, TK_E_INTERNAL, "%s: documents [%lld, %lld) of split '%s' (%lld documents)",
                            r->path, (long long)first, (long long)(first + count), r->split, (long long)r->n);
    if (count == 0)
        return TK_OK;
    int64_t *off = tk_malloc((size_t)count + 1, sizeof *off, err);
    if (!off)
        return TK_E_NOMEM;
    tk_status st = TK_OK;
    TK_H5_CHECK(tk_h5_read_rows(r->d[D_OFFSET], H5T_NATIVE_INT64, first, count + 1, 0, off), r->path,
                "read /offset");
    /* the checks docs_read makes of the same rows */
    for (int64_t i = 0; i < count && st == TK_OK; i++) {
        if (off[i + 1] < off[i])
            st = tk_error_set(err, TK_E_FORMAT, "%s: /%s review %lld has a bad offset", r->path, r->split,
                              (long long)(first + i));
        n_ids[i] = off[i + 1] - off[i];
    }
    if (st == TK_OK && (off[0] < 0 || off[count] > r->nids))
        st = tk_error_set(err, TK_E_FORMAT, "%s: /%s/offset does not span /%s/ids", r->path, r->split,
                          r->split);
fail:
    free(off);
    return st;
}
/* How much of each split dataset_read reads. */
typedef enum read_depth {
    READ_HEADER, /* n and name: no per-document array (tk_dataset_read_header) */
    READ_INDEX,  /* n, offset, label, rating, review_id (tk_dataset_read_index) */
    READ_DOCS,   /* everything (tk_dataset_read) */
} read_depth;

/* One split of the open file, read whole through the split reader (one
 * way of reading a split), as deep as `depth` says; what is not read stays
 * NULL. The header is the reader's own checks of every dataset's length. */
static tk_status read_split(const char *path, hid_t file, const char *name, read_depth depth, tk_split *s,
                            tk_error *err)
{
    tk_docs_reader *r = NULL;
    tk_status st = docs_open_in(path, file, false, DOCS_CACHE_NONE, name, &r, err);
    if (st == TK_OK && depth == READ_HEADER) {
        memset(s, 0, sizeof *s);
        s->n = r->n;
        if ((s->name = strdup(name)) == NULL)
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
    } else if (st == TK_OK) {
        st = docs_read(r, 0, r->n, depth == READ_DOCS ? DOCS_TEXT : DOCS_INDEX, true, s, err);
    }
    tk_docs_close(r);
    if (st != TK_OK && s->name == NULL)
        s->name = strdup(name); /* the caller frees the split it counted */
    return st;
}

/* The v2 root attributes: tokenizer record, convention, format, classes. */
static tk_status read_v2_meta(const char *path, hid_t file, tk_dataset *ds, tk_error *err)
{
    tk_status st;
    int32_t pad = 0, post = 0, tpost = 0;
    tk_id_convention *c = &ds->convention;
    if ((st = read_string_attr(path, file, "format", ds->format, sizeof ds->format, err)) ||
        (st = read_string_attr(path, file, "tokenizer_kind", ds->tokenizer.kind, sizeof ds->tokenizer.kind, err)) ||
        (st = read_string_attr(path, file, "tokenizer_params", ds->tokenizer.params_json,
                               sizeof ds->tokenizer.params_json, err)) ||
        (st = read_string_attr(path, file, "tokenizer_vocab_sha256", ds->tokenizer.vocab_sha256,
                               sizeof ds->tokenizer.vocab_sha256, err)) ||
        (st = read_int_attr(path, file, "index_from", &c->index_from, err)) ||
        (st = read_int_attr(path, file, "start_id", &c->start_id, err)) ||
        (st = read_int_attr(path, file, "oov_id", &c->oov_id, err)) ||
        (st = read_int_attr(path, file, "padding_post", &post, err)) ||
        (st = read_int_attr(path, file, "truncating_post", &tpost, err)))
        return st;
    if (H5Aexists(file, "pad_id") > 0 && (st = read_int_attr(path, file, "pad_id", &pad, err)))
        return st;
    c->pad_id = pad;
    c->padding_post = post != 0;
    c->truncating_post = tpost != 0;
    if (c->index_from < 0 || c->index_from > 1000)
        return tk_error_set(err, TK_E_FORMAT, "%s: index_from %d is out of range", path, c->index_from);
    if (H5Lexists(file, "classes", H5P_DEFAULT) > 0) {
        int64_t n = 0;
        if ((st = read_strings(path, file, "classes/name", false, -1, &n, &ds->class_names, err)))
            return st;
        if (n > INT32_MAX)
            return tk_error_set(err, TK_E_FORMAT, "%s: /classes/name holds %lld names", path, (long long)n);
        ds->n_classes = (int)n;
    }
    return TK_OK;
}

static tk_status dataset_read(const char *path, read_depth depth, tk_dataset **out, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t file = H5I_INVALID_HID, g = H5I_INVALID_HID;
    void *p = NULL;
    char **names = NULL;
    int64_t n_names = 0;
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
    ds->dataset_version = 1;
    if (H5Aexists(file, "dataset_version") > 0) {
        int32_t v = 0;
        if ((st = read_int_attr(path, file, "dataset_version", &v, err)))
            goto done;
        if (v != 1 && v != 2) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: dataset_version %d is not one this tokattr reads (1, 2)",
                              path, v);
            goto done;
        }
        ds->dataset_version = v;
    }
    if ((st = read_string_attr(path, file, "word_index_sha256", ds->word_index_sha256,
                               sizeof ds->word_index_sha256, err)))
        goto done;
    if (ds->dataset_version >= 2) {
        if ((st = read_v2_meta(path, file, ds, err)))
            goto done;
        if ((g = H5Gopen2(file, "splits", H5P_DEFAULT)) < 0) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: no group /splits", path);
            goto done;
        }
        if ((st = read_strings(path, g, "names", true, -1, &n_names, &names, err)))
            goto done;
        if (n_names > 1000) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: /splits names %lld splits", path, (long long)n_names);
            goto done;
        }
    } else {
        snprintf(ds->format, sizeof ds->format, "imdb");
        snprintf(ds->tokenizer.kind, sizeof ds->tokenizer.kind, "tokattr-imdb");
        snprintf(ds->tokenizer.params_json, sizeof ds->tokenizer.params_json,
                 "{\"index_from\": 3, \"start_char\": 1, \"oov_char\": 2}");
        memcpy(ds->tokenizer.vocab_sha256, ds->word_index_sha256, sizeof ds->word_index_sha256);
        ds->convention = tk_dataset_imdb_convention();
        ds->n_classes = 2;
        if ((ds->class_names = tk_calloc(2, sizeof *ds->class_names, err)) == NULL ||
            (ds->class_names[0] = strdup(IMDB_CLASSES[0])) == NULL ||
            (ds->class_names[1] = strdup(IMDB_CLASSES[1])) == NULL) {
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
            goto done;
        }
        n_names = 2;
    }
    if ((ds->splits = tk_calloc(n_names ? (size_t)n_names : 1, sizeof *ds->splits, err)) == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    for (int64_t i = 0; i < n_names; i++) {
        ds->n_splits++;
        if ((st = read_split(path, file, names ? names[i] : V1_SPLITS[i], depth, &ds->splits[i],
                             err)))
            goto done;
    }
    if ((st = read_array(path, file, "vocab/count", H5T_NATIVE_INT64, sizeof(int64_t), -1, &ds->vocab_size, &p,
                         err)))
        goto done;
    ds->counts = p;
    if ((st = read_strings(path, file, "vocab/word", false, ds->vocab_size, NULL, &ds->vocab, err)))
        goto done;
    /* Labels and ids are used as indices later: check them all here. */
    for (int si = 0; si < ds->n_splits; si++) {
        const tk_split *s = &ds->splits[si];
        int32_t lo = ds->dataset_version >= 2 ? -1 : 0;
        for (int64_t i = 0; s->label != NULL && i < s->n; i++)
            if (s->label[i] < lo || s->label[i] >= ds->n_classes) {
                st = tk_error_set(err, TK_E_FORMAT, "%s: /%s review %lld has label %d outside the %d classes",
                                  path, s->name, (long long)i, s->label[i], ds->n_classes);
                goto done;
            }
        /* the ids were checked as they were read (docs_read) */
    }
done:
    if (names != NULL)
        for (int64_t i = 0; i < n_names; i++)
            free(names[i]);
    free(names);
    if (g >= 0)
        H5Gclose(g);
    if (file >= 0)
        H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (st != TK_OK)
        tk_dataset_destroy(ds);
    else
        *out = ds;
    return st;
}

tk_status tk_dataset_read(const char *path, tk_dataset **out, tk_error *err)
{
    return dataset_read(path, READ_DOCS, out, err);
}

tk_status tk_dataset_read_index(const char *path, tk_dataset **out, tk_error *err)
{
    return dataset_read(path, READ_INDEX, out, err);
}

tk_status tk_dataset_read_header(const char *path, tk_dataset **out, tk_error *err)
{
    return dataset_read(path, READ_HEADER, out, err);
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
            yes = H5Lexists(file, "vocab", H5P_DEFAULT) > 0 &&
                  (H5Lexists(file, "splits", H5P_DEFAULT) > 0 ||
                   (H5Lexists(file, "train", H5P_DEFAULT) > 0 && H5Lexists(file, "test", H5P_DEFAULT) > 0));
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
    if (s->doc_id != NULL)
        for (int64_t i = 0; i < s->n; i++)
            free(s->doc_id[i]);
    free(s->doc_id);
    free(s->word_offset);
    free(s->word_text);
    free(s->name);
    memset(s, 0, sizeof *s);
}

void tk_dataset_destroy(tk_dataset *ds)
{
    if (ds == NULL)
        return;
    for (int i = 0; i < ds->n_splits; i++)
        tk_split_free(&ds->splits[i]);
    free(ds->splits);
    if (ds->vocab != NULL)
        for (int64_t i = 0; i < ds->vocab_size; i++)
            free(ds->vocab[i]);
    free(ds->vocab);
    free(ds->counts);
    if (ds->class_names != NULL)
        for (int i = 0; i < ds->n_classes; i++)
            free(ds->class_names[i]);
    free(ds->class_names);
    free(ds);
}

const tk_split *tk_dataset_split(const tk_dataset *ds, const char *name, tk_error *err)
{
    for (int i = 0; name != NULL && i < ds->n_splits; i++)
        if (ds->splits[i].name != NULL && strcmp(ds->splits[i].name, name) == 0)
            return &ds->splits[i];
    char have[512] = "";
    size_t k = 0;
    for (int i = 0; i < ds->n_splits && k < sizeof have; i++)
        k += (size_t)snprintf(have + k, sizeof have - k, "%s%s", i ? ", " : "",
                              ds->splits[i].name ? ds->splits[i].name : "?");
    tk_error_set(err, TK_E_INVALID, "unknown split '%s' (the dataset has: %s)", name ? name : "(null)",
                 ds->n_splits ? have : "no splits");
    return NULL;
}

const char *tk_dataset_word(const tk_dataset *ds, int32_t id)
{
    tk_id_convention c = convention_unset(&ds->convention) ? tk_dataset_imdb_convention() : ds->convention;
    if (id == c.pad_id)
        return "<pad>";
    if (id == c.start_id)
        return "<start>";
    if (id == c.oov_id)
        return "<oov>";
    if (id < 0 || (int64_t)id - c.index_from > ds->vocab_size)
        return "<oov>";
    if (id <= c.index_from)
        return "<unused>";
    return ds->vocab[id - c.index_from - 1];
}

const char *tk_split_word(const tk_split *s, int64_t token, size_t *len)
{
    if (s->word_offset == NULL || s->word_text == NULL || token < 0 || token >= s->offset[s->n]) {
        *len = 0;
        return NULL;
    }
    *len = (size_t)(s->word_offset[token + 1] - s->word_offset[token]);
    return s->word_text + s->word_offset[token];
}

