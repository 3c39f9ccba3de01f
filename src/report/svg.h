/* Small inline SVG charts written straight into the page: no scripts. */
#ifndef TOKATTR_REPORT_SVG_H
#define TOKATTR_REPORT_SVG_H

#include <stdint.h>
#include <stdio.h>

/* Histogram of v (n) over [lo, hi] in `bins` bins; values outside are put in
 * the end bins, NaN is skipped. title and xlabel are escaped. */
void tk_svg_histogram(FILE *out, const double *v, int64_t n, double lo, double hi, int bins,
                      const char *title, const char *xlabel);

/* The colours of series 0..7 (ColorBrewer Dark2-like), shared by every chart. */
extern const char *const TK_SVG_PALETTE[8];

typedef struct tk_svg_series {
    const char *name;    /* legend text, escaped */
    const double *y;     /* (n_points) */
    const char *colour;  /* CSS colour, trusted (ours) */
    int dashed;
} tk_svg_series;

/* Line chart of series over x = 0..n_points-1. */
void tk_svg_lines(FILE *out, const tk_svg_series *s, int n_series, int n_points,
                  const char *title, const char *xlabel, const char *ylabel);

/* The same with the points evenly spaced over x in [x_lo, x_hi]. */
void tk_svg_lines_x(FILE *out, const tk_svg_series *s, int n_series, int n_points, double x_lo,
                    double x_hi, const char *title, const char *xlabel, const char *ylabel);

#endif
