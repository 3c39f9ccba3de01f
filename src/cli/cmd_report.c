/* tokattr report RESULTS --out DIR: the HTML report or the tables. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/outpath.h"
#include "core/gemm.h"
#include "core/progress.h"
#include "core/sha256.h"
#include "model/model.h"
#include "report/faith_compute.h"
#include "report/report.h"

static void usage(FILE *out)
{
    tk_report_options d;
    tk_report_options_default(&d);
    fprintf(out,
            "usage: tokattr report RESULTS --out DIR [options]\n\n"
            "Writes DIR/index.html, a static report viewable offline (no network): a search box over\n"
            "the reviews (word, id:, label:, pred:, right/wrong, err>, rho<), overview, heatmaps,\n"
            "words toward each class, method agreement and faithfulness (when in the file), and\n"
            "one page per review, DIR/reviews/r<ROW>.html, with every method side by side.\n\n"
            "options:\n"
            "  --out DIR          output directory (created if missing)\n"
            "  --format F         html (default), json or csv: json/csv write the dataset-wide\n"
            "                     tables DIR/{words,agreement,faithfulness}.{json,csv} for pandas\n"
            "  --review SPEC      also show these reviews: rows of the file (7, 0-9) or ids\n"
            "                     (id:ID, id:ID@label:L); as explain --reviews; repeatable\n"
            "  --pages P          which reviews get a page: all (default), linked (those the index\n"
            "                     links to: --review, confident, random, word tables) or none\n"
            "  --min-count N      a word needs N occurrences to enter a table (default %" PRId64 ")\n"
            "  --top N            rows per word table in the page (default %d)\n"
            "  --confident N      most confident right and wrong reviews shown (default %d)\n"
            "  --random N         size of the random sample of reviews (default %d)\n"
            "  --seed N           seed of the random sample (default %" PRIu64 ")\n"
            "  --faithfulness MODEL  when the file has no /faithfulness: compute deletion curves,\n"
            "                     AOPC, comprehensiveness and sufficiency with this Keras .h5 model\n"
            "                     (the one the run explained: its SHA-256 must be the file's\n"
            "                     model_sha256) on a seeded sample of reviews\n"
            "  --faith-reviews N  size of that sample (default 200)\n"
            "  --faith-k K        deletion curve points 0..K (default 10)\n"
            "  --faith-mode M     pad (replace removed tokens by padding, default) or remove\n"
            "  --quiet            no timing line on stderr\n",
            d.min_count, d.top_words, d.n_confident, d.n_random, d.seed);
}

static bool parse_i64(const char *s, int64_t lo, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || x < lo)
        return false;
    *v = x;
    return true;
}

/* Deletion curves mean something only with the model the run explained:
 * the results file records its SHA-256 (model_sha256), so another model,
 * or a file that cannot say, is refused before any work. */
static tk_status check_faith_model(const tk_results *r, const char *model_path, tk_error *err)
{
    const char *want = tk_results_attr_find(r->root_attrs, r->n_root_attrs, "model_sha256");
    if (!want || !want[0])
        return tk_error_set(err, TK_E_INVALID,
                            "%s records no model_sha256: cannot check that %s is the model the "
                            "run explained, so --faithfulness is refused",
                            r->path, model_path);
    char have[65];
    tk_status st = tk_sha256_file_hex(model_path, have, err);
    if (st != TK_OK)
        return st;
    if (strcmp(have, want) != 0) {
        const char *run_model = tk_results_attr_find(r->root_attrs, r->n_root_attrs, "model_path");
        return tk_error_set(err, TK_E_INVALID,
                            "--faithfulness %s is not the model the run explained: its SHA-256 "
                            "%.12s... is not the %.12s... that %s records (model_path %s); give "
                            "that model",
                            model_path, have, want, r->path, run_model ? run_model : "unknown");
    }
    return TK_OK;
}

int tk_cmd_report(int argc, char **argv)
{
    tk_report_options o;
    tk_report_options_default(&o);
    const char *results = NULL, *out = NULL, *faith_model = NULL;
    bool quiet = false;
    tk_faith_params fp;
    tk_faith_params_default(&fp);
    int64_t faith_reviews = 200;
    /* the --review specs joined by ',' (each at most its argument's length) */
    size_t spec_room = 1;
    for (int i = 1; i < argc; i++)
        spec_room += strlen(argv[i]) + 1;
    char *spec = calloc(spec_room, 1);
    if (spec == NULL) {
        fprintf(stderr, "tokattr report: out of memory\n");
        return TK_EXIT_FAILURE;
    }
    int rc = TK_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(spec);
            return TK_EXIT_OK;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--out") == 0 && v) {
            out = v;
            i++;
        } else if (strcmp(a, "--faithfulness") == 0 && v) {
            faith_model = v;
            i++;
        } else if (strcmp(a, "--faith-mode") == 0 && v) {
            if (strcmp(v, "pad") == 0)
                fp.mode = TK_FAITH_PAD;
            else if (strcmp(v, "remove") == 0)
                fp.mode = TK_FAITH_REMOVE;
            else {
                fprintf(stderr, "tokattr report: --faith-mode must be pad or remove, not '%s'\n", v);
                goto fail;
            }
            i++;
        } else if ((strcmp(a, "--faith-reviews") == 0 || strcmp(a, "--faith-k") == 0) && v) {
            if (!parse_i64(v, 1, &x) || x > 1000000) {
                fprintf(stderr, "tokattr report: %s needs a positive integer, not '%s'\n", a, v);
                goto fail;
            }
            if (strcmp(a, "--faith-k") == 0)
                fp.k_max = (int)x;
            else
                faith_reviews = x;
            i++;
        } else if (strcmp(a, "--pages") == 0 && v) {
            if (strcmp(v, "all") == 0)
                o.pages = TK_REPORT_PAGES_ALL;
            else if (strcmp(v, "linked") == 0)
                o.pages = TK_REPORT_PAGES_LINKED;
            else if (strcmp(v, "none") == 0)
                o.pages = TK_REPORT_PAGES_NONE;
            else {
                fprintf(stderr, "tokattr report: --pages must be all, linked or none, not '%s'\n", v);
                goto fail;
            }
            i++;
        } else if (strcmp(a, "--format") == 0 && v) {
            if (strcmp(v, "html") == 0)
                o.format = TK_REPORT_HTML;
            else if (strcmp(v, "json") == 0)
                o.format = TK_REPORT_JSON;
            else if (strcmp(v, "csv") == 0)
                o.format = TK_REPORT_CSV;
            else {
                fprintf(stderr, "tokattr report: --format must be html, json or csv, not '%s'\n", v);
                goto fail;
            }
            i++;
        } else if (strcmp(a, "--review") == 0 && v) {
            /* a selection spec (README "Selecting reviews"), repeatable */
            if (*spec)
                strcat(spec, ",");
            strcat(spec, v);
            i++;
        } else if ((strcmp(a, "--min-count") == 0 || strcmp(a, "--top") == 0 ||
                    strcmp(a, "--confident") == 0 || strcmp(a, "--random") == 0 ||
                    strcmp(a, "--seed") == 0) && v) {
            if (!parse_i64(v, 0, &x) || (strcmp(a, "--seed") != 0 && x > 1000000000)) {
                fprintf(stderr, "tokattr report: %s needs a non-negative integer, not '%s'\n", a, v);
                goto fail;
            }
            if (strcmp(a, "--min-count") == 0)
                o.min_count = x;
            else if (strcmp(a, "--top") == 0)
                o.top_words = (int)x;
            else if (strcmp(a, "--confident") == 0)
                o.n_confident = (int)x;
            else if (strcmp(a, "--random") == 0)
                o.n_random = (int)x;
            else
                o.seed = (uint64_t)x;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tokattr report: unknown option or missing value: %s\n", a);
            goto fail;
        } else if (results == NULL) {
            results = a;
        } else {
            fprintf(stderr, "tokattr report: one results file only (got '%s' and '%s')\n", results, a);
            goto fail;
        }
    }
    if (results == NULL || out == NULL) {
        usage(stderr);
        goto fail;
    }
    /* The files a report writes into --out never replace its inputs. */
    static const char *const report_files[] = {"index.html", "report.css", "review.js",
                                               "words.csv", "agreement.csv",
                                               "faithfulness.csv", "words.json", "agreement.json",
                                               "faithfulness.json"};
    const tk_path_role report_inputs[] = {{results, "results file"}, {faith_model, "model"}};
    for (size_t k = 0; k < sizeof report_files / sizeof report_files[0]; k++) {
        char file[4200];
        snprintf(file, sizeof file, "%s/%s", out, report_files[k]);
        const tk_path_role report_out = {file, "report file"};
        tk_error guard_err = {0};
        if (tk_outpath_check(&report_out, report_inputs, 2, &guard_err) != TK_OK) {
            fprintf(stderr, "tokattr report: %s\n", guard_err.msg);
            rc = TK_EXIT_FAILURE;
            goto fail;
        }
    }
    /* DIR/reviews is the report's own (stale pages there are removed): no
     * input may live in it. */
    for (size_t k = 0; k < sizeof report_inputs / sizeof report_inputs[0]; k++) {
        if (report_inputs[k].path == NULL)
            continue;
        const char *base = strrchr(report_inputs[k].path, '/');
        char page[4200];
        snprintf(page, sizeof page, "%s/reviews/%s", out, base ? base + 1 : report_inputs[k].path);
        const tk_path_role page_out = {page, "report page"};
        tk_error guard_err = {0};
        if (tk_outpath_check(&page_out, report_inputs, 2, &guard_err) != TK_OK) {
            fprintf(stderr, "tokattr report: %s\n", guard_err.msg);
            rc = TK_EXIT_FAILURE;
            goto fail;
        }
    }
    o.review_spec = *spec ? spec : NULL;
    double t0 = tk_now();
    tk_error err = {0};
    tk_results *r = NULL;
    tk_model *model = NULL;
    tk_status st = tk_results_load(results, &r, &err);
    if (st == TK_OK && faith_model != NULL)
        st = check_faith_model(r, faith_model, &err);
    if (st == TK_OK && faith_model != NULL) {
        st = tk_model_load(faith_model, &model, &err);
        if (st == TK_OK) {
            tk_blas_single_thread();
            st = tk_report_compute_faithfulness(r, model, &fp, faith_reviews, o.seed, &err);
        }
    }
    double t1 = tk_now();
    if (st == TK_OK)
        st = tk_report_write(r, out, &o, &err);
    if (st != TK_OK) {
        fprintf(stderr, "tokattr report: %s\n", err.msg);
        rc = TK_EXIT_FAILURE;
    } else {
        if (!quiet)
            fprintf(stderr, "tokattr report: %" PRId64 " reviews, %d methods: read%s %.2f s, report %.2f s -> %s\n",
                    r->n, r->n_methods, model ? " + faithfulness" : "", t1 - t0, tk_now() - t1, out);
        rc = TK_EXIT_OK;
    }
    tk_results_destroy(r);
    tk_model_destroy(model);
fail:
    free(spec);
    return rc;
}
