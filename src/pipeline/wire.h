/* The run's messages as bytes: what rank 0 and the computing ranks say to
 * each other (run.c sends and receives them). No MPI here, so that every
 * format has a unit test (tests/test_wire.c), and one function per
 * direction cannot drift from the other.
 *
 * work     rank 0 -> a worker: int64 {chunk, first, count, tok0}, then
 *          count split positions and count + 1 token offsets (the unit's
 *          reviews: the worker reads and prepares them; where its tokens go:
 *          the ranks writer writes there). count 0 is STOP.
 * result   a worker -> rank 0, the root writer: int64 {first, count, tc,
 *          chunk, stop}, then the arrays of tk_chunk_result (wire_fields in
 *          wire.c); count 0 is the first request.
 * written  a worker -> rank 0, the ranks writer: int64 {first, count, chunk,
 *          stop, n_synced}, n_synced (first, count) pairs of units now on
 *          disk, then the unit's tk_run_method_stats (one per method, at most
 *          16). Small whatever the unit: the rank wrote the unit itself.
 * synced   a worker's last message (ranks writer), after STOP: int64
 *          {n_synced, failed}, the pairs, and when failed the error message
 *          (NUL-terminated).
 * Only synced units are marked done: nothing is marked before it is on
 * disk. */
#ifndef TOKATTR_PIPELINE_WIRE_H
#define TOKATTR_PIPELINE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "pipeline/run_stats.h"
#include "pipeline/writer.h"

enum { TK_WIRE_SYNC_MAX = 1024 };  /* units a rank holds unsynced: bounds the messages */
enum { TK_WIRE_STATS_MAX = 16 };   /* methods whose statistics travel */

/* ---- work ----------------------------------------------------------------- */

typedef struct tk_wire_work {
    int64_t chunk, first, count, tok0;
    const int64_t *pos;     /* (count) split positions */
    const int64_t *tok_off; /* (count + 1) the file's token offsets; NULL for STOP */
} tk_wire_work;

size_t tk_wire_work_bytes(int chunk_size); /* the largest work message */
size_t tk_wire_pack_work(const tk_wire_work *w, unsigned char *buf);
/* w's arrays are copied into pos (chunk_size) and tok_off (chunk_size + 1). */
tk_status tk_wire_parse_work(const unsigned char *buf, size_t bytes, int chunk_size,
                             tk_wire_work *w, int64_t *pos, int64_t *tok_off, tk_error *err);

/* ---- result (root writer) -------------------------------------------------- */

size_t tk_wire_result_bytes(int64_t count, int64_t tc, int n_out, int n_methods, int faith_k1);
size_t tk_wire_pack_result(const tk_chunk_result *r, int64_t chunk, int64_t stop,
                           unsigned char *buf);
/* Into r, allocated for the largest unit (tk_chunk_result_alloc). */
void tk_wire_unpack_result(const unsigned char *buf, tk_chunk_result *r, int64_t *chunk,
                           int64_t *stop);

/* ---- written and synced (ranks writer) -------------------------------------- */

typedef struct tk_wire_written {
    int64_t first, count, chunk, stop;
    int64_t n_synced;
    const int64_t *synced;           /* (n_synced, 2) first, count */
    tk_run_method_stats stats[TK_WIRE_STATS_MAX]; /* the unit's, tk_wire_stat_methods of them */
} tk_wire_written;

typedef struct tk_wire_synced {
    int64_t n_synced;
    const int64_t *synced;  /* (n_synced, 2) */
    bool failed;
    const char *message;    /* when failed */
} tk_wire_synced;

int tk_wire_stat_methods(int n_methods);   /* min(n_methods, TK_WIRE_STATS_MAX) */
size_t tk_wire_written_bytes(int n_methods); /* the largest written or synced message,
                                                 without a synced message's error text */
size_t tk_wire_pack_written(const tk_wire_written *m, int n_methods, unsigned char *buf);
/* buf must stay alive while m->synced is used; a size that does not fit the
 * format is TK_E_INTERNAL. */
tk_status tk_wire_parse_written(const unsigned char *buf, size_t bytes, int n_methods,
                                tk_wire_written *m, tk_error *err);
size_t tk_wire_pack_synced(const tk_wire_synced *m, unsigned char *buf);
/* buf (bytes) is NUL-terminated in place when the message carries an error. */
tk_status tk_wire_parse_synced(unsigned char *buf, size_t bytes, tk_wire_synced *m,
                               tk_error *err);

#endif
