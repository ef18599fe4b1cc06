/*
 * tutorial.c - the node functions of examples/dask_tutorial: the Dask
 * tutorial's delayed example
 *
 *     def inc(x): time.sleep(1); return x + 1
 *     def dec(x): time.sleep(1); return x - 1
 *     def add(x, y): time.sleep(1); return x + y
 *     x = delayed(inc)(1); y = delayed(dec)(2); total = delayed(add)(x, y)
 *
 * as three nodes. Each sleeps, then outputs a 1-element int64 array. Built
 * as a plugin (libhpcpipe_tutorial.so) that only uses the public API.
 *
 * Inputs, by argument name (the mapping form of `inputs:`):
 *   x         inc, dec: a `params:` integer (or args.x without the input)
 *   x, y      add: datasets holding a number, a 1-element int64/float64
 *             array (what inc and dec write) or a group with an int64
 *             attribute `value`
 *   options   optional `params:` mapping; its `sleep_ms` wins over
 *             args.sleep_ms
 * args.sleep_ms: milliseconds to sleep (default 1000, the tutorial's
 * time.sleep(1)).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <time.h>

#include <hpcpipe.h>

/* The sleep: options.sleep_ms, else args.sleep_ms, else 1000. */
static int sleep_for(hp_node_ctx *ctx) {
  int64_t ms = 1000;
  if (hp_tree_i64(hp_node_args(ctx), "sleep_ms", 1000, &ms) != HP_OK)
    return hp_node_fail(ctx, "args.sleep_ms must be an integer");
  long oi = hp_node_input_index(ctx, "options");
  if (oi >= 0) {
    const hp_tree *opt;
    if (hp_node_param(ctx, (size_t)oi, &opt) != HP_OK)
      return hp_node_fail(ctx, "input 'options' must be a params: input");
    if (hp_tree_i64(opt, "sleep_ms", ms, &ms) != HP_OK)
      return hp_node_fail(ctx, "options.sleep_ms must be an integer");
  }
  if (ms < 0)
    return hp_node_fail(ctx, "sleep_ms must be >= 0, not %lld", (long long)ms);
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                        .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
  return HP_OK;
}

/* A number from `params:` input `name`, or from args.<name> when the node
 * has no such input. */
static int param_number(hp_node_ctx *ctx, const char *name, int64_t *out) {
  long i = hp_node_input_index(ctx, name);
  if (i < 0) {
    const hp_tree *a = hp_node_args(ctx);
    if (!hp_tree_get(a, name))
      return hp_node_fail(ctx, "needs inputs {%s: params:...} or args.%s",
                          name, name);
    if (hp_tree_i64(a, name, 0, out) != HP_OK)
      return hp_node_fail(ctx, "args.%s must be an integer", name);
    return HP_OK;
  }
  const hp_tree *t;
  if (hp_node_param(ctx, (size_t)i, &t) != HP_OK)
    return HP_EINVAL; /* the message names the input */
  if (hp_tree_i64(t, NULL, 0, out) != HP_OK)
    return hp_node_fail(ctx, "input '%s': the parameter is not an integer",
                        name);
  return HP_OK;
}

/* The number held by dataset input `name`: a 1-element int64 or float64
 * array (what these functions write), or a group with an int64 attribute
 * `value`. */
static int value_number(hp_node_ctx *ctx, const char *name, int64_t *out) {
  long i = hp_node_input_index(ctx, name);
  if (i < 0)
    return hp_node_fail(ctx, "needs an input named '%s' (inputs: {%s: ...})",
                        name, name);
  const hp_value *v;
  if (hp_node_input(ctx, (size_t)i, &v) != HP_OK)
    return HP_EINVAL; /* the message names the input */
  if (hp_value_kind(v) == HP_GROUP) {
    if (hp_group_attr_i64(v, "value", out) != HP_OK)
      return hp_node_fail(ctx, "input '%s': the group has no int64 attribute "
                               "'value'", name);
    return HP_OK;
  }
  if (hp_value_kind(v) != HP_ARRAY || hp_array_size(v) != 1)
    return hp_node_fail(ctx, "input '%s' is not a number (a 1-element array "
                             "or a group with attribute 'value')", name);
  if (hp_array_dtype(v) == HP_INT64) {
    *out = ((const int64_t *)hp_array_data(v))[0];
    return HP_OK;
  }
  double d = ((const double *)hp_array_data(v))[0];
  if (d != floor(d) || fabs(d) > 9e15)
    return hp_node_fail(ctx, "input '%s' = %g is not a whole number", name, d);
  *out = (int64_t)d;
  return HP_OK;
}

static int put_number(hp_node_ctx *ctx, int64_t x) {
  size_t one = 1;
  hp_value *a = hp_array_new(HP_INT64, 1, &one);
  if (!a)
    return hp_node_fail(ctx, "out of memory");
  ((int64_t *)hp_array_data_mut(a))[0] = x;
  return hp_node_output(ctx, 0, a);
}

/* inc and dec: x + delta after the sleep. */
static int step(hp_node_ctx *ctx, int64_t delta, const char *what) {
  int64_t x;
  int rc = param_number(ctx, "x", &x);
  if (rc == HP_OK)
    rc = sleep_for(ctx);
  if (rc != HP_OK)
    return rc;
  hp_node_log(ctx, "%s(%lld) = %lld", what, (long long)x,
              (long long)(x + delta));
  return put_number(ctx, x + delta);
}

/* tutorial.inc(x) = x + 1 */
static int inc_run(hp_node_ctx *ctx) { return step(ctx, 1, "inc"); }

/* tutorial.dec(x) = x - 1 */
static int dec_run(hp_node_ctx *ctx) { return step(ctx, -1, "dec"); }

/* tutorial.add(x, y) = x + y */
static int add_run(hp_node_ctx *ctx) {
  int64_t x, y;
  int rc = value_number(ctx, "x", &x);
  if (rc == HP_OK)
    rc = value_number(ctx, "y", &y);
  if (rc == HP_OK)
    rc = sleep_for(ctx);
  if (rc != HP_OK)
    return rc;
  hp_node_log(ctx, "add(%lld, %lld) = %lld", (long long)x, (long long)y,
              (long long)(x + y));
  return put_number(ctx, x + y);
}

static const hp_node_type tutorial_nodes[] = {
    {.abi = HP_NODE_ABI, .name = "tutorial.inc", .run = inc_run,
     .doc = "x + 1 after sleeping sleep_ms (Dask tutorial's inc)"},
    {.abi = HP_NODE_ABI, .name = "tutorial.dec", .run = dec_run,
     .doc = "x - 1 after sleeping sleep_ms (Dask tutorial's dec)"},
    {.abi = HP_NODE_ABI, .name = "tutorial.add", .run = add_run,
     .doc = "x + y after sleeping sleep_ms (Dask tutorial's add)"},
};

HP_EXTERN int hp_plugin_init(hp_registry *reg);

HP_EXTERN int hp_plugin_init(hp_registry *reg) {
  return hp_register_nodes(reg, tutorial_nodes,
                           sizeof tutorial_nodes / sizeof tutorial_nodes[0]);
}
