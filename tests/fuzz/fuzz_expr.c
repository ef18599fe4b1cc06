/*
 * fuzz_expr.c - libFuzzer target for the expression language of
 * frame.filter / frame.assign (src/expr.c): parse the input, as a filter
 * and as an assignment, and evaluate what parses on a small table with a
 * column of each type (nulls included).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hp_value *table;

static hp_value *make_table(void) {
  hp_value *t = hp_table_new();
  static const int64_t n[] = {1, -2, 0, 9223372036854775807LL};
  static const double x[] = {0.5, -1.0, 0.0, 1e308};
  static const uint8_t b[] = {1, 0, 1, 0};
  static const char *const s[] = {"Zelda", "", "Alice", "x y"};
  static const int64_t ts[] = {0, 946684800000000000LL, -1, 1};
  static const uint8_t valid[] = {1, 0, 1, 1};
  if (hp_table_add_column(t, "n", HP_INT64, n, 4) ||
      hp_table_add_column(t, "x", HP_FLOAT64, x, 4) ||
      hp_table_add_column(t, "b", HP_BOOL, b, 4) ||
      hp_table_add_column(t, "name", HP_STRING, s, 4) ||
      hp_table_add_column(t, "t", HP_TIMESTAMP, ts, 4) ||
      hp_table_set_valid(t, 1, valid))
    abort();
  return t;
}

static void try_eval(const hp_expr *e) {
  hp_value *out = NULL;
  hp_error err = HP_ERROR_INIT;
  if (hp__expr_eval(e, table, &out, &err) == HP_OK)
    hp_value_free(out);
  else if (!err.msg[0])
    abort();
  uint8_t *mask = NULL;
  hp_error err2 = HP_ERROR_INIT;
  if (hp__expr_mask(e, table, &mask, &err2) == HP_OK)
    free(mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!table)
    table = make_table();
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  hp_expr *e = NULL;
  hp_error err = HP_ERROR_INIT;
  if (hp__expr_parse(text, &e, &err) == HP_OK) {
    try_eval(e);
    hp__expr_free(e);
  } else if (!err.msg[0]) {
    abort();
  }
  char *name = NULL;
  hp_error err3 = HP_ERROR_INIT;
  if (hp__expr_parse_assign(text, &name, &e, &err3) == HP_OK) {
    try_eval(e);
    hp__expr_free(e);
    free(name);
  }
  free(text);
  return 0;
}
