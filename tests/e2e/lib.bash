# Shared helpers for the end-to-end tests (sourced, not a test itself).
# Arguments of every e2e test: HPCPIPE SRC SCRATCH MPIEXEC DEMO_PLUGIN
set -u
HPCPIPE=$1 SRC=$2 SCRATCH=$3 MPIEXEC=$4 DEMO=$5
export HPCPIPE_PLUGIN_PATH=$(dirname "$DEMO")
rm -rf "$SCRATCH" && mkdir -p "$SCRATCH"
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*" >&2; }

# new_project DIR: a copy of examples/readings (a small project: conf/ and
# raw data; jobs/demo.c is its plugin).
new_project() {
  rm -rf "$1" && mkdir -p "$1/data" && cp -rp "$SRC/examples/readings/conf" "$1/" &&
    cp -rp "$SRC/examples/readings/data/01_raw" "$1/data/"
}

# build_plugin SRC.c OUT.so: a test's node plugin, against this tree's headers.
build_plugin() {
  gcc -shared -fPIC -I"$SRC/include" -o "$2" "$1" || fail "build the plugin $1"
}

# hp NP ARGS...: runs hpcpipe on NP ranks (1 = in-process, no mpirun),
# with a time limit; stdout/stderr to $OUT/$ERR, exit code to $RC.
OUT=$SCRATCH/out.txt ERR=$SCRATCH/err.txt RC=0
hp() {
  local np=$1; shift
  if [ "$np" = 1 ]; then
    timeout 240 "$HPCPIPE" "$@" >"$OUT" 2>"$ERR"; RC=$?
  else
    timeout 240 "$MPIEXEC" -n "$np" "$HPCPIPE" "$@" >"$OUT" 2>"$ERR"; RC=$?
  fi
}

# expect_rc CODE WHAT: checks $RC.
expect_rc() {
  if [ "$RC" = "$1" ]; then ok "$2 (exit $RC)"; else
    fail "$2: exit $RC, expected $1"; sed 's/^/  | /' "$ERR" >&2; fi
}

# expect_err TEXT WHAT: stderr contains TEXT (fixed string).
expect_err() {
  if grep -qF -- "$1" "$ERR"; then ok "$2"; else
    fail "$2: stderr lacks '$1'"; sed 's/^/  | /' "$ERR" >&2; fi
}

# no_mpi_noise WHAT: no abort or ORTE noise, and the error printed once.
no_mpi_noise() {
  if grep -qE 'MPI_ABORT|ORTE_ERROR|mpirun has exited|Primary job' "$ERR"; then
    fail "$1: MPI noise on stderr"; sed 's/^/  | /' "$ERR" >&2
  fi
  local n; n=$(grep -c 'hpcpipe: error:' "$ERR")
  [ "$n" -le 1 ] || fail "$1: error printed $n times"
}

finish() {
  if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed" >&2; exit 1; fi
  echo "all checks passed" >&2; exit 0
}
