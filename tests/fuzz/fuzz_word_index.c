/* Word index JSON {"word": rank} (src/data/vocab.c), then the export and the
 * serializer that `prepare --export-word-index` uses: what is accepted must
 * come back out as valid UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "data/vocab.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_path("wi", ".json");
    if (fuzz_write_file(path, data, size) != 0)
        abort();
    tk_vocab *v = NULL;
    tk_error err = {0};
    if (tk_vocab_create(&v, &err) != TK_OK)
        abort();
    tk_status st = tk_vocab_load_word_index(v, path, &err);
    fuzz_verdict("word_index", st, &err);
    if (st == TK_OK) {
        char **words = NULL;
        int64_t *counts = NULL, n = 0;
        if (tk_vocab_export(v, &words, &counts, &n, &err) == TK_OK) {
            char *json = NULL;
            size_t len = 0;
            if (tk_word_index_serialize(words, n, &json, &len, &err) == TK_OK &&
                !tk_utf8_valid(json, len))
                abort(); /* we say UTF-8: it must be */
            free(json);
            for (int64_t i = 0; i < n; i++)
                free(words[i]);
            free(words);
            free(counts);
        }
    }
    tk_vocab_destroy(v);
    return 0;
}
