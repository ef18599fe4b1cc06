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
/* The task (node, attempt) this rank's task thread runs now (node -1:
 * none). */
void hp__pool_task(int32_t node, int attempt);
/* The bytes of a CPU mask (hp__pool_mask). */
#define HP_POOL_MASK 128
/* This process's CPU mask as hp__pool_init read it (the CPUs it may run
 * on; all zero if unknown). */
void hp__pool_mask(unsigned char mask[HP_POOL_MASK]);
/* Rank 0 lends that attempt of task `node` `cores` cores of other workers
 * (0: none now), whose processes may run on the CPUs of `mask` (NULL:
 * none); ignored by any other task. Helper threads then run on this
 * process's CPUs and those. */
void hp__pool_lend(int32_t node, int attempt, int cores,
                   const unsigned char *mask);
/* fn(arg) is called by hp_node_parallel's caller before it looks at the
 * cores (at most once a millisecond): the worker reads rank 0's grants
 * there. NULL: none. */
void hp__pool_poll(void (*fn)(void *arg), void *arg);
/* The cores the running task may use now: its own and those lent to it. */
int hp__pool_cores(void);
/* The most threads one hp_node_parallel of the running task ran on (1 if
 * none ran on more). */
int hp__pool_used(void);

#endif
