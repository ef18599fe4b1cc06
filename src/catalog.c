/*
 * catalog.c - dataset definitions from the merged catalog: explicit entries
 * checked up front, dataset factory patterns ("{namespace}.labels") matched
 * like Kedro's `parse` (whole name, each placeholder one or more characters,
 * leftmost placeholders as short as possible) and ranked by Kedro's
 * precedence, `params:` names, and the run's HDF5 store for everything
 * else. Resolved definitions are cached by name.
 */
#include "catalog.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "mem.h"

typedef struct seg {
  const char *text; /* literal text, or the placeholder's name */
  size_t len;
  int ph; /* 1 for a placeholder */
} seg;

typedef struct pattern {
  const char *name;    /* the catalog key, "{namespace}.labels" */
  const hp_tree *key;  /* its position */
  const hp_tree *body; /* the entry, placeholders unsubstituted */
  seg *segs;
  size_t nseg;
  size_t literal; /* literal characters outside braces */
  size_t nph;     /* placeholders */
  int body_ph;    /* the body uses placeholders (else it is shared) */
  hp_ds_type type; /* the body's type */
} pattern;

struct hp_catalog {
  const hp_conf *conf;
  char *store_dir;
  hp_map *explicit; /* name -> position in conf->catalog + 1 */
  pattern *pats;    /* by precedence; the catch-all is not among them */
  size_t npats;
  pattern *catch_all; /* owned, or NULL */
  hp_map *cache;      /* name -> hp_dsdef * */
};

/* Which keys each type accepts. */
enum {
  K_TYPE = 1 << 0,
  K_FILEPATH = 1 << 1,
  K_VERSIONED = 1 << 2,
  K_KEY = 1 << 3,
  K_SEP = 1 << 4,
  K_COLUMNS = 1 << 5,
  K_METADATA = 1 << 6,
  K_PARTITION_ROWS = 1 << 7,
  K_CHUNKS = 1 << 8,
  K_LAYER = 1 << 9,
  K_BLOCKSIZE = 1 << 10
};

static const char *const key_names[] = {
    "type", "filepath", "versioned",      "key",    "sep",
    "columns", "metadata", "partition_rows", "chunks", "layer", "blocksize"};
#define NKEYS (sizeof key_names / sizeof *key_names)

static const struct {
  const char *name;
  hp_ds_type type;
  unsigned keys;
} types[] = {
    {"csv", HP_DS_CSV,
     K_TYPE | K_FILEPATH | K_VERSIONED | K_SEP | K_COLUMNS | K_METADATA |
         K_PARTITION_ROWS | K_LAYER | K_BLOCKSIZE},
    {"hdf5", HP_DS_HDF5,
     K_TYPE | K_FILEPATH | K_VERSIONED | K_KEY | K_METADATA |
         K_PARTITION_ROWS | K_CHUNKS | K_LAYER},
    {"memory", HP_DS_MEMORY, K_TYPE | K_METADATA | K_LAYER},
    {"text", HP_DS_TEXT, K_TYPE | K_FILEPATH | K_VERSIONED | K_METADATA |
                             K_LAYER},
};
#define NTYPES (sizeof types / sizeof *types)

/* ---- messages ------------------------------------------------------------ */

/* "file:line:col: <what>: <message>" where `what` names the dataset. */
static int fail_at(hp_error *err, const hp_tree *at, const char *what,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(hp_error *err, const hp_tree *at, const char *what,
                   const char *fmt, ...) {
  char msg[512], loc[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return hp__fail(err, HP_ECONFIG, "%s: %s: %s",
                  hp__tree_loc(at, loc, sizeof loc), what, msg);
}

static const char *kind_name(const hp_tree *t) {
  switch (hp_tree_type(t)) {
  case HP_TREE_MAP:
    return "a mapping";
  case HP_TREE_SEQ:
    return "a list";
  case HP_TREE_SCALAR:
    return hp__tree_is_null(t) ? "null" : "a scalar";
  default:
    return "null";
  }
}

static void keys_list(unsigned mask, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < NKEYS; i++)
    if (mask & (1u << i))
      used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s",
                               used ? ", " : "", key_names[i]);
}

/* ---- entry checks ------------------------------------------------------ */

static int str_value(const hp_tree *v) {
  return v && v->kind == HP_TREE_SCALAR && !hp__tree_is_null(v) && *v->text;
}

static int check_columns(const hp_tree *v, const char *what, hp_error *err) {
  if (v->kind != HP_TREE_MAP)
    return fail_at(err, v, what,
                   "'columns' must be a mapping of column names to types, "
                   "not %s",
                   kind_name(v));
  for (size_t i = 0; i < v->n; i++) {
    const char *t = hp_tree_text(v->items[i]);
    if (!t || (strcmp(t, "int64") && strcmp(t, "float64") &&
               strcmp(t, "bool") && strcmp(t, "string") &&
               strcmp(t, "timestamp")))
      return fail_at(err, v->items[i], what,
                     "column '%s': unknown type '%s' (known: int64, "
                     "float64, bool, string, timestamp)",
                     v->keys[i]->text, t ? t : kind_name(v->items[i]));
  }
  return HP_OK;
}

/* "123", "64MB", "64 MiB", "1GB", "512kB": bytes, > 0. 0 on success. */
static int parse_bytes(const char *s, int64_t *out) {
  char *end;
  double x = strtod(s, &end);
  while (*end == ' ')
    end++;
  static const struct {
    const char *unit;
    double mult;
  } units[] = {{"", 1},        {"B", 1},          {"kB", 1e3},
               {"KB", 1e3},    {"KiB", 1024.0},   {"MB", 1e6},
               {"MiB", 1048576.0}, {"GB", 1e9},   {"GiB", 1073741824.0}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (strcmp(end, units[i].unit) == 0 && end != s) {
      double b = x * units[i].mult;
      if (!(b >= 1 && b < 9e18))
        return -1;
      *out = (int64_t)b;
      return 0;
    }
  return -1;
}

int64_t hp__ds_blocksize(const hp_dsdef *d) {
  const hp_tree *v = d && d->entry ? hp__tree_find(d->entry, "blocksize")
                                   : NULL;
  int64_t b = 0;
  if (v && v->kind == HP_TREE_SCALAR && parse_bytes(v->text, &b) == 0)
    return b;
  return 0;
}

int64_t hp__ds_partition_rows(const hp_dsdef *d) {
  if (!d || !d->entry)
    return 0;
  const hp_tree *v = hp__tree_find(d->entry, "partition_rows");
  if (!v) {
    v = hp__tree_find(d->entry, "chunks");
    if (v && v->kind == HP_TREE_SEQ)
      v = v->n ? v->items[0] : NULL;
  }
  int64_t x = 0;
  if (v && v->kind == HP_TREE_SCALAR && hp_tree_i64(v, NULL, 0, &x) == HP_OK &&
      x > 0)
    return x;
  return 0;
}

static int positive_int(const hp_tree *v) {
  int64_t x;
  return v->kind == HP_TREE_SCALAR && !hp__tree_is_null(v) &&
         hp_tree_i64(v, NULL, 0, &x) == HP_OK && x > 0;
}

static int check_chunks(const hp_tree *v, const char *what, hp_error *err) {
  int ok = positive_int(v);
  if (v->kind == HP_TREE_SEQ && v->n > 0) {
    ok = 1;
    for (size_t i = 0; i < v->n; i++)
      ok = ok && positive_int(v->items[i]);
  }
  if (!ok)
    return fail_at(err, v, what,
                   "'chunks' must be a positive integer or a list of them");
  return HP_OK;
}

/* Checks the value of one known key. */
static int check_value(const hp_tree *k, const hp_tree *v, const char *what,
                       hp_error *err) {
  const char *key = k->text;
  int b;
  if (!strcmp(key, "filepath") && !str_value(v))
    return fail_at(err, v, what, "'filepath' must be a non-empty string");
  if (!strcmp(key, "versioned") &&
      (v->kind != HP_TREE_SCALAR || hp__tree_is_null(v) ||
       hp_tree_bool(v, NULL, 0, &b) != HP_OK))
    return fail_at(err, v, what, "'versioned' must be true or false");
  if (!strcmp(key, "key") && !str_value(v))
    return fail_at(err, v, what,
                   "'key' must be a non-empty HDF5 object path");
  if (!strcmp(key, "sep") &&
      (v->kind != HP_TREE_SCALAR ||
       (strlen(v->text) != 1 && strcmp(v->text, "\\t") != 0)))
    return fail_at(err, v, what, "'sep' must be a single character (or \\t)");
  if (!strcmp(key, "columns"))
    return check_columns(v, what, err);
  if (!strcmp(key, "partition_rows") && !positive_int(v))
    return fail_at(err, v, what, "'partition_rows' must be a positive "
                                 "integer");
  if (!strcmp(key, "chunks"))
    return check_chunks(v, what, err);
  int64_t bytes;
  if (!strcmp(key, "blocksize") &&
      (v->kind != HP_TREE_SCALAR || parse_bytes(v->text, &bytes) != 0))
    return fail_at(err, v, what, "'blocksize' must be a size in bytes "
                                 "(1048576, \"64MB\", \"1GiB\")");
  return HP_OK;
}

/* Checks an entry; on success *type is its type. `at` is the catalog key,
 * `what` names the dataset in messages. */
static int check_entry(const hp_tree *at, const hp_tree *e, const char *what,
                       hp_ds_type *type, hp_error *err) {
  if (hp_tree_type(e) != HP_TREE_MAP)
    return fail_at(err, at, what,
                   "catalog entry is not a valid dataset configuration "
                   "(expected a mapping, found %s). Hint: if this entry is "
                   "meant for YAML anchors, start its name with an "
                   "underscore",
                   kind_name(e));
  long ti = hp__tree_index(e, "type");
  if (ti < 0)
    return fail_at(err, at, what, "'type' is missing");
  const hp_tree *tv = e->items[ti];
  size_t t = NTYPES;
  if (tv->kind == HP_TREE_SCALAR)
    for (t = 0; t < NTYPES && strcmp(types[t].name, tv->text); t++)
      ;
  if (t == NTYPES) {
    char known[64] = "";
    for (size_t i = 0; i < NTYPES; i++)
      snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
               i ? ", " : "", types[i].name);
    return fail_at(err, tv, what, "unknown type '%s' (known: %s)",
                   tv->kind == HP_TREE_SCALAR ? tv->text : kind_name(tv),
                   known);
  }
  char allowed[256];
  keys_list(types[t].keys, allowed, sizeof allowed);
  for (size_t i = 0; i < e->n; i++) {
    const hp_tree *k = e->keys[i];
    size_t j = 0;
    while (j < NKEYS && strcmp(key_names[j], k->text))
      j++;
    if (j == NKEYS)
      return fail_at(err, k, what, "unknown key '%s' (allowed for %s: %s)",
                     k->text, types[t].name, allowed);
    if (!(types[t].keys & (1u << j))) {
      if (!strcmp(k->text, "versioned"))
        return fail_at(err, k, what,
                       "'versioned' needs a file (types csv, hdf5, text)");
      return fail_at(err, k, what,
                     "key '%s' is not allowed for type %s (allowed: %s)",
                     k->text, types[t].name, allowed);
    }
    HP_TRY(check_value(k, e->items[i], what, err));
  }
  if ((types[t].keys & K_FILEPATH) && hp__tree_index(e, "filepath") < 0)
    return fail_at(err, at, what, "'filepath' is missing (required for type "
                                  "%s)",
                   types[t].name);
  *type = types[t].type;
  return HP_OK;
}

/* ---- patterns ---------------------------------------------------------- */

static int ident_char(char c, int first) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (!first && c >= '0' && c <= '9');
}

static void pattern_free(pattern *p) {
  if (p)
    free(p->segs);
}

/* Splits a pattern name into literal and placeholder segments. */
static int pattern_parse(pattern *p, const hp_tree *key, const hp_tree *body,
                         hp_error *err) {
  char what[300];
  snprintf(what, sizeof what, "dataset pattern '%s'", key->text);
  memset(p, 0, sizeof *p);
  p->name = key->text;
  p->key = key;
  p->body = body;
  size_t cap = 0;
  const char *s = key->text;
  while (*s) {
    seg g = {s, 0, 0};
    if (*s == '{') {
      const char *e = s + 1;
      while (ident_char(*e, e == s + 1))
        e++;
      if (*e != '}' || e == s + 1)
        return fail_at(err, key, what,
                       "a placeholder must be a name in braces, like "
                       "'{name}'");
      g.text = s + 1;
      g.len = (size_t)(e - s - 1);
      g.ph = 1;
      for (size_t i = 0; i < p->nseg; i++)
        if (p->segs[i].ph && p->segs[i].len == g.len &&
            !memcmp(p->segs[i].text, g.text, g.len))
          return fail_at(err, key, what, "placeholder '{%.*s}' is used twice",
                         (int)g.len, g.text);
      p->nph++;
      s = e + 1;
    } else {
      while (s[g.len] && s[g.len] != '{') {
        if (s[g.len] == '}')
          return fail_at(err, key, what, "unbalanced '}'");
        g.len++;
      }
      p->literal += g.len;
      s += g.len;
    }
    if (p->nseg == cap)
      hp__grow(&p->segs, &cap, p->nseg + 1, sizeof *p->segs);
    p->segs[p->nseg++] = g;
  }
  return HP_OK;
}

static const seg *find_ph(const pattern *p, const char *name, size_t len) {
  for (size_t i = 0; i < p->nseg; i++)
    if (p->segs[i].ph && p->segs[i].len == len &&
        !memcmp(p->segs[i].text, name, len))
      return &p->segs[i];
  return NULL;
}

/* Every {name} in the scalars of the body must be a placeholder of the
 * pattern (keys are not substituted, so not checked). */
static int check_body_ph(const pattern *p, const hp_tree *t, hp_error *err) {
  if (t->kind == HP_TREE_SCALAR) {
    for (const char *s = strchr(t->text, '{'); s; s = strchr(s + 1, '{')) {
      const char *e = strchr(s, '}');
      if (!e)
        break;
      if (!find_ph(p, s + 1, (size_t)(e - s - 1))) {
        char what[300];
        snprintf(what, sizeof what, "dataset pattern '%s'", p->name);
        return fail_at(err, t, what,
                       "placeholder '%.*s' in the entry is not in the "
                       "pattern name",
                       (int)(e - s + 1), s);
      }
    }
  }
  for (size_t i = 0; i < t->n; i++)
    HP_TRY(check_body_ph(p, t->items[i], err));
  return HP_OK;
}

/* Matches name against p like parse's "^...$" with lazy "(.+?)" fields:
 * each placeholder takes the fewest characters that let the rest match.
 * On success fills starts/lens (per segment) and returns 1. */
static int pattern_match(const pattern *p, const char *name, size_t *starts,
                         size_t *lens) {
  size_t n = strlen(name), ns = p->nseg, w = n + 2;
  if (n < p->literal + p->nph)
    return 0;
  /* ok[s][i]: segments s.. match name[i..n); any[s][i]: ok[s][j], j >= i */
  unsigned char *ok = hp__xcalloc((ns + 1) * w, 1);
  unsigned char *any = hp__xcalloc((ns + 1) * w, 1);
  ok[ns * w + n] = 1;
  for (size_t i = n + 1; i-- > 0;)
    any[ns * w + i] = (unsigned char)(ok[ns * w + i] | any[ns * w + i + 1]);
  for (size_t s = ns; s-- > 0;) {
    const seg *g = &p->segs[s];
    for (size_t i = n + 1; i-- > 0;) {
      unsigned char v;
      if (g->ph)
        v = i + 1 <= n && any[(s + 1) * w + i + 1];
      else
        v = i + g->len <= n && !memcmp(name + i, g->text, g->len) &&
            ok[(s + 1) * w + i + g->len];
      ok[s * w + i] = v;
      any[s * w + i] = (unsigned char)(v | any[s * w + i + 1]);
    }
  }
  int matched = ok[0];
  size_t pos = 0;
  for (size_t s = 0; matched && s < ns; s++) {
    const seg *g = &p->segs[s];
    size_t len = g->len;
    if (g->ph)
      for (len = 1; !ok[(s + 1) * w + pos + len]; len++)
        ;
    starts[s] = pos;
    lens[s] = len;
    pos += len;
  }
  free(ok);
  free(any);
  return matched;
}

/* Replaces every {placeholder} in the scalars of t (a copy) with the part
 * of name it matched. */
static void substitute(const pattern *p, hp_tree *t, const char *name,
                       const size_t *starts, const size_t *lens) {
  if (t->kind == HP_TREE_SCALAR && strchr(t->text, '{')) {
    hp_buf b = {0};
    const char *s = t->text;
    while (*s) {
      const char *e = *s == '{' ? strchr(s, '}') : NULL;
      const seg *g = e ? find_ph(p, s + 1, (size_t)(e - s - 1)) : NULL;
      if (g) {
        size_t k = (size_t)(g - p->segs);
        hp__buf_put(&b, name + starts[k], lens[k]);
        s = e + 1;
      } else {
        hp__buf_putc(&b, *s++);
      }
    }
    free(t->text);
    t->text = hp__buf_take(&b);
  }
  for (size_t i = 0; i < t->n; i++)
    substitute(p, t->items[i], name, starts, lens);
}

/* 1 if any scalar of t contains '{'. */
static int has_brace(const hp_tree *t) {
  if (t->kind == HP_TREE_SCALAR && strchr(t->text, '{'))
    return 1;
  for (size_t i = 0; i < t->n; i++)
    if (has_brace(t->items[i]))
      return 1;
  return 0;
}

static int cmp_pattern(const void *a, const void *b) {
  const pattern *x = a, *y = b;
  if (x->literal != y->literal)
    return x->literal > y->literal ? -1 : 1;
  if (x->nph != y->nph)
    return x->nph > y->nph ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* ---- the catalog --------------------------------------------------------- */

static void dsdef_free(void *v) {
  hp_dsdef *d = v;
  if (!d)
    return;
  free(d->name);
  free(d->filepath);
  free(d->key);
  if (!d->entry_borrowed)
    hp__tree_free(d->entry);
  free(d);
}

void hp__catalog_free(hp_catalog *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->npats; i++)
    pattern_free(&c->pats[i]);
  free(c->pats);
  pattern_free(c->catch_all);
  free(c->catch_all);
  hp__map_free(c->explicit, NULL);
  hp__map_free(c->cache, dsdef_free);
  free(c->store_dir);
  free(c);
}

static int add_pattern(hp_catalog *c, const hp_tree *key, const hp_tree *body,
                       size_t *cap, hp_error *err) {
  pattern p;
  int rc = pattern_parse(&p, key, body, err);
  char what[300];
  snprintf(what, sizeof what, "dataset pattern '%s'", key->text);
  hp_ds_type type = HP_DS_MEMORY;
  if (rc == HP_OK)
    rc = check_entry(key, body, what, &type, err);
  if (rc == HP_OK)
    rc = check_body_ph(&p, body, err);
  if (rc == HP_OK && p.literal == 0 && c->catch_all) {
    char loc[300];
    rc = fail_at(err, key, what,
                 "a second catch-all pattern besides '%s' (at %s); only one "
                 "catch-all pattern is allowed",
                 c->catch_all->name,
                 hp__tree_loc(c->catch_all->key, loc, sizeof loc));
  }
  if (rc != HP_OK) {
    pattern_free(&p);
    return rc;
  }
  p.body_ph = has_brace(body);
  p.type = type;
  if (p.literal == 0) {
    c->catch_all = hp__xmalloc(sizeof p);
    *c->catch_all = p;
    return HP_OK;
  }
  if (c->npats == *cap)
    hp__grow(&c->pats, cap, c->npats + 1, sizeof *c->pats);
  c->pats[c->npats++] = p;
  return HP_OK;
}

int hp__catalog_new(const hp_conf *conf, const char *store_dir,
                    hp_catalog **out, hp_error *err) {
  *out = NULL;
  hp_catalog *c = hp__xcalloc(1, sizeof *c);
  c->conf = conf;
  c->store_dir = hp__xstrdup(store_dir ? store_dir : "data/store");
  c->explicit = hp__map_new();
  c->cache = hp__map_new();
  const hp_tree *cat = conf ? conf->catalog : NULL;
  size_t cap = 0;
  int rc = HP_OK;
  for (size_t i = 0; rc == HP_OK && i < hp_tree_len(cat); i++) {
    const hp_tree *k = cat->keys[i], *e = cat->items[i];
    if (k->text[0] == '_')
      continue;
    if (strchr(k->text, '{')) {
      rc = add_pattern(c, k, e, &cap, err);
      continue;
    }
    char what[300];
    snprintf(what, sizeof what, "dataset '%s'", k->text);
    hp_ds_type type = HP_DS_MEMORY;
    rc = check_entry(k, e, what, &type, err);
    hp__map_put(c->explicit, k->text, (void *)(uintptr_t)(i + 1));
  }
  if (rc != HP_OK) {
    hp__catalog_free(c);
    return rc;
  }
  if (c->npats > 1)
    qsort(c->pats, c->npats, sizeof *c->pats, cmp_pattern);
  *out = c;
  return HP_OK;
}

/* A definition from a checked entry (copied). */
static hp_dsdef *make_def(const hp_catalog *c, const char *name,
                          hp_ds_type type, hp_tree *entry,
                          const hp_tree *where) {
  hp_dsdef *d = hp__xcalloc(1, sizeof *d);
  d->name = hp__xstrdup(name);
  d->type = type;
  d->entry = entry;
  d->where = where;
  const char *fp = hp_tree_str(entry, "filepath", NULL);
  if (fp && type != HP_DS_MEMORY)
    d->filepath = hp__conf_path(c->conf, fp);
  int v = 0;
  if (hp_tree_bool(entry, "versioned", 0, &v) == HP_OK)
    d->versioned = v;
  if (type == HP_DS_HDF5)
    d->key = hp__xstrdup(hp_tree_str(entry, "key", "/"));
  d->spill = type == HP_DS_MEMORY; /* large values skip rank 0 (exec.h) */
  return d;
}

static hp_dsdef *store_def(const hp_catalog *c, const char *name) {
  hp_dsdef *d = hp__xcalloc(1, sizeof *d);
  d->name = hp__xstrdup(name);
  d->type = HP_DS_STORE;
  /* The name becomes one file name: '/' cannot make it escape the store
   * or name a subdirectory. */
  char *safe = hp__xstrdup(name);
  for (char *p = safe; *p; p++)
    if (*p == '/')
      *p = '_';
  size_t n = strlen(c->store_dir);
  d->filepath = hp__xasprintf("%s%s%s.h5", c->store_dir,
                              n && c->store_dir[n - 1] == '/' ? "" : "/",
                              safe);
  free(safe);
  d->key = hp__xstrdup("/");
  return d;
}

/* The definition a pattern gives name, or NULL with *rc set on error. */
static hp_dsdef *from_pattern(const hp_catalog *c, const pattern *p,
                              const char *name, const size_t *starts,
                              const size_t *lens, int *rc, hp_error *err) {
  if (!p->body_ph) { /* checked when the catalog was made; nothing to fill */
    hp_dsdef *d = make_def(c, name, p->type, (hp_tree *)p->body, p->key);
    d->entry_borrowed = 1;
    return d;
  }
  hp_tree *e = hp__tree_copy(p->body);
  substitute(p, e, name, starts, lens);
  char what[600];
  snprintf(what, sizeof what, "dataset '%s' (from pattern '%s')", name,
           p->name);
  hp_ds_type type = HP_DS_MEMORY;
  *rc = check_entry(p->key, e, what, &type, err);
  if (*rc != HP_OK) {
    hp__tree_free(e);
    return NULL;
  }
  return make_def(c, name, type, e, p->key);
}

/* The first pattern matching name, in precedence order, else the
 * catch-all; NULL if none. */
static const pattern *match_any(const hp_catalog *c, const char *name,
                                size_t *starts, size_t *lens) {
  for (size_t i = 0; i < c->npats; i++)
    if (pattern_match(&c->pats[i], name, starts, lens))
      return &c->pats[i];
  if (c->catch_all && pattern_match(c->catch_all, name, starts, lens))
    return c->catch_all;
  return NULL;
}

static size_t max_segs(const hp_catalog *c) {
  size_t m = c->catch_all ? c->catch_all->nseg : 0;
  for (size_t i = 0; i < c->npats; i++)
    if (c->pats[i].nseg > m)
      m = c->pats[i].nseg;
  return m ? m : 1;
}

static int is_param(const char *name) {
  return !strcmp(name, "parameters") || !strncmp(name, "params:", 7);
}

int hp__catalog_resolve(hp_catalog *c, const char *name, const hp_dsdef **out,
                        hp_error *err) {
  *out = hp__map_get(c->cache, name);
  if (*out)
    return HP_OK;
  hp_dsdef *d = NULL;
  size_t i = (size_t)(uintptr_t)hp__map_get(c->explicit, name);
  if (!*name) {
    return hp__fail(err, HP_ECONFIG, "dataset '': empty dataset name");
  } else if (is_param(name)) {
    d = hp__xcalloc(1, sizeof *d);
    d->name = hp__xstrdup(name);
    d->type = HP_DS_PARAM;
  } else if (i) {
    const hp_tree *k = c->conf->catalog->keys[i - 1];
    const hp_tree *e = c->conf->catalog->items[i - 1];
    char what[300];
    snprintf(what, sizeof what, "dataset '%s'", name);
    hp_ds_type type = HP_DS_MEMORY;
    HP_TRY(check_entry(k, e, what, &type, err));
    d = make_def(c, name, type, hp__tree_copy(e), k);
  } else {
    size_t ns = max_segs(c);
    size_t *starts = hp__xmalloc(2 * ns * sizeof *starts), *lens = starts + ns;
    const pattern *p = match_any(c, name, starts, lens);
    int rc = HP_OK;
    d = p ? from_pattern(c, p, name, starts, lens, &rc, err)
          : store_def(c, name);
    free(starts);
    HP_TRY(rc);
  }
  hp__map_put(c->cache, name, d);
  *out = d;
  return HP_OK;
}

/* params: names and `parameters` are not catalog datasets: 0. */
int hp__catalog_defines(hp_catalog *c, const char *name) {
  if (is_param(name))
    return 0;
  if (hp__map_has(c->explicit, name))
    return 1;
  size_t ns = max_segs(c);
  size_t *starts = hp__xmalloc(2 * ns * sizeof *starts);
  int found = match_any(c, name, starts, starts + ns) != NULL;
  free(starts);
  return found;
}
