#!/usr/bin/env bash
# Collections at scale (issue 3, W3-W6): hpcpipe (in-process and mpirun -n 3)
# beside numpy/pandas, Dask threaded and Dask distributed, and `dd`; medians
# of REPS runs.
#   tests/perf/collections.sh BUILD_DIR [REPS]
# Not part of the default test run (10-20 minutes; needs ~6 GB of disk under
# /tmp and ~8 GB of free memory at the default sizes).
#
#   W3 array: sum and mean over axis 0 of a float64 array of W3_ROWS x W3_COLS
#      (default 100,000 x 4,000 = 3.2 GB) stored as row blocks of W3_CHUNK
#      rows (2,500: 80 MB, 40 partition files + a master of virtual datasets).
#      GB/s = array bytes / seconds. hpcpipe: array.sum and array.mean
#      (axis 0) in one run, each reading the partitions; numpy: the master
#      read whole with h5py, then .sum(0) and .mean(0); Dask: one block per
#      partition file (da.from_delayed of an h5py read), both reductions in
#      one dask.compute (so Dask reads every block once). Lines W3S and W3M
#      time each reduction alone (the issue's figure is per operation):
#      hpcpipe runs only that node, numpy reads then reduces once, Dask
#      computes that reduction alone.
#   W4 CSV ingest: Dask's timeseries (timestamp,id,name,x,y) for W4_DAYS days
#      (default 164: 14.2 M rows, ~1.0 GB) as one CSV file, parsed and
#      written into HDF5 columns. MB/s = CSV bytes / seconds. hpcpipe: a csv
#      catalog dataset with `blocksize: 64MB` and `columns: {timestamp:
#      timestamp}` read by a `partitioned: true` core.identity whose output is
#      not in the catalog (the store: one HDF5 file per block + a master);
#      pandas: read_csv(parse_dates=[timestamp], dtype={name: category}) then
#      one h5py dataset per column (name as an HDF5 enum of its codes, like
#      hpcpipe's dictionary columns; PyTables' to_hdf is not used: it writes a
#      different layout); Dask: read_csv(blocksize=64 MB, same dtypes) and one
#      h5py file per partition, written by the partition's task.
#   W5 join: the timeseries for W5_DAYS days (default 58: 5,011,200 rows, 58
#      partitions, in the store as an HDF5 catalog dataset) joined on `id`
#      with a table of W5_RIGHT (100,000) rows (id 0..N-1 -> value, random
#      float64; one partition). Every left row matches once. The join is
#      followed by groupby(name).value.agg([count, sum]) so that the result
#      is small and checkable. rows/s = left rows / seconds. hpcpipe:
#      frame.join (inner, broadcast of the one-partition right side) then
#      frame.groupby; pandas: merge then groupby; Dask: merge of the
#      partitioned left (dd.from_map over the part files) with the pandas
#      right (a broadcast join), then groupby. All read every left column
#      (hpcpipe's join reads all of them: no projection through a join).
#   W6 store writes: array.ones of W6_ROWS x W6_COLS float64 (default
#      131,072 x 1,024 = 1 GiB, row blocks of W6_CHUNK = 8,192 rows: 16
#      files of 64 MiB) into an output not in the catalog (the store).
#      hpcpipe does not fsync HDF5 outputs, so two figures: the run phase
#      (page cache), and the run phase + `sync FILES` of the written files
#      (to disk); beside `dd if=/dev/zero bs=1M count=1024` with and without
#      conv=fdatasync. A system-wide `sync` (untimed) precedes every rep.
#      MB/s = bytes / 1e6 / seconds. Like dd's, hpcpipe's main figure writes
#      new files (the output is removed, untimed, before each rep); a second
#      line ("overwriting") keeps the previous rep's output, as a rerun does:
#      on ext4 a rename over an existing file (auto_da_alloc) then starts
#      and waits for the new file's writeback. W4's outputs are overwritten
#      by every system (hpcpipe, pandas and Dask all write a temporary file
#      and rename it over the previous rep's).
#
# Data are generated ONCE by hpcpipe (W3: array.random; W4: datasets.timeseries
# written as one CSV; W5: datasets.timeseries into an HDF5 catalog dataset,
# the right table from a CSV made by numpy ingested into HDF5), then read once
# so that they sit in the page cache: every timed figure is warm-cache.
#
# Timed: hpcpipe, the run phase its log reports ("complete: N tasks in X s":
# reading, compute, writing, messages; not process/MPI start-up or
# planning; the wall time of the whole command is printed too). Peers time
# the same span (read + compute + write) inside one warm interpreter; Python
# and cluster start-up are excluded (the cluster's is printed). np 3 is rank
# 0 scheduling and two workers on 2 cores (oversubscribed by one rank that
# mostly waits; slurm/mpi-env.sh sets yield_when_idle). A run that hangs
# (> HANG s, default 120) at np 3 is redone with HPCPIPE_DEPTH=1 and flagged.
#
# Results of hpcpipe and the single-core peer are compared (sums and means
# to 1e-9 relative; row counts and integer sums exactly); a mismatch prints
# a WARNING line. WL="w3 w5" runs a subset.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
perf_start collections 5 "$@"
WL=${WL:-w3 w4 w5 w6}
W3_ROWS=${W3_ROWS:-100000} W3_COLS=${W3_COLS:-4000} W3_CHUNK=${W3_CHUNK:-2500}
W4_DAYS=${W4_DAYS:-164}
W5_DAYS=${W5_DAYS:-58} W5_RIGHT=${W5_RIGHT:-100000}
W6_ROWS=${W6_ROWS:-131072} W6_COLS=${W6_COLS:-1024} W6_CHUNK=${W6_CHUNK:-8192}
P=$W/proj
mkdir -p "$P/data"
has() { case " $WL " in *" $1 "*) return 0 ;; esac; return 1; }
# the workload a line belongs to: w3s, w3m (one reduction alone) are W3's,
# w6o (overwriting) W6's
of() { case $1 in w3?) echo w3 ;; *) echo "${1%o}" ;; esac; }

day() { date -u -d "2000-01-01 + $1 days" +%Y-%m-%d; }

# mkconf DIR CATALOG_LINES NODES...: a conf directory under $P.
mkconf() {
  local d=$P/$1 cat=$2
  shift 2
  mkdir -p "$d/base"
  printf '%s\n' "$cat" >"$d/base/catalog.yml"
  { echo "pipelines:"; echo "  __default__:"
    for n in "$@"; do echo "    $n"; done; } >"$d/base/pipelines.yml"
}
CAT_ARR='arr: {type: hdf5, filepath: data/arr.h5}
colsum: {type: hdf5, filepath: data/out/colsum.h5}
colmean: {type: hdf5, filepath: data/out/colmean.h5}'
CAT_CSV='tscsv: {type: csv, filepath: data/ts.csv, blocksize: 64MB, columns: {timestamp: timestamp}}'
CAT_JOIN='left: {type: hdf5, filepath: data/left.h5}
right_src: {type: csv, filepath: data/right_src.csv}
right: {type: hdf5, filepath: data/right.h5}
joined: {type: memory}
result: {type: csv, filepath: data/out/w5.csv}'
mkconf conf-gen "$CAT_ARR
$CAT_CSV
$CAT_JOIN" \
  "- {node: make_arr, func: array.random, outputs: arr, args: {shape: [$W3_ROWS, $W3_COLS], chunks: [$W3_CHUNK, $W3_COLS], seed: 3}}" \
  "- {node: make_csv, func: datasets.timeseries, outputs: tscsv, args: {start: \"2000-01-01\", end: \"$(day "$W4_DAYS")\", freq: 1s, partition_freq: 1d, seed: 4}}" \
  "- {node: make_left, func: datasets.timeseries, outputs: left, args: {start: \"2000-01-01\", end: \"$(day "$W5_DAYS")\", freq: 1s, partition_freq: 1d, seed: 5}}" \
  "- {node: make_right, func: core.identity, inputs: right_src, outputs: right}"
# The generating run writes tscsv as one file; blocksize only matters for
# reading. Generation runs only the nodes of the selected workloads.
mkconf conf-w3 "$CAT_ARR" \
  "- {node: s, func: array.sum, inputs: arr, outputs: colsum, args: {axis: 0}}" \
  "- {node: m, func: array.mean, inputs: arr, outputs: colmean, args: {axis: 0}}"
mkconf conf-w3s "$CAT_ARR" \
  "- {node: s, func: array.sum, inputs: arr, outputs: colsum, args: {axis: 0}}"
mkconf conf-w3m "$CAT_ARR" \
  "- {node: m, func: array.mean, inputs: arr, outputs: colmean, args: {axis: 0}}"
mkconf conf-w4 "$CAT_CSV" \
  "- {node: ingest, func: core.identity, inputs: tscsv, outputs: ingested, partitioned: true}"
mkconf conf-w5 "$CAT_JOIN" \
  "- {node: j, func: frame.join, inputs: [left, right], outputs: joined, args: {on: id, how: inner}}" \
  "- {node: g, func: frame.groupby, inputs: joined, outputs: result, args: {by: name, agg: {value: [count, sum]}}}"
mkconf conf-w6 "" \
  "- {node: ones, func: array.ones, outputs: ones_out, args: {shape: [$W6_ROWS, $W6_COLS], chunks: [$W6_CHUNK, $W6_COLS]}}"

HANG=${HANG:-120}
: >"$W/notes"

# ---- data, once ------------------------------------------------------------
gen_nodes=()
has w3 && gen_nodes+=(make_arr)
has w4 && gen_nodes+=(make_csv)
if has w5; then
  gen_nodes+=(make_left make_right)
  $PY -c "
import numpy as np
n = $W5_RIGHT
v = np.random.default_rng(5).random(n)
with open('$P/data/right_src.csv', 'w') as f:
    f.write('id,value\n')
    f.write(''.join('%d,%r\n' % (i, float(x)) for i, x in enumerate(v)))"
fi
if [ ${#gen_nodes[@]} -gt 0 ]; then
  nodes=$(IFS=,; echo "${gen_nodes[*]}")
  t=$(hprun 1 conf-gen --nodes "$nodes")
  case $t in hang | fail) echo "data generation failed" >&2; cat "$W/err" >&2; exit 1 ;; esac
  printf 'data generated in %.1f s (run phase, np 1):' "${t%% *}"
  has w3 && printf ' W3 %s x %s float64 in %s files (%s);' "$W3_ROWS" "$W3_COLS" \
    "$(ls "$P/data/arr-parts" | wc -l)" "$(du -sh "$P/data/arr-parts" | cut -f1)"
  has w4 && printf ' W4 CSV %s rows, %s bytes;' "$(($(wc -l <"$P/data/ts.csv") - 1))" \
    "$(stat -c %s "$P/data/ts.csv")"
  has w5 && printf ' W5 left %s rows in %s files (%s), right %s rows' \
    "$($PY -c "import h5py; print(len(h5py.File('$P/data/left.h5','r')['id']))")" \
    "$(ls "$P/data/left-parts" | wc -l)" "$(du -sh "$P/data/left-parts" | cut -f1)" "$W5_RIGHT"
  echo
  cat "$P"/data/*.h5 "$P"/data/*-parts/*.h5 "$P"/data/*.csv >/dev/null 2>&1 || true # page cache
fi
W3_BYTES=$((W3_ROWS * W3_COLS * 8))
W6_BYTES=$((W6_ROWS * W6_COLS * 8))
has w4 && W4_BYTES=$(stat -c %s "$P/data/ts.csv")
has w5 && W5_ROWS=$($PY -c "import h5py; print(len(h5py.File('$P/data/left.h5','r')['id']))")

# ---- hpcpipe ---------------------------------------------------------------
declare -A HR HW HF HS
W6FILES="$P/data/store/ones_out.h5 $P/data/store/ones_out-parts/*.h5"
for np in 1 3; do
  for w in w3 w3s w3m w4 w5 w6 w6o; do
    has "$(of $w)" || continue
    pre=true post=
    case $w in
      w6) pre="rm -rf $P/data/store/ones_out.h5 $P/data/store/ones_out-parts; sync"
          post="sync $W6FILES" ;;
      w6o) pre=sync post="sync $W6FILES" ;;
    esac
    c=conf-$w
    [ $w = w6o ] && c=conf-w6
    read -r r wall fn _ rs <<<"$(POST=$post hpmed "$np" "$c" "$pre")"
    HR[$w$np]=$r HW[$w$np]=$wall HF[$w$np]=$fn HS[$w$np]=$rs
  done
done
# keep hpcpipe's results for the check (the next runs overwrite nothing)
mkdir -p "$W/hp"
has w3 && cp "$P/data/out/colsum.h5" "$P/data/out/colmean.h5" "$W/hp/"
has w5 && cp "$P/data/out/w5.csv" "$W/hp/"

# ---- dd --------------------------------------------------------------------
declare -A DD
if has w6; then
  mb=$((W6_BYTES / 1048576))
  for how in fdatasync cache; do
    : >"$W/t"
    for _ in $(seq "$REPS"); do
      sync
      conv=
      [ $how = fdatasync ] && conv=conv=fdatasync
      s=$(LC_ALL=C dd if=/dev/zero of="$W/dd.bin" bs=1M count=$mb $conv 2>&1 |
            sed -n 's/.* copied, \([0-9.e+-]*\) s.*/\1/p')
      rm -f "$W/dd.bin"
      echo "$s" >>"$W/t"
    done
    DD[$how]=$(median <"$W/t")
  done
fi

# ---- peers -----------------------------------------------------------------
declare -A PT
PWL=$WL
has w3 && PWL="$PWL w3s w3m"
for how in single threads distributed; do
  peers collections_peers.py "$how" "$PWL"
done

# ---- results agree? --------------------------------------------------------
$PY "$HERE/collections_peers.py" "$P/data" check "$W/hp" "$W/single" "$WL" || true

# ---- table -----------------------------------------------------------------
# f X: X to 3 decimals or NA; rate UNITS S: UNITS / S; r PEER HP: ratio
f() { case $1 in NA | "") echo NA ;; *) printf '%.3f' "$1" ;; esac; }
rate() { case $2 in NA | "") echo NA ;; *) printf "%.${3:-2}f" "$(echo "$1 / $2" | bc -l)" ;; esac; }
r() { case "$1$2" in *NA*) echo NA ;; *) printf '%.1f' "$(echo "$1 / $2" | bc -l)" ;; esac; }
dep() { grep -qx "$1/np3" "$W/notes" && echo " (depth 1)" || true; }
# line W UNIT SCALE DEC: one workload, rates UNITS/s with SCALE = units of
# work; peer time / hpcpipe np1 time in parentheses (> 1: hpcpipe faster).
line() {
  local w=$1 name=$2 unit=$3 n=$4 d=$5 h=${HR[${1}1]}
  printf '%s %-22s hpcpipe np1 %s s = %s %s | np3 %s s = %s%s | %s %s s = %s (%s×) | dask-threads %s s = %s (%s×) | dask-dist %s s = %s (%s×)\n' \
    "${w^^}" "$name" "$(f "$h")" "$(rate "$n" "$h" "$d")" "$unit" \
    "$(f "${HR[${w}3]}")" "$(rate "$n" "${HR[${w}3]}" "$d")" "$(dep "conf-$w")" \
    "$6" "$(f "${PT[single$w]:-NA}")" "$(rate "$n" "${PT[single$w]:-NA}" "$d")" "$(r "${PT[single$w]:-NA}" "$h")" \
    "$(f "${PT[threads$w]:-NA}")" "$(rate "$n" "${PT[threads$w]:-NA}" "$d")" "$(r "${PT[threads$w]:-NA}" "$h")" \
    "$(f "${PT[distributed$w]:-NA}")" "$(rate "$n" "${PT[distributed$w]:-NA}" "$d")" "$(r "${PT[distributed$w]:-NA}" "$h")"
}
echo "medians of $REPS runs (Dask distributed: $DREPS), warm page cache; seconds and rates; (peer seconds / hpcpipe np1 seconds: > 1 means hpcpipe is faster)"
has w3 && line w3 "array sum+mean axis 0" GB/s "$W3_BYTES / 1000000000" 2 numpy
has w3 && line w3s "array sum axis 0" GB/s "$W3_BYTES / 1000000000" 2 numpy
has w3 && line w3m "array mean axis 0" GB/s "$W3_BYTES / 1000000000" 2 numpy
has w4 && line w4 "CSV ingest to HDF5" MB/s "$W4_BYTES / 1000000" 0 pandas
has w5 && line w5 "join + groupby" Mrows/s "$W5_ROWS / 1000000" 2 pandas
if has w6; then
  printf 'W6 %-22s hpcpipe np1 %s s = %s MB/s (+ sync %s s = %s MB/s) | np3 %s s = %s MB/s (+ sync %s s = %s MB/s)%s | dd fdatasync %s s = %s MB/s (MB/s hpcpipe np1+sync / dd: %s) | dd to page cache %s s = %s MB/s (MB/s hpcpipe np1 / dd: %s)\n' \
    "store writes $((W6_BYTES / 1048576)) MiB" \
    "$(f "${HR[w61]}")" "$(rate "$W6_BYTES / 1000000" "${HR[w61]}" 0)" \
    "$(f "${HS[w61]}")" "$(rate "$W6_BYTES / 1000000" "${HS[w61]}" 0)" \
    "$(f "${HR[w63]}")" "$(rate "$W6_BYTES / 1000000" "${HR[w63]}" 0)" \
    "$(f "${HS[w63]}")" "$(rate "$W6_BYTES / 1000000" "${HS[w63]}" 0)" "$(dep conf-w6)" \
    "$(f "${DD[fdatasync]}")" "$(rate "$W6_BYTES / 1000000" "${DD[fdatasync]}" 0)" \
    "$(r "${DD[fdatasync]}" "${HS[w61]}")" \
    "$(f "${DD[cache]}")" "$(rate "$W6_BYTES / 1000000" "${DD[cache]}" 0)" \
    "$(r "${DD[cache]}" "${HR[w61]}")"
  printf 'W6 %-22s hpcpipe np1 %s s = %s MB/s (+ sync %s s = %s MB/s) | np3 %s s = %s MB/s (+ sync %s s = %s MB/s)%s\n' \
    "overwriting the above" \
    "$(f "${HR[w6o1]}")" "$(rate "$W6_BYTES / 1000000" "${HR[w6o1]}" 0)" \
    "$(f "${HS[w6o1]}")" "$(rate "$W6_BYTES / 1000000" "${HS[w6o1]}" 0)" \
    "$(f "${HR[w6o3]}")" "$(rate "$W6_BYTES / 1000000" "${HR[w6o3]}" 0)" \
    "$(f "${HS[w6o3]}")" "$(rate "$W6_BYTES / 1000000" "${HS[w6o3]}" 0)" "$(dep conf-w6)"
fi
echo "hpcpipe detail: wall of the whole command (start-up, plan, run, exit); node functions' own seconds summed over tasks (fn; the rest of the run phase is load + save + messages)"
for w in w3 w3s w3m w4 w5 w6 w6o; do
  has "$(of $w)" || continue
  printf '%s wall np1 %s s np3 %s s | fn np1 %s s np3 %s s\n' "${w^^}" \
    "$(f "${HW[${w}1]}")" "$(f "${HW[${w}3]}")" "$(f "${HF[${w}1]}")" "$(f "${HF[${w}3]}")"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores)"
