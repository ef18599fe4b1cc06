/*
 * test_yaml.c - YAML parsing (src/yaml.c) and configuration trees
 * (src/tree.c): positions, typed getters, anchors and merge keys, and every
 * error path, including hostile input (alias bombs, deep nesting, binary
 * garbage) which must fail quickly with a located message.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "map.h"
#include "mem.h"
#include "tree.h"
#include "yaml.h"

static hp_tree *parse_ok(const char *text) {
  hp_error err = HP_ERROR_INIT;
  hp_tree *t = NULL;
  CHECK_OK(hp__yaml_parse(text, strlen(text), "t.yml", &t, &err), &err);
  CHECK(t != NULL);
  return t;
}

/* Parses text expecting HP_ECONFIG with a message containing sub. */
static void parse_err_n(const char *text, size_t len, const char *sub) {
  hp_error err = HP_ERROR_INIT;
  hp_tree *t = (hp_tree *)1;
  int rc = hp__yaml_parse(text, len, "t.yml", &t, &err);
  if (rc == HP_OK)
    fprintf(stderr, "expected an error containing '%s'\n", sub);
  CHECK_EQ(rc, HP_ECONFIG);
  CHECK_EQ(err.code, HP_ECONFIG);
  CHECK(t == NULL);
  CHECK_CONTAINS(err.msg, sub);
  CHECK(strchr(err.msg, '\n') == NULL);
}

static void parse_err(const char *text, const char *sub) {
  parse_err_n(text, strlen(text), sub);
}

static void test_scalars_and_positions(void) {
  CASE("scalars, positions, key order");
  hp_tree *t = parse_ok("# comment\n"
                        "b: 1\n"
                        "a:\n"
                        "  x: hello\n"
                        "  y: [1, 2.5, true]\n"
                        "c: 'quoted'\n");
  CHECK_EQ(hp_tree_type(t), HP_TREE_MAP);
  CHECK_EQ(hp_tree_len(t), 3);
  CHECK_STR_EQ(hp_tree_key(t, 0), "b");
  CHECK_STR_EQ(hp_tree_key(t, 1), "a");
  CHECK_STR_EQ(hp_tree_key(t, 2), "c");
  CHECK(hp_tree_key(t, 3) == NULL);
  const hp_tree *b = hp_tree_at(t, 0);
  CHECK_EQ(b->line, 2);
  CHECK_EQ(b->col, 4);
  CHECK_EQ(t->keys[0]->line, 2);
  CHECK_EQ(t->keys[0]->col, 1);
  const hp_tree *x = hp_tree_get(t, "a.x");
  CHECK_STR_EQ(hp_tree_text(x), "hello");
  CHECK_EQ(x->line, 4);
  CHECK_EQ(x->col, 6);
  CHECK_STR_EQ(x->file, "t.yml");
  char loc[64];
  CHECK_STR_EQ(hp__tree_loc(x, loc, sizeof loc), "t.yml:4:6");
  const hp_tree *y = hp_tree_get(t, "a.y");
  CHECK_EQ(hp_tree_type(y), HP_TREE_SEQ);
  CHECK_EQ(hp_tree_len(y), 3);
  CHECK_EQ(y->line, 5);
  CHECK_EQ(y->col, 6);
  CHECK_STR_EQ(hp_tree_text(hp_tree_get(t, "a.y.1")), "2.5");
  CHECK(hp_tree_get(t, "a.y.3") == NULL);
  CHECK(hp_tree_get(t, "a.z") == NULL);
  CHECK(hp_tree_get(t, "b.z") == NULL);
  CHECK(hp_tree_get(t, "") == t);
  CHECK(hp_tree_get(t, NULL) == t);
  CHECK(hp_tree_text(t) == NULL);
  CHECK(hp_tree_get(t, "c")->quoted);
  CHECK(!hp_tree_get(t, "b")->quoted);
  hp__tree_free(t);
}

static void test_typed_getters(void) {
  CASE("typed getters");
  hp_tree *t = parse_ok("i: 42\n"
                        "neg: -7\n"
                        "hex: 0x1F\n"
                        "big: 9223372036854775807\n"
                        "over: 9223372036854775808\n"
                        "f: 1.5\n"
                        "e: 1e3\n"
                        "inf: .inf\n"
                        "ninf: -.Inf\n"
                        "nan: .nan\n"
                        "bt: True\n"
                        "bf: FALSE\n"
                        "q: \"3\"\n"
                        "s: hello\n"
                        "n: ~\n"
                        "empty:\n"
                        "tagged: !!str 5\n"
                        "m: {k: v}\n");
  int64_t i;
  double d;
  int b;
  CHECK_EQ(hp_tree_i64(t, "i", 0, &i), HP_OK);
  CHECK_EQ(i, 42);
  CHECK_EQ(hp_tree_i64(t, "neg", 0, &i), HP_OK);
  CHECK_EQ(i, -7);
  CHECK_EQ(hp_tree_i64(t, "hex", 0, &i), HP_OK);
  CHECK_EQ(i, 31);
  CHECK_EQ(hp_tree_i64(t, "big", 0, &i), HP_OK);
  CHECK(i == INT64_MAX);
  CHECK_EQ(hp_tree_i64(t, "over", 0, &i), HP_EINVAL);
  CHECK_EQ(hp_tree_i64(t, "f", 0, &i), HP_EINVAL);
  CHECK_EQ(hp_tree_i64(t, "q", 0, &i), HP_EINVAL); /* quoted: a string */
  CHECK_EQ(hp_tree_i64(t, "tagged", 0, &i), HP_EINVAL);
  CHECK_EQ(hp_tree_i64(t, "m", 0, &i), HP_EINVAL);
  CHECK_EQ(hp_tree_i64(t, "absent", 9, &i), HP_OK);
  CHECK_EQ(i, 9);
  CHECK_EQ(hp_tree_i64(t, "n", 8, &i), HP_OK); /* null reads as absent */
  CHECK_EQ(i, 8);
  CHECK_EQ(hp_tree_i64(t, "empty", 7, &i), HP_OK);
  CHECK_EQ(i, 7);
  CHECK_EQ(hp_tree_i64(hp_tree_get(t, "i"), NULL, 0, &i), HP_OK);
  CHECK_EQ(i, 42);

  CHECK_EQ(hp_tree_f64(t, "f", 0, &d), HP_OK);
  CHECK(d == 1.5);
  CHECK_EQ(hp_tree_f64(t, "e", 0, &d), HP_OK);
  CHECK(d == 1000.0);
  CHECK_EQ(hp_tree_f64(t, "i", 0, &d), HP_OK);
  CHECK(d == 42.0);
  CHECK_EQ(hp_tree_f64(t, "inf", 0, &d), HP_OK);
  CHECK(isinf(d) && d > 0);
  CHECK_EQ(hp_tree_f64(t, "ninf", 0, &d), HP_OK);
  CHECK(isinf(d) && d < 0);
  CHECK_EQ(hp_tree_f64(t, "nan", 0, &d), HP_OK);
  CHECK(isnan(d));
  CHECK_EQ(hp_tree_f64(t, "s", 0, &d), HP_EINVAL);
  CHECK_EQ(hp_tree_f64(t, "bt", 0, &d), HP_EINVAL);
  CHECK_EQ(hp_tree_f64(t, "absent", 2.5, &d), HP_OK);
  CHECK(d == 2.5);

  CHECK_EQ(hp_tree_bool(t, "bt", 0, &b), HP_OK);
  CHECK_EQ(b, 1);
  CHECK_EQ(hp_tree_bool(t, "bf", 1, &b), HP_OK);
  CHECK_EQ(b, 0);
  CHECK_EQ(hp_tree_bool(t, "i", 0, &b), HP_EINVAL);
  CHECK_EQ(hp_tree_bool(t, "absent", 1, &b), HP_OK);
  CHECK_EQ(b, 1);

  CHECK_STR_EQ(hp_tree_str(t, "s", "d"), "hello");
  CHECK_STR_EQ(hp_tree_str(t, "q", "d"), "3");
  CHECK_STR_EQ(hp_tree_str(t, "i", "d"), "42");
  CHECK_STR_EQ(hp_tree_str(t, "m", "d"), "d");
  CHECK_STR_EQ(hp_tree_str(t, "absent", "d"), "d");
  CHECK_STR_EQ(hp_tree_str(t, "n", "d"), "d");
  CHECK(hp_tree_str(t, "absent", NULL) == NULL);

  CHECK(hp__tree_is_null(hp_tree_get(t, "n")));
  CHECK(hp__tree_is_null(hp_tree_get(t, "empty")));
  CHECK(!hp__tree_is_null(hp_tree_get(t, "s")));
  CHECK(hp__tree_is_null(NULL));
  hp__tree_free(t);

  /* NULL trees */
  CHECK_EQ(hp_tree_type(NULL), HP_TREE_NULL);
  CHECK_EQ(hp_tree_len(NULL), 0);
  CHECK(hp_tree_at(NULL, 0) == NULL);
  CHECK(hp_tree_get(NULL, "a") == NULL);
  CHECK_EQ(hp_tree_i64(NULL, "a", 3, &i), HP_OK);
  CHECK_EQ(i, 3);
}

static void test_empty(void) {
  CASE("empty input, comments only, explicit null document");
  const char *docs[] = {"", "# only a comment\n\n# another\n", "---\n",
                        "~\n", "   \n"};
  for (size_t k = 0; k < sizeof docs / sizeof *docs; k++) {
    hp_tree *t = parse_ok(docs[k]);
    CHECK_EQ(hp_tree_type(t), HP_TREE_NULL);
    hp__tree_free(t);
  }
  hp_error err = HP_ERROR_INIT;
  hp_tree *t = NULL;
  CHECK_OK(hp__yaml_parse(NULL, 0, "t.yml", &t, &err), &err);
  CHECK_EQ(hp_tree_type(t), HP_TREE_NULL);
  hp__tree_free(t);
}

static void test_anchors_and_merge(void) {
  CASE("anchors, aliases, merge keys");
  hp_tree *t = parse_ok("_base: &base\n"
                        "  type: csv\n"
                        "  sep: ','\n"
                        "_more: &more {versioned: true, sep: ';'}\n"
                        "a:\n"
                        "  filepath: a.csv\n"
                        "  <<: *base\n"
                        "  sep: '|'\n"
                        "b:\n"
                        "  <<: [*more, *base]\n"
                        "c: *base\n"
                        "d: {<<: {x: 1, y: 2}, y: 3}\n"
                        "list: &l [1, 2]\n"
                        "e: *l\n");
  const hp_tree *a = hp_tree_get(t, "a");
  /* Explicit keys win over merged ones wherever they are written; merged
   * keys take the place of `<<`. */
  CHECK_EQ(hp_tree_len(a), 3);
  CHECK_STR_EQ(hp_tree_key(a, 0), "filepath");
  CHECK_STR_EQ(hp_tree_key(a, 1), "type");
  CHECK_STR_EQ(hp_tree_key(a, 2), "sep");
  CHECK_STR_EQ(hp_tree_str(a, "sep", NULL), "|");
  CHECK_STR_EQ(hp_tree_str(a, "type", NULL), "csv");
  /* A list of maps: earlier maps win. */
  const hp_tree *b = hp_tree_get(t, "b");
  CHECK_EQ(hp_tree_len(b), 3);
  CHECK_STR_EQ(hp_tree_str(b, "sep", NULL), ";");
  CHECK_STR_EQ(hp_tree_str(b, "type", NULL), "csv");
  int v;
  CHECK_EQ(hp_tree_bool(b, "versioned", 0, &v), HP_OK);
  CHECK_EQ(v, 1);
  const hp_tree *c = hp_tree_get(t, "c");
  CHECK_EQ(hp_tree_len(c), 2);
  CHECK_EQ(c->line, 11); /* a copy carries the alias's position */
  CHECK_EQ(c->col, 4);
  CHECK(c != hp_tree_get(t, "_base"));
  int64_t i;
  CHECK_EQ(hp_tree_i64(t, "d.y", 0, &i), HP_OK);
  CHECK_EQ(i, 3);
  CHECK_EQ(hp_tree_i64(t, "d.x", 0, &i), HP_OK);
  CHECK_EQ(i, 1);
  CHECK_STR_EQ(hp_tree_key(hp_tree_get(t, "d"), 0), "x");
  CHECK_EQ(hp_tree_len(hp_tree_get(t, "e")), 2);
  hp__tree_free(t);

  /* An anchor defined inside a merge value stays usable. */
  t = parse_ok("a: {<<: &x {k: 1}}\nb: *x\nc: {<<: [&y {j: 2}]}\nd: *y\n");
  CHECK_EQ(hp_tree_i64(t, "b.k", 0, &i), HP_OK);
  CHECK_EQ(i, 1);
  CHECK_EQ(hp_tree_i64(t, "d.j", 0, &i), HP_OK);
  CHECK_EQ(i, 2);
  hp__tree_free(t);

  /* Alias as a key, redefined anchors (the latest wins). */
  t = parse_ok("k: &n name\n*n : 1\nx: &n other\ny: *n\n");
  CHECK_EQ(hp_tree_i64(t, "name", 0, &i), HP_OK);
  CHECK_EQ(i, 1);
  CHECK_STR_EQ(hp_tree_str(t, "y", NULL), "other");
  hp__tree_free(t);

  /* A quoted "<<" is an ordinary key. */
  t = parse_ok("'<<': 1\n");
  CHECK_STR_EQ(hp_tree_key(t, 0), "<<");
  hp__tree_free(t);
}

static void test_errors(void) {
  CASE("syntax errors from libyaml");
  parse_err("a: b: c\n", "t.yml:1:5: mapping values are not allowed");
  parse_err("a: [1, 2\n", "t.yml:2:1: did not find expected ',' or ']' "
                          "(while parsing a flow sequence at line 1, "
                          "column 4)");
  parse_err("a:\n  - 1\n b: 2\n", "t.yml:3:2:");
  parse_err("a: \"unterminated\n", "t.yml:");
  parse_err("\tx: 1\n", "t.yml:1:1: found character that cannot start any "
                        "token");

  CASE("duplicate keys");
  parse_err("a: 1\nb: 2\na: 3\n",
            "t.yml:3:1: duplicate key 'a' (first at line 1, column 1)");
  parse_err("x:\n  k: 1\n  k: 2\n",
            "t.yml:3:3: duplicate key 'k' (first at line 2, column 3)");
  parse_err("{'a': 1, a: 2}\n", "t.yml:1:10: duplicate key 'a'");
  {
    /* A large mapping uses the hash index. */
    hp_buf b = {0};
    for (int i = 0; i < 100; i++)
      hp__buf_printf(&b, "k%d: %d\n", i, i);
    hp__buf_puts(&b, "k42: dup\n");
    parse_err(b.data, "t.yml:101:1: duplicate key 'k42' (first at line 43, "
                      "column 1)");
    hp__buf_free(&b);
  }
  parse_err("a: {<<: {x: 1}, <<: {y: 2}}\n",
            "t.yml:1:17: duplicate merge key '<<' (first at line 1, "
            "column 5)");

  CASE("multiple documents");
  parse_err("a: 1\n---\nb: 2\n", "t.yml:2:1: a second YAML document");

  CASE("non-scalar keys");
  parse_err("? [1, 2]\n: x\n", "t.yml:1:3: mapping keys must be scalars, "
                               "not a sequence");
  parse_err("{a: 1}: x\n", "t.yml:1:1: mapping keys must be scalars");
  parse_err("m: &m {a: 1}\n*m : 2\n", "t.yml:2:1: mapping keys must be");

  CASE("aliases and merges");
  parse_err("a: *nope\n", "t.yml:1:4: undefined alias '*nope'");
  parse_err("a: &a [*a]\n", "undefined alias '*a'");
  parse_err("s: &s text\nm: {<<: *s}\n",
            "t.yml:2:5: merge key '<<' needs a mapping or a list of mappings");
  parse_err("m: {<<: [{a: 1}, 3]}\n",
            "t.yml:1:18: merge key '<<' needs a mapping");

  CASE("tags");
  parse_err("a: !custom 1\n", "t.yml:1:4: unsupported tag '!custom'");
  parse_err("a: !!binary aGVsbG8=\n", "unsupported tag "
                                      "'tag:yaml.org,2002:binary'");

  CASE("NUL in a scalar");
  parse_err("a: \"x\\0y\"\n", "t.yml:1:4: scalar contains a NUL character");
}

static void test_hostile(void) {
  CASE("billion laughs");
  const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                     "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                     "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                     "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
  clock_t t0 = clock();
  parse_err(bomb, "possible alias bomb");
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  fprintf(stderr, "  alias bomb rejected in %.3f s\n", secs);
  CHECK(secs < 5.0);

  CASE("merge-key bomb");
  const char *mbomb = "a: &a {a0: 0, a1: 1, a2: 2, a3: 3, a4: 4, a5: 5, a6: 6,"
                      " a7: 7, a8: 8, a9: 9}\n"
                      "b: &b {b0: {<<: *a}, b1: {<<: *a}, b2: {<<: *a}, "
                      "b3: *a, b4: *a, b5: *a, b6: *a, b7: *a, b8: *a, "
                      "b9: *a}\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                      "h: {<<: [*g, *g]}\n";
  parse_err(mbomb, "alias");

  CASE("deep nesting");
  {
    size_t n = 10000;
    char *deep = hp__xmalloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    parse_err(deep, "t.yml:1:65: nesting deeper than 64 levels");
    hp_buf fm = {0};
    for (size_t i = 0; i < n; i++)
      hp__buf_puts(&fm, "{a: ");
    for (size_t i = 0; i < n; i++)
      hp__buf_putc(&fm, '}');
    parse_err(fm.data, "t.yml:1:257: nesting deeper than 64 levels");
    hp__buf_free(&fm);
    /* Block style: "a:\n  a:\n    a: ..." */
    hp_buf b = {0};
    for (int i = 0; i < 100; i++) {
      for (int s = 0; s < i; s++)
        hp__buf_puts(&b, " ");
      hp__buf_puts(&b, "a:\n");
    }
    parse_err(b.data, "nesting deeper than 64 levels");
    hp__buf_free(&b);
    /* 64 levels are fine. */
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    hp_tree *t = parse_ok(deep);
    hp__tree_free(t);
    free(deep);
  }

  CASE("garbage bytes");
  {
    unsigned char junk[4096];
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    for (int round = 0; round < 200; round++) {
      for (size_t i = 0; i < sizeof junk; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        junk[i] = (unsigned char)(s >> 24);
      }
      size_t len = (size_t)(s % sizeof junk);
      hp_error err = HP_ERROR_INIT;
      hp_tree *t = NULL;
      int rc = hp__yaml_parse((const char *)junk, len, "junk.bin", &t, &err);
      if (rc == HP_OK)
        hp__tree_free(t);
      else
        CHECK_CONTAINS(err.msg, "junk.bin:");
    }
    const char nul[] = "a: 1\0b: 2\n";
    parse_err_n(nul, sizeof nul - 1, "t.yml:1:5: control characters are not "
                                     "allowed");
    parse_err("a: \xff\xfe\n", "invalid");
    /* Structural junk that libyaml accepts token by token. */
    parse_err("]]]", "t.yml:1:1:");
    parse_err("- a\nb: c\n", "t.yml:2:1:");
    parse_err("&a &b x\n", "t.yml:1:");
    parse_err("%YAML 9.9\n---\na\n", "t.yml:1:");
  }
}

static void test_tree_ops(void) {
  CASE("tree copy, put, merge, hash");
  hp_tree *a = parse_ok("x: 1\nm: {p: 1, q: [1, 2]}\nl: [a]\n");
  hp_tree *b = parse_ok("m: {q: 3, r: 4}\nl: [b, c]\nnew: {z: 1}\n");
  hp_tree *c = hp__tree_copy(a);
  CHECK(hp__tree_hash(a, HP_HASH_SEED) == hp__tree_hash(c, HP_HASH_SEED));
  hp__tree_merge(c, hp__tree_copy(b));
  CHECK(hp__tree_hash(a, HP_HASH_SEED) != hp__tree_hash(c, HP_HASH_SEED));
  CHECK_EQ(hp_tree_len(c), 4);
  CHECK_STR_EQ(hp_tree_key(c, 3), "new");
  CHECK_STR_EQ(hp_tree_str(c, "m.q", NULL), "3");
  CHECK_STR_EQ(hp_tree_str(c, "m.p", NULL), "1");
  CHECK_STR_EQ(hp_tree_str(c, "m.r", NULL), "4");
  CHECK_EQ(hp_tree_len(hp_tree_get(c, "l")), 2); /* lists replace */
  CHECK_STR_EQ(hp_tree_str(c, "l.0", NULL), "b");

  /* Non-map merge replaces in place. */
  hp_tree *s = hp__tree_scalar("v", 1, "f", 1, 1);
  hp__tree_merge(s, hp__tree_copy(b));
  CHECK_EQ(hp_tree_type(s), HP_TREE_MAP);
  hp__tree_merge(s, hp__tree_scalar("w", 0, "g", 2, 3));
  CHECK_STR_EQ(hp_tree_text(s), "w");
  CHECK_STR_EQ(s->file, "g");
  hp__tree_free(s);

  /* put replaces in place, keeping the position. */
  hp__tree_put(c, hp__tree_scalar("x", 0, NULL, 0, 0),
               hp__tree_scalar("9", 0, NULL, 0, 0));
  CHECK_STR_EQ(hp_tree_key(c, 0), "x");
  CHECK_STR_EQ(hp_tree_str(c, "x", NULL), "9");
  CHECK_EQ(hp__tree_index(c, "new"), 3);
  CHECK_EQ(hp__tree_index(c, "nope"), -1);
  CHECK(hp__tree_find(c, "m") == hp_tree_at(c, 1));
  CHECK(hp__tree_find(hp_tree_get(c, "x"), "m") == NULL);

  /* Hash: order and quoting matter, positions do not. */
  hp_tree *h1 = parse_ok("a: 1\nb: 2\n");
  hp_tree *h2 = parse_ok("\n\nb: 2\na: 1\n");
  hp_tree *h3 = parse_ok("{a: 1, b: 2}");
  hp_tree *h4 = parse_ok("{a: '1', b: 2}");
  CHECK(hp__tree_hash(h1, 1) != hp__tree_hash(h2, 1));
  CHECK(hp__tree_hash(h1, 1) == hp__tree_hash(h3, 1));
  CHECK(hp__tree_hash(h1, 1) != hp__tree_hash(h4, 1));
  CHECK(hp__tree_hash(h1, 1) != hp__tree_hash(h1, 2));
  hp__tree_free(h1);
  hp__tree_free(h2);
  hp__tree_free(h3);
  hp__tree_free(h4);

  /* Large merges go through the index. */
  hp_tree *big = hp__tree_new(HP_TREE_MAP, "f", 1, 1);
  hp_tree *over = hp__tree_new(HP_TREE_MAP, "f", 1, 1);
  char k[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(k, sizeof k, "k%d", i);
    hp__tree_put(big, hp__tree_scalar(k, 0, "f", 1, 1),
                 hp__tree_scalar("old", 0, "f", 1, 1));
    if (i % 2 == 0)
      hp__tree_put(over, hp__tree_scalar(k, 0, "f", 1, 1),
                   hp__tree_scalar("new", 0, "f", 1, 1));
  }
  hp__tree_put(over, hp__tree_scalar("extra", 0, "f", 1, 1),
               hp__tree_scalar("x", 0, "f", 1, 1));
  hp__tree_merge(big, over);
  CHECK_EQ(hp_tree_len(big), 1001);
  CHECK_STR_EQ(hp_tree_str(big, "k10", NULL), "new");
  CHECK_STR_EQ(hp_tree_str(big, "k11", NULL), "old");
  CHECK_STR_EQ(hp_tree_key(big, 1000), "extra");
  hp__tree_free(big);

  hp__tree_free(a);
  hp__tree_free(b);
  hp__tree_free(c);
}

static void test_big(void) {
  CASE("a 20000-node pipelines file");
  hp_buf b = {0};
  hp__buf_puts(&b, "pipelines:\n  __default__:\n");
  for (int i = 0; i < 20000; i++)
    hp__buf_printf(&b,
                   "    - {node: n%d, func: core.noop, inputs: d%d, "
                   "outputs: d%d}\n",
                   i, i, i + 1);
  hp_error err = HP_ERROR_INIT;
  hp_tree *t = NULL;
  CHECK_OK(hp__yaml_parse(b.data, b.len, "p.yml", &t, &err), &err);
  const hp_tree *l = hp_tree_get(t, "pipelines.__default__");
  CHECK_EQ(hp_tree_len(l), 20000);
  CHECK_STR_EQ(hp_tree_str(l, "19999.node", NULL), "n19999");
  CHECK_EQ(hp_tree_at(l, 19999)->line, 20002);
  hp__tree_free(t);
  hp__buf_free(&b);
}

int main(void) {
  test_scalars_and_positions();
  test_typed_getters();
  test_empty();
  test_anchors_and_merge();
  test_errors();
  test_hostile();
  test_tree_ops();
  test_big();
  fprintf(stderr, "test_yaml: all passed\n");
  return 0;
}
