/* Review selection specs (selection.h). */
#define _POSIX_C_SOURCE 200809L
#include "data/selection.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LISTED = 8 }; /* matches listed in an ambiguity error */

typedef struct sel_item {
    bool by_id;
    int64_t first, last; /* by index: [first, last] */
    char *id;            /* by id: the id text ... */
    char *label;         /* ... and its qualifiers, or NULL */
    char *split;
    char *text;          /* the item as written, for messages */
} sel_item;

struct tk_selection {
    char *spec;
    char *what;
    sel_item *items; /* (n_items) */
    int n_items;
};

void tk_selection_destroy(tk_selection *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_items; i++) {
        free(s->items[i].id);
        free(s->items[i].label);
        free(s->items[i].split);
        free(s->items[i].text);
    }
    free(s->items);
    free(s->spec);
    free(s->what);
    free(s);
}

const char *tk_selection_spec(const tk_selection *s)
{
    return s->spec;
}

static char *dup_range(const char *a, const char *b)
{
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    char *s = malloc((size_t)(b - a) + 1);
    if (s) {
        memcpy(s, a, (size_t)(b - a));
        s[b - a] = '\0';
    }
    return s;
}

static bool parse_index(const char *s, int64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static tk_status bad_item(const tk_selection *s, const char *item, tk_error *err)
{
    return tk_error_set(err, TK_E_INVALID,
                        "%s '%s': '%s' is not a review (expected an index like 7, a range like "
                        "0-9, or id:ID with optional @label:L / @split:S, e.g. id:1234@label:pos)",
                        s->what, s->spec, item);
}

/* "id:ID(@label:L|@split:S)*" into it; text is the trimmed item. */
static tk_status parse_id_item(const tk_selection *s, const char *text, sel_item *it,
                               tk_error *err)
{
    const char *p = text + 3, *at = strchr(p, '@');
    it->id = dup_range(p, at ? at : p + strlen(p));
    if (!it->id)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", s->what);
    if (!it->id[0])
        return bad_item(s, text, err);
    while (at) {
        const char *q = at + 1, *next = strchr(q, '@');
        const char *end = next ? next : q + strlen(q);
        char **slot = NULL;
        size_t skip = 0;
        if (strncmp(q, "label:", 6) == 0) {
            slot = &it->label;
            skip = 6;
        } else if (strncmp(q, "split:", 6) == 0) {
            slot = &it->split;
            skip = 6;
        }
        if (!slot || *slot)
            return tk_error_set(err, TK_E_INVALID,
                                "%s '%s': in '%s', '@%.*s' is not a qualifier (use @label:L or "
                                "@split:S, each once)",
                                s->what, s->spec, text, (int)(end - q), q);
        if (!(*slot = dup_range(q + skip, end)))
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", s->what);
        if (!(*slot)[0])
            return bad_item(s, text, err);
        at = next;
    }
    return TK_OK;
}

tk_status tk_selection_parse(const char *spec, const char *what, tk_selection **out,
                             tk_error *err)
{
    *out = NULL;
    tk_selection *s = calloc(1, sizeof *s);
    if (!s || !(s->spec = strdup(spec ? spec : "")) || !(s->what = strdup(what))) {
        tk_selection_destroy(s);
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", what);
    }
    int cap = 1;
    for (const char *c = s->spec; *c; c++)
        cap += *c == ',';
    s->items = calloc((size_t)cap, sizeof *s->items);
    tk_status st = TK_OK;
    if (!s->items) {
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", what);
        goto fail;
    }
    const char *p = s->spec;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        sel_item *it = &s->items[s->n_items++];
        if (!(it->text = dup_range(p, end))) {
            st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", what);
            goto fail;
        }
        if (!it->text[0]) {
            st = tk_error_set(err, TK_E_INVALID,
                              "%s '%s': an empty item (reviews are separated by single commas)",
                              what, s->spec);
            goto fail;
        }
        if (strncmp(it->text, "id:", 3) == 0) {
            it->by_id = true;
            if ((st = parse_id_item(s, it->text, it, err)) != TK_OK)
                goto fail;
        } else {
            char *dash = strchr(it->text, '-');
            bool ok;
            if (dash) {
                *dash = '\0';
                ok = parse_index(it->text, &it->first) && parse_index(dash + 1, &it->last);
                *dash = '-';
            } else {
                ok = parse_index(it->text, &it->first);
                it->last = it->first;
            }
            if (!ok) {
                st = bad_item(s, it->text, err);
                goto fail;
            }
            if (it->last < it->first) {
                st = tk_error_set(err, TK_E_INVALID, "%s '%s': the range %s runs backwards", what,
                                  s->spec, it->text);
                goto fail;
            }
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = s;
    return TK_OK;
fail:
    tk_selection_destroy(s);
    return st;
}

/* Row i's label spelled as the user would: "1 (pos)" or "1". */
static void label_text(const tk_selection_table *t, int64_t i, char *buf, size_t size)
{
    if (!t->label) {
        snprintf(buf, size, "none");
        return;
    }
    int l = t->label[i];
    if (l >= 0 && l < t->n_classes && t->class_names && t->class_names[l])
        snprintf(buf, size, "%d (%s)", l, t->class_names[l]);
    else
        snprintf(buf, size, "%d", l);
}

/* Whether row i has the label the user wrote (a number or a class name). */
static bool label_matches(const tk_selection_table *t, int64_t i, const char *want)
{
    if (!t->label)
        return false;
    int l = t->label[i];
    if (l >= 0 && l < t->n_classes && t->class_names && t->class_names[l] &&
        strcmp(t->class_names[l], want) == 0)
        return true;
    char num[16];
    snprintf(num, sizeof num, "%d", l);
    return strcmp(num, want) == 0;
}

/* The one row an id item names, or an error that lists the candidates. */
static tk_status resolve_id(const tk_selection *s, const sel_item *it, const tk_selection_table *t,
                            int64_t *row, tk_error *err)
{
    if (it->split && (!t->split || strcmp(it->split, t->split) != 0))
        return tk_error_set(err, TK_E_INVALID, "%s '%s': %s: these reviews are the %s split, not %s",
                            s->what, s->spec, it->text, t->split ? t->split : "(unnamed)",
                            it->split);
    if (it->label && !t->label)
        return tk_error_set(err, TK_E_INVALID, "%s '%s': %s: these reviews have no labels",
                            s->what, s->spec, it->text);
    int64_t found = -1, n_found = 0, n_id = 0;
    char listed[640] = "";
    for (int64_t i = 0; i < t->n; i++) {
        if (!t->id[i] || strcmp(t->id[i], it->id) != 0)
            continue;
        n_id++;
        if (it->label && !label_matches(t, i, it->label))
            continue;
        if (n_found < MAX_LISTED) {
            char lab[96];
            label_text(t, i, lab, sizeof lab);
            size_t used = strlen(listed);
            snprintf(listed + used, sizeof listed - used, "%sindex %lld (label %s)",
                     n_found ? ", " : "", (long long)i, lab);
        }
        n_found++;
        found = i;
    }
    if (n_found == 1) {
        *row = found;
        return TK_OK;
    }
    if (n_found == 0 && n_id == 0)
        return tk_error_set(err, TK_E_INVALID, "%s '%s': no review has id %s%s%s", s->what,
                            s->spec, it->id, t->split ? " in the split " : "",
                            t->split ? t->split : "");
    if (n_found == 0)
        return tk_error_set(err, TK_E_INVALID,
                            "%s '%s': %lld review%s ha%s id %s, none with label %s", s->what,
                            s->spec, (long long)n_id, n_id == 1 ? "" : "s",
                            n_id == 1 ? "s" : "ve", it->id, it->label);
    return tk_error_set(err, TK_E_INVALID,
                        "%s '%s': %s is ambiguous: %lld reviews match: %s%s; say which with "
                        "@label:L, or give the index",
                        s->what, s->spec, it->text, (long long)n_found, listed,
                        n_found > MAX_LISTED ? ", ..." : "");
}

static int cmp_row(const void *a, const void *b)
{
    const int64_t *x = a, *y = b; /* (row, position in the spec) pairs */
    return (x[0] > y[0]) - (x[0] < y[0]);
}

tk_status tk_selection_resolve(const tk_selection *s, const tk_selection_table *t,
                               int64_t **indices, int64_t *count, tk_error *err)
{
    *indices = NULL;
    *count = 0;
    int64_t n = 0;
    for (int i = 0; i < s->n_items; i++) {
        const sel_item *it = &s->items[i];
        if (!it->by_id && (it->last >= t->n)) {
            if (t->split)
                return tk_error_set(err, TK_E_INVALID,
                                    "%s '%s': %s is outside the split (%s: %lld reviews, "
                                    "indices 0-%lld)",
                                    s->what, s->spec, it->text, t->split, (long long)t->n,
                                    (long long)t->n - 1);
            return tk_error_set(err, TK_E_INVALID,
                                "%s '%s': %s is outside the %lld reviews (indices 0-%lld)",
                                s->what, s->spec, it->text, (long long)t->n, (long long)t->n - 1);
        }
        n += it->by_id ? 1 : it->last - it->first + 1;
    }
    int64_t *list = malloc((size_t)(n ? n : 1) * sizeof *list);
    int64_t *pairs = malloc((size_t)(n ? n : 1) * 2 * sizeof *pairs);
    int *item_of = malloc((size_t)(n ? n : 1) * sizeof *item_of);
    tk_status st = TK_OK;
    if (!list || !pairs || !item_of) {
        st = tk_error_set(err, TK_E_NOMEM, "%s: out of memory", s->what);
        goto fail;
    }
    int64_t k = 0;
    for (int i = 0; i < s->n_items; i++) {
        const sel_item *it = &s->items[i];
        if (it->by_id) {
            if ((st = resolve_id(s, it, t, &list[k], err)) != TK_OK)
                goto fail;
            item_of[k++] = i;
        } else {
            for (int64_t r = it->first; r <= it->last; r++) {
                item_of[k] = i;
                list[k++] = r;
            }
        }
    }
    /* a review twice is a typo, not a wish to see it twice */
    for (int64_t j = 0; j < n; j++) {
        pairs[2 * j] = list[j];
        pairs[2 * j + 1] = j;
    }
    qsort(pairs, (size_t)n, 2 * sizeof *pairs, cmp_row);
    for (int64_t j = 1; j < n; j++)
        if (pairs[2 * j] == pairs[2 * j - 2]) {
            int64_t a = pairs[2 * j - 1], b = pairs[2 * j + 1];
            if (a > b) {
                int64_t x = a;
                a = b;
                b = x;
            }
            const char *ta = s->items[item_of[a]].text, *tb = s->items[item_of[b]].text;
            if (ta == tb)
                st = tk_error_set(err, TK_E_INVALID, "%s '%s': review %lld is selected twice (%s)",
                                  s->what, s->spec, (long long)pairs[2 * j], ta);
            else
                st = tk_error_set(err, TK_E_INVALID,
                                  "%s '%s': review %lld is selected twice (by %s and by %s)",
                                  s->what, s->spec, (long long)pairs[2 * j], ta, tb);
            goto fail;
        }
    free(pairs);
    free(item_of);
    *indices = list;
    *count = n;
    return TK_OK;
fail:
    free(list);
    free(pairs);
    free(item_of);
    return st;
}

tk_status tk_selection_select(const char *spec, const char *what, const tk_selection_table *t,
                              int64_t **indices, int64_t *count, tk_error *err)
{
    tk_selection *s = NULL;
    tk_status st = tk_selection_parse(spec, what, &s, err);
    if (st == TK_OK)
        st = tk_selection_resolve(s, t, indices, count, err);
    tk_selection_destroy(s);
    return st;
}

char **tk_selection_ids_from_i64(int64_t n, const int64_t *ids, tk_error *err)
{
    enum { W = 24 }; /* an int64 in decimal and its NUL */
    size_t rows = n > 0 ? (size_t)n : 1;
    char **out = tk_malloc(rows, sizeof *out + W, err);
    if (!out)
        return NULL;
    char *text = (char *)(out + rows);
    for (int64_t i = 0; i < n; i++) {
        out[i] = text + (size_t)i * W;
        snprintf(out[i], W, "%lld", (long long)ids[i]);
    }
    return out;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

tk_status tk_selection_split_rows(const char *spec, const char *what, const tk_dataset *ds,
                                  const tk_split *sp, int64_t *rows, int64_t *count,
                                  tk_error *err)
{
    const tk_selection_table t = {.n = sp->n,
                                  .id = (const char *const *)sp->doc_id,
                                  .label = sp->label,
                                  .class_names = (const char *const *)ds->class_names,
                                  .n_classes = ds->n_classes,
                                  .split = sp->name};
    int64_t *list = NULL, n = 0;
    tk_status st = tk_selection_select(spec, what, &t, &list, &n, err);
    if (st != TK_OK)
        return st;
    memcpy(rows, list, (size_t)n * sizeof *rows); /* unique, so n <= sp->n */
    free(list);
    qsort(rows, (size_t)n, sizeof *rows, cmp_i64); /* the results keep the split's order */
    *count = n;
    return TK_OK;
}
