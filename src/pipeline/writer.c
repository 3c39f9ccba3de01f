/* Results file writer (writer.h). Every HDF5 call is checked; a failure
 * names the file, the object and the source line. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/writer.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/h5.h"
#include "core/results_schema.h"

/* HDF5 chunk of the 1-D datasets: large enough for deflate to pay, small
 * enough that a work unit's write touches one or two chunks. */
enum { CHUNK_ELEMS = 16384, DEFLATE_LEVEL = 1 };

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

/* ---- the results fields (writer.h "results regions") ---------------------
 * Every dataset a work unit fills, one row each: tk_writer_create and
 * tk_writer_open_resume make or open them from here, tk_writer_put and the
 * ranks writer (slab_writer.c, through tk_writer_regions and
 * tk_result_slab_of) write them from here. */
typedef enum field_id {
    F_PROB, F_PREDICTED, F_PRED_TARGET, F_SCORE, F_PADDING_SCORE, F_AXIOM_ERROR, F_F_INPUT,
    F_F_BASELINE, F_TARGET, F_STEPS, F_ERROR_ESTIMATE, F_CURVE, F_RANDOM_CURVE, F_AOPC,
    F_COMPREHENSIVENESS, F_SUFFICIENCY
} field_id;

typedef enum field_group { G_PREDICTIONS, G_ATTRIBUTIONS, G_FAITHFULNESS, G_N } field_group;
typedef enum field_cols { C_NONE, C_CLASSES, C_K1 } field_cols;
/* When a field is written: always; when the job has methods (the dataset
 * exists anyway: /predictions/target is the first method's); for the
 * methods that report integrand evaluations / an error estimate. */
typedef enum field_when { W_ALWAYS, W_METHODS, W_STEPS, W_ESTIMATE } field_when;

typedef struct result_field {
    field_id id;
    field_group group;
    const char *name; /* G_PREDICTIONS: the path; else the name under <group>/<method>/ */
    tk_result_type type;
    field_cols cols;
    field_when when;
    bool by_token;    /* rows are tokens (T), else reviews (N) */
} result_field;

static const result_field FIELDS[] = {
    {F_PROB, G_PREDICTIONS, TK_RS_PROB, TK_RT_F32, C_CLASSES, W_ALWAYS, false},
    {F_PREDICTED, G_PREDICTIONS, TK_RS_PREDICTED, TK_RT_I32, C_NONE, W_ALWAYS, false},
    {F_PRED_TARGET, G_PREDICTIONS, TK_RS_TARGET, TK_RT_I32, C_NONE, W_METHODS, false},
    {F_SCORE, G_ATTRIBUTIONS, TK_RS_M_SCORE, TK_RT_F32, C_NONE, W_ALWAYS, true},
    {F_PADDING_SCORE, G_ATTRIBUTIONS, TK_RS_M_PADDING_SCORE, TK_RT_F32, C_NONE, W_ALWAYS, false},
    {F_AXIOM_ERROR, G_ATTRIBUTIONS, TK_RS_M_AXIOM_ERROR, TK_RT_F64, C_NONE, W_ALWAYS, false},
    {F_F_INPUT, G_ATTRIBUTIONS, TK_RS_M_F_INPUT, TK_RT_F64, C_NONE, W_ALWAYS, false},
    {F_F_BASELINE, G_ATTRIBUTIONS, TK_RS_M_F_BASELINE, TK_RT_F64, C_NONE, W_ALWAYS, false},
    {F_TARGET, G_ATTRIBUTIONS, TK_RS_M_TARGET, TK_RT_I32, C_NONE, W_ALWAYS, false},
    {F_STEPS, G_ATTRIBUTIONS, TK_RS_M_STEPS, TK_RT_I32, C_NONE, W_STEPS, false},
    {F_ERROR_ESTIMATE, G_ATTRIBUTIONS, TK_RS_M_ERROR_ESTIMATE, TK_RT_F64, C_NONE, W_ESTIMATE,
     false},
    {F_CURVE, G_FAITHFULNESS, TK_RS_F_CURVE, TK_RT_F32, C_K1, W_ALWAYS, false},
    {F_RANDOM_CURVE, G_FAITHFULNESS, TK_RS_F_RANDOM_CURVE, TK_RT_F32, C_K1, W_ALWAYS, false},
    {F_AOPC, G_FAITHFULNESS, TK_RS_F_AOPC, TK_RT_F32, C_NONE, W_ALWAYS, false},
    {F_COMPREHENSIVENESS, G_FAITHFULNESS, TK_RS_F_COMPREHENSIVENESS, TK_RT_F32, C_NONE, W_ALWAYS,
     false},
    {F_SUFFICIENCY, G_FAITHFULNESS, TK_RS_F_SUFFICIENCY, TK_RT_F32, C_NONE, W_ALWAYS, false},
};
enum { N_FIELDS = (int)(sizeof FIELDS / sizeof FIELDS[0]) };

/* The array of r that field id comes from: (n_methods, rows, cols) for a
 * method's field, (rows, cols) for /predictions. */
static const void *field_data(const tk_chunk_result *r, int id)
{
    switch ((field_id)id) {
    case F_PROB: return r->prob;
    case F_PREDICTED: return r->predicted;
    case F_PRED_TARGET: return r->target; /* the first method's rows */
    case F_SCORE: return r->score;
    case F_PADDING_SCORE: return r->padding_score;
    case F_AXIOM_ERROR: return r->axiom_error;
    case F_F_INPUT: return r->f_input;
    case F_F_BASELINE: return r->f_baseline;
    case F_TARGET: return r->target;
    case F_STEPS: return r->steps;
    case F_ERROR_ESTIMATE: return r->error_estimate;
    case F_CURVE: return r->faith_curve;
    case F_RANDOM_CURVE: return r->faith_random;
    case F_AOPC: return r->faith_aopc;
    case F_COMPREHENSIVENESS: return r->faith_comp;
    case F_SUFFICIENCY: return r->faith_suff;
    }
    return NULL;
}

static hid_t file_type(tk_result_type t)
{
    return t == TK_RT_F32 ? H5T_IEEE_F32LE : t == TK_RT_F64 ? H5T_IEEE_F64LE : H5T_STD_I32LE;
}

static hid_t mem_type(tk_result_type t)
{
    return t == TK_RT_F32 ? H5T_NATIVE_FLOAT : t == TK_RT_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32;
}

tk_status tk_result_slab_of(const tk_result_region *g, const tk_chunk_result *r, int64_t t0,
                            tk_result_slab *s, tk_error *err)
{
    int64_t per = g->cols > 0 ? g->cols : 1;
    s->rows = g->by_token ? r->tc : r->count;
    s->row0 = g->by_token ? t0 : r->first;
    s->row_bytes = per * g->elem_size;
    const unsigned char *base = field_data(r, g->field);
    bool k1_ok = !(g->field == F_CURVE || g->field == F_RANDOM_CURVE) || r->faith_k1 == g->cols;
    if (s->row0 < 0 || s->rows < 0 || s->row0 + s->rows > g->rows || !base || !k1_ok ||
        (s->rows > 0 && g->offset < 0) || g->method >= r->n_methods)
        return tk_error_set(err, TK_E_INTERNAL,
                            "a chunk result (reviews %lld..%lld) does not fit results field %d "
                            "of method %d",
                            (long long)r->first, (long long)(r->first + r->count), g->field,
                            g->method);
    int64_t k = g->method < 0 ? 0 : g->method;
    s->data = base + k * s->rows * s->row_bytes;
    return TK_OK;
}

/* A region's HDF5 side, on this handle only. */
typedef struct region_handle {
    hid_t d;
    char name[320];
} region_handle;

struct tk_writer {
    char path[4096];
    hid_t file;
    int64_t n, t;
    int n_classes, n_methods;
    const int64_t *token_offset; /* (n + 1), the caller's (alive until close) */
    hid_t done;
    int faith_k1;    /* K + 1, or 0 without /faithfulness */
    tk_result_region *reg; /* (n_reg) the results regions: FIELDS per group and method */
    region_handle *rh;     /* (n_reg) */
    int n_reg;
    bool released;   /* tk_writer_release_results: no results dataset open */
    range *pending;  /* written since the last checkpoint */
    int n_pending, cap_pending;
    /* a streamed layout's datasets (LAYOUT_SETS), open from its first block
     * to its last: their chunk caches keep a partly filled chunk between
     * blocks, so that small blocks cost no more than large ones */
    hid_t lay[9];
    int64_t lay_text; /* bytes of /tokens/word_text written so far */
};

/* A streamed layout's datasets, in tk_writer.lay's order. */
enum { L_REVIEW_ID, L_LABEL, L_RATING, L_TRUNCATED, L_DOC_ID, L_TOKEN_ID, L_WORD_POS,
       L_WORD_OFFSET, L_WORD_TEXT, L_N };
static const char *const LAYOUT_SETS[L_N] = {
    TK_RS_REVIEW_ID,   TK_RS_REVIEW_LABEL,  TK_RS_REVIEW_RATING,      TK_RS_REVIEW_TRUNCATED,
    TK_RS_REVIEW_DOC_ID, TK_RS_TOKEN_ID,    TK_RS_TOKEN_WORD_POS,     TK_RS_TOKEN_WORD_OFFSET,
    TK_RS_TOKEN_WORD_TEXT};
_Static_assert(sizeof LAYOUT_SETS / sizeof LAYOUT_SETS[0] == sizeof((struct tk_writer *)0)->lay /
                                                              sizeof(hid_t),
               "one handle per streamed layout dataset");

static const char *TARGET_NAMES[] = {"predicted", "label", "class"};
static const char *OUTPUT_NAMES[] = {"prob", "logit"};
static const char *REDUCE_NAMES[] = {"sum", "l2"};
static const char *RULE_NAMES[] = {"gausslegendre",  "riemann_left",      "riemann_right",
                                   "riemann_middle", "riemann_trapezoid", "adaptive"};
static const char *BASELINE_NAMES[] = {"pad", "zeros", "oov", "token"};

/* A fresh run nonce (TK_RS_ATTR_RUN_NONCE) into buf (TK_RS_RUN_NONCE_LEN + 1):
 * the kernel's random bytes, or, where getrandom fails, the time and pid
 * (unique enough to tell this start from a copy made before it). */
static void run_nonce(char *buf)
{
    unsigned char b[TK_RS_RUN_NONCE_LEN / 2];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v[2] = {(uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                         (uint64_t)getpid()};
        memcpy(b, v, sizeof b);
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(buf + 2 * i, 3, "%02x", b[i]);
}

static void utc_now(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A 1-D or 2-D dataset: chunked + shuffle + deflate when it has elements
 * and compress is set, else contiguous with its space allocated now.
 *
 * Only datasets written before any review is marked done (the layout) are
 * compressed. A dataset that work units write into later is contiguous:
 * HDF5 rewrites a compressed chunk at a new address when its size changes
 * and may hand the old address, which the file on disk still points to, to
 * the next chunk it writes; a kill -9 before the next flush completed left
 * chunks that no longer inflated (tests/it_run_kill_hdf5.sh). A contiguous
 * dataset allocated at creation is written in place: after the creation
 * flush no write changes the file's metadata, so a kill at any moment
 * leaves every flushed unit intact. It also keeps the layout open to
 * independent parallel writes (INFRA.md: those fail on filtered datasets). */
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
        /* level 1: the layout is written while the work runs, and 4 costs
         * twice its time for a file 8% smaller */
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
            H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0)
            goto done;
    } else if (H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0) {
        goto done;
    }
    d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
done:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return d;
}

/* A 1-D dataset of no rows that grows as it is written (a streamed
 * layout's words, whose size the layout pass does not count). */
static hid_t make_growing(hid_t loc, const char *name, hid_t type)
{
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {CHUNK_ELEMS};
    hid_t space = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0 &&
        H5Pset_deflate(dcpl, DEFLATE_LEVEL) >= 0)
        d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return d;
}

static hid_t make_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                        int64_t rows, int cols, const void *buf)
{
    hid_t d = make_dset(loc, name, file_type, rows, cols, true);
    if (d < 0)
        return d;
    if (buf && tk_h5_write_rows(d, mem_type, 0, rows, cols, buf) < 0) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

static herr_t method_attrs(hid_t g, const tk_method_params *p)
{
    herr_t rc = 0;
    rc |= tk_h5_attr_str(g, "method", tk_method_kind_name(p->kind));
    rc |= tk_h5_attr_str(g, "target", TARGET_NAMES[p->target]);
    rc |= tk_h5_attr_num(g, "target_class", H5T_NATIVE_INT, &p->target_class);
    /* LRP starts from the logit whatever the job's output says: the file
     * states what the scores are of */
    rc |= tk_h5_attr_str(g, "output",
                   p->kind == TK_METHOD_LRP_EPSILON ? "logit" : OUTPUT_NAMES[p->output]);
    rc |= tk_h5_attr_str(g, "reduction", REDUCE_NAMES[p->reduce]);
    rc |= tk_h5_attr_num(g, "n_steps", H5T_NATIVE_INT, &p->n_steps);
    rc |= tk_h5_attr_str(g, "rule", RULE_NAMES[p->rule]);
    rc |= tk_h5_attr_str(g, "baseline", BASELINE_NAMES[p->baseline]);
    rc |= tk_h5_attr_num(g, "baseline_token", H5T_NATIVE_INT, &p->baseline_token);
    rc |= tk_h5_attr_num(g, "window", H5T_NATIVE_INT, &p->window);
    rc |= tk_h5_attr_num(g, "background_size", H5T_NATIVE_INT, &p->background_size);
    int random = p->background_random;
    rc |= tk_h5_attr_num(g, "background_random", H5T_NATIVE_INT, &random);
    rc |= tk_h5_attr_num(g, "seed", H5T_NATIVE_UINT64, &p->seed);
    rc |= tk_h5_attr_num(g, "eps", H5T_NATIVE_DOUBLE, &p->eps);
    rc |= tk_h5_attr_num(g, "bias_factor", H5T_NATIVE_DOUBLE, &p->bias_factor);
    if (has_estimate(p)) {
        rc |= tk_h5_attr_num(g, "tolerance", H5T_NATIVE_DOUBLE, &p->tolerance);
        rc |= tk_h5_attr_num(g, "max_steps", H5T_NATIVE_INT, &p->max_steps);
    }
    return rc < 0 ? -1 : 0;
}

static void close_results(tk_writer *w)
{
    for (int i = 0; w->rh && i < w->n_reg; i++)
        if (w->rh[i].d >= 0) {
            H5Dclose(w->rh[i].d);
            w->rh[i].d = H5I_INVALID_HID;
        }
}

static void close_layout(tk_writer *w)
{
    for (int k = 0; k < L_N; k++)
        if (w->lay[k] >= 0) {
            H5Dclose(w->lay[k]);
            w->lay[k] = H5I_INVALID_HID;
        }
}

static void close_all(tk_writer *w)
{
    close_results(w);
    close_layout(w);
    if (w->done >= 0) {
        H5Dclose(w->done);
        w->done = H5I_INVALID_HID;
    }
    if (w->file >= 0) {
        H5Fclose(w->file);
        w->file = H5I_INVALID_HID;
    }
}

/* Whether field f exists for method mp (NULL for /predictions), and
 * whether units write it. */
static bool field_written(const result_field *f, const tk_writer_layout *L,
                          const tk_method_params *mp)
{
    switch (f->when) {
    case W_ALWAYS: return true;
    case W_METHODS: return L->n_methods > 0;
    case W_STEPS: return has_steps(mp);
    case W_ESTIMATE: return has_estimate(mp);
    }
    return false;
}

static int64_t dset_len(hid_t d, int want_rank, hsize_t *second);

/* Makes (create) or opens and checks (resume) the results datasets, group
 * by group and method by method in FIELDS order, and fills the region
 * table. Creating makes the groups and their attributes on the way. */
static tk_status results_dsets(tk_writer *w, const tk_writer_layout *L, bool create, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t g = H5I_INVALID_HID, d = H5I_INVALID_HID;
    static const char *GROUPS[G_N] = {TK_RS_PREDICTIONS, TK_RS_ATTRIBUTIONS, TK_RS_FAITHFULNESS};
    for (int grp = 0; grp < G_N; grp++) {
        if (grp == G_FAITHFULNESS && !L->faith)
            break;
        if (create) {
            TK_H5_CHECK(g = H5Gcreate2(w->file, GROUPS[grp], H5P_DEFAULT, H5P_DEFAULT,
                                       H5P_DEFAULT),
                        w->path, "create a results group");
            if (grp == G_FAITHFULNESS) {
                const char *replace = L->faith->mode == TK_FAITH_REMOVE ? "remove" : "pad";
                TK_H5_CHECK(tk_h5_attr_num(g, "k", H5T_NATIVE_INT, &L->faith->k_max), w->path,
                            "write /faithfulness attributes");
                TK_H5_CHECK(tk_h5_attr_str(g, "replace", replace), w->path,
                            "write /faithfulness attributes");
                TK_H5_CHECK(tk_h5_attr_num(g, "seed", H5T_NATIVE_UINT64, &L->faith->seed),
                            w->path, "write /faithfulness attributes");
            }
        }
        int k_end = grp == G_PREDICTIONS ? 0 : L->n_methods;
        for (int k = grp == G_PREDICTIONS ? -1 : 0; k < k_end; k++) {
            const tk_method_params *mp = k >= 0 ? &L->methods[k] : NULL;
            if (create && mp) {
                hid_t mg;
                TK_H5_CHECK(mg = H5Gcreate2(g, mp->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            w->path, "create a method group");
                herr_t rc = grp == G_ATTRIBUTIONS ? method_attrs(mg, mp) : 0;
                H5Gclose(mg);
                TK_H5_CHECK(rc, w->path, "write a method's attributes");
            }
            for (int i = 0; i < N_FIELDS; i++) {
                const result_field *f = &FIELDS[i];
                if ((int)f->group != grp ||
                    !(field_written(f, L, mp) || f->when == W_METHODS))
                    continue;
                region_handle *h = &w->rh[w->n_reg];
                tk_result_region *r = &w->reg[w->n_reg];
                if (mp)
                    snprintf(h->name, sizeof h->name, "%s/%s/%s", GROUPS[grp], mp->name, f->name);
                else
                    snprintf(h->name, sizeof h->name, "%s", f->name);
                int cols = f->cols == C_CLASSES ? L->n_classes : f->cols == C_K1 ? w->faith_k1 : 0;
                int64_t rows = f->by_token ? w->t : w->n;
                if (create) {
                    d = make_dset(w->file, h->name, file_type(f->type), rows, cols, false);
                    TK_H5_CHECK(d, w->path, "create a results dataset");
                } else {
                    hsize_t c2 = 0;
                    d = H5Dopen2(w->file, h->name, H5P_DEFAULT);
                    if (d < 0 || dset_len(d, cols > 0 ? 2 : 1, &c2) != rows ||
                        (cols > 0 && c2 != (hsize_t)cols)) {
                        st = tk_error_set(err, TK_E_FORMAT,
                                          "%s: cannot resume: %s is missing or has another "
                                          "shape than this job needs",
                                          w->path, h->name);
                        goto fail;
                    }
                }
                if (!field_written(f, L, mp)) {
                    H5Dclose(d);
                    d = H5I_INVALID_HID;
                    continue;
                }
                haddr_t a = H5Dget_offset(d);
                *r = (tk_result_region){.offset = a == HADDR_UNDEF ? -1 : (int64_t)a,
                                        .rows = rows,
                                        .field = f->id,
                                        .method = k,
                                        .type = f->type,
                                        .cols = cols,
                                        .by_token = f->by_token,
                                        .elem_size = f->type == TK_RT_F64 ? 8 : 4};
                if (rows > 0 && r->offset < 0) {
                    st = tk_error_set(err, TK_E_FORMAT,
                                      "%s: %s has no contiguous storage allocated in the file",
                                      w->path, h->name);
                    goto fail;
                }
                h->d = d;
                d = H5I_INVALID_HID;
                w->n_reg++;
            }
        }
        if (g >= 0)
            H5Gclose(g);
        g = H5I_INVALID_HID;
    }
    return TK_OK;
fail:
    if (d >= 0)
        H5Dclose(d);
    if (g >= 0)
        H5Gclose(g);
    return st;
}

static tk_writer *writer_new(const char *path, const tk_writer_layout *layout, tk_error *err)
{
    tk_writer *w = tk_calloc(1, sizeof *w, err);
    if (!w)
        return NULL;
    snprintf(w->path, sizeof w->path, "%s", path);
    w->file = w->done = H5I_INVALID_HID;
    for (int k = 0; k < L_N; k++)
        w->lay[k] = H5I_INVALID_HID;
    w->n = layout->n;
    w->t = layout->token_offset[layout->n];
    w->n_classes = layout->n_classes;
    w->n_methods = layout->n_methods;
    w->token_offset = layout->token_offset;
    w->faith_k1 = layout->faith ? layout->faith->k_max + 1 : 0;
    size_t cap = 0;
    for (int grp = 0; grp < G_N; grp++)
        for (int i = 0; i < N_FIELDS; i++)
            cap += FIELDS[i].group != (field_group)grp ? 0
                   : grp == G_PREDICTIONS             ? 1
                                                      : (size_t)layout->n_methods;
    w->reg = tk_calloc(cap > 0 ? cap : 1, sizeof *w->reg, err);
    w->rh = tk_calloc(cap > 0 ? cap : 1, sizeof *w->rh, err);
    if (!w->reg || !w->rh) {
        free(w->reg);
        free(w->rh);
        free(w);
        return NULL;
    }
    for (size_t i = 0; i < cap; i++)
        w->rh[i].d = H5I_INVALID_HID;
    /* Library code does not print: each failure becomes one sentence instead. */
    tk_h5_quiet();
    return w;
}

static void writer_free(tk_writer *w)
{
    if (!w)
        return;
    close_all(w);
    free(w->reg);
    free(w->rh);
    free(w->pending);
    free(w);
}

/* A SHA-256 attribute sized for 64 hex digits, so that an empty one can be
 * filled in place later; NULL writes none. */
static herr_t attr_digest(hid_t obj, const char *name, const char *hex)
{
    return hex ? tk_h5_attr_str_sized(obj, name, hex, 65) : 0;
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
    /* first, so that it sits in the root group's first header block, among
     * the bytes the ranks writer's proof hashes; filled at release */
    TK_H5_CHECK(tk_h5_attr_str_sized(w->file, TK_RS_ATTR_RUN_NONCE, "", TK_RS_RUN_NONCE_LEN + 1),
                w->path, "write attributes");
    TK_H5_CHECK(tk_h5_attr_str(w->file, "tokattr_version", TOKATTR_VERSION), w->path,
                "write attributes");
    TK_H5_CHECK(tk_h5_attr_str(w->file, "command_line", meta->command_line), w->path,
                "write attributes");
    TK_H5_CHECK(tk_h5_attr_str(w->file, "job", meta->job_yaml), w->path, "write attributes");
    TK_H5_CHECK(tk_h5_attr_str(w->file, "model_path", meta->model_path), w->path,
                "write attributes");
    /* a digest's size whether given or "" (tk_writer_set_digests fills it);
     * none when the caller has none (NULL) */
    TK_H5_CHECK(attr_digest(w->file, "model_sha256", meta->model_sha256), w->path,
                "write attributes");
    TK_H5_CHECK(tk_h5_attr_str(w->file, "dataset_path", meta->dataset_path), w->path,
                "write attributes");
    TK_H5_CHECK(attr_digest(w->file, "dataset_sha256", meta->dataset_sha256), w->path,
                "write attributes");
    TK_H5_CHECK(tk_h5_attr_str(w->file, "split", meta->split), w->path, "write attributes");
    TK_H5_CHECK(tk_h5_attr_num(w->file, "ranks", H5T_NATIVE_INT, &meta->ranks), w->path,
                "write attributes");
    TK_H5_CHECK(tk_h5_attr_str(w->file, "start_time", now), w->path, "write attributes");
    /* made with room for the time, so that closing rewrites its bytes in
     * place: deleting and re-creating it moved the root group's header into
     * a new block, a metadata change a kill in the final flush could tear */
    TK_H5_CHECK(tk_h5_attr_str_sized(w->file, "finish_time", "", sizeof "2026-01-01T00:00:00Z"),
                w->path, "write attributes");

    TK_H5_CHECK(g = H5Gcreate2(w->file, TK_RS_REVIEWS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                w->path,
                "create " TK_RS_REVIEWS);
    H5Gclose(g);
    g = H5I_INVALID_HID;
    TK_H5_CHECK(d = make_write(w->file, TK_RS_REVIEW_INDEX, H5T_STD_I64LE, H5T_NATIVE_INT64, L->n,
                               0, L->index),
                w->path, "write " TK_RS_REVIEW_INDEX);
    H5Dclose(d);
    TK_H5_CHECK(d = make_write(w->file, TK_RS_REVIEW_ID, H5T_STD_I32LE, H5T_NATIVE_INT32, L->n, 0,
                               L->review_id),
                w->path, "write " TK_RS_REVIEW_ID);
    H5Dclose(d);
    TK_H5_CHECK(d = make_write(w->file, TK_RS_REVIEW_LABEL, H5T_STD_I32LE, H5T_NATIVE_INT32, L->n,
                               0, L->label),
                w->path, "write " TK_RS_REVIEW_LABEL);
    H5Dclose(d);
    TK_H5_CHECK(d = make_write(w->file, TK_RS_REVIEW_RATING, H5T_STD_I32LE, H5T_NATIVE_INT32, L->n,
                               0, L->rating),
                w->path, "write " TK_RS_REVIEW_RATING);
    H5Dclose(d);
    TK_H5_CHECK(d = make_write(w->file, TK_RS_TOKEN_OFFSET, H5T_STD_I64LE, H5T_NATIVE_INT64,
                               L->n + 1, 0, L->token_offset),
                w->path, "write " TK_RS_TOKEN_OFFSET);
    H5Dclose(d);
    d = H5I_INVALID_HID;
    if (L->truncated || L->streamed) {
        TK_H5_CHECK(d = make_write(w->file, TK_RS_REVIEW_TRUNCATED, H5T_STD_I32LE, H5T_NATIVE_INT32,
                                   L->n, 0, L->truncated),
                    w->path, "write " TK_RS_REVIEW_TRUNCATED);
        TK_H5_CHECK(tk_h5_attr_str(d, "truncating", L->truncating_post ? "post" : "pre"), w->path,
                    "write " TK_RS_REVIEW_TRUNCATED " attributes");
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
    TK_H5_CHECK(strtype = H5Tcopy(H5T_C_S1), w->path, "make a string type");
    TK_H5_CHECK(H5Tset_size(strtype, H5T_VARIABLE), w->path, "make a string type");
    TK_H5_CHECK(H5Tset_cset(strtype, H5T_CSET_UTF8), w->path, "make a string type");
    if (L->doc_id || L->streamed) {
        TK_H5_CHECK(
            d = make_write(w->file, TK_RS_REVIEW_DOC_ID, strtype, strtype, L->n, 0, L->doc_id),
            w->path,
            "write " TK_RS_REVIEW_DOC_ID);
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }

    TK_H5_CHECK(g = H5Gcreate2(w->file, TK_RS_TOKENS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                w->path,
                "create " TK_RS_TOKENS);
    TK_H5_CHECK(tk_h5_attr_num(g, TK_RS_TOKEN_ATTR_PAD, H5T_NATIVE_INT32, &L->pad_id), w->path,
                "write /tokens attributes");
    TK_H5_CHECK(tk_h5_attr_num(g, TK_RS_TOKEN_ATTR_START, H5T_NATIVE_INT32, &L->start_id), w->path,
                "write /tokens attributes");
    TK_H5_CHECK(tk_h5_attr_num(g, TK_RS_TOKEN_ATTR_OOV, H5T_NATIVE_INT32, &L->oov_id), w->path,
                "write /tokens attributes");
    H5Gclose(g);
    g = H5I_INVALID_HID;
    TK_H5_CHECK(d = make_write(w->file, TK_RS_TOKEN_ID, H5T_STD_I32LE, H5T_NATIVE_INT32, w->t, 0,
                               L->token_id),
                w->path, "write " TK_RS_TOKEN_ID);
    H5Dclose(d);
    TK_H5_CHECK(d = make_write(w->file, TK_RS_TOKEN_WORD_POS, H5T_STD_I32LE, H5T_NATIVE_INT32, w->t,
                               0, L->word_pos),
                w->path, "write " TK_RS_TOKEN_WORD_POS);
    H5Dclose(d);
    d = H5I_INVALID_HID;
    if (L->token_word_offset || L->streamed) {
        TK_H5_CHECK(d = make_write(w->file, TK_RS_TOKEN_WORD_OFFSET, H5T_STD_I64LE,
                                   H5T_NATIVE_INT64, w->t + 1, 0, L->token_word_offset),
                    w->path, "write " TK_RS_TOKEN_WORD_OFFSET);
        H5Dclose(d);
        if (L->streamed)
            TK_H5_CHECK(d = make_growing(w->file, TK_RS_TOKEN_WORD_TEXT, H5T_STD_U8LE), w->path,
                        "create " TK_RS_TOKEN_WORD_TEXT);
        else
            TK_H5_CHECK(d = make_write(w->file, TK_RS_TOKEN_WORD_TEXT, H5T_STD_U8LE,
                                       H5T_NATIVE_UINT8, L->token_word_offset[w->t], 0,
                                       L->token_word_text),
                        w->path, "write " TK_RS_TOKEN_WORD_TEXT);
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
    if (L->class_names && L->n_class_names > 0) {
        TK_H5_CHECK(g = H5Gcreate2(w->file, TK_RS_CLASSES, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    w->path,
                    "create " TK_RS_CLASSES);
        H5Gclose(g);
        g = H5I_INVALID_HID;
        TK_H5_CHECK(d = make_write(w->file, TK_RS_CLASS_NAME, strtype, strtype, L->n_class_names, 0,
                                   L->class_names),
                    w->path, "write " TK_RS_CLASS_NAME);
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }

    if ((st = results_dsets(w, L, true, err)) != TK_OK)
        goto fail;

    if (L->vocab && L->vocab_size > 0) {
        TK_H5_CHECK(g = H5Gcreate2(w->file, TK_RS_VOCAB, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    w->path,
                    "create " TK_RS_VOCAB);
        TK_H5_CHECK(d = make_dset(w->file, TK_RS_VOCAB_WORD, strtype, L->vocab_size, 0, false),
                    w->path,
                    "create " TK_RS_VOCAB_WORD);
        TK_H5_CHECK(H5Dwrite(d, strtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, L->vocab), w->path,
                    "write /vocab/word");
        H5Dclose(d);
        d = H5I_INVALID_HID;
        H5Gclose(g);
    }

    /* /progress/done: contiguous and uncompressed, so marking a chunk done
     * rewrites a few bytes in place and never moves data. */
    TK_H5_CHECK(g = H5Gcreate2(w->file, TK_RS_PROGRESS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                w->path,
                "create " TK_RS_PROGRESS);
    TK_H5_CHECK(w->done = make_dset(w->file, TK_RS_DONE, H5T_STD_U8LE, L->n, 0, false), w->path,
                "create " TK_RS_DONE);
    zeros = tk_calloc((size_t)(L->n > 0 ? L->n : 1), 1, err);
    if (!zeros) {
        st = TK_E_NOMEM;
        goto fail;
    }
    TK_H5_CHECK(tk_h5_write_rows(w->done, H5T_NATIVE_UINT8, 0, L->n, 0, zeros), w->path,
                "write /progress/done");
    H5Gclose(g);
    g = H5I_INVALID_HID;
    TK_H5_CHECK(H5Fflush(w->file, H5F_SCOPE_GLOBAL), w->path, "flush");
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
    char *have = tk_h5_attr_read_str(file, attr);
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

    w->done = H5Dopen2(w->file, TK_RS_DONE, H5P_DEFAULT);
    if (w->done < 0 || dset_len(w->done, 1, NULL) != L->n) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: cannot resume: /progress/done is missing or has another shape "
                          "than this job needs",
                          path);
        goto fail;
    }
    if ((st = results_dsets(w, L, false, err)) != TK_OK)
        goto fail;
    TK_H5_CHECK(H5Dread(w->done, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done), w->path,
                "read /progress/done");
    *out = w;
    return TK_OK;
fail:
    writer_free(w);
    return st;
}

/* Rows [first, first + count) of the dataset at name (opened for the call). */
/* Rows [first, first + count) of the streamed layout's dataset k, opened at
 * its first block; the words grow to take theirs. */
static herr_t layout_write(tk_writer *w, int k, hid_t mem_type, int64_t first, int64_t count,
                           const void *buf)
{
    if (w->lay[k] < 0 && (w->lay[k] = H5Dopen2(w->file, LAYOUT_SETS[k], H5P_DEFAULT)) < 0)
        return -1;
    if (k == L_WORD_TEXT) {
        if (first != w->lay_text)
            return -1; /* the words come in file order */
        hsize_t size[1] = {(hsize_t)(first + count)};
        if (H5Dset_extent(w->lay[k], size) < 0)
            return -1;
        w->lay_text = first + count;
    }
    return count > 0 ? tk_h5_write_rows(w->lay[k], mem_type, first, count, 0, buf) : 0;
}

tk_status tk_writer_put_layout(tk_writer *w, const tk_writer_layout_block *b, tk_error *err)
{
    tk_status st = TK_OK;
    hid_t strtype = H5I_INVALID_HID;
    if (b->first < 0 || b->count < 1 || b->first + b->count > w->n)
        return tk_error_set(err, TK_E_INTERNAL, "%s: a layout block does not fit the file", w->path);
    int64_t t0 = w->token_offset[b->first], tc = w->token_offset[b->first + b->count] - t0;
    int64_t w0 = b->token_word_offset[0], wc = b->token_word_offset[tc] - w0;
    const struct {
        int k;
        hid_t mem;
        int64_t first, count;
        const void *buf;
    } rows[] = {
        {L_REVIEW_ID, H5T_NATIVE_INT32, b->first, b->count, b->review_id},
        {L_LABEL, H5T_NATIVE_INT32, b->first, b->count, b->label},
        {L_RATING, H5T_NATIVE_INT32, b->first, b->count, b->rating},
        {L_TRUNCATED, H5T_NATIVE_INT32, b->first, b->count, b->truncated},
        {L_DOC_ID, H5I_INVALID_HID, b->first, b->count, b->doc_id},
        {L_TOKEN_ID, H5T_NATIVE_INT32, t0, tc, b->token_id},
        {L_WORD_POS, H5T_NATIVE_INT32, t0, tc, b->word_pos},
        {L_WORD_OFFSET, H5T_NATIVE_INT64, t0, tc + 1, b->token_word_offset},
        {L_WORD_TEXT, H5T_NATIVE_UINT8, w0, wc, b->token_word_text},
    };
    TK_H5_CHECK(strtype = H5Tcopy(H5T_C_S1), w->path, "make a string type");
    TK_H5_CHECK(H5Tset_size(strtype, H5T_VARIABLE), w->path, "make a string type");
    TK_H5_CHECK(H5Tset_cset(strtype, H5T_CSET_UTF8), w->path, "make a string type");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        hid_t mem = rows[i].k == L_DOC_ID ? strtype : rows[i].mem;
        if (layout_write(w, rows[i].k, mem, rows[i].first, rows[i].count, rows[i].buf) < 0) {
            st = tk_error_set(err, TK_E_IO, "%s: HDF5 failed to write %s", w->path,
                              LAYOUT_SETS[rows[i].k]);
            goto fail;
        }
    }
    H5Tclose(strtype);
    strtype = H5I_INVALID_HID;
    /* HDF5 keeps freed buffers on its own free lists, one per size, and
     * every block has its own sizes: without this its memory grows with
     * the number of blocks, i.e. with the corpus */
    H5garbage_collect();
    /* the last block: the layout is complete, on disk before any mark */
    if (b->first + b->count == w->n) {
        close_layout(w);
        TK_H5_CHECK(H5Fflush(w->file, H5F_SCOPE_GLOBAL), w->path, "flush");
    }
    return TK_OK;
fail:
    if (strtype >= 0)
        H5Tclose(strtype);
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
    if (w->released)
        return tk_error_set(err, TK_E_INTERNAL,
                            "%s: the results datasets are written by the ranks writer", w->path);
    int64_t t0 = w->token_offset[r->first];
    for (int i = 0; i < w->n_reg; i++) {
        tk_result_slab s;
        char what[340];
        if ((st = tk_result_slab_of(&w->reg[i], r, t0, &s, err)) != TK_OK)
            return st;
        snprintf(what, sizeof what, "write %s", w->rh[i].name);
        TK_H5_CHECK(tk_h5_write_rows(w->rh[i].d, mem_type(w->reg[i].type), s.row0, s.rows,
                                     w->reg[i].cols, s.data),
                    w->path, what);
    }
    return tk_writer_mark(w, r->first, r->count, err);
fail:
    return st;
}

tk_status tk_writer_mark(tk_writer *w, int64_t first, int64_t count, tk_error *err)
{
    if (first < 0 || count < 1 || first + count > w->n)
        return tk_error_set(err, TK_E_INTERNAL, "%s: reviews %lld..%lld are not in the file",
                            w->path, (long long)first, (long long)(first + count));
    if (w->n_pending == w->cap_pending) {
        int cap = w->cap_pending ? 2 * w->cap_pending : 16;
        range *p = realloc(w->pending, (size_t)cap * sizeof *p);
        if (!p)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", w->path);
        w->pending = p;
        w->cap_pending = cap;
    }
    w->pending[w->n_pending++] = (range){first, count};
    return TK_OK;
}

const tk_result_region *tk_writer_regions(const tk_writer *w, int *n)
{
    *n = w->n_reg;
    return w->reg;
}

tk_status tk_writer_release_results(tk_writer *w, tk_error *err)
{
    tk_status st = TK_OK;
    /* this start's nonce, so that the proof rank 0 takes next is of this
     * run's file, not of any copy made earlier (written in place) */
    char nonce[TK_RS_RUN_NONCE_LEN + 1];
    run_nonce(nonce);
    TK_H5_CHECK(tk_h5_attr_str_overwrite(w->file, TK_RS_ATTR_RUN_NONCE, nonce), w->path,
                "write attributes");
    /* whatever HDF5 holds for them reaches the file now, before any other
     * process writes there; then their handles (and sieve buffers) go */
    TK_H5_CHECK(H5Fflush(w->file, H5F_SCOPE_GLOBAL), w->path, "flush");
    close_results(w);
    w->released = true;
    return TK_OK;
fail:
    return st;
}

tk_status tk_writer_set_digests(tk_writer *w, const char *model_sha256,
                                const char *dataset_sha256, tk_error *err)
{
    if (tk_h5_attr_str_overwrite(w->file, "model_sha256", model_sha256) < 0 ||
        tk_h5_attr_str_overwrite(w->file, "dataset_sha256", dataset_sha256) < 0)
        return tk_error_set(err, TK_E_IO, "%s: HDF5 failed to write the inputs' SHA-256",
                            w->path);
    return TK_OK;
}

tk_status tk_writer_checkpoint(tk_writer *w, tk_error *err)
{
    tk_status st = TK_OK;
    if (w->n_pending == 0)
        return TK_OK;
    /* The data must be on disk before the marks that promise it. */
    TK_H5_CHECK(H5Fflush(w->file, H5F_SCOPE_GLOBAL), w->path, "flush");
    uint8_t ones[256];
    memset(ones, 1, sizeof ones);
    for (int i = 0; i < w->n_pending; i++) {
        for (int64_t o = 0; o < w->pending[i].count; o += (int64_t)sizeof ones) {
            int64_t c = w->pending[i].count - o;
            if (c > (int64_t)sizeof ones)
                c = (int64_t)sizeof ones;
            TK_H5_CHECK(
                tk_h5_write_rows(w->done, H5T_NATIVE_UINT8, w->pending[i].first + o, c, 0, ones),
                w->path,
                "write /progress/done");
        }
    }
    w->n_pending = 0;
    TK_H5_CHECK(H5Fflush(w->file, H5F_SCOPE_GLOBAL), w->path, "flush");
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
        if (tk_h5_attr_str_overwrite(w->file, "finish_time", now) < 0)
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
