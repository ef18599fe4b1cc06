/*
 * cluster.c - the glacier job's time-series k-means (glacier.h): the two
 * distances, k-means++ seeding, Lloyd iterations with mean (Euclidean) or
 * DBA (DTW) centers, and the silhouette. The exact rules, including the
 * order of every floating-point sum, are in glacier.h, so that the
 * Python reference can reproduce the Euclidean labels bit for bit.
 *
 * Speed: series and centers are contiguous [slots][features] rows, the
 * distance loops are plain loops over them (no callbacks), and the
 * nearest-center search abandons a distance as soon as it cannot beat
 * the best so far. Abandoning never changes a result: every term added
 * is >= 0, so a running sum (or a DTW row's minimum, which every path
 * crosses) is a lower bound of the full distance. The Euclidean
 * iterations keep Hamerly's bounds per series (an upper bound on the
 * distance to its center, a lower bound on the others, moved by how far
 * the centers moved), so that most series need only the distance to
 * their own center; a center's squared values past a series' end are
 * summed once per iteration (its tail), not once per series; and each
 * series is added to its cluster's sums in the same pass.
 */
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glacier.h"

/* Silhouette: at most about this many series, pairwise. */
#define SIL_MAX 2000
/* A DTW row lives on the stack up to this many columns. */
#define DTW_STACK 512

/* A DTW row of lb doubles: stack (DTW_STACK doubles) when it fits, else
 * malloc'd; NULL when out of memory. row_free gives it back. */
static double *row_get(double *stack, size_t lb) {
  return lb <= DTW_STACK ? stack : malloc(lb * sizeof *stack);
}

static void row_free(double *rows, const double *stack) {
  if (rows != stack) free(rows);
}

static int fail(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msglen, const char *fmt, ...) {
  if (msg && msglen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* ---- distances ----------------------------------------------------------- */

/* Squared distance of two slots of d features, features in order. */
static inline double slot2(const double *p, const double *q, size_t d) {
  if (d == 1) {
    double e = p[0] - q[0];
    return e * e;
  }
  double s = 0;
  for (size_t f = 0; f < d; f++) {
    double e = p[f] - q[f];
    s += e * e;
  }
  return s;
}

static void swap_series(const double **a, size_t *la, const double **b,
                        size_t *lb) {
  const double *t = *a;
  size_t tl = *la;
  *a = *b, *la = *lb;
  *b = t, *lb = tl;
}

/* Squared Euclidean distance over max(la, lb) slots, missing slots 0, or
 * INFINITY once the running sum reaches bound (it could only grow). */
static double euclid2(const double *a, size_t la, const double *b, size_t lb,
                      size_t d, double bound) {
  if (la < lb) /* (x - y)^2 == (y - x)^2 exactly: swapping is free */
    swap_series(&a, &la, &b, &lb);
  double s = 0;
  for (size_t t = 0; t < lb; t++) {
    const double *p = a + t * d, *q = b + t * d;
    for (size_t f = 0; f < d; f++) {
      double e = p[f] - q[f];
      s += e * e;
    }
    if (s >= bound) return INFINITY;
  }
  for (size_t t = lb; t < la; t++) {
    const double *p = a + t * d;
    for (size_t f = 0; f < d; f++)
      s += p[f] * p[f]; /* (x - 0)^2, as the padded comparison adds it */
    if (s >= bound) return INFINITY;
  }
  return s;
}

/* The smallest of a DTW cell's three predecessors. */
static inline double min3(double diag, double up, double left) {
  double m = diag;
  if (up < m) m = up;
  if (left < m) m = left;
  return m;
}

/* DTW of a (la slots, the rows) against b (lb slots, the columns) in buf.
 * With keep, buf holds the whole la x lb matrix of cumulative costs (for
 * dtw_path); otherwise a single row of lb cells updated in place, and the
 * result is INFINITY once a row's minimum reaches bound, since every path
 * crosses every row (a row's minimum never falls below the one before,
 * so testing every fourth row is enough).
 *
 * Rows go four at a time, each one cell behind the one above: a cell
 * waits on its left neighbour (a min, then an add), and four independent
 * chains keep the core busy where one would leave it waiting. Every cell
 * is the same sum as in the row-by-row recurrence. d and keep are
 * constants where this is inlined. */
static inline __attribute__((always_inline)) double
dtw_rows(const double *a, size_t la, const double *b, size_t lb, size_t d,
         double *buf, int keep, double bound) {
  double left = 0;
  for (size_t j = 0; j < lb; j++) {
    left += slot2(a, b + j * d, d);
    buf[j] = left;
  }
  /* row 0 is increasing: its minimum is its first cell */
  if (!keep && buf[0] >= bound) return INFINITY;
  size_t i = 1;
  for (; i + 3 < la; i += 4) {
    const double *a0 = a + i * d, *a1 = a0 + d, *a2 = a1 + d, *a3 = a2 + d;
    const double *in = keep ? buf + (i - 1) * lb : buf;
    double *o0 = keep ? buf + i * lb : buf, *o1 = o0 + (keep ? lb : 0),
           *o2 = o1 + (keep ? lb : 0), *o3 = o2 + (keep ? lb : 0);
    /* column 0: each row extends the one above */
    double dg0 = in[0];
    double lf0 = dg0 + slot2(a0, b, d);
    double lf1 = lf0 + slot2(a1, b, d);
    double lf2 = lf1 + slot2(a2, b, d);
    double lf3 = lf2 + slot2(a3, b, d);
    double dg1 = lf0, dg2 = lf1, dg3 = lf2, rmin = lf3;
    if (keep) {
      o0[0] = lf0;
      o1[0] = lf1;
      o2[0] = lf2;
    }
    o3[0] = lf3;
    for (size_t j = 1; j < lb; j++) {
      const double *bj = b + j * d;
      double up0 = in[j];
      double n0 = min3(dg0, up0, lf0) + slot2(a0, bj, d);
      double n1 = min3(dg1, n0, lf1) + slot2(a1, bj, d);
      double n2 = min3(dg2, n1, lf2) + slot2(a2, bj, d);
      double n3 = min3(dg3, n2, lf3) + slot2(a3, bj, d);
      if (keep) {
        o0[j] = n0;
        o1[j] = n1;
        o2[j] = n2;
      }
      o3[j] = n3;
      if (n3 < rmin) rmin = n3;
      dg0 = up0;
      dg1 = lf0 = n0;
      dg2 = lf1 = n1;
      dg3 = lf2 = n2;
      lf3 = n3;
    }
    if (!keep && rmin >= bound) return INFINITY;
  }
  for (; i < la; i++) { /* the last (la - 1) % 4 rows */
    const double *ai = a + i * d, *in = keep ? buf + (i - 1) * lb : buf;
    double *out = keep ? buf + i * lb : buf;
    double diag = in[0];
    left = diag + slot2(ai, b, d);
    out[0] = left;
    for (size_t j = 1; j < lb; j++) {
      double up = in[j];
      left = min3(diag, up, left) + slot2(ai, b + j * d, d);
      out[j] = left;
      diag = up;
    }
  }
  return keep ? buf[la * lb - 1] : buf[lb - 1];
}

/* dtw_rows in one row, its one-feature case compiled apart (the common
 * one). */
static double dtw2(const double *a, size_t la, const double *b, size_t lb,
                   size_t d, double *row, double bound) {
  if (d == 1) return dtw_rows(a, la, b, lb, 1, row, 0, bound);
  return dtw_rows(a, la, b, lb, d, row, 0, bound);
}

/* gl_dist2 with a workspace of lb doubles (DTW) and a bound: a result
 * >= bound may be INFINITY instead of the distance. */
static inline double dist2(gl_metric m, const double *a, size_t la,
                           const double *b, size_t lb, size_t d, double *rows,
                           double bound) {
  if (m == GL_DTW) return dtw2(a, la, b, lb, d, rows, bound);
  return euclid2(a, la, b, lb, d, bound);
}

double gl_dist2(gl_metric m, const double *a, size_t la, const double *b,
                size_t lb, size_t d) {
  if (m != GL_DTW) return euclid2(a, la, b, lb, d, INFINITY);
  if (la == 0 || lb == 0) /* no path: only two empty series align */
    return la == lb ? 0 : INFINITY;
  if (lb > la) /* the transposed grid has the same cells: fewer columns */
    swap_series(&a, &la, &b, &lb);
  double stack[DTW_STACK], *rows = row_get(stack, lb);
  if (!rows) return NAN;
  double r = dtw2(a, la, b, lb, d, rows, INFINITY);
  row_free(rows, stack);
  return r;
}

/* The optimal DTW path of a (la slots) against b (lb slots), as (i, j)
 * pairs from (0, 0) to (la - 1, lb - 1) in path (room for la + lb - 1
 * pairs); returns its length. M: la * lb doubles. Walking back from the
 * end, ties between predecessors go to the diagonal, then up (i - 1, j),
 * then left (i, j - 1). */
static size_t dtw_path(const double *a, size_t la, const double *b, size_t lb,
                       size_t d, double *M, size_t *path) {
  if (d == 1)
    dtw_rows(a, la, b, lb, 1, M, 1, INFINITY);
  else
    dtw_rows(a, la, b, lb, d, M, 1, INFINITY);
  size_t n = 0, i = la - 1, j = lb - 1;
  for (;;) {
    path[2 * n] = i;
    path[2 * n + 1] = j;
    n++;
    if (i == 0 && j == 0) break;
    if (i == 0) {
      j--;
    } else if (j == 0) {
      i--;
    } else {
      double dg = M[(i - 1) * lb + j - 1], up = M[(i - 1) * lb + j],
             lf = M[i * lb + j - 1];
      if (dg <= up && dg <= lf) {
        i--;
        j--;
      } else if (up <= lf) {
        i--;
      } else {
        j--;
      }
    }
  }
  for (size_t p = 0, q = n - 1; p < q; p++, q--) { /* into path order */
    size_t ti = path[2 * p], tj = path[2 * p + 1];
    path[2 * p] = path[2 * q];
    path[2 * p + 1] = path[2 * q + 1];
    path[2 * q] = ti;
    path[2 * q + 1] = tj;
  }
  return n;
}

/* ---- k-means ------------------------------------------------------------- */

static int check_args(const gl_series *s, const gl_kmeans_opts *o,
                      const gl_kmeans_result *r, char *msg, size_t msglen) {
  if (!s || !o || !r)
    return fail(msg, msglen, "k-means: NULL series, options or result");
  if (s->n == 0 || s->T == 0 || s->d == 0 || !s->x || !s->len)
    return fail(msg, msglen,
                "k-means: no data (n = %zu series of T = %zu slots, d = %zu)",
                s->n, s->T, s->d);
  if (o->k < 1 || (size_t)o->k > s->n)
    return fail(msg, msglen, "k-means: k = %d is out of range 1..%zu (n)", o->k,
                s->n);
  if (o->metric != GL_EUCLIDEAN && o->metric != GL_DTW)
    return fail(msg, msglen, "k-means: unknown metric %d", (int)o->metric);
  if (o->max_iter < 1)
    return fail(msg, msglen, "k-means: max_iter = %d must be >= 1",
                o->max_iter);
  if (o->metric == GL_DTW && o->dba_iter < 1)
    return fail(msg, msglen, "k-means: dba_iter = %d must be >= 1 with DTW",
                o->dba_iter);
  /* DBA's cost matrix is T * T doubles; k * T * d fits as n * T * d does */
  if (s->T > SIZE_MAX / sizeof(double) / s->T ||
      s->T * s->d > SIZE_MAX / sizeof(double) / s->n)
    return fail(msg, msglen, "k-means: T = %zu slots is too large", s->T);
  for (size_t i = 0; i < s->n; i++)
    if (s->len[i] < 1 || s->len[i] > s->T)
      return fail(msg, msglen,
                  "k-means: series %zu has len %zu, outside 1..%zu (T)", i,
                  s->len[i], s->T);
  return 0;
}

/* The result's arrays, uninitialised. */
static int alloc_result(const gl_series *s, const gl_kmeans_opts *o,
                        gl_kmeans_result *r, char *msg, size_t msglen) {
  size_t kTd = (size_t)o->k * s->T * s->d;
  r->centers = malloc(kTd * sizeof *r->centers);
  r->init_centers = malloc(kTd * sizeof *r->init_centers);
  r->labels = malloc(s->n * sizeof *r->labels);
  if (!r->centers || !r->init_centers || !r->labels) {
    gl_kmeans_free(r);
    return fail(msg, msglen,
                "k-means: out of memory for %d centers of %zu x %zu and %zu "
                "labels",
                o->k, s->T, s->d, s->n);
  }
  return 0;
}

/* k-means++ (glacier.h) into init [k][T][d]; D: n doubles, rows: T. */
/* k-means++'s distances to the newest seed xp (lp slots), on blocks of
 * GL_BLOCK series: D(i) = min(D(i), that distance); first: D(i) = it. */
typedef struct seed_job {
  const gl_series *s;
  gl_metric metric;
  const double *xp;
  size_t lp;
  double *D;
  int first;
  atomic_int oom; /* a block could not get its DTW row */
} seed_job;

static void seed_block(void *arg, size_t b) {
  seed_job *j = arg;
  const gl_series *s = j->s;
  size_t Td = s->T * s->d, i1 = gl_block_end(b, GL_BLOCK, s->n);
  double stack[DTW_STACK], *rows = row_get(stack, j->lp);
  if (!rows) {
    j->oom = 1;
    return;
  }
  /* a distance that cannot go below D(i) may be abandoned */
  for (size_t i = b * GL_BLOCK; i < i1; i++) {
    double bound = j->first ? INFINITY : j->D[i];
    double v = dist2(j->metric, s->x + i * Td, s->len[i], j->xp, j->lp, s->d,
                     rows, bound);
    if (j->first || v < j->D[i]) j->D[i] = v;
  }
  row_free(rows, stack);
}

static int seed_centers(const gl_series *s, const gl_kmeans_opts *o,
                        double *init, double *D) {
  size_t n = s->n, T = s->T, d = s->d, Td = T * d, k = (size_t)o->k;
  hp_rng *g = hp_rng_new(o->seed, 0);
  size_t pick = (size_t)hp_rng_int(g, n);
  for (size_t c = 0;; c++) {
    const double *xp = s->x + pick * Td;
    size_t lp = s->len[pick];
    memcpy(init + c * Td, xp, lp * d * sizeof *init);
    memset(init + c * Td + lp * d, 0, (T - lp) * d * sizeof *init);
    if (c + 1 == k) break;
    seed_job sj = {s, o->metric, xp, lp, D, c == 0, 0};
    hp_node_parallel(o->ctx, gl_nblocks(n, GL_BLOCK), seed_block, &sj);
    if (sj.oom) {
      hp_rng_free(g);
      return -1;
    }
    double total = 0;
    for (size_t i = 0; i < n; i++)
      total += D[i];
    if (total == 0) {
      pick = (size_t)hp_rng_int(g, n);
      continue;
    }
    double u = hp_rng_uniform(g, 0, total), run = 0;
    size_t last = 0;
    pick = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
      if (D[i] > 0) last = i;
      run += D[i];
      if (run > u) {
        pick = i;
        break;
      }
    }
    if (pick == SIZE_MAX) pick = last; /* u rounded up to total */
  }
  hp_rng_free(g);
  return 0;
}

/* Squared Euclidean distances of series x (its first L = len * d values
 * observed) to NC centers c[j] of Td values each, into acc (glacier.h,
 * step 1): per center the running sum of (c - x)^2 over the L observed
 * values, then plus tail[j][L], the center's squared values past them
 * (summed once per center by tails()). NC independent sums at once,
 * which the processor overlaps. */
static inline __attribute__((always_inline)) void
euclid2_many(const double *x, size_t L, const double *const *c,
             const double *const *tail, int NC, double *acc) {
  double a[4] = {0, 0, 0, 0};
  for (size_t e = 0; e < L; e++) {
    double xv = x[e];
    for (int j = 0; j < NC; j++) {
      double v = c[j][e] - xv;
      a[j] += v * v;
    }
  }
  for (int j = 0; j < NC; j++)
    acc[j] = a[j] + tail[j][L];
}

/* tail [k][Td + 1]: tail[c][e] = the sum of center c's squared values
 * from e on, added from the last one backwards (tail[c][Td] = 0). */
static void tails(const double *centers, size_t k, size_t Td, double *tail) {
  for (size_t c = 0; c < k; c++) {
    const double *ctr = centers + c * Td;
    double *t = tail + c * (Td + 1);
    t[Td] = 0;
    for (size_t e = Td; e-- > 0;)
      t[e] = t[e + 1] + ctr[e] * ctr[e];
  }
}

/* The nearest of k centers to series x (L values observed) and its
 * squared distance *best, with every distance in full (four centers per
 * pass over the series), the lower index on ties; *second: the squared
 * distance to the next nearest (INFINITY when k == 1). */
static size_t nearest_euclid(const double *x, size_t L, const double *centers,
                             const double *tail, size_t k, size_t Td,
                             double *best, double *second) {
  size_t bc = 0;
  double b1 = INFINITY, b2 = INFINITY;
  for (size_t c0 = 0; c0 < k; c0 += 4) {
    const double *cp[4], *tp[4];
    double acc[4] = {0, 0, 0, 0};
    int nc = k - c0 < 4 ? (int)(k - c0) : 4;
    for (int j = 0; j < nc; j++) {
      cp[j] = centers + (c0 + (size_t)j) * Td;
      tp[j] = tail + (c0 + (size_t)j) * (Td + 1);
    }
    switch (nc) {
    case 4:
      euclid2_many(x, L, cp, tp, 4, acc);
      break;
    case 3:
      euclid2_many(x, L, cp, tp, 3, acc);
      break;
    case 2:
      euclid2_many(x, L, cp, tp, 2, acc);
      break;
    default:
      euclid2_many(x, L, cp, tp, 1, acc);
      break;
    }
    for (int j = 0; j < nc; j++) {
      if (acc[j] < b1) {
        b2 = b1;
        b1 = acc[j], bc = c0 + (size_t)j;
      } else if (acc[j] < b2) {
        b2 = acc[j];
      }
    }
  }
  *best = b1;
  *second = b2;
  return bc;
}

/* Bounds for the Euclidean assignment (Hamerly's): per series an upper
 * bound hi on the distance (not squared) to its center and a lower bound
 * lo on the distance to any other; per center the distance it moved at
 * the last update (moved) and half the distance to its nearest other
 * center (half). */
typedef struct bounds {
  double *hi, *lo;
  double *moved, *half, *prev; /* [k], [k], [k][Td]: centers before update */
  double *tail;                /* [k][Td + 1], see tails() */
} bounds;

/* Bounds are trusted only with this relative margin: far above the
 * rounding of a sum of a few hundred squares (~1e-13), so a series kept
 * on its center would be kept there by the full search too. */
#define BOUND_MARGIN 1e-9

/* Series read ahead of the one being assigned: each iteration reads every
 * series once, and the processor's own prefetching does not see past the
 * unobserved slots between them (active.train at 100x: ~1.03 -> 0.9 s;
 * pairing series for independent chains of adds did not help). */
#define PREFETCH_AHEAD 4

/* Adds series x (its first m values observed; missing slots add 0) to
 * the sums of cluster c, for step 4. */
static inline void add_member(double *sums, size_t *cnt, size_t Td,
                              const double *x, size_t m, size_t c) {
  double *acc = sums + c * Td;
  cnt[c]++;
  for (size_t q = 0; q < m; q++)
    acc[q] += x[q];
}

/* One Lloyd iteration's work, shared by the threads running its blocks
 * of GL_BLOCK series (hp_node_parallel): each block writes its series'
 * labels, distances and bounds, and sums of its own ([nb][k][T][d] and
 * counts [nb][k], DTW [nb][k][T]), which step 4 then adds in block order
 * (glacier.h). */
typedef struct iter_job {
  const gl_series *s;
  const gl_kmeans_opts *o;
  size_t k, Td, nb;
  const double *centers;
  int first;     /* the first assignment: no labels or bounds yet */
  bounds *b;     /* Euclidean */
  size_t a1;     /* Euclidean: the center that moved most, by m1; m2 */
  double m1, m2; /* the second largest move */
  int32_t *labels;
  double *dist;
  double *sums;   /* [nb][k][Td] */
  size_t *cnt;    /* [nb][k] or, DTW, [nb][k][T] */
  atomic_int oom; /* a block could not get its work arrays */
} iter_job;

static void block_range(const iter_job *e, size_t j, size_t *i0, size_t *i1) {
  *i0 = j * GL_BLOCK;
  *i1 = gl_block_end(j, GL_BLOCK, e->s->n);
}

/* Step 1 for the Euclidean metric on block j, with the labels the full
 * search (every distance; the smallest wins, the lower index on ties)
 * gives. After the first pass a series whose bounds show that its center
 * is still the nearest by a clear margin gets only the distance to it,
 * computed as the full search computes it (the same sum in the same
 * order: dist[] and so the inertia are the same bits). Each series is
 * added to its cluster's block sums for step 4 while it is in cache. */
static void assign_euclid_block(void *arg, size_t j) {
  iter_job *e = arg;
  const gl_series *s = e->s;
  size_t k = e->k, Td = e->Td, i0, i1;
  const double *centers = e->centers;
  bounds *b = e->b;
  double *sums = e->sums + j * k * Td;
  size_t *cnt = e->cnt + j * k;
  memset(sums, 0, k * Td * sizeof *sums);
  memset(cnt, 0, k * sizeof *cnt);
  block_range(e, j, &i0, &i1);
  for (size_t i = i0; i < i1; i++) {
    const double *x = s->x + i * Td;
    size_t L = s->len[i] * s->d;
    if (i + PREFETCH_AHEAD < i1) { /* the observed part of a later one */
      const char *p = (const char *)(x + PREFETCH_AHEAD * Td);
      size_t bytes = s->len[i + PREFETCH_AHEAD] * s->d * sizeof *x;
      for (size_t o = 0; o < bytes; o += 64)
        __builtin_prefetch(p + o);
    }
    if (!e->first) {
      size_t a = (size_t)e->labels[i];
      b->hi[i] += b->moved[a];
      b->lo[i] -= a == e->a1 ? e->m2 : e->m1;
      double z = b->lo[i] > b->half[a] ? b->lo[i] : b->half[a];
      z *= 1 - BOUND_MARGIN;
      if (b->hi[i] < z) {
        const double *cp[1] = {centers + a * Td};
        const double *tp[1] = {b->tail + a * (Td + 1)};
        double d2;
        euclid2_many(x, L, cp, tp, 1, &d2);
        b->hi[i] = sqrt(d2);
        if (b->hi[i] < z) {
          e->dist[i] = d2;
          add_member(sums, cnt, Td, x, L, a);
          continue;
        }
      }
    }
    double best, second;
    size_t c = nearest_euclid(x, L, centers, b->tail, k, Td, &best, &second);
    e->labels[i] = (int32_t)c;
    e->dist[i] = best;
    b->hi[i] = sqrt(best);
    b->lo[i] = sqrt(second);
    add_member(sums, cnt, Td, x, L, c);
  }
}

/* The per-iteration bounds work before the blocks: the centers' tails,
 * how far each moved and half the distance to its nearest other. */
static void prepare_euclid(iter_job *e) {
  size_t k = e->k, Td = e->Td;
  bounds *b = e->b;
  tails(e->centers, k, Td, b->tail);
  if (e->first) return;
  double m1 = 0, m2 = 0; /* the two largest moves */
  size_t a1 = 0;
  for (size_t c = 0; c < k; c++) {
    b->moved[c] = sqrt(slot2(b->prev + c * Td, e->centers + c * Td, Td));
    if (b->moved[c] > m1) {
      m2 = m1;
      m1 = b->moved[c], a1 = c;
    } else if (b->moved[c] > m2) {
      m2 = b->moved[c];
    }
  }
  for (size_t c = 0; c < k; c++) {
    double h = INFINITY;
    for (size_t o = 0; o < k; o++) {
      double m = o == c ? INFINITY
                        : slot2(e->centers + c * Td, e->centers + o * Td, Td);
      if (m < h) h = m;
    }
    b->half[c] = 0.5 * sqrt(h);
  }
  e->a1 = a1, e->m1 = m1, e->m2 = m2;
}

/* Step 1 for DTW on block j: labels and distances to the nearest
 * centers. Each series tries its previous center first (when there is
 * one): its distance is usually the smallest, which lets the others be
 * abandoned early. */
static void assign_dtw_block(void *arg, size_t j) {
  iter_job *e = arg;
  const gl_series *s = e->s;
  size_t T = s->T, d = s->d, Td = e->Td, k = e->k, i0, i1;
  double stack[DTW_STACK], *rows = row_get(stack, T);
  if (!rows) {
    e->oom = 1;
    return;
  }
  block_range(e, j, &i0, &i1);
  for (size_t i = i0; i < i1; i++) {
    const double *xi = s->x + i * Td;
    size_t li = s->len[i];
    size_t first = e->first ? 0 : (size_t)e->labels[i], bc = first;
    double best =
        dist2(GL_DTW, xi, li, e->centers + first * Td, T, d, rows, INFINITY);
    for (size_t c = 0; c < k; c++) {
      if (c == first) continue;
      /* a lower index wins a tie, so it may only stop once strictly worse */
      double bound = c < bc ? nextafter(best, INFINITY) : best;
      double v = dist2(GL_DTW, xi, li, e->centers + c * Td, T, d, rows, bound);
      if (v < best || (v == best && c < bc)) {
        best = v;
        bc = c;
      }
    }
    e->labels[i] = (int32_t)bc;
    e->dist[i] = best;
  }
  row_free(rows, stack);
}

/* One DBA pass on block j: aligns each member to its center as it was at
 * the pass's start and adds the member's slots to the block's sums of the
 * center slots they align to. */
static void dba_block(void *arg, size_t j) {
  iter_job *e = arg;
  const gl_series *s = e->s;
  size_t T = s->T, d = s->d, Td = e->Td, k = e->k, i0, i1;
  double *sums = e->sums + j * k * Td;
  size_t *cnt = e->cnt + j * k * T;
  memset(sums, 0, k * Td * sizeof *sums);
  memset(cnt, 0, k * T * sizeof *cnt);
  double *M = malloc(T * T * sizeof *M);
  size_t *path = malloc(2 * (2 * T - 1) * sizeof *path);
  if (!M || !path) {
    free(M);
    free(path);
    e->oom = 1;
    return;
  }
  block_range(e, j, &i0, &i1);
  for (size_t i = i0; i < i1; i++) {
    size_t c = (size_t)e->labels[i];
    const double *xi = s->x + i * Td;
    size_t np = dtw_path(xi, s->len[i], e->centers + c * Td, T, d, M, path);
    double *acc = sums + c * Td;
    size_t *cc = cnt + c * T;
    for (size_t p = 0; p < np; p++) {
      const double *xs = xi + path[2 * p] * d;
      size_t jj = path[2 * p + 1];
      double *aj = acc + jj * d;
      for (size_t f = 0; f < d; f++)
        aj[f] += xs[f];
      cc[jj]++;
    }
  }
  free(M);
  free(path);
}

/* Step 4's sums: the blocks' sums [nb][k][Td] and counts [nb][m] added in
 * block order into block 0's. */
static void add_blocks(iter_job *e, size_t m) {
  size_t kTd = e->k * e->Td;
  for (size_t j = 1; j < e->nb; j++) {
    const double *p = e->sums + j * kTd;
    const size_t *q = e->cnt + j * m;
    for (size_t x = 0; x < kTd; x++)
      e->sums[x] += p[x];
    for (size_t x = 0; x < m; x++)
      e->cnt[x] += q[x];
  }
}

/* Step 4, Euclidean: each center the mean of its members, from their
 * sums [k][T][d] and counts [k]. */
static void mean_centers(size_t k, size_t Td, const double *sums,
                         const size_t *cnt, double *centers) {
  for (size_t c = 0; c < k; c++) {
    if (!cnt[c]) continue; /* empty: keeps its center */
    double nc = (double)cnt[c], *ctr = centers + c * Td;
    const double *acc = sums + c * Td;
    for (size_t q = 0; q < Td; q++)
      ctr[q] = acc[q] / nc;
  }
}

/* Step 4, DTW: dba_iter DBA passes over the blocks. */
static void update_dba(iter_job *e, double *centers) {
  size_t T = e->s->T, d = e->s->d, k = e->k;
  for (int pass = 0; pass < e->o->dba_iter && !e->oom; pass++) {
    hp_node_parallel(e->o->ctx, e->nb, dba_block, e);
    if (e->oom) return;
    add_blocks(e, k * T);
    for (size_t c = 0; c < k; c++)
      for (size_t j = 0; j < T; j++) {
        size_t m = e->cnt[c * T + j];
        if (!m) continue; /* nothing aligned (or no members): keep */
        double *ctr = centers + (c * T + j) * d;
        const double *acc = e->sums + (c * T + j) * d;
        for (size_t f = 0; f < d; f++)
          ctr[f] = acc[f] / (double)m;
      }
  }
}

/* The Lloyd iterations of gl_kmeans_from on r->centers (set). */
static int lloyd(const gl_series *s, const gl_kmeans_opts *o,
                 gl_kmeans_result *r, char *msg, size_t msglen) {
  size_t n = s->n, T = s->T, d = s->d, k = (size_t)o->k;
  int dtw = o->metric == GL_DTW;
  bounds b = {0};
  iter_job e = {.s = s,
                .o = o,
                .k = k,
                .Td = T * d,
                .b = &b,
                .nb = gl_nblocks(n, GL_BLOCK),
                .centers = r->centers,
                .labels = r->labels};
  e.dist = malloc(n * sizeof *e.dist);
  e.sums = malloc(e.nb * k * T * d * sizeof *e.sums);
  e.cnt = malloc(e.nb * (dtw ? k * T : k) * sizeof *e.cnt);
  if (!dtw) {
    b.hi = malloc(n * sizeof *b.hi);
    b.lo = malloc(n * sizeof *b.lo);
    b.moved = malloc(k * sizeof *b.moved);
    b.half = malloc(k * sizeof *b.half);
    b.prev = malloc(k * T * d * sizeof *b.prev);
    b.tail = malloc(k * (T * d + 1) * sizeof *b.tail);
  }
  int rc = 0;
  if (!e.dist || !e.sums || !e.cnt ||
      (!dtw && (!b.hi || !b.lo || !b.moved || !b.half || !b.prev || !b.tail))) {
    rc = fail(msg, msglen,
              "k-means: out of memory for the work arrays "
              "(n = %zu, k = %zu, T = %zu, d = %zu)",
              n, k, T, d);
    goto done;
  }
  double prev = 0;
  for (int it = 1; it <= o->max_iter; it++) {
    e.first = it == 1;
    if (dtw) {
      hp_node_parallel(o->ctx, e.nb, assign_dtw_block, &e);
    } else {
      prepare_euclid(&e);
      hp_node_parallel(o->ctx, e.nb, assign_euclid_block, &e);
    }
    if (e.oom) break;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
      sum += e.dist[i];
    double inertia = sum / (double)n;
    r->inertia = inertia;
    r->iterations = it;
    if (it > 1 && prev - inertia < o->tol) break;
    if (dtw) {
      update_dba(&e, r->centers);
    } else {
      memcpy(b.prev, r->centers, k * T * d * sizeof *b.prev);
      add_blocks(&e, k);
      mean_centers(k, T * d, e.sums, e.cnt, r->centers);
    }
    if (e.oom) break;
    prev = inertia;
  }
  if (e.oom)
    rc = fail(msg, msglen,
              "k-means: out of memory for the DTW work arrays (T = %zu)", T);
done:
  free(e.dist);
  free(e.sums);
  free(e.cnt);
  free(b.hi), free(b.lo), free(b.moved), free(b.half), free(b.prev);
  free(b.tail);
  return rc;
}

int gl_kmeans(const gl_series *s, const gl_kmeans_opts *o, gl_kmeans_result *r,
              char *msg, size_t msglen) {
  if (r) memset(r, 0, sizeof *r);
  if (check_args(s, o, r, msg, msglen)) return -1;
  if (alloc_result(s, o, r, msg, msglen)) return -1;
  double *D = malloc(s->n * sizeof *D);
  if (!D || seed_centers(s, o, r->init_centers, D) != 0) {
    free(D);
    gl_kmeans_free(r);
    return fail(msg, msglen, "k-means: out of memory seeding %zu series", s->n);
  }
  free(D);
  memcpy(r->centers, r->init_centers,
         (size_t)o->k * s->T * s->d * sizeof *r->centers);
  if (lloyd(s, o, r, msg, msglen)) {
    gl_kmeans_free(r);
    return -1;
  }
  return 0;
}

int gl_kmeans_from(const gl_series *s, const gl_kmeans_opts *o,
                   const double *init, gl_kmeans_result *r, char *msg,
                   size_t msglen) {
  if (r) memset(r, 0, sizeof *r);
  if (check_args(s, o, r, msg, msglen)) return -1;
  if (!init) return fail(msg, msglen, "k-means: NULL initial centers");
  if (alloc_result(s, o, r, msg, msglen)) return -1;
  size_t kTd = (size_t)o->k * s->T * s->d;
  memcpy(r->init_centers, init, kTd * sizeof *init);
  memcpy(r->centers, init, kTd * sizeof *init);
  if (lloyd(s, o, r, msg, msglen)) {
    gl_kmeans_free(r);
    return -1;
  }
  return 0;
}

void gl_kmeans_free(gl_kmeans_result *r) {
  if (!r) return;
  free(r->centers);
  free(r->init_centers);
  free(r->labels);
  memset(r, 0, sizeof *r);
}

/* ---- silhouette ---------------------------------------------------------- */

/* The sample: series p * step for p < ns (returned). */
static size_t sil_sample(size_t n, size_t *step) {
  *step = n ? (n + SIL_MAX - 1) / SIL_MAX : 1;
  return (n + *step - 1) / *step;
}

/* Pairs (p, q) with q > p in the rows before row p of ns. */
static size_t pairs_before(size_t p, size_t ns) {
  return p * (2 * ns - p - 1) / 2;
}

size_t gl_sil_block(size_t n, size_t b, size_t nblocks, size_t *p0,
                    size_t *p1) {
  size_t step, ns = sil_sample(n, &step), total = pairs_before(ns, ns);
  size_t row[2];
  for (int e = 0; e < 2; e++) {
    /* the first row whose pairs before it reach the block's share */
    size_t want = nblocks ? total / nblocks * (b + (size_t)e) +
                                total % nblocks * (b + (size_t)e) / nblocks
                          : 0, p = 0;
    while (p < ns && pairs_before(p, ns) < want)
      p++;
    row[e] = p;
  }
  *p0 = row[0];
  *p1 = row[1];
  return pairs_before(row[1], ns) - pairs_before(row[0], ns);
}

/* 1 if the slots past their lengths hold 0 (or -0) in every sampled
 * series p * step, p0 <= p < ns (those a block reads). */
static int zero_padded(const gl_series *s, size_t step, size_t p0,
                       size_t ns) {
  size_t Td = s->T * s->d;
  for (size_t i = p0 * step; i < ns * step; i += step)
    for (size_t k = s->len[i] * s->d; k < Td; k++)
      if (s->x[i * Td + k] != 0) return 0;
  return 1;
}

/* euclid2 (no bound) of a to each of b[0..3], series whose slots past
 * their lengths hold 0, over the first K values of each (K: the longest
 * of the five, times d). Every term of euclid2 is (a - b)^2 on the slots
 * both observe and x^2 on the longer one's other slots, which is
 * (a - 0)^2 or (0 - b)^2 here, bit for bit; past both ends the term is
 * (0 - 0)^2 = +0, which leaves a sum unchanged. So each result has the
 * bits of euclid2's, and the four sums are independent chains of adds
 * (one chain waits on each add; four keep the core busy). */
static void euclid2_x4(const double *a, const double *const b[4], size_t K,
                       double out[4]) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t k = 0; k < K; k++) {
    double x = a[k], e0 = x - b[0][k], e1 = x - b[1][k], e2 = x - b[2][k],
           e3 = x - b[3][k];
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
  }
  out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

int gl_sil_distances(const gl_series *s, gl_metric m, size_t b,
                     size_t nblocks, double *out) {
  size_t p0, p1, step, ns = sil_sample(s->n, &step), d = s->d,
                       Td = s->T * d;
  gl_sil_block(s->n, b, nblocks, &p0, &p1);
  double *rows = malloc((s->T ? s->T : 1) * sizeof *rows);
  if (!rows) return -1;
  int x4 = m == GL_EUCLIDEAN && zero_padded(s, step, p0, ns);
  for (size_t p = p0; p < p1; p++) {
    size_t i = p * step;
    const double *xi = s->x + i * Td;
    size_t q = p + 1;
    for (; x4 && q + 4 <= ns; q += 4) {
      const double *bq[4];
      size_t K = s->len[i];
      double v[4];
      for (size_t r = 0; r < 4; r++) {
        bq[r] = s->x + (q + r) * step * Td;
        if (s->len[(q + r) * step] > K) K = s->len[(q + r) * step];
      }
      euclid2_x4(xi, bq, K * d, v);
      for (int r = 0; r < 4; r++)
        *out++ = sqrt(v[r]);
    }
    for (; q < ns; q++) {
      size_t j = q * step;
      *out++ = sqrt(dist2(m, xi, s->len[i], s->x + j * Td, s->len[j], d,
                          rows, INFINITY));
    }
  }
  free(rows);
  return 0;
}

double gl_silhouette_of(size_t n, const int32_t *labels, int k,
                        const double *dist) {
  size_t step, ns = sil_sample(n, &step), kk = (size_t)k;
  if (k < 2 || ns < 2) return 0;
  for (size_t p = 0; p < ns; p++)
    if (labels[p * step] < 0 || labels[p * step] >= k) return NAN;
  /* sum[p][c]: distances from sampled series p to cluster c's; pairs come
   * row by row, so each p receives them in index order */
  double *sum = calloc(ns * kk, sizeof *sum);
  size_t *cnt = calloc(kk, sizeof *cnt);
  double res = NAN;
  if (!sum || !cnt) goto done;
  for (size_t p = 0; p < ns; p++)
    cnt[labels[p * step]]++;
  for (size_t p = 0; p < ns; p++) {
    size_t li = (size_t)labels[p * step];
    for (size_t q = p + 1; q < ns; q++) {
      double v = *dist++;
      sum[p * kk + (size_t)labels[q * step]] += v;
      sum[q * kk + li] += v;
    }
  }
  double total = 0;
  for (size_t p = 0; p < ns; p++) {
    size_t c = (size_t)labels[p * step];
    if (cnt[c] < 2) continue; /* alone: 0 */
    double a = sum[p * kk + c] / (double)(cnt[c] - 1), b = INFINITY;
    for (size_t o = 0; o < kk; o++)
      if (o != c && cnt[o]) {
        double v = sum[p * kk + o] / (double)cnt[o];
        if (v < b) b = v;
      }
    if (b == INFINITY) continue; /* no other cluster sampled: 0 */
    double den = a > b ? a : b;
    if (den > 0) total += (b - a) / den;
  }
  res = total / (double)ns;
done:
  free(sum);
  free(cnt);
  return res;
}

double gl_silhouette(const gl_series *s, gl_metric m, const int32_t *labels,
                     int k) {
  if (k < 2 || !s) return 0;
  size_t p0, p1, np = gl_sil_block(s->n, 0, 1, &p0, &p1);
  double *dist = malloc((np ? np : 1) * sizeof *dist);
  double res = NAN;
  if (dist && gl_sil_distances(s, m, 0, 1, dist) == 0)
    res = gl_silhouette_of(s->n, labels, k, dist);
  free(dist);
  return res;
}
