/* data: the reader, vocabulary and prepare rules on small hand-made inputs
 * (fast), and bad input that must fail with a message naming the problem. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/imdb_reader.h"
#include "data/model_input.h"
#include "data/prepare.h"
#include "data/vocab.h"
#include "support/testutil.h"

static void put(const char *root, const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    /* mkdir -p of the parent */
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* A minimal aclImdb/ with the noise of the official archive around it. */
static const char *make_small(const char *name)
{
    static char root[4096];
    snprintf(root, sizeof root, "%s/%s", tk_test_tmpdir(), name);
    mkdir(root, 0755);
    put(root, "aclImdb/train/neg/10_1.txt", "Bad bad movie.");
    put(root, "aclImdb/train/neg/2_3.txt", "A bad, dull film!");
    put(root, "aclImdb/train/pos/5_9.txt", "Great film<br /><br />great cast");
    put(root, "aclImdb/train/pos/0_10.txt", "zebra yak");
    put(root, "aclImdb/test/neg/1_2.txt", "dull and unseen");
    put(root, "aclImdb/test/pos/3_8.txt", "GREAT");
    put(root, "aclImdb/train/unsup/0_0.txt", "unsup must be ignored ignored ignored");
    put(root, "aclImdb/train/urls_pos.txt", "http://x");
    put(root, "aclImdb/train/labeledBow.feat", "0:1");
    put(root, "aclImdb/imdb.vocab", "the");
    return root;
}

static void test_small_directory(void)
{
    tk_prepare_options opt = {.source = make_small("small")};
    tk_dataset *ds = NULL;
    tk_prepare_stats stats;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_prepare_dataset(&opt, &ds, &stats, &err), TK_OK);
    /* Train counts: bad 3; br, film, great 2; a, cast, dull, movie, yak,
     * zebra 1. Equal counts in byte order. */
    static const char *const want[] = {"bad", "br", "film", "great", "a", "cast", "dull", "movie", "yak", "zebra"};
    CU_ASSERT_EQUAL_FATAL(ds->vocab_size, 10);
    for (int r = 0; r < 10; r++)
        CU_ASSERT_STRING_EQUAL(ds->vocab[r], want[r]);
    CU_ASSERT_EQUAL(ds->counts[0], 3);
    CU_ASSERT_EQUAL(ds->counts[9], 1);
    /* Canonical order: neg 2 before neg 10 (numeric, not text), then pos. */
    CU_ASSERT_EQUAL_FATAL(ds->splits[0].n, 4);
    CU_ASSERT_EQUAL(ds->splits[0].review_id[0], 2);
    CU_ASSERT_EQUAL(ds->splits[0].review_id[1], 10);
    CU_ASSERT_EQUAL(ds->splits[0].review_id[2], 0);
    CU_ASSERT_EQUAL(ds->splits[0].rating[2], 10);
    CU_ASSERT_EQUAL(ds->splits[0].label[1], 0);
    CU_ASSERT_EQUAL(ds->splits[0].label[2], 1);
    /* "A bad, dull film!" -> a=5+3, bad=1+3, dull=7+3, film=3+3 */
    int32_t first[] = {8, 4, 10, 6};
    CU_ASSERT_EQUAL(ds->splits[0].offset[1], 4);
    CU_ASSERT_EQUAL(memcmp(ds->splits[0].ids, first, sizeof first), 0);
    /* Test: "dull and unseen": and, unseen are not in train -> 2. */
    CU_ASSERT_EQUAL_FATAL(ds->splits[1].offset[1], 3);
    CU_ASSERT_EQUAL(ds->splits[1].ids[0], 10);
    CU_ASSERT_EQUAL(ds->splits[1].ids[1], TK_ID_OOV);
    CU_ASSERT_EQUAL(ds->splits[1].ids[2], TK_ID_OOV);
    CU_ASSERT_EQUAL(stats.oov_tokens[1], 2);
    CU_ASSERT_EQUAL(stats.reviews[1][1], 1);

    /* The exported word index, loaded back, gives the same ids. */
    char wi[4096];
    snprintf(wi, sizeof wi, "%s/small_wi.json", tk_test_tmpdir());
    CU_ASSERT_EQUAL_FATAL(tk_word_index_write(wi, ds->vocab, ds->vocab_size, &err), TK_OK);
    tk_prepare_options opt2 = {.source = opt.source, .word_index = wi};
    tk_dataset *ds2 = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_prepare_dataset(&opt2, &ds2, &stats, &err), TK_OK);
    CU_ASSERT_EQUAL(ds2->vocab_size, ds->vocab_size);
    CU_ASSERT_EQUAL(ds2->splits[0].offset[4], ds->splits[0].offset[4]);
    CU_ASSERT_EQUAL(memcmp(ds2->splits[0].ids, ds->splits[0].ids, (size_t)ds->splits[0].offset[4] * 4), 0);
    CU_ASSERT_EQUAL(memcmp(ds2->splits[1].ids, ds->splits[1].ids, (size_t)ds->splits[1].offset[2] * 4), 0);
    CU_ASSERT_EQUAL(ds2->counts[0], -1);
    CU_ASSERT_STRING_EQUAL(ds2->word_index_sha256, ds->word_index_sha256);
    tk_dataset_destroy(ds2);
    tk_dataset_destroy(ds);
}

static void expect_failure(const tk_prepare_options *opt, const char *needle)
{
    tk_dataset *ds = NULL;
    tk_prepare_stats stats;
    tk_error err = {0};
    CU_ASSERT_NOT_EQUAL(tk_prepare_dataset(opt, &ds, &stats, &err), TK_OK);
    CU_ASSERT_PTR_NULL(ds);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
    if (strstr(err.msg, needle) == NULL)
        fprintf(stderr, "\nmessage '%s' does not name '%s'\n", err.msg, needle);
}

static void test_bad_directories(void)
{
    const char *root = make_small("bad_name");
    put(root, "aclImdb/train/pos/notes.txt", "x");
    tk_prepare_options opt = {.source = root};
    expect_failure(&opt, "notes.txt");

    root = make_small("bad_rating");
    put(root, "aclImdb/test/neg/7_8.txt", "a neg review rated 8");
    opt.source = root;
    expect_failure(&opt, "7_8.txt");

    char no_test[4096];
    snprintf(no_test, sizeof no_test, "%s/no_test", tk_test_tmpdir());
    mkdir(no_test, 0755);
    put(no_test, "aclImdb/train/neg/1_1.txt", "x");
    put(no_test, "aclImdb/train/pos/1_9.txt", "x");
    opt.source = no_test;
    expect_failure(&opt, "test/neg");

    opt.source = "/nonexistent/aclImdb_v1.tar.gz";
    expect_failure(&opt, "/nonexistent/aclImdb_v1.tar.gz");
}

static void test_bad_word_indexes(void)
{
    static const struct {
        const char *name, *text, *needle;
    } cases[] = {
        {"empty.json", "", "empty"},
        {"malformed.json", "{\"the\": 1, \"and\": ", "not valid JSON"},
        {"array.json", "[1, 2]", "object"},
        {"zero.json", "{\"the\": 0}", "positive integer"},
        {"frac.json", "{\"the\": 1.5}", "positive integer"},
        {"string.json", "{\"the\": \"1\"}", "positive integer"},
        {"dup_rank.json", "{\"the\": 1, \"and\": 1}", "rank 1"},
        {"dup_word.json", "{\"the\": 1, \"the\": 2}", "twice"},
    };
    const char *root = make_small("wi");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, cases[i].name);
        put(root, cases[i].name, cases[i].text);
        tk_prepare_options opt = {.source = root, .word_index = path};
        expect_failure(&opt, cases[i].needle);
        expect_failure(&opt, cases[i].name);
    }
}

static void test_classify(void)
{
    int s, l, r;
    int32_t id;
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/test/pos/10000_7.txt", &s, &l, &id, &r), 1);
    CU_ASSERT_EQUAL(s, TK_SPLIT_TEST);
    CU_ASSERT_EQUAL(l, 1);
    CU_ASSERT_EQUAL(id, 10000);
    CU_ASSERT_EQUAL(r, 7);
    CU_ASSERT_EQUAL(tk_imdb_classify("./aclImdb/train/neg/0_3.txt", &s, &l, &id, &r), 1);
    CU_ASSERT_EQUAL(tk_imdb_classify("train/neg/0_3.txt", &s, &l, &id, &r), 1);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/unsup/0_0.txt", &s, &l, &id, &r), 0);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/urls_neg.txt", &s, &l, &id, &r), 0);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/labeledBow.feat", &s, &l, &id, &r), 0);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/imdb.vocab", &s, &l, &id, &r), 0);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/pos/", &s, &l, &id, &r), 0);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/pos/12_5.txt", &s, &l, &id, &r), -1);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/pos/12_11.txt", &s, &l, &id, &r), -1);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/pos/12_9.text", &s, &l, &id, &r), -1);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/pos/_9.txt", &s, &l, &id, &r), -1);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/pos/x1_9.txt", &s, &l, &id, &r), -1);
    CU_ASSERT_EQUAL(tk_imdb_classify("aclImdb/train/pos/99999999999_9.txt", &s, &l, &id, &r), -1);
}

static void test_dataset_read_rejects_garbage(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/garbage.h5", tk_test_tmpdir());
    put(tk_test_tmpdir(), "garbage.h5", "this is not an HDF5 file");
    tk_dataset *ds = NULL;
    tk_error err = {0};
    CU_ASSERT_NOT_EQUAL(tk_dataset_read(path, &ds, &err), TK_OK);
    CU_ASSERT_PTR_NULL(ds);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "garbage.h5"));
}

/* A file with the dataset layout but impossible content is refused on read
 * (later steps index arrays with these values). */
static void test_dataset_read_rejects_bad_content(void)
{
    int64_t offset[] = {0, 2, 3};   /* (n + 1) */
    int32_t ids[] = {4, 5, 6};      /* (3) */
    int32_t label[] = {0, 1};
    int8_t rating[] = {1, 9};
    int32_t review_id[] = {0, 1};
    char *vocab[] = {"a", "b", "c"};
    int64_t counts[] = {3, 2, 1};
    tk_split splits[2] = {{2, offset, ids, label, rating, review_id, "train", NULL, NULL, NULL},
                          {2, offset, ids, label, rating, review_id, "test", NULL, NULL, NULL}};
    tk_dataset ds = {.splits = splits, .n_splits = 2, .vocab_size = 3, .vocab = vocab, .counts = counts};
    char path[4096];
    tk_error err = {0};
    tk_dataset *back = NULL;
    snprintf(path, sizeof path, "%s/tiny.h5", tk_test_tmpdir());
    CU_ASSERT_EQUAL_FATAL(tk_dataset_write(&ds, path, "hand-made", &err), TK_OK);
    CU_ASSERT_TRUE(tk_dataset_probe(path));
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(path, &back, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(back, 6), "c");
    tk_dataset_destroy(back);

    label[1] = 7;
    CU_ASSERT_EQUAL_FATAL(tk_dataset_write(&ds, path, "hand-made", &err), TK_OK);
    CU_ASSERT_EQUAL(tk_dataset_read(path, &back, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "label"));
    label[1] = 1;

    ids[2] = 99; /* beyond the 3-word vocabulary */
    tk_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(tk_dataset_write(&ds, path, "hand-made", &err), TK_OK);
    CU_ASSERT_EQUAL(tk_dataset_read(path, &back, &err), TK_E_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "beyond the vocabulary"));
    CU_ASSERT_PTR_NULL(back);
    CU_ASSERT_FALSE(tk_dataset_probe("/nonexistent.h5"));
}

static void test_unwritable_output(void)
{
    tk_prepare_options opt = {.source = make_small("unwritable")};
    tk_dataset *ds = NULL;
    tk_prepare_stats stats;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_prepare_dataset(&opt, &ds, &stats, &err), TK_OK);
    CU_ASSERT_NOT_EQUAL(tk_dataset_write(ds, "/nonexistent/dir/out.h5", "x", &err), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/dir/out.h5"));
    tk_dataset_destroy(ds);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"small directory: order, vocabulary ties, ids, OOV, word index round trip", test_small_directory},
        {"bad file name, bad rating, missing test/, missing source", test_bad_directories},
        {"empty and malformed word indexes", test_bad_word_indexes},
        {"entry classification", test_classify},
        {"dataset read rejects a non-HDF5 file", test_dataset_read_rejects_garbage},
        {"dataset read rejects impossible content", test_dataset_read_rejects_bad_content},
        {"unwritable output path", test_unwritable_output},
        {NULL, NULL},
    };
    tk_test_add_suite("data small", cases);
    return tk_test_run_all();
}
