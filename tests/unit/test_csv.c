/*
 * test_csv.c - CSV reading and writing: type inference, given types,
 * RFC 4180 quoting, line endings, write -> read round trips, errors with
 * file and line, atomic writes, and parse throughput (HP_BENCH_MB sets the
 * size of the generated file, 8 MB by default).
 */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "tmpdir.h"
#include "csv.h"
#include "pool.h"
#include "tree.h"
#include "value.h"


static void put_file(const char *name, const char *text) {
  FILE *f = fopen(in_dir(name), "wb");
  CHECK(f != NULL);
  fwrite(text, 1, strlen(text), f);
  fclose(f);
}

static char *get_file(const char *name) {
  FILE *f = fopen(in_dir(name), "rb");
  CHECK(f != NULL);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* A `columns:` mapping of one column. */
typedef struct one_type {
  hp_tree k, v, *keys[1], *items[1], map;
} one_type;

/* A `columns:` mapping of two columns. */
typedef struct two_types {
  hp_tree k[2], v[2], *keys[2], *items[2], map;
} two_types;

static const hp_tree *types2(two_types *o, const char *c0, const char *t0,
                             const char *c1, const char *t1) {
  memset(o, 0, sizeof *o);
  const char *kv[4] = {c0, t0, c1, t1};
  for (int i = 0; i < 2; i++) {
    o->k[i].kind = o->v[i].kind = HP_TREE_SCALAR;
    o->k[i].text = (char *)kv[2 * i];
    o->v[i].text = (char *)kv[2 * i + 1];
    o->keys[i] = &o->k[i];
    o->items[i] = &o->v[i];
  }
  o->map.kind = HP_TREE_MAP;
  o->map.n = 2;
  o->map.keys = o->keys;
  o->map.items = o->items;
  return &o->map;
}

static const hp_tree *types1(one_type *o, const char *col, const char *type) {
  memset(o, 0, sizeof *o);
  o->k.kind = o->v.kind = HP_TREE_SCALAR;
  o->k.text = (char *)col;
  o->v.text = (char *)type;
  o->keys[0] = &o->k;
  o->items[0] = &o->v;
  o->map.kind = HP_TREE_MAP;
  o->map.n = 1;
  o->map.keys = o->keys;
  o->map.items = o->items;
  return &o->map;
}

static hp_value *read_text(const char *text, const hp_csv_opts *o) {
  put_file("in.csv", text);
  hp_value *t = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__csv_read(in_dir("in.csv"), o, &t, &err), &err);
  return t;
}

/* The error message hp__csv_read gives for text. */
static const char *read_error(const char *text, const hp_csv_opts *o,
                              int code) {
  static hp_error err;
  put_file("bad.csv", text);
  hp__error_clear(&err);
  hp_value *t = (hp_value *)1;
  CHECK_EQ(hp__csv_read(in_dir("bad.csv"), o, &t, &err), code);
  CHECK(t == NULL);
  CHECK(strstr(err.msg, "bad.csv") != NULL);
  return err.msg;
}

static double num(const hp_value *t, size_t col, size_t row) {
  return ((const double *)hp_table_column(t, col))[row];
}

static int64_t inum(const hp_value *t, size_t col, size_t row) {
  return ((const int64_t *)hp_table_column(t, col))[row];
}

static void test_inference(void) {
  CASE("types inferred");
  hp_value *t = read_text("i,f,b,s,m,e,big\n"
                          "1,1.5,true,x,1,,9223372036854775807\n"
                          "-2, 3 ,FALSE,y,2.5,,9223372036854775808\n"
                          "+3,1e3,True,,3,,1\n",
                          NULL);
  CHECK_EQ(hp_value_rows(t), 3);
  CHECK_EQ(hp_table_coltype(t, 0), HP_INT64);
  CHECK_EQ(inum(t, 0, 1), -2);
  CHECK_EQ(inum(t, 0, 2), 3);
  CHECK_EQ(hp_table_coltype(t, 1), HP_FLOAT64);
  CHECK(num(t, 1, 1) == 3.0);
  CHECK(num(t, 1, 2) == 1000.0);
  CHECK_EQ(hp_table_coltype(t, 2), HP_BOOL);
  const uint8_t *b = hp_table_column(t, 2);
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 1);
  CHECK_EQ(hp_table_coltype(t, 3), HP_STRING);
  CHECK_STR_EQ(hp_table_str(t, 3, 2), "");
  CHECK_EQ(hp_table_coltype(t, 4), HP_FLOAT64); /* int + float */
  CHECK(num(t, 4, 1) == 2.5);
  CHECK_EQ(hp_table_coltype(t, 5), HP_FLOAT64); /* all empty: NaN */
  CHECK(isnan(num(t, 5, 0)));
  CHECK_EQ(hp_table_coltype(t, 6), HP_FLOAT64); /* int64 overflow */
  hp_value_free(t);

  CASE("types widen across blocks of rows");
  hp_buf txt = {0};
  hp__buf_puts(&txt, "i,f,s,e\n");
  for (int r = 0; r < 5000; r++)
    hp__buf_printf(&txt, "%d,%d%s,%s,%s\n", r, r, r == 4999 ? ".5" : "",
                   r == 4500 ? "x" : "7", r == 3000 ? "" : "true");
  t = read_text(txt.data, NULL);
  hp__buf_free(&txt);
  CHECK_EQ(hp_table_coltype(t, 0), HP_INT64);
  CHECK_EQ(inum(t, 0, 4999), 4999);
  CHECK_EQ(hp_table_coltype(t, 1), HP_FLOAT64);
  CHECK(num(t, 1, 10) == 10.0 && num(t, 1, 4999) == 4999.5);
  CHECK_EQ(hp_table_coltype(t, 2), HP_STRING);
  CHECK_STR_EQ(hp_table_str(t, 2, 4500), "x");
  CHECK_STR_EQ(hp_table_str(t, 2, 0), "7");
  CHECK_EQ(hp_table_coltype(t, 3), HP_BOOL); /* the empty field is null */
  CHECK(hp_table_valid(t, 3) && !hp_table_valid(t, 3)[3000]);
  CHECK(hp_table_valid(t, 3)[2999] && hp_table_valid(t, 3)[3001]);
  hp_value_free(t);

  CASE("empty numeric fields are NaN");
  t = read_text("a,b\n1,x\n,y\n3,z\n", NULL);
  CHECK_EQ(hp_table_coltype(t, 0), HP_FLOAT64);
  CHECK(isnan(num(t, 0, 1)));
  CHECK(num(t, 0, 2) == 3.0);
  hp_value_free(t);

  CASE("an integer -0 keeps its sign when the column becomes float");
  t = read_text("x\n-0\n0\n1.5\n", NULL);
  CHECK_EQ(hp_table_coltype(t, 0), HP_FLOAT64);
  CHECK(num(t, 0, 0) == 0.0 && signbit(num(t, 0, 0)));
  CHECK(num(t, 0, 1) == 0.0 && !signbit(num(t, 0, 1)));
  hp_value_free(t);

  CASE("numbers parse exactly");
  t = read_text("x\n0.1\n-0.0\n1.7976931348623157e308\n4.9e-324\n"
                "123456789012345678901234\n0.30000000000000004\nnan\n-inf\n"
                "2.2250738585072011e-308\n.5\n5.\n1E-7\n",
                NULL);
  CHECK_EQ(hp_table_coltype(t, 0), HP_FLOAT64);
  CHECK(num(t, 0, 0) == 0.1);
  CHECK(num(t, 0, 1) == 0.0 && signbit(num(t, 0, 1)));
  CHECK(num(t, 0, 2) == 1.7976931348623157e308);
  CHECK(num(t, 0, 3) == 4.9e-324);
  CHECK(num(t, 0, 4) == 123456789012345678901234.0);
  CHECK(num(t, 0, 5) == 0.30000000000000004);
  CHECK(isnan(num(t, 0, 6)));
  CHECK(isinf(num(t, 0, 7)) && num(t, 0, 7) < 0);
  CHECK(num(t, 0, 8) == 2.2250738585072011e-308);
  CHECK(num(t, 0, 9) == 0.5);
  CHECK(num(t, 0, 10) == 5.0);
  CHECK(num(t, 0, 11) == 1e-7);
  hp_value_free(t);

  CASE("not numbers");
  t = read_text("a,b,c,d\n1x,0x10,1e,.\n2,3,4,5\n", NULL);
  for (size_t c = 0; c < 4; c++)
    CHECK_EQ(hp_table_coltype(t, c), HP_STRING);
  CHECK_STR_EQ(hp_table_str(t, 1, 0), "0x10");
  hp_value_free(t);

  CASE("header names");
  t = read_text("a,,a,a\n1,2,3,4\n", NULL);
  CHECK_STR_EQ(hp_table_colname(t, 0), "a");
  CHECK_STR_EQ(hp_table_colname(t, 1), "Unnamed: 1");
  CHECK_STR_EQ(hp_table_colname(t, 2), "a.1");
  CHECK_STR_EQ(hp_table_colname(t, 3), "a.2");
  hp_value_free(t);
}

static void test_quoting(void) {
  CASE("quoting and line endings");
  hp_value *t = read_text("\xEF\xBB\xBF\"na,me\",v\r\n"
                          "\"a \"\"quoted\"\" word\",1\r\n"
                          "\"multi\r\nline\n\",2\r\n"
                          "\r\n"
                          "plain \"inner\" quote,3\r\n"
                          "\"\",4\r\n"
                          "\"x\"tail,5",
                          NULL);
  CHECK_STR_EQ(hp_table_colname(t, 0), "na,me");
  CHECK_EQ(hp_value_rows(t), 5);
  CHECK_STR_EQ(hp_table_str(t, 0, 0), "a \"quoted\" word");
  CHECK_STR_EQ(hp_table_str(t, 0, 1), "multi\r\nline\n");
  CHECK_STR_EQ(hp_table_str(t, 0, 2), "plain \"inner\" quote");
  CHECK_STR_EQ(hp_table_str(t, 0, 3), "");
  CHECK_STR_EQ(hp_table_str(t, 0, 4), "xtail");
  CHECK_EQ(hp_table_coltype(t, 1), HP_INT64);
  CHECK_EQ(inum(t, 1, 4), 5);
  hp_value_free(t);

  CASE("separator option");
  hp_csv_opts o = {.sep = ';'};
  t = read_text("a;b\n1,5;x\n", &o);
  CHECK_EQ(hp_table_ncols(t), 2);
  CHECK_STR_EQ(hp_table_str(t, 0, 0), "1,5");
  hp_value_free(t);
  o.sep = '\t';
  t = read_text("a\tb\n1\t2\n", &o);
  CHECK_EQ(inum(t, 1, 0), 2);
  hp_value_free(t);

  CASE("a projection reads only the named columns, in file order");
  const char *pc[] = {"d", "b"};
  hp_csv_opts po = {.sep = ',', .cols = pc, .ncols = 2, .project = 1};
  /* 'a' and 'c' are not read: their unparsable text is no error */
  t = read_text("a,b,c,d\nx,1,\"q\",2.5\ny,3,,4\n", &po);
  CHECK_EQ(hp_table_ncols(t), 2);
  CHECK_STR_EQ(hp_table_colname(t, 0), "b");
  CHECK_STR_EQ(hp_table_colname(t, 1), "d");
  CHECK_EQ(hp_value_rows(t), 2);
  CHECK_EQ(inum(t, 0, 1), 3);
  CHECK(num(t, 1, 0) == 2.5);
  hp_value_free(t);
  po.ncols = 0; /* none named: the first column, for the row count */
  t = read_text("a,b\n1,x\n2,y\n3,z\n", &po);
  CHECK_EQ(hp_table_ncols(t), 1);
  CHECK_STR_EQ(hp_table_colname(t, 0), "a");
  CHECK_EQ(hp_value_rows(t), 3);
  hp_value_free(t);
  /* a column of a given type is read (and checked) all the same */
  one_type pm;
  po.types = types1(&pm, "b", "int64");
  CHECK(strstr(read_error("a,b\n1,2\n3,zz\n", &po, HP_EIO),
               "bad.csv:3: column 'b': cannot read 'zz' as int64") != NULL);
  t = read_text("a,b,c\n1,2,x\n", &po);
  CHECK_EQ(hp_table_ncols(t), 2);
  CHECK_STR_EQ(hp_table_colname(t, 1), "b");
  hp_value_free(t);
  po.types = NULL;
  po.ncols = 2; /* a ragged row is still found */
  CHECK(strstr(read_error("a,b,c,d\n1,2,3,4\n1,2,3\n", &po, HP_EIO),
               "bad.csv:3: row has 3 fields, expected 4") != NULL);

  CASE("long records: quotes and NULs past the first 16 bytes");
  t = read_text("a,b,c\n"
                "0123456789,0123456789,\"q,x\"\n"
                "0123456789012345678,x,\"y\"\"z\"\n"
                "short,0123456789abcdef0123,w\n",
                NULL);
  CHECK_EQ(hp_value_rows(t), 3);
  CHECK_STR_EQ(hp_table_str(t, 2, 0), "q,x");
  CHECK_STR_EQ(hp_table_str(t, 2, 1), "y\"z");
  CHECK_STR_EQ(hp_table_str(t, 1, 2), "0123456789abcdef0123");
  CHECK_STR_EQ(hp_table_str(t, 0, 1), "0123456789012345678");
  hp_value_free(t);
  hp_error e2 = HP_ERROR_INIT;
  static const char nul[] = "a,b\n0123456789abcdef,x\0y\n1,2\n";
  CHECK_OK(hp__csv_parse("nul.csv", nul, sizeof nul - 1, NULL, &t, &e2), &e2);
  CHECK_EQ(hp_value_rows(t), 2);
  CHECK_EQ(hp_table_str(t, 1, 0)[1], '\0'); /* a NUL is data */
  hp_value_free(t);

  CASE("header only, trailing blank lines");
  t = read_text("a,b\n", NULL);
  CHECK_EQ(hp_table_ncols(t), 2);
  CHECK_EQ(hp_value_rows(t), 0);
  CHECK_EQ(hp_table_coltype(t, 0), HP_STRING);
  hp_value_free(t);
  t = read_text("a\n1\n\n\n", NULL);
  CHECK_EQ(hp_value_rows(t), 1);
  hp_value_free(t);
}

static void test_errors(void) {
  CASE("read errors");
  hp_error err = HP_ERROR_INIT;
  hp_value *t = NULL;
  CHECK_EQ(hp__csv_read(in_dir("none.csv"), NULL, &t, &err), HP_EIO);
  CHECK_CONTAINS(err.msg, "none.csv");
  CHECK_CONTAINS(err.msg, "No such file");
  CHECK_CONTAINS(read_error("", NULL, HP_EIO), "bad.csv:1: no header line");
  CHECK_CONTAINS(read_error("\n\n", NULL, HP_EIO), "no header line");
  CHECK_CONTAINS(read_error("a,b\n1,2\n3\n", NULL, HP_EIO),
                 "bad.csv:3: row has 1 field, expected 2");
  CHECK_CONTAINS(read_error("a,b\n\"x\ny\",1\n1,2,3\n", NULL, HP_EIO),
                 "bad.csv:4: row has 3 fields, expected 2");
  CHECK_CONTAINS(read_error("a,b\n1,2\n\"open,3\n4,5\n", NULL, HP_EIO),
                 "bad.csv:3: unterminated quote");
  CHECK_CONTAINS(read_error("a,b\n1,2\n0123456789,0123456789,0123456789,"
                            "\"q\"\n",
                            NULL, HP_EIO),
                 "bad.csv:3: row has 4 fields, expected 2");
  CHECK_CONTAINS(read_error("a,b,c\n1,2,3\nx,y,z,w,v\n", NULL, HP_EIO),
                 "bad.csv:3: row has 5 fields, expected 3");

  CASE("given types");
  char ka[] = "a", kb[] = "b", kc[] = "c", tf[] = "float64", ts[] = "string",
       ti[] = "int64", tbad[] = "int", tb[] = "bool";
  hp_tree k1 = {.kind = HP_TREE_SCALAR, .text = ka};
  hp_tree v1 = {.kind = HP_TREE_SCALAR, .text = tf};
  hp_tree k2 = {.kind = HP_TREE_SCALAR, .text = kb};
  hp_tree v2 = {.kind = HP_TREE_SCALAR, .text = ts};
  hp_tree k3 = {.kind = HP_TREE_SCALAR, .text = kc};
  hp_tree v3 = {.kind = HP_TREE_SCALAR, .text = ti};
  hp_tree *keys[] = {&k1, &k2, &k3}, *items[] = {&v1, &v2, &v3};
  hp_tree map = {.kind = HP_TREE_MAP, .n = 3, .keys = keys, .items = items};
  hp_csv_opts o = {.sep = ',', .types = &map};
  t = read_text("a,b,c\n1,2,3\n4,05,6\n", &o);
  CHECK_EQ(hp_table_coltype(t, 0), HP_FLOAT64);
  CHECK_EQ(hp_table_coltype(t, 1), HP_STRING);
  CHECK_STR_EQ(hp_table_str(t, 1, 1), "05");
  CHECK_EQ(hp_table_coltype(t, 2), HP_INT64);
  hp_value_free(t);
  /* bad values, and with two mistakes the first in file order, whichever
   * column or kind */
  static const char *const typed_bad[][2] = {
      {"a,b,c\n1,2,3\n4,5,6.5\n",
       "bad.csv:3: column 'c': cannot read '6.5' as int64"},
      {"a,b,c\n1,2,x\n", "bad.csv:2: column 'c': cannot read 'x' as int64"},
      {"a,b,c\n1,2,3\nx,2,4\n1,2,y\n",
       "bad.csv:3: column 'a': cannot read 'x' as float64"},
      {"a,b,c\n1,2,3\n1,2,y\nx,2,4\n",
       "bad.csv:3: column 'c': cannot read 'y' as int64"},
      {"a,b,c\n1,2,y\n1,2,3,4\n",
       "bad.csv:2: column 'c': cannot read 'y' as int64"},
      {"a,b,c\n1,2,3,4\n1,2,y\n", "bad.csv:2: row has 4 fields, expected 3"}};
  for (size_t i = 0; i < sizeof typed_bad / sizeof *typed_bad; i++)
    CHECK_CONTAINS(read_error(typed_bad[i][0], &o, HP_EIO), typed_bad[i][1]);
  CHECK_CONTAINS(read_error("a,b\n1,2\n", &o, HP_EIO),
                 "column 'c' (from columns:) is not in the header");
  v3.text = tbad;
  CHECK_CONTAINS(read_error("a,b,c\n1,2,3\n", &o, HP_EINVAL),
                 "column 'c': unknown type 'int'");
  v3.text = tb;
  t = read_text("a,b,c\n1,2,TRUE\n", &o);
  CHECK_EQ(hp_table_coltype(t, 2), HP_BOOL);
  hp_value_free(t);
  hp_tree null = {.kind = HP_TREE_NULL};
  o.types = &null;
  t = read_text("a\n1\n", &o);
  CHECK_EQ(hp_table_coltype(t, 0), HP_INT64);
  hp_value_free(t);
}

/* Random files of CSV-ish bytes: each read succeeds or fails cleanly. */
static void test_noise(void) {
  CASE("random input");
  static const char alphabet[] = ",\"\n\r a1.e-\0t";
  uint64_t st = 12345;
  char text[64];
  for (int it = 0; it < 3000; it++) {
    size_t n = (size_t)(it % 48);
    for (size_t i = 0; i < n; i++) {
      st = st * 6364136223846793005ULL + 1442695040888963407ULL;
      text[i] = alphabet[(st >> 33) % (sizeof alphabet - 1)];
    }
    FILE *f = fopen(in_dir("noise.csv"), "wb");
    fwrite(text, 1, n, f);
    fclose(f);
    hp_error err = HP_ERROR_INIT;
    hp_value *t = NULL;
    int rc = hp__csv_read(in_dir("noise.csv"), NULL, &t, &err);
    CHECK(rc == HP_OK || rc == HP_EIO);
    CHECK((rc == HP_OK) == (t != NULL));
    hp_value_free(t);
  }
}

static hp_value *mixed_table(void) {
  hp_value *t = hp_table_new();
  int64_t iv[] = {0, -1, INT64_MIN, INT64_MAX, 42};
  double fv[] = {0.1, -0.0, NAN, 1e300, 3.0};
  uint8_t bv[] = {1, 0, 0, 1, 1};
  const char *sv[] = {"plain", "with,comma", "with \"quote\"", "two\nlines",
                      ""};
  CHECK_EQ(hp_table_add_column(t, "i", HP_INT64, iv, 5), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "f", HP_FLOAT64, fv, 5), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "b", HP_BOOL, bv, 5), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "s,\"x\"", HP_STRING, sv, 5), HP_OK);
  return t;
}

static void test_write(void) {
  CASE("write -> read round trip");
  hp_error err = HP_ERROR_INIT;
  hp_value *t = mixed_table();
  CHECK_OK(hp__csv_write(in_dir("out/sub/rt.csv"), t, NULL, &err), &err);
  CHECK_STR_EQ(get_file("out/sub/rt.csv"),
               "i,f,b,\"s,\"\"x\"\"\"\n"
               "0,0.1,true,plain\n"
               "-1,-0.0,false,\"with,comma\"\n"
               "-9223372036854775808,,false,\"with \"\"quote\"\"\"\n"
               "9223372036854775807,1e+300,true,\"two\nlines\"\n"
               "42,3.0,true,\n");
  hp_value *u = NULL;
  CHECK_OK(hp__csv_read(in_dir("out/sub/rt.csv"), NULL, &u, &err), &err);
  /* the empty string comes back as a null, as pandas reads it */
  const uint8_t *uv = hp_table_valid(u, 3);
  CHECK(uv && uv[4] == 0 && uv[0] && uv[1] && uv[2] && uv[3]);
  CHECK(!hp__value_equal(t, u));
  uint8_t valid[] = {1, 1, 1, 1, 0};
  CHECK_EQ(hp_table_set_valid(t, 3, valid), HP_OK);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);

  CASE("round trip with another separator");
  hp_csv_opts o = {.sep = ';'};
  CHECK_OK(hp__csv_write(in_dir("rt2.csv"), t, &o, &err), &err);
  CHECK_OK(hp__csv_read(in_dir("rt2.csv"), &o, &u, &err), &err);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);

  CASE("shortest float text");
  double fv[] = {0.1 + 0.2, 1.0 / 3.0, 5e-324, 123456789.0, 1e22, 0.5};
  t = hp_table_new();
  CHECK_EQ(hp_table_add_column(t, "x", HP_FLOAT64, fv, 6), HP_OK);
  CHECK_OK(hp__csv_write(in_dir("f.csv"), t, NULL, &err), &err);
  CHECK_STR_EQ(get_file("f.csv"), "x\n0.30000000000000004\n"
                                  "0.3333333333333333\n5e-324\n"
                                  "123456789.0\n1e+22\n0.5\n");
  CHECK_OK(hp__csv_read(in_dir("f.csv"), NULL, &u, &err), &err);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);

  CASE("float text matches the printf rule");
  size_t nr = 20000;
  double *rv = malloc(nr * sizeof *rv);
  uint64_t st = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < nr; i++) {
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    double m = (double)(st >> 11) / 9007199254740992.0;
    int e = (int)(st % 40) - 20;
    double x = m * pow(10.0, e);
    if (i % 3 == 0) /* short decimals */
      x = round(x * 1000.0) / 1000.0;
    if (i % 5 == 0) x = -x;
    rv[i] = x;
  }
  t = hp_table_new();
  CHECK_EQ(hp_table_add_column(t, "x", HP_FLOAT64, rv, nr), HP_OK);
  CHECK_OK(hp__csv_write(in_dir("r.csv"), t, NULL, &err), &err);
  FILE *rf = fopen(in_dir("r.csv"), "r");
  char line[64], ref[64];
  CHECK(fgets(line, sizeof line, rf) != NULL);
  for (size_t i = 0; i < nr; i++) {
    CHECK(fgets(line, sizeof line, rf) != NULL);
    line[strcspn(line, "\n")] = '\0';
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(ref, sizeof ref, "%.*g", prec, rv[i]);
      if (strtod(ref, NULL) == rv[i]) break;
    }
    if (!strpbrk(ref, ".e")) strcat(ref, ".0");
    CHECK_STR_EQ(line, ref);
  }
  fclose(rf);
  free(rv);
  hp_value_free(t);

  CASE("numbers read bit for bit as strtod reads them");
  /* random doubles at 15 to 19 significant digits and random decimal
   * texts of 1 to 20 digits with exponents around the fast paths' limits
   * (Clinger's, Eisel-Lemire's, up to eight digits at a time) */
  size_t nt = 300000;
  FILE *tf = fopen(in_dir("texts.csv"), "w");
  CHECK(tf != NULL);
  fputs("x\n", tf);
  char **texts = malloc(nt * sizeof *texts);
  /* halfway cases (round to even), the ends of the 128-bit path's range
   * (10^-27, 10^27), carries into a new binary digit, > 19 digits */
  static const char *const hard[] = {
      "9007199254740993", "9007199254740995", "9007199254740993.0000000001",
      "4503599627370496.5", "4503599627370497.5", "9999999999999999999",
      "18446744073709551615", "1e27", "1e-27", "9.999999999999999e26",
      "1.0000000000000002e-27", "1.7976931348623157e308",
      "2.2250738585072014e-308", "4.9406564584124654e-324",
      "0.99999999999999989", "1.0000000000000002", "0.30000000000000004",
      "7.2057594037927933e16", "123456789012345678", "-0.1234567",
      "0.000000000000000000000000000123456789012345678"};
  size_t nhard = sizeof hard / sizeof *hard;
  for (size_t i = 0; i < nt; i++) {
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    char b[80];
    if (i % 2 == 0) {
      double x;
      uint64_t bits = st & 0x7FFFFFFFFFFFFFFFULL;
      memcpy(&x, &bits, 8);
      if (!isfinite(x) || i % 4 == 0) /* also ordinary magnitudes */
        x = (double)(st >> 11) / 9007199254740992.0 *
            pow(10.0, (double)((int)(st % 61) - 30));
      snprintf(b, sizeof b, "%.*g", 15 + (int)(st % 5), i % 8 == 2 ? -x : x);
    } else {
      int nd = 1 + (int)(st % 20), dot = (int)((st >> 8) % (unsigned)(nd + 1));
      size_t k = 0;
      uint64_t d = st * 0x2545F4914F6CDD1DULL;
      if (st & 0x100000) b[k++] = '-';
      for (int j = 0; j < nd; j++) {
        if (j == dot && j) b[k++] = '.';
        b[k++] = (char)('0' + (d >> 60) % 10);
        d = d * 6364136223846793005ULL + 1442695040888963407ULL;
      }
      if (st & 0x200000)
        k += (size_t)snprintf(b + k, sizeof b - k, "e%d",
                              (int)((st >> 24) % 71) - 35);
      b[k] = '\0';
    }
    if (i < nhard) snprintf(b, sizeof b, "%s", hard[i]);
    texts[i] = strdup(b);
    fprintf(tf, "%s\n", b);
  }
  fclose(tf);
  CHECK_OK(hp__csv_read(in_dir("texts.csv"), NULL, &u, &err), &err);
  CHECK_EQ(hp_table_coltype(u, 0), HP_FLOAT64);
  size_t wrong = 0;
  for (size_t i = 0; i < nt; i++) {
    double want = strtod(texts[i], NULL), got = num(u, 0, i);
    if (memcmp(&want, &got, 8) != 0 && wrong++ < 5)
      fprintf(stderr, "  '%s' read as %.17g, strtod gives %.17g\n", texts[i],
              got, want);
    free(texts[i]);
  }
  CHECK_EQ(wrong, 0);
  free(texts);
  hp_value_free(u);

  CASE("single column with empty values");
  const char *sv[] = {"a", "", "b"};
  t = hp_table_new();
  CHECK_EQ(hp_table_add_column(t, "s", HP_STRING, sv, 3), HP_OK);
  CHECK_OK(hp__csv_write(in_dir("one.csv"), t, NULL, &err), &err);
  CHECK_STR_EQ(get_file("one.csv"), "s\na\n\"\"\nb\n");
  CHECK_OK(hp__csv_read(in_dir("one.csv"), NULL, &u, &err), &err);
  uint8_t one_valid[] = {1, 0, 1}; /* "" reads as a null, as in pandas */
  CHECK_EQ(hp_table_set_valid(t, 0, one_valid), HP_OK);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);

  CASE("empty table");
  t = hp_table_new();
  CHECK_EQ(hp_table_add_column(t, "a", HP_STRING, NULL, 0), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "b", HP_STRING, NULL, 0), HP_OK);
  CHECK_OK(hp__csv_write(in_dir("e.csv"), t, NULL, &err), &err);
  CHECK_STR_EQ(get_file("e.csv"), "a,b\n");
  CHECK_OK(hp__csv_read(in_dir("e.csv"), NULL, &u, &err), &err);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);

  CASE("write errors");
  hp_value *g = hp_group_new();
  CHECK_EQ(hp__csv_write(in_dir("g.csv"), g, NULL, &err), HP_EINVAL);
  hp__error_clear(&err);
  hp_value_free(g);
  t = mixed_table();
  CHECK_EQ(hp__csv_write(in_dir("one.csv/x.csv"), t, NULL, &err), HP_EIO);
  CHECK_CONTAINS(err.msg, "one.csv/x.csv");
  hp__error_clear(&err);
  CHECK_EQ(mkdir(in_dir("adir.csv"), 0755), 0);
  CHECK_EQ(hp__csv_write(in_dir("adir.csv"), t, NULL, &err), HP_EIO);
  CHECK_CONTAINS(err.msg, "adir.csv: ");
  hp__error_clear(&err);
  hp_value_free(t);
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d)))
    CHECK(strstr(e->d_name, ".tmp.") == NULL);
  closedir(d);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_speed(void) {
  CASE("parse throughput");
  const char *env = getenv("HP_BENCH_MB");
  double want = env ? atof(env) : 8.0;
  FILE *f = fopen(in_dir("big.csv"), "wb");
  CHECK(f != NULL);
  fputs("id,a,b,c,d,flag\n", f);
  size_t bytes = 0, rows = 0;
  uint64_t s = 88172645463325252ULL;
  char line[256];
  while ((double)bytes < want * 1e6) {
    double v[4];
    for (int i = 0; i < 4; i++) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      v[i] = (double)(s >> 11) / 9007199254740992.0 * 2000.0 - 1000.0;
    }
    int n = snprintf(line, sizeof line, "%zu,%.6f,%.3f,%.10g,%g,%s\n", rows,
                     v[0], v[1], v[2], v[3], rows % 2 ? "true" : "false");
    fwrite(line, 1, (size_t)n, f);
    bytes += (size_t)n;
    rows++;
  }
  fclose(f);
  hp_error err = HP_ERROR_INIT;
  hp_value *t = NULL;
  double t0 = now();
  CHECK_OK(hp__csv_read(in_dir("big.csv"), NULL, &t, &err), &err);
  double t1 = now();
  CHECK_EQ(hp_value_rows(t), rows);
  CHECK_EQ(hp_table_coltype(t, 0), HP_INT64);
  CHECK_EQ(hp_table_coltype(t, 1), HP_FLOAT64);
  CHECK_EQ(hp_table_coltype(t, 5), HP_BOOL);
  CHECK_OK(hp__csv_write(in_dir("big2.csv"), t, NULL, &err), &err);
  double t2 = now();
  fprintf(stderr, "  %.0f MB, %zu rows: read %.0f MB/s, write %.0f MB/s\n",
          (double)bytes / 1e6, rows, (double)bytes / 1e6 / (t1 - t0),
          (double)bytes / 1e6 / (t2 - t1));
  hp_value *u = NULL;
  CHECK_OK(hp__csv_read(in_dir("big2.csv"), NULL, &u, &err), &err);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);
}


static void test_timestamps_nulls(void) {
  CASE("timestamp columns");
  one_type ot;
  hp_csv_opts o = {.sep = ',', .types = types1(&ot, "t", "timestamp")};
  hp_value *t = read_text("t,v\n"
                          "2000-01-01,1\n"
                          "2000-01-01 00:00:01,2\n"
                          "2000-01-01T12:00:00.5,3\n"
                          ",4\n"
                          "1969-12-31 23:59:59.000000001,5\n",
                          &o);
  CHECK_EQ(hp_table_coltype(t, 0), HP_TIMESTAMP);
  CHECK(inum(t, 0, 0) == 946684800000000000LL);
  CHECK(inum(t, 0, 1) == 946684801000000000LL);
  CHECK(inum(t, 0, 2) == 946684800000000000LL + 43200500000000LL);
  CHECK(inum(t, 0, 4) == -999999999LL);
  const uint8_t *v = hp_table_valid(t, 0);
  CHECK(v && v[0] && !v[3] && v[4]);
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__csv_write(in_dir("ts.csv"), t, NULL, &err), &err);
  CHECK_STR_EQ(get_file("ts.csv"), "t,v\n"
                                   "2000-01-01 00:00:00,1\n"
                                   "2000-01-01 00:00:01,2\n"
                                   "2000-01-01 12:00:00.500,3\n"
                                   ",4\n"
                                   "1969-12-31 23:59:59.000000001,5\n");
  hp_value *u = NULL;
  CHECK_OK(hp__csv_read(in_dir("ts.csv"), &o, &u, &err), &err);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);

  CASE("timestamps of one day in a row (the date is kept between rows)");
  t = read_text("t,v\n"
                "2000-02-29 23:59:59,1\n"
                "2000-02-29T00:00:00,2\n"
                "2000-02-29 12:34:56,3\n"
                "2000-03-01 00:00:00,4\n"
                "2000-02-29 12:34:56Z,5\n",
                &o);
  CHECK(inum(t, 0, 0) == 951868799000000000LL);
  CHECK(inum(t, 0, 1) == 951782400000000000LL);
  CHECK(inum(t, 0, 2) == 951782400000000000LL + 45296000000000LL);
  CHECK(inum(t, 0, 3) == 951868800000000000LL);
  CHECK(inum(t, 0, 4) == inum(t, 0, 2));
  hp_value_free(t);
  CHECK_CONTAINS(read_error("t\n2000-01-01 10:00:00\n2000-01-01 24:00:00\n",
                            &o, HP_EIO),
                 "bad.csv:3: column 't': cannot read '2000-01-01 24:00:00'");
  CHECK_CONTAINS(read_error("t\n2000-01-01 10:00:00\n2000-01-01 10:60:00\n",
                            &o, HP_EIO),
                 "bad.csv:3: column 't'");
  /* times checked eight bytes at once: every byte position */
  static const char *const bad_times[] = {"1a:00:00", "10:0/:00", "10-00:00",
                                          "10:00:5:", "/0:00:00", "10:00;00",
                                          "10:00:0\x7f", "0;:00:00", "00:0?:00"};
  for (size_t i = 0; i < sizeof bad_times / sizeof *bad_times; i++) {
    char text[80];
    snprintf(text, sizeof text, "t\n2000-01-01 10:00:00\n2000-01-01 %s\n",
             bad_times[i]);
    CHECK_CONTAINS(read_error(text, &o, HP_EIO), "bad.csv:3: column 't'");
  }
  CHECK_CONTAINS(read_error("t\n2000-02-30\n", &o, HP_EIO),
                 "bad.csv:2: column 't': cannot read '2000-02-30' as "
                 "timestamp");
  /* without a type, dates stay strings */
  t = read_text("t\n2000-01-01\n2000-01-02\n", NULL);
  CHECK_EQ(hp_table_coltype(t, 0), HP_STRING);
  hp_value_free(t);

  CASE("empty fields of given types are nulls");
  o.types = types1(&ot, "i", "int64");
  t = read_text("i,b,f,s\n1,true,1.5,x\n,,,\n3,false,,z\n", &o);
  CHECK_EQ(hp_table_coltype(t, 0), HP_INT64);
  CHECK(hp_table_valid(t, 0) && !hp_table_valid(t, 0)[1]);
  CHECK(inum(t, 0, 2) == 3);
  CHECK_EQ(hp_table_coltype(t, 1), HP_BOOL); /* inferred, with a null */
  CHECK(hp_table_valid(t, 1) && !hp_table_valid(t, 1)[1]);
  CHECK_EQ(hp_table_coltype(t, 2), HP_FLOAT64); /* NaN, no mask */
  CHECK(hp_table_valid(t, 2) == NULL && isnan(num(t, 2, 1)));
  CHECK_EQ(hp_table_coltype(t, 3), HP_STRING); /* a null, as in pandas */
  CHECK(hp_table_valid(t, 3) && !hp_table_valid(t, 3)[1] &&
        hp_table_valid(t, 3)[2]);
  CHECK_OK(hp__csv_write(in_dir("nulls.csv"), t, NULL, &err), &err);
  CHECK_STR_EQ(get_file("nulls.csv"),
               "i,b,f,s\n1,true,1.5,x\n,,,\n3,false,,z\n");
  CHECK_OK(hp__csv_read(in_dir("nulls.csv"), &o, &u, &err), &err);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);
  /* an inferred int64 column with an empty field becomes float64 */
  t = read_text("i\n1\n\n", NULL);
  CHECK_EQ(hp_table_coltype(t, 0), HP_INT64);
  hp_value_free(t);
  t = read_text("i,j\n1,2\n,3\n", NULL);
  CHECK_EQ(hp_table_coltype(t, 0), HP_FLOAT64);
  CHECK(isnan(num(t, 0, 1)));
  hp_value_free(t);
  /* empty fields before the first true/false */
  t = read_text("b,j\n,1\n,2\nTRUE,3\n", NULL);
  CHECK_EQ(hp_table_coltype(t, 0), HP_BOOL);
  v = hp_table_valid(t, 0);
  CHECK(v && !v[0] && !v[1] && v[2]);
  CHECK_EQ(((const uint8_t *)hp_table_column(t, 0))[2], 1);
  hp_value_free(t);
  t = read_text("b,j\n,1\ntrue,2\nmaybe,3\n", NULL);
  CHECK_EQ(hp_table_coltype(t, 0), HP_STRING); /* the empty field: null */
  v = hp_table_valid(t, 0);
  CHECK(v && !v[0] && v[1] && v[2]);
  CHECK_STR_EQ(hp_table_str(t, 0, 1), "true");
  hp_value_free(t);

  CASE("a null in a one-column table");
  t = hp_table_new();
  int64_t iv[2] = {5, 0};
  uint8_t m[2] = {1, 0};
  CHECK_EQ(hp_table_add_column(t, "i", HP_INT64, iv, 2), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 0, m), HP_OK);
  CHECK_OK(hp__csv_write(in_dir("one.csv"), t, NULL, &err), &err);
  CHECK_STR_EQ(get_file("one.csv"), "i\n5\n\"\"\n");
  o.types = types1(&ot, "i", "int64");
  CHECK_OK(hp__csv_read(in_dir("one.csv"), &o, &u, &err), &err);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);
}

static void test_dict(void) {
  CASE("low-cardinality strings read as a dictionary");
  hp_buf txt = {0};
  hp__buf_puts(&txt, "name,id,word\n");
  static const char *names[3] = {"Bob", "Alice", "with,comma"};
  for (int r = 0; r < 1000; r++)
    hp__buf_printf(&txt, "%s%s%s,%d,w%d\n", r % 3 == 2 ? "\"" : "",
                   names[r % 3], r % 3 == 2 ? "\"" : "", r, r);
  hp_value *t = read_text(txt.data, NULL);
  hp__buf_free(&txt);
  CHECK_EQ(hp_table_coltype(t, 0), HP_STRING);
  CHECK(hp_table_dict_codes(t, 0) != NULL);
  CHECK_EQ(hp_table_dict_size(t, 0), 3);
  CHECK_STR_EQ(hp_table_dict_str(t, 0, 0), "Bob");
  CHECK_STR_EQ(hp_table_dict_str(t, 0, 2), "with,comma");
  CHECK_STR_EQ(hp_table_str(t, 0, 997), "Alice");
  CHECK(hp_table_dict_codes(t, 2) == NULL); /* every value distinct */
  CHECK_STR_EQ(hp_table_str(t, 2, 998), "w998");

  CASE("a dictionary writes as strings");
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__csv_write(in_dir("dict.csv"), t, NULL, &err), &err);
  static const char head[] =
      "name,id,word\nBob,0,w0\nAlice,1,w1\n\"with,comma\",2,w2\n";
  CHECK(strncmp(get_file("dict.csv"), head, sizeof head - 1) == 0);
  hp_value *u = NULL;
  CHECK_OK(hp__csv_read(in_dir("dict.csv"), NULL, &u, &err), &err);
  CHECK(hp__value_equal(t, u));
  hp_value_free(u);
  hp_value_free(t);

  CASE("a dictionary over several blocks: short, long and empty values");
  static const char *vals[5] = {"ab", "", "a-long-value", "abcdefg",
                                "abcdefgh"};
  hp__buf_puts(&txt, "k,v\n");
  for (int r = 0; r < 9000; r++)
    hp__buf_printf(&txt, "%s,%d\n", vals[(r * 7 + r / 5) % 5], r);
  t = read_text(txt.data, NULL);
  hp__buf_free(&txt);
  CHECK(hp_table_dict_codes(t, 0) != NULL);
  CHECK_EQ(hp_table_dict_size(t, 0), 5);
  const uint8_t *valid = hp_table_valid(t, 0);
  CHECK(valid != NULL);
  int same = 1;
  for (int r = 0; r < 9000; r++) {
    const char *want = vals[(r * 7 + r / 5) % 5];
    same &= (valid[r] != 0) == (want[0] != '\0') &&
            (!valid[r] || strcmp(hp_table_str(t, 0, (size_t)r), want) == 0);
  }
  CHECK(same);
  hp_value_free(t);

  CASE("few rows stay plain");
  t = read_text("s\na\na\na\n", NULL);
  CHECK(hp_table_dict_codes(t, 0) == NULL);
  hp_value_free(t);
  t = read_text("s\na\na\na\na\n", NULL);
  CHECK(hp_table_dict_codes(t, 0) != NULL);
  hp_value_free(t);
}

/* A table's text with '\x01' where separators go, written with sep. */
static char *with_sep(const char *tmpl, char sep) {
  char *t = strdup(tmpl);
  for (char *c = t; *c; c++)
    if (*c == '\x01') *c = sep;
  return t;
}

/* Reads text (separators '\x01') with ',' - rows read by the fused
 * reader - and with '^', which it does not take (every row split first,
 * then converted column by column): the tables must be the same bit for
 * bit, or the errors the same. */
static void same_both_ways(const char *tmpl, const hp_tree *types,
                           const char *want_error) {
  hp_value *t[2] = {NULL, NULL};
  hp_error err[2] = {HP_ERROR_INIT, HP_ERROR_INIT};
  int rc[2];
  for (int k = 0; k < 2; k++) {
    char *text = with_sep(tmpl, k ? '^' : ',');
    put_file("fused.csv", text);
    free(text);
    hp_csv_opts o = {.sep = k ? '^' : ',', .types = types};
    rc[k] = hp__csv_read(in_dir("fused.csv"), &o, &t[k], &err[k]);
  }
  CHECK_EQ(rc[0], rc[1]);
  if (want_error) {
    CHECK_EQ(rc[0], HP_EIO);
    CHECK_STR_EQ(err[0].msg, err[1].msg);
    CHECK_CONTAINS(err[0].msg, want_error);
  } else {
    CHECK_OK(rc[0], &err[0]);
    CHECK(t[0] && t[1] && hp__value_equal(t[0], t[1]));
  }
  hp_value_free(t[0]);
  hp_value_free(t[1]);
}

static void test_fused(void) {
  CASE("rows read at once agree with rows split first");
  /* 20,000 rows: numbers in every form (short and long mantissas,
   * exponents, signs, nan, inf, blanks, empty), quoted strings with
   * separators and line ends inside, bools, timestamps with and without a
   * time, empty fields of given types, CRLF and blank lines, a column
   * that turns from float64 to string in its eighth block (its numbers all
   * read fused) and one from int64 to float64 in its tenth */
  static const char *const names[] = {"Alice", "Bob", "", "Zelda-Zebra",
                                      "\"Ca,rl\"", "\"Dan\nEve\"",
                                      "\"q\"\"uote\"", "\"ab\"cd", "\"\""};
  static const char *const odd[] = {"nan", "-inf", " 1.5", "2.5 ", "+7",
                                    "1e300", "4.9e-324", "", ".5", "5.",
                                    "123456789012345678901234567890",
                                    "0.000000000000000000000000001",
                                    "-0", "1E+2", "12345678.9"};
  hp_buf b = {0};
  hp__buf_puts(&b, "i\x01" "f\x01" "s\x01" "b\x01" "t\x01" "g\x01" "w\x01" "h\n");
  uint64_t st = 99;
  char num[64];
  int blank = 0; /* a blank line before this row */
  for (int r = 0; r < 20000; r++) {
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    double x = (double)(st >> 11) / 9007199254740992.0 * 2 - 1;
    /* quoted fields and blank lines stop the fused reader for a row,
     * near the ends of blocks of 2,048 rows so often that it leaves the
     * rest of the block to the general reader */
    int tail = r % 2048 >= 2000;
    int quoted = (st >> 8) % (tail ? 3 : 60) == 0;
    int form = (int)(st % 11);
    if (form < 4)
      snprintf(num, sizeof num, "%.17g", x);
    else if (form < 6)
      snprintf(num, sizeof num, "%.3f", x * 1000);
    else if (form < 8)
      snprintf(num, sizeof num, "%g", x * 1e-7);
    else if (form < 9)
      snprintf(num, sizeof num, "%.15g", x * 1e12);
    else
      snprintf(num, sizeof num, "%s", odd[(st >> 20) % 15]);
    hp__buf_printf(&b, "%lld\x01%s\x01%s\x01%s\x01", (long long)(st % 2000) - 1000,
                   num, names[quoted ? 4 + (st >> 40) % 5 : (st >> 8) % 4],
                   (st >> 12) % 5 == 0 ? "" : (st >> 12) % 2 ? "true" : "False");
    if ((st >> 16) % 97 == 0)
      hp__buf_puts(&b, "");
    else if ((st >> 16) % 89 == 0)
      hp__buf_printf(&b, "2001-02-%02d", 1 + r % 28);
    else
      hp__buf_printf(&b, "2001-02-%02d %02d:%02d:%02d", 1 + r / 3600 % 28,
                     r / 60 % 24, r % 60, (r * 7) % 60);
    hp__buf_printf(&b, "\x01%s\x01", (st >> 24) % 50 == 0 ? "" : "17");
    if (r == 18500)
      hp__buf_puts(&b, "0.25");
    else
      hp__buf_printf(&b, "%d", r);
    /* empty, numbers (in rows only the fused reader reads), then bools:
     * the column ends as strings, not as bools with the numbers lost */
    hp__buf_puts(&b, r < 2048 || r % 3 == 0 || tail || quoted || blank ? "\x01"
                     : r < 16000             ? "\x01" "2.5"
                                             : "\x01true");
    hp__buf_puts(&b, (st >> 28) % 40 == 0 ? "\r\n" : "\n");
    blank = (st >> 32) % (tail ? 20 : 200) == 0;
    if (blank) hp__buf_puts(&b, "\n");
  }
  static two_types tt;
  const hp_tree *types = types2(&tt, "t", "timestamp", "g", "int64");
  same_both_ways(b.data, types, NULL);

  CASE("a column empty, then numbers read fused, then bools: strings");
  hp_buf hb = {0};
  hp__buf_puts(&hb, "a\x01h\n");
  for (int r = 0; r < 6000; r++)
    hp__buf_printf(&hb, "%d\x01%s\n", r,
                   r < 2048 ? "" : r < 5000 ? "2.5" : "true");
  same_both_ways(hb.data, NULL, NULL);
  hp__buf_free(&hb);

  CASE("quoted last fields, with text after the closing quote");
  hp__buf_puts(&hb, "a\x01s\n");
  for (int r = 0; r < 5000; r++)
    hp__buf_printf(&hb, "%d\x01%s\n", r,
                   r % 7 == 3 ? "\"ab\"x" : r % 5 == 1 ? "\"a\x01b\"" : "\"ab\"");
  same_both_ways(hb.data, NULL, NULL);
  hp__buf_free(&hb);

  CASE("... and report the same errors at the same lines");
  char *bad = strdup(b.data);
  char *at = bad;
  for (int line = 1; line < 15000; line++) /* a field too few */
    at = strchr(at, '\n') + 1;
  char *sep = strchr(at, '\x01');
  *sep = 'x';
  same_both_ways(bad, types, "has 7 fields, expected 8");
  free(bad);
  at = b.data; /* a field too many */
  for (int line = 1; line < 17000; line++)
    at = strchr(at, '\n') + 1;
  at = strchr(at, '\n');
  hp_buf more = {0};
  hp__buf_put(&more, b.data, (size_t)(at - b.data));
  hp__buf_puts(&more, "\x01" "9");
  hp__buf_puts(&more, at);
  same_both_ways(more.data, types, "has 9 fields, expected 8");
  hp__buf_free(&more);
  bad = strdup(b.data);
  at = strstr(bad + b.len / 2, "\x01" "17\x01");
  at[1] = 'z'; /* not an int64 in the given column */
  same_both_ways(bad, types, "cannot read 'z7' as int64");
  /* and a row too short after it in the same block: the value first */
  at = strchr(at, '\n') + 1;
  at = strchr(at, '\n') + 1;
  *strchr(at, '\x01') = 'y';
  same_both_ways(bad, types, "cannot read 'z7' as int64");
  free(bad);
  hp__buf_free(&b);
}

/* A range of records whose read columns all have given number types is
 * parsed in pieces of about 1 MB when the rank has several cores: the
 * same table as the whole file, also when the pieces' cuts fall inside
 * quoted line breaks of a text column that is not read (the range is then
 * parsed whole), and errors on the file's line. */
static void test_pieces(void) {
  CASE("a range parsed in pieces = the whole file, quoted line breaks too");
  setenv("HPCPIPE_THREADS", "3", 1);
  hp__pool_init(1);
  CHECK(hp__pool_cores() == 3);
  hp_buf b = {0};
  hp__buf_puts(&b, "id,v,note\n");
  /* nearly all of a record before its quoted line break: a cut at a line
   * end lands inside the quotes */
  for (int r = 0; r < 60000; r++)
    hp__buf_printf(&b,
                   "%d,%d.25,\"line %d, \"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaaaaaaaa\"\"\nx\"\n",
                   r, r, r);
  put_file("pieces.csv", b.data);
  two_types tt;
  const char *cols[] = {"id", "v"};
  hp_csv_opts o = {.sep = ',',
                   .types = types2(&tt, "id", "int64", "v", "float64"),
                   .cols = cols,
                   .ncols = 2,
                   .project = 1};
  hp_error err = HP_ERROR_INIT;
  hp_value *whole = NULL, *range = NULL;
  CHECK_OK(hp__csv_read(in_dir("pieces.csv"), &o, &whole, &err), &err);
  CHECK_OK(hp__csv_read_range(in_dir("pieces.csv"), &o, 0, (int64_t)b.len,
                              &range, &err),
           &err);
  CHECK_EQ(hp_value_rows(whole), 60000);
  CHECK_EQ(hp_value_rows(range), 60000);
  CHECK_EQ(hp_table_ncols(range), 2);
  for (size_t c = 0; c < 2; c++)
    CHECK(memcmp(hp_table_column(whole, c), hp_table_column(range, c),
                 60000 * 8) == 0);
  CHECK_EQ(inum(range, 0, 59999), 59999);
  CHECK(num(range, 1, 41234) == 41234.25);
  hp_value_free(whole);
  hp_value_free(range);

  CASE("a bad value in a later piece: the file's line");
  hp_buf c = {0};
  hp__buf_puts(&c, "id,v\n");
  for (int r = 0; r < 200000; r++)
    hp__buf_printf(&c, r == 150000 ? "%d,x1\n" : "%d,%d.5\n", r, r);
  put_file("pieces_bad.csv", c.data);
  range = (hp_value *)1;
  CHECK_EQ(hp__csv_read_range(in_dir("pieces_bad.csv"), &o, 0, (int64_t)c.len,
                              &range, &err),
           HP_EIO);
  CHECK(range == NULL);
  CHECK_CONTAINS(err.msg, "pieces_bad.csv:150002: ");
  free(b.data);
  free(c.data);
  unsetenv("HPCPIPE_THREADS");
  hp__pool_init(1);
}

int main(void) {
  tmpdir_make("/tmp/hp_csv_XXXXXX");
  test_inference();
  test_quoting();
  test_errors();
  test_noise();
  test_write();
  test_timestamps_nulls();
  test_dict();
  test_fused();
  test_pieces();
  test_speed();
  tmpdir_remove();
  fprintf(stderr, "test_csv: ok\n");
  return 0;
}
