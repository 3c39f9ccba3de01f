/* A Keras 3 `.keras` archive (a zip of config.json, metadata.json and
 * model.weights.h5) through tk_model_load. Structure-aware, like the other
 * HDF5 harnesses (support/h5_script.h): the input is
 *   config.json bytes "\n====\n" metadata.json bytes "\n====\n" h5 script
 * from which the harness writes the weights file and zips the three members
 * with libarchive; the fuzzer so reaches the config, the metadata and the
 * weight layout rather than zip and HDF5 decoders that are not ours. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "h5_script.h"
#include "model/model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_hdf5();
    return 0;
}

/* The next part of data up to "\n====\n" (or the end). */
static const uint8_t *next_part(const uint8_t **data, size_t *size, size_t *len)
{
    static const char sep[] = "\n====\n";
    const uint8_t *start = *data;
    for (size_t i = 0; i + sizeof sep - 1 <= *size; i++)
        if (memcmp(start + i, sep, sizeof sep - 1) == 0) {
            *len = i;
            *data += i + sizeof sep - 1;
            *size -= i + sizeof sep - 1;
            return start;
        }
    *len = *size;
    *data += *size;
    *size = 0;
    return start;
}

static int add_member(struct archive *a, const char *name, const void *bytes, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    int ok = archive_write_header(a, e) == ARCHIVE_OK &&
             (len == 0 || archive_write_data(a, bytes, len) == (la_ssize_t)len);
    archive_entry_free(e);
    return ok ? 0 : -1;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n > 0 ? (size_t)n : 1);
    *len = buf && n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t config_len, meta_len, script_len;
    const uint8_t *config = next_part(&data, &size, &config_len);
    const uint8_t *meta = next_part(&data, &size, &meta_len);
    const uint8_t *script = next_part(&data, &size, &script_len);
    const char *weights = fuzz_scratch_path("k3weights", ".h5");
    if (h5_script_build(weights, script, script_len) != 0)
        return 0;
    size_t wlen = 0;
    char *wbytes = read_all(weights, &wlen);
    if (wbytes == NULL)
        abort();
    const char *path = fuzz_scratch_path("k3", ".keras");
    struct archive *a = archive_write_new();
    if (archive_write_set_format_zip(a) != ARCHIVE_OK || archive_write_open_filename(a, path) != ARCHIVE_OK)
        abort();
    if (add_member(a, "metadata.json", meta, meta_len) != 0 || add_member(a, "config.json", config, config_len) != 0 ||
        add_member(a, "model.weights.h5", wbytes, wlen) != 0)
        abort();
    archive_write_close(a);
    archive_write_free(a);
    free(wbytes);
    tk_model *m = NULL;
    tk_error err = {0};
    fuzz_verdict("keras_archive", tk_model_load(path, &m, &err), &err);
    tk_model_destroy(m);
    return 0;
}
