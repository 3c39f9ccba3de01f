/* The method parameter table (method_params.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli/method_params.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define M(k) (1u << (k))
#define ALL ((1u << TK_METHOD_KIND_COUNT) - 1)
#define BASELINED \
    (M(TK_METHOD_INTEGRATED_GRADIENTS) | M(TK_METHOD_DEEPLIFT) | M(TK_METHOD_OCCLUSION))

static const tk_param_choice TARGETS[] = {
    {"predicted", TK_TARGET_PREDICTED}, {"label", TK_TARGET_LABEL}, {"class", TK_TARGET_CLASS}, {NULL, 0}};
static const tk_param_choice OUTPUTS[] = {
    {"prob", TK_OUTPUT_PROB}, {"logit", TK_OUTPUT_LOGIT}, {NULL, 0}};
static const tk_param_choice REDUCTIONS[] = {
    {"sum", TK_REDUCE_SUM}, {"l2", TK_REDUCE_L2}, {NULL, 0}};
/* "gausslegendre" as METHODS.md spells it: the one spelling shown and
 * written (OLD_SPELLINGS below reads the old one) */
static const tk_param_choice RULES[] = {{"gausslegendre", TK_IG_GAUSS_LEGENDRE},
                                        {"riemann_left", TK_IG_RIEMANN_LEFT},
                                        {"riemann_right", TK_IG_RIEMANN_RIGHT},
                                        {"riemann_middle", TK_IG_RIEMANN_MIDDLE},
                                        {"riemann_trapezoid", TK_IG_RIEMANN_TRAPEZOID},
                                        {"adaptive", TK_IG_ADAPTIVE},
                                        {NULL, 0}};
static const tk_param_choice BASELINES[] = {{"pad", TK_BASELINE_PAD},
                                            {"zeros", TK_BASELINE_ZEROS},
                                            {"oov", TK_BASELINE_OOV},
                                            {"token", TK_BASELINE_TOKEN},
                                            {NULL, 0}};

/* Spellings jobs and results files used before one was chosen: still
 * read, never shown (help texts and messages list only the table's). */
static const struct {
    const char *key, *old, *now;
} OLD_SPELLINGS[] = {{"rule", "gauss_legendre", "gausslegendre"}};

#define F(field) offsetof(tk_method_params, field)

static const tk_method_param TABLE[] = {
    {"target", TK_PARAM_CHOICE, F(target), 0, 0, TARGETS, ALL,
     "the class explained (class: target_class)"},
    {"target_class", TK_PARAM_INT, F(target_class), 0, 1000000, NULL, ALL,
     "the class explained when target is class"},
    {"output", TK_PARAM_CHOICE, F(output), 0, 0, OUTPUTS, ALL & ~M(TK_METHOD_LRP_EPSILON),
     "the explained scalar F (LRP always explains the logit)"},
    {"reduction", TK_PARAM_CHOICE, F(reduce), 0, 0, REDUCTIONS, ALL,
     "how a token's score sums over the embedding dimensions"},
    {"n_steps", TK_PARAM_INT, F(n_steps), 1, 10000, NULL, M(TK_METHOD_INTEGRATED_GRADIENTS),
     "integration steps"},
    {"rule", TK_PARAM_CHOICE, F(rule), 0, 0, RULES, M(TK_METHOD_INTEGRATED_GRADIENTS),
     "quadrature rule (adaptive: Gauss-Kronrod 7/15 refined to tolerance; n_steps unused)"},
    {"tolerance", TK_PARAM_DOUBLE, F(tolerance), 1e-7, 1.0, NULL, M(TK_METHOD_INTEGRATED_GRADIENTS),
     "rule adaptive: max per-token error estimate over max(|F(x) - F(x')|, 1e-3)"},
    {"max_steps", TK_PARAM_INT, F(max_steps), 22, 20000, NULL, M(TK_METHOD_INTEGRATED_GRADIENTS),
     "rule adaptive: integrand evaluations per review at most (15 per interval on the LSTM path, else 22; a CNN whose kinks are found exactly needs none)"},
    {"baseline", TK_PARAM_CHOICE, F(baseline), 0, 0, BASELINES, BASELINED,
     "IG baseline, DeepLIFT reference, occlusion replacement (token: baseline_token)"},
    {"baseline_token", TK_PARAM_INT, F(baseline_token), 0, INT_MAX, NULL, BASELINED,
     "the token id of baseline token"},
    {"window", TK_PARAM_INT, F(window), 1, 100000, NULL, M(TK_METHOD_OCCLUSION),
     "tokens occluded at once"},
    {"background_size", TK_PARAM_INT, F(background_size), 1, 1000000, NULL, M(TK_METHOD_DEEPSHAP),
     "background train reviews"},
    {"background_random", TK_PARAM_BOOL, F(background_random), 0, 1, NULL, M(TK_METHOD_DEEPSHAP),
     "draw the background at random (else the first ones)"},
    {"seed", TK_PARAM_UINT64, F(seed), 0, 0, NULL, M(TK_METHOD_DEEPSHAP),
     "seed of the random background"},
    {"eps", TK_PARAM_DOUBLE, F(eps), 0, DBL_MAX, NULL, M(TK_METHOD_LRP_EPSILON),
     "epsilon stabiliser"},
    {"bias_factor", TK_PARAM_DOUBLE, F(bias_factor), -DBL_MAX, DBL_MAX, NULL,
     M(TK_METHOD_LRP_EPSILON), "share of relevance given to biases (0: absorbed)"},
    {NULL, 0, 0, 0, 0, NULL, 0, NULL}};

const tk_method_param *tk_method_params_table(void)
{
    return TABLE;
}

const tk_method_param *tk_method_param_find(const char *key)
{
    char k[64];
    size_t n = strlen(key);
    if (n >= sizeof k)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        k[i] = key[i] == '-' ? '_' : key[i];
    for (const tk_method_param *d = TABLE; d->key; d++)
        if (strcmp(d->key, k) == 0)
            return d;
    return NULL;
}

bool tk_method_param_applies(const tk_method_param *d, tk_method_kind kind)
{
    return (d->methods & M(kind)) != 0;
}

static const char *type_name(const tk_method_param *d)
{
    switch (d->type) {
    case TK_PARAM_INT:
        return "N";
    case TK_PARAM_UINT64:
        return "SEED";
    case TK_PARAM_DOUBLE:
        return "X";
    case TK_PARAM_BOOL:
        return "true|false";
    default:
        return "NAME";
    }
}

static void choices_text(const tk_method_param *d, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; d->choices[i].name; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? ", " : "", d->choices[i].name);
    }
}

static tk_status out_of_bounds(const tk_method_param *d, const char *value, tk_error *err)
{
    if (d->type == TK_PARAM_DOUBLE && d->hi == DBL_MAX)
        return tk_error_set(err, TK_E_INVALID, "'%s' = %s: must be >= %g", d->key, value, d->lo);
    if (d->type == TK_PARAM_DOUBLE)
        return tk_error_set(err, TK_E_INVALID, "'%s' = %s: must be in [%g, %g]", d->key, value,
                            d->lo, d->hi);
    return tk_error_set(err, TK_E_INVALID, "'%s' = %s: must be in [%.0f, %.0f]", d->key, value,
                        d->lo, d->hi);
}

tk_status tk_method_param_set_int(const tk_method_param *d, tk_method_params *p, int64_t v,
                                  tk_error *err)
{
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, v);
    if (d->type == TK_PARAM_DOUBLE)
        return tk_method_param_set_double(d, p, (double)v, err);
    if (d->type == TK_PARAM_UINT64) {
        if (v < 0)
            return tk_error_set(err, TK_E_INVALID, "'%s' = %s: must be >= 0", d->key, text);
        return tk_method_param_set_u64(d, p, (uint64_t)v, err);
    }
    if (d->type != TK_PARAM_INT)
        return tk_error_set(err, TK_E_INVALID, "'%s' = %s: expected %s", d->key, text,
                            type_name(d));
    if ((double)v < d->lo || (double)v > d->hi)
        return out_of_bounds(d, text, err);
    *(int *)((char *)p + d->offset) = (int)v;
    return TK_OK;
}

tk_status tk_method_param_set_u64(const tk_method_param *d, tk_method_params *p, uint64_t v,
                                  tk_error *err)
{
    if (d->type != TK_PARAM_UINT64)
        return tk_method_param_set_int(d, p, v > INT64_MAX ? INT64_MAX : (int64_t)v, err);
    *(uint64_t *)((char *)p + d->offset) = v;
    return TK_OK;
}

tk_status tk_method_param_set_double(const tk_method_param *d, tk_method_params *p, double v,
                                     tk_error *err)
{
    char text[40];
    snprintf(text, sizeof text, "%g", v);
    if (d->type != TK_PARAM_DOUBLE)
        return tk_error_set(err, TK_E_INVALID, "'%s' = %s: expected %s", d->key, text,
                            type_name(d));
    if (!(v >= d->lo && v <= d->hi)) /* NaN fails too */
        return out_of_bounds(d, text, err);
    *(double *)((char *)p + d->offset) = v;
    return TK_OK;
}

tk_status tk_method_param_set_bool(const tk_method_param *d, tk_method_params *p, bool v,
                                   tk_error *err)
{
    if (d->type != TK_PARAM_BOOL)
        return tk_error_set(err, TK_E_INVALID, "'%s': expected %s, not true/false", d->key,
                            type_name(d));
    *(bool *)((char *)p + d->offset) = v;
    return TK_OK;
}

tk_status tk_method_param_set_text(const tk_method_param *d, tk_method_params *p, const char *text,
                                   tk_error *err)
{
    char *end;
    errno = 0;
    switch (d->type) {
    case TK_PARAM_INT: {
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end)
            return tk_error_set(err, TK_E_INVALID, "'%s' = '%s': not an integer", d->key, text);
        return tk_method_param_set_int(d, p, v, err);
    }
    case TK_PARAM_UINT64: {
        unsigned long long v = strtoull(text, &end, 10);
        if (errno || end == text || *end || text[0] == '-')
            return tk_error_set(err, TK_E_INVALID, "'%s' = '%s': not an integer >= 0", d->key,
                                text);
        return tk_method_param_set_u64(d, p, v, err);
    }
    case TK_PARAM_DOUBLE: {
        double v = strtod(text, &end);
        if (errno || end == text || *end)
            return tk_error_set(err, TK_E_INVALID, "'%s' = '%s': not a number", d->key, text);
        return tk_method_param_set_double(d, p, v, err);
    }
    case TK_PARAM_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
            return tk_method_param_set_bool(d, p, true, err);
        if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
            return tk_method_param_set_bool(d, p, false, err);
        return tk_error_set(err, TK_E_INVALID, "'%s' = '%s': expected true or false", d->key, text);
    case TK_PARAM_CHOICE:
        for (size_t i = 0; i < sizeof OLD_SPELLINGS / sizeof OLD_SPELLINGS[0]; i++)
            if (strcmp(OLD_SPELLINGS[i].key, d->key) == 0 && strcmp(OLD_SPELLINGS[i].old, text) == 0)
                text = OLD_SPELLINGS[i].now;
        for (int i = 0; d->choices[i].name; i++)
            if (strcmp(d->choices[i].name, text) == 0) {
                /* every enum field of tk_method_params is int-sized */
                *(int *)((char *)p + d->offset) = d->choices[i].value;
                return TK_OK;
            }
        char allowed[256];
        choices_text(d, allowed, sizeof allowed);
        return tk_error_set(err, TK_E_INVALID, "key '%s': unknown value '%s' (expected one of %s)",
                            d->key, text, allowed);
    }
    return tk_error_set(err, TK_E_INTERNAL, "'%s': unknown parameter type", d->key);
}

void tk_method_param_format(const tk_method_param *d, const tk_method_params *p, char *buf,
                            size_t size)
{
    const char *f = (const char *)p + d->offset;
    switch (d->type) {
    case TK_PARAM_INT:
        snprintf(buf, size, "%d", *(const int *)f);
        return;
    case TK_PARAM_UINT64:
        snprintf(buf, size, "%" PRIu64, *(const uint64_t *)f);
        return;
    case TK_PARAM_DOUBLE:
        snprintf(buf, size, "%g", *(const double *)f);
        return;
    case TK_PARAM_BOOL:
        snprintf(buf, size, "%s", *(const bool *)f ? "true" : "false");
        return;
    case TK_PARAM_CHOICE:
        for (int i = 0; d->choices[i].name; i++)
            if (d->choices[i].value == *(const int *)f) {
                snprintf(buf, size, "%s", d->choices[i].name);
                return;
            }
        snprintf(buf, size, "?");
        return;
    }
}

void tk_method_params_help(FILE *out, const char *prefix, bool dashes)
{
    for (const tk_method_param *d = TABLE; d->key; d++) {
        char key[64], values[256], methods[256] = "", dflt[64] = "";
        snprintf(key, sizeof key, "%s%s", prefix, d->key);
        for (char *c = key; dashes && *c; c++)
            if (*c == '_')
                *c = '-';
        if (d->type == TK_PARAM_CHOICE)
            choices_text(d, values, sizeof values);
        else
            snprintf(values, sizeof values, "%s", type_name(d));
        int n_methods = 0;
        for (int k = 0; k < TK_METHOD_KIND_COUNT; k++)
            if (d->methods & M(k)) {
                size_t used = strlen(methods);
                snprintf(methods + used, sizeof methods - used, "%s%s", n_methods++ ? ", " : "",
                         tk_method_kind_name((tk_method_kind)k));
                if (!dflt[0]) {
                    tk_method_params p;
                    tk_method_params_default(&p, (tk_method_kind)k);
                    tk_method_param_format(d, &p, dflt, sizeof dflt);
                }
            }
        if (d->methods == ALL)
            snprintf(methods, sizeof methods, "every method");
        else if (d->methods == (ALL & ~M(TK_METHOD_LRP_EPSILON)))
            snprintf(methods, sizeof methods, "every method but lrp_epsilon");
        fprintf(out, "  %-20s %s\n  %-20s   %s (%s) [%s]\n", key, values, "", d->help, methods,
                dflt);
    }
}
