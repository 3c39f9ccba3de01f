/* The report's style sheet and its two small scripts, as C strings. The
 * scripts only read the page they are in (an embedded JSON element) and
 * change its DOM: no fetch, no XMLHttpRequest, no storage, no network. */
#ifndef TOKATTR_REPORT_ASSETS_H
#define TOKATTR_REPORT_ASSETS_H

/* The CSS of the index (inline) and of the review pages (report.css). */
extern const char TK_REPORT_CSS[];

/* The index: click a table header to sort (numbers as numbers, again to
 * reverse); the search box over the JSON element #tk-index; a URL hash
 * "#q=TEXT&sort=TABLE:COL[:desc]" is applied on load and on change. */
extern const char TK_REPORT_INDEX_JS[];

/* A review page (review.js): draws every method's coloured words from the
 * JSON element #tk-review into #words. */
extern const char TK_REPORT_REVIEW_JS[];

#endif
