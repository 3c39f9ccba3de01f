/* `tokattr report`: a static, offline HTML report (an index with inline
 * CSS, SVG and a small inline script that searches and sorts; one page per
 * review; no fonts, no network) or the dataset-wide tables as JSON/CSV,
 * from a results file (DESIGN.md). See src/report/README.md. */
#ifndef TOKATTR_REPORT_REPORT_H
#define TOKATTR_REPORT_REPORT_H

#include <stdint.h>

#include "core/status.h"
#include "report/results.h"

typedef enum tk_report_format { TK_REPORT_HTML, TK_REPORT_JSON, TK_REPORT_CSV } tk_report_format;

/* Which reviews get a page of their own (DIR/reviews/r<ROW>.html). */
typedef enum tk_report_pages {
    TK_REPORT_PAGES_ALL,    /* every review (default) */
    TK_REPORT_PAGES_LINKED, /* those the index links to: --review, confident, random, word tables */
    TK_REPORT_PAGES_NONE
} tk_report_pages;

typedef struct tk_report_options {
    tk_report_format format;
    int64_t min_count;         /* a word needs this many occurrences in a table (default 20) */
    int top_words;             /* rows per word table in the HTML (default 20) */
    int n_confident;           /* most confident right / wrong reviews shown (default 3 each) */
    int n_random;              /* random sample size (default 4) */
    uint64_t seed;             /* of the random sample (default 1) */
    const char *review_spec;   /* NULL, or extra reviews to show: a selection spec
                                * (data/selection.h: rows, id:ID@label:L@split:S) */
    tk_report_pages pages;     /* html: which reviews get a page (default all) */
} tk_report_options;

void tk_report_options_default(tk_report_options *o);

/* Writes DIR/index.html, DIR/report.css, DIR/review.js and
 * DIR/reviews/r<ROW>.html (html) or DIR/{words,agreement,faithfulness}.{json,csv}.
 * DIR is created when missing. Each file is written under a temporary name
 * and renamed when complete, so a failure leaves no half-written output. */
tk_status tk_report_write(const tk_results *r, const char *out_dir, const tk_report_options *o,
                          tk_error *err);

#endif
