/*
 * conf.c - a project's configuration. Rank 0 reads the YAML files of
 * conf/base and of the run environment into a self-contained byte bundle
 * (broadcast as is); every rank then parses the bundle and merges it into
 * the catalog, parameters, pipelines and settings trees, with Kedro's rules:
 * a key in two files of one environment is an error, the run environment
 * replaces base per top-level key (parameters: deep merge), and --params
 * values are typed YAML scalars deep-merged into the parameters.
 */
#define _POSIX_C_SOURCE 200809L

#include "conf.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "map.h"
#include "yaml.h"

/* Bundle layout (all integers little-endian):
 *   "HPCONF1\n" [u64 body length][u64 hp__hash64 of the body]
 *   body: records [u32 kind][u32 pathlen][path][u64 textlen][text]
 * The first record has kind 0 and holds the run environment's name as its
 * path. File records have kind = layer << 8 | category, layer 0 for base
 * and 1 for the run environment; path is the file name used in messages. */
#define MAGIC "HPCONF1\n"
#define MAGIC_LEN 8
#define HEAD_LEN 24

enum { CAT_ENV = 0, CAT_CATALOG, CAT_PARAMS, CAT_PIPELINES, CAT_SETTINGS,
       CAT_N };
static const char *const cat_names[CAT_N] = {"", "catalog", "parameters",
                                             "pipelines", "hpcpipe"};

/* Directories under catalog/ and parameters/ are followed this deep. */
#define MAX_WALK_DEPTH 16

typedef struct strlist {
  char **v;
  size_t n, cap;
} strlist;

static void sl_push(strlist *l, char *s) {
  if (l->n == l->cap)
    hp__grow(&l->v, &l->cap, l->n + 1, sizeof *l->v);
  l->v[l->n++] = s;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sl_sort(strlist *l, size_t from) {
  if (l->n > from + 1)
    qsort(l->v + from, l->n - from, sizeof *l->v, cmp_str);
}

static void sl_free(strlist *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* confdir without trailing slashes ("/" stays "/"). */
static char *norm_dir(const char *d) {
  size_t n = strlen(d);
  while (n > 1 && d[n - 1] == '/')
    n--;
  return hp__xstrndup(d, n);
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a);
  return hp__xasprintf("%s%s%s", a, n && a[n - 1] == '/' ? "" : "/", b);
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A configuration file's path: 1 a regular file (or a link to one), 0
 * nothing there, -1 something else (a dangling link, a directory, a FIFO:
 * an error, not a file to skip). */
static int yaml_file(const char *p, hp_error *err) {
  struct stat st;
  if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) return 1;
  if (lstat(p, &st) != 0) return 0;
  hp__fail(err, HP_ECONFIG, "%s: not a regular file (%s)", p,
           S_ISLNK(st.st_mode)   ? "a link to nothing"
           : S_ISDIR(st.st_mode) ? "a directory"
                                 : "a device, FIFO or socket");
  return -1;
}

static int has_yaml_ext(const char *name) {
  size_t n = strlen(name);
  return (n > 4 && !strcmp(name + n - 4, ".yml")) ||
         (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

/* Names in dir (hidden ones skipped), unsorted. */
static int list_dir(const char *dir, strlist *out, hp_error *err) {
  DIR *d = opendir(dir);
  if (!d)
    return hp__fail(err, HP_ECONFIG, "%s: cannot read directory: %s", dir,
                    strerror(errno));
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.')
      sl_push(out, hp__xstrdup(e->d_name));
  closedir(d);
  return HP_OK;
}

/* YAML files under dir/rel, recursively, as paths relative to dir. */
static int walk(const char *dir, const char *rel, int depth, strlist *out,
                hp_error *err) {
  char *path = join(dir, rel);
  if (depth > MAX_WALK_DEPTH) {
    int rc = hp__fail(err, HP_ECONFIG,
                      "%s: directories nested deeper than %d levels", path,
                      MAX_WALK_DEPTH);
    free(path);
    return rc;
  }
  strlist names = {0};
  int rc = list_dir(path, &names, err);
  for (size_t i = 0; rc == HP_OK && i < names.n; i++) {
    char *sub = join(rel, names.v[i]);
    char *full = join(dir, sub);
    int f = 0;
    if (is_dir(full))
      rc = walk(dir, sub, depth + 1, out, err);
    else if (has_yaml_ext(names.v[i]) && (f = yaml_file(full, err)) > 0) {
      sl_push(out, sub);
      sub = NULL;
    }
    if (f < 0) rc = HP_ECONFIG;
    free(full);
    free(sub);
  }
  sl_free(&names);
  free(path);
  return rc;
}

/* Files of one category in an environment directory, relative to it, in
 * reading order (conf.h). */
static int collect(const char *envdir, int cat, strlist *out,
                   hp_error *err) {
  const char *c = cat_names[cat];
  size_t clen = strlen(c);
  static const char *const exts[] = {".yml", ".yaml"};
  for (int i = 0; i < 2; i++) {
    char *name = hp__xasprintf("%s%s", c, exts[i]);
    char *full = join(envdir, name);
    int f = yaml_file(full, err);
    free(full);
    if (f > 0)
      sl_push(out, name);
    else
      free(name);
    if (f < 0) return HP_ECONFIG;
  }
  if (cat == CAT_SETTINGS)
    return HP_OK;
  if (cat != CAT_PIPELINES) {
    strlist names = {0};
    HP_TRY(list_dir(envdir, &names, err));
    size_t from = out->n;
    for (size_t i = 0; i < names.n; i++) {
      const char *nm = names.v[i];
      if (strncmp(nm, c, clen) || !has_yaml_ext(nm) ||
          !strcmp(nm + clen, ".yml") || !strcmp(nm + clen, ".yaml"))
        continue;
      char *full = join(envdir, nm);
      int f = yaml_file(full, err);
      free(full);
      if (f < 0) {
        sl_free(&names);
        return HP_ECONFIG;
      }
      if (f > 0) {
        sl_push(out, names.v[i]);
        names.v[i] = NULL;
      }
    }
    sl_free(&names);
    sl_sort(out, from);
  }
  char *sub = join(envdir, c);
  int rc = HP_OK;
  if (is_dir(sub)) {
    size_t from = out->n;
    if (cat == CAT_PIPELINES) {
      strlist names = {0};
      rc = list_dir(sub, &names, err);
      for (size_t i = 0; rc == HP_OK && i < names.n; i++) {
        char *rel = join(c, names.v[i]);
        char *full = join(envdir, rel);
        int f = has_yaml_ext(names.v[i]) && !is_dir(full)
                    ? yaml_file(full, err)
                    : 0; /* (not a tree: its directories are not read) */
        if (f > 0)
          sl_push(out, rel);
        else
          free(rel);
        if (f < 0) rc = HP_ECONFIG;
        free(full);
      }
      sl_free(&names);
    } else {
      rc = walk(envdir, c, 1, out, err);
    }
    sl_sort(out, from);
  }
  free(sub);
  return rc;
}

static void put_u32(hp_buf *b, uint32_t x) {
  unsigned char c[4];
  for (int i = 0; i < 4; i++)
    c[i] = (unsigned char)(x >> (8 * i));
  hp__buf_put(b, c, 4);
}

static void put_u64(hp_buf *b, uint64_t x) {
  unsigned char c[8];
  for (int i = 0; i < 8; i++)
    c[i] = (unsigned char)(x >> (8 * i));
  hp__buf_put(b, c, 8);
}

static void put_record(hp_buf *b, uint32_t kind, const char *path,
                       const char *text, size_t len) {
  size_t pl = strlen(path);
  put_u32(b, kind);
  put_u32(b, (uint32_t)pl);
  hp__buf_put(b, path, pl);
  put_u64(b, len);
  hp__buf_put(b, text, len);
}

static int read_file(const char *path, hp_buf *b, hp_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return hp__fail(err, HP_ECONFIG, "%s: cannot read: %s", path,
                    strerror(errno));
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    hp__buf_put(b, chunk, n);
  int bad = ferror(f);
  int e = errno;
  fclose(f);
  if (bad)
    return hp__fail(err, HP_ECONFIG, "%s: cannot read: %s", path,
                    strerror(e));
  return HP_OK;
}

/* Appends the records of one environment directory. */
static int read_env(const char *envdir, uint32_t layer, hp_buf *out,
                    hp_error *err) {
  int rc = HP_OK;
  for (int cat = CAT_CATALOG; rc == HP_OK && cat < CAT_N; cat++) {
    strlist files = {0};
    rc = collect(envdir, cat, &files, err);
    for (size_t i = 0; rc == HP_OK && i < files.n; i++) {
      char *path = join(envdir, files.v[i]);
      hp_buf text = {0};
      rc = read_file(path, &text, err);
      if (rc == HP_OK)
        put_record(out, layer << 8 | (uint32_t)cat, path,
                   text.data ? text.data : "", text.len);
      hp__buf_free(&text);
      free(path);
    }
    sl_free(&files);
  }
  return rc;
}

static int valid_env_name(const char *env) {
  return *env && !strchr(env, '/') && strcmp(env, ".") && strcmp(env, "..") &&
         env[0] != '.';
}

int hp__conf_bundle_read(const char *confdir, const char *env, hp_buf *out,
                         hp_error *err) {
  const char *run = env ? env : "local";
  if (!valid_env_name(run))
    return hp__fail(err, HP_EUSAGE, "--env: invalid environment name '%s'",
                    run);
  char *dir = norm_dir(confdir);
  char *base = join(dir, "base");
  char *envdir = join(dir, run);
  int rc = HP_OK;
  if (!is_dir(dir))
    rc = hp__fail(err, HP_ECONFIG, "%s: configuration directory not found",
                  dir);
  else if (!is_dir(base))
    rc = hp__fail(err, HP_ECONFIG,
                  "%s: base configuration environment not found", base);
  else if (env && strcmp(run, "base") && !is_dir(envdir))
    rc = hp__fail(err, HP_ECONFIG,
                  "%s: configuration environment not found", envdir);
  if (rc == HP_OK) {
    size_t start = out->len;
    hp__buf_put(out, MAGIC, MAGIC_LEN);
    put_u64(out, 0);
    put_u64(out, 0);
    put_record(out, CAT_ENV, run, "", 0);
    rc = read_env(base, 0, out, err);
    if (rc == HP_OK && strcmp(run, "base") && is_dir(envdir))
      rc = read_env(envdir, 1, out, err);
    /* Fill in the body's length and hash. */
    const char *body = out->data + start + HEAD_LEN;
    size_t blen = out->len - start - HEAD_LEN;
    hp_buf head = {0};
    put_u64(&head, blen);
    put_u64(&head, hp__hash64(body, blen, HP_HASH_SEED));
    memcpy(out->data + start + MAGIC_LEN, head.data, 16);
    hp__buf_free(&head);
  }
  free(dir);
  free(base);
  free(envdir);
  return rc;
}

/* ---- loading ------------------------------------------------------------ */

static uint64_t get_le(const unsigned char *p, int n) {
  uint64_t x = 0;
  for (int i = n - 1; i >= 0; i--)
    x = x << 8 | p[i];
  return x;
}

/* A top-level map being assembled from the files of one environment, with
 * a hash index over its keys. */
typedef struct acc {
  hp_tree *map;
  hp_map *index; /* key -> position + 1 */
} acc;

static int corrupt(hp_error *err, size_t off, const char *what) {
  return hp__fail(err, HP_ECONFIG,
                  "configuration bundle is corrupt: %s at byte %zu", what,
                  off);
}

static const char *kind_name(const hp_tree *t) {
  switch (t->kind) {
  case HP_TREE_MAP:
    return "mapping";
  case HP_TREE_SEQ:
    return "sequence";
  case HP_TREE_SCALAR:
    return "scalar";
  default:
    return "null";
  }
}

/* The dotted path of a nested parameter key, for messages. */
static void path_msg(char *buf, size_t n, const char *prefix,
                     const char *key) {
  if (*prefix)
    snprintf(buf, n, "%s.%s", prefix, key);
  else
    snprintf(buf, n, "%s", key);
}

static int dup_error(const hp_tree *k2, const hp_tree *k1, const char *key,
                     hp_error *err) {
  char l1[300], l2[300];
  return hp__fail(err, HP_ECONFIG,
                  "%s: duplicate key '%s' in %s and %s (first at %s)",
                  hp__tree_loc(k2, l2, sizeof l2), key, k1->file, k2->file,
                  hp__tree_loc(k1, l1, sizeof l1));
}

/* Merges the nested map src into dst for parameters of one environment:
 * maps merge, any other collision is a duplicate. Takes src's entries. */
static int merge_params(hp_tree *dst, hp_tree *src, const char *prefix,
                        hp_error *err) {
  for (size_t i = 0; i < src->n; i++) {
    hp_tree *k = src->keys[i], *v = src->items[i];
    long j = hp__tree_index(dst, k->text);
    if (j < 0) {
      hp__tree_map_append(dst, k, v);
      src->keys[i] = src->items[i] = NULL;
      continue;
    }
    char path[512];
    path_msg(path, sizeof path, prefix, k->text);
    hp_tree *d = dst->items[j];
    if (d->kind != HP_TREE_MAP || v->kind != HP_TREE_MAP)
      return dup_error(k, dst->keys[j], path, err);
    HP_TRY(merge_params(d, v, path, err));
  }
  return HP_OK;
}

/* Adds the entries of one file's top-level map to an environment's map. */
static int acc_add(acc *a, hp_tree *src, int cat, hp_error *err) {
  for (size_t i = 0; i < src->n; i++) {
    hp_tree *k = src->keys[i], *v = src->items[i];
    if ((cat == CAT_CATALOG || cat == CAT_PARAMS) && k->text[0] == '_')
      continue;
    size_t j = (size_t)(uintptr_t)hp__map_get(a->index, k->text);
    if (j) {
      hp_tree *d = a->map->items[j - 1];
      if (cat == CAT_PARAMS && d->kind == HP_TREE_MAP &&
          v->kind == HP_TREE_MAP) {
        HP_TRY(merge_params(d, v, k->text, err));
        continue;
      }
      return dup_error(k, a->map->keys[j - 1], k->text, err);
    }
    hp__tree_map_append(a->map, k, v);
    hp__map_put(a->index, k->text, (void *)(uintptr_t)a->map->n);
    src->keys[i] = src->items[i] = NULL;
  }
  return HP_OK;
}

/* Frees a file's root map whose entries may have been moved out. */
static void free_shell(hp_tree *t) {
  if (!t)
    return;
  if (t->kind == HP_TREE_MAP)
    for (size_t i = 0; i < t->n; i++) {
      hp__tree_free(t->keys[i]);
      hp__tree_free(t->items[i]);
    }
  else
    for (size_t i = 0; i < t->n; i++)
      hp__tree_free(t->items[i]);
  t->n = 0;
  hp__tree_free(t);
}

/* Checks one parsed file and adds it to its environment's map. For
 * pipelines files, the map added is the one under `pipelines:`. */
static int add_file(acc *a, hp_tree *root, int cat, hp_error *err) {
  char loc[300];
  if (root->kind == HP_TREE_NULL)
    return HP_OK;
  if (root->kind != HP_TREE_MAP)
    return hp__fail(err, HP_ECONFIG,
                    "%s: expected a mapping at the top level, found a %s",
                    hp__tree_loc(root, loc, sizeof loc), kind_name(root));
  if (cat != CAT_PIPELINES)
    return acc_add(a, root, cat, err);
  hp_tree *inner = NULL;
  for (size_t i = 0; i < root->n; i++) {
    const hp_tree *k = root->keys[i];
    if (!strcmp(k->text, "pipelines"))
      inner = root->items[i];
    else if (k->text[0] != '_')
      return hp__fail(err, HP_ECONFIG,
                      "%s: unexpected top-level key '%s' (a pipelines file "
                      "holds one 'pipelines:' mapping)",
                      hp__tree_loc(k, loc, sizeof loc), k->text);
  }
  if (!inner || hp__tree_is_null(inner))
    return HP_OK;
  if (inner->kind != HP_TREE_MAP)
    return hp__fail(err, HP_ECONFIG,
                    "%s: 'pipelines' must be a mapping of pipeline names to "
                    "node lists, found a %s",
                    hp__tree_loc(inner, loc, sizeof loc), kind_name(inner));
  return acc_add(a, inner, cat, err);
}

/* The run environment over base: per top-level key replacement, or a deep
 * merge for parameters. Takes env's entries. */
static void overlay(acc *base, hp_tree *env, int cat) {
  if (cat == CAT_PARAMS) {
    hp__tree_merge(base->map, env);
    return;
  }
  for (size_t i = 0; i < env->n; i++) {
    hp_tree *k = env->keys[i], *v = env->items[i];
    size_t j = (size_t)(uintptr_t)hp__map_get(base->index, k->text);
    if (j) {
      hp__tree_free(base->map->keys[j - 1]);
      hp__tree_free(base->map->items[j - 1]);
      base->map->keys[j - 1] = k;
      base->map->items[j - 1] = v;
    } else {
      hp__tree_map_append(base->map, k, v);
      hp__map_put(base->index, k->text, (void *)(uintptr_t)base->map->n);
    }
  }
  env->n = 0;
  hp__tree_free(env);
}

static char *trim(const char *s, size_t n) {
  while (n && (*s == ' ' || *s == '\t')) {
    s++;
    n--;
  }
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  return hp__xstrndup(s, n);
}

/* One --params item "a.b=v" as the tree {a: {b: v}}. */
static int param_item(const char *item, size_t col, hp_tree **out,
                      hp_error *err) {
  static const char *const src = "--params";
  const char *eq = strchr(item, '=');
  char *key = eq ? trim(item, (size_t)(eq - item)) : NULL;
  if (!key || !*key) {
    free(key);
    return hp__fail(err, HP_EUSAGE, "--params: item '%s' must be key=value",
                    item);
  }
  size_t klen = strlen(key);
  if (key[0] == '.' || key[klen - 1] == '.' || strstr(key, "..")) {
    int rc = hp__fail(err, HP_EUSAGE,
                      "--params: key '%s' has an empty part between dots",
                      key);
    free(key);
    return rc;
  }
  char *val = trim(eq + 1, strlen(eq + 1));
  hp_error perr = HP_ERROR_INIT;
  hp_tree *v = NULL;
  if (hp__yaml_parse(val, strlen(val), src, &v, &perr) != HP_OK ||
      v->kind == HP_TREE_NULL) {
    /* Not valid YAML on its own (or empty): a plain scalar, typed later. */
    hp__tree_free(v);
    v = hp__tree_scalar(val, 0, src, 1, (uint32_t)col);
  }
  free(val);
  /* Nest from the last key part outwards. */
  char *end = key + klen;
  while (end > key) {
    char *start = end;
    while (start > key && start[-1] != '.')
      start--;
    hp_tree *m = hp__tree_new(HP_TREE_MAP, src, 1, (uint32_t)col);
    char *part = hp__xstrndup(start, (size_t)(end - start));
    hp__tree_put(m, hp__tree_scalar(part, 0, src, 1, (uint32_t)col), v);
    free(part);
    v = m;
    end = start > key ? start - 1 : start;
  }
  free(key);
  *out = v;
  return HP_OK;
}

static int apply_params(hp_tree *params, const char *text, hp_error *err) {
  const char *p = text;
  while (1) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    char *item = trim(p, n);
    int rc = HP_OK;
    if (*item) {
      hp_tree *t = NULL;
      rc = param_item(item, (size_t)(p - text) + 1, &t, err);
      if (rc == HP_OK)
        hp__tree_merge(params, t);
    }
    free(item);
    if (rc != HP_OK)
      return rc;
    if (!comma)
      return HP_OK;
    p = comma + 1;
  }
}

/* The project root for confdir (already without trailing slashes). */
static char *root_of(const char *dir) {
  const char *slash = strrchr(dir, '/');
  const char *last = slash ? slash + 1 : dir;
  if (!strcmp(last, ".") || !strcmp(last, ".."))
    return join(dir, "..");
  if (!slash)
    return hp__xstrdup(".");
  if (slash == dir)
    return hp__xstrdup("/");
  return hp__xstrndup(dir, (size_t)(slash - dir));
}

typedef struct record {
  uint32_t kind;
  const char *path;
  size_t pathlen;
  const char *text;
  size_t textlen;
} record;

static int next_record(const char *b, size_t len, size_t *off, record *r,
                       hp_error *err) {
  const unsigned char *u = (const unsigned char *)b;
  size_t o = *off;
  if (len - o < 8)
    return corrupt(err, o, "truncated record header");
  r->kind = (uint32_t)get_le(u + o, 4);
  r->pathlen = (size_t)get_le(u + o + 4, 4);
  o += 8;
  if (len - o < r->pathlen)
    return corrupt(err, o, "truncated file name");
  r->path = b + o;
  o += r->pathlen;
  if (len - o < 8)
    return corrupt(err, o, "truncated text length");
  uint64_t tl = get_le(u + o, 8);
  o += 8;
  if (tl > len - o)
    return corrupt(err, o, "truncated file text");
  r->text = b + o;
  r->textlen = (size_t)tl;
  o += r->textlen;
  int cat = (int)(r->kind & 0xFF), layer = (int)(r->kind >> 8);
  if (cat >= CAT_N || layer > 1 || (cat == CAT_ENV && layer))
    return corrupt(err, *off, "unknown record kind");
  if (memchr(r->path, '\0', r->pathlen) || !r->pathlen)
    return corrupt(err, *off, "bad file name");
  *off = o;
  return HP_OK;
}

static hp_tree *empty_map(const hp_conf *c) {
  return hp__tree_new(HP_TREE_MAP, c->confdir, 0, 0);
}

static int load_records(hp_conf *c, const char *bundle, size_t len,
                        acc accs[2][CAT_N], hp_error *err) {
  size_t off = HEAD_LEN;
  record r;
  HP_TRY(next_record(bundle, len, &off, &r, err));
  if (r.kind != CAT_ENV)
    return corrupt(err, HEAD_LEN, "missing environment record");
  c->env = hp__xstrndup(r.path, r.pathlen);
  while (off < len) {
    HP_TRY(next_record(bundle, len, &off, &r, err));
    int cat = (int)(r.kind & 0xFF), layer = (int)(r.kind >> 8);
    if (cat == CAT_ENV)
      return corrupt(err, off, "second environment record");
    char *file = hp__xstrndup(r.path, r.pathlen);
    c->files = hp__xrealloc(c->files, (c->nfiles + 1) * sizeof *c->files);
    c->files[c->nfiles++] = file;
    hp_tree *root = NULL;
    HP_TRY(hp__yaml_parse(r.text, r.textlen, file, &root, err));
    acc *a = &accs[layer][cat];
    if (!a->map) {
      a->map = empty_map(c);
      a->index = hp__map_new();
    }
    int rc = add_file(a, root, cat, err);
    free_shell(root);
    HP_TRY(rc);
  }
  return HP_OK;
}

int hp__conf_load(const char *bundle, size_t len, const char *confdir,
                  const char *params_override, hp_conf **out, hp_error *err) {
  *out = NULL;
  if (!bundle || len < HEAD_LEN || memcmp(bundle, MAGIC, MAGIC_LEN))
    return corrupt(err, 0, "bad header");
  const unsigned char *u = (const unsigned char *)bundle;
  uint64_t blen = get_le(u + MAGIC_LEN, 8);
  if (blen != len - HEAD_LEN)
    return hp__fail(err, HP_ECONFIG,
                    "configuration bundle is corrupt: %zu bytes instead of "
                    "%llu",
                    len, (unsigned long long)blen + HEAD_LEN);
  if (get_le(u + MAGIC_LEN + 8, 8) !=
      hp__hash64(bundle + HEAD_LEN, len - HEAD_LEN, HP_HASH_SEED))
    return corrupt(err, HEAD_LEN, "checksum mismatch");
  hp_conf *c = hp__xcalloc(1, sizeof *c);
  c->confdir = norm_dir(confdir ? confdir : "conf");
  c->root = root_of(c->confdir);
  acc accs[2][CAT_N];
  memset(accs, 0, sizeof accs);
  int rc = load_records(c, bundle, len, accs, err);
  hp_tree **dst[CAT_N] = {NULL, &c->catalog, &c->params, &c->pipelines,
                          &c->settings};
  for (int cat = CAT_CATALOG; cat < CAT_N; cat++) {
    acc *b = &accs[0][cat], *e = &accs[1][cat];
    if (rc == HP_OK && e->map) {
      if (!b->map) {
        b->map = empty_map(c);
        b->index = hp__map_new();
      }
      overlay(b, e->map, cat);
      e->map = NULL;
    }
    hp__tree_free(e->map);
    hp__map_free(e->index, NULL);
    hp__map_free(b->index, NULL);
    *dst[cat] = b->map ? b->map : empty_map(c);
  }
  if (rc == HP_OK && params_override)
    rc = apply_params(c->params, params_override, err);
  if (rc != HP_OK) {
    hp__conf_free(c);
    return rc;
  }
  *out = c;
  return HP_OK;
}

void hp__conf_free(hp_conf *c) {
  if (!c)
    return;
  hp__tree_free(c->catalog);
  hp__tree_free(c->params);
  hp__tree_free(c->pipelines);
  hp__tree_free(c->settings);
  for (size_t i = 0; i < c->nfiles; i++)
    free(c->files[i]);
  free(c->files);
  free(c->confdir);
  free(c->root);
  free(c->env);
  free(c);
}

/* Absolute paths are kept; relative ones are joined with the root, except
 * that a root of "." leaves them as written ("data/x", not "./data/x"). */
char *hp__conf_path(const hp_conf *c, const char *path) {
  if (path[0] == '/' || !c || !c->root || !strcmp(c->root, "."))
    return hp__xstrdup(path);
  return join(c->root, path);
}

char *hp__conf_store_dir(const hp_conf *c) {
  return hp__conf_path(c, hp_tree_str(c->settings, "store", "data/store"));
}
