/*
 * test_sort.c - row orders (sort.h): packed keys radix-sorted and rows
 * merge-sorted give the order pandas' stable sort_values gives -
 * ascending or descending per key, nulls and NaN last whatever the
 * direction, -0.0 equal to 0.0, ties in row order - checked against a
 * plain comparison sort on random keys of every type.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sort.h"

static uint64_t st = 88172645463325252ULL;

static uint64_t next(void) {
  st ^= st << 13;
  st ^= st >> 7;
  st ^= st << 17;
  return st;
}

/* The reference: -1, 0, 1 for rows a and b on every key, written from
 * the rule rather than from sort.c. */
static const hp_sort_key *ref_k;
static size_t ref_nk;

static int ref_cmp(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  for (size_t i = 0; i < ref_nk; i++) {
    const hp_sort_key *k = &ref_k[i];
    int na = k->valid && !k->valid[a], nb = k->valid && !k->valid[b];
    double da = 0, db = 0;
    int64_t ia = 0, ib = 0;
    switch (k->type) {
    case HP_FLOAT64:
      da = ((const double *)k->data)[a];
      db = ((const double *)k->data)[b];
      na |= da != da;
      nb |= db != db;
      break;
    case HP_BOOL:
      ia = ((const uint8_t *)k->data)[a];
      ib = ((const uint8_t *)k->data)[b];
      break;
    case HP_STRING:
      ia = k->rank[a];
      ib = k->rank[b];
      break;
    default:
      ia = ((const int64_t *)k->data)[a];
      ib = ((const int64_t *)k->data)[b];
    }
    if (na != nb) return na ? 1 : -1;
    if (na) continue;
    int r = k->type == HP_FLOAT64 ? (da > db) - (da < db)
                                  : (ia > ib) - (ia < ib);
    if (r) return k->desc ? -r : r;
  }
  return (a > b) - (a < b); /* stable */
}

/* Orders n rows by k[0..nk) with hp__sort_order and with the reference;
 * 1 if the orders are the same. */
static int same_order(const hp_sort_key *k, size_t nk, size_t n) {
  int64_t *got = malloc((n + 1) * sizeof *got), *want = malloc((n + 1) * sizeof *want);
  hp__sort_order(k, nk, n, got);
  for (size_t r = 0; r < n; r++)
    want[r] = (int64_t)r;
  ref_k = k;
  ref_nk = nk;
  qsort(want, n, sizeof *want, ref_cmp);
  int same = memcmp(got, want, n * sizeof *got) == 0;
  free(got);
  free(want);
  return same;
}

int main(void) {
  enum { N = 5000 };
  static int64_t i1[N], i2[N], i3[N], big[N];
  static double f1[N], f2[N], f3[N];
  static uint8_t b1[N], v1[N], v2[N];
  static int32_t rk[N];
  for (size_t r = 0; r < N; r++) {
    uint64_t x = next();
    i1[r] = (int64_t)(x % 50) - 25;      /* few values: many ties */
    i2[r] = (int64_t)(next() % 100000);  /* a wider span */
    big[r] = (int64_t)next();            /* the whole int64 range */
    i3[r] = x % 5 < 3 ? 7 : i2[r];       /* one value in most rows */
    static const double odd[] = {NAN, -0.0, 0.0, INFINITY, -INFINITY, 1e-300};
    f1[r] = x % 7 == 0 ? odd[(x >> 8) % 6] : (double)(int64_t)(x >> 40) / 1000;
    /* no NaN: a float alone fits 64 bits; in [1, 2): 52 bits and a flag */
    f2[r] = x % 5 == 0 ? odd[1 + (x >> 8) % 4] : f1[r] == f1[r] ? f1[r] : 1.5;
    f3[r] = x % 11 == 0 ? NAN : 1 + (double)(x >> 50) / 16384;
    b1[r] = (x >> 20) & 1;
    v1[r] = (x >> 21) % 9 != 0;
    v2[r] = (x >> 25) % 13 != 0;
    rk[r] = (int32_t)((x >> 30) % 300);
  }

  CASE("one integer key, ascending and descending, with nulls");
  for (int desc = 0; desc < 2; desc++) {
    hp_sort_key k = {.type = HP_INT64, .data = i1, .valid = v1, .desc = desc};
    CHECK(same_order(&k, 1, N));
    hp_sort_key k3 = {.type = HP_INT64, .data = i3, .desc = desc};
    CHECK(same_order(&k3, 1, N));
  }

  CASE("float keys: NaN and nulls last, -0.0 == 0.0, infinities");
  for (int desc = 0; desc < 2; desc++) {
    hp_sort_key k[2] = {{.type = HP_FLOAT64, .data = f1, .desc = desc},
                        {.type = HP_INT64, .data = i1, .desc = !desc}};
    CHECK(same_order(k, 2, N));
    k[0].valid = v2;
    CHECK(same_order(k, 2, N));
  }

  CASE("float keys packed: -0.0 == 0.0, infinities, NaN last");
  for (int desc = 0; desc < 2; desc++) {
    hp_sort_key k[2] = {{.type = HP_FLOAT64, .data = f2, .desc = desc},
                        {.type = HP_FLOAT64, .data = f3, .desc = !desc}};
    CHECK(same_order(k, 1, N));
    CHECK(same_order(k + 1, 1, N));
    hp_sort_key k2[2] = {{.type = HP_FLOAT64, .data = f3, .desc = desc},
                         {.type = HP_INT64, .data = i1, .valid = v1}};
    CHECK(same_order(k2, 2, N));
  }

  CASE("mixed keys: bool, string ranks, integers (packed)");
  hp_sort_key mixed[4] = {{.type = HP_BOOL, .data = b1, .desc = 1},
                          {.type = HP_STRING, .rank = rk, .valid = v2},
                          {.type = HP_INT64, .data = i1, .valid = v1},
                          {.type = HP_TIMESTAMP, .data = i2, .desc = 1}};
  CHECK(same_order(mixed, 4, N));

  CASE("keys wider than 64 bits together (merge sort)");
  hp_sort_key wide[3] = {{.type = HP_INT64, .data = i1, .valid = v1},
                         {.type = HP_INT64, .data = big, .desc = 1},
                         {.type = HP_FLOAT64, .data = f1}};
  CHECK(same_order(wide, 3, N));
  CHECK(same_order(wide + 1, 2, N));

  CASE("rows in order already, and in order but for the last");
  static int64_t up[N];
  for (size_t r = 0; r < N; r++)
    up[r] = (int64_t)(r / 3);
  hp_sort_key inorder[2] = {{.type = HP_INT64, .data = up},
                            {.type = HP_BOOL, .data = b1, .desc = 1}};
  CHECK(same_order(inorder, 1, N));
  CHECK(same_order(inorder, 2, N));
  up[N - 1] = -1;
  CHECK(same_order(inorder, 1, N));

  CASE("few rows, one row, no rows");
  CHECK(same_order(mixed, 4, 63));
  CHECK(same_order(mixed, 4, 1));
  CHECK(same_order(mixed, 4, 0));

  CASE("a constant key and a key of all nulls");
  static int64_t zero[N];
  static uint8_t none[N];
  hp_sort_key flat[3] = {{.type = HP_INT64, .data = zero},
                         {.type = HP_INT64, .data = i2, .valid = none},
                         {.type = HP_FLOAT64, .data = f1, .desc = 1}};
  CHECK(same_order(flat, 3, N));
  fprintf(stderr, "test_sort: ok\n");
  return 0;
}
