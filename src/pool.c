/*
 * pool.c - helper threads for hp_node_parallel (pool.h). One job at a
 * time: the caller publishes fn, arg and n and every thread working on it
 * (the caller too) takes the next unclaimed index until none is left.
 * The job's threads follow the task's cores while it runs: after each
 * item the caller wakes more helpers when cores were lent, and a helper
 * leaves when they were taken back. Helpers are started on first need
 * and then wait for the next job. A second caller while a job runs (a
 * nested call, or another thread), and any thread not running a task's
 * function (the saving thread, rank 0, a node's own threads), runs its
 * items itself.
 */
#define _GNU_SOURCE
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "hpcpipe/node.h"

#include "fs.h"
#include "log.h"
#include "mem.h"

#define MAX_HELPERS 63

static void *helper(void *unused);

static struct {
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  int busy;    /* a job is running */
  int started; /* helper threads started */
  int want;    /* helpers woken for the job, not yet working on it */
  int active;  /* helpers working on the job */
  hp_parallel_fn fn;
  void *arg;
  size_t n;
  atomic_size_t next; /* the next index to claim */
  atomic_int threads; /* on the job now: the caller and active helpers */
  atomic_int planned; /* threads + want */
  atomic_int running; /* threads running an item */
  atomic_int peak;    /* the most at once */
} P = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .go = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

/* A task's key: (node + 1) << 16 | attempt (0: none). */
static atomic_int own = 1;            /* this rank's cores */
static atomic_uint_least64_t task;    /* the running task's key */
static atomic_uint_least64_t lent;    /* key << 16 | cores lent to it */
static atomic_int used = 1;           /* hp__pool_used */
static _Thread_local int task_thread; /* runs a task's function now */
static void (*poll_fn)(void *);       /* hp__pool_poll: the task thread's */
static void *poll_arg;
static double poll_last;
static int cannot_start; /* a helper thread failed to start */
/* CPU masks: the process's at start, and the lent workers' (helpers run
 * on both: a rank bound to its core lends that core, not its own) */
_Static_assert(sizeof(cpu_set_t) == HP_POOL_MASK, "cpu_set_t size");
static cpu_set_t own_mask;
static int have_mask;
static pthread_mutex_t mask_mu = PTHREAD_MUTEX_INITIALIZER;
static cpu_set_t lent_mask;
static uint64_t lent_key;    /* the task lent_mask was lent to */
static atomic_uint mask_gen; /* changes with lent_mask or the task */

static uint64_t key_of(int32_t node, int attempt) {
  return node < 0 ? 0
                  : (uint64_t)(uint32_t)(node + 1) << 16 |
                        (uint64_t)(attempt & 0xffff);
}

void hp__pool_init(int in_process) {
  size_t dflt = 1;
  cpu_set_t cs;
  if (sched_getaffinity(0, sizeof cs, &cs) == 0) { /* (before any helper) */
    own_mask = cs, have_mask = 1;
    if (in_process) dflt = (size_t)CPU_COUNT(&cs);
  }
  size_t n = hp__env_size("HPCPIPE_THREADS", dflt);
  if (n < 1) n = 1;
  if (n > MAX_HELPERS + 1) n = MAX_HELPERS + 1;
  atomic_store(&own, (int)n);
}

void hp__pool_task(int32_t node, int attempt) {
  task_thread = node >= 0;
  atomic_store(&task, key_of(node, attempt));
  atomic_store(&used, 1);
  atomic_fetch_add(&mask_gen, 1); /* a grant to the last task ends */
}

void hp__pool_poll(void (*fn)(void *arg), void *arg) {
  poll_fn = fn;
  poll_arg = arg;
}

/* The task thread reads rank 0's grants (at most once a millisecond
 * unless forced). */
static void poll(int force) {
  if (!poll_fn) return;
  double now = hp__mono_now();
  if (!force && now - poll_last < 0.001) return;
  poll_last = now;
  poll_fn(poll_arg);
}

int hp__pool_used(void) {
  return atomic_load(&used);
}

void hp__pool_mask(unsigned char mask[HP_POOL_MASK]) {
  memcpy(mask, &own_mask, HP_POOL_MASK); /* (all zero if unknown) */
}

void hp__pool_lend(int32_t node, int attempt, int cores,
                   const unsigned char *mask) {
  if (cores < 0) cores = 0;
  if (cores > MAX_HELPERS) cores = MAX_HELPERS;
  pthread_mutex_lock(&mask_mu);
  if (mask)
    memcpy(&lent_mask, mask, HP_POOL_MASK);
  else
    CPU_ZERO(&lent_mask);
  lent_key = key_of(node, attempt);
  atomic_fetch_add(&mask_gen, 1);
  pthread_mutex_unlock(&mask_mu);
  atomic_store(&lent, key_of(node, attempt) << 16 | (uint64_t)cores);
}

/* A helper's CPUs: the process's and those lent to the running task, set
 * again when either changed since it last looked (*gen). */
static void follow_mask(unsigned *gen) {
  unsigned g = atomic_load(&mask_gen);
  if (g == *gen) return;
  *gen = g;
  cpu_set_t m;
  pthread_mutex_lock(&mask_mu);
  int ok = have_mask;
  uint64_t t = atomic_load(&task);
  if (t && lent_key == t)
    CPU_OR(&m, &own_mask, &lent_mask);
  else
    m = own_mask;
  pthread_mutex_unlock(&mask_mu);
  if (ok && CPU_COUNT(&m) > 0)
    pthread_setaffinity_np(pthread_self(), sizeof m, &m);
}

int hp__pool_cores(void) {
  uint64_t v = atomic_load(&lent), t = atomic_load(&task);
  int n = atomic_load(&own);
  if (t && v >> 16 == t) n += (int)(v & 0xffff);
  return n > MAX_HELPERS + 1 ? MAX_HELPERS + 1 : n;
}

/* How many more threads the job could use now: the task's cores, or the
 * items left, less the threads on it or woken. */
static int wanted(void) {
  size_t next = atomic_load(&P.next);
  size_t left = next < P.n ? P.n - next : 0;
  size_t cores = (size_t)hp__pool_cores();
  int cap = (int)(cores < left ? cores : left);
  return cap - atomic_load(&P.planned);
}

/* Wakes k more helpers (starting threads as needed) while the job runs. */
static void grow(int k) {
  pthread_mutex_lock(&P.mu);
  if (P.busy) {
    while (!cannot_start && P.started < P.active + P.want + k &&
           P.started < MAX_HELPERS) {
      if (!hp__fs_thread(helper)) {
        cannot_start = 1; /* no more tries (a thread or pid limit) */
        break;
      }
      P.started++;
    }
    int idle = P.started - P.active - P.want;
    if (k > idle) k = idle;
    if (k > 0) {
      P.want += k;
      atomic_fetch_add(&P.planned, k);
      pthread_cond_broadcast(&P.go);
    }
  }
  pthread_mutex_unlock(&P.mu);
}

/* Runs items until none is left (0) or, for a helper (gen: its CPU mask's
 * generation, followed after each item), until the task has fewer cores
 * than the job has threads (1: it left, counted out). */
static int work(hp_parallel_fn fn, void *arg, size_t n, unsigned *gen) {
  int helper = gen != NULL;
  for (;;) {
    size_t i = atomic_fetch_add(&P.next, 1);
    if (i >= n) return 0;
    int r = atomic_fetch_add(&P.running, 1) + 1, pk = atomic_load(&P.peak);
    while (r > pk && !atomic_compare_exchange_weak(&P.peak, &pk, r)) {
    }
    fn(arg, i);
    atomic_fetch_sub(&P.running, 1);
    if (helper) {
      int t = atomic_load(&P.threads);
      if (t > hp__pool_cores() &&
          atomic_compare_exchange_strong(&P.threads, &t, t - 1)) {
        atomic_fetch_sub(&P.planned, 1);
        return 1;
      }
      follow_mask(gen); /* lenders taken back or added */
    } else {
      poll(0);
      int k = wanted();
      if (k > 0) grow(k);
    }
  }
}

static void *helper(void *unused) {
  (void)unused;
  unsigned gen = 0;
  hp__fs_thread_crashes();
  pthread_mutex_lock(&P.mu);
  for (;;) {
    while (P.want == 0)
      pthread_cond_wait(&P.go, &P.mu);
    P.want--;
    P.active++;
    atomic_fetch_add(&P.threads, 1);
    hp_parallel_fn fn = P.fn;
    void *arg = P.arg;
    size_t n = P.n;
    pthread_mutex_unlock(&P.mu);
    follow_mask(&gen);
    int left = work(fn, arg, n, &gen);
    pthread_mutex_lock(&P.mu);
    if (!left) {
      atomic_fetch_sub(&P.threads, 1);
      atomic_fetch_sub(&P.planned, 1);
    }
    if (--P.active == 0) pthread_cond_signal(&P.done);
  }
  return NULL;
}

void hp_node_parallel(hp_node_ctx *ctx, size_t n, hp_parallel_fn fn,
                      void *arg) {
  (void)ctx;
  if (!fn || n == 0) return;
  pthread_mutex_lock(&P.mu);
  if (P.busy || n == 1 || !task_thread) {
    pthread_mutex_unlock(&P.mu);
    for (size_t i = 0; i < n; i++)
      fn(arg, i);
    return;
  }
  P.busy = 1;
  P.fn = fn, P.arg = arg, P.n = n;
  P.want = 0;
  atomic_store(&P.peak, 1);
  atomic_store(&P.next, 0);
  atomic_store(&P.threads, 1);
  atomic_store(&P.planned, 1);
  pthread_mutex_unlock(&P.mu);
  poll(1);
  int k = wanted();
  if (k > 0) grow(k);
  work(fn, arg, n, NULL);
  pthread_mutex_lock(&P.mu);
  atomic_fetch_sub(&P.planned, P.want);
  P.want = 0; /* helpers not yet awake stay out */
  while (P.active > 0)
    pthread_cond_wait(&P.done, &P.mu);
  if (atomic_load(&P.peak) > atomic_load(&used))
    atomic_store(&used, atomic_load(&P.peak));
  P.busy = 0;
  pthread_mutex_unlock(&P.mu);
}

int hp_node_cores(const hp_node_ctx *ctx) {
  (void)ctx;
  if (task_thread) poll(0); /* grants that came since the last loop */
  return hp__pool_cores();
}
