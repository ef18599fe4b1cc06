/*
 * pipeline.h - pipelines.yml to a flat list of nodes, with Kedro's modular
 * pipeline semantics: reuse of a pipeline under a namespace with inputs/
 * outputs/parameters mappings, nested namespaces, tags on pipelines and
 * nodes, `__default__`, and validation of each node's own definition.
 * Graph-wide checks (unique outputs, cycles) belong to graph.h.
 */
#ifndef HP_PIPELINE_H
#define HP_PIPELINE_H

#include <stddef.h>

#include "error.h"
#include "tree.h"

typedef struct hp_io {
  char *arg; /* argument name (map form) or output key; NULL in list form */
  char *ds;  /* dataset name after namespacing and renaming */
} hp_io;

typedef struct hp_node {
  char *name; /* full name, "ns.inner.node" */
  char *func; /* registered function name, "core.identity" */
  char *ns;   /* namespace ("outer.inner") or NULL */
  hp_io *in;
  size_t nin;
  hp_io *out;
  size_t nout;
  char **tags; /* union of node and enclosing pipeline tags, sorted, unique */
  size_t ntags;
  const hp_tree *args; /* `args:` mapping or NULL; borrowed from the conf */
  int partitioned;     /* partitioned: true */
  int retries;         /* retries: N, or -1 when not given */
  const hp_tree *where; /* the node's YAML mapping, for messages */
} hp_node;

typedef struct hp_pipeline {
  hp_node *nodes; /* in declaration order (after expansion) */
  size_t n;
} hp_pipeline;

/* Any rank. Expands the named registered pipelines (NULL or n == 0:
 * "__default__") from the `pipelines:` mapping and unions them: identical
 * nodes (same name, inputs and outputs) are kept once. Node YAML:
 *   - node: NAME            (required, [A-Za-z0-9_.-]+)
 *     func: FUNC            (required)
 *     inputs: str | [str] | {arg: str}     (optional)
 *     outputs: str | [str] | {key: str}    (optional; not both absent)
 *     tags: str | [str]     args: {..}     partitioned: bool  retries: int
 *   - pipeline: NAME        (reuse; also a bare string item "NAME")
 *     namespace: NS  inputs/outputs/parameters: str | [str] | {old: new}
 *     tags: str | [str]
 * Errors (HP_ECONFIG or HP_EGRAPH, "file:line:col: ..."): unknown pipeline
 * (listing the registered names), a pipeline that includes itself, unknown
 * keys, bad types, an invalid name, duplicate outputs within one node, a
 * dataset both input and output of one node, a node with neither, bad
 * mappings (kedro.md section 1.4), two different nodes with one name. */
int hp__pipeline_build(const hp_tree *pipelines, const char *const *names,
                       size_t nnames, hp_pipeline **out, hp_error *err);
/* Frees a pipeline made by hp__pipeline_build (not one built by hand). */
void hp__pipeline_free(hp_pipeline *p);

/* 1 if ds is a parameter reference ("params:..." or "parameters"). */
int hp__is_param(const char *ds);

#endif
