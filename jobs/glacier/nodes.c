/*
 * nodes.c - the node functions of the glacier clustering pipeline (conf/,
 * docs/tutorial.md) and the plugin's registration. The general table work
 * (deduplicating, filtering, joins, cumulative sums) is done by frame.*
 * builtins in pipelines.yml; these nodes do what is particular to the
 * project:
 *
 *   glacier.synthetic      WGMS-shaped raw tables (synthetic.c)
 *   glacier.to_timeseries  merged rows -> a glaciers x slots x features
 *                          array (NaN-padded) and the reference table
 *   glacier.scale          a model's features, mean-variance scaled per
 *                          series and feature
 *   glacier.kmeans         time-series k-means (cluster.c)
 *   glacier.plot           the clusters as an SVG (plot.c)
 *   glacier.distances      the silhouette's pair distances, in blocks
 *                          (a source: one task per block)
 *   glacier.metrics        inertia and silhouette of a model
 *   glacier.compare        promotes the better of two models
 *
 * A time-series value is a group: "data" (float64 [n][T][F]), "len" (int64
 * [n], observed slots of each series), "wgms_id" (int64 [n]), "year"
 * (int64 [n][T], -1 in padding) and "features" (a table, column "name").
 */
#include <hpcpipe.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glacier.h"

/* ---- small helpers
 * ------------------------------------------------------------ */

/* Input `name` (a map input's argument name) as a value of kind k. */
static int input_of(hp_node_ctx *ctx, const char *name, hp_kind k,
                    const hp_value **out) {
  long i = hp_node_input_index(ctx, name);
  if (i < 0) return hp_node_fail(ctx, "needs an input named '%s'", name);
  GL_TRY(hp_node_input(ctx, (size_t)i, out));
  if (hp_value_kind(*out) != k)
    return hp_node_fail(ctx, "input '%s' is not a %s", name,
                        k == HP_TABLE   ? "table"
                        : k == HP_GROUP ? "group"
                                        : "array");
  return HP_OK;
}

/* Parameter input `name` (a mapping). */
static int param_of(hp_node_ctx *ctx, const char *name, const hp_tree **out) {
  long i = hp_node_input_index(ctx, name);
  if (i < 0)
    return hp_node_fail(ctx, "needs a parameter input named '%s'", name);
  return hp_node_param(ctx, (size_t)i, out);
}

/* Rows, series or glaciers per item of hp_node_parallel: each item
 * writes its own part of the outputs, so results do not depend on how
 * many cores run them. */
#define ROW_BLOCK    65536
#define SERIES_BLOCK 1024

typedef struct conv_job {
  const void *d;
  const uint8_t *valid;
  int i64;
  double *x;
  size_t n;
} conv_job;

static void conv_block(void *arg, size_t b) {
  conv_job *j = arg;
  size_t r0 = b * ROW_BLOCK, r1 = gl_block_end(b, ROW_BLOCK, j->n);
  for (size_t r = r0; r < r1; r++)
    j->x[r] = j->valid && !j->valid[r] ? NAN
              : j->i64                 ? (double)((const int64_t *)j->d)[r]
                                       : ((const double *)j->d)[r];
}

/* Column `name` of t as doubles (nulls NaN): the column itself when it
 * is float64 without a mask (*owned 0), else a converted copy (*owned 1,
 * free it). NULL with *rc set when it is missing or not numeric. */
static const double *column_f64(hp_node_ctx *ctx, const hp_value *t,
                                const char *name, int *owned, int *rc) {
  *owned = 0;
  long c = hp_table_find(t, name);
  hp_dtype ty = c >= 0 ? hp_table_coltype(t, (size_t)c) : HP_STRING;
  if (c < 0 || (ty != HP_INT64 && ty != HP_FLOAT64)) {
    *rc = hp_node_fail(ctx,
                       c < 0 ? "no column '%s' in the merged table"
                             : "column '%s' is not numeric",
                       name);
    return NULL;
  }
  size_t n = hp_value_rows(t);
  const void *d = hp_table_column(t, (size_t)c);
  const uint8_t *v = hp_table_valid(t, (size_t)c);
  *rc = HP_OK;
  if (ty == HP_FLOAT64 && !v)
    return d;
  double *x = malloc((n + 1) * sizeof *x);
  if (!x) {
    *rc = hp_node_fail(ctx, "out of memory");
    return NULL;
  }
  conv_job j = {d, v, ty == HP_INT64, x, n};
  hp_node_parallel(ctx, gl_nblocks(n, ROW_BLOCK), conv_block, &j);
  *owned = 1;
  return x;
}

/* The names in a YAML list `key` of tree t (borrowed); NULL if absent. */
static const char **name_list(const hp_tree *t, const char *key, size_t *n) {
  const hp_tree *l = hp_tree_get(t, key);
  *n = 0;
  if (hp_tree_type(l) != HP_TREE_SEQ || hp_tree_len(l) == 0) return NULL;
  const char **v = calloc(hp_tree_len(l) + 1, sizeof *v);
  for (size_t i = 0; v && i < hp_tree_len(l); i++) {
    v[i] = hp_tree_text(hp_tree_at(l, i));
    if (!v[i]) {
      free(v);
      return NULL;
    }
  }
  *n = v ? hp_tree_len(l) : 0;
  return v;
}

static hp_value *names_table(const char *const *names, size_t n) {
  hp_value *t = hp_table_new();
  if (hp_table_add_column(t, "name", HP_STRING, names, n) != HP_OK) {
    hp_value_free(t);
    return NULL;
  }
  return t;
}

static hp_value *array_of(hp_dtype ty, int nd, const size_t *dims,
                          const void *data) {
  hp_value *a = hp_array_new(ty, nd, dims);
  size_t n = 1;
  for (int i = 0; i < nd; i++)
    n *= dims[i];
  if (a && n) memcpy(hp_array_data_mut(a), data, n * 8);
  return a;
}

/* ---- glacier.to_timeseries
 * ---------------------------------------------------- */

typedef struct rowkey {
  int64_t id, year;
  size_t row;
} rowkey;

static int by_id_year(const void *a, const void *b) {
  const rowkey *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  if (x->year != y->year) return x->year < y->year ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* The rows of block b with an id, a year and any feature, as keys: counts
 * them into cnt[b] or, with fill, writes them from keys[cnt[b]] on. */
typedef struct keys_job {
  const double *id, *yr;
  const double *const *fx;
  size_t nf, n;
  rowkey *keys;
  size_t *cnt;
  int fill;
} keys_job;

static void keys_block(void *arg, size_t b) {
  keys_job *j = arg;
  size_t r0 = b * ROW_BLOCK, r1 = gl_block_end(b, ROW_BLOCK, j->n);
  size_t k = j->fill ? j->cnt[b] : 0;
  for (size_t r = r0; r < r1; r++) {
    if (isnan(j->id[r]) || isnan(j->yr[r])) continue;
    int any = 0;
    for (size_t f = 0; f < j->nf && !any; f++)
      any = !isnan(j->fx[f][r]);
    if (!any) continue;
    if (j->fill) j->keys[k] = (rowkey){(int64_t)j->id[r], (int64_t)j->yr[r], r};
    k++;
  }
  if (!j->fill) j->cnt[b] = k;
}

/* Fills glaciers b * SERIES_BLOCK.. of the series (x, len, id, years) and
 * their rows of the reference table (id, year, series, slot; features). */
typedef struct fill_job {
  const rowkey *keys;
  const size_t *ga, *gk; /* [ng] first key, first reference row */
  size_t ng, nref, T, nf;
  const double *const *fx;
  double *x;
  int64_t *glen, *gids, *yrs;
  int64_t *rc[4];
  double **rf;
} fill_job;

static void fill_block(void *arg, size_t blk) {
  fill_job *j = arg;
  size_t g0 = blk * SERIES_BLOCK;
  size_t g1 = gl_block_end(blk, SERIES_BLOCK, j->ng);
  size_t T = j->T, nf = j->nf;
  for (size_t g = g0; g < g1; g++) {
    size_t a = j->ga[g], k = j->gk[g];
    size_t L = (g + 1 < j->ng ? j->gk[g + 1] : j->nref) - k;
    j->glen[g] = (int64_t)L;
    j->gids[g] = j->keys[a].id;
    for (size_t t = 0; t < T; t++) {
      size_t r = t < L ? j->keys[a + t].row : SIZE_MAX;
      j->yrs[g * T + t] = r != SIZE_MAX ? j->keys[a + t].year : -1;
      for (size_t f = 0; f < nf; f++)
        j->x[(g * T + t) * nf + f] = r != SIZE_MAX ? j->fx[f][r] : NAN;
      if (r == SIZE_MAX) continue;
      j->rc[0][k] = j->gids[g], j->rc[1][k] = j->keys[a + t].year;
      j->rc[2][k] = (int64_t)g, j->rc[3][k] = (int64_t)t;
      for (size_t f = 0; f < nf; f++)
        j->rf[f][k] = j->fx[f][r];
      k++;
    }
  }
}

/* merged (table) + params:timeseries {features, min_obs: 2} -> timeseries
 * (group) and reference (table). Rows whose features are all missing are
 * dropped; a glacier needs min_obs remaining rows. Glaciers are ordered by
 * WGMS_ID; a glacier's rows fill slots 0, 1, ... in YEAR order (the slot is
 * the observation's rank, as in the tutorial's project). */
static int to_timeseries_run(hp_node_ctx *ctx) {
  const hp_value *m;
  const hp_tree *opt;
  GL_TRY(input_of(ctx, "merged", HP_TABLE, &m));
  GL_TRY(param_of(ctx, "options", &opt));
  size_t nf;
  const char **feat = name_list(opt, "features", &nf);
  if (!feat)
    return hp_node_fail(ctx, "params: 'features' must be a list of column "
                             "names");
  int64_t min_obs;
  if (hp_tree_i64(opt, "min_obs", 2, &min_obs) != HP_OK || min_obs < 1) {
    free(feat);
    return hp_node_fail(ctx, "params: 'min_obs' must be an integer >= 1");
  }
  size_t n = hp_value_rows(m);
  int rc = HP_OK;
  /* the columns as doubles: id, year, then the features */
  const double **col = calloc(nf + 3, sizeof *col);
  int *owned = calloc(nf + 3, sizeof *owned);
  const double **fx = col + 2;
  col[0] = column_f64(ctx, m, "WGMS_ID", &owned[0], &rc);
  if (rc == HP_OK) col[1] = column_f64(ctx, m, "YEAR", &owned[1], &rc);
  for (size_t f = 0; rc == HP_OK && f < nf; f++)
    fx[f] = column_f64(ctx, m, feat[f], &owned[f + 2], &rc);
  const double *id = col[0], *yr = col[1];
  size_t nb = gl_nblocks(n, ROW_BLOCK);
  rowkey *keys = rc == HP_OK ? malloc((n + 1) * sizeof *keys) : NULL;
  size_t *kcnt = rc == HP_OK ? malloc((nb + 1) * sizeof *kcnt) : NULL;
  if (rc == HP_OK && (!keys || !kcnt)) rc = hp_node_fail(ctx, "out of memory");
  size_t nk = 0;
  if (rc == HP_OK) { /* count the rows kept per block, then write them */
    keys_job kj = {id, yr, fx, nf, n, keys, kcnt, 0};
    hp_node_parallel(ctx, nb, keys_block, &kj);
    for (size_t b = 0; b < nb; b++) {
      size_t c = kcnt[b];
      kcnt[b] = nk;
      nk += c;
    }
    kj.fill = 1;
    hp_node_parallel(ctx, nb, keys_block, &kj);
  }
  /* merge_data sorts by WGMS_ID and YEAR already: sort only if needed */
  size_t in_order = 1;
  for (size_t i = 1; rc == HP_OK && i < nk && in_order; i++)
    in_order = by_id_year(&keys[i - 1], &keys[i]) < 0;
  if (rc == HP_OK && !in_order) qsort(keys, nk, sizeof *keys, by_id_year);
  /* glaciers with at least min_obs rows (nref rows in all): their first
   * key (ga) and reference row (gk); T = the longest */
  size_t ng = 0, T = 0, nref = 0;
  size_t *ga = rc == HP_OK ? malloc((nk + 1) * sizeof *ga) : NULL;
  size_t *gk = rc == HP_OK ? malloc((nk + 1) * sizeof *gk) : NULL;
  if (rc == HP_OK && (!ga || !gk)) rc = hp_node_fail(ctx, "out of memory");
  for (size_t a = 0, b; rc == HP_OK && a < nk; a = b) {
    for (b = a; b < nk && keys[b].id == keys[a].id; b++) {
    }
    if (b - a >= (size_t)min_obs) {
      ga[ng] = a, gk[ng] = nref;
      ng++;
      nref += b - a;
      if (b - a > T) T = b - a;
    }
  }
  if (rc == HP_OK && ng == 0)
    rc = hp_node_fail(ctx,
                      "no glacier has %lld rows with any of the "
                      "features",
                      (long long)min_obs);
  /* the outputs, filled in place: the series group, and the reference
   * table of the rows used with their series and slot */
  hp_value *ts = NULL, *ref = NULL, *data = NULL, *len = NULL, *gid = NULL,
           *years = NULL;
  double **rf = NULL;
  if (rc == HP_OK) {
    size_t d3[3] = {ng, T, nf}, d1[1] = {ng}, d2[2] = {ng, T};
    ts = hp_group_new();
    ref = hp_table_new();
    int ok = (data = hp_array_new(HP_FLOAT64, 3, d3)) &&
             hp_group_set(ts, "data", data) == HP_OK &&
             (len = hp_array_new(HP_INT64, 1, d1)) &&
             hp_group_set(ts, "len", len) == HP_OK &&
             (gid = hp_array_new(HP_INT64, 1, d1)) &&
             hp_group_set(ts, "wgms_id", gid) == HP_OK &&
             (years = hp_array_new(HP_INT64, 2, d2)) &&
             hp_group_set(ts, "year", years) == HP_OK &&
             hp_group_set(ts, "features", names_table(feat, nf)) == HP_OK;
    static const char *const refcols[] = {"WGMS_ID", "YEAR", "series", "slot"};
    for (size_t c = 0; ok && c < 4; c++)
      ok = hp_table_add_column(ref, refcols[c], HP_INT64, NULL, nref) == HP_OK;
    for (size_t f = 0; ok && f < nf; f++)
      ok = hp_table_add_column(ref, feat[f], HP_FLOAT64, NULL, nref) == HP_OK;
    ok = ok && (rf = calloc(nf + 1, sizeof *rf)) != NULL;
    for (size_t f = 0; ok && f < nf; f++) /* the reference's features */
      rf[f] = hp_table_column_mut(ref, 4 + f);
    if (!ok) rc = hp_node_fail(ctx, "could not build the outputs");
  }
  if (rc == HP_OK) {
    fill_job fj = {keys,
                   ga,
                   gk,
                   ng,
                   nref,
                   T,
                   nf,
                   fx,
                   hp_array_data_mut(data),
                   hp_array_data_mut(len),
                   hp_array_data_mut(gid),
                   hp_array_data_mut(years),
                   {hp_table_column_mut(ref, 0), hp_table_column_mut(ref, 1),
                    hp_table_column_mut(ref, 2), hp_table_column_mut(ref, 3)},
                   rf};
    hp_node_parallel(ctx, gl_nblocks(ng, SERIES_BLOCK), fill_block,
                     &fj);
    hp_node_log(ctx, "%zu glaciers x %zu slots x %zu features (%zu rows)", ng,
                T, nf, nref);
    rc = hp_node_output(ctx, 0, ts);
    ts = NULL;
    if (rc == HP_OK) rc = hp_node_output(ctx, 1, ref);
    ref = NULL;
  }
  hp_value_free(ts);
  hp_value_free(ref);
  for (size_t c = 0; c < nf + 2; c++)
    if (owned[c]) free((void *)col[c]);
  free(col), free(owned), free(feat), free(keys), free(rf);
  free(kcnt), free(ga), free(gk);
  return rc;
}

/* ---- series values
 * ---------------------------------------------------------------- */

/* A time-series group's parts, borrowed from the value. */
typedef struct ts_view {
  size_t n, T, F;
  const double *x;
  const int64_t *len, *id;
  const hp_value *features;
} ts_view;

static int ts_view_of(hp_node_ctx *ctx, const hp_value *g, const char *what,
                      ts_view *v) {
  const hp_value *x = hp_group_get(g, "data"), *len = hp_group_get(g, "len");
  const hp_value *id = hp_group_get(g, "wgms_id");
  v->features = hp_group_get(g, "features");
  if (!x || !len || !id || !v->features || hp_array_ndim(x) != 3 ||
      hp_array_dtype(x) != HP_FLOAT64 || hp_array_dtype(len) != HP_INT64 ||
      hp_array_dims(len)[0] != hp_array_dims(x)[0])
    return hp_node_fail(ctx,
                        "input '%s' is not a time-series group (data, "
                        "len, wgms_id, features)",
                        what);
  v->n = hp_array_dims(x)[0];
  v->T = hp_array_dims(x)[1];
  v->F = hp_array_dims(x)[2];
  v->x = hp_array_data(x);
  v->len = hp_array_data(len);
  v->id = hp_array_data(id);
  for (size_t i = 0; i < v->n; i++)
    if (v->len[i] < 1 || (size_t)v->len[i] > v->T)
      return hp_node_fail(ctx, "input '%s': series %zu has length %lld", what,
                          i, (long long)v->len[i]);
  return HP_OK;
}

/* A group's series as gl_series (len converted; freed by the caller). */
static int as_series(const ts_view *v, gl_series *s, size_t **lenbuf) {
  *lenbuf = malloc((v->n + 1) * sizeof **lenbuf);
  if (!*lenbuf) return -1;
  for (size_t i = 0; i < v->n; i++)
    (*lenbuf)[i] = (size_t)v->len[i];
  *s = (gl_series){v->n, v->T, v->F, v->x, *lenbuf};
  return 0;
}

/* ---- glacier.scale
 * ----------------------------------------------------------------- */

/* glacier.scale's work on blocks of SERIES_BLOCK series: scale_count
 * finds each series' kept slots (slots [n][T], kept [n]) and the block's
 * kept series (bn) and longest (bT); scale_fill writes them from output
 * series bn[b] on. */
typedef struct scale_job {
  const ts_view *v;
  const size_t *src; /* the model's features in v */
  size_t d, min_obs;
  size_t *slots, *kept, *bn, *bT;
  double *y;
  int64_t *len2, *id2;
  size_t T2;
  atomic_int oom;
} scale_job;

static void scale_count(void *arg, size_t b) {
  scale_job *j = arg;
  const ts_view *v = j->v;
  size_t i0 = b * SERIES_BLOCK;
  size_t i1 = gl_block_end(b, SERIES_BLOCK, v->n);
  size_t n2 = 0, T2 = 0;
  for (size_t i = i0; i < i1; i++) {
    /* without branches: missing values fall anywhere */
    const double *xi = v->x + i * v->T * v->F;
    size_t c = 0, *si = j->slots + i * v->T;
    for (size_t t = 0; t < (size_t)v->len[i]; t++) {
      int any = 0;
      for (size_t f = 0; f < j->d; f++)
        any |= !isnan(xi[t * v->F + j->src[f]]);
      si[c] = t;
      c += (size_t)any;
    }
    j->kept[i] = c;
    n2 += c >= j->min_obs;
    T2 = c >= j->min_obs && c > T2 ? c : T2;
  }
  j->bn[b] = n2;
  j->bT[b] = T2;
}

static void scale_fill(void *arg, size_t b) {
  scale_job *j = arg;
  const ts_view *v = j->v;
  size_t d = j->d, T2 = j->T2, i0 = b * SERIES_BLOCK;
  size_t i1 = gl_block_end(b, SERIES_BLOCK, v->n);
  /* one series' kept values [t][f] and its per-feature sums */
  double *buf = malloc((v->T * d + 1) * sizeof *buf);
  double *acc = malloc((3 * d + 1) * sizeof *acc);
  if (!buf || !acc) {
    free(buf);
    free(acc);
    j->oom = 1;
    return;
  }
  double *sum = acc, *ss = acc + d, *cnt = acc + 2 * d;
  size_t jj = j->bn[b];
  for (size_t i = i0; i < i1; i++) {
    size_t L = j->kept[i];
    if (L < j->min_obs) continue;
    const size_t *ts = j->slots + i * v->T;
    const double *xi = v->x + i * v->T * v->F;
    j->len2[jj] = (int64_t)L;
    j->id2[jj] = v->id[i];
    for (size_t t = 0; t < L; t++)
      for (size_t f = 0; f < d; f++)
        buf[t * d + f] = xi[ts[t] * v->F + j->src[f]];
    /* per feature, in slot order: a missing value adds an exact +0 (a
     * sum of squares or of values starting at +0 is never -0) */
    for (size_t f = 0; f < d; f++)
      sum[f] = ss[f] = cnt[f] = 0;
    for (size_t t = 0; t < L; t++)
      for (size_t f = 0; f < d; f++) {
        double x = buf[t * d + f];
        int ok = !isnan(x);
        sum[f] += ok ? x : 0;
        cnt[f] += ok;
      }
    for (size_t f = 0; f < d; f++)
      sum[f] = cnt[f] > 0 ? sum[f] / cnt[f] : 0; /* the mean */
    for (size_t t = 0; t < L; t++)
      for (size_t f = 0; f < d; f++) {
        double x = buf[t * d + f], e = x - sum[f];
        ss[f] += !isnan(x) ? e * e : 0;
      }
    for (size_t f = 0; f < d; f++) {
      double sd = cnt[f] > 0 ? sqrt(ss[f] / cnt[f]) : 0;
      ss[f] = sd > 0 ? sd : 1;
    }
    double *yj = j->y + jj * T2 * d;
    for (size_t t = 0; t < L; t++)
      for (size_t f = 0; f < d; f++) {
        double x = buf[t * d + f];
        yj[t * d + f] = isnan(x) ? 0 : (x - sum[f]) / ss[f];
      }
    memset(yj + L * d, 0, (T2 - L) * d * sizeof *yj);
    jj++;
  }
  free(buf);
  free(acc);
}

/* timeseries + params:model_options {features, min_obs: 2} -> scaled: the
 * model's features over the slots where at least one of them is observed
 * (a series' other slots are dropped and the rest moved up, as the
 * original project built each model's series from its own features), for
 * the series with at least min_obs such slots. Each series and feature is
 * scaled to mean 0 and (population) standard deviation 1 over its
 * observed values (a constant one only shifted); a value missing in a
 * kept slot becomes 0 (the series' mean), padding 0. */
static int scale_run(hp_node_ctx *ctx) {
  const hp_value *in;
  const hp_tree *opt;
  GL_TRY(input_of(ctx, "timeseries", HP_GROUP, &in));
  GL_TRY(param_of(ctx, "options", &opt));
  ts_view v;
  GL_TRY(ts_view_of(ctx, in, "timeseries", &v));
  int64_t min_obs;
  if (hp_tree_i64(opt, "min_obs", 2, &min_obs) != HP_OK || min_obs < 1)
    return hp_node_fail(ctx, "params: 'min_obs' must be an integer >= 1");
  size_t d;
  const char **feat = name_list(opt, "features", &d);
  if (!feat)
    return hp_node_fail(ctx, "params: 'features' must be a list of column "
                             "names");
  size_t nb = gl_nblocks(v.n, SERIES_BLOCK);
  size_t *src = malloc((d + 1) * sizeof *src);
  size_t *slots = malloc((v.n * v.T + 1) * sizeof *slots); /* kept slots */
  size_t *kept = malloc((v.n + 1) * sizeof *kept);         /* their count */
  size_t *bn = malloc((nb + 1) * sizeof *bn); /* per block: kept series */
  size_t *bT = malloc((nb + 1) * sizeof *bT); /* and the longest */
  int rc = src && slots && kept && bn && bT
               ? HP_OK
               : hp_node_fail(ctx, "out of memory");
  for (size_t f = 0; rc == HP_OK && f < d; f++) {
    size_t k = 0;
    while (k < v.F && strcmp(hp_table_str(v.features, 0, k), feat[f]) != 0)
      k++;
    if (k == v.F)
      rc = hp_node_fail(ctx,
                        "feature '%s' is not in the time series (add it "
                        "to params timeseries.features)",
                        feat[f]);
    src[f] = k;
  }
  scale_job sj = {
      &v, src, d, (size_t)min_obs, slots, kept, bn, bT, NULL, NULL, NULL, 0, 0};
  size_t n2 = 0, T2 = 0;
  if (rc == HP_OK) {
    hp_node_parallel(ctx, nb, scale_count, &sj);
    for (size_t b = 0; b < nb; b++) { /* bn[b]: the block's first output */
      size_t c = bn[b];
      bn[b] = n2;
      n2 += c;
      T2 = bT[b] > T2 ? bT[b] : T2;
    }
  }
  if (rc == HP_OK && n2 == 0)
    rc = hp_node_fail(ctx,
                      "no series has %lld slots with any of the model's "
                      "features",
                      (long long)min_obs);
  size_t dims[3] = {n2, T2, d}, d1[1] = {n2};
  hp_value *out = rc == HP_OK ? hp_array_new(HP_FLOAT64, 3, dims) : NULL;
  hp_value *lo = rc == HP_OK ? hp_array_new(HP_INT64, 1, d1) : NULL;
  hp_value *io = rc == HP_OK ? hp_array_new(HP_INT64, 1, d1) : NULL;
  if (rc == HP_OK && (!out || !lo || !io))
    rc = hp_node_fail(ctx, "out of memory");
  if (rc == HP_OK) {
    sj.y = hp_array_data_mut(out);
    sj.len2 = hp_array_data_mut(lo);
    sj.id2 = hp_array_data_mut(io);
    sj.T2 = T2;
    hp_node_parallel(ctx, nb, scale_fill, &sj);
    if (sj.oom) rc = hp_node_fail(ctx, "out of memory");
  }
  if (rc == HP_OK) {
    hp_value *g = hp_group_new();
    int ok = hp_group_set(g, "data", out) == HP_OK &&
             hp_group_set(g, "len", lo) == HP_OK &&
             hp_group_set(g, "wgms_id", io) == HP_OK &&
             hp_group_set(g, "features", names_table(feat, d)) == HP_OK;
    out = lo = io = NULL;
    if (ok) {
      if (n2 < v.n)
        hp_node_log(ctx,
                    "%zu of %zu series have %lld or more slots with "
                    "the model's features",
                    n2, v.n, (long long)min_obs);
      rc = hp_node_output(ctx, 0, g);
    } else {
      hp_value_free(g);
      rc = hp_node_fail(ctx, "could not build the output");
    }
  }
  hp_value_free(out);
  hp_value_free(lo);
  hp_value_free(io);
  free(src);
  free(slots);
  free(kept);
  free(bn);
  free(bT);
  free(feat);
  return rc;
}

/* ---- glacier.kmeans
 * ------------------------------------------------------------------- */

typedef struct km_opts {
  gl_kmeans_opts o;
  const char *metric;
} km_opts;

/* params: metric (euclidean, the default, or dtw) as *name and *m. */
static int metric_of(hp_node_ctx *ctx, const hp_tree *opt, const char **name,
                     gl_metric *m) {
  *name = hp_tree_str(opt, "metric", "euclidean");
  *m = GL_EUCLIDEAN;
  if (strcmp(*name, "euclidean") != 0 && strcmp(*name, "dtw") != 0)
    return hp_node_fail(ctx, "params: metric must be euclidean or dtw, not '%s'",
                        *name);
  *m = strcmp(*name, "dtw") == 0 ? GL_DTW : GL_EUCLIDEAN;
  return HP_OK;
}

static int read_km(hp_node_ctx *ctx, const hp_tree *opt, km_opts *k) {
  int64_t nk, it, dba, seed;
  double tol;
  gl_metric m;
  GL_TRY(metric_of(ctx, opt, &k->metric, &m));
  if (hp_tree_i64(opt, "n_clusters", 3, &nk) != HP_OK ||
      hp_tree_i64(opt, "max_iter", 50, &it) != HP_OK ||
      hp_tree_i64(opt, "dba_iter", 10, &dba) != HP_OK ||
      hp_tree_i64(opt, "seed", 42, &seed) != HP_OK ||
      hp_tree_f64(opt, "tol", 1e-6, &tol) != HP_OK)
    return hp_node_fail(ctx, "params: n_clusters, max_iter, dba_iter and seed "
                             "must be integers, tol a number");
  if (nk < 1 || nk > 1000 || it < 1 || dba < 1 || !(tol >= 0))
    return hp_node_fail(ctx, "params: need 1 <= n_clusters <= 1000, max_iter "
                             ">= 1, dba_iter >= 1, tol >= 0");
  k->o = (gl_kmeans_opts){(int)nk,        m,   (int)it, tol, (int)dba,
                          (uint64_t)seed, NULL};
  return HP_OK;
}

/* scaled + params:model_options -> model (group: centers, init_centers,
 * labels; attrs n_clusters, metric, inertia, iterations, seed) and labels
 * (table WGMS_ID, CLUSTER). */
static int kmeans_run(hp_node_ctx *ctx) {
  const hp_value *in;
  const hp_tree *opt;
  GL_TRY(input_of(ctx, "scaled", HP_GROUP, &in));
  GL_TRY(param_of(ctx, "options", &opt));
  ts_view v;
  GL_TRY(ts_view_of(ctx, in, "scaled", &v));
  km_opts k;
  GL_TRY(read_km(ctx, opt, &k));
  if ((size_t)k.o.k > v.n)
    return hp_node_fail(ctx,
                        "params: n_clusters %d is more than the %zu "
                        "series",
                        k.o.k, v.n);
  gl_series s;
  size_t *lens;
  if (as_series(&v, &s, &lens) != 0) return hp_node_fail(ctx, "out of memory");
  k.o.ctx = ctx;
  gl_kmeans_result r;
  char msg[256];
  int rc = HP_OK;
  if (gl_kmeans(&s, &k.o, &r, msg, sizeof msg) != 0) {
    free(lens);
    return hp_node_fail(ctx, "k-means: %s", msg);
  }
  hp_value *model = hp_group_new(), *labels = hp_table_new();
  size_t dc[3] = {(size_t)k.o.k, v.T, v.F};
  int64_t *lab = malloc((v.n + 1) * sizeof *lab);
  int ok = lab != NULL;
  for (size_t i = 0; ok && i < v.n; i++)
    lab[i] = r.labels[i];
  ok = ok &&
       hp_group_set(model, "centers", array_of(HP_FLOAT64, 3, dc, r.centers)) ==
           HP_OK &&
       hp_group_set(model, "init_centers",
                    array_of(HP_FLOAT64, 3, dc, r.init_centers)) == HP_OK &&
       hp_group_set(model, "features", hp_value_copy(v.features)) == HP_OK &&
       hp_group_set_i64(model, "n_clusters", k.o.k) == HP_OK &&
       hp_group_set_str(model, "metric", k.metric) == HP_OK &&
       hp_group_set_f64(model, "inertia", r.inertia) == HP_OK &&
       hp_group_set_i64(model, "iterations", r.iterations) == HP_OK &&
       hp_group_set_i64(model, "seed", (int64_t)k.o.seed) == HP_OK &&
       hp_table_add_column(labels, "WGMS_ID", HP_INT64, v.id, v.n) == HP_OK &&
       hp_table_add_column(labels, "CLUSTER", HP_INT64, lab, v.n) == HP_OK;
  if (ok) ok = hp_group_set(model, "labels", hp_value_copy(labels)) == HP_OK;
  if (!ok) {
    hp_value_free(model);
    hp_value_free(labels);
    rc = hp_node_fail(ctx, "could not build the outputs");
  } else {
    hp_node_log(ctx, "%s k-means, k = %d: inertia %.6g after %d iterations",
                k.metric, k.o.k, r.inertia, r.iterations);
    rc = hp_node_output(ctx, 0, model);
    if (rc == HP_OK)
      rc = hp_node_output(ctx, 1, labels);
    else
      hp_value_free(labels);
  }
  free(lab);
  free(lens);
  gl_kmeans_free(&r);
  return rc;
}

/* The model's labels as int32 (malloc'd), checked against n series. */
static int32_t *model_labels(hp_node_ctx *ctx, const hp_value *model, size_t n,
                             int k, int *rc) {
  const hp_value *t = hp_group_get(model, "labels");
  long c = t ? hp_table_find(t, "CLUSTER") : -1;
  if (c < 0 || hp_value_rows(t) != n) {
    *rc = hp_node_fail(ctx, "the model's labels do not match the series");
    return NULL;
  }
  const int64_t *l = hp_table_column(t, (size_t)c);
  int32_t *out = malloc((n + 1) * sizeof *out);
  if (!out) {
    *rc = hp_node_fail(ctx, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (l[i] < 0 || l[i] >= k) {
      free(out);
      *rc = hp_node_fail(ctx, "label %lld out of range", (long long)l[i]);
      return NULL;
    }
    out[i] = (int32_t)l[i];
  }
  *rc = HP_OK;
  return out;
}

/* scaled + model: the parts both plot and metrics need. */
static int model_view(hp_node_ctx *ctx, ts_view *v, const hp_value **model,
                      int64_t *k) {
  const hp_value *in;
  GL_TRY(input_of(ctx, "scaled", HP_GROUP, &in));
  GL_TRY(input_of(ctx, "model", HP_GROUP, model));
  GL_TRY(ts_view_of(ctx, in, "scaled", v));
  const hp_value *c = hp_group_get(*model, "centers");
  if (hp_group_attr_i64(*model, "n_clusters", k) != HP_OK || !c ||
      hp_array_ndim(c) != 3 || hp_array_dims(c)[0] != (size_t)*k ||
      hp_array_dims(c)[1] != v->T || hp_array_dims(c)[2] != v->F)
    return hp_node_fail(ctx, "input 'model' does not fit the scaled series");
  return HP_OK;
}

/* What plot and metrics both start from: the scaled series, the model,
 * its cluster count and labels. *lab and *lens are the caller's to free. */
static int model_inputs(hp_node_ctx *ctx, ts_view *v, const hp_value **model,
                        int64_t *k, int32_t **lab, gl_series *s,
                        size_t **lens) {
  GL_TRY(model_view(ctx, v, model, k));
  int rc;
  if (!(*lab = model_labels(ctx, *model, v->n, (int)*k, &rc))) return rc;
  if (as_series(v, s, lens) != 0) {
    free(*lab);
    return hp_node_fail(ctx, "out of memory");
  }
  return HP_OK;
}

/* ---- glacier.plot
 * ------------------------------------------------------------------------ */

/* scaled + model + params:model_options {name, plot_feature} -> an SVG. */
static int plot_run(hp_node_ctx *ctx) {
  const hp_tree *opt;
  const hp_value *model;
  ts_view v;
  int64_t k;
  GL_TRY(param_of(ctx, "options", &opt));
  int32_t *lab;
  gl_series s;
  size_t *lens;
  GL_TRY(model_inputs(ctx, &v, &model, &k, &lab, &s, &lens));
  const char *pf = hp_tree_str(opt, "plot_feature", NULL);
  size_t f = 0;
  while (pf && f < v.F && strcmp(hp_table_str(v.features, 0, f), pf) != 0)
    f++;
  if (f == v.F) {
    free(lab);
    free(lens);
    return hp_node_fail(ctx,
                        "params: plot_feature '%s' is not one of the "
                        "model's features",
                        pf);
  }
  int rc;
  const char *metric = hp_group_attr_str(model, "metric");
  char title[300];
  snprintf(title, sizeof title, "%s: %s k-means, k = %lld, %s (scaled)",
           hp_tree_str(opt, "name", hp_node_name(ctx)), metric ? metric : "?",
           (long long)k, hp_table_str(v.features, 0, f));
  char *svg = gl_svg_clusters(
      &s, lab, hp_array_data(hp_group_get(model, "centers")), (int)k, f, title);
  free(lab);
  free(lens);
  if (!svg) return hp_node_fail(ctx, "out of memory drawing the plot");
  hp_value *t = hp_table_new();
  const char *one[1] = {svg};
  rc = hp_table_add_column(t, "text", HP_STRING, one, 1);
  free(svg);
  if (rc != HP_OK) {
    hp_value_free(t);
    return hp_node_fail(ctx, "out of memory");
  }
  return hp_node_output(ctx, 0, t);
}

/* ---- glacier.distances
 * -------------------------------------------------------------------- */

/* args {blocks: 8}: the source's partition count. */
static int distances_nparts(const hp_tree *args, size_t *n, char *msg,
                            size_t len) {
  int64_t b;
  if (hp_tree_i64(args, "blocks", 8, &b) != HP_OK || b < 1 || b > 4096) {
    snprintf(msg, len, "args: blocks must be an integer from 1 to 4096");
    return 1;
  }
  *n = (size_t)b;
  return 0;
}

/* scaled + params:model_options {metric} -> block hp_node_part of the
 * silhouette's pair distances (float64 [pairs], gl_sil_block): a source
 * whose partitions are the blocks, so that several tasks share the
 * silhouette's work. The whole dataset is every pair in order, the input
 * 'distances' of glacier.metrics. */
static int distances_run(hp_node_ctx *ctx) {
  const hp_value *in;
  const hp_tree *opt;
  const char *name;
  gl_metric m;
  ts_view v;
  GL_TRY(input_of(ctx, "scaled", HP_GROUP, &in));
  GL_TRY(param_of(ctx, "options", &opt));
  GL_TRY(metric_of(ctx, opt, &name, &m));
  GL_TRY(ts_view_of(ctx, in, "scaled", &v));
  size_t b = hp_node_part(ctx), nb = hp_node_nparts(ctx), p0, p1;
  size_t np = gl_sil_block(v.n, b, nb, &p0, &p1);
  gl_series s;
  size_t *lens;
  hp_value *a = hp_array_new(HP_FLOAT64, 1, &np);
  if (!a || as_series(&v, &s, &lens) != 0) {
    hp_value_free(a);
    return hp_node_fail(ctx, "out of memory");
  }
  int bad = gl_sil_distances(&s, m, b, nb, hp_array_data_mut(a));
  free(lens);
  if (bad) {
    hp_value_free(a);
    return hp_node_fail(ctx, "out of memory");
  }
  return hp_node_output(ctx, 0, a);
}

/* ---- glacier.metrics
 * ---------------------------------------------------------------------- */

/* The silhouette of labels lab: from input 'distances' (glacier.distances,
 * computed with the model's metric) when the node has one, else here. */
static int silhouette_of(hp_node_ctx *ctx, const hp_tree *opt,
                         const hp_value *model, const gl_series *s,
                         const int32_t *lab, int k, double *sil) {
  const char *metric = hp_group_attr_str(model, "metric"), *dm;
  gl_metric m = metric && strcmp(metric, "dtw") == 0 ? GL_DTW : GL_EUCLIDEAN;
  if (hp_node_input_index(ctx, "distances") < 0) {
    *sil = gl_silhouette(s, m, lab, k);
    return HP_OK;
  }
  const hp_value *dist;
  gl_metric dmm;
  size_t p0, p1, np = gl_sil_block(s->n, 0, 1, &p0, &p1);
  GL_TRY(input_of(ctx, "distances", HP_ARRAY, &dist));
  GL_TRY(metric_of(ctx, opt, &dm, &dmm));
  if (hp_array_dtype(dist) != HP_FLOAT64 || hp_array_ndim(dist) != 1 ||
      hp_array_size(dist) != np)
    return hp_node_fail(ctx,
                        "input 'distances' is not the %zu pair distances of "
                        "the %zu series (glacier.distances of 'scaled')",
                        np, s->n);
  if (dmm != m)
    return hp_node_fail(ctx,
                        "input 'distances' is %s (params: metric), the model "
                        "%s",
                        dm, metric ? metric : "euclidean");
  *sil = gl_silhouette_of(s->n, lab, k, hp_array_data(dist));
  return HP_OK;
}

/* scaled + model + params:model_options {name} (+ distances) -> one row:
 * name, metric, n_clusters, features, n_series, inertia, silhouette,
 * iterations. */
static int metrics_run(hp_node_ctx *ctx) {
  const hp_tree *opt;
  const hp_value *model;
  ts_view v;
  int64_t k, iters = 0;
  double inertia = NAN;
  GL_TRY(param_of(ctx, "options", &opt));
  int32_t *lab;
  gl_series s;
  size_t *lens;
  GL_TRY(model_inputs(ctx, &v, &model, &k, &lab, &s, &lens));
  const char *metric = hp_group_attr_str(model, "metric");
  double sil = NAN;
  int rc = silhouette_of(ctx, opt, model, &s, lab, (int)k, &sil);
  free(lab);
  free(lens);
  if (rc != HP_OK) return rc;
  hp_group_attr_f64(model, "inertia", &inertia);
  hp_group_attr_i64(model, "iterations", &iters);
  char feats[1024] = "";
  for (size_t f = 0, at = 0; f < v.F && at < sizeof feats; f++)
    at += (size_t)snprintf(feats + at, sizeof feats - at, "%s%s", f ? " " : "",
                           hp_table_str(v.features, 0, f));
  const char *name = hp_tree_str(opt, "name", hp_node_name(ctx));
  const char *sv[1];
  int64_t iv[1];
  double fv[1];
  hp_value *t = hp_table_new();
  sv[0] = name;
  int ok = hp_table_add_column(t, "model", HP_STRING, sv, 1) == HP_OK;
  sv[0] = metric ? metric : "";
  ok = ok && hp_table_add_column(t, "metric", HP_STRING, sv, 1) == HP_OK;
  iv[0] = k;
  ok = ok && hp_table_add_column(t, "n_clusters", HP_INT64, iv, 1) == HP_OK;
  sv[0] = feats;
  ok = ok && hp_table_add_column(t, "features", HP_STRING, sv, 1) == HP_OK;
  iv[0] = (int64_t)v.n;
  ok = ok && hp_table_add_column(t, "n_series", HP_INT64, iv, 1) == HP_OK;
  fv[0] = inertia;
  ok = ok && hp_table_add_column(t, "inertia", HP_FLOAT64, fv, 1) == HP_OK;
  fv[0] = sil;
  ok = ok && hp_table_add_column(t, "silhouette", HP_FLOAT64, fv, 1) == HP_OK;
  iv[0] = iters;
  ok = ok && hp_table_add_column(t, "iterations", HP_INT64, iv, 1) == HP_OK;
  if (!ok) {
    hp_value_free(t);
    return hp_node_fail(ctx, "could not build the metrics");
  }
  hp_node_log(ctx, "%s: inertia %.6g, silhouette %.4f", name, inertia, sil);
  return hp_node_output(ctx, 0, t);
}

/* ---- glacier.compare
 * ---------------------------------------------------------------------- */

static int metric_value(const hp_value *t, const char *col, double *x) {
  long c = hp_table_find(t, col);
  if (c < 0 || hp_value_rows(t) < 1 ||
      hp_table_coltype(t, (size_t)c) != HP_FLOAT64)
    return -1;
  *x = ((const double *)hp_table_column(t, (size_t)c))[0];
  return 0;
}

static const char *str_of(const hp_value *t, const char *col) {
  long c = hp_table_find(t, col);
  return c >= 0 && hp_table_coltype(t, (size_t)c) == HP_STRING &&
                 hp_value_rows(t) > 0
             ? hp_table_str(t, (size_t)c, 0)
             : "?";
}

/* active_metrics, candidate_metrics, active_model, candidate_model +
 * params:compare {metric: silhouette (higher is better) | inertia (lower)}
 * -> model (the better model, with attrs promoted and decided_by) and
 * decision (markdown). The candidate replaces the active model only if it
 * is strictly better. */
static int compare_run(hp_node_ctx *ctx) {
  const hp_value *am, *cm, *amod, *cmod;
  const hp_tree *opt;
  GL_TRY(input_of(ctx, "active_metrics", HP_TABLE, &am));
  GL_TRY(input_of(ctx, "candidate_metrics", HP_TABLE, &cm));
  GL_TRY(input_of(ctx, "active_model", HP_GROUP, &amod));
  GL_TRY(input_of(ctx, "candidate_model", HP_GROUP, &cmod));
  GL_TRY(param_of(ctx, "options", &opt));
  const char *by = hp_tree_str(opt, "metric", "silhouette");
  int higher = strcmp(by, "silhouette") == 0;
  if (!higher && strcmp(by, "inertia") != 0)
    return hp_node_fail(ctx,
                        "params: metric must be silhouette or inertia, "
                        "not '%s'",
                        by);
  double a, c;
  if (metric_value(am, by, &a) != 0 || metric_value(cm, by, &c) != 0)
    return hp_node_fail(ctx, "the metrics tables need a float column '%s'", by);
  int cand = higher ? c > a : c < a;
  const hp_value *win = cand ? cmod : amod;
  const char *wname = str_of(cand ? cm : am, "model");
  hp_value *model = hp_value_copy(win);
  if (!model || hp_group_set_str(model, "promoted", wname) != HP_OK ||
      hp_group_set_str(model, "decided_by", by) != HP_OK) {
    hp_value_free(model);
    return hp_node_fail(ctx, "out of memory");
  }
  double ai = NAN, ci = NAN, as = NAN, cs = NAN;
  metric_value(am, "inertia", &ai), metric_value(cm, "inertia", &ci);
  metric_value(am, "silhouette", &as), metric_value(cm, "silhouette", &cs);
  /* the cluster counts, where the tables have them */
  char md[4200];
  long ka = hp_table_find(am, "n_clusters"),
       kc = hp_table_find(cm, "n_clusters");
  char sa[32] = "?", sc[32] = "?";
  if (ka >= 0)
    snprintf(sa, sizeof sa, "%lld",
             (long long)((const int64_t *)hp_table_column(am, (size_t)ka))[0]);
  if (kc >= 0)
    snprintf(sc, sizeof sc, "%lld",
             (long long)((const int64_t *)hp_table_column(cm, (size_t)kc))[0]);
  snprintf(md, sizeof md,
           "# Model decision\n\n"
           "Promoted: **%s** (by %s, %s is better).\n\n"
           "| model | metric | clusters | features | inertia | silhouette |\n"
           "|---|---|---|---|---|---|\n"
           "| %s | %s | %s | %s | %.6g | %.4f |\n"
           "| %s | %s | %s | %s | %.6g | %.4f |\n\n"
           "%s\n",
           wname, by, higher ? "higher" : "lower", str_of(am, "model"),
           str_of(am, "metric"), sa, str_of(am, "features"), ai, as,
           str_of(cm, "model"), str_of(cm, "metric"), sc,
           str_of(cm, "features"), ci, cs,
           cand ? "The candidate is better and replaces the active model."
                : "The candidate is not better; the active model stays.");
  hp_value *t = hp_table_new();
  const char *one[1] = {md};
  if (hp_table_add_column(t, "text", HP_STRING, one, 1) != HP_OK) {
    hp_value_free(t);
    hp_value_free(model);
    return hp_node_fail(ctx, "out of memory");
  }
  hp_node_log(ctx, "promoted %s (%s %.4f vs %.4f)", wname, by, cand ? c : a,
              cand ? a : c);
  int rc = hp_node_output(ctx, 0, model);
  if (rc == HP_OK)
    rc = hp_node_output(ctx, 1, t);
  else
    hp_value_free(t);
  return rc;
}

/* ---- registration
 * ------------------------------------------------------------------------- */

static const hp_node_type glacier_nodes[] = {
    {.abi = HP_NODE_ABI,
     .name = "glacier.synthetic",
     .run = gl_synthetic_run,
     .doc = "WGMS-shaped raw tables (glacier, mass_balance, change, state)"},
    {.abi = HP_NODE_ABI,
     .name = "glacier.to_timeseries",
     .run = to_timeseries_run,
     .doc = "merged rows -> glaciers x slots x features (NaN-padded) and the "
            "reference table"},
    {.abi = HP_NODE_ABI,
     .name = "glacier.scale",
     .run = scale_run,
     .doc = "a model's features, mean-variance scaled per series"},
    {.abi = HP_NODE_ABI,
     .name = "glacier.kmeans",
     .run = kmeans_run,
     .doc = "time-series k-means (euclidean, or dtw with DBA barycenters)"},
    {.abi = HP_NODE_ABI,
     .name = "glacier.plot",
     .run = plot_run,
     .doc = "the clusters of a model as an SVG"},
    {.abi = HP_NODE_ABI,
     .name = "glacier.distances",
     .run = distances_run,
     .mode = HP_MODE_SOURCE,
     .nparts = distances_nparts,
     .doc = "a block of the silhouette's pair distances"},
    {.abi = HP_NODE_ABI,
     .name = "glacier.metrics",
     .run = metrics_run,
     .doc = "inertia and silhouette of a model"},
    {.abi = HP_NODE_ABI,
     .name = "glacier.compare",
     .run = compare_run,
     .doc = "promotes the better of two models"},
};

HP_EXTERN int hp_plugin_init(hp_registry *reg);

HP_EXTERN int hp_plugin_init(hp_registry *reg) {
  return hp_register_nodes(reg, glacier_nodes,
                           sizeof glacier_nodes / sizeof glacier_nodes[0]);
}
