/* data/dataset.h, version 2: the streaming writer's round trip (any split
 * names in order, labels, classes, doc ids, stored words with U+FFFD for
 * bad bytes, the tokenizer record and convention), rows across many chunks,
 * abort leaving nothing, bad split names, and version 1 files still read. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "support/testutil.h"

static const char *tmp_path(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", tk_test_tmpdir(), name);
    return path;
}

static tk_dataset_meta meta_of(const tk_tokenizer_record *rec, char **vocab, int64_t V, char **classes, int C)
{
    tk_dataset_meta m = {.source = "hand", .format = "csv", .vocab_size = V, .vocab = vocab, .n_classes = C,
                         .class_names = classes, .tokenizer = rec,
                         .convention = {.pad_id = 0, .start_id = -1, .oov_id = 1, .index_from = 1}};
    return m;
}

static void test_round_trip(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tmp_path("v2.h5"));
    tk_dataset_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_create(path, &w, &err), TK_OK);
    /* doc 0 of "dev": words "café" with a Latin-1 byte, and "ok". */
    const char text0[] = "caf\xe9ok";
    size_t start0[] = {0, 4};
    uint32_t len0[] = {4, 2};
    int32_t ids0[] = {3, 2};
    tk_dataset_doc d0 = {.split = "dev", .label = 1, .review_id = 7, .doc_id = "id\xff", .n = 2, .ids = ids0,
                         .words = text0, .word_start = start0, .word_len = len0};
    const char text1[] = "x";
    size_t start1[] = {0};
    uint32_t len1[] = {1};
    int32_t ids1[] = {1};
    tk_dataset_doc d1 = {.split = "train", .label = -1, .review_id = 2, .doc_id = "b", .n = 1, .ids = ids1,
                         .words = text1, .word_start = start1, .word_len = len1};
    tk_dataset_doc d2 = {.split = "dev", .label = 0, .review_id = 3, .doc_id = "c", .n = 0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_add(w, &d0, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_add(w, &d1, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_add(w, &d2, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_dataset_writer_count(w, "dev"), 2);
    CU_ASSERT_EQUAL(tk_dataset_writer_count(w, "nope"), 0);
    CU_ASSERT_EQUAL(access(path, F_OK), -1); /* only path.tmp exists until finish */
    char *vocab[] = {"ok", "caf\xe9"};
    char *classes[] = {"bug", "praise"};
    tk_tokenizer_record rec = {.kind = "keras-tokenizer", .params_json = "{\"oov_token\": \"<OOV>\"}",
                               .vocab_sha256 = "ab"};
    tk_dataset_meta meta = meta_of(&rec, vocab, 2, classes, 2);
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_finish(w, &meta, &err), TK_OK);
    CU_ASSERT_TRUE(tk_dataset_probe(path));
    tk_dataset *ds = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(path, &ds, &err), TK_OK);
    CU_ASSERT_EQUAL(ds->dataset_version, 2);
    CU_ASSERT_EQUAL_FATAL(ds->n_splits, 2);
    CU_ASSERT_STRING_EQUAL(ds->splits[0].name, "dev");
    CU_ASSERT_STRING_EQUAL(ds->splits[1].name, "train");
    const tk_split *dev = tk_dataset_split(ds, "dev", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
    CU_ASSERT_EQUAL_FATAL(dev->n, 2);
    CU_ASSERT_EQUAL(dev->offset[1], 2);
    CU_ASSERT_EQUAL(dev->offset[2], 2);
    CU_ASSERT_EQUAL(dev->label[0], 1);
    CU_ASSERT_EQUAL(dev->label[1], 0);
    CU_ASSERT_EQUAL(dev->review_id[0], 7);
    CU_ASSERT_STRING_EQUAL(dev->doc_id[0], "id\xEF\xBF\xBD");
    CU_ASSERT_STRING_EQUAL(dev->doc_id[1], "c");
    size_t wl;
    const char *word = tk_split_word(dev, 0, &wl);
    CU_ASSERT_TRUE(wl == 6 && memcmp(word, "caf\xEF\xBF\xBD", 6) == 0);
    word = tk_split_word(dev, 1, &wl);
    CU_ASSERT_TRUE(wl == 2 && memcmp(word, "ok", 2) == 0);
    CU_ASSERT_PTR_NULL(tk_split_word(dev, 2, &wl));
    CU_ASSERT_EQUAL(tk_dataset_split(ds, "train", NULL)->label[0], -1);
    CU_ASSERT_PTR_NULL(tk_dataset_split(ds, "test", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dev, train"));
    CU_ASSERT_EQUAL_FATAL(ds->n_classes, 2);
    CU_ASSERT_STRING_EQUAL(ds->class_names[1], "praise");
    CU_ASSERT_STRING_EQUAL(ds->vocab[1], "caf\xEF\xBF\xBD"); /* valid UTF-8 wherever tagged so */
    CU_ASSERT_STRING_EQUAL(ds->tokenizer.kind, "keras-tokenizer");
    CU_ASSERT_STRING_EQUAL(ds->tokenizer.params_json, "{\"oov_token\": \"<OOV>\"}");
    CU_ASSERT_STRING_EQUAL(ds->word_index_sha256, "ab");
    CU_ASSERT_STRING_EQUAL(ds->format, "csv");
    CU_ASSERT_EQUAL(ds->convention.start_id, -1);
    CU_ASSERT_EQUAL(ds->convention.oov_id, 1);
    CU_ASSERT_EQUAL(ds->convention.index_from, 1);
    /* Words by the convention: 0 pad, 1 OOV, rank r = id - 1. */
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(ds, 0), "<pad>");
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(ds, 1), "<oov>");
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(ds, 2), "ok");
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(ds, 9), "<oov>");
    /* And tk_dataset_write of what was read gives the same file content. */
    char again[4096];
    snprintf(again, sizeof again, "%s", tmp_path("v2_again.h5"));
    CU_ASSERT_EQUAL_FATAL(tk_dataset_write(ds, again, "hand", &err), TK_OK);
    tk_dataset *back = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(again, &back, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(back->splits[0].doc_id[0], dev->doc_id[0]);
    CU_ASSERT_EQUAL(back->splits[0].word_offset[2], dev->word_offset[2]);
    CU_ASSERT_EQUAL(memcmp(back->splits[0].word_text, dev->word_text, (size_t)dev->word_offset[2]), 0);
    CU_ASSERT_EQUAL(back->convention.oov_id, 1);
    CU_ASSERT_STRING_EQUAL(back->class_names[0], "bug");
    tk_dataset_destroy(back);
    tk_dataset_destroy(ds);
}

/* Rows well past the chunk sizes (16,384 rows, 65,536 tokens): every value
 * comes back. */
static void test_many_chunks(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tmp_path("big.h5"));
    tk_dataset_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_create(path, &w, &err), TK_OK);
    enum { N = 40000 };
    int32_t ids[16];
    size_t start[16];
    uint32_t len[16];
    char words[64], id[16];
    for (int i = 0; i < 16; i++) {
        start[i] = (size_t)i;
        len[i] = 1;
    }
    for (int d = 0; d < N; d++) {
        int n = d % 7;
        for (int k = 0; k < n; k++) {
            ids[k] = (d + k) % 50;
            words[k] = (char)('a' + (d + k) % 26);
        }
        snprintf(id, sizeof id, "r%d", d);
        tk_dataset_doc doc = {.split = d % 3 ? "train" : "test", .label = d % 4, .review_id = d, .doc_id = id,
                              .n = (size_t)n, .ids = ids, .words = words, .word_start = start, .word_len = len};
        if (tk_dataset_writer_add(w, &doc, &err) != TK_OK)
            break;
    }
    char *vocab[50], *classes[4] = {"a", "b", "c", "d"};
    for (int r = 0; r < 50; r++)
        vocab[r] = "w";
    tk_tokenizer_record rec = {.kind = "word-index"};
    tk_dataset_meta meta = meta_of(&rec, vocab, 50, classes, 4);
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_finish(w, &meta, &err), TK_OK);
    tk_dataset *ds = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(path, &ds, &err), TK_OK);
    const tk_split *tr = tk_dataset_split(ds, "train", NULL), *te = tk_dataset_split(ds, "test", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(te);
    CU_ASSERT_STRING_EQUAL(ds->splits[0].name, "test"); /* doc 0 went to test */
    CU_ASSERT_EQUAL(tr->n + te->n, N);
    int64_t bad = 0, seen[2] = {0, 0};
    for (int d = 0; d < N; d++) {
        const tk_split *s = d % 3 ? tr : te;
        int64_t i = seen[d % 3 ? 0 : 1]++;
        int n = d % 7;
        char want[16];
        snprintf(want, sizeof want, "r%d", d);
        bad += s->review_id[i] != d || s->label[i] != d % 4 || strcmp(s->doc_id[i], want) != 0 ||
               s->offset[i + 1] - s->offset[i] != n;
        for (int k = 0; k < n && !bad; k++) {
            size_t wl;
            const char *wd = tk_split_word(s, s->offset[i] + k, &wl);
            bad += s->ids[s->offset[i] + k] != (d + k) % 50 || wl != 1 || wd[0] != 'a' + (d + k) % 26;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* tk_docs_read_lengths: the ids' counts from /offset alone, across
     * chunks, the same as the whole read gives; a range past the split is
     * refused */
    tk_docs_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_docs_open(path, "train", &rd, &err), TK_OK);
    enum { FIRST = 777, COUNT = 20000 };
    int64_t *lens = calloc(COUNT, sizeof *lens);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lens);
    CU_ASSERT_EQUAL(tk_docs_read_lengths(rd, FIRST, COUNT, lens, &err), TK_OK);
    int64_t differ = 0;
    for (int64_t i = 0; i < COUNT; i++)
        differ += lens[i] != tr->offset[FIRST + i + 1] - tr->offset[FIRST + i];
    CU_ASSERT_EQUAL(differ, 0);
    CU_ASSERT_EQUAL(tk_docs_read_lengths(rd, tr->n - 1, 2, lens, &err), TK_E_INTERNAL);
    CU_ASSERT_EQUAL(tk_docs_read_lengths(rd, tr->n, 0, lens, &err), TK_OK);
    free(lens);
    tk_docs_close(rd);
    tk_dataset_destroy(ds);
}

static void test_abort_and_bad_names(void)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s", tmp_path("aborted.h5"));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    tk_dataset_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_create(path, &w, &err), TK_OK);
    CU_ASSERT_EQUAL(access(tmp, F_OK), 0);
    static const char *const bad[] = {"vocab", "classes", "splits", "a/b", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tk_dataset_doc doc = {.split = bad[i], .doc_id = "x"};
        tk_error_clear(&err);
        CU_ASSERT_EQUAL(tk_dataset_writer_add(w, &doc, &err), TK_E_INVALID);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot be used"));
    }
    tk_dataset_writer_abort(w);
    CU_ASSERT_EQUAL(access(tmp, F_OK), -1);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    tk_dataset_writer_abort(NULL);
    CU_ASSERT_NOT_EQUAL(tk_dataset_writer_create("/nonexistent/dir/x.h5", &w, &err), TK_OK);
    CU_ASSERT_PTR_NULL(w);
}

/* A version 1 file as tokattr wrote them before: /train and /test with
 * int8 labels, no doc ids, no words, no v2 attributes. */
static void write_v1(const char *path)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, H5T_VARIABLE);
    H5Tset_cset(str, H5T_CSET_UTF8);
    hid_t scalar = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "word_index_sha256", str, scalar, H5P_DEFAULT, H5P_DEFAULT);
    const char *sha = "00ff";
    H5Awrite(a, str, &sha);
    H5Aclose(a);
    H5Sclose(scalar);
    int64_t offset[] = {0, 2, 3};
    int32_t ids[] = {4, 2, 5}, rid[] = {12, 40};
    int8_t label[] = {0, 1}, rating[] = {3, 9};
    for (int s = 0; s < 2; s++) {
        hid_t g = H5Gcreate2(f, s ? "test" : "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        struct {
            const char *name;
            hid_t type;
            hsize_t n;
            const void *data;
        } cols[] = {{"offset", H5T_NATIVE_INT64, 3, offset}, {"ids", H5T_NATIVE_INT32, 3, ids},
                    {"label", H5T_NATIVE_INT8, 2, label},    {"rating", H5T_NATIVE_INT8, 2, rating},
                    {"review_id", H5T_NATIVE_INT32, 2, rid}};
        for (size_t c = 0; c < 5; c++) {
            hid_t sp = H5Screate_simple(1, &cols[c].n, NULL);
            hid_t d = H5Dcreate2(g, cols[c].name, cols[c].type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Dwrite(d, cols[c].type, H5S_ALL, H5S_ALL, H5P_DEFAULT, cols[c].data);
            H5Dclose(d);
            H5Sclose(sp);
        }
        H5Gclose(g);
    }
    hid_t g = H5Gcreate2(f, "vocab", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char *words[] = {"good", "bad"};
    int64_t counts[] = {5, 4};
    hsize_t two = 2;
    hid_t sp = H5Screate_simple(1, &two, NULL);
    hid_t d = H5Dcreate2(g, "word", str, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, words);
    H5Dclose(d);
    d = H5Dcreate2(g, "count", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts);
    H5Dclose(d);
    H5Sclose(sp);
    H5Gclose(g);
    H5Tclose(str);
    H5Fclose(f);
}

static void test_reads_version_1(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tmp_path("v1.h5"));
    write_v1(path);
    CU_ASSERT_TRUE(tk_dataset_probe(path));
    tk_dataset *ds = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(path, &ds, &err), TK_OK);
    CU_ASSERT_EQUAL(ds->dataset_version, 1);
    CU_ASSERT_EQUAL_FATAL(ds->n_splits, 2);
    const tk_split *te = tk_dataset_split(ds, "test", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(te);
    CU_ASSERT_EQUAL(te->label[1], 1);
    CU_ASSERT_STRING_EQUAL(te->doc_id[0], "12");
    CU_ASSERT_STRING_EQUAL(te->doc_id[1], "40");
    size_t wl;
    CU_ASSERT_PTR_NULL(tk_split_word(te, 0, &wl));
    CU_ASSERT_EQUAL(ds->n_classes, 2);
    CU_ASSERT_STRING_EQUAL(ds->class_names[0], "neg");
    CU_ASSERT_STRING_EQUAL(ds->tokenizer.kind, "tokattr-imdb");
    CU_ASSERT_STRING_EQUAL(ds->tokenizer.vocab_sha256, "00ff");
    CU_ASSERT_EQUAL(ds->convention.index_from, 3);
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(ds, 4), "good");
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(ds, 2), "<oov>");
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(ds, 1), "<start>");
    /* Written again it becomes version 2 with the words of its ids. */
    char v2[4096];
    snprintf(v2, sizeof v2, "%s", tmp_path("v1_to_v2.h5"));
    CU_ASSERT_EQUAL_FATAL(tk_dataset_write(ds, v2, "v1", &err), TK_OK);
    tk_dataset *back = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(v2, &back, &err), TK_OK);
    CU_ASSERT_EQUAL(back->dataset_version, 2);
    const tk_split *bt = tk_dataset_split(back, "train", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bt);
    const char *w = tk_split_word(bt, 1, &wl);
    CU_ASSERT_TRUE(w != NULL && wl == 5 && memcmp(w, "<oov>", 5) == 0);
    CU_ASSERT_STRING_EQUAL(back->class_names[1], "pos");
    CU_ASSERT_STRING_EQUAL(back->word_index_sha256, "00ff");
    tk_dataset_destroy(back);
    tk_dataset_destroy(ds);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"v2 round trip: splits in order, labels, classes, doc ids, words with U+FFFD, tokenizer", test_round_trip},
        {"40,000 rows across many chunks come back exactly", test_many_chunks},
        {"abort leaves nothing; reserved split names refused", test_abort_and_bad_names},
        {"version 1 files are read (and rewritten as version 2)", test_reads_version_1},
        {NULL, NULL},
    };
    tk_test_add_suite("dataset v2", cases);
    return tk_test_run_all();
}
