#!/usr/bin/env bash
# hpcpipe on a real SLURM cluster: tests/slurm/cluster.sh starts a private
# one on this machine (slurmctld + two slurmd nodes; slurm-wlm and munge
# installed if missing) and every job goes through sbatch, srun and
# scontrol. Skipped (exit 77) only when SLURM cannot start here.
#  1. `hpcpipe slurm submit` of the repository's conf/ on 2 nodes x 4 ranks
#     completes, its outputs equal an in-process run's, and the run report
#     names the job and its nodes.
#  2. A 3-task sweep (--sweep) writes three distinct versioned result sets;
#     a job that depends on the array (afterok) sees all three. The
#     slurm/ templates do the same as a chain (slurm/chain.sh).
#  3. A job whose time limit comes (--time 2, USR1 60 s before it) stops
#     cleanly, requeues itself and completes with --resume; every task ran
#     exactly once over the attempts: rendered with mpirun, and the srun
#     template slurm/long-run.sbatch. The single-run templates complete.
#  4. A failing job's dependent is cancelled, and `hpcpipe slurm status`
#     says why; values that could inject shell code are quoted or refused.
. "$(dirname "$0")/lib.bash"

# sleepers DIR N MS: a project of N independent nodes that sleep MS ms.
sleepers() {
  mkdir -p "$1/conf/base"
  {
    echo "pipelines:"
    echo "  __default__:"
    for i in $(seq 1 "$2"); do echo "    - {node: n$i, func: core.sleep, args: {ms: $3}, outputs: o$i}"; done
  } >"$1/conf/base/pipelines.yml"
  echo "{}" >"$1/conf/base/catalog.yml"
}

# ---- 0. HPCPIPE_STOP_FILE (what job scripts use), without SLURM ------------
S0=$SCRATCH/stopfile
sleepers "$S0" 12 500
for np in 1 3; do
  rm -rf "$S0/data"
  (sleep 1.2 && : >"$S0/stop") &
  HPCPIPE_STOP_FILE=$S0/stop hp $np run "$S0/conf"
  wait
  rm -f "$S0/stop"
  expect_rc 3 "np=$np: the stop file stops the run"
  expect_err "interrupted by HPCPIPE_STOP_FILE" "np=$np: says why"
  expect_err "stopping ($S0/stop exists)" "np=$np: names the file"
  HPCPIPE_STOP_FILE=$S0/stop hp $np run "$S0/conf" --resume
  expect_rc 0 "np=$np: --resume finishes the rest"
  [ "$(grep -c '"event":"done"' "$S0/data/store/journal.jsonl")" = 12 ] &&
    ok "np=$np: each of the 12 tasks done once" || fail "np=$np: tasks redone"
done
# run --store: the journal, lock and intermediates go there instead
hp 1 run "$S0/conf" --store "$SCRATCH/other-store" --to-nodes n1
expect_rc 0 "run --store DIR"
[ -s "$SCRATCH/other-store/journal.jsonl" ] && [ -f "$SCRATCH/other-store/o1.h5" ] &&
  ok "--store: journal and outputs in that directory" || fail "--store ignored"
hp 1 run "$S0/conf" --store=
expect_rc 2 "run --store= refused"
expect_err "--store needs a directory" "says so"
hp 1 check "$S0/conf" --store x
expect_rc 2 "--store is for run only"

export HPCPIPE_SLURM_DIR=/tmp/hpcpipe-slurm-test HPCPIPE_SLURM_PORT=6937
CLUSTER=$SRC/tests/slurm/cluster.sh
bash "$CLUSTER" start
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || { fail "the test cluster did not start"; finish; }
trap 'bash "$CLUSTER" stop' EXIT
eval "$(bash "$CLUSTER" env)"
. "$SRC/slurm/mpi-env.sh" # sbatch passes the environment on to the job
BIN=$(cd "$(dirname "$HPCPIPE")" && pwd)
export PATH="$BIN:$PATH"

# wait_job ID [SECONDS]: until no task of the job is pending or running.
wait_job() {
  local end=$((SECONDS + ${2:-240}))
  while [ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; do
    [ $SECONDS -lt $end ] || { fail "job $1 still queued or running after ${2:-240} s"; scontrol show job "$1" >&2; return 1; }
    sleep 1
  done
}
# state ID: the job's (or array tasks') states, sorted, space-separated.
state() { scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort | tr '\n' ' ' | sed 's/ $//'; }

# ---- 1. the default conf on 2 nodes x 4 ranks --------------------------------
P=$SCRATCH/cluster
mkdir -p "$P" && cp -r "$SRC/conf" "$P/"
cd "$P" || exit 1
J=$("$HPCPIPE" slurm submit conf --nodes 2 --ntasks-per-node 4 --time 10 2>"$ERR")
RC=$?
expect_rc 0 "slurm submit conf --nodes 2 --ntasks-per-node 4"
if [ "$RC" = 0 ] && wait_job "$J"; then
  [ "$(state "$J")" = COMPLETED ] && ok "job $J completed" || { fail "job $J: $(state "$J")"; cat data/store/slurm/*.out >&2; }
  script=$(ls data/store/slurm/*.sbatch)
  grep -q '^#SBATCH --nodes=2$' "$script" && grep -q 'srun --mpi=pmix' "$script" &&
    ok "the rendered script is kept: $script" || fail "no kept script with --nodes=2 and srun"
  R=$(ls data/store/reports/*.json | head -1)
  /usr/bin/python3 - "$R" "$J" <<'PY' && ok "run report records job $J, node[1-2], 8 ranks" || fail "run report lacks the SLURM job"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ranks"] == 8, r["ranks"]
assert r["slurm"]["job"] == sys.argv[2], r.get("slurm")
assert r["slurm"]["nodes"] == "node[1-2]", r["slurm"]
PY
  grep -q "SLURM job $J" "${R%.json}.html" && ok "HTML report names the job" || fail "HTML report lacks the job"
  Q=$SCRATCH/inprocess
  mkdir -p "$Q" && cp -r "$SRC/conf" "$Q/"
  (cd "$Q" && timeout 240 "$HPCPIPE" run conf >/dev/null 2>&1) || fail "in-process run"
  differ=""
  for f in $(cd "$Q" && find data -type f \( -name '*.csv' -o -name '*.svg' -o -name '*.md' \) -not -path 'data/store/*' | sort); do
    cmp -s "$Q/$f" "$P/$f" || differ="$differ $f"
  done
  [ -z "$differ" ] && ok "CSV, SVG and markdown outputs equal the in-process run's" || fail "differ from in-process:$differ"
  h5digest "$Q" >"$SCRATCH/h5.inprocess"
  h5digest "$P" >"$SCRATCH/h5.cluster"
  cmp -s "$SCRATCH/h5.inprocess" "$SCRATCH/h5.cluster" &&
    ok "HDF5 data equal the in-process run's ($(wc -l <"$SCRATCH/h5.cluster") files)" ||
    { fail "HDF5 data differ"; diff "$SCRATCH/h5.inprocess" "$SCRATCH/h5.cluster" | head >&2; }
fi

# yield when idle: a job given 4 CPUs of a node on this 2-core machine
if [ "$(nproc)" -lt 4 ]; then
  Y=$(sbatch --parsable -N 1 -n 4 -o "$SCRATCH/yield.out" --wrap "env -u OMPI_MCA_mpi_yield_when_idle HPCPIPE_LOG=debug srun --mpi=pmix hpcpipe run '$S0/conf' --to-nodes n1 --store '$SCRATCH/yield-store'")
  wait_job "$Y" 60
  grep -q "SLURM gives this job 4 CPUs on a node with $(nproc) cores: idle ranks yield" "$SCRATCH/yield.out" &&
    ok "inside a job on an oversubscribed node, hpcpipe makes idle ranks yield" ||
    { fail "no yield-when-idle inside the job"; cat "$SCRATCH/yield.out" >&2; }
fi

# ---- 2. a sweep as a job array, and a job that needs all of it ----------------
S=$("$HPCPIPE" slurm submit conf --env sweep --pipelines data_science --namespaces active \
  --sweep active.model_options.n_clusters=2,3,4 --ntasks 3 --time 10 2>"$ERR")
RC=$?
expect_rc 0 "slurm submit --sweep (3 tasks)"
D=$(sbatch --parsable --dependency="afterok:$S" --kill-on-invalid-dep=yes -o /dev/null \
  --wrap "md5sum data/07_model_output/sweep/active_labels.csv/*/active_labels.csv > seen.txt")
if [ "$RC" = 0 ] && wait_job "$S" && wait_job "$D" 60; then
  [ "$(state "$S")" = "COMPLETED COMPLETED COMPLETED" ] && ok "array $S: 3 tasks completed" || fail "array $S: $(state "$S")"
  [ "$(state "$D")" = COMPLETED ] && ok "dependent job $D ran after the array" || fail "dependent $D: $(state "$D")"
  if [ -f seen.txt ]; then
    n=$(wc -l <seen.txt) u=$(cut -d' ' -f1 seen.txt | sort -u | wc -l)
    tasks=$(grep -o -- '-a[0-9]*/' seen.txt | sort | tr -d '\n')
    [ "$n" = 3 ] && [ "$u" = 3 ] && [ "$tasks" = "-a0/-a1/-a2/" ] &&
      ok "the dependent job sees 3 distinct result sets (versions -a0, -a1, -a2)" ||
      { fail "dependent job saw $n files, $u distinct, tasks '$tasks'"; cat seen.txt >&2; }
  else
    fail "the dependent job wrote nothing"
  fi
  own=0
  for t in 0 1 2; do
    grep -q "n_clusters=$((t + 2))" data/store/array/$t/journal.jsonl && own=$((own + 1))
  done
  [ $own = 3 ] && ok "each task ran in its own store with its own --params" ||
    fail "only $own of 3 tasks ran in their own store with n_clusters=task+2"
  /usr/bin/python3 -c 'import json,glob,sys; r=json.load(open(glob.glob(sys.argv[1]+"/*.json")[0])); assert r["slurm"]["array_task"]=="1" and r["slurm"]["array_job"]==sys.argv[2], r["slurm"]' \
    data/store/array/1/reports "$S" && ok "task 1's run report records array $S, task 1" || fail "array task not in the report"
fi
# the templates: slurm/chain.sh (prep -> slurm/sweep.sbatch -> report)
T=$SCRATCH/templates
mkdir -p "$T/data/08_reporting" && cp -r "$SRC/conf" "$SRC/slurm" "$T/"
out=$(cd "$T" && bash slurm/chain.sh 2>&1)
last=$(echo "$out" | grep -o 'report [0-9]*' | cut -d' ' -f2)
if [ -n "$last" ] && wait_job "$last" 300; then
  [ "$(wc -l <"$T/data/08_reporting/sweep_versions.txt" 2>/dev/null)" = 3 ] &&
    ok "slurm/chain.sh: prep, sweep.sbatch (3 tasks) and the report job ran in order" ||
    { fail "slurm/chain.sh: no 3 versions"; cat "$T"/slurm-*.out >&2; }
else
  fail "slurm/chain.sh: $out"
fi

# ---- 3. the time limit: stop, requeue, resume ---------------------------------
L=$SCRATCH/long
sleepers "$L" 140 1000
# the same project twice: rendered by hpcpipe (with mpirun as the launcher)
# and as slurm/long-run.sbatch with a 2-minute limit given to sbatch
cp -r "$L" "$L-template" && cp -r "$SRC/slurm" "$L-template/"
cd "$L" || exit 1
J=$("$HPCPIPE" slurm submit conf --ntasks 3 --time 2 --stop-before 60 --launcher mpirun 2>"$ERR")
RC=$?
expect_rc 0 "slurm submit --time 2 --stop-before 60 --launcher mpirun (140 tasks of 1 s on 2 workers)"
K=$(cd "$L-template" && sbatch --parsable --ntasks=3 --time=2 --signal=B:USR1@60 slurm/long-run.sbatch)
# check_requeued DIR JOB WHAT: the job completed after stopping, requeueing
# itself and resuming; every task done exactly once over the attempts.
check_requeued() {
  [ "$(state "$2")" = COMPLETED ] && ok "$3: job $2 completed" || fail "$3: job $2: $(state "$2")"
  out=$(cat "$1"/data/store/slurm/*.out "$1"/slurm-*.out 2>/dev/null)
  grep -q "requeueing.* $2 to continue with --resume" <<<"$out" &&
    ok "$3: it stopped before the time limit and requeued itself" ||
    { fail "$3: no requeue"; echo "$out" | tail >&2; }
  /usr/bin/python3 - "$1"/data/store/journal.jsonl <<'PY' && ok "$3: every task done exactly once over the attempts; later ones ran --resume" || fail "$3: journal: tasks redone or missing"
import json, sys, collections
ev = [json.loads(l) for l in open(sys.argv[1])]
starts = [e for e in ev if e.get("event") == "start"]
done = collections.Counter(e["node"] for e in ev if e.get("event") == "done")
assert len(starts) >= 2, starts
assert all("--resume" in s["command"] for s in starts[1:]), [s["command"] for s in starts]
assert "--resume" not in starts[0]["command"]
assert len(done) == 140 and set(done.values()) == {1}, done
assert any(e.get("event") == "interrupted" for e in ev), "no interrupted record"
PY
}
if [ "$RC" = 0 ] && wait_job "$J" 300; then
  check_requeued "$L" "$J" "hpcpipe slurm submit --time (mpirun)"
  "$HPCPIPE" slurm status >"$OUT" 2>"$ERR"
  grep -q "^$J .*COMPLETED.*requeued [0-9]* time" "$OUT" && ok "slurm status: completed, requeued" ||
    { fail "slurm status after requeue"; cat "$OUT" >&2; }
fi
if [ -n "$K" ] && wait_job "$K" 300; then
  check_requeued "$L-template" "$K" "slurm/long-run.sbatch (srun)"
fi

# the single-run templates on the repository's conf: srun and mpirun on 2 nodes
R=$SCRATCH/runs
mkdir -p "$R" && cp -r "$SRC/conf" "$SRC/slurm" "$R/"
cd "$R" || exit 1
A=$(sbatch --parsable slurm/run-srun.sbatch) && wait_job "$A" &&
  B=$(sbatch --parsable --job-name=hpcpipe-run2 slurm/run-mpirun.sbatch) && wait_job "$B"
if [ "$(state "$A") $(state "${B:-0}")" = "COMPLETED COMPLETED" ]; then
  ok "slurm/run-srun.sbatch and slurm/run-mpirun.sbatch completed on 2 nodes x 4 ranks"
  cmp -s data/08_reporting/decision.md "$P/data/08_reporting/decision.md" &&
    ok "the templates' runs decide as the submitted one" || fail "decision.md differs"
else
  fail "templates: $(state "$A") / $(state "${B:-0}")"; cat slurm-*.out >&2
fi

# ---- 4. a failing job, its dependent, and what status says -----------------
cd "$P" || exit 1
F=$("$HPCPIPE" slurm submit conf --ntasks 2 --pipelines data_science \
  --params "active.model_options.metric=bogus\$(touch $SCRATCH/pwned)'\`touch $SCRATCH/pwned\`" 2>"$ERR")
RC=$?
expect_rc 0 "submit a run that will fail"
G=$("$HPCPIPE" slurm submit conf --ntasks 2 --pipelines compare --dependency "afterok:$F" 2>"$ERR")
if [ "$RC" = 0 ] && wait_job "$F" && wait_job "$G" 60; then
  [ "$(state "$F")" = FAILED ] && ok "job $F failed" || fail "job $F: $(state "$F")"
  [ "$(state "$G")" = CANCELLED ] && ok "its dependent $G was cancelled" || fail "dependent $G: $(state "$G")"
  [ ! -e "$SCRATCH/pwned" ] && ok "--params with \$(...) and backquotes reached the run as text" || fail "shell code in --params ran"
  "$HPCPIPE" slurm status >"$OUT" 2>"$ERR"
  grep -q "^$F .*FAILED .*exit 1: a node failed" "$OUT" && ok "status: $F failed, exit 1: a node failed" ||
    { fail "status of the failed job"; cat "$OUT" >&2; }
  grep -q "^$G .*CANCELLED .*job $F, which it needed to succeed (afterok), failed" "$OUT" &&
    ok "status: $G cancelled because $F failed" || { fail "status of the dependent"; cat "$OUT" >&2; }
  sed 's/^/  status| /' "$OUT" >&2
fi

# bad values are refused with the option named; sbatch's refusals are shown
for bad in "--partition=a;b" "--dependency=afterok:1;reboot" "--time=1h" "--time=1:-30" "--job-name=a b" "--sweep=x" "--launcher=ssh"; do
  "$HPCPIPE" slurm render conf "$bad" >"$OUT" 2>"$ERR"; RC=$?
  expect_rc 2 "render $bad refused"
  expect_err "hpcpipe: error: ${bad%%=*}" "render $bad: the error names the option"
done
"$HPCPIPE" slurm render conf --params "seed={task}" >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "{task} without an array refused"
expect_err "{task} in --params (no --array or --sweep)" "says where {task} was"
"$HPCPIPE" slurm render conf --sweep a=1,2 --store shared >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "one --store for every task of a sweep refused"
expect_err "put {task} in it, e.g. --store shared/{task}" "says how"
"$HPCPIPE" slurm render conf --sweep a=1,2 --params "seed={task}" --store "s/{task}" >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "a sweep with {task} in --params and --store"
grep -qF "1) PARAMS=seed=1,a=2 ;;" "$OUT" && grep -qF -- "--store s/\"\${SLURM_ARRAY_TASK_ID}\"" "$OUT" &&
  ok "{task} is the task number in each combination and the task id in --store" || { fail "{task} in a sweep"; cat "$OUT" >&2; }
"$HPCPIPE" slurm submit conf --partition nosuch >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "submit to a partition that does not exist"
expect_err "hpcpipe: error: sbatch " "sbatch's refusal is reported"
# the job's default name is the project's (the conf directory's parent),
# from wherever it is rendered
proj=$(basename "$(pwd)")
(cd / && "$HPCPIPE" slurm render "$OLDPWD/conf") >"$OUT" 2>"$ERR"
grep -qxF "#SBATCH --job-name=hpcpipe-$proj" "$OUT" && ok "the job is named after the project" ||
  fail "job name from /: $(grep job-name "$OUT")"
"$HPCPIPE" slurm render nowhere >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "render of a missing conf"
expect_err "nowhere: no such configuration directory" "names the directory"

# a project path with a space and a quote: the script stays one valid word
W="$SCRATCH/it's a dir"
mkdir -p "$W" && cp -r "$SRC/conf" "$W/"
(cd "$W" && "$HPCPIPE" slurm render conf --params "a=\$HOME" >"$OUT" 2>"$ERR"); RC=$?
expect_rc 0 "render in a directory with a space and a quote"
bash -n "$OUT" && grep -qF "cd -- '$SCRATCH/it'\\''s a dir'" "$OUT" && grep -qF "'a=\$HOME'" "$OUT" &&
  ok "the script parses; the directory and \$HOME are quoted" || { fail "script quoting"; cat "$OUT" >&2; }
finish
