/* The method parameter table: lookups with '_' or '-', typed setters with
 * bounds, choices, which methods a key applies to, help text listing every
 * key with its default; and the job parser going through it (every entry
 * set from YAML lands in the field the table names). job.c and the table
 * live in src/cli (the binary), so they are compiled in here. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/job.h"
#include "cli/method_params.h"
#include "support/testutil.h"

static void test_find_and_set(void)
{
    const tk_method_param *d = tk_method_param_find("n-steps");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_PTR_EQUAL(d, tk_method_param_find("n_steps"));
    CU_ASSERT_PTR_NULL(tk_method_param_find("n_stepz"));
    tk_method_params p;
    tk_method_params_default(&p, TK_METHOD_INTEGRATED_GRADIENTS);
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_method_param_set_text(d, &p, "16", &err), TK_OK);
    CU_ASSERT_EQUAL(p.n_steps, 16);
    CU_ASSERT_NOT_EQUAL(tk_method_param_set_text(d, &p, "0", &err), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "[1, 10000]"));
    err = (tk_error){0};
    CU_ASSERT_NOT_EQUAL(tk_method_param_set_text(d, &p, "12x", &err), TK_OK);
    CU_ASSERT_EQUAL(p.n_steps, 16);
    const tk_method_param *rule = tk_method_param_find("rule");
    err = (tk_error){0};
    CU_ASSERT_EQUAL(tk_method_param_set_text(rule, &p, "riemann_trapezoid", &err), TK_OK);
    CU_ASSERT_EQUAL(p.rule, TK_IG_RIEMANN_TRAPEZOID);
    CU_ASSERT_NOT_EQUAL(tk_method_param_set_text(rule, &p, "simpson", &err), TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gausslegendre"));
    /* one spelling shown: the old one is read, formatted and listed as the new */
    CU_ASSERT_PTR_NULL(strstr(err.msg, "gauss_legendre"));
    err = (tk_error){0};
    CU_ASSERT_EQUAL(tk_method_param_set_text(rule, &p, "gauss_legendre", &err), TK_OK);
    CU_ASSERT_EQUAL(p.rule, TK_IG_GAUSS_LEGENDRE);
    char spelled[32];
    tk_method_param_format(rule, &p, spelled, sizeof spelled);
    CU_ASSERT_STRING_EQUAL(spelled, "gausslegendre");
    p.rule = TK_IG_RIEMANN_TRAPEZOID;
    const tk_method_param *eps = tk_method_param_find("eps");
    err = (tk_error){0};
    CU_ASSERT_NOT_EQUAL(tk_method_param_set_double(eps, &p, -1e-3, &err), TK_OK);
    CU_ASSERT_NOT_EQUAL(tk_method_param_set_text(eps, &p, "nan", &err), TK_OK);
    err = (tk_error){0};
    CU_ASSERT_EQUAL(tk_method_param_set_text(eps, &p, "0.25", &err), TK_OK);
    CU_ASSERT_DOUBLE_EQUAL(p.eps, 0.25, 0);
    const tk_method_param *seed = tk_method_param_find("seed");
    CU_ASSERT_EQUAL(tk_method_param_set_text(seed, &p, "18446744073709551615", &err), TK_OK);
    CU_ASSERT_EQUAL(p.seed, UINT64_MAX);
    const tk_method_param *rnd = tk_method_param_find("background-random");
    CU_ASSERT_EQUAL(tk_method_param_set_text(rnd, &p, "true", &err), TK_OK);
    CU_ASSERT_TRUE(p.background_random);
    char buf[32];
    tk_method_param_format(rule, &p, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "riemann_trapezoid");
}

static void test_applies(void)
{
    CU_ASSERT_TRUE(tk_method_param_applies(tk_method_param_find("eps"), TK_METHOD_LRP_EPSILON));
    CU_ASSERT_FALSE(tk_method_param_applies(tk_method_param_find("eps"),
                                            TK_METHOD_INTEGRATED_GRADIENTS));
    CU_ASSERT_FALSE(tk_method_param_applies(tk_method_param_find("output"), TK_METHOD_LRP_EPSILON));
    CU_ASSERT_TRUE(tk_method_param_applies(tk_method_param_find("background_size"),
                                           TK_METHOD_DEEPSHAP));
    for (const tk_method_param *d = tk_method_params_table(); d->key; d++)
        CU_ASSERT_NOT_EQUAL(d->methods, 0u);
}

/* Every key in the help, with the default tk_method_params_default gives. */
static void test_help(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&text, &size);
    tk_method_params_help(m, "--", true);
    fclose(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "--background-size"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "--bias-factor"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "(lrp_epsilon) [0.001]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "(integrated_gradients) [50]"));
    for (const tk_method_param *d = tk_method_params_table(); d->key; d++) {
        char opt[80];
        snprintf(opt, sizeof opt, "--%s", d->key);
        for (char *c = opt; *c; c++)
            if (*c == '_')
                *c = '-';
        CU_ASSERT_PTR_NOT_NULL(strstr(text, opt));
    }
    free(text);
}

/* The job parser takes each key through the table: a value set in YAML
 * reaches the table's field, and an out-of-bounds value is refused with
 * the table's bounds. */
static void test_job_uses_table(void)
{
    static const struct {
        const char *method, *key, *value, *want;
    } CASES[] = {{"integrated_gradients", "n_steps", "7", "7"},
                 {"integrated_gradients", "rule", "riemann_left", "riemann_left"},
                 {"integrated_gradients", "baseline", "oov", "oov"},
                 {"occlusion", "window", "3", "3"},
                 {"deepshap", "background_size", "12", "12"},
                 {"deepshap", "background_random", "true", "true"},
                 {"deepshap", "seed", "99", "99"},
                 {"lrp_epsilon", "eps", "0.5", "0.5"},
                 {"lrp_epsilon", "bias_factor", "1", "1"},
                 {"saliency", "reduction", "l2", "l2"},
                 {"saliency", "output", "logit", "logit"}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char y[512];
        snprintf(y, sizeof y,
                 "model: m.h5\ndataset: d.h5\nresults: r.h5\nmethods:\n"
                 "  - {name: a, method: %s, %s: %s}\n",
                 CASES[i].method, CASES[i].key, CASES[i].value);
        tk_job *job = NULL;
        tk_error err = {0};
        CU_ASSERT_EQUAL_FATAL(tk_job_parse(y, "t.yaml", ".", NULL, &job, &err), TK_OK);
        char got[64];
        tk_method_param_format(tk_method_param_find(CASES[i].key), &job->methods[0], got,
                               sizeof got);
        CU_ASSERT_STRING_EQUAL(got, CASES[i].want);
        tk_job_destroy(job);
    }
    tk_job *job = NULL;
    tk_error err = {0};
    CU_ASSERT_NOT_EQUAL(tk_job_parse("model: m.h5\ndataset: d.h5\nresults: r.h5\nmethods:\n"
                                     "  - {name: a, method: integrated_gradients, n_steps: 0}\n",
                                     "t.yaml", ".", NULL, &job, &err),
                        TK_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "t.yaml"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "n_steps"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "[1, 10000]"));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {{"find_and_set", test_find_and_set},
                                         {"applies", test_applies},
                                         {"help", test_help},
                                         {"job_uses_table", test_job_uses_table},
                                         {NULL, NULL}};
    tk_test_add_suite("method_params", cases);
    return tk_test_run_all();
}
