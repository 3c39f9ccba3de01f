/* The index page: inline CSS, SVG and one inline script (assets.h) that
 * sorts its tables and searches the JSON index embedded in the page; it
 * makes no request. Text from the file is HTML-escaped in the markup and
 * JSON-escaped for a <script> element in the index (escape.h). The review
 * pages are pages.c. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/selection.h"
#include "report/aggregate.h"
#include "report/assets.h"
#include "report/escape.h"
#include "report/export.h"
#include "report/output.h"
#include "report/pages.h"
#include "report/svg.h"


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
          "<table class=\"sort\" id=\"t-axioms\"><thead><tr><th>method</th><th>reviews</th>"
          "<th>median |e|</th><th>95% |e|</th><th>max |e|</th></tr></thead><tbody>",
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
    fputs("</tbody></table><div class=\"grid\">", out);
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
    /* All methods on one chart: the share of reviews whose |error| is at
     * most 10^x, x from -12 to 2 (a curve further left is more exact). */
    enum { NX = 57 };
    int n_series = 0;
    tk_svg_series ser[8];
    double *cdf = tk_calloc(8 * NX, sizeof *cdf, err); /* (8, NX) */
    if (cdf == NULL) {
        free(v);
        free(lg);
        return TK_E_NOMEM;
    }
    for (int m = 0; m < r->n_methods && n_series < 8; m++) {
        const float *e = r->methods[m].axiom_error;
        if (e == NULL)
            continue;
        int64_t k = 0;
        for (int64_t i = 0; i < r->n; i++)
            if (r->done[i] && isfinite(e[i]))
                lg[k++] = log10(fmax(fabs(e[i]), 1e-12));
        double *y = cdf + n_series * NX;
        for (int64_t i = 0; i < k; i++) {
            int first = (int)ceil((lg[i] + 12) * 4 - 1e-9); /* first grid point x_j >= lg */
            for (int j = first < 0 ? 0 : first; j < NX; j++)
                y[j] += 1;
        }
        for (int j = 0; j < NX; j++)
            y[j] = k ? y[j] / (double)k : NAN;
        ser[n_series] = (tk_svg_series){r->methods[m].name, y, TK_SVG_PALETTE[m % 8], 0};
        n_series++;
    }
    tk_svg_lines_x(out, ser, n_series, NX, -12, 2, "all methods: share of reviews with |error| \xE2\x89\xA4 10^x",
                   "x = log10 |error|", "share of reviews");
    free(cdf);
    fputs("</div>", out);
    free(v);
    free(lg);
    return TK_OK;
}

static void review_view(FILE *out, const tk_report_ctx *c, int64_t i)
{
    const tk_results *r = c->r;
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
    if (c->has_page[i]) {
        tk_report_page_href(i, buf, sizeof buf);
        fprintf(out, " <a href=\"%s\">page \xE2\x86\x92</a>", buf);
    }
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
        /* the unit, as methods of different outputs sit side by side */
        fprintf(out, " <span class=\"note\">max |s| = %.3g (%s)", scale, tk_results_method_output(&r->methods[m]));
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

/* The reviews the index shows as heatmaps (and links): --review ids, the
 * most confident right and wrong predictions, a seeded random sample. */
typedef struct selection {
    int64_t *idx[4];  /* requested, confident right, confident wrong, random */
    int64_t n[4];
} selection;

static void selection_free(selection *s)
{
    for (int k = 0; k < 4; k++)
        free(s->idx[k]);
}

static tk_status select_reviews(const tk_results *r, const tk_report_options *o, selection *s,
                                tk_error *err)
{
    memset(s, 0, sizeof *s);
    /* --review is resolved before anything is written, the way explain
     * --reviews and a job's select are (data/selection.h): rows of the
     * file, or ids with their label or split; an ambiguous id is an error */
    int64_t *chosen = NULL, n_chosen = 0;
    if (o->review_spec != NULL) {
        char **own = NULL;
        if (r->doc_id.n != r->n && (own = tk_selection_ids_from_i64(r->n, r->review_id, err)) == NULL)
            return TK_E_NOMEM;
        const tk_selection_table t = {
            .n = r->n,
            .id = (const char *const *)(own ? own : r->doc_id.s),
            .label = r->label,
            .class_names = (const char *const *)r->class_name.s,
            .n_classes = (int)r->class_name.n,
            .split = tk_results_attr_find(r->root_attrs, r->n_root_attrs, "split")};
        tk_status st = tk_selection_select(o->review_spec, "--review", &t, &chosen, &n_chosen, err);
        free(own);
        if (st != TK_OK) {
            tk_error_prefix(err, "%s", r->path);
            return st;
        }
    }
    int64_t cap[4] = {n_chosen, o->n_confident, o->n_confident, o->n_random};
    for (int k = 0; k < 4; k++) {
        s->idx[k] = tk_malloc(cap[k] > 0 ? (size_t)cap[k] : 1, sizeof *s->idx[k], err);
        if (s->idx[k] == NULL) {
            free(chosen);
            selection_free(s);
            return TK_E_NOMEM;
        }
    }
    for (int64_t k = 0; k < n_chosen; k++)
        s->idx[0][s->n[0]++] = chosen[k];
    free(chosen);
    for (int w = 0; w < 2; w++) {
        s->n[1 + w] = tk_report_confident(r, w == 0, o->n_confident, s->idx[1 + w], err);
        if (s->n[1 + w] < 0) {
            selection_free(s);
            return TK_E_NOMEM;
        }
    }
    s->n[3] = tk_report_random_sample(r, o->seed, o->n_random, s->idx[3]);
    return TK_OK;
}

static void reviews(FILE *out, const tk_report_ctx *c, const selection *sel)
{
    fputs("<h2 id=\"reviews\">Reviews</h2><p class=\"note\">Each word is coloured by its score, "
          "scaled per review and method by the largest |score| (hover for the value). The search "
          "above finds every review; each links to its own page when it has one.</p>",
          out);
    legend(out);
    static const char *const titles[4] = {"Requested reviews", "Most confident right predictions",
                                          "Most confident wrong predictions", "Random sample"};
    for (int k = 0; k < 4; k++) {
        if (k == 0 && sel->n[0] == 0)
            continue;
        if (k == 3)
            fprintf(out, "<h3>%s (seed %" PRIu64 ")</h3>", titles[k], c->o->seed);
        else
            fprintf(out, "<h3>%s</h3>", titles[k]);
        if (sel->n[k] == 0)
            fputs("<p class=\"note\">none</p>", out);
        for (int64_t j = 0; j < sel->n[k]; j++)
            review_view(out, c, sel->idx[k][j]);
    }
}

/* A word in a URL fragment: every byte but the unreserved ones as %XX,
 * so the result is also safe in an HTML attribute. */
static void url_encode(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
}

/* The oriented word tables (export.h: one definition with `tokattr export
 * --words`), per method and class: the top words and, for each, the reviews
 * where it weighs most. */
enum { LINKS_PER_WORD = 5 };

typedef struct word_tab {
    tk_oriented_word *w; /* (n) all words with >= min_count occurrences, by mean */
    int64_t n;
    int64_t shown;       /* min(n, top) */
    int64_t *rev;        /* (shown, LINKS_PER_WORD) review rows, -1 past the last */
} word_tab;

static void word_tabs_free(word_tab *t, int n)
{
    for (int k = 0; t != NULL && k < n; k++) {
        free(t[k].w);
        free(t[k].rev);
    }
    free(t);
}

static tk_status word_tabs(const tk_results *r, const tk_word_index *x, const tk_report_options *o,
                           word_tab **out, tk_error *err)
{
    int C = tk_results_n_classes(r), n = r->n_methods * C;
    word_tab *t = tk_calloc((size_t)(n ? n : 1), sizeof *t, err); /* (M, C) */
    if (t == NULL)
        return TK_E_NOMEM;
    tk_status st = TK_OK;
    for (int m = 0; m < r->n_methods && st == TK_OK; m++)
        for (int c = 0; c < C && st == TK_OK; c++) {
            word_tab *w = &t[m * C + c];
            st = tk_word_index_rank(x, m, c, o->min_count, &w->w, &w->n, err);
            if (st != TK_OK)
                break;
            w->shown = w->n < o->top_words ? w->n : o->top_words;
            w->rev = tk_malloc((size_t)(w->shown ? w->shown : 1) * LINKS_PER_WORD, sizeof *w->rev, err);
            st = w->rev ? tk_word_index_top_reviews(x, m, c, w->w, w->shown, LINKS_PER_WORD, w->rev, err)
                        : TK_E_NOMEM;
        }
    if (st != TK_OK) {
        word_tabs_free(t, n);
        return st;
    }
    *out = t;
    return TK_OK;
}

static void words(FILE *out, const tk_report_ctx *c, const word_tab *tabs)
{
    const tk_results *r = c->r;
    if (r->n_methods == 0)
        return;
    int C = tk_results_n_classes(r);
    fprintf(out, "<h2 id=\"words\">Words toward each class</h2><p class=\"note\">A method's scores "
                 "explain its target class. Here every token's score is turned toward class c: as it "
                 "is where the method explained c, sign-flipped where it explained the other class "
                 "of a binary model (a multi-class score of another class is left out), then "
                 "averaged over the word's occurrences in the done reviews. Words seen fewer than "
                 "<b>%" PRId64 "</b> times are left out (<code>--min-count</code>); the 95%% interval "
                 "is mean \xC2\xB1 1.96 s/\xE2\x88\x9A" "count. The whole ranking: <code>tokattr export "
                 "RESULTS --words --min-count %" PRId64 "</code>. A word links to the search, the "
                 "review numbers to the %d reviews where it weighs most toward the class.</p>",
            c->o->min_count, c->o->min_count, LINKS_PER_WORD);
    char cb[32], href[64];
    for (int m = 0; m < r->n_methods; m++) {
        for (int k = 0; k < C; k++) {
            const word_tab *t = &tabs[m * C + k];
            fputs("<h3>", out);
            tk_html_escape(out, r->methods[m].name);
            fputs(": most positive words toward ", out);
            tk_html_escape(out, tk_report_class_name(r, k, cb, sizeof cb));
            fprintf(out, " <span class=\"note\">(%" PRId64 " words with at least %" PRId64
                         " occurrences)</span></h3>",
                    t->n, c->o->min_count);
            fprintf(out, "<table class=\"sort\" id=\"t-words-%d-%d\"><thead><tr><th>#</th><th>word</th>"
                         "<th>count</th><th>mean</th><th>95%% low</th><th>95%% high</th>"
                         "<th>reviews where it weighs most</th></tr></thead><tbody>",
                    m, k);
            for (int64_t j = 0; j < t->shown; j++) {
                const tk_oriented_word *w = &t->w[j];
                fputs("<tr data-w=\"", out);
                tk_html_escape(out, w->word);
                fputs("\" data-t=\"", out);
                tk_html_escape(out, r->methods[m].name);
                fputs(" \xE2\x86\x92 ", out);
                tk_html_escape(out, tk_report_class_name(r, k, cb, sizeof cb));
                fprintf(out, "\"><td class=\"n\">%" PRId64 "</td><td><a href=\"#q=", j + 1);
                url_encode(out, w->word);
                fputs("\">", out);
                tk_html_escape(out, w->word);
                fprintf(out, "</a></td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%.4g</td>"
                             "<td class=\"n\">%.4g</td><td class=\"n\">%.4g</td><td>",
                        w->count, w->mean, w->ci_low, w->ci_high);
                for (int q = 0; q < LINKS_PER_WORD; q++) {
                    int64_t i = t->rev[j * LINKS_PER_WORD + q];
                    if (i < 0)
                        break;
                    tk_report_page_href(i, href, sizeof href);
                    if (c->has_page[i])
                        fprintf(out, "%s<a href=\"%s\">%" PRId64 "</a>", q ? " " : "", href, r->review_id[i]);
                    else
                        fprintf(out, "%s%" PRId64, q ? " " : "", r->review_id[i]);
                }
                fputs("</td></tr>", out);
            }
            fputs("</tbody></table>", out);
        }
    }
}

static tk_status agreement(FILE *out, const tk_report_ctx *c, tk_error *err)
{
    const tk_results *r = c->r;
    if (r->n_methods < 2 || c->rho == NULL)
        return TK_OK;
    size_t n = (size_t)(r->n ? r->n : 1);
    const double *rho = c->rho;                   /* (pairs, N) */
    double *tmp = tk_malloc(n, sizeof *tmp, err); /* (N) for the median */
    if (tmp == NULL)
        return TK_E_NOMEM;
    fputs("<h2 id=\"agreement\">Method agreement</h2><p class=\"note\">Spearman rank correlation "
          "of the token scores of two methods, per review (each review's page shows its own; "
          "<code>rho&lt;0.2</code> in the search finds the reviews where two methods disagree)."
          "</p><table class=\"sort\" id=\"t-agree\"><thead><tr><th>methods</th>"
          "<th>reviews</th><th>median \xCF\x81</th><th>mean \xCF\x81</th></tr></thead><tbody>",
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
    fputs("</tbody></table><div class=\"grid\">", out);
    p = 0;
    for (int a = 0; a < r->n_methods; a++)
        for (int b = a + 1; b < r->n_methods; b++, p++) {
            snprintf(title, sizeof title, "%.100s vs %.100s", r->methods[a].name, r->methods[b].name);
            tk_svg_histogram(out, rho + p * r->n, r->n, -1, 1, 20, title, "Spearman \xCF\x81");
        }
    fputs("</div>", out);
    free(tmp);
    return TK_OK;
}

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
          "q \xE2\x88\x88 {1, 5, 10, 20, 50}%. Each review's page has its own curves.</p>"
          "<table class=\"sort\" id=\"t-faith\"><thead><tr><th>method</th><th>reviews</th><th>AOPC</th>"
          "<th>AOPC random</th><th>comprehensiveness</th><th>sufficiency</th></tr></thead><tbody>",
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
        all[n_all] = (tk_svg_series){r->methods[m].name, sums[n_all].curve, TK_SVG_PALETTE[m % 8], 0};
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
        tk_svg_series ser[2] = {{r->methods[m].name, s.curve, TK_SVG_PALETTE[m % 8], 0},
                                {"random order", s.random_curve, "#999999", 1}};
        char title[160];
        snprintf(title, sizeof title, "%.100s: deletion curve", r->methods[m].name);
        tk_svg_lines(cf, ser, s.random_curve ? 2 : 1, s.k1, title, "tokens removed (k)", "mean F");
        tk_report_faith_summary_free(&s);
    }
    fclose(cf);
    fputs("</tbody></table><div class=\"grid\">", out);
    if (charts != NULL)
        fwrite(charts, 1, charts_len, out);
    fputs("</div>", out);
    free(charts);
    return st;
}

static void search_box(FILE *out)
{
    fputs("<h2 id=\"search\">Find reviews</h2><p><input id=\"q\" type=\"search\" aria-label=\"search\" "
          "placeholder=\"a word, id:1007, label:pos, pred:neg, wrong, err&gt;1e-3, rho&lt;0.2\"> "
          "<span id=\"qinfo\" class=\"note\"></span></p><p class=\"note\">Terms are joined by AND. "
          "A word finds every review that contains it (any letter case); <code>id:X</code> the "
          "review id or the corpus id; <code>label:C</code>, <code>pred:C</code> a class by name "
          "or number; <code>right</code>, <code>wrong</code>; <code>err&gt;X</code>, "
          "<code>err&lt;X</code> the largest |axiom error| over the methods; <code>rho&lt;X</code>, "
          "<code>rho&gt;X</code> the smallest Spearman \xCF\x81 between two methods. The first 200 "
          "matches are listed; click a header to sort them. Runs in the page, offline: the page "
          "holds the whole index.</p><table class=\"sort\" id=\"results\"><thead><tr><th>row</th>"
          "<th>review id</th><th>label</th><th>predicted</th><th>p</th><th>max |axiom error|</th>"
          "<th>min \xCF\x81</th></tr></thead><tbody></tbody></table>",
          out);
}

/* The search index as one JSON element: per review [row, review id, corpus
 * id ("" when the same), label, predicted, p, max |axiom error|, min rho,
 * has a page], and per distinct word the rows of the reviews containing it
 * as ascending deltas ("3,1,12": rows 3, 4, 16). */
static tk_status search_index(FILE *out, const tk_report_ctx *c, const tk_word_index *x, tk_error *err)
{
    const tk_results *r = c->r;
    int C = tk_results_n_classes(r);
    char cb[32], ib[32];
    fputs("<script type=\"application/json\" id=\"tk-index\">{\"cls\":[", out);
    for (int k = 0; k < C; k++) {
        if (k)
            fputc(',', out);
        tk_json_script_string(out, tk_report_class_name(r, k, cb, sizeof cb));
    }
    fputs("],\"page\":\"reviews/r%d.html\",\"rows\":[", out);
    int64_t n_pairs = (int64_t)r->n_methods * (r->n_methods - 1) / 2;
    for (int64_t i = 0; i < r->n; i++) {
        double err_max = NAN, rho_min = NAN;
        for (int m = 0; m < r->n_methods && r->done[i]; m++) {
            const float *e = r->methods[m].axiom_error;
            if (e != NULL && isfinite(e[i]) && !(fabs(e[i]) <= err_max))
                err_max = fabs(e[i]);
        }
        for (int64_t p = 0; c->rho != NULL && p < n_pairs; p++) {
            double v = c->rho[p * r->n + i];
            if (isfinite(v) && !(v >= rho_min))
                rho_min = v;
        }
        fprintf(out, "%s[%" PRId64 ",%" PRId64 ",", i ? ",\n" : "", i, r->review_id[i]);
        snprintf(ib, sizeof ib, "%" PRId64, r->review_id[i]);
        bool own = r->doc_id.s != NULL && r->doc_id.s[i] != NULL && strcmp(r->doc_id.s[i], ib) != 0;
        tk_json_script_string(out, own ? r->doc_id.s[i] : "");
        fprintf(out, ",%" PRId32 ",%d,", r->label[i], tk_results_predicted(r, i));
        tk_report_json_number(out, tk_results_confidence(r, i), 5);
        fputc(',', out);
        tk_report_json_number(out, err_max, 3);
        fputc(',', out);
        tk_report_json_number(out, rho_min, 3);
        fprintf(out, ",%d]", c->has_page[i] ? 1 : 0);
    }
    fputs("],\n\"words\":{", out);
    /* Inverted index: rows per word slot, each review once (CSR). */
    int64_t nw = tk_word_index_n_words(x);
    int64_t *start = tk_calloc((size_t)nw + 1, sizeof *start, err); /* (nw + 1) */
    int64_t *last = tk_malloc((size_t)(nw ? nw : 1), sizeof *last, err); /* (nw) last row seen */
    int64_t *rows = NULL;
    if (start == NULL || last == NULL)
        goto nomem;
    for (int64_t w = 0; w < nw; w++)
        last[w] = -1;
    int64_t total = 0;
    for (int64_t i = 0; i < r->n; i++)
        for (int64_t t = r->token_offset[i]; t < r->token_offset[i + 1]; t++) {
            int64_t w = tk_word_index_slot(x, t);
            if (w >= 0 && last[w] != i) {
                last[w] = i;
                start[w + 1]++;
                total++;
            }
        }
    for (int64_t w = 0; w < nw; w++)
        start[w + 1] += start[w];
    rows = tk_malloc((size_t)(total ? total : 1), sizeof *rows, err); /* (total) */
    if (rows == NULL)
        goto nomem;
    for (int64_t w = 0; w < nw; w++)
        last[w] = -1;
    int64_t *fill = last; /* reuse: next free place per word, found from start[] */
    for (int64_t w = 0; w < nw; w++)
        fill[w] = start[w];
    for (int64_t i = 0; i < r->n; i++)
        for (int64_t t = r->token_offset[i]; t < r->token_offset[i + 1]; t++) {
            int64_t w = tk_word_index_slot(x, t);
            if (w >= 0 && (fill[w] == start[w] || rows[fill[w] - 1] != i))
                rows[fill[w]++] = i;
        }
    bool first = true;
    for (int64_t w = 0; w < nw; w++) {
        if (start[w + 1] == start[w])
            continue;
        fputs(first ? "" : ",\n", out);
        first = false;
        tk_json_script_string(out, tk_word_index_word(x, w));
        fputs(":\"", out);
        int64_t prev = 0;
        for (int64_t q = start[w]; q < start[w + 1]; q++) {
            fprintf(out, q > start[w] ? ",%" PRId64 : "%" PRId64, rows[q] - prev);
            prev = rows[q];
        }
        fputc('"', out);
    }
    fputs("}}</script>\n", out);
    free(start);
    free(last);
    free(rows);
    return TK_OK;
nomem:
    free(start);
    free(last);
    free(rows);
    return TK_E_NOMEM;
}

tk_status tk_report_write_html(const tk_results *r, const char *dir, const tk_report_options *o,
                               tk_error *err)
{
    selection sel;
    tk_status st = select_reviews(r, o, &sel, err);
    if (st != TK_OK)
        return st;
    tk_report_ctx c = {.r = r, .o = o};
    tk_word_index *x = NULL;
    word_tab *tabs = NULL;
    tk_out_file f = {0};
    int n_tabs = r->n_methods * tk_results_n_classes(r);
    size_t n = (size_t)(r->n ? r->n : 1);
    c.has_page = tk_calloc(n, sizeof *c.has_page, err);
    c.pages = tk_malloc(n, sizeof *c.pages, err);
    if (c.has_page == NULL || c.pages == NULL) {
        st = TK_E_NOMEM;
        goto done;
    }
    if (r->n_methods >= 2) {
        int64_t n_pairs = (int64_t)r->n_methods * (r->n_methods - 1) / 2;
        c.rho = tk_malloc((size_t)n_pairs * n, sizeof *c.rho, err); /* (pairs, N) */
        st = c.rho ? tk_report_agreement_all(r, c.rho, err) : TK_E_NOMEM;
        if (st != TK_OK)
            goto done;
    }
    if ((st = tk_word_index_create(r, &x, err)) != TK_OK || (st = word_tabs(r, x, o, &tabs, err)) != TK_OK)
        goto done;
    /* Which reviews get a page: every one, or those the index links to. */
    if (o->pages == TK_REPORT_PAGES_ALL)
        for (int64_t i = 0; i < r->n; i++)
            c.has_page[i] = 1;
    if (o->pages != TK_REPORT_PAGES_NONE) {
        for (int k = 0; k < 4; k++)
            for (int64_t j = 0; j < sel.n[k]; j++)
                c.has_page[sel.idx[k][j]] = 1;
        for (int t = 0; t < n_tabs; t++)
            for (int64_t j = 0; j < tabs[t].shown * LINKS_PER_WORD; j++)
                if (tabs[t].rev[j] >= 0)
                    c.has_page[tabs[t].rev[j]] = 1;
    }
    for (int64_t i = 0; i < r->n; i++)
        if (c.has_page[i])
            c.pages[c.n_pages++] = i;
    /* The pages first, so that the index never links to a missing one. */
    if ((st = tk_report_write_pages(&c, dir, err)) != TK_OK)
        goto done;
    if ((st = tk_out_open(&f, dir, "index.html", err)) != TK_OK)
        goto done;
    FILE *out = f.f;
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width\"><title>tokattr report</title>"
                 "<style>%s</style></head><body><h1>tokattr report</h1><p class=\"note\">"
                 "<a href=\"#search\">find reviews</a> \xC2\xB7 "
                 "<a href=\"#overview\">overview</a> \xC2\xB7 <a href=\"#axioms\">axiom errors</a> \xC2\xB7 "
                 "<a href=\"#reviews\">reviews</a> \xC2\xB7 <a href=\"#words\">words</a> \xC2\xB7 "
                 "<a href=\"#agreement\">agreement</a> \xC2\xB7 <a href=\"#faithfulness\">faithfulness</a></p>\n",
            TK_REPORT_CSS);
    search_box(out);
    overview(out, r);
    if (st == TK_OK)
        st = axiom_errors(out, r, err);
    if (st == TK_OK)
        reviews(out, &c, &sel);
    if (st == TK_OK)
        words(out, &c, tabs);
    if (st == TK_OK)
        st = agreement(out, &c, err);
    if (st == TK_OK)
        st = faithfulness(out, r, err);
    fprintf(out, "\n<p class=\"note\">written by tokattr %s</p>\n", TOKATTR_VERSION);
    if (st == TK_OK)
        st = search_index(out, &c, x, err);
    fprintf(out, "<script>%s</script></body></html>\n", TK_REPORT_INDEX_JS);
    if (st != TK_OK)
        tk_out_abort(&f);
    else
        st = tk_out_commit(&f, err);
done:
    selection_free(&sel);
    word_tabs_free(tabs, n_tabs);
    tk_word_index_destroy(x);
    free(c.rho);
    free(c.has_page);
    free(c.pages);
    return st;
}
