/*
 * tree.h - configuration trees: what YAML files parse into, with the file,
 * line and column of every node for error messages. Maps keep their keys
 * in order. The public read-only accessors are declared in hpcpipe/node.h.
 */
#ifndef HP_TREE_H
#define HP_TREE_H

#include <stdint.h>

#include "hpcpipe/node.h"

struct hp_tree {
  hp_tree_kind kind;
  uint8_t quoted;     /* scalar written with quotes: always a string */
  uint32_t line, col; /* 1-based position in file */
  const char *file;   /* borrowed; outlives the tree (the conf owns it) */
  char *text;         /* scalars: the value, NUL-terminated */
  size_t n, cap;      /* seq/map items */
  hp_tree **items;    /* seq items or map values */
  hp_tree **keys;     /* map keys (scalars), parallel to items */
};

hp_tree *hp__tree_new(hp_tree_kind kind, const char *file, uint32_t line,
                      uint32_t col);
hp_tree *hp__tree_scalar(const char *text, int quoted, const char *file,
                         uint32_t line, uint32_t col);
void hp__tree_free(hp_tree *t);
hp_tree *hp__tree_copy(const hp_tree *t);
/* Appends item to a sequence (takes ownership). */
void hp__tree_append(hp_tree *seq, hp_tree *item);
/* Sets key in a map (takes ownership of key and val); an existing entry
 * with the same key is replaced in place (its old key and value freed). */
void hp__tree_put(hp_tree *map, hp_tree *key, hp_tree *val);
/* Appends key/val to a map known not to hold key (no search; takes
 * ownership). */
void hp__tree_map_append(hp_tree *map, hp_tree *key, hp_tree *val);
/* Single-key lookup in a map (no dots); NULL if absent or not a map. */
hp_tree *hp__tree_find(const hp_tree *map, const char *key);
/* Index of key in map, or -1. */
long hp__tree_index(const hp_tree *map, const char *key);
/* Deep merge of src into dst (maps merge recursively, anything else
 * replaces); takes ownership of src. */
void hp__tree_merge(hp_tree *dst, hp_tree *src);
/* "file:line:col" of t into buf (size n); returns buf. */
const char *hp__tree_loc(const hp_tree *t, char *buf, size_t n);
/* 1 if the scalar is a YAML null (~, null, Null, NULL, empty plain). */
int hp__tree_is_null(const hp_tree *t);
/* Appends a canonical text form of t to a hash (for fingerprints). */
uint64_t hp__tree_hash(const hp_tree *t, uint64_t seed);

/* The strings of v, a scalar or a non-empty list of scalars (args such as
 * `by: name` or `by: [a, b]`): a new NULL-terminated array of borrowed
 * texts and *n; NULL and *n 0 if v is absent or anything else. */
const char **hp__tree_strings(const hp_tree *v, size_t *n);

#endif
