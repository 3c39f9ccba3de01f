#include "model/optim.h"

#include <math.h>
#include <stdlib.h>

struct tk_optim {
    tk_optim_config cfg;
    size_t n;
    long t;   /* steps taken */
    float *m; /* (n) Adam first moment */
    float *v; /* (n) Adam second moment, RMSprop mean square */
};

void tk_optim_config_default(tk_optim_config *cfg, tk_optim_kind kind)
{
    cfg->kind = kind;
    cfg->lr = kind == TK_OPTIM_SGD ? 0.01f : 0.001f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->rho = 0.9f;
    cfg->epsilon = 1e-7f;
}

const char *tk_optim_name(tk_optim_kind kind)
{
    switch (kind) {
    case TK_OPTIM_SGD: return "sgd";
    case TK_OPTIM_ADAM: return "adam";
    case TK_OPTIM_RMSPROP: return "rmsprop";
    }
    return NULL;
}

tk_optim *tk_optim_create(const tk_optim_config *cfg, size_t n_params, tk_error *err)
{
    tk_optim *opt = tk_calloc(1, sizeof *opt, err);
    if (opt == NULL)
        return NULL;
    opt->cfg = *cfg;
    opt->n = n_params;
    if (cfg->kind == TK_OPTIM_ADAM) {
        opt->m = tk_calloc(n_params ? n_params : 1, sizeof *opt->m, err);
        if (opt->m == NULL)
            goto fail;
    }
    if (cfg->kind != TK_OPTIM_SGD) {
        opt->v = tk_calloc(n_params ? n_params : 1, sizeof *opt->v, err);
        if (opt->v == NULL)
            goto fail;
    }
    return opt;
fail:
    tk_optim_destroy(opt);
    return NULL;
}

void tk_optim_destroy(tk_optim *opt)
{
    if (opt == NULL)
        return;
    free(opt->m);
    free(opt->v);
    free(opt);
}

long tk_optim_iterations(const tk_optim *opt)
{
    return opt->t;
}

void tk_optim_step(tk_optim *opt, float *params, const float *grad)
{
    const tk_optim_config *c = &opt->cfg;
    opt->t++;
    switch (c->kind) {
    case TK_OPTIM_SGD:
        for (size_t i = 0; i < opt->n; i++)
            params[i] -= c->lr * grad[i];
        break;
    case TK_OPTIM_ADAM: {
        double t = (double)opt->t;
        float lr_t = (float)(c->lr * sqrt(1.0 - pow(c->beta2, t)) / (1.0 - pow(c->beta1, t)));
        float b1 = c->beta1, b2 = c->beta2, eps = c->epsilon;
        float *m = opt->m, *v = opt->v;
        for (size_t i = 0; i < opt->n; i++) {
            float g = grad[i];
            m[i] = b1 * m[i] + (1.0f - b1) * g;
            v[i] = b2 * v[i] + (1.0f - b2) * g * g;
            params[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
        }
        break;
    }
    case TK_OPTIM_RMSPROP: {
        float rho = c->rho, eps = c->epsilon, lr = c->lr;
        float *s = opt->v;
        for (size_t i = 0; i < opt->n; i++) {
            float g = grad[i];
            s[i] = rho * s[i] + (1.0f - rho) * g * g;
            params[i] -= lr * g / (sqrtf(s[i]) + eps);
        }
        break;
    }
    }
}
