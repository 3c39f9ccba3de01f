/* What the harnesses share: a per-process scratch file for parsers that only
 * take a path, a NUL-terminated copy of the input, quiet HDF5. */
#ifndef TOKATTR_FUZZ_SUPPORT_H
#define TOKATTR_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* "$TMPDIR/tokattr-fuzz-<pid>-<tag><suffix>" (TMPDIR default /tmp); the
 * same path for the same tag during the process. Removed at exit unless
 * FUZZ_KEEP_SCRATCH=1 (to look at the file a reproducer builds). */
const char *fuzz_scratch_path(const char *tag, const char *suffix);

/* Writes size bytes of data to path; 0 on success. */
int fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* A malloc'd copy of data with a NUL appended. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* Checks a parser's verdict: a refusal (st != TK_OK) must carry a message,
 * else abort() (a finding). With FUZZ_VERBOSE=1 in the environment it
 * prints the message or "accepted" to stderr, to check that seeds reach
 * deep. Returns st. */
tk_status fuzz_verdict(const char *harness, tk_status st, const tk_error *err);

/* Turns off HDF5's error stack printing (parsers report errors as values). */
void fuzz_quiet_hdf5(void);

#endif
