/*
 * expr.c - hp_expr: a lexer and recursive-descent parser (with nesting
 * limits and located errors) building a small tree, a type checker, and an
 * evaluator that turns each tree node into a whole vector at once.
 */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define SHOWN_MAX 120

/* ---- the tree ------------------------------------------------------------ */

typedef enum op {
  OP_COL,
  OP_INT,
  OP_FLOAT,
  OP_BOOL,
  OP_STR,
  OP_NEG,
  OP_NOT,
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_FDIV,
  OP_MOD,
  OP_POW,
  OP_EQ,
  OP_NE,
  OP_LT,
  OP_LE,
  OP_GT,
  OP_GE,
  OP_AND,
  OP_OR,
  OP_ISNULL,
  OP_NOTNULL,
  OP_ABS,
  OP_SQRT,
  OP_LOG,
  OP_EXP
} op;

static const char *const op_names[] = {
    [OP_COL] = "column", [OP_INT] = "int",       [OP_FLOAT] = "float",
    [OP_BOOL] = "bool",  [OP_STR] = "string",    [OP_NEG] = "-",
    [OP_NOT] = "not",    [OP_ADD] = "+",         [OP_SUB] = "-",
    [OP_MUL] = "*",      [OP_DIV] = "/",         [OP_FDIV] = "//",
    [OP_MOD] = "%",      [OP_POW] = "**",        [OP_EQ] = "==",
    [OP_NE] = "!=",      [OP_LT] = "<",          [OP_LE] = "<=",
    [OP_GT] = ">",       [OP_GE] = ">=",         [OP_AND] = "and",
    [OP_OR] = "or",      [OP_ISNULL] = "isnull", [OP_NOTNULL] = "notnull",
    [OP_ABS] = "abs",    [OP_SQRT] = "sqrt",     [OP_LOG] = "log",
    [OP_EXP] = "exp"};

static const struct {
  const char *name;
  op op;
} funcs[] = {{"isnull", OP_ISNULL}, {"notnull", OP_NOTNULL}, {"abs", OP_ABS},
             {"sqrt", OP_SQRT},     {"log", OP_LOG},         {"exp", OP_EXP}};

typedef struct node {
  op op;
  size_t pos; /* byte offset of the operator or operand in the text */
  int height;
  struct node *a, *b;
  int64_t i; /* OP_INT, OP_BOOL */
  double f;  /* OP_FLOAT */
  char *s;   /* OP_STR: the string; OP_COL: the column name */
} node;

struct hp_expr {
  char *text;
  char *shown; /* text for messages: one line, at most SHOWN_MAX bytes */
  node *root;
  char **cols;
  size_t ncols, capcols;
};

static void node_free(node *n) {
  if (!n) return;
  node_free(n->a);
  node_free(n->b);
  free(n->s);
  free(n);
}

static node *node_clone(const node *n) {
  if (!n) return NULL;
  node *c = hp__xmalloc(sizeof *c);
  *c = *n;
  c->s = n->s ? hp__xstrdup(n->s) : NULL;
  c->a = node_clone(n->a);
  c->b = node_clone(n->b);
  return c;
}

static int is_cmp(op o) {
  return o >= OP_EQ && o <= OP_GE;
}

/* ---- lexer --------------------------------------------------------------- */

typedef enum tok_kind {
  TK_END,
  TK_INT,
  TK_FLOAT,
  TK_STR,
  TK_NAME,
  TK_QNAME, /* `quoted name` */
  TK_PUNCT
} tok_kind;

typedef struct token {
  tok_kind kind;
  size_t pos;
  int64_t i;
  double f;
  char *s; /* TK_STR, TK_NAME, TK_QNAME (owned) */
  char punct[3];
} token;

typedef struct parser {
  hp_expr *e;
  const char *text;
  size_t at; /* next byte to read */
  token tok; /* the current token */
  int nest;
  hp_error *err;
} parser;

static int perr(parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(parser *p, size_t pos, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return hp__fail(p->err, HP_ECONFIG, "expression '%s': %s at column %zu",
                  p->e->shown, what, pos + 1);
}

static int lex_number(parser *p) {
  const char *t = p->text;
  size_t start = p->at, i = start;
  int is_float = 0;
  while (isdigit((unsigned char)t[i]))
    i++;
  if (t[i] == '.') {
    is_float = 1;
    i++;
    while (isdigit((unsigned char)t[i]))
      i++;
  }
  if ((t[i] == 'e' || t[i] == 'E') && (isdigit((unsigned char)t[i + 1]) ||
                                       ((t[i + 1] == '+' || t[i + 1] == '-') &&
                                        isdigit((unsigned char)t[i + 2])))) {
    is_float = 1;
    i += 2;
    while (isdigit((unsigned char)t[i]))
      i++;
  }
  char buf[64];
  if (i - start >= sizeof buf) return perr(p, start, "number too long");
  memcpy(buf, t + start, i - start);
  buf[i - start] = '\0';
  p->at = i;
  char *end = NULL;
  errno = 0;
  if (is_float) {
    p->tok.kind = TK_FLOAT;
    p->tok.f = strtod(buf, &end);
  } else {
    p->tok.kind = TK_INT;
    p->tok.i = strtoll(buf, &end, 10);
    if (errno == ERANGE) return perr(p, start, "integer %s out of range", buf);
  }
  if (!end || *end) return perr(p, start, "bad number '%s'", buf);
  return HP_OK;
}

static char unescape(char c) {
  switch (c) {
  case 'n':
    return '\n';
  case 't':
    return '\t';
  case 'r':
    return '\r';
  default:
    return c;
  }
}

/* A quoted string (escapes) or a backquoted name (no escapes). */
static int lex_quoted(parser *p, char q, tok_kind kind) {
  const char *t = p->text;
  size_t start = p->at;
  hp_buf b = {0};
  size_t i = start + 1;
  for (; t[i] && t[i] != q; i++) {
    if (t[i] == '\\' && q != '`' && t[i + 1])
      hp__buf_putc(&b, unescape(t[++i]));
    else
      hp__buf_putc(&b, t[i]);
  }
  if (!t[i]) {
    free(b.data);
    return perr(p, start,
                kind == TK_STR ? "unterminated string" : "unterminated `name`");
  }
  p->at = i + 1;
  p->tok.kind = kind;
  p->tok.s = hp__buf_take(&b);
  if (kind == TK_QNAME && !p->tok.s[0])
    return perr(p, start, "empty column name ``");
  return HP_OK;
}

static int lex_punct(parser *p) {
  static const char *const two[] = {"==", "!=", "<=", ">=", "**", "//"};
  const char *t = p->text + p->at;
  for (size_t k = 0; k < sizeof two / sizeof two[0]; k++) {
    if (t[0] == two[k][0] && t[1] == two[k][1]) {
      memcpy(p->tok.punct, two[k], 3);
      p->tok.kind = TK_PUNCT;
      p->at += 2;
      return HP_OK;
    }
  }
  if (!strchr("()+-*/%<>&|~=,", t[0])) {
    unsigned char c = (unsigned char)t[0];
    if (isprint(c)) return perr(p, p->at, "unexpected character '%c'", c);
    return perr(p, p->at, "unexpected byte 0x%02x", c);
  }
  p->tok.punct[0] = t[0];
  p->tok.punct[1] = '\0';
  p->tok.kind = TK_PUNCT;
  p->at++;
  return HP_OK;
}

/* Reads the next token into p->tok (freeing the current one). */
static int lex(parser *p) {
  free(p->tok.s);
  memset(&p->tok, 0, sizeof p->tok);
  const char *t = p->text;
  while (t[p->at] == ' ' || t[p->at] == '\t' || t[p->at] == '\n' ||
         t[p->at] == '\r')
    p->at++;
  p->tok.pos = p->at;
  unsigned char c = (unsigned char)t[p->at];
  if (!c) {
    p->tok.kind = TK_END;
    return HP_OK;
  }
  if (isdigit(c) || (c == '.' && isdigit((unsigned char)t[p->at + 1])))
    return lex_number(p);
  if (isalpha(c) || c == '_') {
    size_t i = p->at;
    while (isalnum((unsigned char)t[i]) || t[i] == '_')
      i++;
    p->tok.kind = TK_NAME;
    p->tok.s = hp__xstrndup(t + p->at, i - p->at);
    p->at = i;
    return HP_OK;
  }
  if (c == '\'' || c == '"') return lex_quoted(p, (char)c, TK_STR);
  if (c == '`') return lex_quoted(p, '`', TK_QNAME);
  return lex_punct(p);
}

/* ---- parser -------------------------------------------------------------- */

static int is_punct(const parser *p, const char *s) {
  return p->tok.kind == TK_PUNCT && strcmp(p->tok.punct, s) == 0;
}

static int is_word(const parser *p, const char *s) {
  return p->tok.kind == TK_NAME && strcmp(p->tok.s, s) == 0;
}

static int is_keyword(const char *s) {
  return !strcmp(s, "and") || !strcmp(s, "or") || !strcmp(s, "not");
}

static void describe(const token *k, char *buf, size_t n) {
  switch (k->kind) {
  case TK_END:
    (void)snprintf(buf, n, "end of expression");
    break;
  case TK_INT:
  case TK_FLOAT:
    (void)snprintf(buf, n, "number");
    break;
  case TK_STR:
    (void)snprintf(buf, n, "string");
    break;
  case TK_NAME:
    (void)snprintf(buf, n, "'%.40s'", k->s);
    break;
  case TK_QNAME:
    (void)snprintf(buf, n, "`%.40s`", k->s);
    break;
  case TK_PUNCT:
    (void)snprintf(buf, n, "'%s'", k->punct);
    break;
  }
}

static int unexpected(parser *p) {
  char what[64];
  describe(&p->tok, what, sizeof what);
  return perr(p, p->tok.pos, "unexpected %s%s", what,
              is_punct(p, "=") ? " (use '==' to compare)" : "");
}

static int expected(parser *p, const char *want) {
  char what[64];
  describe(&p->tok, what, sizeof what);
  return perr(p, p->tok.pos, "expected %s, found %s", want, what);
}

/* A new node over a and b, which it takes (and frees on error). */
static node *new_node(parser *p, op o, size_t pos, node *a, node *b) {
  node *n = hp__xcalloc(1, sizeof *n);
  n->op = o;
  n->pos = pos;
  n->a = a;
  n->b = b;
  int h = a ? a->height : 0;
  if (b && b->height > h) h = b->height;
  n->height = h + 1;
  if (n->height > HP_EXPR_MAX_HEIGHT) {
    perr(p, pos, "expression too large (more than %d levels)",
         HP_EXPR_MAX_HEIGHT);
    node_free(n);
    return NULL;
  }
  return n;
}

enum { L_OR, L_AND, L_NOT, L_CMP, L_SUM, L_TERM, L_UNARY };

typedef struct opdef {
  const char *text;
  int word;
  op op;
} opdef;

static const opdef or_ops[] = {{"or", 1, OP_OR}, {"|", 0, OP_OR}, {0}};
static const opdef and_ops[] = {{"and", 1, OP_AND}, {"&", 0, OP_AND}, {0}};
static const opdef cmp_ops[] = {{"==", 0, OP_EQ},
                                {"!=", 0, OP_NE},
                                {"<", 0, OP_LT},
                                {"<=", 0, OP_LE},
                                {">", 0, OP_GT},
                                {">=", 0, OP_GE},
                                {0}};
static const opdef sum_ops[] = {{"+", 0, OP_ADD}, {"-", 0, OP_SUB}, {0}};
static const opdef term_ops[] = {{"*", 0, OP_MUL},
                                 {"/", 0, OP_DIV},
                                 {"//", 0, OP_FDIV},
                                 {"%", 0, OP_MOD},
                                 {0}};
static const opdef *const level_ops[] = {[L_OR] = or_ops,
                                         [L_AND] = and_ops,
                                         [L_CMP] = cmp_ops,
                                         [L_SUM] = sum_ops,
                                         [L_TERM] = term_ops};

static int match(const parser *p, const opdef *d, op *o) {
  for (; d->text; d++) {
    if (d->word ? is_word(p, d->text) : is_punct(p, d->text)) {
      *o = d->op;
      return 1;
    }
  }
  return 0;
}

static node *parse_level(parser *p, int level);

/* A nested expression (parentheses, call arguments, the whole text). */
static node *parse_expr(parser *p) {
  if (++p->nest > HP_EXPR_MAX_NEST) {
    perr(p, p->tok.pos, "nested too deeply (limit %d)", HP_EXPR_MAX_NEST);
    return NULL;
  }
  node *n = parse_level(p, L_OR);
  p->nest--;
  return n;
}

/* Left-associative binary operators of one level. */
static node *parse_bin(parser *p, int level) {
  node *l = parse_level(p, level + 1);
  op o;
  while (l && match(p, level_ops[level], &o)) {
    size_t pos = p->tok.pos;
    node *r = NULL;
    if (lex(p) == HP_OK) r = parse_level(p, level + 1);
    if (!r) {
      node_free(l);
      return NULL;
    }
    l = new_node(p, o, pos, l, r);
  }
  return l;
}

/* Comparisons; a < b < c becomes (a < b) and (b < c). */
static node *parse_cmp(parser *p) {
  node *res = parse_level(p, L_SUM);
  const node *prev = NULL; /* the right operand of the last comparison */
  op o;
  while (res && match(p, cmp_ops, &o)) {
    size_t pos = p->tok.pos;
    node *r = NULL;
    if (lex(p) == HP_OK) r = parse_level(p, L_SUM);
    if (!r) {
      node_free(res);
      return NULL;
    }
    if (!prev) {
      res = new_node(p, o, pos, res, r);
    } else {
      node *c = new_node(p, o, pos, node_clone(prev), r);
      if (!c) {
        node_free(res);
        return NULL;
      }
      res = new_node(p, OP_AND, pos, res, c);
    }
    prev = r;
  }
  return res;
}

/* One more level of unary nesting: `not`, `-`, `**`. */
static node *parse_nested(parser *p, int level) {
  if (++p->nest > HP_EXPR_MAX_NEST) {
    perr(p, p->tok.pos, "nested too deeply (limit %d)", HP_EXPR_MAX_NEST);
    return NULL;
  }
  node *n = parse_level(p, level);
  p->nest--;
  return n;
}

static node *parse_not(parser *p) {
  if (!is_word(p, "not")) return parse_cmp(p);
  size_t pos = p->tok.pos;
  if (lex(p) != HP_OK) return NULL;
  node *a = parse_nested(p, L_NOT);
  return a ? new_node(p, OP_NOT, pos, a, NULL) : NULL;
}

static node *parse_name(parser *p) {
  size_t pos = p->tok.pos;
  node *n;
  if (is_word(p, "True") || is_word(p, "true") || is_word(p, "False") ||
      is_word(p, "false")) {
    n = new_node(p, OP_BOOL, pos, NULL, NULL);
    n->i = p->tok.s[0] == 'T' || p->tok.s[0] == 't';
    if (lex(p) != HP_OK) {
      node_free(n);
      return NULL;
    }
    return n;
  }
  if (is_keyword(p->tok.s)) {
    unexpected(p);
    return NULL;
  }
  char *name = p->tok.s;
  p->tok.s = NULL;
  if (lex(p) != HP_OK) {
    free(name);
    return NULL;
  }
  if (!is_punct(p, "(")) {
    n = new_node(p, OP_COL, pos, NULL, NULL);
    n->s = name;
    return n;
  }
  size_t k = 0;
  while (k < sizeof funcs / sizeof funcs[0] && strcmp(funcs[k].name, name) != 0)
    k++;
  if (k == sizeof funcs / sizeof funcs[0]) {
    perr(p, pos, "unknown function '%.60s'", name);
    free(name);
    return NULL;
  }
  free(name);
  if (lex(p) != HP_OK) return NULL;
  node *a = parse_expr(p);
  if (a && !is_punct(p, ")")) {
    expected(p, "')'");
    node_free(a);
    return NULL;
  }
  if (!a || lex(p) != HP_OK) {
    node_free(a);
    return NULL;
  }
  return new_node(p, funcs[k].op, pos, a, NULL);
}

static node *parse_primary(parser *p) {
  token *k = &p->tok;
  node *n;
  switch (k->kind) {
  case TK_INT:
    n = new_node(p, OP_INT, k->pos, NULL, NULL);
    n->i = k->i;
    break;
  case TK_FLOAT:
    n = new_node(p, OP_FLOAT, k->pos, NULL, NULL);
    n->f = k->f;
    break;
  case TK_STR:
  case TK_QNAME:
    n = new_node(p, k->kind == TK_STR ? OP_STR : OP_COL, k->pos, NULL, NULL);
    n->s = k->s;
    k->s = NULL;
    break;
  case TK_NAME:
    return parse_name(p);
  default:
    if (!is_punct(p, "(")) {
      unexpected(p);
      return NULL;
    }
    if (lex(p) != HP_OK) return NULL;
    n = parse_expr(p);
    if (n && !is_punct(p, ")")) {
      expected(p, "')'");
      node_free(n);
      return NULL;
    }
    break;
  }
  if (n && lex(p) != HP_OK) {
    node_free(n);
    return NULL;
  }
  return n;
}

static node *parse_power(parser *p) {
  node *base = parse_primary(p);
  if (!base || !is_punct(p, "**")) return base;
  size_t pos = p->tok.pos;
  node *x = NULL;
  if (lex(p) == HP_OK) x = parse_nested(p, L_UNARY);
  if (!x) {
    node_free(base);
    return NULL;
  }
  return new_node(p, OP_POW, pos, base, x);
}

static node *parse_unary(parser *p) {
  int neg = is_punct(p, "-"), inv = is_punct(p, "~");
  if (!neg && !inv && !is_punct(p, "+")) return parse_power(p);
  size_t pos = p->tok.pos;
  if (lex(p) != HP_OK) return NULL;
  node *a = parse_nested(p, L_UNARY);
  if (!a || (!neg && !inv)) return a;
  return new_node(p, neg ? OP_NEG : OP_NOT, pos, a, NULL);
}

static node *parse_level(parser *p, int level) {
  switch (level) {
  case L_NOT:
    return parse_not(p);
  case L_CMP:
    return parse_cmp(p);
  case L_UNARY:
    return parse_unary(p);
  default:
    return parse_bin(p, level);
  }
}

static void collect_cols(hp_expr *e, const node *n) {
  if (!n) return;
  if (n->op == OP_COL) {
    for (size_t i = 0; i < e->ncols; i++)
      if (!strcmp(e->cols[i], n->s)) return;
    hp__grow(&e->cols, &e->capcols, e->ncols + 1, sizeof *e->cols);
    e->cols[e->ncols++] = hp__xstrdup(n->s);
  }
  collect_cols(e, n->a);
  collect_cols(e, n->b);
}

static char *shown_text(const char *text) {
  size_t n = strlen(text);
  char *s = hp__xstrndup(text, n > SHOWN_MAX ? SHOWN_MAX - 3 : n);
  for (char *c = s; *c; c++)
    if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
  if (n > SHOWN_MAX) {
    char *t = hp__xasprintf("%s...", s);
    free(s);
    s = t;
  }
  return s;
}

static void parser_init(parser *p, const char *text, hp_error *err) {
  memset(p, 0, sizeof *p);
  p->e = hp__xcalloc(1, sizeof *p->e);
  p->e->text = hp__xstrdup(text);
  p->e->shown = shown_text(text);
  p->text = p->e->text;
  p->err = err;
}

/* Parses from the current token to the end of the text. */
static int parse_rest(parser *p, hp_expr **out) {
  if (p->tok.kind == TK_END) return perr(p, p->tok.pos, "empty expression");
  node *root = parse_expr(p);
  if (root && p->tok.kind != TK_END) {
    unexpected(p);
    node_free(root);
    root = NULL;
  }
  free(p->tok.s);
  p->tok.s = NULL;
  if (!root) return HP_ECONFIG;
  p->e->root = root;
  collect_cols(p->e, root);
  *out = p->e;
  p->e = NULL;
  return HP_OK;
}

int hp__expr_parse(const char *text, hp_expr **out, hp_error *err) {
  *out = NULL;
  if (!text) return hp__fail(err, HP_EINVAL, "expression: no text");
  parser p;
  parser_init(&p, text, err);
  int rc = lex(&p);
  if (rc == HP_OK) rc = parse_rest(&p, out);
  free(p.tok.s);
  hp__expr_free(p.e);
  return rc;
}

static int parse_target(parser *p, char **name) {
  HP_TRY(lex(p));
  if ((p->tok.kind != TK_NAME || is_keyword(p->tok.s)) &&
      p->tok.kind != TK_QNAME)
    return expected(p, "'column = expression'");
  *name = p->tok.s;
  p->tok.s = NULL;
  HP_TRY(lex(p));
  if (!is_punct(p, "=")) return expected(p, "'=' after the column name");
  return lex(p);
}

int hp__expr_parse_assign(const char *text, char **name, hp_expr **out,
                          hp_error *err) {
  *out = NULL;
  *name = NULL;
  if (!text) return hp__fail(err, HP_EINVAL, "expression: no text");
  parser p;
  parser_init(&p, text, err);
  int rc = parse_target(&p, name);
  if (rc == HP_OK) rc = parse_rest(&p, out);
  free(p.tok.s);
  hp__expr_free(p.e);
  if (rc != HP_OK) {
    free(*name);
    *name = NULL;
  }
  return rc;
}

void hp__expr_free(hp_expr *e) {
  if (!e) return;
  node_free(e->root);
  for (size_t i = 0; i < e->ncols; i++)
    free(e->cols[i]);
  free(e->cols);
  free(e->text);
  free(e->shown);
  free(e);
}

const char *hp__expr_text(const hp_expr *e) {
  return e ? e->text : NULL;
}

size_t hp__expr_ncols(const hp_expr *e) {
  return e ? e->ncols : 0;
}

const char *hp__expr_col(const hp_expr *e, size_t i) {
  return e && i < e->ncols ? e->cols[i] : NULL;
}

/* ---- timestamps ---------------------------------------------------------- */

static int take_digits(const char **s, int n, int *out) {
  int v = 0;
  for (int k = 0; k < n; k++) {
    if (!isdigit((unsigned char)(*s)[k])) return 0;
    v = v * 10 + ((*s)[k] - '0');
  }
  *s += n;
  *out = v;
  return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int parse_time_part(const char *s, int64_t *ns) {
  int h, mi, sec = 0;
  if (!take_digits(&s, 2, &h) || *s++ != ':' || !take_digits(&s, 2, &mi))
    return 0;
  int64_t frac = 0;
  if (*s == ':') {
    s++;
    if (!take_digits(&s, 2, &sec)) return 0;
    if (*s == '.') {
      s++;
      int nd = 0;
      for (; isdigit((unsigned char)*s); s++, nd++)
        if (nd < 9) frac = frac * 10 + (*s - '0');
      if (!nd) return 0;
      for (; nd < 9; nd++)
        frac *= 10;
    }
  }
  if (*s == 'Z') s++;
  if (*s || h > 23 || mi > 59 || sec > 59) return 0;
  *ns = ((int64_t)h * 3600 + (int64_t)mi * 60 + sec) * 1000000000 + frac;
  return 1;
}

/* 'YYYY-MM-DD' optionally followed by ' HH:MM[:SS[.fff]]' (or 'T...'). */
static int parse_timestamp(const char *s, int64_t *out) {
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, m, d;
  if (!take_digits(&s, 4, &y) || *s++ != '-' || !take_digits(&s, 2, &m) ||
      *s++ != '-' || !take_digits(&s, 2, &d))
    return 0;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1678 || y > 2261 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
      (m == 2 && d == 29 && !leap))
    return 0;
  int64_t ns = 0;
  if (*s == ' ' || *s == 'T') {
    if (!parse_time_part(s + 1, &ns)) return 0;
  } else if (*s && strcmp(s, "Z") != 0) {
    return 0;
  }
  *out = days_from_civil(y, m, d) * 86400 * 1000000000 + ns;
  return 1;
}

/* ---- type checking ------------------------------------------------------- */

/* What a dictionary column compared with a literal needs, computed once
 * per evaluation: the literal's code (==, !=) or a verdict per code. */
typedef struct dict_hit {
  const node *nd;
  long code;    /* -1: the literal is not in the dictionary */
  uint8_t *hit; /* <, <=, >, >= */
} dict_hit;

typedef struct dict_cache {
  dict_hit *v;
  size_t n, cap;
} dict_cache;

/* Evaluation runs over chunks of rows [r0, r0 + n) so that intermediate
 * vectors stay in cache and their buffers get reused. The right side of a
 * selective `and` runs over only the rows its left side selected (sel). */
typedef struct ectx {
  const hp_expr *e;
  const hp_value *t;
  size_t rows;         /* of the table */
  size_t r0;           /* first row of the chunk */
  size_t n;            /* rows in the chunk, or in sel */
  const uint32_t *sel; /* NULL, or the chunk's rows to evaluate (offsets) */
  dict_cache *dc;
  hp_error *err;
} ectx;

#define CHUNK_ROWS 16384

static int node_err(const ectx *c, const node *nd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int node_err(const ectx *c, const node *nd, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return hp__fail(c->err, HP_ECONFIG, "expression '%s': %s at column %zu",
                  c->e->shown, what, nd->pos + 1);
}

static int numeric(hp_dtype t) {
  return t == HP_INT64 || t == HP_FLOAT64 || t == HP_BOOL;
}

static int comparable(const node *nd, hp_dtype ta, hp_dtype tb) {
  if ((numeric(ta) && numeric(tb)) || ta == tb) return 1;
  return (ta == HP_TIMESTAMP && nd->b->op == OP_STR) ||
         (tb == HP_TIMESTAMP && nd->a->op == OP_STR);
}

/* The type of nd given its operands' types; 0 if they do not fit. */
static int result_type(const node *nd, hp_dtype ta, hp_dtype tb,
                       hp_dtype *out) {
  switch (nd->op) {
  case OP_NEG:
  case OP_ABS:
    *out = ta == HP_FLOAT64 ? HP_FLOAT64 : HP_INT64;
    return numeric(ta);
  case OP_NOT:
    *out = HP_BOOL;
    return ta == HP_BOOL;
  case OP_SQRT:
  case OP_LOG:
  case OP_EXP:
    *out = HP_FLOAT64;
    return numeric(ta);
  case OP_ISNULL:
  case OP_NOTNULL:
    *out = HP_BOOL;
    return 1;
  case OP_AND:
  case OP_OR:
    *out = HP_BOOL;
    return ta == HP_BOOL && tb == HP_BOOL;
  default:
    break;
  }
  if (is_cmp(nd->op)) {
    *out = HP_BOOL;
    return comparable(nd, ta, tb);
  }
  *out = nd->op != OP_DIV && ta != HP_FLOAT64 && tb != HP_FLOAT64 ? HP_INT64
                                                                  : HP_FLOAT64;
  return numeric(ta) && numeric(tb);
}

static int check_ts_literal(const ectx *c, const node *lit) {
  int64_t ts;
  if (!parse_timestamp(lit->s, &ts))
    return node_err(
        c, lit, "'%.60s' is not a timestamp (YYYY-MM-DD[ HH:MM:SS])", lit->s);
  return HP_OK;
}

static int check(const ectx *c, const node *nd, hp_dtype *out) {
  switch (nd->op) {
  case OP_COL: {
    long k = hp_table_find(c->t, nd->s);
    if (k < 0) return node_err(c, nd, "unknown column '%.60s'", nd->s);
    *out = hp_table_coltype(c->t, (size_t)k);
    return HP_OK;
  }
  case OP_INT:
    *out = HP_INT64;
    return HP_OK;
  case OP_FLOAT:
    *out = HP_FLOAT64;
    return HP_OK;
  case OP_BOOL:
    *out = HP_BOOL;
    return HP_OK;
  case OP_STR:
    *out = HP_STRING;
    return HP_OK;
  default:
    break;
  }
  hp_dtype ta = HP_INT64, tb = HP_INT64;
  HP_TRY(check(c, nd->a, &ta));
  if (nd->b) HP_TRY(check(c, nd->b, &tb));
  if (!result_type(nd, ta, tb, out)) {
    if (!nd->b)
      return node_err(c, nd, "cannot apply '%s' to %s", op_names[nd->op],
                      hp_dtype_name(ta));
    return node_err(c, nd, "cannot apply '%s' to %s and %s", op_names[nd->op],
                    hp_dtype_name(ta), hp_dtype_name(tb));
  }
  if (is_cmp(nd->op) && ta == HP_TIMESTAMP && tb == HP_STRING)
    return check_ts_literal(c, nd->b);
  if (is_cmp(nd->op) && tb == HP_TIMESTAMP && ta == HP_STRING)
    return check_ts_literal(c, nd->a);
  return HP_OK;
}

static int start(ectx *c, const hp_expr *e, const hp_value *t, hp_dtype *type,
                 hp_error *err) {
  c->e = e;
  c->t = t;
  c->err = err;
  if (!e || !t || hp_value_kind(t) != HP_TABLE)
    return hp__fail(err, HP_EINVAL, "expression '%s': not a table",
                    e ? e->shown : "");
  c->rows = hp_value_rows(t);
  c->r0 = 0;
  c->n = c->rows;
  c->sel = NULL;
  c->dc = NULL;
  return check(c, e->root, type);
}

int hp__expr_type(const hp_expr *e, const hp_value *t, hp_dtype *out,
                  hp_error *err) {
  ectx c;
  return start(&c, e, t, out, err);
}

/* ---- vectors ------------------------------------------------------------- */

/* The value of one tree node over all rows, or one value for all rows. */
typedef struct vec {
  hp_dtype type;
  int scalar;           /* 1 element standing for every row */
  const void *data;     /* int64_t/double/uint8_t; NULL for strings */
  void *owned;          /* data, when the vec owns it */
  const uint8_t *valid; /* NULL: no nulls (but float NaN) */
  uint8_t *valid_owned;
  long col;        /* a string column of the table, or -1 */
  const char *str; /* a string literal */
} vec;

/* The table row of element i of the chunk. */
static size_t row_of(const ectx *c, size_t i) {
  return c->r0 + (c->sel ? c->sel[i] : i);
}

static void vec_init(vec *v) {
  memset(v, 0, sizeof *v);
  v->col = -1;
}

static void vec_free(vec *v) {
  free(v->owned);
  free(v->valid_owned);
  vec_init(v);
}

static size_t elem_size(hp_dtype t) {
  return t == HP_BOOL ? 1 : 8;
}

static size_t vlen(const ectx *c, const vec *v) {
  return v->scalar ? 1 : c->n;
}

static void *alloc_rows(const ectx *c, size_t m, size_t size) {
  void *p = malloc(m ? m * size : 1);
  if (!p)
    hp__fail(c->err, HP_ENOMEM, "expression '%s': out of memory for %zu rows",
             c->e->shown, m);
  return p;
}

static int vec_alloc(const ectx *c, vec *v, hp_dtype type, int scalar) {
  v->type = type;
  v->scalar = scalar;
  v->owned = alloc_rows(c, scalar ? 1 : c->n, elem_size(type));
  v->data = v->owned;
  return v->owned ? HP_OK : HP_ENOMEM;
}

/* An owned, non-scalar buffer of a (or b) with the element type of `type`
 * to write the result into, taken from it; NULL if none fits. Its data
 * pointer stays readable until the vec is freed. */
static void *reuse(vec *a, vec *b, hp_dtype type) {
  vec *cand[2] = {a, b};
  for (int k = 0; k < 2; k++) {
    vec *v = cand[k];
    if (!v || !v->owned || v->scalar) continue;
    if (elem_size(v->type) == elem_size(type) &&
        (v->type == HP_FLOAT64) == (type == HP_FLOAT64)) {
      void *p = v->owned;
      v->owned = NULL;
      return p;
    }
  }
  return NULL;
}

/* Result vec of `type` for operands a and b (b may be NULL). */
static int vec_result(const ectx *c, vec *a, vec *b, hp_dtype type, vec *out) {
  int scalar = a->scalar && (!b || b->scalar);
  void *p = scalar ? NULL : reuse(a, b, type);
  if (!p) return vec_alloc(c, out, type, scalar);
  out->type = type;
  out->scalar = 0;
  out->owned = p;
  out->data = p;
  return HP_OK;
}

static int valid_at(const vec *v, size_t i) {
  return !v->valid || v->valid[v->scalar ? 0 : i];
}

/* out's validity: the rows valid in a, b (may be NULL) and extra (an owned
 * mask of out's length, or NULL; always taken). */
static int merge_valid(const ectx *c, const vec *a, const vec *b,
                       uint8_t *extra, vec *out) {
  if (!a->valid && !(b && b->valid)) {
    out->valid = out->valid_owned = extra;
    return HP_OK;
  }
  size_t m = vlen(c, out);
  uint8_t *v = extra ? extra : alloc_rows(c, m, 1);
  if (!v) return HP_ENOMEM;
  for (size_t i = 0; i < m; i++)
    v[i] =
        (uint8_t)((!extra || v[i]) && valid_at(a, i) && (!b || valid_at(b, i)));
  out->valid = out->valid_owned = v;
  return HP_OK;
}

/* Moves a's validity to out (a unary result). */
static void pass_valid(vec *a, vec *out) {
  out->valid = a->valid;
  out->valid_owned = a->valid_owned;
  a->valid_owned = NULL;
}

/* Bool becomes int64 for arithmetic and mixed comparisons. */
static int to_int64(const ectx *c, vec *v) {
  if (v->type != HP_BOOL) return HP_OK;
  size_t m = vlen(c, v);
  int64_t *p = alloc_rows(c, m, sizeof *p);
  if (!p) return HP_ENOMEM;
  const uint8_t *s = v->data;
  for (size_t i = 0; i < m; i++)
    p[i] = s[i];
  free(v->owned);
  v->owned = p;
  v->data = p;
  v->type = HP_INT64;
  return HP_OK;
}

/* The kernels below nest the LOOP macros' loops inside a switch, which
 * clang-tidy counts as deep nesting; BODY is a statement.
 * NOLINTBEGIN(readability-function-size, bugprone-macro-parentheses) */

/* Runs BODY for every output row i with xa, xb the operands; scalars are
 * broadcast. Needs a, b, m and out in scope; po is the output. */
#define LOOP2(TA, TB, TO, DST, BODY)   \
  do {                                 \
    const TA *pa = a->data;            \
    const TB *pb = b->data;            \
    TO *po = (DST);                    \
    if (a->scalar == b->scalar) {      \
      for (size_t i = 0; i < m; i++) { \
        TA xa = pa[i];                 \
        TB xb = pb[i];                 \
        BODY;                          \
      }                                \
    } else if (a->scalar) {            \
      const TA xa = pa[0];             \
      for (size_t i = 0; i < m; i++) { \
        TB xb = pb[i];                 \
        BODY;                          \
      }                                \
    } else {                           \
      const TB xb = pb[0];             \
      for (size_t i = 0; i < m; i++) { \
        TA xa = pa[i];                 \
        BODY;                          \
      }                                \
    }                                  \
  } while (0)

#define LOOP1(TA, TO, DST, BODY)     \
  do {                               \
    const TA *pa = a->data;          \
    TO *po = (DST);                  \
    for (size_t i = 0; i < m; i++) { \
      TA xa = pa[i];                 \
      BODY;                          \
    }                                \
  } while (0)

/* ---- arithmetic ---------------------------------------------------------- */

static int64_t wrap_add(int64_t x, int64_t y) {
  return (int64_t)((uint64_t)x + (uint64_t)y);
}

static int64_t wrap_sub(int64_t x, int64_t y) {
  return (int64_t)((uint64_t)x - (uint64_t)y);
}

static int64_t wrap_mul(int64_t x, int64_t y) {
  return (int64_t)((uint64_t)x * (uint64_t)y);
}

/* Python's // and % for y != 0 (INT64_MIN // -1 wraps). */
static int64_t floor_div(int64_t x, int64_t y) {
  if (y == -1) return wrap_sub(0, x);
  int64_t q = x / y;
  if (x % y != 0 && ((x < 0) != (y < 0))) q--;
  return q;
}

static int64_t floor_mod(int64_t x, int64_t y) {
  if (y == -1) return 0;
  int64_t r = x % y;
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}

static int64_t int_pow(int64_t x, int64_t y) {
  uint64_t r = 1, b = (uint64_t)x;
  for (; y > 0; y >>= 1) {
    if (y & 1) r *= b;
    b *= b;
  }
  return (int64_t)r;
}

static double py_fmod(double x, double y) {
  double r = fmod(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}

/* int64 op int64 -> int64; nv gets 0 where the result is null. */
static void arith_int(op o, const vec *a, const vec *b, size_t m, int64_t *out,
                      uint8_t *nv) {
  switch (o) {
  case OP_ADD:
    LOOP2(int64_t, int64_t, int64_t, out, po[i] = wrap_add(xa, xb));
    break;
  case OP_SUB:
    LOOP2(int64_t, int64_t, int64_t, out, po[i] = wrap_sub(xa, xb));
    break;
  case OP_MUL:
    LOOP2(int64_t, int64_t, int64_t, out, po[i] = wrap_mul(xa, xb));
    break;
  case OP_FDIV:
    LOOP2(int64_t, int64_t, int64_t, out,
          (po[i] = xb ? floor_div(xa, xb) : 0, nv[i] = xb != 0));
    break;
  case OP_MOD:
    LOOP2(int64_t, int64_t, int64_t, out,
          (po[i] = xb ? floor_mod(xa, xb) : 0, nv[i] = xb != 0));
    break;
  default: /* OP_POW */
    LOOP2(int64_t, int64_t, int64_t, out,
          (po[i] = xb >= 0 ? int_pow(xa, xb) : 0, nv[i] = xb >= 0));
    break;
  }
}

/* Float arithmetic for each pair of operand types. */
#define DEF_ARITH_FLOAT(NAME, TA, TB)                                         \
  static void NAME(op o, const vec *a, const vec *b, size_t m, double *out) { \
    switch (o) {                                                              \
    case OP_ADD:                                                              \
      LOOP2(TA, TB, double, out, po[i] = (double)xa + (double)xb);            \
      break;                                                                  \
    case OP_SUB:                                                              \
      LOOP2(TA, TB, double, out, po[i] = (double)xa - (double)xb);            \
      break;                                                                  \
    case OP_MUL:                                                              \
      LOOP2(TA, TB, double, out, po[i] = (double)xa * (double)xb);            \
      break;                                                                  \
    case OP_DIV:                                                              \
      LOOP2(TA, TB, double, out, po[i] = (double)xa / (double)xb);            \
      break;                                                                  \
    case OP_FDIV:                                                             \
      LOOP2(TA, TB, double, out, po[i] = floor((double)xa / (double)xb));     \
      break;                                                                  \
    case OP_MOD:                                                              \
      LOOP2(TA, TB, double, out, po[i] = py_fmod((double)xa, (double)xb));    \
      break;                                                                  \
    default:                                                                  \
      LOOP2(TA, TB, double, out, po[i] = pow((double)xa, (double)xb));        \
      break;                                                                  \
    }                                                                         \
  }

DEF_ARITH_FLOAT(arith_ii, int64_t, int64_t)
DEF_ARITH_FLOAT(arith_if, int64_t, double)
DEF_ARITH_FLOAT(arith_fi, double, int64_t)
DEF_ARITH_FLOAT(arith_ff, double, double)

static int eval_arith(const ectx *c, const node *nd, vec *a, vec *b, vec *out) {
  HP_TRY(to_int64(c, a));
  HP_TRY(to_int64(c, b));
  hp_dtype type;
  (void)result_type(nd, a->type, b->type, &type);
  HP_TRY(vec_result(c, a, b, type, out));
  size_t m = vlen(c, out);
  uint8_t *nv = NULL;
  if (type == HP_INT64) {
    if (nd->op == OP_FDIV || nd->op == OP_MOD || nd->op == OP_POW) {
      nv = alloc_rows(c, m, 1);
      if (!nv) return HP_ENOMEM;
    }
    arith_int(nd->op, a, b, m, out->owned, nv);
  } else if (a->type == HP_INT64 && b->type == HP_INT64) {
    arith_ii(nd->op, a, b, m, out->owned);
  } else if (a->type == HP_INT64) {
    arith_if(nd->op, a, b, m, out->owned);
  } else if (b->type == HP_INT64) {
    arith_fi(nd->op, a, b, m, out->owned);
  } else {
    arith_ff(nd->op, a, b, m, out->owned);
  }
  return merge_valid(c, a, b, nv, out);
}

/* -, abs, sqrt, log, exp. */
static int eval_math(const ectx *c, const node *nd, vec *a, vec *out) {
  HP_TRY(to_int64(c, a));
  hp_dtype type;
  (void)result_type(nd, a->type, HP_INT64, &type);
  HP_TRY(vec_result(c, a, NULL, type, out));
  size_t m = vlen(c, out);
  int fl = a->type == HP_FLOAT64;
  switch (nd->op) {
  case OP_NEG:
    if (fl)
      LOOP1(double, double, out->owned, po[i] = -xa);
    else
      LOOP1(int64_t, int64_t, out->owned, po[i] = wrap_sub(0, xa));
    break;
  case OP_ABS:
    if (fl)
      LOOP1(double, double, out->owned, po[i] = fabs(xa));
    else
      LOOP1(int64_t, int64_t, out->owned,
            po[i] = xa < 0 ? wrap_sub(0, xa) : xa);
    break;
  default: {
    double (*f)(double) = nd->op == OP_SQRT  ? sqrt
                          : nd->op == OP_LOG ? log
                                             : exp;
    if (fl)
      LOOP1(double, double, out->owned, po[i] = f(xa));
    else
      LOOP1(int64_t, double, out->owned, po[i] = f((double)xa));
    break;
  }
  }
  pass_valid(a, out);
  return HP_OK;
}

/* NOLINTEND(readability-function-size, bugprone-macro-parentheses) */

/* ---- comparisons --------------------------------------------------------- */

static int holds(op o, int d) {
  switch (o) {
  case OP_EQ:
    return d == 0;
  case OP_NE:
    return d != 0;
  case OP_LT:
    return d < 0;
  case OP_LE:
    return d <= 0;
  case OP_GT:
    return d > 0;
  default:
    return d >= 0;
  }
}

/* a OP b == b flip(OP) a. */
static op flip(op o) {
  switch (o) {
  case OP_LT:
    return OP_GT;
  case OP_LE:
    return OP_GE;
  case OP_GT:
    return OP_LT;
  case OP_GE:
    return OP_LE;
  default:
    return o;
  }
}

/* Numeric comparisons; NaN compares false, also with != (it is null). */
#define DEF_CMP(NAME, TA, TB, CT)                                              \
  static void NAME(op o, const vec *a, const vec *b, size_t m, uint8_t *out) { \
    switch (o) {                                                               \
    case OP_EQ:                                                                \
      LOOP2(TA, TB, uint8_t, out, po[i] = (CT)xa == (CT)xb);                   \
      break;                                                                   \
    case OP_NE:                                                                \
      LOOP2(TA, TB, uint8_t, out,                                              \
            po[i] =                                                            \
                (CT)xa != (CT)xb && !isnan((double)xa) && !isnan((double)xb)); \
      break;                                                                   \
    case OP_LT:                                                                \
      LOOP2(TA, TB, uint8_t, out, po[i] = (CT)xa < (CT)xb);                    \
      break;                                                                   \
    case OP_LE:                                                                \
      LOOP2(TA, TB, uint8_t, out, po[i] = (CT)xa <= (CT)xb);                   \
      break;                                                                   \
    case OP_GT:                                                                \
      LOOP2(TA, TB, uint8_t, out, po[i] = (CT)xa > (CT)xb);                    \
      break;                                                                   \
    default:                                                                   \
      LOOP2(TA, TB, uint8_t, out, po[i] = (CT)xa >= (CT)xb);                   \
      break;                                                                   \
    }                                                                          \
  }

/* NOLINTBEGIN(readability-function-size) */
DEF_CMP(cmp_bb, uint8_t, uint8_t, int)
DEF_CMP(cmp_ii, int64_t, int64_t, int64_t)
DEF_CMP(cmp_if, int64_t, double, double)
DEF_CMP(cmp_fi, double, int64_t, double)
DEF_CMP(cmp_ff, double, double, double)
/* NOLINTEND(readability-function-size) */

/* Comparisons with a null are false. */
static void clear_nulls(const ectx *c, const vec *a, const vec *b, vec *out) {
  uint8_t *o = out->owned;
  size_t m = vlen(c, out);
  const vec *v[2] = {a, b};
  for (int k = 0; k < 2; k++) {
    if (!v[k]->valid) continue;
    if (v[k]->scalar) {
      if (!v[k]->valid[0]) memset(o, 0, m);
      continue;
    }
    const uint8_t *va = v[k]->valid;
    for (size_t i = 0; i < m; i++)
      o[i] &= va[i];
  }
}

static const dict_hit *dict_prepare(const ectx *c, const node *nd, op o,
                                    size_t col, const char *lit) {
  dict_cache *dc = c->dc;
  for (size_t k = 0; k < dc->n; k++)
    if (dc->v[k].nd == nd) return &dc->v[k];
  hp__grow(&dc->v, &dc->cap, dc->n + 1, sizeof *dc->v);
  dict_hit *h = &dc->v[dc->n++];
  size_t ndict = hp_table_dict_size(c->t, col);
  h->nd = nd;
  h->code = -1;
  h->hit = NULL;
  if (o == OP_EQ || o == OP_NE) {
    for (size_t k = 0; k < ndict && h->code < 0; k++)
      if (!strcmp(hp_table_dict_str(c->t, col, k), lit)) h->code = (long)k;
    return h;
  }
  h->hit = hp__xmalloc(ndict ? ndict : 1);
  for (size_t k = 0; k < ndict; k++)
    h->hit[k] = (uint8_t)holds(o, strcmp(hp_table_dict_str(c->t, col, k), lit));
  return h;
}

static void dict_cache_free(dict_cache *dc) {
  for (size_t k = 0; k < dc->n; k++)
    free(dc->v[k].hit);
  free(dc->v);
}

/* A dictionary column against a literal: the dictionary is compared once
 * (per evaluation), then the codes mapped. */
static void dict_vs_literal(const ectx *c, const node *nd, op o, size_t col,
                            const char *lit, uint8_t *r) {
  const dict_hit *h = dict_prepare(c, nd, o, col, lit);
  const int32_t *codes = hp_table_dict_codes(c->t, col) + c->r0;
  size_t n = c->n;
  uint8_t ne = o == OP_NE;
  if (c->sel) {
    for (size_t i = 0; i < n; i++) {
      int32_t k = codes[c->sel[i]];
      r[i] = h->hit ? h->hit[k] : (uint8_t)((k == h->code) ^ ne);
    }
    return;
  }
  if (h->hit) {
    const uint8_t *hit = h->hit;
    for (size_t i = 0; i < n; i++)
      r[i] = hit[codes[i]];
    return;
  }
  if (h->code < 0) {
    memset(r, ne, n);
    return;
  }
  int32_t code = (int32_t)h->code;
  for (size_t i = 0; i < n; i++)
    r[i] = (uint8_t)((codes[i] == code) ^ ne);
}

static int eval_strcmp(const ectx *c, const node *nd, const vec *a,
                       const vec *b, vec *out) {
  op o = nd->op;
  if (a->col < 0 && b->col < 0) {
    HP_TRY(vec_alloc(c, out, HP_BOOL, 1));
    *(uint8_t *)out->owned = (uint8_t)holds(o, strcmp(a->str, b->str));
    return HP_OK;
  }
  if (a->col < 0) {
    const vec *t = a;
    a = b;
    b = t;
    o = flip(o);
  }
  HP_TRY(vec_alloc(c, out, HP_BOOL, 0));
  uint8_t *r = out->owned;
  size_t ca = (size_t)a->col;
  if (b->col < 0 && hp_table_dict_codes(c->t, ca)) {
    dict_vs_literal(c, nd, o, ca, b->str, r);
  } else if (b->col < 0) {
    for (size_t i = 0; i < c->n; i++)
      r[i] = (uint8_t)holds(
          o, strcmp(hp_table_str(c->t, ca, row_of(c, i)), b->str));
  } else {
    size_t cb = (size_t)b->col;
    for (size_t i = 0; i < c->n; i++)
      r[i] = (uint8_t)holds(o, strcmp(hp_table_str(c->t, ca, row_of(c, i)),
                                      hp_table_str(c->t, cb, row_of(c, i))));
  }
  clear_nulls(c, a, b, out);
  return HP_OK;
}

/* Replaces a string literal compared with a timestamp by its value. */
static int ts_literal(const ectx *c, vec *v) {
  int64_t ts = 0;
  (void)parse_timestamp(v->str, &ts); /* checked by check() */
  vec_free(v);
  HP_TRY(vec_alloc(c, v, HP_TIMESTAMP, 1));
  *(int64_t *)v->owned = ts;
  return HP_OK;
}

static int eval_cmp(const ectx *c, const node *nd, vec *a, vec *b, vec *out) {
  if (a->type == HP_STRING && b->type == HP_STRING)
    return eval_strcmp(c, nd, a, b, out);
  if (a->type == HP_STRING) HP_TRY(ts_literal(c, a));
  if (b->type == HP_STRING) HP_TRY(ts_literal(c, b));
  if (a->type != b->type) {
    HP_TRY(to_int64(c, a));
    HP_TRY(to_int64(c, b));
  }
  HP_TRY(vec_alloc(c, out, HP_BOOL, a->scalar && b->scalar));
  size_t m = vlen(c, out);
  int fa = a->type == HP_FLOAT64, fb = b->type == HP_FLOAT64;
  if (a->type == HP_BOOL)
    cmp_bb(nd->op, a, b, m, out->owned);
  else if (fa && fb)
    cmp_ff(nd->op, a, b, m, out->owned);
  else if (fa)
    cmp_fi(nd->op, a, b, m, out->owned);
  else if (fb)
    cmp_if(nd->op, a, b, m, out->owned);
  else
    cmp_ii(nd->op, a, b, m, out->owned);
  clear_nulls(c, a, b, out);
  return HP_OK;
}

/* ---- logic and nulls ----------------------------------------------------- */

/* and/or under Kleene logic. */
/* NOLINTNEXTLINE(readability-function-size): LOOP2 */
static int eval_logic(const ectx *c, const node *nd, vec *a, vec *b, vec *out) {
  HP_TRY(vec_result(c, a, b, HP_BOOL, out));
  size_t m = vlen(c, out);
  int is_and = nd->op == OP_AND;
  if (!a->valid && !b->valid) {
    if (is_and)
      LOOP2(uint8_t, uint8_t, uint8_t, out->owned, po[i] = xa & xb);
    else
      LOOP2(uint8_t, uint8_t, uint8_t, out->owned, po[i] = xa | xb);
    return HP_OK;
  }
  uint8_t *v = alloc_rows(c, m, 1);
  if (!v) return HP_ENOMEM;
  LOOP2(uint8_t, uint8_t, uint8_t, out->owned, {
    int va = valid_at(a, i);
    int vb = valid_at(b, i);
    int ta = xa && va;
    int fa = !xa && va;
    int tb = xb && vb;
    int fb = !xb && vb;
    int t = is_and ? ta && tb : ta || tb;
    int f = is_and ? fa || fb : fa && fb;
    po[i] = (uint8_t)t;
    v[i] = (uint8_t)(t || f);
  });
  out->valid = out->valid_owned = v;
  return HP_OK;
}

static int eval_not(const ectx *c, vec *a, vec *out) {
  HP_TRY(vec_result(c, a, NULL, HP_BOOL, out));
  size_t m = vlen(c, out);
  LOOP1(uint8_t, uint8_t, out->owned, po[i] = xa ^ 1);
  pass_valid(a, out);
  return HP_OK;
}

static int eval_isnull(const ectx *c, const node *nd, const vec *a, vec *out) {
  HP_TRY(vec_alloc(c, out, HP_BOOL, a->scalar));
  size_t m = vlen(c, out);
  uint8_t *r = out->owned;
  if (a->valid) {
    for (size_t i = 0; i < m; i++)
      r[i] = !a->valid[i];
  } else {
    memset(r, 0, m);
  }
  if (a->type == HP_FLOAT64) {
    const double *d = a->data;
    for (size_t i = 0; i < m; i++)
      r[i] |= isnan(d[i]);
  }
  if (nd->op == OP_NOTNULL)
    for (size_t i = 0; i < m; i++)
      r[i] ^= 1;
  return HP_OK;
}

/* ---- evaluation ---------------------------------------------------------- */

/* A column's elements and validity at the selected rows. */
static int gather(const ectx *c, const uint8_t *valid, const char *data,
                  vec *out) {
  size_t n = c->n, es = elem_size(out->type);
  if (valid) {
    out->valid_owned = alloc_rows(c, n, 1);
    if (!out->valid_owned) return HP_ENOMEM;
    for (size_t i = 0; i < n; i++)
      out->valid_owned[i] = valid[row_of(c, i)];
    out->valid = out->valid_owned;
  }
  if (!data) return HP_OK;
  char *p = alloc_rows(c, n, es);
  if (!p) return HP_ENOMEM;
  if (es == 8)
    for (size_t i = 0; i < n; i++)
      memcpy(p + i * 8, data + row_of(c, i) * 8, 8);
  else
    for (size_t i = 0; i < n; i++)
      p[i] = data[row_of(c, i)];
  out->owned = p;
  out->data = p;
  return HP_OK;
}

static int eval_leaf(const ectx *c, const node *nd, vec *out) {
  if (nd->op == OP_COL) {
    size_t k = (size_t)hp_table_find(c->t, nd->s); /* checked */
    out->type = hp_table_coltype(c->t, k);
    const uint8_t *valid = hp_table_valid(c->t, k);
    const char *data = hp_table_column(c->t, k);
    if (out->type == HP_STRING) out->col = (long)k;
    if (c->sel)
      return gather(c, valid, out->type == HP_STRING ? NULL : data, out);
    out->valid = valid ? valid + c->r0 : NULL;
    if (data) out->data = data + c->r0 * elem_size(out->type);
    return HP_OK;
  }
  if (nd->op == OP_STR) {
    out->type = HP_STRING;
    out->scalar = 1;
    out->str = nd->s;
    return HP_OK;
  }
  if (nd->op == OP_FLOAT) {
    HP_TRY(vec_alloc(c, out, HP_FLOAT64, 1));
    *(double *)out->owned = nd->f;
  } else if (nd->op == OP_BOOL) {
    HP_TRY(vec_alloc(c, out, HP_BOOL, 1));
    *(uint8_t *)out->owned = (uint8_t)nd->i;
  } else {
    HP_TRY(vec_alloc(c, out, HP_INT64, 1));
    *(int64_t *)out->owned = nd->i;
  }
  return HP_OK;
}

static int eval(const ectx *c, const node *nd, vec *out);
static int eval_and(const ectx *c, const node *nd, vec *out);

static int apply(const ectx *c, const node *nd, vec *a, vec *b, vec *out) {
  switch (nd->op) {
  case OP_NOT:
    return eval_not(c, a, out);
  case OP_ISNULL:
  case OP_NOTNULL:
    return eval_isnull(c, nd, a, out);
  case OP_NEG:
  case OP_ABS:
  case OP_SQRT:
  case OP_LOG:
  case OP_EXP:
    return eval_math(c, nd, a, out);
  case OP_AND:
  case OP_OR:
    return eval_logic(c, nd, a, b, out);
  default:
    break;
  }
  if (is_cmp(nd->op)) return eval_cmp(c, nd, a, b, out);
  return eval_arith(c, nd, a, b, out);
}

/* a and b where a selects few rows: b runs over those rows only. */
static int eval_and_sparse(const ectx *c, const node *nd, vec *a, size_t k,
                           vec *out) {
  uint32_t *sel = hp__xmalloc((k ? k : 1) * sizeof *sel);
  const uint8_t *pa = a->data;
  for (size_t i = 0, j = 0; i < c->n; i++)
    if (pa[i]) sel[j++] = c->sel ? c->sel[i] : (uint32_t)i;
  ectx sub = *c;
  sub.sel = sel;
  sub.n = k;
  vec b;
  int rc = eval(&sub, nd->b, &b);
  if (rc == HP_OK) rc = vec_result(c, a, NULL, HP_BOOL, out);
  uint8_t *o = out->owned, *v = NULL;
  if (rc == HP_OK && o != a->data) memcpy(o, a->data, c->n);
  const uint8_t *pb = b.data;
  for (size_t i = 0, j = 0; rc == HP_OK && j < k; i++) {
    if (!pa[i]) continue;
    size_t jb = b.scalar ? 0 : j;
    j++;
    int valid = !b.valid || b.valid[jb];
    o[i] = (uint8_t)(pb[jb] && valid);
    if (valid) continue;
    if (!v) {
      v = alloc_rows(c, c->n, 1);
      if (!v)
        rc = HP_ENOMEM;
      else
        memset(v, 1, c->n);
    }
    if (v) v[i] = 0;
  }
  out->valid = out->valid_owned = v;
  free(sel);
  vec_free(&b);
  return rc;
}

static int eval(const ectx *c, const node *nd, vec *out) {
  vec_init(out);
  if (!nd->a) return eval_leaf(c, nd, out);
  if (nd->op == OP_AND) return eval_and(c, nd, out);
  vec a, b;
  vec_init(&b);
  int rc = eval(c, nd->a, &a);
  if (rc == HP_OK && nd->b) rc = eval(c, nd->b, &b);
  if (rc == HP_OK) rc = apply(c, nd, &a, &b, out);
  vec_free(&a);
  vec_free(&b);
  if (rc != HP_OK) vec_free(out);
  return rc;
}

/* `and`: when the left side selects at most 1/8 of the rows (and has no
 * nulls), the right side is evaluated at those rows only. */
static int eval_and(const ectx *c, const node *nd, vec *out) {
  vec a, b;
  vec_init(&b);
  int rc = eval(c, nd->a, &a);
  if (rc != HP_OK) return rc;
  if (!a.scalar && !a.valid) {
    size_t k = 0;
    const uint8_t *pa = a.data;
    for (size_t i = 0; i < c->n; i++)
      k += pa[i];
    if (k * 8 <= c->n) {
      rc = eval_and_sparse(c, nd, &a, k, out);
      vec_free(&a);
      if (rc != HP_OK) vec_free(out);
      return rc;
    }
  }
  rc = eval(c, nd->b, &b);
  if (rc == HP_OK) rc = eval_logic(c, nd, &a, &b, out);
  vec_free(&a);
  vec_free(&b);
  if (rc != HP_OK) vec_free(out);
  return rc;
}

/* ---- results ------------------------------------------------------------ */

/* A whole-table result, filled chunk by chunk. */
typedef struct sink {
  hp_dtype type;
  char *data;     /* rows elements */
  uint8_t *valid; /* rows bytes; NULL until a null shows up */
} sink;

/* Copies the chunk's value v to rows [r0, r0 + n) of s; null rows get 0
 * (NaN for floats). */
static int store(const ectx *c, const vec *v, sink *s) {
  size_t es = elem_size(s->type), n = c->n;
  if (!v->data && n)
    return hp__fail(c->err, HP_EINTERNAL, "expression '%s': no data",
                    c->e->shown);
  char *dst = s->data + c->r0 * es;
  if (v->scalar && es == 1)
    memset(dst, *(const uint8_t *)v->data, n);
  else if (v->scalar)
    for (size_t i = 0; i < n; i++)
      memcpy(dst + i * 8, v->data, 8);
  else if (n)
    memcpy(dst, v->data, n * es);
  int any_null = 0;
  for (size_t i = 0; v->valid && i < vlen(c, v) && !any_null; i++)
    any_null = !v->valid[i];
  if (!any_null) return HP_OK;
  if (!s->valid) {
    s->valid = alloc_rows(c, c->rows, 1);
    if (!s->valid) return HP_ENOMEM;
    memset(s->valid, 1, c->rows);
  }
  uint8_t *vd = s->valid + c->r0;
  for (size_t i = 0; i < n; i++) {
    vd[i] = v->valid[v->scalar ? 0 : i];
    if (vd[i]) continue;
    if (s->type == HP_FLOAT64)
      ((double *)(void *)dst)[i] = NAN;
    else
      memset(dst + i * es, 0, es);
  }
  return HP_OK;
}

/* Evaluates the whole table into s, CHUNK_ROWS rows at a time. */
static int run(ectx *c, sink *s) {
  dict_cache dc = {0};
  c->dc = &dc;
  s->valid = NULL;
  s->data = alloc_rows(c, c->rows, elem_size(s->type));
  int rc = s->data ? HP_OK : HP_ENOMEM;
  for (size_t r0 = 0; rc == HP_OK && r0 < c->rows; r0 += CHUNK_ROWS) {
    c->r0 = r0;
    c->n = c->rows - r0 < CHUNK_ROWS ? c->rows - r0 : CHUNK_ROWS;
    vec v;
    rc = eval(c, c->e->root, &v);
    if (rc == HP_OK) rc = store(c, &v, s);
    vec_free(&v);
  }
  dict_cache_free(&dc);
  c->dc = NULL;
  if (rc != HP_OK) {
    free(s->data);
    free(s->valid);
    s->data = NULL;
    s->valid = NULL;
  }
  return rc;
}

static int build_failed(const ectx *c, int rc) {
  return hp__fail(c->err, rc, "expression '%s': cannot build its result",
                  c->e->shown);
}

/* A copy of a string column (dictionary-encoded stays so) or literal. */
static int add_strings(const ectx *c, const vec *v, hp_value *r) {
  size_t col = (size_t)v->col, n = c->rows;
  const int32_t *codes = v->col >= 0 ? hp_table_dict_codes(c->t, col) : NULL;
  if (codes) {
    size_t nd = hp_table_dict_size(c->t, col);
    const char **dict = hp__xmalloc((nd ? nd : 1) * sizeof *dict);
    for (size_t k = 0; k < nd; k++)
      dict[k] = hp_table_dict_str(c->t, col, k);
    int rc = hp_table_add_dict_column(r, "value", codes, n, dict, nd);
    free(dict);
    return rc;
  }
  const char **s = alloc_rows(c, n, sizeof *s);
  if (!s) return HP_ENOMEM;
  for (size_t i = 0; i < n; i++)
    s[i] = v->col >= 0 ? hp_table_str(c->t, col, i) : v->str;
  int rc = hp_table_add_column(r, "value", HP_STRING, s, n);
  free(s);
  return rc;
}

/* A string result is a bare column or literal: copied whole. */
static int string_result(ectx *c, hp_value *r) {
  vec v;
  HP_TRY(eval(c, c->e->root, &v));
  int rc = add_strings(c, &v, r);
  if (rc == HP_OK && v.valid) {
    size_t any_null = 0;
    for (size_t i = 0; i < c->rows; i++)
      any_null |= !v.valid[i];
    if (any_null) rc = hp_table_set_valid(r, 0, v.valid);
  }
  vec_free(&v);
  return rc == HP_OK ? HP_OK : build_failed(c, rc);
}

static int fixed_result(ectx *c, hp_dtype type, hp_value *r) {
  sink s = {type, NULL, NULL};
  HP_TRY(run(c, &s));
  int rc = hp_table_add_column(r, "value", type, s.data, c->rows);
  if (rc == HP_OK && s.valid) rc = hp_table_set_valid(r, 0, s.valid);
  free(s.data);
  free(s.valid);
  return rc == HP_OK ? HP_OK : build_failed(c, rc);
}

int hp__expr_eval(const hp_expr *e, const hp_value *t, hp_value **out,
                  hp_error *err) {
  *out = NULL;
  ectx c;
  hp_dtype type = HP_INT64;
  HP_TRY(start(&c, e, t, &type, err));
  hp_value *r = hp_table_new();
  int rc = type == HP_STRING ? string_result(&c, r) : fixed_result(&c, type, r);
  if (rc != HP_OK) {
    hp_value_free(r);
    return rc;
  }
  *out = r;
  return HP_OK;
}

int hp__expr_mask(const hp_expr *e, const hp_value *t, uint8_t **mask,
                  hp_error *err) {
  *mask = NULL;
  ectx c;
  hp_dtype type = HP_INT64;
  HP_TRY(start(&c, e, t, &type, err));
  if (type != HP_BOOL)
    return hp__fail(err, HP_ECONFIG,
                    "expression '%s' is %s, not a condition (bool)", e->shown,
                    hp_dtype_name(type));
  sink s = {HP_BOOL, NULL, NULL};
  HP_TRY(run(&c, &s));
  free(s.valid); /* null rows are already 0 */
  *mask = (uint8_t *)s.data;
  return HP_OK;
}
