/*
 * yaml.c - the only user of libyaml: turns YAML text into an hp_tree with
 * libyaml's event parser, keeping the 1-based line and column of every
 * node. Anchors are expanded by copy, `<<` merge keys applied, duplicate
 * keys, multiple documents and unsupported tags rejected. Hostile input is
 * bounded: nesting depth, total node count, and an alias-expansion budget
 * that is checked before anything is copied, so an alias bomb fails fast.
 */
#include "yaml.h"

#include <yaml.h> /* libyaml's: src/ is not on the library's include path */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "mem.h"

/* Aliases and merge keys may expand to at most ALIAS_RATIO copied nodes per
 * node written in the file, once more than ALIAS_FREE nodes were copied:
 * legitimate files reuse small anchors, an alias bomb multiplies them. */
#define ALIAS_FREE 1000000u
#define ALIAS_RATIO 16u
/* Maps with more keys than this get a hash index for duplicate checks. */
#define INDEX_MIN 8u

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct anchor {
  hp_tree *node; /* borrowed from the tree being built */
  size_t size;   /* nodes in it, expansions included */
} anchor;

typedef struct frame {
  hp_tree *node;      /* the open sequence or mapping */
  char *anchor;       /* its anchor name, registered when it ends */
  size_t start;       /* node count before it started */
  hp_tree *key;       /* maps: key waiting for its value */
  int key_merge;      /* the waiting key is `<<` */
  hp_map *index;      /* maps: key -> position + 1, once large */
  hp_tree *merge;     /* value of `<<`, applied when the map ends */
  int merge_owned;    /* 0 when merge is an anchored node (borrowed) */
  hp_tree *merge_key; /* the `<<` key, for messages */
  size_t merge_at;    /* explicit entries written before `<<` */
} frame;

typedef struct parser {
  const char *file;
  const char *text;
  size_t len;
  hp_error *err;
  frame *stack;
  size_t depth, cap;
  hp_map *anchors; /* name -> anchor * */
  hp_tree **grave; /* merge values kept alive until the end (anchors) */
  size_t ngrave, capgrave;
  hp_tree *root;
  size_t total;    /* nodes created, expansions included */
  size_t expanded; /* of which copied by aliases and merges */
  int docs;
} parser;

static int fail_at(parser *p, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(parser *p, size_t line, size_t col, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return hp__fail(p->err, HP_ECONFIG, "%s:%zu:%zu: %s", p->file, line, col,
                  msg);
}

/* Shortens s for a message: at most 60 bytes, with "..." when cut. */
static const char *shorten(const char *s, char *buf, size_t n) {
  size_t len = strlen(s);
  if (len < n && len <= 60)
    return s;
  snprintf(buf, n, "%.57s...", s);
  return buf;
}

/* Counts the nodes of t, stopping early once the count exceeds limit. */
static size_t count_nodes(const hp_tree *t, size_t limit) {
  size_t c = 1;
  for (size_t i = 0; i < t->n && c <= limit; i++) {
    c += count_nodes(t->items[i], limit - c);
    if (t->keys)
      c++;
  }
  return c;
}

/* Charges n new nodes (expansion: copied by an alias or merge) against the
 * budgets before they are created. */
static int charge(parser *p, size_t n, int expansion, size_t line,
                  size_t col) {
  if (n > HP_YAML_MAX_NODES || p->total + n > HP_YAML_MAX_NODES)
    return fail_at(p, line, col,
                   "document too large: more than %u nodes counting alias "
                   "expansions",
                   HP_YAML_MAX_NODES);
  if (expansion) {
    size_t literal = p->total - p->expanded;
    size_t after = p->expanded + n;
    if (after > ALIAS_FREE && after / ALIAS_RATIO > literal)
      return fail_at(p, line, col,
                     "aliases expand to more than %zu nodes from %zu written "
                     "nodes: refusing a possible alias bomb",
                     after, literal);
    p->expanded = after;
  }
  p->total += n;
  return HP_OK;
}

static long frame_find(const frame *f, const char *key) {
  if (f->index)
    return (long)(uintptr_t)hp__map_get(f->index, key) - 1;
  return hp__tree_index(f->node, key);
}

static void frame_add(frame *f, hp_tree *key, hp_tree *val) {
  hp_tree *m = f->node;
  if (m->n == m->cap) {
    size_t cap = m->cap;
    hp__grow(&m->items, &m->cap, m->n + 1, sizeof *m->items);
    hp__grow(&m->keys, &cap, m->n + 1, sizeof *m->keys);
  }
  m->keys[m->n] = key;
  m->items[m->n++] = val;
  if (f->index) {
    hp__map_put(f->index, key->text, (void *)(uintptr_t)m->n);
  } else if (m->n > INDEX_MIN) {
    f->index = hp__map_new();
    for (size_t i = 0; i < m->n; i++)
      hp__map_put(f->index, m->keys[i]->text, (void *)(uintptr_t)(i + 1));
  }
}

static void bury(parser *p, hp_tree *t) {
  if (p->ngrave == p->capgrave)
    hp__grow(&p->grave, &p->capgrave, p->ngrave + 1, sizeof *p->grave);
  p->grave[p->ngrave++] = t;
}

static void frame_clear(frame *f) {
  hp__tree_free(f->node);
  hp__tree_free(f->key);
  if (f->merge_owned)
    hp__tree_free(f->merge);
  hp__tree_free(f->merge_key);
  hp__map_free(f->index, NULL);
  free(f->anchor);
  memset(f, 0, sizeof *f);
}

/* Registers an anchor on a finished node (a later anchor of the same name
 * replaces it, as YAML says). */
static void set_anchor(parser *p, const char *name, hp_tree *node,
                       size_t size) {
  anchor *a = hp__xmalloc(sizeof *a);
  a->node = node;
  a->size = size;
  free(hp__map_put(p->anchors, name, a));
}

/* Hands a finished node to its parent: the root, a sequence item, a map
 * key or a map value. Takes ownership of v. */
static int add_value(parser *p, hp_tree *v) {
  if (!p->depth) {
    p->root = v;
    return HP_OK;
  }
  frame *f = &p->stack[p->depth - 1];
  if (f->node->kind == HP_TREE_SEQ) {
    hp__tree_append(f->node, v);
    return HP_OK;
  }
  if (f->key) {
    if (f->key_merge) {
      f->merge = v;
      f->merge_owned = 1;
      f->merge_key = f->key;
      f->merge_at = f->node->n;
      f->key = NULL;
      f->key_merge = 0;
    } else {
      frame_add(f, f->key, v);
      f->key = NULL;
    }
    return HP_OK;
  }
  if (v->kind != HP_TREE_SCALAR) {
    int rc = fail_at(p, v->line, v->col,
                     "mapping keys must be scalars, not a %s",
                     v->kind == HP_TREE_MAP ? "mapping" : "sequence");
    hp__tree_free(v);
    return rc;
  }
  char sb[64];
  if (!v->quoted && !strcmp(v->text, "<<")) {
    if (f->merge_key) {
      int rc = fail_at(p, v->line, v->col,
                       "duplicate merge key '<<' (first at line %u, column "
                       "%u)",
                       (unsigned)f->merge_key->line,
                       (unsigned)f->merge_key->col);
      hp__tree_free(v);
      return rc;
    }
    f->key = v;
    f->key_merge = 1;
    return HP_OK;
  }
  long i = frame_find(f, v->text);
  if (i >= 0) {
    const hp_tree *k0 = f->node->keys[i];
    int rc = fail_at(p, v->line, v->col,
                     "duplicate key '%s' (first at line %u, column %u)",
                     shorten(v->text, sb, sizeof sb), (unsigned)k0->line,
                     (unsigned)k0->col);
    hp__tree_free(v);
    return rc;
  }
  f->key = v;
  return HP_OK;
}

/* Applies a `<<` merge when its mapping ends: keys of the merged maps that
 * the mapping does not define are inserted where `<<` was written; with a
 * list of maps, earlier maps win. */
static int apply_merge(parser *p, frame *f) {
  hp_tree *m = f->merge;
  const hp_tree *mk = f->merge_key;
  if (!m)
    return HP_OK;
  hp_tree *const *src = &m;
  size_t nsrc = 1;
  if (m->kind == HP_TREE_SEQ) {
    src = m->items;
    nsrc = m->n;
  }
  for (size_t s = 0; s < nsrc; s++)
    if (src[s]->kind != HP_TREE_MAP) {
      const hp_tree *at = src[s] == m && !f->merge_owned ? mk : src[s];
      return fail_at(p, at->line, at->col,
                     "merge key '<<' needs a mapping or a list of mappings");
    }
  size_t nexp = f->node->n;
  for (size_t s = 0; s < nsrc; s++) {
    const hp_tree *sm = src[s];
    for (size_t i = 0; i < sm->n; i++) {
      if (frame_find(f, sm->keys[i]->text) >= 0)
        continue;
      size_t n = 1 + count_nodes(sm->items[i], HP_YAML_MAX_NODES);
      HP_TRY(charge(p, n, 1, mk->line, mk->col));
      frame_add(f, hp__tree_copy(sm->keys[i]), hp__tree_copy(sm->items[i]));
    }
  }
  /* Move the merged block [nexp, n) to position merge_at. */
  hp_tree *node = f->node;
  size_t nm = node->n - nexp, tail = nexp - f->merge_at;
  if (nm && tail) {
    hp_tree **tmp = hp__xmalloc(nm * sizeof *tmp);
    hp_tree **arrs[2] = {node->items, node->keys};
    for (int a = 0; a < 2; a++) {
      hp_tree **arr = arrs[a];
      memcpy(tmp, arr + nexp, nm * sizeof *tmp);
      memmove(arr + f->merge_at + nm, arr + f->merge_at, tail * sizeof *tmp);
      memcpy(arr + f->merge_at, tmp, nm * sizeof *tmp);
    }
    free(tmp);
  }
  if (f->merge_owned)
    bury(p, m);
  f->merge = NULL;
  f->merge_owned = 0;
  return HP_OK;
}

/* Tags: the core schema's are accepted (!!str makes a scalar a string),
 * anything else is an error rather than silently ignored. */
static int check_tag(parser *p, const yaml_char_t *tag, hp_tree_kind kind,
                     int *quoted, const yaml_mark_t *mk) {
  if (!tag)
    return HP_OK;
  const char *t = (const char *)tag;
  if (!strcmp(t, "!") && kind == HP_TREE_SCALAR) {
    *quoted = 1;
    return HP_OK;
  }
  if (!strncmp(t, TAG_PREFIX, strlen(TAG_PREFIX))) {
    const char *s = t + strlen(TAG_PREFIX);
    if (kind == HP_TREE_SCALAR && !strcmp(s, "str")) {
      *quoted = 1;
      return HP_OK;
    }
    if (kind == HP_TREE_SCALAR &&
        (!strcmp(s, "int") || !strcmp(s, "float") || !strcmp(s, "bool") ||
         !strcmp(s, "null"))) {
      *quoted = 0;
      return HP_OK;
    }
    if ((kind == HP_TREE_SEQ && !strcmp(s, "seq")) ||
        (kind == HP_TREE_MAP && !strcmp(s, "map")))
      return HP_OK;
  }
  char sb[64];
  return fail_at(p, mk->line + 1, mk->column + 1, "unsupported tag '%s'",
                 shorten(t, sb, sizeof sb));
}

static int on_alias(parser *p, yaml_event_t *ev) {
  const char *name = (const char *)ev->data.alias.anchor;
  size_t line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
  char sb[64];
  anchor *a = hp__map_get(p->anchors, name);
  if (!a)
    return fail_at(p, line, col, "undefined alias '*%s'",
                   shorten(name, sb, sizeof sb));
  frame *f = p->depth ? &p->stack[p->depth - 1] : NULL;
  if (f && f->node->kind == HP_TREE_MAP && f->key && f->key_merge) {
    /* `<<: *x` reads the anchored node in place: no copy. */
    f->merge = a->node;
    f->merge_owned = 0;
    f->merge_key = f->key;
    f->merge_at = f->node->n;
    f->key = NULL;
    f->key_merge = 0;
    return HP_OK;
  }
  HP_TRY(charge(p, a->size, 1, line, col));
  hp_tree *c = hp__tree_copy(a->node);
  c->line = (uint32_t)line;
  c->col = (uint32_t)col;
  return add_value(p, c);
}

static int on_scalar(parser *p, yaml_event_t *ev) {
  size_t line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
  char *text = (char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  if (memchr(text, '\0', len))
    return fail_at(p, line, col, "scalar contains a NUL character");
  int quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
  HP_TRY(check_tag(p, ev->data.scalar.tag, HP_TREE_SCALAR, &quoted,
                   &ev->start_mark));
  HP_TRY(charge(p, 1, 0, line, col));
  hp_tree *t = hp__tree_new(HP_TREE_SCALAR, p->file, (uint32_t)line,
                            (uint32_t)col);
  t->quoted = (uint8_t)quoted;
  /* libyaml allocates scalar values with malloc: take the buffer over
   * instead of copying it (yaml_event_delete skips a NULL value). */
  t->text = text;
  ev->data.scalar.value = NULL;
  if (ev->data.scalar.anchor)
    set_anchor(p, (const char *)ev->data.scalar.anchor, t, 1);
  return add_value(p, t);
}

static int on_start(parser *p, yaml_event_t *ev, hp_tree_kind kind) {
  size_t line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
  int q = 0;
  yaml_char_t *tag = kind == HP_TREE_SEQ ? ev->data.sequence_start.tag
                                         : ev->data.mapping_start.tag;
  yaml_char_t **anc = kind == HP_TREE_SEQ ? &ev->data.sequence_start.anchor
                                          : &ev->data.mapping_start.anchor;
  HP_TRY(check_tag(p, tag, kind, &q, &ev->start_mark));
  if (p->depth >= HP_YAML_MAX_DEPTH)
    return fail_at(p, line, col, "nesting deeper than %d levels",
                   HP_YAML_MAX_DEPTH);
  size_t start = p->total;
  HP_TRY(charge(p, 1, 0, line, col));
  if (p->depth == p->cap)
    hp__grow(&p->stack, &p->cap, p->depth + 1, sizeof *p->stack);
  frame *f = &p->stack[p->depth++];
  memset(f, 0, sizeof *f);
  f->node = hp__tree_new(kind, p->file, (uint32_t)line, (uint32_t)col);
  f->start = start;
  f->anchor = (char *)*anc; /* taken over, as for scalar values */
  *anc = NULL;
  return HP_OK;
}

static int on_end(parser *p) {
  frame *f = &p->stack[p->depth - 1];
  if (f->node->kind == HP_TREE_MAP)
    HP_TRY(apply_merge(p, f));
  hp_tree *node = f->node;
  if (f->anchor)
    set_anchor(p, f->anchor, node, p->total - f->start);
  f->node = NULL;
  frame_clear(f);
  p->depth--;
  return add_value(p, node);
}

/* libyaml's own error, with its problem, position and context. */
static int libyaml_error(parser *p, const yaml_parser_t *yp) {
  const char *problem = yp->problem ? yp->problem : "invalid YAML";
  if (yp->error == YAML_MEMORY_ERROR)
    return hp__fail(p->err, HP_ENOMEM, "%s: out of memory parsing YAML",
                    p->file);
  if (yp->error == YAML_READER_ERROR) {
    size_t off = yp->problem_offset < p->len ? yp->problem_offset : p->len;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
      if (p->text[i] == '\n') {
        line++;
        col = 1;
      } else if (((unsigned char)p->text[i] & 0xC0) != 0x80) {
        col++;
      }
    }
    if (yp->problem_value != -1)
      return fail_at(p, line, col, "%s (byte 0x%02X)", problem,
                     (unsigned)yp->problem_value & 0xFFu);
    return fail_at(p, line, col, "%s", problem);
  }
  size_t line = yp->problem_mark.line + 1, col = yp->problem_mark.column + 1;
  if (yp->context)
    return fail_at(p, line, col, "%s (%s at line %zu, column %zu)", problem,
                   yp->context, yp->context_mark.line + 1,
                   yp->context_mark.column + 1);
  return fail_at(p, line, col, "%s", problem);
}

static int on_event(parser *p, yaml_event_t *ev) {
  switch (ev->type) {
  case YAML_DOCUMENT_START_EVENT:
    if (++p->docs > 1)
      return fail_at(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
                     "a second YAML document in one file (only one is "
                     "allowed)");
    return HP_OK;
  case YAML_ALIAS_EVENT:
    return on_alias(p, ev);
  case YAML_SCALAR_EVENT:
    return on_scalar(p, ev);
  case YAML_SEQUENCE_START_EVENT:
    return on_start(p, ev, HP_TREE_SEQ);
  case YAML_MAPPING_START_EVENT:
    return on_start(p, ev, HP_TREE_MAP);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    return on_end(p);
  default:
    return HP_OK;
  }
}

static void parser_free(parser *p) {
  for (size_t i = 0; i < p->depth; i++)
    frame_clear(&p->stack[i]);
  free(p->stack);
  hp__map_free(p->anchors, free);
  for (size_t i = 0; i < p->ngrave; i++)
    hp__tree_free(p->grave[i]);
  free(p->grave);
}

int hp__yaml_parse(const char *text, size_t len, const char *file,
                   hp_tree **out, hp_error *err) {
  *out = NULL;
  parser p = {0};
  p.file = file ? file : "<input>";
  p.text = text;
  p.len = text ? len : 0;
  p.err = err;
  p.anchors = hp__map_new();
  yaml_parser_t yp;
  if (!yaml_parser_initialize(&yp)) {
    parser_free(&p);
    return hp__fail(err, HP_ENOMEM, "%s: out of memory parsing YAML", p.file);
  }
  yaml_parser_set_input_string(&yp, (const unsigned char *)(text ? text : ""),
                               p.len);
  int rc = HP_OK, done = 0;
  while (rc == HP_OK && !done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&yp, &ev)) {
      rc = libyaml_error(&p, &yp);
      break;
    }
    done = ev.type == YAML_STREAM_END_EVENT;
    rc = on_event(&p, &ev);
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&yp);
  parser_free(&p);
  if (rc != HP_OK) {
    hp__tree_free(p.root);
    return rc;
  }
  hp_tree *root = p.root;
  if (!root) {
    root = hp__tree_new(HP_TREE_NULL, p.file, 1, 1);
  } else if (root->kind == HP_TREE_SCALAR && hp__tree_is_null(root)) {
    root->kind = HP_TREE_NULL;
    free(root->text);
    root->text = NULL;
  }
  *out = root;
  return HP_OK;
}
