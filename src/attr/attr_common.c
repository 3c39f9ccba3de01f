#include "attr/attr_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr/rules.h"

tk_status tk_attr_input(const tk_model *model, const tk_review *review, float *x, tk_error *err)
{
    if (model->has_embedding)
        return tk_model_embed(model, review->ids, 1, review->steps, x, err);
    memcpy(x, review->vectors, (size_t)review->steps * (size_t)model->input_dim * sizeof *x);
    return TK_OK;
}

tk_status tk_attr_baseline_row(const tk_model *model, const tk_method_params *params, float *row,
                               tk_error *err)
{
    int dim = model->input_dim;
    int32_t id;
    switch (params->baseline) {
    case TK_BASELINE_ZEROS:
        memset(row, 0, (size_t)dim * sizeof *row);
        return TK_OK;
    case TK_BASELINE_OOV:
        id = 2;
        break;
    case TK_BASELINE_TOKEN:
        id = params->baseline_token;
        break;
    case TK_BASELINE_PAD:
    default:
        id = 0;
        break;
    }
    if (!model->has_embedding && params->baseline == TK_BASELINE_PAD) {
        memset(row, 0, (size_t)dim * sizeof *row); /* vector sequences are padded with zeros */
        return TK_OK;
    }
    if (!model->has_embedding)
        return tk_error_set(err, TK_E_INVALID,
                            "method %s: a token baseline needs an Embedding layer; use 'zeros'",
                            params->name);
    return tk_model_embed(model, &id, 1, 1, row, err);
}

void tk_attr_reduce(tk_reduce_kind reduce, const float *a, int steps, int dim, float *score)
{
    for (int t = 0; t < steps; t++) {
        const float *row = a + (size_t)t * dim;
        double s = 0.0;
        if (reduce == TK_REDUCE_L2) {
            for (int d = 0; d < dim; d++)
                s += (double)row[d] * row[d];
            s = sqrt(s);
        } else {
            for (int d = 0; d < dim; d++)
                s += row[d];
        }
        score[t] = (float)s;
    }
}

/* Per body layer, forward FLOPs (the model's table) and whether a global
 * max pooling follows it through element-wise layers only (the rules'
 * routing): then its backward costs one window instead of `steps`. */
static double flops(const tk_model *model, int steps, bool backward)
{
    int n = model->n_layers;
    tk_shape *in = tk_calloc((size_t)n * 2, sizeof *in, NULL), *out = in ? in + n : NULL;
    if (!in)
        return 0.0;
    double total = 0.0;
    if (tk_model_shapes(model, steps, in, out, NULL) == TK_OK)
        for (int i = model->first_body_layer; i < n; i++) {
            double f = tk_model_layer_flops(model, i, in[i], out[i]);
            int j = i + 1;
            while (j < n && tk_attr_rules_of(model->layers[j].kind)->route == TK_ROUTE_PASS)
                j++;
            bool gated = j < n && tk_attr_rules_of(model->layers[j].kind)->route == TK_ROUTE_ONE;
            if (backward && gated && out[i].steps > 0)
                f /= out[i].steps;
            total += f;
        }
    free(in);
    return total;
}

double tk_attr_forward_flops(const tk_model *model, int steps)
{
    return flops(model, steps, false);
}

double tk_attr_backward_flops(const tk_model *model, int steps)
{
    return flops(model, steps, true);
}
