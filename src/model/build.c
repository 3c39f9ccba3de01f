#include "model/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/layer_ops.h"

const char *tk_layer_class_name(tk_layer_kind kind)
{
    const tk_layer_ops *ops = tk_layer_ops_of(kind);
    return ops && ops->class_name ? ops->class_name : "?";
}

/* tf.keras' snake_case base names. */
static const char *base_name(tk_layer_kind kind)
{
    const tk_layer_ops *ops = tk_layer_ops_of(kind);
    return ops && ops->base_name ? ops->base_name : "layer";
}

/* Sizes the model module cannot judge (it reads them from trusted-looking
 * Keras files): zero or negative widths, rates outside [0, 1). */
static tk_status check_sizes(const tk_layer *l, tk_error *err)
{
    const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
    if (ops->sizes_ok == NULL)
        return tk_error_set(err, TK_E_UNSUPPORTED, "layer %s: training a %s is not supported",
                            l->name, l->class_name);
    if (!ops->sizes_ok(l))
        return tk_error_set(err, TK_E_INVALID,
                            "layer %s (%s): sizes must be positive (input_dim, output_dim, "
                            "filters, kernel_size, pool_size, units) and rates in [0, 1)",
                            l->name, l->class_name);
    return TK_OK;
}

/* The Keras config of one layer; weights are laid out by the model module. */
static void fill_layer(tk_layer *l, const tk_layer_spec *s)
{
    l->kind = s->kind;
    l->input_dim = s->input_dim;
    l->output_dim = s->output_dim;
    l->filters = s->filters;
    l->kernel_size = s->kernel_size;
    l->strides = 1;
    l->dilation = 1;
    l->padding_same = s->padding_same;
    l->pool_size = s->pool_size;
    l->pool_strides = s->pool_size;
    l->pool_padding_same = s->padding_same;
    l->units = s->units;
    l->activation = s->activation;
    l->use_bias = true;
    l->dropout_rate = s->rate;
    l->return_sequences = s->return_sequences;
    const tk_layer_ops *ops = tk_layer_ops_of(s->kind);
    if (ops->build_defaults)
        ops->build_defaults(l);
}

tk_status tk_model_build(const tk_layer_spec *specs, int n_specs, int maxlen, tk_model **out,
                         tk_error *err)
{
    *out = NULL;
    if (n_specs <= 1 || maxlen <= 0)
        return tk_error_set(err, TK_E_INVALID,
                            "model: needs an Embedding and at least one more layer, and "
                            "maxlen > 0");
    tk_layer *layers = tk_calloc((size_t)n_specs, sizeof *layers, err);
    if (layers == NULL)
        return TK_E_NOMEM;
    tk_status st = TK_OK;
    int seen[TK_LAYER_KIND_COUNT] = {0};
    for (int i = 0; i < n_specs && st == TK_OK; i++) {
        tk_layer *l = &layers[i];
        const tk_layer_spec *s = &specs[i];
        if (s->kind < 0 || s->kind >= TK_LAYER_KIND_COUNT) {
            st = tk_error_set(err, TK_E_INVALID, "model: layer %d has an unknown kind", i + 1);
            break;
        }
        snprintf(l->class_name, sizeof l->class_name, "%s", tk_layer_class_name(s->kind));
        if (seen[s->kind] == 0)
            snprintf(l->name, sizeof l->name, "%s", base_name(s->kind));
        else
            snprintf(l->name, sizeof l->name, "%s_%d", base_name(s->kind), seen[s->kind]);
        seen[s->kind]++;
        if ((s->kind == TK_LAYER_EMBEDDING) != (i == 0))
            st = tk_error_set(err, TK_E_UNSUPPORTED,
                              "layer %s: the Embedding must be the first layer, and only it",
                              l->name);
        fill_layer(l, s);
        if (st == TK_OK)
            st = check_sizes(l, err);
    }
    const tk_layer_spec *last = &specs[n_specs - 1];
    if (st == TK_OK && last->kind != TK_LAYER_DENSE)
        st = tk_error_set(err, TK_E_INVALID, "model: the last layer must be a Dense layer, not %s",
                          tk_layer_class_name(last->kind));
    if (st == TK_OK)
        st = tk_model_from_layers(layers, n_specs, maxlen, 0, out, err);
    free(layers);
    return st;
}

void tk_layer_kernel_range(const tk_model *model, int layer, size_t *offset, size_t *count)
{
    const tk_layer *l = &model->layers[layer];
    const tk_layer_ops *ops = tk_layer_ops_of(l->kind);
    const float *k = ops->kernel ? ops->kernel(l, count) : NULL;
    *offset = k ? (size_t)(k - model->params) : 0;
    if (k == NULL)
        *count = 0;
}
