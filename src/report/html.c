/* The HTML page: one self-contained file with inline CSS and SVG. No
 * scripts, so nothing can run even if escaping were ever wrong, and the
 * page works offline from a file:// URL. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/aggregate.h"
#include "report/escape.h"
#include "report/output.h"
#include "report/svg.h"

static const char CSS[] =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}"
    "h1{font-size:24px}h2{border-bottom:2px solid #ccc;margin-top:36px}"
    "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:left;font-size:13px;vertical-align:top}th{background:#f2f2f2}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:300px}"
    ".grid{display:flex;flex-wrap:wrap;gap:16px}"
    ".review{border:1px solid #bbb;border-radius:6px;padding:10px;margin:12px 0}"
    ".meta{font-size:14px;margin-bottom:8px}.meta b{margin-right:4px}"
    ".cols{display:flex;gap:12px;align-items:flex-start}"
    ".col{flex:1;min-width:0;border-left:3px solid #eee;padding-left:8px}"
    ".col h4{margin:2px 0 6px 0;font-size:13px}"
    ".txt{line-height:1.9;font-size:14px;word-wrap:break-word}"
    ".txt span{padding:1px 2px;border-radius:3px}"
    ".mk{color:#888;font-style:italic}"
    ".oov{text-decoration:underline dotted #555;font-style:italic}"
    ".cut{color:#888;font-size:12px;font-style:italic}"
    ".right{color:#1a7a3a}.wrong{color:#b0106f}"
    ".chart{border:1px solid #ddd;background:#fff}.chart .ct{font-size:13px;font-weight:bold}"
    ".chart .cl,.chart .tk{font-size:11px;fill:#444}.chart .ax{stroke:#666}.chart .bar{fill:#5b7fb5}"
    ".words{display:flex;gap:20px;flex-wrap:wrap}.note{color:#666;font-size:13px}";

/* Colours of the diverging scale (ColorBrewer PiYG ends): green for
 * evidence for the explained class, pink against, white at 0. */
static const int POS_RGB[3] = {39, 140, 60};
static const int NEG_RGB[3] = {197, 27, 125};

static void colour(double a, char *buf, size_t size)
{
    if (!isfinite(a))
        a = 0;
    a = a > 1 ? 1 : a < -1 ? -1 : a;
    const int *c = a >= 0 ? POS_RGB : NEG_RGB;
    double t = fabs(a);
    int rgb[3];
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lround(255 + t * (c[k] - 255));
    snprintf(buf, size, "background:rgb(%d,%d,%d)%s", rgb[0], rgb[1], rgb[2], t > 0.6 ? ";color:#fff" : "");
}

static void legend(FILE *out)
{
    fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"320\" height=\"34\" role=\"img\">"
          "<defs><linearGradient id=\"lg\">",
          out);
    fprintf(out, "<stop offset=\"0\" stop-color=\"rgb(%d,%d,%d)\"/><stop offset=\"0.5\" stop-color=\"#fff\"/>"
                 "<stop offset=\"1\" stop-color=\"rgb(%d,%d,%d)\"/>",
            NEG_RGB[0], NEG_RGB[1], NEG_RGB[2], POS_RGB[0], POS_RGB[1], POS_RGB[2]);
    fputs("</linearGradient></defs><rect x=\"10\" y=\"2\" width=\"300\" height=\"14\" fill=\"url(#lg)\" "
          "stroke=\"#999\"/><text x=\"10\" y=\"30\" font-size=\"11\">\xE2\x88\x92max |score| (against)</text>"
          "<text x=\"160\" y=\"30\" font-size=\"11\" text-anchor=\"middle\">0</text>"
          "<text x=\"310\" y=\"30\" font-size=\"11\" text-anchor=\"end\">+max (for the class)</text></svg>",
          out);
    fputs("<p class=\"note\"><span class=\"oov\">word</span>: out of the model's vocabulary "
          "(the model saw the OOV id; the text is the word as tokenized). <span class=\"mk\">"
          "[start]</span>: the start marker. <span class=\"cut\">\xE2\x80\xA6 N words "
          "before</span>: words cut by truncation.</p>",
          out);
}

/* "... 312 words before" (or after): the words truncation cut from review i. */
static void cut_mark(FILE *out, const tk_results *r, int64_t i, bool after)
{
    if (r->truncated == NULL || r->truncated[i] <= 0 || r->truncating_post != after)
        return;
    fprintf(out, "<span class=\"cut\">\xE2\x80\xA6 %" PRId32 " word%s %s</span> ", r->truncated[i],
            r->truncated[i] == 1 ? "" : "s", after ? "after" : "before");
}

static void word_text(FILE *out, const tk_results *r, int32_t id)
{
    char buf[32];
    tk_html_escape(out, tk_results_word(r, id, buf, sizeof buf));
}

static void attrs_table(FILE *out, const tk_results_attr *a, int n, bool skip_job)
{
    fputs("<table>", out);
    for (int i = 0; i < n; i++) {
        if (skip_job && strstr(a[i].name, "job") != NULL)
            continue;
        fputs("<tr><th>", out);
        tk_html_escape(out, a[i].name);
        fputs("</th><td>", out);
        tk_html_escape(out, a[i].value);
        fputs("</td></tr>", out);
    }
    fputs("</table>", out);
}

static void overview(FILE *out, const tk_results *r)
{
    int64_t n_done = 0, n_scored;
    for (int64_t i = 0; i < r->n; i++)
        n_done += r->done[i] != 0;
    double acc = tk_report_accuracy(r, &n_scored);
    fputs("<h2 id=\"overview\">Overview</h2><table>", out);
    fputs("<tr><th>results file</th><td>", out);
    tk_html_escape(out, r->path);
    fprintf(out, "</td></tr><tr><th>reviews</th><td class=\"n\">%" PRId64 " (%" PRId64 " done)</td></tr>"
                 "<tr><th>tokens</th><td class=\"n\">%" PRId64 "</td></tr>"
                 "<tr><th>classes</th><td class=\"n\">%d</td></tr>",
            r->n, n_done, r->t, tk_results_n_classes(r));
    if (n_scored > 0)
        fprintf(out, "<tr><th>accuracy (predictions vs labels)</th><td class=\"n\">%.4f (%" PRId64
                     " of %" PRId64 ")</td></tr>",
                acc, (int64_t)llround(acc * (double)n_scored), n_scored);
    fprintf(out, "<tr><th>methods</th><td class=\"n\">%d</td></tr></table>", r->n_methods);
    if (r->n_root_attrs > 0) {
        fputs("<h3>Run</h3>", out);
        attrs_table(out, r->root_attrs, r->n_root_attrs, true);
        for (int i = 0; i < r->n_root_attrs; i++)
            if (strstr(r->root_attrs[i].name, "job") != NULL) {
                fputs("<h3>", out);
                tk_html_escape(out, r->root_attrs[i].name);
                fputs("</h3><pre>", out);
                tk_html_escape(out, r->root_attrs[i].value);
                fputs("</pre>", out);
            }
    }
    if (r->n_methods == 0)
        return;
    /* One row per method: what its scores are of (and so their unit) and
     * its own parameters as written by the run. */
    fputs("<h3>Methods</h3><table><tr><th>name</th><th>scores are of</th><th>parameters</th></tr>",
          out);
    for (int m = 0; m < r->n_methods; m++) {
        const tk_results_method *mm = &r->methods[m];
        fputs("<tr><td>", out);
        tk_html_escape(out, mm->name);
        fputs(strcmp(tk_results_method_output(mm), "logit") == 0
                  ? "</td><td>the explained class's logit (units: logit)</td><td>"
                  : "</td><td>the explained class's probability (units: probability)</td><td>",
              out);
        bool first = true;
        for (int a = 0; a < mm->n_attrs; a++) {
            if (!tk_results_method_own_param(mm, mm->attrs[a].name))
                continue;
            fputs(first ? "" : "; ", out);
            first = false;
            tk_html_escape(out, mm->attrs[a].name);
            fputs(" = ", out);
            tk_html_escape(out, mm->attrs[a].value);
        }
        fputs("</td></tr>", out);
    }
    fputs("</table>", out);
}

static tk_status axiom_errors(FILE *out, const tk_results *r, tk_error *err)
{
    bool any = false;
    for (int m = 0; m < r->n_methods; m++)
        any = any || r->methods[m].axiom_error != NULL;
    if (!any)
        return TK_OK;
    double *v = tk_malloc(r->n ? (size_t)r->n : 1, sizeof *v, err);  /* (N) |error| */
    double *lg = tk_malloc(r->n ? (size_t)r->n : 1, sizeof *lg, err); /* (N) log10 |error| */
    if (v == NULL || lg == NULL) {
        free(v);
        free(lg);
        return TK_E_NOMEM;
    }
    fputs("<h2 id=\"axioms\">Axiom error per method</h2><p class=\"note\">Completeness delta "
          "(IG, DeepLIFT, DeepSHAP) or relevance not conserved (LRP), per review; "
          "histograms of log10 |error| (0 is drawn at 1e-12).</p>"
          "<table><tr><th>method</th><th>reviews</th><th>median |e|</th><th>95% |e|</th>"
          "<th>max |e|</th></tr>",
          out);
    for (int m = 0; m < r->n_methods; m++) {
        const float *e = r->methods[m].axiom_error;
        if (e == NULL)
            continue;
        int64_t k = 0;
        for (int64_t i = 0; i < r->n; i++)
            if (r->done[i] && isfinite(e[i]))
                v[k++] = fabs(e[i]);
        fputs("<tr><td>", out);
        tk_html_escape(out, r->methods[m].name);
        double med = tk_report_quantile(v, k, 0.5), p95 = tk_report_quantile(v, k, 0.95);
        double mx = tk_report_quantile(v, k, 1.0);
        fprintf(out, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%.3g</td><td class=\"n\">%.3g</td>"
                     "<td class=\"n\">%.3g</td></tr>",
                k, med, p95, mx);
    }
    fputs("</table><div class=\"grid\">", out);
    for (int m = 0; m < r->n_methods; m++) {
        const float *e = r->methods[m].axiom_error;
        if (e == NULL)
            continue;
        int64_t k = 0;
        for (int64_t i = 0; i < r->n; i++)
            if (r->done[i] && isfinite(e[i]))
                lg[k++] = log10(fmax(fabs(e[i]), 1e-12));
        char title[160];
        snprintf(title, sizeof title, "%.100s: log10 |axiom error|", r->methods[m].name);
        tk_svg_histogram(out, lg, k, -12, 2, 28, title, "log10 |error|");
    }
    fputs("</div>", out);
    free(v);
    free(lg);
    return TK_OK;
}

static void review_view(FILE *out, const tk_results *r, int64_t i)
{
    char buf[64], cb[32];
    int pred = tk_results_predicted(r, i);
    bool right = r->label[i] >= 0 && pred == r->label[i];
    fprintf(out, "<div class=\"review\" id=\"review-%" PRId64 "\"><div class=\"meta\"><b>review %" PRId64
                 "</b> label: <b>%s</b>",
            r->review_id[i], r->review_id[i],
            r->label[i] < 0 ? "unknown" : tk_report_class_name(r, r->label[i], cb, sizeof cb));
    /* The user's own id (a CSV's id column), when it is not the number above. */
    snprintf(buf, sizeof buf, "%" PRId64, r->review_id[i]);
    if (r->doc_id.s != NULL && r->doc_id.s[i] != NULL && strcmp(r->doc_id.s[i], buf) != 0) {
        fputs(" id: <b>", out);
        tk_html_escape(out, r->doc_id.s[i]);
        fputs("</b>", out);
    }
    if (r->rating != NULL)
        fprintf(out, " rating: <b>%" PRId32 "</b>", r->rating[i]);
    fprintf(out, " predicted: <b class=\"%s\">%s</b> (p = %.4f)", right ? "right" : "wrong",
            tk_report_class_name(r, pred, cb, sizeof cb), tk_results_confidence(r, i));
    if (r->target != NULL)
        fprintf(out, " explained class: <b>%s</b>", tk_report_class_name(r, r->target[i], cb, sizeof cb));
    if (!r->done[i])
        fputs(" <b class=\"wrong\">(not done: no attributions yet)</b>", out);
    fputs("</div><div class=\"cols\">", out);
    int64_t lo = r->token_offset[i], hi = r->token_offset[i + 1];
    for (int m = 0; m < r->n_methods && r->done[i]; m++) {
        const float *s = r->methods[m].score;
        double scale = 0;
        for (int64_t t = lo; t < hi; t++)
            if (isfinite(s[t]))
                scale = fmax(scale, fabs(s[t]));
        fputs("<div class=\"col\"><h4>", out);
        tk_html_escape(out, r->methods[m].name);
        fprintf(out, " <span class=\"note\">max |s| = %.3g", scale);
        if (r->methods[m].axiom_error != NULL)
            fprintf(out, " \xC2\xB7 axiom error %.2g", (double)r->methods[m].axiom_error[i]);
        if (r->methods[m].padding_score != NULL)
            fprintf(out, " \xC2\xB7 on padding %.2g", (double)r->methods[m].padding_score[i]);
        fputs("</span></h4><div class=\"txt\">", out);
        cut_mark(out, r, i, false);
        for (int64_t t = lo; t < hi; t++) {
            colour(scale > 0 ? s[t] / scale : 0, buf, sizeof buf);
            bool marker = r->word_pos != NULL ? r->word_pos[t] < 0 : r->token_id[t] == r->start_id;
            bool oov = !marker && tk_results_token_is_oov(r, t);
            fprintf(out, "<span style=\"%s\" title=\"%.4g%s\"%s>", buf, (double)s[t],
                    oov ? " (out of vocabulary)" : "",
                    marker ? " class=\"mk\"" : oov ? " class=\"oov\"" : "");
            if (marker) {
                fputs("[start]", out);
            } else {
                char wb[32];
                tk_html_escape(out, tk_results_token_word(r, t, wb, sizeof wb));
            }
            fputs("</span> ", out);
        }
        cut_mark(out, r, i, true);
        fputs("</div></div>", out);
    }
    fputs("</div></div>", out);
}

static tk_status reviews(FILE *out, const tk_results *r, const tk_report_options *o,
                         const int64_t *wanted, tk_error *err)
{
    int64_t cap = o->n_confident > o->n_random ? o->n_confident : o->n_random;
    int64_t *idx = tk_malloc(cap > 0 ? (size_t)cap : 1, sizeof *idx, err);
    if (idx == NULL)
        return TK_E_NOMEM;
    fputs("<h2 id=\"reviews\">Reviews</h2><p class=\"note\">Each word is coloured by its score, "
          "scaled per review and method by the largest |score| (hover for the value).</p>",
          out);
    legend(out);
    if (o->n_review_ids > 0) {
        fputs("<h3>Requested reviews</h3>", out);
        for (int k = 0; k < o->n_review_ids; k++)
            review_view(out, r, wanted[k]);
    }
    static const char *const titles[2] = {"Most confident right predictions",
                                          "Most confident wrong predictions"};
    for (int w = 0; w < 2; w++) {
        int64_t k = tk_report_confident(r, w == 0, o->n_confident, idx, err);
        if (k < 0) {
            free(idx);
            return TK_E_NOMEM;
        }
        fprintf(out, "<h3>%s</h3>", titles[w]);
        if (k == 0)
            fputs("<p class=\"note\">none</p>", out);
        for (int64_t j = 0; j < k; j++)
            review_view(out, r, idx[j]);
    }
    int64_t k = tk_report_random_sample(r, o->seed, o->n_random, idx);
    fprintf(out, "<h3>Random sample (seed %" PRIu64 ")</h3>", o->seed);
    for (int64_t j = 0; j < k; j++)
        review_view(out, r, idx[j]);
    free(idx);
    return TK_OK;
}

static void word_rows(FILE *out, const tk_results *r, const tk_word_stat *w, int64_t n, int top,
                      const char *caption)
{
    fputs("<table><caption>", out);
    tk_html_escape(out, caption);
    fputs("</caption><tr><th>#</th><th>word</th><th>count</th><th>mean</th><th>total</th></tr>", out);
    for (int64_t j = 0; j < n && j < top; j++) {
        fprintf(out, "<tr><td class=\"n\">%" PRId64 "</td><td>", j + 1);
        word_text(out, r, w[j].id);
        fprintf(out, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%.4g</td><td class=\"n\">%.4g</td></tr>",
                w[j].count, w[j].mean, w[j].total);
    }
    fputs("</table>", out);
}

static tk_status words(FILE *out, const tk_results *r, const tk_report_options *o, tk_error *err)
{
    if (r->n_methods == 0)
        return TK_OK;
    fprintf(out, "<h2 id=\"words\">Words across the dataset</h2><p class=\"note\">Per method and "
                 "predicted class: words ranked by mean score and by total score over their "
                 "occurrences (at least %" PRId64 "). Scores are for the explained class.</p>",
            o->min_count);
    char cb[32], cap[160];
    for (int m = 0; m < r->n_methods; m++) {
        for (int c = 0; c < tk_results_n_classes(r); c++) {
            tk_word_stat *w;
            int64_t n;
            tk_status st = tk_report_word_table(r, m, c, o->min_count, &w, &n, err);
            if (st != TK_OK)
                return st;
            fputs("<h3>", out);
            tk_html_escape(out, r->methods[m].name);
            fprintf(out, ", predicted %s <span class=\"note\">(%" PRId64 " words)</span></h3><div class=\"words\">",
                    tk_report_class_name(r, c, cb, sizeof cb), n);
            tk_report_sort_words(w, n, false);
            snprintf(cap, sizeof cap, "by mean score");
            word_rows(out, r, w, n, o->top_words, cap);
            tk_report_sort_words(w, n, true);
            snprintf(cap, sizeof cap, "by total score");
            word_rows(out, r, w, n, o->top_words, cap);
            fputs("</div>", out);
            free(w);
        }
    }
    return TK_OK;
}

static tk_status agreement(FILE *out, const tk_results *r, tk_error *err)
{
    if (r->n_methods < 2)
        return TK_OK;
    int64_t n_pairs = (int64_t)r->n_methods * (r->n_methods - 1) / 2;
    size_t n = (size_t)(r->n ? r->n : 1);
    double *rho = tk_malloc((size_t)n_pairs * n, sizeof *rho, err); /* (pairs, N) */
    double *tmp = tk_malloc(n, sizeof *tmp, err);                    /* (N) for the median */
    tk_status st = rho && tmp ? tk_report_agreement_all(r, rho, err) : TK_E_NOMEM;
    if (st != TK_OK) {
        free(rho);
        free(tmp);
        return st;
    }
    fputs("<h2 id=\"agreement\">Method agreement</h2><p class=\"note\">Spearman rank correlation "
          "of the token scores of two methods, per review.</p><table><tr><th>methods</th>"
          "<th>reviews</th><th>median \xCF\x81</th><th>mean \xCF\x81</th></tr>",
          out);
    char title[240];
    int64_t p = 0;
    for (int a = 0; a < r->n_methods; a++)
        for (int b = a + 1; b < r->n_methods; b++, p++) {
            const double *row = rho + p * r->n; /* (N) */
            int64_t k = 0;
            double sum = 0;
            for (int64_t i = 0; i < r->n; i++)
                if (!isnan(row[i])) {
                    sum += row[i];
                    tmp[k++] = row[i];
                }
            snprintf(title, sizeof title, "%.100s vs %.100s", r->methods[a].name, r->methods[b].name);
            fputs("<tr><td>", out);
            tk_html_escape(out, title);
            fprintf(out, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td></tr>",
                    k, tk_report_quantile(tmp, k, 0.5), k ? sum / (double)k : NAN);
        }
    fputs("</table><div class=\"grid\">", out);
    p = 0;
    for (int a = 0; a < r->n_methods; a++)
        for (int b = a + 1; b < r->n_methods; b++, p++) {
            snprintf(title, sizeof title, "%.100s vs %.100s", r->methods[a].name, r->methods[b].name);
            tk_svg_histogram(out, rho + p * r->n, r->n, -1, 1, 20, title, "Spearman \xCF\x81");
        }
    fputs("</div>", out);
    free(rho);
    free(tmp);
    return TK_OK;
}

static const char *const PALETTE[] = {"#1b6ca8", "#d95f02", "#7570b3", "#1b9e77", "#e7298a",
                                      "#66a61e", "#a6761d", "#666666"};

static tk_status faithfulness(FILE *out, const tk_results *r, tk_error *err)
{
    bool any = false;
    for (int m = 0; m < r->n_methods; m++)
        any = any || r->methods[m].faith != NULL;
    if (!any)
        return TK_OK;
    fputs("<h2 id=\"faithfulness\">Faithfulness</h2><p class=\"note\">Deletion curves: the explained "
          "scalar after removing the k top-scored tokens, averaged over reviews, against a seeded "
          "random order. AOPC = mean over k of F(x) \xE2\x88\x92 F(x without top k) (higher: the scores "
          "find what the model uses); ERASER comprehensiveness and sufficiency averaged over "
          "q \xE2\x88\x88 {1, 5, 10, 20, 50}%.</p><table><tr><th>method</th><th>reviews</th><th>AOPC</th>"
          "<th>AOPC random</th><th>comprehensiveness</th><th>sufficiency</th></tr>",
          out);
    char *charts = NULL;
    size_t charts_len = 0;
    FILE *cf = open_memstream(&charts, &charts_len);
    if (cf == NULL)
        return tk_error_set(err, TK_E_NOMEM, "out of memory for the faithfulness charts");
    tk_status st = TK_OK;
    /* First chart: every method with the same K on one set of axes, so the
     * curves compare directly (the random order of the first one dashed). */
    tk_svg_series all[9];
    tk_faith_summary sums[8];
    int n_all = 0, k1 = 0;
    for (int m = 0; m < r->n_methods && n_all < 8 && st == TK_OK; m++) {
        if (r->methods[m].faith == NULL || (k1 && r->methods[m].faith->k1 != k1))
            continue;
        st = tk_report_faith_summary(r, m, &sums[n_all], err);
        if (st != TK_OK)
            break;
        k1 = sums[n_all].k1;
        all[n_all] = (tk_svg_series){r->methods[m].name, sums[n_all].curve, PALETTE[m % 8], 0};
        n_all++;
    }
    if (st == TK_OK && n_all > 1) {
        int n_series = n_all;
        if (sums[0].random_curve != NULL)
            all[n_series++] = (tk_svg_series){"random order", sums[0].random_curve, "#999999", 1};
        tk_svg_lines(cf, all, n_series, k1, "all methods: deletion curves", "tokens removed (k)", "mean F");
    }
    for (int j = 0; j < n_all; j++)
        tk_report_faith_summary_free(&sums[j]);
    for (int m = 0; m < r->n_methods && st == TK_OK; m++) {
        if (r->methods[m].faith == NULL)
            continue;
        tk_faith_summary s;
        st = tk_report_faith_summary(r, m, &s, err);
        if (st != TK_OK)
            break;
        fputs("<tr><td>", out);
        tk_html_escape(out, r->methods[m].name);
        fprintf(out, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%.4f</td><td class=\"n\">%.4f</td>"
                     "<td class=\"n\">%.4f</td><td class=\"n\">%.4f</td></tr>",
                s.n, s.aopc, s.random_aopc, s.comprehensiveness, s.sufficiency);
        tk_svg_series ser[2] = {{r->methods[m].name, s.curve, PALETTE[m % 8], 0},
                                {"random order", s.random_curve, "#999999", 1}};
        char title[160];
        snprintf(title, sizeof title, "%.100s: deletion curve", r->methods[m].name);
        tk_svg_lines(cf, ser, s.random_curve ? 2 : 1, s.k1, title, "tokens removed (k)", "mean F");
        tk_report_faith_summary_free(&s);
    }
    fclose(cf);
    fputs("</table><div class=\"grid\">", out);
    if (charts != NULL)
        fwrite(charts, 1, charts_len, out);
    fputs("</div>", out);
    free(charts);
    return st;
}

tk_status tk_report_write_html(const tk_results *r, const char *dir, const tk_report_options *o,
                               tk_error *err)
{
    /* --review ids are resolved before anything is written. */
    int64_t *wanted = tk_malloc(o->n_review_ids > 0 ? (size_t)o->n_review_ids : 1, sizeof *wanted, err);
    if (wanted == NULL)
        return TK_E_NOMEM;
    for (int k = 0; k < o->n_review_ids; k++) {
        wanted[k] = -1;
        for (int64_t i = 0; i < r->n && wanted[k] < 0; i++)
            if (r->review_id[i] == o->review_ids[k])
                wanted[k] = i;
        if (wanted[k] < 0) {
            free(wanted);
            return tk_error_set(err, TK_E_INVALID, "%s: review id %" PRId64 " is not in /reviews/id",
                                r->path, o->review_ids[k]);
        }
    }
    tk_out_file f;
    tk_status st = tk_out_open(&f, dir, "index.html", err);
    if (st != TK_OK) {
        free(wanted);
        return st;
    }
    FILE *out = f.f;
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width\"><title>tokattr report</title>"
                 "<style>%s</style></head><body><h1>tokattr report</h1><p class=\"note\">"
                 "<a href=\"#overview\">overview</a> \xC2\xB7 <a href=\"#axioms\">axiom errors</a> \xC2\xB7 "
                 "<a href=\"#reviews\">reviews</a> \xC2\xB7 <a href=\"#words\">words</a> \xC2\xB7 "
                 "<a href=\"#agreement\">agreement</a> \xC2\xB7 <a href=\"#faithfulness\">faithfulness</a></p>\n",
            CSS);
    overview(out, r);
    if (st == TK_OK)
        st = axiom_errors(out, r, err);
    if (st == TK_OK)
        st = reviews(out, r, o, wanted, err);
    if (st == TK_OK)
        st = words(out, r, o, err);
    if (st == TK_OK)
        st = agreement(out, r, err);
    if (st == TK_OK)
        st = faithfulness(out, r, err);
    fprintf(out, "\n<p class=\"note\">written by tokattr %s</p></body></html>\n", TOKATTR_VERSION);
    free(wanted);
    if (st != TK_OK) {
        tk_out_abort(&f);
        return st;
    }
    return tk_out_commit(&f, err);
}
