/*
 * test_synth.c - the timeseries generator (Dask's dask.datasets.timeseries)
 * and the random streams under it: partition counts and boundaries,
 * columns and their distributions, determinism per (seed, partition),
 * argument errors, and speed.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "rng.h"
#include "synth.h"
#include "tree.h"
#include "value.h"

#define DAY_NS 86400000000000LL
#define Y2K_NS 946684800000000000LL

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A mapping built from "key", "value" pairs (NULL-terminated); a value
 * starting with '{' is "{k: v, k: v}", one level deep. */
static hp_tree *args(const char *const *kv) {
  hp_tree *m = hp__tree_new(HP_TREE_MAP, "test", 1, 1);
  for (size_t i = 0; kv[i]; i += 2) {
    hp_tree *k = hp__tree_scalar(kv[i], 0, "test", 1, 1), *v;
    if (kv[i + 1][0] == '{') {
      v = hp__tree_new(HP_TREE_MAP, "test", 1, 1);
      char *s = hp__xstrdup(kv[i + 1] + 1);
      for (char *p = strtok(s, ",}"); p; p = strtok(NULL, ",}")) {
        char *colon = strchr(p, ':');
        *colon = '\0';
        while (*p == ' ')
          p++;
        char *val = colon + 1;
        while (*val == ' ')
          val++;
        hp__tree_put(v, hp__tree_scalar(p, 0, "test", 1, 1),
                     hp__tree_scalar(val, 0, "test", 1, 1));
      }
      free(s);
    } else {
      v = hp__tree_scalar(kv[i + 1], 0, "test", 1, 1);
    }
    hp__tree_put(m, k, v);
  }
  return m;
}

static const char *const dask_names[26] = {
    "Alice",   "Bob",    "Charlie",  "Dan",   "Edith",  "Frank",  "George",
    "Hannah",  "Ingrid", "Jerry",    "Kevin", "Laura",  "Michael",
    "Norbert", "Oliver", "Patricia", "Quinn", "Ray",    "Sarah",  "Tim",
    "Ursula",  "Victor", "Wendy",    "Xavier", "Yvonne", "Zelda"};

static void test_rng(void) {
  CASE("random streams");
  hp_rng *a = hp_rng_new(1, 2), *b = hp_rng_new(1, 2), *c = hp_rng_new(1, 3),
         *d = hp_rng_new(2, 2);
  int same_c = 1, same_d = 1;
  double sum = 0, sq = 0;
  for (int i = 0; i < 100000; i++) {
    double x = hp_rng_uniform(a, -1, 1);
    CHECK(x == hp_rng_uniform(b, -1, 1));
    CHECK(x >= -1 && x < 1);
    same_c &= x == hp_rng_uniform(c, -1, 1);
    same_d &= x == hp_rng_uniform(d, -1, 1);
    double g = hp_rng_normal(a, 10, 2);
    hp_rng_normal(b, 10, 2);
    sum += g;
    sq += (g - 10) * (g - 10);
    uint64_t k = hp_rng_int(a, 7);
    CHECK(k == hp_rng_int(b, 7) && k < 7);
    uint64_t big = hp_rng_int(a, 10000000000ULL);
    CHECK(big == hp_rng_int(b, 10000000000ULL) && big < 10000000000ULL);
  }
  CHECK(!same_c && !same_d);
  CHECK(fabs(sum / 100000 - 10) < 0.05);
  CHECK(fabs(sqrt(sq / 100000) - 2) < 0.05);
  double ps = 0;
  for (int i = 0; i < 10000; i++)
    ps += (double)hp_rng_poisson(a, 4.5);
  CHECK(fabs(ps / 10000 - 4.5) < 0.1);
  /* the large-mean sampler: mean and variance both mu */
  double m1 = 0, m2 = 0;
  for (int i = 0; i < 200000; i++) {
    double k = (double)hp_rng_poisson(a, 1000);
    m1 += k;
    m2 += k * k;
  }
  m1 /= 200000;
  m2 = m2 / 200000 - m1 * m1;
  CHECK(fabs(m1 - 1000) < 0.5);
  CHECK(fabs(m2 / 1000 - 1) < 0.03);
  CHECK_EQ(hp_rng_poisson(a, 0), 0);
  CHECK_EQ(hp_rng_int(a, 0), 0);
  hp_rng_free(a);
  hp_rng_free(b);
  hp_rng_free(c);
  hp_rng_free(d);
  hp_rng_free(NULL);
}

static void test_defaults(void) {
  CASE("Dask's defaults: 30 days of seconds in 30 partitions");
  hp_error err = HP_ERROR_INIT;
  size_t n = 0;
  CHECK_OK(hp__timeseries_nparts(NULL, &n, &err), &err);
  CHECK_EQ(n, 30);
  hp_tree empty = {.kind = HP_TREE_MAP};
  CHECK_OK(hp__timeseries_nparts(&empty, &n, &err), &err);
  CHECK_EQ(n, 30);
  size_t total = 0;
  int64_t next = Y2K_NS;
  double idsum = 0;
  size_t nrows_all = 0, seen[26] = {0};
  double t0 = now();
  for (size_t p = 0; p < n; p++) {
    hp_value *t = NULL;
    CHECK_OK(hp__timeseries_part(NULL, p, &t, &err), &err);
    size_t rows = hp_value_rows(t);
    CHECK_EQ(rows, 86400);
    CHECK_EQ(hp_table_ncols(t), 5);
    CHECK_STR_EQ(hp_table_colname(t, 0), "timestamp");
    CHECK_STR_EQ(hp_table_colname(t, 1), "id");
    CHECK_STR_EQ(hp_table_colname(t, 2), "name");
    CHECK_STR_EQ(hp_table_colname(t, 3), "x");
    CHECK_STR_EQ(hp_table_colname(t, 4), "y");
    CHECK_EQ(hp_table_coltype(t, 0), HP_TIMESTAMP);
    CHECK_EQ(hp_table_coltype(t, 1), HP_INT64);
    CHECK_EQ(hp_table_coltype(t, 2), HP_STRING);
    CHECK_EQ(hp_table_coltype(t, 3), HP_FLOAT64);
    const int64_t *ts = hp_table_column(t, 0), *id = hp_table_column(t, 1);
    const double *x = hp_table_column(t, 3), *y = hp_table_column(t, 4);
    const int32_t *codes = hp_table_dict_codes(t, 2);
    CHECK(codes != NULL);
    CHECK_EQ(hp_table_dict_size(t, 2), 26);
    for (size_t k = 0; k < 26; k++)
      CHECK_STR_EQ(hp_table_dict_str(t, 2, k), dask_names[k]);
    for (size_t r = 0; r < rows; r++) {
      CHECK(ts[r] == next);
      next += 1000000000LL;
      CHECK(x[r] >= -1 && x[r] < 1 && y[r] >= -1 && y[r] < 1);
      CHECK(codes[r] >= 0 && codes[r] < 26);
      seen[codes[r]]++;
      idsum += (double)id[r];
    }
    nrows_all += rows;
    total += rows;
    hp_value_free(t);
  }
  double t1 = now();
  fprintf(stderr, "  %zu rows in %.3f s\n", total, t1 - t0);
  CHECK_EQ(total, 2592000);
  CHECK(next == Y2K_NS + 30 * DAY_NS); /* end exclusive: 2000-01-31 */
  double mean = idsum / (double)nrows_all;
  CHECK(fabs(mean - 1000) < 0.5); /* sd of the mean ~ 0.02 */
  for (size_t k = 0; k < 26; k++)
    CHECK(fabs((double)seen[k] / (double)total - 1.0 / 26) < 0.002);
}

static void test_determinism(void) {
  CASE("same seed and partition: same table; others differ");
  hp_error err = HP_ERROR_INIT;
  hp_value *a = NULL, *b = NULL, *c = NULL, *d = NULL;
  CHECK_OK(hp__timeseries_part(NULL, 3, &a, &err), &err);
  CHECK_OK(hp__timeseries_part(NULL, 3, &b, &err), &err);
  CHECK(hp__value_equal(a, b));
  CHECK(hp__value_hash(a, 1) == hp__value_hash(b, 1));
  CHECK_OK(hp__timeseries_part(NULL, 4, &c, &err), &err);
  CHECK(memcmp(hp_table_column(a, 3), hp_table_column(c, 3), 8 * 1000) != 0);
  static const char *s1[] = {"seed", "1", NULL};
  hp_tree *t1 = args(s1);
  CHECK_OK(hp__timeseries_part(t1, 3, &d, &err), &err);
  CHECK(memcmp(hp_table_column(a, 3), hp_table_column(d, 3), 8 * 1000) != 0);
  CHECK(memcmp(hp_table_column(a, 0), hp_table_column(d, 0), 8 * 1000) == 0);
  hp__tree_free(t1);
  hp_value_free(a);
  hp_value_free(b);
  hp_value_free(c);
  hp_value_free(d);
}

static void test_args(void) {
  hp_error err = HP_ERROR_INIT;
  size_t n;
  hp_value *t = NULL;

  CASE("frequencies and a ragged last partition");
  static const char *a1[] = {"start", "2000-01-01 00:00:00", "end",
                             "2000-01-01 05:30:00", "freq", "500ms",
                             "partition_freq", "2H", NULL};
  hp_tree *g = args(a1);
  CHECK_OK(hp__timeseries_nparts(g, &n, &err), &err);
  CHECK_EQ(n, 3);
  CHECK_OK(hp__timeseries_part(g, 2, &t, &err), &err);
  CHECK_EQ(hp_value_rows(t), 90 * 60 * 2);
  const int64_t *ts = hp_table_column(t, 0);
  CHECK(ts[0] == Y2K_NS + 4 * 3600000000000LL);
  CHECK(ts[1] - ts[0] == 500000000LL);
  hp_value_free(t);
  hp__tree_free(g);

  CASE("a frequency that does not divide the partitions");
  static const char *a2[] = {"end", "2000-01-01 00:00:10", "freq", "3s",
                             "partition_freq", "4s", NULL};
  g = args(a2);
  CHECK_OK(hp__timeseries_nparts(g, &n, &err), &err);
  CHECK_EQ(n, 3);
  /* rows at 0,3,6,9 s: partitions [0,4) [4,8) [8,10) */
  static const size_t want[3] = {2, 1, 1};
  static const int64_t first[3] = {0, 6, 9};
  for (size_t p = 0; p < 3; p++) {
    CHECK_OK(hp__timeseries_part(g, p, &t, &err), &err);
    CHECK_EQ(hp_value_rows(t), want[p]);
    CHECK(((const int64_t *)hp_table_column(t, 0))[0] ==
          Y2K_NS + first[p] * 1000000000LL);
    hp_value_free(t);
  }
  hp__tree_free(g);

  CASE("dtypes: columns in name order");
  static const char *a3[] = {"end", "2000-01-02", "partition_freq", "12h",
                             "freq", "1min", "dtypes",
                             "{b: float, a: category, c: int64}", NULL};
  g = args(a3);
  CHECK_OK(hp__timeseries_nparts(g, &n, &err), &err);
  CHECK_EQ(n, 2);
  CHECK_OK(hp__timeseries_part(g, 1, &t, &err), &err);
  CHECK_EQ(hp_value_rows(t), 720);
  CHECK_EQ(hp_table_ncols(t), 4);
  CHECK_STR_EQ(hp_table_colname(t, 1), "a");
  CHECK(hp_table_dict_codes(t, 1) != NULL);
  CHECK_STR_EQ(hp_table_colname(t, 2), "b");
  CHECK_EQ(hp_table_coltype(t, 2), HP_FLOAT64);
  CHECK_EQ(hp_table_coltype(t, 3), HP_INT64);
  hp_value_free(t);
  hp__tree_free(g);

  CASE("more units");
  static const struct {
    const char *f;
    int64_t ns;
  } units[] = {{"1D", DAY_NS},      {"1d", DAY_NS},
               {"T", 60000000000},  {"2min", 120000000000},
               {"1h", 3600000000000}, {"250us", 250000},
               {"100ns", 100},      {"10L", 10000000}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    const char *a4[] = {"start", "2000-01-01", "end", "2000-01-03", "freq",
                        units[i].f, "partition_freq", "1D", NULL};
    /* the smaller steps make too many rows: only check the step */
    if (units[i].ns < 1000000000) a4[3] = "2000-01-01 00:00:01";
    g = args(a4);
    CHECK_OK(hp__timeseries_part(g, 0, &t, &err), &err);
    ts = hp_table_column(t, 0);
    if (hp_value_rows(t) > 1) CHECK(ts[1] - ts[0] == units[i].ns);
    hp_value_free(t);
    hp__tree_free(g);
  }

  CASE("bad arguments name the argument");
  static const struct {
    const char *k, *v, *msg;
  } bad[] = {
      {"start", "yesterday", "args.start: 'yesterday' is not a date"},
      {"end", "1999-01-01", "args.end: '1999-01-01' is not after args.start"},
      {"freq", "1W", "args.freq: '1W' is not a frequency"},
      {"freq", "0s", "args.freq: '0s' is not a frequency"},
      {"partition_freq", "day", "args.partition_freq: 'day' is not a "
                                "frequency"},
      {"seed", "x", "args.seed: expected an integer"},
      {"dtypes", "{a: complex}", "args.dtypes.a: unknown type 'complex'"},
      {"dtypes", "{timestamp: int}", "args.dtypes: 'timestamp' cannot be"},
      {"dtypes", "int", "args.dtypes: expected a mapping"},
      {"freq", "1ns", "args.freq: partitions would hold 86400000000001 rows"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *kv[] = {bad[i].k, bad[i].v, NULL};
    g = args(kv);
    hp_error e = HP_ERROR_INIT;
    CHECK_EQ(hp__timeseries_nparts(g, &n, &e), HP_ECONFIG);
    CHECK_CONTAINS(e.msg, bad[i].msg);
    hp_error e2 = HP_ERROR_INIT;
    t = (hp_value *)1;
    CHECK_EQ(hp__timeseries_part(g, 0, &t, &e2), HP_ECONFIG);
    CHECK(t == NULL);
    hp__tree_free(g);
  }
  hp_tree seq = {.kind = HP_TREE_SEQ};
  hp_error e3 = HP_ERROR_INIT;
  CHECK_EQ(hp__timeseries_nparts(&seq, &n, &e3), HP_ECONFIG);
  CHECK_STR_EQ(e3.msg, "args: expected a mapping");
  hp_error e4 = HP_ERROR_INIT;
  CHECK_EQ(hp__timeseries_part(NULL, 30, &t, &e4), HP_EINVAL);
  CHECK_CONTAINS(e4.msg, "partition 30 of 30");
}

int main(void) {
  test_rng();
  test_defaults();
  test_determinism();
  test_args();
  fprintf(stderr, "test_synth: ok\n");
  return 0;
}
