/* attr (gradients, IG, occlusion) checked against things that do not come
 * from our own code: central finite differences of the model, the IG
 * axioms (completeness, convergence of the quadrature), the straightforward
 * IG path against the fast path, independence of batch history, and
 * edge-case reviews. Inputs are the fixture's prepared reviews. */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "attr/ig_fast.h"
#include "attr/quadrature.h"
#include "attr/target.h"
#include "core/gemm.h"
#include "data/model_input.h"
#include "model/build.h"
#include "model/init.h"
#include "support/testutil.h"

enum { N_REVIEWS = 10 };

typedef struct fixture {
    tk_model *model;
    int T, D;
    int32_t ids[N_REVIEWS * 100]; /* (N_REVIEWS, T) prepared inputs, T <= 100 */
} fixture;

static fixture CNN, LSTM;

static bool load(fixture *fx, const char *model_file, const char *group)
{
    tk_error err = {0};
    if (tk_model_load(tk_test_shared(model_file), &fx->model, &err) != TK_OK) {
        fprintf(stderr, "\n%s\n", err.msg);
        return false;
    }
    fx->T = fx->model->maxlen;
    fx->D = fx->model->input_dim;
    hid_t file = H5Fopen(tk_test_shared("fixtures/attributions.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return false;
    char path[64];
    snprintf(path, sizeof path, "%s/input_ids", group);
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    bool ok = ds >= 0 && fx->T <= 100 &&
              H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, fx->ids) >= 0;
    if (ds >= 0)
        H5Dclose(ds);
    H5Fclose(file);
    return ok;
}

static tk_review review_of(const fixture *fx, int r)
{
    tk_review rv = {.ids = fx->ids + (size_t)r * fx->T, .steps = fx->T, .label = -1};
    return rv;
}

/* F at x (steps, D) in double through the model's forward pass. */
static double f_at(const tk_model *m, tk_workspace *ws, tk_output_kind output, int target,
                   const float *x, int steps)
{
    float logits[16];
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_model_forward(m, ws, 1, steps, x, logits, &err) == TK_OK);
    return tk_explained_scalar(m, output, target, logits, NULL);
}

/* Saliency's full gradient against central differences of F along random
 * directions: (F(x + h v) - F(x - h v)) / 2h = <grad, v> (both in double). */
static void check_finite_differences(fixture *fx)
{
    const tk_model *m = fx->model;
    int T = fx->T, D = fx->D;
    size_t n = (size_t)T * D;
    tk_error err = {0};
    tk_workspace *ws = tk_workspace_create(m, 1, T, &err);
    float *x = malloc(n * sizeof *x), *xp = malloc(n * sizeof *xp), *g = malloc(n * sizeof *g);
    float *v = malloc(n * sizeof *v), score[100];
    CU_ASSERT_FATAL(ws && x && xp && g && v);
    srand(11);
    double worst = 0.0;
    for (int o = 0; o < 2; o++) {
        tk_method_params p;
        tk_method_params_default(&p, TK_METHOD_SALIENCY);
        p.output = o == 0 ? TK_OUTPUT_LOGIT : TK_OUTPUT_PROB;
        tk_explainer *ex = NULL;
        CU_ASSERT_FATAL(tk_explainer_create(m, &p, NULL, T, &ex, &err) == TK_OK);
        for (int r = 0; r < 3; r++) {
            tk_review rv = review_of(fx, r);
            tk_attribution a = {.score = score, .full = g};
            CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
            CU_ASSERT_FATAL(tk_model_embed(m, rv.ids, 1, T, x, &err) == TK_OK);
            for (int dir = 0; dir < 4; dir++) {
                /* Random direction on the last 20 positions (the words), norm 1. */
                double norm = 0.0;
                for (size_t i = 0; i < n; i++) {
                    v[i] = i >= (size_t)(T - 20) * D ? (float)rand() / RAND_MAX - 0.5f : 0.0f;
                    norm += (double)v[i] * v[i];
                }
                double dot = 0.0;
                for (size_t i = 0; i < n; i++) {
                    v[i] = (float)(v[i] / sqrt(norm));
                    dot += (double)g[i] * v[i];
                }
                const double h = 1e-2;
                for (size_t i = 0; i < n; i++)
                    xp[i] = (float)(x[i] + h * v[i]);
                double fp = f_at(m, ws, p.output, a.target, xp, T);
                for (size_t i = 0; i < n; i++)
                    xp[i] = (float)(x[i] - h * v[i]);
                double fm = f_at(m, ws, p.output, a.target, xp, T);
                double fd = (fp - fm) / (2 * h);
                double gnorm = 0.0;
                for (size_t i = 0; i < n; i++)
                    gnorm += (double)g[i] * g[i];
                double rel = fabs(fd - dot) / fmax(sqrt(gnorm), 1e-6);
                worst = fmax(worst, rel);
            }
        }
        tk_explainer_destroy(ex);
    }
    printf("\n  worst |FD - <grad, v>| / |grad| = %.2e", worst);
    CU_ASSERT(worst < 2e-2);
    tk_workspace_destroy(ws);
    free(x);
    free(xp);
    free(g);
    free(v);
}

static void test_fd_cnn(void)
{
    check_finite_differences(&CNN);
}

static void test_fd_lstm(void)
{
    check_finite_differences(&LSTM);
}

/* The CNN's linearity fast path against every point through the whole model. */
static void check_fast_matches_plain(fixture *fx)
{
    const tk_model *m = fx->model;
    int T = fx->T;
    tk_error err = {0};
    /* Rules without alpha = 0: at the baseline itself every window of the
     * CNN ties exactly, where the model's pooling may pick any of them (its
     * GEMM rounds identical rows differently) and the fast path picks the
     * first. Reviews 0-3 have no repeated window, for the same reason. */
    static const tk_ig_rule RULES[] = {TK_IG_GAUSS_LEGENDRE, TK_IG_RIEMANN_MIDDLE,
                                       TK_IG_RIEMANN_RIGHT};
    static const tk_baseline_kind BASES[] = {TK_BASELINE_PAD, TK_BASELINE_ZEROS, TK_BASELINE_OOV};
    double worst = 0.0, worst_delta = 0.0;
    for (int c = 0; c < 3; c++) {
        tk_method_params p;
        tk_method_params_default(&p, TK_METHOD_INTEGRATED_GRADIENTS);
        p.rule = RULES[c];
        p.baseline = BASES[c];
        p.output = c == 1 ? TK_OUTPUT_LOGIT : TK_OUTPUT_PROB;
        p.n_steps = c == 2 ? 70 : 50; /* 70 > one plain chunk: two batches */
        void *fast = NULL, *plain = NULL;
        CU_ASSERT_FATAL(tk_ig_ops.create(m, &p, NULL, T, &fast, &err) == TK_OK);
        CU_ASSERT_FATAL(tk_ig_plain_ops.create(m, &p, NULL, T, &plain, &err) == TK_OK);
        for (int r = 0; r < 4; r++) {
            float s1[100], s2[100];
            tk_review rv = review_of(fx, r);
            tk_attribution a1 = {.score = s1}, a2 = {.score = s2};
            CU_ASSERT_FATAL(tk_ig_ops.explain(fast, &rv, &a1, &err) == TK_OK);
            CU_ASSERT_FATAL(tk_ig_plain_ops.explain(plain, &rv, &a2, &err) == TK_OK);
            double scale = 0.0;
            for (int t = 0; t < T; t++)
                scale = fmax(scale, fabs(s2[t]));
            for (int t = 0; t < T; t++)
                worst = fmax(worst, fabs(s1[t] - s2[t]) / scale);
            worst_delta = fmax(worst_delta, fabs(a1.axiom_error - a2.axiom_error) /
                                                fmax(1e-3, fabs(a2.f_input - a2.f_baseline)));
            /* the fast path's F(x) comes from its own kernels (tk_ig_cnn_logits) */
            CU_ASSERT(fabs(a1.f_input - a2.f_input) <= 1e-6 * fmax(1.0, fabs(a2.f_input)) &&
                      a1.target == a2.target);
        }
        tk_ig_ops.destroy(fast);
        tk_ig_plain_ops.destroy(plain);
    }
    printf("\n  fast vs plain: worst %.2e of max|score|, delta %.2e", worst, worst_delta);
    CU_ASSERT(worst < 1e-5);
    CU_ASSERT(worst_delta < 1e-5);
}

static void test_ig_fast_matches_plain_cnn(void)
{
    check_fast_matches_plain(&CNN);
}

static void test_ig_fast_matches_plain_lstm(void)
{
    check_fast_matches_plain(&LSTM);
}

/* The LSTM path's second sum (weight2, the adaptive rule's Gauss sum in the
 * Kronrod points' pass): the first sum keeps the bits it has alone (g1);
 * the second equals, to float rounding, a pass with weight2 as the
 * weights; a second weight on a point without a first is refused. */
static void check_second_sum(tk_ig_lstm *l, const tk_method_params *p, int target, const float *x,
                             const float *xb, int T, int D, int n_points, const double *alpha,
                             const double *weight, const float *g1)
{
    tk_error err = {0};
    size_t n = (size_t)T * (size_t)D;
    double *w1 = malloc((size_t)n_points * sizeof *w1), *w2 = malloc((size_t)n_points * sizeof *w2);
    float *g = malloc(n * sizeof *g), *gb = malloc(n * sizeof *gb), *want = malloc(n * sizeof *want);
    CU_ASSERT_FATAL(w1 && w2 && g && gb && want);
    for (int k = 0; k < n_points; k++)
        w2[k] = k % 2 ? 1.7 * weight[k] : 0.0; /* every other point, as Gauss in Kronrod */
    CU_ASSERT_FATAL(tk_ig_lstm_gradient(l, p, target, x, xb, T, n_points, alpha, weight, w2, g, gb,
                                        &err) == TK_OK);
    CU_ASSERT(memcmp(g, g1, n * sizeof *g) == 0);
    CU_ASSERT_FATAL(tk_ig_lstm_gradient(l, p, target, x, xb, T, n_points, alpha, w2, NULL, want,
                                        NULL, &err) == TK_OK);
    double scale = 0.0, diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(want[i]));
        diff = fmax(diff, fabs((double)gb[i] - want[i]));
    }
    CU_ASSERT(scale > 0.0);
    CU_ASSERT(diff <= 1e-5 * scale);
    memcpy(w1, weight, (size_t)n_points * sizeof *w1);
    w1[1] = 0.0;
    CU_ASSERT(tk_ig_lstm_gradient(l, p, target, x, xb, T, n_points, alpha, w1, w2, g, gb, &err) ==
              TK_E_INTERNAL);
    free(w1);
    free(w2);
    free(g);
    free(gb);
    free(want);
}

/* The LSTM path runs leading rows equal to the baseline's once per review
 * (ig_lstm.c). Against the same path with that skip off, on `words` (T)
 * moved behind k pad tokens: every row's gradient is bitwise the same,
 * except on rows equal to the baseline's, whose attribution (x - x') g is
 * 0 both ways (and whose skipped gradient must be 0, which fails if
 * nothing was skipped); completeness holds on the skipped path; a zeros
 * baseline differs from the pad row and skips nothing. Returns the rows
 * skipped; *worst gets the worst |delta| / |dF|, which must stay below tol. */
static int check_prefix_skip(const tk_model *m, int T, const int32_t *words, int n_points,
                             double tol, double *worst)
{
    int D = m->input_dim;
    size_t n = (size_t)T * D, row = (size_t)D * sizeof(float);
    tk_error err = {0};
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_INTEGRATED_GRADIENTS);
    double *alpha = malloc((size_t)n_points * sizeof *alpha);
    double *weight = malloc((size_t)n_points * sizeof *weight);
    CU_ASSERT_FATAL(alpha && weight);
    CU_ASSERT_FATAL(tk_quadrature(TK_IG_GAUSS_LEGENDRE, n_points, alpha, weight, &err) == TK_OK);
    tk_ig_lstm *on = NULL, *off = NULL;
    CU_ASSERT_FATAL(tk_ig_lstm_create(m, T, n_points, &on, &err) == TK_OK && on != NULL);
    CU_ASSERT_FATAL(tk_ig_lstm_create(m, T, n_points, &off, &err) == TK_OK && off != NULL);
    tk_ig_lstm_set_prefix_skip(off, false);
    tk_workspace *ws = tk_workspace_create(m, 1, T, &err);
    float *x = malloc(n * sizeof *x), *xb = malloc(n * sizeof *xb);
    float *g1 = malloc(n * sizeof *g1), *g2 = malloc(n * sizeof *g2);
    int32_t *ids = malloc((size_t)T * sizeof *ids), *pads = calloc((size_t)T, sizeof *pads);
    CU_ASSERT_FATAL(ws && x && xb && g1 && g2 && ids && pads);
    const int leads[] = {0, 1, T / 4, T / 2, T - 1, T};
    int skipped = 0;
    *worst = 0.0;
    for (int b = 0; b < 2; b++) {
        if (b == 0) {
            CU_ASSERT_FATAL(tk_model_embed(m, pads, 1, T, xb, &err) == TK_OK);
        } else {
            memset(xb, 0, n * sizeof *xb);
        }
        for (size_t c = 0; c < sizeof leads / sizeof *leads; c++) {
            int k = leads[c];
            for (int t = 0; t < T; t++)
                ids[t] = t < k ? TK_ID_PAD : words[t];
            CU_ASSERT_FATAL(tk_model_embed(m, ids, 1, T, x, &err) == TK_OK);
            int n_targets = m->n_outputs == 1 ? 2 : m->n_outputs;
            for (int target = 0; target < n_targets; target++) {
                CU_ASSERT_FATAL(tk_ig_lstm_gradient(on, &p, target, x, xb, T, n_points, alpha,
                                                    weight, NULL, g1, NULL, &err) == TK_OK);
                CU_ASSERT_FATAL(tk_ig_lstm_gradient(off, &p, target, x, xb, T, n_points, alpha,
                                                    weight, NULL, g2, NULL, &err) == TK_OK);
                if (c == 2)
                    check_second_sum(on, &p, target, x, xb, T, D, n_points, alpha, weight, g1);
                double sum = 0.0;
                for (int t = 0; t < T; t++) {
                    const float *a1 = g1 + (size_t)t * D, *a2 = g2 + (size_t)t * D;
                    const float *xt = x + (size_t)t * D, *bt = xb + (size_t)t * D;
                    if (memcmp(xt, bt, row) != 0 || t == T - 1) {
                        CU_ASSERT(memcmp(a1, a2, row) == 0);
                    } else {
                        for (int d = 0; d < D; d++)
                            CU_ASSERT(a1[d] == 0.0f && (xt[d] - bt[d]) * a2[d] == 0.0f);
                        skipped++;
                    }
                    for (int d = 0; d < D; d++)
                        sum += ((double)xt[d] - bt[d]) * a1[d];
                }
                double df = f_at(m, ws, p.output, target, x, T) - f_at(m, ws, p.output, target, xb, T);
                double rel = fabs(sum - df) / fmax(fabs(df), 1e-3);
                *worst = fmax(*worst, rel);
                CU_ASSERT(rel < tol);
            }
        }
        /* The pad baseline skips at least the k pads (at most T - 1) per target
         * (more where `words` is itself padded); zeros none. */
        int n_targets = m->n_outputs == 1 ? 2 : m->n_outputs;
        if (b == 0)
            CU_ASSERT(skipped >= n_targets * (1 + T / 4 + T / 2 + 2 * (T - 1)));
        if (b == 1)
            CU_ASSERT(skipped == 0 || skipped >= n_targets * (1 + T / 4 + T / 2 + 2 * (T - 1)));
        if (b == 0)
            printf("\n  pad baseline: %d rows skipped", skipped);
    }
    tk_ig_lstm_destroy(on);
    tk_ig_lstm_destroy(off);
    tk_workspace_destroy(ws);
    free(alpha);
    free(weight);
    free(x);
    free(xb);
    free(g1);
    free(g2);
    free(ids);
    free(pads);
    return skipped;
}

static void test_ig_lstm_prefix_skip(void)
{
    double worst;
    int base = check_prefix_skip(LSTM.model, LSTM.T, LSTM.ids, 50, 1e-2, &worst);
    printf(", all baselines %d, worst |delta|/|dF| %.2e", base, worst);
    /* The zeros baseline must not add any. */
    CU_ASSERT(base == 2 * (1 + LSTM.T / 4 + LSTM.T / 2 + 2 * (LSTM.T - 1)));
}

/* The same on a tiny LSTM with hard_sigmoid gates, widths that are not
 * multiples of the vector length, a relu -> softmax head and 70 points
 * (groups of 8 and a last one of 6). */
static void test_ig_lstm_prefix_skip_tiny(void)
{
    enum { TT = 12 };
    static const tk_layer_spec SPECS[] = {
        {.kind = TK_LAYER_EMBEDDING, .input_dim = 30, .output_dim = 6},
        {.kind = TK_LAYER_LSTM, .units = 20},
        {.kind = TK_LAYER_DENSE, .units = 7, .activation = TK_ACT_RELU},
        {.kind = TK_LAYER_DENSE, .units = 3, .activation = TK_ACT_SOFTMAX},
    };
    tk_model *m = NULL;
    tk_error err = {0};
    CU_ASSERT_FATAL(tk_model_build(SPECS, 4, TT, &m, &err) == TK_OK);
    CU_ASSERT_FATAL(tk_model_init_keras(m, 7, &err) == TK_OK);
    m->layers[m->first_body_layer].recurrent_activation = TK_ACT_HARD_SIGMOID;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] *= 2.0f; /* sharper than Keras' start: gates reach the hard sigmoid's kinks */
    static const int32_t WORDS[TT] = {1, 4, 9, 22, 17, 8, 2, 13, 27, 6, 11, 5};
    double worst;
    /* The hard sigmoid's kinks along the path: GL converges slowly there. */
    int skipped = check_prefix_skip(m, TT, WORDS, 70, 0.1, &worst);
    printf(", all baselines %d, worst |delta|/|dF| %.2e", skipped, worst);
    CU_ASSERT(skipped == 3 * (1 + TT / 4 + TT / 2 + 2 * (TT - 1)));
    tk_model_destroy(m);
}

/* The CNN path's own F(x) (tk_ig_cnn_logits): the same bits cold, after a
 * gradient on x (its convolution reused) and after other inputs, and the
 * model's forward pass to float rounding. The pooling over the candidate
 * positions only (alpha >= 0) against the full scan, which one extra point
 * at alpha < 0 with weight 0 forces and which adds nothing to the sum:
 * bitwise, on the fixture's reviews (pre-padding: many tied windows), on a
 * review of two alternating words (ties everywhere), and with another
 * review as the baseline (a baseline that is not the same row at every
 * position: the dominance lists rather than the records). */
static void test_ig_cnn_logits_and_candidates(void)
{
    const tk_model *m = CNN.model;
    int T = CNN.T, D = CNN.D, K = m->n_outputs;
    size_t row = (size_t)T * D;
    enum { N = 50 };
    tk_error err = {0};
    tk_ig_cnn *cold = NULL, *warm = NULL;
    CU_ASSERT_FATAL(tk_ig_cnn_create(m, T, N + 1, &cold, &err) == TK_OK && cold != NULL);
    CU_ASSERT_FATAL(tk_ig_cnn_create(m, T, N + 1, &warm, &err) == TK_OK && warm != NULL);
    tk_workspace *ws = tk_workspace_create(m, 1, T, &err);
    float *x = malloc(row * sizeof *x), *xb = malloc(row * sizeof *xb);
    float *other = malloc(row * sizeof *other), *g1 = malloc(row * sizeof *g1);
    float *g2 = malloc(row * sizeof *g2);
    CU_ASSERT_FATAL(ws && x && xb && other && g1 && g2);
    double alpha[N + 1], weight[N + 1];
    for (int p = 0; p < N; p++) {
        alpha[p] = (p + 0.5) / N;
        weight[p] = 1.0 / N;
    }
    alpha[N] = -0.25;
    weight[N] = 0.0;
    tk_method_params params;
    tk_method_params_default(&params, TK_METHOD_INTEGRATED_GRADIENTS);
    int32_t alt[100];
    for (int t = 0; t < T; t++)
        alt[t] = t % 2 ? 17 : 42;
    double worst = 0.0;
    int compared = 0;
    for (int r = 0; r < N_REVIEWS + 2; r++) {
        const int32_t *ids = r < N_REVIEWS ? CNN.ids + (size_t)r * T : alt;
        CU_ASSERT_FATAL(tk_model_embed(m, ids, 1, T, x, &err) == TK_OK);
        /* baseline: the pad row everywhere, or (last review) review 3 */
        int32_t pad[100] = {0};
        CU_ASSERT_FATAL(tk_model_embed(m, r == N_REVIEWS + 1 ? CNN.ids + 3 * (size_t)T : pad, 1,
                                       T, xb, &err) == TK_OK);
        CU_ASSERT_FATAL(tk_model_embed(m, CNN.ids + (size_t)((r + 1) % N_REVIEWS) * T, 1, T,
                                       other, &err) == TK_OK);
        float l_cold[16], l_reused[16], l_after[16], l_model[16];
        /* cold: a fresh path whose first call is F(x) */
        tk_ig_cnn *fresh = NULL;
        CU_ASSERT_FATAL(tk_ig_cnn_create(m, T, N + 1, &fresh, &err) == TK_OK);
        CU_ASSERT_FATAL(tk_ig_cnn_logits(fresh, x, T, l_cold, &err) == TK_OK);
        tk_ig_cnn_destroy(fresh);
        /* reused: a gradient on x first keeps its convolution */
        CU_ASSERT_FATAL(tk_ig_cnn_gradient(warm, &params, 0, x, xb, T, N, alpha, weight, g1,
                                           &err) == TK_OK);
        CU_ASSERT_FATAL(tk_ig_cnn_logits(warm, x, T, l_reused, &err) == TK_OK);
        /* after another input */
        CU_ASSERT_FATAL(tk_ig_cnn_logits(warm, other, T, l_after, &err) == TK_OK);
        CU_ASSERT_FATAL(tk_ig_cnn_logits(warm, x, T, l_after, &err) == TK_OK);
        CU_ASSERT(memcmp(l_cold, l_reused, (size_t)K * sizeof *l_cold) == 0);
        CU_ASSERT(memcmp(l_cold, l_after, (size_t)K * sizeof *l_cold) == 0);
        CU_ASSERT_FATAL(tk_model_forward(m, ws, 1, T, x, l_model, &err) == TK_OK);
        for (int k = 0; k < K; k++)
            worst = fmax(worst, fabs(l_cold[k] - l_model[k]) / fmax(1.0, fabs(l_model[k])));
        /* candidates (first N points) against the full scan (N + 1) */
        CU_ASSERT_FATAL(tk_ig_cnn_gradient(cold, &params, 0, x, xb, T, N + 1, alpha, weight, g2,
                                           &err) == TK_OK);
        CU_ASSERT(memcmp(g1, g2, row * sizeof *g1) == 0);
        compared++;
    }
    printf("\n  %d reviews: F(x) of the path vs the model's forward: worst %.2e", compared, worst);
    CU_ASSERT(worst < 1e-5);
    tk_ig_cnn_destroy(cold);
    tk_ig_cnn_destroy(warm);
    tk_workspace_destroy(ws);
    free(x);
    free(xb);
    free(other);
    free(g1);
    free(g2);
}

/* A review's result is bitwise the same alone or after others. */
static void check_history(fixture *fx)
{
    static const tk_method_kind KINDS[] = {TK_METHOD_SALIENCY, TK_METHOD_GRAD_INPUT,
                                           TK_METHOD_INTEGRATED_GRADIENTS, TK_METHOD_OCCLUSION};
    tk_error err = {0};
    int T = fx->T;
    for (size_t k = 0; k < 4; k++) {
        tk_method_params p;
        tk_method_params_default(&p, KINDS[k]);
        p.n_steps = 16;
        float alone[100], after[100];
        tk_explainer *ex = NULL;
        CU_ASSERT_FATAL(tk_explainer_create(fx->model, &p, NULL, T, &ex, &err) == TK_OK);
        tk_review rv = review_of(fx, 5);
        tk_attribution a = {.score = alone};
        CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
        tk_explainer_destroy(ex);
        CU_ASSERT_FATAL(tk_explainer_create(fx->model, &p, NULL, T, &ex, &err) == TK_OK);
        for (int r = 0; r < 5; r++) {
            tk_review other = review_of(fx, (r * 3 + 1) % N_REVIEWS);
            tk_attribution b = {.score = after};
            CU_ASSERT_FATAL(tk_explain(ex, &other, &b, &err) == TK_OK);
        }
        tk_attribution b = {.score = after};
        CU_ASSERT_FATAL(tk_explain(ex, &rv, &b, &err) == TK_OK);
        CU_ASSERT(memcmp(alone, after, (size_t)T * sizeof *alone) == 0);
        CU_ASSERT(a.f_input == b.f_input && a.f_baseline == b.f_baseline &&
                  a.axiom_error == b.axiom_error);
        tk_explainer_destroy(ex);
    }
}

static void test_history_cnn(void)
{
    check_history(&CNN);
}

static void test_history_lstm(void)
{
    check_history(&LSTM);
}

/* Mean |delta| / |F(x) - F(x')| over the fixture reviews for a rule and n. */
static double mean_rel_delta(fixture *fx, tk_ig_rule rule, int n)
{
    tk_error err = {0};
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_INTEGRATED_GRADIENTS);
    p.rule = rule;
    p.n_steps = n;
    tk_explainer *ex = NULL;
    CU_ASSERT_FATAL(tk_explainer_create(fx->model, &p, NULL, fx->T, &ex, &err) == TK_OK);
    double sum = 0.0;
    float s[100];
    for (int r = 0; r < N_REVIEWS; r++) {
        tk_review rv = review_of(fx, r);
        tk_attribution a = {.score = s};
        CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
        sum += fabs(a.axiom_error) / fmax(fabs(a.f_input - a.f_baseline), 1e-6);
    }
    tk_explainer_destroy(ex);
    return sum / N_REVIEWS;
}

/* GL is exact for polynomials of degree 2n - 1, so it wins on smooth
 * integrands (the LSTM). The CNN's path is piecewise smooth (relu and max
 * switch along it), where no rule has an order advantage: there we only
 * require GL to be no worse than trapezoid by more than a quarter. */
static void check_convergence(fixture *fx, double gl_slack)
{
    double gl[4], tr[4];
    for (int i = 0; i < 4; i++) {
        gl[i] = mean_rel_delta(fx, TK_IG_GAUSS_LEGENDRE, 8 << i);
        tr[i] = mean_rel_delta(fx, TK_IG_RIEMANN_TRAPEZOID, 8 << i);
        printf("\n  n = %2d: mean |delta|/|dF| GL %.2e, trapezoid %.2e", 8 << i, gl[i], tr[i]);
    }
    /* Float rounding puts a floor under the error: require a fall until it is reached. */
    for (int i = 1; i < 4; i++) {
        CU_ASSERT(gl[i] < gl[i - 1] || gl[i] < 1e-4);
        CU_ASSERT(tr[i] < tr[i - 1] || tr[i] < 1e-4);
    }
    double gl50 = mean_rel_delta(fx, TK_IG_GAUSS_LEGENDRE, 50);
    CU_ASSERT(gl50 < 1e-2);
    CU_ASSERT(gl[0] + gl[1] + gl[2] + gl[3] < gl_slack * (tr[0] + tr[1] + tr[2] + tr[3]));
}

static void test_convergence_cnn(void)
{
    check_convergence(&CNN, 1.25);
}

static void test_convergence_lstm(void)
{
    check_convergence(&LSTM, 1.0);
}

/* Edge reviews, prepared the Keras way: each gives finite scores, padding
 * scores exactly 0 with the pad baseline, and completeness. */
static void check_edges(fixture *fx)
{
    const tk_model *m = fx->model;
    int T = fx->T;
    tk_error err = {0};
    tk_input_spec spec;
    tk_input_spec_default(&spec, m->vocab_size, T);
    int32_t words[400];
    int32_t in[100], pos[100];
    float s[100];
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_INTEGRATED_GRADIENTS);
    tk_explainer *ex = NULL;
    CU_ASSERT_FATAL(tk_explainer_create(m, &p, NULL, T, &ex, &err) == TK_OK);
    for (int c = 0; c < 5; c++) {
        int n = 0;
        switch (c) {
        case 0: /* one token */
            words[n++] = 15;
            break;
        case 1: /* exactly maxlen with the start marker */
            for (; n < T - 1; n++)
                words[n] = 4 + n % 500;
            break;
        case 2: /* truncated: twice too long */
            for (; n < 2 * T; n++)
                words[n] = 4 + (n * 7) % 900;
            break;
        case 3: /* all out of vocabulary (ids >= num_words become 2) */
            for (; n < 30; n++)
                words[n] = m->vocab_size + 100 + n;
            break;
        case 4: /* empty: only the start marker is left */
            break;
        }
        int used = tk_prepare_input(&spec, words, n, in, pos);
        CU_ASSERT(used == (n + 1 < T ? n + 1 : T));
        tk_review rv = {.ids = in, .steps = T, .label = -1};
        tk_attribution a = {.score = s};
        CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
        for (int t = 0; t < T; t++) {
            CU_ASSERT(isfinite(s[t]));
            if (in[t] == TK_ID_PAD)
                CU_ASSERT(s[t] == 0.0f);
        }
        printf("\n  edge case %d: %d positions used, F(x) %.4f, F(x') %.4f, delta %.2e", c, used,
               a.f_input, a.f_baseline, a.axiom_error);
        CU_ASSERT(fabs(a.axiom_error) <= 0.01 * fabs(a.f_input - a.f_baseline) + 1e-4);
    }
    /* Bad reviews are errors, not crashes. */
    int32_t bad[100];
    for (int t = 0; t < T; t++)
        bad[t] = t == T - 1 ? m->vocab_size : 1;
    tk_review rv = {.ids = bad, .steps = T, .label = -1};
    tk_attribution a = {.score = s};
    CU_ASSERT(tk_explain(ex, &rv, &a, &err) == TK_E_INVALID);
    tk_error_clear(&err);
    rv.steps = 0;
    CU_ASSERT(tk_explain(ex, &rv, &a, &err) == TK_E_INVALID);
    tk_error_clear(&err);
    rv.steps = T + 1;
    CU_ASSERT(tk_explain(ex, &rv, &a, &err) == TK_E_INVALID);
    tk_error_clear(&err);
    tk_explainer_destroy(ex);
    /* Label target with an unknown label is a clear error. */
    p.target = TK_TARGET_LABEL;
    CU_ASSERT_FATAL(tk_explainer_create(m, &p, NULL, T, &ex, &err) == TK_OK);
    rv = review_of(fx, 0);
    CU_ASSERT(tk_explain(ex, &rv, &a, &err) == TK_E_INVALID);
    tk_explainer_destroy(ex);
}

static void test_edges_cnn(void)
{
    check_edges(&CNN);
}

static void test_edges_lstm(void)
{
    check_edges(&LSTM);
}

static void test_bad_params(void)
{
    tk_error err = {0};
    tk_explainer *ex = NULL;
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_INTEGRATED_GRADIENTS);
    p.n_steps = 0;
    CU_ASSERT(tk_explainer_create(CNN.model, &p, NULL, CNN.T, &ex, &err) == TK_E_INVALID);
    CU_ASSERT_PTR_NULL(ex);
    tk_error_clear(&err);
    tk_method_params_default(&p, TK_METHOD_INTEGRATED_GRADIENTS);
    p.baseline = TK_BASELINE_TOKEN;
    p.baseline_token = CNN.model->vocab_size;
    CU_ASSERT(tk_explainer_create(CNN.model, &p, NULL, CNN.T, &ex, &err) == TK_E_INVALID);
    tk_error_clear(&err);
    tk_method_params_default(&p, TK_METHOD_OCCLUSION);
    p.window = 0;
    CU_ASSERT(tk_explainer_create(CNN.model, &p, NULL, CNN.T, &ex, &err) == TK_E_INVALID);
    tk_method_kind k;
    CU_ASSERT(tk_method_kind_parse("ig", &k, NULL) == TK_OK && k == TK_METHOD_INTEGRATED_GRADIENTS);
    CU_ASSERT(tk_method_kind_parse("nope", &k, NULL) == TK_E_INVALID);
    tk_explainer_destroy(NULL);
}

/* Occlusion with w > 1: a position's score is the mean of the windows covering it. */
static void test_occlusion_window(void)
{
    tk_error err = {0};
    int T = CNN.T;
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_OCCLUSION);
    p.window = 3;
    tk_explainer *ex = NULL;
    CU_ASSERT_FATAL(tk_explainer_create(CNN.model, &p, NULL, T, &ex, &err) == TK_OK);
    float s[100], x[100 * 50];
    tk_review rv = review_of(&CNN, 2);
    tk_attribution a = {.score = s};
    CU_ASSERT_FATAL(tk_explain(ex, &rv, &a, &err) == TK_OK);
    tk_workspace *ws = tk_workspace_create(CNN.model, 1, T, &err);
    CU_ASSERT_FATAL(ws != NULL);
    /* Position T/2 is covered by windows starting at T/2-2 .. T/2. */
    double want = 0.0;
    for (int start = T / 2 - 2; start <= T / 2; start++) {
        int32_t ids[100];
        memcpy(ids, rv.ids, (size_t)T * sizeof *ids);
        for (int t = start; t < start + 3; t++)
            ids[t] = TK_ID_PAD;
        CU_ASSERT_FATAL(tk_model_embed(CNN.model, ids, 1, T, x, &err) == TK_OK);
        want += a.f_input - f_at(CNN.model, ws, p.output, a.target, x, T);
    }
    want /= 3;
    CU_ASSERT(fabs(s[T / 2] - want) < 1e-5);
    tk_workspace_destroy(ws);
    tk_explainer_destroy(ex);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    tk_blas_single_thread();
    if (!load(&CNN, "models/imdb_cnn.h5", "cnn") || !load(&LSTM, "models/imdb_lstm.h5", "lstm")) {
        fprintf(stderr, "test_attr_methods: cannot load the models or fixtures\n");
        return 1;
    }
    static const tk_test_case cases[] = {
        {"bad parameters are errors", test_bad_params},
        {"cnn: gradient = central differences", test_fd_cnn},
        {"lstm: gradient = central differences", test_fd_lstm},
        {"cnn: IG fast path = plain path", test_ig_fast_matches_plain_cnn},
        {"lstm: IG fast path = plain path", test_ig_fast_matches_plain_lstm},
        {"lstm: IG padding prefix skip = full path", test_ig_lstm_prefix_skip},
        {"tiny hard_sigmoid lstm: IG padding prefix skip = full path", test_ig_lstm_prefix_skip_tiny},
        {"cnn: the path's F(x) reused bitwise, candidate pooling = full scan", test_ig_cnn_logits_and_candidates},
        {"cnn: same result alone or after others", test_history_cnn},
        {"lstm: same result alone or after others", test_history_lstm},
        {"cnn: completeness converges, GL beats trapezoid", test_convergence_cnn},
        {"lstm: completeness converges, GL beats trapezoid", test_convergence_lstm},
        {"cnn: edge reviews", test_edges_cnn},
        {"lstm: edge reviews", test_edges_lstm},
        {"occlusion window 3 averages covering windows", test_occlusion_window},
        {NULL, NULL},
    };
    tk_test_add_suite("attr_methods", cases);
    int rc = tk_test_run_all();
    tk_model_destroy(CNN.model);
    tk_model_destroy(LSTM.model);
    return rc;
}
