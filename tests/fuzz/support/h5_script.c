#define _POSIX_C_SOURCE 200809L
#include "h5_script.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TOKENS = H5_SCRIPT_MAX_ELEMS + 8 };

typedef struct line_tokens {
    char **tok;
    int n;
} line_tokens;

/* Splits one line (NUL-terminated, modified in place) on spaces and tabs. */
static void split(char *line, line_tokens *t)
{
    t->n = 0;
    for (char *p = strtok(line, " \t\r"); p != NULL && t->n < MAX_TOKENS; p = strtok(NULL, " \t\r"))
        t->tok[t->n++] = p;
}

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX in place; returns the length (the result may hold NUL bytes,
 * which HDF5 strings then cut). */
static size_t unescape(char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        int h, l;
        if (s[i] == '%' && (h = hex(s[i + 1])) >= 0 && (l = hex(s[i + 2])) >= 0) {
            s[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

/* DIMS -> rank (0 for "-") and dims; -1 when malformed or too large. */
static int parse_dims(const char *s, hsize_t dims[3])
{
    if (strcmp(s, "-") == 0)
        return 0;
    int rank = 0;
    unsigned long long total = 1;
    const char *p = s;
    while (*p) {
        char *end;
        unsigned long long d = strtoull(p, &end, 10);
        if (end == p || rank == 3 || d > H5_SCRIPT_MAX_ELEMS)
            return -1;
        total *= d ? d : 1;
        if (total > H5_SCRIPT_MAX_ELEMS)
            return -1;
        dims[rank++] = d;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return rank;
}

typedef struct kind {
    const char *name;
    hid_t mem;     /* memory (and file) type, or -1 for strings */
    size_t size;
    int is_float;
    int utf8;      /* strings: the UTF-8 character set, else ASCII */
    int nullpad;   /* fixed strings: NUL-padded (h5py's bytes), else NUL-terminated */
} kind;

static int find_kind(const char *name, kind *k)
{
    const kind kinds[] = {
        {"i8", H5T_NATIVE_INT8, 1, 0, 0, 0},    {"u8", H5T_NATIVE_UINT8, 1, 0, 0, 0},
        {"i16", H5T_NATIVE_INT16, 2, 0, 0, 0},  {"i32", H5T_NATIVE_INT32, 4, 0, 0, 0},
        {"u32", H5T_NATIVE_UINT32, 4, 0, 0, 0}, {"i64", H5T_NATIVE_INT64, 8, 0, 0, 0},
        {"f32", H5T_NATIVE_FLOAT, 4, 1, 0, 0},  {"f64", H5T_NATIVE_DOUBLE, 8, 1, 0, 0},
        {"str", -1, sizeof(char *), 0, 0, 0},   {"ustr", -1, sizeof(char *), 0, 1, 0},
        {"fstr", -2, 0, 0, 0, 0},  {"ufstr", -2, 0, 0, 1, 0},
        {"pfstr", -2, 0, 0, 0, 1}, {"upfstr", -2, 0, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, kinds[i].name) == 0) {
            *k = kinds[i];
            return 0;
        }
    return -1;
}

/* Packs values (nv tokens) into a buffer of n elements of kind k; *type gets
 * the HDF5 type to use (caller closes it when it is not a native one). */
static void *pack(const kind *k, char **values, int nv, size_t n, hid_t *type, int *owned_type)
{
    *owned_type = 0;
    if (k->mem >= 0) {
        unsigned char *buf = calloc(n ? n : 1, k->size);
        for (size_t i = 0; buf && i < n && i < (size_t)nv; i++) {
            double d = strtod(values[i], NULL);
            long long v = strtoll(values[i], NULL, 0);
            unsigned char *at = buf + i * k->size;
            if (k->is_float && k->size == 4) {
                float f = (float)d;
                memcpy(at, &f, 4);
            } else if (k->is_float) {
                memcpy(at, &d, 8);
            } else if (k->size == 1) {
                int8_t x = (int8_t)v;
                memcpy(at, &x, 1);
            } else if (k->size == 2) {
                int16_t x = (int16_t)v;
                memcpy(at, &x, 2);
            } else if (k->size == 4) {
                int32_t x = (int32_t)v;
                memcpy(at, &x, 4);
            } else {
                int64_t x = (int64_t)v;
                memcpy(at, &x, 8);
            }
        }
        *type = k->mem;
        return buf;
    }
    for (int i = 0; i < nv; i++)
        unescape(values[i]);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_cset(t, k->utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    *owned_type = 1;
    *type = t;
    if (k->mem == -1) {
        H5Tset_size(t, H5T_VARIABLE);
        char **buf = calloc(n ? n : 1, sizeof *buf);
        for (size_t i = 0; buf && i < n; i++)
            buf[i] = i < (size_t)nv ? values[i] : "";
        return buf;
    }
    size_t width = 0;
    for (int i = 0; i < nv && (size_t)i < n; i++)
        if (strlen(values[i]) > width)
            width = strlen(values[i]);
    width += !k->nullpad; /* room for the terminator */
    width = width ? width : 1;
    H5Tset_size(t, width);
    H5Tset_strpad(t, k->nullpad ? H5T_STR_NULLPAD : H5T_STR_NULLTERM);
    char *buf = calloc(n ? n : 1, width);
    for (size_t i = 0; buf && i < n && i < (size_t)nv; i++)
        memcpy(buf + i * width, values[i], strlen(values[i]));
    return buf;
}

/* dset PATH TYPE DIMS VALUE... or attr OBJECT NAME TYPE DIMS VALUE... */
static void make_object(hid_t file, hid_t lcpl, const line_tokens *t, int is_attr)
{
    int at = is_attr ? 3 : 2; /* index of TYPE */
    if (t->n < at + 2)
        return;
    kind k;
    hsize_t dims[3] = {0, 0, 0};
    int rank = parse_dims(t->tok[at + 1], dims);
    if (find_kind(t->tok[at], &k) != 0 || rank < 0)
        return;
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    hid_t type;
    int owned;
    void *buf = pack(&k, t->tok + at + 2, t->n - at - 2, n, &type, &owned);
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    if (buf != NULL && space >= 0) {
        if (is_attr) {
            hid_t obj = H5Oopen(file, t->tok[1], H5P_DEFAULT);
            if (obj >= 0) {
                hid_t a = H5Acreate2(obj, t->tok[2], type, space, H5P_DEFAULT, H5P_DEFAULT);
                if (a >= 0) {
                    H5Awrite(a, type, buf);
                    H5Aclose(a);
                }
                H5Oclose(obj);
            }
        } else {
            hid_t d = H5Dcreate2(file, t->tok[1], type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
            if (d >= 0) {
                if (n > 0)
                    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
                H5Dclose(d);
            }
        }
    }
    if (space >= 0)
        H5Sclose(space);
    if (owned)
        H5Tclose(type);
    free(buf);
}

int h5_script_build(const char *path, const uint8_t *script, size_t size)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0)
        return -1;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    char *text = malloc(size + 1);
    line_tokens t = {malloc(MAX_TOKENS * sizeof(char *)), 0};
    if (text == NULL || t.tok == NULL)
        abort();
    memcpy(text, script, size);
    text[size] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        split(line, &t);
        if (t.n >= 2 && strcmp(t.tok[0], "group") == 0) {
            hid_t g = H5Gcreate2(file, t.tok[1], lcpl, H5P_DEFAULT, H5P_DEFAULT);
            if (g >= 0)
                H5Gclose(g);
        } else if (t.n >= 1 && strcmp(t.tok[0], "dset") == 0) {
            make_object(file, lcpl, &t, 0);
        } else if (t.n >= 1 && strcmp(t.tok[0], "attr") == 0) {
            make_object(file, lcpl, &t, 1);
        }
    }
    free(t.tok);
    free(text);
    H5Pclose(lcpl);
    return H5Fclose(file) < 0 ? -1 : 0;
}
