# Helpers shared by the benchmarks (sourced): set-up, medians, and timed
# hpcpipe runs. A benchmark starts with
#   . "$(dirname "$0")/lib.sh"; perf_start NAME DEFAULT_REPS "$@"
# and sets P (project directory) and, for hprun/hpmed, HANG (seconds
# before a run counts as hung).

# perf_start NAME DEFAULT_REPS [BUILD_DIR [REPS]]: sets B (build directory),
# REPS, DREPS, HERE (tests/perf), SRC (the repository), PY (Debian's
# python3), W (a scratch directory, removed at exit unless KEEP is set),
# and the MPI environment of slurm/mpi-env.sh.
perf_start() {
  B=$(cd "${3:-build}" && pwd) REPS=${4:-$2}
  DREPS=$((REPS > 3 ? 3 : REPS)) # Dask distributed: slow runs, at most 3
  HERE=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$(dirname "$0")/../.." && pwd)
  PY=/usr/bin/python3
  . "$SRC/slurm/mpi-env.sh"
  W=$(mktemp -d "/tmp/hpcpipe-$1.XXXXXX")
  [ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# hprun NP CONF [ARGS...]: one run; prints "RUN_PHASE_S WALL_S FUNC_S", or
# "hang" / "fail". FUNC_S sums the node functions' own seconds over the
# run's tasks (journal "done" events): the rest of the run phase is loading
# inputs, saving outputs, messages and scheduling.
hprun() {
  local np=$1 conf=$P/$2 t0 t1 run fn rc=0
  shift 2
  t0=$(date +%s.%N)
  if [ "$np" = 1 ]; then
    timeout "$HANG" "$B/hpcpipe" run "$conf" "$@" 2>"$W/err" >/dev/null || rc=$?
  else
    timeout "$HANG" mpirun -n "$np" "$B/hpcpipe" run "$conf" "$@" 2>"$W/err" >/dev/null || rc=$?
  fi
  t1=$(date +%s.%N)
  if [ "$rc" = 124 ]; then echo hang; return; fi
  if [ "$rc" != 0 ]; then
    { echo "hpcpipe run $(basename "$conf") (np $np) failed:"; tail -3 "$W/err"; } >&2
    echo fail; return
  fi
  run=$(sed -n 's/.*complete: [0-9]* [a-z]* in \([0-9.]*\) s.*/\1/p' "$W/err")
  fn=$(awk '/"event":"start"/ {s = 0} /"event":"done"/ {
         if (match($0, /"seconds":[0-9.e-]+/)) s += substr($0, RSTART + 10, RLENGTH - 10)
       } END {printf "%.4f", s}' "$P/data/store/journal.jsonl")
  echo "$run $(echo "$t1 - $t0" | bc -l) $fn"
}
# hpmed NP CONF [PRE]: medians over REPS runs, "RUN_PHASE_S WALL_S FUNC_S
# EXTRA_S"; "NA NA NA NA" after a failure. PRE (a shell command) runs before
# each rep, untimed; POST (env, a command) runs after each rep and its
# seconds are EXTRA_S. At np > 1 a hang switches the remaining runs of CONF
# to HPCPIPE_DEPTH=1 (recorded in $W/notes).
hpmed() {
  local r depth=${HPCPIPE_DEPTH:-} pre=${3:-true} x t0
  : >"$W/t"
  for _ in $(seq "$REPS"); do
    eval "$pre"
    if [ -n "$depth" ]; then r=$(HPCPIPE_DEPTH=$depth hprun "$1" "$2")
    else r=$(hprun "$1" "$2"); fi
    if [ "$r" = hang ] && [ "$1" != 1 ] && [ -z "$depth" ]; then
      echo "WARNING: $2 np $1 hung (> $HANG s) at the default HPCPIPE_DEPTH; runs again with HPCPIPE_DEPTH=1" >&2
      echo "$2/np$1" >>"$W/notes"
      depth=1
      eval "$pre"
      r=$(HPCPIPE_DEPTH=1 hprun "$1" "$2")
    fi
    case $r in hang | fail) echo "WARNING: $2 np $1: $r" >&2; echo "NA NA NA NA NA"; return ;; esac
    x=0
    if [ -n "${POST:-}" ]; then
      t0=$(date +%s.%N); eval "$POST"; x=$(echo "$(date +%s.%N) - $t0" | bc -l)
    fi
    echo "$r $x" >>"$W/t"
  done
  echo "$(cut -d' ' -f1 "$W/t" | median) $(cut -d' ' -f2 "$W/t" | median)" \
       "$(cut -d' ' -f3 "$W/t" | median) $(cut -d' ' -f4 "$W/t" | median)" \
       "$(awk '{print $1 + $4}' "$W/t" | median)"
}

# peers SCRIPT HOW [ARGS...]: runs the peers' script for system HOW on the
# project's data (REPS runs; Dask distributed DREPS),
# prints its "# ..." lines and records each query's median in PT[HOW<query>]
# (declare -A PT first).
peers() {
  local script=$1 how=$2 reps=$REPS q ts
  shift 2
  [ "$how" = distributed ] && reps=$DREPS
  $PY "$HERE/$script" "$P/data" "$how" "$reps" "$W/$how" "$@" \
    >"$W/$how.txt" 2>"$W/$how.err" \
    || { echo "$how failed:" >&2; tail -20 "$W/$how.err" >&2; exit 1; }
  sed -n 's/^# /'"$how"': /p' "$W/$how.txt"
  while read -r q ts; do
    PT[$how$q]=$(printf '%s\n' $ts | median)
  done < <(grep -v '^#' "$W/$how.txt")
}
