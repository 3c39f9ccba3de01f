/* Word-vector tables: word2vec text and HDF5 readers, the per-id table. */
#define _POSIX_C_SOURCE 200809L
#include "data/word_vectors.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/model_input.h"

/* Limits that keep a hostile header from asking for absurd allocations. */
enum { TK_WV_MAX_DIM = 100000 };
#define TK_WV_MAX_WORDS ((int64_t)1 << 31)
/* Sizes come from the data: word2vec text is allocated for the rows the
 * file's size can hold (below); an HDF5 table may be compressed, but not
 * by more than this factor. */
#define TK_WV_MAX_H5_RATIO 1024
/* Values larger than this are refused: they are no embedding, and their
 * squares and sums of products must stay finite in float32 (1e38 overflows,
 * making every probability and score NaN). */
#define TK_WV_MAX_ABS 1e15

void tk_word_vectors_destroy(tk_word_vectors *wv)
{
    if (!wv)
        return;
    if (wv->words)
        for (int64_t i = 0; i < wv->n; i++)
            free(wv->words[i]);
    free(wv->words);
    free(wv->vectors);
    free(wv->sorted);
    free(wv);
}

static int cmp_word_ptr(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* Sorts the lookup index and refuses repeated words (which vector would be
 * meant is ambiguous). */
static tk_status build_index(const char *path, tk_word_vectors *wv, tk_error *err)
{
    char ***p = tk_malloc(wv->n ? (size_t)wv->n : 1, sizeof *p, err);
    wv->sorted = tk_malloc(wv->n ? (size_t)wv->n : 1, sizeof *wv->sorted, err);
    if (!p || !wv->sorted) {
        free(p);
        return TK_E_NOMEM;
    }
    for (int64_t i = 0; i < wv->n; i++)
        p[i] = &wv->words[i];
    qsort(p, (size_t)wv->n, sizeof *p, cmp_word_ptr);
    for (int64_t i = 0; i < wv->n; i++) {
        wv->sorted[i] = p[i] - wv->words;
        if (i > 0 && strcmp(*p[i], *p[i - 1]) == 0) {
            tk_status st = tk_error_set(err, TK_E_FORMAT, "%s: the word '%s' appears twice (rows %lld and %lld)",
                                        path, *p[i], (long long)(p[i - 1] - wv->words) + 1,
                                        (long long)(p[i] - wv->words) + 1);
            free(p);
            return st;
        }
    }
    free(p);
    return TK_OK;
}

int64_t tk_word_vectors_find(const tk_word_vectors *wv, const char *word)
{
    int64_t lo = 0, hi = wv->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(wv->words[wv->sorted[mid]], word);
        if (c == 0)
            return wv->sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Strips a trailing "\n" or "\r\n". */
static void chomp(char *s, ssize_t *len)
{
    while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
        s[--*len] = '\0';
}

tk_status tk_word_vectors_load_text(const char *path, tk_word_vectors **out, tk_error *err)
{
    *out = NULL;
    tk_status st = TK_OK;
    char *line = NULL;
    size_t cap = 0;
    long long lineno = 1;
    FILE *f = fopen(path, "r");
    if (!f)
        return tk_error_set(err, TK_E_IO, "%s: cannot open the word vectors: %s", path, strerror(errno));
    tk_word_vectors *wv = tk_calloc(1, sizeof *wv, err);
    if (!wv) {
        fclose(f);
        return TK_E_NOMEM;
    }
    ssize_t len = getline(&line, &cap, f);
    if (len < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: empty file, expected a word2vec header \"count dim\"", path);
        goto done;
    }
    chomp(line, &len);
    long long count, dim;
    char extra;
    if (sscanf(line, "%lld %lld %c", &count, &dim, &extra) != 2 || count < 1 || count > TK_WV_MAX_WORDS ||
        dim < 1 || dim > TK_WV_MAX_DIM) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s:1: expected a word2vec text header \"count dim\" (count >= 1, 1 <= dim <= %d)",
                          path, TK_WV_MAX_DIM);
        goto done;
    }
    /* Allocate for the rows the file can hold, not for the header's count:
     * a row takes at least 2 * dim + 1 bytes ("w" and " v" per value), so a
     * header announcing more gets "the file ends after N of M words". */
    long long rows = count;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) {
        long long room = (long long)sb.st_size - (long long)len;
        long long fit = room > 0 ? room / (2 * dim + 1) + 1 : 1;
        if (fit < rows)
            rows = fit;
    }
    wv->dim = (int)dim;
    wv->words = tk_calloc((size_t)rows, sizeof *wv->words, err);
    wv->vectors = tk_malloc((size_t)rows * (size_t)dim, sizeof *wv->vectors, err);
    if (!wv->words || !wv->vectors) {
        st = TK_E_NOMEM;
        tk_error_prefix(err, "%s: %lld words of %lld values", path, rows, dim);
        goto done;
    }
    for (int64_t i = 0; i < count; i++) {
        lineno++;
        if (i == rows || (len = getline(&line, &cap, f)) < 0) {
            st = tk_error_set(err, TK_E_FORMAT, "%s:%lld: the file ends after %lld of the %lld words its header announces",
                              path, lineno, (long long)i, count);
            goto done;
        }
        chomp(line, &len);
        if ((ssize_t)strlen(line) != len) {
            st = tk_error_set(err, TK_E_FORMAT, "%s:%lld: the line holds a NUL byte", path, lineno);
            goto done;
        }
        char *sp = strchr(line, ' ');
        if (!sp || sp == line) {
            st = tk_error_set(err, TK_E_FORMAT, "%s:%lld: expected \"word v1 ... v%d\"", path, lineno, wv->dim);
            goto done;
        }
        *sp = '\0';
        if (!(wv->words[i] = strdup(line))) {
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading the words", path);
            goto done;
        }
        wv->n = i + 1;
        char *q = sp + 1;
        float *row = wv->vectors + i * wv->dim; /* (dim) */
        for (int d = 0; d < wv->dim; d++) {
            char *end;
            errno = 0;
            float v = strtof(q, &end);
            if (end == q || !isfinite(v) || (*end != ' ' && *end != '\0')) {
                st = tk_error_set(err, TK_E_FORMAT, "%s:%lld: value %d of '%s' is missing or not a finite number",
                                  path, lineno, d + 1, wv->words[i]);
                goto done;
            }
            if (fabsf(v) > TK_WV_MAX_ABS) {
                st = tk_error_set(err, TK_E_FORMAT, "%s:%lld: value %d of '%s' is %g, beyond the limit |v| <= %g",
                                  path, lineno, d + 1, wv->words[i], (double)v, TK_WV_MAX_ABS);
                goto done;
            }
            row[d] = v;
            q = end;
        }
        while (*q == ' ')
            q++;
        if (*q != '\0') {
            st = tk_error_set(err, TK_E_FORMAT, "%s:%lld: '%s' has more than the %d values the header announces",
                              path, lineno, wv->words[i], wv->dim);
            goto done;
        }
    }
    /* Trailing blank lines are tolerated; more words are not. */
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        chomp(line, &len);
        if (strspn(line, " \t") != (size_t)len) {
            st = tk_error_set(err, TK_E_FORMAT, "%s:%lld: more words than the header's count %lld", path, lineno,
                              count);
            goto done;
        }
    }
    if (ferror(f)) {
        st = tk_error_set(err, TK_E_IO, "%s: read error", path);
        goto done;
    }
    st = build_index(path, wv, err);
done:
    free(line);
    fclose(f);
    if (st != TK_OK)
        tk_word_vectors_destroy(wv);
    else
        *out = wv;
    return st;
}

#define WV_H5CHECK(call, what)                                                                     \
    do {                                                                                           \
        if ((call) < 0) {                                                                          \
            st = tk_error_set(err, TK_E_FORMAT, "%s: HDF5 failed to %s", path, what);              \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

tk_status tk_word_vectors_load_hdf5(const char *path, tk_word_vectors **out, tk_error *err)
{
    *out = NULL;
    tk_status st = TK_OK;
    hid_t file = -1, vset = -1, wset = -1, space = -1, str = -1, wtype = -1;
    char **raw = NULL;
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    tk_word_vectors *wv = tk_calloc(1, sizeof *wv, err);
    if (!wv) {
        st = TK_E_NOMEM;
        goto done;
    }
    if ((file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot open the word vectors as HDF5", path);
        goto done;
    }
    if ((vset = H5Dopen2(file, "/vectors", H5P_DEFAULT)) < 0 ||
        (wset = H5Dopen2(file, "/words", H5P_DEFAULT)) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: expected datasets /vectors [V, D] and /words [V]", path);
        goto done;
    }
    hsize_t dims[2];
    WV_H5CHECK(space = H5Dget_space(vset), "read the shape of /vectors");
    if (H5Sget_simple_extent_ndims(space) != 2) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /vectors must be 2-dimensional [V, D]", path);
        goto done;
    }
    H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    space = -1;
    if (dims[0] < 1 || dims[0] > (hsize_t)TK_WV_MAX_WORDS || dims[1] < 1 || dims[1] > TK_WV_MAX_DIM) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /vectors has shape [%llu, %llu]; need V >= 1, 1 <= D <= %d", path,
                          (unsigned long long)dims[0], (unsigned long long)dims[1], TK_WV_MAX_DIM);
        goto done;
    }
    WV_H5CHECK(space = H5Dget_space(wset), "read the shape of /words");
    hssize_t nw = H5Sget_simple_extent_npoints(space);
    int wnd = H5Sget_simple_extent_ndims(space);
    H5Sclose(space);
    space = -1;
    if (wnd != 1 || nw != (hssize_t)dims[0]) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /words must be 1-dimensional with one word per row of /vectors (%llu)",
                          path, (unsigned long long)dims[0]);
        goto done;
    }
    WV_H5CHECK(wtype = H5Dget_type(wset), "read the type of /words");
    if (H5Tget_class(wtype) != H5T_STRING || H5Tis_variable_str(wtype) <= 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /words must hold variable-length strings", path);
        goto done;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 &&
        (double)dims[0] * (double)dims[1] * sizeof(float) > (double)sb.st_size * TK_WV_MAX_H5_RATIO) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: /vectors [%llu, %llu] would take %.0f bytes, more than %d times the file's %lld",
                          path, (unsigned long long)dims[0], (unsigned long long)dims[1],
                          (double)dims[0] * (double)dims[1] * sizeof(float), TK_WV_MAX_H5_RATIO,
                          (long long)sb.st_size);
        goto done;
    }
    wv->n = (int64_t)dims[0];
    wv->dim = (int)dims[1];
    wv->words = tk_calloc((size_t)wv->n, sizeof *wv->words, err);
    wv->vectors = tk_malloc((size_t)wv->n * (size_t)wv->dim, sizeof *wv->vectors, err); /* (n, dim) */
    raw = tk_calloc((size_t)wv->n, sizeof *raw, err);
    if (!wv->words || !wv->vectors || !raw) {
        st = TK_E_NOMEM;
        goto done;
    }
    /* HDF5 converts any numeric class to float; a string /vectors fails here. */
    if (H5Dread(vset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, wv->vectors) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /vectors cannot be read as numbers", path);
        goto done;
    }
    WV_H5CHECK(str = H5Tcopy(H5T_C_S1), "copy a string type");
    WV_H5CHECK(H5Tset_size(str, H5T_VARIABLE), "set a string size");
    /* The file's own character set: HDF5 does not convert ASCII <-> UTF-8,
     * and h5py writes either (str -> UTF-8, bytes -> ASCII). */
    WV_H5CHECK(H5Tset_cset(str, H5Tget_cset(wtype)), "set a string character set");
    if (H5Dread(wset, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: /words cannot be read as strings", path);
        goto done;
    }
    for (int64_t i = 0; i < wv->n && st == TK_OK; i++) {
        if (!raw[i] || !raw[i][0])
            st = tk_error_set(err, TK_E_FORMAT, "%s: /words row %lld is empty", path, (long long)i);
        else if (!(wv->words[i] = strdup(raw[i])))
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading the words", path);
    }
    for (int64_t i = 0; i < wv->n && st == TK_OK; i++)
        for (int d = 0; d < wv->dim; d++)
            if (!isfinite(wv->vectors[i * wv->dim + d]) || fabsf(wv->vectors[i * wv->dim + d]) > TK_WV_MAX_ABS) {
                st = tk_error_set(err, TK_E_FORMAT,
                                  "%s: /vectors row %lld ('%s') value %d is %g: not finite or beyond |v| <= %g",
                                  path, (long long)i, wv->words[i], d + 1, (double)wv->vectors[i * wv->dim + d],
                                  TK_WV_MAX_ABS);
                break;
            }
    if (st == TK_OK)
        st = build_index(path, wv, err);
done:
    if (raw) {
        for (int64_t i = 0; i < wv->n; i++)
            H5free_memory(raw[i]);
        free(raw);
    }
    if (space >= 0)
        H5Sclose(space);
    if (str >= 0)
        H5Tclose(str);
    if (wtype >= 0)
        H5Tclose(wtype);
    if (vset >= 0)
        H5Dclose(vset);
    if (wset >= 0)
        H5Dclose(wset);
    if (file >= 0)
        H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (st != TK_OK)
        tk_word_vectors_destroy(wv);
    else
        *out = wv;
    return st;
}

tk_status tk_word_vectors_load(const char *path, tk_word_vectors **out, tk_error *err)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return tk_error_set(err, TK_E_IO, "%s: cannot open the word vectors: %s", path, strerror(errno));
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got == sizeof head && memcmp(head, sig, sizeof sig) == 0)
        return tk_word_vectors_load_hdf5(path, out, err);
    return tk_word_vectors_load_text(path, out, err);
}

tk_status tk_word_vectors_id_table(const tk_word_vectors *wv, const tk_dataset *ds, float **out,
                                   int64_t *n_ids, int *dim, int64_t *found, tk_error *err)
{
    int64_t nid = ds->vocab_size + TK_INDEX_FROM + 1;
    int d = wv ? wv->dim : 1;
    float *t = tk_calloc((size_t)nid * (size_t)d, sizeof *t, err); /* (nid, d), zeros by default */
    if (!t)
        return TK_E_NOMEM;
    int64_t nf = 0;
    if (!wv) {
        for (int64_t id = 0; id < nid; id++)
            t[id] = (float)id;
        nf = ds->vocab_size;
    } else {
        for (int64_t r = 1; r <= ds->vocab_size; r++) {
            int64_t row = tk_word_vectors_find(wv, ds->vocab[r - 1]);
            if (row < 0)
                continue;
            memcpy(t + (r + TK_INDEX_FROM) * d, wv->vectors + row * d, (size_t)d * sizeof *t);
            nf++;
        }
    }
    *out = t;
    *n_ids = nid;
    *dim = d;
    if (found)
        *found = nf;
    return TK_OK;
}

tk_status tk_word_vectors_map(const float *table, int64_t n_ids, int dim, const int32_t *ids, int64_t n,
                              int steps, float *out, tk_error *err)
{
    for (int64_t i = 0; i < n * steps; i++) {
        if (ids[i] < 0 || ids[i] >= n_ids)
            return tk_error_set(err, TK_E_INVALID, "word vectors: id %d is outside the table's %lld ids", ids[i],
                                (long long)n_ids);
        memcpy(out + i * dim, table + (int64_t)ids[i] * dim, (size_t)dim * sizeof *out);
    }
    return TK_OK;
}
