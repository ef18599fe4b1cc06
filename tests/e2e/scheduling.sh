#!/usr/bin/env bash
# Scheduling under mpirun: work spreads over the workers, the critical path
# goes first, rank 0 does not burn a core while it waits, and memory
# datasets travel between ranks inline; branches sharing an input spread.
. "$(dirname "$0")/lib.bash"

P=$SCRATCH/s && mkdir -p "$P/conf/base"
printf '"{name}":\n  type: memory\n' >"$P/conf/base/catalog.yml"
{
  echo "pipelines:"
  echo "  __default__:"
  # A chain of three (the critical path) declared after six short nodes.
  for i in 1 2 3 4 5 6; do echo "    - {node: short$i, func: core.sleep, args: {ms: 50}, outputs: s$i}"; done
  echo "    - {node: c1, func: core.sleep, args: {ms: 50}, outputs: c1}"
  echo "    - {node: c2, func: core.identity, inputs: c1, outputs: c2}"
  echo "    - {node: c3, func: core.identity, inputs: c2, outputs: c3}"
} >"$P/conf/base/pipelines.yml"

for np in 1 2; do
  rm -rf "$P/data"
  HPCPIPE_DEPTH=1 hp "$np" run "$P/conf"
  expect_rc 0 "priority run np=$np"
  first=$(grep '"event":"done"' "$P/data/store/journal.jsonl" | head -1 | sed 's/.*"node":"\([^"]*\)".*/\1/')
  [ "$first" = c1 ] || fail "np=$np: the critical path did not go first (first: $first)"
done

# Twelve 200 ms nodes on 3 ranks: both workers take work; rank 0 idles.
{
  echo "pipelines:"
  echo "  __default__:"
  for i in $(seq 1 12); do echo "    - {node: w$i, func: core.sleep, args: {ms: 200}, outputs: w$i}"; done
} >"$P/conf/base/pipelines.yml"
rm -rf "$P/data"
hp 3 run "$P/conf"
expect_rc 0 "spread run"
for r in 1 2; do
  grep -q "\"rank\":$r," "$P/data/store/journal.jsonl" || fail "rank $r ran nothing"
done
cpu=$(sed -n 's/.*complete: .* in \([0-9.]*\) s (rank 0 CPU \([0-9.]*\) s,.*/\2 \1/p' "$ERR")
[ -n "$cpu" ] || fail "no completion line"
awk -v c="${cpu% *}" -v w="${cpu#* }" 'BEGIN { exit !(c < 0.5 * w) }' ||
  fail "rank 0 used ${cpu% *} s of CPU over ${cpu#* } s"

# Two 400 ms branches that read the same input: locality must not
# queue both behind the rank holding it while the other worker idles.
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: src, func: core.sleep, args: {ms: 10}, outputs: shared}
    - {node: b1, func: core.sleep, inputs: shared, outputs: o1, args: {ms: 400}}
    - {node: b2, func: core.sleep, inputs: shared, outputs: o2, args: {ms: 400}}
Y
rm -rf "$P/data/store"
hp 3 run "$P/conf"
expect_rc 0 "branches sharing an input"
r1=$(grep '"node":"b1"' "$P/data/store/journal.jsonl" | grep -o '"rank":[0-9]*' | tail -1)
r2=$(grep '"node":"b2"' "$P/data/store/journal.jsonl" | grep -o '"rank":[0-9]*' | tail -1)
[ -n "$r1" ] && [ "$r1" != "$r2" ] &&
  ok "branches sharing an input ran on two workers ($r1, $r2)" ||
  fail "both branches ran on one worker ($r1, $r2) while the other idled"

# Durations from the journal: a second run orders tasks by the seconds
# they took before (the longest path of work first), not by the number of
# nodes after them; and a worker running a task that took long is not
# given a second one to queue behind it.
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: a_long, func: core.sleep, args: {ms: 400}, outputs: a}
    - {node: b1, func: core.sleep, args: {ms: 20}, outputs: b1}
    - {node: b2, func: core.identity, inputs: b1, outputs: b2}
    - {node: b3, func: core.identity, inputs: b2, outputs: b3}
Y
# first: the first task done in the last run of the journal
first() {
  awk '/"event":"start"/ { f = "" } /"event":"done"/ && f == "" { f = $0 } END { print f }' \
    "$P/data/store/journal.jsonl" | sed 's/.*"node":"\([^"]*\)".*/\1/'
}
for np in 1 2; do
  rm -rf "$P/data"
  HPCPIPE_DEPTH=1 hp "$np" run "$P/conf"
  expect_rc 0 "np=$np: a run without history"
  [ "$(first)" = b1 ] && ok "np=$np: without history the longest chain of nodes goes first" ||
    fail "np=$np: first without history: $(first)"
  HPCPIPE_DEPTH=1 hp "$np" run "$P/conf"
  expect_rc 0 "np=$np: a run with history"
  [ "$(first)" = a_long ] && ok "np=$np: with history the longest work goes first" ||
    fail "np=$np: first with history: $(first), expected a_long"
done
{
  echo "pipelines:"
  echo "  __default__:"
  echo "    - {node: a_long, func: core.sleep, args: {ms: 1000}, outputs: a}"
  for i in $(seq 1 8); do echo "    - {node: s$i, func: core.sleep, args: {ms: 40}, outputs: s$i}"; done
} >"$P/conf/base/pipelines.yml"
rm -rf "$P/data"
hp 3 run "$P/conf"
hp 3 run "$P/conf"
expect_rc 0 "a long task and short ones, with history"
lr=$(grep '"node":"a_long"' "$P/data/store/journal.jsonl" | tail -1 | grep -o '"rank":[0-9]*')
behind=$(awk '/"event":"start"/ { b = "" } /"event":"done"/ { b = b $0 "\n" } END { printf "%s", b }' \
  "$P/data/store/journal.jsonl" | grep '"node":"s' | grep -c "$lr,")
[ -n "$lr" ] && [ "$behind" = 0 ] && ok "no short task queued behind the long one" ||
  fail "$behind short task(s) ran on the long task's worker ($lr)"


# A large memory value whose holder runs a long task: the consumer on the
# idle worker gets it through a spill file that the holder's saving
# thread writes at once, not after the long task.
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: src, func: array.ones, outputs: x, args: {shape: [1048576]}}
    - {node: long, func: core.sleep, inputs: x, outputs: l, args: {ms: 1500}}
    - {node: use, func: core.identity, inputs: x, outputs: u}
Y
rm -rf "$P/data"
HPCPIPE_DEPTH=1 hp 3 run "$P/conf"
expect_rc 0 "a value moved while its holder runs a long task"
expect_err "1 value (8.4 MB) moved between workers" "the value moved"
/usr/bin/python3 - "$P" <<'PY' && ok "the consumer started while the holder ran its long task" || fail "the consumer waited for the holder's task"
import glob, json, sys
r = json.load(open(glob.glob(sys.argv[1] + "/data/store/reports/*.json")[0]))
t = {x["task"]: x for x in r["tasks_run"]}
assert t["use"]["rank"] != t["long"]["rank"], t
assert t["use"]["start"] < t["long"]["start"] + 0.75, (t["use"], t["long"])
PY

# Cores (hp_node_parallel): a node that runs its items on several cores.
# In-process it gets HPCPIPE_THREADS of them; under mpirun, rank 0 lends
# the core of a worker with nothing to do to the task running alone on
# another worker, and the task's next items run on it. Twelve 100 ms
# sleeps: 1.2 s on one core, ~0.65 s once the short node's worker is free.
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: wide, func: core.sleep, args: {ms: 1200, items: 12}, outputs: a}
    - {node: short, func: core.sleep, args: {ms: 100}, outputs: b}
Y
cores_check() { # label, np, max seconds of wide (or min with "slow"), cores
  /usr/bin/python3 - "$P" "$@" <<'PY'
import glob, json, sys
p, label, lim, cores = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
r = json.load(open(glob.glob(p + "/data/store/reports/*.json")[0]))
w = [x for x in r["tasks_run"] if x["task"] == "wide"][0]
got = w.get("cores", 1)
assert got == cores, f"{label}: wide ran on {got} cores, expected {cores}"
if lim.startswith("slow"):
    assert w["seconds"] >= 1.19, f"{label}: wide took {w['seconds']} s"
else:
    assert w["seconds"] < float(lim), f"{label}: wide took {w['seconds']} s"
PY
}
for th in 1 4; do
  rm -rf "$P/data"
  HPCPIPE_THREADS=$th hp 1 run "$P/conf"
  expect_rc 0 "in-process, HPCPIPE_THREADS=$th"
  if [ $th = 1 ]; then lim=slow; else lim=0.9; fi
  cores_check "in-process, $th thread(s)" $lim $th && ok "in-process: $th core(s) for the wide node" || fail "in-process threads=$th"
done
rm -rf "$P/data"
hp 3 run "$P/conf"
expect_rc 0 "np 3, a core lent"
cores_check "np 3" 1.0 2 && ok "np 3: the idle worker's core went to the wide node" || fail "np 3: no core lent"
rm -rf "$P/data"
HPCPIPE_LEND=0 hp 3 run "$P/conf"
expect_rc 0 "np 3, HPCPIPE_LEND=0"
cores_check "np 3, HPCPIPE_LEND=0" slow 1 && ok "np 3, HPCPIPE_LEND=0: nothing lent" || fail "np 3: lent with HPCPIPE_LEND=0"

# Ranks bound to cores: the wide node's helper thread runs on the lent
# worker's CPU too (rank 0 sends the lenders' CPU masks with the grant),
# not only on its own rank's one CPU. Looked at in /proc while it runs.
if [ "$(nproc)" -ge 2 ] && "$MPIEXEC" -n 3 --bind-to core:overload-allowed true 2>/dev/null; then
  cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: wide, func: core.sleep, args: {ms: 3000, items: 30}, outputs: a}
    - {node: short, func: core.sleep, args: {ms: 100}, outputs: b}
Y
  rm -rf "$P/data"
  timeout 240 "$MPIEXEC" -n 3 --bind-to core:overload-allowed "$HPCPIPE" run "$P/conf" >"$OUT" 2>"$ERR" &
  runpid=$!
  sleep 1.5
  wider=0 bound=0
  for pid in $(pgrep -x hpcpipe; pgrep -f "^$HPCPIPE run $P/conf"); do
    [ -r "/proc/$pid/status" ] || continue
    own=$(sed -n 's/^Cpus_allowed_list:\t//p' "/proc/$pid/status")
    case "$own" in *-*|*,*) continue ;; esac # a process not bound to one CPU
    bound=1
    for t in /proc/"$pid"/task/*; do
      m=$(sed -n 's/^Cpus_allowed_list:\t//p' "$t/status" 2>/dev/null)
      [ -n "$m" ] && [ "$m" != "$own" ] && wider=1
    done
  done
  wait "$runpid"; RC=$?
  expect_rc 0 "np 3 bound to cores, a core lent"
  if [ "$bound" = 0 ]; then
    echo "SKIP: the ranks were not bound to single CPUs here" >&2
  else
    [ "$wider" = 1 ] && ok "bound to cores: a helper thread ran on the lender's CPU too" ||
      fail "bound to cores: no helper thread left its rank's CPU"
  fi
  cores_check "np 3, bound to cores" 2.5 2 && ok "bound to cores: the wide node ran on 2 cores" || fail "bound to cores: no core lent"
fi

finish
