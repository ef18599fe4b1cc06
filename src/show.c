/*
 * show.c - `hpcpipe show PATH|DATASET`: what an output holds, without
 * Python: its kind, schema and size, its lineage (which node and function
 * made it, fingerprint, run, time), and its first rows. A DATASET name is
 * resolved through the catalog of CONF (default conf/).
 */
#define _POSIX_C_SOURCE 200809L
#include "show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "conf.h"
#include "csv.h"
#include "dataset.h"
#include "mem.h"
#include "store.h"
#include "value.h"

/* The file and key to show: arg itself when it is a file, else the
 * catalog entry named arg (a csv file, an hdf5 file and key, the store). */
static int resolve(const hp_show_opts *o, char **path, const char **key,
                   int *csv, const hp_dsdef **def, hp_catalog **cat,
                   hp_conf **conf, hp_error *err) {
  struct stat st;
  *key = o->key;
  *csv = 0;
  *def = NULL;
  if (stat(o->what, &st) == 0 && S_ISREG(st.st_mode)) {
    *path = hp__xstrdup(o->what);
    size_t n = strlen(o->what);
    *csv = n > 4 && strcmp(o->what + n - 4, ".csv") == 0;
    return HP_OK;
  }
  size_t len = strlen(o->what);
  if (strchr(o->what, '/') || (len > 3 && !strcmp(o->what + len - 3, ".h5")) ||
      (len > 4 && !strcmp(o->what + len - 4, ".csv")))
    return hp__fail(err, HP_EIO, "%s: no such file", o->what);
  hp_buf b = {0};
  int rc = hp__conf_bundle_read(o->confdir, o->env, &b, err);
  if (rc == HP_OK)
    rc = hp__conf_load(b.data, b.len, o->confdir, NULL, conf, err);
  hp__buf_free(&b);
  if (rc != HP_OK)
    return rc;
  char *store_dir = hp__conf_store_dir(*conf);
  rc = hp__catalog_new(*conf, store_dir, cat, err);
  free(store_dir);
  const hp_dsdef *d = NULL;
  if (rc == HP_OK)
    rc = hp__catalog_resolve(*cat, o->what, &d, err);
  if (rc != HP_OK)
    return rc;
  if (d->type == HP_DS_MEMORY || d->type == HP_DS_PARAM || !d->filepath)
    return hp__fail(err, HP_EUSAGE,
                    "'%s' is neither a file nor a dataset with a file (%s)",
                    o->what, d->type == HP_DS_MEMORY ? "a memory dataset"
                                                     : "a parameter");
  rc = hp__ds_load_path(d, NULL, path, err);
  if (rc == HP_OK && stat(*path, &st) != 0)
    rc = d->type == HP_DS_STORE
             ? hp__fail(err, HP_EIO,
                        "'%s' is not a file, nor a dataset of %s's catalog, "
                        "nor in the store (%s does not exist)",
                        o->what, o->confdir, *path)
             : hp__fail(err, HP_EIO,
                        "dataset '%s': %s does not exist (not made yet?)",
                        o->what, *path);
  *csv = d->type == HP_DS_CSV;
  *def = d; /* a csv dataset reads with its own sep and columns */
  if (!*key)
    *key = d->key;
  return rc;
}

static void schema(const hp_value *v, FILE *out) {
  size_t w = 4;
  for (size_t c = 0; c < hp_table_ncols(v); c++)
    if (strlen(hp_table_colname(v, c)) > w)
      w = strlen(hp_table_colname(v, c));
  for (size_t c = 0; c < hp_table_ncols(v); c++) {
    fprintf(out, "  %-*s  %s", (int)w, hp_table_colname(v, c),
            hp_dtype_name(hp_table_coltype(v, c)));
    if (hp_table_dict_codes(v, c))
      fprintf(out, " (dictionary)");
    if (hp_table_valid(v, c))
      fprintf(out, " (nulls)");
    fputc('\n', out);
  }
}

/* An array's first rows: up to 8 values per row, %.6g. */
static void array_head(const hp_value *a, size_t rows, FILE *out) {
  const size_t *d = hp_array_dims(a);
  size_t n0 = hp_array_ndim(a) > 0 ? d[0] : 1;
  size_t row = n0 ? hp_array_size(a) / n0 : 0;
  for (size_t r = 0; r < rows && r < n0; r++) {
    fputs(" ", out);
    for (size_t k = 0; k < row && k < 8; k++) {
      size_t i = r * row + k;
      if (hp_array_dtype(a) == HP_FLOAT64)
        fprintf(out, " %.6g", ((const double *)hp_array_data(a))[i]);
      else if (hp_array_dtype(a) == HP_INT64)
        fprintf(out, " %lld",
                (long long)((const int64_t *)hp_array_data(a))[i]);
      else
        fprintf(out, " %d", (int)((const uint8_t *)hp_array_data(a))[i]);
    }
    fputs(row > 8 ? " ...\n" : "\n", out);
  }
}

static void group(const hp_value *g, int depth, FILE *out) {
  for (size_t i = 0; i < hp_group_count(g); i++) {
    const hp_value *c = hp_group_child(g, i);
    fprintf(out, "%*s%s: ", 2 * depth + 2, "", hp_group_name(g, i));
    switch (hp_value_kind(c)) {
    case HP_TABLE:
      fprintf(out, "table, %zu rows, %zu columns\n", hp_value_rows(c),
              hp_table_ncols(c));
      break;
    case HP_ARRAY: {
      fprintf(out, "array %s [", hp_dtype_name(hp_array_dtype(c)));
      for (int k = 0; k < hp_array_ndim(c); k++)
        fprintf(out, "%s%zu", k ? ", " : "", hp_array_dims(c)[k]);
      fputs("]\n", out);
      break;
    }
    case HP_GROUP:
      fputs("group\n", out);
      group(c, depth + 1, out);
      break;
    default:
      fputs("?\n", out);
    }
  }
}

int hp__show(const hp_show_opts *o, FILE *out, hp_error *err) {
  char *path = NULL;
  const char *key = NULL;
  int csv = 0;
  hp_catalog *cat = NULL;
  hp_conf *conf = NULL;
  hp_value *v = NULL;
  size_t rows = o->rows;
  const hp_dsdef *def = NULL;
  int rc = resolve(o, &path, &key, &csv, &def, &cat, &conf, err);
  int64_t nparts = 0, total = -1;
  if (rc == HP_OK && csv) {
    rc = def ? hp__ds_load(def, NULL, &v, NULL, err)
             : hp__csv_read(path, NULL, &v, err);
    total = v ? (int64_t)hp_value_rows(v) : 0;
  } else if (rc == HP_OK) {
    /* the first rows only: a table or array of any size shows at once */
    if (hp__h5_info(path, key ? key : "/", &nparts, &total, NULL) != HP_OK)
      total = -1;
    rc = total >= 0 ? hp__h5_load_columns(path, key ? key : "/", NULL, 0, 0,
                                          0, total < (int64_t)rows
                                                 ? total
                                                 : (int64_t)rows,
                                          &v, NULL, err)
                    : hp__h5_load(path, key, &v, err);
  }
  if (rc == HP_OK) {
    fprintf(out, "%s%s%s\n", path, key && strcmp(key, "/") ? " key " : "",
            key && strcmp(key, "/") ? key : "");
    hp_kind k = hp_value_kind(v);
    if (k == HP_TABLE) {
      fprintf(out, "table: %lld rows, %zu columns", (long long)total,
              hp_table_ncols(v));
      if (nparts > 0)
        fprintf(out, ", %lld partitions", (long long)nparts);
      fputs("\n", out);
      schema(v, out);
    } else if (k == HP_ARRAY) {
      fprintf(out, "array: %s [", hp_dtype_name(hp_array_dtype(v)));
      for (int i = 0; i < hp_array_ndim(v); i++)
        fprintf(out, "%s%lld", i ? ", " : "",
                (long long)(i == 0 && total >= 0 ? (size_t)total
                                                 : hp_array_dims(v)[i]));
      fputs("]", out);
      if (nparts > 0)
        fprintf(out, ", %lld partitions", (long long)nparts);
      fputs("\n", out);
    } else {
      fputs("group:\n", out);
      group(v, 0, out);
    }
    char **names = NULL, **vals = NULL;
    size_t n = 0;
    if (!csv && hp__h5_lineage(path, key, &names, &vals, &n) == HP_OK && n) {
      fputs("lineage:\n", out);
      for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], "columns") && strcmp(names[i], "dtype"))
          fprintf(out, "  %-12s %s\n", names[i], vals[i]);
    } else if (!csv) {
      fputs("lineage: none (not written by hpcpipe)\n", out);
    }
    for (size_t i = 0; i < n; i++)
      free(names[i]), free(vals[i]);
    free(names), free(vals);
    if (k == HP_TABLE && rows > 0) {
      fprintf(out, "first %zu rows:\n", rows < hp_value_rows(v)
                                             ? rows
                                             : hp_value_rows(v));
      hp__csv_put(out, v, rows, NULL);
    } else if (k == HP_ARRAY && rows > 0) {
      fputs("first rows:\n", out);
      array_head(v, rows, out);
    }
  }
  hp_value_free(v);
  free(path);
  hp__catalog_free(cat);
  hp__conf_free(conf);
  return rc;
}
