/*
 * frame.c - the frame.* builtins: operations on tables that run once per
 * partition (filter, assign, select, rename) and reductions that combine
 * per-partition partials in part.c's fixed tree (count, value_counts,
 * groupby). A reduction's partial is a table of group keys ("k.<col>")
 * and states ("size", "n.<col>", "s.<col>" + "c.<col>" for compensated
 * sums, "i.<col>" for integer sums, "m.<col>"/"q.<col>" for Welford's mean
 * and squared deviations, "lo.<col>"/"hi.<col>"), so partials travel and
 * merge like any value, and results do not depend on how rows were split.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "map.h"
#include "mem.h"
#include "registry.h"
#include "value.h"

/* ---- small helpers ------------------------------------------------------ */

static int first_table(hp_node_ctx *ctx, const hp_value **t) {
  if (hp_node_ninputs(ctx) < 1)
    return hp_node_fail(ctx, "needs a table input");
  int rc = hp_node_input(ctx, 0, t);
  if (rc != HP_OK)
    return rc;
  if (hp_value_kind(*t) != HP_TABLE)
    return hp_node_fail(ctx, "input '%s' is not a table",
                        hp_node_input_name(ctx, 0));
  return HP_OK;
}

static int column_of(hp_node_ctx *ctx, const hp_value *t, const char *name,
                     size_t *col) {
  long c = hp_table_find(t, name);
  if (c < 0)
    return hp_node_fail(ctx, "no column '%s' in input '%s'", name,
                        hp_node_input_name(ctx, 0));
  *col = (size_t)c;
  return HP_OK;
}

/* Names from args[key]: a string or a list of strings. NULL-terminated,
 * borrowed strings; *n set. NULL with *n = 0 if absent or malformed. */
static const char **names_arg(const hp_tree *args, const char *key,
                              size_t *n) {
  const hp_tree *v = hp_tree_get(args, key);
  *n = 0;
  if (!v)
    return NULL;
  if (hp_tree_type(v) == HP_TREE_SCALAR) {
    const char **out = hp__xcalloc(2, sizeof *out);
    out[0] = hp_tree_text(v);
    *n = 1;
    return out;
  }
  if (hp_tree_type(v) != HP_TREE_SEQ)
    return NULL;
  size_t len = hp_tree_len(v);
  const char **out = hp__xcalloc(len + 1, sizeof *out);
  for (size_t i = 0; i < len; i++) {
    out[i] = hp_tree_text(hp_tree_at(v, i));
    if (!out[i]) {
      free(out);
      return NULL;
    }
  }
  *n = len;
  return out;
}

static int is_null(const hp_value *t, size_t col, const uint8_t *valid,
                   size_t r) {
  if (valid && !valid[r])
    return 1;
  if (hp_table_coltype(t, col) == HP_FLOAT64)
    return isnan(((const double *)hp_table_column(t, col))[r]);
  return 0;
}

/* ---- row-wise builtins ---------------------------------------------------- */

/* frame.filter: args.expr, a predicate; keeps the rows where it is true. */
static int filter_run(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  const char *text = hp_tree_str(hp_node_args(ctx), "expr", NULL);
  if (!text)
    return hp_node_fail(ctx, "frame.filter needs args.expr");
  hp_expr *e = NULL;
  uint8_t *mask = NULL;
  hp_error err = HP_ERROR_INIT;
  int rc = hp__expr_parse(text, &e, &err);
  if (rc == HP_OK)
    rc = hp__expr_mask(e, t, &mask, &err);
  hp__expr_free(e);
  if (rc != HP_OK)
    return hp_node_fail(ctx, "%s", err.msg);
  hp_value *out = hp__table_mask(t, mask);
  free(mask);
  return hp_node_output(ctx, 0, out);
}

/* Adds (or replaces) column `name` of t with the one column of v. */
static int put_column(hp_value *t, const char *name, const hp_value *v) {
  long old = hp_table_find(t, name);
  hp_value *src = hp__table_slice(v, 0, hp_value_rows(v));
  /* rename by rebuilding: take every column of t except `name`, then v */
  hp_value *out = hp_table_new();
  int rc = HP_OK;
  for (size_t c = 0; c < hp_table_ncols(t) && rc == HP_OK; c++) {
    if ((long)c == old)
      continue;
    rc = hp__table_move_column(out, t, c, NULL);
  }
  if (rc == HP_OK)
    rc = hp__table_move_column(out, src, 0, name);
  hp_value_free(src);
  hp__table_swap(t, out);
  hp_value_free(out);
  return rc;
}

/* frame.assign: args.columns {new: expr, ...} (in order), or args.expr
 * "new = expr". */
static int assign_run(hp_node_ctx *ctx) {
  const hp_value *in;
  HP_TRY(first_table(ctx, &in));
  const hp_tree *args = hp_node_args(ctx);
  const hp_tree *cols = hp_tree_get(args, "columns");
  const char *one = hp_tree_str(args, "expr", NULL);
  if (!one && hp_tree_type(cols) != HP_TREE_MAP)
    return hp_node_fail(ctx, "frame.assign needs args.columns {name: "
                             "expression} or args.expr \"name = expression\"");
  hp_value *t = hp_value_copy(in);
  size_t n = one ? 1 : hp_tree_len(cols);
  hp_error err = HP_ERROR_INIT;
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    hp_expr *e = NULL;
    char *name = NULL;
    if (one) {
      rc = hp__expr_parse_assign(one, &name, &e, &err);
    } else {
      const char *text = hp_tree_text(hp_tree_at(cols, i));
      if (!text)
        rc = hp__fail(&err, HP_ECONFIG, "args.columns.%s must be an "
                                        "expression", hp_tree_key(cols, i));
      else
        rc = hp__expr_parse(text, &e, &err);
      name = hp__xstrdup(hp_tree_key(cols, i));
    }
    hp_value *v = NULL;
    if (rc == HP_OK)
      rc = hp__expr_eval(e, t, &v, &err);
    if (rc == HP_OK)
      rc = put_column(t, name, v);
    hp_value_free(v);
    hp__expr_free(e);
    free(name);
  }
  if (rc != HP_OK) {
    hp_value_free(t);
    return hp_node_fail(ctx, "%s", err.msg);
  }
  return hp_node_output(ctx, 0, t);
}

/* frame.select: args.columns, a list; those columns in that order. */
static int select_run(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  size_t n;
  const char **names = names_arg(hp_node_args(ctx), "columns", &n);
  if (!names)
    return hp_node_fail(ctx, "frame.select needs args.columns, a list");
  hp_value *src = hp_value_copy(t), *out = hp_table_new();
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    long c = hp_table_find(src, names[i]);
    if (c < 0 || hp_table_find(out, names[i]) >= 0)
      rc = hp_node_fail(ctx, "%s column '%s'",
                        c < 0 ? "no" : "repeated", names[i]);
    else
      rc = hp__table_move_column(out, src, (size_t)c, NULL);
  }
  free(names);
  hp_value_free(src);
  if (rc != HP_OK) {
    hp_value_free(out);
    return rc;
  }
  return hp_node_output(ctx, 0, out);
}

/* frame.rename: args.columns {old: new}. */
static int rename_run(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  const hp_tree *m = hp_tree_get(hp_node_args(ctx), "columns");
  if (hp_tree_type(m) != HP_TREE_MAP)
    return hp_node_fail(ctx, "frame.rename needs args.columns {old: new}");
  for (size_t i = 0; i < hp_tree_len(m); i++) {
    if (hp_table_find(t, hp_tree_key(m, i)) < 0)
      return hp_node_fail(ctx, "no column '%s'", hp_tree_key(m, i));
    if (!hp_tree_text(hp_tree_at(m, i)))
      return hp_node_fail(ctx, "args.columns.%s must be a name",
                          hp_tree_key(m, i));
  }
  hp_value *src = hp_value_copy(t), *out = hp_table_new();
  int rc = HP_OK;
  for (size_t c = 0; c < hp_table_ncols(t) && rc == HP_OK; c++) {
    const char *to = hp_tree_str(m, hp_table_colname(t, c), NULL);
    /* keys with dots are not paths here: look them up by hand */
    for (size_t i = 0; i < hp_tree_len(m); i++)
      if (strcmp(hp_tree_key(m, i), hp_table_colname(t, c)) == 0)
        to = hp_tree_text(hp_tree_at(m, i));
    if (to && hp_table_find(out, to) >= 0)
      rc = hp_node_fail(ctx, "two columns would be called '%s'", to);
    else
      rc = hp__table_move_column(out, src, c, to);
  }
  hp_value_free(src);
  if (rc != HP_OK) {
    hp_value_free(out);
    return rc;
  }
  return hp_node_output(ctx, 0, out);
}

/* ---- grouping ------------------------------------------------------------- */

typedef struct grouping {
  int32_t *gid;   /* [rows] group of each row; -1: a null key, dropped */
  int64_t *first; /* [groups] first row of each group */
  size_t ngroups, cap;
} grouping;

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

static uint64_t key_hash(const hp_value *t, const size_t *k, size_t nk,
                         size_t r) {
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < nk; i++) {
    size_t c = k[i];
    uint64_t x;
    const int32_t *codes = hp_table_dict_codes(t, c);
    switch (hp_table_coltype(t, c)) {
    case HP_FLOAT64: {
      double d = ((const double *)hp_table_column(t, c))[r];
      if (d == 0)
        d = 0; /* -0.0 groups with 0.0 */
      memcpy(&x, &d, 8);
      break;
    }
    case HP_BOOL:
      x = ((const uint8_t *)hp_table_column(t, c))[r];
      break;
    case HP_STRING:
      if (codes) {
        x = (uint64_t)codes[r];
      } else {
        const char *s = hp_table_str(t, c, r);
        x = hp__hash64(s, strlen(s), 1);
      }
      break;
    default:
      x = (uint64_t)((const int64_t *)hp_table_column(t, c))[r];
    }
    h = mix64(h ^ x) + i;
  }
  return h;
}

static int key_eq(const hp_value *t, const size_t *k, size_t nk, size_t a,
                  size_t b) {
  for (size_t i = 0; i < nk; i++) {
    size_t c = k[i];
    const int32_t *codes = hp_table_dict_codes(t, c);
    switch (hp_table_coltype(t, c)) {
    case HP_FLOAT64: {
      const double *v = hp_table_column(t, c);
      if (!(v[a] == v[b]))
        return 0;
      break;
    }
    case HP_BOOL: {
      const uint8_t *v = hp_table_column(t, c);
      if (v[a] != v[b])
        return 0;
      break;
    }
    case HP_STRING:
      if (codes ? codes[a] != codes[b]
                : strcmp(hp_table_str(t, c, a), hp_table_str(t, c, b)) != 0)
        return 0;
      break;
    default: {
      const int64_t *v = hp_table_column(t, c);
      if (v[a] != v[b])
        return 0;
    }
    }
  }
  return 1;
}

static int32_t new_group(grouping *g, size_t r) {
  hp__grow(&g->first, &g->cap, g->ngroups + 1, sizeof *g->first);
  g->first[g->ngroups] = (int64_t)r;
  return (int32_t)g->ngroups++;
}

/* Groups the rows of t by key columns k[0..nk); rows with a null key get
 * -1. Groups are numbered in order of first appearance. */
static void group_rows(const hp_value *t, const size_t *k, size_t nk,
                       grouping *g) {
  size_t n = hp_value_rows(t);
  memset(g, 0, sizeof *g);
  g->gid = hp__xmalloc((n + 1) * sizeof *g->gid);
  const uint8_t **valid = hp__xcalloc(nk + 1, sizeof *valid);
  int nullable = 0;
  for (size_t i = 0; i < nk; i++) {
    valid[i] = hp_table_valid(t, k[i]);
    nullable |= valid[i] != NULL || hp_table_coltype(t, k[i]) == HP_FLOAT64;
  }
  const int32_t *codes = nk == 1 ? hp_table_dict_codes(t, k[0]) : NULL;
  if (codes && !nullable) { /* one dictionary column: codes are groups */
    size_t nd = hp_table_dict_size(t, k[0]);
    int32_t *map = hp__xmalloc((nd + 1) * sizeof *map);
    for (size_t i = 0; i < nd; i++)
      map[i] = -1;
    for (size_t r = 0; r < n; r++) {
      int32_t c = codes[r];
      if (map[c] < 0)
        map[c] = new_group(g, r);
      g->gid[r] = map[c];
    }
    free(map);
    free(valid);
    return;
  }
  size_t cap = 64;
  while (cap < 2 * n + 2 && cap < ((size_t)1 << 40))
    cap *= 2;
  int32_t *slot = hp__xmalloc(cap * sizeof *slot);
  for (size_t i = 0; i < cap; i++)
    slot[i] = -1;
  for (size_t r = 0; r < n; r++) {
    int null = 0;
    for (size_t i = 0; nullable && i < nk && !null; i++)
      null = is_null(t, k[i], valid[i], r);
    if (null) {
      g->gid[r] = -1;
      continue;
    }
    size_t h = (size_t)key_hash(t, k, nk, r) & (cap - 1);
    for (;;) {
      int32_t s = slot[h];
      if (s < 0) {
        slot[h] = new_group(g, r);
        g->gid[r] = slot[h];
        break;
      }
      if (key_eq(t, k, nk, (size_t)g->first[s], r)) {
        g->gid[r] = s;
        break;
      }
      h = (h + 1) & (cap - 1);
    }
  }
  free(slot);
  free(valid);
}

static void grouping_free(grouping *g) {
  free(g->gid);
  free(g->first);
}

/* ---- aggregation specs ---------------------------------------------------- */

typedef enum afunc {
  A_SIZE,
  A_COUNT,
  A_SUM,
  A_MEAN,
  A_MIN,
  A_MAX,
  A_VAR,
  A_STD
} afunc;

static const char *const afunc_names[] = {"size", "count", "sum", "mean",
                                          "min",  "max",   "var", "std"};

typedef struct agg {
  const char *col; /* value column, NULL for size */
  afunc f;
  char *out; /* output column name */
} agg;

typedef struct spec {
  const char **by;
  size_t nby;
  agg *aggs;
  size_t naggs;
  const char **vcols; /* distinct value columns */
  size_t nv;
  int welford; /* some var/std */
  int sort_by_count; /* value_counts order */
} spec;

static void spec_free(spec *s) {
  free(s->by);
  for (size_t i = 0; i < s->naggs; i++)
    free(s->aggs[i].out);
  free(s->aggs);
  free(s->vcols);
}

static int parse_func(hp_node_ctx *ctx, const char *f, afunc *out) {
  for (size_t i = 0; i < sizeof afunc_names / sizeof *afunc_names; i++)
    if (f && strcmp(f, afunc_names[i]) == 0) {
      *out = (afunc)i;
      return HP_OK;
    }
  return hp_node_fail(ctx,
                      "unknown aggregation '%s' (known: size, count, sum, "
                      "mean, min, max, var, std)",
                      f ? f : "?");
}

static void add_agg(spec *s, const char *col, afunc f, int suffix) {
  s->aggs = hp__xrealloc(s->aggs, (s->naggs + 1) * sizeof *s->aggs);
  agg *a = &s->aggs[s->naggs++];
  a->col = col;
  a->f = f;
  a->out = !col ? hp__xstrdup("size")
           : suffix ? hp__xasprintf("%s_%s", col, afunc_names[f])
                    : hp__xstrdup(col);
  if (f == A_VAR || f == A_STD)
    s->welford = 1;
  if (!col)
    return;
  for (size_t i = 0; i < s->nv; i++)
    if (strcmp(s->vcols[i], col) == 0)
      return;
  s->vcols = hp__xrealloc(s->vcols, (s->nv + 1) * sizeof *s->vcols);
  s->vcols[s->nv++] = col;
}

/* groupby args: by (name or list), agg: size | {col: func | [func..]}. */
static int parse_groupby(hp_node_ctx *ctx, spec *s) {
  memset(s, 0, sizeof *s);
  const hp_tree *args = hp_node_args(ctx);
  s->by = names_arg(args, "by", &s->nby);
  if (!s->by || s->nby == 0)
    return hp_node_fail(ctx, "frame.groupby needs args.by, a column or list");
  const hp_tree *a = hp_tree_get(args, "agg");
  if (hp_tree_type(a) == HP_TREE_SCALAR &&
      strcmp(hp_tree_text(a), "size") == 0) {
    add_agg(s, NULL, A_SIZE, 0);
    return HP_OK;
  }
  if (hp_tree_type(a) != HP_TREE_MAP || hp_tree_len(a) == 0)
    return hp_node_fail(ctx, "frame.groupby needs args.agg: size, or a map "
                             "column -> function or list of functions");
  for (size_t i = 0; i < hp_tree_len(a); i++) {
    const char *col = hp_tree_key(a, i);
    const hp_tree *f = hp_tree_at(a, i);
    afunc fn;
    if (hp_tree_type(f) == HP_TREE_SEQ) {
      for (size_t j = 0; j < hp_tree_len(f); j++) {
        HP_TRY(parse_func(ctx, hp_tree_text(hp_tree_at(f, j)), &fn));
        add_agg(s, fn == A_SIZE ? NULL : col, fn, 1);
      }
    } else {
      HP_TRY(parse_func(ctx, hp_tree_text(f), &fn));
      add_agg(s, fn == A_SIZE ? NULL : col, fn, 0);
    }
  }
  return HP_OK;
}

static int parse_value_counts(hp_node_ctx *ctx, spec *s) {
  memset(s, 0, sizeof *s);
  s->by = names_arg(hp_node_args(ctx), "column", &s->nby);
  if (!s->by || s->nby == 0)
    return hp_node_fail(ctx, "frame.value_counts needs args.column");
  add_agg(s, NULL, A_SIZE, 0);
  free(s->aggs[0].out);
  s->aggs[0].out = hp__xstrdup("count");
  s->sort_by_count = 1;
  return HP_OK;
}

/* ---- partial states --------------------------------------------------------- */

typedef struct vstate {
  int is_int;
  int64_t *n, *isum, *ilo, *ihi;
  double *s, *c, *m, *q, *lo, *hi;
} vstate;

typedef struct states {
  size_t ng;
  int64_t *size;
  vstate *v; /* [spec nv] */
} states;

static void states_init(states *st, const spec *sp, size_t ng,
                        const int *is_int) {
  st->ng = ng;
  st->size = hp__xcalloc(ng + 1, sizeof *st->size);
  st->v = hp__xcalloc(sp->nv + 1, sizeof *st->v);
  for (size_t j = 0; j < sp->nv; j++) {
    vstate *v = &st->v[j];
    v->is_int = is_int[j];
    v->n = hp__xcalloc(ng + 1, 8);
    v->isum = hp__xcalloc(ng + 1, 8);
    v->ilo = hp__xmalloc((ng + 1) * 8);
    v->ihi = hp__xmalloc((ng + 1) * 8);
    v->s = hp__xcalloc(ng + 1, 8);
    v->c = hp__xcalloc(ng + 1, 8);
    v->m = hp__xcalloc(ng + 1, 8);
    v->q = hp__xcalloc(ng + 1, 8);
    v->lo = hp__xmalloc((ng + 1) * 8);
    v->hi = hp__xmalloc((ng + 1) * 8);
    for (size_t g = 0; g < ng; g++) {
      v->ilo[g] = INT64_MAX;
      v->ihi[g] = INT64_MIN;
      v->lo[g] = INFINITY;
      v->hi[g] = -INFINITY;
    }
  }
}

static void states_free(states *st, const spec *sp) {
  free(st->size);
  for (size_t j = 0; st->v && j < sp->nv; j++) {
    vstate *v = &st->v[j];
    free(v->n), free(v->isum), free(v->ilo), free(v->ihi), free(v->s);
    free(v->c), free(v->m), free(v->q), free(v->lo), free(v->hi);
  }
  free(st->v);
}

/* Neumaier's compensated sum: s + c is the running total. */
static inline void kadd(double *s, double *c, double x) {
  double t = *s + x;
  if (fabs(*s) >= fabs(x))
    *c += (*s - t) + x;
  else
    *c += (x - t) + *s;
  *s = t;
}

/* Accumulates value column col of t into st by the grouping. */
static void accumulate(vstate *v, const hp_value *t, size_t col,
                       const grouping *gr, int welford) {
  size_t n = hp_value_rows(t);
  const uint8_t *valid = hp_table_valid(t, col);
  hp_dtype ty = hp_table_coltype(t, col);
  const void *data = hp_table_column(t, col);
  for (size_t r = 0; r < n; r++) {
    int32_t g = gr->gid[r];
    if (g < 0 || (valid && !valid[r]))
      continue;
    double x;
    if (ty == HP_FLOAT64) {
      x = ((const double *)data)[r];
      if (isnan(x))
        continue;
    } else {
      int64_t i = ty == HP_BOOL ? ((const uint8_t *)data)[r]
                                : ((const int64_t *)data)[r];
      v->isum[g] = (int64_t)((uint64_t)v->isum[g] + (uint64_t)i);
      if (i < v->ilo[g])
        v->ilo[g] = i;
      if (i > v->ihi[g])
        v->ihi[g] = i;
      x = (double)i;
    }
    v->n[g]++;
    kadd(&v->s[g], &v->c[g], x);
    if (x < v->lo[g])
      v->lo[g] = x;
    if (x > v->hi[g])
      v->hi[g] = x;
    if (welford) {
      double d = x - v->m[g];
      v->m[g] += d / (double)v->n[g];
      v->q[g] += d * (x - v->m[g]);
    }
  }
}

/* Merges group b of src into group a of dst (Chan et al. for m and q). */
static void merge(vstate *dst, size_t a, const vstate *src, size_t b) {
  int64_t na = dst->n[a], nb = src->n[b];
  if (nb == 0)
    return;
  double delta = src->m[b] - dst->m[a];
  double n = (double)(na + nb);
  dst->q[a] += src->q[b] + delta * delta * (double)na * (double)nb / n;
  dst->m[a] += delta * (double)nb / n;
  dst->n[a] = na + nb;
  kadd(&dst->s[a], &dst->c[a], src->s[b]);
  kadd(&dst->s[a], &dst->c[a], src->c[b]);
  dst->isum[a] = (int64_t)((uint64_t)dst->isum[a] + (uint64_t)src->isum[b]);
  if (src->ilo[b] < dst->ilo[a])
    dst->ilo[a] = src->ilo[b];
  if (src->ihi[b] > dst->ihi[a])
    dst->ihi[a] = src->ihi[b];
  if (src->lo[b] < dst->lo[a])
    dst->lo[a] = src->lo[b];
  if (src->hi[b] > dst->hi[a])
    dst->hi[a] = src->hi[b];
}

/* The partial table: keys (taken at each group's first row), then states. */
static hp_value *partial_table(const hp_value *keys_src, const size_t *kcols,
                               const spec *sp, const grouping *gr,
                               const states *st) {
  hp_value *rows = hp__table_take(keys_src, gr->first, gr->ngroups);
  hp_value *out = hp_table_new();
  for (size_t i = 0; i < sp->nby; i++) {
    char *name = hp__xasprintf("k.%s", sp->by[i]);
    hp__table_move_column(out, rows, kcols[i], name);
    free(name);
  }
  hp_value_free(rows);
  size_t ng = gr->ngroups;
  hp_table_add_column(out, "size", HP_INT64, st->size, ng);
  static const char *const pre[] = {"n", "i", "il", "ih", "s",
                                    "c", "m", "q", "lo", "hi"};
  uint8_t *flag = hp__xcalloc(ng + 1, 1);
  for (size_t j = 0; j < sp->nv; j++) {
    const vstate *v = &st->v[j];
    char *tn = hp__xasprintf("t.%s", sp->vcols[j]);
    memset(flag, v->is_int ? 1 : 0, ng);
    hp_table_add_column(out, tn, HP_BOOL, flag, ng);
    free(tn);
    const void *arr[] = {v->n, v->isum, v->ilo, v->ihi, v->s,
                         v->c, v->m,    v->q,   v->lo,  v->hi};
    for (size_t k = 0; k < 10; k++) {
      char *name = hp__xasprintf("%s.%s", pre[k], sp->vcols[j]);
      hp_table_add_column(out, name, k < 4 ? HP_INT64 : HP_FLOAT64, arr[k],
                          ng);
      free(name);
    }
  }
  free(flag);
  return out;
}

/* Reads the states of a partial table back (borrowing its columns). */
static int read_states(hp_node_ctx *ctx, const hp_value *p, const spec *sp,
                       states *st, vstate *views) {
  static const char *const pre[] = {"n", "i", "il", "ih", "s",
                                    "c", "m", "q", "lo", "hi"};
  long sz = hp_table_find(p, "size");
  if (sz < 0)
    return hp_node_fail(ctx, "internal: a partial without sizes");
  st->ng = hp_value_rows(p);
  st->size = (int64_t *)hp_table_column(p, (size_t)sz);
  st->v = views;
  for (size_t j = 0; j < sp->nv; j++) {
    void *arr[10];
    for (size_t k = 0; k < 10; k++) {
      char name[300];
      snprintf(name, sizeof name, "%s.%s", pre[k], sp->vcols[j]);
      long c = hp_table_find(p, name);
      if (c < 0)
        return hp_node_fail(ctx, "internal: a partial without '%s'", name);
      arr[k] = (void *)hp_table_column(p, (size_t)c);
    }
    char tn[300];
    snprintf(tn, sizeof tn, "t.%s", sp->vcols[j]);
    long tc = hp_table_find(p, tn);
    const uint8_t *flag = tc >= 0 ? hp_table_column(p, (size_t)tc) : NULL;
    views[j] = (vstate){.is_int = st->ng && flag ? flag[0] : 0,
                        .n = arr[0], .isum = arr[1], .ilo = arr[2],
                        .ihi = arr[3], .s = arr[4], .c = arr[5], .m = arr[6],
                        .q = arr[7], .lo = arr[8], .hi = arr[9]};
  }
  return HP_OK;
}

typedef int (*spec_fn)(hp_node_ctx *ctx, spec *s);

/* A reduction's partial over one partition. */
static int reduce_partial(hp_node_ctx *ctx, spec_fn parse) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  spec sp;
  int rc = parse(ctx, &sp);
  size_t *kcols = hp__xcalloc(sp.nby + sp.nv + 1, sizeof *kcols);
  int *is_int = hp__xcalloc(sp.nv + 1, sizeof *is_int);
  size_t *vc = kcols + sp.nby;
  for (size_t i = 0; i < sp.nby && rc == HP_OK; i++)
    rc = column_of(ctx, t, sp.by[i], &kcols[i]);
  for (size_t j = 0; j < sp.nv && rc == HP_OK; j++) {
    rc = column_of(ctx, t, sp.vcols[j], &vc[j]);
    hp_dtype ty = rc == HP_OK ? hp_table_coltype(t, vc[j]) : HP_INT64;
    if (rc == HP_OK && ty != HP_INT64 && ty != HP_FLOAT64 && ty != HP_BOOL)
      rc = hp_node_fail(ctx, "column '%s' is %s; aggregations need numbers",
                        sp.vcols[j], hp_dtype_name(ty));
    is_int[j] = ty != HP_FLOAT64;
  }
  if (rc == HP_OK) {
    grouping gr;
    group_rows(t, kcols, sp.nby, &gr);
    states st;
    states_init(&st, &sp, gr.ngroups, is_int);
    for (size_t r = 0; r < hp_value_rows(t); r++)
      if (gr.gid[r] >= 0)
        st.size[gr.gid[r]]++;
    for (size_t j = 0; j < sp.nv; j++)
      accumulate(&st.v[j], t, vc[j], &gr, sp.welford);
    hp_value *out = partial_table(t, kcols, &sp, &gr, &st);
    states_free(&st, &sp);
    grouping_free(&gr);
    rc = hp_node_output(ctx, 0, out);
  }
  free(kcols);
  free(is_int);
  spec_free(&sp);
  return rc;
}

/* Concatenates the partials given as inputs and merges equal keys, in
 * input order. The result is a partial again. */
static int merged_partial(hp_node_ctx *ctx, const spec *sp, hp_value **out) {
  size_t n = hp_node_ninputs(ctx);
  const hp_value **parts = hp__xcalloc(n + 1, sizeof *parts);
  for (size_t i = 0; i < n; i++)
    HP_TRY(hp_node_input(ctx, i, &parts[i]));
  hp_value *all = NULL;
  hp_error err = HP_ERROR_INIT;
  int rc = hp__value_concat(parts, n, &all, &err);
  free(parts);
  if (rc != HP_OK)
    return hp_node_fail(ctx, "%s", err.msg);
  size_t *kcols = hp__xcalloc(sp->nby + 1, sizeof *kcols);
  for (size_t i = 0; i < sp->nby; i++)
    kcols[i] = i; /* keys come first in a partial */
  grouping gr;
  group_rows(all, kcols, sp->nby, &gr);
  states src;
  vstate *views = hp__xcalloc(sp->nv + 1, sizeof *views);
  rc = read_states(ctx, all, sp, &src, views);
  if (rc == HP_OK) {
    int *is_int = hp__xcalloc(sp->nv + 1, sizeof *is_int);
    for (size_t j = 0; j < sp->nv; j++)
      is_int[j] = views[j].is_int;
    states st;
    states_init(&st, sp, gr.ngroups, is_int);
    for (size_t r = 0; r < hp_value_rows(all); r++) {
      int32_t g = gr.gid[r];
      if (g < 0)
        continue;
      st.size[g] += src.size[r];
      for (size_t j = 0; j < sp->nv; j++)
        merge(&st.v[j], (size_t)g, &src.v[j], r);
    }
    /* the keys of `all` are named k.<col> already: take them as they are */
    hp_value *rows = hp__table_take(all, gr.first, gr.ngroups);
    hp_value *keys = hp_table_new();
    for (size_t i = 0; i < sp->nby; i++)
      hp__table_move_column(keys, rows, i, NULL);
    hp_value_free(rows);
    spec plain = *sp;
    const char **by = hp__xcalloc(sp->nby + 1, sizeof *by);
    for (size_t i = 0; i < sp->nby; i++)
      by[i] = hp_table_colname(keys, i) + 2; /* strip "k." again */
    plain.by = by;
    grouping ident = {.first = hp__xcalloc(gr.ngroups + 1, 8),
                      .ngroups = gr.ngroups};
    for (size_t g = 0; g < gr.ngroups; g++)
      ident.first[g] = (int64_t)g;
    *out = partial_table(keys, kcols, &plain, &ident, &st);
    free(ident.first);
    free(by);
    hp_value_free(keys);
    states_free(&st, sp);
    free(is_int);
  }
  free(views);
  grouping_free(&gr);
  free(kcols);
  hp_value_free(all);
  return rc;
}

static int reduce_combine(hp_node_ctx *ctx, spec_fn parse) {
  spec sp;
  int rc = parse(ctx, &sp);
  hp_value *out = NULL;
  if (rc == HP_OK)
    rc = merged_partial(ctx, &sp, &out);
  spec_free(&sp);
  return rc == HP_OK ? hp_node_output(ctx, 0, out) : rc;
}

/* Sort order of the final groups. */
typedef struct order_ctx {
  const hp_value *t;
  size_t nk;
  const int64_t *count; /* value_counts: by count, descending, first */
} order_ctx;

static order_ctx *g_order; /* qsort has no context argument in C11 */

static int cmp_keys(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  const order_ctx *o = g_order;
  if (o->count && o->count[a] != o->count[b])
    return o->count[a] > o->count[b] ? -1 : 1;
  for (size_t c = 0; c < o->nk; c++) {
    int r = 0;
    switch (hp_table_coltype(o->t, c)) {
    case HP_FLOAT64: {
      const double *v = hp_table_column(o->t, c);
      r = (v[a] > v[b]) - (v[a] < v[b]);
      break;
    }
    case HP_BOOL: {
      const uint8_t *v = hp_table_column(o->t, c);
      r = (v[a] > v[b]) - (v[a] < v[b]);
      break;
    }
    case HP_STRING:
      r = strcmp(hp_table_str(o->t, c, (size_t)a),
                 hp_table_str(o->t, c, (size_t)b));
      break;
    default: {
      const int64_t *v = hp_table_column(o->t, c);
      r = (v[a] > v[b]) - (v[a] < v[b]);
    }
    }
    if (r)
      return r;
  }
  return (a > b) - (a < b);
}

static int reduce_finish(hp_node_ctx *ctx, spec_fn parse) {
  spec sp;
  HP_TRY(parse(ctx, &sp));
  hp_value *p = NULL;
  int rc = merged_partial(ctx, &sp, &p); /* one input: just a copy */
  states st;
  vstate *views = hp__xcalloc(sp.nv + 1, sizeof *views);
  if (rc == HP_OK)
    rc = read_states(ctx, p, &sp, &st, views);
  if (rc != HP_OK) {
    free(views);
    hp_value_free(p);
    spec_free(&sp);
    return rc;
  }
  size_t ng = st.ng;
  int64_t *ord = hp__xcalloc(ng + 1, sizeof *ord);
  for (size_t g = 0; g < ng; g++)
    ord[g] = (int64_t)g;
  order_ctx oc = {.t = p, .nk = sp.nby,
                  .count = sp.sort_by_count ? st.size : NULL};
  g_order = &oc;
  qsort(ord, ng, sizeof *ord, cmp_keys);
  g_order = NULL;
  hp_value *rows = hp__table_take(p, ord, ng);
  hp_value *out = hp_table_new();
  for (size_t i = 0; i < sp.nby; i++)
    hp__table_move_column(out, rows, i, sp.by[i]);
  double *f = hp__xcalloc(ng + 1, sizeof *f);
  int64_t *iv = hp__xcalloc(ng + 1, sizeof *iv);
  uint8_t *valid = hp__xcalloc(ng + 1, 1);
  for (size_t a = 0; a < sp.naggs && rc == HP_OK; a++) {
    const agg *ag = &sp.aggs[a];
    size_t j = 0;
    while (ag->col && strcmp(sp.vcols[j], ag->col) != 0)
      j++;
    const vstate *v = ag->col ? &st.v[j] : NULL;
    int nulls = 0;
    hp_dtype ty = HP_FLOAT64;
    for (size_t k = 0; k < ng; k++) {
      size_t g = (size_t)ord[k];
      valid[k] = 1;
      switch (ag->f) {
      case A_SIZE:
        iv[k] = st.size[g];
        ty = HP_INT64;
        break;
      case A_COUNT:
        iv[k] = v->n[g];
        ty = HP_INT64;
        break;
      case A_SUM:
        if (views[j].is_int) {
          iv[k] = v->isum[g];
          ty = HP_INT64;
        } else {
          f[k] = v->s[g] + v->c[g];
        }
        break;
      case A_MEAN:
        f[k] = v->n[g] ? (v->s[g] + v->c[g]) / (double)v->n[g] : NAN;
        break;
      case A_MIN:
      case A_MAX:
        if (views[j].is_int) {
          iv[k] = ag->f == A_MIN ? v->ilo[g] : v->ihi[g];
          ty = HP_INT64;
        } else {
          f[k] = ag->f == A_MIN ? v->lo[g] : v->hi[g];
        }
        if (!v->n[g]) {
          valid[k] = 0;
          f[k] = NAN;
          iv[k] = 0;
          nulls = 1;
        }
        break;
      case A_VAR:
      case A_STD: {
        double var = v->n[g] > 1 ? v->q[g] / (double)(v->n[g] - 1) : NAN;
        f[k] = ag->f == A_STD ? sqrt(var) : var;
        break;
      }
      }
    }
    rc = hp_table_add_column(out, ag->out, ty, ty == HP_INT64 ? (void *)iv
                                                             : (void *)f,
                             ng);
    if (rc == HP_OK && nulls && ty == HP_INT64)
      rc = hp_table_set_valid(out, hp_table_ncols(out) - 1, valid);
    if (rc != HP_OK)
      rc = hp_node_fail(ctx, "output column '%s' twice", ag->out);
  }
  free(f);
  free(iv);
  free(valid);
  hp_value_free(rows);
  free(ord);
  free(views);
  hp_value_free(p);
  spec_free(&sp);
  if (rc != HP_OK) {
    hp_value_free(out);
    return rc;
  }
  return hp_node_output(ctx, 0, out);
}

static int groupby_run(hp_node_ctx *c) { return reduce_partial(c, parse_groupby); }
static int groupby_combine(hp_node_ctx *c) { return reduce_combine(c, parse_groupby); }
static int groupby_finish(hp_node_ctx *c) { return reduce_finish(c, parse_groupby); }
static int vc_run(hp_node_ctx *c) { return reduce_partial(c, parse_value_counts); }
static int vc_combine(hp_node_ctx *c) { return reduce_combine(c, parse_value_counts); }
static int vc_finish(hp_node_ctx *c) { return reduce_finish(c, parse_value_counts); }

/* ---- count ------------------------------------------------------------------ */

/* frame.count: the number of rows, as a one-row table {count}. */
static int count_run(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  int64_t n = (int64_t)hp_value_rows(t);
  hp_value *out = hp_table_new();
  hp_table_add_column(out, "count", HP_INT64, &n, 1);
  return hp_node_output(ctx, 0, out);
}

static int count_combine(hp_node_ctx *ctx) {
  int64_t n = 0;
  for (size_t i = 0; i < hp_node_ninputs(ctx); i++) {
    const hp_value *t;
    HP_TRY(first_table(ctx, &t)); /* type check of input 0 */
    HP_TRY(hp_node_input(ctx, i, &t));
    n += ((const int64_t *)hp_table_column(t, 0))[0];
  }
  hp_value *out = hp_table_new();
  hp_table_add_column(out, "count", HP_INT64, &n, 1);
  return hp_node_output(ctx, 0, out);
}

static const hp_node_type frame_nodes[] = {
    {.abi = HP_NODE_ABI, .name = "frame.filter", .run = filter_run,
     .mode = HP_MODE_MAP, .doc = "rows where args.expr is true"},
    {.abi = HP_NODE_ABI, .name = "frame.assign", .run = assign_run,
     .mode = HP_MODE_MAP, .doc = "new columns from expressions"},
    {.abi = HP_NODE_ABI, .name = "frame.select", .run = select_run,
     .mode = HP_MODE_MAP, .doc = "args.columns in that order"},
    {.abi = HP_NODE_ABI, .name = "frame.rename", .run = rename_run,
     .mode = HP_MODE_MAP, .doc = "renames args.columns {old: new}"},
    {.abi = HP_NODE_ABI, .name = "frame.count", .run = count_run,
     .mode = HP_MODE_REDUCE, .combine = count_combine,
     .finish = count_combine, .doc = "the number of rows"},
    {.abi = HP_NODE_ABI, .name = "frame.value_counts", .run = vc_run,
     .mode = HP_MODE_REDUCE, .combine = vc_combine, .finish = vc_finish,
     .doc = "rows per value of args.column, most frequent first"},
    {.abi = HP_NODE_ABI, .name = "frame.groupby", .run = groupby_run,
     .mode = HP_MODE_REDUCE, .combine = groupby_combine,
     .finish = groupby_finish,
     .doc = "args.agg of the groups of args.by, sorted by key"},
};

int hp__frame_register(hp_registry *r) {
  return hp_register_nodes(r, frame_nodes,
                           sizeof frame_nodes / sizeof frame_nodes[0]);
}
