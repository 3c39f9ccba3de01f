#include "core/sha256.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define TK_SHA256_X86 1
#endif

/* First 32 bits of the fractional parts of the cube roots of the first 64
 * primes (FIPS 180-4, 4.2.2). */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void compress_block(uint32_t h[8], const uint8_t p[64])
{
    uint32_t w[64]; /* message schedule */
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void tk_sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t n_blocks)
{
    for (size_t i = 0; i < n_blocks; i++)
        compress_block(h, p + 64 * i);
}

#ifdef TK_SHA256_X86
/* The SHA extensions (Intel since Goldmont and Ice Lake, AMD since Zen 1):
 * about five times the portable loop, which the input digests of a job
 * (tens of MB to GB) feel. State kept as ABEF / CDGH, four rounds per
 * message group; the schedule of group r + 4 is made while group r runs. */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_shani(uint32_t h[8],
                                                                      const uint8_t *p,
                                                                      size_t n_blocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    for (size_t b = 0; b < n_blocks; b++, p += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh, msg[4];
        for (int i = 0; i < 4; i++)
            msg[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
        for (int r = 0; r < 16; r++) {
            __m128i wk = _mm_add_epi32(msg[r & 3], _mm_loadu_si128((const __m128i *)&K[4 * r]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
            if (r < 12) {
                /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], t in group r + 4 */
                __m128i t = _mm_sha256msg1_epu32(msg[r & 3], msg[(r + 1) & 3]);
                t = _mm_add_epi32(t, _mm_alignr_epi8(msg[(r + 3) & 3], msg[(r + 2) & 3], 4));
                msg[r & 3] = _mm_sha256msg2_epu32(t, msg[(r + 3) & 3]);
            }
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

static bool cpu_has_sha(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
        return false;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

tk_sha256_blocks_fn tk_sha256_blocks_shani(void)
{
#ifdef TK_SHA256_X86
    return cpu_has_sha() ? blocks_shani : NULL;
#else
    return NULL;
#endif
}

void tk_sha256_init(tk_sha256 *s)
{
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, H0, sizeof H0);
    s->bytes = 0;
    s->fill = 0;
    s->blocks = tk_sha256_blocks_shani();
    if (!s->blocks)
        s->blocks = tk_sha256_blocks_portable;
}

void tk_sha256_update(tk_sha256 *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->bytes += n;
    if (s->fill > 0) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill < 64)
            return;
        s->blocks(s->h, s->block, 1);
        s->fill = 0;
    }
    s->blocks(s->h, p, n / 64);
    p += n / 64 * 64;
    n %= 64;
    memcpy(s->block, p, n);
    s->fill = n;
}

void tk_sha256_final(tk_sha256 *s, uint8_t digest[32])
{
    uint64_t bits = s->bytes * 8;
    /* Padding: 0x80, zeros up to 56 mod 64, then the bit length big-endian. */
    s->block[s->fill++] = 0x80;
    if (s->fill > 56) {
        memset(s->block + s->fill, 0, 64 - s->fill);
        s->blocks(s->h, s->block, 1);
        s->fill = 0;
    }
    memset(s->block + s->fill, 0, 56 - s->fill);
    for (int i = 0; i < 8; i++)
        s->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    s->blocks(s->h, s->block, 1);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(s->h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)s->h[i];
    }
}

void tk_sha256_hex(const uint8_t digest[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}

void tk_sha256_buffer_hex(const void *data, size_t n, char hex[65])
{
    tk_sha256 s;
    uint8_t d[32];
    tk_sha256_init(&s);
    tk_sha256_update(&s, data, n);
    tk_sha256_final(&s, d);
    tk_sha256_hex(d, hex);
}

tk_status tk_sha256_file_open(tk_sha256_file *h, const char *path, tk_error *err)
{
    memset(h, 0, sizeof *h);
    snprintf(h->path, sizeof h->path, "%s", path);
    h->f = fopen(path, "rb");
    if (h->f == NULL)
        return tk_error_set(err, TK_E_IO, "%s: cannot open: %s", path, strerror(errno));
    tk_sha256_init(&h->s);
    return TK_OK;
}

tk_status tk_sha256_file_step(tk_sha256_file *h, size_t max, bool *done, char hex[65],
                              tk_error *err)
{
    uint8_t buf[1 << 16], d[32];
    size_t got = 0, n;
    *done = false;
    do {
        n = fread(buf, 1, sizeof buf, h->f);
        tk_sha256_update(&h->s, buf, n);
        got += n;
    } while (n == sizeof buf && got < max);
    if (ferror(h->f))
        return tk_error_set(err, TK_E_IO, "%s: read error", h->path);
    if (n < sizeof buf) {
        tk_sha256_final(&h->s, d);
        tk_sha256_hex(d, hex);
        *done = true;
    }
    return TK_OK;
}

void tk_sha256_file_close(tk_sha256_file *h)
{
    if (h->f)
        fclose(h->f);
    h->f = NULL;
}

tk_status tk_sha256_file_hex(const char *path, char hex[65], tk_error *err)
{
    tk_sha256_file h;
    tk_status st = tk_sha256_file_open(&h, path, err);
    bool done = false;
    while (st == TK_OK && !done)
        st = tk_sha256_file_step(&h, SIZE_MAX, &done, hex, err);
    tk_sha256_file_close(&h);
    return st;
}
