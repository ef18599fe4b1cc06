/*
 * exec.c - the node context and the execution of one node on this rank:
 * bind inputs, call the function, check it set every output, fingerprint
 * and commit. Scheduling (which node, where) is sched.c's and worker.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include "exec.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "fs.h"
#include "log.h"
#include "map.h"
#include "mem.h"
#include "pool.h"
#include "store.h"
#include "tree.h"
#include "value.h"

/* The node running on this rank, for the crash report (crash.c). */
static const char *volatile running_node;

const char *hp__exec_running(void) {
  return running_node;
}

struct hp_node_ctx {
  hp_plan *pl;
  int32_t node;
  const hp_node *nd;
  const hp_value **in;  /* per input slot; NULL for parameters */
  const hp_tree **pin;  /* per input slot; parameter trees */
  hp_value **out;
  hp_value **owned; /* per input slot: the value this task loaded, or NULL */
  hp_error *err;
  /* why the last hp_node_input/hp_node_param refused: reported only if the
   * function then fails without a message of its own, so probing an
   * input's kind leaves no error behind */
  char refused[200];
};

const char *hp_node_name(const hp_node_ctx *ctx) {
  return ctx ? ctx->nd->name : "";
}

int hp_node_rank(const hp_node_ctx *ctx) {
  return ctx ? ctx->pl->rank : 0;
}

size_t hp_node_part(const hp_node_ctx *ctx) {
  return ctx && ctx->pl->task ? (size_t)ctx->pl->task[ctx->node].part : 0;
}

size_t hp_node_nparts(const hp_node_ctx *ctx) {
  return ctx && ctx->pl->task ? (size_t)ctx->pl->task[ctx->node].nparts : 1;
}

size_t hp_node_split_input(const hp_node_ctx *ctx) {
  if (!ctx || !ctx->pl->task || ctx->pl->task[ctx->node].phase != HP_PHASE_SPLIT)
    return 0;
  return (size_t)ctx->pl->task[ctx->node].uds;
}

const hp_tree *hp_node_args(const hp_node_ctx *ctx) {
  return ctx ? ctx->nd->args : NULL;
}

size_t hp_node_ninputs(const hp_node_ctx *ctx) {
  return ctx ? ctx->nd->nin : 0;
}

/* The user's node a partition task runs for (its inputs and outputs
 * match the task's slot for slot), or the task's own node otherwise. */
static const hp_node *user_node(const hp_node_ctx *ctx) {
  const hp_plan *pl = ctx->pl;
  if (!pl->task || pl->task[ctx->node].phase != HP_PHASE_RUN)
    return ctx->nd;
  const hp_node *u = &pl->upipe->nodes[pl->task[ctx->node].unode];
  return u->nin == ctx->nd->nin && u->nout == ctx->nd->nout ? u : ctx->nd;
}

const char *hp_node_input_name(const hp_node_ctx *ctx, size_t i) {
  if (!ctx || i >= ctx->nd->nin)
    return NULL;
  const hp_io *io = &user_node(ctx)->in[i];
  return io->arg ? io->arg : io->ds;
}

long hp_node_input_index(const hp_node_ctx *ctx, const char *name) {
  if (!ctx || !name)
    return -1;
  const hp_node *u = user_node(ctx);
  for (size_t i = 0; i < u->nin; i++) {
    const hp_io *io = &u->in[i];
    if ((io->arg && strcmp(io->arg, name) == 0) || strcmp(io->ds, name) == 0)
      return (long)i;
  }
  return -1;
}

int hp_node_input(hp_node_ctx *ctx, size_t i, const hp_value **out) {
  if (out)
    *out = NULL;
  if (!ctx || !out || i >= ctx->nd->nin)
    return HP_EINVAL;
  if (!ctx->in[i]) {
    snprintf(ctx->refused, sizeof ctx->refused,
             "input %zu ('%s') is a parameter, not a dataset", i,
             hp_node_input_name(ctx, i));
    return HP_EINVAL;
  }
  *out = ctx->in[i];
  return HP_OK;
}

hp_value *hp__node_take_input(hp_node_ctx *ctx, size_t i) {
  const hp_value *v;
  if (hp_node_input(ctx, i, &v) != HP_OK)
    return NULL;
  if (ctx->owned && ctx->owned[i] == v) { /* loaded here for this slot */
    ctx->owned[i] = NULL;
    return (hp_value *)(uintptr_t)v;
  }
  return hp_value_copy(v);
}

int hp_node_param(hp_node_ctx *ctx, size_t i, const hp_tree **out) {
  if (out)
    *out = NULL;
  if (!ctx || !out || i >= ctx->nd->nin)
    return HP_EINVAL;
  if (!hp__is_param(ctx->nd->in[i].ds)) {
    snprintf(ctx->refused, sizeof ctx->refused,
             "input %zu ('%s') is a dataset, not a parameter", i,
             hp_node_input_name(ctx, i));
    return HP_EINVAL;
  }
  *out = ctx->pin[i];
  return HP_OK;
}

int hp__node_table(hp_node_ctx *ctx, size_t i, const hp_value **t) {
  if (i >= hp_node_ninputs(ctx))
    return hp_node_fail(ctx, "needs a table input");
  HP_TRY(hp_node_input(ctx, i, t));
  if (hp_value_kind(*t) != HP_TABLE)
    return hp_node_fail(ctx, "input '%s' is not a table",
                        hp_node_input_name(ctx, i));
  return HP_OK;
}

size_t hp_node_noutputs(const hp_node_ctx *ctx) {
  return ctx ? ctx->nd->nout : 0;
}

const char *hp_node_output_name(const hp_node_ctx *ctx, size_t i) {
  if (!ctx || i >= ctx->nd->nout)
    return NULL;
  const hp_io *io = &user_node(ctx)->out[i];
  return io->arg ? io->arg : io->ds;
}

int hp_node_output(hp_node_ctx *ctx, size_t i, hp_value *v) {
  if (!ctx || !v || i >= ctx->nd->nout) {
    hp_value_free(v);
    if (!ctx) return HP_EINVAL;
    if (i >= ctx->nd->nout)
      return hp__fail(ctx->err, HP_EINVAL, "output %zu does not exist", i);
    return hp__fail(ctx->err, HP_EINVAL, "output '%s' set to NULL",
                    ctx->nd->out[i].ds);
  }
  if (ctx->out[i]) {
    hp_value_free(v);
    return hp__fail(ctx->err, HP_EINVAL, "output '%s' set twice",
                    ctx->nd->out[i].ds);
  }
  ctx->out[i] = v;
  return HP_OK;
}

void hp_node_log(hp_node_ctx *ctx, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  hp__log(HP_LOG_INFO, "node %s: %s", ctx ? ctx->nd->name : "?", msg);
}

int hp_node_fail(hp_node_ctx *ctx, const char *fmt, ...) {
  if (!ctx)
    return HP_ENODE;
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return hp__fail(ctx->err, HP_ENODE, "%s", msg);
}

static int is_stitch(const hp_plan *pl, int32_t node) {
  return pl->task && pl->task[node].phase == HP_PHASE_STITCH;
}

/* A stitch task: joins the partitions given as its inputs into the whole
 * dataset (its one output). Memory partitions are concatenated into the
 * output value; persistent ones are joined on disk and the output value
 * stays NULL (readers load it). */
static int stitch(hp_plan *pl, hp_node_ctx *ctx, uint64_t fp, hp_error *err) {
  const hp_graph *g = pl->g;
  int32_t node = ctx->node;
  const hp_dsdef *d = pl->ds[g->out_ds[g->out_off[node]]];
  size_t n = ctx->nd->nin;
  if (d->type == HP_DS_MEMORY)
    return hp__value_concat(ctx->in, n, &ctx->out[0], err);
  const hp_dsdef **parts = hp__xcalloc(n + 1, sizeof *parts);
  for (size_t i = 0; i < n; i++)
    parts[i] = pl->ds[g->in_ds[g->in_off[node] + i]];
  char when[32];
  hp__utc_now(when, ':');
  const hp_node *producer = &pl->upipe->nodes[pl->task[node].unode];
  hp_lineage lin = {.node = producer->name,
                    .func = producer->func,
                    .fingerprint = fp,
                    .time = when,
                    .run = pl->version};
  int rc = hp__ds_stitch(d, pl->version, parts, n, &lin, err);
  free(parts);
  return rc;
}

int hp__exec_uses_value(const hp_plan *pl, int32_t node, int32_t ds) {
  /* a stitch reads files' metadata, not their data */
  return !is_stitch(pl, node) || pl->ds[ds]->type == HP_DS_MEMORY;
}

int hp__exec_pass_value(const hp_plan *pl, int32_t node, int32_t ds) {
  return hp__exec_uses_value(pl, node, ds) && pl->ds[ds]->type != HP_DS_CSV;
}

char *hp__exec_spill_dir(const hp_plan *pl) {
  return hp__xasprintf("%s/.spill/%s", pl->store_dir, pl->version);
}

/* Where a spilled value lives: this run's spill directory, the task
 * dataset's index as the name (unique, the same on every rank). */
static char *spill_path(const hp_plan *pl, int32_t ds) {
  char *dir = hp__exec_spill_dir(pl);
  char *path = hp__xasprintf("%s/%d.h5", dir, (int)ds);
  free(dir);
  return path;
}

static size_t spill_min(void) {
  return hp__env_size("HPCPIPE_SPILL_MIN", (size_t)1 << 20);
}

int hp__exec_spillable(const hp_plan *pl, int32_t ds, const hp_value *v) {
  return pl->ds[ds]->spill && v && hp__value_size_hint(v) >= spill_min();
}

int hp__exec_spill(const hp_plan *pl, int32_t ds, const hp_value *v,
                   hp_error *err) {
  char *path = spill_path(pl, ds);
  int rc = hp__h5_save(path, NULL, v, NULL, err);
  free(path);
  return rc;
}

/* A source dataset (no producer in this run, so it does not change) that
 * several tasks read - the small side of a broadcast join, a lookup table
 * - stays loaded on this rank after its first load instead of being read
 * again by every task: up to LOADED_MAX bytes per value and in all. */
#define LOADED_MAX ((size_t)256 << 20)

static void keep_loaded(hp_plan *pl, int32_t ds, hp_value **owned,
                        uint64_t fp) {
  const hp_graph *g = pl->g;
  size_t sz = hp__value_size_hint(*owned);
  if (g->producer[ds] >= 0 || g->cons_off[ds + 1] - g->cons_off[ds] < 2 ||
      sz > LOADED_MAX - pl->loaded_bytes)
    return;
  if (!pl->loaded) {
    pl->loaded = hp__xcalloc(g->nds + 1, sizeof *pl->loaded);
    pl->loaded_fp = hp__xcalloc(g->nds + 1, sizeof *pl->loaded_fp);
  }
  pl->loaded[ds] = *owned;
  pl->loaded_fp[ds] = fp;
  pl->loaded_bytes += sz;
  *owned = NULL; /* the plan owns it now */
}

/* Binds input slot i: a given value, a parameter, or a load. */
static int bind_input(hp_plan *pl, const hp_task_io *io, int32_t ds,
                      hp_node_ctx *ctx, size_t i, hp_value **owned,
                      uint64_t *fp, uint64_t *nread, hp_error *err) {
  const hp_dsdef *d = pl->ds[ds];
  *fp = io->fp;
  if (io->own) { /* the caller's last use: ours now (freed unless taken) */
    ctx->in[i] = *owned = io->own;
    if (*fp == 0)
      *fp = hp__value_hash(io->own, HP_HASH_SEED);
    return HP_OK;
  }
  if (!hp__exec_uses_value(pl, ctx->node, ds))
    return HP_OK;
  if (d->type == HP_DS_PARAM) {
    ctx->pin[i] = pl->param[ds];
    *fp = hp__tree_hash(ctx->pin[i], HP_HASH_SEED);
    return HP_OK;
  }
  if (io->val) {
    ctx->in[i] = io->val;
  } else if (io->spilled) { /* a large memory value its producer spilled */
    char *path = spill_path(pl, ds);
    int rc = hp__h5_load(path, NULL, owned, err);
    free(path);
    HP_TRY(rc);
    ctx->in[i] = *owned;
    *nread += hp__value_size_hint(*owned);
  } else {
    if (d->type == HP_DS_MEMORY)
      return hp__fail(err, HP_EIO,
                      "memory dataset '%s' is not available: its producer "
                      "did not run in this run",
                      d->name);
    if (pl->loaded && pl->loaded[ds]) {
      ctx->in[i] = pl->loaded[ds];
      *fp = pl->loaded_fp[ds];
      return HP_OK;
    }
    /* its fingerprint from the same reading, unless the task has one */
    HP_TRY(hp__ds_load(d, pl->load_version[ds], owned, *fp ? NULL : fp, err));
    ctx->in[i] = *owned;
    *nread += hp__value_size_hint(*owned);
  }
  if (*fp == 0)
    *fp = hp__value_hash(ctx->in[i], HP_HASH_SEED);
  if (*owned && !io->spilled)
    keep_loaded(pl, ds, owned, *fp);
  return HP_OK;
}

static void fire(hp_plan *pl, int32_t node, hp_hook_kind kind, int attempt,
                 double secs, const char *ds, const char *path,
                 const char *msg);

/* Commits v to dataset ds's file (nothing for memory) with its lineage;
 * *stamp: the file's stamp, taken from the path just written (no version
 * lookup), and *bytes grows by v's size. */
static int commit(hp_plan *pl, const hp_node *nd, int32_t ds, hp_value *v,
                  uint64_t fp, uint64_t *stamp, uint64_t *bytes,
                  hp_error *err) {
  const hp_dsdef *d = pl->ds[ds];
  if (d->type == HP_DS_MEMORY)
    return HP_OK;
  char when[32];
  hp__utc_now(when, ':');
  hp_lineage lin = {.node = nd->name,
                    .func = nd->func,
                    .fingerprint = fp,
                    .time = when,
                    .run = pl->version};
  int rc = hp__ds_save(d, pl->version, v, &lin, err);
  if (rc != HP_OK)
    return rc;
  char *path = hp__ds_save_path(d, pl->version);
  *stamp = hp__ds_stamp_at(d, path);
  *bytes += hp__value_size_hint(v);
  free(path);
  return HP_OK;
}

/* The after_dataset_saved hooks of output i of node (committed). */
static void fire_saved(hp_plan *pl, int32_t node, int attempt, size_t i) {
  if (!hp__registry_has_hooks(pl->reg, HP_HOOK_AFTER_DATASET_SAVED))
    return;
  int32_t ds = pl->g->out_ds[pl->g->out_off[node] + i];
  char *path = hp__ds_save_path(pl->ds[ds], pl->version);
  fire(pl, node, HP_HOOK_AFTER_DATASET_SAVED, attempt, 0,
       pl->pipe->nodes[node].out[i].ds, path, NULL);
  free(path);
}

/* ---- saving in the background (exec.h) ---------------------------------
 * One thread per process takes queued tasks in order and commits their
 * outputs; the list holds every task not yet reported by hp__exec_saved. */

typedef struct save_job {
  struct save_job *next;
  hp_plan *pl;
  int32_t node;
  int attempt;
  size_t nout;
  hp_value **v;      /* [nout] the outputs saved here, else NULL */
  uint64_t *fp;      /* [nout] */
  uint8_t *freeme;   /* [nout] released meanwhile: freed once saved */
  int state;         /* 0 queued, 1 saving, 2 ended */
  int announced;     /* hp__exec_save_announce: may be notified */
  int hooked;        /* hooks to fire first, on the task's thread */
  int notified;      /* the notify function told of it */
  int rc;
  hp_error err;
  uint64_t *stamp;   /* [nout] */
  uint64_t bytes;
  double seconds;
} save_job;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t work, ended;
  save_job *head, *tail;
  size_t njobs;
  int thread; /* 0 not started, 1 running, 2 could not start */
  int (*notify)(const hp_saved *sv, void *arg);
  void *notify_arg;
  void (*idle)(void *arg); /* called every millisecond without a job */
  void *idle_arg;
  int idle_busy;           /* idle() is running (outside the lock) */
} sv = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
        PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL,
        0};

/* Jobs queued or being saved, for the crash handler (which may not take
 * the lock), and the saving thread. */
static volatile sig_atomic_t sv_unended;
static pthread_t saver_tid;
static volatile sig_atomic_t saver_known;
/* what the saving thread saves now: the node and the dataset */
static const char *volatile saving_node, *volatile saving_ds;

/* At most this many tasks' saves queued or going on: a task that would
 * add one more waits. Bounds the memory that values waiting for their
 * save hold (a partitioned node's parts would otherwise pile up when
 * the function outruns the disk) and what a crash can lose. */
#define SAVE_QUEUE 2

/* Waits on cv (with sv.mu held) for up to secs seconds. */
static void timed_wait(pthread_cond_t *cv, double secs) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += (time_t)secs;
  ts.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
  if (ts.tv_nsec >= 1000000000L)
    ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  pthread_cond_timedwait(cv, &sv.mu, &ts);
}

static void save_job_run(save_job *j) {
  const hp_graph *g = j->pl->g;
  const hp_node *nd = &j->pl->pipe->nodes[j->node];
  double t0 = hp__mono_now();
  j->rc = HP_OK;
  for (size_t i = 0; i < j->nout && j->rc == HP_OK; i++) {
    if (!j->v[i])
      continue;
    int32_t ds = g->out_ds[g->out_off[j->node] + i];
    saving_node = nd->name, saving_ds = g->dsname[ds];
    j->rc = commit(j->pl, nd, ds, j->v[i], j->fp[i], &j->stamp[i], &j->bytes,
                   &j->err);
    saving_node = saving_ds = NULL;
  }
  j->seconds = hp__mono_now() - t0;
  if (j->rc != HP_OK) {
    hp__error_prefix(&j->err, "node '%s' (rank %d): ", nd->name,
                     j->pl->rank);
    j->err.code = j->rc = HP_ENODE;
  }
}

/* What hp__exec_saved and the notify function are told of job j. */
static void saved_view(const save_job *j, hp_saved *out) {
  memset(out, 0, sizeof *out);
  out->node = j->node;
  out->attempt = j->attempt;
  out->rc = j->rc;
  out->err = j->err;
  out->nout = j->nout;
  out->stamp = j->stamp;
  out->bytes_out = j->bytes;
  out->seconds = j->seconds;
  out->notified = j->notified;
}

static void *save_thread(void *arg) {
  (void)arg;
  hp__fs_thread_crashes(); /* reported like one in a task (on_crash) */
  saver_tid = pthread_self();
  saver_known = 1;
  pthread_mutex_lock(&sv.mu);
  for (;;) {
    if (sv.idle) { /* other work first (each job, and every ms idle) */
      void (*fn)(void *) = sv.idle;
      void *fn_arg = sv.idle_arg;
      sv.idle_busy = 1;
      pthread_mutex_unlock(&sv.mu);
      fn(fn_arg);
      pthread_mutex_lock(&sv.mu);
      sv.idle_busy = 0;
      pthread_cond_broadcast(&sv.ended);
    }
    save_job *j = sv.head;
    while (j && j->state != 0)
      j = j->next;
    if (!j && sv.idle) { /* a short wait */
      timed_wait(&sv.work, 0.001);
      continue;
    }
    if (!j) {
      pthread_cond_wait(&sv.work, &sv.mu);
      continue;
    }
    j->state = 1;
    pthread_mutex_unlock(&sv.mu);
    save_job_run(j); /* the job's fields are this thread's until ended */
    pthread_mutex_lock(&sv.mu);
    /* not collected before state 2; hooks (after_dataset_saved,
     * on_node_error) fire before rank 0 hears of it, as they did when
     * saves were made in place: hp__exec_saved's caller tells then */
    if (j->announced && sv.notify && !j->hooked) {
      hp_saved view;
      int (*fn)(const hp_saved *, void *) = sv.notify;
      void *fn_arg = sv.notify_arg;
      j->notified = 1;
      saved_view(j, &view);
      pthread_mutex_unlock(&sv.mu);
      int told = fn(&view, fn_arg) == 0;
      pthread_mutex_lock(&sv.mu);
      j->notified = told;
    }
    j->state = 2;
    sv_unended--;
    pthread_cond_broadcast(&sv.ended);
  }
  return NULL;
}

/* Starts the thread once (signals stay with the task's thread); 0 if it
 * cannot run, and outputs are then saved in place. */
static int save_thread_up(void) {
  if (sv.thread == 0)
    sv.thread = hp__fs_thread(save_thread) ? 1 : 2;
  return sv.thread == 1;
}

/* Whether output dataset ds of this attempt of node may be saved in the
 * background: an HDF5 file, and no retry of the node to come (a failed
 * save fails the node for good; a retry would have to run before the
 * consumers that already read the value). */
static int save_later_ok(const hp_plan *pl, int32_t node, int attempt,
                         int32_t ds) {
  static int on = -1;
  if (on < 0)
    on = hp__env_size("HPCPIPE_BACKGROUND_SAVE", 1) != 0;
  int t = pl->ds[ds]->type;
  return on && (t == HP_DS_HDF5 || t == HP_DS_STORE) &&
         attempt > hp__plan_retries(pl, node) && save_thread_up();
}

static void save_later(hp_plan *pl, int32_t node, int attempt,
                       const hp_task_result *res, size_t nout) {
  save_job *j = hp__xcalloc(1, sizeof *j);
  j->pl = pl;
  j->node = node;
  j->attempt = attempt;
  j->nout = nout;
  j->v = hp__xcalloc(nout + 1, sizeof *j->v);
  j->fp = hp__xcalloc(nout + 1, sizeof *j->fp);
  j->freeme = hp__xcalloc(nout + 1, 1);
  j->stamp = hp__xcalloc(nout + 1, sizeof *j->stamp);
  j->err = (hp_error)HP_ERROR_INIT;
  j->hooked = hp__registry_has_hooks(pl->reg, HP_HOOK_AFTER_DATASET_SAVED) ||
              hp__registry_has_hooks(pl->reg, HP_HOOK_ON_NODE_ERROR);
  for (size_t i = 0; i < nout; i++) {
    j->v[i] = res->later[i] ? res->out[i] : NULL;
    j->fp[i] = res->fp[i];
  }
  pthread_mutex_lock(&sv.mu);
  while (sv_unended >= SAVE_QUEUE)
    pthread_cond_wait(&sv.ended, &sv.mu);
  if (sv.tail)
    sv.tail->next = j;
  else
    sv.head = j;
  sv.tail = j;
  sv.njobs++;
  sv_unended++;
  pthread_cond_signal(&sv.work);
  pthread_mutex_unlock(&sv.mu);
}

/* The job (unended or not reported) saving v and its slot; mu held. */
static save_job *job_of(const hp_value *v, size_t *slot) {
  for (save_job *j = sv.head; v && j; j = j->next)
    for (size_t i = 0; i < j->nout; i++)
      if (j->v[i] == v && !j->freeme[i]) {
        *slot = i;
        return j;
      }
  return NULL;
}

int hp__exec_is_saving(const hp_value *v) {
  size_t i;
  pthread_mutex_lock(&sv.mu);
  int r = job_of(v, &i) != NULL;
  pthread_mutex_unlock(&sv.mu);
  return r;
}

void hp__exec_release(hp_value *v) {
  if (!v)
    return;
  size_t i;
  pthread_mutex_lock(&sv.mu);
  save_job *j = job_of(v, &i);
  if (j)
    j->freeme[i] = 1;
  pthread_mutex_unlock(&sv.mu);
  if (!j)
    hp_value_free(v);
}

void hp__exec_save_notify(int (*fn)(const hp_saved *sv, void *arg),
                          void *arg) {
  pthread_mutex_lock(&sv.mu);
  sv.notify = fn;
  sv.notify_arg = arg;
  pthread_mutex_unlock(&sv.mu);
}

int hp__exec_save_idle(void (*fn)(void *arg), void *arg) {
  if (!save_thread_up())
    return -1;
  pthread_mutex_lock(&sv.mu);
  while (!fn && sv.idle_busy) /* a last call may still be running */
    pthread_cond_wait(&sv.ended, &sv.mu);
  sv.idle = fn;
  sv.idle_arg = arg;
  pthread_cond_signal(&sv.work);
  pthread_mutex_unlock(&sv.mu);
  return 0;
}

void hp__exec_save_announce(int32_t node) {
  pthread_mutex_lock(&sv.mu);
  for (save_job *j = sv.head; j; j = j->next)
    if (j->node == node)
      j->announced = 1;
  pthread_mutex_unlock(&sv.mu);
}

size_t hp__exec_saving(void) {
  pthread_mutex_lock(&sv.mu);
  size_t n = sv.njobs;
  pthread_mutex_unlock(&sv.mu);
  return n;
}

int hp__exec_saved(hp_plan *pl, hp_saved *out, double wait) {
  double end = hp__mono_now() + (wait > 0 ? wait : 0);
  save_job *j = NULL, *prev = NULL;
  pthread_mutex_lock(&sv.mu);
  for (;;) {
    prev = NULL;
    for (j = sv.head; j && j->state != 2; j = j->next)
      prev = j;
    if (j || sv.njobs == 0 || wait == 0)
      break;
    double left = end - hp__mono_now();
    if (wait > 0 && left <= 0)
      break;
    timed_wait(&sv.ended, wait < 0 ? 1.0 : left); /* for ever: 1 s at a time */
  }
  if (j) { /* unlinked: the thread no longer looks at it */
    if (prev)
      prev->next = j->next;
    else
      sv.head = j->next;
    if (sv.tail == j)
      sv.tail = prev;
    sv.njobs--;
  }
  pthread_mutex_unlock(&sv.mu);
  if (!j)
    return 0;
  saved_view(j, out);
  if (j->rc != HP_OK)
    fire(pl, j->node, HP_HOOK_ON_NODE_ERROR, j->attempt, 0, NULL, NULL,
         out->err.msg);
  for (size_t i = 0; i < j->nout; i++) {
    if (j->v[i] && j->rc == HP_OK)
      fire_saved(pl, j->node, j->attempt, i);
    if (j->freeme[i])
      hp_value_free(j->v[i]);
  }
  free(j->v), free(j->fp), free(j->freeme);
  free(j);
  return 1;
}

void hp__exec_saved_free(hp_saved *s) {
  free(s->stamp);
  s->stamp = NULL;
}

uint64_t hp__exec_task_fp(hp_plan *pl, int32_t node, const uint64_t *in_fp) {
  const hp_node *nd = &pl->pipe->nodes[node];
  uint64_t h = hp__registry_identity(pl->reg, nd->func);
  h = hp__tree_hash(nd->args, h);
  for (size_t i = 0; i < nd->nin; i++)
    h = hp__hash64(&in_fp[i], sizeof in_fp[i], h);
  return h;
}

uint64_t hp__exec_out_fp(uint64_t task_fp, const char *ds) {
  return hp__hash64(ds, strlen(ds), task_fp);
}

/* A node event for the plugins' hooks (not for stitch tasks, which are
 * hpcpipe's own). */
static void fire(hp_plan *pl, int32_t node, hp_hook_kind kind, int attempt,
                 double secs, const char *ds, const char *path,
                 const char *msg) {
  if (!hp__registry_has_hooks(pl->reg, kind) || is_stitch(pl, node))
    return;
  hp_hook_event ev = {.run = pl->version,
                      .rank = pl->rank,
                      .node = pl->pipe->nodes[node].name,
                      .attempt = attempt,
                      .seconds = secs,
                      .dataset = ds,
                      .path = path,
                      .status = msg};
  hp__registry_fire(pl->reg, kind, &ev);
}

int hp__exec_node(hp_plan *pl, int32_t node, int attempt,
                  const hp_task_io *in, hp_task_result *res, hp_error *err) {
  const hp_graph *g = pl->g;
  const hp_node *nd = &pl->pipe->nodes[node];
  size_t nin = nd->nin, nout = nd->nout;
  hp_node_ctx ctx = {.pl = pl, .node = node, .nd = nd, .err = err};
  ctx.in = hp__xcalloc(nin + 1, sizeof *ctx.in);
  ctx.pin = hp__xcalloc(nin + 1, sizeof *ctx.pin);
  ctx.out = hp__xcalloc(nout + 1, sizeof *ctx.out);
  hp_value **owned = hp__xcalloc(nin + 1, sizeof *owned);
  ctx.owned = owned;
  res->out = NULL;
  res->fp = NULL;
  res->stamp = NULL;
  res->later = NULL;
  res->seconds = res->load_seconds = res->save_seconds = 0;

  double t_load = hp__mono_now();
  uint64_t *in_fp = hp__xcalloc(nin + 1, sizeof *in_fp);
  int rc = HP_OK;
  res->bytes_in = res->bytes_out = 0;
  /* the task's cores from here: loads may parse on them too (csv.c) */
  hp__pool_task(node, attempt);
  for (size_t i = 0; i < nin && rc == HP_OK; i++) {
    int32_t ds = g->in_ds[g->in_off[node] + i];
    rc = bind_input(pl, &in[i], ds, &ctx, i, &owned[i], &in_fp[i],
                    &res->bytes_in, err);
  }
  res->load_seconds = hp__mono_now() - t_load;
  uint64_t h = hp__exec_task_fp(pl, node, in_fp);
  free(in_fp);
  res->task_fp = h;
  if (rc == HP_OK && is_stitch(pl, node)) {
    double t0 = hp__mono_now();
    res->fp = hp__xcalloc(nout + 1, sizeof *res->fp);
    res->fp[0] = hp__exec_out_fp(h, nd->out[0].ds);
    rc = stitch(pl, &ctx, res->fp[0], err);
    res->seconds = hp__mono_now() - t0;
    const hp_dsdef *d = pl->ds[g->out_ds[g->out_off[node]]];
    res->stamp = hp__xcalloc(nout + 1, sizeof *res->stamp);
    char *path = rc == HP_OK && d->type != HP_DS_MEMORY
                     ? hp__ds_save_path(d, pl->version)
                     : NULL;
    if (path)
      res->stamp[0] = hp__ds_stamp_at(d, path);
    if (path && hp__registry_has_hooks(pl->reg, HP_HOOK_AFTER_DATASET_SAVED)) {
      /* the whole partitioned dataset, saved by the user's node */
      hp_hook_event ev = {.run = pl->version,
                          .rank = pl->rank,
                          .node = pl->upipe->nodes[pl->task[node].unode].name,
                          .attempt = attempt,
                          .dataset = d->name,
                          .path = path};
      hp__registry_fire(pl->reg, HP_HOOK_AFTER_DATASET_SAVED, &ev);
    }
    free(path);
    goto done;
  }
  if (rc == HP_OK) {
    fire(pl, node, HP_HOOK_BEFORE_NODE_RUN, attempt, 0, NULL, NULL, NULL);
    double t0 = hp__mono_now();
    running_node = nd->name;
    rc = pl->fn[node]->run(&ctx);
    res->cores = hp__pool_used();
    hp__pool_task(-1, 0);
    running_node = NULL;
    res->seconds = hp__mono_now() - t0;
    if (rc != HP_OK && err->code == HP_OK && ctx.refused[0])
      hp__fail(err, HP_ENODE, "%s", ctx.refused);
    else if (rc != HP_OK && err->code == HP_OK)
      hp__fail(err, HP_ENODE, "function %s returned %s", nd->func,
               hp_err_name(rc));
    if (rc != HP_OK)
      rc = HP_ENODE;
  }
  for (size_t i = 0; i < nout && rc == HP_OK; i++)
    if (!ctx.out[i])
      rc = hp__fail(err, HP_ENODE, "function %s did not set output '%s'",
                    nd->func, nd->out[i].ds);
  if (rc == HP_OK) {
    fire(pl, node, HP_HOOK_AFTER_NODE_RUN, attempt, res->seconds, NULL, NULL,
         NULL);
    res->fp = hp__xcalloc(nout + 1, sizeof *res->fp);
    res->stamp = hp__xcalloc(nout + 1, sizeof *res->stamp);
    res->later = hp__xcalloc(nout + 1, 1);
    double t_save = hp__mono_now();
    size_t nlater = 0;
    for (size_t i = 0; i < nout && rc == HP_OK; i++) {
      int32_t ds = g->out_ds[g->out_off[node] + i];
      res->fp[i] = hp__exec_out_fp(h, nd->out[i].ds);
      if (save_later_ok(pl, node, attempt, ds)) {
        res->later[i] = 1;
        nlater++;
        continue;
      }
      rc = commit(pl, nd, ds, ctx.out[i], res->fp[i], &res->stamp[i],
                  &res->bytes_out, err);
      if (rc == HP_OK && pl->ds[ds]->type != HP_DS_MEMORY)
        fire_saved(pl, node, attempt, i);
    }
    res->save_seconds = hp__mono_now() - t_save;
    if (rc == HP_OK && nlater) {
      res->out = ctx.out; /* read by save_later */
      save_later(pl, node, attempt, res, nout);
    }
  }
done:
  hp__pool_task(-1, 0); /* (a stitch, or a load that failed) */
  for (size_t i = 0; i < nin; i++)
    hp_value_free(owned[i]);
  free(owned);
  free(ctx.in);
  free(ctx.pin);
  if (rc != HP_OK) {
    hp__error_prefix(err, "node '%s' (rank %d): ", nd->name, pl->rank);
    fire(pl, node, HP_HOOK_ON_NODE_ERROR, attempt, res->seconds, NULL, NULL,
         err->msg);
    err->code = HP_ENODE; /* whatever went wrong, this node failed: exit 1 */
    rc = HP_ENODE;
    for (size_t i = 0; i < nout; i++)
      hp_value_free(ctx.out[i]);
    free(ctx.out);
    free(res->fp);
    free(res->stamp);
    free(res->later);
    res->fp = NULL;
    res->stamp = NULL;
    res->later = NULL;
    return rc;
  }
  res->out = ctx.out;
  return HP_OK;
}

void hp__exec_result_free(hp_task_result *res, size_t nout) {
  if (res->out)
    for (size_t i = 0; i < nout; i++)
      hp__exec_release(res->out[i]);
  free(res->out);
  free(res->fp);
  free(res->stamp);
  free(res->later);
  res->out = NULL;
  res->fp = NULL;
  res->stamp = NULL;
  res->later = NULL;
}

static int crash_rank;

static void put_str(char *buf, size_t *n, size_t cap, const char *s) {
  while (*s && *n + 1 < cap)
    buf[(*n)++] = *s++;
}

static void put_int(char *buf, size_t *n, size_t cap, int x) {
  char d[16];
  int k = 0;
  do {
    d[k++] = (char)('0' + x % 10);
    x /= 10;
  } while (x && k < 15);
  while (k && *n + 1 < cap)
    buf[(*n)++] = d[--k];
}

/* A last line from a signal handler, async-signal-safe: formatted by hand
 * into buf, then write(2) and _exit(2). */
typedef struct last_line {
  char buf[512];
  size_t n;
} last_line;

static void last_begin(last_line *l) {
  l->n = 0;
  put_str(l->buf, &l->n, sizeof l->buf, "hpcpipe[");
  put_int(l->buf, &l->n, sizeof l->buf, crash_rank);
  put_str(l->buf, &l->n, sizeof l->buf, "]: error: ");
}

static void last_end(last_line *l, int code) {
  l->buf[l->n++] = '\n';
  ssize_t w = write(2, l->buf, l->n);
  (void)w;
  _exit(code);
}

static void on_crash(int sig) {
  last_line l;
  const char *node = running_node;
  /* outputs of earlier tasks still being saved are finished (up to 10 s):
   * their files carry their lineage, so a --resume need not make them
   * again; not if the saving thread is the one that crashed, nor if this
   * thread holds HDF5's lock (the saves could not go on) */
  int saver = saver_known && pthread_equal(pthread_self(), saver_tid);
  for (int i = 0; i < 1000 && sv_unended > 0 && !saver && !hp__h5_held();
       i++) {
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
  }
  const char *ds = NULL; /* the saving thread: its node, not the task's */
  if (saver) node = saving_node, ds = saving_ds;
  last_begin(&l);
  if (node) {
    put_str(l.buf, &l.n, sizeof l.buf, "node '");
    put_str(l.buf, &l.n, sizeof l.buf, node);
    put_str(l.buf, &l.n, sizeof l.buf, "' (rank ");
    put_int(l.buf, &l.n, sizeof l.buf, crash_rank);
    put_str(l.buf, &l.n, sizeof l.buf, ") crashed");
  } else {
    put_str(l.buf, &l.n, sizeof l.buf, "hpcpipe crashed");
  }
  put_str(l.buf, &l.n, sizeof l.buf, " with signal ");
  put_int(l.buf, &l.n, sizeof l.buf, sig);
  if (node && ds) {
    put_str(l.buf, &l.n, sizeof l.buf, " while saving dataset '");
    put_str(l.buf, &l.n, sizeof l.buf, ds);
    put_str(l.buf, &l.n, sizeof l.buf, "'");
  }
  last_end(&l, node ? HP_EXIT_NODE : HP_EXIT_INTERNAL);
}

static void handle(const int *sigs, size_t n, void (*fn)(int)) {
  for (size_t i = 0; i < n; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sigs[i], &sa, NULL);
  }
}

void hp__exec_crash_handlers(int rank) {
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  crash_rank = rank;
#ifdef __SANITIZE_ADDRESS__
  return; /* AddressSanitizer's report says more */
#endif
  /* Replaces Open MPI's backtrace printer: users get one line. */
  handle(sigs, sizeof sigs / sizeof sigs[0], on_crash);
}

/* ---- stopping: SIGTERM, SIGINT, SIGUSR1 ---- */

static volatile sig_atomic_t stop_sig; /* a signal this process got */
static volatile sig_atomic_t stop_req; /* a stop another rank asked for */
static volatile sig_atomic_t stop_alarm_secs;

/* Rank 0's leavings of an abandoned run (hp__exec_stop_resume,
 * hp__exec_stop_journal, hp__exec_stop_lock), read by on_stop */
static const char *volatile stop_resume;
static volatile int stop_journal = -1;
static char stop_lock[4096], stop_lock_text[600]; /* the lock: ours holds */
static size_t stop_lock_len;
static volatile sig_atomic_t stop_lock_set;

/* 1 if the lock file still holds what this run wrote (another run may
 * have taken over a lock it thought stale). Async-signal-safe. */
static int lock_is_ours(void) {
  char now[sizeof stop_lock_text];
  int fd = open(stop_lock, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, now, sizeof now);
  close(fd);
  return n == (ssize_t)stop_lock_len &&
         memcmp(now, stop_lock_text, stop_lock_len) == 0;
}

/* Async-signal-safe: a second signal, or the grace period running out
 * in-process, ends the process at once (exit 3). Rank 0 says so in one
 * line with the command that resumes, ends the journal (it has every
 * completed task; temporary files are swept by the next run) and frees
 * the store; a worker leaves that to rank 0. */
static void on_stop(int sig) {
  if (sig == SIGALRM || stop_sig) {
    if (crash_rank != 0) _exit(HP_EXIT_INTR);
    const char *node = running_node;
    char buf[8192];
    size_t n = 0;
    put_str(buf, &n, sizeof buf, "hpcpipe: error: interrupted by signal ");
    put_int(buf, &n, sizeof buf, stop_sig ? (int)stop_sig : sig);
    if (node) {
      put_str(buf, &n, sizeof buf, "; node '");
      put_str(buf, &n, sizeof buf, node);
      put_str(buf, &n, sizeof buf, "' abandoned");
    }
    put_str(buf, &n, sizeof buf,
            sig == SIGALRM ? " after the grace period"
                           : " (a second signal: no grace period)");
    const char *resume = stop_resume;
    if (resume) {
      put_str(buf, &n, sizeof buf, "\nhpcpipe: to resume: ");
      put_str(buf, &n, sizeof buf, resume);
    }
    buf[n++] = '\n';
    ssize_t w = write(2, buf, n);
    int fd = stop_journal;
    if (fd >= 0) { /* (a node name holds no quote or backslash) */
      n = 0;
      put_str(buf, &n, sizeof buf,
              "{\"event\":\"interrupted\",\"abandoned\":\"");
      put_str(buf, &n, sizeof buf, node ? node : "");
      put_str(buf, &n, sizeof buf, "\"}\n");
      w = write(fd, buf, n);
    }
    (void)w;
    if (stop_lock_set && lock_is_ours()) unlink(stop_lock);
    _exit(HP_EXIT_INTR);
  }
  stop_sig = sig;
  if (stop_alarm_secs > 0)
    alarm((unsigned)stop_alarm_secs);
}

void hp__exec_stop_resume(const char *resume) {
  stop_resume = resume;
}

void hp__exec_stop_journal(int journal_fd) {
  stop_journal = journal_fd;
}

void hp__exec_stop_lock(const char *lock) {
  stop_lock_set = 0;
  if (!lock || strlen(lock) >= sizeof stop_lock) return;
  memcpy(stop_lock, lock, strlen(lock) + 1);
  FILE *f = fopen(lock, "rb"); /* what it holds now: this run's */
  stop_lock_len = f ? fread(stop_lock_text, 1, sizeof stop_lock_text, f) : 0;
  if (f) fclose(f);
  stop_lock_set = stop_lock_len > 0 && stop_lock_len < sizeof stop_lock_text;
}

void hp__exec_stop_handlers(void) {
  static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGALRM};
  handle(sigs, sizeof sigs / sizeof sigs[0], on_stop);
}

void hp__exec_stop_ignore(void) {
  static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
  alarm(0);
  handle(sigs, sizeof sigs / sizeof sigs[0], SIG_IGN);
}

int hp__exec_stop_signal(void) {
  return stop_sig ? (int)stop_sig : (int)stop_req;
}

/* Not stop_sig: the first signal this process gets must not count as the
 * second one (which ends it at once). */
void hp__exec_request_stop(int sig) {
  if (!stop_req)
    stop_req = sig ? sig : SIGTERM;
}

int hp__exec_stop_file(int now) {
  static int ready, hit;
  static const char *path;
  static double last = -1;
  if (!ready) {
    path = getenv("HPCPIPE_STOP_FILE");
    if (path && !*path)
      path = NULL;
    ready = 1;
  }
  if (!path || hit)
    return hit;
  double t = hp__mono_now();
  if (!now && last >= 0 && t - last < 1.0)
    return 0;
  last = t;
  if (access(path, F_OK) == 0) {
    hit = 1;
    hp__exec_request_stop(SIGUSR1);
  }
  return hit;
}

void hp__exec_stop_alarm(unsigned secs) {
  stop_alarm_secs = (sig_atomic_t)secs;
  if (secs == 0)
    alarm(0);
}
