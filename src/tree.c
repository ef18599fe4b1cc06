/*
 * tree.c - configuration trees: construction, copy, merge and hashing of
 * hp_tree nodes, and the public read-only accessors of hpcpipe/node.h with
 * YAML 1.2 core-schema typing of scalars (ints, floats, bools, nulls). A
 * quoted scalar is always a string. Maps are small arrays kept in key order;
 * operations that may touch many keys at once (merge) index them in an
 * hp_map so that large catalogs stay linear.
 */
#include "tree.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "map.h"
#include "mem.h"

/* Maps with more keys than this get a hash index in hp__tree_merge. */
#define INDEX_MIN 16

hp_tree *hp__tree_new(hp_tree_kind kind, const char *file, uint32_t line,
                      uint32_t col) {
  hp_tree *t = hp__xcalloc(1, sizeof *t);
  t->kind = kind;
  t->file = file;
  t->line = line;
  t->col = col;
  return t;
}

hp_tree *hp__tree_scalar(const char *text, int quoted, const char *file,
                         uint32_t line, uint32_t col) {
  hp_tree *t = hp__tree_new(HP_TREE_SCALAR, file, line, col);
  t->quoted = quoted ? 1 : 0;
  t->text = hp__xstrdup(text ? text : "");
  return t;
}

void hp__tree_free(hp_tree *t) {
  if (!t)
    return;
  /* Iterative over the last child to keep long chains off the C stack. */
  while (t) {
    hp_tree *next = NULL;
    for (size_t i = 0; i < t->n; i++) {
      if (t->keys)
        hp__tree_free(t->keys[i]);
      if (i + 1 == t->n && t->kind == HP_TREE_SEQ)
        next = t->items[i];
      else
        hp__tree_free(t->items[i]);
    }
    free(t->items);
    free(t->keys);
    free(t->text);
    free(t);
    t = next;
  }
}

hp_tree *hp__tree_copy(const hp_tree *t) {
  if (!t)
    return NULL;
  hp_tree *c = hp__tree_new(t->kind, t->file, t->line, t->col);
  c->quoted = t->quoted;
  if (t->text)
    c->text = hp__xstrdup(t->text);
  if (t->n) {
    c->n = c->cap = t->n;
    c->items = hp__xmalloc(t->n * sizeof *c->items);
    for (size_t i = 0; i < t->n; i++)
      c->items[i] = hp__tree_copy(t->items[i]);
    if (t->keys) {
      c->keys = hp__xmalloc(t->n * sizeof *c->keys);
      for (size_t i = 0; i < t->n; i++)
        c->keys[i] = hp__tree_copy(t->keys[i]);
    }
  }
  return c;
}

void hp__tree_append(hp_tree *seq, hp_tree *item) {
  if (seq->n == seq->cap)
    hp__grow(&seq->items, &seq->cap, seq->n + 1, sizeof *seq->items);
  seq->items[seq->n++] = item;
}

void hp__tree_map_append(hp_tree *map, hp_tree *key, hp_tree *val) {
  if (map->n == map->cap) {
    size_t cap = map->cap;
    hp__grow(&map->items, &map->cap, map->n + 1, sizeof *map->items);
    hp__grow(&map->keys, &cap, map->n + 1, sizeof *map->keys);
  }
  map->keys[map->n] = key;
  map->items[map->n++] = val;
}

long hp__tree_index(const hp_tree *map, const char *key) {
  if (!map || map->kind != HP_TREE_MAP || !key)
    return -1;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp(map->keys[i]->text, key) == 0)
      return (long)i;
  return -1;
}

hp_tree *hp__tree_find(const hp_tree *map, const char *key) {
  long i = hp__tree_index(map, key);
  return i < 0 ? NULL : map->items[i];
}

void hp__tree_put(hp_tree *map, hp_tree *key, hp_tree *val) {
  long i = hp__tree_index(map, key->text);
  if (i < 0) {
    hp__tree_map_append(map, key, val);
    return;
  }
  hp__tree_free(map->keys[i]);
  hp__tree_free(map->items[i]);
  map->keys[i] = key;
  map->items[i] = val;
}

/* Moves src's contents into dst (dst keeps its address); frees src. */
static void tree_replace(hp_tree *dst, hp_tree *src) {
  hp_tree old = *dst;
  *dst = *src;
  free(src);
  old.kind = HP_TREE_NULL;
  for (size_t i = 0; i < old.n; i++) {
    if (old.keys)
      hp__tree_free(old.keys[i]);
    hp__tree_free(old.items[i]);
  }
  free(old.items);
  free(old.keys);
  free(old.text);
}

static hp_map *index_map(const hp_tree *map) {
  hp_map *m = hp__map_new();
  for (size_t i = 0; i < map->n; i++)
    hp__map_put(m, map->keys[i]->text, (void *)(uintptr_t)(i + 1));
  return m;
}

void hp__tree_merge(hp_tree *dst, hp_tree *src) {
  if (!src)
    return;
  if (dst->kind != HP_TREE_MAP || src->kind != HP_TREE_MAP) {
    tree_replace(dst, src);
    return;
  }
  hp_map *idx = dst->n > INDEX_MIN && src->n > 1 ? index_map(dst) : NULL;
  for (size_t i = 0; i < src->n; i++) {
    hp_tree *k = src->keys[i], *v = src->items[i];
    long j;
    if (idx)
      j = (long)(uintptr_t)hp__map_get(idx, k->text) - 1;
    else
      j = hp__tree_index(dst, k->text);
    if (j < 0) {
      hp__tree_map_append(dst, k, v);
      if (idx)
        hp__map_put(idx, k->text, (void *)(uintptr_t)dst->n);
      continue;
    }
    hp__tree_free(k);
    if (dst->items[j]->kind == HP_TREE_MAP && v->kind == HP_TREE_MAP)
      hp__tree_merge(dst->items[j], v);
    else {
      hp__tree_free(dst->items[j]);
      dst->items[j] = v;
    }
  }
  hp__map_free(idx, NULL);
  free(src->keys);
  free(src->items);
  free(src->text);
  free(src);
}

const char *hp__tree_loc(const hp_tree *t, char *buf, size_t n) {
  if (!t)
    snprintf(buf, n, "?");
  else if (t->line == 0) /* made up, not read: name the file or directory */
    snprintf(buf, n, "%s", t->file ? t->file : "<input>");
  else
    snprintf(buf, n, "%s:%" PRIu32 ":%" PRIu32, t->file ? t->file : "<input>",
             t->line, t->col);
  return buf;
}

int hp__tree_is_null(const hp_tree *t) {
  if (!t || t->kind == HP_TREE_NULL)
    return 1;
  if (t->kind != HP_TREE_SCALAR || t->quoted)
    return 0;
  const char *s = t->text;
  return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
         !strcmp(s, "NULL");
}

/* Hash input is a canonical byte form: kind, then for scalars the quoted
 * flag, length and text, for containers the count and then (key, value) or
 * item in order. Lengths are 8 little-endian bytes on every machine. */
static uint64_t hash_u64(uint64_t x, uint64_t h) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char)(x >> (8 * i));
  return hp__hash64(b, 8, h);
}

uint64_t hp__tree_hash(const hp_tree *t, uint64_t seed) {
  unsigned char k = (unsigned char)(t ? t->kind : HP_TREE_NULL);
  uint64_t h = hp__hash64(&k, 1, seed);
  if (!t || t->kind == HP_TREE_NULL)
    return h;
  if (t->kind == HP_TREE_SCALAR) {
    size_t len = strlen(t->text);
    unsigned char q = t->quoted;
    h = hp__hash64(&q, 1, h);
    h = hash_u64(len, h);
    return hp__hash64(t->text, len, h);
  }
  h = hash_u64(t->n, h);
  for (size_t i = 0; i < t->n; i++) {
    if (t->kind == HP_TREE_MAP)
      h = hp__tree_hash(t->keys[i], h);
    h = hp__tree_hash(t->items[i], h);
  }
  return h;
}

/* ---- public accessors ---------------------------------------------------- */

hp_tree_kind hp_tree_type(const hp_tree *t) {
  return t ? t->kind : HP_TREE_NULL;
}

size_t hp_tree_len(const hp_tree *t) {
  if (!t || (t->kind != HP_TREE_SEQ && t->kind != HP_TREE_MAP))
    return 0;
  return t->n;
}

const hp_tree *hp_tree_at(const hp_tree *t, size_t i) {
  if (!t || (t->kind != HP_TREE_SEQ && t->kind != HP_TREE_MAP) || i >= t->n)
    return NULL;
  return t->items[i];
}

const char *hp_tree_key(const hp_tree *t, size_t i) {
  if (!t || t->kind != HP_TREE_MAP || i >= t->n)
    return NULL;
  return t->keys[i]->text;
}

/* One path segment: a map key, or a decimal index into a sequence. */
static const hp_tree *step(const hp_tree *t, const char *seg, size_t n) {
  if (t->kind == HP_TREE_MAP) {
    for (size_t i = 0; i < t->n; i++) {
      const char *k = t->keys[i]->text;
      if (strncmp(k, seg, n) == 0 && k[n] == '\0')
        return t->items[i];
    }
    return NULL;
  }
  if (t->kind == HP_TREE_SEQ && n > 0 && n < 19) {
    size_t idx = 0;
    for (size_t i = 0; i < n; i++) {
      if (seg[i] < '0' || seg[i] > '9')
        return NULL;
      idx = idx * 10 + (size_t)(seg[i] - '0');
    }
    return idx < t->n ? t->items[idx] : NULL;
  }
  return NULL;
}

/* Dotted path through maps ("model.lr"); a segment that is a number also
 * indexes a sequence ("layers.0.size"). NULL or "" is t itself. */
const hp_tree *hp_tree_get(const hp_tree *t, const char *path) {
  if (!t || !path || !*path)
    return t;
  const char *p = path;
  while (t) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    t = step(t, p, n);
    if (!dot)
      break;
    p = dot + 1;
  }
  return t;
}

const char *hp_tree_text(const hp_tree *t) {
  return t && t->kind == HP_TREE_SCALAR ? t->text : NULL;
}

/* Looks up path for a typed getter: NULL when absent or a YAML null. */
static const hp_tree *typed_lookup(const hp_tree *t, const char *path) {
  const hp_tree *v = hp_tree_get(t, path);
  if (!v || hp__tree_is_null(v))
    return NULL;
  return v;
}

/* Parses a YAML integer: [-+]?[0-9]+, 0x[0-9a-fA-F]+ or 0o[0-7]+. */
static int parse_i64(const char *s, int64_t *out) {
  const char *p = s;
  int neg = 0;
  if (*p == '-' || *p == '+')
    neg = *p++ == '-';
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
  } else if (p[0] == '0' && p[1] == 'o') {
    base = 8;
    p += 2;
  }
  if (!*p)
    return -1;
  uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; *p; p++) {
    int d;
    if (*p >= '0' && *p <= '9')
      d = *p - '0';
    else if (*p >= 'a' && *p <= 'f')
      d = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F')
      d = *p - 'A' + 10;
    else
      return -1;
    if (d >= base || v > (lim - (uint64_t)d) / (uint64_t)base)
      return -1;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  if (neg)
    *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  else
    *out = (int64_t)v;
  return 0;
}

/* Parses a YAML float: decimal with optional fraction and exponent
 * (1, 1.5, .5, 1e3, -2.5E-3), or .inf/-.inf/.nan in their three cases. */
static int parse_f64(const char *s, double *out) {
  const char *p = s;
  int neg = 0;
  if (*p == '-' || *p == '+')
    neg = *p++ == '-';
  if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
    *out = neg ? -INFINITY : INFINITY;
    return 0;
  }
  if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") ||
                 !strcmp(p, ".NAN"))) {
    *out = NAN;
    return 0;
  }
  const char *q = p;
  while (*q >= '0' && *q <= '9')
    q++;
  size_t digits = (size_t)(q - p);
  if (*q == '.') {
    const char *f = ++q;
    while (*q >= '0' && *q <= '9')
      q++;
    digits += (size_t)(q - f);
  }
  if (!digits)
    return -1;
  if (*q == 'e' || *q == 'E') {
    q++;
    if (*q == '-' || *q == '+')
      q++;
    if (!(*q >= '0' && *q <= '9'))
      return -1;
    while (*q >= '0' && *q <= '9')
      q++;
  }
  if (*q)
    return -1;
  char *end;
  double d = strtod(s, &end);
  if (*end)
    return -1;
  *out = d;
  return 0;
}

static int parse_bool(const char *s, int *out) {
  if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
    *out = 1;
    return 0;
  }
  if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
    *out = 0;
    return 0;
  }
  return -1;
}

int hp_tree_i64(const hp_tree *t, const char *path, int64_t dflt,
                int64_t *out) {
  const hp_tree *v = typed_lookup(t, path);
  if (!v) {
    *out = dflt;
    return HP_OK;
  }
  if (v->kind != HP_TREE_SCALAR || v->quoted || parse_i64(v->text, out))
    return HP_EINVAL;
  return HP_OK;
}

int hp_tree_f64(const hp_tree *t, const char *path, double dflt,
                double *out) {
  const hp_tree *v = typed_lookup(t, path);
  if (!v) {
    *out = dflt;
    return HP_OK;
  }
  if (v->kind != HP_TREE_SCALAR || v->quoted)
    return HP_EINVAL;
  int64_t i;
  if (parse_i64(v->text, &i) == 0) {
    *out = (double)i;
    return HP_OK;
  }
  return parse_f64(v->text, out) ? HP_EINVAL : HP_OK;
}

int hp_tree_bool(const hp_tree *t, const char *path, int dflt, int *out) {
  const hp_tree *v = typed_lookup(t, path);
  if (!v) {
    *out = dflt;
    return HP_OK;
  }
  if (v->kind != HP_TREE_SCALAR || v->quoted || parse_bool(v->text, out))
    return HP_EINVAL;
  return HP_OK;
}

const char *hp_tree_str(const hp_tree *t, const char *path, const char *dflt) {
  const hp_tree *v = typed_lookup(t, path);
  if (!v || v->kind != HP_TREE_SCALAR)
    return dflt;
  return v->text;
}

const char **hp__tree_strings(const hp_tree *v, size_t *n) {
  *n = 0;
  if (!v || (v->kind != HP_TREE_SCALAR && (v->kind != HP_TREE_SEQ || !v->n)))
    return NULL;
  size_t len = v->kind == HP_TREE_SCALAR ? 1 : v->n;
  const char **out = hp__xcalloc(len + 1, sizeof *out);
  for (size_t i = 0; i < len; i++) {
    const hp_tree *it = v->kind == HP_TREE_SCALAR ? v : v->items[i];
    if (it->kind != HP_TREE_SCALAR) {
      free(out);
      return NULL;
    }
    out[i] = it->text;
  }
  *n = len;
  return out;
}
