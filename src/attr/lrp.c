/* epsilon-LRP (Bach et al. 2015) with the LSTM rules of Arras, Montavon,
 * Müller, Samek 2017 ("signal-take-all"), as METHODS.md and the `rule`
 * attribute of ../shared/fixtures/bilstm_lrp.h5 define them.
 *
 * The forward pass is the model's, in float (tk_dl_forward); each layer's
 * rule comes from the rules table (rules.h). Relevance is carried in double
 * and every linear map's z is recomputed in double from the stored float
 * inputs, so that with eps = 0 and bias_factor = 1 conservation holds to
 * double rounding rather than to the float forward's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/deeplift_net.h"
#include "attr/method.h"
#include "attr/rules.h"
#include "attr/target.h"

typedef struct lrp_state {
    const tk_model *model;
    tk_method_params params;
    int max_steps;
    tk_dl_acts *acts;  /* (1) */
    float *x;          /* (max_steps, D) */
    double *r_a, *r_b; /* (max_size) relevance, ping-pong */
    double *scratch;   /* the largest lrp_scratch of the layers */
    double absorbed;   /* relevance that biases and eps took, this review */
    double init_state; /* relevance left on initial LSTM states, this review */
} lrp_state;

static void lrp_destroy(void *p)
{
    lrp_state *st = p;
    if (!st)
        return;
    tk_dl_acts_destroy(st->acts);
    free(st->x);
    free(st->r_a);
    free(st->r_b);
    free(st->scratch);
    free(st);
}

static const tk_layer *body(const lrp_state *st, int k)
{
    return &st->model->layers[st->model->first_body_layer + k];
}

static tk_status lrp_create(const tk_model *model, const tk_method_params *params,
                            const tk_background *bg, int max_steps, void **out, tk_error *err)
{
    (void)bg;
    *out = NULL;
    lrp_state *st = tk_calloc(1, sizeof *st, err);
    if (!st)
        return TK_E_NOMEM;
    st->model = model;
    st->params = *params;
    st->max_steps = max_steps;
    tk_dl_plan plan;
    tk_status s = tk_dl_plan_init(&plan, model, max_steps, err);
    if (s != TK_OK)
        goto fail;
    size_t scratch = 1;
    for (int k = 0; k < plan.n; k++) {
        const tk_layer *l = body(st, k);
        const tk_attr_rules *r = tk_attr_rules_of(l->kind);
        if (!r->lrp_backward)
            s = tk_error_set(err, TK_E_UNSUPPORTED, "layer %s (%s) has no LRP rule in tokattr",
                             l->name, l->class_name);
        else if (r->lrp_check)
            s = r->lrp_check(l, err);
        if (s != TK_OK) {
            tk_dl_plan_free(&plan);
            goto fail;
        }
        size_t n = r->lrp_scratch ? r->lrp_scratch(l, plan.in[k], plan.out[k]) : 0;
        scratch = n > scratch ? n : scratch;
    }
    size_t ms = (size_t)plan.max_size;
    tk_dl_plan_free(&plan);
    if (!isfinite(params->eps) || params->eps < 0 || !isfinite(params->bias_factor)) {
        s = tk_error_set(err, TK_E_INVALID, "method %s: eps must be >= 0 and bias_factor finite",
                         params->name);
        goto fail;
    }
    st->x = tk_calloc((size_t)max_steps * model->input_dim, sizeof(float), err);
    st->r_a = tk_malloc(ms, sizeof(double), err);
    st->r_b = tk_malloc(ms, sizeof(double), err);
    st->scratch = tk_malloc(scratch, sizeof(double), err);
    if (!st->x || !st->r_a || !st->r_b || !st->scratch) {
        s = TK_E_NOMEM;
        goto fail;
    }
    if ((s = tk_dl_acts_create(model, 1, max_steps, &st->acts, err)) != TK_OK)
        goto fail;
    *out = st;
    return TK_OK;
fail:
    lrp_destroy(st);
    return s;
}

static tk_status lrp_explain(void *p, const tk_review *rv, tk_attribution *out, tk_error *err)
{
    lrp_state *st = p;
    const tk_model *m = st->model;
    int d = m->input_dim, steps = rv->steps;
    tk_status s;
    if (steps <= 0 || steps > st->max_steps)
        return tk_error_set(err, TK_E_INVALID, "method %s: review of %d steps (this explainer takes 1 to %d)",
                            st->params.name, steps, st->max_steps);
    if (rv->ids)
        s = m->has_embedding ? tk_model_embed(m, rv->ids, 1, steps, st->x, err)
                             : tk_error_set(err, TK_E_INVALID, "method %s: token ids given to a model without an embedding",
                                            st->params.name);
    else if (rv->vectors)
        memcpy(st->x, rv->vectors, sizeof(float) * (size_t)steps * d), s = TK_OK;
    else
        s = tk_error_set(err, TK_E_INVALID, "method %s: review has neither ids nor vectors", st->params.name);
    if (s != TK_OK)
        return s;
    tk_dl_plan plan;
    if ((s = tk_dl_plan_init(&plan, m, steps, err)) != TK_OK)
        return s;
    if ((s = tk_dl_forward(&plan, st->acts, 1, st->x, err)) != TK_OK)
        goto done;
    const float *z = tk_dl_logits(&plan, st->acts, 0);
    int target;
    if ((s = tk_choose_target(m, &st->params, z, rv->label, &target, err)) != TK_OK)
        goto done;
    out->target = target;
    out->predicted = tk_predicted_class(m, z);
    double logit = tk_explained_scalar(m, TK_OUTPUT_LOGIT, target, z, NULL);
    out->f_input = logit;
    out->f_baseline = 0;
    st->absorbed = 0;
    st->init_state = 0;

    double *ro = st->r_a, *ri = st->r_b;
    for (int c = 0; c < m->n_outputs; c++)
        ro[c] = 0.0;
    ro[m->n_outputs == 1 ? 0 : target] = logit;
    for (int k = plan.n - 1; k >= 0; k--) {
        const tk_layer *l = body(st, k);
        tk_lrp_layer c = {
            .layer = l,
            .in = plan.in[k],
            .out = plan.out[k],
            .a = tk_dl_side_of(&plan, st->acts, k).in,
            .ro = ro,
            .ri = ri,
            .eps = st->params.eps,
            .bias_factor = st->params.bias_factor,
            .absorbed = &st->absorbed,
            .init_state = &st->init_state,
            .scratch = st->scratch,
        };
        tk_attr_rules_of(l->kind)->lrp_backward(&c);
        double *t = ro;
        ro = ri;
        ri = t;
    }
    double tokens = 0;
    for (int t = 0; t < steps; t++) {
        double sum = 0, sq = 0;
        for (int j = 0; j < d; j++) {
            double r = ro[(size_t)t * d + j];
            sum += r;
            sq += r * r;
            if (out->full)
                out->full[(size_t)t * d + j] = (float)r;
        }
        tokens += sum;
        out->score[t] = (float)(st->params.reduce == TK_REDUCE_L2 ? sqrt(sq) : sum);
    }
    out->lrp_init_state = st->init_state;
    out->lrp_absorbed = st->absorbed;
    out->axiom_error = logit - tokens - st->init_state;
done:
    tk_dl_plan_free(&plan);
    return s;
}

/* The forward pass plus one relevance pass touching every weight once
 * (for Conv1D behind global max pooling: one window per filter). */
static double lrp_flops(const void *p, int steps)
{
    const lrp_state *st = p;
    tk_dl_plan plan;
    if (tk_dl_plan_init(&plan, st->model, steps, NULL) != TK_OK)
        return 0;
    double f = tk_dl_forward_flops(&plan), back = tk_dl_backward_flops(&plan, 4.0, 1, 1);
    tk_dl_plan_free(&plan);
    return f + back;
}

const tk_method_ops tk_lrp_ops = {
    .create = lrp_create,
    .explain = lrp_explain,
    .destroy = lrp_destroy,
    .flops = lrp_flops,
};
