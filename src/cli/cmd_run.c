/* `tokattr run JOB`: the attribution job, usually under mpirun. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/job.h"
#include "cli/method_params.h"
#include "pipeline/run.h"
#include "report/results.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mpirun -n N tokattr run JOB.yaml [--resume | --force] [--shared DIR] [--quiet]\n"
            "\n"
            "Computes the job's attributions for every selected review and writes one HDF5\n"
            "results file (README \"Running a job\", \"Results file\").\n"
            "\n"
            "  --resume      continue an interrupted run (the results file records what is done)\n"
            "  --force       overwrite existing results\n"
            "  --shared DIR  where \"shared:\" paths in the job point (default $TOKATTR_SHARED,\n"
            "                else ../shared)\n"
            "  --quiet       no progress output\n"
            "\n"
            "Job defaults: split test, select all, num_words and maxlen from the model,\n"
            "padding and truncating the dataset tokenizer's side (pre; post for\n"
            "text-vectorization), chunk_size 16, checkpoint_every 1,\n"
            "checkpoint_seconds 2. faithfulness: off unless the key is there; {} = k 10,\n"
            "replace pad, seed 1.\n"
            "tokenizer: KIND[:FILE] (%s),\n"
            "or dataset: what the model was trained with; required when the model file does\n"
            "not record its vocabulary (word_index: FILE = tokattr-imdb:FILE).\n"
            "\n"
            "Method keys (per method; target, target_class, output and reduction also job-wide),\n"
            "[the default]:\n",
            tk_tokenizer_spellings());
    tk_method_params_help(out, "", false);
    fprintf(out,
            "\n"
            "Exit status: 0 done, 1 failed, 2 usage, 3 stopped by SIGTERM/SIGUSR1/SIGINT\n"
            "(resumable: run the same command with --resume).\n");
}

/* Before MPI starts, only the environment says which rank we are; only
 * rank 0 prints, so an error is seen once. */
static int env_rank(void)
{
    const char *names[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

/* On a labelled split: the accuracy over every review in the file, and a
 * warning when it is no better than always guessing the commonest label,
 * or well below what the model's training recorded, by more than two
 * standard errors of the estimate (and at least 0.05 / 0.03; judged from
 * 100 labelled reviews on): the usual sign of a dataset prepared with
 * another tokenizer than the model's. */
static void print_accuracy(const tk_run_summary *sum)
{
    int64_t n = 0, correct = 0, majority = 0;
    tk_error err = {0};
    if (tk_results_accuracy(sum->final_path, &n, &correct, &majority, &err) != TK_OK) {
        fprintf(stderr, "tokattr run: warning: no accuracy: %s\n", err.msg);
        return;
    }
    if (n == 0)
        return;
    double acc = (double)correct / (double)n, chance = (double)majority / (double)n;
    double se = sqrt(chance * (1 - chance) / (double)n);
    printf("  accuracy %.5f (%lld of %lld labelled reviews; the commonest label alone: %.5f)\n",
           acc, (long long)correct, (long long)n, chance);
    if (n < 100) /* too few to tell a broken tokenizer from bad luck */
        return;
    if (acc - chance < fmax(0.05, 2 * se))
        fprintf(stderr,
                "tokattr run: warning: the accuracy %.3f is near chance (%.3f): is the dataset "
                "tokenized the way the model was trained (job key 'tokenizer')?\n",
                acc, chance);
    else if (!isnan(sum->recorded_accuracy) &&
             sum->recorded_accuracy - acc > fmax(0.03, 2 * sqrt(acc * (1 - acc) / (double)n)))
        fprintf(stderr,
                "tokattr run: warning: the accuracy %.3f is far below the %.3f the model file "
                "records: is the dataset tokenized the way the model was trained?\n",
                acc, sum->recorded_accuracy);
}

static int exit_code(tk_status st)
{
    if (st == TK_OK)
        return TK_EXIT_OK;
    return st == TK_E_INTERRUPTED ? TK_EXIT_RESUMABLE : TK_EXIT_FAILURE;
}

int tk_cmd_run(int argc, char **argv)
{
    const char *job_path = NULL, *shared = NULL;
    bool resume = false, force = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return TK_EXIT_OK;
        } else if (strcmp(argv[i], "--resume") == 0) {
            resume = true;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(argv[i], "--shared") == 0 && i + 1 < argc) {
            shared = argv[++i];
        } else if (argv[i][0] == '-') {
            if (env_rank() == 0) {
                fprintf(stderr, "tokattr run: unknown option '%s'\n", argv[i]);
                usage(stderr);
            }
            return TK_EXIT_USAGE;
        } else if (!job_path) {
            job_path = argv[i];
        } else {
            if (env_rank() == 0)
                fprintf(stderr, "tokattr run: one job file only ('%s' is extra)\n", argv[i]);
            return TK_EXIT_USAGE;
        }
    }
    if (!job_path || (resume && force)) {
        if (env_rank() == 0) {
            if (resume && force)
                fprintf(stderr, "tokattr run: --resume and --force exclude each other\n");
            usage(stderr);
        }
        return TK_EXIT_USAGE;
    }

    tk_error err = {0};
    tk_job *job = NULL;
    if (tk_job_load(job_path, shared, &job, &err) != TK_OK) {
        if (env_rank() == 0)
            fprintf(stderr, "tokattr run: %s\n", err.msg);
        return TK_EXIT_FAILURE;
    }

    /* the command line, stored in the results file; --force, --resume and
     * --quiet change nothing in the results, so they are left out and a
     * resumed or forced run records the same text */
    char cmd[4096] = "tokattr";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "--resume") == 0 ||
            strcmp(argv[i], "--quiet") == 0)
            continue;
        size_t used = strlen(cmd);
        snprintf(cmd + used, sizeof cmd - used, " %s", argv[i]);
    }

    tk_run_config cfg = {.model_path = job->model_path,
                         .dataset_path = job->dataset_path,
                         .split = job->split,
                         .word_index = job->word_index,
                         .tokenizer = job->has_tokenizer ? &job->tokenizer : NULL,
                         .tokenizer_dataset = job->tokenizer_dataset,
                         .shared_dir = job->shared_dir,
                         .word_vectors = job->word_vectors,
                         .ids_as_feature = job->ids_as_feature,
                         .select = job->select,
                         .first = job->first,
                         .count = job->count,
                         .indices = job->indices,
                         .n_indices = job->n_indices,
                         .label = job->label,
                         .num_words = job->num_words,
                         .maxlen = job->maxlen,
                         .padding_post = job->padding_post,
                         .truncating_post = job->truncating_post,
                         .padding_set = job->padding_set,
                         .truncating_set = job->truncating_set,
                         .n_methods = job->n_methods,
                         .methods = job->methods,
                         .faith = job->faith_enabled ? &job->faith : NULL,
                         .output_path = job->output_path,
                         .chunk_size = job->chunk_size,
                         .checkpoint_every = job->checkpoint_every,
                         .checkpoint_seconds = job->checkpoint_seconds,
                         .job_yaml = job->yaml_text,
                         .command_line = cmd,
                         .resume = resume,
                         .force = force,
                         .progress = quiet ? NULL : stderr};
    tk_run_summary sum;
    tk_status st = tk_run(&argc, &argv, &cfg, &sum, &err);
    if (sum.is_root) {
        if (st != TK_OK) {
            fprintf(stderr, "tokattr run: %s\n", err.msg);
        } else if (sum.already_complete) {
            printf("tokattr run: %s is already complete (%lld reviews); nothing to do\n",
                   sum.final_path, (long long)sum.n_reviews);
        } else {
            int64_t computed = sum.n_done - sum.n_done_before;
            printf("tokattr run: %lld reviews (%lld computed now, %lld done before) in %.1f s "
                   "on %d rank%s: %.1f reviews/s; setup %.1f s; rank 0 writing %.1f s\n",
                   (long long)sum.n_done, (long long)computed, (long long)sum.n_done_before,
                   sum.seconds, sum.ranks, sum.ranks == 1 ? "" : "s",
                   sum.seconds > 0 ? (double)computed / sum.seconds : 0.0, sum.setup_seconds,
                   sum.root_busy_seconds);
            for (int k = 0; k < sum.n_methods; k++)
                printf("  %-20s axiom error |mean| %.3g, |max| %.3g over %lld reviews\n",
                       sum.methods[k].name, sum.methods[k].mean_abs_error,
                       sum.methods[k].max_abs_error, (long long)sum.methods[k].n);
            for (int k = 0; k < sum.n_methods; k++)
                if (sum.methods[k].has_faith)
                    printf("  %-20s faithfulness: mean AOPC %.4f, random order %.4f\n",
                           sum.methods[k].name, sum.methods[k].faith_aopc,
                           sum.methods[k].faith_random_aopc);
            print_accuracy(&sum);
            printf("results: %s\n", sum.final_path);
        }
    }
    tk_job_destroy(job);
    return exit_code(st);
}
