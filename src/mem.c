/*
 * mem.c - the aborting allocators used for bookkeeping, hp_buf, and file
 * mappings that stand in for a data buffer. Large data buffers (columns,
 * arrays) use plain malloc and report HP_ENOMEM to the caller instead, or
 * hp__mem_map; either is released by hp__mem_free.
 */
#define _DEFAULT_SOURCE
#include "mem.h"

#include "map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void oom(size_t n) {
  fprintf(stderr, "hpcpipe: out of memory allocating %zu bytes\n", n);
  abort();
}

void *hp__xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    oom(n);
  return p;
}

void *hp__xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    oom(n * size);
  return p;
}

void *hp__xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    oom(n);
  return q;
}

char *hp__xstrdup(const char *s) {
  return hp__xstrndup(s, strlen(s));
}

char *hp__xstrndup(const char *s, size_t n) {
  char *p = hp__xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *hp__xasprintf(const char *fmt, ...) {
  hp_buf b = {0};
  va_list ap;
  va_start(ap, fmt);
  hp__buf_vprintf(&b, fmt, ap);
  va_end(ap);
  return hp__buf_take(&b);
}

void hp__grow(void *pp, size_t *cap, size_t need, size_t sz) {
  void **p = pp;
  if (need <= *cap)
    return;
  size_t c = *cap ? *cap : 4;
  while (c < need)
    c *= 2;
  *p = hp__xrealloc(*p, c * sz);
  *cap = c;
}

void hp__buf_reserve(hp_buf *b, size_t extra) {
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t c = b->cap ? b->cap : 64;
  while (c < need)
    c *= 2;
  b->data = hp__xrealloc(b->data, c);
  b->cap = c;
}

void hp__buf_put(hp_buf *b, const void *p, size_t n) {
  hp__buf_reserve(b, n);
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void hp__buf_puts(hp_buf *b, const char *s) {
  hp__buf_put(b, s, strlen(s));
}

void hp__buf_putc(hp_buf *b, char c) {
  hp__buf_put(b, &c, 1);
}

void hp__buf_vprintf(hp_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  if (n < 0) {
    va_end(ap2);
    return;
  }
  if ((size_t)n < sizeof small) {
    hp__buf_put(b, small, (size_t)n);
  } else {
    hp__buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    b->len += (size_t)n;
  }
  va_end(ap2);
}

void hp__buf_printf(hp_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  hp__buf_vprintf(b, fmt, ap);
  va_end(ap);
}

char *hp__buf_take(hp_buf *b) {
  char *p = b->data ? b->data : hp__xstrdup("");
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void hp__buf_free(hp_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t hp__strs_sort_unique(const char **v, size_t n) {
  if (n == 0)
    return 0;
  qsort(v, n, sizeof *v, cmp_str);
  size_t k = 1;
  for (size_t i = 1; i < n; i++)
    if (strcmp(v[i], v[k - 1]) != 0)
      v[k++] = v[i];
  return k;
}

void hp__buf_put_names(hp_buf *b, const char *const *v, size_t n) {
  hp__buf_putc(b, '[');
  for (size_t i = 0; i < n; i++)
    hp__buf_printf(b, "%s'%s'", i ? ", " : "", v[i]);
  hp__buf_putc(b, ']');
}

void hp__buf_shell_word(hp_buf *b, const char *w) {
  if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789-_./=:,@%+") == strlen(w)) {
    hp__buf_puts(b, w);
    return;
  }
  hp__buf_putc(b, '\'');
  for (const char *p = w; *p; p++)
    if (*p == '\'')
      hp__buf_puts(b, "'\\''");
    else
      hp__buf_putc(b, *p);
  hp__buf_putc(b, '\'');
}

const char *hp__opt_value(int argc, char **argv, int *i, const char *name,
                          int *matched) {
  size_t n = strlen(name);
  *matched = 0;
  if (strncmp(argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=') {
    *matched = 1;
    return argv[*i] + n + 1;
  }
  if (argv[*i][n] != '\0')
    return NULL;
  *matched = 1;
  if (*i + 1 >= argc)
    return NULL;
  return argv[++*i];
}

/* ---- file mappings ---------------------------------------------------------
 * The live mappings, by the pointer handed out: an open-addressing table
 * (linear probing, deletion by backward shift). */

typedef struct mapping {
  void *p;    /* what hp__mem_map returned; NULL: free slot */
  void *base; /* page-aligned start given to munmap */
  size_t len;
} mapping;

static mapping *maps;
static size_t nmaps, capmaps; /* capmaps: 0 or a power of two */

static size_t slot_of(const void *p) {
  return (size_t)hp__mix64((uint64_t)(uintptr_t)p) & (capmaps - 1);
}

static void maps_put(mapping m) {
  if ((nmaps + 1) * 2 > capmaps) {
    mapping *old = maps;
    size_t oldcap = capmaps;
    capmaps = capmaps ? capmaps * 2 : 64;
    maps = hp__xcalloc(capmaps, sizeof *maps);
    nmaps = 0;
    for (size_t i = 0; i < oldcap; i++)
      if (old[i].p) maps_put(old[i]);
    free(old);
  }
  size_t i = slot_of(m.p);
  while (maps[i].p)
    i = (i + 1) & (capmaps - 1);
  maps[i] = m;
  nmaps++;
}

/* Removes p's entry into *out; 0 if p is not a mapping. */
static int maps_take(const void *p, mapping *out) {
  if (!nmaps) return 0;
  size_t i = slot_of(p);
  while (maps[i].p != p) {
    if (!maps[i].p) return 0;
    i = (i + 1) & (capmaps - 1);
  }
  *out = maps[i];
  maps[i].p = NULL;
  nmaps--;
  for (size_t j = (i + 1) & (capmaps - 1); maps[j].p;
       j = (j + 1) & (capmaps - 1)) {
    size_t want = slot_of(maps[j].p);
    /* move j into the hole at i unless its home lies in (i, j] */
    if ((j > i && (want <= i || want > j)) ||
        (j < i && want <= i && want > j)) {
      maps[i] = maps[j];
      maps[j].p = NULL;
      i = j;
    }
  }
  return 1;
}

void *hp__mem_map(int fd, uint64_t off, size_t len) {
  static size_t page;
  if (!page) {
    long ps = sysconf(_SC_PAGESIZE);
    page = ps > 0 ? (size_t)ps : 4096;
  }
  if (fd < 0 || len == 0) return NULL;
  uint64_t start = off - off % page;
  size_t skip = (size_t)(off - start);
  if (len > SIZE_MAX - skip) return NULL;
  /* private and writable: a node that writes into its input gets its own
   * copy of the page; MAP_POPULATE is not used because on a writable
   * private mapping it copies every page */
  void *base = mmap(NULL, len + skip, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
                    (off_t)start);
  if (base == MAP_FAILED) return NULL;
  madvise(base, len + skip, MADV_WILLNEED);
  void *p = (char *)base + skip;
  maps_put((mapping){p, base, len + skip});
  return p;
}

void hp__mem_free(void *p) {
  mapping m;
  if (p && maps_take(p, &m))
    munmap(m.base, m.len);
  else
    free(p);
}

size_t hp__env_size(const char *name, size_t dflt) {
  const char *e = getenv(name);
  char *end;
  unsigned long long v = e ? strtoull(e, &end, 10) : 0;
  return e && *e && end != e && !*end ? (size_t)v : dflt;
}

void hp__mem_hugepages_exec(char **argv) {
#if HP_SANITIZED
  (void)argv;
#else
  const char *opt = getenv("HPCPIPE_HUGEPAGES");
  const char *tun = getenv("GLIBC_TUNABLES");
  if ((opt && strcmp(opt, "0") == 0) || getenv("LD_PRELOAD") ||
      (tun && strstr(tun, "glibc.malloc.hugetlb")))
    return;
  char mode[128] = "";
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (!f) return;
  int got = fgets(mode, sizeof mode, f) != NULL;
  fclose(f);
  if (!got || !strstr(mode, "[madvise]")) return;
  char *old = tun ? hp__xstrdup(tun) : NULL;
  char *val = old ? hp__xasprintf("%s:glibc.malloc.hugetlb=1", old)
                  : hp__xstrdup("glibc.malloc.hugetlb=1");
  if (setenv("GLIBC_TUNABLES", val, 1) == 0)
    execv("/proc/self/exe", argv); /* returns only on failure */
  if (old)
    setenv("GLIBC_TUNABLES", old, 1);
  else
    unsetenv("GLIBC_TUNABLES");
  free(val);
  free(old);
#endif
}
