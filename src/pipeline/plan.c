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
#include "pipeline/unit_input.h"
#include "report/results.h"

void tk_plan_free(tk_plan *p)
{
    tk_plan_layout_discard(p);
    free(p->unit_ids);
    tk_dataset_destroy(p->ds);
    tk_model_destroy(p->model);
    free(p->index);
    free(p->wv_table);
    free(p->tok_off);
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
    /* a damaged one is replaced (--force), never resumed; one in use neither */
    if ((st = tk_results_check_reuse(cfg->output_path, cfg->force, err)) != TK_OK ||
        (st = tk_results_check_reuse(partial, cfg->force, err)) != TK_OK ||
        (st = tk_outpath_replaceable(&out, "tokattr results file", tk_results_probe, err)) != TK_OK ||
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

/* What a selection looks at (labels, doc ids) is read in blocks of this
 * many reviews: a block reads their ids and words too, some 8 MB at 100
 * words a review. */
enum { SELECT_BLOCK = 4096 };

/* The split positions of the selected reviews. */
static tk_status select_reviews(const tk_run_config *cfg, const tk_split *sp, tk_plan *p,
                                tk_error *err)
{
    int64_t n = 0, cap = sp->n; /* the index is sized by the selection, not the split */
    if (cfg->select == TK_SELECT_IDS)
        cap = cfg->n_indices;
    else if (cfg->select == TK_SELECT_RANGE && cfg->count >= 0 && cfg->count < cap)
        cap = cfg->count;
    p->index = tk_malloc((size_t)(cap > 0 ? cap : 1), sizeof *p->index, err);
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
    case TK_SELECT_LABEL: {
        /* the plan's dataset header holds no labels: read them in blocks */
        tk_docs_reader *rd = NULL;
        tk_status st = tk_docs_open_ex(cfg->dataset_path, sp->name, true, &rd, err);
        for (int64_t a = 0; a < sp->n && st == TK_OK; a += SELECT_BLOCK) {
            tk_split blk = {0};
            int64_t cnt = sp->n - a < SELECT_BLOCK ? sp->n - a : SELECT_BLOCK;
            if ((st = tk_docs_read(rd, a, cnt, false, &blk, err)) != TK_OK)
                break;
            for (int64_t i = 0; i < cnt; i++)
                if (blk.label[i] == cfg->label)
                    p->index[n++] = a + i;
            tk_split_free(&blk);
        }
        tk_docs_close(rd);
        if (st != TK_OK)
            return st;
        break;
    }
    case TK_SELECT_REVIEWS: {
        /* ids are matched against the user's doc ids, which the plan's
         * dataset header does not hold: a table of the split's ids and
         * labels, read in blocks (the documents and words of a block only;
         * the whole split at once was its words and ids too), freed here */
        tk_split tab = {.n = sp->n,
                        .name = strdup(sp->name),
                        .label = tk_malloc((size_t)(sp->n > 0 ? sp->n : 1), sizeof *tab.label, err),
                        .doc_id = tk_calloc((size_t)(sp->n > 0 ? sp->n : 1), sizeof *tab.doc_id, err)};
        tk_docs_reader *rd = NULL;
        tk_status st = tab.name && tab.label && tab.doc_id
                           ? tk_docs_open_ex(cfg->dataset_path, sp->name, true, &rd, err)
                           : tk_error_set(err, TK_E_NOMEM, "out of memory reading the doc ids");
        for (int64_t a = 0; a < sp->n && st == TK_OK; a += SELECT_BLOCK) {
            tk_split blk = {0};
            int64_t cnt = sp->n - a < SELECT_BLOCK ? sp->n - a : SELECT_BLOCK;
            if ((st = tk_docs_read(rd, a, cnt, true, &blk, err)) != TK_OK)
                break;
            for (int64_t i = 0; i < cnt; i++) {
                tab.label[a + i] = blk.label[i];
                tab.doc_id[a + i] = blk.doc_id[i];
                blk.doc_id[i] = NULL; /* moved */
            }
            tk_split_free(&blk);
        }
        tk_docs_close(rd);
        if (st == TK_OK)
            st = tk_selection_split_rows(cfg->select_spec, "select.reviews", p->ds, &tab,
                                         p->index, &n, err);
        tk_split_free(&tab);
        if (st != TK_OK)
            return st;
        break;
    }
    }
    if (n == 0)
        return tk_error_set(err, TK_E_INVALID, "%s: the job selects no review of the %s split",
                            cfg->dataset_path, cfg->split);
    if (n < cap) {
        /* a label or id selection: what rank 0 keeps is the selected ones */
        int64_t *shrunk = realloc(p->index, (size_t)n * sizeof *p->index);
        if (shrunk)
            p->index = shrunk;
    }
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

/* Rank 0's layout in blocks of this many reviews: its memory is a block's,
 * whatever the corpus. Counted in large blocks before the work; written in
 * small ones, between the other ranks' requests. */
enum { LAYOUT_BLOCK = 4096, LAYOUT_WRITE_BLOCK = 256 };

/* One block of the layout being written (pass 2). */
typedef struct layout_buf {
    int32_t *review_id, *label, *rating, *truncated; /* (LAYOUT_WRITE_BLOCK) */
    const char **doc_id;                             /* (LAYOUT_WRITE_BLOCK) */
    int32_t *tok_id, *word_pos;                      /* (LAYOUT_WRITE_BLOCK * steps) */
    int64_t *word_off;                               /* (LAYOUT_WRITE_BLOCK * steps + 1) */
    char *text;
    size_t text_used, text_cap;
} layout_buf;

static void layout_buf_free(layout_buf *b)
{
    free(b->review_id);
    free(b->label);
    free(b->rating);
    free(b->truncated);
    free(b->doc_id);
    free(b->tok_id);
    free(b->word_pos);
    free(b->word_off);
    free(b->text);
    memset(b, 0, sizeof *b);
}

static tk_status layout_buf_alloc(layout_buf *b, int steps, tk_error *err)
{
    size_t n = LAYOUT_WRITE_BLOCK, t = (size_t)LAYOUT_WRITE_BLOCK * (size_t)steps;
    b->review_id = tk_malloc(n, sizeof *b->review_id, err);
    b->label = tk_malloc(n, sizeof *b->label, err);
    b->rating = tk_malloc(n, sizeof *b->rating, err);
    b->truncated = tk_malloc(n, sizeof *b->truncated, err);
    b->doc_id = tk_malloc(n, sizeof *b->doc_id, err);
    b->tok_id = tk_malloc(t, sizeof *b->tok_id, err);
    b->word_pos = tk_malloc(t, sizeof *b->word_pos, err);
    b->word_off = tk_malloc(t + 1, sizeof *b->word_off, err);
    if (!b->review_id || !b->label || !b->rating || !b->truncated || !b->doc_id || !b->tok_id ||
        !b->word_pos || !b->word_off)
        return TK_E_NOMEM;
    return TK_OK;
}

/* The ids of each selected review pos[0 .. cnt) into n_ids, from the
 * split's /offset alone: one read of the span they lie in, or one per
 * review when the span is much wider (a sparse select). span: room for
 * LAYOUT_BLOCK + LENGTH_SLACK lengths. */
enum { LENGTH_SLACK = 4096 };
static tk_status selected_lengths(tk_docs_reader *rd, const int64_t *pos, int64_t cnt, int64_t *n_ids,
                                  int64_t *span, tk_error *err)
{
    int64_t a = pos[0], b = pos[0];
    for (int64_t i = 1; i < cnt; i++) {
        a = pos[i] < a ? pos[i] : a;
        b = pos[i] > b ? pos[i] : b;
    }
    tk_status st = TK_OK;
    if (b - a + 1 <= cnt + LENGTH_SLACK) {
        if ((st = tk_docs_read_lengths(rd, a, b - a + 1, span, err)) == TK_OK)
            for (int64_t i = 0; i < cnt; i++)
                n_ids[i] = span[pos[i] - a];
        return st;
    }
    for (int64_t i = 0; i < cnt && st == TK_OK; i++)
        st = tk_docs_read_lengths(rd, pos[i], 1, n_ids + i, err);
    return st;
}

/* Pass 1 of the layout, before the file exists: each selected review's
 * tokens (p->tok_off), read block by block, and the ids each work unit of
 * cs reviews reads (unit_ids, for the hand-out windows). When every id
 * survives the vocabulary (tk_input_keeps_every_id) the tokens follow from
 * the ids' count, read from the split's /offset alone (200 kB for the 25k
 * IMDB test reviews instead of their 10 MB of ids: this pass is serial);
 * else each review's ids are read and run through the input's rules. Pass 2
 * checks every review's count against its tokens. */
static tk_status layout_count(tk_plan *p, tk_docs_reader *rd, int64_t cs, int64_t *unit_ids,
                              tk_error *err)
{
    bool lengths = tk_input_keeps_every_id(&p->spec);
    size_t s = (size_t)p->steps;
    int32_t *row = lengths ? NULL : tk_malloc(s, sizeof *row, err); /* (steps) one model input */
    int64_t *n_ids = lengths ? tk_malloc(LAYOUT_BLOCK, sizeof *n_ids, err) : NULL;
    int64_t *span = lengths ? tk_malloc(LAYOUT_BLOCK + LENGTH_SLACK, sizeof *span, err) : NULL;
    tk_unit_docs u = {0};
    tk_status st = (lengths ? n_ids && span : row != NULL) ? TK_OK : TK_E_NOMEM;
    p->tok_off[0] = 0;
    for (int64_t r0 = 0; r0 < p->n && st == TK_OK; r0 += LAYOUT_BLOCK) {
        int64_t cnt = p->n - r0 < LAYOUT_BLOCK ? p->n - r0 : LAYOUT_BLOCK;
        if (lengths)
            st = selected_lengths(rd, p->index + r0, cnt, n_ids, span, err);
        else
            st = tk_unit_docs_read(rd, p->index + r0, cnt, false, &u, err);
        for (int64_t i = 0; i < cnt && st == TK_OK; i++) {
            int64_t n_words = 0;
            int ntok;
            if (lengths) {
                n_words = n_ids[i];
                ntok = tk_input_length(&p->spec, n_words);
            } else {
                const int32_t *words = tk_unit_docs_ids(&u, i, &n_words);
                ntok = tk_prepare_input_ex(&p->spec, words, n_words, row, NULL, NULL);
            }
            p->tok_off[r0 + i + 1] = p->tok_off[r0 + i] + ntok;
            unit_ids[(r0 + i) / cs] += n_words;
        }
    }
    free(row);
    free(n_ids);
    free(span);
    tk_unit_docs_free(&u);
    return st;
}

/* Pass 2, the file's per-review and per-token rows, written block by block
 * while the work runs (tk_plan_layout_step). */
struct tk_plan_layout {
    tk_docs_reader *rd;
    int32_t *row, *wp;  /* (steps) one model input, its word positions (-2 padding) */
    tk_unit_docs u;
    layout_buf b;
    int64_t next;       /* the first review not yet written */
    int64_t bytes;      /* words so far, file-wide */
    char tmp[4300];     /* the file's name until its layout is complete */
    /* the inputs' SHA-256, hashed between blocks: dataset, then model */
    tk_sha256_file hash[2];
    int hashing;        /* the file being hashed, 2 when both are */
};

/* Bytes of the inputs hashed per step: 2 ms or so, like a step's reviews. */
enum { HASH_STEP = 1 << 19 };

static void layout_free(struct tk_plan_layout *L)
{
    if (!L)
        return;
    tk_sha256_file_close(&L->hash[0]);
    tk_sha256_file_close(&L->hash[1]);
    tk_docs_close(L->rd);
    free(L->row);
    free(L->wp);
    tk_unit_docs_free(&L->u);
    layout_buf_free(&L->b);
    free(L);
}

/* Reviews [r0, r0 + cnt) of the layout, cnt <= LAYOUT_WRITE_BLOCK. */
static tk_status layout_block(tk_plan *p, struct tk_plan_layout *L, int64_t r0, int64_t cnt,
                              tk_error *err)
{
    size_t s = (size_t)p->steps;
    layout_buf *b = &L->b;
    tk_status st = tk_unit_docs_read(L->rd, p->index + r0, cnt, true, &L->u, err);
    if (st != TK_OK)
        return st;
    const tk_split *sp = &L->u.span;
    int64_t bt = 0; /* tokens of the block so far */
    b->text_used = 0;
    for (int64_t i = 0; i < cnt && st == TK_OK; i++) {
        int64_t d = L->u.doc[i], n_words = 0, cut = 0;
        const int32_t *words = tk_unit_docs_ids(&L->u, i, &n_words);
        tk_prepare_input_ex(&p->spec, words, n_words, L->row, L->wp, &cut);
        int64_t ntok = 0;
        for (size_t j = 0; j < s && st == TK_OK; j++) {
            if (L->wp[j] == -2)
                continue; /* padding excluded */
            size_t len = 7, at = 0;
            const char *word = "<start>";
            if (L->wp[j] >= 0)
                word = split_word(p->ds, sp, sp->offset[d] + L->wp[j], &len);
            b->tok_id[bt + ntok] = L->row[j];
            b->word_pos[bt + ntok] = L->wp[j];
            b->word_off[bt + ntok] = L->bytes;
            st = buf_add(&b->text, &b->text_used, &b->text_cap, word, len, false, &at, err);
            L->bytes += (int64_t)len;
            ntok++;
        }
        if (st == TK_OK && ntok != p->tok_off[r0 + i + 1] - p->tok_off[r0 + i])
            st = tk_error_set(err, TK_E_INTERNAL, "review %lld: the layout's two passes disagree",
                              (long long)(r0 + i));
        b->review_id[i] = sp->review_id[d];
        b->label[i] = sp->label[d];
        b->rating[i] = sp->rating[d];
        b->truncated[i] = (int32_t)cut;
        b->doc_id[i] = sp->doc_id[d];
        bt += ntok;
    }
    if (st != TK_OK)
        return st;
    b->word_off[bt] = L->bytes;
    tk_writer_layout_block blk = {.first = r0,
                                  .count = cnt,
                                  .review_id = b->review_id,
                                  .label = b->label,
                                  .rating = b->rating,
                                  .truncated = b->truncated,
                                  .doc_id = b->doc_id,
                                  .token_id = b->tok_id,
                                  .word_pos = b->word_pos,
                                  .token_word_offset = b->word_off,
                                  .token_word_text = b->text ? b->text : ""};
    return tk_writer_put_layout(p->writer, &blk, err);
}

bool tk_plan_layout_pending(const tk_plan *p)
{
    return p->layout != NULL;
}

const char *tk_plan_file_path(const tk_plan *p)
{
    return p->layout ? p->layout->tmp : p->partial;
}

/* Up to `budget` more bytes of the inputs' digests; once both are known,
 * they go into the file. */
static tk_status hash_step(tk_plan *p, struct tk_plan_layout *L, size_t budget, tk_error *err)
{
    char *hex[2] = {p->dataset_sha, p->model_sha};
    tk_status st = TK_OK;
    while (L->hashing < 2 && budget > 0 && st == TK_OK) {
        bool done = false;
        st = tk_sha256_file_step(&L->hash[L->hashing], budget < HASH_STEP ? budget : HASH_STEP,
                                 &done, hex[L->hashing], err);
        budget = budget > HASH_STEP ? budget - HASH_STEP : 0;
        if (st != TK_OK || !done)
            continue;
        tk_sha256_file_close(&L->hash[L->hashing]);
        if (++L->hashing == 2)
            st = tk_writer_set_digests(p->writer, p->model_sha, p->dataset_sha, err);
    }
    return st;
}

tk_status tk_plan_layout_step(tk_plan *p, int64_t max, void (*poll)(void *ctx), void *ctx,
                              tk_error *err)
{
    struct tk_plan_layout *L = p->layout;
    if (!L)
        return TK_OK;
    if (max < 1)
        max = 1;
    int64_t end = p->n - L->next < max ? p->n : L->next + max;
    /* the digests complete before the last block, whose flush takes them
     * to the disk with it */
    tk_status st = hash_step(p, L, end == p->n ? SIZE_MAX : HASH_STEP, err);
    while (L->next < end && st == TK_OK) {
        if (poll)
            poll(ctx);
        int64_t cnt = end - L->next < LAYOUT_WRITE_BLOCK ? end - L->next : LAYOUT_WRITE_BLOCK;
        st = layout_block(p, L, L->next, cnt, err);
        L->next += cnt;
    }
    if (st != TK_OK || L->next < p->n)
        return st;
    /* complete, and flushed by its last block: the file takes the name
     * --resume looks for; a kill before this left only the temporary */
    if (rename(L->tmp, p->partial) != 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot rename to %s: %s", L->tmp, p->partial,
                            strerror(errno));
    layout_free(L);
    p->layout = NULL;
    return TK_OK;
}

void tk_plan_layout_discard(tk_plan *p)
{
    if (!p->layout)
        return;
    tk_writer_abandon(p->writer);
    p->writer = NULL;
    remove(p->layout->tmp);
    layout_free(p->layout);
    p->layout = NULL;
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

/* A unit's place in the hand-out order. */
typedef struct unit_key {
    int64_t window, tokens, chunk;
} unit_key;

/* (window ascending, tokens descending, chunk ascending): unique, so the
 * order is fully determined */
static int cmp_unit(const void *a, const void *b)
{
    const unit_key *x = a, *y = b;
    if (x->window != y->window)
        return x->window < y->window ? -1 : 1;
    if (x->tokens != y->tokens)
        return x->tokens > y->tokens ? -1 : 1;
    return (x->chunk > y->chunk) - (x->chunk < y->chunk);
}

/* Units are handed out in windows of consecutive units: the computing ranks
 * read their documents from the dataset file, and a window's documents must
 * fit the reader's chunk caches (16 MB of ids, data/dataset.c), or every
 * unit inflates its chunks again (it did: 8% of the IG CNN job, windows of
 * 1,024 units of 32 IMDB reviews being 30 MB of ids). A window closes at
 * ORDER_WINDOW units or ORDER_WINDOW_IDS ids (4 MB), whichever comes first. */
enum { ORDER_WINDOW = 1024, ORDER_WINDOW_IDS = 1 << 20 };

/* Work units: contiguous runs of chunk_size reviews (so a unit's writes
 * touch one or two HDF5 chunks), handed out window by window in file order
 * and, within a window, with the most tokens first so that the last units
 * are short. Units fully done (resume) are skipped. */
static tk_status plan_chunks(const tk_run_config *cfg, tk_plan *p, const int64_t *unit_ids,
                             tk_error *err)
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
    unit_key *keys = tk_malloc((size_t)(p->n_chunks > 0 ? p->n_chunks : 1), sizeof *keys, err);
    if (!keys) {
        free(toks);
        return TK_E_NOMEM;
    }
    int64_t window = 0, units = 0, ids = 0;
    for (int64_t k = 0; k < p->n_chunks; k++) {
        int64_t c = p->order[k];
        if (units > 0 && (units == ORDER_WINDOW || ids + unit_ids[c] > ORDER_WINDOW_IDS)) {
            window++;
            units = ids = 0;
        }
        units++;
        ids += unit_ids[c];
        keys[k] = (unit_key){.window = window, .tokens = toks[c], .chunk = c};
    }
    free(toks);
    qsort(keys, (size_t)p->n_chunks, sizeof *keys, cmp_unit);
    for (int64_t k = 0; k < p->n_chunks; k++)
        p->order[k] = keys[k].chunk;
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
    bool hash_later = fresh && !*complete;
    if ((st = tk_dataset_read_header(cfg->dataset_path, &p->ds, err)) != TK_OK ||
        (st = tk_model_load_with_architecture(cfg->model_path, cfg->architecture_path, &p->model,
                                               err)) != TK_OK ||
        /* a fresh file gets them while the work runs (tk_plan_layout_step);
         * a file to reopen is checked against them now */
        (!hash_later && (st = tk_sha256_file_hex(cfg->dataset_path, p->dataset_sha, err)) != TK_OK) ||
        (!hash_later && (st = tk_sha256_file_hex(cfg->model_path, p->model_sha, err)) != TK_OK))
        return st;
    const tk_split *sp = tk_dataset_split(p->ds, cfg->split, err);
    if (!sp) {
        tk_error_prefix(err, "%s: job key 'split'", cfg->dataset_path);
        return TK_E_INVALID;
    }
    model_records(cfg->model_path, p);
    if ((st = check_fit(cfg, p, err)) != TK_OK || (st = check_tokenizer(cfg, p, err)) != TK_OK ||
        (st = select_reviews(cfg, sp, p, err)) != TK_OK)
        return st;
    input_spec(cfg, p, &p->spec);
    tk_docs_reader *rd = NULL;
    int64_t cs = cfg->chunk_size;
    p->tok_off = tk_malloc((size_t)p->n + 1, sizeof *p->tok_off, err);
    p->done = tk_calloc((size_t)p->n, 1, err);
    p->unit_ids = tk_calloc((size_t)((p->n + cs - 1) / cs + 1), sizeof *p->unit_ids, err);
    if (!p->tok_off || !p->done || !p->unit_ids)
        return TK_E_NOMEM;
    /* the layout reads the selection in its order: file order unless
     * select.ids lists reviews out of order */
    bool ascending = true;
    for (int64_t i = 1; i < p->n && ascending; i++)
        ascending = p->index[i] > p->index[i - 1];
    if ((st = tk_docs_open_ex(cfg->dataset_path, cfg->split, ascending, &rd, err)) != TK_OK ||
        (st = layout_count(p, rd, cs, p->unit_ids, err)) != TK_OK) {
        tk_docs_close(rd);
        return st;
    }
    class_names(p);

    tk_writer_layout layout = {.n = p->n,
                               .index = p->index,
                               .token_offset = p->tok_off,
                               .n_classes = p->n_classes,
                               .n_methods = cfg->n_methods,
                               .methods = cfg->methods,
                               .vocab_size = p->ds->vocab_size,
                               .vocab = p->ds->vocab,
                               .truncating_post = p->spec.truncating_post,
                               .n_class_names = p->n_class_names,
                               .class_names = (const char *const *)p->ds->class_names,
                               .pad_id = p->ds->convention.pad_id,
                               .start_id = p->ds->convention.start_id,
                               .oov_id = p->ds->convention.oov_id,
                               .faith = cfg->faith,
                               .streamed = true};
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
        tk_docs_close(rd);
        tk_writer *w = NULL;
        if ((st = tk_writer_open_resume(cfg->output_path, &layout, &meta, p->done, &w, err)) !=
            TK_OK)
            return st;
        tk_writer_abandon(w);
        p->n_done_before = p->n;
        return TK_OK;
    }
    if (fresh) {
        /* built under another name, renamed by tk_plan_layout_step once its
         * layout is on disk: a kill during creation never leaves a
         * .partial that cannot open */
        struct tk_plan_layout *L = tk_calloc(1, sizeof *L, err);
        if (!L) {
            tk_docs_close(rd);
            return TK_E_NOMEM;
        }
        L->rd = rd;
        p->layout = L;
        if ((st = tk_sha256_file_open(&L->hash[0], cfg->dataset_path, err)) != TK_OK ||
            (st = tk_sha256_file_open(&L->hash[1], cfg->model_path, err)) != TK_OK) {
            tk_plan_layout_discard(p);
            return st;
        }
        snprintf(L->tmp, sizeof L->tmp, "%s.new", p->partial);
        L->row = tk_malloc((size_t)p->steps, sizeof *L->row, err);
        L->wp = tk_malloc((size_t)p->steps, sizeof *L->wp, err);
        st = L->row && L->wp ? layout_buf_alloc(&L->b, p->steps, err) : TK_E_NOMEM;
        if (st == TK_OK)
            st = tk_writer_create(L->tmp, &layout, &meta, &p->writer, err);
        if (st != TK_OK) {
            tk_plan_layout_discard(p);
            return st;
        }
        if (p->n == 0 && (st = tk_plan_layout_step(p, 1, NULL, NULL, err)) != TK_OK) {
            tk_plan_layout_discard(p);
            return st;
        }
    } else {
        st = tk_writer_open_resume(p->partial, &layout, &meta, p->done, &p->writer, err);
        tk_docs_close(rd);
    }
    if (st != TK_OK)
        return st;
    for (int64_t i = 0; i < p->n; i++)
        p->n_done_before += p->done[i] != 0;
    st = plan_chunks(cfg, p, p->unit_ids, err);
    free(p->unit_ids);
    p->unit_ids = NULL;
    return st;
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
    tk_docs_reader *rd = NULL;
    tk_status st = tk_docs_open(cfg->dataset_path, "train", &rd, err);
    if (st != TK_OK)
        return st;
    if (mp->background_random) {
        used = tk_calloc((size_t)tr->n, 1, err);
        if (!used) {
            tk_docs_close(rd);
            return TK_E_NOMEM;
        }
    }
    for (int64_t k = 0; k < b && st == TK_OK; k++) {
        int64_t i = k;
        if (used) {
            do
                i = (int64_t)(tk_rng_u64(&state) % (uint64_t)tr->n);
            while (used[i]);
            used[i] = 1;
        }
        tk_split one;
        if ((st = tk_docs_read(rd, i, 1, false, &one, err)) != TK_OK)
            break;
        tk_prepare_input(&spec, one.ids, one.offset[1], ids + k * p->steps, NULL);
        tk_split_free(&one);
    }
    free(used);
    tk_docs_close(rd);
    return st;
}
