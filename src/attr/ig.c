/* Integrated Gradients (Sundararajan et al. 2017), METHODS.md:
 * A = (x - x') * sum_k w_k dF(x' + alpha_k (x - x'))/dx, with the
 * completeness delta sum A - (F(x) - F(x')) summed in double.
 * All interpolation points of a review go through the model as one batch
 * (chunks of at most IG_CHUNK rows); the CNN and the LSTM take the fast
 * paths of ig_cnn.c and ig_lstm.c, which agree with this one to float
 * rounding (tests/test_attr_methods.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr_common.h"
#include "attr/ig_adaptive.h"
#include "attr/ig_fast.h"
#include "attr/method.h"
#include "attr/quadrature.h"
#include "attr/target.h"

enum { IG_CHUNK = 64 }; /* rows per batch: bounds scratch for very large n_steps */
enum { IG_LSTM_MAX_POINTS = 256 };

typedef struct ig_state {
    const tk_model *model;
    tk_method_params params;
    int n;            /* quadrature points */
    int chunk;        /* rows per batch, min(n, IG_CHUNK) */
    int max_steps;
    double *alpha;    /* (n) */
    double *weight;   /* (n) */
    tk_workspace *ws; /* batch chunk, max_steps */
    float *x;         /* (max_steps, D) */
    float *xb;        /* (max_steps, D) baseline */
    float *path;      /* (chunk, max_steps, D) interpolated inputs */
    float *dx;        /* (chunk, max_steps, D) their gradients */
    double *gsum;     /* (max_steps, D) weighted gradient sum */
    float *grad;      /* (max_steps, D) the same in float (fast path output) */
    float *grad2;     /* (max_steps, D) rule adaptive: the LSTM path's second sum, the CNN
                         kinks' lower-order integral; else NULL */
    double *gsum_lo;  /* (max_steps, D) the latter in double (CNN kinks), or NULL */
    float *a;         /* (max_steps, D) attribution */
    float *logits;    /* (chunk, K) */
    float *d_logits;  /* (chunk, K) */
    float *base_logits;   /* (max_steps + 1, K): the baseline's logits by length */
    unsigned char *base_known; /* (max_steps + 1) */
    tk_ig_cnn *cnn;   /* fast path, or NULL */
    tk_ig_lstm *lstm; /* fast path, or NULL */
    bool rule_adaptive; /* rule adaptive: by the CNN's kinks, else by the driver below */
    bool kinks;       /* rule adaptive on the CNN path with its kinks found exactly */
    tk_ig_adaptive *adaptive; /* rule adaptive without kinks, or NULL */
    float *dxf;       /* (max_steps, D) x - x' (rule adaptive) */
    int target;       /* the class of the review in hand (the adaptive integrand's) */
    int steps;        /* its positions */
} ig_state;

static void ig_destroy(void *state)
{
    ig_state *s = state;
    if (s == NULL)
        return;
    tk_workspace_destroy(s->ws);
    tk_ig_cnn_destroy(s->cnn);
    tk_ig_lstm_destroy(s->lstm);
    tk_ig_adaptive_destroy(s->adaptive);
    free(s->dxf);
    free(s->grad2);
    free(s->gsum_lo);
    free(s->alpha);
    free(s->weight);
    free(s->x);
    free(s->xb);
    free(s->path);
    free(s->dx);
    free(s->gsum);
    free(s->grad);
    free(s->a);
    free(s->logits);
    free(s->d_logits);
    free(s->base_logits);
    free(s->base_known);
    free(s);
}

static tk_status ig_create_common(const tk_model *model, const tk_method_params *params,
                                  int max_steps, bool fast, void **state, tk_error *err)
{
    ig_state *s = tk_calloc(1, sizeof *s, err);
    if (s == NULL)
        return TK_E_NOMEM;
    s->model = model;
    s->params = *params;
    bool adaptive = params->rule == TK_IG_ADAPTIVE;
    /* adaptive: one batch is at most the 15 Kronrod points of an interval */
    s->n = adaptive ? TK_GK_KRONROD : params->n_steps;
    s->chunk = s->n < IG_CHUNK ? s->n : IG_CHUNK;
    s->max_steps = max_steps;
    size_t k = (size_t)model->n_outputs;
    size_t row = (size_t)max_steps * (size_t)model->input_dim;
    s->alpha = tk_malloc((size_t)s->n, sizeof *s->alpha, err);
    s->weight = tk_malloc((size_t)s->n, sizeof *s->weight, err);
    s->x = tk_malloc(row, sizeof *s->x, err);
    s->xb = tk_malloc(row, sizeof *s->xb, err);
    s->gsum = tk_malloc(row, sizeof *s->gsum, err);
    s->grad = tk_malloc(row, sizeof *s->grad, err);
    s->a = tk_malloc(row, sizeof *s->a, err);
    s->logits = tk_malloc((size_t)s->chunk * k, sizeof *s->logits, err);
    s->d_logits = tk_malloc((size_t)s->chunk * k, sizeof *s->d_logits, err);
    s->base_logits = tk_malloc((size_t)(max_steps + 1) * k, sizeof *s->base_logits, err);
    s->base_known = tk_calloc((size_t)(max_steps + 1), 1, err);
    tk_status st = TK_OK;
    if (!s->alpha || !s->weight || !s->x || !s->xb || !s->gsum || !s->grad || !s->a ||
        !s->logits || !s->d_logits || !s->base_logits || !s->base_known)
        st = TK_E_NOMEM;
    if (st == TK_OK && !adaptive)
        st = tk_quadrature(params->rule, s->n, s->alpha, s->weight, err);
    if (st == TK_OK && fast)
        st = tk_ig_cnn_create(model, max_steps, s->n, &s->cnn, err);
    /* The LSTM path keeps every point's gates for every step: bounded n only. */
    if (st == TK_OK && fast && s->cnn == NULL && s->n <= IG_LSTM_MAX_POINTS)
        st = tk_ig_lstm_create(model, max_steps, s->n, &s->lstm, err);
    bool has_fast = s->cnn != NULL || s->lstm != NULL;
    if (st == TK_OK && adaptive) {
        bool kinks = s->cnn != NULL && tk_ig_cnn_has_exact(s->cnn);
        s->rule_adaptive = true;
        s->kinks = kinks;
        /* the Gauss-Kronrod driver where the kinks are not found; the LSTM
         * path returns the Gauss sum with the Kronrod points' */
        if (!kinks)
            st = tk_ig_adaptive_create(params, max_steps, model->input_dim, s->lstm != NULL,
                                       &s->adaptive, err);
        s->dxf = st == TK_OK ? tk_malloc(row, sizeof *s->dxf, err) : NULL;
        s->grad2 = st == TK_OK && (s->lstm || kinks) ? tk_malloc(row, sizeof *s->grad2, err) : NULL;
        s->gsum_lo = st == TK_OK && kinks ? tk_malloc(row, sizeof *s->gsum_lo, err) : NULL;
        if (st == TK_OK &&
            (s->dxf == NULL || ((s->lstm || kinks) && s->grad2 == NULL) || (kinks && !s->gsum_lo)))
            st = TK_E_NOMEM;
    }
    if (st == TK_OK && !has_fast) {
        /* Only the plain path needs the big per-row buffers and a batched workspace. */
        s->path = tk_malloc((size_t)s->chunk * row, sizeof *s->path, err);
        s->dx = tk_malloc((size_t)s->chunk * row, sizeof *s->dx, err);
        if (!s->path || !s->dx)
            st = TK_E_NOMEM;
    }
    if (st == TK_OK) {
        s->ws = tk_workspace_create(model, has_fast ? 1 : s->chunk, max_steps, err);
        if (s->ws == NULL)
            st = err && err->status != TK_OK ? err->status : TK_E_NOMEM;
    }
    if (st != TK_OK) {
        ig_destroy(s);
        return st;
    }
    *state = s;
    return TK_OK;
}

static tk_status ig_create(const tk_model *model, const tk_method_params *params,
                           const tk_background *background, int max_steps, void **state,
                           tk_error *err)
{
    (void)background;
    return ig_create_common(model, params, max_steps, true, state, err);
}

static tk_status ig_plain_create(const tk_model *model, const tk_method_params *params,
                                 const tk_background *background, int max_steps, void **state,
                                 tk_error *err)
{
    (void)background;
    return ig_create_common(model, params, max_steps, false, state, err);
}

/* The baseline's logits for reviews of `steps` positions; the baseline is
 * the same row at every position, so they depend only on the length and are
 * computed once (always alone, batch 1, so they never depend on history). */
static tk_status baseline_logits(ig_state *s, int steps, const float **out, tk_error *err)
{
    size_t k = (size_t)s->model->n_outputs;
    float *dst = s->base_logits + (size_t)steps * k;
    if (!s->base_known[steps]) {
        tk_status st = tk_model_forward(s->model, s->ws, 1, steps, s->xb, dst, err);
        if (st != TK_OK)
            return st;
        s->base_known[steps] = 1;
    }
    *out = dst;
    return TK_OK;
}

/* gsum = sum_k w_k dF/dx along the path at the n points alpha, every point
 * through the whole model. */
static tk_status plain_gradient(ig_state *s, int target, int steps, int n, const double *alpha,
                                const double *weight, double *gsum, tk_error *err)
{
    const tk_model *m = s->model;
    int dim = m->input_dim, k = m->n_outputs;
    size_t row = (size_t)steps * (size_t)dim;
    for (size_t i = 0; i < row; i++)
        gsum[i] = 0.0;
    for (int c0 = 0; c0 < n; c0 += s->chunk) {
        int nb = n - c0 < s->chunk ? n - c0 : s->chunk;
        for (int b = 0; b < nb; b++) {
            float al = (float)alpha[c0 + b];
            float *p = s->path + (size_t)b * row;
            for (size_t i = 0; i < row; i++)
                p[i] = s->xb[i] + al * (s->x[i] - s->xb[i]);
        }
        tk_status st = tk_model_forward(m, s->ws, nb, steps, s->path, s->logits, err);
        if (st != TK_OK)
            return st;
        for (int b = 0; b < nb; b++) {
            float *dl = s->d_logits + (size_t)b * k;
            tk_explained_scalar(m, s->params.output, target, s->logits + (size_t)b * k, dl);
            for (int c = 0; c < k; c++)
                dl[c] = (float)(dl[c] * weight[c0 + b]);
        }
        st = tk_model_backward(m, s->ws, s->d_logits, s->dx, NULL, err);
        if (st != TK_OK)
            return st;
        for (int b = 0; b < nb; b++) {
            const float *g = s->dx + (size_t)b * row;
            for (size_t i = 0; i < row; i++)
                gsum[i] += g[i];
        }
    }
    return TK_OK;
}

/* The adaptive rule's integrand (ig_adaptive.h): one batch of points
 * through the fast path of the model, or the plain path. */
static tk_status adaptive_integrand(void *ctx, int n, const double *alpha, const double *weight,
                                    const double *weight2, double *grad, double *grad2,
                                    tk_error *err)
{
    ig_state *s = ctx;
    if (weight2 != NULL && s->lstm == NULL) /* one_pass is the LSTM path's alone */
        return tk_error_set(err, TK_E_INTERNAL, "ig adaptive: a second sum asked of a path without one");
    if (s->cnn == NULL && s->lstm == NULL)
        return plain_gradient(s, s->target, s->steps, n, alpha, weight, grad, err);
    tk_status st = s->cnn ? tk_ig_cnn_gradient(s->cnn, &s->params, s->target, s->x, s->xb,
                                               s->steps, n, alpha, weight, s->grad, err)
                          : tk_ig_lstm_gradient(s->lstm, &s->params, s->target, s->x, s->xb,
                                                s->steps, n, alpha, weight, weight2, s->grad,
                                                s->grad2, err);
    size_t row = (size_t)s->steps * (size_t)s->model->input_dim;
    for (size_t i = 0; st == TK_OK && i < row; i++)
        grad[i] = s->grad[i];
    for (size_t i = 0; st == TK_OK && weight2 != NULL && i < row; i++)
        grad2[i] = s->grad2[i];
    return st;
}

static tk_status ig_explain(void *state, const tk_review *review, tk_attribution *out,
                            tk_error *err)
{
    ig_state *s = state;
    const tk_model *m = s->model;
    int steps = review->steps, dim = m->input_dim;
    size_t row = (size_t)steps * (size_t)dim;

    tk_status st = tk_attr_input(m, review, s->x, err);
    if (st == TK_OK)
        st = tk_attr_baseline_row(m, &s->params, s->xb, err);
    if (st != TK_OK)
        return st;
    for (int t = 1; t < steps; t++)
        memcpy(s->xb + (size_t)t * dim, s->xb, (size_t)dim * sizeof *s->xb);

    /* The CNN path computes F(x) from the convolution of x it keeps for
     * the gradient: one convolution of x per review instead of two. */
    st = s->cnn ? tk_ig_cnn_logits(s->cnn, s->x, steps, s->logits, err)
                : tk_model_forward(m, s->ws, 1, steps, s->x, s->logits, err);
    if (st != TK_OK)
        return st;
    if (out->logits != NULL) {
        memcpy(out->logits, s->logits, (size_t)m->n_outputs * sizeof *out->logits);
        out->has_logits = true;
    }
    out->predicted = tk_predicted_class(m, s->logits);
    st = tk_choose_target(m, &s->params, s->logits, review->label, &out->target, err);
    if (st != TK_OK)
        return st;
    out->f_input = tk_explained_scalar(m, s->params.output, out->target, s->logits, NULL);
    const float *bl;
    st = baseline_logits(s, steps, &bl, err);
    if (st != TK_OK)
        return st;
    out->f_baseline = tk_explained_scalar(m, s->params.output, out->target, bl, NULL);

    if (s->kinks) {
        /* the CNN's kinks along the path, found exactly: its pieces are
         * affine, so only the output's softmax is left to a quadrature */
        int pieces = 0;
        st = tk_ig_cnn_exact(s->cnn, &s->params, out->target, s->x, s->xb, steps, s->grad,
                             s->grad2, &pieces, err);
        for (size_t i = 0; i < row; i++) {
            s->dxf[i] = s->x[i] - s->xb[i];
            s->gsum[i] = s->grad[i];
            s->gsum_lo[i] = s->grad2[i];
        }
        double scale = fmax(fabs(out->f_input - out->f_baseline), TK_IG_ADAPTIVE_SCALE_FLOOR);
        out->steps = pieces;
        out->error_estimate = tk_ig_adaptive_token_error(s->params.reduce, s->dxf, steps, dim,
                                                         s->gsum, s->gsum_lo, NULL) /
                              scale;
        for (size_t i = 0; i < row; i++)
            if (isnan(s->gsum[i]))
                out->error_estimate = NAN; /* never a NaN that looks converged */
    } else if (s->adaptive != NULL) {
        for (size_t i = 0; i < row; i++)
            s->dxf[i] = s->x[i] - s->xb[i];
        s->target = out->target;
        s->steps = steps;
        tk_ig_adaptive_result res;
        st = tk_ig_adaptive_integrate(s->adaptive, adaptive_integrand, s, s->dxf, steps,
                                      out->f_input - out->f_baseline, s->gsum, &res, err);
        out->steps = res.evaluations;
        out->error_estimate = res.error_estimate;
    } else if (s->cnn != NULL || s->lstm != NULL) {
        out->steps = s->n;
        st = s->cnn ? tk_ig_cnn_gradient(s->cnn, &s->params, out->target, s->x, s->xb, steps,
                                         s->n, s->alpha, s->weight, s->grad, err)
                    : tk_ig_lstm_gradient(s->lstm, &s->params, out->target, s->x, s->xb, steps,
                                          s->n, s->alpha, s->weight, NULL, s->grad, NULL, err);
        for (size_t i = 0; st == TK_OK && i < row; i++)
            s->gsum[i] = s->grad[i];
    } else {
        out->steps = s->n;
        st = plain_gradient(s, out->target, steps, s->n, s->alpha, s->weight, s->gsum, err);
    }
    if (st != TK_OK)
        return st;

    double total = 0.0;
    for (size_t i = 0; i < row; i++) {
        double ai = ((double)s->x[i] - s->xb[i]) * s->gsum[i];
        s->a[i] = (float)ai;
        total += s->a[i];
    }
    out->axiom_error = total - (out->f_input - out->f_baseline);
    tk_attr_reduce(s->params.reduce, s->a, steps, dim, out->score);
    if (out->full != NULL)
        memcpy(out->full, s->a, row * sizeof *out->full);
    return TK_OK;
}

static double ig_flops(const void *state, int steps)
{
    /* The naive count (n forward + n input-gradient backward passes) that
     * the fast paths must beat; PERFORMANCE.md's reference work. */
    const ig_state *s = state;
    /* adaptive: the cost of the first interval (its work depends on the review) */
    int n = s->rule_adaptive ? TK_GK_KRONROD + TK_GK_GAUSS : s->n;
    return n * (tk_attr_forward_flops(s->model, steps) + tk_attr_backward_flops(s->model, steps));
}

const tk_method_ops tk_ig_ops = {
    .create = ig_create,
    .explain = ig_explain,
    .destroy = ig_destroy,
    .flops = ig_flops,
    .gives_logits = true,
};

const tk_method_ops tk_ig_plain_ops = {
    .create = ig_plain_create,
    .explain = ig_explain,
    .destroy = ig_destroy,
    .flops = ig_flops,
    .gives_logits = true,
};
