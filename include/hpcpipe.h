/*
 * hpcpipe.h - the public API of hpcpipe: status codes, version, and the
 * command-line entry point. Node authors include <hpcpipe/node.h>, which
 * this header also pulls in.
 *
 * Ownership, everywhere in this API: whoever creates an object frees it;
 * a returned const pointer is borrowed for the lifetime stated next to it;
 * strings passed in are copied; a function that takes ownership of a value
 * says so and takes it even when it fails.
 */
#ifndef HPCPIPE_H
#define HPCPIPE_H

#include <stddef.h>
#include <stdint.h>

#define HP_EXTERN __attribute__((visibility("default")))

/* Status codes: HP_OK (0) or a positive HP_E* code. */
#define HP_ERRNO_MAP(X)                                                        \
  X(NOMEM, "out of memory")                                                    \
  X(INVAL, "invalid argument")                                                 \
  X(USAGE, "usage error")                                                      \
  X(CONFIG, "invalid configuration")                                           \
  X(GRAPH, "invalid pipeline graph")                                           \
  X(IO, "input/output error")                                                  \
  X(HDF5, "HDF5 error")                                                        \
  X(MPI, "MPI error")                                                          \
  X(NODE, "node failed")                                                       \
  X(INTR, "interrupted")                                                       \
  X(INTERNAL, "internal error")

enum {
  HP_OK = 0,
#define HP__X(name, msg) HP_E##name,
  HP_ERRNO_MAP(HP__X)
#undef HP__X
      HP_ERRNO_MAX
};

/* Process exit codes of the hpcpipe command (docs/errors.md). */
enum {
  HP_EXIT_OK = 0,        /* success */
  HP_EXIT_NODE = 1,      /* a node failed */
  HP_EXIT_CONFIG = 2,    /* usage or configuration error */
  HP_EXIT_INTR = 3,      /* interrupted, resumable */
  HP_EXIT_INTERNAL = 4   /* internal error */
};

/* Any rank. "invalid configuration" for HP_ECONFIG; never NULL. */
HP_EXTERN const char *hp_strerror(int code);
/* Any rank. "HP_ECONFIG" for HP_ECONFIG; never NULL. */
HP_EXTERN const char *hp_err_name(int code);
/* Any rank. The library's version, "MAJOR.MINOR.PATCH". */
HP_EXTERN const char *hp_version(void);
/* Exit code for a status code: HP_ENODE -> 1, HP_ECONFIG -> 2, ... */
HP_EXTERN int hp_exit_code(int code);

/* Collective over MPI_COMM_WORLD when started under mpirun: the whole
 * `hpcpipe` command line (run, check, list). Returns the process exit code. */
HP_EXTERN int hp_main(int argc, char **argv);

#include "hpcpipe/node.h"

#endif
