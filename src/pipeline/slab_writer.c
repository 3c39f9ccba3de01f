/* The ranks writer (slab_writer.h). */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/slab_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"

/* At most this much of the file's start is hashed: the superblock, the
 * root group and its attributes (job, command line, start time) */
enum { PROOF_MAX = 65536 };

static const unsigned char HDF5_SIGNATURE[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* A list of units: (n, 2) first, count. */
typedef struct unit_list {
    int64_t *u;
    int n, cap;
} unit_list;

struct tk_slab_writer {
    char path[4096];
    int fd;
    tk_result_region *reg; /* (n_reg) */
    int n_reg;
    unit_list held;        /* put, not yet synced */
    unit_list synced;      /* handed out by the last tk_slab_sync */
};

bool tk_slab_host_ok(void)
{
    float f = 1.0f;
    double d = 1.0;
    int32_t i = -2;
    static const unsigned char F[4] = {0, 0, 0x80, 0x3f};
    static const unsigned char D[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    static const unsigned char I[4] = {0xfe, 0xff, 0xff, 0xff};
    return sizeof f == 4 && sizeof d == 8 && memcmp(&f, F, 4) == 0 && memcmp(&d, D, 8) == 0 &&
           memcmp(&i, I, 4) == 0;
}

static void host_name(char *buf, size_t size)
{
    if (gethostname(buf, size) != 0)
        snprintf(buf, size, "(unknown host)");
    buf[size - 1] = '\0';
}

/* Reads [0, n) of fd; false on a short read or an error. */
static bool read_all(int fd, unsigned char *buf, int64_t n)
{
    int64_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, (size_t)(n - got), (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += r;
    }
    return true;
}

static int64_t proof_bytes(const tk_result_region *reg, int n_reg, int64_t size)
{
    int64_t n = size < PROOF_MAX ? size : PROOF_MAX;
    for (int i = 0; i < n_reg; i++)
        if (reg[i].offset >= 0 && reg[i].offset < n)
            n = reg[i].offset;
    return n;
}

/* The proof of the open file fd: a negative errno-like code when it is no
 * HDF5 file or cannot be read. */
static int measure(int fd, const tk_result_region *reg, int n_reg, tk_slab_proof *out)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->size = (int64_t)sb.st_size;
    out->hashed = proof_bytes(reg, n_reg, out->size);
    if (out->hashed < (int64_t)sizeof HDF5_SIGNATURE)
        return -2;
    unsigned char *buf = malloc((size_t)out->hashed);
    if (!buf)
        return -1;
    int rc = read_all(fd, buf, out->hashed) ? 0 : -1;
    if (rc == 0 && memcmp(buf, HDF5_SIGNATURE, sizeof HDF5_SIGNATURE) != 0)
        rc = -2;
    tk_sha256 h;
    tk_sha256_init(&h);
    tk_sha256_update(&h, buf, (size_t)out->hashed);
    tk_sha256_final(&h, out->sha256);
    free(buf);
    return rc;
}

tk_status tk_slab_proof_of(const char *path, const tk_result_region *reg, int n_reg,
                           tk_slab_proof *out, tk_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = measure(fd, reg, n_reg, out);
    close(fd);
    if (rc != 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot read the results file's first bytes", path);
    return TK_OK;
}

tk_status tk_slab_open(const char *path, const tk_slab_proof *proof, const tk_result_region *reg,
                       int n_reg, tk_slab_writer **out, tk_error *err)
{
    *out = NULL;
    char host[256];
    host_name(host, sizeof host);
    if (!tk_slab_host_ok())
        return tk_error_set(err, TK_E_UNSUPPORTED,
                            "host %s is not little-endian with IEEE floats: the ranks writer "
                            "cannot write the results file's little-endian datasets; use the "
                            "root writer (job key writer: root)",
                            host);
    tk_slab_writer *s = tk_calloc(1, sizeof *s, err);
    if (!s)
        return TK_E_NOMEM;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->fd = -1;
    s->reg = tk_malloc((size_t)(n_reg > 0 ? n_reg : 1), sizeof *s->reg, err);
    if (!s->reg) {
        free(s);
        return TK_E_NOMEM;
    }
    memcpy(s->reg, reg, (size_t)n_reg * sizeof *reg);
    s->n_reg = n_reg;
    /* one descriptor for the check and the writes: the file checked is
     * the file written, whatever renames happen meanwhile */
    s->fd = open(path, O_RDWR);
    const char *why = NULL;
    char detail[160] = "";
    tk_slab_proof mine;
    if (s->fd < 0) {
        snprintf(detail, sizeof detail, "cannot open it: %s", strerror(errno));
        why = detail;
    } else if (measure(s->fd, reg, n_reg, &mine) != 0) {
        why = "it is no HDF5 file or cannot be read";
    } else if (mine.size != proof->size) {
        snprintf(detail, sizeof detail, "%lld bytes, rank 0's has %lld", (long long)mine.size,
                 (long long)proof->size);
        why = detail;
    } else if (mine.hashed != proof->hashed ||
               memcmp(mine.sha256, proof->sha256, sizeof mine.sha256) != 0) {
        why = "its metadata differ from rank 0's";
    }
    if (why) {
        tk_status st = tk_error_set(err, TK_E_IO,
                                    "%s on host %s is not the file rank 0 created (%s): the "
                                    "results path must be on a filesystem every node shares, "
                                    "or use the root writer (job key writer: root)",
                                    path, host, why);
        tk_slab_close(s);
        return st;
    }
    *out = s;
    return TK_OK;
}

tk_status tk_slab_put(tk_slab_writer *s, const tk_chunk_result *r, int64_t t0, tk_error *err)
{
    for (int i = 0; i < s->n_reg; i++) {
        tk_result_slab sl;
        tk_status st = tk_result_slab_of(&s->reg[i], r, t0, &sl, err);
        if (st != TK_OK)
            return st;
        const unsigned char *p = sl.data;
        int64_t n = sl.rows * sl.row_bytes, done = 0;
        int64_t at = s->reg[i].offset + sl.row0 * sl.row_bytes;
        while (done < n) {
            ssize_t w = pwrite(s->fd, p + done, (size_t)(n - done), (off_t)(at + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return tk_error_set(err, TK_E_IO, "%s: cannot write reviews %lld..%lld: %s",
                                    s->path, (long long)r->first,
                                    (long long)(r->first + r->count),
                                    w < 0 ? strerror(errno) : "no progress");
            done += w;
        }
    }
    unit_list *h = &s->held;
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 64;
        int64_t *u = realloc(h->u, (size_t)cap * 2 * sizeof *u);
        if (!u)
            return tk_error_set(err, TK_E_NOMEM, "%s: out of memory", s->path);
        h->u = u;
        h->cap = cap;
    }
    h->u[2 * h->n] = r->first;
    h->u[2 * h->n + 1] = r->count;
    h->n++;
    return TK_OK;
}

int tk_slab_unsynced(const tk_slab_writer *s)
{
    return s->held.n;
}

tk_status tk_slab_sync(tk_slab_writer *s, const int64_t **units, int *n, tk_error *err)
{
    *units = NULL;
    *n = 0;
    if (s->held.n > 0 && fdatasync(s->fd) != 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot sync the results to disk: %s", s->path,
                            strerror(errno));
    /* the held units are on disk: they become the synced list, and the
     * old synced list's buffer holds the next units */
    unit_list t = s->synced;
    s->synced = s->held;
    s->held = t;
    s->held.n = 0;
    *units = s->synced.u;
    *n = s->synced.n;
    return TK_OK;
}

void tk_slab_close(tk_slab_writer *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->reg);
    free(s->held.u);
    free(s->synced.u);
    free(s);
}
