/* The one table of method parameters (tk_method_params in attr/attr.h):
 * key, type, bounds, choices, the methods it applies to and a help line.
 * The job parser (job.c) sets a method's keys through it, `tokattr
 * explain` turns every entry into an option (--n-steps, --eps, ...), and
 * both help texts are printed from it, so a key, its bounds and its
 * spelling exist once. Defaults are tk_method_params_default's (per
 * method: the table reads them from there). */
#ifndef TOKATTR_CLI_METHOD_PARAMS_H
#define TOKATTR_CLI_METHOD_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attr/attr.h"
#include "core/status.h"

typedef enum tk_param_type {
    TK_PARAM_INT,    /* int field */
    TK_PARAM_UINT64, /* uint64_t field */
    TK_PARAM_DOUBLE, /* double field */
    TK_PARAM_BOOL,   /* bool field */
    TK_PARAM_CHOICE  /* an enum field, spelled by name */
} tk_param_type;

typedef struct tk_param_choice {
    const char *name;
    int value;
} tk_param_choice;

typedef struct tk_method_param {
    const char *key;        /* the job key; explain's option is --key with '-' for '_' */
    tk_param_type type;
    size_t offset;          /* of the field in tk_method_params */
    double lo, hi;          /* bounds of numbers, inclusive */
    const tk_param_choice *choices; /* TK_PARAM_CHOICE: NULL-terminated */
    unsigned methods;       /* bit (1u << kind) per tk_method_kind it applies to */
    const char *help;
} tk_method_param;

/* All entries, NULL-key terminated. */
const tk_method_param *tk_method_params_table(void);

/* The entry of a key ("n_steps" or "n-steps"), or NULL. */
const tk_method_param *tk_method_param_find(const char *key);

bool tk_method_param_applies(const tk_method_param *d, tk_method_kind kind);

/* Sets p's field from text (numbers, true/false, or a choice's name),
 * checking type and bounds. Errors name the key, the value and what is
 * allowed (the caller adds file / option). */
tk_status tk_method_param_set_text(const tk_method_param *d, tk_method_params *p, const char *text,
                                   tk_error *err);
/* The same from values YAML already typed. */
tk_status tk_method_param_set_int(const tk_method_param *d, tk_method_params *p, int64_t v,
                                  tk_error *err);
tk_status tk_method_param_set_u64(const tk_method_param *d, tk_method_params *p, uint64_t v,
                                  tk_error *err);
tk_status tk_method_param_set_double(const tk_method_param *d, tk_method_params *p, double v,
                                     tk_error *err);
tk_status tk_method_param_set_bool(const tk_method_param *d, tk_method_params *p, bool v,
                                   tk_error *err);

/* The value of p's field as text (choices by their first name). */
void tk_method_param_format(const tk_method_param *d, const tk_method_params *p, char *buf,
                            size_t size);

/* One line per entry: "  <prefix><key> TYPE  help (methods) [default]",
 * with '_' written as '-' when dashes (explain's options). */
void tk_method_params_help(FILE *out, const char *prefix, bool dashes);

#endif
