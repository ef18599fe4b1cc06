/*
 * conf.h - a project's configuration: reading conf/<base|env>/ on rank 0
 * into a byte bundle (broadcast as is), then parsing and merging it on
 * every rank into one tree per kind: catalog, parameters, pipelines and
 * settings (hpcpipe.yml). Runtime --params are deep-merged into parameters.
 */
#ifndef HP_CONF_H
#define HP_CONF_H

#include <stddef.h>

#include "error.h"
#include "mem.h"
#include "tree.h"

/* Rank 0 only. Reads the files of conf/base and of the run environment
 * (`env`, or "local" when env is NULL; a missing explicitly named env is an
 * error, a missing conf/local is not) into `out`. Files, in this order per
 * environment directory: catalog.y[a]ml, catalog*.y[a]ml, catalog/ ** /
 * *.y[a]ml (sorted); the same for parameters; pipelines.y[a]ml and
 * pipelines/ *.y[a]ml; hpcpipe.y[a]ml. Hidden files are ignored. Paths in
 * messages are relative to the current directory as given ("conf/base/
 * catalog.yml"). Errors: HP_ECONFIG (missing conf/base, unreadable file). */
int hp__conf_bundle_read(const char *confdir, const char *env, hp_buf *out,
                         hp_error *err);

typedef struct hp_conf {
  char *confdir;      /* as given, without trailing slash */
  char *root;         /* project root: the parent of confdir ("." if none) */
  char *env;          /* run environment name */
  hp_tree *catalog;   /* MAP (possibly empty) */
  hp_tree *params;    /* MAP (possibly empty) */
  hp_tree *pipelines; /* MAP: the `pipelines:` mapping (possibly empty) */
  hp_tree *settings;  /* MAP (possibly empty): hpcpipe.yml */
  char **files;       /* file names the trees point into */
  size_t nfiles;
} hp_conf;

/* Any rank. Parses and merges a bundle. Rules (docs/configuration.md):
 * within one environment, a top-level key in two files is an error naming
 * both files (for parameters, at every nesting level); the run environment
 * replaces base per top-level key (catalog, pipelines, settings) and
 * deep-merges parameters; top-level keys starting with '_' are dropped
 * from catalog and parameters. `params_override` is the --params text
 * ("k=v,a.b=v") or NULL: values typed as YAML scalars, dotted keys nested,
 * deep-merged into parameters (may add keys). Errors: HP_ECONFIG with
 * "file:line:col: ..." or "--params: ...". */
int hp__conf_load(const char *bundle, size_t len, const char *confdir,
                  const char *params_override, hp_conf **out, hp_error *err);
void hp__conf_free(hp_conf *c);

/* Joins a configuration path with the project root unless it is absolute;
 * returns a new string. */
char *hp__conf_path(const hp_conf *c, const char *path);
/* The store directory: settings `store` (default data/store) joined with
 * the root; a new string. */
char *hp__conf_store_dir(const hp_conf *c);

#endif
