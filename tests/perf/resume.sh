#!/usr/bin/env bash
# Resume scan: after a complete run of a pipeline of 10,000+ tasks (a
# source with one partition per hour of 417 days, each partition its own
# HDF5 file), how long `hpcpipe run conf --resume` takes to find that every
# task is up to date: the whole command (start-up, planning, reading the
# journal, one stat per output), medians of REPS runs, in-process and on
# 3 ranks; plus the same with the journal removed (HDF5 lineage read from
# every file instead). Goal (issue 5): < 1 s for 10,000 done tasks.
# Neither Kedro nor Dask keeps run state to resume from, so there is no peer.
#   tests/perf/resume.sh BUILD_DIR [REPS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
perf_start resume 5 "$@"

P=$W/p && mkdir -p "$P/conf/base"
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: ts, func: datasets.timeseries, outputs: ts,
       args: {start: "2000-01-01", end: "2001-02-21", freq: "1h", partition_freq: "1h", seed: 1}}
Y
export HPCPIPE_PROGRESS=0
t0=$(date +%s.%N)
"$B/hpcpipe" run "$P/conf" 2>"$W/err" >/dev/null
t1=$(date +%s.%N)
tasks=$(sed -n 's/.*complete: \([0-9]*\) tasks.*/\1/p' "$W/err")
printf 'first run: %s tasks in %.2f s (%s)\n' "$tasks" "$(echo "$t1 - $t0" | bc -l)" \
  "$(sed -n 's/.*(\(rank 0 CPU.*\))/\1/p' "$W/err")"

# scan NP: wall seconds of one resume that runs nothing
scan() {
  local t0 t1
  t0=$(date +%s.%N)
  if [ "$1" = 1 ]; then "$B/hpcpipe" run "$P/conf" --resume 2>"$W/err" >/dev/null
  else mpirun -n "$1" "$B/hpcpipe" run "$P/conf" --resume 2>"$W/err" >/dev/null; fi
  t1=$(date +%s.%N)
  grep -q "resume: $tasks of $tasks tasks are up to date; running 0" "$W/err" ||
    { echo "resume did not find every task done:" >&2; cat "$W/err" >&2; exit 1; }
  echo "$t1 - $t0" | bc -l
}
printf '%-44s %10s %12s\n' "case" "median s" "tasks/s"
for np in 1 3; do
  m=$(for _ in $(seq "$REPS"); do scan "$np"; done | median)
  printf '%-44s %10.3f %12.0f\n' "resume, journal, np $np" "$m" "$(echo "$tasks / $m" | bc -l)"
done
mv "$P/data/store/journal.jsonl" "$W/journal.jsonl"
m=$(for _ in $(seq "$REPS"); do scan 1; rm -f "$P/data/store/journal.jsonl"; done | median)
printf '%-44s %10.3f %12.0f\n' "resume, no journal (HDF5 lineage), np 1" "$m" "$(echo "$tasks / $m" | bc -l)"
