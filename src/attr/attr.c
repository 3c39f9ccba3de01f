/* The method interface: parameter defaults, method names, and the explainer
 * that dispatches to one method's ops table (method.h).
 *
 * Choices for inputs the definitions leave open (tested in
 * tests/test_attr_methods.c):
 * - A review is explained over all its `steps` positions, padding included;
 *   callers sum the padding positions separately. With the `pad` baseline a
 *   padding position gets exactly 0 from IG.
 * - A review that is empty after tokenisation is, once prepared, padding
 *   plus the start marker: it has a defined result like any other. A review
 *   of 0 positions, or longer than the explainer's max_steps, or with an id
 *   outside the vocabulary, is TK_E_INVALID with a message, never a crash.
 * - Models without an Embedding (sequences of word vectors): the baseline
 *   is the zero vector, which is also what `pad` means for them (vector
 *   sequences are padded with zeros); `oov` and `token` are errors. */
#include "attr/attr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/method.h"

struct tk_explainer {
    const tk_method_ops *ops;
    void *state;       /* the method's private state */
    int max_steps;     /* the longest review create() sized scratch for */
    int input_dim;     /* D, for checking vector reviews */
    bool has_embedding;
};

static const char *const KIND_NAMES[TK_METHOD_KIND_COUNT] = {
    [TK_METHOD_SALIENCY] = "saliency",
    [TK_METHOD_GRAD_INPUT] = "grad_input",
    [TK_METHOD_INTEGRATED_GRADIENTS] = "integrated_gradients",
    [TK_METHOD_OCCLUSION] = "occlusion",
    [TK_METHOD_DEEPLIFT] = "deeplift",
    [TK_METHOD_DEEPSHAP] = "deepshap",
    [TK_METHOD_LRP_EPSILON] = "lrp_epsilon",
};

void tk_method_params_default(tk_method_params *p, tk_method_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    snprintf(p->name, sizeof p->name, "%s", tk_method_kind_name(kind));
    p->target = TK_TARGET_PREDICTED;
    p->target_class = 0;
    p->output = TK_OUTPUT_PROB;
    p->reduce = TK_REDUCE_SUM;
    p->n_steps = 50;
    p->rule = TK_IG_GAUSS_LEGENDRE;
    p->baseline = TK_BASELINE_PAD;
    p->baseline_token = 0;
    p->window = 1;
    p->background_size = 100;
    p->background_random = false;
    p->seed = 0;
    p->eps = 0.001;
    p->bias_factor = 0.0;
    p->tolerance = 1e-4;
    p->max_steps = 2000;
}

const char *tk_method_kind_name(tk_method_kind kind)
{
    if ((int)kind < 0 || kind >= TK_METHOD_KIND_COUNT)
        return "unknown";
    return KIND_NAMES[kind];
}

tk_status tk_method_kind_parse(const char *name, tk_method_kind *kind, tk_error *err)
{
    /* Short spellings users type on the command line. */
    static const struct {
        const char *alias;
        tk_method_kind kind;
    } ALIASES[] = {
        {"ig", TK_METHOD_INTEGRATED_GRADIENTS},
        {"gradient", TK_METHOD_SALIENCY},
        {"input_x_gradient", TK_METHOD_GRAD_INPUT},
        {"lrp", TK_METHOD_LRP_EPSILON},
    };
    if (name == NULL)
        return tk_error_set(err, TK_E_INVALID, "method: no name given");
    for (int k = 0; k < TK_METHOD_KIND_COUNT; k++)
        if (strcmp(name, KIND_NAMES[k]) == 0) {
            *kind = (tk_method_kind)k;
            return TK_OK;
        }
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (strcmp(name, ALIASES[i].alias) == 0) {
            *kind = ALIASES[i].kind;
            return TK_OK;
        }
    return tk_error_set(err, TK_E_INVALID,
                        "method '%s' is unknown (saliency, grad_input, integrated_gradients, "
                        "occlusion, deeplift, deepshap, lrp_epsilon)",
                        name);
}

const tk_method_ops *tk_method_ops_for(tk_method_kind kind)
{
    switch (kind) {
    case TK_METHOD_SALIENCY:
    case TK_METHOD_GRAD_INPUT:
        return &tk_saliency_ops;
    case TK_METHOD_INTEGRATED_GRADIENTS:
        return &tk_ig_ops;
    case TK_METHOD_OCCLUSION:
        return &tk_occlusion_ops;
    case TK_METHOD_DEEPLIFT:
    case TK_METHOD_DEEPSHAP:
        return &tk_deeplift_ops;
    case TK_METHOD_LRP_EPSILON:
        return &tk_lrp_ops;
    case TK_METHOD_KIND_COUNT:
    default:
        return NULL;
    }
}

static tk_status check_params(const tk_model *model, const tk_method_params *p, int max_steps,
                              tk_error *err)
{
    if (max_steps <= 0)
        return tk_error_set(err, TK_E_INVALID, "method %s: max_steps %d must be positive", p->name,
                            max_steps);
    if (p->kind == TK_METHOD_INTEGRATED_GRADIENTS && p->rule == TK_IG_ADAPTIVE) {
        /* one Gauss-Kronrod 7/15 pair costs 22 evaluations; float32 gradients
         * cannot resolve a relative error much below 1e-7 */
        if (!(p->tolerance >= 1e-7 && p->tolerance <= 1.0))
            return tk_error_set(err, TK_E_INVALID,
                                "method %s: tolerance %g is outside [1e-07, 1]", p->name,
                                p->tolerance);
        if (p->max_steps < 22 || p->max_steps > 20000)
            return tk_error_set(err, TK_E_INVALID,
                                "method %s: max_steps %d is outside [22, 20000] (one Gauss-Kronrod "
                                "7/15 pair takes 22 evaluations)",
                                p->name, p->max_steps);
    } else if (p->kind == TK_METHOD_INTEGRATED_GRADIENTS) {
        int min_steps = p->rule == TK_IG_RIEMANN_TRAPEZOID ? 2 : 1;
        if (p->n_steps < min_steps || p->n_steps > 100000)
            return tk_error_set(err, TK_E_INVALID,
                                "method %s: n_steps %d is outside [%d, 100000] for this rule",
                                p->name, p->n_steps, min_steps);
    }
    if (p->kind == TK_METHOD_OCCLUSION && (p->window < 1 || p->window > max_steps))
        return tk_error_set(err, TK_E_INVALID, "method %s: window %d is outside [1, %d]", p->name,
                            p->window, max_steps);
    /* DeepLIFT's reference is checked by deeplift.c. */
    bool uses_baseline = p->kind == TK_METHOD_INTEGRATED_GRADIENTS || p->kind == TK_METHOD_OCCLUSION;
    if (uses_baseline && model->has_embedding && p->baseline == TK_BASELINE_TOKEN &&
        (p->baseline_token < 0 || p->baseline_token >= model->vocab_size))
        return tk_error_set(err, TK_E_INVALID,
                            "method %s: baseline token %d is outside the vocabulary [0, %d)",
                            p->name, p->baseline_token, model->vocab_size);
    /* Sequences of vectors are padded with zero vectors, so for them 'pad'
     * (the default) is the zero vector; there is no oov or token row. */
    if (uses_baseline && !model->has_embedding && p->baseline != TK_BASELINE_ZEROS &&
        p->baseline != TK_BASELINE_PAD)
        return tk_error_set(err, TK_E_INVALID,
                            "method %s: the model has no Embedding layer, so its baseline "
                            "can only be 'zeros' (or 'pad', the same zero vector)",
                            p->name);
    if (p->kind == TK_METHOD_OCCLUSION && p->baseline != TK_BASELINE_PAD &&
        p->baseline != TK_BASELINE_OOV && p->baseline != TK_BASELINE_TOKEN &&
        model->has_embedding)
        return tk_error_set(err, TK_E_INVALID,
                            "method %s: occlusion replaces tokens by 'pad', 'oov' or a token",
                            p->name);
    return TK_OK;
}

tk_status tk_explainer_create(const tk_model *model, const tk_method_params *params,
                              const tk_background *background, int max_steps,
                              tk_explainer **out, tk_error *err)
{
    *out = NULL;
    const tk_method_ops *ops = tk_method_ops_for(params->kind);
    if (ops == NULL)
        return tk_error_set(err, TK_E_UNSUPPORTED, "method %s (%s) is not available in this build",
                            params->name, tk_method_kind_name(params->kind));
    tk_status st = check_params(model, params, max_steps, err);
    if (st != TK_OK)
        return st;
    st = tk_model_check_steps(model, max_steps, err);
    if (st != TK_OK)
        return st;
    tk_explainer *ex = tk_calloc(1, sizeof *ex, err);
    if (ex == NULL)
        return TK_E_NOMEM;
    ex->ops = ops;
    ex->max_steps = max_steps;
    ex->input_dim = model->input_dim;
    ex->has_embedding = model->has_embedding;
    st = ops->create(model, params, background, max_steps, &ex->state, err);
    if (st != TK_OK) {
        free(ex);
        return st;
    }
    *out = ex;
    return TK_OK;
}

void tk_explainer_destroy(tk_explainer *ex)
{
    if (ex == NULL)
        return;
    ex->ops->destroy(ex->state);
    free(ex);
}

tk_status tk_explain(tk_explainer *ex, const tk_review *review, tk_attribution *out,
                     tk_error *err)
{
    if (review->steps <= 0)
        return tk_error_set(err, TK_E_INVALID,
                            "review has %d positions: nothing to explain (an empty review is "
                            "padded to the model's length by preparation)",
                            review->steps);
    if (review->steps > ex->max_steps)
        return tk_error_set(err, TK_E_INVALID,
                            "review has %d positions, more than the %d the explainer was made for",
                            review->steps, ex->max_steps);
    if (ex->has_embedding ? review->ids == NULL : review->vectors == NULL)
        return tk_error_set(err, TK_E_INVALID, "review gives no %s for this model",
                            ex->has_embedding ? "token ids" : "input vectors");
    out->target = -1;
    out->predicted = -1;
    out->f_input = 0.0;
    out->f_baseline = 0.0;
    out->axiom_error = 0.0;
    out->lrp_init_state = 0.0;
    out->lrp_absorbed = 0.0;
    out->steps = 0;
    out->error_estimate = NAN;
    out->has_logits = false;
    return ex->ops->explain(ex->state, review, out, err);
}

bool tk_explainer_gives_logits(const tk_explainer *ex)
{
    return ex != NULL && ex->ops->gives_logits;
}

double tk_explainer_flops(const tk_explainer *ex, int steps)
{
    if (ex == NULL || ex->ops->flops == NULL)
        return 0.0;
    return ex->ops->flops(ex->state, steps);
}
