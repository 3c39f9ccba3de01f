/* Results file writer (writer.h). Every HDF5 call is checked; a failure
 * names the file, the object and the source line. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/writer.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/results_schema.h"

#define HCHK(call, what)                                                                    \
    do {                                                                                       \
        if ((call) < 0) {                                                                      \
            st = tk_error_set(err, TK_E_IO, "%s: HDF5 failed to %s (%s:%d)", w->path, what,    \
                              __FILE__, __LINE__);                                             \
            goto fail;                                                                         \
        }                                                                                      \
    } while (0)

/* HDF5 chunk of the 1-D datasets: large enough for deflate to pay, small
 * enough that a work unit's write touches one or two chunks. */
enum { CHUNK_ELEMS = 16384 };

typedef struct method_dsets {
    hid_t score, padding_score, axiom_error, f_input, f_baseline, target;
    hid_t steps, error_estimate; /* IG only (has_steps / has_estimate), else invalid */
} method_dsets;

/* Which methods report the integrand evaluations and an error estimate. */
static bool has_steps(const tk_method_params *p)
{
    return p->kind == TK_METHOD_INTEGRATED_GRADIENTS;
}

static bool has_estimate(const tk_method_params *p)
{
    return has_steps(p) && p->rule == TK_IG_ADAPTIVE;
}

typedef struct range {
    int64_t first, count;
} range;

struct tk_writer {
    char path[4096];
    hid_t file;
    int64_t n, t;
    int n_classes, n_methods;
    const int64_t *token_offset; /* (n + 1), the caller's (alive until close) */
    hid_t prob, predicted, target, done;
    method_dsets *m; /* (n_methods) */
    int faith_k1;    /* K + 1, or 0 without /faithfulness */
    hid_t *fd;       /* (n_methods, N_FAITH) /faithfulness/<method>/FAITH_NAMES[i], or NULL */
    range *pending;  /* written since the last checkpoint */
    int n_pending, cap_pending;
};

/* /faithfulness/<method>/...: the first two are (N, K+1), the rest (N); the
 * names src/report/results.c reads. */
enum { N_FAITH = 5 };
static const char *FAITH_NAMES[N_FAITH] = {TK_RS_F_CURVE, TK_RS_F_RANDOM_CURVE, TK_RS_F_AOPC,
                                           TK_RS_F_COMPREHENSIVENESS, TK_RS_F_SUFFICIENCY};
/* /attributions/<method>/...: the order of method_dsets */
enum { N_METHOD_DSETS = 6 };
static const char *METHOD_NAMES[N_METHOD_DSETS] = {TK_RS_M_SCORE,   TK_RS_M_PADDING_SCORE,
                                                   TK_RS_M_AXIOM_ERROR, TK_RS_M_F_INPUT,
                                                   TK_RS_M_F_BASELINE,  TK_RS_M_TARGET};

static const char *TARGET_NAMES[] = {"predicted", "label", "class"};
static const char *OUTPUT_NAMES[] = {"prob", "logit"};
static const char *REDUCE_NAMES[] = {"sum", "l2"};
static const char *RULE_NAMES[] = {"gausslegendre",  "riemann_left",      "riemann_right",
                                   "riemann_middle", "riemann_trapezoid", "adaptive"};
static const char *BASELINE_NAMES[] = {"pad", "zeros", "oov", "token"};

static void utc_now(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A string attribute of size bytes (>= strlen(value) + 1, NUL-padded). */
static herr_t attr_str_sized(hid_t obj, const char *name, const char *value, size_t size)
{
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    herr_t rc = -1;
    char *buf = calloc(size, 1);
    if (type < 0 || space < 0 || !buf || strlen(value) >= size)
        goto done;
    memcpy(buf, value, strlen(value));
    if (H5Tset_size(type, size) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0)
        goto done;
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0)
        goto done;
    a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        goto done;
    rc = H5Awrite(a, type, buf);
done:
    free(buf);
    if (a >= 0)
        H5Aclose(a);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

static herr_t attr_str(hid_t obj, const char *name, const char *value)
{
    /* size len + 1: a NULLTERM string type keeps its terminator inside the size */
    return value == NULL ? 0 : attr_str_sized(obj, name, value, strlen(value) + 1);
}

/* finish_time is made at creation with room for the time, so that closing
 * rewrites its bytes in place: deleting and re-creating it moved the root
 * group's header into a new block, a metadata change that a kill during
 * the final flush could leave half on disk. */
enum { TIME_SIZE = sizeof "2026-01-01T00:00:00Z" };

static herr_t attr_str_overwrite(hid_t obj, const char *name, const char *value)
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
    return fits ? rc : attr_str(obj, name, value);
}

static herr_t attr_num(hid_t obj, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0)
        return -1;
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, type, value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    return rc;
}

/* Reads a string attribute into a malloc'd buffer; NULL when absent. */
static char *attr_read_str(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return NULL;
    hid_t ft = H5Aget_type(a);
    char *out = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft)) {
        size_t size = H5Tget_size(ft);
        hid_t mt = H5Tcopy(H5T_C_S1);
        out = calloc(size + 1, 1);
        if (mt < 0 || !out || H5Tset_size(mt, size) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(ft)) < 0 || H5Aread(a, mt, out) < 0) {
            free(out);
            out = NULL;
        }
        if (mt >= 0)
            H5Tclose(mt);
    }
    if (ft >= 0)
        H5Tclose(ft);
    H5Aclose(a);
    return out;
}

/* A 1-D or 2-D dataset: chunked + shuffle + deflate when it has elements
 * and compress is set, else contiguous with its space allocated now.
 *
 * Only datasets written once, at creation, are compressed. A dataset that
 * work units write into later is contiguous: HDF5 rewrites a compressed
 * chunk at a new address when its size changes and may hand the old
 * address, which the file on disk still points to, to the next chunk it
 * writes; a kill -9 before the next flush completed left chunks that no
 * longer inflated (tests/it_run_kill_hdf5.sh). A contiguous dataset
 * allocated at creation is written in place: after the creation flush no
 * write changes the file's metadata, so a kill at any moment leaves every
 * flushed unit intact. It also keeps the layout open to independent
 * parallel writes (INFRA.md: those fail on filtered datasets). */
static hid_t make_dset(hid_t loc, const char *name, hid_t type, int64_t rows, int cols,
                       bool compress)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    int rank = cols > 0 ? 2 : 1;
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    if (space < 0 || dcpl < 0)
        goto done;
    if (compress && rows > 0) {
        hsize_t chunk[2] = {(hsize_t)(rows < CHUNK_ELEMS ? rows : CHUNK_ELEMS), (hsize_t)cols};
        if (rank == 2 && cols > 0) {
            hsize_t per = (hsize_t)(CHUNK_ELEMS / cols > 0 ? CHUNK_ELEMS / cols : 1);
            chunk[0] = (hsize_t)rows < per ? (hsize_t)rows : per;
        }
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
            H5Pset_deflate(dcpl, 4) < 0)
            goto done;
    } else if (H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0)
        goto done;
    d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
done:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return d;
}

/* Writes buf (count rows of cols, or count elements when cols == 0) at row first. */
static herr_t write_rows(hid_t d, hid_t mem_type, int64_t first, int64_t count, int cols,
                         const void *buf)
{
    if (count == 0)
        return 0;
    int rank = cols > 0 ? 2 : 1;
    hsize_t start[2] = {(hsize_t)first, 0}, cnt[2] = {(hsize_t)count, (hsize_t)cols};
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(rank, cnt, NULL);
    herr_t rc = -1;
    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) >= 0)
        rc = H5Dwrite(d, mem_type, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

static hid_t make_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                        int64_t rows, int cols, const void *buf)
{
    hid_t d = make_dset(loc, name, file_type, rows, cols, true);
    if (d < 0)
        return d;
    if (buf && write_rows(d, mem_type, 0, rows, cols, buf) < 0) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

static herr_t method_attrs(hid_t g, const tk_method_params *p)
{
    herr_t rc = 0;
    rc |= attr_str(g, "method", tk_method_kind_name(p->kind));
    rc |= attr_str(g, "target", TARGET_NAMES[p->target]);
    rc |= attr_num(g, "target_class", H5T_NATIVE_INT, &p->target_class);
    /* LRP starts from the logit whatever the job's output says: the file
     * states what the scores are of */
    rc |= attr_str(g, "output",
                   p->kind == TK_METHOD_LRP_EPSILON ? "logit" : OUTPUT_NAMES[p->output]);
    rc |= attr_str(g, "reduction", REDUCE_NAMES[p->reduce]);
    rc |= attr_num(g, "n_steps", H5T_NATIVE_INT, &p->n_steps);
    rc |= attr_str(g, "rule", RULE_NAMES[p->rule]);
    rc |= attr_str(g, "baseline", BASELINE_NAMES[p->baseline]);
    rc |= attr_num(g, "baseline_token", H5T_NATIVE_INT, &p->baseline_token);
    rc |= attr_num(g, "window", H5T_NATIVE_INT, &p->window);
    rc |= attr_num(g, "background_size", H5T_NATIVE_INT, &p->background_size);
    int random = p->background_random;
    rc |= attr_num(g, "background_random", H5T_NATIVE_INT, &random);
    rc |= attr_num(g, "seed", H5T_NATIVE_UINT64, &p->seed);
    rc |= attr_num(g, "eps", H5T_NATIVE_DOUBLE, &p->eps);
    rc |= attr_num(g, "bias_factor", H5T_NATIVE_DOUBLE, &p->bias_factor);
    if (has_estimate(p)) {
        rc |= attr_num(g, "tolerance", H5T_NATIVE_DOUBLE, &p->tolerance);
        rc |= attr_num(g, "max_steps", H5T_NATIVE_INT, &p->max_steps);
    }
    return rc < 0 ? -1 : 0;
}

static void close_all(tk_writer *w)
{
    hid_t *ids[] = {&w->prob, &w->predicted, &w->target, &w->done};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (*ids[i] >= 0) {
            H5Dclose(*ids[i]);
            *ids[i] = H5I_INVALID_HID;
        }
    for (int k = 0; w->m && k < w->n_methods; k++) {
        hid_t *md[] = {&w->m[k].score,   &w->m[k].padding_score, &w->m[k].axiom_error,
                       &w->m[k].f_input, &w->m[k].f_baseline,    &w->m[k].target,
                       &w->m[k].steps,   &w->m[k].error_estimate};
        for (size_t i = 0; i < sizeof md / sizeof md[0]; i++)
            if (*md[i] >= 0) {
                H5Dclose(*md[i]);
                *md[i] = H5I_INVALID_HID;
            }
    }
    for (int i = 0; w->fd && i < w->n_methods * N_FAITH; i++)
        if (w->fd[i] >= 0) {
            H5Dclose(w->fd[i]);
            w->fd[i] = H5I_INVALID_HID;
        }
    if (w->file >= 0) {
        H5Fclose(w->file);
        w->file = H5I_INVALID_HID;
    }
}

static tk_writer *writer_new(const char *path, const tk_writer_layout *layout, tk_error *err)
{
    tk_writer *w = tk_calloc(1, sizeof *w, err);
    if (!w)
        return NULL;
    snprintf(w->path, sizeof w->path, "%s", path);
    w->file = w->prob = w->predicted = w->target = w->done = H5I_INVALID_HID;
    w->n = layout->n;
    w->t = layout->token_offset[layout->n];
    w->n_classes = layout->n_classes;
    w->n_methods = layout->n_methods;
    w->token_offset = layout->token_offset;
    w->m = tk_calloc((size_t)layout->n_methods, sizeof *w->m, err);
    if (!w->m) {
        free(w);
        return NULL;
    }
    for (int k = 0; k < layout->n_methods; k++)
        w->m[k].score = w->m[k].padding_score = w->m[k].axiom_error = w->m[k].f_input =
            w->m[k].f_baseline = w->m[k].target = w->m[k].steps = w->m[k].error_estimate =
                H5I_INVALID_HID;
    if (layout->faith) {
        w->faith_k1 = layout->faith->k_max + 1;
        w->fd = tk_malloc((size_t)(layout->n_methods > 0 ? layout->n_methods : 1) * N_FAITH,
                          sizeof *w->fd, err);
        if (!w->fd) {
            free(w->m);
            free(w);
            return NULL;
        }
        for (int i = 0; i < layout->n_methods * N_FAITH; i++)
            w->fd[i] = H5I_INVALID_HID;
    }
    /* Library code does not print: HDF5's own error stack printing is
     * switched off and each failure becomes one sentence instead. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return w;
}

static void writer_free(tk_writer *w)
{
    if (!w)
        return;
    close_all(w);
    free(w->m);
    free(w->fd);
    free(w->pending);
    free(w);
}

tk_status tk_writer_create(const char *path, const tk_writer_layout *L, const tk_writer_meta *meta,
                           tk_writer **out, tk_error *err)
{
    *out = NULL;
    tk_status st = TK_OK;
    tk_writer *w = writer_new(path, L, err);
    if (!w)
        return TK_E_NOMEM;
    hid_t g = H5I_INVALID_HID, d = H5I_INVALID_HID, strtype = H5I_INVALID_HID;
    uint8_t *zeros = NULL;

    w->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot create the results file", path);
        goto fail;
    }
    char now[32];
    utc_now(now, sizeof now);
    HCHK(attr_str(w->file, "tokattr_version", TOKATTR_VERSION), "write attributes");
    HCHK(attr_str(w->file, "command_line", meta->command_line), "write attributes");
    HCHK(attr_str(w->file, "job", meta->job_yaml), "write attributes");
    HCHK(attr_str(w->file, "model_path", meta->model_path), "write attributes");
    HCHK(attr_str(w->file, "model_sha256", meta->model_sha256), "write attributes");
    HCHK(attr_str(w->file, "dataset_path", meta->dataset_path), "write attributes");
    HCHK(attr_str(w->file, "dataset_sha256", meta->dataset_sha256), "write attributes");
    HCHK(attr_str(w->file, "split", meta->split), "write attributes");
    HCHK(attr_num(w->file, "ranks", H5T_NATIVE_INT, &meta->ranks), "write attributes");
    HCHK(attr_str(w->file, "start_time", now), "write attributes");
    HCHK(attr_str_sized(w->file, "finish_time", "", TIME_SIZE), "write attributes");

    HCHK(g = H5Gcreate2(w->file, TK_RS_REVIEWS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            "create " TK_RS_REVIEWS);
    H5Gclose(g);
    g = H5I_INVALID_HID;
    HCHK(d = make_write(w->file, TK_RS_REVIEW_INDEX, H5T_STD_I64LE, H5T_NATIVE_INT64, L->n, 0,
                        L->index),
            "write " TK_RS_REVIEW_INDEX);
    H5Dclose(d);
    HCHK(d = make_write(w->file, TK_RS_REVIEW_ID, H5T_STD_I32LE, H5T_NATIVE_INT32, L->n, 0,
                        L->review_id),
            "write " TK_RS_REVIEW_ID);
    H5Dclose(d);
    HCHK(d = make_write(w->file, TK_RS_REVIEW_LABEL, H5T_STD_I32LE, H5T_NATIVE_INT32, L->n, 0,
                        L->label),
            "write " TK_RS_REVIEW_LABEL);
    H5Dclose(d);
    HCHK(d = make_write(w->file, TK_RS_REVIEW_RATING, H5T_STD_I32LE, H5T_NATIVE_INT32, L->n, 0,
                        L->rating),
            "write " TK_RS_REVIEW_RATING);
    H5Dclose(d);
    HCHK(d = make_write(w->file, TK_RS_TOKEN_OFFSET, H5T_STD_I64LE, H5T_NATIVE_INT64, L->n + 1, 0,
                        L->token_offset),
            "write " TK_RS_TOKEN_OFFSET);
    H5Dclose(d);
    d = H5I_INVALID_HID;
    if (L->truncated) {
        HCHK(d = make_write(w->file, TK_RS_REVIEW_TRUNCATED, H5T_STD_I32LE, H5T_NATIVE_INT32, L->n,
                            0, L->truncated),
                "write " TK_RS_REVIEW_TRUNCATED);
        HCHK(attr_str(d, "truncating", L->truncating_post ? "post" : "pre"),
                "write " TK_RS_REVIEW_TRUNCATED " attributes");
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
    HCHK(strtype = H5Tcopy(H5T_C_S1), "make a string type");
    HCHK(H5Tset_size(strtype, H5T_VARIABLE), "make a string type");
    HCHK(H5Tset_cset(strtype, H5T_CSET_UTF8), "make a string type");
    if (L->doc_id) {
        HCHK(d = make_write(w->file, TK_RS_REVIEW_DOC_ID, strtype, strtype, L->n, 0, L->doc_id),
                "write " TK_RS_REVIEW_DOC_ID);
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }

    HCHK(g = H5Gcreate2(w->file, TK_RS_TOKENS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            "create " TK_RS_TOKENS);
    HCHK(attr_num(g, TK_RS_TOKEN_ATTR_PAD, H5T_NATIVE_INT32, &L->pad_id), "write /tokens attributes");
    HCHK(attr_num(g, TK_RS_TOKEN_ATTR_START, H5T_NATIVE_INT32, &L->start_id),
            "write /tokens attributes");
    HCHK(attr_num(g, TK_RS_TOKEN_ATTR_OOV, H5T_NATIVE_INT32, &L->oov_id), "write /tokens attributes");
    H5Gclose(g);
    g = H5I_INVALID_HID;
    HCHK(d = make_write(w->file, TK_RS_TOKEN_ID, H5T_STD_I32LE, H5T_NATIVE_INT32, w->t, 0,
                        L->token_id),
            "write " TK_RS_TOKEN_ID);
    H5Dclose(d);
    HCHK(d = make_write(w->file, TK_RS_TOKEN_WORD_POS, H5T_STD_I32LE, H5T_NATIVE_INT32, w->t, 0,
                        L->word_pos),
            "write " TK_RS_TOKEN_WORD_POS);
    H5Dclose(d);
    d = H5I_INVALID_HID;
    if (L->token_word_offset) {
        HCHK(d = make_write(w->file, TK_RS_TOKEN_WORD_OFFSET, H5T_STD_I64LE, H5T_NATIVE_INT64,
                            w->t + 1, 0, L->token_word_offset),
                "write " TK_RS_TOKEN_WORD_OFFSET);
        H5Dclose(d);
        HCHK(d = make_write(w->file, TK_RS_TOKEN_WORD_TEXT, H5T_STD_U8LE, H5T_NATIVE_UINT8,
                            L->token_word_offset[w->t], 0, L->token_word_text),
                "write " TK_RS_TOKEN_WORD_TEXT);
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
    if (L->class_names && L->n_class_names > 0) {
        HCHK(g = H5Gcreate2(w->file, TK_RS_CLASSES, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                "create " TK_RS_CLASSES);
        H5Gclose(g);
        g = H5I_INVALID_HID;
        HCHK(d = make_write(w->file, TK_RS_CLASS_NAME, strtype, strtype, L->n_class_names, 0,
                            L->class_names),
                "write " TK_RS_CLASS_NAME);
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }

    HCHK(g = H5Gcreate2(w->file, TK_RS_PREDICTIONS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            "create " TK_RS_PREDICTIONS);
    H5Gclose(g);
    g = H5I_INVALID_HID;
    HCHK(w->prob = make_dset(w->file, TK_RS_PROB, H5T_IEEE_F32LE, L->n, L->n_classes, false),
            "create " TK_RS_PROB);
    HCHK(w->predicted = make_dset(w->file, TK_RS_PREDICTED, H5T_STD_I32LE, L->n, 0, false),
            "create " TK_RS_PREDICTED);
    HCHK(w->target = make_dset(w->file, TK_RS_TARGET, H5T_STD_I32LE, L->n, 0, false),
            "create " TK_RS_TARGET);

    HCHK(g = H5Gcreate2(w->file, TK_RS_ATTRIBUTIONS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            "create " TK_RS_ATTRIBUTIONS);
    for (int k = 0; k < L->n_methods; k++) {
        hid_t mg;
        HCHK(mg = H5Gcreate2(g, L->methods[k].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                "create a method group");
        herr_t rc = method_attrs(mg, &L->methods[k]);
        method_dsets *m = &w->m[k];
        m->score = make_dset(mg, TK_RS_M_SCORE, H5T_IEEE_F32LE, w->t, 0, false);
        m->padding_score = make_dset(mg, TK_RS_M_PADDING_SCORE, H5T_IEEE_F32LE, L->n, 0, false);
        m->axiom_error = make_dset(mg, TK_RS_M_AXIOM_ERROR, H5T_IEEE_F64LE, L->n, 0, false);
        m->f_input = make_dset(mg, TK_RS_M_F_INPUT, H5T_IEEE_F64LE, L->n, 0, false);
        m->f_baseline = make_dset(mg, TK_RS_M_F_BASELINE, H5T_IEEE_F64LE, L->n, 0, false);
        m->target = make_dset(mg, TK_RS_M_TARGET, H5T_STD_I32LE, L->n, 0, false);
        if (has_steps(&L->methods[k]))
            m->steps = make_dset(mg, TK_RS_M_STEPS, H5T_STD_I32LE, L->n, 0, false);
        if (has_estimate(&L->methods[k]))
            m->error_estimate = make_dset(mg, TK_RS_M_ERROR_ESTIMATE, H5T_IEEE_F64LE, L->n, 0, false);
        H5Gclose(mg);
        HCHK(rc < 0 || m->score < 0 || m->padding_score < 0 || m->axiom_error < 0 ||
                        m->f_input < 0 || m->f_baseline < 0 || m->target < 0 ||
                        (has_steps(&L->methods[k]) && m->steps < 0) ||
                        (has_estimate(&L->methods[k]) && m->error_estimate < 0)
                    ? -1
                    : 0,
                "create the datasets of a method");
    }
    H5Gclose(g);
    g = H5I_INVALID_HID;

    if (L->faith) {
        HCHK(g = H5Gcreate2(w->file, TK_RS_FAITHFULNESS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                "create " TK_RS_FAITHFULNESS);
        const char *replace = L->faith->mode == TK_FAITH_REMOVE ? "remove" : "pad";
        HCHK(attr_num(g, "k", H5T_NATIVE_INT, &L->faith->k_max), "write /faithfulness attributes");
        HCHK(attr_str(g, "replace", replace), "write /faithfulness attributes");
        HCHK(attr_num(g, "seed", H5T_NATIVE_UINT64, &L->faith->seed),
                "write /faithfulness attributes");
        for (int k = 0; k < L->n_methods; k++) {
            hid_t mg;
            HCHK(mg = H5Gcreate2(g, L->methods[k].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    "create a /faithfulness method group");
            bool ok = true;
            for (int i = 0; i < N_FAITH; i++) {
                hid_t *d_ = &w->fd[k * N_FAITH + i];
                *d_ = make_dset(mg, FAITH_NAMES[i], H5T_IEEE_F32LE, L->n, i < 2 ? w->faith_k1 : 0,
                                false);
                ok = ok && *d_ >= 0;
            }
            H5Gclose(mg);
            HCHK(ok ? 0 : -1, "create the /faithfulness datasets of a method");
        }
        H5Gclose(g);
        g = H5I_INVALID_HID;
    }

    if (L->vocab && L->vocab_size > 0) {
        HCHK(g = H5Gcreate2(w->file, TK_RS_VOCAB, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                "create " TK_RS_VOCAB);
        HCHK(d = make_dset(w->file, TK_RS_VOCAB_WORD, strtype, L->vocab_size, 0, false),
                "create " TK_RS_VOCAB_WORD);
        HCHK(H5Dwrite(d, strtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, L->vocab),
                "write /vocab/word");
        H5Dclose(d);
        d = H5I_INVALID_HID;
        H5Gclose(g);
    }

    /* /progress/done: contiguous and uncompressed, so marking a chunk done
     * rewrites a few bytes in place and never moves data. */
    HCHK(g = H5Gcreate2(w->file, TK_RS_PROGRESS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            "create " TK_RS_PROGRESS);
    HCHK(w->done = make_dset(w->file, TK_RS_DONE, H5T_STD_U8LE, L->n, 0, false),
            "create " TK_RS_DONE);
    zeros = tk_calloc((size_t)(L->n > 0 ? L->n : 1), 1, err);
    if (!zeros) {
        st = TK_E_NOMEM;
        goto fail;
    }
    HCHK(write_rows(w->done, H5T_NATIVE_UINT8, 0, L->n, 0, zeros), "write /progress/done");
    H5Gclose(g);
    g = H5I_INVALID_HID;
    HCHK(H5Fflush(w->file, H5F_SCOPE_GLOBAL), "flush");
    free(zeros);
    if (strtype >= 0)
        H5Tclose(strtype);
    *out = w;
    return TK_OK;

fail:
    free(zeros);
    if (d >= 0)
        H5Dclose(d);
    if (g >= 0)
        H5Gclose(g);
    if (strtype >= 0)
        H5Tclose(strtype);
    writer_free(w);
    return st;
}

static tk_status check_same(const tk_writer *w, hid_t file, const char *attr, const char *want,
                            const char *what, tk_error *err)
{
    if (want == NULL)
        return TK_OK;
    char *have = attr_read_str(file, attr);
    bool same = have && strcmp(have, want) == 0;
    free(have);
    if (!same)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: refusing to resume: the file was made with a different %s "
                            "(use --force to start over)",
                            w->path, what);
    return TK_OK;
}

static int64_t dset_len(hid_t d, int want_rank, hsize_t *second)
{
    hid_t s = H5Dget_space(d);
    if (s < 0)
        return -1;
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_ndims(s);
    int64_t n = -1;
    if (rank == want_rank && H5Sget_simple_extent_dims(s, dims, NULL) == rank) {
        n = (int64_t)dims[0];
        if (second)
            *second = dims[1];
    }
    H5Sclose(s);
    return n;
}

tk_status tk_writer_open_resume(const char *path, const tk_writer_layout *L,
                                const tk_writer_meta *meta, uint8_t *done, tk_writer **out,
                                tk_error *err)
{
    *out = NULL;
    tk_status st = TK_OK;
    tk_writer *w = writer_new(path, L, err);
    if (!w)
        return TK_E_NOMEM;
    w->file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (w->file < 0) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: cannot open the results file to resume (not HDF5, damaged, or still "
                          "open in a running job)", path);
        goto fail;
    }
    if ((st = check_same(w, w->file, "job", meta->job_yaml, "job file", err)) != TK_OK ||
        (st = check_same(w, w->file, "model_sha256", meta->model_sha256, "model", err)) != TK_OK ||
        (st = check_same(w, w->file, "dataset_sha256", meta->dataset_sha256, "dataset", err)) !=
            TK_OK)
        goto fail;

    hsize_t cols = 0;
    w->prob = H5Dopen2(w->file, TK_RS_PROB, H5P_DEFAULT);
    w->predicted = H5Dopen2(w->file, TK_RS_PREDICTED, H5P_DEFAULT);
    w->target = H5Dopen2(w->file, TK_RS_TARGET, H5P_DEFAULT);
    w->done = H5Dopen2(w->file, TK_RS_DONE, H5P_DEFAULT);
    if (w->prob < 0 || w->predicted < 0 || w->target < 0 || w->done < 0 ||
        dset_len(w->prob, 2, &cols) != L->n || cols != (hsize_t)L->n_classes ||
        dset_len(w->done, 1, NULL) != L->n) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: cannot resume: /predictions or /progress is missing or has "
                          "another shape than this job needs",
                          path);
        goto fail;
    }
    for (int k = 0; k < L->n_methods; k++) {
        char name[160];
        method_dsets *m = &w->m[k];
        hid_t *slots[] = {&m->score,     &m->padding_score, &m->axiom_error,
                          &m->f_input,   &m->f_baseline,    &m->target};
        for (int i = 0; i < N_METHOD_DSETS; i++) {
            snprintf(name, sizeof name, TK_RS_ATTRIBUTIONS "/%s/%s", L->methods[k].name,
                     METHOD_NAMES[i]);
            *slots[i] = H5Dopen2(w->file, name, H5P_DEFAULT);
            int64_t want = i == 0 ? w->t : L->n;
            if (*slots[i] < 0 || dset_len(*slots[i], 1, NULL) != want) {
                st = tk_error_set(err, TK_E_FORMAT,
                                  "%s: cannot resume: %s is missing or has the wrong length", path,
                                  name);
                goto fail;
            }
        }
        const char *opt[] = {TK_RS_M_STEPS, TK_RS_M_ERROR_ESTIMATE};
        hid_t *oslot[] = {&m->steps, &m->error_estimate};
        bool want[] = {has_steps(&L->methods[k]), has_estimate(&L->methods[k])};
        for (int i = 0; i < 2; i++) {
            if (!want[i])
                continue;
            snprintf(name, sizeof name, TK_RS_ATTRIBUTIONS "/%s/%s", L->methods[k].name, opt[i]);
            *oslot[i] = H5Dopen2(w->file, name, H5P_DEFAULT);
            if (*oslot[i] < 0 || dset_len(*oslot[i], 1, NULL) != L->n) {
                st = tk_error_set(err, TK_E_FORMAT,
                                  "%s: cannot resume: %s is missing or has the wrong length", path,
                                  name);
                goto fail;
            }
        }
    }
    for (int k = 0; L->faith && k < L->n_methods; k++) {
        for (int i = 0; i < N_FAITH; i++) {
            char name[300];
            snprintf(name, sizeof name, TK_RS_FAITHFULNESS "/%s/%s", L->methods[k].name,
                     FAITH_NAMES[i]);
            hid_t *d_ = &w->fd[k * N_FAITH + i];
            *d_ = H5Dopen2(w->file, name, H5P_DEFAULT);
            hsize_t c2 = 0;
            if (*d_ < 0 || dset_len(*d_, i < 2 ? 2 : 1, i < 2 ? &c2 : NULL) != L->n ||
                (i < 2 && c2 != (hsize_t)w->faith_k1)) {
                st = tk_error_set(err, TK_E_FORMAT,
                                  "%s: cannot resume: %s is missing or has the wrong shape", path,
                                  name);
                goto fail;
            }
        }
    }
    HCHK(H5Dread(w->done, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done),
            "read /progress/done");
    *out = w;
    return TK_OK;
fail:
    writer_free(w);
    return st;
}

tk_status tk_writer_put(tk_writer *w, const tk_chunk_result *r, tk_error *err)
{
    tk_status st = TK_OK;
    if (r->first < 0 || r->count < 1 || r->first + r->count > w->n ||
        r->n_methods != w->n_methods || r->n_classes != w->n_classes ||
        w->token_offset[r->first + r->count] - w->token_offset[r->first] != r->tc)
        return tk_error_set(err, TK_E_INTERNAL, "%s: a chunk result does not fit the file layout",
                            w->path);
    int64_t t0 = w->token_offset[r->first];
    HCHK(write_rows(w->prob, H5T_NATIVE_FLOAT, r->first, r->count, w->n_classes, r->prob),
            "write /predictions/prob");
    HCHK(write_rows(w->predicted, H5T_NATIVE_INT32, r->first, r->count, 0, r->predicted),
            "write /predictions/predicted");
    if (w->n_methods > 0)
        HCHK(write_rows(w->target, H5T_NATIVE_INT32, r->first, r->count, 0, r->target),
                "write /predictions/target");
    for (int k = 0; k < w->n_methods; k++) {
        const method_dsets *m = &w->m[k];
        int64_t o = (int64_t)k * r->count;
        HCHK(write_rows(m->score, H5T_NATIVE_FLOAT, t0, r->tc, 0, r->score + (int64_t)k * r->tc),
                "write a score");
        HCHK(write_rows(m->padding_score, H5T_NATIVE_FLOAT, r->first, r->count, 0,
                           r->padding_score + o),
                "write a padding score");
        HCHK(write_rows(m->axiom_error, H5T_NATIVE_DOUBLE, r->first, r->count, 0,
                           r->axiom_error + o),
                "write an axiom error");
        HCHK(write_rows(m->f_input, H5T_NATIVE_DOUBLE, r->first, r->count, 0, r->f_input + o),
                "write f_input");
        HCHK(write_rows(m->f_baseline, H5T_NATIVE_DOUBLE, r->first, r->count, 0,
                           r->f_baseline + o),
                "write f_baseline");
        HCHK(write_rows(m->target, H5T_NATIVE_INT32, r->first, r->count, 0, r->target + o),
                "write a target");
        if (m->steps >= 0)
            HCHK(write_rows(m->steps, H5T_NATIVE_INT32, r->first, r->count, 0, r->steps + o),
                    "write the integration steps");
        if (m->error_estimate >= 0)
            HCHK(write_rows(m->error_estimate, H5T_NATIVE_DOUBLE, r->first, r->count, 0,
                               r->error_estimate + o),
                    "write an error estimate");
    }
    if (w->fd && r->faith_k1 != w->faith_k1)
        return tk_error_set(err, TK_E_INTERNAL,
                            "%s: a chunk result has %d faithfulness points, the file %d", w->path,
                            r->faith_k1, w->faith_k1);
    for (int k = 0; w->fd && k < w->n_methods; k++) {
        int64_t o = (int64_t)k * r->count;
        const hid_t *fd = w->fd + k * N_FAITH;
        int k1 = w->faith_k1;
        HCHK(write_rows(fd[0], H5T_NATIVE_FLOAT, r->first, r->count, k1, r->faith_curve + o * k1),
                "write a deletion curve");
        HCHK(write_rows(fd[1], H5T_NATIVE_FLOAT, r->first, r->count, k1, r->faith_random + o * k1),
                "write a random deletion curve");
        HCHK(write_rows(fd[2], H5T_NATIVE_FLOAT, r->first, r->count, 0, r->faith_aopc + o),
                "write an AOPC");
        HCHK(write_rows(fd[3], H5T_NATIVE_FLOAT, r->first, r->count, 0, r->faith_comp + o),
                "write a comprehensiveness");
        HCHK(write_rows(fd[4], H5T_NATIVE_FLOAT, r->first, r->count, 0, r->faith_suff + o),
                "write a sufficiency");
    }
    if (w->n_pending == w->cap_pending) {
        int cap = w->cap_pending ? 2 * w->cap_pending : 16;
        range *p = realloc(w->pending, (size_t)cap * sizeof *p);
        if (!p)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", w->path);
        w->pending = p;
        w->cap_pending = cap;
    }
    w->pending[w->n_pending++] = (range){r->first, r->count};
    return TK_OK;
fail:
    return st;
}

tk_status tk_writer_checkpoint(tk_writer *w, tk_error *err)
{
    tk_status st = TK_OK;
    if (w->n_pending == 0)
        return TK_OK;
    /* The data must be on disk before the marks that promise it. */
    HCHK(H5Fflush(w->file, H5F_SCOPE_GLOBAL), "flush");
    uint8_t ones[256];
    memset(ones, 1, sizeof ones);
    for (int i = 0; i < w->n_pending; i++) {
        for (int64_t o = 0; o < w->pending[i].count; o += (int64_t)sizeof ones) {
            int64_t c = w->pending[i].count - o;
            if (c > (int64_t)sizeof ones)
                c = (int64_t)sizeof ones;
            HCHK(write_rows(w->done, H5T_NATIVE_UINT8, w->pending[i].first + o, c, 0, ones),
                    "write /progress/done");
        }
    }
    w->n_pending = 0;
    HCHK(H5Fflush(w->file, H5F_SCOPE_GLOBAL), "flush");
    return TK_OK;
fail:
    return st;
}

tk_status tk_writer_close(tk_writer *w, bool finished, tk_error *err)
{
    tk_status st = tk_writer_checkpoint(w, err);
    if (st == TK_OK && finished) {
        char now[32];
        utc_now(now, sizeof now);
        if (attr_str_overwrite(w->file, "finish_time", now) < 0)
            st = tk_error_set(err, TK_E_IO, "%s: HDF5 failed to write the finish time", w->path);
    }
    close_all(w);
    writer_free(w);
    return st;
}

void tk_writer_abandon(tk_writer *w)
{
    writer_free(w);
}

tk_status tk_chunk_result_alloc(tk_chunk_result *r, int64_t max_count, int64_t max_tc,
                                int n_classes, int n_methods, tk_error *err)
{
    memset(r, 0, sizeof *r);
    r->n_classes = n_classes;
    r->n_methods = n_methods;
    size_t nm = (size_t)(n_methods > 0 ? n_methods : 1);
    size_t c = (size_t)max_count, t = (size_t)(max_tc > 0 ? max_tc : 1);
    r->prob = tk_malloc(c * (size_t)n_classes, sizeof *r->prob, err);
    r->predicted = tk_malloc(c, sizeof *r->predicted, err);
    r->target = tk_malloc(nm * c, sizeof *r->target, err);
    r->score = tk_malloc(nm * t, sizeof *r->score, err);
    r->padding_score = tk_malloc(nm * c, sizeof *r->padding_score, err);
    r->axiom_error = tk_malloc(nm * c, sizeof *r->axiom_error, err);
    r->f_input = tk_malloc(nm * c, sizeof *r->f_input, err);
    r->f_baseline = tk_malloc(nm * c, sizeof *r->f_baseline, err);
    r->steps = tk_malloc(nm * c, sizeof *r->steps, err);
    r->error_estimate = tk_malloc(nm * c, sizeof *r->error_estimate, err);
    if (!r->prob || !r->predicted || !r->target || !r->score || !r->padding_score ||
        !r->axiom_error || !r->f_input || !r->f_baseline || !r->steps || !r->error_estimate) {
        tk_chunk_result_free(r);
        return TK_E_NOMEM;
    }
    return TK_OK;
}

void tk_chunk_result_free(tk_chunk_result *r)
{
    if (!r)
        return;
    free(r->prob);
    free(r->predicted);
    free(r->target);
    free(r->score);
    free(r->padding_score);
    free(r->axiom_error);
    free(r->f_input);
    free(r->f_baseline);
    free(r->faith_curve);
    free(r->faith_random);
    free(r->faith_aopc);
    free(r->faith_comp);
    free(r->faith_suff);
    free(r->steps);
    free(r->error_estimate);
    memset(r, 0, sizeof *r);
}

tk_status tk_chunk_result_alloc_faith(tk_chunk_result *r, int64_t max_count, int k1, tk_error *err)
{
    size_t nm = (size_t)(r->n_methods > 0 ? r->n_methods : 1), c = (size_t)max_count;
    r->faith_k1 = k1;
    r->faith_curve = tk_malloc(nm * c * (size_t)k1, sizeof *r->faith_curve, err);
    r->faith_random = tk_malloc(nm * c * (size_t)k1, sizeof *r->faith_random, err);
    r->faith_aopc = tk_malloc(nm * c, sizeof *r->faith_aopc, err);
    r->faith_comp = tk_malloc(nm * c, sizeof *r->faith_comp, err);
    r->faith_suff = tk_malloc(nm * c, sizeof *r->faith_suff, err);
    if (!r->faith_curve || !r->faith_random || !r->faith_aopc || !r->faith_comp ||
        !r->faith_suff)
        return TK_E_NOMEM; /* the caller frees r */
    return TK_OK;
}
