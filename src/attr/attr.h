/* The method interface: every attribution method (gradients, Integrated
 * Gradients, occlusion, DeepLIFT, DeepSHAP, epsilon-LRP) is created from a
 * model and its parameters, then explains one prepared review at a time.
 * The pipeline, `tokattr explain` and the report use only this header.
 *
 * Definitions: ../shared/docs/METHODS.md. One review's result never depends
 * on which other reviews were explained before or beside it. */
#ifndef TOKATTR_ATTR_ATTR_H
#define TOKATTR_ATTR_ATTR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "model/model.h"

typedef enum tk_method_kind {
    TK_METHOD_SALIENCY,
    TK_METHOD_GRAD_INPUT,
    TK_METHOD_INTEGRATED_GRADIENTS,
    TK_METHOD_OCCLUSION,
    TK_METHOD_DEEPLIFT,
    TK_METHOD_DEEPSHAP,
    TK_METHOD_LRP_EPSILON,
    TK_METHOD_KIND_COUNT
} tk_method_kind;

typedef enum tk_ig_rule {
    TK_IG_GAUSS_LEGENDRE, /* default */
    TK_IG_RIEMANN_LEFT,
    TK_IG_RIEMANN_RIGHT,
    TK_IG_RIEMANN_MIDDLE,
    TK_IG_RIEMANN_TRAPEZOID,
    TK_IG_ADAPTIVE /* Gauss-Kronrod 7/15 per sub-interval, refined to `tolerance` (ig_adaptive.h) */
} tk_ig_rule;

typedef enum tk_baseline_kind {
    TK_BASELINE_PAD,   /* E[0] at every position (default) */
    TK_BASELINE_ZEROS, /* the zero vector */
    TK_BASELINE_OOV,   /* E[2] */
    TK_BASELINE_TOKEN  /* E[baseline_token] */
} tk_baseline_kind;

typedef enum tk_target_kind {
    TK_TARGET_PREDICTED, /* default: arg-max (ties to the lower class); sigmoid: p > 0.5 */
    TK_TARGET_LABEL,     /* the review's label */
    TK_TARGET_CLASS      /* a fixed class: target_class */
} tk_target_kind;

typedef enum tk_output_kind {
    TK_OUTPUT_PROB, /* default: softmax probability; sigmoid p (class 1) or 1 - p (class 0) */
    TK_OUTPUT_LOGIT /* pre-activation; sigmoid: z (class 1) or -z (class 0) */
} tk_output_kind;

typedef enum tk_reduce_kind { TK_REDUCE_SUM, TK_REDUCE_L2 } tk_reduce_kind;

/* Every parameter of every method, defaults set by tk_method_params_default. */
typedef struct tk_method_params {
    tk_method_kind kind;
    char name[64]; /* the results group: /attributions/<name> */

    tk_target_kind target;
    int target_class;
    tk_output_kind output; /* ignored by LRP, which starts from the logit */
    tk_reduce_kind reduce;

    /* integrated_gradients */
    int n_steps; /* default 50 */
    tk_ig_rule rule;
    tk_baseline_kind baseline; /* also DeepLIFT's reference, occlusion's replacement (pad/oov) */
    int baseline_token;

    /* occlusion */
    int window; /* default 1 */

    /* deepshap: background = the first B train reviews, or B seeded random ones */
    int background_size; /* default 100 */
    bool background_random;
    uint64_t seed;

    /* lrp_epsilon */
    double eps;         /* default 0.001 */
    double bias_factor; /* default 0 */

    /* integrated_gradients, rule adaptive (README "Integrated Gradients") */
    double tolerance;   /* default 1e-4: per-token error over max(|F(x) - F(x')|, 1e-3) */
    int max_steps;      /* default 2000: budget of integrand evaluations per review */
} tk_method_params;

void tk_method_params_default(tk_method_params *p, tk_method_kind kind);

/* "saliency", "grad_input", "integrated_gradients", "occlusion", "deeplift",
 * "deepshap", "lrp_epsilon" <-> kind. */
const char *tk_method_kind_name(tk_method_kind kind);
tk_status tk_method_kind_parse(const char *name, tk_method_kind *kind, tk_error *err);

/* One prepared review: the model input positions (padding included). */
typedef struct tk_review {
    const int32_t *ids;   /* (steps) model-input ids; NULL for embedding-less models */
    const float *vectors; /* (steps, input_dim) input vectors of embedding-less models, else NULL */
    int steps;
    int label;            /* for TK_TARGET_LABEL; -1 unknown */
} tk_review;

/* Background references for DeepSHAP (prepared like the input). */
typedef struct tk_background {
    const int32_t *ids;   /* (n, steps) or NULL */
    const float *vectors; /* (n, steps, input_dim) or NULL */
    int n;
    int steps;
} tk_background;

/* What a method returns for one review. The caller owns the arrays, sized
 * for the review's steps (and input_dim for full). */
typedef struct tk_attribution {
    float *score;     /* (steps): per-position score, reduced over input_dim */
    float *full;      /* (steps, input_dim) unreduced A, or NULL when not wanted */
    int target;       /* the class explained */
    int predicted;    /* the model's predicted class */
    double f_input;   /* explained scalar at x */
    double f_baseline;/* at the baseline (IG, DeepLIFT), E (DeepSHAP), 0 otherwise */
    double axiom_error; /* IG/DeepLIFT/DeepSHAP: completeness delta (signed);
                           LRP: relevance not conserved (logit - tokens - init state); else 0 */
    double lrp_init_state; /* LRP: relevance left on the initial states */
    double lrp_absorbed;   /* LRP: absorbed by biases and eps */
    int steps;             /* IG: integrand evaluations used (n_steps for fixed rules); else 0 */
    double error_estimate; /* IG rule adaptive: estimated max per-token error over
                              max(|F(x) - F(x')|, 1e-3); NaN otherwise */
    /* (n_outputs) or NULL: where a method that computes the model's logits
     * at x anyway (IG, for F(x) and the target) copies them, setting
     * has_logits, so that a caller needs no forward pass of its own. */
    float *logits;
    bool has_logits;
} tk_attribution;

typedef struct tk_explainer tk_explainer;

/* Everything that does not depend on the review is done here once:
 * scratch sized for max_steps, the quadrature, background forward passes.
 * background may be NULL except for DeepSHAP. */
tk_status tk_explainer_create(const tk_model *model, const tk_method_params *params,
                              const tk_background *background, int max_steps,
                              tk_explainer **out, tk_error *err);
void tk_explainer_destroy(tk_explainer *ex);

tk_status tk_explain(tk_explainer *ex, const tk_review *review, tk_attribution *out,
                     tk_error *err);

/* Whether tk_explain fills tk_attribution.logits (has_logits) on every
 * review it explains: its caller can then skip a forward pass of x. */
bool tk_explainer_gives_logits(const tk_explainer *ex);

/* Multiply-adds counted as 2 FLOPs, of the minimal work for one review of
 * `steps` positions (PERFORMANCE.md), for benchmarks. */
double tk_explainer_flops(const tk_explainer *ex, int steps);

#endif
