/* The commands' side of core/outpath.h: one call per output, before the
 * command opens anything for writing; a refusal is printed as
 * "tokattr CMD: <message>" and the command exits 1 with nothing changed. */
#ifndef TOKATTR_CLI_GUARD_H
#define TOKATTR_CLI_GUARD_H

#include <stdbool.h>

#include "core/outpath.h"

/* 0 when output (and its temporary siblings) is none of the n inputs and,
 * if it exists, probe recognises it as a previous output of this kind
 * (probe NULL: an existing output is never replaced). Else prints the
 * refusal and returns -1. */
int tk_cli_guard_output(const char *cmd, const tk_path_role *output, const tk_path_role *inputs,
                        int n, const char *kind, bool (*probe)(const char *path));

/* Probes for the kinds of output the commands replace. */
bool tk_cli_is_word_index(const char *path); /* a file whose first non-blank byte is '{' */
bool tk_cli_is_model(const char *path);      /* tk_model_load reads it */

#endif
