/*
 * sort.h - row orders (sort.c): the order frame.sort and the groupby's
 * final keys use. Keys are compared as pandas' sort_values does with a
 * stable kind: ascending or descending, nulls (and NaN) last whatever the
 * direction, ties in row order.
 */
#ifndef HP_SORT_H
#define HP_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

/* One key of an order: a column's values and mask (NULL: no nulls), or,
 * for strings, each row's rank among the column's values. */
typedef struct hp_sort_key {
  hp_dtype type;
  const void *data;     /* int64, timestamp, float64, bool (uint8) */
  const uint8_t *valid; /* or NULL */
  const int32_t *rank;  /* HP_STRING: rank of each row's string */
  int desc;
} hp_sort_key;

/* idx[0..n): rows 0..n-1 ordered by keys k[0..nk). When the keys fit in
 * 64 bits together (integer and rank spans, a bool, a float's bits, a
 * null flag for a key that has nulls) they are packed into one word per
 * row and radix-sorted; otherwise merge-sorted by comparing rows. */
void hp__sort_order(const hp_sort_key *k, size_t nk, size_t n, int64_t *idx);

/* The rank of each row's string in string column c of t (n + 1 entries;
 * equal strings share one); free() it. */
int32_t *hp__sort_string_ranks(const hp_value *t, size_t c);
/* Key k on column c of table t (desc: descending), string ranks
 * included; free((void *)k->rank) when done. */
void hp__sort_key_of(const hp_value *t, size_t c, int desc, hp_sort_key *k);

#endif
