#define _POSIX_C_SOURCE 200809L
#include "data/prepare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "data/imdb_reader.h"
#include "data/model_input.h"
#include "data/tokenizer.h"
#include "data/vocab.h"

typedef struct record {
    int32_t id;
    int8_t label;
    int8_t rating;
    int64_t start; /* into the split's words */
    int64_t n;
} record;

typedef struct split_acc {
    record *recs;    /* (n): reviews in reading order */
    int64_t n, cap;
    int32_t *words;  /* (nwords): dense vocabulary indices of every token */
    int64_t nwords, wcap;
} split_acc;

typedef struct builder {
    const tk_prepare_options *opt;
    tk_vocab *vocab;
    tk_tokens tokens;
    split_acc split[2];
    bool count;       /* counting the train split (no word index given) */
    int64_t done;
    int64_t bytes;
} builder;

static tk_status on_review(void *ctx, const tk_imdb_review *rev, tk_error *err)
{
    builder *b = ctx;
    split_acc *s = &b->split[rev->split];
    tk_status st = tk_tokenize(&b->tokens, rev->text, rev->len, err);
    if (st != TK_OK)
        return st;
    if (s->n == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 16384;
        record *r = realloc(s->recs, (size_t)cap * sizeof *r);
        if (r == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", b->opt->source);
        s->recs = r;
        s->cap = cap;
    }
    if (s->nwords + (int64_t)b->tokens.n > s->wcap) {
        int64_t cap = s->wcap ? s->wcap : 1 << 20;
        while (cap < s->nwords + (int64_t)b->tokens.n)
            cap *= 2;
        int32_t *w = realloc(s->words, (size_t)cap * sizeof *w);
        if (w == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", b->opt->source);
        s->words = w;
        s->wcap = cap;
    }
    s->recs[s->n++] = (record){rev->id, (int8_t)rev->label, (int8_t)rev->rating, s->nwords,
                               (int64_t)b->tokens.n};
    for (size_t i = 0; i < b->tokens.n; i++) {
        uint32_t len;
        const char *w = tk_token(&b->tokens, i, &len);
        int32_t index;
        if ((st = tk_vocab_intern(b->vocab, w, len, &index, err)) != TK_OK)
            return st;
        if (b->count && rev->split == TK_SPLIT_TRAIN)
            tk_vocab_count(b->vocab, index);
        s->words[s->nwords++] = index;
    }
    b->bytes += (int64_t)rev->len;
    b->done++;
    if (b->opt->progress != NULL)
        b->opt->progress(b->opt->progress_ctx, b->done);
    return TK_OK;
}

static int cmp_record(const void *pa, const void *pb)
{
    const record *a = pa, *b = pb;
    if (a->label != b->label)
        return a->label < b->label ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Canonical order, then ids: rank + 3, or 2 for a word without a rank; each
 * token's word kept as read. */
static tk_status build_split(const builder *b, int which, split_acc *acc, tk_split *out, int64_t *oov,
                             tk_error *err)
{
    static const char *const NAMES[2] = {"train", "test"};
    qsort(acc->recs, (size_t)acc->n, sizeof *acc->recs, cmp_record);
    for (int64_t i = 1; i < acc->n; i++)
        if (cmp_record(&acc->recs[i - 1], &acc->recs[i]) == 0)
            return tk_error_set(err, TK_E_FORMAT, "%s: review %s/%s/%d_*.txt appears twice", b->opt->source,
                                NAMES[which], acc->recs[i].label ? "pos" : "neg", acc->recs[i].id);
    int64_t bytes = 0;
    for (int64_t k = 0; k < acc->nwords; k++) {
        uint32_t len;
        tk_vocab_text(b->vocab, acc->words[k], &len);
        bytes += len;
    }
    size_t rows = acc->n ? (size_t)acc->n : 1;
    out->n = acc->n;
    out->name = strdup(NAMES[which]);
    out->offset = tk_malloc((size_t)acc->n + 1, sizeof *out->offset, err);
    out->ids = tk_malloc(acc->nwords ? (size_t)acc->nwords : 1, sizeof *out->ids, err);
    out->label = tk_malloc(rows, sizeof *out->label, err);
    out->rating = tk_malloc(rows, 1, err);
    out->review_id = tk_malloc(rows, sizeof *out->review_id, err);
    out->doc_id = tk_calloc(rows, sizeof *out->doc_id, err);
    out->word_offset = tk_malloc((size_t)acc->nwords + 1, sizeof *out->word_offset, err);
    out->word_text = tk_malloc(bytes ? (size_t)bytes : 1, 1, err);
    if (!out->name || !out->offset || !out->ids || !out->label || !out->rating || !out->review_id ||
        !out->doc_id || !out->word_offset || !out->word_text)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", b->opt->source);
    int64_t k = 0, at = 0;
    *oov = 0;
    out->word_offset[0] = 0;
    for (int64_t i = 0; i < acc->n; i++) {
        const record *r = &acc->recs[i];
        char id[16];
        snprintf(id, sizeof id, "%d", r->id);
        out->offset[i] = k;
        out->label[i] = r->label;
        out->rating[i] = r->rating;
        out->review_id[i] = r->id;
        if ((out->doc_id[i] = strdup(id)) == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", b->opt->source);
        for (int64_t j = 0; j < r->n; j++) {
            int32_t index = acc->words[r->start + j];
            int32_t rank = tk_vocab_rank(b->vocab, index);
            uint32_t len;
            const char *w = tk_vocab_text(b->vocab, index, &len);
            memcpy(out->word_text + at, w, len);
            at += len;
            out->ids[k++] = rank > 0 ? rank + TK_INDEX_FROM : TK_ID_OOV;
            out->word_offset[k] = at;
            *oov += rank == 0;
        }
    }
    out->offset[acc->n] = k;
    return TK_OK;
}

tk_status tk_prepare_dataset(const tk_prepare_options *opt, tk_dataset **out, tk_prepare_stats *stats,
                             tk_error *err)
{
    *out = NULL;
    memset(stats, 0, sizeof *stats);
    builder b = {.opt = opt, .count = opt->word_index == NULL};
    tk_tokens_init(&b.tokens);
    char *json = NULL;
    tk_dataset *ds = tk_calloc(1, sizeof *ds, err);
    tk_status st = ds ? TK_OK : TK_E_NOMEM;
    if (st == TK_OK && ((ds->splits = tk_calloc(2, sizeof *ds->splits, err)) == NULL ||
                        (ds->class_names = tk_calloc(2, sizeof *ds->class_names, err)) == NULL))
        st = TK_E_NOMEM;
    if (st == TK_OK) {
        ds->n_splits = 2;
        ds->n_classes = 2;
        ds->dataset_version = TK_DATASET_VERSION;
        snprintf(ds->format, sizeof ds->format, "imdb");
        ds->convention = tk_dataset_imdb_convention();
        if ((ds->class_names[0] = strdup("neg")) == NULL || (ds->class_names[1] = strdup("pos")) == NULL)
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", opt->source);
    }
    if (st == TK_OK)
        st = tk_vocab_create(&b.vocab, err);
    if (st != TK_OK)
        goto done;
    if (opt->word_index != NULL) {
        if ((st = tk_vocab_load_word_index(b.vocab, opt->word_index, err)) ||
            (st = tk_sha256_file_hex(opt->word_index, ds->word_index_sha256, err)))
            goto done;
    }
    if ((st = tk_imdb_read(opt->source, on_review, &b, err)) != TK_OK)
        goto done;
    if (b.count && (st = tk_vocab_rank_by_counts(b.vocab, err)) != TK_OK)
        goto done;
    if ((st = build_split(&b, 0, &b.split[0], &ds->splits[0], &stats->oov_tokens[0], err)) ||
        (st = build_split(&b, 1, &b.split[1], &ds->splits[1], &stats->oov_tokens[1], err)) ||
        (st = tk_vocab_export(b.vocab, &ds->vocab, &ds->counts, &ds->vocab_size, err)))
        goto done;
    if (opt->word_index == NULL) {
        /* The digest of the word index this vocabulary serializes to, so a
         * dataset can be matched with the word index a model was trained on. */
        size_t len;
        if ((st = tk_word_index_serialize(ds->vocab, ds->vocab_size, &json, &len, err)) != TK_OK)
            goto done;
        tk_sha256_buffer_hex(json, len, ds->word_index_sha256);
    }
    /* The tokenizer record of tokattr-imdb (text_tokenizer.h). */
    snprintf(ds->tokenizer.kind, sizeof ds->tokenizer.kind, "tokattr-imdb");
    snprintf(ds->tokenizer.params_json, sizeof ds->tokenizer.params_json,
             "{\"index_from\": 3, \"start_char\": 1, \"oov_char\": 2, \"word_index\": %s}",
             opt->word_index ? "\"file\"" : "\"counted on train\"");
    memcpy(ds->tokenizer.vocab_sha256, ds->word_index_sha256, sizeof ds->word_index_sha256);
    for (int s = 0; s < 2; s++) {
        const tk_split *sp = &ds->splits[s];
        for (int64_t i = 0; i < sp->n; i++)
            stats->reviews[s][sp->label[i]]++;
        stats->tokens[s] = sp->offset[sp->n];
    }
    stats->distinct_words = tk_vocab_distinct(b.vocab);
    stats->text_bytes = b.bytes;
done:
    free(json);
    for (int s = 0; s < 2; s++) {
        free(b.split[s].recs);
        free(b.split[s].words);
    }
    tk_tokens_free(&b.tokens);
    tk_vocab_destroy(b.vocab);
    if (st != TK_OK)
        tk_dataset_destroy(ds);
    else
        *out = ds;
    return st;
}
