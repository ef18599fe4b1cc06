/*
 * sched.c - rank 0's scheduler (and the in-process executor when there is
 * one rank). Bookkeeping per node: unfinished input producers; per
 * dataset: consumers left that are handed its value (not a stitch task,
 * nor a reader of a csv file: hp__exec_pass_value), the worker caching
 * it, its fingerprint and, for small or memory values, its packed bytes. A node becomes ready when its
 * count reaches zero; ready nodes leave the heap highest priority first.
 */
#define _POSIX_C_SOURCE 200809L
#include "sched.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "fs.h"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "proto.h"
#include "report.h"
#include "value.h"

typedef struct sched {
  hp_plan *pl;
  hp_run_opts *o;
  uint8_t *run;     /* [nn] selected, not skipped: the tasks to run */
  uint8_t *active;  /* [nn] dispatched, not back yet */
  double *started;  /* [nn] when dispatched (s since t0) */
  size_t nfailed;   /* tasks failed for good (keep-going counts them) */
  double grace_end; /* > 0: stopping, running tasks have until then */
  const hp_graph *g;
  MPI_Comm comm;
  int nworkers; /* size - 1; 0 = in-process */
  int depth;    /* tasks in flight per worker */
  uint32_t *deps;
  uint32_t *pos; /* position in topological order */
  double *urank; /* [nn] seconds from a task's start to the end of the
                    longest path after it, by the journal; NULL: none */
  double *expect; /* [nn] its seconds last time, -1 unknown; or NULL */
  int *nlong;     /* [size] tasks in flight expected to be long */
  /* Cores lent (pool.h): an idle worker's core goes to the one task
   * running on a busy worker of its host until a task comes for it. */
  int lending;        /* on: MPI_THREAD_MULTIPLE, HPCPIPE_LEND not 0 */
  int relend;         /* a worker's load changed since lend() looked */
  int *host;          /* [size] hp__host_ids */
  unsigned char *cpus; /* [size][HP_POOL_MASK] each rank's CPU mask */
  int *lent_to;       /* [size] the worker an idle one's core is lent to */
  int *nlent;         /* [size] cores lent to a worker's task */
  int32_t *lent_node; /* [size] that task */
  int32_t *last;      /* [size] the task last sent to a worker: the one
                         it runs when it has one in flight (in order) */
  int *saving;        /* [size] tasks whose saves a worker still writes */
  int *attempt;
  int32_t *heap;
  size_t nheap;
  int32_t *cons_left; /* [nds] consumers left that read the value */
  int32_t *holder;    /* [nds] worker rank caching it, or -1 */
  uint64_t *fp;       /* [nds] */
  uint64_t *ofp;      /* a task's output fingerprints, for the journal */
  size_t ofp_cap;
  char **inl;         /* [nds] packed bytes */
  uint8_t *spilled;   /* [nds] written to this run's spill file */
  uint8_t *pinned;    /* [nds] a large memory value only its holder has */
  uint8_t *moving;    /* [nds] its holder was asked to spill it */
  uint8_t *waiting;   /* [nn] ready, waiting for inputs being spilled or
                         saved */
  size_t nmoving;     /* spill requests not answered yet */
  uint8_t *unsaved;   /* [nds] its file is being written in the background
                         (exec.h): only its holder has the value */
  struct pending {
    hp_task_result res; /* the figures of a task whose saves go on */
    double start;
  } *pend;              /* [nn] */
  size_t nsaving;       /* tasks whose saves go on */
  int spread;         /* HPCPIPE_SPREAD: tasks go round the workers */
  int next;           /* the worker the next spread task tries first */
  size_t moved;       /* values moved so, and their bytes */
  uint64_t moved_bytes;
  size_t *inl_len;
  hp_value **local; /* [nds] in-process cache */
  int *inflight;    /* [size] */
  hp_buf *rel;      /* [size] datasets to drop, u32 each */
  size_t done, total, running;
  int failed; /* stop dispatching: a task failed (without keep-going) */
  hp_error ferr;
  hp_journal *journal;
  hp_report *report;
  hp_buf msg, out; /* received; being built to send */
  hp_outbox outbox;
  uint8_t *ended; /* [nn] 1 done, 2 failed for good */
  double t0, last_progress, last_beat;
} sched;


/* Heap order: the longest expected path of work first (by the journal's
 * seconds), then higher priority (the longest path in nodes), then earlier
 * topological position. */
static int before(const sched *s, int32_t a, int32_t b) {
  if (s->urank && s->urank[a] != s->urank[b])
    return s->urank[a] > s->urank[b];
  uint32_t pa = s->pl->prio[a], pb = s->pl->prio[b];
  if (pa != pb)
    return pa > pb;
  return s->pos[a] < s->pos[b];
}

static void heap_push(sched *s, int32_t n) {
  size_t i = s->nheap++;
  s->heap[i] = n;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!before(s, s->heap[i], s->heap[p]))
      break;
    int32_t t = s->heap[i];
    s->heap[i] = s->heap[p];
    s->heap[p] = t;
    i = p;
  }
}

static int32_t heap_pop(sched *s) {
  int32_t top = s->heap[0];
  s->heap[0] = s->heap[--s->nheap];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->nheap && before(s, s->heap[l], s->heap[m]))
      m = l;
    if (r < s->nheap && before(s, s->heap[r], s->heap[m]))
      m = r;
    if (m == i)
      break;
    int32_t t = s->heap[i];
    s->heap[i] = s->heap[m];
    s->heap[m] = t;
    i = m;
  }
  return top;
}

/* 1 if dataset d appears earlier than slot k among node n's inputs. */
static int seen_before(const hp_graph *g, int32_t n, size_t k) {
  for (size_t j = g->in_off[n]; j < k; j++)
    if (g->in_ds[j] == g->in_ds[k])
      return 1;
  return 0;
}

/* Upward ranks (HEFT's): a task's seconds last time, plus the largest
 * upward rank among the tasks that read its outputs. A task the journal
 * does not know counts as the mean of those it knows. Without any
 * history, s->urank stays NULL and priorities decide (a first run). */
static void upward_ranks(sched *s) {
  const hp_graph *g = s->g;
  double *w = hp__journal_seconds(s->pl);
  if (!w)
    return;
  double sum = 0;
  size_t known = 0;
  for (size_t n = 0; n < g->nnodes; n++)
    if (s->run[n] && w[n] >= 0)
      sum += w[n], known++;
  double mean = known ? sum / (double)known : 0;
  s->urank = hp__xcalloc(g->nnodes + 1, sizeof *s->urank);
  for (size_t k = g->nnodes; k-- > 0;) {
    int32_t n = g->order[k];
    if (!s->run[n])
      continue;
    double after = 0;
    for (size_t o = g->out_off[n]; o < g->out_off[n + 1]; o++) {
      int32_t d = g->out_ds[o];
      for (size_t c = g->cons_off[d]; c < g->cons_off[d + 1]; c++)
        if (s->run[g->cons[c]] && s->urank[g->cons[c]] > after)
          after = s->urank[g->cons[c]];
    }
    s->urank[n] = (w[n] >= 0 ? w[n] : mean) + after;
  }
  s->expect = w;
}

/* A task that took at least this long last time is not queued behind:
 * a worker running one takes no second task (HPCPIPE_DEPTH) until it
 * is done, so that short tasks go to workers that will be free soon. */
#define LONG_TASK 0.1

static int long_task(const sched *s, int32_t n) {
  return s->expect && s->expect[n] >= LONG_TASK;
}

/* 1 if worker c takes no more tasks now: its queue is full, or it runs a
 * long task. */
static int full(const sched *s, int c) {
  return s->inflight[c] >= s->depth || (s->inflight[c] > 0 && s->nlong[c]);
}

static void init_counts(sched *s) {
  const hp_graph *g = s->g;
  const uint8_t *run = s->run;
  for (size_t i = 0; i < g->nnodes; i++)
    s->pos[g->order[i]] = (uint32_t)i;
  for (size_t d = 0; d < g->nds; d++) {
    s->holder[d] = -1;
    for (size_t k = g->cons_off[d]; k < g->cons_off[d + 1]; k++)
      s->cons_left[d] += run[g->cons[k]] &&
                         hp__exec_pass_value(s->pl, g->cons[k], (int32_t)d);
  }
  for (size_t i = 0; i < g->nnodes; i++) {
    int32_t n = g->order[i];
    if (!run[n])
      continue;
    s->total++;
    for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
      int32_t p = g->producer[g->in_ds[k]];
      if (p >= 0 && run[p] && !seen_before(g, n, k))
        s->deps[n]++;
    }
    if (s->deps[n] == 0)
      heap_push(s, n);
  }
}

static void release(sched *s, int32_t d) {
  s->pinned[d] = 0;
  free(s->inl[d]);
  s->inl[d] = NULL;
  hp__exec_release(s->local[d]);
  s->local[d] = NULL;
  if (s->holder[d] > 0)
    hp__put_u32(&s->rel[s->holder[d]], (uint32_t)d);
  s->holder[d] = -1;
}

static const char *fmt_secs(double x, char *buf, size_t n) {
  if (x < 60)
    snprintf(buf, n, "%.0f s", x);
  else if (x < 3600)
    snprintf(buf, n, "%dm%02ds", (int)(x / 60), (int)x % 60);
  else
    snprintf(buf, n, "%dh%02dm", (int)(x / 3600), (int)(x / 60) % 60);
  return buf;
}

/* Rank 0's view of the run: on a terminal a bar redrawn in place, else a
 * line every HPCPIPE_PROGRESS seconds (default 5): done/total, what is
 * running, elapsed time and the time left at the rate so far. */
static void progress(sched *s, int last) {
  static int tty = -1;
  static double every;
  if (tty < 0) {
    every = (double)hp__env_size("HPCPIPE_PROGRESS", 5);
    tty = isatty(2) && every > 0;
    every = tty ? 0.25 : every;
  }
  double t = hp__mono_now();
  if (every <= 0 || (!last && t - s->last_progress < every) ||
      (last && !tty))
    return;
  s->last_progress = t;
  const char *unit = s->pl->task ? "tasks" : "nodes";
  char names[160] = "", saving[40] = "", a[32], b[32];
  size_t len = 0, shown = 0;
  for (size_t i = 0; i < s->g->nnodes && s->running; i++) {
    if (!s->active[i])
      continue;
    const char *nm = s->pl->pipe->nodes[i].name;
    if (shown < 3 && len + strlen(nm) + 3 < sizeof names - 8)
      len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                              shown ? ", " : " (", nm);
    shown++;
  }
  if (shown)
    snprintf(names + len, sizeof names - len, "%s)",
             shown > 3 ? ", ..." : "");
  if (s->nsaving) /* finished, not yet done: their files are written */
    snprintf(saving, sizeof saving, ", %zu saving", s->nsaving);
  double el = t - s->t0;
  char eta[48] = "";
  if (s->done > 0 && s->done < s->total)
    snprintf(eta, sizeof eta, ", ETA %s",
             fmt_secs(el / (double)s->done * (double)(s->total - s->done), b,
                      sizeof b));
  if (tty) {
    int w = 24, fill = s->total ? (int)(w * s->done / s->total) : w;
    hp__log_over_bar(!last);
    fprintf(stderr, "\r\033[K[%.*s%*s] %zu/%zu %s, %zu running%s%s, %s%s%s",
            fill, "########################", w - fill, "", s->done, s->total,
            unit, s->running, names, saving, fmt_secs(el, a, sizeof a), eta,
            last ? "\n" : "");
    fflush(stderr);
    return;
  }
  hp__log(HP_LOG_INFO, "progress: %zu/%zu %s done, %zu running%s%s, %s%s",
          s->done, s->total, unit, s->running, names, saving,
          fmt_secs(el, a, sizeof a), eta);
}

/* A node's outputs are made: release inputs, wake consumers. */
static void finish_outputs(sched *s, int32_t n) {
  const hp_graph *g = s->g;
  const uint8_t *run = s->run;
  for (size_t k = g->out_off[n]; k < g->out_off[n + 1]; k++) {
    int32_t d = g->out_ds[k];
    for (size_t c = g->cons_off[d]; c < g->cons_off[d + 1]; c++) {
      int32_t m = g->cons[c];
      if (run[m] && --s->deps[m] == 0)
        heap_push(s, m);
    }
    if (s->cons_left[d] == 0) /* no consumer reads the value */
      release(s, d);
  }
  for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
    int32_t d = g->in_ds[k];
    if (seen_before(g, n, k) || !hp__exec_pass_value(s->pl, n, d))
      continue;
    if (--s->cons_left[d] == 0)
      release(s, d);
  }
}

/* When task n began: when it was sent, or when its loads had to begin to
 * end by now, whichever is later. */
static double task_start(const sched *s, int32_t n,
                         const hp_task_result *res) {
  double end = hp__mono_now() - s->t0;
  double whole = res->load_seconds + res->seconds + res->save_seconds;
  return s->started[n] > end - whole ? s->started[n] : end - whole;
}

/* A node's outputs are committed: it counts as done, in the journal and
 * the report. */
static void finish_record(sched *s, int32_t n, int rank,
                          const hp_task_result *res, double start) {
  const hp_graph *g = s->g;
  s->done++;
  s->ended[n] = 1;
  if (s->journal) {
    size_t nout = g->out_off[n + 1] - g->out_off[n];
    hp__grow(&s->ofp, &s->ofp_cap, nout + 1, sizeof *s->ofp);
    for (size_t k = 0; k < nout; k++)
      s->ofp[k] = s->fp[g->out_ds[g->out_off[n] + k]];
    hp__journal_done(s->journal, s->pl, n, res->task_fp, s->ofp, res->stamp,
                     rank, s->attempt[n] + 1, start, res->seconds,
                     res->bytes_in, res->bytes_out);
  }
  hp__report_task(s->report, n, rank, s->attempt[n] + 1, start, res);
}

static int inputs_moving(const sched *s, int32_t n);
static int node_failed(sched *s, int32_t n, const hp_error *e);

/* Tasks that waited for dataset d (spilled or saved) and wait for nothing
 * else go back to the ready heap (place() looks again). */
static void wake(sched *s, int32_t d) {
  const hp_graph *g = s->g;
  for (size_t k = g->cons_off[d]; k < g->cons_off[d + 1]; k++) {
    int32_t c = g->cons[k];
    if (s->waiting[c] && !inputs_moving(s, c)) {
      s->waiting[c] = 0;
      heap_push(s, c);
    }
  }
}

/* Task n finished on rank (0: in-process) with res: outputs still being
 * saved (later) are held by that rank alone until saved(); the task is
 * recorded then. */
static void finish(sched *s, int32_t n, int rank, const hp_task_result *res,
                   const uint8_t *later) {
  const hp_graph *g = s->g;
  size_t nout = g->out_off[n + 1] - g->out_off[n], nlater = 0;
  for (size_t i = 0; later && i < nout; i++)
    if (later[i]) {
      s->unsaved[g->out_ds[g->out_off[n] + i]] = 1;
      nlater++;
    }
  finish_outputs(s, n);
  double start = task_start(s, n, res);
  if (!nlater) {
    finish_record(s, n, rank, res, start);
    return;
  }
  hp_task_result *p = &s->pend[n].res;
  *p = *res;
  p->out = NULL, p->fp = NULL, p->later = NULL;
  p->stamp = hp__xcalloc(nout + 1, sizeof *p->stamp);
  memcpy(p->stamp, res->stamp, nout * sizeof *p->stamp);
  s->pend[n].start = start;
  s->nsaving++;
  s->saving[rank]++;
}

/* Task n's background saves ended (sv): its outputs' files are there for
 * every rank, and the task is recorded; or a save failed, and the node
 * with it. */
static int saved(sched *s, int32_t n, int rank, const hp_saved *sv) {
  const hp_graph *g = s->g;
  size_t nout = g->out_off[n + 1] - g->out_off[n];
  hp_task_result *p = &s->pend[n].res;
  s->nsaving--;
  s->saving[rank]--;
  s->relend = 1;
  /* a failed save leaves its datasets unsaved for good: consumers that
   * need the file never start (they did not run), those with the value
   * on its holder may have */
  for (size_t i = 0; i < nout && sv->rc == HP_OK; i++) {
    int32_t d = g->out_ds[g->out_off[n] + i];
    if (!s->unsaved[d])
      continue;
    s->unsaved[d] = 0;
    p->stamp[i] = sv->stamp[i]; /* the saved ones' */
    wake(s, d);
  }
  int rc = HP_OK;
  if (sv->rc != HP_OK) {
    hp_error e = sv->err;
    e.rank = rank;
    rc = node_failed(s, n, &e);
  } else {
    p->save_seconds += sv->seconds;
    p->bytes_out += sv->bytes_out;
    finish_record(s, n, rank, p, s->pend[n].start);
  }
  free(p->stamp);
  memset(p, 0, sizeof *p);
  return rc;
}

static int node_failed(sched *s, int32_t n, const hp_error *e) {
  int retries = hp__plan_retries(s->pl, n);
  int again = !s->failed && s->attempt[n] < retries;
  double end = hp__mono_now() - s->t0;
  hp__report_failure(s->report, n, e->rank < 0 ? 0 : e->rank,
                     s->attempt[n] + 1, s->started[n], end - s->started[n],
                     e->msg, !again);
  if (again) {
    s->attempt[n]++;
    hp__log(HP_LOG_WARN, "%s; retrying (attempt %d of %d)", e->msg,
            s->attempt[n] + 1, retries + 1);
    heap_push(s, n);
    return HP_OK;
  }
  s->ended[n] = 2;
  if (s->nfailed++ == 0)
    s->ferr = *e;
  else if (s->o->keep_going)
    hp__log(HP_LOG_ERROR, "%s", e->msg);
  if (!s->o->keep_going)
    s->failed = 1;
  return HP_OK;
}

/* ---- in-process ---- */

/* 1 if task n, about to run, is the last use of its input slot k's
 * value: no other consumer left, the value in no other slot of n, and no
 * attempt of n after this one (a retry would need the value again). Then
 * the value is handed over, and a node that takes its input over (a
 * sort's finish, core.identity) need not copy it. */
static int last_use(const sched *s, int32_t n, size_t k) {
  const hp_graph *g = s->g;
  int32_t d = g->in_ds[k];
  if (s->cons_left[d] != 1 || !hp__exec_pass_value(s->pl, n, d))
    return 0;
  for (size_t j = g->in_off[n]; j < g->in_off[n + 1]; j++)
    if (j != k && g->in_ds[j] == d)
      return 0;
  return s->attempt[n] >= hp__plan_retries(s->pl, n);
}

/* In-process: the saves that ended go on to the journal and report,
 * waiting up to `wait` seconds for the first. */
static int collect_local(sched *s, double wait) {
  hp_saved sv;
  int rc = HP_OK;
  while (rc == HP_OK && hp__exec_saved(s->pl, &sv, wait)) {
    rc = saved(s, sv.node, 0, &sv);
    hp__exec_saved_free(&sv);
    wait = 0;
  }
  return rc;
}

/* 1 if task n must wait for an input's file to be written: it reads the
 * file (a stitch), or the value is not held in-process. */
static int waits_for_save(const sched *s, int32_t n) {
  const hp_graph *g = s->g;
  for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
    int32_t d = g->in_ds[k];
    if (s->unsaved[d] &&
        (!hp__exec_pass_value(s->pl, n, d) || !s->local[d]))
      return 1;
  }
  return 0;
}

static int run_local(sched *s, int32_t n) {
  const hp_graph *g = s->g;
  size_t nin = g->in_off[n + 1] - g->in_off[n];
  size_t nout = g->out_off[n + 1] - g->out_off[n];
  if (waits_for_save(s, n)) { /* woken by saved() */
    s->waiting[n] = 1;
    return HP_OK;
  }
  hp_task_io *in = hp__xcalloc(nin + 1, sizeof *in);
  for (size_t i = 0; i < nin; i++) {
    int32_t d = g->in_ds[g->in_off[n] + i];
    in[i].val = s->local[d];
    in[i].fp = s->fp[d];
    if (s->local[d] && last_use(s, n, g->in_off[n] + i) &&
        !hp__exec_is_saving(s->local[d])) {
      in[i].own = s->local[d]; /* release() finds it gone */
      s->local[d] = NULL;
    }
  }
  hp_task_result res = {0};
  hp_error e = HP_ERROR_INIT;
  s->started[n] = hp__mono_now() - s->t0;
  s->active[n] = 1;
  s->running++;
  progress(s, 0);
  int rc = hp__exec_node(s->pl, n, s->attempt[n] + 1, in, &res, &e);
  s->active[n] = 0;
  s->running--;
  free(in);
  if (rc != HP_OK) {
    hp__exec_result_free(&res, nout);
    return node_failed(s, n, &e);
  }
  for (size_t i = 0; i < nout; i++) {
    int32_t d = g->out_ds[g->out_off[n] + i];
    s->fp[d] = res.fp[i];
    if (s->cons_left[d] > 0) {
      s->local[d] = res.out[i];
      res.out[i] = NULL;
    }
  }
  finish(s, n, 0, &res, res.later);
  hp__exec_result_free(&res, nout);
  return HP_OK;
}

/* ---- over MPI ---- */

/* Where task n goes: a worker holding one of its inputs (a large one,
 * which is not inline, first) if that worker is idle; else any idle
 * worker, since starting now beats waiting behind a busy holder (inputs
 * not held are loaded from the store, or travel inline); else a holder
 * with room in its queue; else the least busy worker; -1 if every worker
 * is full. */
static int pick_worker(sched *s, int32_t n) {
  const hp_graph *g = s->g;
  int holder = -1, idle_holder = -1, best_score = -1, idle_best = -1;
  for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
    int h = s->holder[g->in_ds[k]];
    if (h <= 0 || full(s, h))
      continue;
    int score = s->inl[g->in_ds[k]] ? 1 : 4;
    if (s->inflight[h] == 0 && score > idle_best)
      idle_holder = h, idle_best = score;
    if (score > best_score)
      holder = h, best_score = score;
  }
  if (idle_holder > 0)
    return idle_holder;
  int best = -1, least = s->depth;
  for (int w = 1; w <= s->nworkers; w++)
    if (!full(s, w) && s->inflight[w] < least)
      least = s->inflight[w], best = w;
  if (least == 0 || holder < 0)
    return best;
  return holder;
}

/* 1 if input d of a task on worker w must first be spilled by its holder
 * (w 0: on any worker but the holder). */
static int must_move(const sched *s, int32_t d, int w) {
  return s->pinned[d] && !s->spilled[d] && s->holder[d] > 0 &&
         s->holder[d] != w;
}

/* Asks the holders of task n's pinned inputs, except worker t, to spill
 * them (one SPILL message per holder); n waits until they have. */
static int move_inputs(sched *s, int32_t n, int t, hp_error *err) {
  const hp_graph *g = s->g;
  for (int h = 1; h <= s->nworkers; h++) {
    if (h == t)
      continue;
    uint32_t cnt = 0; /* an input named twice is asked for once */
    for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
      int32_t d = g->in_ds[k];
      cnt += s->holder[d] == h && must_move(s, d, 0) && !s->moving[d] &&
             !seen_before(g, n, k);
    }
    if (!cnt)
      continue;
    hp_buf b = {0};
    hp__put_u32(&b, HP_MSG_SPILL);
    hp__put_u32(&b, cnt);
    for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
      int32_t d = g->in_ds[k];
      if (s->holder[d] != h || !must_move(s, d, 0) || s->moving[d])
        continue;
      hp__put_u32(&b, (uint32_t)d);
      s->moving[d] = 1;
      s->nmoving++;
    }
    hp__log(HP_LOG_DEBUG, "task %s waits for %u value(s) rank %d spills",
            s->pl->pipe->nodes[n].name, cnt, h);
    int rc = hp__isend_tag(&s->outbox, s->comm, h, HP_MPI_TAG_SPILL, &b, err);
    hp__buf_free(&b);
    HP_TRY(rc);
  }
  s->waiting[n] = 1;
  return HP_OK;
}

/* How many of task n's inputs that must move worker c holds. */
static int held_by(const sched *s, int32_t n, int c) {
  const hp_graph *g = s->g;
  int m = 0;
  for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++)
    m += must_move(s, g->in_ds[k], 0) && s->holder[g->in_ds[k]] == c;
  return m;
}

/* 1 if some input of task n is being spilled. */
static int inputs_moving(const sched *s, int32_t n) {
  const hp_graph *g = s->g;
  for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++)
    if (s->moving[g->in_ds[k]])
      return 1;
  return 0;
}

/* Reads a value's inline bytes from r, kept (for the tasks that read d)
 * when keep is set; 0 if r holds no bytes (r->bad set). */
static int take_inline(sched *s, hp_rd *r, int32_t d, int keep) {
  size_t len;
  const void *p = hp__get_bytes(r, &len);
  if (p && keep) {
    free(s->inl[d]);
    s->inl[d] = hp__xmalloc(len + 1);
    memcpy(s->inl[d], p, len);
    s->inl_len[d] = len;
  }
  return p != NULL;
}

/* Where task n goes: *w a worker; *w 0 when it waits for inputs to be
 * spilled (asked for here); *w -1 when it must wait for room. A large
 * memory value stays with the worker that made it, and moves (through a
 * spill file) only when a consumer is better off elsewhere: its holder is
 * busy while another worker is idle, or the consumer's inputs are on
 * several workers (the one with most of them keeps its own). Otherwise
 * pick_worker's rules. */
static int place(sched *s, int32_t n, int *w, hp_error *err) {
  const hp_graph *g = s->g;
  int h = -1, multi = 0;
  for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
    int32_t d = g->in_ds[k];
    if (!must_move(s, d, 0))
      continue;
    if (h > 0 && s->holder[d] != h)
      multi = 1;
    if (h < 0)
      h = s->holder[d];
  }
  *w = -1;
  if (inputs_moving(s, n)) { /* being spilled for another consumer */
    s->waiting[n] = 1;
    *w = 0;
    return HP_OK;
  }
  /* an input whose file is being written: the task runs on its holder, or
   * waits until the file is there (it reads the file, or inputs being
   * written are on two workers) */
  int need = 0;
  for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
    int32_t d = g->in_ds[k];
    if (!s->unsaved[d] || (s->inl[d] && hp__exec_pass_value(s->pl, n, d)))
      continue;
    if (!hp__exec_pass_value(s->pl, n, d) || s->holder[d] <= 0 ||
        (need && need != s->holder[d])) {
      s->waiting[n] = 1;
      *w = 0;
      return HP_OK;
    }
    need = s->holder[d];
  }
  if (need) {
    if (full(s, need))
      return HP_OK; /* *w -1: waits for room there */
    int away = 0;
    for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++)
      away |= must_move(s, g->in_ds[k], need);
    *w = need;
    if (!away)
      return HP_OK;
    *w = 0;
    return move_inputs(s, n, need, err);
  }
  if (s->spread) { /* in turn, and away from the inputs when it can */
    int free_any = 0, room = -1;
    for (int i = 0; i < s->nworkers && *w < 0; i++) {
      int c = (s->next + i) % s->nworkers + 1, holds = held_by(s, n, c) > 0;
      free_any |= !holds;
      if (!full(s, c) && room < 0)
        room = c;
      if (!full(s, c) && !holds)
        *w = c;
    }
    if (*w < 0 && !free_any) /* every worker holds some: the next one */
      *w = room;
    if (*w < 0)
      return HP_OK;
    s->next = *w % s->nworkers;
    int away = 0;
    for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++)
      away |= must_move(s, g->in_ds[k], *w);
    if (!away)
      return HP_OK;
    int t = *w;
    *w = 0;
    return move_inputs(s, n, t, err);
  }
  if (h < 0) {
    *w = pick_worker(s, n);
    return HP_OK;
  }
  if (multi) {
    int best = h, most = 0;
    for (int c = 1; c <= s->nworkers; c++) {
      int m = held_by(s, n, c);
      if (m > most)
        most = m, best = c;
    }
    *w = 0;
    return move_inputs(s, n, best, err);
  }
  int idle_other = 0;
  for (int c = 1; c <= s->nworkers; c++)
    idle_other |= c != h && s->inflight[c] == 0;
  if (s->inflight[h] == 0 || (!idle_other && !full(s, h))) {
    *w = h;
    return HP_OK;
  }
  if (idle_other) {
    *w = 0;
    return move_inputs(s, n, -1, err);
  }
  return HP_OK; /* the holder is full and nobody is idle: wait */
}

/* Tells worker w that this attempt of task `node` may use `cores` lent
 * cores now: those of the workers lent to it, whose CPUs it sends (the
 * union of their masks; its helper threads run there too). */
static int send_cores(sched *s, int w, int32_t node, int cores,
                      hp_error *err) {
  unsigned char mask[HP_POOL_MASK] = {0};
  for (int x = 1; x <= s->nworkers; x++)
    for (size_t i = 0; s->lent_to[x] == w && i < HP_POOL_MASK; i++)
      mask[i] |= s->cpus[(size_t)x * HP_POOL_MASK + i];
  hp_buf b = {0};
  hp__put_u32(&b, HP_MSG_CORES);
  hp__put_u32(&b, (uint32_t)node);
  hp__put_u32(&b, (uint32_t)s->attempt[node] + 1);
  hp__put_u32(&b, (uint32_t)cores);
  hp__put_bytes(&b, mask, sizeof mask);
  int rc = hp__isend_tag(&s->outbox, s->comm, w, HP_MPI_TAG_CORES, &b, err);
  hp__buf_free(&b);
  return rc;
}

/* Lends the core of each idle worker (no task in flight, no saves being
 * written) to a task running alone on a worker of the same host, the one
 * with the fewest lent cores (the task may use them through
 * hp_node_parallel); send_task takes it back. */
static int lend(sched *s, hp_error *err) {
  if (!s->lending || !s->relend)
    return HP_OK;
  s->relend = 0;
  for (int x = 1; x <= s->nworkers; x++) {
    if (s->inflight[x] || s->saving[x] || s->lent_to[x] || s->host[x] < 0)
      continue;
    int to = 0;
    for (int b = 1; b <= s->nworkers; b++)
      if (b != x && s->inflight[b] == 1 && s->host[b] == s->host[x] &&
          (!to || s->nlent[b] < s->nlent[to]))
        to = b;
    if (!to)
      continue;
    int32_t n = s->last[to];
    s->lent_to[x] = to;
    s->lent_node[to] = n;
    hp__log(HP_LOG_DEBUG, "rank %d's core lent to %s on rank %d", x,
            s->pl->pipe->nodes[n].name, to);
    HP_TRY(send_cores(s, to, n, ++s->nlent[to], err));
  }
  return HP_OK;
}

static int send_task(sched *s, int32_t n, int w, hp_error *err) {
  const hp_graph *g = s->g;
  hp_buf *b = &s->out;
  b->len = 0;
  hp__put_u32(b, HP_MSG_TASK);
  hp__put_u32(b, (uint32_t)n);
  hp__put_u32(b, (uint32_t)s->attempt[n]);
  hp__put_u32(b, (uint32_t)(s->rel[w].len / 4));
  hp__buf_put(b, s->rel[w].data, s->rel[w].len);
  s->rel[w].len = 0;
  for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
    int32_t d = g->in_ds[k];
    if (s->holder[d] == w) {
      int give = last_use(s, n, k);
      hp__put_u8(b, give ? HP_SRC_GIVE : HP_SRC_CACHE);
      hp__put_u64(b, s->fp[d]);
    } else if (s->inl[d]) {
      hp__put_u8(b, HP_SRC_INLINE);
      hp__put_u64(b, s->fp[d]);
      hp__put_bytes(b, s->inl[d], s->inl_len[d]);
    } else if (s->spilled[d]) {
      hp__put_u8(b, HP_SRC_SPILL);
      hp__put_u64(b, s->fp[d]);
    } else if (must_move(s, d, w)) {
      return hp__fail(err, HP_EINTERNAL,
                      "task sent to rank %d without its input from rank %d",
                      w, s->holder[d]);
    } else {
      hp__put_u8(b, HP_SRC_LOAD);
      hp__put_u64(b, s->fp[d]);
    }
  }
  for (size_t k = g->out_off[n]; k < g->out_off[n + 1]; k++)
    hp__put_u8(b, s->cons_left[g->out_ds[k]] > 0);
  if (s->lent_to[w]) { /* its core comes back */
    int to = s->lent_to[w];
    s->lent_to[w] = 0;
    HP_TRY(send_cores(s, to, s->lent_node[to], --s->nlent[to], err));
  }
  s->last[w] = n;
  s->relend = 1;
  s->inflight[w]++;
  s->nlong[w] += long_task(s, n);
  s->running++;
  s->active[n] = 1;
  s->started[n] = hp__mono_now() - s->t0;
  return hp__isend(&s->outbox, s->comm, w, b, err);
}

static int on_done(sched *s, hp_rd *r, int w, hp_error *err) {
  const hp_graph *g = s->g;
  int32_t n = (int32_t)hp__get_u32(r);
  hp_task_result res = {0};
  res.seconds = hp__get_f64(r);
  res.load_seconds = hp__get_f64(r);
  res.save_seconds = hp__get_f64(r);
  res.cores = (int)hp__get_u32(r);
  res.task_fp = hp__get_u64(r);
  res.bytes_in = hp__get_u64(r), res.bytes_out = hp__get_u64(r);
  uint32_t nout = hp__get_u32(r);
  if (r->bad || (size_t)n >= g->nnodes ||
      nout != g->out_off[n + 1] - g->out_off[n])
    return hp__fail(err, HP_EINTERNAL, "corrupt done message from rank %d",
                    w);
  uint64_t *stamp = hp__xcalloc(nout + 1, sizeof *stamp);
  uint8_t *later = hp__xcalloc(nout + 1, 1);
  for (uint32_t i = 0; i < nout; i++) {
    int32_t d = g->out_ds[g->out_off[n] + i];
    s->fp[d] = hp__get_u64(r);
    stamp[i] = hp__get_u64(r);
    later[i] = hp__get_u8(r);
    (void)hp__get_u64(r); /* rows */
    uint8_t how = hp__get_u8(r); /* HELD or INLINE */
    s->spilled[d] = 0;
    s->pinned[d] = how == HP_OUT_HELD &&
                   s->pl->ds[d]->type == HP_DS_MEMORY && s->cons_left[d] > 0;
    if (how == HP_OUT_INLINE && !take_inline(s, r, d, s->cons_left[d] > 0))
      break;
    if (s->cons_left[d] > 0)
      s->holder[d] = w;
  }
  res.stamp = stamp;
  if (!r->bad)
    finish(s, n, w, &res, later);
  free(stamp);
  free(later);
  return r->bad ? hp__fail(err, HP_EINTERNAL,
                           "corrupt done message from rank %d", w)
                : HP_OK;
}

static int on_fail(sched *s, hp_rd *r, int w, hp_error *err) {
  int32_t n = (int32_t)hp__get_u32(r);
  int code = (int)hp__get_u32(r);
  size_t len;
  const char *p = hp__get_bytes(r, &len);
  if (r->bad || (size_t)n >= s->g->nnodes)
    return hp__fail(err, HP_EINTERNAL, "corrupt fail message from rank %d",
                    w);
  if (code == HP_EINTR) /* a stopping worker did not start it */
    return HP_OK;
  hp_error e = HP_ERROR_INIT;
  hp__fail(&e, code ? code : HP_ENODE, "%.*s", (int)len, p);
  e.rank = w;
  return node_failed(s, n, &e);
}

/* A SPILLED reply: each value is in its spill file (or came inline);
 * the tasks that waited for it and wait for nothing else become ready. */
static int on_spilled(sched *s, hp_rd *r, int w, hp_error *err) {
  const hp_graph *g = s->g;
  uint32_t cnt = hp__get_u32(r);
  for (uint32_t i = 0; i < cnt && !r->bad; i++) {
    uint32_t d = hp__get_u32(r);
    uint64_t bytes = hp__get_u64(r);
    uint8_t how = hp__get_u8(r);
    if (r->bad || d >= g->nds || !s->moving[d]) {
      r->bad = 1;
      break;
    }
    s->moving[d] = 0;
    s->nmoving--;
    s->moved++;
    s->moved_bytes += bytes;
    if (how == HP_OUT_SPILLED)
      s->spilled[d] = 1;
    else if (!take_inline(s, r, d, 1))
      break;
    s->pinned[d] = 0;
    wake(s, (int32_t)d);
  }
  return r->bad ? hp__fail(err, HP_EINTERNAL,
                           "corrupt spilled message from rank %d", w)
                : HP_OK;
}

/* A SAVED message: a task's background saves ended (or one failed). */
static int on_saved(sched *s, hp_rd *r, int w, hp_error *err) {
  const hp_graph *g = s->g;
  hp_saved sv = {0};
  sv.node = (int32_t)hp__get_u32(r);
  sv.rc = (int)hp__get_u32(r);
  size_t len;
  const char *msg = hp__get_bytes(r, &len);
  sv.seconds = hp__get_f64(r);
  sv.bytes_out = hp__get_u64(r);
  sv.nout = hp__get_u32(r);
  int32_t n = sv.node;
  if (r->bad || (size_t)n >= g->nnodes ||
      sv.nout != g->out_off[n + 1] - g->out_off[n] || !s->pend[n].res.stamp)
    return hp__fail(err, HP_EINTERNAL, "corrupt saved message from rank %d",
                    w);
  sv.stamp = hp__xcalloc(sv.nout + 1, sizeof *sv.stamp);
  for (size_t i = 0; i < sv.nout; i++)
    sv.stamp[i] = hp__get_u64(r);
  if (sv.rc != HP_OK)
    hp__fail(&sv.err, sv.rc, "%.*s", (int)len, msg ? msg : "");
  int rc = r->bad ? hp__fail(err, HP_EINTERNAL,
                             "corrupt saved message from rank %d", w)
                  : saved(s, n, w, &sv);
  free(sv.stamp);
  return rc;
}

/* Waits up to timeout seconds for a message and handles it. */
static int receive_one(sched *s, double timeout, hp_error *err) {
  int w, got;
  HP_TRY(hp__recv_poll(s->comm, MPI_ANY_SOURCE, &s->msg, &w, timeout, &got,
                       err));
  if (!got)
    return HP_OK;
  hp_rd r = {.p = s->msg.data, .len = s->msg.len};
  uint32_t kind = hp__get_u32(&r);
  if (kind == HP_MSG_STOP) { /* a signal reached that worker */
    hp__exec_request_stop((int)hp__get_u32(&r));
    return HP_OK;
  }
  if (kind == HP_MSG_SPILLED)
    return on_spilled(s, &r, w, err);
  if (kind == HP_MSG_SAVED)
    return on_saved(s, &r, w, err);
  if (kind != HP_MSG_DONE && kind != HP_MSG_FAIL)
    return hp__fail(err, HP_EINTERNAL, "rank 0 got a '%s' message from %d",
                    hp__msg_name((int)kind), w);
  int32_t n = (int32_t)hp__get_u32(&r);
  r.pos = 0;
  (void)hp__get_u32(&r);
  s->inflight[w]--;
  s->running--;
  s->relend = 1;
  if (s->nlent[w] > 0) { /* its task's lent cores are free */
    for (int x = 1; x <= s->nworkers; x++)
      if (s->lent_to[x] == w)
        s->lent_to[x] = 0;
    s->nlent[w] = 0;
    HP_TRY(send_cores(s, w, s->lent_node[w], 0, err));
  }
  if ((size_t)n < s->g->nnodes) {
    s->active[n] = 0;
    s->nlong[w] -= long_task(s, n);
  }
  if (kind == HP_MSG_DONE)
    return on_done(s, &r, w, err);
  return on_fail(s, &r, w, err);
}

/* Between messages and tasks: the lock's heartbeat (what tells other
 * hosts this run is alive). Progress is shown where tasks have just
 * started (run_local, after dispatch), so that its running ones are
 * there. */
static void tick(sched *s) {
  if (hp__mono_now() - s->last_beat >= 30) {
    hp__journal_heartbeat(s->pl->store_dir);
    s->last_beat = hp__mono_now();
  }
}

/* A signal asked to stop: no new task starts; running ones get the grace
 * period (HPCPIPE_GRACE seconds) to finish. */
static void begin_stop(sched *s) {
  if (s->grace_end > 0)
    return;
  double grace = (double)hp__env_size("HPCPIPE_GRACE", 20);
  s->grace_end = hp__mono_now() + grace;
  int sig = hp__exec_stop_signal();
  if (hp__exec_stop_file(1)) /* a worker may have seen it first */
    hp__log(HP_LOG_WARN,
            "stopping (%s exists): no new tasks; %zu running get %.0f s to "
            "finish",
            getenv("HPCPIPE_STOP_FILE"), s->running, grace);
  else
    hp__log(HP_LOG_WARN,
          "stopping (signal %d, %s): no new tasks; %zu running get %.0f s "
          "to finish",
          sig, sig == 15 ? "SIGTERM" : sig == 2 ? "SIGINT" : sig == 10
                                                               ? "SIGUSR1"
                                                               : "signal",
          s->running, grace);
}

/* Sends ready tasks, highest priority first, while workers have room; a
 * task that must wait for room on its holder steps aside for the ones
 * after it (up to 64 in a round). */
static int dispatch(sched *s, hp_error *err) {
  int32_t aside[64];
  size_t na = 0;
  int rc = HP_OK;
  while (s->nheap > 0 && na < 64 && rc == HP_OK) {
    int room = 0;
    for (int c = 1; c <= s->nworkers; c++)
      room |= !full(s, c);
    if (!room)
      break;
    int32_t n = heap_pop(s);
    int w;
    rc = place(s, n, &w, err);
    if (rc == HP_OK && w > 0)
      rc = send_task(s, n, w, err);
    else if (rc == HP_OK && w < 0)
      aside[na++] = n;
  }
  for (size_t i = 0; i < na; i++)
    heap_push(s, aside[i]);
  return rc;
}

static int loop(sched *s, hp_error *err) {
  while (!s->failed && s->done + s->nfailed < s->total) {
    hp__exec_stop_file(0);
    if (hp__exec_stop_signal()) {
      begin_stop(s);
      break;
    }
    if (s->nworkers == 0) {
      HP_TRY(collect_local(s, s->nheap == 0 && s->nsaving ? 0.25 : 0));
      if (s->nheap == 0 && (s->nsaving || s->done + s->nfailed >= s->total)) {
        progress(s, 0);
        continue; /* a save to wait for, or the last one ended */
      }
      if (s->nheap == 0 && s->nfailed)
        break; /* keep-going: what is left depends on a failure */
      if (s->nheap == 0)
        return hp__fail(err, HP_EINTERNAL, "no node is ready to run");
      HP_TRY(run_local(s, heap_pop(s)));
      tick(s);
      continue;
    }
    HP_TRY(dispatch(s, err));
    HP_TRY(lend(s, err));
    progress(s, 0);
    int busy = s->running > 0 || s->nmoving > 0 || s->nsaving > 0;
    if (!busy && s->nfailed)
      break;
    if (!busy)
      return hp__fail(err, HP_EINTERNAL, "no node is ready to run");
    HP_TRY(receive_one(s, 0.5, err));
    tick(s);
  }
  /* let running tasks finish, saves end, and spills asked for end (their
   * files are removed after this; a reply left unread could block its
   * worker) */
  while (s->running > 0 || s->nmoving > 0 || s->nsaving > 0) {
    if (hp__exec_stop_signal())
      begin_stop(s);
    if (s->grace_end > 0 && hp__mono_now() >= s->grace_end) {
      s->o->abandoned = 1;
      break;
    }
    if (s->nworkers == 0) /* in-process: only saves go on */
      HP_TRY(collect_local(s, 0.25));
    else
      HP_TRY(receive_one(s, 0.25, err));
    progress(s, 0);
    tick(s);
  }
  return HP_OK;
}

/* Removes a spill directory and its files. */
static void remove_dir(const char *dir) {
  DIR *dd = opendir(dir);
  struct dirent *e;
  while (dd && (e = readdir(dd))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char *f = hp__xasprintf("%s/%s", dir, e->d_name);
    unlink(f);
    free(f);
  }
  if (dd) {
    closedir(dd);
    rmdir(dir);
  }
}

/* The values workers spilled (hp__exec_spill) are one run's only: its
 * spill directory is removed once every worker has finished with them;
 * with all, every run's (at the start, holding the lock, what killed runs
 * left). */
static void remove_spills(const hp_plan *pl, int all) {
  char *parent = hp__xasprintf("%s/.spill", pl->store_dir);
  if (all) {
    DIR *dd = opendir(parent);
    struct dirent *e;
    while (dd && (e = readdir(dd))) {
      if (e->d_name[0] == '.')
        continue;
      char *dir = hp__xasprintf("%s/%s", parent, e->d_name);
      remove_dir(dir);
      free(dir);
    }
    if (dd)
      closedir(dd);
  } else {
    char *dir = hp__exec_spill_dir(pl);
    remove_dir(dir);
    free(dir);
  }
  rmdir(parent); /* only if empty */
  free(parent);
}

/* The selected user nodes that did not complete: failed ones, then those
 * that did not run, as "a, b, c" (malloc'd). */
static char *not_run(const sched *s, int failed) {
  const hp_plan *pl = s->pl;
  uint8_t *mark = hp__xcalloc(pl->ug->nnodes + 1, 1);
  for (size_t n = 0; n < s->g->nnodes; n++) {
    if (!s->run[n] || s->ended[n] == 1 || (s->ended[n] == 2) != failed)
      continue;
    mark[pl->task ? pl->task[n].unode : (int32_t)n] = 1;
  }
  hp_buf b = {0};
  hp__buf_puts(&b, "");
  size_t k = 0;
  for (size_t i = 0; i < pl->ug->nnodes; i++) {
    int32_t u = pl->ug->order[i];
    if (!mark[u])
      continue;
    if (k++)
      hp__buf_puts(&b, ", ");
    hp__buf_puts(&b, pl->upipe->nodes[u].name);
  }
  free(mark);
  return b.data;
}

/* Decides what a resume skips; the selection's fingerprints go to fp. */
static void plan_skips(sched *s) {
  const hp_graph *g = s->g;
  uint8_t *skip = hp__xcalloc(g->nnodes + 1, 1);
  size_t sel = 0, n = 0;
  for (size_t i = 0; i < g->nnodes; i++)
    sel += s->pl->keep[i];
  if (s->o->skip != HP_SKIP_NONE)
    n = hp__journal_skips(s->pl, s->o->skip, s->fp, skip);
  for (size_t i = 0; i < g->nnodes; i++)
    s->run[i] = s->pl->keep[i] && !skip[i];
  const char *unit = s->pl->task ? "tasks" : "nodes";
  if (s->o->skip == HP_SKIP_RESUME)
    hp__log(HP_LOG_INFO, "resume: %zu of %zu %s are up to date; running %zu",
            n, sel, unit, sel - n);
  else if (s->o->skip == HP_SKIP_ONLY_MISSING)
    hp__log(HP_LOG_INFO,
            "only missing: skipping %zu of %zu %s whose outputs exist; "
            "running %zu",
            n, sel, unit, sel - n);
  free(skip);
}

int hp__sched_run(hp_plan *pl, hp_run_opts *o, MPI_Comm comm,
                  hp_error *err) {
  int *host = NULL;
  unsigned char *cpus = NULL, mask[HP_POOL_MASK];
  hp__pool_init(pl->size == 1);
  if (pl->size > 1) { /* first: the workers call it as they start */
    host = hp__xcalloc((size_t)pl->size + 1, sizeof *host);
    cpus = hp__xcalloc((size_t)pl->size + 1, HP_POOL_MASK);
    hp__pool_mask(mask);
    hp__host_ids(comm, mask, HP_POOL_MASK, host, cpus);
  }
  const hp_graph *g = pl->g;
  sched s = {.pl = pl, .o = o, .g = g, .comm = comm,
             .nworkers = pl->size - 1};
  size_t depth = hp__env_size("HPCPIPE_DEPTH", 2);
  s.depth = depth < 1 ? 1 : depth > 1000 ? 1000 : (int)depth;
  s.spread = hp__env_size("HPCPIPE_SPREAD", 0) != 0;
  size_t nn = g->nnodes + 1, nd = g->nds + 1;
  s.run = hp__xcalloc(nn, 1);
  s.active = hp__xcalloc(nn, 1);
  s.ended = hp__xcalloc(nn, 1);
  s.started = hp__xcalloc(nn, sizeof *s.started);
  s.deps = hp__xcalloc(nn, sizeof *s.deps);
  s.pos = hp__xcalloc(nn, sizeof *s.pos);
  s.attempt = hp__xcalloc(nn, sizeof *s.attempt);
  s.heap = hp__xcalloc(nn, sizeof *s.heap);
  s.cons_left = hp__xcalloc(nd, sizeof *s.cons_left);
  s.holder = hp__xcalloc(nd, sizeof *s.holder);
  s.fp = hp__xcalloc(nd, sizeof *s.fp);
  s.inl = hp__xcalloc(nd, sizeof *s.inl);
  s.spilled = hp__xcalloc(nd, sizeof *s.spilled);
  s.pinned = hp__xcalloc(nd, sizeof *s.pinned);
  s.moving = hp__xcalloc(nd, sizeof *s.moving);
  s.waiting = hp__xcalloc(nn, sizeof *s.waiting);
  s.unsaved = hp__xcalloc(nd, 1);
  s.pend = hp__xcalloc(nn, sizeof *s.pend);
  s.inl_len = hp__xcalloc(nd, sizeof *s.inl_len);
  s.local = hp__xcalloc(nd, sizeof *s.local);
  s.inflight = hp__xcalloc((size_t)pl->size + 1, sizeof *s.inflight);
  s.nlong = hp__xcalloc((size_t)pl->size + 1, sizeof *s.nlong);
  s.host = host;
  s.cpus = cpus;
  s.lent_to = hp__xcalloc((size_t)pl->size + 1, sizeof *s.lent_to);
  s.nlent = hp__xcalloc((size_t)pl->size + 1, sizeof *s.nlent);
  s.lent_node = hp__xcalloc((size_t)pl->size + 1, sizeof *s.lent_node);
  s.last = hp__xcalloc((size_t)pl->size + 1, sizeof *s.last);
  s.saving = hp__xcalloc((size_t)pl->size + 1, sizeof *s.saving);
  int level = MPI_THREAD_SINGLE;
  if (s.nworkers > 1)
    MPI_Query_thread(&level);
  s.lending = level == MPI_THREAD_MULTIPLE &&
              hp__env_size("HPCPIPE_LEND", 1) != 0;
  s.rel = hp__xcalloc((size_t)pl->size + 1, sizeof *s.rel);
  int rc = hp__journal_lock(pl->store_dir, pl->version, err);
  int locked = rc == HP_OK;
  if (rc == HP_OK) {
    hp__journal_sweep(pl);
    remove_spills(pl, 1);
    plan_skips(&s);
    s.t0 = s.last_progress = s.last_beat = hp__mono_now();
    s.journal = hp__journal_open(pl, o->command);
    char *lock = hp__journal_lock_path(pl->store_dir);
    hp__exec_stop_lock(lock);
    hp__exec_stop_journal(hp__journal_fd(s.journal));
    free(lock);
    s.report = hp__report_new(pl, o->command);
    upward_ranks(&s);
    init_counts(&s);
    /* in-process, nothing else watches the clock while a node runs */
    hp__exec_stop_alarm(s.nworkers == 0
                            ? (unsigned)hp__env_size("HPCPIPE_GRACE", 20)
                            : 0);
    hp_hook_event ev = {.run = pl->version, .rank = 0};
    hp__registry_fire(pl->reg, HP_HOOK_BEFORE_PIPELINE_RUN, &ev);
    rc = loop(&s, err);
    hp__exec_stop_alarm(0); /* what follows must not be cut short */
    /* in-process, no save outlives the run (after an error or a stop
     * left some): they use the plan and the values */
    hp_saved left;
    while (s.nworkers == 0 && hp__exec_saved(pl, &left, -1))
      hp__exec_saved_free(&left);
  }
  double secs = locked ? hp__mono_now() - s.t0 : 0; /* the run phase */
  if (rc != HP_OK && rc != HP_EUSAGE &&
      (s.running > 0 || s.nmoving > 0 || s.nsaving > 0)) {
    /* rank 0 cannot go on talking to its workers (an MPI or protocol
     * error): they may be inside a send it will never receive */
    hp__log(HP_LOG_ERROR, "%s; ending the MPI job", err->msg);
    fflush(stderr);
    MPI_Abort(comm, HP_EXIT_INTERNAL);
  }
  int stopped = rc == HP_OK && hp__exec_stop_signal() &&
                s.done + s.nfailed < s.total;
  if (rc == HP_OK && s.nfailed) {
    *err = s.ferr;
    rc = s.ferr.code ? s.ferr.code : HP_ENODE;
  } else if (stopped) {
    char why[64];
    if (hp__exec_stop_file(1))
      snprintf(why, sizeof why, "by HPCPIPE_STOP_FILE");
    else
      snprintf(why, sizeof why, "by signal %d", hp__exec_stop_signal());
    rc = hp__fail(err, HP_EINTR, "interrupted %s: %zu of %zu %s done%s", why,
                  s.done, s.total,
                  pl->task ? "tasks" : "nodes",
                  o->abandoned ? "; running tasks abandoned after the grace "
                                 "period"
                               : "");
  }
  if (!o->abandoned) {
    hp_buf bye = {0};
    hp__put_u32(&bye, HP_MSG_SHUTDOWN);
    hp_error ignore = HP_ERROR_INIT;
    hp__outbox_drain(&s.outbox, &ignore); /* every task was received */
    for (int w = 1; w < pl->size; w++)
      hp__send(comm, w, &bye, &ignore);
    hp__buf_free(&bye);
    remove_spills(pl, 0);
  }
  hp__exec_stop_journal(-1); /* the journal goes */
  if (s.journal)
    hp__journal_close(s.journal,
                      rc == HP_OK        ? "finish"
                      : rc == HP_EINTR   ? "interrupted"
                                         : "fail",
                      s.done, secs);
  progress(&s, 1);
  if (locked) {
    hp_hook_event ev = {.run = pl->version,
                        .rank = 0,
                        .seconds = secs,
                        .status = rc == HP_OK      ? "finished"
                                  : rc == HP_EINTR ? "interrupted"
                                                   : "failed"};
    hp__registry_fire(pl->reg, HP_HOOK_AFTER_PIPELINE_RUN, &ev);
  }
  if (s.report) {
    size_t sel = 0, nrun = 0;
    for (size_t i = 0; i < g->nnodes; i++)
      sel += pl->keep[i], nrun += s.run[i];
    hp__report_moved(s.report, s.moved, s.moved_bytes);
    hp__report_end(s.report, sel - nrun,
                   rc == HP_OK        ? "finished"
                   : rc == HP_EINTR   ? "interrupted"
                                      : "failed",
                   secs, s.done, s.total);
    char *page = NULL;
    hp_error re = HP_ERROR_INIT;
    double t0 = hp__mono_now();
    if (hp__report_write(s.report, &page, &re) == HP_OK)
      hp__log(HP_LOG_INFO, "report: %s", page);
    else
      hp__log(HP_LOG_WARN, "no run report: %s", re.msg);
    hp__log(HP_LOG_DEBUG, "report written in %.3f s", hp__mono_now() - t0);
    free(page);
    hp__report_free(s.report);
  }
  hp__exec_stop_lock(NULL);
  if (locked)
    hp__journal_unlock(pl->store_dir);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
               ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) *
                   1e-6;
  const char *unit = pl->task ? "task" : "node";
  char moved[96] = "";
  if (s.moved)
    snprintf(moved, sizeof moved, ", %zu value%s (%.1f MB) moved between workers",
             s.moved, s.moved == 1 ? "" : "s", (double)s.moved_bytes / 1e6);
  if (rc == HP_OK)
    hp__log(HP_LOG_INFO,
            "run %s complete: %zu %s%s in %.3f s (rank 0 CPU %.3f s, "
            "peak memory %.0f MB%s)",
            pl->version, s.done, unit, s.done == 1 ? "" : "s",
            secs, cpu, (double)ru.ru_maxrss / 1024.0, moved);
  else if (s.nfailed || stopped)
    hp__log(HP_LOG_INFO, "%zu of %zu %ss completed before the %s", s.done,
            s.total, unit, stopped ? "stop" : "failure");
  if (locked && s.done < s.total && (s.nfailed || stopped)) {
    char *failed = not_run(&s, 1), *left = not_run(&s, 0);
    if (*failed && o->keep_going)
      hp__log(HP_LOG_INFO, "failed: %s", failed);
    if (*left)
      hp__log(HP_LOG_INFO, "did not run: %s", left);
    free(failed), free(left);
  }
  for (size_t d = 0; d < g->nds; d++) {
    free(s.inl[d]);
    hp__exec_release(s.local[d]);
  }
  for (int w = 0; w <= pl->size; w++)
    hp__buf_free(&s.rel[w]);
  hp__buf_free(&s.msg);
  hp__buf_free(&s.out);
  free(s.run), free(s.active), free(s.ended), free(s.started);
  free(s.deps), free(s.pos), free(s.attempt), free(s.heap), free(s.urank);
  free(s.expect), free(s.nlong);
  free(s.host), free(s.cpus), free(s.lent_to), free(s.nlent);
  free(s.lent_node);
  free(s.last), free(s.saving);
  free(s.cons_left), free(s.holder), free(s.fp), free(s.inl), free(s.inl_len);
  free(s.spilled), free(s.ofp);
  free(s.pinned), free(s.moving), free(s.waiting), free(s.unsaved);
  for (size_t i = 0; i < g->nnodes; i++)
    free(s.pend[i].res.stamp);
  free(s.pend);
  free(s.local), free(s.inflight), free(s.rel);
  return rc;
}
