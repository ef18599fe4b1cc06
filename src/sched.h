/*
 * sched.h - rank 0's scheduler: a dependency count per node, a ready heap
 * ordered by priority (critical path first, then topological order),
 * dispatch to idle workers preferring the rank that already holds an
 * input, release of cached values after their last consumer, the run
 * journal, and failure handling. With one rank it executes in-process.
 */
#ifndef HP_SCHED_H
#define HP_SCHED_H

#include <mpi.h>

#include "plan.h"

/* Rank 0 only (collective with hp__worker_run on the other ranks of comm).
 * Runs the selected nodes of the plan. Returns HP_OK, or HP_ENODE with the
 * first failure's message in err (running tasks are allowed to finish and
 * nothing new starts), or HP_EMPI/HP_EIO. Always sends SHUTDOWN to every
 * worker before returning. */
int hp__sched_run(hp_plan *pl, MPI_Comm comm, hp_error *err);

#endif
