/* The tokenizer kinds' vocabulary files (src/data/text_tokenizer.c, issue
 * 15): a Keras Tokenizer JSON (tokenizer.to_json()), a TextVectorization
 * vocabulary (one token a line), a word index JSON; then a review text
 * through the loaded tokenizer.
 *
 * Input: byte 0 picks the kind (% 5: keras-tokenizer, text-vectorization,
 * text-vectorization with standardize=none, word-index, tokattr-imdb); the
 * bytes up to the first "\n====\n" are the file, the rest is the text
 * (none: a fixed sentence). Every id must be in range of the vocabulary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/text_tokenizer.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const kinds[5] = {"keras-tokenizer", "text-vectorization",
                                         "text-vectorization,standardize=none", "word-index",
                                         "tokattr-imdb"};
    if (size < 1)
        return 0;
    const char *kind = kinds[data[0] % 5];
    data++, size--;
    static const char sep[] = "\n====\n";
    const uint8_t *cut = NULL;
    for (size_t i = 0; i + sizeof sep - 1 <= size && cut == NULL; i++)
        if (memcmp(data + i, sep, sizeof sep - 1) == 0)
            cut = data + i;
    size_t file_len = cut ? (size_t)(cut - data) : size;
    const char *text = "A great film.<br /><br />Caf\xC3\xA9, \xE9t\xE9 -- the END!";
    size_t text_len = strlen(text);
    if (cut) {
        text = (const char *)cut + sizeof sep - 1;
        text_len = size - file_len - (sizeof sep - 1);
    }
    const char *path = fuzz_scratch_path("tokenizer", ".vocab");
    if (fuzz_write_file(path, data, file_len) != 0)
        abort();
    char spec_text[4200];
    snprintf(spec_text, sizeof spec_text, "%s:%s", kind, path);
    tk_tokenizer_spec spec;
    tk_error err = {0};
    if (tk_tokenizer_spec_parse(spec_text, &spec, &err) != TK_OK)
        abort(); /* our own spelling: must parse */
    tk_tokenizer *t = NULL;
    if (fuzz_verdict("tokenizer", tk_tokenizer_create(&spec, NULL, &t, &err), &err) != TK_OK)
        return 0;
    tk_encoded e;
    tk_encoded_init(&e);
    tk_error_clear(&err);
    if (fuzz_verdict("tokenizer encode", tk_tokenizer_encode(t, text, text_len, &e, &err), &err) == TK_OK) {
        tk_id_convention c = tk_tokenizer_convention(t);
        int64_t top = tk_tokenizer_vocab_size(t) + c.index_from;
        for (size_t i = 0; i < e.n; i++) {
            if (e.word_len[i] == 0 || (e.ids[i] != -1 && e.ids[i] != c.oov_id && (e.ids[i] < 0 || e.ids[i] > top)))
                abort();
            volatile char sink = e.buf[e.word_start[i] + e.word_len[i] - 1]; /* in bounds */
            (void)sink;
        }
    }
    tk_encoded_free(&e);
    tk_tokenizer_destroy(t);
    return 0;
}
