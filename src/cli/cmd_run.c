/* `tokattr run JOB`: the attribution job, usually under mpirun. */
#include <math.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/job.h"
#include "cli/job_edit.h"
#include "cli/method_params.h"
#include "cli/run_summary.h"
#include "pipeline/run.h"
#include "pipeline/stop_deadline.h"
#include "report/results.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mpirun -n N tokattr run JOB.yaml [--resume [--allow-job-edit] | --force]\n"
            "                                        [--shared DIR] [--quiet]\n"
            "                                        [--ranks-per-node K]\n"
            "       tokattr run JOB.yaml --list-paths [--shared DIR]\n"
            "\n"
            "Computes the job's attributions for every selected review and writes one HDF5\n"
            "results file (README \"Running a job\", \"Results file\").\n"
            "\n"
            "  --resume      continue an interrupted run (the results file records what is done)\n"
            "  --allow-job-edit  with --resume: continue although the job file changed, when\n"
            "                no changed key touches what is computed (checkpoint_every,\n"
            "                checkpoint_seconds, writer, results, model/dataset paths of the\n"
            "                same files, comments); the edited job is recorded in the file\n"
            "  --force       overwrite existing results\n"
            "  --shared DIR  where \"shared:\" paths in the job point (default $TOKATTR_SHARED,\n"
            "                else ../shared)\n"
            "  --quiet       no progress output\n"
            "  --ranks-per-node K  treat each K consecutive ranks of a host as one node (own\n"
            "                weight window, own leader), to run the multi-node path on one\n"
            "                host (default $TOKATTR_RANKS_PER_NODE, else the real nodes)\n"
            "  --list-paths  print the files the job reads and writes, one 'key<TAB>path' a line\n"
            "                (model, dataset, word_index, word_vectors, results), and exit;\n"
            "                slurm/ uses it to refuse node-local paths on several nodes\n"
            "\n"
            "Environment: TOKATTR_DEBUG_WINDOW=1 lists every rank's weight window mapping and\n"
            "PSS at the end (Linux; README \"Cluster users\").\n"
            "\n"
            "Job defaults: split test, select all, num_words and maxlen from the model,\n"
            "padding and truncating the dataset tokenizer's side (pre; post for\n"
            "text-vectorization), chunk_size 16, checkpoint_every 1,\n"
            "checkpoint_seconds 2, writer ranks (each computing rank writes its units into\n"
            "the results file, which must then be one file for every node; root: rank 0\n"
            "writes every result). faithfulness: off unless the key is there; {} = k 10,\n"
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

/* A node size from --ranks-per-node or $TOKATTR_RANKS_PER_NODE: a positive
 * integer; 0 (real nodes) when text is NULL or empty, -1 when invalid. */
static int parse_ranks_per_node(const char *text)
{
    if (!text || !*text)
        return 0;
    char *end = NULL;
    long v = strtol(text, &end, 10);
    return (*end || v < 1 || v > 1 << 20) ? -1 : (int)v;
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

/* Per method: the axiom errors, all-zero explanations (summaries ignore
 * nothing) and faithfulness. A resumed run reads them from the file, over
 * every review done in it, and says how many of them it computed now. */
static void print_method_summary(const tk_run_summary *run, const tk_job *job)
{
    tk_run_summary copy;
    const tk_run_summary *use = run;
    tk_file_summary fs = {0};
    if (run->n_done_before > 0) {
        tk_error err = {0};
        if (tk_file_summary_read(run->final_path, &fs, &err) != TK_OK) {
            fprintf(stderr, "tokattr run: warning: no summary of the whole file (%s); the "
                            "figures below cover the %lld reviews computed now\n",
                    err.msg, (long long)(run->n_done - run->n_done_before));
        } else {
            printf("  summary of all %lld reviews in the file (%lld computed now, %lld in "
                   "earlier runs):\n",
                   (long long)fs.n_done, (long long)(run->n_done - run->n_done_before),
                   (long long)run->n_done_before);
            memcpy(&copy, run, sizeof copy);
            copy.n_methods = fs.n_methods < 16 ? fs.n_methods : 16;
            for (int k = 0; k < copy.n_methods; k++) {
                const tk_file_method_stats *f = &fs.methods[k];
                tk_run_method_stats *m = &copy.methods[k];
                snprintf(m->name, sizeof m->name, "%s", f->name);
                m->n = f->n;
                m->mean_abs_error = f->mean_abs_error;
                m->max_abs_error = f->max_abs_error;
                m->n_all_zero = f->n_all_zero;
                m->has_faith = f->has_faith;
                m->faith_aopc = f->faith_aopc;
                m->faith_random_aopc = f->faith_random_aopc;
            }
            use = &copy;
        }
    }
    const tk_run_summary *s = use;
    for (int k = 0; k < s->n_methods; k++)
        printf("  %-20s axiom error |mean| %.3g, |max| %.3g over %lld reviews\n",
               s->methods[k].name, s->methods[k].mean_abs_error, s->methods[k].max_abs_error,
               (long long)s->methods[k].n);
    /* Summaries ignore nothing: all-zero explanations are said. */
    for (int k = 0; k < s->n_methods; k++)
        if (s->methods[k].n_all_zero > 0) {
            const tk_method_params *mp = NULL; /* by name: the file lists its groups sorted */
            for (int j = 0; j < job->n_methods; j++)
                if (strcmp(job->methods[j].name, s->methods[k].name) == 0)
                    mp = &job->methods[j];
            fprintf(stderr, "tokattr run: warning: %s: %lld of %lld reviews have every score 0",
                    s->methods[k].name, (long long)s->methods[k].n_all_zero,
                    (long long)s->methods[k].n);
            if (mp && mp->kind == TK_METHOD_LRP_EPSILON)
                fprintf(stderr, " (eps %g absorbs all relevance; try a smaller eps)", mp->eps);
            fputc('\n', stderr);
        }
    /* the adaptive rule's budget stops are said, never dropped (from this
     * run's own stats: the reviews computed now) */
    for (int k = 0; k < run->n_methods; k++) {
        const tk_run_method_stats *ms = &run->methods[k];
        const tk_method_params *mp = NULL;
        for (int j = 0; j < job->n_methods; j++)
            if (strcmp(job->methods[j].name, ms->name) == 0)
                mp = &job->methods[j];
        if (!ms->has_tolerance || mp == NULL)
            continue;
        printf("  %-20s adaptive: %lld of %lld reviews%s within tolerance %g; max error "
               "estimate %.3g; evaluations mean %.1f, max %d\n",
               ms->name, (long long)(ms->n - ms->n_over_tolerance), (long long)ms->n,
               run->n_done_before > 0 ? " computed now" : "", mp->tolerance,
               ms->max_error_estimate, ms->n > 0 ? (double)ms->steps_sum / (double)ms->n : 0.0,
               ms->steps_max);
        if (ms->n_over_tolerance > 0)
            fprintf(stderr,
                    "tokattr run: warning: %s: %lld of %lld reviews did not meet tolerance "
                    "%g within max_steps %d (their error_estimate is in the results)\n",
                    ms->name, (long long)ms->n_over_tolerance, (long long)ms->n, mp->tolerance,
                    mp->max_steps);
    }
    for (int k = 0; k < s->n_methods; k++)
        if (s->methods[k].has_faith)
            printf("  %-20s faithfulness: mean AOPC %.4f, random order %.4f\n",
                   s->methods[k].name, s->methods[k].faith_aopc,
                   s->methods[k].faith_random_aopc);
    for (int k = 0; k < fs.n_methods; k++)
        printf("  %-20s non-finite: %lld scores, %lld axiom errors\n", fs.methods[k].name,
               (long long)fs.methods[k].n_nonfinite_score,
               (long long)fs.methods[k].n_nonfinite_error);
    tk_file_summary_free(&fs);
}

/* --resume with a job file that is not the one the results were made
 * with: says what changed; accepts it (*file_job = the file's text) only
 * with --allow-job-edit and only when no change touches what is computed.
 * Returns TK_EXIT_OK to go on. */
static int check_job_edit(const tk_job *job, bool allow_edit, char **file_job)
{
    *file_job = NULL;
    char partial[4300];
    tk_run_partial_path(job->output_path, partial, sizeof partial);
    const char *path = access(partial, F_OK) == 0 ? partial
                       : access(job->output_path, F_OK) == 0 ? job->output_path
                                                              : NULL;
    if (!path)
        return TK_EXIT_OK; /* nothing to resume: the run says so */
    bool root = env_rank() == 0;
    tk_error err = {0};
    char *old = NULL;
    if (tk_results_job_text_read(path, &old, &err) != TK_OK || !old) {
        free(old);
        return TK_EXIT_OK; /* the run's own checks refuse such a file */
    }
    if (strcmp(old, job->yaml_text) == 0) {
        free(old);
        return TK_EXIT_OK;
    }
    tk_job_diff d;
    if (tk_job_diff_texts(old, job->yaml_text, &d, &err) != TK_OK) {
        if (root)
            fprintf(stderr, "tokattr run: %s: refusing to resume: the job file changed and the "
                            "texts cannot be compared (%s); use --force to start over\n",
                    path, err.msg);
        free(old);
        return TK_EXIT_FAILURE;
    }
    char what[2048];
    tk_job_diff_describe(&d, what, sizeof what);
    int rc = TK_EXIT_FAILURE;
    if (d.affects_results) {
        if (root)
            fprintf(stderr, "tokattr run: %s: refusing to resume: the file was made with a "
                            "different job file: %s; undo the change, or use --force to start over\n",
                    path, what);
    } else if (!allow_edit) {
        if (root)
            fprintf(stderr, "tokattr run: %s: refusing to resume: the file was made with a "
                            "different job file: %s. That does not touch what is computed: run with "
                            "--resume --allow-job-edit to continue with the edited job (it is "
                            "recorded in the file)\n",
                    path, what);
    } else {
        if (root)
            fprintf(stderr, "tokattr run: note: continuing %s with an edited job: %s\n", path,
                    what);
        *file_job = old;
        old = NULL;
        rc = TK_EXIT_OK;
    }
    tk_job_diff_free(&d);
    free(old);
    return rc;
}

static int exit_code(tk_status st)
{
    if (st == TK_OK)
        return TK_EXIT_OK;
    return st == TK_E_INTERRUPTED ? TK_EXIT_RESUMABLE : TK_EXIT_FAILURE;
}

/* The node layout, and the phase timers over the ranks (CoMD's table) with
 * rank 0's cost per review and the rate at which it would saturate. */
static void print_nodes_and_timers(const tk_run_summary *s, int64_t computed)
{
    if (s->node_ranks_min == s->node_ranks_max)
        printf("  nodes: %d x %d rank%s, one %.1f MB weight window per node\n", s->nodes,
               s->node_ranks_max, s->node_ranks_max == 1 ? "" : "s", s->weight_bytes / 1e6);
    else
        printf("  nodes: %d of %d-%d ranks, one %.1f MB weight window per node\n", s->nodes,
               s->node_ranks_min, s->node_ranks_max, s->weight_bytes / 1e6);
    static const char *names[TK_PHASE_N] = {"compute", "wait", "receive", "write", "flush"};
    printf("  %-10s %10s %10s %10s %10s %6s\n", "timer (s)", "rank 0", "min", "mean", "max",
           "ranks");
    for (int i = 0; i < TK_PHASE_N; i++) {
        const tk_run_timer *t = &s->timers[i];
        printf("  %-10s %10.3f %10.3f %10.3f %10.3f %6d\n", names[i], t->rank0, t->min, t->mean,
               t->max, t->ranks);
    }
    if (computed <= 0)
        return;
    /* receiving is paid for the reviews other ranks computed, writing and
     * flushing for all, the layout for every review of the file (none on a
     * resume); in wall time and in CPU time (the cost on a core of its own,
     * when others share rank 0's) */
    for (int cpu = 0; cpu < 2; cpu++) {
        /* rank 0 as the coordinator: a ranks writer's own pwrite and sync
         * when it computes too are its computing side's (the phase table) */
        const double *t = cpu ? s->root_cpu : s->root_wall;
        double tr = t[TK_PHASE_RECEIVE], tw = t[TK_PHASE_WRITE], tf = t[TK_PHASE_FLUSH];
        double recv = s->root_received > 0 ? tr / (double)s->root_received : 0;
        double write = tw / (double)computed, flush = tf / (double)computed;
        double lay = (cpu ? s->layout_cpu_seconds : s->layout_seconds) /
                     (double)(s->n_reviews > 0 ? s->n_reviews : 1);
        double per = recv + write + flush + lay;
        printf("  rank 0 per review (%s): receive %.4f + write %.4f + flush %.4f + layout %.4f "
               "= %.4f ms",
               cpu ? "CPU" : "wall", 1e3 * recv, 1e3 * write, 1e3 * flush, 1e3 * lay, 1e3 * per);
        if (per > 0)
            printf(": saturates at %.0f reviews/s", 1.0 / per);
        if (s->root_flushes > 0)
            printf(" (%lld flushes, %.1f ms each)", (long long)s->root_flushes,
                   1e3 * tf / (double)s->root_flushes);
        printf("\n");
    }
}

int tk_cmd_run(int argc, char **argv)
{
    const char *job_path = NULL, *shared = NULL;
    const char *per_node = getenv("TOKATTR_RANKS_PER_NODE"), *per_node_from = "TOKATTR_RANKS_PER_NODE";
    bool resume = false, force = false, quiet = false, list_paths = false, allow_edit = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return TK_EXIT_OK;
        } else if (strcmp(argv[i], "--resume") == 0) {
            resume = true;
        } else if (strcmp(argv[i], "--allow-job-edit") == 0) {
            allow_edit = true;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(argv[i], "--list-paths") == 0) {
            list_paths = true;
        } else if (strcmp(argv[i], "--shared") == 0 && i + 1 < argc) {
            shared = argv[++i];
        } else if (strcmp(argv[i], "--ranks-per-node") == 0 && i + 1 < argc) {
            per_node = argv[++i];
            per_node_from = "--ranks-per-node";
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
    if (!job_path || (resume && force) || (allow_edit && !resume)) {
        if (env_rank() == 0) {
            if (resume && force)
                fprintf(stderr, "tokattr run: --resume and --force exclude each other\n");
            if (allow_edit && !resume)
                fprintf(stderr, "tokattr run: --allow-job-edit goes with --resume\n");
            usage(stderr);
        }
        return TK_EXIT_USAGE;
    }

    int ranks_per_node = parse_ranks_per_node(per_node);
    if (ranks_per_node < 0) {
        if (env_rank() == 0)
            fprintf(stderr, "tokattr run: %s must be a positive number of ranks, not '%s'\n",
                    per_node_from, per_node);
        return TK_EXIT_USAGE;
    }
    const char *debug_window = getenv("TOKATTR_DEBUG_WINDOW");

    tk_error err = {0};
    tk_job *job = NULL;
    if (tk_job_load(job_path, shared, &job, &err) != TK_OK) {
        if (env_rank() == 0)
            fprintf(stderr, "tokattr run: %s\n", err.msg);
        return TK_EXIT_FAILURE;
    }
    if (list_paths) {
        const char *key[] = {"model", "architecture", "dataset", "word_index", "word_vectors",
                             "results"};
        const char *path[] = {job->model_path, job->architecture_path, job->dataset_path,
                              job->word_index, job->word_vectors, job->output_path};
        for (size_t i = 0; i < sizeof key / sizeof key[0]; i++)
            if (path[i])
                printf("%s\t%s\n", key[i], path[i]);
        tk_job_destroy(job);
        return TK_EXIT_OK;
    }

    /* the command line, stored in the results file; --force, --resume and
     * --quiet change nothing in the results, so they are left out and a
     * resumed or forced run records the same text */
    char cmd[4096] = "tokattr";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "--resume") == 0 ||
            strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "--allow-job-edit") == 0)
            continue;
        size_t used = strlen(cmd);
        snprintf(cmd + used, sizeof cmd - used, " %s", argv[i]);
    }

    /* a resume compares the job texts first, on every rank alike (each
     * reads the file's job attribute), so a refusal ends all of them */
    char *file_job = NULL;
    const char *job_text = job->yaml_text;
    if (resume) {
        int rc = check_job_edit(job, allow_edit, &file_job);
        if (rc != TK_EXIT_OK) {
            tk_job_destroy(job);
            return rc;
        }
        if (file_job)
            job_text = file_job; /* the text the file was made with: the run checks it */
    }

    tk_run_config cfg = {.model_path = job->model_path,
                         .architecture_path = job->architecture_path,
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
                         .writer = job->writer,
                         .job_yaml = job_text,
                         .command_line = cmd,
                         .resume = resume,
                         .force = force,
                         .progress = quiet ? NULL : stderr,
                         .ranks_per_node = ranks_per_node,
                         .errors = stderr,
                         .window_report = debug_window && *debug_window && strcmp(debug_window, "0")
                                              ? stderr
                                              : NULL,
                         .select_spec = job->select_spec,
                         .stop_deadline_seconds = tk_stop_deadline_for_env()};
    tk_run_summary sum;
    tk_status st = tk_run(&argc, &argv, &cfg, &sum, &err);
    if (sum.is_root) {
        if (st != TK_OK) {
            if (!sum.error_printed)
                fprintf(stderr, "tokattr run: %s\n", err.msg);
        } else if (sum.already_complete) {
            printf("tokattr run: %s is already complete (%lld reviews); nothing to do\n",
                   sum.final_path, (long long)sum.n_reviews);
        } else {
            int64_t computed = sum.n_done - sum.n_done_before;
            printf("tokattr run: %lld reviews (%lld computed now, %lld done before) in %.2f s "
                   "on %d rank%s: %.1f reviews/s; setup %.2f s; layout %.2f s (during the "
                   "work); rank 0 writing %.2f s\n",
                   (long long)sum.n_done, (long long)computed, (long long)sum.n_done_before,
                   sum.seconds, sum.ranks, sum.ranks == 1 ? "" : "s",
                   sum.seconds > 0 ? (double)computed / sum.seconds : 0.0, sum.setup_seconds,
                   sum.layout_seconds, sum.root_busy_seconds);
            print_nodes_and_timers(&sum, computed);
            print_method_summary(&sum, job);
            print_accuracy(&sum);
            printf("results: %s\n", sum.final_path);
        }
    }
    if (file_job && sum.is_root && (st == TK_OK || st == TK_E_INTERRUPTED)) {
        /* the edit accepted: from now on the file carries the edited job */
        char partial[4300];
        tk_run_partial_path(job->output_path, partial, sizeof partial);
        const char *path = st == TK_OK ? sum.final_path : partial;
        tk_error werr = {0};
        if (tk_results_job_text_write(path, job->yaml_text, &werr) != TK_OK)
            fprintf(stderr, "tokattr run: warning: the edited job is not recorded: %s\n", werr.msg);
        else
            printf("tokattr run: %s records the edited job (the earlier text: attribute "
                   "job_history)\n", path);
    }
    free(file_job);
    tk_job_destroy(job);
    return exit_code(st);
}
