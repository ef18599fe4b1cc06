/*
 * test_value.c - the value API of hpcpipe/node.h (tables, arrays, groups,
 * argument checks), deep copies, equality and hashes, and the byte
 * encoding: round trips of every kind and clean failure on truncated or
 * corrupted buffers.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "map.h"
#include "value.h"

static hp_value *sample_table(void) {
  hp_value *t = hp_table_new();
  int64_t ints[] = {1, -2, INT64_MAX, INT64_MIN};
  double fl[] = {0.5, -0.0, NAN, 1e300};
  uint8_t bo[] = {1, 0, 7, 0};
  const char *st[] = {"a", "", "h\xC3\xA9llo, \"world\"\n", NULL};
  CHECK_EQ(hp_table_add_column(t, "i", HP_INT64, ints, 4), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "f", HP_FLOAT64, fl, 4), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "b", HP_BOOL, bo, 4), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "s", HP_STRING, st, 4), HP_OK);
  return t;
}

static hp_value *sample_array(void) {
  size_t dims[3] = {2, 3, 4};
  hp_value *a = hp_array_new(HP_FLOAT64, 3, dims);
  double *d = hp_array_data_mut(a);
  for (size_t i = 0; i < 24; i++)
    d[i] = (double)i / 3.0;
  return a;
}

static hp_value *sample_group(void) {
  hp_value *g = hp_group_new();
  CHECK_EQ(hp_group_set_i64(g, "k", 8), HP_OK);
  CHECK_EQ(hp_group_set_f64(g, "inertia", 12.5), HP_OK);
  CHECK_EQ(hp_group_set_str(g, "algo", "lloyd"), HP_OK);
  CHECK_EQ(hp_group_set(g, "centers", sample_array()), HP_OK);
  CHECK_EQ(hp_group_set(g, "labels", sample_table()), HP_OK);
  hp_value *inner = hp_group_new();
  CHECK_EQ(hp_group_set_str(inner, "note", ""), HP_OK);
  CHECK_EQ(hp_group_set(inner, "empty", hp_group_new()), HP_OK);
  CHECK_EQ(hp_group_set(inner, "t0", hp_table_new()), HP_OK);
  CHECK_EQ(hp_group_set(g, "inner", inner), HP_OK);
  return g;
}

static void test_table(void) {
  CASE("table basics");
  hp_value *t = sample_table();
  CHECK_EQ(hp_value_kind(t), HP_TABLE);
  CHECK_EQ(hp_value_rows(t), 4);
  CHECK_EQ(hp_table_ncols(t), 4);
  CHECK_STR_EQ(hp_table_colname(t, 2), "b");
  CHECK_EQ(hp_table_coltype(t, 3), HP_STRING);
  CHECK_EQ(hp_table_find(t, "f"), 1);
  CHECK_EQ(hp_table_find(t, "zz"), -1);
  const int64_t *iv = hp_table_column(t, 0);
  CHECK_EQ(iv[2], INT64_MAX);
  const uint8_t *bv = hp_table_column(t, 2);
  CHECK_EQ(bv[2], 1); /* normalised to 0/1 */
  CHECK(hp_table_column(t, 3) == NULL);
  CHECK_STR_EQ(hp_table_str(t, 3, 0), "a");
  CHECK_STR_EQ(hp_table_str(t, 3, 1), "");
  CHECK_STR_EQ(hp_table_str(t, 3, 2), "h\xC3\xA9llo, \"world\"\n");
  CHECK_STR_EQ(hp_table_str(t, 3, 3), "");
  CHECK_STR_EQ(hp_table_str(t, 0, 0), "");
  CHECK(hp_table_str(t, 3, 4) == NULL);
  double *fm = hp_table_column_mut(t, 1);
  fm[0] = 2.5;
  CHECK(((const double *)hp_table_column(t, 1))[0] == 2.5);
  CHECK(hp_table_column_mut(t, 3) == NULL);

  CASE("table errors");
  int64_t x[3] = {0};
  CHECK_EQ(hp_table_add_column(t, "i", HP_INT64, x, 4), HP_EINVAL);
  CHECK_EQ(hp_table_add_column(t, "n", HP_INT64, x, 3), HP_EINVAL);
  CHECK_EQ(hp_table_add_column(t, "", HP_INT64, NULL, 4), HP_EINVAL);
  CHECK_EQ(hp_table_add_column(t, NULL, HP_INT64, NULL, 4), HP_EINVAL);
  CHECK_EQ(hp_table_add_column(t, "q", (hp_dtype)9, NULL, 4), HP_EINVAL);
  CHECK_EQ(hp_table_add_column(NULL, "q", HP_INT64, NULL, 4), HP_EINVAL);
  CHECK_EQ(hp_table_ncols(t), 4);
  CHECK(hp_table_colname(t, 4) == NULL);
  CHECK_EQ(hp_table_coltype(t, 9), 0);
  CHECK(hp_table_column(NULL, 0) == NULL);

  CASE("zero-filled columns");
  CHECK_EQ(hp_table_add_column(t, "z", HP_INT64, NULL, 4), HP_OK);
  CHECK_EQ(((const int64_t *)hp_table_column(t, 4))[3], 0);
  CHECK_EQ(hp_table_add_column(t, "zs", HP_STRING, NULL, 4), HP_OK);
  CHECK_STR_EQ(hp_table_str(t, 5, 3), "");

  CASE("wrong kind");
  hp_value *g = hp_group_new();
  CHECK_EQ(hp_table_add_column(g, "a", HP_INT64, NULL, 1), HP_EINVAL);
  CHECK_EQ(hp_table_ncols(g), 0);
  CHECK_EQ(hp_table_find(g, "a"), -1);
  CHECK(hp_table_str(g, 0, 0) == NULL);
  CHECK(hp_array_data(t) == NULL);
  CHECK_EQ(hp_array_ndim(t), 0);
  CHECK_EQ(hp_group_count(t), 0);
  CHECK_EQ(hp_group_set_i64(t, "a", 1), HP_EINVAL);
  hp_value_free(g);
  hp_value_free(t);

  CASE("empty table");
  hp_value *e = hp_table_new();
  CHECK_EQ(hp_value_rows(e), 0);
  CHECK_EQ(hp_table_add_column(e, "a", HP_FLOAT64, NULL, 0), HP_OK);
  CHECK_EQ(hp_table_add_column(e, "s", HP_STRING, NULL, 0), HP_OK);
  CHECK_EQ(hp_value_rows(e), 0);
  hp_value_free(e);
}

static void test_array(void) {
  CASE("arrays");
  size_t dims[2] = {3, 5};
  hp_value *a = hp_array_new(HP_INT64, 2, dims);
  CHECK(a != NULL);
  CHECK_EQ(hp_value_kind(a), HP_ARRAY);
  CHECK_EQ(hp_array_dtype(a), HP_INT64);
  CHECK_EQ(hp_array_ndim(a), 2);
  CHECK_EQ(hp_array_dims(a)[1], 5);
  CHECK_EQ(hp_array_size(a), 15);
  CHECK_EQ(hp_value_rows(a), 3);
  const int64_t *d = hp_array_data(a);
  for (int i = 0; i < 15; i++)
    CHECK_EQ(d[i], 0);
  ((int64_t *)hp_array_data_mut(a))[14] = 7;
  CHECK_EQ(d[14], 7);
  hp_value_free(a);

  CASE("array errors");
  CHECK(hp_array_new(HP_BOOL, 1, dims) == NULL);
  CHECK(hp_array_new(HP_STRING, 1, dims) == NULL);
  CHECK(hp_array_new(HP_INT64, 0, dims) == NULL);
  CHECK(hp_array_new(HP_INT64, 9, dims) == NULL);
  CHECK(hp_array_new(HP_INT64, 1, NULL) == NULL);
  size_t huge[2] = {SIZE_MAX / 2, 4};
  CHECK(hp_array_new(HP_INT64, 2, huge) == NULL);
  size_t zero[1] = {0};
  hp_value *z = hp_array_new(HP_FLOAT64, 1, zero);
  CHECK(z != NULL);
  CHECK_EQ(hp_array_size(z), 0);
  hp_value_free(z);
  CHECK(hp_array_dims(NULL) == NULL);
  CHECK_EQ(hp_array_size(NULL), 0);
}

static void test_group(void) {
  CASE("groups");
  hp_value *g = sample_group();
  CHECK_EQ(hp_group_count(g), 3);
  CHECK_STR_EQ(hp_group_name(g, 1), "labels");
  CHECK_EQ(hp_value_kind(hp_group_child(g, 0)), HP_ARRAY);
  CHECK_EQ(hp_value_kind(hp_group_get(g, "labels")), HP_TABLE);
  CHECK(hp_group_get(g, "nope") == NULL);
  CHECK_EQ(hp_value_rows(g), 0);
  CHECK_EQ(hp_group_nattrs(g), 3);
  CHECK_STR_EQ(hp_group_attr_name(g, 2), "algo");
  CHECK_EQ(hp_group_attr_type(g, 1), HP_FLOAT64);
  int64_t k = 0;
  double f = 0;
  CHECK_EQ(hp_group_attr_i64(g, "k", &k), HP_OK);
  CHECK_EQ(k, 8);
  CHECK_EQ(hp_group_attr_f64(g, "k", &f), HP_OK); /* int reads as f64 */
  CHECK(f == 8.0);
  CHECK_EQ(hp_group_attr_f64(g, "inertia", &f), HP_OK);
  CHECK(f == 12.5);
  CHECK_EQ(hp_group_attr_i64(g, "inertia", &k), HP_EINVAL);
  CHECK_EQ(hp_group_attr_i64(g, "algo", &k), HP_EINVAL);
  CHECK_EQ(hp_group_attr_i64(g, "missing", &k), HP_EINVAL);
  CHECK_STR_EQ(hp_group_attr_str(g, "algo"), "lloyd");
  CHECK(hp_group_attr_str(g, "k") == NULL);

  CASE("replace child and attribute");
  CHECK_EQ(hp_group_set(g, "labels", hp_group_new()), HP_OK);
  CHECK_EQ(hp_group_count(g), 3);
  CHECK_EQ(hp_value_kind(hp_group_get(g, "labels")), HP_GROUP);
  CHECK_EQ(hp_group_set_str(g, "k", "eight"), HP_OK);
  CHECK_EQ(hp_group_nattrs(g), 3);
  CHECK_STR_EQ(hp_group_attr_str(g, "k"), "eight");
  CHECK_EQ(hp_group_attr_i64(g, "k", &k), HP_EINVAL);

  CASE("group errors");
  CHECK_EQ(hp_group_set(g, "", hp_group_new()), HP_EINVAL);
  CHECK_EQ(hp_group_set(g, NULL, hp_table_new()), HP_EINVAL);
  CHECK_EQ(hp_group_set(g, "x", NULL), HP_EINVAL);
  CHECK_EQ(hp_group_set(NULL, "x", hp_group_new()), HP_EINVAL);
  CHECK_EQ(hp_group_set(g, "self", g), HP_EINVAL); /* g survives */
  CHECK_EQ(hp_group_count(g), 3);
  hp_value *t = hp_table_new();
  CHECK_EQ(hp_group_set(t, "x", hp_group_new()), HP_EINVAL);
  CHECK_EQ(hp_group_set_str(g, "s", NULL), HP_EINVAL);
  CHECK_EQ(hp_group_set_f64(g, "", 1.0), HP_EINVAL);
  CHECK_EQ(hp_group_attr_f64(t, "x", &f), HP_EINVAL);
  CHECK(hp_group_attr_str(NULL, "x") == NULL);
  CHECK(hp_group_name(g, 3) == NULL);
  CHECK(hp_group_child(g, 3) == NULL);
  CHECK_EQ(hp_group_attr_type(g, 3), 0);
  CHECK_EQ(hp_value_kind(NULL), 0);
  CHECK_EQ(hp_value_rows(NULL), 0);
  CHECK(hp_value_copy(NULL) == NULL);
  hp_value_free(NULL);
  hp_value_free(t);
  hp_value_free(g);

  CASE("dtype names");
  CHECK_STR_EQ(hp_dtype_name(HP_INT64), "int64");
  CHECK_STR_EQ(hp_dtype_name(HP_FLOAT64), "float64");
  CHECK_STR_EQ(hp_dtype_name(HP_BOOL), "bool");
  CHECK_STR_EQ(hp_dtype_name(HP_STRING), "string");
  CHECK_STR_EQ(hp_dtype_name((hp_dtype)0), "unknown");
}

/* Pack, unpack, compare; then every truncation and some corruptions. */
static void round_trip(hp_value *v, int exhaustive) {
  hp_buf b = {0};
  hp__value_pack(v, &b);
  CHECK(b.len > 4);
  hp_value *u = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__value_unpack(b.data, b.len, &u, &err), &err);
  CHECK(hp__value_equal(v, u));
  CHECK(hp__value_hash(v, 1) == hp__value_hash(u, 1));
  CHECK(hp__value_hash(v, 1) != hp__value_hash(v, 2));
  hp_value *c = hp_value_copy(v);
  CHECK(hp__value_equal(v, c));
  CHECK(hp__value_hash(v, 5) == hp__value_hash(c, 5));
  hp_value_free(c);
  hp_value_free(u);

  size_t step = exhaustive ? 1 : (b.len / 97 + 1);
  for (size_t n = 0; n < b.len; n += step) {
    hp_error e = HP_ERROR_INIT;
    u = (hp_value *)1;
    CHECK_EQ(hp__value_unpack(b.data, n, &u, &e), HP_EIO);
    CHECK(u == NULL);
    CHECK_STR_EQ(e.msg, "corrupt value encoding");
  }
  /* trailing garbage */
  hp__buf_putc(&b, 0);
  hp_error e2 = HP_ERROR_INIT;
  CHECK_EQ(hp__value_unpack(b.data, b.len, &u, &e2), HP_EIO);
  b.len--;
  /* flip bytes one at a time: must either fail cleanly or decode */
  for (size_t i = 0; i < b.len; i += step) {
    static const unsigned char flips[] = {0x01, 0x80, 0xff};
    for (size_t k = 0; k < sizeof flips; k++) {
      b.data[i] ^= (char)flips[k];
      hp_error e = HP_ERROR_INIT;
      u = NULL;
      int rc = hp__value_unpack(b.data, b.len, &u, &e);
      CHECK(rc == HP_OK || rc == HP_EIO || rc == HP_ENOMEM);
      CHECK((rc == HP_OK) == (u != NULL));
      hp_value_free(u);
      b.data[i] ^= (char)flips[k];
    }
  }
  hp__buf_free(&b);
}

/* Decodes groups nested n deep: kind, 0 attributes, 1 child named "a". */
static int unpack_nested(size_t n) {
  size_t len = 4 + 26 * n + 17;
  unsigned char *deep = calloc(len, 1);
  memcpy(deep, "HPV1", 4);
  for (size_t i = 0; i <= n; i++) {
    unsigned char *p = deep + 4 + 26 * i;
    p[0] = 3;
    if (i < n) {
      p[9] = 1;
      p[17] = 1;
      p[25] = 'a';
    }
  }
  hp_value *u = NULL;
  int rc = hp__value_unpack(deep, len, &u, NULL);
  hp_value_free(u);
  free(deep);
  return rc;
}

static void test_pack(void) {
  CASE("pack table");
  hp_value *t = sample_table();
  round_trip(t, 1);
  CASE("pack array");
  hp_value *a = sample_array();
  round_trip(a, 1);
  CASE("pack group");
  hp_value *g = sample_group();
  round_trip(g, 0);
  CASE("pack empties");
  hp_value *e = hp_table_new();
  round_trip(e, 1);
  hp_value_free(e);
  e = hp_group_new();
  round_trip(e, 1);
  hp_value_free(e);
  size_t zero[2] = {0, 3};
  e = hp_array_new(HP_INT64, 2, zero);
  round_trip(e, 1);
  hp_value_free(e);
  e = hp_table_new();
  CHECK_EQ(hp_table_add_column(e, "s", HP_STRING, NULL, 0), HP_OK);
  CHECK_EQ(hp_table_add_column(e, "b", HP_BOOL, NULL, 0), HP_OK);
  round_trip(e, 1);
  hp_value_free(e);

  hp_error err0 = HP_ERROR_INIT;

  CASE("equality and hash distinguish");
  hp_value *t2 = hp_value_copy(t);
  CHECK(hp__value_equal(t, t2));
  ((int64_t *)hp_table_column_mut(t2, 0))[0] = 99;
  CHECK(!hp__value_equal(t, t2));
  CHECK(hp__value_hash(t, 0) != hp__value_hash(t2, 0));
  CHECK(!hp__value_equal(t, a));
  CHECK(!hp__value_equal(t, NULL));
  hp_value *g2 = hp_value_copy(g);
  CHECK_EQ(hp_group_set_f64(g2, "inertia", 12.25), HP_OK);
  CHECK(!hp__value_equal(g, g2));
  hp_value_free(g2);
  hp_value_free(t2);

  CASE("bools stored as other non-zero bytes");
  hp_value *b1 = hp_value_copy(t), *b4 = hp_value_copy(t);
  ((uint8_t *)hp_table_column_mut(b4, 2))[0] = 4;
  CHECK(hp__value_equal(b1, b4));
  CHECK(hp__value_hash(b1, 3) == hp__value_hash(b4, 3));
  hp_buf bb = {0};
  hp__value_pack(b4, &bb);
  hp_value *bu = NULL;
  CHECK_OK(hp__value_unpack(bb.data, bb.len, &bu, &err0), &err0);
  CHECK_EQ(((const uint8_t *)hp_table_column(bu, 2))[0], 1);
  hp__buf_free(&bb);
  hp_value_free(bu);
  hp_value_free(b1);
  hp_value_free(b4);

  CASE("hash is stable across machines");
  /* a fixed value and its fixed hash: changes here break resume */
  hp_value *s = hp_table_new();
  int64_t v[3] = {1, 2, 3};
  CHECK_EQ(hp_table_add_column(s, "x", HP_INT64, v, 3), HP_OK);
  uint64_t h1 = hp__value_hash(s, HP_HASH_SEED);
  hp_buf b = {0};
  hp__value_pack(s, &b);
  CHECK_EQ(b.len, 4 + 1 + 8 + 8 + 8 + 1 + 1 + 24);
  CHECK(memcmp(b.data, "HPV1\x01\x03\0\0\0\0\0\0\0", 13) == 0);
  hp__buf_free(&b);
  CHECK(h1 == hp__value_hash(s, HP_HASH_SEED));
  CHECK(h1 == 0xbfeef5956fa67873ULL);
  hp_value_free(s);

  CASE("unpack rejects bad input");
  hp_error err = HP_ERROR_INIT;
  hp_value *u = NULL;
  CHECK_EQ(hp__value_unpack("XXXX\x03", 5, &u, &err), HP_EIO);
  CHECK_EQ(hp__value_unpack(NULL, 0, &u, NULL), HP_EIO);
  CHECK_EQ(hp__value_unpack(NULL, 5, &u, NULL), HP_EINVAL);
  /* huge lengths must not allocate or read past the end */
  unsigned char huge[] = {'H',  'P',  'V',  '1',  2,    1,    1,   0xff,
                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f};
  CHECK_EQ(hp__value_unpack(huge, sizeof huge, &u, NULL), HP_EIO);
  CHECK_EQ(unpack_nested(150), HP_OK);
  CHECK_EQ(unpack_nested(300), HP_EIO); /* too deep for the stack */

  hp_value_free(t);
  hp_value_free(a);
  hp_value_free(g);
}

int main(void) {
  test_table();
  test_array();
  test_group();
  test_pack();
  fprintf(stderr, "test_value: ok\n");
  return 0;
}
