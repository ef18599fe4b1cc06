/*
 * plot.c - the SVG figure of a clustering: one panel per cluster, its
 * members' feature as faint grey lines under the center in red, the figure
 * the seed tutorial draws with matplotlib. The document is built in one
 * growing buffer. Numbers never go through a locale-aware %f or %g as they
 * are: coordinates are rounded to hundredths and printed as integers, and
 * the few tick labels have their decimal point normalised, so one input
 * gives the same bytes on every machine and in every locale.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glacier.h"

/* ---- layout (px) ---------------------------------------------------------*/

#define MAX_COLS 3
#define MARGIN   20 /* around the grid */
#define HEAD     56 /* above the grid: margin and the document title */
#define PANEL_W  320
#define PANEL_H  220
#define GAP      20 /* between panels */
/* The plot area inside a panel leaves room for the y labels on the left,
 * the panel title above and the x labels and axis name below. */
#define PAD_L  54
#define PAD_R  12
#define PAD_T  30
#define PAD_B  36
#define AREA_W (PANEL_W - PAD_L - PAD_R)
#define AREA_H (PANEL_H - PAD_T - PAD_B)

/* A cluster with more members than this has only a sample of them drawn,
 * which bounds the document at about MAX_DRAWN * T points per panel. */
#define MAX_DRAWN 500

/* Coordinates are clamped to this, far outside any panel, so that rounding
 * to hundredths fits a long long whatever the data. */
#define COORD_MAX 1e7

/* ---- output buffer -------------------------------------------------------*/

/* The document so far. After a failed allocation `oom` is set and every
 * later write is a no-op, so callers check once at the end. */
typedef struct sbuf {
  char *p;
  size_t len, cap;
  int oom;
} sbuf;

/* Room for `extra` more bytes and a NUL; 0 once out of memory. */
static int reserve(sbuf *b, size_t extra) {
  if (b->oom) return 0;
  if (b->cap - b->len > extra) return 1;
  size_t cap = b->cap;
  while (cap - b->len <= extra) {
    if (cap > SIZE_MAX / 2) {
      b->oom = 1;
      return 0;
    }
    cap *= 2;
  }
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return 0;
  }
  b->p = p;
  b->cap = cap;
  return 1;
}

static void put(sbuf *b, const char *s, size_t n) {
  if (!reserve(b, n)) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void puts_(sbuf *b, const char *s) {
  put(b, s, strlen(s));
}

/* Formatted output. Only for integers and strings: those conversions do
 * not depend on the locale; numbers with a fraction go through put_coord
 * and put_label. */
static void putf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void putf(sbuf *b, const char *fmt, ...) {
  if (b->oom) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0) { /* cannot happen with our formats; treat as a failure */
    b->oom = 1;
    return;
  }
  if ((size_t)n >= b->cap - b->len) {
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

/* v with exactly two decimals ("-12.05", "0.00"), as %.2f would print it in
 * the C locale, from integer arithmetic. */
static void put_coord(sbuf *b, double v) {
  if (!(v > -COORD_MAX)) v = -COORD_MAX; /* also catches NaN */
  if (v > COORD_MAX) v = COORD_MAX;
  long long c = llround(v * 100.0);
  char tmp[32], *e = tmp + sizeof tmp, *q = e;
  unsigned long long u = c < 0 ? (unsigned long long)-c : (unsigned long long)c;
  *--q = (char)('0' + u % 10);
  u /= 10;
  *--q = (char)('0' + u % 10);
  u /= 10;
  *--q = '.';
  do {
    *--q = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (c < 0) *--q = '-';
  put(b, q, (size_t)(e - q));
}

/* What %.3g prints for a finite number, apart from the decimal point. */
static int numch(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e';
}

/* A tick label: v as %.3g prints it, with whatever the locale uses as
 * decimal point (possibly several bytes) replaced by '.'. */
static void put_label(sbuf *b, double v) {
  char tmp[64], out[64];
  snprintf(tmp, sizeof tmp, "%.3g", v);
  size_t n = 0;
  for (const char *s = tmp; *s && n < sizeof out - 1;) {
    if (numch(*s)) {
      out[n++] = *s++;
    } else {
      out[n++] = '.';
      while (*s && !numch(*s))
        s++;
    }
  }
  put(b, out, n);
}

/* The length of the valid UTF-8 sequence at s that XML 1.0 allows as a
 * character, or 0 (malformed, overlong, a surrogate, U+FFFE or U+FFFF). */
static size_t utf8_char(const unsigned char *s) {
  static const unsigned long least[5] = {0, 0, 0x80, 0x800, 0x10000};
  unsigned long cp;
  size_t n;
  if (s[0] >= 0xC2 && s[0] <= 0xDF)
    n = 2, cp = s[0] & 0x1Fu;
  else if (s[0] >= 0xE0 && s[0] <= 0xEF)
    n = 3, cp = s[0] & 0x0Fu;
  else if (s[0] >= 0xF0 && s[0] <= 0xF4)
    n = 4, cp = s[0] & 0x07u;
  else
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0; /* also stops at the NUL */
    cp = cp << 6 | (s[i] & 0x3Fu);
  }
  if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
      cp == 0xFFFE || cp == 0xFFFF)
    return 0;
  return n;
}

/* s as XML character data or attribute text. The five markup characters
 * become entities; bytes that would make the document ill-formed (control
 * characters, broken UTF-8) become '?' or, for line breaks and tabs, a
 * space: a title is one line. */
static void put_text(sbuf *b, const char *s) {
  const unsigned char *u = (const unsigned char *)(s ? s : "");
  while (*u) {
    unsigned char ch = *u;
    const char *ent = ch == '&'    ? "&amp;"
                      : ch == '<'  ? "&lt;"
                      : ch == '>'  ? "&gt;"
                      : ch == '"'  ? "&quot;"
                      : ch == '\'' ? "&apos;"
                                   : NULL;
    size_t n;
    if (ent) {
      puts_(b, ent);
      u++;
    } else if (ch == '\t' || ch == '\n' || ch == '\r') {
      put(b, " ", 1);
      u++;
    } else if (ch < 0x20) {
      put(b, "?", 1);
      u++;
    } else if (ch < 0x80) {
      put(b, (const char *)u, 1);
      u++;
    } else if ((n = utf8_char(u)) != 0) {
      put(b, (const char *)u, n);
      u += n;
    } else {
      put(b, "?", 1);
      u++;
    }
  }
}

/* ---- one panel -----------------------------------------------------------*/

/* What a panel draws from: the series, the feature, and the slot and value
 * domains mapped onto its plot area (panel coordinates). */
typedef struct panel {
  const gl_series *s;
  const double *center; /* this cluster's [T][d], or NULL */
  size_t T, d, f;
  int have_f;         /* f < d: otherwise there is nothing to read */
  double tlo, tspan;  /* slots tlo .. tlo + tspan span the width */
  double vmid, vhalf; /* values vmid - vhalf .. vmid + vhalf the height */
} panel;

static double px(const panel *p, double t) {
  return PAD_L + (t - p->tlo) / p->tspan * AREA_W;
}

/* The midpoint form keeps every intermediate finite even when the values
 * span most of the double range. */
static double py(const panel *p, double v) {
  return PAD_T + AREA_H * (0.5 - 0.5 * ((v - p->vmid) / p->vhalf));
}

static size_t member_len(const gl_series *s, size_t i) {
  size_t len = s->len ? s->len[i] : s->T;
  return len < s->T ? len : s->T;
}

/* Widens [*lo, *hi] to the finite values among v[0], v[stride], ... */
static void extend(double *lo, double *hi, const double *v, size_t n,
                   size_t stride) {
  for (size_t t = 0; t < n; t++) {
    double x = v[t * stride];
    if (!isfinite(x)) continue;
    if (x < *lo) *lo = x;
    if (x > *hi) *hi = x;
  }
}

/* One <polyline> per run of finite values of v[0], v[stride], ... (slots 0
 * .. n-1), so a non-finite value breaks the line. A run of one slot is
 * drawn as a short horizontal dash, as a one-point polyline shows nothing. */
static void put_lines(sbuf *b, const panel *p, const double *v, size_t n,
                      size_t stride) {
  size_t t = 0;
  while (t < n) {
    if (!isfinite(v[t * stride])) {
      t++;
      continue;
    }
    size_t end = t + 1;
    while (end < n && isfinite(v[end * stride]))
      end++;
    puts_(b, "<polyline points=\"");
    if (end - t == 1) {
      double x = px(p, (double)t), y = py(p, v[t * stride]);
      put_coord(b, x - 3);
      put(b, ",", 1);
      put_coord(b, y);
      put(b, " ", 1);
      put_coord(b, x + 3);
      put(b, ",", 1);
      put_coord(b, y);
    } else {
      for (size_t u = t; u < end; u++) {
        if (u > t) put(b, " ", 1);
        put_coord(b, px(p, (double)u));
        put(b, ",", 1);
        put_coord(b, py(p, v[u * stride]));
      }
    }
    puts_(b, "\"/>\n");
    t = end;
  }
}

/* Up to five round values inside [lo, hi]: multiples of the smallest step
 * of 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten that leaves at
 * most five. Successive steps differ by at most 1.5x, so at least three
 * remain. Powers of ten come from repeated multiplication, not pow(), so
 * that no libm difference can change a label. Returns the count. */
static int value_ticks(double lo, double hi, double half, double *out) {
  static const double mult[] = {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8};
  double x = half / 5, mag = 1; /* x <= range / 10: ten or more ticks */
  while (mag > x && mag > 0)
    mag /= 10;
  while (mag * 10 <= x)
    mag *= 10;
  if (!(mag > 0)) mag = DBL_MIN;
  for (int e = 0; e < 4; e++, mag *= 10) {
    for (size_t j = 0; j < sizeof mult / sizeof *mult; j++) {
      double st = mult[j] * mag, klo = ceil(lo / st), khi = floor(hi / st);
      if (!(khi - klo <= 4)) continue;
      int n = 0;
      /* n < 5 also ends the loop when k is too large to step by one; the
       * + 0.0 turns ceil's -0 into 0, which %.3g would print as "-0" */
      for (double k = klo; k <= khi && n < 5; k++)
        out[n++] = k * st + 0.0;
      if (n) return n;
    }
  }
  out[0] = 0.5 * lo + 0.5 * hi;
  return 1;
}

/* The x axis' slot step: 1, 2 or 5 times a power of ten, the smallest that
 * gives at most six ticks over slots 0 .. last. */
static size_t slot_step(size_t last) {
  size_t mag = 1;
  for (;;) {
    static const size_t mult[] = {1, 2, 5};
    for (size_t j = 0; j < 3; j++)
      if (last / (mult[j] * mag) < 6) return mult[j] * mag;
    if (mag > SIZE_MAX / 100) return last ? last : 1;
    mag *= 10;
  }
}

/* Panel c (0-based) at (ox, oy): the members idx[0], idx[stride], ... of
 * the m in this cluster are drawn. */
static void put_panel(sbuf *b, panel *p, int c, int ox, int oy,
                      const size_t *idx, size_t m) {
  size_t stride = m > MAX_DRAWN ? (m + MAX_DRAWN - 1) / MAX_DRAWN : 1;
  size_t drawn = (m + stride - 1) / stride;

  /* The value domain: what this panel draws, padded by 5% each side. */
  double lo = INFINITY, hi = -INFINITY;
  if (p->have_f) {
    for (size_t j = 0; j < m; j += stride) {
      size_t i = idx[j];
      extend(&lo, &hi, &p->s->x[i * p->T * p->d + p->f], member_len(p->s, i),
             p->d);
    }
    if (p->center) extend(&lo, &hi, p->center + p->f, p->T, p->d);
  }
  if (!(lo <= hi)) lo = hi = 0; /* nothing finite to draw */
  p->vmid = 0.5 * lo + 0.5 * hi;
  p->vhalf = 0.5 * hi - 0.5 * lo;
  if (p->vhalf > 0) {
    p->vhalf *= 1.1;
  } else {
    p->vhalf = 1;
    /* a value so large that +-1 is lost in rounding gets +-5% instead */
    if (p->vmid + 1 == p->vmid) p->vhalf = fabs(p->vmid) * 0.05;
  }
  if (!isfinite(p->vhalf)) p->vhalf = DBL_MAX;
  double vlo = p->vmid - p->vhalf, vhi = p->vmid + p->vhalf;
  if (vlo < -DBL_MAX) vlo = -DBL_MAX;
  if (vhi > DBL_MAX) vhi = DBL_MAX;

  /* The slot domain: every slot, or a single slot in the middle. */
  size_t last = p->T > 1 ? p->T - 1 : 0;
  p->tlo = last ? 0 : -1;
  p->tspan = last ? (double)last : 2;

  putf(b, "<g transform=\"translate(%d,%d)\">\n", ox, oy);
  putf(b,
       "<rect x=\"0.5\" y=\"0.5\" width=\"%d\" height=\"%d\" fill=\"#fff\" "
       "stroke=\"#e0e0e0\"/>\n",
       PANEL_W - 1, PANEL_H - 1);
  putf(b,
       "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"13\" "
       "fill=\"#222\">Cluster %d (%zu series",
       PANEL_W / 2, c, m);
  if (drawn < m) putf(b, ", %zu drawn", drawn);
  puts_(b, ")</text>\n");

  /* Grid lines and labels at the value ticks, then the slot ticks. */
  double ticks[5];
  int nt = value_ticks(vlo, vhi, p->vhalf, ticks);
  puts_(b, "<g stroke=\"#eeeeee\" stroke-width=\"1\">\n");
  for (int j = 0; j < nt; j++) {
    double y = py(p, ticks[j]);
    putf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"", PAD_L, PAD_L + AREA_W);
    put_coord(b, y);
    puts_(b, "\" y2=\"");
    put_coord(b, y);
    puts_(b, "\"/>\n");
  }
  puts_(b, "</g>\n<g font-size=\"10\" fill=\"#555\" text-anchor=\"end\">\n");
  for (int j = 0; j < nt; j++) {
    putf(b, "<text x=\"%d\" y=\"", PAD_L - 6);
    put_coord(b, py(p, ticks[j]) + 3.5);
    puts_(b, "\">");
    put_label(b, ticks[j]);
    puts_(b, "</text>\n");
  }
  puts_(b, "</g>\n<g font-size=\"10\" fill=\"#555\" text-anchor=\"middle\">\n");
  size_t step = slot_step(last);
  for (size_t t = 0; t <= last; t += step) {
    puts_(b, "<text x=\"");
    put_coord(b, px(p, (double)t));
    putf(b, "\" y=\"%d\">%zu</text>\n", PAD_T + AREA_H + 15, t);
    if (last - t < step) break; /* t += step could wrap */
  }
  putf(b, "<text x=\"%d\" y=\"%d\">slot</text>\n</g>\n", PAD_L + AREA_W / 2,
       PAD_T + AREA_H + 30);
  puts_(b, "<g stroke=\"#aaa\" stroke-width=\"1\" fill=\"none\">\n");
  /* a path, not a polygon: a polygon would close with a diagonal */
  putf(b, "<path d=\"M%d,%dV%dH%d\"/>\n", PAD_L, PAD_T, PAD_T + AREA_H,
       PAD_L + AREA_W);
  for (size_t t = 0; t <= last; t += step) {
    puts_(b, "<line x1=\"");
    put_coord(b, px(p, (double)t));
    puts_(b, "\" x2=\"");
    put_coord(b, px(p, (double)t));
    putf(b, "\" y1=\"%d\" y2=\"%d\"/>\n", PAD_T + AREA_H, PAD_T + AREA_H + 4);
    if (last - t < step) break;
  }
  puts_(b, "</g>\n");

  /* The members under the center. */
  puts_(b, "<g fill=\"none\" stroke=\"#999\" stroke-opacity=\"0.3\" "
           "stroke-width=\"1\" stroke-linejoin=\"round\">\n");
  if (p->have_f)
    for (size_t j = 0; j < m; j += stride) {
      size_t i = idx[j];
      put_lines(b, p, &p->s->x[i * p->T * p->d + p->f], member_len(p->s, i),
                p->d);
    }
  puts_(b, "</g>\n<g fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" "
           "stroke-linejoin=\"round\" stroke-linecap=\"round\">\n");
  if (p->have_f && p->center) put_lines(b, p, p->center + p->f, p->T, p->d);
  puts_(b, "</g>\n</g>\n");
}

/* ---- the document --------------------------------------------------------*/

char *gl_svg_clusters(const gl_series *s, const int32_t *labels,
                      const double *centers, int k, size_t feature,
                      const char *title) {
  static const gl_series none = {0, 0, 0, NULL, NULL};
  if (!s) s = &none;
  size_t n = s->x && labels ? s->n : 0; /* no data, nothing to group */
  size_t nk = k > 0 ? (size_t)k : 0;

  /* The members of each cluster in index order: a counting sort by label.
   * Series with a label outside 0..k-1 belong to no panel. */
  size_t *start = calloc(nk + 1, sizeof *start);
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  sbuf b = {malloc(1 << 16), 0, 1 << 16, 0};
  if (!start || !idx || !b.p) {
    free(start);
    free(idx);
    free(b.p);
    return NULL;
  }
  b.p[0] = '\0';
  for (size_t i = 0; i < n; i++)
    if (labels[i] >= 0 && (size_t)labels[i] < nk) start[labels[i] + 1]++;
  for (size_t c = 0; c < nk; c++)
    start[c + 1] += start[c];
  {
    size_t *fill = malloc((nk ? nk : 1) * sizeof *fill);
    if (!fill) {
      free(start);
      free(idx);
      free(b.p);
      return NULL;
    }
    memcpy(fill, start, nk * sizeof *fill);
    for (size_t i = 0; i < n; i++)
      if (labels[i] >= 0 && (size_t)labels[i] < nk) idx[fill[labels[i]]++] = i;
    free(fill);
  }

  int cols = k < 1 ? 1 : k < MAX_COLS ? k : MAX_COLS;
  int rows = k < 1 ? 0 : (k + cols - 1) / cols;
  long width = 2L * MARGIN + (long)cols * PANEL_W + (long)(cols - 1) * GAP;
  long height = HEAD + MARGIN + (long)rows * PANEL_H +
                (rows > 0 ? (long)(rows - 1) * GAP : 0);

  puts_(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
  putf(&b,
       "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
       "width=\"%ld\" height=\"%ld\" viewBox=\"0 0 %ld %ld\" "
       "font-family=\"sans-serif\">\n",
       width, height, width, height);
  puts_(&b, "<title>");
  put_text(&b, title);
  puts_(&b, "</title>\n");
  putf(&b, "<rect width=\"%ld\" height=\"%ld\" fill=\"#fafafa\"/>\n", width,
       height);
  putf(&b,
       "<text x=\"%ld\" y=\"%d\" text-anchor=\"middle\" font-size=\"18\" "
       "fill=\"#111\">",
       width / 2, MARGIN + 18);
  put_text(&b, title);
  puts_(&b, "</text>\n");

  panel p = {.s = s, .T = s->T, .d = s->d, .f = feature};
  p.have_f = feature < s->d;
  for (int c = 0; c < k; c++) {
    p.center = centers ? centers + (size_t)c * s->T * s->d : NULL;
    int ox = MARGIN + c % cols * (PANEL_W + GAP);
    int oy = HEAD + c / cols * (PANEL_H + GAP);
    put_panel(&b, &p, c, ox, oy, idx + start[c], start[c + 1] - start[c]);
  }
  puts_(&b, "</svg>\n");

  free(start);
  free(idx);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
