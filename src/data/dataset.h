/* The dataset file made by `tokattr prepare` and read by every later step.
 * Schema (version 2; version 1 files are still read): src/data/README.md.
 * Rules: ../shared/docs/DATA.md. */
#ifndef TOKATTR_DATA_DATASET_H
#define TOKATTR_DATA_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "data/text_tokenizer.h"

#define TK_DATASET_VERSION 2

/* One split (train, test, dev, ...), rows in file order (IMDB: canonical
 * order, neg by ascending id, then pos). */
typedef struct tk_split {
    int64_t n;             /* documents */
    int64_t *offset;       /* (n + 1): doc i's ids are ids[offset[i] .. offset[i+1]) */
    int32_t *ids;          /* (offset[n]): the tokenizer's unclipped ids, no start marker,
                              dropped words not stored */
    int32_t *label;        /* (n): class index 0..n_classes-1, -1 unlabelled (v1: int8 0/1) */
    int8_t *rating;        /* (n): IMDB 1-10, else 0 */
    int32_t *review_id;    /* (n): the IMDB number, the user's integer id, else the row number */
    /* Fields below are NULL in hand-built splits; tk_dataset_read fills them
     * for v1 files too (doc_id from review_id; no words: word_offset NULL). */
    char *name;            /* "train", "test", ... */
    char **doc_id;         /* (n): the user's id as written */
    int64_t *word_offset;  /* (offset[n] + 1): token i's word is word_text[word_offset[i] ..
                              word_offset[i+1]), valid UTF-8 (U+FFFD for bad bytes) */
    char *word_text;       /* (word_offset[offset[n]]) bytes, not NUL-terminated */
} tk_split;

typedef struct tk_dataset {
    tk_split *splits;      /* (n_splits) in file order */
    int n_splits;
    int64_t vocab_size;    /* words in the vocabulary */
    char **vocab;          /* (vocab_size): vocab[r - 1] is the word of rank r (UTF-8) */
    int64_t *counts;       /* (vocab_size): train occurrences, or -1 when taken from a file */
    char word_index_sha256[65]; /* = tokenizer.vocab_sha256 */
    int dataset_version;   /* 1 or 2 as read; tk_dataset_write always writes 2 */
    char format[16];       /* csv, tsv, jsonl, dir, lines, imdb */
    int n_classes;         /* 0 for an unlabelled corpus */
    char **class_names;    /* (n_classes) */
    tk_tokenizer_record tokenizer;
    tk_id_convention convention;
} tk_dataset;

tk_status tk_dataset_read(const char *path, tk_dataset **out, tk_error *err);

/* Writes ds to out_path (through out_path.tmp, renamed at the end; nothing
 * is left behind on failure). source is recorded as a root attribute. Splits
 * without stored words get tk_dataset_word of each id as its word. Empty
 * tokenizer/format fields are written as tokattr-imdb / imdb defaults. */
tk_status tk_dataset_write(const tk_dataset *ds, const char *out_path, const char *source, tk_error *err);

/* True when path is an HDF5 file with the dataset layout (/vocab and either
 * /splits or /train + /test); false for anything else, a missing file included. */
bool tk_dataset_probe(const char *path);

/* Frees the arrays of a split and zeroes it. */
void tk_split_free(tk_split *s);
void tk_dataset_destroy(tk_dataset *ds);

/* The split of that name; NULL (and err set, naming the splits there are)
 * when there is none. */
const tk_split *tk_dataset_split(const tk_dataset *ds, const char *name, tk_error *err);

/* The word of an id in model-input terms, by the dataset's convention:
 * "<pad>", "<start>", "<oov>", "<unused>" for reserved ids, else the
 * vocabulary word of rank id - index_from. */
const char *tk_dataset_word(const tk_dataset *ds, int32_t id);

/* The stored word of token `token` of the split (an index into s->ids), as
 * it appeared in the input (also for OOV words); *len its bytes. NULL when
 * the split stores no words (v1 files). */
const char *tk_split_word(const tk_split *s, int64_t token, size_t *len);

/* The default id layout of v1 files and of tokattr-imdb / keras-imdb: pad 0,
 * start 1, OOV 2, index_from 3, pre padding and truncation. */
tk_id_convention tk_dataset_imdb_convention(void);

/* ---- Reading in pieces: memory that does not grow with the corpus. ---- */

/* What tk_dataset_read gives without the splits' documents: each split has
 * n, offset, label, rating and review_id; ids, doc_id and the words are
 * NULL (read them with tk_docs_read). */
tk_status tk_dataset_read_index(const char *path, tk_dataset **out, tk_error *err);

/* Less still: each split has its name and n only (every per-document array
 * NULL), so what it holds does not grow with the corpus (`tokattr run`'s
 * rank 0); the lengths of the per-document datasets are checked, their
 * values are left to tk_docs_read (which checks labels and offsets). */
tk_status tk_dataset_read_header(const char *path, tk_dataset **out, tk_error *err);

typedef struct tk_docs_reader tk_docs_reader;

/* Opens the split of that name for tk_docs_read (read-only; every rank
 * may hold its own). */
tk_status tk_docs_open(const char *path, const char *split, tk_docs_reader **out, tk_error *err);
/* The same for reads in file order (each starting at or after the last
 * one's start): chunk caches of one chunk per dataset instead of many. */
tk_status tk_docs_open_ex(const char *path, const char *split, bool sequential, tk_docs_reader **out,
                          tk_error *err);
int64_t tk_docs_count(const tk_docs_reader *r); /* documents in the split */

/* Documents [first, first + count) of the split into out, as a split of
 * count documents (offsets from 0): ids (checked as tk_dataset_read checks
 * them), label, rating, review_id and, with text, doc_id and (v2 files)
 * the words; without text doc_id holds NULLs and the words are NULL.
 * Labels outside the dataset's classes are refused (TK_E_FORMAT).
 * Freed with tk_split_free. Consecutive reads are cheapest: each dataset's
 * chunk cache stays with the reader. */
tk_status tk_docs_read(tk_docs_reader *r, int64_t first, int64_t count, bool text, tk_split *out,
                       tk_error *err);
/* The number of ids of documents [first, first + count) into n_ids
 * (count), from /offset alone (checked as tk_docs_read checks it). */
tk_status tk_docs_read_lengths(tk_docs_reader *r, int64_t first, int64_t count, int64_t *n_ids,
                               tk_error *err);
void tk_docs_close(tk_docs_reader *r); /* NULL is fine */

/* ---- Streaming writer: rows go to chunked, extendable datasets as they
 * come, so memory stays flat whatever the corpus size. ---- */

typedef struct tk_dataset_writer tk_dataset_writer;

/* One document for the writer. Tokens the tokenizer drops are the caller's
 * to leave out. words may be NULL: then each token's word is empty. */
typedef struct tk_dataset_doc {
    const char *split;
    int32_t label;            /* class index, -1 unlabelled */
    int8_t rating;
    int32_t review_id;
    const char *doc_id;
    size_t n;                 /* tokens */
    const int32_t *ids;       /* (n) */
    const char *words;        /* token i's word: words[word_start[i] .. + word_len[i]) */
    const size_t *word_start; /* (n) */
    const uint32_t *word_len; /* (n) */
} tk_dataset_doc;

/* What is known only at the end. */
typedef struct tk_dataset_meta {
    const char *source, *format;
    int64_t vocab_size;
    char *const *vocab;            /* (vocab_size), "" for a skipped rank */
    const int64_t *counts;         /* (vocab_size) or NULL: -1 each */
    int n_classes;
    char *const *class_names;      /* (n_classes) */
    const tk_tokenizer_record *tokenizer;
    tk_id_convention convention;
} tk_dataset_meta;

/* Creates path.tmp (path itself is untouched until finish renames). */
tk_status tk_dataset_writer_create(const char *path, tk_dataset_writer **out, tk_error *err);

/* Appends one document to its split (a new split is created on first use;
 * its name must be a plain HDF5 link name: not empty, no '/', not "vocab",
 * "classes" or "splits"). */
tk_status tk_dataset_writer_add(tk_dataset_writer *w, const tk_dataset_doc *doc, tk_error *err);

/* Documents so far in the split of that name (0 when it does not exist). */
int64_t tk_dataset_writer_count(const tk_dataset_writer *w, const char *split);

/* Writes vocabulary, classes and attributes, closes and renames path.tmp to
 * path. Frees w whatever happens; on failure path.tmp is removed. */
tk_status tk_dataset_writer_finish(tk_dataset_writer *w, const tk_dataset_meta *meta, tk_error *err);

/* Drops everything written: path.tmp is removed, w freed (NULL is fine). */
void tk_dataset_writer_abort(tk_dataset_writer *w);

#endif
