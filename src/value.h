/*
 * value.h - the in-memory form of tables, arrays and groups (the public
 * API is in hpcpipe/node.h), their serialisation to bytes for MPI messages,
 * and content hashes.
 */
#ifndef HP_VALUE_H
#define HP_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hpcpipe/node.h"
#include "mem.h"

#define HP_MAX_NDIM 8

typedef struct hp_column {
  char *name;
  hp_dtype type;
  void *data;     /* int64_t[] / double[] / uint8_t[]; NULL for strings */
  int64_t *offs;  /* strings: [nrows + 1] offsets into chars */
  char *chars;    /* strings: every value NUL-terminated, back to back */
} hp_column;

typedef struct hp_attr {
  char *name;
  hp_dtype type; /* HP_INT64 (also bool), HP_FLOAT64, HP_STRING */
  int64_t i;
  double f;
  char *s;
} hp_attr;

struct hp_value {
  hp_kind kind;
  /* table */
  size_t nrows, ncols, capcols;
  hp_column *cols;
  /* array */
  hp_dtype dtype;
  int ndim;
  size_t dims[HP_MAX_NDIM];
  void *data;
  /* group */
  size_t nchild, capchild;
  char **names;
  hp_value **children;
  size_t nattrs, capattrs;
  hp_attr *attrs;
};

/* Appends a self-describing little-endian encoding of v to out. */
void hp__value_pack(const hp_value *v, hp_buf *out);
/* Decodes what hp__value_pack wrote (exactly len bytes). Errors: HP_EIO
 * "corrupt value encoding" (never reads past len). */
int hp__value_unpack(const void *p, size_t len, hp_value **out,
                     hp_error *err);
/* Content hash: equal values (same kind, names, types, shape and bytes)
 * hash equal on every rank and machine. */
uint64_t hp__value_hash(const hp_value *v, uint64_t seed);
/* 1 if a and b are equal in content. */
int hp__value_equal(const hp_value *a, const hp_value *b);

#endif
