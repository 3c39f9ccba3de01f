/* tokattr prepare: IMDB archive or directory -> dataset HDF5 (DATA.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/guard.h"
#include "core/paths.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "data/prepare.h"
#include "data/vocab.h"

#define IMDB_URL "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
#define IMDB_BYTES 84125825L /* the official archive's size */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tokattr prepare [--source PATH] --out DATASET.h5 [options]\n\n"
            "Tokenizes the labelled IMDB reviews (DATA.md), builds the vocabulary on the\n"
            "train split and writes token ids, labels, ratings, ids and the vocabulary.\n\n"
            "  --source PATH              aclImdb_v1.tar.gz or an unpacked aclImdb/ directory\n"
            "                             (default: $TOKATTR_DATA, else <shared>/data/aclImdb_v1.tar.gz,\n"
            "                             else download " IMDB_URL "\n"
            "                             into ~/.cache/tokattr)\n"
            "  --out FILE                 the dataset file to write (required)\n"
            "  --word-index FILE          take the vocabulary from a Keras word index JSON\n"
            "                             (default: count the train split)\n"
            "  --export-word-index FILE   also write the vocabulary as a Keras word index JSON\n"
            "  --shared DIR               shared data directory (default: $TOKATTR_SHARED, else ../shared)\n"
            "  --quiet                    no progress bar\n"
            "  --help                     this text\n");
}

static void on_progress(void *ctx, int64_t done)
{
    tk_progress_update(ctx, done);
}

/* The official archive, fetched once into a cache directory with curl (or
 * wget) and checked by size. */
static int download(char *path, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[4096], part[4200];
    if (xdg != NULL && xdg[0] != '\0')
        snprintf(dir, sizeof dir, "%s/tokattr", xdg);
    else
        snprintf(dir, sizeof dir, "%s/.cache/tokattr", home ? home : ".");
    if ((size_t)snprintf(path, size, "%.3900s/aclImdb_v1.tar.gz", dir) >= size)
        return -1;
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size == IMDB_BYTES)
        return 0;
    snprintf(part, sizeof part, "%s.part", path);
    /* mkdir -p: every prefix of dir, ignoring the ones that exist. */
    for (char *p = dir + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        int failed = mkdir(dir, 0755) != 0 && errno != EEXIST;
        *p = c;
        if (failed || c == '\0') {
            if (!failed)
                break;
            fprintf(stderr, "tokattr prepare: %s: cannot create the download cache directory: %s\n", dir,
                    strerror(errno));
            return -1;
        }
    }
    fprintf(stderr, "downloading %s\n       to %s\n", IMDB_URL, path);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("curl", "curl", "--fail", "--location", "--progress-bar", "-o", part, IMDB_URL, (char *)NULL);
        execlp("wget", "wget", "-q", "--show-progress", "-O", part, IMDB_URL, (char *)NULL);
        _exit(127);
    }
    int wstatus = 0;
    if (pid < 0 || waitpid(pid, &wstatus, 0) < 0 || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        fprintf(stderr, "tokattr prepare: download of %s failed (needs curl or wget and network access); "
                        "pass --source with a copy of aclImdb_v1.tar.gz\n", IMDB_URL);
        remove(part);
        return -1;
    }
    if (stat(part, &sb) != 0 || sb.st_size != IMDB_BYTES) {
        fprintf(stderr, "tokattr prepare: %s: downloaded %lld bytes, expected %ld; removed it\n", part,
                (long long)(stat(part, &sb) == 0 ? sb.st_size : 0), IMDB_BYTES);
        remove(part);
        return -1;
    }
    if (rename(part, path) != 0) {
        fprintf(stderr, "tokattr prepare: %s: cannot rename: %s\n", part, strerror(errno));
        return -1;
    }
    return 0;
}

/* Fails early (before a few seconds of reading) when the output directory
 * is not writable. */
static int check_writable(const char *out)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        fprintf(stderr, "tokattr prepare: %s: cannot create the output file: %s\n", out, strerror(errno));
        return -1;
    }
    fclose(f);
    remove(tmp);
    return 0;
}

int tk_cmd_prepare(int argc, char **argv)
{
    const char *source = NULL, *out = NULL, *word_index = NULL, *export_wi = NULL, *shared = NULL;
    int quiet = 0;
    static const struct option LONG[] = {
        {"source", required_argument, NULL, 's'},       {"out", required_argument, NULL, 'o'},
        {"word-index", required_argument, NULL, 'w'},   {"export-word-index", required_argument, NULL, 'e'},
        {"shared", required_argument, NULL, 'S'},       {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},               {NULL, 0, NULL, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "s:o:w:e:S:qh", LONG, NULL)) != -1;) {
        switch (c) {
        case 's': source = optarg; break;
        case 'o': out = optarg; break;
        case 'w': word_index = optarg; break;
        case 'e': export_wi = optarg; break;
        case 'S': shared = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return TK_EXIT_OK;
        default: usage(stderr); return TK_EXIT_USAGE;
        }
    }
    if (optind < argc || out == NULL) {
        fprintf(stderr, optind < argc ? "tokattr prepare: unexpected argument '%s'\n"
                                      : "tokattr prepare: --out is required%s\n",
                optind < argc ? argv[optind] : "");
        usage(stderr);
        return TK_EXIT_USAGE;
    }
    char path[4096];
    if (source == NULL) {
        const char *env = getenv("TOKATTR_DATA");
        if (env != NULL && env[0] != '\0') {
            source = env;
        } else if (tk_shared_path(path, sizeof path, shared, "data/aclImdb_v1.tar.gz") && tk_file_exists(path)) {
            source = path;
        } else {
            if (download(path, sizeof path) != 0)
                return TK_EXIT_FAILURE;
            source = path;
        }
    }
    /* Outputs never touch inputs, nor each other; an existing output is
     * replaced only when it is a previous dataset / word index. */
    const tk_path_role prep_inputs[] = {{source, "source"}, {word_index, "word index"},
                                        {export_wi, "exported word index"}};
    const tk_path_role prep_out = {out, "output dataset"}, prep_wi = {export_wi, "exported word index"};
    if (tk_cli_guard_output("prepare", &prep_out, prep_inputs, 3, "tokattr dataset", tk_dataset_probe) != 0 ||
        tk_cli_guard_output("prepare", &prep_wi, prep_inputs, 2, "word index JSON", tk_cli_is_word_index) != 0)
        return TK_EXIT_FAILURE;
    if (check_writable(out) != 0 || (export_wi != NULL && check_writable(export_wi) != 0))
        return TK_EXIT_FAILURE;

    tk_progress prog;
    tk_progress_start(&prog, stderr, "prepare", "reviews", 50000, 0, !quiet);
    tk_prepare_options opt = {.source = source, .word_index = word_index, .progress = on_progress,
                              .progress_ctx = &prog};
    tk_prepare_stats stats;
    tk_dataset *ds = NULL;
    tk_error err = {0};
    double t0 = tk_now();
    tk_status st = tk_prepare_dataset(&opt, &ds, &stats, &err);
    if (st == TK_OK)
        tk_progress_finish(&prog);
    if (st == TK_OK && export_wi != NULL)
        st = tk_word_index_write(export_wi, ds->vocab, ds->vocab_size, &err);
    if (st == TK_OK && (st = tk_dataset_write(ds, out, source, &err)) != TK_OK && export_wi != NULL)
        remove(export_wi);
    double seconds = tk_now() - t0;
    if (st != TK_OK) {
        fprintf(stderr, "%stokattr prepare: %s\n", prog.tty && prog.done > 0 ? "\n" : "", err.msg);
        tk_dataset_destroy(ds);
        return TK_EXIT_FAILURE;
    }
    int64_t total = stats.reviews[0][0] + stats.reviews[0][1] + stats.reviews[1][0] + stats.reviews[1][1];
    printf("prepared %s from %s\n", out, source);
    for (int s = 0; s < 2; s++)
        printf("  %-5s %6lld reviews (%lld neg, %lld pos), %lld tokens, %lld not in the vocabulary\n",
               s ? "test" : "train", (long long)(stats.reviews[s][0] + stats.reviews[s][1]),
               (long long)stats.reviews[s][0], (long long)stats.reviews[s][1], (long long)stats.tokens[s],
               (long long)stats.oov_tokens[s]);
    printf("  vocabulary: %lld words (%s), word index sha256 %s\n", (long long)ds->vocab_size,
           word_index ? word_index : "counted on train", ds->word_index_sha256);
    if (export_wi != NULL)
        printf("  word index written to %s\n", export_wi);
    printf("  time: %.2f s, %.0f reviews/s, %.1f MB of text\n", seconds, seconds > 0 ? (double)total / seconds : 0.0,
           (double)stats.text_bytes / 1e6);
    tk_dataset_destroy(ds);
    return TK_EXIT_OK;
}
