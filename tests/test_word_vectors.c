/* word vectors: both file formats agree on the same table, bad files fail
 * with the file (and line) named, and the id mapping follows the documented
 * rules (vector for a known word, zeros for padding/markers/unknown). */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/model_input.h"
#include "data/word_vectors.h"
#include "support/testutil.h"

static const char *write_file(const char *name, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", tk_test_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *good_text = "3 2\nthe 0.5 -1\nfilm 2 3.25\ngréat 1e-3 -0\n";

static void check_good_table(const tk_word_vectors *wv)
{
    CU_ASSERT_EQUAL(wv->n, 3);
    CU_ASSERT_EQUAL(wv->dim, 2);
    int64_t r = tk_word_vectors_find(wv, "film");
    CU_ASSERT_EQUAL_FATAL(r, 1);
    CU_ASSERT_EQUAL(wv->vectors[r * 2 + 0], 2.0f);
    CU_ASSERT_EQUAL(wv->vectors[r * 2 + 1], 3.25f);
    r = tk_word_vectors_find(wv, "gréat");
    CU_ASSERT_EQUAL_FATAL(r, 2);
    CU_ASSERT_EQUAL(wv->vectors[r * 2], 1e-3f);
    CU_ASSERT_EQUAL(tk_word_vectors_find(wv, "the"), 0);
    CU_ASSERT_EQUAL(tk_word_vectors_find(wv, "missing"), -1);
    CU_ASSERT_EQUAL(tk_word_vectors_find(wv, "th"), -1);
}

static void test_text_format(void)
{
    tk_word_vectors *wv = NULL;
    tk_error err = {0};
    const char *p = write_file("good.txt", good_text);
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_load(p, &wv, &err), TK_OK);
    check_good_table(wv);
    tk_word_vectors_destroy(wv);
    /* CRLF line ends and a trailing blank line are accepted */
    p = write_file("crlf.txt", "1 3\r\nx 1 2 3\r\n\r\n");
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_load_text(p, &wv, &err), TK_OK);
    CU_ASSERT_EQUAL(wv->vectors[2], 3.0f);
    tk_word_vectors_destroy(wv);
    tk_word_vectors_destroy(NULL);
}

static void write_h5(const char *path, const char *const *words, const float *vec, hsize_t v, hsize_t d,
                     bool vlen)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hsize_t dims[2] = {v, d};
    hid_t s2 = H5Screate_simple(2, dims, NULL);
    hid_t ds = H5Dcreate2(f, "/vectors", H5T_NATIVE_FLOAT, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, vec);
    H5Dclose(ds);
    H5Sclose(s2);
    hid_t s1 = H5Screate_simple(1, dims, NULL);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, vlen ? H5T_VARIABLE : 8);
    H5Tset_cset(st, H5T_CSET_UTF8);
    hid_t dw = H5Dcreate2(f, "/words", st, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (vlen)
        H5Dwrite(dw, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, words);
    H5Dclose(dw);
    H5Tclose(st);
    H5Sclose(s1);
    H5Fclose(f);
}

static void test_hdf5_format(void)
{
    const char *words[] = {"the", "film", "gréat"};
    const float vec[] = {0.5f, -1.0f, 2.0f, 3.25f, 1e-3f, -0.0f}; /* (3, 2) */
    char path[4096];
    snprintf(path, sizeof path, "%s/good.h5", tk_test_tmpdir());
    write_h5(path, words, vec, 3, 2, true);
    tk_word_vectors *wv = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_load(path, &wv, &err), TK_OK);
    check_good_table(wv);
    tk_word_vectors_destroy(wv);

    /* fixed-length strings and a repeated word are refused */
    snprintf(path, sizeof path, "%s/fixed.h5", tk_test_tmpdir());
    write_h5(path, words, vec, 3, 2, false);
    CU_ASSERT_EQUAL(tk_word_vectors_load(path, &wv, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fixed.h5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "variable-length"));
    const char *dup[] = {"the", "film", "the"};
    snprintf(path, sizeof path, "%s/dup.h5", tk_test_tmpdir());
    write_h5(path, dup, vec, 3, 2, true);
    err = (tk_error){0};
    CU_ASSERT_EQUAL(tk_word_vectors_load(path, &wv, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "twice"));
    CU_ASSERT_PTR_NULL(wv);
}

/* Each bad text file must fail with TK_E_FORMAT naming file:line. */
static void test_bad_text(void)
{
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {"", "empty file"},
        {"3\n", "bad.txt:1:"},
        {"2 0\n", "bad.txt:1:"},
        {"-1 2\n", "bad.txt:1:"},
        {"2 2\na 1 2\n", "bad.txt:3: the file ends"},
        {"1 2\na 1\n", "bad.txt:2: value 2"},
        {"1 2\na 1 x\n", "bad.txt:2: value 2"},
        {"1 2\na 1 nan\n", "bad.txt:2: value 2"},
        {"1 2\na 1 2 3\n", "bad.txt:2:"},
        {"1 2\nnospace\n", "bad.txt:2: expected"},
        {"1 2\n 1 2\n", "bad.txt:2: expected"},
        {"1 2\na 1 2\nb 3 4\n", "bad.txt:3: more words"},
        {"2 1\na 1\na 2\n", "twice"},
        {"1 1\na 1e99\n", "bad.txt:2:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = write_file("bad.txt", cases[i].text);
        tk_word_vectors *wv = NULL;
        tk_error err = {0};
        tk_status st = tk_word_vectors_load(p, &wv, &err);
        CU_ASSERT_EQUAL(st, TK_E_FORMAT);
        CU_ASSERT_PTR_NULL(wv);
        if (!strstr(err.msg, cases[i].expect))
            fprintf(stderr, "case %zu: got \"%s\", expected \"%s\"\n", i, err.msg, cases[i].expect);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].expect));
    }
    tk_word_vectors *wv = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_word_vectors_load("/nonexistent/vectors.txt", &wv, &err), TK_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "vectors.txt"));
}

static void test_mapping(void)
{
    const char *p = write_file("map.txt", good_text);
    tk_word_vectors *wv = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_load(p, &wv, &err), TK_OK);
    /* vocabulary: rank 1 "film", rank 2 "unknown", rank 3 "the" */
    char *vocab[] = {"film", "unknown", "the"};
    tk_dataset ds = {.vocab_size = 3, .vocab = vocab};
    float *table = NULL;
    int64_t n_ids = 0, found = 0;
    int dim = 0;
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_id_table(wv, &ds, &table, &n_ids, &dim, &found, &err), TK_OK);
    CU_ASSERT_EQUAL(n_ids, 3 + TK_INDEX_FROM + 1);
    CU_ASSERT_EQUAL(dim, 2);
    CU_ASSERT_EQUAL(found, 2);
    /* a review: start, film, oov, unknown, the, pad */
    int32_t ids[] = {TK_ID_START, 1 + TK_INDEX_FROM, TK_ID_OOV, 2 + TK_INDEX_FROM, 3 + TK_INDEX_FROM, TK_ID_PAD};
    float x[6 * 2]; /* (steps, dim) */
    memset(x, 0xff, sizeof x);
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_map(table, n_ids, dim, ids, 1, 6, x, &err), TK_OK);
    for (int s = 0; s < 6; s++) {
        const char *w = tk_dataset_word(&ds, ids[s]);
        int64_t r = tk_word_vectors_find(wv, w);
        for (int d = 0; d < 2; d++)
            CU_ASSERT_EQUAL(x[s * 2 + d], r >= 0 ? wv->vectors[r * 2 + d] : 0.0f);
    }
    CU_ASSERT_EQUAL(x[1 * 2 + 1], 3.25f); /* film */
    CU_ASSERT_EQUAL(x[4 * 2 + 0], 0.5f);  /* the */
    /* an id beyond the table is an error, not a read out of bounds */
    int32_t bad[] = {(int32_t)n_ids};
    CU_ASSERT_EQUAL(tk_word_vectors_map(table, n_ids, dim, bad, 1, 1, x, &err), TK_E_INVALID);
    free(table);

    /* ids as a 1-dimensional feature */
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_id_table(NULL, &ds, &table, &n_ids, &dim, &found, &err), TK_OK);
    CU_ASSERT_EQUAL(dim, 1);
    float f[6]; /* (steps, 1) */
    CU_ASSERT_EQUAL_FATAL(tk_word_vectors_map(table, n_ids, dim, ids, 1, 6, f, &err), TK_OK);
    for (int s = 0; s < 6; s++)
        CU_ASSERT_EQUAL(f[s], (float)ids[s]);
    free(table);
    tk_word_vectors_destroy(wv);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"word2vec text format", test_text_format},
        {"HDF5 format agrees with text, bad layouts refused", test_hdf5_format},
        {"bad text files name file and line", test_bad_text},
        {"ids map to vectors, zeros for pad/markers/unknown", test_mapping},
        {NULL, NULL},
    };
    tk_test_add_suite("word_vectors", cases);
    return tk_test_run_all();
}
