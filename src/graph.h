/*
 * graph.h - the dataset/node graph of a flat pipeline: interned dataset
 * names, producers and consumers, validation (unique outputs, no cycles),
 * a deterministic topological order, Kedro's filters, and scheduling
 * priorities. Pure: no MPI and no I/O.
 */
#ifndef HP_GRAPH_H
#define HP_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "map.h"
#include "pipeline.h"

typedef struct hp_graph {
  const hp_pipeline *p; /* borrowed */
  size_t nnodes;        /* == p->n */
  size_t nds;           /* distinct dataset names, params included */
  char **dsname;        /* [nds], strings borrowed from p */
  int32_t *producer;    /* [nds] node index, or -1 */
  /* CSR adjacency: node i reads in_ds[in_off[i] .. in_off[i+1]) (a dataset
   * listed twice appears twice), writes out_ds[out_off[i] .. out_off[i+1]);
   * dataset d is read by nodes cons[cons_off[d] .. cons_off[d+1]) (each
   * consumer once, ascending). */
  size_t *in_off;
  int32_t *in_ds;
  size_t *out_off;
  int32_t *out_ds;
  size_t *cons_off;
  int32_t *cons;
  int32_t *order; /* [nnodes] topological order: Kahn layers, each sorted by
                     node name */
  int32_t *layer; /* [nnodes] layer of each node (0-based) */
} hp_graph;

/* Any rank. Builds and validates: an output produced by two nodes (error
 * lists the sorted dataset names), a cycle (error names the nodes on one
 * cycle, in order). Errors: HP_EGRAPH. */
int hp__graph_build(const hp_pipeline *p, hp_graph **out, hp_error *err);
void hp__graph_free(hp_graph *g);
/* Dataset id of name, or -1. */
int32_t hp__graph_ds(const hp_graph *g, const char *name);

/* Kedro's filters, each a comma-free list of names; NULL/0 = not given. */
typedef struct hp_filter {
  const char *const *nodes;
  size_t nnodes;
  const char *const *from_nodes;
  size_t nfrom_nodes;
  const char *const *to_nodes;
  size_t nto_nodes;
  const char *const *from_inputs;
  size_t nfrom_inputs;
  const char *const *to_outputs;
  size_t nto_outputs;
  const char *const *tags;
  size_t ntags;
  const char *const *namespaces;
  size_t nnamespaces;
} hp_filter;

/* Any rank. Applies each given filter to the whole graph and intersects the
 * results into keep[nnodes] (1 = selected). Errors (HP_EUSAGE): unknown
 * node names (listed, sorted, with a "did you mean" for namespaced
 * matches), unknown datasets, unknown namespaces; an empty selection
 * ("no nodes left after applying the filters"). */
int hp__graph_select(const hp_graph *g, const hp_filter *f, uint8_t *keep,
                     hp_error *err);

/* Any rank. Priority of each node among the selected ones: the length (in
 * nodes) of the longest path from it to a sink of the selection; larger
 * runs first. prio[nnodes]; unselected nodes get 0. */
void hp__graph_priority(const hp_graph *g, const uint8_t *keep,
                        uint32_t *prio);
/* One more than the largest prio of node i's consumers (those kept, or
 * all when keep is NULL): a priority just ahead of what reads i. */
uint32_t hp__graph_after(const hp_graph *g, const uint8_t *keep,
                         const uint32_t *prio, int32_t i);

#endif
