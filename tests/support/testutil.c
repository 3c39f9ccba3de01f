#define _POSIX_C_SOURCE 200809L
#include "support/testutil.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tk_test_shared(const char *relative)
{
    static char buf[8][4096];
    static int next;
    char *out = buf[next++ % 8];
    const char *dir = getenv("TOKATTR_SHARED");
    if (dir == NULL || dir[0] == '\0')
        dir = "../shared";
    snprintf(out, sizeof buf[0], "%s/%s", dir, relative);
    return out;
}

const char *tk_test_tmpdir(void)
{
    static char dir[256];
    if (dir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/tokattr-test-XXXXXX", base ? base : "/tmp");
        if (mkdtemp(dir) == NULL) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return dir;
}

void tk_test_add_suite(const char *name, const tk_test_case *cases)
{
    CU_pSuite suite = CU_add_suite(name, NULL, NULL);
    if (suite == NULL) {
        fprintf(stderr, "CUnit: cannot add suite %s\n", name);
        exit(2);
    }
    for (const tk_test_case *c = cases; c->name != NULL; c++)
        if (CU_add_test(suite, c->name, c->fn) == NULL) {
            fprintf(stderr, "CUnit: cannot add test %s\n", c->name);
            exit(2);
        }
}

int tk_test_run_all(void)
{
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failures == 0 ? 0 : 1;
}

tk_model *tk_test_load_model(const char *path)
{
    tk_model *m = NULL;
    tk_error err = {0};
    if (tk_model_load(path, &m, &err) != TK_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    return m;
}

int tk_test_read_h5(hid_t f, const char *path, hid_t type, void *buf)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    herr_t e = H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(d);
    return e < 0 ? -1 : 0;
}

tk_layer tk_test_layer(tk_layer_kind kind, const char *name)
{
    tk_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    snprintf(l.name, sizeof l.name, "%s", name);
    snprintf(l.class_name, sizeof l.class_name, "%s", name);
    l.use_bias = true;
    l.activation = TK_ACT_LINEAR;
    l.strides = l.dilation = 1;
    return l;
}
