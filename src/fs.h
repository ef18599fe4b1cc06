/*
 * fs.h - small file-system helpers: creating the directories a file will
 * live in, listing the files a directory or glob pattern names, and
 * writing a whole file atomically.
 */
#ifndef HP_FS_H
#define HP_FS_H

/* mkdir -p of dir. 0, or -1 with errno set (ENOTDIR if a component is a
 * file). */
int hp__mkdir_p(const char *dir);
/* mkdir -p of the directory part of path (nothing for a bare name). */
int hp__mkdir_parents(const char *path);

#include <stddef.h>

#include "error.h"

/* The files `spec` names when it is a directory (its entries ending in ext,
 * hidden ones skipped) or a glob pattern (it holds * ? or [), sorted, as a
 * NULL-terminated list the caller frees with hp__fs_list_free; *files NULL
 * and *n 1 for anything else (a plain file). Errors: HP_EIO "spec: no
 * files match" or a listing failure. */
int hp__fs_list(const char *spec, const char *ext, char ***files, size_t *n,
                hp_error *err);
void hp__fs_list_free(char **files);

/* Writes len bytes to path whole or not at all: a temporary name in the
 * same directory (created if missing), fsync, rename. Errors: HP_EIO
 * "path: reason". */
int hp__fs_write_atomic(const char *path, const void *data, size_t len,
                        hp_error *err);
/* The whole file into a malloc'd, NUL-terminated buffer (*len bytes
 * before the NUL). Errors: HP_EIO "path: reason", HP_ENOMEM. */
int hp__fs_read_all(const char *path, char **data, size_t *len,
                    hp_error *err);

#endif
