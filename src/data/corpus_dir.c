/* A tree ROOT/<split>/<class>/<file>: aclImdb-style <id>_<rating>.txt or
 * 20-newsgroups-style files without an extension. Splits, classes and files
 * are visited in name order, digits compared as numbers, so the row order
 * does not depend on the file system. Files with another extension and
 * names starting with '.' are not documents; files directly under ROOT or a
 * split (aclImdb's urls_*.txt, imdb.vocab) are ignored. Also the "lines"
 * format: one document per line. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/corpus_readers.h"

static int cmp_names(const void *a, const void *b)
{
    return tk_corpus_name_cmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool is_document_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && (dot == NULL || strcmp(dot, ".txt") == 0);
}

/* The entries of dir that are directories (dirs) or document files (!dirs),
 * sorted. */
static tk_status list(const char *dir, bool dirs, char ***out, size_t *count, tk_error *err)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return tk_error_set(err, TK_E_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    tk_status st = TK_OK;
    char path[8192 + 256];
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                st = tk_error_set(err, TK_E_IO, "%s: cannot list directory: %s", dir, strerror(errno));
            break;
        }
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue; /* a dangling link is no document */
        if (dirs ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode) || !is_document_name(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **b = realloc(names, cap * sizeof *b);
            if (b == NULL) {
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory listing the directory", dir);
                break;
            }
            names = b;
        }
        if ((names[n] = strdup(de->d_name)) == NULL) {
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory listing the directory", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (st != TK_OK) {
        free_names(names, n);
        return st;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    *out = names;
    *count = n;
    return TK_OK;
}

static tk_status read_whole(const char *path, char **buf, size_t *cap, size_t *len, tk_error *err)
{
    tk_corpus_stream s;
    tk_status st = tk_corpus_stream_open(path, &s, err);
    if (st != TK_OK)
        return st;
    *len = 0;
    for (;;) {
        if (*cap - *len < (1 << 16)) {
            size_t c = *cap ? 2 * *cap : 1 << 17;
            char *b = realloc(*buf, c);
            if (b == NULL) {
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading the file", path);
                break;
            }
            *buf = b;
            *cap = c;
        }
        size_t got = 0;
        if ((st = tk_corpus_stream_read(&s, *buf + *len, *cap - *len, &got, err)) != TK_OK || got == 0)
            break;
        *len += got;
    }
    tk_corpus_stream_close(&s);
    return st;
}

tk_status tk_corpus_read_dir(const tk_corpus_options *opt, tk_corpus_visit visit, void *ctx, tk_error *err)
{
    char **splits = NULL, **classes = NULL, **files = NULL;
    size_t n_splits = 0, n_classes = 0, n_files = 0;
    char *buf = NULL;
    size_t cap = 0;
    char dir[8192], path[8192 + 256], id[8192];
    tk_status st = list(opt->source, true, &splits, &n_splits, err);
    if (st != TK_OK)
        return st;
    if (n_splits == 0)
        st = tk_error_set(err, TK_E_FORMAT, "%s: no split directories (expected ROOT/<split>/<class>/<file>.txt)",
                          opt->source);
    for (size_t si = 0; si < n_splits && st == TK_OK; si++) {
        snprintf(dir, sizeof dir, "%s/%s", opt->source, splits[si]);
        if ((st = list(dir, true, &classes, &n_classes, err)) != TK_OK)
            break;
        int64_t docs = 0;
        for (size_t ci = 0; ci < n_classes && st == TK_OK; ci++) {
            snprintf(dir, sizeof dir, "%s/%s/%s", opt->source, splits[si], classes[ci]);
            if ((st = list(dir, false, &files, &n_files, err)) != TK_OK)
                break;
            for (size_t fi = 0; fi < n_files && st == TK_OK; fi++) {
                snprintf(path, sizeof path, "%s/%s", dir, files[fi]);
                size_t len = 0;
                if ((st = read_whole(path, &buf, &cap, &len, err)) != TK_OK)
                    break;
                /* The class keeps ids unique where file names repeat
                 * across classes (aclImdb: neg/0_3.txt, pos/0_9.txt). */
                snprintf(id, sizeof id, "%s/%s", classes[ci], files[fi]);
                tk_corpus_doc doc = {.split = splits[si], .label = classes[ci], .id = id, .text = buf,
                                     .len = len, .where = path};
                st = visit(ctx, &doc, err);
                docs++;
            }
            free_names(files, n_files);
            files = NULL;
            n_files = 0;
        }
        if (st == TK_OK && docs == 0)
            st = tk_error_set(err, TK_E_FORMAT, "%s/%s: no documents (expected <class>/<file>.txt below it)",
                              opt->source, splits[si]);
        free_names(classes, n_classes);
        classes = NULL;
        n_classes = 0;
    }
    free_names(splits, n_splits);
    free(buf);
    return st;
}

tk_status tk_corpus_read_lines(const tk_corpus_options *opt, tk_corpus_visit visit, void *ctx, tk_error *err)
{
    tk_corpus_stream s;
    tk_line_reader lr;
    tk_status st = tk_corpus_stream_open(opt->source, &s, err);
    if (st != TK_OK)
        return st;
    tk_line_reader_init(&lr, &s);
    char where[4200], id[24];
    int64_t docs = 0;
    for (;;) {
        const char *line;
        size_t len;
        if ((st = tk_line_reader_next(&lr, &line, &len, err)) != TK_OK || line == NULL)
            break;
        /* Blank lines are no documents; the others keep their line number as id. */
        if (!tk_corpus_text_nonempty(line, len))
            continue;
        snprintf(where, sizeof where, "%s:%lld", opt->source, (long long)lr.line);
        snprintf(id, sizeof id, "%lld", (long long)lr.line);
        tk_corpus_doc doc = {.split = opt->split ? opt->split : "test", .id = id, .text = line, .len = len,
                             .where = where};
        if ((st = visit(ctx, &doc, err)) != TK_OK)
            break;
        docs++;
    }
    if (st == TK_OK && docs == 0)
        st = tk_error_set(err, TK_E_FORMAT, "%s: no documents (every line is blank)", opt->source);
    tk_line_reader_free(&lr);
    tk_corpus_stream_close(&s);
    return st;
}
