/* Outputs never touch inputs. Before a command opens anything for writing
 * (or removes an old output under --force), it hands every output path and
 * every input path here:
 *   - an output that is the same file as an input (device and inode, so
 *     through symlinks, hard links and "./a" vs "a"), or whose temporary
 *     siblings (TK_OUTPATH_SIBLINGS: the names our writers create beside it)
 *     are, is refused with both names;
 *   - an existing output is replaced only when the caller's probe says it is
 *     a previous output of the same kind (a results file, a dataset, ...),
 *     never an arbitrary file.
 * The checks only stat(); nothing is created or removed here. */
#ifndef TOKATTR_CORE_OUTPATH_H
#define TOKATTR_CORE_OUTPATH_H

#include <stdbool.h>

#include "core/status.h"

/* What a path is to the command, for messages: {"data/r.h5", "dataset"}. */
typedef struct tk_path_role {
    const char *path; /* NULL entries are skipped */
    const char *role;
} tk_path_role;

/* The suffixes of the siblings our writers make next to an output: the
 * results file's ".partial" (pipeline), ".tmp" (dataset, word index) and
 * ".part" (download). Checked like the output itself. */
/* .partial.new: a run's file until its layout is written (pipeline/plan.h) */
#define TK_OUTPATH_SIBLINGS {".partial", ".partial.new", ".tmp", ".part"}

/* True when a and b name the same existing file (same device and inode,
 * symlinks followed), or, when neither exists yet, the same name in the
 * same directory (two outputs that would collide). */
bool tk_same_file(const char *a, const char *b);

/* Refuses (TK_E_INVALID, naming both paths and roles) when output, or
 * output + a sibling suffix, is the same file as one of the n inputs. */
tk_status tk_outpath_check(const tk_path_role *output, const tk_path_role *inputs, int n,
                           tk_error *err);

/* May output be written over? Yes when it does not exist, or when it is a
 * regular file that probe (NULL = none is replaceable) recognises as a
 * previous output of this kind (kind, e.g. "results file", is named in the
 * refusal). A directory, a device or a foreign file is refused. */
tk_status tk_outpath_replaceable(const tk_path_role *output, const char *kind,
                                 bool (*probe)(const char *path), tk_error *err);

#endif
