/*
 * test_value.c - the value API of hpcpipe/node.h (tables, arrays, groups,
 * argument checks), deep copies, equality and hashes, and the byte
 * encoding: round trips of every kind and clean failure on truncated or
 * corrupted buffers.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "map.h"
#include "mem.h"
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

/* A table with every new feature: timestamps, a dictionary, masks. */
static hp_value *rich_table(void) {
  hp_value *t = hp_table_new();
  int64_t ts[5] = {0, 946684800000000000LL, -1, 1, 500000000};
  int64_t iv[5] = {10, 20, 30, 40, 50};
  double fv[5] = {0.5, 1.5, 2.5, 3.5, 4.5};
  int32_t codes[5] = {1, 0, 1, 2, 1};
  const char *dict[3] = {"b", "a", ""};
  const char *pl[5] = {"p0", "p1", "p2", "p3", "p4"};
  CHECK_EQ(hp_table_add_column(t, "t", HP_TIMESTAMP, ts, 5), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "i", HP_INT64, iv, 5), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "f", HP_FLOAT64, fv, 5), HP_OK);
  CHECK_EQ(hp_table_add_dict_column(t, "d", codes, 5, dict, 3), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "s", HP_STRING, pl, 5), HP_OK);
  uint8_t m[5] = {1, 0, 1, 1, 0};
  CHECK_EQ(hp_table_set_valid(t, 1, m), HP_OK);
  uint8_t m2[5] = {1, 1, 0, 1, 1};
  CHECK_EQ(hp_table_set_valid(t, 3, m2), HP_OK);
  return t;
}

static void test_timestamps(void) {
  CASE("timestamp columns");
  CHECK_STR_EQ(hp_dtype_name(HP_TIMESTAMP), "timestamp");
  hp_value *t = hp_table_new();
  int64_t ts[2] = {0, 86400000000000LL};
  CHECK_EQ(hp_table_add_column(t, "ts", HP_TIMESTAMP, ts, 2), HP_OK);
  CHECK_EQ(hp_table_coltype(t, 0), HP_TIMESTAMP);
  CHECK_EQ(((const int64_t *)hp_table_column(t, 0))[1], 86400000000000LL);
  CHECK_STR_EQ(hp_table_str(t, 0, 0), "");
  round_trip(t, 1);
  /* an int64 column with the same numbers is another value */
  hp_value *i = hp_table_new();
  CHECK_EQ(hp_table_add_column(i, "ts", HP_INT64, ts, 2), HP_OK);
  CHECK(!hp__value_equal(t, i));
  CHECK(hp__value_hash(t, 0) != hp__value_hash(i, 0));
  hp_value_free(i);
  hp_value_free(t);
  CHECK(hp_array_new(HP_TIMESTAMP, 1, (size_t[]){2}) == NULL);

  CASE("timestamp text");
  static const struct {
    const char *in, *out;
  } ok[] = {
      {"2000-01-01", "2000-01-01 00:00:00"},
      {"2000-01-01 00:00:00.500", "2000-01-01 00:00:00.500"},
      {"2000-02-29T12:34:56", "2000-02-29 12:34:56"},
      {" 1970-01-01 00:00:00.000001 ", "1970-01-01 00:00:00.000001"},
      {"1969-12-31 23:59:59.999999999", "1969-12-31 23:59:59.999999999"},
      {"2262-04-11 23:47:16.854775807", "2262-04-11 23:47:16.854775807"},
      {"1677-09-21 00:12:43.145224192", "1677-09-21 00:12:43.145224192"},
      {"2021-03-04 05:06", "2021-03-04 05:06:00"},
      {"2021-03-04T05:06:07.1Z", "2021-03-04 05:06:07.100"},
      {"1900-03-01 00:00:00.1234567891", "1900-03-01 00:00:00.123456789"},
  };
  for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
    int64_t ns;
    char buf[HP_TIMESTAMP_LEN];
    CHECK(hp__timestamp_parse(ok[k].in, &ns));
    hp__timestamp_format(ns, buf);
    CHECK_STR_EQ(buf, ok[k].out);
    int64_t back;
    CHECK(hp__timestamp_parse(buf, &back));
    CHECK(back == ns);
  }
  int64_t ns;
  CHECK(hp__timestamp_parse("2000-01-01 00:00:01", &ns));
  CHECK_EQ(ns, 946684801000000000LL);
  static const char *bad[] = {"",           "2000",
                              "2000-1-01",  "2000-13-01",
                              "2001-02-29", "2000-01-32",
                              "2000-01-01 24:00:00", "2000-01-01 00:60",
                              "2000-01-01x", "2000-01-01 00:00:00.",
                              "2263-01-01", "1600-01-01",
                              "2000-01-01 00:00:00 junk"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    CHECK(!hp__timestamp_parse(bad[k], &ns));
  /* every day of four centuries formats and parses back */
  for (int64_t d = -50000; d < 50000; d += 7) {
    char buf[HP_TIMESTAMP_LEN];
    int64_t x = d * 86400000000000LL + 3723000000000LL, y;
    hp__timestamp_format(x, buf);
    CHECK(hp__timestamp_parse(buf, &y));
    CHECK(x == y);
  }
}

static void test_nulls(void) {
  CASE("validity masks");
  hp_value *t = sample_table();
  CHECK(hp_table_valid(t, 0) == NULL);
  uint8_t m[4] = {1, 0, 5, 0};
  CHECK_EQ(hp_table_set_valid(t, 0, m), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 3, m), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 4, m), HP_EINVAL);
  CHECK_EQ(hp_table_set_valid(NULL, 0, m), HP_EINVAL);
  const uint8_t *v = hp_table_valid(t, 0);
  CHECK(v && v[0] == 1 && v[1] == 0 && v[2] == 1 && v[3] == 0);
  CHECK_STR_EQ(hp_table_str(t, 3, 0), "a");
  CHECK_STR_EQ(hp_table_str(t, 3, 2), "h\xC3\xA9llo, \"world\"\n");
  CHECK_STR_EQ(hp_table_str(t, 3, 3), "");
  round_trip(t, 1);

  CASE("pack keeps masks exactly");
  hp_buf b = {0};
  hp__value_pack(t, &b);
  hp_value *u = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__value_unpack(b.data, b.len, &u, &err), &err);
  CHECK(hp_table_valid(u, 0) && hp_table_valid(u, 0)[1] == 0);
  CHECK(hp_table_valid(u, 1) == NULL);
  hp__buf_free(&b);
  hp_value_free(u);

  CASE("equality ignores what lies under a null");
  hp_value *c = hp_value_copy(t);
  CHECK(hp_table_valid(c, 3) && hp_table_valid(c, 3)[3] == 0);
  ((int64_t *)hp_table_column_mut(c, 0))[1] = 12345;
  CHECK(hp__value_equal(t, c));
  CHECK(hp__value_hash(t, 7) == hp__value_hash(c, 7));
  ((int64_t *)hp_table_column_mut(c, 0))[0] = 12345; /* a valid row */
  CHECK(!hp__value_equal(t, c));
  CHECK(hp__value_hash(t, 7) != hp__value_hash(c, 7));
  hp_value_free(c);

  CASE("a mask of ones is no mask; a null is not a zero");
  hp_value *p = sample_table(), *q = sample_table();
  uint64_t h0 = hp__value_hash(p, 1);
  uint8_t ones[4] = {1, 1, 1, 1};
  CHECK_EQ(hp_table_set_valid(q, 0, ones), HP_OK);
  CHECK(hp__value_equal(p, q));
  CHECK(hp__value_hash(q, 1) == h0);
  uint8_t one_null[4] = {1, 1, 1, 0};
  int64_t *qi = hp_table_column_mut(q, 0);
  qi[3] = 0;
  CHECK_EQ(hp_table_set_valid(q, 0, one_null), HP_OK);
  hp_value *z = sample_table();
  ((int64_t *)hp_table_column_mut(z, 0))[3] = 0;
  CHECK(!hp__value_equal(q, z));
  CHECK(hp__value_hash(q, 1) != hp__value_hash(z, 1));
  CHECK_EQ(hp_table_set_valid(q, 0, NULL), HP_OK);
  CHECK(hp_table_valid(q, 0) == NULL);
  CHECK(hp__value_equal(q, z));
  hp_value_free(z);

  CASE("a null float is NaN");
  /* sample_table's float column holds NaN at row 2 */
  hp_value *f = sample_table();
  double *fd = hp_table_column_mut(f, 1);
  fd[2] = 7.0;
  uint8_t fm[4] = {1, 1, 0, 1};
  CHECK_EQ(hp_table_set_valid(f, 1, fm), HP_OK);
  CHECK(hp__value_equal(p, f));
  CHECK(hp__value_hash(f, 1) == h0);
  hp_value_free(f);
  hp_value_free(p);
  hp_value_free(q);
  hp_value_free(t);
}

static void test_dict(void) {
  CASE("dictionary columns");
  hp_value *t = hp_table_new();
  int32_t codes[6] = {0, 1, 0, 2, 2, 0};
  const char *dict[3] = {"red", "green", ""};
  CHECK_EQ(hp_table_add_dict_column(t, "c", codes, 6, dict, 3), HP_OK);
  CHECK_EQ(hp_table_coltype(t, 0), HP_STRING);
  CHECK_EQ(hp_table_dict_size(t, 0), 3);
  CHECK_STR_EQ(hp_table_dict_str(t, 0, 1), "green");
  CHECK(hp_table_dict_str(t, 0, 3) == NULL);
  CHECK(hp_table_dict_codes(t, 0)[3] == 2);
  CHECK(hp_table_column(t, 0) == NULL);
  CHECK(hp_table_column_mut(t, 0) == NULL);
  CHECK_STR_EQ(hp_table_str(t, 0, 1), "green");
  CHECK_STR_EQ(hp_table_str(t, 0, 3), "");
  CHECK_STR_EQ(hp_table_str(t, 0, 5), "red");
  round_trip(t, 1);

  CASE("dictionary errors");
  int32_t badc[6] = {0, 1, 0, 3, 2, 0};
  CHECK_EQ(hp_table_add_dict_column(t, "x", badc, 6, dict, 3), HP_EINVAL);
  badc[3] = -1;
  CHECK_EQ(hp_table_add_dict_column(t, "x", badc, 6, dict, 3), HP_EINVAL);
  const char *dup[3] = {"a", "b", "a"};
  CHECK_EQ(hp_table_add_dict_column(t, "x", codes, 6, dup, 3), HP_EINVAL);
  CHECK_EQ(hp_table_add_dict_column(t, "c", codes, 6, dict, 3), HP_EINVAL);
  CHECK_EQ(hp_table_add_dict_column(t, "x", codes, 5, dict, 3), HP_EINVAL);
  CHECK_EQ(hp_table_ncols(t), 1);
  CHECK(hp_table_dict_codes(t, 1) == NULL);
  CHECK_EQ(hp_table_dict_size(t, 1), 0);

  CASE("a dictionary equals its plain strings");
  const char *plain[6] = {"red", "green", "red", "", "", "red"};
  hp_value *p = hp_table_new();
  CHECK_EQ(hp_table_add_column(p, "c", HP_STRING, plain, 6), HP_OK);
  CHECK(hp__value_equal(t, p));
  CHECK(hp__value_equal(p, t));
  CHECK(hp__value_hash(t, 9) == hp__value_hash(p, 9));
  /* another dictionary order, same strings */
  int32_t codes2[6] = {2, 0, 2, 1, 1, 2};
  const char *dict2[3] = {"green", "", "red"};
  hp_value *t2 = hp_table_new();
  CHECK_EQ(hp_table_add_dict_column(t2, "c", codes2, 6, dict2, 3), HP_OK);
  CHECK(hp__value_equal(t, t2));
  CHECK(hp__value_hash(t2, 9) == hp__value_hash(p, 9));
  ((int32_t *)t2->cols[0].data)[0] = 0;
  CHECK(!hp__value_equal(t, t2));
  CHECK(hp__value_hash(t2, 9) != hp__value_hash(p, 9));
  /* nulls: both read "" there, but a null is not "" */
  uint8_t m[6] = {1, 1, 1, 0, 1, 1};
  CHECK_EQ(hp_table_set_valid(t, 0, m), HP_OK);
  CHECK(!hp__value_equal(t, p));
  CHECK_EQ(hp_table_set_valid(p, 0, m), HP_OK);
  CHECK(hp__value_equal(t, p));
  CHECK(hp__value_hash(t, 9) == hp__value_hash(p, 9));
  round_trip(t, 1);

  CASE("pack keeps the dictionary");
  hp_buf b = {0};
  hp__value_pack(t, &b);
  hp_value *u = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__value_unpack(b.data, b.len, &u, &err), &err);
  CHECK(hp_table_dict_codes(u, 0) != NULL);
  CHECK_EQ(hp_table_dict_size(u, 0), 3);
  CHECK(hp_table_valid(u, 0)[3] == 0);
  /* a code out of range is corrupt: the last code is the last 4 bytes */
  b.data[b.len - 4] = 9;
  hp_value *bad = NULL;
  CHECK_EQ(hp__value_unpack(b.data, b.len, &bad, NULL), HP_EIO);
  hp__buf_free(&b);
  hp_value *cp = hp_value_copy(u);
  CHECK(hp_table_dict_codes(cp, 0) != NULL);
  CHECK(hp__value_equal(cp, p));
  hp_value_free(cp);
  hp_value_free(u);
  hp_value_free(t);
  hp_value_free(t2);
  hp_value_free(p);

  CASE("an empty dictionary column");
  hp_value *e = hp_table_new();
  CHECK_EQ(hp_table_add_dict_column(e, "c", NULL, 0, NULL, 0), HP_OK);
  round_trip(e, 1);
  hp_value_free(e);
}

/* Column `col` of t at row r as text, for comparisons. */
static void check_row(const hp_value *t, const hp_value *src, size_t r,
                      size_t sr) {
  for (size_t c = 0; c < hp_table_ncols(t); c++) {
    const uint8_t *v = hp_table_valid(t, c), *sv = hp_table_valid(src, c);
    int valid = !v || v[r], svalid = !sv || sv[sr];
    CHECK_EQ(valid, svalid);
    if (hp_table_coltype(t, c) == HP_STRING) {
      CHECK_STR_EQ(hp_table_str(t, c, r), hp_table_str(src, c, sr));
    } else if (valid) {
      const int64_t *x = hp_table_column(t, c), *y = hp_table_column(src, c);
      CHECK(x[r] == y[sr]);
    }
  }
}

static void test_select(void) {
  CASE("take, mask, slice");
  hp_value *t = rich_table();
  int64_t rows[6] = {4, 0, 0, 3, 1, 2};
  hp_value *k = hp__table_take(t, rows, 6);
  CHECK(k && hp_value_rows(k) == 6 && hp_table_ncols(k) == 5);
  for (size_t r = 0; r < 6; r++)
    check_row(k, t, r, (size_t)rows[r]);
  CHECK(hp_table_dict_codes(k, 3) != NULL);
  CHECK_EQ(hp_table_coltype(k, 0), HP_TIMESTAMP);
  round_trip(k, 0);
  hp_value_free(k);
  rows[2] = 5;
  CHECK(hp__table_take(t, rows, 6) == NULL);
  rows[2] = -1;
  CHECK(hp__table_take(t, rows, 6) == NULL);
  k = hp__table_take(t, NULL, 0);
  CHECK(k && hp_value_rows(k) == 0 && hp_table_ncols(k) == 5);
  hp_value_free(k);

  CASE("permute in place gives what take gives");
  {
    hp_value *src = hp_value_copy(t); /* plus a bool column */
    uint8_t bv[5] = {1, 0, 0, 1, 1};
    CHECK_EQ(hp_table_add_column(src, "b", HP_BOOL, bv, 5), HP_OK);
    int64_t perm[5] = {4, 0, 0, 3, 1}; /* repeats allowed */
    hp_value *want = hp__table_take(src, perm, 5);
    hp_value *p = hp_value_copy(src);
    CHECK_EQ(hp__table_permute(p, perm), HP_OK);
    CHECK(hp__value_equal(p, want)); /* take is checked row by row above */
    perm[1] = 5; /* out of range: nothing changes */
    hp_value *q = hp_value_copy(src);
    CHECK_EQ(hp__table_permute(q, perm), HP_EINVAL);
    CHECK(hp__value_equal(q, src));
    hp_value *e = hp__table_take(src, NULL, 0);
    CHECK_EQ(hp__table_permute(e, NULL), HP_OK);
    CHECK_EQ(hp_value_rows(e), 0);
    hp_value_free(e);
    hp_value_free(q);
    hp_value_free(p);
    hp_value_free(want);
    hp_value_free(src);
  }

  uint8_t keep[5] = {0, 1, 0, 7, 1};
  hp_value *m = hp__table_mask(t, keep);
  CHECK(m && hp_value_rows(m) == 3);
  check_row(m, t, 0, 1);
  check_row(m, t, 1, 3);
  check_row(m, t, 2, 4);
  hp_value_free(m);
  { /* masks over many blocks of 16: empty, full and sparse, a tail */
    enum { N = 1003 };
    int64_t *iv = malloc(N * sizeof *iv);
    uint8_t *mk = malloc(N);
    for (size_t r = 0; r < N; r++) {
      iv[r] = (int64_t)r;
      mk[r] = r < 64 ? 0 : r < 128 ? 3 : (r * 2654435761u >> 7) % 9 == 0;
    }
    hp_value *big = hp_table_new();
    CHECK_EQ(hp_table_add_column(big, "i", HP_INT64, iv, N), HP_OK);
    hp_value *bm = hp__table_mask(big, mk);
    size_t want = 0, ok = 1;
    const int64_t *got = bm ? hp_table_column(bm, 0) : NULL;
    for (size_t r = 0; got && r < N; r++)
      if (mk[r])
        ok &= want < hp_value_rows(bm) && got[want++] == (int64_t)r;
    CHECK(got && ok && hp_value_rows(bm) == want);
    hp_value_free(bm);
    hp_value_free(big);
    free(iv);
    free(mk);
  }

  hp_value *s = hp__table_slice(t, 1, 4);
  CHECK(s && hp_value_rows(s) == 3);
  for (size_t r = 0; r < 3; r++)
    check_row(s, t, r, r + 1);
  hp_value_free(s);
  s = hp__table_slice(t, 0, 5);
  CHECK(hp__value_equal(s, t));
  hp_value_free(s);
  CHECK(hp__table_slice(t, 3, 6) == NULL);
  CHECK(hp__table_slice(t, 3, 2) == NULL);
  s = hp__table_slice(t, 5, 5);
  CHECK(s && hp_value_rows(s) == 0);
  hp_value_free(s);
  hp_value *a = sample_array();
  CHECK(hp__table_slice(a, 0, 1) == NULL);
  hp_value_free(a);

  CASE("move a column, swap tables");
  hp_value *src = rich_table(), *dst = hp_table_new();
  CHECK_EQ(hp__table_move_column(dst, src, 3, "dd"), HP_OK);
  CHECK_EQ(hp__table_move_column(dst, src, 1, NULL), HP_OK);
  CHECK_EQ(hp__table_move_column(dst, src, 1, NULL), HP_EINVAL); /* husk */
  CHECK_EQ(hp__table_move_column(dst, src, 4, "dd"), HP_EINVAL);
  CHECK_EQ(hp_table_ncols(dst), 2);
  CHECK_STR_EQ(hp_table_colname(dst, 0), "dd");
  CHECK_STR_EQ(hp_table_str(dst, 0, 0), "a");
  CHECK(hp_table_valid(dst, 1) && hp_table_valid(dst, 1)[1] == 0);
  CHECK_STR_EQ(hp_table_str(src, 3, 0), "");
  hp__table_swap(src, dst);
  CHECK_EQ(hp_table_ncols(src), 2);
  hp_value_free(src);
  hp_value_free(dst);
  hp_value_free(t);
}

static void test_concat(void) {
  hp_error err = HP_ERROR_INIT;
  CASE("concat tables");
  hp_value *t = rich_table();
  hp_value *a = hp__table_slice(t, 0, 2), *b = hp__table_slice(t, 2, 5);
  const hp_value *parts[3] = {a, hp_table_new(), b};
  hp_value *o = NULL;
  CHECK_OK(hp__value_concat(parts, 3, &o, &err), &err);
  CHECK(hp__value_equal(o, t));
  CHECK(hp_table_dict_codes(o, 3) != NULL); /* one shared dictionary */
  CHECK_EQ(hp_table_dict_size(o, 3), 3);
  hp_value_free(o);
  hp_value_free((hp_value *)parts[1]);

  CASE("concat unifies dictionaries in first-appearance order");
  hp_value *x = hp_table_new(), *y = hp_table_new(), *z = hp_table_new();
  int32_t cx[3] = {0, 1, 0}, cy[2] = {1, 0};
  const char *dx[2] = {"p", "q"}, *dy[2] = {"r", "p"};
  CHECK_EQ(hp_table_add_dict_column(x, "k", cx, 3, dx, 2), HP_OK);
  CHECK_EQ(hp_table_add_dict_column(y, "k", cy, 2, dy, 2), HP_OK);
  const char *pz[2] = {"s", "q"};
  CHECK_EQ(hp_table_add_column(z, "k", HP_STRING, pz, 2), HP_OK);
  uint8_t ym[2] = {1, 0};
  CHECK_EQ(hp_table_set_valid(y, 0, ym), HP_OK);
  const hp_value *xy[2] = {x, y};
  CHECK_OK(hp__value_concat(xy, 2, &o, &err), &err);
  CHECK_EQ(hp_table_dict_size(o, 0), 3);
  CHECK_STR_EQ(hp_table_dict_str(o, 0, 0), "p");
  CHECK_STR_EQ(hp_table_dict_str(o, 0, 1), "q");
  CHECK_STR_EQ(hp_table_dict_str(o, 0, 2), "r");
  static const char *want[5] = {"p", "q", "p", "p", ""};
  for (size_t r = 0; r < 5; r++)
    CHECK_STR_EQ(hp_table_str(o, 0, r), want[r]);
  const uint8_t *ov = hp_table_valid(o, 0);
  CHECK(ov && ov[0] && ov[3] && !ov[4]);
  hp_value_free(o);

  CASE("concat of a dictionary and plain strings is plain");
  const hp_value *xz[3] = {x, z, y};
  CHECK_OK(hp__value_concat(xz, 3, &o, &err), &err);
  CHECK(hp_table_dict_codes(o, 0) == NULL);
  static const char *want2[7] = {"p", "q", "p", "s", "q", "p", ""};
  for (size_t r = 0; r < 7; r++)
    CHECK_STR_EQ(hp_table_str(o, 0, r), want2[r]);
  CHECK(!hp_table_valid(o, 0)[6] && hp_table_valid(o, 0)[5]);
  hp_value_free(o);

  CASE("concat errors");
  hp_value *w = hp_table_new();
  int64_t wi[1] = {1};
  CHECK_EQ(hp_table_add_column(w, "k", HP_INT64, wi, 1), HP_OK);
  const hp_value *xw[2] = {x, w};
  hp_error e1 = HP_ERROR_INIT;
  CHECK_EQ(hp__value_concat(xw, 2, &o, &e1), HP_EINVAL);
  CHECK(o == NULL);
  CHECK_STR_EQ(e1.msg, "concat: part 1: column 0 is 'k' (int64), in the "
                       "first part 'k' (string)");
  const hp_value *ta[2] = {a, x};
  hp_error e2 = HP_ERROR_INIT;
  CHECK_EQ(hp__value_concat(ta, 2, &o, &e2), HP_EINVAL);
  CHECK_STR_EQ(e2.msg, "concat: part 1 has 1 columns, the first part 5");
  hp_value *arr = sample_array();
  const hp_value *mix[2] = {x, arr};
  hp_error e3 = HP_ERROR_INIT;
  CHECK_EQ(hp__value_concat(mix, 2, &o, &e3), HP_EINVAL);
  CHECK_STR_EQ(e3.msg, "concat: part 1 is an array, part 0 a table");
  hp_value *g = hp_group_new();
  const hp_value *gg[1] = {g};
  hp_error e4 = HP_ERROR_INIT;
  CHECK_EQ(hp__value_concat(gg, 1, &o, &e4), HP_EINVAL);
  CHECK_CONTAINS(e4.msg, "groups cannot be concatenated");
  CHECK_EQ(hp__value_concat(gg, 0, &o, NULL), HP_EINVAL);

  CASE("concat arrays");
  size_t d2[3] = {1, 3, 4};
  hp_value *arr2 = hp_array_new(HP_FLOAT64, 3, d2);
  ((double *)hp_array_data_mut(arr2))[11] = 42;
  const hp_value *aa[2] = {arr, arr2};
  CHECK_OK(hp__value_concat(aa, 2, &o, &err), &err);
  CHECK_EQ(hp_array_dims(o)[0], 3);
  CHECK_EQ(hp_array_dims(o)[2], 4);
  const double *od = hp_array_data(o);
  CHECK(od[23] == 23.0 / 3.0 && od[24 + 11] == 42);
  hp_value_free(o);
  size_t d3[3] = {1, 4, 3};
  hp_value *arr3 = hp_array_new(HP_FLOAT64, 3, d3);
  const hp_value *ab[2] = {arr, arr3};
  hp_error e5 = HP_ERROR_INIT;
  CHECK_EQ(hp__value_concat(ab, 2, &o, &e5), HP_EINVAL);
  CHECK_STR_EQ(e5.msg, "concat: part 1 has 4 along axis 1, part 0 has 3 "
                       "(only axis 0 may differ)");
  hp_value *arr4 = hp_array_new(HP_INT64, 3, d2);
  const hp_value *ac[2] = {arr, arr4};
  hp_error e6 = HP_ERROR_INIT;
  CHECK_EQ(hp__value_concat(ac, 2, &o, &e6), HP_EINVAL);
  CHECK_CONTAINS(e6.msg, "part 1 is a 3-D int64 array");

  CASE("concat is fast");
  enum { NP = 20, NR = 100000 };
  hp_value *big[NP];
  int32_t *bc = malloc(NR * sizeof *bc);
  double *bf = malloc(NR * sizeof *bf);
  const char *names[4] = {"w", "x", "y", "z"};
  for (size_t p = 0; p < NP; p++) {
    for (size_t r = 0; r < NR; r++) {
      bc[r] = (int32_t)((r + p) % 4);
      bf[r] = (double)r;
    }
    big[p] = hp_table_new();
    CHECK_EQ(hp_table_add_column(big[p], "f", HP_FLOAT64, bf, NR), HP_OK);
    CHECK_EQ(hp_table_add_dict_column(big[p], "n", bc, NR, names, 4), HP_OK);
  }
  CHECK_OK(hp__value_concat((const hp_value *const *)big, NP, &o, &err),
           &err);
  CHECK_EQ(hp_value_rows(o), NP * NR);
  CHECK_STR_EQ(hp_table_str(o, 1, NR + 1), "y");
  hp_value_free(o);
  for (size_t p = 0; p < NP; p++)
    hp_value_free(big[p]);
  free(bc);
  free(bf);

  hp_value_free(arr);
  hp_value_free(arr2);
  hp_value_free(arr3);
  hp_value_free(arr4);
  hp_value_free(g);
  hp_value_free(w);
  hp_value_free(x);
  hp_value_free(y);
  hp_value_free(z);
  hp_value_free(a);
  hp_value_free(b);
  hp_value_free(t);
}

/* mem.h: `hpcpipe run` asks for transparent huge pages by running itself
 * again with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES, only where
 * the kernel gives them on request, and not when told not to. This test
 * runs itself as the child (--hugepages-child), which reports the
 * variable after the call. */
static const char *child_tunables(const char *env) {
  static char out[512];
  char cmd[600];
  snprintf(cmd, sizeof cmd,
           "env -u LD_PRELOAD -u GLIBC_TUNABLES -u HPCPIPE_HUGEPAGES %s "
           "/proc/%ld/exe --hugepages-child",
           env, (long)getpid());
  FILE *p = popen(cmd, "r");
  out[0] = 0;
  if (p) {
    if (!fgets(out, sizeof out, p)) out[0] = 0;
    pclose(p);
  }
  out[strcspn(out, "\n")] = 0;
  return out;
}

static void test_hugepages(void) {
  char mode[128] = "";
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (f) {
    if (!fgets(mode, sizeof mode, f)) mode[0] = 0;
    fclose(f);
  }
  int asks = !HP_SANITIZED && strstr(mode, "[madvise]") != NULL;
  CASE("run asks for huge pages where the kernel gives them on request");
  CHECK_STR_EQ(child_tunables(""),
               asks ? "glibc.malloc.hugetlb=1" : "(unset)");
  CHECK_STR_EQ(child_tunables("GLIBC_TUNABLES=glibc.malloc.arena_max=2"),
               asks ? "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
                    : "glibc.malloc.arena_max=2");
  CASE("HPCPIPE_HUGEPAGES=0 and a user's own setting are left alone");
  CHECK_STR_EQ(child_tunables("HPCPIPE_HUGEPAGES=0"), "(unset)");
  CHECK_STR_EQ(child_tunables("GLIBC_TUNABLES=glibc.malloc.hugetlb=0"),
               "glibc.malloc.hugetlb=0");
  CHECK_STR_EQ(child_tunables("LD_PRELOAD="), "(unset)");
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--hugepages-child") == 0) {
    hp__mem_hugepages_exec(argv);
    const char *t = getenv("GLIBC_TUNABLES");
    printf("%s\n", t ? t : "(unset)");
    return 0;
  }
  test_hugepages();
  test_table();
  test_array();
  test_group();
  test_pack();
  test_timestamps();
  test_nulls();
  test_dict();
  test_select();
  test_concat();
  fprintf(stderr, "test_value: ok\n");
  return 0;
}
