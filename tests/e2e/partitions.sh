#!/usr/bin/env bash
# Partitioned tables through the CLI: a CSV directory read one partition
# per file, frame.filter mapped over partitions into the store (one file per
# partition plus a master of HDF5 virtual datasets that h5py reads as one
# table), reductions (count, value_counts, groupby) combined in a fixed
# tree, results equal to pandas' (tests/fixtures/people/make.py) and
# byte-identical at 1, 2, 3 and 8 ranks.
. "$(dirname "$0")/lib.bash"

FIX=$SRC/tests/fixtures/people
P=$SCRATCH/p && mkdir -p "$P/conf/base" "$P/data"
cp -r "$FIX/in" "$P/data/people" && cp -r "$FIX/ages" "$P/data/ages"
(cat "$FIX/ages/a.csv"; tail -n +2 "$FIX/ages/b.csv") >"$P/data/ages_one.csv"
cat >"$P/conf/base/catalog.yml" <<'Y'
people: {type: csv, filepath: data/people/}
counts: {type: csv, filepath: data/out/counts.csv}
stats: {type: csv, filepath: data/out/stats.csv}
zelda_count: {type: csv, filepath: data/out/zelda.csv}
zelda_rows: {type: csv, filepath: data/out/zelda/}
ages: {type: csv, filepath: data/ages/}
ages_one: {type: csv, filepath: data/ages_one.csv}
joined_outer: {type: csv, filepath: data/out/joined_outer.csv}
joined_left: {type: csv, filepath: data/out/joined_left.csv}
sorted: {type: csv, filepath: data/out/sorted.csv}
Y
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - node: positive_zelda
      func: frame.filter
      inputs: people
      outputs: zelda
      args: {expr: "name == 'Zelda' and x > 0"}
    - {node: count_zelda, func: frame.count, inputs: zelda, outputs: zelda_count}
    - {node: copy_zelda, func: core.identity, inputs: zelda, outputs: zelda_rows, partitioned: true}
    - node: count_names
      func: frame.value_counts
      inputs: people
      outputs: counts
      args: {column: name}
    - node: name_stats
      func: frame.groupby
      inputs: people
      outputs: stats
      args: {by: name, agg: {x: [sum, mean, max, std], id: sum}}
    - {node: join_outer, func: frame.join, inputs: [people, ages], outputs: joined_outer, args: {on: name, how: outer}}
    - {node: join_left, func: frame.join, inputs: [people, ages_one], outputs: joined_left, args: {on: name, how: left}}
    - {node: sort_people, func: frame.sort, inputs: people, outputs: sorted, args: {by: [name, x], ascending: [true, false]}}
Y
check_close() { # [--sort] GOT EXPECTED WHAT
  local sort=""; [ "$1" = --sort ] && { sort=--sort; shift; }
  if /usr/bin/python3 "$SRC/tests/e2e/csv_close.py" $sort "$1" "$2"; then ok "$3"
  else fail "$3"; fi
}
for np in 1 2 3 8; do
  rm -rf "$P/data/out" "$P/data/store"
  hp "$np" run "$P/conf"
  expect_rc 0 "partitioned run np=$np"
  expect_err "8 nodes (" "np=$np: the log counts nodes and tasks"
  check_close "$P/data/out/sorted.csv" "$FIX/expected_sorted.csv" "sort across partitions = pandas' stable sort (np=$np)"
  check_close --sort "$P/data/out/joined_outer.csv" "$FIX/expected_join_outer.csv" "outer join (shuffled) = pandas (np=$np)"
  check_close --sort "$P/data/out/joined_left.csv" "$FIX/expected_join_left.csv" "left join (broadcast) = pandas (np=$np)"
  check_close "$P/data/out/counts.csv" "$FIX/expected_counts.csv" "value_counts = pandas (np=$np)"
  check_close "$P/data/out/stats.csv" "$FIX/expected_stats.csv" "groupby = pandas (np=$np)"
  check_close "$P/data/out/zelda.csv" "$FIX/expected_zelda.csv" "filter + count = pandas (np=$np)"
  [ "$(ls "$P/data/store/zelda-parts" | wc -l)" = 4 ] || fail "np=$np: 4 partition files of the filtered table"
  [ "$(ls "$P/data/out/zelda" | wc -l)" = 4 ] || fail "np=$np: csv directory output has 4 files"
  mkdir -p "$SCRATCH/np$np" && cp -r "$P/data/out/." "$SCRATCH/np$np/"
  if [ "$np" != 1 ]; then
    diff -r "$SCRATCH/np1" "$SCRATCH/np$np" >/dev/null || fail "outputs at np=$np differ from np=1"
  fi
done

# One large CSV read in byte ranges (blocksize), a partitioned hdf5 output
# read back by its partitions in a later run, and a whole hdf5 file read in
# row ranges (partition_rows): the same answers as pandas.
Q=$SCRATCH/q && mkdir -p "$Q/conf/base" "$Q/data"
(head -1 "$FIX/in/part-0.csv"; for f in "$FIX"/in/*.csv; do tail -n +2 "$f"; done) >"$Q/data/people.csv"
cat >"$Q/conf/base/catalog.yml" <<'Y'
people: {type: csv, filepath: data/people.csv, blocksize: 1000}
by_parts: {type: hdf5, filepath: data/people.h5}
whole: {type: hdf5, filepath: data/whole.h5}
by_rows: {type: hdf5, filepath: data/whole.h5, partition_rows: 50}
zmem: {type: memory}
s_mem: {type: memory}
back_mem: {type: memory}
b_mem: {type: memory}
"{name}_out": {type: csv, filepath: "data/out/{name}.csv"}
Y
cat >"$Q/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: vc, func: frame.value_counts, inputs: people, outputs: counts_out, args: {column: name}}
    - {node: st, func: frame.groupby, inputs: people, outputs: stats_out, args: {by: name, agg: {x: [sum, mean, max, std], id: sum}}}
    - {node: keep, func: core.identity, inputs: people, outputs: by_parts, partitioned: true}
    - {node: keep_whole, func: core.identity, inputs: people, outputs: whole}
  types:
    - {node: t1, func: frame.astype, inputs: people, outputs: s_mem, args: {columns: {x: string, id: float64}}}
    - {node: t2, func: frame.astype, inputs: s_mem, outputs: back_mem, args: {columns: {x: float64, id: int64}}}
    - {node: t3, func: frame.groupby, inputs: back_mem, outputs: astats_out, args: {by: name, agg: {x: [sum, mean, max, std], id: sum}}}
  bad_types:
    - {node: t4, func: frame.astype, inputs: people, outputs: b_mem, args: {columns: {name: float64}}}
    - {node: t5, func: frame.count, inputs: b_mem, outputs: bad_out}
  later:
    - {node: vc2, func: frame.value_counts, inputs: by_parts, outputs: parts_out, args: {column: name}}
    - {node: vc3, func: frame.value_counts, inputs: by_rows, outputs: rows_out, args: {column: name}}
    - {node: zf, func: frame.filter, inputs: by_parts, outputs: zmem, args: {expr: "name == 'Zelda' and x > 0"}}
    - {node: zc, func: frame.count, inputs: zmem, outputs: zcount_out}
    - {node: st2, func: frame.groupby, inputs: by_parts, outputs: stats2_out, args: {by: name, agg: {x: [sum, mean, max, std], id: sum}}}
    - {node: byid, func: frame.groupby, inputs: by_parts, outputs: byid_out, args: {by: id, agg: {x: sum, name: first}}}
Y
for np in 1 3; do
  rm -rf "$Q/data/out" "$Q/data/store" "$Q/data/people.h5" "$Q/data/people-parts" "$Q/data/whole.h5"
  hp "$np" run "$Q/conf"
  expect_rc 0 "blocksize run np=$np"
  expect_err "4 nodes (" "np=$np: 4 nodes"
  check_close "$Q/data/out/counts.csv" "$FIX/expected_counts.csv" "byte ranges: value_counts = pandas (np=$np)"
  check_close "$Q/data/out/stats.csv" "$FIX/expected_stats.csv" "byte ranges: groupby = pandas (np=$np)"
  [ "$(ls "$Q/data/people-parts" | wc -l)" = 4 ] || fail "np=$np: 3944 bytes in blocks of 1000: 4 partitions (202 rows: 5 of 50)"
  hp "$np" run "$Q/conf" --pipelines later
  expect_rc 0 "reading stored partitions np=$np"
  expect_err "6 nodes (" "np=$np: later nodes read stored partitions"
  check_close "$Q/data/out/byid.csv" "$FIX/expected_by_id.csv" "groupby on an integer key (np=$np)"
  # these read only the columns they use (projection): same answers
  check_close "$Q/data/out/zcount.csv" "$FIX/expected_zelda.csv" "projected filter + count (np=$np)"
  check_close "$Q/data/out/stats2.csv" "$FIX/expected_stats.csv" "projected groupby (np=$np)"
  check_close "$Q/data/out/parts.csv" "$FIX/expected_counts.csv" "master read by partitions (np=$np)"
  check_close "$Q/data/out/rows.csv" "$FIX/expected_counts.csv" "partition_rows (np=$np)"
done

# Stored partitions are read by the byte layout their master records
# (store.c, partition layouts); parts changed afterwards (a column
# rewritten elsewhere in its file, the old bytes left behind) are read
# through HDF5 again: answers follow the files, as pandas reading the
# master through h5py gives them.
if /usr/bin/python3 -c "import h5py, pandas" 2>/dev/null; then
  n=$(/usr/bin/python3 -c "
import h5py, re
a = h5py.File('$Q/data/people.h5', 'r').attrs['hpcpipe_layout']
a = a.decode() if isinstance(a, bytes) else a
print(len(re.findall(r'^P \\d+ \\d', a, re.M)), len(re.findall(r'^P \\d+ -$', a, re.M)))")
  [ "$n" = "4 0" ] && ok "the master describes its 4 parts" || fail "layout records: got '$n'"
  /usr/bin/python3 - "$Q/data" <<'PY'
import glob, sys, h5py, pandas as pd
d = sys.argv[1]
for p in sorted(glob.glob(d + '/people-parts/part-*.h5')):
    with h5py.File(p, 'r+') as f:  # x rewritten elsewhere in the file
        f['x2'] = -2 * f['x'][...]
        del f['x']
        f.move('x2', 'x')
with h5py.File(d + '/people.h5', 'r') as f:
    m = {v: k for k, v in h5py.check_enum_dtype(f['name'].dtype).items()}
    t = pd.DataFrame({'name': [m[c] for c in f['name'][:]], 'x': f['x'][:],
                      'id': f['id'][:]})
g = t.groupby('name')
out = pd.DataFrame({'x_sum': g.x.sum(), 'x_mean': g.x.mean(), 'x_max': g.x.max(),
                    'x_std': g.x.std(), 'id': g.id.sum()})
out.to_csv(d + '/expected_changed.csv')
PY
  hp 3 run "$Q/conf" --pipelines later
  expect_rc 0 "reading changed parts"
  check_close "$Q/data/out/stats2.csv" "$Q/data/expected_changed.csv" "changed parts are read as they are now"
fi

# frame.astype: floats to text and back, ints to floats and back, change
# nothing (nulls included); text that is not a number fails the node.
for np in 1 3; do
  hp "$np" run "$Q/conf" --pipelines types
  expect_rc 0 "astype round trip np=$np"
  check_close "$Q/data/out/astats.csv" "$FIX/expected_stats.csv" "astype round trip keeps every value (np=$np)"
  hp "$np" run "$Q/conf" --pipelines bad_types
  expect_rc 1 "astype of names to float64 (np=$np)"
  expect_err "column 'name': cannot read '" "astype: the value at fault (np=$np)"
done

# Malformed CSV fails the node with file and line (as numbered in the file,
# also when a large file is read in byte ranges), exit 1, on any rank count.
M=$SCRATCH/m && mkdir -p "$M/conf/base" "$M/data"
cat >"$M/conf/base/catalog.yml" <<'Y'
dir: {type: csv, filepath: data/dir/, columns: {x: float64}}
big: {type: csv, filepath: data/big.csv, blocksize: 64}
Y
cat >"$M/conf/base/pipelines.yml" <<'Y'
pipelines:
  dir:
    - {node: count_dir, func: frame.count, inputs: dir, outputs: n1}
  big:
    - {node: count_big, func: frame.count, inputs: big, outputs: n2}
Y
bad_csv() { # WHAT LINE-TEXT CONTENT-OF-THE-SECOND-FILE
  rm -rf "$M/data/dir" && mkdir -p "$M/data/dir"
  printf 'name,x\na,1\nb,2\n' >"$M/data/dir/p0.csv"
  printf "$3" >"$M/data/dir/p1.csv"
  for np in 1 3; do
    hp "$np" run "$M/conf" --pipelines dir
    expect_rc 1 "$1 (np=$np)"
    expect_err "$M/data/dir/p1.csv:$2" "$1: file and line (np=$np)"
    no_mpi_noise "$1 (np=$np)"
  done
}
bad_csv "ragged row" "3: row has 3 fields, expected 2" 'name,x\nc,3\nd,4,5\n'
bad_csv "bad quoting" "2:" 'name,x\n"c,3\n'
bad_csv "unparsable number" "4: column 'x': cannot read 'zz' as float64" 'name,x\nc,3\nd,4\ne,zz\n'
bad_csv "invalid UTF-8" "3: column 'name': invalid UTF-8" 'name,x\nc,3\nd\351,4\n'
{ echo "name,x"; for i in $(seq 1 40); do echo "n$i,$i"; done; printf 'bad,\303(\n'; } >"$M/data/big.csv"
hp 3 run "$M/conf" --pipelines big
expect_rc 1 "invalid UTF-8 in a byte range"
expect_err "$M/data/big.csv:42: column 'x': invalid UTF-8" "byte range: line numbered as in the file, column named"

# The store's master file reads as one table in h5py.
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  n=$(/usr/bin/python3 -c "
import h5py
f = h5py.File('$P/data/store/zelda.h5', 'r')
names = f['name'][:]
if f['name'].dtype.kind != 'O':  # an enum: codes, named by its mapping
    m = {v: k for k, v in h5py.check_enum_dtype(f['name'].dtype).items()}
    names = [m[c] for c in names]
ok = all(n in ('Zelda', b'Zelda') for n in names)
print(len(f['x']), f.attrs['hpcpipe_partitions'], sorted(f.keys()), ok)")
  [ "$n" = "16 4 ['id', 'name', 'x'] True" ] && ok "h5py reads the master, names right: $n" || fail "h5py master: got '$n'"
fi

# A groupby over a file ordered by its first key, cut into blocks inside
# keys (a key's rows on both sides of a cut), and over the same rows
# shuffled (every block holds every key): the combine takes the ordered
# blocks' rows as already merged except those at the cuts. Both equal
# pandas, with each key once.
G=$SCRATCH/g && mkdir -p "$G/conf/base" "$G/data"
/usr/bin/python3 - "$G/data" <<'PY'
import random, sys
d = sys.argv[1]
rnd = random.Random(7)
rows = []
for gid in range(1, 401):              # 400 glaciers, 1-9 rows per year
    for year in range(2000, 2000 + rnd.randint(1, 6)):
        for _ in range(rnd.randint(1, 9)):
            rows.append((gid, year, rnd.randint(-400, 400) / 4))
def write(name, rs):
    with open(f"{d}/{name}", "w") as f:
        f.write("gid,year,x\n")
        f.writelines(f"{g},{y},{x}\n" for g, y, x in rs)
write("ordered.csv", rows)
rnd.shuffle(rows)
write("shuffled.csv", rows)
PY
cat >"$G/conf/base/catalog.yml" <<'Y'
ordered: {type: csv, filepath: data/ordered.csv, blocksize: 2000}
shuffled: {type: csv, filepath: data/shuffled.csv, blocksize: 2000}
"{name}_out": {type: csv, filepath: "data/out/{name}.csv"}
Y
cat >"$G/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: o, func: frame.groupby, inputs: ordered, outputs: o_out, args: {by: [gid, year], agg: {x: [sum, count, min, max, mean]}}}
    - {node: s, func: frame.groupby, inputs: shuffled, outputs: s_out, args: {by: [gid, year], agg: {x: [sum, count, min, max, mean]}}}
    - {node: st, func: frame.sort, inputs: shuffled, outputs: sorted_out, args: {by: [year, gid], ascending: [false, true]}}
Y
/usr/bin/python3 - "$G/data" <<'PY'
import sys, pandas as pd
d = sys.argv[1]
g = pd.read_csv(f"{d}/ordered.csv").groupby(["gid", "year"])["x"]
out = pd.DataFrame({"x_sum": g.sum(), "x_count": g.count(), "x_min": g.min(),
                    "x_max": g.max(), "x_mean": g.mean()}).reset_index()
out.to_csv(f"{d}/expected.csv", index=False)
# numbers only, many ties: the runs are merged by gathering (sort.c)
pd.read_csv(f"{d}/shuffled.csv").sort_values(["year", "gid"], ascending=[False, True], kind="stable").to_csv(f"{d}/expected_sorted.csv", index=False)
PY
for np in 1 3; do
  rm -rf "$G/data/out" "$G/data/store"
  hp "$np" run "$G/conf"
  expect_rc 0 "groupby over key-ordered blocks np=$np"
  head -1 "$G/data/out/o.csv" | grep -q '^gid,year,x_sum,x_count,x_min,x_max,x_mean' ||
    fail "np=$np: groupby columns: $(head -1 "$G/data/out/o.csv")"
  check_close "$G/data/out/o.csv" "$G/data/expected.csv" "key-ordered blocks, cut inside keys: groupby = pandas (np=$np)"
  check_close "$G/data/out/s.csv" "$G/data/expected.csv" "shuffled blocks: groupby = pandas (np=$np)"
  check_close "$G/data/out/sorted.csv" "$G/data/expected_sorted.csv" "numeric sort across blocks = pandas' stable sort (np=$np)"
done

# --dry-run lists the user's nodes, not the tasks.
hp 1 run "$P/conf" --dry-run
[ "$(wc -l <"$OUT")" = 8 ] && ok "dry-run prints 8 nodes" || { fail "dry-run"; cat "$OUT" >&2; }

# A bad expression is a configuration error found before running: exit 2,
# with the node's place in pipelines.yml, from run and from check alike.
sed -i "s/x > 0/x >/" "$P/conf/base/pipelines.yml"
hp 2 run "$P/conf"
expect_rc 2 "bad expression"
expect_err "pipelines.yml:3:7: node 'positive_zelda': expression 'name == 'Zelda' and x >': unexpected end of expression" "bad expression: located message"
no_mpi_noise "bad expression"
hp 1 check "$P/conf"
expect_rc 2 "check finds the bad expression"
# --- a CSV directory whose files list the columns in other orders: each
# --- partition takes the first file's order (by name); other columns are
# --- an error naming both files
M=$SCRATCH/mixed && rm -rf "$M" && mkdir -p "$M/conf/base" "$M/data/parts"
printf 'x,g,s\n1,0,a\n2,1,b\n' >"$M/data/parts/p-0.csv"
printf 'g,x,s\n0,3,c\n1,4,d\n' >"$M/data/parts/p-1.csv"
cat >"$M/conf/base/catalog.yml" <<'Y'
raw: {type: csv, filepath: data/parts/}
out: {type: csv, filepath: data/out.csv}
Y
cat >"$M/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: n, func: frame.filter, inputs: raw, outputs: out, args: {expr: "x > 0"}}
Y
for np in 1 3; do
  rm -rf "$M/data/out.csv" "$M/data/out-parts" "$M/data/store"
  hp "$np" run "$M/conf"
  expect_rc 0 "np=$np: files with columns in another order"
  printf 'x,g,s\n1,0,a\n2,1,b\n3,0,c\n4,1,d\n' | cmp -s - "$M/data/out.csv" &&
    ok "np=$np: columns matched by name" || { fail "np=$np: columns matched by name"; cat "$M/data/out.csv" >&2; }
done
rm -rf "$M/data/parts" && mkdir "$M/data/parts"
hp 3 run "$M/conf"
expect_rc 1 "an empty CSV directory"
expect_err "conf/base/catalog.yml:1:1: dataset 'raw': " "an empty CSV directory: the catalog entry named"
expect_err "no files match" "an empty CSV directory: message"
printf 'x,g,s\n1,0,a\n' >"$M/data/parts/p-0.csv"
printf 'g,x,t\n0,3,c\n' >"$M/data/parts/p-1.csv"
hp 3 run "$M/conf"
expect_rc 1 "files with other columns"
expect_err "parts/p-1.csv: its columns (g,x,t) are not those of" "other columns: the file named"
expect_err "parts/p-0.csv (x,g,s)" "other columns: the first file named"
# --- blocks in which no record starts (a header longer than the block):
# --- they take the types of the file's first records
W=$SCRATCH/wide && rm -rf "$W" && mkdir -p "$W/conf/base" "$W/data"
python3 -c "
print(','.join(['x', 'g'] + ['c%03d_%s' % (i, 'y' * 20) for i in range(100)]))
for r in range(300): print(','.join([str(r), str(r % 3)] + ['1'] * 100))
" >"$W/data/raw.csv"
cat >"$W/conf/base/catalog.yml" <<'Y'
raw: {type: csv, filepath: data/raw.csv, blocksize: 1kB}
out: {type: csv, filepath: data/out.csv}
Y
cat >"$W/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: n, func: frame.groupby, inputs: raw, outputs: out, args: {by: g, agg: {x: sum}}}
Y
for np in 1 3; do
  rm -rf "$W/data/out.csv" "$W/data/store"
  hp "$np" run "$W/conf"
  expect_rc 0 "np=$np: a header longer than the block"
  printf 'g,x\n0,14850\n1,14950\n2,15050\n' | cmp -s - "$W/data/out.csv" &&
    ok "np=$np: empty blocks typed like the first records" ||
    { fail "np=$np: empty blocks typed like the first records"; cat "$W/data/out.csv" >&2; }
done
finish
