/* A small seeded generator (xorshift64*) so that --seed reproduces a run on every platform. */
#ifndef ES_RNG_H
#define ES_RNG_H

#include <stdint.h>

typedef struct { uint64_t state; } es_rng;

/* Seeds the generator; any seed (0 included) gives a valid, distinct stream. */
static inline void es_rng_seed(es_rng *r, uint64_t seed)
{
    /* splitmix64 scrambles the seed so nearby seeds give unrelated streams */
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    r->state = z ? z : 0x2545F4914F6CDD1Dull;
}

static inline uint64_t es_rng_u64(es_rng *r)
{
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return r->state * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double es_rng_uniform(es_rng *r) { return (double)(es_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

/* Uniform integer in [0, n); n must be > 0. */
static inline uint32_t es_rng_below(es_rng *r, uint32_t n) { return (uint32_t)(es_rng_uniform(r) * n); }

#endif
