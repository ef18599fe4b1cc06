/*
 * csv.c - CSV files to and from tables. Reading loads the whole file with
 * one fread, splits it into fields in place (RFC 4180 quoting, NUL
 * terminators written over separators) and then converts column by
 * column, inferring each column's type unless the catalog's `columns:`
 * gives it. Writing formats rows into a large buffer and commits the file
 * atomically (temporary name, fsync, rename).
 */
#define _POSIX_C_SOURCE 200809L

#include "csv.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "fs.h"
#include "map.h"
#include "mem.h"
#include "pool.h"
#include "tree.h"
#include "value.h"

/* ---- reading: splitting into fields ---------------------------------------*/

/* A buffer to parse holds this many bytes after its text, all NUL, so that
 * scans may read 32 bytes at a time up to its end and the number parsers
 * up to 43 bytes from any field start. */
#define PAD 64

typedef struct parser {
  const char *path;
  const char *begin; /* the buffer */
  char *p, *end;     /* unread part of the buffer; *end == '\0' */
  size_t line;   /* current physical line, 1-based */
  char sep;
  unsigned char stop[256]; /* 1 for sep, CR, LF and NUL */
  hp_error *err;
} parser;

/* How a field ended. */
enum { END_FIELD, END_RECORD, END_FILE };

/* Consumes a line ending at p (LF, CRLF or a lone CR). */
static void eat_newline(parser *ps) {
  if (*ps->p == '\r') ps->p++;
  if (ps->p < ps->end && *ps->p == '\n') ps->p++;
  ps->line++;
}

/* The first separator, CR, LF or NUL at or after p; a NUL before the end
 * of the buffer is data, not an end. Sixteen bytes at a time with SSE2. */
static char *scan_stop(const parser *ps, char *p) {
  for (;;) {
#ifdef __SSE2__
    const __m128i vs = _mm_set1_epi8(ps->sep), vn = _mm_set1_epi8('\n'),
                  vr = _mm_set1_epi8('\r'), vz = _mm_setzero_si128();
    for (;;) {
      __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
      __m128i m = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(x, vs), _mm_cmpeq_epi8(x, vn)),
          _mm_or_si128(_mm_cmpeq_epi8(x, vr), _mm_cmpeq_epi8(x, vz)));
      unsigned bits = (unsigned)_mm_movemask_epi8(m);
      if (bits) {
        p += __builtin_ctz(bits);
        break;
      }
      p += 16;
    }
#else
    while (!ps->stop[(unsigned char)*p])
      p++;
#endif
    if (*p != '\0' || p >= ps->end) return p;
    p++;
  }
}

/* Ends a field at p - a separator, a line end or the end of the text -
 * with a NUL there, ps->p past the separator or line end; what ended it. */
static int end_field(parser *ps, char *p) {
  if (p == ps->end) {
    ps->p = p;
    return END_FILE;
  }
  if (*p == ps->sep) {
    *p = '\0';
    ps->p = p + 1;
    return END_FIELD;
  }
  ps->p = p;
  eat_newline(ps);
  *p = '\0';
  return END_RECORD;
}

/* Reads one field starting at ps->p; on return *field is NUL-terminated in
 * place and *how says what ended it. HP_EIO for an unterminated quote. */
static int next_field(parser *ps, char **field, int *how) {
  char *p = ps->p;
  if (*p != '"') {
    *field = p;
    *how = end_field(ps, scan_stop(ps, p));
    return HP_OK;
  }
  /* quoted: unescape in place; dst trails src */
  size_t open_line = ps->line;
  char *dst = p, *src = p + 1;
  for (;;) {
    char *q = memchr(src, '"', (size_t)(ps->end - src));
    if (!q)
      return hp__fail(ps->err, HP_EIO, "%s:%zu: unterminated quote", ps->path,
                      open_line);
    for (char *c = src; c < q; c++)
      if (*c == '\n' || (*c == '\r' && c[1] != '\n')) ps->line++;
    size_t n = (size_t)(q - src);
    memmove(dst, src, n);
    dst += n;
    if (q + 1 < ps->end && q[1] == '"') {
      *dst++ = '"';
      src = q + 2;
      continue;
    }
    src = q + 1;
    break;
  }
  /* text after the closing quote, up to the separator, is kept as is */
  while (!ps->stop[(unsigned char)*src] || (*src == '\0' && src < ps->end))
    *dst++ = *src++;
  *how = end_field(ps, src); /* dst trails src: the field ends at dst */
  *dst = '\0';
  *field = p;
  return HP_OK;
}

/* ---- reading: numbers -------------------------------------------------- */

static const char *skip_ws(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

/* 1 if s is only blanks from here. */
static int at_end(const char *s) {
  return *skip_ws(s) == '\0';
}

/* How many of the 8 bytes at s are digits before the first that is not
 * (0 to 8), with their value in *v. The field buffers are padded (PAD), so
 * reading 8 bytes is safe anywhere in a field. The digits are moved to the
 * top of the word behind leading '0's, then combined two per byte pair and
 * pairs into fours by multiplies (little-endian only). No branches: the
 * digit counts of a column's fields vary from row to row. */
static inline unsigned lead_digits(const char *s, uint64_t *v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t zeros = 0x3030303030303030ULL, high = 0xF0F0F0F0F0F0F0F0ULL;
  uint64_t x;
  memcpy(&x, s, 8);
  /* a byte is a digit if it is 0x3N and 0x3N + 6 is too; a carry out of a
   * byte (>= 0xFA, not a digit) only reaches later bytes */
  uint64_t bad = ((x & high) ^ zeros) | (((x + 0x0606060606060606ULL) & high) ^ zeros);
  /* bad == 0: 8 digits (a bit 63 sentinel gives 7, plus one) */
  unsigned n = ((unsigned)__builtin_ctzll(bad | 1ULL << 63) >> 3) + (bad == 0);
  unsigned half = 32 - 4 * n; /* two shifts: 64 - 8n may be 64 */
  x = ((x << half) << half) | (zeros & ((~0ULL >> 4 * n) >> 4 * n));
  x -= zeros;
  x = x * 10 + (x >> 8); /* even bytes: d0d1, d2d3, d4d5, d6d7 */
  uint64_t a = x & 0x000000FF000000FFULL, b = (x >> 16) & 0x000000FF000000FFULL;
  *v = (a * (100 + (1000000ULL << 32)) + b * (1 + (10000ULL << 32))) >> 32;
  return n;
#else
  (void)s;
  *v = 0;
  return 0;
#endif
}

static const uint64_t pow10_u64[] = {1,      10,      100,      1000,     10000,
                                     100000, 1000000, 10000000, 100000000};

/* An integer of 1 to 15 digits at s, optionally signed: its value in *out
 * and the byte after it, or NULL (then parse_int decides). */
static inline const char *int_fast(const char *s, int64_t *out) {
  int neg = *s == '-';
  s += neg | (*s == '+');
  uint64_t v, v2;
  unsigned n = lead_digits(s, &v), n2 = 0;
  if (n == 8) {
    n2 = lead_digits(s + 8, &v2);
    if (n2 == 8) return NULL;
    v = v * pow10_u64[n2] + v2;
  }
  if (n == 0) return NULL;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return s + n + n2;
}

static int parse_int(const char *s, int64_t *out) {
  s = skip_ws(s);
  const char *e = int_fast(s, out);
  if (e && at_end(e)) return 1;
  int neg = 0;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  if (*s < '0' || *s > '9') return 0;
  uint64_t v = 0;
  /* v * 10 + d stays <= lim; the divisions by 10 are of constants (no
   * division per digit) */
  const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  const uint64_t lim10 = neg ? ((uint64_t)INT64_MAX + 1) / 10
                             : (uint64_t)INT64_MAX / 10;
  const unsigned limd = (unsigned)(lim - lim10 * 10);
  while (*s >= '0' && *s <= '9') {
    unsigned d = (unsigned)(*s++ - '0');
    if (v > lim10 || (v == lim10 && d > limd)) return 0;
    v = v * 10 + d;
  }
  if (!at_end(s)) return 0;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 1;
}

static int ieq(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != b[i]) return 0;
  }
  return 1;
}

static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* m * 10^q (0 < m < 2^64, |q| <= 27) correctly rounded into *out, for the
 * 16 to 19 digit mantissas that shortest round-trip printing writes
 * (Clinger's path needs m <= 2^53). The Eisel-Lemire method (Lemire,
 * "Number parsing at a gigabyte per second", 2021): m, shifted to fill 64
 * bits, times a 128-bit approximation of 5^q gives the top bits of the
 * exact product; for |q| <= 27 they always decide the rounding (Mushtak &
 * Lemire, "Fast number parsing without fallback", 2023). 0 outside that
 * range or without 128-bit integers: the caller uses strtod. */
#ifdef __SIZEOF_INT128__
#define EL_Q 27
static uint64_t el_pow5[2 * EL_Q + 1][2]; /* [q + EL_Q]: high, low */

/* 5^q for q >= 0 (exact: 5^27 < 2^63) shifted to fill 128 bits; for q < 0
 * floor(2^(z + 127) / 5^-q) + 1, with 2^(z-1) < 5^-q < 2^z. */
static void el_init(void) {
  for (int q = -EL_Q; q <= EL_Q; q++) {
    uint64_t p = 1;
    for (int i = 0; i < (q < 0 ? -q : q); i++)
      p *= 5;
    unsigned __int128 v;
    if (q >= 0) {
      v = (unsigned __int128)(p << __builtin_clzll(p)) << 64;
    } else { /* long division of 2^(z-1) * 2^128, limb by limb */
      int z = 64 - __builtin_clzll(p);
      uint64_t limb[3] = {1ULL << (z - 1), 0, 0}, quo[3];
      unsigned __int128 r = 0;
      for (int i = 0; i < 3; i++) {
        unsigned __int128 cur = r << 64 | limb[i];
        quo[i] = (uint64_t)(cur / p);
        r = cur % p;
      }
      v = ((unsigned __int128)quo[1] << 64 | quo[2]) + 1;
    }
    el_pow5[q + EL_Q][0] = (uint64_t)(v >> 64);
    el_pow5[q + EL_Q][1] = (uint64_t)v;
  }
}

static pthread_once_t el_once = PTHREAD_ONCE_INIT;

/* Builds the table; called before any parse (parse_buffer). */
static void el_ready(void) {
  pthread_once(&el_once, el_init);
}

static inline int long_fast(uint64_t m, int q, double *out) {
  if (m == 0 || q < -EL_Q || q > EL_Q) return 0;
  int lz = __builtin_clzll(m);
  uint64_t w = m << lz;
  const uint64_t *t = el_pow5[q + EL_Q];
  unsigned __int128 prod = (unsigned __int128)w * t[0];
  uint64_t hi = (uint64_t)(prod >> 64), lo = (uint64_t)prod;
  if ((hi & 0x1FF) == 0x1FF) { /* the low 9 bits may carry: refine */
    uint64_t add = (uint64_t)(((unsigned __int128)w * t[1]) >> 64);
    lo += add;
    hi += lo < add;
  }
  int upper = (int)(hi >> 63), shift = upper + 9;
  uint64_t mant = hi >> shift; /* 54 bits: the double's 53 and one more */
  int pow2 = ((217706 * q) >> 16) + 63 + upper - lz + 1023;
  if (pow2 <= 0) return 0; /* subnormal: not reached for |q| <= 27 */
  /* exactly halfway between two doubles (only possible where 5^q is
   * exact): round to even instead of up */
  if (lo <= 1 && q >= -4 && q <= 23 && (mant & 3) == 1 &&
      mant << shift == hi)
    mant &= ~(uint64_t)1;
  mant += mant & 1;
  mant >>= 1;
  if (mant >= 2ULL << 52) { /* rounding carried into a new bit */
    mant = 1ULL << 52;
    pow2++;
  }
  if (pow2 >= 0x7FF) return 0;
  uint64_t bits = (mant & ~(1ULL << 52)) | (uint64_t)pow2 << 52;
  memcpy(out, &bits, 8);
  return 1;
}
#else
static void el_ready(void) {}

static int long_fast(uint64_t m, int q, double *out) {
  (void)m, (void)q, (void)out;
  return 0;
}
#endif

#ifdef __SSE2__
/* The 16 digit values (0-9) of t as one integer, the first most
 * significant: pairs, fours and eights by multiply-adds. */
static inline uint64_t sse_digits16(__m128i t) {
  const __m128i z = _mm_setzero_si128();
  const __m128i w10 = _mm_set_epi16(1, 10, 1, 10, 1, 10, 1, 10);
  const __m128i w100 = _mm_set_epi16(1, 100, 1, 100, 1, 100, 1, 100);
  const __m128i w1e4 = _mm_set_epi16(1, 10000, 1, 10000, 1, 10000, 1, 10000);
  __m128i a = _mm_madd_epi16(_mm_unpacklo_epi8(t, z), w10);
  __m128i b = _mm_madd_epi16(_mm_unpackhi_epi8(t, z), w10);
  __m128i c = _mm_madd_epi16(_mm_packs_epi32(a, b), w100);
  __m128i d = _mm_madd_epi16(_mm_packs_epi32(c, c), w1e4);
  uint64_t hi = (uint32_t)_mm_cvtsi128_si32(d),
           lo = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(d, 4));
  return hi * 100000000ULL + lo;
}

/* 32 zero bytes, 32 0xFF, 32 zero: 16 bytes loaded at offset k are a mask
 * of the byte positions i with 32 <= i + k < 64. */
static const unsigned char band[96] = {
    [32] = 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

static inline __m128i band_at(unsigned k) {
  return _mm_loadu_si128((const __m128i *)(const void *)(band + k));
}

/* A decimal at s of the form [-+]digits[.digits][e[-+]digits] within 31
 * bytes (sign and exponent aside), 20 digits at most making an integer
 * below 2^64, with an exponent of 1 to 3 digits and, the point moved
 * behind the digits, within +-27; the 32 bytes before s readable (s >=
 * lo + 32). Its value, correctly rounded, in *out and the byte after it;
 * NULL otherwise (then parse_float decides). The digits are found and
 * converted 16 at a time, right-aligned by loading the 32 bytes that end
 * with the last digit, the point closed up by a one-byte shift: no loop
 * and almost no branch (digit counts vary from row to row, signs are
 * often random). */
static inline const char *decimal_fast(const char *s, const char *lo,
                                       double *out) {
  uint64_t neg = *s == '-';
  s += neg | (*s == '+');
  if (s - lo < 32) return NULL;
  const __m128i c0 = _mm_set1_epi8('0'), c9 = _mm_set1_epi8(9);
  __m128i a = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)s), c0);
  __m128i b = _mm_sub_epi8(
      _mm_loadu_si128((const __m128i *)(const void *)(s + 16)), c0);
  /* bit i: byte i is a digit */
  uint64_t dig =
      (uint64_t)(unsigned)_mm_movemask_epi8(
          _mm_cmpeq_epi8(_mm_max_epu8(a, c9), c9)) |
      (uint64_t)(unsigned)_mm_movemask_epi8(
          _mm_cmpeq_epi8(_mm_max_epu8(b, c9), c9)) << 16;
  unsigned ni = (unsigned)__builtin_ctzll(~dig); /* 0 to 32 */
  unsigned dot = ni < 31 && s[ni] == '.';
  unsigned nf = dot ? (unsigned)__builtin_ctzll(~(dig >> (ni + 1))) : 0;
  unsigned len = ni + dot + nf, nd = ni + nf;
  if (nd == 0 || nd > 20 || len >= 32) return NULL;
  /* the 32 bytes ending with the last digit */
  const char *last = s + len - 1;
  __m128i r0 = _mm_sub_epi8(
      _mm_loadu_si128((const __m128i *)(const void *)(last - 31)), c0);
  __m128i r1 = _mm_sub_epi8(
      _mm_loadu_si128((const __m128i *)(const void *)(last - 15)), c0);
  if (dot) { /* at 31 - nf: the bytes up to it take the byte before them */
    unsigned k = 32 + nf;
    __m128i m0 = band_at(k), m1 = band_at(k + 16);
    __m128i s0 = _mm_slli_si128(r0, 1),
            s1 = _mm_or_si128(_mm_slli_si128(r1, 1), _mm_srli_si128(r0, 15));
    r0 = _mm_or_si128(_mm_and_si128(m0, s0), _mm_andnot_si128(m0, r0));
    r1 = _mm_or_si128(_mm_and_si128(m1, s1), _mm_andnot_si128(m1, r1));
  }
  /* the number's nd digits are the last nd bytes: clear the others */
  uint64_t h0 = sse_digits16(_mm_and_si128(r0, band_at(nd))),
           h1 = sse_digits16(_mm_and_si128(r1, band_at(nd + 16))), m;
  if (__builtin_mul_overflow(h0, 10000000000000000ULL, &m) ||
      __builtin_add_overflow(m, h1, &m))
    return NULL;
  const char *end = s + len;
  int q = -(int)nf;
  if ((*end | 0x20) == 'e') {
    int eneg = end[1] == '-';
    end += 1 + (eneg | (end[1] == '+'));
    uint64_t x;
    unsigned ne = lead_digits(end, &x);
    if (ne == 0 || ne > 3) return NULL;
    q += eneg ? -(int)x : (int)x;
    end += ne;
  }
  double d = 0;
  if (m && !long_fast(m, q, &d)) return NULL;
  uint64_t bits;
  memcpy(&bits, &d, 8);
  bits ^= neg << 63;
  memcpy(out, &bits, 8);
  return end;
}
#else
static inline const char *decimal_fast(const char *s, const char *lo,
                                       double *out) {
  (void)s, (void)lo, (void)out;
  return NULL;
}
#endif

/* A decimal number, nan, inf or infinity (any case, optional sign),
 * surrounded by optional blanks. Exact: a fast path for short mantissas
 * and small exponents (Clinger), strtod otherwise. 0 if not a number. */
static int parse_float(const char *s, double *out) {
  s = skip_ws(s);
  const char *start = s;
  int neg = 0;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  if ((*s | 0x20) == 'n' || (*s | 0x20) == 'i') {
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
      n--;
    if (n == 3 && ieq(s, "nan", 3))
      *out = neg ? -NAN : NAN;
    else if ((n == 3 && ieq(s, "inf", 3)) || (n == 8 && ieq(s, "infinity", 8)))
      *out = neg ? -INFINITY : INFINITY;
    else
      return 0;
    return 1;
  }
  uint64_t m = 0;
  int nsig = 0, exp10 = 0, any = 0;
  while (*s >= '0' && *s <= '9') {
    any = 1;
    if (nsig || *s != '0') {
      if (nsig < 19)
        m = m * 10 + (uint64_t)(*s - '0');
      else
        exp10++;
      nsig++;
    }
    s++;
  }
  if (*s == '.') {
    s++;
    uint64_t v8;
    while (*s >= '0' && *s <= '9') {
      any = 1;
      unsigned n;
      if ((nsig || *s != '0') && (n = lead_digits(s, &v8)) != 0 &&
          nsig + (int)n <= 19) {
        m = m * pow10_u64[n] + v8;
        exp10 -= (int)n;
        nsig += (int)n;
        s += n;
        continue;
      }
      if (nsig || *s != '0') {
        if (nsig < 19) {
          m = m * 10 + (uint64_t)(*s - '0');
          exp10--;
        }
        nsig++;
      } else {
        exp10--;
      }
      s++;
    }
  }
  if (!any) return 0;
  if (*s == 'e' || *s == 'E') {
    s++;
    int eneg = 0, e = 0;
    if (*s == '-' || *s == '+') eneg = *s++ == '-';
    if (*s < '0' || *s > '9') return 0;
    while (*s >= '0' && *s <= '9') {
      if (e < 100000) e = e * 10 + (*s - '0');
      s++;
    }
    exp10 += eneg ? -e : e;
  }
  if (!at_end(s)) return 0;
  if (nsig <= 19 && m <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
    double d = (double)m;
    d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
    *out = neg ? -d : d;
    return 1;
  }
  if (nsig <= 19 && long_fast(m, exp10, out)) {
    if (neg) *out = -*out;
    return 1;
  }
  *out = strtod(start, NULL);
  return 1;
}

static int parse_bool(const char *s, uint8_t *out) {
  s = skip_ws(s);
  if (ieq(s, "true", 4) && at_end(s + 4)) {
    *out = 1;
    return 1;
  }
  if (ieq(s, "false", 5) && at_end(s + 5)) {
    *out = 0;
    return 1;
  }
  return 0;
}

/* ---- reading: columns ---------------------------------------------------- */

typedef struct grid {
  char **f;      /* nrows x ncols fields, row-major */
  size_t *lines; /* line of each row */
  size_t nrows, ncols;
  size_t cap, capl; /* room in f (fields) and lines (rows) */
} grid;

static char *field(const grid *g, size_t row, size_t col) {
  return g->f[row * g->ncols + col];
}

/* *p (room for *cap elements of esz bytes) grown by doubling, from
 * `first`, to hold `need`; -1 out of memory (*p unchanged). The reader
 * reports running out of memory with the file's name rather than abort. */
static int grow_room(void **p, size_t *cap, size_t need, size_t esz,
                     size_t first) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : first;
  while (c < need)
    c *= 2;
  void *q = realloc(*p, c * esz);
  if (!q) return -1;
  *p = q;
  *cap = c;
  return 0;
}

#define DICT_MAX 65536 /* see dict_feed */

/* Marks row r of c (n rows) null, making its mask on first need; -1 if
 * out of memory. An empty field is a null, as pandas reads it. */
static int mark_null(hp_column *c, size_t n, size_t r) {
  if (!c->valid) {
    if (!(c->valid = malloc(n))) return -1;
    memset(c->valid, 1, n);
  }
  c->valid[r] = 0;
  return 0;
}

/* Builds a string column from the fields of column col: plain strings
 * (the dictionary was refused); an empty field is a null. */
static int make_strings(const grid *g, size_t col, hp_column *c) {
  size_t total = 0;
  for (size_t r = 0; r < g->nrows; r++)
    total += strlen(field(g, r, col)) + 1;
  c->type = HP_STRING;
  c->offs = malloc((g->nrows + 1) * sizeof *c->offs);
  c->chars = malloc(total ? total : 1);
  if (!c->offs || !c->chars) return HP_ENOMEM;
  size_t at = 0;
  for (size_t r = 0; r < g->nrows; r++) {
    const char *s = field(g, r, col);
    size_t n = strlen(s) + 1;
    if (n == 1 && mark_null(c, g->nrows, r) < 0) return HP_ENOMEM;
    c->offs[r] = (int64_t)at;
    memcpy(c->chars + at, s, n);
    at += n;
  }
  c->offs[g->nrows] = (int64_t)at;
  return HP_OK;
}

/* A column being converted: its current type (for an inferred column the
 * narrowest that fits the rows so far; HP_STRING once none does). */
typedef struct conv {
  hp_dtype t;
  int given;      /* from columns: (never widened) */
  int seen;       /* a non-empty field was read */
  int nomem;      /* the mask could not be allocated */
  void *data;
  uint8_t *valid; /* NULL until a null is read */
  size_t n;       /* rows data and valid have room for */
  /* a string column's dictionary, built as blocks are read: its first
   * `dict_rows` rows are in it; no_dict once it has too many values */
  hp_strset set;
  int32_t *codes;
  size_t dict_rows, codes_cap;
  int32_t empty; /* code of "" (null), or -1 */
  int no_dict;
  /* codes of values up to 7 bytes by their bytes: a cache in front of
   * `set` (entries hold code + 1; 0 is empty) */
  uint64_t *short_key;
  int32_t *short_code;
  size_t nshort;
  /* a timestamp column: the date part (10 bytes) of the last
   * "YYYY-MM-DD HH:MM:SS" field and its midnight in ns */
  char day[10];
  int64_t day_ns;
  int have_day;
} conv;

/* Rows [r0, r1) of the column are null. */
static void set_null(conv *cv, size_t r0, size_t r1) {
  if (!cv->valid) {
    cv->valid = malloc(cv->n ? cv->n : 1);
    if (!cv->valid) {
      cv->nomem = 1;
      return;
    }
    memset(cv->valid, 1, cv->n);
  }
  memset(cv->valid + r0, 0, r1 - r0);
}

/* Room for n rows in the column's data and mask; 0, or -1 out of memory. */
static int conv_room(conv *cv, size_t n) {
  if (n <= cv->n) return 0;
  size_t cap = cv->n ? cv->n : 4096;
  while (cap < n)
    cap *= 2;
  if (cv->t != HP_STRING) {
    size_t esz = cv->t == HP_BOOL && cv->given ? 1 : 8;
    void *d = realloc(cv->data, cap * esz);
    if (!d) return -1;
    cv->data = d;
  }
  if (cv->valid) {
    uint8_t *v = realloc(cv->valid, cap);
    if (!v) return -1;
    memset(v + cv->n, 1, cap - cv->n);
    cv->valid = v;
  }
  cv->n = cap;
  return 0;
}

#define SHORT_SLOTS 1024

/* Distinct values a string column may have to be read as a dictionary:
 * at most a quarter of the rows and at most DICT_MAX. Adds the rows from
 * cv->dict_rows up to r1 of string column col to its dictionary, in
 * order of first appearance, while they are in cache; past DICT_MAX
 * values the column will be plain strings. -1 out of memory. */
static int dict_feed(const grid *g, size_t col, conv *cv, size_t r1) {
  if (cv->no_dict) return 0;
  if (grow_room((void **)&cv->codes, &cv->codes_cap, r1, sizeof *cv->codes,
                4096))
    return -1;
  if (!cv->short_key) {
    cv->short_key = calloc(SHORT_SLOTS, sizeof *cv->short_key);
    cv->short_code = calloc(SHORT_SLOTS, sizeof *cv->short_code);
    if (!cv->short_key || !cv->short_code) return -1;
  }
  for (size_t r = cv->dict_rows; r < r1; r++) {
    const char *s = field(g, r, col);
    /* up to 7 bytes and their length in one word (the buffer is padded:
     * 8 bytes can be read anywhere in it) */
    uint64_t w = 0, key = 0;
    size_t n, slot = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&w, s, 8);
    uint64_t zero = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
    n = zero ? (size_t)__builtin_ctzll(zero) / 8 : 8;
#else
    n = 8;
#endif
    if (n < 8) {
      key = (w & ((1ULL << (8 * n)) - 1)) | ((uint64_t)(n + 1) << 56);
      slot = (size_t)hp__mix64(key) & (SHORT_SLOTS - 1);
      while (cv->short_code[slot] && cv->short_key[slot] != key)
        slot = (slot + 1) & (SHORT_SLOTS - 1);
      if (cv->short_code[slot]) {
        cv->codes[r] = cv->short_code[slot] - 1;
        continue;
      }
    } else {
      n = strlen(s);
    }
    int32_t k = hp__strset_add(&cv->set, s, n, DICT_MAX);
    if (k < 0) {
      cv->no_dict = 1;
      hp__strset_free(&cv->set);
      free(cv->codes);
      cv->codes = NULL;
      return 0;
    }
    if (n == 0) cv->empty = k;
    cv->codes[r] = k;
    if (n < 8 && cv->nshort < SHORT_SLOTS / 2) {
      cv->short_key[slot] = key;
      cv->short_code[slot] = k + 1;
      cv->nshort++;
    }
  }
  cv->dict_rows = r1;
  return 0;
}

/* String column c of n rows from its dictionary when it has few enough
 * values (nulls: the code of ""), else as plain strings. */
static int finish_strings(const grid *g, size_t col, conv *cv, hp_column *c) {
  size_t n = g->nrows, limit = n / 4 < DICT_MAX ? n / 4 : DICT_MAX;
  if (cv->no_dict || limit == 0 || cv->set.n > limit) {
    hp__strset_free(&cv->set);
    free(cv->codes);
    cv->codes = NULL;
    return make_strings(g, col, c);
  }
  if (cv->empty >= 0) {
    if (!(c->valid = malloc(n))) return HP_ENOMEM;
    for (size_t r = 0; r < n; r++)
      c->valid[r] = cv->codes[r] != cv->empty;
  }
  c->data = cv->codes;
  cv->codes = NULL;
  hp__strset_to_dict(&cv->set, c);
  return HP_OK;
}

/* Seconds of the day of "HH:MM:SS" at s (then the field ends), or -1.
 * The eight bytes at once (little-endian; a byte-wise loop otherwise). */
static int64_t time_of_day(const char *s) {
  if (s[8] != '\0') return -1;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t digits = 0xFFFF00FFFF00FFFFULL;
  uint64_t x;
  memcpy(&x, s, 8);
  /* the colons in place; each other byte minus '0' is 0 to 9 (a byte
   * below '0' wraps to >= 0xD0, and any borrow it passes on comes after
   * it) */
  uint64_t d = (x - 0x3030003030003030ULL) & digits;
  if ((x & ~digits) != 0x00003A00003A0000ULL ||
      ((d | (d + 0x0606060606060606ULL)) & 0xF0F0F0F0F0F0F0F0ULL & digits))
    return -1;
  uint64_t t = d * 10 + (d >> 8); /* bytes 0, 3, 6: HH, MM, SS */
  int h = (int)(t & 0xFF), m = (int)(t >> 24 & 0xFF), sec = (int)(t >> 48 & 0xFF);
#else
  for (int i = 0; i < 8; i++)
    if (i % 3 == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9')) return -1;
  int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0',
      sec = (s[6] - '0') * 10 + s[7] - '0';
#endif
  if (h > 23 || m > 59 || sec > 59) return -1;
  return (int64_t)h * 3600 + m * 60 + sec;
}

/* hp__timestamp_parse, with the date of "YYYY-MM-DD HH:MM:SS" fields kept
 * from one row to the next: rows in time order share it. Years 1700 to
 * 2199 only, far from the ends of int64 nanoseconds. */
static int parse_timestamp(conv *cv, const char *s, int64_t *out) {
  int64_t tod = (s[10] == ' ' || s[10] == 'T') ? time_of_day(s + 11) : -1;
  if (tod >= 0 && cv->have_day && memcmp(s, cv->day, 10) == 0) {
    *out = cv->day_ns + tod * 1000000000;
    return 1;
  }
  if (!hp__timestamp_parse(s, out)) return 0;
  if (tod >= 0 && (s[0] == '1' ? s[1] == '7' || s[1] == '8' || s[1] == '9'
                               : s[0] == '2' && (s[1] == '0' || s[1] == '1'))) {
    memcpy(cv->day, s, 10);
    cv->day_ns = *out - tod * 1000000000;
    cv->have_day = 1;
  }
  return 1;
}

/* Parses field s into row r of the column; 1 if it fits. An empty field
 * is NaN in a float column and null in a bool or timestamp column, and in
 * an int64 column whose type is given (an inferred one becomes float). */
static int parse_as(conv *cv, const char *s, size_t r) {
  int empty = at_end(s), ok = 1;
  switch (cv->t) {
  case HP_INT64:
  case HP_TIMESTAMP:
    if (empty && (cv->given || cv->t == HP_TIMESTAMP)) {
      ((int64_t *)cv->data)[r] = 0;
      set_null(cv, r, r + 1);
    } else {
      ok = cv->t == HP_INT64 ? parse_int(s, (int64_t *)cv->data + r)
                             : parse_timestamp(cv, s, (int64_t *)cv->data + r);
    }
    break;
  case HP_FLOAT64:
    if (empty)
      ((double *)cv->data)[r] = NAN;
    else
      ok = parse_float(s, (double *)cv->data + r);
    break;
  case HP_BOOL:
    if (empty) {
      ((uint8_t *)cv->data)[r] = 0;
      set_null(cv, r, r + 1);
    } else {
      ok = parse_bool(s, (uint8_t *)cv->data + r);
    }
    break;
  default:
    break;
  }
  if (ok && !empty) cv->seen = 1;
  return ok;
}

/* Converts rows [r0, r1) of column col. An inferred column widens from
 * int64 to float64 (earlier values converted exactly), tries bool if its
 * first non-empty field is not a number (earlier empty fields are nulls),
 * and ends as a string column otherwise. Returns the row a given type
 * fails at, or SIZE_MAX. */
static size_t convert_rows(const grid *g, size_t col, conv *cv, size_t r0,
                           size_t r1) {
  size_t r = r0;
  while (r < r1 && cv->t != HP_STRING) {
    if (parse_as(cv, field(g, r, col), r)) {
      r++;
      continue;
    }
    if (cv->given) return r;
    if (cv->t == HP_INT64) {
      unsigned char *p = cv->data;
      for (size_t i = 0; i < r; i++) {
        int64_t x;
        memcpy(&x, p + i * 8, 8);
        double d = (double)x;
        if (x == 0 && strchr(field(g, i, col), '-'))
          d = -0.0; /* "-0" was a zero; as a float it keeps its sign */
        memcpy(p + i * 8, &d, 8);
      }
      cv->t = HP_FLOAT64;
    } else if (cv->t == HP_FLOAT64 && !cv->seen) {
      cv->t = HP_BOOL; /* rows before r were empty: nulls */
      memset(cv->data, 0, r);
      if (r) set_null(cv, 0, r);
    } else {
      cv->t = HP_STRING;
      free(cv->valid);
      cv->valid = NULL;
    }
  }
  return SIZE_MAX;
}

static int type_by_name(const char *s, hp_dtype *t) {
  static const hp_dtype all[] = {HP_INT64, HP_FLOAT64, HP_BOOL, HP_STRING,
                                 HP_TIMESTAMP};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (s && strcmp(s, hp_dtype_name(all[i])) == 0) {
      *t = all[i];
      return 1;
    }
  }
  return 0;
}

/* The type `columns:` gives for name: 1 and *t set, 0 if none. */
static int given_type(const hp_tree *types, const char *name, hp_dtype *t,
                      const char **text) {
  if (!types || types->kind != HP_TREE_MAP) return 0;
  for (size_t i = 0; i < types->n; i++) {
    if (types->keys[i] && types->keys[i]->text &&
        strcmp(types->keys[i]->text, name) == 0) {
      const hp_tree *v = types->items[i];
      *text = v && v->kind == HP_TREE_SCALAR ? v->text : NULL;
      if (!type_by_name(*text, t)) *t = (hp_dtype)0;
      return 1;
    }
  }
  return 0;
}

/* Column names from the header: empty ones become "Unnamed: i" and
 * repeats get ".1", ".2" (as pandas does). */
static char **header_names(char **f, size_t n) {
  char **names = hp__xcalloc(n, sizeof *names);
  for (size_t i = 0; i < n; i++) {
    char *base = f[i][0] ? hp__xstrdup(f[i]) : hp__xasprintf("Unnamed: %zu", i);
    char *name = hp__xstrdup(base);
    for (unsigned k = 1;; k++) {
      size_t j = 0;
      while (j < i && strcmp(names[j], name) != 0)
        j++;
      if (j == i) break;
      free(name);
      name = hp__xasprintf("%s.%u", base, k);
    }
    free(base);
    names[i] = name;
  }
  return names;
}

#ifdef __SSE2__
/* The separators (bits of *seps) and the CR, LF, quotes and NULs (bits
 * of the result) among the 16 bytes at p. */
static inline unsigned marks16(const char *p, __m128i vs, unsigned *seps) {
  const __m128i vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r'),
                vq = _mm_set1_epi8('"'), vz = _mm_setzero_si128();
  __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
  *seps = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vs));
  return (unsigned)_mm_movemask_epi8(
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vn), _mm_cmpeq_epi8(x, vr)),
                   _mm_or_si128(_mm_cmpeq_epi8(x, vq), _mm_cmpeq_epi8(x, vz))));
}
#endif

/* Splits the record at ps->p into row (room for ncols fields) when it has
 * no quote and no NUL: 32 bytes at a time, every separator of a block
 * found at once. Returns the number of fields, or 0 when the record needs
 * next_field (then nothing was changed). */
static size_t split_fast(parser *ps, char **row, size_t ncols) {
#ifdef __SSE2__
  char *p = ps->p;
  size_t k = 1;
  const __m128i vs = _mm_set1_epi8(ps->sep);
  row[0] = p;
  for (;; p += 32) {
    unsigned s0, s1;
    uint32_t stops = marks16(p, vs, &s0) | marks16(p + 16, vs, &s1) << 16;
    uint32_t seps = s0 | s1 << 16;
    if (stops) /* separators before the first stop only */
      seps &= (uint32_t)((1ull << __builtin_ctz(stops)) - 1);
    for (; seps; seps &= seps - 1, k++) {
      if (k == ncols) /* too many fields: next_field counts them */
        goto undo;
      char *q = p + __builtin_ctz(seps);
      *q = '\0';
      row[k] = q + 1;
    }
    if (!stops) continue;
    char *q = p + __builtin_ctz(stops);
    if (*q == '"' || (*q == '\0' && q < ps->end))
      goto undo;
    end_field(ps, q); /* a line end or the end of the text */
    return k;
  }
undo:
  for (size_t i = 1; i < k; i++)
    row[i][-1] = ps->sep;
  return 0;
#else
  (void)ps, (void)row, (void)ncols;
  return 0;
#endif
}

/* Room in g for `rows` rows (fields and lines); -1 out of memory. */
static int grid_room(grid *g, size_t rows) {
  return grow_room((void **)&g->f, &g->cap, rows * g->ncols, sizeof *g->f,
                   1024 * g->ncols) ||
         grow_room((void **)&g->lines, &g->capl, rows, sizeof *g->lines, 1024);
}

/* Splits records after the header into g until it has `upto` rows or
 * the text ends; the header had ncols. */
static int split_rows(parser *ps, grid *g, size_t upto) {
  while (ps->p < ps->end && g->nrows < upto) {
    if (*ps->p == '\n' || *ps->p == '\r') { /* blank line */
      eat_newline(ps);
      continue;
    }
    size_t line = ps->line, k = 0;
    int how = END_FIELD;
    if (grid_room(g, g->nrows + 1) != 0)
      return hp__fail(ps->err, HP_ENOMEM, "%s: out of memory", ps->path);
    char **row = g->f + g->nrows * g->ncols;
    if ((k = split_fast(ps, row, g->ncols)) != 0)
      how = END_RECORD;
    while (how == END_FIELD) {
      char *fld;
      HP_TRY(next_field(ps, &fld, &how));
      if (k < g->ncols) row[k] = fld;
      k++;
    }
    if (k != g->ncols)
      return hp__fail(ps->err, HP_EIO,
                      "%s:%zu: row has %zu field%s, expected %zu", ps->path,
                      line, k, k == 1 ? "" : "s", g->ncols);
    g->lines[g->nrows++] = line;
  }
  return HP_OK;
}

/* How fused_rows reads a column's fields. */
enum { FK_TEXT, FK_INT, FK_FLOAT, FK_OTHER };

/* 1 if byte t ends field c of nc: a separator, or a line end for the last. */
static inline int ends_field(char t, size_t c, size_t nc, char sep) {
  return c + 1 < nc ? t == sep : (t == '\n' || t == '\r');
}

/* The quoted field at s (its closing quote known to be there) unquoted
 * in place, as next_field does: doubled quotes made one, a NUL after. */
static void unquote(char *s) {
  char *dst = s, *src = s + 1;
  for (;;) {
    if (*src == '"') {
      if (src[1] != '"') break;
      src++;
    }
    *dst++ = *src++;
  }
  *dst = '\0';
}

/* Splits and converts records at once, row after row, while they are
 * plain: no blank line, no field quoted over lines or in a number column,
 * every field of the type its column has so far. Each field is read
 * once: numbers in their common forms by int_fast and decimal_fast, which
 * also find where the field ends, so that no separate pass looks for
 * separators; other fields are found by scan_stop (or their closing
 * quote) and converted by parse_as. Stops before the first row that is
 * not plain, leaving it as it was (split_rows and convert_rows then read
 * it the general way, widen the column's type or report what is wrong
 * with it), or at `upto` rows. Fields are NUL-terminated (and unquoted)
 * in place and recorded in g, as split_rows does. g and the columns have
 * room for `upto` rows. */
static void fused_rows(parser *ps, grid *g, conv *cv, const unsigned char *kind,
                       size_t upto) {
  const size_t nc = g->ncols;
  const char sep = ps->sep;
  char *p = ps->p;
  /* (the number parsers read up to 43 bytes from a field's start, which is
   * at most the end of the text: within PAD) */
  size_t r = g->nrows, line = ps->line;
  while (r < upto && p < ps->end && *p != '\n' && *p != '\r') {
    char **row = g->f + r * nc;
    char *s = p, *e = p;
    size_t c = 0;
    uint64_t quoted = 0; /* columns whose field is quoted */
    for (; c < nc; c++, s = e + 1) {
      row[c] = s;
      e = NULL;
      if (kind[c] == FK_FLOAT)
        e = (char *)decimal_fast(s, ps->begin, (double *)cv[c].data + r);
      else if (kind[c] == FK_INT)
        e = (char *)int_fast(s, (int64_t *)cv[c].data + r);
      if (e && ends_field(*e, c, nc, sep)) {
        cv[c].seen = 1;
        continue;
      }
      if (kind[c] == FK_FLOAT && ends_field(*s, c, nc, sep)) {
        ((double *)cv[c].data)[r] = NAN; /* empty, as parse_as reads it */
        e = s;
        continue;
      }
      if (*s == '"') { /* (no number starts with a quote) */
        /* a quoted text field on one line: found now, its quotes taken
         * out once the row is whole (the text is left as it was if the
         * row is not) */
        if (kind[c] != FK_TEXT || c >= 64) goto undo;
        char *q = s + 1;
        for (;; q += 2) {
          q = memchr(q, '"', (size_t)(ps->end - q));
          if (!q) goto undo;
          if (q[1] != '"') break; /* not a doubled quote: the closing one */
        }
        e = q + 1;
        if (!ends_field(*e, c, nc, sep) || memchr(s, '\n', (size_t)(q - s)) ||
            memchr(s, '\r', (size_t)(q - s)))
          goto undo;
        quoted |= 1ULL << c;
        continue;
      }
      e = scan_stop(ps, s);
      if (!ends_field(*e, c, nc, sep)) goto undo;
      if (kind[c] != FK_TEXT) { /* converted as in convert_rows */
        char t = *e;
        *e = '\0';
        int ok = parse_as(&cv[c], s, r);
        *e = t;
        if (!ok) goto undo;
      }
    }
    /* the row is whole: end its fields and its line */
    for (size_t k = 1; k < nc; k++)
      row[k][-1] = '\0';
    for (; quoted; quoted &= quoted - 1)
      unquote(row[__builtin_ctzll(quoted)]);
    p = e + (e[0] == '\r' && e[1] == '\n' ? 2 : 1);
    *e = '\0';
    g->lines[r++] = line++;
    continue;
  undo:
    break;
  }
  g->nrows = r;
  ps->p = p;
  ps->line = line;
}

/* Rows per block: records are split and converted a block of rows at a
 * time, so the block's text and field pointers are still in cache while
 * every column of it is read. */
#define BLOCK 2048

/* Converts rows [r0, r1) of g into the columns taken (tc), and with
 * `feed` adds the rows of string columns up to r1 to their dictionaries.
 * HP_EIO names the first row a given type fails at (in the lowest column
 * of that row): errors are reported in file order. */
static int convert_range(parser *ps, const grid *g, conv *cv, const size_t *tc,
                         const hp_value *t, size_t r0, size_t r1, int feed) {
  size_t bad_row = SIZE_MAX, bad_col = 0;
  for (size_t c = 0; c < g->ncols; c++) {
    if (tc[c] == SIZE_MAX) continue;
    size_t bad = SIZE_MAX;
    int nomem = conv_room(&cv[c], r1) != 0;
    if (!nomem)
      bad = convert_rows(g, c, &cv[c], r0, bad_row < r1 ? bad_row : r1);
    nomem |= cv[c].nomem;
    if (feed && !nomem && bad == SIZE_MAX && cv[c].t == HP_STRING)
      nomem = dict_feed(g, c, &cv[c], r1) != 0;
    if (nomem)
      return hp__fail(ps->err, HP_ENOMEM, "%s: column '%s': out of memory",
                      ps->path, t->cols[tc[c]].name);
    if (bad < bad_row) {
      bad_row = bad;
      bad_col = c;
    }
  }
  if (bad_row == SIZE_MAX) return HP_OK;
  return hp__fail(ps->err, HP_EIO, "%s:%zu: column '%s': cannot read '%s' as %s",
                  ps->path, g->lines[bad_row], t->cols[tc[bad_col]].name,
                  field(g, bad_row, bad_col), hp_dtype_name(cv[bad_col].t));
}

/* Splits the records after the header into g and converts them into the
 * columns of t, a block at a time. */
static int read_records(parser *ps, grid *g, const hp_csv_opts *o,
                        char **names, hp_value *t) {
  const char *path = ps->path;
  hp_error *err = ps->err;
  const hp_tree *types = o ? o->types : NULL;
  if (types && types->kind != HP_TREE_MAP && types->kind != HP_TREE_NULL)
    return hp__fail(err, HP_EINVAL, "%s: columns: expected a mapping", path);
  if (types && types->kind == HP_TREE_MAP) {
    for (size_t i = 0; i < types->n; i++) {
      const char *k = types->keys[i] ? types->keys[i]->text : NULL;
      size_t j = 0;
      while (k && j < g->ncols && strcmp(names[j], k) != 0)
        j++;
      if (!k || j == g->ncols)
        return hp__fail(err, HP_EIO,
                        "%s:1: column '%s' (from columns:) "
                        "is not in the header",
                        path, k ? k : "");
    }
  }
  size_t nc = g->ncols;
  t->cols = hp__xcalloc(nc ? nc : 1, sizeof *t->cols);
  t->capcols = nc ? nc : 1;
  conv *cv = hp__xcalloc(nc ? nc : 1, sizeof *cv);
  /* tc[c]: column c's index in t, or SIZE_MAX when a projection drops it
   * (its fields are split, so rows are still checked, but not read) */
  size_t *tc = hp__xmalloc((nc ? nc : 1) * sizeof *tc);
  for (size_t c = 0; c < nc; c++)
    tc[c] = SIZE_MAX; /* set below as each column is taken */
  int rc = HP_OK;
  for (size_t c = 0; c < nc && rc == HP_OK; c++) {
    cv[c].empty = -1;
    const char *text;
    if (given_type(types, names[c], &cv[c].t, &text)) {
      cv[c].given = 1;
      if (!cv[c].t)
        rc = hp__fail(err, HP_EINVAL,
                      "%s: column '%s': unknown type '%s' "
                      "(int64, float64, bool, string or timestamp)",
                      path, names[c], text ? text : "");
    } else {
      cv[c].t = HP_INT64; /* inferred: the narrowest type that fits */
    }
    /* a column of a given type is read even when not asked for: its
     * fields must parse as that type whatever the run uses of the file */
    if (o && o->project && !cv[c].given &&
        !hp__table_projects(o->cols, o->ncols, t->ncols, names[c]))
      continue;
    tc[c] = t->ncols;
    hp_column *col = &t->cols[t->ncols++];
    col->name = names[c];
    names[c] = NULL;
  }
  /* fused_rows only with separators no number or timestamp contains */
  int fused = strchr(",;\t|", ps->sep) != NULL;
  unsigned char *kind = hp__xmalloc(nc ? nc : 1);
  const char *text0 = ps->p;
  while (rc == HP_OK && ps->p < ps->end) {
    size_t r0 = g->nrows, upto = r0 + BLOCK;
    int room = fused && grid_room(g, upto) == 0;
    for (size_t c = 0; c < nc && room; c++)
      if (tc[c] != SIZE_MAX && cv[c].t != HP_STRING &&
          conv_room(&cv[c], upto) != 0)
        room = 0;
    /* rows fused, a row the general way where they stop (a quoted field,
     * a blank line, a field that widens its column), fused again; the
     * rest of the block the general way after 8 stops in a row that
     * fused none (a file that quotes every row) */
    int misses = 0;
    while (room && rc == HP_OK && g->nrows < upto && ps->p < ps->end) {
      for (size_t c = 0; c < nc; c++) {
        hp_dtype ty = cv[c].t;
        kind[c] = tc[c] == SIZE_MAX || ty == HP_STRING ? FK_TEXT
                  : ty == HP_INT64                     ? FK_INT
                  : ty == HP_FLOAT64                   ? FK_FLOAT
                                                       : FK_OTHER;
      }
      size_t rs = g->nrows;
      fused_rows(ps, g, cv, kind, upto);
      misses = g->nrows == rs ? misses + 1 : 0;
      if (misses == 8 || g->nrows >= upto) break;
      rs = g->nrows;
      rc = split_rows(ps, g, rs + 1);
      if (rc == HP_OK)
        rc = convert_range(ps, g, cv, tc, t, rs, g->nrows, 0);
    }
    size_t rf = g->nrows;
    if (rc == HP_OK) {
      rc = split_rows(ps, g, upto);
      if (rc == HP_EIO && ps->err) {
        /* a row that cannot be split: a bad value in a row before it is
         * the first error */
        hp_error split_err = *ps->err;
        hp__error_clear(ps->err);
        if (convert_range(ps, g, cv, tc, t, rf, g->nrows, 0) == HP_OK)
          *ps->err = split_err;
      }
    }
    size_t r1 = g->nrows;
    if (r0 == 0 && r1 && ps->p < ps->end) {
      /* the rows to expect, from the first block's bytes per row: room
       * for them now rather than by doubling (copies) */
      double per = (double)(ps->p - text0) / (double)r1;
      size_t want = (size_t)((double)(ps->end - text0) / per * 1.05) + BLOCK;
      for (size_t c = 0; c < nc; c++)
        if (tc[c] != SIZE_MAX)
          (void)conv_room(&cv[c], want); /* a guess: refused, grow later */
    }
    if (rc == HP_OK) rc = convert_range(ps, g, cv, tc, t, rf, r1, 1);
  }
  size_t n = g->nrows;
  t->nrows = n;
  for (size_t c = 0; c < nc; c++) {
    if (tc[c] == SIZE_MAX) continue; /* nothing was allocated */
    hp_column *col = &t->cols[tc[c]];
    if (n == 0 && !cv[c].given)
      cv[c].t = HP_STRING; /* without rows there is nothing to infer from */
    if (rc == HP_OK && cv[c].t == HP_STRING) {
      free(cv[c].data);
      free(cv[c].valid);
      rc = finish_strings(g, c, &cv[c], col);
      if (rc != HP_OK)
        rc = hp__fail(err, rc, "%s: column '%s': out of memory", path,
                      col->name);
    } else if (rc == HP_OK) {
      col->type = cv[c].t;
      size_t esz = col->type == HP_BOOL ? 1 : 8; /* inferred bools too */
      void *fit = realloc(cv[c].data, n ? n * esz : 1);
      col->data = fit ? fit : cv[c].data;
      col->valid = cv[c].valid;
      if (col->valid && n) {
        uint8_t *v = realloc(col->valid, n);
        col->valid = v ? v : col->valid;
      }
    } else {
      free(cv[c].data);
      free(cv[c].valid);
    }
    hp__strset_free(&cv[c].set);
    free(cv[c].codes);
    free(cv[c].short_key);
    free(cv[c].short_code);
  }
  free(cv);
  free(tc);
  free(kind);
  return rc;
}

/* Offset of the first byte of p[0..n) that is not well-formed UTF-8 (RFC
 * 3629: no overlong forms, no surrogates, at most U+10FFFF), or n. */
static size_t utf8_bad(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
#ifdef __SSE2__
    if (i + 64 <= n) { /* ASCII runs, 64 bytes at a time */
      const __m128i *v = (const __m128i *)(const void *)(p + i);
      __m128i x = _mm_or_si128(
          _mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
          _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
      if (!_mm_movemask_epi8(x)) {
        i += 64;
        continue;
      }
    }
#endif
    if (i + 8 <= n) { /* ASCII runs, 8 bytes at a time */
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (!(w & 0x8080808080808080ULL)) {
        i += 8;
        continue;
      }
    }
    unsigned c = p[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t k = c >= 0xC2 && c <= 0xDF   ? 1
               : c >= 0xE0 && c <= 0xEF ? 2
               : c >= 0xF0 && c <= 0xF4 ? 3
                                        : 0;
    if (!k || i + k >= n)
      return i;
    unsigned c1 = p[i + 1];
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) ||
        (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
      return i;
    for (size_t j = 1; j <= k; j++)
      if ((p[i + j] & 0xC0) != 0x80)
        return i;
    i += k + 1;
  }
  return n;
}

/* The name of the column byte `at` of buf (a header line, then records)
 * falls in, from the separators outside quotes before it on its line and
 * the header's names (into name[n]); NULL in the header or past its
 * columns. For a message: a quoted line break may mislead it. */
static const char *column_at(const char *buf, size_t at, char sep, char *name,
                             size_t n) {
  const char *ls = buf + at;
  while (ls > buf && ls[-1] != '\n')
    ls--;
  if (ls == buf) return NULL;
  size_t k = 0, i = 0, m = 0;
  int q = 0;
  for (const char *c = ls; c < buf + at; c++)
    if (*c == '"')
      q = !q;
    else if (*c == sep && !q)
      k++;
  const char *h = buf, *start = buf;
  for (q = 0; *h && *h != '\n' && *h != '\r'; h++)
    if (*h == '"') {
      q = !q;
    } else if (*h == sep && !q) {
      if (i == k) break;
      i++;
      start = h + 1;
    }
  if (i != k) return NULL;
  for (const char *c = start; c < h && m + 1 < n; c++)
    if (*c != '"') name[m++] = *c;
  name[m] = '\0';
  return name;
}

/* Parses buf[0..len) (PAD NUL bytes follow; owned: freed here), a header
 * and records, into a table. */
static int parse_buffer(const char *path, char *buf, size_t len,
                        const hp_csv_opts *o, hp_value **out, hp_error *err) {
  size_t bad = utf8_bad((const unsigned char *)buf, len);
  if (bad < len) {
    size_t line = 1;
    for (const char *q = buf; (q = memchr(q, '\n', (size_t)(buf + bad - q)));)
      q++, line++;
    unsigned byte = (unsigned char)buf[bad];
    char name[128];
    const char *col =
        column_at(buf, bad, o && o->sep ? o->sep : ',', name, sizeof name);
    int rc = col ? hp__fail(err, HP_EIO,
                            "%s:%zu: column '%s': invalid UTF-8 (byte 0x%02X)",
                            path, line, col, byte)
                 : hp__fail(err, HP_EIO, "%s:%zu: invalid UTF-8 (byte 0x%02X)",
                            path, line, byte);
    free(buf);
    return rc;
  }
  el_ready();
  parser ps = {.path = path,
               .begin = buf,
               .p = buf,
               .end = buf + len,
               .line = 1,
               .sep = o && o->sep ? o->sep : ',',
               .err = err};
  ps.stop[(unsigned char)ps.sep] = ps.stop['\r'] = ps.stop['\n'] = 1;
  ps.stop[0] = 1;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) ps.p += 3;
  grid g = {0};
  char **hdr = NULL, **names = NULL;
  size_t nh = 0, caph = 0;
  hp_value *t = NULL;
  int rc = HP_OK;
  while (ps.p < ps.end && (*ps.p == '\n' || *ps.p == '\r'))
    eat_newline(&ps);
  if (ps.p == ps.end) {
    rc = hp__fail(err, HP_EIO, "%s:%zu: no header line", path, ps.line);
    goto done;
  }
  for (int how = END_FIELD; how == END_FIELD;) {
    char *f;
    rc = next_field(&ps, &f, &how);
    if (rc != HP_OK) goto done;
    hp__grow(&hdr, &caph, nh + 1, sizeof *hdr);
    hdr[nh++] = f;
  }
  g.ncols = nh;
  names = header_names(hdr, nh);
  t = hp_table_new();
  rc = read_records(&ps, &g, o, names, t);
done:
  if (rc != HP_OK) {
    hp_value_free(t);
    t = NULL;
  }
  for (size_t i = 0; names && i < nh; i++)
    free(names[i]);
  free(names);
  free(hdr);
  free(g.f);
  free(g.lines);
  free(buf);
  *out = t;
  return rc;
}

int hp__csv_read(const char *path, const hp_csv_opts *o, hp_value **out,
                 hp_error *err) {
  if (out) *out = NULL;
  if (!path || !out)
    return hp__fail(err, HP_EINVAL, "hp__csv_read: bad arguments");
  char *buf = NULL;
  size_t len = 0;
  HP_TRY(hp__fs_read_all(path, PAD, &buf, &len, err));
  return parse_buffer(path, buf, len, o, out, err);
}

int hp__csv_parse(const char *name, const char *data, size_t len,
                  const hp_csv_opts *o, hp_value **out, hp_error *err) {
  if (out) *out = NULL;
  if (!name || !out || (!data && len))
    return hp__fail(err, HP_EINVAL, "hp__csv_parse: bad arguments");
  char *buf = malloc(len + PAD);
  if (!buf)
    return hp__fail(err, HP_ENOMEM, "%s: out of memory", name);
  if (len)
    memcpy(buf, data, len);
  memset(buf + len, 0, PAD);
  return parse_buffer(name, buf, len, o, out, err);
}

/* Reads [off, off + n) of fp into b + at; 0 or -1. */
static int read_at(FILE *fp, char *b, int64_t off, size_t n) {
  return fseeko(fp, (off_t)off, SEEK_SET) == 0 && fread(b, 1, n, fp) == n
             ? 0
             : -1;
}

/* The offset just past the line ending at or after `from` (size at EOF). */
static int64_t next_line(FILE *fp, int64_t from, int64_t size) {
  char b[4096];
  while (from < size) {
    size_t n = size - from < (int64_t)sizeof b ? (size_t)(size - from)
                                               : sizeof b;
    if (read_at(fp, b, from, n) != 0)
      return -1;
    const char *nl = memchr(b, '\n', n);
    if (nl)
      return from + (nl - b) + 1;
    from += (int64_t)n;
  }
  return size;
}

/* Adds `add` to the line number in "path:LINE: ..." messages. */
static void shift_line(hp_error *err, const char *path, size_t add) {
  size_t pl = strlen(path);
  if (!err || strncmp(err->msg, path, pl) != 0 || err->msg[pl] != ':')
    return;
  char *end;
  unsigned long long line = strtoull(err->msg + pl + 1, &end, 10);
  if (end == err->msg + pl + 1 || *end != ':' || line < 2)
    return;
  char rest[sizeof err->msg];
  snprintf(rest, sizeof rest, "%s", end);
  snprintf(err->msg + pl, sizeof err->msg - pl, ":%llu%s",
           line + (unsigned long long)add, rest);
}

/* A range of records of at least two pieces' bytes is parsed a piece at
 * a time on the task's cores, when it has more than one. */
#define PIECE ((size_t)1 << 20)
#define PIECES_MAX 64

typedef struct pieces {
  const char *path;
  const hp_csv_opts *o;
  const char *text; /* the header line, then the records */
  size_t hl;
  const size_t *cut; /* piece i: records text[hl + cut[i] .. hl + cut[i+1]) */
  hp_value **out;    /* piece i's table, NULL if it failed */
} pieces;

/* Piece i, with the header, parsed on its own (its error is not kept: a
 * failing piece sends the caller to the whole text). */
static void parse_piece(void *arg, size_t i) {
  pieces *j = arg;
  size_t bl = j->cut[i + 1] - j->cut[i];
  char *buf = malloc(j->hl + bl + PAD);
  if (!buf) return;
  memcpy(buf, j->text, j->hl);
  memcpy(buf + j->hl, j->text + j->hl + j->cut[i], bl);
  memset(buf + j->hl + bl, 0, PAD);
  hp_error err = HP_ERROR_INIT;
  parse_buffer(j->path, buf, j->hl + bl, j->o, &j->out[i], &err);
}

/* 1 if a type given in `columns:` for `name` is a number, bool or
 * timestamp. */
static int given_number(const hp_csv_opts *o, const char *name) {
  hp_dtype t;
  const char *text = NULL; /* (the name as it is: "a.b" is a column) */
  return given_type(o->types, name, &t, &text) && text &&
         strcmp(text, "string") != 0;
}

/* 1 if the table of a text read with o has only columns of given number,
 * bool or timestamp types, known before reading: o projects onto named
 * columns (those and the typed ones are read) and every one is typed so.
 * Then each piece's table has the columns and types the whole text would
 * (no inference, no dictionary), and their concatenation is its table. */
static int numbers_only(const hp_csv_opts *o) {
  if (!o || !o->project || o->ncols == 0 || !o->types) return 0;
  for (size_t i = 0; i < o->ncols; i++)
    if (!given_number(o, o->cols[i])) return 0;
  for (size_t i = 0; i < hp_tree_len(o->types); i++)
    if (!given_number(o, hp_tree_key(o->types, i))) return 0;
  return 1;
}

/* The records buf[hl .. hl + bl) (after the header line; buf is the
 * caller's) parsed in pieces cut at line ends on the task's cores into
 * *out, with *done set; *done is 0 when it was not done so (one core, a
 * short text, columns that are not all given numbers, bools or
 * timestamps, or a piece that failed: a line end cut inside a quoted
 * field, or any error, which the whole text then reports as a serial
 * parse does), and the caller parses the whole. */
static int parse_pieces(const char *path, const hp_csv_opts *o,
                        const char *buf, size_t hl, size_t bl, hp_value **out,
                        hp_error *err, int *done) {
  size_t n = bl / PIECE;
  if (n > PIECES_MAX) n = PIECES_MAX;
  *done = 0;
  if (n < 2 || hp__pool_cores() < 2 || !numbers_only(o)) return HP_OK;
  size_t *cut = hp__xcalloc(n + 1, sizeof *cut);
  const char *text = buf + hl;
  for (size_t i = 1; i < n; i++) { /* just past a line end */
    size_t at = i * (bl / n) > cut[i - 1] ? i * (bl / n) : cut[i - 1];
    const char *nl = at < bl ? memchr(text + at, '\n', bl - at) : NULL;
    cut[i] = nl ? (size_t)(nl - text) + 1 : bl;
  }
  cut[n] = bl;
  hp_value **part = hp__xcalloc(n, sizeof *part);
  pieces j = {path, o, buf, hl, cut, part};
  hp_node_parallel(NULL, n, parse_piece, &j);
  int rc = HP_OK, ok = 1;
  for (size_t i = 0; i < n; i++)
    ok &= part[i] && hp_table_ncols(part[i]) > 0;
  if (ok) {
    rc = hp__value_concat((const hp_value *const *)part, n, out, err);
    *done = 1;
  }
  for (size_t i = 0; i < n; i++)
    hp_value_free(part[i]);
  free(part);
  free(cut);
  return rc;
}

int hp__csv_read_range(const char *path, const hp_csv_opts *o, int64_t off0,
                       int64_t off1, hp_value **out, hp_error *err) {
  *out = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return hp__fail(err, HP_EIO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  int64_t size = fstat(fileno(fp), &st) == 0 ? (int64_t)st.st_size : -1;
  int64_t hdr_end = size >= 0 ? next_line(fp, 0, size) : -1;
  /* records that start in [off0, off1): start after the line ending
   * before off0 (the header's, for the first partition) */
  int64_t start = off0 <= hdr_end ? hdr_end : next_line(fp, off0 - 1, size);
  int64_t end = off1 >= size ? size : next_line(fp, off1 - 1, size);
  if (size < 0 || hdr_end < 0 || start < 0 || end < 0) {
    fclose(fp);
    return hp__fail(err, HP_EIO, "%s: read error", path);
  }
  if (end < start)
    end = start;
  size_t hl = (size_t)hdr_end, bl = (size_t)(end - start);
  char *buf = malloc(hl + bl + 1 + PAD);
  int rc = buf ? HP_OK
               : hp__fail(err, HP_ENOMEM, "%s: out of memory reading %zu bytes",
                          path, hl + bl);
  if (rc == HP_OK && read_at(fp, buf, 0, hl) != 0)
    rc = hp__fail(err, HP_EIO, "%s: read error", path);
  if (rc == HP_OK && (hl == 0 || buf[hl - 1] != '\n'))
    buf[hl++] = '\n'; /* a header without a line end */
  if (rc == HP_OK && bl && read_at(fp, buf + hl, start, bl) != 0)
    rc = hp__fail(err, HP_EIO, "%s: read error", path);
  fclose(fp);
  if (rc != HP_OK) {
    free(buf);
    return rc;
  }
  memset(buf + hl + bl, 0, PAD);
  int done;
  rc = parse_pieces(path, o, buf, hl, bl, out, err, &done);
  if (!done)
    rc = parse_buffer(path, buf, hl + bl, o, out, err);
  else
    free(buf);
  if (rc != HP_OK && start > hdr_end) { /* number lines as in the file */
    FILE *f2 = fopen(path, "rb");
    size_t lines = 0;
    char b[65536];
    for (int64_t at = hdr_end; f2 && at < start;) {
      size_t n = start - at < (int64_t)sizeof b ? (size_t)(start - at)
                                                 : sizeof b;
      if (read_at(f2, b, at, n) != 0)
        break;
      for (const char *q = b; (q = memchr(q, '\n', (size_t)(b + n - q)));)
        q++, lines++;
      at += (int64_t)n;
    }
    if (f2)
      fclose(f2);
    shift_line(err, path, lines);
  }
  return rc;
}

/* ---- writing ------------------------------------------------------------- */


static int needs_quotes(const char *s, char sep) {
  for (; *s; s++)
    if (*s == sep || *s == '"' || *s == '\r' || *s == '\n') return 1;
  return 0;
}

static void put_text(hp_buf *b, const char *s, char sep) {
  if (!needs_quotes(s, sep)) {
    hp__buf_puts(b, s);
    return;
  }
  hp__buf_putc(b, '"');
  for (const char *q; (q = strchr(s, '"')); s = q + 1) {
    hp__buf_put(b, s, (size_t)(q - s) + 1);
    hp__buf_putc(b, '"');
  }
  hp__buf_puts(b, s);
  hp__buf_putc(b, '"');
}

static void put_i64(hp_buf *b, int64_t x) {
  char tmp[24], *p = tmp + sizeof tmp;
  uint64_t u = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (x < 0) *--p = '-';
  hp__buf_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* The text %.15g gives for x when 1e-4 <= |x| < 1e15 and x has a decimal
 * form of at most 15 significant digits, found without printf: the least
 * p for which round(|x| 10^p) / 10^p == |x| (exact: both operands are
 * exact doubles and the division is correctly rounded, as strtod is).
 * Returns the length, or 0 to fall back to printf. */
static int fast_fixed(double x, char *out) {
  double ax = fabs(x);
  if (!(ax >= 1e-4 && ax < 1e15)) return 0;
  for (int p = 0; p <= 19; p++) {
    double y = ax * pow10_exact[p];
    if (y >= 1e15) return 0;
    uint64_t m = (uint64_t)(y + 0.5);
    if ((double)m / pow10_exact[p] != ax) continue;
    char digits[24], *d = digits + sizeof digits;
    int nd = 0;
    do {
      *--d = (char)('0' + m % 10);
      m /= 10;
      nd++;
    } while (m);
    char *o = out;
    if (x < 0) *o++ = '-';
    if (nd <= p) { /* 0.000ddd */
      *o++ = '0';
      *o++ = '.';
      for (int i = 0; i < p - nd; i++)
        *o++ = '0';
      memcpy(o, d, (size_t)nd);
      o += nd;
    } else {
      memcpy(o, d, (size_t)(nd - p));
      o += nd - p;
      *o++ = '.';
      if (p) {
        memcpy(o, d + nd - p, (size_t)p);
        o += p;
      } else {
        *o++ = '0';
      }
    }
    return (int)(o - out);
  }
  return 0;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as x (from %.1g
 * for a subnormal x, which has fewer digits), with ".0" added to integral
 * values so the column reads back as float64. NaN is written as an empty
 * field. */
static void put_f64(hp_buf *b, double x) {
  if (isnan(x)) return;
  if (isinf(x)) {
    hp__buf_puts(b, x < 0 ? "-inf" : "inf");
    return;
  }
  char tmp[40];
  int n = fast_fixed(x, tmp);
  if (n) {
    hp__buf_put(b, tmp, (size_t)n);
    return;
  }
  for (int prec = x != 0 && fabs(x) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
    n = snprintf(tmp, sizeof tmp, "%.*g", prec, x);
    if (prec == 17 || strtod(tmp, NULL) == x) break;
  }
  hp__buf_put(b, tmp, (size_t)n);
  if (!strpbrk(tmp, ".e")) hp__buf_puts(b, ".0");
}

static int write_all(FILE *fp, hp_buf *b) {
  if (b->len && fwrite(b->data, 1, b->len, fp) != b->len) return -1;
  b->len = 0;
  return 0;
}

int hp__csv_put(FILE *fp, const hp_value *v, size_t nrows,
                const hp_csv_opts *o) {
  char sep = o && o->sep ? o->sep : ',';
  hp_buf b = {0};
  hp__buf_reserve(&b, 1 << 20);
  int bad = 0;
  size_t nc = v->ncols;
  if (nrows > v->nrows)
    nrows = v->nrows;
  for (size_t c = 0; c < nc; c++) {
    if (c) hp__buf_putc(&b, sep);
    put_text(&b, v->cols[c].name, sep);
  }
  if (nc) hp__buf_putc(&b, '\n');
  for (size_t r = 0; r < nrows && !bad; r++) {
    for (size_t c = 0; c < nc; c++) {
      const hp_column *col = &v->cols[c];
      size_t at = b.len;
      if (c) hp__buf_putc(&b, sep);
      if (col->valid && !col->valid[r]) { /* null: an empty field */
        if (nc == 1) hp__buf_puts(&b, "\"\"");
        continue;
      }
      switch (col->type) {
      case HP_INT64:
        put_i64(&b, ((const int64_t *)col->data)[r]);
        break;
      case HP_TIMESTAMP: {
        char ts[HP_TIMESTAMP_LEN];
        int len = hp__timestamp_format(((const int64_t *)col->data)[r], ts);
        hp__buf_put(&b, ts, (size_t)len);
        break;
      }
      case HP_FLOAT64:
        put_f64(&b, ((const double *)col->data)[r]);
        break;
      case HP_BOOL:
        hp__buf_puts(&b, ((const uint8_t *)col->data)[r] ? "true" : "false");
        break;
      default:
        put_text(&b, hp_table_str(v, c, r), sep);
        break;
      }
      /* a lone empty field would be a blank line, which readers skip */
      if (nc == 1 && b.len == at) hp__buf_puts(&b, "\"\"");
    }
    hp__buf_putc(&b, '\n');
    if (b.len >= (1 << 20)) bad = write_all(fp, &b);
  }
  if (!bad) bad = write_all(fp, &b);
  hp__buf_free(&b);
  return bad ? -1 : 0;
}

int hp__csv_write(const char *path, const hp_value *v, const hp_csv_opts *o,
                  hp_error *err) {
  if (!path || !v || v->kind != HP_TABLE)
    return hp__fail(err, HP_EINVAL, "%s: CSV output must be a table",
                    path ? path : "(null)");
  char *tmp;
  FILE *fp = hp__fs_tmp_open(path, &tmp, err);
  if (!fp)
    return err && err->code ? err->code : HP_EIO;
  int rc = hp__csv_put(fp, v, v->nrows, o) != 0
               ? hp__fail(err, HP_EIO, "%s: cannot write: %s", path,
                          strerror(errno))
               : HP_OK;
  return hp__fs_tmp_commit(fp, tmp, path, rc, err);
}
