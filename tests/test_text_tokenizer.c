/* text_tokenizer: every kind's rules, case by case, with hand-worked
 * expectations (Keras' rules read from its source: text_to_word_sequence,
 * Tokenizer.texts_to_sequences, TextVectorization's
 * lower_and_strip_punctuation, imdb.load_data), and bad vocabulary files. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "core/sha256.h"
#include "data/model_input.h"
#include "data/text_tokenizer.h"
#include "support/testutil.h"

static const char *write_file(const char *name, const char *content, size_t len)
{
    static char paths[64][512];
    static int next;
    char *p = paths[next++ % 64];
    snprintf(p, 512, "%s/%s", tk_test_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(content, 1, len, f);
    fclose(f);
    return p;
}

#define WRITE(name, literal) write_file(name, literal, sizeof(literal) - 1)

/* The tokenizer "KIND[,opts]:" + path (path may be NULL), or NULL with
 * the message in err. */
static tk_tokenizer *make(const char *kind, const char *path, tk_error *err)
{
    char spec_text[1024];
    snprintf(spec_text, sizeof spec_text, "%s%s%s", kind, path ? ":" : "", path ? path : "");
    tk_tokenizer_spec spec;
    tk_error_clear(err);
    if (tk_tokenizer_spec_parse(spec_text, &spec, err) != TK_OK)
        return NULL;
    tk_tokenizer *t = NULL;
    if (tk_tokenizer_create(&spec, NULL, &t, err) != TK_OK)
        return NULL;
    return t;
}

static tk_tokenizer *make_ok(const char *kind, const char *path)
{
    tk_error err = {0};
    tk_tokenizer *t = make(kind, path, &err);
    if (t == NULL)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}

/* Encodes text and checks words (NULL-terminated) and ids. */
static void expect(const tk_tokenizer *t, const char *text, const char *const *words,
                   const int32_t *ids)
{
    tk_encoded e;
    tk_encoded_init(&e);
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_tokenizer_encode(t, text, strlen(text), &e, &err), TK_OK);
    size_t n = 0;
    while (words[n] != NULL)
        n++;
    CU_ASSERT_EQUAL(e.n, n);
    for (size_t i = 0; i < n && i < e.n; i++) {
        bool same = e.word_len[i] == strlen(words[i]) &&
                    memcmp(e.buf + e.word_start[i], words[i], e.word_len[i]) == 0;
        if (!same)
            fprintf(stderr, "\nword %zu: got '%.*s', want '%s'\n", i, (int)e.word_len[i],
                    e.buf + e.word_start[i], words[i]);
        CU_ASSERT_TRUE(same);
        if (e.ids[i] != ids[i])
            fprintf(stderr, "\nword %zu ('%s'): id %d, want %d\n", i, words[i], e.ids[i], ids[i]);
        CU_ASSERT_EQUAL(e.ids[i], ids[i]);
    }
    tk_encoded_free(&e);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})
#define I(...) ((const int32_t[]){__VA_ARGS__})

/* Model input of text under t's convention. */
static int input_of(const tk_tokenizer *t, const char *text, int num_words, int maxlen,
                    int32_t *out, int64_t *truncated)
{
    tk_encoded e;
    tk_encoded_init(&e);
    CU_ASSERT_EQUAL_FATAL(tk_tokenizer_encode(t, text, strlen(text), &e, NULL), TK_OK);
    tk_id_convention c = tk_tokenizer_convention(t);
    tk_input_spec spec;
    tk_input_spec_from_convention(&spec, &c, num_words, maxlen);
    int kept = tk_prepare_input_ex(&spec, e.ids, (int64_t)e.n, out, NULL, truncated);
    tk_encoded_free(&e);
    return kept;
}

/* Expects the bad file to be refused with a message holding both needles. */
static void expect_refused(const char *kind, const char *path, const char *needle)
{
    tk_error err = {0};
    tk_tokenizer *t = make(kind, path, &err);
    CU_ASSERT_PTR_NULL(t);
    tk_tokenizer_destroy(t);
    const char *base = path ? strrchr(path, '/') : NULL;
    bool names_file = base == NULL || strstr(err.msg, base + 1) != NULL;
    bool names_problem = strstr(err.msg, needle) != NULL;
    if (!names_file || !names_problem)
        fprintf(stderr, "\nmessage '%s' lacks '%s' or the file\n", err.msg, needle);
    CU_ASSERT_TRUE(names_file && names_problem);
}

static void test_spec_parse(void)
{
    tk_tokenizer_spec s;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_tokenizer_spec_parse("keras-imdb", &s, &err), TK_OK);
    CU_ASSERT_EQUAL(s.kind, TK_TOKENIZER_KERAS_IMDB);
    CU_ASSERT_STRING_EQUAL(s.file, "");
    CU_ASSERT_EQUAL(tk_tokenizer_spec_parse("tokattr-imdb:count", &s, &err), TK_OK);
    CU_ASSERT_TRUE(s.count_vocab);
    CU_ASSERT_STRING_EQUAL(s.file, "");
    CU_ASSERT_EQUAL(tk_tokenizer_spec_parse("tokattr-imdb:./count", &s, &err), TK_OK);
    CU_ASSERT_FALSE(s.count_vocab);
    CU_ASSERT_STRING_EQUAL(s.file, "./count");
    CU_ASSERT_EQUAL(tk_tokenizer_spec_parse("keras-tokenizer:a:b.json", &s, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(s.file, "a:b.json");
    CU_ASSERT_EQUAL(tk_tokenizer_spec_parse(
                        "text-vectorization,standardize=none,output_sequence_length=20:v.txt", &s,
                        &err),
                    TK_OK);
    CU_ASSERT_EQUAL(s.kind, TK_TOKENIZER_TEXT_VECTORIZATION);
    CU_ASSERT_FALSE(s.strip_punctuation);
    CU_ASSERT_EQUAL(s.sequence_length, 20);
    CU_ASSERT_EQUAL(tk_tokenizer_spec_parse("word-index,index_from=0,oov_char=5:w.json", &s, &err),
                    TK_OK);
    CU_ASSERT_EQUAL(s.index_from, 0);
    CU_ASSERT_EQUAL(s.start_char, -1);
    CU_ASSERT_EQUAL(s.oov_char, 5);
    const char *bad[] = {"keras", "keras-tokenizer", "word-index", "keras-imdb:",
                         "word-index,standardize=none:w.json", "text-vectorization,standardize=x:v",
                         "word-index,index_from=-1:w.json", "word-index,index_from:w.json", NULL};
    for (int i = 0; bad[i]; i++) {
        tk_error_clear(&err);
        CU_ASSERT_EQUAL(tk_tokenizer_spec_parse(bad[i], &s, &err), TK_E_INVALID);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i]));
    }
    for (int k = 0; k < TK_TOKENIZER_KIND_COUNT; k++)
        CU_ASSERT_PTR_NOT_NULL(strstr(tk_tokenizer_spellings(), tk_tokenizer_kind_name(k)));
}

/* The rank Keras' own imdb_word_index.json gives word (read with cJSON
 * here, not through the vocabulary code under test). */
static int keras_rank(const char *word)
{
    char *text = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(tk_read_file(tk_test_shared("models/keras_imdb_word_index.json"), &text,
                                       &len, NULL), TK_OK);
    cJSON *root = cJSON_ParseWithLength(text, len);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, word);
    int r = cJSON_IsNumber(it) ? it->valueint : 0;
    cJSON_Delete(root);
    free(text);
    return r;
}

static void test_keras_imdb_ascii_lowercase(void)
{
    tk_tokenizer *t = make_ok("keras-imdb", NULL);
    int the = keras_rank("the"), ae = keras_rank("Äänekoski"), br = keras_rank("br");
    CU_ASSERT_TRUE(the > 0 && ae > 0 && br > 0);
    CU_ASSERT_EQUAL(keras_rank("äänekoski"), 0);
    /* Only A-Z change: CAFÉ -> cafÉ (not in the index: 2), Äänekoski stays. */
    expect(t, "THE CAFÉ Äänekoski.<br />", W("the", "caf\xc3\x89", "Äänekoski", "br"),
           I(the + 3, 2, ae + 3, br + 3));
    tk_id_convention c = tk_tokenizer_convention(t);
    CU_ASSERT_EQUAL(c.pad_id, 0);
    CU_ASSERT_EQUAL(c.start_id, 1);
    CU_ASSERT_EQUAL(c.oov_id, 2);
    CU_ASSERT_EQUAL(c.index_from, 3);
    CU_ASSERT_FALSE(c.padding_post);
    CU_ASSERT_EQUAL(tk_tokenizer_vocab_size(t), 88584);
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_word(t, the), "the");
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_special(t, 1), "<start>");
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_special(t, 2), "<oov>");
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_special(t, 3), "<unused>");
    CU_ASSERT_PTR_NULL(tk_tokenizer_special(t, the + 3));
    /* imdb.load_data: [1] + ids, ids >= num_words -> 2, "pre" padding. */
    int32_t out[8];
    int64_t cut = -1;
    CU_ASSERT_EQUAL(input_of(t, "the Äänekoski", 10000, 4, out, &cut), 3);
    CU_ASSERT_TRUE(out[0] == 0 && out[1] == 1 && out[2] == the + 3 && out[3] == 2);
    CU_ASSERT_EQUAL(cut, 0);
    tk_tokenizer_record rec;
    tk_tokenizer_record_of(t, &rec);
    CU_ASSERT_STRING_EQUAL(rec.kind, "keras-imdb");
    CU_ASSERT_STRING_EQUAL(rec.vocab_sha256,
                           "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6");
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.params_json, "\"lower\":\"ascii\""));
    tk_tokenizer_destroy(t);
}

static void test_tokattr_imdb_unicode_and_counted(void)
{
    const char *wi = WRITE("wi.json", "{\"the\": 1, \"caf\xc3\xa9\": 2, \"\xc3\xa4\xc3\xa4nekoski\": 3}");
    tk_tokenizer *t = make_ok("tokattr-imdb", wi);
    expect(t, "THE CAFÉ Äänekoski, new", W("the", "caf\xc3\xa9", "\xc3\xa4\xc3\xa4nekoski", "new"),
           I(4, 5, 6, 2));
    tk_tokenizer_destroy(t);

    t = make_ok("tokattr-imdb", "count");
    tk_encoded e;
    tk_encoded_init(&e);
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_tokenizer_encode(t, "a", 1, &e, &err), TK_E_INVALID);
    const char *train[] = {"b a b", "c A b a", "d"};
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(tk_tokenizer_count(t, train[i], strlen(train[i]), &err), TK_OK);
    CU_ASSERT_EQUAL(tk_tokenizer_fit(t, &err), TK_OK);
    /* b 3, a 3 (tie: "a" < "b"), then c 1, d 1. */
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_word(t, 1), "a");
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_word(t, 2), "b");
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_word(t, 4), "d");
    expect(t, "d b zebra", W("d", "b", "zebra"), I(7, 5, 2));
    /* The digest of the counted index as imdb_word_index.json holds it. */
    const char json[] = "{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4}";
    char want[65];
    tk_sha256_buffer_hex(json, sizeof json - 1, want);
    tk_tokenizer_record rec;
    tk_tokenizer_record_of(t, &rec);
    CU_ASSERT_STRING_EQUAL(rec.vocab_sha256, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.params_json, "\"vocabulary\":\"counted\""));
    CU_ASSERT_EQUAL(tk_tokenizer_count(t, "x", 1, &err), TK_E_INVALID);
    tk_encoded_free(&e);
    tk_tokenizer_destroy(t);
}

static void test_word_index_options(void)
{
    const char *wi = WRITE("wi2.json", "{\"x\": 1, \"y\": 2}");
    tk_tokenizer *t = make_ok("word-index,index_from=0,start_char=9,oov_char=7", wi);
    expect(t, "Y x z", W("y", "x", "z"), I(2, 1, 7));
    int32_t out[4];
    CU_ASSERT_EQUAL(input_of(t, "y x", 0, 4, out, NULL), 3);
    CU_ASSERT_TRUE(out[0] == 0 && out[1] == 9 && out[2] == 2 && out[3] == 1);
    tk_tokenizer_destroy(t);
}

/* A Tokenizer.to_json() with these config values (word_index already a
 * JSON-encoded string literal). */
static const char *tokenizer_json(const char *name, const char *config)
{
    static char buf[4096];
    int n = snprintf(buf, sizeof buf, "{\"class_name\": \"Tokenizer\", \"config\": {%s}}", config);
    return write_file(name, buf, (size_t)n);
}

static void test_keras_tokenizer_oov_and_num_words(void)
{
    const char *p = tokenizer_json(
        "t_oov.json", "\"num_words\": 4, \"oov_token\": \"<OOV>\", \"word_counts\": \"{}\", "
                      "\"word_index\": \"{\\\"<OOV>\\\": 1, \\\"the\\\": 2, \\\"cat\\\": 3, "
                      "\\\"sat\\\": 4, \\\"mat\\\": 5}\"");
    tk_tokenizer *t = make_ok("keras-tokenizer", p);
    /* Unclipped ids; unknown words are the OOV token's index. */
    expect(t, "The cat SAT on the mat!", W("the", "cat", "sat", "on", "the", "mat"),
           I(2, 3, 4, 1, 2, 5));
    CU_ASSERT_EQUAL(tk_tokenizer_num_words(t), 4);
    tk_id_convention c = tk_tokenizer_convention(t);
    CU_ASSERT_EQUAL(c.start_id, -1);
    CU_ASSERT_EQUAL(c.oov_id, 1);
    CU_ASSERT_EQUAL(c.index_from, 0);
    /* texts_to_sequences with num_words 4: ids >= 4 become the OOV index;
     * no start marker; pad_sequences "pre". */
    int32_t out[8];
    CU_ASSERT_EQUAL(input_of(t, "The cat SAT on the mat!", 4, 8, out, NULL), 6);
    const int32_t want[8] = {0, 0, 2, 3, 1, 1, 2, 1};
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof want), 0);
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_special(t, 1), "<OOV>");
    CU_ASSERT_STRING_EQUAL(tk_tokenizer_word(t, 3), "cat");
    tk_tokenizer_record rec;
    tk_tokenizer_record_of(t, &rec);
    CU_ASSERT_STRING_EQUAL(rec.kind, "keras-tokenizer");
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.params_json, "\"num_words\":4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.params_json, "\"oov_token\":\"<OOV>\""));
    char sha[65];
    CU_ASSERT_EQUAL(tk_sha256_file_hex(p, sha, NULL), TK_OK);
    CU_ASSERT_STRING_EQUAL(rec.vocab_sha256, sha);
    tk_tokenizer_destroy(t);

    /* Without oov_token: unknown words and words >= num_words are dropped. */
    p = tokenizer_json("t_nooov.json", "\"num_words\": 3, \"oov_token\": null, \"word_index\": "
                                        "\"{\\\"the\\\": 1, \\\"cat\\\": 2, \\\"sat\\\": 3, "
                                        "\\\"mat\\\": 4}\"");
    t = make_ok("keras-tokenizer", p);
    expect(t, "The cat SAT on the mat!", W("the", "cat", "sat", "on", "the", "mat"),
           I(1, 2, 3, -1, 1, 4));
    int64_t cut = -1;
    CU_ASSERT_EQUAL(input_of(t, "The cat SAT on the mat!", 3, 5, out, &cut), 3);
    const int32_t want2[5] = {0, 0, 1, 2, 1};
    CU_ASSERT_EQUAL(memcmp(out, want2, sizeof want2), 0);
    CU_ASSERT_EQUAL(cut, 0);
    /* Truncation counts the kept words it cuts, not the dropped ones. */
    CU_ASSERT_EQUAL(input_of(t, "The cat SAT on the mat!", 3, 2, out, &cut), 2);
    CU_ASSERT_TRUE(out[0] == 2 && out[1] == 1);
    CU_ASSERT_EQUAL(cut, 1);
    tk_tokenizer_destroy(t);

    /* An oov_token the index does not hold: such words are dropped too. */
    p = tokenizer_json("t_lost.json", "\"oov_token\": \"<X>\", \"word_index\": {\"a\": 1}");
    t = make_ok("keras-tokenizer", p);
    expect(t, "a b", W("a", "b"), I(1, -1));
    tk_tokenizer_destroy(t);
}

static void test_keras_tokenizer_filters_lower_split(void)
{
    const char *p = tokenizer_json("t_f.json", "\"filters\": \"!\", \"lower\": false, "
                                               "\"word_index\": \"{\\\"The\\\": 1}\"");
    tk_tokenizer *t = make_ok("keras-tokenizer", p);
    expect(t, "The cat,sat!the", W("The", "cat,sat", "the"), I(1, -1, -1));
    tk_tokenizer_destroy(t);
    /* Every filter becomes the split string, then str.split(split). */
    p = tokenizer_json("t_s.json", "\"filters\": \",\", \"split\": \"|\", "
                                   "\"word_index\": \"{\\\"a\\\": 1, \\\"b c\\\": 2}\"");
    t = make_ok("keras-tokenizer", p);
    expect(t, "A,b c|C||", W("a", "b c", "c"), I(1, 2, -1));
    tk_tokenizer_destroy(t);
    p = tokenizer_json("t_m.json", "\"filters\": \"\", \"split\": \"--\", \"word_index\": {\"zz\": 1}");
    t = make_ok("keras-tokenizer", p);
    expect(t, "a--b---c----", W("a", "b", "-c"), I(-1, -1, -1));
    tk_tokenizer_destroy(t);
    /* The default filters: apostrophes stay, TAB and LF split. */
    p = tokenizer_json("t_d.json", "\"word_index\": \"{\\\"zz\\\": 1}\"");
    t = make_ok("keras-tokenizer", p);
    expect(t, "It's\tA\nB(c)", W("it's", "a", "b", "c"), I(-1, -1, -1, -1));
    /* Python's str.lower(): İ -> i + U+0307; a final capital sigma -> ς,
     * elsewhere σ; other letters as utf8proc. */
    expect(t, "\xc4\xb0stanbul \xce\xa3\xce\x91\xce\xa3. \xce\xa3 A\xce\xa3" "B \xc3\x89",
           W("i\xcc\x87stanbul", "\xcf\x83\xce\xb1\xcf\x82", "\xcf\x83", "a\xcf\x83" "b", "\xc3\xa9"),
           I(-1, -1, -1, -1, -1));
    tk_tokenizer_destroy(t);
}

static void test_keras_tokenizer_char_level(void)
{
    const char *p = tokenizer_json("t_c.json", "\"char_level\": true, \"oov_token\": \"?\", "
                                               "\"word_index\": \"{\\\"?\\\": 1, \\\"a\\\": 2, "
                                               "\\\" \\\": 3, \\\"\\\\u00e9\\\": 4}\"");
    tk_tokenizer *t = make_ok("keras-tokenizer", p);
    /* Every character, lowercased, spaces and punctuation included. */
    expect(t, "A \xc3\x89!", W("a", " ", "\xc3\xa9", "!"), I(2, 3, 4, 1));
    tk_tokenizer_destroy(t);
}

static void test_text_vectorization(void)
{
    const char *full = WRITE("tv_full.txt", "\n[UNK]\nthe\ncats\ncaf\xc3\x89\n");
    const char *plain = WRITE("tv_plain.txt", "the\ncats\ncaf\xc3\x89");
    for (int k = 0; k < 2; k++) {
        tk_tokenizer *t = make_ok("text-vectorization", k ? plain : full);
        /* ASCII-only lowercase (CAFÉ -> cafÉ), punctuation deleted, the
         * apostrophe included ("cat's" -> "cats"), split on ASCII spaces. */
        expect(t, "The CAT'S, CAFÉ!\tca-fé\x0bx.y\r\n", W("the", "cats", "caf\xc3\x89", "caf\xc3\xa9", "xy"),
               I(2, 3, 4, 1, 1));
        CU_ASSERT_EQUAL(tk_tokenizer_vocab_size(t), 3);
        CU_ASSERT_STRING_EQUAL(tk_tokenizer_word(t, 1), "the");
        CU_ASSERT_STRING_EQUAL(tk_tokenizer_special(t, 1), "[UNK]");
        tk_id_convention c = tk_tokenizer_convention(t);
        CU_ASSERT_TRUE(c.padding_post && c.truncating_post && c.start_id == -1 && c.oov_id == 1);
        /* output_sequence_length: padding and truncation at the end. */
        int32_t out[5];
        int64_t cut = -1;
        CU_ASSERT_EQUAL(input_of(t, "the cats dog", 0, 5, out, &cut), 3);
        const int32_t want[5] = {2, 3, 1, 0, 0};
        CU_ASSERT_EQUAL(memcmp(out, want, sizeof want), 0);
        CU_ASSERT_EQUAL(input_of(t, "the cats dog", 0, 2, out, &cut), 2);
        CU_ASSERT_TRUE(out[0] == 2 && out[1] == 3 && cut == 1);
        tk_tokenizer_destroy(t);
    }
    tk_tokenizer *t = make_ok("text-vectorization,standardize=none", full);
    expect(t, "The the cats. CAT'S", W("The", "the", "cats.", "CAT'S"), I(1, 2, 1, 1));
    tk_tokenizer_destroy(t);
}

static void test_bad_files(void)
{
    expect_refused("keras-tokenizer", "/nonexistent/tok.json", "cannot open");
    expect_refused("keras-tokenizer", WRITE("b1.json", "{\"class_name\": \"Tok"), "not valid JSON");
    expect_refused("keras-tokenizer", WRITE("b2.json", "{\"class_name\": \"TextVectorization\"}"),
                   "class_name must be \"Tokenizer\"");
    expect_refused("keras-tokenizer", tokenizer_json("b3.json", "\"word_index\": 12"),
                   "config.word_index must be a JSON-encoded string");
    expect_refused("keras-tokenizer", tokenizer_json("b3b.json", "\"lower\": 1, \"word_index\": {}"),
                   "config.lower must be true or false");
    expect_refused("keras-tokenizer", tokenizer_json("b4.json", "\"word_index\": \"{\\\"a\\\": 1, "
                                                                "\\\"b\\\": 1}\""),
                   "rank 1 is given to two words");
    expect_refused("keras-tokenizer", tokenizer_json("b5.json", "\"word_index\": \"{\\\"a\\\": 0}\""),
                   "not a positive integer");
    expect_refused("keras-tokenizer", tokenizer_json("b6.json", "\"word_index\": \"{\\\"a\\\": -3}\""),
                   "not a positive integer");
    expect_refused("keras-tokenizer", tokenizer_json("b7.json", "\"word_index\": \"{\\\"a\\\": "
                                                                "2147483644}\""),
                   "rank 2147483644");
    expect_refused("keras-tokenizer", tokenizer_json("b8.json", "\"split\": \"\", \"word_index\": {}"),
                   "config.split is empty");
    expect_refused("keras-tokenizer", tokenizer_json("b9.json", "\"word_index\": \"{\\\"a\\\": 1.5}\""),
                   "not a positive integer");
    expect_refused("keras-tokenizer", tokenizer_json("b10.json", "\"word_index\": \"[1, 2]\""),
                   "JSON object");
    expect_refused("word-index", WRITE("b11.json", "{\"a\": 1, \"b\": 2147483644}"), "rank 2147483644");
    expect_refused("word-index", WRITE("b12.json", ""), "empty");
    expect_refused("word-index", WRITE("b13.json", "{\"a\": 1, \"a\": 2}"), "appears twice");
    expect_refused("text-vectorization", WRITE("b14.txt", "the\nca\xff\n"), "b14.txt:2: the token is not valid UTF-8");
    expect_refused("text-vectorization", WRITE("b15.txt", "the\ncat\nthe\n"), "b15.txt:3: token \"the\" repeats line 1");
    expect_refused("text-vectorization", WRITE("b16.txt", "the\n[UNK]\n"), "b16.txt:2: the [UNK] token");
    expect_refused("text-vectorization", WRITE("b17.txt", "the\n\ncat\n"), "b17.txt:2: an empty token");
    expect_refused("text-vectorization", WRITE("b18.txt", ""), "empty");
    expect_refused("text-vectorization", WRITE("b19.txt", "\n[UNK]\n"), "no token");
}

static void test_model_input_conventions(void)
{
    /* Defaults: today's behaviour. */
    tk_input_spec s;
    tk_input_spec_default(&s, 10, 6);
    CU_ASSERT_TRUE(s.start_id == 1 && s.oov_id == 2 && s.pad_id == 0 && s.start_marker);
    const int32_t ids[5] = {5, 12, -1, 7, 9};
    int32_t out[6], pos[6];
    int64_t cut = -1;
    /* -1 is dropped; 12 >= 10 -> 2; [1, 5, 2, 7, 9] padded in front. */
    CU_ASSERT_EQUAL(tk_prepare_input_ex(&s, ids, 5, out, pos, &cut), 5);
    const int32_t want[6] = {0, 1, 5, 2, 7, 9}, want_pos[6] = {-2, -1, 0, 1, 3, 4};
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof want), 0);
    CU_ASSERT_EQUAL(memcmp(pos, want_pos, sizeof want_pos), 0);
    CU_ASSERT_EQUAL(cut, 0);
    /* oov_id -1 drops 12 too; "pre" truncation to 2 keeps [7, 9]: the start
     * marker and 5 are cut, one word. */
    s.oov_id = -1;
    s.maxlen = 2;
    CU_ASSERT_EQUAL(tk_prepare_input_ex(&s, ids, 5, out, pos, &cut), 2);
    CU_ASSERT_TRUE(out[0] == 7 && out[1] == 9 && pos[0] == 3 && pos[1] == 4);
    CU_ASSERT_EQUAL(cut, 1);
    /* Other start and pad ids, post. */
    s.start_id = 8;
    s.pad_id = 3;
    s.maxlen = 6;
    s.padding_post = true;
    CU_ASSERT_EQUAL(tk_prepare_input(&s, ids, 5, out, NULL), 4);
    const int32_t want2[6] = {8, 5, 7, 9, 3, 3};
    CU_ASSERT_EQUAL(memcmp(out, want2, sizeof want2), 0);
    tk_id_convention c = {.pad_id = 0, .start_id = -1, .oov_id = 1, .index_from = 1,
                          .padding_post = true, .truncating_post = true};
    tk_input_spec_from_convention(&s, &c, 0, 3);
    CU_ASSERT_TRUE(!s.start_marker && s.oov_id == 1 && s.padding_post && s.truncating_post);
    CU_ASSERT_EQUAL(tk_prepare_input_ex(&s, ids, 5, out, NULL, &cut), 3);
    CU_ASSERT_TRUE(out[0] == 5 && out[1] == 12 && out[2] == 7 && cut == 1);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"KIND[,options][:FILE] spellings", test_spec_parse},
        {"keras-imdb: ASCII-only lowercase, rank + 3", test_keras_imdb_ascii_lowercase},
        {"tokattr-imdb: utf8proc lowercase, from a file or counted", test_tokattr_imdb_unicode_and_counted},
        {"word-index: index_from, start_char, oov_char", test_word_index_options},
        {"keras-tokenizer: oov_token on/off, num_words cut", test_keras_tokenizer_oov_and_num_words},
        {"keras-tokenizer: filters, lower false, split, Python lowercase", test_keras_tokenizer_filters_lower_split},
        {"keras-tokenizer: char_level", test_keras_tokenizer_char_level},
        {"text-vectorization: strip punctuation, ASCII lowercase, post padding", test_text_vectorization},
        {"bad vocabulary files: one message naming file and problem", test_bad_files},
        {"model input: start/OOV/pad ids, drops, truncation count", test_model_input_conventions},
        {NULL, NULL},
    };
    tk_test_add_suite("text_tokenizer", cases);
    return tk_test_run_all();
}
