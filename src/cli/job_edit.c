/* Job text differences and the results file's job attribute (job_edit.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli/job_edit.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cli/job.h"
#include "core/h5.h"

/* ---- flattening ---------------------------------------------------------- */

typedef struct leaf {
    char *path;
    char *value; /* a scalar as written, or "{}" / "[]" marking a mapping / sequence */
} leaf;

typedef struct leaves {
    leaf *v;
    int n, cap;
} leaves;

typedef struct frame {
    bool is_map;
    bool want_key; /* a mapping expects its next key */
    long index;    /* a sequence's next item */
    size_t path_len;
} frame;

enum { MAX_DEPTH = 64, MAX_PATH = 1024 };

static void leaves_free(leaves *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].value);
    }
    free(l->v);
}

static bool leaves_add(leaves *l, const char *path, const char *value)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        leaf *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    leaf *e = &l->v[l->n];
    e->path = strdup(path);
    e->value = strdup(value);
    if (!e->path || !e->value) {
        free(e->path);
        free(e->value);
        return false;
    }
    l->n++;
    return true;
}

/* path gets the position of a value about to start in frame f: a
 * sequence's "[i]" (the key of a mapping is already there). */
static void enter_value(frame *f, char *path)
{
    if (f && !f->is_map) {
        size_t n = strlen(path);
        snprintf(path + n, MAX_PATH - n, "[%ld]", f->index++);
    }
}

/* After a value: back to the frame's own path, a mapping wants a key. */
static void leave_value(frame *f, char *path)
{
    if (!f)
        return;
    path[f->path_len] = '\0';
    if (f->is_map)
        f->want_key = true;
}

static tk_status flatten(const char *text, const char *what, leaves *out, tk_error *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", what);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    frame stack[MAX_DEPTH];
    int depth = 0;
    char path[MAX_PATH] = "";
    tk_status st = TK_OK;
    for (bool done = false; !done && st == TK_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: not YAML (%s, line %zu)", what,
                              parser.problem ? parser.problem : "parse error",
                              parser.problem_mark.line + 1);
            break;
        }
        frame *top = depth ? &stack[depth - 1] : NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT: {
            const char *v = ev.type == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value
                                                         : "*alias";
            if (top && top->is_map && top->want_key) {
                size_t n = strlen(path);
                snprintf(path + n, MAX_PATH - n, "%s%s", n ? "." : "", v);
                top->want_key = false;
            } else {
                enter_value(top, path);
                if (!leaves_add(out, path, v))
                    st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", what);
                leave_value(top, path);
            }
            break;
        }
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT: {
            bool is_map = ev.type == YAML_MAPPING_START_EVENT;
            if ((top && top->is_map && top->want_key) || depth == MAX_DEPTH) {
                st = tk_error_set(err, TK_E_UNSUPPORTED, "%s: a key that is not a scalar, or "
                                  "nesting deeper than %d", what, MAX_DEPTH);
                break;
            }
            enter_value(top, path);
            if (depth > 0 && !leaves_add(out, path, is_map ? "{}" : "[]")) {
                st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", what);
                break;
            }
            stack[depth++] = (frame){.is_map = is_map, .want_key = is_map, .path_len = strlen(path)};
            break;
        }
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            depth--;
            leave_value(depth ? &stack[depth - 1] : NULL, path);
            if (!depth)
                path[0] = '\0';
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return st;
}

/* ---- the difference ------------------------------------------------------ */

static const char *find_value(const leaves *l, const char *path)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i].path, path) == 0)
            return l->v[i].value;
    return NULL;
}

static bool path_affects_results(const char *path)
{
    char top[128];
    size_t n = strcspn(path, ".[");
    if (n >= sizeof top)
        return true;
    memcpy(top, path, n);
    top[n] = '\0';
    const tk_job_key *k = tk_job_key_find(top);
    return k == NULL || k->affects_results; /* a key we do not know: assume it does */
}

static bool add_change(tk_job_diff *d, const char *path, const char *before, const char *after)
{
    tk_job_change *c = realloc(d->changes, (size_t)(d->n_changes + 1) * sizeof *c);
    if (!c)
        return false;
    d->changes = c;
    tk_job_change *e = &c[d->n_changes];
    *e = (tk_job_change){.path = strdup(path),
                         .before = before ? strdup(before) : NULL,
                         .after = after ? strdup(after) : NULL,
                         .affects_results = path_affects_results(path)};
    d->n_changes++;
    if (!e->path || (before && !e->before) || (after && !e->after))
        return false;
    d->affects_results |= e->affects_results;
    return true;
}

tk_status tk_job_diff_texts(const char *before, const char *after, tk_job_diff *out,
                            tk_error *err)
{
    memset(out, 0, sizeof *out);
    out->same_text = strcmp(before, after) == 0;
    if (out->same_text)
        return TK_OK;
    leaves a = {0}, b = {0};
    tk_status st = flatten(before, "the results file's job", &a, err);
    if (st == TK_OK)
        st = flatten(after, "the job file", &b, err);
    for (int i = 0; st == TK_OK && i < b.n; i++) {
        const char *old = find_value(&a, b.v[i].path);
        if ((!old || strcmp(old, b.v[i].value) != 0) &&
            !add_change(out, b.v[i].path, old, b.v[i].value))
            st = tk_error_set(err, TK_E_NOMEM, "job comparison: out of memory");
    }
    for (int i = 0; st == TK_OK && i < a.n; i++)
        if (!find_value(&b, a.v[i].path) && !add_change(out, a.v[i].path, a.v[i].value, NULL))
            st = tk_error_set(err, TK_E_NOMEM, "job comparison: out of memory");
    leaves_free(&a);
    leaves_free(&b);
    if (st != TK_OK)
        tk_job_diff_free(out);
    return st;
}

void tk_job_diff_free(tk_job_diff *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_changes; i++) {
        free(d->changes[i].path);
        free(d->changes[i].before);
        free(d->changes[i].after);
    }
    free(d->changes);
    d->changes = NULL;
    d->n_changes = 0;
}

void tk_job_diff_describe(const tk_job_diff *d, char *buf, size_t size)
{
    buf[0] = '\0';
    if (d->same_text)
        return;
    if (d->n_changes == 0) {
        snprintf(buf, size, "comments or layout only");
        return;
    }
    for (int i = 0; i < d->n_changes; i++) {
        const tk_job_change *c = &d->changes[i];
        size_t used = strlen(buf);
        if (used + 1 >= size)
            break;
        snprintf(buf + used, size - used, "%s%s: %.60s -> %.60s%s", i ? "; " : "", c->path,
                 c->before ? c->before : "(absent)", c->after ? c->after : "(absent)",
                 c->affects_results ? " (changes what is computed)" : "");
    }
}

/* ---- the results file's job attribute ------------------------------------ */


tk_status tk_results_job_text_read(const char *path, char **text, tk_error *err)
{
    *text = NULL;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_file_locking(fapl, false, true) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return tk_error_set(err, TK_E_INTERNAL, "%s: cannot set up HDF5 file access", path);
    }
    hid_t f = H5I_INVALID_HID;
    H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDONLY, fapl); }
    H5E_END_TRY;
    H5Pclose(fapl);
    if (f < 0)
        return tk_error_set(err, TK_E_FORMAT, "%s: cannot open the results file to compare its "
                            "job (not HDF5, damaged, or still open in a running job)", path);
    *text = tk_h5_attr_read_str(f, "job");
    H5Fclose(f);
    return TK_OK;
}

tk_status tk_results_job_text_write(const char *path, const char *text, tk_error *err)
{
    hid_t f = H5I_INVALID_HID;
    H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT); }
    H5E_END_TRY;
    if (f < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open the results file to record the "
                            "edited job", path);
    tk_status st = TK_OK;
    char *old = tk_h5_attr_read_str(f, "job"), *history = tk_h5_attr_read_str(f, "job_history");
    if (old && strcmp(old, text) != 0) {
        static const char SEP[] =
            "--- replaced by an edited job (tokattr run --resume --allow-job-edit):\n";
        size_t n = (history ? strlen(history) : 0) + sizeof SEP + strlen(old) + 1;
        char *joined = malloc(n);
        if (!joined) {
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", path);
        } else {
            snprintf(joined, n, "%s%s%s", history ? history : "", SEP, old);
            if (tk_h5_attr_str(f, "job_history", joined) < 0 || tk_h5_attr_str(f, "job", text) < 0)
                st = tk_error_set(err, TK_E_IO, "%s: cannot write the job attributes", path);
            free(joined);
        }
    }
    free(old);
    free(history);
    if (H5Fclose(f) < 0 && st == TK_OK)
        st = tk_error_set(err, TK_E_IO, "%s: cannot close the results file", path);
    return st;
}
