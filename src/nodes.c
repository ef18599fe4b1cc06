/*
 * nodes.c - the builtin node types of the core.* and datasets.* namespaces,
 * registered through the same table API plugins use (the generators
 * themselves live in synth.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>

#include <stdio.h>

#include "exec.h"
#include "registry.h"
#include "synth.h"

/* core.noop: any inputs; an empty group to each output. */
static int noop_run(hp_node_ctx *ctx) {
  for (size_t i = 0; i < hp_node_noutputs(ctx); i++) {
    int rc = hp_node_output(ctx, i, hp_group_new());
    if (rc != HP_OK)
      return rc;
  }
  return HP_OK;
}

/* core.identity: a copy of input i to output i. */
static int identity_run(hp_node_ctx *ctx) {
  size_t nin = hp_node_ninputs(ctx), nout = hp_node_noutputs(ctx);
  if (nin != nout)
    return hp_node_fail(ctx, "core.identity needs as many inputs as outputs "
                             "(%zu inputs, %zu outputs)",
                        nin, nout);
  for (size_t i = 0; i < nin; i++) {
    const hp_value *v;
    int rc = hp_node_input(ctx, i, &v);
    if (rc != HP_OK)
      return rc;
    rc = hp_node_output(ctx, i, hp__node_take_input(ctx, i));
    if (rc != HP_OK)
      return rc;
  }
  return HP_OK;
}

static void sleep_ms(void *arg, size_t i) {
  (void)i;
  int64_t ms = *(const int64_t *)arg;
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                        .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* core.sleep: sleeps args.ms milliseconds, as args.items (default 1)
 * sleeps of ms / items each run through hp_node_parallel (a stand-in for
 * a node that uses several cores), then passes its inputs through as
 * core.identity when it has as many inputs as outputs (a slow step of a
 * partitioned pipeline, for tests), else behaves as core.noop. */
static int sleep_run(hp_node_ctx *ctx) {
  int64_t ms, items;
  if (hp_tree_i64(hp_node_args(ctx), "ms", 0, &ms) != HP_OK || ms < 0)
    return hp_node_fail(ctx, "core.sleep: args.ms must be an integer >= 0");
  if (hp_tree_i64(hp_node_args(ctx), "items", 1, &items) != HP_OK ||
      items < 1 || items > 1000000)
    return hp_node_fail(ctx, "core.sleep: args.items must be an integer in "
                             "1..1000000");
  int64_t each = ms / items;
  hp_node_parallel(ctx, (size_t)items, sleep_ms, &each);
  if (hp_node_ninputs(ctx) > 0 && hp_node_ninputs(ctx) == hp_node_noutputs(ctx))
    return identity_run(ctx);
  return noop_run(ctx);
}

/* core.fail: fails with args.message (for tests of failure handling). */
static int fail_run(hp_node_ctx *ctx) {
  return hp_node_fail(ctx, "%s",
                      hp_tree_str(hp_node_args(ctx), "message",
                                  "core.fail was asked to fail"));
}

/* datasets.timeseries: partition hp_node_part of Dask's timeseries. */
static int timeseries_run(hp_node_ctx *ctx) {
  hp_value *t = NULL;
  hp_error err = HP_ERROR_INIT;
  if (hp__timeseries_part(hp_node_args(ctx), hp_node_part(ctx), &t, &err) !=
      HP_OK)
    return hp_node_fail(ctx, "%s", err.msg);
  for (size_t i = 1; i < hp_node_noutputs(ctx); i++)
    HP_TRY(hp_node_output(ctx, i, hp_value_copy(t)));
  return hp_node_output(ctx, 0, t);
}

static int timeseries_nparts(const hp_tree *args, size_t *n, char *msg,
                             size_t len) {
  hp_error err = HP_ERROR_INIT;
  if (hp__timeseries_nparts(args, n, &err) == HP_OK)
    return 0;
  snprintf(msg, len, "%s", err.msg);
  return 1;
}

static const hp_node_type core_nodes[] = {
    {.abi = HP_NODE_ABI,
     .name = "core.noop",
     .run = noop_run,
     .doc = "writes an empty group to each output"},
    {.abi = HP_NODE_ABI,
     .name = "core.identity",
     .run = identity_run,
     .doc = "copies input i to output i"},
    {.abi = HP_NODE_ABI,
     .name = "core.sleep",
     .run = sleep_run,
     .doc = "sleeps args.ms milliseconds (in args.items parallel pieces), "
            "then as core.noop"},
    {.abi = HP_NODE_ABI,
     .name = "core.fail",
     .run = fail_run,
     .doc = "fails with args.message"},
    {.abi = HP_NODE_ABI,
     .name = "datasets.timeseries",
     .run = timeseries_run,
     .mode = HP_MODE_SOURCE,
     .nparts = timeseries_nparts,
     .doc = "Dask's timeseries table, one partition per partition_freq"},
};

int hp__nodes_register_builtins(hp_registry *r) {
  return hp_register_nodes(r, core_nodes,
                           sizeof core_nodes / sizeof core_nodes[0]);
}
