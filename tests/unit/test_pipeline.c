/*
 * test_pipeline.c - pipelines.yml to flat nodes: node definitions and their
 * errors, references and unions, Kedro's namespaces and input/output/
 * parameter mappings (kedro.md section 4.1 and 4.3, cases 4, 8-15 and
 * 31-42), with located error messages. Each case parses a YAML text.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph.h"
#include "mem.h"
#include "pipeline.h"
#include "tree.h"
#include "yaml.h"

/* ---- helpers ------------------------------------------------------------ */

static hp_tree *doc; /* the document of the last build */

static const hp_tree *parse(const char *text) {
  hp_error err = HP_ERROR_INIT;
  hp__tree_free(doc);
  doc = NULL;
  CHECK_OK(hp__yaml_parse(text, strlen(text), "t.yml", &doc, &err), &err);
  const hp_tree *p = hp__tree_find(doc, "pipelines");
  CHECK(p);
  return p;
}

static hp_pipeline *build_n(const char *text, const char *const *names,
                            size_t n) {
  const hp_tree *p = parse(text);
  hp_pipeline *pl = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__pipeline_build(p, names, n, &pl, &err), &err);
  CHECK(pl);
  return pl;
}

static hp_pipeline *build(const char *text, const char *name) {
  return build_n(text, name ? &name : NULL, name ? 1 : 0);
}

/* Expects code and exactly msg (which includes its location). */
static void fails_n(const char *text, const char *const *names, size_t n,
                    int code, const char *msg) {
  const hp_tree *p = parse(text);
  hp_pipeline *pl = (hp_pipeline *)1;
  hp_error err = HP_ERROR_INIT;
  int rc = hp__pipeline_build(p, names, n, &pl, &err);
  if (rc == HP_OK) fprintf(stderr, "expected: %s\n", msg);
  CHECK_EQ(rc, code);
  CHECK_EQ(err.code, code);
  CHECK(pl == NULL);
  CHECK_STR_EQ(err.msg, msg);
}

static void fails(const char *text, const char *name, int code,
                  const char *msg) {
  fails_n(text, name ? &name : NULL, name ? 1 : 0, code, msg);
}

/* "name: in, arg=in -> out [t1 t2] ns=NS" */
static char *desc(const hp_node *nd) {
  hp_buf b = {0};
  hp__buf_printf(&b, "%s:", nd->name);
  for (size_t i = 0; i < nd->nin; i++)
    hp__buf_printf(&b, "%s%s%s%s", i ? ", " : " ",
                   nd->in[i].arg ? nd->in[i].arg : "", nd->in[i].arg ? "=" : "",
                   nd->in[i].ds);
  hp__buf_puts(&b, " ->");
  for (size_t i = 0; i < nd->nout; i++)
    hp__buf_printf(&b, "%s%s%s%s", i ? ", " : " ",
                   nd->out[i].arg ? nd->out[i].arg : "",
                   nd->out[i].arg ? "=" : "", nd->out[i].ds);
  if (nd->ntags) {
    hp__buf_puts(&b, " [");
    for (size_t i = 0; i < nd->ntags; i++)
      hp__buf_printf(&b, "%s%s", i ? " " : "", nd->tags[i]);
    hp__buf_putc(&b, ']');
  }
  if (nd->ns) hp__buf_printf(&b, " ns=%s", nd->ns);
  return hp__buf_take(&b);
}

/* All nodes, in order, separated by " | ". */
static void check_nodes(const hp_pipeline *p, const char *want) {
  hp_buf b = {0};
  for (size_t i = 0; i < p->n; i++) {
    char *d = desc(&p->nodes[i]);
    hp__buf_printf(&b, "%s%s", i ? " | " : "", d);
    free(d);
  }
  CHECK_STR_EQ(b.data ? b.data : "", want);
  hp__buf_free(&b);
}

static void check_one(const char *text, const char *name, const char *want) {
  hp_pipeline *p = build(text, name);
  check_nodes(p, want);
  hp__pipeline_free(p);
}

#define NAMES(...)                    \
  (const char *const[]){__VA_ARGS__}, \
      sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* ---- nodes -------------------------------------------------------------- */

static void test_nodes(void) {
  CASE("the DESIGN.md example");
  hp_pipeline *p = build("pipelines:\n"
                         "  merge_data:\n"
                         "    - node: load_glacier\n"
                         "      func: glacier.load_glacier\n"
                         "      inputs: glacier\n"
                         "      outputs: loaded_glacier\n"
                         "      tags: [preprocessing]\n"
                         "      args: {min_year: 2000}\n"
                         "      partitioned: true\n"
                         "      retries: 3\n"
                         "  modelling:\n"
                         "    - node: train_model\n"
                         "      func: ml.kmeans\n"
                         "      inputs: [scaled_data, params:model_options]\n"
                         "      outputs: [model, labels]\n"
                         "  data_science:\n"
                         "    - pipeline: modelling\n"
                         "      namespace: active\n"
                         "      inputs: [scaled_data]\n"
                         "    - pipeline: modelling\n"
                         "      namespace: candidate\n"
                         "      inputs: [scaled_data]\n"
                         "  __default__: [merge_data, data_science]\n",
                         NULL);
  check_nodes(p, "load_glacier: glacier -> loaded_glacier [preprocessing] | "
                 "active.train_model: scaled_data, params:active.model_options"
                 " -> active.model, active.labels ns=active | "
                 "candidate.train_model: scaled_data, "
                 "params:candidate.model_options -> candidate.model, "
                 "candidate.labels ns=candidate");
  const hp_node *n = &p->nodes[0];
  CHECK_STR_EQ(n->func, "glacier.load_glacier");
  CHECK(n->args ==
        hp_tree_get(doc, "pipelines.merge_data")->items[0]->items[5]);
  CHECK_EQ(hp_tree_type(n->args), HP_TREE_MAP);
  CHECK_EQ(n->partitioned, 1);
  CHECK_EQ(n->retries, 3);
  CHECK(n->where == hp_tree_get(doc, "pipelines.merge_data")->items[0]);
  CHECK_EQ(p->nodes[1].partitioned, 0);
  CHECK_EQ(p->nodes[1].retries, -1);
  CHECK(p->nodes[1].args == NULL);
  CHECK_STR_EQ(p->nodes[1].func, "ml.kmeans");
  hp__pipeline_free(p);

  CASE("input and output forms; map keys are argument names");
  check_one("pipelines:\n"
            "  __default__:\n"
            "    - {node: a, func: f, outputs: X}\n"
            "    - {node: b, func: f, inputs: X, outputs: [Y, Z]}\n"
            "    - {node: c, func: f, inputs: {x: X, y: Y}, outputs: {k: W}}\n"
            "    - {node: d, func: f, inputs: [W, Z, params:a.b, parameters]}"
            "\n"
            "    - {node: e, func: f, inputs: [], outputs: V, tags: t}\n"
            "    - {node: f, func: f, inputs: ~, outputs: U, tags: [b, a, b]}"
            "\n",
            NULL,
            "a: -> X | b: X -> Y, Z | c: x=X, y=Y -> k=W | "
            "d: W, Z, params:a.b, parameters -> | e: -> V [t] | "
            "f: -> U [a b]");

  CASE("4: the same dataset twice in list inputs is legal");
  check_one("pipelines:\n"
            "  __default__:\n"
            "    - {node: n1, func: f, inputs: [A, A], outputs: B}\n",
            NULL, "n1: A, A -> B");

  CASE("node namespace: prefixes the name only");
  check_one("pipelines:\n"
            "  __default__:\n"
            "    - {node: n1, func: f, namespace: ns, inputs: A, outputs: B}\n",
            NULL, "ns.n1: A -> B ns=ns");

  CASE("8: an output listed twice (list and map forms)");
  fails("pipelines:\n"
        "  p:\n"
        "    - {node: n, func: f, inputs: X, outputs: [A, A]}\n",
        "p", HP_ECONFIG,
        "t.yml:3:46: pipeline 'p': node 'n': output 'A' is listed more than "
        "once");
  fails("pipelines:\n"
        "  p:\n"
        "    - {node: n, func: f, inputs: X, outputs: {x: A, y: A}}\n",
        "p", HP_ECONFIG,
        "t.yml:3:46: pipeline 'p': node 'n': output 'A' is listed more than "
        "once");

  CASE("9: a dataset both input and output");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, inputs: [B, A], outputs: [A]}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:51: pipeline '__default__': node 'n': 'A' is both an input "
        "and an output");

  CASE("13: neither inputs nor outputs");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - node: n\n"
        "      func: f\n"
        "      inputs: []\n",
        NULL, HP_ECONFIG,
        "t.yml:3:7: pipeline '__default__': node 'n': a node needs inputs or "
        "outputs (it has neither)");

  CASE("parameters cannot be outputs");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, outputs: [X, params:y]}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:35: pipeline '__default__': node 'n': output 'params:y' is "
        "a parameter; parameters cannot be outputs");

  CASE("node names and tags are checked");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: a b, func: f, outputs: X}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:14: pipeline '__default__': 'a b' is not a valid node "
        "name: it must contain only letters, digits, '_', '-' and '.'");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {func: f, outputs: X}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:7: pipeline '__default__': a node needs a name ('node: "
        "NAME')");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, outputs: X, tags: [ok, 'no way']}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:49: pipeline '__default__': node 'n': 'no way' is not a "
        "valid tag: it must contain only letters, digits, '_', '-' and '.'");

  CASE("unknown keys list the allowed ones");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - node: n\n"
        "      func: f\n"
        "      output: X\n",
        NULL, HP_ECONFIG,
        "t.yml:5:7: pipeline '__default__': node 'n': unknown key 'output' "
        "(allowed: node, func, inputs, outputs, tags, args, partitioned, "
        "retries, namespace)");

  CASE("bad types");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, outputs: X}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:7: pipeline '__default__': node 'n': 'func' (the function "
        "to run) is required");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, outputs: [X, [Y]]}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:39: pipeline '__default__': node 'n': 'outputs' must name "
        "datasets with non-empty strings");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, inputs: '', outputs: X}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:34: pipeline '__default__': node 'n': 'inputs' must name "
        "datasets with non-empty strings");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, outputs: X, args: [1]}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:44: pipeline '__default__': node 'n': 'args' must be a "
        "mapping");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, outputs: X, partitioned: yes}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:51: pipeline '__default__': node 'n': 'partitioned' must be "
        "true or false");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, outputs: X, retries: -1}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:47: pipeline '__default__': node 'n': 'retries' must be a "
        "non-negative integer");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, outputs: X, retries: '2'}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:47: pipeline '__default__': node 'n': 'retries' must be a "
        "non-negative integer");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: n, func: f, outputs: X, pipeline: q}\n",
        NULL, HP_ECONFIG,
        "t.yml:3:7: pipeline '__default__': an item has both 'node' and "
        "'pipeline'");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - [a, b]\n",
        NULL, HP_ECONFIG,
        "t.yml:3:7: pipeline '__default__': each item must be a node ('node: "
        "NAME', ...), a pipeline reuse ('pipeline: NAME', ...) or a pipeline "
        "name");
  fails("pipelines:\n"
        "  __default__: {node: n}\n",
        NULL, HP_ECONFIG,
        "t.yml:2:16: pipeline '__default__' must be a list of nodes and "
        "pipelines");
  fails("pipelines: [a]\n", NULL, HP_ECONFIG,
        "t.yml:1:12: 'pipelines' must be a mapping of pipeline names to "
        "lists of nodes");
}

/* ---- references and unions ---------------------------------------------- */

static void test_union(void) {
  CASE("references may point forward; an empty pipeline is fine");
  check_one("pipelines:\n"
            "  __default__: [b, a, empty, none]\n"
            "  a:\n"
            "    - {node: x, func: f, outputs: X}\n"
            "  b:\n"
            "    - {node: y, func: f, inputs: X, outputs: Y}\n"
            "  empty: []\n"
            "  none:\n",
            NULL, "y: X -> Y | x: -> X");

  CASE("unknown pipelines, requested or referenced, list the known ones");
  fails("pipelines:\n"
        "  b: []\n"
        "  a: []\n",
        NULL, HP_ECONFIG,
        "t.yml:2:3: unknown pipeline '__default__'; known pipelines: "
        "['a', 'b']");
  fails_n("pipelines:\n"
          "  b: []\n"
          "  a: []\n",
          NAMES("a", "nope"), HP_ECONFIG,
          "t.yml:2:3: unknown pipeline 'nope'; known pipelines: ['a', 'b']");
  fails("pipelines:\n"
        "  b: [a, c]\n"
        "  a: []\n",
        "b", HP_ECONFIG,
        "t.yml:2:10: pipeline 'b': unknown pipeline 'c'; known pipelines: "
        "['a', 'b']");
  fails("pipelines:\n"
        "  b:\n"
        "    - pipeline: c\n"
        "      namespace: x\n",
        "b", HP_ECONFIG,
        "t.yml:3:7: pipeline 'b': unknown pipeline 'c'; known pipelines: "
        "['b']");
  {
    hp_pipeline *pl = (hp_pipeline *)1;
    hp_error err = HP_ERROR_INIT;
    CHECK_EQ(hp__pipeline_build(NULL, NULL, 0, &pl, &err), HP_ECONFIG);
    CHECK(!pl);
    CHECK_STR_EQ(err.msg,
                 "unknown pipeline '__default__'; no pipelines are defined");
  }

  CASE("an empty 'pipelines:'");
  fails("pipelines:\n", NULL, HP_ECONFIG,
        "t.yml:1:11: unknown pipeline '__default__'; no pipelines are "
        "defined");

  CASE("nesting is bounded");
  {
    hp_buf b = {0};
    hp__buf_puts(&b, "pipelines:\n");
    for (int i = 0; i < 300; i++)
      hp__buf_printf(&b, "  p%d: [p%d]\n", i, i + 1);
    hp__buf_puts(&b, "  p300:\n    - {node: n, func: f, outputs: X}\n");
    fails(b.data, "p0", HP_ECONFIG,
          "t.yml:257:10: pipelines are nested more than 256 deep");
    hp_pipeline *deep = build(b.data, "p100");
    check_nodes(deep, "n: -> X");
    hp__pipeline_free(deep);
    hp__buf_free(&b);
  }

  CASE("a pipeline that includes itself");
  fails("pipelines:\n"
        "  __default__: [a]\n"
        "  a: [b]\n"
        "  b:\n"
        "    - {node: n, func: f, outputs: X}\n"
        "    - pipeline: c\n"
        "  c: [a]\n",
        NULL, HP_ECONFIG,
        "t.yml:7:7: pipeline 'a' includes itself: a -> b -> c -> a");
  fails("pipelines:\n"
        "  a: [a]\n",
        "a", HP_ECONFIG, "t.yml:2:7: pipeline 'a' includes itself: a -> a");

  CASE("invalid pipeline names");
  fails("pipelines:\n"
        "  'a,b': []\n",
        "a,b", HP_ECONFIG,
        "t.yml:2:3: 'a,b' is not a valid pipeline name: it must contain only "
        "letters, digits, '_', '-' and '.'");

  CASE("11: identical nodes in two pipelines merge");
  static const char c11[] =
      "pipelines:\n"
      "  p1:\n"
      "    - {node: a, func: f, inputs: [input, input1], outputs: output}\n"
      "  p2:\n"
      "    - {node: a, func: f, inputs: [input, input1], outputs: output}\n"
      "  __default__: [p1, p2]\n";
  check_one(c11, NULL, "a: input, input1 -> output");
  hp_pipeline *p = build_n(c11, NAMES("p1", "p2", "p1"));
  check_nodes(p, "a: input, input1 -> output");
  hp__pipeline_free(p);

  CASE("12: conflicting outputs across pipelines: the graph rejects them");
  p = build("pipelines:\n"
            "  p1:\n"
            "    - {node: a, func: f, inputs: [input, input1],\n"
            "       outputs: [output, output1]}\n"
            "  p2:\n"
            "    - {node: b, func: f, inputs: [input, input2],\n"
            "       outputs: [output, output2]}\n"
            "  __default__: [p1, p2]\n",
            NULL);
  check_nodes(p, "a: input, input1 -> output, output1 | "
                 "b: input, input2 -> output, output2");
  hp_graph *g = (hp_graph *)1;
  hp_error err = HP_ERROR_INIT;
  CHECK_EQ(hp__graph_build(p, &g, &err), HP_EGRAPH);
  CHECK_STR_EQ(err.msg, "outputs ['output'] is produced by more than one "
                        "node: output by a and b");
  hp__pipeline_free(p);

  CASE("10: two different nodes with one name");
  fails("pipelines:\n"
        "  __default__:\n"
        "    - {node: same_name, func: f, inputs: A, outputs: B}\n"
        "    - {node: same_name, func: f, inputs: A, outputs: C}\n",
        NULL, HP_EGRAPH,
        "t.yml:4:7: pipeline '__default__': node names must be unique: "
        "'same_name' (t.yml:3:7 and t.yml:4:7)");
  CASE("10: one wrapped in a sub-pipeline, one free");
  fails("pipelines:\n"
        "  sub:\n"
        "    - {node: same_name, func: f, inputs: A, outputs: B}\n"
        "  __default__:\n"
        "    - sub\n"
        "    - {node: same_name, func: g, inputs: A, outputs: B}\n",
        NULL, HP_EGRAPH,
        "t.yml:6:7: pipeline '__default__': node names must be unique: "
        "'same_name' (t.yml:3:7 and t.yml:6:7)");
  CASE("10: across requested pipelines; args count");
  fails_n("pipelines:\n"
          "  p1:\n"
          "    - {node: n, func: f, outputs: B, args: {k: 1}}\n"
          "  p2:\n"
          "    - {node: n, func: f, outputs: B, args: {k: 2}}\n",
          NAMES("p1", "p2"), HP_EGRAPH,
          "t.yml:5:7: pipeline 'p2': node names must be unique: 'n' "
          "(t.yml:3:7 and t.yml:5:7)");
  check_one("pipelines:\n"
            "  p1:\n"
            "    - {node: n, func: f, outputs: B, args: {k: 1}, tags: x}\n"
            "  p2:\n"
            "    - {node: n, func: f, outputs: B, args: {k: 1}, tags: y}\n"
            "  __default__: [p1, p2]\n",
            NULL, "n: -> B [x y]");
  CASE("10: one pipeline reused twice with different datasets");
  fails("pipelines:\n"
        "  sub:\n"
        "    - {node: n, func: f, inputs: A, outputs: B}\n"
        "  __default__:\n"
        "    - {pipeline: sub, inputs: {A: A1}}\n"
        "    - {pipeline: sub, inputs: {A: A2}}\n",
        NULL, HP_EGRAPH,
        "t.yml:3:7: pipeline '__default__': node names must be unique: 'n' is "
        "included twice with different datasets (from t.yml:3:7)");

  CASE("14: union of P1 {a, b, c} and P2 {b, d}");
  check_one("pipelines:\n"
            "  p1:\n"
            "    - {node: a, func: f, inputs: input, outputs: output1}\n"
            "    - {node: b, func: f, inputs: input1, outputs: output2}\n"
            "    - {node: c, func: f, inputs: input3, outputs: output3}\n"
            "  p2:\n"
            "    - {node: b, func: f, inputs: input1, outputs: output2}\n"
            "    - {node: d, func: f, inputs: output2, outputs: output4}\n"
            "  __default__: [p1, p2]\n",
            NULL,
            "a: input -> output1 | b: input1 -> output2 | "
            "c: input3 -> output3 | d: output2 -> output4");

  CASE("15: pipeline tags are added to every node");
  check_one("pipelines:\n"
            "  inner:\n"
            "    - {node: n1, func: f, inputs: A, outputs: B,\n"
            "       tags: [node1, p1]}\n"
            "    - {node: n2, func: f, inputs: B, outputs: C}\n"
            "  __default__:\n"
            "    - {pipeline: inner, tags: [p2, p1]}\n",
            NULL, "n1: A -> B [node1 p1 p2] | n2: B -> C [p1 p2]");
}

/* ---- namespaces and mappings (4.3) -------------------------------------- */

#define C31                                                      \
  "  inner:\n"                                                   \
  "    - {node: n1, func: f, inputs: A, outputs: B, tags: t}\n"  \
  "    - {node: n2, func: f, inputs: [C, D], outputs: [E, F]}\n" \
  "    - {node: n3, func: f, inputs: {input1: H, input2: J},\n"  \
  "       outputs: {K: L}}\n"

#define CHAIN                                          \
  "  chain:\n"                                         \
  "    - {node: n1, func: f, inputs: A, outputs: B}\n" \
  "    - {node: n2, func: f, inputs: B, outputs: C}\n" \
  "    - {node: n3, func: f, inputs: C, outputs: D}\n"

static void test_namespaces(void) {
  CASE("31: a namespace prefixes datasets and node names");
  check_one("pipelines:\n" C31 "  __default__:\n"
            "    - {pipeline: inner, namespace: PREFIX}\n",
            NULL,
            "PREFIX.n1: PREFIX.A -> PREFIX.B [t] ns=PREFIX | "
            "PREFIX.n2: PREFIX.C, PREFIX.D -> PREFIX.E, PREFIX.F ns=PREFIX | "
            "PREFIX.n3: input1=PREFIX.H, input2=PREFIX.J -> K=PREFIX.L "
            "ns=PREFIX");

  CASE("32: renaming without a namespace");
  check_one("pipelines:\n" C31 "  __default__:\n"
            "    - pipeline: inner\n"
            "      inputs: {A: A_new, D: D_new, H: H_new}\n"
            "      outputs: {B: B_new, E: E_new, L: L_new}\n",
            NULL,
            "n1: A_new -> B_new [t] | n2: C, D_new -> E_new, F | "
            "n3: input1=H_new, input2=J -> K=L_new");

  CASE("33: listed free inputs and outputs are not prefixed");
  static const char *const forms[] = {
      "      inputs: A\n      outputs: D\n",
      "      inputs: [A]\n      outputs: [D]\n",
      "      inputs: {A: A}\n      outputs: {D: D}\n"};
  for (size_t i = 0; i < 3; i++) {
    char *text = hp__xasprintf("pipelines:\n" CHAIN "  __default__:\n"
                               "    - pipeline: chain\n"
                               "      namespace: PREFIX\n%s",
                               forms[i]);
    check_one(text, NULL,
              "PREFIX.n1: A -> PREFIX.B ns=PREFIX | "
              "PREFIX.n2: PREFIX.B -> PREFIX.C ns=PREFIX | "
              "PREFIX.n3: PREFIX.C -> D ns=PREFIX");
    free(text);
  }

  CASE("34: prefixing and renaming together");
  check_one("pipelines:\n"
            "  inner:\n"
            "    - {node: n1, func: f, inputs: [C, D], outputs: [E, F]}\n"
            "  __default__:\n"
            "    - {pipeline: inner, namespace: PREFIX,\n"
            "       inputs: {C: C_new}, outputs: {E: E_new}}\n",
            NULL, "PREFIX.n1: C_new, PREFIX.D -> E_new, PREFIX.F ns=PREFIX");

  CASE("35: exposing an intermediate output renames it everywhere");
  check_one("pipelines:\n" CHAIN
            "    - {node: n4, func: f, inputs: [D, params:x], outputs: X}\n"
            "  __default__:\n"
            "    - {pipeline: chain, namespace: ACTUAL, outputs: {B: B_new}}\n",
            NULL,
            "ACTUAL.n1: ACTUAL.A -> B_new ns=ACTUAL | "
            "ACTUAL.n2: B_new -> ACTUAL.C ns=ACTUAL | "
            "ACTUAL.n3: ACTUAL.C -> ACTUAL.D ns=ACTUAL | "
            "ACTUAL.n4: ACTUAL.D, params:ACTUAL.x -> ACTUAL.X ns=ACTUAL");

  CASE("36: 'parameters' is never prefixed, params: are (adapted: no "
       "parameter outputs)");
  check_one("pipelines:\n"
            "  inner:\n"
            "    - {node: n1, func: f, inputs: parameters, outputs: B}\n"
            "    - {node: n2, func: f, inputs: [params:C, D],\n"
            "       outputs: [P, F]}\n"
            "    - {node: n3, func: f, inputs: {a: params:H, b: parameters},\n"
            "       outputs: {K: L}}\n"
            "  __default__:\n"
            "    - {pipeline: inner, namespace: PREFIX}\n",
            NULL,
            "PREFIX.n1: parameters -> PREFIX.B ns=PREFIX | "
            "PREFIX.n2: params:PREFIX.C, PREFIX.D -> PREFIX.P, PREFIX.F "
            "ns=PREFIX | "
            "PREFIX.n3: a=params:PREFIX.H, b=parameters -> K=PREFIX.L "
            "ns=PREFIX");

  CASE("37: listed parameters keep their names, in every form");
  static const char *const pforms[] = {"x", "[params:x]", "{x: x}",
                                       "{params:x: params:x}", "[x]"};
  for (size_t i = 0; i < 5; i++) {
    char *text = hp__xasprintf(
        "pipelines:\n"
        "  inner:\n"
        "    - {node: n1, func: f, inputs: [A, params:x, params:y],\n"
        "       outputs: AA}\n"
        "  __default__:\n"
        "    - pipeline: inner\n"
        "      namespace: PREFIX\n"
        "      parameters: %s\n"
        "      outputs: {AA: B}\n",
        pforms[i]);
    check_one(text, NULL,
              "PREFIX.n1: PREFIX.A, params:x, params:PREFIX.y -> B "
              "ns=PREFIX");
    free(text);
  }

  CASE("38: parameters renamed with a mapping");
  check_one("pipelines:\n"
            "  inner:\n"
            "    - {node: n1, func: f, inputs: [A, params:x], outputs: AA}\n"
            "    - {node: n2, func: f, inputs: [AA, params:y], outputs: B}\n"
            "    - {node: n3, func: f, inputs: [B, params:x], outputs: BB}\n"
            "  __default__:\n"
            "    - pipeline: inner\n"
            "      namespace: ACTUAL\n"
            "      parameters: {x: X}\n"
            "      outputs: {B: B_new}\n",
            NULL,
            "ACTUAL.n1: ACTUAL.A, params:X -> ACTUAL.AA ns=ACTUAL | "
            "ACTUAL.n2: ACTUAL.AA, params:ACTUAL.y -> B_new ns=ACTUAL | "
            "ACTUAL.n3: B_new, params:X -> ACTUAL.BB ns=ACTUAL");

  CASE("40: nested namespaces compose, outer first");
  check_one("pipelines:\n"
            "  inner:\n"
            "    - {node: n1, func: f, inputs: A, outputs: B}\n"
            "  mid:\n"
            "    - {pipeline: inner, namespace: PREFIX}\n"
            "  __default__:\n"
            "    - {pipeline: mid, namespace: PRE}\n",
            NULL, "PRE.PREFIX.n1: PRE.PREFIX.A -> PRE.PREFIX.B ns=PRE.PREFIX");
  CASE("40: outer mappings see the inner names; node namespaces nest");
  check_one("pipelines:\n"
            "  inner:\n"
            "    - {node: n1, func: f, inputs: [A, params:p], outputs: B}\n"
            "    - {node: n2, func: f, namespace: own, inputs: B,\n"
            "       outputs: C}\n"
            "  mid:\n"
            "    - {pipeline: inner, namespace: x, inputs: A}\n"
            "  __default__:\n"
            "    - pipeline: mid\n"
            "      namespace: y\n"
            "      inputs: {A: RAW}\n"
            "      outputs: {x.C: OUT}\n"
            "      parameters: x.p\n",
            NULL,
            "y.x.n1: RAW, params:x.p -> y.x.B ns=y.x | "
            "y.x.own.n2: y.x.B -> OUT ns=y.x.own");

  CASE("42: one pipeline reused under two namespaces");
  hp_pipeline *p = build("pipelines:\n"
                         "  cook:\n"
                         "    - {node: defrost, func: f, inputs: frozen_meat,\n"
                         "       outputs: meat}\n"
                         "    - {node: grill, func: f, inputs: meat,\n"
                         "       outputs: grilled_meat}\n"
                         "  eat:\n"
                         "    - {node: lunch, func: f, inputs: lunch_food,\n"
                         "       outputs: lunch_output}\n"
                         "    - {node: bkf, func: f, inputs: breakfast_food,\n"
                         "       outputs: breakfast_output}\n"
                         "  __default__:\n"
                         "    - pipeline: cook\n"
                         "      namespace: breakfast\n"
                         "      outputs: {grilled_meat: breakfast_food}\n"
                         "    - pipeline: cook\n"
                         "      namespace: lunch\n"
                         "      outputs: {grilled_meat: lunch_grilled_meat}\n"
                         "    - pipeline: eat\n"
                         "      inputs: {lunch_food: lunch_grilled_meat}\n",
                         NULL);
  check_nodes(p, "breakfast.defrost: breakfast.frozen_meat -> breakfast.meat "
                 "ns=breakfast | "
                 "breakfast.grill: breakfast.meat -> breakfast_food "
                 "ns=breakfast | "
                 "lunch.defrost: lunch.frozen_meat -> lunch.meat ns=lunch | "
                 "lunch.grill: lunch.meat -> lunch_grilled_meat ns=lunch | "
                 "lunch: lunch_grilled_meat -> lunch_output | "
                 "bkf: breakfast_food -> breakfast_output");
  hp_graph *g = NULL;
  hp_error err = HP_ERROR_INIT;
  CHECK_OK(hp__graph_build(p, &g, &err), &err);
  CHECK_EQ(g->producer[hp__graph_ds(g, "breakfast.frozen_meat")], -1);
  CHECK_EQ(g->producer[hp__graph_ds(g, "lunch.frozen_meat")], -1);
  CHECK_STR_EQ(g->p->nodes[g->order[5]].name, "lunch");
  hp__graph_free(g);
  hp__pipeline_free(p);
}

static void test_mapping_errors(void) {
  static const char base[] =
      "pipelines:\n"
      "  inner:\n"
      "    - {node: n1, func: f, inputs: [A, params:alpha], outputs: AA}\n"
      "    - {node: n2, func: f, inputs: [AA, parameters], outputs: BB}\n"
      "  __default__:\n"
      "    - pipeline: inner\n"
      "      namespace: ns\n";
  char *t;
#define TRY(extra, msg)                   \
  t = hp__xasprintf("%s%s", base, extra); \
  fails(t, NULL, HP_ECONFIG, msg);        \
  free(t)

  CASE("39: an intermediate mapped as an input");
  TRY("      inputs: {AA: CC}\n",
      "t.yml:8:16: pipeline '__default__': 'AA' is not a free input of "
      "pipeline 'inner'");
  CASE("39: a free input mapped as an output");
  TRY("      outputs: {A: C}\n",
      "t.yml:8:17: pipeline '__default__': 'A' is not an output of pipeline "
      "'inner'");
  CASE("39: a parameter under inputs");
  TRY("      inputs: {params:alpha: x}\n",
      "t.yml:8:16: pipeline '__default__': reuse of pipeline 'inner': "
      "'params:alpha' under 'inputs': parameters must be mapped under "
      "'parameters'");
  TRY("      inputs: [parameters]\n",
      "t.yml:8:16: pipeline '__default__': reuse of pipeline 'inner': "
      "'parameters' under 'inputs': parameters must be mapped under "
      "'parameters'");
  CASE("39: a parameter that is not used");
  TRY("      parameters: {beta: gamma}\n",
      "t.yml:8:20: pipeline '__default__': 'params:beta' is not a parameter "
      "used by pipeline 'inner'");
  CASE("39: names that do not exist, all listed");
  TRY("      inputs: {Z: x, A: A, Y: y}\n",
      "t.yml:8:16: pipeline '__default__': ['Y', 'Z'] are not free inputs "
      "of pipeline 'inner'");
  CASE("'parameters' itself cannot be mapped");
  TRY("      parameters: {parameters: p}\n",
      "t.yml:8:20: pipeline '__default__': reuse of pipeline 'inner': "
      "'parameters' (all parameters) cannot be mapped");
  CASE("a name mapped twice");
  TRY("      inputs: [A]\n      outputs: {A: B}\n",
      "t.yml:9:17: pipeline '__default__': reuse of pipeline 'inner': 'A' "
      "is mapped more than once");
  CASE("unknown reuse keys");
  TRY("      input: [A]\n",
      "t.yml:8:7: pipeline '__default__': unknown key 'input' in a pipeline "
      "reuse (allowed: pipeline, namespace, inputs, outputs, parameters, "
      "tags)");
  CASE("bad namespace and mapping types");
  t = hp__xasprintf("%s", base);
  t[strlen(t) - 3] = '\0';
  {
    char *u = hp__xasprintf("%sa b\n", t);
    fails(u, NULL, HP_ECONFIG,
          "t.yml:7:18: pipeline '__default__': reuse of pipeline 'inner': "
          "'namespace' must be a name: it must contain only letters, digits, "
          "'_', '-' and '.'");
    free(u);
  }
  free(t);
  TRY("      outputs: {AA: {x: y}}\n",
      "t.yml:8:21: pipeline '__default__': reuse of pipeline 'inner': "
      "'outputs' must map names to non-empty names");
  TRY("      inputs: {A: ''}\n",
      "t.yml:8:19: pipeline '__default__': reuse of pipeline 'inner': "
      "'inputs' must map names to non-empty names");
  CASE("renaming that makes a node read its own output");
  TRY("      inputs: {A: X}\n      outputs: {AA: X}\n",
      "t.yml:6:7: pipeline '__default__': after renaming, node 'ns.n1' "
      "reads and writes 'X'");
#undef TRY
}

int main(void) {
  test_nodes();
  test_union();
  test_namespaces();
  test_mapping_errors();
  hp__tree_free(doc);
  fprintf(stderr, "test_pipeline: ok\n");
  return 0;
}
