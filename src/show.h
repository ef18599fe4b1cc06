/*
 * show.h - `hpcpipe show PATH|DATASET`: an output's kind, schema, size,
 * lineage attributes and first rows (docs/cli.md).
 */
#ifndef HP_SHOW_H
#define HP_SHOW_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

typedef struct hp_show_opts {
  const char *what;    /* a file path, or a dataset name of the catalog */
  const char *confdir; /* for dataset names (default "conf") */
  const char *env;     /* configuration environment, or NULL */
  const char *key;     /* HDF5 object path, or NULL for the catalog's/root */
  size_t rows;         /* how many first rows to print */
} hp_show_opts;

/* Prints the description to out. Errors: HP_EIO (no such file, not made
 * yet), HP_EHDF5 / HP_ECONFIG / HP_EUSAGE with a located message. */
int hp__show(const hp_show_opts *o, FILE *out, hp_error *err);

#endif
