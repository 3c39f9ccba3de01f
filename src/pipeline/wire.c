/* The run's messages as bytes (wire.h). */
#include "pipeline/wire.h"

#include <string.h>

enum { WORK_HEADER = 4, RES_HEADER = 5, WRITTEN_HEADER = 5, SYNCED_HEADER = 2 };

static void put(unsigned char **c, const void *src, size_t n)
{
    if (n > 0) /* src may be NULL for an empty list (no synced units yet) */
        memcpy(*c, src, n);
    *c += n;
}

static void get(const unsigned char **c, void *dst, size_t n)
{
    if (n > 0)
        memcpy(dst, *c, n);
    *c += n;
}

/* The n int64 header of a message of `bytes` (what names the format). */
static tk_status read_header(const unsigned char **b, size_t bytes, int64_t *h, size_t n,
                             const char *what, tk_error *err)
{
    if (bytes < n * 8)
        return tk_error_set(err, TK_E_INTERNAL, "a %s message of %zu bytes", what, bytes);
    get(b, h, n * 8);
    return TK_OK;
}

/* ---- work ----------------------------------------------------------------- */

size_t tk_wire_work_bytes(int chunk_size)
{
    size_t cs = (size_t)(chunk_size > 0 ? chunk_size : 0);
    return WORK_HEADER * 8 + cs * 8 + (cs + 1) * 8;
}

size_t tk_wire_pack_work(const tk_wire_work *w, unsigned char *buf)
{
    unsigned char *b = buf;
    int64_t h[WORK_HEADER] = {w->chunk, w->first, w->count, w->tok0};
    put(&b, h, sizeof h);
    if (w->count > 0) {
        put(&b, w->pos, (size_t)w->count * 8);
        put(&b, w->tok_off, (size_t)(w->count + 1) * 8);
    }
    return (size_t)(b - buf);
}

tk_status tk_wire_parse_work(const unsigned char *buf, size_t bytes, int chunk_size,
                             tk_wire_work *w, int64_t *pos, int64_t *tok_off, tk_error *err)
{
    const unsigned char *b = buf;
    int64_t h[WORK_HEADER];
    tk_status st = read_header(&b, bytes, h, WORK_HEADER, "work", err);
    if (st != TK_OK)
        return st;
    int64_t n = h[2];
    if (n < 0 || n > chunk_size || bytes != sizeof h + (n > 0 ? (size_t)(2 * n + 1) * 8 : 0))
        return tk_error_set(err, TK_E_INTERNAL, "a work message of %zu bytes for %lld reviews",
                            bytes, (long long)n);
    *w = (tk_wire_work){.chunk = h[0], .first = h[1], .count = n, .tok0 = h[3]};
    if (n > 0) {
        get(&b, pos, (size_t)n * 8);
        get(&b, tok_off, (size_t)(n + 1) * 8);
        w->pos = pos;
        w->tok_off = tok_off;
    }
    return TK_OK;
}

/* ---- result (root writer) -------------------------------------------------- */

/* The arrays of a chunk result in wire order with their sizes in bytes. One
 * list serves packing and unpacking, so the two directions cannot drift
 * apart (a field added to one side only would shift every later array). */
typedef struct wire_field {
    void *data;
    size_t bytes;
} wire_field;

enum { RES_MAX_FIELDS = 15 };

static int result_fields(const tk_chunk_result *r, wire_field *f)
{
    size_t cnt = (size_t)r->count, nm = (size_t)r->n_methods;
    int n = 0;
    f[n++] = (wire_field){r->prob, cnt * (size_t)r->n_classes * 4};
    f[n++] = (wire_field){r->predicted, cnt * 4};
    f[n++] = (wire_field){r->target, nm * cnt * 4};
    f[n++] = (wire_field){r->score, nm * (size_t)r->tc * 4};
    f[n++] = (wire_field){r->padding_score, nm * cnt * 4};
    f[n++] = (wire_field){r->axiom_error, nm * cnt * 8};
    f[n++] = (wire_field){r->f_input, nm * cnt * 8};
    f[n++] = (wire_field){r->f_baseline, nm * cnt * 8};
    f[n++] = (wire_field){r->steps, nm * cnt * 4};
    f[n++] = (wire_field){r->error_estimate, nm * cnt * 8};
    if (r->faith_k1 > 0) {
        size_t k1 = (size_t)r->faith_k1;
        f[n++] = (wire_field){r->faith_curve, nm * cnt * k1 * 4};
        f[n++] = (wire_field){r->faith_random, nm * cnt * k1 * 4};
        f[n++] = (wire_field){r->faith_aopc, nm * cnt * 4};
        f[n++] = (wire_field){r->faith_comp, nm * cnt * 4};
        f[n++] = (wire_field){r->faith_suff, nm * cnt * 4};
    }
    return n;
}

size_t tk_wire_result_bytes(int64_t count, int64_t tc, int n_out, int n_methods, int faith_k1)
{
    size_t faith = faith_k1 > 0 ? (size_t)count * 4 * (2 * (size_t)faith_k1 + 3) : 0;
    return RES_HEADER * 8 + (size_t)count * (size_t)n_out * 4 + (size_t)count * 4 +
           (size_t)n_methods * ((size_t)count * 4 + (size_t)tc * 4 + (size_t)count * 4 +
                                (size_t)count * 8 * 3 + faith + (size_t)count * (4 + 8));
}

size_t tk_wire_pack_result(const tk_chunk_result *r, int64_t chunk, int64_t stop,
                           unsigned char *buf)
{
    unsigned char *c = buf;
    int64_t h[RES_HEADER] = {r->first, r->count, r->tc, chunk, stop};
    put(&c, h, sizeof h);
    wire_field f[RES_MAX_FIELDS];
    int n = result_fields(r, f);
    for (int i = 0; i < n; i++)
        put(&c, f[i].data, f[i].bytes);
    return (size_t)(c - buf);
}

void tk_wire_unpack_result(const unsigned char *buf, tk_chunk_result *r, int64_t *chunk,
                           int64_t *stop)
{
    const unsigned char *c = buf;
    int64_t h[RES_HEADER];
    get(&c, h, sizeof h);
    r->first = h[0];
    r->count = h[1];
    r->tc = h[2];
    *chunk = h[3];
    *stop = h[4];
    wire_field f[RES_MAX_FIELDS];
    int n = result_fields(r, f);
    for (int i = 0; i < n; i++)
        get(&c, f[i].data, f[i].bytes);
}

/* ---- written and synced (ranks writer) -------------------------------------- */

int tk_wire_stat_methods(int n_methods)
{
    return n_methods < TK_WIRE_STATS_MAX ? n_methods : TK_WIRE_STATS_MAX;
}

size_t tk_wire_written_bytes(int n_methods)
{
    return WRITTEN_HEADER * 8 + (size_t)TK_WIRE_SYNC_MAX * 16 +
           (size_t)tk_wire_stat_methods(n_methods) * sizeof(tk_run_method_stats);
}

size_t tk_wire_pack_written(const tk_wire_written *m, int n_methods, unsigned char *buf)
{
    unsigned char *b = buf;
    int64_t h[WRITTEN_HEADER] = {m->first, m->count, m->chunk, m->stop, m->n_synced};
    put(&b, h, sizeof h);
    put(&b, m->synced, (size_t)m->n_synced * 16);
    put(&b, m->stats, (size_t)tk_wire_stat_methods(n_methods) * sizeof m->stats[0]);
    return (size_t)(b - buf);
}

tk_status tk_wire_parse_written(const unsigned char *buf, size_t bytes, int n_methods,
                                tk_wire_written *m, tk_error *err)
{
    const unsigned char *b = buf;
    int64_t h[WRITTEN_HEADER];
    size_t stats = (size_t)tk_wire_stat_methods(n_methods) * sizeof m->stats[0];
    tk_status st = read_header(&b, bytes, h, WRITTEN_HEADER, "written", err);
    if (st != TK_OK)
        return st;
    int64_t n = h[4];
    if (n < 0 || n > TK_WIRE_SYNC_MAX || bytes != sizeof h + (size_t)n * 16 + stats)
        return tk_error_set(err, TK_E_INTERNAL,
                            "a written message of %zu bytes with %lld synced units", bytes,
                            (long long)n);
    memset(m, 0, sizeof *m);
    m->first = h[0];
    m->count = h[1];
    m->chunk = h[2];
    m->stop = h[3];
    m->n_synced = n;
    m->synced = (const int64_t *)b;
    b += (size_t)n * 16;
    get(&b, m->stats, stats);
    return TK_OK;
}

size_t tk_wire_pack_synced(const tk_wire_synced *m, unsigned char *buf)
{
    unsigned char *b = buf;
    int64_t h[SYNCED_HEADER] = {m->n_synced, m->failed};
    put(&b, h, sizeof h);
    put(&b, m->synced, (size_t)m->n_synced * 16);
    if (m->failed)
        put(&b, m->message, strlen(m->message) + 1);
    return (size_t)(b - buf);
}

tk_status tk_wire_parse_synced(unsigned char *buf, size_t bytes, tk_wire_synced *m,
                               tk_error *err)
{
    const unsigned char *b = buf;
    int64_t h[SYNCED_HEADER];
    tk_status st = read_header(&b, bytes, h, SYNCED_HEADER, "synced", err);
    if (st != TK_OK)
        return st;
    int64_t n = h[0];
    size_t want = sizeof h + (size_t)(n > 0 ? n : 0) * 16;
    if (n < 0 || n > TK_WIRE_SYNC_MAX || bytes < want || (h[1] && bytes == want) ||
        (!h[1] && bytes != want))
        return tk_error_set(err, TK_E_INTERNAL,
                            "a synced message of %zu bytes with %lld synced units", bytes,
                            (long long)n);
    *m = (tk_wire_synced){.n_synced = n, .synced = (const int64_t *)b, .failed = h[1] != 0};
    if (m->failed) {
        buf[bytes - 1] = '\0';
        m->message = (const char *)buf + want;
    }
    return TK_OK;
}
