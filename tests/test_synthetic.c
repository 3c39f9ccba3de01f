/* The planted-token generator: the label is exactly "the planted id is
 * present", lengths and ids stay in range, and the seed fixes the data. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "data/synthetic.h"
#include "support/testutil.h"

static void check_split(const tk_split *s, const int32_t *planted_pos,
                        const tk_synthetic_spec *spec)
{
    int64_t n_pos = 0;
    for (int64_t i = 0; i < s->n; i++) {
        int64_t len = s->offset[i + 1] - s->offset[i];
        CU_ASSERT(len >= spec->min_len && len <= spec->max_len);
        const int32_t *w = s->ids + s->offset[i];
        int found = 0, first = -1;
        for (int64_t t = 0; t < len; t++) {
            CU_ASSERT(w[t] >= 4 && w[t] < spec->vocab_size);
            if (w[t] == spec->planted_id) {
                found++;
                if (first < 0)
                    first = (int)t;
            }
        }
        CU_ASSERT_EQUAL(s->label[i], found > 0);
        CU_ASSERT(found <= spec->n_planted);
        CU_ASSERT_EQUAL(planted_pos[i], first);
        CU_ASSERT_EQUAL(s->rating[i], found ? 10 : 1);
        n_pos += s->label[i];
        /* canonical order: negatives first */
        if (i > 0)
            CU_ASSERT(s->label[i] >= s->label[i - 1]);
    }
    CU_ASSERT_EQUAL(n_pos, s->n - s->n / 2);
}

static void test_labels_follow_planted_token(void)
{
    tk_synthetic_spec spec;
    tk_synthetic_spec_default(&spec);
    spec.n_planted = 2;
    tk_synthetic *syn = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_synthetic_create(&spec, &syn, &err), TK_OK);
    CU_ASSERT_EQUAL(syn->train.n, spec.n_train);
    CU_ASSERT_EQUAL(syn->test.n, spec.n_test);
    check_split(&syn->train, syn->train_planted_pos, &spec);
    check_split(&syn->test, syn->test_planted_pos, &spec);
    tk_synthetic_destroy(syn);
}

static void test_seed_fixes_data(void)
{
    tk_synthetic_spec spec;
    tk_synthetic_spec_default(&spec);
    tk_synthetic *a = NULL, *b = NULL, *c = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_synthetic_create(&spec, &a, NULL), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_synthetic_create(&spec, &b, NULL), TK_OK);
    spec.seed = 2;
    CU_ASSERT_EQUAL_FATAL(tk_synthetic_create(&spec, &c, NULL), TK_OK);
    size_t bytes = sizeof(int32_t) * (size_t)a->train.offset[a->train.n];
    CU_ASSERT_EQUAL(a->train.offset[a->train.n], b->train.offset[b->train.n]);
    CU_ASSERT(memcmp(a->train.ids, b->train.ids, bytes) == 0);
    CU_ASSERT(a->train.offset[a->train.n] != c->train.offset[c->train.n] ||
              memcmp(a->train.ids, c->train.ids, bytes) != 0);
    tk_synthetic_destroy(a);
    tk_synthetic_destroy(b);
    tk_synthetic_destroy(c);
}

static void test_bad_spec(void)
{
    tk_synthetic_spec spec;
    tk_synthetic_spec_default(&spec);
    spec.planted_id = spec.vocab_size;
    tk_synthetic *syn = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_synthetic_create(&spec, &syn, &err), TK_E_INVALID);
    CU_ASSERT_PTR_NULL(syn);
    CU_ASSERT(strstr(err.msg, "planted_id") != NULL);
    tk_synthetic_destroy(NULL);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {
        {"labels follow the planted token", test_labels_follow_planted_token},
        {"the seed fixes the data", test_seed_fixes_data},
        {"bad spec", test_bad_spec},
        {NULL, NULL},
    };
    tk_test_add_suite("synthetic", cases);
    return tk_test_run_all();
}
