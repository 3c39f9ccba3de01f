/* `tokattr export RESULTS`: the results as tables pandas reads
 * (report/export.h). Written to --out through FILE.tmp, renamed when
 * complete, so a failure leaves no half-written table. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "report/export.h"
#include "report/results.h"

static void export_usage(FILE *out)
{
    fprintf(out,
            "usage: tokattr export RESULTS [options]\n"
            "  RESULTS  a results file made by `tokattr run`\n"
            "tables (one of; default: the per-token table):\n"
            "  (none)         one row per scored token: review, doc_id, label, position,\n"
            "                 word, token_id, oov, then one score column per method\n"
            "  --per-review   one row per review: review, index, doc_id, label, predicted,\n"
            "                 prob_<class>..., truncated, n_tokens, and per method\n"
            "                 <m>_target, <m>_axiom_error, <m>_f_input, <m>_f_baseline,\n"
            "                 <m>_padding_score\n"
            "  --words        per method and class, the words ranked by their mean score\n"
            "                 toward that class (sign flipped where a binary model's\n"
            "                 method explained the other class): method, class, rank,\n"
            "                 word, count, mean, ci_low, ci_high (95%%)\n"
            "options (defaults in brackets):\n"
            "  --format F     csv or jsonl [csv]\n"
            "  --out FILE     write to FILE instead of standard output\n"
            "  --min-count N  --words: leave out words seen fewer than N times [20]\n"
            "Only reviews marked done in /progress/done are written.\n");
}

int tk_cmd_export(int argc, char **argv)
{
    const char *path = NULL, *format = "csv", *out_path = NULL, *min_count = NULL;
    enum { TOKENS, REVIEWS, WORDS } table = TOKENS;
    int tables = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            export_usage(stdout);
            return TK_EXIT_OK;
        } else if (strcmp(a, "--per-review") == 0) {
            table = REVIEWS;
            tables++;
            continue;
        } else if (strcmp(a, "--words") == 0) {
            table = WORDS;
            tables++;
            continue;
        } else if (strcmp(a, "--format") == 0) {
            slot = &format;
        } else if (strcmp(a, "--out") == 0) {
            slot = &out_path;
        } else if (strcmp(a, "--min-count") == 0) {
            slot = &min_count;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tokattr export: unknown option '%s'\n", a);
            return TK_EXIT_USAGE;
        } else if (!path) {
            path = a;
            continue;
        } else {
            fprintf(stderr, "tokattr export: unexpected argument '%s'\n", a);
            return TK_EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tokattr export: %s needs a value\n", a);
            return TK_EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    if (!path) {
        fprintf(stderr, "tokattr export: RESULTS is required\n");
        export_usage(stderr);
        return TK_EXIT_USAGE;
    }
    if (tables > 1) {
        fprintf(stderr, "tokattr export: give at most one of --per-review and --words\n");
        return TK_EXIT_USAGE;
    }
    tk_error err = {0};
    tk_export_format f;
    if (tk_export_format_parse(format, &f, &err) != TK_OK) {
        fprintf(stderr, "tokattr export: %s\n", err.msg);
        return TK_EXIT_USAGE;
    }
    long long mc = 20;
    if (min_count) {
        char *end;
        errno = 0;
        mc = strtoll(min_count, &end, 10);
        if (errno || end == min_count || *end || mc < 1) {
            fprintf(stderr, "tokattr export: --min-count '%s' is not a number >= 1\n", min_count);
            return TK_EXIT_USAGE;
        }
        if (table != WORDS) {
            fprintf(stderr, "tokattr export: --min-count applies to --words only\n");
            return TK_EXIT_USAGE;
        }
    }

    int rc = TK_EXIT_FAILURE;
    tk_results *r = NULL;
    FILE *out = stdout;
    char tmp[4200] = "";
    if (tk_results_load(path, &r, &err) != TK_OK)
        goto done;
    if (out_path) {
        snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
        out = fopen(tmp, "wb");
        if (!out) {
            tk_error_set(&err, TK_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
            tmp[0] = '\0';
            out = stdout;
            goto done;
        }
    }
    /* a large buffer: millions of short rows */
    static char buf[1 << 20];
    setvbuf(out, buf, _IOFBF, sizeof buf);
    tk_status st = table == TOKENS    ? tk_export_tokens(r, f, out, &err)
                   : table == REVIEWS ? tk_export_reviews(r, f, out, &err)
                                      : tk_export_words(r, mc, f, out, &err);
    if (st == TK_OK && fflush(out) != 0)
        st = tk_error_set(&err, TK_E_IO, "%s: write failed: %s", out_path ? tmp : "stdout",
                          strerror(errno));
    if (out != stdout) {
        if (fclose(out) != 0 && st == TK_OK)
            st = tk_error_set(&err, TK_E_IO, "%s: write failed: %s", tmp, strerror(errno));
        out = stdout;
        if (st == TK_OK && rename(tmp, out_path) != 0)
            st = tk_error_set(&err, TK_E_IO, "%s: cannot rename to %s: %s", tmp, out_path,
                              strerror(errno));
        if (st == TK_OK)
            tmp[0] = '\0';
    }
    if (st == TK_OK)
        rc = TK_EXIT_OK;
done:
    if (tmp[0])
        unlink(tmp);
    if (rc != TK_EXIT_OK)
        fprintf(stderr, "tokattr export: %s\n", err.msg[0] ? err.msg : "failed");
    tk_results_destroy(r);
    return rc;
}
