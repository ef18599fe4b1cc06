/*
 * journal.c - the store's lock, its journal of task completions, and the
 * resume decision read back from both. The journal is JSON lines, one per
 * event, appended and written through line by line:
 *
 *   {"event":"start","run":"...","tasks":N,"command":"..."}
 *   {"event":"done","node":"clean[3]","fp":"<16 hex>","rank":1,
 *    "attempt":1,"start":0.12,"seconds":0.5,
 *    "outputs":[["ds","<fp>","<stamp>"],...]}
 *   {"event":"finish"|"fail"|"interrupted","done":N,"seconds":S}
 *
 * A resume reads every run's lines; the newest record of a task wins.
 */
#define _POSIX_C_SOURCE 200809L
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "exec.h"
#include "fs.h"
#include "log.h"
#include "map.h"
#include "mem.h"
#include "report.h"
#include "store.h"
#include "tree.h"

/* ---- the lock ---- */

char *hp__journal_lock_path(const char *store_dir) {
  return hp__xasprintf("%s/run.lock", store_dir);
}

static void host_name(char *buf, size_t n) {
  if (gethostname(buf, n) != 0)
    snprintf(buf, n, "unknown");
  buf[n - 1] = '\0';
}

/* Whether process pid lives (a zombie, dead but not yet reaped, does
 * not). */
static int process_alive(long pid) {
  if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
    return 0;
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* Whether the holder written in text (host pid start run) is gone. */
static int lock_stale(const char *path, const char *text) {
  char host[256], me[256];
  long pid = 0;
  if (sscanf(text, "%255s %ld", host, &pid) != 2)
    return 1; /* not a lock hpcpipe wrote */
  host_name(me, sizeof me);
  if (strcmp(host, me) == 0)
    return !process_alive(pid);
  struct stat st;
  double stale = (double)hp__env_size("HPCPIPE_LOCK_STALE", 300);
  return stat(path, &st) == 0 &&
         difftime(time(NULL), st.st_mtime) > stale;
}

/* Reads a lock file's first line (malloc'd), or NULL if it is gone. */
static char *read_lock(const char *path) {
  char *text = NULL;
  size_t n = 0;
  hp_error ignore = HP_ERROR_INIT;
  if (hp__fs_read_all(path, 1, &text, &n, &ignore) != HP_OK)
    return NULL;
  text[strcspn(text, "\n")] = '\0';
  return text;
}

/* The lock is made whole beside its name and linked into place (link(2)
 * fails if the name exists, also over NFS), so no process ever reads a
 * half-written lock. A stale lock is renamed away first, and removed only
 * if what was renamed is the lock judged stale: two runs taking over the
 * same dead lock cannot both win. */
int hp__journal_lock(const char *store_dir, const char *run, hp_error *err) {
  if (hp__mkdir_p(store_dir) != 0)
    return hp__fail(err, HP_EIO, "%s: cannot create the store: %s",
                    store_dir, strerror(errno));
  char *path = hp__journal_lock_path(store_dir);
  char host[256], text[512], when[64];
  host_name(host, sizeof host);
  hp__utc_now(when, ':');
  int len = snprintf(text, sizeof text, "%s %ld %s %s\n", host,
                     (long)getpid(), when, run);
  char *mine = hp__xasprintf("%s.%s.%ld", path, host, (long)getpid());
  char *gone = hp__xasprintf("%s.stale.%s.%ld", path, host, (long)getpid());
  int rc = hp__fs_write_atomic(mine, text, (size_t)len, err);
  for (int tries = 0; rc == HP_OK && tries < 5; tries++) {
    if (link(mine, path) == 0)
      goto done;
    if (errno != EEXIST) {
      rc = hp__fail(err, HP_EIO, "%s: cannot create: %s", path,
                    strerror(errno));
      break;
    }
    char *old = read_lock(path);
    if (!old)
      continue; /* removed meanwhile: try again */
    if (!lock_stale(path, old)) {
      char h[256] = "?", started[64] = "?", other[128] = "?";
      long pid = 0;
      sscanf(old, "%255s %ld %63s %127s", h, &pid, started, other);
      rc = hp__fail(err, HP_EUSAGE,
                    "store '%s' is in use by run %s (host %s, pid %ld, "
                    "started %s); one run at a time may use a store",
                    store_dir, other, h, pid, started);
      free(old);
      break;
    }
    if (rename(path, gone) == 0) {
      char *moved = read_lock(gone);
      if (moved && strcmp(moved, old) == 0) {
        hp__log(HP_LOG_WARN,
                "taking over the lock of a run that is gone (%s)", old);
        unlink(gone);
      } else if (link(gone, path) == 0 || errno == EEXIST) {
        unlink(gone); /* another run's fresh lock: put it back */
      }
      free(moved);
    }
    free(old);
  }
  if (rc == HP_OK)
    rc = hp__fail(err, HP_EIO, "%s: cannot take the lock", path);
done:
  unlink(mine);
  free(mine), free(gone), free(path);
  return rc;
}

void hp__journal_heartbeat(const char *store_dir) {
  char *path = hp__journal_lock_path(store_dir);
  utimensat(AT_FDCWD, path, NULL, 0);
  free(path);
}

void hp__journal_unlock(const char *store_dir) {
  char *path = hp__journal_lock_path(store_dir);
  char *text = NULL;
  size_t n;
  hp_error ignore = HP_ERROR_INIT;
  if (hp__fs_read_all(path, 1, &text, &n, &ignore) == HP_OK) {
    char host[256], me[256];
    long pid = 0;
    host_name(me, sizeof me);
    if (sscanf(text, "%255s %ld", host, &pid) == 2 &&
        strcmp(host, me) == 0 && pid == (long)getpid())
      unlink(path);
    free(text);
  }
  free(path);
}

/* ---- writing ---- */

struct hp_journal {
  FILE *f;
  double last_flush;
};

hp_journal *hp__journal_open(const hp_plan *pl, const char *argv_line) {
  char *path = hp__xasprintf("%s/journal.jsonl", pl->store_dir);
  FILE *f = NULL;
  if (hp__mkdir_p(pl->store_dir) == 0)
    f = fopen(path, "a");
  if (!f) {
    hp__log(HP_LOG_WARN, "cannot open the run journal %s: %s", path,
            strerror(errno));
    free(path);
    return NULL;
  }
  free(path);
  hp_journal *j = hp__xcalloc(1, sizeof *j);
  j->f = f;
  size_t n = 0;
  for (size_t i = 0; i < pl->g->nnodes; i++)
    n += pl->keep[i];
  fprintf(f, "{\"event\":\"start\",\"run\":\"%s\",\"tasks\":%zu,\"command\":",
          pl->version, n);
  hp__json_str(f, argv_line ? argv_line : "");
  fputs("}\n", f);
  fflush(f);
  return j;
}


void hp__journal_done(hp_journal *j, const hp_plan *pl, int32_t n,
                      uint64_t task_fp, const uint64_t *out_fp,
                      const uint64_t *stamp, int rank, int attempt,
                      double start, double secs, uint64_t bytes_in,
                      uint64_t bytes_out) {
  if (!j)
    return;
  const hp_graph *g = pl->g;
  FILE *f = j->f;
  int files = 0;
  fputs("{\"event\":\"done\",\"node\":", f);
  hp__json_str(f, pl->pipe->nodes[n].name);
  char b1[32], b2[32];
  fprintf(f,
          ",\"fp\":\"%016llx\",\"rank\":%d,\"attempt\":%d,\"start\":%s,"
          "\"seconds\":%s,\"read\":%llu,\"written\":%llu,\"outputs\":[",
          (unsigned long long)task_fp, rank, attempt, hp__secs6(start, b1),
          hp__secs6(secs, b2), (unsigned long long)bytes_in,
          (unsigned long long)bytes_out);
  for (size_t k = g->out_off[n]; k < g->out_off[n + 1]; k++) {
    int32_t d = g->out_ds[k];
    fputs(k > g->out_off[n] ? ",[" : "[", f);
    hp__json_str(f, g->dsname[d]);
    uint64_t st = stamp[k - g->out_off[n]];
    files |= st != 0;
    fprintf(f, ",\"%016llx\",\"%016llx\"]",
            (unsigned long long)out_fp[k - g->out_off[n]],
            (unsigned long long)st);
  }
  fputs("]}\n", f);
  /* A task that committed files is written through at once (a killed run
   * loses no such line); lines of tasks with only memory outputs, which a
   * resume cannot reuse anyway, go out with the next one or within 0.1 s. */
  double now = hp__mono_now();
  if (files || now - j->last_flush >= 0.1) {
    fflush(f);
    j->last_flush = now;
  }
}

int hp__journal_fd(const hp_journal *j) {
  return j ? fileno(j->f) : -1;
}

void hp__journal_close(hp_journal *j, const char *event, size_t done,
                       double secs) {
  if (!j)
    return;
  fprintf(j->f, "{\"event\":\"%s\",\"done\":%zu,\"seconds\":%.3f}\n", event,
          done, secs);
  fclose(j->f);
  free(j);
}

/* ---- sweeping ---- */

/* Remembers that files named base.tmp.<pid> in dir are leftovers. */
static void want_sweep(hp_map *dirs, const char *dir, const char *base) {
  hp_map *bases = hp__map_get(dirs, dir);
  if (!bases) {
    bases = hp__map_new();
    hp__map_put(dirs, dir, bases);
  }
  hp__map_put(bases, base, (void *)1);
}

static void free_bases(void *m) {
  hp__map_free(m, NULL);
}

void hp__journal_sweep(const hp_plan *pl) {
  const hp_graph *g = pl->g;
  hp_map *dirs = hp__map_new();
  for (size_t n = 0; n < g->nnodes; n++) {
    if (!pl->keep[n])
      continue;
    for (size_t k = g->out_off[n]; k < g->out_off[n + 1]; k++) {
      const hp_dsdef *d = pl->ds[g->out_ds[k]];
      if (d->type == HP_DS_MEMORY || d->type == HP_DS_PARAM || !d->filepath)
        continue;
      const char *slash = strrchr(d->filepath, '/');
      if (!slash || !slash[1])
        continue; /* a csv directory: its files are the partitions' */
      char *dir = hp__xstrndup(d->filepath, (size_t)(slash - d->filepath));
      if (!d->versioned) {
        want_sweep(dirs, dir, slash + 1);
      } else { /* <filepath>/<version>/<basename> */
        DIR *dd = opendir(d->filepath);
        struct dirent *e;
        while (dd && (e = readdir(dd))) {
          if (e->d_name[0] == '.')
            continue;
          char *vdir = hp__xasprintf("%s/%s", d->filepath, e->d_name);
          want_sweep(dirs, vdir, slash + 1);
          free(vdir);
        }
        if (dd)
          closedir(dd);
      }
      free(dir);
    }
  }
  size_t it = 0, removed = 0;
  const char *dir;
  void *bases;
  while (hp__map_next(dirs, &it, &dir, &bases)) {
    DIR *dd = opendir(dir);
    struct dirent *e;
    while (dd && (e = readdir(dd))) {
      size_t stem;
      if (!hp__fs_is_tmp(e->d_name, &stem))
        continue;
      char *base = hp__xstrndup(e->d_name, stem);
      /* <base>.tmp.<pid>: not one a live process of this host is writing
       * (array tasks share catalog paths with stores of their own) */
      long pid = strtol(e->d_name + stem + 5, NULL, 10);
      if (hp__map_has(bases, base) && !process_alive(pid)) {
        char *f = hp__xasprintf("%s/%s", dir, e->d_name);
        removed += unlink(f) == 0;
        free(f);
      }
      free(base);
    }
    if (dd)
      closedir(dd);
  }
  if (removed)
    hp__log(HP_LOG_INFO, "removed %zu temporary file%s an earlier run left",
            removed, removed == 1 ? "" : "s");
  hp__map_free(dirs, free_bases);
}

/* ---- reading ---- */

typedef struct rec {
  uint64_t fp;
  size_t nout;
  char **ds;
  uint64_t *ofp, *stamp;
} rec;

static void rec_free(void *p) {
  rec *r = p;
  for (size_t i = 0; i < r->nout; i++)
    free(r->ds[i]);
  free(r->ds), free(r->ofp), free(r->stamp);
  free(r);
}

/* A JSON string at *p (after optional spaces): its unescaped text (new
 * string) and *p past it; NULL if there is none. */
static char *get_str(const char **p) {
  const char *s = *p;
  while (*s == ' ')
    s++;
  if (*s != '"')
    return NULL;
  s++;
  hp_buf b = {0};
  hp__buf_puts(&b, "");
  while (*s && *s != '"') {
    if (*s == '\\' && s[1] == 'u' && strlen(s) >= 6) {
      char hex[5] = {s[2], s[3], s[4], s[5], 0};
      char c = (char)strtol(hex, NULL, 16);
      hp__buf_put(&b, &c, 1);
      s += 6;
    } else if (*s == '\\' && s[1]) {
      hp__buf_put(&b, s + 1, 1);
      s += 2;
    } else {
      hp__buf_put(&b, s++, 1);
    }
  }
  if (*s != '"') {
    hp__buf_free(&b);
    return NULL;
  }
  *p = s + 1;
  return b.data;
}

static int get_hex(const char **p, uint64_t *x) {
  char *s = get_str(p);
  if (!s)
    return 0;
  char *end;
  *x = strtoull(s, &end, 16);
  int ok = end != s && *end == '\0';
  free(s);
  return ok;
}

/* Parses one done line; NULL for anything else (a torn last line). */
static rec *parse_done(const char *line, char **task) {
  const char *p = strstr(line, "\"event\":\"done\",\"node\":");
  if (p != line + 1)
    return NULL;
  p += strlen("\"event\":\"done\",\"node\":");
  *task = get_str(&p);
  if (!*task)
    return NULL;
  rec *r = hp__xcalloc(1, sizeof *r);
  size_t cap = 0;
  int ok = strncmp(p, ",\"fp\":", 6) == 0;
  if (ok) {
    p += 6;
    ok = get_hex(&p, &r->fp);
  }
  p = ok ? strstr(p, ",\"outputs\":[") : NULL;
  ok = p != NULL;
  if (ok)
    p += strlen(",\"outputs\":[");
  while (ok && *p == '[') {
    p++;
    hp__grow(&r->ds, &cap, r->nout + 1, sizeof *r->ds);
    r->ofp = hp__xrealloc(r->ofp, cap * sizeof *r->ofp);
    r->stamp = hp__xrealloc(r->stamp, cap * sizeof *r->stamp);
    size_t i = r->nout;
    r->ds[i] = get_str(&p);
    ok = r->ds[i] != NULL;
    if (ok)
      r->nout++;
    ok = ok && *p++ == ',' && get_hex(&p, &r->ofp[i]) && *p++ == ',' &&
         get_hex(&p, &r->stamp[i]) && *p++ == ']';
    if (ok && *p == ',')
      p++;
  }
  if (!ok || strncmp(p, "]}", 2) != 0) {
    rec_free(r);
    free(*task);
    *task = NULL;
    return NULL;
  }
  return r;
}

/* Every task's newest done record: name -> rec. */
static hp_map *read_journal(const char *store_dir) {
  hp_map *m = hp__map_new();
  char *path = hp__xasprintf("%s/journal.jsonl", store_dir);
  FILE *f = fopen(path, "r");
  free(path);
  if (!f)
    return m;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char *task = NULL;
    rec *r = parse_done(line, &task);
    if (!r)
      continue;
    rec *old = hp__map_put(m, task, r);
    if (old)
      rec_free(old);
    free(task);
  }
  free(line);
  fclose(f);
  return m;
}

static int persistent(const hp_plan *pl, int32_t d) {
  int t = pl->ds[d]->type;
  return t != HP_DS_MEMORY && t != HP_DS_PARAM;
}

/* Whether output k of task n (dataset d) is committed with fingerprint
 * want: the journal's record and the file's stamp agree, or the HDF5
 * file's lineage says so. */
static int output_done(const hp_plan *pl, const rec *r, uint64_t task_fp,
                       int32_t d, uint64_t want) {
  const char *name = pl->g->dsname[d];
  const hp_dsdef *def = pl->ds[d];
  char *path = NULL;
  hp_error ignore = HP_ERROR_INIT;
  if (!def->filepath || hp__ds_load_path(def, NULL, &path, &ignore) != HP_OK)
    return 0;
  uint64_t stamp = hp__ds_stamp_at(def, path), fp = 0;
  int ok = 0;
  for (size_t i = 0; stamp && r && r->fp == task_fp && i < r->nout && !ok; i++)
    ok = strcmp(r->ds[i], name) == 0 && r->ofp[i] == want &&
         r->stamp[i] == stamp;
  if (!ok && stamp && def->type != HP_DS_CSV && def->type != HP_DS_TEXT)
    ok = hp__h5_fingerprint(path, def->key ? def->key : "/", &fp) == HP_OK &&
         fp == want;
  free(path);
  return ok;
}

size_t hp__journal_skips(hp_plan *pl, hp_skip_mode mode, uint64_t *fp,
                         uint8_t *skip) {
  const hp_graph *g = pl->g;
  size_t nn = g->nnodes;
  uint64_t *tfp = hp__xcalloc(nn + 1, sizeof *tfp);
  uint8_t *done = hp__xcalloc(nn + 1, 1);
  uint8_t *made = hp__xcalloc(g->nds + 1, 1); /* by a selected task */
  size_t maxin = 1;
  for (size_t n = 0; n < nn; n++) {
    size_t k = g->in_off[n + 1] - g->in_off[n];
    maxin = k > maxin ? k : maxin;
    if (pl->keep[n])
      for (size_t o = g->out_off[n]; o < g->out_off[n + 1]; o++)
        made[g->out_ds[o]] = 1;
  }
  uint64_t *in_fp = hp__xcalloc(maxin, sizeof *in_fp);
  uint8_t *have = hp__xcalloc(g->nds + 1, 1);
  /* fingerprints, in topological order */
  for (size_t i = 0; i < nn; i++) {
    int32_t n = g->order[i];
    if (!pl->keep[n])
      continue;
    for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
      int32_t d = g->in_ds[k];
      if (!made[d] && !have[d]) {
        const hp_dsdef *def = pl->ds[d];
        fp[d] = def->type == HP_DS_PARAM
                    ? hp__tree_hash(pl->param[d], HP_HASH_SEED)
                : def->type == HP_DS_MEMORY
                    ? 0
                    : hp__ds_fingerprint(def, pl->load_version[d]);
        have[d] = 1;
      }
      in_fp[k - g->in_off[n]] = fp[d];
    }
    tfp[n] = hp__exec_task_fp(pl, n, in_fp);
    for (size_t o = g->out_off[n]; o < g->out_off[n + 1]; o++)
      fp[g->out_ds[o]] = hp__exec_out_fp(tfp[n], g->dsname[g->out_ds[o]]);
  }
  /* what is done */
  hp_map *journal = mode == HP_SKIP_RESUME ? read_journal(pl->store_dir)
                                           : NULL;
  for (size_t n = 0; n < nn; n++) {
    if (!pl->keep[n])
      continue;
    const rec *r = journal ? hp__map_get(journal, pl->pipe->nodes[n].name)
                           : NULL;
    int npers = 0, ok = 1;
    for (size_t o = g->out_off[n]; o < g->out_off[n + 1] && ok; o++) {
      int32_t d = g->out_ds[o];
      if (!persistent(pl, d))
        continue;
      npers++;
      ok = mode == HP_SKIP_ONLY_MISSING
               ? hp__ds_stamp(pl->ds[d]) != 0
               : output_done(pl, r, tfp[n], d, fp[d]);
    }
    if (npers == 0)
      ok = mode == HP_SKIP_ONLY_MISSING
               ? g->out_off[n + 1] > g->out_off[n]
               : r && r->fp == tfp[n];
    done[n] = (uint8_t)ok;
  }
  /* what runs: not done, or a running task reads a memory output */
  size_t nskip = 0;
  for (size_t i = nn; i-- > 0;) {
    int32_t n = g->order[i];
    if (!pl->keep[n])
      continue;
    int run = !done[n];
    for (size_t o = g->out_off[n]; o < g->out_off[n + 1] && !run; o++) {
      int32_t d = g->out_ds[o];
      if (persistent(pl, d))
        continue;
      for (size_t c = g->cons_off[d]; c < g->cons_off[d + 1] && !run; c++)
        run = pl->keep[g->cons[c]] && !skip[g->cons[c]];
    }
    skip[n] = (uint8_t)!run;
    nskip += skip[n];
  }
  /* only-missing keeps outputs it did not check: their consumers take the
   * fingerprint of what the files hold, not of what would be made now, so
   * a later --resume sees what they were computed from */
  for (size_t n = 0; mode == HP_SKIP_ONLY_MISSING && n < nn; n++)
    for (size_t o = g->out_off[n]; skip[n] && o < g->out_off[n + 1]; o++)
      fp[g->out_ds[o]] = 0;
  hp__map_free(journal, rec_free);
  free(tfp), free(done), free(made), free(in_fp), free(have);
  return nskip;
}

/* ---- history ---- */

/* the journal's tail read for durations: a few runs of a pipeline of a
 * few hundred tasks (2 MiB took ~5 ms at every run's start) */
#define HISTORY_TAIL (512u << 10)

double *hp__journal_seconds(const hp_plan *pl) {
  char *path = hp__xasprintf("%s/journal.jsonl", pl->store_dir);
  FILE *f = fopen(path, "r");
  free(path);
  if (!f)
    return NULL;
  size_t nn = pl->g->nnodes;
  double *secs = hp__xmalloc((nn + 1) * sizeof *secs);
  hp_map *at = hp__map_new();
  for (size_t n = 0; n < nn; n++) {
    secs[n] = -1;
    hp__map_put(at, pl->pipe->nodes[n].name, &secs[n]);
  }
  struct stat st;
  int tail = fstat(fileno(f), &st) == 0 && st.st_size > HISTORY_TAIL;
  if (tail) /* from the first whole line of the tail */
    fseeko(f, st.st_size - HISTORY_TAIL, SEEK_SET);
  char *line = NULL;
  size_t cap = 0, found = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) > 0) {
    if (tail) {
      tail = 0;
      continue;
    }
    const char *p = strstr(line, "\"event\":\"done\",\"node\":");
    if (p != line + 1)
      continue;
    p += strlen("\"event\":\"done\",\"node\":");
    char *task = get_str(&p);
    const char *q = task ? strstr(p, ",\"seconds\":") : NULL;
    double *slot = q ? hp__map_get(at, task) : NULL;
    if (slot) {
      char *end;
      double x = strtod(q + strlen(",\"seconds\":"), &end);
      if (end != q + strlen(",\"seconds\":") && x >= 0) {
        found += *slot < 0;
        *slot = x;
      }
    }
    free(task);
  }
  free(line);
  fclose(f);
  hp__map_free(at, NULL);
  if (!found) {
    free(secs);
    return NULL;
  }
  return secs;
}
