/*
 * rng.c - deterministic random streams over GSL's MT19937. Each (seed,
 * stream) pair is mixed (splitmix64) into the generator's 32-bit seed;
 * draws go through GSL's own samplers (exact, and stable across GSL
 * versions for a given generator state), but for Poisson with a large mean,
 * sampled by PTRS over GSL's uniforms for speed.
 */
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "mem.h"

struct hp_rng {
  gsl_rng *g;
};

static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

hp_rng *hp_rng_new(uint64_t seed, uint64_t stream) {
  hp_rng *r = hp__xmalloc(sizeof *r);
  r->g = gsl_rng_alloc(gsl_rng_mt19937);
  if (!r->g) { /* bookkeeping allocation: out of memory aborts */
    fputs("hpcpipe: out of memory (random generator)\n", stderr);
    abort();
  }
  uint64_t h = splitmix64(splitmix64(seed) ^ stream);
  /* MT19937 takes 32 bits of seed; GSL maps 0 to its default seed */
  gsl_rng_set(r->g, (unsigned long)((h ^ (h >> 32)) & 0xffffffffUL));
  return r;
}

void hp_rng_free(hp_rng *r) {
  if (!r) return;
  gsl_rng_free(r->g);
  free(r);
}

double hp_rng_uniform(hp_rng *r, double a, double b) {
  return a + (b - a) * gsl_rng_uniform(r->g);
}

double hp_rng_normal(hp_rng *r, double mean, double sd) {
  return mean + gsl_ran_gaussian_ziggurat(r->g, sd > 0 ? sd : 0);
}

/* Poisson for mu >= 10 by W. Hörmann's transformed rejection with squeeze
 * (PTRS, 1993), as NumPy samples it: exact, about two uniforms a draw,
 * where GSL's gamma-based sampler takes several times as long. */
static uint64_t poisson_ptrs(gsl_rng *g, double mu) {
  double slam = sqrt(mu), loglam = log(mu);
  double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    double u = gsl_rng_uniform(g) - 0.5, v = gsl_rng_uniform(g);
    double us = 0.5 - fabs(u);
    double k = floor((2 * a / us + b) * u + mu + 0.43);
    if (us >= 0.07 && v <= vr) return (uint64_t)k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(invalpha) - log(a / (us * us) + b) <=
        -mu + k * loglam - lgamma(k + 1))
      return (uint64_t)k;
  }
}

uint64_t hp_rng_poisson(hp_rng *r, double mu) {
  if (!(mu > 0)) return 0;
  if (mu >= 10) return poisson_ptrs(r->g, mu);
  return (uint64_t)gsl_ran_poisson(r->g, mu);
}

uint64_t hp_rng_int(hp_rng *r, uint64_t n) {
  if (n == 0) return 0;
  if (n <= 0xffffffffULL) return gsl_rng_uniform_int(r->g, (unsigned long)n);
  /* 64 bits from two draws, rejecting the biased top */
  uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
  do {
    x = ((uint64_t)gsl_rng_get(r->g) << 32) | (uint64_t)gsl_rng_get(r->g);
  } while (x >= lim);
  return x % n;
}
