#include "report/svg.h"

#include <math.h>
#include <stdlib.h>

#include "report/escape.h"

const char *const TK_SVG_PALETTE[8] = {"#1b6ca8", "#d95f02", "#7570b3", "#1b9e77",
                                       "#e7298a", "#66a61e", "#a6761d", "#666666"};

enum { W = 420, H = 220, ML = 58, MR = 12, MT = 24, MB = 36 };

static void frame(FILE *out, const char *title, const char *xlabel)
{
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" class=\"chart\" role=\"img\">",
            W, H, W, H);
    fputs("<text x=\"8\" y=\"16\" class=\"ct\">", out);
    tk_html_escape(out, title);
    fprintf(out, "</text><text x=\"%d\" y=\"%d\" class=\"cl\" text-anchor=\"middle\">", ML + (W - ML - MR) / 2,
            H - 4);
    tk_html_escape(out, xlabel);
    fputs("</text>", out);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"ax\"/>", ML, H - MB, W - MR, H - MB);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"ax\"/>", ML, MT, ML, H - MB);
}

void tk_svg_histogram(FILE *out, const double *v, int64_t n, double lo, double hi, int bins,
                      const char *title, const char *xlabel)
{
    int64_t *count = calloc((size_t)bins, sizeof *count); /* (bins) */
    int64_t total = 0, peak = 0;
    if (count == NULL)
        return; /* a chart is decoration: the page stays valid without it */
    for (int64_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        int b = (int)floor((v[i] - lo) / (hi - lo) * bins);
        b = b < 0 ? 0 : b >= bins ? bins - 1 : b;
        count[b]++;
        total++;
    }
    for (int b = 0; b < bins; b++)
        peak = count[b] > peak ? count[b] : peak;
    frame(out, title, xlabel);
    double pw = (double)(W - ML - MR) / bins, ph = H - MT - MB;
    for (int b = 0; b < bins; b++) {
        double h = peak ? ph * (double)count[b] / (double)peak : 0;
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"bar\">"
                     "<title>[%.3g, %.3g): %lld</title></rect>",
                ML + b * pw + 0.5, H - MB - h, pw - 1, h, lo + b * (hi - lo) / bins,
                lo + (b + 1) * (hi - lo) / bins, (long long)count[b]);
    }
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\" text-anchor=\"middle\">%.3g</text>", ML, H - MB + 14, lo);
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\" text-anchor=\"middle\">%.3g</text>", W - MR, H - MB + 14, hi);
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\" text-anchor=\"end\">%lld</text>", ML - 4, MT + 8,
            (long long)peak);
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\" text-anchor=\"end\">n=%lld</text>", W - MR, MT - 8,
            (long long)total);
    fputs("</svg>", out);
    free(count);
}

void tk_svg_lines(FILE *out, const tk_svg_series *s, int n_series, int n_points,
                  const char *title, const char *xlabel, const char *ylabel)
{
    tk_svg_lines_x(out, s, n_series, n_points, 0, n_points - 1, title, xlabel, ylabel);
}

void tk_svg_lines_x(FILE *out, const tk_svg_series *s, int n_series, int n_points, double x_lo,
                    double x_hi, const char *title, const char *xlabel, const char *ylabel)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < n_series; k++)
        for (int p = 0; p < n_points; p++)
            if (isfinite(s[k].y[p])) {
                lo = fmin(lo, s[k].y[p]);
                hi = fmax(hi, s[k].y[p]);
            }
    if (!(lo <= hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 1e-12) {
        lo -= 0.5;
        hi += 0.5;
    }
    frame(out, title, xlabel);
    double pw = W - ML - MR, ph = H - MT - MB;
    double dx = n_points > 1 ? pw / (n_points - 1) : 0;
    for (int k = 0; k < n_series; k++) {
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", s[k].colour,
                s[k].dashed ? " stroke-dasharray=\"5,4\"" : "");
        for (int p = 0; p < n_points; p++)
            if (isfinite(s[k].y[p]))
                fprintf(out, "%.1f,%.1f ", ML + p * dx, MT + ph * (hi - s[k].y[p]) / (hi - lo));
        fputs("\"/>", out);
        int ly = MT + 4 + 14 * k;
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>",
                W - MR - 150, ly, W - MR - 130, ly, s[k].colour, s[k].dashed ? " stroke-dasharray=\"5,4\"" : "");
        fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\">", W - MR - 126, ly + 4);
        tk_html_escape(out, s[k].name);
        fputs("</text>", out);
    }
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\" text-anchor=\"end\">%.3g</text>", ML - 4, MT + 4, hi);
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\" text-anchor=\"end\">%.3g</text>", ML - 4, H - MB, lo);
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\" text-anchor=\"middle\">%.3g</text>", ML, H - MB + 14,
            x_lo);
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tk\" text-anchor=\"middle\">%.3g</text>", W - MR, H - MB + 14,
            x_hi);
    fprintf(out, "<text x=\"12\" y=\"%d\" class=\"cl\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">",
            MT + (H - MT - MB) / 2, MT + (H - MT - MB) / 2);
    tk_html_escape(out, ylabel);
    fputs("</text></svg>", out);
}
