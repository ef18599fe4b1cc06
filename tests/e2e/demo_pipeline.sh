#!/usr/bin/env bash
# examples/readings (the small project the docs walk through) end to end:
# in-process and on 2, 3 and 8 ranks the same outputs (CSV bytes, HDF5
# data), lineage on HDF5 outputs, the dry-run order, list and check.
. "$(dirname "$0")/lib.bash"

# Data of an HDF5 output without attributes that differ per run.
h5data() { h5dump -d /station -d /year -d /temp -d /rain -d /valid "$1" |
  grep -v 'HDF5 "'; }

for np in 1 2 3 8; do
  P=$SCRATCH/p$np
  new_project "$P"
  hp "$np" run "$P/conf"
  expect_rc 0 "run on $np rank(s)"
  for f in data/08_reporting/temperature_summary.csv \
           data/08_reporting/rainfall_summary.csv \
           data/02_intermediate/clean_readings.h5 \
           data/store/temperature.scaled.h5 data/store/rainfall.scaled.h5; do
    [ -s "$P/$f" ] || fail "np=$np: $f missing"
  done
  if [ "$np" != 1 ]; then
    for f in temperature_summary.csv rainfall_summary.csv; do
      cmp -s "$SCRATCH/p1/data/08_reporting/$f" "$P/data/08_reporting/$f" ||
        fail "np=$np: $f differs from the in-process run"
    done
    [ "$(h5data "$SCRATCH/p1/data/02_intermediate/clean_readings.h5")" = \
      "$(h5data "$P/data/02_intermediate/clean_readings.h5")" ] ||
      fail "np=$np: clean_readings.h5 differs from the in-process run"
    fp1=$(h5dump -a /hpcpipe_fingerprint "$SCRATCH/p1/data/store/rainfall.scaled.h5" | grep '(0):')
    fpn=$(h5dump -a /hpcpipe_fingerprint "$P/data/store/rainfall.scaled.h5" | grep '(0):')
    [ -n "$fp1" ] && [ "$fp1" = "$fpn" ] || fail "np=$np: fingerprints differ"
  fi
  ls "$P"/data/store/*.tmp* "$P"/data/*/*.tmp* 2>/dev/null && fail "np=$np: temporary files left"
done

P=$SCRATCH/p1
# The summary is right: 6 stations, header first.
head -1 "$P/data/08_reporting/temperature_summary.csv" | grep -qx 'station,count,mean,min,max' ||
  fail "summary header"
[ "$(wc -l < "$P/data/08_reporting/temperature_summary.csv")" = 7 ] || fail "summary rows"
# Lineage attributes on a store output.
for a in hpcpipe_node hpcpipe_function hpcpipe_fingerprint hpcpipe_rows hpcpipe_version hpcpipe_time; do
  h5dump -a "/$a" "$P/data/store/temperature.scaled.h5" >/dev/null 2>&1 || fail "lineage attribute $a missing"
done
h5dump -a /hpcpipe_node "$P/data/store/temperature.scaled.h5" | grep -q '"temperature.scale"' ||
  fail "lineage names the producing node"
# The run journal records every node.
[ "$(grep -c '"event":"done"' "$P/data/store/journal.jsonl")" = 5 ] || fail "journal lines"

# Dry run: the selected nodes in an order they can run in, nothing else.
hp 1 run "$P/conf" --dry-run
expect_rc 0 "dry run"
printf 'clean_readings\nrainfall.scale\ntemperature.scale\nrainfall.summarize\ntemperature.summarize\n' |
  cmp -s - "$OUT" || { fail "dry-run output"; cat "$OUT" >&2; }
hp 3 run "$P/conf" --dry-run --tags reporting
printf 'rainfall.summarize\ntemperature.summarize\n' | cmp -s - "$OUT" ||
  { fail "dry-run --tags on 3 ranks"; cat "$OUT" >&2; }
hp 1 run "$P/conf" --dry-run --namespaces temperature --to-nodes temperature.scale
printf 'temperature.scale\n' | cmp -s - "$OUT" || { fail "intersected filters"; cat "$OUT" >&2; }
hp 1 list "$P/conf" datasets --namespaces rainfall
printf 'clean_readings\nrainfall.scaled\nrainfall.summary\n' | cmp -s - "$OUT" ||
  { fail "list datasets"; cat "$OUT" >&2; }
hp 1 list "$P/conf" pipelines
printf '__default__\ningest\nreport\nreports\n' | cmp -s - "$OUT" || { fail "list pipelines"; cat "$OUT" >&2; }
hp 2 check "$P/conf"
expect_rc 0 "check"

# --params overrides a parameter: a different factor changes the output.
Q=$SCRATCH/q && new_project "$Q"
hp 2 run "$Q/conf" --params temperature.scaling.factor=2,temperature.scaling.offset=0 --nodes clean_readings,temperature.scale,temperature.summarize
expect_rc 0 "run with --params"
cmp -s "$P/data/08_reporting/temperature_summary.csv" "$Q/data/08_reporting/temperature_summary.csv" &&
  fail "--params had no effect"
finish
