/* One HTML page per review (DIR/reviews/r<ROW>.html, ROW its row in the
 * results file): the model's outputs, every method side by side (drawn by
 * DIR/review.js from the page's embedded JSON), method agreement and the
 * review's own deletion curves. Shared by the index (html.c), which links
 * to the pages that exist. */
#ifndef TOKATTR_REPORT_PAGES_H
#define TOKATTR_REPORT_PAGES_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "report/report.h"
#include "report/results.h"

/* What the index and the pages share, computed once. */
typedef struct tk_report_ctx {
    const tk_results *r;
    const tk_report_options *o;
    double *rho;        /* (n_pairs, N) Spearman per method pair and review (NaN: none), or NULL */
    uint8_t *has_page;  /* (N) 1: DIR/reviews/r<i>.html is written */
    int64_t *pages;     /* (n_pages) the rows with a page, ascending */
    int64_t n_pages;
} tk_report_ctx;

/* The relative URL of review i's page from the index ("reviews/r12.html"). */
void tk_report_page_href(int64_t i, char *buf, size_t size);

/* Writes DIR/report.css, DIR/review.js and the pages of c->pages; each
 * file under a temporary name, renamed when complete. Pages an earlier
 * report left in DIR/reviews (r<digits>.html) that this one does not
 * write are removed first, so every page there is of this report. */
tk_status tk_report_write_pages(const tk_report_ctx *c, const char *dir, tk_error *err);

/* Writes v as a JSON number with `digits` significant digits, null when
 * not finite. */
void tk_report_json_number(FILE *out, double v, int digits);

#endif
