/* SHA-256 against the FIPS 180-2 test vectors, streamed in every split. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "support/testutil.h"

static void test_fips_vectors(void)
{
    char hex[65];
    tk_sha256_buffer_hex("abc", 3, hex);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    tk_sha256_buffer_hex("", 0, hex);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    tk_sha256_buffer_hex(two, strlen(two), hex);
    CU_ASSERT_STRING_EQUAL(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a_streamed(void)
{
    /* One million 'a' fed in uneven pieces crosses every block boundary case. */
    static char a[1100]; /* > the largest step */
    memset(a, 'a', sizeof a);
    tk_sha256 s;
    uint8_t d[32];
    char hex[65];
    tk_sha256_init(&s);
    size_t left = 1000000, step = 1;
    while (left > 0) {
        size_t n = step < left ? step : left;
        tk_sha256_update(&s, a, n);
        left -= n;
        step = step % 997 + 63;
    }
    tk_sha256_final(&s, d);
    tk_sha256_hex(d, hex);
    CU_ASSERT_STRING_EQUAL(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_split_anywhere_equals_one_shot(void)
{
    uint8_t msg[200];
    for (int i = 0; i < 200; i++)
        msg[i] = (uint8_t)(i * 37 + 11);
    for (size_t len = 0; len <= 200; len += 7) {
        char whole[65];
        tk_sha256_buffer_hex(msg, len, whole);
        for (size_t cut = 0; cut <= len; cut += 5) {
            tk_sha256 s;
            uint8_t d[32];
            char hex[65];
            tk_sha256_init(&s);
            tk_sha256_update(&s, msg, cut);
            tk_sha256_update(&s, msg + cut, len - cut);
            tk_sha256_final(&s, d);
            tk_sha256_hex(d, hex);
            CU_ASSERT_STRING_EQUAL(hex, whole);
        }
    }
}

static void test_file_digest(void)
{
    char path[4096], hex[65];
    snprintf(path, sizeof path, "%s/abc.txt", tk_test_tmpdir());
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("abc", f);
    fclose(f);
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_sha256_file_hex(path, hex, &err), TK_OK);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CU_ASSERT_EQUAL(tk_sha256_file_hex("/nonexistent/x", hex, &err), TK_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/x"));
}

/* A file hashed a piece at a time (a job hashes its inputs between layout
 * blocks) gives the one-shot digest, whatever the piece size and however
 * the file's length falls on the 64 KiB reads: empty, exactly one read,
 * one byte past it, several reads. */
static void test_file_in_steps(void)
{
    const size_t sizes[] = {0, 1, 65536, 65537, 300001};
    const size_t steps[] = {1, 65536, 100000, 1 << 20};
    char path[4096];
    snprintf(path, sizeof path, "%s/steps.bin", tk_test_tmpdir());
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *buf = malloc(sizes[i] + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        for (size_t j = 0; j < sizes[i]; j++)
            buf[j] = (unsigned char)(j * 2654435761u >> 13);
        FILE *f = fopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(fwrite(buf, 1, sizes[i], f), sizes[i]);
        fclose(f);
        char whole[65];
        tk_sha256_buffer_hex(buf, sizes[i], whole);
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
            tk_sha256_file h;
            tk_error err = {0};
            char hex[65] = "";
            bool done = false;
            int calls = 0;
            CU_ASSERT_EQUAL_FATAL(tk_sha256_file_open(&h, path, &err), TK_OK);
            while (!done && calls < 1000) {
                CU_ASSERT_EQUAL_FATAL(tk_sha256_file_step(&h, steps[k], &done, hex, &err), TK_OK);
                calls++;
            }
            tk_sha256_file_close(&h);
            CU_ASSERT_TRUE(done);
            CU_ASSERT_STRING_EQUAL(hex, whole);
            /* a step reads at most one 64 KiB read past its budget */
            size_t per = steps[k] < 65536 ? 65536 : steps[k];
            CU_ASSERT_TRUE((size_t)calls <= sizes[i] / per + 2);
        }
        free(buf);
    }
    tk_sha256_file h;
    tk_error err = {0};
    CU_ASSERT_EQUAL(tk_sha256_file_open(&h, "/nonexistent/y", &err), TK_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/y"));
    tk_sha256_file_close(&h);
}

/* The SHA extensions' compression (where the CPU has them: the digests
 * above then came from it) equals the portable loop on 1,000 blocks of
 * varied bytes, one block and many at a time, from the standard initial
 * state and from an arbitrary one. */
static void test_shani_equals_portable(void)
{
    tk_sha256_blocks_fn shani = tk_sha256_blocks_shani();
    tk_sha256 probe;
    tk_sha256_init(&probe);
    if (shani == NULL) {
        /* nothing to compare on this CPU: the portable loop is the one in use */
        CU_ASSERT_PTR_EQUAL(probe.blocks, tk_sha256_blocks_portable);
        printf("\n  (this CPU has no SHA extensions: the portable loop alone was tested)\n");
        return;
    }
    CU_ASSERT_PTR_EQUAL(probe.blocks, shani);
    enum { N = 1000 };
    uint8_t *data = malloc(64 * N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < 64 * N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (uint8_t)(x >> 24);
    }
    uint32_t a[8], b[8];
    for (int start = 0; start < 2; start++) {
        for (int i = 0; i < 8; i++)
            a[i] = b[i] = start ? 0x01234567u * (uint32_t)(i + 1) : probe.h[i];
        tk_sha256_blocks_portable(a, data, N);
        shani(b, data, N);
        CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
        for (int i = 0; i < 8; i++)
            b[i] = start ? 0x01234567u * (uint32_t)(i + 1) : probe.h[i];
        for (int k = 0; k < N; k++)
            shani(b, data + 64 * k, 1);
        CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
    }
    free(data);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    static const tk_test_case cases[] = {
        {"FIPS 180-2 vectors", test_fips_vectors},
        {"one million 'a' streamed in uneven pieces", test_million_a_streamed},
        {"any split of the input gives the one-shot digest", test_split_anywhere_equals_one_shot},
        {"file digest, missing file is an error", test_file_digest},
        {"a file hashed in steps gives the one-shot digest", test_file_in_steps},
        {"the SHA extensions equal the portable loop", test_shani_equals_portable},
        {NULL, NULL},
    };
    tk_test_add_suite("sha256", cases);
    return tk_test_run_all();
}
