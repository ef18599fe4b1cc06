/*
 * demo.c - the node functions of the repository's own pipeline (conf/):
 * cleaning weather-station readings, scaling one measured quantity into
 * other units, and summarising it per station. Built as a plugin
 * (libhpcpipe_demo.so) and loaded through conf/base/hpcpipe.yml, the way a
 * user's project builds its jobs/.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpcpipe.h"

/* Copies the rows of t where keep[r] is set into a new table. */
static hp_value *filter_rows(const hp_value *t, const uint8_t *keep) {
  size_t n = hp_value_rows(t), m = 0;
  for (size_t r = 0; r < n; r++)
    m += keep[r] != 0;
  hp_value *out = hp_table_new();
  for (size_t c = 0; c < hp_table_ncols(t); c++) {
    hp_dtype ty = hp_table_coltype(t, c);
    const char *name = hp_table_colname(t, c);
    if (ty == HP_STRING) {
      const char **s = calloc(m + 1, sizeof *s);
      for (size_t r = 0, k = 0; r < n; r++)
        if (keep[r])
          s[k++] = hp_table_str(t, c, r);
      hp_table_add_column(out, name, ty, s, m);
      free(s);
      continue;
    }
    size_t w = ty == HP_BOOL ? 1 : 8;
    const char *src = hp_table_column(t, c);
    char *dst = malloc(m * w + 1);
    for (size_t r = 0, k = 0; r < n; r++)
      if (keep[r])
        memcpy(dst + w * k++, src + w * r, w);
    hp_table_add_column(out, name, ty, dst, m);
    free(dst);
  }
  return out;
}

/* demo.drop_invalid(readings, params:cleaning): the rows with valid ==
 * true and year >= cleaning.min_year. */
static int drop_invalid(hp_node_ctx *ctx) {
  const hp_value *t;
  const hp_tree *opt;
  if (hp_node_input(ctx, 0, &t) != HP_OK || hp_node_param(ctx, 1, &opt))
    return hp_node_fail(ctx, "expects inputs [table, params:...]");
  int64_t min_year;
  if (hp_tree_i64(opt, "min_year", INT64_MIN, &min_year) != HP_OK)
    return hp_node_fail(ctx, "min_year must be an integer");
  long cv = hp_table_find(t, "valid"), cy = hp_table_find(t, "year");
  if (cv < 0 || cy < 0 || hp_table_coltype(t, (size_t)cv) != HP_BOOL ||
      hp_table_coltype(t, (size_t)cy) != HP_INT64)
    return hp_node_fail(ctx, "needs a bool column 'valid' and an int64 "
                             "column 'year'");
  size_t n = hp_value_rows(t);
  const uint8_t *valid = hp_table_column(t, (size_t)cv);
  const int64_t *year = hp_table_column(t, (size_t)cy);
  uint8_t *keep = malloc(n + 1);
  for (size_t r = 0; r < n; r++)
    keep[r] = valid[r] && year[r] >= min_year;
  hp_value *out = filter_rows(t, keep);
  free(keep);
  hp_node_log(ctx, "kept %zu of %zu rows", hp_value_rows(out), n);
  return hp_node_output(ctx, 0, out);
}

/* demo.scale(table, params:scaling): station, year and value = column *
 * factor + offset, for the rows where the column is not NaN. */
static int scale(hp_node_ctx *ctx) {
  long ti = hp_node_input_index(ctx, "table");
  long oi = hp_node_input_index(ctx, "options");
  const hp_value *t;
  const hp_tree *opt;
  if (ti < 0 || oi < 0 || hp_node_input(ctx, (size_t)ti, &t) != HP_OK ||
      hp_node_param(ctx, (size_t)oi, &opt) != HP_OK)
    return hp_node_fail(ctx, "expects inputs {table: ..., options: params:}");
  const char *col = hp_tree_str(opt, "column", NULL);
  double factor, offset;
  if (!col || hp_tree_f64(opt, "factor", 1.0, &factor) != HP_OK ||
      hp_tree_f64(opt, "offset", 0.0, &offset) != HP_OK)
    return hp_node_fail(ctx, "options need column, and numeric factor and "
                             "offset");
  long c = hp_table_find(t, col), cs = hp_table_find(t, "station");
  long cy = hp_table_find(t, "year");
  if (c < 0 || hp_table_coltype(t, (size_t)c) != HP_FLOAT64 || cs < 0 ||
      cy < 0)
    return hp_node_fail(ctx, "no float64 column '%s' (or no station/year)",
                        col);
  size_t n = hp_value_rows(t);
  const double *x = hp_table_column(t, (size_t)c);
  uint8_t *keep = malloc(n + 1);
  for (size_t r = 0; r < n; r++)
    keep[r] = !isnan(x[r]);
  hp_value *sub = filter_rows(t, keep);
  free(keep);
  size_t m = hp_value_rows(sub);
  const double *xs = hp_table_column(sub, (size_t)hp_table_find(sub, col));
  double *v = malloc(m * sizeof *v + 1);
  for (size_t r = 0; r < m; r++)
    v[r] = xs[r] * factor + offset;
  hp_value *out = hp_table_new();
  long ss = hp_table_find(sub, "station"), sy = hp_table_find(sub, "year");
  const char **names = calloc(m + 1, sizeof *names);
  for (size_t r = 0; r < m; r++)
    names[r] = hp_table_str(sub, (size_t)ss, r);
  hp_table_add_column(out, "station", HP_STRING, names, m);
  hp_table_add_column(out, "year", HP_INT64, hp_table_column(sub, (size_t)sy),
                      m);
  hp_table_add_column(out, "value", HP_FLOAT64, v, m);
  free(names);
  free(v);
  hp_value_free(sub);
  return hp_node_output(ctx, 0, out);
}

typedef struct row_ref {
  const char *key;
  double v;
} row_ref;

static int by_key(const void *a, const void *b) {
  const row_ref *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->v > y->v) - (x->v < y->v);
}

/* demo.summarize(table): per station (sorted): count, mean, min, max. */
static int summarize(hp_node_ctx *ctx) {
  const hp_value *t;
  if (hp_node_input(ctx, 0, &t) != HP_OK)
    return hp_node_fail(ctx, "expects one table");
  long cs = hp_table_find(t, "station"), cv = hp_table_find(t, "value");
  if (cs < 0 || cv < 0)
    return hp_node_fail(ctx, "needs columns 'station' and 'value'");
  size_t n = hp_value_rows(t);
  const double *v = hp_table_column(t, (size_t)cv);
  row_ref *rows = malloc((n + 1) * sizeof *rows);
  for (size_t r = 0; r < n; r++)
    rows[r] = (row_ref){hp_table_str(t, (size_t)cs, r), v[r]};
  qsort(rows, n, sizeof *rows, by_key);
  const char **key = calloc(n + 1, sizeof *key);
  int64_t *cnt = calloc(n + 1, sizeof *cnt);
  double *mean = calloc(n + 1, sizeof *mean), *lo = calloc(n + 1, 8),
         *hi = calloc(n + 1, 8);
  size_t g = 0;
  for (size_t r = 0; r < n; r++) {
    if (g == 0 || strcmp(key[g - 1], rows[r].key) != 0) {
      key[g] = rows[r].key;
      lo[g] = rows[r].v; /* rows are sorted by value within a key */
      g++;
    }
    cnt[g - 1]++;
    mean[g - 1] += rows[r].v;
    hi[g - 1] = rows[r].v;
  }
  for (size_t i = 0; i < g; i++)
    mean[i] /= (double)cnt[i];
  hp_value *out = hp_table_new();
  hp_table_add_column(out, "station", HP_STRING, key, g);
  hp_table_add_column(out, "count", HP_INT64, cnt, g);
  hp_table_add_column(out, "mean", HP_FLOAT64, mean, g);
  hp_table_add_column(out, "min", HP_FLOAT64, lo, g);
  hp_table_add_column(out, "max", HP_FLOAT64, hi, g);
  free(rows), free(key), free(cnt), free(mean), free(lo), free(hi);
  return hp_node_output(ctx, 0, out);
}

static const hp_node_type demo_nodes[] = {
    {.abi = HP_NODE_ABI, .name = "demo.drop_invalid", .run = drop_invalid},
    {.abi = HP_NODE_ABI, .name = "demo.scale", .run = scale},
    {.abi = HP_NODE_ABI, .name = "demo.summarize", .run = summarize},
};

HP_EXTERN int hp_plugin_init(hp_registry *reg);

HP_EXTERN int hp_plugin_init(hp_registry *reg) {
  return hp_register_nodes(reg, demo_nodes,
                           sizeof demo_nodes / sizeof demo_nodes[0]);
}
