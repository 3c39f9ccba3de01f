/* saliency (A = dF/dx, sign kept) and grad_input (A = x * dF/dx):
 * one forward and one backward pass per review (METHODS.md, gradient family). */
#include <stdlib.h>
#include <string.h>

#include "attr/attr_common.h"
#include "attr/ig_fast.h"
#include "attr/method.h"
#include "attr/target.h"

typedef struct gradient_state {
    const tk_model *model;
    tk_method_params params;
    tk_workspace *ws; /* batch 1, max_steps */
    float *x;         /* (max_steps, D) */
    float *dx;        /* (max_steps, D) */
    float *a;         /* (max_steps, D) the unreduced attribution */
    float *logits;    /* (n_outputs) */
    float *d_logits;  /* (n_outputs) */
    float *zero;      /* (max_steps, D) zeros: the CNN path's start point */
    tk_ig_cnn *cnn;   /* CNN path (exact ties in the max pooling stay ties), or NULL */
} gradient_state;

static void gradient_destroy(void *state)
{
    gradient_state *s = state;
    if (s == NULL)
        return;
    tk_workspace_destroy(s->ws);
    free(s->x);
    free(s->dx);
    free(s->a);
    free(s->logits);
    free(s->d_logits);
    free(s->zero);
    tk_ig_cnn_destroy(s->cnn);
    free(s);
}

static tk_status gradient_create(const tk_model *model, const tk_method_params *params,
                                 const tk_background *background, int max_steps, void **state,
                                 tk_error *err)
{
    (void)background;
    gradient_state *s = tk_calloc(1, sizeof *s, err);
    if (s == NULL)
        return TK_E_NOMEM;
    s->model = model;
    s->params = *params;
    size_t n = (size_t)max_steps * (size_t)model->input_dim;
    s->ws = tk_workspace_create(model, 1, max_steps, err);
    s->x = tk_malloc(n, sizeof *s->x, err);
    s->dx = tk_malloc(n, sizeof *s->dx, err);
    s->a = tk_malloc(n, sizeof *s->a, err);
    s->logits = tk_malloc((size_t)model->n_outputs, sizeof *s->logits, err);
    s->d_logits = tk_malloc((size_t)model->n_outputs, sizeof *s->d_logits, err);
    s->zero = tk_calloc(n, sizeof *s->zero, err);
    tk_status st = TK_OK;
    if (!s->ws || !s->x || !s->dx || !s->a || !s->logits || !s->d_logits || !s->zero)
        st = err && err->status != TK_OK ? err->status : TK_E_NOMEM;
    if (st == TK_OK)
        st = tk_ig_cnn_create(model, max_steps, 1, &s->cnn, err);
    if (st != TK_OK) {
        gradient_destroy(s);
        return st;
    }
    *state = s;
    return TK_OK;
}

static tk_status gradient_explain(void *state, const tk_review *review, tk_attribution *out,
                                  tk_error *err)
{
    gradient_state *s = state;
    const tk_model *m = s->model;
    int steps = review->steps, dim = m->input_dim;
    size_t n = (size_t)steps * (size_t)dim;
    tk_status st = tk_attr_input(m, review, s->x, err);
    if (st == TK_OK)
        st = tk_model_forward(m, s->ws, 1, steps, s->x, s->logits, err);
    if (st != TK_OK)
        return st;
    out->predicted = tk_predicted_class(m, s->logits);
    st = tk_choose_target(m, &s->params, s->logits, review->label, &out->target, err);
    if (st != TK_OK)
        return st;
    out->f_input = tk_explained_scalar(m, s->params.output, out->target, s->logits, s->d_logits);
    if (s->cnn != NULL) {
        /* The gradient at x is the one-point path from 0 with alpha = 1. */
        static const double ONE = 1.0;
        st = tk_ig_cnn_gradient(s->cnn, &s->params, out->target, s->x, s->zero, steps, 1, &ONE,
                                &ONE, s->dx, err);
    } else {
        st = tk_model_backward(m, s->ws, s->d_logits, s->dx, NULL, err);
    }
    if (st != TK_OK)
        return st;
    if (s->params.kind == TK_METHOD_GRAD_INPUT)
        for (size_t i = 0; i < n; i++)
            s->a[i] = s->x[i] * s->dx[i];
    else
        memcpy(s->a, s->dx, n * sizeof *s->a);
    tk_attr_reduce(s->params.reduce, s->a, steps, dim, out->score);
    if (out->full != NULL)
        memcpy(out->full, s->a, n * sizeof *out->full);
    return TK_OK;
}

static double gradient_flops(const void *state, int steps)
{
    const gradient_state *s = state;
    return tk_attr_forward_flops(s->model, steps) + tk_attr_backward_flops(s->model, steps);
}

const tk_method_ops tk_saliency_ops = {
    .create = gradient_create,
    .explain = gradient_explain,
    .destroy = gradient_destroy,
    .flops = gradient_flops,
};
