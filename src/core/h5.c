#define _POSIX_C_SOURCE 200809L /* strdup */
/* HDF5 helpers (h5.h). */
#include "core/h5.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tk_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

bool tk_h5_exists(hid_t file, const char *path)
{
    char buf[512];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return false;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char keep = buf[i];
        buf[i] = '\0';
        htri_t e = H5Lexists(file, buf, H5P_DEFAULT);
        buf[i] = keep;
        if (e <= 0)
            return false;
    }
    return true;
}

/* H5Ewalk2 visits the most specific error first (H5E_WALK_UPWARD): keep it. */
static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data)
{
    char **buf = data;
    if (n == 0 && e->desc != NULL)
        snprintf(buf[0], (size_t)(buf[1] - buf[0]), "%s", e->desc);
    return 0;
}

void tk_h5_error_text(char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    char *span[2] = {buf, buf + size};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, span);
}

/* Creates the scalar attribute name (file_type) on obj and writes value
 * (mem_type) to it: every attribute writer below. */
static herr_t attr_create_write(hid_t obj, const char *name, hid_t file_type, hid_t mem_type,
                                const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0)
        return -1;
    hid_t a = H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, mem_type, value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    return rc;
}

herr_t tk_h5_attr_str_sized(hid_t obj, const char *name, const char *value, size_t size)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    herr_t rc = -1;
    char *buf = calloc(size, 1);
    if (type >= 0 && buf && strlen(value) < size && H5Tset_size(type, size) >= 0 &&
        H5Tset_cset(type, H5T_CSET_UTF8) >= 0 &&
        !(H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0)) {
        memcpy(buf, value, strlen(value));
        rc = attr_create_write(obj, name, type, type, buf);
    }
    free(buf);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

/* Longer strings than this go to the file's global heap (a variable-length
 * string attribute): an attribute held in the object header, as a fixed
 * size string is, cannot pass 64 KiB (a job selecting 25,000 ids by number
 * is 150 kB), and the readers (tk_h5_attr_read_str, h5py) take both. */
enum { ATTR_STR_INLINE_MAX = 16384 };

herr_t tk_h5_attr_str(hid_t obj, const char *name, const char *value)
{
    if (value == NULL)
        return 0;
    size_t len = strlen(value);
    if (len + 1 <= ATTR_STR_INLINE_MAX)
        /* size len + 1: a NULLTERM string type keeps its terminator inside the size */
        return tk_h5_attr_str_sized(obj, name, value, len + 1);
    hid_t type = H5Tcopy(H5T_C_S1);
    herr_t rc = -1;
    if (type >= 0 && H5Tset_size(type, H5T_VARIABLE) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0 &&
        !(H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0))
        rc = attr_create_write(obj, name, type, type, &value);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

herr_t tk_h5_attr_str_overwrite(hid_t obj, const char *name, const char *value)
{
    herr_t rc = -1;
    hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t ft = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    size_t size = ft >= 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft)
                      ? H5Tget_size(ft)
                      : 0;
    bool fits = size > strlen(value);
    char *buf = fits ? calloc(size, 1) : NULL;
    if (buf) {
        memcpy(buf, value, strlen(value));
        rc = H5Awrite(a, ft, buf);
        free(buf);
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    /* a file of an older tokattr: the attribute is too small */
    return fits ? rc : tk_h5_attr_str(obj, name, value);
}

herr_t tk_h5_attr_num_as(hid_t obj, const char *name, hid_t file_type, hid_t mem_type,
                         const void *value)
{
    return attr_create_write(obj, name, file_type, mem_type, value);
}

herr_t tk_h5_attr_num(hid_t obj, const char *name, hid_t type, const void *value)
{
    return tk_h5_attr_num_as(obj, name, type, type, value);
}

herr_t tk_h5_attr_read_num(hid_t obj, const char *name, hid_t mem_type, void *value)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    /* one value, or H5Aread writes the whole array past `value` (a
     * stranger's start_id of 32 elements did: fuzz_results) */
    hid_t sp = H5Aget_space(a);
    herr_t rc = sp >= 0 && H5Sget_simple_extent_npoints(sp) == 1 ? H5Aread(a, mem_type, value) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

hid_t tk_h5_str_vlen_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        t = H5I_INVALID_HID;
    }
    return t;
}

herr_t tk_h5_attr_str_vlen(hid_t obj, const char *name, const char *value)
{
    hid_t type = tk_h5_str_vlen_type();
    herr_t rc = type < 0 ? -1 : attr_create_write(obj, name, type, type, &value);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

char *tk_h5_attr_read_str(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return NULL;
    hid_t ft = H5Aget_type(a), space = H5Aget_space(a), mt = H5I_INVALID_HID;
    char *out = NULL;
    bool scalar = space >= 0 && H5Sget_simple_extent_npoints(space) == 1;
    if (scalar && ft >= 0 && H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0) {
        /* HDF5 does not convert between character sets: read as written */
        char *v = NULL;
        mt = H5Tcopy(H5T_C_S1);
        if (mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Tset_cset(mt, H5Tget_cset(ft)) >= 0 &&
            H5Aread(a, mt, &v) >= 0) {
            out = strdup(v ? v : "");
            H5free_memory(v);
        }
    } else if (scalar && ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        size_t size = H5Tget_size(ft);
        mt = H5Tcopy(H5T_C_S1);
        out = calloc(size + 1, 1);
        if (mt < 0 || !out || H5Tset_size(mt, size) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(ft)) < 0 || H5Aread(a, mt, out) < 0) {
            free(out);
            out = NULL;
        }
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (space >= 0)
        H5Sclose(space);
    if (ft >= 0)
        H5Tclose(ft);
    H5Aclose(a);
    return out;
}

tk_status tk_h5_read_all(hid_t loc, const char *path, const char *name, hid_t mem_type, size_t elem,
                         int rank, hsize_t dims[2], void **out, tk_error *err)
{
    *out = NULL;
    dims[0] = dims[1] = 0;
    tk_status st = TK_OK;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT), s = H5I_INVALID_HID;
    if (d < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: %s is not a dataset (or missing)", path, name);
        goto done;
    }
    s = H5Dget_space(d);
    int nd = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    if (nd != rank) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: dataset %s has %d dimensions, expected %d", path,
                          name, nd, rank);
        goto done;
    }
    H5Sget_simple_extent_dims(s, dims, NULL);
    size_t count = (size_t)dims[0] * (rank == 2 ? (size_t)dims[1] : 1);
    void *buf = tk_malloc(count ? count : 1, elem, err);
    if (buf == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    if (count > 0 && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: dataset %s cannot be read as numbers (wrong type or damaged)", path,
                          name);
        goto done;
    }
    *out = buf;
done:
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return st;
}

/* Rows [first, first + count) of d read into or written from buf. */
static herr_t rows_io(hid_t d, hid_t mem_type, int64_t first, int64_t count, int cols, void *buf,
                      bool write)
{
    if (count == 0)
        return 0;
    int rank = cols > 0 ? 2 : 1;
    hsize_t start[2] = {(hsize_t)first, 0}, cnt[2] = {(hsize_t)count, (hsize_t)cols};
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(rank, cnt, NULL);
    herr_t rc = -1;
    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) >= 0)
        rc = write ? H5Dwrite(d, mem_type, ms, fs, H5P_DEFAULT, buf)
                   : H5Dread(d, mem_type, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

herr_t tk_h5_write_rows(hid_t d, hid_t mem_type, int64_t first, int64_t count, int cols,
                         const void *buf)
{
    return rows_io(d, mem_type, first, count, cols, (void *)buf, true); /* only H5Dwrite sees it */
}

herr_t tk_h5_read_rows(hid_t d, hid_t mem_type, int64_t first, int64_t count, int cols, void *buf)
{
    return rows_io(d, mem_type, first, count, cols, buf, false);
}
