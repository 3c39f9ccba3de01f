/* The attribution rules table (src/attr/rules.h): a row for every layer
 * kind, rules for every kind that can be in a model's body, and the FLOP
 * counts that walk the model's and the rules' tables, against hand counts. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "attr/attr.h"
#include "attr/rules.h"
#include "core/gemm.h"
#include "support/testutil.h"

static void test_table(void)
{
    for (int k = 0; k < TK_LAYER_KIND_COUNT; k++) {
        const tk_attr_rules *r = tk_attr_rules_of((tk_layer_kind)k);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        if (k == TK_LAYER_EMBEDDING) /* looked up before the body, never walked */
            continue;
        CU_ASSERT_PTR_NOT_NULL(r->dl_backward);
        CU_ASSERT_PTR_NOT_NULL(r->lrp_backward);
    }
    CU_ASSERT_EQUAL(tk_attr_rules_of(TK_LAYER_GLOBAL_MAX_POOL1D)->route, TK_ROUTE_ONE);
    CU_ASSERT_EQUAL(tk_attr_rules_of(TK_LAYER_DROPOUT)->route, TK_ROUTE_PASS);
    CU_ASSERT_EQUAL(tk_attr_rules_of(TK_LAYER_ACTIVATION)->route, TK_ROUTE_PASS);
    CU_ASSERT_EQUAL(tk_attr_rules_of(TK_LAYER_DENSE)->route, TK_ROUTE_BLOCK);
    /* out of range: the empty row, not a crash */
    CU_ASSERT_PTR_NULL(tk_attr_rules_of(TK_LAYER_KIND_COUNT)->dl_backward);
}

static double flops_of(const tk_model *m, tk_method_kind kind, int steps)
{
    tk_method_params p;
    tk_method_params_default(&p, kind);
    tk_explainer *ex = NULL;
    tk_error err = {0};
    if (tk_explainer_create(m, &p, NULL, steps, &ex, &err) != TK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    double f = tk_explainer_flops(ex, steps);
    tk_explainer_destroy(ex);
    return f;
}

/* Embedding(10, 4) -> Conv1D(3, 2, relu, valid) -> Dropout -> GlobalMaxPooling1D
 * -> Dense(1, sigmoid), 5 steps: the Conv1D has 4 outputs. */
static void test_flops(void)
{
    tk_layer l[5];
    l[0] = tk_test_layer(TK_LAYER_EMBEDDING, "embedding");
    l[0].input_dim = 10, l[0].output_dim = 4;
    l[1] = tk_test_layer(TK_LAYER_CONV1D, "conv1d");
    l[1].filters = 3, l[1].kernel_size = 2, l[1].activation = TK_ACT_RELU;
    l[2] = tk_test_layer(TK_LAYER_DROPOUT, "dropout");
    l[3] = tk_test_layer(TK_LAYER_GLOBAL_MAX_POOL1D, "gmp");
    l[4] = tk_test_layer(TK_LAYER_DENSE, "dense");
    l[4].units = 1, l[4].activation = TK_ACT_SIGMOID;
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_model_from_layers(l, 5, 5, 0, &m, &err) == TK_OK);
    double fwd = 2.0 * 4 * 2 * 4 * 3 + 2.0 * 3; /* 198 */
    /* gradient: the Conv1D behind global max pooling costs one window */
    CU_ASSERT_EQUAL(flops_of(m, TK_METHOD_SALIENCY, 5), fwd + 2.0 * 2 * 4 * 3 + 2.0 * 3);
    /* DeepLIFT: 2 FLOPs per multiply-add, 2 routed windows per filter */
    CU_ASSERT_EQUAL(flops_of(m, TK_METHOD_DEEPLIFT, 5), fwd + 2.0 * (2 * 2 * 4 * 3 + 3));
    /* LRP: 4 FLOPs per multiply-add, 1 window per filter */
    CU_ASSERT_EQUAL(flops_of(m, TK_METHOD_LRP_EPSILON, 5), fwd + 4.0 * (1 * 2 * 4 * 3 + 3));
    tk_model_destroy(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"a row for every kind", test_table},
        {"FLOP counts through the tables", test_flops},
        {NULL, NULL},
    };
    tk_test_add_suite("attr rules", cases);
    return tk_test_run_all();
}
