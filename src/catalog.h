/*
 * catalog.h - dataset definitions: explicit catalog entries, dataset
 * factory patterns ("{namespace}.labels") with Kedro's precedence, `params:`
 * names, and the default for a name the catalog does not define (the run's
 * HDF5 store).
 */
#ifndef HP_CATALOG_H
#define HP_CATALOG_H

#include "conf.h"
#include "error.h"
#include "tree.h"

typedef enum hp_ds_type {
  HP_DS_STORE = 1, /* not in the catalog: <store>/<name>.h5 */
  HP_DS_MEMORY,    /* type: memory */
  HP_DS_CSV,       /* type: csv */
  HP_DS_HDF5,      /* type: hdf5 */
  HP_DS_PARAM,     /* params:x or parameters */
  HP_DS_TEXT       /* type: text (a document: SVG, markdown, JSON) */
} hp_ds_type;

typedef struct hp_dsdef {
  char *name;           /* dataset name as the pipeline uses it */
  hp_ds_type type;
  char *filepath;       /* joined with the project root; NULL for memory and
                           params */
  int versioned;        /* versioned: true */
  char *key;            /* hdf5: object path inside the file, default "/" */
  hp_tree *entry;       /* the resolved entry (owned; NULL for store/params);
                           for patterns, with placeholders substituted */
  const hp_tree *where; /* position of the catalog key, for messages (NULL
                           for the store default) */
  int entry_borrowed;   /* entry is the pattern's own body (it has no
                           placeholders), not a copy */
  /* A partition of a larger file (part.c makes these): rows [row0, row1)
   * of an hdf5 table or array, or the csv records that start in bytes
   * [row0, row1) of the file. row1 == 0: the whole file. */
  int64_t row0, row1;
  /* Columns the run reads (part.c's projection; hdf5 and csv tables): when
   * project is set, loads skip the others (ncols 0: only the first). */
  char **cols;
  size_t ncols;
  int project;
  /* A memory dataset (type: memory, or part.c's shuffle pieces, buckets
   * and reduction partials): a worker may write a large value to the
   * store for the run instead of sending it through rank 0 (exec.h,
   * hp__exec_spill). */
  int spill;
  /* A partition file of a stitched table as its master describes it
   * (part.c, from hp__h5_info): loads read its bytes directly while the
   * file is unchanged. Borrowed from the plan; NULL: read through HDF5. */
  const struct hp_h5_rawpart *raw;
  /* A partition of a csv directory or pattern other than the first: the
   * first file, whose columns (by name, in its order) every partition
   * has (part.c; NULL otherwise). */
  char *like;
} hp_dsdef;

typedef struct hp_catalog hp_catalog;

/* Any rank. Checks every entry: a mapping, with a known `type` (csv, hdf5,
 * memory), a `filepath` for csv and hdf5, known keys only, placeholders in
 * the body present in the pattern name, at most one catch-all pattern.
 * `store_dir` is the store directory joined with the root. Errors:
 * HP_ECONFIG, "conf/base/catalog.yml:3:1: dataset 'x': ...". */
int hp__catalog_new(const hp_conf *conf, const char *store_dir,
                    hp_catalog **out, hp_error *err);
void hp__catalog_free(hp_catalog *c);

/* The definition of dataset `name`: an explicit entry, else the best
 * matching pattern (more literal characters, then more placeholders, then
 * alphabetical), else the catch-all, else HP_DS_STORE. `params:...` and
 * `parameters` give HP_DS_PARAM. Borrowed until the catalog is freed;
 * results are cached. Errors: HP_ECONFIG (a pattern produced a bad entry). */
int hp__catalog_resolve(hp_catalog *c, const char *name, const hp_dsdef **out,
                        hp_error *err);
/* 1 if `name` is an explicit entry or matches a pattern. */
int hp__catalog_defines(hp_catalog *c, const char *name);

/* `blocksize` of a csv entry in bytes (a single large file is read in
 * partitions of about that size), or 0. */
int64_t hp__ds_blocksize(const hp_dsdef *d);
/* `partition_rows` (or the first of `chunks`) of an entry, or 0. */
int64_t hp__ds_partition_rows(const hp_dsdef *d);

#endif
