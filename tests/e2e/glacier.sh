#!/usr/bin/env bash
# The repository's own project (conf/: the glacier clustering pipeline of
# the Kedro + Dask tutorial, jobs/glacier) end to end, from scratch copies
# at a small scale: in-process and on 2 and 8 ranks. Every dataset the
# catalog names is written and readable (h5py walks every HDF5 dataset, the
# SVGs parse as XML and hold polylines, decision.md names the promoted
# model), and the outputs are identical at every rank count (CSV, SVG and
# markdown bytes; HDF5 data, not attributes, which carry run ids). Then
# tests/glacier/reference.py (pandas + numpy) recomputes merge_data, the
# time series, the scaling and the Euclidean k-means from the C run's
# initial centers, and must agree exactly. to_timeseries gives the same
# series from rows out of order. Bad input fails cleanly: a raw
# file without a column the pipeline filters on, a ragged CSV row, an
# unknown metric.
. "$(dirname "$0")/lib.bash"

[ -f "$HPCPIPE_PLUGIN_PATH/libhpcpipe_glacier.so" ] ||
  { fail "libhpcpipe_glacier.so not built in $HPCPIPE_PLUGIN_PATH"; finish; }
PY=/usr/bin/python3
REF=$SRC/tests/glacier/reference.py
SCALE=0.25
H5PY=0 PANDAS=0
$PY -c "import h5py, numpy" 2>/dev/null && H5PY=1
$PY -c "import pandas, numpy, h5py" 2>/dev/null && PANDAS=1
[ "$H5PY" = 1 ] || echo "SKIP: h5py is missing: HDF5 files compared with h5dump, not read with h5py" >&2

# new_glacier DIR: a scratch project with the repository's conf/.
new_glacier() { rm -rf "$1" && mkdir -p "$1" && cp -r "$SRC/conf" "$1/"; }

# Every dataset of conf/base/catalog.yml that the default pipeline writes.
OUTPUTS="data/01_raw/glacier.csv data/01_raw/mass_balance.csv
  data/01_raw/change.csv data/01_raw/state.csv
  data/02_intermediate/loaded_glacier.h5 data/02_intermediate/loaded_mass_balance.h5
  data/02_intermediate/loaded_change.h5 data/02_intermediate/loaded_state.h5
  data/03_primary/merged.h5 data/03_primary/timeseries.h5 data/03_primary/reference.h5
  data/06_models/active_model.h5 data/06_models/candidate_model.h5
  data/07_model_output/active_labels.csv data/07_model_output/candidate_labels.csv
  data/08_reporting/active_metrics.csv data/08_reporting/candidate_metrics.csv
  data/08_reporting/active_clusters.svg data/08_reporting/candidate_clusters.svg
  data/08_reporting/decision.md"
# The files compared byte for byte across rank counts.
TEXTS=$(echo "$OUTPUTS" | tr ' ' '\n' | grep -E '\.(csv|svg|md)$')

# ---- the default pipeline at 1, 2 and 8 ranks --------------------------------
for np in 1 2 8; do
  P=$SCRATCH/np$np
  new_glacier "$P"
  hp "$np" run "$P/conf" --params synthetic.scale=$SCALE
  expect_rc 0 "default pipeline, scale $SCALE, np=$np"
  expect_err "500 glaciers" "np=$np: synthetic made 500 glaciers (2000 x $SCALE)"
  expect_err "complete:" "np=$np: the run completed"
  missing=0
  for f in $OUTPUTS; do
    [ -s "$P/$f" ] || { fail "np=$np: $f missing or empty"; missing=1; }
  done
  [ "$missing" = 0 ] && ok "np=$np: every dataset of the catalog written"
  nv=$(ls "$P/data/06_models/model.h5" 2>/dev/null | wc -l)
  if [ "$nv" = 1 ] && [ -s "$P/data/06_models/model.h5/$(ls "$P/data/06_models/model.h5")/model.h5" ]; then
    ok "np=$np: one version of the promoted model (model.h5/<version>/model.h5)"
  else
    fail "np=$np: $nv versions of model.h5, expected one holding model.h5"
  fi
  ls "$P"/data/*/*.tmp* "$P"/data/store/*.tmp* 2>/dev/null && fail "np=$np: temporary files left"

  # Readable: h5py walks every dataset of every HDF5 file; the SVGs are XML
  # with polylines; decision.md names the promoted model, the better one
  # by silhouette, which is the one the versioned model.h5 holds.
  if [ "$H5PY" = 1 ]; then
    H5FILES=$(echo "$OUTPUTS" | tr ' ' '\n' | grep '\.h5$') $PY - "$P" <<'PY' && ok "np=$np: h5py reads every dataset of every .h5; SVGs parse, with <polyline; decision.md names the promoted model" || fail "np=$np: readability of the outputs"
import csv, glob, os, sys, h5py
from xml.dom import minidom
p = sys.argv[1]
files = sorted(f for f in glob.glob(p + "/data/**/*.h5", recursive=True) if os.path.isfile(f))
# the catalog's 9 HDF5 files, the promoted model's version, the store's
# scaled series
need = [p + "/" + x for x in os.environ["H5FILES"].split()]
assert set(need) <= set(files) and len(files) >= 10, (need, files)
for fn in files:
    with h5py.File(fn, "r") as f:
        n = []
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                obj[()]
                n.append(name)
        f.visititems(visit)
        assert n, f"{fn}: no datasets"
m = h5py.File(p + "/data/03_primary/merged.h5", "r")
assert m.attrs["hpcpipe_columns"].split(",")[:2] == ["WGMS_ID", "LATITUDE"], m.attrs["hpcpipe_columns"]
for ns in ("active", "candidate"):
    doc = minidom.parse(f"{p}/data/08_reporting/{ns}_clusters.svg")
    assert doc.documentElement.tagName == "svg", doc.documentElement.tagName
    assert doc.getElementsByTagName("polyline"), f"{ns}: no polyline"
    assert "<polyline" in open(f"{p}/data/08_reporting/{ns}_clusters.svg").read()
    mod = h5py.File(f"{p}/data/06_models/{ns}_model.h5", "r")
    for g in ("centers", "init_centers", "labels/WGMS_ID", "labels/CLUSTER"):
        assert g in mod, f"{ns}_model.h5 lacks {g}"
sil = {ns: float(next(csv.DictReader(open(f"{p}/data/08_reporting/{ns}_metrics.csv")))["silhouette"])
       for ns in ("active", "candidate")}
better = "candidate" if sil["candidate"] > sil["active"] else "active"
(ver,) = os.listdir(p + "/data/06_models/model.h5")
promoted = h5py.File(f"{p}/data/06_models/model.h5/{ver}/model.h5", "r").attrs["promoted"]
promoted = promoted.decode() if isinstance(promoted, bytes) else promoted
assert promoted == better, (promoted, sil)
md = open(p + "/data/08_reporting/decision.md").read()
assert f"Promoted: **{promoted}**" in md, md
PY
  else
    $PY - "$P" <<'PY' && ok "np=$np: SVGs parse, with <polyline; decision.md names the promoted model" || fail "np=$np: SVGs / decision.md"
import sys
from xml.dom import minidom
p = sys.argv[1]
for ns in ("active", "candidate"):
    doc = minidom.parse(f"{p}/data/08_reporting/{ns}_clusters.svg")
    assert doc.getElementsByTagName("polyline"), ns
md = open(p + "/data/08_reporting/decision.md").read()
assert "Promoted: **active**" in md or "Promoted: **candidate**" in md, md
PY
  fi

  h5digest "$P" >"$SCRATCH/h5digest.$np" 2>&1 || fail "np=$np: HDF5 digest failed"
  if [ "$np" != 1 ]; then
    differ=""
    for f in $TEXTS; do
      cmp -s "$SCRATCH/np1/$f" "$P/$f" || differ="$differ $f"
    done
    [ -z "$differ" ] && ok "np=$np: CSV, SVG and markdown outputs identical to np=1" ||
      fail "np=$np: differ from np=1:$differ"
    if cmp -s "$SCRATCH/h5digest.1" "$SCRATCH/h5digest.$np"; then
      ok "np=$np: HDF5 data identical to np=1 ($(wc -l <"$SCRATCH/h5digest.1") files)"
    else
      fail "np=$np: HDF5 data differs from np=1"
      diff "$SCRATCH/h5digest.1" "$SCRATCH/h5digest.$np" | sed 's/^/  | /' >&2
    fi
  fi
done

# ---- the Python reference ------------------------------------------------------
if [ "$PANDAS" = 1 ]; then
  # the default (DTW) run: merge_data, the series and the scaling
  timeout 240 $PY "$REF" "$SCRATCH/np1" --check >"$OUT" 2>"$ERR"; RC=$?
  expect_rc 0 "reference: merged table, series and scaled series of the default run"
  grep -q '^ok: merged: every value equal' "$OUT" && grep -q '^ok: timeseries' "$OUT" ||
    { fail "reference: merged/timeseries checks did not run"; sed 's/^/  | /' "$OUT" >&2; }
  [ "$RC" = 0 ] || sed 's/^/  | /' "$OUT" >&2

  # both models Euclidean: labels, inertia, iterations and centers too
  EUC=active.model_options.metric=euclidean,candidate.model_options.metric=euclidean
  R=$SCRATCH/euclidean
  new_glacier "$R"
  hp 2 run "$R/conf" --params "synthetic.scale=$SCALE,$EUC"
  expect_rc 0 "default pipeline with both models Euclidean, np=2"
  expect_err "euclidean k-means, k = 3" "active trained Euclidean"
  expect_err "euclidean k-means, k = 5" "candidate trained Euclidean"
  timeout 240 $PY "$REF" "$R" --check --params "$EUC" >"$OUT" 2>"$ERR"; RC=$?
  expect_rc 0 "reference --check agrees with hpcpipe (Euclidean models)"
  for ns in active candidate; do
    grep -q "^ok: $ns: labels equal" "$OUT" && grep -q "^ok: $ns: inertia within" "$OUT" ||
      fail "reference: $ns labels/inertia not checked"
  done
  sed 's/^/  | /' "$OUT" >&2
  # at 10x (190,000 merged rows) the engine's work runs in blocks on two
  # threads: CSV blocks parsed in 1 MB pieces, joins probed in blocks of
  # 65,536 left rows (the last one longer), sort merges in segments
  T=$SCRATCH/scale10
  new_glacier "$T"
  HPCPIPE_THREADS=2 hp 1 run "$T/conf" --params "synthetic.scale=10,$EUC"
  expect_rc 0 "both models Euclidean at scale 10, 2 threads"
  timeout 240 $PY "$REF" "$T" --check --params "$EUC" >"$OUT" 2>"$ERR"; RC=$?
  expect_rc 0 "reference --check agrees with hpcpipe at scale 10"
  grep -q '^ok: merged: every value equal' "$OUT" && grep -q '^ok: active: labels equal' "$OUT" ||
    { fail "reference at scale 10: merged/labels not checked"; sed 's/^/  | /' "$OUT" >&2; }
  [ "$RC" = 0 ] || sed 's/^/  | /' "$OUT" >&2
  # without --check: the end-to-end run the benchmark times
  timeout 240 $PY "$REF" "$R" --params "$EUC" --namespace candidate >"$OUT" 2>"$ERR"; RC=$?
  expect_rc 0 "reference without --check (one namespace)"
  grep -q '^time: total: ' "$OUT" && grep -q '^candidate: euclidean k-means' "$OUT" &&
    ! grep -q '^active:' "$OUT" && ok "reference prints its timings" ||
    { fail "reference run output"; sed 's/^/  | /' "$OUT" >&2; }
else
  echo "SKIP: reference check: /usr/bin/python3 lacks pandas (or numpy, h5py)" >&2
fi

# ---- to_timeseries from rows out of order ------------------------------------------
# merge_data hands its rows over sorted by WGMS_ID and YEAR, and
# to_timeseries skips its own sort then; rows in another order (a user's
# own pipeline) must give the same series.
U=$SCRATCH/unsorted
new_glacier "$U" && mkdir -p "$U/data/03_primary"
cp "$SCRATCH/np1/data/03_primary/merged.h5" "$U/data/03_primary/"
cat >"$U/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: shuffle, func: frame.sort, inputs: merged, outputs: shuffled_step, args: {by: [YEAR, WGMS_ID], ascending: false}}
    - node: to_timeseries
      func: glacier.to_timeseries
      inputs: {merged: shuffled_step, options: params:timeseries}
      outputs: [timeseries, reference]
Y
hp 1 run "$U/conf"
expect_rc 0 "to_timeseries from rows sorted by YEAR, WGMS_ID descending"
same=1
for d in data len wgms_id year; do
  cmp -s <(h5dump -d "/$d" "$SCRATCH/np1/data/03_primary/timeseries.h5" | tail -n +2) \
    <(h5dump -d "/$d" "$U/data/03_primary/timeseries.h5" | tail -n +2) || same=0
done
[ "$same" = 1 ] && ok "rows out of order: the same time series (data, len, wgms_id, year)" ||
  fail "rows out of order: the time series differ"

# ---- bad input ---------------------------------------------------------------------
# bad_project NAME: a copy of the np=1 project's conf and raw files, run as
# the `glacier` pipeline (the raw files as given, no synthetic step).
bad_project() {
  B=$SCRATCH/$1
  new_glacier "$B" && mkdir -p "$B/data" && cp -r "$SCRATCH/np1/data/01_raw" "$B/data/"
}

# (0) not bad: mass_balance.csv with its header only (no surveys) reads as
# an empty table of the catalog's column types, and the pipeline runs on
bad_project no_balances
head -1 "$SCRATCH/np1/data/01_raw/mass_balance.csv" >"$B/data/01_raw/mass_balance.csv"
hp 2 run "$B/conf" --pipelines glacier
expect_rc 0 "mass_balance.csv with only its header"
expect_err "promoted" "no balances: the models are compared"

# (a) change.csv without its LOWER_BOUND column
bad_project no_lower_bound
$PY - "$B/data/01_raw/change.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
i = rows[0].index("LOWER_BOUND")
with open(sys.argv[1], "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(r[:i] + r[i + 1:] for r in rows)
PY
hp 2 run "$B/conf" --pipelines glacier
expect_rc 1 "change.csv without LOWER_BOUND"
expect_err "node 'recent_changes'" "no LOWER_BOUND: names the node"
expect_err "change.csv:1: column 'LOWER_BOUND' (from columns:) is not in the header" "no LOWER_BOUND: names the file, line and column"
no_mpi_noise "no LOWER_BOUND"

# (b) a ragged row (two extra fields) on line 10 of state.csv
bad_project ragged_state
sed -i '10s/$/,1,2/' "$B/data/01_raw/state.csv"
hp 2 run "$B/conf" --pipelines glacier
expect_rc 1 "ragged row in state.csv"
expect_err "data/01_raw/state.csv:10:" "ragged row: names the file and line"
expect_err "row has 11 fields, expected 9" "ragged row: says what is wrong"
expect_err "node 'recent_states'" "ragged row: names the node"
no_mpi_noise "ragged row"

# (c) an unknown metric
bad_project cosine
hp 2 run "$B/conf" --pipelines glacier --params active.model_options.metric=cosine
expect_rc 1 "metric cosine"
expect_err "node 'active." "metric cosine: names the node"
expect_err "metric must be euclidean or dtw" "metric cosine: says what is allowed"
no_mpi_noise "metric cosine"

# (d) a silhouette cut into no blocks: a configuration error, before any task
bad_project noblocks
sed -i 's/args: {blocks: 8}/args: {blocks: 0}/' "$B/conf/base/pipelines.yml"
hp 2 run "$B/conf" --pipelines glacier
expect_rc 2 "distances with blocks: 0"
expect_err "node 'active.distances': args: blocks must be an integer from 1 to 4096" \
  "blocks: 0: names the node and the rule"
no_mpi_noise "blocks: 0"

finish
