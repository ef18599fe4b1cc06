/*
 * test_glacier.c - the glacier job's clustering algorithms (jobs/glacier/
 * cluster.c) apart from their nodes: both distances on hand-computed
 * cases, k-means recovering separated groups under both metrics, its
 * iteration, tie and empty-cluster rules against hand-computed runs and a
 * plain reference implementation, determinism, argument errors, and the
 * silhouette against hand-computed values.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "glacier.h"

#define CHECK_NEAR(a, b, tol) CHECK(fabs((a) - (b)) <= (tol))

/* ---- data ---------------------------------------------------------------- */

/* A data set that owns its arrays. */
typedef struct data {
  gl_series s;
  double *x;
  size_t *len;
  int *group;
} data;

static data data_new(size_t n, size_t T, size_t d) {
  data D;
  D.x = calloc(n * T * d, sizeof *D.x);
  D.len = calloc(n, sizeof *D.len);
  D.group = calloc(n, sizeof *D.group);
  CHECK(D.x && D.len && D.group);
  D.s = (gl_series){.n = n, .T = T, .d = d, .x = D.x, .len = D.len};
  return D;
}

static void data_free(data *D) {
  free(D->x);
  free(D->len);
  free(D->group);
}

/* Three groups of `per` series each, interleaved (i % 3 is the group):
 * lengths 10..16 of T = 16, 2 features, level -6, 0 or 6 plus a wave
 * (shifted per group) and small noise. Far apart under both metrics. */
static data groups3(size_t per, uint64_t seed) {
  size_t n = 3 * per, T = 16, d = 2;
  data D = data_new(n, T, d);
  hp_rng *g = hp_rng_new(seed, 1);
  for (size_t i = 0; i < n; i++) {
    int grp = (int)(i % 3);
    D.group[i] = grp;
    D.len[i] = 10 + (size_t)hp_rng_int(g, 7);
    double level = 6.0 * (grp - 1);
    for (size_t t = 0; t < D.len[i]; t++) {
      double *p = D.x + (i * T + t) * d;
      p[0] = level + sin(0.5 * (double)t + grp) + hp_rng_normal(g, 0, 0.1);
      p[1] = -level + cos(0.4 * (double)t) + hp_rng_normal(g, 0, 0.1);
    }
  }
  hp_rng_free(g);
  return D;
}

/* Random series, lengths 1..T. */
static data random_data(size_t n, size_t T, size_t d, uint64_t seed) {
  data D = data_new(n, T, d);
  hp_rng *g = hp_rng_new(seed, 2);
  for (size_t i = 0; i < n; i++) {
    D.len[i] = 1 + (size_t)hp_rng_int(g, T);
    for (size_t q = 0; q < D.len[i] * d; q++)
      D.x[i * T * d + q] = hp_rng_normal(g, (double)(i % 4), 1);
  }
  hp_rng_free(g);
  return D;
}

/* Labels match groups up to a permutation of the k labels. */
static void check_recovers(const data *D, const int32_t *labels, int k) {
  int32_t map[8];
  for (int g = 0; g < k; g++)
    map[g] = -1;
  for (size_t i = 0; i < D->s.n; i++) {
    int g = D->group[i];
    if (map[g] < 0) map[g] = labels[i];
    CHECK_EQ(labels[i], map[g]);
  }
  for (int g = 0; g < k; g++)
    for (int h = g + 1; h < k; h++)
      CHECK(map[g] != map[h]);
}

/* ---- plain references ---------------------------------------------------- */

/* DTW over the full (la x lb) matrix, predecessors outside the grid left
 * out; cells in D (la * lb). */
static double ref_dtw_matrix(const double *a, size_t la, const double *b,
                             size_t lb, size_t d, double *D) {
  for (size_t i = 0; i < la; i++)
    for (size_t j = 0; j < lb; j++) {
      double c = 0;
      for (size_t f = 0; f < d; f++)
        c += (a[i * d + f] - b[j * d + f]) * (a[i * d + f] - b[j * d + f]);
      double m = INFINITY;
      if (i && j) m = D[(i - 1) * lb + j - 1];
      if (i && D[(i - 1) * lb + j] < m) m = D[(i - 1) * lb + j];
      if (j && D[i * lb + j - 1] < m) m = D[i * lb + j - 1];
      D[i * lb + j] = (i || j) ? c + m : c;
    }
  return D[la * lb - 1];
}

static double ref_dtw(const double *a, size_t la, const double *b, size_t lb,
                      size_t d) {
  double *D = malloc(la * lb * sizeof *D);
  CHECK(D);
  double r = ref_dtw_matrix(a, la, b, lb, d, D);
  free(D);
  return r;
}

/* One DBA pass for cluster c, from the matrix by backtracking on values
 * (diagonal, then up, then left on ties), walking paths forward. */
static void ref_dba_pass(const gl_series *s, const int32_t *labels, int c,
                         const double *center, double *out) {
  size_t T = s->T, d = s->d;
  double *sums = calloc(T * d, sizeof *sums), *D = malloc(T * T * sizeof *D);
  size_t *cnt = calloc(T, sizeof *cnt), *pi = malloc(2 * T * sizeof *pi),
         *pj = malloc(2 * T * sizeof *pj);
  CHECK(sums && D && cnt && pi && pj);
  for (size_t i = 0; i < s->n; i++) {
    if (labels[i] != c) continue;
    const double *xi = s->x + i * T * d;
    size_t la = s->len[i], np = 0, a = la - 1, b = T - 1;
    ref_dtw_matrix(xi, la, center, T, d, D);
    for (;;) {
      pi[np] = a;
      pj[np++] = b;
      if (!a && !b) break;
      if (!a) {
        b--;
      } else if (!b) {
        a--;
      } else {
        double dg = D[(a - 1) * T + b - 1], up = D[(a - 1) * T + b],
               lf = D[a * T + b - 1];
        if (dg <= up && dg <= lf) {
          a--;
          b--;
        } else if (up <= lf) {
          a--;
        } else {
          b--;
        }
      }
    }
    for (size_t p = np; p-- > 0;) {
      for (size_t f = 0; f < d; f++)
        sums[pj[p] * d + f] += xi[pi[p] * d + f];
      cnt[pj[p]]++;
    }
  }
  memcpy(out, center, T * d * sizeof *out);
  for (size_t j = 0; j < T; j++)
    if (cnt[j])
      for (size_t f = 0; f < d; f++)
        out[j * d + f] = sums[j * d + f] / (double)cnt[j];
  free(sums);
  free(D);
  free(cnt);
  free(pi);
  free(pj);
}

/* Lloyd as glacier.h states it, with full distances from gl_dist2 and
 * the reference DBA: labels, centers, inertia, iterations. */
static void ref_lloyd(const gl_series *s, const gl_kmeans_opts *o,
                      const double *init, int32_t *labels, double *centers,
                      double *inertia, int *iterations) {
  size_t n = s->n, T = s->T, d = s->d, Td = T * d, k = (size_t)o->k;
  memcpy(centers, init, k * Td * sizeof *centers);
  double prev = 0, *tmp = malloc(Td * sizeof *tmp);
  CHECK(tmp);
  for (int it = 1; it <= o->max_iter; it++) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
      double best = INFINITY;
      for (size_t c = 0; c < k; c++) {
        double v = gl_dist2(o->metric, s->x + i * Td, s->len[i],
                            centers + c * Td, T, d);
        if (v < best) {
          best = v;
          labels[i] = (int32_t)c;
        }
      }
      sum += best;
    }
    *inertia = sum / (double)n;
    *iterations = it;
    if (it > 1 && prev - *inertia < o->tol) break;
    for (size_t c = 0; c < k; c++) {
      if (o->metric == GL_DTW) {
        for (int p = 0; p < o->dba_iter; p++) {
          ref_dba_pass(s, labels, (int)c, centers + c * Td, tmp);
          memcpy(centers + c * Td, tmp, Td * sizeof *tmp);
        }
        continue;
      }
      size_t m = 0;
      memset(tmp, 0, Td * sizeof *tmp);
      for (size_t i = 0; i < n; i++) {
        if ((size_t)labels[i] != c) continue;
        m++;
        for (size_t q = 0; q < Td; q++) /* padding is 0 in these tests */
          tmp[q] += s->x[i * Td + q];
      }
      if (m)
        for (size_t q = 0; q < Td; q++)
          centers[c * Td + q] = tmp[q] / (double)m;
    }
    prev = *inertia;
  }
  free(tmp);
}

/* ---- cases --------------------------------------------------------------- */

static void test_euclidean(void) {
  CASE("gl_dist2: Euclidean, unequal lengths count missing slots as 0");
  double a[] = {1, 2, 3}, b[] = {1, 0};
  CHECK(gl_dist2(GL_EUCLIDEAN, a, 3, b, 2, 1) == 0 + 4 + 9);
  CHECK(gl_dist2(GL_EUCLIDEAN, b, 2, a, 3, 1) == 13);
  CHECK(gl_dist2(GL_EUCLIDEAN, a, 3, a, 3, 1) == 0);
  double p[] = {1, 2, 3, 4}, q[] = {0, 0};
  CHECK(gl_dist2(GL_EUCLIDEAN, p, 2, q, 1, 2) == 1 + 4 + 9 + 16);
  double r[] = {1, 1, 5, 5};
  CHECK(gl_dist2(GL_EUCLIDEAN, p, 2, r, 2, 2) == 0 + 1 + 4 + 1);
}

static void test_dtw(void) {
  CASE("gl_dist2: DTW on hand-computed cases");
  /* a warps onto b exactly; the padded Euclidean distance is 0+1+1+4 */
  double a[] = {0, 1, 2}, b[] = {0, 0, 1, 2};
  CHECK(gl_dist2(GL_DTW, a, 3, b, 4, 1) == 0);
  CHECK(gl_dist2(GL_EUCLIDEAN, a, 3, b, 4, 1) == 6);
  /* costs (0 2 4 vs 1 3): rows 1 9 / 1 1 / 9 1; D: 1 10 / 2 2 / 11 3 */
  double c[] = {0, 2, 4}, e[] = {1, 3};
  CHECK(gl_dist2(GL_DTW, c, 3, e, 2, 1) == 3);
  CHECK(gl_dist2(GL_DTW, e, 2, c, 3, 1) == 3);
  CHECK(gl_dist2(GL_EUCLIDEAN, c, 3, e, 2, 1) == 1 + 1 + 16);
  double f[] = {1, 3}, g[] = {2};
  CHECK(gl_dist2(GL_DTW, f, 2, g, 1, 1) == 2);
  /* two features: (1,0) against (0,0),(0,2): 1 + (1 + 4) */
  double h[] = {1, 0}, m[] = {0, 0, 0, 2};
  CHECK(gl_dist2(GL_DTW, h, 1, m, 2, 2) == 6);
  double u[] = {0, 0, 1, 1}, v[] = {0, 0, 0, 0, 1, 1};
  CHECK(gl_dist2(GL_DTW, u, 2, v, 3, 2) == 0);

  CASE("gl_dist2: DTW equals the full matrix, is symmetric, <= Euclidean");
  data D = random_data(40, 600, 2, 11);
  D.len[0] = 600; /* a row past gl_dist2's stack buffer */
  D.len[1] = 530;
  for (size_t i = 0; i < D.s.n; i++)
    for (size_t j = 0; j < 6; j++) {
      const double *xi = D.x + i * 1200, *xj = D.x + j * 1200;
      size_t li = D.len[i], lj = D.len[j];
      double dij = gl_dist2(GL_DTW, xi, li, xj, lj, 2);
      CHECK(dij == ref_dtw(xi, li, xj, lj, 2));
      CHECK(dij == gl_dist2(GL_DTW, xj, lj, xi, li, 2));
      CHECK(gl_dist2(GL_EUCLIDEAN, xi, li, xj, lj, 2) ==
            gl_dist2(GL_EUCLIDEAN, xj, lj, xi, li, 2));
      if (li == lj) /* the diagonal is one of the paths */
        CHECK(dij <= gl_dist2(GL_EUCLIDEAN, xi, li, xj, lj, 2) * (1 + 1e-12));
    }
  CHECK(gl_dist2(GL_DTW, D.x, D.len[0], D.x, D.len[0], 2) == 0);
  data_free(&D);
}

static void check_init_is_seeds(const data *D, const gl_kmeans_result *r,
                                int k) {
  size_t T = D->s.T, d = D->s.d, Td = T * d;
  for (int c = 0; c < k; c++) {
    const double *ic = r->init_centers + (size_t)c * Td;
    int found = 0;
    for (size_t i = 0; i < D->s.n && !found; i++) {
      size_t m = D->len[i] * d;
      if (memcmp(ic, D->x + i * Td, m * sizeof *ic) != 0) continue;
      found = 1;
      for (size_t q = m; q < Td; q++)
        found &= ic[q] == 0;
    }
    CHECK(found);
  }
}

static void test_groups(gl_metric metric) {
  CASE(metric == GL_DTW ? "k-means, DTW: three separated groups"
                        : "k-means, Euclidean: three separated groups");
  data D = groups3(20, 5);
  char msg[256] = "";
  gl_kmeans_opts o = {.k = 3,
                      .metric = metric,
                      .max_iter = 50,
                      .tol = 1e-9,
                      .dba_iter = 3,
                      .seed = 7};
  gl_kmeans_result r, r2;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, msg, sizeof msg), 0);
  check_recovers(&D, r.labels, 3);
  check_init_is_seeds(&D, &r, 3);
  CHECK(r.iterations >= 2 && r.iterations <= o.max_iter);
  CHECK(r.inertia > 0);
  /* stopped on tol: the labels are the nearest (lowest index on ties) of
   * the returned centers, and the inertia their mean distance */
  CHECK(r.iterations < o.max_iter);
  size_t Td = D.s.T * D.s.d;
  double sum = 0;
  for (size_t i = 0; i < D.s.n; i++) {
    double best = INFINITY;
    int32_t bl = -1;
    for (int c = 0; c < 3; c++) {
      double v = gl_dist2(metric, D.x + i * Td, D.len[i],
                          r.centers + (size_t)c * Td, D.s.T, D.s.d);
      if (v < best) {
        best = v;
        bl = c;
      }
    }
    CHECK_EQ(r.labels[i], bl);
    sum += best;
  }
  CHECK(r.inertia == sum / (double)D.s.n);

  CASE("k-means: the same seed gives the same result bit for bit");
  CHECK_EQ(gl_kmeans(&D.s, &o, &r2, msg, sizeof msg), 0);
  size_t kTd = 3 * Td;
  CHECK(memcmp(r.labels, r2.labels, D.s.n * sizeof *r.labels) == 0);
  CHECK(memcmp(r.centers, r2.centers, kTd * sizeof *r.centers) == 0);
  CHECK(memcmp(r.init_centers, r2.init_centers, kTd * sizeof(double)) == 0);
  CHECK(memcmp(&r.inertia, &r2.inertia, sizeof r.inertia) == 0);
  CHECK_EQ(r.iterations, r2.iterations);
  gl_kmeans_free(&r2);

  CASE("k-means: another seed seeds differently, finds the same groups");
  o.seed = 8;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r2, msg, sizeof msg), 0);
  check_recovers(&D, r2.labels, 3);
  check_init_is_seeds(&D, &r2, 3);
  CHECK(memcmp(r.init_centers, r2.init_centers, kTd * sizeof(double)) != 0);
  gl_kmeans_free(&r2);

  CASE("gl_kmeans_from: from gl_kmeans's seeds, the same run");
  o.seed = 7;
  CHECK_EQ(gl_kmeans_from(&D.s, &o, r.init_centers, &r2, msg, sizeof msg), 0);
  CHECK(memcmp(r.labels, r2.labels, D.s.n * sizeof *r.labels) == 0);
  CHECK(memcmp(r.centers, r2.centers, kTd * sizeof *r.centers) == 0);
  CHECK(memcmp(r.init_centers, r2.init_centers, kTd * sizeof(double)) == 0);
  CHECK(r.inertia == r2.inertia && r.iterations == r2.iterations);
  gl_kmeans_free(&r2);
  gl_kmeans_free(&r);
  CHECK(!r.centers && !r.init_centers && !r.labels && r.iterations == 0);
  gl_kmeans_free(&r); /* twice is harmless */
  data_free(&D);
}

static void test_from_hand(void) {
  CASE("gl_kmeans_from, Euclidean: a hand-computed run");
  /* series (0,0) (0,1) (10,10) (10,11); centers (0,0) (10,10) (1000,1000).
   * it 1: labels 0 0 1 1, distances 0 1 0 1, inertia 0.5; update: (0,.5)
   * (10,10.5), the third center has no members and stays. it 2: inertia
   * 0.25, improved by 0.25: update (same centers). it 3: inertia 0.25,
   * improved by 0 < tol: stop, 3 assignments. */
  double x[] = {0, 0, 0, 1, 10, 10, 10, 11};
  size_t len[] = {2, 2, 2, 2};
  gl_series s = {.n = 4, .T = 2, .d = 1, .x = x, .len = len};
  double init[] = {0, 0, 10, 10, 1000, 1000};
  gl_kmeans_opts o = {.k = 3,
                      .metric = GL_EUCLIDEAN,
                      .max_iter = 100,
                      .tol = 1e-9,
                      .dba_iter = 1,
                      .seed = 1};
  gl_kmeans_result r;
  char msg[256] = "";
  CHECK_EQ(gl_kmeans_from(&s, &o, init, &r, msg, sizeof msg), 0);
  int32_t want[] = {0, 0, 1, 1};
  CHECK(memcmp(r.labels, want, sizeof want) == 0);
  CHECK_EQ(r.iterations, 3);
  CHECK(r.inertia == 0.25);
  double wc[] = {0, 0.5, 10, 10.5, 1000, 1000};
  CHECK(memcmp(r.centers, wc, sizeof wc) == 0);
  CHECK(memcmp(r.init_centers, init, sizeof init) == 0);
  gl_kmeans_free(&r);

  CASE("gl_kmeans_from: max_iter ends the loop after an update");
  o.max_iter = 1;
  CHECK_EQ(gl_kmeans_from(&s, &o, init, &r, msg, sizeof msg), 0);
  CHECK(memcmp(r.labels, want, sizeof want) == 0);
  CHECK_EQ(r.iterations, 1);
  CHECK(r.inertia == 0.5);
  CHECK(memcmp(r.centers, wc, sizeof wc) == 0);
  gl_kmeans_free(&r);

  CASE("gl_kmeans_from: ties go to the lowest center; padding counts as 0");
  /* (5,_) of len 1 is 25 + 0 from both (0,0) and (10,0): center 0. Its
   * missing slot is 0, so against (5,5) it is 25 away, not 0. */
  double tx[] = {5, 99};
  size_t tl[] = {1};
  gl_series ts = {.n = 1, .T = 2, .d = 1, .x = tx, .len = tl};
  double tc[] = {10, 0, 0, 0, 5, 5};
  double tc2[] = {0, 0, 10, 0, 5, 5};
  o.k = 1;
  o.max_iter = 1;
  CHECK_EQ(gl_kmeans_from(&ts, &o, tc, &r, msg, sizeof msg), 0);
  CHECK_EQ(r.labels[0], 0);
  CHECK(r.inertia == 25);
  CHECK(r.centers[0] == 5 && r.centers[1] == 0);
  gl_kmeans_free(&r);
  /* k = 3 needs n >= 3: three copies of the series */
  double tx3[] = {5, 99, 5, -1, 5, 7};
  size_t tl3[] = {1, 1, 1};
  gl_series ts3 = {.n = 3, .T = 2, .d = 1, .x = tx3, .len = tl3};
  o.k = 3;
  CHECK_EQ(gl_kmeans_from(&ts3, &o, tc, &r, msg, sizeof msg), 0);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(r.labels[i], 0);
  CHECK(r.inertia == 25);
  /* center 0 moved to the members' mean (5, 0); 1 and 2 had none */
  double wt[] = {5, 0, 0, 0, 5, 5};
  CHECK(memcmp(r.centers, wt, sizeof wt) == 0);
  gl_kmeans_free(&r);
  CHECK_EQ(gl_kmeans_from(&ts3, &o, tc2, &r, msg, sizeof msg), 0);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(r.labels[i], 0);
  gl_kmeans_free(&r);
}

static void test_tie_later(void) {
  CASE("gl_kmeans_from: a tie with the previous center goes to the lowest");
  /* T = 1: -2, 0, 4 from centers -2.5, 1. it 1: labels 0 1 1; centers
   * -2, 2. it 2: 0 is 4 from both, was in 1, goes to 0; centers -1, 4.
   * it 3: inertia 2/3; it 4: no change, stop. Keeping the previous
   * center on the tie would end at labels 0 1 1, centers -2, 2. */
  double x[] = {-2, 0, 4};
  size_t len[] = {1, 1, 1};
  gl_series s = {.n = 3, .T = 1, .d = 1, .x = x, .len = len};
  double init[] = {-2.5, 1};
  gl_kmeans_opts o = {.k = 2,
                      .metric = GL_EUCLIDEAN,
                      .max_iter = 10,
                      .tol = 1e-9,
                      .dba_iter = 1,
                      .seed = 0};
  gl_kmeans_result r;
  char msg[256] = "";
  for (int m = 0; m < 2; m++) { /* T = 1: DTW is the same distance */
    o.metric = (gl_metric)m;
    CHECK_EQ(gl_kmeans_from(&s, &o, init, &r, msg, sizeof msg), 0);
    int32_t want[] = {0, 0, 1};
    CHECK(memcmp(r.labels, want, sizeof want) == 0);
    CHECK_EQ(r.iterations, 4);
    CHECK(r.centers[0] == -1 && r.centers[1] == 4);
    CHECK(r.inertia == 2.0 / 3);
    gl_kmeans_free(&r);
  }
}

static void test_dba_hand(void) {
  CASE("gl_kmeans_from, DTW: a hand-computed DBA update");
  /* T = 3. Members of center (1,1,1): (0,2) and (0,2,2); (9,9,9) is
   * alone at (9,9,9). Every cost against (1,1,1) is 1, so both DTWs are 3
   * and the tie rule decides the paths. (0,2): D = 1 2 3 / 2 2 3; from
   * (1,2) the diagonal D(0,1) = 2 ties the left D(1,1) = 2 and wins, then
   * row 0 leads left: (0,0) (0,1) (1,2). (0,2,2): the diagonal wins every
   * tie: (0,0) (1,1) (2,2). Slot 0 gets 0, 0; slot 1 gets 0, 2; slot 2
   * gets 2, 2: the new center is (0, 1, 2). Inertia (3 + 3 + 0) / 3 = 2.
   * Preferring left would walk (0,2) along (0,0) (1,1) (1,2) and give
   * (0, 2, 2): the tie rule shows in the result. */
  double x[] = {0, 2, 0, 0, 2, 2, 9, 9, 9};
  size_t len[] = {2, 3, 3};
  gl_series s = {.n = 3, .T = 3, .d = 1, .x = x, .len = len};
  double init[] = {1, 1, 1, 9, 9, 9};
  gl_kmeans_opts o = {.k = 2,
                      .metric = GL_DTW,
                      .max_iter = 1,
                      .tol = 1e-9,
                      .dba_iter = 1,
                      .seed = 1};
  gl_kmeans_result r;
  char msg[256] = "";
  CHECK_EQ(gl_kmeans_from(&s, &o, init, &r, msg, sizeof msg), 0);
  int32_t want[] = {0, 0, 1};
  CHECK(memcmp(r.labels, want, sizeof want) == 0);
  CHECK(r.inertia == 2);
  CHECK_EQ(r.iterations, 1);
  double wc[] = {0, 1, 2, 9, 9, 9};
  CHECK(memcmp(r.centers, wc, sizeof wc) == 0);
  gl_kmeans_free(&r);
  /* (0, 1, 2) is a DBA fixed point for these members; next assignment:
   * DTW((0,2), (0,1,2)) = 1 = DTW((0,2,2), (0,1,2)), inertia 2/3 */
  o.max_iter = 10;
  o.dba_iter = 2;
  CHECK_EQ(gl_kmeans_from(&s, &o, init, &r, msg, sizeof msg), 0);
  CHECK(memcmp(r.labels, want, sizeof want) == 0);
  CHECK(memcmp(r.centers, wc, sizeof wc) == 0);
  CHECK_EQ(r.iterations, 3);
  CHECK_NEAR(r.inertia, 2.0 / 3, 1e-15);
  gl_kmeans_free(&r);

  CASE("gl_kmeans_from, DTW: DBA prefers up to left on a tie");
  /* (0,1,-1) against the center (0,-1,1): D = 0 1 2 / 1 4 1 / 2 1 5, so
   * from (2,2) up D(1,2) = 1 ties left D(2,1) = 1 (diagonal 4). Up: path
   * (0,0) (0,1) (1,2) (2,2), center (0, 0, (1 - 1) / 2). Left would give
   * (0,0) (1,0) (2,1) (2,2) and (0.5, -1, -1). */
  double ux[] = {0, 1, -1};
  size_t ul[] = {3};
  gl_series us = {.n = 1, .T = 3, .d = 1, .x = ux, .len = ul};
  double uc[] = {0, -1, 1};
  CHECK(gl_dist2(GL_DTW, ux, 3, uc, 3, 1) == 5);
  gl_kmeans_opts uo = {.k = 1,
                       .metric = GL_DTW,
                       .max_iter = 1,
                       .tol = 0,
                       .dba_iter = 1,
                       .seed = 0};
  CHECK_EQ(gl_kmeans_from(&us, &uo, uc, &r, msg, sizeof msg), 0);
  CHECK(r.inertia == 5);
  double wu[] = {0, 0, 0};
  CHECK(memcmp(r.centers, wu, sizeof wu) == 0);
  gl_kmeans_free(&r);

  CASE("gl_kmeans_from, DTW: an empty cluster keeps its center");
  double far[] = {1, 1, 1, 9, 9, 9, -50, 50, -50};
  o.k = 3;
  o.max_iter = 3;
  CHECK_EQ(gl_kmeans_from(&s, &o, far, &r, msg, sizeof msg), 0);
  CHECK(memcmp(r.labels, want, sizeof want) == 0);
  CHECK(memcmp(r.centers + 6, far + 6, 3 * sizeof *far) == 0);
  gl_kmeans_free(&r);
}

static void test_against_reference(gl_metric metric) {
  CASE(metric == GL_DTW
           ? "gl_kmeans_from, DTW: equals the plain reference bit for bit"
           : "gl_kmeans_from, Euclidean: equals the plain reference");
  data D = random_data(60, 12, 2, metric == GL_DTW ? 21 : 22);
  for (size_t i = 0; i < 6; i++) { /* a few exact duplicates: ties */
    memcpy(D.x + (10 + i) * 24, D.x + i * 24, 24 * sizeof *D.x);
    D.len[10 + i] = D.len[i];
  }
  size_t Td = 24, k = 4;
  double *init = malloc(k * Td * sizeof *init),
         *centers = malloc(k * Td * sizeof *centers);
  int32_t *labels = malloc(D.s.n * sizeof *labels);
  CHECK(init && centers && labels);
  /* centers: series 0..3 padded with 0; center 3 duplicates center 2 */
  for (size_t c = 0; c < k; c++) {
    size_t src = c == 3 ? 2 : c;
    memset(init + c * Td, 0, Td * sizeof *init);
    memcpy(init + c * Td, D.x + src * Td, D.len[src] * 2 * sizeof *init);
  }
  for (int max_iter = 1; max_iter <= 6; max_iter++) {
    gl_kmeans_opts o = {.k = (int)k,
                        .metric = metric,
                        .max_iter = max_iter,
                        .tol = max_iter == 6 ? 1e-12 : -INFINITY,
                        .dba_iter = 2,
                        .seed = 0};
    gl_kmeans_result r;
    char msg[256] = "";
    CHECK_EQ(gl_kmeans_from(&D.s, &o, init, &r, msg, sizeof msg), 0);
    double inertia = 0;
    int its = 0;
    ref_lloyd(&D.s, &o, init, labels, centers, &inertia, &its);
    CHECK_EQ(r.iterations, its);
    CHECK(memcmp(r.labels, labels, D.s.n * sizeof *labels) == 0);
    CHECK(memcmp(r.centers, centers, k * Td * sizeof *centers) == 0);
    CHECK(r.inertia == inertia);
    gl_kmeans_free(&r);
  }
  free(init);
  free(centers);
  free(labels);
  data_free(&D);
}

static void test_nearest(gl_metric metric) {
  CASE(metric == GL_DTW
           ? "assignment, DTW: abandoning early never changes a label"
           : "assignment, Euclidean: abandoning early never changes a label");
  /* one distribution for all: many near ties between the 12 centers */
  size_t n = 400, T = 23, k = 12, Td = T;
  data D = random_data(n, T, 1, metric == GL_DTW ? 41 : 42);
  for (size_t i = 0; i < n; i++)
    for (size_t t = 0; t < D.len[i]; t++)
      D.x[i * Td + t] -= (double)(i % 4);
  double *init = calloc(k * Td, sizeof *init);
  CHECK(init);
  for (size_t c = 0; c < k; c++)
    memcpy(init + c * Td, D.x + (n - 1 - c) * Td,
           D.len[n - 1 - c] * sizeof *init);
  for (int max_iter = 1; max_iter <= 3; max_iter += 2) {
    gl_kmeans_opts o = {.k = (int)k,
                        .metric = metric,
                        .max_iter = max_iter,
                        .tol = -INFINITY,
                        .dba_iter = 1,
                        .seed = 0};
    gl_kmeans_result r, r1;
    char msg[256] = "";
    CHECK_EQ(gl_kmeans_from(&D.s, &o, init, &r, msg, sizeof msg), 0);
    /* the last assignment was made against the centers before the last
     * update: one iteration less from the same start */
    const double *ctr = init;
    if (max_iter > 1) {
      o.max_iter = max_iter - 1;
      CHECK_EQ(gl_kmeans_from(&D.s, &o, init, &r1, msg, sizeof msg), 0);
      ctr = r1.centers;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
      double best = INFINITY;
      int32_t bl = -1;
      for (size_t c = 0; c < k; c++) {
        double v = gl_dist2(metric, D.x + i * Td, D.len[i], ctr + c * Td, T, 1);
        if (v < best) {
          best = v;
          bl = (int32_t)c;
        }
      }
      CHECK_EQ(r.labels[i], bl);
      sum += best;
    }
    CHECK(r.inertia == sum / (double)n);
    if (max_iter > 1) gl_kmeans_free(&r1);
    gl_kmeans_free(&r);
  }
  free(init);
  data_free(&D);
}

static void test_seeding_degenerate(void) {
  CASE("k-means++: identical series (all D = 0) still seed k centers");
  double x[] = {3, 4, 3, 4, 3, 4};
  size_t len[] = {2, 2, 2};
  gl_series s = {.n = 3, .T = 2, .d = 1, .x = x, .len = len};
  for (int m = 0; m < 2; m++) {
    gl_kmeans_opts o = {.k = 3,
                        .metric = (gl_metric)m,
                        .max_iter = 5,
                        .tol = 1e-12,
                        .dba_iter = 1,
                        .seed = 3};
    gl_kmeans_result r;
    char msg[256] = "";
    CHECK_EQ(gl_kmeans(&s, &o, &r, msg, sizeof msg), 0);
    for (int i = 0; i < 3; i++)
      CHECK_EQ(r.labels[i], 0); /* all centers tie: the lowest wins */
    CHECK(r.inertia == 0);
    CHECK_EQ(r.iterations, 2);
    for (int q = 0; q < 6; q++)
      CHECK(r.init_centers[q] == x[q]);
    gl_kmeans_free(&r);
  }

  CASE("k-means++: k = n seeds every series once");
  data D = groups3(2, 9);
  gl_kmeans_opts o = {.k = 6,
                      .metric = GL_EUCLIDEAN,
                      .max_iter = 5,
                      .tol = 0,
                      .dba_iter = 1,
                      .seed = 4};
  gl_kmeans_result r;
  char msg[256] = "";
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, msg, sizeof msg), 0);
  CHECK(r.inertia == 0);
  for (size_t i = 0; i < 6; i++)
    for (size_t j = i + 1; j < 6; j++)
      CHECK(r.labels[i] != r.labels[j]);
  gl_kmeans_free(&r);
  data_free(&D);
}

static void test_errors(void) {
  CASE("k-means: bad arguments fail with a message, result zeroed");
  data D = groups3(2, 1);
  gl_kmeans_opts o = {.k = 0,
                      .metric = GL_EUCLIDEAN,
                      .max_iter = 10,
                      .tol = 1e-6,
                      .dba_iter = 1,
                      .seed = 1};
  gl_kmeans_result r;
  char msg[256] = "";
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, msg, sizeof msg), -1);
  CHECK_CONTAINS(msg, "k = 0");
  CHECK(!r.centers && !r.labels && !r.init_centers);
  o.k = 7;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, msg, sizeof msg), -1);
  CHECK_CONTAINS(msg, "k = 7 is out of range 1..6");
  double init[6 * 16 * 2] = {0};
  CHECK_EQ(gl_kmeans_from(&D.s, &o, init, &r, msg, sizeof msg), -1);
  CHECK_CONTAINS(msg, "k = 7");
  CHECK(!r.centers);
  o.k = 2;
  CHECK_EQ(gl_kmeans_from(&D.s, &o, NULL, &r, msg, sizeof msg), -1);
  CHECK_CONTAINS(msg, "initial centers");
  o.max_iter = 0;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, msg, sizeof msg), -1);
  CHECK_CONTAINS(msg, "max_iter");
  o.max_iter = 10;
  o.metric = GL_DTW;
  o.dba_iter = 0;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, msg, sizeof msg), -1);
  CHECK_CONTAINS(msg, "dba_iter");
  o.dba_iter = 1;
  D.len[3] = 17;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, msg, sizeof msg), -1);
  CHECK_CONTAINS(msg, "series 3 has len 17");
  D.len[3] = 0;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, msg, sizeof msg), -1);
  D.len[3] = 16;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, NULL, 0), 0); /* no message buffer: ok */
  gl_kmeans_free(&r);
  o.k = 0;
  CHECK_EQ(gl_kmeans(&D.s, &o, &r, NULL, 0), -1);
  data_free(&D);
}

static void test_silhouette(void) {
  CASE("silhouette: hand-computed, Euclidean");
  /* values 0 1 | 10 12: a = 1 1 2 2, b = 11 10 9.5 11.5 */
  double x[] = {0, 1, 10, 12};
  size_t len[] = {1, 1, 1, 1};
  gl_series s = {.n = 4, .T = 1, .d = 1, .x = x, .len = len};
  int32_t lab[] = {0, 0, 1, 1};
  double want = (10.0 / 11 + 9.0 / 10 + 7.5 / 9.5 + 9.5 / 11.5) / 4;
  CHECK_NEAR(gl_silhouette(&s, GL_EUCLIDEAN, lab, 2), want, 1e-15);
  CHECK(gl_silhouette(&s, GL_EUCLIDEAN, lab, 1) == 0);
  /* a third, empty label changes nothing */
  CHECK_NEAR(gl_silhouette(&s, GL_EUCLIDEAN, lab, 3), want, 1e-15);
  /* a series alone in its cluster scores 0: 0 1 | 10 */
  s.n = 3;
  CHECK_NEAR(gl_silhouette(&s, GL_EUCLIDEAN, lab, 2), (0.9 + 8.0 / 9 + 0) / 3,
             1e-15);
  s.n = 1;
  CHECK(gl_silhouette(&s, GL_EUCLIDEAN, lab, 2) == 0);
  s.n = 4;
  int32_t bad[] = {0, 0, 2, 1};
  CHECK(isnan(gl_silhouette(&s, GL_EUCLIDEAN, bad, 2)));

  CASE("silhouette: hand-computed, DTW, unequal lengths");
  /* (0,0) (1) | (5,5) (5): DTW distances sqrt2, sqrt50, sqrt50 | sqrt32,
   * 4 | 0. Series 0: a = sqrt2, b = sqrt50: 1 - 1/5. Series 1: a = sqrt2,
   * b = (sqrt32 + 4) / 2. Series 2, 3: a = 0: 1. */
  double y[] = {0, 0, 1, 0, 5, 5, 5, 0};
  size_t ly[] = {2, 1, 2, 1};
  gl_series sy = {.n = 4, .T = 2, .d = 1, .x = y, .len = ly};
  double b1 = (sqrt(32.0) + 4) / 2;
  double wy = (0.8 + (b1 - sqrt(2.0)) / b1 + 1 + 1) / 4;
  CHECK_NEAR(gl_silhouette(&sy, GL_DTW, lab, 2), wy, 1e-15);

  CASE("silhouette: over 2000 series, every ceil(n/2000)-th");
  size_t n = 4001, step = 3, ns = 1334;
  data D = random_data(n, 4, 1, 31), S = data_new(ns, 4, 1);
  int32_t *ln = malloc(n * sizeof *ln), *ls = malloc(ns * sizeof *ls);
  CHECK(ln && ls);
  for (size_t i = 0; i < n; i++)
    ln[i] = (int32_t)(i % 4 < 2 ? i % 4 : i % 3);
  for (size_t p = 0; p < ns; p++) {
    memcpy(S.x + p * 4, D.x + p * step * 4, 4 * sizeof *S.x);
    S.len[p] = D.len[p * step];
    ls[p] = ln[p * step];
  }
  for (int m = 0; m < 2; m++) {
    double full = gl_silhouette(&D.s, (gl_metric)m, ln, 3);
    CHECK(full == gl_silhouette(&S.s, (gl_metric)m, ls, 3));
    CHECK(full > -1 && full < 1);
  }

  CASE("silhouette in blocks: every pair once, in order, the same result");
  size_t p0, p1, total = gl_sil_block(n, 0, 1, &p0, &p1);
  CHECK_EQ(total, ns * (ns - 1) / 2);
  CHECK(p0 == 0 && p1 == ns - 1);
  double *all = malloc(total * sizeof *all), *cat = malloc(total * sizeof *cat);
  CHECK(all && cat);
  CHECK_EQ(gl_sil_distances(&D.s, GL_DTW, 0, 1, all), 0);
  size_t nbs[] = {2, 3, 8, 100, 2000};
  for (size_t t = 0; t < sizeof nbs / sizeof nbs[0]; t++) {
    size_t nb = nbs[t], at = 0, row = 0, most = 0;
    for (size_t b = 0; b < nb; b++) {
      size_t c = gl_sil_block(n, b, nb, &p0, &p1);
      CHECK_EQ(p0, row); /* blocks follow each other */
      row = p1;
      CHECK_EQ(gl_sil_distances(&D.s, GL_DTW, b, nb, cat + at), 0);
      at += c;
      if (c > most) most = c;
    }
    CHECK_EQ(row, ns - 1);
    CHECK_EQ(at, total);
    /* balanced: no block is more than a row's pairs over its share */
    CHECK(most <= total / nb + ns);
    CHECK(memcmp(all, cat, total * sizeof *all) == 0);
  }
  CHECK(gl_silhouette_of(n, ln, 3, all) == gl_silhouette(&D.s, GL_DTW, ln, 3));

  CASE("silhouette distances: each pair's gl_dist2, bit for bit");
  /* the Euclidean pairs go four at a time; lengths 1..9, 3 features */
  data E = random_data(23, 9, 3, 77);
  size_t ne = gl_sil_block(E.s.n, 0, 1, &p0, &p1);
  double *de = malloc(ne * sizeof *de);
  CHECK(de != NULL);
  /* m 0, 1: zero padding (the Euclidean pairs four at a time); m 2, 3:
   * NaN in the padding, which no distance reads */
  for (int m = 0; m < 4; m++) {
    if (m == 2)
      for (size_t a = 0; a < E.s.n; a++)
        for (size_t k = E.len[a] * 3; k < 27; k++)
          E.x[a * 27 + k] = NAN;
    CHECK_EQ(gl_sil_distances(&E.s, (gl_metric)(m % 2), 0, 1, de), 0);
    size_t at = 0, same = 0;
    for (size_t a = 0; a < E.s.n; a++)
      for (size_t c = a + 1; c < E.s.n; c++, at++) {
        double dw = sqrt(gl_dist2((gl_metric)(m % 2), E.x + a * 27, E.len[a],
                                    E.x + c * 27, E.len[c], 3));
        same += memcmp(&dw, &de[at], sizeof dw) == 0;
      }
    CHECK_EQ(same, ne);
  }
  free(de);
  data_free(&E);
  /* fewer series than blocks: empty blocks */
  CHECK_EQ(gl_sil_block(3, 5, 8, &p0, &p1), 0);
  CHECK(p0 == p1);
  free(all);
  free(cat);
  free(ln);
  free(ls);
  data_free(&D);
  data_free(&S);
}

int main(void) {
  test_euclidean();
  test_dtw();
  test_groups(GL_EUCLIDEAN);
  test_groups(GL_DTW);
  test_from_hand();
  test_tie_later();
  test_dba_hand();
  test_against_reference(GL_EUCLIDEAN);
  test_against_reference(GL_DTW);
  test_nearest(GL_EUCLIDEAN);
  test_nearest(GL_DTW);
  test_seeding_degenerate();
  test_errors();
  test_silhouette();
  fprintf(stderr, "test_glacier: ok\n");
  return 0;
}
