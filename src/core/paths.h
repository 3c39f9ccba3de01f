/* Where the shared data, models and fixtures are: the user names it with
 * --shared or TOKATTR_SHARED; otherwise ../shared beside the project. */
#ifndef TOKATTR_CORE_PATHS_H
#define TOKATTR_CORE_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* Writes "<shared>/<relative>" into buf. explicit_dir (may be NULL) wins over
 * the environment, which wins over "../shared". Returns false if it does
 * not fit. */
bool tk_shared_path(char *buf, size_t size, const char *explicit_dir, const char *relative);

bool tk_file_exists(const char *path);

/* Reads a whole file into memory: *data (NUL-terminated, free() it) and its
 * length. Errors name the file. */
tk_status tk_read_file(const char *path, char **data, size_t *len, tk_error *err);

#endif
