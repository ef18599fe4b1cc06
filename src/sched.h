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

#include "journal.h"
#include "plan.h"

typedef struct hp_run_opts {
  hp_skip_mode skip;    /* --resume / --only-missing */
  int keep_going;       /* --keep-going */
  const char *command;  /* the command line, for the journal */
  int abandoned;        /* out: tasks still ran when the grace period
                           ended (the caller ends the MPI job) */
} hp_run_opts;

/* Rank 0 only (collective with hp__worker_run on the other ranks of comm).
 * Takes the store's lock, sweeps what killed runs left, skips the tasks
 * o->skip says are done, and runs the rest of the selection. Returns
 * HP_OK; HP_ENODE with the first failure's message in err (running tasks
 * finish; nothing new starts, except with keep_going, where every task
 * not downstream of a failure still runs); HP_EINTR when a signal stopped
 * it (running tasks got HPCPIPE_GRACE seconds, default 20, to finish);
 * HP_EUSAGE when another run holds the store; HP_EMPI/HP_EIO. Always
 * sends SHUTDOWN to every worker before returning. */
int hp__sched_run(hp_plan *pl, hp_run_opts *o, MPI_Comm comm,
                  hp_error *err);

#endif
