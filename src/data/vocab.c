#define _POSIX_C_SOURCE 200809L
#include "data/vocab.h"

#include "core/paths.h"
#include "core/utf8.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t hash;
    size_t off;     /* word bytes at arena + off, NUL-terminated */
    uint32_t len;
    int32_t rank;   /* 0 = not in the vocabulary */
    int64_t count;  /* train occurrences */
} entry;

struct tk_vocab {
    char *arena;      /* (arena_cap): all words, each followed by NUL */
    size_t arena_len, arena_cap;
    entry *entries;   /* (n): dense index -> word */
    int32_t n, entries_cap;
    int32_t *slots;   /* (slot_mask + 1): open addressing, -1 = empty, else dense index */
    uint64_t slot_mask;
    int64_t size;     /* largest rank */
    int from_word_index;
};

/* FNV-1a, 64 bit: short keys, cheap, good enough spread for ~100k words. */
static uint64_t hash_bytes(const char *p, uint32_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

tk_status tk_vocab_create(tk_vocab **out, tk_error *err)
{
    *out = NULL;
    tk_vocab *v = tk_calloc(1, sizeof *v, err);
    if (v == NULL)
        return TK_E_NOMEM;
    v->slot_mask = (1u << 17) - 1;
    v->slots = tk_malloc(v->slot_mask + 1, sizeof *v->slots, err);
    if (v->slots == NULL) {
        free(v);
        return TK_E_NOMEM;
    }
    memset(v->slots, 0xff, (v->slot_mask + 1) * sizeof *v->slots);
    *out = v;
    return TK_OK;
}

void tk_vocab_destroy(tk_vocab *v)
{
    if (v == NULL)
        return;
    free(v->arena);
    free(v->entries);
    free(v->slots);
    free(v);
}

static tk_status grow_slots(tk_vocab *v, tk_error *err)
{
    uint64_t cap = 2 * (v->slot_mask + 1);
    int32_t *slots = tk_malloc(cap, sizeof *slots, err);
    if (slots == NULL)
        return TK_E_NOMEM;
    memset(slots, 0xff, cap * sizeof *slots);
    for (int32_t i = 0; i < v->n; i++) {
        uint64_t s = v->entries[i].hash & (cap - 1);
        while (slots[s] >= 0)
            s = (s + 1) & (cap - 1);
        slots[s] = i;
    }
    free(v->slots);
    v->slots = slots;
    v->slot_mask = cap - 1;
    return TK_OK;
}

tk_status tk_vocab_intern(tk_vocab *v, const char *w, uint32_t len, int32_t *index, tk_error *err)
{
    uint64_t h = hash_bytes(w, len);
    uint64_t s = h & v->slot_mask;
    for (int32_t i; (i = v->slots[s]) >= 0; s = (s + 1) & v->slot_mask) {
        const entry *e = &v->entries[i];
        if (e->hash == h && e->len == len && memcmp(v->arena + e->off, w, len) == 0) {
            *index = i;
            return TK_OK;
        }
    }
    if (v->n == INT32_MAX)
        return tk_error_set(err, TK_E_UNSUPPORTED, "vocabulary: more than %d distinct words", INT32_MAX);
    if (v->arena_len + len + 1 > v->arena_cap) {
        size_t cap = v->arena_cap ? 2 * v->arena_cap : (size_t)1 << 20;
        while (cap < v->arena_len + len + 1)
            cap *= 2;
        char *a = realloc(v->arena, cap);
        if (a == NULL)
            return tk_error_set(err, TK_E_NOMEM, "vocabulary: out of memory");
        v->arena = a;
        v->arena_cap = cap;
    }
    if (v->n == v->entries_cap) {
        int32_t cap = v->entries_cap ? (v->entries_cap > INT32_MAX / 2 ? INT32_MAX : 2 * v->entries_cap) : 65536;
        entry *e = realloc(v->entries, (size_t)cap * sizeof *e);
        if (e == NULL)
            return tk_error_set(err, TK_E_NOMEM, "vocabulary: out of memory");
        v->entries = e;
        v->entries_cap = cap;
    }
    entry *e = &v->entries[v->n];
    e->hash = h;
    e->off = v->arena_len;
    e->len = len;
    e->rank = 0;
    e->count = 0;
    memcpy(v->arena + v->arena_len, w, len);
    v->arena[v->arena_len + len] = '\0';
    v->arena_len += len + 1;
    v->slots[s] = v->n;
    *index = v->n++;
    /* Keep the load factor under 1/2 so probes stay short. */
    if ((uint64_t)v->n * 2 > v->slot_mask + 1)
        return grow_slots(v, err);
    return TK_OK;
}

int32_t tk_vocab_find(const tk_vocab *v, const char *w, uint32_t len)
{
    uint64_t h = hash_bytes(w, len);
    for (uint64_t s = h & v->slot_mask;; s = (s + 1) & v->slot_mask) {
        int32_t i = v->slots[s];
        if (i < 0)
            return -1;
        const entry *e = &v->entries[i];
        if (e->hash == h && e->len == len && memcmp(v->arena + e->off, w, len) == 0)
            return i;
    }
}

int32_t tk_vocab_distinct(const tk_vocab *v)
{
    return v->n;
}

void tk_vocab_count(tk_vocab *v, int32_t index)
{
    v->entries[index].count++;
}

int32_t tk_vocab_rank(const tk_vocab *v, int32_t index)
{
    return v->entries[index].rank;
}

int64_t tk_vocab_size(const tk_vocab *v)
{
    return v->size;
}

typedef struct rank_key {
    int64_t count;
    const char *word;
    uint32_t len;
    int32_t index;
} rank_key;

static int cmp_rank_key(const void *pa, const void *pb)
{
    const rank_key *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->word, b->word, n);
    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

tk_status tk_vocab_rank_by_counts(tk_vocab *v, tk_error *err)
{
    rank_key *keys = tk_malloc(v->n ? (size_t)v->n : 1, sizeof *keys, err);
    if (keys == NULL)
        return TK_E_NOMEM;
    int32_t m = 0;
    for (int32_t i = 0; i < v->n; i++) {
        v->entries[i].rank = 0;
        if (v->entries[i].count > 0)
            keys[m++] = (rank_key){v->entries[i].count, v->arena + v->entries[i].off,
                                   v->entries[i].len, i};
    }
    qsort(keys, (size_t)m, sizeof *keys, cmp_rank_key);
    for (int32_t r = 0; r < m; r++)
        v->entries[keys[r].index].rank = r + 1;
    v->size = m;
    v->from_word_index = 0;
    free(keys);
    return TK_OK;
}

tk_status tk_vocab_load_word_index(tk_vocab *v, const char *path, tk_error *err)
{
    char *text = NULL;
    size_t len = 0;
    tk_status st = tk_read_file(path, &text, &len, err);
    if (st != TK_OK)
        return st;
    st = tk_vocab_load_word_index_text(v, text, len, path, err);
    free(text);
    return st;
}

tk_status tk_vocab_load_word_index_text(tk_vocab *v, const char *text, size_t len, const char *path,
                                        tk_error *err)
{
    cJSON *root = NULL;
    tk_status st = TK_OK;
    if (len == 0) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: word index is empty", path);
        goto done;
    }
    root = cJSON_ParseWithLength(text, len);
    if (root == NULL) {
        const char *at = cJSON_GetErrorPtr();
        st = tk_error_set(err, TK_E_FORMAT, "%s: word index is not valid JSON (near byte %ld)", path,
                          at ? (long)(at - text) : -1L);
        goto done;
    }
    if (!cJSON_IsObject(root) || root->child == NULL) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: word index must be a non-empty JSON object {\"word\": rank}",
                          path);
        goto done;
    }
    int64_t max_rank = 0;
    for (const cJSON *it = root->child; it != NULL; it = it->next) {
        double r = it->valuedouble;
        if (!cJSON_IsNumber(it) || r < 1 || r > INT32_MAX - 3 || r != (double)(int32_t)r) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: word \"%.64s\" has rank that is not a positive integer",
                              path, it->string ? it->string : "");
            goto done;
        }
        if (it->string == NULL || it->string[0] == '\0') {
            st = tk_error_set(err, TK_E_FORMAT, "%s: word index holds an empty word", path);
            goto done;
        }
        if (!tk_utf8_valid(it->string, strlen(it->string))) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: word \"%.64s\" is not valid UTF-8 (JSON text must be)",
                              path, it->string);
            goto done;
        }
        int32_t index;
        st = tk_vocab_intern(v, it->string, (uint32_t)strlen(it->string), &index, err);
        if (st != TK_OK)
            goto done;
        if (v->entries[index].rank != 0) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: word \"%.64s\" appears twice", path, it->string);
            goto done;
        }
        /* Ranks run 1..number of words; the table below is as long as the
         * largest one, so it must stay within what the text can hold. */
        if (r > (double)len) {
            st = tk_error_set(err, TK_E_FORMAT,
                              "%s: word \"%.64s\" has rank %.0f, more than a word index of %zu "
                              "bytes can hold (ranks must run from 1 to the number of words)",
                              path, it->string, r, len);
            goto done;
        }
        v->entries[index].rank = (int32_t)r;
        if (r > max_rank)
            max_rank = (int64_t)r;
    }
    /* Sizes come from the data: a rank far beyond the number of words would
     * make the vocabulary (and every table indexed by id) that large, filled
     * with empty words. Keras writes dense ranks 1..n. */
    int64_t n_words = cJSON_GetArraySize(root);
    if (max_rank > TK_WORD_INDEX_MAX_RANK(n_words)) {
        st = tk_error_set(err, TK_E_FORMAT,
                          "%s: largest rank %lld is far beyond the %lld words the index holds "
                          "(at most 2 * words + 1000 = %lld; Keras' ranks are 1..n)",
                          path, (long long)max_rank, (long long)n_words,
                          (long long)TK_WORD_INDEX_MAX_RANK(n_words));
        goto done;
    }
    /* Distinct ranks: two words sharing a rank would make ids ambiguous. */
    uint8_t *seen = tk_calloc((size_t)max_rank + 1, 1, err);
    if (seen == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    for (int32_t i = 0; i < v->n; i++) {
        int32_t r = v->entries[i].rank;
        if (r == 0)
            continue;
        if (seen[r]) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: rank %d is given to two words", path, r);
            free(seen);
            goto done;
        }
        seen[r] = 1;
    }
    free(seen);
    v->size = max_rank;
    v->from_word_index = 1;
done:
    cJSON_Delete(root);
    return st;
}

tk_status tk_vocab_export(const tk_vocab *v, char ***words_out, int64_t **counts_out, int64_t *size,
                          tk_error *err)
{
    *words_out = NULL;
    *counts_out = NULL;
    *size = 0;
    int64_t n = v->size;
    char **words = tk_calloc(n ? (size_t)n : 1, sizeof *words, err);
    int64_t *counts = tk_malloc(n ? (size_t)n : 1, sizeof *counts, err);
    if (words == NULL || counts == NULL)
        goto fail;
    for (int64_t r = 0; r < n; r++)
        counts[r] = -1;
    for (int32_t i = 0; i < v->n; i++) {
        const entry *e = &v->entries[i];
        if (e->rank == 0)
            continue;
        /* Stored and exported words are valid UTF-8 (core/utf8.h's rule);
         * the ids were computed from the bytes as read. */
        words[e->rank - 1] = tk_utf8_replace_invalid(v->arena + e->off, e->len, NULL, NULL);
        if (words[e->rank - 1] == NULL)
            goto fail;
        if (!v->from_word_index)
            counts[e->rank - 1] = e->count;
    }
    for (int64_t r = 0; r < n; r++)
        if (words[r] == NULL && (words[r] = strdup("")) == NULL)
            goto fail;
    *words_out = words;
    *counts_out = counts;
    *size = n;
    return TK_OK;
fail:
    if (words != NULL)
        for (int64_t r = 0; r < n; r++)
            free(words[r]);
    free(words);
    free(counts);
    return tk_error_set(err, TK_E_NOMEM, "vocabulary: out of memory exporting %lld words", (long long)n);
}

/* Python's json string escaping with ensure_ascii=False: '"', '\\' and the
 * C0 controls are escaped (\b \f \n \r \t by name, others as \u00xx),
 * everything else, UTF-8 included, is copied. cJSON's printer cannot give
 * Python's ", " / ": " layout, and the SHA-256 of the bytes is compared. */
static size_t escape_json(const char *w, char *out)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
        const char *named = NULL;
        switch (*p) {
        case '"': named = "\\\""; break;
        case '\\': named = "\\\\"; break;
        case '\b': named = "\\b"; break;
        case '\f': named = "\\f"; break;
        case '\n': named = "\\n"; break;
        case '\r': named = "\\r"; break;
        case '\t': named = "\\t"; break;
        default: break;
        }
        if (named != NULL) {
            out[o++] = named[0];
            out[o++] = named[1];
        } else if (*p < 0x20) {
            o += (size_t)sprintf(out + o, "\\u%04x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    return o;
}

tk_status tk_word_index_serialize(char *const *words, int64_t n, char **json, size_t *len, tk_error *err)
{
    *json = NULL;
    *len = 0;
    size_t cap = 3;
    for (int64_t r = 0; r < n; r++)
        cap += 6 * strlen(words[r]) + 2 + 2 + 12 + 2; /* worst-case escapes, quotes, ": ", rank, ", " */
    char *buf = tk_malloc(cap, 1, err);
    if (buf == NULL)
        return TK_E_NOMEM;
    size_t o = 0;
    buf[o++] = '{';
    for (int64_t r = 0; r < n; r++) {
        if (words[r][0] == '\0')
            continue; /* a rank a loaded word index skipped */
        if (o > 1) {
            buf[o++] = ',';
            buf[o++] = ' ';
        }
        buf[o++] = '"';
        /* We say UTF-8: a word with invalid bytes is written by core/utf8.h's
         * rule (it takes at most 3x its bytes, within the 6x budget above). */
        if (!tk_utf8_valid(words[r], strlen(words[r]))) {
            char *clean = tk_utf8_replace_invalid(words[r], strlen(words[r]), NULL, err);
            if (clean == NULL) {
                free(buf);
                return TK_E_NOMEM;
            }
            o += escape_json(clean, buf + o);
            free(clean);
        } else {
            o += escape_json(words[r], buf + o);
        }
        o += (size_t)sprintf(buf + o, "\": %lld", (long long)(r + 1));
    }
    buf[o++] = '}';
    buf[o] = '\0';
    *json = buf;
    *len = o;
    return TK_OK;
}

tk_status tk_word_index_write(const char *path, char *const *words, int64_t n, tk_error *err)
{
    char *json = NULL;
    size_t len = 0;
    tk_status st = tk_word_index_serialize(words, n, &json, &len, err);
    if (st != TK_OK)
        return st;
    size_t plen = strlen(path);
    char *tmp = tk_malloc(plen + 5, 1, err);
    if (tmp == NULL) {
        free(json);
        return TK_E_NOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    size_t wrote = fwrite(json, 1, len, f);
    int failed = ferror(f) || wrote != len;
    if (fclose(f) != 0 || failed) {
        st = tk_error_set(err, TK_E_IO, "%s: write error", tmp);
        remove(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        st = tk_error_set(err, TK_E_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
    }
done:
    free(tmp);
    free(json);
    return st;
}

const char *tk_vocab_text(const tk_vocab *v, int32_t index, uint32_t *len)
{
    *len = v->entries[index].len;
    return v->arena + v->entries[index].off;
}
