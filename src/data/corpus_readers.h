/* Inside data/corpus.h: the byte stream every file reader reads from (a
 * plain file, or gzip through libarchive's raw format), a line splitter over
 * it, and one reader per format. Not for use outside src/data/corpus*.c. */
#ifndef TOKATTR_DATA_CORPUS_READERS_H
#define TOKATTR_DATA_CORPUS_READERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "data/corpus.h"

/* A file read in chunks; gzip (by its magic bytes) is decompressed. */
typedef struct tk_corpus_stream {
    const char *path;
    FILE *file;              /* plain files */
    struct archive *archive; /* gzip'd files */
} tk_corpus_stream;

tk_status tk_corpus_stream_open(const char *path, tk_corpus_stream *s, tk_error *err);
/* Up to cap bytes into buf; *got = 0 at the end of the file. */
tk_status tk_corpus_stream_read(tk_corpus_stream *s, char *buf, size_t cap, size_t *got, tk_error *err);
void tk_corpus_stream_close(tk_corpus_stream *s);

/* Lines of a stream without their "\n" (nor a "\r" before it); a line is
 * valid until the next call. Memory: one chunk plus the longest line. */
typedef struct tk_line_reader {
    tk_corpus_stream *stream;
    char *buf;
    size_t cap, start, end;  /* unread bytes are buf[start .. end) */
    bool eof;
    int64_t line;            /* number of the line last returned (1-based) */
} tk_line_reader;

void tk_line_reader_init(tk_line_reader *r, tk_corpus_stream *s);
void tk_line_reader_free(tk_line_reader *r);
/* *line = NULL at the end of the file. */
tk_status tk_line_reader_next(tk_line_reader *r, const char **line, size_t *len, tk_error *err);

/* The readers: each calls visit per document, in file order. */
tk_status tk_corpus_read_csv(const tk_corpus_options *opt, char delim, tk_corpus_visit visit, void *ctx,
                             tk_error *err);
tk_status tk_corpus_read_jsonl(const tk_corpus_options *opt, tk_corpus_visit visit, void *ctx, tk_error *err);
tk_status tk_corpus_read_dir(const tk_corpus_options *opt, tk_corpus_visit visit, void *ctx, tk_error *err);
tk_status tk_corpus_read_lines(const tk_corpus_options *opt, tk_corpus_visit visit, void *ctx, tk_error *err);

/* True when text holds something other than ASCII whitespace. */
bool tk_corpus_text_nonempty(const char *text, size_t len);

/* Names in the order of files in a directory listing: runs of digits
 * compare as numbers (2_9.txt before 10_1.txt), the rest by bytes. */
int tk_corpus_name_cmp(const char *a, const char *b);

#endif
