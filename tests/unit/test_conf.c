/*
 * test_conf.c - reading conf/ into a bundle and loading it (src/conf.c):
 * file discovery and order per environment, duplicate keys across files,
 * the run environment over base, --params typing and nesting, pipelines
 * files, corrupt bundles, and the project root used for relative paths.
 * Each case builds a project in a fresh temporary directory.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "mem.h"

static char g_tmp[256];
static char g_cwd[4096];

/* Writes text to path (relative to the current directory), creating the
 * parent directories. */
static void put(const char *path, const char *text) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        CHECK(!"mkdir failed");
      *p = '/';
    }
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  CHECK_EQ(fwrite(text, 1, strlen(text), f), strlen(text));
  CHECK_EQ(fclose(f), 0);
}

static void rm_rf(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
        char *sub = hp__xasprintf("%s/%s", path, e->d_name);
        rm_rf(sub);
        free(sub);
      }
    closedir(d);
    CHECK_EQ(rmdir(path), 0);
  } else {
    CHECK_EQ(unlink(path), 0);
  }
}

/* A fresh, empty project directory as the current directory. */
static void fresh(void) {
  if (g_tmp[0]) {
    CHECK_EQ(chdir(g_cwd), 0);
    rm_rf(g_tmp);
  }
  snprintf(g_tmp, sizeof g_tmp, "/tmp/hp_test_conf_XXXXXX");
  CHECK(mkdtemp(g_tmp) != NULL);
  CHECK_EQ(chdir(g_tmp), 0);
}

static hp_conf *load(const char *confdir, const char *env,
                     const char *params) {
  hp_error err = HP_ERROR_INIT;
  hp_buf b = {0};
  CHECK_OK(hp__conf_bundle_read(confdir, env, &b, &err), &err);
  hp_conf *c = NULL;
  CHECK_OK(hp__conf_load(b.data, b.len, confdir, params, &c, &err), &err);
  hp__buf_free(&b);
  CHECK(c != NULL);
  return c;
}

/* Expects reading or loading to fail with code and a message containing
 * sub. */
static void load_err(const char *confdir, const char *env, const char *params,
                     int code, const char *sub) {
  hp_error err = HP_ERROR_INIT;
  hp_buf b = {0};
  int rc = hp__conf_bundle_read(confdir, env, &b, &err);
  hp_conf *c = NULL;
  if (rc == HP_OK)
    rc = hp__conf_load(b.data, b.len, confdir, params, &c, &err);
  hp__buf_free(&b);
  if (rc == HP_OK)
    fprintf(stderr, "expected an error containing '%s'\n", sub);
  CHECK_EQ(rc, code);
  CHECK(c == NULL);
  CHECK_CONTAINS(err.msg, sub);
  CHECK(strchr(err.msg, '\n') == NULL);
}

static void test_missing(void) {
  CASE("missing conf dir, base, env");
  fresh();
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf: configuration directory not found");
  put("conf/local/catalog.yml", "a: {type: memory}\n");
  load_err("conf/", NULL, NULL, HP_ECONFIG,
           "conf/base: base configuration environment not found");
  put("conf/base/parameters.yml", "x: 1\n");
  load_err("conf", "prod", NULL, HP_ECONFIG,
           "conf/prod: configuration environment not found");
  load_err("conf", "../etc", NULL, HP_EUSAGE,
           "--env: invalid environment name '../etc'");
  load_err("conf", "", NULL, HP_EUSAGE, "--env: invalid environment name");

  CASE("missing local is fine; empty categories are empty maps");
  rm_rf("conf/local");
  hp_conf *c = load("conf", NULL, NULL);
  CHECK_STR_EQ(c->env, "local");
  CHECK_EQ(hp_tree_type(c->catalog), HP_TREE_MAP);
  CHECK_EQ(hp_tree_len(c->catalog), 0);
  CHECK_EQ(hp_tree_type(c->pipelines), HP_TREE_MAP);
  CHECK_EQ(hp_tree_type(c->settings), HP_TREE_MAP);
  CHECK_EQ(hp_tree_len(c->params), 1);
  CHECK_EQ(c->nfiles, 1);
  CHECK_STR_EQ(c->files[0], "conf/base/parameters.yml");
  hp__conf_free(c);

  CASE("--env base reads base only");
  c = load("conf", "base", NULL);
  CHECK_STR_EQ(c->env, "base");
  CHECK_EQ(c->nfiles, 1);
  hp__conf_free(c);
}

static void make_project(void) {
  fresh();
  put("conf/base/catalog.yml", "_csv: &csv {type: csv}\n"
                               "raw:\n"
                               "  <<: *csv\n"
                               "  filepath: data/01_raw/raw.csv\n"
                               "model:\n"
                               "  type: hdf5\n"
                               "  filepath: data/06_models/model.h5\n"
                               "  versioned: true\n");
  put("conf/base/catalog_extra.yml", "_csv: {type: csv}\nextra: {type: "
                                     "memory}\n");
  put("conf/base/catalog/ml.yml", "ml_a: {type: memory}\n");
  put("conf/base/catalog/sub/deep.yaml", "deep: {type: memory}\n");
  put("conf/base/catalog/.hidden.yml", "hidden: {type: memory}\n");
  put("conf/base/catalog/.hdir/x.yml", "hidden2: {type: memory}\n");
  put("conf/base/catalog/notes.txt", "not yaml: [\n");
  put("conf/base/.catalog_x.yml", "hidden3: {type: memory}\n");
  put("conf/base/parameters.yml", "model:\n"
                                  "  lr: 0.1\n"
                                  "  layers: [8, 4]\n"
                                  "  opt: {name: sgd, momentum: 0.9}\n"
                                  "seed: 42\n"
                                  "_private: 1\n");
  put("conf/base/parameters/data.yml", "model:\n"
                                       "  opt: {nesterov: true}\n"
                                       "data: {rows: 100}\n");
  put("conf/base/pipelines.yml", "_defaults: &d {func: core.noop}\n"
                                 "pipelines:\n"
                                 "  a:\n"
                                 "    - {node: n1, <<: *d, outputs: x}\n"
                                 "  __default__: [a]\n");
  put("conf/base/pipelines/extra.yml", "pipelines:\n  b: []\n");
  put("conf/base/hpcpipe.yml", "store: data/store\nplugins: [a.so]\n");
  put("conf/local/catalog.yml", "raw: {type: memory}\nlocal_only: {type: "
                                "memory}\n");
  put("conf/local/parameters.yml", "model:\n  lr: 0.5\n  opt: {name: "
                                   "adam}\nlocal: true\n");
  put("conf/local/pipelines.yml", "pipelines:\n  __default__: [a, b]\n");
  put("conf/local/hpcpipe.yml", "store: /scratch/store\n");
  put("conf/prod/parameters.yml", "seed: 7\n");
  put("conf/prod/catalog.yml", "model: {type: hdf5, filepath: "
                               "/prod/model.h5}\n");
}

static void test_merge(void) {
  CASE("files, order, env over base");
  make_project();
  hp_conf *c = load("conf", NULL, NULL);
  CHECK_STR_EQ(c->confdir, "conf");
  CHECK_STR_EQ(c->root, ".");
  CHECK_STR_EQ(c->env, "local");
  const char *want[] = {
      "conf/base/catalog.yml",         "conf/base/catalog_extra.yml",
      "conf/base/catalog/ml.yml",      "conf/base/catalog/sub/deep.yaml",
      "conf/base/parameters.yml",      "conf/base/parameters/data.yml",
      "conf/base/pipelines.yml",       "conf/base/pipelines/extra.yml",
      "conf/base/hpcpipe.yml",         "conf/local/catalog.yml",
      "conf/local/parameters.yml",     "conf/local/pipelines.yml",
      "conf/local/hpcpipe.yml"};
  CHECK_EQ(c->nfiles, sizeof want / sizeof *want);
  for (size_t i = 0; i < c->nfiles; i++)
    CHECK_STR_EQ(c->files[i], want[i]);

  /* catalog: '_' keys dropped, entries from all files, local replaces an
   * entry as a whole and adds new ones. */
  const hp_tree *cat = c->catalog;
  CHECK(hp__tree_find(cat, "_csv") == NULL);
  CHECK_EQ(hp_tree_len(cat), 6);
  CHECK_STR_EQ(hp_tree_key(cat, 0), "raw");
  CHECK_STR_EQ(hp_tree_str(cat, "raw.type", NULL), "memory");
  CHECK(hp_tree_get(cat, "raw.filepath") == NULL);
  CHECK_STR_EQ(hp_tree_str(cat, "model.type", NULL), "hdf5");
  CHECK(hp__tree_find(cat, "ml_a") && hp__tree_find(cat, "deep"));
  CHECK(hp__tree_find(cat, "extra") && hp__tree_find(cat, "local_only"));
  CHECK(!hp__tree_find(cat, "hidden") && !hp__tree_find(cat, "hidden2") &&
        !hp__tree_find(cat, "hidden3"));
  const hp_tree *raw = hp__tree_find(cat, "raw");
  CHECK_STR_EQ(raw->file, "conf/local/catalog.yml");
  CHECK_EQ(raw->line, 1);

  /* parameters: deep merge across files and environments */
  double d;
  int64_t i;
  int b;
  CHECK_EQ(hp_tree_f64(c->params, "model.lr", 0, &d), HP_OK);
  CHECK(d == 0.5);
  CHECK_STR_EQ(hp_tree_str(c->params, "model.opt.name", NULL), "adam");
  CHECK_EQ(hp_tree_f64(c->params, "model.opt.momentum", 0, &d), HP_OK);
  CHECK(d == 0.9);
  CHECK_EQ(hp_tree_bool(c->params, "model.opt.nesterov", 0, &b), HP_OK);
  CHECK_EQ(b, 1);
  CHECK_EQ(hp_tree_len(hp_tree_get(c->params, "model.layers")), 2);
  CHECK_EQ(hp_tree_i64(c->params, "seed", 0, &i), HP_OK);
  CHECK_EQ(i, 42);
  CHECK_EQ(hp_tree_i64(c->params, "data.rows", 0, &i), HP_OK);
  CHECK_EQ(i, 100);
  CHECK_EQ(hp_tree_bool(c->params, "local", 0, &b), HP_OK);
  CHECK_EQ(b, 1);
  CHECK(hp__tree_find(c->params, "_private") == NULL);

  /* pipelines: the inner map, per pipeline name replaced by local */
  CHECK_EQ(hp_tree_len(c->pipelines), 3);
  CHECK_STR_EQ(hp_tree_key(c->pipelines, 0), "a");
  CHECK_STR_EQ(hp_tree_str(c->pipelines, "a.0.func", NULL), "core.noop");
  CHECK_EQ(hp_tree_len(hp_tree_get(c->pipelines, "__default__")), 2);
  CHECK_EQ(hp_tree_type(hp_tree_get(c->pipelines, "b")), HP_TREE_SEQ);

  /* settings */
  CHECK_STR_EQ(hp_tree_str(c->settings, "store", NULL), "/scratch/store");
  CHECK_STR_EQ(hp_tree_str(c->settings, "plugins.0", NULL), "a.so");
  hp__conf_free(c);

  CASE("--env prod: base + prod, not local");
  c = load("conf/", "prod", NULL);
  CHECK_STR_EQ(c->env, "prod");
  CHECK_STR_EQ(c->confdir, "conf");
  CHECK_EQ(hp_tree_i64(c->params, "seed", 0, &i), HP_OK);
  CHECK_EQ(i, 7);
  CHECK_EQ(hp_tree_f64(c->params, "model.lr", 0, &d), HP_OK);
  CHECK(d == 0.1);
  CHECK(hp__tree_find(c->catalog, "local_only") == NULL);
  CHECK_STR_EQ(hp_tree_str(c->catalog, "raw.type", NULL), "csv");
  CHECK_STR_EQ(hp_tree_str(c->catalog, "model.filepath", NULL),
               "/prod/model.h5");
  CHECK(hp_tree_get(c->catalog, "model.versioned") == NULL);
  CHECK_STR_EQ(hp_tree_str(c->settings, "store", NULL), "data/store");
  hp__conf_free(c);
}

static void test_duplicates(void) {
  CASE("duplicate top-level key across catalog files");
  fresh();
  put("conf/base/catalog.yml", "a: {type: memory}\nb: {type: memory}\n");
  put("conf/base/catalog/x.yml", "c: {type: memory}\n\nb: {type: csv}\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/catalog/x.yml:3:1: duplicate key 'b' in "
           "conf/base/catalog.yml and conf/base/catalog/x.yml (first at "
           "conf/base/catalog.yml:2:1)");

  CASE("duplicates across environments are overrides, not errors");
  fresh();
  put("conf/base/catalog.yml", "a: {type: memory}\n");
  put("conf/local/catalog.yml", "a: {type: csv, filepath: a.csv}\n");
  hp_conf *c = load("conf", NULL, NULL);
  CHECK_STR_EQ(hp_tree_str(c->catalog, "a.type", NULL), "csv");
  hp__conf_free(c);

  CASE("parameters: nested duplicate leaf");
  fresh();
  put("conf/base/parameters.yml", "model:\n  opt:\n    lr: 1\n");
  put("conf/base/parameters_b.yml", "model:\n  opt:\n    lr: 2\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/parameters_b.yml:3:5: duplicate key 'model.opt.lr' in "
           "conf/base/parameters.yml and conf/base/parameters_b.yml");
  CASE("parameters: a map against a scalar");
  put("conf/base/parameters_b.yml", "model: 3\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/parameters_b.yml:1:1: duplicate key 'model'");

  CASE("'_' keys may repeat across files");
  fresh();
  put("conf/base/parameters.yml", "_a: &a 1\nx: *a\n");
  put("conf/base/parameters_2.yml", "_a: &a 2\ny: *a\n");
  c = load("conf", NULL, NULL);
  CHECK_STR_EQ(hp_tree_str(c->params, "y", NULL), "2");
  hp__conf_free(c);

  CASE("duplicate pipeline names, settings keys");
  fresh();
  put("conf/base/pipelines.yml", "pipelines:\n  p: []\n");
  put("conf/base/pipelines/more.yml", "pipelines:\n  q: []\n  p: []\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/pipelines/more.yml:3:3: duplicate key 'p'");
  fresh();
  put("conf/base/hpcpipe.yml", "store: a\n");
  put("conf/base/hpcpipe.yaml", "store: b\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/hpcpipe.yaml:1:1: duplicate key 'store' in "
           "conf/base/hpcpipe.yml and conf/base/hpcpipe.yaml");
}

static void test_file_errors(void) {
  CASE("YAML errors name the file");
  fresh();
  put("conf/base/catalog.yml", "a:\n  type: csv\n   filepath: x\n");
  load_err("conf", NULL, NULL, HP_ECONFIG, "conf/base/catalog.yml:3:");
  put("conf/base/catalog.yml", "a: 1\na: 2\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/catalog.yml:2:1: duplicate key 'a' (first at line 1, "
           "column 1)");

  CASE("top level must be a mapping");
  put("conf/base/catalog.yml", "- a\n- b\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/catalog.yml:1:1: expected a mapping at the top level, "
           "found a sequence");
  put("conf/base/catalog.yml", "# nothing yet\n");
  hp_conf *c = load("conf", NULL, NULL);
  CHECK_EQ(hp_tree_len(c->catalog), 0);
  hp__conf_free(c);

  CASE("pipelines files");
  put("conf/base/pipelines.yml", "pipelines: {}\nnodes: []\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/pipelines.yml:2:1: unexpected top-level key 'nodes'");
  put("conf/base/pipelines.yml", "pipelines: [a, b]\n");
  load_err("conf", NULL, NULL, HP_ECONFIG,
           "conf/base/pipelines.yml:1:12: 'pipelines' must be a mapping of "
           "pipeline names to node lists, found a sequence");
  put("conf/base/pipelines.yml", "pipelines:\n");
  c = load("conf", NULL, NULL);
  CHECK_EQ(hp_tree_len(c->pipelines), 0);
  hp__conf_free(c);

  CASE("unreadable file");
  if (geteuid() != 0) {
    put("conf/base/hpcpipe.yml", "a: 1\n");
    CHECK_EQ(chmod("conf/base/hpcpipe.yml", 0), 0);
    load_err("conf", NULL, NULL, HP_ECONFIG,
             "conf/base/hpcpipe.yml: cannot read: ");
  }
}

static void test_params(void) {
  CASE("--params typing, nesting, new keys");
  fresh();
  put("conf/base/parameters.yml", "model: {lr: 0.1, depth: 3}\nname: x\n");
  hp_conf *c = load("conf", NULL,
                    "i=1, f=1.5,s=hello,model.lr=0.01,model.opt.name=adam,"
                    "b=true,e=,q='7',l=[1],,new.deep.key=-3,x=a=b");
  int64_t i;
  double d;
  int b;
  CHECK_EQ(hp_tree_i64(c->params, "i", 0, &i), HP_OK);
  CHECK_EQ(i, 1);
  CHECK_EQ(hp_tree_i64(c->params, "f", 0, &i), HP_EINVAL);
  CHECK_EQ(hp_tree_f64(c->params, "f", 0, &d), HP_OK);
  CHECK(d == 1.5);
  CHECK_EQ(hp_tree_f64(c->params, "s", 0, &d), HP_EINVAL);
  CHECK_STR_EQ(hp_tree_str(c->params, "s", NULL), "hello");
  CHECK_EQ(hp_tree_f64(c->params, "model.lr", 0, &d), HP_OK);
  CHECK(d == 0.01);
  CHECK_EQ(hp_tree_i64(c->params, "model.depth", 0, &i), HP_OK);
  CHECK_EQ(i, 3);
  CHECK_STR_EQ(hp_tree_str(c->params, "model.opt.name", NULL), "adam");
  CHECK_EQ(hp_tree_bool(c->params, "b", 0, &b), HP_OK);
  CHECK_EQ(b, 1);
  CHECK(hp__tree_is_null(hp_tree_get(c->params, "e")));
  CHECK(hp_tree_get(c->params, "e") != NULL);
  CHECK_EQ(hp_tree_i64(c->params, "q", 0, &i), HP_EINVAL);
  CHECK_STR_EQ(hp_tree_str(c->params, "q", NULL), "7");
  CHECK_EQ(hp_tree_type(hp_tree_get(c->params, "l")), HP_TREE_SEQ);
  CHECK_EQ(hp_tree_i64(c->params, "new.deep.key", 0, &i), HP_OK);
  CHECK_EQ(i, -3);
  CHECK_STR_EQ(hp_tree_str(c->params, "x", NULL), "a=b");
  CHECK_STR_EQ(hp_tree_str(c->params, "name", NULL), "x");
  const hp_tree *k = c->params->keys[hp__tree_index(c->params, "i")];
  CHECK_STR_EQ(k->file, "--params");
  hp__conf_free(c);

  CASE("--params errors");
  load_err("conf", NULL, "a=1,x", HP_EUSAGE,
           "--params: item 'x' must be key=value");
  load_err("conf", NULL, "=1", HP_EUSAGE,
           "--params: item '=1' must be key=value");
  load_err("conf", NULL, " =1", HP_EUSAGE, "must be key=value");
  load_err("conf", NULL, "a..b=1", HP_EUSAGE,
           "--params: key 'a..b' has an empty part between dots");
  load_err("conf", NULL, "a.=1", HP_EUSAGE, "empty part");

  CASE("--params replaces a scalar by a map and the reverse");
  c = load("conf", NULL, "name.first=a,model=5");
  CHECK_STR_EQ(hp_tree_str(c->params, "name.first", NULL), "a");
  CHECK_EQ(hp_tree_i64(c->params, "model", 0, &i), HP_OK);
  CHECK_EQ(i, 5);
  hp__conf_free(c);
}

static void test_bundle(void) {
  CASE("corrupt bundles");
  make_project();
  hp_error err = HP_ERROR_INIT;
  hp_buf b = {0};
  CHECK_OK(hp__conf_bundle_read("conf", NULL, &b, &err), &err);
  hp_conf *c = NULL;
  /* Every truncation is rejected. */
  for (size_t n = 0; n < b.len; n++) {
    hp__error_clear(&err);
    char *copy = hp__xmalloc(n ? n : 1);
    memcpy(copy, b.data, n);
    CHECK_EQ(hp__conf_load(copy, n, "conf", NULL, &c, &err), HP_ECONFIG);
    CHECK(c == NULL);
    CHECK_CONTAINS(err.msg, "configuration bundle is corrupt");
    free(copy);
  }
  hp__error_clear(&err);
  CHECK_EQ(hp__conf_load(NULL, 0, "conf", NULL, &c, &err), HP_ECONFIG);
  /* Flipped bytes anywhere are rejected. */
  char *copy = hp__xmalloc(b.len);
  for (size_t pos = 0; pos < b.len; pos += 7) {
    memcpy(copy, b.data, b.len);
    copy[pos] ^= 0x20;
    hp__error_clear(&err);
    CHECK_EQ(hp__conf_load(copy, b.len, "conf", NULL, &c, &err), HP_ECONFIG);
    CHECK_CONTAINS(err.msg, "configuration bundle is corrupt");
  }
  free(copy);
  /* Extra bytes after a valid bundle. */
  hp__buf_puts(&b, "x");
  hp__error_clear(&err);
  CHECK_EQ(hp__conf_load(b.data, b.len, "conf", NULL, &c, &err), HP_ECONFIG);
  CHECK_CONTAINS(err.msg, "configuration bundle is corrupt");
  hp__buf_free(&b);

  CASE("bundle is position-independent bytes");
  CHECK_OK(hp__conf_bundle_read("conf", NULL, &b, &err), &err);
  size_t len = b.len;
  char *moved = hp__xmalloc(len);
  memcpy(moved, b.data, len);
  hp__buf_free(&b);
  CHECK_OK(hp__conf_load(moved, len, "conf", NULL, &c, &err), &err);
  free(moved);
  CHECK_EQ(hp_tree_len(c->catalog), 6);
  hp__conf_free(c);
}

static void test_paths(void) {
  CASE("project root and hp__conf_path");
  struct {
    const char *confdir, *root, *joined;
  } cases[] = {
      {"conf", ".", "data/x.csv"},
      {"conf/", ".", "data/x.csv"},
      {"conf//", ".", "data/x.csv"},
      {"proj/conf", "proj", "proj/data/x.csv"},
      {"/a/b/conf", "/a/b", "/a/b/data/x.csv"},
      {"/conf", "/", "/data/x.csv"},
      {"./conf", ".", "data/x.csv"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    hp_error err = HP_ERROR_INIT;
    hp_buf b = {0};
    fresh();
    put("conf/base/parameters.yml", "a: 1\n");
    CHECK_OK(hp__conf_bundle_read("conf", NULL, &b, &err), &err);
    hp_conf *c = NULL;
    CHECK_OK(hp__conf_load(b.data, b.len, cases[k].confdir, NULL, &c, &err),
             &err);
    CHECK_STR_EQ(c->root, cases[k].root);
    char *p = hp__conf_path(c, "data/x.csv");
    CHECK_STR_EQ(p, cases[k].joined);
    free(p);
    p = hp__conf_path(c, "/abs/y.csv");
    CHECK_STR_EQ(p, "/abs/y.csv");
    free(p);
    hp__conf_free(c);
    hp__buf_free(&b);
  }

  CASE("a conf dir given with a path prefix");
  fresh();
  put("proj/conf/base/catalog.yml", "a: {type: memory}\n");
  put("proj/conf/base/parameters.yml", "a: [\n");
  load_err("proj/conf/", NULL, NULL, HP_ECONFIG,
           "proj/conf/base/parameters.yml:2:1:");
}

int main(void) {
  CHECK(getcwd(g_cwd, sizeof g_cwd) != NULL);
  test_missing();
  test_merge();
  test_duplicates();
  test_file_errors();
  test_params();
  test_bundle();
  test_paths();
  CHECK_EQ(chdir(g_cwd), 0);
  rm_rf(g_tmp);
  fprintf(stderr, "test_conf: all passed\n");
  return 0;
}
