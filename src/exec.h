/*
 * exec.h - running one node on the current rank: binding its inputs
 * (given values, parameters, or loads from the catalog), calling its
 * function through an hp_node_ctx, computing output fingerprints and
 * committing persistent outputs atomically with lineage.
 */
#ifndef HP_EXEC_H
#define HP_EXEC_H

#include <stdint.h>

#include "plan.h"

typedef struct hp_task_io {
  const hp_value *val; /* in: a given value (borrowed), or NULL to load */
  uint64_t fp;         /* in: fingerprint (0 = derive from content) */
  int spilled;         /* in: load it from this run's spill file */
  hp_value *own;       /* in: a value handed over for good (its last use):
                          the node may take it without a copy; freed by
                          hp__exec_node otherwise (val is ignored) */
} hp_task_io;

typedef struct hp_task_result {
  hp_value **out;   /* [nout] owned by the caller after the call */
  uint64_t *fp;     /* [nout] output fingerprints */
  uint64_t *stamp;  /* [nout] hp__ds_stamp of each committed output (0 for
                       memory): taken here, where the file was just
                       written, not by rank 0 */
  uint64_t task_fp; /* the task's (hp__exec_task_fp) */
  uint64_t bytes_in;  /* in memory, of the inputs loaded from files */
  uint64_t bytes_out; /* in memory, of the outputs committed to files */
  double seconds;   /* time in the node function */
  double load_seconds; /* binding the inputs: loads from files, spills */
  double save_seconds; /* committing the persistent outputs */
  int cores;        /* the most the node ran on at once (hp_node_parallel) */
  uint8_t *later;   /* [nout] 1: an output being saved in the background
                       (hp__exec_saved reports it; stamp is 0 until then) */
} hp_task_result;

/* Any rank. Runs node `node` (attempt 1, 2, ... for the hooks) with in[]
 * given per input slot of the graph (g->in_ds order). On success
 * res->out[i] holds each output, persistent ones committed, or, where
 * res->later[i] is set, being committed by this rank's saving thread
 * while the caller goes on (see below). Errors: HP_ENODE "node 'x' (rank
 * r): <message from the function>", or load/save errors prefixed with
 * the node. */
int hp__exec_node(hp_plan *pl, int32_t node, int attempt,
                  const hp_task_io *in, hp_task_result *res, hp_error *err);

/* Saving in the background. An HDF5 output (the catalog's or the store's)
 * of a node on its last attempt (no retry could need it saved before its
 * consumers start) is written by a thread of its own, so that the next
 * task runs meanwhile on the other core; HPCPIPE_BACKGROUND_SAVE=0 saves
 * every output before the task counts as done. The value stays the
 * caller's to use (read-only) and to release: hp__exec_release frees it
 * now, or once its save has ended. A task's outputs are committed when
 * hp__exec_saved says so; only then do the journal, the report and
 * another rank (which loads the file) see it. */
typedef struct hp_saved {
  int32_t node;
  int attempt;
  int rc;           /* HP_OK, or why a save failed (err) */
  hp_error err;
  size_t nout;
  uint64_t *stamp;  /* [nout] the saved outputs' (others 0) */
  uint64_t bytes_out;
  double seconds;   /* saving */
  int notified;     /* the notify function (below) has told of it */
} hp_saved;
/* The next task whose background saves have all ended, waiting up to
 * `wait` seconds for one (< 0: as long as it takes): 1 and *out filled
 * (free with hp__exec_saved_free), or 0. Fires the after_dataset_saved
 * hooks and frees the values released meanwhile. */
int hp__exec_saved(hp_plan *pl, hp_saved *out, double wait);
void hp__exec_saved_free(hp_saved *s);
/* A function the saving thread calls as each task's saves end, once the
 * caller has announced the task (hp__exec_save_announce, after it told
 * rank 0 of the task): a worker tells rank 0 at once, while its next task
 * runs, instead of after it. It returns 0 if it told, else the task is
 * left to hp__exec_saved's caller (notified 0). NULL: none. */
void hp__exec_save_notify(int (*fn)(const hp_saved *sv, void *arg),
                          void *arg);
void hp__exec_save_announce(int32_t node);
/* Has the saving thread (started now) call fn(arg) about every
 * millisecond while it has no save to make: a worker serves rank 0's
 * spill requests there, during its tasks. NULL stops it (returning once
 * a call in progress has ended). -1 if the thread cannot run. */
int hp__exec_save_idle(void (*fn)(void *arg), void *arg);
/* Tasks with saves not yet reported by hp__exec_saved. */
size_t hp__exec_saving(void);
/* 1 if value v is being saved (a consumer must not take it over). */
int hp__exec_is_saving(const hp_value *v);
/* Frees v (NULL: nothing), or has it freed once its save has ended. */
void hp__exec_release(hp_value *v);

/* Fingerprints (DESIGN.md section 4, lineage): a task's is a hash of its
 * function's identity (hp__registry_identity), its args and its inputs'
 * fingerprints in_fp[0..nin) (a parameter's: its value's hash; a dataset
 * made in the run: its producer's output fingerprint; any other: what
 * hp__ds_fingerprint says of its file). An output's is a hash of its
 * dataset name and the task's. Rank 0 computes them ahead (resume) exactly
 * as a run does. */
uint64_t hp__exec_task_fp(hp_plan *pl, int32_t node, const uint64_t *in_fp);
uint64_t hp__exec_out_fp(uint64_t task_fp, const char *ds);

/* 0 if node `node` does not read the value of its input dataset ds (a
 * stitch task reads only the metadata of persisted partitions), so that
 * the scheduler need not keep that value for it; 1 otherwise. */
int hp__exec_uses_value(const hp_plan *pl, int32_t node, int32_t ds);
/* 1 if the scheduler may hand node the in-memory value its producer made
 * for input ds; 0 if the node reads none (above) or must read the
 * catalog's file. A CSV file does not keep every type (an int column with
 * nulls reads back as float64, low-cardinality strings come back
 * dictionary-encoded), so consumers of a csv dataset load it, as Kedro
 * loads a saved dataset again: what they see does not depend on which
 * rank made it. */
int hp__exec_pass_value(const hp_plan *pl, int32_t node, int32_t ds);

/* Large values of spillable memory datasets (hp_dsdef.spill): at least
 * HPCPIPE_SPILL_MIN bytes (default 1 MiB). They never pass through rank 0:
 * the worker that made one keeps it, consumers placed on that worker use
 * its copy, and only when rank 0 places a consumer elsewhere does it ask
 * the holder to write the value to <store>/.spill/<run>/<dataset
 * index>.h5 (hp__exec_spill), which the other worker loads. Smaller
 * memory values travel inline. */
int hp__exec_spillable(const hp_plan *pl, int32_t ds, const hp_value *v);
int hp__exec_spill(const hp_plan *pl, int32_t ds, const hp_value *v,
                   hp_error *err);
/* The directory of this run's spill files (malloc'd). */
char *hp__exec_spill_dir(const hp_plan *pl);

/* The name of the node whose function is running on this rank, or NULL
 * (read by the crash handler). */
const char *hp__exec_running(void);

/* Installs handlers for SIGSEGV, SIGBUS, SIGFPE and SIGILL (except under
 * AddressSanitizer) that print one line naming the crashed node and rank,
 * and exit with HP_EXIT_NODE. Call after MPI_Init. */
void hp__exec_crash_handlers(int rank);

/* Graceful stop (DESIGN.md section 4): SIGTERM, SIGINT and SIGUSR1 (the
 * signal mpirun forwards to every rank) set a flag the scheduler and
 * workers read between tasks; a second signal exits at once with
 * HP_EXIT_INTR. hp__exec_request_stop records a stop another rank asked
 * for (not a signal of this process). hp__exec_stop_alarm(secs) makes a
 * stop also arm an alarm that abandons a running node after secs
 * (in-process runs, where nothing else watches the clock); 0 disarms it. */
void hp__exec_stop_handlers(void);
int hp__exec_stop_signal(void); /* 0, or the signal that asked to stop */
/* After the run, while the process only winds down: a stop signal that
 * comes late (a launcher may deliver one twice) changes nothing. */
void hp__exec_stop_ignore(void);
void hp__exec_request_stop(int sig);
/* HPCPIPE_STOP_FILE: once the file it names exists, a stop is requested
 * (as SIGUSR1 would) and this returns 1. Job scripts use it: a signal that
 * comes before the launcher can pass it on is lost or fatal, a file waits.
 * Rank 0 and workers call it between tasks; it looks at the file at most
 * once a second, or at once with `now`. */
int hp__exec_stop_file(int now);
void hp__exec_stop_alarm(unsigned secs);
/* What rank 0 leaves when a stop cannot wait for the running node (a
 * second signal, or the grace period running out in-process): the error
 * line with `resume` (the command that resumes; from the CLI), an
 * "interrupted" line appended to the journal at `journal_fd`, and the
 * lock file `lock` removed if it still holds what it held when
 * registered (from the scheduler: once it holds the lock, which it reads
 * then). Each is set when it exists and cleared (NULL, -1) before it
 * goes away. A worker leaves it all to rank 0. */
void hp__exec_stop_resume(const char *resume);
void hp__exec_stop_journal(int journal_fd);
void hp__exec_stop_lock(const char *lock);

/* Frees the outputs and arrays of a result. */
void hp__exec_result_free(hp_task_result *res, size_t nout);

/* For builtins: input i as a table, or a node failure naming the input
 * ("input 'x' is not a table", "needs a table input"). */
int hp__node_table(hp_node_ctx *ctx, size_t i, const hp_value **t);
/* Input i for the caller to keep (as an output): the value itself when
 * this task loaded it from a file for this slot alone, else a copy; NULL
 * for a parameter or out of memory. */
hp_value *hp__node_take_input(hp_node_ctx *ctx, size_t i);

#endif
