/*
 * value.c - tables, arrays and groups in memory: the public hp_table_*,
 * hp_array_* and hp_group_* functions of hpcpipe/node.h, deep copies, and
 * the byte encoding used for MPI messages and content hashes. The encoding
 * is little-endian and self-describing; decoding checks every length
 * against the buffer, so corrupt input fails cleanly. Files are store.c's
 * and csv.c's business.
 */
#include "value.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <math.h>
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
  case HP_TIMESTAMP:
    return 8;
  case HP_BOOL:
    return 1;
  default:
    return 0;
  }
}

/* Bytes per row of a column's data: 4 for dictionary codes. */
static size_t col_elem(const hp_column *c) {
  return c->dict ? 4 : elem_size(c->type);
}

/* 1 if c has a mask with at least one null among its n rows. */
static int has_null(const hp_column *c, size_t n) {
  return c->valid && n && memchr(c->valid, 0, n) != NULL;
}

/* Strings held by a string column's offs/chars: rows or dictionary. */
static size_t nstrs(const hp_column *c, size_t nrows) {
  return c->dict ? c->ndict : nrows;
}

/* Row r of string column c, ignoring the mask. */
static const char *str_at(const hp_column *c, size_t r) {
  if (c->dict) return c->chars + c->offs[((const int32_t *)c->data)[r]];
  return c->chars + c->offs[r];
}

/* n * sz into *out; 0 on overflow. */
static int mul_ok(size_t n, size_t sz, size_t *out) {
  if (sz && n > SIZE_MAX / sz) return 0;
  *out = n * sz;
  return 1;
}

static void column_clear(hp_column *c) {
  free(c->name);
  hp__mem_free(c->data); /* malloc'd or mapped from a file */
  free(c->offs);
  free(c->chars);
  free(c->valid);
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
  case HP_TIMESTAMP:
    return "timestamp";
  default:
    return "unknown";
  }
}

void hp_value_free(hp_value *v) {
  if (!v) return;
  for (size_t i = 0; i < v->ncols; i++)
    column_clear(&v->cols[i]);
  free(v->cols);
  hp__mem_free(v->data);
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
  dst->dict = src->dict;
  dst->ndict = src->ndict;
  if (src->valid) {
    dst->valid = malloc(nrows ? nrows : 1);
    if (!dst->valid) return HP_ENOMEM;
    if (nrows) memcpy(dst->valid, src->valid, nrows);
  }
  if (src->type == HP_STRING) {
    size_t ns = nstrs(src, nrows);
    size_t nb = (size_t)src->offs[ns];
    dst->offs = malloc((ns + 1) * sizeof *dst->offs);
    dst->chars = malloc(nb ? nb : 1);
    if (!dst->offs || !dst->chars) return HP_ENOMEM;
    memcpy(dst->offs, src->offs, (ns + 1) * sizeof *dst->offs);
    memcpy(dst->chars, src->chars, nb);
    if (!src->dict) return HP_OK;
  }
  size_t nb = nrows * col_elem(src);
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
  if (!is_table(t) || !name || !*name || type < HP_INT64 ||
      type > HP_TIMESTAMP)
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
  if (!is_table(t) || col >= t->ncols || t->cols[col].type == HP_STRING)
    return NULL;
  return t->cols[col].data;
}

void *hp_table_column_mut(hp_value *t, size_t col) {
  if (!is_table(t) || col >= t->ncols || t->cols[col].type == HP_STRING)
    return NULL;
  return t->cols[col].data;
}

const char *hp_table_str(const hp_value *t, size_t col, size_t row) {
  if (!is_table(t) || col >= t->ncols || row >= t->nrows) return NULL;
  const hp_column *c = &t->cols[col];
  if (c->type != HP_STRING || (c->valid && !c->valid[row])) return "";
  return str_at(c, row);
}

const uint8_t *hp_table_valid(const hp_value *t, size_t col) {
  return is_table(t) && col < t->ncols ? t->cols[col].valid : NULL;
}

int hp_table_set_valid(hp_value *t, size_t col, const uint8_t *valid) {
  if (!is_table(t) || col >= t->ncols) return HP_EINVAL;
  hp_column *c = &t->cols[col];
  if (!valid) {
    free(c->valid);
    c->valid = NULL;
    return HP_OK;
  }
  if (!c->valid) {
    c->valid = malloc(t->nrows ? t->nrows : 1);
    if (!c->valid) return HP_ENOMEM;
  }
  for (size_t i = 0; i < t->nrows; i++)
    c->valid[i] = valid[i] != 0;
  return HP_OK;
}

int hp__table_adopt(hp_value *t, hp_column *c, size_t nrows) {
  if (!is_table(t) || !c->name || !*c->name ||
      (t->ncols && nrows != t->nrows) || hp_table_find(t, c->name) >= 0) {
    column_clear(c);
    return HP_EINVAL;
  }
  hp__grow(&t->cols, &t->capcols, t->ncols + 1, sizeof *t->cols);
  t->cols[t->ncols++] = *c;
  t->nrows = nrows;
  memset(c, 0, sizeof *c);
  return HP_OK;
}

int hp__table_move_column(hp_value *dst, hp_value *src, size_t col,
                          const char *name) {
  if (!is_table(dst) || !is_table(src) || col >= src->ncols ||
      !src->cols[col].type || dst == src)
    return HP_EINVAL;
  hp_column *s = &src->cols[col];
  if (!name) name = s->name;
  if (!*name || hp_table_find(dst, name) >= 0 ||
      (dst->ncols && dst->nrows != src->nrows))
    return HP_EINVAL;
  hp_column c = *s;
  c.name = hp__xstrdup(name);
  char *keep = s->name;
  memset(s, 0, sizeof *s);
  s->name = keep;
  return hp__table_adopt(dst, &c, src->nrows);
}

void hp__table_swap(hp_value *a, hp_value *b) {
  if (!a || !b) return;
  hp_value tmp = *a;
  *a = *b;
  *b = tmp;
}

int hp_table_add_dict_column(hp_value *t, const char *name,
                             const int32_t *codes, size_t nrows,
                             const char *const *dict, size_t ndict) {
  if (!is_table(t) || !name || !*name || (nrows && !codes) ||
      (ndict && !dict) || ndict >= INT32_MAX)
    return HP_EINVAL;
  if ((t->ncols && nrows != t->nrows) || hp_table_find(t, name) >= 0)
    return HP_EINVAL;
  for (size_t i = 0; i < nrows; i++)
    if (codes[i] < 0 || (size_t)codes[i] >= ndict) return HP_EINVAL;
  hp_strset set = {0};
  for (size_t k = 0; k < ndict; k++) {
    if (!dict[k] ||
        hp__strset_add(&set, dict[k], strlen(dict[k]), SIZE_MAX) !=
            (int32_t)k) {
      hp__strset_free(&set);
      return HP_EINVAL; /* NULL or repeated entry */
    }
  }
  hp_column c = {0};
  c.type = HP_STRING;
  c.data = malloc(nrows ? nrows * sizeof *codes : 1);
  if (!c.data) {
    hp__strset_free(&set);
    return HP_ENOMEM;
  }
  if (nrows) memcpy(c.data, codes, nrows * sizeof *codes);
  hp__strset_to_dict(&set, &c);
  c.name = hp__xstrdup(name);
  return hp__table_adopt(t, &c, nrows);
}

const int32_t *hp_table_dict_codes(const hp_value *t, size_t col) {
  return is_table(t) && col < t->ncols && t->cols[col].dict ? t->cols[col].data
                                                            : NULL;
}

size_t hp_table_dict_size(const hp_value *t, size_t col) {
  return is_table(t) && col < t->ncols && t->cols[col].dict
             ? t->cols[col].ndict
             : 0;
}

const char *hp_table_dict_str(const hp_value *t, size_t col, size_t k) {
  if (!is_table(t) || col >= t->ncols || !t->cols[col].dict ||
      k >= t->cols[col].ndict)
    return NULL;
  return t->cols[col].chars + t->cols[col].offs[k];
}

/* ---- string sets --------------------------------------------------------- */

static void strset_rehash(hp_strset *set) {
  size_t ns = set->nslots ? set->nslots * 2 : 64;
  while (ns < (set->n + 1) * 2)
    ns *= 2;
  free(set->slots);
  set->slots = hp__xcalloc(ns, sizeof *set->slots);
  set->nslots = ns;
  for (size_t k = 0; k < set->n; k++) {
    size_t i = (size_t)set->hashes[k] & (ns - 1);
    while (set->slots[i])
      i = (i + 1) & (ns - 1);
    set->slots[i] = (int32_t)(k + 1);
  }
}

int32_t hp__strset_add(hp_strset *set, const char *s, size_t len,
                       size_t limit) {
  uint64_t h = hp__hash64(s, len, HP_HASH_SEED);
  if ((set->n + 1) * 2 > set->nslots) strset_rehash(set);
  size_t mask = set->nslots - 1, i = (size_t)h & mask;
  for (int32_t k; (k = set->slots[i]) != 0; i = (i + 1) & mask) {
    size_t code = (size_t)k - 1;
    if (set->hashes[code] == h &&
        (size_t)(set->offs[code + 1] - set->offs[code]) == len + 1 &&
        memcmp(set->chars + set->offs[code], s, len) == 0)
      return (int32_t)code;
  }
  if (set->n >= limit || set->n >= (size_t)INT32_MAX - 1) return -1;
  hp__grow(&set->offs, &set->capoffs, set->n + 2, sizeof *set->offs);
  hp__grow(&set->hashes, &set->caphashes, set->n + 1, sizeof *set->hashes);
  hp__grow(&set->chars, &set->capchars, set->nchars + len + 1, 1);
  set->offs[0] = 0;
  memcpy(set->chars + set->nchars, s, len);
  set->chars[set->nchars + len] = '\0';
  set->nchars += len + 1;
  set->offs[set->n + 1] = (int64_t)set->nchars;
  set->hashes[set->n] = h;
  set->slots[i] = (int32_t)(set->n + 1);
  return (int32_t)set->n++;
}

void hp__strset_to_dict(hp_strset *set, hp_column *c) {
  if (!set->offs) set->offs = hp__xcalloc(1, sizeof *set->offs);
  if (!set->chars) set->chars = hp__xmalloc(1);
  c->type = HP_STRING;
  c->dict = 1;
  c->ndict = set->n;
  c->offs = set->offs;
  c->chars = set->chars;
  set->offs = NULL;
  set->chars = NULL;
  hp__strset_free(set);
}

void hp__strset_free(hp_strset *set) {
  free(set->offs);
  free(set->chars);
  free(set->slots);
  free(set->hashes);
  memset(set, 0, sizeof *set);
}

int hp__table_projects(const char *const *cols, size_t ncols, size_t kept,
                       const char *name) {
  int keep = ncols == 0 && kept == 0;
  for (size_t j = 0; j < ncols && !keep; j++)
    keep = strcmp(name, cols[j]) == 0;
  return keep;
}

/* ---- arrays -------------------------------------------------------------- */

static hp_value *array_new(hp_dtype type, int ndim, const size_t *dims,
                           int zero) {
  if ((type != HP_INT64 && type != HP_FLOAT64) || ndim < 1 ||
      ndim > HP_MAX_NDIM || !dims)
    return NULL;
  size_t n = 1;
  for (int i = 0; i < ndim; i++)
    if (!mul_ok(n, dims[i], &n)) return NULL;
  size_t nb;
  if (!mul_ok(n, 8, &nb)) return NULL;
  void *data = zero ? calloc(nb ? nb : 1, 1) : malloc(nb ? nb : 1);
  if (!data) return NULL;
  hp_value *a = value_alloc(HP_ARRAY);
  a->dtype = type;
  a->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    a->dims[i] = dims[i];
  a->data = data;
  return a;
}

hp_value *hp_array_new(hp_dtype type, int ndim, const size_t *dims) {
  return array_new(type, ndim, dims, 1);
}

hp_value *hp__array_new_uninit(hp_dtype type, int ndim, const size_t *dims) {
  return array_new(type, ndim, dims, 0);
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
 *   table: u64 nrows, u64 ncols, per column: str name, u8 type (plus flag
 *          0x80: a mask of nrows 0/1 bytes follows; 0x40: dictionary),
 *          data (int64/float64/timestamp: nrows x 8 bytes; bool: nrows
 *          bytes; string: u64 nbytes then the NUL-terminated values back
 *          to back; dictionary: u64 ndict, u64 nbytes, the entries as for
 *          strings, then nrows x 4-byte codes);
 *   array: u8 dtype, u8 ndim, u64 dims[ndim], size x 8 bytes;
 *   group: u64 nattrs, per attribute: str name, u8 type, i64 | f64 bits |
 *          str; u64 nchild, per child: str name, value.
 * str is u64 length and bytes (no NUL). All integers little-endian. The
 * hash walks the same sequence of bytes through a sink, but for tables in
 * a canonical form (hash_column): dictionaries as plain strings, masks only
 * when some row is null, null rows zeroed (NaN for floats, no mask). */

#define MAGIC      "HPV1"
#define MAX_DEPTH  200
#define FLAG_VALID 0x80u
#define FLAG_DICT  0x40u
#define TYPE_BITS  0x3fu

/* The NaN a null float reads as (what NAN is on IEEE machines). */
static const uint64_t null_nan_bits = 0x7ff8000000000000ULL;

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

/* n int32 codes, little-endian. */
static void put_codes(sink *s, const int32_t *p, size_t n) {
  if (!HOST_BIG_ENDIAN) {
    put(s, p, n * 4);
    return;
  }
  unsigned char *tmp = hp__xmalloc(n ? n * 4 : 1);
  for (size_t i = 0; i < n; i++)
    for (int j = 0; j < 4; j++)
      tmp[i * 4 + j] = (unsigned char)((uint32_t)p[i] >> (8 * j));
  put(s, tmp, n * 4);
  free(tmp);
}

/* The rows of string column c as plain NUL-terminated strings back to
 * back ("" for nulls when valid is given); *nb gets the length. */
static char *plain_strings(const hp_column *c, size_t n, const uint8_t *valid,
                           size_t *nb) {
  size_t total = 0;
  for (size_t r = 0; r < n; r++)
    total += (valid && !valid[r] ? 0 : strlen(str_at(c, r))) + 1;
  char *buf = hp__xmalloc(total ? total : 1), *o = buf;
  for (size_t r = 0; r < n; r++) {
    if (valid && !valid[r]) {
      *o++ = '\0';
      continue;
    }
    const char *x = str_at(c, r);
    size_t len = strlen(x) + 1;
    memcpy(o, x, len);
    o += len;
  }
  *nb = total;
  return buf;
}

/* Column c in canonical form, for the hash (see the format comment). */
static void hash_column(sink *s, const hp_column *c, size_t n) {
  const uint8_t *valid = has_null(c, n) ? c->valid : NULL;
  if (c->type == HP_FLOAT64) {
    put_u8(s, HP_FLOAT64);
    if (!valid) {
      put_words(s, c->data, n);
      return;
    }
    uint64_t *tmp = hp__xmalloc(n * 8);
    memcpy(tmp, c->data, n * 8);
    for (size_t r = 0; r < n; r++)
      if (!valid[r]) tmp[r] = null_nan_bits;
    put_words(s, tmp, n);
    free(tmp);
    return;
  }
  put_u8(s, (unsigned)c->type | (valid ? FLAG_VALID : 0));
  if (valid) put(s, valid, n);
  if (c->type == HP_STRING) {
    if (!c->dict && !valid) {
      put_u64(s, (uint64_t)c->offs[n]);
      put(s, c->chars, (size_t)c->offs[n]);
      return;
    }
    size_t nb;
    char *tmp = plain_strings(c, n, valid, &nb);
    put_u64(s, nb);
    put(s, tmp, nb);
    free(tmp);
  } else if (c->type == HP_BOOL) {
    if (!valid) {
      put_bools(s, c->data, n);
      return;
    }
    uint8_t *tmp = hp__xmalloc(n);
    const uint8_t *b = c->data;
    for (size_t r = 0; r < n; r++)
      tmp[r] = valid[r] && b[r];
    put(s, tmp, n);
    free(tmp);
  } else if (!valid) {
    put_words(s, c->data, n);
  } else {
    int64_t *tmp = hp__xmalloc(n * 8);
    const int64_t *x = c->data;
    for (size_t r = 0; r < n; r++)
      tmp[r] = valid[r] ? x[r] : 0;
    put_words(s, tmp, n);
    free(tmp);
  }
}

/* Column c as it is, for messages. */
static void pack_column(sink *s, const hp_column *c, size_t n) {
  put_u8(s, (unsigned)c->type | (c->valid ? FLAG_VALID : 0) |
                (c->dict ? FLAG_DICT : 0));
  if (c->valid) put_bools(s, c->valid, n);
  if (c->type == HP_STRING) {
    size_t ns = nstrs(c, n);
    if (c->dict) put_u64(s, ns);
    put_u64(s, (uint64_t)c->offs[ns]);
    put(s, c->chars, (size_t)c->offs[ns]);
    if (c->dict) put_codes(s, c->data, n);
  } else if (c->type == HP_BOOL) {
    put_bools(s, c->data, n);
  } else {
    put_words(s, c->data, n);
  }
}

static void emit(sink *s, const hp_value *v) {
  put_u8(s, (unsigned)v->kind);
  if (v->kind == HP_TABLE) {
    put_u64(s, v->nrows);
    put_u64(s, v->ncols);
    for (size_t i = 0; i < v->ncols; i++) {
      const hp_column *c = &v->cols[i];
      put_str(s, c->name);
      if (s->buf)
        pack_column(s, c, v->nrows);
      else
        hash_column(s, c, v->nrows);
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

/* u64 nbytes, then `count` NUL-terminated strings into c->offs/c->chars. */
static int read_strings(reader *r, hp_column *c, size_t count) {
  size_t nb = get_len(r, 1);
  const unsigned char *p = take(r, nb);
  /* every value is NUL-terminated: exactly count NULs, the last byte one */
  if (!p || (nb == 0) != (count == 0) || (nb && p[nb - 1] != '\0') ||
      count > nb) {
    r->bad = 1;
    return 0;
  }
  c->offs = malloc((count + 1) * sizeof *c->offs);
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
    if (row == count) {
      r->bad = 1;
      return 0;
    }
    c->offs[++row] = (int64_t)(i + 1);
  }
  if (row != count) {
    r->bad = 1;
    return 0;
  }
  return 1;
}

/* nrows bytes, each 0 or 1, into a new buffer. */
static uint8_t *read_bytes01(reader *r, size_t nrows) {
  const unsigned char *p = take(r, nrows);
  if (!p) return NULL;
  for (size_t i = 0; i < nrows; i++) {
    if (p[i] > 1) {
      r->bad = 1;
      return NULL;
    }
  }
  uint8_t *b = malloc(nrows ? nrows : 1);
  if (!b) {
    r->nomem = 1;
    return NULL;
  }
  memcpy(b, p, nrows);
  return b;
}

/* A dictionary: entries (distinct) and nrows codes in range. */
static int read_dict(reader *r, hp_column *c, size_t nrows) {
  c->ndict = get_len(r, 1); /* an entry takes at least its NUL */
  if (!r->bad && c->ndict >= INT32_MAX) r->bad = 1;
  if (r->bad || !read_strings(r, c, c->ndict)) return 0;
  hp_strset set = {0};
  for (size_t k = 0; k < c->ndict && !r->bad; k++) {
    const char *e = c->chars + c->offs[k];
    if (hp__strset_add(&set, e, strlen(e), SIZE_MAX) != (int32_t)k) r->bad = 1;
  }
  hp__strset_free(&set);
  if (!r->bad && nrows > r->left / 4) r->bad = 1;
  const unsigned char *p = take(r, nrows * 4);
  if (!p) return 0;
  int32_t *codes = malloc(nrows ? nrows * 4 : 1);
  if (!codes) {
    r->nomem = 1;
    return 0;
  }
  c->data = codes;
  for (size_t i = 0; i < nrows; i++) {
    uint32_t x = 0;
    for (int j = 0; j < 4; j++)
      x |= (uint32_t)p[i * 4 + (size_t)j] << (8 * j);
    if (x >= c->ndict) {
      r->bad = 1;
      return 0;
    }
    codes[i] = (int32_t)x;
  }
  return 1;
}

static int read_column(reader *r, hp_column *c, size_t nrows) {
  unsigned tb = get_u8(r);
  c->type = (hp_dtype)(tb & TYPE_BITS);
  c->dict = (tb & FLAG_DICT) != 0;
  if (r->bad || (c->dict && c->type != HP_STRING) || c->type < HP_INT64 ||
      c->type > HP_TIMESTAMP || (tb & ~(TYPE_BITS | FLAG_DICT | FLAG_VALID))) {
    r->bad = 1;
    return 0;
  }
  if ((tb & FLAG_VALID) && !(c->valid = read_bytes01(r, nrows))) return 0;
  if (c->dict) return read_dict(r, c, nrows);
  if (c->type == HP_STRING) return read_strings(r, c, nrows);
  if (c->type == HP_BOOL) return (c->data = read_bytes01(r, nrows)) != NULL;
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

/* Floats compare by bits, a null as NaN. */
static int floats_equal(const hp_column *a, const uint8_t *va,
                        const hp_column *b, const uint8_t *vb, size_t n) {
  if (!va && !vb) return n == 0 || memcmp(a->data, b->data, n * 8) == 0;
  const uint64_t *x = a->data, *y = b->data;
  for (size_t i = 0; i < n; i++) {
    uint64_t p = va && !va[i] ? null_nan_bits : x[i];
    uint64_t q = vb && !vb[i] ? null_nan_bits : y[i];
    if (p != q) return 0;
  }
  return 1;
}

static int same_dict(const hp_column *a, const hp_column *b) {
  return a->dict && b->dict && a->ndict == b->ndict &&
         a->offs[a->ndict] == b->offs[b->ndict] &&
         memcmp(a->offs, b->offs, (a->ndict + 1) * sizeof *a->offs) == 0 &&
         memcmp(a->chars, b->chars, (size_t)a->offs[a->ndict]) == 0;
}

/* Strings, bools and integers at valid rows (both masks are equal). */
static int rows_equal(const hp_column *a, const hp_column *b,
                      const uint8_t *valid, size_t n) {
  if (a->type == HP_STRING) {
    if (!a->dict && !b->dict && !valid)
      return a->offs[n] == b->offs[n] &&
             memcmp(a->chars, b->chars, (size_t)a->offs[n]) == 0;
    int codes = same_dict(a, b);
    const int32_t *x = a->data, *y = b->data;
    for (size_t i = 0; i < n; i++) {
      if (valid && !valid[i]) continue;
      if (codes ? x[i] != y[i] : strcmp(str_at(a, i), str_at(b, i)) != 0)
        return 0;
    }
    return 1;
  }
  if (a->type == HP_BOOL) {
    const uint8_t *x = a->data, *y = b->data;
    for (size_t i = 0; i < n; i++)
      if ((!valid || valid[i]) && !x[i] != !y[i]) return 0;
    return 1;
  }
  if (!valid) return n == 0 || memcmp(a->data, b->data, n * 8) == 0;
  const int64_t *x = a->data, *y = b->data;
  for (size_t i = 0; i < n; i++)
    if (valid[i] && x[i] != y[i]) return 0;
  return 1;
}

static int column_equal(const hp_column *a, const hp_column *b, size_t n) {
  if (a->type != b->type || strcmp(a->name, b->name) != 0) return 0;
  const uint8_t *va = has_null(a, n) ? a->valid : NULL;
  const uint8_t *vb = has_null(b, n) ? b->valid : NULL;
  if (a->type == HP_FLOAT64) return floats_equal(a, va, b, vb, n);
  if (!va != !vb || (va && memcmp(va, vb, n) != 0)) return 0;
  return rows_equal(a, b, va, n);
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

/* ---- row selections ------------------------------------------------------ */

/* dst[i] = src[rows[i]] for i < n, elements of esz bytes (8, 4 or 1). */
static void gather_run(void *dst, const void *src, const int64_t *rows,
                       size_t n, size_t esz) {
  if (esz == 8) {
    const int64_t *x = src;
    int64_t *y = dst;
    for (size_t i = 0; i < n; i++)
      y[i] = x[rows[i]];
  } else if (esz == 4) {
    const int32_t *x = src;
    int32_t *y = dst;
    for (size_t i = 0; i < n; i++)
      y[i] = x[rows[i]];
  } else {
    const uint8_t *x = src;
    uint8_t *y = dst;
    for (size_t i = 0; i < n; i++)
      y[i] = x[rows[i]];
  }
}

/* Gathers of many rows run in blocks of this many on the task's cores
 * (hp_node_parallel): a gather at random from columns of tens of MB waits
 * on memory, and two cores wait on twice as many rows at once. */
#define GATHER_BLOCK 65536

typedef struct gather_job {
  char *dst;
  const void *src;
  const int64_t *rows;
  size_t n, esz;
} gather_job;

static void gather_block(void *arg, size_t b) {
  gather_job *j = arg;
  size_t i0 = b * GATHER_BLOCK;
  size_t i1 = i0 + GATHER_BLOCK < j->n ? i0 + GATHER_BLOCK : j->n;
  gather_run(j->dst + i0 * j->esz, j->src, j->rows + i0, i1 - i0, j->esz);
}

static void gather_elems(void *dst, const void *src, const int64_t *rows,
                         size_t n, size_t esz) {
  if (n < 2 * GATHER_BLOCK) {
    gather_run(dst, src, rows, n, esz);
    return;
  }
  gather_job j = {dst, src, rows, n, esz};
  hp_node_parallel(NULL, (n + GATHER_BLOCK - 1) / GATHER_BLOCK, gather_block,
                   &j);
}

/* Fills dst (zeroed) with n rows of src: rows[i], or r0 + i when rows is
 * NULL. HP_ENOMEM if a buffer cannot be had. */
static int column_gather(hp_column *dst, const hp_column *src,
                         const int64_t *rows, size_t r0, size_t n) {
  dst->name = hp__xstrdup(src->name);
  dst->type = src->type;
  dst->dict = src->dict;
  dst->ndict = src->ndict;
  if (src->valid) {
    dst->valid = malloc(n ? n : 1);
    if (!dst->valid) return HP_ENOMEM;
    if (!rows)
      memcpy(dst->valid, src->valid + r0, n);
    else
      gather_elems(dst->valid, src->valid, rows, n, 1);
  }
  if (src->type == HP_STRING && !src->dict) {
    dst->offs = malloc((n + 1) * sizeof *dst->offs);
    if (!dst->offs) return HP_ENOMEM;
    const int64_t *so = src->offs;
    if (!rows) {
      int64_t base = so[r0];
      for (size_t i = 0; i <= n; i++)
        dst->offs[i] = so[r0 + i] - base;
      size_t nb = (size_t)dst->offs[n];
      dst->chars = malloc(nb ? nb : 1);
      if (!dst->chars) return HP_ENOMEM;
      memcpy(dst->chars, src->chars + base, nb);
      return HP_OK;
    }
    int64_t at = 0;
    for (size_t i = 0; i < n; i++) {
      dst->offs[i] = at;
      at += so[rows[i] + 1] - so[rows[i]];
    }
    dst->offs[n] = at;
    dst->chars = malloc(at ? (size_t)at : 1);
    if (!dst->chars) return HP_ENOMEM;
    for (size_t i = 0; i < n; i++)
      memcpy(dst->chars + dst->offs[i], src->chars + so[rows[i]],
             (size_t)(dst->offs[i + 1] - dst->offs[i]));
    return HP_OK;
  }
  if (src->dict) {
    size_t nb = (size_t)src->offs[src->ndict];
    dst->offs = malloc((src->ndict + 1) * sizeof *dst->offs);
    dst->chars = malloc(nb ? nb : 1);
    if (!dst->offs || !dst->chars) return HP_ENOMEM;
    memcpy(dst->offs, src->offs, (src->ndict + 1) * sizeof *dst->offs);
    memcpy(dst->chars, src->chars, nb);
  }
  size_t esz = col_elem(src);
  dst->data = malloc(n ? n * esz : 1);
  if (!dst->data) return HP_ENOMEM;
  if (!rows) {
    if (n) memcpy(dst->data, (const char *)src->data + r0 * esz, n * esz);
  } else {
    gather_elems(dst->data, src->data, rows, n, esz);
  }
  return HP_OK;
}

static hp_value *table_gather(const hp_value *t, const int64_t *rows,
                              size_t r0, size_t n) {
  hp_value *o = hp_table_new();
  if (t->ncols) {
    o->cols = hp__xcalloc(t->ncols, sizeof *o->cols);
    o->capcols = t->ncols;
  }
  o->nrows = t->ncols ? n : 0;
  for (size_t c = 0; c < t->ncols; c++) {
    o->ncols++;
    if (column_gather(&o->cols[c], &t->cols[c], rows, r0, n) != HP_OK) {
      hp_value_free(o);
      return NULL;
    }
  }
  return o;
}

int hp__table_permute(hp_value *t, const int64_t *rows) {
  if (!t || t->kind != HP_TABLE || (!rows && t->nrows))
    return HP_EINVAL;
  size_t n = t->nrows;
  for (size_t i = 0; i < n; i++)
    if (rows[i] < 0 || (uint64_t)rows[i] >= n)
      return HP_EINVAL;
  void *spare[9] = {0}; /* by element size: a buffer of n elements free */
  uint8_t *vspare = NULL;
  int rc = HP_OK;
  for (size_t c = 0; c < t->ncols && rc == HP_OK; c++) {
    hp_column *col = &t->cols[c];
    if (col->valid) { /* masks: n bytes */
      uint8_t *m = vspare ? vspare : malloc(n ? n : 1);
      if (!m) {
        rc = HP_ENOMEM;
        break;
      }
      gather_elems(m, col->valid, rows, n, 1);
      vspare = col->valid;
      col->valid = m;
    }
    if (col->type == HP_STRING && !col->dict) { /* rebuilt: new sizes */
      hp_column tmp = {0};
      rc = column_gather(&tmp, col, rows, 0, n);
      if (rc == HP_OK) {
        free(col->offs);
        free(col->chars);
        col->offs = tmp.offs;
        col->chars = tmp.chars;
        tmp.offs = NULL, tmp.chars = NULL;
      }
      free(tmp.name);
      free(tmp.valid);
      free(tmp.offs);
      free(tmp.chars);
      continue;
    }
    size_t esz = col_elem(col);
    void *buf = spare[esz] ? spare[esz] : malloc(n ? n * esz : 1);
    if (!buf) {
      rc = HP_ENOMEM;
      break;
    }
    gather_elems(buf, col->data, rows, n, esz);
    spare[esz] = col->data; /* malloc'd or mapped: hp__mem_free knows */
    col->data = buf;
  }
  for (size_t e = 0; e < 9; e++)
    hp__mem_free(spare[e]);
  free(vspare);
  return rc;
}

hp_value *hp__table_take(const hp_value *t, const int64_t *rows, size_t n) {
  if (!is_table(t) || (n && !rows)) return NULL;
  for (size_t i = 0; i < n; i++)
    if (rows[i] < 0 || (uint64_t)rows[i] >= t->nrows) return NULL;
  return table_gather(t, rows, 0, n);
}

hp_value *hp__table_slice(const hp_value *t, size_t r0, size_t r1) {
  if (!is_table(t) || r0 > r1 || r1 > t->nrows) return NULL;
  return table_gather(t, NULL, r0, r1 - r0);
}

size_t hp__value_size_hint(const hp_value *v) {
  if (!v) return 0;
  size_t n = 64;
  if (is_table(v)) {
    for (size_t c = 0; c < v->ncols; c++) {
      const hp_column *col = &v->cols[c];
      size_t strs = col->dict ? col->ndict : v->nrows;
      n += 64 + (col->valid ? v->nrows : 0);
      if (col->type == HP_STRING)
        n += (col->dict ? 4 * v->nrows : 0) +
             (col->offs ? (size_t)col->offs[strs] + 8 * strs : 0);
      else
        n += v->nrows * elem_size(col->type);
    }
  } else if (is_array(v)) {
    n += hp_array_size(v) * elem_size(v->dtype);
  } else {
    for (size_t i = 0; i < v->nchild; i++)
      n += 64 + hp__value_size_hint(v->children[i]);
    n += 64 * v->nattrs;
  }
  return n;
}

hp_value *hp__value_slice(const hp_value *v, size_t r0, size_t r1) {
  if (is_table(v)) return hp__table_slice(v, r0, r1);
  if (!is_array(v) || r0 > r1 || r1 > v->dims[0]) return NULL;
  size_t dims[HP_MAX_NDIM], row = 1;
  memcpy(dims, v->dims, sizeof dims);
  for (int k = 1; k < v->ndim; k++)
    row *= v->dims[k];
  dims[0] = r1 - r0;
  hp_value *out = hp_array_new(v->dtype, v->ndim, dims);
  if (out && row && r1 > r0)
    memcpy(out->data, (const char *)v->data + r0 * row * elem_size(v->dtype),
           row * (r1 - r0) * elem_size(v->dtype));
  return out;
}

hp_value *hp__table_mask(const hp_value *t, const uint8_t *keep) {
  if (!is_table(t) || (t->nrows && !keep)) return NULL;
  size_t n = 0;
  for (size_t r = 0; r < t->nrows; r++)
    n += keep[r] != 0;
  if (n == t->nrows) return table_gather(t, NULL, 0, n);
  int64_t *rows = malloc(n ? n * sizeof *rows : 1);
  if (!rows) return NULL;
  size_t r = 0, i = 0;
#if defined(__SSE2__)
  /* 16 mask bytes at a time: blocks without a kept row cost one compare
   * (a filter keeps few rows), kept rows no mispredicted branch */
  const __m128i zero = _mm_setzero_si128();
  for (; r + 16 <= t->nrows; r += 16) {
    __m128i m = _mm_loadu_si128((const __m128i *)(const void *)(keep + r));
    unsigned bits =
        ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(m, zero)) & 0xFFFFu;
    for (; bits; bits &= bits - 1)
      rows[i++] = (int64_t)(r + (size_t)__builtin_ctz(bits));
  }
#endif
  for (; r < t->nrows; r++)
    if (keep[r]) rows[i++] = (int64_t)r;
  hp_value *o = table_gather(t, rows, 0, n);
  free(rows);
  return o;
}

/* ---- concatenation ------------------------------------------------------- */

static const char *kind_name(hp_kind k) {
  return k == HP_TABLE ? "table" : k == HP_ARRAY ? "array" : "group";
}

static int concat_arrays(const hp_value *const *parts, size_t n,
                         hp_value **out, hp_error *err) {
  const hp_value *a0 = parts[0];
  size_t dims[HP_MAX_NDIM];
  memcpy(dims, a0->dims, sizeof dims);
  dims[0] = 0;
  for (size_t p = 0; p < n; p++) {
    const hp_value *a = parts[p];
    if (a->dtype != a0->dtype || a->ndim != a0->ndim)
      return hp__fail(err, HP_EINVAL,
                      "concat: part %zu is a %d-D %s array, part 0 a %d-D "
                      "%s array",
                      p, a->ndim, hp_dtype_name(a->dtype), a0->ndim,
                      hp_dtype_name(a0->dtype));
    for (int d = 1; d < a->ndim; d++)
      if (a->dims[d] != a0->dims[d])
        return hp__fail(err, HP_EINVAL,
                        "concat: part %zu has %zu along axis %d, part 0 has "
                        "%zu (only axis 0 may differ)",
                        p, a->dims[d], d, a0->dims[d]);
    if (a->dims[0] > SIZE_MAX / 2 - dims[0])
      return hp__fail(err, HP_ENOMEM, "concat: too many rows");
    dims[0] += a->dims[0];
  }
  hp_value *o = hp_array_new(a0->dtype, a0->ndim, dims);
  if (!o) return hp__fail(err, HP_ENOMEM, "concat: out of memory");
  char *at = o->data;
  for (size_t p = 0; p < n; p++) {
    size_t nb = hp_array_size(parts[p]) * 8;
    if (nb) memcpy(at, parts[p]->data, nb);
    at += nb;
  }
  *out = o;
  return HP_OK;
}

/* Column c of the parts as one dictionary column: shared when every part
 * has the same dictionary, else unified in order of first appearance. */
static int concat_dict(const hp_value *const *parts, size_t n, size_t c,
                       hp_column *dst) {
  const hp_column *c0 = &parts[0]->cols[c];
  int same = 1;
  for (size_t p = 1; p < n && same; p++)
    same = same_dict(c0, &parts[p]->cols[c]);
  int32_t *codes = dst->data;
  hp_strset set = {0};
  for (size_t p = 0; p < n; p++) {
    const hp_column *s = &parts[p]->cols[c];
    size_t rows = parts[p]->nrows;
    if (same) {
      if (rows) memcpy(codes, s->data, rows * 4);
      codes += rows;
      continue;
    }
    int32_t *remap = hp__xmalloc(s->ndict ? s->ndict * 4 : 1);
    for (size_t k = 0; k < s->ndict; k++) {
      const char *e = s->chars + s->offs[k];
      remap[k] = hp__strset_add(&set, e, strlen(e), SIZE_MAX);
    }
    const int32_t *x = s->data;
    for (size_t i = 0; i < rows; i++)
      codes[i] = remap[x[i]];
    codes += rows;
    free(remap);
  }
  if (!same) {
    hp__strset_to_dict(&set, dst);
    return HP_OK;
  }
  dst->dict = 1;
  dst->ndict = c0->ndict;
  size_t nb = (size_t)c0->offs[c0->ndict];
  dst->offs = malloc((c0->ndict + 1) * sizeof *dst->offs);
  dst->chars = malloc(nb ? nb : 1);
  if (!dst->offs || !dst->chars) return HP_ENOMEM;
  memcpy(dst->offs, c0->offs, (c0->ndict + 1) * sizeof *dst->offs);
  memcpy(dst->chars, c0->chars, nb);
  return HP_OK;
}

/* Column c of the parts as plain strings. */
static int concat_plain(const hp_value *const *parts, size_t n, size_t c,
                        size_t total, hp_column *dst) {
  size_t nb = 0;
  for (size_t p = 0; p < n; p++) {
    const hp_column *s = &parts[p]->cols[c];
    size_t rows = parts[p]->nrows;
    if (!s->dict) {
      nb += (size_t)s->offs[rows];
      continue;
    }
    for (size_t i = 0; i < rows; i++)
      nb += strlen(str_at(s, i)) + 1;
  }
  dst->offs = malloc((total + 1) * sizeof *dst->offs);
  dst->chars = malloc(nb ? nb : 1);
  if (!dst->offs || !dst->chars) return HP_ENOMEM;
  int64_t at = 0;
  size_t row = 0;
  for (size_t p = 0; p < n; p++) {
    const hp_column *s = &parts[p]->cols[c];
    size_t rows = parts[p]->nrows;
    if (!s->dict) {
      for (size_t i = 0; i < rows; i++)
        dst->offs[row++] = at + s->offs[i];
      memcpy(dst->chars + at, s->chars, (size_t)s->offs[rows]);
      at += s->offs[rows];
      continue;
    }
    for (size_t i = 0; i < rows; i++) {
      const char *x = str_at(s, i);
      size_t len = strlen(x) + 1;
      dst->offs[row++] = at;
      memcpy(dst->chars + at, x, len);
      at += (int64_t)len;
    }
  }
  dst->offs[total] = at;
  return HP_OK;
}

static int concat_column(const hp_value *const *parts, size_t n, size_t c,
                         size_t total, hp_column *dst) {
  const hp_column *c0 = &parts[0]->cols[c];
  dst->name = hp__xstrdup(c0->name);
  dst->type = c0->type;
  int alldict = c0->type == HP_STRING, anymask = 0;
  for (size_t p = 0; p < n; p++) {
    alldict &= parts[p]->cols[c].dict;
    anymask |= parts[p]->cols[c].valid != NULL;
  }
  if (anymask) {
    dst->valid = malloc(total ? total : 1);
    if (!dst->valid) return HP_ENOMEM;
    uint8_t *v = dst->valid;
    for (size_t p = 0; p < n; p++) {
      size_t rows = parts[p]->nrows;
      if (parts[p]->cols[c].valid)
        memcpy(v, parts[p]->cols[c].valid, rows);
      else
        memset(v, 1, rows);
      v += rows;
    }
  }
  if (c0->type == HP_STRING && !alldict)
    return concat_plain(parts, n, c, total, dst);
  size_t esz = alldict ? 4 : elem_size(c0->type);
  dst->data = malloc(total ? total * esz : 1);
  if (!dst->data) return HP_ENOMEM;
  if (alldict) return concat_dict(parts, n, c, dst);
  char *at = dst->data;
  for (size_t p = 0; p < n; p++) {
    size_t nb = parts[p]->nrows * esz;
    if (nb) memcpy(at, parts[p]->cols[c].data, nb);
    at += nb;
  }
  return HP_OK;
}

/* Checks that part p has part 0's columns (names and types, in order). */
static int same_columns(const hp_value *t0, const hp_value *t, size_t p,
                        hp_error *err) {
  if (t->ncols != t0->ncols)
    return hp__fail(err, HP_EINVAL,
                    "concat: part %zu has %zu columns, the first part %zu", p,
                    t->ncols, t0->ncols);
  for (size_t c = 0; c < t->ncols; c++) {
    const hp_column *a = &t0->cols[c], *b = &t->cols[c];
    if (strcmp(a->name, b->name) != 0 || a->type != b->type)
      return hp__fail(err, HP_EINVAL,
                      "concat: part %zu: column %zu is '%s' (%s), in the "
                      "first part '%s' (%s)",
                      p, c, b->name, hp_dtype_name(b->type), a->name,
                      hp_dtype_name(a->type));
  }
  return HP_OK;
}

static int concat_same(const hp_value *const *parts, size_t n,
                       hp_value **out, hp_error *err);

/* If column c is int64 in some parts and float64 in others, copies of the
 * int64 parts with that column as float64 (nulls as NaN), as pandas'
 * concat promotes; *copies[p] NULL where a part needs no change. */
static void promote_numbers(const hp_value *const *parts, size_t n,
                            hp_value **copies) {
  size_t nc = 0;
  for (size_t p = 0; p < n && !nc; p++)
    nc = parts[p]->ncols;
  for (size_t c = 0; c < nc; c++) {
    int ints = 0, floats = 0;
    for (size_t p = 0; p < n; p++) {
      const hp_value *v = copies[p] ? copies[p] : parts[p];
      if (c >= v->ncols) continue;
      ints |= v->cols[c].type == HP_INT64;
      floats |= v->cols[c].type == HP_FLOAT64;
    }
    if (!ints || !floats) continue;
    for (size_t p = 0; p < n; p++) {
      const hp_value *v = copies[p] ? copies[p] : parts[p];
      if (c >= v->ncols || v->cols[c].type != HP_INT64) continue;
      if (!copies[p]) copies[p] = hp_value_copy(parts[p]);
      hp_column *col = &copies[p]->cols[c];
      size_t rows = copies[p]->nrows;
      double *d = hp__xmalloc((rows ? rows : 1) * sizeof *d);
      const int64_t *x = col->data;
      for (size_t r = 0; r < rows; r++)
        d[r] = col->valid && !col->valid[r] ? NAN : (double)x[r];
      free(col->data);
      col->data = d;
      col->type = HP_FLOAT64;
      free(col->valid);
      col->valid = NULL;
    }
  }
}

static int concat_tables(const hp_value *const *orig, size_t n,
                         hp_value **out, hp_error *err) {
  hp_value **copies = hp__xcalloc(n + 1, sizeof *copies);
  promote_numbers(orig, n, copies);
  const hp_value **parts = hp__xcalloc(n + 1, sizeof *parts);
  for (size_t p = 0; p < n; p++)
    parts[p] = copies[p] ? copies[p] : orig[p];
  int rc = concat_same(parts, n, out, err);
  for (size_t p = 0; p < n; p++)
    hp_value_free(copies[p]);
  free(copies);
  free(parts);
  return rc;
}

static int concat_same(const hp_value *const *parts, size_t n,
                       hp_value **out, hp_error *err) {
  /* parts without columns (and so without rows) are skipped */
  const hp_value **use = hp__xmalloc(n * sizeof *use);
  size_t m = 0, total = 0;
  int rc = HP_OK;
  for (size_t p = 0; p < n && rc == HP_OK; p++) {
    if (parts[p]->ncols == 0) continue;
    if (m) rc = same_columns(use[0], parts[p], p, err);
    if (rc == HP_OK && parts[p]->nrows > SIZE_MAX / 16 - total)
      rc = hp__fail(err, HP_ENOMEM, "concat: too many rows");
    total += parts[p]->nrows;
    use[m++] = parts[p];
  }
  hp_value *o = hp_table_new();
  if (rc == HP_OK && m) {
    size_t nc = use[0]->ncols;
    o->cols = hp__xcalloc(nc, sizeof *o->cols);
    o->capcols = nc;
    o->nrows = total;
    for (size_t c = 0; c < nc && rc == HP_OK; c++) {
      o->ncols++;
      if (concat_column(use, m, c, total, &o->cols[c]) != HP_OK)
        rc = hp__fail(err, HP_ENOMEM,
                      "concat: out of memory (column '%s', %zu rows)",
                      use[0]->cols[c].name, total);
    }
  }
  free(use);
  if (rc != HP_OK) {
    hp_value_free(o);
    return rc;
  }
  *out = o;
  return HP_OK;
}

int hp__value_concat(const hp_value *const *parts, size_t n, hp_value **out,
                     hp_error *err) {
  if (out) *out = NULL;
  if (!out || !parts || n == 0)
    return hp__fail(err, HP_EINVAL, "concat: nothing to concatenate");
  for (size_t p = 0; p < n; p++) {
    if (!parts[p] || parts[p]->kind < HP_TABLE || parts[p]->kind > HP_GROUP)
      return hp__fail(err, HP_EINVAL, "concat: part %zu is not a value", p);
    if (parts[p]->kind != parts[0]->kind)
      return hp__fail(err, HP_EINVAL, "concat: part %zu is a%s %s, part 0 a%s %s",
                      p, parts[p]->kind == HP_ARRAY ? "n" : "",
                      kind_name(parts[p]->kind),
                      parts[0]->kind == HP_ARRAY ? "n" : "",
                      kind_name(parts[0]->kind));
  }
  if (parts[0]->kind == HP_GROUP)
    return hp__fail(err, HP_EINVAL,
                    "concat: groups cannot be concatenated (only tables and "
                    "arrays)");
  if (parts[0]->kind == HP_ARRAY) return concat_arrays(parts, n, out, err);
  return concat_tables(parts, n, out, err);
}

/* ---- timestamps ---------------------------------------------------------- */

#define NS_PER_S   1000000000LL
#define S_PER_DAY  86400LL

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* n digits at *s as a number; 0 if any is not a digit. */
static int digits(const char **s, int n, unsigned *out) {
  unsigned x = 0;
  for (int i = 0; i < n; i++) {
    char c = (*s)[i];
    if (c < '0' || c > '9') return 0;
    x = x * 10 + (unsigned)(c - '0');
  }
  *s += n;
  *out = x;
  return 1;
}

static int leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int hp__timestamp_parse(const char *s, int64_t *out) {
  static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  while (*s == ' ' || *s == '\t')
    s++;
  unsigned y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) ||
      *s++ != '-' || !digits(&s, 2, &d))
    return 0;
  if (mo < 1 || mo > 12 || d < 1 ||
      d > mdays[mo - 1] + (mo == 2 && leap((int64_t)y)))
    return 0;
  int64_t frac = 0;
  if ((*s == ' ' || *s == 'T') && s[1] >= '0' && s[1] <= '9') {
    s++;
    if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi)) return 0;
    if (*s == ':') {
      s++;
      if (!digits(&s, 2, &sec)) return 0;
      if (*s == '.') {
        s++;
        int nd = 0;
        for (; *s >= '0' && *s <= '9'; s++, nd++)
          if (nd < 9) frac = frac * 10 + (*s - '0');
        if (nd == 0) return 0;
        for (; nd < 9; nd++)
          frac *= 10;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return 0;
  }
  if (*s == 'Z') s++;
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s) return 0;
  int64_t secs = days_from_civil((int64_t)y, mo, d) * S_PER_DAY +
                 (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)sec;
  /* int64 ns reach from 1677-09-21 to 2262-04-11 */
  int64_t x;
  if (secs < 0 && frac > 0) { /* near the low end secs * 1e9 alone is out */
    secs++;
    frac -= NS_PER_S;
  }
  if (__builtin_mul_overflow(secs, NS_PER_S, &x) ||
      __builtin_add_overflow(x, frac, &x))
    return 0;
  *out = x;
  return 1;
}

static char *put_digits(char *p, unsigned x, int n) {
  for (int i = n - 1; i >= 0; i--) {
    p[i] = (char)('0' + x % 10);
    x /= 10;
  }
  return p + n;
}

int hp__timestamp_format(int64_t ns, char *buf) {
  int64_t secs = ns / NS_PER_S, frac = ns % NS_PER_S;
  if (frac < 0) {
    frac += NS_PER_S;
    secs--;
  }
  int64_t days = secs / S_PER_DAY, sod = secs % S_PER_DAY;
  if (sod < 0) {
    sod += S_PER_DAY;
    days--;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  char *p = buf;
  p = put_digits(p, (unsigned)y, 4);
  *p++ = '-';
  p = put_digits(p, m, 2);
  *p++ = '-';
  p = put_digits(p, d, 2);
  *p++ = ' ';
  p = put_digits(p, (unsigned)(sod / 3600), 2);
  *p++ = ':';
  p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
  *p++ = ':';
  p = put_digits(p, (unsigned)(sod % 60), 2);
  if (frac) {
    *p++ = '.';
    if (frac % 1000000 == 0)
      p = put_digits(p, (unsigned)(frac / 1000000), 3);
    else if (frac % 1000 == 0)
      p = put_digits(p, (unsigned)(frac / 1000), 6);
    else
      p = put_digits(p, (unsigned)frac, 9);
  }
  *p = '\0';
  return (int)(p - buf);
}
