/*
 * map.h - a string-keyed hash map (open addressing, keys copied) and the
 * 64-bit hash used for it, for fingerprints and for content hashes.
 */
#ifndef HP_MAP_H
#define HP_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hp_map hp_map;

hp_map *hp__map_new(void);
/* Frees the map; free_val (may be NULL) is called on every value. */
void hp__map_free(hp_map *m, void (*free_val)(void *));
/* The value stored under key, or NULL. */
void *hp__map_get(const hp_map *m, const char *key);
int hp__map_has(const hp_map *m, const char *key);
/* Stores val under key (copied); returns the previous value or NULL. */
void *hp__map_put(hp_map *m, const char *key, void *val);
size_t hp__map_count(const hp_map *m);
/* Iteration: start with *it = 0; returns 0 at the end. Order is the
 * table's, not insertion order. */
int hp__map_next(const hp_map *m, size_t *it, const char **key, void **val);

/* 64-bit hash of n bytes (FNV-1a based, with a final mix), chainable
 * through seed. Stable across runs, ranks and machines. */
uint64_t hp__hash64(const void *p, size_t n, uint64_t seed);
#define HP_HASH_SEED 0xcbf29ce484222325ULL

/* Mixes the bits of one 64-bit word (MurmurHash3's finaliser): hash keys
 * that are numbers already. */
static inline uint64_t hp__mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

#endif
