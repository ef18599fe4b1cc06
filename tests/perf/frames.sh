#!/usr/bin/env bash
# Frame queries on Dask's timeseries (issue 3, W1a-d): hpcpipe (in-process
# and mpirun -n 3) beside pandas, Dask threaded and Dask distributed, medians
# of REPS runs.
#   tests/perf/frames.sh BUILD_DIR [REPS]     (KEEP=1 keeps the scratch project)
# Not part of the default test run (a few minutes).
#
# Data: datasets.timeseries from 2000-01-01 to 2000-03-01 at 1 s, one
# partition a day: 60 partitions x 86,400 = 5,184,000 rows (timestamp, id,
# name, x, y; name dictionary-encoded, an HDF5 enum). One hpcpipe run writes
# it ONCE to the catalog dataset data/ts.h5: data/ts-parts/part-NNNNN.h5 (one
# file per partition, 179 MB in all) plus the master ts.h5 of virtual
# datasets. Every system then reads those same files from the page cache
# (they are read once before timing); none generates data in memory:
#   - hpcpipe: one project per query reading `ts: {type: hdf5}`;
#   - pandas: the master ts.h5 through h5py, one read per column;
#   - Dask: one part file per partition through h5py (dd.from_map).
# No Parquet: Debian 12 has no pyarrow or fastparquet. All systems read all
# five columns; `name` becomes a pandas Categorical, so nobody parses
# strings. See frames_peers.py.
#
# Timed: read + compute + write the small result (CSV). For hpcpipe that is
# the run phase its log reports ("complete: N nodes in X s"); the wall time
# of the whole command (process and MPI start-up, planning, exit) is printed
# separately. Peers time the same span inside one warm interpreter; Python
# and cluster start-up are excluded (the cluster's is printed). np 3 is rank
# 0 scheduling and two workers, on 2 cores (oversubscribed by one rank that
# mostly waits; slurm/mpi-env.sh sets yield_when_idle).
#
# Partitioned reads: the stored queries read ts.h5 by its 60 partitions
# (part.c: a stitched master's parts), each task reading its part file by
# the byte layout the master records (store.c), so they run as 60
# partials, a combine tree and a finish, spread over the workers at np 3.
# As a second hpcpipe figure ("gen+q - gen"), each query also runs in the
# same run as the generation of `ts` (a second hdf5 catalog dataset,
# data/tsf.h5); that run's time minus a generation-only run's is printed.
# A partition task on the rank that generated the partition uses it from
# memory, another rank loads its part file.
#
# Every hpcpipe run has a timeout (HANG, default 60 s). At np 3 a run that
# times out is redone, with the rest of its reps, at HPCPIPE_DEPTH=1 and
# flagged "(depth 1)": with the
# default depth 2, rank 0 and a worker can both block in MPI_Send on
# messages above Open MPI's eager limit (seen with groupby-by-id partials).
#
# Ratios are peer / hpcpipe np 1 (stored); > 1 means hpcpipe is faster.
# Results of hpcpipe and pandas are compared (counts exactly, floats to
# 1e-9 relative); a mismatch prints a WARNING line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
perf_start frames 5 "$@"
P=$W/proj
mkdir -p "$P/data"


GEN='{node: make_ts, func: datasets.timeseries, outputs: ts,
       args: {start: "2000-01-01", end: "2000-03-01", freq: 1s,
              partition_freq: 1d, seed: 1}}'
declare -A QNAME=([a]=count-zelda [b]=value-counts [c]=groupby-name-mean
                  [d]=groupby-id-agg)
declare -A QNODES=(
  [a]='- {node: zelda, func: frame.filter, inputs: ts, outputs: zelda, args: {expr: "name == '"'Zelda'"'"}}
    - {node: q, func: frame.count, inputs: zelda, outputs: result}'
  [b]='- {node: q, func: frame.value_counts, inputs: ts, outputs: result, args: {column: name}}'
  [c]='- {node: q, func: frame.groupby, inputs: ts, outputs: result, args: {by: name, agg: {x: mean}}}'
  [d]='- {node: q, func: frame.groupby, inputs: ts, outputs: result, args: {by: id, agg: {x: sum, y: max}}}')

# mkconf DIR TS_ENTRY RESULT_CSV NODES...: a conf directory under $P.
mkconf() {
  local d=$P/$1 ts=$2 out=$3
  shift 3
  mkdir -p "$d/base"
  printf 'ts: %s\nzelda: {type: memory}\nresult: {type: csv, filepath: %s}\n' \
    "$ts" "$out" >"$d/base/catalog.yml"
  { echo "pipelines:"; echo "  __default__:"
    for n in "$@"; do echo "    $n"; done; } >"$d/base/pipelines.yml"
}
mkconf conf-gen '{type: hdf5, filepath: data/ts.h5}' data/unused.csv "- $GEN"
mkconf conf-fgen '{type: hdf5, filepath: data/tsf.h5}' data/unused.csv "- $GEN"
for q in a b c d; do
  mkconf "conf-$q" '{type: hdf5, filepath: data/ts.h5}' "data/out/$q.csv" "${QNODES[$q]}"
  mkconf "conf-f$q" '{type: hdf5, filepath: data/tsf.h5}' "data/outf/$q.csv" "- $GEN" "${QNODES[$q]}"
done

HANG=${HANG:-60}
: >"$W/notes"

# ---- data, once ----------------------------------------------------------
t=$(hprun 1 conf-gen)
rows=$($PY -c "import h5py; print(len(h5py.File('$P/data/ts.h5','r')['x']))")
nparts=$(ls "$P/data/ts-parts" | wc -l)
printf 'data: %s rows in %s partition files, %s; generated in %.3f s (run phase, np 1)\n' \
  "$rows" "$nparts" "$(du -sh "$P/data/ts-parts" | cut -f1)" "${t%% *}"
[ "$rows" = 5184000 ] && [ "$nparts" = 60 ] || { echo "unexpected data size" >&2; exit 1; }
cat "$P/data/ts.h5" "$P/data/ts-parts"/*.h5 >/dev/null # page cache

# ---- hpcpipe -------------------------------------------------------------
declare -A HP1 HP3 W1 W3 F1 F3 FN1 FN3
for np in 1 3; do
  read -r g _ <<<"$(hpmed "$np" conf-fgen)"
  eval "GEN$np=$g"
  for q in a b c d; do
    read -r r w fn _ <<<"$(hpmed "$np" "conf-$q")"
    read -r f _ <<<"$(hpmed "$np" "conf-f$q")"
    if [ "$np" = 1 ]; then HP1[$q]=$r W1[$q]=$w F1[$q]=$f FN1[$q]=$fn
    else HP3[$q]=$r W3[$q]=$w F3[$q]=$f FN3[$q]=$fn; fi
  done
done

# ---- peers ---------------------------------------------------------------
declare -A PT
for how in pandas pandas-proj threads distributed; do
  peers frames_peers.py "$how"
done

# ---- results agree? --------------------------------------------------------
$PY "$HERE/frames_peers.py" "$P/data" check "$P/data/out" "$W/pandas" || true
$PY "$HERE/frames_peers.py" "$P/data" check "$P/data/outf" "$W/pandas" \
  | sed 's/^WARNING: /WARNING: gen+q: /' || true

# ---- table -----------------------------------------------------------------
# f X: X to 3 decimals, or NA; r PEER HP: PEER/HP to 1 decimal, or NA; sub A B
f() { case $1 in NA | "") echo NA ;; *) printf '%.3f' "$1" ;; esac; }
r() { case "$1$2" in *NA*) echo NA ;; *) printf '%.1f' "$(echo "$1 / $2" | bc -l)" ;; esac; }
sub() { case "$1$2" in *NA*) echo NA ;; *) f "$(echo "$1 - $2" | bc -l)" ;; esac; }
dep() { grep -qx "$1/np3" "$W/notes" && echo " (depth 1)" || true; }
echo "medians of $REPS runs (Dask distributed: $DREPS); seconds of read + compute + write; (peer / hpcpipe np1)"
for q in a b c d; do
  h=${HP1[$q]}
  printf 'W1%s %-18s hpcpipe np1 %s s | np3 %s%s | pandas %s (%s×) | pandas, used columns only %s (%s×) | dask-threads %s (%s×) | dask-dist %s (%s×)\n' \
    "$q" "${QNAME[$q]}" "$(f "$h")" "$(f "${HP3[$q]}")" "$(dep "conf-$q")" \
    "$(f "${PT[pandas$q]}")" "$(r "${PT[pandas$q]}" "$h")" \
    "$(f "${PT[pandas-proj$q]}")" "$(r "${PT[pandas-proj$q]}" "$h")" \
    "$(f "${PT[threads$q]}")" "$(r "${PT[threads$q]}" "$h")" \
    "$(f "${PT[distributed$q]}")" "$(r "${PT[distributed$q]}" "$h")"
done
echo "the same peers / hpcpipe np3 (rank 0 and two workers on the 2 cores Dask uses too)"
for q in a b c d; do
  h=${HP3[$q]}
  printf 'W1%s %-18s pandas %s× | pandas, used columns only %s× | dask-threads %s× | dask-dist %s×\n' \
    "$q" "${QNAME[$q]}" "$(r "${PT[pandas$q]}" "$h")" "$(r "${PT[pandas-proj$q]}" "$h")" \
    "$(r "${PT[threads$q]}" "$h")" "$(r "${PT[distributed$q]}" "$h")"
done
echo "hpcpipe detail: wall of the whole command (start-up, plan, run, exit); node functions' own time (fn; the rest is load + fingerprint + save + messages); partitioned gen+q - gen (run phases; see header); pandas: h5py read alone"
for q in a b c d; do
  printf 'W1%s %-18s wall np1 %s s np3 %s | fn np1 %s np3 %s | gen+q-gen np1 %s (%s-%s) np3 %s (%s-%s)%s | pandas read %s\n' \
    "$q" "${QNAME[$q]}" "$(f "${W1[$q]}")" "$(f "${W3[$q]}")" \
    "$(f "${FN1[$q]}")" "$(f "${FN3[$q]}")" \
    "$(sub "${F1[$q]}" "$GEN1")" "$(f "${F1[$q]}")" "$(f "$GEN1")" \
    "$(sub "${F3[$q]}" "$GEN3")" "$(f "${F3[$q]}")" "$(f "$GEN3")" "$(dep "conf-f$q")" \
    "$(f "${PT[pandasread$q]:-NA}")"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores)"
