/* The one PRNG of tokattr: splitmix64 (Steele, Lea, Flood 2014). Tiny
 * state (*state is all of it), full period over 2^64, portable and
 * reproducible bit for bit: model initialisation, dropout masks, shuffling,
 * synthetic data, DeepSHAP background sampling, random deletion orders,
 * report samples and test data all draw from it. Seed *state with any value. */
#ifndef TOKATTR_CORE_RNG_H
#define TOKATTR_CORE_RNG_H

#include <stdint.h>

/* The next 64 random bits; the state advances by 0x9e3779b97f4a7c15. */
uint64_t tk_rng_u64(uint64_t *state);
/* Uniform in [0, 1): the top 24 bits / 2^24 (exactly representable in float). */
float tk_rng_uniform(uint64_t *state);
/* Standard normal (Box-Muller, both values from fresh draws: no hidden cache). */
double tk_rng_normal(uint64_t *state);
/* Uniform integer in [0, n), n > 0 (rejection: no modulo bias). */
uint64_t tk_rng_below(uint64_t *state, uint64_t n);

#endif
