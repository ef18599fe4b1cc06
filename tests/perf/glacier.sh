#!/usr/bin/env bash
# The glacier clustering pipeline (conf/, docs/tutorial.md) against its
# pandas/numpy reference (tests/glacier/reference.py), medians of REPS runs.
#   tests/perf/glacier.sh BUILD_DIR [REPS]      (SCALES="1 100" by default;
#                                                 BRANCHES=0 skips the DTW part)
# Not part of the default test run (minutes at scale 100).
#
# For each scale: the raw files are generated once (the `synthetic`
# pipeline, untimed); then timed, wall seconds of the whole command:
#   glacier-eu  `hpcpipe run conf --pipelines glacier` (merge, time series,
#               both models, plots, metrics, compare) with both models
#               Euclidean, in-process (np1: on every CPU through
#               hp_node_parallel; np1/1t: HPCPIPE_THREADS=1, one core) and at
#               -n 3 (2 workers, idle workers' cores lent), beside the
#               reference doing the same reading, merging, series, scaling
#               and Euclidean k-means from the same initial centers (it
#               does not draw plots or compute silhouettes, and starts
#               from centers hpcpipe chose: it does less work);
#   branches    `--pipelines data_science` with the default models (DTW),
#               in-process on one core (HPCPIPE_THREADS=1: sequential, as
#               Kedro's SequentialRunner) vs -n 3: the two models on two
#               workers at once (the tutorial's point: 19.5 s sequential vs
#               18.1 s with Dask), in REPS interleaved pairs; also
#               in-process on every CPU.
# Both systems read the same CSVs from the page cache; Python start-up is
# excluded from the reference's time (it reports its own phases).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
perf_start glacier 3 "$@"
export HPCPIPE_PLUGIN_PATH=$B/jobs
EU=active.model_options.metric=euclidean,candidate.model_options.metric=euclidean
TIMEFORMAT='%R %U %S' # bash's `time`: wall, user and system seconds

# run NP ARGS...: wall seconds of one hpcpipe run in $P; its CPU seconds
# (user and system, every process) are added to $W/cpu
run() {
  local np=$1
  shift
  { time if [ "$np" = 1 ]; then (cd "$P" && "$B/hpcpipe" run conf "$@") 2>"$W/err" >/dev/null
    else (cd "$P" && mpirun -n "$np" "$B/hpcpipe" run conf "$@") 2>"$W/err" >/dev/null; fi; } 2>"$W/time"
  cut -d' ' -f2- "$W/time" >>"$W/cpu"
  cut -d' ' -f1 "$W/time"
}
med() { # NP ARGS...: the median of REPS runs (their CPU seconds: cpu)
  : >"$W/cpu"
  for _ in $(seq "$REPS"); do run "$@"; done | median
}
cpu() { # the medians of the user and the system seconds in $W/cpu
  printf '%.2f + %.2f' "$(cut -d' ' -f1 "$W/cpu" | median)" "$(cut -d' ' -f2 "$W/cpu" | median)"
}
# pairs ARGS...: REPS interleaved pairs of runs, in-process on one core
# (HPCPIPE_THREADS=1, sequential) then -n 3; prints "SEQ PAR SEQ_PHASE
# PAR_PHASE PAIR_RATIO": the medians of the whole command and of its run
# phase on each side, and the median of the pairs' whole-command ratios
# (each pair ran minutes apart at most, so a machine whose speed drifts
# moves both of its runs)
pairs() {
  local a b
  for _ in $(seq "$REPS"); do
    a="$(HPCPIPE_THREADS=1 run 1 "$@") $(phase)"
    b="$(run 3 "$@") $(phase)"
    echo "$a $b"
  done >"$W/pairs"
  echo "$(cut -d' ' -f1 "$W/pairs" | median) $(cut -d' ' -f3 "$W/pairs" | median)" \
    "$(cut -d' ' -f2 "$W/pairs" | median) $(cut -d' ' -f4 "$W/pairs" | median)" \
    "$(awk '{print $1 / $3}' "$W/pairs" | median)"
}
phase() { sed -n 's/.*complete: [0-9]* [a-z]* in \([0-9.]*\) s.*/\1/p' "$W/err"; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }

printf 'medians of %s runs, wall seconds of the whole command\n' "$REPS"
for scale in ${SCALES:-1 100}; do
  P=$W/s$scale
  mkdir -p "$P" && cp -r "$SRC/conf" "$P/"
  run 1 --pipelines synthetic --params "synthetic.scale=$scale" >/dev/null
  cat "$P"/data/01_raw/*.csv >/dev/null # page cache
  size=$(du -cb "$P"/data/01_raw/*.csv | tail -1 | cut -f1)
  h1=$(med 1 --pipelines glacier --params "$EU") c1=$(cpu)
  h1t=$(HPCPIPE_THREADS=1 med 1 --pipelines glacier --params "$EU") c1t=$(cpu)
  h3=$(med 3 --pipelines glacier --params "$EU") c3=$(cpu)
  ( cd "$P" && $PY "$SRC/tests/glacier/reference.py" . --check \
      --params "$EU" >"$W/check" 2>&1 ) ||
    { echo "WARNING: scale $scale: the reference disagrees:"; grep -v '^ok' "$W/check" | head; }
  : >"$W/cpu"
  ref=$(for _ in $(seq "$REPS"); do
          { time (cd "$P" && $PY "$SRC/tests/glacier/reference.py" . --params "$EU") 2>&1 |
            sed -n 's/^time: total: \([0-9.]*\) s.*/\1/p'; } 2>"$W/time"
          cut -d' ' -f2- "$W/time" >>"$W/cpu"
        done | median)
  cref=$(cpu)
  series=$(sed -n 's/.*to_timeseries: \([0-9]*\) glaciers.*/\1/p' "$W/err" | tail -1)
  printf 'scale %-4s (%s MB of CSV, %s series) glacier-eu  hpcpipe np1 %.2f s | np1/1t %.2f s | np3 %.2f s | reference %.2f s (%s× np1, %s× np1/1t, %s× np3)\n' \
    "$scale" "$((size / 1000000))" "${series:-?}" "$h1" "$h1t" "$h3" "${ref:-0}" \
    "$(ratio "${ref:-0}" "$h1")" "$(ratio "${ref:-0}" "$h1t")" "$(ratio "${ref:-0}" "$h3")"
  printf 'scale %-4s CPU seconds, user + system (medians): hpcpipe np1 %s | np1/1t %s | np3 %s (every rank and mpirun) | reference %s (with Python start-up)\n' \
    "$scale" "$c1" "$c1t" "$c3" "$cref"
  [ "${BRANCHES:-1}" = 0 ] && continue
  read -r d1 d3 r1 r3 pr <<<"$(pairs --pipelines data_science)"
  dt=$(med 1 --pipelines data_science)
  printf 'scale %-4s branches (dtw)  data_science np1/1t %.2f s | np3 %.2f s (%s× from two workers; pairs: median %.2f×); run phase %.2f s | %.2f s (%s×); in-process on every CPU %.2f s\n' \
    "$scale" "$d1" "$d3" "$(ratio "$d1" "$d3")" "$pr" "$r1" "$r3" "$(ratio "$r1" "$r3")" "$dt"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
