/* Which reviews a command works on, said the same way everywhere:
 * `tokattr explain --reviews`, `tokattr report --review` and a job's
 * `select: {reviews: ...}` all take one spec string, parsed and resolved
 * here (README "Selecting reviews").
 *
 *   spec := item ("," item)*
 *   item := INDEX | INDEX "-" INDEX          positions (0-based) in the split / file
 *         | "id:" ID ("@" QUALIFIER)*        the review whose id is ID
 *   QUALIFIER := "label:" L                  L: the label's number or class name
 *              | "split:" S                  S: the split the review is in
 *
 * An id shared by several reviews (IMDB numbers repeat across labels and
 * splits) is an error that lists every match with its index and label,
 * never a silent pick; a review selected twice is an error too. IDs that
 * contain ',' or '@' can only be selected by index.
 *
 * Two steps so that callers who read the reviews late (the pipeline's
 * rank 0) can check the syntax early: parse, then resolve against the
 * reviews' ids, labels and split. No I/O. */
#ifndef TOKATTR_DATA_SELECTION_H
#define TOKATTR_DATA_SELECTION_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"

/* The reviews a spec is resolved against, row i = index i. */
typedef struct tk_selection_table {
    int64_t n;
    const char *const *id;          /* (n) the user's id as written (doc_id) */
    const int32_t *label;           /* (n) class index, -1 unlabelled; or NULL (no labels) */
    const char *const *class_names; /* (n_classes) or NULL */
    int n_classes;
    const char *split;              /* the one split every row is in, or NULL (unknown) */
} tk_selection_table;

typedef struct tk_selection tk_selection;

/* Parses spec; `what` names the option or key in messages ("--reviews",
 * "select.reviews"). Syntax errors name the item and the expected form. */
tk_status tk_selection_parse(const char *spec, const char *what, tk_selection **out,
                             tk_error *err);

void tk_selection_destroy(tk_selection *s); /* NULL is fine */

/* The spec's text as given. */
const char *tk_selection_spec(const tk_selection *s);

/* Resolves s against t: *indices (*count) gets the selected rows in the
 * spec's order (free() it). Errors: an index out of range, an id that
 * matches nothing or several reviews (listing them), a review selected
 * twice, a split qualifier that is not t's split. */
tk_status tk_selection_resolve(const tk_selection *s, const tk_selection_table *t,
                               int64_t **indices, int64_t *count, tk_error *err);

/* parse + resolve in one call. */
tk_status tk_selection_select(const char *spec, const char *what, const tk_selection_table *t,
                              int64_t **indices, int64_t *count, tk_error *err);

/* A job's `select: {reviews: SPEC}`: the rows of split sp (of ds) that
 * spec selects, ascending, into rows (room for sp->n); *count of them. */
tk_status tk_selection_split_rows(const char *spec, const char *what, const tk_dataset *ds,
                                  const tk_split *sp, int64_t *rows, int64_t *count,
                                  tk_error *err);

/* Ids as text for tables that have only integer ids (results files made
 * before /reviews/doc_id): (n) strings in one allocation; free() the array. */
char **tk_selection_ids_from_i64(int64_t n, const int64_t *ids, tk_error *err);

#endif
