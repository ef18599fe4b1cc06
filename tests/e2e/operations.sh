#!/usr/bin/env bash
# Operations: --resume skips exactly what is up to date, --only-missing
# follows Kedro's existence rule, --keep-going finishes independent
# branches, failures print the command that resumes, signals stop a run
# with exit 3 and nothing half-written, one run at a time per store, and
# a run killed at random points resumes to outputs identical to a clean run.
. "$(dirname "$0")/lib.bash"

P=$SCRATCH/p
J=$P/data/store/journal.jsonl
# ran: the nodes that ran in the last run, sorted, comma-separated.
ran() {
  awk '/"event":"start"/ { b = "" } /"event":"done"/ { b = b $0 "\n" } END { printf "%s", b }' "$J" |
    sed 's/.*"node":"\([^"]*\)".*/\1/' | sort | paste -sd, -
}
expect_ran() {
  local got; got=$(ran)
  [ "$got" = "$1" ] && ok "$2 ran: ${1:-nothing}" || fail "$2 ran '$got', expected '$1'"
}

# --- resume and only-missing on the readings project -----------------------
new_project "$P"
for np in 1 3; do
  rm -rf "$P/data/store" "$P/data/02_intermediate" "$P/data/08_reporting"
  hp "$np" run "$P/conf"
  expect_rc 0 "np=$np: first run"
  hp "$np" run "$P/conf" --resume
  expect_rc 0 "np=$np: resume of a complete run"
  expect_err "resume: 5 of 5 nodes are up to date; running 0" "np=$np: nothing to redo"
  expect_ran "" "np=$np: resume of a complete run"

  # one parameter changed: exactly the nodes downstream of it (--dry-run
  # says which, and writes nothing)
  hp "$np" run "$P/conf" --resume --dry-run --params temperature.scaling.factor=2.0
  printf 'temperature.scale\ntemperature.summarize\n' | cmp -s - "$OUT" &&
    ok "np=$np: --dry-run --resume lists what would run" || { fail "np=$np: --dry-run --resume"; cat "$OUT" >&2; }
  hp "$np" run "$P/conf" --resume --params temperature.scaling.factor=2.0
  expect_rc 0 "np=$np: resume with a changed parameter"
  expect_ran "temperature.scale,temperature.summarize" "np=$np: changed parameter"
  hp "$np" run "$P/conf" --resume --params temperature.scaling.factor=2.0
  expect_ran "" "np=$np: the same parameter again"

  # a run of one node reads its input from the file an earlier run wrote:
  # the fingerprint is the one it has when its producer runs too, so a
  # resume afterwards trusts what it made
  hp "$np" run "$P/conf" --nodes temperature.summarize --params temperature.scaling.factor=2.0
  expect_ran "temperature.summarize" "np=$np: a run of one node"
  hp "$np" run "$P/conf" --resume --params temperature.scaling.factor=2.0
  expect_ran "" "np=$np: resume after a run of one node"

  # an HDF5 output deleted between runs: its producer only (its consumer's
  # inputs carry the same fingerprint)
  rm "$P/data/store/rainfall.scaled.h5"
  hp "$np" run "$P/conf" --resume --params temperature.scaling.factor=2.0
  expect_rc 0 "np=$np: resume after a deleted output"
  expect_ran "rainfall.scale" "np=$np: deleted output"

  # a raw input touched: everything that reads it, downstream included
  touch "$P/data/01_raw/readings.csv"
  hp "$np" run "$P/conf" --resume
  expect_ran "clean_readings,rainfall.scale,rainfall.summarize,temperature.scale,temperature.summarize" \
    "np=$np: touched raw input"

  # only-missing: existence, not fingerprints (the changed parameter is
  # not looked at)
  rm "$P/data/08_reporting/rainfall_summary.csv"
  hp "$np" run "$P/conf" --only-missing --params temperature.scaling.factor=3.0
  expect_rc 0 "np=$np: only-missing"
  expect_err "only missing: skipping 4 of 5 nodes whose outputs exist; running 1" "np=$np: only-missing message"
  expect_ran "rainfall.summarize" "np=$np: only-missing"

  # without the journal, HDF5 outputs are recognised by their lineage;
  # CSV outputs, which carry none, are made again
  mv "$J" "$J.old"
  hp "$np" run "$P/conf" --resume
  expect_ran "rainfall.summarize,temperature.summarize" "np=$np: resume without a journal"
  rm -f "$J.old"
done
hp 1 run "$P/conf" --resume --only-missing
expect_rc 2 "--resume with --only-missing"
expect_err "cannot be used together" "--resume with --only-missing: message"

# --- hpcpipe show -------------------------------------------------------------
(cd "$P" && timeout 60 "$HPCPIPE" show clean_readings --rows 2 >"$OUT" 2>"$ERR"); RC=$?
expect_rc 0 "show a dataset by name"
for want in "data/02_intermediate/clean_readings.h5" "table: 132 rows, 5 columns" \
  "node         clean_readings" "function     demo.drop_invalid" "first 2 rows:" "station,year,temp,rain,valid"; do
  grep -qF -- "$want" "$OUT" || fail "show clean_readings lacks '$want'"
done
[ "$(sed -n '/^first 2 rows:/,$p' "$OUT" | wc -l)" = 4 ] || fail "show --rows 2 printed $(sed -n '/^first 2 rows:/,$p' "$OUT" | wc -l) lines"
timeout 60 "$HPCPIPE" show "$P/data/08_reporting/rainfall_summary.csv" >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "show a CSV file"
grep -q "^table: [0-9]* rows" "$OUT" && ok "show a CSV file: schema" || fail "show a CSV file: $(cat "$OUT")"
timeout 60 "$HPCPIPE" show "$P/data/store/rainfall.scaled.h5" --conf "$P/conf" >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "show an HDF5 path"
grep -q "^  fingerprint  [0-9a-f]\{16\}$" "$OUT" && ok "show prints the fingerprint" || fail "show: no fingerprint"
timeout 60 "$HPCPIPE" show nope --conf "$P/conf" >"$OUT" 2>"$ERR"; RC=$?
expect_rc 1 "show an unknown name"
expect_err "'nope' is not a file, nor a dataset of $P/conf's catalog" "show an unknown name: message"
timeout 60 "$HPCPIPE" show --rows x >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "show with a bad option"

# --- failures: keep-going, retries, the resume command ------------------------
F=$SCRATCH/f && rm -rf "$F" && mkdir -p "$F/conf/base"
cat >"$F/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: a, func: core.sleep, args: {ms: 10}, outputs: oa}
    - {node: bad, func: core.fail, inputs: oa, outputs: ob, retries: 1}
    - {node: after_bad, func: core.identity, inputs: ob, outputs: oc}
    - {node: other, func: core.sleep, inputs: oa, args: {ms: 300}, outputs: od}
    - {node: other2, func: core.identity, inputs: od, outputs: oe}
Y
for np in 1 3; do
  rm -rf "$F/data"
  hp "$np" run "$F/conf"
  expect_rc 1 "np=$np: a failing node"
  expect_err "retrying (attempt 2 of 2)" "np=$np: the retry is logged with its attempt"
  expect_err "hpcpipe: to resume: " "np=$np: the resume command is printed"
  grep -q -- "hpcpipe run $F/conf --resume" "$ERR" || fail "np=$np: resume command: $(grep 'to resume' "$ERR")"
  grep "did not run: " "$ERR" | grep -q after_bad && ok "np=$np: what did not run is listed" ||
    fail "np=$np: what did not run is not listed: $(grep 'did not run' "$ERR")"
  no_mpi_noise "np=$np: failing node"
  rm -rf "$F/data"
  hp "$np" run "$F/conf" --keep-going
  expect_rc 1 "np=$np: keep-going still exits 1"
  expect_err "failed: bad" "np=$np: keep-going lists the failure"
  expect_err "did not run: after_bad" "np=$np: keep-going lists what did not run"
  grep -q '"node":"other2"' "$F/data/store/journal.jsonl" &&
    ok "np=$np: keep-going finished the independent branch" ||
    fail "np=$np: keep-going did not run other2"
done

# A value's last consumer takes it over (no copy) only on its last
# attempt: a consumer that will be retried must find the value again. A
# 2 MB memory value held by its worker (np=3) or by the process (np=1).
H=$SCRATCH/h && rm -rf "$H" && mkdir -p "$H/conf/base"
cat >"$H/conf/base/catalog.yml" <<'Y'
big: {type: memory}
copied: {type: memory}
Y
cat >"$H/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: make, func: array.ones, args: {shape: [250000]}, outputs: big}
    - {node: once, func: core.identity, inputs: big, outputs: copied}
    - {node: flaky, func: core.fail, inputs: copied, outputs: never, retries: 2}
Y
for np in 1 3; do
  rm -rf "$H/data"
  hp "$np" run "$H/conf"
  expect_rc 1 "np=$np: a retried last consumer"
  expect_err "retrying (attempt 3 of 3)" "np=$np: every retry ran"
  grep -q "not available" "$ERR" && fail "np=$np: a retry lost its input: $(grep 'not available' "$ERR" | head -1)" ||
    ok "np=$np: each retry found its input"
  [ "$(grep -c 'core.fail was asked to fail' "$ERR")" -ge 3 ] &&
    ok "np=$np: all three attempts failed in the node itself" ||
    fail "np=$np: attempts: $(grep -c 'core.fail was asked to fail' "$ERR")"
done

# --- the store's lock ---------------------------------------------------------
rm -rf "$P/data/store" && mkdir -p "$P/data/store"
sleep 600 & holder=$!
echo "$(hostname) $holder 2026-01-01T00:00:00Z other-run" >"$P/data/store/run.lock"
hp 1 run "$P/conf"
expect_rc 2 "a second run on a busy store"
expect_err "is in use by run other-run (host $(hostname), pid $holder" "busy store: the holder is named"
kill $holder; wait $holder 2>/dev/null
hp 1 run "$P/conf"
expect_rc 0 "a stale lock (dead holder) is taken over"
expect_err "taking over the lock" "stale lock: warning"
[ -e "$P/data/store/run.lock" ] && fail "the lock outlived its run" || ok "the lock is released"
# another host's lock: alive while its time is fresh, stale once it is older
# than HPCPIPE_LOCK_STALE seconds (a live run refreshes it every 30 s)
echo "otherhost 1 2026-01-01T00:00:00Z far-run" >"$P/data/store/run.lock"
HPCPIPE_LOCK_STALE=60 hp 1 run "$P/conf"
expect_rc 2 "another host's fresh lock"
expect_err "in use by run far-run (host otherhost" "another host's fresh lock: message"
touch -d "10 minutes ago" "$P/data/store/run.lock"
HPCPIPE_LOCK_STALE=60 hp 1 run "$P/conf"
expect_rc 0 "another host's lock without heartbeat is taken over"

# --- temporary files of killed runs are swept ---------------------------------
echo junk >"$P/data/store/rainfall.scaled.h5.tmp.4242"
hp 1 run "$P/conf" --resume
[ -e "$P/data/store/rainfall.scaled.h5.tmp.4242" ] && fail "a stale temporary file survived" ||
  ok "stale temporary files are removed"

# --- graceful stop --------------------------------------------------------------
S=$SCRATCH/s && rm -rf "$S" && mkdir -p "$S/conf/base"
{
  echo "pipelines:"
  echo "  __default__:"
  echo "    - {node: n1, func: core.sleep, args: {ms: 300}, outputs: o1}"
  for i in $(seq 2 12); do echo "    - {node: n$i, func: core.sleep, inputs: o$((i - 1)), args: {ms: 300}, outputs: o$i}"; done
} >"$S/conf/base/pipelines.yml"
JS=$S/data/store/journal.jsonl
# stop_run NP HOW: starts a run, signals it after 1 s, waits.
stop_run() {
  rm -rf "$S/data"
  if [ "$1" = 1 ]; then
    timeout 120 "$HPCPIPE" run "$S/conf" >"$OUT" 2>"$ERR" & pid=$!
  else
    timeout 120 "$MPIEXEC" -n "$1" "$HPCPIPE" run "$S/conf" >"$OUT" 2>"$ERR" & pid=$!
  fi
  for _ in $(seq 1 3000); do   # two nodes done (not a fixed sleep: start-up varies)
    n=$(grep -c '"event":"done"' "$JS" 2>/dev/null)
    [ "${n:-0}" -ge 2 ] && break
    sleep 0.01
  done
  case $2 in
    term) kill -TERM "$(pgrep -f -n "^$HPCPIPE run $S/conf")" ;;  # one hpcpipe process
    usr1) kill -USR1 "$(pgrep -P "$pid")" ;;                         # mpirun forwards it
    worker) for p in $(pgrep -f "^$HPCPIPE run $S/conf"); do
              grep -qz '^OMPI_COMM_WORLD_RANK=1$' /proc/$p/environ && kill -TERM "$p"; done ;;
  esac
  wait $pid; RC=$?
}
for how in "1 term" "3 usr1" "3 worker"; do
  set -- $how
  stop_run "$1" "$2"
  expect_rc 3 "np=$1 $2: a stopped run exits 3"
  expect_err "interrupted by signal" "np=$1 $2: interrupted message"
  expect_err "to resume:" "np=$1 $2: resume command"
  no_mpi_noise "np=$1 $2: stop"
  tail -1 "$JS" | grep -q '"event":"interrupted"' || fail "np=$1 $2: the journal does not end with interrupted"
  n=$(grep -c '"event":"done"' "$JS")
  [ "$n" -ge 2 ] && [ "$n" -lt 12 ] || fail "np=$1 $2: $n nodes done before the stop"
  [ -z "$(find "$S/data" -name '*.tmp.*')" ] || fail "np=$1 $2: temporary files remain"
  [ -e "$S/data/store/run.lock" ] && fail "np=$1 $2: lock left behind"
  hp "$1" run "$S/conf" --resume
  expect_rc 0 "np=$1 $2: resume after the stop"
  m=$(grep -c '"event":"done"' "$JS")
  [ "$m" = 12 ] && ok "np=$1 $2: resume ran only the $((12 - n)) nodes left" ||
    fail "np=$1 $2: $m done lines after the resume, expected 12"
done

# --- the grace period runs out: the running node is abandoned; one error
# --- line with the resume command, the journal ends, the store is free -----
G=$SCRATCH/grace && sleep_chain "$G" 100 60000
for np in 1 3; do
  rm -rf "$G/data"
  if [ "$np" = 1 ]; then
    HPCPIPE_GRACE=1 timeout 120 "$HPCPIPE" run "$G/conf" >"$OUT" 2>"$ERR" & pid=$!
  else
    HPCPIPE_GRACE=1 timeout 120 "$MPIEXEC" -n 3 "$HPCPIPE" run "$G/conf" >"$OUT" 2>"$ERR" & pid=$!
  fi
  for _ in $(seq 1 3000); do [ -e "$G/data/store/o1.h5" ] && break; sleep 0.01; done
  sleep 0.3 # n2 runs
  if [ "$np" = 1 ]; then kill -TERM "$(pgrep -f -n "^$HPCPIPE run $G/conf")"
  else kill -USR1 "$(pgrep -P "$pid")"; fi
  wait $pid; RC=$?
  expect_rc 3 "np=$np: the grace period runs out"
  expect_err "abandoned after the grace period" "np=$np: says the node was abandoned"
  expect_err "to resume:" "np=$np: abandoned: resume command"
  [ "$(grep -c 'error' "$ERR")" = 1 ] && ok "np=$np: abandoned: one error line" ||
    fail "np=$np: abandoned: $(grep -c 'error' "$ERR") error lines"
  tail -1 "$G/data/store/journal.jsonl" | grep -q '"event":"interrupted"' ||
    fail "np=$np: abandoned: the journal does not end with interrupted"
  [ -e "$G/data/store/run.lock" ] && fail "np=$np: abandoned: lock left behind"
done
# a lock another run took over meanwhile (it thought ours stale) stays
rm -rf "$G/data"
timeout 120 "$HPCPIPE" run "$G/conf" >"$OUT" 2>"$ERR" & pid=$!
for _ in $(seq 1 3000); do [ -e "$G/data/store/o1.h5" ] && break; sleep 0.01; done
sleep 0.3
echo "otherhost 4242 2026-12-04T00:00:00Z other-run" >"$G/data/store/run.lock"
p=$(pgrep -f -n "^$HPCPIPE run $G/conf"); kill -TERM "$p"; sleep 0.2; kill -TERM "$p"
wait $pid; RC=$?
expect_rc 3 "a second signal ends the run at once"
grep -q other-run "$G/data/store/run.lock" 2>/dev/null && ok "another run's lock is not removed" ||
  fail "the stopped run removed another run's lock"

# --- kill -9 at random points, then resume: identical outputs --------------------
K=$SCRATCH/k && rm -rf "$K" && mkdir -p "$K/conf/base"
cat >"$K/conf/base/catalog.yml" <<'Y'
by_name: {type: csv, filepath: data/by_name.csv}
Y
cat >"$K/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: ts, func: datasets.timeseries, outputs: ts,
       args: {start: "2000-01-01", end: "2000-02-10", freq: "4s", seed: 3}}
    - {node: slow, func: core.sleep, partitioned: true, inputs: ts, outputs: ts_slow, args: {ms: 40}}
    - {node: z, func: frame.assign, inputs: ts_slow, outputs: z, args: {columns: {z: "x * 2 + y"}}}
    - {node: by_name, func: frame.groupby, inputs: z, outputs: by_name,
       args: {by: name, agg: {z: [sum, mean], id: max}}}
Y
digest() {
  { cat "$K/data/by_name.csv"; h5dump -A 0 "$K/data/store/z.h5" | tail -n +2; } | sha256sum
}
hp 3 run "$K/conf"
expect_rc 0 "fault pipeline: clean run"
tasks=$(sed -n 's/.*complete: \([0-9]*\) tasks.*/\1/p' "$ERR")
[ "${tasks:-0}" -ge 50 ] && ok "fault pipeline has $tasks tasks" || fail "fault pipeline has ${tasks:-?} tasks"
clean=$(digest)
for seed in 1 2 3; do
  rm -rf "$K/data"
  RANDOM=$seed
  target=$((RANDOM % 60 + 5))   # done tasks before the kill
  timeout 120 "$MPIEXEC" -n 3 "$HPCPIPE" run "$K/conf" >"$OUT" 2>"$ERR" & pid=$!
  for _ in $(seq 1 600); do
    n=$(grep -c '"event":"done"' "$K/data/store/journal.jsonl" 2>/dev/null)
    [ "${n:-0}" -ge "$target" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
  done
  victim=$([ $((seed % 2)) = 0 ] && echo 0 || echo 2)
  for p in $(pgrep -f "^$HPCPIPE run $K/conf"); do
    grep -qz "^OMPI_COMM_WORLD_RANK=$victim\$" /proc/$p/environ && kill -9 "$p"
  done
  wait $pid; first=$?
  before=$(grep -c '"event":"done"' "$K/data/store/journal.jsonl")
  hp 3 run "$K/conf" --resume
  expect_rc 0 "seed $seed: resume after kill -9 of rank $victim at ~$target tasks (killed run exit $first)"
  after=$(sed -n 's/.*resume: \([0-9]*\) of.*/\1/p' "$ERR")
  [ "${after:-0}" -gt 0 ] || [ "$before" -lt 3 ] || fail "seed $seed: the resume redid everything"
  [ "$(digest)" = "$clean" ] && ok "seed $seed: outputs identical to a clean run ($after tasks skipped)" ||
    fail "seed $seed: outputs differ from a clean run"
  for f in $(find "$K/data" -name '*.h5'); do
    h5dump -H "$f" >/dev/null 2>&1 || fail "seed $seed: $f does not open"
  done
  [ -z "$(find "$K/data" -name '*.tmp.*')" ] || fail "seed $seed: temporary files remain"
done

# --- a node that segfaults, a full disk, a corrupted input: each fails with
# --- its message and exit code, and a resume gives the clean outputs -------
C=$SCRATCH/crash && mkdir -p "$C"
cat >"$C/crash.c" <<'CC'
#include <hpcpipe.h>
#include <signal.h>
#include <string.h>
/* t.maybe_crash: copies its table input; params:crash "segv" crashes,
 * "fail" fails with a message, "none" and "twice" misuse the output */
static int run(hp_node_ctx *ctx) {
  const hp_value *v; const hp_tree *p;
  if (hp_node_input(ctx, 0, &v) || hp_node_param(ctx, 1, &p))
    return hp_node_fail(ctx, "bad inputs");
  const char *how = hp_tree_str(p, NULL, "no");
  if (!strcmp(how, "segv")) raise(SIGSEGV);
  if (!strcmp(how, "fail")) return hp_node_fail(ctx, "asked to fail");
  if (!strcmp(how, "none")) return hp_node_output(ctx, 0, NULL);
  if (!strcmp(how, "twice") && hp_node_output(ctx, 0, hp_value_copy(v)))
    return HP_EINVAL;
  return hp_node_output(ctx, 0, hp_value_copy(v));
}
static const hp_node_type t[] = {{.abi = HP_NODE_ABI, .name = "t.maybe_crash", .run = run}};
HP_EXTERN int hp_plugin_init(hp_registry *reg);
HP_EXTERN int hp_plugin_init(hp_registry *reg) { return hp_register_nodes(reg, t, 1); }
CC
build_plugin "$C/crash.c" "$C/libcrash.so"
printf 'plugins: [%s/libcrash.so]\n' "$C" >"$K/conf/base/hpcpipe.yml"
printf 'crash: "no"\n' >"$K/conf/base/parameters.yml"
cat >>"$K/conf/base/pipelines.yml" <<'Y'
    - {node: final, func: t.maybe_crash, inputs: [by_name, params:crash], outputs: final}
Y
printf 'final: {type: csv, filepath: data/final.csv}\n' >>"$K/conf/base/catalog.yml"
rm -rf "$K/data"
hp 3 run "$K/conf"
expect_rc 0 "fault pipeline with a last node: clean run"
clean=$(digest; cat "$K/data/final.csv" | sha256sum)
asan=$(ldd "$HPCPIPE" | grep -c libasan)
for np in 1 3; do
  rm -rf "$K/data"
  hp "$np" run "$K/conf" --params crash=segv
  if [ "$asan" = 0 ]; then
    expect_rc 1 "np=$np: a node that segfaults"
    expect_err "node 'final' (rank " "np=$np: the crash names the node"
  else
    [ "$RC" != 0 ] || fail "np=$np: a crash under ASan exits non-zero"
  fi
  hp "$np" run "$K/conf" --resume
  expect_rc 0 "np=$np: resume after the crash"
  expect_err "tasks are up to date; running 1" "np=$np: only the crashed node runs again"
  [ "$(digest; cat "$K/data/final.csv" | sha256sum)" = "$clean" ] && ok "np=$np: outputs identical after the crash" ||
    fail "np=$np: outputs differ after the crash"
done

# a node that misuses its output: the message names the output, once
for how in none twice; do
  np=$([ "$how" = none ] && echo 1 || echo 3)
  hp "$np" run "$K/conf" --params crash=$how
  expect_rc 1 "np=$np: a node that sets its output $how"
  msg=$([ "$how" = none ] && echo "output 'final' set to NULL" || echo "output 'final' set twice")
  expect_err "$msg" "np=$np: the $how message"
  [ "$(grep -c "$msg" "$ERR")" = 1 ] || fail "np=$np: the $how message is reported once"
done

# a full disk (a file-size limit: writes fail with EFBIG)
for np in 1 3; do
  rm -rf "$K/data"
  (ulimit -f 400; if [ "$np" = 1 ]; then timeout 240 "$HPCPIPE" run "$K/conf"; else
     timeout 240 "$MPIEXEC" -n "$np" "$HPCPIPE" run "$K/conf"; fi) >"$OUT" 2>"$ERR"; RC=$?
  expect_rc 1 "np=$np: a full disk fails the node"
  expect_err "File too large" "np=$np: the disk-full message"
  no_mpi_noise "np=$np: disk full"
  [ -z "$(find "$K/data" -name '*.tmp.*')" ] || fail "np=$np: half-written files after the disk filled"
  hp "$np" run "$K/conf" --resume
  expect_rc 0 "np=$np: resume once there is room"
  [ "$(digest; cat "$K/data/final.csv" | sha256sum)" = "$clean" ] && ok "np=$np: outputs identical after the full disk" ||
    fail "np=$np: outputs differ after the full disk"
done

# a node returning an error
rm -rf "$K/data"
hp 3 run "$K/conf" --params crash=fail
expect_rc 1 "a node that returns an error"
expect_err "node 'final' (rank " "the failing node is named"
expect_err "asked to fail" "the node's message"
hp 3 run "$K/conf" --resume
expect_rc 0 "resume after a node error"
expect_err "tasks are up to date; running 1" "only the failed node runs again"
[ "$(digest; cat "$K/data/final.csv" | sha256sum)" = "$clean" ] && ok "outputs identical after a node error" ||
  fail "outputs differ after a node error"

# SIGTERM to every rank of the job, as SLURM sends it at a time limit
rm -rf "$K/data"
timeout 120 "$MPIEXEC" -n 3 "$HPCPIPE" run "$K/conf" >"$OUT" 2>"$ERR" & pid=$!
for _ in $(seq 1 600); do
  n=$(grep -c '"event":"done"' "$K/data/store/journal.jsonl" 2>/dev/null)
  [ "${n:-0}" -ge 20 ] && break
  sleep 0.01
done
for p in $(pgrep -f "^$HPCPIPE run $K/conf"); do kill -TERM "$p"; done
wait $pid; RC=$?
expect_rc 3 "SIGTERM to every rank: exit 3"
expect_err "interrupted by signal 15" "SIGTERM to every rank: message"
no_mpi_noise "SIGTERM to every rank"
hp 3 run "$K/conf" --resume
expect_rc 0 "resume after SIGTERM to every rank"
[ "$(digest; cat "$K/data/final.csv" | sha256sum)" = "$clean" ] && ok "outputs identical after the SIGTERM" ||
  fail "outputs differ after the SIGTERM"

# an HDF5 output deleted between runs: only it is made again
rm "$K/data/store/z-parts/part-00005.h5"
hp 3 run "$K/conf" --resume
expect_err "tasks are up to date; running 1" "a deleted partition: only its task runs"
[ "$(digest; cat "$K/data/final.csv" | sha256sum)" = "$clean" ] && ok "outputs identical after a deleted output" ||
  fail "outputs differ after a deleted output"

# a corrupted input: a committed partition file cut in half
f=$K/data/store/ts-parts/part-00007.h5
head -c 20000 "$f" >"$f.cut" && mv "$f.cut" "$f"
hp 3 run "$K/conf" --resume
expect_rc 0 "a resume remakes a corrupted partition"
[ "$(digest; cat "$K/data/final.csv" | sha256sum)" = "$clean" ] && ok "outputs identical after the corruption" ||
  fail "outputs differ after the corruption"
head -c 20000 "$f" >"$f.cut" && mv "$f.cut" "$f"
hp 3 run "$K/conf" --from-nodes slow
expect_rc 1 "a run that reads a corrupted input fails"
expect_err "part-00007.h5" "the corrupted file is named"
no_mpi_noise "corrupted input"

# --- outputs saved in the background: the next task runs meanwhile, the
# --- files and the journal are as before, and a failed save fails the node
B=$SCRATCH/bg && mkdir -p "$B/conf/base"
cat >"$B/big.c" <<'CC'
#include <hpcpipe.h>
/* t.big: 8 Mi float64 (64 MB), x[i] = i / 2; t.sum: their sum */
static int big(hp_node_ctx *ctx) {
  size_t n = (size_t)8 << 20;
  hp_value *a = hp_array_new(HP_FLOAT64, 1, &n);
  if (!a) return hp_node_fail(ctx, "out of memory");
  double *x = hp_array_data_mut(a);
  for (size_t i = 0; i < n; i++) x[i] = (double)i * 0.5;
  return hp_node_output(ctx, 0, a);
}
static int sum(hp_node_ctx *ctx) {
  const hp_value *v;
  if (hp_node_input(ctx, 0, &v)) return hp_node_fail(ctx, "no input");
  const double *x = hp_array_data(v);
  double s = 0;
  for (size_t i = 0; i < hp_array_size(v); i++) s += x[i];
  size_t one = 1;
  hp_value *o = hp_array_new(HP_FLOAT64, 1, &one);
  ((double *)hp_array_data_mut(o))[0] = s;
  return hp_node_output(ctx, 0, o);
}
static const hp_node_type t[] = {{.abi = HP_NODE_ABI, .name = "t.big", .run = big},
                                 {.abi = HP_NODE_ABI, .name = "t.sum", .run = sum}};
HP_EXTERN int hp_plugin_init(hp_registry *reg);
HP_EXTERN int hp_plugin_init(hp_registry *reg) { return hp_register_nodes(reg, t, 2); }
CC
build_plugin "$B/big.c" "$B/libbig.so"
printf 'plugins: [%s/libbig.so]\n' "$B" >"$B/conf/base/hpcpipe.yml"
cat >"$B/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: big, func: t.big, outputs: big}
    - {node: sum, func: t.sum, inputs: big, outputs: total}
Y
printf 'big: {type: hdf5, filepath: data/big.h5}\n' >"$B/conf/base/catalog.yml"
HPCPIPE_BACKGROUND_SAVE=0 hp 1 run "$B/conf"
expect_rc 0 "saving in place (HPCPIPE_BACKGROUND_SAVE=0)"
inplace=$(h5digest "$B")
for np in 1 3; do
  rm -rf "$B/data"
  hp "$np" run "$B/conf"
  expect_rc 0 "np=$np: saving in the background"
  [ "$(h5digest "$B")" = "$inplace" ] && ok "np=$np: the files saved in the background are the same" ||
    fail "np=$np: files differ from those saved in place"
  /usr/bin/python3 - "$B" <<'PY' && ok "np=$np: sum ran while big.h5 was being written" || fail "np=$np: no overlap of the save and the next task"
import glob, json, sys
r = json.load(open(glob.glob(sys.argv[1] + "/data/store/reports/*.json")[0]))
t = {x["task"]: x for x in r["tasks_run"]}
b, s = t["big"], t["sum"]
end = b["start"] + b["load_seconds"] + b["seconds"] + b["save_seconds"]
assert b["save_seconds"] > 0.005, b
assert s["start"] < end, (s["start"], end)
PY
  grep '"node":"big"' "$B/data/store/journal.jsonl" | grep -q '\["big","[0-9a-f]\{16\}","[0-9a-f]*[1-9a-f][0-9a-f]*"\]' &&
    ok "np=$np: the journal records big.h5's stamp" || fail "np=$np: journal line of big: $(grep '"node":"big"' "$B/data/store/journal.jsonl")"
  hp "$np" run "$B/conf" --resume
  expect_err "resume: 2 of 2 nodes are up to date" "np=$np: a resume finds both outputs committed"
  # leftovers: a dead process's temporary file goes, a live one's stays
  # (another run, an array task, may be writing it)
  sleep 60 & live=$!
  sleep 0 & dead=$!; wait $dead
  echo x >"$B/data/big.h5.tmp.$live" && echo x >"$B/data/big.h5.tmp.$dead"
  hp "$np" run "$B/conf"
  [ -e "$B/data/big.h5.tmp.$live" ] && [ ! -e "$B/data/big.h5.tmp.$dead" ] &&
    ok "np=$np: the sweep removes a dead process's temporary file, not a live one's" ||
    fail "np=$np: sweep: live $(ls "$B/data/big.h5.tmp.$live" 2>&1), dead $(ls "$B/data/big.h5.tmp.$dead" 2>&1)"
  kill $live; wait $live 2>/dev/null
  # the directory of big.h5 is a file: the save fails after sum has begun
  rm -rf "$B/data" && mkdir -p "$B/data" && echo x >"$B/data/blocker"
  printf 'big: {type: hdf5, filepath: data/blocker/big.h5}\n' >"$B/conf/base/catalog.yml"
  hp "$np" run "$B/conf"
  expect_rc 1 "np=$np: a failed background save"
  expect_err "node 'big' (rank " "np=$np: the failed save names the node"
  expect_err "data/blocker/big.h5" "np=$np: and the file"
  no_mpi_noise "np=$np: failed background save"
  ! grep -q '"node":"big"' "$B/data/store/journal.jsonl" && ok "np=$np: the journal does not record big done" ||
    fail "np=$np: big recorded done though its save failed"
  hp "$np" run "$B/conf" --keep-going
  expect_rc 1 "np=$np: a failed background save with --keep-going"
  expect_err "failed: big" "np=$np: --keep-going lists the node whose save failed"
  printf 'big: {type: hdf5, filepath: data/big.h5}\n' >"$B/conf/base/catalog.yml"
done

finish
