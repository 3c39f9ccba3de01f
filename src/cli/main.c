/* tokattr: per-token attributions for text classifiers at dataset scale. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/blas_kernels.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("tokattr %s\n", TOKATTR_VERSION);
    return TK_EXIT_OK;
}

/* One line per subcommand, in the order `tokattr --help` lists them. */
static const command COMMANDS[] = {
    {"version", cmd_version, "print the version"},
    {"prepare", tk_cmd_prepare, "a corpus (CSV, TSV, JSONL, a tree, lines, the IMDB archive) -> dataset HDF5"},
    {"train", tk_cmd_train, "train a reference architecture, write a Keras 2 .h5 or Keras 3 .keras"},
    {"evaluate", tk_cmd_evaluate, "accuracy, confusion matrix, loss and speed of a model on a split"},
    {"run", tk_cmd_run, "the attribution job (under mpirun): results HDF5, resumable"},
    {"report", tk_cmd_report, "static HTML report with heatmaps and dataset-wide findings"},
    {"explain", tk_cmd_explain, "one method's per-word scores for a few reviews or a raw text"},
    {"inspect", tk_cmd_inspect, "what is in a dataset or results file, or a Keras model"},
    {"tokenize", tk_cmd_tokenize, "a text's words, token ids and model input under a tokenizer"},
    {"export", tk_cmd_export, "results as CSV / JSON Lines tables (per token, per review, words)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: tokattr COMMAND [ARGS...]   (tokattr COMMAND --help for its options)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(out, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "\nversion %s\n", TOKATTR_VERSION);
}

int main(int argc, char **argv)
{
    tk_blas_kernels_fix(argv);
    if (argc < 2) {
        usage(stderr);
        return TK_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return TK_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tokattr: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return TK_EXIT_USAGE;
}
