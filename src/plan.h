/*
 * plan.h - everything a run needs, built identically on every rank from
 * the same configuration bundle: the merged configuration, catalog,
 * expanded pipeline, graph, selected nodes, resolved dataset definitions
 * and node functions. Building it validates everything that can be known
 * without running (what `hpcpipe check` reports).
 */
#ifndef HP_PLAN_H
#define HP_PLAN_H

#include <stdint.h>
#include <stdio.h>

#include "catalog.h"
#include "conf.h"
#include "graph.h"
#include "pipeline.h"
#include "part.h"
#include "registry.h"

typedef struct hp_plan_opts {
  const char *confdir;
  const char *env;
  const char *params;           /* --params text or NULL */
  const char *const *pipelines; /* --pipelines or NULL */
  size_t npipelines;
  hp_filter filter;
  const char *load_versions; /* --load-versions "ds:VER,..." or NULL */
  const char *store;         /* --store DIR (as typed) or NULL: settings */
} hp_plan_opts;

typedef struct hp_plan {
  hp_conf *conf;
  hp_catalog *cat;
  hp_registry *reg;
  /* The user's pipeline and graph, as written: what check, list and
   * --dry-run show and what the filters select from. */
  hp_pipeline *upipe;
  hp_graph *ug;
  uint8_t *ukeep;             /* [ug->nnodes] selected */
  size_t nsel;                /* selected user nodes */
  /* The tasks the scheduler runs (part.h): the user's graph itself when no
   * node is partitioned (task == NULL), else its expansion. Every array
   * below is indexed by task-level node or dataset. */
  hp_pipeline *pipe;
  hp_graph *g;
  hp_task *task;              /* [nnodes] or NULL */
  uint8_t *keep;              /* [nnodes] selected */
  uint32_t *prio;             /* [nnodes] */
  const hp_dsdef **ds;        /* [nds] */
  const hp_node_type **fn;    /* [nnodes] */
  const hp_tree **param;      /* [nds] parameter value for params datasets */
  char **load_version;        /* [nds] pinned load version or NULL */
  char *store_dir;            /* joined with the root */
  char *version;              /* this run's timestamp (set by the run) */
  size_t inline_max;          /* bytes: values up to this travel inline */
  int default_retries;
  int rank, size;
  void *part_owned;           /* what part.c allocated */
  /* exec.c: source datasets (no producer in this run) that several tasks
   * read, kept loaded on this rank after the first load, and their
   * fingerprints; freed with the plan. */
  struct hp_value **loaded;   /* [nds] or NULL */
  uint64_t *loaded_fp;        /* [nds] */
  size_t loaded_bytes;
} hp_plan;

/* How many times node n may be retried: its own `retries`, else the
 * run's default. */
int hp__plan_retries(const hp_plan *pl, int32_t n);

/* Any rank (every rank builds the same plan). Loads the bundle, settings,
 * plugins, pipelines and catalog, and checks: the graph, the filters, that
 * every function exists, every `params:` input resolves and every dataset
 * definition is valid. Errors: HP_ECONFIG / HP_EGRAPH / HP_EUSAGE with a
 * located message. */
int hp__plan_build(const char *bundle, size_t len, const hp_plan_opts *o,
                   int rank, int size, hp_plan **out, hp_error *err);
void hp__plan_free(hp_plan *p);

#endif
