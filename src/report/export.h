/* Tables of a loaded results file for pandas and friends (`tokattr
 * export`): the long per-token table, the per-review table and the
 * oriented word ranking, as CSV (RFC 4180, header row, libcsv quoting) or
 * JSON Lines (one object a line). Only reviews with /progress/done = 1 are
 * written. Columns: README "Export". */
#ifndef TOKATTR_REPORT_EXPORT_H
#define TOKATTR_REPORT_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "report/results.h"

typedef enum tk_export_format { TK_EXPORT_CSV, TK_EXPORT_JSONL } tk_export_format;

tk_status tk_export_format_parse(const char *name, tk_export_format *f, tk_error *err);

/* One row per scored token (start marker included, padding excluded):
 * review, doc_id, label, position, word, token_id, oov, then one column
 * per method (its score). */
tk_status tk_export_tokens(const tk_results *r, tk_export_format f, FILE *out, tk_error *err);

/* One row per review: review, index, doc_id, label, predicted, prob_<class>
 * per class, truncated, n_tokens, then per method <m>_target,
 * <m>_axiom_error, <m>_f_input, <m>_f_baseline, <m>_padding_score. */
tk_status tk_export_reviews(const tk_results *r, tk_export_format f, FILE *out, tk_error *err);

/* A word's scores oriented toward one class. */
typedef struct tk_oriented_word {
    const char *word;  /* points into r */
    int64_t count;
    double mean, ci_low, ci_high; /* mean and its 95% normal interval */
    int64_t slot;      /* the word's slot in its tk_word_index */
} tk_oriented_word;

/* The one definition of orientation: the sign that turns method m's scores
 * of review i into evidence toward class cls. +1 where the method explained
 * cls, -1 where it explained the other class of a binary model, 0 otherwise
 * (a multi-class score of another class says nothing about cls). */
double tk_export_orientation(const tk_results *r, int m, int64_t i, int cls);

/* Each token's distinct word (its text), computed once and shared by the
 * rankings of every method and class: `export --words` and the report's
 * word tables rank through it. r must outlive it. */
typedef struct tk_word_index tk_word_index;
tk_status tk_word_index_create(const tk_results *r, tk_word_index **out, tk_error *err);
void tk_word_index_destroy(tk_word_index *x); /* NULL is fine */

/* The distinct words: their number, the text of slot s, and the slot of
 * token t (-1: not a word: the start marker, or an id without text). */
int64_t tk_word_index_n_words(const tk_word_index *x);
const char *tk_word_index_word(const tk_word_index *x, int64_t slot);
int64_t tk_word_index_slot(const tk_word_index *x, int64_t t);

/* tk_export_oriented_words on a prebuilt index. */
tk_status tk_word_index_rank(const tk_word_index *x, int m, int cls, int64_t min_count,
                             tk_oriented_word **out, int64_t *n, tk_error *err);

/* The reviews where each word of w (n, from tk_word_index_rank with the
 * same m and cls) weighs most toward cls: the k done reviews with the
 * largest oriented score of one of its occurrences, descending, ties by
 * review. idx (n, k) row-major receives review rows, -1 past the last. */
tk_status tk_word_index_top_reviews(const tk_word_index *x, int m, int cls,
                                    const tk_oriented_word *w, int64_t n, int k, int64_t *idx,
                                    tk_error *err);

/* The words of method m oriented toward class cls: a token's score counts
 * as is where the method explained cls, sign-flipped where it explained the
 * other class of a binary model, and not at all otherwise (multi-class).
 * The start marker is not a word. Words seen fewer than min_count times
 * are left out. *out (n) sorted by mean descending, ties by word; free(). */
tk_status tk_export_oriented_words(const tk_results *r, int m, int cls, int64_t min_count,
                                   tk_oriented_word **out, int64_t *n, tk_error *err);

/* Every method and class: method, class, rank, word, count, mean, ci_low,
 * ci_high. */
tk_status tk_export_words(const tk_results *r, int64_t min_count, tk_export_format f, FILE *out,
                          tk_error *err);

/* The field writers, exposed for the tests: a CSV field (quoted only when
 * it holds a comma, quote, CR or LF, or starts or ends with a space) and a
 * JSON string (escaped per RFC 8259; bytes >= 0x80 pass through). */
void tk_export_csv_field(FILE *out, const char *s);
void tk_export_json_string(FILE *out, const char *s);

#endif
