/*
 * test_glacier_plot.c - the glacier plugin's SVG cluster plot
 * (jobs/glacier/plot.c): document shape, one polyline per drawn series and
 * center, sampling of large clusters, escaped titles, byte-identical
 * output (also under another numeric locale when one is installed), the
 * edge cases (empty cluster, k = 1, T = 1, non-finite values) and, when
 * /usr/bin/python3 exists, that an XML parser accepts every document.
 * Writes a sample figure to /tmp/glacier_sample.svg.
 */
#define _POSIX_C_SOURCE 200809L

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "glacier.h"

/* A deterministic data set: n series of up to T slots, d features. */
typedef struct data {
  size_t n, T, d;
  double *x;
  size_t *len;
  int32_t *labels;
  double *centers;
  int k;
} data;

static uint64_t lcg(uint64_t *st) {
  *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
  return *st >> 11;
}

static double unif(uint64_t *st) {
  return (double)lcg(st) / 9007199254740992.0; /* 2^53 */
}

/* Cluster c's shape at slot t of T. */
static double shape(int c, size_t t, size_t T) {
  double u = T > 1 ? (double)t / (double)(T - 1) : 0;
  switch (c % 4) {
  case 0:
    return sin(6.283185307179586 * u);
  case 1:
    return 2 * u - 1;
  case 2:
    return u < 0.5 ? -0.5 : 0.8;
  default:
    return 0.5 * cos(12.566370614359172 * u);
  }
}

/* Series i belongs to label_of(i); its observed length is T or, for every
 * fifth series, about two thirds of T. Centers are the slot means of the
 * members observed there (0 where none is). */
static data make(size_t n, size_t T, size_t d, int k,
                 int32_t (*label_of)(size_t i, int k)) {
  data D = {n,
            T,
            d,
            calloc(n * T * d + 1, sizeof(double)),
            calloc(n + 1, sizeof(size_t)),
            calloc(n + 1, sizeof(int32_t)),
            calloc((size_t)k * T * d + 1, sizeof(double)),
            k};
  CHECK(D.x && D.len && D.labels && D.centers);
  uint64_t st = 42;
  for (size_t i = 0; i < n; i++) {
    D.labels[i] = label_of(i, k);
    D.len[i] = i % 5 == 4 && T > 2 ? T * 2 / 3 : T;
    for (size_t t = 0; t < D.len[i]; t++)
      for (size_t f = 0; f < d; f++)
        D.x[(i * T + t) * d + f] = (double)(f + 1) * shape(D.labels[i], t, T) +
                                   0.3 * (unif(&st) - 0.5);
  }
  for (int c = 0; c < k; c++)
    for (size_t t = 0; t < T; t++)
      for (size_t f = 0; f < d; f++) {
        double sum = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++)
          if (D.labels[i] == c && t < D.len[i]) {
            sum += D.x[(i * T + t) * d + f];
            cnt++;
          }
        D.centers[((size_t)c * T + t) * d + f] = cnt ? sum / (double)cnt : 0;
      }
  return D;
}

static void drop(data *D) {
  free(D->x);
  free(D->len);
  free(D->labels);
  free(D->centers);
}

static char *plot(const data *D, size_t feature, const char *title) {
  gl_series s = {D->n, D->T, D->d, D->x, D->len};
  char *svg = gl_svg_clusters(&s, D->labels, D->centers, D->k, feature, title);
  CHECK(svg);
  return svg;
}

static int32_t round_robin(size_t i, int k) {
  return (int32_t)(i % (size_t)k);
}

/* Leaves the last cluster empty (k >= 2). */
static int32_t skip_last(size_t i, int k) {
  return (int32_t)(i % (size_t)(k - 1));
}

/* 1100 series in cluster 0, 1000 in 1, 500 in 2, 100 in 3. */
static int32_t big(size_t i, int k) {
  (void)k;
  return i < 1100 ? 0 : i < 2100 ? 1 : i < 2600 ? 2 : 3;
}

static size_t count(const char *s, const char *sub) {
  size_t n = 0;
  for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
    n++;
  return n;
}

/* The document's frame: an XML declaration, one <svg> root with its
 * namespace and size, and "</svg>\n" as the very end. */
static void check_shape(const char *svg) {
  const char *root = svg;
  if (strncmp(root, "<?xml", 5) == 0) root = strstr(root, "?>\n") + 3;
  CHECK(strncmp(root, "<svg", 4) == 0);
  CHECK(strstr(root, "xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(strstr(root, "width=\""));
  CHECK(strstr(root, "height=\""));
  CHECK(strstr(root, "viewBox=\"0 0 "));
  size_t len = strlen(svg);
  CHECK(len > 7 && strcmp(svg + len - 7, "</svg>\n") == 0);
  CHECK_EQ(count(svg, "<svg"), 1);
  CHECK_EQ(count(svg, "</svg>"), 1);
  /* no non-finite number leaks into a coordinate or label */
  CHECK(!strstr(svg, "nan") && !strstr(svg, "inf") && !strstr(svg, "NaN"));
}

/* Whether an XML parser accepts the document; -1 without python3. */
static int xml_ok(const char *svg) {
  if (access("/usr/bin/python3", X_OK) != 0) return -1;
  char path[] = "/tmp/test_glacier_plot_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  size_t len = strlen(svg);
  CHECK(write(fd, svg, len) == (ssize_t)len);
  CHECK(close(fd) == 0);
  char cmd[256];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import xml.dom.minidom,sys; "
           "xml.dom.minidom.parse(sys.argv[1])\" %s",
           path);
  int rc = system(cmd);
  unlink(path);
  return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

static void check_xml(const char *svg) {
  int ok = xml_ok(svg);
  if (ok == -1) return;
  CHECK(ok == 1);
}

static void test_basic(void) {
  CASE("plot-1: 60 series in 3 clusters, one polyline per series and center");
  data D = make(60, 24, 2, 3, round_robin);
  char *svg = plot(&D, 1, "Glacier <&> \"runs\" 'k=3'");
  check_shape(svg);
  CHECK_EQ(count(svg, "<polyline"), 60 + 3);
  CHECK_EQ(count(svg, "stroke=\"#d62728\""), 3); /* a group per panel */
  CHECK_EQ(count(svg, "Cluster 0 (20 series)"), 1);
  CHECK_EQ(count(svg, "Cluster 1 (20 series)"), 1);
  CHECK_EQ(count(svg, "Cluster 2 (20 series)"), 1);
  CHECK(!strstr(svg, "Cluster 3"));
  CHECK_CONTAINS(svg, "Glacier &lt;&amp;&gt; &quot;runs&quot; &apos;k=3&apos;");
  CHECK(!strstr(svg, "<&>"));
  /* three columns, one row: 2 * 20 + 3 * 320 + 2 * 20 */
  CHECK_CONTAINS(svg, "width=\"1040\"");
  check_xml(svg);

  CASE("plot-2: deterministic, and feature 0 differs from feature 1");
  char *again = plot(&D, 1, "Glacier <&> \"runs\" 'k=3'");
  CHECK_STR_EQ(svg, again);
  char *f0 = plot(&D, 0, "Glacier <&> \"runs\" 'k=3'");
  CHECK(strcmp(svg, f0) != 0);
  free(again);
  free(f0);

  CASE("plot-3: byte-identical under a comma-decimal locale, if installed");
  static const char *const comma[] = {"de_DE.UTF-8", "de_DE.utf8",
                                      "fr_FR.UTF-8", "fr_FR.utf8",
                                      "de_DE",       "fr_FR"};
  for (size_t j = 0; j < sizeof comma / sizeof *comma; j++) {
    if (!setlocale(LC_NUMERIC, comma[j])) continue;
    char *loc = plot(&D, 1, "Glacier <&> \"runs\" 'k=3'");
    setlocale(LC_NUMERIC, "C");
    CHECK_STR_EQ(svg, loc);
    free(loc);
    fprintf(stderr, "  checked under %s\n", comma[j]);
    break;
  }
  free(svg);
  drop(&D);
}

static void test_empty_cluster(void) {
  CASE("plot-4: an empty cluster gets a panel with its center only");
  data D = make(12, 10, 1, 4, skip_last);
  char *svg = plot(&D, 0, "empty");
  check_shape(svg);
  CHECK_EQ(count(svg, "<polyline"), 12 + 4);
  CHECK_CONTAINS(svg, "Cluster 3 (0 series)");
  /* four panels: two rows of up to three */
  CHECK_CONTAINS(svg, "height=\"536\"");
  check_xml(svg);
  free(svg);
  drop(&D);
}

static void test_tiny(void) {
  CASE("plot-5: k = 1, T = 1: a dash per series");
  data D = make(5, 1, 1, 1, round_robin);
  char *svg = plot(&D, 0, "one slot");
  check_shape(svg);
  CHECK_EQ(count(svg, "<polyline"), 5 + 1);
  CHECK_CONTAINS(svg, "Cluster 0 (5 series)");
  check_xml(svg);
  free(svg);
  drop(&D);

  CASE("plot-6: all values equal: a range of +-1 around them");
  data E = make(3, 4, 1, 1, round_robin);
  for (size_t j = 0; j < 3 * 4; j++)
    E.x[j] = 7;
  for (size_t j = 0; j < 4; j++)
    E.centers[j] = 7;
  svg = plot(&E, 0, "flat");
  check_shape(svg);
  CHECK_CONTAINS(svg, ">7</text>");
  CHECK_CONTAINS(svg, ">6.5</text>");
  check_xml(svg);
  free(svg);
  drop(&E);

  CASE("plot-7: no series, and a feature out of range, still a document");
  gl_series none = {0, 8, 1, NULL, NULL};
  double centers[16] = {0};
  svg = gl_svg_clusters(&none, NULL, centers, 2, 0, NULL);
  CHECK(svg);
  check_shape(svg);
  CHECK_EQ(count(svg, "<polyline"), 2);
  CHECK_CONTAINS(svg, "Cluster 1 (0 series)");
  check_xml(svg);
  free(svg);
  svg = gl_svg_clusters(&none, NULL, centers, 2, 5, "bad feature");
  CHECK(svg);
  check_shape(svg);
  CHECK_EQ(count(svg, "<polyline"), 0);
  free(svg);
}

static void test_nonfinite(void) {
  CASE("plot-8: a NaN breaks a line in two; inf and a NaN center skipped");
  data D = make(6, 12, 1, 2, round_robin);
  D.x[0 * 12 + 5] = NAN;      /* series 0: two runs */
  D.x[2 * 12 + 0] = INFINITY; /* series 2: one run, shorter */
  D.x[4 * 12 + 11] = -INFINITY;
  D.centers[1 * 12 + 3] = NAN; /* center 1: two runs */
  char *svg = plot(&D, 0, "gaps");
  check_shape(svg);
  CHECK_EQ(count(svg, "<polyline"), 6 + 2 + 1 + 1);
  check_xml(svg);
  free(svg);
  drop(&D);

  CASE("plot-9: a title with control bytes and broken UTF-8 stays XML");
  data E = make(3, 5, 1, 1, round_robin);
  svg = plot(&E, 0, "tab\there\x01 caf\xc3\xa9 bad\xff\xc3 end");
  check_shape(svg);
  CHECK_CONTAINS(svg, "tab here? caf\xc3\xa9 bad?? end");
  check_xml(svg);
  free(svg);
  drop(&E);
}

static void test_sampling(void) {
  CASE("plot-10: clusters over 500 members draw every ceil(m/500)-th");
  data D = make(2700, 30, 1, 4, big);
  char *svg = plot(&D, 0, "many");
  check_shape(svg);
  /* 1100: every 3rd, 367 drawn; 1000: every 2nd, 500; 500 and 100: all */
  CHECK_CONTAINS(svg, "Cluster 0 (1100 series, 367 drawn)");
  CHECK_CONTAINS(svg, "Cluster 1 (1000 series, 500 drawn)");
  CHECK_CONTAINS(svg, "Cluster 2 (500 series)");
  CHECK_CONTAINS(svg, "Cluster 3 (100 series)");
  CHECK_EQ(count(svg, "<polyline"), 367 + 500 + 500 + 100 + 4);
  /* about 30 points of 13 bytes per line: well under 1 MB */
  CHECK(strlen(svg) < (size_t)1 << 20);
  check_xml(svg);
  free(svg);
  drop(&D);
}

static void test_sample_file(void) {
  CASE("plot-11: the sample figure, /tmp/glacier_sample.svg");
  data D = make(240, 52, 2, 4, round_robin);
  char *svg = plot(&D, 0, "Glacier mass balance: k-means, k = 4 (feature 0)");
  FILE *f = fopen("/tmp/glacier_sample.svg", "w");
  if (f) {
    CHECK(fwrite(svg, 1, strlen(svg), f) == strlen(svg));
    CHECK(fclose(f) == 0);
  }
  free(svg);
  drop(&D);
}

int main(void) {
  test_basic();
  test_empty_cluster();
  test_tiny();
  test_nonfinite();
  test_sampling();
  test_sample_file();
  return 0;
}
