/* labels: unit */
/* Review selection specs (data/selection.h): indices and ranges, ids with
 * @label / @split qualifiers, an ambiguous id refused with every match
 * listed, duplicates and out-of-range indices refused, a job's
 * select.reviews checked at load and resolved in split order. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "data/selection.h"
#include "support/testutil.h"

/* IMDB-like: the number 12 is a neg and a pos review, 7 only neg. */
static const char *const IDS[] = {"7", "12", "3", "12", "40", "x@y"};
static const int32_t LABELS[] = {0, 0, 1, 1, 1, 0};
static const char *const CLASSES[] = {"neg", "pos"};
static const tk_selection_table TABLE = {.n = 6,
                                         .id = IDS,
                                         .label = LABELS,
                                         .class_names = CLASSES,
                                         .n_classes = 2,
                                         .split = "test"};

/* Resolves spec; on success compares with want (n_want), else returns the message. */
static int resolve(const char *spec, const int64_t *want, int64_t n_want, char *msg)
{
    int64_t *got = NULL, n = -1;
    tk_error err = {0};
    tk_status st = tk_selection_select(spec, "--reviews", &TABLE, &got, &n, &err);
    if (msg)
        strcpy(msg, err.msg);
    if (st != TK_OK) {
        CU_ASSERT_PTR_NULL(got);
        return 0;
    }
    CU_ASSERT_EQUAL(n, n_want);
    for (int64_t i = 0; i < n && i < n_want; i++)
        CU_ASSERT_EQUAL(got[i], want[i]);
    free(got);
    return 1;
}

static void test_indices(void)
{
    const int64_t a[] = {0, 1, 2, 3};
    CU_ASSERT(resolve("0-3", a, 4, NULL));
    const int64_t b[] = {5, 0, 2, 3};
    CU_ASSERT(resolve("5, 0,2-3", b, 4, NULL)); /* spec order, blanks allowed */
    char msg[TK_ERROR_MAX];
    CU_ASSERT(!resolve("0-6", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "outside the split (test: 6 reviews, indices 0-5)"));
    CU_ASSERT(!resolve("3-1", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "backwards"));
    CU_ASSERT(!resolve("-1", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "not a review"));
    CU_ASSERT(!resolve("1,,2", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "empty item"));
    CU_ASSERT(!resolve("", NULL, 0, msg));
    CU_ASSERT(!resolve("0-2,2", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "review 2 is selected twice (by 0-2 and by 2)"));
}

static void test_ids(void)
{
    const int64_t seven[] = {0};
    CU_ASSERT(resolve("id:7", seven, 1, NULL));
    const int64_t twelve_pos[] = {3, 1};
    CU_ASSERT(resolve("id:12@label:pos,id:12@label:0", twelve_pos, 2, NULL));
    const int64_t with_split[] = {1};
    CU_ASSERT(resolve("id:12@split:test@label:neg", with_split, 1, NULL));
    char msg[TK_ERROR_MAX];
    /* ambiguous: both matches listed with their index and label, no pick */
    CU_ASSERT(!resolve("id:12", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "ambiguous"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "index 1 (label 0 (neg))"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "index 3 (label 1 (pos))"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "@label"));
    CU_ASSERT(!resolve("id:99", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no review has id 99"));
    CU_ASSERT(!resolve("id:7@label:pos", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "none with label pos"));
    CU_ASSERT(!resolve("id:7@split:train", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "the test split, not train"));
    CU_ASSERT(!resolve("id:7@colour:red", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "not a qualifier"));
    CU_ASSERT(!resolve("id:7@label:0@label:1", NULL, 0, msg));
    CU_ASSERT(!resolve("id:", NULL, 0, msg));
    CU_ASSERT(!resolve("id:7,0", NULL, 0, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "review 0 is selected twice (by id:7 and by 0)"));
    /* an id with '@' is reachable by index only: the '@' starts a qualifier */
    CU_ASSERT(!resolve("id:x@y", NULL, 0, msg));
}

static void test_unlabelled_and_numeric_ids(void)
{
    const int64_t nums[] = {100, 200, 100};
    tk_error err = {0};
    char **ids = tk_selection_ids_from_i64(3, nums, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ids);
    CU_ASSERT_STRING_EQUAL(ids[1], "200");
    tk_selection_table t = {.n = 3, .id = (const char *const *)ids};
    int64_t *got = NULL, n = 0;
    CU_ASSERT_EQUAL(tk_selection_select("id:200", "--review", &t, &got, &n, &err), TK_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(got ? got[0] : -1, 1);
    free(got);
    err = (tk_error){0};
    CU_ASSERT_NOT_EQUAL(tk_selection_select("id:100@label:1", "--review", &t, &got, &n, &err),
                        TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no labels"));
    err = (tk_error){0};
    CU_ASSERT_NOT_EQUAL(tk_selection_select("id:100", "--review", &t, &got, &n, &err), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--review 'id:100'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "index 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "index 2"));
    free(ids);
}

static void test_split_rows_sorted(void)
{
    char *doc[] = {"5", "9", "5"};
    int32_t label[] = {0, 1, 1};
    char name[] = "test";
    tk_split sp = {.n = 3, .label = label, .doc_id = doc, .name = name};
    char *classes[] = {"neg", "pos"};
    tk_dataset ds = {.n_classes = 2, .class_names = classes};
    int64_t rows[3], n = 0;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_selection_split_rows("id:5@label:pos,0,id:9", "select.reviews", &ds, &sp,
                                            rows, &n, &err),
                    TK_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT(rows[0] == 0 && rows[1] == 1 && rows[2] == 2); /* the split's order */
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {{"indices", test_indices},
                                         {"ids", test_ids},
                                         {"unlabelled_and_numeric_ids", test_unlabelled_and_numeric_ids},
                                         {"split_rows_sorted", test_split_rows_sorted},
                                         {NULL, NULL}};
    tk_test_add_suite("selection", cases);
    return tk_test_run_all();
}
