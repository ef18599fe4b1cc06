/*
 * map.c - open-addressing string hash map with linear probing; the table
 * doubles at 70 % load. Deletion is not needed by hpcpipe and not offered.
 */
#include "map.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

typedef struct slot {
  char *key;
  void *val;
  uint64_t h;
} slot;

struct hp_map {
  slot *s;
  size_t cap; /* power of two */
  size_t n;
};

uint64_t hp__hash64(const void *p, size_t n, uint64_t seed) {
  const unsigned char *c = p;
  uint64_t h = seed;
  size_t i = 0;
  /* 8 bytes at a time, then the tail; a multiply-xorshift mix per word. */
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, c + i, 8);
    h ^= w;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < n; i++) {
    h ^= c[i];
    h *= 0x100000001b3ULL;
  }
  return hp__mix64(h ^ (uint64_t)n);
}

hp_map *hp__map_new(void) {
  hp_map *m = hp__xcalloc(1, sizeof *m);
  m->cap = 16;
  m->s = hp__xcalloc(m->cap, sizeof *m->s);
  return m;
}

void hp__map_free(hp_map *m, void (*free_val)(void *)) {
  if (!m)
    return;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->s[i].key)
      continue;
    free(m->s[i].key);
    if (free_val)
      free_val(m->s[i].val);
  }
  free(m->s);
  free(m);
}

static size_t find(const hp_map *m, const char *key, uint64_t h) {
  size_t mask = m->cap - 1, i = (size_t)h & mask;
  while (m->s[i].key && (m->s[i].h != h || strcmp(m->s[i].key, key) != 0))
    i = (i + 1) & mask;
  return i;
}

void *hp__map_get(const hp_map *m, const char *key) {
  uint64_t h = hp__hash64(key, strlen(key), HP_HASH_SEED);
  size_t i = find(m, key, h);
  return m->s[i].key ? m->s[i].val : NULL;
}

int hp__map_has(const hp_map *m, const char *key) {
  uint64_t h = hp__hash64(key, strlen(key), HP_HASH_SEED);
  return m->s[find(m, key, h)].key != NULL;
}

static void rehash(hp_map *m) {
  slot *old = m->s;
  size_t oldcap = m->cap;
  m->cap *= 2;
  m->s = hp__xcalloc(m->cap, sizeof *m->s);
  for (size_t i = 0; i < oldcap; i++) {
    if (!old[i].key)
      continue;
    size_t j = find(m, old[i].key, old[i].h);
    m->s[j] = old[i];
  }
  free(old);
}

void *hp__map_put(hp_map *m, const char *key, void *val) {
  uint64_t h = hp__hash64(key, strlen(key), HP_HASH_SEED);
  size_t i = find(m, key, h);
  if (m->s[i].key) {
    void *prev = m->s[i].val;
    m->s[i].val = val;
    return prev;
  }
  m->s[i].key = hp__xstrdup(key);
  m->s[i].val = val;
  m->s[i].h = h;
  if (++m->n * 10 > m->cap * 7)
    rehash(m);
  return NULL;
}

size_t hp__map_count(const hp_map *m) {
  return m->n;
}

int hp__map_next(const hp_map *m, size_t *it, const char **key, void **val) {
  while (*it < m->cap) {
    slot *s = &m->s[(*it)++];
    if (s->key) {
      if (key)
        *key = s->key;
      if (val)
        *val = s->val;
      return 1;
    }
  }
  return 0;
}
