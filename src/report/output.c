#define _POSIX_C_SOURCE 200809L
#include "report/output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

tk_status tk_out_open(tk_out_file *o, const char *dir, const char *name, tk_error *err)
{
    memset(o, 0, sizeof *o);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (mkdir(dir, 0777) != 0)
            return tk_error_set(err, TK_E_IO, "%s: cannot create the output directory (%s)", dir,
                                strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return tk_error_set(err, TK_E_IO, "%s: the output path exists and is not a directory", dir);
    }
    int a = snprintf(o->final, sizeof o->final, "%s/%s", dir, name);
    int b = snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
    if (a < 0 || b < 0 || (size_t)a >= sizeof o->final || (size_t)b >= sizeof o->tmp)
        return tk_error_set(err, TK_E_INVALID, "%s: the output path is too long", dir);
    o->f = fopen(o->tmp, "w");
    if (o->f == NULL)
        return tk_error_set(err, TK_E_IO, "%s: cannot create (%s)", o->tmp, strerror(errno));
    return TK_OK;
}

tk_status tk_out_commit(tk_out_file *o, tk_error *err)
{
    bool bad = ferror(o->f) != 0;
    bad = (fclose(o->f) != 0) || bad;
    o->f = NULL;
    if (bad) {
        remove(o->tmp);
        return tk_error_set(err, TK_E_IO, "%s: writing failed (disk full?)", o->final);
    }
    if (rename(o->tmp, o->final) != 0) {
        remove(o->tmp);
        return tk_error_set(err, TK_E_IO, "%s: cannot rename the finished file into place (%s)",
                            o->final, strerror(errno));
    }
    return TK_OK;
}

void tk_out_abort(tk_out_file *o)
{
    if (o->f != NULL) {
        fclose(o->f);
        o->f = NULL;
        remove(o->tmp);
    }
}

const char *tk_report_class_name(const tk_results *r, int c, char *buf, size_t size)
{
    if (c >= 0 && c < r->class_name.n) /* the file's own names (/classes/name) */
        return r->class_name.s[c];
    if (tk_results_n_classes(r) == 2 && (c == 0 || c == 1))
        return c == 0 ? "negative" : "positive";
    snprintf(buf, size, "class %d", c);
    return buf;
}

void tk_report_options_default(tk_report_options *o)
{
    memset(o, 0, sizeof *o);
    o->format = TK_REPORT_HTML;
    o->min_count = 20;
    o->top_words = 20;
    o->n_confident = 3;
    o->n_random = 4;
    o->seed = 1;
}

tk_status tk_report_write(const tk_results *r, const char *out_dir, const tk_report_options *o,
                          tk_error *err)
{
    if (o->format == TK_REPORT_HTML)
        return tk_report_write_html(r, out_dir, o, err);
    return tk_report_write_tables(r, out_dir, o, err);
}
