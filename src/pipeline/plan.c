/* Rank 0's setup (plan.h). */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/plan.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <math.h>

#include "core/outpath.h"
#include "core/paths.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "data/model_input.h"
#include "data/selection.h"
#include "data/text_tokenizer.h"
#include "data/word_vectors.h"
#include "model/model_tags.h"
#include "report/results.h"

void tk_plan_free(tk_plan *p)
{
    tk_dataset_destroy(p->ds);
    tk_model_destroy(p->model);
    free(p->index);
    free(p->review_id);
    free(p->label);
    free(p->rating);
    free(p->inputs);
    free(p->wv_table);
    free(p->tok_off);
    free(p->tok_id);
    free(p->word_pos);
    free(p->word_buf);
    free(p->doc_buf);
    free(p->word_off);
    free(p->doc_id);
    free(p->truncated);
    free(p->order);
    free(p->done);
    tk_writer_abandon(p->writer);
    memset(p, 0, sizeof *p);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Outputs never touch inputs (core/outpath.h): the results file and its
 * .partial are none of the job's inputs, and what --force (or --resume)
 * would replace or reopen is a previous results file, nothing else. */
static tk_status guard_output(const tk_run_config *cfg, const char *partial, tk_error *err)
{
    const tk_path_role inputs[] = {
        {cfg->model_path, "model"},
        {cfg->dataset_path, "dataset"},
        {cfg->word_index, "word index"},
        {cfg->word_vectors, "word vectors"},
        {cfg->architecture_path, "architecture"},
    };
    const tk_path_role out = {cfg->output_path, "results file"};
    const tk_path_role part = {partial, "partial results file"};
    tk_status st;
    if ((st = tk_outpath_check(&out, inputs, 5, err)) != TK_OK) /* and its .partial */
        return st;
    if (!cfg->force && !cfg->resume)
        return TK_OK; /* an existing file is refused below */
    if ((st = tk_outpath_replaceable(&out, "tokattr results file", tk_results_probe, err)) != TK_OK ||
        (st = tk_outpath_replaceable(&part, "tokattr results file", tk_results_probe, err)) != TK_OK)
        return st;
    return TK_OK;
}

/* Before anything is read: where the results go, and whether we may write. */
static tk_status check_output(const tk_run_config *cfg, tk_plan *p, bool *fresh, bool *complete,
                              tk_error *err)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", cfg->output_path);
    const char *d = dirname(dir);
    if (!is_dir(d))
        return tk_error_set(err, TK_E_IO,
                            "%s: the results directory '%s' does not exist (create it first)",
                            cfg->output_path, d);
    if (access(d, W_OK) != 0)
        return tk_error_set(err, TK_E_IO, "%s: the results directory '%s' is not writable",
                            cfg->output_path, d);
    tk_run_partial_path(cfg->output_path, p->partial, sizeof p->partial);
    tk_status st = guard_output(cfg, p->partial, err);
    if (st != TK_OK)
        return st;
    bool final_exists = tk_file_exists(cfg->output_path);
    bool partial_exists = tk_file_exists(p->partial);
    *fresh = true;
    *complete = false;
    if (cfg->force) {
        if ((final_exists && unlink(cfg->output_path) != 0) ||
            (partial_exists && unlink(p->partial) != 0))
            return tk_error_set(err, TK_E_IO, "%s: cannot remove the old results: %s",
                                cfg->output_path, strerror(errno));
        return TK_OK;
    }
    if (cfg->resume) {
        if (partial_exists)
            *fresh = false;
        else if (final_exists)
            *complete = true; /* checked against the job below, nothing to compute */
        return TK_OK;
    }
    if (final_exists)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the results file exists; use --force to overwrite it",
                            cfg->output_path);
    if (partial_exists)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: an interrupted run left this file; use --resume to continue it or "
                            "--force to start over",
                            p->partial);
    return TK_OK;
}

/* The split positions of the selected reviews. */
static tk_status select_reviews(const tk_run_config *cfg, const tk_split *sp, tk_plan *p,
                                tk_error *err)
{
    int64_t n = 0;
    p->index = tk_malloc((size_t)(sp->n > 0 ? sp->n : 1), sizeof *p->index, err);
    if (!p->index)
        return TK_E_NOMEM;
    switch (cfg->select) {
    case TK_SELECT_ALL:
        for (int64_t i = 0; i < sp->n; i++)
            p->index[n++] = i;
        break;
    case TK_SELECT_RANGE: {
        if (cfg->first >= sp->n)
            return tk_error_set(err, TK_E_INVALID,
                                "%s: select.first = %lld but the %s split has %lld reviews",
                                cfg->dataset_path, (long long)cfg->first, cfg->split,
                                (long long)sp->n);
        int64_t end = cfg->count < 0 ? sp->n : cfg->first + cfg->count;
        if (end > sp->n)
            end = sp->n;
        for (int64_t i = cfg->first; i < end; i++)
            p->index[n++] = i;
        break;
    }
    case TK_SELECT_IDS:
        for (int64_t k = 0; k < cfg->n_indices; k++) {
            if (cfg->indices[k] >= sp->n)
                return tk_error_set(err, TK_E_INVALID,
                                    "%s: select.ids has %lld but the %s split has %lld reviews",
                                    cfg->dataset_path, (long long)cfg->indices[k], cfg->split,
                                    (long long)sp->n);
            p->index[n++] = cfg->indices[k];
        }
        break;
    case TK_SELECT_LABEL:
        for (int64_t i = 0; i < sp->n; i++)
            if (sp->label[i] == cfg->label)
                p->index[n++] = i;
        break;
    case TK_SELECT_REVIEWS: {
        tk_status st = tk_selection_split_rows(cfg->select_spec, "select.reviews", p->ds, sp,
                                               p->index, &n, err);
        if (st != TK_OK)
            return st;
        break;
    }
    }
    if (n == 0)
        return tk_error_set(err, TK_E_INVALID, "%s: the job selects no review of the %s split",
                            cfg->dataset_path, cfg->split);
    p->n = n;
    return TK_OK;
}

/* Embedding-less models read vectors: the job must say where they come
 * from, and their D must be the model's input_dim. The table is built per
 * model-input id once here, so workers only copy rows (no dataset). */
static tk_status word_vector_table(const tk_run_config *cfg, tk_plan *p, tk_error *err)
{
    const tk_model *m = p->model;
    if (cfg->faith)
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "%s: the faithfulness step needs token ids to delete, and the model "
                            "reads vectors (no Embedding): leave 'faithfulness:' out of this job",
                            cfg->model_path);
    if (!cfg->word_vectors && !cfg->ids_as_feature)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the model has no Embedding layer (it reads %d-d word vectors); "
                            "name a table with 'word_vectors: PATH' or set 'ids_as_feature: true'",
                            cfg->model_path, m->input_dim);
    tk_word_vectors *wv = NULL;
    tk_status st;
    if (cfg->word_vectors && (st = tk_word_vectors_load(cfg->word_vectors, &wv, err)) != TK_OK)
        return st;
    int dim = wv ? wv->dim : 1;
    if (dim != m->input_dim) {
        tk_word_vectors_destroy(wv);
        return tk_error_set(err, TK_E_INVALID, "%s: the model reads %d-d vectors but %s gives %d-d ones",
                            cfg->model_path, m->input_dim,
                            cfg->word_vectors ? cfg->word_vectors : "ids_as_feature", dim);
    }
    st = tk_word_vectors_id_table(wv, p->ds, &p->wv_table, &p->wv_n_ids, &p->wv_dim, NULL, err);
    tk_word_vectors_destroy(wv);
    return st;
}

/* What `tokattr train` records in a model file's root (model/model_tags.h):
 * the vocabulary's SHA-256, the tokenizer kind and the test accuracy
 * ("tokattr_test_accuracy"). Keras' own files have none of them; an
 * unreadable tag counts as absent (the checks below then ask the job). */
static void model_records(const char *path, tk_plan *p)
{
    char buf[128];
    bool found = false;
    tk_error ignore = {0};
    p->model_vocab_sha[0] = p->model_tokenizer[0] = '\0';
    p->recorded_accuracy = NAN;
    if (tk_model_tag_read(path, TK_MODEL_TAG_VOCAB_SHA256, buf, sizeof buf, &found, &ignore) ==
            TK_OK &&
        found && strlen(buf) == 64)
        memcpy(p->model_vocab_sha, buf, 65);
    if (tk_model_tag_read(path, TK_MODEL_TAG_TOKENIZER, buf, sizeof buf, &found, &ignore) == TK_OK &&
        found && strlen(buf) < sizeof p->model_tokenizer)
        memcpy(p->model_tokenizer, buf, strlen(buf) + 1);
    if (tk_model_tag_read(path, "tokattr_test_accuracy", buf, sizeof buf, &found, &ignore) ==
            TK_OK &&
        found) {
        char *end;
        double v = strtod(buf, &end);
        if (end != buf && *end == '\0' && v >= 0 && v <= 1)
            p->recorded_accuracy = v;
    }
}

/* The tokenizer the dataset was prepared with (its record; a v1 file reads
 * as tokattr-imdb over its word index, the only way v1 files were made). */
static void dataset_tokenizer(const tk_dataset *ds, const char **kind, const char **vocab_sha)
{
    *kind = ds->tokenizer.kind[0] ? ds->tokenizer.kind
                                  : tk_tokenizer_kind_name(TK_TOKENIZER_TOKATTR_IMDB);
    *vocab_sha = ds->tokenizer.vocab_sha256[0] ? ds->tokenizer.vocab_sha256 : ds->word_index_sha256;
}

/* A model file says nothing about its vocabulary unless `tokattr train`
 * wrote it (tokattr_vocab_sha256); a dataset records its tokenizer. The
 * job's `tokenizer:` (or `word_index:`, which means tokattr-imdb over that
 * file) must match the dataset, and the model when it records one; one of
 * them is required for a model with an Embedding that records nothing,
 * since its ids would otherwise be taken on trust (issue 15: a Keras
 * model on tokattr's ids loads, runs and explains the wrong words). */
static tk_status check_tokenizer(const tk_run_config *cfg, tk_plan *p, tk_error *err)
{
    const char *ds_kind, *ds_sha;
    dataset_tokenizer(p->ds, &ds_kind, &ds_sha);
    if (cfg->tokenizer) {
        tk_tokenizer *t = NULL;
        tk_status st = tk_tokenizer_create(cfg->tokenizer, cfg->shared_dir, &t, err);
        if (st != TK_OK) {
            tk_error_prefix(err, "job key 'tokenizer'");
            return st;
        }
        tk_tokenizer_record rec;
        tk_tokenizer_record_of(t, &rec);
        tk_tokenizer_destroy(t);
        if (strcmp(rec.kind, ds_kind) != 0 || strcmp(rec.vocab_sha256, ds_sha) != 0)
            return tk_error_set(err, TK_E_INVALID,
                                "%s: the job's tokenizer is %s (vocabulary SHA-256 %.12s...) but the "
                                "dataset was prepared with %s (vocabulary SHA-256 %.12s...): "
                                "prepare the dataset with --tokenizer %s, or name the tokenizer "
                                "the model was trained with",
                                cfg->dataset_path, rec.kind, rec.vocab_sha256, ds_kind, ds_sha,
                                rec.kind);
        if (p->model_vocab_sha[0] && strcmp(p->model_vocab_sha, rec.vocab_sha256) != 0)
            return tk_error_set(err, TK_E_INVALID,
                                "%s: the model records vocabulary SHA-256 %.12s..., the job's "
                                "tokenizer %s has %.12s...",
                                cfg->model_path, p->model_vocab_sha, rec.kind, rec.vocab_sha256);
        return TK_OK;
    }
    if (p->model_vocab_sha[0]) {
        if (strcmp(p->model_vocab_sha, ds_sha) != 0 ||
            (p->model_tokenizer[0] && strcmp(p->model_tokenizer, ds_kind) != 0))
            return tk_error_set(err, TK_E_INVALID,
                                "%s: the model was trained with %s (vocabulary SHA-256 %.12s...) "
                                "but the dataset %s was prepared with %s (vocabulary SHA-256 "
                                "%.12s...)",
                                cfg->model_path,
                                p->model_tokenizer[0] ? p->model_tokenizer : "a tokenizer",
                                p->model_vocab_sha, cfg->dataset_path, ds_kind, ds_sha);
        return TK_OK;
    }
    if (!cfg->word_index && !cfg->tokenizer_dataset && p->model->has_embedding)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the model file does not record its vocabulary (no "
                            "tokattr_vocab_sha256 attribute), so the job must say which "
                            "tokenizer it was trained with: add 'tokenizer: KIND[:FILE]' (%s; "
                            "e.g. tokattr-imdb for imdb_cnn.h5, keras-imdb for keras_imdb_cnn.h5), "
                            "or 'tokenizer: dataset' when it was trained on this dataset's ids",
                            cfg->model_path, tk_tokenizer_spellings());
    return TK_OK;
}

/* Does the model fit the dataset and the job? Said before any work. */
static tk_status check_fit(const tk_run_config *cfg, tk_plan *p, tk_error *err)
{
    const tk_model *m = p->model;
    tk_status st;
    if (!m->has_embedding) {
        if ((st = word_vector_table(cfg, p, err)) != TK_OK)
            return st;
    } else if (cfg->word_vectors || cfg->ids_as_feature) {
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the model has an Embedding layer, so the job's '%s' does not apply",
                            cfg->model_path, cfg->word_vectors ? "word_vectors" : "ids_as_feature");
    }
    /* embedding-less: no row limit, every id of the dataset has a table row */
    p->num_words = cfg->num_words > 0 ? cfg->num_words : m->has_embedding ? m->vocab_size : 0;
    if (m->has_embedding && p->num_words > m->vocab_size)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the Embedding has %d rows, fewer than input.num_words = %d",
                            cfg->model_path, m->vocab_size, p->num_words);
    p->steps = cfg->maxlen > 0 ? cfg->maxlen : m->maxlen;
    if (p->steps <= 0)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the model accepts any length; set input.maxlen in the job",
                            cfg->model_path);
    if (m->maxlen > 0 && p->steps != m->maxlen)
        return tk_error_set(err, TK_E_INVALID, "%s: the model's input length is %d, the job asks for %d",
                            cfg->model_path, m->maxlen, p->steps);
    if ((st = tk_model_check_steps(m, p->steps, err)) != TK_OK)
        return st;
    /* The dataset's largest id is its last word's, vocab_size + index_from; the
     * model takes ids up to num_words - 1. Fewer words than that means the
     * dataset was made with another vocabulary. */
    if (p->ds->vocab_size + p->ds->convention.index_from < (int64_t)p->num_words - 1)
        return tk_error_set(err, TK_E_INVALID,
                            "%s: the dataset's vocabulary has %lld words but the model's "
                            "Embedding expects %d ids: the dataset was prepared from another "
                            "vocabulary",
                            cfg->dataset_path, (long long)p->ds->vocab_size, p->num_words);
    if (cfg->word_index) {
        char sha[65];
        if ((st = tk_sha256_file_hex(cfg->word_index, sha, err)) != TK_OK)
            return st;
        if (strcmp(sha, p->ds->word_index_sha256) != 0)
            return tk_error_set(err, TK_E_INVALID,
                                "%s: the dataset was prepared from another vocabulary than %s "
                                "(word index SHA-256 differs)",
                                cfg->dataset_path, cfg->word_index);
    }
    p->n_classes = m->n_outputs;
    int classes = m->n_outputs == 1 ? 2 : m->n_outputs;
    const tk_split *bg_split = tk_dataset_split(p->ds, "train", NULL);
    int64_t n_train = bg_split ? bg_split->n : 0;
    for (int k = 0; k < cfg->n_methods; k++) {
        const tk_method_params *mp = &cfg->methods[k];
        if (mp->target == TK_TARGET_CLASS && (mp->target_class < 0 || mp->target_class >= classes))
            return tk_error_set(err, TK_E_INVALID,
                                "%s: method '%s' explains class %d but the model has %d classes",
                                cfg->model_path, mp->name, mp->target_class, classes);
        if (mp->kind == TK_METHOD_DEEPSHAP && mp->background_size > n_train)
            return tk_error_set(err, TK_E_INVALID,
                                "%s: method '%s' wants %d background reviews, the train split has "
                                "%lld",
                                cfg->dataset_path, mp->name, mp->background_size,
                                (long long)n_train);
        if (mp->baseline == TK_BASELINE_TOKEN &&
            (mp->baseline_token < 0 || mp->baseline_token >= m->vocab_size))
            return tk_error_set(err, TK_E_INVALID,
                                "%s: method '%s': baseline_token %d is not a row of the Embedding",
                                cfg->model_path, mp->name, mp->baseline_token);
    }
    return TK_OK;
}

/* The dataset's id convention (start marker, OOV, padding ids and its
 * tokenizer's default sides); the sides the job says win. */
static void input_spec(const tk_run_config *cfg, const tk_plan *p, tk_input_spec *spec)
{
    tk_input_spec_from_convention(spec, &p->ds->convention, p->num_words, p->steps);
    if (cfg->padding_set)
        spec->padding_post = cfg->padding_post;
    if (cfg->truncating_set)
        spec->truncating_post = cfg->truncating_post;
}

/* The word of token `token` of split sp as the tokenizer produced it
 * (*len bytes, not NUL-terminated): the stored word of a v2 dataset, also
 * for OOV words. A v1 dataset stores ids only: then the word comes from
 * the vocabulary and an out-of-vocabulary word is "<oov>". */
static const char *split_word(const tk_dataset *ds, const tk_split *sp, int64_t token, size_t *len)
{
    const char *w = tk_split_word(sp, token, len);
    if (w)
        return w;
    w = tk_dataset_word(ds, sp->ids[token]);
    *len = strlen(w);
    return w;
}

/* Appends len bytes (and a NUL when nul) to a growing buffer; *at gets
 * their offset. */
static tk_status buf_add(char **buf, size_t *used, size_t *cap, const char *s, size_t len,
                         bool nul, size_t *at, tk_error *err)
{
    if (*used + len + 1 > *cap) {
        size_t c = *cap ? *cap : 1 << 16;
        while (c < *used + len + 1)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return tk_error_set(err, TK_E_NOMEM, "out of memory collecting the words");
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *used, s, len);
    (*buf)[*used + len] = '\0';
    *at = *used;
    *used += len + nul;
    return TK_OK;
}

static tk_status prepare_inputs(const tk_run_config *cfg, const tk_split *sp, tk_plan *p,
                                tk_error *err)
{
    tk_input_spec spec;
    input_spec(cfg, p, &spec);
    size_t n = (size_t)p->n, s = (size_t)p->steps;
    int32_t *wp = tk_malloc(s, sizeof *wp, err); /* (steps) word positions, -2 padding */
    size_t *doff = tk_malloc(n, sizeof *doff, err); /* (n) offsets in doc_buf until it stops moving */
    size_t wused = 0, wcap = 0, dused = 0, dcap = 0;
    tk_status st = TK_OK;
    p->review_id = tk_malloc(n, sizeof *p->review_id, err);
    p->label = tk_malloc(n, sizeof *p->label, err);
    p->rating = tk_malloc(n, sizeof *p->rating, err);
    p->truncated = tk_malloc(n, sizeof *p->truncated, err);
    p->inputs = tk_malloc(n * s, sizeof *p->inputs, err);
    p->tok_off = tk_malloc(n + 1, sizeof *p->tok_off, err);
    p->tok_id = tk_malloc(n * s + 1, sizeof *p->tok_id, err);
    p->word_pos = tk_malloc(n * s + 1, sizeof *p->word_pos, err);
    p->word_off = tk_malloc(n * s + 1, sizeof *p->word_off, err);
    if (!wp || !p->word_off || !doff || !p->review_id || !p->label || !p->rating || !p->truncated ||
        !p->inputs || !p->tok_off || !p->tok_id || !p->word_pos) {
        st = TK_E_NOMEM;
        goto done;
    }
    p->tok_off[0] = 0;
    for (size_t r = 0; r < n; r++) {
        int64_t i = p->index[r];
        p->review_id[r] = sp->review_id[i];
        p->label[r] = sp->label[i];
        p->rating[r] = sp->rating[i];
        int32_t *row = p->inputs + r * s;
        int64_t n_words = sp->offset[i + 1] - sp->offset[i], cut = 0;
        tk_prepare_input_ex(&spec, sp->ids + sp->offset[i], n_words, row, wp, &cut);
        int64_t t = p->tok_off[r];
        for (size_t j = 0; j < s; j++)
            if (wp[j] != -2) { /* padding excluded */
                p->tok_id[t] = row[j];
                p->word_pos[t] = wp[j];
                size_t len = 7;
                const char *word = "<start>";
                if (wp[j] >= 0)
                    word = split_word(p->ds, sp, sp->offset[i] + wp[j], &len);
                size_t at = 0;
                if ((st = buf_add(&p->word_buf, &wused, &wcap, word, len, false, &at, err)) != TK_OK)
                    goto done;
                p->word_off[t] = (int64_t)at;
                t++;
            }
        p->tok_off[r + 1] = t;
        p->truncated[r] = (int32_t)cut;
        char num[24];
        const char *id = num; /* the user's id as written; else the review id */
        if (sp->doc_id && sp->doc_id[i])
            id = sp->doc_id[i];
        else
            snprintf(num, sizeof num, "%d", (int)sp->review_id[i]);
        if ((st = buf_add(&p->doc_buf, &dused, &dcap, id, strlen(id), true, &doff[r], err)) !=
            TK_OK)
            goto done;
    }
    p->word_off[p->tok_off[n]] = (int64_t)wused;
    if (!p->word_buf && (st = buf_add(&p->word_buf, &wused, &wcap, "", 0, false, &(size_t){0},
                                      err)) != TK_OK)
        goto done; /* no token at all: still a buffer to point at */
    p->doc_id = tk_malloc(n, sizeof *p->doc_id, err);
    if (!p->doc_id) {
        st = TK_E_NOMEM;
        goto done;
    }
    for (size_t r = 0; r < n; r++)
        p->doc_id[r] = p->doc_buf + doff[r];
done:
    free(wp);
    free(doff);
    return st;
}

/* Class names for /classes/name: the dataset's (a v1 file is IMDB: neg,
 * pos), which name the model's classes only when there are as many. */
static void class_names(tk_plan *p)
{
    int classes = p->n_classes == 1 ? 2 : p->n_classes;
    p->n_class_names = 0;
    if (p->ds->class_names && p->ds->n_classes == classes)
        p->n_class_names = classes;
}

/* The words are in the file once it is laid out. */
static void free_words(tk_plan *p)
{
    free(p->word_buf);
    free(p->doc_buf);
    free(p->word_off);
    free(p->doc_id);
    p->word_buf = p->doc_buf = NULL;
    p->word_off = NULL;
    p->doc_id = NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Work units: contiguous runs of chunk_size reviews (so a unit's writes
 * touch one or two HDF5 chunks), handed out with the most tokens first so
 * that the last units are short. Units fully done (resume) are skipped. */
static tk_status plan_chunks(const tk_run_config *cfg, tk_plan *p, tk_error *err)
{
    int64_t cs = cfg->chunk_size, total = (p->n + cs - 1) / cs;
    p->order = tk_malloc((size_t)total, sizeof *p->order, err);
    int64_t *toks = tk_malloc((size_t)total, sizeof *toks, err); /* (total) */
    if (!p->order || !toks) {
        free(toks);
        return TK_E_NOMEM;
    }
    p->n_chunks = 0;
    for (int64_t c = 0; c < total; c++) {
        int64_t a = c * cs, b = a + cs < p->n ? a + cs : p->n;
        toks[c] = p->tok_off[b] - p->tok_off[a];
        bool all_done = true;
        for (int64_t i = a; i < b; i++)
            all_done = all_done && p->done[i];
        if (!all_done)
            p->order[p->n_chunks++] = c;
    }
    /* key = (tokens descending, chunk ascending): unique, so the order is
     * fully determined */
    int64_t *keys = tk_malloc((size_t)(p->n_chunks > 0 ? p->n_chunks : 1), sizeof *keys, err);
    if (!keys) {
        free(toks);
        return TK_E_NOMEM;
    }
    for (int64_t k = 0; k < p->n_chunks; k++)
        keys[k] = ((int64_t)(INT32_MAX - toks[p->order[k]]) << 32) | p->order[k];
    free(toks);
    qsort(keys, (size_t)p->n_chunks, sizeof *keys, cmp_i64);
    for (int64_t k = 0; k < p->n_chunks; k++)
        p->order[k] = keys[k] & 0xffffffff;
    free(keys);
    return TK_OK;
}

/* Everything rank 0 does before work starts. */
tk_status tk_plan_setup(const tk_run_config *cfg, int ranks, tk_plan *p, bool *complete,
                            tk_error *err)
{
    bool fresh;
    tk_status st = check_output(cfg, p, &fresh, complete, err);
    if (st != TK_OK)
        return st;
    if ((st = tk_dataset_read(cfg->dataset_path, &p->ds, err)) != TK_OK ||
        (st = tk_model_load_with_architecture(cfg->model_path, cfg->architecture_path, &p->model,
                                               err)) != TK_OK ||
        (st = tk_sha256_file_hex(cfg->dataset_path, p->dataset_sha, err)) != TK_OK ||
        (st = tk_sha256_file_hex(cfg->model_path, p->model_sha, err)) != TK_OK)
        return st;
    const tk_split *sp = tk_dataset_split(p->ds, cfg->split, err);
    if (!sp) {
        tk_error_prefix(err, "%s: job key 'split'", cfg->dataset_path);
        return TK_E_INVALID;
    }
    model_records(cfg->model_path, p);
    if ((st = check_fit(cfg, p, err)) != TK_OK || (st = check_tokenizer(cfg, p, err)) != TK_OK ||
        (st = select_reviews(cfg, sp, p, err)) != TK_OK ||
        (st = prepare_inputs(cfg, sp, p, err)) != TK_OK)
        return st;
    p->done = tk_calloc((size_t)p->n, 1, err);
    if (!p->done)
        return TK_E_NOMEM;
    class_names(p);

    tk_writer_layout layout = {.n = p->n,
                               .index = p->index,
                               .review_id = p->review_id,
                               .label = p->label,
                               .rating = p->rating,
                               .token_offset = p->tok_off,
                               .token_id = p->tok_id,
                               .word_pos = p->word_pos,
                               .n_classes = p->n_classes,
                               .n_methods = cfg->n_methods,
                               .methods = cfg->methods,
                               .vocab_size = p->ds->vocab_size,
                               .vocab = p->ds->vocab,
                               .token_word_offset = p->word_off,
                               .token_word_text = p->word_buf,
                               .doc_id = p->doc_id,
                               .truncated = p->truncated,
                               .truncating_post = cfg->truncating_set
                                                      ? cfg->truncating_post
                                                      : p->ds->convention.truncating_post,
                               .n_class_names = p->n_class_names,
                               .class_names = (const char *const *)p->ds->class_names,
                               .pad_id = p->ds->convention.pad_id,
                               .start_id = p->ds->convention.start_id,
                               .oov_id = p->ds->convention.oov_id,
                               .faith = cfg->faith};
    tk_writer_meta meta = {.command_line = cfg->command_line,
                           .job_yaml = cfg->job_yaml,
                           .model_path = cfg->model_path,
                           .model_sha256 = p->model_sha,
                           .dataset_path = cfg->dataset_path,
                           .dataset_sha256 = p->dataset_sha,
                           .split = cfg->split,
                           .ranks = ranks};
    if (*complete) {
        /* --resume on a finished file: only check that it is this job's */
        tk_writer *w = NULL;
        if ((st = tk_writer_open_resume(cfg->output_path, &layout, &meta, p->done, &w, err)) !=
            TK_OK)
            return st;
        tk_writer_abandon(w);
        p->n_done_before = p->n;
        return TK_OK;
    }
    if (fresh) {
        /* built under another name and renamed once its layout is on disk:
         * a kill during creation never leaves a .partial that cannot open */
        char tmp[4300];
        snprintf(tmp, sizeof tmp, "%s.new", p->partial);
        st = tk_writer_create(tmp, &layout, &meta, &p->writer, err);
        if (st == TK_OK && rename(tmp, p->partial) != 0)
            st = tk_error_set(err, TK_E_IO, "%s: cannot rename to %s: %s", tmp, p->partial,
                              strerror(errno));
    } else
        st = tk_writer_open_resume(p->partial, &layout, &meta, p->done, &p->writer, err);
    free_words(p);
    if (st != TK_OK)
        return st;
    for (int64_t i = 0; i < p->n; i++)
        p->n_done_before += p->done[i] != 0;
    return plan_chunks(cfg, p, err);
}

/* DeepSHAP backgrounds: the first B train reviews, or B distinct ones drawn
 * with splitmix64 from the method's seed. Prepared like the input. */
tk_status tk_plan_background(const tk_run_config *cfg, const tk_plan *p,
                                 const tk_method_params *mp, int32_t *ids, tk_error *err)
{
    const tk_split *tr = tk_dataset_split(p->ds, "train", err);
    if (tr == NULL)
        return TK_E_INVALID;
    tk_input_spec spec;
    input_spec(cfg, p, &spec);
    int64_t b = mp->background_size;
    uint8_t *used = NULL;
    uint64_t state = mp->seed;
    if (mp->background_random) {
        used = tk_calloc((size_t)tr->n, 1, err);
        if (!used)
            return TK_E_NOMEM;
    }
    for (int64_t k = 0; k < b; k++) {
        int64_t i = k;
        if (used) {
            do
                i = (int64_t)(tk_rng_u64(&state) % (uint64_t)tr->n);
            while (used[i]);
            used[i] = 1;
        }
        tk_prepare_input(&spec, tr->ids + tr->offset[i], tr->offset[i + 1] - tr->offset[i],
                         ids + k * p->steps, NULL);
    }
    free(used);
    return TK_OK;
}
