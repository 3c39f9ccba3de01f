/* tk_prepare_corpus (data/prepare.h): corpus reader -> tokenizer -> dataset
 * writer, one document at a time. Labels, splits, ids and their checks live
 * here; reading is data/corpus.h's, ids are data/text_tokenizer.h's. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepare.h"
#include "data/vocab.h"

/* More classes than this is a wrong --label-column far more often than a
 * real task. */
enum { MAX_CLASSES = 100000 };

typedef enum label_mode { LABELS_UNKNOWN, LABELS_INTEGER, LABELS_STRING, LABELS_FIXED } label_mode;

/* An IMDB review kept until the split can be put in canonical order. */
typedef struct held {
    int32_t label, id;
    int8_t rating;
    int64_t start, n; /* into the split's tokens */
} held;

typedef struct held_split {
    held *rows;
    int64_t n, cap;
    int32_t *ids, *words; /* (ntok): id and interned word of every token */
    int64_t ntok, tcap;
} held_split;

typedef struct job {
    const tk_prepare_corpus_options *opt;
    tk_tokenizer *tok;
    tk_id_convention conv;
    tk_encoded enc;
    tk_dataset_writer *w;
    tk_prepare_summary *sum;
    /* labels */
    label_mode mode;
    tk_vocab *classes;     /* string labels in order of first sight */
    int32_t max_label;     /* integer labels: the largest seen */
    /* ids given by the user: "split\0id" interned to find duplicates */
    tk_vocab *seen_ids;
    char *key;
    size_t key_cap;
    int64_t row;           /* documents read so far (the row number) */
    bool counting;         /* pass 1 of tokattr-imdb without a word index */
    int64_t counted;
    /* IMDB: held in memory for the canonical order */
    bool hold;
    tk_vocab *words;
    held_split held[2];
} job;

static tk_prepare_split_summary *split_summary(job *j, const char *name)
{
    tk_prepare_summary *s = j->sum;
    int listed = s->n_splits < TK_PREPARE_MAX_LISTED_SPLITS ? s->n_splits : TK_PREPARE_MAX_LISTED_SPLITS;
    for (int i = 0; i < listed; i++)
        if (strcmp(s->split[i].name, name) == 0)
            return &s->split[i];
    return NULL;
}

/* "0", "17": a label of integer mode (no sign, no leading zero). */
static bool canonical_int(const char *s, int32_t *value)
{
    if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
        return false;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v >= MAX_CLASSES)
            return false;
    }
    *value = (int32_t)v;
    return true;
}

/* The class index of a label as written; the mode is set by the first
 * label: all integers 0..C-1, or strings numbered in order of first sight. */
static tk_status class_of(job *j, const tk_corpus_doc *d, int32_t *out, tk_error *err)
{
    *out = -1;
    if (d->label == NULL)
        return TK_OK;
    if (j->mode == LABELS_FIXED) {
        /* IMDB: neg = 0, pos = 1, nothing else. */
        *out = strcmp(d->label, "neg") == 0 ? 0 : strcmp(d->label, "pos") == 0 ? 1 : -1;
        if (*out < 0)
            return tk_error_set(err, TK_E_FORMAT, "%s: label '%s' is not one of the classes neg, pos", d->where,
                                d->label);
        return TK_OK;
    }
    int32_t v;
    if (j->mode == LABELS_UNKNOWN)
        j->mode = canonical_int(d->label, &v) ? LABELS_INTEGER : LABELS_STRING;
    if (j->mode == LABELS_INTEGER) {
        if (!canonical_int(d->label, &v))
            return tk_error_set(err, TK_E_FORMAT,
                                "%s: label '%s' is not an integer 0..%d like the labels before it (labels are "
                                "either all integers, which are the class numbers, or all names)",
                                d->where, d->label, MAX_CLASSES - 1);
        if (v > j->max_label)
            j->max_label = v;
        *out = v;
        return TK_OK;
    }
    size_t len = strlen(d->label);
    if (len > UINT32_MAX)
        return tk_error_set(err, TK_E_FORMAT, "%s: label too long", d->where);
    tk_status st = tk_vocab_intern(j->classes, d->label, (uint32_t)len, out, err);
    if (st == TK_OK && tk_vocab_distinct(j->classes) > MAX_CLASSES)
        st = tk_error_set(err, TK_E_FORMAT, "%s: more than %d distinct labels (is the label column right?)",
                          d->where, MAX_CLASSES);
    return st;
}

static bool parse_int32(const char *s, int32_t *v)
{
    if (s == NULL || *s == '\0')
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || x < INT32_MIN || x > INT32_MAX || s[0] == '+' || s[0] == ' ')
        return false;
    *v = (int32_t)x;
    return true;
}

static tk_status check_unique_id(job *j, const tk_corpus_doc *d, tk_error *err)
{
    size_t ls = strlen(d->split), li = strlen(d->id), n = ls + 1 + li;
    if (n > UINT32_MAX)
        return tk_error_set(err, TK_E_FORMAT, "%s: id too long", d->where);
    if (n > j->key_cap) {
        char *k = realloc(j->key, n + 64);
        if (k == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", d->where);
        j->key = k;
        j->key_cap = n + 64;
    }
    memcpy(j->key, d->split, ls);
    j->key[ls] = '\0';
    memcpy(j->key + ls + 1, d->id, li);
    int32_t before = tk_vocab_distinct(j->seen_ids), index;
    tk_status st = tk_vocab_intern(j->seen_ids, j->key, (uint32_t)n, &index, err);
    if (st != TK_OK)
        return st;
    if (tk_vocab_distinct(j->seen_ids) == before)
        return tk_error_set(err, TK_E_FORMAT, "%s: duplicate id '%s' in split '%s' (an earlier row has it)",
                            d->where, d->id, d->split);
    return TK_OK;
}

/* Drops the words the tokenizer drops (id -1: not stored) and counts. */
static size_t keep_words(job *j, tk_prepare_split_summary *ss)
{
    tk_encoded *e = &j->enc;
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (e->ids[i] < 0) {
            if (ss)
                ss->dropped++;
            continue;
        }
        if (ss && e->ids[i] == j->conv.oov_id)
            ss->oov++;
        e->ids[k] = e->ids[i];
        e->word_start[k] = e->word_start[i];
        e->word_len[k] = e->word_len[i];
        k++;
    }
    return k;
}

static tk_status hold_doc(job *j, const tk_corpus_doc *d, int32_t label, size_t n, tk_error *err)
{
    held_split *h = &j->held[strcmp(d->split, "train") == 0 ? 0 : 1];
    if (h->n == h->cap) {
        int64_t cap = h->cap ? 2 * h->cap : 16384;
        held *r = realloc(h->rows, (size_t)cap * sizeof *r);
        if (r == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", j->opt->corpus.source);
        h->rows = r;
        h->cap = cap;
    }
    if (h->ntok + (int64_t)n > h->tcap) {
        int64_t cap = h->tcap ? h->tcap : 1 << 20;
        while (cap < h->ntok + (int64_t)n)
            cap *= 2;
        int32_t *a = realloc(h->ids, (size_t)cap * sizeof *a);
        if (a != NULL)
            h->ids = a;
        int32_t *b = realloc(h->words, (size_t)cap * sizeof *b);
        if (b != NULL)
            h->words = b;
        if (a == NULL || b == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", j->opt->corpus.source);
        h->tcap = cap;
    }
    int32_t id = 0;
    parse_int32(d->id, &id);
    h->rows[h->n++] = (held){label, id, (int8_t)d->rating, h->ntok, (int64_t)n};
    for (size_t i = 0; i < n; i++) {
        int32_t index;
        tk_status st = tk_vocab_intern(j->words, j->enc.buf + j->enc.word_start[i], j->enc.word_len[i], &index, err);
        if (st != TK_OK)
            return st;
        h->ids[h->ntok] = j->enc.ids[i];
        h->words[h->ntok++] = index;
    }
    return TK_OK;
}

static tk_status on_doc(void *ctx, const tk_corpus_doc *d, tk_error *err)
{
    job *j = ctx;
    tk_status st;
    if (j->counting) {
        if (strcmp(d->split, "train") != 0)
            return TK_OK;
        j->counted++;
        return tk_tokenizer_count(j->tok, d->text, d->len, err);
    }
    j->row++;
    if (!j->hold && (d->split[0] == '\0' || strchr(d->split, '/') != NULL || strcmp(d->split, "vocab") == 0 ||
                     strcmp(d->split, "classes") == 0 || strcmp(d->split, "splits") == 0 ||
                     strcmp(d->split, ".") == 0 || strlen(d->split) >= sizeof j->sum->split[0].name))
        return tk_error_set(err, TK_E_FORMAT,
                            "%s: split name '%s' cannot be used (empty, longer than 63 bytes, holds '/', or is "
                            "vocab, classes or splits)",
                            d->where, d->split);
    int32_t label;
    if ((st = class_of(j, d, &label, err)) != TK_OK)
        return st;
    if (j->opt->corpus.id_column != NULL && (st = check_unique_id(j, d, err)) != TK_OK)
        return st;
    if ((st = tk_tokenizer_encode(j->tok, d->text, d->len, &j->enc, err)) != TK_OK) {
        tk_error_prefix(err, "%s", d->where);
        return st;
    }
    tk_prepare_split_summary *ss = split_summary(j, d->split);
    if (ss == NULL && (j->hold ? j->sum->n_splits < 2 : tk_dataset_writer_count(j->w, d->split) == 0)) {
        if (j->sum->n_splits < TK_PREPARE_MAX_LISTED_SPLITS) {
            ss = &j->sum->split[j->sum->n_splits];
            snprintf(ss->name, sizeof ss->name, "%s", d->split);
        }
        j->sum->n_splits++;
    }
    size_t n = keep_words(j, ss);
    if (ss != NULL) {
        ss->docs++;
        ss->tokens += (int64_t)n;
        ss->labelled += label >= 0;
        if (label >= 0 && label < 8)
            ss->per_class[label]++;
    }
    j->sum->docs++;
    j->sum->bytes += (int64_t)d->len;
    if (j->hold)
        st = hold_doc(j, d, label, n, err);
    else {
        char rowid[24];
        snprintf(rowid, sizeof rowid, "%lld", (long long)j->row);
        int32_t review_id = (int32_t)(j->row <= INT32_MAX ? j->row : -1);
        if (d->id != NULL && !parse_int32(d->id, &review_id))
            review_id = (int32_t)(j->row <= INT32_MAX ? j->row : -1);
        tk_dataset_doc doc = {.split = d->split, .label = label, .rating = (int8_t)d->rating,
                              .review_id = review_id, .doc_id = d->id ? d->id : rowid, .n = n,
                              .ids = j->enc.ids, .words = j->enc.buf, .word_start = j->enc.word_start,
                              .word_len = j->enc.word_len};
        st = tk_dataset_writer_add(j->w, &doc, err);
        if (st != TK_OK)
            tk_error_prefix(err, "%s", d->where);
    }
    if (st == TK_OK && j->opt->progress != NULL)
        j->opt->progress(j->opt->progress_ctx, j->sum->docs);
    return st;
}

static int cmp_held(const void *pa, const void *pb)
{
    const held *a = pa, *b = pb;
    if (a->label != b->label)
        return a->label < b->label ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* IMDB: each split in canonical order (neg by ascending id, then pos). */
static tk_status write_held(job *j, tk_error *err)
{
    static const char *const NAMES[2] = {"train", "test"};
    size_t cap = 0;
    size_t *start = NULL;
    uint32_t *len = NULL;
    char *text = NULL;
    size_t text_cap = 0;
    tk_status st = TK_OK;
    for (int s = 0; s < 2 && st == TK_OK; s++) {
        held_split *h = &j->held[s];
        qsort(h->rows, (size_t)h->n, sizeof *h->rows, cmp_held);
        for (int64_t i = 0; i < h->n && st == TK_OK; i++) {
            const held *r = &h->rows[i];
            if (i > 0 && cmp_held(&h->rows[i - 1], r) == 0)
                return tk_error_set(err, TK_E_FORMAT, "%s: review %s/%s/%d_*.txt appears twice",
                                    j->opt->corpus.source, NAMES[s], r->label ? "pos" : "neg", r->id);
            size_t bytes = 0;
            for (int64_t k = 0; k < r->n; k++) {
                uint32_t l;
                tk_vocab_text(j->words, h->words[r->start + k], &l);
                bytes += l;
            }
            if ((size_t)r->n > cap || bytes + 1 > text_cap) {
                size_t c = (size_t)r->n > 2 * cap ? (size_t)r->n : 2 * cap;
                size_t tc = bytes + 1 > 2 * text_cap ? bytes + 1 : 2 * text_cap;
                size_t *a = realloc(start, (c ? c : 1) * sizeof *a);
                if (a != NULL)
                    start = a;
                uint32_t *b = realloc(len, (c ? c : 1) * sizeof *b);
                if (b != NULL)
                    len = b;
                char *t = realloc(text, tc);
                if (t != NULL)
                    text = t;
                if (a == NULL || b == NULL || t == NULL) {
                    st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", j->opt->corpus.source);
                    break;
                }
                cap = c;
                text_cap = tc;
            }
            size_t at = 0;
            for (int64_t k = 0; k < r->n; k++) {
                uint32_t l;
                const char *w = tk_vocab_text(j->words, h->words[r->start + k], &l);
                memcpy(text + at, w, l);
                start[k] = at;
                len[k] = l;
                at += l;
            }
            char id[16];
            snprintf(id, sizeof id, "%d", r->id);
            tk_dataset_doc doc = {.split = NAMES[s], .label = r->label, .rating = r->rating, .review_id = r->id,
                                  .doc_id = id, .n = (size_t)r->n, .ids = h->ids + r->start, .words = text,
                                  .word_start = start, .word_len = len};
            st = tk_dataset_writer_add(j->w, &doc, err);
        }
    }
    free(start);
    free(len);
    free(text);
    return st;
}

/* tokattr-imdb on the IMDB archive: the in-memory path of DATA.md. */
static tk_status prepare_tokattr_imdb(const tk_prepare_corpus_options *opt, tk_prepare_summary *sum,
                                      tk_error *err)
{
    tk_prepare_options po = {.source = opt->corpus.source,
                             .word_index = opt->tokenizer.file[0] ? opt->tokenizer.file : NULL,
                             .progress = opt->progress, .progress_ctx = opt->progress_ctx};
    tk_prepare_stats stats;
    tk_dataset *ds = NULL;
    tk_status st = tk_prepare_dataset(&po, &ds, &stats, err);
    if (st == TK_OK && opt->export_word_index != NULL)
        st = tk_word_index_write(opt->export_word_index, ds->vocab, ds->vocab_size, err);
    if (st == TK_OK && (st = tk_dataset_write(ds, opt->out, opt->corpus.source, err)) != TK_OK &&
        opt->export_word_index != NULL)
        remove(opt->export_word_index);
    if (st == TK_OK) {
        sum->n_splits = 2;
        for (int s = 0; s < 2; s++) {
            tk_prepare_split_summary *ss = &sum->split[s];
            snprintf(ss->name, sizeof ss->name, "%s", ds->splits[s].name);
            ss->docs = ds->splits[s].n;
            ss->labelled = ss->docs;
            ss->per_class[0] = stats.reviews[s][0];
            ss->per_class[1] = stats.reviews[s][1];
            ss->tokens = stats.tokens[s];
            ss->oov = stats.oov_tokens[s];
            sum->docs += ss->docs;
        }
        sum->bytes = stats.text_bytes;
        sum->n_classes = 2;
        sum->vocab_size = ds->vocab_size;
        sum->tokenizer = ds->tokenizer;
    }
    tk_dataset_destroy(ds);
    return st;
}

tk_status tk_prepare_corpus(const tk_prepare_corpus_options *opt, tk_prepare_summary *sum, tk_error *err)
{
    memset(sum, 0, sizeof *sum);
    sum->format = opt->corpus.format;
    bool imdb = opt->corpus.format == TK_CORPUS_IMDB;
    if (imdb && opt->tokenizer.kind == TK_TOKENIZER_TOKATTR_IMDB)
        return prepare_tokattr_imdb(opt, sum, err);
    job j = {.opt = opt, .sum = sum, .mode = imdb ? LABELS_FIXED : LABELS_UNKNOWN, .max_label = -1,
             .hold = imdb};
    tk_encoded_init(&j.enc);
    char **vocab = NULL, **class_names = NULL;
    int64_t V = 0;
    int n_classes = 0;
    tk_status st = tk_tokenizer_create(&opt->tokenizer, opt->shared_dir, &j.tok, err);
    if (st == TK_OK)
        st = tk_vocab_create(&j.classes, err);
    if (st == TK_OK)
        st = tk_vocab_create(&j.seen_ids, err);
    if (st == TK_OK && imdb)
        st = tk_vocab_create(&j.words, err);
    if (st != TK_OK)
        goto done;
    j.conv = tk_tokenizer_convention(j.tok);
    /* tokattr-imdb without a word index ranks the train split's words first. */
    if (opt->tokenizer.kind == TK_TOKENIZER_TOKATTR_IMDB && opt->tokenizer.file[0] == '\0') {
        j.counting = true;
        if ((st = tk_corpus_read(&opt->corpus, on_doc, &j, err)) != TK_OK)
            goto done;
        if (j.counted == 0) {
            st = tk_error_set(err, TK_E_INVALID,
                              "%s: tokattr-imdb without a word index counts the words of the train split, and "
                              "there is none (give tokattr-imdb:WORD_INDEX.json, or a split named train)",
                              opt->corpus.source);
            goto done;
        }
        if ((st = tk_tokenizer_fit(j.tok, err)) != TK_OK)
            goto done;
        j.counting = false;
    }
    if ((st = tk_dataset_writer_create(opt->out, &j.w, err)) != TK_OK)
        goto done;
    if ((st = tk_corpus_read(&opt->corpus, on_doc, &j, err)) != TK_OK)
        goto done;
    if (sum->docs == 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: no documents", opt->corpus.source);
        goto done;
    }
    if (imdb && (st = write_held(&j, err)) != TK_OK)
        goto done;
    /* Classes: neg/pos, "0".."max", or the names in order of first sight. */
    if (j.mode == LABELS_FIXED)
        n_classes = 2;
    else if (j.mode == LABELS_INTEGER)
        n_classes = j.max_label + 1;
    else if (j.mode == LABELS_STRING)
        n_classes = tk_vocab_distinct(j.classes);
    if (n_classes > 0) {
        if ((class_names = tk_calloc((size_t)n_classes, sizeof *class_names, err)) == NULL) {
            st = TK_E_NOMEM;
            goto done;
        }
        for (int c = 0; c < n_classes && st == TK_OK; c++) {
            char num[16];
            uint32_t l;
            const char *name = j.mode == LABELS_FIXED ? (c ? "pos" : "neg")
                               : j.mode == LABELS_STRING ? tk_vocab_text(j.classes, c, &l)
                                                         : (snprintf(num, sizeof num, "%d", c), num);
            if ((class_names[c] = strdup(name)) == NULL)
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", opt->out);
        }
        if (st != TK_OK)
            goto done;
    }
    /* Every document labelled, or none: a label column empty on some rows
     * was refused by the reader; mixing the two in one corpus is refused here. */
    for (int s = 0; s < sum->n_splits && s < TK_PREPARE_MAX_LISTED_SPLITS; s++)
        if (sum->split[s].labelled != 0 && sum->split[s].labelled != sum->split[s].docs) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: split '%s' has %lld labelled and %lld unlabelled documents",
                              opt->corpus.source, sum->split[s].name, (long long)sum->split[s].labelled,
                              (long long)(sum->split[s].docs - sum->split[s].labelled));
            goto done;
        }
    V = tk_tokenizer_vocab_size(j.tok);
    if ((vocab = tk_calloc(V > 0 ? (size_t)V : 1, sizeof *vocab, err)) == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    for (int64_t r = 1; r <= V; r++) {
        const char *w = tk_tokenizer_word(j.tok, r);
        vocab[r - 1] = (char *)(w ? w : ""); /* borrowed, not freed */
    }
    tk_tokenizer_record_of(j.tok, &sum->tokenizer);
    sum->vocab_size = V;
    sum->n_classes = n_classes;
    if (opt->export_word_index != NULL &&
        (st = tk_word_index_write(opt->export_word_index, vocab, V, err)) != TK_OK)
        goto done;
    tk_dataset_meta meta = {.source = opt->corpus.source, .format = tk_corpus_format_name(opt->corpus.format),
                            .vocab_size = V, .vocab = vocab, .counts = NULL, .n_classes = n_classes,
                            .class_names = class_names, .tokenizer = &sum->tokenizer, .convention = j.conv};
    st = tk_dataset_writer_finish(j.w, &meta, err);
    j.w = NULL;
    if (st != TK_OK && opt->export_word_index != NULL)
        remove(opt->export_word_index);
done:
    tk_dataset_writer_abort(j.w);
    free(vocab);
    if (class_names != NULL)
        for (int c = 0; c < n_classes; c++)
            free(class_names[c]);
    free(class_names);
    for (int s = 0; s < 2; s++) {
        free(j.held[s].rows);
        free(j.held[s].ids);
        free(j.held[s].words);
    }
    free(j.key);
    tk_vocab_destroy(j.words);
    tk_vocab_destroy(j.seen_ids);
    tk_vocab_destroy(j.classes);
    tk_encoded_free(&j.enc);
    tk_tokenizer_destroy(j.tok);
    return st;
}
