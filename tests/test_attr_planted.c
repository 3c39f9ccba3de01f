/* Planted-token checks (issues 5 and 8): on the synthetic task the label is
 * decided only by the presence of one token, so a model that learned it must
 * rest its decision on that token, and every attribution method should give
 * the planted position the largest |score| in >= 95% of the positive test
 * reviews. The models are trained here, in-process, like
 * configs/synthetic_planted.yaml. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "attr/attr.h"
#include "core/gemm.h"
#include "support/planted_model.h"
#include "support/testutil.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* configs/synthetic_planted.yaml */
static const tk_layer_spec CNN[] = {
    {.kind = TK_LAYER_EMBEDDING, .input_dim = 1000, .output_dim = 8},
    {.kind = TK_LAYER_CONV1D, .filters = 8, .kernel_size = 1, .activation = TK_ACT_RELU},
    {.kind = TK_LAYER_GLOBAL_MAX_POOL1D},
    {.kind = TK_LAYER_DENSE, .units = 2, .activation = TK_ACT_SOFTMAX},
};

static const tk_layer_spec LSTM[] = {
    {.kind = TK_LAYER_EMBEDDING, .input_dim = 1000, .output_dim = 8},
    {.kind = TK_LAYER_LSTM, .units = 8},
    {.kind = TK_LAYER_DENSE, .units = 2, .activation = TK_ACT_SOFTMAX},
};

static const tk_method_kind REQUIRED[] = {
    TK_METHOD_INTEGRATED_GRADIENTS, TK_METHOD_GRAD_INPUT, TK_METHOD_OCCLUSION,
    TK_METHOD_DEEPLIFT,             TK_METHOD_DEEPSHAP,   TK_METHOD_LRP_EPSILON,
};

enum { BACKGROUND = 20 };

/* Share of the positive reviews whose planted position has the strictly
 * largest |score|; -1 when the method could not run. */
static double planted_first_share(const tk_planted_case *pc, tk_method_kind kind)
{
    tk_method_params p;
    tk_method_params_default(&p, kind);
    p.n_steps = 50;                   /* IG: Gauss-Legendre, 50 points */
    p.rule = TK_IG_GAUSS_LEGENDRE;
    p.baseline = TK_BASELINE_PAD;     /* IG baseline, DeepLIFT reference, occlusion fill */
    p.background_size = BACKGROUND;   /* DeepSHAP: the first 20 train reviews */
    p.background_random = false;
    tk_background bg = {pc->bg_ids, NULL, pc->n_background, pc->steps};
    tk_explainer *ex = NULL;
    tk_error err = {0};
    if (tk_explainer_create(pc->model, &p, &bg, pc->steps, &ex, &err) != TK_OK) {
        fprintf(stderr, "%s: %s\n", tk_method_kind_name(kind), err.msg);
        return -1;
    }
    float *score = malloc((size_t)pc->steps * sizeof *score); /* (steps) */
    if (!score) {
        tk_explainer_destroy(ex);
        return -1;
    }
    int first = 0, explained = 0;
    for (int r = 0; r < pc->n_test; r++) {
        tk_review rv = {pc->test_ids + (size_t)r * pc->steps, NULL, pc->steps, 1};
        tk_attribution a = {.score = score};
        if (tk_explain(ex, &rv, &a, &err) != TK_OK) {
            fprintf(stderr, "%s: review %d: %s\n", tk_method_kind_name(kind), r, err.msg);
            break;
        }
        explained++;
        int at = pc->planted_at[r];
        bool top = isfinite(score[at]);
        for (int t = 0; t < pc->steps && top; t++)
            if (t != at && !(fabsf(score[t]) < fabsf(score[at])))
                top = false; /* a tie is not a win: all-zero scores must fail */
        first += top;
    }
    free(score);
    tk_explainer_destroy(ex);
    if (explained < pc->n_test)
        return -1;
    return (double)first / pc->n_test;
}

static void check_model(const char *label, const tk_layer_spec *specs, int n_specs, int epochs)
{
    tk_planted_case *pc = NULL;
    tk_error err = {0};
    tk_status st = tk_planted_case_create(specs, n_specs, epochs, BACKGROUND, &pc, &err);
    if (st != TK_OK)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(st, TK_OK);
    printf("\n  %s: test accuracy %.4f, %d positive test reviews\n", label, pc->test_accuracy,
           pc->n_test);
    /* the premise: the model learned the task, else nothing below means anything */
    CU_ASSERT(pc->test_accuracy >= 0.99);
    CU_ASSERT(pc->n_test >= 400);
    for (int i = 0; i < COUNT(REQUIRED); i++) {
        double share = planted_first_share(pc, REQUIRED[i]);
        printf("  %s %-21s planted token first in %6.2f%%\n", label,
               tk_method_kind_name(REQUIRED[i]), 100.0 * share);
        CU_ASSERT(share >= 0.95);
    }
    /* saliency (|gradient|) is not held to the bar: it says where the output
     * is sensitive, not what the input contributed; printed for comparison */
    printf("  %s %-21s planted token first in %6.2f%% (not asserted)\n", label,
           tk_method_kind_name(TK_METHOD_SALIENCY),
           100.0 * planted_first_share(pc, TK_METHOD_SALIENCY));
    tk_planted_case_destroy(pc);
}

static void test_cnn_planted_first(void)
{
    check_model("cnn", CNN, COUNT(CNN), 3);
}

/* The LSTM is trained for the config's 3 epochs. grad_input is the method
 * closest to the bar here: 95.0% at 3 epochs (96.2% at 2), but 77% at 4 and
 * 67% at 5 epochs, with the logit output too (93.4% at 3): as the gates
 * saturate, the local gradient at the planted token shrinks while the
 * path-integrated (IG), difference-based (DeepLIFT, DeepSHAP, occlusion) and
 * LRP scores stay >= 99%. That is the saturation problem of gradient-times-
 * input (Sundararajan et al. 2017, section 2; Shrikumar et al. 2017), a
 * property of the method, not a bug: if this assert fails after a change to
 * the LSTM code, look at those figures first. */
static void test_lstm_planted_first(void)
{
    check_model("lstm", LSTM, COUNT(LSTM), 3);
}

int main(void)
{
    tk_blas_single_thread();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {
        {"cnn: planted token first for every method", test_cnn_planted_first},
        {"lstm: planted token first for every method", test_lstm_planted_first},
        {NULL, NULL},
    };
    tk_test_add_suite("planted", cases);
    return tk_test_run_all();
}
