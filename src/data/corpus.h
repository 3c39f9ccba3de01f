/* The user's corpus, read one document at a time (issue 15): CSV/TSV
 * (libcsv, RFC 4180, header row), JSONL (cJSON, one object a line), a tree
 * ROOT/<split>/<class>/<file>.txt (aclImdb and 20-newsgroups layouts), plain
 * lines (one document a line, no labels), and the IMDB archive or directory
 * (data/imdb_reader.h). Gzip'd files are read through libarchive. Nothing is
 * held beyond the current document: a 1 GB corpus streams in flat memory.
 * Documents arrive in the file's order. */
#ifndef TOKATTR_DATA_CORPUS_H
#define TOKATTR_DATA_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum tk_corpus_format {
    TK_CORPUS_CSV,
    TK_CORPUS_TSV,
    TK_CORPUS_JSONL,
    TK_CORPUS_DIR,
    TK_CORPUS_LINES,
    TK_CORPUS_IMDB,
    TK_CORPUS_FORMAT_COUNT
} tk_corpus_format;

typedef struct tk_corpus_options {
    const char *source;       /* file or directory */
    tk_corpus_format format;  /* see tk_corpus_format_guess */
    /* CSV/TSV/JSONL: the column (header name, or JSON key) of each field.
     * NULL text_column means "text"; NULL label/id/split: not present
     * (rows are unlabelled / numbered from 0 / all in `split`). */
    const char *text_column, *label_column, *id_column, *split_column;
    const char *split;        /* the split of every document when there is no
                                 split column and no tree (default "test") */
} tk_corpus_options;

/* One document. Strings are valid only during the callback. */
typedef struct tk_corpus_doc {
    const char *split;        /* "train", "test", ... */
    const char *label;        /* the label as written ("pos", "3"), or NULL */
    const char *id;           /* the user's id as written, or NULL */
    int32_t rating;           /* IMDB only (1-10), else 0 */
    const char *text;         /* (len) bytes, UTF-8 as read */
    size_t len;
    const char *where;        /* "file:line" or the archive entry, for messages */
} tk_corpus_doc;

typedef tk_status (*tk_corpus_visit)(void *ctx, const tk_corpus_doc *doc, tk_error *err);

/* From the extension: .csv .tsv .jsonl/.json .txt (lines) .tar.gz/.tgz
 * (IMDB), a directory (DIR, or IMDB when it is or holds aclImdb/), each also
 * with .gz. TK_E_INVALID naming the file when nothing fits. */
tk_status tk_corpus_format_guess(const char *source, tk_corpus_format *format, tk_error *err);
tk_status tk_corpus_format_parse(const char *name, tk_corpus_format *format, tk_error *err);
const char *tk_corpus_format_name(tk_corpus_format format);

/* Calls visit once per document in file order. Bad input stops with one
 * message naming file, line and problem: a broken quote, a missing column,
 * a row with the wrong number of fields, an empty text, a line that is not a
 * JSON object, a field of the wrong type. (Duplicate ids and labels outside
 * the classes are the caller's to judge.) */
tk_status tk_corpus_read(const tk_corpus_options *opt, tk_corpus_visit visit, void *ctx,
                         tk_error *err);

#endif
