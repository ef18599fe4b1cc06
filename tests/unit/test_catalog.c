/*
 * test_catalog.c - dataset definitions (src/catalog.c): each dataset type,
 * the store default, params: names, dataset factory patterns with Kedro's
 * precedence and parse-style matching, and every entry error with its
 * file:line:col. Catalogs are parsed from YAML text into a minimal conf;
 * one case goes through the real conf loader.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "mem.h"
#include "yaml.h"

#define FILE_NAME "conf/base/catalog.yml"

static hp_conf *mkconf(const char *yaml, const char *root) {
  hp_conf *c = hp__xcalloc(1, sizeof *c);
  c->confdir = hp__xstrdup("conf");
  c->root = hp__xstrdup(root);
  c->env = hp__xstrdup("local");
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__yaml_parse(yaml, strlen(yaml), FILE_NAME, &c->catalog, &err),
           &err);
  if (c->catalog->kind == HP_TREE_NULL)
    c->catalog->kind = HP_TREE_MAP;
  c->params = hp__tree_new(HP_TREE_MAP, "x", 0, 0);
  c->pipelines = hp__tree_new(HP_TREE_MAP, "x", 0, 0);
  c->settings = hp__tree_new(HP_TREE_MAP, "x", 0, 0);
  return c;
}

static hp_catalog *mkcat(hp_conf *conf, const char *store) {
  hp_error err = HP_ERROR_INIT;
  hp_catalog *cat = NULL;
  CHECK_OK(hp__catalog_new(conf, store, &cat, &err), &err);
  CHECK(cat != NULL);
  return cat;
}

static const hp_dsdef *resolve(hp_catalog *cat, const char *name) {
  hp_error err = HP_ERROR_INIT;
  const hp_dsdef *d = NULL;
  CHECK_OK(hp__catalog_resolve(cat, name, &d, &err), &err);
  CHECK(d != NULL);
  CHECK_STR_EQ(d->name, name);
  return d;
}

/* hp__catalog_new on this catalog fails with a message containing sub. */
static void new_err(const char *yaml, const char *sub) {
  hp_conf *conf = mkconf(yaml, ".");
  hp_error err = HP_ERROR_INIT;
  hp_catalog *cat = (hp_catalog *)1;
  int rc = hp__catalog_new(conf, "data/store", &cat, &err);
  if (rc == HP_OK)
    fprintf(stderr, "expected an error containing '%s'\n", sub);
  CHECK_EQ(rc, HP_ECONFIG);
  CHECK(cat == NULL);
  CHECK_CONTAINS(err.msg, sub);
  CHECK(strchr(err.msg, '\n') == NULL);
  hp__conf_free(conf);
}

static void test_types(void) {
  CASE("csv, hdf5, memory entries");
  hp_conf *conf = mkconf("raw:\n"
                         "  type: csv\n"
                         "  filepath: data/01_raw/raw.csv\n"
                         "  sep: ';'\n"
                         "  columns: {id: int64, x: float64, ok: bool, "
                         "name: string}\n"
                         "  partition_rows: 1000\n"
                         "  metadata: {kedro-viz: {layer: raw}}\n"
                         "  layer: raw\n"
                         "model:\n"
                         "  type: hdf5\n"
                         "  filepath: /abs/model.h5\n"
                         "  versioned: true\n"
                         "  key: /fit\n"
                         "  chunks: [100, 10]\n"
                         "arr: {type: hdf5, filepath: a.h5, chunks: 64}\n"
                         "mem: {type: memory}\n"
                         "_hidden: not a dataset\n",
                         "proj");
  hp_catalog *cat = mkcat(conf, "proj/data/store");
  const hp_dsdef *d = resolve(cat, "raw");
  CHECK_EQ(d->type, HP_DS_CSV);
  CHECK_STR_EQ(d->filepath, "proj/data/01_raw/raw.csv");
  CHECK_EQ(d->versioned, 0);
  CHECK(d->key == NULL);
  CHECK_STR_EQ(hp_tree_str(d->entry, "sep", NULL), ";");
  CHECK(d->entry != hp__tree_find(conf->catalog, "raw"));
  CHECK_EQ(d->where->line, 1);
  CHECK_STR_EQ(d->where->file, FILE_NAME);
  CHECK(resolve(cat, "raw") == d); /* cached */

  d = resolve(cat, "model");
  CHECK_EQ(d->type, HP_DS_HDF5);
  CHECK_STR_EQ(d->filepath, "/abs/model.h5");
  CHECK_EQ(d->versioned, 1);
  CHECK_STR_EQ(d->key, "/fit");
  d = resolve(cat, "arr");
  CHECK_STR_EQ(d->key, "/");
  CHECK_STR_EQ(d->filepath, "proj/a.h5");
  d = resolve(cat, "mem");
  CHECK_EQ(d->type, HP_DS_MEMORY);
  CHECK(d->filepath == NULL);
  CHECK(d->entry != NULL);

  CASE("params: and parameters");
  d = resolve(cat, "params:model.lr");
  CHECK_EQ(d->type, HP_DS_PARAM);
  CHECK(d->filepath == NULL && d->entry == NULL && d->where == NULL);
  d = resolve(cat, "parameters");
  CHECK_EQ(d->type, HP_DS_PARAM);
  CHECK_EQ(hp__catalog_defines(cat, "params:x"), 0);

  CASE("store default");
  d = resolve(cat, "some.dotted.name");
  CHECK_EQ(d->type, HP_DS_STORE);
  CHECK_STR_EQ(d->filepath, "proj/data/store/some.dotted.name.h5");
  CHECK(d->where == NULL && d->entry == NULL);
  CHECK_EQ(d->versioned, 0);
  d = resolve(cat, "../../etc/x");
  CHECK_STR_EQ(d->filepath, "proj/data/store/.._.._etc_x.h5");
  d = resolve(cat, "_hidden");
  CHECK_EQ(d->type, HP_DS_STORE);
  CHECK_EQ(hp__catalog_defines(cat, "raw"), 1);
  CHECK_EQ(hp__catalog_defines(cat, "nope"), 0);
  CHECK_EQ(hp__catalog_defines(cat, "_hidden"), 0);
  hp_error err = HP_ERROR_INIT;
  CHECK_EQ(hp__catalog_resolve(cat, "", &d, &err), HP_ECONFIG);
  hp__catalog_free(cat);

  /* A store directory with a trailing slash. */
  cat = mkcat(conf, "/scratch/store/");
  CHECK_STR_EQ(resolve(cat, "x")->filepath, "/scratch/store/x.h5");
  hp__catalog_free(cat);
  hp__conf_free(conf);

  CASE("empty catalog");
  conf = mkconf("", ".");
  cat = mkcat(conf, "data/store");
  CHECK_STR_EQ(resolve(cat, "a")->filepath, "data/store/a.h5");
  hp__catalog_free(cat);
  hp__conf_free(conf);
}

static void test_patterns(void) {
  CASE("pattern precedence (Kedro's ordering)");
  hp_conf *conf = mkconf("\"{default}\": {type: memory}\n"
                         "\"{another}#csv\": {type: csv, filepath: "
                         "'data/{another}.csv'}\n"
                         "\"{namespace}_{dataset}\": {type: hdf5, filepath: "
                         "'data/{namespace}/{dataset}.h5'}\n"
                         "\"{country}_companies\": {type: csv, filepath: "
                         "'data/{country}.csv'}\n"
                         "\"{dataset}s\": {type: csv, filepath: "
                         "'data/plural/{dataset}.csv'}\n"
                         "boats: {type: csv, filepath: data/boats.csv}\n"
                         "\"{namespace}.labels\":\n"
                         "  type: csv\n"
                         "  filepath: data/07/{namespace}_labels.csv\n"
                         "  metadata: {viz: {layer: '{namespace}'}, "
                         "\"{namespace}\": kept}\n"
                         "  columns: {label: int64}\n"
                         "\"{b}_x\": {type: memory}\n"
                         "\"{a}_x\": {type: csv, filepath: '{a}.csv'}\n",
                         ".");
  hp_catalog *cat = mkcat(conf, "data/store");
  const hp_dsdef *d = resolve(cat, "france_companies");
  CHECK_EQ(d->type, HP_DS_CSV);
  CHECK_STR_EQ(d->filepath, "data/france.csv");
  CHECK_STR_EQ(d->where->text, "{country}_companies");
  d = resolve(cat, "a_b");
  CHECK_EQ(d->type, HP_DS_HDF5);
  CHECK_STR_EQ(d->filepath, "data/a/b.h5");
  /* Leftmost placeholders take as little as possible. */
  d = resolve(cat, "a_b_c");
  CHECK_STR_EQ(d->filepath, "data/a/b_c.h5");
  d = resolve(cat, "cars");
  CHECK_STR_EQ(d->filepath, "data/plural/car.csv");
  /* Same literal count: more placeholders win. */
  d = resolve(cat, "x_ys");
  CHECK_STR_EQ(d->filepath, "data/x/ys.h5");
  d = resolve(cat, "ab#csv");
  CHECK_STR_EQ(d->filepath, "data/ab.csv");
  /* Explicit entries beat patterns. */
  d = resolve(cat, "boats");
  CHECK_STR_EQ(d->filepath, "data/boats.csv");
  /* More literal characters beat more placeholders. */
  d = resolve(cat, "de_companies");
  CHECK_STR_EQ(d->filepath, "data/de.csv");
  /* A placeholder may span dots. */
  d = resolve(cat, "ns.inner.labels");
  CHECK_STR_EQ(d->filepath, "data/07/ns.inner_labels.csv");
  CHECK_STR_EQ(hp_tree_str(d->entry, "metadata.viz.layer", NULL),
               "ns.inner");
  CHECK_STR_EQ(hp_tree_key(hp_tree_get(d->entry, "metadata"), 1),
               "{namespace}"); /* keys are not substituted */
  CHECK_STR_EQ(hp_tree_str(d->entry, "columns.label", NULL), "int64");
  /* Same literals and placeholders: alphabetical. */
  d = resolve(cat, "q_x");
  CHECK_EQ(d->type, HP_DS_CSV);
  CHECK_STR_EQ(d->filepath, "q.csv");
  /* The catch-all comes last. */
  d = resolve(cat, "plain");
  CHECK_EQ(d->type, HP_DS_MEMORY);
  CHECK_STR_EQ(d->where->text, "{default}");
  CHECK_EQ(hp__catalog_defines(cat, "plain"), 1);
  CHECK_EQ(hp__catalog_defines(cat, "boats"), 1);
  CHECK_EQ(hp__catalog_defines(cat, "a_b"), 1);
  /* params: never go to patterns. */
  CHECK_EQ(resolve(cat, "params:x_ys")->type, HP_DS_PARAM);
  hp__catalog_free(cat);
  hp__conf_free(conf);

  CASE("Kedro's namespace example without a catch-all");
  conf = mkconf("\"{namespace}.labels\": {type: csv, filepath: "
                "'data/{namespace}_labels.csv'}\n"
                "\"{namespace}.{name}\": {type: hdf5, filepath: "
                "'data/{namespace}/{name}.h5'}\n",
                ".");
  cat = mkcat(conf, "data/store");
  CHECK_STR_EQ(resolve(cat, "active.labels")->filepath,
               "data/active_labels.csv");
  CHECK_STR_EQ(resolve(cat, "active.model")->filepath,
               "data/active/model.h5");
  CHECK_STR_EQ(resolve(cat, "a.b.model")->filepath, "data/a/b.model.h5");
  d = resolve(cat, "labels");
  CHECK_EQ(d->type, HP_DS_STORE);
  CHECK_EQ(hp__catalog_defines(cat, "labels"), 0);
  CHECK_EQ(hp__catalog_defines(cat, ".labels"), 0); /* one char minimum */
  CHECK_EQ(hp__catalog_defines(cat, "x.labels"), 1);
  hp__catalog_free(cat);
  hp__conf_free(conf);

  CASE("adjacent placeholders and a catch-all made of two");
  conf = mkconf("\"{a}{b}\": {type: csv, filepath: '{b}/{a}.csv'}\n", ".");
  cat = mkcat(conf, "s");
  CHECK_STR_EQ(resolve(cat, "xyz")->filepath, "yz/x.csv");
  CHECK_EQ(resolve(cat, "x")->type, HP_DS_STORE); /* needs 2 characters */
  hp__catalog_free(cat);
  hp__conf_free(conf);
}

static void test_errors(void) {
  CASE("entry errors");
  new_err("a: {type: memory}\nx: foo\n",
          FILE_NAME ":2:1: dataset 'x': catalog entry is not a valid "
                    "dataset configuration (expected a mapping, found a "
                    "scalar)");
  new_err("x: [1]\n", "found a list). Hint: if this entry is meant for YAML "
                      "anchors, start its name with an underscore");
  new_err("x:\n", FILE_NAME ":1:1: dataset 'x': catalog entry is not a "
                  "valid dataset configuration (expected a mapping, found "
                  "null)");
  new_err("\n\nx: {filepath: a.csv}\n",
          FILE_NAME ":3:1: dataset 'x': 'type' is missing");
  new_err("x: {type: foo}\n", FILE_NAME ":1:11: dataset 'x': unknown type "
                              "'foo' (known: csv, hdf5, memory, text)");
  new_err("x: {type: [csv]}\n", "dataset 'x': unknown type 'a list'");
  new_err("x:\n  type: csv\n  filepath: a.csv\n  bogus: 1\n",
          FILE_NAME ":4:3: dataset 'x': unknown key 'bogus' (allowed for "
                    "csv: type, filepath, versioned, sep, columns, metadata, "
                    "partition_rows, layer, blocksize)");
  new_err("x: {type: hdf5, filepath: a.h5, sep: ','}\n",
          FILE_NAME ":1:33: dataset 'x': key 'sep' is not allowed for type "
                    "hdf5 (allowed: type, filepath, versioned, key, "
                    "metadata, partition_rows, chunks, layer)");
  new_err("x: {type: memory, versioned: true}\n",
          FILE_NAME ":1:19: dataset 'x': 'versioned' needs a file (types "
                    "csv, hdf5, text)");
  new_err("x: {type: csv}\n", FILE_NAME ":1:1: dataset 'x': 'filepath' is "
                              "missing (required for type csv)");
  new_err("x: {type: hdf5, filepath: ''}\n",
          FILE_NAME ":1:27: dataset 'x': 'filepath' must be a non-empty "
                    "string");
  new_err("x: {type: hdf5, filepath: {a: 1}}\n",
          "'filepath' must be a non-empty string");
  new_err("x: {type: csv, filepath: a, versioned: yes}\n",
          FILE_NAME ":1:40: dataset 'x': 'versioned' must be true or false");
  new_err("x: {type: csv, filepath: a, sep: ',,'}\n",
          "dataset 'x': 'sep' must be a single character");
  new_err("x: {type: csv, filepath: a, columns: [a]}\n",
          "dataset 'x': 'columns' must be a mapping of column names to "
          "types, not a list");
  new_err("x: {type: csv, filepath: a, columns: {c: int32}}\n",
          FILE_NAME ":1:42: dataset 'x': column 'c': unknown type 'int32' "
                    "(known: int64, float64, bool, string, timestamp)");
  new_err("x: {type: csv, filepath: a, partition_rows: 0}\n",
          "dataset 'x': 'partition_rows' must be a positive integer");
  new_err("x: {type: hdf5, filepath: a, chunks: [10, -1]}\n",
          "dataset 'x': 'chunks' must be a positive integer or a list");
  new_err("x: {type: hdf5, filepath: a, key: ''}\n",
          "dataset 'x': 'key' must be a non-empty HDF5 object path");

  CASE("pattern errors");
  new_err("\"{a}\": {type: memory}\n\"{b}\": {type: memory}\n",
          FILE_NAME ":2:1: dataset pattern '{b}': a second catch-all "
                    "pattern besides '{a}' (at " FILE_NAME ":1:1); only one "
                    "catch-all pattern is allowed");
  new_err("\"{ns}.x\":\n  type: csv\n  filepath: data/{name}.csv\n",
          FILE_NAME ":3:13: dataset pattern '{ns}.x': placeholder '{name}' "
                    "in the entry is not in the pattern name");
  new_err("\"{ns}.x\": {type: memory, metadata: [\"{other}\"]}\n",
          "placeholder '{other}' in the entry is not in the pattern name");
  new_err("\"{a.x\": {type: memory}\n",
          FILE_NAME ":1:1: dataset pattern '{a.x': a placeholder must be a "
                    "name in braces, like '{name}'");
  new_err("\"{}.x\": {type: memory}\n", "a placeholder must be a name");
  new_err("\"{a}}.x\": {type: memory}\n",
          "dataset pattern '{a}}.x': unbalanced '}'");
  new_err("\"{a}_{a}\": {type: memory}\n",
          "dataset pattern '{a}_{a}': placeholder '{a}' is used twice");
  new_err("\"{a}_x\": {filepath: '{a}'}\n",
          FILE_NAME ":1:1: dataset pattern '{a}_x': 'type' is missing");
}

/* The real loader: '_' anchors in catalog files, an env override. */
static void test_through_conf(void) {
  CASE("catalog from conf/ on disk");
  char tmp[] = "/tmp/hp_test_catalog_XXXXXX";
  CHECK(mkdtemp(tmp) != NULL);
  char *dirs[] = {hp__xasprintf("%s/conf", tmp),
                  hp__xasprintf("%s/conf/base", tmp),
                  hp__xasprintf("%s/conf/local", tmp)};
  for (int i = 0; i < 3; i++)
    CHECK_EQ(mkdir(dirs[i], 0755), 0);
  char *f1 = hp__xasprintf("%s/catalog.yml", dirs[1]);
  char *f2 = hp__xasprintf("%s/catalog.yml", dirs[2]);
  FILE *f = fopen(f1, "w");
  CHECK(f);
  fputs("_csv: &csv {type: csv, sep: ';'}\n"
        "raw: {<<: *csv, filepath: data/raw.csv}\n"
        "\"{ns}.out\": {<<: *csv, filepath: 'data/{ns}.csv'}\n",
        f);
  CHECK_EQ(fclose(f), 0);
  f = fopen(f2, "w");
  CHECK(f);
  fputs("raw: {type: memory}\n", f);
  CHECK_EQ(fclose(f), 0);
  hp_error err = HP_ERROR_INIT;
  hp_buf b = {0};
  CHECK_OK(hp__conf_bundle_read(dirs[0], NULL, &b, &err), &err);
  hp_conf *conf = NULL;
  CHECK_OK(hp__conf_load(b.data, b.len, dirs[0], NULL, &conf, &err), &err);
  hp_catalog *cat = mkcat(conf, "data/store");
  CHECK_EQ(resolve(cat, "raw")->type, HP_DS_MEMORY);
  const hp_dsdef *d = resolve(cat, "a.out");
  CHECK_EQ(d->type, HP_DS_CSV);
  char *want = hp__xasprintf("%s/data/a.csv", tmp);
  CHECK_STR_EQ(d->filepath, want);
  CHECK_STR_EQ(hp_tree_str(d->entry, "sep", NULL), ";");
  CHECK_CONTAINS(d->where->file, "conf/base/catalog.yml");
  hp__catalog_free(cat);
  hp__conf_free(conf);
  hp__buf_free(&b);
  CHECK_EQ(unlink(f1), 0);
  CHECK_EQ(unlink(f2), 0);
  for (int i = 2; i >= 0; i--) {
    CHECK_EQ(rmdir(dirs[i]), 0);
    free(dirs[i]);
  }
  CHECK_EQ(rmdir(tmp), 0);
  free(want);
  free(f1);
  free(f2);
}

int main(void) {
  test_types();
  test_patterns();
  test_errors();
  test_through_conf();
  fprintf(stderr, "test_catalog: all passed\n");
  return 0;
}
