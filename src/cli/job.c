/* Job files: libcyaml reads the YAML into a "raw" struct in which every
 * optional key is a pointer (NULL = absent); tk_job_defaults and
 * resolve_job then turn it into a tk_job. libcyaml's own log (which carries
 * the line and column of a fault) is captured and put into the message. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup */
#endif
#include "cli/job.h"

#include <cyaml/cyaml.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/method_params.h"
#include "core/paths.h"
#include "data/selection.h"

/* ---- the raw YAML shape -------------------------------------------------- */

typedef struct raw_select {
    bool *all;
    int64_t *first;
    int64_t *count;
    int64_t *ids; /* (ids_count) */
    unsigned ids_count;
    int *label;
    char *reviews; /* a selection spec (data/selection.h) */
} raw_select;

typedef struct raw_input {
    int *num_words;
    int *maxlen;
    char *padding;
    char *truncating;
} raw_input;

typedef struct raw_method {
    char *name;
    char *method;
    char *target;
    int *target_class;
    char *output;
    char *reduction;
    int *n_steps;
    char *rule;
    char *baseline;
    int *baseline_token;
    int *window;
    int *background_size;
    bool *background_random;
    uint64_t *seed;
    double *eps;
    double *bias_factor;
    double *tolerance;
    int *max_steps;
} raw_method;

typedef struct raw_faith {
    int *k;
    char *replace;
    uint64_t *seed;
} raw_faith;

typedef struct raw_job {
    char *model;
    char *architecture; /* model.to_json() of a weights-only model file */
    char *dataset;
    char *split;
    raw_select *select;
    raw_input *input;
    char *word_vectors;
    bool *ids_as_feature;
    char *word_index;
    char *tokenizer;
    char *target;
    int *target_class;
    char *output;
    char *reduction;
    raw_method *methods; /* (methods_count) */
    unsigned methods_count;
    char *results;
    int *chunk_size;
    int *checkpoint_every;
    double *checkpoint_seconds;
    char *writer;
    raw_faith *faithfulness;
} raw_job;

#define OPT (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)

static const cyaml_schema_value_t int64_entry = {CYAML_VALUE_INT(CYAML_FLAG_DEFAULT, int64_t)};

static const cyaml_schema_field_t select_fields[] = {
    CYAML_FIELD_BOOL_PTR("all", OPT, raw_select, all),
    CYAML_FIELD_INT_PTR("first", OPT, raw_select, first),
    CYAML_FIELD_INT_PTR("count", OPT, raw_select, count),
    CYAML_FIELD_SEQUENCE("ids", OPT, raw_select, ids, &int64_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_INT_PTR("label", OPT, raw_select, label),
    CYAML_FIELD_STRING_PTR("reviews", OPT, raw_select, reviews, 1, 1 << 20),
    CYAML_FIELD_END};

static const cyaml_schema_field_t input_fields[] = {
    CYAML_FIELD_INT_PTR("num_words", OPT, raw_input, num_words),
    CYAML_FIELD_INT_PTR("maxlen", OPT, raw_input, maxlen),
    CYAML_FIELD_STRING_PTR("padding", OPT, raw_input, padding, 1, 16),
    CYAML_FIELD_STRING_PTR("truncating", OPT, raw_input, truncating, 1, 16),
    CYAML_FIELD_END};

static const cyaml_schema_field_t method_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, raw_method, name, 1, 63),
    CYAML_FIELD_STRING_PTR("method", CYAML_FLAG_POINTER, raw_method, method, 1, 32),
    CYAML_FIELD_STRING_PTR("target", OPT, raw_method, target, 1, 32),
    CYAML_FIELD_INT_PTR("target_class", OPT, raw_method, target_class),
    CYAML_FIELD_STRING_PTR("output", OPT, raw_method, output, 1, 32),
    CYAML_FIELD_STRING_PTR("reduction", OPT, raw_method, reduction, 1, 32),
    CYAML_FIELD_INT_PTR("n_steps", OPT, raw_method, n_steps),
    CYAML_FIELD_STRING_PTR("rule", OPT, raw_method, rule, 1, 32),
    CYAML_FIELD_STRING_PTR("baseline", OPT, raw_method, baseline, 1, 32),
    CYAML_FIELD_INT_PTR("baseline_token", OPT, raw_method, baseline_token),
    CYAML_FIELD_INT_PTR("window", OPT, raw_method, window),
    CYAML_FIELD_INT_PTR("background_size", OPT, raw_method, background_size),
    CYAML_FIELD_BOOL_PTR("background_random", OPT, raw_method, background_random),
    CYAML_FIELD_UINT_PTR("seed", OPT, raw_method, seed),
    CYAML_FIELD_FLOAT_PTR("eps", OPT, raw_method, eps),
    CYAML_FIELD_FLOAT_PTR("bias_factor", OPT, raw_method, bias_factor),
    CYAML_FIELD_FLOAT_PTR("tolerance", OPT, raw_method, tolerance),
    CYAML_FIELD_INT_PTR("max_steps", OPT, raw_method, max_steps),
    CYAML_FIELD_END};

static const cyaml_schema_field_t faith_fields[] = {
    CYAML_FIELD_INT_PTR("k", OPT, raw_faith, k),
    CYAML_FIELD_STRING_PTR("replace", OPT, raw_faith, replace, 1, 16),
    CYAML_FIELD_UINT_PTR("seed", OPT, raw_faith, seed),
    CYAML_FIELD_END};

static const cyaml_schema_value_t method_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_method, method_fields)};

static const cyaml_schema_field_t job_fields[] = {
    CYAML_FIELD_STRING_PTR("model", CYAML_FLAG_POINTER, raw_job, model, 1, 4095),
    CYAML_FIELD_STRING_PTR("architecture", OPT, raw_job, architecture, 1, 4095),
    CYAML_FIELD_STRING_PTR("dataset", CYAML_FLAG_POINTER, raw_job, dataset, 1, 4095),
    CYAML_FIELD_STRING_PTR("split", OPT, raw_job, split, 1, 63),
    CYAML_FIELD_MAPPING_PTR("select", OPT, raw_job, select, select_fields),
    CYAML_FIELD_MAPPING_PTR("input", OPT, raw_job, input, input_fields),
    CYAML_FIELD_STRING_PTR("word_vectors", OPT, raw_job, word_vectors, 1, 4095),
    CYAML_FIELD_BOOL_PTR("ids_as_feature", OPT, raw_job, ids_as_feature),
    CYAML_FIELD_STRING_PTR("word_index", OPT, raw_job, word_index, 1, 4095),
    CYAML_FIELD_STRING_PTR("tokenizer", OPT, raw_job, tokenizer, 1, 4095),
    CYAML_FIELD_STRING_PTR("target", OPT, raw_job, target, 1, 32),
    CYAML_FIELD_INT_PTR("target_class", OPT, raw_job, target_class),
    CYAML_FIELD_STRING_PTR("output", OPT, raw_job, output, 1, 32),
    CYAML_FIELD_STRING_PTR("reduction", OPT, raw_job, reduction, 1, 32),
    CYAML_FIELD_SEQUENCE("methods", CYAML_FLAG_POINTER, raw_job, methods, &method_entry, 1, 64),
    CYAML_FIELD_STRING_PTR("results", CYAML_FLAG_POINTER, raw_job, results, 1, 4095),
    CYAML_FIELD_INT_PTR("chunk_size", OPT, raw_job, chunk_size),
    CYAML_FIELD_INT_PTR("checkpoint_every", OPT, raw_job, checkpoint_every),
    CYAML_FIELD_FLOAT_PTR("checkpoint_seconds", OPT, raw_job, checkpoint_seconds),
    CYAML_FIELD_STRING_PTR("writer", OPT, raw_job, writer, 1, 16),
    CYAML_FIELD_MAPPING_PTR("faithfulness", OPT, raw_job, faithfulness, faith_fields),
    CYAML_FIELD_END};

static const cyaml_schema_value_t job_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, raw_job, job_fields)};

/* i-th key of a CYAML_FIELD_END-terminated field list, NULL past its end. */
static const char *field_key(const cyaml_schema_field_t *fields, int i)
{
    for (int k = 0; fields[k].key != NULL; k++)
        if (k == i)
            return fields[k].key;
    return NULL;
}

const char *tk_job_schema_key(int i)
{
    return field_key(job_fields, i);
}

const char *tk_job_schema_method_key(int i)
{
    return field_key(method_fields, i);
}

/* Whether a top-level key changes what a run computes. A resumed run may
 * take an edited job (`--resume --allow-job-edit`, job_edit.h) only when
 * every changed key is false here. Every key of job_fields has a row
 * (tests/test_job_edit.c checks both ways); every key inside `methods`
 * is a method's parameter (method_params.h) or its name, so all of them
 * change what is computed. */
static const tk_job_key JOB_KEYS[] = {
    {"model", false, "checked by content: the model's SHA-256 must be the file's"},
    {"architecture", true, "the layers the weights are read into"},
    {"dataset", false, "checked by content: the dataset's SHA-256 must be the file's"},
    {"split", true, "which reviews"},
    {"select", true, "which reviews"},
    {"input", true, "the model input"},
    {"word_vectors", true, "the model input"},
    {"ids_as_feature", true, "the model input"},
    {"word_index", true, "the model input"},
    {"tokenizer", true, "the model input"},
    {"target", true, "a method parameter"},
    {"target_class", true, "a method parameter"},
    {"output", true, "a method parameter"},
    {"reduction", true, "a method parameter"},
    {"methods", true, "the methods and their parameters"},
    {"results", false, "where the file is, not what is in it"},
    {"chunk_size", true, "the prediction batches, whose bits depend on their size"},
    {"checkpoint_every", false, "when the file is flushed"},
    {"checkpoint_seconds", false, "when the file is flushed"},
    {"writer", false, "which ranks write the results, not what they write"},
    {"faithfulness", true, "the deletion curves"},
    {NULL, false, NULL}};

const tk_job_key *tk_job_keys(void)
{
    return JOB_KEYS;
}

const tk_job_key *tk_job_key_find(const char *key)
{
    for (const tk_job_key *k = JOB_KEYS; k->key; k++)
        if (strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

/* ---- libcyaml's log, kept for the error message ------------------------- */

typedef struct log_buf {
    char text[768];
} log_buf;

/* libcyaml reports a fault as several lines ("Unexpected key: x", then a
 * backtrace "in mapping field 'y' (line: 3, column: 5)"); we keep them
 * joined with "; " so the user sees key and line in one sentence. */
static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    log_buf *lb = ctx;
    if (level < CYAML_LOG_ERROR)
        return;
    char line[256];
    vsnprintf(line, sizeof line, fmt, args);
    /* trim the trailing newline and the "Load: " prefix libcyaml adds */
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    const char *s = line;
    if (strncmp(s, "Load: ", 6) == 0)
        s += 6;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0' || strcmp(s, "Backtrace:") == 0)
        return;
    /* libyaml counts lines and columns from 0; editors count from 1. */
    char fixed[256];
    size_t line_no, col_no;
    const char *mark = strstr(s, "(line: ");
    if (mark && sscanf(mark, "(line: %zu, column: %zu)", &line_no, &col_no) == 2) {
        snprintf(fixed, sizeof fixed, "%.*s(line %zu, column %zu)", (int)(mark - s), s,
                 line_no + 1, col_no + 1);
        s = fixed;
    }
    size_t used = strlen(lb->text);
    if (used + 3 >= sizeof lb->text)
        return;
    snprintf(lb->text + used, sizeof lb->text - used, "%s%s", used ? "; " : "", s);
}

/* ---- defaults and resolution -------------------------------------------- */

/* The one place where a job's defaults live (README "Running a job"). */
static void tk_job_defaults(tk_job *job)
{
    memset(job, 0, sizeof *job);
    snprintf(job->split, sizeof job->split, "test");
    job->select = TK_SELECT_ALL;
    job->label = -1;
    job->num_words = 0; /* from the model's Embedding */
    job->maxlen = 0;    /* from the model's input length */
    job->padding_post = false;
    job->truncating_post = false;
    job->chunk_size = 16;
    job->checkpoint_every = 1;
    /* Each flush recompresses the HDF5 chunks it touches (~10-30 ms); at
     * most one every 2 s keeps that near 1% of the run while a kill loses
     * at most ~2 s of work. */
    job->checkpoint_seconds = 2.0;
    /* each computing rank writes its own units: rank 0 carries no result
     * (README "Results file"); `writer: root` where the results path is
     * not one file for every node */
    job->writer = TK_WRITER_RANKS;
    /* faithfulness: off unless the key is present; then k 10, replace pad,
     * seed 1 (ERASER's q = 1, 5, 10, 20, 50 %) */
    job->faith_enabled = false;
    tk_faith_params_default(&job->faith);
}

typedef struct name_value {
    const char *name;
    int value;
} name_value;

static const name_value SIDES[] = {{"pre", 0}, {"post", 1}, {NULL, 0}};
static const name_value WRITERS[] = {
    {"ranks", TK_WRITER_RANKS}, {"root", TK_WRITER_ROOT}, {NULL, 0}};
static const name_value REPLACES[] = {{"pad", TK_FAITH_PAD}, {"remove", TK_FAITH_REMOVE}, {NULL, 0}};

static tk_status pick(const char *file, const char *where, const char *key, const char *value,
                      const name_value *table, int *out, tk_error *err)
{
    for (int i = 0; table[i].name; i++)
        if (strcmp(table[i].name, value) == 0) {
            *out = table[i].value;
            return TK_OK;
        }
    char allowed[256] = "";
    for (int i = 0; table[i].name; i++) {
        size_t used = strlen(allowed);
        snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "", table[i].name);
    }
    return tk_error_set(err, TK_E_INVALID, "%s: %skey '%s': unknown value '%s' (expected one of %s)",
                        file, where, key, value, allowed);
}

/* "shared:x" -> shared dir; absolute stays; otherwise relative to base_dir. */
static tk_status resolve_path(const char *file, const char *key, const char *value,
                              const char *base_dir, const char *shared_dir, char **out,
                              tk_error *err)
{
    char buf[4096 + 512];
    if (strncmp(value, "shared:", 7) == 0) {
        if (!tk_shared_path(buf, sizeof buf, shared_dir, value + 7))
            return tk_error_set(err, TK_E_INVALID, "%s: key '%s': path too long", file, key);
    } else if (value[0] == '/' || base_dir == NULL || base_dir[0] == '\0') {
        snprintf(buf, sizeof buf, "%s", value);
    } else {
        snprintf(buf, sizeof buf, "%s/%s", base_dir, value);
    }
    *out = strdup(buf);
    if (*out == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", file);
    return TK_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Job-wide target/output/reduction are the defaults of every method; a
 * method's own keys win. */
static tk_status resolve_method(const char *file, const raw_job *raw, const raw_method *rm,
                                int index, tk_method_params *p, tk_error *err)
{
    char where[96];
    snprintf(where, sizeof where, "methods[%d] ('%s'): ", index, rm->name);
    tk_method_kind kind;
    tk_error sub = {0};
    if (tk_method_kind_parse(rm->method, &kind, &sub) != TK_OK)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: %skey 'method': unknown method '%s' (expected saliency, grad_input, "
                            "integrated_gradients, occlusion, deeplift, deepshap or lrp_epsilon)",
                            file, where, rm->method);
    tk_method_params_default(p, kind);
    snprintf(p->name, sizeof p->name, "%s", rm->name);
    for (const char *c = rm->name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.'))
            return tk_error_set(err, TK_E_INVALID,
                                "%s: %skey 'name': use letters, digits, '_', '-' or '.' (it names "
                                "an HDF5 group)",
                                file, where);

    /* every key through the one parameter table (cli/method_params.h):
     * the job-wide target/output/reduction are defaults a method's own win */
    const char *target = rm->target ? rm->target : raw->target;
    const int *target_class = rm->target_class ? rm->target_class : raw->target_class;
    const char *output = rm->output ? rm->output : raw->output;
    const char *reduction = rm->reduction ? rm->reduction : raw->reduction;
    tk_status st;
    sub = (tk_error){0};
#define PARAM(call)                                                                            \
    do {                                                                                       \
        if ((st = (call)) != TK_OK)                                                            \
            return tk_error_set(err, st, "%s: %s%s", file, where, sub.msg);                   \
    } while (0)
#define KEY(k) tk_method_param_find(k)
    if (target)
        PARAM(tk_method_param_set_text(KEY("target"), p, target, &sub));
    if (target_class)
        PARAM(tk_method_param_set_int(KEY("target_class"), p, *target_class, &sub));
    if (p->target == TK_TARGET_CLASS && !target_class)
        return tk_error_set(err, TK_E_INVALID, "%s: %starget 'class' needs key 'target_class'",
                            file, where);
    if (output)
        PARAM(tk_method_param_set_text(KEY("output"), p, output, &sub));
    if (reduction)
        PARAM(tk_method_param_set_text(KEY("reduction"), p, reduction, &sub));
    if (rm->rule)
        PARAM(tk_method_param_set_text(KEY("rule"), p, rm->rule, &sub));
    if (rm->baseline)
        PARAM(tk_method_param_set_text(KEY("baseline"), p, rm->baseline, &sub));
    if (rm->baseline_token)
        PARAM(tk_method_param_set_int(KEY("baseline_token"), p, *rm->baseline_token, &sub));
    if (p->baseline == TK_BASELINE_TOKEN && !rm->baseline_token)
        return tk_error_set(err, TK_E_INVALID, "%s: %sbaseline 'token' needs key 'baseline_token'",
                            file, where);
    if (rm->n_steps)
        PARAM(tk_method_param_set_int(KEY("n_steps"), p, *rm->n_steps, &sub));
    if (rm->window)
        PARAM(tk_method_param_set_int(KEY("window"), p, *rm->window, &sub));
    if (rm->background_size)
        PARAM(tk_method_param_set_int(KEY("background_size"), p, *rm->background_size, &sub));
    if (rm->background_random)
        PARAM(tk_method_param_set_bool(KEY("background_random"), p, *rm->background_random, &sub));
    if (rm->seed)
        PARAM(tk_method_param_set_u64(KEY("seed"), p, *rm->seed, &sub));
    if (rm->eps)
        PARAM(tk_method_param_set_double(KEY("eps"), p, *rm->eps, &sub));
    if (rm->bias_factor)
        PARAM(tk_method_param_set_double(KEY("bias_factor"), p, *rm->bias_factor, &sub));
    if (rm->tolerance)
        PARAM(tk_method_param_set_double(KEY("tolerance"), p, *rm->tolerance, &sub));
    if (rm->max_steps)
        PARAM(tk_method_param_set_int(KEY("max_steps"), p, *rm->max_steps, &sub));
#undef KEY
#undef PARAM
    return TK_OK;
}

/* Line (1-based) of the first "key:" in the YAML text, or 0: for messages
 * about a value libcyaml has already parsed without its position. */
static int key_line(const char *text, const char *key)
{
    size_t klen = strlen(key);
    int line = 1;
    for (const char *p = text; p && *p; p++) {
        if (*p == '\n')
            line++;
        else if (strncmp(p, key, klen) == 0 && p[klen] == ':' &&
                 (p == text || strchr(" \t{,\n", p[-1]) != NULL))
            return line;
    }
    return 0;
}

static tk_status resolve_job(const char *file, const raw_job *raw, const char *base_dir,
                             const char *shared_dir, tk_job *job, tk_error *err)
{
    tk_status st;
    if ((st = resolve_path(file, "model", raw->model, base_dir, shared_dir, &job->model_path,
                           err)) != TK_OK ||
        (st = resolve_path(file, "dataset", raw->dataset, base_dir, shared_dir,
                           &job->dataset_path, err)) != TK_OK ||
        (st = resolve_path(file, "results", raw->results, base_dir, shared_dir,
                           &job->output_path, err)) != TK_OK)
        return st;
    if (raw->architecture &&
        (st = resolve_path(file, "architecture", raw->architecture, base_dir, shared_dir,
                           &job->architecture_path, err)) != TK_OK)
        return st;
    if (raw->word_vectors &&
        (st = resolve_path(file, "word_vectors", raw->word_vectors, base_dir, shared_dir,
                           &job->word_vectors, err)) != TK_OK)
        return st;
    job->ids_as_feature = raw->ids_as_feature && *raw->ids_as_feature;
    if (job->word_vectors && job->ids_as_feature)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: keys 'word_vectors' and 'ids_as_feature' exclude each other: say "
                            "which input the embedding-less model reads",
                            file);
    if (raw->word_index &&
        (st = resolve_path(file, "word_index", raw->word_index, base_dir, shared_dir,
                           &job->word_index, err)) != TK_OK)
        return st;
    if (raw->tokenizer && strcmp(raw->tokenizer, "dataset") == 0) {
        job->tokenizer_dataset = true;
    } else if (raw->tokenizer) {
        tk_error sub = {0};
        if (tk_tokenizer_spec_parse(raw->tokenizer, &job->tokenizer, &sub) != TK_OK)
            return tk_error_set(err, TK_E_INVALID, "%s: key 'tokenizer': %s (or 'dataset': the "
                                "model was trained on the dataset's own ids)", file, sub.msg);
        job->has_tokenizer = true;
        if (job->tokenizer.file[0]) {
            char *resolved = NULL;
            if ((st = resolve_path(file, "tokenizer", job->tokenizer.file, base_dir, shared_dir,
                                   &resolved, err)) != TK_OK)
                return st;
            bool fits = strlen(resolved) < sizeof job->tokenizer.file;
            if (fits)
                memcpy(job->tokenizer.file, resolved, strlen(resolved) + 1);
            free(resolved);
            if (!fits)
                return tk_error_set(err, TK_E_INVALID, "%s: key 'tokenizer': path too long", file);
        }
    }
    if (shared_dir && !(job->shared_dir = strdup(shared_dir)))
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", file);
    if (raw->split) {
        /* any split of the dataset (train, test, dev, ...: the dataset
         * says which it has); here only whether it can be a split's name */
        for (const char *c = raw->split; *c; c++)
            if (*c == '/' || *c == '.' || (unsigned char)*c < 0x20)
                return tk_error_set(err, TK_E_INVALID,
                                    "%s: key 'split': '%s' cannot name a split (no '/', '.' or "
                                    "control characters)",
                                    file, raw->split);
        snprintf(job->split, sizeof job->split, "%s", raw->split);
    }

    const raw_select *s = raw->select;
    if (s) {
        int kinds = (s->all && *s->all) + (s->first || s->count) + (s->ids != NULL) +
                    (s->label != NULL) + (s->reviews != NULL);
        if (kinds > 1)
            return tk_error_set(err, TK_E_INVALID,
                                "%s: key 'select': give only one of all, first/count, ids, label, "
                                "reviews",
                                file);
        if (s->reviews) {
            /* the syntax now, the ids when rank 0 has read the dataset */
            tk_selection *sel = NULL;
            tk_error sub = {0};
            if (tk_selection_parse(s->reviews, "select.reviews", &sel, &sub) != TK_OK)
                return tk_error_set(err, sub.status, "%s: key %s", file, sub.msg);
            tk_selection_destroy(sel);
            if (!(job->select_spec = strdup(s->reviews)))
                return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", file);
            job->select = TK_SELECT_REVIEWS;
        } else if (s->first || s->count) {
            job->select = TK_SELECT_RANGE;
            job->first = s->first ? *s->first : 0;
            job->count = s->count ? *s->count : -1; /* -1: to the end */
            if (job->first < 0 || (s->count && job->count < 1))
                return tk_error_set(err, TK_E_INVALID,
                                    "%s: key 'select': first must be >= 0 and count >= 1", file);
        } else if (s->ids) {
            job->select = TK_SELECT_IDS;
            job->indices = tk_malloc(s->ids_count, sizeof *job->indices, err);
            if (!job->indices)
                return TK_E_NOMEM;
            memcpy(job->indices, s->ids, s->ids_count * sizeof *job->indices);
            qsort(job->indices, s->ids_count, sizeof *job->indices, cmp_i64);
            int64_t n = 0;
            for (unsigned i = 0; i < s->ids_count; i++) {
                if (job->indices[i] < 0)
                    return tk_error_set(err, TK_E_INVALID,
                                        "%s: key 'select.ids': %lld is negative", file,
                                        (long long)job->indices[i]);
                /* A review listed twice is a typo, not a wish for fewer rows. */
                if (n > 0 && job->indices[n - 1] == job->indices[i]) {
                    int line = key_line(job->yaml_text, "ids");
                    char at[32] = "";
                    if (line > 0)
                        snprintf(at, sizeof at, ":%d", line);
                    return tk_error_set(err, TK_E_INVALID,
                                        "%s%s: key 'select.ids': review %lld is listed more than "
                                        "once (each review can be selected once)",
                                        file, at, (long long)job->indices[i]);
                }
                job->indices[n++] = job->indices[i];
            }
            job->n_indices = n;
        } else if (s->label) {
            if (*s->label != 0 && *s->label != 1)
                return tk_error_set(err, TK_E_INVALID, "%s: key 'select.label': must be 0 or 1",
                                    file);
            job->select = TK_SELECT_LABEL;
            job->label = *s->label;
        }
    }

    const raw_input *in = raw->input;
    if (in) {
        int side;
        if (in->num_words) {
            if (*in->num_words < 4)
                return tk_error_set(err, TK_E_INVALID, "%s: key 'input.num_words': must be >= 4",
                                    file);
            job->num_words = *in->num_words;
        }
        if (in->maxlen) {
            if (*in->maxlen < 1)
                return tk_error_set(err, TK_E_INVALID, "%s: key 'input.maxlen': must be >= 1", file);
            job->maxlen = *in->maxlen;
        }
        if (in->padding) {
            if ((st = pick(file, "input: ", "padding", in->padding, SIDES, &side, err)) != TK_OK)
                return st;
            job->padding_post = side;
            job->padding_set = true;
        }
        if (in->truncating) {
            if ((st = pick(file, "input: ", "truncating", in->truncating, SIDES, &side, err)) !=
                TK_OK)
                return st;
            job->truncating_post = side;
            job->truncating_set = true;
        }
    }

    if (raw->chunk_size) {
        if (*raw->chunk_size < 1 || *raw->chunk_size > 100000)
            return tk_error_set(err, TK_E_INVALID, "%s: key 'chunk_size': must be in [1, 100000]",
                                file);
        job->chunk_size = *raw->chunk_size;
    }
    if (raw->checkpoint_every) {
        if (*raw->checkpoint_every < 1)
            return tk_error_set(err, TK_E_INVALID, "%s: key 'checkpoint_every': must be >= 1",
                                file);
        job->checkpoint_every = *raw->checkpoint_every;
    }
    if (raw->checkpoint_seconds) {
        if (!(*raw->checkpoint_seconds >= 0 && *raw->checkpoint_seconds <= 86400))
            return tk_error_set(err, TK_E_INVALID,
                                "%s: key 'checkpoint_seconds': must be in [0, 86400]", file);
        job->checkpoint_seconds = *raw->checkpoint_seconds;
    }
    if (raw->writer) {
        int v = 0;
        if ((st = pick(file, "", "writer", raw->writer, WRITERS, &v, err)) != TK_OK)
            return st;
        job->writer = (tk_results_writer)v;
    }

    const raw_faith *fa = raw->faithfulness;
    if (fa) {
        job->faith_enabled = true;
        int v;
        if (fa->k) {
            if (*fa->k < 1 || *fa->k > 1000)
                return tk_error_set(err, TK_E_INVALID, "%s: key 'faithfulness.k': must be in [1, 1000]",
                                    file);
            job->faith.k_max = *fa->k;
        }
        if (fa->replace) {
            if ((st = pick(file, "faithfulness: ", "replace", fa->replace, REPLACES, &v, err)) !=
                TK_OK)
                return st;
            job->faith.mode = (tk_faith_mode)v;
        }
        if (fa->seed)
            job->faith.seed = *fa->seed;
    }

    job->n_methods = (int)raw->methods_count;
    job->methods = tk_calloc(raw->methods_count, sizeof *job->methods, err);
    if (!job->methods)
        return TK_E_NOMEM;
    for (unsigned i = 0; i < raw->methods_count; i++) {
        if ((st = resolve_method(file, raw, &raw->methods[i], (int)i, &job->methods[i], err)) !=
            TK_OK)
            return st;
        for (unsigned j = 0; j < i; j++)
            if (strcmp(job->methods[j].name, job->methods[i].name) == 0)
                return tk_error_set(err, TK_E_INVALID,
                                    "%s: methods[%u]: name '%s' is used twice (names are the "
                                    "results groups)",
                                    file, i, job->methods[i].name);
    }
    return TK_OK;
}

tk_status tk_job_parse(const char *yaml, const char *name, const char *base_dir,
                       const char *shared_dir, tk_job **out, tk_error *err)
{
    *out = NULL;
    log_buf lb = {{0}};
    cyaml_config_t cfg = {
        .log_fn = capture_log,
        .log_ctx = &lb,
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_DEFAULT,
    };
    raw_job *raw = NULL;
    tk_status st = TK_OK;
    tk_job *job = tk_calloc(1, sizeof *job, err);
    if (!job)
        return TK_E_NOMEM;
    tk_job_defaults(job);
    job->yaml_text = strdup(yaml);
    if (!job->yaml_text) {
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", name);
        goto fail;
    }

    cyaml_err_t ce = cyaml_load_data((const uint8_t *)yaml, strlen(yaml), &cfg, &job_schema,
                                     (cyaml_data_t **)&raw, NULL);
    if (ce != CYAML_OK) {
        st = tk_error_set(err, TK_E_INVALID, "%s: %s%s%s", name, cyaml_strerror(ce),
                          lb.text[0] ? ": " : "", lb.text);
        raw = NULL;
        goto fail;
    }
    if (raw == NULL) {
        st = tk_error_set(err, TK_E_INVALID, "%s: the job is empty", name);
        goto fail;
    }
    if ((st = resolve_job(name, raw, base_dir, shared_dir, job, err)) != TK_OK)
        goto fail;
    cyaml_free(&cfg, &job_schema, raw, 0);
    *out = job;
    return TK_OK;

fail:
    if (raw)
        cyaml_free(&cfg, &job_schema, raw, 0);
    tk_job_destroy(job);
    return st;
}

tk_status tk_job_load(const char *path, const char *shared_dir, tk_job **out, tk_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tk_error_set(err, TK_E_IO, "%s: cannot open the job file: %s", path,
                            strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    tk_status st = TK_OK;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (64u << 20)) {
                st = tk_error_set(err, TK_E_FORMAT, "%s: the job file is larger than 64 MB", path);
                goto done;
            }
            char *t = realloc(text, cap);
            if (!t) {
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
                goto done;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, 4096, f);
        len += n;
        if (n < 4096)
            break;
    }
    if (ferror(f)) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot read the job file", path);
        goto done;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: the job file contains a NUL byte", path);
        goto done;
    }

    /* base directory = the job file's directory */
    char base[4096];
    snprintf(base, sizeof base, "%s", path);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(base, sizeof base, ".");
    st = tk_job_parse(text, path, base, shared_dir, out, err);

done:
    free(text);
    fclose(f);
    return st;
}

void tk_job_destroy(tk_job *job)
{
    if (!job)
        return;
    free(job->yaml_text);
    free(job->model_path);
    free(job->architecture_path);
    free(job->dataset_path);
    free(job->indices);
    free(job->word_vectors);
    free(job->word_index);
    free(job->shared_dir);
    free(job->methods);
    free(job->output_path);
    free(job->select_spec);
    free(job);
}
