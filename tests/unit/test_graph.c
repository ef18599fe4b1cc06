/*
 * test_graph.c - the dataset/node graph: layers and order, producers and
 * consumers, duplicate outputs and cycles, Kedro's filters (kedro.md
 * section 4.1 and 4.2, cases 1-7 and 17-30) and priorities. Pipelines are
 * built by hand from strings like "n1: A, B -> C [t1 t2]".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph.h"
#include "mem.h"

/* ---- building pipelines from strings ------------------------------------ */

static char *trim(const char *s, size_t n) {
  while (n && (*s == ' ' || *s == '\t'))
    s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  return hp__xstrndup(s, n);
}

/* Splits s[0..n) at sep into trimmed names; "" gives none. */
static char **split(const char *s, size_t n, char sep, size_t *count) {
  char **v = NULL;
  size_t nv = 0, cap = 0;
  char *all = trim(s, n);
  if (*all) {
    const char *p = all;
    for (;;) {
      const char *e = strchr(p, sep);
      size_t len = e ? (size_t)(e - p) : strlen(p);
      hp__grow(&v, &cap, nv + 1, sizeof *v);
      v[nv++] = trim(p, len);
      if (!e) break;
      p = e + 1;
    }
  }
  free(all);
  *count = nv;
  return v;
}

static hp_io *ios(char **names, size_t n) {
  hp_io *io = hp__xcalloc(n ? n : 1, sizeof *io);
  for (size_t i = 0; i < n; i++)
    io[i].ds = names[i];
  free(names);
  return io;
}

/* "ns.name: A, B -> C, D [t1 t2]"; the namespace is the name up to its
 * last dot. */
static void parse_node(hp_node *nd, const char *spec) {
  memset(nd, 0, sizeof *nd);
  const char *colon = strchr(spec, ':');
  const char *arrow = strstr(spec, "->");
  CHECK(colon && arrow);
  nd->name = trim(spec, (size_t)(colon - spec));
  const char *dot = strrchr(nd->name, '.');
  if (dot) nd->ns = hp__xstrndup(nd->name, (size_t)(dot - nd->name));
  nd->func = hp__xstrdup("core.identity");
  nd->retries = -1;
  char **in = split(colon + 1, (size_t)(arrow - colon - 1), ',', &nd->nin);
  nd->in = ios(in, nd->nin);
  const char *rest = arrow + 2, *br = strchr(rest, '[');
  size_t rlen = br ? (size_t)(br - rest) : strlen(rest);
  char **out = split(rest, rlen, ',', &nd->nout);
  nd->out = ios(out, nd->nout);
  if (br) {
    const char *close = strchr(br, ']');
    CHECK(close);
    nd->tags = split(br + 1, (size_t)(close - br - 1), ' ', &nd->ntags);
  }
}

static hp_pipeline *mk(const char *const *specs, size_t n) {
  hp_pipeline *p = hp__xcalloc(1, sizeof *p);
  p->nodes = hp__xcalloc(n ? n : 1, sizeof *p->nodes);
  p->n = n;
  for (size_t i = 0; i < n; i++)
    parse_node(&p->nodes[i], specs[i]);
  return p;
}

static void pfree(hp_pipeline *p) {
  for (size_t i = 0; i < p->n; i++) {
    hp_node *nd = &p->nodes[i];
    free(nd->name);
    free(nd->ns);
    free(nd->func);
    for (size_t j = 0; j < nd->nin; j++)
      free(nd->in[j].ds);
    for (size_t j = 0; j < nd->nout; j++)
      free(nd->out[j].ds);
    for (size_t j = 0; j < nd->ntags; j++)
      free(nd->tags[j]);
    free(nd->in);
    free(nd->out);
    free(nd->tags);
  }
  free(p->nodes);
  free(p);
}

#define MK(...)                          \
  mk((const char *const[]){__VA_ARGS__}, \
     sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* ---- observing a graph --------------------------------------------------- */

static long find_node(const hp_graph *g, const char *name) {
  for (size_t i = 0; i < g->nnodes; i++)
    if (strcmp(g->p->nodes[i].name, name) == 0) return (long)i;
  return -1;
}

/* Layers as "[n9] [n8] [n4 n6]"; checks they are contiguous and
 * increasing along the order. */
static char *layers(const hp_graph *g) {
  hp_buf b = {0};
  for (size_t k = 0; k < g->nnodes; k++) {
    int32_t i = g->order[k], prev = k ? g->layer[g->order[k - 1]] : -1;
    CHECK(g->layer[i] == prev || g->layer[i] == prev + 1);
    int last = k + 1 == g->nnodes || g->layer[g->order[k + 1]] != g->layer[i];
    hp__buf_printf(&b, "%s%s%s", g->layer[i] != prev ? (k ? " [" : "[") : " ",
                   g->p->nodes[i].name, last ? "]" : "");
  }
  return hp__buf_take(&b);
}

/* Sorted names of free inputs (no producer, consumed) or free outputs
 * (produced, not consumed). */
static char *free_ds(const hp_graph *g, int outputs) {
  const char **v = hp__xmalloc((g->nds ? g->nds : 1) * sizeof *v);
  size_t nv = 0;
  for (size_t d = 0; d < g->nds; d++) {
    int produced = g->producer[d] >= 0;
    int consumed = g->cons_off[d + 1] > g->cons_off[d];
    if (outputs ? produced && !consumed : !produced && consumed)
      v[nv++] = g->dsname[d];
  }
  for (size_t i = 1; i < nv; i++)
    for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
      const char *t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  hp_buf b = {0};
  for (size_t i = 0; i < nv; i++)
    hp__buf_printf(&b, "%s%s", i ? " " : "", v[i]);
  free(v);
  return hp__buf_take(&b);
}

/* Parents of node name (sorted, space-separated). */
static char *parents(const hp_graph *g, const char *name) {
  long i = find_node(g, name);
  CHECK(i >= 0);
  const char **v = hp__xmalloc(g->nnodes * sizeof *v);
  size_t nv = 0;
  for (size_t k = g->in_off[i]; k < g->in_off[i + 1]; k++) {
    int32_t q = g->producer[g->in_ds[k]];
    if (q < 0) continue;
    int seen = 0;
    for (size_t j = 0; j < nv; j++)
      seen |= strcmp(v[j], g->p->nodes[q].name) == 0;
    if (!seen) v[nv++] = g->p->nodes[q].name;
  }
  for (size_t a = 1; a < nv; a++)
    for (size_t j = a; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
      const char *t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  hp_buf b = {0};
  for (size_t j = 0; j < nv; j++)
    hp__buf_printf(&b, "%s%s", j ? " " : "", v[j]);
  free(v);
  return hp__buf_take(&b);
}

static void check_str(char *got, const char *want) {
  CHECK_STR_EQ(got, want);
  free(got);
}

/* Selected node names, sorted, space-separated. */
static char *selected(const hp_graph *g, const uint8_t *keep) {
  hp_buf b = {0};
  const char **v = hp__xmalloc((g->nnodes ? g->nnodes : 1) * sizeof *v);
  size_t nv = 0;
  for (size_t i = 0; i < g->nnodes; i++)
    if (keep[i]) v[nv++] = g->p->nodes[i].name;
  for (size_t a = 1; a < nv; a++)
    for (size_t j = a; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
      const char *t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  for (size_t j = 0; j < nv; j++)
    hp__buf_printf(&b, "%s%s", j ? " " : "", v[j]);
  free(v);
  return hp__buf_take(&b);
}

static hp_graph *build_ok(const hp_pipeline *p) {
  hp_graph *g = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__graph_build(p, &g, &err), &err);
  CHECK(g);
  return g;
}

static void build_fails(const hp_pipeline *p, const char *msg) {
  hp_graph *g = (hp_graph *)1;
  hp_error err = HP_ERROR_INIT;
  CHECK_EQ(hp__graph_build(p, &g, &err), HP_EGRAPH);
  CHECK(g == NULL);
  CHECK_STR_EQ(err.msg, msg);
}

/* Runs a filter: want is the expected selection, or NULL with msg set to
 * the expected error. */
static void filt(const hp_graph *g, const hp_filter *f, const char *want,
                 const char *msg) {
  uint8_t *keep = hp__xmalloc(g->nnodes ? g->nnodes : 1);
  hp_error err = HP_ERROR_INIT;
  int rc = hp__graph_select(g, f, keep, &err);
  if (want) {
    CHECK_OK(rc, &err);
    check_str(selected(g, keep), want);
  } else {
    CHECK_EQ(rc, HP_EUSAGE);
    CHECK_STR_EQ(err.msg, msg);
  }
  free(keep);
}

/* clang-format off */
#define L(...) (const char *const[]){__VA_ARGS__}
#define N(...) \
  (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
#define LIST(...) L(__VA_ARGS__), N(__VA_ARGS__)
/* clang-format on */

/* Fixture C9 (kedro.md section 4). */
static hp_pipeline *c9(void) {
  return MK("n1: H, I, M -> N", "n2: H -> I", "n3: F -> G, M", "n4: E -> F, H",
            "n5: D ->", "n6: C -> D [foo]", "n7: B -> C, E [foo]",
            "n8: A -> B, L", "n9: -> A");
}

/* ---- structure (4.1) ------------------------------------------------------
 */

static void test_structure(void) {
  CASE("1: chain written out of order");
  hp_pipeline *p = MK("d: D -> E", "b: B -> C", "f: E ->", "a: -> A",
                      "c: C -> D", "x: A -> B");
  hp_graph *g = build_ok(p);
  check_str(layers(g), "[a] [x] [b] [c] [d] [f]");
  check_str(free_ds(g, 0), "");
  check_str(free_ds(g, 1), "");
  CHECK_EQ(g->nds, 5);
  CHECK_EQ(g->layer[find_node(g, "f")], 5);
  hp__graph_free(g);
  pfree(p);

  CASE("2: C9 layers, free inputs and outputs");
  p = c9();
  g = build_ok(p);
  check_str(layers(g), "[n9] [n8] [n7] [n4 n6] [n2 n3 n5] [n1]");
  check_str(free_ds(g, 0), "");
  check_str(free_ds(g, 1), "G L N");

  CASE("3: C9 parents");
  check_str(parents(g, "n1"), "n2 n3 n4");
  check_str(parents(g, "n2"), "n4");
  check_str(parents(g, "n3"), "n4");
  check_str(parents(g, "n4"), "n7");
  check_str(parents(g, "n5"), "n6");
  check_str(parents(g, "n6"), "n7");
  check_str(parents(g, "n7"), "n8");
  check_str(parents(g, "n8"), "n9");
  check_str(parents(g, "n9"), "");
  /* ids, producers, consumers */
  int32_t h = hp__graph_ds(g, "H");
  CHECK(h >= 0);
  CHECK_STR_EQ(g->dsname[h], "H");
  CHECK_EQ(hp__graph_ds(g, "nope"), -1);
  CHECK_EQ(g->producer[h], find_node(g, "n4"));
  CHECK_EQ(g->cons_off[h + 1] - g->cons_off[h], 2);
  CHECK_EQ(g->cons[g->cons_off[h]], find_node(g, "n1"));
  CHECK_EQ(g->cons[g->cons_off[h] + 1], find_node(g, "n2"));
  CHECK_EQ(g->producer[hp__graph_ds(g, "A")], find_node(g, "n9"));
  hp__graph_free(g);
  pfree(p);

  CASE("4: a dataset read twice by one node");
  p = MK("n1: A, A -> B", "n2: B -> C", "n3: C -> D");
  g = build_ok(p);
  check_str(free_ds(g, 0), "A");
  check_str(free_ds(g, 1), "D");
  int32_t a = hp__graph_ds(g, "A");
  CHECK_EQ(g->in_off[1] - g->in_off[0], 2);
  CHECK_EQ(g->in_ds[0], a);
  CHECK_EQ(g->in_ds[1], a);
  CHECK_EQ(g->cons_off[a + 1] - g->cons_off[a], 1);
  check_str(layers(g), "[n1] [n2] [n3]");
  hp__graph_free(g);
  pfree(p);

  CASE("5: two disjoint chains");
  p = MK("e: E -> F", "b: B -> C", "d: D -> E", "a: A -> B");
  g = build_ok(p);
  check_str(free_ds(g, 0), "A D");
  check_str(free_ds(g, 1), "C F");
  check_str(layers(g), "[a d] [b e]");
  hp__graph_free(g);
  pfree(p);

  CASE("layers are sorted by strcmp, also past 8 bytes");
  p = MK("node_abcd2: -> A", "node_abc: -> B", "node_abcd10: -> C",
         "node_abcd1: -> D", "n: -> E", "node_abcd1x: -> F", "node_abcZ: -> G",
         "Node: -> H", "node_abcd: -> I", "node_a\xc3\xa9: -> J");
  g = build_ok(p);
  check_str(layers(g), "[Node n node_abc node_abcZ node_abcd node_abcd1 "
                       "node_abcd10 node_abcd1x node_abcd2 node_a\xc3\xa9]");
  hp__graph_free(g);
  pfree(p);

  CASE("params are datasets without a producer");
  p = MK("n1: A, params:x, parameters -> B", "n2: B, params:x -> C");
  g = build_ok(p);
  CHECK_EQ(g->producer[hp__graph_ds(g, "params:x")], -1);
  CHECK_EQ(g->producer[hp__graph_ds(g, "parameters")], -1);
  check_str(free_ds(g, 0), "A parameters params:x");
  hp__graph_free(g);
  pfree(p);

  CASE("empty pipeline");
  p = MK("x: -> A");
  p->n = 0;
  g = build_ok(p);
  CHECK_EQ(g->nnodes, 0);
  CHECK_EQ(g->nds, 0);
  filt(g, NULL, NULL, "pipeline contains no nodes after applying the filters");
  hp__graph_free(g);
  p->n = 1;
  pfree(p);
}

static void test_invalid(void) {
  CASE("6: a cycle names its nodes in order");
  hp_pipeline *p = MK("n2: B -> C", "n3: C -> A", "n1: A -> B");
  build_fails(p, "pipeline has a cycle: n1 -> n2 -> n3 -> n1");
  pfree(p);

  CASE("6: a cycle behind a tail, started at its smallest name");
  p = MK("a: -> X", "b: X, Q -> P", "z: P -> Q", "y: Q -> R", "c: R -> S");
  build_fails(p, "pipeline has a cycle: b -> z -> b");
  pfree(p);

  CASE("6: a node reading its own output");
  p = MK("n1: A -> B", "n2: B, C -> C");
  build_fails(p, "pipeline has a cycle: n2 -> n2");
  pfree(p);

  CASE("7: duplicate outputs, sorted");
  p = MK("n1: A -> B, C", "n2: C -> D, E, F", "n3: B -> D, E", "n4: D -> E");
  build_fails(p, "outputs ['D', 'E'] are produced by more than one node: "
                 "D by n2 and n3, E by n2, n3 and n4");
  pfree(p);

  CASE("7: one duplicate output");
  p = MK("b: -> X", "a: -> X");
  build_fails(p, "outputs ['X'] is produced by more than one node: "
                 "X by a and b");
  pfree(p);
}

/* ---- filters (4.2) --------------------------------------------------------
 */

static void test_filters(void) {
  hp_pipeline *p = c9();
  hp_graph *g = build_ok(p);

  CASE("no filters: everything");
  filt(g, NULL, "n1 n2 n3 n4 n5 n6 n7 n8 n9", NULL);
  filt(g, &(hp_filter){0}, "n1 n2 n3 n4 n5 n6 n7 n8 n9", NULL);

  CASE("17: tags [foo]");
  filt(g, &(hp_filter){.tags = L("foo"), .ntags = 1}, "n6 n7", NULL);

  CASE("19: from_nodes [n4]");
  filt(g, &(hp_filter){.from_nodes = LIST("n4")}, "n1 n2 n3 n4", NULL);

  CASE("20: from_nodes [n3, n2]");
  filt(g, &(hp_filter){.from_nodes = LIST("n3", "n2")}, "n1 n2 n3", NULL);

  CASE("21: to_nodes [n4]");
  filt(g, &(hp_filter){.to_nodes = LIST("n4")}, "n4 n7 n8 n9", NULL);

  CASE("22: to_nodes [n4, n6]");
  filt(g, &(hp_filter){.to_nodes = LIST("n4", "n6")}, "n4 n6 n7 n8 n9", NULL);

  CASE("23: nodes [n4, n5]");
  filt(g, &(hp_filter){.nodes = LIST("n4", "n5")}, "n4 n5", NULL);

  CASE("24: from_inputs [F]; [F, H]");
  filt(g, &(hp_filter){.from_inputs = LIST("F")}, "n1 n3", NULL);
  filt(g, &(hp_filter){.from_inputs = LIST("F", "H")}, "n1 n2 n3", NULL);

  CASE("25: to_outputs [F]; [F, H]");
  filt(g, &(hp_filter){.to_outputs = LIST("F")}, "n4 n7 n8 n9", NULL);
  filt(g, &(hp_filter){.to_outputs = LIST("F", "H")}, "n4 n7 n8 n9", NULL);

  CASE("to_outputs of a free input selects nothing from it");
  filt(g, &(hp_filter){.to_outputs = LIST("A", "L")}, "n8 n9", NULL);

  CASE("26: from_nodes [n4] and to_outputs [M]");
  filt(g, &(hp_filter){.from_nodes = LIST("n4"), .to_outputs = LIST("M")},
       "n3 n4", NULL);

  CASE("27: plus nodes [n3]; plus to_nodes [n4]");
  filt(g,
       &(hp_filter){.from_nodes = LIST("n4"),
                    .to_outputs = LIST("M"),
                    .nodes = LIST("n3")},
       "n3", NULL);
  filt(g,
       &(hp_filter){.from_nodes = LIST("n4"),
                    .to_outputs = LIST("M"),
                    .nodes = LIST("n3"),
                    .to_nodes = LIST("n4")},
       NULL, "pipeline contains no nodes after applying the filters");

  CASE("28: unknown node; unknown datasets, sorted");
  filt(g, &(hp_filter){.nodes = LIST("missing_node")}, NULL,
       "pipeline does not contain nodes named ['missing_node']");
  filt(g, &(hp_filter){.from_inputs = LIST("Z", "W", "E", "C")}, NULL,
       "pipeline does not contain datasets named ['W', 'Z']");
  filt(g,
       &(hp_filter){.from_nodes = LIST("zz", "n1"),
                    .to_nodes = LIST("aa"),
                    .nodes = LIST("zz")},
       NULL, "pipeline does not contain nodes named ['aa', 'zz']");
  filt(g, &(hp_filter){.to_outputs = LIST("Q"), .from_inputs = LIST("P")}, NULL,
       "pipeline does not contain datasets named ['P', 'Q']");

  CASE("tags: unknown tags match nothing");
  filt(g, &(hp_filter){.tags = LIST("nope")}, NULL,
       "pipeline contains no nodes after applying the filters");

  CASE("namespaces: none in C9");
  filt(g, &(hp_filter){.namespaces = LIST("x")}, NULL,
       "pipeline does not contain nodes with the following namespaces: "
       "['x']");
  hp__graph_free(g);
  pfree(p);

  CASE("18: tags are any-of");
  p = MK("n1: A -> B", "n2: B -> C [tag1 tag2]", "n3: C -> D",
         "n4: D -> E [tag2]", "n5: E -> F", "n6: F -> G [tag1]");
  g = build_ok(p);
  filt(g, &(hp_filter){.tags = LIST("tag1")}, "n2 n6", NULL);
  filt(g, &(hp_filter){.tags = LIST("tag2")}, "n2 n4", NULL);
  filt(g, &(hp_filter){.tags = LIST("tag1", "tag2")}, "n2 n4 n6", NULL);
  filt(g, &(hp_filter){.tags = LIST("tag1", "tag2", "missing")}, "n2 n4 n6",
       NULL);
  filt(g, &(hp_filter){.tags = LIST("missing")}, NULL,
       "pipeline contains no nodes after applying the filters");
  hp__graph_free(g);
  pfree(p);

  CASE("29: namespaces are dotted prefixes");
  p = MK("katie.node1: A -> B", "lisa.node2: B -> C", "john.node3: C -> D",
         "katie.lisa.node4: D -> E", "lisa.john.node5: E -> F",
         "katie.lisa.john.node6: F -> G", "plain: G -> H");
  g = build_ok(p);
  filt(g, &(hp_filter){.namespaces = LIST("katie")},
       "katie.lisa.john.node6 katie.lisa.node4 katie.node1", NULL);
  filt(g, &(hp_filter){.namespaces = LIST("lisa")},
       "lisa.john.node5 lisa.node2", NULL);
  filt(g, &(hp_filter){.namespaces = LIST("katie.lisa")},
       "katie.lisa.john.node6 katie.lisa.node4", NULL);
  filt(g, &(hp_filter){.namespaces = LIST("john")}, "john.node3", NULL);
  filt(g, &(hp_filter){.namespaces = LIST("john", "lisa", "john")},
       "john.node3 lisa.john.node5 lisa.node2", NULL);
  filt(g, &(hp_filter){.namespaces = LIST("nope")}, NULL,
       "pipeline does not contain nodes with the following namespaces: "
       "['nope']");
  filt(g, &(hp_filter){.namespaces = LIST("kat", "john", "lisa.j")}, NULL,
       "pipeline does not contain nodes with the following namespaces: "
       "['kat', 'lisa.j']");
  filt(g, &(hp_filter){.nodes = LIST("node1")}, NULL,
       "pipeline does not contain nodes named ['node1'] "
       "(did you mean ['katie.node1']?)");
  filt(g, &(hp_filter){.to_nodes = LIST("node4", "john.node6", "n")}, NULL,
       "pipeline does not contain nodes named ['john.node6', 'n', 'node4'] "
       "(did you mean ['katie.lisa.john.node6', 'katie.lisa.node4']?)");
  filt(g, &(hp_filter){.nodes = LIST("katie.node1")}, "katie.node1", NULL);
  hp__graph_free(g);
  pfree(p);

  CASE("30: the variance example");
  p = MK("len: xs -> n", "mean_node: xs, n -> m", "mean_sos: xs, n -> m2",
         "variance_node: m, m2 -> v");
  g = build_ok(p);
  filt(g, &(hp_filter){.from_inputs = LIST("m2")}, "variance_node", NULL);
  filt(g, &(hp_filter){.from_inputs = LIST("m", "xs")},
       "len mean_node mean_sos variance_node", NULL);
  filt(g, &(hp_filter){.from_nodes = LIST("mean_node")},
       "mean_node variance_node", NULL);
  filt(g, &(hp_filter){.to_nodes = LIST("mean_node")}, "len mean_node", NULL);
  CASE("from_nodes + to_nodes: the slice between them");
  filt(g, &(hp_filter){.from_nodes = LIST("len"), .to_nodes = LIST("mean_sos")},
       "len mean_sos", NULL);
  hp__graph_free(g);
  pfree(p);
}

/* ---- priorities -----------------------------------------------------------
 */

static void test_priority(void) {
  CASE("priority: longest path to a sink");
  hp_pipeline *p = c9();
  hp_graph *g = build_ok(p);
  uint8_t keep[9];
  uint32_t prio[9];
  memset(keep, 1, sizeof keep);
  hp__graph_priority(g, keep, prio);
  /* n9 n8 n7 n4 n3 n1 is the longest chain */
  static const struct {
    const char *name;
    uint32_t prio;
  } want[] = {{"n9", 6}, {"n8", 5}, {"n7", 4}, {"n4", 3}, {"n6", 2},
              {"n3", 2}, {"n2", 2}, {"n5", 1}, {"n1", 1}};
  for (size_t k = 0; k < 9; k++)
    CHECK_EQ(prio[find_node(g, want[k].name)], want[k].prio);

  CASE("priority: only through selected nodes");
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(
      hp__graph_select(g, &(hp_filter){.to_nodes = LIST("n6")}, keep, &err),
      &err);
  hp__graph_priority(g, keep, prio);
  CHECK_EQ(prio[find_node(g, "n9")], 4);
  CHECK_EQ(prio[find_node(g, "n7")], 2);
  CHECK_EQ(prio[find_node(g, "n6")], 1);
  CHECK_EQ(prio[find_node(g, "n4")], 0);
  CHECK_EQ(prio[find_node(g, "n1")], 0);
  hp__graph_free(g);
  pfree(p);
}

/* ---- scale ----------------------------------------------------------------
 */

/* A chain long enough that any recursive walk would overflow the stack. */
static void test_long_chain(void) {
  CASE("a 200000-node chain: order, walks and priority are iterative");
  size_t n = 200000;
  hp_pipeline *p = hp__xcalloc(1, sizeof *p);
  p->n = n;
  p->nodes = hp__xcalloc(n, sizeof *p->nodes);
  for (size_t i = 0; i < n; i++) {
    hp_node *nd = &p->nodes[n - 1 - i]; /* declared backwards */
    nd->name = hp__xasprintf("n%07zu", i);
    nd->func = hp__xstrdup("f");
    nd->retries = -1;
    nd->nin = 1;
    nd->in = hp__xcalloc(1, sizeof *nd->in);
    nd->in[0].ds = hp__xasprintf("d%zu", i);
    nd->nout = 1;
    nd->out = hp__xcalloc(1, sizeof *nd->out);
    nd->out[0].ds = hp__xasprintf("d%zu", i + 1);
  }
  hp_graph *g = build_ok(p);
  CHECK_STR_EQ(g->p->nodes[g->order[0]].name, "n0000000");
  CHECK_EQ(g->layer[g->order[n - 1]], n - 1);
  uint8_t *keep = hp__xmalloc(n);
  uint32_t *prio = hp__xmalloc(n * sizeof *prio);
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__graph_select(g, &(hp_filter){.from_nodes = LIST("n0000000")},
                            keep, &err),
           &err);
  size_t cnt = 0;
  for (size_t i = 0; i < n; i++)
    cnt += keep[i];
  CHECK_EQ(cnt, n);
  CHECK_OK(hp__graph_select(g, &(hp_filter){.to_outputs = LIST("d200000")},
                            keep, &err),
           &err);
  cnt = 0;
  for (size_t i = 0; i < n; i++)
    cnt += keep[i];
  CHECK_EQ(cnt, n);
  hp__graph_priority(g, keep, prio);
  CHECK_EQ(prio[g->order[0]], n);
  hp__graph_free(g);

  CASE("a long cycle is reported, shortened");
  free(p->nodes[0].out[0].ds); /* n199999 now feeds n0000000 */
  p->nodes[0].out[0].ds = hp__xstrdup("d0");
  hp_graph *bad = (hp_graph *)1;
  CHECK_EQ(hp__graph_build(p, &bad, &err), HP_EGRAPH);
  CHECK(!bad);
  CHECK_CONTAINS(err.msg, "pipeline has a cycle: n0000000 -> n0000001 -> ");
  CHECK_CONTAINS(err.msg, " -> ... (200000 nodes) -> n0000000");
  free(keep);
  free(prio);
  pfree(p);
}

int main(void) {
  test_structure();
  test_invalid();
  test_filters();
  test_priority();
  test_long_chain();
  fprintf(stderr, "test_graph: ok\n");
  return 0;
}
