/*
 * scaffold.c - `hpcpipe new NAME` and `hpcpipe pipeline create NAME`:
 * projects and pipelines that build and run as created. Templates are the
 * text below with {{name}} (the project or pipeline name), {{prefix}}
 * (where find_package finds this hpcpipe: its install prefix or build
 * tree) and {{bindir}} (the directory of this hpcpipe) substituted.
 */
#define _POSIX_C_SOURCE 200809L
#include "scaffold.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "mem.h"

/* ---- templates ---- */

static const char readme_tpl[] =
    "# {{name}}\n"
    "\n"
    "An hpcpipe project (made by `hpcpipe new {{name}}`).\n"
    "\n"
    "```\n"
    "cmake -S jobs -B build/jobs -DCMAKE_PREFIX_PATH={{prefix}}\n"
    "cmake --build build/jobs          # the node plugin: build/jobs/lib{{name}}.so\n"
    "hpcpipe run conf                   # in-process\n"
    "mpirun -n 4 hpcpipe run conf       # rank 0 schedules, 3 workers\n"
    "sbatch slurm/run.sbatch            # on a SLURM cluster\n"
    "hpcpipe show summary               # what the run made\n"
    "```\n"
    "\n"
    "- `conf/base/`: settings (`hpcpipe.yml`), the catalog, parameters and\n"
    "  pipelines; `conf/local/`: your machine's overrides (not committed).\n"
    "- `jobs/`: the node functions, a plugin built against the installed\n"
    "  hpcpipe (`jobs/CMakeLists.txt`).\n"
    "- `data/`: inputs and outputs by layer; `data/store/` the run store\n"
    "  (journal, reports, intermediates).\n"
    "- `slurm/run.sbatch`: a batch job that resumes itself when requeued.\n"
    "\n"
    "`hpcpipe pipeline create NAME` adds a pipeline: a stanza in\n"
    "`conf/base/pipelines.yml`, its parameters, a plugin `jobs/NAME.c` and a\n"
    "test `tests/test_NAME.sh`.\n";

static const char settings_tpl[] =
    "# Settings: where the store lives, which plugins to load (found in\n"
    "# build/jobs after `cmake --build build/jobs`).\n"
    "store: data/store\n"
    "plugins:\n"
    "  - {{name}}\n";

static const char catalog_tpl[] =
    "# Datasets by name. Anything not listed is kept in the store (HDF5).\n"
    "scaled:\n"
    "  type: hdf5\n"
    "  filepath: data/02_intermediate/scaled.h5\n"
    "summary:\n"
    "  type: csv\n"
    "  filepath: data/08_reporting/summary.csv\n";

static const char params_tpl[] = "scaling:\n  factor: 2.0\n";

static const char pipelines_tpl[] =
    "pipelines:\n"
    "  example:\n"
    "    - node: make_data\n"
    "      func: datasets.timeseries      # Dask's demo data, deterministic\n"
    "      outputs: raw\n"
    "      args: {start: \"2000-01-01\", end: \"2000-01-04\", freq: \"1min\", "
    "seed: 1}\n"
    "    - node: scale\n"
    "      func: {{name}}.scale           # jobs/{{name}}.c\n"
    "      inputs: [raw, params:scaling]\n"
    "      outputs: scaled\n"
    "      partitioned: true              # once per partition (day)\n"
    "    - node: summarize\n"
    "      func: frame.groupby\n"
    "      inputs: scaled\n"
    "      outputs: summary\n"
    "      args: {by: name, agg: {x: [mean, max], id: count}}\n"
    "\n"
    "  __default__: [example]\n";

static const char local_tpl[] =
    "# conf/local: this machine's overrides, merged over conf/base (not\n"
    "# committed). For example:\n"
    "# scaling:\n"
    "#   factor: 3.0\n";

static const char gitignore_tpl[] =
    "build/\n"
    "data/**\n"
    "!data/**/\n"
    "!data/**/.gitkeep\n"
    "conf/local/**\n"
    "!conf/local/README.md\n";

static const char cmake_tpl[] =
    "# The project's node plugins, built against an installed hpcpipe:\n"
    "#   cmake -S jobs -B build/jobs -DCMAKE_PREFIX_PATH={{prefix}}\n"
    "#   cmake --build build/jobs\n"
    "cmake_minimum_required(VERSION 3.20)\n"
    "project({{name}}_jobs LANGUAGES C)\n"
    "find_package(hpcpipe 0.1 CONFIG REQUIRED)\n"
    "set(CMAKE_C_STANDARD 11)\n"
    "\n"
    "add_library({{name}} MODULE {{name}}.c)\n"
    "target_link_libraries({{name}} PRIVATE hpcpipe::hpcpipe)\n"
    "target_compile_options({{name}} PRIVATE -Wall -Wextra)\n";

static const char cmake_add_tpl[] =
    "\n"
    "add_library({{name}} MODULE {{name}}.c)\n"
    "target_link_libraries({{name}} PRIVATE hpcpipe::hpcpipe)\n"
    "target_compile_options({{name}} PRIVATE -Wall -Wextra)\n";

static const char node_tpl[] =
    "/*\n"
    " * {{name}}.c - node functions of the {{name}} plugin (docs/node-api.md).\n"
    " * {{name}}.scale: a copy of its table input with every float64 column\n"
    " * multiplied by the parameter `factor`.\n"
    " */\n"
    "#include <hpcpipe.h>\n"
    "\n"
    "static int scale(hp_node_ctx *ctx) {\n"
    "  const hp_value *in;\n"
    "  const hp_tree *p;\n"
    "  double k;\n"
    "  if (hp_node_input(ctx, 0, &in) != HP_OK ||\n"
    "      hp_value_kind(in) != HP_TABLE)\n"
    "    return hp_node_fail(ctx, \"input 0 must be a table\");\n"
    "  if (hp_node_param(ctx, 1, &p) != HP_OK ||\n"
    "      hp_tree_f64(p, \"factor\", 1.0, &k) != HP_OK)\n"
    "    return hp_node_fail(ctx, \"input 1 must be parameters with a "
    "number 'factor'\");\n"
    "  hp_value *out = hp_value_copy(in);\n"
    "  for (size_t c = 0; c < hp_table_ncols(out); c++) {\n"
    "    if (hp_table_coltype(out, c) != HP_FLOAT64)\n"
    "      continue;\n"
    "    double *x = hp_table_column_mut(out, c);\n"
    "    for (size_t r = 0; r < hp_value_rows(out); r++)\n"
    "      x[r] *= k;\n"
    "  }\n"
    "  return hp_node_output(ctx, 0, out);\n"
    "}\n"
    "\n"
    "static const hp_node_type nodes[] = {\n"
    "    {.abi = HP_NODE_ABI, .name = \"{{name}}.scale\", .run = scale,\n"
    "     .doc = \"float64 columns times params factor\", .mode = "
    "HP_MODE_MAP},\n"
    "};\n"
    "\n"
    "HP_EXTERN int hp_plugin_init(hp_registry *reg);\n"
    "\n"
    "HP_EXTERN int hp_plugin_init(hp_registry *reg) {\n"
    "  return hp_register_nodes(reg, nodes, sizeof nodes / sizeof "
    "nodes[0]);\n"
    "}\n";

static const char sbatch_tpl[] =
    "#!/bin/bash\n"
    "# {{name}} as a batch job: sbatch slurm/run.sbatch (from the project).\n"
    "# SLURM sends USR1 120 s before the time limit; hpcpipe stops cleanly\n"
    "# (exit 3) and the job requeues itself to continue with --resume.\n"
    "# `hpcpipe slurm render conf ...` writes scripts like this one.\n"
    "#SBATCH --job-name={{name}}\n"
    "#SBATCH --nodes=1\n"
    "#SBATCH --ntasks-per-node=4\n"
    "#SBATCH --time=01:00:00\n"
    "#SBATCH --signal=B:USR1@120\n"
    "#SBATCH --requeue\n"
    "#SBATCH --open-mode=append\n"
    "#SBATCH --output=slurm-%x-%j.out\n"
    "set -u\n"
    "export PATH={{bindir}}:$PATH\n"
    "resume=\n"
    "[ \"${SLURM_RESTART_COUNT:-0}\" = 0 ] || resume=--resume\n"
    "# the stop request goes through a file rank 0 looks for every second\n"
    "export HPCPIPE_STOP_FILE=$PWD/data/store/stop-$SLURM_JOB_ID\n"
    "mkdir -p data/store && rm -f \"$HPCPIPE_STOP_FILE\"\n"
    "stopping= intr=\n"
    "trap 'stopping=1 intr=1; : >\"$HPCPIPE_STOP_FILE\"' USR1\n"
    "srun --mpi=pmix --kill-on-bad-exit=1 hpcpipe run conf $resume &\n"
    "pid=$!\n"
    "while :; do\n"
    "  intr=\n"
    "  wait \"$pid\"; rc=$?\n"
    "  [ -n \"$intr\" ] && [ \"$rc\" -gt 128 ] || break\n"
    "done\n"
    "rm -f \"$HPCPIPE_STOP_FILE\"\n"
    "if [ \"$rc\" = 3 ] && [ -n \"$stopping\" ] &&\n"
    "   [ \"${SLURM_RESTART_COUNT:-0}\" -lt 10 ]; then\n"
    "  scontrol requeue \"$SLURM_JOB_ID\" && exit 0\n"
    "fi\n"
    "exit \"$rc\"\n";

static const char stanza_tpl[] =
    "\n"
    "  {{name}}:\n"
    "    - node: {{name}}_data\n"
    "      func: datasets.timeseries\n"
    "      outputs: {{name}}_raw\n"
    "      args: {start: \"2000-01-01\", end: \"2000-01-02\", freq: \"1h\", "
    "seed: 1}\n"
    "    - node: {{name}}_scale\n"
    "      func: {{name}}.scale           # jobs/{{name}}.c\n"
    "      inputs: [{{name}}_raw, params:{{name}}]\n"
    "      outputs: {{name}}_scaled\n";

static const char pparams_tpl[] = "{{name}}:\n  factor: 1.5\n";

static const char ptest_tpl[] =
    "#!/usr/bin/env bash\n"
    "# Runs the {{name}} pipeline and checks its output (from the project:\n"
    "# bash tests/test_{{name}}.sh).\n"
    "set -eu\n"
    "cd \"$(dirname \"$0\")/..\"\n"
    "hpcpipe run conf --pipelines {{name}}\n"
    "hpcpipe show {{name}}_scaled --rows 0 | grep -q '^table: 24 rows'\n"
    "echo \"ok: {{name}}\"\n";

/* ---- writing ---- */

/* The directory of this hpcpipe executable ("" if unknown). */
static char *exe_dir(void) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  return hp__xstrdup(slash ? exe : "");
}

/* Where find_package(hpcpipe) finds this hpcpipe: its build tree (the
 * executable's directory holds hpcpipeConfig.cmake) or the install prefix
 * (the parent of its bin/ directory). */
static char *install_prefix(void) {
  char *dir = exe_dir();
  char *cfg = hp__xasprintf("%s/hpcpipeConfig.cmake", dir);
  int tree = dir[0] && access(cfg, F_OK) == 0;
  free(cfg);
  if (tree) return dir;
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  if (!dir[0]) {
    free(dir);
    return hp__xstrdup("/usr/local");
  }
  return dir;
}

static char *fill(const char *tpl, const char *name, const char *prefix) {
  hp_buf b = {0};
  hp__buf_puts(&b, "");
  for (const char *p = tpl; *p;) {
    if (strncmp(p, "{{name}}", 8) == 0) {
      hp__buf_puts(&b, name);
      p += 8;
    } else if (strncmp(p, "{{prefix}}", 10) == 0) {
      hp__buf_puts(&b, prefix);
      p += 10;
    } else if (strncmp(p, "{{bindir}}", 10) == 0) {
      char *bin = exe_dir();
      hp__buf_puts(&b, bin);
      free(bin);
      p += 10;
    } else {
      hp__buf_put(&b, p++, 1);
    }
  }
  return b.data;
}

static int put_path(const char *path, const char *tpl, const char *name,
                    const char *prefix, hp_error *err) {
  char *text = fill(tpl, name, prefix);
  int rc = hp__fs_write_atomic(path, text, strlen(text), err);
  free(text);
  return rc;
}

static int put(const char *dir, const char *rel, const char *tpl,
               const char *name, const char *prefix, hp_error *err) {
  char *path = hp__xasprintf("%s/%s", dir, rel);
  int rc = put_path(path, tpl, name, prefix, err);
  free(path);
  return rc;
}

static int append(const char *path, const char *tpl, const char *name,
                  hp_error *err) {
  FILE *f = fopen(path, "a");
  if (!f)
    return hp__fail(err, HP_EIO, "%s: cannot open: %s", path,
                    strerror(errno));
  char *text = fill(tpl, name, "");
  int bad = fputs(text, f) < 0;
  bad |= fclose(f) != 0;
  free(text);
  return bad ? hp__fail(err, HP_EIO, "%s: cannot write", path) : HP_OK;
}

/* Project and pipeline names become C identifiers, file and library
 * names: lower-case letters, digits and underscores, a letter first. */
static int check_name(const char *what, const char *name, hp_error *err) {
  size_t n = strlen(name);
  if (n == 0 || n > 64 || !(name[0] >= 'a' && name[0] <= 'z') ||
      strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
    return hp__fail(err, HP_EUSAGE,
                    "%s name '%s': use lower-case letters, digits and "
                    "underscores, starting with a letter",
                    what, name);
  return HP_OK;
}

int hp__scaffold_project(const char *name, hp_error *err) {
  const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
  HP_TRY(check_name("project", base, err));
  struct stat st;
  if (stat(name, &st) == 0)
    return hp__fail(err, HP_EUSAGE, "%s: already exists", name);
  char *prefix = install_prefix();
  static const char *dirs[] = {"data/01_raw", "data/02_intermediate",
                               "data/03_primary", "data/08_reporting"};
  int rc = HP_OK;
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == HP_OK; i++) {
    char *keep = hp__xasprintf("%s/.gitkeep", dirs[i]);
    rc = put(name, keep, "", base, prefix, err);
    free(keep);
  }
  struct {
    const char *rel, *tpl;
  } files[] = {{"README.md", readme_tpl},
               {".gitignore", gitignore_tpl},
               {"conf/base/hpcpipe.yml", settings_tpl},
               {"conf/base/catalog.yml", catalog_tpl},
               {"conf/base/parameters.yml", params_tpl},
               {"conf/base/pipelines.yml", pipelines_tpl},
               {"conf/local/README.md", local_tpl},
               {"jobs/CMakeLists.txt", cmake_tpl},
               {"slurm/run.sbatch", sbatch_tpl}};
  for (size_t i = 0; i < sizeof files / sizeof files[0] && rc == HP_OK; i++)
    rc = put(name, files[i].rel, files[i].tpl, base, prefix, err);
  if (rc == HP_OK) {
    char *rel = hp__xasprintf("jobs/%s.c", base);
    rc = put(name, rel, node_tpl, base, prefix, err);
    free(rel);
  }
  free(prefix);
  return rc;
}

/* The last top-level key of a YAML file (a line starting with a letter),
 * or an empty string; malloc'd. */
static char *last_key(const char *path) {
  char *text = NULL, *key = hp__xstrdup("");
  size_t len;
  hp_error ignore = HP_ERROR_INIT;
  if (hp__fs_read_all(path, 1, &text, &len, &ignore) != HP_OK)
    return key;
  for (char *line = text; line && *line;) {
    char *end = strchr(line, '\n');
    if (*line != ' ' && *line != '#' && *line != '\n' && *line != '-') {
      free(key);
      key = hp__xstrndup(line, strcspn(line, ":\n"));
    }
    line = end ? end + 1 : NULL;
  }
  free(text);
  return key;
}

int hp__scaffold_pipeline(const char *confdir, const char *name,
                          hp_error *err) {
  HP_TRY(check_name("pipeline", name, err));
  if (!confdir || !*confdir)
    return hp__fail(err, HP_EUSAGE, "--conf needs a value");
  char *root = hp__xstrdup(confdir);
  char *slash = strrchr(root, '/');
  while (slash && slash[1] == '\0') { /* "conf/" */
    *slash = '\0';
    slash = strrchr(root, '/');
  }
  if (slash) {
    *slash = '\0';
  } else {
    free(root);
    root = hp__xstrdup(".");
  }
  char *pipes = hp__xasprintf("%s/base/pipelines.yml", confdir);
  char *settings = hp__xasprintf("%s/base/hpcpipe.yml", confdir);
  char *params = hp__xasprintf("%s/base/parameters_%s.yml", confdir, name);
  char *src = hp__xasprintf("%s/jobs/%s.c", root, name);
  char *cmake = hp__xasprintf("%s/jobs/CMakeLists.txt", root);
  char *k1 = last_key(pipes), *k2 = last_key(settings);
  struct stat st;
  int rc = HP_OK;
  if (stat(pipes, &st) != 0)
    rc = hp__fail(err, HP_ECONFIG,
                  "%s: no such file: run this in a project made by `hpcpipe "
                  "new` (or give its conf directory with --conf)",
                  pipes);
  else if (strcmp(k1, "pipelines") != 0)
    rc = hp__fail(err, HP_ECONFIG,
                  "%s: 'pipelines:' must be its last top-level key to add "
                  "a pipeline (add it by hand)",
                  pipes);
  else if (strcmp(k2, "plugins") != 0)
    rc = hp__fail(err, HP_ECONFIG,
                  "%s: 'plugins:' must be its last top-level key, as a block "
                  "list, to add a plugin (add it by hand)",
                  settings);
  else if (stat(src, &st) == 0 || stat(params, &st) == 0)
    rc = hp__fail(err, HP_EUSAGE, "pipeline '%s' exists already (%s)", name,
                  stat(src, &st) == 0 ? src : params);
  else if (stat(cmake, &st) != 0)
    rc = hp__fail(err, HP_EUSAGE, "%s: not found (is %s a project made by "
                                  "hpcpipe new?)",
                  cmake, root);
  if (rc == HP_OK) { /* the name must not be a pipeline already */
    char *text = NULL;
    size_t len;
    char *line = hp__xasprintf("\n  %s:", name);
    if (hp__fs_read_all(pipes, 1, &text, &len, err) == HP_OK &&
        strstr(text, line))
      rc = hp__fail(err, HP_EUSAGE, "%s: pipeline '%s' exists already",
                    pipes, name);
    free(line);
    free(text);
  }
  char *prefix = install_prefix();
  if (rc == HP_OK)
    rc = put_path(src, node_tpl, name, prefix, err);
  if (rc == HP_OK)
    rc = put_path(params, pparams_tpl, name, prefix, err);
  if (rc == HP_OK) {
    char *rel = hp__xasprintf("tests/test_%s.sh", name);
    rc = put(root, rel, ptest_tpl, name, prefix, err);
    char *path = hp__xasprintf("%s/%s", root, rel);
    chmod(path, 0755);
    free(path);
    free(rel);
  }
  if (rc == HP_OK)
    rc = append(cmake, cmake_add_tpl, name, err);
  if (rc == HP_OK)
    rc = append(settings, "  - {{name}}\n", name, err);
  if (rc == HP_OK)
    rc = append(pipes, stanza_tpl, name, err);
  free(prefix);
  free(k1), free(k2);
  free(root), free(pipes), free(settings), free(params), free(src);
  free(cmake);
  return rc;
}
