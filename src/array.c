/*
 * array.c - the array.* builtins: chunked n-dimensional int64/float64
 * arrays in the manner of dask.array, partitioned along axis 0 only. A
 * partition is a block of whole rows: `chunks: [500, 500]` on a 1000x1000
 * array gives two partitions of 500 rows each (entries of `chunks` after
 * the first are accepted for Dask's sake and ignored).
 *
 *   sources (one partition per row block): random, ones, zeros, full, arange
 *   per block:  map (elementwise expression), matmul (row block @ whole B)
 *   whole:      transpose
 *   reductions: sum, mean, std, var, min, max over all elements (axis
 *               absent or null: shape [1]), over rows (axis 0: the shape
 *               without its first dimension; [1] for a 1-D array) or
 *               within rows (axis >= 1, or negative: the shape without
 *               that dimension, rows kept).
 *
 * array.map and array.matmul run once per row block of their first input;
 * other inputs arrive whole (part.c), so in array.map they must broadcast
 * against the block by numpy's rules (a row of shape dims[1:], a scalar
 * [1]); an input of x's full shape works only when x is one partition.
 *
 * A reduction's partial is a group. Over all elements or axis 0 it holds
 * running states per result element, those the operation needs: a
 * Neumaier compensated sum "s" + "c", the block's mean "m" and sum of
 * squared deviations "q" (two passes, then merged with Chan et al.'s
 * formula), "lo"/"hi", and for int64 input the exact wrapping sum "isum"
 * and "ilo"/"ihi"; attribute "n" counts the values behind each element and
 * child "shape" is the result's shape.
 * Within rows, each block's result is final, and the partial is that
 * block ("rows"), concatenated in partition order. The combine tree has a
 * fixed shape (part.c), so results do not depend on the rank count.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "mem.h"
#include "registry.h"
#include "rng.h"
#include "value.h"

/* ---- small helpers ------------------------------------------------------- */

/* "(3, 4)" into buf. */
static const char *shape_str(char *buf, size_t len, int nd,
                             const size_t *dims) {
  size_t at = 0;
  at += (size_t)snprintf(buf, len, "(");
  for (int i = 0; i < nd && at < len; i++)
    at += (size_t)snprintf(buf + at, len - at, "%s%zu", i ? ", " : "", dims[i]);
  if (at < len)
    snprintf(buf + at, len - at, nd == 1 ? ",)" : ")");
  return buf;
}

static int array_input(hp_node_ctx *ctx, size_t i, const hp_value **a) {
  if (hp_node_ninputs(ctx) <= i)
    return hp_node_fail(ctx, "%s needs %s array input", hp_node_name(ctx),
                        i ? "a second" : "an");
  HP_TRY(hp_node_input(ctx, i, a));
  if (hp_value_kind(*a) != HP_ARRAY)
    return hp_node_fail(ctx, "input '%s' is a %s, not an array",
                        hp_node_input_name(ctx, i),
                        hp_value_kind(*a) == HP_TABLE ? "table" : "group");
  return HP_OK;
}

/* v to output 0 and copies of it to any further outputs. */
static int output_all(hp_node_ctx *ctx, hp_value *v) {
  for (size_t i = 1; i < hp_node_noutputs(ctx); i++) {
    int rc = hp_node_output(ctx, i, hp_value_copy(v));
    if (rc != HP_OK) {
      hp_value_free(v);
      return rc;
    }
  }
  return hp_node_output(ctx, 0, v);
}

static hp_value *new_array(hp_dtype t, int nd, const size_t *dims) {
  return hp_array_new(t, nd, dims);
}

/* a * b into *out; 0 on overflow. */
static int mul_ok(size_t a, size_t b, size_t *out) {
  if (a && b > SIZE_MAX / a)
    return 0;
  *out = a * b;
  return 1;
}

/* args.dtype: float64 or int64 (numpy's names); dflt when absent. */
static int parse_dtype(const hp_tree *args, hp_dtype dflt, hp_dtype *out,
                       char *msg, size_t len) {
  const hp_tree *v = hp_tree_get(args, "dtype");
  const char *s = hp_tree_text(v);
  *out = dflt;
  if (!v || hp_tree_type(v) == HP_TREE_NULL ||
      (s && (!strcmp(s, "null") || !strcmp(s, "~") || !*s)))
    return 0;
  if (s && (!strcmp(s, "float64") || !strcmp(s, "float") ||
            !strcmp(s, "f8") || !strcmp(s, "double"))) {
    *out = HP_FLOAT64;
  } else if (s && (!strcmp(s, "int64") || !strcmp(s, "int") ||
                   !strcmp(s, "i8"))) {
    *out = HP_INT64;
  } else {
    snprintf(msg, len, "args.dtype: '%s' is not float64 or int64",
             s ? s : "(a list or mapping)");
    return 1;
  }
  return 0;
}

/* ---- sources ------------------------------------------------------------- */

typedef struct src_spec {
  int ndim;
  size_t dims[HP_MAX_NDIM];
  size_t rowsize; /* elements per row */
  size_t chunk;   /* rows per partition */
  size_t nparts;
  hp_dtype dtype;
} src_spec;

static int tree_size(const hp_tree *t, size_t *out) {
  int64_t v;
  if (hp_tree_type(t) != HP_TREE_SCALAR || hp_tree_i64(t, NULL, 0, &v) ||
      v < 0)
    return 1;
  *out = (size_t)v;
  return 0;
}

/* args.chunks: rows per partition, an integer or a list whose first entry
 * counts; -1 or absent: all rows in one partition. */
static int parse_chunks(const hp_tree *args, src_spec *s, char *msg,
                        size_t len) {
  const hp_tree *c = hp_tree_get(args, "chunks");
  size_t rows = s->dims[0];
  if (hp_tree_type(c) == HP_TREE_SEQ) {
    if (hp_tree_len(c) == 0 || (int)hp_tree_len(c) > s->ndim) {
      snprintf(msg, len, "args.chunks: a list needs 1 to %d entries (one per "
                         "dimension; only the first splits the array)",
               s->ndim);
      return 1;
    }
    c = hp_tree_at(c, 0);
  }
  int64_t v = -1;
  if (c && hp_tree_type(c) != HP_TREE_NULL &&
      (hp_tree_type(c) != HP_TREE_SCALAR || hp_tree_i64(c, NULL, -1, &v) ||
       v == 0 || v < -1)) {
    snprintf(msg, len, "args.chunks: expected rows per partition, an integer "
                       ">= 1 (or -1 for all rows) or a list whose first "
                       "entry is one");
    return 1;
  }
  s->chunk = v < 0 || (uint64_t)v > rows ? rows : (size_t)v;
  if (s->chunk == 0)
    s->chunk = 1;
  s->nparts = rows == 0 ? 1 : rows / s->chunk + (rows % s->chunk != 0);
  if (s->nparts > (size_t)INT32_MAX / 4) {
    snprintf(msg, len, "args.chunks: %zu partitions are too many",
             s->nparts);
    return 1;
  }
  return 0;
}

/* args.shape (an integer or a list of 1 to 8 integers >= 0), chunks and
 * dtype. */
static int parse_shape(const hp_tree *args, src_spec *s, char *msg,
                       size_t len) {
  memset(s, 0, sizeof *s);
  const hp_tree *sh = hp_tree_get(args, "shape");
  int bad = 0;
  if (hp_tree_type(sh) == HP_TREE_SCALAR) {
    s->ndim = 1;
    bad = tree_size(sh, &s->dims[0]);
  } else if (hp_tree_type(sh) == HP_TREE_SEQ && hp_tree_len(sh) >= 1 &&
             hp_tree_len(sh) <= HP_MAX_NDIM) {
    s->ndim = (int)hp_tree_len(sh);
    for (int i = 0; i < s->ndim && !bad; i++)
      bad = tree_size(hp_tree_at(sh, (size_t)i), &s->dims[i]);
  } else {
    bad = 1;
  }
  if (bad) {
    snprintf(msg, len, "args.shape: expected an integer >= 0 or a list of 1 "
                       "to %d integers >= 0, like [1000, 1000]",
             HP_MAX_NDIM);
    return 1;
  }
  size_t total = 1;
  s->rowsize = 1;
  for (int i = 0; i < s->ndim; i++) {
    if (!mul_ok(total, s->dims[i], &total) || total > SIZE_MAX / 8 ||
        (i && !mul_ok(s->rowsize, s->dims[i], &s->rowsize))) {
      snprintf(msg, len, "args.shape: too many elements");
      return 1;
    }
  }
  if (parse_dtype(args, HP_FLOAT64, &s->dtype, msg, len))
    return 1;
  return parse_chunks(args, s, msg, len);
}

/* Rows [*r0, *r1) of partition p. */
static void part_rows(const src_spec *s, size_t p, size_t *r0, size_t *r1) {
  *r0 = p * s->chunk;
  if (*r0 > s->dims[0])
    *r0 = s->dims[0];
  *r1 = s->dims[0] - *r0 > s->chunk ? *r0 + s->chunk : s->dims[0];
}

/* A new block for partition hp_node_part(ctx), not initialised: callers
 * write every element. */
static int new_block(hp_node_ctx *ctx, const src_spec *s, hp_value **out) {
  size_t p = hp_node_part(ctx);
  if (p >= s->nparts)
    return hp_node_fail(ctx, "partition %zu of %zu", p, s->nparts);
  size_t r0, r1, dims[HP_MAX_NDIM];
  part_rows(s, p, &r0, &r1);
  memcpy(dims, s->dims, sizeof dims);
  dims[0] = r1 - r0;
  *out = hp__array_new_uninit(s->dtype, s->ndim, dims); /* callers fill */
  if (!*out)
    return hp_node_fail(ctx, "out of memory for a block of %zu rows", r1 - r0);
  return HP_OK;
}

static int shape_nparts(const hp_tree *args, size_t *n, char *msg,
                        size_t len) {
  src_spec s;
  if (parse_shape(args, &s, msg, len))
    return 1;
  *n = s.nparts;
  return 0;
}

typedef struct random_spec {
  int normal;
  double a, b; /* low/high or mean/sd */
  int64_t seed;
} random_spec;

static int parse_random(const hp_tree *args, src_spec *s, random_spec *r,
                        char *msg, size_t len) {
  if (parse_shape(args, s, msg, len))
    return 1;
  if (s->dtype != HP_FLOAT64) {
    snprintf(msg, len, "args.dtype: array.random makes float64 only");
    return 1;
  }
  if (hp_tree_i64(args, "seed", 0, &r->seed)) {
    snprintf(msg, len, "args.seed: expected an integer");
    return 1;
  }
  const char *d = hp_tree_str(args, "distribution", "uniform");
  r->normal = !strcmp(d, "normal");
  if (!r->normal && strcmp(d, "uniform")) {
    snprintf(msg, len, "args.distribution: '%s' is not uniform or normal", d);
    return 1;
  }
  const char *ka = r->normal ? "mean" : "low", *kb = r->normal ? "sd" : "high";
  if (hp_tree_f64(args, ka, 0, &r->a) ||
      hp_tree_f64(args, kb, 1, &r->b) || !isfinite(r->a) || !isfinite(r->b)) {
    snprintf(msg, len, "args.%s and args.%s: expected numbers", ka, kb);
    return 1;
  }
  if (r->normal ? r->b < 0 : r->b < r->a) {
    snprintf(msg, len, r->normal ? "args.sd: must be >= 0"
                                 : "args.high: must be >= args.low");
    return 1;
  }
  return 0;
}

static int random_nparts(const hp_tree *args, size_t *n, char *msg,
                         size_t len) {
  src_spec s;
  random_spec r;
  if (parse_random(args, &s, &r, msg, len))
    return 1;
  *n = s.nparts;
  return 0;
}

/* array.random: partition p drawn row-major from stream (seed, p). */
static int random_run(hp_node_ctx *ctx) {
  src_spec s;
  random_spec r;
  char msg[256];
  if (parse_random(hp_node_args(ctx), &s, &r, msg, sizeof msg))
    return hp_node_fail(ctx, "%s", msg);
  hp_value *a;
  HP_TRY(new_block(ctx, &s, &a));
  hp_rng *g = hp_rng_new((uint64_t)r.seed, (uint64_t)hp_node_part(ctx));
  double *x = hp_array_data_mut(a);
  size_t n = hp_array_size(a);
  for (size_t i = 0; i < n; i++)
    x[i] = r.normal ? hp_rng_normal(g, r.a, r.b)
                    : hp_rng_uniform(g, r.a, r.b);
  hp_rng_free(g);
  return output_all(ctx, a);
}

/* Fills a with value (args.value for full, else 0 or 1). */
static int fill_run(hp_node_ctx *ctx, int what) {
  src_spec s;
  char msg[256];
  const hp_tree *args = hp_node_args(ctx);
  if (parse_shape(args, &s, msg, sizeof msg))
    return hp_node_fail(ctx, "%s", msg);
  double f = what;
  int64_t i = what;
  if (what < 0) { /* full */
    if (s.dtype == HP_INT64 ? hp_tree_i64(args, "value", 0, &i) != HP_OK
                            : hp_tree_f64(args, "value", 0, &f) != HP_OK)
      return hp_node_fail(ctx, "args.value: expected %s number",
                          s.dtype == HP_INT64 ? "an integer" : "a");
  }
  hp_value *a;
  HP_TRY(new_block(ctx, &s, &a));
  size_t n = hp_array_size(a);
  if (s.dtype == HP_INT64) {
    int64_t *x = hp_array_data_mut(a);
    for (size_t k = 0; k < n; k++)
      x[k] = i;
  } else {
    double *x = hp_array_data_mut(a);
    for (size_t k = 0; k < n; k++)
      x[k] = f;
  }
  return output_all(ctx, a);
}

static int ones_run(hp_node_ctx *ctx) { return fill_run(ctx, 1); }
static int zeros_run(hp_node_ctx *ctx) { return fill_run(ctx, 0); }
static int full_run(hp_node_ctx *ctx) { return fill_run(ctx, -1); }

static int full_nparts(const hp_tree *args, size_t *n, char *msg,
                       size_t len) {
  if (!hp_tree_get(args, "value")) {
    snprintf(msg, len, "array.full needs args.value");
    return 1;
  }
  return shape_nparts(args, n, msg, len);
}

typedef struct arange_spec {
  src_spec s;
  int64_t istart, istep;
  double start, step;
} arange_spec;

#define ARANGE_MAX_ABS ((int64_t)1 << 62)

/* numpy.arange(start, stop, step, dtype): args.stop is required. */
static int parse_arange(const hp_tree *args, arange_spec *a, char *msg,
                        size_t len) {
  memset(a, 0, sizeof *a);
  src_spec *s = &a->s;
  s->ndim = 1;
  s->rowsize = 1;
  if (!hp_tree_get(args, "stop")) {
    snprintf(msg, len, "array.arange needs args.stop (and optionally start, "
                       "step, dtype, chunks)");
    return 1;
  }
  int64_t istop;
  double stop;
  int ints = hp_tree_i64(args, "start", 0, &a->istart) == HP_OK &&
             hp_tree_i64(args, "stop", 0, &istop) == HP_OK &&
             hp_tree_i64(args, "step", 1, &a->istep) == HP_OK;
  if (hp_tree_f64(args, "start", 0, &a->start) ||
      hp_tree_f64(args, "stop", 0, &stop) ||
      hp_tree_f64(args, "step", 1, &a->step) || !isfinite(a->start) ||
      !isfinite(stop) || !isfinite(a->step)) {
    snprintf(msg, len, "args.start, stop and step: expected numbers");
    return 1;
  }
  if (a->step == 0) {
    snprintf(msg, len, "args.step: must not be 0");
    return 1;
  }
  if (parse_dtype(args, ints ? HP_INT64 : HP_FLOAT64, &s->dtype, msg, len))
    return 1;
  if (s->dtype == HP_INT64 && !ints) {
    snprintf(msg, len, "args.dtype: int64 needs integer start, stop and step");
    return 1;
  }
  double n;
  if (ints) {
    if (llabs(a->istart) > ARANGE_MAX_ABS || llabs(istop) > ARANGE_MAX_ABS ||
        llabs(a->istep) > ARANGE_MAX_ABS) {
      snprintf(msg, len, "args.start, stop and step: out of range");
      return 1;
    }
    int64_t d = istop - a->istart, st = a->istep;
    int64_t q = d && (d > 0) == (st > 0)
                    ? (llabs(d) + llabs(st) - 1) / llabs(st)
                    : 0;
    n = (double)q;
  } else {
    n = ceil((stop - a->start) / a->step);
    if (!(n > 0))
      n = 0;
  }
  if (n > (double)((size_t)1 << 40)) {
    snprintf(msg, len, "array.arange: %.0f elements are too many", n);
    return 1;
  }
  s->dims[0] = (size_t)n;
  return parse_chunks(args, s, msg, len);
}

static int arange_nparts(const hp_tree *args, size_t *n, char *msg,
                         size_t len) {
  arange_spec a;
  if (parse_arange(args, &a, msg, len))
    return 1;
  *n = a.s.nparts;
  return 0;
}

/* array.arange: element i is start + i*step (ints), or as numpy fills a
 * float range: start, start + step, then start + i*((start + step) - start). */
static int arange_run(hp_node_ctx *ctx) {
  arange_spec a;
  char msg[256];
  if (parse_arange(hp_node_args(ctx), &a, msg, sizeof msg))
    return hp_node_fail(ctx, "%s", msg);
  hp_value *v;
  HP_TRY(new_block(ctx, &a.s, &v));
  size_t r0, r1;
  part_rows(&a.s, hp_node_part(ctx), &r0, &r1);
  if (a.s.dtype == HP_INT64) {
    int64_t *x = hp_array_data_mut(v);
    for (size_t i = r0; i < r1; i++)
      x[i - r0] = a.istart + (int64_t)i * a.istep;
  } else {
    double *x = hp_array_data_mut(v);
    double delta = (a.start + a.step) - a.start;
    for (size_t i = r0; i < r1; i++)
      x[i - r0] = i == 0   ? a.start
                  : i == 1 ? a.start + a.step
                           : a.start + (double)i * delta;
  }
  return output_all(ctx, v);
}

/* ---- map: elementwise expressions ---------------------------------------- */

/* y broadcast (numpy's rules) to shape (nd, dims) as a new buffer of
 * 8-byte elements; NULL (message in msg) when the shapes do not fit. */
static void *broadcast(const hp_value *y, int nd, const size_t *dims,
                       size_t total, char *msg, size_t len) {
  int ny = hp_array_ndim(y);
  const size_t *yd = hp_array_dims(y);
  size_t stride[HP_MAX_NDIM] = {0}, st = 1;
  int fits = ny <= nd;
  for (int d = nd - 1; d >= 0 && fits; d--) {
    int k = d - (nd - ny);
    if (k < 0)
      continue;
    if (yd[k] != dims[d] && yd[k] != 1)
      fits = 0;
    stride[d] = yd[k] == 1 ? 0 : st;
    st *= yd[k];
  }
  if (!fits) {
    char a[120], b[120];
    snprintf(msg, len, "shape %s does not broadcast to x's %s",
             shape_str(a, sizeof a, ny, yd), shape_str(b, sizeof b, nd, dims));
    return NULL;
  }
  uint64_t *out = malloc(total ? total * 8 : 1);
  if (!out) {
    snprintf(msg, len, "out of memory");
    return NULL;
  }
  const uint64_t *src = hp_array_data(y);
  if (ny == nd && hp_array_size(y) == total) {
    memcpy(out, src, total * 8);
    return out;
  }
  size_t idx[HP_MAX_NDIM] = {0}, off = 0;
  for (size_t i = 0; i < total; i++) {
    out[i] = src[off];
    for (int d = nd - 1; d >= 0; d--) { /* odometer */
      off += stride[d];
      if (++idx[d] < dims[d])
        break;
      off -= stride[d] * dims[d];
      idx[d] = 0;
    }
  }
  return out;
}

/* The input a name in the expression stands for: "x" is the first. */
static long input_for(hp_node_ctx *ctx, const char *name) {
  if (!strcmp(name, "x"))
    return 0;
  return hp_node_input_index(ctx, name);
}

/* array.map: args.expr over x (the first input, one block) and other
 * inputs by name, broadcast like numpy against x. */
static int map_run(hp_node_ctx *ctx) {
  const hp_value *x;
  HP_TRY(array_input(ctx, 0, &x));
  const char *text = hp_tree_str(hp_node_args(ctx), "expr", NULL);
  if (!text)
    return hp_node_fail(ctx, "array.map needs args.expr, an expression over "
                             "x (like \"x * 2 + 1\")");
  hp_error err = HP_ERROR_INIT;
  hp_expr *e = NULL;
  if (hp__expr_parse(text, &e, &err) != HP_OK)
    return hp_node_fail(ctx, "%s", err.msg);
  int nd = hp_array_ndim(x);
  const size_t *dims = hp_array_dims(x);
  size_t total = hp_array_size(x);
  hp_value *t = hp_table_new();
  int rc = HP_OK;
  size_t ncols = hp__expr_ncols(e);
  for (size_t i = 0; i <= ncols && rc == HP_OK; i++) {
    const char *name = i < ncols ? hp__expr_col(e, i) : "x";
    if (i == ncols && hp_table_ncols(t) > 0)
      break; /* x only pads a table the expression reads nothing from */
    long k = input_for(ctx, name);
    const hp_value *y = NULL;
    if (k < 0) {
      rc = hp_node_fail(ctx, "expression '%s': '%s' is not an input (x is "
                             "the first input, others go by their names)",
                        text, name);
      break;
    }
    rc = array_input(ctx, (size_t)k, &y);
    if (rc != HP_OK)
      break;
    char msg[300] = "";
    void *col = broadcast(y, nd, dims, total, msg, sizeof msg);
    if (!col) {
      const char *hint =
          hp_node_nparts(ctx) > 1 && hp_array_ndim(y) == nd
              ? " (x here is one row block of a partitioned array; other "
                "inputs are whole and must broadcast against the block, e.g. "
                "a row of shape dims[1:])"
              : "";
      rc = hp_node_fail(ctx, "input '%s': %s%s", name, msg, hint);
      break;
    }
    hp_column c = {.name = hp__xstrdup(name), .type = hp_array_dtype(y),
                   .data = col};
    rc = hp__table_adopt(t, &c, total);
    if (rc != HP_OK)
      rc = hp_node_fail(ctx, "input '%s': cannot add it", name);
  }
  hp_value *v = NULL;
  if (rc == HP_OK && hp__expr_eval(e, t, &v, &err) != HP_OK)
    rc = hp_node_fail(ctx, "%s", err.msg);
  hp_value_free(t);
  hp_value *out = NULL;
  if (rc == HP_OK) {
    hp_dtype ty = hp_table_coltype(v, 0);
    const uint8_t *valid = hp_table_valid(v, 0);
    const void *src = hp_table_column(v, 0);
    if (ty != HP_INT64 && ty != HP_FLOAT64 && ty != HP_BOOL) {
      rc = hp_node_fail(ctx, "expression '%s' is %s, not a number", text,
                        hp_dtype_name(ty));
    } else if (ty != HP_FLOAT64 && valid) {
      size_t r = 0;
      while (r < total && valid[r])
        r++;
      if (r < total)
        rc = hp_node_fail(ctx, "expression '%s': no integer value at element "
                               "%zu (division by zero?)",
                          text, r);
    }
    if (rc == HP_OK) {
      out = hp__array_new_uninit(ty == HP_FLOAT64 ? HP_FLOAT64 : HP_INT64, nd,
                                 dims); /* every element is written */
      if (!out) {
        rc = hp_node_fail(ctx, "out of memory");
      } else if (ty == HP_BOOL) {
        int64_t *o = hp_array_data_mut(out);
        for (size_t r = 0; r < total; r++)
          o[r] = ((const uint8_t *)src)[r];
      } else if (total) {
        memcpy(hp_array_data_mut(out), src, total * 8);
      }
    }
  }
  hp_value_free(v);
  hp__expr_free(e);
  return rc == HP_OK ? output_all(ctx, out) : rc;
}

/* ---- transpose and matmul ------------------------------------------------ */

/* array.transpose: axes reversed (numpy's .T), or args.axes. */
static int transpose_run(hp_node_ctx *ctx) {
  const hp_value *a;
  HP_TRY(array_input(ctx, 0, &a));
  int nd = hp_array_ndim(a);
  const size_t *d = hp_array_dims(a);
  int axes[HP_MAX_NDIM], seen[HP_MAX_NDIM] = {0};
  const hp_tree *ax = hp_tree_get(hp_node_args(ctx), "axes");
  if (ax && hp_tree_type(ax) != HP_TREE_NULL) {
    if (hp_tree_type(ax) != HP_TREE_SEQ || (int)hp_tree_len(ax) != nd)
      return hp_node_fail(ctx, "args.axes: expected a list of %d axes", nd);
    for (int i = 0; i < nd; i++) {
      int64_t v;
      if (hp_tree_i64(hp_tree_at(ax, (size_t)i), NULL, 0, &v) || v < -nd ||
          v >= nd || seen[v < 0 ? v + nd : v]++)
        return hp_node_fail(ctx, "args.axes: expected a permutation of 0..%d",
                            nd - 1);
      axes[i] = (int)(v < 0 ? v + nd : v);
    }
  } else {
    for (int i = 0; i < nd; i++)
      axes[i] = nd - 1 - i;
  }
  size_t od[HP_MAX_NDIM], in_stride[HP_MAX_NDIM], st[HP_MAX_NDIM];
  size_t s = 1;
  for (int i = nd - 1; i >= 0; i--) {
    in_stride[i] = s;
    s *= d[i];
  }
  for (int i = 0; i < nd; i++) {
    od[i] = d[axes[i]];
    st[i] = in_stride[axes[i]];
  }
  hp_value *o = hp__array_new_uninit(hp_array_dtype(a), nd, od); /* filled */
  if (!o)
    return hp_node_fail(ctx, "out of memory");
  const uint64_t *src = hp_array_data(a);
  uint64_t *dst = hp_array_data_mut(o);
  size_t total = hp_array_size(a), idx[HP_MAX_NDIM] = {0}, off = 0;
  if (nd == 2) { /* the common case, blocked for the cache */
    size_t R = od[0], C = od[1];
    for (size_t i0 = 0; i0 < R; i0 += 32)
      for (size_t j0 = 0; j0 < C; j0 += 32)
        for (size_t i = i0; i < R && i < i0 + 32; i++)
          for (size_t j = j0; j < C && j < j0 + 32; j++)
            dst[i * C + j] = src[i * st[0] + j * st[1]];
  } else {
    for (size_t i = 0; i < total; i++) {
      dst[i] = src[off];
      for (int k = nd - 1; k >= 0; k--) {
        off += st[k];
        if (++idx[k] < od[k])
          break;
        off -= st[k] * od[k];
        idx[k] = 0;
      }
    }
  }
  return output_all(ctx, o);
}

/* array.matmul: the first input's row block (m x k) @ the second input,
 * whole (k x n, or k: a vector). int64 @ int64 stays int64 (wrapping),
 * anything else is float64. */
static int matmul_run(hp_node_ctx *ctx) {
  const hp_value *a, *b;
  HP_TRY(array_input(ctx, 0, &a));
  HP_TRY(array_input(ctx, 1, &b));
  char s1[120], s2[120];
  int na = hp_array_ndim(a), nb = hp_array_ndim(b);
  const size_t *da = hp_array_dims(a), *db = hp_array_dims(b);
  if (na != 2 || nb > 2 || da[1] != db[0])
    return hp_node_fail(ctx, "matmul: shapes %s and %s do not fit (a 2-D "
                             "array, then a 2-D array or a vector with as "
                             "many rows as the first has columns)",
                        shape_str(s1, sizeof s1, na, da),
                        shape_str(s2, sizeof s2, nb, db));
  size_t M = da[0], K = da[1], N = nb == 2 ? db[1] : 1;
  int ints = hp_array_dtype(a) == HP_INT64 && hp_array_dtype(b) == HP_INT64;
  size_t od[2] = {M, N};
  hp_value *o = new_array(ints ? HP_INT64 : HP_FLOAT64, nb, od);
  if (!o)
    return hp_node_fail(ctx, "out of memory");
  if (ints) {
    const uint64_t *A = hp_array_data(a), *B = hp_array_data(b);
    uint64_t *C = hp_array_data_mut(o);
    for (size_t i = 0; i < M; i++)
      for (size_t k = 0; k < K; k++) {
        uint64_t aik = A[i * K + k];
        const uint64_t *brow = B + k * N;
        uint64_t *crow = C + i * N;
        for (size_t j = 0; j < N; j++)
          crow[j] += aik * brow[j];
      }
    return output_all(ctx, o);
  }
  /* float64 copies of int operands */
  double *fa = NULL, *fb = NULL;
  const double *A, *B;
  const hp_value *src[2] = {a, b};
  double **tmp[2] = {&fa, &fb};
  const double **view[2] = {&A, &B};
  for (int t = 0; t < 2; t++) {
    if (hp_array_dtype(src[t]) == HP_FLOAT64) {
      *view[t] = hp_array_data(src[t]);
      continue;
    }
    size_t n = hp_array_size(src[t]);
    *tmp[t] = malloc(n ? n * sizeof(double) : 1);
    if (!*tmp[t]) {
      free(fa);
      hp_value_free(o);
      return hp_node_fail(ctx, "out of memory");
    }
    const int64_t *s = hp_array_data(src[t]);
    for (size_t i = 0; i < n; i++)
      (*tmp[t])[i] = (double)s[i];
    *view[t] = *tmp[t];
  }
  double *C = hp_array_data_mut(o);
  for (size_t i = 0; i < M; i++) {
    double *crow = C + i * N;
    for (size_t k = 0; k < K; k++) {
      double aik = A[i * K + k];
      const double *brow = B + k * N;
      for (size_t j = 0; j < N; j++)
        crow[j] += aik * brow[j];
    }
  }
  free(fa);
  free(fb);
  return output_all(ctx, o);
}

/* ---- reductions ---------------------------------------------------------- */

typedef enum red_op { R_SUM, R_MEAN, R_STD, R_VAR, R_MIN, R_MAX } red_op;

/* Running states of k result elements, each over n values. */
typedef struct stats {
  size_t k;
  int64_t n;
  int ints;
  double *s, *c, *m, *q, *lo, *hi;
  int64_t *isum, *ilo, *ihi;
} stats;

static void stats_init(stats *st, size_t k, int ints) {
  memset(st, 0, sizeof *st);
  st->k = k;
  st->ints = ints;
  size_t n = k ? k : 1;
  double **f[] = {&st->s, &st->c, &st->m, &st->q, &st->lo, &st->hi};
  for (size_t i = 0; i < 6; i++)
    *f[i] = hp__xcalloc(n, sizeof(double));
  int64_t **g[] = {&st->isum, &st->ilo, &st->ihi};
  for (size_t i = 0; i < 3; i++)
    *g[i] = hp__xcalloc(n, sizeof(int64_t));
  for (size_t j = 0; j < k; j++) {
    st->lo[j] = INFINITY;
    st->hi[j] = -INFINITY;
    st->ilo[j] = INT64_MAX;
    st->ihi[j] = INT64_MIN;
  }
}

static void stats_free(stats *st) {
  free(st->s), free(st->c), free(st->m), free(st->q), free(st->lo);
  free(st->hi), free(st->isum), free(st->ilo), free(st->ihi);
  memset(st, 0, sizeof *st);
}

/* NaN wins, as in numpy. */
static inline double fmin_nan(double a, double b) {
  return (b < a || isnan(b)) && !isnan(a) ? b : a;
}
static inline double fmax_nan(double a, double b) {
  return (b > a || isnan(b)) && !isnan(a) ? b : a;
}

/* Folds the values x[(o*len + l)*inner + i] for l < len into element
 * o*inner + i of st: every state of a block, with the deviations from the
 * block's own mean in a second pass. */
/* Sums of floats for sum and mean, the hot path: rows are added plainly in
 * blocks of 64 (vectorised, error at most 64 ulps of the block), and each
 * block's sums go into the compensated totals. */
static void fold_sums(stats *st, const double *x, size_t outer, size_t len,
                      size_t inner) {
  enum { B = 64 };
  double *blk = hp__xmalloc((inner ? inner : 1) * sizeof *blk);
  for (size_t o = 0; o < outer; o++) {
    for (size_t l0 = 0; l0 < len; l0 += B) {
      size_t l1 = len - l0 < B ? len : l0 + B;
      const double *row = x + (o * len + l0) * inner;
      if (inner == 1) {
        double t = 0;
        for (size_t l = l0; l < l1; l++)
          t += x[o * len + l];
        blk[0] = t;
      } else {
        memcpy(blk, row, inner * sizeof *blk);
        size_t l = l0 + 1;
        for (; l + 4 <= l1; l += 4) { /* four rows per pass over blk */
          const double *r0 = x + (o * len + l) * inner, *r1 = r0 + inner,
                       *r2 = r1 + inner, *r3 = r2 + inner;
          for (size_t i = 0; i < inner; i++)
            blk[i] += (r0[i] + r1[i]) + (r2[i] + r3[i]);
        }
        for (; l < l1; l++) {
          row = x + (o * len + l) * inner;
          for (size_t i = 0; i < inner; i++)
            blk[i] += row[i];
        }
      }
      for (size_t i = 0; i < inner; i++)
        hp__kadd(&st->s[o * inner + i], &st->c[o * inner + i], blk[i]);
    }
  }
  free(blk);
}

static void fold(stats *st, const hp_value *a, size_t outer, size_t len,
                 size_t inner, red_op op) {
  int ints = hp_array_dtype(a) == HP_INT64;
  const double *xf = hp_array_data(a);
  const int64_t *xi = hp_array_data(a);
  st->n = (int64_t)len;
  if (!ints && (op == R_SUM || op == R_MEAN)) {
    fold_sums(st, xf, outer, len, inner);
    return; /* min, max and deviations are not asked for */
  }
  for (size_t o = 0; o < outer; o++) {
    size_t e0 = o * inner;
    for (size_t l = 0; l < len; l++) {
      size_t base = (o * len + l) * inner;
      for (size_t i = 0; i < inner; i++) {
        size_t e = e0 + i;
        double v;
        if (ints) {
          int64_t w = xi[base + i];
          st->isum[e] = (int64_t)((uint64_t)st->isum[e] + (uint64_t)w);
          if (w < st->ilo[e])
            st->ilo[e] = w;
          if (w > st->ihi[e])
            st->ihi[e] = w;
          v = (double)w;
        } else {
          v = xf[base + i];
        }
        hp__kadd(&st->s[e], &st->c[e], v);
        st->lo[e] = fmin_nan(st->lo[e], v);
        st->hi[e] = fmax_nan(st->hi[e], v);
      }
    }
  }
  if (len == 0)
    return;
  size_t k = outer * inner;
  double *qc = hp__xcalloc(k ? k : 1, sizeof *qc);
  for (size_t e = 0; e < k; e++)
    st->m[e] = hp__ktotal(st->s[e], st->c[e]) / (double)len;
  for (size_t o = 0; o < outer; o++)
    for (size_t l = 0; l < len; l++) {
      size_t base = (o * len + l) * inner;
      for (size_t i = 0; i < inner; i++) {
        size_t e = o * inner + i;
        double v = ints ? (double)xi[base + i] : xf[base + i];
        double dv = v - st->m[e];
        hp__kadd(&st->q[e], &qc[e], dv * dv);
      }
    }
  for (size_t e = 0; e < k; e++)
    st->q[e] = hp__ktotal(st->q[e], qc[e]);
  free(qc);
}

/* Merges src into dst, element by element (Chan et al. for m and q). */
static void merge(stats *dst, const stats *src) {
  int64_t na = dst->n, nb = src->n;
  if (nb == 0)
    return;
  double n = (double)(na + nb);
  for (size_t e = 0; e < dst->k; e++) {
    if (na == 0) {
      dst->m[e] = src->m[e];
      dst->q[e] = src->q[e];
    } else {
      double delta = src->m[e] - dst->m[e];
      dst->q[e] += src->q[e] + delta * delta * (double)na * (double)nb / n;
      dst->m[e] += delta * (double)nb / n;
    }
    hp__kadd(&dst->s[e], &dst->c[e], src->s[e]);
    hp__kadd(&dst->s[e], &dst->c[e], src->c[e]);
    dst->isum[e] = (int64_t)((uint64_t)dst->isum[e] + (uint64_t)src->isum[e]);
    if (src->ilo[e] < dst->ilo[e])
      dst->ilo[e] = src->ilo[e];
    if (src->ihi[e] > dst->ihi[e])
      dst->ihi[e] = src->ihi[e];
    dst->lo[e] = fmin_nan(dst->lo[e], src->lo[e]);
    dst->hi[e] = fmax_nan(dst->hi[e], src->hi[e]);
  }
  dst->n = na + nb;
}

/* The reduction's result for the states, shape (nd, dims). */
static int finish_stats(hp_node_ctx *ctx, red_op op, const stats *st,
                        int64_t ddof, int nd, const size_t *dims,
                        hp_value **out) {
  int int_out = st->ints && (op == R_SUM || op == R_MIN || op == R_MAX);
  if ((op == R_MIN || op == R_MAX) && st->n == 0)
    return hp_node_fail(ctx, "zero-size array has no %s",
                        op == R_MIN ? "minimum" : "maximum");
  hp_value *o = new_array(int_out ? HP_INT64 : HP_FLOAT64, nd, dims);
  if (!o)
    return hp_node_fail(ctx, "out of memory");
  double *f = hp_array_data_mut(o);
  int64_t *g = hp_array_data_mut(o);
  double dn = (double)st->n, dof = (double)(st->n - ddof);
  if (dof < 0)
    dof = 0;
  for (size_t e = 0; e < st->k; e++) {
    switch (op) {
    case R_SUM:
      if (int_out)
        g[e] = st->isum[e];
      else
        f[e] = hp__ktotal(st->s[e], st->c[e]);
      break;
    case R_MEAN:
      f[e] = st->n ? hp__ktotal(st->s[e], st->c[e]) / dn : NAN;
      break;
    case R_VAR:
    case R_STD: {
      double v = st->n ? st->q[e] / dof : NAN;
      if (st->n && isnan(st->m[e]))
        v = NAN;
      f[e] = op == R_STD ? sqrt(v) : v;
      break;
    }
    case R_MIN:
      if (int_out)
        g[e] = st->ilo[e];
      else
        f[e] = st->lo[e];
      break;
    case R_MAX:
      if (int_out)
        g[e] = st->ihi[e];
      else
        f[e] = st->hi[e];
      break;
    }
  }
  *out = o;
  return HP_OK;
}

typedef struct red_args {
  int all;      /* over every element */
  int axis;     /* when !all */
  int64_t given; /* args.axis as written */
  int64_t ddof; /* std, var */
} red_args;

#define AXIS_NONE INT64_MIN

static int parse_red(hp_node_ctx *ctx, red_op op, red_args *r) {
  const hp_tree *args = hp_node_args(ctx);
  int64_t ax;
  if (hp_tree_i64(args, "axis", AXIS_NONE, &ax) != HP_OK)
    return hp_node_fail(ctx, "args.axis: expected an integer or null "
                             "(tuples of axes are not supported)");
  if (hp_tree_i64(args, "ddof", 0, &r->ddof) != HP_OK || r->ddof < 0)
    return hp_node_fail(ctx, "args.ddof: expected an integer >= 0");
  if (r->ddof && op != R_STD && op != R_VAR)
    return hp_node_fail(ctx, "args.ddof: only array.std and array.var take it");
  r->all = ax == AXIS_NONE;
  r->given = ax;
  if (!r->all && (ax < -HP_MAX_NDIM || ax >= HP_MAX_NDIM))
    ax = HP_MAX_NDIM; /* out of range whatever the array */
  r->axis = r->all ? 0 : (int)ax;
  return HP_OK;
}

/* Resolves r->axis against nd dimensions. */
static int check_axis(hp_node_ctx *ctx, red_args *r, int nd) {
  if (r->all)
    return HP_OK;
  int a = r->axis < 0 ? r->axis + nd : r->axis;
  if (a < 0 || a >= nd)
    return hp_node_fail(ctx,
                        "args.axis: %lld is out of range for a %d-D array",
                        (long long)r->given, nd);
  r->axis = a;
  return HP_OK;
}

/* ---- partials as groups -------------------------------------------------- */

static hp_value *vec(hp_dtype t, size_t k, const void *data) {
  size_t d = k;
  hp_value *v = new_array(t, 1, &d);
  if (v && k)
    memcpy(hp_array_data_mut(v), data, k * 8);
  return v;
}

/* Bit i: field i of stats_fields is kept in a partial of op. */
static const char *const stats_fields[] = {"s",  "c",    "m",   "q",  "lo",
                                           "hi", "isum", "ilo", "ihi"};
#define NFIELDS 9

static unsigned fields_of(red_op op, int ints) {
  switch (op) {
  case R_SUM:
    return ints ? 1u << 6 : 3u;
  case R_MEAN:
    return 3u;
  case R_STD:
  case R_VAR:
    return 3u << 2;
  case R_MIN:
    return ints ? 1u << 7 : 1u << 4;
  case R_MAX:
    return ints ? 1u << 8 : 1u << 5;
  }
  return 0;
}

static void *field(const stats *st, size_t i) {
  void *f[NFIELDS] = {st->s,  st->c,    st->m,   st->q,  st->lo,
                      st->hi, st->isum, st->ilo, st->ihi};
  return f[i];
}

/* A partial holds the states op needs (the rest are what stats_init sets,
 * so merging them is harmless). */
static hp_value *stats_partial(red_op op, const stats *st, int nd,
                               const size_t *dims) {
  hp_value *g = hp_group_new();
  hp_group_set_str(g, "form", "stats");
  hp_group_set_i64(g, "n", st->n);
  hp_group_set_i64(g, "ints", st->ints);
  int64_t sh[HP_MAX_NDIM];
  for (int i = 0; i < nd; i++)
    sh[i] = (int64_t)dims[i];
  hp_group_set(g, "shape", vec(HP_INT64, (size_t)nd, sh));
  unsigned keep = fields_of(op, st->ints);
  for (size_t i = 0; i < NFIELDS; i++)
    if (keep & (1u << i))
      hp_group_set(g, stats_fields[i], vec(i < 6 ? HP_FLOAT64 : HP_INT64,
                                           st->k, field(st, i)));
  return g;
}

/* Reads a "stats" partial into st (copies); its result shape into nd/dims. */
static int read_partial(hp_node_ctx *ctx, const hp_value *g, stats *st,
                        int *nd, size_t *dims) {
  int64_t n, ints;
  const hp_value *sh = hp_group_get(g, "shape");
  if (hp_group_attr_i64(g, "n", &n) || hp_group_attr_i64(g, "ints", &ints) ||
      !sh || hp_array_ndim(sh) != 1 || hp_array_size(sh) < 1 ||
      hp_array_size(sh) > HP_MAX_NDIM)
    return hp_node_fail(ctx, "a partial of this reduction is malformed");
  *nd = (int)hp_array_size(sh);
  size_t k = 1;
  for (int i = 0; i < *nd; i++) {
    dims[i] = (size_t)((const int64_t *)hp_array_data(sh))[i];
    k *= dims[i];
  }
  stats_init(st, k, (int)ints);
  st->n = n;
  for (size_t i = 0; i < NFIELDS; i++) {
    const hp_value *v = hp_group_get(g, stats_fields[i]);
    if (!v)
      continue;
    if (hp_array_size(v) != k) {
      stats_free(st);
      return hp_node_fail(ctx, "a partial of this reduction is malformed");
    }
    if (k)
      memcpy(field(st, i), hp_array_data(v), k * 8);
  }
  return HP_OK;
}

/* run: the partial of one block. */
static int red_run(hp_node_ctx *ctx, red_op op) {
  const hp_value *a;
  HP_TRY(array_input(ctx, 0, &a));
  red_args r;
  HP_TRY(parse_red(ctx, op, &r));
  int nd = hp_array_ndim(a);
  const size_t *d = hp_array_dims(a);
  HP_TRY(check_axis(ctx, &r, nd));
  int ints = hp_array_dtype(a) == HP_INT64;
  size_t od[HP_MAX_NDIM];
  int ond;
  stats st;
  if (r.all || r.axis == 0) {
    size_t k = 1;
    if (r.all || nd == 1) {
      ond = 1;
      od[0] = 1;
    } else {
      ond = nd - 1;
      for (int i = 1; i < nd; i++)
        k *= od[i - 1] = d[i];
    }
    stats_init(&st, k, ints);
    if (r.all)
      fold(&st, a, 1, hp_array_size(a), 1, op);
    else
      fold(&st, a, 1, d[0], k, op);
    hp_value *p = stats_partial(op, &st, ond, od);
    stats_free(&st);
    return hp_node_output(ctx, 0, p);
  }
  /* within rows: this block's result is final */
  size_t outer = 1, inner = 1;
  ond = 0;
  for (int i = 0; i < nd; i++) {
    if (i < r.axis)
      outer *= d[i];
    else if (i > r.axis)
      inner *= d[i];
    if (i != r.axis)
      od[ond++] = d[i];
  }
  stats_init(&st, outer * inner, ints);
  fold(&st, a, outer, d[r.axis], inner, op);
  hp_value *res = NULL;
  int rc = finish_stats(ctx, op, &st, r.ddof, ond, od, &res);
  stats_free(&st);
  if (rc != HP_OK)
    return rc;
  hp_value *g = hp_group_new();
  hp_group_set_str(g, "form", "rows");
  hp_group_set(g, "rows", res);
  return hp_node_output(ctx, 0, g);
}

static int partial_input(hp_node_ctx *ctx, size_t i, const hp_value **g,
                         int *rows) {
  HP_TRY(hp_node_input(ctx, i, g));
  const char *form = hp_value_kind(*g) == HP_GROUP
                         ? hp_group_attr_str(*g, "form")
                         : NULL;
  if (!form)
    return hp_node_fail(ctx, "input %zu is not a partial of this reduction",
                        i);
  *rows = !strcmp(form, "rows");
  return HP_OK;
}

/* combine: the partials merged in order into one. */
static int red_combine(hp_node_ctx *ctx, red_op op) {
  size_t n = hp_node_ninputs(ctx);
  const hp_value *g0 = NULL;
  int rows = 0;
  HP_TRY(partial_input(ctx, 0, &g0, &rows));
  if (rows) {
    const hp_value **parts = hp__xcalloc(n + 1, sizeof *parts);
    int rc = HP_OK, r2 = 0;
    for (size_t i = 0; i < n && rc == HP_OK; i++) {
      const hp_value *g;
      rc = partial_input(ctx, i, &g, &r2);
      if (rc == HP_OK && (!r2 || !(parts[i] = hp_group_get(g, "rows"))))
        rc = hp_node_fail(ctx, "partials of this reduction disagree");
    }
    hp_value *all = NULL;
    hp_error err = HP_ERROR_INIT;
    if (rc == HP_OK && hp__value_concat(parts, n, &all, &err) != HP_OK)
      rc = hp_node_fail(ctx, "%s", err.msg);
    free(parts);
    if (rc != HP_OK)
      return rc;
    hp_value *g = hp_group_new();
    hp_group_set_str(g, "form", "rows");
    hp_group_set(g, "rows", all);
    return hp_node_output(ctx, 0, g);
  }
  stats acc;
  int nd;
  size_t dims[HP_MAX_NDIM];
  HP_TRY(read_partial(ctx, g0, &acc, &nd, dims));
  int rc = HP_OK;
  for (size_t i = 1; i < n && rc == HP_OK; i++) {
    const hp_value *g;
    stats st;
    int nd2;
    size_t d2[HP_MAX_NDIM];
    rc = partial_input(ctx, i, &g, &rows);
    if (rc == HP_OK && rows)
      rc = hp_node_fail(ctx, "partials of this reduction disagree");
    if (rc == HP_OK)
      rc = read_partial(ctx, g, &st, &nd2, d2);
    if (rc != HP_OK)
      break;
    if (st.k != acc.k || st.ints != acc.ints) {
      char a[120], b[120];
      rc = hp_node_fail(ctx, "partitions disagree: result shapes %s and %s",
                        shape_str(a, sizeof a, nd, dims),
                        shape_str(b, sizeof b, nd2, d2));
    } else {
      merge(&acc, &st);
    }
    stats_free(&st);
  }
  hp_value *out = rc == HP_OK ? stats_partial(op, &acc, nd, dims) : NULL;
  stats_free(&acc);
  return rc == HP_OK ? hp_node_output(ctx, 0, out) : rc;
}

/* finish: the last partial as the node's output. */
static int red_finish(hp_node_ctx *ctx, red_op op) {
  const hp_value *g = NULL;
  int rows = 0;
  HP_TRY(partial_input(ctx, 0, &g, &rows));
  hp_value *out = NULL;
  if (rows) {
    const hp_value *v = hp_group_get(g, "rows");
    if (!v)
      return hp_node_fail(ctx, "a partial of this reduction is malformed");
    out = hp_value_copy(v);
  } else {
    red_args r;
    HP_TRY(parse_red(ctx, op, &r));
    stats st;
    int nd;
    size_t dims[HP_MAX_NDIM];
    HP_TRY(read_partial(ctx, g, &st, &nd, dims));
    int rc = finish_stats(ctx, op, &st, r.ddof, nd, dims, &out);
    stats_free(&st);
    HP_TRY(rc);
  }
  return output_all(ctx, out);
}

#define REDUCTION(op, OP)                                                      \
  static int op##_run(hp_node_ctx *c) { return red_run(c, OP); }               \
  static int op##_combine(hp_node_ctx *c) { return red_combine(c, OP); }       \
  static int op##_finish(hp_node_ctx *c) { return red_finish(c, OP); }
REDUCTION(sum, R_SUM)
REDUCTION(mean, R_MEAN)
REDUCTION(std, R_STD)
REDUCTION(var, R_VAR)
REDUCTION(min, R_MIN)
REDUCTION(max, R_MAX)
#undef REDUCTION

/* ---- registration -------------------------------------------------------- */

#define SOURCE(nm, fn, np, d)                                                  \
  {.abi = HP_NODE_ABI, .name = "array." nm, .run = fn,                         \
   .mode = HP_MODE_SOURCE, .nparts = np, .doc = d}
#define REDUCE(nm, d)                                                          \
  {.abi = HP_NODE_ABI, .name = "array." #nm, .run = nm##_run,                  \
   .mode = HP_MODE_REDUCE, .combine = nm##_combine,                            \
   .finish = nm##_finish, .doc = d}

static const hp_node_type array_nodes[] = {
    SOURCE("random", random_run, random_nparts,
           "args.shape of uniform (low, high) or normal (mean, sd) numbers, "
           "args.chunks rows per partition"),
    SOURCE("ones", ones_run, shape_nparts, "args.shape of ones"),
    SOURCE("zeros", zeros_run, shape_nparts, "args.shape of zeros"),
    SOURCE("full", full_run, full_nparts, "args.shape of args.value"),
    SOURCE("arange", arange_run, arange_nparts,
           "numpy.arange(start, stop, step, dtype) in args.chunks"),
    {.abi = HP_NODE_ABI, .name = "array.map", .run = map_run,
     .mode = HP_MODE_MAP,
     .doc = "args.expr over x (the first input) and other inputs, elementwise"},
    {.abi = HP_NODE_ABI, .name = "array.matmul", .run = matmul_run,
     .mode = HP_MODE_MAP, .doc = "row blocks of the first input @ the second"},
    {.abi = HP_NODE_ABI, .name = "array.transpose", .run = transpose_run,
     .doc = "axes reversed, or permuted by args.axes"},
    REDUCE(sum, "sum over args.axis (null: all elements)"),
    REDUCE(mean, "mean over args.axis (null: all elements)"),
    REDUCE(std, "standard deviation over args.axis, args.ddof (0)"),
    REDUCE(var, "variance over args.axis, args.ddof (0)"),
    REDUCE(min, "minimum over args.axis (null: all elements)"),
    REDUCE(max, "maximum over args.axis (null: all elements)"),
};

int hp__array_register(hp_registry *r) {
  return hp_register_nodes(r, array_nodes,
                           sizeof array_nodes / sizeof array_nodes[0]);
}
