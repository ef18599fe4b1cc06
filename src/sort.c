/*
 * sort.c - frame.sort: rows ordered by one or more columns, ascending or
 * descending, nulls last (pandas' sort_values with a stable kind). Each
 * partition is sorted on its own; part.c's combine tree then merges
 * sorted runs, k at a time, taking ties from the earlier partition first,
 * so the result is the same for any rank count.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sort.h"

#include "exec.h"
#include "mem.h"
#include "registry.h"
#include "value.h"

typedef struct sorter {
  hp_sort_key *k;
  size_t nk;
} sorter;

/* -1, 0, 1 comparing row a of s with row b of t on every key. */
static int cmp_rows(const sorter *s, size_t a, const sorter *t, size_t b) {
  for (size_t i = 0; i < s->nk; i++) {
    const hp_sort_key *x = &s->k[i], *y = &t->k[i];
    int na = x->valid && !x->valid[a], nb = y->valid && !y->valid[b];
    double da = 0, db = 0;
    int r = 0;
    switch (x->type) {
    case HP_FLOAT64:
      da = ((const double *)x->data)[a];
      db = ((const double *)y->data)[b];
      na |= isnan(da);
      nb |= isnan(db);
      r = (da > db) - (da < db);
      break;
    case HP_BOOL: {
      int va = ((const uint8_t *)x->data)[a], vb = ((const uint8_t *)y->data)[b];
      r = (va > vb) - (va < vb);
      break;
    }
    case HP_STRING:
      r = (x->rank[a] > y->rank[b]) - (x->rank[a] < y->rank[b]);
      break;
    default: {
      int64_t va = ((const int64_t *)x->data)[a],
              vb = ((const int64_t *)y->data)[b];
      r = (va > vb) - (va < vb);
    }
    }
    if (na || nb) { /* nulls last, whatever the direction */
      if (na && nb)
        continue;
      return na ? 1 : -1;
    }
    if (r)
      return x->desc ? -r : r;
  }
  return 0;
}

typedef struct sort_args {
  const char **by;
  int *desc;
  size_t n;
} sort_args;

static void sort_args_free(sort_args *a) {
  free(a->by);
  free(a->desc);
}

/* args.by: a column or list; args.ascending: a bool or one per column. */
static int parse_sort(hp_node_ctx *ctx, sort_args *a) {
  memset(a, 0, sizeof *a);
  const hp_tree *args = hp_node_args(ctx), *by = hp_tree_get(args, "by");
  size_t n = hp_tree_type(by) == HP_TREE_SCALAR ? 1
             : hp_tree_type(by) == HP_TREE_SEQ  ? hp_tree_len(by)
                                                : 0;
  if (n == 0)
    return hp_node_fail(ctx, "frame.sort needs args.by, a column or list");
  a->by = hp__xcalloc(n + 1, sizeof *a->by);
  a->desc = hp__xcalloc(n + 1, sizeof *a->desc);
  a->n = n;
  const hp_tree *asc = hp_tree_get(args, "ascending");
  for (size_t i = 0; i < n; i++) {
    a->by[i] = hp_tree_type(by) == HP_TREE_SCALAR ? hp_tree_text(by)
                                                  : hp_tree_text(hp_tree_at(by, i));
    int up = 1;
    const hp_tree *ai = hp_tree_type(asc) == HP_TREE_SEQ ? hp_tree_at(asc, i)
                                                         : asc;
    if (!a->by[i] || (ai && hp_tree_bool(ai, NULL, 1, &up) != HP_OK) ||
        (hp_tree_type(asc) == HP_TREE_SEQ && hp_tree_len(asc) != n)) {
      sort_args_free(a);
      return hp_node_fail(ctx, "args.ascending must be true/false or one per "
                               "column of args.by");
    }
    a->desc[i] = !up;
  }
  return HP_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int32_t *hp__sort_string_ranks(const hp_value *t, size_t c) {
  size_t n = hp_value_rows(t);
  int32_t *rank = hp__xmalloc((n + 1) * sizeof *rank);
  const int32_t *codes = hp_table_dict_codes(t, c);
  size_t nd = codes ? hp_table_dict_size(t, c) : n;
  const char **v = hp__xcalloc(nd + 1, sizeof *v);
  for (size_t i = 0; i < nd; i++)
    v[i] = codes ? hp_table_dict_str(t, c, i) : hp_table_str(t, c, i);
  const char **sorted = hp__xcalloc(nd + 1, sizeof *sorted);
  memcpy(sorted, v, nd * sizeof *v);
  qsort(sorted, nd, sizeof *sorted, cmp_str);
  /* binary search each entry's rank (equal strings share the first) */
  int32_t *er = hp__xmalloc((nd + 1) * sizeof *er);
  for (size_t i = 0; i < nd; i++) {
    size_t lo = 0, hi = nd;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (strcmp(sorted[mid], v[i]) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    er[i] = (int32_t)lo;
  }
  for (size_t r = 0; r < n; r++)
    rank[r] = codes ? er[codes[r]] : er[r];
  free(er);
  free(sorted);
  free(v);
  return rank;
}

void hp__sort_key_of(const hp_value *t, size_t c, int desc, hp_sort_key *k) {
  *k = (hp_sort_key){.type = hp_table_coltype(t, c),
                     .data = hp_table_column(t, c),
                     .valid = hp_table_valid(t, c),
                     .desc = desc};
  if (k->type == HP_STRING)
    k->rank = hp__sort_string_ranks(t, c);
}

static int sorter_init(hp_node_ctx *ctx, sorter *s, const hp_value *t,
                       const sort_args *a) {
  s->nk = a->n;
  s->k = hp__xcalloc(a->n + 1, sizeof *s->k);
  for (size_t i = 0; i < a->n; i++) {
    long c = hp_table_find(t, a->by[i]);
    if (c < 0)
      return hp_node_fail(ctx, "no column '%s' to sort by", a->by[i]);
    hp__sort_key_of(t, (size_t)c, a->desc[i], &s->k[i]);
  }
  return HP_OK;
}

/* Frees s's keys and leaves it empty (freeing it again does nothing). */
static void sorter_free(sorter *s) {
  for (size_t i = 0; s->k && i < s->nk; i++)
    free((void *)s->k[i].rank);
  free(s->k);
  memset(s, 0, sizeof *s);
}

/* Stable merge sort of idx[0..n) by s (tmp: n scratch entries). */
static void msort(const sorter *s, int64_t *idx, int64_t *tmp, size_t n) {
  if (n < 2)
    return;
  if (n <= 16) { /* insertion sort */
    for (size_t i = 1; i < n; i++) {
      int64_t v = idx[i];
      size_t j = i;
      while (j > 0 && cmp_rows(s, (size_t)idx[j - 1], s, (size_t)v) > 0) {
        idx[j] = idx[j - 1];
        j--;
      }
      idx[j] = v;
    }
    return;
  }
  size_t h = n / 2;
  msort(s, idx, tmp, h);
  msort(s, idx + h, tmp, n - h);
  if (cmp_rows(s, (size_t)idx[h - 1], s, (size_t)idx[h]) <= 0)
    return;
  memcpy(tmp, idx, h * sizeof *idx);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n)
    idx[k++] = cmp_rows(s, (size_t)idx[j], s, (size_t)tmp[i]) < 0 ? idx[j++]
                                                                 : tmp[i++];
  while (i < h)
    idx[k++] = tmp[i++];
}

/* ---- packed keys, radix-sorted --------------------------------------- */

/* Row r of key k as an unsigned integer in the key's ascending order
 * (*null set for a null or NaN, then 0). */
static inline uint64_t key_bits(const hp_sort_key *k, size_t r, int *null) {
  *null = k->valid && !k->valid[r];
  switch (k->type) {
  case HP_FLOAT64: {
    double d = ((const double *)k->data)[r];
    uint64_t u;
    memcpy(&u, &d, 8);
    *null |= isnan(d);
    if (d == 0) u = 0; /* -0.0 == 0.0 */
    return u >> 63 ? ~u : u | 1ULL << 63;
  }
  case HP_BOOL: /* the byte, as cmp_rows compares it */
    return ((const uint8_t *)k->data)[r];
  case HP_STRING:
    return (uint64_t)(uint32_t)k->rank[r];
  default:
    return (uint64_t)((const int64_t *)k->data)[r] ^ 1ULL << 63;
  }
}

/* x shifted left by b (0 to 64) bits. */
static inline uint64_t shl(uint64_t x, unsigned b) {
  return b >= 64 ? 0 : x << b;
}

/* The keys of rows 0..n-1 packed into w (most significant key first: a
 * null flag if the key has nulls, then its value minus its least, bits
 * complemented when descending); 0 if they need more than 64 bits. */
static int pack_keys(const hp_sort_key *k, size_t nk, size_t n, uint64_t *w) {
  uint64_t *lo = hp__xcalloc(nk + 1, sizeof *lo), *span = hp__xcalloc(nk + 1, sizeof *span);
  unsigned *bits = hp__xcalloc(nk + 1, sizeof *bits);
  int *nulls = hp__xcalloc(nk + 1, sizeof *nulls);
  unsigned total = 0;
  for (size_t i = 0; i < nk && total <= 64; i++) {
    uint64_t a = UINT64_MAX, b = 0;
    for (size_t r = 0; r < n; r++) {
      int nl;
      uint64_t u = key_bits(&k[i], r, &nl);
      nulls[i] |= nl;
      if (!nl) {
        a = u < a ? u : a;
        b = u > b ? u : b;
      }
    }
    lo[i] = a > b ? 0 : a;
    span[i] = a > b ? 0 : b - a;
    bits[i] = span[i] ? 64 - (unsigned)__builtin_clzll(span[i]) : 0;
    total += bits[i] + (nulls[i] != 0);
  }
  int fits = total <= 64;
  if (fits) {
    memset(w, 0, n * sizeof *w);
    for (size_t i = 0; i < nk; i++) {
      unsigned b = bits[i] + (nulls[i] != 0);
      for (size_t r = 0; r < n; r++) {
        int nl;
        uint64_t x = key_bits(&k[i], r, &nl) - lo[i];
        if (k[i].desc) x = span[i] - x;
        x = nl ? shl(1, bits[i]) : x; /* nulls after every value */
        w[r] = shl(w[r], b) | x;
      }
    }
  }
  free(lo);
  free(span);
  free(bits);
  free(nulls);
  return fits;
}

/* idx[0..n) ordered by w (ties in the order they come: stable), by
 * least-significant-byte-first radix passes, a pass skipped where every
 * row has the same byte. */
static void radix_order(const uint64_t *w, size_t n, int64_t *idx) {
  typedef struct kv {
    uint64_t w;
    int64_t i;
  } kv;
  kv *a = hp__xmalloc((n + 1) * sizeof *a), *b = hp__xmalloc((n + 1) * sizeof *b);
  size_t (*count)[256] = hp__xcalloc(8, sizeof *count);
  for (size_t r = 0; r < n; r++) {
    a[r].w = w[r];
    a[r].i = (int64_t)r;
    for (unsigned d = 0; d < 8; d++)
      count[d][(w[r] >> (8 * d)) & 0xFF]++;
  }
  for (unsigned d = 0; d < 8; d++) {
    size_t *c = count[d];
    if (c[(w[0] >> (8 * d)) & 0xFF] == n) continue; /* one byte value */
    size_t at = 0;
    for (unsigned v = 0; v < 256; v++) {
      size_t m = c[v];
      c[v] = at;
      at += m;
    }
    for (size_t r = 0; r < n; r++)
      b[c[(a[r].w >> (8 * d)) & 0xFF]++] = a[r];
    kv *t = a;
    a = b;
    b = t;
  }
  for (size_t r = 0; r < n; r++)
    idx[r] = a[r].i;
  free(a);
  free(b);
  free(count);
}

void hp__sort_order(const hp_sort_key *k, size_t nk, size_t n, int64_t *idx) {
  uint64_t *w = n >= 64 ? hp__xmalloc(n * sizeof *w) : NULL;
  if (w && pack_keys(k, nk, n, w)) {
    size_t r = 1;
    while (r < n && w[r - 1] <= w[r])
      r++;
    if (r == n) { /* in order already (a join's output often is) */
      for (r = 0; r < n; r++)
        idx[r] = (int64_t)r;
    } else {
      radix_order(w, n, idx);
    }
  } else {
    for (size_t r = 0; r < n; r++)
      idx[r] = (int64_t)r;
    sorter s = {.k = (hp_sort_key *)k, .nk = nk};
    int64_t *tmp = hp__xmalloc((n / 2 + 1) * sizeof *tmp);
    msort(&s, idx, tmp, n);
    free(tmp);
  }
  free(w);
}

/* A partition, sorted. */
static int sort_run(hp_node_ctx *ctx) {
  sort_args a;
  HP_TRY(parse_sort(ctx, &a));
  const hp_value *t = NULL;
  sorter s = {0};
  int rc = hp__node_table(ctx, 0, &t);
  if (rc == HP_OK)
    rc = sorter_init(ctx, &s, t, &a);
  if (rc == HP_OK) {
    size_t n = hp_value_rows(t);
    int64_t *idx = hp__xmalloc((n + 1) * sizeof *idx);
    hp__sort_order(s.k, s.nk, n, idx);
    rc = hp_node_output(ctx, 0, hp__table_take(t, idx, n));
    free(idx);
  }
  sorter_free(&s);
  sort_args_free(&a);
  return rc;
}

/* The order of a k-way merge of sorted runs: run i's rows are
 * pos[i] .. end[i] (pos advances) compared through sv[i]; output row o
 * is row[o] of run run[o] (run may be NULL). Ties keep the earlier run. */
static void merge_order(const sorter *const *sv, size_t *pos,
                        const size_t *end, size_t k, size_t n, uint32_t *run,
                        int64_t *row) {
  for (size_t o = 0; o < n; o++) {
    size_t best = k;
    for (size_t i = 0; i < k; i++)
      if (pos[i] < end[i] &&
          (best == k || cmp_rows(sv[i], pos[i], sv[best], pos[best]) < 0))
        best = i;
    if (run)
      run[o] = (uint32_t)best;
    row[o] = (int64_t)pos[best]++;
  }
}

/* 1 if every run has the same columns, all of fixed width (int64,
 * timestamp, float64, bool): then the merge gathers each output column
 * straight from the runs, one pass, instead of concatenating the runs and
 * reordering the concatenation (two passes and a table of new memory). */
static int fixed_runs(const hp_value *const *in, size_t k) {
  size_t nc = hp_table_ncols(in[0]);
  for (size_t i = 0; i < k; i++) {
    if (nc == 0 || hp_table_ncols(in[i]) != nc)
      return 0;
    for (size_t c = 0; c < nc; c++) {
      hp_dtype t = hp_table_coltype(in[i], c);
      if ((t != HP_INT64 && t != HP_TIMESTAMP && t != HP_FLOAT64 &&
           t != HP_BOOL) ||
          t != hp_table_coltype(in[0], c) ||
          strcmp(hp_table_colname(in[i], c), hp_table_colname(in[0], c)))
        return 0;
    }
  }
  return 1;
}

/* Output rows per segment of a merge of fixed-width runs: a merge of at
 * least two segments' rows runs a segment at a time on the task's cores. */
#define MERGE_SEG 65536

/* The merge of fixed-width runs into new columns, a segment of output
 * rows at a time: its order (merge_order) from the runs' rows at the
 * segment's cuts, then every column filled for those rows, a block of
 * 2048 at a time so the block's run[] and row[] stay in cache from one
 * column to the next. */
typedef struct merger {
  const sorter *const *sv;
  size_t k, nc;
  const size_t *cut; /* segment j starts at row cut[j * k + i] of run i */
  uint32_t *run;     /* output row o is row[o] of run run[o] */
  int64_t *row;
  hp_column *col;
  const void **src;   /* column c of run i: src[c * k + i] */
  const uint8_t **ok; /* its validity (NULL: all valid) */
} merger;

/* Rows of sorted run i (n rows) that the merge puts before row r of run
 * s: the rows ordered before it, and the equal ones when i is earlier. */
static size_t rows_before(const merger *m, size_t i, size_t n, size_t s,
                          size_t r) {
  if (i == s) return r;
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cmp_rows(m->sv[i], mid, m->sv[s], r);
    if (c < 0 || (c == 0 && i < s))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void merge_segment(void *arg, size_t j) {
  enum { BLOCK = 2048 };
  merger *m = arg;
  size_t k = m->k, o0 = 0, o1 = 0;
  size_t *pos = hp__xmalloc(k * sizeof *pos);
  for (size_t i = 0; i < k; i++) {
    pos[i] = m->cut[j * k + i];
    o0 += m->cut[j * k + i];
    o1 += m->cut[(j + 1) * k + i];
  }
  merge_order(m->sv, pos, m->cut + (j + 1) * k, k, o1 - o0, m->run + o0,
              m->row + o0);
  free(pos);
  const uint32_t *run = m->run;
  const int64_t *row = m->row;
  for (size_t b0 = o0; b0 < o1; b0 += BLOCK) {
    size_t b1 = o1 - b0 < BLOCK ? o1 : b0 + BLOCK;
    for (size_t c = 0; c < m->nc; c++) {
      const void *const *sc = m->src + c * k;
      const uint8_t *const *oc = m->ok + c * k;
      hp_column *col = &m->col[c];
      if (col->type == HP_BOOL) {
        uint8_t *y = col->data;
        for (size_t o = b0; o < b1; o++)
          y[o] = ((const uint8_t *)sc[run[o]])[row[o]];
      } else {
        int64_t *y = col->data;
        for (size_t o = b0; o < b1; o++)
          y[o] = ((const int64_t *)sc[run[o]])[row[o]];
      }
      for (size_t o = b0; col->valid && o < b1; o++)
        col->valid[o] = oc[run[o]] ? oc[run[o]][row[o]] : 1;
    }
  }
}

/* The n rows of the runs merged into a new table; NULL when memory runs
 * out. Segments are cut at rows of the longest run, each run at the rows
 * the merge puts before that one, so every segment merges on its own and
 * the result is the serial merge's, on any number of cores. */
static hp_value *merge_runs(const hp_value *const *in, const sorter *const *sv,
                            size_t k, size_t n, hp_node_ctx *ctx) {
  size_t nc = hp_table_ncols(in[0]), nseg = n / MERGE_SEG ? n / MERGE_SEG : 1;
  merger m = {.sv = sv, .k = k, .nc = nc};
  m.col = hp__xcalloc(nc + 1, sizeof *m.col);
  m.src = hp__xcalloc(k * nc + 1, sizeof *m.src);
  m.ok = hp__xcalloc(k * nc + 1, sizeof *m.ok);
  m.run = malloc((n + 1) * sizeof *m.run);
  m.row = malloc((n + 1) * sizeof *m.row);
  size_t *cut = hp__xcalloc((nseg + 1) * k + 1, sizeof *cut);
  int fail = !m.run || !m.row;
  for (size_t c = 0; c < nc; c++) {
    m.col[c].name = hp__xstrdup(hp_table_colname(in[0], c));
    m.col[c].type = hp_table_coltype(in[0], c);
    int masked = 0;
    for (size_t i = 0; i < k; i++) {
      m.src[c * k + i] = hp_table_column(in[i], c);
      m.ok[c * k + i] = hp_table_valid(in[i], c);
      masked |= m.ok[c * k + i] != NULL;
    }
    m.col[c].data = malloc(n * (m.col[c].type == HP_BOOL ? 1 : 8) + 1);
    m.col[c].valid = masked ? malloc(n + 1) : NULL;
    fail |= !m.col[c].data || (masked && !m.col[c].valid);
  }
  size_t big = 0;
  for (size_t i = 0; i < k; i++) {
    cut[nseg * k + i] = hp_value_rows(in[i]);
    if (cut[nseg * k + i] > cut[nseg * k + big]) big = i;
  }
  size_t nbig = cut[nseg * k + big];
  for (size_t j = 1; j < nseg; j++)
    for (size_t i = 0; i < k; i++)
      cut[j * k + i] = rows_before(&m, i, cut[nseg * k + i], big,
                                   j * nbig / nseg);
  m.cut = cut;
  if (!fail)
    hp_node_parallel(ctx, nseg, merge_segment, &m);
  hp_value *t = fail ? NULL : hp_table_new();
  for (size_t c = 0; c < nc; c++) {
    if (t && hp__table_adopt(t, &m.col[c], n) != HP_OK) { /* frees col[c] */
      hp_value_free(t);
      t = NULL;
    }
    free(m.col[c].name), free(m.col[c].data), free(m.col[c].valid);
  }
  free(m.col);
  free(m.src);
  free(m.ok);
  free(m.run);
  free(m.row);
  free(cut);
  return t;
}

/* Fixed-width runs merged by gathering (fixed_runs); ties keep the
 * earlier run, as the merge of their concatenation does. */
static int merge_fixed(hp_node_ctx *ctx, const hp_value *const *in, size_t k,
                       const sort_args *a) {
  sorter *s = hp__xcalloc(k + 1, sizeof *s);
  size_t n = 0;
  int rc = HP_OK;
  for (size_t i = 0; i < k; i++) {
    n += hp_value_rows(in[i]);
    if (rc == HP_OK)
      rc = sorter_init(ctx, &s[i], in[i], a);
  }
  const sorter **sv = hp__xcalloc(k + 1, sizeof *sv);
  for (size_t i = 0; i < k; i++)
    sv[i] = &s[i];
  hp_value *out = rc == HP_OK ? merge_runs(in, sv, k, n, ctx) : NULL;
  free(sv);
  if (rc == HP_OK)
    rc = out ? hp_node_output(ctx, 0, out)
             : hp_node_fail(ctx, "out of memory merging %zu rows", n);
  for (size_t i = 0; i < k; i++)
    sorter_free(&s[i]);
  free(s);
  return rc;
}

/* Sorted runs (the inputs, in partition order) merged into one. One run
 * (the finish after a single combine) is already the result. */
static int sort_merge(hp_node_ctx *ctx) {
  size_t k = hp_node_ninputs(ctx);
  if (k == 1) {
    const hp_value *t;
    HP_TRY(hp__node_table(ctx, 0, &t));
    hp_value *v = hp__node_take_input(ctx, 0);
    return v ? hp_node_output(ctx, 0, v) : hp_node_fail(ctx, "out of memory");
  }
  sort_args a;
  HP_TRY(parse_sort(ctx, &a));
  const hp_value **in = hp__xcalloc(k + 1, sizeof *in);
  hp_value *all = NULL;
  hp_error err = HP_ERROR_INIT;
  int rc = HP_OK;
  for (size_t i = 0; i < k && rc == HP_OK; i++)
    rc = hp__node_table(ctx, i, &in[i]);
  if (rc == HP_OK && k <= UINT32_MAX && fixed_runs(in, k)) {
    rc = merge_fixed(ctx, in, k, &a);
    free(in);
    sort_args_free(&a);
    return rc;
  }
  if (rc == HP_OK && hp__value_concat(in, k, &all, &err) != HP_OK)
    rc = hp_node_fail(ctx, "%s", err.msg);
  sorter s = {0};
  if (rc == HP_OK)
    rc = sorter_init(ctx, &s, all, &a);
  if (rc == HP_OK) {
    /* run i is rows [start[i], start[i + 1]) of `all` */
    size_t *pos = hp__xcalloc(k + 2, sizeof *pos), *end = hp__xcalloc(k + 2, sizeof *end);
    for (size_t i = 0, at = 0; i < k; i++) {
      pos[i] = at;
      at += hp_value_rows(in[i]);
      end[i] = at;
    }
    size_t n = hp_value_rows(all);
    int64_t *idx = hp__xmalloc((n + 1) * sizeof *idx);
    const sorter **sv = hp__xcalloc(k + 1, sizeof *sv);
    for (size_t i = 0; i < k; i++)
      sv[i] = &s; /* one sorter over the concatenation */
    merge_order(sv, pos, end, k, n, NULL, idx);
    free(sv);
    /* `all` is this task's own: reordered in place, not copied */
    sorter_free(&s); /* its keys point into `all`'s columns */
    if (hp__table_permute(all, idx) == HP_OK) {
      rc = hp_node_output(ctx, 0, all);
      all = NULL;
    } else {
      rc = hp_node_fail(ctx, "out of memory");
    }
    free(idx);
    free(pos);
    free(end);
  }
  sorter_free(&s);
  hp_value_free(all);
  free(in);
  sort_args_free(&a);
  return rc;
}

static const hp_node_type sort_nodes[] = {
    {.abi = HP_NODE_ABI,
     .name = "frame.sort",
     .run = sort_run,
     .mode = HP_MODE_REDUCE,
     .combine = sort_merge,
     .finish = sort_merge,
     .doc = "rows ordered by args.by (args.ascending), nulls last"},
};

int hp__sort_register(hp_registry *r) {
  return hp_register_nodes(r, sort_nodes,
                           sizeof sort_nodes / sizeof sort_nodes[0]);
}
