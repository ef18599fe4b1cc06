/*
 * mem.h - allocation that never returns NULL (for bookkeeping: a failure
 * prints one line and aborts), a growable byte buffer, and file mappings
 * used as data buffers.
 */
#ifndef HP_MEM_H
#define HP_MEM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *hp__xmalloc(size_t n);
void *hp__xcalloc(size_t n, size_t size);
void *hp__xrealloc(void *p, size_t n);
char *hp__xstrdup(const char *s);
char *hp__xstrndup(const char *s, size_t n);
char *hp__xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grows *p (of *cap elements of size sz) to hold at least need elements. */
void hp__grow(void *pp, size_t *cap, size_t need, size_t sz);

/* len bytes of the open file fd from byte off, mapped copy-on-write: reading
 * them costs no copy out of the page cache, and writing them changes only
 * this process's pages. The file may be closed afterwards. NULL if the
 * system will not map it (the caller reads instead). Not thread-safe. */
void *hp__mem_map(int fd, uint64_t off, size_t len);
/* Releases a data buffer: unmaps what hp__mem_map returned, else free(). */
void hp__mem_free(void *p);

/* Called first by `hpcpipe run` (hp_main, before MPI starts): when the
 * kernel gives transparent huge pages only to memory that asks for them
 * (THP "madvise", Debian's default), runs the program again in place
 * (same pid, arguments and environment) with glibc's malloc asking for
 * them (GLIBC_TUNABLES glibc.malloc.hugetlb=1): large columns and arrays
 * then sit on 2 MB pages, and gathering rows at random from them misses
 * the TLB far less (glacier at 100x, -n 3: ~15% faster). Returns (doing
 * nothing) when HPCPIPE_HUGEPAGES=0, when GLIBC_TUNABLES already sets it,
 * under LD_PRELOAD (valgrind, profilers), in sanitizer builds, or when
 * the exec fails. */
void hp__mem_hugepages_exec(char **argv);
/* 1 in a sanitizer build (whose allocator ignores glibc's tunables). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define HP_SANITIZED 1
#endif
#endif

#ifndef HP_SANITIZED
#define HP_SANITIZED 0
#endif

/* A size from environment variable name (decimal digits), or dflt when it
 * is unset or not a number. */
size_t hp__env_size(const char *name, size_t dflt);

typedef struct hp_buf {
  char *data; /* NUL-terminated after any hp__buf_* call (when non-NULL) */
  size_t len;
  size_t cap;
} hp_buf;

void hp__buf_put(hp_buf *b, const void *p, size_t n);
void hp__buf_puts(hp_buf *b, const char *s);
void hp__buf_putc(hp_buf *b, char c);
void hp__buf_printf(hp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hp__buf_vprintf(hp_buf *b, const char *fmt, va_list ap);
void hp__buf_reserve(hp_buf *b, size_t extra);
/* Takes the contents (never NULL) and leaves b empty. */
char *hp__buf_take(hp_buf *b);
void hp__buf_free(hp_buf *b);

/* Sorts n strings (strcmp order) and drops repeats; returns the new count. */
size_t hp__strs_sort_unique(const char **v, size_t n);
/* Appends "['a', 'b']" (Kedro's way of listing names in messages). */
void hp__buf_put_names(hp_buf *b, const char *const *v, size_t n);
/* Appends w as one word for a POSIX shell: as is when it has only safe
 * characters, else in single quotes (a ' inside as '\''). */
void hp__buf_shell_word(hp_buf *b, const char *w);
/* Command-line option `name` at argv[*i], as "--x v" or "--x=v": its value
 * (advancing *i past it), or NULL when argv[*i] is not that option or the
 * value is missing; *matched says which. */
const char *hp__opt_value(int argc, char **argv, int *i, const char *name,
                          int *matched);

#endif
