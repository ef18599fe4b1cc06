/*
 * scale.c - a node plugin built against an installed hpcpipe: `ex.scale`
 * multiplies every float64 column of its input table by args.factor.
 */
#include <hpcpipe.h>

static int scale_run(hp_node_ctx *ctx) {
  const hp_value *in;
  double k;
  if (hp_node_input(ctx, 0, &in) != HP_OK)
    return hp_node_fail(ctx, "expects one table input");
  if (hp_tree_f64(hp_node_args(ctx), "factor", 1.0, &k) != HP_OK)
    return hp_node_fail(ctx, "args.factor must be a number");
  if (k == 0.0)
    return hp_node_fail(ctx, "args.factor must be non-zero");
  hp_value *out = hp_value_copy(in);
  for (size_t c = 0; c < hp_table_ncols(out); c++) {
    if (hp_table_coltype(out, c) != HP_FLOAT64)
      continue;
    double *x = hp_table_column_mut(out, c);
    for (size_t r = 0; r < hp_value_rows(out); r++)
      x[r] *= k;
  }
  hp_node_log(ctx, "scaled %zu rows by %g", hp_value_rows(out), k);
  return hp_node_output(ctx, 0, out); /* takes out, even on failure */
}

static const hp_node_type nodes[] = {
    {.abi = HP_NODE_ABI, .name = "ex.scale", .run = scale_run,
     .doc = "multiplies float64 columns by args.factor"},
};

HP_EXTERN int hp_plugin_init(hp_registry *reg);

HP_EXTERN int hp_plugin_init(hp_registry *reg) {
  return hp_register_nodes(reg, nodes, sizeof nodes / sizeof nodes[0]);
}
