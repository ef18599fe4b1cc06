/*
 * worker.h - the worker loop of ranks 1..N-1: receive a TASK, bind its
 * inputs (cache, inline bytes or the store), run the node, send DONE or
 * FAIL; leave on SHUTDOWN.
 */
#ifndef HP_WORKER_H
#define HP_WORKER_H

#include <mpi.h>

#include "plan.h"

/* Ranks 1..N-1 (collective with hp__sched_run on rank 0). Returns HP_OK
 * after SHUTDOWN, or HP_EMPI if the communicator fails. Node failures are
 * reported to rank 0, not returned. */
int hp__worker_run(hp_plan *pl, MPI_Comm comm, hp_error *err);

#endif
