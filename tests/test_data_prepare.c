/* data: the whole prepare step against ../shared (the word index and every
 * figure of fixtures/data_digest.json), the HDF5 round trip, the reader's
 * rules on a small hand-made aclImdb/ directory, and bad input. The shared
 * archive is prepared once for the whole program. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "data/dataset.h"
#include "data/imdb_reader.h"
#include "data/model_input.h"
#include "data/prepare.h"
#include "data/vocab.h"
#include "support/testutil.h"

static tk_dataset *g_ds;       /* the shared archive, prepared once */
static tk_prepare_stats g_stats;
static cJSON *g_digest;        /* fixtures/data_digest.json */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static const char *digest_str(const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(g_digest, key);
    return cJSON_IsString(v) ? v->valuestring : "(missing)";
}

static double digest_num(const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(g_digest, a);
    if (b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void hash_hex(const void *p, size_t n, char hex[65])
{
    tk_sha256_buffer_hex(p, n, hex);
}

static void test_counts_match_digest(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_ds);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_digest);
    CU_ASSERT_EQUAL(g_ds->splits[0].n, digest_num("reviews", "train"));
    CU_ASSERT_EQUAL(g_ds->splits[1].n, digest_num("reviews", "test"));
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(g_digest, "reviews_per_label");
    for (int s = 0; s < 2; s++)
        for (int l = 0; l < 2; l++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(per, s ? "test" : "train"), l ? "pos" : "neg");
            CU_ASSERT_EQUAL(g_stats.reviews[s][l], v ? v->valuedouble : -1);
        }
    CU_ASSERT_EQUAL(g_ds->vocab_size, digest_num("vocabulary_size", NULL));
    CU_ASSERT_EQUAL(g_ds->splits[0].offset[g_ds->splits[0].n], digest_num("tokens", "train"));
    CU_ASSERT_EQUAL(g_ds->splits[1].offset[g_ds->splits[1].n], digest_num("tokens", "test"));
    int64_t oov = 0;
    for (int64_t i = 0; i < g_ds->splits[1].offset[g_ds->splits[1].n]; i++)
        oov += g_ds->splits[1].ids[i] == TK_ID_OOV;
    CU_ASSERT_EQUAL(oov, digest_num("test_oov_tokens_unseen_in_train", NULL));
    CU_ASSERT_EQUAL(oov, g_stats.oov_tokens[1]);
    const cJSON *top = cJSON_GetObjectItemCaseSensitive(g_digest, "top20");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(top), 20);
    int r = 0;
    for (const cJSON *it = top ? top->child : NULL; it != NULL; it = it->next, r++) {
        CU_ASSERT_STRING_EQUAL(g_ds->vocab[r], cJSON_GetArrayItem(it, 0)->valuestring);
        CU_ASSERT_EQUAL(g_ds->counts[r], cJSON_GetArrayItem(it, 1)->valuedouble);
    }
}

static void test_hashes_match_digest(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_ds);
    char hex[65];
    /* int32 little-endian: this machine's layout (x86-64). */
    hash_hex(g_ds->splits[1].ids, (size_t)g_ds->splits[1].offset[g_ds->splits[1].n] * 4, hex);
    CU_ASSERT_STRING_EQUAL(hex, digest_str("sha256_test_ids"));
    hash_hex(g_ds->splits[0].ids, (size_t)g_ds->splits[0].offset[g_ds->splits[0].n] * 4, hex);
    CU_ASSERT_STRING_EQUAL(hex, digest_str("sha256_train_ids"));
    int32_t *len = malloc((size_t)g_ds->splits[1].n * sizeof *len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(len);
    for (int64_t i = 0; i < g_ds->splits[1].n; i++)
        len[i] = (int32_t)(g_ds->splits[1].offset[i + 1] - g_ds->splits[1].offset[i]);
    hash_hex(len, (size_t)g_ds->splits[1].n * 4, hex);
    CU_ASSERT_STRING_EQUAL(hex, digest_str("sha256_test_lengths"));
    free(len);
    CU_ASSERT_STRING_EQUAL(g_ds->word_index_sha256, digest_str("word_index_sha256"));
}

static void check_input_matrix(int num_words, int maxlen, const char *key)
{
    const tk_split *s = &g_ds->splits[1];
    int32_t *m = malloc((size_t)s->n * (size_t)maxlen * sizeof *m); /* (n, maxlen) row-major */
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    tk_input_spec spec;
    tk_input_spec_default(&spec, num_words, maxlen);
    for (int64_t i = 0; i < s->n; i++)
        tk_prepare_input(&spec, s->ids + s->offset[i], s->offset[i + 1] - s->offset[i], m + i * maxlen, NULL);
    char hex[65];
    hash_hex(m, (size_t)s->n * (size_t)maxlen * sizeof *m, hex);
    CU_ASSERT_STRING_EQUAL(hex, digest_str(key));
    free(m);
}

static void test_model_inputs_match_digest(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_ds);
    check_input_matrix(10000, 100, "sha256_test_input_cnn");
    check_input_matrix(20000, 80, "sha256_test_input_lstm");
}

static void test_vocabulary_is_the_shared_word_index(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_ds);
    size_t len = 0;
    char *text = slurp(tk_test_shared("models/imdb_word_index.json"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    cJSON *wi = cJSON_Parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wi);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(wi), g_ds->vocab_size);
    int64_t same = 0;
    for (const cJSON *it = wi->child; it != NULL; it = it->next) {
        int r = it->valueint;
        same += r >= 1 && r <= g_ds->vocab_size && strcmp(g_ds->vocab[r - 1], it->string) == 0;
    }
    CU_ASSERT_EQUAL(same, g_ds->vocab_size);
    /* And the exported word index is the same file, byte for byte. */
    char *json = NULL;
    size_t jlen = 0;
    CU_ASSERT_EQUAL(tk_word_index_serialize(g_ds->vocab, g_ds->vocab_size, &json, &jlen, NULL), TK_OK);
    CU_ASSERT_EQUAL(jlen, len);
    CU_ASSERT_TRUE(json != NULL && jlen == len && memcmp(json, text, len) == 0);
    free(json);
    cJSON_Delete(wi);
    free(text);
}

static void test_canonical_order(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_ds);
    for (int s = 0; s < 2; s++) {
        const tk_split *sp = s ? &g_ds->splits[1] : &g_ds->splits[0];
        int64_t bad = 0;
        for (int64_t i = 0; i < sp->n; i++) {
            bad += sp->label[i] == 0 ? sp->rating[i] < 1 || sp->rating[i] > 4 : sp->rating[i] < 7 || sp->rating[i] > 10;
            if (i > 0)
                bad += sp->label[i] < sp->label[i - 1] ||
                       (sp->label[i] == sp->label[i - 1] && sp->review_id[i] <= sp->review_id[i - 1]);
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
}

static void test_hdf5_round_trip(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_ds);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/round.h5", tk_test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_dataset_write(g_ds, path, "test", &err), TK_OK);
    CU_ASSERT_FALSE(access(tmp, F_OK) == 0);
    tk_dataset *back = NULL;
    CU_ASSERT_EQUAL_FATAL(tk_dataset_read(path, &back, &err), TK_OK);
    for (int s = 0; s < 2; s++) {
        const tk_split *a = s ? &g_ds->splits[1] : &g_ds->splits[0], *b = s ? &back->splits[1] : &back->splits[0];
        CU_ASSERT_EQUAL_FATAL(a->n, b->n);
        CU_ASSERT_EQUAL(memcmp(a->offset, b->offset, (size_t)(a->n + 1) * 8), 0);
        CU_ASSERT_EQUAL(memcmp(a->ids, b->ids, (size_t)a->offset[a->n] * 4), 0);
        CU_ASSERT_EQUAL(memcmp(a->label, b->label, (size_t)a->n * sizeof *a->label), 0);
        CU_ASSERT_EQUAL(memcmp(a->rating, b->rating, (size_t)a->n), 0);
        CU_ASSERT_EQUAL(memcmp(a->review_id, b->review_id, (size_t)a->n * 4), 0);
    }
    CU_ASSERT_EQUAL_FATAL(back->vocab_size, g_ds->vocab_size);
    int64_t diff = 0;
    for (int64_t r = 0; r < back->vocab_size; r++)
        diff += strcmp(back->vocab[r], g_ds->vocab[r]) != 0 || back->counts[r] != g_ds->counts[r];
    CU_ASSERT_EQUAL(diff, 0);
    CU_ASSERT_STRING_EQUAL(back->word_index_sha256, g_ds->word_index_sha256);
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(back, 0), "<pad>");
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(back, 2), "<oov>");
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(back, 4), "the");
    CU_ASSERT_STRING_EQUAL(tk_dataset_word(back, (int32_t)back->vocab_size + 4), "<oov>");
    CU_ASSERT_PTR_NOT_NULL(tk_dataset_split(back, "test", NULL));
    CU_ASSERT_PTR_NULL(tk_dataset_split(back, "dev", &err));
    tk_dataset_destroy(back);
    tk_dataset_destroy(NULL);
}


int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    size_t len;
    char *text = slurp(tk_test_shared("fixtures/data_digest.json"), &len);
    g_digest = text ? cJSON_Parse(text) : NULL;
    free(text);
    tk_prepare_options opt = {.source = tk_test_shared("data/aclImdb_v1.tar.gz")};
    tk_error err = {0};
    if (tk_prepare_dataset(&opt, &g_ds, &g_stats, &err) != TK_OK)
        fprintf(stderr, "prepare failed: %s\n", err.msg);
    static const tk_test_case cases[] = {
        {"reviews, vocabulary size, top20, tokens, OOV match the digest", test_counts_match_digest},
        {"SHA-256 of ids, lengths, word index match the digest", test_hashes_match_digest},
        {"padded CNN and LSTM input matrices match the digest", test_model_inputs_match_digest},
        {"vocabulary = ../shared/models/imdb_word_index.json, byte for byte", test_vocabulary_is_the_shared_word_index},
        {"canonical order: neg then pos, ascending ids", test_canonical_order},
        {"HDF5 write + read round trip", test_hdf5_round_trip},
        {NULL, NULL},
    };
    tk_test_add_suite("prepare shared archive", cases);
    int rc = tk_test_run_all();
    tk_dataset_destroy(g_ds);
    cJSON_Delete(g_digest);
    return rc;
}
