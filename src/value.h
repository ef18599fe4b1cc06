/*
 * value.h - the in-memory form of tables, arrays and groups (the public
 * API is in hpcpipe/node.h), their serialisation to bytes for MPI messages,
 * and content hashes.
 */
#ifndef HP_VALUE_H
#define HP_VALUE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "hpcpipe/node.h"
#include "mem.h"

#define HP_MAX_NDIM 8

typedef struct hp_column {
  char *name;
  hp_dtype type;
  /* int64_t[] (int64, timestamp) / double[] / uint8_t[] (bool) / int32_t[]
   * codes (dictionary strings); NULL for plain strings */
  void *data;
  /* strings: offsets into chars, [nrows + 1] for plain strings, [ndict + 1]
   * for a dictionary (whose entries are distinct) */
  int64_t *offs;
  char *chars;    /* strings: every value NUL-terminated, back to back */
  int dict;       /* 1: dictionary-encoded string column */
  size_t ndict;   /* dictionary entries; codes are always in [0, ndict) */
  uint8_t *valid; /* NULL (all valid) or [nrows] bytes, 0 = null, 1 = valid */
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
/* 1 if a and b are equal in content. Tables compare by what readers see:
 * a dictionary column equals a plain one with the same strings, a mask of
 * all ones equals no mask, the bytes under a null do not matter, and in a
 * float column a null equals NaN. The hash follows the same rules, and for
 * tables without masks, dictionaries or timestamps it is what it always
 * was (fingerprints stay stable). */
int hp__value_equal(const hp_value *a, const hp_value *b);

/* 1 if a projection onto cols[0..ncols) keeps column `name`, `kept`
 * columns being kept before it: a column it names, or with no names the
 * first column alone (for the row count). The one rule of the store's and
 * the CSV reader's projections. */
int hp__table_projects(const char *const *cols, size_t ncols, size_t kept,
                       const char *name);

/* hp_array_new without zeroing the elements: for a caller that writes every
 * one (a freshly reused heap block is not zero; calloc would clear it). */
hp_value *hp__array_new_uninit(hp_dtype type, int ndim, const size_t *dims);

/* Appends column c (filled in, owning its buffers and its malloc'd name)
 * to table t, which takes ownership even on error. HP_EINVAL if the row
 * count or the name does not fit t. */
int hp__table_adopt(hp_value *t, hp_column *c, size_t nrows);

/* Moves column col of src to the end of dst, renamed to name (NULL: its
 * own name), without copying its data. src keeps a husk in its place (same
 * name, type 0, no data), fit to be freed or to give up its other columns.
 * HP_EINVAL (nothing moved) for a bad column, a name dst already has or a
 * row count that differs from dst's. */
int hp__table_move_column(hp_value *dst, hp_value *src, size_t col,
                          const char *name);
/* Swaps the contents of two values (a table rebuilt in place). */
void hp__table_swap(hp_value *a, hp_value *b);

/* Row selections. Each returns a new table with the same columns (types,
 * dictionaries, masks kept), or NULL for a bad argument (not a table, a
 * row out of range) or when memory runs out. take: rows[i] for i < n, in
 * that order (repeats allowed); mask: the rows whose keep byte is nonzero;
 * slice: rows [r0, r1). */
hp_value *hp__table_take(const hp_value *t, const int64_t *rows, size_t n);
/* Reorders table t in place: row i becomes old row rows[i], for i below
 * its row count (rows in range; repeats allowed). Each column is gathered
 * into a buffer that the column before left free when they are of one
 * element size, so the table is rewritten in about one column's worth of
 * new memory instead of a copy of all of it. HP_EINVAL for a bad
 * argument (t unchanged), HP_ENOMEM (t's columns stay whole, some
 * reordered). */
int hp__table_permute(hp_value *t, const int64_t *rows);
hp_value *hp__table_mask(const hp_value *t, const uint8_t *keep);
hp_value *hp__table_slice(const hp_value *t, size_t r0, size_t r1);
/* Roughly the bytes hp__value_pack would write (within a small factor),
 * without packing: to decide cheaply that a value is too large to travel
 * inline. */
size_t hp__value_size_hint(const hp_value *v);
/* Rows [r0, r1) of a table, or of an array along axis 0; NULL if out of
 * range or a group. */
hp_value *hp__value_slice(const hp_value *v, size_t r0, size_t r1);

/* Concatenates n >= 1 values into *out. Tables need the same column names
 * and types in the same order (parts without columns and rows are
 * skipped); string columns that are dictionaries in every part stay a
 * dictionary (entries unified in order of first appearance), any plain
 * part makes the result plain; a mask in any part gives the result one.
 * Arrays join along axis 0 and need the same dtype and trailing dims.
 * Errors: HP_EINVAL "concat: part 2: ..." naming the mismatch; HP_ENOMEM. */
int hp__value_concat(const hp_value *const *parts, size_t n, hp_value **out,
                     hp_error *err);

/* Timestamps as text. Parses "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.f...]]"
 * (or 'T' between date and time, an optional trailing 'Z'), surrounded by
 * optional blanks, into ns since the epoch UTC; 1 if it parsed. Digits past
 * the ninth of a fraction are dropped. */
int hp__timestamp_parse(const char *s, int64_t *out);
/* Writes "YYYY-MM-DD HH:MM:SS" plus ".fff", ".ffffff" or ".fffffffff" when
 * the fraction is nonzero (the fewest that are exact) into buf (at least
 * HP_TIMESTAMP_LEN bytes); returns the length. */
#define HP_TIMESTAMP_LEN 40
int hp__timestamp_format(int64_t ns, char *buf);

/* A set of strings numbered in insertion order (dictionary building):
 * zero-initialise, add, then hand the strings to a column or free. */
typedef struct hp_strset {
  int64_t *offs; /* [n + 1] offsets into chars */
  char *chars;
  size_t n, capoffs, nchars, capchars;
  int32_t *slots; /* open addressing: code + 1, 0 = empty */
  uint64_t *hashes; /* [n] hash of each string */
  size_t caphashes, nslots;
} hp_strset;

/* The code of the len bytes at s (which hold no NUL), added if new; -1 if
 * the set already holds `limit` strings (s not added). */
int32_t hp__strset_add(hp_strset *set, const char *s, size_t len,
                       size_t limit);
/* Moves the strings into c as its dictionary (offs, chars, ndict, dict = 1)
 * and empties set. */
void hp__strset_to_dict(hp_strset *set, hp_column *c);
void hp__strset_free(hp_strset *set);

/* A compensated sum (Neumaier's, as pandas and numpy's pairwise sums
 * aim for): s + c is the running total of the x added. The error of each
 * add is found without a branch (Knuth's two-sum: the same exact error
 * as ordering the operands by size, so the same bits). Once s is inf or
 * NaN it stays so, and c (left finite) no longer counts. */
static inline void hp__kadd(double *s, double *c, double x) {
  double a = *s, t = a + x;
  if (__builtin_expect(isfinite(t), 1)) {
    double xb = t - a, ab = t - xb;
    *c += (a - ab) + (x - xb);
  }
  *s = t;
}

/* dst[i] = src[i] where valid[i], else NaN (a float null as files and
 * readers take it), without a branch: nulls fall anywhere. dst may be
 * src. */
static inline void hp__f64_null_nan(double *dst, const double *src,
                                    const uint8_t *valid, size_t n) {
  const double qnan = NAN;
  uint64_t nan_bits, v;
  memcpy(&nan_bits, &qnan, sizeof nan_bits);
  for (size_t i = 0; i < n; i++) {
    uint64_t keep = (uint64_t)0 - (uint64_t)(valid[i] != 0);
    memcpy(&v, &src[i], sizeof v);
    v = (v & keep) | (nan_bits & ~keep);
    memcpy(&dst[i], &v, sizeof v);
  }
}

/* The total of a compensated sum. */
static inline double hp__ktotal(double s, double c) {
  return isfinite(s) ? s + c : s;
}

#endif
