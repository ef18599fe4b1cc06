/*
 * join.c - frame.join: pandas' merge of two tables on key columns (inner,
 * left, right, outer), as a hash join. When the right table is one
 * partition and the join keeps every left row at most as often as pandas
 * does (inner, left), it is broadcast to each partition of the left one;
 * otherwise both sides are split by a hash of their keys into buckets
 * (part.c's shuffle) and each bucket is joined on its own. Output rows: per
 * left row in order its matches in right order, then right rows no left
 * row matched (right, outer).
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "map.h"
#include "mem.h"
#include "registry.h"
#include "tree.h"
#include "value.h"

typedef enum how { H_INNER, H_LEFT, H_RIGHT, H_OUTER } how;

typedef struct jspec {
  const char **lon, **ron; /* key columns of each side */
  size_t nk;
  how how;
  const char *sfx[2];
  int same_names; /* `on`: one set of key columns in the output */
} jspec;

static void jspec_free(jspec *s) {
  if (s->ron != s->lon)
    free(s->ron);
  free(s->lon);
}

static int parse_how(const hp_tree *args, how *h) {
  const char *t = hp_tree_str(args, "how", "inner");
  static const char *const names[] = {"inner", "left", "right", "outer"};
  for (int i = 0; i < 4; i++)
    if (strcmp(t, names[i]) == 0) {
      *h = (how)i;
      return 0;
    }
  return -1;
}

static int parse_join(hp_node_ctx *ctx, jspec *s) {
  memset(s, 0, sizeof *s);
  const hp_tree *args = hp_node_args(ctx);
  if (parse_how(args, &s->how) != 0)
    return hp_node_fail(ctx, "args.how must be inner, left, right or outer");
  size_t nl = 0, nr = 0;
  const hp_tree *on = hp_tree_get(args, "on");
  if (on) {
    s->lon = s->ron = hp__tree_strings(on, &nl);
    nr = nl;
    s->same_names = 1;
  } else {
    s->lon = hp__tree_strings(hp_tree_get(args, "left_on"), &nl);
    s->ron = hp__tree_strings(hp_tree_get(args, "right_on"), &nr);
  }
  if (!s->lon || !s->ron || nl != nr) {
    jspec_free(s);
    return hp_node_fail(ctx, "frame.join needs args.on (a column or list), "
                             "or left_on and right_on of equal length");
  }
  s->nk = nl;
  const hp_tree *sf = hp_tree_get(args, "suffixes");
  s->sfx[0] = "_x";
  s->sfx[1] = "_y";
  if (sf) {
    if (hp_tree_type(sf) != HP_TREE_SEQ || hp_tree_len(sf) != 2 ||
        !hp_tree_text(hp_tree_at(sf, 0)) || !hp_tree_text(hp_tree_at(sf, 1))) {
      jspec_free(s);
      return hp_node_fail(ctx, "args.suffixes must be a list of two strings");
    }
    s->sfx[0] = hp_tree_text(hp_tree_at(sf, 0));
    s->sfx[1] = hp_tree_text(hp_tree_at(sf, 1));
  }
  return HP_OK;
}

/* ---- keys ------------------------------------------------------------------ */

typedef struct keys {
  const hp_value *t;
  size_t *col;     /* [nk] */
  uint64_t **dict; /* [nk] hash of each dictionary entry, or NULL */
  size_t nk;
} keys;

static uint64_t str_hash(const char *s) {
  return hp__hash64(s, strlen(s), 7);
}

static int keys_init(hp_node_ctx *ctx, keys *k, const hp_value *t,
                     const char **names, size_t nk, const char *side) {
  memset(k, 0, sizeof *k);
  k->t = t;
  k->nk = nk;
  k->col = hp__xcalloc(nk + 1, sizeof *k->col);
  k->dict = hp__xcalloc(nk + 1, sizeof *k->dict);
  for (size_t i = 0; i < nk; i++) {
    long c = hp_table_find(t, names[i]);
    if (c < 0)
      return hp_node_fail(ctx, "no column '%s' in the %s table", names[i],
                          side);
    k->col[i] = (size_t)c;
    if (hp_table_dict_codes(t, (size_t)c)) {
      size_t nd = hp_table_dict_size(t, (size_t)c);
      k->dict[i] = hp__xcalloc(nd + 1, sizeof **k->dict);
      for (size_t j = 0; j < nd; j++)
        k->dict[i][j] = str_hash(hp_table_dict_str(t, (size_t)c, j));
    }
  }
  return HP_OK;
}

static void keys_free(keys *k) {
  for (size_t i = 0; k->dict && i < k->nk; i++)
    free(k->dict[i]);
  free(k->dict);
  free(k->col);
}

static int key_null(const keys *k, size_t r) {
  for (size_t i = 0; i < k->nk; i++) {
    const uint8_t *v = hp_table_valid(k->t, k->col[i]);
    if (v && !v[r])
      return 1;
    if (hp_table_coltype(k->t, k->col[i]) == HP_FLOAT64 &&
        isnan(((const double *)hp_table_column(k->t, k->col[i]))[r]))
      return 1;
  }
  return 0;
}

/* A number as the hash sees it: integral floats like the integer. */
static uint64_t num_bits(double d) {
  if (d == floor(d) && fabs(d) < 9e18)
    return (uint64_t)(int64_t)d;
  uint64_t b;
  memcpy(&b, &d, 8);
  return b;
}

static uint64_t key_hash(const keys *k, size_t r) {
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < k->nk; i++) {
    size_t c = k->col[i];
    const void *d = hp_table_column(k->t, c);
    uint64_t x;
    switch (hp_table_coltype(k->t, c)) {
    case HP_FLOAT64:
      x = num_bits(((const double *)d)[r]);
      break;
    case HP_BOOL:
      x = ((const uint8_t *)d)[r];
      break;
    case HP_STRING:
      x = k->dict[i] ? k->dict[i][hp_table_dict_codes(k->t, c)[r]]
                     : str_hash(hp_table_str(k->t, c, r));
      break;
    default:
      x = (uint64_t)((const int64_t *)d)[r];
    }
    h = hp__mix64(h ^ x) + i;
  }
  return h;
}

static double num_at(const hp_value *t, size_t c, size_t r) {
  const void *d = hp_table_column(t, c);
  switch (hp_table_coltype(t, c)) {
  case HP_FLOAT64:
    return ((const double *)d)[r];
  case HP_BOOL:
    return ((const uint8_t *)d)[r];
  default:
    return (double)((const int64_t *)d)[r];
  }
}

static int key_eq(const keys *a, size_t ra, const keys *b, size_t rb) {
  for (size_t i = 0; i < a->nk; i++) {
    size_t ca = a->col[i], cb = b->col[i];
    hp_dtype ta = hp_table_coltype(a->t, ca), tb = hp_table_coltype(b->t, cb);
    if (ta == HP_STRING || tb == HP_STRING) {
      if (ta != tb || strcmp(hp_table_str(a->t, ca, ra),
                             hp_table_str(b->t, cb, rb)) != 0)
        return 0;
    } else if ((ta == HP_INT64 || ta == HP_TIMESTAMP) && ta == tb) {
      if (((const int64_t *)hp_table_column(a->t, ca))[ra] !=
          ((const int64_t *)hp_table_column(b->t, cb))[rb])
        return 0;
    } else if (num_at(a->t, ca, ra) != num_at(b->t, cb, rb)) {
      return 0;
    }
  }
  return 1;
}

/* ---- the join -------------------------------------------------------------- */

/* Rows of t at idx[0..n) (-1: a null row). */
static hp_value *take_or_null(const hp_value *t, const int64_t *idx,
                              size_t n) {
  size_t neg = 0, moved = n != hp_value_rows(t);
  for (size_t i = 0; i < n; i++) {
    neg |= (size_t)(idx[i] < 0);
    moved |= (size_t)(idx[i] != (int64_t)i);
  }
  if (!moved) /* each row once, in order: a copy */
    return hp__table_slice(t, 0, n);
  if (!neg && (hp_value_rows(t) || !n)) /* every row matched */
    return hp__table_take(t, idx, n);
  int64_t *safe = hp__xmalloc((n + 1) * sizeof *safe);
  uint8_t *valid = hp__xmalloc(n + 1);
  int any = 0;
  for (size_t i = 0; i < n; i++) {
    safe[i] = idx[i] < 0 ? 0 : idx[i];
    valid[i] = idx[i] >= 0;
    any |= idx[i] < 0;
  }
  hp_value *out = hp__table_take(t, safe, hp_value_rows(t) ? n : 0);
  if (!hp_value_rows(t) && n) { /* an empty side: every row is null */
    hp_value_free(out);
    out = hp_table_new();
    for (size_t c = 0; c < hp_table_ncols(t); c++)
      hp_table_add_column(out, hp_table_colname(t, c), hp_table_coltype(t, c),
                          NULL, n);
  }
  for (size_t c = 0; any && c < hp_table_ncols(out); c++) {
    const uint8_t *old = hp_table_valid(out, c);
    uint8_t *m = hp__xmalloc(n + 1);
    if (old)
      for (size_t i = 0; i < n; i++)
        m[i] = valid[i] & old[i];
    else
      memcpy(m, valid, n);
    hp_table_set_valid(out, c, m);
    if (hp_table_coltype(out, c) == HP_FLOAT64) {
      double *d = hp_table_column_mut(out, c);
      hp__f64_null_nan(d, d, valid, n); /* unmatched rows */
    }
    free(m);
  }
  free(safe);
  free(valid);
  return out;
}

static int is_key(const jspec *s, const char *name, int side) {
  const char **v = side ? s->ron : s->lon;
  for (size_t i = 0; i < s->nk; i++)
    if (strcmp(v[i], name) == 0)
      return 1;
  return 0;
}

/* 1 if `name` is an output column of the other side (suffixes needed). */
static int clashes(const jspec *s, const hp_value *other, int other_side,
                   const char *name) {
  if (hp_table_find(other, name) < 0)
    return 0;
  return !(s->same_names && is_key(s, name, other_side));
}

/* Key column `name` of an outer or right join: the left row's value where
 * there is one, else the right row's. L and R are the two sides already
 * taken row by row (take_or_null with li and ri); L's key column is moved
 * into out. */
static int coalesce_key(hp_value *out, const char *name, hp_value *L,
                        const hp_value *R, const int64_t *li, size_t n) {
  long ca = hp_table_find(L, name), cb = hp_table_find(R, name);
  hp_dtype ta = hp_table_coltype(L, (size_t)ca),
           tb = hp_table_coltype(R, (size_t)cb);
  int rc;
  if (ta == HP_STRING) {
    const char **v = hp__xcalloc(n + 1, sizeof *v);
    for (size_t r = 0; r < n; r++)
      v[r] = li[r] >= 0 ? hp_table_str(L, (size_t)ca, r)
                        : hp_table_str(R, (size_t)cb, r);
    rc = hp_table_add_column(out, name, HP_STRING, v, n);
    free(v);
    return rc;
  }
  /* a null key stays null, from whichever side gives the row */
  const uint8_t *va = hp_table_valid(L, (size_t)ca),
                *vb = hp_table_valid(R, (size_t)cb);
  uint8_t *m = NULL;
  int nulls = 0;
  if (va || vb) {
    m = hp__xmalloc(n + 1);
    for (size_t r = 0; r < n; r++) {
      m[r] = li[r] >= 0 ? !va || va[r] : !vb || vb[r];
      nulls |= !m[r];
    }
  }
  hp_value *tmp = hp_table_new();
  if (ta != tb) { /* an int key matched to a float one: floats, as pandas */
    double *v = hp__xmalloc((n + 1) * sizeof *v);
    for (size_t r = 0; r < n; r++)
      v[r] = li[r] >= 0 ? num_at(L, (size_t)ca, r) : num_at(R, (size_t)cb, r);
    hp_table_add_column(tmp, name, HP_FLOAT64, v, n);
    free(v);
  } else {
    hp__table_move_column(tmp, L, (size_t)ca, NULL);
    if (ta == HP_FLOAT64) {
      double *d = hp_table_column_mut(tmp, 0);
      for (size_t r = 0; r < n; r++)
        if (li[r] < 0)
          d[r] = num_at(R, (size_t)cb, r);
    } else {
      size_t w = ta == HP_BOOL ? 1 : 8;
      char *d = hp_table_column_mut(tmp, 0);
      const char *s = hp_table_column(R, (size_t)cb);
      for (size_t r = 0; r < n; r++)
        if (li[r] < 0)
          memcpy(d + r * w, s + r * w, w);
    }
  }
  hp_table_set_valid(tmp, 0, nulls ? m : NULL);
  free(m);
  rc = hp__table_move_column(out, tmp, 0, NULL);
  hp_value_free(tmp);
  return rc;
}

/* Matched row pairs (-1: no row on that side), in output order. */
typedef struct pairs {
  int64_t *li, *ri;
  size_t n, cap;
} pairs;

static void pairs_add(pairs *p, int64_t l, int64_t r) {
  if (p->n == p->cap) {
    p->cap *= 2;
    p->li = hp__xrealloc(p->li, p->cap * sizeof *p->li);
    p->ri = hp__xrealloc(p->ri, p->cap * sizeof *p->ri);
  }
  p->li[p->n] = l;
  p->ri[p->n++] = r;
}

/* 1 if k's key columns are one or two int64 (or timestamp) columns
 * without nulls: the case whose rows can be matched by comparing the
 * integers alone. */
static int int_keys(const keys *k) {
  for (size_t i = 0; i < k->nk; i++) {
    hp_dtype t = hp_table_coltype(k->t, k->col[i]);
    if ((t != HP_INT64 && t != HP_TIMESTAMP) || hp_table_valid(k->t, k->col[i]))
      return 0;
  }
  return k->nk == 1 || k->nk == 2;
}

/* The hash table over the right rows that match_rows probes: chains in
 * row order from head[bucket] through next[]; rh[r] the hash of right
 * row r (none when `dense`: the bucket is the key less lo). */
typedef struct rtable {
  int dense;
  int64_t lo;
  size_t cap;
  int64_t *head, *next;
  uint64_t *rh;
} rtable;

/* Left rows probed per block; a join of at least two blocks' left rows
 * probes a block at a time on the task's cores. */
#define PROBE_BLOCK 65536

typedef struct probe_job {
  how hw;
  const keys *lk, *rk;
  size_t nl, nb;
  int ints;
  const rtable *tb;
  atomic_uchar *used; /* right rows matched (by any block) */
  pairs *out;         /* per block */
} probe_job;

/* one int64 key: the key itself (the bucket mixes it); two: a hash of both */
#define INT_HASH(ints, x, y, i)                                             \
  ((ints) == 1 ? (uint64_t)(x)[i]                                           \
               : hp__mix64((uint64_t)(x)[i]) ^ (uint64_t)(y)[i])

/* Pairs of left rows [l0, l1) into p, in row order: each one's matches in
 * right row order, or the row alone (left, outer). `ints` is a constant
 * at each call (match_rows says which). */
static inline __attribute__((always_inline)) void
probe_rows(const probe_job *j, size_t l0, size_t l1, int ints, pairs *p) {
  const keys *lk = j->lk, *rk = j->rk;
  const rtable *tb = j->tb;
  const int64_t *lx = ints ? hp_table_column(lk->t, lk->col[0]) : NULL;
  const int64_t *rx = ints ? hp_table_column(rk->t, rk->col[0]) : NULL;
  const int64_t *ly = ints == 2 ? hp_table_column(lk->t, lk->col[1]) : NULL;
  const int64_t *ry = ints == 2 ? hp_table_column(rk->t, rk->col[1]) : NULL;
  const int64_t *head = tb->head, *next = tb->next;
  for (size_t l = l0; l < l1; l++) {
    size_t found = 0;
    if (tb->dense) {
      uint64_t b = (uint64_t)lx[l] - (uint64_t)tb->lo;
      for (int64_t r = b < tb->cap ? head[b] : -1; r >= 0; r = next[r]) {
        pairs_add(p, (int64_t)l, r);
        atomic_store_explicit(&j->used[r], 1, memory_order_relaxed);
        found++;
      }
    } else if (ints || !key_null(lk, l)) {
      uint64_t h = ints ? INT_HASH(ints, lx, ly, l) : key_hash(lk, l);
      size_t b = (size_t)(ints ? hp__mix64(h) : h) & (tb->cap - 1);
      for (int64_t r = head[b]; r >= 0; r = next[r]) {
        if (tb->rh[r] != h ||
            (ints == 2 && (rx[r] != lx[l] || ry[r] != ly[l])) ||
            (!ints && !key_eq(lk, l, rk, (size_t)r)))
          continue;
        pairs_add(p, (int64_t)l, r);
        atomic_store_explicit(&j->used[r], 1, memory_order_relaxed);
        found++;
      }
    }
    if (!found && (j->hw == H_LEFT || j->hw == H_OUTER))
      pairs_add(p, (int64_t)l, -1);
  }
}

/* Block b of nb: PROBE_BLOCK left rows, the last one all that remain. */
static void probe_block(void *arg, size_t b) {
  probe_job *j = arg;
  size_t l0 = b * PROBE_BLOCK, l1 = b + 1 == j->nb ? j->nl : l0 + PROBE_BLOCK;
  pairs *p = &j->out[b];
  p->cap = l1 - l0 + 16;
  p->li = hp__xmalloc(p->cap * sizeof *p->li);
  p->ri = hp__xmalloc(p->cap * sizeof *p->ri);
  if (j->ints == 1)
    probe_rows(j, l0, l1, 1, p);
  else if (j->ints == 2)
    probe_rows(j, l0, l1, 2, p);
  else
    probe_rows(j, l0, l1, 0, p);
}

/* Fills p with the row pairs of the join: each left row's matches in
 * right row order (or an unmatched left row for left/outer), then the
 * unmatched right rows for right/outer. A chained hash table over the
 * right rows, each chain in row order. `ints` is 0, or the number (1 or
 * 2) of int64 keys, compared directly instead of through key_hash and
 * key_eq; with one int64 key whose values span less than about twice the
 * right rows (ids, codes), the table is indexed by the key itself
 * (`dense`) and nothing is hashed or compared. The left rows are probed
 * in blocks (on the task's cores) whose pairs are joined in block order:
 * the pairs and their order are the same every way. */
static void match_rows(hp_node_ctx *ctx, how hw, const keys *lk,
                       const keys *rk, size_t nl, size_t nr, int ints,
                       pairs *p) {
  const int64_t *rx = ints ? hp_table_column(rk->t, rk->col[0]) : NULL;
  const int64_t *ry = ints == 2 ? hp_table_column(rk->t, rk->col[1]) : NULL;
  rtable tb = {.cap = 16};
  if (ints == 1 && nr > 0) {
    int64_t hi = rx[0];
    tb.lo = rx[0];
    for (size_t r = 1; r < nr; r++) {
      tb.lo = rx[r] < tb.lo ? rx[r] : tb.lo;
      hi = rx[r] > hi ? rx[r] : hi;
    }
    uint64_t span = (uint64_t)hi - (uint64_t)tb.lo; /* no overflow as unsigned */
    tb.dense = span < 2 * (uint64_t)nr + 64;
    if (tb.dense)
      tb.cap = (size_t)span + 1;
  }
  if (!tb.dense)
    while (tb.cap < 2 * nr + 2)
      tb.cap *= 2;
  tb.head = hp__xmalloc(tb.cap * sizeof *tb.head);
  tb.next = hp__xmalloc((nr + 1) * sizeof *tb.next);
  tb.rh = tb.dense ? NULL : hp__xmalloc((nr + 1) * sizeof *tb.rh);
  for (size_t i = 0; i < tb.cap; i++)
    tb.head[i] = -1;
  for (size_t r = nr; r-- > 0;) { /* backwards: chains in row order */
    tb.next[r] = -1;
    size_t b;
    if (tb.dense) {
      b = (size_t)((uint64_t)rx[r] - (uint64_t)tb.lo);
    } else {
      if (!ints && key_null(rk, r))
        continue;
      tb.rh[r] = ints ? INT_HASH(ints, rx, ry, r) : key_hash(rk, r);
      b = (size_t)(ints ? hp__mix64(tb.rh[r]) : tb.rh[r]) & (tb.cap - 1);
    }
    tb.next[r] = tb.head[b];
    tb.head[b] = (int64_t)r;
  }
  size_t nb = nl / PROBE_BLOCK ? nl / PROBE_BLOCK : 1;
  probe_job j = {hw, lk, rk, nl, nb, ints, &tb, hp__xcalloc(nr + 1, 1),
                 hp__xcalloc(nb, sizeof(pairs))};
  hp_node_parallel(ctx, nb, probe_block, &j);
  size_t total = p->n + nr + 1; /* (room for the unmatched right rows) */
  for (size_t b = 0; b < nb; b++)
    total += j.out[b].n;
  if (total > p->cap) {
    p->cap = total;
    p->li = hp__xrealloc(p->li, p->cap * sizeof *p->li);
    p->ri = hp__xrealloc(p->ri, p->cap * sizeof *p->ri);
  }
  for (size_t b = 0; b < nb; b++) {
    memcpy(p->li + p->n, j.out[b].li, j.out[b].n * sizeof *p->li);
    memcpy(p->ri + p->n, j.out[b].ri, j.out[b].n * sizeof *p->ri);
    p->n += j.out[b].n;
    free(j.out[b].li);
    free(j.out[b].ri);
  }
  if (hw == H_RIGHT || hw == H_OUTER)
    for (size_t r = 0; r < nr; r++)
      if (!atomic_load_explicit(&j.used[r], memory_order_relaxed))
        pairs_add(p, -1, (int64_t)r);
  free(j.out);
  free(j.used);
  free(tb.head);
  free(tb.next);
  free(tb.rh);
}
#undef INT_HASH

static int join_tables(hp_node_ctx *ctx, const jspec *s, const hp_value *lt,
                       const hp_value *rt, hp_value **outp) {
  keys lk, rk;
  int rc = keys_init(ctx, &lk, lt, s->lon, s->nk, "left");
  if (rc == HP_OK)
    rc = keys_init(ctx, &rk, rt, s->ron, s->nk, "right");
  for (size_t i = 0; rc == HP_OK && i < s->nk; i++) {
    hp_dtype a = hp_table_coltype(lt, lk.col[i]),
             b = hp_table_coltype(rt, rk.col[i]);
    if ((a == HP_STRING) != (b == HP_STRING))
      rc = hp_node_fail(ctx, "key '%s' is %s on the left and '%s' %s on the "
                             "right",
                        s->lon[i], hp_dtype_name(a), s->ron[i],
                        hp_dtype_name(b));
  }
  if (rc != HP_OK) {
    keys_free(&lk);
    keys_free(&rk);
    return rc;
  }
  size_t nl = hp_value_rows(lt), nr = hp_value_rows(rt);
  pairs pr = {0};
  pr.cap = nl + 16;
  pr.li = hp__xmalloc(pr.cap * sizeof *pr.li);
  pr.ri = hp__xmalloc(pr.cap * sizeof *pr.ri);
  int ints = int_keys(&lk) && int_keys(&rk);
  for (size_t i = 0; ints && i < s->nk; i++)
    ints = hp_table_coltype(lt, lk.col[i]) == hp_table_coltype(rt, rk.col[i]);
  match_rows(ctx, s->how, &lk, &rk, nl, nr, ints ? (int)s->nk : 0, &pr);
  int64_t *li = pr.li, *ri = pr.ri;
  size_t n = pr.n;
  /* columns: the left's (keys coalesced with the right's), then the right's
   * other columns; clashing names get the suffixes */
  hp_value *out = hp_table_new();
  hp_value *L = take_or_null(lt, li, n), *R = take_or_null(rt, ri, n);
  int coalesce = s->same_names && (s->how == H_RIGHT || s->how == H_OUTER);
  for (size_t c = 0; c < hp_table_ncols(lt) && rc == HP_OK; c++) {
    const char *name = hp_table_colname(lt, c);
    char *nm = clashes(s, rt, 1, name) ? hp__xasprintf("%s%s", name, s->sfx[0])
                                       : hp__xstrdup(name);
    if (coalesce && is_key(s, name, 0))
      rc = coalesce_key(out, name, L, R, li, n);
    else
      rc = hp__table_move_column(out, L, c, nm);
    free(nm);
  }
  for (size_t c = 0; c < hp_table_ncols(rt) && rc == HP_OK; c++) {
    const char *name = hp_table_colname(rt, c);
    if (s->same_names && is_key(s, name, 1))
      continue;
    char *nm = clashes(s, lt, 0, name) ? hp__xasprintf("%s%s", name, s->sfx[1])
                                       : hp__xstrdup(name);
    rc = hp__table_move_column(out, R, c, nm);
    if (rc != HP_OK)
      rc = hp_node_fail(ctx, "two output columns would be called '%s'", nm);
    free(nm);
  }
  hp_value_free(L);
  hp_value_free(R);
  free(li);
  free(ri);
  keys_free(&lk);
  keys_free(&rk);
  if (rc != HP_OK) {
    hp_value_free(out);
    return rc;
  }
  *outp = out;
  return HP_OK;
}

/* The two table inputs (parameters skipped). */
static int two_tables(hp_node_ctx *ctx, const hp_value **l,
                      const hp_value **r) {
  const hp_value *v[2] = {NULL, NULL};
  size_t k = 0;
  for (size_t i = 0; i < hp_node_ninputs(ctx) && k < 2; i++) {
    const hp_tree *param;
    if (hp_node_param(ctx, i, &param) == HP_OK)
      continue;
    HP_TRY(hp__node_table(ctx, i, &v[k]));
    k++;
  }
  if (k != 2)
    return hp_node_fail(ctx, "frame.join needs two table inputs (left, "
                             "right)");
  *l = v[0];
  *r = v[1];
  return HP_OK;
}

static int join_run(hp_node_ctx *ctx) {
  jspec s;
  HP_TRY(parse_join(ctx, &s));
  const hp_value *l = NULL, *r = NULL;
  hp_value *out = NULL;
  int rc = two_tables(ctx, &l, &r);
  if (rc == HP_OK)
    rc = join_tables(ctx, &s, l, r, &out);
  jspec_free(&s);
  return rc == HP_OK ? hp_node_output(ctx, 0, out) : rc;
}

/* Cuts the partition by key hash into hp_node_noutputs buckets; rows with a
 * null key go to bucket 0 (they match nothing, and appear once). */
static int join_split(hp_node_ctx *ctx) {
  jspec s;
  HP_TRY(parse_join(ctx, &s));
  const hp_value *t;
  int rc = hp_node_input(ctx, 0, &t);
  int side = hp_node_split_input(ctx) > 0;
  keys k = {0};
  if (rc == HP_OK && hp_value_kind(t) != HP_TABLE)
    rc = hp_node_fail(ctx, "input '%s' is not a table",
                      hp_node_input_name(ctx, 0));
  if (rc == HP_OK)
    rc = keys_init(ctx, &k, t, side ? s.ron : s.lon, s.nk,
                   side ? "right" : "left");
  size_t q = hp_node_noutputs(ctx), n = hp_value_rows(t);
  if (rc == HP_OK) {
    uint32_t *b = hp__xmalloc((n + 1) * sizeof *b);
    size_t *cnt = hp__xcalloc(q + 1, sizeof *cnt);
    for (size_t r = 0; r < n; r++) {
      b[r] = key_null(&k, r) ? 0 : (uint32_t)(key_hash(&k, r) % q);
      cnt[b[r]]++;
    }
    int64_t **idx = hp__xcalloc(q + 1, sizeof *idx);
    for (size_t j = 0; j < q; j++) {
      idx[j] = hp__xmalloc((cnt[j] + 1) * sizeof **idx);
      cnt[j] = 0;
    }
    for (size_t r = 0; r < n; r++)
      idx[b[r]][cnt[b[r]]++] = (int64_t)r;
    for (size_t j = 0; j < q && rc == HP_OK; j++)
      rc = hp_node_output(ctx, j, hp__table_take(t, idx[j], cnt[j]));
    for (size_t j = 0; j < q; j++)
      free(idx[j]);
    free(idx);
    free(cnt);
    free(b);
  }
  keys_free(&k);
  jspec_free(&s);
  return rc;
}

/* A small right table goes whole to every left partition when each left
 * row's output depends on that row alone. */
static int join_broadcast(const hp_tree *args) {
  how h;
  return parse_how(args, &h) == 0 && (h == H_INNER || h == H_LEFT);
}

static const hp_node_type join_nodes[] = {
    {.abi = HP_NODE_ABI,
     .name = "frame.join",
     .run = join_run,
     .mode = HP_MODE_SHUFFLE,
     .split = join_split,
     .broadcast = join_broadcast,
     .doc = "pandas' merge of two tables on args.on (how: inner, left, "
            "right, outer)"},
};

int hp__join_register(hp_registry *r) {
  return hp_register_nodes(r, join_nodes,
                           sizeof join_nodes / sizeof join_nodes[0]);
}
