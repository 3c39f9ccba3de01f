/* The corpus formats behind one interface: format guess, dispatch, the
 * byte stream (plain or gzip), the line splitter, and the IMDB adapter. */
#define _POSIX_C_SOURCE 200809L
#include "data/corpus.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/corpus_readers.h"
#include "data/imdb_reader.h"

static const char *const FORMAT_NAMES[TK_CORPUS_FORMAT_COUNT] = {"csv", "tsv", "jsonl", "dir", "lines", "imdb"};

const char *tk_corpus_format_name(tk_corpus_format format)
{
    return format >= 0 && format < TK_CORPUS_FORMAT_COUNT ? FORMAT_NAMES[format] : "?";
}

tk_status tk_corpus_format_parse(const char *name, tk_corpus_format *format, tk_error *err)
{
    for (int f = 0; f < TK_CORPUS_FORMAT_COUNT; f++)
        if (name != NULL && strcmp(name, FORMAT_NAMES[f]) == 0) {
            *format = (tk_corpus_format)f;
            return TK_OK;
        }
    return tk_error_set(err, TK_E_INVALID, "unknown corpus format '%s' (use csv, tsv, jsonl, dir, lines or imdb)",
                        name ? name : "");
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

tk_status tk_corpus_format_guess(const char *source, tk_corpus_format *format, tk_error *err)
{
    struct stat sb;
    if (stat(source, &sb) != 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open: %s", source, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        /* aclImdb/ itself, or a directory holding it: the IMDB reader. */
        char sub[4200];
        size_t n = strlen(source);
        while (n > 1 && source[n - 1] == '/')
            n--;
        snprintf(sub, sizeof sub, "%.*s/aclImdb", (int)n, source);
        bool imdb = is_dir(sub) || (n >= 7 && strncmp(source + n - 7, "aclImdb", 7) == 0 &&
                                    (n == 7 || source[n - 8] == '/'));
        *format = imdb ? TK_CORPUS_IMDB : TK_CORPUS_DIR;
        return TK_OK;
    }
    size_t n = strlen(source);
    if (ends_with(source, n, ".tar.gz") || ends_with(source, n, ".tgz") || ends_with(source, n, ".tar")) {
        *format = TK_CORPUS_IMDB;
        return TK_OK;
    }
    if (ends_with(source, n, ".gz"))
        n -= 3;
    static const struct {
        const char *ext;
        tk_corpus_format format;
    } EXT[] = {{".csv", TK_CORPUS_CSV},     {".tsv", TK_CORPUS_TSV},     {".tab", TK_CORPUS_TSV},
               {".jsonl", TK_CORPUS_JSONL}, {".ndjson", TK_CORPUS_JSONL}, {".json", TK_CORPUS_JSONL},
               {".txt", TK_CORPUS_LINES}};
    for (size_t i = 0; i < sizeof EXT / sizeof *EXT; i++)
        if (ends_with(source, n, EXT[i].ext)) {
            *format = EXT[i].format;
            return TK_OK;
        }
    return tk_error_set(err, TK_E_INVALID,
                        "%s: cannot tell the corpus format from the name (expected .csv, .tsv, .jsonl, .txt, "
                        ".tar.gz, each optionally .gz, or a directory): give --format", source);
}

/* ---- byte stream ---- */

tk_status tk_corpus_stream_open(const char *path, tk_corpus_stream *s, tk_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    if (is_dir(path))
        return tk_error_set(err, TK_E_INVALID, "%s: is a directory, not a file (use --format dir)", path);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tk_error_set(err, TK_E_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char magic[2] = {0, 0};
    size_t got = fread(magic, 1, 2, f);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        fclose(f);
        struct archive *a = archive_read_new();
        if (a == NULL)
            return tk_error_set(err, TK_E_NOMEM, "%s: cannot create a gzip reader", path);
        archive_read_support_filter_gzip(a);
        archive_read_support_format_raw(a);
        struct archive_entry *e;
        if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK) {
            tk_status st = tk_error_set(err, TK_E_FORMAT, "%s: cannot read as gzip: %s", path,
                                        archive_error_string(a) ? archive_error_string(a) : "unknown error");
            archive_read_free(a);
            return st;
        }
        s->archive = a;
        return TK_OK;
    }
    if (ferror(f) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return tk_error_set(err, TK_E_IO, "%s: read error", path);
    }
    s->file = f;
    return TK_OK;
}

tk_status tk_corpus_stream_read(tk_corpus_stream *s, char *buf, size_t cap, size_t *got, tk_error *err)
{
    *got = 0;
    if (s->archive != NULL) {
        la_ssize_t n = archive_read_data(s->archive, buf, cap);
        if (n < 0)
            return tk_error_set(err, TK_E_FORMAT, "%s: damaged gzip data: %s", s->path,
                                archive_error_string(s->archive) ? archive_error_string(s->archive) : "?");
        *got = (size_t)n;
        return TK_OK;
    }
    if (s->file == NULL)
        return TK_OK;
    *got = fread(buf, 1, cap, s->file);
    if (*got == 0 && ferror(s->file))
        return tk_error_set(err, TK_E_IO, "%s: read error: %s", s->path, strerror(errno));
    return TK_OK;
}

void tk_corpus_stream_close(tk_corpus_stream *s)
{
    if (s->archive != NULL)
        archive_read_free(s->archive);
    if (s->file != NULL)
        fclose(s->file);
    s->archive = NULL;
    s->file = NULL;
}

/* ---- lines ---- */

void tk_line_reader_init(tk_line_reader *r, tk_corpus_stream *s)
{
    memset(r, 0, sizeof *r);
    r->stream = s;
}

void tk_line_reader_free(tk_line_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

tk_status tk_line_reader_next(tk_line_reader *r, const char **line, size_t *len, tk_error *err)
{
    enum { CHUNK = 1 << 20 };
    *line = NULL;
    *len = 0;
    size_t scanned = r->start;
    for (;;) {
        /* buf is NULL before the first chunk: no arithmetic on it (UB) */
        char *nl = r->end > scanned ? memchr(r->buf + scanned, '\n', r->end - scanned) : NULL;
        if (nl != NULL || (r->eof && r->end > r->start)) {
            size_t stop = nl != NULL ? (size_t)(nl - r->buf) : r->end;
            *line = r->buf + r->start;
            *len = stop - r->start;
            if (*len > 0 && (*line)[*len - 1] == '\r')
                (*len)--;
            r->start = nl != NULL ? stop + 1 : stop;
            r->line++;
            return TK_OK;
        }
        if (r->eof)
            return TK_OK;
        /* Keep the partial line, make room for one more chunk. */
        scanned = r->end;
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            scanned -= r->start;
            r->start = 0;
        }
        if (r->cap - r->end < CHUNK) {
            size_t cap = r->cap ? 2 * r->cap : 2 * CHUNK;
            while (cap - r->end < CHUNK)
                cap *= 2;
            char *b = realloc(r->buf, cap);
            if (b == NULL)
                return tk_error_set(err, TK_E_NOMEM, "%s:%lld: out of memory (a line longer than %zu MB?)",
                                    r->stream->path, (long long)r->line + 1, r->cap >> 20);
            r->buf = b;
            r->cap = cap;
        }
        size_t got = 0;
        tk_status st = tk_corpus_stream_read(r->stream, r->buf + r->end, r->cap - r->end, &got, err);
        if (st != TK_OK)
            return st;
        if (got == 0)
            r->eof = true;
        r->end += got;
    }
}

/* ---- shared rules ---- */

bool tk_corpus_text_nonempty(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (strchr(" \t\r\n\v\f", text[i]) == NULL || text[i] == '\0')
            return true;
    return false;
}

int tk_corpus_name_cmp(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        bool da = *a >= '0' && *a <= '9', db = *b >= '0' && *b <= '9';
        if (da && db) {
            /* Numbers: skip leading zeros, then the longer is larger, then by digits. */
            const char *sa = a, *sb = b;
            while (*sa == '0')
                sa++;
            while (*sb == '0')
                sb++;
            const char *ea = sa, *eb = sb;
            while (*ea >= '0' && *ea <= '9')
                ea++;
            while (*eb >= '0' && *eb <= '9')
                eb++;
            if (ea - sa != eb - sb)
                return ea - sa < eb - sb ? -1 : 1;
            int c = strncmp(sa, sb, (size_t)(ea - sa));
            if (c != 0)
                return c;
            /* Equal values: fewer leading zeros first, for a total order. */
            if (sa - a != sb - b)
                return sa - a < sb - b ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a == *b ? 0 : *a == '\0' ? -1 : 1;
}

/* ---- IMDB through data/imdb_reader.h ---- */

typedef struct imdb_adapter {
    tk_corpus_visit visit;
    void *ctx;
} imdb_adapter;

static tk_status on_imdb_review(void *ctx, const tk_imdb_review *rev, tk_error *err)
{
    static const char *const SPLITS[2] = {"train", "test"}, *const LABELS[2] = {"neg", "pos"};
    const imdb_adapter *a = ctx;
    char id[16];
    snprintf(id, sizeof id, "%d", rev->id);
    tk_corpus_doc doc = {.split = SPLITS[rev->split], .label = LABELS[rev->label], .id = id,
                         .rating = rev->rating, .text = rev->text, .len = rev->len, .where = rev->entry};
    return a->visit(a->ctx, &doc, err);
}

/* ---- dispatch ---- */

/* Every reader's documents pass here: an empty text is refused by name. */
typedef struct checker {
    tk_corpus_visit visit;
    void *ctx;
} checker;

static tk_status check_doc(void *ctx, const tk_corpus_doc *doc, tk_error *err)
{
    const checker *c = ctx;
    if (!tk_corpus_text_nonempty(doc->text, doc->len))
        return tk_error_set(err, TK_E_FORMAT, "%s: empty text (a document needs at least one word)", doc->where);
    return c->visit(c->ctx, doc, err);
}

tk_status tk_corpus_read(const tk_corpus_options *opt, tk_corpus_visit visit, void *ctx, tk_error *err)
{
    checker c = {visit, ctx};
    switch (opt->format) {
    case TK_CORPUS_CSV:
        return tk_corpus_read_csv(opt, ',', check_doc, &c, err);
    case TK_CORPUS_TSV:
        return tk_corpus_read_csv(opt, '\t', check_doc, &c, err);
    case TK_CORPUS_JSONL:
        return tk_corpus_read_jsonl(opt, check_doc, &c, err);
    case TK_CORPUS_DIR:
        return tk_corpus_read_dir(opt, check_doc, &c, err);
    case TK_CORPUS_LINES:
        return tk_corpus_read_lines(opt, check_doc, &c, err);
    case TK_CORPUS_IMDB: {
        /* IMDB reviews are never refused for being empty: the archive is
         * read exactly as DATA.md says. */
        imdb_adapter a = {visit, ctx};
        return tk_imdb_read(opt->source, on_imdb_review, &a, err);
    }
    default:
        return tk_error_set(err, TK_E_INVALID, "unknown corpus format %d", (int)opt->format);
    }
}
