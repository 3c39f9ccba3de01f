/* tokattr evaluate: a Keras model's accuracy, confusion matrix and mean loss
 * on one split of a dataset file. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/gemm.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "data/model_input.h"
#include "model/model.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tokattr evaluate MODEL.h5 DATASET.h5 [options]\n\n"
            "Runs the model over every review of a split and prints accuracy, the\n"
            "confusion matrix, the mean loss and the speed. A single sigmoid output\n"
            "predicts positive when p > threshold; otherwise the arg-max (ties to the lower\n"
            "class). Warns when the accuracy is near chance (within 5 points of the\n"
            "majority class's share): the model may expect other token ids.\n\n"
            "  --split NAME      train or test (default: test)\n"
            "  --num-words N     ids >= N become the out-of-vocabulary id (2 for IMDB;\n"
            "                    dropped for a Tokenizer without oov_token)\n"
            "                    (default: the model's Embedding input_dim)\n"
            "  --maxlen L        pad/truncate to L ids, on the side the dataset's tokenizer\n"
            "                    uses ('pre' like pad_sequences; TextVectorization 'post')\n"
            "                    (default: the model's input length)\n"
            "  --batch B         reviews per forward pass (default: 64)\n"
            "  --threshold T     single-sigmoid models: p > T is class 1 (default: 0.5)\n"
            "  --quiet           no progress bar\n"
            "  --help            this text\n");
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

typedef struct eval_opts {
    const char *model_path, *data_path, *split;
    int num_words, maxlen, batch;
    double threshold; /* single sigmoid: p > threshold is class 1 */
    bool threshold_given;
    bool quiet;
} eval_opts;

static int parse_args(int argc, char **argv, eval_opts *o)
{
    static const struct option LONG[] = {
        {"split", required_argument, NULL, 's'},   {"num-words", required_argument, NULL, 'n'},
        {"maxlen", required_argument, NULL, 'l'},  {"batch", required_argument, NULL, 'b'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {"threshold", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    *o = (eval_opts){.split = "test", .batch = 64, .threshold = 0.5};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case 's': o->split = optarg; break;
        case 'n': if (!parse_int(optarg, 1, 1 << 30, &o->num_words)) bad = "--num-words"; break;
        case 'l': if (!parse_int(optarg, 1, 1 << 20, &o->maxlen)) bad = "--maxlen"; break;
        case 'b': if (!parse_int(optarg, 1, 1 << 16, &o->batch)) bad = "--batch"; break;
        case 'q': o->quiet = true; break;
        case 't': {
            char *end;
            o->threshold = strtod(optarg, &end);
            o->threshold_given = true;
            if (end == optarg || *end != '\0' || !(o->threshold >= 0.0 && o->threshold <= 1.0)) {
                fprintf(stderr, "tokattr evaluate: --threshold needs a number in [0, 1], not '%s'\n",
                        optarg);
                return TK_EXIT_USAGE;
            }
            break;
        }
        case 'h': usage(stdout); return -1;
        default:
            fprintf(stderr, "tokattr evaluate: unknown option or missing value: %s\n",
                    argv[optind - 1]);
            usage(stderr);
            return TK_EXIT_USAGE;
        }
        if (bad != NULL) {
            fprintf(stderr, "tokattr evaluate: %s needs a positive integer, not '%s'\n", bad,
                    optarg);
            return TK_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "tokattr evaluate: needs MODEL.h5 and DATASET.h5\n");
        usage(stderr);
        return TK_EXIT_USAGE;
    }
    o->model_path = argv[optind];
    o->data_path = argv[optind + 1];
    return TK_EXIT_OK;
}

typedef struct tally {
    int k;               /* classes: 2 for a single sigmoid, else the outputs */
    int64_t *confusion;  /* (k, k): [true][predicted] */
    double loss_sum;
    int64_t n;
} tally;

/* Prediction and loss of one review: binary cross-entropy for one sigmoid
 * output, categorical cross-entropy otherwise (probabilities clipped to
 * [1e-7, 1 - 1e-7] as Keras does). */
static void score(const tk_model *m, const float *probs, int label, double threshold, tally *t)
{
    const double eps = 1e-7;
    int pred = 0;
    double loss;
    if (m->n_outputs == 1) {
        double p = fmin(fmax(probs[0], eps), 1.0 - eps);
        pred = (double)probs[0] > threshold;
        loss = label == 1 ? -log(p) : -log(1.0 - p);
    } else {
        for (int k = 1; k < m->n_outputs; k++)
            if (probs[k] > probs[pred])
                pred = k;
        loss = -log(fmin(fmax(probs[label < m->n_outputs ? label : 0], eps), 1.0 - eps));
    }
    t->confusion[(size_t)label * (size_t)t->k + (size_t)pred]++;
    t->loss_sum += loss;
    t->n++;
}

static void print_results(const tk_model *m, const eval_opts *o, const tally *t, int64_t n,
                          double secs, int num_words, int maxlen)
{
    int k = t->k;
    int64_t correct = 0, largest = 0;
    for (int i = 0; i < k; i++) {
        int64_t row = 0;
        for (int j = 0; j < k; j++)
            row += t->confusion[(size_t)i * k + j];
        correct += t->confusion[(size_t)i * k + i];
        largest = row > largest ? row : largest;
    }
    printf("model     %s (%d layers, %d output%s, num_words %d, maxlen %d)\n", o->model_path,
           m->n_layers, m->n_outputs, m->n_outputs == 1 ? "" : "s", num_words, maxlen);
    printf("split     %s of %s, %lld reviews\n", o->split, o->data_path, (long long)n);
    printf("accuracy  %.5f (%lld / %lld correct)\n", n > 0 ? (double)correct / (double)n : 0.0,
           (long long)correct, (long long)n);
    printf("confusion rows = true class, columns = predicted class\n          ");
    for (int j = 0; j < k; j++)
        printf(" %9s%d", "pred ", j);
    printf("\n");
    for (int i = 0; i < k; i++) {
        printf("  true %-3d", i);
        for (int j = 0; j < k; j++)
            printf(" %10lld", (long long)t->confusion[(size_t)i * k + j]);
        printf("\n");
    }
    printf("loss      %.6f (mean %s cross-entropy)\n", n > 0 ? t->loss_sum / (double)n : 0.0,
           m->n_outputs == 1 ? "binary" : "categorical");
    if (m->n_outputs == 1)
        printf("threshold %g (p > %g is class 1)\n", o->threshold, o->threshold);
    printf("speed     %.0f reviews/s (%.2f s, batch %d)\n", secs > 0 ? (double)n / secs : 0.0,
           secs, o->batch);
    /* Near chance usually means the ids are not the ones the model was
     * trained on (another vocabulary or tokenizer), not a bad model. */
    double acc = n > 0 ? (double)correct / (double)n : 0.0;
    double majority = n > 0 ? (double)largest / (double)n : 0.0;
    if (n > 0 && acc < majority + 0.05)
        fprintf(stderr,
                "tokattr evaluate: warning: accuracy %.5f is within 5 points of the majority "
                "class's share %.5f: the model may have been trained on other token ids: check "
                "--tokenizer (the dataset's tokenizer must be the model's)\n",
                acc, majority);
}

int tk_cmd_evaluate(int argc, char **argv)
{
    eval_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != TK_EXIT_OK)
        return rc < 0 ? TK_EXIT_OK : rc;
    tk_blas_single_thread();
    tk_error err = {0};
    tk_model *m = NULL;
    tk_dataset *ds = NULL;
    tk_workspace *ws = NULL;
    int32_t *ids = NULL;
    float *x = NULL, *logits = NULL;
    tally *t = NULL;
    rc = TK_EXIT_FAILURE;
    if (tk_model_load(o.model_path, &m, &err) != TK_OK)
        goto fail;
    if (!m->has_embedding) {
        tk_error_set(&err, TK_E_UNSUPPORTED,
                     "%s: the model has no Embedding layer, so it cannot read token ids",
                     o.model_path);
        goto fail;
    }
    if (o.threshold_given && m->n_outputs != 1) {
        fprintf(stderr, "tokattr evaluate: --threshold applies to single-sigmoid models; %s has "
                        "%d outputs (the arg-max decides)\n", o.model_path, m->n_outputs);
        rc = TK_EXIT_USAGE;
        goto done;
    }
    int num_words = o.num_words > 0 ? o.num_words : m->vocab_size;
    int maxlen = o.maxlen > 0 ? o.maxlen : m->maxlen;
    if (maxlen <= 0) {
        fprintf(stderr, "tokattr evaluate: %s accepts any length: give --maxlen\n", o.model_path);
        rc = TK_EXIT_USAGE;
        goto done;
    }
    if (num_words > m->vocab_size) {
        tk_error_set(&err, TK_E_INVALID,
                     "--num-words %d is larger than the model's vocabulary (Embedding input_dim "
                     "%d)", num_words, m->vocab_size);
        goto fail;
    }
    if (tk_model_check_steps(m, maxlen, &err) != TK_OK)
        goto fail;
    if (tk_dataset_read(o.data_path, &ds, &err) != TK_OK)
        goto fail;
    const tk_split *sp = tk_dataset_split(ds, o.split, &err);
    if (sp == NULL)
        goto fail;
    int B = o.batch, D = m->input_dim, K = m->n_outputs;
    ws = tk_workspace_create(m, B, maxlen, &err);
    ids = tk_malloc((size_t)B * maxlen, sizeof *ids, &err);
    x = tk_malloc((size_t)B * maxlen * D, sizeof *x, &err);
    logits = tk_malloc((size_t)B * K, sizeof *logits, &err);
    t = tk_calloc(1, sizeof *t, &err);
    if (t != NULL) {
        t->k = K == 1 ? 2 : K;
        t->confusion = tk_calloc((size_t)t->k * (size_t)t->k, sizeof *t->confusion, &err);
    }
    if (ws == NULL || ids == NULL || x == NULL || logits == NULL || t == NULL ||
        t->confusion == NULL)
        goto fail;
    /* Start marker, OOV id, padding side: the dataset's tokenizer's. */
    tk_input_spec spec;
    tk_input_spec_from_convention(&spec, &ds->convention, num_words, maxlen);
    tk_progress prog;
    tk_progress_start(&prog, stderr, "evaluate", "reviews", sp->n, 0, !o.quiet);
    double t0 = tk_now();
    for (int64_t start = 0; start < sp->n; start += B) {
        int nb = (int)(sp->n - start < B ? sp->n - start : B);
        for (int b = 0; b < nb; b++) {
            int64_t r = start + b;
            tk_prepare_input(&spec, sp->ids + sp->offset[r], sp->offset[r + 1] - sp->offset[r],
                             ids + (size_t)b * maxlen, NULL);
        }
        if (tk_model_embed(m, ids, nb, maxlen, x, &err) != TK_OK ||
            tk_model_forward(m, ws, nb, maxlen, x, logits, &err) != TK_OK)
            goto fail;
        tk_model_output_probs(m, nb, logits, logits);
        for (int b = 0; b < nb; b++) {
            int label = sp->label[start + b];
            if (label < 0 || label >= (K == 1 ? 2 : K)) {
                tk_error_set(&err, TK_E_FORMAT, "%s: review %lld has label %d, outside the model's "
                             "classes", o.data_path, (long long)(start + b), label);
                goto fail;
            }
            score(m, logits + (size_t)b * K, label, o.threshold, t);
        }
        tk_progress_update(&prog, start + nb);
    }
    tk_progress_finish(&prog);
    print_results(m, &o, t, sp->n, tk_now() - t0, num_words, maxlen);
    rc = TK_EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "tokattr evaluate: %s\n", err.msg);
    rc = TK_EXIT_FAILURE;
done:
    if (t != NULL)
        free(t->confusion);
    free(t);
    free(logits);
    free(x);
    free(ids);
    tk_workspace_destroy(ws);
    tk_dataset_destroy(ds);
    tk_model_destroy(m);
    return rc;
}
