/*
 * fs.c - directory creation for the writers (CSV, HDF5 store, journal;
 * the usual case, an existing directory, costs one stat()), the file
 * lists of partitioned datasets read from a directory or a glob pattern,
 * and whole-file reads and atomic writes (text datasets).
 */
#define _GNU_SOURCE /* sync_file_range */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map.h"
#include "mem.h"

int hp__mkdir_p(const char *dir) {
  struct stat st;
  if (stat(dir, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return 0;
    errno = ENOTDIR;
    return -1;
  }
  char *d = hp__xstrdup(dir);
  int rc = 0;
  for (char *p = d + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char c = *p;
    *p = '\0';
    if (mkdir(d, 0777) != 0 && errno != EEXIST) {
      rc = -1;
      break;
    }
    *p = c;
    if (!c)
      break;
  }
  if (rc == 0 && stat(d, &st) != 0)
    rc = -1;
  else if (rc == 0 && !S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    rc = -1;
  }
  free(d);
  return rc;
}

int hp__mkdir_parents(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path)
    return 0;
  char *d = hp__xstrndup(path, (size_t)(slash - path));
  int rc = hp__mkdir_p(d);
  free(d);
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void hp__fs_list_free(char **files) {
  for (size_t i = 0; files && files[i]; i++)
    free(files[i]);
  free(files);
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int hp__fs_list(const char *filepath, const char *ext, char ***files, size_t *n,
                hp_error *err) {
  *files = NULL;
  *n = 1;
  if (!filepath)
    return HP_OK;
  char **v = NULL;
  size_t nv = 0, cap = 0;
  if (strpbrk(filepath, "*?[")) {
    glob_t gl;
    int g = glob(filepath, 0, NULL, &gl);
    if (g != 0 && g != GLOB_NOMATCH)
      return hp__fail(err, HP_EIO, "%s: cannot list the files", filepath);
    for (size_t i = 0; g == 0 && i < gl.gl_pathc; i++) {
      hp__grow(&v, &cap, nv + 2, sizeof *v);
      v[nv++] = hp__xstrdup(gl.gl_pathv[i]);
    }
    if (g == 0)
      globfree(&gl);
  } else if (is_dir(filepath)) {
    DIR *dir = opendir(filepath);
    if (!dir)
      return hp__fail(err, HP_EIO, "%s: cannot list the directory", filepath);
    size_t len = strlen(filepath);
    const char *sep = len && filepath[len - 1] == '/' ? "" : "/";
    for (struct dirent *e; (e = readdir(dir));) {
      size_t el = strlen(e->d_name), xl = strlen(ext);
      if (e->d_name[0] == '.' || el <= xl || strcmp(e->d_name + el - xl, ext))
        continue;
      hp__grow(&v, &cap, nv + 2, sizeof *v);
      v[nv++] = hp__xasprintf("%s%s%s", filepath, sep, e->d_name);
    }
    closedir(dir);
  } else {
    return HP_OK;
  }
  if (nv == 0) {
    free(v);
    return hp__fail(err, HP_EIO, "%s: no files match", filepath);
  }
  qsort(v, nv, sizeof *v, cmp_str);
  v[nv] = NULL;
  *files = v;
  *n = nv;
  return HP_OK;
}

char *hp__fs_tmp_name(const char *path) {
  return hp__xasprintf("%s.tmp.%ld", path, (long)getpid());
}

int hp__fs_is_tmp(const char *name, size_t *stem_len) {
  const char *t = strstr(name, ".tmp.");
  while (t) {
    const char *d = t + 5;
    if (*d && strspn(d, "0123456789") == strlen(d) && t > name) {
      *stem_len = (size_t)(t - name);
      return 1;
    }
    t = strstr(t + 1, ".tmp.");
  }
  return 0;
}

/* Adds a file's size and modification time (and its name, when given)
 * to hash h. */
static uint64_t stamp_stat(const struct stat *st, const char *name,
                           uint64_t h) {
  int64_t v[3] = {(int64_t)st->st_size, (int64_t)st->st_mtim.tv_sec,
                  (int64_t)st->st_mtim.tv_nsec};
  if (name)
    h = hp__hash64(name, strlen(name), h);
  return hp__hash64(v, sizeof v, h);
}

uint64_t hp__fs_stamp(const char *spec, const char *ext) {
  struct stat st;
  if (!spec)
    return 0;
  if (!strpbrk(spec, "*?[") && stat(spec, &st) == 0 && !S_ISDIR(st.st_mode))
    return stamp_stat(&st, NULL, HP_HASH_SEED) | 1; /* a file: one stat */
  char **files;
  size_t n;
  hp_error ignore = HP_ERROR_INIT;
  if (hp__fs_list(spec, ext ? ext : "", &files, &n, &ignore) != HP_OK ||
      !files)
    return 0; /* nothing there */
  uint64_t h = HP_HASH_SEED;
  for (size_t i = 0; files[i]; i++)
    if (stat(files[i], &st) == 0)
      h = stamp_stat(&st, files[i], h);
  hp__fs_list_free(files);
  return h | 1;
}

/* Where a write to path goes: path, or the file a link there points to
 * (the link stays; /dev/stdout > file writes the file). */
static char *target_of(const char *path) {
  struct stat st;
  char *real = lstat(path, &st) == 0 && S_ISLNK(st.st_mode)
                   ? realpath(path, NULL)
                   : NULL;
  return real ? real : hp__xstrdup(path);
}

/* 1 if path is written into as it is: a device or FIFO (or a link to
 * one, or to nothing), which a renamed file must not replace. */
static int written_in_place(const char *path) {
  struct stat st, lst;
  if (lstat(path, &lst) != 0) return 0;
  if (stat(path, &st) != 0) return S_ISLNK(lst.st_mode);
  return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

FILE *hp__fs_tmp_open(const char *path, char **tmp, hp_error *err) {
  *tmp = NULL;
  if (written_in_place(path)) {
    FILE *f = fopen(path, "wb");
    if (!f)
      hp__fail(err, HP_EIO, "%s: cannot write: %s", path, strerror(errno));
    return f;
  }
  char *target = target_of(path);
  if (hp__mkdir_parents(target) != 0) {
    hp__fail(err, HP_EIO, "%s: cannot create its directory: %s", path,
             strerror(errno));
    free(target);
    return NULL;
  }
  *tmp = hp__fs_tmp_name(target);
  free(target);
  FILE *f = fopen(*tmp, "wb");
  if (!f) {
    hp__fail(err, HP_EIO, "%s: %s", *tmp, strerror(errno));
    free(*tmp);
    *tmp = NULL;
  }
  return f;
}

/* ---- early writeback ------------------------------------------------------
 * The request (sync_file_range) can block while the disk is busy, so it is
 * made by a thread of its own, off the task's thread. Best effort: a full
 * queue or a failed request is skipped. */

#define WB_QUEUE 64

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int fds[WB_QUEUE];
  unsigned head, n, started;
} wb = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static void *wb_thread(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&wb.mu);
    while (!wb.n)
      pthread_cond_wait(&wb.cv, &wb.mu);
    int fd = wb.fds[wb.head];
    wb.head = (wb.head + 1) % WB_QUEUE;
    wb.n--;
    pthread_mutex_unlock(&wb.mu);
#ifdef SYNC_FILE_RANGE_WRITE /* Linux; elsewhere the kernel's own pace */
    (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
    close(fd);
  }
  return NULL;
}

int hp__fs_thread(void *(*fn)(void *)) {
  pthread_t t;
  pthread_attr_t at;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  int ok = pthread_create(&t, &at, fn, NULL) == 0;
  pthread_attr_destroy(&at);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return ok;
}

void hp__fs_thread_crashes(void) {
  sigset_t crash;
  sigemptyset(&crash);
  sigaddset(&crash, SIGSEGV), sigaddset(&crash, SIGBUS);
  sigaddset(&crash, SIGFPE), sigaddset(&crash, SIGILL);
  pthread_sigmask(SIG_UNBLOCK, &crash, NULL);
}

void hp__fs_writeback(const char *path) {
  static size_t min = 0;
  if (!min) /* smaller files are left to the kernel */
    min = hp__env_size("HPCPIPE_WRITEBACK_MIN", (size_t)1 << 20);
  struct stat st;
  if (stat(path, &st) != 0 || (size_t)st.st_size < min) return;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  int queued = 0;
  pthread_mutex_lock(&wb.mu);
  if (!wb.started)
    wb.started = hp__fs_thread(wb_thread) ? 1 : 2;
  if (wb.started == 1 && wb.n < WB_QUEUE) {
    wb.fds[(wb.head + wb.n) % WB_QUEUE] = fd;
    wb.n++;
    queued = 1;
    pthread_cond_signal(&wb.cv);
  }
  pthread_mutex_unlock(&wb.mu);
  if (!queued) close(fd);
}

int hp__fs_replace(const char *tmp, const char *path, int writeback) {
  int none = unlink(path) != 0;
  if (none && errno != ENOENT) return -1;
  if (rename(tmp, path) != 0) return -1;
  /* only a new file: while the data of one that replaced another are being
   * written, ext4 (data=ordered) makes the old one's removal wait for them
   * - a rerun measured slower, and its files no sooner on disk */
  if (writeback && none) hp__fs_writeback(path);
  return 0;
}

int hp__fs_tmp_commit(FILE *f, char *tmp, const char *path, int rc,
                      hp_error *err) {
  const char *name = tmp ? tmp : path; /* (no tmp: written in place) */
  errno = 0;
  if (rc == HP_OK &&
      (fflush(f) != 0 || ferror(f) || (tmp && fsync(fileno(f)) != 0)))
    rc = hp__fail(err, HP_EIO, "%s: %s", name,
                  errno ? strerror(errno) : "write error");
  if (fclose(f) != 0 && rc == HP_OK)
    rc = hp__fail(err, HP_EIO, "%s: %s", name, strerror(errno));
  if (!tmp) return rc;
  char *target = target_of(path);
  if (rc == HP_OK && rename(tmp, target) != 0)
    rc = hp__fail(err, HP_EIO, "%s: %s", path, strerror(errno));
  free(target);
  if (rc != HP_OK)
    unlink(tmp);
  free(tmp);
  return rc;
}

int hp__fs_write_atomic(const char *path, const void *data, size_t len,
                        hp_error *err) {
  char *tmp;
  FILE *f = hp__fs_tmp_open(path, &tmp, err);
  if (!f) return err ? err->code : HP_EIO;
  int rc = len && fwrite(data, 1, len, f) != len
               ? hp__fail(err, HP_EIO, "%s: %s", tmp, strerror(errno))
               : HP_OK;
  return hp__fs_tmp_commit(f, tmp, path, rc, err);
}

int hp__fs_read_all(const char *path, size_t pad, char **data, size_t *len,
                    hp_error *err) {
  *data = NULL;
  *len = 0;
  if (pad < 1) pad = 1;
  FILE *f = fopen(path, "rb");
  if (!f)
    return hp__fail(err, HP_EIO, "%s: cannot open: %s", path,
                    strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return hp__fail(err, HP_EIO, "%s: not a regular file", path);
  }
  size_t n = (size_t)st.st_size;
  char *b = n <= SIZE_MAX - pad ? malloc(n + pad) : NULL;
  if (!b) {
    fclose(f);
    return hp__fail(err, HP_ENOMEM, "%s: out of memory reading %zu bytes",
                    path, n);
  }
  size_t got = fread(b, 1, n, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || got != n) {
    free(b);
    return hp__fail(err, HP_EIO, "%s: read error", path);
  }
  memset(b + n, 0, pad);
  *data = b;
  *len = n;
  return HP_OK;
}
