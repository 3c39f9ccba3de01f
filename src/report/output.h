/* Files of the report: written under a temporary name in the output
 * directory and renamed when complete. */
#ifndef TOKATTR_REPORT_OUTPUT_H
#define TOKATTR_REPORT_OUTPUT_H

#include <stdio.h>

#include "core/status.h"
#include "report/report.h"

typedef struct tk_out_file {
    FILE *f;
    char tmp[4096];
    char final[4096];
} tk_out_file;

/* Creates dir if missing (one level) and opens dir/name.tmp.<pid>. */
tk_status tk_out_open(tk_out_file *o, const char *dir, const char *name, tk_error *err);
/* Closes and renames; on any earlier write error removes the temp file. */
tk_status tk_out_commit(tk_out_file *o, tk_error *err);
/* Closes and removes the temp file (after a failure). Safe to call twice. */
void tk_out_abort(tk_out_file *o);

tk_status tk_report_write_html(const tk_results *r, const char *dir, const tk_report_options *o,
                               tk_error *err);
tk_status tk_report_write_tables(const tk_results *r, const char *dir, const tk_report_options *o,
                                 tk_error *err);

/* Display name of a class: "negative"/"positive" for two classes. */
const char *tk_report_class_name(const tk_results *r, int c, char *buf, size_t size);

#endif
