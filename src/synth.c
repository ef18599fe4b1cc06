/*
 * synth.c - Dask's `timeseries` dataset generated partition by partition:
 * arguments parsed and checked each call (they are small), columns filled
 * straight into the table's buffers from the partition's random stream.
 */
#include "synth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "rng.h"
#include "value.h"

/* Dask's names (dask.datasets.names). */
static const char *const names[] = {
    "Alice",   "Bob",    "Charlie", "Dan",    "Edith",    "Frank", "George",
    "Hannah",  "Ingrid", "Jerry",   "Kevin",  "Laura",    "Michael",
    "Norbert", "Oliver", "Patricia", "Quinn", "Ray",      "Sarah", "Tim",
    "Ursula",  "Victor", "Wendy",   "Xavier", "Yvonne",   "Zelda"};
#define NNAMES (sizeof names / sizeof names[0])

/* Rows one partition may hold (about 16 GB for the default columns). */
#define MAX_PART_ROWS 500000000LL

enum gen { GEN_INT, GEN_FLOAT, GEN_NAME };

typedef struct col_spec {
  const char *name; /* borrowed from args */
  enum gen gen;
} col_spec;

typedef struct ts_spec {
  int64_t start, end, freq, pfreq; /* ns */
  uint64_t seed;
  size_t nparts;
  size_t ncols;
  col_spec *cols; /* sorted by name */
} ts_spec;

static void spec_free(ts_spec *s) {
  free(s->cols);
  s->cols = NULL;
}

/* args.<key> as a scalar's text, or dflt when absent; HP_ECONFIG for a
 * mapping or a list. */
static int arg_text(const hp_tree *args, const char *key, const char *dflt,
                    const char **out, hp_error *err) {
  const hp_tree *v = hp_tree_get(args, key);
  if (!v || hp_tree_type(v) == HP_TREE_NULL) {
    *out = dflt;
    return HP_OK;
  }
  if (hp_tree_type(v) != HP_TREE_SCALAR || !hp_tree_text(v))
    return hp__fail(err, HP_ECONFIG, "args.%s: expected a single value", key);
  *out = hp_tree_text(v);
  return HP_OK;
}

static int arg_time(const hp_tree *args, const char *key, const char *dflt,
                    int64_t *ns, hp_error *err) {
  const char *s = NULL;
  HP_TRY(arg_text(args, key, dflt, &s, err));
  if (!hp__timestamp_parse(s, ns))
    return hp__fail(err, HP_ECONFIG,
                    "args.%s: '%s' is not a date (YYYY-MM-DD or YYYY-MM-DD "
                    "HH:MM:SS)",
                    key, s);
  return HP_OK;
}

/* A pandas fixed-frequency alias: [n]unit, n a positive integer. */
static int parse_freq(const char *s, int64_t *ns) {
  static const struct {
    const char *unit;
    int64_t ns;
  } units[] = {{"ns", 1},
               {"N", 1},
               {"us", 1000},
               {"U", 1000},
               {"ms", 1000000},
               {"L", 1000000},
               {"s", 1000000000},
               {"S", 1000000000},
               {"min", 60000000000},
               {"T", 60000000000},
               {"h", 3600000000000},
               {"H", 3600000000000},
               {"d", 86400000000000},
               {"D", 86400000000000}};
  int64_t n = 0;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (n > (INT64_MAX - 9) / 10) return 0;
    n = n * 10 + (*p - '0');
  }
  if (p == s) n = 1;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(p, units[i].unit) != 0) continue;
    if (n <= 0 || n > INT64_MAX / units[i].ns) return 0;
    *ns = n * units[i].ns;
    return 1;
  }
  return 0;
}

static int arg_freq(const hp_tree *args, const char *key, const char *dflt,
                    int64_t *ns, hp_error *err) {
  const char *s = NULL;
  HP_TRY(arg_text(args, key, dflt, &s, err));
  if (!parse_freq(s, ns))
    return hp__fail(err, HP_ECONFIG,
                    "args.%s: '%s' is not a frequency (a positive count and "
                    "a unit: ns, us, ms, s, min, h or d, e.g. '1s', '500ms', "
                    "'12H')",
                    key, s);
  return HP_OK;
}

static int gen_by_name(const char *t, enum gen *g) {
  static const struct {
    const char *name;
    enum gen gen;
  } kinds[] = {{"int", GEN_INT},      {"int64", GEN_INT},
               {"float", GEN_FLOAT},  {"float64", GEN_FLOAT},
               {"str", GEN_NAME},     {"string", GEN_NAME},
               {"object", GEN_NAME},  {"category", GEN_NAME}};
  for (size_t i = 0; t && i < sizeof kinds / sizeof kinds[0]; i++) {
    if (strcmp(t, kinds[i].name) == 0) {
      *g = kinds[i].gen;
      return 1;
    }
  }
  return 0;
}

static int col_cmp(const void *a, const void *b) {
  return strcmp(((const col_spec *)a)->name, ((const col_spec *)b)->name);
}

static int parse_dtypes(const hp_tree *args, ts_spec *s, hp_error *err) {
  static const col_spec dflt[] = {{"id", GEN_INT},
                                  {"name", GEN_NAME},
                                  {"x", GEN_FLOAT},
                                  {"y", GEN_FLOAT}};
  const hp_tree *d = hp_tree_get(args, "dtypes");
  if (!d || hp_tree_type(d) == HP_TREE_NULL) {
    s->ncols = 4;
    s->cols = hp__xmalloc(sizeof dflt);
    memcpy(s->cols, dflt, sizeof dflt);
    return HP_OK;
  }
  if (hp_tree_type(d) != HP_TREE_MAP || hp_tree_len(d) == 0)
    return hp__fail(err, HP_ECONFIG,
                    "args.dtypes: expected a mapping of column names to "
                    "types (int, float, str or category)");
  s->ncols = hp_tree_len(d);
  s->cols = hp__xcalloc(s->ncols, sizeof *s->cols);
  for (size_t i = 0; i < s->ncols; i++) {
    const char *k = hp_tree_key(d, i), *t = hp_tree_text(hp_tree_at(d, i));
    s->cols[i].name = k;
    if (!k || !*k || strcmp(k, "timestamp") == 0)
      return hp__fail(err, HP_ECONFIG,
                      "args.dtypes: '%s' cannot be a column name (the "
                      "timestamp column is always there)",
                      k ? k : "");
    if (!gen_by_name(t, &s->cols[i].gen))
      return hp__fail(err, HP_ECONFIG,
                      "args.dtypes.%s: unknown type '%s' (int, float, str or "
                      "category)",
                      k, t ? t : "");
  }
  qsort(s->cols, s->ncols, sizeof *s->cols, col_cmp);
  return HP_OK;
}

static int parse_spec(const hp_tree *args, ts_spec *s, hp_error *err) {
  memset(s, 0, sizeof *s);
  hp_tree_kind k = hp_tree_type(args);
  if (k != HP_TREE_NULL && k != HP_TREE_MAP)
    return hp__fail(err, HP_ECONFIG, "args: expected a mapping");
  HP_TRY(arg_time(args, "start", "2000-01-01", &s->start, err));
  HP_TRY(arg_time(args, "end", "2000-01-31", &s->end, err));
  HP_TRY(arg_freq(args, "freq", "1s", &s->freq, err));
  HP_TRY(arg_freq(args, "partition_freq", "1d", &s->pfreq, err));
  int64_t seed;
  if (hp_tree_i64(args, "seed", 0, &seed) != HP_OK)
    return hp__fail(err, HP_ECONFIG, "args.seed: expected an integer");
  s->seed = (uint64_t)seed;
  int64_t span;
  if (s->end <= s->start || __builtin_sub_overflow(s->end, s->start, &span))
    return hp__fail(err, HP_ECONFIG,
                    "args.end: '%s' is not after args.start '%s'",
                    hp_tree_str(args, "end", "2000-01-31"),
                    hp_tree_str(args, "start", "2000-01-01"));
  s->nparts = (size_t)(span / s->pfreq + (span % s->pfreq != 0));
  int64_t rows = (s->pfreq < span ? s->pfreq : span) / s->freq + 1;
  if (rows > MAX_PART_ROWS)
    return hp__fail(err, HP_ECONFIG,
                    "args.freq: partitions would hold %lld rows (at most "
                    "%lld): raise freq or lower partition_freq",
                    (long long)rows, (long long)MAX_PART_ROWS);
  return parse_dtypes(args, s, err);
}

int hp__timeseries_nparts(const hp_tree *args, size_t *n, hp_error *err) {
  ts_spec s;
  int rc = parse_spec(args, &s, err);
  if (rc == HP_OK) *n = s.nparts;
  spec_free(&s);
  return rc;
}

/* ceil(x / f) for x >= 0, f > 0. */
static int64_t ceil_div(int64_t x, int64_t f) {
  return x / f + (x % f != 0);
}

static int fill_column(hp_value *t, const col_spec *c, hp_rng *rng,
                       size_t n) {
  hp_column col = {0};
  col.name = hp__xstrdup(c->name);
  if (c->gen == GEN_NAME) {
    int32_t *codes = malloc(n ? n * sizeof *codes : 1);
    if (!codes) {
      free(col.name);
      return HP_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
      codes[i] = (int32_t)hp_rng_int(rng, NNAMES);
    hp_strset set = {0};
    for (size_t k = 0; k < NNAMES; k++)
      hp__strset_add(&set, names[k], strlen(names[k]), SIZE_MAX);
    col.data = codes;
    hp__strset_to_dict(&set, &col);
    return hp__table_adopt(t, &col, n);
  }
  col.data = malloc(n ? n * 8 : 1);
  if (!col.data) {
    free(col.name);
    return HP_ENOMEM;
  }
  if (c->gen == GEN_INT) {
    col.type = HP_INT64;
    int64_t *x = col.data;
    for (size_t i = 0; i < n; i++)
      x[i] = (int64_t)hp_rng_poisson(rng, 1000.0);
  } else {
    col.type = HP_FLOAT64;
    double *x = col.data;
    for (size_t i = 0; i < n; i++)
      x[i] = hp_rng_uniform(rng, -1.0, 1.0);
  }
  return hp__table_adopt(t, &col, n);
}

int hp__timeseries_part(const hp_tree *args, size_t p, hp_value **out,
                        hp_error *err) {
  if (out) *out = NULL;
  if (!out) return hp__fail(err, HP_EINVAL, "timeseries: bad arguments");
  ts_spec s;
  int rc = parse_spec(args, &s, err);
  if (rc == HP_OK && p >= s.nparts)
    rc = hp__fail(err, HP_EINVAL, "timeseries: partition %zu of %zu", p,
                  s.nparts);
  if (rc != HP_OK) {
    spec_free(&s);
    return rc;
  }
  /* offsets from start: [lo, hi) of this partition, in ns */
  int64_t span = s.end - s.start, lo = (int64_t)p * s.pfreq;
  int64_t hi = span - lo > s.pfreq ? lo + s.pfreq : span;
  int64_t k0 = ceil_div(lo, s.freq), k1 = ceil_div(hi, s.freq);
  size_t n = (size_t)(k1 - k0);
  hp_value *t = hp_table_new();
  hp_column ts = {0};
  ts.name = hp__xstrdup("timestamp");
  ts.type = HP_TIMESTAMP;
  ts.data = malloc(n ? n * 8 : 1);
  if (!ts.data) {
    free(ts.name);
    rc = HP_ENOMEM;
  } else {
    int64_t *x = ts.data;
    for (size_t i = 0; i < n; i++)
      x[i] = s.start + (k0 + (int64_t)i) * s.freq;
    rc = hp__table_adopt(t, &ts, n);
  }
  hp_rng *rng = hp_rng_new(s.seed, (uint64_t)p);
  for (size_t c = 0; c < s.ncols && rc == HP_OK; c++)
    rc = fill_column(t, &s.cols[c], rng, n);
  hp_rng_free(rng);
  if (rc != HP_OK) {
    hp_value_free(t);
    rc = hp__fail(err, rc, "timeseries: partition %zu: out of memory (%zu "
                  "rows)", p, n);
  } else {
    *out = t;
  }
  spec_free(&s);
  return rc;
}
