#!/usr/bin/env bash
# Scheduler throughput: no-op nodes per second through hpcpipe (in-process,
# -n 2, -n 3) beside Dask (threaded and distributed), medians of REPS runs,
# plus the time to load and plan a 10^6-node pipeline.
#   tests/perf/scheduler.sh BUILD_DIR [REPS]
# Not part of the default test run (it takes minutes).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
perf_start scheduler 5 "$@"

# secs CMD...: wall seconds of one run
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

# hprun NP CONF: wall seconds of one hpcpipe run, and (in $LOOP) the
# seconds its scheduler loop reported ("complete: N nodes in X s").
hprun() {
  local np=$1 conf=$2 t0 t1
  t0=$(date +%s.%N)
  if [ "$np" = 1 ]; then "$B/hpcpipe" run "$conf" 2>"$W/err" >/dev/null
  else mpirun -n "$np" "$B/hpcpipe" run "$conf" 2>"$W/err" >/dev/null; fi
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
  sed -n 's/.*complete: [0-9]* nodes* in \([0-9.]*\) s.*/\1/p' "$W/err" >>"$W/loop"
}

printf '%-34s %10s %12s %12s\n' "case" "wall s" "tasks/s" "loop tasks/s"
for shape in independent chain; do
  for n in 10000 100000; do
    for kind in memory store; do
      [ "$kind" = store ] && [ "$n" -gt 10000 ] && continue
      P=$W/$shape-$n-$kind
      python3 "$HERE/gen_noop.py" "$P" "$n" "$shape" "$kind"
      for np in 1 2 3; do
        ts=()
        : >"$W/loop"
        for _ in $(seq "$REPS"); do
          rm -rf "$P/data"
          ts+=("$(hprun "$np" "$P/conf")")
        done
        m=$(printf '%s\n' "${ts[@]}" | median)
        l=$(median <"$W/loop")
        printf '%-34s %10.3f %12.0f %12.0f\n' "hpcpipe $shape $n $kind np=$np" "$m" "$(echo "$n / $m" | bc -l)" "$(echo "$n / $l" | bc -l)"
      done
    done
    for s in threads distributed; do
      [ "$s" = distributed ] && [ "$n" -gt 10000 ] && continue
      ts=() reps=$REPS
      [ "$s" = distributed ] && [ "$reps" -gt 3 ] && reps=3 # ~1 min a run
      for _ in $(seq "$reps"); do ts+=("$(/usr/bin/python3 "$HERE/dask_noop.py" "$n" "$shape" "$s" 2>/dev/null)"); done
      m=$(printf '%s\n' "${ts[@]}" | median)
      printf '%-34s %10.3f %12.0f\n' "dask $shape $n $s" "$m" "$(echo "$n / $m" | bc -l)"
    done
  done
done

P=$W/plan
python3 "$HERE/gen_noop.py" "$P" 1000000 chain memory --blocks
ts=()
for _ in $(seq "$REPS"); do ts+=("$(secs "$B/hpcpipe" check "$P/conf")"); done
printf '%-34s %10.3f\n' "load+plan 10^6 composed (check)" "$(printf '%s\n' "${ts[@]}" | median)"
python3 "$HERE/gen_noop.py" "$P" 1000000 chain memory
ts=()
for _ in $(seq "$REPS"); do ts+=("$(secs "$B/hpcpipe" check "$P/conf")"); done
printf '%-34s %10.3f\n' "load+plan 10^6 flat (check)" "$(printf '%s\n' "${ts[@]}" | median)"
