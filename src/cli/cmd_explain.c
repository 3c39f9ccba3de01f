/* `tokattr explain MODEL DATASET`: attributions of a few reviews printed
 * word by word, for looking at one method's output by eye. With --text,
 * --text-file or --text - (stdin) it explains raw text instead, tokenized
 * with --tokenizer or the job's tokenizer (--job): no dataset needed. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "attr/quadrature.h"
#include "cli/commands.h"
#include "cli/job.h"
#include "cli/method_params.h"
#include "core/gemm.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "data/selection.h"
#include "data/text_tokenizer.h"
#include "model/model.h"

typedef struct explain_opts {
    const char *model_path;
    const char *architecture; /* --architecture: NULL = the model file's own config */
    const char *dataset_path;
    const char *reviews; /* "0-9", "3,5,10-12" */
    const char *split;
    tk_method_params params;
    int maxlen; /* 0: the model's */
    int num_words; /* 0: the job's, the tokenizer's, else the Embedding's rows */
    bool json;
    /* raw text instead of dataset reviews */
    const char *text;      /* --text T ("-": stdin) */
    const char *text_file; /* --text-file F ("-": stdin) */
    const char *tokenizer; /* --tokenizer KIND[:FILE] */
    const char *job;       /* --job JOB: its tokenizer and input */
    const char *shared;    /* --shared DIR */
} explain_opts;

static void explain_usage(FILE *out)
{
    fprintf(out,
            "usage: tokattr explain MODEL DATASET [options]\n"
            "       tokattr explain MODEL --text T | --text-file F | --text - \n"
            "                       (--tokenizer KIND[:FILE] | --job JOB) [options]\n"
            "  MODEL    a Keras classifier with an Embedding layer: .h5 (Keras 2 or 3),\n"
            "           .keras (Keras 3), or weights-only .h5 with --architecture\n"
            "  DATASET  a dataset file made by `tokattr prepare`\n"
            "raw text (no dataset):\n"
            "  --text T       the text to explain; '-' reads it from standard input\n"
            "  --text-file F  the text is the content of file F ('-': standard input)\n"
            "  --tokenizer S  the tokenizer the model was trained with: %s\n"
            "  --job JOB      take the tokenizer and input (num_words, maxlen, padding,\n"
            "                 truncating) from a job file instead\n"
            "  --num-words N  vocabulary cut of the input [the job's, the tokenizer's, else\n"
            "                 the Embedding's rows]\n"
            "  --shared DIR   where the default vocabularies are [$TOKATTR_SHARED, ../shared]\n"
            "options (defaults in brackets):\n"
            "  --method M     saliency, grad_input, ig (integrated_gradients), occlusion,\n"
            "                 deeplift, deepshap, lrp_epsilon [ig]\n"
            "  --reviews R    reviews of the split: indices (0-9, 3,7,10-12) or ids\n"
            "                 (id:1234@label:pos, id:1234@label:1; README \"Selecting\n"
            "                 reviews\") [0]\n"
            "  --split S      a split of the dataset (train, test, dev, ...) [test]\n"
            "  --maxlen N     input length when the model does not fix one\n"
            "  --architecture J  the architecture JSON (model.to_json()) of a\n"
            "                 weights-only MODEL (model.save_weights)\n"
            "  --json         one JSON document instead of text\n",
            tk_tokenizer_spellings());
    fprintf(out, "method parameters (the job keys of README \"Running a job\"; a parameter\n"
                 "of another method than --method is refused; [the default]):\n");
    tk_method_params_help(out, "--", true);
    fprintf(out, "  short forms: --steps N = --n-steps N, --reduce R = --reduction R,\n"
                 "  --baseline ID = --baseline token --baseline-token ID,\n"
                 "  --target C = --target class --target-class C\n");
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

/* Returns TK_EXIT_OK, or TK_EXIT_USAGE after printing the problem. */
static int parse_args(int argc, char **argv, explain_opts *o)
{
    memset(o, 0, sizeof *o);
    o->reviews = "0";
    o->split = "test";
    tk_method_params_default(&o->params, TK_METHOD_INTEGRATED_GRADIENTS);
    const char *method = "integrated_gradients";
    const char *maxlen = NULL, *num_words = NULL;
    /* method parameters, applied once the method is known: (entry, value) */
    enum { MAX_PARAMS = 32 };
    const tk_method_param *pdef[MAX_PARAMS];
    const char *pval[MAX_PARAMS], *popt[MAX_PARAMS];
    int n_params = 0;
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
        } else if (strncmp(a, "--", 2) == 0 &&
                   (tk_method_param_find(a + 2) || strcmp(a, "--steps") == 0 ||
                    strcmp(a, "--reduce") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tokattr explain: %s needs a value\n", a);
                return TK_EXIT_USAGE;
            }
            if (n_params == MAX_PARAMS) {
                fprintf(stderr, "tokattr explain: too many method parameters\n");
                return TK_EXIT_USAGE;
            }
            const char *key = strcmp(a, "--steps") == 0    ? "n_steps"
                              : strcmp(a, "--reduce") == 0 ? "reduction"
                                                           : a + 2;
            popt[n_params] = a;
            pdef[n_params] = tk_method_param_find(key);
            pval[n_params++] = argv[++i];
            continue;
        } else if (strcmp(a, "--maxlen") == 0) {
            slot = &maxlen;
        } else if (strcmp(a, "--num-words") == 0) {
            slot = &num_words;
        } else if (strcmp(a, "--text") == 0) {
            slot = &o->text;
        } else if (strcmp(a, "--text-file") == 0) {
            slot = &o->text_file;
        } else if (strcmp(a, "--tokenizer") == 0) {
            slot = &o->tokenizer;
        } else if (strcmp(a, "--job") == 0) {
            slot = &o->job;
        } else if (strcmp(a, "--shared") == 0) {
            slot = &o->shared;
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
    bool raw = o->text || o->text_file;
    if (o->text && o->text_file) {
        fprintf(stderr, "tokattr explain: give --text or --text-file, not both\n");
        return TK_EXIT_USAGE;
    }
    if (raw && positional != 1) {
        fprintf(stderr, "tokattr explain: with --text or --text-file give MODEL only (no "
                        "DATASET: the text is tokenized here)\n");
        return TK_EXIT_USAGE;
    }
    if (raw && !o->tokenizer && !o->job) {
        fprintf(stderr, "tokattr explain: --text needs the tokenizer the model was trained "
                        "with: --tokenizer KIND[:FILE] (%s) or --job JOB\n",
                tk_tokenizer_spellings());
        return TK_EXIT_USAGE;
    }
    if (!raw && (o->tokenizer || o->job || num_words)) {
        fprintf(stderr, "tokattr explain: --tokenizer, --job and --num-words apply to --text "
                        "and --text-file (a dataset is already tokenized)\n");
        return TK_EXIT_USAGE;
    }
    if (!raw && positional != 2) {
        fprintf(stderr, "tokattr explain: MODEL and DATASET are required\n");
        explain_usage(stderr);
        return TK_EXIT_USAGE;
    }
    if (num_words && !parse_int(num_words, 1, INT_MAX, &o->num_words)) {
        fprintf(stderr, "tokattr explain: --num-words '%s' is not a positive number\n", num_words);
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
    if (maxlen && !parse_int(maxlen, 1, 1000000, &o->maxlen)) {
        fprintf(stderr, "tokattr explain: --maxlen '%s' is not a positive number\n", maxlen);
        return TK_EXIT_USAGE;
    }
    for (int k = 0; k < n_params; k++) {
        const tk_method_param *d = pdef[k];
        const char *v = pval[k];
        if (!tk_method_param_applies(d, kind)) {
            fprintf(stderr, "tokattr explain: %s is not a parameter of %s\n", popt[k],
                    tk_method_kind_name(kind));
            return TK_EXIT_USAGE;
        }
        int num;
        /* the short forms: a token id as the baseline, a class number as the target */
        if (strcmp(d->key, "baseline") == 0 && parse_int(v, 0, INT_MAX, &num)) {
            p->baseline = TK_BASELINE_TOKEN;
            p->baseline_token = num;
            continue;
        }
        if (strcmp(d->key, "baseline") == 0 && strcmp(v, "zero") == 0)
            v = "zeros";
        if (strcmp(d->key, "target") == 0 && parse_int(v, 0, 1000000, &num)) {
            p->target = TK_TARGET_CLASS;
            p->target_class = num;
            continue;
        }
        if (tk_method_param_set_text(d, p, v, &err) != TK_OK) {
            fprintf(stderr, "tokattr explain: %s: %s\n", popt[k], err.msg);
            return TK_EXIT_USAGE;
        }
    }
    if (strchr(o->split, '/') || o->split[0] == '\0') {
        fprintf(stderr, "tokattr explain: --split '%s' cannot name a split\n", o->split);
        return TK_EXIT_USAGE;
    }
    return TK_EXIT_OK;
}

/* The word at a model-input position: the dataset's stored word (v2: also
 * for OOV words), else the vocabulary's word of the id. */
static const char *input_word(const tk_dataset *ds, const tk_split *sp, int64_t r, int32_t id,
                              int32_t pos, char *buf, size_t size)
{
    size_t len;
    const char *w = pos >= 0 ? tk_split_word(sp, sp->offset[r] + pos, &len) : NULL;
    if (!w)
        return tk_dataset_word(ds, id);
    snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), w);
    return buf;
}

/* IG's integrand evaluations and, for rule adaptive, the error estimate
 * (README "Integrated Gradients"): per review in the JSON output. */
static void ig_steps_json(cJSON *obj, const tk_method_params *p, const tk_attribution *a)
{
    if (p->kind != TK_METHOD_INTEGRATED_GRADIENTS)
        return;
    cJSON_AddNumberToObject(obj, "steps", a->steps);
    if (p->rule == TK_IG_ADAPTIVE) {
        cJSON_AddNumberToObject(obj, "error_estimate", a->error_estimate);
        cJSON_AddBoolToObject(obj, "within_tolerance", a->error_estimate <= p->tolerance);
    }
}

static void ig_rule_json(cJSON *doc, const tk_method_params *p)
{
    if (p->kind != TK_METHOD_INTEGRATED_GRADIENTS || p->rule != TK_IG_ADAPTIVE)
        return;
    cJSON_AddNumberToObject(doc, "tolerance", p->tolerance);
    cJSON_AddNumberToObject(doc, "max_steps", p->max_steps);
}

static void ig_steps_text(const tk_method_params *p, const tk_attribution *a)
{
    if (p->kind == TK_METHOD_INTEGRATED_GRADIENTS && p->rule == TK_IG_ADAPTIVE)
        printf(", %d evaluations, error estimate %.3g%s", a->steps, a->error_estimate,
               a->error_estimate <= p->tolerance ? "" : " (over the tolerance: budget spent)");
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
    ig_steps_text(&o->params, a);
    printf("\n");
    double pad = 0.0, total = 0.0;
    for (int t = 0; t < steps; t++) {
        total += a->score[t];
        if (pos[t] == -2) {
            pad += a->score[t];
            continue;
        }
        char wb[1024];
        printf("  %4d  %-20s %+.6f%s\n", t, input_word(ds, split, index, ids[t], pos[t], wb, sizeof wb),
               a->score[t], pos[t] >= 0 && ids[t] == ds->convention.oov_id ? "  (oov)" : "");
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
    ig_steps_json(r, &o->params, a);
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
        char wb[1024];
        cJSON_AddStringToObject(tok, "word", input_word(ds, split, index, ids[t], pos[t], wb, sizeof wb));
        cJSON_AddBoolToObject(tok, "oov", pos[t] >= 0 && ids[t] == ds->convention.oov_id);
        cJSON_AddNumberToObject(tok, "score", a->score[t]);
        cJSON_AddItemToArray(toks, tok);
    }
    cJSON_AddNumberToObject(r, "padding_score", pad);
    return r;
}

/* What the scores explain: LRP starts from the logit whatever --output
 * says (METHODS.md), the others from the chosen output. */
static const char *output_name(const tk_method_params *p)
{
    return p->kind == TK_METHOD_LRP_EPSILON || p->output == TK_OUTPUT_LOGIT ? "logit" : "prob";
}

/* The whole of a file or stdin ("-") as one NUL-terminated string. */
static tk_status read_all(const char *path, char **out, size_t *len, tk_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return tk_error_set(err, TK_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    tk_status st = TK_OK;
    while (buf) {
        if (n + 4096 + 1 > cap) {
            char *b = cap < (256u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                st = tk_error_set(err, TK_E_NOMEM, "%s: too large or out of memory", path);
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (got < 4096)
            break;
    }
    if (!buf)
        st = tk_error_set(err, TK_E_NOMEM, "out of memory reading %s", path);
    else if (st == TK_OK && ferror(f))
        st = tk_error_set(err, TK_E_IO, "%s: read failed", path);
    if (f != stdin)
        fclose(f);
    if (st != TK_OK) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TK_OK;
}

/* One word of the text as JSON / text: the tokenizer's word, also for OOV
 * words; the start marker as "<start>". */
static void word_of(const tk_encoded *e, int32_t pos, const char **w, int *len)
{
    if (pos < 0) {
        *w = "<start>";
        *len = 7;
        return;
    }
    *w = e->buf + e->word_start[pos];
    *len = (int)e->word_len[pos];
}

/* explain --text: tokenizer from --tokenizer or the job, model input from
 * its convention, then one attribution. */
static int explain_text(const explain_opts *o, tk_model *model, tk_error *err)
{
    int rc = TK_EXIT_FAILURE;
    tk_job *job = NULL;
    tk_tokenizer *tok = NULL;
    tk_explainer *ex = NULL;
    char *text = NULL;
    size_t len = 0;
    int32_t *ids = NULL, *pos = NULL;
    float *score = NULL;
    tk_encoded e;
    tk_encoded_init(&e);
    tk_tokenizer_spec spec;
    const char *shared = o->shared;
    int num_words = o->num_words, maxlen = o->maxlen;
    bool padding_post = false, truncating_post = false, sides_given = false;
    if (o->job) {
        if (tk_job_load(o->job, o->shared, &job, err) != TK_OK)
            goto done;
        if (!job->has_tokenizer && !o->tokenizer) {
            tk_error_set(err, TK_E_INVALID,
                         "%s: the job has no 'tokenizer:' key; give --tokenizer KIND[:FILE]", o->job);
            goto done;
        }
        if (job->has_tokenizer)
            spec = job->tokenizer;
        if (!num_words)
            num_words = job->num_words;
        if (!maxlen)
            maxlen = job->maxlen;
        padding_post = job->padding_post;
        truncating_post = job->truncating_post;
        sides_given = job->padding_set || job->truncating_set;
    }
    if (o->tokenizer && tk_tokenizer_spec_parse(o->tokenizer, &spec, err) != TK_OK) {
        tk_error_prefix(err, "--tokenizer");
        goto done;
    }
    if (tk_tokenizer_create(&spec, shared, &tok, err) != TK_OK)
        goto done;
    const char *src = o->text_file ? o->text_file : o->text;
    if (o->text_file || strcmp(o->text, "-") == 0) {
        if (read_all(o->text_file ? o->text_file : "-", &text, &len, err) != TK_OK)
            goto done;
    } else {
        len = strlen(o->text);
        text = malloc(len + 1);
        if (!text) {
            tk_error_set(err, TK_E_NOMEM, "out of memory");
            goto done;
        }
        memcpy(text, o->text, len + 1);
        src = "--text";
    }
    if (tk_tokenizer_encode(tok, text, len, &e, err) != TK_OK)
        goto done;
    if (e.n == 0) {
        tk_error_set(err, TK_E_INVALID, "%s: the text has no words under %s", src,
                     tk_tokenizer_kind_name(tk_tokenizer_kind_of(tok)));
        goto done;
    }
    if (!num_words)
        num_words = tk_tokenizer_num_words(tok);
    if (!num_words || num_words > model->vocab_size)
        num_words = model->vocab_size;
    if (maxlen <= 0)
        maxlen = model->maxlen > 0 ? model->maxlen : tk_tokenizer_sequence_length(tok);
    if (maxlen <= 0) {
        tk_error_set(err, TK_E_INVALID, "%s accepts any input length: give --maxlen",
                     o->model_path);
        goto done;
    }
    tk_id_convention conv = tk_tokenizer_convention(tok);
    tk_input_spec is;
    tk_input_spec_from_convention(&is, &conv, num_words, maxlen);
    if (sides_given && job->padding_set)
        is.padding_post = padding_post;
    if (sides_given && job->truncating_set)
        is.truncating_post = truncating_post;
    ids = tk_malloc((size_t)maxlen, sizeof *ids, err);
    pos = tk_malloc((size_t)maxlen, sizeof *pos, err);
    score = tk_malloc((size_t)maxlen, sizeof *score, err);
    int32_t *word_ids = tk_malloc(e.n, sizeof *word_ids, err);
    if (!ids || !pos || !score || !word_ids) {
        free(word_ids);
        goto done;
    }
    memcpy(word_ids, e.ids, e.n * sizeof *word_ids);
    int64_t cut = 0;
    tk_prepare_input_ex(&is, word_ids, (int64_t)e.n, ids, pos, &cut);
    free(word_ids);
    if (tk_explainer_create(model, &o->params, NULL, maxlen, &ex, err) != TK_OK)
        goto done;
    tk_review rv = {.ids = ids, .vectors = NULL, .steps = maxlen, .label = -1};
    tk_attribution a = {.score = score, .full = NULL};
    if (tk_explain(ex, &rv, &a, err) != TK_OK)
        goto done;
    bool has_baseline = o->params.kind == TK_METHOD_INTEGRATED_GRADIENTS ||
                        o->params.kind == TK_METHOD_DEEPLIFT || o->params.kind == TK_METHOD_DEEPSHAP;
    double pad = 0.0;
    if (o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "model", o->model_path);
        cJSON_AddStringToObject(doc, "tokenizer", tk_tokenizer_kind_name(tk_tokenizer_kind_of(tok)));
        cJSON_AddStringToObject(doc, "method", tk_method_kind_name(o->params.kind));
        if (o->params.kind == TK_METHOD_INTEGRATED_GRADIENTS) {
            cJSON_AddNumberToObject(doc, "n_steps", o->params.n_steps);
            cJSON_AddStringToObject(doc, "rule", tk_ig_rule_name(o->params.rule));
            ig_rule_json(doc, &o->params);
        }
        cJSON_AddStringToObject(doc, "output", output_name(&o->params));
        cJSON_AddNumberToObject(doc, "target", a.target);
        cJSON_AddNumberToObject(doc, "predicted", a.predicted);
        cJSON_AddNumberToObject(doc, "f_input", a.f_input);
        cJSON_AddNumberToObject(doc, "f_baseline", a.f_baseline);
        cJSON_AddNumberToObject(doc, "delta", a.axiom_error);
        ig_steps_json(doc, &o->params, &a);
        cJSON_AddNumberToObject(doc, "words", (double)e.n);
        cJSON_AddNumberToObject(doc, "truncated", (double)cut);
        cJSON *toks = cJSON_AddArrayToObject(doc, "tokens");
        for (int t = 0; t < maxlen; t++) {
            if (pos[t] == -2) {
                pad += a.score[t];
                continue;
            }
            const char *w;
            int wl;
            word_of(&e, pos[t], &w, &wl);
            char *ws = malloc((size_t)wl + 1);
            if (!ws)
                continue;
            memcpy(ws, w, (size_t)wl);
            ws[wl] = '\0';
            cJSON *tj = cJSON_CreateObject();
            cJSON_AddNumberToObject(tj, "position", t);
            cJSON_AddNumberToObject(tj, "word_index", pos[t]);
            cJSON_AddNumberToObject(tj, "id", ids[t]);
            cJSON_AddStringToObject(tj, "word", ws);
            cJSON_AddBoolToObject(tj, "oov", pos[t] >= 0 && ids[t] == is.oov_id);
            cJSON_AddNumberToObject(tj, "score", a.score[t]);
            cJSON_AddItemToArray(toks, tj);
            free(ws);
        }
        cJSON_AddNumberToObject(doc, "padding_score", pad);
        char *js = cJSON_Print(doc);
        cJSON_Delete(doc);
        if (!js) {
            tk_error_set(err, TK_E_NOMEM, "explain: out of memory writing JSON");
            goto done;
        }
        printf("%s\n", js);
        free(js);
    } else {
        printf("text (%s, %zu words, %lld cut by truncation): %s, target %d, predicted %d, "
               "F(x) = %.6f (%s)",
               tk_tokenizer_kind_name(tk_tokenizer_kind_of(tok)), e.n, (long long)cut,
               o->params.name, a.target, a.predicted, a.f_input, output_name(&o->params));
        if (has_baseline)
            printf(", F(x') = %.6f, delta = %.3e", a.f_baseline, a.axiom_error);
        ig_steps_text(&o->params, &a);
        printf("\n");
        for (int t = 0; t < maxlen; t++) {
            if (pos[t] == -2) {
                pad += a.score[t];
                continue;
            }
            const char *w;
            int wl;
            word_of(&e, pos[t], &w, &wl);
            printf("  %4d  %-20.*s %+.6f%s\n", t, wl, w, a.score[t],
                   pos[t] >= 0 && ids[t] == is.oov_id ? "  (oov)" : "");
        }
        printf("  padding total %+.6f\n", pad);
    }
    rc = TK_EXIT_OK;
done:
    tk_encoded_free(&e);
    free(text);
    free(ids);
    free(pos);
    free(score);
    tk_explainer_destroy(ex);
    tk_tokenizer_destroy(tok);
    tk_job_destroy(job);
    return rc;
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
    if (o.text || o.text_file) {
        rc = explain_text(&o, model, &err); /* the cleanup below is shared */
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
    int64_t n_list = 0;
    const tk_selection_table table = {.n = split->n,
                                      .id = (const char *const *)split->doc_id,
                                      .label = split->label,
                                      .class_names = (const char *const *)ds->class_names,
                                      .n_classes = ds->n_classes,
                                      .split = split->name};
    if (tk_selection_select(o.reviews, "--reviews", &table, &list, &n_list, &err) != TK_OK) {
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
    tk_input_spec_from_convention(&spec, &ds->convention, model->vocab_size, maxlen);
    if (o.json) {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "model", o.model_path);
        cJSON_AddStringToObject(doc, "split", o.split);
        cJSON_AddStringToObject(doc, "method", tk_method_kind_name(o.params.kind));
        if (o.params.kind == TK_METHOD_INTEGRATED_GRADIENTS) {
            cJSON_AddNumberToObject(doc, "n_steps", o.params.n_steps);
            cJSON_AddStringToObject(doc, "rule", tk_ig_rule_name(o.params.rule));
            ig_rule_json(doc, &o.params);
        }
        cJSON_AddStringToObject(doc, "output", output_name(&o.params));
        cJSON_AddArrayToObject(doc, "reviews");
    }
    for (int64_t i = 0; i < n_list; i++) {
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
