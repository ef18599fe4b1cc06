/*
 * error.h - one located message per failure. Errors are recorded in an
 * hp_error kept by the caller; only the first failure is recorded, outer
 * layers may add context as a prefix. The message names the user's file,
 * line and thing at fault ("conf/base/catalog.yml:3:5: dataset 'x': ...").
 */
#ifndef HP_ERROR_H
#define HP_ERROR_H

#include "hpcpipe.h"

typedef struct hp_error {
  int code;      /* HP_OK when clear */
  int rank;      /* rank that saw it first, -1 if unknown */
  char msg[768]; /* one line, no trailing newline */
} hp_error;

#define HP_ERROR_INIT {HP_OK, -1, {0}}

/* Records code and message unless e already holds an error; returns code.
 * e may be NULL. */
int hp__fail(hp_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the recorded message with context ("node 'x': "). */
void hp__error_prefix(hp_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hp__error_clear(hp_error *e);

#define HP_TRY(expr)                                                           \
  do {                                                                         \
    int hp_rc_ = (expr);                                                       \
    if (hp_rc_ != HP_OK)                                                       \
      return hp_rc_;                                                           \
  } while (0)

#endif
