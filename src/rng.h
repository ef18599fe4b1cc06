/*
 * rng.h - deterministic random streams (a wrapper over GSL, the only file
 * that includes its headers). A stream is named by (seed, stream): the
 * same pair gives the same numbers on every rank and machine, so partition
 * p of a generated dataset, drawn from stream p, does not depend on which
 * rank makes it or on how many ranks there are.
 */
#ifndef HP_RNG_H
#define HP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct hp_rng hp_rng;

/* A new generator (MT19937) seeded from a hash of (seed, stream); never
 * NULL (allocation failure aborts, as for all bookkeeping). */
hp_rng *hp__rng_new(uint64_t seed, uint64_t stream);
void hp__rng_free(hp_rng *r); /* NULL is a no-op */

/* Uniform on [a, b). */
double hp__rng_uniform(hp_rng *r, double a, double b);
/* Normal with mean and standard deviation sd (>= 0). */
double hp__rng_normal(hp_rng *r, double mean, double sd);
/* Poisson with mean mu; 0 for mu <= 0 (PTRS for mu >= 10, else GSL). */
uint64_t hp__rng_poisson(hp_rng *r, double mu);
/* Uniform integer in [0, n); 0 for n == 0. */
uint64_t hp__rng_int(hp_rng *r, uint64_t n);

#endif
