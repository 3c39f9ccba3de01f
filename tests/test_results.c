/* The results writer: layout written up front, chunks in any order give the
 * same datasets, /progress/done only after a checkpoint, resume refuses a
 * different job/model/dataset, the file reads back with plain HDF5. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/writer.h"
#include "support/testutil.h"

enum { N = 7, C = 2, M = 2 };

/* token counts per review: ragged on purpose, one empty review */
static const int LEN[N] = {3, 1, 4, 0, 2, 5, 3};

typedef struct fixture {
    int64_t index[N];
    int32_t id[N], label[N], rating[N];
    int64_t offset[N + 1];
    int32_t tok[32], pos[32];
    tk_method_params methods[M];
    char *vocab[3];
    tk_writer_layout layout;
    tk_writer_meta meta;
} fixture;

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->offset[0] = 0;
    for (int i = 0; i < N; i++) {
        f->index[i] = 10 + i;
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
    snprintf(f->methods[1].name, sizeof f->methods[1].name, "ig");
    f->vocab[0] = "the";
    f->vocab[1] = "caf\xc3\xa9";
    f->vocab[2] = "a";
    f->layout = (tk_writer_layout){.n = N,
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
                                   .vocab_size = 3,
                                   .vocab = f->vocab};
    f->meta = (tk_writer_meta){.command_line = "tokattr run j.yaml",
                               .job_yaml = "model: m.h5\n",
                               .model_sha256 = "aa",
                               .dataset_sha256 = "bb",
                               .split = "test",
                               .ranks = 1};
}

/* A value that names review i, method k, token j: any misplaced write shows. */
static float val(int k, int64_t i, int64_t j)
{
    return (float)(1000 * k + 10 * i + j) + 0.25f;
}

static void fill_chunk(const fixture *f, tk_chunk_result *r, int64_t first, int64_t count)
{
    r->first = first;
    r->count = count;
    r->tc = f->offset[first + count] - f->offset[first];
    for (int64_t i = 0; i < count; i++) {
        int64_t g = first + i;
        r->prob[i * C] = 0.1f * (float)g;
        r->prob[i * C + 1] = 1.0f - 0.1f * (float)g;
        r->predicted[i] = (int32_t)(g % 2);
        for (int k = 0; k < M; k++) {
            r->target[k * count + i] = (int32_t)((g + k) % 2);
            r->padding_score[k * count + i] = (float)(k - g);
            r->axiom_error[k * count + i] = 1e-3 * (double)g + k;
            r->f_input[k * count + i] = 0.5 + (double)g;
            r->f_baseline[k * count + i] = 0.5 - (double)g;
            for (int64_t t = f->offset[g]; t < f->offset[g + 1]; t++)
                r->score[k * r->tc + (t - f->offset[first])] = val(k, g, t - f->offset[g]);
        }
    }
}

static void read_all(const char *path, const char *name, hid_t type, void *buf)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(file >= 0);
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    CU_ASSERT_FATAL(d >= 0);
    CU_ASSERT(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
    H5Fclose(file);
}

/* Writes chunks {0..1}, {2..4}, {5..6} in the given order. */
static void write_file(const fixture *f, const char *path, const int order[3])
{
    static const int64_t first[3] = {0, 2, 5}, count[3] = {2, 3, 2};
    tk_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_writer_create(path, &f->layout, &f->meta, &w, &err), TK_OK);
    tk_chunk_result r;
    CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc(&r, 3, 32, C, M, &err), TK_OK);
    for (int c = 0; c < 3; c++) {
        fill_chunk(f, &r, first[order[c]], count[order[c]]);
        CU_ASSERT_EQUAL(tk_writer_put(w, &r, &err), TK_OK);
        CU_ASSERT_EQUAL(tk_writer_checkpoint(w, &err), TK_OK);
    }
    tk_chunk_result_free(&r);
    CU_ASSERT_EQUAL(tk_writer_close(w, true, &err), TK_OK);
}

static void test_roundtrip_any_order(void)
{
    fixture f;
    fixture_init(&f);
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/a.h5", tk_test_tmpdir());
    snprintf(b, sizeof b, "%s/b.h5", tk_test_tmpdir());
    write_file(&f, a, (const int[3]){0, 1, 2});
    write_file(&f, b, (const int[3]){2, 0, 1});

    int64_t T = f.offset[N];
    float sa[32], sb[32];
    for (int k = 0; k < M; k++) {
        char name[128];
        snprintf(name, sizeof name, "/attributions/%s/score", f.methods[k].name);
        read_all(a, name, H5T_NATIVE_FLOAT, sa);
        read_all(b, name, H5T_NATIVE_FLOAT, sb);
        CU_ASSERT_EQUAL(memcmp(sa, sb, (size_t)T * sizeof *sa), 0);
        for (int i = 0; i < N; i++)
            for (int64_t t = f.offset[i]; t < f.offset[i + 1]; t++)
                CU_ASSERT_EQUAL(sa[t], val(k, i, t - f.offset[i]));
    }
    float prob[N * C];
    read_all(b, "/predictions/prob", H5T_NATIVE_FLOAT, prob);
    for (int i = 0; i < N; i++)
        CU_ASSERT_DOUBLE_EQUAL(prob[i * C + 1], 1.0 - 0.1 * i, 1e-6);
    double ax[N];
    read_all(b, "/attributions/ig/axiom_error", H5T_NATIVE_DOUBLE, ax);
    for (int i = 0; i < N; i++)
        CU_ASSERT_DOUBLE_EQUAL(ax[i], 1e-3 * i + 1, 1e-12);
    int64_t off[N + 1];
    read_all(b, "/reviews/token_offset", H5T_NATIVE_INT64, off);
    CU_ASSERT_EQUAL(memcmp(off, f.offset, sizeof off), 0);
    uint8_t done[N];
    read_all(b, "/progress/done", H5T_NATIVE_UINT8, done);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(done[i], 1);
    int32_t tok[32];
    read_all(b, "/tokens/id", H5T_NATIVE_INT32, tok);
    CU_ASSERT_EQUAL(memcmp(tok, f.tok, (size_t)T * sizeof *tok), 0);
}

/* Done marks only after a checkpoint; resume reports exactly those. */
static void test_done_and_resume(void)
{
    fixture f;
    fixture_init(&f);
    char p[1024];
    snprintf(p, sizeof p, "%s/r.h5", tk_test_tmpdir());
    tk_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_writer_create(p, &f.layout, &f.meta, &w, &err), TK_OK);
    tk_chunk_result r;
    CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc(&r, 3, 32, C, M, &err), TK_OK);
    fill_chunk(&f, &r, 2, 3);
    CU_ASSERT_EQUAL(tk_writer_put(w, &r, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_writer_checkpoint(w, &err), TK_OK);
    fill_chunk(&f, &r, 5, 2);
    CU_ASSERT_EQUAL(tk_writer_put(w, &r, &err), TK_OK);
    /* stop without a checkpoint of the second chunk */
    tk_writer_abandon(w);

    uint8_t done[N];
    w = NULL;
    tk_status rs = tk_writer_open_resume(p, &f.layout, &f.meta, done, &w, &err);
    if (rs != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rs, TK_OK);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(done[i], i >= 2 && i < 5);
    CU_ASSERT_EQUAL(tk_writer_close(w, false, &err), TK_OK);

    /* another job text, model or dataset: refused, message names the file */
    tk_writer_meta other = f.meta;
    other.job_yaml = "model: other.h5\n";
    tk_error e1 = {0};
    w = NULL;
    CU_ASSERT_NOT_EQUAL(tk_writer_open_resume(p, &f.layout, &other, done, &w, &e1), TK_OK);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT_PTR_NOT_NULL(strstr(e1.msg, "job"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e1.msg, p));
    other = f.meta;
    other.model_sha256 = "cc";
    tk_error e2 = {0};
    CU_ASSERT_NOT_EQUAL(tk_writer_open_resume(p, &f.layout, &other, done, &w, &e2), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "model"));

    /* not an HDF5 file */
    char q[1024];
    snprintf(q, sizeof q, "%s/junk.h5", tk_test_tmpdir());
    FILE *fp = fopen(q, "w");
    fputs("not hdf5", fp);
    fclose(fp);
    tk_error e3 = {0};
    CU_ASSERT_NOT_EQUAL(tk_writer_open_resume(q, &f.layout, &f.meta, done, &w, &e3), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(e3.msg, q));
    tk_chunk_result_free(&r);
}

static void test_bad_chunk(void)
{
    fixture f;
    fixture_init(&f);
    char p[1024];
    snprintf(p, sizeof p, "%s/c.h5", tk_test_tmpdir());
    tk_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_writer_create(p, &f.layout, &f.meta, &w, &err), TK_OK);
    tk_chunk_result r;
    CU_ASSERT_EQUAL_FATAL(tk_chunk_result_alloc(&r, 3, 32, C, M, &err), TK_OK);
    fill_chunk(&f, &r, 5, 2);
    r.count = 3; /* runs past the end */
    CU_ASSERT_NOT_EQUAL(tk_writer_put(w, &r, &err), TK_OK);
    tk_chunk_result_free(&r);
    tk_writer_abandon(w);
    tk_error e2 = {0};
    CU_ASSERT_NOT_EQUAL(tk_writer_create("/nonexistent-dir/x.h5", &f.layout, &f.meta, &w, &e2),
                        TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "/nonexistent-dir/x.h5"));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {{"roundtrip_any_order", test_roundtrip_any_order},
                                         {"done_and_resume", test_done_and_resume},
                                         {"bad_chunk", test_bad_chunk},
                                         {NULL, NULL}};
    tk_test_add_suite("results_writer", cases);
    return tk_test_run_all();
}
