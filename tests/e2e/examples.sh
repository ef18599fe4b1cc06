#!/usr/bin/env bash
# The example projects, run from scratch copies as a user would:
# examples/dask_tutorial (seed 003: delayed inc/dec/add, a chunked random
# array and its sum, the timeseries frame's "Zelda" count, name counts and
# mean x per name) and examples/avocado (seed 004: a generated, partitioned
# avocado table written as a CSV directory, read back and grouped by region
# and type). Runs at 1, 3 and 8 ranks; the outputs are identical at every
# rank count, and a few values are checked independently: add == inc(1) +
# dec(2) == 3, the two delayed branches overlap on 3 ranks, the name counts
# sum to the row count, the array sum matches numpy's and the avocado
# aggregates match sums and means computed with Python's csv module.
. "$(dirname "$0")/lib.bash"

for so in libhpcpipe_tutorial.so libhpcpipe_avocado.so; do
  [ -f "$HPCPIPE_PLUGIN_PATH/$so" ] || { fail "$so not built in $HPCPIPE_PLUGIN_PATH"; finish; }
done
H5PY=0
/usr/bin/python3 -c "import h5py, numpy" 2>/dev/null && H5PY=1

# number FILE: the first element of /data in an HDF5 file, all 17 digits.
number() { h5dump -A 0 -m %.17g -d /data "$1" 2>/dev/null | sed -n 's/^ *(0): *//p'; }

# ---- examples/dask_tutorial --------------------------------------------------
T=$SCRATCH/dask_tutorial && cp -r "$SRC/examples/dask_tutorial" "$T" && rm -rf "$T/data"
for np in 1 3 8; do
  rm -rf "$T/data"
  hp "$np" run "$T/conf"
  expect_rc 0 "dask_tutorial np=$np"
  expect_err "add(2, 1) = 3" "np=$np: add logs inc(1) + dec(2)"
  for f in zelda_count name_counts x_mean_by_name ts_head; do
    [ -s "$T/data/08_reporting/$f.csv" ] || fail "np=$np: no $f.csv"
  done
  for f in x y total arr arr_sum ts zelda; do
    [ -f "$T/data/store/$f.h5" ] || fail "np=$np: no store/$f.h5"
  done
  [ "$(number "$T/data/store/total.h5")" = 3 ] && ok "np=$np: total = 3" ||
    fail "np=$np: total is '$(number "$T/data/store/total.h5")', not 3"
  [ "$(ls "$T/data/store/ts-parts" | wc -l)" = 30 ] || fail "np=$np: 30 timeseries partitions"
  [ "$(ls "$T/data/store/arr-parts" | wc -l)" = 2 ] || fail "np=$np: 2 array chunks"
  mkdir -p "$SCRATCH/dt$np" && cp -r "$T/data/08_reporting/." "$SCRATCH/dt$np/"
  number "$T/data/store/arr_sum.h5" >"$SCRATCH/dt$np/arr_sum.txt"
  if [ "$np" != 1 ]; then
    diff -r "$SCRATCH/dt1" "$SCRATCH/dt$np" >/dev/null &&
      ok "np=$np: reports and array sum identical to np=1" ||
      fail "np=$np: outputs differ from np=1"
  fi
done

# Sanity of the np=8 outputs (identical to np=1 by now).
R=$T/data/08_reporting
/usr/bin/python3 - "$R" <<'PY' && ok "value_counts: 26 names summing to 2592000 rows, Zelda's count agrees" || fail "value_counts / zelda count"
import csv, sys
r = sys.argv[1]
counts = {row["name"]: int(row["count"]) for row in csv.DictReader(open(r + "/name_counts.csv"))}
zelda = int(next(csv.DictReader(open(r + "/zelda_count.csv")))["count"])
vals = list(counts.values())
assert len(counts) == 26, len(counts)
assert sum(vals) == 30 * 86400, sum(vals)            # 30 days at 1 s
assert vals == sorted(vals, reverse=True)            # most frequent first
assert counts["Zelda"] == zelda, (counts["Zelda"], zelda)
head = list(csv.DictReader(open(r + "/ts_head.csv")))
assert len(head) == 5 and head[0]["timestamp"] == "2000-01-01 00:00:00", head[:1]
means = list(csv.DictReader(open(r + "/x_mean_by_name.csv")))
assert [m["name"] for m in means] == sorted(counts), "groupby sorted by name"
assert all(abs(float(m["x"])) < 0.02 for m in means)  # x ~ U(-1, 1)
PY
if [ "$H5PY" = 1 ]; then
  /usr/bin/python3 - "$T/data" <<'PY' && ok "h5py: array sum, Zelda count and mean x per name match numpy" || fail "h5py checks of the store"
import csv, sys, h5py, numpy as np
d = sys.argv[1]
arr = h5py.File(d + "/store/arr.h5", "r")["data"][:]
s = h5py.File(d + "/store/arr_sum.h5", "r")["data"][0]
assert arr.shape == (1000, 1000) and 0 <= arr.min() and arr.max() < 1
assert abs(s - arr.sum()) <= 1e-9 * abs(s), (s, arr.sum())
assert abs(s - 5e5) < 3000, s                        # 1e6 draws of U(0, 1)
ts = h5py.File(d + "/store/ts.h5", "r")
codes = ts["name"][:]
enum = h5py.check_enum_dtype(ts["name"].dtype)
names = {v: k for k, v in enum.items()} if enum else None
x = ts["x"][:]
assert len(x) == 30 * 86400
zelda = int(next(csv.DictReader(open(d + "/08_reporting/zelda_count.csv")))["count"])
for row in csv.DictReader(open(d + "/08_reporting/x_mean_by_name.csv")):
    code = enum[row["name"]] if enum else row["name"].encode()
    sel = x[codes == code]
    assert abs(sel.mean() - float(row["x"])) < 1e-12, (row, sel.mean())
    if row["name"] == "Zelda":
        assert len(sel) == zelda, (len(sel), zelda)
PY
fi

# The delayed branches: inc and dec run on two workers at once, so three
# nodes of 500 ms take about two sleeps on 3 ranks, three in-process.
secs() { sed -n 's/.*complete: .* in \([0-9.]*\) s .*/\1/p' "$ERR"; }
hp 1 run "$T/conf" --pipelines delayed --params delayed.sleep_ms=500
expect_rc 0 "delayed in-process"
t1=$(secs)
hp 3 run "$T/conf" --pipelines delayed --params delayed.sleep_ms=500
expect_rc 0 "delayed np=3"
t3=$(secs)
ranks=$(grep -E '"node":"(inc|dec)"' "$T/data/store/journal.jsonl" | tail -2 |
  sed 's/.*"rank":\([0-9]*\).*/\1/' | sort -u | wc -l)
[ "$ranks" = 2 ] && ok "np=3: inc and dec ran on two ranks" || fail "np=3: inc and dec on $ranks rank(s)"
if awk -v a="$t1" -v b="$t3" 'BEGIN { exit !(a >= 1.5 && b < 1.45) }'; then
  ok "delayed: ${t1} s in-process (3 sleeps), ${t3} s on 3 ranks (2 sleeps)"
else
  fail "delayed timing: ${t1} s in-process, ${t3} s on 3 ranks (expected >= 1.5 and < 1.45)"
fi
[ "$(number "$T/data/store/total.h5")" = 3 ] || fail "delayed np=3: total != 3"

# ---- examples/avocado --------------------------------------------------------
A=$SCRATCH/avocado && cp -r "$SRC/examples/avocado" "$A" && rm -rf "$A/data"
for np in 1 3 8; do
  rm -rf "$A/data"
  hp "$np" run "$A/conf"
  expect_rc 0 "avocado np=$np"
  expect_err "2017: 53 weeks x 54 regions x 2 types" "np=$np: one partition per year"
  [ "$(ls "$A/data/01_raw/avocado" | wc -l)" = 4 ] || fail "np=$np: 4 CSV partitions (2015..2018)"
  for f in avocado_by_type avocado_by_region_type; do
    [ -s "$A/data/08_reporting/$f.csv" ] || fail "np=$np: no $f.csv"
  done
  mkdir -p "$SCRATCH/av$np" && cp -r "$A/data/01_raw" "$A/data/08_reporting" "$SCRATCH/av$np/"
  if [ "$np" != 1 ]; then
    diff -r "$SCRATCH/av1" "$SCRATCH/av$np" >/dev/null &&
      ok "np=$np: generated partitions and aggregates identical to np=1" ||
      fail "np=$np: avocado outputs differ from np=1"
  fi
done

# Reading the CSV directory back in a later run (4 partitions, one per file).
rm -rf "$A/data/08_reporting"
hp 3 run "$A/conf" --pipelines aggregate
expect_rc 0 "avocado: aggregate only, from the CSV files"
expect_err "2 nodes (" "aggregate: 2 nodes"
diff -r "$SCRATCH/av1/08_reporting" "$A/data/08_reporting" >/dev/null &&
  ok "aggregates from the files = aggregates in one run" ||
  fail "aggregates read back from the CSV directory differ"

/usr/bin/python3 - "$A/data" <<'PY' && ok "avocado aggregates = csv-module sums, means, mins, maxs and counts" || fail "avocado aggregates"
import csv, glob, math, sys
d = sys.argv[1]
rows = []
for f in sorted(glob.glob(d + "/01_raw/avocado/part-*.csv")):
    rows += list(csv.DictReader(open(f)))
assert len(rows) == (52 + 52 + 53 + 52) * 54 * 2 * 10, len(rows)
assert {r["type"] for r in rows} == {"conventional", "organic"}
groups = {}
for r in rows:
    groups.setdefault((r["region"], r["type"]), []).append(r)
got = list(csv.DictReader(open(d + "/08_reporting/avocado_by_region_type.csv")))
assert len(got) == 108 == len(groups), len(got)
assert [(g["region"], g["type"]) for g in got] == sorted(groups)
close = lambda a, b: abs(a - b) <= 1e-9 * max(1.0, abs(b))
for g in got:
    rs = groups[(g["region"], g["type"])]
    p = [float(r["average_price"]) for r in rs]
    v = [float(r["volume"]) for r in rs]
    assert int(g["average_price_count"]) == len(rs)
    assert close(float(g["average_price_mean"]), math.fsum(p) / len(p)), g
    assert float(g["average_price_min"]) == min(p) and float(g["average_price_max"]) == max(p), g
    assert close(float(g["volume"]), math.fsum(v)), (g, math.fsum(v))
total = math.fsum(float(r["volume"]) for r in rows)
assert close(math.fsum(float(g["volume"]) for g in got), total)
by_type = {g["type"]: g for g in csv.DictReader(open(d + "/08_reporting/avocado_by_type.csv"))}
for t, g in by_type.items():
    p = [float(r["average_price"]) for r in rows if r["type"] == t]
    assert close(float(g["average_price"]), math.fsum(p) / len(p)), g
assert float(by_type["organic"]["average_price"]) > float(by_type["conventional"]["average_price"])
PY
if /usr/bin/python3 -c "import pandas" 2>/dev/null; then
  /usr/bin/python3 - "$A/data" <<'PY' && ok "pandas: df.groupby('type').mean() matches" || fail "pandas groupby(type).mean()"
import glob, sys, pandas as pd
d = sys.argv[1]
df = pd.concat(pd.read_csv(f) for f in sorted(glob.glob(d + "/01_raw/avocado/part-*.csv")))
exp = df.groupby("type")[["average_price", "volume", "year"]].mean()
got = pd.read_csv(d + "/08_reporting/avocado_by_type.csv").set_index("type")
assert ((got - exp).abs() <= 1e-9 * exp.abs().clip(lower=1)).all().all(), (got, exp)
PY
fi
# From a build, the examples' plugins are found beside the hpcpipe
# executable (build/jobs) without HPCPIPE_PLUGIN_PATH.
(unset HPCPIPE_PLUGIN_PATH; hp 1 run "$T/conf" --pipelines delayed --params delayed.sleep_ms=1)
expect_rc 0 "plugins found beside the executable"

finish
