/*
 * report.h - the record every run leaves in its store (DESIGN.md section
 * 5): <store>/reports/<run>.json and a self-contained <run>.html with a
 * per-rank task timeline (like Dask's task stream), node durations, bytes
 * read and written, retries, failures, the command and the configuration.
 * Rank 0 collects what the scheduler sees and writes both at the end.
 * Also the JSON writing the journal shares.
 */
#ifndef HP_REPORT_H
#define HP_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "exec.h"
#include "plan.h"

typedef struct hp_report hp_report;

hp_report *hp__report_new(const hp_plan *pl, const char *command);
void hp__report_free(hp_report *r);

/* Task n ended on rank `rank`, attempt `attempt` (1-based), started
 * `start` seconds after the run began: res's seconds loading its inputs,
 * in its function and saving its outputs, and the bytes of inputs loaded
 * and outputs committed. A failed attempt ran `secs` and failed with msg
 * (retried when `final` is 0). */
void hp__report_task(hp_report *r, int32_t n, int rank, int attempt,
                     double start, const hp_task_result *res);
void hp__report_failure(hp_report *r, int32_t n, int rank, int attempt,
                        double start, double secs, const char *msg,
                        int final);
/* The tasks a resume skipped, and the run's end: status "finish", "fail"
 * or "interrupted", its wall seconds, tasks done of total. */
void hp__report_end(hp_report *r, size_t skipped, const char *status,
                    double secs, size_t done, size_t total);

/* Values moved between workers through spill files (sched.c): count and
 * bytes, for the report's "moved" and its summary line. */
void hp__report_moved(hp_report *r, size_t values, uint64_t bytes);

/* Writes <store>/reports/<run>.json and .html atomically; the paths of
 * the HTML report in *html (malloc'd) when non-NULL. Errors: HP_EIO. */
int hp__report_write(hp_report *r, char **html, hp_error *err);

/* JSON text: a string, escaped; a configuration tree (maps, lists,
 * scalars: numbers and booleans unquoted unless quoted in the YAML). */
void hp__json_str(FILE *f, const char *s);
void hp__json_tree(FILE *f, const hp_tree *t);
/* x with 6 decimals ("12.000345"), without printf's floating-point cost
 * (a journal line per task); the text is inside buf. */
const char *hp__secs6(double x, char buf[32]);
/* Text escaped for HTML and XML (< > & "). */
void hp__html_str(FILE *f, const char *s);

#endif
