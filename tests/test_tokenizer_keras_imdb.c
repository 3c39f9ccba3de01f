/* labels: corpus */
/* The tokenizers on the real corpus, end to end:
 * - keras-imdb from the raw archive gives exactly the ids keras_imdb_cnn.h5
 *   and keras_imdb_lstm.h5 were trained on: they score the published
 *   21,186 and 20,742 of 25,000 test reviews (../shared/models/README.md).
 *   Any id off on many words would show.
 * - tokattr-imdb:count, counted on the train split, is DATA.md's
 *   vocabulary: its digest is that of ../shared/models/imdb_word_index.json.
 * About 40 s on an idle core (a CNN and an LSTM pass over 25,000 reviews). */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "core/sha256.h"
#include "data/imdb_reader.h"
#include "data/model_input.h"
#include "data/text_tokenizer.h"
#include "model/model.h"
#include "support/testutil.h"

enum { N_TEST = 25000, CNN_WORDS = 10000, CNN_LEN = 100, LSTM_WORDS = 20000, LSTM_LEN = 80 };

typedef struct ctx {
    tk_tokenizer *keras, *counted;
    tk_input_spec spec, lstm_spec;
    tk_encoded e;
    int32_t *inputs; /* (N_TEST, CNN_LEN) */
    int32_t *lstm_inputs; /* (N_TEST, LSTM_LEN) */
    int *labels;     /* (N_TEST) */
    int n_test;
} ctx;

static tk_status visit(void *p, const tk_imdb_review *r, tk_error *err)
{
    ctx *c = p;
    if (r->split == TK_SPLIT_TRAIN)
        return tk_tokenizer_count(c->counted, r->text, r->len, err);
    if (c->n_test >= N_TEST)
        return tk_error_set(err, TK_E_FORMAT, "more than %d test reviews", N_TEST);
    tk_status st = tk_tokenizer_encode(c->keras, r->text, r->len, &c->e, err);
    if (st != TK_OK)
        return st;
    tk_prepare_input(&c->spec, c->e.ids, (int64_t)c->e.n,
                     c->inputs + (size_t)c->n_test * CNN_LEN, NULL);
    tk_prepare_input(&c->lstm_spec, c->e.ids, (int64_t)c->e.n,
                     c->lstm_inputs + (size_t)c->n_test * LSTM_LEN, NULL);
    c->labels[c->n_test++] = r->label;
    return TK_OK;
}

static void test_keras_imdb_cnn_accuracy_and_counted_vocabulary(void)
{
    tk_blas_single_thread();
    ctx c = {0};
    tk_error err = {0};
    tk_tokenizer_spec spec;
    CU_ASSERT_EQUAL_FATAL(tk_tokenizer_spec_parse("keras-imdb", &spec, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_tokenizer_create(&spec, NULL, &c.keras, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_tokenizer_spec_parse("tokattr-imdb:count", &spec, &err), TK_OK);
    CU_ASSERT_EQUAL_FATAL(tk_tokenizer_create(&spec, NULL, &c.counted, &err), TK_OK);
    tk_id_convention conv = tk_tokenizer_convention(c.keras);
    tk_input_spec_from_convention(&c.spec, &conv, CNN_WORDS, CNN_LEN);
    tk_input_spec_from_convention(&c.lstm_spec, &conv, LSTM_WORDS, LSTM_LEN);
    tk_encoded_init(&c.e);
    c.inputs = malloc((size_t)N_TEST * CNN_LEN * sizeof *c.inputs);
    c.labels = malloc(N_TEST * sizeof *c.labels);
    c.lstm_inputs = malloc((size_t)N_TEST * LSTM_LEN * sizeof *c.lstm_inputs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.inputs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.lstm_inputs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.labels);
    tk_status st = tk_imdb_read(tk_test_shared("data/aclImdb_v1.tar.gz"), visit, &c, &err);
    if (st != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(st, TK_OK);
    CU_ASSERT_EQUAL(c.n_test, N_TEST);

    /* The counted vocabulary is imdb_word_index.json, byte for byte. */
    CU_ASSERT_EQUAL(tk_tokenizer_fit(c.counted, &err), TK_OK);
    tk_tokenizer_record rec;
    tk_tokenizer_record_of(c.counted, &rec);
    char want[65];
    CU_ASSERT_EQUAL(tk_sha256_file_hex(tk_test_shared("models/imdb_word_index.json"), want, NULL),
                    TK_OK);
    CU_ASSERT_STRING_EQUAL(rec.vocab_sha256, want);
    CU_ASSERT_EQUAL(tk_tokenizer_vocab_size(c.counted), 88581);

    tk_model *m = tk_test_load_model(tk_test_shared("models/keras_imdb_cnn.h5"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    enum { B = 250 };
    tk_workspace *ws = tk_workspace_create(m, B, CNN_LEN, &err);
    float *x = malloc((size_t)B * CNN_LEN * m->input_dim * sizeof *x);
    float *out = malloc((size_t)B * m->n_outputs * sizeof *out);
    CU_ASSERT_FATAL(ws != NULL && x != NULL && out != NULL && m->n_outputs == 2);
    int correct = 0;
    for (int s = 0; s < c.n_test; s += B) {
        int nb = c.n_test - s < B ? c.n_test - s : B;
        CU_ASSERT_EQUAL_FATAL(tk_model_embed(m, c.inputs + (size_t)s * CNN_LEN, nb, CNN_LEN, x, &err),
                              TK_OK);
        CU_ASSERT_EQUAL_FATAL(tk_model_forward(m, ws, nb, CNN_LEN, x, out, &err), TK_OK);
        for (int b = 0; b < nb; b++) /* arg-max, ties to class 0 */
            correct += (out[2 * b + 1] > out[2 * b]) == (c.labels[s + b] == 1);
    }
    /* The README's published figure for this model on Keras' ids. */
    CU_ASSERT_EQUAL(correct, 21186);
    if (correct != 21186)
        fprintf(stderr, "\nkeras_imdb_cnn.h5: %d / 25000 correct, published 21186\n", correct);
    free(out);
    free(x);
    tk_workspace_destroy(ws);
    tk_model_destroy(m);

    /* The LSTM: one sigmoid, p > 0.5 is positive. */
    m = tk_test_load_model(tk_test_shared("models/keras_imdb_lstm.h5"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    ws = tk_workspace_create(m, B, LSTM_LEN, &err);
    x = malloc((size_t)B * LSTM_LEN * m->input_dim * sizeof *x);
    out = malloc((size_t)B * m->n_outputs * sizeof *out);
    CU_ASSERT_FATAL(ws != NULL && x != NULL && out != NULL && m->n_outputs == 1);
    correct = 0;
    for (int s = 0; s < c.n_test; s += B) {
        int nb = c.n_test - s < B ? c.n_test - s : B;
        CU_ASSERT_EQUAL_FATAL(tk_model_embed(m, c.lstm_inputs + (size_t)s * LSTM_LEN, nb,
                                             LSTM_LEN, x, &err), TK_OK);
        CU_ASSERT_EQUAL_FATAL(tk_model_forward(m, ws, nb, LSTM_LEN, x, out, &err), TK_OK);
        tk_model_output_probs(m, nb, out, out);
        for (int b = 0; b < nb; b++)
            correct += (out[b] > 0.5f) == (c.labels[s + b] == 1);
    }
    CU_ASSERT_EQUAL(correct, 20742);
    if (correct != 20742)
        fprintf(stderr, "\nkeras_imdb_lstm.h5: %d / 25000 correct, published 20742\n", correct);
    free(out);
    free(x);
    tk_workspace_destroy(ws);
    tk_model_destroy(m);
    free(c.lstm_inputs);
    free(c.inputs);
    free(c.labels);
    tk_encoded_free(&c.e);
    tk_tokenizer_destroy(c.keras);
    tk_tokenizer_destroy(c.counted);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"keras-imdb ids reproduce the Keras-id models' published accuracy; counted "
         "vocabulary = imdb_word_index.json",
         test_keras_imdb_cnn_accuracy_and_counted_vocabulary},
        {NULL, NULL},
    };
    tk_test_add_suite("tokenizer_keras_imdb", cases);
    return tk_test_run_all();
}
