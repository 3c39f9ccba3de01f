/* attr (gradients, IG, occlusion) against ../shared/fixtures/attributions.h5,
 * computed in float64 by an independent PyTorch/Captum implementation.
 * Per token: |ours - fixture| <= 1e-4 * max_t |fixture| for every review. */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "attr/quadrature.h"
#include "core/gemm.h"
#include "support/testutil.h"

enum { N_REVIEWS = 10 };
static const double REL_TOL = 1e-4;

/* Reads a whole dataset as doubles; n is its element count. */
static bool read_doubles(hid_t file, const char *name, double *buf, size_t n)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0)
        return false;
    hid_t space = H5Dget_space(ds);
    bool ok = space >= 0 && (size_t)H5Sget_simple_extent_npoints(space) == n &&
              H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(ds);
    return ok;
}

static bool read_ints(hid_t file, const char *name, int32_t *buf, size_t n)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0)
        return false;
    hid_t space = H5Dget_space(ds);
    bool ok = space >= 0 && (size_t)H5Sget_simple_extent_npoints(space) == n &&
              H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(ds);
    return ok;
}

typedef struct fixture_case {
    const char *name;  /* dataset in <model>/<output>/ */
    tk_method_kind kind;
    tk_ig_rule rule;
    tk_baseline_kind baseline;
    tk_reduce_kind reduce;
    bool abs_sum;      /* saliency_abs: sum_d |A| from the full attribution */
    const char *delta; /* delta/<name> to compare, or NULL */
    const char *f_base;/* f_baseline_<pad|zero>, or NULL */
} fixture_case;

static const fixture_case CASES[] = {
    {"ig_gausslegendre_pad", TK_METHOD_INTEGRATED_GRADIENTS, TK_IG_GAUSS_LEGENDRE, TK_BASELINE_PAD,
     TK_REDUCE_SUM, false, "ig_gausslegendre_pad", "f_baseline_pad"},
    {"ig_gausslegendre_zero", TK_METHOD_INTEGRATED_GRADIENTS, TK_IG_GAUSS_LEGENDRE,
     TK_BASELINE_ZEROS, TK_REDUCE_SUM, false, "ig_gausslegendre_zero", "f_baseline_zero"},
    {"ig_trapezoid_textbook_pad", TK_METHOD_INTEGRATED_GRADIENTS, TK_IG_RIEMANN_TRAPEZOID,
     TK_BASELINE_PAD, TK_REDUCE_SUM, false, "ig_trapezoid_textbook_pad", NULL},
    {"ig_trapezoid_textbook_zero", TK_METHOD_INTEGRATED_GRADIENTS, TK_IG_RIEMANN_TRAPEZOID,
     TK_BASELINE_ZEROS, TK_REDUCE_SUM, false, "ig_trapezoid_textbook_zero", NULL},
    {"gradient_sum", TK_METHOD_SALIENCY, 0, TK_BASELINE_PAD, TK_REDUCE_SUM, false, NULL, NULL},
    {"gradient_l2", TK_METHOD_SALIENCY, 0, TK_BASELINE_PAD, TK_REDUCE_L2, false, NULL, NULL},
    {"saliency_abs", TK_METHOD_SALIENCY, 0, TK_BASELINE_PAD, TK_REDUCE_SUM, true, NULL, NULL},
    {"input_x_gradient", TK_METHOD_GRAD_INPUT, 0, TK_BASELINE_PAD, TK_REDUCE_SUM, false, NULL, NULL},
    {"occlusion_pad", TK_METHOD_OCCLUSION, 0, TK_BASELINE_PAD, TK_REDUCE_SUM, false, NULL, NULL},
};

static void check_model(const char *group, const char *model_file)
{
    tk_error err = {0};
    tk_model *model = NULL;
    tk_status st = tk_model_load(tk_test_shared(model_file), &model, &err);
    if (st != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_FATAL(st == TK_OK);
    hid_t file = H5Fopen(tk_test_shared("fixtures/attributions.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(file >= 0);
    int T = model->maxlen, D = model->input_dim;
    char path[256];
    int32_t *ids = malloc(sizeof *ids * N_REVIEWS * T);
    int32_t target[N_REVIEWS];
    double *want = malloc(sizeof *want * N_REVIEWS * T);
    double delta[N_REVIEWS], f_in[N_REVIEWS], f_base[N_REVIEWS];
    float *score = malloc(sizeof *score * T), *full = malloc(sizeof *full * T * D);
    CU_ASSERT_FATAL(ids && want && score && full);
    snprintf(path, sizeof path, "%s/input_ids", group);
    CU_ASSERT_FATAL(read_ints(file, path, ids, (size_t)N_REVIEWS * T));
    snprintf(path, sizeof path, "%s/target", group);
    CU_ASSERT_FATAL(read_ints(file, path, target, N_REVIEWS));
    /* The LSTM fixture explains p of class 1 (its single unit) for every review. */
    if (model->n_outputs == 1)
        for (int r = 0; r < N_REVIEWS; r++)
            target[r] = 1;

    static const char *const OUTPUTS[] = {"prob", "logit"};
    for (int o = 0; o < 2; o++) {
        snprintf(path, sizeof path, "%s/%s/f_input", group, OUTPUTS[o]);
        CU_ASSERT_FATAL(read_doubles(file, path, f_in, N_REVIEWS));
        for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
            const fixture_case *fc = &CASES[c];
            snprintf(path, sizeof path, "%s/%s/%s", group, OUTPUTS[o], fc->name);
            CU_ASSERT_FATAL(read_doubles(file, path, want, (size_t)N_REVIEWS * T));
            if (fc->delta) {
                snprintf(path, sizeof path, "%s/%s/delta/%s", group, OUTPUTS[o], fc->delta);
                CU_ASSERT_FATAL(read_doubles(file, path, delta, N_REVIEWS));
            }
            if (fc->f_base) {
                snprintf(path, sizeof path, "%s/%s/%s", group, OUTPUTS[o], fc->f_base);
                CU_ASSERT_FATAL(read_doubles(file, path, f_base, N_REVIEWS));
            }
            double worst = 0.0, worst_f = 0.0, worst_delta = 0.0;
            for (int r = 0; r < N_REVIEWS; r++) {
                tk_method_params p;
                tk_method_params_default(&p, fc->kind);
                p.rule = fc->rule;
                p.baseline = fc->baseline;
                p.reduce = fc->reduce;
                p.output = o == 0 ? TK_OUTPUT_PROB : TK_OUTPUT_LOGIT;
                p.target = TK_TARGET_CLASS;
                p.target_class = target[r];
                tk_explainer *ex = NULL;
                st = tk_explainer_create(model, &p, NULL, T, &ex, &err);
                if (st != TK_OK)
                    fprintf(stderr, "\n%s\n", err.msg);
                CU_ASSERT_FATAL(st == TK_OK);
                tk_review rv = {.ids = ids + (size_t)r * T, .steps = T, .label = -1};
                tk_attribution a = {.score = score, .full = full};
                st = tk_explain(ex, &rv, &a, &err);
                CU_ASSERT_FATAL(st == TK_OK);
                const double *w = want + (size_t)r * T;
                double scale = 0.0;
                for (int t = 0; t < T; t++)
                    scale = fmax(scale, fabs(w[t]));
                for (int t = 0; t < T; t++) {
                    double got = score[t];
                    if (fc->abs_sum) {
                        got = 0.0;
                        for (int d = 0; d < D; d++)
                            got += fabs(full[(size_t)t * D + d]);
                    }
                    worst = fmax(worst, fabs(got - w[t]) / scale);
                }
                worst_f = fmax(worst_f, fabs(a.f_input - f_in[r]));
                if (fc->f_base)
                    worst_f = fmax(worst_f, fabs(a.f_baseline - f_base[r]));
                if (fc->delta) /* the delta is the quadrature's error: ours must match theirs */
                    worst_delta = fmax(worst_delta,
                                       fabs(a.axiom_error - delta[r]) / fmax(1e-3, fabs(a.f_input - a.f_baseline)));
                tk_explainer_destroy(ex);
            }
            printf("\n  %s %s/%s: worst |diff|/max|score| %.2e, |F diff| %.2e, delta diff %.2e",
                   group, OUTPUTS[o], fc->name, worst, worst_f, worst_delta);
            /* One exception, measured and explained: the textbook trapezoid's
             * alpha = 0 point is the all-pad input, where every window of the CNN
             * ties; the fixture's float64 convolution breaks one filter's tie at
             * window 48 by a 7e-18 rounding difference, we keep the first window
             * (as its max does for exact ties). That point has weight 1/98, and
             * moves up to 2.4e-4 of the largest score. */
            bool tie_case = strcmp(group, "cnn") == 0 &&
                            strcmp(fc->name, "ig_trapezoid_textbook_pad") == 0;
            CU_ASSERT(worst <= (tie_case ? 5e-4 : REL_TOL));
            CU_ASSERT(worst_f <= 1e-5);
            CU_ASSERT(worst_delta <= 1e-3);
        }
    }
    H5Fclose(file);
    free(ids);
    free(want);
    free(score);
    free(full);
    tk_model_destroy(model);
}

static void test_cnn_fixtures(void)
{
    check_model("cnn", "models/imdb_cnn.h5");
}

static void test_lstm_fixtures(void)
{
    check_model("lstm", "models/imdb_lstm.h5");
}

/* Our quadrature against the fixture's (numpy leggauss, textbook trapezoid). */
static void test_quadrature_matches_fixture(void)
{
    hid_t file = H5Fopen(tk_test_shared("fixtures/attributions.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(file >= 0);
    static const struct {
        const char *group;
        tk_ig_rule rule;
    } Q[] = {{"cnn/quadrature/gausslegendre", TK_IG_GAUSS_LEGENDRE},
             {"cnn/quadrature/trapezoid_textbook", TK_IG_RIEMANN_TRAPEZOID}};
    for (size_t i = 0; i < 2; i++) {
        double fa[50], fw[50], a[50], w[50];
        char path[128];
        snprintf(path, sizeof path, "%s/alphas", Q[i].group);
        CU_ASSERT_FATAL(read_doubles(file, path, fa, 50));
        snprintf(path, sizeof path, "%s/weights", Q[i].group);
        CU_ASSERT_FATAL(read_doubles(file, path, fw, 50));
        CU_ASSERT_FATAL(tk_quadrature(Q[i].rule, 50, a, w, NULL) == TK_OK);
        double worst = 0.0;
        for (int k = 0; k < 50; k++)
            worst = fmax(worst, fmax(fabs(a[k] - fa[k]), fabs(w[k] - fw[k])));
        CU_ASSERT(worst < 1e-14);
    }
    H5Fclose(file);
}

/* Gauss-Legendre with n points integrates polynomials of degree 2n-1 exactly. */
static void test_gauss_legendre_exactness(void)
{
    for (int n = 1; n <= 64; n *= 2) {
        double a[64], w[64];
        CU_ASSERT_FATAL(tk_quadrature(TK_IG_GAUSS_LEGENDRE, n, a, w, NULL) == TK_OK);
        for (int deg = 0; deg <= 2 * n - 1; deg++) {
            double s = 0.0;
            for (int k = 0; k < n; k++)
                s += w[k] * pow(a[k], deg);
            CU_ASSERT(fabs(s - 1.0 / (deg + 1)) < 1e-13);
        }
        for (int k = 1; k < n; k++)
            CU_ASSERT(a[k] > a[k - 1]);
    }
    double a[4], w[4];
    CU_ASSERT(tk_quadrature(TK_IG_RIEMANN_TRAPEZOID, 1, a, w, NULL) == TK_E_INVALID);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    static const tk_test_case cases[] = {
        {"quadrature matches the fixture's", test_quadrature_matches_fixture},
        {"gauss-legendre exact to degree 2n-1", test_gauss_legendre_exactness},
        {"cnn: every method matches attributions.h5", test_cnn_fixtures},
        {"lstm: every method matches attributions.h5", test_lstm_fixtures},
        {NULL, NULL},
    };
    tk_test_add_suite("attr_fixtures", cases);
    return tk_test_run_all();
}
