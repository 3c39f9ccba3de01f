#define _POSIX_C_SOURCE 200809L
#include "data/imdb_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const SPLIT_NAMES[2] = {"train", "test"};
static const char *const LABEL_NAMES[2] = {"neg", "pos"};

/* Parses decimal digits [p, end) into *value (<= limit). */
static bool parse_uint(const char *p, const char *end, long limit, long *value)
{
    if (p == end)
        return false;
    long v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v > limit)
            return false;
    }
    *value = v;
    return true;
}

int tk_imdb_classify(const char *path, int *split, int *label, int32_t *id, int *rating)
{
    /* The last three components: split / label / file name. */
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--; /* a directory entry "x/train/pos/" is not a review */
    if (n == 0 || n < strlen(path))
        return 0;
    const char *comp[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    size_t end = n;
    for (int k = 2; k >= 0; k--) {
        size_t start = end;
        while (start > 0 && path[start - 1] != '/')
            start--;
        comp[k] = path + start;
        len[k] = end - start;
        if (start == 0) {
            if (k > 0)
                return 0;
            break;
        }
        end = start - 1;
    }
    int s = -1, l = -1;
    for (int i = 0; i < 2; i++) {
        if (len[0] == strlen(SPLIT_NAMES[i]) && memcmp(comp[0], SPLIT_NAMES[i], len[0]) == 0)
            s = i;
        if (len[1] == 3 && memcmp(comp[1], LABEL_NAMES[i], 3) == 0)
            l = i;
    }
    if (s < 0 || l < 0)
        return 0;
    const char *name = comp[2], *name_end = comp[2] + len[2];
    const char *us = memchr(name, '_', len[2]);
    long idv, rv;
    if (us == NULL || len[2] < 4 || memcmp(name_end - 4, ".txt", 4) != 0 ||
        !parse_uint(name, us, INT32_MAX, &idv) || !parse_uint(us + 1, name_end - 4, 10, &rv))
        return -1;
    /* DATA.md: neg reviews are rated 1-4, pos reviews 7-10. */
    if (l == 0 ? (rv < 1 || rv > 4) : (rv < 7 || rv > 10))
        return -1;
    *split = s;
    *label = l;
    *id = (int32_t)idv;
    *rating = (int)rv;
    return 1;
}

typedef struct reader {
    const char *source;
    tk_imdb_visit visit;
    void *ctx;
    char *buf;        /* (cap): the current review's bytes */
    size_t cap;
    int64_t seen[2][2]; /* reviews per split, label */
} reader;

static tk_status grow(reader *r, size_t need, tk_error *err)
{
    if (need <= r->cap)
        return TK_OK;
    size_t cap = r->cap ? r->cap : 1 << 16;
    while (cap < need)
        cap *= 2;
    char *b = realloc(r->buf, cap);
    if (b == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: out of memory reading a review", r->source);
    r->buf = b;
    r->cap = cap;
    return TK_OK;
}

static tk_status bad_name(const reader *r, const char *entry, tk_error *err)
{
    return tk_error_set(err, TK_E_FORMAT,
                        "%s: entry '%s' is in a review directory but is not named "
                        "<id>_<rating>.txt (rating 1-4 under neg/, 7-10 under pos/)",
                        r->source, entry);
}

static tk_status read_archive(reader *r, tk_error *err)
{
    tk_status st = TK_OK;
    struct archive *a = archive_read_new();
    if (a == NULL)
        return tk_error_set(err, TK_E_NOMEM, "%s: cannot create an archive reader", r->source);
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, r->source, 1 << 20) != ARCHIVE_OK) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: cannot read as a tar archive: %s", r->source,
                          archive_error_string(a));
        goto done;
    }
    for (;;) {
        struct archive_entry *e;
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: damaged archive: %s", r->source,
                              archive_error_string(a));
            goto done;
        }
        const char *path = archive_entry_pathname(e);
        if (path == NULL || archive_entry_filetype(e) == AE_IFDIR)
            continue;
        tk_imdb_review rev = {.entry = path};
        int kind = tk_imdb_classify(path, &rev.split, &rev.label, &rev.id, &rev.rating);
        if (kind < 0) {
            st = bad_name(r, path, err);
            goto done;
        }
        if (kind == 0)
            continue; /* libarchive skips the data on the next header call */
        /* A link would read as an empty review (issue 20): refuse it. */
        if (archive_entry_hardlink(e) != NULL || archive_entry_filetype(e) != AE_IFREG) {
            const char *what = archive_entry_hardlink(e) != NULL            ? "a hard link"
                               : archive_entry_filetype(e) == AE_IFLNK ? "a symbolic link"
                                                                        : "not a regular file";
            st = tk_error_set(err, TK_E_FORMAT, "%s: entry '%s' is %s; reviews must be regular files",
                              r->source, path, what);
            goto done;
        }
        size_t n = 0;
        for (;;) {
            if ((st = grow(r, n + (1 << 16), err)) != TK_OK)
                goto done;
            la_ssize_t got = archive_read_data(a, r->buf + n, r->cap - n);
            if (got < 0) {
                st = tk_error_set(err, TK_E_FORMAT, "%s: damaged archive at '%s': %s", r->source, path,
                                  archive_error_string(a));
                goto done;
            }
            if (got == 0)
                break;
            n += (size_t)got;
        }
        rev.text = r->buf;
        rev.len = n;
        r->seen[rev.split][rev.label]++;
        if ((st = r->visit(r->ctx, &rev, err)) != TK_OK)
            goto done;
    }
done:
    archive_read_free(a);
    return st;
}

static tk_status read_file(reader *r, const char *path, size_t *len, tk_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tk_error_set(err, TK_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = 0;
    tk_status st = TK_OK;
    for (;;) {
        if ((st = grow(r, n + (1 << 16), err)) != TK_OK)
            break;
        size_t got = fread(r->buf + n, 1, r->cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (st == TK_OK && ferror(f))
        st = tk_error_set(err, TK_E_IO, "%s: read error", path);
    fclose(f);
    *len = n;
    return st;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static tk_status read_directory(reader *r, tk_error *err)
{
    char root[4096], dir[4096], path[4096 + 256];
    /* Accept the aclImdb/ directory itself or a directory holding it. */
    snprintf(root, sizeof root, "%s/aclImdb", r->source);
    if (!is_dir(root))
        snprintf(root, sizeof root, "%s", r->source);
    for (int s = 0; s < 2; s++)
        for (int l = 0; l < 2; l++) {
            int n = snprintf(dir, sizeof dir, "%s/%s/%s", root, SPLIT_NAMES[s], LABEL_NAMES[l]);
            if (n < 0 || (size_t)n >= sizeof dir)
                return tk_error_set(err, TK_E_INVALID, "%s: path too long", r->source);
            if (!is_dir(dir))
                return tk_error_set(err, TK_E_FORMAT, "%s: no %s/%s/ directory (expected aclImdb/{train,test}/{pos,neg}/)",
                                    r->source, SPLIT_NAMES[s], LABEL_NAMES[l]);
            DIR *d = opendir(dir);
            if (d == NULL)
                return tk_error_set(err, TK_E_IO, "%s: cannot open directory: %s", dir, strerror(errno));
            tk_status st = TK_OK;
            for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (de == NULL) {
                    if (errno != 0)
                        st = tk_error_set(err, TK_E_IO, "%s: cannot list directory: %s", dir, strerror(errno));
                    break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                    continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                tk_imdb_review rev = {.entry = path};
                if (tk_imdb_classify(path, &rev.split, &rev.label, &rev.id, &rev.rating) != 1 || is_dir(path)) {
                    st = bad_name(r, path, err);
                    break;
                }
                if ((st = read_file(r, path, &rev.len, err)) != TK_OK)
                    break;
                rev.text = r->buf;
                r->seen[s][l]++;
                if ((st = r->visit(r->ctx, &rev, err)) != TK_OK)
                    break;
            }
            closedir(d);
            if (st != TK_OK)
                return st;
        }
    return TK_OK;
}

tk_status tk_imdb_read(const char *source, tk_imdb_visit visit, void *ctx, tk_error *err)
{
    reader r = {.source = source, .visit = visit, .ctx = ctx};
    struct stat sb;
    if (stat(source, &sb) != 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open: %s", source, strerror(errno));
    tk_status st = S_ISDIR(sb.st_mode) ? read_directory(&r, err) : read_archive(&r, err);
    free(r.buf);
    if (st != TK_OK)
        return st;
    for (int s = 0; s < 2; s++)
        for (int l = 0; l < 2; l++)
            if (r.seen[s][l] == 0)
                return tk_error_set(err, TK_E_FORMAT, "%s: no reviews under %s/%s/ (expected aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt)",
                                    source, SPLIT_NAMES[s], LABEL_NAMES[l]);
    return TK_OK;
}
