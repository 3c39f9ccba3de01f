/* SHA-256 (FIPS 180-4), streaming. None of our dependencies exposes one and
 * the dataset and results files record the digests of their inputs. */
#ifndef TOKATTR_CORE_SHA256_H
#define TOKATTR_CORE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "core/status.h"

/* n_blocks 64-byte blocks of p into the chaining state h. */
typedef void (*tk_sha256_blocks_fn)(uint32_t h[8], const uint8_t *p, size_t n_blocks);

/* The portable compression, and the SHA extensions' (NULL where the CPU
 * lacks them): tk_sha256_init picks the second when there is one; both
 * are public so that a test compares them. */
void tk_sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t n_blocks);
tk_sha256_blocks_fn tk_sha256_blocks_shani(void);

typedef struct tk_sha256 {
    tk_sha256_blocks_fn blocks;
    uint32_t h[8];       /* chaining state */
    uint64_t bytes;      /* message length so far */
    uint8_t block[64];   /* pending partial block */
    size_t fill;         /* bytes used in block */
} tk_sha256;

void tk_sha256_init(tk_sha256 *s);
void tk_sha256_update(tk_sha256 *s, const void *data, size_t n);
/* Writes the 32-byte digest; s must be re-initialised before reuse. */
void tk_sha256_final(tk_sha256 *s, uint8_t digest[32]);

/* 64 lowercase hex digits + NUL. */
void tk_sha256_hex(const uint8_t digest[32], char hex[65]);

/* One-shot helpers: hex digest of a buffer, of a whole file. */
void tk_sha256_buffer_hex(const void *data, size_t n, char hex[65]);
tk_status tk_sha256_file_hex(const char *path, char hex[65], tk_error *err);

/* A file's digest a piece at a time, for a job that hashes its inputs
 * between other work: open, step until *done (hex then holds the digest),
 * close (also after a failure). */
typedef struct tk_sha256_file {
    FILE *f;
    tk_sha256 s;
    char path[4096];
} tk_sha256_file;

tk_status tk_sha256_file_open(tk_sha256_file *h, const char *path, tk_error *err);
/* Hashes up to max bytes more (at least one read). */
tk_status tk_sha256_file_step(tk_sha256_file *h, size_t max, bool *done, char hex[65],
                              tk_error *err);
void tk_sha256_file_close(tk_sha256_file *h);

#endif
