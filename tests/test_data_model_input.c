/* model input: tk_prepare_input against a literal transcription of Keras'
 * imdb.load_data + pad_sequences (a second, independent formulation), plus
 * hand-checked examples. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "data/model_input.h"
#include "support/testutil.h"

/* Keras, step by step: seq = [1] + ids; seq = [w if w < num_words else 2];
 * trunc = seq[-maxlen:] (pre) or seq[:maxlen] (post); x = zeros(maxlen);
 * x[-len(trunc):] = trunc (pre) or x[:len(trunc)] = trunc (post). */
static void keras_reference(const tk_input_spec *sp, const int32_t *ids, int n, int32_t *x, int32_t *pos)
{
    int32_t seq[64], seq_pos[64]; /* (len) */
    int len = 0;
    if (sp->start_marker) {
        seq[len] = 1;
        seq_pos[len++] = -1;
    }
    for (int i = 0; i < n; i++) {
        seq[len] = ids[i];
        seq_pos[len++] = i;
    }
    for (int i = 0; i < len; i++)
        if (sp->num_words > 0 && seq[i] >= sp->num_words)
            seq[i] = 2;
    int from = 0, tl = len;
    if (len > sp->maxlen) {
        tl = sp->maxlen;
        from = sp->truncating_post ? 0 : len - sp->maxlen;
    }
    for (int i = 0; i < sp->maxlen; i++) {
        x[i] = 0;
        pos[i] = -2;
    }
    int at = sp->padding_post ? 0 : sp->maxlen - tl;
    for (int i = 0; i < tl; i++) {
        x[at + i] = seq[from + i];
        pos[at + i] = seq_pos[from + i];
    }
}

static void test_matches_keras_everywhere(void)
{
    srand(3);
    int32_t ids[40], got[16], got_pos[16], want[16], want_pos[16];
    int cases = 0;
    for (int n = 0; n <= 12; n++)
        for (int maxlen = 1; maxlen <= 10; maxlen++)
            for (int flags = 0; flags < 8; flags++) {
                for (int i = 0; i < n; i++)
                    ids[i] = 4 + rand() % 30;
                tk_input_spec sp;
                tk_input_spec_default(&sp, flags & 4 ? 0 : 20, maxlen);
                sp.padding_post = flags & 1;
                sp.truncating_post = flags & 2;
                sp.start_marker = n % 3 != 2;
                keras_reference(&sp, ids, n, want, want_pos);
                int kept = tk_prepare_input(&sp, ids, n, got, got_pos);
                int nonpad = 0;
                for (int i = 0; i < maxlen; i++)
                    nonpad += want_pos[i] != -2;
                CU_ASSERT_EQUAL(kept, nonpad);
                CU_ASSERT_EQUAL(memcmp(got, want, (size_t)maxlen * sizeof *got), 0);
                CU_ASSERT_EQUAL(memcmp(got_pos, want_pos, (size_t)maxlen * sizeof *got), 0);
                cases++;
            }
    CU_ASSERT_EQUAL(cases, 13 * 10 * 8);
}

static void test_hand_examples(void)
{
    tk_input_spec sp;
    int32_t ids[] = {5, 10001, 7, 9}, out[6], pos[6];
    /* CNN-like: num_words 10000; short review is pre-padded, 10001 -> 2. */
    tk_input_spec_default(&sp, 10000, 6);
    CU_ASSERT_EQUAL(tk_prepare_input(&sp, ids, 4, out, pos), 5);
    int32_t want[] = {0, 1, 5, 2, 7, 9}, want_pos[] = {-2, -1, 0, 1, 2, 3};
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof want), 0);
    CU_ASSERT_EQUAL(memcmp(pos, want_pos, sizeof want_pos), 0);
    /* maxlen 3, pre truncation: the start marker goes, the last 3 ids stay. */
    tk_input_spec_default(&sp, 10000, 3);
    CU_ASSERT_EQUAL(tk_prepare_input(&sp, ids, 4, out, NULL), 3);
    CU_ASSERT_EQUAL(out[0], 2);
    CU_ASSERT_EQUAL(out[1], 7);
    CU_ASSERT_EQUAL(out[2], 9);
    /* Empty review: only the start marker, at the end. */
    tk_input_spec_default(&sp, 10000, 3);
    CU_ASSERT_EQUAL(tk_prepare_input(&sp, ids, 0, out, pos), 1);
    CU_ASSERT_EQUAL(out[0], 0);
    CU_ASSERT_EQUAL(out[2], 1);
    CU_ASSERT_EQUAL(pos[2], -1);
}

/* tk_input_length: the count tk_prepare_input_ex returns, without the ids,
 * whenever tk_input_keeps_every_id says every id survives. With no OOV id
 * and a num_words limit it does not say so: there the ids decide. */
static void test_length_without_ids(void)
{
    srand(5);
    int32_t ids[40], out[16];
    int checked = 0, refused = 0;
    for (int n = 0; n <= 20; n++)
        for (int maxlen = 1; maxlen <= 12; maxlen++)
            for (int flags = 0; flags < 32; flags++) {
                for (int i = 0; i < n; i++)
                    ids[i] = rand() % 40;
                tk_input_spec sp;
                tk_input_spec_default(&sp, flags & 4 ? 0 : 20, maxlen);
                sp.padding_post = flags & 1;
                sp.truncating_post = flags & 2;
                sp.start_marker = flags & 8;
                if (flags & 16)
                    sp.oov_id = -1; /* ids >= num_words dropped */
                int got = tk_prepare_input_ex(&sp, ids, n, out, NULL, NULL);
                if (tk_input_keeps_every_id(&sp)) {
                    CU_ASSERT_EQUAL(tk_input_length(&sp, n), got);
                    checked++;
                } else {
                    CU_ASSERT(sp.oov_id < 0 && sp.num_words > 0);
                    refused++;
                }
            }
    CU_ASSERT_EQUAL(checked, 21 * 12 * 24);
    CU_ASSERT_EQUAL(refused, 21 * 12 * 8);
    /* a dropped id shortens the input: the length rule alone would be wrong */
    tk_input_spec sp;
    tk_input_spec_default(&sp, 10, 8);
    sp.oov_id = -1;
    int32_t some[] = {4, 11, 5};
    CU_ASSERT_EQUAL(tk_prepare_input_ex(&sp, some, 3, out, NULL, NULL), 3);
    CU_ASSERT_FALSE(tk_input_keeps_every_id(&sp));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"matches Keras pad_sequences for all options and lengths", test_matches_keras_everywhere},
        {"hand-checked CNN-style examples", test_hand_examples},
        {"the input's length from the ids' count where every id is kept", test_length_without_ids},
        {NULL, NULL},
    };
    tk_test_add_suite("model_input", cases);
    return tk_test_run_all();
}
