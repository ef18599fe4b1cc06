/*
 * report.c - the run report: what rank 0 saw of each task, written at the
 * end as JSON (for programs) and as one HTML file (for people) that needs
 * nothing else to display: inline CSS and an inline SVG task stream, one
 * lane per rank, one bar per task attempt coloured by node.
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "map.h"
#include "mem.h"
#include "slurm.h"
#include "tree.h"

typedef struct rtask {
  int32_t n;
  int rank, attempt, ok;
  double start, secs;
  double load, save; /* seconds loading inputs, saving outputs (done) */
  int cores;         /* the most it ran on at once (done) */
  uint64_t in, out;
  char *msg; /* failures */
} rtask;

struct hp_report {
  const hp_plan *pl;
  char *command;
  char started[32];
  rtask *t;
  size_t nt, cap;
  size_t skipped, done, total;
  size_t moved;          /* values moved between workers */
  uint64_t moved_bytes;
  const char *status;
  double secs;
};

hp_report *hp__report_new(const hp_plan *pl, const char *command) {
  hp_report *r = hp__xcalloc(1, sizeof *r);
  r->pl = pl;
  r->command = hp__xstrdup(command ? command : "");
  hp__utc_now(r->started, ':');
  r->status = "running";
  return r;
}

void hp__report_free(hp_report *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->nt; i++)
    free(r->t[i].msg);
  free(r->t);
  free(r->command);
  free(r);
}

/* Seconds after the run began when task attempt t ended. */
static double task_end(const rtask *t) {
  return t->start + t->load + t->secs + t->save;
}

static rtask *add(hp_report *r, int32_t n, int rank, int attempt,
                  double start, double secs) {
  hp__grow(&r->t, &r->cap, r->nt + 1, sizeof *r->t);
  rtask *t = &r->t[r->nt++];
  memset(t, 0, sizeof *t);
  t->n = n, t->rank = rank, t->attempt = attempt;
  t->start = start, t->secs = secs < 0 ? 0 : secs;
  return t;
}

void hp__report_task(hp_report *r, int32_t n, int rank, int attempt,
                     double start, const hp_task_result *res) {
  if (!r)
    return;
  rtask *t = add(r, n, rank, attempt, start, res->seconds);
  t->ok = 1, t->in = res->bytes_in, t->out = res->bytes_out;
  t->load = res->load_seconds > 0 ? res->load_seconds : 0;
  t->save = res->save_seconds > 0 ? res->save_seconds : 0;
  t->cores = res->cores;
}

void hp__report_failure(hp_report *r, int32_t n, int rank, int attempt,
                        double start, double secs, const char *msg,
                        int final) {
  if (!r)
    return;
  rtask *t = add(r, n, rank, attempt, start, secs);
  t->ok = final ? -1 : 0; /* 0: retried, -1: failed for good */
  t->msg = hp__xstrdup(msg ? msg : "");
}

void hp__report_end(hp_report *r, size_t skipped, const char *status,
                    double secs, size_t done, size_t total) {
  if (!r)
    return;
  r->skipped = skipped, r->status = status, r->secs = secs;
  r->done = done, r->total = total;
}

void hp__report_moved(hp_report *r, size_t values, uint64_t bytes) {
  if (r)
    r->moved = values, r->moved_bytes = bytes;
}

/* ---- JSON ---- */

const char *hp__secs6(double x, char buf[32]) {
  if (!(x >= 0 && x < 1e12)) { /* negative, huge or NaN: rare, printf */
    snprintf(buf, 32, "%.6f", x);
    return buf;
  }
  uint64_t us = (uint64_t)(x * 1e6 + 0.5), whole = us / 1000000;
  char *p = buf + 31;
  *p = '\0';
  for (int k = 0; k < 6; k++, us /= 10)
    *--p = (char)('0' + us % 10);
  *--p = '.';
  do
    *--p = (char)('0' + whole % 10);
  while ((whole /= 10) > 0);
  return p;
}

void hp__json_str(FILE *f, const char *s) {
  size_t plain = 0; /* the common case, one write: nothing to escape */
  while (s && s[plain] && s[plain] != '"' && s[plain] != '\\' &&
         (unsigned char)s[plain] >= 0x20)
    plain++;
  if (s && !s[plain]) {
    fputc('"', f);
    fwrite(s, 1, plain, f);
    fputc('"', f);
    return;
  }
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

/* Whether s is a number as JSON writes one:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *s) {
  const char *p = s;
  if (*p == '-')
    p++;
  if (*p == '0')
    p++;
  else if (*p >= '1' && *p <= '9')
    while (*p >= '0' && *p <= '9')
      p++;
  else
    return 0;
  if (*p == '.') {
    if (!(p[1] >= '0' && p[1] <= '9'))
      return 0;
    for (p++; *p >= '0' && *p <= '9'; p++) {
    }
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!(*p >= '0' && *p <= '9'))
      return 0;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  return *p == '\0';
}

void hp__json_tree(FILE *f, const hp_tree *t) {
  int b;
  if (!t || hp__tree_is_null(t)) { /* (~, null, nothing: as nodes see it) */
    fputs("null", f);
  } else if (t->kind == HP_TREE_SCALAR) {
    const char *s = t->text ? t->text : "";
    if (!t->quoted && json_number(s))
      fputs(s, f);
    else if (!t->quoted && hp_tree_bool(t, NULL, 0, &b) == HP_OK)
      fputs(b ? "true" : "false", f);
    else
      hp__json_str(f, s);
  } else {
    int map = t->kind == HP_TREE_MAP;
    fputc(map ? '{' : '[', f);
    for (size_t i = 0; i < t->n; i++) {
      if (i)
        fputc(',', f);
      if (map) {
        hp__json_str(f, t->keys[i]->text);
        fputc(':', f);
      }
      hp__json_tree(f, t->items[i]);
    }
    fputc(map ? '}' : ']', f);
  }
}

/* ---- per node ---- */

typedef struct rnode {
  size_t tasks, retries, failures;
  double secs, max, load, save;
  uint64_t in, out;
} rnode;

static const char *task_name(const hp_report *r, int32_t n) {
  return r->pl->pipe->nodes[n].name;
}

static int32_t unode(const hp_report *r, int32_t n) {
  return r->pl->task ? r->pl->task[n].unode : n;
}

static rnode *per_node(const hp_report *r) {
  rnode *v = hp__xcalloc(r->pl->ug->nnodes + 1, sizeof *v);
  for (size_t i = 0; i < r->nt; i++) {
    const rtask *t = &r->t[i];
    rnode *x = &v[unode(r, t->n)];
    x->tasks += t->ok == 1;
    x->retries += t->ok == 0;
    x->failures += t->ok == -1;
    x->secs += t->secs;
    x->max = t->secs > x->max ? t->secs : x->max;
    x->load += t->load, x->save += t->save;
    x->in += t->in, x->out += t->out;
  }
  return v;
}

/* Task attempts listed one by one in the JSON record: the first ones,
 * then only failures (the journal has every task). */
#define MAX_LISTED 10000

static void write_json(const hp_report *r, FILE *f) {
  const hp_plan *pl = r->pl;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  fputs("{\"run\":", f);
  hp__json_str(f, pl->version);
  fputs(",\"command\":", f);
  hp__json_str(f, r->command);
  fprintf(f, ",\"status\":\"%s\",\"hpcpipe\":", r->status);
  hp__json_str(f, hp_version());
  fputs(",\"host\":", f);
  hp__json_str(f, host);
  fprintf(f,
          ",\"started\":\"%s\",\"seconds\":%.6f,\"ranks\":%d,"
          "\"tasks\":{\"total\":%zu,\"done\":%zu,\"skipped\":%zu},"
          "\"moved\":{\"values\":%zu,\"bytes\":%llu}",
          r->started, r->secs, pl->size, r->total, r->done, r->skipped,
          r->moved, (unsigned long long)r->moved_bytes);
  hp_slurm_job j;
  if (hp__slurm_job(&j)) {
    const char *k[] = {"job",        "name",       "nodes",
                       "array_job",  "array_task", "restarts"};
    const char *val[] = {j.id,         j.name,       j.nodes,
                         j.array_job,  j.array_task, j.restarts};
    fputs(",\"slurm\":{", f);
    for (int i = 0, n = 0; i < 6; i++)
      if (val[i]) {
        fprintf(f, "%s\"%s\":", n++ ? "," : "", k[i]);
        hp__json_str(f, val[i]);
      }
    fputs("}", f);
  }
  rnode *v = per_node(r);
  fputs(",\"nodes\":[", f);
  size_t k = 0;
  for (size_t i = 0; i < pl->ug->nnodes; i++) {
    int32_t u = pl->ug->order[i];
    if (!pl->ukeep[u])
      continue;
    const rnode *x = &v[u];
    fputs(k++ ? ",{\"name\":" : "{\"name\":", f);
    hp__json_str(f, pl->upipe->nodes[u].name);
    fputs(",\"func\":", f);
    hp__json_str(f, pl->upipe->nodes[u].func);
    char b1[32], b2[32], b3[32], b4[32];
    fprintf(f,
            ",\"tasks\":%zu,\"seconds\":%s,\"max_seconds\":%s,"
            "\"load_seconds\":%s,\"save_seconds\":%s,"
            "\"bytes_read\":%llu,\"bytes_written\":%llu,\"retries\":%zu,"
            "\"failures\":%zu}",
            x->tasks, hp__secs6(x->secs, b1), hp__secs6(x->max, b2),
            hp__secs6(x->load, b3), hp__secs6(x->save, b4),
            (unsigned long long)x->in, (unsigned long long)x->out,
            x->retries, x->failures);
  }
  free(v);
  size_t listed = 0;
  fputs("],\"tasks_run\":[", f);
  for (size_t i = 0; i < r->nt; i++) {
    const rtask *t = &r->t[i];
    if (t->ok == 1 && i >= MAX_LISTED)
      continue; /* the journal has them all */
    fputs(listed++ ? ",{\"task\":" : "{\"task\":", f);
    hp__json_str(f, task_name(r, t->n));
    fputs(",\"node\":", f);
    hp__json_str(f, pl->upipe->nodes[unode(r, t->n)].name);
    char b1[32], b2[32], b3[32], b4[32];
    fprintf(f,
            ",\"rank\":%d,\"attempt\":%d,\"start\":%s,\"seconds\":%s,"
            "\"load_seconds\":%s,\"save_seconds\":%s,"
            "\"bytes_read\":%llu,\"bytes_written\":%llu,\"status\":\"%s\"",
            t->rank, t->attempt, hp__secs6(t->start, b1),
            hp__secs6(t->secs, b2), hp__secs6(t->load, b3),
            hp__secs6(t->save, b4),
            (unsigned long long)t->in, (unsigned long long)t->out,
            t->ok == 1 ? "done" : t->ok == 0 ? "retried" : "failed");
    if (t->cores > 1)
      fprintf(f, ",\"cores\":%d", t->cores);
    if (t->msg) {
      fputs(",\"error\":", f);
      hp__json_str(f, t->msg);
    }
    fputc('}', f);
  }
  fprintf(f, "],\"tasks_listed\":%zu,\"task_attempts\":%zu", listed, r->nt);
  fputs(",\"parameters\":", f);
  hp__json_tree(f, pl->conf->params);
  fputs(",\"settings\":", f);
  hp__json_tree(f, pl->conf->settings);
  fputs("}\n", f);
}

/* ---- HTML ---- */

void hp__html_str(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '<')
      fputs("&lt;", f);
    else if (*s == '>')
      fputs("&gt;", f);
    else if (*s == '&')
      fputs("&amp;", f);
    else if (*s == '"')
      fputs("&quot;", f);
    else
      fputc(*s, f);
  }
}

/* A node's colour: hues spread by the golden angle, in topological order. */
static void colour(size_t k, char *buf, size_t n) {
  snprintf(buf, n, "hsl(%d,70%%,45%%)", (int)fmod((double)k * 137.508, 360));
}

static const char *bytes(uint64_t b, char *buf, size_t n) {
  const char *u[] = {"B", "KB", "MB", "GB", "TB"};
  double x = (double)b;
  int i = 0;
  while (x >= 1000 && i < 4)
    x /= 1000, i++;
  snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", x, u[i]);
  return buf;
}

/* The most bars drawn: a run of a million tasks would make a page no
 * browser opens; the JSON keeps every task. */
#define MAX_BARS 10000
/* node rows in the HTML table (the JSON lists every node) */
#define MAX_ROWS 1000

static void timeline(const hp_report *r, FILE *f, const size_t *rank_of) {
  const hp_plan *pl = r->pl;
  int lanes = pl->size;
  double end = r->secs;
  for (size_t i = 0; i < r->nt; i++) {
    if (task_end(&r->t[i]) > end)
      end = task_end(&r->t[i]);
  }
  if (end <= 0)
    end = 1e-3;
  const int left = 70, width = 1000, lane = 28, top = 10;
  int h = top + lanes * lane + 30;
  fprintf(f,
          "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" "
          "width=\"%d\" height=\"%d\" font-size=\"12\">\n",
          left + width + 10, h);
  for (int l = 0; l < lanes; l++) {
    int y = top + l * lane;
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "fill=\"%s\"/><text x=\"4\" y=\"%d\">rank %d%s</text>\n",
            left, y, width, lane - 4, l % 2 ? "#f4f4f4" : "#ebebeb",
            y + lane / 2 + 2, l, l == 0 && lanes > 1 ? " (sched)" : "");
  }
  size_t drawn = 0;
  for (size_t i = 0; i < r->nt && drawn < MAX_BARS; i++, drawn++) {
    const rtask *t = &r->t[i];
    if (t->rank < 0 || t->rank >= lanes)
      continue;
    /* the whole task pale, its function's part in full colour */
    double x = left + t->start / end * width;
    double xf = x + t->load / end * width;
    double wa = (task_end(t) - t->start) / end * width;
    double w = t->secs / end * width;
    if (w < 1)
      w = 1;
    char c[40];
    colour(rank_of[unode(r, t->n)], c, sizeof c);
    int y = top + t->rank * lane + 2;
    fputs("<g><title>", f);
    hp__html_str(f, task_name(r, t->n));
    fprintf(f,
            " on rank %d at %.3f s: load %.3f s, run %.3f s, save %.3f s%s"
            "</title>",
            t->rank, t->start, t->load, t->secs, t->save,
            t->ok == 1 ? "" : t->ok == 0 ? " (failed, retried)" : " (failed)");
    if (wa > w)
      fprintf(f,
              "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
              "fill=\"%s\" fill-opacity=\"0.35\"/>",
              x, y, wa, lane - 8, c);
    fprintf(f,
            "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
            "fill=\"%s\"%s/></g>\n",
            xf, y, w, lane - 8, t->ok == 1 ? c : "#000",
            t->ok == 1 ? "" : " stroke=\"#c00\" stroke-width=\"2\"");
  }
  int y = top + lanes * lane + 14;
  for (int k = 0; k <= 10; k++) {
    double x = left + width * k / 10.0;
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
            "stroke=\"#888\"/><text x=\"%.1f\" y=\"%d\" "
            "text-anchor=\"middle\">%.3g s</text>\n",
            x, top, x, y - 10, x, y + 10, end * k / 10.0);
  }
  fputs("</svg>\n", f);
  if (r->nt > MAX_BARS)
    fprintf(f, "<p>The first %d of %zu task attempts are drawn; the JSON "
               "record has every one.</p>\n",
            MAX_BARS, r->nt);
}

static void write_html(const hp_report *r, FILE *f) {
  const hp_plan *pl = r->pl;
  const hp_graph *ug = pl->ug;
  size_t *rank_of = hp__xcalloc(ug->nnodes + 1, sizeof *rank_of);
  for (size_t i = 0, k = 0; i < ug->nnodes; i++)
    if (pl->ukeep[ug->order[i]])
      rank_of[ug->order[i]] = k++;
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
        "hpcpipe run ",
        f);
  hp__html_str(f, pl->version);
  fputs("</title>\n<style>\n"
        "body{font-family:sans-serif;margin:20px;color:#222}\n"
        "table{border-collapse:collapse}td,th{padding:3px 10px;"
        "border-bottom:1px solid #ddd;text-align:right}\n"
        "td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}\n"
        ".sw{display:inline-block;width:12px;height:12px;margin-right:6px}\n"
        "pre{background:#f6f6f6;padding:8px;overflow:auto}\n"
        "</style></head><body>\n<h1>hpcpipe run <code>",
        f);
  hp__html_str(f, pl->version);
  fprintf(f, "</code>: %s</h1>\n<p><code>", r->status);
  hp__html_str(f, r->command);
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  fprintf(f,
          "</code></p>\n<p>%d rank%s on ",
          pl->size, pl->size == 1 ? "" : "s");
  hp__html_str(f, host);
  fprintf(f,
          ", started %s, %.3f s. Tasks: %zu done of %zu run, %zu skipped "
          "as up to date. Values moved between workers: %zu (%.1f MB). "
          "hpcpipe %s.</p>\n",
          r->started, r->secs, r->done, r->total, r->skipped, r->moved,
          (double)r->moved_bytes / 1e6, hp_version());
  hp_slurm_job j;
  if (hp__slurm_job(&j)) {
    fputs("<p>SLURM job ", f);
    hp__html_str(f, j.id);
    if (j.array_job && j.array_task) {
      fputs(" (array task ", f);
      hp__html_str(f, j.array_job);
      fputs("_", f);
      hp__html_str(f, j.array_task);
      fputs(")", f);
    }
    if (j.name) {
      fputs(" <code>", f);
      hp__html_str(f, j.name);
      fputs("</code>", f);
    }
    if (j.nodes) {
      fputs(" on ", f);
      hp__html_str(f, j.nodes);
    }
    if (j.restarts && strcmp(j.restarts, "0")) {
      fputs(", requeued ", f);
      hp__html_str(f, j.restarts);
      fputs(" time(s)", f);
    }
    fputs(".</p>\n", f);
  }
  fputs("<h2>Task stream</h2>\n", f);
  timeline(r, f, rank_of);
  rnode *v = per_node(r);
  fputs("<h2>Nodes</h2>\n<table><tr><th>node</th><th>function</th>"
        "<th>tasks</th><th>seconds</th><th>max</th><th>loading</th>"
        "<th>saving</th><th>read</th>"
        "<th>written</th><th>retries</th><th>failures</th></tr>\n",
        f);
  size_t rows = 0, more = 0;
  for (size_t i = 0; i < ug->nnodes; i++) {
    int32_t u = ug->order[i];
    if (!pl->ukeep[u])
      continue;
    if (rows++ >= MAX_ROWS) {
      more++;
      continue;
    }
    const rnode *x = &v[u];
    char c[40], b1[32], b2[32];
    colour(rank_of[u], c, sizeof c);
    fprintf(f, "<tr><td><span class=\"sw\" style=\"background:%s\"></span>",
            c);
    hp__html_str(f, pl->upipe->nodes[u].name);
    fputs("</td><td>", f);
    hp__html_str(f, pl->upipe->nodes[u].func);
    fprintf(f,
            "</td><td>%zu</td><td>%.3f</td><td>%.3f</td><td>%.3f</td>"
            "<td>%.3f</td><td>%s</td><td>%s</td><td>%zu</td><td>%zu</td>"
            "</tr>\n",
            x->tasks, x->secs, x->max, x->load, x->save,
            bytes(x->in, b1, sizeof b1),
            bytes(x->out, b2, sizeof b2), x->retries, x->failures);
  }
  fputs("</table>\n", f);
  if (more)
    fprintf(f, "<p>%zu more nodes: see the JSON record.</p>\n", more);
  free(v);
  int any = 0;
  for (size_t i = 0; i < r->nt; i++) {
    const rtask *t = &r->t[i];
    if (t->ok == 1)
      continue;
    if (!any++)
      fputs("<h2>Failures</h2>\n<ul>\n", f);
    fprintf(f, "<li>%s, attempt %d: ", t->ok ? "failed" : "retried",
            t->attempt);
    hp__html_str(f, t->msg);
    fputs("</li>\n", f);
  }
  if (any)
    fputs("</ul>\n", f);
  fputs("<h2>Configuration</h2>\n<p>Parameters:</p>\n<pre>", f);
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (m) {
    hp__json_tree(m, pl->conf->params);
    fclose(m);
    hp__html_str(f, buf);
    free(buf);
  }
  fputs("</pre>\n</body></html>\n", f);
  free(rank_of);
}

static int write_one(const hp_report *r, const char *path,
                     void (*fn)(const hp_report *, FILE *), hp_error *err) {
  char *tmp;
  FILE *f = hp__fs_tmp_open(path, &tmp, err);
  if (!f)
    return err->code ? err->code : HP_EIO;
  fn(r, f);
  int rc = ferror(f) ? hp__fail(err, HP_EIO, "%s: write error", tmp) : HP_OK;
  return hp__fs_tmp_commit(f, tmp, path, rc, err);
}

int hp__report_write(hp_report *r, char **html_path, hp_error *err) {
  if (html_path)
    *html_path = NULL;
  char *base = hp__xasprintf("%s/reports/%s", r->pl->store_dir,
                             r->pl->version);
  char *json = hp__xasprintf("%s.json", base);
  char *page = hp__xasprintf("%s.html", base);
  int rc = write_one(r, json, write_json, err);
  if (rc == HP_OK)
    rc = write_one(r, page, write_html, err);
  if (rc == HP_OK && html_path)
    *html_path = page;
  else
    free(page);
  free(json);
  free(base);
  return rc;
}
