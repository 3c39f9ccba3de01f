/* The training config: every shipped config parses into the architecture
 * its comment names, and bad configs give messages naming the key (and
 * line). train_config.c lives in src/cli (the binary, not the library), so
 * it is compiled into this test directly. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/train_config.h"
#include "support/testutil.h"

static const char *source_path(const char *rel)
{
    static char buf[2048];
    const char *src = getenv("TOKATTR_SOURCE");
    snprintf(buf, sizeof buf, "%s/%s", src ? src : ".", rel);
    return buf;
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[2048];
    snprintf(path, sizeof path, "%s/%s", tk_test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_cnn_config(void)
{
    tk_train_config *c = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_train_config_load(source_path("configs/cnn_imdb.yaml"), &c, &err),
                          TK_OK);
    CU_ASSERT_EQUAL(c->n_layers, 7);
    CU_ASSERT_EQUAL(c->layers[0].input_dim, 10000);
    CU_ASSERT_EQUAL(c->layers[0].output_dim, 50);
    CU_ASSERT_EQUAL(c->layers[1].kind, TK_LAYER_CONV1D);
    CU_ASSERT_EQUAL(c->layers[1].filters, 250);
    CU_ASSERT_FALSE(c->layers[1].padding_same);
    CU_ASSERT_DOUBLE_EQUAL(c->layers[2].rate, 0.4, 1e-6);
    CU_ASSERT_EQUAL(c->layers[6].activation, TK_ACT_SOFTMAX);
    CU_ASSERT_EQUAL(c->maxlen, 100);
    CU_ASSERT_EQUAL(c->num_words, 10000);
    CU_ASSERT_EQUAL(c->batch_size, 256);
    CU_ASSERT_EQUAL(c->epochs, 3);
    CU_ASSERT_EQUAL(c->optim.kind, TK_OPTIM_ADAM);
    CU_ASSERT_DOUBLE_EQUAL(c->optim.beta2, 0.999, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(c->optim.epsilon, 1e-7, 1e-12);
    tk_train_config_destroy(c);
}

static void test_other_configs(void)
{
    tk_train_config *c = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tk_train_config_load(source_path("configs/lstm_imdb.yaml"), &c, &err),
                          TK_OK);
    CU_ASSERT_EQUAL(c->layers[1].kind, TK_LAYER_LSTM);
    CU_ASSERT_DOUBLE_EQUAL(c->layers[1].rate, 0.2, 1e-6);
    CU_ASSERT_EQUAL(c->maxlen, 80);
    CU_ASSERT_EQUAL(c->batch_size, 32);
    tk_train_config_destroy(c);
    CU_ASSERT_EQUAL_FATAL(
        tk_train_config_load(source_path("configs/cnn_rating4.yaml"), &c, &err), TK_OK);
    CU_ASSERT_EQUAL(c->target, TK_TRAIN_TARGET_RATING4);
    CU_ASSERT_EQUAL(c->optim.kind, TK_OPTIM_RMSPROP);
    CU_ASSERT_DOUBLE_EQUAL(c->optim.rho, 0.9, 1e-7);
    CU_ASSERT(c->kernel_l2[1] > 0);
    CU_ASSERT_EQUAL(c->layers[6].units, 4);
    tk_train_config_destroy(c);
    CU_ASSERT_EQUAL_FATAL(
        tk_train_config_load(source_path("configs/synthetic_planted.yaml"), &c, &err), TK_OK);
    CU_ASSERT_EQUAL(c->data, TK_SOURCE_SYNTHETIC);
    CU_ASSERT_EQUAL(c->synthetic.planted_id, 7);
    tk_train_config_destroy(c);
}

static const char *BASE = "maxlen: 10\n"
                          "layers:\n"
                          "  - {type: embedding, input_dim: 50, output_dim: 4}\n"
                          "  - {type: global_max_pooling1d}\n"
                          "  - {type: dense, units: 2, activation: softmax}\n";

static void expect_error(const char *name, const char *extra, const char *want1,
                         const char *want2)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", BASE, extra);
    const char *path = write_tmp(name, text);
    tk_train_config *c = NULL;
    tk_error err = {0};
    CU_ASSERT_NOT_EQUAL(tk_train_config_load(path, &c, &err), TK_OK);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT(strstr(err.msg, name) != NULL); /* the file */
    CU_ASSERT(strstr(err.msg, want1) != NULL);
    if (want2)
        CU_ASSERT(strstr(err.msg, want2) != NULL);
    if (strstr(err.msg, want1) == NULL || (want2 && strstr(err.msg, want2) == NULL))
        fprintf(stderr, "message was: %s\n", err.msg);
}

static void test_bad_configs(void)
{
    tk_train_config *c = NULL;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_train_config_load(write_tmp("ok.yaml", BASE), &c, &err), TK_OK);
    CU_ASSERT_EQUAL(c->batch_size, 32); /* defaults */
    CU_ASSERT_EQUAL(c->epochs, 1);
    CU_ASSERT_EQUAL(c->num_words, 50);
    tk_train_config_destroy(c);

    expect_error("unknown.yaml", "colour: blue\n", "colour", "line 6");
    expect_error("type.yaml", "epochs: three\n", "epochs", "line: 6");
    expect_error("enum.yaml", "optimizer: {name: adagrad}\n", "adagrad", NULL);
    expect_error("layerkey.yaml", "batch_size: 8\nloss: hinge\n", "loss", NULL);
    expect_error("nested.yaml", "synthetic: {n_trian: 4}\n", "n_trian", "line 6");
    CU_ASSERT_EQUAL(tk_train_config_load("/nonexistent/x.yaml", &c, &err), TK_E_IO);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    static const tk_test_case cases[] = {
        {"cnn config", test_cnn_config},
        {"lstm, rating4, synthetic configs", test_other_configs},
        {"bad configs", test_bad_configs},
        {NULL, NULL},
    };
    tk_test_add_suite("train_config", cases);
    return tk_test_run_all();
}
