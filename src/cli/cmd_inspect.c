/* tokattr inspect FILE: what is in a dataset file (this part), a model or a
 * results file (each kind adds one probe + printer to KINDS). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "data/dataset.h"
#include "report/results.h"

typedef struct inspect_opts {
    const char *split;  /* --split, default "test" */
    long review;        /* --review I, -1 = none */
    int top;            /* --top N vocabulary words */
} inspect_opts;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Documents per class (class names from the dataset), unlabelled ones apart. */
static void print_split(const tk_dataset *ds, const tk_split *s)
{
    int64_t *per_label = calloc((size_t)ds->n_classes + 1, sizeof *per_label); /* (C + 1), last: unlabelled */
    int64_t *len = malloc((size_t)(s->n ? s->n : 1) * sizeof *len); /* (n) review lengths */
    for (int64_t i = 0; i < s->n; i++) {
        if (per_label != NULL)
            per_label[s->label[i] >= 0 && s->label[i] < ds->n_classes ? s->label[i] : ds->n_classes]++;
        if (len != NULL)
            len[i] = s->offset[i + 1] - s->offset[i];
    }
    printf("  %-5s %lld reviews (", s->name ? s->name : "?", (long long)s->n);
    for (int c = 0; per_label != NULL && c <= ds->n_classes; c++)
        if (c < ds->n_classes || per_label[c] > 0)
            printf("%s%lld %s", c ? ", " : "", (long long)per_label[c],
                   c < ds->n_classes ? ds->class_names[c] : "unlabelled");
    printf("), %lld tokens", (long long)s->offset[s->n]);
    if (len != NULL && s->n > 0) {
        qsort(len, (size_t)s->n, sizeof *len, cmp_i64);
        printf(", length min %lld / median %lld / p90 %lld / max %lld", (long long)len[0],
               (long long)len[s->n / 2], (long long)len[s->n * 9 / 10], (long long)len[s->n - 1]);
    }
    printf("\n");
    free(len);
    free(per_label);
}

static int inspect_dataset(const char *path, const inspect_opts *o)
{
    tk_dataset *ds = NULL;
    tk_error err = {0};
    if (tk_dataset_read(path, &ds, &err) != TK_OK) {
        fprintf(stderr, "tokattr inspect: %s\n", err.msg);
        return TK_EXIT_FAILURE;
    }
    printf("dataset file %s (word index sha256 %s)\n", path, ds->word_index_sha256);
    printf("  format %s, dataset version %d, tokenizer %s %s\n", ds->format, ds->dataset_version,
           ds->tokenizer.kind, ds->tokenizer.params_json);
    for (int k = 0; k < ds->n_splits; k++)
        print_split(ds, &ds->splits[k]);
    printf("  vocabulary: %lld words", (long long)ds->vocab_size);
    for (int r = 0; r < o->top && r < ds->vocab_size; r++)
        printf(r ? ", %s (%lld)" : "; most frequent: %s (%lld)", ds->vocab[r], (long long)ds->counts[r]);
    printf("\n");
    int rc = TK_EXIT_OK;
    if (o->review >= 0) {
        const tk_split *s = tk_dataset_split(ds, o->split, &err);
        if (s == NULL || o->review >= s->n) {
            fprintf(stderr, "tokattr inspect: %s: %s\n", path,
                    s == NULL ? err.msg : "--review is beyond the split's last review");
            rc = TK_EXIT_USAGE;
        } else {
            int64_t i = o->review;
            const char *cls = s->label[i] >= 0 && s->label[i] < ds->n_classes ? ds->class_names[s->label[i]]
                                                                                : "unlabelled";
            if (strcmp(ds->format, "imdb") == 0)
                printf("%s review %lld: file %d_%d.txt (%s), %lld tokens\n", o->split, (long long)i,
                       s->review_id[i], s->rating[i], cls, (long long)(s->offset[i + 1] - s->offset[i]));
            else
                printf("%s review %lld: id %s (%s), %lld tokens\n", o->split, (long long)i,
                       s->doc_id ? s->doc_id[i] : "?", cls, (long long)(s->offset[i + 1] - s->offset[i]));
            for (int64_t k = s->offset[i]; k < s->offset[i + 1]; k++)
                printf("%s%s", k > s->offset[i] ? " " : "  ", tk_dataset_word(ds, s->ids[k]));
            printf("\n");
            if (s->word_offset != NULL) {
                printf("  words:");
                for (int64_t k = s->offset[i]; k < s->offset[i + 1]; k++) {
                    size_t wl;
                    const char *w = tk_split_word(s, k, &wl);
                    printf(" %.*s", (int)wl, w);
                }
                printf("\n");
            }
        }
    }
    tk_dataset_destroy(ds);
    return rc;
}

/* The root attributes worth a line, in this order. */
static const char *const PROVENANCE[] = {"tokattr_version", "command_line", "model_path",
                                         "model_sha256", "dataset_path", "dataset_sha256",
                                         "split", "ranks", "start_time", "finish_time"};

/* A method's own parameters (the rest of its attributes are defaults that
 * do not apply to it). */
static bool own_param(const char *method, const char *name)
{
    static const struct {
        const char *method, *params;
    } OWN[] = {
        {"saliency", ""},
        {"grad_input", ""},
        {"integrated_gradients", " n_steps rule baseline baseline_token "},
        {"occlusion", " window baseline baseline_token "},
        {"deeplift", " baseline "},
        {"deepshap", " background_size background_random seed "},
        {"lrp_epsilon", " eps bias_factor "},
    };
    if (strcmp(name, "method") == 0 || strcmp(name, "target") == 0 ||
        strcmp(name, "target_class") == 0 || strcmp(name, "output") == 0 ||
        strcmp(name, "reduction") == 0)
        return true;
    char key[80];
    snprintf(key, sizeof key, " %s ", name);
    for (size_t i = 0; i < sizeof OWN / sizeof OWN[0]; i++)
        if (strcmp(OWN[i].method, method) == 0)
            return strstr(OWN[i].params, key) != NULL;
    return true; /* a method this build does not know: show everything */
}

static int inspect_results(const char *path, const inspect_opts *o)
{
    tk_results *r = NULL;
    tk_error err = {0};
    if (tk_results_load(path, &r, &err) != TK_OK) {
        fprintf(stderr, "tokattr inspect: %s\n", err.msg);
        return TK_EXIT_FAILURE;
    }
    int64_t done = 0, labelled = 0, correct = 0, truncated = 0, oov = 0;
    for (int64_t i = 0; i < r->n; i++) {
        done += r->done[i] != 0;
        if (r->done[i] && r->label[i] >= 0) {
            labelled++;
            correct += tk_results_predicted(r, i) == r->label[i];
        }
        truncated += r->truncated && r->truncated[i] > 0;
    }
    for (int64_t t = 0; t < r->t; t++)
        oov += tk_results_token_is_oov(r, t);
    const char *finish = tk_results_attr_find(r->root_attrs, r->n_root_attrs, "finish_time");
    printf("results file %s\n", path);
    for (size_t i = 0; i < sizeof PROVENANCE / sizeof PROVENANCE[0]; i++) {
        const char *v = tk_results_attr_find(r->root_attrs, r->n_root_attrs, PROVENANCE[i]);
        if (v && v[0])
            printf("  %-16s %s\n", PROVENANCE[i], v);
    }
    printf("  progress         %lld of %lld reviews done%s\n", (long long)done, (long long)r->n,
           done == r->n && finish && finish[0] ? " (complete)"
                                              : " (partial: continue with tokattr run JOB --resume)");
    printf("  reviews          %lld, %lld tokens (%lld out of the model's vocabulary), %lld "
           "reviews truncated\n",
           (long long)r->n, (long long)r->t, (long long)oov, (long long)truncated);
    char cb[32];
    printf("  classes          %d:", tk_results_n_classes(r));
    for (int c = 0; c < tk_results_n_classes(r); c++)
        printf(" %s", tk_results_class_name(r, c, cb, sizeof cb));
    printf("%s\n", r->class_name.n ? "" : " (no /classes/name)");
    if (labelled > 0)
        printf("  accuracy         %.5f (%lld of %lld labelled reviews done)\n",
               (double)correct / (double)labelled, (long long)correct, (long long)labelled);
    printf("  words            %s\n", r->token_word.s ? "/tokens/word (as tokenized)"
                                                      : "from /vocab/word (older file)");
    for (int m = 0; m < r->n_methods; m++) {
        const tk_results_method *mm = &r->methods[m];
        const char *kind = tk_results_attr_find(mm->attrs, mm->n_attrs, "method");
        printf("  method %s:", mm->name);
        const char *target = tk_results_attr_find(mm->attrs, mm->n_attrs, "target");
        const char *baseline = tk_results_attr_find(mm->attrs, mm->n_attrs, "baseline");
        for (int a = 0; a < mm->n_attrs; a++) {
            const char *name = mm->attrs[a].name;
            /* a class or token number only says something when it is used */
            if ((strcmp(name, "target_class") == 0 && !(target && strcmp(target, "class") == 0)) ||
                (strcmp(name, "baseline_token") == 0 &&
                 !(baseline && strcmp(baseline, "token") == 0)))
                continue;
            if (own_param(kind ? kind : "", name))
                printf(" %s=%s", name, mm->attrs[a].value);
        }
        double sum = 0, mx = 0;
        int64_t n = 0;
        for (int64_t i = 0; mm->axiom_error && i < r->n; i++)
            if (r->done[i]) {
                double e = mm->axiom_error[i] < 0 ? -mm->axiom_error[i] : mm->axiom_error[i];
                sum += e;
                mx = e > mx ? e : mx;
                n++;
            }
        if (n > 0)
            printf("; axiom error |mean| %.3g, |max| %.3g", sum / (double)n, mx);
        printf("%s\n", mm->faith ? "; faithfulness curves" : "");
    }
    int rc = TK_EXIT_OK;
    if (o->review >= 0) {
        int64_t i = o->review;
        if (i >= r->n) {
            fprintf(stderr, "tokattr inspect: %s: --review %lld is beyond the file's %lld reviews\n",
                    path, (long long)i, (long long)r->n);
            rc = TK_EXIT_USAGE;
        } else if (!r->done[i]) {
            fprintf(stderr, "tokattr inspect: %s: review %lld is not done yet\n", path,
                    (long long)i);
            rc = TK_EXIT_USAGE;
        } else {
            printf("review %lld (doc id %s, label %s, predicted %s)\n", (long long)i,
                   r->doc_id.s ? r->doc_id.s[i] : "-",
                   r->label[i] >= 0 ? tk_results_class_name(r, r->label[i], cb, sizeof cb) : "-",
                   tk_results_class_name(r, tk_results_predicted(r, i), cb + 16, 16));
            printf("  %-20s", "word");
            for (int m = 0; m < r->n_methods; m++)
                printf(" %12.12s", r->methods[m].name);
            printf("\n");
            char wb[32];
            for (int64_t t = r->token_offset[i]; t < r->token_offset[i + 1]; t++) {
                printf("  %-20s", tk_results_token_word(r, t, wb, sizeof wb));
                for (int m = 0; m < r->n_methods; m++)
                    printf(" %+12.5g", r->methods[m].score[t]);
                printf("%s\n", tk_results_token_is_oov(r, t) ? "  (oov)" : "");
            }
        }
    }
    tk_results_destroy(r);
    return rc;
}

/* One line per kind of file tokattr knows. */
typedef struct kind {
    const char *name;
    bool (*probe)(const char *path);
    int (*print)(const char *path, const inspect_opts *o);
} kind;

static const kind KINDS[] = {
    {"dataset", tk_dataset_probe, inspect_dataset},
    {"results", tk_results_probe, inspect_results},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: tokattr inspect FILE [options]\n\n"
                 "Prints what a tokattr file holds (dataset file: splits, lengths, vocabulary;\n"
                 "results file: provenance, progress, counts, methods and their parameters).\n\n"
                 "  --review I     also print review I of the split (results: of the file) as words\n"
                 "                 (default: none)\n"
                 "  --split NAME   train or test (default: test)\n"
                 "  --top N        most frequent vocabulary words to list (default: 10)\n"
                 "  --help         this text\n");
}

int tk_cmd_inspect(int argc, char **argv)
{
    inspect_opts o = {.split = "test", .review = -1, .top = 10};
    static const struct option LONG[] = {
        {"review", required_argument, NULL, 'r'}, {"split", required_argument, NULL, 's'},
        {"top", required_argument, NULL, 't'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "r:s:t:h", LONG, NULL)) != -1;) {
        char *end = NULL;
        switch (c) {
        case 'r':
            o.review = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || o.review < 0) {
                fprintf(stderr, "tokattr inspect: --review needs a review index >= 0, got '%s'\n", optarg);
                return TK_EXIT_USAGE;
            }
            break;
        case 's': o.split = optarg; break;
        case 't':
            o.top = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || o.top < 0) {
                fprintf(stderr, "tokattr inspect: --top needs a count >= 0, got '%s'\n", optarg);
                return TK_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return TK_EXIT_OK;
        default: usage(stderr); return TK_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return TK_EXIT_USAGE;
    }
    const char *path = argv[optind];
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (KINDS[i].probe(path))
            return KINDS[i].print(path, &o);
    fprintf(stderr, "tokattr inspect: %s: not a file tokattr knows (missing, not HDF5, or not a "
            "dataset or results file)\n", path);
    return TK_EXIT_FAILURE;
}
