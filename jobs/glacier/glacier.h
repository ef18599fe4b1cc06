/*
 * glacier.h - the algorithms of the glacier clustering plugin (jobs/glacier,
 * the repository's own pipeline: conf/), apart from the node functions that
 * call them: time-series k-means (Euclidean, or DTW with DBA barycenters),
 * its metrics, and the SVG cluster plot. Plain C over arrays of doubles;
 * randomness comes from hpcpipe's deterministic streams (hp_rng).
 */
#ifndef GL_GLACIER_H
#define GL_GLACIER_H

#include <stddef.h>
#include <stdint.h>

#include <hpcpipe/node.h>

/* n multivariate series of up to T slots of d features, row-major
 * x[(i * T + t) * d + f]. Series i is observed in slots [0, len[i]) (1 <=
 * len[i] <= T); later slots are padding and never read. Observed values
 * are finite (the caller fills gaps before clustering). */
typedef struct gl_series {
  size_t n, T, d;
  const double *x;
  const size_t *len;
} gl_series;

/* Returns a failing status from the node functions. */
#define GL_TRY(expr)                                                        \
  do {                                                                      \
    int gl_rc_ = (expr);                                                    \
    if (gl_rc_ != HP_OK) return gl_rc_;                                     \
  } while (0)

typedef enum gl_metric { GL_EUCLIDEAN = 0, GL_DTW = 1 } gl_metric;

/* Squared distance between series a (la slots) and b (lb slots), d
 * features. Euclidean: both are compared over max(la, lb) slots, a
 * series' missing slots counting as 0 (a scaled series' mean); the terms
 * (a[t][f] - b[t][f])^2 are added one by one to a single running sum, in
 * slot, then feature order. DTW: the minimal sum of squared Euclidean
 * distances between aligned slots over monotone alignment paths from
 * (0, 0) to (la - 1, lb - 1), no window: with c(i, j) = sum over f (in
 * order) of (a[i][f] - b[j][f])^2, D(0, 0) = c(0, 0), D(i, j) = c(i, j) +
 * min(D(i-1, j-1), D(i-1, j), D(i, j-1)) (predecessors outside the grid
 * left out), result D(la - 1, lb - 1). Both are exactly symmetric in
 * (a, b). DTW returns NaN if it cannot allocate its working row (only
 * when min(la, lb) > 512). */
double gl_dist2(gl_metric m, const double *a, size_t la, const double *b,
                size_t lb, size_t d);

typedef struct gl_kmeans_opts {
  int k;             /* clusters, 1 <= k <= n */
  gl_metric metric;
  int max_iter;      /* Lloyd iterations, >= 1 */
  double tol;        /* stop when the inertia improves by less than this */
  int dba_iter;      /* DBA refinement passes per center update (DTW) */
  uint64_t seed;     /* k-means++ seeding draws from hp_rng(seed, 0) */
  hp_node_ctx *ctx;  /* the iterations' blocks run on its cores
                        (hp_node_parallel); NULL: this thread only */
} gl_kmeans_opts;

/* The Lloyd iterations work on blocks of this many series (series 0 ..
 * GL_BLOCK - 1, then the next GL_BLOCK, ...), which may run on several
 * cores: step 4's sums are added per block, then the blocks' sums in
 * block order. */
#define GL_BLOCK 256

/* How many blocks of `size` items n items make (the last may be short). */
static inline size_t gl_nblocks(size_t n, size_t size) {
  return (n + size - 1) / size;
}

/* The end of block b of `size` items out of n (it starts at b * size). */
static inline size_t gl_block_end(size_t b, size_t size, size_t n) {
  return (b + 1) * size < n ? (b + 1) * size : n;
}

typedef struct gl_kmeans_result {
  /* centers [k][T][d]: every center has all T slots */
  double *centers;
  double *init_centers; /* [k][T][d], the k-means++ seeds (as series of T
                           slots: a seed's missing slots are 0) */
  int32_t *labels;      /* [n] in 0..k-1 */
  double inertia;       /* mean over series of the squared distance to its
                           center */
  int iterations;       /* Lloyd iterations run */
} gl_kmeans_result;

/* Clusters s. Deterministic for (s, opts): no dependence on rank count
 * or timing. Returns 0, or -1 with msg filled (k outside 1..n, max_iter <
 * 1, dba_iter < 1 with DTW, a len outside 1..T, out of memory); *r is
 * zeroed on failure. Free the result with gl_kmeans_free.
 *
 * k-means++ seeding, drawing from g = hp_rng_new(seed, 0): the first seed
 * is series hp_rng_int(g, n). Before each further seed, D(i) = the
 * minimum over the seeds so far of gl_dist2(metric, series i (len[i]
 * slots), seed series (its len slots)) and total = D(0) + ... + D(n - 1)
 * added in index order. If total == 0 the seed is series hp_rng_int(g, n);
 * else u = hp_rng_uniform(g, 0, total) and the seed is the first i whose
 * running sum D(0) + ... + D(i) (added in the same order) exceeds u, or,
 * if rounding leaves none, the last i with D(i) > 0. A seed's center has T
 * slots: its observed slots, then zeros. These are init_centers; then the
 * Lloyd iterations of gl_kmeans_from run from them. */
int gl_kmeans(const gl_series *s, const gl_kmeans_opts *o,
              gl_kmeans_result *r, char *msg, size_t msglen);
/* The same Lloyd iterations from given initial centers init [k][T][d]
 * (the Python reference starts from the centers the C run chose);
 * init_centers is a copy of init. Returns as gl_kmeans. For it = 1 ..
 * max_iter:
 *   1. Assign: label(i) = the center c with the smallest distance to
 *      series i; ties go to the lowest c. DTW: gl_dist2(metric, series i
 *      (len[i] slots), center c (T slots)). Euclidean: the running sum of
 *      (x[i][t][f] - center[t][f])^2 over the series' observed values
 *      (t < len[i]; slot, then feature order), plus the center's tail:
 *      the sum of its squared values from slot len[i] on, added from its
 *      last value backwards (tail(e) = tail(e + 1) + v(e)^2, tail = 0
 *      past the end) - mathematically gl_dist2, rounded differently.
 *      (Nearest-center searches may skip or abandon a distance, but only
 *      once it provably cannot win: labels are those of the full
 *      computation.)
 *   2. inertia = (the sum of those distances, added in index order) / n.
 *   3. If it > 1 and prev_inertia - inertia < tol, stop: the result is
 *      this assignment and inertia, and the centers it was made against.
 *   4. Update every center that has members; a center without members
 *      keeps its value.
 *      Euclidean: center[c][t][f] = (the sum over members i of
 *      x[i][t][f], missing slots t >= len[i] counting as 0) divided by
 *      the number of members. Sums here are per block of GL_BLOCK series
 *      (members in index order, starting from 0), then the blocks' sums
 *      added in block order, starting from 0.
 *      DTW: DBA (DTW barycenter averaging, Petitjean et al. 2011) from
 *      the current center, dba_iter passes. A pass aligns every member to
 *      the center as it was at the start of the pass, by the DTW of
 *      gl_dist2 (member rows, center columns), and recovers the optimal
 *      path from (len - 1, T - 1) back to (0, 0), taking at each cell the
 *      predecessor with the smallest cumulative cost and, on ties, the
 *      diagonal (i-1, j-1), then (i-1, j), then (i, j-1). Then center slot
 *      j becomes the mean of the member slots aligned to it: their sum
 *      (per block, members in index order, each path walked from (0,
 *      0), then the blocks' sums in block order), divided by their
 *      count; a slot nothing is aligned to keeps its value.
 *      prev_inertia = inertia.
 * labels and inertia are those of the last assignment; iterations is the
 * number of assignments made. When the loop ends at max_iter, step 4 has
 * run after that assignment, so the centers are one update ahead of it. */
int gl_kmeans_from(const gl_series *s, const gl_kmeans_opts *o,
                   const double *init, gl_kmeans_result *r, char *msg,
                   size_t msglen);
void gl_kmeans_free(gl_kmeans_result *r);

/* Mean silhouette coefficient of the labelling, distances sqrt(gl_dist2)
 * between series (each with its own len). Over n > 2000 series it is
 * computed on the deterministic sample i % step == 0, step = ceil(n /
 * 2000), otherwise on all of them. For a sampled series, a = the mean
 * distance to the other sampled members of its cluster, b = the smallest
 * mean distance to the sampled members of another cluster, s = (b - a) /
 * max(a, b) (0 if both are 0); s = 0 for a series alone (among the sample)
 * in its cluster or when no other cluster has sampled members (sklearn's
 * convention). Distances are added to a and b's sums in index order.
 * Returns the mean of s over the sample; 0 when k < 2 or fewer than 2
 * series are sampled; NaN when a sampled label is outside 0..k-1 or out of
 * memory. */
double gl_silhouette(const gl_series *s, gl_metric m, const int32_t *labels,
                     int k);

/* gl_silhouette in pieces, so that its distances (nearly all of its time)
 * can be computed by several tasks. Its distances are those of the pairs
 * (p, q), q > p, of the ns sampled series, row by row: p ascending, q
 * ascending within a row. Cut into nblocks blocks of whole rows with about
 * as many pairs each, block b holds rows [*p0, *p1); gl_sil_block returns
 * its number of pairs, and gl_sil_distances writes its distances to out
 * (-1 if out of memory). gl_silhouette_of takes every block's distances in
 * block order (n: the series count) and does what gl_silhouette does with
 * them: the result does not depend on nblocks. */
size_t gl_sil_block(size_t n, size_t b, size_t nblocks, size_t *p0,
                    size_t *p1);
int gl_sil_distances(const gl_series *s, gl_metric m, size_t b,
                     size_t nblocks, double *out);
double gl_silhouette_of(size_t n, const int32_t *labels, int k,
                        const double *dist);

/* An SVG document (NUL-terminated, malloc'd; NULL if out of memory): one
 * panel per cluster in a grid, each member series' feature f drawn as a
 * grey polyline over its observed slots, the center's in red, panel titles
 * "Cluster c (n series)" (c from 0, as in the labels), and `title` above. */
char *gl_svg_clusters(const gl_series *s, const int32_t *labels,
                      const double *centers, int k, size_t feature,
                      const char *title);

/* glacier.synthetic's node function (synthetic.c): WGMS-shaped raw
 * tables; nodes.c registers it with the others. */
int gl_synthetic_run(hp_node_ctx *ctx);

#endif
