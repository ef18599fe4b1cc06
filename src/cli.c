/*
 * cli.c - the hpcpipe command line (hp_main): option parsing, MPI start-up
 * and the role split. Rank 0 reads the configuration files and broadcasts
 * them; every rank builds the same plan; the verdict is agreed on with one
 * reduction so that errors are printed once, by rank 0, and every rank
 * leaves with the same exit code and no MPI abort.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "conf.h"
#include "exec.h"
#include "fs.h"
#include "log.h"
#include "mem.h"
#include "plan.h"
#include "scaffold.h"
#include "sched.h"
#include "show.h"
#include "slurm.h"
#include "store.h"
#include "viz.h"
#include "worker.h"

typedef struct cli {
  const char *cmd;  /* run | check | list */
  const char *what; /* list: nodes | datasets | pipelines */
  hp_plan_opts o;
  int dry_run;
  int resume, only_missing, keep_going;
  const char *format, *output; /* viz */
  int argc;
  char **argv;
  /* comma-split lists, owned */
  char *lists[9];
  const char **items[9];
  size_t nitems[9];
} cli;

static const char *usage_text =
    "usage: hpcpipe run CONF [--pipelines P,..] [filters] [--params k=v,..]\n"
    "                        [--env ENV] [--load-versions ds:VER,..] "
    "[--dry-run]\n"
    "                        [--resume | --only-missing] [--keep-going]\n"
    "                        [--store DIR]\n"
    "       hpcpipe check CONF [--pipelines P,..] [--env ENV] [--params ..]\n"
    "       hpcpipe list CONF nodes|datasets|pipelines [filters]\n"
    "       hpcpipe viz CONF [filters] [--format html|svg|dot] "
    "[--output FILE]\n"
    "       hpcpipe show PATH|DATASET [--conf CONF] [--env ENV] [--key K] "
    "[--rows N]\n"
    "       hpcpipe new NAME | hpcpipe pipeline create NAME [--conf CONF]\n"
    "       hpcpipe slurm render|submit|status ...  (hpcpipe slurm --help)\n"
    "       hpcpipe --version | --help\n"
    "filters: --nodes N,.. --from-nodes N,.. --to-nodes N,.. "
    "--from-inputs D,..\n"
    "         --to-outputs D,.. --tags T,.. --namespaces NS,..\n";

static const char *list_opts[] = {"--pipelines",   "--nodes",
                                  "--from-nodes",  "--to-nodes",
                                  "--from-inputs", "--to-outputs",
                                  "--tags",        "--namespaces"};

static void split_list(cli *c, int k, const char *v) {
  free(c->lists[k]);
  free(c->items[k]);
  c->lists[k] = hp__xstrdup(v);
  c->items[k] = NULL;
  c->nitems[k] = 0;
  size_t cap = 0;
  char *save = NULL;
  for (char *t = strtok_r(c->lists[k], ",", &save); t;
       t = strtok_r(NULL, ",", &save)) {
    while (*t == ' ')
      t++;
    if (!*t)
      continue;
    hp__grow(&c->items[k], &cap, c->nitems[k] + 1, sizeof *c->items[k]);
    c->items[k][c->nitems[k]++] = t;
  }
}


static int parse_args(cli *c, int argc, char **argv, hp_error *err) {
  if (argc < 2)
    return hp__fail(err, HP_EUSAGE, "no command given");
  c->cmd = argv[1];
  if (strcmp(c->cmd, "run") && strcmp(c->cmd, "check") &&
      strcmp(c->cmd, "list") && strcmp(c->cmd, "viz"))
    return hp__fail(err, HP_EUSAGE, "unknown command '%s'", c->cmd);
  int pos = 0;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] != '-') {
      if (pos == 0)
        c->o.confdir = a;
      else if (pos == 1 && strcmp(c->cmd, "list") == 0)
        c->what = a;
      else
        return hp__fail(err, HP_EUSAGE, "unexpected argument '%s'", a);
      pos++;
      continue;
    }
    int is_run = strcmp(c->cmd, "run") == 0;
    int *flag = !is_run                               ? NULL
                : strcmp(a, "--dry-run") == 0         ? &c->dry_run
                : strcmp(a, "--resume") == 0          ? &c->resume
                : strcmp(a, "--only-missing") == 0    ? &c->only_missing
                : strcmp(a, "--keep-going") == 0      ? &c->keep_going
                                                      : NULL;
    if (flag) {
      *flag = 1;
      continue;
    }
    int m = 0, k;
    const char *v = NULL;
    for (k = 0; k < 8 && !m; k++)
      v = hp__opt_value(argc, argv, &i, list_opts[k], &m);
    if (m) {
      if (!v || !*v)
        return hp__fail(err, HP_EUSAGE, "%s needs a value", list_opts[k - 1]);
      split_list(c, k - 1, v);
      continue;
    }
    if (is_run && ((v = hp__opt_value(argc, argv, &i, "--store", &m)) || m)) {
      if (!v || !*v)
        return hp__fail(err, HP_EUSAGE, "--store needs a directory");
      c->o.store = v;
      continue;
    }
    const char *names[] = {"--params", "--env", "--load-versions",
                           "--format", "--output"};
    const char **dst[] = {&c->o.params, &c->o.env, &c->o.load_versions,
                          &c->format, &c->output};
    int nopt = strcmp(c->cmd, "viz") == 0 ? 5 : 3;
    for (k = 0; k < nopt && !m; k++)
      v = hp__opt_value(argc, argv, &i, names[k], &m);
    if (!m)
      return hp__fail(err, HP_EUSAGE, "unknown option '%s'", a);
    if (!v)
      return hp__fail(err, HP_EUSAGE, "%s needs a value", names[k - 1]);
    *dst[k - 1] = v;
  }
  if (!c->o.confdir)
    return hp__fail(err, HP_EUSAGE, "%s: the configuration directory (CONF) "
                                    "is missing", c->cmd);
  if (c->resume && c->only_missing)
    return hp__fail(err, HP_EUSAGE,
                    "--resume and --only-missing cannot be used together");
  if (strcmp(c->cmd, "list") == 0 &&
      (!c->what || (strcmp(c->what, "nodes") && strcmp(c->what, "datasets") &&
                    strcmp(c->what, "pipelines"))))
    return hp__fail(err, HP_EUSAGE,
                    "list: say what to list: nodes, datasets or pipelines");
  c->o.pipelines = c->items[0];
  c->o.npipelines = c->nitems[0];
  hp_filter *f = &c->o.filter;
  f->nodes = c->items[1], f->nnodes = c->nitems[1];
  f->from_nodes = c->items[2], f->nfrom_nodes = c->nitems[2];
  f->to_nodes = c->items[3], f->nto_nodes = c->nitems[3];
  f->from_inputs = c->items[4], f->nfrom_inputs = c->nitems[4];
  f->to_outputs = c->items[5], f->nto_outputs = c->nitems[5];
  f->tags = c->items[6], f->ntags = c->nitems[6];
  f->namespaces = c->items[7], f->nnamespaces = c->nitems[7];
  return HP_OK;
}

/* A run without MPI (see hp_main) has no communicator. */
static int solo(MPI_Comm comm) {
  return comm == MPI_COMM_NULL;
}

/* All ranks agree on the first failing rank's error; returns the code. */
static int agree(MPI_Comm comm, int rank, hp_error *err) {
  if (solo(comm))
    return err->code;
  int in[2] = {err->code != HP_OK ? 0 : 1, rank}, out[2];
  MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MINLOC, comm);
  if (out[0] == 1)
    return HP_OK;
  int who = out[1];
  if (who != 0) {
    if (rank == who)
      MPI_Send(err, (int)sizeof *err, MPI_BYTE, 0, 1, comm);
    else if (rank == 0)
      MPI_Recv(err, (int)sizeof *err, MPI_BYTE, who, 1, comm,
               MPI_STATUS_IGNORE);
  }
  int code = err->code;
  MPI_Bcast(&code, 1, MPI_INT, who, comm);
  return code;
}

/* Rank 0 reads the files; every rank gets the bytes. */
static int share_bundle(MPI_Comm comm, int rank, const cli *c, hp_buf *b,
                        hp_error *err) {
  int rc = HP_OK;
  if (rank == 0)
    rc = hp__conf_bundle_read(c->o.confdir, c->o.env, b, err);
  rc = agree(comm, rank, err);
  if (rc != HP_OK || solo(comm))
    return rc;
  unsigned long long n = b->len;
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
  if (rank != 0) {
    hp__buf_reserve(b, (size_t)n);
    b->len = (size_t)n;
  }
  for (size_t off = 0; off < n;) {
    size_t chunk = n - off > (1u << 30) ? (1u << 30) : n - off;
    MPI_Bcast(b->data + off, (int)chunk, MPI_BYTE, 0, comm);
    off += chunk;
  }
  return HP_OK;
}

static void run_version(MPI_Comm comm, int rank, hp_plan *pl) {
  char v[64] = {0};
  if (rank == 0) {
    hp__utc_now(v, '.');
    /* Array tasks of one job start at once: their versioned outputs are
     * told apart by the task id. */
    hp_slurm_job j;
    if (hp__slurm_job(&j) && j.array_task &&
        strspn(j.array_task, "0123456789") == strlen(j.array_task) &&
        strlen(j.array_task) < 12)
      snprintf(v + strlen(v), sizeof v - strlen(v), "-a%s", j.array_task);
  }
  if (!solo(comm))
    MPI_Bcast(v, sizeof v, MPI_CHAR, 0, comm);
  pl->version = hp__xstrdup(v);
}

/* The selected nodes in execution order; with --resume or --only-missing
 * (run --dry-run) only those with a task that would run. */
static void print_selected(hp_plan *pl, hp_skip_mode mode) {
  const hp_graph *g = pl->ug;
  uint8_t *runs = NULL;
  if (mode != HP_SKIP_NONE) {
    uint8_t *skip = hp__xcalloc(pl->g->nnodes + 1, 1);
    uint64_t *fp = hp__xcalloc(pl->g->nds + 1, sizeof *fp);
    hp__journal_skips(pl, mode, fp, skip);
    runs = hp__xcalloc(g->nnodes + 1, 1);
    for (size_t n = 0; n < pl->g->nnodes; n++)
      if (pl->keep[n] && !skip[n])
        runs[pl->task ? pl->task[n].unode : (int32_t)n] = 1;
    free(skip), free(fp);
  }
  for (size_t i = 0; i < g->nnodes; i++)
    if (pl->ukeep[g->order[i]] && (!runs || runs[g->order[i]]))
      printf("%s\n", pl->upipe->nodes[g->order[i]].name);
  free(runs);
}

static void print_list(hp_plan *pl, const char *what) {
  const hp_graph *g = pl->ug;
  if (strcmp(what, "nodes") == 0) {
    print_selected(pl, HP_SKIP_NONE);
    return;
  }
  const char **names = hp__xcalloc(g->nds + 1, sizeof *names);
  size_t n = 0;
  if (strcmp(what, "datasets") == 0) {
    uint8_t *seen = hp__xcalloc(g->nds + 1, 1);
    for (size_t i = 0; i < g->nnodes; i++) {
      if (!pl->ukeep[i])
        continue;
      for (size_t k = g->in_off[i]; k < g->in_off[i + 1]; k++)
        seen[g->in_ds[k]] = 1;
      for (size_t k = g->out_off[i]; k < g->out_off[i + 1]; k++)
        seen[g->out_ds[k]] = 1;
    }
    for (size_t d = 0; d < g->nds; d++)
      if (seen[d] && !hp__is_param(g->dsname[d]))
        names[n++] = g->dsname[d];
    free(seen);
  } else {
    const hp_tree *p = pl->conf->pipelines;
    free(names);
    names = hp__xcalloc(hp_tree_len(p) + 1, sizeof *names);
    for (size_t i = 0; i < hp_tree_len(p); i++)
      names[n++] = hp_tree_key(p, i);
  }
  n = hp__strs_sort_unique(names, n);
  for (size_t i = 0; i < n; i++)
    printf("%s\n", names[i]);
  free(names);
}

/* " (120 tasks)" when partitions make more tasks than nodes. */
static const char *tasks_note(const hp_plan *pl) {
  static char buf[48];
  buf[0] = '\0';
  if (pl->task)
    snprintf(buf, sizeof buf, " (%zu tasks)", pl->g->nnodes);
  return buf;
}

/* The command as typed (launcher included when there are ranks), or the
 * one that resumes it: --only-missing and --dry-run dropped, --resume
 * added. malloc'd. */
static char *command_line(const cli *c, int size, int resume) {
  hp_buf b = {0};
  hp__buf_puts(&b, "");
  if (size > 1) {
    char n[32];
    snprintf(n, sizeof n, "-n %d ", size);
    hp__buf_puts(&b, getenv("OMPI_COMM_WORLD_SIZE") ? "mpirun " : "srun ");
    hp__buf_puts(&b, n);
  }
  for (int i = 0; i < c->argc; i++) {
    const char *a = c->argv[i];
    if (resume && (strcmp(a, "--only-missing") == 0 ||
                   strcmp(a, "--resume") == 0 || strcmp(a, "--dry-run") == 0))
      continue;
    if (i)
      hp__buf_puts(&b, " ");
    hp__buf_shell_word(&b, a);
  }
  if (resume)
    hp__buf_puts(&b, " --resume");
  return b.data;
}

/* Rank 0's last words: the error, and for a run that failed or was
 * stopped, the command that resumes it. */
static void report(const cli *c, int size, int rc, const hp_error *err) {
  if (err->msg[0])
    fprintf(stderr, "hpcpipe: error: %s\n", err->msg);
  else
    fprintf(stderr, "hpcpipe: error: %s\n", hp_strerror(rc));
  if (c->cmd && strcmp(c->cmd, "run") == 0 && !c->dry_run &&
      (rc == HP_ENODE || rc == HP_EINTR)) {
    char *cmd = command_line(c, size, 1);
    fprintf(stderr, "hpcpipe: to resume: %s\n", cmd);
    free(cmd);
  }
}

/* viz to --output (whole or not at all) or to stdout. */
static int write_viz(const cli *c, const hp_plan *pl, hp_error *err) {
  const char *format = c->format ? c->format : "html";
  if (!c->output) return hp__viz(pl, format, stdout, err);
  char *tmp;
  FILE *f = hp__fs_tmp_open(c->output, &tmp, err);
  if (!f)
    return err->code ? err->code : HP_EIO;
  int rc = hp__viz(pl, format, f, err);
  rc = hp__fs_tmp_commit(f, tmp, c->output, rc, err);
  if (rc == HP_OK)
    hp__log(HP_LOG_INFO, "wrote %s", c->output);
  return rc;
}

static int execute(cli *c, MPI_Comm comm, int rank, int size, hp_error *err) {
  hp_buf bundle = {0};
  hp_plan *pl = NULL;
  int rc = share_bundle(comm, rank, c, &bundle, err);
  if (rc == HP_OK) {
    rc = hp__plan_build(bundle.data, bundle.len, &c->o, rank, size, &pl, err);
    rc = agree(comm, rank, err);
  }
  hp__buf_free(&bundle);
  if (rc == HP_OK && strcmp(c->cmd, "run") == 0 && !c->dry_run) {
    run_version(comm, rank, pl);
    if (rank == 0)
      hp__log(HP_LOG_INFO, "run %s: %zu node%s%s on %d rank%s", pl->version,
              pl->nsel, pl->nsel == 1 ? "" : "s", tasks_note(pl), size,
              size > 1 ? "s" : "");
    hp_run_opts ro = {.skip = c->resume         ? HP_SKIP_RESUME
                              : c->only_missing ? HP_SKIP_ONLY_MISSING
                                                : HP_SKIP_NONE,
                      .keep_going = c->keep_going};
    char *cmdline = rank == 0 ? command_line(c, size, 0) : NULL;
    char *resume = rank == 0 ? command_line(c, size, 1) : NULL;
    ro.command = cmdline;
    hp__exec_stop_resume(resume);
    if (rank == 0)
      rc = hp__sched_run(pl, &ro, comm, err);
    else
      rc = hp__worker_run(pl, comm, err);
    hp__exec_stop_resume(NULL);
    free(cmdline), free(resume);
    if (!ro.abandoned)
      hp__exec_stop_ignore();
    if (ro.abandoned) { /* workers are still inside their nodes */
      report(c, size, rc, err);
      fflush(stderr);
      MPI_Abort(comm, HP_EXIT_INTR);
    }
    if (rank != 0 && rc != HP_OK)
      hp__log(HP_LOG_ERROR, "%s", err->msg);
    int code = rc;
    if (!solo(comm))
      MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    rc = code;
  } else if (rc == HP_OK && rank == 0) {
    if (strcmp(c->cmd, "list") == 0)
      print_list(pl, c->what);
    else if (strcmp(c->cmd, "viz") == 0)
      rc = write_viz(c, pl, err);
    else if (strcmp(c->cmd, "run") == 0)
      print_selected(pl, c->resume         ? HP_SKIP_RESUME
                         : c->only_missing ? HP_SKIP_ONLY_MISSING
                                           : HP_SKIP_NONE);
    else
      hp__log(HP_LOG_INFO, "%s: configuration is valid (%zu nodes, %zu "
                           "datasets)",
              c->o.confdir, pl->ug->nnodes, pl->ug->nds);
    errno = 0;
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == HP_OK)
      rc = hp__fail(err, HP_EIO, "cannot write the standard output: %s",
                    errno ? strerror(errno) : "write error");
  }
  /* Freeing a plan of millions of nodes node by node takes seconds the
   * exiting process does not need; small plans are freed, so the tidy path
   * stays exercised by the tests. */
  if (!pl || pl->g->nnodes < 100000)
    hp__plan_free(pl);
  return rc;
}

/* The end of a command that runs without MPI: its error, the usage text
 * after an option mistake, the exit code. */
static int leave(int rc, const hp_error *err, int bad_usage) {
  if (rc != HP_OK) {
    fprintf(stderr, "hpcpipe: error: %s\n", err->msg);
    if (bad_usage)
      fputs(usage_text, stderr);
  }
  return hp_exit_code(rc);
}

/* hpcpipe show: no MPI, no plan; one file or catalog entry. */
static int show_cmd(int argc, char **argv) {
  hp_show_opts o = {.confdir = "conf", .rows = 5};
  hp_error err = HP_ERROR_INIT;
  int rc = HP_OK;
  for (int i = 2; i < argc && rc == HP_OK; i++) {
    int m = 0;
    const char *v;
    if ((v = hp__opt_value(argc, argv, &i, "--conf", &m)) || m)
      o.confdir = v;
    else if ((v = hp__opt_value(argc, argv, &i, "--env", &m)) || m)
      o.env = v;
    else if ((v = hp__opt_value(argc, argv, &i, "--key", &m)) || m)
      o.key = v;
    else if ((v = hp__opt_value(argc, argv, &i, "--rows", &m)) || m) {
      char *end = NULL;
      long n = v ? strtol(v, &end, 10) : -1;
      if (!v || !*v || *end || n < 0)
        rc = hp__fail(&err, HP_EUSAGE, "--rows needs a count >= 0");
      o.rows = (size_t)(n < 0 ? 0 : n);
    } else if (argv[i][0] == '-' && argv[i][1] == '-')
      rc = hp__fail(&err, HP_EUSAGE, "unknown option '%s'", argv[i]);
    else if (!o.what)
      o.what = argv[i];
    else
      rc = hp__fail(&err, HP_EUSAGE, "unexpected argument '%s'", argv[i]);
    if (m && !v && rc == HP_OK)
      rc = hp__fail(&err, HP_EUSAGE, "%s needs a value", argv[i]);
  }
  if (rc == HP_OK && !o.what)
    rc = hp__fail(&err, HP_EUSAGE, "show: say what to show: a file or a "
                                   "dataset name");
  int bad_usage = rc != HP_OK;
  if (rc == HP_OK)
    rc = hp__show(&o, stdout, &err);
  fflush(stdout);
  return leave(rc, &err, bad_usage);
}

/* hpcpipe new NAME, hpcpipe pipeline create NAME [--conf CONF]. */
static int scaffold_cmd(int argc, char **argv) {
  hp_error err = HP_ERROR_INIT;
  int rc, pipe = strcmp(argv[1], "pipeline") == 0;
  const char *conf = "conf", *name = NULL;
  int i = pipe ? 3 : 2;
  if (pipe && (argc < 3 || strcmp(argv[2], "create") != 0))
    rc = hp__fail(&err, HP_EUSAGE, "pipeline: the only subcommand is "
                                   "'create NAME'");
  else
    rc = HP_OK;
  for (; i < argc && rc == HP_OK; i++) {
    int m = 0;
    const char *v = pipe ? hp__opt_value(argc, argv, &i, "--conf", &m) : NULL;
    if (m && !v)
      rc = hp__fail(&err, HP_EUSAGE, "--conf needs a value");
    else if (m)
      conf = v;
    else if (argv[i][0] == '-')
      rc = hp__fail(&err, HP_EUSAGE, "unknown option '%s'", argv[i]);
    else if (!name)
      name = argv[i];
    else
      rc = hp__fail(&err, HP_EUSAGE, "unexpected argument '%s'", argv[i]);
  }
  if (rc == HP_OK && !name)
    rc = hp__fail(&err, HP_EUSAGE, "%s: the name is missing",
                  pipe ? "pipeline create" : "new");
  int bad_usage = rc != HP_OK;
  if (rc == HP_OK)
    rc = pipe ? hp__scaffold_pipeline(conf, name, &err)
              : hp__scaffold_project(name, &err);
  if (rc == HP_OK && pipe)
    printf("added pipeline '%s': %s/base/pipelines.yml, "
           "%s/base/parameters_%s.yml, jobs/%s.c, tests/test_%s.sh; rebuild "
           "the plugins (cmake --build build/jobs), then hpcpipe run %s "
           "--pipelines %s\n",
           name, conf, conf, name, name, name, conf, name);
  else if (rc == HP_OK)
    printf("created project %s: cd %s, then see README.md (build the "
           "plugin, hpcpipe run conf)\n",
           name, name);
  return leave(rc, &err, bad_usage);
}

int hp_main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "run") == 0)
    hp__mem_hugepages_exec(argv); /* before MPI starts; mem.h */
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(usage_text, stdout);
    return HP_EXIT_OK;
  }
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("hpcpipe %s\n", hp_version());
    return HP_EXIT_OK;
  }
  if (argc >= 2 && (!strcmp(argv[1], "new") || !strcmp(argv[1], "pipeline")))
    return scaffold_cmd(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "slurm") == 0)
    return hp__slurm_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "show") == 0) {
    hp__log_init(0, HP_LOG_INFO);
    hp__h5_init();
    return show_cmd(argc, argv);
  }
  /* Partitions are large blocks allocated and freed task after task: from
   * the heap, kept after free, they are reused instead of being mapped
   * afresh (and page-faulted in again) each time. */
  mallopt(M_MMAP_MAX, 0);
  /* Past a file-size limit (ulimit -f), a write fails with EFBIG and the
   * node fails with that message, instead of the process dying. */
  signal(SIGXFSZ, SIG_IGN);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  /* A plain `hpcpipe run` (no mpirun or srun) runs in-process without
   * MPI: Open MPI's singleton start-up alone costs ~0.3 s. */
  int provided, rank = 0, size = 1;
  int mpi = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") ||
            getenv("PMI_RANK") || getenv("PMIX_RANK") ||
            getenv("HPCPIPE_MPI");
  MPI_Comm comm = MPI_COMM_NULL;
  /* A stop signal that comes while MPI starts (SLURM's time-limit warning
   * can come at once) must not kill a rank: catch them from here on. */
  if (argc >= 2 && strcmp(argv[1], "run") == 0)
    hp__exec_stop_handlers();
  int yields = 0;
  if (mpi) {
    yields = hp__slurm_mpi_defaults();
    /* a worker's saving thread tells rank 0 of its saves (exec.h) */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
  }
  hp__log_init(rank, HP_LOG_INFO);
  if (yields && rank == 0)
    hp__log(HP_LOG_DEBUG, "SLURM gives this job %s CPUs on a node with %ld "
                          "cores: idle ranks yield "
                          "(OMPI_MCA_mpi_yield_when_idle=1)",
            getenv("SLURM_CPUS_ON_NODE"), sysconf(_SC_NPROCESSORS_ONLN));
  hp__h5_init();
  hp__exec_crash_handlers(rank);

  cli c = {.argc = argc, .argv = argv};
  hp_error err = HP_ERROR_INIT;
  int rc = parse_args(&c, argc, argv, &err);
  int bad_usage = rc != HP_OK;
  if (rc == HP_OK)
    rc = execute(&c, comm, rank, size, &err);
  if (rc != HP_OK && rank == 0) {
    report(&c, size, rc, &err);
    if (bad_usage)
      fputs(usage_text, stderr);
  }
  for (int k = 0; k < 9; k++) {
    free(c.lists[k]);
    free(c.items[k]);
  }
  if (mpi) {
    MPI_Comm_free(&comm);
    MPI_Finalize();
  }
  return hp_exit_code(rc);
}
