/* Shared helpers for the CUnit test programs. */
#ifndef TOKATTR_TESTS_TESTUTIL_H
#define TOKATTR_TESTS_TESTUTIL_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>

#include <hdf5.h>

#include "model/model.h"

/* "<TOKATTR_SHARED or ../shared>/<relative>" in a static buffer per call site
 * is not thread safe; tests are single-threaded. */
const char *tk_test_shared(const char *relative);

/* A fresh temporary directory for this test program (removed by the OS's
 * tmp cleaning, not by the test, so failures can be inspected). */
const char *tk_test_tmpdir(void);

/* The model at path, or NULL with the loader's message on stderr. */
tk_model *tk_test_load_model(const char *path);

/* Reads the whole dataset at path in f into buf; 0, or -1 on any failure. */
int tk_test_read_h5(hid_t f, const char *path, hid_t type, void *buf);

/* A layer config for tk_model_from_layers: kind, name (also the class
 * name), bias on, strides and dilation 1, linear; the rest zero. */
tk_layer tk_test_layer(tk_layer_kind kind, const char *name);

/* Runs every registered suite with the basic interface and returns the
 * process exit status: 0 when all asserts passed, 1 otherwise. */
int tk_test_run_all(void);

/* Adds a suite with the given tests (NULL-terminated names/functions). */
typedef struct tk_test_case {
    const char *name;
    void (*fn)(void);
} tk_test_case;
void tk_test_add_suite(const char *name, const tk_test_case *cases);

#endif
