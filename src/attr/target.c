#include "attr/target.h"

#include <math.h>

#include "model/activation.h"

int tk_predicted_class(const tk_model *model, const float *logits)
{
    if (model->n_outputs == 1)
        return logits[0] > 0.0f ? 1 : 0;
    int best = 0;
    for (int c = 1; c < model->n_outputs; c++)
        if (logits[c] > logits[best])
            best = c;
    return best;
}

static int n_classes(const tk_model *model)
{
    return model->n_outputs == 1 ? 2 : model->n_outputs;
}

tk_status tk_choose_target(const tk_model *model, const tk_method_params *params,
                           const float *logits, int label, int *target, tk_error *err)
{
    int t;
    switch (params->target) {
    case TK_TARGET_LABEL:
        if (label < 0)
            return tk_error_set(err, TK_E_INVALID,
                                "method %s: target 'label' needs the review's label, which is unknown",
                                params->name);
        t = label;
        break;
    case TK_TARGET_CLASS:
        t = params->target_class;
        break;
    case TK_TARGET_PREDICTED:
    default:
        t = tk_predicted_class(model, logits);
        break;
    }
    if (t < 0 || t >= n_classes(model))
        return tk_error_set(err, TK_E_INVALID, "method %s: target class %d is outside the model's %d classes",
                            params->name, t, n_classes(model));
    *target = t;
    return TK_OK;
}

static double sigmoid(double z)
{
    return tk_act_value_d(TK_ACT_SIGMOID, z);
}

double tk_explained_scalar(const tk_model *model, tk_output_kind output, int target,
                           const float *logits, float *d_logits)
{
    int k = model->n_outputs;
    if (d_logits != NULL)
        for (int c = 0; c < k; c++)
            d_logits[c] = 0.0f;

    if (k == 1) {
        double z = logits[0];
        double sign = target == 1 ? 1.0 : -1.0;
        if (output == TK_OUTPUT_LOGIT || model->output_activation != TK_ACT_SIGMOID) {
            if (d_logits != NULL)
                d_logits[0] = (float)sign;
            return sign * z;
        }
        /* 1 - sigmoid(z) = sigmoid(-z): one formula for both classes. */
        double p = sigmoid(sign * z);
        if (d_logits != NULL)
            d_logits[0] = (float)(sign * p * (1.0 - p));
        return p;
    }

    if (output == TK_OUTPUT_LOGIT || model->output_activation != TK_ACT_SOFTMAX) {
        if (d_logits != NULL)
            d_logits[target] = 1.0f;
        return logits[target];
    }
    double zmax = logits[0];
    for (int c = 1; c < k; c++)
        zmax = fmax(zmax, logits[c]);
    double sum = 0.0;
    for (int c = 0; c < k; c++)
        sum += exp((double)logits[c] - zmax);
    double p = exp((double)logits[target] - zmax) / sum;
    if (d_logits != NULL)
        for (int c = 0; c < k; c++) {
            double pc = exp((double)logits[c] - zmax) / sum;
            d_logits[c] = (float)((c == target ? p : 0.0) - p * pc);
        }
    return p;
}
