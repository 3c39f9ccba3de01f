/* Reads the labelled IMDB reviews from the official aclImdb_v1.tar.gz
 * (streamed with libarchive, nothing unpacked to disk) or from an unpacked
 * aclImdb/ directory. Only {train,test}/{pos,neg}/<id>_<rating>.txt count;
 * unsup/, *.feat, imdb.vocab and the url lists are ignored. Reviews arrive in
 * archive or directory order; sorting into canonical order is the caller's. */
#ifndef TOKATTR_DATA_IMDB_READER_H
#define TOKATTR_DATA_IMDB_READER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

enum { TK_SPLIT_TRAIN = 0, TK_SPLIT_TEST = 1 };

typedef struct tk_imdb_review {
    int split;          /* TK_SPLIT_TRAIN or TK_SPLIT_TEST */
    int label;          /* 0 neg, 1 pos */
    int32_t id;         /* the integer before '_' */
    int rating;         /* the integer after '_': 1-4 neg, 7-10 pos */
    const char *text;   /* (len) bytes, valid only during the callback */
    size_t len;
    const char *entry;  /* the archive entry or file path, for messages */
} tk_imdb_review;

/* Called once per review; a non-TK_OK return stops the reading. */
typedef tk_status (*tk_imdb_visit)(void *ctx, const tk_imdb_review *review, tk_error *err);

/* source: a .tar.gz (any tar libarchive reads) or a directory that is, or
 * holds, aclImdb/. Fails, naming the source and the entry, on a damaged
 * archive, a missing split or label directory, a file in a label directory
 * whose name is not <id>_<rating>.txt, or a split/label without reviews. */
tk_status tk_imdb_read(const char *source, tk_imdb_visit visit, void *ctx, tk_error *err);

/* Classifies an entry path (".../{train,test}/{pos,neg}/<name>"):
 * 1 = a review (fields filled), 0 = not part of the labelled data,
 * -1 = inside a label directory but not named <id>_<rating>.txt. */
int tk_imdb_classify(const char *path, int *split, int *label, int32_t *id, int *rating);

#endif
