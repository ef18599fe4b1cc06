/*
 * part.h - partitions (DESIGN.md sections 3 and 4): expands the selected
 * nodes of the user's pipeline into the task graph the scheduler runs. A
 * node that maps over a partitioned input becomes one task per partition
 * ("clean[3]"), a reduction becomes partial tasks, a fixed tree of
 * combines and a finish, and every persistent partitioned output gets a
 * stitch task that writes the file readers open as one table. A pipeline
 * without partitioned nodes is its own task graph (nothing is copied).
 */
#ifndef HP_PART_H
#define HP_PART_H

#include <stdint.h>

#include "error.h"

struct hp_plan;

typedef enum hp_phase {
  HP_PHASE_RUN = 0,     /* the node type's run (whole, a partition, a partial) */
  HP_PHASE_COMBINE = 1, /* a reduction's combine of several partials */
  HP_PHASE_FINISH = 2,  /* a reduction's finish */
  HP_PHASE_STITCH = 3,  /* joins the partitions of a dataset into one */
  HP_PHASE_SPLIT = 4    /* a shuffle's split of one partition */
} hp_phase;

typedef struct hp_task {
  int32_t unode;  /* the user's node (index into plan->upipe) */
  int32_t uds;    /* stitch: the user dataset stitched; split: the index of
                     the input cut; else -1 */
  int32_t part;   /* partition (0 for whole runs) */
  int32_t nparts; /* partitions of the node's first input (1 when whole) */
  uint8_t phase;  /* hp_phase */
} hp_task;

/* A set of column names (owned copies), or every column (all). */
typedef struct hp_cols {
  int all;
  char **v;
  size_t n, cap;
} hp_cols;

void hp__cols_add(hp_cols *c, const char *name); /* once each */
void hp__cols_free(hp_cols *c);

struct hp_node_type;
struct hp_tree;
/* The columns of its dataset input number `input` (0: the first) a builtin
 * node reads, given the columns `keep` its outputs must carry; need->all
 * when it reads them all or does not say (plugins, most builtins).
 * frame.c. */
void hp__frame_columns(const struct hp_node_type *t, const struct hp_tree *args,
                       int input, const hp_cols *keep, hp_cols *need);

/* Checks what can be checked of a builtin's args before running (the
 * expressions of frame.filter and frame.assign parse). HP_ECONFIG with the
 * message; HP_OK for anything else. frame.c. */
int hp__frame_check(const struct hp_node_type *t, const struct hp_tree *args,
                    hp_error *err);

/* Fan-in of a reduction's combine tree. */
#define HP_COMBINE_FANIN 8

/* Any rank, after the user graph is built and the selection made. Sets
 * plan->pipe/g/keep/ds/fn/param/load_version to the task level (and
 * plan->task), keeping the user level in plan->upipe/ug/ukeep. Errors:
 * HP_ECONFIG (a source node's args, a reduction without input, a
 * versioned partitioned dataset), located at the node. */
int hp__part_expand(struct hp_plan *p, hp_error *err);

/* Frees what hp__part_expand added (no-op when nothing was expanded). */
void hp__part_free(struct hp_plan *p);

#endif
