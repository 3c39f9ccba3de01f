/* HDF5 in one way for the files tokattr writes: one check macro that turns
 * a failed call into one sentence naming the file, what was being done and
 * the source line, and the few attribute and slab helpers the writers share.
 * Library code does not print: tk_h5_quiet switches HDF5's own error-stack
 * printing off (the sentence replaces it). */
#ifndef TOKATTR_CORE_H5_H
#define TOKATTR_CORE_H5_H

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

/* In a function with `tk_status st`, `tk_error *err` and a `fail:` label:
 * a negative result of call (an hid_t or herr_t) sets err to
 * "<path>: HDF5 failed to <what> (file:line)" and jumps to fail. */
#define TK_H5_CHECK(call, path, what)                                                          \
    do {                                                                                       \
        if ((call) < 0) {                                                                      \
            st = tk_error_set(err, TK_E_IO, "%s: HDF5 failed to %s (%s:%d)", (path), (what),  \
                              __FILE__, __LINE__);                                             \
            goto fail;                                                                         \
        }                                                                                      \
    } while (0)

/* HDF5 prints nothing on its own from now on (this process). */
void tk_h5_quiet(void);

/* True when every component of the absolute path exists in file, so that
 * opening it cannot fail for absence (H5Lexists fails on a missing parent
 * group). */
bool tk_h5_exists(hid_t file, const char *path);

/* What HDF5 said about the last failed call of this thread: the most
 * specific message of its error stack ("truncated file: eof = ...", "unable
 * to lock file, ..."), cut to fit buf; "" when the stack is empty. */
void tk_h5_error_text(char *buf, size_t size);

/* A scalar UTF-8 string attribute (replaced when it exists); value NULL
 * writes nothing. Fixed size up to 16 KiB, variable-length (in the global
 * heap, no 64 KiB object-header limit) past it. */
herr_t tk_h5_attr_str(hid_t obj, const char *name, const char *value);
/* The same with a fixed size of size bytes (> strlen(value), NUL-padded),
 * so that a later tk_h5_attr_str_overwrite fits in place. */
herr_t tk_h5_attr_str_sized(hid_t obj, const char *name, const char *value, size_t size);
/* Rewrites a fixed-size string attribute's bytes in place (no metadata
 * change: a kill during the flush cannot tear the object header); one too
 * small or absent is re-created. */
herr_t tk_h5_attr_str_overwrite(hid_t obj, const char *name, const char *value);

/* The variable-length UTF-8 string type (close it); H5I_INVALID_HID on
 * failure. */
hid_t tk_h5_str_vlen_type(void);

/* A scalar variable-length UTF-8 string attribute (the dataset file's
 * kind; created, it must not exist). */
herr_t tk_h5_attr_str_vlen(hid_t obj, const char *name, const char *value);

/* A scalar attribute of a native type (created; it must not exist). */
herr_t tk_h5_attr_num(hid_t obj, const char *name, hid_t type, const void *value);
/* The same stored as file_type from a value of mem_type (HDF5 converts:
 * an int32 kept as a little-endian int8). */
herr_t tk_h5_attr_num_as(hid_t obj, const char *name, hid_t file_type, hid_t mem_type,
                         const void *value);
/* A scalar numeric attribute converted to mem_type into value; negative
 * when it is absent or does not convert (value then unchanged). */
herr_t tk_h5_attr_read_num(hid_t obj, const char *name, hid_t mem_type, void *value);

/* A string attribute, fixed or variable length, in a malloc'd,
 * NUL-terminated buffer; NULL when absent or not a scalar string. */
char *tk_h5_attr_read_str(hid_t obj, const char *name);

/* The whole dataset name (of loc) of rank 1 or 2 converted to mem_type
 * (elem bytes an element) into a fresh malloc'd buffer *out, its shape in
 * dims (dims[1] = 0 for rank 1). Else TK_E_FORMAT naming path and name:
 * no such dataset, another rank, or not readable as mem_type. */
tk_status tk_h5_read_all(hid_t loc, const char *path, const char *name, hid_t mem_type, size_t elem,
                         int rank, hsize_t dims[2], void **out, tk_error *err);

/* Writes buf at rows [first, first + count) of a 1-D dataset (cols 0) or
 * of a 2-D one with cols columns; count 0 writes nothing. */
herr_t tk_h5_write_rows(hid_t dset, hid_t mem_type, int64_t first, int64_t count, int cols,
                        const void *buf);
/* Reads rows [first, first + count) of a 1-D dataset (cols 0) or of a 2-D
 * one with cols columns into buf; count 0 reads nothing. */
herr_t tk_h5_read_rows(hid_t dset, hid_t mem_type, int64_t first, int64_t count, int cols, void *buf);

#endif
