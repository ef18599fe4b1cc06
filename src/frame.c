/*
 * frame.c - the frame.* builtins: operations on tables that run once per
 * partition (filter, assign, select, rename, fillna, dropna), reductions
 * that combine per-partition partials in part.c's fixed tree (count,
 * value_counts, groupby, head, describe, drop_duplicates) and whole-input
 * nodes (cumulative, concat). A groupby partial is a table of group keys
 * ("k.<col>") and states ("size", "n.<col>", "s.<col>" + "c.<col>" for
 * compensated sums, "i.<col>" for integer sums, "m.<col>"/"q.<col>" for
 * Welford's mean and squared deviations, "lo.<col>"/"hi.<col>", and
 * "f.<col>"/"l.<col>", the first and last non-null values); with nunique
 * it is a group of that table ("main") and the distinct (keys, value)
 * pairs of each nunique column ("u.<col>"). A head partial is the first n
 * rows, a describe partial each numeric column sorted (nulls as trailing
 * NaN), a drop_duplicates partial the first occurrences. Partials travel
 * and merge like any value, and results do not depend on how rows were
 * split.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "expr.h"
#include "part.h"
#include "map.h"
#include "mem.h"
#include "registry.h"
#include "sort.h"
#include "tree.h"
#include "value.h"

/* ---- small helpers ------------------------------------------------------ */

static int first_table(hp_node_ctx *ctx, const hp_value **t) {
  return hp__node_table(ctx, 0, t);
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

/* Names from args[key] (hp__tree_strings). */
static const char **names_arg(const hp_tree *args, const char *key,
                              size_t *n) {
  return hp__tree_strings(hp_tree_get(args, key), n);
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

/* ---- astype ------------------------------------------------------------------ */

static int type_named(const char *s, hp_dtype *t) {
  static const struct {
    const char *name;
    hp_dtype t;
  } names[] = {{"int64", HP_INT64}, {"int", HP_INT64},
               {"float64", HP_FLOAT64}, {"float", HP_FLOAT64},
               {"bool", HP_BOOL}, {"string", HP_STRING}, {"str", HP_STRING},
               {"timestamp", HP_TIMESTAMP}};
  for (size_t i = 0; s && i < sizeof names / sizeof *names; i++)
    if (strcmp(s, names[i].name) == 0) {
      *t = names[i].t;
      return 1;
    }
  return 0;
}

/* The shortest decimal text that reads back as x (like Python's repr). */
static void format_f64(double x, char *buf, size_t n) {
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, x);
    if (strtod(buf, NULL) == x)
      return;
  }
}

/* Row r of column c as text (for string targets). */
static void cell_text(const hp_value *t, size_t c, size_t r, char *buf,
                      size_t n) {
  const void *d = hp_table_column(t, c);
  switch (hp_table_coltype(t, c)) {
  case HP_INT64:
    snprintf(buf, n, "%lld", (long long)((const int64_t *)d)[r]);
    break;
  case HP_FLOAT64:
    format_f64(((const double *)d)[r], buf, n);
    break;
  case HP_BOOL:
    snprintf(buf, n, "%s", ((const uint8_t *)d)[r] ? "true" : "false");
    break;
  case HP_TIMESTAMP:
    hp__timestamp_format(((const int64_t *)d)[r], buf);
    break;
  default:
    snprintf(buf, n, "%s", hp_table_str(t, c, r));
  }
}

/* Column c of t converted to type `to`, as a one-column table named name;
 * NULL with a message in err for a value that does not convert. Nulls stay
 * null (and float NaN becomes null in the other types). */
static hp_value *convert(const hp_value *t, size_t c, hp_dtype to,
                         const char *name, char *err, size_t errlen) {
  size_t n = hp_value_rows(t);
  hp_dtype from = hp_table_coltype(t, c);
  const uint8_t *valid = hp_table_valid(t, c);
  uint8_t *ok = hp__xmalloc(n + 1);
  hp_value *out = hp_table_new();
  int bad = 0;
  if (to == HP_STRING) {
    char **v = hp__xcalloc(n + 1, sizeof *v);
    char buf[64];
    for (size_t r = 0; r < n; r++) {
      ok[r] = !is_null(t, c, valid, r);
      if (ok[r]) {
        cell_text(t, c, r, buf, sizeof buf);
        v[r] = from == HP_STRING ? (char *)hp_table_str(t, c, r)
                                 : hp__xstrdup(buf);
      } else {
        v[r] = (char *)"";
      }
    }
    hp_table_add_column(out, name, HP_STRING, (const char *const *)v, n);
    for (size_t r = 0; r < n && from != HP_STRING; r++)
      if (ok[r])
        free(v[r]);
    free(v);
  } else {
    int64_t *iv = hp__xcalloc(n + 1, 8);
    double *fv = (double *)iv;
    uint8_t *bv = (uint8_t *)iv;
    const void *d = hp_table_column(t, c);
    for (size_t r = 0; r < n && !bad; r++) {
      ok[r] = !is_null(t, c, valid, r);
      if (!ok[r]) {
        if (to == HP_FLOAT64)
          fv[r] = NAN;
        continue;
      }
      double x = 0;
      int64_t i = 0;
      int isint = 1;
      switch (from) {
      case HP_FLOAT64:
        x = ((const double *)d)[r];
        isint = 0;
        break;
      case HP_BOOL:
        i = ((const uint8_t *)d)[r];
        break;
      case HP_STRING: {
        const char *sv = hp_table_str(t, c, r);
        char *end;
        if (to == HP_TIMESTAMP) {
          bad = !hp__timestamp_parse(sv, &i);
        } else if (to == HP_BOOL) {
          bad = strcmp(sv, "true") && strcmp(sv, "false") &&
                strcmp(sv, "True") && strcmp(sv, "False");
          i = sv[0] == 't' || sv[0] == 'T';
        } else {
          i = strtoll(sv, &end, 10);
          if (*sv && !*end) {
            isint = 1;
          } else {
            x = strtod(sv, &end);
            isint = 0;
            bad = !*sv || *end;
          }
        }
        if (bad)
          snprintf(err, errlen, "column '%s': cannot read '%s' as %s",
                   hp_table_colname(t, c), sv, hp_dtype_name(to));
        break;
      }
      default:
        i = ((const int64_t *)d)[r];
      }
      if (bad)
        break;
      if (to == HP_FLOAT64) {
        fv[r] = isint ? (double)i : x;
      } else if (to == HP_BOOL) {
        bv[r] = isint ? i != 0 : x != 0;
      } else if (isint) {
        iv[r] = i;
      } else if (x != x || fabs(x) >= 9.2e18) {
        bad = 1;
        snprintf(err, errlen, "column '%s': %g does not fit in %s",
                 hp_table_colname(t, c), x, hp_dtype_name(to));
      } else {
        iv[r] = (int64_t)x; /* toward zero, as numpy's astype */
      }
    }
    if (!bad)
      hp_table_add_column(out, name, to, iv, n);
    free(iv);
  }
  int anynull = 0;
  for (size_t r = 0; r < n && !anynull; r++)
    anynull = !ok[r];
  if (!bad && anynull && to != HP_FLOAT64)
    hp_table_set_valid(out, 0, ok);
  free(ok);
  if (bad) {
    hp_value_free(out);
    return NULL;
  }
  return out;
}

/* frame.astype: args.columns {col: int64|float64|bool|string|timestamp}. */
static int astype_run(hp_node_ctx *ctx) {
  const hp_value *in;
  HP_TRY(first_table(ctx, &in));
  const hp_tree *m = hp_tree_get(hp_node_args(ctx), "columns");
  if (hp_tree_type(m) != HP_TREE_MAP)
    return hp_node_fail(ctx, "frame.astype needs args.columns {column: type}");
  for (size_t i = 0; i < hp_tree_len(m); i++) {
    hp_dtype to;
    if (hp_table_find(in, hp_tree_key(m, i)) < 0)
      return hp_node_fail(ctx, "no column '%s' in input '%s'",
                          hp_tree_key(m, i), hp_node_input_name(ctx, 0));
    if (!type_named(hp_tree_text(hp_tree_at(m, i)), &to))
      return hp_node_fail(ctx,
                          "args.columns.%s: unknown type (int64, float64, "
                          "bool, string or timestamp)",
                          hp_tree_key(m, i));
  }
  hp_value *src = hp_value_copy(in), *out = hp_table_new();
  int rc = HP_OK;
  for (size_t c = 0; c < hp_table_ncols(in) && rc == HP_OK; c++) {
    const char *name = hp_table_colname(in, c);
    const char *want = NULL;
    for (size_t i = 0; i < hp_tree_len(m); i++)
      if (strcmp(hp_tree_key(m, i), name) == 0)
        want = hp_tree_text(hp_tree_at(m, i));
    hp_dtype to;
    if (!want || !type_named(want, &to) ||
        (to == hp_table_coltype(in, c) && to != HP_STRING)) {
      rc = hp__table_move_column(out, src, c, NULL);
      continue;
    }
    char msg[300] = "";
    hp_value *one = convert(in, c, to, name, msg, sizeof msg);
    rc = one ? hp__table_move_column(out, one, 0, NULL)
             : hp_node_fail(ctx, "%s", msg);
    hp_value_free(one);
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
  int64_t *size;  /* [groups] rows of each group when group_rows counted
                     them on the way (small key ranges), else NULL */
} grouping;

/* valid (NULL: null keys were dropped before) gives each key column's mask
 * when nulls are keys too: a null hashes alike and equals only a null. */
static uint64_t key_hash(const hp_value *t, const size_t *k, size_t nk,
                         const uint8_t *const *valid, size_t r) {
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < nk; i++) {
    size_t c = k[i];
    uint64_t x;
    const int32_t *codes = hp_table_dict_codes(t, c);
    if (valid && is_null(t, c, valid[i], r)) {
      h = hp__mix64(h ^ 0x6e756c6cULL) + i;
      continue;
    }
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
    h = hp__mix64(h ^ x) + i;
  }
  return h;
}

static int key_eq(const hp_value *t, const size_t *k, size_t nk,
                  const uint8_t *const *valid, size_t a, size_t b) {
  for (size_t i = 0; i < nk; i++) {
    size_t c = k[i];
    const int32_t *codes = hp_table_dict_codes(t, c);
    if (valid) {
      int na = is_null(t, c, valid[i], a), nb = is_null(t, c, valid[i], b);
      if (na || nb) {
        if (na != nb)
          return 0;
        continue;
      }
    }
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

/* 0 if row r has a null key and such rows are dropped (drop), else 1 and
 * the hash of its key (kv: nulls are keys, as in key_hash). */
static int row_hash(const hp_value *t, const size_t *k, size_t nk,
                    const uint8_t *const *valid, int drop,
                    const uint8_t *const *kv, size_t r, uint64_t *h) {
  for (size_t i = 0; drop && i < nk; i++)
    if (is_null(t, k[i], valid[i], r))
      return 0;
  *h = key_hash(t, k, nk, kv, r);
  return 1;
}

static __attribute__((noinline)) int32_t new_group(grouping *g, size_t r) {
  hp__grow(&g->first, &g->cap, g->ngroups + 1, sizeof *g->first);
  g->first[g->ngroups] = (int64_t)r;
  return (int32_t)g->ngroups++;
}

/* The smallest and largest of v[0..n), n > 0, in two independent
 * chains each (a compare and move per value and chain). */
static void minmax_i64(const int64_t *v, size_t n, int64_t *lo, int64_t *hi) {
  int64_t l0 = v[0], l1 = v[0], h0 = v[0], h1 = v[0];
  size_t r = 1;
  for (; r + 2 <= n; r += 2) {
    int64_t a = v[r], b = v[r + 1];
    l0 = a < l0 ? a : l0;
    h0 = a > h0 ? a : h0;
    l1 = b < l1 ? b : l1;
    h1 = b > h1 ? b : h1;
  }
  for (; r < n; r++) {
    l0 = v[r] < l0 ? v[r] : l0;
    h0 = v[r] > h0 ? v[r] : h0;
  }
  *lo = l0 < l1 ? l0 : l1;
  *hi = h0 > h1 ? h0 : h1;
}

/* Rows to groups by slot: row r's slot is codes[r] (a dictionary), or
 * v[r] - lo (an integer range); map[slot] is its group (-1: none yet,
 * numbered on first appearance), and cnt (when given) counts the rows of
 * each slot. The loop keeps every pointer in a register. */
static void slot_groups(grouping *g, const uint32_t *codes, const uint64_t *v,
                        uint64_t lo, size_t n, int32_t *restrict map,
                        int64_t *restrict cnt) {
  int32_t *restrict gid = g->gid;
  for (size_t r = 0; r < n; r++) {
    size_t c = codes ? codes[r] : (size_t)(v[r] - lo);
    if (cnt)
      cnt[c]++;
    int32_t m = map[c];
    if (__builtin_expect(m < 0, 0))
      m = map[c] = new_group(g, r);
    gid[r] = m;
  }
}

/* g->size from the rows counted per slot c (slot c is group map[c], or
 * no group when map[c] < 0). */
static void counted_sizes(grouping *g, const int32_t *map, const int64_t *cnt,
                          size_t nslots) {
  g->size = hp__xcalloc(g->ngroups + 1, sizeof *g->size);
  for (size_t c = 0; c < nslots; c++)
    if (map[c] >= 0)
      g->size[map[c]] = cnt[c];
}

/* Groups the rows of t by key columns k[0..nk); rows with a null key get
 * -1, or with null_keys, group with the rows null in the same columns (as
 * drop_duplicates wants). Groups are numbered in order of first
 * appearance. */
static void group_rows(const hp_value *t, const size_t *k, size_t nk,
                       int null_keys, grouping *g) {
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
    int64_t *cnt = hp__xcalloc(nd + 1, sizeof *cnt);
    for (size_t i = 0; i < nd; i++)
      map[i] = -1;
    slot_groups(g, (const uint32_t *)codes, NULL, 0, n, map, cnt);
    counted_sizes(g, map, cnt, nd);
    free(cnt);
    free(map);
    free(valid);
    return;
  }
  if (nk == 1 && !nullable && n &&
      (hp_table_coltype(t, k[0]) == HP_INT64 ||
       hp_table_coltype(t, k[0]) == HP_TIMESTAMP)) {
    /* one integer column over a small range: index by value */
    const int64_t *v = hp_table_column(t, k[0]);
    int64_t lo, hi;
    minmax_i64(v, n, &lo, &hi);
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span < 2 * (uint64_t)n + 1024 && span < ((uint64_t)1 << 26)) {
      int32_t *map = hp__xmalloc((size_t)(span + 1) * sizeof *map);
      for (uint64_t i = 0; i <= span; i++)
        map[i] = -1;
      if (span < 4096) { /* few slots: count the rows of each on the way */
        int64_t *cnt = hp__xcalloc((size_t)span + 1, sizeof *cnt);
        slot_groups(g, NULL, (const uint64_t *)v, (uint64_t)lo, n, map, cnt);
        counted_sizes(g, map, cnt, (size_t)span + 1);
        free(cnt);
      } else {
        slot_groups(g, NULL, (const uint64_t *)v, (uint64_t)lo, n, map, NULL);
      }
      free(map);
      free(valid);
      return;
    }
  }
  size_t cap = 64;
  while (cap < 2 * n + 2 && cap < ((size_t)1 << 40))
    cap *= 2;
  /* open addressing; a slot keeps the top half of its key's hash, so that
   * only a probable match reads the group's key row. Rows are hashed
   * AHEAD rows before their turn and their slots prefetched: with many
   * groups the table is far larger than the caches. */
  typedef struct gslot {
    int32_t gid; /* -1: empty */
    uint32_t tag;
  } gslot;
  enum { AHEAD = 16 };
  gslot *slot = hp__xmalloc(cap * sizeof *slot);
  for (size_t i = 0; i < cap; i++)
    slot[i].gid = -1;
  const uint8_t *const *kv = null_keys && nullable ? valid : NULL;
  int drop = nullable && !kv; /* rows with a null key get -1 */
  uint64_t hs[AHEAD];
  uint8_t ok[AHEAD];
  for (size_t j = 0; j < AHEAD && j < n; j++)
    ok[j] = (uint8_t)row_hash(t, k, nk, valid, drop, kv, j, &hs[j]);
  for (size_t r = 0; r < n; r++) {
    size_t q = r % AHEAD;
    int has = ok[q];
    uint64_t h = hs[q];
    if (r + AHEAD < n) {
      ok[q] = (uint8_t)row_hash(t, k, nk, valid, drop, kv, r + AHEAD, &hs[q]);
      if (ok[q])
        __builtin_prefetch(&slot[hs[q] & (cap - 1)]);
    }
    if (!has) {
      g->gid[r] = -1;
      continue;
    }
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t p = (size_t)h & (cap - 1);; p = (p + 1) & (cap - 1)) {
      gslot *sl = &slot[p];
      if (sl->gid < 0) {
        sl->gid = new_group(g, r);
        sl->tag = tag;
        g->gid[r] = sl->gid;
        break;
      }
      if (sl->tag == tag && key_eq(t, k, nk, kv, (size_t)g->first[sl->gid], r)) {
        g->gid[r] = sl->gid;
        break;
      }
    }
  }
  free(slot);
  free(valid);
}

/* Adds each group's row count (rows of n with gid >= 0) to size. Few
 * groups: four interleaved counts per group, so that rows of one group
 * close together do not wait on each other's increment. */
static void group_sizes(const grouping *g, size_t n, int64_t *size) {
  size_t ng = g->ngroups, r = 0;
  const int32_t *gid = g->gid;
  if (g->size) { /* counted by group_rows */
    for (size_t i = 0; i < ng; i++)
      size[i] += g->size[i];
    return;
  }
  if (ng && ng <= 4096 && n >= 4 * ng) {
    int64_t *c = hp__xcalloc(4 * ng, sizeof *c);
    int64_t *c1 = c + ng, *c2 = c1 + ng, *c3 = c2 + ng;
    for (; r + 4 <= n; r += 4) {
      int32_t a = gid[r], b = gid[r + 1], d = gid[r + 2], e = gid[r + 3];
      if ((a | b | d | e) < 0) /* a null key among them */
        break;
      c[a]++, c1[b]++, c2[d]++, c3[e]++;
    }
    for (size_t i = 0; i < ng; i++)
      size[i] += c[i] + c1[i] + c2[i] + c3[i];
    free(c);
  }
  for (; r < n; r++)
    if (gid[r] >= 0)
      size[gid[r]]++;
}

static void grouping_free(grouping *g) {
  free(g->gid);
  free(g->first);
  free(g->size);
}

/* ---- borrowed views and per-group picks ---------------------------------- */

/* A table that borrows columns cols[0..n) of t, renamed to names[i] unless
 * names is NULL, for helpers that read whole tables (take, mask, concat)
 * without copying the other columns. buf holds the n column headers; the
 * shell is never given to hp_value_free. */
static hp_value shell_of(const hp_value *t, const size_t *cols, size_t n,
                         char *const *names, hp_column *buf) {
  for (size_t i = 0; i < n; i++) {
    buf[i] = t->cols[cols[i]];
    if (names)
      buf[i].name = names[i];
  }
  hp_value s = {.kind = HP_TABLE, .nrows = t->nrows, .ncols = n,
                .capcols = n, .cols = buf};
  return s;
}

/* Rows rows[0..n) of column col of t, as a one-column table. */
static hp_value *take_col(const hp_value *t, size_t col, const int64_t *rows,
                          size_t n) {
  hp_column buf[1];
  hp_value s = shell_of(t, &col, 1, NULL, buf);
  return hp__table_take(&s, rows, n);
}

/* Row of the first (last) non-null value of column col in each group;
 * a group without one gets its first row, which is null there. */
static void pick_rows(const hp_value *t, size_t col, const grouping *gr,
                      int last, int64_t *idx) {
  size_t n = hp_value_rows(t), ng = gr->ngroups;
  const uint8_t *valid = hp_table_valid(t, col);
  const double *f = hp_table_coltype(t, col) == HP_FLOAT64
                        ? hp_table_column(t, col) : NULL;
  for (size_t g = 0; g < ng; g++)
    idx[g] = -1;
  for (size_t i = 0; i < n; i++) {
    size_t r = last ? n - 1 - i : i;
    int32_t g = gr->gid[r];
    if (g < 0 || idx[g] >= 0 || (valid && !valid[r]) || (f && isnan(f[r])))
      continue;
    idx[g] = (int64_t)r;
  }
  for (size_t g = 0; g < ng; g++)
    if (idx[g] < 0)
      idx[g] = gr->first[g];
}

/* Appends "f.<col>" and "l.<col>" for each first/last column of sp to the
 * partial out: the first and last non-null value in each group of gr of
 * column fsrc[j] (lsrc[j]) of t. */
static int add_picks(hp_value *out, const hp_value *t, const size_t *fsrc,
                     const size_t *lsrc, const char *const *pcols, size_t npc,
                     const grouping *gr) {
  int64_t *idx = hp__xmalloc((gr->ngroups + 1) * sizeof *idx);
  int rc = HP_OK;
  for (size_t j = 0; j < npc && rc == HP_OK; j++) {
    for (int last = 0; last < 2 && rc == HP_OK; last++) {
      size_t col = last ? lsrc[j] : fsrc[j];
      pick_rows(t, col, gr, last, idx);
      hp_value *one = take_col(t, col, idx, gr->ngroups);
      char *name = hp__xasprintf("%s.%s", last ? "l" : "f", pcols[j]);
      rc = one ? hp__table_move_column(out, one, 0, name) : HP_ENOMEM;
      free(name);
      hp_value_free(one);
    }
  }
  free(idx);
  return rc;
}

/* The distinct (keys, value) pairs of t, in order of first appearance:
 * key columns kcols[0..nk) named knames (NULL: as they are) and value
 * column vcol named "v", over the rows whose group gid[r] is not -1 (gid
 * NULL: all rows) and whose value is not null. */
static hp_value *distinct_pairs(const hp_value *t, const size_t *kcols,
                                size_t nk, char *const *knames, size_t vcol,
                                const int32_t *gid) {
  size_t n = hp_value_rows(t);
  uint8_t *keep = hp__xmalloc(n + 1);
  const uint8_t *valid = hp_table_valid(t, vcol);
  const double *f = hp_table_coltype(t, vcol) == HP_FLOAT64
                        ? hp_table_column(t, vcol) : NULL;
  for (size_t r = 0; r < n; r++)
    keep[r] = !gid || gid[r] >= 0;
  if (valid)
    for (size_t r = 0; r < n; r++)
      keep[r] &= valid[r] != 0;
  if (f)
    for (size_t r = 0; r < n; r++)
      keep[r] &= !isnan(f[r]);
  size_t *cols = hp__xmalloc((nk + 1) * sizeof *cols);
  char **names = hp__xcalloc(nk + 1, sizeof *names);
  hp_column *buf = hp__xmalloc((nk + 1) * sizeof *buf);
  for (size_t i = 0; i < nk; i++) {
    cols[i] = kcols[i];
    names[i] = knames ? knames[i] : t->cols[kcols[i]].name;
  }
  cols[nk] = vcol;
  names[nk] = (char *)"v";
  hp_value shell = shell_of(t, cols, nk + 1, names, buf);
  hp_value *cand = hp__table_mask(&shell, keep);
  hp_value *pairs = NULL;
  if (cand) {
    for (size_t i = 0; i <= nk; i++)
      cols[i] = i;
    grouping g;
    group_rows(cand, cols, nk + 1, 0, &g);
    pairs = hp__table_take(cand, g.first, g.ngroups);
    grouping_free(&g);
  }
  hp_value_free(cand);
  free(buf);
  free(names);
  free(cols);
  free(keep);
  return pairs;
}

/* A groupby partial is its table of keys and states, or with nunique
 * aggregations a group of that table ("main") and one table of distinct
 * (keys, value) pairs per nunique column ("u.<col>"). */
static const hp_value *main_of(const hp_value *p) {
  return hp_value_kind(p) == HP_GROUP ? hp_group_get(p, "main") : p;
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
  A_STD,
  A_FIRST,
  A_LAST,
  A_NUNIQUE
} afunc;

static const char *const afunc_names[] = {
    "size", "count", "sum", "mean",  "min",
    "max",  "var",   "std", "first", "last", "nunique"};

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
  const char **vcols; /* distinct value columns of numeric states */
  size_t nv;
  const char **pcols; /* distinct first/last columns ("f.", "l.") */
  size_t npc;
  const char **ucols; /* distinct nunique columns (pairs "u.<col>") */
  size_t nuc;
  int sort_by_count; /* value_counts order */
} spec;

static void spec_free(spec *s) {
  free(s->by);
  for (size_t i = 0; i < s->naggs; i++)
    free(s->aggs[i].out);
  free(s->aggs);
  free(s->vcols);
  free(s->pcols);
  free(s->ucols);
}

static int parse_func(hp_node_ctx *ctx, const char *f, afunc *out) {
  for (size_t i = 0; i < sizeof afunc_names / sizeof *afunc_names; i++)
    if (f && strcmp(f, afunc_names[i]) == 0) {
      *out = (afunc)i;
      return HP_OK;
    }
  return hp_node_fail(ctx,
                      "unknown aggregation '%s' (known: size, count, sum, "
                      "mean, min, max, var, std, first, last, nunique)",
                      f ? f : "?");
}

static void add_name(const char ***list, size_t *n, const char *col) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*list)[i], col) == 0)
      return;
  *list = hp__xrealloc(*list, (*n + 1) * sizeof **list);
  (*list)[(*n)++] = col;
}

static void add_agg(spec *s, const char *col, afunc f, int suffix) {
  s->aggs = hp__xrealloc(s->aggs, (s->naggs + 1) * sizeof *s->aggs);
  agg *a = &s->aggs[s->naggs++];
  a->col = col;
  a->f = f;
  a->out = !col ? hp__xstrdup("size")
           : suffix ? hp__xasprintf("%s_%s", col, afunc_names[f])
                    : hp__xstrdup(col);
  if (!col)
    return;
  if (f == A_FIRST || f == A_LAST)
    add_name(&s->pcols, &s->npc, col);
  else if (f == A_NUNIQUE)
    add_name(&s->ucols, &s->nuc, col);
  else
    add_name(&s->vcols, &s->nv, col);
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
    afunc fn = A_SIZE;
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

/* What a value column's aggregations need beyond the count. */
enum { NEED_SUM = 1, NEED_MINMAX = 2, NEED_MOMENTS = 4 };

static unsigned needs_of(const spec *sp, const char *col) {
  unsigned need = 0;
  for (size_t i = 0; i < sp->naggs; i++) {
    const agg *a = &sp->aggs[i];
    if (!a->col || strcmp(a->col, col) != 0) continue;
    need |= a->f == A_SUM || a->f == A_MEAN  ? NEED_SUM
            : a->f == A_MIN || a->f == A_MAX ? NEED_MINMAX
            : a->f == A_VAR || a->f == A_STD ? NEED_MOMENTS
                                             : 0u;
  }
  return need;
}

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
    v->ilo = hp__xcalloc(ng + 1, 8);
    v->ihi = hp__xcalloc(ng + 1, 8);
    v->s = hp__xcalloc(ng + 1, 8);
    v->c = hp__xcalloc(ng + 1, 8);
    v->m = hp__xcalloc(ng + 1, 8);
    v->q = hp__xcalloc(ng + 1, 8);
    v->lo = hp__xcalloc(ng + 1, 8);
    v->hi = hp__xcalloc(ng + 1, 8);
    /* min/max states start at their identities only when some
     * aggregation reads them (no pages touched for the others: many
     * groups make these arrays large) */
    if (!(needs_of(sp, sp->vcols[j]) & NEED_MINMAX))
      continue;
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

/* The rows of one value column into v; the flags are constants at each
 * call below, so each combination compiles to its own tight loop. */
static inline __attribute__((always_inline)) void
accumulate_rows(vstate *v, const void *data, const uint8_t *valid,
                const int32_t *gid, size_t n, int is_float, int is_bool,
                int sums, int minmax, int moments) {
  for (size_t r = 0; r < n; r++) {
    int32_t g = gid[r];
    if (g < 0 || (valid && !valid[r]))
      continue;
    double x;
    if (is_float) {
      x = ((const double *)data)[r];
      if (isnan(x))
        continue;
    } else {
      int64_t i = is_bool ? ((const uint8_t *)data)[r]
                          : ((const int64_t *)data)[r];
      if (sums)
        v->isum[g] = (int64_t)((uint64_t)v->isum[g] + (uint64_t)i);
      if (minmax) { /* stored either way: no branch to mispredict */
        v->ilo[g] = i < v->ilo[g] ? i : v->ilo[g];
        v->ihi[g] = i > v->ihi[g] ? i : v->ihi[g];
      }
      x = (double)i;
    }
    v->n[g]++;
    if (sums)
      hp__kadd(&v->s[g], &v->c[g], x);
    if (minmax) {
      v->lo[g] = x < v->lo[g] ? x : v->lo[g];
      v->hi[g] = x > v->hi[g] ? x : v->hi[g];
    }
    if (moments) {
      double d = x - v->m[g];
      v->m[g] += d / (double)v->n[g];
      v->q[g] += d * (x - v->m[g]);
    }
  }
}

/* 1 if any of x[0..n) is NaN or infinite, in one pass of integer
 * operations the compiler vectorises: an exponent of all ones, plus one
 * in its lowest bit, carries into the sign bit. */
static int any_nonfinite(const double *x, size_t n) {
  const uint64_t exp = 0x7ff0000000000000u, one = (uint64_t)1 << 52;
  uint64_t acc = 0;
  for (size_t r = 0; r < n; r++) {
    uint64_t u;
    memcpy(&u, &x[r], sizeof u);
    acc |= (u & exp) + one;
  }
  return (int)(acc >> 63);
}

/* A float column without a validity mask, for a sum or min/max: the
 * NaNs (pandas' nulls) are counted per group instead of every row, so
 * that a group's count is its size less its NaNs, and the state arrays
 * sit in locals the compiler need not reload after each store. */
static inline __attribute__((always_inline)) void
accumulate_floats(vstate *v, const double *x, const int32_t *gid, size_t n,
                  size_t ng, const int64_t *size, unsigned need) {
  int64_t *restrict nan = v->n; /* zero until the end */
  double *restrict s = v->s, *restrict c = v->c;
  double *restrict lo = v->lo, *restrict hi = v->hi;
  if (need && !any_nonfinite(x, n)) {
    /* no NaN to skip. A sum: hp__kadd without its checks, as a sum of
     * finite values that overflows to inf stays so, its c no longer
     * counting (hp__ktotal): c is set to 0 then, where hp__kadd would
     * have left it, with the same totals and merges */
    for (size_t r = 0; r < n; r++) {
      int32_t g = gid[r];
      if (g < 0)
        continue;
      double b = x[r];
      if (need == NEED_SUM) {
        double a = s[g], t = a + b, bb = t - a, ab = t - bb;
        c[g] += (a - ab) + (b - bb);
        s[g] = t;
      } else {
        lo[g] = b < lo[g] ? b : lo[g];
        hi[g] = b > hi[g] ? b : hi[g];
      }
    }
    for (size_t g = 0; g < ng; g++) {
      if (need == NEED_SUM)
        c[g] = isfinite(s[g]) ? c[g] : 0;
      nan[g] = size[g];
    }
    return;
  }
  for (size_t r = 0; r < n; r++) {
    int32_t g = gid[r];
    if (g < 0)
      continue;
    double a = x[r];
    if (isnan(a)) {
      nan[g]++;
      continue;
    }
    if (need == NEED_SUM) {
      hp__kadd(&s[g], &c[g], a);
    } else if (need == NEED_MINMAX) { /* stored either way: no branch */
      lo[g] = a < lo[g] ? a : lo[g];
      hi[g] = a > hi[g] ? a : hi[g];
    }
  }
  for (size_t g = 0; g < ng; g++)
    nan[g] = size[g] - nan[g];
}

/* Accumulates value column col of t into v by the grouping: the count,
 * and the states `need` asks for (others keep their initial values). A
 * column of another type than numbers is only counted. size holds the
 * groups' row counts in t (gid >= 0). */
static void accumulate(vstate *v, const hp_value *t, size_t col,
                       const grouping *gr, const int64_t *size,
                       unsigned need) {
  size_t n = hp_value_rows(t);
  const uint8_t *valid = hp_table_valid(t, col);
  hp_dtype ty = hp_table_coltype(t, col);
  const void *data = hp_table_column(t, col);
  const int32_t *gid = gr->gid;
  if (ty == HP_FLOAT64 && !valid && need <= NEED_MINMAX) { /* 0, SUM, MINMAX */
    if (need == NEED_SUM)
      accumulate_floats(v, data, gid, n, gr->ngroups, size, NEED_SUM);
    else if (need == NEED_MINMAX)
      accumulate_floats(v, data, gid, n, gr->ngroups, size, NEED_MINMAX);
    else
      accumulate_floats(v, data, gid, n, gr->ngroups, size, 0);
    return;
  }
  if (ty != HP_FLOAT64 && ty != HP_INT64 && ty != HP_BOOL) {
    for (size_t r = 0; r < n; r++)
      if (gid[r] >= 0 && !(valid && !valid[r]))
        v->n[gid[r]]++;
    return;
  }
  if (ty == HP_FLOAT64) {
    if (need == 0)
      accumulate_rows(v, data, valid, gid, n, 1, 0, 0, 0, 0);
    else if (need == NEED_SUM)
      accumulate_rows(v, data, valid, gid, n, 1, 0, 1, 0, 0);
    else if (need == NEED_MINMAX)
      accumulate_rows(v, data, valid, gid, n, 1, 0, 0, 1, 0);
    else
      accumulate_rows(v, data, valid, gid, n, 1, 0, 1, 1, 1);
  } else if (ty == HP_INT64) {
    if (need == 0)
      accumulate_rows(v, data, valid, gid, n, 0, 0, 0, 0, 0);
    else if (need == NEED_SUM)
      accumulate_rows(v, data, valid, gid, n, 0, 0, 1, 0, 0);
    else if (need == NEED_MINMAX)
      accumulate_rows(v, data, valid, gid, n, 0, 0, 0, 1, 0);
    else
      accumulate_rows(v, data, valid, gid, n, 0, 0, 1, 1, 1);
  } else {
    accumulate_rows(v, data, valid, gid, n, 0, 1, 1, 1, 1);
  }
}

/* ---- one pass: a small key and float values --------------------------------- */

/* A partition grouped by one key of few distinct values - a dictionary's
 * codes, or integers within a window of slots - whose value columns are
 * floats without masks needing a count, a sum or min/max: each row is
 * mapped to its key's slot, counted and accumulated in one pass that reads
 * every column once, instead of a pass to find the key range, one to
 * number the groups and two per column (a NaN check, the accumulation).
 * On data out of the caches the passes cost more than the arithmetic
 * (W1d: ~12 -> ~4.5 ns a row). The states and the group order are those
 * of group_rows + accumulate: the same operations on each group in row
 * order; a slot's states are set when its first row is seen. */
enum { ONEPASS_MAXV = 2, ONEPASS_SLOTS = 4096, ONEPASS_CODES = 1 << 16 };

/* A slot's count and states, together: a row touches one or two cache
 * lines instead of one per state array. */
typedef struct opslot {
  int64_t cnt; /* rows; 0: not seen yet, the rest unset */
  int64_t nan[ONEPASS_MAXV];
  double s[ONEPASS_MAXV], c[ONEPASS_MAXV], lo[ONEPASS_MAXV], hi[ONEPASS_MAXV];
} opslot;

typedef struct onepass {
  size_t nslots, ng;
  opslot *slot;   /* [nslots], counts zeroed */
  int32_t *order; /* [nslots] slots in order of first appearance */
  int64_t *first; /* [nslots] first row of order[i] */
} onepass;

/* Value y of a row into column j's states in slot q: a NaN is counted, a
 * sum is hp__kadd unchecked (as accumulate_floats, whose totals it keeps:
 * onepass_reduce zeroes c where s is not finite). */
static inline __attribute__((always_inline)) void
onepass_add(unsigned need, double y, opslot *q, unsigned j) {
  if (__builtin_expect(isnan(y), 0)) {
    q->nan[j]++;
  } else if (need == NEED_SUM) {
    double p = q->s[j], t = p + y, yy = t - p, pp = t - yy;
    q->c[j] += (p - pp) + (y - yy);
    q->s[j] = t;
  } else if (need == NEED_MINMAX) {
    q->lo[j] = y < q->lo[j] ? y : q->lo[j];
    q->hi[j] = y > q->hi[j] ? y : q->hi[j];
  }
}

/* Rows [0, n) into o; 0 (o half filled) if a key falls outside the window
 * [base, base + nslots) of slots. nv value columns x[], with needs a and b
 * (0, NEED_SUM or NEED_MINMAX): constants at every call, so each
 * combination compiles to its own loop. */
static inline __attribute__((always_inline)) int
onepass_rows(onepass *o, const uint32_t *codes, const uint64_t *v,
             uint64_t base, const double *const *x, size_t n, unsigned nv,
             unsigned a, unsigned b) {
  opslot *restrict slot = o->slot;
  int32_t *restrict order = o->order;
  int64_t *restrict first = o->first;
  const double *x0 = nv > 0 ? x[0] : NULL, *x1 = nv > 1 ? x[1] : NULL;
  size_t nslots = o->nslots, ng = o->ng;
  for (size_t r = 0; r < n; r++) {
    size_t k = codes ? codes[r] : (size_t)(v[r] - base);
    if (k >= nslots) { /* a code is < nslots unless a null slipped in */
      o->ng = ng;
      return 0;
    }
    opslot *q = &slot[k];
    int64_t seen = q->cnt;
    if (__builtin_expect(seen == 0, 0)) {
      order[ng] = (int32_t)k;
      first[ng++] = (int64_t)r;
      for (unsigned j = 0; j < nv; j++) {
        q->nan[j] = 0;
        q->s[j] = q->c[j] = 0;
        q->lo[j] = INFINITY;
        q->hi[j] = -INFINITY;
      }
    }
    q->cnt = seen + 1;
    if (nv > 0)
      onepass_add(a, x0[r], q, 0);
    if (nv > 1)
      onepass_add(b, x1[r], q, 1);
  }
  o->ng = ng;
  return 1;
}

/* onepass_rows for nv columns of needs a, b, one loop per combination. */
static int onepass_fill(onepass *o, const uint32_t *codes, const uint64_t *v,
                        uint64_t base, const double *const *x, size_t n,
                        unsigned nv, unsigned a, unsigned b) {
#define ONEPASS_CASE(NV, A, B)                                                 \
  case (NV) * 16 + (A) * 4 + (B):                                              \
    return codes ? onepass_rows(o, codes, NULL, 0, x, n, NV, A, B)             \
                 : onepass_rows(o, NULL, v, base, x, n, NV, A, B)
  switch (nv * 16 + a * 4 + b) {
    ONEPASS_CASE(0, 0, 0);
    ONEPASS_CASE(1, 0, 0);
    ONEPASS_CASE(1, NEED_SUM, 0);
    ONEPASS_CASE(1, NEED_MINMAX, 0);
    ONEPASS_CASE(2, 0, 0);
    ONEPASS_CASE(2, 0, NEED_SUM);
    ONEPASS_CASE(2, 0, NEED_MINMAX);
    ONEPASS_CASE(2, NEED_SUM, 0);
    ONEPASS_CASE(2, NEED_SUM, NEED_SUM);
    ONEPASS_CASE(2, NEED_SUM, NEED_MINMAX);
    ONEPASS_CASE(2, NEED_MINMAX, 0);
    ONEPASS_CASE(2, NEED_MINMAX, NEED_SUM);
    ONEPASS_CASE(2, NEED_MINMAX, NEED_MINMAX);
  default:
    return 0;
  }
#undef ONEPASS_CASE
}

static void onepass_free(onepass *o) {
  free(o->slot);
  free(o->order);
  free(o->first);
}

/* Groups t by key column key and accumulates value columns vc[0..nv) in
 * one pass when they qualify (see above): fills gr (no gid) and st as
 * group_rows + states_init + accumulate would, and returns 1; else 0 and
 * nothing is set. */
static int onepass_reduce(const hp_value *t, size_t key, const size_t *vc,
                          size_t nv, const spec *sp, const int *is_int,
                          grouping *gr, states *st) {
  size_t n = hp_value_rows(t);
  unsigned need[ONEPASS_MAXV] = {0};
  const double *x[ONEPASS_MAXV] = {0};
  if (n == 0 || nv > ONEPASS_MAXV || hp_table_valid(t, key))
    return 0;
  for (size_t j = 0; j < nv; j++) {
    need[j] = needs_of(sp, sp->vcols[j]);
    if (hp_table_coltype(t, vc[j]) != HP_FLOAT64 || hp_table_valid(t, vc[j]) ||
        need[j] > NEED_MINMAX)
      return 0;
    x[j] = hp_table_column(t, vc[j]);
  }
  const uint32_t *codes = (const uint32_t *)hp_table_dict_codes(t, key);
  const uint64_t *v = NULL;
  uint64_t base = 0;
  size_t nslots;
  hp_dtype kt = hp_table_coltype(t, key);
  if (codes) {
    nslots = hp_table_dict_size(t, key);
    if (nslots == 0 || nslots > ONEPASS_CODES)
      return 0;
  } else if (kt == HP_INT64 || kt == HP_TIMESTAMP) {
    /* a window of slots around the first rows' keys, four times their
     * range (up to 4,096); a key outside it ends the attempt */
    v = hp_table_column(t, key);
    int64_t lo, hi;
    minmax_i64((const int64_t *)v, n < 256 ? n : 256, &lo, &hi);
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span >= ONEPASS_SLOTS / 2)
      return 0;
    for (nslots = 256; nslots < 4 * (span + 1) && nslots < ONEPASS_SLOTS;)
      nslots *= 2;
    base = (uint64_t)lo - (nslots - span) / 2;
  } else {
    return 0;
  }
  onepass o = {.nslots = nslots};
  o.slot = hp__xcalloc(nslots, sizeof *o.slot);
  o.order = hp__xmalloc(nslots * sizeof *o.order);
  o.first = hp__xmalloc(nslots * sizeof *o.first);
  if (!onepass_fill(&o, codes, v, base, x, n, (unsigned)nv, need[0],
                    need[1])) {
    onepass_free(&o);
    return 0;
  }
  size_t ng = o.ng;
  memset(gr, 0, sizeof *gr);
  gr->ngroups = gr->cap = ng;
  gr->first = o.first;
  o.first = NULL;
  gr->size = hp__xmalloc((ng + 1) * sizeof *gr->size);
  states_init(st, sp, ng, is_int);
  for (size_t g = 0; g < ng; g++) {
    const opslot *q = &o.slot[o.order[g]];
    gr->size[g] = q->cnt;
    for (size_t j = 0; j < nv; j++) {
      vstate *sv = &st->v[j];
      sv->n[g] = q->cnt - q->nan[j];
      if (need[j] == NEED_SUM) {
        sv->s[g] = q->s[j];
        sv->c[g] = isfinite(q->s[j]) ? q->c[j] : 0;
      } else if (need[j] == NEED_MINMAX) {
        sv->lo[g] = q->lo[j];
        sv->hi[g] = q->hi[j];
      }
    }
  }
  onepass_free(&o);
  return 1;
}

/* Merges group b of src into group a of dst (Chan et al. for m and q):
 * the count and the states `need` asks for (the only ones a partial
 * carries, see partial_table). */
static void merge(vstate *dst, size_t a, const vstate *src, size_t b,
                  unsigned need) {
  int64_t na = dst->n[a], nb = src->n[b];
  if (nb == 0)
    return;
  if (need & NEED_MOMENTS) {
    double delta = src->m[b] - dst->m[a];
    double n = (double)(na + nb);
    dst->q[a] += src->q[b] + delta * delta * (double)na * (double)nb / n;
    dst->m[a] += delta * (double)nb / n;
  }
  dst->n[a] = na + nb;
  if (need & NEED_SUM) {
    hp__kadd(&dst->s[a], &dst->c[a], src->s[b]);
    hp__kadd(&dst->s[a], &dst->c[a], src->c[b]);
    dst->isum[a] = (int64_t)((uint64_t)dst->isum[a] + (uint64_t)src->isum[b]);
  }
  if (need & NEED_MINMAX) {
    if (src->ilo[b] < dst->ilo[a])
      dst->ilo[a] = src->ilo[b];
    if (src->ihi[b] > dst->ihi[a])
      dst->ihi[a] = src->ihi[b];
    if (src->lo[b] < dst->lo[a])
      dst->lo[a] = src->lo[b];
    if (src->hi[b] > dst->hi[a])
      dst->hi[a] = src->hi[b];
  }
}

/* Which states (of n, i, il, ih, s, c, m, q, lo, hi) a column's
 * aggregations need: the count always. */
static int state_needed(size_t k, unsigned need) {
  return k == 0 || ((k == 1 || k == 4 || k == 5) && (need & NEED_SUM)) ||
         ((k == 2 || k == 3 || k == 8 || k == 9) && (need & NEED_MINMAX)) ||
         ((k == 6 || k == 7) && (need & NEED_MOMENTS));
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
    unsigned need = needs_of(sp, sp->vcols[j]);
    for (size_t k = 0; k < 10; k++) {
      if (!state_needed(k, need))
        continue; /* not carried: smaller partials to move and merge */
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
    void *arr[10] = {0};
    unsigned need = needs_of(sp, sp->vcols[j]);
    for (size_t k = 0; k < 10; k++) {
      if (!state_needed(k, need))
        continue;
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
    /* integer states only if every partial was of an integer column (a
     * float partition's partials leave them empty; the float states are
     * filled for both) */
    int all_int = st->ng && flag;
    for (size_t r = 0; all_int && r < st->ng; r++)
      all_int = flag[r] != 0;
    views[j] = (vstate){.is_int = all_int,
                        .n = arr[0], .isum = arr[1], .ilo = arr[2],
                        .ihi = arr[3], .s = arr[4], .c = arr[5], .m = arr[6],
                        .q = arr[7], .lo = arr[8], .hi = arr[9]};
  }
  return HP_OK;
}

typedef int (*spec_fn)(hp_node_ctx *ctx, spec *s);

/* 1 if count is the only numeric-state aggregation of column col (any
 * type can be counted); else 0 and *other the first other one. */
static int count_only(const spec *sp, const char *col, afunc *other) {
  for (size_t i = 0; i < sp->naggs; i++) {
    afunc f = sp->aggs[i].f;
    if (sp->aggs[i].col && strcmp(sp->aggs[i].col, col) == 0 &&
        f != A_COUNT && f != A_FIRST && f != A_LAST && f != A_NUNIQUE) {
      *other = f;
      return 0;
    }
  }
  return 1;
}

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
    afunc f = A_COUNT;
    if (rc == HP_OK && ty != HP_INT64 && ty != HP_FLOAT64 && ty != HP_BOOL &&
        !count_only(&sp, sp.vcols[j], &f))
      rc = hp_node_fail(ctx, "column '%s' is %s; %s needs numbers",
                        sp.vcols[j], hp_dtype_name(ty), afunc_names[f]);
    is_int[j] = ty != HP_FLOAT64;
  }
  size_t *pc = hp__xcalloc(sp.npc + sp.nuc + 1, sizeof *pc);
  size_t *uc = pc + sp.npc;
  for (size_t j = 0; j < sp.npc && rc == HP_OK; j++)
    rc = column_of(ctx, t, sp.pcols[j], &pc[j]);
  for (size_t j = 0; j < sp.nuc && rc == HP_OK; j++)
    rc = column_of(ctx, t, sp.ucols[j], &uc[j]);
  if (rc == HP_OK) {
    grouping gr;
    states st;
    if (sp.nby == 1 && !sp.npc && !sp.nuc &&
        onepass_reduce(t, kcols[0], vc, sp.nv, &sp, is_int, &gr, &st)) {
      group_sizes(&gr, hp_value_rows(t), st.size);
    } else {
      group_rows(t, kcols, sp.nby, 0, &gr);
      states_init(&st, &sp, gr.ngroups, is_int);
      group_sizes(&gr, hp_value_rows(t), st.size);
      for (size_t j = 0; j < sp.nv; j++)
        accumulate(&st.v[j], t, vc[j], &gr, st.size,
                   needs_of(&sp, sp.vcols[j]));
    }
    hp_value *out = partial_table(t, kcols, &sp, &gr, &st);
    states_free(&st, &sp);
    rc = add_picks(out, t, pc, pc, sp.pcols, sp.npc, &gr);
    if (rc == HP_OK && sp.nuc) {
      char **kn = hp__xcalloc(sp.nby + 1, sizeof *kn);
      for (size_t i = 0; i < sp.nby; i++)
        kn[i] = hp__xasprintf("k.%s", sp.by[i]);
      hp_value *g = hp_group_new();
      rc = hp_group_set(g, "main", out);
      for (size_t j = 0; j < sp.nuc && rc == HP_OK; j++) {
        hp_value *pairs =
            distinct_pairs(t, kcols, sp.nby, kn, uc[j], gr.gid);
        char *name = hp__xasprintf("u.%s", sp.ucols[j]);
        rc = pairs ? hp_group_set(g, name, pairs) : HP_ENOMEM;
        free(name);
      }
      for (size_t i = 0; i < sp.nby; i++)
        free(kn[i]);
      free(kn);
      out = g;
    }
    grouping_free(&gr);
    if (rc == HP_OK)
      rc = hp_node_output(ctx, 0, out);
    else
      hp_value_free(out);
  }
  free(pc);
  free(kcols);
  free(is_int);
  spec_free(&sp);
  return rc;
}

/* The first/last picks and nunique pairs of merged partials: picks again
 * over the concatenated tables `all` (grouped by gr), pairs concatenated
 * and deduplicated. *out, the merged table, may become a group. */
static int merge_extras(hp_node_ctx *ctx, const spec *sp,
                        const hp_value *const *in, size_t n,
                        const hp_value *all, const grouping *gr,
                        hp_value **out) {
  int rc = HP_OK;
  if (sp->npc) {
    size_t *src = hp__xcalloc(2 * sp->npc + 1, sizeof *src);
    for (size_t j = 0; j < 2 * sp->npc && rc == HP_OK; j++) {
      char name[300];
      snprintf(name, sizeof name, "%s.%s", j < sp->npc ? "f" : "l",
               sp->pcols[j % sp->npc]);
      long c = hp_table_find(all, name);
      if (c < 0)
        rc = hp_node_fail(ctx, "internal: a partial without '%s'", name);
      src[j] = (size_t)c;
    }
    if (rc == HP_OK)
      rc = add_picks(*out, all, src, src + sp->npc, sp->pcols, sp->npc, gr);
    free(src);
  }
  if (rc != HP_OK || !sp->nuc)
    return rc;
  hp_value *g = hp_group_new();
  rc = hp_group_set(g, "main", *out);
  *out = g;
  const hp_value **parts = hp__xcalloc(n + 1, sizeof *parts);
  size_t *kc = hp__xcalloc(sp->nby + 1, sizeof *kc);
  for (size_t i = 0; i < sp->nby; i++)
    kc[i] = i;
  for (size_t j = 0; j < sp->nuc && rc == HP_OK; j++) {
    char *name = hp__xasprintf("u.%s", sp->ucols[j]);
    for (size_t i = 0; i < n && rc == HP_OK; i++)
      if (!(parts[i] = hp_value_kind(in[i]) == HP_GROUP
                           ? hp_group_get(in[i], name) : NULL))
        rc = hp_node_fail(ctx, "internal: a partial without '%s'", name);
    hp_value *u = NULL;
    hp_error err = HP_ERROR_INIT;
    if (rc == HP_OK && hp__value_concat(parts, n, &u, &err) != HP_OK)
      rc = hp_node_fail(ctx, "%s", err.msg);
    if (rc == HP_OK) { /* one partial's pairs are distinct already */
      hp_value *pairs = n == 1 ? hp_value_copy(u)
                               : distinct_pairs(u, kc, sp->nby, NULL, sp->nby,
                                                NULL);
      rc = pairs ? hp_group_set(g, name, pairs) : HP_ENOMEM;
    }
    hp_value_free(u);
    free(name);
  }
  free(kc);
  free(parts);
  return rc;
}

/* When the partials' values of the first key column (int64, no nulls)
 * lie in ranges that overlap at most at their ends - the input ordered or
 * clustered by that key (files written per glacier, per day, ...), cut
 * into blocks anywhere - only keys starting with such an end value can be
 * in two partials; every partial holds each key once, so the other rows
 * of their concatenation are already merged. Returns 1 with those end
 * values in shared[0 .. *nshared) (room for n), 0 if the ranges overlap
 * more or the column does not qualify. */
static int shared_ends(const hp_value *const *parts, size_t n,
                       int64_t *shared, size_t *nshared) {
  int64_t *lo = hp__xcalloc(2 * n + 1, sizeof *lo), *hi = lo + n;
  size_t m = 0;
  int ok = 1;
  for (size_t i = 0; i < n && ok; i++) {
    size_t rows = hp_value_rows(parts[i]);
    ok = hp_table_ncols(parts[i]) > 0 &&
         hp_table_coltype(parts[i], 0) == HP_INT64 &&
         !hp_table_valid(parts[i], 0);
    if (!ok || rows == 0)
      continue;
    const int64_t *k = hp_table_column(parts[i], 0);
    int64_t a = k[0], z = k[0];
    for (size_t r = 1; r < rows; r++) {
      a = k[r] < a ? k[r] : a;
      z = k[r] > z ? k[r] : z;
    }
    size_t j = m++; /* insert (a, z) in order of a */
    for (; j > 0 && lo[j - 1] > a; j--)
      lo[j] = lo[j - 1], hi[j] = hi[j - 1];
    lo[j] = a, hi[j] = z;
  }
  *nshared = 0;
  for (size_t j = 1; j < m && ok; j++) {
    ok = hi[j - 1] <= lo[j];
    if (ok && hi[j - 1] == lo[j] &&
        (*nshared == 0 || shared[*nshared - 1] != lo[j]))
      shared[(*nshared)++] = lo[j];
  }
  free(lo);
  return ok;
}

/* 1 if column c of partial t holds numbers or bools without nulls: its
 * merged cells can be written over. */
static int fixed_state(const hp_value *t, size_t c) {
  hp_dtype ty = hp_table_coltype(t, c);
  return !hp_table_valid(t, c) && ty != HP_STRING;
}

/* The merged partial when only the rows sub_rows of whole (ascending)
 * had keys in two partials, whole's states are all fixed_state, and
 * *merged holds their groups (gr, over those rows) merged: whole's rows in order, each of those groups once where it
 * first appears, with its merged states - the groups in order of first
 * appearance, as merging every row would give them (a sorted input stays
 * sorted for the finish's check). Replaces *merged. */
static int put_merged(hp_node_ctx *ctx, const hp_value *whole,
                      const int64_t *sub_rows, size_t nsub, const grouping *gr,
                      size_t nby, hp_value **merged) {
  size_t rows = hp_value_rows(whole), m = 0;
  size_t nc = hp_table_ncols(whole);
  int64_t *keep = malloc((rows + 1) * sizeof *keep);
  int64_t *at = hp__xcalloc(gr->ngroups + 1, sizeof *at); /* group's row */
  if (!keep) {
    free(at);
    return hp_node_fail(ctx, "out of memory merging %zu groups", rows);
  }
  size_t i = 0;
  for (size_t r = 0; r < rows; r++) {
    if (i < nsub && (size_t)sub_rows[i] == r) {
      int32_t g = gr->gid[i];
      if (g >= 0 && (size_t)gr->first[g] == i) {
        at[g] = (int64_t)m;
        keep[m++] = (int64_t)r;
      }
      i++;
      continue;
    }
    keep[m++] = (int64_t)r;
  }
  hp_value *t = hp__table_take(whole, keep, m);
  free(keep);
  int rc = t ? HP_OK : hp_node_fail(ctx, "out of memory merging %zu groups", rows);
  for (size_t c = nby; rc == HP_OK && c < nc; c++) {
    long mc = hp_table_find(*merged, hp_table_colname(whole, c));
    hp_dtype ty = hp_table_coltype(whole, c);
    if (mc < 0 || hp_table_coltype(*merged, (size_t)mc) != ty ||
        hp_table_valid(*merged, (size_t)mc)) {
      rc = hp_node_fail(ctx, "internal: partial column '%s' cannot be merged",
                        hp_table_colname(whole, c));
      break;
    }
    size_t w = ty == HP_BOOL ? 1 : 8; /* bits copied */
    char *dst = hp_table_column_mut(t, c);
    const char *src = hp_table_column(*merged, (size_t)mc);
    for (size_t g = 0; g < gr->ngroups; g++)
      memcpy(dst + (size_t)at[g] * w, src + g * w, w);
  }
  free(at);
  hp_value_free(*merged);
  *merged = rc == HP_OK ? t : NULL;
  if (rc != HP_OK)
    hp_value_free(t);
  return rc;
}

/* Concatenates the partials given as inputs and merges equal keys, in
 * input order. The result is a partial again. */
static int merged_partial(hp_node_ctx *ctx, const spec *sp, hp_value **out) {
  size_t n = hp_node_ninputs(ctx);
  const hp_value **in = hp__xcalloc(2 * n + 1, sizeof *in);
  const hp_value **parts = in + n;
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    rc = hp_node_input(ctx, i, &in[i]);
    if (rc == HP_OK && !(parts[i] = main_of(in[i])))
      rc = hp_node_fail(ctx, "internal: a partial without its table");
  }
  hp_value *all = NULL;
  hp_error err = HP_ERROR_INIT;
  if (rc == HP_OK && hp__value_concat(parts, n, &all, &err) != HP_OK)
    rc = hp_node_fail(ctx, "%s", err.msg);
  if (rc != HP_OK) {
    free(in);
    return rc;
  }
  /* Plain partials (no first/last/nunique parts) whose first keys meet
   * only at range ends: only the rows of keys starting with such an end
   * are merged below; the others are their own merge (a state merged into
   * an empty one would only be re-rounded: a sum's s + c stays the same
   * number), and all keep their order of first appearance. */
  int plain_parts = sp->npc == 0 && sp->nuc == 0;
  for (size_t i = 0; i < n && plain_parts; i++)
    plain_parts = in[i] == parts[i];
  int64_t *shared = hp__xcalloc(n + 1, sizeof *shared);
  size_t nshared = 0;
  hp_value *whole = NULL; /* all the rows; `all` is then the shared ones */
  int64_t *sub_rows = NULL; /* their rows in whole */
  int fixed = 1; /* the states can be written over (put_merged) */
  for (size_t c = sp->nby; c < hp_table_ncols(all); c++)
    fixed &= fixed_state(all, c);
  int ends = plain_parts && shared_ends(parts, n, shared, &nshared);
  if (ends && nshared == 0) {
    *out = all;
    free(shared);
    free(in);
    return HP_OK;
  }
  if (ends && fixed) {
    size_t rows = hp_value_rows(all), nsub = 0;
    const int64_t *k0 = hp_table_column(all, 0);
    for (size_t r = 0; r < rows; r++)
      for (size_t j = 0; j < nshared; j++)
        nsub += k0[r] == shared[j];
    sub_rows = hp__xcalloc(nsub + 1, sizeof *sub_rows);
    for (size_t r = 0, i = 0; r < rows; r++)
      for (size_t j = 0; j < nshared; j++)
        if (k0[r] == shared[j])
          sub_rows[i++] = (int64_t)r;
    whole = all;
    all = hp__table_take(whole, sub_rows, nsub);
    if (!all) {
      free(shared), free(sub_rows), free(in);
      hp_value_free(whole);
      return hp_node_fail(ctx, "out of memory merging partials");
    }
  }
  free(shared);
  size_t *kcols = hp__xcalloc(sp->nby + 1, sizeof *kcols);
  for (size_t i = 0; i < sp->nby; i++)
    kcols[i] = i; /* keys come first in a partial */
  grouping gr;
  group_rows(all, kcols, sp->nby, 0, &gr);
  states src;
  vstate *views = hp__xcalloc(sp->nv + 1, sizeof *views);
  rc = read_states(ctx, all, sp, &src, views);
  if (rc == HP_OK) {
    int *is_int = hp__xcalloc(sp->nv + 1, sizeof *is_int);
    for (size_t j = 0; j < sp->nv; j++)
      is_int[j] = views[j].is_int;
    states st;
    states_init(&st, sp, gr.ngroups, is_int);
    unsigned *need = hp__xcalloc(sp->nv + 1, sizeof *need);
    for (size_t j = 0; j < sp->nv; j++)
      need[j] = needs_of(sp, sp->vcols[j]);
    for (size_t r = 0; r < hp_value_rows(all); r++) {
      int32_t g = gr.gid[r];
      if (g < 0)
        continue;
      st.size[g] += src.size[r];
      for (size_t j = 0; j < sp->nv; j++)
        merge(&st.v[j], (size_t)g, &src.v[j], r, need[j]);
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
    rc = merge_extras(ctx, sp, in, n, all, &gr, out);
    if (rc == HP_OK && whole)
      rc = put_merged(ctx, whole, sub_rows, hp_value_rows(all), &gr, sp->nby,
                      out);
    if (rc != HP_OK) {
      hp_value_free(*out);
      *out = NULL;
    }
    free(ident.first);
    free(by);
    hp_value_free(keys);
    states_free(&st, sp);
    free(is_int);
    free(need);
  }
  free(views);
  grouping_free(&gr);
  free(kcols);
  hp_value_free(all);
  hp_value_free(whole);
  free(sub_rows);
  free(in);
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

/* Distinct values of column col in each group of the merged main table m
 * (keys first, nk of them, each group once): its pairs "u.<col>" of p
 * matched to m's rows by grouping m's keys and the pairs' keys together. */
static int nunique_counts(hp_node_ctx *ctx, const hp_value *p,
                          const hp_value *m, const char *col, size_t nk,
                          int64_t **out) {
  char name[300];
  snprintf(name, sizeof name, "u.%s", col);
  const hp_value *pairs =
      hp_value_kind(p) == HP_GROUP ? hp_group_get(p, name) : NULL;
  if (!pairs)
    return hp_node_fail(ctx, "internal: a partial without '%s'", name);
  size_t ng = hp_value_rows(m), np = hp_value_rows(pairs);
  size_t *kc = hp__xcalloc(nk + 1, sizeof *kc);
  hp_column *buf = hp__xcalloc(2 * nk + 1, sizeof *buf);
  for (size_t i = 0; i < nk; i++)
    kc[i] = i;
  hp_value sm = shell_of(m, kc, nk, NULL, buf);
  hp_value sp = shell_of(pairs, kc, nk, NULL, buf + nk);
  const hp_value *parts[2] = {&sm, &sp};
  hp_value *kk = NULL;
  hp_error err = HP_ERROR_INIT;
  int rc = hp__value_concat(parts, 2, &kk, &err);
  if (rc != HP_OK) {
    free(buf);
    free(kc);
    return hp_node_fail(ctx, "%s", err.msg);
  }
  grouping g;
  group_rows(kk, kc, nk, 0, &g);
  int64_t *cnt = hp__xcalloc(ng + 1, sizeof *cnt);
  for (size_t i = 0; i < np; i++) {
    int32_t k = g.gid[ng + i]; /* m's rows are groups 0..ng-1 */
    if (k >= 0 && (size_t)k < ng)
      cnt[k]++;
  }
  grouping_free(&g);
  hp_value_free(kk);
  free(buf);
  free(kc);
  *out = cnt;
  return HP_OK;
}

static int reduce_finish(hp_node_ctx *ctx, spec_fn parse) {
  spec sp;
  HP_TRY(parse(ctx, &sp));
  /* Every partial holds each key once (partials group their rows, combines
   * merge them), so one input is used as it is; merging it again would
   * only copy it - at a million groups, half the time of the groupby. */
  hp_value *merged = NULL;
  const hp_value *p = NULL;
  int rc = hp_node_ninputs(ctx) == 1 ? hp_node_input(ctx, 0, &p)
                                     : merged_partial(ctx, &sp, &merged);
  if (merged)
    p = merged;
  const hp_value *m = rc == HP_OK ? main_of(p) : NULL;
  if (rc == HP_OK && !m)
    rc = hp_node_fail(ctx, "internal: a partial without its table");
  states st;
  vstate *views = hp__xcalloc(sp.nv + 1, sizeof *views);
  if (rc == HP_OK)
    rc = read_states(ctx, m, &sp, &st, views);
  if (rc != HP_OK) {
    free(views);
    hp_value_free(merged);
    spec_free(&sp);
    return rc;
  }
  size_t ng = st.ng;
  int64_t *ord = hp__xcalloc(ng + 1, sizeof *ord);
  /* groups by their keys (value_counts: by count, descending, first) */
  hp_sort_key *sk = hp__xcalloc(sp.nby + 2, sizeof *sk);
  size_t nsk = 0;
  if (sp.sort_by_count)
    sk[nsk++] = (hp_sort_key){.type = HP_INT64, .data = st.size, .desc = 1};
  for (size_t c = 0; c < sp.nby; c++, nsk++)
    hp__sort_key_of(m, c, 0, &sk[nsk]);
  hp__sort_order(sk, nsk, ng, ord);
  for (size_t i = 0; i < nsk; i++)
    free((void *)sk[i].rank);
  free(sk);
  hp_value *rows = hp__table_take(m, ord, ng);
  hp_value *out = hp_table_new();
  for (size_t i = 0; i < sp.nby; i++)
    hp__table_move_column(out, rows, i, sp.by[i]);
  int64_t **uniq = hp__xcalloc(sp.nuc + 1, sizeof *uniq);
  for (size_t j = 0; j < sp.nuc && rc == HP_OK; j++)
    rc = nunique_counts(ctx, p, m, sp.ucols[j], sp.nby, &uniq[j]);
  double *f = hp__xcalloc(ng + 1, sizeof *f);
  int64_t *iv = hp__xcalloc(ng + 1, sizeof *iv);
  uint8_t *valid = hp__xcalloc(ng + 1, 1);
  for (size_t a = 0; a < sp.naggs && rc == HP_OK; a++) {
    const agg *ag = &sp.aggs[a];
    if (ag->f == A_FIRST || ag->f == A_LAST) {
      char name[300];
      snprintf(name, sizeof name, "%s.%s", ag->f == A_FIRST ? "f" : "l",
               ag->col);
      long c = hp_table_find(m, name);
      hp_value *one = c >= 0 ? take_col(m, (size_t)c, ord, ng) : NULL;
      if (!one || hp__table_move_column(out, one, 0, ag->out) != HP_OK)
        rc = hp_node_fail(ctx, c < 0 ? "internal: a partial without '%s'"
                                     : "output column '%s' twice",
                          c < 0 ? name : ag->out);
      hp_value_free(one);
      continue;
    }
    size_t j = 0, u = 0;
    while (ag->f != A_NUNIQUE && ag->col && strcmp(sp.vcols[j], ag->col) != 0)
      j++;
    while (ag->f == A_NUNIQUE && strcmp(sp.ucols[u], ag->col) != 0)
      u++;
    const vstate *v = ag->col && ag->f != A_NUNIQUE ? &st.v[j] : NULL;
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
          f[k] = hp__ktotal(v->s[g], v->c[g]);
        }
        break;
      case A_MEAN:
        f[k] = v->n[g] ? hp__ktotal(v->s[g], v->c[g]) / (double)v->n[g] : NAN;
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
      case A_NUNIQUE:
        iv[k] = uniq[u][g];
        ty = HP_INT64;
        break;
      case A_FIRST:
      case A_LAST:
        break;
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
  for (size_t j = 0; j < sp.nuc; j++)
    free(uniq[j]);
  free(uniq);
  free(f);
  free(iv);
  free(valid);
  hp_value_free(rows);
  free(ord);
  free(views);
  hp_value_free(merged);
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

/* ---- nulls: fillna, dropna ----------------------------------------------- */

static int has_nulls(const hp_value *t, size_t col) {
  return hp_table_valid(t, col) || hp_table_coltype(t, col) == HP_FLOAT64;
}

/* A fill value read as a column type. */
typedef struct fillv {
  int64_t i; /* int64, timestamp */
  double f;
  uint8_t b;
  const char *s; /* string */
} fillv;

/* 1 if scalar v reads as type ty (into *out). */
static int fill_parse(const hp_tree *v, hp_dtype ty, fillv *out) {
  int b;
  switch (ty) {
  case HP_INT64:
    return hp_tree_i64(v, NULL, 0, &out->i) == HP_OK;
  case HP_FLOAT64:
    return hp_tree_f64(v, NULL, 0, &out->f) == HP_OK;
  case HP_BOOL:
    if (hp_tree_bool(v, NULL, 0, &b) != HP_OK)
      return 0;
    out->b = b != 0;
    return 1;
  case HP_STRING:
    out->s = hp_tree_text(v);
    return out->s != NULL;
  case HP_TIMESTAMP:
    out->s = hp_tree_text(v);
    return out->s && hp__timestamp_parse(out->s, &out->i);
  }
  return 0;
}

/* Puts the one column of `one` (freed) in place of column col of t. */
static int replace_column(hp_value *t, size_t col, hp_value *one) {
  hp_value *out = hp_table_new();
  int rc = HP_OK;
  for (size_t c = 0; c < hp_table_ncols(t) && rc == HP_OK; c++)
    rc = c == col ? hp__table_move_column(out, one, 0, NULL)
                  : hp__table_move_column(out, t, c, NULL);
  hp_value_free(one);
  if (rc == HP_OK)
    hp__table_swap(t, out);
  hp_value_free(out);
  return rc;
}

/* Fills the nulls (and NaNs) of column col of t, a table we own. */
static int fill_column(hp_value *t, size_t col, const fillv *fv) {
  size_t n = hp_value_rows(t);
  const uint8_t *valid = hp_table_valid(t, col);
  switch (hp_table_coltype(t, col)) {
  case HP_FLOAT64: {
    double *d = hp_table_column_mut(t, col);
    for (size_t r = 0; r < n; r++)
      if (isnan(d[r]))
        d[r] = fv->f;
    if (valid)
      for (size_t r = 0; r < n; r++)
        if (!valid[r])
          d[r] = fv->f;
    break;
  }
  case HP_INT64:
  case HP_TIMESTAMP: {
    int64_t *d = hp_table_column_mut(t, col);
    for (size_t r = 0; valid && r < n; r++)
      if (!valid[r])
        d[r] = fv->i;
    break;
  }
  case HP_BOOL: {
    uint8_t *d = hp_table_column_mut(t, col);
    for (size_t r = 0; valid && r < n; r++)
      if (!valid[r])
        d[r] = fv->b;
    break;
  }
  case HP_STRING: {
    if (!valid)
      return HP_OK;
    const char *name = hp_table_colname(t, col);
    const int32_t *codes = hp_table_dict_codes(t, col);
    hp_value *one = hp_table_new();
    int rc;
    if (codes) { /* the fill value joins the dictionary if new */
      size_t nd = hp_table_dict_size(t, col);
      const char **dict = hp__xmalloc((nd + 2) * sizeof *dict);
      int32_t fill = -1;
      for (size_t k = 0; k < nd; k++) {
        dict[k] = hp_table_dict_str(t, col, k);
        if (fill < 0 && strcmp(dict[k], fv->s) == 0)
          fill = (int32_t)k;
      }
      if (fill < 0) {
        fill = (int32_t)nd;
        dict[nd++] = fv->s;
      }
      int32_t *nc = hp__xmalloc((n + 1) * sizeof *nc);
      for (size_t r = 0; r < n; r++)
        nc[r] = valid[r] ? codes[r] : fill;
      rc = hp_table_add_dict_column(one, name, nc, n, dict, nd);
      free(nc);
      free(dict);
    } else {
      const char **s = hp__xmalloc((n + 1) * sizeof *s);
      for (size_t r = 0; r < n; r++)
        s[r] = valid[r] ? hp_table_str(t, col, r) : fv->s;
      rc = hp_table_add_column(one, name, HP_STRING, s, n);
      free(s);
    }
    if (rc != HP_OK) {
      hp_value_free(one);
      return rc;
    }
    return replace_column(t, col, one);
  }
  }
  return hp_table_set_valid(t, col, NULL);
}

/* frame.fillna: args.value, one scalar for every column it reads as
 * (a number for int64/float64, true/false for bool, any text for strings,
 * a date for timestamps; other columns are left as they are), or
 * args.columns {column: value}, each read as its column's type. */
static int fillna_run(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  const hp_tree *args = hp_node_args(ctx);
  const hp_tree *value = hp_tree_get(args, "value");
  const hp_tree *cols = hp_tree_get(args, "columns");
  if (!value == !cols || (value && hp_tree_type(value) != HP_TREE_SCALAR) ||
      (cols && hp_tree_type(cols) != HP_TREE_MAP))
    return hp_node_fail(ctx, "frame.fillna needs args.value (a scalar for "
                             "every column) or args.columns {column: value}");
  size_t *which = NULL;
  fillv *fv = NULL;
  size_t n = 0;
  if (value) {
    which = hp__xcalloc(hp_table_ncols(t) + 1, sizeof *which);
    fv = hp__xcalloc(hp_table_ncols(t) + 1, sizeof *fv);
    for (size_t c = 0; c < hp_table_ncols(t); c++)
      if (has_nulls(t, c) && fill_parse(value, hp_table_coltype(t, c), &fv[n]))
        which[n++] = c;
  } else {
    which = hp__xcalloc(hp_tree_len(cols) + 1, sizeof *which);
    fv = hp__xcalloc(hp_tree_len(cols) + 1, sizeof *fv);
    for (size_t i = 0; i < hp_tree_len(cols); i++, n++) {
      int rc = column_of(ctx, t, hp_tree_key(cols, i), &which[n]);
      hp_dtype ty = rc == HP_OK ? hp_table_coltype(t, which[n]) : HP_INT64;
      const hp_tree *v = hp_tree_at(cols, i);
      if (rc == HP_OK && (hp_tree_type(v) != HP_TREE_SCALAR ||
                          !fill_parse(v, ty, &fv[n])))
        rc = hp_node_fail(ctx, "args.columns.%s: '%s' is not a %s value",
                          hp_tree_key(cols, i),
                          hp_tree_text(v) ? hp_tree_text(v) : "(not a scalar)",
                          hp_dtype_name(ty));
      if (rc != HP_OK) {
        free(which);
        free(fv);
        return rc;
      }
    }
  }
  hp_value *out = hp_value_copy(t);
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++)
    rc = fill_column(out, which[i], &fv[i]);
  free(which);
  free(fv);
  if (rc != HP_OK) {
    hp_value_free(out);
    return hp_node_fail(ctx, "cannot fill nulls (out of memory?)");
  }
  return hp_node_output(ctx, 0, out);
}

/* Column indices of args[key] (a name or list; absent: every column, or
 * none when none_ok). */
static int columns_arg(hp_node_ctx *ctx, const hp_value *t, const char *key,
                       const char *who, size_t **cols, size_t *n) {
  const hp_tree *args = hp_node_args(ctx);
  size_t nn;
  const char **names = names_arg(args, key, &nn);
  if (!names && hp_tree_get(args, key))
    return hp_node_fail(ctx, "%s: args.%s must be a column or a list of "
                             "columns", who, key);
  if (!names) {
    *n = hp_table_ncols(t);
    *cols = hp__xcalloc(*n + 1, sizeof **cols);
    for (size_t c = 0; c < *n; c++)
      (*cols)[c] = c;
    return HP_OK;
  }
  *cols = hp__xcalloc(nn + 1, sizeof **cols);
  *n = nn;
  int rc = HP_OK;
  for (size_t i = 0; i < nn && rc == HP_OK; i++)
    rc = column_of(ctx, t, names[i], &(*cols)[i]);
  free(names);
  if (rc != HP_OK) {
    free(*cols);
    *cols = NULL;
  }
  return rc;
}

/* frame.dropna: drops the rows with a null (or NaN) in any of args.columns
 * (default: every column); args.how: all drops only rows null in all. */
static int dropna_run(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  const char *how = hp_tree_str(hp_node_args(ctx), "how", "any");
  int all = strcmp(how, "all") == 0;
  if (!all && strcmp(how, "any") != 0)
    return hp_node_fail(ctx, "frame.dropna: args.how must be any or all, "
                             "not '%s'", how);
  size_t *cols, nc;
  HP_TRY(columns_arg(ctx, t, "columns", "frame.dropna", &cols, &nc));
  size_t n = hp_value_rows(t);
  uint8_t *keep = hp__xmalloc(n + 1);
  memset(keep, all ? 0 : 1, n);
  for (size_t i = 0; i < nc; i++) {
    const uint8_t *valid = hp_table_valid(t, cols[i]);
    const double *f = hp_table_coltype(t, cols[i]) == HP_FLOAT64
                          ? hp_table_column(t, cols[i]) : NULL;
    if (all) {
      for (size_t r = 0; r < n; r++)
        keep[r] |= (!valid || valid[r]) && !(f && isnan(f[r]));
      continue;
    }
    if (valid)
      for (size_t r = 0; r < n; r++)
        keep[r] &= valid[r] != 0;
    if (f)
      for (size_t r = 0; r < n; r++)
        keep[r] &= !isnan(f[r]);
  }
  hp_value *out = hp__table_mask(t, keep);
  free(keep);
  free(cols);
  return hp_node_output(ctx, 0, out);
}

/* ---- head --------------------------------------------------------------- */

static int head_n(hp_node_ctx *ctx, size_t *n) {
  int64_t v;
  if (hp_tree_i64(hp_node_args(ctx), "n", 5, &v) != HP_OK || v < 0)
    return hp_node_fail(ctx, "frame.head: args.n must be a whole number "
                             ">= 0");
  *n = (size_t)v;
  return HP_OK;
}

/* The tables given as inputs, concatenated in order. */
static int concat_inputs(hp_node_ctx *ctx, hp_value **out) {
  size_t n = hp_node_ninputs(ctx);
  const hp_value **parts = hp__xcalloc(n + 1, sizeof *parts);
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++)
    rc = hp_node_input(ctx, i, &parts[i]);
  hp_error err = HP_ERROR_INIT;
  if (rc == HP_OK && hp__value_concat(parts, n, out, &err) != HP_OK)
    rc = hp_node_fail(ctx, "%s", err.msg);
  free(parts);
  return rc;
}

/* frame.head: the first args.n rows (default 5) in partition order. The
 * partial is the first n rows of a partition; a combine keeps the first n
 * of the concatenated partials. */
static int head_run(hp_node_ctx *ctx) {
  const hp_value *t;
  size_t n = 0;
  HP_TRY(first_table(ctx, &t));
  HP_TRY(head_n(ctx, &n));
  size_t rows = hp_value_rows(t);
  return hp_node_output(ctx, 0, hp__table_slice(t, 0, n < rows ? n : rows));
}

static int head_combine(hp_node_ctx *ctx) {
  size_t n = 0;
  hp_value *all = NULL;
  HP_TRY(head_n(ctx, &n));
  HP_TRY(concat_inputs(ctx, &all));
  size_t rows = hp_value_rows(all);
  hp_value *out = hp__table_slice(all, 0, n < rows ? n : rows);
  hp_value_free(all);
  return hp_node_output(ctx, 0, out);
}

static int head_finish(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  return hp_node_output(ctx, 0, hp_value_copy(t));
}

/* ---- describe ----------------------------------------------------------- */

/* Sorts a[0..n) ascending (no NaNs), by the row order of sort.h. */
static void sort_f64(double *a, size_t n) {
  int64_t *ord = hp__xmalloc((n + 1) * sizeof *ord);
  double *tmp = hp__xmalloc((n + 1) * sizeof *tmp);
  hp_sort_key k = {.type = HP_FLOAT64, .data = a};
  hp__sort_order(&k, 1, n, ord);
  for (size_t i = 0; i < n; i++)
    tmp[i] = a[ord[i]];
  memcpy(a, tmp, n * sizeof *a);
  free(tmp);
  free(ord);
}

/* The numeric (int64, float64) columns to describe: args.columns or all. */
static int describe_cols(hp_node_ctx *ctx, const hp_value *t, size_t **cols,
                         size_t *n) {
  if (hp_tree_get(hp_node_args(ctx), "columns")) {
    HP_TRY(columns_arg(ctx, t, "columns", "frame.describe", cols, n));
    for (size_t i = 0; i < *n; i++) {
      hp_dtype ty = hp_table_coltype(t, (*cols)[i]);
      if (ty != HP_INT64 && ty != HP_FLOAT64) {
        int rc = hp_node_fail(ctx, "frame.describe: column '%s' is %s, not "
                                   "a number",
                              hp_table_colname(t, (*cols)[i]),
                              hp_dtype_name(ty));
        free(*cols);
        return rc;
      }
    }
    return HP_OK;
  }
  *cols = hp__xcalloc(hp_table_ncols(t) + 1, sizeof **cols);
  *n = 0;
  for (size_t c = 0; c < hp_table_ncols(t); c++)
    if (hp_table_coltype(t, c) == HP_INT64 ||
        hp_table_coltype(t, c) == HP_FLOAT64)
      (*cols)[(*n)++] = c;
  if (*n == 0) {
    free(*cols);
    return hp_node_fail(ctx, "frame.describe: no numeric columns in input "
                             "'%s'", hp_node_input_name(ctx, 0));
  }
  return HP_OK;
}

/* The partial: each described column as float64, its non-null values
 * sorted ascending, then NaN for the nulls. */
static int describe_run(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  size_t *cols, nc;
  HP_TRY(describe_cols(ctx, t, &cols, &nc));
  size_t n = hp_value_rows(t);
  double *buf = hp__xmalloc((n + 1) * sizeof *buf);
  hp_value *out = hp_table_new();
  int rc = HP_OK;
  for (size_t i = 0; i < nc && rc == HP_OK; i++) {
    size_t c = cols[i], m = 0;
    const uint8_t *valid = hp_table_valid(t, c);
    if (hp_table_coltype(t, c) == HP_FLOAT64) {
      const double *d = hp_table_column(t, c);
      for (size_t r = 0; r < n; r++)
        if (!isnan(d[r]) && (!valid || valid[r]))
          buf[m++] = d[r];
    } else {
      const int64_t *d = hp_table_column(t, c);
      for (size_t r = 0; r < n; r++)
        if (!valid || valid[r])
          buf[m++] = (double)d[r];
    }
    sort_f64(buf, m);
    for (size_t r = m; r < n; r++)
      buf[r] = NAN;
    rc = hp_table_add_column(out, hp_table_colname(t, c), HP_FLOAT64, buf, n);
  }
  free(buf);
  free(cols);
  if (rc != HP_OK) {
    hp_value_free(out);
    return hp_node_fail(ctx, "frame.describe: a column named twice");
  }
  return hp_node_output(ctx, 0, out);
}

/* Non-NaN prefix length of a sorted partial column. */
static size_t sorted_len(const double *d, size_t n) {
  size_t lo = 0, hi = n; /* NaNs sit at the end */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (isnan(d[mid]))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Merges the sorted columns of the partials (same columns in each). */
static int describe_combine(hp_node_ctx *ctx) {
  size_t np = hp_node_ninputs(ctx), total = 0;
  const hp_value **in = hp__xcalloc(np + 1, sizeof *in);
  int rc = HP_OK;
  for (size_t i = 0; i < np && rc == HP_OK; i++) {
    rc = hp_node_input(ctx, i, &in[i]);
    if (rc == HP_OK && hp_table_ncols(in[i]) != hp_table_ncols(in[0]))
      rc = hp_node_fail(ctx, "frame.describe: partitions %zu and %zu have "
                             "different numeric columns",
                        hp_node_part(ctx), hp_node_part(ctx) + i);
    for (size_t c = 0; rc == HP_OK && c < hp_table_ncols(in[0]); c++)
      if (strcmp(hp_table_colname(in[i], c), hp_table_colname(in[0], c)))
        rc = hp_node_fail(ctx, "frame.describe: column '%s' is not numeric "
                               "in every partition",
                          hp_table_colname(in[0], c));
    if (rc == HP_OK)
      total += hp_value_rows(in[i]);
  }
  size_t *start = hp__xcalloc(2 * np + 2, sizeof *start), *len = start + np + 1;
  double *a = hp__xmalloc((total + 1) * sizeof *a);
  double *b = hp__xmalloc((total + 1) * sizeof *b);
  hp_value *out = hp_table_new();
  for (size_t c = 0; rc == HP_OK && c < hp_table_ncols(in[0]); c++) {
    size_t pos = 0, nr = np;
    for (size_t i = 0; i < np; i++) {
      const double *d = hp_table_column(in[i], c);
      size_t m = sorted_len(d, hp_value_rows(in[i]));
      memcpy(a + pos, d, m * sizeof *a);
      start[i] = pos;
      len[i] = m;
      pos += m;
    }
    while (nr > 1) { /* merge neighbouring runs; they stay in place */
      size_t k = 0;
      for (size_t i = 0; i < nr; i += 2) {
        size_t s = start[i], n1 = len[i], n2 = i + 1 < nr ? len[i + 1] : 0;
        const double *x = a + s, *y = a + s + n1;
        double *o = b + s;
        size_t p = 0, q = 0;
        while (p < n1 && q < n2)
          *o++ = y[q] < x[p] ? y[q++] : x[p++];
        memcpy(o, x + p, (n1 - p) * sizeof *o);
        memcpy(o + (n1 - p), y + q, (n2 - q) * sizeof *o);
        start[k] = s;
        len[k++] = n1 + n2;
      }
      nr = k;
      double *sw = a;
      a = b;
      b = sw;
    }
    for (size_t r = pos; r < total; r++)
      a[r] = NAN;
    rc = hp_table_add_column(out, hp_table_colname(in[0], c), HP_FLOAT64, a,
                             total);
  }
  free(a);
  free(b);
  free(start);
  free(in);
  if (rc != HP_OK) {
    hp_value_free(out);
    return rc;
  }
  return hp_node_output(ctx, 0, out);
}

/* numpy's linear interpolation between a and b (np.quantile's _lerp). */
static double lerp(double a, double b, double g) {
  double d = b - a;
  return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

/* pandas' describe(): count, mean, std, min, 25%, 50%, 75%, max of each
 * column, as rows under a first string column `stat`. */
static int describe_finish(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  static const char *const stat[] = {"count", "mean", "std", "min",
                                     "25%",   "50%",  "75%", "max"};
  hp_value *out = hp_table_new();
  int rc = hp_table_add_column(out, "stat", HP_STRING, stat, 8);
  for (size_t c = 0; c < hp_table_ncols(t) && rc == HP_OK; c++) {
    const double *d = hp_table_column(t, c);
    size_t m = sorted_len(d, hp_value_rows(t));
    double v[8], s = 0, k = 0;
    for (size_t r = 0; r < m; r++)
      hp__kadd(&s, &k, d[r]);
    double mean = m ? hp__ktotal(s, k) / (double)m : NAN;
    s = k = 0;
    for (size_t r = 0; r < m; r++)
      hp__kadd(&s, &k, (d[r] - mean) * (d[r] - mean));
    v[0] = (double)m;
    v[1] = mean;
    v[2] = m > 1 ? sqrt(hp__ktotal(s, k) / (double)(m - 1)) : NAN;
    v[3] = m ? d[0] : NAN;
    v[7] = m ? d[m - 1] : NAN;
    for (int q = 1; q <= 3; q++) {
      if (!m) {
        v[3 + q] = NAN;
        continue;
      }
      double at = (double)(m - 1) * (0.25 * q);
      size_t lo = (size_t)floor(at), hi = lo + 1 < m ? lo + 1 : m - 1;
      v[3 + q] = lerp(d[lo], d[hi], at - (double)lo);
    }
    rc = hp_table_add_column(out, hp_table_colname(t, c), HP_FLOAT64, v, 8);
  }
  if (rc != HP_OK) {
    hp_value_free(out);
    return hp_node_fail(ctx, "frame.describe: a column is called 'stat'");
  }
  return hp_node_output(ctx, 0, out);
}

/* ---- drop_duplicates ---------------------------------------------------- */

/* The rows of t whose args.columns (default all) first (or with args.keep
 * last, last) hold their values, in row order. Nulls equal nulls. */
static int dedup(hp_node_ctx *ctx, const hp_value *t, hp_value **out) {
  const char *keep = hp_tree_str(hp_node_args(ctx), "keep", "first");
  int last = strcmp(keep, "last") == 0;
  if (!last && strcmp(keep, "first") != 0)
    return hp_node_fail(ctx, "frame.drop_duplicates: args.keep must be "
                             "first or last, not '%s'", keep);
  size_t *cols, nc;
  HP_TRY(columns_arg(ctx, t, "columns", "frame.drop_duplicates", &cols, &nc));
  size_t n = hp_value_rows(t);
  grouping g;
  group_rows(t, cols, nc, 1, &g);
  uint8_t *mask = hp__xcalloc(n + 1, 1);
  if (last) {
    for (size_t g0 = 0; g0 < g.ngroups; g0++)
      g.first[g0] = -1;
    for (size_t r = n; r-- > 0;)
      if (g.first[g.gid[r]] < 0)
        g.first[g.gid[r]] = (int64_t)r;
  }
  for (size_t i = 0; i < g.ngroups; i++)
    mask[g.first[i]] = 1;
  *out = hp__table_mask(t, mask);
  free(mask);
  grouping_free(&g);
  free(cols);
  return HP_OK;
}

static int dedup_run(hp_node_ctx *ctx) {
  const hp_value *t;
  hp_value *out;
  HP_TRY(first_table(ctx, &t));
  HP_TRY(dedup(ctx, t, &out));
  return hp_node_output(ctx, 0, out);
}

static int dedup_combine(hp_node_ctx *ctx) {
  hp_value *all = NULL, *out = NULL;
  HP_TRY(concat_inputs(ctx, &all));
  int rc = dedup(ctx, all, &out);
  hp_value_free(all);
  return rc == HP_OK ? hp_node_output(ctx, 0, out) : rc;
}

/* ---- cumulative ---------------------------------------------------------- */

/* The running sum (cumsum) or row number (cumcount, col ignored) within
 * each group of gr, over column col of t (n rows), into data (n * 8
 * bytes, of type *ot) and valid (0 where the row's key or value is null;
 * *nulls set if any). Floats are summed as pandas does (Kahan). */
static void running(const hp_value *t, size_t col, int cumsum,
                    const grouping *gr, void *data, uint8_t *valid,
                    hp_dtype *ot, int *nulls) {
  size_t n = hp_value_rows(t), ng = gr->ngroups;
  hp_dtype vt = cumsum ? hp_table_coltype(t, col) : HP_INT64;
  const uint8_t *vv = cumsum ? hp_table_valid(t, col) : NULL;
  memset(valid, 1, n);
  *ot = cumsum && vt == HP_FLOAT64 ? HP_FLOAT64 : HP_INT64;
  if (*ot == HP_FLOAT64) {
    const double *x = hp_table_column(t, col);
    double *o = data, *acc = hp__xcalloc(ng + 1, 8), *comp = hp__xcalloc(ng + 1, 8);
    for (size_t r = 0; r < n; r++) {
      int32_t g = gr->gid[r];
      if (g < 0 || (vv && !vv[r]) || isnan(x[r])) {
        o[r] = NAN;
        continue;
      }
      double y = x[r] - comp[g], s = acc[g] + y; /* Kahan, as pandas */
      comp[g] = s - acc[g] - y;
      acc[g] = s;
      o[r] = s;
    }
    free(acc);
    free(comp);
    return;
  }
  int64_t *o = data, *acc = hp__xcalloc(ng + 1, 8);
  const int64_t *xi = cumsum && vt == HP_INT64 ? hp_table_column(t, col) : NULL;
  const uint8_t *xb = cumsum && vt == HP_BOOL ? hp_table_column(t, col) : NULL;
  for (size_t r = 0; r < n; r++) {
    int32_t g = gr->gid[r];
    if (g < 0 || (vv && !vv[r])) {
      o[r] = 0;
      valid[r] = 0;
      *nulls = 1;
      continue;
    }
    if (!cumsum) {
      o[r] = acc[g]++;
      continue;
    }
    acc[g] = (int64_t)((uint64_t)acc[g] + (uint64_t)(xi ? xi[r] : xb[r]));
    o[r] = acc[g];
  }
  free(acc);
}

/* frame.cumulative: args.func cumsum or cumcount within groups of args.by,
 * in row order (pandas' groupby(by).cumsum() / cumcount()). cumsum of
 * args.column adds a column (args.name, default <column>_cumsum);
 * args.columns (a list of int64/float64 columns) replaces each column by
 * its cumsum, as `df[cols] = df.groupby(by)[cols].cumsum()`. cumcount adds
 * args.name (default cumcount). Rows with a null key are null. */
static int cumulative_run(hp_node_ctx *ctx) {
  const hp_value *t;
  HP_TRY(first_table(ctx, &t));
  const hp_tree *args = hp_node_args(ctx);
  const char *func = hp_tree_str(args, "func", "");
  int cumsum = strcmp(func, "cumsum") == 0;
  if (!cumsum && strcmp(func, "cumcount") != 0)
    return hp_node_fail(ctx, "frame.cumulative: args.func must be cumsum or "
                             "cumcount");
  const char *col = hp_tree_str(args, "column", NULL);
  size_t nrep = 0;
  const char **rep = hp_tree_get(args, "columns")
                         ? names_arg(args, "columns", &nrep) : NULL;
  if (cumsum && !col && !nrep) {
    free(rep);
    return hp_node_fail(ctx, "frame.cumulative: cumsum needs args.column or "
                             "args.columns");
  }
  size_t nby;
  const char **by = names_arg(args, "by", &nby);
  if (!by || !nby) {
    free(by);
    free(rep);
    return hp_node_fail(ctx, "frame.cumulative needs args.by, a column or "
                             "list");
  }
  /* the columns to run over: args.columns (replaced), else one new one */
  size_t nv = cumsum && nrep ? nrep : 1;
  size_t *kcols = hp__xcalloc(nby + nv + 1, sizeof *kcols), *vc = kcols + nby;
  int rc = HP_OK;
  for (size_t i = 0; i < nby && rc == HP_OK; i++)
    rc = column_of(ctx, t, by[i], &kcols[i]);
  free(by);
  for (size_t j = 0; cumsum && j < nv && rc == HP_OK; j++) {
    const char *c = nrep ? rep[j] : col;
    rc = column_of(ctx, t, c, &vc[j]);
    hp_dtype vt = rc == HP_OK ? hp_table_coltype(t, vc[j]) : HP_INT64;
    if (rc == HP_OK && vt != HP_INT64 && vt != HP_FLOAT64 &&
        (nrep || vt != HP_BOOL))
      rc = hp_node_fail(ctx, "frame.cumulative: column '%s' is %s; cumsum "
                             "needs numbers", c, hp_dtype_name(vt));
  }
  char *name = cumsum ? hp__xasprintf("%s_cumsum", col ? col : "")
                      : hp__xstrdup("cumcount");
  const char *nm = hp_tree_str(args, "name", name);
  if (rc == HP_OK && !(cumsum && nrep) && hp_table_find(t, nm) >= 0)
    rc = hp_node_fail(ctx, "frame.cumulative: input '%s' has a column "
                           "'%s' already; set args.name",
                      hp_node_input_name(ctx, 0), nm);
  if (rc != HP_OK) {
    free(kcols);
    free(name);
    free(rep);
    return rc;
  }
  size_t n = hp_value_rows(t);
  grouping gr;
  group_rows(t, kcols, nby, 0, &gr);
  uint8_t *valid = hp__xmalloc(n + 1);
  void *data = hp__xmalloc((n + 1) * 8);
  hp_value *out = hp_value_copy(t);
  for (size_t j = 0; j < nv && rc == HP_OK; j++) {
    hp_dtype ot;
    int nulls = 0;
    running(t, vc[j], cumsum, &gr, data, valid, &ot, &nulls);
    if (cumsum && nrep) { /* same type as the column: in place */
      memcpy(hp_table_column_mut(out, vc[j]), data, n * 8);
      if (nulls || hp_table_valid(t, vc[j]))
        rc = hp_table_set_valid(out, vc[j], valid);
    } else {
      rc = hp_table_add_column(out, nm, ot, data, n);
      if (rc == HP_OK && nulls)
        rc = hp_table_set_valid(out, hp_table_ncols(out) - 1, valid);
    }
  }
  free(data);
  free(valid);
  free(name);
  free(kcols);
  free(rep);
  grouping_free(&gr);
  if (rc != HP_OK) {
    hp_value_free(out);
    return hp_node_fail(ctx, "frame.cumulative: cannot add the column");
  }
  return hp_node_output(ctx, 0, out);
}

/* ---- concat --------------------------------------------------------------- */

/* frame.concat: its table inputs one after another, in the order written.
 * Each must have the columns of the first, with the same types (in any
 * order: they are matched by name); a table without columns or rows is
 * skipped. */
static int concat_run(hp_node_ctx *ctx) {
  size_t n = hp_node_ninputs(ctx);
  if (n < 1)
    return hp_node_fail(ctx, "frame.concat needs table inputs");
  const hp_value **in = hp__xcalloc(n + 1, sizeof *in);
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    rc = hp_node_input(ctx, i, &in[i]);
    if (rc == HP_OK && hp_value_kind(in[i]) != HP_TABLE)
      rc = hp_node_fail(ctx, "input '%s' is not a table",
                        hp_node_input_name(ctx, i));
  }
  if (rc != HP_OK) {
    free(in);
    return rc;
  }
  const hp_value *ref = in[0];
  size_t nc = hp_table_ncols(ref);
  const char *rn = hp_node_input_name(ctx, 0);
  hp_column *buf = hp__xcalloc(n * nc + 1, sizeof *buf);
  hp_value *shells = hp__xcalloc(n + 1, sizeof *shells);
  const hp_value **parts = hp__xcalloc(n + 1, sizeof *parts);
  size_t *cols = hp__xcalloc(nc + 1, sizeof *cols), np = 0;
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    const hp_value *t = in[i];
    const char *tn = hp_node_input_name(ctx, i);
    if (i && !hp_table_ncols(t) && !hp_value_rows(t))
      continue;
    for (size_t c = 0; c < nc && rc == HP_OK; c++) {
      const char *name = hp_table_colname(ref, c);
      long k = hp_table_find(t, name);
      if (k < 0)
        rc = hp_node_fail(ctx, "frame.concat: input '%s' has no column '%s' "
                               "(input '%s' has)", tn, name, rn);
      else if (hp_table_coltype(t, (size_t)k) != hp_table_coltype(ref, c))
        rc = hp_node_fail(ctx, "frame.concat: column '%s' is %s in input "
                               "'%s' but %s in input '%s'", name,
                          hp_dtype_name(hp_table_coltype(ref, c)), rn,
                          hp_dtype_name(hp_table_coltype(t, (size_t)k)), tn);
      cols[c] = (size_t)k;
    }
    for (size_t c = 0; c < hp_table_ncols(t) && rc == HP_OK; c++)
      if (hp_table_find(ref, hp_table_colname(t, c)) < 0)
        rc = hp_node_fail(ctx, "frame.concat: input '%s' has a column '%s' "
                               "that input '%s' lacks", tn,
                          hp_table_colname(t, c), rn);
    if (rc == HP_OK) {
      shells[np] = shell_of(t, cols, nc, NULL, buf + np * nc);
      parts[np] = &shells[np];
      np++;
    }
  }
  hp_value *out = NULL;
  hp_error err = HP_ERROR_INIT;
  if (rc == HP_OK && hp__value_concat(parts, np, &out, &err) != HP_OK)
    rc = hp_node_fail(ctx, "frame.concat: %s", err.msg);
  free(cols);
  free(parts);
  free(shells);
  free(buf);
  free(in);
  return rc == HP_OK ? hp_node_output(ctx, 0, out) : rc;
}

static const hp_node_type frame_nodes[] = {
    {.abi = HP_NODE_ABI, .name = "frame.filter", .run = filter_run,
     .mode = HP_MODE_MAP, .doc = "rows where args.expr is true"},
    {.abi = HP_NODE_ABI, .name = "frame.assign", .run = assign_run,
     .mode = HP_MODE_MAP, .doc = "new columns from expressions"},
    {.abi = HP_NODE_ABI, .name = "frame.select", .run = select_run,
     .mode = HP_MODE_MAP, .doc = "args.columns in that order"},
    {.abi = HP_NODE_ABI, .name = "frame.astype", .run = astype_run,
     .mode = HP_MODE_MAP, .doc = "converts args.columns {column: type}"},
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
    {.abi = HP_NODE_ABI, .name = "frame.fillna", .run = fillna_run,
     .mode = HP_MODE_MAP, .doc = "fills nulls: args.value or args.columns"},
    {.abi = HP_NODE_ABI, .name = "frame.dropna", .run = dropna_run,
     .mode = HP_MODE_MAP, .doc = "drops rows with nulls in args.columns"},
    {.abi = HP_NODE_ABI, .name = "frame.head", .run = head_run,
     .mode = HP_MODE_REDUCE, .combine = head_combine, .finish = head_finish,
     .doc = "the first args.n rows (default 5)"},
    {.abi = HP_NODE_ABI, .name = "frame.describe", .run = describe_run,
     .mode = HP_MODE_REDUCE, .combine = describe_combine,
     .finish = describe_finish,
     .doc = "count, mean, std, min, quartiles, max of numeric columns"},
    {.abi = HP_NODE_ABI, .name = "frame.drop_duplicates", .run = dedup_run,
     .mode = HP_MODE_REDUCE, .combine = dedup_combine, .finish = head_finish,
     .doc = "first occurrences of args.columns values, in row order"},
    {.abi = HP_NODE_ABI, .name = "frame.cumulative", .run = cumulative_run,
     .doc = "args.func cumsum|cumcount within the groups of args.by"},
    {.abi = HP_NODE_ABI, .name = "frame.concat", .run = concat_run,
     .doc = "its table inputs one after another"},
};

int hp__frame_register(hp_registry *r) {
  return hp_register_nodes(r, frame_nodes,
                           sizeof frame_nodes / sizeof frame_nodes[0]);
}

/* ---- projection --------------------------------------------------------------- */

static void add_expr_cols(const char *text, hp_cols *need) {
  hp_expr *e = NULL;
  hp_error err = HP_ERROR_INIT;
  if (!text || hp__expr_parse(text, &e, &err) != HP_OK) {
    need->all = 1; /* the run reports the error */
    return;
  }
  for (size_t i = 0; i < hp__expr_ncols(e); i++)
    hp__cols_add(need, hp__expr_col(e, i));
  hp__expr_free(e);
}

static void add_names(const hp_tree *v, hp_cols *need) {
  size_t n;
  const char **names = hp__tree_strings(v, &n);
  for (size_t i = 0; i < n; i++)
    hp__cols_add(need, names[i]);
  need->all |= !names;
  free(names);
}

/* frame.join reads of each input the key columns of both sides and the
 * kept ones: whether an output column gets a suffix
 * depends on the other side having a column of its name, so every name
 * that may clash is read on both sides - a key (`left_on: m` clashes with
 * a column m on the right) and the base of a kept suffixed name (`x_x`
 * may come from an x on either side) - and the output's names stay as
 * they would be with every column. */
static void join_columns(const hp_tree *args, const hp_cols *keep,
                         hp_cols *need) {
  const hp_tree *on = hp_tree_get(args, "on");
  add_names(on ? on : hp_tree_get(args, "left_on"), need);
  if (!on)
    add_names(hp_tree_get(args, "right_on"), need);
  const char *sfx[2] = {"_x", "_y"};
  const hp_tree *sf = hp_tree_get(args, "suffixes");
  for (int i = 0; i < 2 && sf; i++)
    sfx[i] = hp_tree_text(hp_tree_at(sf, (size_t)i));
  if (keep->all || (sf && (!sfx[0] || !sfx[1]))) {
    need->all = 1;
    return;
  }
  for (size_t i = 0; i < keep->n; i++) {
    const char *k = keep->v[i];
    hp__cols_add(need, k);
    for (int j = 0; j < 2; j++) {
      size_t lk = strlen(k), ls = strlen(sfx[j]);
      if (lk > ls && !strcmp(k + lk - ls, sfx[j])) {
        char *base = hp__xstrndup(k, lk - ls);
        hp__cols_add(need, base);
        free(base);
      }
    }
  }
}

void hp__frame_columns(const hp_node_type *t, const hp_tree *args, int input,
                       const hp_cols *keep, hp_cols *need) {
  const char *f = t ? t->name : "";
  if (!strcmp(f, "frame.join") && input < 2) {
    join_columns(args, keep, need);
  } else if (input > 0) {
    need->all = 1;
  } else if (!strcmp(f, "frame.count")) {
    return; /* rows only */
  } else if (!strcmp(f, "frame.value_counts")) {
    add_names(hp_tree_get(args, "column"), need);
  } else if (!strcmp(f, "frame.groupby")) {
    add_names(hp_tree_get(args, "by"), need);
    const hp_tree *a = hp_tree_get(args, "agg");
    for (size_t i = 0; hp_tree_type(a) == HP_TREE_MAP && i < hp_tree_len(a);
         i++)
      hp__cols_add(need, hp_tree_key(a, i));
  } else if (!strcmp(f, "frame.select")) {
    add_names(hp_tree_get(args, "columns"), need);
  } else if (!strcmp(f, "frame.filter") && !keep->all) {
    for (size_t i = 0; i < keep->n; i++)
      hp__cols_add(need, keep->v[i]);
    add_expr_cols(hp_tree_str(args, "expr", NULL), need);
  } else {
    need->all = 1;
  }
}

int hp__frame_check(const hp_node_type *t, const hp_tree *args, hp_error *err) {
  const char *f = t ? t->name : "";
  if (!strcmp(f, "frame.filter")) {
    const char *text = hp_tree_str(args, "expr", NULL);
    if (!text)
      return hp__fail(err, HP_ECONFIG, "frame.filter needs args.expr");
    hp_expr *e = NULL;
    int rc = hp__expr_parse(text, &e, err);
    hp__expr_free(e);
    return rc;
  }
  if (!strcmp(f, "frame.assign")) {
    const char *one = hp_tree_str(args, "expr", NULL);
    const hp_tree *cols = hp_tree_get(args, "columns");
    int rc = HP_OK;
    if (one) {
      char *name = NULL;
      hp_expr *e = NULL;
      rc = hp__expr_parse_assign(one, &name, &e, err);
      free(name);
      hp__expr_free(e);
    }
    for (size_t i = 0; rc == HP_OK && hp_tree_type(cols) == HP_TREE_MAP &&
                       i < hp_tree_len(cols);
         i++) {
      hp_expr *e = NULL;
      const char *text = hp_tree_text(hp_tree_at(cols, i));
      rc = text ? hp__expr_parse(text, &e, err)
                : hp__fail(err, HP_ECONFIG,
                           "args.columns.%s must be an expression",
                           hp_tree_key(cols, i));
      hp__expr_free(e);
    }
    return rc;
  }
  return HP_OK;
}
