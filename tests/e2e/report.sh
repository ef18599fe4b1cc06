#!/usr/bin/env bash
# Run reports: every run leaves <store>/reports/<run>.json and .html; the
# JSON lists every task attempt with its rank, times and bytes, per-node
# totals, retries and failures, the command and the parameters; the HTML
# renders in headless Chromium with the task timeline visible.
. "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || fail "chromium is missing (.ci/install-deps.sh installs it)"

P=$SCRATCH/r && mkdir -p "$P/conf/base"
cat >"$P/conf/base/catalog.yml" <<'Y'
by_name: {type: csv, filepath: data/by_name.csv}
Y
cat >"$P/conf/base/parameters.yml" <<'Y'
scale: {factor: 2.5, label: "x scaled"}
Y
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: ts, func: datasets.timeseries, outputs: ts,
       args: {start: "2000-01-01", end: "2000-01-09", freq: "10s", seed: 1}}
    - {node: slow, func: core.sleep, partitioned: true, inputs: ts, outputs: ts2, args: {ms: 30}}
    - {node: z, func: frame.assign, inputs: ts2, outputs: z, args: {columns: {z: "x * 2"}}}
    - {node: by_name, func: frame.groupby, inputs: z, outputs: by_name, args: {by: name, agg: {z: sum}}}
    - {node: total, func: frame.count, inputs: by_name, outputs: total}
    - {node: flaky, func: core.fail, inputs: by_name, outputs: nothing, retries: 1}
Y
for np in 1 3; do
  rm -rf "$P/data"
  hp "$np" run "$P/conf" --keep-going --params scale.factor=3.5
  expect_rc 1 "np=$np: run with a failing node"
  expect_err "report: $P/data/store/reports/" "np=$np: the report's path is logged"
  json=$(ls "$P"/data/store/reports/*.json 2>/dev/null | head -1)
  page=${json%.json}.html
  [ -s "$json" ] && [ -s "$page" ] && ok "np=$np: JSON and HTML written" || { fail "np=$np: no report"; continue; }
  $PY - "$json" "$np" <<'PY' && ok "np=$np: the JSON record says what happened" || fail "np=$np: JSON record"
import json, sys
r = json.load(open(sys.argv[1])); np = int(sys.argv[2])
assert r["status"] == "failed", r["status"]
assert r["ranks"] == np
assert "--keep-going" in r["command"] and "scale.factor=3.5" in r["command"], r["command"]
assert r["parameters"]["scale"] == {"factor": 3.5, "label": "x scaled"}, r["parameters"]
t = r["tasks_run"]
done = [x for x in t if x["status"] == "done"]
assert len(done) == r["tasks"]["done"] and len(done) >= 20, len(done)
ranks = {x["rank"] for x in t}
assert ranks <= ({0} if np == 1 else {1, 2}), ranks
if np == 3: assert ranks == {1, 2}, ranks
slow = [x for x in done if x["task"].startswith("slow[")]
assert len(slow) == 8 and all(x["seconds"] >= 0.029 for x in slow), slow
assert all(x["start"] >= 0 for x in t)
# each task's loading, function and saving fit in the run
for x in done:
    assert x["load_seconds"] >= 0 and x["save_seconds"] >= 0, x
    end = x["start"] + x["load_seconds"] + x["seconds"] + x["save_seconds"]
    assert end <= r["seconds"] + 0.05, (x, r["seconds"])
nodes = {n["name"]: n for n in r["nodes"]}
assert nodes["slow"]["tasks"] == 9 and nodes["slow"]["bytes_written"] > 0, nodes["slow"]
# a csv input is always read from its file (values in memory count 0)
assert nodes["total"]["bytes_read"] > 0, nodes["total"]
assert nodes["total"]["load_seconds"] > 0, nodes["total"]
assert nodes["slow"]["save_seconds"] > 0, nodes["slow"]
flaky = [x for x in t if x["node"] == "flaky"]
assert [x["status"] for x in flaky] == ["retried", "failed"], flaky
assert [x["attempt"] for x in flaky] == [1, 2], flaky
assert "core.fail was asked to fail" in flaky[1]["error"], flaky[1]
assert nodes["flaky"]["retries"] == 1 and nodes["flaky"]["failures"] == 1
PY
  # one bar per task attempt, one lane per rank
  bars=$(grep -c '^<g><title>[^<]* on rank [0-9]* at [0-9.]* s: load [0-9.]* s, run [0-9.]* s, save [0-9.]* s[^<]*</title>.*<rect x="[0-9.]*" y="[0-9]*" width="[0-9.]*" height="[0-9]*" fill="[^"]*"[^>]*/></g>$' "$page")
  attempts=$($PY -c "import json,sys; print(len(json.load(open(sys.argv[1]))['tasks_run']))" "$json")
  [ "$bars" = "$attempts" ] && ok "np=$np: $bars bars for $attempts task attempts" ||
    fail "np=$np: $bars bars for $attempts task attempts"
  if [ -n "$CHROMIUM" ]; then
    png=$SCRATCH/report$np.png
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
      --window-size=1200,900 --screenshot="$png" "file://$page" >/dev/null 2>&1
    # the timeline's bars are the only saturated colours on the page: count
    # them inside the timeline's box
    $PY - "$png" "$np" <<'PY' && ok "np=$np: the timeline is visible in Chromium's screenshot" || fail "np=$np: screenshot"
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB"); np = int(sys.argv[2])
w, h = im.size
px = im.load()
rows = {}
for y in range(h):
    for x in range(w):
        r, g, b = px[x, y]
        if max(r, g, b) - min(r, g, b) > 80:
            rows[y] = rows.get(y, 0) + 1
lit = [y for y, n in rows.items() if n > 150]   # rows crossed by wide bars
assert lit, "no coloured bars in the screenshot"
span = max(lit) - min(lit)
assert span >= (40 if np == 3 else 10), (min(lit), max(lit))
print(f"coloured rows {min(lit)}..{max(lit)}", file=sys.stderr)
PY
  fi
done

# progress lines (HPCPIPE_PROGRESS seconds apart, when stderr is a file)
# name the running tasks and count the ones still saving
G=$SCRATCH/progress && sleep_chain "$G" 600 600 600 600
for np in 1 3; do
  HPCPIPE_PROGRESS=1 hp "$np" run "$G/conf"
  expect_rc 0 "np=$np: progress run"
  grep -Eq 'progress: [0-9]/4 nodes done, 1 running \(n[2-4]\)' "$ERR" &&
    ok "np=$np: progress names the running node" ||
    fail "np=$np: progress lines: $(grep progress "$ERR")"
done
# the report's parameters are what nodes read: null and booleans typed
hp 1 run "$G/conf" --params "e=,n=null,x=TRUE,q=3,s=no"
expect_rc 0 "a run with typed --params"
$PY - "$G" <<'PY' && ok "report parameters: null, true, 3, 'no'" || fail "report parameters typed"
import glob, json, sys
r = json.load(open(sorted(glob.glob(sys.argv[1] + "/data/store/reports/*.json"))[-1]))
p = r["parameters"]
assert p["e"] is None and p["n"] is None and p["x"] is True and p["q"] == 3 and p["s"] == "no", p
PY
finish
