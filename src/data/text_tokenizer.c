#define _POSIX_C_SOURCE 200809L
#include "data/text_tokenizer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/paths.h"
#include "core/sha256.h"
#include "data/keras_text.h"
#include "data/keras_tokenizer_json.h"
#include "data/tokenizer.h"
#include "data/vocab.h"

struct tk_tokenizer {
    tk_tokenizer_spec spec;
    char path[4096];          /* the vocabulary file read; "" when counted */
    tk_vocab *vocab;          /* word -> dense index */
    bool rank_is_dense;       /* text-vectorization: rank = dense index + 1 (file order) */
    char **by_rank;           /* (size): word of rank r at r - 1, "" for a rank not given */
    int64_t size;
    tk_id_convention conv;
    tk_lowercase lower;       /* the DATA.md kinds */
    tk_keras_tokenizer_config kt; /* keras-tokenizer */
    tk_keras_text_rules rules;
    bool ready;               /* the vocabulary is known: encode may run */
    char sha[65];
};

static const char *const KIND_NAMES[TK_TOKENIZER_KIND_COUNT] = {
    "keras-imdb", "tokattr-imdb", "keras-tokenizer", "text-vectorization", "word-index",
};

const char *tk_tokenizer_kind_name(tk_tokenizer_kind kind)
{
    return kind >= 0 && kind < TK_TOKENIZER_KIND_COUNT ? KIND_NAMES[kind] : "unknown";
}

const char *tk_tokenizer_spellings(void)
{
    return "keras-imdb[:FILE], tokattr-imdb[:FILE | :count], keras-tokenizer:FILE.json, "
           "text-vectorization[,standardize=none][,output_sequence_length=N]:VOCAB.txt, "
           "word-index[,index_from=N][,start_char=N][,oov_char=N]:FILE.json";
}

static bool parse_small_int(const char *s, size_t n, int32_t *out)
{
    char buf[16];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || *end != '\0' || v < 0 || v > 1000000)
        return false;
    *out = (int32_t)v;
    return true;
}

/* One "key=value" of the options between the kind and the file. */
static tk_status parse_option(const char *text, const char *opt, size_t n, tk_tokenizer_spec *spec,
                              tk_error *err)
{
    const char *eq = memchr(opt, '=', n);
    size_t klen = eq ? (size_t)(eq - opt) : n;
    const char *val = eq ? eq + 1 : opt + n;
    size_t vlen = eq ? n - klen - 1 : 0;
#define KEY_IS(k) (klen == strlen(k) && memcmp(opt, k, klen) == 0)
    bool ok = eq != NULL;
    if (spec->kind == TK_TOKENIZER_WORD_INDEX && KEY_IS("index_from"))
        ok = ok && parse_small_int(val, vlen, &spec->index_from);
    else if (spec->kind == TK_TOKENIZER_WORD_INDEX && KEY_IS("start_char"))
        ok = ok && parse_small_int(val, vlen, &spec->start_char);
    else if (spec->kind == TK_TOKENIZER_WORD_INDEX && KEY_IS("oov_char"))
        ok = ok && parse_small_int(val, vlen, &spec->oov_char);
    else if (spec->kind == TK_TOKENIZER_TEXT_VECTORIZATION && KEY_IS("output_sequence_length"))
        ok = ok && parse_small_int(val, vlen, &spec->sequence_length);
    else if (spec->kind == TK_TOKENIZER_TEXT_VECTORIZATION && KEY_IS("standardize")) {
        if (ok && vlen == 4 && memcmp(val, "none", 4) == 0)
            spec->strip_punctuation = false;
        else if (ok && vlen == 27 && memcmp(val, "lower_and_strip_punctuation", 27) == 0)
            spec->strip_punctuation = true;
        else
            ok = false;
    } else
        return tk_error_set(err, TK_E_INVALID,
                            "tokenizer '%s': option '%.*s' is not one of %s's (accepted: %s)",
                            text, (int)n, opt, tk_tokenizer_kind_name(spec->kind),
                            tk_tokenizer_spellings());
#undef KEY_IS
    if (!ok)
        return tk_error_set(err, TK_E_INVALID,
                            "tokenizer '%s': bad value in '%.*s' (integers 0..1000000; "
                            "standardize=none or lower_and_strip_punctuation)",
                            text, (int)n, opt);
    return TK_OK;
}

tk_status tk_tokenizer_spec_parse(const char *text, tk_tokenizer_spec *spec, tk_error *err)
{
    memset(spec, 0, sizeof *spec);
    spec->index_from = spec->start_char = spec->oov_char = -1;
    spec->strip_punctuation = true;
    const char *colon = strchr(text, ':');
    size_t head = colon ? (size_t)(colon - text) : strlen(text);
    const char *comma = memchr(text, ',', head);
    size_t name_len = comma ? (size_t)(comma - text) : head;
    int kind = -1;
    for (int k = 0; k < TK_TOKENIZER_KIND_COUNT; k++)
        if (strlen(KIND_NAMES[k]) == name_len && memcmp(text, KIND_NAMES[k], name_len) == 0)
            kind = k;
    if (kind < 0)
        return tk_error_set(err, TK_E_INVALID, "unknown tokenizer '%s' (accepted: %s)", text,
                            tk_tokenizer_spellings());
    spec->kind = (tk_tokenizer_kind)kind;
    for (const char *o = comma; o != NULL && o < text + head;) {
        const char *next = memchr(o + 1, ',', (size_t)(text + head - o - 1));
        const char *end = next ? next : text + head;
        tk_status st = parse_option(text, o + 1, (size_t)(end - o - 1), spec, err);
        if (st != TK_OK)
            return st;
        o = next;
    }
    const char *file = colon ? colon + 1 : NULL;
    if (file != NULL && file[0] == '\0')
        return tk_error_set(err, TK_E_INVALID, "tokenizer '%s': no file after ':' (accepted: %s)",
                            text, tk_tokenizer_spellings());
    bool needs_file = kind == TK_TOKENIZER_KERAS_TOKENIZER ||
                      kind == TK_TOKENIZER_TEXT_VECTORIZATION || kind == TK_TOKENIZER_WORD_INDEX;
    if (needs_file && file == NULL)
        return tk_error_set(err, TK_E_INVALID, "tokenizer '%s' needs a file: %s:FILE (accepted: %s)",
                            text, KIND_NAMES[kind], tk_tokenizer_spellings());
    if (kind == TK_TOKENIZER_TOKATTR_IMDB && file != NULL && strcmp(file, "count") == 0) {
        spec->count_vocab = true;
        return TK_OK;
    }
    if (file != NULL) {
        if (strlen(file) >= sizeof spec->file)
            return tk_error_set(err, TK_E_INVALID, "tokenizer '%.64s...': file name too long", text);
        memcpy(spec->file, file, strlen(file) + 1);
    }
    return TK_OK;
}

void tk_tokenizer_destroy(tk_tokenizer *t)
{
    if (t == NULL)
        return;
    if (t->by_rank != NULL)
        for (int64_t r = 0; r < t->size; r++)
            free(t->by_rank[r]);
    free(t->by_rank);
    tk_vocab_destroy(t->vocab);
    tk_keras_tokenizer_config_free(&t->kt);
    free(t);
}

/* by_rank from a vocabulary ranked by a word index or by counts. */
static tk_status export_ranks(tk_tokenizer *t, tk_error *err)
{
    int64_t *counts = NULL;
    tk_status st = tk_vocab_export(t->vocab, &t->by_rank, &counts, &t->size, err);
    free(counts);
    return st;
}

static bool valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t used =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (used <= 0)
            return false;
        i += (size_t)used;
    }
    return true;
}

/* text-vectorization: one token a line ("\n" ends a line, as Keras reads
 * it with readline() and rstrip("\n"); a final newline adds no line). */
static tk_status load_tv_vocab(tk_tokenizer *t, const char *text, size_t len, tk_error *err)
{
    const char *path = t->path;
    size_t n_lines = 0;
    for (size_t i = 0; i < len; i++)
        n_lines += text[i] == '\n';
    n_lines += len > 0 && text[len - 1] != '\n';
    if (n_lines == 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: the vocabulary file is empty", path);
    /* get_vocabulary() output starts with "" (padding) and [UNK]. */
    size_t first_end = strcspn(text, "\n");
    bool has_specials = first_end == 0 && len >= 6 && strncmp(text + 1, "[UNK]", 5) == 0 &&
                        (len == 6 || text[6] == '\n');
    t->by_rank = tk_calloc(n_lines, sizeof *t->by_rank, err);
    if (t->by_rank == NULL)
        return TK_E_NOMEM;
    size_t line_no = 0;
    for (size_t i = 0; i < len; line_no++) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *w = text + i;
        size_t n = end - i;
        i = end + 1;
        if (has_specials && line_no < 2)
            continue;
        if (!valid_utf8(w, n))
            return tk_error_set(err, TK_E_FORMAT, "%s:%zu: the token is not valid UTF-8", path,
                                line_no + 1);
        if (n == 0 || (n == 5 && memcmp(w, "[UNK]", 5) == 0))
            return tk_error_set(err, TK_E_FORMAT,
                                "%s:%zu: %s token inside the vocabulary (only a get_vocabulary() "
                                "file starts with the lines \"\" and [UNK])",
                                path, line_no + 1, n == 0 ? "an empty" : "the [UNK]");
        if (n >= UINT32_MAX)
            return tk_error_set(err, TK_E_FORMAT, "%s:%zu: token too long", path, line_no + 1);
        int32_t before = tk_vocab_distinct(t->vocab), index;
        tk_status st = tk_vocab_intern(t->vocab, w, (uint32_t)n, &index, err);
        if (st != TK_OK)
            return st;
        if (index < before)
            return tk_error_set(err, TK_E_FORMAT, "%s:%zu: token \"%.64s\" repeats line %zu", path,
                                line_no + 1, t->by_rank[index], (size_t)index + 1 + 2 * has_specials);
        t->by_rank[index] = tk_malloc(n + 1, 1, err);
        if (t->by_rank[index] == NULL)
            return TK_E_NOMEM;
        memcpy(t->by_rank[index], w, n);
        t->by_rank[index][n] = '\0';
        t->size = index + 1;
    }
    if (t->size == 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: the vocabulary holds no token", path);
    t->rank_is_dense = true;
    return TK_OK;
}

static tk_status load_keras_tokenizer(tk_tokenizer *t, const char *text, size_t len, tk_error *err)
{
    tk_status st = tk_keras_tokenizer_config_parse(t->path, text, len, &t->kt, err);
    if (st != TK_OK)
        return st;
    char what[4200];
    snprintf(what, sizeof what, "%s: config.word_index", t->path);
    st = tk_vocab_load_word_index_text(t->vocab, t->kt.word_index, t->kt.word_index_len, what, err);
    if (st != TK_OK)
        return st;
    t->rules = (tk_keras_text_rules){t->kt.lower, t->kt.char_level, t->kt.filter_cps,
                                     t->kt.n_filters, t->kt.split, strlen(t->kt.split)};
    /* texts_to_sequences: the OOV id is word_index[oov_token]; without
     * one (or when the index lacks it) unknown words are dropped. */
    t->conv.oov_id = -1;
    if (t->kt.oov_token != NULL) {
        int32_t i = tk_vocab_find(t->vocab, t->kt.oov_token, (uint32_t)strlen(t->kt.oov_token));
        if (i >= 0)
            t->conv.oov_id = tk_vocab_rank(t->vocab, i);
    }
    return export_ranks(t, err);
}

tk_status tk_tokenizer_create(const tk_tokenizer_spec *spec, const char *shared_dir,
                              tk_tokenizer **out, tk_error *err)
{
    *out = NULL;
    if (spec->kind < 0 || spec->kind >= TK_TOKENIZER_KIND_COUNT)
        return tk_error_set(err, TK_E_INVALID, "tokenizer: unknown kind %d", (int)spec->kind);
    tk_tokenizer *t = tk_calloc(1, sizeof *t, err);
    if (t == NULL)
        return TK_E_NOMEM;
    t->spec = *spec;
    char *text = NULL;
    size_t len = 0;
    tk_status st = tk_vocab_create(&t->vocab, err);
    if (st != TK_OK)
        goto fail;
    t->conv = (tk_id_convention){.pad_id = 0, .start_id = 1, .oov_id = 2, .index_from = 3};
    t->lower = TK_LOWER_UNICODE;
    const char *def = NULL;
    switch (spec->kind) {
    case TK_TOKENIZER_KERAS_IMDB:
        t->lower = TK_LOWER_ASCII;
        def = "models/keras_imdb_word_index.json";
        break;
    case TK_TOKENIZER_TOKATTR_IMDB:
        def = spec->count_vocab ? NULL : "models/imdb_word_index.json";
        break;
    case TK_TOKENIZER_WORD_INDEX:
        if (spec->index_from >= 0)
            t->conv.index_from = spec->index_from;
        if (spec->start_char >= 0)
            t->conv.start_id = spec->start_char;
        if (spec->oov_char >= 0)
            t->conv.oov_id = spec->oov_char;
        break;
    case TK_TOKENIZER_KERAS_TOKENIZER:
        t->conv = (tk_id_convention){.pad_id = 0, .start_id = -1, .oov_id = -1, .index_from = 0};
        break;
    case TK_TOKENIZER_TEXT_VECTORIZATION:
        t->conv = (tk_id_convention){.pad_id = 0, .start_id = -1, .oov_id = 1, .index_from = 1,
                                     .padding_post = true, .truncating_post = true};
        break;
    default:
        break;
    }
    if (spec->file[0] != '\0')
        snprintf(t->path, sizeof t->path, "%s", spec->file);
    else if (def != NULL && !tk_shared_path(t->path, sizeof t->path, shared_dir, def)) {
        st = tk_error_set(err, TK_E_INVALID, "tokenizer %s: the shared directory path is too long",
                          KIND_NAMES[spec->kind]);
        goto fail;
    }
    if (t->path[0] == '\0') {
        *out = t; /* tokattr-imdb:count: tk_tokenizer_count, then tk_tokenizer_fit */
        return TK_OK;
    }
    st = tk_read_file(t->path, &text, &len, err);
    if (st != TK_OK) {
        if (def != NULL && spec->file[0] == '\0')
            tk_error_prefix(err, "tokenizer %s: its default vocabulary (give --shared DIR or "
                            "%s:FILE)", KIND_NAMES[spec->kind], KIND_NAMES[spec->kind]);
        goto fail;
    }
    tk_sha256_buffer_hex(text, len, t->sha);
    if (spec->kind == TK_TOKENIZER_KERAS_TOKENIZER)
        st = load_keras_tokenizer(t, text, len, err);
    else if (spec->kind == TK_TOKENIZER_TEXT_VECTORIZATION)
        st = load_tv_vocab(t, text, len, err);
    else if ((st = tk_vocab_load_word_index_text(t->vocab, text, len, t->path, err)) == TK_OK)
        st = export_ranks(t, err);
    if (st != TK_OK)
        goto fail;
    if (t->size + t->conv.index_from > INT32_MAX) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: %lld words with index_from %d overflow 32-bit ids",
                          t->path, (long long)t->size, t->conv.index_from);
        goto fail;
    }
    free(text);
    t->ready = true;
    *out = t;
    return TK_OK;
fail:
    free(text);
    tk_tokenizer_destroy(t);
    return st;
}

tk_status tk_tokenizer_count(tk_tokenizer *t, const char *text, size_t len, tk_error *err)
{
    if (t->ready || !t->spec.count_vocab)
        return tk_error_set(err, TK_E_INVALID,
                            "tokenizer %s: counting words needs tokattr-imdb:count before "
                            "tk_tokenizer_fit", KIND_NAMES[t->spec.kind]);
    tk_tokens tok;
    tk_tokens_init(&tok);
    tk_status st = tk_tokenize_lower(&tok, text, len, t->lower, err);
    for (size_t i = 0; st == TK_OK && i < tok.n; i++) {
        int32_t index;
        st = tk_vocab_intern(t->vocab, tok.buf + tok.start[i], tok.len[i], &index, err);
        if (st == TK_OK)
            tk_vocab_count(t->vocab, index);
    }
    tk_tokens_free(&tok);
    return st;
}

tk_status tk_tokenizer_fit(tk_tokenizer *t, tk_error *err)
{
    if (t->ready || !t->spec.count_vocab)
        return tk_error_set(err, TK_E_INVALID, "tokenizer %s: nothing to fit (only tokattr-imdb:count "
                            "counts its vocabulary)", KIND_NAMES[t->spec.kind]);
    tk_status st = tk_vocab_rank_by_counts(t->vocab, err);
    if (st == TK_OK)
        st = export_ranks(t, err);
    char *json = NULL;
    size_t n = 0;
    if (st == TK_OK)
        st = tk_word_index_serialize(t->by_rank, t->size, &json, &n, err);
    if (st != TK_OK)
        return st;
    /* The digest of the counted index as imdb_word_index.json would hold
     * it: the same as the file's when the same train split was counted. */
    tk_sha256_buffer_hex(json, n, t->sha);
    free(json);
    t->ready = true;
    return TK_OK;
}

static int32_t word_id(const tk_tokenizer *t, const char *w, uint32_t n)
{
    int32_t i = tk_vocab_find(t->vocab, w, n);
    int32_t rank = i < 0 ? 0 : t->rank_is_dense ? i + 1 : tk_vocab_rank(t->vocab, i);
    return rank > 0 ? rank + t->conv.index_from : t->conv.oov_id;
}

/* tk_tokenize writes into e's own arrays (tk_tokens has the same layout
 * for the words), so no copy is made. */
static tk_status data_md_words(const tk_tokenizer *t, const char *text, size_t len, tk_encoded *e,
                               tk_error *err)
{
    tk_tokens tt = {.buf = e->buf, .buf_cap = e->buf_cap, .start = e->word_start,
                    .len = e->word_len, .n = 0, .cap = e->cap};
    tk_status st = tk_tokenize_lower(&tt, text, len, t->lower, err);
    e->buf = tt.buf;
    e->buf_cap = tt.buf_cap;
    e->word_start = tt.start;
    e->word_len = tt.len;
    e->n = 0;
    if (st != TK_OK)
        return st;
    if (tt.cap > e->cap) {
        int32_t *ids = realloc(e->ids, tt.cap * sizeof *ids);
        if (ids == NULL)
            return tk_error_set(err, TK_E_NOMEM, "tokenizer: out of memory");
        e->ids = ids;
        e->cap = tt.cap;
    }
    e->n = tt.n;
    return TK_OK;
}

tk_status tk_tokenizer_encode(const tk_tokenizer *t, const char *text, size_t len, tk_encoded *e,
                              tk_error *err)
{
    e->n = 0;
    if (!t->ready)
        return tk_error_set(err, TK_E_INVALID,
                            "tokenizer tokattr-imdb:count: the vocabulary is not counted yet "
                            "(it is counted on a train split while a dataset is prepared)");
    tk_status st;
    if (t->spec.kind == TK_TOKENIZER_KERAS_TOKENIZER)
        st = tk_keras_text_words(&t->rules, text, len, e, err);
    else if (t->spec.kind == TK_TOKENIZER_TEXT_VECTORIZATION)
        st = tk_text_vectorization_words(t->spec.strip_punctuation, text, len, e, err);
    else
        st = data_md_words(t, text, len, e, err);
    if (st != TK_OK) {
        e->n = 0;
        return st;
    }
    for (size_t i = 0; i < e->n; i++)
        e->ids[i] = word_id(t, e->buf + e->word_start[i], e->word_len[i]);
    return TK_OK;
}

void tk_encoded_init(tk_encoded *e)
{
    memset(e, 0, sizeof *e);
}

void tk_encoded_free(tk_encoded *e)
{
    if (e == NULL)
        return;
    free(e->ids);
    free(e->word_start);
    free(e->word_len);
    free(e->buf);
    memset(e, 0, sizeof *e);
}

tk_tokenizer_kind tk_tokenizer_kind_of(const tk_tokenizer *t)
{
    return t->spec.kind;
}

tk_id_convention tk_tokenizer_convention(const tk_tokenizer *t)
{
    return t->conv;
}

int32_t tk_tokenizer_num_words(const tk_tokenizer *t)
{
    return t->spec.kind == TK_TOKENIZER_KERAS_TOKENIZER ? t->kt.num_words : 0;
}

int32_t tk_tokenizer_sequence_length(const tk_tokenizer *t)
{
    return t->spec.kind == TK_TOKENIZER_TEXT_VECTORIZATION ? t->spec.sequence_length : 0;
}

const char *tk_tokenizer_path(const tk_tokenizer *t)
{
    return t->path;
}

int64_t tk_tokenizer_vocab_size(const tk_tokenizer *t)
{
    return t->size;
}

const char *tk_tokenizer_word(const tk_tokenizer *t, int64_t rank)
{
    return rank >= 1 && rank <= t->size && t->by_rank[rank - 1] ? t->by_rank[rank - 1] : "";
}

const char *tk_tokenizer_special(const tk_tokenizer *t, int32_t id)
{
    const tk_id_convention *c = &t->conv;
    if (t->spec.kind == TK_TOKENIZER_TEXT_VECTORIZATION)
        return id == 0 ? "<pad>" : id == 1 ? "[UNK]" : NULL;
    if (t->spec.kind == TK_TOKENIZER_KERAS_TOKENIZER) {
        if (id == 0)
            return "<pad>";
        /* The OOV token is a word of the index: shown as Keras shows it. */
        return id == c->oov_id && t->kt.oov_token != NULL ? t->kt.oov_token : NULL;
    }
    if (id == c->pad_id)
        return "<pad>";
    if (id == c->start_id)
        return "<start>";
    if (id == c->oov_id)
        return "<oov>";
    if (id >= 0 && id <= c->index_from)
        return "<unused>";
    return NULL;
}

static void add_int(cJSON *o, const char *key, int64_t v)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateNumber((double)v));
}

void tk_tokenizer_record_of(const tk_tokenizer *t, tk_tokenizer_record *rec)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->kind, sizeof rec->kind, "%s", KIND_NAMES[t->spec.kind]);
    snprintf(rec->vocab_sha256, sizeof rec->vocab_sha256, "%s", t->sha);
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return;
    const tk_id_convention *c = &t->conv;
    switch (t->spec.kind) {
    case TK_TOKENIZER_KERAS_TOKENIZER:
        if (t->kt.num_words > 0)
            add_int(o, "num_words", t->kt.num_words);
        else
            cJSON_AddNullToObject(o, "num_words");
        cJSON_AddStringToObject(o, "filters", t->kt.filters);
        cJSON_AddBoolToObject(o, "lower", t->kt.lower);
        cJSON_AddStringToObject(o, "split", t->kt.split);
        cJSON_AddBoolToObject(o, "char_level", t->kt.char_level);
        if (t->kt.oov_token != NULL)
            cJSON_AddStringToObject(o, "oov_token", t->kt.oov_token);
        else
            cJSON_AddNullToObject(o, "oov_token");
        add_int(o, "oov_id", c->oov_id);
        break;
    case TK_TOKENIZER_TEXT_VECTORIZATION:
        cJSON_AddStringToObject(o, "standardize", t->spec.strip_punctuation
                                                      ? "lower_and_strip_punctuation" : "none");
        cJSON_AddStringToObject(o, "split", "whitespace");
        add_int(o, "output_sequence_length", t->spec.sequence_length);
        break;
    default:
        add_int(o, "index_from", c->index_from);
        add_int(o, "start_char", c->start_id);
        add_int(o, "oov_char", c->oov_id);
        cJSON_AddStringToObject(o, "lower", t->lower == TK_LOWER_ASCII ? "ascii" : "unicode");
        if (t->spec.kind == TK_TOKENIZER_TOKATTR_IMDB)
            cJSON_AddStringToObject(o, "vocabulary", t->spec.count_vocab ? "counted" : "file");
        break;
    }
    add_int(o, "vocab_size", t->size);
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (json != NULL && strlen(json) < sizeof rec->params_json)
        memcpy(rec->params_json, json, strlen(json) + 1);
    else
        snprintf(rec->params_json, sizeof rec->params_json, "{}");
    free(json);
}
