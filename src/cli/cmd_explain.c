/* `tokattr explain MODEL DATASET`: attributions of a few reviews printed
 * word by word, for looking at one method's output by eye. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "attr/quadrature.h"
#include "cli/commands.h"
#include "core/gemm.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "model/model.h"

typedef struct explain_opts {
    const char *model_path;
    const char *architecture; /* --architecture: NULL = the model file's own config */
    const char *dataset_path;
    const char *reviews; /* "0-9", "3,5,10-12" */
    const char *split;
    tk_method_params params;
    int maxlen; /* 0: the model's */
    bool json;
} explain_opts;

static void explain_usage(FILE *out)
{
    fprintf(out,
            "usage: tokattr explain MODEL DATASET [options]\n"
            "  MODEL    a Keras classifier with an Embedding layer: .h5 (Keras 2 or 3),\n"
            "           .keras (Keras 3), or weights-only .h5 with --architecture\n"
            "  DATASET  a dataset file made by `tokattr prepare`\n"
            "options (defaults in brackets):\n"
            "  --method M     saliency, grad_input, ig (integrated_gradients), occlusion,\n"
            "                 deeplift, deepshap, lrp_epsilon [ig]\n"
            "  --reviews R    review indices of the split, e.g. 0-9 or 3,7,10-12 [0]\n"
            "  --split S      train or test [test]\n"
            "  --steps N      IG steps [50]\n"
            "  --rule R       gausslegendre, riemann_left, riemann_right, riemann_middle,\n"
            "                 riemann_trapezoid [gausslegendre]\n"
            "  --baseline B   pad, zeros, oov or a token id (IG baseline, occlusion\n"
            "                 replacement) [pad]\n"
            "  --window W     occlusion window [1]\n"
            "  --output O     prob or logit [prob]\n"
            "  --target T     predicted, label or a class number [predicted]\n"
            "  --reduce R     sum or l2 over the embedding dimension [sum]\n"
            "  --maxlen N     input length when the model does not fix one\n"
            "  --architecture J  the architecture JSON (model.to_json()) of a\n"
            "                 weights-only MODEL (model.save_weights)\n"
            "  --json         one JSON document instead of text\n");
}

static bool parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* Parses "a-b,c,..." into a list of indices within [0, n). */
static tk_status parse_reviews(const char *spec, int64_t n, int64_t **out, int *count,
                               tk_error *err)
{
    int cap = 16, k = 0;
    int64_t *list = tk_malloc((size_t)cap, sizeof *list, err);
    if (list == NULL)
        return TK_E_NOMEM;
    const char *p = spec;
    while (*p != '\0') {
        char *end;
        errno = 0;
        long long a = strtoll(p, &end, 10), b;
        if (end == p || errno != 0)
            goto bad;
        b = a;
        p = end;
        if (*p == '-') {
            const char *q = p + 1;
            b = strtoll(q, &end, 10);
            if (end == q || errno != 0)
                goto bad;
            p = end;
        }
        if (a < 0 || b < a || b >= n) {
            free(list);
            return tk_error_set(err, TK_E_INVALID,
                                "--reviews %s: %lld-%lld is outside the split's %lld reviews", spec,
                                a, b, (long long)n);
        }
        if (b - a > 100000)
            goto bad;
        for (long long i = a; i <= b; i++) {
            if (k == cap) {
                int64_t *grown = realloc(list, sizeof *list * (size_t)cap * 2);
                if (grown == NULL) {
                    free(list);
                    return tk_error_set(err, TK_E_NOMEM, "--reviews: out of memory");
                }
                list = grown;
                cap *= 2;
            }
            list[k++] = i;
        }
        if (*p == ',')
            p++;
        else if (*p != '\0')
            goto bad;
    }
    if (k == 0)
        goto bad;
    *out = list;
    *count = k;
    return TK_OK;
bad:
    free(list);
    return tk_error_set(err, TK_E_INVALID, "--reviews '%s' is not a list like 0-9 or 3,7,10-12",
                        spec);
}

/* Returns TK_EXIT_OK, or TK_EXIT_USAGE after printing the problem. */
static int parse_args(int argc, char **argv, explain_opts *o)
{
    memset(o, 0, sizeof *o);
    o->reviews = "0";
    o->split = "test";
    tk_method_params_default(&o->params, TK_METHOD_INTEGRATED_GRADIENTS);
    const char *method = "integrated_gradients";
    const char *rule = NULL, *baseline = NULL, *output = NULL, *target = NULL, *reduce = NULL;
    const char *steps = NULL, *window = NULL, *maxlen = NULL;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            explain_usage(stdout);
            return -1;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        } else if (strcmp(a, "--method") == 0) {
            slot = &method;
        } else if (strcmp(a, "--reviews") == 0) {
            slot = &o->reviews;
        } else if (strcmp(a, "--split") == 0) {
            slot = &o->split;
        } else if (strcmp(a, "--steps") == 0) {
            slot = &steps;
        } else if (strcmp(a, "--rule") == 0) {
            slot = &rule;
        } else if (strcmp(a, "--baseline") == 0) {
            slot = &baseline;
        } else if (strcmp(a, "--window") == 0) {
            slot = &window;
        } else if (strcmp(a, "--output") == 0) {
            slot = &output;
        } else if (strcmp(a, "--target") == 0) {
            slot = &target;
        } else if (strcmp(a, "--reduce") == 0) {
            slot = &reduce;
        } else if (strcmp(a, "--maxlen") == 0) {
            slot = &maxlen;
        } else if (strcmp(a, "--architecture") == 0) {
            slot = &o->architecture;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tokattr explain: unknown option '%s'\n", a);
            return TK_EXIT_USAGE;
        } else {
            if (positional == 0)
                o->model_path = a;
            else if (positional == 1)
                o->dataset_path = a;
            else {
                fprintf(stderr, "tokattr explain: unexpected argument '%s'\n", a);
                return TK_EXIT_USAGE;
            }
            positional++;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tokattr explain: %s needs a value\n", a);
            return TK_EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    if (positional != 2) {
        fprintf(stderr, "tokattr explain: MODEL and DATASET are required\n");
        explain_usage(stderr);
        return TK_EXIT_USAGE;
    }
    tk_error err = {0};
    tk_method_kind kind;
    if (tk_method_kind_parse(method, &kind, &err) != TK_OK) {
        fprintf(stderr, "tokattr explain: %s\n", err.msg);
        return TK_EXIT_USAGE;
    }
    tk_method_params_default(&o->params, kind);
    tk_method_params *p = &o->params;
    if (steps && !parse_int(steps, 1, 100000, &p->n_steps)) {
        fprintf(stderr, "tokattr explain: --steps '%s' is not a number in [1, 100000]\n", steps);
        return TK_EXIT_USAGE;
    }
    if (window && !parse_int(window, 1, 100000, &p->window)) {
        fprintf(stderr, "tokattr explain: --window '%s' is not a positive number\n", window);
        return TK_EXIT_USAGE;
    }
    if (maxlen && !parse_int(maxlen, 1, 1000000, &o->maxlen)) {
        fprintf(stderr, "tokattr explain: --maxlen '%s' is not a positive number\n", maxlen);
        return TK_EXIT_USAGE;
    }
    if (rule && tk_ig_rule_parse(rule, &p->rule, &err) != TK_OK) {
        fprintf(stderr, "tokattr explain: --rule: %s\n", err.msg);
        return TK_EXIT_USAGE;
    }
    if (baseline) {
        if (strcmp(baseline, "pad") == 0)
            p->baseline = TK_BASELINE_PAD;
        else if (strcmp(baseline, "zeros") == 0 || strcmp(baseline, "zero") == 0)
            p->baseline = TK_BASELINE_ZEROS;
        else if (strcmp(baseline, "oov") == 0)
            p->baseline = TK_BASELINE_OOV;
        else if (parse_int(baseline, 0, INT_MAX, &p->baseline_token))
            p->baseline = TK_BASELINE_TOKEN;
        else {
            fprintf(stderr, "tokattr explain: --baseline '%s' is not pad, zeros, oov or a token id\n",
                    baseline);
            return TK_EXIT_USAGE;
        }
    }
    if (output) {
        if (strcmp(output, "prob") == 0)
            p->output = TK_OUTPUT_PROB;
        else if (strcmp(output, "logit") == 0)
            p->output = TK_OUTPUT_LOGIT;
        else {
            fprintf(stderr, "tokattr explain: --output '%s' is not prob or logit\n", output);
            return TK_EXIT_USAGE;
        }
    }
    if (target) {
        if (strcmp(target, "predicted") == 0)
            p->target = TK_TARGET_PREDICTED;
        else if (strcmp(target, "label") == 0)
            p->target = TK_TARGET_LABEL;
        else if (parse_int(target, 0, 1000000, &p->target_class))
            p->target = TK_TARGET_CLASS;
        else {
            fprintf(stderr, "tokattr explain: --target '%s' is not predicted, label or a class\n",
                    target);
            return TK_EXIT_USAGE;
        }
    }
    if (reduce) {
        if (strcmp(reduce, "sum") == 0)
            p->reduce = TK_REDUCE_SUM;
        else if (strcmp(reduce, "l2") == 0)
            p->reduce = TK_REDUCE_L2;
        else {
            fprintf(stderr, "tokattr explain: --reduce '%s' is not sum or l2\n", reduce);
            return TK_EXIT_USAGE;
        }
    }
    if (strcmp(o->split, "train") != 0 && strcmp(o->split, "test") != 0) {
        fprintf(stderr, "tokattr explain: --split '%s' is not train or test\n", o->split);
        return TK_EXIT_USAGE;
    }
    return TK_EXIT_OK;
}

static void print_text(const tk_dataset *ds, const explain_opts *o, int64_t index,
                       const tk_split *split, const int32_t *ids, const int32_t *pos, int steps,
                       const tk_attribution *a)
{
    bool has_baseline = o->params.kind == TK_METHOD_INTEGRATED_GRADIENTS ||
                        o->params.kind == TK_METHOD_DEEPLIFT || o->params.kind == TK_METHOD_DEEPSHAP;
    printf("review %lld (%s, id %d, label %d): %s, target %d, predicted %d, F(x) = %.6f",
           (long long)index, o->split, split->review_id[index], split->label[index],
           o->params.name, a->target, a->predicted, a->f_input);
    if (has_baseline)
        printf(", F(x') = %.6f, delta = %.3e", a->f_baseline, a->axiom_error);
    printf("\n");
    double pad = 0.0, total = 0.0;
    for (int t = 0; t < steps; t++) {
        total += a->score[t];
        if (pos[t] == -2) {
            pad += a->score[t];
            continue;
        }
        printf("  %4d  %-20s %+.6f\n", t, tk_dataset_word(ds, ids[t]), a->score[t]);
    }
    printf("  padding total %+.6f, all positions %+.6f\n\n", pad, total);
}

static cJSON *review_json(const tk_dataset *ds, const explain_opts *o, int64_t index,
                          const tk_split *split, const int32_t *ids, const int32_t *pos,
                          int steps, const tk_attribution *a)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "index", (double)index);
    cJSON_AddNumberToObject(r, "review_id", split->review_id[index]);
    cJSON_AddNumberToObject(r, "label", split->label[index]);
    cJSON_AddStringToObject(r, "method", o->params.name);
    cJSON_AddNumberToObject(r, "target", a->target);
    cJSON_AddNumberToObject(r, "predicted", a->predicted);
    cJSON_AddNumberToObject(r, "f_input", a->f_input);
    cJSON_AddNumberToObject(r, "f_baseline", a->f_baseline);
    cJSON_AddNumberToObject(r, "delta", a->axiom_error);
    cJSON *toks = cJSON_AddArrayToObject(r, "tokens");
    double pad = 0.0;
    for (int t = 0; t < steps; t++) {
        if (pos[t] == -2) {
            pad += a->score[t];
            continue;
        }
        cJSON *tok = cJSON_CreateObject();
        cJSON_AddNumberToObject(tok, "position", t);
        cJSON_AddNumberToObject(tok, "word_index", pos[t]);
        cJSON_AddNumberToObject(tok, "id", ids[t]);
        cJSON_AddStringToObject(tok, "word", tk_dataset_word(ds, ids[t]));
        cJSON_AddNumberToObject(tok, "score", a->score[t]);
        cJSON_AddItemToArray(toks, tok);
    }
    cJSON_AddNumberToObject(r, "padding_score", pad);
    return r;
}

int tk_cmd_explain(int argc, char **argv)
{
    explain_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != TK_EXIT_OK)
        return rc < 0 ? TK_EXIT_OK : rc;
    tk_blas_single_thread();

    tk_error err = {0};
    tk_model *model = NULL;
    tk_dataset *ds = NULL;
    tk_explainer *ex = NULL;
    int64_t *list = NULL;
    int32_t *ids = NULL, *pos = NULL;
    float *score = NULL;
    cJSON *doc = NULL;
    rc = TK_EXIT_FAILURE;

    if (tk_model_load_with_architecture(o.model_path, o.architecture, &model, &err) != TK_OK)
        goto fail;
    if (model->text_vectorization.present)
        fprintf(stderr, "tokattr explain: note: %s starts with a TextVectorization: its ids "
                        "are right only for a dataset prepared with its vocabulary (tokattr "
                        "inspect %s --vocabulary-out VOCAB.txt, then --tokenizer "
                        "text-vectorization:VOCAB.txt)\n", o.model_path, o.model_path);
    if (!model->has_embedding) {
        tk_error_set(&err, TK_E_UNSUPPORTED,
                     "%s has no Embedding layer: explain works on token ids of a dataset",
                     o.model_path);
        goto fail;
    }
    int maxlen = o.maxlen > 0 ? o.maxlen : model->maxlen;
    if (maxlen <= 0) {
        tk_error_set(&err, TK_E_INVALID, "%s accepts any input length: give --maxlen",
                     o.model_path);
        goto fail;
    }
    if (tk_dataset_read(o.dataset_path, &ds, &err) != TK_OK)
        goto fail;
    const tk_split *split = tk_dataset_split(ds, o.split, &err);
    if (split == NULL)
        goto fail;
    int n_list = 0;
    if (parse_reviews(o.reviews, split->n, &list, &n_list, &err) != TK_OK) {
        rc = TK_EXIT_USAGE;
        goto fail;
    }
    if (tk_explainer_create(model, &o.params, NULL, maxlen, &ex, &err) != TK_OK)
        goto fail;
    ids = tk_malloc((size_t)maxlen, sizeof *ids, &err);
    pos = tk_malloc((size_t)maxlen, sizeof *pos, &err);
    score = tk_malloc((size_t)maxlen, sizeof *score, &err);
    if (!ids || !pos || !score)
        goto fail;
    tk_input_spec spec;
    tk_input_spec_default(&spec, model->vocab_size, maxlen);
    if (o.json) {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "model", o.model_path);
        cJSON_AddStringToObject(doc, "split", o.split);
        cJSON_AddStringToObject(doc, "method", tk_method_kind_name(o.params.kind));
        if (o.params.kind == TK_METHOD_INTEGRATED_GRADIENTS) {
            cJSON_AddNumberToObject(doc, "n_steps", o.params.n_steps);
            cJSON_AddStringToObject(doc, "rule", tk_ig_rule_name(o.params.rule));
        }
        cJSON_AddStringToObject(doc, "output", o.params.output == TK_OUTPUT_LOGIT ? "logit" : "prob");
        cJSON_AddArrayToObject(doc, "reviews");
    }
    for (int i = 0; i < n_list; i++) {
        int64_t r = list[i];
        int64_t off = split->offset[r], len = split->offset[r + 1] - off;
        tk_prepare_input(&spec, split->ids + off, len, ids, pos);
        tk_review rv = {.ids = ids, .vectors = NULL, .steps = maxlen, .label = split->label[r]};
        tk_attribution a = {.score = score, .full = NULL};
        if (tk_explain(ex, &rv, &a, &err) != TK_OK) {
            tk_error_prefix(&err, "review %lld", (long long)r);
            goto fail;
        }
        if (doc)
            cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "reviews"),
                                 review_json(ds, &o, r, split, ids, pos, maxlen, &a));
        else
            print_text(ds, &o, r, split, ids, pos, maxlen, &a);
    }
    if (doc) {
        char *text = cJSON_Print(doc);
        if (text == NULL) {
            tk_error_set(&err, TK_E_NOMEM, "explain: out of memory writing JSON");
            goto fail;
        }
        printf("%s\n", text);
        free(text);
    }
    rc = TK_EXIT_OK;
fail:
    if (rc != TK_EXIT_OK)
        fprintf(stderr, "tokattr explain: %s\n", err.msg[0] ? err.msg : "failed");
    cJSON_Delete(doc);
    free(list);
    free(ids);
    free(pos);
    free(score);
    tk_explainer_destroy(ex);
    tk_dataset_destroy(ds);
    tk_model_destroy(model);
    return rc;
}
