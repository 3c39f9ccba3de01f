/* HDF5 files for the fuzzers, written from a line-based text script.
 *
 * Mutating the bytes of an HDF5 file mostly exercises libhdf5's own decoder
 * (not ours to fix) and rarely reaches our readers. So the HDF5 harnesses
 * fuzz what a stranger's file may say to us: which groups, datasets and
 * attributes exist, their types, shapes and values. One object per line:
 *
 *   group PATH
 *   dset  PATH TYPE DIMS VALUE...
 *   attr  OBJECT NAME TYPE DIMS VALUE...
 *
 * TYPE: i8 u8 i16 i32 u32 i64 f32 f64, str (variable-length string), fstr
 * (fixed-length, NUL-terminated, as wide as the longest value + 1, as C
 * writers make them), pfstr (fixed-length, NUL-padded, as wide as the
 * longest value, as h5py writes bytes); ustr, ufstr, upfstr the same with
 * the UTF-8 character set (the others are ASCII). DIMS: "-" for a
 * scalar, else sizes joined by ',' ("3", "2,5"; at most 3, product at most
 * H5_SCRIPT_MAX_ELEMS). Values fill in row-major order; missing ones are 0
 * or "", extra ones are ignored. Strings are one token each, with bytes
 * <= 0x20, '%' and >= 0x7F written as %XX. Intermediate groups are made
 * as needed; a line that cannot be applied is skipped. */
#ifndef TOKATTR_FUZZ_H5_SCRIPT_H
#define TOKATTR_FUZZ_H5_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#define H5_SCRIPT_MAX_ELEMS 65536

/* Writes the file the script describes to path (truncating); 0 on success
 * (lines that could not be applied do not count as failure). */
int h5_script_build(const char *path, const uint8_t *script, size_t size);

#endif
