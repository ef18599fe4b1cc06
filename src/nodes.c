/*
 * nodes.c - the builtin node types of the core.* namespace, registered
 * through the same table API plugins use.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>

#include "registry.h"

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
    rc = hp_node_output(ctx, i, hp_value_copy(v));
    if (rc != HP_OK)
      return rc;
  }
  return HP_OK;
}

/* core.sleep: sleeps args.ms milliseconds, then behaves as core.noop. */
static int sleep_run(hp_node_ctx *ctx) {
  int64_t ms;
  if (hp_tree_i64(hp_node_args(ctx), "ms", 0, &ms) != HP_OK || ms < 0)
    return hp_node_fail(ctx, "core.sleep: args.ms must be an integer >= 0");
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                        .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return noop_run(ctx);
}

/* core.fail: fails with args.message (for tests of failure handling). */
static int fail_run(hp_node_ctx *ctx) {
  return hp_node_fail(ctx, "%s",
                      hp_tree_str(hp_node_args(ctx), "message",
                                  "core.fail was asked to fail"));
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
     .doc = "sleeps args.ms milliseconds, then as core.noop"},
    {.abi = HP_NODE_ABI,
     .name = "core.fail",
     .run = fail_run,
     .doc = "fails with args.message"},
};

int hp__nodes_register_builtins(hp_registry *r) {
  return hp_register_nodes(r, core_nodes,
                           sizeof core_nodes / sizeof core_nodes[0]);
}
