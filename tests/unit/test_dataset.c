/*
 * test_dataset.c - datasets by catalog definition: versioned save and load
 * paths, the newest-version rule, dispatch to CSV (sep, columns) and HDF5
 * (keys, the store), and errors named after the dataset. Definitions and
 * their entries are built by hand, so catalog.c and tree.c are not needed.
 */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "tmpdir.h"
#include "dataset.h"
#include "value.h"


static hp_value *small_table(int64_t first) {
  hp_value *t = hp_table_new();
  int64_t v[3] = {first, first + 1, first + 2};
  const char *s[3] = {"a", "b;c", "d"};
  CHECK_EQ(hp_table_add_column(t, "n", HP_INT64, v, 3), HP_OK);
  CHECK_EQ(hp_table_add_column(t, "s", HP_STRING, s, 3), HP_OK);
  return t;
}

static hp_dsdef def(const char *name, hp_ds_type type, const char *path,
                    int versioned) {
  hp_dsdef d = {0};
  d.name = (char *)(uintptr_t)name;
  d.type = type;
  d.filepath = path ? hp__xstrdup(path) : NULL;
  d.versioned = versioned;
  return d;
}

static int64_t first_n(const hp_value *t) {
  return ((const int64_t *)hp_table_column(t, 0))[0];
}

static void test_paths(void) {
  CASE("save and load paths");
  hp_dsdef d = def("model", HP_DS_HDF5, "data/06_models/model.h5", 1);
  char *p = hp__ds_save_path(&d, "2024-01-01T00.00.00.000Z");
  CHECK_STR_EQ(p, "data/06_models/model.h5/2024-01-01T00.00.00.000Z/model.h5");
  free(p);
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__ds_load_path(&d, "v1", &p, &err), &err);
  CHECK_STR_EQ(p, "data/06_models/model.h5/v1/model.h5");
  free(p);
  d.versioned = 0;
  p = hp__ds_save_path(&d, "v1");
  CHECK_STR_EQ(p, "data/06_models/model.h5");
  free(p);
  CHECK_OK(hp__ds_load_path(&d, NULL, &p, &err), &err);
  CHECK_STR_EQ(p, "data/06_models/model.h5");
  free(p);
  free(d.filepath);
}

static void test_versions(void) {
  CASE("versioned save and newest load");
  hp_error err = HP_ERROR_INIT;
  hp_dsdef d = def("features", HP_DS_HDF5, in_dir("data/features.h5"), 1);
  hp_value *t1 = small_table(1), *t2 = small_table(2);
  CHECK_OK(hp__ds_save(&d, "2024-01-01T00.00.00.000Z", t1, NULL, &err), &err);
  CHECK_OK(hp__ds_save(&d, "2024-03-01T00.00.00.000Z", t2, NULL, &err), &err);
  struct stat st;
  CHECK_EQ(stat(in_dir("data/features.h5/2024-03-01T00.00.00.000Z/"
                       "features.h5"),
                &st),
           0);
  /* a newer directory without the file is not a version */
  CHECK_EQ(mkdir(in_dir("data/features.h5/2024-12-01T00.00.00.000Z"), 0755), 0);
  hp_value *v = NULL;
  CHECK_OK(hp__ds_load(&d, NULL, &v, NULL, &err), &err);
  CHECK_EQ(first_n(v), 2);
  hp_value_free(v);
  CHECK_OK(hp__ds_load(&d, "2024-01-01T00.00.00.000Z", &v, NULL, &err), &err);
  CHECK_EQ(first_n(v), 1);
  hp_value_free(v);

  CASE("saving an existing version fails");
  CHECK_EQ(hp__ds_save(&d, "2024-03-01T00.00.00.000Z", t1, NULL, &err), HP_EIO);
  CHECK_CONTAINS(err.msg, "dataset 'features': save path '");
  CHECK_CONTAINS(err.msg, "2024-03-01T00.00.00.000Z/features.h5' must not "
                          "exist if versioning is enabled");
  hp__error_clear(&err);
  CHECK_EQ(hp__ds_save(&d, NULL, t1, NULL, &err), HP_EINVAL);
  CHECK_CONTAINS(err.msg, "dataset 'features': ");
  hp__error_clear(&err);

  CASE("missing versions");
  CHECK_EQ(hp__ds_load(&d, "1999", &v, NULL, &err), HP_EIO);
  CHECK(v == NULL);
  CHECK_CONTAINS(err.msg, "dataset 'features': ");
  CHECK_CONTAINS(err.msg, "1999/features.h5");
  hp__error_clear(&err);
  hp_dsdef e = def("nothing", HP_DS_CSV, in_dir("data/nothing.csv"), 1);
  CHECK_EQ(hp__ds_load(&e, NULL, &v, NULL, &err), HP_EIO);
  CHECK_CONTAINS(err.msg, "dataset 'nothing': no versions found under ");
  CHECK_CONTAINS(err.msg, "data/nothing.csv");
  hp__error_clear(&err);
  char *p = NULL;
  CHECK_EQ(hp__ds_load_path(&e, NULL, &p, &err), HP_EIO);
  CHECK(p == NULL);
  hp__error_clear(&err);
  free(e.filepath);
  free(d.filepath);
  hp_value_free(t1);
  hp_value_free(t2);
}

static void test_csv(void) {
  CASE("csv with sep and columns");
  hp_error err = HP_ERROR_INIT;
  char ksep[] = "sep", vsep[] = ";", kcols[] = "columns", kn[] = "n",
       tn[] = "float64";
  hp_tree sk = {.kind = HP_TREE_SCALAR, .text = ksep};
  hp_tree sv = {.kind = HP_TREE_SCALAR, .text = vsep};
  hp_tree ck = {.kind = HP_TREE_SCALAR, .text = kn};
  hp_tree cv = {.kind = HP_TREE_SCALAR, .text = tn};
  hp_tree *ckeys[] = {&ck}, *citems[] = {&cv};
  hp_tree cols = {.kind = HP_TREE_MAP, .n = 1, .keys = ckeys, .items = citems};
  hp_tree colk = {.kind = HP_TREE_SCALAR, .text = kcols};
  hp_tree *keys[] = {&sk, &colk}, *items[] = {&sv, &cols};
  hp_tree entry = {.kind = HP_TREE_MAP, .n = 2, .keys = keys, .items = items};
  hp_dsdef d = def("raw", HP_DS_CSV, in_dir("csv/raw.csv"), 0);
  d.entry = &entry;
  hp_value *t = small_table(5);
  CHECK_OK(hp__ds_save(&d, "v", t, NULL, &err), &err);
  FILE *f = fopen(in_dir("csv/raw.csv"), "r");
  char line[64];
  CHECK(fgets(line, sizeof line, f) != NULL);
  CHECK_STR_EQ(line, "n;s\n");
  CHECK(fgets(line, sizeof line, f) != NULL);
  CHECK(fgets(line, sizeof line, f) != NULL);
  CHECK_STR_EQ(line, "6;\"b;c\"\n");
  fclose(f);
  hp_value *v = NULL;
  CHECK_OK(hp__ds_load(&d, NULL, &v, NULL, &err), &err);
  CHECK_EQ(hp_table_coltype(v, 0), HP_FLOAT64); /* from columns: */
  CHECK_STR_EQ(hp_table_str(v, 1, 1), "b;c");
  hp_value_free(v);

  CASE("csv errors are named");
  vsep[0] = '\0';
  CHECK_EQ(hp__ds_load(&d, NULL, &v, NULL, &err), HP_ECONFIG);
  CHECK_CONTAINS(err.msg, "dataset 'raw': sep must be one character");
  hp__error_clear(&err);
  vsep[0] = ';';
  tn[0] = 'x';
  CHECK_EQ(hp__ds_load(&d, NULL, &v, NULL, &err), HP_EINVAL);
  CHECK_CONTAINS(err.msg, "dataset 'raw': ");
  CHECK_CONTAINS(err.msg, "raw.csv: column 'n': unknown type 'xloat64'");
  hp__error_clear(&err);
  hp_dsdef m = def("gone", HP_DS_CSV, in_dir("csv/gone.csv"), 0);
  CHECK_EQ(hp__ds_load(&m, NULL, &v, NULL, &err), HP_EIO);
  CHECK_CONTAINS(err.msg, "dataset 'gone': ");
  CHECK_CONTAINS(err.msg, "gone.csv");
  hp__error_clear(&err);
  free(m.filepath);
  free(d.filepath);
  hp_value_free(t);
}

static void test_hdf5(void) {
  CASE("hdf5 with a key, lineage");
  hp_error err = HP_ERROR_INIT;
  hp_dsdef d = def("scores", HP_DS_HDF5, in_dir("h5/scores.h5"), 0);
  char key[] = "/results/scores";
  d.key = key;
  hp_value *t = small_table(9);
  hp_lineage lin = {"score", "ml.kmeans", 77, "2024-01-01T00:00:00Z", "r1"};
  CHECK_OK(hp__ds_save(&d, NULL, t, &lin, &err), &err);
  uint64_t fp = 0;
  CHECK_EQ(hp__h5_fingerprint(d.filepath, key, &fp), HP_OK);
  CHECK(fp == 77);
  hp_value *v = NULL;
  CHECK_OK(hp__ds_load(&d, NULL, &v, NULL, &err), &err);
  CHECK(hp__value_equal(t, v));
  hp_value_free(v);

  CASE("a load's fingerprint is hp__ds_fingerprint's (--resume compares them)");
  uint64_t lfp = 1;
  CHECK_OK(hp__ds_load(&d, NULL, &v, &lfp, &err), &err); /* with lineage */
  hp_value_free(v);
  CHECK(lfp != 0 && lfp == hp__ds_fingerprint(&d, NULL));
  hp_dsdef bare = def("bare", HP_DS_HDF5, in_dir("h5/bare.h5"), 0);
  CHECK_OK(hp__ds_save(&bare, NULL, t, NULL, &err), &err); /* no lineage */
  bare.row0 = 1, bare.row1 = 2;                           /* a partition */
  CHECK_OK(hp__ds_load(&bare, NULL, &v, &lfp, &err), &err);
  hp_value_free(v);
  CHECK(lfp != 0 && lfp == hp__ds_fingerprint(&bare, NULL));
  hp_dsdef csv = def("c", HP_DS_CSV, in_dir("h5/c.csv"), 0);
  CHECK_OK(hp__ds_save(&csv, NULL, t, NULL, &err), &err);
  CHECK_OK(hp__ds_load(&csv, NULL, &v, &lfp, &err), &err);
  hp_value_free(v);
  CHECK(lfp != 0 && lfp == hp__ds_fingerprint(&csv, NULL));
  free(bare.filepath);
  free(csv.filepath);

  CASE("store datasets");
  hp_dsdef s = def("clean", HP_DS_STORE, in_dir("store/clean.h5"), 0);
  CHECK_OK(hp__ds_save(&s, "v", t, &lin, &err), &err);
  CHECK_EQ(hp__h5_fingerprint(s.filepath, NULL, &fp), HP_OK);
  CHECK_OK(hp__ds_load(&s, NULL, &v, NULL, &err), &err);
  CHECK(hp__value_equal(t, v));
  hp_value_free(v);

  CASE("hdf5 errors are named");
  hp_dsdef g = def("ghost", HP_DS_STORE, in_dir("store/ghost.h5"), 0);
  CHECK_EQ(hp__ds_load(&g, NULL, &v, NULL, &err), HP_EIO);
  CHECK_CONTAINS(err.msg, "dataset 'ghost': ");
  CHECK_CONTAINS(err.msg, "ghost.h5: No such file");
  hp__error_clear(&err);

  CASE("text datasets: one document, written atomically");
  hp_dsdef tx = def("report", HP_DS_TEXT, in_dir("rep/out.md"), 0);
  hp_value *doc = hp_table_new();
  const char *body[1] = {"# Title\n\nline, with \"quotes\"\n"};
  CHECK_EQ(hp_table_add_column(doc, "text", HP_STRING, body, 1), HP_OK);
  CHECK_OK(hp__ds_save(&tx, NULL, doc, NULL, &err), &err);
  hp_value *back = NULL;
  CHECK_OK(hp__ds_load(&tx, NULL, &back, NULL, &err), &err);
  CHECK(hp__value_equal(doc, back));
  hp_value_free(back);
  CHECK_EQ(hp__ds_save(&tx, NULL, t, NULL, &err), HP_EINVAL); /* 3 rows */
  CHECK_CONTAINS(err.msg, "dataset 'report': a text dataset saves a table "
                          "of one string column and one row");
  hp__error_clear(&err);
  hp_value_free(doc);
  free(tx.filepath);

  CASE("memory and parameters are refused");
  hp_dsdef mem = def("tmp", HP_DS_MEMORY, NULL, 0);
  CHECK_EQ(hp__ds_load(&mem, NULL, &v, NULL, &err), HP_EINVAL);
  CHECK_CONTAINS(err.msg, "dataset 'tmp'");
  hp__error_clear(&err);
  hp_dsdef par = def("params:x", HP_DS_PARAM, NULL, 0);
  CHECK_EQ(hp__ds_save(&par, NULL, t, NULL, &err), HP_EINVAL);
  hp__error_clear(&err);
  CHECK(hp__ds_save_path(&mem, "v") == NULL);

  free(g.filepath);
  free(s.filepath);
  free(d.filepath);
  hp_value_free(t);
}

int main(void) {
  tmpdir_make("/tmp/hp_ds_XXXXXX");
  hp__h5_init();
  test_paths();
  test_versions();
  test_csv();
  test_hdf5();
  tmpdir_remove();
  fprintf(stderr, "test_dataset: ok\n");
  return 0;
}
