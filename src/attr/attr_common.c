#include "attr/attr_common.h"

#include <math.h>

#include "attr/rules_rnn.h"
#include <string.h>

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

/* Output length of a sliding window over n positions. */
static int window_out(int n, int size, int stride, int dilation, bool same)
{
    if (stride < 1)
        stride = 1;
    if (same)
        return (n + stride - 1) / stride;
    int span = dilation * (size - 1) + 1;
    return n < span ? 0 : (n - span) / stride + 1;
}

/* Per layer: forward FLOPs, and whether a global max pooling follows it
 * before the next layer with weights (then its backward costs one window). */
static double layer_flops(const tk_layer *l, int *steps, int *channels)
{
    int n = *steps, c = *channels;
    double f = 0.0;
    switch (l->kind) {
    case TK_LAYER_CONV1D: {
        int out = window_out(n, l->kernel_size, l->strides, l->dilation < 1 ? 1 : l->dilation,
                             l->padding_same);
        f = 2.0 * out * l->kernel_size * c * l->filters;
        *steps = out;
        *channels = l->filters;
        break;
    }
    case TK_LAYER_DENSE:
        f = 2.0 * (n > 0 ? n : 1) * c * l->units;
        *channels = l->units;
        break;
    case TK_LAYER_LSTM:
    case TK_LAYER_BIDIRECTIONAL: {
        int dirs = l->kind == TK_LAYER_BIDIRECTIONAL ? 2 : 1;
        int units = l->units > 0 ? l->units : l->out.channels / dirs;
        f = dirs * 2.0 * n * (double)(c + units) * 4.0 * units;
        int outc = l->out.channels;
        *channels = outc;
        *steps = l->return_sequences ? n : 0;
        break;
    }
    case TK_LAYER_SIMPLE_RNN:
    case TK_LAYER_GRU:
    case TK_LAYER_BIDIRECTIONAL_SIMPLE_RNN:
    case TK_LAYER_BIDIRECTIONAL_GRU:
        f = 2.0 * tk_rules_rnn_macs(l, (tk_shape){n, c});
        *channels = l->out.channels;
        *steps = l->return_sequences ? n : 0;
        break;
    case TK_LAYER_MAX_POOL1D:
    case TK_LAYER_AVG_POOL1D:
        *steps = window_out(n, l->pool_size, l->pool_strides, 1, l->pool_padding_same);
        break;
    case TK_LAYER_GLOBAL_MAX_POOL1D:
    case TK_LAYER_GLOBAL_AVG_POOL1D:
        *steps = 0;
        break;
    case TK_LAYER_FLATTEN:
        *channels = (n > 0 ? n : 1) * c;
        *steps = 0;
        break;
    default:
        break;
    }
    return f;
}

double tk_attr_forward_flops(const tk_model *model, int steps)
{
    int n = steps, c = model->input_dim;
    double total = 0.0;
    for (int i = model->first_body_layer; i < model->n_layers; i++)
        total += layer_flops(&model->layers[i], &n, &c);
    return total;
}

double tk_attr_backward_flops(const tk_model *model, int steps)
{
    int n = steps, c = model->input_dim;
    double total = 0.0;
    for (int i = model->first_body_layer; i < model->n_layers; i++) {
        double f = layer_flops(&model->layers[i], &n, &c);
        /* Only the arg-max window of each channel receives gradient when a
         * global max pooling comes next (activations and dropout between). */
        bool gated = false;
        for (int j = i + 1; j < model->n_layers; j++) {
            tk_layer_kind k = model->layers[j].kind;
            if (k == TK_LAYER_GLOBAL_MAX_POOL1D) {
                gated = true;
                break;
            }
            if (k != TK_LAYER_ACTIVATION && k != TK_LAYER_DROPOUT)
                break;
        }
        if (gated && n > 0)
            f /= n;
        total += f;
    }
    return total;
}
