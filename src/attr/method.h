/* Inside src/attr: the table every method fills in. attr.c dispatches on
 * tk_method_kind through tk_method_ops_for(); a method file defines one
 * `const tk_method_ops tk_<method>_ops` and nothing else public. */
#ifndef TOKATTR_ATTR_METHOD_H
#define TOKATTR_ATTR_METHOD_H

#include "attr/attr.h"

typedef struct tk_method_ops {
    /* Builds the method's private state (scratch for max_steps, quadrature,
     * background passes). */
    tk_status (*create)(const tk_model *model, const tk_method_params *params,
                        const tk_background *background, int max_steps, void **state,
                        tk_error *err);
    tk_status (*explain)(void *state, const tk_review *review, tk_attribution *out,
                         tk_error *err);
    void (*destroy)(void *state);
    double (*flops)(const void *state, int steps);
    bool gives_logits; /* explain fills tk_attribution.logits when asked */
} tk_method_ops;

/* NULL when the kind has no implementation in this build. */
const tk_method_ops *tk_method_ops_for(tk_method_kind kind);

extern const tk_method_ops tk_saliency_ops;      /* saliency and grad_input (gradient.c) */
extern const tk_method_ops tk_ig_ops;            /* ig.c */
extern const tk_method_ops tk_occlusion_ops;     /* occlusion.c */
extern const tk_method_ops tk_deeplift_ops;      /* deeplift and deepshap (deeplift.c) */
extern const tk_method_ops tk_lrp_ops;           /* lrp.c */

#endif
