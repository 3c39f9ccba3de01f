#define _POSIX_C_SOURCE 200809L
#include "report/results.h"

#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/h5.h"
#include "core/results_schema.h"

/* The most elements of an array attribute rendered as text: parameters are
 * scalars or short lists; anything longer is cut with "...". */
#define ATTR_MAX_ELEMENTS 64

static char *dup_str(const char *s, tk_error *err)
{
    size_t n = strlen(s);
    char *d = tk_malloc(n + 1, 1, err);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

/* Reads a whole dataset of rank `rank` (1 or 2) converted to mem_type.
 * dims receives its shape. Absent and optional: *out = NULL, TK_OK. */
static tk_status read_array(hid_t file, const char *file_path, const char *dpath, hid_t mem_type,
                            size_t elem, int rank, bool required, void **out, hsize_t dims[2],
                            tk_error *err)
{
    *out = NULL;
    dims[0] = dims[1] = 0;
    if (!tk_h5_exists(file, dpath)) {
        if (!required)
            return TK_OK;
        return tk_error_set(err, TK_E_FORMAT, "%s: the required dataset %s is missing", file_path,
                            dpath);
    }
    return tk_h5_read_all(file, file_path, dpath, mem_type, elem, rank, dims, out, err);
}

/* Same for rank 1 with a required length (expect < 0: any). */
static tk_status read_vec(hid_t file, const char *fp, const char *dpath, hid_t mem_type, size_t elem,
                          int64_t expect, bool required, void **out, int64_t *len, tk_error *err)
{
    hsize_t dims[2];
    tk_status st = read_array(file, fp, dpath, mem_type, elem, 1, required, out, dims, err);
    if (st != TK_OK || *out == NULL)
        return st;
    if (expect >= 0 && (int64_t)dims[0] != expect) {
        free(*out);
        *out = NULL;
        return tk_error_set(err, TK_E_FORMAT, "%s: dataset %s has %" PRIu64 " entries, expected %" PRId64,
                            fp, dpath, (uint64_t)dims[0], expect);
    }
    if (len != NULL)
        *len = (int64_t)dims[0];
    return TK_OK;
}

/* Appends to a growing string; returns false on allocation failure. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static bool sb_add(sbuf *b, const char *text, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (s == NULL)
            return false;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
    return true;
}

/* An attribute's value as text: strings as they are, numbers with %g,
 * arrays joined with ", ". */
static char *attr_text(hid_t a, tk_error *err)
{
    hid_t type = H5Aget_type(a), space = H5Aget_space(a), mt = H5I_INVALID_HID;
    sbuf b = {0};
    bool ok = type >= 0 && space >= 0;
    hssize_t npts = ok ? H5Sget_simple_extent_npoints(space) : 0;
    size_t n = npts > 0 ? (size_t)npts : 0;
    H5T_class_t cls = ok ? H5Tget_class(type) : H5T_NO_CLASS;
    char num[64];
    if (!ok) {
        ok = sb_add(&b, "(unreadable)", 12);
    } else if (cls == H5T_STRING && H5Tis_variable_str(type) > 0) {
        char **v = calloc(n ? n : 1, sizeof *v);
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(type));
        if (v != NULL && H5Aread(a, mt, v) >= 0) {
            for (size_t i = 0; i < n && ok; i++) {
                if (i > 0)
                    ok = sb_add(&b, ", ", 2);
                if (ok && v[i] != NULL)
                    ok = sb_add(&b, v[i], strlen(v[i]));
            }
            H5Dvlen_reclaim(mt, space, H5P_DEFAULT, v);
        } else {
            ok = v != NULL && sb_add(&b, "(unreadable)", 12);
        }
        free(v);
    } else if (cls == H5T_STRING) {
        size_t sz = H5Tget_size(type);
        char *v = calloc(n ? n : 1, sz + 1);
        mt = H5Tcopy(type);
        if (v != NULL && sz > 0 && H5Aread(a, mt, v) >= 0) {
            for (size_t i = 0; i < n && ok; i++) {
                if (i > 0)
                    ok = sb_add(&b, ", ", 2);
                const char *e = v + i * sz;
                size_t len = strnlen(e, sz);
                ok = ok && sb_add(&b, e, len);
            }
        } else {
            ok = v != NULL && sb_add(&b, "(unreadable)", 12);
        }
        free(v);
    } else if (cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_ENUM) {
        bool is_int = cls != H5T_FLOAT;
        size_t m = n < ATTR_MAX_ELEMENTS ? n : ATTR_MAX_ELEMENTS;
        void *v = calloc(n ? n : 1, 8);
        hid_t nt = is_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
        if (v != NULL && cls != H5T_ENUM && H5Aread(a, nt, v) >= 0) {
            for (size_t i = 0; i < m && ok; i++) {
                if (is_int)
                    snprintf(num, sizeof num, "%s%" PRId64, i ? ", " : "", ((int64_t *)v)[i]);
                else
                    snprintf(num, sizeof num, "%s%.6g", i ? ", " : "", ((double *)v)[i]);
                ok = sb_add(&b, num, strlen(num));
            }
            if (ok && m < n)
                ok = sb_add(&b, ", ...", 5);
        } else {
            ok = v != NULL && sb_add(&b, "(unreadable)", 12);
        }
        free(v);
    } else {
        ok = sb_add(&b, "(unsupported type)", 18);
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (!ok || b.s == NULL) {
        free(b.s);
        tk_error_set(err, TK_E_NOMEM, "out of memory reading an attribute");
        return NULL;
    }
    return b.s;
}

/* A named attribute of obj as text (malloc'd), or NULL. */
static char *attr_read_text(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return NULL;
    char *v = attr_text(a, NULL);
    H5Aclose(a);
    return v;
}

typedef struct attr_list {
    tk_results_attr *items;
    int n, cap;
    tk_error *err;
    bool failed;
} attr_list;

static herr_t collect_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    attr_list *l = data;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        tk_results_attr *p = realloc(l->items, (size_t)cap * sizeof *p);
        if (p == NULL)
            goto fail;
        l->items = p;
        l->cap = cap;
    }
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return 0; /* skip what cannot be opened: attributes are informative only */
    char *value = attr_text(a, l->err);
    H5Aclose(a);
    char *nm = dup_str(name, l->err);
    if (value == NULL || nm == NULL) {
        free(value);
        free(nm);
        goto fail;
    }
    l->items[l->n].name = nm;
    l->items[l->n].value = value;
    l->n++;
    return 0;
fail:
    l->failed = true;
    return -1;
}

static tk_status read_attrs(hid_t obj, const char *fp, tk_results_attr **out, int *n, tk_error *err)
{
    attr_list l = {.err = err};
    hsize_t idx = 0;
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &l);
    *out = l.items;
    *n = l.n;
    if (l.failed)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading attributes", fp);
    return TK_OK;
}

static void free_attrs(tk_results_attr *a, int n)
{
    for (int i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].value);
    }
    free(a);
}

const char *tk_results_attr_find(const tk_results_attr *attrs, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(attrs[i].name, name) == 0)
            return attrs[i].value;
    return NULL;
}

/* A 1-D string dataset (variable or fixed length) into one buffer.
 * Absent: out stays empty. expect >= 0: the length it must have. */
static tk_status read_strings(hid_t file, const char *fp, const char *dpath, int64_t expect,
                              tk_results_strings *out, tk_error *err)
{
    memset(out, 0, sizeof *out);
    if (!tk_h5_exists(file, dpath))
        return TK_OK;
    tk_status st = TK_OK;
    hid_t d = H5Dopen2(file, dpath, H5P_DEFAULT);
    hid_t s = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hid_t ft = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID, mt = H5I_INVALID_HID;
    char **tmp = NULL;
    char *fixed = NULL;
    hsize_t n = 0;
    if (s < 0 || ft < 0 || H5Tget_class(ft) != H5T_STRING || H5Sget_simple_extent_ndims(s) != 1) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: %s is not a one-dimensional string dataset", fp,
                          dpath);
        goto done;
    }
    H5Sget_simple_extent_dims(s, &n, NULL);
    if (expect >= 0 && (int64_t)n != expect) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: %s has %" PRIu64 " entries, expected %" PRId64,
                          fp, dpath, (uint64_t)n, expect);
        goto done;
    }
    bool vlen = H5Tis_variable_str(ft) > 0;
    size_t sz = vlen ? 0 : H5Tget_size(ft);
    mt = H5Tcopy(vlen ? H5T_C_S1 : ft);
    if (mt < 0 || (vlen && (H5Tset_size(mt, H5T_VARIABLE) < 0 ||
                            H5Tset_cset(mt, H5Tget_cset(ft)) < 0))) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: %s has an unreadable string type", fp, dpath);
        goto done;
    }
    out->s = tk_calloc(n ? n : 1, sizeof *out->s, err);
    if (vlen)
        tmp = tk_calloc(n ? n : 1, sizeof *tmp, err);
    else
        fixed = tk_malloc(n ? n : 1, sz + 1, err);
    if (!out->s || (vlen ? !tmp : !fixed)) {
        st = TK_E_NOMEM;
        goto done;
    }
    if (n > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, vlen ? (void *)tmp : fixed) < 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: %s cannot be read", fp, dpath);
        if (vlen)
            memset(tmp, 0, n * sizeof *tmp); /* nothing to reclaim */
        goto done;
    }
    size_t total = 0;
    for (hsize_t i = 0; i < n; i++)
        total += (vlen ? (tmp[i] ? strlen(tmp[i]) : 0) : strnlen(fixed + i * sz, sz)) + 1;
    out->buf = tk_malloc(total ? total : 1, 1, err);
    if (!out->buf) {
        st = TK_E_NOMEM;
        goto done;
    }
    size_t at = 0;
    for (hsize_t i = 0; i < n; i++) {
        const char *src = vlen ? (tmp[i] ? tmp[i] : "") : fixed + i * sz;
        size_t len = vlen ? strlen(src) : strnlen(src, sz);
        memcpy(out->buf + at, src, len);
        out->buf[at + len] = '\0';
        out->s[i] = out->buf + at;
        at += len + 1;
    }
    out->n = (int64_t)n;
done:
    if (tmp && n > 0)
        H5Dvlen_reclaim(mt, s, H5P_DEFAULT, tmp);
    free(tmp);
    free(fixed);
    if (st != TK_OK) {
        free(out->s);
        free(out->buf);
        memset(out, 0, sizeof *out);
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return st;
}

static void free_strings(tk_results_strings *s)
{
    free(s->s);
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* An int32 attribute of an object, or dflt when it is absent or unreadable. */
static int32_t attr_i32(hid_t file, const char *obj, const char *name, int32_t dflt)
{
    int32_t v = dflt;
    hid_t o = tk_h5_exists(file, obj) ? H5Oopen(file, obj, H5P_DEFAULT) : H5I_INVALID_HID;
    if (o >= 0 && tk_h5_attr_read_num(o, name, H5T_NATIVE_INT32, &v) < 0)
        v = dflt;
    if (o >= 0)
        H5Oclose(o);
    return v;
}

/* /tokens/word_{offset,text} into NUL-terminated strings. */
static tk_status read_token_words(hid_t file, const char *fp, tk_results *r, tk_error *err)
{
    void *o = NULL, *text = NULL;
    int64_t n_text = 0;
    tk_status st = read_vec(file, fp, TK_RS_TOKEN_WORD_OFFSET, H5T_NATIVE_INT64, 8, r->t + 1, false,
                            &o, NULL, err);
    if (st != TK_OK || o == NULL)
        return st;
    const int64_t *off = o;
    if ((st = read_vec(file, fp, TK_RS_TOKEN_WORD_TEXT, H5T_NATIVE_UINT8, 1, -1, true, &text,
                       &n_text, err)) != TK_OK)
        goto done;
    if (off[0] != 0 || off[r->t] != n_text) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: " TK_RS_TOKEN_WORD_OFFSET " must run from 0 to %" PRId64
                          " (the length of " TK_RS_TOKEN_WORD_TEXT ")",
                          fp, n_text);
        goto done;
    }
    for (int64_t t = 0; t < r->t; t++)
        if (off[t + 1] < off[t]) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: " TK_RS_TOKEN_WORD_OFFSET " decreases at %" PRId64,
                              fp, t);
            goto done;
        }
    tk_results_strings *w = &r->token_word;
    w->s = tk_malloc((size_t)(r->t > 0 ? r->t : 1), sizeof *w->s, err);
    w->buf = tk_malloc((size_t)(n_text + r->t + 1), 1, err);
    if (!w->s || !w->buf) {
        free_strings(w);
        st = TK_E_NOMEM;
        goto done;
    }
    size_t at = 0;
    for (int64_t t = 0; t < r->t; t++) {
        size_t len = (size_t)(off[t + 1] - off[t]);
        memcpy(w->buf + at, (const char *)text + off[t], len);
        w->buf[at + len] = '\0'; /* a NUL inside a word cuts it short: only display suffers */
        w->s[t] = w->buf + at;
        at += len + 1;
    }
    w->n = r->t;
done:
    free(o);
    free(text);
    return st;
}

/* The words of a file that has them (README "Results file"). */
static tk_status read_words(hid_t file, const char *fp, tk_results *r, tk_error *err)
{
    tk_status st;
    void *buf;
    if ((st = read_token_words(file, fp, r, err)) != TK_OK ||
        (st = read_strings(file, fp, TK_RS_REVIEW_DOC_ID, r->n, &r->doc_id, err)) != TK_OK ||
        (st = read_strings(file, fp, TK_RS_CLASS_NAME, -1, &r->class_name, err)) != TK_OK)
        return st;
    if ((st = read_vec(file, fp, TK_RS_REVIEW_TRUNCATED, H5T_NATIVE_INT32, 4, r->n, false, &buf,
                       NULL, err)) != TK_OK)
        return st;
    r->truncated = buf;
    if (r->truncated) {
        hid_t d = H5Dopen2(file, TK_RS_REVIEW_TRUNCATED, H5P_DEFAULT);
        if (d >= 0) {
            char *side = attr_read_text(d, "truncating");
            r->truncating_post = side && strcmp(side, "post") == 0;
            free(side);
            H5Dclose(d);
        }
    }
    r->pad_id = attr_i32(file, TK_RS_TOKENS, TK_RS_TOKEN_ATTR_PAD, 0);
    r->start_id = attr_i32(file, TK_RS_TOKENS, TK_RS_TOKEN_ATTR_START, 1);
    r->oov_id = attr_i32(file, TK_RS_TOKENS, TK_RS_TOKEN_ATTR_OOV, 2);
    return TK_OK;
}

/* /vocab/word: variable-length or fixed-length strings, one per token id. */
/* /vocab/word (either string layout, read_strings) as one malloc'd string
 * per word, the form r->vocab is kept in. */
static tk_status read_vocab(hid_t file, const char *fp, tk_results *r, tk_error *err)
{
    tk_results_strings words;
    tk_status st = read_strings(file, fp, TK_RS_VOCAB_WORD, -1, &words, err);
    if (st != TK_OK || words.s == NULL)
        return st; /* absent: no vocabulary */
    r->vocab = tk_calloc(words.n ? (size_t)words.n : 1, sizeof *r->vocab, err);
    if (r->vocab == NULL)
        st = TK_E_NOMEM;
    else
        r->v = words.n;
    for (int64_t i = 0; st == TK_OK && i < words.n; i++)
        if ((r->vocab[i] = dup_str(words.s[i], err)) == NULL)
            st = TK_E_NOMEM;
    free_strings(&words);
    return st;
}

typedef struct name_list {
    char **names;
    int n, cap;
    bool failed;
} name_list;

static herr_t collect_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    name_list *l = data;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        char **p = realloc(l->names, (size_t)cap * sizeof *p);
        if (p == NULL) {
            l->failed = true;
            return -1;
        }
        l->names = p;
        l->cap = cap;
    }
    l->names[l->n] = dup_str(name, NULL);
    if (l->names[l->n] == NULL) {
        l->failed = true;
        return -1;
    }
    l->n++;
    return 0;
}

static tk_status read_faith(hid_t file, const char *fp, tk_results *r, tk_results_method *m,
                            tk_error *err)
{
    char p[512];
    snprintf(p, sizeof p, TK_RS_FAITHFULNESS "/%s/" TK_RS_F_CURVE, m->name);
    if (strlen(m->name) > 200 || !tk_h5_exists(file, p))
        return TK_OK;
    m->faith = tk_calloc(1, sizeof *m->faith, err);
    if (m->faith == NULL)
        return TK_E_NOMEM;
    tk_results_faith *f = m->faith;
    hsize_t dims[2];
    void *buf;
    tk_status st = read_array(file, fp, p, H5T_NATIVE_FLOAT, sizeof(float), 2, true, &buf, dims, err);
    if (st != TK_OK)
        return st;
    f->curve = buf;
    if ((int64_t)dims[0] != r->n || dims[1] < 1 || dims[1] > 100000)
        return tk_error_set(err, TK_E_FORMAT, "%s: %s has shape [%" PRIu64 ", %" PRIu64
                            "], expected [%" PRId64 ", K+1]",
                            fp, p, (uint64_t)dims[0], (uint64_t)dims[1], r->n);
    f->k1 = (int)dims[1];
    snprintf(p, sizeof p, TK_RS_FAITHFULNESS "/%s/" TK_RS_F_RANDOM_CURVE, m->name);
    hsize_t d2[2];
    st = read_array(file, fp, p, H5T_NATIVE_FLOAT, sizeof(float), 2, false, &buf, d2, err);
    if (st != TK_OK)
        return st;
    f->random_curve = buf;
    if (buf != NULL && (d2[0] != dims[0] || d2[1] != dims[1]))
        return tk_error_set(err, TK_E_FORMAT, "%s: %s does not have the shape of curve", fp, p);
    const char *names[3] = {TK_RS_F_AOPC, TK_RS_F_COMPREHENSIVENESS, TK_RS_F_SUFFICIENCY};
    float **dst[3] = {&f->aopc, &f->comprehensiveness, &f->sufficiency};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, TK_RS_FAITHFULNESS "/%s/%s", m->name, names[i]);
        st = read_vec(file, fp, p, H5T_NATIVE_FLOAT, sizeof(float), r->n, false, &buf, NULL, err);
        if (st != TK_OK)
            return st;
        *dst[i] = buf;
    }
    return TK_OK;
}

static tk_status read_methods(hid_t file, const char *fp, tk_results *r, tk_error *err)
{
    if (!tk_h5_exists(file, TK_RS_ATTRIBUTIONS))
        return TK_OK;
    hid_t g = H5Gopen2(file, TK_RS_ATTRIBUTIONS, H5P_DEFAULT);
    if (g < 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: " TK_RS_ATTRIBUTIONS " is not a group", fp);
    name_list l = {0};
    hsize_t idx = 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link, &l);
    tk_status st = TK_OK;
    if (l.failed) {
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory listing " TK_RS_ATTRIBUTIONS, fp);
        goto done;
    }
    r->methods = tk_calloc(l.n ? (size_t)l.n : 1, sizeof *r->methods, err);
    if (r->methods == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    for (int i = 0; i < l.n && st == TK_OK; i++) {
        tk_results_method *m = &r->methods[r->n_methods++];
        m->name = l.names[i];
        l.names[i] = NULL;
        char p[512];
        if (strlen(m->name) > 200) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: a method name under " TK_RS_ATTRIBUTIONS " is too long", fp);
            break;
        }
        void *buf;
        snprintf(p, sizeof p, TK_RS_ATTRIBUTIONS "/%s/" TK_RS_M_SCORE, m->name);
        st = read_vec(file, fp, p, H5T_NATIVE_FLOAT, sizeof(float), r->t, true, &buf, NULL, err);
        m->score = buf;
        snprintf(p, sizeof p, TK_RS_ATTRIBUTIONS "/%s/" TK_RS_M_PADDING_SCORE, m->name);
        if (st == TK_OK)
            st = read_vec(file, fp, p, H5T_NATIVE_FLOAT, sizeof(float), r->n, false, &buf, NULL, err);
        if (st == TK_OK)
            m->padding_score = buf;
        snprintf(p, sizeof p, TK_RS_ATTRIBUTIONS "/%s/" TK_RS_M_AXIOM_ERROR, m->name);
        if (st == TK_OK)
            st = read_vec(file, fp, p, H5T_NATIVE_FLOAT, sizeof(float), r->n, false, &buf, NULL, err);
        if (st == TK_OK)
            m->axiom_error = buf;
        snprintf(p, sizeof p, TK_RS_ATTRIBUTIONS "/%s/" TK_RS_M_TARGET, m->name);
        if (st == TK_OK)
            st = read_vec(file, fp, p, H5T_NATIVE_INT32, 4, r->n, false, &buf, NULL, err);
        if (st == TK_OK)
            m->target = buf;
        snprintf(p, sizeof p, TK_RS_ATTRIBUTIONS "/%s/" TK_RS_M_F_INPUT, m->name);
        if (st == TK_OK)
            st = read_vec(file, fp, p, H5T_NATIVE_DOUBLE, 8, r->n, false, &buf, NULL, err);
        if (st == TK_OK)
            m->f_input = buf;
        snprintf(p, sizeof p, TK_RS_ATTRIBUTIONS "/%s/" TK_RS_M_F_BASELINE, m->name);
        if (st == TK_OK)
            st = read_vec(file, fp, p, H5T_NATIVE_DOUBLE, 8, r->n, false, &buf, NULL, err);
        if (st == TK_OK)
            m->f_baseline = buf;
        if (st == TK_OK) {
            snprintf(p, sizeof p, TK_RS_ATTRIBUTIONS "/%s", m->name);
            hid_t mg = H5Oopen(file, p, H5P_DEFAULT);
            if (mg >= 0) {
                st = read_attrs(mg, fp, &m->attrs, &m->n_attrs, err);
                H5Oclose(mg);
            }
        }
        if (st == TK_OK)
            st = read_faith(file, fp, r, m, err);
    }
done:
    for (int i = 0; i < l.n; i++)
        free(l.names[i]);
    free(l.names);
    H5Gclose(g);
    return st;
}

static tk_status check_consistency(const char *fp, tk_results *r, tk_error *err)
{
    if (r->token_offset[0] != 0 || r->token_offset[r->n] != r->t)
        return tk_error_set(err, TK_E_FORMAT,
                            "%s: " TK_RS_TOKEN_OFFSET " must start at 0 and end at %" PRId64
                            " (the length of " TK_RS_TOKEN_ID ")",
                            fp, r->t);
    for (int64_t i = 0; i < r->n; i++)
        if (r->token_offset[i + 1] < r->token_offset[i])
            return tk_error_set(err, TK_E_FORMAT,
                                "%s: " TK_RS_TOKEN_OFFSET " decreases at review %" PRId64, fp, i);
    for (int64_t i = 0; i < r->t; i++)
        if (r->token_id[i] < 0)
            return tk_error_set(err, TK_E_FORMAT, "%s: " TK_RS_TOKEN_ID " has a negative id at %" PRId64,
                                fp, i);
    return TK_OK;
}

tk_status tk_results_load(const char *path, tk_results **out, tk_error *err)
{
    *out = NULL;
    FILE *probe = fopen(path, "rb");
    if (probe == NULL)
        return tk_error_set(err, TK_E_IO, "%s: cannot open the results file", path);
    fclose(probe);

    /* HDF5 prints its error stack by default; our messages replace it. */
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    tk_status st = TK_OK;
    hid_t file = H5I_INVALID_HID;
    tk_results *r = tk_calloc(1, sizeof *r, err);
    if (r == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    r->path = dup_str(path, err);
    if (r->path == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    tk_error why = {0};
    bool layout = false; /* the results datasets are there: what fails now is damage */
    switch (tk_results_examine(path, &why)) {
    case TK_RESULTS_READABLE:
        layout = true;
        break;
    case TK_RESULTS_DAMAGED:
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: it cannot be read; run the job again (with --force to replace it)",
                          why.msg);
        goto done;
    default:
        st = tk_error_set(err, why.status, "%s", why.msg);
        goto done;
    }
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: HDF5 cannot open the file", path);
        goto done;
    }
    void *buf;
    int64_t n1 = 0;
    hsize_t dims[2];
    if ((st = read_vec(file, path, TK_RS_REVIEW_ID, H5T_NATIVE_INT64, 8, -1, true, &buf, &r->n, err)))
        goto done;
    r->review_id = buf;
    if ((st = read_vec(file, path, TK_RS_REVIEW_LABEL, H5T_NATIVE_INT32, 4, r->n, true, &buf, NULL, err)))
        goto done;
    r->label = buf;
    if ((st = read_vec(file, path, TK_RS_REVIEW_INDEX, H5T_NATIVE_INT64, 8, r->n, false, &buf, NULL,
                       err)))
        goto done;
    r->index = buf;
    if ((st = read_vec(file, path, TK_RS_REVIEW_RATING, H5T_NATIVE_INT32, 4, r->n, false, &buf, NULL, err)))
        goto done;
    r->rating = buf;
    if ((st = read_vec(file, path, TK_RS_TOKEN_OFFSET, H5T_NATIVE_INT64, 8, r->n + 1, true, &buf,
                       &n1, err)))
        goto done;
    r->token_offset = buf;
    if ((st = read_vec(file, path, TK_RS_TOKEN_ID, H5T_NATIVE_INT32, 4, -1, true, &buf, &r->t, err)))
        goto done;
    r->token_id = buf;
    if ((st = read_vec(file, path, TK_RS_TOKEN_WORD_POS, H5T_NATIVE_INT32, 4, r->t, false, &buf, NULL, err)))
        goto done;
    r->word_pos = buf;
    if ((st = read_array(file, path, TK_RS_PROB, H5T_NATIVE_FLOAT, 4, 2, true, &buf, dims, err)))
        goto done;
    r->prob = buf;
    if ((int64_t)dims[0] != r->n || dims[1] < 1 || dims[1] > 100000) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: " TK_RS_PROB " has shape [%" PRIu64 ", %" PRIu64 "], expected [%" PRId64 ", C]",
                          path, (uint64_t)dims[0], (uint64_t)dims[1], r->n);
        goto done;
    }
    r->c = (int)dims[1];
    if ((st = read_vec(file, path, TK_RS_TARGET, H5T_NATIVE_INT32, 4, r->n, false, &buf, NULL, err)))
        goto done;
    r->target = buf;
    if ((st = read_vec(file, path, TK_RS_PREDICTED, H5T_NATIVE_INT32, 4, r->n, false, &buf, NULL,
                       err)))
        goto done;
    r->predicted = buf;
    for (int64_t i = 0; r->predicted != NULL && i < r->n; i++)
        if (r->predicted[i] < 0 || r->predicted[i] >= tk_results_n_classes(r)) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: " TK_RS_PREDICTED "[%" PRId64 "] = %" PRId32
                              " is not a class of the %d in " TK_RS_PROB,
                              path, i, r->predicted[i], tk_results_n_classes(r));
            goto done;
        }
    if ((st = read_vec(file, path, TK_RS_DONE, H5T_NATIVE_UINT8, 1, r->n, false, &buf, NULL, err)))
        goto done;
    r->done = buf;
    if (r->done == NULL) {
        r->done = tk_malloc(r->n ? (size_t)r->n : 1, 1, err);
        if (r->done == NULL) {
            st = TK_E_NOMEM;
            goto done;
        }
        memset(r->done, 1, (size_t)r->n);
    }
    if ((st = check_consistency(path, r, err)))
        goto done;
    if ((st = read_vocab(file, path, r, err)))
        goto done;
    if ((st = read_words(file, path, r, err)))
        goto done;
    r->vocab_first_id = r->vocab != NULL && r->v > 0 && strcmp(r->vocab[0], "<pad>") == 0 ? 0 : 4;
    if ((st = read_methods(file, path, r, err)))
        goto done;
    hid_t root = H5Oopen(file, "/", H5P_DEFAULT);
    if (root >= 0) {
        st = read_attrs(root, path, &r->root_attrs, &r->n_root_attrs, err);
        H5Oclose(root);
    }
done:
    if (file >= 0)
        H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (st == TK_E_FORMAT && layout && err != NULL) {
        /* a dataset short, missing or unreadable in a file with the results
         * layout (issue 20): say so in the sentence a damaged file gets */
        char inner[TK_ERROR_MAX];
        size_t n = strlen(path);
        const char *what = strncmp(err->msg, path, n) == 0 && strncmp(err->msg + n, ": ", 2) == 0
                               ? err->msg + n + 2
                               : err->msg;
        snprintf(inner, sizeof inner, "%s", what);
        tk_error_reset(err, TK_E_FORMAT,
                       "%s: a damaged tokattr results file (%s): it cannot be read; run the job "
                       "again (with --force to replace it)",
                       path, inner);
    }
    if (st != TK_OK) {
        tk_results_destroy(r);
        return st;
    }
    *out = r;
    return TK_OK;
}

void tk_results_destroy(tk_results *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->n_methods; i++) {
        tk_results_method *m = &r->methods[i];
        free(m->name);
        free(m->score);
        free(m->padding_score);
        free(m->axiom_error);
        free(m->target);
        free(m->f_input);
        free(m->f_baseline);
        free_attrs(m->attrs, m->n_attrs);
        if (m->faith != NULL) {
            free(m->faith->curve);
            free(m->faith->random_curve);
            free(m->faith->aopc);
            free(m->faith->comprehensiveness);
            free(m->faith->sufficiency);
            free(m->faith);
        }
    }
    free(r->methods);
    if (r->vocab != NULL)
        for (int64_t i = 0; i < r->v; i++)
            free(r->vocab[i]);
    free(r->vocab);
    free_strings(&r->token_word);
    free_strings(&r->doc_id);
    free_strings(&r->class_name);
    free(r->truncated);
    free_attrs(r->root_attrs, r->n_root_attrs);
    free(r->path);
    free(r->review_id);
    free(r->index);
    free(r->label);
    free(r->rating);
    free(r->token_offset);
    free(r->token_id);
    free(r->word_pos);
    free(r->prob);
    free(r->target);
    free(r->predicted);
    free(r->done);
    free(r);
}

int tk_results_n_classes(const tk_results *r)
{
    return r->c == 1 ? 2 : r->c;
}

int tk_results_predicted(const tk_results *r, int64_t i)
{
    if (r->predicted != NULL)
        return r->predicted[i];
    const float *p = r->prob + i * r->c; /* (C) */
    if (r->c == 1)
        return p[0] > 0.5f ? 1 : 0;
    int best = 0;
    for (int c = 1; c < r->c; c++)
        if (p[c] > p[best])
            best = c;
    return best;
}

double tk_results_confidence(const tk_results *r, int64_t i)
{
    const float *p = r->prob + i * r->c; /* (C) */
    int c = tk_results_predicted(r, i);
    if (r->c == 1)
        return c == 1 ? p[0] : 1.0 - p[0];
    return p[c];
}

const char *tk_results_word(const tk_results *r, int32_t id, char *buf, size_t size)
{
    static const char *const special[4] = {"<pad>", "<start>", "<oov>", "<unused>"};
    int64_t k = (int64_t)id - r->vocab_first_id;
    if (r->vocab != NULL && k >= 0 && k < r->v)
        return r->vocab[k];
    if (id >= 0 && id < 4)
        return special[id];
    snprintf(buf, size, "#%" PRId32, id);
    return buf;
}

const char *tk_results_token_word(const tk_results *r, int64_t t, char *buf, size_t size)
{
    if (r->token_word.s != NULL)
        return r->token_word.s[t];
    return tk_results_word(r, r->token_id[t], buf, size);
}

bool tk_results_token_is_oov(const tk_results *r, int64_t t)
{
    return r->oov_id >= 0 && r->token_id[t] == r->oov_id;
}

const char *tk_results_class_name(const tk_results *r, int c, char *buf, size_t size)
{
    if (c >= 0 && c < r->class_name.n)
        return r->class_name.s[c];
    snprintf(buf, size, "%d", c);
    return buf;
}

tk_status tk_results_accuracy(const char *path, int64_t *n_labelled, int64_t *correct,
                              int64_t *majority, tk_error *err)
{
    *n_labelled = *correct = *majority = 0;
    int64_t per[64] = {0}; /* labels past 63 do not count toward the majority */
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    tk_status st = TK_OK;
    void *label = NULL, *pred = NULL, *done = NULL;
    int64_t n = 0;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: HDF5 cannot open the results file", path);
        goto out;
    }
    if ((st = read_vec(file, path, TK_RS_REVIEW_LABEL, H5T_NATIVE_INT32, 4, -1, true, &label, &n,
                       err)) != TK_OK ||
        (st = read_vec(file, path, TK_RS_PREDICTED, H5T_NATIVE_INT32, 4, n, true, &pred, NULL,
                       err)) != TK_OK ||
        (st = read_vec(file, path, TK_RS_DONE, H5T_NATIVE_UINT8, 1, n, false, &done, NULL, err)) !=
            TK_OK)
        goto out;
    for (int64_t i = 0; i < n; i++) {
        int32_t l = ((int32_t *)label)[i];
        if (l < 0 || (done && !((uint8_t *)done)[i]))
            continue;
        (*n_labelled)++;
        *correct += ((int32_t *)pred)[i] == l;
        if (l < 64 && ++per[l] > *majority)
            *majority = per[l];
    }
out:
    free(label);
    free(pred);
    free(done);
    if (file >= 0)
        H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return st;
}

/* The root attributes only the results writer writes (pipeline/writer.c;
 * a dataset file also has tokattr_version). HDF5 keeps attribute names as
 * plain bytes in the root group's object header, which the writer creates
 * first (about byte 1,300 of a results file): in a file HDF5 cannot open,
 * finding one of them in the first EVIDENCE_BYTES says whose file it is. */
static const char *const RESULTS_ATTRS[] = {"model_sha256", "dataset_sha256"};
#define EVIDENCE_BYTES (1 << 20)

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

static bool bytes_name_results_attrs(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(EVIDENCE_BYTES) : NULL;
    size_t n = buf ? fread(buf, 1, EVIDENCE_BYTES, f) : 0;
    bool yes = false;
    for (size_t i = 0; i < sizeof RESULTS_ATTRS / sizeof RESULTS_ATTRS[0] && !yes; i++)
        yes = contains(buf, n, RESULTS_ATTRS[i]);
    free(buf);
    if (f)
        fclose(f);
    return yes;
}

/* Why HDF5 cannot open path (its error stack is still set). */
static tk_results_kind unopenable(const char *path, long long size, tk_error *err)
{
    char why[320];
    tk_h5_error_text(why, sizeof why);
    if (strstr(why, "unable to lock") != NULL) {
        tk_error_set(err, TK_E_IO,
                     "%s: HDF5 cannot open it: another process holds it open for writing (a run "
                     "still writing it? HDF5 says: %s)",
                     path, why);
        return TK_RESULTS_IN_USE;
    }
    if (bytes_name_results_attrs(path)) {
        tk_error_set(err, TK_E_FORMAT,
                     "%s: a damaged tokattr results file (truncated? %lld bytes, and HDF5 cannot "
                     "open it: %s)",
                     path, size, why);
        return TK_RESULTS_DAMAGED;
    }
    tk_error_set(err, TK_E_FORMAT,
                 "%s: an HDF5 file HDF5 cannot open (%lld bytes: %s) that names none of tokattr's "
                 "results attributes: not a tokattr results file (or one cut before they were "
                 "written)",
                 path, size, why);
    return TK_RESULTS_FOREIGN;
}

tk_results_kind tk_results_examine(const char *path, tk_error *err)
{
    struct stat sb;
    FILE *f = fopen(path, "rb");
    if (f == NULL || fstat(fileno(f), &sb) != 0) {
        tk_error_set(err, TK_E_IO, "%s: cannot open the results file: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return TK_RESULTS_ABSENT;
    }
    fclose(f);
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    tk_results_kind kind;
    hid_t file = H5I_INVALID_HID;
    if (H5Fis_hdf5(path) <= 0) {
        tk_error_set(err, TK_E_FORMAT, "%s: not an HDF5 file%s, so not a tokattr results file",
                     path, sb.st_size == 0 ? " (it is empty)" : "");
        kind = TK_RESULTS_FOREIGN;
    } else if ((file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        kind = unopenable(path, (long long)sb.st_size, err);
    } else {
        bool attrs = false;
        for (size_t i = 0; i < sizeof RESULTS_ATTRS / sizeof RESULTS_ATTRS[0]; i++)
            attrs = attrs || H5Aexists(file, RESULTS_ATTRS[i]) > 0;
        const char *missing = !tk_h5_exists(file, TK_RS_TOKEN_OFFSET) ? TK_RS_TOKEN_OFFSET
                              : !tk_h5_exists(file, TK_RS_ATTRIBUTIONS) ? TK_RS_ATTRIBUTIONS
                                                                       : NULL;
        if (missing == NULL) {
            kind = TK_RESULTS_READABLE;
        } else if (attrs) {
            tk_error_set(err, TK_E_FORMAT,
                         "%s: a damaged tokattr results file (HDF5 opens it, but %s is missing)",
                         path, missing);
            kind = TK_RESULTS_DAMAGED;
        } else {
            tk_error_set(err, TK_E_FORMAT,
                         "%s: an HDF5 file with neither tokattr's results datasets (%s) nor its "
                         "attributes: not a tokattr results file",
                         path, missing);
            kind = TK_RESULTS_FOREIGN;
        }
        H5Fclose(file);
    }
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return kind;
}

bool tk_results_probe(const char *path)
{
    tk_results_kind kind = tk_results_examine(path, NULL);
    return kind == TK_RESULTS_READABLE || kind == TK_RESULTS_DAMAGED;
}

tk_status tk_results_check_reuse(const char *path, bool replace, tk_error *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return TK_OK;
    tk_error why = {0};
    switch (tk_results_examine(path, &why)) {
    case TK_RESULTS_DAMAGED:
        if (replace)
            return TK_OK;
        return tk_error_set(err, TK_E_FORMAT,
                            "%s: it cannot be resumed; run the job again with --force instead of "
                            "--resume (that replaces the file)",
                            why.msg);
    case TK_RESULTS_IN_USE:
        return tk_error_set(err, TK_E_IO, "%s; refusing to %s it", why.msg,
                            replace ? "replace" : "resume");
    default:
        return TK_OK;
    }
}

bool tk_results_method_own_param(const tk_results_method *m, const char *name)
{
    static const struct {
        const char *method, *params;
    } OWN[] = {
        {"saliency", ""},
        {"grad_input", ""},
        {"integrated_gradients", " n_steps rule baseline baseline_token tolerance max_steps "},
        {"occlusion", " window baseline baseline_token "},
        {"deeplift", " baseline baseline_token "},
        {"deepshap", " background_size background_random seed "},
        {"lrp_epsilon", " eps bias_factor "},
    };
    const char *kind = tk_results_attr_find(m->attrs, m->n_attrs, "method");
    const char *target = tk_results_attr_find(m->attrs, m->n_attrs, "target");
    const char *baseline = tk_results_attr_find(m->attrs, m->n_attrs, "baseline");
    if (strcmp(name, "target_class") == 0)
        return target && strcmp(target, "class") == 0;
    if (strcmp(name, "baseline_token") == 0 && !(baseline && strcmp(baseline, "token") == 0))
        return false;
    if (strcmp(name, "output") == 0) /* said by tk_results_method_output instead */
        return false;
    if (strcmp(name, "method") == 0 || strcmp(name, "target") == 0 ||
        strcmp(name, "reduction") == 0)
        return true;
    char key[80];
    snprintf(key, sizeof key, " %s ", name);
    for (size_t i = 0; kind && i < sizeof OWN / sizeof OWN[0]; i++)
        if (strcmp(OWN[i].method, kind) == 0)
            return strstr(OWN[i].params, key) != NULL;
    return true; /* a method this build does not know: show everything */
}

const char *tk_results_method_output(const tk_results_method *m)
{
    const char *kind = tk_results_attr_find(m->attrs, m->n_attrs, "method");
    const char *output = tk_results_attr_find(m->attrs, m->n_attrs, "output");
    /* LRP starts from the logit; files before the writer said so record
     * the job's output for it */
    if ((kind && strcmp(kind, "lrp_epsilon") == 0) || (output && strcmp(output, "logit") == 0))
        return "logit";
    return "prob";
}
