/*
 * dataset.c - loads and saves one dataset from its catalog definition:
 * picks the path (plain, or <filepath>/<version>/<basename> for versioned
 * datasets, the newest version when loading), dispatches on the type to
 * csv.c or store.c, and prefixes every error with the dataset's name.
 * Memory datasets and parameters are the runner's business, not this file's.
 */
#define _POSIX_C_SOURCE 200809L

#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "map.h"
#include "fs.h"
#include "mem.h"
#include "tree.h"
#include "value.h"

/* The last path component of p (trailing slashes ignored); a new string. */
static char *base_name(const char *p) {
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    n--;
  size_t s = n;
  while (s > 0 && p[s - 1] != '/')
    s--;
  return hp__xstrndup(p + s, n - s);
}

static char *versioned_path(const char *fp, const char *version) {
  char *base = base_name(fp);
  size_t n = strlen(fp);
  while (n > 1 && fp[n - 1] == '/')
    n--;
  char *out = hp__xasprintf("%.*s/%s/%s", (int)n, fp, version, base);
  free(base);
  return out;
}

char *hp__ds_save_path(const hp_dsdef *d, const char *version) {
  if (!d || !d->filepath) return NULL;
  if (d->versioned && version) return versioned_path(d->filepath, version);
  return hp__xstrdup(d->filepath);
}

int hp__ds_load_path(const hp_dsdef *d, const char *version, char **out,
                     hp_error *err) {
  *out = NULL;
  if (!d || !d->filepath)
    return hp__fail(err, HP_EINVAL, "dataset '%s': no file path",
                    d && d->name ? d->name : "?");
  if (!d->versioned) {
    *out = hp__xstrdup(d->filepath);
    return HP_OK;
  }
  if (version) {
    *out = versioned_path(d->filepath, version);
    return HP_OK;
  }
  /* newest version directory that holds the file */
  char *best = NULL;
  DIR *dir = opendir(d->filepath);
  if (dir) {
    struct dirent *e;
    while ((e = readdir(dir))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      if (best && strcmp(e->d_name, best) <= 0) continue;
      char *p = versioned_path(d->filepath, e->d_name);
      struct stat st;
      if (stat(p, &st) == 0) {
        free(best);
        best = hp__xstrdup(e->d_name);
      }
      free(p);
    }
    closedir(dir);
  }
  if (!best)
    return hp__fail(err, HP_EIO, "dataset '%s': no versions found under %s",
                    d->name, d->filepath);
  *out = versioned_path(d->filepath, best);
  free(best);
  return HP_OK;
}

/* Value of key in a map entry, or NULL. */
static const hp_tree *entry_get(const hp_tree *map, const char *key) {
  if (!map || map->kind != HP_TREE_MAP) return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (map->keys[i] && map->keys[i]->text &&
        strcmp(map->keys[i]->text, key) == 0)
      return map->items[i];
  return NULL;
}

/* CSV options from the entry: `sep` (one character; "\t" spelled out is
 * a tab) and `columns`. */
static int csv_opts(const hp_dsdef *d, hp_csv_opts *o, hp_error *err) {
  o->sep = ',';
  o->cols = (const char *const *)d->cols;
  o->ncols = d->ncols;
  o->project = d->project;
  o->types = entry_get(d->entry, "columns");
  const hp_tree *sep = entry_get(d->entry, "sep");
  if (!sep || sep->kind == HP_TREE_NULL) return HP_OK;
  const char *s = sep->kind == HP_TREE_SCALAR ? sep->text : NULL;
  if (s && strcmp(s, "\\t") == 0) s = "\t";
  if (!s || strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
    return hp__fail(err, HP_ECONFIG,
                    "dataset '%s': sep must be one "
                    "character other than a quote or newline",
                    d->name);
  o->sep = s[0];
  return HP_OK;
}

static const char *key_of(const hp_dsdef *d) {
  return d->key && d->key[0] ? d->key : "/";
}

/* Adds "dataset 'x': " to an error recorded by the call, not before it. */
static int named(hp_error *err, int was, int rc, const hp_dsdef *d) {
  if (rc != HP_OK && err && was == HP_OK &&
      strncmp(err->msg, "dataset '", 9) != 0)
    hp__error_prefix(err, "dataset '%s': ", d->name);
  return rc;
}

/* Table *t (read from path) with its columns in the order of `like`'s
 * (read from like_path): the files of a csv directory may list them in
 * another order; another set of columns is an error. */
static int align_columns(hp_value **t, const hp_value *like, const char *path,
                         const char *like_path, hp_error *err) {
  size_t n = hp_table_ncols(like), ordered = hp_table_ncols(*t) == n;
  for (size_t c = 0; ordered && c < n; c++)
    ordered = !strcmp(hp_table_colname(*t, c), hp_table_colname(like, c));
  if (ordered) return HP_OK;
  int same = hp_table_ncols(*t) == n;
  for (size_t c = 0; same && c < n; c++)
    same = hp_table_find(*t, hp_table_colname(like, c)) >= 0;
  if (!same) {
    hp_buf a = {0}, b = {0};
    for (size_t c = 0; c < hp_table_ncols(*t); c++)
      hp__buf_printf(&a, "%s%s", c ? "," : "", hp_table_colname(*t, c));
    for (size_t c = 0; c < n; c++)
      hp__buf_printf(&b, "%s%s", c ? "," : "", hp_table_colname(like, c));
    hp__buf_put(&a, "", 1), hp__buf_put(&b, "", 1);
    int rc = hp__fail(err, HP_EIO,
                      "%s: its columns (%s) are not those of %s (%s): the "
                      "files of one dataset must have the same columns",
                      path, a.data, like_path, b.data);
    hp__buf_free(&a), hp__buf_free(&b);
    return rc;
  }
  hp_value *o = hp_table_new();
  for (size_t c = 0; c < n; c++)
    hp__table_move_column(
        o, *t, (size_t)hp_table_find(*t, hp_table_colname(like, c)), NULL);
  hp_value_free(*t);
  *t = o;
  return HP_OK;
}

/* A block of a csv file in which no record starts (a header or a field
 * longer than the block) has no rows to tell its columns' types: it takes
 * those of the file's first records (*out, empty, is replaced by an empty
 * table of their types; left as it is when there are none). */
#define TYPE_SAMPLE (256 << 10)
static void empty_block(const char *path, const hp_csv_opts *o,
                        hp_value **out) {
  hp_value *head = NULL;
  hp_error ignore = HP_ERROR_INIT;
  if (hp__csv_read_range(path, o, 0, TYPE_SAMPLE, &head, &ignore) == HP_OK &&
      hp_value_rows(head) > 0 && hp_table_ncols(head) == hp_table_ncols(*out)) {
    hp_value *empty = hp__table_slice(head, 0, 0);
    if (empty) {
      hp_value_free(*out);
      *out = empty;
    }
  }
  hp_value_free(head);
}

/* The columns of the csv file at path as o reads them (its header only). */
static int csv_header(const char *path, const hp_csv_opts *o, hp_value **out,
                      hp_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return hp__fail(err, HP_EIO, "%s: cannot open: %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t len = getline(&line, &cap, f);
  fclose(f);
  int rc = hp__csv_parse(path, line ? line : "", len > 0 ? (size_t)len : 0, o,
                         out, err);
  free(line);
  return rc;
}

/* A csv file, or every file of a directory or pattern, concatenated. */
static int csv_read_all(const char *path, const hp_csv_opts *o,
                        hp_value **out, hp_error *err) {
  char **files;
  size_t n;
  HP_TRY(hp__fs_list(path, ".csv", &files, &n, err));
  if (!files)
    return hp__csv_read(path, o, out, err);
  hp_value **parts = hp__xcalloc(n + 1, sizeof *parts);
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    rc = hp__csv_read(files[i], o, &parts[i], err);
    if (rc == HP_OK && i > 0)
      rc = align_columns(&parts[i], parts[0], files[i], files[0], err);
  }
  if (rc == HP_OK)
    rc = hp__value_concat((const hp_value *const *)parts, n, out, err);
  for (size_t i = 0; i < n; i++)
    hp_value_free(parts[i]);
  free(parts);
  hp__fs_list_free(files);
  return rc;
}

/* A text dataset's value: a table of one string column "text" and one
 * row holding the whole file. */
static int text_load(const char *path, hp_value **out, hp_error *err) {
  char *s;
  size_t n;
  HP_TRY(hp__fs_read_all(path, 1, &s, &n, err));
  if (strlen(s) != n) {
    free(s);
    return hp__fail(err, HP_EIO, "%s: a text file holds a NUL byte", path);
  }
  hp_value *t = hp_table_new();
  const char *one[1] = {s};
  int rc = hp_table_add_column(t, "text", HP_STRING, one, 1);
  free(s);
  if (rc != HP_OK) {
    hp_value_free(t);
    return hp__fail(err, rc, "%s: out of memory", path);
  }
  *out = t;
  return HP_OK;
}

/* Writes what a text dataset takes: a table of one string column and one
 * row (a node makes it with hp_table_add_column). */
static int text_save(const hp_dsdef *d, const char *path, const hp_value *v,
                     hp_error *err) {
  if (hp_value_kind(v) != HP_TABLE || hp_table_ncols(v) != 1 ||
      hp_table_coltype(v, 0) != HP_STRING || hp_value_rows(v) != 1)
    return hp__fail(err, HP_EINVAL,
                    "dataset '%s': a text dataset saves a table of one "
                    "string column and one row", d->name);
  const char *s = hp_table_str(v, 0, 0);
  return hp__fs_write_atomic(path, s, strlen(s), err);
}

static int is_file_type(hp_ds_type t) {
  return t == HP_DS_STORE || t == HP_DS_HDF5 || t == HP_DS_CSV ||
         t == HP_DS_TEXT;
}

/* hp__ds_fingerprint of d at path: the fingerprint the file carries when
 * hpcpipe wrote it (`lineage`: what made it, not when; 0 when it carries
 * none), else its size and time as make does; with d's row range. A whole
 * file's lineage is its fingerprint as it is: the one its producer's
 * output had, so a consumer's fingerprint is the same whether the
 * producer ran in this run or an earlier one. */
static uint64_t fingerprint_of(const hp_dsdef *d, const char *path,
                               uint64_t lineage) {
  uint64_t h = 0, st;
  if (lineage && d->row0 == 0 && d->row1 == 0)
    return lineage;
  if (lineage)
    h = hp__hash64(&lineage, sizeof lineage, HP_HASH_SEED);
  else if ((st = hp__ds_stamp_at(d, path)) != 0)
    h = hp__hash64(&st, sizeof st, HP_HASH_SEED ^ 1);
  if (!h)
    return 0;
  int64_t range[2] = {d->row0, d->row1};
  return hp__hash64(range, sizeof range, h);
}

int hp__ds_load(const hp_dsdef *d, const char *version, hp_value **out,
                uint64_t *fp, hp_error *err) {
  *out = NULL;
  if (fp) *fp = 0;
  int was = err ? err->code : HP_OK;
  if (!d) return hp__fail(err, HP_EINVAL, "hp__ds_load: no dataset");
  if (!is_file_type(d->type))
    return hp__fail(err, HP_EINVAL, "dataset '%s': not a file dataset",
                    d->name);
  char *path;
  int rc = hp__ds_load_path(d, version, &path, err);
  if (rc != HP_OK) return rc;
  uint64_t lineage = 0;
  if (d->type == HP_DS_TEXT) {
    rc = text_load(path, out, err);
  } else if (d->type == HP_DS_CSV) {
    hp_csv_opts o;
    rc = csv_opts(d, &o, err);
    if (rc == HP_OK && d->row1 > 0) {
      rc = hp__csv_read_range(path, &o, d->row0, d->row1, out, err);
      if (rc == HP_OK && hp_value_rows(*out) == 0) empty_block(path, &o, out);
    } else if (rc == HP_OK)
      rc = csv_read_all(path, &o, out, err);
    hp_value *like = NULL;
    if (rc == HP_OK && d->like &&
        (rc = csv_header(d->like, &o, &like, err)) == HP_OK)
      rc = align_columns(out, like, path, d->like, err);
    hp_value_free(like);
    if (rc != HP_OK) {
      hp_value_free(*out);
      *out = NULL;
    }
  } else if (!(d->raw && d->row1 == 0 &&
                hp__h5_load_raw(path, d->raw, (const char *const *)d->cols,
                                d->ncols, d->project, out, &lineage))) {
    /* row ranges come back ranged, for tables and arrays alike */
    rc = hp__h5_load_columns(path, key_of(d), (const char *const *)d->cols,
                             d->ncols, d->project, d->row0, d->row1, out,
                             fp ? &lineage : NULL, err);
  }
  if (rc == HP_OK && fp)
    *fp = fingerprint_of(d, path, lineage);
  free(path);
  return named(err, was, rc, d);
}

int hp__ds_save(const hp_dsdef *d, const char *version, const hp_value *v,
                const hp_lineage *lin, hp_error *err) {
  int was = err ? err->code : HP_OK;
  if (!d) return hp__fail(err, HP_EINVAL, "hp__ds_save: no dataset");
  if (!is_file_type(d->type))
    return hp__fail(err, HP_EINVAL, "dataset '%s': not a file dataset",
                    d->name);
  char *path = hp__ds_save_path(d, version);
  if (!path)
    return hp__fail(err, HP_EINVAL, "dataset '%s': no file path", d->name);
  int rc = HP_OK;
  struct stat st;
  if (d->versioned && !version) {
    rc = hp__fail(err, HP_EINVAL,
                  "dataset '%s': a versioned save needs a version", d->name);
  } else if (d->versioned && stat(path, &st) == 0) {
    rc = hp__fail(err, HP_EIO,
                  "dataset '%s': save path '%s' must not "
                  "exist if versioning is enabled",
                  d->name, path);
  } else if (d->type == HP_DS_TEXT) {
    rc = text_save(d, path, v, err);
  } else if (d->type == HP_DS_CSV) {
    hp_csv_opts o;
    rc = csv_opts(d, &o, err);
    if (rc == HP_OK) rc = hp__csv_write(path, v, &o, err);
  } else {
    rc = hp__h5_save(path, key_of(d), v, lin, err);
  }
  free(path);
  return named(err, was, rc, d);
}

/* Appends file `src` to out, without its first line when skip_header. */
static int append_file(FILE *out, const char *src, int skip_header,
                       hp_error *err) {
  FILE *in = fopen(src, "rb");
  if (!in)
    return hp__fail(err, HP_EIO, "%s: %s", src, strerror(errno));
  static char buf[1 << 16];
  int rc = HP_OK, at_start = skip_header;
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
    const char *p = buf;
    if (at_start) {
      const char *nl = memchr(buf, '\n', n);
      if (!nl)
        continue;
      at_start = 0;
      n -= (size_t)(nl + 1 - buf);
      p = nl + 1;
    }
    if (n && fwrite(p, 1, n, out) != n) {
      rc = hp__fail(err, HP_EIO, "writing: %s", strerror(errno));
      break;
    }
  }
  if (rc == HP_OK && ferror(in))
    rc = hp__fail(err, HP_EIO, "%s: %s", src, strerror(errno));
  fclose(in);
  return rc;
}

/* One csv file from its partitions, atomically (temporary name, fsync,
 * rename). */
static int csv_concat(const char *path, const hp_dsdef *const *parts,
                      size_t n, hp_error *err) {
  char *tmp;
  FILE *out = hp__fs_tmp_open(path, &tmp, err);
  if (!out) return err ? err->code : HP_EIO;
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++)
    rc = append_file(out, parts[i]->filepath, i > 0, err);
  return hp__fs_tmp_commit(out, tmp, path, rc, err);
}

/* A csv directory or pattern: the partitions are its files; files left by
 * an earlier run with more partitions are removed. */
static int csv_prune(const char *spec, const hp_dsdef *const *parts,
                     size_t n, hp_error *err) {
  char **files;
  size_t nf;
  HP_TRY(hp__fs_list(spec, ".csv", &files, &nf, err));
  for (size_t i = 0; files && files[i]; i++) {
    int mine = 0;
    for (size_t k = 0; k < n && !mine; k++)
      mine = strcmp(files[i], parts[k]->filepath) == 0;
    if (!mine)
      unlink(files[i]);
  }
  hp__fs_list_free(files);
  return HP_OK;
}

int hp__ds_stitch(const hp_dsdef *d, const char *version,
                  const hp_dsdef *const *parts, size_t n,
                  const hp_lineage *lin, hp_error *err) {
  int was = err ? err->code : HP_OK;
  char *path = hp__ds_save_path(d, version);
  if (!path)
    return hp__fail(err, HP_EINVAL, "dataset '%s': no file path", d->name);
  int rc;
  if (d->type == HP_DS_TEXT) {
    rc = hp__fail(err, HP_EINVAL, "dataset '%s': a text dataset holds one "
                  "document, not partitions", d->name);
  } else if (d->type == HP_DS_CSV) {
    size_t len = strlen(path);
    if ((len && path[len - 1] == '/') || strchr(path, '*'))
      rc = csv_prune(path, parts, n, err);
    else
      rc = csv_concat(path, parts, n, err);
  } else {
    const char **paths = hp__xcalloc(n + 1, sizeof *paths);
    for (size_t i = 0; i < n; i++)
      paths[i] = parts[i]->filepath;
    rc = hp__h5_stitch(path, key_of(d), paths, n, lin, err);
    free(paths);
  }
  free(path);
  return named(err, was, rc, d);
}

/* A csv directory's stamp covers its .csv files. */
uint64_t hp__ds_stamp_at(const hp_dsdef *d, const char *path) {
  return hp__fs_stamp(path, d->type == HP_DS_CSV ? ".csv" : "");
}

uint64_t hp__ds_stamp(const hp_dsdef *d) {
  if (!d || d->type == HP_DS_MEMORY || d->type == HP_DS_PARAM || !d->filepath)
    return 0;
  char *path = NULL;
  hp_error ignore = HP_ERROR_INIT;
  if (hp__ds_load_path(d, NULL, &path, &ignore) != HP_OK)
    return 0;
  uint64_t st = hp__ds_stamp_at(d, path);
  free(path);
  return st;
}

uint64_t hp__ds_fingerprint(const hp_dsdef *d, const char *version) {
  char *path = NULL;
  hp_error e = HP_ERROR_INIT;
  if (!d || hp__ds_load_path(d, version, &path, &e) != HP_OK)
    return 0;
  uint64_t lineage = 0;
  if (d->type == HP_DS_CSV || d->type == HP_DS_TEXT ||
      hp__h5_fingerprint(path, key_of(d), &lineage) != HP_OK)
    lineage = 0;
  uint64_t h = fingerprint_of(d, path, lineage);
  free(path);
  return h;
}
