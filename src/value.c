/*
 * value.c - tables, arrays and groups in memory: the public hp_table_*,
 * hp_array_* and hp_group_* functions of hpcpipe/node.h, deep copies, and
 * the byte encoding used for MPI messages and content hashes. The encoding
 * is little-endian and self-describing; decoding checks every length
 * against the buffer, so corrupt input fails cleanly. Files are store.c's
 * and csv.c's business.
 */
#include "value.h"

#include <stdlib.h>
#include <string.h>

#include "map.h"

/* ---- helpers ------------------------------------------------------------- */

static int is_table(const hp_value *v) {
  return v && v->kind == HP_TABLE;
}

static int is_array(const hp_value *v) {
  return v && v->kind == HP_ARRAY;
}

static int is_group(const hp_value *v) {
  return v && v->kind == HP_GROUP;
}

static size_t elem_size(hp_dtype t) {
  switch (t) {
  case HP_INT64:
  case HP_FLOAT64:
    return 8;
  case HP_BOOL:
    return 1;
  default:
    return 0;
  }
}

/* n * sz into *out; 0 on overflow. */
static int mul_ok(size_t n, size_t sz, size_t *out) {
  if (sz && n > SIZE_MAX / sz) return 0;
  *out = n * sz;
  return 1;
}

static void column_clear(hp_column *c) {
  free(c->name);
  free(c->data);
  free(c->offs);
  free(c->chars);
  memset(c, 0, sizeof *c);
}

static void attr_clear(hp_attr *a) {
  free(a->name);
  free(a->s);
  memset(a, 0, sizeof *a);
}

/* ---- generic ------------------------------------------------------------- */

hp_kind hp_value_kind(const hp_value *v) {
  return v ? v->kind : (hp_kind)0;
}

size_t hp_value_rows(const hp_value *v) {
  if (is_table(v)) return v->nrows;
  if (is_array(v)) return v->dims[0];
  return 0;
}

const char *hp_dtype_name(hp_dtype t) {
  switch (t) {
  case HP_INT64:
    return "int64";
  case HP_FLOAT64:
    return "float64";
  case HP_BOOL:
    return "bool";
  case HP_STRING:
    return "string";
  default:
    return "unknown";
  }
}

void hp_value_free(hp_value *v) {
  if (!v) return;
  for (size_t i = 0; i < v->ncols; i++)
    column_clear(&v->cols[i]);
  free(v->cols);
  free(v->data);
  for (size_t i = 0; i < v->nchild; i++) {
    free(v->names[i]);
    hp_value_free(v->children[i]);
  }
  free(v->names);
  free(v->children);
  for (size_t i = 0; i < v->nattrs; i++)
    attr_clear(&v->attrs[i]);
  free(v->attrs);
  free(v);
}

static hp_value *value_alloc(hp_kind k) {
  hp_value *v = hp__xcalloc(1, sizeof *v);
  v->kind = k;
  return v;
}

/* Appends child `name` (copied) to g, taking ownership of child. */
static void group_append(hp_value *g, const char *name, hp_value *child) {
  if (g->nchild == g->capchild) {
    size_t cap = g->capchild ? g->capchild * 2 : 4;
    g->names = hp__xrealloc(g->names, cap * sizeof *g->names);
    g->children = hp__xrealloc(g->children, cap * sizeof *g->children);
    g->capchild = cap;
  }
  g->names[g->nchild] = hp__xstrdup(name);
  g->children[g->nchild++] = child;
}

/* Copies column src into dst (zeroed); HP_ENOMEM on a failed data copy. */
static int column_copy(hp_column *dst, const hp_column *src, size_t nrows) {
  dst->name = hp__xstrdup(src->name);
  dst->type = src->type;
  if (src->type == HP_STRING) {
    size_t nb = (size_t)src->offs[nrows];
    dst->offs = malloc((nrows + 1) * sizeof *dst->offs);
    dst->chars = malloc(nb ? nb : 1);
    if (!dst->offs || !dst->chars) return HP_ENOMEM;
    memcpy(dst->offs, src->offs, (nrows + 1) * sizeof *dst->offs);
    memcpy(dst->chars, src->chars, nb);
    return HP_OK;
  }
  size_t nb = nrows * elem_size(src->type);
  dst->data = malloc(nb ? nb : 1);
  if (!dst->data) return HP_ENOMEM;
  if (nb) memcpy(dst->data, src->data, nb);
  return HP_OK;
}

hp_value *hp_value_copy(const hp_value *v) {
  if (!v || v->kind < HP_TABLE || v->kind > HP_GROUP) return NULL;
  hp_value *c = value_alloc(v->kind);
  if (v->kind == HP_TABLE) {
    c->nrows = v->nrows;
    if (v->ncols) {
      c->cols = hp__xcalloc(v->ncols, sizeof *c->cols);
      c->capcols = v->ncols;
    }
    for (size_t i = 0; i < v->ncols; i++) {
      c->ncols++;
      if (column_copy(&c->cols[i], &v->cols[i], v->nrows) != HP_OK) goto fail;
    }
  } else if (v->kind == HP_ARRAY) {
    c->dtype = v->dtype;
    c->ndim = v->ndim;
    memcpy(c->dims, v->dims, sizeof c->dims);
    size_t nb = hp_array_size(v) * elem_size(v->dtype);
    c->data = malloc(nb ? nb : 1);
    if (!c->data) goto fail;
    if (nb) memcpy(c->data, v->data, nb);
  } else {
    for (size_t i = 0; i < v->nchild; i++) {
      hp_value *ch = hp_value_copy(v->children[i]);
      if (!ch) goto fail;
      group_append(c, v->names[i], ch);
    }
    if (v->nattrs) {
      c->attrs = hp__xcalloc(v->nattrs, sizeof *c->attrs);
      c->capattrs = v->nattrs;
    }
    for (size_t i = 0; i < v->nattrs; i++) {
      c->attrs[i] = v->attrs[i];
      c->attrs[i].name = hp__xstrdup(v->attrs[i].name);
      c->attrs[i].s = v->attrs[i].s ? hp__xstrdup(v->attrs[i].s) : NULL;
      c->nattrs++;
    }
  }
  return c;
fail:
  hp_value_free(c);
  return NULL;
}

/* ---- tables -------------------------------------------------------------- */

hp_value *hp_table_new(void) {
  return value_alloc(HP_TABLE);
}

int hp_table_add_column(hp_value *t, const char *name, hp_dtype type,
                        const void *data, size_t nrows) {
  if (!is_table(t) || !name || !*name || type < HP_INT64 || type > HP_STRING)
    return HP_EINVAL;
  if (t->ncols && nrows != t->nrows) return HP_EINVAL;
  if (hp_table_find(t, name) >= 0) return HP_EINVAL;
  hp_column c = {0};
  c.type = type;
  if (type == HP_STRING) {
    const char *const *s = data;
    size_t total = 0, no;
    if (!mul_ok(nrows + 1, sizeof *c.offs, &no) || nrows == SIZE_MAX)
      return HP_ENOMEM;
    c.offs = malloc(no);
    if (!c.offs) return HP_ENOMEM;
    for (size_t i = 0; i < nrows; i++) {
      c.offs[i] = (int64_t)total;
      total += (s && s[i] ? strlen(s[i]) : 0) + 1;
    }
    c.offs[nrows] = (int64_t)total;
    c.chars = malloc(total ? total : 1);
    if (!c.chars) {
      free(c.offs);
      return HP_ENOMEM;
    }
    for (size_t i = 0; i < nrows; i++) {
      size_t n = (size_t)(c.offs[i + 1] - c.offs[i]);
      if (n > 1) memcpy(c.chars + c.offs[i], s[i], n - 1);
      c.chars[c.offs[i] + (int64_t)n - 1] = '\0';
    }
  } else {
    size_t nb;
    if (!mul_ok(nrows, elem_size(type), &nb)) return HP_ENOMEM;
    c.data = data ? malloc(nb ? nb : 1) : calloc(nb ? nb : 1, 1);
    if (!c.data) return HP_ENOMEM;
    if (data && nb) memcpy(c.data, data, nb);
    if (type == HP_BOOL && data) {
      uint8_t *b = c.data;
      for (size_t i = 0; i < nrows; i++)
        b[i] = b[i] != 0;
    }
  }
  c.name = hp__xstrdup(name);
  hp__grow(&t->cols, &t->capcols, t->ncols + 1, sizeof *t->cols);
  t->cols[t->ncols++] = c;
  t->nrows = nrows;
  return HP_OK;
}

size_t hp_table_ncols(const hp_value *t) {
  return is_table(t) ? t->ncols : 0;
}

const char *hp_table_colname(const hp_value *t, size_t col) {
  return is_table(t) && col < t->ncols ? t->cols[col].name : NULL;
}

hp_dtype hp_table_coltype(const hp_value *t, size_t col) {
  return is_table(t) && col < t->ncols ? t->cols[col].type : (hp_dtype)0;
}

long hp_table_find(const hp_value *t, const char *name) {
  if (!is_table(t) || !name) return -1;
  for (size_t i = 0; i < t->ncols; i++)
    if (strcmp(t->cols[i].name, name) == 0) return (long)i;
  return -1;
}

const void *hp_table_column(const hp_value *t, size_t col) {
  return is_table(t) && col < t->ncols ? t->cols[col].data : NULL;
}

void *hp_table_column_mut(hp_value *t, size_t col) {
  return is_table(t) && col < t->ncols ? t->cols[col].data : NULL;
}

const char *hp_table_str(const hp_value *t, size_t col, size_t row) {
  if (!is_table(t) || col >= t->ncols || row >= t->nrows) return NULL;
  const hp_column *c = &t->cols[col];
  if (c->type != HP_STRING) return "";
  return c->chars + c->offs[row];
}

/* ---- arrays -------------------------------------------------------------- */

hp_value *hp_array_new(hp_dtype type, int ndim, const size_t *dims) {
  if ((type != HP_INT64 && type != HP_FLOAT64) || ndim < 1 ||
      ndim > HP_MAX_NDIM || !dims)
    return NULL;
  size_t n = 1;
  for (int i = 0; i < ndim; i++)
    if (!mul_ok(n, dims[i], &n)) return NULL;
  size_t nb;
  if (!mul_ok(n, 8, &nb)) return NULL;
  void *data = calloc(nb ? nb : 1, 1);
  if (!data) return NULL;
  hp_value *a = value_alloc(HP_ARRAY);
  a->dtype = type;
  a->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    a->dims[i] = dims[i];
  a->data = data;
  return a;
}

hp_dtype hp_array_dtype(const hp_value *a) {
  return is_array(a) ? a->dtype : (hp_dtype)0;
}

int hp_array_ndim(const hp_value *a) {
  return is_array(a) ? a->ndim : 0;
}

const size_t *hp_array_dims(const hp_value *a) {
  return is_array(a) ? a->dims : NULL;
}

size_t hp_array_size(const hp_value *a) {
  if (!is_array(a)) return 0;
  size_t n = 1;
  for (int i = 0; i < a->ndim; i++)
    n *= a->dims[i];
  return n;
}

const void *hp_array_data(const hp_value *a) {
  return is_array(a) ? a->data : NULL;
}

void *hp_array_data_mut(hp_value *a) {
  return is_array(a) ? a->data : NULL;
}

/* ---- groups -------------------------------------------------------------- */

hp_value *hp_group_new(void) {
  return value_alloc(HP_GROUP);
}

static long child_index(const hp_value *g, const char *name) {
  for (size_t i = 0; i < g->nchild; i++)
    if (strcmp(g->names[i], name) == 0) return (long)i;
  return -1;
}

int hp_group_set(hp_value *g, const char *name, hp_value *child) {
  if (!is_group(g) || !name || !*name || !child || child == g) {
    if (child != g) hp_value_free(child);
    return HP_EINVAL;
  }
  long i = child_index(g, name);
  if (i >= 0) {
    if (g->children[i] != child) hp_value_free(g->children[i]);
    g->children[i] = child;
    return HP_OK;
  }
  group_append(g, name, child);
  return HP_OK;
}

size_t hp_group_count(const hp_value *g) {
  return is_group(g) ? g->nchild : 0;
}

const char *hp_group_name(const hp_value *g, size_t i) {
  return is_group(g) && i < g->nchild ? g->names[i] : NULL;
}

const hp_value *hp_group_child(const hp_value *g, size_t i) {
  return is_group(g) && i < g->nchild ? g->children[i] : NULL;
}

const hp_value *hp_group_get(const hp_value *g, const char *name) {
  if (!is_group(g) || !name) return NULL;
  long i = child_index(g, name);
  return i >= 0 ? g->children[i] : NULL;
}

static hp_attr *attr_find(const hp_value *g, const char *name) {
  for (size_t i = 0; i < g->nattrs; i++)
    if (strcmp(g->attrs[i].name, name) == 0) return &g->attrs[i];
  return NULL;
}

/* The attribute slot for name, new or emptied. NULL on bad arguments. */
static hp_attr *attr_slot(hp_value *g, const char *name) {
  if (!is_group(g) || !name || !*name) return NULL;
  hp_attr *a = attr_find(g, name);
  if (a) {
    free(a->s);
    a->s = NULL;
    a->i = 0;
    a->f = 0;
    return a;
  }
  hp__grow(&g->attrs, &g->capattrs, g->nattrs + 1, sizeof *g->attrs);
  a = &g->attrs[g->nattrs++];
  memset(a, 0, sizeof *a);
  a->name = hp__xstrdup(name);
  return a;
}

int hp_group_set_i64(hp_value *g, const char *name, int64_t x) {
  hp_attr *a = attr_slot(g, name);
  if (!a) return HP_EINVAL;
  a->type = HP_INT64;
  a->i = x;
  return HP_OK;
}

int hp_group_set_f64(hp_value *g, const char *name, double x) {
  hp_attr *a = attr_slot(g, name);
  if (!a) return HP_EINVAL;
  a->type = HP_FLOAT64;
  a->f = x;
  return HP_OK;
}

int hp_group_set_str(hp_value *g, const char *name, const char *s) {
  if (!s) return HP_EINVAL;
  hp_attr *a = attr_slot(g, name);
  if (!a) return HP_EINVAL;
  a->type = HP_STRING;
  a->s = hp__xstrdup(s);
  return HP_OK;
}

size_t hp_group_nattrs(const hp_value *g) {
  return is_group(g) ? g->nattrs : 0;
}

const char *hp_group_attr_name(const hp_value *g, size_t i) {
  return is_group(g) && i < g->nattrs ? g->attrs[i].name : NULL;
}

hp_dtype hp_group_attr_type(const hp_value *g, size_t i) {
  return is_group(g) && i < g->nattrs ? g->attrs[i].type : (hp_dtype)0;
}

int hp_group_attr_i64(const hp_value *g, const char *name, int64_t *out) {
  if (!is_group(g) || !name || !out) return HP_EINVAL;
  const hp_attr *a = attr_find(g, name);
  if (!a || (a->type != HP_INT64 && a->type != HP_BOOL)) return HP_EINVAL;
  *out = a->i;
  return HP_OK;
}

int hp_group_attr_f64(const hp_value *g, const char *name, double *out) {
  if (!is_group(g) || !name || !out) return HP_EINVAL;
  const hp_attr *a = attr_find(g, name);
  if (!a) return HP_EINVAL;
  if (a->type == HP_FLOAT64)
    *out = a->f;
  else if (a->type == HP_INT64 || a->type == HP_BOOL)
    *out = (double)a->i;
  else
    return HP_EINVAL;
  return HP_OK;
}

const char *hp_group_attr_str(const hp_value *g, const char *name) {
  if (!is_group(g) || !name) return NULL;
  const hp_attr *a = attr_find(g, name);
  return a && a->type == HP_STRING ? a->s : NULL;
}

/* ---- encoding -------------------------------------------------------------
 *
 * "HPV1" then one value: u8 kind, then
 *   table: u64 nrows, u64 ncols, per column: str name, u8 type, data
 *          (int64/float64: nrows x 8 bytes; bool: nrows bytes; string:
 *          u64 nbytes then the NUL-terminated values back to back);
 *   array: u8 dtype, u8 ndim, u64 dims[ndim], size x 8 bytes;
 *   group: u64 nattrs, per attribute: str name, u8 type, i64 | f64 bits |
 *          str; u64 nchild, per child: str name, value.
 * str is u64 length and bytes (no NUL). All integers little-endian. The
 * hash walks the same sequence of bytes through a sink. */

#define MAGIC     "HPV1"
#define MAX_DEPTH 200

typedef struct sink {
  hp_buf *buf; /* packing: append here */
  uint64_t h;  /* hashing: running hash */
  unsigned char stage[256];
  size_t nstage;
} sink;

static void sink_flush(sink *s) {
  if (s->nstage) {
    s->h = hp__hash64(s->stage, s->nstage, s->h);
    s->nstage = 0;
  }
}

static void put(sink *s, const void *p, size_t n) {
  if (s->buf) {
    hp__buf_put(s->buf, p, n);
    return;
  }
  if (n > 64) {
    sink_flush(s);
    s->h = hp__hash64(p, n, s->h);
    return;
  }
  if (s->nstage + n > sizeof s->stage) sink_flush(s);
  memcpy(s->stage + s->nstage, p, n);
  s->nstage += n;
}

static void put_u8(sink *s, unsigned x) {
  unsigned char c = (unsigned char)x;
  put(s, &c, 1);
}

static void put_u64(sink *s, uint64_t x) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char)(x >> (8 * i));
  put(s, b, 8);
}

static void put_str(sink *s, const char *str) {
  size_t n = strlen(str);
  put_u64(s, n);
  put(s, str, n);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_BIG_ENDIAN 1
#else
#define HOST_BIG_ENDIAN 0
#endif

/* n 8-byte words, little-endian. */
static void put_words(sink *s, const void *p, size_t n) {
  if (!HOST_BIG_ENDIAN) {
    put(s, p, n * 8);
    return;
  }
  unsigned char *tmp = hp__xmalloc(n ? n * 8 : 1);
  const unsigned char *src = p;
  for (size_t i = 0; i < n; i++)
    for (int j = 0; j < 8; j++)
      tmp[i * 8 + j] = src[i * 8 + 7 - j];
  put(s, tmp, n * 8);
  free(tmp);
}

/* n bools as 0/1 bytes (a node may have stored other non-zero values
 * through hp_table_column_mut). */
static void put_bools(sink *s, const uint8_t *b, size_t n) {
  size_t i = 0;
  while (i < n && b[i] <= 1)
    i++;
  if (i == n) {
    put(s, b, n);
    return;
  }
  uint8_t *tmp = hp__xmalloc(n);
  for (i = 0; i < n; i++)
    tmp[i] = b[i] != 0;
  put(s, tmp, n);
  free(tmp);
}

static void emit(sink *s, const hp_value *v) {
  put_u8(s, (unsigned)v->kind);
  if (v->kind == HP_TABLE) {
    put_u64(s, v->nrows);
    put_u64(s, v->ncols);
    for (size_t i = 0; i < v->ncols; i++) {
      const hp_column *c = &v->cols[i];
      put_str(s, c->name);
      put_u8(s, (unsigned)c->type);
      if (c->type == HP_STRING) {
        put_u64(s, (uint64_t)c->offs[v->nrows]);
        put(s, c->chars, (size_t)c->offs[v->nrows]);
      } else if (c->type == HP_BOOL) {
        put_bools(s, c->data, v->nrows);
      } else {
        put_words(s, c->data, v->nrows);
      }
    }
  } else if (v->kind == HP_ARRAY) {
    put_u8(s, (unsigned)v->dtype);
    put_u8(s, (unsigned)v->ndim);
    for (int i = 0; i < v->ndim; i++)
      put_u64(s, v->dims[i]);
    put_words(s, v->data, hp_array_size(v));
  } else {
    put_u64(s, v->nattrs);
    for (size_t i = 0; i < v->nattrs; i++) {
      const hp_attr *a = &v->attrs[i];
      put_str(s, a->name);
      put_u8(s, (unsigned)a->type);
      if (a->type == HP_STRING) {
        put_str(s, a->s);
      } else if (a->type == HP_FLOAT64) {
        uint64_t bits;
        memcpy(&bits, &a->f, 8);
        put_u64(s, bits);
      } else {
        put_u64(s, (uint64_t)a->i);
      }
    }
    put_u64(s, v->nchild);
    for (size_t i = 0; i < v->nchild; i++) {
      put_str(s, v->names[i]);
      emit(s, v->children[i]);
    }
  }
}

void hp__value_pack(const hp_value *v, hp_buf *out) {
  if (!v || !out) return;
  sink s = {.buf = out};
  put(&s, MAGIC, 4);
  emit(&s, v);
}

uint64_t hp__value_hash(const hp_value *v, uint64_t seed) {
  if (!v) return hp__hash64("", 0, seed);
  sink s = {.h = seed};
  put(&s, MAGIC, 4);
  emit(&s, v);
  sink_flush(&s);
  return s.h;
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct reader {
  const unsigned char *p;
  size_t left;
  int bad;   /* corrupt input */
  int nomem; /* a data buffer could not be allocated */
} reader;

static const unsigned char *take(reader *r, size_t n) {
  if (r->bad || n > r->left) {
    r->bad = 1;
    return NULL;
  }
  const unsigned char *p = r->p;
  r->p += n;
  r->left -= n;
  return p;
}

static unsigned get_u8(reader *r) {
  const unsigned char *p = take(r, 1);
  return p ? *p : 0;
}

static uint64_t get_u64(reader *r) {
  const unsigned char *p = take(r, 8);
  if (!p) return 0;
  uint64_t x = 0;
  for (int i = 0; i < 8; i++)
    x |= (uint64_t)p[i] << (8 * i);
  return x;
}

/* A length that must fit in what is left, in units of `unit` bytes. */
static size_t get_len(reader *r, size_t unit) {
  uint64_t n = get_u64(r);
  if (r->bad) return 0;
  if (unit && n > r->left / unit) {
    r->bad = 1;
    return 0;
  }
  return (size_t)n;
}

/* A new NUL-terminated name; NULL on corrupt input or an empty name. */
static char *get_str(reader *r, int allow_empty) {
  size_t n = get_len(r, 1);
  const unsigned char *p = take(r, n);
  if (!p || (!allow_empty && n == 0) || memchr(p, '\0', n)) {
    r->bad = 1;
    return NULL;
  }
  return hp__xstrndup((const char *)p, n);
}

static void get_words(reader *r, void *dst, size_t n) {
  const unsigned char *p = take(r, n * 8);
  if (!p) return;
  if (!HOST_BIG_ENDIAN) {
    memcpy(dst, p, n * 8);
    return;
  }
  unsigned char *d = dst;
  for (size_t i = 0; i < n; i++)
    for (int j = 0; j < 8; j++)
      d[i * 8 + j] = p[i * 8 + 7 - j];
}

/* 0 (and r->bad) if name was seen before. */
static int fresh(reader *r, hp_map *seen, const char *name) {
  if (hp__map_put(seen, name, (void *)1)) {
    r->bad = 1;
    return 0;
  }
  return 1;
}

static int read_column(reader *r, hp_column *c, size_t nrows) {
  c->type = (hp_dtype)get_u8(r);
  if (r->bad) return 0;
  if (c->type == HP_STRING) {
    size_t nb = get_len(r, 1);
    const unsigned char *p = take(r, nb);
    /* every value is NUL-terminated: exactly nrows NULs, the last byte one */
    if (!p || (nb == 0) != (nrows == 0) || (nb && p[nb - 1] != '\0') ||
        nrows > nb) {
      r->bad = 1;
      return 0;
    }
    c->offs = malloc((nrows + 1) * sizeof *c->offs);
    c->chars = malloc(nb ? nb : 1);
    if (!c->offs || !c->chars) {
      r->nomem = 1;
      return 0;
    }
    memcpy(c->chars, p, nb);
    size_t row = 0;
    c->offs[0] = 0;
    for (size_t i = 0; i < nb; i++) {
      if (p[i] != '\0') continue;
      if (row == nrows) {
        r->bad = 1;
        return 0;
      }
      c->offs[++row] = (int64_t)(i + 1);
    }
    if (row != nrows) {
      r->bad = 1;
      return 0;
    }
    return 1;
  }
  if (c->type == HP_BOOL) {
    const unsigned char *p = take(r, nrows);
    if (!p) return 0;
    c->data = malloc(nrows ? nrows : 1);
    if (!c->data) {
      r->nomem = 1;
      return 0;
    }
    for (size_t i = 0; i < nrows; i++) {
      if (p[i] > 1) {
        r->bad = 1;
        return 0;
      }
    }
    memcpy(c->data, p, nrows);
    return 1;
  }
  if (c->type != HP_INT64 && c->type != HP_FLOAT64) {
    r->bad = 1;
    return 0;
  }
  if (nrows > r->left / 8) {
    r->bad = 1;
    return 0;
  }
  c->data = malloc(nrows ? nrows * 8 : 1);
  if (!c->data) {
    r->nomem = 1;
    return 0;
  }
  get_words(r, c->data, nrows);
  return !r->bad;
}

static hp_value *read_value(reader *r, int depth);

static int read_table(reader *r, hp_value *v) {
  v->nrows = (size_t)get_u64(r);
  /* each column takes at least 8 + 1 + 1 bytes (a name of one byte) */
  size_t ncols = get_len(r, 10);
  if (r->bad) return 0;
  /* a column of nrows values takes at least nrows bytes */
  if (ncols && v->nrows > r->left) {
    r->bad = 1;
    return 0;
  }
  if (ncols) {
    v->cols = hp__xcalloc(ncols, sizeof *v->cols);
    v->capcols = ncols;
  } else if (v->nrows) {
    r->bad = 1; /* a table without columns has no rows */
    return 0;
  }
  hp_map *seen = hp__map_new();
  for (size_t i = 0; i < ncols; i++) {
    hp_column *c = &v->cols[v->ncols++];
    c->name = get_str(r, 0);
    if (!c->name || !read_column(r, c, v->nrows) || !fresh(r, seen, c->name)) {
      hp__map_free(seen, NULL);
      return 0;
    }
  }
  hp__map_free(seen, NULL);
  return 1;
}

static int read_array(reader *r, hp_value *v) {
  v->dtype = (hp_dtype)get_u8(r);
  v->ndim = (int)get_u8(r);
  if (r->bad || (v->dtype != HP_INT64 && v->dtype != HP_FLOAT64) ||
      v->ndim < 1 || v->ndim > HP_MAX_NDIM) {
    r->bad = 1;
    return 0;
  }
  size_t n = 1;
  for (int i = 0; i < v->ndim; i++) {
    v->dims[i] = (size_t)get_u64(r);
    if (r->bad || !mul_ok(n, v->dims[i], &n)) {
      r->bad = 1;
      return 0;
    }
  }
  if (n > r->left / 8) {
    r->bad = 1;
    return 0;
  }
  v->data = malloc(n ? n * 8 : 1);
  if (!v->data) {
    r->nomem = 1;
    return 0;
  }
  get_words(r, v->data, n);
  return !r->bad;
}

static int read_group(reader *r, hp_value *v, int depth) {
  /* an attribute takes at least 8 + 1 + 1 + 8 bytes */
  size_t na = get_len(r, 18);
  if (r->bad) return 0;
  if (na) {
    v->attrs = hp__xcalloc(na, sizeof *v->attrs);
    v->capattrs = na;
  }
  hp_map *seen = hp__map_new();
  for (size_t i = 0; i < na; i++) {
    hp_attr *a = &v->attrs[v->nattrs++];
    a->name = get_str(r, 0);
    a->type = (hp_dtype)get_u8(r);
    if (!a->name || r->bad) goto fail;
    if (a->type == HP_STRING) {
      a->s = get_str(r, 1);
      if (!a->s) goto fail;
    } else if (a->type == HP_FLOAT64) {
      uint64_t bits = get_u64(r);
      memcpy(&a->f, &bits, 8);
    } else if (a->type == HP_INT64) {
      a->i = (int64_t)get_u64(r);
    } else {
      r->bad = 1;
    }
    if (r->bad || !fresh(r, seen, a->name)) goto fail;
  }
  hp__map_free(seen, NULL);
  seen = NULL;
  /* a child takes at least 8 + 1 + 1 + 8 bytes */
  size_t nc = get_len(r, 18);
  if (r->bad) return 0;
  if (nc) {
    v->names = hp__xcalloc(nc, sizeof *v->names);
    v->children = hp__xcalloc(nc, sizeof *v->children);
    v->capchild = nc;
  }
  seen = hp__map_new();
  for (size_t i = 0; i < nc; i++) {
    char *name = get_str(r, 0);
    if (!name) goto fail;
    hp_value *ch = fresh(r, seen, name) ? read_value(r, depth + 1) : NULL;
    if (!ch) {
      free(name);
      goto fail;
    }
    v->names[v->nchild] = name;
    v->children[v->nchild++] = ch;
  }
  hp__map_free(seen, NULL);
  return 1;
fail:
  hp__map_free(seen, NULL);
  return 0;
}

static hp_value *read_value(reader *r, int depth) {
  if (depth > MAX_DEPTH) {
    r->bad = 1;
    return NULL;
  }
  unsigned kind = get_u8(r);
  if (r->bad || kind < HP_TABLE || kind > HP_GROUP) {
    r->bad = 1;
    return NULL;
  }
  hp_value *v = value_alloc((hp_kind)kind);
  int ok = kind == HP_TABLE   ? read_table(r, v)
           : kind == HP_ARRAY ? read_array(r, v)
                              : read_group(r, v, depth);
  if (!ok) {
    hp_value_free(v);
    return NULL;
  }
  return v;
}

int hp__value_unpack(const void *p, size_t len, hp_value **out, hp_error *err) {
  if (out) *out = NULL;
  if (!out || (!p && len))
    return hp__fail(err, HP_EINVAL, "hp__value_unpack: bad arguments");
  reader r = {p, len, 0, 0};
  const unsigned char *m = take(&r, 4);
  hp_value *v = NULL;
  if (m && memcmp(m, MAGIC, 4) == 0)
    v = read_value(&r, 0);
  else
    r.bad = 1;
  if (v && r.left != 0) {
    hp_value_free(v);
    v = NULL;
    r.bad = 1;
  }
  if (!v) {
    if (r.nomem && !r.bad)
      return hp__fail(err, HP_ENOMEM,
                      "out of memory decoding a value of %zu bytes", len);
    return hp__fail(err, HP_EIO, "corrupt value encoding");
  }
  *out = v;
  return HP_OK;
}

/* ---- equality ------------------------------------------------------------ */

static int column_equal(const hp_column *a, const hp_column *b, size_t n) {
  if (a->type != b->type || strcmp(a->name, b->name) != 0) return 0;
  if (a->type == HP_STRING)
    return a->offs[n] == b->offs[n] &&
           memcmp(a->chars, b->chars, (size_t)a->offs[n]) == 0;
  if (a->type == HP_BOOL) {
    const uint8_t *x = a->data, *y = b->data;
    for (size_t i = 0; i < n; i++)
      if (!x[i] != !y[i]) return 0;
    return 1;
  }
  size_t nb = n * elem_size(a->type);
  return nb == 0 || memcmp(a->data, b->data, nb) == 0;
}

static int attr_equal(const hp_attr *a, const hp_attr *b) {
  if (a->type != b->type || strcmp(a->name, b->name) != 0) return 0;
  if (a->type == HP_STRING) return strcmp(a->s, b->s) == 0;
  if (a->type == HP_FLOAT64) return memcmp(&a->f, &b->f, sizeof a->f) == 0;
  return a->i == b->i;
}

int hp__value_equal(const hp_value *a, const hp_value *b) {
  if (a == b) return 1;
  if (!a || !b || a->kind != b->kind) return 0;
  if (a->kind == HP_TABLE) {
    if (a->nrows != b->nrows || a->ncols != b->ncols) return 0;
    for (size_t i = 0; i < a->ncols; i++)
      if (!column_equal(&a->cols[i], &b->cols[i], a->nrows)) return 0;
    return 1;
  }
  if (a->kind == HP_ARRAY) {
    if (a->dtype != b->dtype || a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
      if (a->dims[i] != b->dims[i]) return 0;
    size_t nb = hp_array_size(a) * elem_size(a->dtype);
    return nb == 0 || memcmp(a->data, b->data, nb) == 0;
  }
  if (a->nattrs != b->nattrs || a->nchild != b->nchild) return 0;
  for (size_t i = 0; i < a->nattrs; i++)
    if (!attr_equal(&a->attrs[i], &b->attrs[i])) return 0;
  for (size_t i = 0; i < a->nchild; i++)
    if (strcmp(a->names[i], b->names[i]) != 0 ||
        !hp__value_equal(a->children[i], b->children[i]))
      return 0;
  return 1;
}
