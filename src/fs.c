/*
 * fs.c - directory creation for the writers (CSV, HDF5 store, journal).
 * The usual case, an existing directory, costs one stat().
 */
#define _POSIX_C_SOURCE 200809L
#include "fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
