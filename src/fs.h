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
#include <stdint.h>
#include <stdio.h>

#include "error.h"

/* The files `spec` names when it is a directory (its entries ending in ext,
 * hidden ones skipped) or a glob pattern (it holds * ? or [), sorted, as a
 * NULL-terminated list the caller frees with hp__fs_list_free; *files NULL
 * and *n 1 for anything else (a plain file). Errors: HP_EIO "spec: no
 * files match" or a listing failure. */
int hp__fs_list(const char *spec, const char *ext, char ***files, size_t *n,
                hp_error *err);
void hp__fs_list_free(char **files);

/* Writing a file whole or not at all: hp__fs_tmp_open creates the
 * directories and opens a temporary name beside path (NULL and err set on
 * failure); write to it, then hp__fs_tmp_commit flushes, fsyncs, closes
 * and renames it over path if rc is HP_OK, else removes it, and frees
 * tmp. It returns rc or the first error. Errors: HP_EIO "path: reason".
 * A link is followed (the file it points to is replaced, the link
 * stays); a device or FIFO, or a link to one or to nothing, is written
 * into as it is (*tmp NULL; commit flushes and closes it). */
FILE *hp__fs_tmp_open(const char *path, char **tmp, hp_error *err);
int hp__fs_tmp_commit(FILE *f, char *tmp, const char *path, int rc,
                      hp_error *err);
/* The temporary name beside path that this process writes before a
 * rename commits it ("path.tmp.<pid>"); a new string. */
char *hp__fs_tmp_name(const char *path);
/* Moves the written, not fsynced, temporary file tmp to path: 0, or -1
 * and errno. A file already at path is removed first, because ext4
 * (auto_da_alloc) writes the data of a file renamed over another to disk
 * there and then - 0.2-0.8 s for each 200-400 MB store file of a rerun.
 * Readers see the old file, none, or the new one, never part of one; a
 * crash or a failed rename in between leaves no file at path (a missing
 * store value: its task runs again on --resume). With writeback, a new
 * file (none was at path) then starts going to disk (hp__fs_writeback). */
int hp__fs_replace(const char *tmp, const char *path, int writeback);
/* Asks the kernel to start writing the written file path to disk, without
 * waiting for it, if it is HPCPIPE_WRITEBACK_MIN bytes or more (default
 * 1 MiB): a run's large outputs are then on disk, or on their way, when it
 * ends, instead of all being flushed afterwards (or 30 s later). */
void hp__fs_writeback(const char *path);

/* Starts fn(NULL) in a detached thread with every signal blocked (stop
 * and crash signals stay with the task's thread); 1 if it runs. The
 * writeback above and the saving thread (exec.c) use it. */
int hp__fs_thread(void *(*fn)(void *));
/* Unblocks the crash signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL) in the
 * calling thread, one hp__fs_thread started: a crash there is then
 * reported like one in a task (exec.c). */
void hp__fs_thread_crashes(void);
/* 1 if name (a file name, no directory) is a temporary name of that form,
 * *stem_len set to the length of the committed name it stands for. */
int hp__fs_is_tmp(const char *name, size_t *stem_len);
/* A stamp of what spec holds now, without reading it: a hash of the size
 * and modification time (ns) of the file, or of the name, size and time of
 * every file it names (a directory's entries ending in ext, a glob's
 * matches). 0 when nothing exists there. Touching a file changes it. */
uint64_t hp__fs_stamp(const char *spec, const char *ext);

/* len bytes to path, whole or not at all (the two above). */
int hp__fs_write_atomic(const char *path, const void *data, size_t len,
                        hp_error *err);
/* The whole file into a malloc'd buffer: *len bytes, then pad (at least
 * 1) zero bytes. Errors: HP_EIO "path: cannot open: reason", HP_ENOMEM. */
int hp__fs_read_all(const char *path, size_t pad, char **data, size_t *len,
                    hp_error *err);

#endif
