/*
 * viz.h - `hpcpipe viz CONF [filters]`: the selected nodes and their
 * datasets as a self-contained HTML page (an inline SVG plus collapsible
 * namespace lists), a bare SVG, or Graphviz DOT (docs/cli.md).
 */
#ifndef HP_VIZ_H
#define HP_VIZ_H

#include <stdio.h>

#include "plan.h"

/* format: "html", "svg" or "dot". Errors: HP_EUSAGE for another format. */
int hp__viz(const hp_plan *pl, const char *format, FILE *out, hp_error *err);

#endif
