/* tokattr prepare: a corpus (CSV, TSV, JSONL, a tree, lines, the IMDB archive)
 * and a tokenizer -> dataset HDF5 (DATA.md, src/data/README.md). */
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
#include "data/corpus.h"
#include "data/prepare.h"
#include "data/text_tokenizer.h"

#define IMDB_URL "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
#define IMDB_BYTES 84125825L /* the official archive's size */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tokattr prepare [--source PATH] [--tokenizer KIND[:FILE]] --out DATASET.h5 [options]\n\n"
            "Reads a corpus, tokenizes it exactly as the model's tokenizer did and writes\n"
            "token ids, the words, labels, class names, ids and the vocabulary.\n\n"
            "  --source PATH              FILE.csv|.tsv|.jsonl|DIR|FILE.txt (each file also .gz) or\n"
            "                             aclImdb_v1.tar.gz / an unpacked aclImdb/ directory\n"
            "                             (default: $TOKATTR_DATA, else <shared>/data/aclImdb_v1.tar.gz,\n"
            "                             else download " IMDB_URL "\n"
            "                             into ~/.cache/tokattr)\n"
            "  --format F                 csv, tsv, jsonl, dir, lines or imdb (default: from the name)\n"
            "  --text-column C            CSV/TSV column or JSONL key of the text (default: text)\n"
            "  --label-column C           ... of the label: integers 0..C-1 or class names (default: none,\n"
            "                             unlabelled)\n"
            "  --id-column C              ... of the document id (default: none, the row number)\n"
            "  --split-column C           ... of the split name (default: none, all in --split)\n"
            "  --split NAME               the split of every document without a split column or\n"
            "                             tree (default: test)\n"
            "  --classes A,B,...          the class names in the model's class order; a label must be\n"
            "                             one of them or its index (default: integer labels are the\n"
            "                             class numbers, names are numbered in order of first appearance)\n"
            "  --tokenizer KIND[:FILE]    keras-imdb, tokattr-imdb[:WORD_INDEX.json],\n"
            "                             keras-tokenizer:TOKENIZER.json, text-vectorization:VOCAB.txt,\n"
            "                             word-index:WORD_INDEX.json (default: keras-imdb for the IMDB\n"
            "                             archive; required for other corpora)\n"
            "  --index-from N --start-char N --oov-char N\n"
            "                             word-index only: id = rank + N, the start marker, the OOV id\n"
            "                             (defaults 3, 1, 2)\n"
            "  --out FILE                 the dataset file to write (required)\n"
            "  --word-index FILE          same as --tokenizer tokattr-imdb:FILE\n"
            "  --export-word-index FILE   also write the vocabulary as a Keras word index JSON\n"
            "  --shared DIR               shared data directory (default: $TOKATTR_SHARED, else ../shared)\n"
            "  --quiet                    no progress bar\n"
            "  --help                     this text\n");
}

static void on_progress(void *ctx, int64_t done)
{
    tk_progress_update(ctx, done);
}

/* IMDB counts reviews (50,000 known); other corpora count MB of the file. */
typedef struct prepare_progress {
    tk_progress bar;
    bool by_bytes;
} prepare_progress;

static void on_corpus_progress(void *ctx, int64_t docs, int64_t bytes)
{
    prepare_progress *p = ctx;
    on_progress(&p->bar, p->by_bytes ? bytes >> 20 : docs);
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

static int parse_count(const char *opt, const char *text, int32_t *v)
{
    char *end;
    errno = 0;
    long x = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || x < 0 || x > 1000000) {
        fprintf(stderr, "tokattr prepare: %s '%s' is not an integer 0..1000000\n", opt, text);
        return -1;
    }
    *v = (int32_t)x;
    return 0;
}

int tk_cmd_prepare(int argc, char **argv)
{
    const char *source = NULL, *out = NULL, *word_index = NULL, *export_wi = NULL, *shared = NULL;
    const char *format = NULL, *tokenizer = NULL;
    const char *idx_from = NULL, *start_char = NULL, *oov_char = NULL;
    tk_corpus_options copt = {.split = "test"};
    int quiet = 0;
    static const struct option LONG[] = {
        {"source", required_argument, NULL, 's'},       {"out", required_argument, NULL, 'o'},
        {"word-index", required_argument, NULL, 'w'},   {"export-word-index", required_argument, NULL, 'e'},
        {"shared", required_argument, NULL, 'S'},       {"quiet", no_argument, NULL, 'q'},
        {"format", required_argument, NULL, 'f'},       {"text-column", required_argument, NULL, 'T'},
        {"label-column", required_argument, NULL, 'L'}, {"id-column", required_argument, NULL, 'I'},
        {"split-column", required_argument, NULL, 'P'}, {"split", required_argument, NULL, 'p'},
        {"tokenizer", required_argument, NULL, 't'},    {"index-from", required_argument, NULL, 'F'},
        {"start-char", required_argument, NULL, 'C'},   {"oov-char", required_argument, NULL, 'O'},
        {"classes", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},               {NULL, 0, NULL, 0},
    };
    const char *classes = NULL;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "s:o:w:e:S:qh", LONG, NULL)) != -1;) {
        switch (c) {
        case 's': source = optarg; break;
        case 'o': out = optarg; break;
        case 'w': word_index = optarg; break;
        case 'e': export_wi = optarg; break;
        case 'S': shared = optarg; break;
        case 'q': quiet = 1; break;
        case 'f': format = optarg; break;
        case 'T': copt.text_column = optarg; break;
        case 'L': copt.label_column = optarg; break;
        case 'I': copt.id_column = optarg; break;
        case 'P': copt.split_column = optarg; break;
        case 'p': copt.split = optarg; break;
        case 't': tokenizer = optarg; break;
        case 'F': idx_from = optarg; break;
        case 'C': start_char = optarg; break;
        case 'O': oov_char = optarg; break;
        case 'K': classes = optarg; break;
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
    if (word_index != NULL && tokenizer != NULL) {
        fprintf(stderr, "tokattr prepare: give --tokenizer or --word-index, not both "
                        "(--word-index FILE is --tokenizer tokattr-imdb:FILE)\n");
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
    copt.source = source;
    tk_error err = {0};
    if ((format != NULL ? tk_corpus_format_parse(format, &copt.format, &err)
                        : tk_corpus_format_guess(source, &copt.format, &err)) != TK_OK) {
        fprintf(stderr, "tokattr prepare: %s\n", err.msg);
        return format != NULL ? TK_EXIT_USAGE : TK_EXIT_FAILURE;
    }
    /* The tokenizer: --word-index keeps today's meaning; the IMDB archive
     * defaults to Keras' own ids; other corpora must say. */
    char spec_text[4200];
    if (word_index != NULL)
        snprintf(spec_text, sizeof spec_text, "tokattr-imdb:%s", word_index);
    else if (tokenizer != NULL)
        snprintf(spec_text, sizeof spec_text, "%s", tokenizer);
    else if (copt.format == TK_CORPUS_IMDB)
        snprintf(spec_text, sizeof spec_text, "keras-imdb");
    else {
        fprintf(stderr, "tokattr prepare: %s: a %s corpus needs --tokenizer KIND[:FILE] (the tokenizer the "
                        "model was trained with, e.g. keras-tokenizer:tokenizer.json)\n",
                source, tk_corpus_format_name(copt.format));
        return TK_EXIT_USAGE;
    }
    if (classes != NULL && (copt.format == TK_CORPUS_IMDB || (copt.label_column == NULL &&
                                                              copt.format != TK_CORPUS_DIR))) {
        fprintf(stderr, "tokattr prepare: --classes goes with labelled corpora (--label-column, or a tree); "
                        "the IMDB classes are neg, pos\n");
        return TK_EXIT_USAGE;
    }
    tk_prepare_corpus_options opt = {.corpus = copt, .shared_dir = shared, .out = out,
                                     .export_word_index = export_wi, .classes = classes};
    if (tk_tokenizer_spec_parse(spec_text, &opt.tokenizer, &err) != TK_OK) {
        fprintf(stderr, "tokattr prepare: %s\n", err.msg);
        return TK_EXIT_USAGE;
    }
    if ((idx_from || start_char || oov_char) && opt.tokenizer.kind != TK_TOKENIZER_WORD_INDEX) {
        fprintf(stderr, "tokattr prepare: --index-from, --start-char and --oov-char go with --tokenizer "
                        "word-index:FILE only\n");
        return TK_EXIT_USAGE;
    }
    if ((idx_from && parse_count("--index-from", idx_from, &opt.tokenizer.index_from)) ||
        (start_char && parse_count("--start-char", start_char, &opt.tokenizer.start_char)) ||
        (oov_char && parse_count("--oov-char", oov_char, &opt.tokenizer.oov_char)))
        return TK_EXIT_USAGE;
    /* Outputs never touch inputs, nor each other (core/outpath.h); an
     * existing output is replaced only when it is a previous dataset / word
     * index. */
    const tk_path_role prep_inputs[] = {{source, "source"},
                                        {opt.tokenizer.file[0] ? opt.tokenizer.file : NULL, "tokenizer file"},
                                        {export_wi, "exported word index"}};
    const tk_path_role prep_out = {out, "output dataset"}, prep_wi = {export_wi, "exported word index"};
    if (tk_cli_guard_output("prepare", &prep_out, prep_inputs, 3, "tokattr dataset", tk_dataset_probe) != 0 ||
        tk_cli_guard_output("prepare", &prep_wi, prep_inputs, 2, "word index JSON", tk_cli_is_word_index) != 0)
        return TK_EXIT_FAILURE;
    if (check_writable(out) != 0 || (export_wi != NULL && check_writable(export_wi) != 0))
        return TK_EXIT_FAILURE;

    prepare_progress pp = {.by_bytes = copt.format != TK_CORPUS_IMDB};
    tk_progress *const prog_p = &pp.bar;
    bool imdb = copt.format == TK_CORPUS_IMDB;
    struct stat sb;
    size_t slen = strlen(source);
    bool gz = slen > 3 && strcmp(source + slen - 3, ".gz") == 0; /* compressed size: no total */
    int64_t total_mb = !gz && stat(source, &sb) == 0 && S_ISREG(sb.st_mode) ? (int64_t)(sb.st_size >> 20) : 0;
    tk_progress_start(prog_p, stderr, "prepare", imdb ? "reviews" : "MB", imdb ? 50000 : total_mb, 0, !quiet);
    opt.progress = on_corpus_progress;
    opt.progress_ctx = &pp;
    tk_prepare_summary sum;
    double t0 = tk_now();
    tk_status st = tk_prepare_corpus(&opt, &sum, &err);
    if (st == TK_OK)
        tk_progress_finish(prog_p);
    double seconds = tk_now() - t0;
    if (st != TK_OK) {
        fprintf(stderr, "%stokattr prepare: %s\n", prog_p->tty && prog_p->done > 0 ? "\n" : "", err.msg);
        return TK_EXIT_FAILURE;
    }
    printf("prepared %s from %s (%s)\n", out, source, tk_corpus_format_name(copt.format));
    for (int s = 0; s < sum.n_splits && s < TK_PREPARE_MAX_LISTED_SPLITS; s++) {
        const tk_prepare_split_summary *ss = &sum.split[s];
        if (imdb && sum.n_classes == 2)
            printf("  %-5s %6lld reviews (%lld neg, %lld pos), %lld tokens, %lld not in the vocabulary\n", ss->name,
                   (long long)ss->docs, (long long)ss->per_class[0], (long long)ss->per_class[1],
                   (long long)ss->tokens, (long long)ss->oov);
        else
            printf("  %-5s %6lld documents (%s), %lld tokens, %lld not in the vocabulary, %lld dropped\n",
                   ss->name, (long long)ss->docs, ss->labelled ? "labelled" : "unlabelled", (long long)ss->tokens,
                   (long long)ss->oov, (long long)ss->dropped);
    }
    if (sum.n_splits > TK_PREPARE_MAX_LISTED_SPLITS)
        printf("  ... %d splits in all\n", sum.n_splits);
    if (sum.n_classes > 0)
        printf("  classes: %d\n", sum.n_classes);
    printf("  vocabulary: %lld words (tokenizer %s), word index sha256 %s\n", (long long)sum.vocab_size,
           sum.tokenizer.kind, sum.tokenizer.vocab_sha256);
    if (export_wi != NULL)
        printf("  word index written to %s\n", export_wi);
    printf("  time: %.2f s, %.0f %s/s, %.1f MB of text (%.1f MB/s)\n", seconds,
           seconds > 0 ? (double)sum.docs / seconds : 0.0, imdb ? "reviews" : "docs", (double)sum.bytes / 1e6,
           seconds > 0 ? (double)sum.bytes / 1e6 / seconds : 0.0);
    return TK_EXIT_OK;
}
