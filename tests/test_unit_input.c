/* labels: pipeline */
/* Reading a dataset in pieces (data/dataset.h: tk_dataset_read_index,
 * tk_docs_*) and the model inputs a computing rank prepares from them
 * (pipeline/unit_input.h), against the whole file read at once by
 * tk_dataset_read and tk_prepare_input_ex on its split: same documents,
 * ids, words, labels and inputs for contiguous, crossing-chunk, sparse and
 * empty documents; refusals for bad ranges and splits. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/model_input.h"
#include "pipeline/unit_input.h"
#include "support/testutil.h"

enum { N = 9000, V = 60, STEPS = 6 };

static char PATH[4096];

static int say(const tk_error *err)
{
    fprintf(stderr, "%s\n", err->msg);
    return -1;
}

/* Document d: d % 9 words (0 for every ninth), ids (d + k) % V + 1, one
 * letter each; split "test" except every fifth document ("train"). */
static int make_dataset(void)
{
    snprintf(PATH, sizeof PATH, "%s/pieces.h5", tk_test_tmpdir());
    tk_dataset_writer *w = NULL;
    tk_error err = {0};
    if (tk_dataset_writer_create(PATH, &w, &err) != TK_OK)
        return say(&err);
    int32_t ids[16];
    size_t start[16];
    uint32_t len[16];
    char words[16], id[16];
    for (int i = 0; i < 16; i++)
        start[i] = (size_t)i, len[i] = 1;
    for (int d = 0; d < N; d++) {
        int n = d % 9;
        for (int k = 0; k < n; k++) {
            ids[k] = (d + k) % V + 1;
            words[k] = (char)('a' + (d + k) % 26);
        }
        snprintf(id, sizeof id, "doc%d", d);
        tk_dataset_doc doc = {.split = d % 5 ? "test" : "train", .label = d % 3, .rating = (int8_t)(d % 10),
                              .review_id = d, .doc_id = id, .n = (size_t)n, .ids = ids, .words = words,
                              .word_start = start, .word_len = len};
        if (tk_dataset_writer_add(w, &doc, &err) != TK_OK)
            return say(&err);
    }
    char *vocab[V], *classes[3] = {"x", "y", "z"};
    for (int r = 0; r < V; r++)
        vocab[r] = "w";
    tk_tokenizer_record rec = {.kind = "word-index"};
    tk_dataset_meta meta = {.source = "hand", .format = "csv", .vocab_size = V, .vocab = vocab,
                            .n_classes = 3, .class_names = classes, .tokenizer = &rec,
                            .convention = {.pad_id = 0, .start_id = -1, .oov_id = 1, .index_from = 1}};
    if (tk_dataset_writer_finish(w, &meta, &err) != TK_OK)
        return say(&err);
    return 0;
}

static void test_index_only(void)
{
    tk_dataset *all = NULL, *idx = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(PATH, &all, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read_index(PATH, &idx, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(idx->n_splits, all->n_splits);
    CU_ASSERT_EQUAL(idx->vocab_size, all->vocab_size);
    for (int k = 0; k < idx->n_splits; k++) {
        const tk_split *a = &all->splits[k], *b = &idx->splits[k];
        CU_ASSERT_STRING_EQUAL(a->name, b->name);
        CU_ASSERT_EQUAL_FATAL(a->n, b->n);
        CU_ASSERT(memcmp(a->offset, b->offset, (size_t)(a->n + 1) * sizeof *a->offset) == 0);
        CU_ASSERT(memcmp(a->label, b->label, (size_t)a->n * sizeof *a->label) == 0);
        CU_ASSERT(memcmp(a->review_id, b->review_id, (size_t)a->n * sizeof *a->review_id) == 0);
        CU_ASSERT(memcmp(a->rating, b->rating, (size_t)a->n) == 0);
        /* no documents: that is the point */
        CU_ASSERT_PTR_NULL(b->ids);
        CU_ASSERT_PTR_NULL(b->doc_id);
        CU_ASSERT_PTR_NULL(b->word_offset);
    }
    tk_dataset_destroy(all);
    tk_dataset_destroy(idx);
}

/* The header: each split's name and n as the full read has them, and no
 * per-document array (what rank 0 keeps must not grow with the corpus). */
static void test_header_only(void)
{
    tk_dataset *all = NULL, *hd = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(PATH, &all, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read_header(PATH, &hd, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(hd->n_splits, all->n_splits);
    CU_ASSERT_EQUAL(hd->vocab_size, all->vocab_size);
    CU_ASSERT_EQUAL(hd->n_classes, all->n_classes);
    for (int k = 0; k < hd->n_splits; k++) {
        const tk_split *a = &all->splits[k], *b = &hd->splits[k];
        CU_ASSERT_STRING_EQUAL(a->name, b->name);
        CU_ASSERT_EQUAL(a->n, b->n);
        CU_ASSERT(b->offset == NULL && b->label == NULL && b->rating == NULL &&
                  b->review_id == NULL && b->ids == NULL && b->doc_id == NULL);
    }
    tk_dataset_destroy(all);
    tk_dataset_destroy(hd);
}

/* A label outside the classes: the header read does not look at labels,
 * so tk_docs_read refuses it, naming the file and the review. */
static void test_docs_bad_label(void)
{
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/badlabel.h5", tk_test_tmpdir());
    tk_dataset_writer *w = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_create(bad, &w, &err), TK_OK);
    int32_t ids[1] = {3};
    size_t start[1] = {0};
    uint32_t len[1] = {1};
    for (int d = 0; d < 10; d++) {
        char id[16];
        snprintf(id, sizeof id, "d%d", d);
        tk_dataset_doc doc = {.split = "test", .label = d == 7 ? 5 : d % 2, .review_id = d,
                              .doc_id = id, .n = 1, .ids = ids, .words = "x", .word_start = start,
                              .word_len = len};
        CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_add(w, &doc, &err), TK_OK);
    }
    char *vocab[4] = {"a", "b", "c", "d"}, *classes[2] = {"neg", "pos"};
    tk_tokenizer_record rec = {.kind = "word-index"};
    tk_dataset_meta meta = {.source = "hand", .format = "csv", .vocab_size = 4, .vocab = vocab,
                            .n_classes = 2, .class_names = classes, .tokenizer = &rec,
                            .convention = {.pad_id = 0, .start_id = -1, .oov_id = 1, .index_from = 1}};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_writer_finish(w, &meta, &err), TK_OK);
    tk_dataset *hd = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read_header(bad, &hd, &err), TK_OK);
    tk_dataset_destroy(hd);
    tk_docs_reader *r = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_docs_open_ex(bad, "test", true, &r, &err), TK_OK);
    tk_split s;
    CU_ASSERT_EQUAL(tk_docs_read(r, 0, 7, false, &s, &err), TK_OK); /* before the bad one */
    tk_split_free(&s);
    err = (tk_error){0};
    CU_ASSERT_EQUAL(tk_docs_read(r, 5, 5, false, &s, &err), TK_E_FORMAT);
    CU_ASSERT(strstr(err.msg, bad) != NULL && strstr(err.msg, "review 7") != NULL &&
              strstr(err.msg, "label 5") != NULL);
    CU_ASSERT_PTR_NULL(s.label);
    tk_docs_close(r);
}

/* Documents [first, first + count) of split sp equal what tk_docs_read gives. */
static int64_t range_mismatches(tk_docs_reader *r, const tk_split *sp, int64_t first, int64_t count)
{
    tk_split s;
    tk_error err = {0};
    if (tk_docs_read(r, first, count, true, &s, &err) != TK_OK) {
        fprintf(stderr, "\n%s\n", err.msg);
        return -1;
    }
    int64_t bad = s.n != count;
    for (int64_t i = 0; i < count && !bad; i++) {
        int64_t d = first + i, n = sp->offset[d + 1] - sp->offset[d];
        bad += s.offset[i + 1] - s.offset[i] != n || s.label[i] != sp->label[d] ||
               s.rating[i] != sp->rating[d] || s.review_id[i] != sp->review_id[d] ||
               strcmp(s.doc_id[i], sp->doc_id[d]) != 0;
        for (int64_t k = 0; k < n && !bad; k++) {
            size_t la = 0, lb = 0;
            const char *wa = tk_split_word(sp, sp->offset[d] + k, &la);
            const char *wb = tk_split_word(&s, s.offset[i] + k, &lb);
            bad += s.ids[s.offset[i] + k] != sp->ids[sp->offset[d] + k] || la != lb ||
                   memcmp(wa, wb, la) != 0;
        }
    }
    tk_split_free(&s);
    return bad;
}

static void test_docs_ranges(void)
{
    tk_dataset *all = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(PATH, &all, &err), TK_OK);
    const tk_split *sp = tk_dataset_split(all, "test", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
    tk_docs_reader *r = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_docs_open(PATH, "test", &r, &err), TK_OK);
    CU_ASSERT_EQUAL(tk_docs_count(r), sp->n);
    CU_ASSERT_EQUAL(range_mismatches(r, sp, 0, 1), 0);
    CU_ASSERT_EQUAL(range_mismatches(r, sp, 0, 50), 0);
    CU_ASSERT_EQUAL(range_mismatches(r, sp, 4000, 3000), 0); /* across HDF5 chunks */
    CU_ASSERT_EQUAL(range_mismatches(r, sp, sp->n - 7, 7), 0);
    CU_ASSERT_EQUAL(range_mismatches(r, sp, 9, 0), 0);
    /* a reader with the small caches of reading in order: the same rows */
    tk_docs_reader *q = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_docs_open_ex(PATH, "test", true, &q, &err), TK_OK);
    for (int64_t a = 0; a < sp->n; a += 1000)
        CU_ASSERT_EQUAL(range_mismatches(q, sp, a, sp->n - a < 1000 ? sp->n - a : 1000), 0);
    tk_docs_close(q);
    /* a document without words (every ninth) */
    int64_t empty = -1;
    for (int64_t i = 0; i < sp->n && empty < 0; i++)
        if (sp->offset[i + 1] == sp->offset[i])
            empty = i;
    CU_ASSERT_FATAL(empty >= 0);
    CU_ASSERT_EQUAL(range_mismatches(r, sp, empty, 1), 0);
    /* out of range: refused, nothing returned */
    tk_split s;
    err = (tk_error){0};
    CU_ASSERT_NOT_EQUAL(tk_docs_read(r, sp->n - 1, 2, true, &s, &err), TK_OK);
    CU_ASSERT_PTR_NULL(s.ids);
    tk_docs_close(r);
    /* a split that is not there, by name */
    err = (tk_error){0};
    CU_ASSERT_NOT_EQUAL(tk_docs_open(PATH, "dev", &r, &err), TK_OK);
    CU_ASSERT(strstr(err.msg, "dev") != NULL);
    err = (tk_error){0};
    CU_ASSERT_NOT_EQUAL(tk_docs_open(PATH, "test/ids", &r, &err), TK_OK);
    tk_docs_close(NULL);
    tk_dataset_destroy(all);
}

/* tk_unit_input against tk_prepare_input_ex on the whole split. */
static int64_t input_mismatches(tk_docs_reader *r, const tk_split *sp, const int64_t *pos, int64_t count,
                                tk_unit_docs *u)
{
    tk_input_spec spec;
    tk_input_spec_default(&spec, 40, STEPS);
    int32_t *ids = malloc((size_t)count * STEPS * sizeof *ids), *labels = malloc((size_t)count * sizeof *labels);
    int32_t want[STEPS];
    tk_error err = {0};
    int64_t bad = 0;
    if (tk_unit_input(r, &spec, pos, count, u, ids, labels, &err) != TK_OK) {
        fprintf(stderr, "\n%s\n", err.msg);
        bad = -1;
    }
    for (int64_t i = 0; i < count && bad == 0; i++) {
        int64_t d = pos[i];
        tk_prepare_input_ex(&spec, sp->ids + sp->offset[d], sp->offset[d + 1] - sp->offset[d], want, NULL, NULL);
        bad += memcmp(want, ids + i * STEPS, sizeof want) != 0 || labels[i] != sp->label[d];
    }
    free(ids);
    free(labels);
    return bad;
}

static void test_unit_inputs(void)
{
    tk_dataset *all = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(PATH, &all, &err), TK_OK);
    const tk_split *sp = tk_dataset_split(all, "test", NULL);
    tk_docs_reader *r = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_docs_open(PATH, "test", &r, &err), TK_OK);
    tk_unit_docs u = {0};
    int64_t run[16], gaps[5] = {2, 3, 4000, 7100, sp->n - 1}, few[3] = {10, 12, 30};
    for (int i = 0; i < 16; i++)
        run[i] = 500 + i;
    CU_ASSERT_EQUAL(input_mismatches(r, sp, run, 16, &u), 0);   /* one span */
    CU_ASSERT_EQUAL(input_mismatches(r, sp, gaps, 5, &u), 0);   /* sparse: one by one */
    CU_ASSERT_EQUAL(u.span.n, 5);
    CU_ASSERT_EQUAL(input_mismatches(r, sp, few, 3, &u), 0);    /* a short span with holes */
    CU_ASSERT_EQUAL(u.span.n, 21);
    tk_unit_docs_free(&u);
    tk_docs_close(r);
    tk_dataset_destroy(all);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (make_dataset() != 0)
        return 2;
    static const tk_test_case cases[] = {
        {"index only = the full read without documents", test_index_only},
        {"header only = names and counts, no per-document array", test_header_only},
        {"a label outside the classes is refused by tk_docs_read", test_docs_bad_label},
        {"document ranges = the full read", test_docs_ranges},
        {"a unit's inputs = tk_prepare_input_ex", test_unit_inputs},
        {NULL, NULL},
    };
    tk_test_add_suite("unit_input", cases);
    return tk_test_run_all();
}
