/*
 * proto.h - the wire protocol between rank 0 and the workers: message
 * kinds, little helpers to write and read fixed-width fields, and sending
 * and receiving on the run's communicator without burning a core while
 * waiting. Scheduling decisions live in sched.c and worker.c.
 *
 *   TASK      0 -> w  node, attempt, per input {src, fp, [bytes]},
 *                     per output {keep}, datasets to drop from the cache
 *   DONE      w -> 0  node, seconds, task fp, bytes in, bytes out,
 *                     per output {fp, stamp, later (still being saved:
 *                     SAVED follows), rows, how, [bytes]}
 *   SAVED     w -> 0  node, code, message, seconds, bytes out,
 *                     per output {stamp}: its background saves ended
 *   FAIL      w -> 0  node, code, message
 *   SPILL     0 -> w  datasets it holds that another worker needs
 *   SPILLED   w -> 0  per dataset {id, size, how (SPILLED, or INLINE +
 *                     bytes if the file could not be written)}
 *   SHUTDOWN  0 -> w
 *   STOP      w -> 0  a signal asked this worker to stop (not a reply)
 */
#ifndef HP_PROTO_H
#define HP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "error.h"
#include "mem.h"

#define HP_TAG_MAP(X)                                                          \
  X(TASK, "task")                                                              \
  X(DONE, "done")                                                              \
  X(FAIL, "fail")                                                              \
  X(SHUTDOWN, "shutdown")                                                      \
  X(STOP, "stop")                                                              \
  X(SPILL, "spill")                                                            \
  X(SPILLED, "spilled")                                                        \
  X(SAVED, "saved")                                                            \
  X(CORES, "cores")

enum {
#define HP__T(name, s) HP_MSG_##name,
  HP_TAG_MAP(HP__T)
#undef HP__T
      HP_MSG_MAX
};

/* Where a task input comes from. */
enum {
  HP_SRC_LOAD = 0,
  HP_SRC_INLINE = 1,
  HP_SRC_CACHE = 2, /* held by the worker */
  HP_SRC_SPILL = 3,
  HP_SRC_GIVE = 4 /* held by the worker, and this task is its last use:
                     the task may take it over instead of copying it */
};
/* How a DONE message gives each output: kept by the worker only (others
 * load it from its file or, for a large memory value, from the spill file
 * rank 0 asks the worker to write), or inline bytes follow. A SPILLED
 * reply says, for each value asked for, SPILLED (written to the run's
 * spill file, hp__exec_spill; others load it from there) or INLINE. */
enum { HP_OUT_HELD = 0, HP_OUT_INLINE = 1, HP_OUT_SPILLED = 2 };

#define HP_MPI_TAG 7301
/* SPILL requests travel apart, so that a worker's saving thread can serve
 * them while its task thread runs a task (worker.c). */
#define HP_MPI_TAG_SPILL 7302
/* CORES grants too: the task thread reads them inside hp_node_parallel
 * (pool.h), whatever the saving thread is doing. */
#define HP_MPI_TAG_CORES 7303

const char *hp__msg_name(int kind);

/* Collective over comm: host[r] (on rank 0; host and cpus may be NULL
 * elsewhere) is the lowest rank sharing rank r's host
 * (MPI_COMM_TYPE_SHARED), or -1 for every rank if MPI cannot tell; and
 * cpus[r * len ..] the len bytes `mine` of rank r (its CPU mask). */
void hp__host_ids(MPI_Comm comm, const void *mine, int len, int *host,
                  void *cpus);

void hp__put_u8(hp_buf *b, uint8_t x);
void hp__put_u32(hp_buf *b, uint32_t x);
void hp__put_u64(hp_buf *b, uint64_t x);
void hp__put_f64(hp_buf *b, double x);
void hp__put_bytes(hp_buf *b, const void *p, size_t n); /* u64 len + data */

/* A reader over a received message; any read past the end sets bad. */
typedef struct hp_rd {
  const char *p;
  size_t len, pos;
  int bad;
} hp_rd;

uint8_t hp__get_u8(hp_rd *r);
uint32_t hp__get_u32(hp_rd *r);
uint64_t hp__get_u64(hp_rd *r);
double hp__get_f64(hp_rd *r);
/* Borrowed pointer to n bytes (length read first). */
const void *hp__get_bytes(hp_rd *r, size_t *n);

/* Sends b's bytes to rank `to`. Errors: HP_EMPI. */
int hp__send(MPI_Comm comm, int to, const hp_buf *b, hp_error *err);
/* Sends in flight, each with the buffer it must keep alive: rank 0 never
 * blocks on a send, so a worker sending a large result while rank 0 sends
 * it a large task cannot deadlock (both blocking sends would wait for the
 * other's receive once messages pass the eager limit). */
typedef struct hp_outbox {
  MPI_Request *req;
  hp_buf *buf;
  size_t n, cap;
} hp_outbox;

/* Starts sending b's bytes to `to`, taking b's contents (b is left
 * empty). Completed sends are reaped first. Errors: HP_EMPI. */
int hp__isend(hp_outbox *o, MPI_Comm comm, int to, hp_buf *b, hp_error *err);
/* The same with a tag of its own (HP_MPI_TAG_SPILL). */
int hp__isend_tag(hp_outbox *o, MPI_Comm comm, int to, int tag, hp_buf *b,
                  hp_error *err);
/* Reaps completed sends without waiting. */
int hp__outbox_progress(hp_outbox *o, hp_error *err);
/* Waits for every send, then frees the outbox. */
int hp__outbox_drain(hp_outbox *o, hp_error *err);

/* Waits for the next message from `from` (MPI_ANY_SOURCE for any), into
 * msg (replacing its contents); *src is the sender. Polls with a growing
 * sleep (up to 1 ms) so an idle rank uses no CPU. Errors: HP_EMPI. */
int hp__recv(MPI_Comm comm, int from, hp_buf *msg, int *src, hp_error *err);
/* The same, giving up after timeout seconds (< 0: never; 0: one look):
 * *got is 1 if a message arrived, 0 if the time ran out. */
int hp__recv_poll(MPI_Comm comm, int from, hp_buf *msg, int *src,
                  double timeout, int *got, hp_error *err);
/* One look for a message from `from` with tag `tag`: *got 1 and msg
 * filled if there is one. */
int hp__recv_tag_now(MPI_Comm comm, int from, int tag, hp_buf *msg, int *got,
                     hp_error *err);

#endif
