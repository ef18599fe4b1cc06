/*
 * test_pool.c - hp_node_parallel's helper threads and the cores a task
 * may use (pool.c): every item runs once whatever the threads, cores
 * lent to one task attempt count for it alone, and so do the CPUs they
 * come with. (CPU masks through the system calls: src/sched.h hides
 * <sched.h> from the tests.)
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hpcpipe/node.h"

#include "check.h"
#include "pool.h"

#define N 4000

/* CPU masks as the kernel has them (HP_POOL_MASK bytes, like cpu_set_t) */
#define WORD (8 * sizeof(unsigned long))
typedef struct mask {
  unsigned long w[HP_POOL_MASK / sizeof(unsigned long)];
} mask;

static int get_mask(pid_t tid, mask *m) {
  memset(m, 0, sizeof *m);
  return syscall(SYS_sched_getaffinity, tid, sizeof m->w, m->w) > 0 ? 0 : -1;
}

static int set_mask(const mask *m) {
  return (int)syscall(SYS_sched_setaffinity, 0, sizeof m->w, m->w);
}

static int has_cpu(const mask *m, int c) {
  return (int)(m->w[c / WORD] >> (c % WORD) & 1);
}

static void add_cpu(mask *m, int c) {
  m->w[c / WORD] |= 1UL << (c % WORD);
}

typedef struct job {
  pid_t caller;
  atomic_int runs[N];
  double out[N];
  int wait; /* the first items wait for a second thread */
  atomic_int inside, met;
  atomic_int on_helper; /* items a helper ran */
  int cpu;              /* a CPU to look for in the helpers' masks */
  atomic_int helper_has_cpu, helper_lacks_cpu;
} job;

static void item(void *arg, size_t i) {
  job *j = arg;
  atomic_fetch_add(&j->runs[i], 1);
  double x = (double)i;
  for (int k = 0; k < 200; k++) /* some work, the same on any thread */
    x = x * 0.5 + (double)k;
  j->out[i] = x;
  if (j->wait && !atomic_load(&j->met)) {
    /* the first items wait (up to 10 s) until two threads are in one at
     * once, so that every case sees a helper at work */
    atomic_fetch_add(&j->inside, 1);
    for (int w = 0; w < 10000 && atomic_load(&j->inside) < 2; w++)
      nanosleep(&(struct timespec){0, 1000000L}, NULL);
    atomic_store(&j->met, 1);
  }
  if (gettid() == j->caller) return;
  atomic_fetch_add(&j->on_helper, 1);
  mask m;
  if (j->cpu >= 0 && get_mask(gettid(), &m) == 0)
    atomic_fetch_add(
        has_cpu(&m, j->cpu) ? &j->helper_has_cpu : &j->helper_lacks_cpu, 1);
}

static job *run(int cpu, int wait) {
  job *j = calloc(1, sizeof *j);
  CHECK(j);
  j->wait = wait;
  j->caller = gettid();
  j->cpu = cpu;
  hp_node_parallel(NULL, N, item, j);
  for (size_t i = 0; i < N; i++)
    CHECK_EQ(atomic_load(&j->runs[i]), 1);
  return j;
}

int main(void) {
  job *serial, *j;

  CASE("outside a task, items run on the calling thread");
  setenv("HPCPIPE_THREADS", "4", 1);
  hp__pool_init(0);
  serial = run(-1, 0);
  CHECK_EQ(atomic_load(&serial->on_helper), 0);

  CASE("a task's own cores: every item once, the same results");
  hp__pool_task(3, 1);
  CHECK_EQ(hp__pool_cores(), 4);
  j = run(-1, 1);
  CHECK(atomic_load(&j->on_helper) > 0);
  CHECK(hp__pool_used() >= 2);
  CHECK(memcmp(j->out, serial->out, sizeof j->out) == 0);
  free(j);

  CASE("cores lent to another task or attempt do not count");
  unsetenv("HPCPIPE_THREADS");
  hp__pool_init(0); /* a worker: one core of its own */
  hp__pool_task(3, 2);
  CHECK_EQ(hp__pool_cores(), 1);
  hp__pool_lend(3, 1, 2, NULL); /* the earlier attempt */
  CHECK_EQ(hp__pool_cores(), 1);
  hp__pool_lend(4, 2, 2, NULL);
  CHECK_EQ(hp__pool_cores(), 1);
  hp__pool_lend(3, 2, 2, NULL);
  CHECK_EQ(hp__pool_cores(), 3);
  j = run(-1, 1);
  CHECK(atomic_load(&j->on_helper) > 0);
  CHECK(memcmp(j->out, serial->out, sizeof j->out) == 0);
  free(j);
  hp__pool_task(5, 1); /* the next task: the grant has ended */
  CHECK_EQ(hp__pool_cores(), 1);
  hp__pool_lend(5, 1, 0, NULL); /* taken back */
  CHECK_EQ(hp__pool_cores(), 1);

  /* The CPUs that come with a grant: this thread (and so the pool's
   * mask) bound to one CPU, another CPU lent. */
  mask all, one = {{0}}, lent = {{0}};
  int a = -1, b = -1;
  CHECK(get_mask(0, &all) == 0);
  for (int c = 0; c < HP_POOL_MASK * 8 && b < 0; c++)
    if (has_cpu(&all, c)) *(a < 0 ? &a : &b) = c;
  if (b < 0) {
    fprintf(stderr, "one CPU: the lent-CPU cases are skipped\n");
  } else {
    add_cpu(&lent, b);
    add_cpu(&one, a);
    CHECK(set_mask(&one) == 0);
    setenv("HPCPIPE_THREADS", "2", 1);
    hp__pool_init(0);

    CASE("CPUs lent to an ended task are not the helpers'");
    hp__pool_task(7, 1);
    hp__pool_lend(6, 1, 1,
                  (const unsigned char *)lent.w); /* the task before, ended */
    CHECK_EQ(hp__pool_cores(), 2);
    j = run(b, 1);
    CHECK(atomic_load(&j->on_helper) > 0);
    CHECK_EQ(atomic_load(&j->helper_has_cpu), 0);
    free(j);

    CASE("CPUs lent to the running task are the helpers'");
    hp__pool_lend(7, 1, 1, (const unsigned char *)lent.w);
    CHECK_EQ(hp__pool_cores(), 3);
    j = run(b, 1);
    CHECK(atomic_load(&j->on_helper) > 0);
    CHECK_EQ(atomic_load(&j->helper_lacks_cpu), 0);
    free(j);

    CASE("and not the next task's");
    hp__pool_task(8, 1);
    CHECK_EQ(hp__pool_cores(), 2);
    j = run(b, 1);
    CHECK(atomic_load(&j->on_helper) > 0);
    CHECK_EQ(atomic_load(&j->helper_has_cpu), 0);
    free(j);
    CHECK(set_mask(&all) == 0);
  }
  hp__pool_task(-1, 0);
  free(serial);
  fprintf(stderr, "ok\n");
  return 0;
}
