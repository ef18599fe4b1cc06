/*
 * csv.h - CSV files to and from tables: a header line, RFC 4180 quoting,
 * typed columns (int64, float64, bool, string, timestamp), inferred or
 * given.
 */
#ifndef HP_CSV_H
#define HP_CSV_H

#include <stdio.h>

#include "error.h"
#include "hpcpipe/node.h"

typedef struct hp_csv_opts {
  char sep;             /* ',' by default */
  const hp_tree *types; /* optional map column -> "int64"|"float64"|"bool"|
                           "string"|"timestamp" (the catalog's `columns:`) */
  /* With project set, only the columns named in cols[0..ncols) (none: the
   * first) and those `types` gives are read into the table, in file order;
   * the others are split (a ragged row is still an error) but not
   * converted. */
  const char *const *cols;
  size_t ncols;
  int project;
} hp_csv_opts;

/* Reads path into a new table. Without a type for a column it is inferred:
 * int64 if every field is an integer, float64 if every field is a number
 * (empty fields of a numeric column read as NaN and make it float64), bool
 * if every non-empty field is true/false (any case; empty fields are
 * nulls), else string. Timestamps are never inferred: give `timestamp` in
 * `columns:` ("YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS[.fff]", 'T' allowed).
 * Nulls: an empty field is null (a validity mask) in a given int64, bool or
 * timestamp column, and NaN without a mask in a float64 column (NaN and
 * null read the same); in a string column it is the empty string. A string
 * column whose distinct values number at most a quarter of its rows (and
 * at most 65536) is read dictionary-encoded. Errors (HP_EIO):
 * "path:line: ..." for a missing file, no header, a row with the wrong
 * number of fields, an unterminated quote, a field that does not parse as
 * the column's given type; the first such row in the text, and in it a
 * wrong number of fields before a bad value. */
int hp__csv_read(const char *path, const hp_csv_opts *o, hp_value **out,
                 hp_error *err);

/* hp__csv_read from len bytes in memory, named `name` in messages (the
 * fuzz target's entry). */
int hp__csv_parse(const char *name, const char *data, size_t len,
                  const hp_csv_opts *o, hp_value **out, hp_error *err);
/* Reads the records of path that start in bytes [off0, off1), with the
 * file's header, as hp__csv_read would (a partition of a large file; every
 * partition parses on its own). Records are found by line ends, so quoted
 * fields holding newlines are not supported in partitioned reads. Error
 * lines are numbered as in the file. */
int hp__csv_read_range(const char *path, const hp_csv_opts *o, int64_t off0,
                       int64_t off1, hp_value **out, hp_error *err);

/* Writes a table atomically: to "path.tmp.<pid>", flushed and fsynced,
 * then renamed onto path. Floats are written with the shortest text that
 * reads back to the same double ("%.17g" fallback), timestamps as pandas
 * does ("2000-01-01 00:00:00", ".500" or more digits only when the
 * fraction is nonzero), nulls and NaN as empty fields. Creates missing parent
 * directories. Errors: HP_EIO; HP_EINVAL if v is not a table. */
int hp__csv_write(const char *path, const hp_value *v, const hp_csv_opts *o,
                  hp_error *err);
/* The same text for the header and the first nrows rows of table v, to
 * an open stream (hpcpipe show). 0, or -1 with errno set. */
int hp__csv_put(FILE *fp, const hp_value *v, size_t nrows,
                const hp_csv_opts *o);

#endif
