/* labels: pipeline */
/* The ranks writer (pipeline/slab_writer.h): chunk results written with
 * pwrite into the regions of a file made by tk_writer_create give the same
 * datasets, byte for byte, as tk_writer_put into another (every kind of
 * field: scores by token, 2-D predictions and faithfulness curves, IG
 * steps and error estimates); a file that is not the one measured is
 * refused with a message naming it. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/slab_writer.h"
#include "pipeline/writer.h"
#include "support/testutil.h"

enum { N = 7, C = 2, M = 3, K = 2 };

/* token counts per review: ragged, one empty review */
static const int LEN[N] = {3, 1, 4, 0, 2, 5, 3};
static const int64_t FIRST[3] = {0, 2, 5}, COUNT[3] = {2, 3, 2};

typedef struct fixture {
    int64_t index[N];
    int32_t id[N], label[N], rating[N];
    int64_t offset[N + 1];
    int32_t tok[32], pos[32];
    tk_method_params methods[M];
    tk_faith_params faith;
    tk_writer_layout layout;
    tk_writer_meta meta;
} fixture;

static void fixture_init(fixture *f, int64_t n)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < N; i++) {
        f->index[i] = i;
        f->id[i] = 100 + i;
        f->label[i] = i % 2;
        f->rating[i] = 1 + i;
        f->offset[i + 1] = f->offset[i] + LEN[i];
    }
    for (int t = 0; t < f->offset[N]; t++) {
        f->tok[t] = 4 + t;
        f->pos[t] = t - 1;
    }
    tk_method_params_default(&f->methods[0], TK_METHOD_SALIENCY);
    snprintf(f->methods[0].name, sizeof f->methods[0].name, "sal");
    tk_method_params_default(&f->methods[1], TK_METHOD_INTEGRATED_GRADIENTS);
    f->methods[1].rule = TK_IG_ADAPTIVE; /* steps and error_estimate */
    snprintf(f->methods[1].name, sizeof f->methods[1].name, "ig");
    tk_method_params_default(&f->methods[2], TK_METHOD_INTEGRATED_GRADIENTS);
    snprintf(f->methods[2].name, sizeof f->methods[2].name, "ig_fixed"); /* steps only */
    tk_faith_params_default(&f->faith);
    f->faith.k_max = K;
    f->layout = (tk_writer_layout){.n = n,
                                   .index = f->index,
                                   .review_id = f->id,
                                   .label = f->label,
                                   .rating = f->rating,
                                   .token_offset = f->offset,
                                   .token_id = f->tok,
                                   .word_pos = f->pos,
                                   .n_classes = C,
                                   .n_methods = M,
                                   .methods = f->methods,
                                   .faith = &f->faith};
    f->meta = (tk_writer_meta){.job_yaml = "model: m.h5\n", .ranks = 2};
}

/* Every array of the chunk, with values that name review, method, slot. */
static void fill_chunk(const fixture *f, tk_chunk_result *r, int64_t first, int64_t count)
{
    r->first = first;
    r->count = count;
    r->tc = f->offset[first + count] - f->offset[first];
    int k1 = K + 1;
    for (int64_t i = 0; i < count; i++) {
        int64_t g = first + i;
        r->prob[i * C] = 0.1f * (float)g;
        r->prob[i * C + 1] = 1.0f - 0.1f * (float)g;
        r->predicted[i] = (int32_t)(g % 2);
        for (int k = 0; k < M; k++) {
            int64_t o = k * count + i;
            r->target[o] = (int32_t)(7 * g + k);
            r->padding_score[o] = (float)(k - g);
            r->axiom_error[o] = 1e-3 * (double)g + k;
            r->f_input[o] = 0.5 + (double)g;
            r->f_baseline[o] = 0.5 - (double)g;
            r->steps[o] = (int32_t)(100 * k + g);
            r->error_estimate[o] = 1e-6 * (double)(g + 1) + k;
            r->faith_aopc[o] = (float)(g + 0.5 * k);
            r->faith_comp[o] = (float)(g - 0.25 * k);
            r->faith_suff[o] = (float)(g * 3 + k);
            for (int j = 0; j < k1; j++) {
                r->faith_curve[o * k1 + j] = (float)(1000 * k + 10 * g + j);
                r->faith_random[o * k1 + j] = (float)(-1000 * k - 10 * g - j);
            }
            for (int64_t t = f->offset[g]; t < f->offset[g + 1]; t++)
                r->score[k * r->tc + (t - f->offset[first])] =
                    (float)(1000 * k + 10 * g + (t - f->offset[g])) + 0.25f;
        }
    }
}

static void alloc_result(tk_chunk_result *r)
{
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc(r, 3, 32, C, M, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc_faith(r, 3, K + 1, &err), TK_OK);
}

/* The root writer's file: tk_writer_put, chunks in order. */
static void write_root(const fixture *f, const char *path)
{
    tk_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_writer_create(path, &f->layout, &f->meta, &w, &err), TK_OK);
    tk_chunk_result r;
    alloc_result(&r);
    for (int c = 0; c < 3; c++) {
        fill_chunk(f, &r, FIRST[c], COUNT[c]);
        CU_ASSERT_EQUAL(tk_writer_put(w, &r, &err), TK_OK);
    }
    tk_chunk_result_free(&r);
    CU_ASSERT_EQUAL(tk_writer_close(w, true, &err), TK_OK);
}

/* The ranks writer's file: the regions and proof from the writer, then
 * two slab writers (two "ranks"), chunks out of order, synced, marked. */
static void write_slabs(const fixture *f, const char *path)
{
    tk_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_writer_create(path, &f->layout, &f->meta, &w, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_writer_release_results(w, &err), TK_OK);
    int n_reg = 0;
    const tk_result_region *reg = tk_writer_regions(w, &n_reg);
    /* 3 /predictions + per method 6 + steps (2) + estimate (1) + 5 faithfulness */
    CU_ASSERT_EQUAL(n_reg, 3 + 6 * M + 2 + 1 + 5 * M);
    tk_slab_proof proof;
    CU_ASSERT_EQUAL_FATAL(tk_slab_proof_of(path, reg, n_reg, &proof, &err), TK_OK);
    tk_slab_writer *s[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL_FATAL(tk_slab_open(path, &proof, reg, n_reg, &s[i], &err), TK_OK);
    tk_chunk_result r;
    alloc_result(&r);
    static const int order[3] = {2, 0, 1};
    for (int c = 0; c < 3; c++) {
        int u = order[c];
        fill_chunk(f, &r, FIRST[u], COUNT[u]);
        CU_ASSERT_EQUAL(tk_slab_put(s[c % 2], &r, f->offset[FIRST[u]], &err), TK_OK);
    }
    /* tk_writer_put refuses once the ranks write */
    tk_error e2 = {0};
    CU_ASSERT_NOT_EQUAL(tk_writer_put(w, &r, &e2), TK_OK);
    /* a unit past the end is refused, nothing written */
    fill_chunk(f, &r, 5, 2);
    r.count = 3;
    CU_ASSERT_NOT_EQUAL(tk_slab_put(s[0], &r, f->offset[5], &e2), TK_OK);
    tk_chunk_result_free(&r);
    /* the units are handed out by the sync that put them on disk, once */
    int64_t synced = 0;
    for (int i = 0; i < 2; i++) {
        const int64_t *units = NULL;
        int n = -1;
        CU_ASSERT_EQUAL(tk_slab_unsynced(s[i]), i == 0 ? 2 : 1);
        CU_ASSERT_EQUAL(tk_slab_sync(s[i], &units, &n, &err), TK_OK);
        CU_ASSERT_EQUAL(n, i == 0 ? 2 : 1);
        for (int u = 0; u < n; u++) {
            CU_ASSERT_EQUAL(tk_writer_mark(w, units[2 * u], units[2 * u + 1], &err), TK_OK);
            synced += units[2 * u + 1];
        }
        CU_ASSERT_EQUAL(tk_slab_unsynced(s[i]), 0);
        CU_ASSERT_EQUAL(tk_slab_sync(s[i], &units, &n, &err), TK_OK);
        CU_ASSERT_EQUAL(n, 0);
        tk_slab_close(s[i]);
    }
    CU_ASSERT_EQUAL(synced, N);
    CU_ASSERT_EQUAL(tk_writer_close(w, true, &err), TK_OK);
}

typedef struct dset_list {
    char names[64][160];
    int n;
} dset_list;

static herr_t collect(hid_t obj, const char *name, const H5O_info_t *info, void *ctx)
{
    (void)obj;
    dset_list *l = ctx;
    if (info->type == H5O_TYPE_DATASET && l->n < 64)
        snprintf(l->names[l->n++], sizeof l->names[0], "/%s", name);
    return 0;
}

/* Dataset name's raw bytes (file type), malloc'd; *n their count. */
static unsigned char *raw(hid_t f, const char *name, size_t *n)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    *n = (size_t)H5Sget_simple_extent_npoints(s) * H5Tget_size(t);
    unsigned char *buf = calloc(*n + 1, 1);
    if (*n > 0 && H5Tget_class(t) != H5T_STRING)
        CU_ASSERT(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(s);
    H5Tclose(t);
    H5Dclose(d);
    return buf;
}

static void test_same_as_root_writer(void)
{
    CU_ASSERT_TRUE_FATAL(tk_slab_host_ok());
    fixture f;
    fixture_init(&f, N);
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/root.h5", tk_test_tmpdir());
    snprintf(b, sizeof b, "%s/ranks.h5", tk_test_tmpdir());
    write_root(&f, a);
    write_slabs(&f, b);
    hid_t fa = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT), fb = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(fa >= 0 && fb >= 0);
    dset_list la = {.n = 0}, lb = {.n = 0};
    H5Ovisit(fa, H5_INDEX_NAME, H5_ITER_INC, collect, &la);
    H5Ovisit(fb, H5_INDEX_NAME, H5_ITER_INC, collect, &lb);
    CU_ASSERT_EQUAL(la.n, lb.n);
    CU_ASSERT(la.n > 3 + 6 * M);
    for (int i = 0; i < la.n && i < lb.n; i++) {
        CU_ASSERT_STRING_EQUAL(la.names[i], lb.names[i]);
        size_t na = 0, nb = 0;
        unsigned char *x = raw(fa, la.names[i], &na), *y = raw(fb, lb.names[i], &nb);
        CU_ASSERT_EQUAL(na, nb);
        if (na != nb || memcmp(x, y, na) != 0)
            fprintf(stderr, "\n%s differs between the writers\n", la.names[i]);
        CU_ASSERT(na == nb && memcmp(x, y, na) == 0);
        free(x);
        free(y);
    }
    /* the values are the chunks' (not two files of zeros) */
    float score[32], curve[N * (K + 1)];
    int32_t steps[N];
    double est[N];
    uint8_t done[N];
    CU_ASSERT_EQUAL(tk_test_read_h5(fb, "/attributions/ig/score", H5T_NATIVE_FLOAT, score), 0);
    CU_ASSERT_EQUAL(score[f.offset[5] + 2], 1000.0f + 52.0f + 0.25f);
    CU_ASSERT_EQUAL(tk_test_read_h5(fb, "/attributions/ig_fixed/steps", H5T_NATIVE_INT32, steps), 0);
    CU_ASSERT_EQUAL(steps[6], 206);
    CU_ASSERT_EQUAL(tk_test_read_h5(fb, "/attributions/ig/error_estimate", H5T_NATIVE_DOUBLE, est),
                    0);
    CU_ASSERT_EQUAL(est[3], 4e-6 + 1);
    CU_ASSERT_EQUAL(tk_test_read_h5(fb, "/faithfulness/sal/random_curve", H5T_NATIVE_FLOAT, curve),
                    0);
    CU_ASSERT_EQUAL(curve[4 * (K + 1) + 2], -42.0f);
    CU_ASSERT_EQUAL(tk_test_read_h5(fb, "/progress/done", H5T_NATIVE_UINT8, done), 0);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(done[i], 1);
    H5Fclose(fa);
    H5Fclose(fb);
}

/* Not rank 0's file: missing, no HDF5, another size, other metadata. */
static void test_refuses_another_file(void)
{
    fixture f;
    fixture_init(&f, N);
    char p[1024], q[1024];
    snprintf(p, sizeof p, "%s/mine.h5", tk_test_tmpdir());
    tk_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_writer_create(p, &f.layout, &f.meta, &w, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_writer_release_results(w, &err), TK_OK);
    int n_reg = 0;
    const tk_result_region *reg = tk_writer_regions(w, &n_reg);
    tk_slab_proof proof;
    CU_ASSERT_EQUAL_FATAL(tk_slab_proof_of(p, reg, n_reg, &proof, &err), TK_OK);
    CU_ASSERT(proof.hashed > 8 && proof.hashed <= proof.size);

    const char *cases[] = {"missing", "junk", "smaller", "edited"};
    for (int c = 0; c < 4; c++) {
        snprintf(q, sizeof q, "%s/other-%s.h5", tk_test_tmpdir(), cases[c]);
        if (c == 1) {
            FILE *fp = fopen(q, "w");
            fputs("not an HDF5 file at all", fp);
            fclose(fp);
        } else if (c == 2) {
            fixture g;
            fixture_init(&g, N - 2); /* another job's file: fewer reviews */
            tk_writer *v = NULL;
            CU_ASSERT_EQUAL_FATAL(tk_writer_create(q, &g.layout, &g.meta, &v, &err), TK_OK);
            tk_writer_abandon(v);
        } else if (c == 3) {
            /* the same bytes but one in the metadata (a stale copy) */
            FILE *in = fopen(p, "rb"), *out = fopen(q, "wb");
            int ch;
            long at = 0;
            while ((ch = fgetc(in)) != EOF)
                fputc(at++ == proof.hashed / 2 ? ch ^ 1 : ch, out);
            fclose(in);
            fclose(out);
        }
        tk_slab_writer *s = NULL;
        tk_error e = {0};
        CU_ASSERT_NOT_EQUAL(tk_slab_open(q, &proof, reg, n_reg, &s, &e), TK_OK);
        CU_ASSERT_PTR_NULL(s);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, q));
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not the file rank 0 created"));
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "writer: root"));
    }
    /* and the file itself is accepted */
    tk_slab_writer *s = NULL;
    CU_ASSERT_EQUAL(tk_slab_open(p, &proof, reg, n_reg, &s, &err), TK_OK);
    tk_slab_close(s);
    tk_writer_abandon(w);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {{"same_as_root_writer", test_same_as_root_writer},
                                         {"refuses_another_file", test_refuses_another_file},
                                         {NULL, NULL}};
    tk_test_add_suite("slab_writer", cases);
    return tk_test_run_all();
}
