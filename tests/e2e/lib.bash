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
# sleep_chain DIR MS...: a project whose nodes n1, n2, ... sleep MS
# milliseconds each, one after the other (n2 reads n1's output, ...).
sleep_chain() {
  local d=$1 i=0 prev=""
  shift
  mkdir -p "$d/conf/base"
  echo '{}' >"$d/conf/base/catalog.yml"
  { echo "pipelines:"; echo "  __default__:"
    for ms in "$@"; do
      i=$((i + 1))
      echo "    - {node: n$i, func: core.sleep,${prev:+ inputs: $prev,} args: {ms: $ms}, outputs: o$i}"
      prev=o$i
    done; } >"$d/conf/base/pipelines.yml"
}

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

# h5digest DIR: one line per HDF5 file under DIR/data (the versioned model
# as model.h5/<version>): a hash of every dataset's name, type, shape and
# data, attributes left out. With h5py it reads every dataset; without it,
# h5dump -d of each dataset, the file header line removed.
h5digest() {
  if /usr/bin/python3 -c "import h5py, numpy" 2>/dev/null; then
    /usr/bin/python3 - "$1" <<'PY'
import hashlib, os, sys, h5py, numpy as np
root = sys.argv[1]
for dirpath, _, files in sorted(os.walk(os.path.join(root, "data"))):
    for fn in sorted(files):
        if not fn.endswith(".h5"):
            continue
        path = os.path.join(dirpath, fn)
        rel = os.path.relpath(path, root)
        parts = rel.split(os.sep)
        if "model.h5" in parts[:-1]:          # data/06_models/model.h5/<version>/model.h5
            rel = "data/06_models/model.h5/<version>/model.h5"
        h = hashlib.sha256()
        n = 0
        with h5py.File(path, "r") as f:
            names = []
            f.visititems(lambda name, obj: names.append(name)
                         if isinstance(obj, h5py.Dataset) else None)
            for name in sorted(names):
                ds = f[name]
                v = ds[()]
                h.update(f"{name}|{ds.dtype}|{ds.shape}|".encode())
                if isinstance(v, np.ndarray) and v.dtype.kind == "O":
                    h.update("\x1f".join(x.decode() if isinstance(x, bytes) else str(x)
                                         for x in v.ravel()).encode())
                else:
                    h.update(np.ascontiguousarray(v).tobytes())
                n += 1
        print(rel, n, h.hexdigest())
PY
  else
    (cd "$1" && find data -type f -name '*.h5' | LC_ALL=C sort | while read -r f; do
      echo "$f" | sed 's|model\.h5/[^/]*/model\.h5|model.h5/<version>/model.h5|'
      h5ls -r "$f" | awk '$2 == "Dataset" {print $1}' | while read -r d; do
        h5dump -d "$d" "$f" | grep -v '^HDF5 "'
      done | sha256sum
    done)
  fi
}

finish() {
  if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed" >&2; exit 1; fi
  echo "all checks passed" >&2; exit 0
}
