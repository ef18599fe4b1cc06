/*
 * fuzz_csv.c - libFuzzer target for the CSV reader (src/csv.c). The first
 * byte picks the separator and whether the columns get declared types
 * (as the catalog's `columns:` gives them); the rest is the file.
 */
#include <stdint.h>
#include <stdlib.h>

#include "csv.h"
#include "tree.h"
#include "value.h"
#include "yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hp_tree *types;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  if (!types) {
    static const char y[] = "a: int64\nb: float64\nc: bool\nd: string\n"
                            "e: timestamp\nx: int64\n";
    hp_error e = HP_ERROR_INIT;
    if (hp__yaml_parse(y, sizeof y - 1, "types.yml", &types, &e) != HP_OK)
      abort();
  }
  hp_csv_opts o = {.sep = (data[0] & 1) ? ';' : ',',
                   .types = (data[0] & 2) ? types : NULL};
  hp_value *v = NULL;
  hp_error err = HP_ERROR_INIT;
  if (hp__csv_parse("fuzz.csv", (const char *)data + 1, size - 1, &o, &v,
                    &err) == HP_OK) {
    if (!v || hp_value_kind(v) != HP_TABLE)
      abort(); /* success must give a table */
    hp_value_free(v);
  } else if (!err.msg[0]) {
    abort(); /* every failure carries a message */
  }
  return 0;
}
