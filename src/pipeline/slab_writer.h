/* The ranks writer on one rank: a work unit's results go straight into the
 * results file with pwrite at the regions rank 0's writer measured
 * (writer.h "results regions", one table for both writers), so no single
 * rank carries every result. No HDF5 handle and no MPI here: the results
 * datasets are contiguous, allocated at creation and little-endian, so a
 * unit's rows of each are one byte range at a fixed address, and writing
 * them changes no HDF5 metadata.
 *
 * Only a file that is the one rank 0 created is written: tk_slab_open
 * compares it with rank 0's proof (the HDF5 signature, the size after rank
 * 0's flush, the SHA-256 of its metadata before the first region). A path
 * that is node-local on another node names another file (or none) and is
 * refused with a message naming the path and the host. The hashed
 * metadata hold a run nonce rank 0 draws afresh at each start (create or
 * resume; results_schema.h TK_RS_ATTR_RUN_NONCE), so a byte-identical copy
 * made on another node before the run (one copied by hand for a resume)
 * is refused too. README says to keep the results on the shared
 * filesystem, and the Slurm scripts check that.
 *
 * Durability: the writer keeps the units it wrote since its last sync, and
 * only tk_slab_sync (fdatasync) hands them out, as the units now on disk:
 * the only ones a caller may report done, so nothing is marked done before
 * it is on disk. */
#ifndef TOKATTR_PIPELINE_SLAB_WRITER_H
#define TOKATTR_PIPELINE_SLAB_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "pipeline/writer.h"

/* What identifies rank 0's file. Plain integers and bytes: broadcast. */
typedef struct tk_slab_proof {
    int64_t size;       /* bytes, after rank 0's flush */
    int64_t hashed;     /* bytes [0, hashed) hashed: metadata, before any region */
    uint8_t sha256[32];
} tk_slab_proof;

/* The memory layout the regions assume: little-endian IEEE float, double
 * and two's complement int32, the file's types (H5T_IEEE_F32LE, F64LE,
 * STD_I32LE). False: use the root writer. */
bool tk_slab_host_ok(void);

/* The proof of the file at path (rank 0, after its writer flushed). */
tk_status tk_slab_proof_of(const char *path, const tk_result_region *reg, int n_reg,
                           tk_slab_proof *out, tk_error *err);

typedef struct tk_slab_writer tk_slab_writer;

/* Opens path for writing the regions reg (n_reg, copied) after checking
 * that it is the file of proof. */
tk_status tk_slab_open(const char *path, const tk_slab_proof *proof, const tk_result_region *reg,
                       int n_reg, tk_slab_writer **out, tk_error *err);

/* Writes r's rows of every region; t0 = token_offset[r->first], the row of
 * its first token. Not yet durable: the unit is held until tk_slab_sync. */
tk_status tk_slab_put(tk_slab_writer *s, const tk_chunk_result *r, int64_t t0, tk_error *err);

/* Units put since the last sync. */
int tk_slab_unsynced(const tk_slab_writer *s);

/* Everything put so far is on disk when this returns TK_OK; *units (*n, 2:
 * first, count) are then the units put since the previous sync (valid
 * until the next put or sync). On failure they stay held. */
tk_status tk_slab_sync(tk_slab_writer *s, const int64_t **units, int *n, tk_error *err);

/* Closes without a sync. NULL is fine. */
void tk_slab_close(tk_slab_writer *s);

#endif
