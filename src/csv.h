/*
 * csv.h - CSV files to and from tables: a header line, RFC 4180 quoting,
 * typed columns (int64, float64, bool, string), inferred or given.
 */
#ifndef HP_CSV_H
#define HP_CSV_H

#include "error.h"
#include "hpcpipe/node.h"

typedef struct hp_csv_opts {
  char sep;             /* ',' by default */
  const hp_tree *types; /* optional map column -> "int64"|"float64"|"bool"|
                           "string" (the catalog's `columns:`) */
} hp_csv_opts;

/* Reads path into a new table. Without a type for a column it is inferred:
 * int64 if every field is an integer, float64 if every field is a number
 * (empty fields of a numeric column read as NaN and make it float64), bool
 * if every field is true/false (any case), else string. Errors (HP_EIO):
 * "path:line: ..." for a missing file, no header, a row with the wrong
 * number of fields, an unterminated quote, a field that does not parse as
 * the column's given type. */
int hp__csv_read(const char *path, const hp_csv_opts *o, hp_value **out,
                 hp_error *err);

/* Writes a table atomically: to "path.tmp.<pid>", flushed and fsynced,
 * then renamed onto path. Floats are written with the shortest text that
 * reads back to the same double ("%.17g" fallback). Creates missing parent
 * directories. Errors: HP_EIO; HP_EINVAL if v is not a table. */
int hp__csv_write(const char *path, const hp_value *v, const hp_csv_opts *o,
                  hp_error *err);

#endif
