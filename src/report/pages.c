/* The review pages (pages.h). The words are data, not markup: one JSON
 * element holds them once with every method's scores, and review.js draws
 * the coloured columns, which keeps 25,000 pages at a few KB each (the
 * same heatmap as static spans would be ~25 KB per review). */
#define _POSIX_C_SOURCE 200809L
#include "report/pages.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/assets.h"
#include "report/escape.h"
#include "report/output.h"
#include "report/svg.h"

void tk_report_page_href(int64_t i, char *buf, size_t size)
{
    snprintf(buf, size, "reviews/r%" PRId64 ".html", i);
}

void tk_report_json_number(FILE *out, double v, int digits)
{
    if (isfinite(v))
        fprintf(out, "%.*g", digits, v);
    else
        fputs("null", out);
}

static tk_status write_asset(const char *dir, const char *name, const char *text, tk_error *err)
{
    tk_out_file f;
    tk_status st = tk_out_open(&f, dir, name, err);
    if (st != TK_OK)
        return st;
    fputs(text, f.f);
    return tk_out_commit(&f, err);
}

static int explained_class(const tk_results *r, int m, int64_t i)
{
    if (r->methods[m].target)
        return r->methods[m].target[i];
    if (r->target)
        return r->target[i];
    return tk_results_predicted(r, i);
}

static void num_cell(FILE *out, double v, const char *fmt)
{
    fputs("<td class=\"n\">", out);
    if (isfinite(v))
        fprintf(out, fmt, v);
    fputs("</td>", out);
}

static void class_text(FILE *out, const tk_results *r, int c)
{
    char cb[32];
    tk_html_escape(out, tk_report_class_name(r, c, cb, sizeof cb));
}

static void header(FILE *out, const tk_report_ctx *c, int64_t i)
{
    const tk_results *r = c->r;
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width\"><title>review %" PRId64
                 " \xC2\xB7 tokattr report</title><link rel=\"stylesheet\" href=\"../report.css\"></head><body>",
            r->review_id[i]);
    /* previous / next among the pages that exist (c->pages is ascending) */
    int64_t lo = 0, hi = c->n_pages;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (c->pages[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    fputs("<p class=\"note\"><a href=\"../index.html\" id=\"back\">\xE2\x86\x90 index</a>", out);
    if (lo > 0)
        fprintf(out, " \xC2\xB7 <a href=\"r%" PRId64 ".html\" rel=\"prev\">previous</a>", c->pages[lo - 1]);
    if (lo + 1 < c->n_pages)
        fprintf(out, " \xC2\xB7 <a href=\"r%" PRId64 ".html\" rel=\"next\">next</a>", c->pages[lo + 1]);
    fprintf(out, "</p><h1>review %" PRId64 " <span class=\"note\">(row %" PRId64 " of the results file)</span></h1>",
            r->review_id[i], i);

    /* The model's outputs for this review. */
    int pred = tk_results_predicted(r, i);
    fputs("<h2>The model</h2><table><tbody>", out);
    if (r->doc_id.s != NULL && r->doc_id.s[i] != NULL) {
        fputs("<tr><th>id</th><td>", out);
        tk_html_escape(out, r->doc_id.s[i]);
        fputs("</td></tr>", out);
    }
    if (r->index != NULL)
        fprintf(out, "<tr><th>index in the split</th><td class=\"n\">%" PRId64 "</td></tr>", r->index[i]);
    fputs("<tr><th>label</th><td id=\"label\">", out);
    if (r->label[i] < 0)
        fputs("unknown", out);
    else
        class_text(out, r, r->label[i]);
    fputs("</td></tr>", out);
    if (r->rating != NULL)
        fprintf(out, "<tr><th>rating</th><td class=\"n\">%" PRId32 "</td></tr>", r->rating[i]);
    fprintf(out, "<tr><th>predicted</th><td id=\"predicted\" class=\"%s\">",
            r->label[i] >= 0 && pred == r->label[i] ? "right" : "wrong");
    class_text(out, r, pred);
    fputs("</td></tr>", out);
    int C = tk_results_n_classes(r);
    for (int k = 0; k < C; k++) {
        /* a single sigmoid column is p(class 1); class 0 is its complement */
        double p = r->c == 1 ? (k == 1 ? r->prob[i] : 1.0 - r->prob[i]) : r->prob[i * r->c + k];
        fputs("<tr><th>p(", out);
        class_text(out, r, k);
        fprintf(out, ")%s</th><td class=\"n\">%.6f</td></tr>", r->c == 1 && k == 0 ? " = 1 \xE2\x88\x92 sigmoid" : "", p);
    }
    if (r->truncated != NULL && r->truncated[i] > 0)
        fprintf(out, "<tr><th>words cut by truncation</th><td class=\"n\">%" PRId32 " (%s)</td></tr>",
                r->truncated[i], r->truncating_post ? "after" : "before");
    fprintf(out, "<tr><th>tokens scored</th><td class=\"n\">%" PRId64 "</td></tr></tbody></table>",
            r->token_offset[i + 1] - r->token_offset[i]);
    if (!r->done[i])
        fputs("<p class=\"wrong\"><b>not done: no attributions yet</b> (the run stopped before this review)</p>", out);
}

/* Per method: what it explained and how well its scores add up. */
static void methods_table(FILE *out, const tk_results *r, int64_t i)
{
    fputs("<h2>Methods</h2><table><thead><tr><th>method</th><th>explained class</th>"
          "<th>scores are of</th><th>F(input)</th><th>F(baseline)</th><th>sum of scores</th>"
          "<th>axiom error</th><th>on padding</th><th>max |score|</th></tr></thead><tbody>",
          out);
    int64_t lo = r->token_offset[i], hi = r->token_offset[i + 1];
    for (int m = 0; m < r->n_methods; m++) {
        const tk_results_method *mm = &r->methods[m];
        double sum = 0, mx = 0;
        for (int64_t t = lo; t < hi; t++)
            if (isfinite(mm->score[t])) {
                sum += mm->score[t];
                mx = fmax(mx, fabs(mm->score[t]));
            }
        fputs("<tr><td>", out);
        tk_html_escape(out, mm->name);
        fputs("</td><td>", out);
        class_text(out, r, explained_class(r, m, i));
        fprintf(out, "</td><td>%s</td>", tk_results_method_output(mm));
        num_cell(out, mm->f_input ? mm->f_input[i] : NAN, "%.6g");
        num_cell(out, mm->f_baseline ? mm->f_baseline[i] : NAN, "%.6g");
        num_cell(out, sum, "%.6g");
        num_cell(out, mm->axiom_error ? mm->axiom_error[i] : NAN, "%.3g");
        num_cell(out, mm->padding_score ? mm->padding_score[i] : NAN, "%.3g");
        num_cell(out, mx, "%.4g");
        fputs("</tr>", out);
    }
    fputs("</tbody></table>", out);
}

static double max_abs(const float *s, int64_t lo, int64_t hi)
{
    double mx = 0;
    for (int64_t t = lo; t < hi; t++)
        if (isfinite(s[t]))
            mx = fmax(mx, fabs(s[t]));
    return mx;
}

/* round(1000 a) for a in [-1, 1] as decimal text in buf (>= 8 bytes),
 * without printf: the pages hold millions of these. */
static const char *quantized(double a, char *buf)
{
    long q = lround(1000.0 * (a > 1 ? 1 : a < -1 ? -1 : a));
    char *p = buf + 7;
    *p = '\0';
    bool neg = q < 0;
    unsigned long u = (unsigned long)(neg ? -q : q);
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (neg)
        *--p = '-';
    return p;
}

/* The words once, a kind per word (0 word, 1 out of vocabulary, 2 start
 * marker) and each method's scores: drawn by review.js. */
static void words_json(FILE *out, const tk_results *r, int64_t i)
{
    int64_t lo = r->token_offset[i], hi = r->token_offset[i + 1];
    fputs("<h2>Words</h2><p class=\"note\">Each word coloured by its score, scaled per method by the "
          "largest |score| of the review (green: evidence for the explained class, pink: against; "
          "hover for the value).</p><div id=\"words\" class=\"cols\"></div><noscript><p class=\"note\">"
          "The words are drawn by review.js (JavaScript is off); <code>tokattr inspect RESULTS "
          "--review ROW</code> prints them.</p></noscript>"
          "<script type=\"application/json\" id=\"tk-review\">{\"m\":[",
          out);
    for (int m = 0; m < r->n_methods && r->done[i]; m++) { /* not done: no columns */
        if (m)
            fputc(',', out);
        tk_json_script_string(out, r->methods[m].name);
    }
    fputs("],\"u\":[", out); /* what each method's scores are of: their unit */
    for (int m = 0; m < r->n_methods && r->done[i]; m++)
        fprintf(out, "%s\"%s\"", m ? "," : "", tk_results_method_output(&r->methods[m]));
    fputs("],\"w\":[", out);
    char wb[32];
    for (int64_t t = lo; t < hi; t++) {
        if (t > lo)
            fputc(',', out);
        tk_json_script_string(out, tk_results_token_word(r, t, wb, sizeof wb));
    }
    fputs("],\"k\":\"", out);
    for (int64_t t = lo; t < hi; t++) {
        bool marker = r->word_pos != NULL ? r->word_pos[t] < 0 : r->token_id[t] == r->start_id;
        fputc(marker ? '2' : tk_results_token_is_oov(r, t) ? '1' : '0', out);
    }
    /* Scores as integers q = round(1000 s / max |s|) with max |s| per
     * method ("x"): the colour needs no more, the hover shows q max / 1000,
     * and a page is half the size of one with %.4g numbers. */
    fputs("\",\"x\":[", out);
    for (int m = 0; m < r->n_methods && r->done[i]; m++) {
        if (m)
            fputc(',', out);
        tk_report_json_number(out, max_abs(r->methods[m].score, lo, hi), 6);
    }
    fputs("],\"s\":[", out);
    char num[16];
    for (int m = 0; m < r->n_methods && r->done[i]; m++) {
        const float *sc = r->methods[m].score;
        double mx = max_abs(sc, lo, hi);
        fputs(m ? ",[" : "[", out);
        for (int64_t t = lo; t < hi; t++) {
            if (t > lo)
                fputc(',', out);
            if (!isfinite(sc[t]))
                fputs("null", out);
            else
                fputs(quantized(mx > 0 ? sc[t] / mx : 0, num), out);
        }
        fputc(']', out);
    }
    fprintf(out, "],\"cut\":%" PRId32 ",\"post\":%s}</script>", r->truncated ? r->truncated[i] : 0,
            r->truncating_post ? "true" : "false");
}

static void agreement_matrix(FILE *out, const tk_report_ctx *c, int64_t i)
{
    const tk_results *r = c->r;
    if (c->rho == NULL || r->n_methods < 2 || !r->done[i])
        return;
    fputs("<h2>Method agreement</h2><p class=\"note\">Spearman rank correlation of this review's token "
          "scores between two methods (1: the same order).</p><table id=\"agreement\"><thead><tr><th></th>",
          out);
    for (int b = 0; b < r->n_methods; b++) {
        fputs("<th>", out);
        tk_html_escape(out, r->methods[b].name);
        fputs("</th>", out);
    }
    fputs("</tr></thead><tbody>", out);
    int M = r->n_methods;
    for (int a = 0; a < M; a++) {
        fputs("<tr><th>", out);
        tk_html_escape(out, r->methods[a].name);
        fputs("</th>", out);
        for (int b = 0; b < M; b++) {
            if (a == b) {
                fputs("<td class=\"n\">1</td>", out);
                continue;
            }
            int x = a < b ? a : b, y = a < b ? b : a;
            /* pairs in the order (0,1), (0,2), ..., (1,2), ... */
            int64_t p = (int64_t)x * M - (int64_t)x * (x + 1) / 2 + (y - x - 1);
            double v = c->rho[p * r->n + i];
            char bg[64] = "";
            if (isfinite(v)) /* the same diverging scale as the words */
                snprintf(bg, sizeof bg, " style=\"background:rgb(%d,%d,%d)\"",
                         (int)lround(255 + fabs(v) * ((v >= 0 ? 39 : 197) - 255)),
                         (int)lround(255 + fabs(v) * ((v >= 0 ? 140 : 27) - 255)),
                         (int)lround(255 + fabs(v) * ((v >= 0 ? 60 : 125) - 255)));
            fprintf(out, "<td class=\"n\"%s>", bg);
            if (isfinite(v))
                fprintf(out, "%.3f", v);
            fputs("</td>", out);
        }
        fputs("</tr>", out);
    }
    fputs("</tbody></table>", out);
}

/* This review's deletion curves, every method with the same K on one
 * chart, with the first one's random order dashed. buf: 2 * 9 * k1. */
static void curves(FILE *out, const tk_results *r, int64_t i, double *buf)
{
    tk_svg_series s[9];
    int n = 0, k1 = 0;
    const tk_results_faith *first = NULL;
    for (int m = 0; m < r->n_methods && n < 8; m++) {
        const tk_results_faith *f = r->methods[m].faith;
        if (f == NULL || (k1 && f->k1 != k1))
            continue;
        k1 = f->k1;
        first = first ? first : f;
        double *y = buf + (size_t)n * (size_t)k1;
        for (int k = 0; k < k1; k++)
            y[k] = f->curve[i * k1 + k];
        s[n++] = (tk_svg_series){r->methods[m].name, y, TK_SVG_PALETTE[m % 8], 0};
    }
    /* --faithfulness MODEL computes a sample: the other reviews have NaN curves */
    bool any = false;
    for (int j = 0; j < n * k1 && !any; j++)
        any = isfinite(buf[j]);
    if (n == 0 || !r->done[i] || !any)
        return;
    fputs("<h2>Deletion curves</h2><p class=\"note\">The explained scalar after removing the k "
          "top-scored tokens of this review, and after removing k tokens in a seeded random "
          "order (dashed).</p><div class=\"grid\" id=\"curves\">",
          out);
    int ns = n;
    if (first->random_curve != NULL) {
        double *y = buf + (size_t)ns * (size_t)k1;
        for (int k = 0; k < k1; k++)
            y[k] = first->random_curve[i * k1 + k];
        s[ns++] = (tk_svg_series){"random order", y, "#999999", 1};
    }
    tk_svg_lines(out, s, ns, k1, "deletion curves", "tokens removed (k)", "F");
    fputs("</div>", out);
}

static tk_status one_page(const tk_report_ctx *c, const char *rdir, int64_t i, double *buf,
                          tk_error *err)
{
    char name[48];
    snprintf(name, sizeof name, "r%" PRId64 ".html", i);
    tk_out_file f;
    tk_status st = tk_out_open(&f, rdir, name, err);
    if (st != TK_OK)
        return st;
    header(f.f, c, i);
    if (c->r->done[i])
        methods_table(f.f, c->r, i);
    words_json(f.f, c->r, i);
    agreement_matrix(f.f, c, i);
    curves(f.f, c->r, i, buf);
    fputs("<script src=\"../review.js\"></script></body></html>\n", f.f);
    return tk_out_commit(&f, err);
}

/* Removes the pages of an earlier report into the same DIR that this one
 * did not write (a page of another file, or of a review now unlinked):
 * only names of the form r<digits>.html, in DIR/reviews. */
static tk_status prune(const tk_report_ctx *c, const char *rdir, tk_error *err)
{
    DIR *d = opendir(rdir);
    if (d == NULL)
        return errno == ENOENT ? TK_OK
                               : tk_error_set(err, TK_E_IO, "%s: cannot list (%s)", rdir, strerror(errno));
    tk_status st = TK_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && st == TK_OK) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (len < 7 || len > 26 || n[0] != 'r' || strcmp(n + len - 5, ".html") != 0)
            continue;
        bool digits = true;
        int64_t row = 0;
        for (size_t k = 1; k < len - 5; k++) {
            digits = digits && n[k] >= '0' && n[k] <= '9';
            row = digits && row < INT64_MAX / 10 - 10 ? row * 10 + (n[k] - '0') : row;
        }
        if (!digits || (row < c->r->n && c->has_page[row] && len - 6 == (size_t)snprintf(NULL, 0, "%" PRId64, row)))
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", rdir, n);
        if (remove(path) != 0)
            st = tk_error_set(err, TK_E_IO, "%s: cannot remove the stale page (%s)", path, strerror(errno));
    }
    closedir(d);
    return st;
}

tk_status tk_report_write_pages(const tk_report_ctx *c, const char *dir, tk_error *err)
{
    tk_status st = write_asset(dir, "report.css", TK_REPORT_CSS, err);
    if (st == TK_OK)
        st = write_asset(dir, "review.js", TK_REPORT_REVIEW_JS, err);
    if (st != TK_OK)
        return st;
    char rdir[4096];
    if ((size_t)snprintf(rdir, sizeof rdir, "%s/reviews", dir) >= sizeof rdir)
        return tk_error_set(err, TK_E_INVALID, "%s: the output path is too long", dir);
    if ((st = prune(c, rdir, err)) != TK_OK || c->n_pages == 0)
        return st;
    int k1 = 0;
    for (int m = 0; m < c->r->n_methods; m++)
        if (c->r->methods[m].faith != NULL && c->r->methods[m].faith->k1 > k1)
            k1 = c->r->methods[m].faith->k1;
    double *buf = tk_malloc((size_t)(9 * (k1 ? k1 : 1)), sizeof *buf, err); /* (9, k1) curves */
    if (buf == NULL)
        return TK_E_NOMEM;
    for (int64_t j = 0; j < c->n_pages && st == TK_OK; j++)
        st = one_page(c, rdir, c->pages[j], buf, err);
    free(buf);
    return st;
}
