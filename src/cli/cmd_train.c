/* tokattr train CONFIG: trains a reference architecture and writes a Keras 2
 * .h5 that `tokattr evaluate` and `tokattr run` read back. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/guard.h"
#include "cli/train_config.h"
#include "core/gemm.h"
#include "core/paths.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "data/synthetic.h"
#include "model/build.h"
#include "model/init.h"
#include "model/model.h"
#include "model/model_tags.h"
#include "model/train.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tokattr train CONFIG.yaml [options]\n\n"
            "Trains the model the config describes (configs/*.yaml) and writes a Keras 2 .h5.\n\n"
            "options:\n"
            "  --dataset FILE   dataset made by `tokattr prepare` (overrides the config)\n"
            "  --output FILE    model file to write (overrides the config)\n"
            "  --epochs N       overrides the config\n"
            "  --seed N         overrides the config (same seed, same machine: same weights)\n"
            "  --max-batches N  stop each epoch after N batches (quick checks)\n"
            "  --no-validation  skip the per-epoch validation (the final test figure stays)\n"
            "  --quiet          no progress bar\n\n"
            "config keys and their defaults:\n%s",
            tk_train_config_defaults_text());
}

static void print_epoch(const tk_epoch_stats *s, void *ctx)
{
    const tk_train_config *cfg = ctx;
    printf("epoch %d/%d: loss %.4f accuracy %.4f", s->epoch, cfg->epochs, s->loss, s->accuracy);
    if (!isnan(s->val_loss))
        printf(" val_loss %.4f val_accuracy %.4f (%.1f s train, %.1f s validation)\n",
               s->val_loss, s->val_accuracy, s->seconds, s->val_seconds);
    else
        printf(" (%.1f s)\n", s->seconds);
    fflush(stdout);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* What the model file records of the dataset it was trained on. */
typedef struct data_tags {
    bool have;               /* false for synthetic data */
    char vocab_sha256[65];   /* the dataset's word_index_sha256 */
    char tokenizer[64];      /* its tokenizer_kind; v1 datasets are tokattr-imdb */
} data_tags;

static void data_tags_of(const tk_dataset *ds, data_tags *tags)
{
    snprintf(tags->tokenizer, sizeof tags->tokenizer, "%s",
             ds->tokenizer.kind[0] ? ds->tokenizer.kind : "tokattr-imdb");
    snprintf(tags->vocab_sha256, sizeof tags->vocab_sha256, "%s", ds->word_index_sha256);
    tags->have = true;
}

/* Both splits as model input. */
static tk_status load_data(const tk_train_config *cfg, tk_train_data **train,
                           tk_train_data **test, data_tags *tags, tk_error *err)
{
    tk_input_spec spec;
    tk_input_spec_default(&spec, cfg->num_words, cfg->maxlen);
    tk_status st;
    if (cfg->data == TK_SOURCE_SYNTHETIC) {
        tk_synthetic *syn = NULL;
        st = tk_synthetic_create(&cfg->synthetic, &syn, err);
        if (st == TK_OK)
            st = tk_train_data_from_split(&syn->train, &spec, cfg->target, train, err);
        if (st == TK_OK)
            st = tk_train_data_from_split(&syn->test, &spec, cfg->target, test, err);
        tk_synthetic_destroy(syn);
        return st;
    }
    if (cfg->dataset[0] == '\0')
        return tk_error_set(err, TK_E_INVALID,
                            "no dataset: give `dataset:` in the config or --dataset");
    if (!tk_file_exists(cfg->dataset))
        return tk_error_set(err, TK_E_IO,
                            "%s: dataset file not found (make it with `tokattr prepare`)",
                            cfg->dataset);
    tk_dataset *ds = NULL;
    st = tk_dataset_read(cfg->dataset, &ds, err);
    if (st != TK_OK)
        return st;
    /* The dataset's tokenizer says where the start marker, OOV and padding go. */
    tk_input_spec_from_convention(&spec, &ds->convention, cfg->num_words, cfg->maxlen);
    const tk_split *tr = tk_dataset_split(ds, "train", err), *te = tk_dataset_split(ds, "test", err);
    st = tr && te ? tk_train_data_from_split(tr, &spec, cfg->target, train, err) : TK_E_INVALID;
    if (st == TK_OK)
        st = tk_train_data_from_split(te, &spec, cfg->target, test, err);
    if (st == TK_OK)
        data_tags_of(ds, tags);
    tk_dataset_destroy(ds);
    return st;
}

int tk_cmd_train(int argc, char **argv)
{
    const char *config_path = NULL, *dataset = NULL, *output = NULL;
    long epochs = 0, seed = -1, max_batches = 0;
    bool quiet = false, no_validation = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return TK_EXIT_OK;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--no-validation") == 0) {
            no_validation = true;
        } else if (strcmp(a, "--dataset") == 0 && has_value) {
            dataset = argv[++i];
        } else if (strcmp(a, "--output") == 0 && has_value) {
            output = argv[++i];
        } else if (strcmp(a, "--epochs") == 0 && has_value) {
            if (!parse_long(argv[++i], 1, 10000, &epochs)) {
                fprintf(stderr, "tokattr train: --epochs needs an integer in [1, 10000]\n");
                return TK_EXIT_USAGE;
            }
        } else if (strcmp(a, "--seed") == 0 && has_value) {
            if (!parse_long(argv[++i], 0, 0x7fffffffL, &seed)) {
                fprintf(stderr, "tokattr train: --seed needs a non-negative integer\n");
                return TK_EXIT_USAGE;
            }
        } else if (strcmp(a, "--max-batches") == 0 && has_value) {
            if (!parse_long(argv[++i], 1, 0x7fffffffL, &max_batches)) {
                fprintf(stderr, "tokattr train: --max-batches needs a positive integer\n");
                return TK_EXIT_USAGE;
            }
        } else if (a[0] == '-' || config_path != NULL) {
            fprintf(stderr, "tokattr train: unexpected argument '%s' (see --help)\n", a);
            return TK_EXIT_USAGE;
        } else {
            config_path = a;
        }
    }
    if (config_path == NULL) {
        usage(stderr);
        return TK_EXIT_USAGE;
    }

    int rc = TK_EXIT_FAILURE;
    tk_error err = {0};
    tk_train_config *cfg = NULL;
    tk_train_data *train = NULL, *test = NULL, *held = NULL;
    tk_model *model = NULL;
    char tmp[1100] = "";
    bool tmp_made = false;
    tk_status st = tk_train_config_load(config_path, &cfg, &err);
    if (st != TK_OK)
        goto done;
    if (dataset)
        snprintf(cfg->dataset, sizeof cfg->dataset, "%s", dataset);
    if (output)
        snprintf(cfg->output, sizeof cfg->output, "%s", output);
    if (epochs)
        cfg->epochs = (int)epochs;
    if (seed >= 0)
        cfg->seed = (uint64_t)seed;
    if (no_validation)
        cfg->validation = TK_VAL_NONE;

    /* The model never replaces an input or anything but a previous model. */
    const tk_path_role train_inputs[] = {{config_path, "training config"},
                                         {cfg->dataset[0] ? cfg->dataset : NULL, "dataset"}};
    const tk_path_role train_out = {cfg->output, "output model"};
    if ((st = tk_outpath_check(&train_out, train_inputs, 2, &err)) != TK_OK ||
        (st = tk_outpath_replaceable(&train_out, "Keras model", tk_cli_is_model, &err)) != TK_OK)
        goto done;
    /* Find out now, not after an hour of training, that the output cannot
     * be written; the model goes to a temporary name renamed at the end. */
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", cfg->output, (long)getpid());
    FILE *probe = fopen(tmp, "wb");
    if (probe == NULL) {
        st = tk_error_set(&err, TK_E_IO, "%s: cannot write the model file here (%s)",
                          cfg->output, strerror(errno));
        goto done;
    }
    fclose(probe);
    tmp_made = true;

    tk_blas_single_thread();
    /* The architecture first: its errors come before reading 50,000 reviews. */
    st = tk_model_build(cfg->layers, cfg->n_layers, cfg->maxlen, &model, &err);
    if (st == TK_OK)
        st = tk_model_init_keras(model, cfg->seed, &err);
    if (st != TK_OK)
        goto done;
    data_tags tags = {0};
    st = load_data(cfg, &train, &test, &tags, &err);
    if (st != TK_OK)
        goto done;
    const tk_train_data *val = NULL;
    if (cfg->validation == TK_VAL_TEST) {
        val = test;
    } else if (cfg->validation == TK_VAL_HOLDOUT) {
        st = tk_train_data_hold_out(train, cfg->validation_fraction, cfg->seed, &held, &err);
        if (st != TK_OK)
            goto done;
        val = held;
    }
    printf("%s: %zu parameters, %lld training reviews, %lld test reviews, %s, batch %d, "
           "seed %llu, validation: %s\n",
           cfg->name, model->n_params, (long long)train->n, (long long)test->n,
           tk_optim_name(cfg->optim.kind), cfg->batch_size, (unsigned long long)cfg->seed,
           cfg->validation == TK_VAL_TEST      ? "the test split"
           : cfg->validation == TK_VAL_HOLDOUT ? "held-out train rows"
                                               : "none");
    fflush(stdout);

    tk_train_options opt;
    tk_train_options_default(&opt);
    opt.epochs = cfg->epochs;
    opt.batch_size = cfg->batch_size;
    opt.seed = cfg->seed;
    opt.optim = cfg->optim;
    opt.kernel_l2 = cfg->kernel_l2;
    opt.progress = quiet ? NULL : stderr;
    opt.on_epoch = print_epoch;
    opt.ctx = cfg;
    opt.max_batches = max_batches;
    double t0 = tk_now();
    tk_epoch_stats last;
    st = tk_train(model, &opt, train, val, &last, &err);
    if (st != TK_OK)
        goto done;
    double train_seconds = tk_now() - t0;
    double loss = last.val_loss, acc = last.val_accuracy;
    /* The last validation pass already was the test split's evaluation. */
    if (val != test)
        st = tk_train_evaluate(model, test, 256, &loss, &acc, &err);
    if (st != TK_OK)
        goto done;
    printf("test: loss %.4f accuracy %.5f (%lld reviews); %.1f s for %d epochs\n", loss, acc,
           (long long)test->n, train_seconds, cfg->epochs);

    st = tk_model_save(model, tmp, &err);
    if (st == TK_OK && tags.have)
        st = tk_model_tag_write(tmp, TK_MODEL_TAG_VOCAB_SHA256, tags.vocab_sha256, &err);
    if (st == TK_OK && tags.have)
        st = tk_model_tag_write(tmp, TK_MODEL_TAG_TOKENIZER, tags.tokenizer, &err);
    if (st != TK_OK)
        goto done;
    if (rename(tmp, cfg->output) != 0) {
        st = tk_error_set(&err, TK_E_IO, "%s: cannot rename the finished model into place (%s)",
                          cfg->output, strerror(errno));
        goto done;
    }
    tmp_made = false;
    printf("wrote %s\n", cfg->output);
    rc = TK_EXIT_OK;
done:
    if (st != TK_OK)
        fprintf(stderr, "tokattr train: %s\n", err.msg);
    if (tmp_made)
        remove(tmp);
    tk_model_destroy(model);
    tk_train_data_destroy(train);
    tk_train_data_destroy(test);
    tk_train_data_destroy(held);
    tk_train_config_destroy(cfg);
    return rc;
}
