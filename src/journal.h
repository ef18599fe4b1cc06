/*
 * journal.h - what a store remembers of runs (DESIGN.md section 4): the
 * lock that lets one run at a time use a store, the append-only journal
 * of task completions (<store>/journal.jsonl), and reading it back to
 * decide which tasks a --resume or --only-missing run skips. Rank 0 only.
 */
#ifndef HP_JOURNAL_H
#define HP_JOURNAL_H

#include <stdint.h>
#include <stdio.h>

#include "plan.h"

/* ---- the lock: <store>/run.lock ---- */

/* Takes the store's lock for run `run`, writing host, pid and start time
 * into it. A lock whose holder is dead (same host, no such process; or
 * another host and no heartbeat for HPCPIPE_LOCK_STALE seconds, default
 * 300) is taken over with a warning. Errors: HP_EUSAGE "store 'data/store'
 * is in use by run R (host H, pid P, started T)". */
int hp__journal_lock(const char *store_dir, const char *run, hp_error *err);
/* Refreshes the lock's time (the heartbeat other hosts look at). */
void hp__journal_heartbeat(const char *store_dir);
/* Removes the lock if this process holds it. */
void hp__journal_unlock(const char *store_dir);
/* The lock file's path (malloc'd). */
char *hp__journal_lock_path(const char *store_dir);

/* Removes the temporary files (name.tmp.<pid>) that killed runs left
 * beside the selection's persistent outputs. Call holding the lock. */
void hp__journal_sweep(const hp_plan *pl);

/* ---- writing ---- */

typedef struct hp_journal hp_journal;

/* Opens the journal for appending and writes the run's start line; NULL
 * (with a warning) if it cannot be written: the run goes on without. */
hp_journal *hp__journal_open(const hp_plan *pl, const char *argv_line);
/* Records task n done: its fingerprint, rank, attempt, start (seconds
 * since the run began), duration, bytes of the inputs it loaded and the
 * outputs it committed and, per output, the fingerprint and the
 * stamp of its committed file (hp__ds_stamp, taken by the rank that wrote
 * it; 0 for memory). A line of a
 * task that committed files is written through at once, so a killed run
 * loses none of those; others within 0.1 s. */
void hp__journal_done(hp_journal *j, const hp_plan *pl, int32_t n,
                      uint64_t task_fp, const uint64_t *out_fp,
                      const uint64_t *stamp, int rank, int attempt,
                      double start, double secs, uint64_t bytes_in,
                      uint64_t bytes_out);
/* The journal's file descriptor (-1 without a journal), for a line
 * written from a signal handler. */
int hp__journal_fd(const hp_journal *j);
/* Ends the journal with an event ("finish", "fail", "interrupted") and
 * closes it. */
void hp__journal_close(hp_journal *j, const char *event, size_t done,
                       double secs);

/* ---- resume ---- */

typedef enum hp_skip_mode {
  HP_SKIP_NONE = 0,
  HP_SKIP_RESUME = 1,      /* outputs committed with today's fingerprint */
  HP_SKIP_ONLY_MISSING = 2 /* Kedro's existence rule */
} hp_skip_mode;

/* Decides which selected tasks need not run. Sets fp[d] for every dataset
 * of the selection to the fingerprint a run gives it (inputs from outside
 * the run: what their files say), and skip[n] = 1 for each selected task
 * that does not run. A task is done when every persistent output is
 * there with its fingerprint (the journal's record and the file's stamp
 * agree, else the HDF5 lineage attribute says so) or, without persistent
 * outputs, when the journal records it done with its fingerprint; with
 * only-missing, when every persistent output exists (none: never). A
 * task runs when it is not done or a task that runs reads one of its
 * memory outputs. Returns the number skipped. */
size_t hp__journal_skips(hp_plan *pl, hp_skip_mode mode, uint64_t *fp,
                         uint8_t *skip);

/* ---- history ---- */

/* How long each task of the plan took last time: per task-level node the
 * `seconds` of its newest done line among the journal's last 512 KiB, or -1
 * where there is none (malloc'd, [g->nnodes]; NULL when no task has
 * one). The scheduler orders ready tasks by these (sched.c). */
double *hp__journal_seconds(const hp_plan *pl);

#endif
