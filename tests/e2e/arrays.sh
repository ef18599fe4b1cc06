#!/usr/bin/env bash
# Chunked arrays through the CLI (Dask's array exercise, seed 003): a random
# 1000x1000 array in 500-row chunks (two partition files plus a master of
# HDF5 virtual datasets), reductions over all elements, over axis 0 and
# within rows, an elementwise map, arange, matmul and transpose. Results are
# checked with h5py against numpy applied to the stored random input (and
# against tests/fixtures/arrays/expected.json for the deterministic nodes),
# and are bit-identical at 1, 2, 3 and 8 ranks. Bad args fail naming the node.
. "$(dirname "$0")/lib.bash"

FIX=$SRC/tests/fixtures/arrays
P=$SCRATCH/p && mkdir -p "$P/conf/base" "$P/data"
outs="rnd colsum colmean total mean_all sd_all sd0 lo hi0 rowmax rowstd rmap
      rmap_mean shifted arf isum imean istd imax mm mmT imm zsum"
for o in $outs; do echo "$o: {type: hdf5, filepath: data/out/$o.h5}"; done \
  >"$P/conf/base/catalog.yml"
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - node: rand
      func: array.random
      outputs: rnd
      args: {shape: [1000, 1000], chunks: [500, 500], seed: 42}
    - {node: colsum, func: array.sum, inputs: rnd, outputs: colsum, args: {axis: 0}}
    - {node: colmean, func: array.mean, inputs: rnd, outputs: colmean, args: {axis: 0}}
    - {node: total, func: array.sum, inputs: rnd, outputs: total}
    - {node: mean_all, func: array.mean, inputs: rnd, outputs: mean_all, args: {axis: null}}
    - {node: sd_all, func: array.std, inputs: rnd, outputs: sd_all}
    - {node: sd0, func: array.std, inputs: rnd, outputs: sd0, args: {axis: 0, ddof: 1}}
    - {node: lo, func: array.min, inputs: rnd, outputs: lo}
    - {node: hi0, func: array.max, inputs: rnd, outputs: hi0, args: {axis: 0}}
    - {node: rowmax, func: array.max, inputs: rnd, outputs: rowmax, args: {axis: 1}}
    - {node: rowstd, func: array.std, inputs: rnd, outputs: rowstd, args: {axis: -1}}
    - {node: rmap, func: array.map, inputs: rnd, outputs: rmap, args: {expr: "sqrt(x) + x ** 2"}}
    - {node: rmap_mean, func: array.mean, inputs: rmap, outputs: rmap_mean, args: {axis: 0}}
    - {node: ones, func: array.ones, outputs: ones, args: {shape: [6, 4], chunks: 4}}
    - {node: ar4, func: array.arange, outputs: ar4, args: {stop: 4}}
    - node: shift
      func: array.map
      inputs: {x: ones, a: ar4}
      outputs: shifted
      args: {expr: "x * 2 + a"}
    - {node: arf, func: array.arange, outputs: arf, args: {start: 0.1, stop: 1.3, step: 0.1, chunks: 5}}
    - {node: ar10, func: array.arange, outputs: ar10, args: {stop: 10, chunks: 3}}
    - {node: isum, func: array.sum, inputs: ar10, outputs: isum}
    - {node: imean, func: array.mean, inputs: ar10, outputs: imean}
    - {node: istd, func: array.std, inputs: ar10, outputs: istd}
    - {node: imax, func: array.max, inputs: ar10, outputs: imax, args: {axis: 0}}
    - {node: A, func: array.random, outputs: A, args: {shape: [7, 5], chunks: 3, distribution: normal, seed: 1}}
    - {node: B, func: array.random, outputs: B, args: {shape: [5, 3], seed: 2, low: -1, high: 1}}
    - {node: mm, func: array.matmul, inputs: [A, B], outputs: mm}
    - {node: mmT, func: array.transpose, inputs: mm, outputs: mmT}
    - {node: twos, func: array.full, outputs: twos, args: {shape: [4, 3], value: 2, dtype: int64, chunks: 2}}
    - {node: ar3, func: array.arange, outputs: ar3, args: {stop: 3}}
    - {node: imm, func: array.matmul, inputs: [twos, ar3], outputs: imm}
    - {node: zeros, func: array.zeros, outputs: z, args: {shape: [5, 3], chunks: 2}}
    - {node: zsum, func: array.sum, inputs: z, outputs: zsum, args: {axis: 0}}
Y

PY=/usr/bin/python3
if ! $PY -c "import h5py, numpy" 2>/dev/null; then
  echo "SKIP: needs h5py and numpy in /usr/bin/python3" >&2
  exit 0
fi

# check.py OUT STORE: numpy's answers for every output; prints problems.
cat >"$SCRATCH/check.py" <<'PYEOF'
import h5py, json, math, sys
import numpy as np
out, store, fix = sys.argv[1:4]
bad = []
def ld(path):
    with h5py.File(path, "r") as f:
        return f["data"][...]
o = lambda n: ld(f"{out}/{n}.h5")
def close(name, want, rtol=1e-12, exact=False):
    got = o(name)
    want = np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        bad.append(f"{name}: {got.dtype}{got.shape}, numpy {want.dtype}{want.shape}")
    elif exact and not np.array_equal(got, want):
        bad.append(f"{name}: differs from numpy")
    elif not exact and not np.allclose(got, want, rtol=rtol, atol=0):
        err = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300))
        bad.append(f"{name}: relative error {err:.3g} > {rtol}")
r = o("rnd")
if r.shape != (1000, 1000) or r.dtype != np.float64:
    bad.append(f"rnd: {r.dtype}{r.shape}")
if not (r.min() >= 0 and r.max() < 1 and abs(r.mean() - 0.5) < 0.01):
    bad.append("rnd: not uniform on [0, 1)")
close("colsum", r.sum(axis=0))
close("colmean", r.mean(axis=0))
close("total", [r.sum()])
close("mean_all", [r.mean()])
close("sd_all", [r.std()])
close("sd0", r.std(axis=0, ddof=1))
close("lo", [r.min()], exact=True)
close("hi0", r.max(axis=0), exact=True)
close("rowmax", r.max(axis=1), exact=True)
close("rowstd", r.std(axis=-1))
close("rmap", np.sqrt(r) + r ** 2, rtol=1e-15)
close("rmap_mean", (np.sqrt(r) + r ** 2).mean(axis=0))
# compensated sums: the total is the correctly rounded sum
if abs(o("total")[0] - math.fsum(r.ravel())) > 2 * np.spacing(r.sum()):
    bad.append("total: not the correctly rounded sum (math.fsum)")
A, B = ld(f"{store}/A.h5"), ld(f"{store}/B.h5")
if A.shape != (7, 5) or B.shape != (5, 3) or B.min() < -1 or B.max() >= 1:
    bad.append(f"A, B: shapes {A.shape} {B.shape}")
close("mm", A @ B, rtol=1e-13)
close("mmT", o("mm").T, exact=True)
for name, e in json.load(open(f"{fix}/expected.json")).items():
    want = np.array([float(v) if e["dtype"] == "float64" else int(v)
                     for v in e["values"]], dtype=e["dtype"]).reshape(e["shape"])
    close(name, want, exact=e["dtype"] == "int64" or name in ("arf", "shifted", "zsum"))
print("\n".join(bad))
PYEOF

# dump.py OUT: every output's dtype, shape and a hash of its bytes.
cat >"$SCRATCH/dump.py" <<'PYEOF'
import glob, hashlib, sys
import h5py
for p in sorted(glob.glob(sys.argv[1] + "/*.h5")):
    with h5py.File(p, "r") as f:
        d = f["data"][...]
    print(p.rsplit("/", 1)[1], d.dtype, d.shape,
          hashlib.sha256(d.tobytes()).hexdigest())
PYEOF

for np in 1 2 3 8; do
  rm -rf "$P/data/out" "$P/data/store"
  hp "$np" run "$P/conf"
  expect_rc 0 "array pipeline np=$np"
  expect_err "31 nodes (" "np=$np: the log counts nodes and tasks"
  [ "$(ls "$P/data/out/rnd-parts" 2>/dev/null | wc -l)" = 2 ] &&
    ok "np=$np: 500-row chunks make 2 partition files" ||
    fail "np=$np: rnd should have 2 partition files"
  problems=$($PY "$SCRATCH/check.py" "$P/data/out" "$P/data/store" "$FIX" 2>&1)
  [ -z "$problems" ] && ok "np=$np: outputs = numpy" ||
    fail "np=$np: $(echo "$problems" | head -20)"
  $PY "$SCRATCH/dump.py" "$P/data/out" >"$SCRATCH/np$np.txt"
  [ "$(wc -l <"$SCRATCH/np$np.txt")" = 23 ] || fail "np=$np: 23 outputs expected"
  if [ "$np" != 1 ]; then
    cmp -s "$SCRATCH/np1.txt" "$SCRATCH/np$np.txt" &&
      ok "np=$np: outputs bit-identical to np=1" ||
      fail "np=$np: outputs differ from np=1"
  fi
done

# An existing HDF5 array (written by h5py) read in row blocks of
# partition_rows, by a reduction and by a map.
Q=$SCRATCH/q && mkdir -p "$Q/conf/base" "$Q/data"
$PY -c "
import h5py, numpy as np
with h5py.File('$Q/data/h.h5', 'w') as f:
    f.create_dataset('x', data=np.arange(40.0).reshape(10, 4) ** 1.5)"
cat >"$Q/conf/base/catalog.yml" <<'Y'
h: {type: hdf5, filepath: data/h.h5, key: x, partition_rows: 3}
hs: {type: hdf5, filepath: data/out/hs.h5}
hm: {type: hdf5, filepath: data/out/hm.h5}
Y
cat >"$Q/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: hs, func: array.std, inputs: h, outputs: hs, args: {axis: 0}}
    - {node: hm, func: array.map, inputs: h, outputs: hm, args: {expr: "x + 1"}}
Y
for np in 1 3; do
  rm -rf "$Q/data/out" "$Q/data/store"
  hp "$np" run "$Q/conf"
  expect_rc 0 "hdf5 input in row blocks np=$np"
  [ "$(ls "$Q/data/out/hm-parts" 2>/dev/null | wc -l)" = 4 ] &&
    ok "np=$np: 10 rows in blocks of 3 make 4 partitions" ||
    fail "np=$np: hm should have 4 partition files"
  problems=$($PY -c "
import h5py, numpy as np
x = np.arange(40.0).reshape(10, 4) ** 1.5
hs = h5py.File('$Q/data/out/hs.h5', 'r')['data'][...]
hm = h5py.File('$Q/data/out/hm.h5', 'r')['data'][...]
if not np.allclose(hs, x.std(axis=0), rtol=1e-12, atol=0): print('std', hs)
if not np.array_equal(hm, x + 1): print('map', hm)" 2>&1)
  [ -z "$problems" ] && ok "np=$np: blocks of an hdf5 array = numpy" ||
    fail "np=$np: hdf5 blocks: $problems"
done

# A partitioned output larger than what a run keeps in memory: 256 MB of
# ones in 32 partitions written to the store. Partitions are written and
# freed one by one (the stitch reads only their files' metadata), so the
# in-process run peaks far below the output's size; then h5py reads it as
# one array through the master's virtual dataset.
M=$SCRATCH/mem && mkdir -p "$M/conf/base"
: >"$M/conf/base/catalog.yml"
cat >"$M/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: big, func: array.ones, outputs: big, args: {shape: [32768, 1024], chunks: 1024}}
Y
# (under AddressSanitizer, freed memory waits in a quarantine: keep it small)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8" hp 1 run "$M/conf"
expect_rc 0 "256 MB output in 32 partitions"
peak=$(sed -n 's/.*complete: .* peak memory \([0-9]*\) MB.*/\1/p' "$ERR")
[ -n "$peak" ] && [ "$peak" -lt 160 ] &&
  ok "256 MB output written with a peak of $peak MB" ||
  fail "peak memory '$peak' MB: partitions are held in memory until the stitch"
[ "$($PY -c "
import h5py
d = h5py.File('$M/data/store/big.h5', 'r')['data']
print(d.shape, float(d[32767].sum()))")" = "(32768, 1024) 1024.0" ] &&
  ok "the stitched output reads as one array" ||
  fail "the stitched 256 MB output does not read back"

# Bad args of a source are configuration errors: exit 2, the node named.
sed -i 's/shape: \[1000, 1000\]/shape: [1000, -3]/' "$P/conf/base/pipelines.yml"
hp 2 run "$P/conf"
expect_rc 2 "negative shape"
expect_err "node 'rand': args.shape" "negative shape: names the node and arg"
no_mpi_noise "negative shape"
[ "$(grep -c . "$ERR")" = 1 ] || fail "negative shape: one line expected"
sed -i 's/shape: \[1000, -3\]/shape: [1000, 1000]/' "$P/conf/base/pipelines.yml"

# A bad axis fails the node when it runs: exit 1, the node named.
sed -i 's/outputs: colsum, args: {axis: 0}/outputs: colsum, args: {axis: 5}/' \
  "$P/conf/base/pipelines.yml"
hp 3 run "$P/conf" --nodes rand,colsum
expect_rc 1 "axis out of range"
expect_err "colsum" "axis out of range: names the node"
expect_err "args.axis: 5 is out of range for a 2-D array" "axis out of range: says why"
no_mpi_noise "axis out of range"
finish
