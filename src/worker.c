/*
 * worker.c - the worker side of the protocol. The cache holds values this
 * rank produced or received inline, by dataset id, until rank 0 says the
 * last consumer is done. A large memory value stays here alone until rank
 * 0 asks for it to be spilled (another worker needs it); such a request
 * is served by the saving thread at once, while a task runs (with
 * MPI_THREAD_MULTIPLE; else before the next task starts), so that the
 * other worker does not wait for this one's tasks.
 */
#define _POSIX_C_SOURCE 200809L
#include "worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "pool.h"
#include "log.h"
#include "proto.h"
#include "value.h"

typedef struct worker {
  hp_plan *pl;
  MPI_Comm comm;
  hp_value **cache; /* [nds] */
  hp_buf out;
  pthread_mutex_t spill_mu; /* serve_spills */
  int spill_thread;         /* the saving thread serves spill requests */
  int spill_warned; /* a spill file could not be written (said once) */
} worker;

static void drop(worker *w, uint32_t ds) {
  if (ds < w->pl->g->nds) {
    hp__exec_release(w->cache[ds]);
    w->cache[ds] = NULL;
  }
}

static int reply_fail(worker *w, int32_t node, const hp_error *e) {
  hp_error err = HP_ERROR_INIT;
  w->out.len = 0;
  hp__put_u32(&w->out, HP_MSG_FAIL);
  hp__put_u32(&w->out, (uint32_t)node);
  hp__put_u32(&w->out, (uint32_t)e->code);
  hp__put_bytes(&w->out, e->msg, strlen(e->msg));
  return hp__send(w->comm, 0, &w->out, &err);
}

static void reply_done(worker *w, int32_t node, hp_task_result *res,
                       const uint8_t *keep) {
  const hp_graph *g = w->pl->g;
  size_t nout = g->out_off[node + 1] - g->out_off[node];
  w->out.len = 0;
  hp__put_u32(&w->out, HP_MSG_DONE);
  hp__put_u32(&w->out, (uint32_t)node);
  hp__put_f64(&w->out, res->seconds);
  hp__put_f64(&w->out, res->load_seconds);
  hp__put_f64(&w->out, res->save_seconds);
  hp__put_u32(&w->out, (uint32_t)res->cores);
  hp__put_u64(&w->out, res->task_fp);
  hp__put_u64(&w->out, res->bytes_in);
  hp__put_u64(&w->out, res->bytes_out);
  hp__put_u32(&w->out, (uint32_t)nout);
  hp_buf packed = {0};
  for (size_t i = 0; i < nout; i++) {
    int32_t ds = g->out_ds[g->out_off[node] + i];
    hp__put_u64(&w->out, res->fp[i]);
    hp__put_u64(&w->out, res->stamp[i]);
    hp__put_u8(&w->out, res->later ? res->later[i] : 0);
    hp__put_u64(&w->out, (uint64_t)hp_value_rows(res->out[i]));
    packed.len = 0;
    int inl = 0;
    int mem = w->pl->ds[ds]->type == HP_DS_MEMORY;
    /* a large memory value stays here (rank 0 asks for a spill if another
     * worker needs it); NULL: joined on disk, readers load; clearly too
     * large: not packed */
    if (keep[i] && res->out[i] &&
        !(mem && hp__exec_spillable(w->pl, ds, res->out[i])) &&
        (mem || hp__value_size_hint(res->out[i]) <= 4 * w->pl->inline_max)) {
      hp__value_pack(res->out[i], &packed);
      inl = mem || packed.len <= w->pl->inline_max;
    }
    hp__put_u8(&w->out, inl ? HP_OUT_INLINE : HP_OUT_HELD);
    if (inl)
      hp__put_bytes(&w->out, packed.data, packed.len);
    if (keep[i] && res->out[i]) {
      drop(w, (uint32_t)ds);
      w->cache[ds] = res->out[i];
      res->out[i] = NULL;
    }
  }
  hp__buf_free(&packed);
}

/* Runs one TASK message; replies DONE or FAIL. */
static int run_task(worker *w, hp_rd *r, hp_error *err) {
  const hp_graph *g = w->pl->g;
  int32_t node = (int32_t)hp__get_u32(r);
  int attempt = (int)hp__get_u32(r) + 1;
  uint32_t nrel = hp__get_u32(r);
  for (uint32_t i = 0; i < nrel && !r->bad; i++)
    drop(w, hp__get_u32(r));
  if (r->bad || (size_t)node >= g->nnodes)
    return hp__fail(err, HP_EINTERNAL, "corrupt task message");
  size_t nin = g->in_off[node + 1] - g->in_off[node];
  size_t nout = g->out_off[node + 1] - g->out_off[node];
  hp_task_io *in = calloc(nin + 1, sizeof *in);
  hp_value **tmp = calloc(nin + 1, sizeof *tmp);
  uint8_t *keep = calloc(nout + 1, 1);
  hp_error e = HP_ERROR_INIT;
  int rc = (in && tmp && keep) ? HP_OK : HP_ENOMEM;
  for (size_t i = 0; i < nin && rc == HP_OK; i++) {
    int32_t ds = g->in_ds[g->in_off[node] + i];
    uint8_t src = hp__get_u8(r);
    in[i].fp = hp__get_u64(r);
    if (src == HP_SRC_INLINE) {
      size_t n;
      const void *p = hp__get_bytes(r, &n);
      rc = r->bad ? HP_EINTERNAL : hp__value_unpack(p, n, &tmp[i], &e);
      in[i].val = tmp[i];
    } else if (src == HP_SRC_CACHE) {
      in[i].val = w->cache[ds];
    } else if (src == HP_SRC_GIVE && hp__exec_is_saving(w->cache[ds])) {
      in[i].val = w->cache[ds]; /* read while its file is written */
    } else if (src == HP_SRC_GIVE) { /* its last use: the task's now */
      in[i].own = w->cache[ds];
      w->cache[ds] = NULL;
    } else if (src == HP_SRC_SPILL) {
      in[i].spilled = 1;
    }
  }
  for (size_t i = 0; i < nout; i++)
    keep[i] = hp__get_u8(r);
  if (r->bad)
    rc = hp__fail(&e, HP_EINTERNAL, "corrupt task message");
  hp_task_result res = {0};
  if (rc == HP_OK)
    rc = hp__exec_node(w->pl, node, attempt, in, &res, &e);
  if (rc == HP_OK) {
    reply_done(w, node, &res, keep);
    rc = hp__send(w->comm, 0, &w->out, err);
    if (rc == HP_OK) /* rank 0 knows the task: SAVED may follow */
      hp__exec_save_announce(node);
  } else {
    if (e.code == HP_OK)
      hp__fail(&e, rc, "node %d: %s", node, hp_strerror(rc));
    rc = reply_fail(w, node, &e);
  }
  hp__exec_result_free(&res, nout);
  for (size_t i = 0; i < nin; i++)
    hp_value_free(tmp[i]);
  free(tmp);
  free(in);
  free(keep);
  return rc;
}

/* A SAVED message for sv into b. */
static void put_saved(hp_buf *b, const hp_saved *sv) {
  b->len = 0;
  hp__put_u32(b, HP_MSG_SAVED);
  hp__put_u32(b, (uint32_t)sv->node);
  hp__put_u32(b, (uint32_t)sv->rc);
  hp__put_bytes(b, sv->err.msg, sv->rc ? strlen(sv->err.msg) : 0);
  hp__put_f64(b, sv->seconds);
  hp__put_u64(b, sv->bytes_out);
  hp__put_u32(b, (uint32_t)sv->nout);
  for (size_t i = 0; i < sv->nout; i++)
    hp__put_u64(b, sv->stamp[i]);
}

/* The saving thread's notify function (MPI_THREAD_MULTIPLE): tells rank 0
 * from that thread, while this rank's next task runs, so that consumers
 * on other workers need not wait for it to end. */
static int notify_saved(const hp_saved *sv, void *arg) {
  worker *w = arg;
  hp_buf b = {0};
  hp_error ignore = HP_ERROR_INIT;
  put_saved(&b, sv);
  int rc = hp__send(w->comm, 0, &b, &ignore);
  hp__buf_free(&b);
  return rc;
}

/* Tells rank 0 of each task whose background saves have ended (and the
 * saving thread has not told of), waiting up to `wait` seconds for the
 * first. */
static int report_saved(worker *w, double wait, hp_error *err) {
  hp_saved sv;
  int rc = HP_OK;
  while (rc == HP_OK && hp__exec_saved(w->pl, &sv, wait)) {
    if (!sv.notified) {
      put_saved(&w->out, &sv);
      rc = hp__send(w->comm, 0, &w->out, err);
    }
    hp__exec_saved_free(&sv);
    wait = 0;
  }
  return rc;
}

/* Runs one SPILL message: writes each value asked for to its spill file
 * and replies SPILLED (a value that cannot be written goes inline). */
static int serve_spill(worker *w, hp_rd *r, hp_error *err) {
  uint32_t n = hp__get_u32(r);
  hp_buf out = {0}, packed = {0};
  hp__put_u32(&out, HP_MSG_SPILLED);
  hp__put_u32(&out, n);
  int rc = HP_OK;
  for (uint32_t i = 0; i < n && rc == HP_OK; i++) {
    uint32_t ds = hp__get_u32(r);
    if (r->bad || ds >= w->pl->g->nds || !w->cache[ds]) {
      rc = hp__fail(err, HP_EINTERNAL,
                    "rank 0 asked for a value this rank does not hold");
      break;
    }
    hp__put_u32(&out, ds);
    hp__put_u64(&out, (uint64_t)hp__value_size_hint(w->cache[ds]));
    hp_error se = HP_ERROR_INIT;
    if (hp__exec_spill(w->pl, (int32_t)ds, w->cache[ds], &se) == HP_OK) {
      hp__put_u8(&out, HP_OUT_SPILLED);
      continue;
    }
    if (!w->spill_warned++)
      hp__log(HP_LOG_WARN,
              "%s; sending such values through rank 0 instead", se.msg);
    packed.len = 0;
    hp__value_pack(w->cache[ds], &packed);
    hp__put_u8(&out, HP_OUT_INLINE);
    hp__put_bytes(&out, packed.data, packed.len);
  }
  if (rc == HP_OK)
    rc = hp__send(w->comm, 0, &out, err);
  hp__buf_free(&out);
  hp__buf_free(&packed);
  return rc;
}

/* Serves the spill requests rank 0 has sent (HP_MPI_TAG_SPILL), without
 * waiting: from the saving thread every millisecond (while this rank's
 * task thread runs a task) or, without MPI_THREAD_MULTIPLE, from the task
 * thread between tasks. One thread at a time. A value asked for is in the
 * cache and stays there meanwhile: rank 0 asks only for a value whose
 * consumer elsewhere waits, so no task here takes it or drops it. */
static int serve_spills(worker *w, hp_error *err) {
  hp_buf m = {0};
  int got = 1, rc = HP_OK;
  pthread_mutex_lock(&w->spill_mu);
  while (rc == HP_OK && got) {
    rc = hp__recv_tag_now(w->comm, 0, HP_MPI_TAG_SPILL, &m, &got, err);
    if (rc == HP_OK && got) {
      hp_rd r = {.p = m.data, .len = m.len};
      if (hp__get_u32(&r) != HP_MSG_SPILL)
        rc = hp__fail(err, HP_EINTERNAL, "worker got a bad spill request");
      else
        rc = serve_spill(w, &r, err);
    }
  }
  pthread_mutex_unlock(&w->spill_mu);
  hp__buf_free(&m);
  return rc;
}

/* Reads rank 0's grants of other workers' cores (HP_MPI_TAG_CORES) and
 * hands them to the pool: from hp_node_parallel's calling thread (the
 * task thread) and between tasks. A grant for a task that has ended is
 * ignored by the pool. */
static void poll_cores(void *arg) {
  worker *w = arg;
  hp_buf m = {0};
  hp_error ignore = HP_ERROR_INIT;
  int got = 1;
  while (got && hp__recv_tag_now(w->comm, 0, HP_MPI_TAG_CORES, &m, &got,
                                 &ignore) == HP_OK && got) {
    hp_rd r = {.p = m.data, .len = m.len};
    uint32_t kind = hp__get_u32(&r), node = hp__get_u32(&r);
    uint32_t attempt = hp__get_u32(&r), cores = hp__get_u32(&r);
    size_t len = 0;
    const unsigned char *mask = hp__get_bytes(&r, &len);
    if (kind == HP_MSG_CORES && !r.bad)
      hp__pool_lend((int32_t)node, (int)attempt, (int)cores,
                    len == HP_POOL_MASK ? mask : NULL);
  }
  hp__buf_free(&m);
}

/* The saving thread's idle work: spill requests. A failure ends the job
 * (rank 0 would wait for the reply for ever). */
static void spill_idle(void *arg) {
  worker *w = arg;
  hp_error err = HP_ERROR_INIT;
  if (serve_spills(w, &err) != HP_OK) {
    hp__log(HP_LOG_ERROR, "%s; ending the MPI job", err.msg);
    fflush(stderr);
    MPI_Abort(w->comm, HP_EXIT_INTERNAL);
  }
}

/* Tells rank 0, once, that a signal asked this rank to stop (before any
 * task this rank then declines, which rank 0 would otherwise take for
 * lost). */
static int tell_stop(MPI_Comm comm, int *told, hp_error *err) {
  int sig = hp__exec_stop_signal();
  if (!sig || *told)
    return HP_OK;
  hp_buf stop = {0};
  hp__put_u32(&stop, HP_MSG_STOP);
  hp__put_u32(&stop, (uint32_t)sig);
  int rc = hp__send(comm, 0, &stop, err);
  hp__buf_free(&stop);
  *told = 1;
  return rc;
}

int hp__worker_run(hp_plan *pl, MPI_Comm comm, hp_error *err) {
  unsigned char mask[HP_POOL_MASK];
  hp__pool_init(0);
  hp__pool_mask(mask); /* first: rank 0 gathers hosts and masks (sched.c) */
  hp__host_ids(comm, mask, HP_POOL_MASK, NULL, NULL);
  worker w = {.pl = pl, .comm = comm};
  pthread_mutex_init(&w.spill_mu, NULL);
  w.cache = calloc(pl->g->nds + 1, sizeof *w.cache);
  int level = MPI_THREAD_SINGLE;
  MPI_Query_thread(&level);
  if (level == MPI_THREAD_MULTIPLE && w.cache) {
    hp__exec_save_notify(notify_saved, &w);
    w.spill_thread = hp__exec_save_idle(spill_idle, &w) == 0;
    hp__pool_poll(poll_cores, &w);
  }
  hp_buf msg = {0};
  int rc = w.cache ? HP_OK : HP_ENOMEM;
  int told = 0; /* rank 0 knows a signal asked this rank to stop */
  while (rc == HP_OK) {
    int src, got = 0;
    while (rc == HP_OK && !got) {
      hp__exec_stop_file(0);
      rc = tell_stop(comm, &told, err);
      /* with saves going on or spill requests to look for here, look
       * every 2 ms */
      double t = hp__exec_saving() || !w.spill_thread ? 0.002 : 0.25;
      if (rc == HP_OK)
        rc = hp__recv_poll(comm, 0, &msg, &src, t, &got, err);
      if (rc == HP_OK && !got)
        rc = report_saved(&w, 0, err);
      if (rc == HP_OK && !got && !w.spill_thread)
        rc = serve_spills(&w, err);
    }
    if (rc != HP_OK)
      break;
    hp_rd r = {.p = msg.data, .len = msg.len};
    uint32_t kind = hp__get_u32(&r);
    if (kind == HP_MSG_SHUTDOWN)
      break;
    if (kind != HP_MSG_TASK) {
      rc = hp__fail(err, HP_EINTERNAL, "worker got a '%s' message",
                    hp__msg_name((int)kind));
      break;
    }
    /* requests that came meanwhile first, and saves to tell of (those the
     * saving thread leaves to this one): another worker waits on them */
    if (!w.spill_thread)
      rc = serve_spills(&w, err);
    if (rc == HP_OK)
      rc = report_saved(&w, 0, err);
    if (rc != HP_OK)
      break;
    hp__exec_stop_file(0);
    if (hp__exec_stop_signal()) { /* a task queued before the stop */
      rc = tell_stop(comm, &told, err);
      hp_error e = HP_ERROR_INIT;
      hp__fail(&e, HP_EINTR, "not started: stopping");
      if (rc == HP_OK)
        rc = reply_fail(&w, (int32_t)hp__get_u32(&r), &e);
      continue;
    }
    rc = run_task(&w, &r, err);
    if (rc == HP_OK)
      rc = report_saved(&w, 0, err);
    poll_cores(&w); /* grants left for the task that ended */
  }
  /* rank 0 waits for every save (and spill) before it ends the run; after
   * a failure or a stop, files being written are still finished */
  hp_saved sv;
  poll_cores(&w); /* none left unread when MPI ends */
  hp__pool_poll(NULL, NULL);
  if (w.spill_thread)
    hp__exec_save_idle(NULL, NULL);
  hp__exec_save_notify(NULL, NULL);
  while (hp__exec_saved(pl, &sv, -1))
    hp__exec_saved_free(&sv);
  if (rc != HP_OK) {
    /* rank 0 waits for this worker's reply and would wait forever */
    hp__log(HP_LOG_ERROR, "%s; ending the MPI job", err->msg);
    fflush(stderr);
    MPI_Abort(comm, HP_EXIT_INTERNAL);
  }
  if (w.cache)
    for (size_t d = 0; d < pl->g->nds; d++)
      hp_value_free(w.cache[d]); /* every save has ended */
  free(w.cache);
  hp__buf_free(&msg);
  hp__buf_free(&w.out);
  pthread_mutex_destroy(&w.spill_mu);
  return rc;
}
