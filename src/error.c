/*
 * error.c - status code names and messages (from HP_ERRNO_MAP) and the
 * recording of located error messages in an hp_error.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hpcpipe/version.h"

const char *hp_strerror(int code) {
  switch (code) {
  case HP_OK:
    return "success";
#define HP__X(name, msg)                                                       \
  case HP_E##name:                                                             \
    return msg;
    HP_ERRNO_MAP(HP__X)
#undef HP__X
  default:
    return "unknown error";
  }
}

const char *hp_err_name(int code) {
  switch (code) {
  case HP_OK:
    return "HP_OK";
#define HP__X(name, msg)                                                       \
  case HP_E##name:                                                             \
    return "HP_E" #name;
    HP_ERRNO_MAP(HP__X)
#undef HP__X
  default:
    return "HP_EUNKNOWN";
  }
}

const char *hp_version(void) {
  return HP_VERSION_STRING;
}

int hp_exit_code(int code) {
  switch (code) {
  case HP_OK:
    return HP_EXIT_OK;
  case HP_ENODE:
  case HP_EIO:
  case HP_EHDF5:
    return HP_EXIT_NODE;
  case HP_EINVAL:
  case HP_EUSAGE:
  case HP_ECONFIG:
  case HP_EGRAPH:
    return HP_EXIT_CONFIG;
  case HP_EINTR:
    return HP_EXIT_INTR;
  default:
    return HP_EXIT_INTERNAL;
  }
}

int hp__fail(hp_error *e, int code, const char *fmt, ...) {
  if (!e || e->code != HP_OK)
    return code;
  e->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  for (char *p = e->msg; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  return code;
}

void hp__error_prefix(hp_error *e, const char *fmt, ...) {
  if (!e || e->code == HP_OK)
    return;
  char pre[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  size_t np = strlen(pre), nm = strlen(e->msg);
  if (np >= sizeof e->msg)
    np = sizeof e->msg - 1;
  if (np + nm >= sizeof e->msg)
    nm = sizeof e->msg - 1 - np;
  memmove(e->msg + np, e->msg, nm);
  memcpy(e->msg, pre, np);
  e->msg[np + nm] = '\0';
}

void hp__error_clear(hp_error *e) {
  if (!e)
    return;
  e->code = HP_OK;
  e->rank = -1;
  e->msg[0] = '\0';
}
