#!/usr/bin/env bash
# Hooks: a plugin's hook functions run on the rank where each event
# happens, in the documented order, for node runs, saved datasets, errors
# (before a retry) and the pipeline run.
. "$(dirname "$0")/lib.bash"
H=$SCRATCH/h && rm -rf "$H" && mkdir -p "$H/conf/base"
cat >"$H/hooks.c" <<'CC'
#include <hpcpipe.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static const char *names[] = {"before_pipeline_run", "after_pipeline_run", "before_node_run",
                              "after_node_run", "on_node_error", "after_dataset_saved"};
/* one line per event, one write(2) each (O_APPEND: ranks do not interleave) */
static void log_event(hp_hook_kind k, const hp_hook_event *e, void *data) {
  char line[1024];
  int n = snprintf(line, sizeof line, "%s rank=%d %s node=%s attempt=%d ds=%s status=%s\n",
                   (const char *)data, e->rank, names[k], e->node ? e->node : "-", e->attempt,
                   e->dataset ? e->dataset : "-", e->status ? (strchr(e->status, ' ') ? "error" : e->status) : "-");
  int fd = open(getenv("HOOK_LOG"), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd >= 0) { ssize_t w = write(fd, line, (size_t)n); (void)w; close(fd); }
}
HP_EXTERN int hp_plugin_init(hp_registry *reg);
HP_EXTERN int hp_plugin_init(hp_registry *reg) {
  for (int k = 0; k < HP_HOOK_KINDS; k++)
    if (hp_register_hook(reg, (hp_hook_kind)k, log_event, "first") ||
        hp_register_hook(reg, (hp_hook_kind)k, log_event, "second"))
      return HP_EINVAL;
  return hp_register_hook(reg, HP_HOOK_KINDS, log_event, NULL) == HP_EINVAL ? HP_OK : HP_EINVAL;
}
CC
build_plugin "$H/hooks.c" "$H/libhooks.so"
printf 'plugins: [%s/libhooks.so]\n' "$H" >"$H/conf/base/hpcpipe.yml"
cat >"$H/conf/base/catalog.yml" <<'Y'
kept: {type: csv, filepath: data/kept.csv}
Y
cat >"$H/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: ts, func: datasets.timeseries, outputs: ts,
       args: {start: "2000-01-01", end: "2000-01-03", freq: "1h", seed: 1}}
    - {node: kept, func: frame.filter, inputs: ts, outputs: kept, args: {expr: "x > 0"}}
    - {node: bad, func: core.fail, inputs: kept, outputs: never, retries: 1}
Y
export HOOK_LOG=$SCRATCH/hooks.log
for np in 1 3; do
  rm -rf "$H/data" "$HOOK_LOG"
  hp "$np" run "$H/conf"
  expect_rc 1 "np=$np: run with hooks and a failing node"
  L=$HOOK_LOG
  [ "$(grep -c '^first' "$L")" = "$(grep -c '^second' "$L")" ] && ok "np=$np: both hooks of each kind ran" ||
    fail "np=$np: hooks ran unequally"
  # every event's "first" line comes right before its "second" line
  awk 'NR % 2 == 1 { a = $0; sub(/^first/, "", a) } NR % 2 == 0 { b = $0; sub(/^second/, "", b); if (a != b) exit 1 }' \
    <(grep -E '^(first|second) rank=0 ' "$L") && ok "np=$np: hooks of a kind run in registration order" ||
    fail "np=$np: order of hooks of one kind"
  f=$(grep '^first' "$L")
  head -1 <<<"$f" | grep -q 'rank=0 before_pipeline_run' || fail "np=$np: before_pipeline_run is not first: $(head -1 <<<"$f")"
  tail -1 <<<"$f" | grep -q 'rank=0 after_pipeline_run node=- attempt=0 ds=- status=failed' ||
    fail "np=$np: after_pipeline_run is not last: $(tail -1 <<<"$f")"
  # the node events of one task, on the rank that ran it, in order
  want="before_node_run after_node_run after_dataset_saved"
  for t in "ts[0]" "ts[1]" "kept[0]" "kept[1]"; do
    got=$(grep -F "node=$t " <<<"$f" | awk '{print $3}' | paste -sd' ' -)
    [ "$got" = "$want" ] || fail "np=$np: events of $t: '$got'"
  done
  grep -qF 'after_dataset_saved node=kept[1] attempt=1 ds=kept[1]' <<<"$f" ||
    fail "np=$np: after_dataset_saved names a partition"
  grep -qF 'after_dataset_saved node=kept attempt=1 ds=kept status' <<<"$f" &&
    ok "np=$np: after_dataset_saved for the whole partitioned dataset" ||
    fail "np=$np: no after_dataset_saved for the whole dataset 'kept'"
  got=$(grep -F "node=bad " <<<"$f" | awk '{print $3 "/" $5}' | paste -sd' ' -)
  [ "$got" = "before_node_run/attempt=1 on_node_error/attempt=1 before_node_run/attempt=2 on_node_error/attempt=2" ] &&
    ok "np=$np: a failing node's events, retry included" || fail "np=$np: failing node's events: '$got'"
  if [ "$np" = 3 ]; then
    grep -q 'rank=0 before_node_run' <<<"$f" && fail "np=3: a node hook ran on rank 0" ||
      ok "np=3: node hooks run on the workers"
    grep -qE 'rank=[12] before_node_run' <<<"$f" || fail "np=3: no node hook on a worker"
  fi
done
finish
