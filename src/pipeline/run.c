/* The distributed job (run.h): setup and checks on rank 0, weights in a
 * per-node shared window, a request/reply work queue, results written by
 * every computing rank (or rank 0 alone) with checkpoints, clean stops on
 * signals. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/run.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/gemm.h"
#include "core/progress.h"
#include "core/sha256.h"
#include "data/dataset.h"
#include "model/model.h"
#include "pipeline/compute_chunk.h"
#include "pipeline/plan.h"
#include "pipeline/run_stats.h"
#include "pipeline/slab_writer.h"
#include "pipeline/stop_deadline.h"
#include "pipeline/unit_input.h"
#include "pipeline/wire.h"
#include "pipeline/writer.h"

/* The one piece of global mutable state: a signal handler can reach
 * nothing else. It only records which signal asked us to stop. */
static volatile sig_atomic_t stop_signal = 0;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    tk_stop_deadline_start(sig); /* mpirun's kill follows its SIGTERM (stop_deadline.h) */
}

enum { TAG_WORK = 11, TAG_RESULT = 12, TAG_ERROR = 13, TAG_SYNCED = 14 };
/* A worker's requests awaiting rank 0's reply (work() says why two). */
enum { REQUESTS_IN_FLIGHT = 2 };
enum { ROOT = 0 };

#define MPICHK(call)                                                                           \
    do {                                                                                       \
        int mpi_rc_ = (call);                                                                  \
        if (mpi_rc_ != MPI_SUCCESS) {                                                          \
            char mpi_msg_[MPI_MAX_ERROR_STRING];                                               \
            int mpi_len_ = 0;                                                                  \
            MPI_Error_string(mpi_rc_, mpi_msg_, &mpi_len_);                                    \
            st = tk_error_set(err, TK_E_MPI, "MPI call failed at %s:%d: %s", __FILE__,        \
                              __LINE__, mpi_msg_);                                             \
            goto fail;                                                                         \
        }                                                                                      \
    } while (0)

void tk_run_partial_path(const char *output, char *buf, size_t size)
{
    snprintf(buf, size, "%s.partial", output);
}

/* ---- agreement: every rank ends a collective step with the same status
 * and message ------------------------------------------------------------- */

/* The lowest failing rank's status and message become everyone's. MPI
 * failures here are beyond repair: abort (the last resort). */
static tk_status agree(MPI_Comm comm, tk_status st, tk_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int mine = st != TK_OK ? rank : 1 << 30, first = 0;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (first == 1 << 30)
        return TK_OK;
    int code = (int)st;
    char msg[TK_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    if (MPI_Bcast(&code, 1, MPI_INT, first, comm) != MPI_SUCCESS ||
        MPI_Bcast(msg, TK_ERROR_MAX, MPI_CHAR, first, comm) != MPI_SUCCESS)
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (rank != first)
        tk_error_reset(err, (tk_status)code, "%s", msg);
    return (tk_status)code;
}

/* ---- a computing rank ------------------------------------------------------ */

typedef struct worker {
    tk_compute *comp;     /* the batch loop (compute_chunk.h) */
    tk_docs_reader *docs; /* the job's split: units' inputs are prepared here; opened
                             at the first unit (worker_unit says why) */
    const char *dataset_path, *split;
    tk_input_spec spec;   /* rank 0's, broadcast */
    tk_unit_docs udocs;   /* a unit's documents */
    int32_t *ids, *labels; /* (cs, steps), (cs) a unit's model inputs */
    int32_t **bg;         /* (n_methods) background ids (B, steps) or NULL */
    float *vtab;          /* (vtab_n, input_dim) id -> input vector, embedding-less models */
    int64_t vtab_n;
    int steps, n_out, n_methods, cs;
    double phase[TK_PHASE_N];    /* seconds: compute, wait; ranks writer: write, flush */
    /* the ranks writer (NULL: the root writer): this rank writes its units */
    tk_slab_writer *slab;
    int since_sync;       /* units written since the last sync */
    double last_sync;     /* tk_now() of the last sync */
    int ckpt_every;       /* the job's checkpoint_every, checkpoint_seconds */
    double ckpt_seconds;
    const tk_method_params *methods; /* (n_methods) the job's */
} worker;

static void worker_free(worker *w)
{
    tk_compute_destroy(w->comp);
    tk_docs_close(w->docs);
    tk_unit_docs_free(&w->udocs);
    free(w->ids);
    free(w->labels);
    for (int k = 0; w->bg && k < w->n_methods; k++)
        free(w->bg[k]);
    free(w->bg);
    free(w->vtab);
    tk_slab_close(w->slab);
}

static tk_status worker_init(worker *w, const tk_run_config *cfg, tk_model *model, int steps,
                             tk_error *err)
{
    w->steps = steps;
    w->n_out = model->n_outputs;
    w->n_methods = cfg->n_methods;
    w->cs = cfg->chunk_size;
    w->ckpt_every = cfg->checkpoint_every;
    w->ckpt_seconds = cfg->checkpoint_seconds;
    w->methods = cfg->methods;
    w->ids = tk_malloc((size_t)w->cs * (size_t)steps, sizeof *w->ids, err);
    w->labels = tk_malloc((size_t)w->cs, sizeof *w->labels, err);
    if (!w->ids || !w->labels)
        return TK_E_NOMEM;
    w->dataset_path = cfg->dataset_path;
    w->split = cfg->split;
    tk_compute_spec spec = {.n_methods = cfg->n_methods,
                            .methods = cfg->methods,
                            .faith = cfg->faith,
                            .chunk_size = cfg->chunk_size,
                            .steps = steps,
                            .background = w->bg,
                            .vtab = w->vtab,
                            .vtab_n = w->vtab_n};
    return tk_compute_create(model, &spec, &w->comp, err);
}

/* A unit: its model inputs prepared here from the dataset file (pos: the
 * reviews' split positions), then explained. */
static tk_status worker_unit(worker *w, const int64_t *pos, int64_t first, int64_t count,
                             tk_compute_poll_fn poll, void *poll_ctx, tk_error *err)
{
    /* Opened now, not at init: HDF5 shares a dataset opened twice in one
     * process, chunk cache included, and on two ranks rank 0 writes the
     * layout (a reader with small sequential caches) before its own
     * units; a reader opened beside it would get those caches and inflate
     * every unit's chunks again (8% of the IG CNN job). */
    tk_status st = w->docs ? TK_OK : tk_docs_open(w->dataset_path, w->split, &w->docs, err);
    if (st == TK_OK)
        st = tk_unit_input(w->docs, &w->spec, pos, count, &w->udocs, w->ids, w->labels, err);
    if (st != TK_OK) {
        tk_error_prefix(err, "review %lld of the results", (long long)first);
        return st;
    }
    return tk_compute_chunk(w->comp, w->ids, w->labels, first, count, poll, poll_ctx, err);
}

/* ---- rank 0: the queue and the writer -------------------------------------- */

typedef struct coord {
    const tk_run_config *cfg;
    tk_plan *p;
    MPI_Comm comm;
    bool ranks_writer;    /* each computing rank writes its units (else rank 0 all) */
    worker *self;         /* rank 0's own computing side, or NULL */
    int64_t next;         /* next position in p->order */
    int active;           /* root writer: STOP replies still to send; ranks writer:
                             workers whose "synced" message is still to come */
    bool stop;            /* no more work is handed out */
    bool interrupted;     /* ... because of a signal */
    tk_status st;         /* first failure */
    tk_error *err;
    unsigned char *rbuf;  /* (rbuf_size) a received message */
    size_t rbuf_size;
    /* (ranks, REQUESTS_IN_FLIGHT) work messages in flight, wbuf_size each,
     * and their requests: a unit sent while its worker still computes the
     * one before is sent without waiting for that worker */
    unsigned char *wbuf;
    size_t wbuf_size;
    MPI_Request *wreq;
    int *wslot;           /* (ranks) the slot of each rank's next work message */
    tk_chunk_result in;   /* a worker's result, unpacked (root writer) */
    int since_ckpt;
    double last_ckpt;     /* tk_now() of the last flush */
    int64_t n_done;       /* reviews written (the progress bar) */
    int64_t n_marked;     /* reviews marked done (on disk before their marks) */
    tk_progress prog;
    double busy;          /* seconds spent receiving and writing */
    double phase[TK_PHASE_N]; /* seconds: receive, write, flush */
    double cpu[TK_PHASE_N];   /* the same in CPU time: what they cost on an idle core */
    int64_t received;     /* reviews received from other ranks */
    int64_t flushes;      /* checkpoints */
    double layout;        /* seconds spent writing the layout while the work ran */
    double layout_cpu;    /* the same in CPU time */
    tk_run_summary *sum;
} coord;

/* This process's CPU time (user + system), seconds: rank 0's phases in CPU
 * time are its cost, however many other processes share its core. */
static double cpu_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void coord_fail(coord *c, tk_status st)
{
    if (c->st == TK_OK)
        c->st = st;
    c->stop = true;
}

static void check_signal(coord *c)
{
    if (stop_signal && !c->stop) {
        c->stop = true;
        c->interrupted = true;
    }
}

/* Next unit for rank `dest` (or for rank 0 itself when dest < 0):
 * returns false when there is none. */
static bool take_chunk(coord *c, int64_t *chunk, int64_t *first, int64_t *count)
{
    if (c->stop || c->next >= c->p->n_chunks)
        return false;
    *chunk = c->p->order[c->next++];
    int64_t cs = c->cfg->chunk_size;
    *first = *chunk * cs;
    *count = *first + cs <= c->p->n ? cs : c->p->n - *first;
    return true;
}

/* The reply to a worker: a unit (its reviews' split positions: the worker
 * reads and prepares them; its file row of the first token and its token
 * offsets: the ranks writer writes there), or STOP (count 0). */
static void send_work(coord *c, int dest)
{
    int64_t chunk = -1, first = 0, count = 0;
    /* the root writer's worker is done at STOP; the ranks writer's sends
     * its "synced" message first */
    if (!take_chunk(c, &chunk, &first, &count) && !c->ranks_writer)
        c->active--;
    tk_error *err = c->err;
    tk_status st = TK_OK;
    /* the slot's last message went two requests ago: that rank has answered
     * since, so the wait returns at once */
    int slot = dest * REQUESTS_IN_FLIGHT + c->wslot[dest];
    c->wslot[dest] = (c->wslot[dest] + 1) % REQUESTS_IN_FLIGHT;
    MPICHK(MPI_Wait(&c->wreq[slot], MPI_STATUS_IGNORE));
    unsigned char *msg = c->wbuf + (size_t)slot * c->wbuf_size;
    tk_wire_work wk = {.chunk = chunk,
                       .first = first,
                       .count = count,
                       .tok0 = c->p->tok_off[first],
                       .pos = c->p->index + first,
                       .tok_off = c->p->tok_off + first};
    size_t n = tk_wire_pack_work(&wk, msg);
    MPICHK(MPI_Isend(msg, (int)n, MPI_BYTE, dest, TAG_WORK, c->comm, &c->wreq[slot]));
    return;
fail:
    coord_fail(c, st);
    MPI_Abort(MPI_COMM_WORLD, 1); /* a lost reply would hang the worker: last resort */
}

/* Rank 0's own units written so far are synced and marked done (ranks
 * writer). */
static tk_status sync_own(coord *c)
{
    worker *w = c->self;
    if (!c->ranks_writer || !w || tk_slab_unsynced(w->slab) == 0)
        return TK_OK;
    double t0 = tk_now();
    const int64_t *units = NULL;
    int n = 0;
    tk_status st = tk_slab_sync(w->slab, &units, &n, c->err);
    w->phase[TK_PHASE_FLUSH] += tk_now() - t0;
    for (int i = 0; st == TK_OK && i < n; i++) {
        st = tk_writer_mark(c->p->writer, units[2 * i], units[2 * i + 1], c->err);
        c->n_marked += units[2 * i + 1];
    }
    return st;
}

/* Marks done what is on disk; due after checkpoint_every units and
 * checkpoint_seconds (or now when `force`). */
static void checkpoint(coord *c, bool force)
{
    if (c->st != TK_OK || !c->p->writer)
        return;
    double t0 = tk_now();
    if (!force && !(++c->since_ckpt >= c->cfg->checkpoint_every &&
                    t0 - c->last_ckpt >= c->cfg->checkpoint_seconds))
        return;
    tk_status st = sync_own(c);
    if (tk_plan_layout_pending(c->p)) {
        /* marks wait (in memory) for a file that --resume can open */
        if (st != TK_OK)
            coord_fail(c, st);
        return;
    }
    double t1 = tk_now(), u1 = cpu_now();
    if (st == TK_OK)
        st = tk_writer_checkpoint(c->p->writer, c->err);
    c->since_ckpt = 0;
    c->last_ckpt = tk_now();
    c->phase[TK_PHASE_FLUSH] += c->last_ckpt - t1;
    c->cpu[TK_PHASE_FLUSH] += cpu_now() - u1;
    c->busy += c->last_ckpt - t1;
    c->flushes++;
    if (st != TK_OK)
        coord_fail(c, st);
}

/* A unit's reviews are in the file (root writer: put now; ranks writer:
 * written by their rank): progress, and the statistics of r when given. */
static void unit_in(coord *c, const tk_chunk_result *r, int64_t count)
{
    if (r)
        tk_run_stats_add(c->sum->methods, tk_wire_stat_methods(r->n_methods), c->cfg->methods, r,
                         c->p->tok_off + r->first);
    c->n_done += count;
    tk_progress_update(&c->prog, c->n_done);
}

/* A result rank 0 holds: its own (both writers) or received (root writer). */
static void record(coord *c, const tk_chunk_result *r)
{
    if (c->p->writer == NULL || c->st != TK_OK)
        return;
    double t0 = tk_now(), u0 = cpu_now();
    tk_status st;
    if (c->ranks_writer) {
        /* rank 0 computing is one of the computing ranks: its pwrite is
         * its computing side's time, not the coordinator's */
        worker *w = c->self;
        st = tk_slab_put(w->slab, r, c->p->tok_off[r->first], c->err);
        w->phase[TK_PHASE_WRITE] += tk_now() - t0;
        if (st == TK_OK && tk_slab_unsynced(w->slab) >= TK_WIRE_SYNC_MAX)
            checkpoint(c, true);
    } else {
        st = tk_writer_put(c->p->writer, r, c->err);
        c->n_marked += r->count;
        c->phase[TK_PHASE_WRITE] += tk_now() - t0;
        c->cpu[TK_PHASE_WRITE] += cpu_now() - u0;
        c->busy += tk_now() - t0;
    }
    if (st != TK_OK) {
        coord_fail(c, st);
        return;
    }
    unit_in(c, r, r->count);
    checkpoint(c, false);
}

/* Marks the synced pairs (n, (first, count)) of a ranks writer's message. */
static tk_status mark_synced(coord *c, const int64_t *pairs, int64_t n, int src)
{
    for (int64_t i = 0; i < n; i++) {
        tk_status st = tk_writer_mark(c->p->writer, pairs[2 * i], pairs[2 * i + 1], c->err);
        if (st != TK_OK) {
            tk_error_prefix(c->err, "rank %d's synced units", src);
            return st;
        }
        c->n_marked += pairs[2 * i + 1];
    }
    return TK_OK;
}

/* A ranks writer's message (tag TAG_RESULT "written" or TAG_SYNCED, wire.h),
 * in c->rbuf. Returns the "written" message's stop flag. */
static int64_t take_ranks_message(coord *c, int tag, int bytes, int src)
{
    tk_error *err = c->err;
    tk_status st;
    if (tag == TAG_SYNCED) {
        tk_wire_synced m;
        if ((st = tk_wire_parse_synced(c->rbuf, (size_t)bytes, &m, err)) != TK_OK)
            goto bad;
        st = c->st == TK_OK ? mark_synced(c, m.synced, m.n_synced, src) : TK_OK;
        if (st != TK_OK)
            coord_fail(c, st);
        if (m.failed && c->st == TK_OK) {
            tk_error_set(err, TK_E_IO, "rank %d: %s", src, m.message);
            coord_fail(c, TK_E_IO);
        }
        c->active--;
        return 0;
    }
    tk_wire_written m;
    if ((st = tk_wire_parse_written(c->rbuf, (size_t)bytes, c->cfg->n_methods, &m, err)) != TK_OK)
        goto bad;
    st = c->st == TK_OK ? mark_synced(c, m.synced, m.n_synced, src) : TK_OK;
    if (st != TK_OK)
        coord_fail(c, st);
    if (m.count > 0) {
        tk_run_stats_merge(c->sum->methods, m.stats, tk_wire_stat_methods(c->cfg->n_methods));
        c->received += m.count;
        unit_in(c, NULL, m.count);
    }
    return m.stop;
bad:
    tk_error_prefix(err, "rank %d sent a malformed message", src);
    coord_fail(c, TK_E_INTERNAL);
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 0;
}

/* Receives one message (blocking when `wait`); returns false if none. */
static bool serve_one(coord *c, bool wait)
{
    MPI_Status s;
    int flag = 1;
    tk_error *err = c->err;
    tk_status st = TK_OK;
    if (wait)
        MPICHK(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, c->comm, &s));
    else
        MPICHK(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, c->comm, &flag, &s));
    if (!flag)
        return false;
    int bytes = 0;
    double t0 = tk_now(), u0 = cpu_now();
    MPICHK(MPI_Get_count(&s, MPI_BYTE, &bytes));
    if ((size_t)bytes > c->rbuf_size) {
        st = tk_error_set(err, TK_E_INTERNAL, "rank %d sent a message larger than any result",
                          s.MPI_SOURCE);
        goto fail;
    }
    MPICHK(MPI_Recv(c->rbuf, bytes, MPI_BYTE, s.MPI_SOURCE, s.MPI_TAG, c->comm,
                    MPI_STATUS_IGNORE));
    if (s.MPI_TAG == TAG_ERROR) {
        c->rbuf[bytes > 0 ? bytes - 1 : 0] = '\0';
        if (c->st == TK_OK)
            tk_error_set(err, TK_E_INVALID, "rank %d: %s", s.MPI_SOURCE, (char *)c->rbuf);
        coord_fail(c, TK_E_INVALID);
        send_work(c, s.MPI_SOURCE); /* STOP */
        return true;
    }
    int64_t chunk = -1, stop = 0, before = c->received;
    if (c->ranks_writer)
        stop = take_ranks_message(c, s.MPI_TAG, bytes, s.MPI_SOURCE);
    else
        tk_wire_unpack_result(c->rbuf, &c->in, &chunk, &stop);
    c->phase[TK_PHASE_RECEIVE] += tk_now() - t0;
    c->cpu[TK_PHASE_RECEIVE] += cpu_now() - u0;
    if (!c->ranks_writer)
        c->received += c->in.count;
    if (stop && !c->stop) {
        c->stop = true;
        c->interrupted = true;
    }
    check_signal(c);
    if (s.MPI_TAG == TAG_SYNCED)
        return true; /* that rank is done */
    /* reply first, so the worker computes while we write */
    send_work(c, s.MPI_SOURCE);
    if (!c->ranks_writer && c->in.count > 0)
        record(c, &c->in);
    else if (c->ranks_writer && c->received > before)
        checkpoint(c, false);
    return true;
fail:
    coord_fail(c, st);
    MPI_Abort(MPI_COMM_WORLD, 1);
    return false;
}

static void serve_pending(void *ctx)
{
    coord *c = ctx;
    check_signal(c);
    while (c->active > 0 && serve_one(c, false))
        ;
}

/* Reviews of the layout written per step, with a look at the other ranks'
 * messages before it, between its pieces and after it: a few milliseconds
 * between looks, less than a unit takes to explain, so that a worker's
 * second unit in flight covers them. */
enum { LAYOUT_STEP = 128 };

/* One step of a fresh file's layout (written while the other ranks work;
 * before rank 0's own units, on two ranks), then the messages that came
 * meanwhile. Its last step renames the file to .partial: from then on
 * checkpoints mark units done. A stop signal does not cut it short (the
 * file would not be resumable). */
static void layout_step(coord *c)
{
    serve_pending(c);
    double t0 = tk_now(), u0 = cpu_now();
    double served = c->phase[TK_PHASE_RECEIVE], served_cpu = c->cpu[TK_PHASE_RECEIVE];
    tk_status st = tk_plan_layout_step(c->p, LAYOUT_STEP, serve_pending, c, c->err);
    c->layout += tk_now() - t0 - (c->phase[TK_PHASE_RECEIVE] - served);
    c->layout_cpu += cpu_now() - u0 - (c->cpu[TK_PHASE_RECEIVE] - served_cpu);
    if (st != TK_OK) {
        coord_fail(c, st);
        return;
    }
    if (!tk_plan_layout_pending(c->p)) {
        /* the dataset's header was for the layout's words: freed before the work */
        tk_dataset_destroy(c->p->ds);
        c->p->ds = NULL;
        serve_pending(c);
        checkpoint(c, true);
    }
    serve_pending(c);
}

static tk_status coordinate(coord *c, worker *self, tk_error *err)
{
    tk_status st = TK_OK;
    for (;;) {
        check_signal(c);
        if (tk_plan_layout_pending(c->p) && c->st == TK_OK) {
            layout_step(c);
            continue;
        }
        int64_t chunk, first, count;
        if (self && take_chunk(c, &chunk, &first, &count)) {
            double t0 = tk_now(), served = c->phase[TK_PHASE_RECEIVE] + c->phase[TK_PHASE_WRITE] +
                                           c->phase[TK_PHASE_FLUSH];
            st = worker_unit(self, c->p->index + first, first, count,
                             c->active > 0 ? serve_pending : NULL, c, err);
            served = c->phase[TK_PHASE_RECEIVE] + c->phase[TK_PHASE_WRITE] +
                     c->phase[TK_PHASE_FLUSH] - served;
            self->phase[TK_PHASE_COMPUTE] += tk_now() - t0 - served;
            if (st != TK_OK)
                coord_fail(c, st);
            else
                record(c, tk_compute_result(self->comp));
            serve_pending(c);
            continue;
        }
        if (c->active == 0)
            break;
        serve_one(c, true);
    }
    /* rank 0's own last units: on disk and marked before the close */
    if ((st = sync_own(c)) != TK_OK)
        coord_fail(c, st);
    return c->st;
}

/* ---- other ranks ----------------------------------------------------------- */

/* The ranks writer on a worker: whether its written units are due to be
 * synced (the job's checkpoint settings, or a full hold). */
static bool sync_due(const worker *w)
{
    int held = tk_slab_unsynced(w->slab);
    return held > 0 && (held >= TK_WIRE_SYNC_MAX || (w->since_sync >= w->ckpt_every &&
                                             tk_now() - w->last_sync >= w->ckpt_seconds));
}

/* The units now on disk: (n, 2) first, count. */
static tk_status worker_sync(worker *w, const int64_t **units, int *n, tk_error *err)
{
    double t0 = tk_now();
    tk_status st = tk_slab_sync(w->slab, units, n, err);
    w->last_sync = tk_now();
    w->phase[TK_PHASE_FLUSH] += w->last_sync - t0;
    w->since_sync = 0;
    return st;
}

/* A worker's unit written (ranks writer), synced when due, and its
 * "written" message with the unit's statistics packed at buf (*n bytes). */
static tk_status worker_write(worker *w, const tk_chunk_result *r, int64_t t0,
                              const int64_t *tok_off, int64_t chunk, unsigned char *buf,
                              size_t *n, tk_error *err)
{
    double t = tk_now();
    tk_status st = tk_slab_put(w->slab, r, t0, err);
    w->phase[TK_PHASE_WRITE] += tk_now() - t;
    if (st != TK_OK)
        return st;
    w->since_sync++;
    const int64_t *units = NULL;
    int n_units = 0;
    if (sync_due(w) && (st = worker_sync(w, &units, &n_units, err)) != TK_OK)
        return st;
    tk_wire_written m = {.first = r->first,
                         .count = r->count,
                         .chunk = chunk,
                         .stop = stop_signal != 0,
                         .n_synced = n_units,
                         .synced = units};
    tk_run_stats_add(m.stats, tk_wire_stat_methods(w->n_methods), w->methods, r, tok_off);
    *n = tk_wire_pack_written(&m, w->n_methods, buf);
    return TK_OK;
}

static tk_status work(worker *w, MPI_Comm comm, tk_error *err)
{
    tk_status st = TK_OK, failed = TK_OK;
    size_t s = (size_t)w->steps, cs = (size_t)w->cs;
    size_t wmax = tk_wire_work_bytes(w->cs);
    size_t rmax = w->slab ? tk_wire_written_bytes(w->n_methods) + TK_ERROR_MAX
                          : tk_wire_result_bytes(w->cs, (int64_t)(cs * s), w->n_out, w->n_methods,
                                         tk_compute_result(w->comp)->faith_k1);
    unsigned char *wbuf = tk_malloc(wmax, 1, err), *rbuf = tk_malloc(rmax, 1, err);
    int64_t *pos = tk_malloc(cs, sizeof *pos, err);      /* (cs) a unit's split positions */
    int64_t *tok = tk_malloc(cs + 1, sizeof *tok, err);  /* (cs + 1) its token offsets */
    if (!wbuf || !rbuf || !pos || !tok) {
        st = TK_E_NOMEM;
        goto fail;
    }
    /* the first request is an empty result */
    size_t n;
    if (w->slab) {
        tk_wire_written none = {.chunk = -1};
        n = tk_wire_pack_written(&none, w->n_methods, rbuf);
    } else {
        tk_chunk_result empty = *tk_compute_result(w->comp);
        empty.count = empty.tc = 0;
        n = tk_wire_pack_result(&empty, -1, 0, rbuf);
    }
    /* Two requests in flight: the next unit is already here when one is
     * done, however long rank 0 takes to answer (a step of the layout,
     * another node). Every unit's result is a request again and a STOP is
     * not, so exactly two STOPs come, the last message rank 0 sends. */
    for (int k = 0; k < REQUESTS_IN_FLIGHT; k++)
        MPICHK(MPI_Send(rbuf, (int)n, MPI_BYTE, ROOT, TAG_RESULT, comm));
    double t_wait = tk_now();
    w->last_sync = t_wait;
    int stops = 0;
    for (;;) {
        MPI_Status ms;
        MPICHK(MPI_Recv(wbuf, (int)wmax, MPI_BYTE, ROOT, TAG_WORK, comm, &ms));
        double t_compute = tk_now();
        w->phase[TK_PHASE_WAIT] += t_compute - t_wait;
        int got = 0;
        MPICHK(MPI_Get_count(&ms, MPI_BYTE, &got));
        tk_wire_work wk;
        if ((st = tk_wire_parse_work(wbuf, (size_t)got, w->cs, &wk, pos, tok, err)) != TK_OK) {
            /* rank 0 is not speaking this format: nobody can go on */
            fprintf(stderr, "tokattr run: rank 0 sent a malformed message: %s\n", err->msg);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        if (wk.count == 0) {
            if (++stops == REQUESTS_IN_FLIGHT)
                break;
            continue;
        }
        tk_error werr = {0};
        tk_status cst = worker_unit(w, wk.pos, wk.first, wk.count, NULL, NULL, &werr);
        t_wait = tk_now();
        w->phase[TK_PHASE_COMPUTE] += t_wait - t_compute;
        if (cst == TK_OK && w->slab)
            cst = worker_write(w, tk_compute_result(w->comp), wk.tok0, wk.tok_off, wk.chunk,
                               rbuf, &n, &werr);
        else if (cst == TK_OK)
            n = tk_wire_pack_result(tk_compute_result(w->comp), wk.chunk, stop_signal != 0, rbuf);
        if (cst != TK_OK) {
            failed = cst;
            tk_error_set(err, cst, "%s", werr.msg);
            MPICHK(MPI_Send(werr.msg, (int)strlen(werr.msg) + 1, MPI_CHAR, ROOT, TAG_ERROR, comm));
            continue; /* the reply is STOP */
        }
        t_wait = tk_now();
        MPICHK(MPI_Send(rbuf, (int)n, MPI_BYTE, ROOT, TAG_RESULT, comm));
    }
    if (w->slab) {
        /* STOP: what this rank wrote reaches the disk, then rank 0 marks it */
        tk_error serr = {0};
        const int64_t *units = NULL;
        int n_units = 0;
        tk_status sst = worker_sync(w, &units, &n_units, &serr);
        tk_wire_synced m = {.n_synced = n_units,
                            .synced = units,
                            .failed = sst != TK_OK,
                            .message = serr.msg};
        n = tk_wire_pack_synced(&m, rbuf);
        MPICHK(MPI_Send(rbuf, (int)n, MPI_BYTE, ROOT, TAG_SYNCED, comm));
    }
    st = failed;
fail:
    free(wbuf);
    free(rbuf);
    free(pos);
    free(tok);
    if (st == TK_E_MPI)
        MPI_Abort(MPI_COMM_WORLD, 1); /* rank 0 would wait for us forever */
    return st;
}

/* ---- weights: one copy per node -------------------------------------------- */

/* The ranks' nodes: a node is one shared-memory domain (a host), or, with
 * ranks_per_node k > 0, each group of k consecutive ranks of a host, so
 * that one host runs the multi-node path (a window and a leader per group,
 * the broadcast among leaders). Key: the world rank, so node rank 0 of
 * rank 0's node is rank 0. */
static tk_status split_nodes(MPI_Comm world, int k, MPI_Comm *node, tk_error *err)
{
    tk_status st = TK_OK;
    int rank = 0, host_rank = 0;
    MPI_Comm host = MPI_COMM_NULL;
    MPICHK(MPI_Comm_rank(world, &rank));
    MPICHK(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &host));
    if (k <= 0) {
        *node = host;
        return TK_OK;
    }
    MPICHK(MPI_Comm_rank(host, &host_rank));
    MPICHK(MPI_Comm_split(host, host_rank / k, rank, node));
    MPI_Comm_free(&host);
    return TK_OK;
fail:
    MPI_Abort(MPI_COMM_WORLD, 1);
    return st;
}

/* Each node leader checks that the weights in its window are rank 0's
 * (SHA-256, rank 0's digest broadcast): a wrong copy would silently give
 * one node's reviews other scores. Once, about 10 ms per MB on a loaded
 * core (SHA-256 here runs near 100 MB/s). */
static tk_status check_weights(MPI_Comm world, MPI_Comm leaders, const float *base,
                               size_t n_params, int rank, int node_index, tk_error *err)
{
    tk_status st = TK_OK;
    char mine[65], root[65];
    if (leaders != MPI_COMM_NULL) {
        tk_sha256_buffer_hex(base, n_params * sizeof *base, mine);
        memcpy(root, mine, sizeof root);
        MPICHK(MPI_Bcast(root, (int)sizeof root, MPI_CHAR, 0, leaders));
        if (memcmp(root, mine, sizeof root) != 0)
            st = tk_error_set(err, TK_E_MPI,
                              "rank %d (leader of node %d): the model weights it received from "
                              "rank 0 differ from rank 0's (SHA-256 %.16s..., rank 0 %.16s...)",
                              rank, node_index, mine, root);
    }
    return agree(world, st, err);
fail:
    MPI_Abort(MPI_COMM_WORLD, 1);
    return st;
}

/* Only rank 0 reads the model file. The other ranks get the layer configs
 * (plain structs; their weight pointers are ignored by
 * tk_model_from_layers) and build the same model over the node's shared
 * window; the first rank of every other node receives the weights once, by
 * broadcast among the node leaders. */
static tk_status share_model(MPI_Comm world, const tk_run_config *cfg, tk_model **loaded,
                             tk_model **out, MPI_Comm *node, MPI_Win *win, float **window,
                             int *node_index, tk_run_summary *sum, tk_error *err)
{
    tk_status st = TK_OK;
    int rank = 0, node_rank = 0, node_size = 1;
    float *base = NULL;
    tk_model *shape = NULL; /* non-root ranks: the structure, zeroed params */
    tk_layer *layers = NULL;
    MPI_Comm leaders = MPI_COMM_NULL;
    MPICHK(MPI_Comm_rank(world, &rank));
    /* rank 0's node settings for all: the environment may differ per host */
    int opt[1] = {cfg->ranks_per_node};
    MPICHK(MPI_Bcast(opt, 1, MPI_INT, ROOT, world));
    if ((st = split_nodes(world, opt[0], node, err)) != TK_OK)
        goto done;
    MPICHK(MPI_Comm_rank(*node, &node_rank));
    MPICHK(MPI_Comm_size(*node, &node_size));
    /* rank 0 is node rank 0 of its node, and leader 0 */
    MPICHK(MPI_Comm_split(world, node_rank == 0 ? 0 : MPI_UNDEFINED, rank, &leaders));
    *node_index = 0;
    if (leaders != MPI_COMM_NULL)
        MPICHK(MPI_Comm_rank(leaders, node_index));
    MPICHK(MPI_Bcast(node_index, 1, MPI_INT, 0, *node));
    int is_leader = node_rank == 0, size_max = node_size, size_min = node_size;
    MPICHK(MPI_Allreduce(MPI_IN_PLACE, &is_leader, 1, MPI_INT, MPI_SUM, world));
    MPICHK(MPI_Allreduce(MPI_IN_PLACE, &size_max, 1, MPI_INT, MPI_MAX, world));
    MPICHK(MPI_Allreduce(MPI_IN_PLACE, &size_min, 1, MPI_INT, MPI_MIN, world));
    sum->nodes = is_leader;
    sum->node_ranks_min = size_min;
    sum->node_ranks_max = size_max;

    long long head[4] = {0, 0, 0, 0}; /* n_layers, maxlen, input_dim, n_params */
    if (rank == ROOT)
        head[0] = (*loaded)->n_layers, head[1] = (*loaded)->maxlen,
        head[2] = (*loaded)->input_dim, head[3] = (long long)(*loaded)->n_params;
    MPICHK(MPI_Bcast(head, 4, MPI_LONG_LONG, ROOT, world));
    size_t n_params = (size_t)head[3];
    sum->weight_bytes = n_params * sizeof(float);
    layers = rank == ROOT ? (*loaded)->layers : tk_calloc((size_t)head[0], sizeof *layers, err);
    if (!layers) {
        st = TK_E_NOMEM;
    }
    if ((st = agree(world, st, err)) != TK_OK)
        goto done;
    MPICHK(MPI_Bcast(layers, (int)(head[0] * (long long)sizeof *layers), MPI_BYTE, ROOT, world));
    if (rank != ROOT) {
        st = tk_model_from_layers(layers, (int)head[0], (int)head[1], (int)head[2], &shape, err);
        if (st == TK_OK && shape->n_params != n_params)
            st = tk_error_set(err, TK_E_INTERNAL,
                              "the model rebuilt from its layers has %zu parameters, the file %zu",
                              shape->n_params, n_params);
    }
    if ((st = agree(world, st, err)) != TK_OK)
        goto done;

    MPI_Aint bytes = node_rank == 0 ? (MPI_Aint)(n_params * sizeof(float)) : 0;
    MPICHK(MPI_Win_allocate_shared(bytes, sizeof(float), MPI_INFO_NULL, *node, &base, win));
    if (node_rank != 0) {
        MPI_Aint size;
        int disp;
        MPICHK(MPI_Win_shared_query(*win, 0, &size, &disp, &base));
    }
    *window = base;
    MPICHK(MPI_Win_fence(0, *win));
    if (rank == ROOT)
        memcpy(base, (*loaded)->params, n_params * sizeof(float));
    if (leaders != MPI_COMM_NULL) {
        /* counts beyond INT_MAX in pieces */
        for (size_t o = 0; o < n_params; o += (size_t)1 << 30) {
            size_t c = n_params - o < ((size_t)1 << 30) ? n_params - o : (size_t)1 << 30;
            MPICHK(MPI_Bcast(base + o, (int)c, MPI_FLOAT, 0, leaders));
        }
    }
    /* (one node: nothing was broadcast) */
    if (sum->nodes > 1 &&
        (st = check_weights(world, leaders, base, n_params, rank, *node_index, err)) != TK_OK)
        goto done;
    MPICHK(MPI_Win_fence(0, *win));
    st = tk_model_clone_with_params(rank == ROOT ? *loaded : shape, base, false, out, err);
    st = agree(world, st, err);
done:
    if (rank != ROOT)
        free(layers);
    tk_model_destroy(shape);
    tk_model_destroy(*loaded);
    *loaded = NULL;
    if (leaders != MPI_COMM_NULL)
        MPI_Comm_free(&leaders);
    return st;
fail:
    MPI_Abort(MPI_COMM_WORLD, 1);
    return st;
}

/* ---- the weight windows as the kernel sees them (Linux) ------------------- */

typedef struct mapping_info {
    long long pss_kb, size_kb; /* of the mapping that holds the window */
    long long rank_pss_kb;     /* the whole process (smaps_rollup) */
    long long dev, inode;      /* which file backs it: the same on one node */
} mapping_info;

/* The mapping of /proc/self/smaps that contains addr; -1 where unknown. */
static void find_mapping(const void *addr, mapping_info *m)
{
    m->pss_kb = m->size_kb = m->rank_pss_kb = m->dev = m->inode = -1;
    uintptr_t a = (uintptr_t)addr;
    char line[1024];
    FILE *f = fopen("/proc/self/smaps", "r");
    bool in = false, found = false;
    while (f && addr && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off;
        unsigned maj, min;
        unsigned long long ino;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %llu", &lo, &hi, perms, &off, &maj, &min, &ino) ==
            7) {
            if (found)
                break;
            in = found = a >= lo && a < hi;
            if (in) {
                m->size_kb = (long long)((hi - lo) / 1024);
                m->dev = (long long)maj << 20 | min;
                m->inode = (long long)ino;
            }
        } else if (in) {
            sscanf(line, "Pss: %lld kB", &m->pss_kb);
        }
    }
    if (f)
        fclose(f);
    if ((f = fopen("/proc/self/smaps_rollup", "r"))) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Pss: %lld kB", &m->rank_pss_kb) == 1)
                break;
        fclose(f);
    }
}

/* Every rank's window mapping, listed by rank 0 (cfg->window_report): the
 * tests count the distinct windows and sum their PSS. Called while every
 * rank still maps its window. */
static void report_windows(MPI_Comm world, const float *window, int node_index,
                           const tk_run_summary *sum, FILE *out)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(world, &rank);
    MPI_Comm_size(world, &size);
    mapping_info m;
    find_mapping(window, &m);
    long long row[6] = {node_index, m.dev, m.inode, m.size_kb, m.pss_kb, m.rank_pss_kb};
    if (rank == ROOT)
        fprintf(out, "windows: %d node(s), weights %zu bytes\n", sum->nodes, sum->weight_bytes);
    /* one row at a time (a diagnostic: no buffer to fail to allocate) */
    for (int r = 0; r < size; r++) {
        if (r != ROOT && rank == r)
            MPI_Send(row, 6, MPI_LONG_LONG, ROOT, TAG_WORK, world);
        if (rank != ROOT)
            continue;
        long long x[6];
        if (r == ROOT)
            memcpy(x, row, sizeof x);
        else if (MPI_Recv(x, 6, MPI_LONG_LONG, r, TAG_WORK, world, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            continue;
        fprintf(out,
                "window: rank %d node %lld file %llx:%lld mapping %lld kB window PSS %lld kB "
                "rank PSS %lld kB\n",
                r, x[0], (unsigned long long)x[1], x[2], x[3], x[4], x[5]);
    }
}

/* ---- timers ---------------------------------------------------------------- */

/* The phases over the ranks (CoMD's timer table): rank 0's figure, and
 * min / mean / max over the ranks with time in the phase. */
static void reduce_timers(MPI_Comm world, const double *wphase, const double *cphase,
                          tk_run_summary *sum)
{
    double t[TK_PHASE_N], lo[TK_PHASE_N], hi[TK_PHASE_N], total[TK_PHASE_N];
    int ran[TK_PHASE_N], n[TK_PHASE_N];
    for (int i = 0; i < TK_PHASE_N; i++) {
        t[i] = wphase[i] + cphase[i];
        ran[i] = t[i] > 0;
        lo[i] = ran[i] ? t[i] : 1e300;
    }
    double lomin[TK_PHASE_N];
    int rank = 0;
    MPI_Comm_rank(world, &rank);
    /* a diagnostic: a failed reduction leaves the table empty */
    if (MPI_Reduce(t, hi, TK_PHASE_N, MPI_DOUBLE, MPI_MAX, ROOT, world) != MPI_SUCCESS ||
        MPI_Reduce(t, total, TK_PHASE_N, MPI_DOUBLE, MPI_SUM, ROOT, world) != MPI_SUCCESS ||
        MPI_Reduce(ran, n, TK_PHASE_N, MPI_INT, MPI_SUM, ROOT, world) != MPI_SUCCESS ||
        MPI_Reduce(lo, lomin, TK_PHASE_N, MPI_DOUBLE, MPI_MIN, ROOT, world) != MPI_SUCCESS ||
        rank != ROOT)
        return;
    for (int i = 0; i < TK_PHASE_N; i++) {
        tk_run_timer *x = &sum->timers[i];
        x->rank0 = t[i];
        x->ranks = n[i];
        x->max = hi[i];
        x->min = n[i] > 0 ? lomin[i] : 0;
        x->mean = n[i] > 0 ? total[i] / n[i] : 0;
    }
}

/* ---- the ranks writer's start ---------------------------------------------- */

/* Rank 0's writer lets go of the results datasets; the region table and
 * the proof of the file go to every rank, and each computing rank opens
 * the results path as it resolves it on its node, after checking that it
 * is rank 0's file (not a node-local namesake). */
static tk_status open_slabs(MPI_Comm world, const tk_run_config *cfg, tk_plan *p, worker *w,
                            bool computes, bool layout_pending, tk_error *err)
{
    tk_status st = TK_OK;
    int rank = 0, n_reg = 0;
    MPI_Comm_rank(world, &rank);
    const tk_result_region *reg = NULL;
    tk_result_region *got = NULL; /* (n_reg) rank 0's table, on the other ranks */
    tk_slab_proof proof;
    memset(&proof, 0, sizeof proof);
    /* the file's name now: the layout's temporary one until it is written */
    char path[4310];
    tk_run_partial_path(cfg->output_path, path, sizeof path - 4);
    if (layout_pending)
        strcat(path, ".new");
    if (rank == ROOT) {
        st = tk_writer_release_results(p->writer, err);
        reg = tk_writer_regions(p->writer, &n_reg);
        if (st == TK_OK)
            st = tk_slab_proof_of(tk_plan_file_path(p), reg, n_reg, &proof, err);
    }
    if ((st = agree(world, st, err)) != TK_OK)
        return st;
    MPICHK(MPI_Bcast(&n_reg, 1, MPI_INT, ROOT, world));
    MPICHK(MPI_Bcast(&proof, (int)sizeof proof, MPI_BYTE, ROOT, world));
    if (rank != ROOT) {
        got = tk_malloc((size_t)(n_reg > 0 ? n_reg : 1), sizeof *got, err);
        st = got ? TK_OK : TK_E_NOMEM;
        reg = got;
    }
    if ((st = agree(world, st, err)) != TK_OK)
        goto done;
    MPICHK(MPI_Bcast((void *)reg, (int)((size_t)n_reg * sizeof *reg), MPI_BYTE, ROOT, world));
    if (computes) {
        st = tk_slab_open(path, &proof, reg, n_reg, &w->slab, err);
        if (st != TK_OK)
            tk_error_prefix(err, "rank %d", rank);
    }
    st = agree(world, st, err);
done:
    free(got);
    return st;
fail:
    MPI_Abort(MPI_COMM_WORLD, 1);
    return st;
}

/* ---- the whole run ----------------------------------------------------------- */

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

/* Rank 0 after the work: the final flush, the rename that publishes a
 * complete file, the summary. */
static tk_status finish_root(const tk_run_config *cfg, coord *c, tk_run_summary *sum,
                             tk_error *err)
{
    tk_plan *p = c->p;
    tk_status st = c->st;
    bool all = c->n_marked == p->n;
    if (tk_plan_layout_pending(p)) {
        /* failed before the file had its layout: nothing to resume */
        tk_plan_layout_discard(p);
        sum->n_done = 0;
        if (st == TK_OK)
            st = tk_error_set(err, TK_E_INTERNAL, "the results layout was left unfinished");
        tk_error_prefix(err, "no results file was kept (it had no complete layout yet)");
        return st;
    }
    tk_error cerr = {0};
    tk_status cst = tk_writer_close(p->writer, all && st == TK_OK, &cerr);
    p->writer = NULL;
    if (st == TK_OK && cst != TK_OK) {
        tk_error_set(err, cst, "%s", cerr.msg);
        st = cst;
    }
    if (st == TK_OK && all) {
        if (rename(p->partial, cfg->output_path) != 0)
            st = tk_error_set(err, TK_E_IO, "%s: cannot rename the finished results to %s: %s",
                              p->partial, cfg->output_path, strerror(errno));
        else
            snprintf(sum->final_path, sizeof sum->final_path, "%s", cfg->output_path);
    } else if (st == TK_OK) {
        snprintf(sum->final_path, sizeof sum->final_path, "%s", p->partial);
        st = tk_error_set(err, TK_E_INTERRUPTED,
                          "%s: stopped by a signal after %lld of %lld reviews; the file is "
                          "resumable: run the same command with --resume",
                          p->partial, (long long)c->n_marked, (long long)p->n);
    } else if (st != TK_E_INTERRUPTED) {
        tk_error_prefix(err, "%s is resumable after the cause is fixed", p->partial);
    }
    sum->n_done = c->n_marked;
    tk_run_stats_finish(sum->methods, sum->n_methods);
    return st;
}

tk_status tk_run(int *argc, char ***argv, const tk_run_config *cfg, tk_run_summary *sum,
                 tk_error *err)
{
    memset(sum, 0, sizeof *sum);
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(argc, argv) != MPI_SUCCESS)
        return tk_error_set(err, TK_E_MPI, "MPI_Init failed");
    MPI_Comm world = MPI_COMM_WORLD;
    MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN);
    install_handlers();
    tk_blas_single_thread();
    int rank = 0, size = 1;
    MPI_Comm_rank(world, &rank);
    MPI_Comm_size(world, &size);
    sum->is_root = rank == ROOT;
    char partial[4300];
    tk_run_partial_path(cfg->output_path, partial, sizeof partial);
    tk_stop_deadline_setup(cfg->stop_deadline_seconds, rank == ROOT, partial);
    sum->recorded_accuracy = NAN;
    sum->ranks = size;
    sum->n_methods = cfg->n_methods < 16 ? cfg->n_methods : 16;
    for (int k = 0; k < sum->n_methods; k++)
        snprintf(sum->methods[k].name, sizeof sum->methods[k].name, "%s", cfg->methods[k].name);

    double t_setup = tk_now();
    tk_plan p;
    memset(&p, 0, sizeof p);
    worker w;
    memset(&w, 0, sizeof w);
    coord c;
    memset(&c, 0, sizeof c);
    tk_model *model = NULL;
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Win win = MPI_WIN_NULL;
    bool complete = false, computes = rank != ROOT || size <= 2;
    tk_status st = rank == ROOT ? tk_plan_setup(cfg, size, &p, &complete, err) : TK_OK;
    if ((st = agree(world, st, err)) != TK_OK)
        goto done;
    /* rank 0's choice of writer counts */
    int head[4] = {complete, p.steps, (int)cfg->writer, tk_plan_layout_pending(&p)};
    MPICHK(MPI_Bcast(head, 4, MPI_INT, ROOT, world));
    bool ranks_writer = head[2] == TK_WRITER_RANKS;
    if (head[0]) {
        sum->already_complete = true;
        sum->n_reviews = sum->n_done = sum->n_done_before = p.n;
        snprintf(sum->final_path, sizeof sum->final_path, "%s", cfg->output_path);
        goto done;
    }
    int steps = head[1];
    /* how reviews become model inputs: every computing rank prepares its own */
    MPICHK(MPI_Bcast(&p.spec, (int)sizeof p.spec, MPI_BYTE, ROOT, world));
    w.spec = p.spec;
    float *window = NULL;
    int node_index = 0;
    if ((st = share_model(world, cfg, &p.model, &model, &node, &win, &window, &node_index, sum,
                          err)) != TK_OK)
        goto done;

    /* embedding-less models: rank 0's id -> vector table, broadcast */
    int64_t vh[2] = {p.wv_n_ids, p.wv_dim};
    MPICHK(MPI_Bcast(vh, 2, MPI_INT64_T, ROOT, world));
    if (vh[0] > 0) {
        if (vh[0] * vh[1] > INT_MAX) {
            st = tk_error_set(err, TK_E_UNSUPPORTED, "the word-vector table of %lld ids is too large to share",
                              (long long)vh[0]);
            goto done;
        }
        float *t = rank == ROOT ? p.wv_table : tk_malloc((size_t)(vh[0] * vh[1]), sizeof *t, err);
        st = t ? TK_OK : TK_E_NOMEM;
        if ((st = agree(world, st, err)) != TK_OK)
            goto done;
        MPICHK(MPI_Bcast(t, (int)(vh[0] * vh[1]), MPI_FLOAT, ROOT, world));
        if (rank == ROOT)
            p.wv_table = NULL;
        if (computes) {
            w.vtab = t;
            w.vtab_n = vh[0];
        } else {
            free(t);
        }
    }

    /* DeepSHAP backgrounds: prepared on rank 0, broadcast */
    if (computes) {
        w.n_methods = cfg->n_methods;
        w.bg = tk_calloc((size_t)cfg->n_methods, sizeof *w.bg, err);
    }
    st = (computes && !w.bg) ? TK_E_NOMEM : TK_OK;
    int32_t *bgbuf = NULL;
    for (int k = 0; k < cfg->n_methods && st == TK_OK; k++) {
        const tk_method_params *mp = &cfg->methods[k];
        if (mp->kind != TK_METHOD_DEEPSHAP)
            continue;
        size_t nb = (size_t)mp->background_size * (size_t)steps;
        bgbuf = tk_malloc(nb, sizeof *bgbuf, err);
        if (!bgbuf) {
            st = TK_E_NOMEM;
            break;
        }
        if (rank == ROOT)
            st = tk_plan_background(cfg, &p, mp, bgbuf, err);
        MPICHK(MPI_Bcast(bgbuf, (int)nb, MPI_INT32_T, ROOT, world));
        if (computes)
            w.bg[k] = bgbuf;
        else
            free(bgbuf);
        bgbuf = NULL;
    }
    if (st == TK_OK && computes)
        st = worker_init(&w, cfg, model, steps, err);
    if ((st = agree(world, st, err)) != TK_OK)
        goto done;
    if (ranks_writer && (st = open_slabs(world, cfg, &p, &w, computes, head[3], err)) != TK_OK)
        goto done;
    if (rank == ROOT && !head[3]) {
        /* the dataset is no longer needed: its memory goes before the work
         * (with a layout to write, after it) */
        tk_dataset_destroy(p.ds);
        p.ds = NULL;
    }
    sum->setup_seconds = tk_now() - t_setup;

    double t_work = tk_now();
    if (rank == ROOT) {
        c.cfg = cfg;
        c.p = &p;
        c.comm = world;
        c.ranks_writer = ranks_writer;
        c.self = computes ? &w : NULL;
        /* the root writer's workers are done at their last STOP, the ranks
         * writer's at their "synced" message */
        c.active = ranks_writer ? size - 1 : REQUESTS_IN_FLIGHT * (size - 1);
        c.err = err;
        c.sum = sum;
        c.last_ckpt = tk_now();
        size_t cs = (size_t)cfg->chunk_size, s = (size_t)steps;
        int faith_k1 = cfg->faith ? cfg->faith->k_max + 1 : 0;
        /* the ranks writer's messages are small: rank 0 holds no result */
        c.rbuf_size = (ranks_writer ? tk_wire_written_bytes(cfg->n_methods)
                                    : tk_wire_result_bytes(cfg->chunk_size, (int64_t)(cs * s),
                                                   model->n_outputs, cfg->n_methods, faith_k1)) +
                      TK_ERROR_MAX;
        c.wbuf_size = tk_wire_work_bytes(cfg->chunk_size);
        c.rbuf = tk_malloc(c.rbuf_size, 1, err);
        size_t slots = (size_t)size * REQUESTS_IN_FLIGHT;
        c.wbuf = tk_malloc(slots, c.wbuf_size, err);
        c.wreq = tk_malloc(slots, sizeof *c.wreq, err);
        c.wslot = tk_calloc((size_t)size, sizeof *c.wslot, err);
        for (size_t i = 0; c.wreq && i < slots; i++)
            c.wreq[i] = MPI_REQUEST_NULL;
        if (!ranks_writer)
            st = tk_chunk_result_alloc(&c.in, cfg->chunk_size, (int64_t)(cs * s),
                                       model->n_outputs, cfg->n_methods, err);
        if (st == TK_OK && faith_k1 > 0 && !ranks_writer)
            st = tk_chunk_result_alloc_faith(&c.in, cfg->chunk_size, faith_k1, err);
        if (!c.rbuf || !c.wbuf || !c.wreq || !c.wslot || st != TK_OK) {
            /* cannot even receive: tell nobody anything, abort (last resort) */
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        sum->n_reviews = p.n;
        sum->n_done_before = p.n_done_before;
        sum->recorded_accuracy = p.recorded_accuracy;
        c.n_done = c.n_marked = p.n_done_before;
        tk_progress_start(&c.prog, cfg->progress ? cfg->progress : stderr, "attributions",
                          "reviews", p.n, p.n_done_before, cfg->progress != NULL);
        st = coordinate(&c, computes ? &w : NULL, err);
        tk_progress_finish(&c.prog);
        sum->root_busy_seconds = c.busy;
        sum->layout_seconds = c.layout;
        sum->layout_cpu_seconds = c.layout_cpu;
        st = finish_root(cfg, &c, sum, err);
    } else {
        st = work(&w, world, err);
        /* a worker's failure was sent to rank 0, which reports it */
        st = TK_OK;
    }
    sum->seconds = tk_now() - t_work;
    sum->root_received = c.received;
    memcpy(sum->root_cpu, c.cpu, sizeof sum->root_cpu);
    memcpy(sum->root_wall, c.phase, sizeof sum->root_wall);
    sum->root_flushes = c.flushes;
    reduce_timers(world, w.phase, c.phase, sum);
    st = agree(world, st, err);
    /* every rank still maps its window here */
    int report = rank == ROOT && cfg->window_report != NULL;
    MPICHK(MPI_Bcast(&report, 1, MPI_INT, ROOT, world));
    if (report)
        report_windows(world, window, node_index, sum, cfg->window_report);
    goto done;

fail:
    MPI_Abort(MPI_COMM_WORLD, 1);
done:
    free(c.rbuf);
    if (c.wreq) /* the last STOPs: received before their ranks finished */
        MPI_Waitall(size * REQUESTS_IN_FLIGHT, c.wreq, MPI_STATUSES_IGNORE);
    free(c.wbuf);
    free(c.wreq);
    free(c.wslot);
    tk_chunk_result_free(&c.in);
    worker_free(&w);
    tk_model_destroy(model);
    if (win != MPI_WIN_NULL)
        MPI_Win_free(&win);
    if (node != MPI_COMM_NULL)
        MPI_Comm_free(&node);
    tk_plan_free(&p);
    if (st != TK_OK && cfg->errors) {
        /* every rank returns the failure and exits non-zero, and mpirun
         * kills the job at the first such exit: rank 0 prints the one
         * message before any rank may leave, and no "stopping on a
         * signal" after it when mpirun's SIGTERM for that exit comes */
        if (st != TK_E_INTERRUPTED)
            tk_stop_deadline_disarm();
        if (rank == ROOT) {
            fprintf(cfg->errors, "tokattr run: %s\n", err->msg);
            fflush(cfg->errors);
        }
        sum->error_printed = rank == ROOT;
        MPI_Barrier(world);
    }
    if (!inited)
        MPI_Finalize();
    return st;
}
