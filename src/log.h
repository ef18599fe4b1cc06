/*
 * log.h - leveled logging to stderr with a rank prefix. stdout is kept for
 * command output (dry-run and list print only names there).
 */
#ifndef HP_LOG_H
#define HP_LOG_H

enum { HP_LOG_ERROR = 0, HP_LOG_WARN = 1, HP_LOG_INFO = 2, HP_LOG_DEBUG = 3 };

/* Sets this process's rank (for the prefix) and the level (messages above
 * it are dropped). HPCPIPE_LOG=debug|info|warn|error overrides level. */
void hp__log_init(int rank, int level);
int hp__log_enabled(int level);
void hp__log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* While rank 0 draws a progress bar on a terminal (on = 1), each message
 * first clears the bar's line. */
void hp__log_over_bar(int on);
/* The UTC time now, "YYYY-MM-DDTHH:MM:SS.mmmZ" with `sep` between hours,
 * minutes and seconds: ':' for ISO 8601, '.' where it names files (run
 * versions, as Kedro's). */
void hp__utc_now(char out[32], char sep);
/* Seconds on the monotonic clock, for durations. */
double hp__mono_now(void);

#endif
