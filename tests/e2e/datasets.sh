#!/usr/bin/env bash
# Dataset types through the CLI: csv round trip, hdf5 and store outputs,
# memory values across ranks, versioned datasets with --load-versions, and
# h5py reading every HDF5 output.
. "$(dirname "$0")/lib.bash"

P=$SCRATCH/d && mkdir -p "$P/conf/base" "$P/data"
printf 'name,n,x,ok\nAlice,1,0.5,true\n"Bob, Jr.",-2,1e-300,false\n"say ""hi""",3,-0.1,true\n' >"$P/data/in.csv"
cat >"$P/conf/base/catalog.yml" <<'Y'
raw: {type: csv, filepath: data/in.csv}
copy: {type: csv, filepath: data/out/copy.csv}
as_h5: {type: hdf5, filepath: data/out/table.h5}
mem: {type: memory}
model:
  type: hdf5
  filepath: data/06_models/model.h5
  versioned: true
Y
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: to_mem, func: core.identity, inputs: raw, outputs: mem}
    - {node: to_h5, func: core.identity, inputs: mem, outputs: as_h5}
    - {node: back, func: core.identity, inputs: as_h5, outputs: copy}
    - {node: stored, func: core.identity, inputs: raw, outputs: in_store}
    - {node: fit, func: core.noop, inputs: in_store, outputs: model}
Y
for np in 1 3; do
  rm -rf "$P/data/out" "$P/data/store" "$P/data/06_models"
  hp "$np" run "$P/conf"
  expect_rc 0 "run np=$np"
  cmp -s "$P/data/in.csv" "$P/data/out/copy.csv" || { fail "np=$np: csv -> memory -> hdf5 -> csv changed the data"; diff "$P/data/in.csv" "$P/data/out/copy.csv" >&2; }
  [ -s "$P/data/store/in_store.h5" ] || fail "np=$np: store output missing"
  n=$(ls "$P/data/06_models/model.h5" | wc -l)
  [ "$n" = 1 ] || fail "np=$np: versioned output: $n versions"
  [ -s "$P/data/06_models/model.h5/$(ls "$P/data/06_models/model.h5")/model.h5" ] || fail "versioned layout"
done

# A second run adds a version; --load-versions pins what a node reads.
sleep 0.01
hp 1 run "$P/conf"
expect_rc 0 "second run"
[ "$(ls "$P/data/06_models/model.h5" | wc -l)" = 2 ] || fail "two runs, two versions"
old=$(ls "$P/data/06_models/model.h5" | head -1)
cat >>"$P/conf/base/pipelines.yml" <<'Y'
  use:
    - {node: use_model, func: core.noop, inputs: model, outputs: used}
Y
hp 1 run "$P/conf" --pipelines use --load-versions "model:$old"
expect_rc 0 "--load-versions"
hp 1 run "$P/conf" --pipelines use --load-versions "model:1999-01-01T00.00.00.000Z"
expect_rc 1 "--load-versions of a missing version"
hp 1 run "$P/conf" --pipelines use --load-versions "raw:x"
expect_rc 2 "--load-versions of an unversioned dataset"
hp 1 run "$P/conf" --load-versions "model:$old"
expect_rc 2 "--load-versions of a dataset this run produces"
expect_err "is produced by node 'fit'" "--load-versions of a produced dataset: message"

# h5py reads every HDF5 output (skipped where h5py is not installed).
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  for f in "$P"/data/out/table.h5 "$P"/data/store/*.h5 "$P"/data/06_models/model.h5/*/model.h5; do
    /usr/bin/python3 - "$f" <<'PY' || fail "h5py cannot read $f"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            obj[()]
    f.visititems(visit)
    assert "hpcpipe_kind" in f.attrs
PY
  done
  /usr/bin/python3 - "$P/data/out/table.h5" <<'PY' || fail "h5py sees the table's columns"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["hpcpipe_columns"] in ("name,n,x,ok", b"name,n,x,ok")
    assert list(f["n"][()]) == [1, -2, 3]
    assert list(f["ok"][()]) == [True, False, True]
    assert [s.decode() if isinstance(s, bytes) else s for s in f["name"][()]] == ["Alice", "Bob, Jr.", 'say "hi"']
PY
else
  echo "skip: h5py not installed" >&2
fi
# unsigned 64-bit integers (h5py): read as int64 when they fit, an error
# naming the element when one does not (HDF5 alone would cap it)
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  U=$SCRATCH/u64 && rm -rf "$U" && mkdir -p "$U/conf/base" "$U/data"
  /usr/bin/python3 -c "
import h5py, numpy as np
with h5py.File('$U/data/big.h5', 'w') as f: f['v'] = np.array([1, 2, 2**64 - 1], dtype=np.uint64)
with h5py.File('$U/data/ok.h5', 'w') as f: f['v'] = np.array([1, 2, 3], dtype=np.uint64)
"
  cat >"$U/conf/base/catalog.yml" <<'Y'
big: {type: hdf5, filepath: data/big.h5}
ok: {type: hdf5, filepath: data/ok.h5}
o1: {type: csv, filepath: data/o1.csv}
o2: {type: csv, filepath: data/o2.csv}
Y
  cat >"$U/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: a, func: core.identity, inputs: ok, outputs: o1}
    - {node: b, func: core.identity, inputs: big, outputs: o2}
Y
  hp 1 run "$U/conf" --keep-going
  expect_rc 1 "uint64 above int64"
  expect_err "big.h5: 'v': element 2 is 18446744073709551615, above the largest int64" "uint64 above int64: message"
  printf 'v\n1\n2\n3\n' | cmp -s - "$U/data/o1.csv" && ok "uint64 that fit read as int64" ||
    fail "uint64 that fit: $(cat "$U/data/o1.csv")"
fi
# show reads a csv dataset with its catalog entry's sep and column types
S=$SCRATCH/show && rm -rf "$S" && mkdir -p "$S/conf/base" "$S/data"
printf 'a\tb\tt\n1\t2.5\t2020-01-01\n3\t4\t2020-01-02\n' >"$S/data/t.tsv"
cat >"$S/conf/base/catalog.yml" <<'Y'
tab: {type: csv, filepath: data/t.tsv, sep: "\t", columns: {a: int64, t: timestamp}}
Y
printf 'pipelines:\n  __default__: []\n' >"$S/conf/base/pipelines.yml"
(cd "$S" && timeout 60 "$HPCPIPE" show tab) >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "show a tab-separated dataset"
grep -q "table: 2 rows, 3 columns" "$OUT" && grep -Eq "^  t +timestamp" "$OUT" &&
  grep -Eq "^  a +int64" "$OUT" && ok "show uses the entry's sep and columns" ||
  { fail "show with sep and columns"; cat "$OUT" >&2; }
finish
