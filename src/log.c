/*
 * log.c - one line per message on stderr: "hpcpipe[rank]: level: text".
 * Lines are written with a single fputs so ranks do not interleave mid-line.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_rank = 0;
static int log_level = HP_LOG_INFO;
static int log_over_bar = 0;

void hp__log_over_bar(int on) {
  log_over_bar = on;
}

void hp__log_init(int rank, int level) {
  log_rank = rank;
  log_level = level;
  const char *e = getenv("HPCPIPE_LOG");
  if (!e)
    return;
  if (strcmp(e, "debug") == 0)
    log_level = HP_LOG_DEBUG;
  else if (strcmp(e, "info") == 0)
    log_level = HP_LOG_INFO;
  else if (strcmp(e, "warn") == 0)
    log_level = HP_LOG_WARN;
  else if (strcmp(e, "error") == 0)
    log_level = HP_LOG_ERROR;
}

int hp__log_enabled(int level) {
  return level <= log_level;
}

void hp__log(int level, const char *fmt, ...) {
  if (level > log_level)
    return;
  static const char *names[] = {"error", "warning", "info", "debug"};
  char line[1200];
  /* over a progress bar: clear its line first (it is redrawn after) */
  int n = snprintf(line, sizeof line, "%shpcpipe[%d]: %s: ",
                   log_over_bar ? "\r\033[K" : "", log_rank, names[level]);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = strlen(line);
  line[len] = '\n';
  line[len + 1] = '\0';
  fputs(line, stderr);
}

void hp__utc_now(char out[32], char sep) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(out, 32, "%04u-%02u-%02uT%02u%c%02u%c%02u.%03uZ",
           (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)tm.tm_mon % 12u + 1,
           (unsigned)tm.tm_mday % 32u, (unsigned)tm.tm_hour % 24u, sep,
           (unsigned)tm.tm_min % 60u, sep, (unsigned)tm.tm_sec % 61u,
           (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

double hp__mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
