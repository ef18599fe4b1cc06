/*
 * test_expr.c - the expression language of expr.h: parsing and located
 * syntax errors, typing, arithmetic (Python's floor division and modulo),
 * comparisons on every column type, the dictionary fast path against plain
 * strings, nulls and Kleene logic, type errors, nesting limits, random
 * token soup, and (with HP_EXPR_PERF=1) the 5 M row "count Zelda" timing.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "error.h"
#include "expr.h"
#include "value.h"

#define N      5
#define DAY_NS (86400LL * 1000000000LL)

/* Days from 1970-01-01 to 2000-01-01. */
#define Y2K 10957LL

static hp_value *sample(void) {
  hp_value *t = hp_table_new();
  int64_t i[N] = {7, -7, 3, 0, 5};
  double f[N] = {0.5, -1.5, 2.0, NAN, 10.0};
  uint8_t b[N] = {1, 0, 1, 0, 1};
  const char *s[N] = {"apple", "banana", "cherry", "", "Zelda"};
  int64_t ts[N] = {Y2K * DAY_NS, (Y2K + 4) * DAY_NS,
                   (Y2K + 4) * DAY_NS + DAY_NS / 2, (Y2K + 5) * DAY_NS,
                   (Y2K - 1) * DAY_NS};
  int64_t n[N] = {1, 2, 3, 4, 5};
  uint8_t n_valid[N] = {1, 0, 1, 1, 0};
  uint8_t nb[N] = {1, 0, 1, 0, 1};
  uint8_t nb_valid[N] = {1, 1, 0, 0, 1};
  const char *ns[N] = {"x", "y", "z", "x", "y"};
  uint8_t ns_valid[N] = {1, 1, 0, 1, 1};
  int32_t codes[N] = {2, 0, 1, 2, 3};
  const char *dict[4] = {"Link", "Zelda", "Ganon", "Epona"};
  CHECK_EQ(hp_table_add_column(t, "i", HP_INT64, i, N), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "f", HP_FLOAT64, f, N), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "b", HP_BOOL, b, N), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "s", HP_STRING, s, N), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "ts", HP_TIMESTAMP, ts, N), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "n", HP_INT64, n, N), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 5, n_valid), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "nb", HP_BOOL, nb, N), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 6, nb_valid), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "ns", HP_STRING, ns, N), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 7, ns_valid), HP_OK);
  CHECK_EQ(hp_table_add_dict_column(t, "name", codes, N, dict, 4), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "odd name", HP_INT64, i, N), HP_OK);
  return t;
}

static hp_expr *parse_ok(const char *text) {
  hp_expr *e = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__expr_parse(text, &e, &err), &err);
  CHECK(e != NULL);
  return e;
}

static hp_value *eval_ok(const hp_value *t, const char *text) {
  hp_expr *e = parse_ok(text);
  hp_value *v = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__expr_eval(e, t, &v, &err), &err);
  hp__expr_free(e);
  CHECK(v != NULL);
  CHECK_EQ(hp_table_ncols(v), 1);
  CHECK_STR_EQ(hp_table_colname(v, 0), "value");
  CHECK_EQ(hp_value_rows(v), hp_value_rows(t));
  return v;
}

/* want: one character per row, '1'/'0' (or '.' for null in valid checks). */
static void check_mask(const hp_value *t, const char *text, const char *want) {
  hp_expr *e = parse_ok(text);
  uint8_t *m = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__expr_mask(e, t, &m, &err), &err);
  hp__expr_free(e);
  char got[64] = {0};
  for (size_t r = 0; r < hp_value_rows(t); r++)
    got[r] = m[r] ? '1' : '0';
  free(m);
  if (strcmp(got, want) != 0) fprintf(stderr, "mask of %s\n", text);
  CHECK_STR_EQ(got, want);
}

/* Validity of the result as a string of '1'/'0'. */
static void valid_str(const hp_value *v, char *out) {
  const uint8_t *va = hp_table_valid(v, 0);
  for (size_t r = 0; r < hp_value_rows(v); r++)
    out[r] = !va || va[r] ? '1' : '0';
  out[hp_value_rows(v)] = '\0';
}

/* Int64 results; valid "11111"-style (NULL: no nulls expected). */
static void check_ints(const hp_value *t, const char *text, const int64_t *want,
                       const char *valid) {
  hp_value *v = eval_ok(t, text);
  fprintf(stderr, "  %s\n", text);
  CHECK_EQ(hp_table_coltype(v, 0), HP_INT64);
  const int64_t *d = hp_table_column(v, 0);
  char got[64];
  valid_str(v, got);
  for (size_t r = 0; r < hp_value_rows(v); r++)
    if (got[r] == '1') CHECK_EQ(d[r], want[r]);
  if (valid)
    CHECK_STR_EQ(got, valid);
  else
    CHECK(hp_table_valid(v, 0) == NULL);
  hp_value_free(v);
}

/* Float64 results; NAN in want means null (NaN or masked). */
static void check_floats(const hp_value *t, const char *text,
                         const double *want) {
  hp_value *v = eval_ok(t, text);
  fprintf(stderr, "  %s\n", text);
  CHECK_EQ(hp_table_coltype(v, 0), HP_FLOAT64);
  const double *d = hp_table_column(v, 0);
  const uint8_t *va = hp_table_valid(v, 0);
  for (size_t r = 0; r < hp_value_rows(v); r++) {
    int null = isnan(d[r]) || (va && !va[r]);
    CHECK_EQ(null, isnan(want[r]));
    if (!null) CHECK(fabs(d[r] - want[r]) < 1e-12);
    if (va && !va[r]) CHECK(isnan(d[r])); /* float nulls are NaN too */
  }
  hp_value_free(v);
}

static void parse_fails(const char *text, const char *msg) {
  hp_expr *e = (hp_expr *)1;
  hp_error err = HP_ERROR_INIT;
  CHECK_EQ(hp__expr_parse(text, &e, &err), HP_ECONFIG);
  CHECK(e == NULL);
  if (!strstr(err.msg, msg)) fprintf(stderr, "parsing %s\n", text);
  CHECK_CONTAINS(err.msg, msg);
}

static void eval_fails(const hp_value *t, const char *text, const char *msg) {
  hp_expr *e = parse_ok(text);
  hp_value *v = (hp_value *)1;
  hp_error err = HP_ERROR_INIT;
  CHECK_EQ(hp__expr_eval(e, t, &v, &err), HP_ECONFIG);
  CHECK(v == NULL);
  CHECK_CONTAINS(err.msg, msg);
  hp_error err2 = HP_ERROR_INIT;
  hp_dtype type;
  CHECK_EQ(hp__expr_type(e, t, &type, &err2), HP_ECONFIG);
  CHECK_STR_EQ(err2.msg, err.msg);
  hp__expr_free(e);
}

static void test_arith(const hp_value *t) {
  CASE("integer arithmetic, Python floor division and modulo");
  check_ints(t, "i + 1", (int64_t[]){8, -6, 4, 1, 6}, NULL);
  check_ints(t, "i - 2 * i", (int64_t[]){-7, 7, -3, 0, -5}, NULL);
  check_ints(t, "i // 2", (int64_t[]){3, -4, 1, 0, 2}, NULL);
  check_ints(t, "i // -2", (int64_t[]){-4, 3, -2, 0, -3}, NULL);
  check_ints(t, "i % 3", (int64_t[]){1, 2, 0, 0, 2}, NULL);
  check_ints(t, "i % -3", (int64_t[]){-2, -1, 0, 0, -1}, NULL);
  check_ints(t, "i // (i - 3)", (int64_t[]){1, 0, 0, 0, 2}, "11011");
  check_ints(t, "i % (i - 3)", (int64_t[]){3, -7, 0, 0, 1}, "11011");
  check_ints(t, "-i", (int64_t[]){-7, 7, -3, 0, -5}, NULL);
  check_ints(t, "abs(i)", (int64_t[]){7, 7, 3, 0, 5}, NULL);
  check_ints(t, "b + 1", (int64_t[]){2, 1, 2, 1, 2}, NULL);
  check_ints(t, "`odd name` * 2", (int64_t[]){14, -14, 6, 0, 10}, NULL);
  int64_t k[N];
  for (int r = 0; r < N; r++)
    k[r] = 1024;
  check_ints(t, "2 ** 10", k, NULL);
  for (int r = 0; r < N; r++)
    k[r] = 512;
  check_ints(t, "2 ** 3 ** 2", k, NULL);
  for (int r = 0; r < N; r++)
    k[r] = -4;
  check_ints(t, "-2 ** 2", k, NULL);
  check_ints(t, "2 ** -1", k, "00000");
  for (int r = 0; r < N; r++)
    k[r] = 9;
  check_ints(t, "(1 + 2) * 3", k, NULL);
  for (int r = 0; r < N; r++)
    k[r] = 7;
  check_ints(t, "7 // 2 * 2 + 7 % 2", k, NULL);
  check_ints(t, "-7 // 2", (int64_t[]){-4, -4, -4, -4, -4}, NULL);
  check_ints(t, "-7 % 2", (int64_t[]){1, 1, 1, 1, 1}, NULL);

  CASE("integer wrap-around is defined");
  for (int r = 0; r < N; r++)
    k[r] = INT64_MIN;
  check_ints(t, "9223372036854775807 + 1", k, NULL);
  check_ints(t, "(-9223372036854775807 - 1) // -1", k, NULL);
  check_ints(t, "abs(-9223372036854775807 - 1)", k, NULL);
  for (int r = 0; r < N; r++)
    k[r] = 0;
  check_ints(t, "(-9223372036854775807 - 1) % -1", k, NULL);

  CASE("float arithmetic");
  check_floats(t, "i / 2", (double[]){3.5, -3.5, 1.5, 0, 2.5});
  check_floats(t, "i * f", (double[]){3.5, 10.5, 6, NAN, 50});
  check_floats(t, "f + i", (double[]){7.5, -8.5, 5, NAN, 15});
  check_floats(t, "f // 1", (double[]){0, -2, 2, NAN, 10});
  check_floats(t, "f % 1", (double[]){0.5, 0.5, 0, NAN, 0});
  check_floats(t, "i % 2.5", (double[]){2, 0.5, 0.5, 0, 0});
  check_floats(t, "2.0 ** -1", (double[]){0.5, 0.5, 0.5, 0.5, 0.5});
  check_floats(t, "1 + 2 * 3 - 4 / 2", (double[]){5, 5, 5, 5, 5});
  check_floats(t, "1e-3 * 1000 + .5 + 1.", (double[]){2.5, 2.5, 2.5, 2.5, 2.5});
  check_floats(t, "1E+2 - 2.5e1", (double[]){75, 75, 75, 75, 75});
  check_floats(t, "sqrt(i)", (double[]){sqrt(7), NAN, sqrt(3), 0, sqrt(5)});
  check_floats(t, "log(exp(f))", (double[]){0.5, -1.5, 2.0, NAN, 10.0});
  check_floats(t, "abs(f)", (double[]){0.5, 1.5, 2.0, NAN, 10.0});
  check_floats(t, "-f", (double[]){-0.5, 1.5, -2.0, NAN, -10.0});
  check_floats(t, "0 / 0 + i", (double[]){NAN, NAN, NAN, NAN, NAN});

  CASE("types");
  const struct {
    const char *text;
    hp_dtype type;
  } types[] = {{"i + 1", HP_INT64},     {"i / 1", HP_FLOAT64},
               {"i + 1.0", HP_FLOAT64}, {"i > 1", HP_BOOL},
               {"s", HP_STRING},        {"name", HP_STRING},
               {"ts", HP_TIMESTAMP},    {"isnull(s)", HP_BOOL},
               {"b * b", HP_INT64},     {"sqrt(4)", HP_FLOAT64}};
  for (size_t j = 0; j < sizeof types / sizeof types[0]; j++) {
    hp_expr *e = parse_ok(types[j].text);
    hp_error err = HP_ERROR_INIT;
    hp_dtype ty = 0;
    CHECK_OK(hp__expr_type(e, t, &ty, &err), &err);
    CHECK_EQ(ty, types[j].type);
    hp__expr_free(e);
  }
}

static void test_compare(const hp_value *t) {
  CASE("numeric comparisons");
  check_mask(t, "i > 0", "10101");
  check_mask(t, "0 < i", "10101");
  check_mask(t, "i == 3", "00100");
  check_mask(t, "i != 7", "01111");
  check_mask(t, "i <= 3", "01110");
  check_mask(t, "i >= 3", "10101");
  check_mask(t, "f > 0", "10101");
  check_mask(t, "f != 2", "11001"); /* NaN is null: false */
  check_mask(t, "f == f", "11101");
  check_mask(t, "i > f", "10100");
  check_mask(t, "i > 2.5", "10101");
  check_mask(t, "f < 3", "11100");
  check_mask(t, "0 < i < 6", "00101");
  check_mask(t, "1 < 2", "11111");
  check_mask(t, "i > 100", "00000");

  CASE("bools");
  check_mask(t, "b", "10101");
  check_mask(t, "b == True", "10101");
  check_mask(t, "b != false", "10101");
  check_mask(t, "b == 1", "10101");
  check_mask(t, "not b", "01010");
  check_mask(t, "~b", "01010");
  check_mask(t, "true", "11111");
  check_mask(t, "False", "00000");
  check_mask(t, "i > 0 and b", "10101");
  check_mask(t, "i < 0 | s == 'Zelda'", "01001");
  check_mask(t, "i > 0 & i < 6", "00101");
  check_mask(t, "i < 0 or i > 4 and not b", "01000");
  check_mask(t, "(i < 0 or i > 4) and b", "10001");
  check_mask(t, "not not b", "10101");

  CASE("strings, bytewise");
  check_mask(t, "s == 'banana'", "01000");
  check_mask(t, "s == \"banana\"", "01000");
  check_mask(t, "s < 'b'", "10011"); /* "" and "Zelda" sort before "b" */
  check_mask(t, "'b' > s", "10011");
  check_mask(t, "s >= 'cherry'", "00100");
  check_mask(t, "s != 'apple'", "01111");
  check_mask(t, "s == ''", "00010");
  check_mask(t, "s == s", "11111");
  check_mask(t, "s < ns", "11011");
  check_mask(t, "'a' < 'b'", "11111");
  check_mask(t, "s == 'it\\'s'", "00000");

  CASE("dictionary strings");
  /* name: Ganon Link Zelda Ganon Epona */
  check_mask(t, "name == 'Zelda'", "00100");
  check_mask(t, "'Zelda' == name", "00100");
  check_mask(t, "name != 'Ganon'", "01101");
  check_mask(t, "name == 'Nobody'", "00000");
  check_mask(t, "name != 'Nobody'", "11111");
  check_mask(t, "name < 'H'", "10011");
  check_mask(t, "'H' <= name", "01100");
  check_mask(t, "name == s", "00000");
  check_mask(t, "name > s", "00010"); /* uppercase sorts first */

  CASE("timestamps");
  check_mask(t, "ts >= '2000-01-05'", "01110");
  check_mask(t, "'2000-01-05' <= ts", "01110");
  check_mask(t, "ts < '2000-01-05 12:00:00'", "11001");
  check_mask(t, "ts == '2000-01-05T12:00'", "00100");
  check_mask(t, "ts == '2000-01-05 12:00:00.000Z'", "00100");
  check_mask(t, "ts > '2000-01-05 12:00:00.5'", "00010");
  check_mask(t, "ts < '2000-01-01'", "00001");
  check_mask(t, "ts == ts", "11111");
  check_mask(t, "ts > '1999-12-31' and ts < '2000-01-06'", "11100");
}

static void test_nulls(const hp_value *t) {
  CASE("nulls propagate through arithmetic");
  check_ints(t, "n + 1", (int64_t[]){2, 0, 4, 5, 0}, "10110");
  check_ints(t, "abs(n) * 2", (int64_t[]){2, 0, 6, 8, 0}, "10110");
  check_ints(t, "n // (i - 3)", (int64_t[]){0, 0, 0, -2, 0}, "10010");
  check_floats(t, "n * 1.5", (double[]){1.5, NAN, 4.5, 6, NAN});
  check_floats(t, "n * f", (double[]){0.5, NAN, 6, NAN, NAN});

  CASE("comparisons with null are false");
  check_mask(t, "n > 0", "10110");
  check_mask(t, "n != 2", "10110");
  check_mask(t, "not (n > 0)", "01001");
  check_mask(t, "ns == 'z'", "00000");
  check_mask(t, "ns != 'z'", "11011");
  check_mask(t, "ns == ns", "11011");

  CASE("isnull / notnull");
  check_mask(t, "isnull(n)", "01001");
  check_mask(t, "notnull(n)", "10110");
  check_mask(t, "isnull(f)", "00010");
  check_mask(t, "isnull(f * 0 + n)", "01011");
  check_mask(t, "isnull(ns)", "00100");
  check_mask(t, "isnull(s)", "00000");
  check_mask(t, "isnull(i // (i - 3))", "00100");
  check_mask(t, "isnull(nb)", "00110");
  check_mask(t, "isnull(1)", "00000");
  check_mask(t, "notnull('x')", "11111");
  check_mask(t, "isnull(sqrt(i))", "01000");

  CASE("Kleene and/or/not");
  /* nb: True False null null True; b: 1 0 1 0 1 */
  check_mask(t, "nb", "10001");
  check_mask(t, "not nb", "01000");
  check_mask(t, "nb or True", "11111");
  check_mask(t, "nb and False", "00000");
  check_mask(t, "not (nb and False)", "11111");
  check_mask(t, "not (nb or b)", "01000");
  const struct {
    const char *text, *value, *valid;
  } k[] = {{"nb and True", "10..1", "11001"}, {"nb or False", "10..1", "11001"},
           {"not nb", "01..0", "11001"},      {"nb and b", "10.01", "11011"},
           {"nb or b", "101.1", "11101"},     {"b and nb", "10.01", "11011"},
           {"nb or True", "11111", NULL}};
  for (size_t j = 0; j < sizeof k / sizeof k[0]; j++) {
    hp_value *v = eval_ok(t, k[j].text);
    CHECK_EQ(hp_table_coltype(v, 0), HP_BOOL);
    const uint8_t *d = hp_table_column(v, 0);
    char val[8], got[8];
    valid_str(v, got);
    for (int r = 0; r < N; r++)
      val[r] = got[r] == '0' ? '.' : d[r] ? '1' : '0';
    val[N] = '\0';
    CHECK_STR_EQ(val, k[j].value);
    if (k[j].valid)
      CHECK_STR_EQ(got, k[j].valid);
    else
      CHECK(hp_table_valid(v, 0) == NULL);
    hp_value_free(v);
  }
}

static void test_results(const hp_value *t) {
  CASE("result columns");
  hp_value *v = eval_ok(t, "s");
  CHECK_EQ(hp_table_coltype(v, 0), HP_STRING);
  CHECK_STR_EQ(hp_table_str(v, 0, 4), "Zelda");
  hp_value_free(v);
  v = eval_ok(t, "name");
  CHECK(hp_table_dict_codes(v, 0) != NULL);
  CHECK_STR_EQ(hp_table_str(v, 0, 2), "Zelda");
  hp_value_free(v);
  v = eval_ok(t, "ns");
  CHECK(hp_table_valid(v, 0) != NULL);
  CHECK_EQ(hp_table_valid(v, 0)[2], 0);
  CHECK_STR_EQ(hp_table_str(v, 0, 1), "y");
  hp_value_free(v);
  v = eval_ok(t, "'hi'");
  CHECK_STR_EQ(hp_table_str(v, 0, 3), "hi");
  hp_value_free(v);
  v = eval_ok(t, "ts");
  CHECK_EQ(hp_table_coltype(v, 0), HP_TIMESTAMP);
  CHECK_EQ(((const int64_t *)hp_table_column(v, 0))[0], Y2K * DAY_NS);
  hp_value_free(v);
  v = eval_ok(t, "i > 0");
  CHECK_EQ(hp_table_coltype(v, 0), HP_BOOL);
  CHECK_EQ(((const uint8_t *)hp_table_column(v, 0))[2], 1);
  hp_value_free(v);
  v = eval_ok(t, "n");
  CHECK_EQ(hp_table_valid(v, 0)[1], 0);
  hp_value_free(v);

  CASE("empty table");
  hp_value *z = hp_table_new();
  CHECK_EQ(hp_table_add_column(z, "x", HP_INT64, NULL, 0), HP_OK);
  CHECK_EQ(hp_table_add_column(z, "s", HP_STRING, NULL, 0), HP_OK);
  check_mask(z, "x > 0 and s == 'a'", "");
  hp_value *zv = eval_ok(z, "x * 2.5 + 1");
  hp_value_free(zv);
  zv = eval_ok(z, "1");
  hp_value_free(zv);
  hp_value_free(z);

  CASE("not a table");
  hp_expr *e = parse_ok("1");
  hp_value *g = hp_group_new();
  hp_error err = HP_ERROR_INIT;
  CHECK_EQ(hp__expr_eval(e, g, &v, &err), HP_EINVAL);
  uint8_t *m;
  CHECK_EQ(hp__expr_mask(e, g, &m, &err), HP_EINVAL);
  CHECK(m == NULL);
  hp_value_free(g);
  hp__expr_free(e);
}

static void test_columns(void) {
  CASE("referenced columns");
  hp_expr *e = parse_ok("s == 'Zelda' and i > 0 or i < -5 or `odd name` > 1");
  CHECK_EQ(hp__expr_ncols(e), 3);
  CHECK_STR_EQ(hp__expr_col(e, 0), "s");
  CHECK_STR_EQ(hp__expr_col(e, 1), "i");
  CHECK_STR_EQ(hp__expr_col(e, 2), "odd name");
  CHECK(hp__expr_col(e, 3) == NULL);
  CHECK_STR_EQ(hp__expr_text(e),
               "s == 'Zelda' and i > 0 or i < -5 or `odd name` > 1");
  hp__expr_free(e);
  e = parse_ok("1 + 2");
  CHECK_EQ(hp__expr_ncols(e), 0);
  hp__expr_free(e);
  e = parse_ok("abs(x) + x");
  CHECK_EQ(hp__expr_ncols(e), 1);
  hp__expr_free(e);
  e = parse_ok("abs + 1"); /* a column that shares a function's name */
  CHECK_STR_EQ(hp__expr_col(e, 0), "abs");
  hp__expr_free(e);
  hp__expr_free(NULL);
}

static void test_assign(const hp_value *t) {
  CASE("assignments");
  char *name = NULL;
  hp_expr *e = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__expr_parse_assign("z = i * 2 + f", &name, &e, &err), &err);
  CHECK_STR_EQ(name, "z");
  hp_value *v = NULL;
  CHECK_OK(hp__expr_eval(e, t, &v, &err), &err);
  CHECK(((const double *)hp_table_column(v, 0))[0] == 14.5);
  hp_value_free(v);
  free(name);
  hp__expr_free(e);
  CHECK_OK(hp__expr_parse_assign("  `odd name`=1", &name, &e, &err), &err);
  CHECK_STR_EQ(name, "odd name");
  free(name);
  hp__expr_free(e);

  const struct {
    const char *text, *msg;
  } bad[] = {
      {"z == 1", "expression 'z == 1': expected '=' after the column name, "
                 "found '==' at column 3"},
      {"= 1", "expected 'column = expression', found '=' at column 1"},
      {"and = 1", "expected 'column = expression', found 'and' at column 1"},
      {"z =", "empty expression at column 4"},
      {"z = 1 +", "unexpected end of expression at column 8"},
      {"z = y = 1", "unexpected '=' (use '==' to compare) at column 7"},
      {"", "expected 'column = expression', found end of expression"},
  };
  for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
    hp_error e2 = HP_ERROR_INIT;
    name = (char *)1;
    e = (hp_expr *)1;
    CHECK_EQ(hp__expr_parse_assign(bad[j].text, &name, &e, &e2), HP_ECONFIG);
    CHECK(name == NULL && e == NULL);
    CHECK_CONTAINS(e2.msg, bad[j].msg);
  }
}

static void test_errors(const hp_value *t) {
  CASE("syntax errors with columns");
  parse_fails("x +", "expression 'x +': unexpected end of expression at "
                     "column 4");
  parse_fails("x == 'abc", "unterminated string at column 6");
  parse_fails("`abc", "unterminated `name` at column 1");
  parse_fails("``", "empty column name");
  parse_fails("(x > 1", "expected ')', found end of expression at column 7");
  parse_fails("x $ 1", "unexpected character '$' at column 3");
  parse_fails("x \x01", "unexpected byte 0x01 at column 3");
  parse_fails("x = 1", "unexpected '=' (use '==' to compare) at column 3");
  parse_fails("", "expression '': empty expression at column 1");
  parse_fails("   ", "empty expression at column 4");
  parse_fails("1 2", "unexpected number at column 3");
  parse_fails("x y", "unexpected 'y' at column 3");
  parse_fails("x 'y'", "unexpected string at column 3");
  parse_fails("and x", "unexpected 'and' at column 1");
  parse_fails("x and", "unexpected end of expression at column 6");
  parse_fails("x ! 1", "unexpected character '!' at column 3");
  parse_fails("()", "unexpected ')' at column 2");
  parse_fails("abs(x, y)", "expected ')', found ',' at column 6");
  parse_fails("abs()", "unexpected ')' at column 5");
  parse_fails("foo(x)", "unknown function 'foo' at column 1");
  parse_fails("x > 1 and bar(y)", "unknown function 'bar' at column 11");
  parse_fails("99999999999999999999", "integer 99999999999999999999 out of "
                                      "range at column 1");
  parse_fails("x >\n", "unexpected end of expression at column 5");
  hp_expr *e = (hp_expr *)1;
  hp_error err = HP_ERROR_INIT;
  CHECK_EQ(hp__expr_parse(NULL, &e, &err), HP_EINVAL);
  CHECK(e == NULL);

  CASE("long text is shortened in messages");
  char longtext[400];
  memset(longtext, 'a', sizeof longtext);
  memcpy(longtext + 390, " +", 3);
  hp_error el = HP_ERROR_INIT;
  CHECK_EQ(hp__expr_parse(longtext, &e, &el), HP_ECONFIG);
  CHECK_CONTAINS(el.msg, "...': unexpected end of expression at column 393");

  CASE("type errors and unknown columns");
  eval_fails(t, "s + 1",
             "expression 's + 1': cannot apply '+' to string and int64 at "
             "column 3");
  eval_fails(t, "i + nope", "unknown column 'nope' at column 5");
  eval_fails(t, "not i", "cannot apply 'not' to int64 at column 1");
  eval_fails(t, "-s", "cannot apply '-' to string at column 1");
  eval_fails(t, "sqrt(name)", "cannot apply 'sqrt' to string at column 1");
  eval_fails(t, "b and i", "cannot apply 'and' to bool and int64 at column 3");
  eval_fails(t, "i == 'x'", "cannot apply '==' to int64 and string");
  eval_fails(t, "ts > 5", "cannot apply '>' to timestamp and int64");
  eval_fails(t, "ts + 1", "cannot apply '+' to timestamp and int64");
  eval_fails(t, "ts > s", "cannot apply '>' to timestamp and string");
  eval_fails(t, "ts > '2000-13-01'",
             "'2000-13-01' is not a timestamp (YYYY-MM-DD[ HH:MM:SS]) at "
             "column 6");
  eval_fails(t, "ts > '2001-02-29'", "is not a timestamp");
  eval_fails(t, "ts > '2000-01-01 24:00'", "is not a timestamp");
  eval_fails(t, "ts > '2000-01-01x'", "is not a timestamp");
  eval_fails(t, "'2000-01-01 1:00' < ts", "is not a timestamp");
  check_mask(t, "ts > '2000-02-29'", "00000"); /* a leap day */

  CASE("filters need a condition");
  e = parse_ok("i + 1");
  uint8_t *m = (uint8_t *)1;
  hp__error_clear(&err);
  CHECK_EQ(hp__expr_mask(e, t, &m, &err), HP_ECONFIG);
  CHECK(m == NULL);
  CHECK_CONTAINS(err.msg,
                 "expression 'i + 1' is int64, not a condition (bool)");
  hp__expr_free(e);
}

static char *repeat(const char *pre, size_t n, const char *mid,
                    const char *post, size_t npost) {
  size_t lp = strlen(pre), lq = strlen(post);
  char *s = malloc(lp * n + strlen(mid) + lq * npost + 1);
  CHECK(s != NULL);
  char *w = s;
  for (size_t i = 0; i < n; i++, w += lp)
    memcpy(w, pre, lp);
  w += sprintf(w, "%s", mid);
  for (size_t i = 0; i < npost; i++, w += lq)
    memcpy(w, post, lq);
  *w = '\0';
  return s;
}

static void depth_case(const hp_value *t, char *text, const char *msg) {
  hp_expr *e = NULL;
  hp_error err = HP_ERROR_INIT;
  int rc = hp__expr_parse(text, &e, &err);
  if (msg) {
    CHECK_EQ(rc, HP_ECONFIG);
    CHECK_CONTAINS(err.msg, msg);
  } else {
    CHECK_OK(rc, &err);
    hp_value *v = NULL;
    CHECK_OK(hp__expr_eval(e, t, &v, &err), &err);
    hp_value_free(v);
    hp__expr_free(e);
  }
  free(text);
}

static void test_depth(const hp_value *t) {
  CASE("nesting limits");
  depth_case(t, repeat("(", 10000, "1", ")", 10000), "nested too deeply");
  depth_case(t, repeat("(", 10000, "", "", 0), "nested too deeply");
  depth_case(t, repeat("(", 150, "i", ")", 150), NULL);
  depth_case(t, repeat("not ", 10000, "True", "", 0), "nested too deeply");
  depth_case(t, repeat("-", 10000, "1", "", 0), "nested too deeply");
  depth_case(t, repeat("~", 150, "b", "", 0), NULL);
  depth_case(t, repeat("2**", 10000, "2", "", 0), "nested too deeply");
  depth_case(t, repeat("abs(", 10000, "1", ")", 10000), "nested too deeply");
  depth_case(t, repeat("", 0, "1", "+i", 5000), "expression too large");
  depth_case(t, repeat("", 0, "1", " < i", 3000), "expression too large");
  depth_case(t, repeat("", 0, "True", " or b", 900), NULL);
  check_ints(t, "1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1",
             (int64_t[]){20, 20, 20, 20, 20}, NULL);
}

/* Random token soup must parse or fail cleanly, and evaluate or fail. */
static void test_soup(const hp_value *t) {
  CASE("random token soup");
  static const char *const toks[] = {
      "i",       "f",    "s",     "b",    "n",
      "nb",      "ns",   "ts",    "name", "(",
      ")",       "+",    "-",     "*",    "/",
      "//",      "%",    "**",    "==",   "!=",
      "<",       ">=",   "and",   "or",   "not",
      "1",       "0",    "2.5",   "'a'",  "'Zelda'",
      "isnull(", "abs(", "sqrt(", "True", "`odd name`",
      "~",       "&",    "|",     "nope", "'2000-01-05'",
      "\"",      "`",    ",",     "=",    "1e400",
      "-0.0",    "log(", "exp("};
  size_t ntok = sizeof toks / sizeof toks[0];
  uint64_t seed = 12345;
  for (int iter = 0; iter < 4000; iter++) {
    char text[256] = {0};
    int len = 1 + iter % 12;
    for (int k = 0; k < len; k++) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      strcat(text, toks[(seed >> 33) % ntok]);
      strcat(text, (seed >> 20) & 1 ? " " : "");
    }
    hp_expr *e = NULL;
    hp_error err = HP_ERROR_INIT;
    if (hp__expr_parse(text, &e, &err) != HP_OK) {
      CHECK_EQ(err.code, HP_ECONFIG);
      CHECK_CONTAINS(err.msg, " at column ");
      continue;
    }
    hp_value *v = NULL;
    hp_error e1 = HP_ERROR_INIT, e2 = HP_ERROR_INIT;
    if (hp__expr_eval(e, t, &v, &e1) != HP_OK) CHECK_EQ(e1.code, HP_ECONFIG);
    hp_value_free(v);
    uint8_t *m = NULL;
    if (hp__expr_mask(e, t, &m, &e2) != HP_OK) CHECK_EQ(e2.code, HP_ECONFIG);
    free(m);
    hp__expr_free(e);
  }
}

static uint64_t rng(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 33;
}

/* The same strings, dictionary-encoded and plain, with nulls. */
static void test_dict_equals_plain(void) {
  CASE("dictionary fast path equals plain strings");
  enum { ROWS = 100000, NDICT = 40 };
  char names[NDICT][16];
  const char *dict[NDICT];
  for (int k = 0; k < NDICT; k++) {
    (void)snprintf(names[k], sizeof names[k], "%c%d", 'A' + k % 26, k * 7);
    dict[k] = names[k];
  }
  memcpy(names[5], "Zelda", 6);
  int32_t *codes = malloc(ROWS * sizeof *codes);
  const char **plain = malloc(ROWS * sizeof *plain);
  uint8_t *valid = malloc(ROWS);
  CHECK(codes && plain && valid);
  uint64_t seed = 7;
  for (size_t r = 0; r < ROWS; r++) {
    codes[r] = (int32_t)(rng(&seed) % NDICT);
    plain[r] = dict[codes[r]];
    valid[r] = rng(&seed) % 10 != 0;
  }
  hp_value *t = hp_table_new();
  CHECK_EQ(hp_table_add_dict_column(t, "d", codes, ROWS, dict, NDICT), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "p", HP_STRING, plain, ROWS), HP_OK);
  CHECK_EQ(hp_table_add_dict_column(t, "dn", codes, ROWS, dict, NDICT), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "pn", HP_STRING, plain, ROWS), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 2, valid), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 3, valid), HP_OK);
  static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
  static const char *const lits[] = {"'Zelda'", "'M'", "'nope'", "''", "'A0'"};
  static const char *const cols[][2] = {{"d", "p"}, {"dn", "pn"}};
  for (size_t c = 0; c < 2; c++) {
    for (size_t o = 0; o < 6; o++) {
      for (size_t l = 0; l < 5; l++) {
        for (int side = 0; side < 2; side++) {
          char a[64], b[64];
          for (int k = 0; k < 2; k++) {
            char *dst = k ? b : a;
            if (side)
              (void)snprintf(dst, 64, "%s %s %s", lits[l], ops[o], cols[c][k]);
            else
              (void)snprintf(dst, 64, "%s %s %s", cols[c][k], ops[o], lits[l]);
          }
          hp_expr *ea = parse_ok(a), *eb = parse_ok(b);
          uint8_t *ma = NULL, *mb = NULL;
          hp_error err = HP_ERROR_INIT;
          CHECK_OK(hp__expr_mask(ea, t, &ma, &err), &err);
          CHECK_OK(hp__expr_mask(eb, t, &mb, &err), &err);
          if (memcmp(ma, mb, ROWS) != 0)
            fprintf(stderr, "%s differs from %s\n", a, b);
          CHECK(memcmp(ma, mb, ROWS) == 0);
          free(ma);
          free(mb);
          hp__expr_free(ea);
          hp__expr_free(eb);
        }
      }
    }
  }
  hp_expr *same = parse_ok("d == p and dn == pn or isnull(dn)");
  uint8_t *ms = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__expr_mask(same, t, &ms, &err), &err);
  for (size_t r = 0; r < ROWS; r++)
    CHECK_EQ(ms[r], 1);
  free(ms);
  hp__expr_free(same);
  hp_value_free(t);
  free(codes);
  free(plain);
  free(valid);
}

/* Rows for test_chunks: several chunks, nulls, a selective dictionary. */
enum { CROWS = 50000 };
static int64_t cx(size_t r) {
  return (int64_t)(r * 37 % 1000) - 500;
}
static int cx_valid(size_t r) {
  return r % 7 != 0;
}
static double cf(size_t r) {
  return r % 11 ? sin((double)r) : NAN;
}
static int zelda(size_t r) {
  return r * 13 % 50 == 7;
}
static int cnb(size_t r) {
  return r % 3 == 0;
}
static int cnb_valid(size_t r) {
  return r % 3 != 1;
}

static hp_value *chunk_table(void) {
  static char names[50][8];
  const char *dict[50];
  for (int k = 0; k < 50; k++) {
    (void)snprintf(names[k], sizeof names[k], "n%d", k);
    dict[k] = names[k];
  }
  memcpy(names[7], "Zelda", 6);
  int64_t *x = malloc(CROWS * sizeof *x);
  double *f = malloc(CROWS * sizeof *f);
  int32_t *codes = malloc(CROWS * sizeof *codes);
  const char **s = malloc(CROWS * sizeof *s);
  uint8_t *xv = malloc(CROWS), *nb = malloc(CROWS), *nbv = malloc(CROWS);
  CHECK(x && f && codes && s && xv && nb && nbv);
  for (size_t r = 0; r < CROWS; r++) {
    x[r] = cx(r);
    xv[r] = (uint8_t)cx_valid(r);
    f[r] = cf(r);
    codes[r] = (int32_t)(r * 13 % 50);
    s[r] = dict[codes[r]];
    nb[r] = (uint8_t)cnb(r);
    nbv[r] = (uint8_t)cnb_valid(r);
  }
  hp_value *t = hp_table_new();
  CHECK_EQ(hp_table_add_column(t, "x", HP_INT64, x, CROWS), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 0, xv), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "f", HP_FLOAT64, f, CROWS), HP_OK);
  CHECK_EQ(hp_table_add_dict_column(t, "name", codes, CROWS, dict, 50), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "s", HP_STRING, s, CROWS), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "nb", HP_BOOL, nb, CROWS), HP_OK);
  CHECK_EQ(hp_table_set_valid(t, 4, nbv), HP_OK);
  free(x);
  free(f);
  free(codes);
  free(s);
  free(xv);
  free(nb);
  free(nbv);
  return t;
}

static int ref_mask(int which, size_t r) {
  int xv = cx_valid(r), fv = !isnan(cf(r));
  int64_t x = cx(r);
  switch (which) {
  case 0:
    return zelda(r) && xv && x > 0;
  case 1:
    return zelda(r) && fv && cf(r) > 0;
  case 2:
    return zelda(r) && cnb_valid(r) && cnb(r);
  case 3:
    return zelda(r) && xv && x % 2 == 0;
  case 4:
    return zelda(r) && xv && x > 0 && fv && cf(r) < 0.5;
  case 5:
    return zelda(r) && !xv;
  case 6:
    return !zelda(r) && xv && x > 0;
  default:
    return zelda(r) && xv && x > 0 && zelda(r);
  }
}

/* Several chunks, the selective-and path against row-by-row answers. */
static void test_chunks(void) {
  CASE("chunks and selective and");
  hp_value *t = chunk_table();
  static const char *const masks[] = {
      "name == 'Zelda' and x > 0",
      "name == 'Zelda' and f > 0",
      "name == 'Zelda' and nb",
      "name == 'Zelda' and (x % 2 == 0 and s != 'n3')",
      "name == 'Zelda' and x > 0 and f < 0.5",
      "name == 'Zelda' and isnull(x)",
      "name != 'Zelda' and x > 0",
      "name == 'Zelda' and (x > 0 and s == 'Zelda')"};
  for (int w = 0; w < 8; w++) {
    hp_expr *e = parse_ok(masks[w]);
    uint8_t *m = NULL;
    hp_error err = HP_ERROR_INIT;
    CHECK_OK(hp__expr_mask(e, t, &m, &err), &err);
    for (size_t r = 0; r < CROWS; r++) {
      if (m[r] != ref_mask(w, r)) fprintf(stderr, "%s: row %zu\n", masks[w], r);
      CHECK_EQ(m[r], ref_mask(w, r));
    }
    free(m);
    hp__expr_free(e);
  }

  /* Kleene: Zelda and nb is null where Zelda and nb is null. */
  hp_value *v = eval_ok(t, "name == 'Zelda' and nb");
  const uint8_t *d = hp_table_column(v, 0), *va = hp_table_valid(v, 0);
  CHECK(va != NULL);
  for (size_t r = 0; r < CROWS; r++) {
    int null = zelda(r) && !cnb_valid(r);
    CHECK_EQ(va[r], !null);
    if (!null) CHECK_EQ(d[r], zelda(r) && cnb(r));
  }
  hp_value_free(v);

  v = eval_ok(t, "x * 2 + 1");
  const int64_t *xi = hp_table_column(v, 0);
  va = hp_table_valid(v, 0);
  for (size_t r = 0; r < CROWS; r++) {
    CHECK_EQ(va[r], cx_valid(r));
    CHECK_EQ(xi[r], cx_valid(r) ? cx(r) * 2 + 1 : 0);
  }
  hp_value_free(v);
  v = eval_ok(t, "x // (x % 3)");
  xi = hp_table_column(v, 0);
  va = hp_table_valid(v, 0);
  for (size_t r = 0; r < CROWS; r++) {
    int64_t x = cx(r), m3 = ((x % 3) + 3) % 3;
    int valid = cx_valid(r) && m3 != 0;
    CHECK_EQ(va[r], valid);
    if (valid) CHECK_EQ(xi[r], (x - ((x % m3) + m3) % m3) / m3);
  }
  hp_value_free(v);
  hp_value_free(t);
}

static double now_ms(void) {
  struct timespec ts;
  CHECK(timespec_get(&ts, TIME_UTC) == TIME_UTC);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* "count Zelda": 5 M rows, a 1000-entry dictionary, best of 5. */
static void test_perf(void) {
  if (!getenv("HP_EXPR_PERF")) return;
  CASE("performance: name == 'Zelda' and x > 0 over 5 M rows");
  enum { ROWS = 5000000, NDICT = 1000 };
  static char names[NDICT][16];
  const char **dict = malloc(NDICT * sizeof *dict);
  for (int k = 0; k < NDICT; k++) {
    (void)snprintf(names[k], sizeof names[k], "name%d", k);
    dict[k] = names[k];
  }
  memcpy(names[17], "Zelda", 6);
  int32_t *codes = malloc(ROWS * sizeof *codes);
  int64_t *x = malloc(ROWS * sizeof *x);
  CHECK(codes && x && dict);
  uint64_t seed = 99;
  size_t want = 0;
  for (size_t r = 0; r < ROWS; r++) {
    codes[r] = (int32_t)(rng(&seed) % NDICT);
    x[r] = (int64_t)(rng(&seed) % 201) - 100;
    want += codes[r] == 17 && x[r] > 0;
  }
  hp_value *t = hp_table_new();
  CHECK_EQ(hp_table_add_dict_column(t, "name", codes, ROWS, dict, NDICT),
           HP_OK);
  CHECK_EQ(hp_table_add_column(t, "x", HP_INT64, x, ROWS), HP_OK);
  hp_expr *e = parse_ok("name == 'Zelda' and x > 0");
  double best = 1e9;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now_ms();
    uint8_t *m = NULL;
    hp_error err = HP_ERROR_INIT;
    CHECK_OK(hp__expr_mask(e, t, &m, &err), &err);
    double dt = now_ms() - t0;
    size_t got = 0;
    for (size_t r = 0; r < ROWS; r++)
      got += m[r];
    CHECK_EQ(got, want);
    free(m);
    if (dt < best) best = dt;
  }
  fprintf(stderr, "perf: %zu matches, best %.2f ms\n", want, best);
  hp__expr_free(e);
  hp_value_free(t);
  free(codes);
  free(x);
  free(dict);
}

int main(void) {
  hp_value *t = sample();
  test_arith(t);
  test_compare(t);
  test_nulls(t);
  test_results(t);
  test_columns();
  test_assign(t);
  test_errors(t);
  test_depth(t);
  test_soup(t);
  hp_value_free(t);
  test_dict_equals_plain();
  test_chunks();
  test_perf();
  fprintf(stderr, "test_expr: ok\n");
  return 0;
}
