#include "core/rng.h"

#include <math.h>

uint64_t tk_rng_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

float tk_rng_uniform(uint64_t *state)
{
    return (float)(tk_rng_u64(state) >> 40) * (1.0f / 16777216.0f);
}

double tk_rng_normal(uint64_t *state)
{
    /* 53-bit uniforms; u1 in (0, 1] so that log never sees 0. */
    double u1 = ((double)(tk_rng_u64(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(tk_rng_u64(state) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t tk_rng_below(uint64_t *state, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = tk_rng_u64(state);
    while (r >= limit);
    return r % n;
}
