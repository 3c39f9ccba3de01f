/* Occlusion (METHODS.md): s_t = F(x) - F(x with t..t+w-1 replaced by the
 * pad / oov / token embedding); for w > 1 a position's score is the mean
 * over the windows covering it. The original and every occluded copy of a
 * review go through the model as one batch; for Conv1D -> max pooling
 * models only the convolution rows an occlusion touches are recomputed
 * (ig_cnn.c). Per-token only: out->full, when
 * requested, gets the score spread evenly over the dimension. */
#include <stdlib.h>
#include <string.h>

#include "attr/attr_common.h"
#include "attr/ig_fast.h"
#include "attr/method.h"
#include "attr/target.h"

typedef struct occlusion_state {
    const tk_model *model;
    tk_method_params params;
    int max_steps;
    tk_workspace *ws; /* batch max_steps + 1 */
    float *x;         /* (max_steps, D) */
    float *repl;      /* (D) the replacement row */
    float *batch;     /* (max_steps + 1, max_steps, D): row 0 the input, row 1 + s window s occluded */
    float *logits;    /* (max_steps + 1, K) */
    double *diff;     /* (max_steps) F(x) - F(occluded window s) */
    tk_ig_cnn *cnn;   /* CNN path: only the conv rows an occlusion touches, or NULL */
} occlusion_state;

static void occlusion_destroy(void *state)
{
    occlusion_state *s = state;
    if (s == NULL)
        return;
    tk_workspace_destroy(s->ws);
    tk_ig_cnn_destroy(s->cnn);
    free(s->x);
    free(s->repl);
    free(s->batch);
    free(s->logits);
    free(s->diff);
    free(s);
}

static tk_status occlusion_create(const tk_model *model, const tk_method_params *params,
                                  const tk_background *background, int max_steps, void **state,
                                  tk_error *err)
{
    (void)background;
    occlusion_state *s = tk_calloc(1, sizeof *s, err);
    if (s == NULL)
        return TK_E_NOMEM;
    s->model = model;
    s->params = *params;
    s->max_steps = max_steps;
    size_t row = (size_t)max_steps * (size_t)model->input_dim;
    size_t rows = (size_t)max_steps + 1;
    s->x = tk_malloc(row, sizeof *s->x, err);
    s->repl = tk_malloc((size_t)model->input_dim, sizeof *s->repl, err);
    s->logits = tk_malloc(rows * (size_t)model->n_outputs, sizeof *s->logits, err);
    s->diff = tk_malloc((size_t)max_steps, sizeof *s->diff, err);
    tk_status st = TK_OK;
    if (!s->x || !s->repl || !s->logits || !s->diff)
        st = TK_E_NOMEM;
    if (st == TK_OK)
        st = tk_attr_baseline_row(model, params, s->repl, err);
    if (st == TK_OK)
        st = tk_ig_cnn_create(model, max_steps, max_steps + 1, &s->cnn, err);
    if (st == TK_OK && s->cnn == NULL) {
        s->batch = tk_malloc(rows * row, sizeof *s->batch, err);
        if (s->batch == NULL)
            st = TK_E_NOMEM;
    }
    if (st == TK_OK) {
        s->ws = tk_workspace_create(model, s->cnn ? 1 : (int)rows, max_steps, err);
        if (s->ws == NULL)
            st = err && err->status != TK_OK ? err->status : TK_E_NOMEM;
    }
    if (st != TK_OK) {
        occlusion_destroy(s);
        return st;
    }
    *state = s;
    return TK_OK;
}

static tk_status occlusion_explain(void *state, const tk_review *review, tk_attribution *out,
                                   tk_error *err)
{
    occlusion_state *s = state;
    const tk_model *m = s->model;
    int steps = review->steps, dim = m->input_dim, k = m->n_outputs;
    int w = s->params.window;
    if (w > steps)
        return tk_error_set(err, TK_E_INVALID,
                            "method %s: occlusion window %d is longer than the review's %d positions",
                            s->params.name, w, steps);
    int n_win = steps - w + 1;
    size_t row = (size_t)steps * (size_t)dim;
    tk_status st = tk_attr_input(m, review, s->x, err);
    if (st != TK_OK)
        return st;
    if (s->cnn != NULL) {
        st = tk_ig_cnn_occlusion(s->cnn, s->x, s->repl, steps, w, s->logits, err);
    } else {
        memcpy(s->batch, s->x, row * sizeof *s->x);
        for (int p = 0; p < n_win; p++) {
            float *b = s->batch + (size_t)(p + 1) * row;
            memcpy(b, s->x, row * sizeof *s->x);
            for (int t = p; t < p + w; t++)
                memcpy(b + (size_t)t * dim, s->repl, (size_t)dim * sizeof *b);
        }
        st = tk_model_forward(m, s->ws, n_win + 1, steps, s->batch, s->logits, err);
    }
    if (st != TK_OK)
        return st;
    out->predicted = tk_predicted_class(m, s->logits);
    st = tk_choose_target(m, &s->params, s->logits, review->label, &out->target, err);
    if (st != TK_OK)
        return st;
    out->f_input = tk_explained_scalar(m, s->params.output, out->target, s->logits, NULL);
    for (int p = 0; p < n_win; p++)
        s->diff[p] = out->f_input - tk_explained_scalar(m, s->params.output, out->target,
                                                        s->logits + (size_t)(p + 1) * k, NULL);
    for (int t = 0; t < steps; t++) {
        int lo = t - w + 1 < 0 ? 0 : t - w + 1;
        int hi = t < n_win - 1 ? t : n_win - 1;
        double sum = 0.0;
        for (int p = lo; p <= hi; p++)
            sum += s->diff[p];
        out->score[t] = (float)(sum / (hi - lo + 1));
    }
    if (out->full != NULL)
        for (int t = 0; t < steps; t++)
            for (int d = 0; d < dim; d++)
                out->full[(size_t)t * dim + d] = out->score[t] / (float)dim;
    return TK_OK;
}

static double occlusion_flops(const void *state, int steps)
{
    const occlusion_state *s = state;
    int n_win = steps - s->params.window + 1;
    return (n_win + 1) * tk_attr_forward_flops(s->model, steps);
}

const tk_method_ops tk_occlusion_ops = {
    .create = occlusion_create,
    .explain = occlusion_explain,
    .destroy = occlusion_destroy,
    .flops = occlusion_flops,
};
