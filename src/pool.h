/*
 * pool.h - the cores a task may use beyond its own thread, and the helper
 * threads that run hp_node_parallel's items on them. A rank's own cores
 * are HPCPIPE_THREADS (default: in-process, the CPUs the process may run
 * on; on a worker, 1); on a worker, rank 0 may lend the running task the
 * cores of idle workers on its host (sched.c, HP_MSG_CORES).
 */
#ifndef HP_POOL_H
#define HP_POOL_H

#include <stdint.h>

/* Sets this rank's own cores (in_process: the process is the whole run). */
void hp__pool_init(int in_process);
/* The task this rank's task thread runs now (-1: none). */
void hp__pool_task(int32_t node);
/* Rank 0 lends task `node` `cores` cores of other workers (0: none now);
 * ignored by any other task. Any thread. */
void hp__pool_lend(int32_t node, int cores);
/* The cores the running task may use now: its own and those lent to it. */
int hp__pool_cores(void);
/* The most threads one hp_node_parallel of the running task ran on (1 if
 * none ran on more). */
int hp__pool_used(void);

#endif
