#include "cli/guard.h"

#include <ctype.h>
#include <stdio.h>

#include "model/model.h"

int tk_cli_guard_output(const char *cmd, const tk_path_role *output, const tk_path_role *inputs,
                        int n, const char *kind, bool (*probe)(const char *path))
{
    tk_error err = {0};
    if (tk_outpath_check(output, inputs, n, &err) != TK_OK ||
        tk_outpath_replaceable(output, kind, probe, &err) != TK_OK) {
        fprintf(stderr, "tokattr %s: %s\n", cmd, err.msg);
        return -1;
    }
    return 0;
}

bool tk_cli_is_word_index(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    int c;
    while ((c = fgetc(f)) != EOF && isspace(c))
        ;
    fclose(f);
    return c == '{';
}

bool tk_cli_is_model(const char *path)
{
    tk_model *m = NULL;
    tk_error err = {0};
    bool yes = tk_model_load(path, &m, &err) == TK_OK;
    tk_model_destroy(m);
    return yes;
}
