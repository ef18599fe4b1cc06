/*
 * viz.c - `hpcpipe viz CONF [filters]`: the selected part of the pipeline
 * as a picture. Nodes (boxes, with function and tags) and datasets
 * (rounded; parameters dashed) in columns by topological layer, left to
 * right, ordered within a column by namespace and then by where their
 * neighbours are (two barycentre sweeps, fewer crossings); namespaces are
 * coloured, listed in a legend and, in the HTML page, as collapsible
 * lists. DOT output groups namespaces as clusters for Graphviz.
 */
#define _POSIX_C_SOURCE 200809L
#include "viz.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "report.h"

/* One drawn item: a node (id < nnodes) or a dataset (nnodes + d). */
typedef struct item {
  int32_t id;
  int col;
  double key; /* order within the column */
  double y;
} item;

typedef struct viz {
  const hp_plan *pl;
  const hp_graph *g;
  item *it;
  size_t n;
  int32_t *at;  /* [nnodes + nds] index into it, or -1 */
  char **nss;   /* top-level namespaces, sorted */
  size_t nns;
} viz;

static int is_node(const viz *v, int32_t id) {
  return (size_t)id < v->g->nnodes;
}

static const char *top_ns(const viz *v, int32_t id) {
  static char buf[256];
  const char *ns = is_node(v, id) ? v->pl->upipe->nodes[id].ns : NULL;
  if (!is_node(v, id)) { /* a dataset: its name's prefix */
    const char *name = v->g->dsname[id - (int32_t)v->g->nnodes];
    const char *dot = strchr(name, '.');
    if (!dot || strncmp(name, "params:", 7) == 0)
      return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)(dot - name), name);
    return buf;
  }
  if (!ns)
    return NULL;
  snprintf(buf, sizeof buf, "%.*s", (int)strcspn(ns, "."), ns);
  return buf;
}

static long ns_index(const viz *v, const char *ns) {
  for (size_t i = 0; ns && i < v->nns; i++)
    if (strcmp(v->nss[i], ns) == 0)
      return (long)i;
  return -1;
}

static void add_ns(viz *v, const char *ns, size_t *cap) {
  if (!ns || ns_index(v, ns) >= 0)
    return;
  hp__grow(&v->nss, cap, v->nns + 1, sizeof *v->nss);
  size_t i = v->nns++;
  while (i > 0 && strcmp(v->nss[i - 1], ns) > 0) {
    v->nss[i] = v->nss[i - 1];
    i--;
  }
  v->nss[i] = hp__xstrdup(ns);
}

static const char *label(const viz *v, int32_t id) {
  return is_node(v, id) ? v->pl->upipe->nodes[id].name
                        : v->g->dsname[id - (int32_t)v->g->nnodes];
}

static void add_item(viz *v, int32_t id, int col) {
  if (v->at[id] >= 0) {
    item *x = &v->it[v->at[id]];
    if (col < x->col)
      x->col = col;
    return;
  }
  v->at[id] = (int32_t)v->n;
  v->it[v->n++] = (item){.id = id, .col = col};
}

static int by_col_key(const void *a, const void *b) {
  const item *x = a, *y = b;
  if (x->col != y->col)
    return x->col < y->col ? -1 : 1;
  return x->key < y->key ? -1 : x->key > y->key;
}

/* The neighbours of an item in the drawn graph (edges both ways). */
static double neighbour_mean(const viz *v, const item *x, int left) {
  const hp_graph *g = v->g;
  double sum = 0;
  int cnt = 0;
  int32_t nn = (int32_t)g->nnodes;
#define SEE(id)                                                                \
  do {                                                                         \
    int32_t j_ = v->at[id];                                                    \
    if (j_ >= 0 && (left ? v->it[j_].col < x->col : v->it[j_].col > x->col)) { \
      sum += v->it[j_].y;                                                      \
      cnt++;                                                                   \
    }                                                                          \
  } while (0)
  if (is_node(v, x->id)) {
    for (size_t k = g->in_off[x->id]; k < g->in_off[x->id + 1]; k++)
      SEE(nn + g->in_ds[k]);
    for (size_t k = g->out_off[x->id]; k < g->out_off[x->id + 1]; k++)
      SEE(nn + g->out_ds[k]);
  } else {
    int32_t d = x->id - nn;
    if (g->producer[d] >= 0)
      SEE(g->producer[d]);
    for (size_t k = g->cons_off[d]; k < g->cons_off[d + 1]; k++)
      SEE(g->cons[k]);
  }
#undef SEE
  return cnt ? sum / cnt : -1;
}

static void place(viz *v) {
  qsort(v->it, v->n, sizeof *v->it, by_col_key);
  for (size_t i = 0, row = 0; i < v->n; i++) {
    row = i > 0 && v->it[i].col == v->it[i - 1].col ? row + 1 : 0;
    v->it[i].y = (double)row;
    v->at[v->it[i].id] = (int32_t)i;
  }
}

static void layout(viz *v) {
  const hp_graph *g = v->g;
  const hp_plan *pl = v->pl;
  int32_t nn = (int32_t)g->nnodes;
  v->at = hp__xcalloc(g->nnodes + g->nds + 1, sizeof *v->at);
  for (size_t i = 0; i < g->nnodes + g->nds; i++)
    v->at[i] = -1;
  v->it = hp__xcalloc(g->nnodes + g->nds + 1, sizeof *v->it);
  size_t cap = 0;
  for (size_t i = 0; i < g->nnodes; i++) {
    int32_t n = g->order[i];
    if (!pl->ukeep[n])
      continue;
    add_item(v, n, 2 * g->layer[n] + 1);
    add_ns(v, top_ns(v, n), &cap);
    for (size_t k = g->out_off[n]; k < g->out_off[n + 1]; k++)
      add_item(v, nn + g->out_ds[k], 2 * g->layer[n] + 2);
  }
  for (size_t i = 0; i < g->nnodes; i++) { /* inputs made by no selected node */
    int32_t n = g->order[i];
    if (!pl->ukeep[n])
      continue;
    for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++)
      add_item(v, nn + g->in_ds[k], 2 * g->layer[n]);
  }
  /* namespace, then name; then two sweeps towards the neighbours */
  for (size_t i = 0; i < v->n; i++) {
    long k = ns_index(v, top_ns(v, v->it[i].id));
    v->it[i].key = (double)(k + 1) * 1e6 + (double)i;
  }
  place(v);
  for (int sweep = 0; sweep < 4; sweep++) {
    for (size_t i = 0; i < v->n; i++) {
      double m = neighbour_mean(v, &v->it[i], sweep % 2 == 0);
      v->it[i].key = m >= 0 ? m + v->it[i].y * 1e-3 : v->it[i].y;
    }
    place(v);
  }
}

/* Namespace k's colour (-1: none): hues spread by the golden angle. */
static void ns_colour(long k, char *buf, size_t n) {
  if (k < 0)
    snprintf(buf, n, "#5b6b7a");
  else
    snprintf(buf, n, "hsl(%d,60%%,40%%)", (int)fmod((double)k * 137.508 + 200,
                                                    360));
}

static void colour(const viz *v, int32_t id, char *buf, size_t n) {
  ns_colour(ns_index(v, top_ns(v, id)), buf, n);
}

enum { COLW = 210, BOXW = 180, ROWH = 56, BOXH = 40, PAD = 20 };

static double cx(const item *x) {
  return PAD + x->col * COLW + BOXW / 2.0;
}
static double cy(const item *x) {
  return PAD + 30 + x->y * ROWH + BOXH / 2.0;
}

static void svg(const viz *v, FILE *f) {
  const hp_graph *g = v->g;
  int32_t nn = (int32_t)g->nnodes;
  int cols = 0, rows = 0;
  for (size_t i = 0; i < v->n; i++) {
    cols = v->it[i].col + 1 > cols ? v->it[i].col + 1 : cols;
    rows = (int)v->it[i].y + 1 > rows ? (int)v->it[i].y + 1 : rows;
  }
  int w = 2 * PAD + cols * COLW, h = 2 * PAD + 30 + rows * ROWH + 20;
  fprintf(f,
          "<svg id=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" "
          "width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
          "font-size=\"12\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 "
          "10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
          "orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#999\"/>"
          "</marker></defs>\n",
          w, h);
  /* legend */
  double lx = PAD;
  for (size_t k = 0; k < v->nns; k++) {
    char c[48];
    ns_colour((long)k, c, sizeof c);
    fprintf(f, "<rect x=\"%.0f\" y=\"%d\" width=\"12\" height=\"12\" "
               "fill=\"%s\"/><text x=\"%.0f\" y=\"%d\">",
            lx, PAD, c, lx + 16, PAD + 11);
    hp__html_str(f, v->nss[k]);
    fputs("</text>\n", f);
    lx += 30 + 7.0 * (double)strlen(v->nss[k]);
  }
  /* edges */
  for (size_t i = 0; i < v->n; i++) {
    const item *x = &v->it[i];
    if (!is_node(v, x->id))
      continue;
    for (int dir = 0; dir < 2; dir++) {
      size_t a = dir ? g->out_off[x->id] : g->in_off[x->id];
      size_t b = dir ? g->out_off[x->id + 1] : g->in_off[x->id + 1];
      for (size_t k = a; k < b; k++) {
        int32_t d = nn + (dir ? g->out_ds[k] : g->in_ds[k]);
        if (v->at[d] < 0)
          continue;
        const item *s = dir ? x : &v->it[v->at[d]];
        const item *t = dir ? &v->it[v->at[d]] : x;
        double x1 = cx(s) + BOXW / 2.0, y1 = cy(s);
        double x2 = cx(t) - BOXW / 2.0, y2 = cy(t), mx = (x1 + x2) / 2;
        fprintf(f,
                "<path d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
                "fill=\"none\" stroke=\"#999\" marker-end=\"url(#arrow)\"/>\n",
                x1, y1, mx, y1, mx, y2, x2, y2);
      }
    }
  }
  /* boxes */
  for (size_t i = 0; i < v->n; i++) {
    const item *x = &v->it[i];
    char c[48];
    colour(v, x->id, c, sizeof c);
    double x0 = cx(x) - BOXW / 2.0, y0 = cy(x) - BOXH / 2.0;
    const char *name = label(v, x->id);
    int param = !is_node(v, x->id) && strncmp(name, "params:", 7) == 0;
    fprintf(f, "<g class=\"%s\"><title>", is_node(v, x->id) ? "node"
                                                             : "dataset");
    hp__html_str(f, name);
    if (is_node(v, x->id)) {
      fputs(" (", f);
      hp__html_str(f, v->pl->upipe->nodes[x->id].func);
      fputs(")", f);
    }
    if (is_node(v, x->id))
      fprintf(f, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" "
                 "height=\"%d\" fill=\"%s\"/>",
              x0, y0, BOXW, BOXH, c);
    else
      fprintf(f, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" "
                 "height=\"%d\" rx=\"18\" fill=\"#fff\" stroke=\"%s\" "
                 "stroke-width=\"2\"%s/>",
              x0, y0, BOXW, BOXH, c, param ? " stroke-dasharray=\"4 3\"" : "");
    const hp_node *nd = is_node(v, x->id) ? &v->pl->upipe->nodes[x->id] : NULL;
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
               "fill=\"%s\">",
            cx(x), cy(x) - (nd ? 3 : -4), nd ? "#fff" : "#222");
    size_t len = strlen(name);
    if (len > 26) { /* keep the end: "...candidate.train" */
      const char *tail = name + len - 25;
      while (tail > name && ((unsigned char)*tail & 0xC0) == 0x80)
        tail--; /* not inside a UTF-8 character */
      fputs("…", f);
      hp__html_str(f, tail);
    } else {
      hp__html_str(f, name);
    }
    fputs("</text>", f);
    if (nd) {
      fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                 "fill=\"#eee\" font-size=\"10\">",
              cx(x), cy(x) + 12);
      hp__html_str(f, nd->func);
      for (size_t t = 0; t < nd->ntags && t < 3; t++) {
        fputs(t ? ", " : " · ", f);
        hp__html_str(f, nd->tags[t]);
      }
      fputs("</text>", f);
    }
    fputs("</g>\n", f);
  }
  fputs("</svg>\n", f);
}

static void html_page(const viz *v, FILE *f) {
  const hp_plan *pl = v->pl;
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
        "hpcpipe pipeline ",
        f);
  hp__html_str(f, pl->conf->confdir);
  fputs("</title>\n<style>body{font-family:sans-serif;margin:20px}"
        "summary{cursor:pointer}li{margin:2px 0}</style></head><body>\n"
        "<h1>Pipeline <code>",
        f);
  hp__html_str(f, pl->conf->confdir);
  fprintf(f, "</code></h1>\n<p>%zu nodes. Boxes are nodes (function and "
             "tags below the name), rounded boxes datasets, dashed ones "
             "parameters; colours are namespaces. Hover for full names.</p>\n",
          pl->nsel);
  svg(v, f);
  fputs("<h2>Namespaces</h2>\n", f);
  for (size_t k = 0; k <= v->nns; k++) {
    const char *ns = k < v->nns ? v->nss[k] : NULL;
    fputs("<details><summary>", f);
    hp__html_str(f, ns ? ns : "(no namespace)");
    fputs("</summary><ul>\n", f);
    for (size_t i = 0; i < v->n; i++) {
      int32_t id = v->it[i].id;
      const char *t = top_ns(v, id);
      if (!is_node(v, id) || (ns ? !t || strcmp(t, ns) : t != NULL))
        continue;
      fputs("<li>", f);
      hp__html_str(f, label(v, id));
      fputs(" <code>", f);
      hp__html_str(f, pl->upipe->nodes[id].func);
      fputs("</code></li>\n", f);
    }
    fputs("</ul></details>\n", f);
  }
  fputs("</body></html>\n", f);
}

static void dot_esc(FILE *f, const char *s) {
  for (; *s; s++)
    fprintf(f, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
}

static void dot_id(FILE *f, const char *prefix, const char *s) {
  fprintf(f, "\"%s", prefix);
  dot_esc(f, s);
  fputc('"', f);
}

/* A two-line DOT label: "a\nb", each part escaped. */
static void dot_label(FILE *f, const char *a, const char *b) {
  fputc('"', f);
  dot_esc(f, a);
  fputs("\\n", f);
  dot_esc(f, b);
  fputc('"', f);
}

static void dot(const viz *v, FILE *f) {
  const hp_graph *g = v->g;
  int32_t nn = (int32_t)g->nnodes;
  fputs("digraph pipeline {\n  rankdir=LR;\n  node [fontname=\"sans-serif\" "
        "fontsize=11];\n",
        f);
  for (size_t k = 0; k <= v->nns; k++) {
    const char *ns = k < v->nns ? v->nss[k] : NULL;
    if (ns) {
      fprintf(f, "  subgraph \"cluster_%zu\" {\n    label=", k);
      dot_id(f, "", ns);
      fputs(";\n", f);
    }
    for (size_t i = 0; i < v->n; i++) {
      int32_t id = v->it[i].id;
      const char *t = top_ns(v, id);
      if (ns ? !t || strcmp(t, ns) : t != NULL)
        continue;
      fputs(ns ? "    " : "  ", f);
      dot_id(f, is_node(v, id) ? "n:" : "d:", label(v, id));
      if (is_node(v, id)) {
        const hp_node *nd = &v->pl->upipe->nodes[id];
        fputs(" [shape=box style=filled fillcolor=\"#dde6ee\" label=", f);
        dot_label(f, nd->name, nd->func);
        if (nd->ntags) {
          fputs(" tooltip=\"tags:", f);
          for (size_t t2 = 0; t2 < nd->ntags; t2++) {
            fputc(' ', f);
            dot_esc(f, nd->tags[t2]);
          }
          fputc('"', f);
        }
        fputs("];\n", f);
      } else {
        int param = strncmp(label(v, id), "params:", 7) == 0;
        fprintf(f, " [shape=box style=\"rounded%s\" label=",
                param ? ",dashed" : "");
        dot_id(f, "", label(v, id));
        fputs("];\n", f);
      }
    }
    if (ns)
      fputs("  }\n", f);
  }
  for (size_t i = 0; i < v->n; i++) {
    int32_t n = v->it[i].id;
    if (!is_node(v, n))
      continue;
    for (size_t k = g->in_off[n]; k < g->in_off[n + 1]; k++) {
      fputs("  ", f);
      dot_id(f, "d:", g->dsname[g->in_ds[k]]);
      fputs(" -> ", f);
      dot_id(f, "n:", label(v, n));
      fputs(";\n", f);
    }
    for (size_t k = g->out_off[n]; k < g->out_off[n + 1]; k++) {
      fputs("  ", f);
      dot_id(f, "n:", label(v, n));
      fputs(" -> ", f);
      dot_id(f, "d:", label(v, nn + g->out_ds[k]));
      fputs(";\n", f);
    }
  }
  fputs("}\n", f);
}

int hp__viz(const hp_plan *pl, const char *format, FILE *out,
            hp_error *err) {
  if (strcmp(format, "html") && strcmp(format, "svg") && strcmp(format, "dot"))
    return hp__fail(err, HP_EUSAGE,
                    "--format must be html, svg or dot (not '%s')", format);
  viz v = {.pl = pl, .g = pl->ug};
  layout(&v);
  if (strcmp(format, "dot") == 0)
    dot(&v, out);
  else if (strcmp(format, "svg") == 0)
    svg(&v, out);
  else
    html_page(&v, out);
  for (size_t i = 0; i < v.nns; i++)
    free(v.nss[i]);
  free(v.nss), free(v.it), free(v.at);
  return HP_OK;
}
