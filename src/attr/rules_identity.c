/* Rules of the layers that move no value: InputLayer, Flatten (the same
 * memory layout), Dropout (identity at inference), and Activation (its
 * non-linearity is the driver's rescale; what is left is the identity). */
#include <string.h>

#include "attr/rules.h"

/* The multipliers stay where they are (same layout, same sparsity). */
static bool identity_dl(tk_dl_layer *c)
{
    (void)c;
    return false;
}

/* Activation: mo was rescaled through it by the driver; the rest is a copy
 * that keeps the sparsity (a sparse mo is the list itself: nothing to
 * copy, tk_dl_sparse). */
static bool activation_dl(tk_dl_layer *c)
{
    if (c->nz->valid)
        return false;
    memcpy(c->mi, c->mo, sizeof(float) * (size_t)c->nb * tk_rules_size(c->in));
    return true;
}

/* Relevance passes unchanged (LRP's rule for element-wise activations). */
static void identity_lrp(tk_lrp_layer *c)
{
    memcpy(c->ri, c->ro, sizeof(double) * tk_rules_size(c->in));
}

const tk_attr_rules tk_rules_identity = {
    .dl_backward = identity_dl,
    .dl_sparse_in = true,
    .lrp_backward = identity_lrp,
    .route = TK_ROUTE_PASS,
};

const tk_attr_rules tk_rules_activation = {
    .dl_backward = activation_dl,
    .dl_sparse_in = true,
    .lrp_backward = identity_lrp,
    .route = TK_ROUTE_PASS,
};
