/*
 * graph.c - the dataset/node graph of a flat pipeline. Dataset names are
 * interned once (the names themselves stay borrowed from the pipeline);
 * readers, writers and producers are kept as CSR arrays, so validation,
 * the Kahn-layer order, Kedro's filters and priorities are linear (plus
 * sorting each layer by name). Every walk is iterative: a chain of 10^6
 * nodes needs no deep stack.
 */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define TOKEN(i)   ((void *)(uintptr_t)((size_t)(i) + 1))
#define UNTOKEN(v) ((int32_t)((uintptr_t)(v)-1))

/* ---- helpers ------------------------------------------------------------ */

/* A node for sorting by name: the first 8 bytes as a big-endian integer
 * decide most comparisons without touching the string. */
typedef struct named {
  uint64_t key;
  const char *name;
  int32_t idx;
} named;

static uint64_t prefix_key(const char *s) {
  uint64_t k = 0;
  int i = 0;
  for (; i < 8 && s[i]; i++)
    k = (k << 8) | (unsigned char)s[i];
  return i ? k << (8 * (8 - i)) : 0;
}

static int cmp_named(const void *a, const void *b) {
  const named *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  /* Equal keys: both strings end at the same place within 8 bytes, or
   * both go on. */
  if (x->key & 0xff) {
    int c = strcmp(x->name + 8, y->name + 8);
    if (c) return c;
  }
  return (x->idx > y->idx) - (x->idx < y->idx);
}

static const char *node_name(const hp_graph *g, int32_t i) {
  return g->p->nodes[i].name;
}

/* The graph with its private intern table: open addressing over slots of
 * (32-bit hash tag << 32 | dataset id), sized once from the number of
 * names, so interning allocates nothing per name. */
typedef struct graph_impl {
  hp_graph g;
  uint64_t *slot;
  size_t mask;
} graph_impl;

static int32_t lookup(const graph_impl *gi, const char *name, uint64_t h,
                      size_t *at) {
  uint64_t tag = (h >> 32) | 1;
  size_t i = (size_t)h & gi->mask;
  for (;; i = (i + 1) & gi->mask) {
    uint64_t v = gi->slot[i];
    if (!v) break;
    int32_t id = (int32_t)(uint32_t)v;
    if ((v >> 32) == tag && strcmp(gi->g.dsname[id], name) == 0) return id;
  }
  if (at) *at = i;
  return -1;
}

static uint64_t hash_str(const char *s) {
  return hp__hash64(s, strlen(s), HP_HASH_SEED);
}

static int32_t intern(graph_impl *gi, size_t *cap, const char *name,
                      uint64_t h) {
  size_t at = 0;
  int32_t id = lookup(gi, name, h, &at);
  if (id >= 0) return id;
  hp_graph *g = &gi->g;
  hp__grow(&g->dsname, cap, g->nds + 1, sizeof *g->dsname);
  /* Borrowed from the pipeline, which outlives the graph. */
  g->dsname[g->nds] = (char *)(uintptr_t)name;
  gi->slot[at] = (((h >> 32) | 1) << 32) | (uint32_t)g->nds;
  return (int32_t)g->nds++;
}

/* ---- build ------------------------------------------------------------- */

typedef struct dup_pair {
  const char *ds, *node;
  int32_t idx;
} dup_pair;

static int cmp_dup(const void *a, const void *b) {
  const dup_pair *x = a, *y = b;
  int c = strcmp(x->ds, y->ds);
  if (!c) c = strcmp(x->node, y->node);
  if (!c) c = (x->idx > y->idx) - (x->idx < y->idx);
  return c;
}

/* "outputs ['D', 'E'] are produced by more than one node: D by n2 and n3,
 * E by n3 and n4" (both levels sorted). */
static int fail_dups(const hp_graph *g, const uint8_t *dup, hp_error *err) {
  const hp_pipeline *p = g->p;
  dup_pair *v = NULL;
  size_t nv = 0, cap = 0, nds = 0;
  for (size_t i = 0; i < p->n; i++)
    for (size_t k = g->out_off[i]; k < g->out_off[i + 1]; k++)
      if (dup[g->out_ds[k]]) {
        hp__grow(&v, &cap, nv + 1, sizeof *v);
        v[nv++] =
            (dup_pair){g->dsname[g->out_ds[k]], p->nodes[i].name, (int32_t)i};
      }
  qsort(v, nv, sizeof *v, cmp_dup);
  hp_buf b = {0}, detail = {0};
  hp__buf_puts(&b, "outputs [");
  for (size_t i = 0; i < nv;) {
    size_t j = i;
    while (j < nv && v[j].ds == v[i].ds)
      j++;
    const char *ds = v[i].ds;
    hp__buf_printf(&b, "%s'%s'", nds ? ", " : "", ds);
    hp__buf_printf(&detail, "%s%s by ", nds ? ", " : "", ds);
    for (size_t k = i; k < j; k++)
      hp__buf_printf(&detail, "%s%s",
                     k == i       ? ""
                     : k + 1 == j ? " and "
                                  : ", ",
                     v[k].node);
    nds++;
    i = j;
  }
  hp__buf_printf(&b, "] %s produced by more than one node: %s",
                 nds == 1 ? "is" : "are", detail.data ? detail.data : "");
  int rc = hp__fail(err, HP_EGRAPH, "%s", b.data);
  hp__buf_free(&b);
  hp__buf_free(&detail);
  free(v);
  return rc;
}

/* Unplaced nodes each have an unplaced producer: walking producers from
 * the smallest-named one must revisit a node, which closes a cycle. */
static int fail_cycle(const hp_graph *g, hp_error *err) {
  size_t n = g->nnodes;
  int32_t start = -1;
  for (size_t i = 0; i < n; i++)
    if (g->layer[i] < 0 && (start < 0 || strcmp(node_name(g, (int32_t)i),
                                                node_name(g, start)) < 0))
      start = (int32_t)i;
  int32_t *pos = hp__xmalloc(n * sizeof *pos);
  int32_t *path = hp__xmalloc(n * sizeof *path);
  for (size_t i = 0; i < n; i++)
    pos[i] = -1;
  size_t len = 0;
  int32_t cur = start;
  while (pos[cur] < 0) {
    pos[cur] = (int32_t)len;
    path[len++] = cur;
    int32_t best = -1;
    for (size_t k = g->in_off[cur]; k < g->in_off[cur + 1]; k++) {
      int32_t q = g->producer[g->in_ds[k]];
      if (q >= 0 && g->layer[q] < 0 &&
          (best < 0 || strcmp(node_name(g, q), node_name(g, best)) < 0))
        best = q;
    }
    cur = best; /* never -1: an unplaced node has an unplaced producer */
  }
  /* path[s] feeds path[len-1], which feeds path[len-2], ... path[s]. */
  size_t s = (size_t)pos[cur], m = len - s;
  int32_t *cyc = hp__xmalloc(m * sizeof *cyc);
  cyc[0] = path[s];
  for (size_t k = 1; k < m; k++)
    cyc[k] = path[len - k];
  size_t r = 0;
  for (size_t k = 1; k < m; k++)
    if (strcmp(node_name(g, cyc[k]), node_name(g, cyc[r])) < 0) r = k;
  hp_buf b = {0};
  hp__buf_puts(&b, "pipeline has a cycle: ");
  for (size_t k = 0; k <= m; k++) {
    if (k && k < m && b.len > 600) {
      hp__buf_printf(&b, " -> ... (%zu nodes)", m);
      k = m;
    }
    hp__buf_printf(&b, "%s%s", k ? " -> " : "", node_name(g, cyc[(r + k) % m]));
  }
  int rc = hp__fail(err, HP_EGRAPH, "%s", b.data);
  hp__buf_free(&b);
  free(cyc);
  free(path);
  free(pos);
  return rc;
}

/* Kahn's algorithm, one layer at a time, each layer sorted by name. */
static size_t toposort(hp_graph *g) {
  size_t n = g->nnodes;
  uint32_t *indeg = hp__xcalloc(n ? n : 1, sizeof *indeg);
  for (size_t d = 0; d < g->nds; d++)
    if (g->producer[d] >= 0)
      for (size_t k = g->cons_off[d]; k < g->cons_off[d + 1]; k++)
        indeg[g->cons[k]]++;
  size_t hi = 0;
  for (size_t i = 0; i < n; i++) {
    g->layer[i] = -1;
    if (indeg[i] == 0) g->order[hi++] = (int32_t)i;
  }
  named *tmp = NULL;
  size_t tcap = 0, lo = 0;
  int32_t lay = 0;
  while (lo < hi) {
    size_t w = hi - lo;
    if (w > 1) {
      hp__grow(&tmp, &tcap, w, sizeof *tmp);
      int sorted = 1;
      for (size_t k = 0; k < w; k++) {
        const char *nm = node_name(g, g->order[lo + k]);
        tmp[k] = (named){prefix_key(nm), nm, g->order[lo + k]};
        if (k && sorted && cmp_named(&tmp[k - 1], &tmp[k]) > 0) sorted = 0;
      }
      if (!sorted) {
        qsort(tmp, w, sizeof *tmp, cmp_named);
        for (size_t k = 0; k < w; k++)
          g->order[lo + k] = tmp[k].idx;
      }
    }
    size_t nh = hi;
    for (size_t k = lo; k < hi; k++) {
      int32_t i = g->order[k];
      g->layer[i] = lay;
      for (size_t o = g->out_off[i]; o < g->out_off[i + 1]; o++) {
        int32_t d = g->out_ds[o];
        for (size_t c = g->cons_off[d]; c < g->cons_off[d + 1]; c++)
          if (--indeg[g->cons[c]] == 0) g->order[nh++] = g->cons[c];
      }
    }
    lo = hi;
    hi = nh;
    lay++;
  }
  free(tmp);
  free(indeg);
  return lo;
}

int hp__graph_build(const hp_pipeline *p, hp_graph **out, hp_error *err) {
  *out = NULL;
  size_t n = p->n;
  if (n >= (size_t)INT32_MAX)
    return hp__fail(err, HP_EGRAPH, "pipeline has too many nodes (%zu)", n);
  graph_impl *gi = hp__xcalloc(1, sizeof *gi);
  hp_graph *g = &gi->g;
  g->p = p;
  g->nnodes = n;
  g->in_off = hp__xmalloc((n + 1) * sizeof *g->in_off);
  g->out_off = hp__xmalloc((n + 1) * sizeof *g->out_off);
  size_t nin = 0, nout = 0, dscap = 0;
  for (size_t i = 0; i < n; i++) {
    g->in_off[i] = nin;
    g->out_off[i] = nout;
    nin += p->nodes[i].nin;
    nout += p->nodes[i].nout;
  }
  g->in_off[n] = nin;
  g->out_off[n] = nout;
  if (nin + nout >= (size_t)INT32_MAX / 2) {
    hp__graph_free(g);
    return hp__fail(err, HP_EGRAPH, "pipeline has too many datasets");
  }
  size_t tcap = 16;
  while (tcap < 2 * (nin + nout))
    tcap *= 2;
  gi->slot = hp__xcalloc(tcap, sizeof *gi->slot);
  gi->mask = tcap - 1;
  g->in_ds = hp__xmalloc((nin ? nin : 1) * sizeof *g->in_ds);
  g->out_ds = hp__xmalloc((nout ? nout : 1) * sizeof *g->out_ds);
  /* Names in node order (inputs, then outputs), interned with the table
   * slot of each prefetched a few names ahead: the table outgrows the
   * cache, and probing one miss at a time dominates otherwise. */
  enum { AHEAD = 16 };
  const char **flat = hp__xmalloc((nin + nout + 1) * sizeof *flat);
  int32_t *ids = hp__xmalloc((nin + nout + 1) * sizeof *ids);
  size_t nf = 0;
  for (size_t i = 0; i < n; i++) {
    const hp_node *nd = &p->nodes[i];
    for (size_t j = 0; j < nd->nin; j++)
      flat[nf++] = nd->in[j].ds;
    for (size_t j = 0; j < nd->nout; j++)
      flat[nf++] = nd->out[j].ds;
  }
  uint64_t ring[AHEAD];
  for (size_t k = 0; k < nf && k < AHEAD; k++) {
    ring[k] = hash_str(flat[k]);
    __builtin_prefetch(&gi->slot[ring[k] & gi->mask]);
  }
  for (size_t k = 0; k < nf; k++) {
    uint64_t h = ring[k % AHEAD];
    if (k + AHEAD < nf) {
      uint64_t h2 = hash_str(flat[k + AHEAD]);
      ring[k % AHEAD] = h2;
      __builtin_prefetch(&gi->slot[h2 & gi->mask]);
    }
    ids[k] = intern(gi, &dscap, flat[k], h);
  }
  nf = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t k = g->in_off[i]; k < g->in_off[i + 1]; k++)
      g->in_ds[k] = ids[nf++];
    for (size_t k = g->out_off[i]; k < g->out_off[i + 1]; k++)
      g->out_ds[k] = ids[nf++];
  }
  free(ids);
  free(flat);
  size_t nds = g->nds;
  g->producer = hp__xmalloc((nds ? nds : 1) * sizeof *g->producer);
  for (size_t d = 0; d < nds; d++)
    g->producer[d] = -1;
  uint8_t *dup = NULL;
  for (size_t i = 0; i < n; i++)
    for (size_t k = g->out_off[i]; k < g->out_off[i + 1]; k++) {
      int32_t d = g->out_ds[k];
      if (g->producer[d] < 0) {
        g->producer[d] = (int32_t)i;
      } else {
        if (!dup) dup = hp__xcalloc(nds, 1);
        dup[d] = 1;
      }
    }
  if (dup) {
    int rc = fail_dups(g, dup, err);
    free(dup);
    hp__graph_free(g);
    return rc;
  }

  /* Consumers, each once per dataset, ascending (nodes are visited in
   * order, so a repeat is always the last one recorded). */
  g->cons_off = hp__xcalloc(nds + 1, sizeof *g->cons_off);
  int32_t *last = hp__xmalloc((nds ? nds : 1) * sizeof *last);
  for (size_t d = 0; d < nds; d++)
    last[d] = -1;
  for (size_t i = 0; i < n; i++)
    for (size_t k = g->in_off[i]; k < g->in_off[i + 1]; k++) {
      int32_t d = g->in_ds[k];
      if (last[d] != (int32_t)i) {
        last[d] = (int32_t)i;
        g->cons_off[d + 1]++;
      }
    }
  for (size_t d = 0; d < nds; d++)
    g->cons_off[d + 1] += g->cons_off[d];
  g->cons =
      hp__xmalloc((g->cons_off[nds] ? g->cons_off[nds] : 1) * sizeof *g->cons);
  size_t *fill = hp__xmalloc((nds ? nds : 1) * sizeof *fill);
  for (size_t d = 0; d < nds; d++) {
    fill[d] = g->cons_off[d];
    last[d] = -1;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t k = g->in_off[i]; k < g->in_off[i + 1]; k++) {
      int32_t d = g->in_ds[k];
      if (last[d] != (int32_t)i) {
        last[d] = (int32_t)i;
        g->cons[fill[d]++] = (int32_t)i;
      }
    }
  free(fill);
  free(last);

  g->order = hp__xmalloc((n ? n : 1) * sizeof *g->order);
  g->layer = hp__xmalloc((n ? n : 1) * sizeof *g->layer);
  if (toposort(g) != n) {
    int rc = fail_cycle(g, err);
    hp__graph_free(g);
    return rc;
  }
  *out = g;
  return HP_OK;
}

void hp__graph_free(hp_graph *g) {
  if (!g) return;
  free(g->dsname);
  free(g->producer);
  free(g->in_off);
  free(g->in_ds);
  free(g->out_off);
  free(g->out_ds);
  free(g->cons_off);
  free(g->cons);
  free(g->order);
  free(g->layer);
  free(((graph_impl *)g)->slot);
  free(g);
}

int32_t hp__graph_ds(const hp_graph *g, const char *name) {
  const graph_impl *gi = (const graph_impl *)g;
  return lookup(gi, name, hash_str(name), NULL);
}

/* ---- filters ------------------------------------------------------------ */

/* Marks everything downstream (or upstream) of the nodes on the stack,
 * which are already marked in sel. */
static void walk(const hp_graph *g, uint8_t *sel, int32_t *stack, size_t sp,
                 int down) {
  while (sp) {
    int32_t i = stack[--sp];
    if (down) {
      for (size_t o = g->out_off[i]; o < g->out_off[i + 1]; o++) {
        int32_t d = g->out_ds[o];
        for (size_t c = g->cons_off[d]; c < g->cons_off[d + 1]; c++)
          if (!sel[g->cons[c]]) {
            sel[g->cons[c]] = 1;
            stack[sp++] = g->cons[c];
          }
      }
    } else {
      for (size_t k = g->in_off[i]; k < g->in_off[i + 1]; k++) {
        int32_t q = g->producer[g->in_ds[k]];
        if (q >= 0 && !sel[q]) {
          sel[q] = 1;
          stack[sp++] = q;
        }
      }
    }
  }
}

static void push(uint8_t *sel, int32_t *stack, size_t *sp, int32_t i) {
  if (!sel[i]) {
    sel[i] = 1;
    stack[(*sp)++] = i;
  }
}

/* Resolves the names of the three name filters: want maps each distinct
 * requested name to a slot of at[], which receives its node index (one
 * pass over the nodes). Unknown names are an error; "did you mean" lists
 * nodes whose name ends in ".<unknown>". */
static int find_names(const hp_graph *g, hp_map *want, int32_t *at,
                      hp_error *err) {
  for (size_t i = 0; i < g->nnodes; i++) {
    void *v = hp__map_get(want, node_name(g, (int32_t)i));
    if (v) at[UNTOKEN(v)] = (int32_t)i;
  }
  const char **bad = NULL;
  size_t nbad = 0, cap = 0, it = 0;
  const char *key;
  void *val;
  while (hp__map_next(want, &it, &key, &val))
    if (at[UNTOKEN(val)] < 0) {
      hp__grow(&bad, &cap, nbad + 1, sizeof *bad);
      bad[nbad++] = key;
    }
  if (!nbad) return HP_OK;
  nbad = hp__strs_sort_unique(bad, nbad);
  hp_map *badset = hp__map_new();
  for (size_t k = 0; k < nbad; k++)
    hp__map_put(badset, bad[k], TOKEN(k));
  const char **sug = NULL;
  size_t nsug = 0, scap = 0;
  for (size_t i = 0; i < g->nnodes; i++) {
    const char *nm = node_name(g, (int32_t)i);
    for (const char *dot = strchr(nm, '.'); dot; dot = strchr(dot + 1, '.'))
      if (hp__map_has(badset, dot + 1)) {
        hp__grow(&sug, &scap, nsug + 1, sizeof *sug);
        sug[nsug++] = nm;
        break;
      }
  }
  hp__map_free(badset, NULL);
  nsug = hp__strs_sort_unique(sug, nsug);
  hp_buf b = {0};
  hp__buf_puts(&b, "pipeline does not contain nodes named ");
  hp__buf_put_names(&b, bad, nbad);
  if (nsug) {
    hp__buf_puts(&b, " (did you mean ");
    hp__buf_put_names(&b, sug, nsug);
    hp__buf_puts(&b, "?)");
  }
  int rc = hp__fail(err, HP_EUSAGE, "%s", b.data);
  hp__buf_free(&b);
  free(sug);
  free(bad);
  return rc;
}

static int check_datasets(const hp_graph *g, const hp_filter *f,
                          hp_error *err) {
  const char **bad = NULL;
  size_t nbad = 0, cap = 0;
  for (int l = 0; l < 2; l++) {
    const char *const *v = l ? f->to_outputs : f->from_inputs;
    size_t nv = l ? f->nto_outputs : f->nfrom_inputs;
    for (size_t k = 0; k < nv; k++)
      if (hp__graph_ds(g, v[k]) < 0) {
        hp__grow(&bad, &cap, nbad + 1, sizeof *bad);
        bad[nbad++] = v[k];
      }
  }
  if (!nbad) return HP_OK;
  nbad = hp__strs_sort_unique(bad, nbad);
  hp_buf b = {0};
  hp__buf_puts(&b, "pipeline does not contain datasets named ");
  hp__buf_put_names(&b, bad, nbad);
  int rc = hp__fail(err, HP_EUSAGE, "%s", b.data);
  hp__buf_free(&b);
  free(bad);
  return rc;
}

/* Selects nodes whose namespace is one of the given ones or below it;
 * each given namespace must match some node. */
static int select_ns(const hp_graph *g, const hp_filter *f, uint8_t *sel,
                     hp_error *err) {
  hp_map *want = hp__map_new();
  uint8_t *hit = hp__xcalloc(f->nnamespaces, 1);
  for (size_t k = 0; k < f->nnamespaces; k++)
    hp__map_put(want, f->namespaces[k], TOKEN(k));
  hp_buf pre = {0};
  for (size_t i = 0; i < g->nnodes; i++) {
    const char *ns = g->p->nodes[i].ns;
    if (!ns || !*ns) continue;
    /* ns itself, then each dotted prefix: "a.b.c", "a.b", "a". */
    pre.len = 0;
    hp__buf_puts(&pre, ns);
    for (;;) {
      void *v = hp__map_get(want, pre.data);
      if (v) {
        hit[UNTOKEN(v)] = 1;
        sel[i] = 1;
      }
      char *dot = strrchr(pre.data, '.');
      if (!dot) break;
      *dot = '\0';
    }
  }
  hp__buf_free(&pre);
  /* Repeated names share one map slot: mark every copy that matched. */
  for (size_t k = 0; k < f->nnamespaces; k++)
    if (!hit[k] && hit[UNTOKEN(hp__map_get(want, f->namespaces[k]))])
      hit[k] = 1;
  const char **bad = NULL;
  size_t nbad = 0;
  for (size_t k = 0; k < f->nnamespaces; k++)
    if (!hit[k]) {
      if (!bad) bad = hp__xmalloc(f->nnamespaces * sizeof *bad);
      bad[nbad++] = f->namespaces[k];
    }
  int rc = HP_OK;
  if (nbad) {
    nbad = hp__strs_sort_unique(bad, nbad);
    hp_buf b = {0};
    hp__buf_puts(
        &b, "pipeline does not contain nodes with the following namespaces: ");
    hp__buf_put_names(&b, bad, nbad);
    rc = hp__fail(err, HP_EUSAGE, "%s", b.data);
    hp__buf_free(&b);
  }
  free(bad);
  free(hit);
  hp__map_free(want, NULL);
  return rc;
}

static void select_tags(const hp_graph *g, const hp_filter *f, uint8_t *sel) {
  hp_map *want = hp__map_new();
  for (size_t k = 0; k < f->ntags; k++)
    hp__map_put(want, f->tags[k], TOKEN(k));
  for (size_t i = 0; i < g->nnodes; i++) {
    const hp_node *nd = &g->p->nodes[i];
    for (size_t t = 0; t < nd->ntags && !sel[i]; t++)
      if (hp__map_has(want, nd->tags[t])) sel[i] = 1;
  }
  hp__map_free(want, NULL);
}

static void intersect(uint8_t *keep, uint8_t *sel, size_t n) {
  for (size_t i = 0; i < n; i++) {
    keep[i] &= sel[i];
    sel[i] = 0;
  }
}

int hp__graph_select(const hp_graph *g, const hp_filter *f, uint8_t *keep,
                     hp_error *err) {
  size_t n = g->nnodes;
  for (size_t i = 0; i < n; i++)
    keep[i] = 1;
  static const hp_filter none = {0};
  if (!f) f = &none;
  const char *const *const lists[3] = {f->nodes, f->from_nodes, f->to_nodes};
  const size_t len[3] = {f->nodes ? f->nnodes : 0,
                         f->from_nodes ? f->nfrom_nodes : 0,
                         f->to_nodes ? f->nto_nodes : 0};
  hp_map *want = NULL;
  int32_t *at = NULL;
  int rc = HP_OK;
  if (len[0] || len[1] || len[2]) {
    want = hp__map_new();
    for (int l = 0; l < 3; l++)
      for (size_t k = 0; k < len[l]; k++)
        if (!hp__map_has(want, lists[l][k]))
          hp__map_put(want, lists[l][k], TOKEN(hp__map_count(want)));
    at = hp__xmalloc(hp__map_count(want) * sizeof *at);
    for (size_t k = 0; k < hp__map_count(want); k++)
      at[k] = -1;
    rc = find_names(g, want, at, err);
  }
  hp_filter ff = *f;
  if (!ff.from_inputs) ff.nfrom_inputs = 0;
  if (!ff.to_outputs) ff.nto_outputs = 0;
  if (!ff.tags) ff.ntags = 0;
  if (!ff.namespaces) ff.nnamespaces = 0;
  if (rc == HP_OK) rc = check_datasets(g, &ff, err);
  uint8_t *sel = hp__xcalloc(n ? n : 1, 1);
  int32_t *stack = hp__xmalloc((n ? n : 1) * sizeof *stack);
  if (rc == HP_OK && ff.nnamespaces) {
    rc = select_ns(g, &ff, sel, err);
    intersect(keep, sel, n);
  }
  if (rc == HP_OK) {
    if (ff.ntags) {
      select_tags(g, &ff, sel);
      intersect(keep, sel, n);
    }
    for (int l = 0; l < 3; l++) {
      if (!len[l]) continue;
      size_t sp = 0;
      for (size_t k = 0; k < len[l]; k++)
        push(sel, stack, &sp, at[UNTOKEN(hp__map_get(want, lists[l][k]))]);
      if (l > 0) walk(g, sel, stack, sp, l == 1);
      intersect(keep, sel, n);
    }
    if (ff.nfrom_inputs) {
      size_t sp = 0;
      for (size_t k = 0; k < ff.nfrom_inputs; k++) {
        int32_t d = hp__graph_ds(g, ff.from_inputs[k]);
        for (size_t c = g->cons_off[d]; c < g->cons_off[d + 1]; c++)
          push(sel, stack, &sp, g->cons[c]);
      }
      walk(g, sel, stack, sp, 1);
      intersect(keep, sel, n);
    }
    if (ff.nto_outputs) {
      size_t sp = 0;
      for (size_t k = 0; k < ff.nto_outputs; k++) {
        int32_t q = g->producer[hp__graph_ds(g, ff.to_outputs[k])];
        if (q >= 0) push(sel, stack, &sp, q);
      }
      walk(g, sel, stack, sp, 0);
      intersect(keep, sel, n);
    }
    size_t left = 0;
    for (size_t i = 0; i < n; i++)
      left += keep[i];
    if (!left)
      rc = hp__fail(err, HP_EUSAGE,
                    "pipeline contains no nodes after applying the filters");
  }
  free(stack);
  free(sel);
  free(at);
  hp__map_free(want, NULL);
  return rc;
}

uint32_t hp__graph_after(const hp_graph *g, const uint8_t *keep,
                         const uint32_t *prio, int32_t i) {
  uint32_t m = 0;
  for (size_t o = g->out_off[i]; o < g->out_off[i + 1]; o++) {
    int32_t d = g->out_ds[o];
    for (size_t c = g->cons_off[d]; c < g->cons_off[d + 1]; c++)
      if ((!keep || keep[g->cons[c]]) && prio[g->cons[c]] > m)
        m = prio[g->cons[c]];
  }
  return m + 1;
}

void hp__graph_priority(const hp_graph *g, const uint8_t *keep,
                        uint32_t *prio) {
  for (size_t k = g->nnodes; k-- > 0;) {
    int32_t i = g->order[k];
    prio[i] = keep[i] ? hp__graph_after(g, keep, prio, i) : 0;
  }
}
