/* Model inputs where they are used: the reviews of a work unit (or of one
 * block of rank 0's file layout) read from the dataset file and prepared,
 * so that no rank holds every review's input and rank 0 keeps only a few
 * integers per review. No MPI here. */
#ifndef TOKATTR_PIPELINE_UNIT_INPUT_H
#define TOKATTR_PIPELINE_UNIT_INPUT_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"
#include "data/model_input.h"

/* The documents of count selected reviews, whose split positions pos
 * (count, ascending) are read as one span of the split when it is short,
 * else one by one: doc[r] of the block is the document of pos[r]. With
 * text, also the ids as written and the words (tk_docs_read). */
typedef struct tk_unit_docs {
    tk_split span;     /* the documents read */
    int64_t count;
    int64_t *doc;      /* (count) index into span */
    int64_t cap;
} tk_unit_docs;

tk_status tk_unit_docs_read(tk_docs_reader *r, const int64_t *pos, int64_t count, bool text,
                            tk_unit_docs *u, tk_error *err);
void tk_unit_docs_free(tk_unit_docs *u); /* frees what u holds */

/* Review r's words in the split's ids (*n of them). */
const int32_t *tk_unit_docs_ids(const tk_unit_docs *u, int64_t r, int64_t *n);

/* The model inputs ids (count, spec->maxlen) and labels (count) of the
 * reviews at split positions pos (count): the unit's input, prepared by
 * the rank that explains it. */
tk_status tk_unit_input(tk_docs_reader *r, const tk_input_spec *spec, const int64_t *pos,
                        int64_t count, tk_unit_docs *scratch, int32_t *ids, int32_t *labels,
                        tk_error *err);

#endif
