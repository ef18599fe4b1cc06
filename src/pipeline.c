/*
 * pipeline.c - pipelines.yml to a flat list of nodes. Each registered
 * pipeline is expanded at most once (memoized, on demand); a reuse item
 * copies the expansion of the pipeline it names, renaming datasets,
 * parameters and node names by Kedro's modular-pipeline rules, and lists
 * are unioned with identical nodes kept once. Every string and small array
 * of the result lives in one arena owned by the returned pipeline, and
 * node names are checked with a hash set, so 10^6 nodes expand in linear
 * time with few allocations.
 */
#include "pipeline.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "mem.h"

#define MAX_DEPTH 256 /* pipelines nested in pipelines */
#define CHUNK     (1u << 20)

/* ---- arena -------------------------------------------------------------- */

typedef struct chunk {
  struct chunk *next;
  _Alignas(16) unsigned char data[];
} chunk;

typedef struct arena {
  chunk *head;
  unsigned char *cur, *end;
} arena;

static void *aalloc(arena *a, size_t n) {
  n = n ? (n + 15) & ~(size_t)15 : 16;
  if (n > CHUNK / 4) { /* big: a chunk of its own, the current one stays */
    chunk *c = hp__xmalloc(sizeof *c + n);
    c->next = a->head ? a->head->next : NULL;
    if (a->head)
      a->head->next = c;
    else
      a->head = c;
    return c->data;
  }
  if (!a->cur || (size_t)(a->end - a->cur) < n) {
    chunk *c = hp__xmalloc(sizeof *c + CHUNK);
    c->next = a->head;
    a->head = c;
    a->cur = c->data;
    a->end = c->data + CHUNK;
  }
  void *p = a->cur;
  a->cur += n;
  return p;
}

static void arena_free(arena *a) {
  for (chunk *c = a->head, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  memset(a, 0, sizeof *a);
}

static char *astrdup(arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = aalloc(a, n);
  memcpy(p, s, n);
  return p;
}

/* x + sep + y */
static char *acat(arena *a, const char *x, const char *sep, const char *y) {
  size_t nx = strlen(x), ns = strlen(sep), ny = strlen(y);
  char *p = aalloc(a, nx + ns + ny + 1);
  memcpy(p, x, nx);
  memcpy(p + nx, sep, ns);
  memcpy(p + nx + ns, y, ny + 1);
  return p;
}

/* ---- the result --------------------------------------------------------- */

/* A built pipeline: hp__pipeline_free takes only these, never an
 * hp_pipeline assembled by hand. */
typedef struct pipe_impl {
  hp_pipeline pub; /* first: hp__pipeline_free casts back */
  arena mem;
} pipe_impl;

void hp__pipeline_free(hp_pipeline *p) {
  if (!p) return;
  pipe_impl *pi = (pipe_impl *)p;
  free(p->nodes);
  arena_free(&pi->mem);
  free(pi);
}

int hp__is_param(const char *ds) {
  return strncmp(ds, "params:", 7) == 0 || strcmp(ds, "parameters") == 0;
}

/* ---- node lists with a name index --------------------------------------- */

typedef struct nlist {
  hp_node *v;
  size_t n, cap;
  /* Name index, for lists built with add_node: open addressing over
   * (hash tag << 32 | index), 0 = empty; hs[] holds each node's hash. */
  uint64_t *slot, *hs;
  size_t scap, hcap;
} nlist;

static uint64_t hash_str(const char *s) {
  return hp__hash64(s, strlen(s), HP_HASH_SEED);
}

static uint64_t tag_of(uint64_t h) {
  return (h >> 32) | 1;
}

/* Index of the node called name, or -1 with *at the free slot. */
static long nl_find(const nlist *l, const char *name, uint64_t h, size_t *at) {
  size_t mask = l->scap - 1, i = (size_t)h & mask;
  for (;; i = (i + 1) & mask) {
    uint64_t s = l->slot[i];
    if (!s) break;
    size_t k = (size_t)(uint32_t)s;
    if ((s >> 32) == tag_of(h) && strcmp(l->v[k].name, name) == 0)
      return (long)k;
  }
  *at = i;
  return -1;
}

static void nl_rehash(nlist *l, size_t need) {
  size_t cap = 64;
  while (cap * 7 < need * 10)
    cap *= 2;
  if (cap <= l->scap) return;
  free(l->slot);
  l->slot = hp__xcalloc(cap, sizeof *l->slot);
  l->scap = cap;
  for (size_t k = 0; k < l->n; k++) { /* names are unique: no compares */
    size_t i = (size_t)l->hs[k] & (cap - 1);
    while (l->slot[i])
      i = (i + 1) & (cap - 1);
    l->slot[i] = (tag_of(l->hs[k]) << 32) | (uint32_t)k;
  }
}

static void nl_push(nlist *l, const hp_node *nd) {
  hp__grow(&l->v, &l->cap, l->n + 1, sizeof *l->v);
  l->v[l->n++] = *nd;
}

static void nl_free(nlist *l) {
  free(l->v);
  free(l->slot);
  free(l->hs);
  memset(l, 0, sizeof *l);
}

/* ---- context and messages ----------------------------------------------- */

typedef struct pdef {
  const char *name;
  const hp_tree *key; /* the name, for messages */
  const hp_tree *val; /* its list */
  int state;          /* 0 new, 1 expanding, 2 done */
  nlist nodes;
} pdef;

typedef struct ctx {
  arena *a;
  pdef *defs;
  size_t ndefs;
  hp_map *byname; /* pipeline name -> index + 1 */
  size_t stack[MAX_DEPTH];
  size_t depth;
  hp_error *err;
} ctx;

/* "file:line:col: " + message; the location is left out when t has none. */
static int failv(ctx *c, int code, const hp_tree *t, const char *fmt,
                 va_list ap) {
  char msg[sizeof c->err->msg];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (!t || !t->file) return hp__fail(c->err, code, "%s", msg);
  char loc[256];
  return hp__fail(c->err, code, "%s: %s", hp__tree_loc(t, loc, sizeof loc),
                  msg);
}

static int fail(ctx *c, const hp_tree *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(ctx *c, const hp_tree *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = failv(c, HP_ECONFIG, t, fmt, ap);
  va_end(ap);
  return rc;
}

static int fail_graph(ctx *c, const hp_tree *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_graph(ctx *c, const hp_tree *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = failv(c, HP_EGRAPH, t, fmt, ap);
  va_end(ap);
  return rc;
}

/* Who is at fault, formatted only when a message is made: "pipeline 'p':
 * node 'n': " or "pipeline 'p': reuse of pipeline 'q': ". */
typedef struct culprit {
  const char *pipeline, *node, *reuse;
} culprit;

static int failw(ctx *c, const hp_tree *t, const culprit *w, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
static int failw(ctx *c, const hp_tree *t, const culprit *w, const char *fmt,
                 ...) {
  char msg[sizeof c->err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (w->node)
    return fail(c, t, "pipeline '%s': node '%s': %s", w->pipeline, w->node,
                msg);
  return fail(c, t, "pipeline '%s': reuse of pipeline '%s': %s", w->pipeline,
              w->reuse, msg);
}

static int fail_unknown(ctx *c, const hp_tree *at, const char *who,
                        const char *name) {
  hp_buf b = {0};
  if (c->ndefs == 0) {
    hp__buf_puts(&b, "no pipelines are defined");
  } else {
    const char **v = hp__xmalloc(c->ndefs * sizeof *v);
    for (size_t i = 0; i < c->ndefs; i++)
      v[i] = c->defs[i].name;
    size_t n = hp__strs_sort_unique(v, c->ndefs);
    hp__buf_puts(&b, "known pipelines: ");
    hp__buf_put_names(&b, v, n);
    free(v);
  }
  int rc = fail(c, at, "%sunknown pipeline '%s'; %s", who, name, b.data);
  hp__buf_free(&b);
  return rc;
}

/* [A-Za-z0-9_.-]+ */
static int valid_name(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
      return 0;
  return 1;
}

#define NAME_RULE "it must contain only letters, digits, '_', '-' and '.'"

/* The text of a non-null scalar, else NULL. */
static const char *text_of(const hp_tree *t) {
  if (!t || t->kind != HP_TREE_SCALAR || hp__tree_is_null(t)) return NULL;
  return t->text;
}

/* ---- small checks over a node's names ----------------------------------- */

/* First name of v[0..n) that appears twice, or NULL. Quadratic for the
 * usual handful of names, hashed beyond. */
static const char *first_repeat(const hp_io *v, size_t n) {
  if (n < 32) {
    for (size_t i = 1; i < n; i++)
      for (size_t j = 0; j < i; j++)
        if (strcmp(v[i].ds, v[j].ds) == 0) return v[i].ds;
    return NULL;
  }
  hp_map *m = hp__map_new();
  const char *dup = NULL;
  for (size_t i = 0; i < n && !dup; i++)
    if (hp__map_put(m, v[i].ds, (void *)1)) dup = v[i].ds;
  hp__map_free(m, NULL);
  return dup;
}

/* First name of a[] that is also in b[], or NULL. */
static const char *first_common(const hp_io *a, size_t na, const hp_io *b,
                                size_t nb) {
  if (na * nb < 256) {
    for (size_t i = 0; i < na; i++)
      for (size_t j = 0; j < nb; j++)
        if (strcmp(a[i].ds, b[j].ds) == 0) return a[i].ds;
    return NULL;
  }
  hp_map *m = hp__map_new();
  for (size_t j = 0; j < nb; j++)
    hp__map_put(m, b[j].ds, (void *)1);
  const char *hit = NULL;
  for (size_t i = 0; i < na && !hit; i++)
    if (hp__map_has(m, a[i].ds)) hit = a[i].ds;
  hp__map_free(m, NULL);
  return hit;
}

/* Sorted, unique copy of two sorted unique tag lists. */
static char **merge_tags(arena *a, char **x, size_t nx, char **y, size_t ny,
                         size_t *n) {
  char **v = aalloc(a, (nx + ny) * sizeof *v);
  size_t i = 0, j = 0, k = 0;
  while (i < nx || j < ny) {
    int c = i == nx ? 1 : j == ny ? -1 : strcmp(x[i], y[j]);
    if (c <= 0)
      v[k++] = x[i++];
    else
      v[k++] = y[j++];
    if (c == 0) j++;
  }
  *n = k;
  return v;
}

/* ---- parsing ------------------------------------------------------------ */

/* tags: TAG | [TAG, ...] into a sorted unique arena list. */
static int parse_tags(ctx *c, const hp_tree *t, const culprit *w, char ***out,
                      size_t *nout) {
  *out = NULL;
  *nout = 0;
  if (hp__tree_is_null(t)) return HP_OK;
  size_t n = t->kind == HP_TREE_SEQ ? t->n : 1;
  if (t->kind != HP_TREE_SEQ && t->kind != HP_TREE_SCALAR)
    return failw(c, t, w, "'tags' must be a tag or a list of tags");
  const char **v = aalloc(c->a, (n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    const hp_tree *it = t->kind == HP_TREE_SEQ ? t->items[i] : t;
    const char *s = text_of(it);
    if (!s) return failw(c, it, w, "'tags' must be a tag or a list of tags");
    if (!valid_name(s))
      return failw(c, it, w, "'%s' is not a valid tag: " NAME_RULE, s);
    v[i] = s;
  }
  n = hp__strs_sort_unique(v, n);
  char **tags = aalloc(c->a, (n ? n : 1) * sizeof *tags);
  for (size_t i = 0; i < n; i++)
    tags[i] = astrdup(c->a, v[i]);
  *out = tags;
  *nout = n;
  return HP_OK;
}

/* inputs/outputs: NAME | [NAME, ...] | {arg: NAME, ...}. */
static int parse_io(ctx *c, const hp_tree *t, const char *what,
                    const culprit *w, hp_io **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  if (hp__tree_is_null(t)) return HP_OK;
  size_t n = t->kind == HP_TREE_SCALAR ? 1 : t->n;
  if (t->kind != HP_TREE_SCALAR && t->kind != HP_TREE_SEQ &&
      t->kind != HP_TREE_MAP)
    return failw(
        c, t, w,
        "'%s' must be a dataset name, a list of names or a mapping of names",
        what);
  hp_io *v = aalloc(c->a, (n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    const hp_tree *it = t->kind == HP_TREE_SCALAR ? t : t->items[i];
    const char *s = text_of(it);
    if (!s || !*s)
      return failw(c, it, w, "'%s' must name datasets with non-empty strings",
                   what);
    if (strcmp(s, "params:") == 0)
      return failw(c, it, w, "empty parameter name 'params:' in '%s'", what);
    v[i].ds = astrdup(c->a, s);
    v[i].arg = NULL;
    if (t->kind == HP_TREE_MAP) {
      if (!*t->keys[i]->text)
        return failw(c, t->keys[i], w, "'%s' has an empty name", what);
      v[i].arg = astrdup(c->a, t->keys[i]->text);
    }
  }
  *out = v;
  *nout = n;
  return HP_OK;
}

/* Index of k in keys[0..n), or n. */
static size_t key_index(const char *k, const char *const *keys, size_t n) {
  for (size_t j = 0; j < n; j++)
    if (keys[j][0] == k[0] && strcmp(keys[j], k) == 0) return j;
  return n;
}

/* The value of key in a map item (one pass, no index), or NULL. */
static const hp_tree *item_get(const hp_tree *m, const char *key) {
  for (size_t i = 0; i < m->n; i++)
    if (m->keys[i]->text[0] == key[0] && strcmp(m->keys[i]->text, key) == 0)
      return m->items[i];
  return NULL;
}

static const char *const node_keys[] = {"node",        "func",    "inputs",
                                        "outputs",     "tags",    "args",
                                        "partitioned", "retries", "namespace"};
#define NODE_KEYS \
  "node, func, inputs, outputs, tags, args, partitioned, retries, namespace"

static int parse_node(ctx *c, const char *pname, const hp_tree *m,
                      hp_node *nd) {
  memset(nd, 0, sizeof *nd);
  nd->where = m;
  nd->retries = -1;
  const hp_tree *val[9] = {0};
  for (size_t i = 0; i < m->n; i++) {
    const char *k = m->keys[i]->text;
    size_t j = key_index(k, node_keys, 9);
    if (j == 9) {
      const char *nm = text_of(item_get(m, "node"));
      return fail(
          c, m->keys[i],
          "pipeline '%s': node '%s': unknown key '%s' (allowed: " NODE_KEYS ")",
          pname, nm ? nm : "?", k);
    }
    val[j] = m->items[i];
  }
  const char *name = text_of(val[0]);
  if (!name)
    return fail(c, val[0] ? val[0] : m,
                "pipeline '%s': a node needs a name ('node: NAME')", pname);
  if (!valid_name(name))
    return fail(c, val[0],
                "pipeline '%s': '%s' is not a valid node name: " NAME_RULE,
                pname, name);
  const culprit *w = &(culprit){pname, name, NULL};
  const char *func = text_of(val[1]);
  if (!func || !*func)
    return failw(c, val[1] ? val[1] : m, w,
                 "'func' (the function to run) is required");
  nd->func = astrdup(c->a, func);
  if (val[8] && !hp__tree_is_null(val[8])) {
    const char *ns = text_of(val[8]);
    if (!ns || !valid_name(ns))
      return failw(c, val[8], w, "'namespace' must be a name: " NAME_RULE);
    nd->ns = astrdup(c->a, ns);
    nd->name = acat(c->a, ns, ".", name);
  } else {
    nd->name = astrdup(c->a, name);
  }
  HP_TRY(parse_io(c, val[2], "inputs", w, &nd->in, &nd->nin));
  HP_TRY(parse_io(c, val[3], "outputs", w, &nd->out, &nd->nout));
  if (nd->nin == 0 && nd->nout == 0)
    return failw(c, m, w, "a node needs inputs or outputs (it has neither)");
  for (size_t i = 0; i < nd->nout; i++)
    if (hp__is_param(nd->out[i].ds))
      return failw(c, val[3], w,
                   "output '%s' is a parameter; parameters cannot be outputs",
                   nd->out[i].ds);
  const char *s = first_repeat(nd->out, nd->nout);
  if (s) return failw(c, val[3], w, "output '%s' is listed more than once", s);
  s = first_common(nd->in, nd->nin, nd->out, nd->nout);
  if (s) return failw(c, val[3], w, "'%s' is both an input and an output", s);
  HP_TRY(parse_tags(c, val[4], w, &nd->tags, &nd->ntags));
  if (val[5] && !hp__tree_is_null(val[5])) {
    if (val[5]->kind != HP_TREE_MAP)
      return failw(c, val[5], w, "'args' must be a mapping");
    nd->args = val[5];
  }
  if (val[6] && hp_tree_bool(val[6], NULL, 0, &nd->partitioned) != HP_OK)
    return failw(c, val[6], w, "'partitioned' must be true or false");
  if (val[7]) {
    int64_t r;
    if (hp_tree_i64(val[7], NULL, -1, &r) != HP_OK || r > INT_MAX ||
        (r < 0 && !hp__tree_is_null(val[7])))
      return failw(c, val[7], w, "'retries' must be a non-negative integer");
    nd->retries = (int)r;
  }
  return HP_OK;
}

/* ---- reuse: namespaces and renaming ------------------------------------- */

enum { R_IN, R_OUT, R_PARAM };
static const char *const rkind_name[] = {"inputs", "outputs", "parameters"};

typedef struct ren {
  const char *from, *to;
  int kind;
  int hit_in, hit_out;
  const hp_tree *where;
} ren;

typedef struct reuse {
  const hp_tree *item;
  const char *target; /* the reused pipeline */
  const char *ns;     /* arena, or NULL */
  ren *r;
  size_t nr;
  hp_map *byfrom; /* from -> ren * */
  char **tags;
  size_t ntags;
} reuse;

static void reuse_free(reuse *u) {
  free(u->r);
  hp__map_free(u->byfrom, NULL);
}

/* "x" or "params:x" to "params:x" (arena). */
static const char *as_param(arena *a, const char *s) {
  return strncmp(s, "params:", 7) == 0 ? s : acat(a, "params:", "", s);
}

static int add_ren(ctx *c, reuse *u, size_t *cap, int kind, const culprit *w,
                   const hp_tree *from_t, const hp_tree *to_t) {
  const char *from = text_of(from_t), *to = text_of(to_t);
  const char *what = rkind_name[kind];
  if (!from || !*from || !to || !*to)
    return failw(c, !from || !*from ? from_t : to_t, w,
                 "'%s' must map names to non-empty names", what);
  if (kind == R_IN && hp__is_param(from))
    return failw(
        c, from_t, w,
        "'%s' under 'inputs': parameters must be mapped under 'parameters'",
        from);
  if (kind == R_PARAM) {
    if (strcmp(from, "parameters") == 0 || strcmp(to, "parameters") == 0)
      return failw(c, from_t, w,
                   "'parameters' (all parameters) cannot be mapped");
    from = as_param(c->a, from);
    to = as_param(c->a, to);
    if (strcmp(from, "params:") == 0 || strcmp(to, "params:") == 0)
      return failw(c, from_t, w, "empty parameter name under 'parameters'");
  } else {
    to = astrdup(c->a, to);
  }
  if (hp__map_has(u->byfrom, from))
    return failw(c, from_t, w, "'%s' is mapped more than once", from);
  hp__grow(&u->r, cap, u->nr + 1, sizeof *u->r);
  u->r[u->nr++] = (ren){from, to, kind, 0, 0, from_t};
  hp__map_put(u->byfrom, from, (void *)(uintptr_t)u->nr);
  return HP_OK;
}

/* inputs/outputs/parameters: NAME | [NAME, ...] | {old: new, ...}. */
static int parse_mapping(ctx *c, reuse *u, size_t *cap, int kind,
                         const culprit *w, const hp_tree *t) {
  if (hp__tree_is_null(t)) return HP_OK;
  if (t->kind == HP_TREE_SCALAR) return add_ren(c, u, cap, kind, w, t, t);
  if (t->kind != HP_TREE_SEQ && t->kind != HP_TREE_MAP)
    return failw(c, t, w,
                 "'%s' must be a name, a list of names or a mapping of names "
                 "to new names",
                 rkind_name[kind]);
  for (size_t i = 0; i < t->n; i++) {
    const hp_tree *from = t->kind == HP_TREE_MAP ? t->keys[i] : t->items[i];
    HP_TRY(add_ren(c, u, cap, kind, w, from, t->items[i]));
  }
  return HP_OK;
}

static const char *const reuse_keys[] = {"pipeline", "namespace",  "inputs",
                                         "outputs",  "parameters", "tags"};
#define REUSE_KEYS "pipeline, namespace, inputs, outputs, parameters, tags"

static int parse_reuse(ctx *c, const char *pname, const hp_tree *m, reuse *u) {
  memset(u, 0, sizeof *u);
  u->item = m;
  u->byfrom = hp__map_new();
  const hp_tree *val[6] = {0};
  for (size_t i = 0; i < m->n; i++) {
    const char *k = m->keys[i]->text;
    size_t j = key_index(k, reuse_keys, 6);
    if (j == 6)
      return fail(c, m->keys[i],
                  "pipeline '%s': unknown key '%s' in a pipeline reuse "
                  "(allowed: " REUSE_KEYS ")",
                  pname, k);
    val[j] = m->items[i];
  }
  u->target = text_of(val[0]);
  if (!u->target)
    return fail(c, val[0], "pipeline '%s': 'pipeline' must name a pipeline",
                pname);
  const culprit *w = &(culprit){pname, NULL, u->target};
  if (val[1] && !hp__tree_is_null(val[1])) {
    const char *ns = text_of(val[1]);
    if (!ns || !valid_name(ns))
      return failw(c, val[1], w, "'namespace' must be a name: " NAME_RULE);
    u->ns = astrdup(c->a, ns);
  }
  size_t cap = 0;
  HP_TRY(parse_mapping(c, u, &cap, R_IN, w, val[2]));
  HP_TRY(parse_mapping(c, u, &cap, R_OUT, w, val[3]));
  HP_TRY(parse_mapping(c, u, &cap, R_PARAM, w, val[4]));
  return parse_tags(c, val[5], w, &u->tags, &u->ntags);
}

/* The name of dataset ds inside the reuse. */
static const char *rename_ds(ctx *c, const reuse *u, const char *ds, int out) {
  if (u->nr) {
    uintptr_t k = (uintptr_t)hp__map_get(u->byfrom, ds);
    if (k) {
      ren *e = &u->r[k - 1];
      if (out)
        e->hit_out = 1;
      else
        e->hit_in = 1;
      return e->to;
    }
  }
  if (!u->ns || strcmp(ds, "parameters") == 0) return ds;
  if (strncmp(ds, "params:", 7) == 0) {
    char *p = acat(c->a, u->ns, ".", ds + 7);
    return acat(c->a, "params:", "", p);
  }
  return acat(c->a, u->ns, ".", ds);
}

static hp_io *rename_io(ctx *c, const reuse *u, const hp_io *v, size_t n,
                        int out) {
  if (!n) return NULL;
  hp_io *w = aalloc(c->a, n * sizeof *w);
  for (size_t i = 0; i < n; i++) {
    w[i].arg = v[i].arg;
    w[i].ds = (char *)(uintptr_t)rename_ds(c, u, v[i].ds, out);
  }
  return w;
}

/* Each mapped name must exist in the reused pipeline in the right role:
 * inputs are free inputs, outputs are produced, parameters are read. */
static int check_mapping(ctx *c, const reuse *u, const char *pname) {
  for (int kind = R_IN; kind <= R_PARAM; kind++) {
    const char **bad = NULL;
    const hp_tree *at = NULL;
    size_t nbad = 0;
    for (size_t i = 0; i < u->nr; i++) {
      const ren *e = &u->r[i];
      if (e->kind != kind) continue;
      int ok = kind == R_IN    ? e->hit_in && !e->hit_out
               : kind == R_OUT ? e->hit_out
                               : e->hit_in;
      if (ok) continue;
      if (!bad) bad = hp__xmalloc(u->nr * sizeof *bad);
      if (!at) at = e->where;
      bad[nbad++] = e->from;
    }
    if (!nbad) continue;
    nbad = hp__strs_sort_unique(bad, nbad);
    hp_buf b = {0};
    if (nbad == 1)
      hp__buf_printf(&b, "'%s' is", bad[0]);
    else
      hp__buf_put_names(&b, bad, nbad);
    static const char *const one[] = {"a free input", "an output",
                                      "a parameter used"};
    static const char *const many[] = {"free inputs", "outputs",
                                       "parameters used"};
    int rc = fail(c, at, "pipeline '%s': %s%s not %s %s pipeline '%s'", pname,
                  b.data, nbad == 1 ? "" : " are",
                  nbad == 1 ? one[kind] : many[kind],
                  kind == R_PARAM ? "by" : "of", u->target);
    hp__buf_free(&b);
    free(bad);
    return rc;
  }
  return HP_OK;
}

/* Copies src's nodes into dst, namespaced and renamed by u. */
static int apply_reuse(ctx *c, const char *pname, reuse *u, const nlist *src,
                       nlist *dst) {
  int plain = !u->ns && !u->nr && !u->ntags;
  dst->v = hp__xmalloc((src->n ? src->n : 1) * sizeof *dst->v);
  dst->n = dst->cap = src->n;
  for (size_t i = 0; i < src->n; i++) {
    const hp_node *s = &src->v[i];
    hp_node *t = &dst->v[i];
    *t = *s;
    if (plain) continue;
    if (u->ns) {
      t->name = acat(c->a, u->ns, ".", s->name);
      t->ns = s->ns ? acat(c->a, u->ns, ".", s->ns) : (char *)u->ns;
    }
    if (u->ns || u->nr) {
      t->in = rename_io(c, u, s->in, s->nin, 0);
      t->out = rename_io(c, u, s->out, s->nout, 1);
    }
    if (u->ntags)
      t->tags =
          merge_tags(c->a, s->tags, s->ntags, u->tags, u->ntags, &t->ntags);
  }
  if (!u->nr) return HP_OK;
  HP_TRY(check_mapping(c, u, pname));
  /* Renaming may have joined names within one node. */
  for (size_t i = 0; i < dst->n; i++) {
    const hp_node *t = &dst->v[i];
    const char *s = first_repeat(t->out, t->nout);
    if (s)
      return fail(c, u->item,
                  "pipeline '%s': after renaming, node '%s' writes '%s' twice",
                  pname, t->name, s);
    s = first_common(t->in, t->nin, t->out, t->nout);
    if (s)
      return fail(
          c, u->item,
          "pipeline '%s': after renaming, node '%s' reads and writes '%s'",
          pname, t->name, s);
  }
  return HP_OK;
}

/* ---- union -------------------------------------------------------------- */

static int same_str(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static int same_io(const hp_io *a, size_t na, const hp_io *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (!same_str(a[i].arg, b[i].arg) || strcmp(a[i].ds, b[i].ds) != 0)
      return 0;
  return 1;
}

static int same_node(const hp_node *a, const hp_node *b) {
  if (strcmp(a->func, b->func) != 0 || !same_str(a->ns, b->ns) ||
      a->partitioned != b->partitioned || a->retries != b->retries ||
      !same_io(a->in, a->nin, b->in, b->nin) ||
      !same_io(a->out, a->nout, b->out, b->nout))
    return 0;
  if (a->args == b->args) return 1;
  return a->args && b->args &&
         hp__tree_hash(a->args, HP_HASH_SEED) ==
             hp__tree_hash(b->args, HP_HASH_SEED);
}

/* Adds nd (whose name hashes to h) to l unless an identical node of that
 * name is there (its tags are then merged); a different node of the same
 * name is an error. The caller has made room in l's index. */
static int add_node(ctx *c, const char *pname, nlist *l, const hp_node *nd,
                    uint64_t h) {
  size_t at = 0;
  long k = nl_find(l, nd->name, h, &at);
  if (k < 0) {
    l->slot[at] = (tag_of(h) << 32) | (uint32_t)l->n;
    l->hs[l->n] = h;
    l->v[l->n++] = *nd;
    return HP_OK;
  }
  hp_node *old = &l->v[k];
  if (!same_node(old, nd)) {
    char l1[256], l2[256];
    hp__tree_loc(old->where, l1, sizeof l1);
    hp__tree_loc(nd->where, l2, sizeof l2);
    if (old->where == nd->where)
      return fail_graph(c, nd->where,
                        "pipeline '%s': node names must be unique: '%s' is "
                        "included twice with different datasets (from %s)",
                        pname, nd->name, l1);
    return fail_graph(
        c, nd->where,
        "pipeline '%s': node names must be unique: '%s' (%s and %s)", pname,
        nd->name, l1, l2);
  }
  if (nd->ntags && nd->tags != old->tags)
    old->tags = merge_tags(c->a, old->tags, old->ntags, nd->tags, nd->ntags,
                           &old->ntags);
  return HP_OK;
}

/* Adds v[0..n) to l with add_node. The index slot of each name is
 * prefetched a few nodes ahead: with 10^6 names the table is far larger
 * than the cache, and the probes would otherwise run one miss at a time. */
static int add_all(ctx *c, const char *pname, nlist *l, const hp_node *v,
                   size_t n) {
  enum { AHEAD = 16 };
  if (!n) return HP_OK;
  nl_rehash(l, l->n + n);
  hp__grow(&l->v, &l->cap, l->n + n, sizeof *l->v);
  hp__grow(&l->hs, &l->hcap, l->n + n, sizeof *l->hs);
  size_t mask = l->scap - 1;
  uint64_t ring[AHEAD];
  for (size_t i = 0; i < n && i < AHEAD; i++) {
    ring[i] = hash_str(v[i].name);
    __builtin_prefetch(&l->slot[ring[i] & mask]);
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t h = ring[i % AHEAD];
    if (i + AHEAD < n) {
      uint64_t h2 = hash_str(v[i + AHEAD].name);
      ring[i % AHEAD] = h2;
      __builtin_prefetch(&l->slot[h2 & mask]);
    }
    HP_TRY(add_node(c, pname, l, &v[i], h));
  }
  return HP_OK;
}

/* ---- expansion ---------------------------------------------------------- */

static int expand(ctx *c, size_t di, const hp_tree *from);

/* Index of the pipeline called name, expanded; errors name `from`. */
static int resolve(ctx *c, const char *pname, const hp_tree *at,
                   const char *name, size_t *out) {
  void *v = hp__map_get(c->byname, name);
  if (!v) {
    char who[300];
    snprintf(who, sizeof who, "pipeline '%s': ", pname);
    return fail_unknown(c, at, who, name);
  }
  *out = (size_t)(uintptr_t)v - 1;
  return expand(c, *out, at);
}

/* Node items are parsed into pend and added to out in runs (add_all);
 * references and reuses add their expansions in between. */
static int expand_run(ctx *c, pdef *d, nlist *out, nlist *pend) {
  const hp_tree *list = d->val;
  /* One item: its nodes are unique already, no index needed. */
  int single = list->n == 1;
  for (size_t i = 0; i < list->n; i++) {
    const hp_tree *it = list->items[i];
    const char *ref = it->kind == HP_TREE_SCALAR ? text_of(it) : NULL;
    /* A mapping is a reuse when it names a pipeline, else a node. */
    const hp_tree *pipe_v =
        it->kind == HP_TREE_MAP ? item_get(it, "pipeline") : NULL;
    const hp_tree *node_v =
        it->kind == HP_TREE_MAP ? item_get(it, "node") : NULL;
    if (node_v && pipe_v)
      return fail(c, it,
                  "pipeline '%s': an item has both 'node' and 'pipeline'",
                  d->name);
    if (it->kind == HP_TREE_MAP && !pipe_v) {
      hp_node nd;
      HP_TRY(parse_node(c, d->name, it, &nd));
      nl_push(single ? out : pend, &nd);
      continue;
    }
    HP_TRY(add_all(c, d->name, out, pend->v, pend->n));
    pend->n = 0;
    if (ref) {
      size_t t = 0;
      HP_TRY(resolve(c, d->name, it, ref, &t));
      const nlist *src = &c->defs[t].nodes;
      if (single) {
        reuse none = {0};
        HP_TRY(apply_reuse(c, d->name, &none, src, out));
      } else {
        HP_TRY(add_all(c, d->name, out, src->v, src->n));
      }
    } else if (pipe_v) {
      reuse u;
      int rc = parse_reuse(c, d->name, it, &u);
      size_t t = 0;
      if (rc == HP_OK) rc = resolve(c, d->name, it, u.target, &t);
      nlist tmp = {0};
      if (rc == HP_OK)
        rc =
            apply_reuse(c, d->name, &u, &c->defs[t].nodes, single ? out : &tmp);
      if (rc == HP_OK && !single) rc = add_all(c, d->name, out, tmp.v, tmp.n);
      nl_free(&tmp);
      reuse_free(&u);
      HP_TRY(rc);
    } else {
      return fail(
          c, it,
          "pipeline '%s': each item must be a node ('node: NAME', ...), a "
          "pipeline reuse ('pipeline: NAME', ...) or a pipeline name",
          d->name);
    }
  }
  return add_all(c, d->name, out, pend->v, pend->n);
}

static int expand_items(ctx *c, pdef *d, nlist *out) {
  nlist pend = {0};
  hp__grow(&pend.v, &pend.cap, d->val->n, sizeof *pend.v);
  int rc = expand_run(c, d, out, &pend);
  nl_free(&pend);
  return rc;
}

static int expand(ctx *c, size_t di, const hp_tree *from) {
  pdef *d = &c->defs[di];
  if (d->state == 2) return HP_OK;
  if (d->state == 1) {
    hp_buf b = {0};
    size_t k = 0;
    while (c->stack[k] != di)
      k++;
    for (; k < c->depth; k++)
      hp__buf_printf(&b, "%s -> ", c->defs[c->stack[k]].name);
    hp__buf_puts(&b, d->name);
    int rc =
        fail(c, from, "pipeline '%s' includes itself: %s", d->name, b.data);
    hp__buf_free(&b);
    return rc;
  }
  if (c->depth == MAX_DEPTH)
    return fail(c, from, "pipelines are nested more than %d deep", MAX_DEPTH);
  if (!valid_name(d->name))
    return fail(c, d->key, "'%s' is not a valid pipeline name: " NAME_RULE,
                d->name);
  if (!hp__tree_is_null(d->val) && d->val->kind != HP_TREE_SEQ)
    return fail(c, d->val,
                "pipeline '%s' must be a list of nodes and pipelines", d->name);
  d->state = 1;
  c->stack[c->depth++] = di;
  int rc = HP_OK;
  if (d->val && d->val->kind == HP_TREE_SEQ) rc = expand_items(c, d, &d->nodes);
  c->depth--;
  /* d may not be used after a nested failure: the error is final. */
  c->defs[di].state = 2;
  return rc;
}

int hp__pipeline_build(const hp_tree *pipelines, const char *const *names,
                       size_t nnames, hp_pipeline **out, hp_error *err) {
  *out = NULL;
  static const char *const dflt[] = {"__default__"};
  if (!names || nnames == 0) {
    names = dflt;
    nnames = 1;
  }
  pipe_impl *pi = hp__xcalloc(1, sizeof *pi);
  ctx c = {.a = &pi->mem, .err = err};
  int rc = HP_OK;
  if (pipelines && !hp__tree_is_null(pipelines) &&
      pipelines->kind != HP_TREE_MAP)
    rc = fail(
        &c, pipelines,
        "'pipelines' must be a mapping of pipeline names to lists of nodes");
  c.byname = hp__map_new();
  if (rc == HP_OK && pipelines && pipelines->kind == HP_TREE_MAP) {
    c.ndefs = pipelines->n;
    c.defs = hp__xcalloc(c.ndefs ? c.ndefs : 1, sizeof *c.defs);
    for (size_t i = 0; i < c.ndefs; i++) {
      c.defs[i].key = pipelines->keys[i];
      c.defs[i].name = pipelines->keys[i]->text;
      c.defs[i].val = pipelines->items[i];
      hp__map_put(c.byname, c.defs[i].name, (void *)(uintptr_t)(i + 1));
    }
  }
  nlist all = {0};
  for (size_t k = 0; k < nnames && rc == HP_OK; k++) {
    void *v = hp__map_get(c.byname, names[k]);
    if (!v) {
      rc = fail_unknown(&c, pipelines, "", names[k]);
      break;
    }
    size_t di = (size_t)(uintptr_t)v - 1;
    rc = expand(&c, di, c.defs[di].key);
    if (rc != HP_OK) break;
    if (nnames == 1) { /* the expansion is the result: take it */
      all = c.defs[di].nodes;
      memset(&c.defs[di].nodes, 0, sizeof all);
    } else {
      rc = add_all(&c, names[k], &all, c.defs[di].nodes.v, c.defs[di].nodes.n);
    }
  }
  for (size_t i = 0; i < c.ndefs; i++)
    nl_free(&c.defs[i].nodes);
  free(c.defs);
  hp__map_free(c.byname, NULL);
  free(all.slot);
  free(all.hs);
  if (rc != HP_OK) {
    free(all.v);
    arena_free(&pi->mem);
    free(pi);
    return rc;
  }
  pi->pub.nodes = all.v;
  pi->pub.n = all.n;
  *out = &pi->pub;
  return HP_OK;
}
