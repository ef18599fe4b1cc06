/*
 * slurm.c - `hpcpipe slurm render|submit|status` and a run's view of the
 * SLURM job around it (docs/slurm.md).
 *
 * render writes a batch script from the options: #SBATCH lines, then a
 * bash body that starts `hpcpipe run` under srun (PMIx) or mpirun, turns
 * the time-limit warning (USR1, --signal) into the run's stop file
 * (HPCPIPE_STOP_FILE) so that it stops cleanly with exit 3, and then
 * requeues the job, which continues with --resume. No shell injection: a value in an #SBATCH line must match a
 * narrow character set (sbatch does not unquote), and every value in the
 * body is single-quoted. submit keeps the script in <store>/slurm/ and
 * records the job in <store>/slurm/jobs.tsv; status reads that record and
 * asks scontrol (sacct for jobs slurmctld has forgotten). sbatch, scontrol
 * and sacct run from argument vectors, never through a shell.
 */
#define _GNU_SOURCE
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "error.h"
#include "fs.h"
#include "log.h"
#include "mem.h"

/* ---- inside a job --------------------------------------------------------- */

int hp__slurm_job(hp_slurm_job *j) {
  j->id = getenv("SLURM_JOB_ID");
  j->name = getenv("SLURM_JOB_NAME");
  j->nodes = getenv("SLURM_JOB_NODELIST");
  j->array_job = getenv("SLURM_ARRAY_JOB_ID");
  j->array_task = getenv("SLURM_ARRAY_TASK_ID");
  j->restarts = getenv("SLURM_RESTART_COUNT");
  return j->id != NULL;
}

int hp__slurm_mpi_defaults(void) {
  const char *cpus = getenv("SLURM_CPUS_ON_NODE"); /* this job's, here */
  if (!getenv("SLURM_JOB_ID") || !cpus ||
      getenv("OMPI_MCA_mpi_yield_when_idle"))
    return 0;
  long declared = strtol(cpus, NULL, 10);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores <= 0 || declared <= cores)
    return 0;
  setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
  return 1;
}

/* ---- options -------------------------------------------------------------- */

#define MAX_SWEEP 8
#define MAX_TASKS 1000 /* SLURM's default MaxArraySize is 1001 */

typedef struct sweep {
  const char *key;
  char *list;          /* owned copy, split in place */
  const char *val[MAX_TASKS];
  size_t n;
} sweep;

typedef struct opts {
  const char *conf, *env;
  /* hpcpipe run's options, each word as typed; {task} in a word stands
   * for the array task id */
  const char *run[256];
  size_t nrun;
  const char *params, *store;
  int resume; /* --resume or --only-missing given */
  /* SLURM */
  const char *nodes, *ntasks, *per_node, *cpus, *time, *partition, *account,
      *qos, *name, *array, *dependency, *launcher, *setup, *stop_before,
      *max_requeue, *exe;
  sweep sw[MAX_SWEEP];
  size_t nsw;
  /* for status */
  int all;
} opts;

static const char *const run_value_opts[] = {
    "--pipelines",  "--nodes-filter", "--from-nodes",   "--to-nodes",
    "--from-inputs", "--to-outputs",  "--tags",         "--namespaces",
    "--load-versions"};
static const char *const run_flags[] = {"--resume", "--only-missing",
                                        "--keep-going"};

static int only(const char *v, const char *set) {
  return *v && strspn(v, set) == strlen(v);
}

#define DIGITS "0123456789"
#define NAMECH "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS "_.+-"

/* Each SLURM option: where it goes, and the characters its value may have
 * (it is written into an #SBATCH line as is). */
typedef struct sopt {
  const char *name, *set, *what;
  size_t off;
} sopt;

#define OFF(f) offsetof(opts, f)
static const sopt slurm_opts[] = {
    {"--nodes", DIGITS, "a count", OFF(nodes)},
    {"--ntasks", DIGITS, "a count", OFF(ntasks)},
    {"--ntasks-per-node", DIGITS, "a count", OFF(per_node)},
    {"--cpus-per-task", DIGITS, "a count", OFF(cpus)},
    {"--time", DIGITS ":-", "a time like 30, 1:00:00 or 1-12:00:00",
     OFF(time)},
    {"--partition", NAMECH ",", "letters, digits and . _ - + ,",
     OFF(partition)},
    {"--account", NAMECH, "letters, digits and . _ - +", OFF(account)},
    {"--qos", NAMECH, "letters, digits and . _ - +", OFF(qos)},
    {"--job-name", NAMECH, "letters, digits and . _ - +", OFF(name)},
    {"--array", DIGITS ",-:%", "an array spec like 0-9 or 1,3,5%2",
     OFF(array)},
    {"--dependency", "abcdefghijklmnopqrstuvwxyz" DIGITS ":,?_+",
     "a dependency like afterok:123 or afterany:12:13", OFF(dependency)},
    {"--launcher", "abcdefghijklmnopqrstuvwxyz", "srun or mpirun",
     OFF(launcher)},
    {"--stop-before", DIGITS, "seconds", OFF(stop_before)},
    {"--max-requeue", DIGITS, "a count", OFF(max_requeue)},
    {"--setup", NULL, NULL, OFF(setup)},
    {"--hpcpipe", NULL, NULL, OFF(exe)},
    {"--store", NULL, NULL, OFF(store)},
    {"--params", NULL, NULL, OFF(params)},
    {"--env", NULL, NULL, OFF(env)},
};

static int add_sweep(opts *o, const char *v, hp_error *err) {
  const char *eq = strchr(v, '=');
  if (!eq || eq == v)
    return hp__fail(err, HP_EUSAGE, "--sweep '%s': expected KEY=V1,V2,...", v);
  if (o->nsw == MAX_SWEEP)
    return hp__fail(err, HP_EUSAGE, "at most %d --sweep options", MAX_SWEEP);
  sweep *s = &o->sw[o->nsw++];
  s->list = hp__xstrdup(v);
  s->list[eq - v] = '\0';
  s->key = s->list;
  if (!only(s->key, NAMECH ":"))
    return hp__fail(err, HP_EUSAGE,
                    "--sweep '%s': a parameter name has only letters, digits "
                    "and . _ - + :",
                    s->key);
  char *save = NULL;
  for (char *t = strtok_r(s->list + (eq - v) + 1, ",", &save); t;
       t = strtok_r(NULL, ",", &save)) {
    if (s->n == MAX_TASKS)
      return hp__fail(err, HP_EUSAGE, "--sweep %s: more than %d values",
                      s->key, MAX_TASKS);
    s->val[s->n++] = t;
  }
  if (!s->n)
    return hp__fail(err, HP_EUSAGE, "--sweep %s: no values", s->key);
  return HP_OK;
}

static int parse(opts *o, int argc, char **argv, int first, hp_error *err) {
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
    int m = 0;
    const char *v;
    if (!strcmp(a, "--")) { /* the rest goes to hpcpipe run as is */
      for (i++; i < argc; i++) {
        if (o->nrun == sizeof o->run / sizeof *o->run)
          return hp__fail(err, HP_EUSAGE, "too many run options");
        o->run[o->nrun++] = argv[i];
      }
      break;
    }
    if (a[0] != '-') {
      if (o->conf)
        return hp__fail(err, HP_EUSAGE, "unexpected argument '%s'", a);
      o->conf = a;
      continue;
    }
    if (!strcmp(a, "--all")) {
      o->all = 1;
      continue;
    }
    size_t k;
    for (k = 0; k < sizeof run_flags / sizeof *run_flags; k++)
      if (!strcmp(a, run_flags[k]))
        break;
    if (k < sizeof run_flags / sizeof *run_flags) {
      o->resume |= k < 2;
      if (o->nrun == sizeof o->run / sizeof *o->run)
        return hp__fail(err, HP_EUSAGE, "too many run options");
      o->run[o->nrun++] = a;
      continue;
    }
    if ((v = hp__opt_value(argc, argv, &i, "--sweep", &m)) || m) {
      if (!v)
        return hp__fail(err, HP_EUSAGE, "--sweep needs KEY=V1,V2,...");
      HP_TRY(add_sweep(o, v, err));
      continue;
    }
    for (k = 0; k < sizeof run_value_opts / sizeof *run_value_opts && !m;
         k++)
      v = hp__opt_value(argc, argv, &i, run_value_opts[k], &m);
    if (m) {
      if (!v || !*v)
        return hp__fail(err, HP_EUSAGE, "%s needs a value",
                        run_value_opts[k - 1]);
      if (o->nrun + 2 > sizeof o->run / sizeof *o->run)
        return hp__fail(err, HP_EUSAGE, "too many run options");
      /* --nodes is SLURM's node count here; the run's filter is spelled
       * --nodes-filter */
      o->run[o->nrun++] = k == 2 ? "--nodes" : run_value_opts[k - 1];
      o->run[o->nrun++] = v;
      continue;
    }
    for (k = 0; k < sizeof slurm_opts / sizeof *slurm_opts && !m; k++)
      v = hp__opt_value(argc, argv, &i, slurm_opts[k].name, &m);
    if (!m)
      return hp__fail(err, HP_EUSAGE, "unknown option '%s'", a);
    const sopt *s = &slurm_opts[k - 1];
    if (!v || !*v)
      return hp__fail(err, HP_EUSAGE, "%s needs a value", s->name);
    if (s->set && !only(v, s->set))
      return hp__fail(err, HP_EUSAGE, "%s '%s': expected %s", s->name, v,
                      s->what);
    if (strpbrk(v, "\n\r"))
      return hp__fail(err, HP_EUSAGE, "%s: a value cannot span lines",
                      s->name);
    *(const char **)((char *)o + s->off) = v;
  }
  if (o->launcher && strcmp(o->launcher, "srun") && strcmp(o->launcher, "mpirun"))
    return hp__fail(err, HP_EUSAGE, "--launcher '%s': expected srun or mpirun",
                    o->launcher);
  if (o->array && o->nsw)
    return hp__fail(err, HP_EUSAGE, "--array and --sweep: give one (--sweep "
                                    "makes the array itself)");
  if (o->stop_before && !o->time)
    return hp__fail(err, HP_EUSAGE, "--stop-before needs --time");
  if (o->stop_before && strlen(o->stop_before) > 5)
    return hp__fail(err, HP_EUSAGE, "--stop-before %s: at most 65535 s",
                    o->stop_before);
  int arr = o->array || o->nsw;
  const char *where = NULL;
  if (o->conf && strstr(o->conf, "{task}"))
    where = "CONF";
  else if (o->env && strstr(o->env, "{task}"))
    where = "--env";
  else if (!arr && o->params && strstr(o->params, "{task}"))
    where = "--params (no --array or --sweep)";
  else if (!arr && o->store && strstr(o->store, "{task}"))
    where = "--store (no --array or --sweep)";
  for (size_t i = 0; !where && !arr && i < o->nrun; i++)
    if (strstr(o->run[i], "{task}"))
      where = "a run option (no --array or --sweep)";
  if (where)
    return hp__fail(err, HP_EUSAGE, "{task} in %s: it stands for the array "
                                    "task id, so only in run options, "
                                    "--params and --store of an array job",
                    where);
  if (arr && o->store && !strstr(o->store, "{task}"))
    return hp__fail(err, HP_EUSAGE,
                    "--store %s with --array/--sweep: every task needs a store "
                    "of its own (one run per store); put {task} in it, e.g. "
                    "--store %s/{task}",
                    o->store, o->store);
  for (size_t i = 0; i < o->nrun; i++) /* also after -- */
    if (!strcmp(o->run[i], "--resume") || !strcmp(o->run[i], "--only-missing"))
      o->resume = 1;
  if (o->params && strpbrk(o->params, "\n\r"))
    return hp__fail(err, HP_EUSAGE, "--params: a value cannot span lines");
  return HP_OK;
}

/* A SLURM time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS) in
 * seconds, or -1. */
static long time_secs(const char *t) {
  long days = 0, f[3];
  if (strlen(t) > 16)
    return -1;
  int n = 0;
  const char *p = t, *dash = strchr(t, '-');
  char *end;
  if (dash) {
    days = strtol(t, &end, 10);
    if (end != dash || *t == '-')
      return -1;
    p = dash + 1;
  }
  while (*p && n < 3) {
    f[n++] = strtol(p, &end, 10);
    if (end == p || *p == '-' || (*end && *end != ':'))
      return -1;
    p = *end ? end + 1 : end;
  }
  if (*p || n == 0)
    return -1;
  if (dash) /* D-HH[:MM[:SS]] */
    return days * 86400 + f[0] * 3600 + (n > 1 ? f[1] * 60 : 0) +
           (n > 2 ? f[2] : 0);
  if (n == 1) /* minutes */
    return f[0] * 60;
  if (n == 2) /* MM:SS */
    return f[0] * 60 + f[1];
  return f[0] * 3600 + f[1] * 60 + f[2];
}

/* ---- rendering ------------------------------------------------------------ */

#define ARRAY_TASK "\"${SLURM_ARRAY_TASK_ID}\""

/* w as one shell word, with each {task} standing for the array task id. */
static void put_word(hp_buf *b, const char *w) {
  const char *t = strstr(w, "{task}");
  if (!t) {
    hp__buf_shell_word(b, w);
    return;
  }
  if (t > w) { /* quoted pieces and the variable make one word */
    char *part = hp__xstrndup(w, (size_t)(t - w));
    hp__buf_shell_word(b, part);
    free(part);
  }
  hp__buf_puts(b, ARRAY_TASK);
  if (t[6])
    put_word(b, t + 6);
}

static char *abs_path(const char *p) {
  if (p[0] == '/')
    return hp__xstrdup(p);
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd))
    return hp__xstrdup(p);
  return hp__xasprintf("%s/%s", cwd, p);
}

/* The run's store: --store, else the configuration's (settings `store`). */
static int store_dir(const opts *o, char **out, hp_error *err) {
  if (o->store) {
    *out = hp__xstrdup(o->store);
    return HP_OK;
  }
  hp_buf b = {0};
  hp_conf *c = NULL;
  int rc = hp__conf_bundle_read(o->conf, o->env, &b, err);
  if (rc == HP_OK)
    rc = hp__conf_load(b.data, b.len, o->conf, NULL, &c, err);
  hp__buf_free(&b);
  if (rc == HP_OK)
    *out = hp__conf_store_dir(c);
  hp__conf_free(c);
  return rc;
}

static const char *job_name(const opts *o, char *buf, size_t n) {
  if (o->name)
    return o->name;
  /* hpcpipe-<project directory> (the parent of the conf directory),
   * with other characters as '_' */
  char *conf = o->conf ? realpath(o->conf, NULL) : NULL;
  char *slash = conf ? strrchr(conf, '/') : NULL;
  if (slash) *slash = '\0'; /* the project */
  const char *base = conf ? strrchr(conf, '/') : NULL;
  snprintf(buf, n, "hpcpipe-%s", base && base[1] ? base + 1 : "run");
  free(conf);
  for (char *p = buf; *p; p++)
    if (!strchr(NAMECH, *p))
      *p = '_';
  return buf;
}

/* The sweep's array tasks: the grid of every --sweep's values, the last
 * one varying fastest. */
static size_t sweep_tasks(const opts *o) {
  size_t n = o->nsw ? 1 : 0;
  for (size_t k = 0; k < o->nsw; k++)
    n = n * o->sw[k].n > MAX_TASKS ? MAX_TASKS + 1 : n * o->sw[k].n;
  return n;
}

static void sweep_params(const opts *o, size_t task, hp_buf *b) {
  for (const char *p = o->params ? o->params : ""; *p;) /* {task} -> task */
    if (!strncmp(p, "{task}", 6)) {
      hp__buf_printf(b, "%zu", task);
      p += 6;
    } else
      hp__buf_putc(b, *p++);
  size_t idx[MAX_SWEEP], t = task;
  for (size_t k = o->nsw; k-- > 0;) {
    idx[k] = t % o->sw[k].n;
    t /= o->sw[k].n;
  }
  for (size_t k = 0; k < o->nsw; k++)
    hp__buf_printf(b, "%s%s=%s", b->len ? "," : "", o->sw[k].key,
                   o->sw[k].val[idx[k]]);
}

/* The script, for argv (as typed, recorded in a comment). */
static int render(const opts *o, int argc, char **argv, char **out,
                  char **outdir, hp_error *err) {
  if (!o->conf)
    return hp__fail(err, HP_EUSAGE, "slurm: the configuration directory "
                                    "(CONF) is missing");
  struct stat st;
  if (stat(o->conf, &st) != 0 || !S_ISDIR(st.st_mode))
    return hp__fail(err, HP_EUSAGE, "%s: no such configuration directory",
                    o->conf);
  size_t ntasks = sweep_tasks(o);
  if (ntasks > MAX_TASKS)
    return hp__fail(err, HP_EUSAGE, "--sweep: more than %d combinations",
                    MAX_TASKS);
  long limit = o->time ? time_secs(o->time) : 0;
  if (limit < 0 || (o->time && limit == 0))
    return hp__fail(err, HP_EUSAGE, "--time '%s': expected a time like 30, "
                                    "1:00:00 or 1-12:00:00", o->time);
  long stop = o->stop_before ? strtol(o->stop_before, NULL, 10)
              : limit >= 600 ? 120
                             : limit / 4;
  if (o->time && (stop <= 0 || stop >= limit))
    return hp__fail(err, HP_EUSAGE,
                    "--stop-before %ld: must be between 1 and the time limit "
                    "(%ld s)",
                    stop, limit);
  int arr = o->array || o->nsw;
  /* the job's own files (script, output, stop file) go to the run's
   * store, or the configuration's when each array task has its own */
  opts base = *o;
  if (o->store && strstr(o->store, "{task}"))
    base.store = NULL;
  char *store = NULL;
  HP_TRY(store_dir(&base, &store, err));
  char *store_abs = abs_path(store);
  char *cwd = getcwd(NULL, 0);
  if (!cwd)
    cwd = hp__xstrdup(".");
  char *exe = o->exe ? abs_path(o->exe) : realpath("/proc/self/exe", NULL);
  if (!exe)
    exe = hp__xstrdup("hpcpipe");
  char name[128];
  hp_buf b = {0};

  hp__buf_puts(&b, "#!/bin/bash\n# Rendered by hpcpipe ");
  hp__buf_puts(&b, hp_version());
  hp__buf_puts(&b, " from:\n#  ");
  for (int i = 0; i < argc; i++) {
    hp__buf_puts(&b, " ");
    hp_buf w = {0};
    hp__buf_shell_word(&w, i == 0 ? "hpcpipe" : argv[i]);
    for (char *p = w.data; *p; p++) /* one comment line whatever it holds */
      if (*p == '\n' || *p == '\r')
        *p = ' ';
    hp__buf_puts(&b, w.data);
    hp__buf_free(&w);
  }
  hp__buf_puts(&b, "\n# Submit with sbatch (from any directory); "
                   "docs/slurm.md explains each part.\n");
  hp__buf_printf(&b, "#SBATCH --job-name=%s\n",
                 job_name(o, name, sizeof name));
  const char *lines[][2] = {
      {"nodes", o->nodes},         {"ntasks", o->ntasks},
      {"ntasks-per-node", o->per_node}, {"cpus-per-task", o->cpus},
      {"time", o->time},           {"partition", o->partition},
      {"account", o->account},     {"qos", o->qos},
      {"dependency", o->dependency}};
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
    if (lines[i][1])
      hp__buf_printf(&b, "#SBATCH --%s=%s\n", lines[i][0], lines[i][1]);
  if (o->dependency) /* a dependency that fails cancels this job at once */
    hp__buf_puts(&b, "#SBATCH --kill-on-invalid-dep=yes\n");
  if (o->array)
    hp__buf_printf(&b, "#SBATCH --array=%s\n", o->array);
  else if (o->nsw)
    hp__buf_printf(&b, "#SBATCH --array=0-%zu\n", ntasks - 1);
  if (o->time)
    hp__buf_printf(&b, "#SBATCH --signal=B:USR1@%ld\n", stop);
  hp__buf_puts(&b, "#SBATCH --requeue\n#SBATCH --open-mode=append\n");
  *outdir = hp__xasprintf("%s/slurm", store_abs);
  /* sbatch does not make the output file's directory, and the job would
   * fail at launch without one: made now, for render and submit alike */
  if (hp__mkdir_p(*outdir) != 0) {
    int e = errno;
    free(store), free(store_abs), free(cwd), free(exe), hp__buf_free(&b);
    return hp__fail(err, HP_EIO, "%s: cannot create: %s", *outdir,
                    strerror(e));
  }
  if (only(*outdir, NAMECH "/"))
    hp__buf_printf(&b, "#SBATCH --output=%s/%%x-%s.out\n", *outdir,
                   arr ? "%A_%a" : "%j");
  else
    hp__buf_puts(&b, "# (output: SLURM's default file; the store's path has "
                     "characters an #SBATCH line cannot carry)\n");

  hp__buf_puts(&b, "set -u\ncd -- ");
  hp__buf_shell_word(&b, cwd);
  hp__buf_puts(&b, " || exit 2\n");
  if (o->setup) { /* site scripts often use unset variables */
    char *setup = abs_path(o->setup);
    hp__buf_puts(&b, "set +u\n. ");
    hp__buf_shell_word(&b, setup);
    hp__buf_puts(&b, " || exit 2\nset -u\n");
    free(setup);
  }
  if (o->cpus) /* srun does not take it over from sbatch (22.05 on) */
    hp__buf_printf(&b, "export SRUN_CPUS_PER_TASK=%s\n", o->cpus);
  hp__buf_puts(&b, "HPCPIPE=");
  hp__buf_shell_word(&b, exe);
  hp__buf_puts(&b, "\n");
  if (o->nsw) {
    hp__buf_puts(&b, "# one combination of the sweep per array task\n"
                     "case \"${SLURM_ARRAY_TASK_ID:-}\" in\n");
    for (size_t t = 0; t < ntasks; t++) {
      hp_buf p = {0};
      sweep_params(o, t, &p);
      hp__buf_printf(&b, "  %zu) PARAMS=", t);
      hp__buf_shell_word(&b, p.data);
      hp__buf_puts(&b, " ;;\n");
      hp__buf_free(&p);
    }
    hp__buf_printf(&b, "  *) echo \"hpcpipe: array task "
                       "${SLURM_ARRAY_TASK_ID:-(none)} is not one of this "
                       "sweep's 0-%zu\" >&2; exit 2 ;;\nesac\n",
                   ntasks - 1);
  }
  if (!o->resume)
    hp__buf_puts(&b, "# after a requeue, continue where the last attempt "
                     "stopped\nRESUME=\n[ \"${SLURM_RESTART_COUNT:-0}\" = 0 ] "
                     "|| RESUME=--resume\n");
  hp__buf_puts(
      &b, "# SLURM sends USR1 before the time limit (--signal; up to a minute "
          "early).\n# The trap asks the run to stop through HPCPIPE_STOP_FILE, "
          "which the ranks\n# look for every second (a signal passed on while "
          "they start could be lost):\n# no new tasks, running ones finish, "
          "exit 3; then the job requeues itself.\nexport HPCPIPE_STOP_FILE=");
  hp__buf_shell_word(&b, *outdir);
  hp__buf_printf(
      &b,
      "/stop-\"${SLURM_JOB_ID:-$$}\"\nmkdir -p -- \"${HPCPIPE_STOP_FILE%%/*}\" "
      "&& rm -f -- \"$HPCPIPE_STOP_FILE\"\nstopping= intr=\ntrap 'stopping=1 intr=1; : "
      ">\"$HPCPIPE_STOP_FILE\"' USR1\n%s \"$HPCPIPE\" run ",
      o->launcher && !strcmp(o->launcher, "mpirun")
          ? "mpirun"
          : "srun --mpi=pmix --kill-on-bad-exit=1");
  put_word(&b, o->conf);
  if (o->env) {
    hp__buf_puts(&b, " --env ");
    put_word(&b, o->env);
  }
  for (size_t i = 0; i < o->nrun; i++) {
    hp__buf_puts(&b, " ");
    put_word(&b, o->run[i]);
  }
  if (o->nsw)
    hp__buf_puts(&b, " --params \"$PARAMS\"");
  else if (o->params) {
    hp__buf_puts(&b, " --params ");
    put_word(&b, o->params);
  }
  hp__buf_puts(&b, " --store ");
  if (o->store)
    put_word(&b, o->store);
  else if (arr) { /* each array task its own store (one run per store) */
    hp_buf s = {0};
    hp__buf_printf(&s, "%s/array/{task}", store);
    put_word(&b, s.data);
    hp__buf_free(&s);
  } else
    put_word(&b, store);
  if (!o->resume)
    hp__buf_puts(&b, " $RESUME");
  hp__buf_printf(
      &b,
      " &\npid=$!\n"
      "while :; do\n  intr=\n  wait \"$pid\"; rc=$?\n"
      "  # the trap interrupts wait: wait again for the run itself (whose\n"
      "  # status bash keeps even when it ended meanwhile)\n"
      "  [ -n \"$intr\" ] && [ \"$rc\" -gt 128 ] || break\n"
      "done\nrm -f -- \"$HPCPIPE_STOP_FILE\"\n"
      "if [ \"$rc\" = 3 ] && [ -n \"$stopping\" ]; then\n"
      "  if [ \"${SLURM_RESTART_COUNT:-0}\" -lt %s ]; then\n"
      "    echo \"hpcpipe: stopped before the time limit; requeueing job "
      "$SLURM_JOB_ID to continue with --resume\" >&2\n"
      "    scontrol requeue \"$SLURM_JOB_ID\" && exit 0\n"
      "  else\n"
      "    echo \"hpcpipe: requeued %s times already; resubmit to "
      "continue with --resume\" >&2\n"
      "  fi\nfi\nexit \"$rc\"\n",
      o->max_requeue ? o->max_requeue : "10",
      o->max_requeue ? o->max_requeue : "10");
  free(store), free(store_abs), free(cwd), free(exe);
  *out = hp__buf_take(&b);
  return HP_OK;
}

/* ---- running sbatch, scontrol, sacct -------------------------------------- */

/* Runs argv (PATH lookup, no shell); its stdout into out, stderr into
 * errout. Returns the exit status, 127 when it cannot start. */
static int run_cmd(const char *const argv[], hp_buf *out, hp_buf *errout) {
  int po[2], pe[2];
  if (pipe(po) != 0)
    return 127;
  if (pipe(pe) != 0) {
    close(po[0]), close(po[1]);
    return 127;
  }
  fflush(stdout), fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
    return 127;
  }
  if (pid == 0) {
    dup2(po[1], 1), dup2(pe[1], 2);
    close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "cannot run %s: %s", argv[0], strerror(errno));
    _exit(127);
  }
  close(po[1]), close(pe[1]);
  struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
  hp_buf *dst[2] = {out, errout};
  int open_fds = 2;
  while (open_fds) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int k = 0; k < 2; k++) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      char buf[4096];
      ssize_t n = read(fds[k].fd, buf, sizeof buf);
      if (n > 0)
        hp__buf_put(dst[k], buf, (size_t)n);
      else if (n == 0 || errno != EINTR) {
        close(fds[k].fd);
        fds[k].fd = -1;
        open_fds--;
      }
    }
  }
  for (int k = 0; k < 2; k++)
    if (fds[k].fd >= 0)
      close(fds[k].fd);
  hp__buf_puts(out, ""), hp__buf_puts(errout, "");
  int status = 0;
  pid_t got;
  while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
    ;
  if (got < 0)
    return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The first line of s (in place), without the "sbatch: error: " style. */
static const char *first_line(char *s) {
  char *nl = strchr(s, '\n');
  if (nl)
    *nl = '\0';
  return s;
}

static int submit(const opts *o, const char *script, const char *dir,
                  hp_error *err) {
  char name[128], stamp[32];
  hp__utc_now(stamp, '.');
  char *path = hp__xasprintf("%s/%s-%s.sbatch", dir,
                             job_name(o, name, sizeof name), stamp);
  int rc = hp__fs_write_atomic(path, script, strlen(script), err);
  if (rc != HP_OK) {
    free(path);
    return rc;
  }
  hp_buf out = {0}, eout = {0};
  const char *argv[] = {"sbatch", "--parsable", path, NULL};
  int st = run_cmd(argv, &out, &eout);
  char *end = NULL;
  long id = st == 0 ? strtol(out.data, &end, 10) : 0;
  if (st != 0 || id <= 0 || (*end && *end != ';' && *end != '\n'))
    rc = hp__fail(err, HP_EUSAGE, "sbatch %s: %s", path,
                  st == 127 ? "sbatch not found: is SLURM installed here?"
                  : eout.len ? first_line(eout.data)
                             : "no job id in its output");
  if (rc == HP_OK) {
    char *rec = hp__xasprintf("%s/jobs.tsv", dir);
    FILE *f = fopen(rec, "a");
    if (f) {
      char when[32];
      hp__utc_now(when, ':');
      fprintf(f, "%ld\t%s\t%s\t%s\t%s\t%s\n", id, when,
              job_name(o, name, sizeof name), path,
              o->dependency ? o->dependency : "-",
              o->array ? o->array : o->nsw ? "sweep" : "-");
      if (fclose(f) != 0)
        rc = hp__fail(err, HP_EIO, "%s: %s", rec, strerror(errno));
    } else
      rc = hp__fail(err, HP_EIO, "%s: %s", rec, strerror(errno));
    free(rec);
    printf("%ld\n", id);
    fprintf(stderr, "hpcpipe: submitted job %ld: %s\n", id, path);
  }
  hp__buf_free(&out), hp__buf_free(&eout);
  free(path);
  return rc;
}

/* ---- status --------------------------------------------------------------- */

/* The value of Key= in a `scontrol show job -o` line (up to the next
 * space), or "" - into buf. */
static const char *field(const char *line, const char *key, char *buf,
                         size_t n) {
  size_t k = strlen(key);
  buf[0] = '\0';
  for (const char *p = line; (p = strstr(p, key));) {
    if ((p == line || p[-1] == ' ') && p[k] == '=') {
      size_t len = strcspn(p + k + 1, " \n");
      if (len >= n)
        len = n - 1;
      memcpy(buf, p + k + 1, len);
      buf[len] = '\0';
      break;
    }
    p += k;
  }
  return buf;
}

static const char *exit_meaning(int code) {
  switch (code) {
  case 0: return "";
  case 1: return "a node failed";
  case 2: return "usage or configuration error";
  case 3: return "interrupted; resumable with --resume";
  case 4: return "hpcpipe internal error";
  default: return "";
  }
}

/* Why a job was cancelled for its dependency: scontrol writes the one
 * that can no longer be met as "afterok:12(failed)" or
 * "afterok:12_*(failed)" among the others. */
static void dependency_why(const char *dep, hp_buf *why) {
  const char *bad = strstr(dep, "(failed)");
  if (!bad)
    bad = strstr(dep, "(unfulfilled)");
  if (bad) {
    const char *start = bad;
    while (start > dep && start[-1] != ',' && start[-1] != '?')
      start--;
    const char *colon = memchr(start, ':', (size_t)(bad - start));
    if (colon) {
      hp__buf_printf(why, "cancelled: job %.*s, which it needed to %s (%.*s), "
                          "%s",
                     (int)(bad - colon - 1), colon + 1,
                     !strncmp(start, "afterok", 7)       ? "succeed"
                     : !strncmp(start, "afternotok", 10) ? "fail"
                                                         : "end",
                     (int)(colon - start), start,
                     !strncmp(start, "afterok", 7) ? "failed" : "did not");
      return;
    }
  }
  hp__buf_printf(why, "cancelled: its dependency %s can never be met", dep);
}

/* One job (or array task) line: state, exit, run time, nodes, why. */
static void status_line(const char *line, hp_buf *b) {
  enum { ID, AJ, AT, NAME, STATE, REASON, DEP, EX, RUN, START, NODES, RESTARTS,
         OUT, NF };
  static const char *const keys[NF] = {
      "JobId",    "ArrayJobId", "ArrayTaskId", "JobName",  "JobState",
      "Reason",   "Dependency", "ExitCode",    "RunTime",  "StartTime",
      "NodeList", "Restarts",   "StdOut"};
  char f[NF][512];
  for (int k = 0; k < NF; k++)
    field(line, keys[k], f[k], sizeof f[k]);
  const char *id = f[ID], *aj = f[AJ], *at = f[AT], *name = f[NAME],
             *state = f[STATE], *reason = f[REASON], *dep = f[DEP],
             *ex = f[EX], *run = f[RUN], *start = f[START], *nodes = f[NODES],
             *restarts = f[RESTARTS], *out = f[OUT];
  char jid[1100];
  if (aj[0] && at[0])
    snprintf(jid, sizeof jid, "%s_%s", aj, at);
  else
    snprintf(jid, sizeof jid, "%s", id);
  int code = atoi(ex), sig = strchr(ex, ':') ? atoi(strchr(ex, ':') + 1) : 0;
  hp_buf why = {0};
  hp__buf_puts(&why, "");
  if (!strcmp(state, "CANCELLED") && !strcmp(reason, "DependencyNeverSatisfied"))
    dependency_why(dep, &why);
  else if (!strcmp(state, "PENDING") && !strcmp(reason, "Dependency"))
    hp__buf_printf(&why, "waiting for %s", dep);
  else if ((!strcmp(state, "PENDING") || !strcmp(state, "REQUEUE_HOLD")) &&
           (!reason[0] || !strcmp(reason, "None")))
    hp__buf_puts(&why, "queued"); /* SLURM has not looked at it yet */
  else if (!strcmp(state, "PENDING") || !strcmp(state, "REQUEUE_HOLD"))
    hp__buf_printf(&why, "waiting: %s", reason);
  else if (!strcmp(state, "TIMEOUT"))
    hp__buf_puts(&why, "reached its time limit; resubmit with --resume to "
                       "continue");
  else if (!strcmp(state, "FAILED") || !strcmp(state, "COMPLETED")) {
    if (sig)
      hp__buf_printf(&why, "killed by signal %d", sig);
    else if (code)
      hp__buf_printf(&why, "exit %d: %s", code, exit_meaning(code));
    if (code && out[0])
      hp__buf_printf(&why, " (see %s)", out);
  } else if (!strcmp(state, "RUNNING"))
    hp__buf_puts(&why, "running");
  else if (!strcmp(state, "CANCELLED"))
    hp__buf_puts(&why, "cancelled (scancel or an administrator)");
  else
    hp__buf_printf(&why, "%s", reason);
  if (atoi(restarts) > 0)
    hp__buf_printf(&why, "%srequeued %s time%s", why.len ? "; " : "",
                   restarts, atoi(restarts) == 1 ? "" : "s");
  hp__buf_printf(b, "%-12s %-20s %-10s %-5s %-11s %-12s %s\n", jid, name,
                 state, ex[0] ? ex : "-",
                 strcmp(start, "Unknown") && run[0] ? run : "-",
                 nodes[0] ? nodes : "-", why.data);
  hp__buf_free(&why);
}

/* The job from sacct, for one slurmctld no longer holds. */
static void status_sacct(const char *id, const char *name, char *scontrol_err,
                         hp_buf *b) {
  hp_buf out = {0}, eout = {0};
  const char *argv[] = {"sacct", "-n", "-P", "-X", "-j", id, "-o",
                  "JobID,JobName,State,ExitCode,Elapsed,NodeList", NULL};
  int st = run_cmd(argv, &out, &eout);
  if (st != 0 || !out.len) {
    /* scontrol's last word says most ("fatal: ...") */
    size_t n = strlen(scontrol_err);
    while (n && scontrol_err[n - 1] == '\n')
      scontrol_err[--n] = '\0';
    const char *why = strrchr(scontrol_err, '\n');
    why = why ? why + 1 : scontrol_err;
    if (!*why || strstr(why, "Invalid job id"))
      why = "slurmctld has forgotten it and sacct has no record";
    hp__buf_printf(b, "%-12s %-20s %-10s %-5s %-11s %-12s %s\n", id, name,
                   "UNKNOWN", "-", "-", "-", why);
  } else {
    char *save = NULL;
    for (char *l = strtok_r(out.data, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
      char *f[6] = {0}, *rest = l;
      int k = 0;
      for (char *t; k < 6 && (t = strsep(&rest, "|"));) /* keeps empty */
        f[k++] = t;
      if (k < 6)
        continue;
      char *sp = strchr(f[2], ' '); /* "CANCELLED by 0" */
      if (sp)
        *sp = '\0';
      int code = atoi(f[3]);
      hp__buf_printf(b, "%-12s %-20s %-10s %-5s %-11s %-12s %s\n", f[0], f[1],
                     f[2], f[3], f[4], f[5], exit_meaning(code));
    }
  }
  hp__buf_free(&out), hp__buf_free(&eout);
}

static long task_of(const char *line) {
  char t[32];
  field(line, "ArrayTaskId", t, sizeof t);
  return t[0] >= '0' && t[0] <= '9' ? strtol(t, NULL, 10) : -1;
}

static int by_task(const void *a, const void *b) {
  long x = task_of(*(char *const *)a), y = task_of(*(char *const *)b);
  return (x > y) - (x < y);
}

static int status(const opts *o, hp_error *err) {
  char *store = NULL;
  HP_TRY(store_dir(o, &store, err));
  char *rec = hp__xasprintf("%s/slurm/jobs.tsv", store);
  free(store);
  char *data = NULL;
  size_t len = 0;
  hp_error e2 = HP_ERROR_INIT;
  if (hp__fs_read_all(rec, 1, &data, &len, &e2) != HP_OK) {
    printf("no jobs submitted from here (%s does not exist)\n", rec);
    free(rec);
    return HP_OK;
  }
  data[len] = '\0';
  /* the newest 20 submissions unless --all */
  size_t nlines = 0;
  for (size_t i = 0; i < len; i++)
    nlines += data[i] == '\n';
  size_t skip = !o->all && nlines > 20 ? nlines - 20 : 0;
  hp_buf b = {0};
  hp__buf_printf(&b, "%-12s %-20s %-10s %-5s %-11s %-12s %s\n", "JOBID",
                 "NAME", "STATE", "EXIT", "ELAPSED", "NODES", "WHY");
  char *save = NULL;
  size_t ln = 0;
  for (char *l = strtok_r(data, "\n", &save); l;
       l = strtok_r(NULL, "\n", &save), ln++) {
    if (ln < skip)
      continue;
    char *s2 = NULL, *id = strtok_r(l, "\t", &s2);
    strtok_r(NULL, "\t", &s2); /* submitted */
    char *name = strtok_r(NULL, "\t", &s2);
    if (!id || !name || !only(id, DIGITS))
      continue;
    hp_buf out = {0}, eout = {0};
    const char *argv[] = {"scontrol", "show", "job", "-o", id, NULL};
    int st = run_cmd(argv, &out, &eout);
    if (st == 127) {
      hp__buf_free(&out), hp__buf_free(&eout), hp__buf_free(&b), free(rec);
      free(data);
      return hp__fail(err, HP_EUSAGE, "scontrol not found: is SLURM "
                                      "installed here?");
    }
    if (st != 0 || !strstr(out.data, "JobId="))
      status_sacct(id, name, eout.data, &b);
    else {
      /* array tasks in task order (scontrol lists the newest first) */
      char *s3 = NULL, *lines[MAX_TASKS + 1];
      size_t n = 0;
      for (char *j = strtok_r(out.data, "\n", &s3); j && n <= MAX_TASKS;
           j = strtok_r(NULL, "\n", &s3))
        if (strstr(j, "JobId="))
          lines[n++] = j;
      qsort(lines, n, sizeof *lines, by_task);
      for (size_t k = 0; k < n; k++)
        status_line(lines[k], &b);
    }
    hp__buf_free(&out), hp__buf_free(&eout);
  }
  fputs(b.data, stdout);
  hp__buf_free(&b);
  free(rec);
  free(data);
  return HP_OK;
}

/* ---- the command ---------------------------------------------------------- */

static const char usage[] =
    "usage: hpcpipe slurm render CONF [run options] [job options]\n"
    "       hpcpipe slurm submit CONF [run options] [job options]\n"
    "       hpcpipe slurm status [CONF] [--store DIR] [--all]\n"
    "run options: --pipelines P,.. --params k=v,.. --env E --store DIR\n"
    "             --resume --only-missing --keep-going --from-nodes .. "
    "--to-nodes ..\n"
    "             --from-inputs .. --to-outputs .. --tags .. --namespaces ..\n"
    "             --nodes-filter N,.. --load-versions ..   (-- ARGS: passed "
    "as is)\n"
    "job options: --nodes N --ntasks N --ntasks-per-node K --cpus-per-task C\n"
    "             --time T --partition P --account A --qos Q --job-name NAME\n"
    "             --array SPEC | --sweep KEY=V1,V2,.. (repeatable: a grid)\n"
    "             --dependency afterok:ID[:ID..] --launcher srun|mpirun\n"
    "             --stop-before SECONDS --max-requeue N --setup FILE "
    "--hpcpipe PATH\n";

int hp__slurm_main(int argc, char **argv) {
  opts o = {0};
  hp_error err = HP_ERROR_INIT;
  const char *sub = argc > 2 ? argv[2] : "";
  int rc;
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
    fputs(usage, stdout);
    return HP_EXIT_OK;
  }
  if (strcmp(sub, "render") && strcmp(sub, "submit") && strcmp(sub, "status"))
    rc = hp__fail(&err, HP_EUSAGE, "slurm: expected render, submit or status%s%s",
                  *sub ? ", not " : "", sub);
  else
    rc = parse(&o, argc, argv, 3, &err);
  int bad_usage = rc != HP_OK;
  char *script = NULL, *dir = NULL;
  if (rc == HP_OK && !strcmp(sub, "status")) {
    if (!o.conf)
      o.conf = "conf";
    rc = status(&o, &err);
  } else if (rc == HP_OK) {
    rc = render(&o, argc, argv, &script, &dir, &err);
    if (rc == HP_OK && !strcmp(sub, "render"))
      fputs(script, stdout);
    else if (rc == HP_OK)
      rc = submit(&o, script, dir, &err);
  }
  fflush(stdout);
  for (size_t k = 0; k < o.nsw; k++)
    free(o.sw[k].list);
  free(script), free(dir);
  if (rc != HP_OK) {
    fprintf(stderr, "hpcpipe: error: %s\n", err.msg);
    if (bad_usage)
      fputs(usage, stderr);
  }
  return hp_exit_code(rc);
}
