#!/usr/bin/env bash
# More frame.* builtins over a partitioned table with nulls (float NaN,
# masked int64, bool and timestamp columns) and repeated rows: fillna and
# dropna mapped over partitions; head, describe, drop_duplicates and
# groupby first/last/nunique as reductions in the fixed combine tree;
# cumulative and concat on whole inputs; empty string fields as nulls;
# joins on an int64 key. Results equal to pandas'
# (tests/fixtures/frames/make.py), byte-identical at 1, 2, 3 and 8 ranks;
# bad arguments fail the node with a one-line message.
. "$(dirname "$0")/lib.bash"

FIX=$SRC/tests/fixtures/frames
P=$SCRATCH/p && mkdir -p "$P/conf/base" "$P/data"
cp -r "$FIX/in" "$P/data/frames"
cp -r "$FIX/strnull" "$P/data/strnull"
cp "$FIX/idinfo.csv" "$P/data/idinfo.csv"
jhow="inner left right outer"
outs="fill_cols fill_scalar dropna dropna_sub dropna_all head5 head50
  describe dedup dedup_sub dedup_last gb_name gb_k gb_two cumulative concat
  sn_vc sn_gb sn_fill sn_drop sn_filter cum_cols"
{
  echo "frames: {type: csv, filepath: data/frames/, columns: {name: string,"
  echo "  city: string, id: int64, x: float64, k: int64, flag: bool, ts: timestamp}}"
  echo "strnull: {type: csv, filepath: data/strnull/}"
  echo "idinfo: {type: csv, filepath: data/idinfo.csv}"
  for h in $jhow; do echo "jid_$h: {type: csv, filepath: data/out/jid_$h.csv}"; done
  for o in $outs; do echo "$o: {type: csv, filepath: data/out/$o.csv}"; done
  echo "twice_in: {type: memory}"
  echo "twice_a: {type: csv, filepath: data/out/twice_a.csv}"
  echo "twice_b: {type: csv, filepath: data/out/twice_b.csv}"
} >"$P/conf/base/catalog.yml"
cat >"$P/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - node: fill_cols
      func: frame.fillna
      inputs: frames
      outputs: fill_cols
      args: {columns: {x: -1.5, k: 7, flag: true, ts: "2000-01-02 03:04:05", city: none}}
    - {node: narrow, func: frame.select, inputs: frames, outputs: narrow, args: {columns: [id, x, k]}}
    - {node: fill_scalar, func: frame.fillna, inputs: narrow, outputs: fill_scalar, args: {value: 0}}
    # one memory value as two inputs of one task (asked for once when it moves)
    - {node: twice_in, func: frame.head, inputs: frames, outputs: twice_in, args: {n: 40}}
    - {node: twice, func: core.identity, inputs: [twice_in, twice_in], outputs: [twice_a, twice_b]}
    - {node: dropna, func: frame.dropna, inputs: frames, outputs: dropna}
    - {node: dropna_sub, func: frame.dropna, inputs: frames, outputs: dropna_sub, args: {columns: [x, ts]}}
    - {node: dropna_all, func: frame.dropna, inputs: frames, outputs: dropna_all, args: {columns: [x, k], how: all}}
    - {node: head5, func: frame.head, inputs: frames, outputs: head5}
    - {node: head50, func: frame.head, inputs: frames, outputs: head50, args: {n: 50}}
    - {node: describe, func: frame.describe, inputs: frames, outputs: describe}
    - {node: dedup, func: frame.drop_duplicates, inputs: frames, outputs: dedup}
    - {node: dedup_sub, func: frame.drop_duplicates, inputs: frames, outputs: dedup_sub, args: {columns: [name, k]}}
    - {node: dedup_last, func: frame.drop_duplicates, inputs: frames, outputs: dedup_last, args: {columns: [name, flag], keep: last}}
    - node: gb_name
      func: frame.groupby
      inputs: frames
      outputs: gb_name
      args:
        by: name
        agg: {x: [first, last, nunique, sum], city: [first, last, nunique],
              ts: [first, last], k: [first, nunique], flag: [first, last]}
    - node: gb_k
      func: frame.groupby
      inputs: frames
      outputs: gb_k
      args: {by: k, agg: {id: [nunique, sum], name: first}}
    - node: gb_two
      func: frame.groupby
      inputs: frames
      outputs: gb_two
      args: {by: [name, flag], agg: {x: nunique, ts: last}}
    - {node: cum1, func: frame.cumulative, inputs: frames, outputs: cum1, args: {by: name, column: x, func: cumsum}}
    - {node: cum2, func: frame.cumulative, inputs: cum1, outputs: cum2, args: {by: k, func: cumcount}}
    - {node: cum3, func: frame.cumulative, inputs: cum2, outputs: cumulative, args: {by: [name, flag], column: id, func: cumsum, name: id_cs}}
    - {node: concat, func: frame.concat, inputs: [dropna, fill_cols], outputs: concat}
    - {node: cum_cols, func: frame.cumulative, inputs: frames, outputs: cum_cols, args: {by: name, columns: [x, k], func: cumsum}}
    # empty string fields are nulls (a dictionary column and a plain one)
    - {node: sn_vc, func: frame.value_counts, inputs: strnull, outputs: sn_vc, args: {column: name}}
    - {node: sn_gb, func: frame.groupby, inputs: strnull, outputs: sn_gb, args: {by: name, agg: {v: [sum], note: [count, nunique]}}}
    - {node: sn_fill, func: frame.fillna, inputs: strnull, outputs: sn_fill, args: {columns: {name: none}}}
    - {node: sn_drop, func: frame.dropna, inputs: strnull, outputs: sn_drop, args: {columns: [note]}}
    - {node: sn_filter, func: frame.filter, inputs: strnull, outputs: sn_filter, args: {expr: "isnull(note) and notnull(name)"}}
    # joins on an int64 key without nulls, repeated and missing keys
    - {node: jid_inner, func: frame.join, inputs: [narrow, idinfo], outputs: jid_inner, args: {on: id}}
    - {node: jid_left, func: frame.join, inputs: [narrow, idinfo], outputs: jid_left, args: {on: id, how: left}}
    - {node: jid_right, func: frame.join, inputs: [narrow, idinfo], outputs: jid_right, args: {on: id, how: right}}
    - {node: jid_outer, func: frame.join, inputs: [narrow, idinfo], outputs: jid_outer, args: {on: id, how: outer}}
Y
check_close() { # GOT EXPECTED WHAT
  if /usr/bin/python3 "$SRC/tests/e2e/csv_close.py" "$1" "$2"; then ok "$3"
  else fail "$3"; fi
}
for np in 1 2 3 8; do
  rm -rf "$P/data/out" "$P/data/store"
  hp "$np" run "$P/conf"
  expect_rc 0 "frames run np=$np"
  for o in $outs; do
    check_close "$P/data/out/$o.csv" "$FIX/expected_$o.csv" "$o = pandas (np=$np)"
  done
  for h in $jhow; do
    if /usr/bin/python3 "$SRC/tests/e2e/csv_close.py" --sort "$P/data/out/jid_$h.csv" \
      "$FIX/expected_jid_$h.csv"; then ok "$h join on int64 id = pandas (np=$np)"
    else fail "$h join on int64 id = pandas (np=$np)"; fi
  done
  mkdir -p "$SCRATCH/np$np" && cp -r "$P/data/out/." "$SCRATCH/np$np/"
  if [ "$np" != 1 ]; then
    diff -r "$SCRATCH/np1" "$SCRATCH/np$np" >/dev/null || fail "outputs at np=$np differ from np=1"
  fi
done

# Every memory value, shuffle piece and partial treated as large
# (SPILL_MIN=0): each stays with the worker that made it until a consumer
# placed on another worker needs it, when rank 0 asks the holder to spill
# it. HPCPIPE_SPREAD=1 hands tasks to workers that do not hold their
# inputs, so that values do move (node `twice` reads one twice). The same outputs, the moves counted,
# the spill files removed.
for np in 3 8; do
  rm -rf "$P/data/out" "$P/data/store"
  HPCPIPE_LOG=debug HPCPIPE_SPILL_MIN=0 HPCPIPE_SPREAD=1 hp $np run "$P/conf"
  expect_rc 0 "frames run np=$np, every memory value held by its maker"
  expect_err "value(s) rank " "np=$np: values moved between workers by spill request"
  expect_err "moved between workers)" "np=$np: the completion line counts the moves"
  if grep -q '"moved":{"values":[1-9][0-9]*,"bytes":[1-9]' "$P"/data/store/reports/*.json
  then ok "np=$np: the report counts the moves"; else fail "np=$np: the report lacks the moves"; fi
  diff -r "$SCRATCH/np1" "$P/data/out" >/dev/null &&
    ok "np=$np: held and spilled values give the outputs of np=1" ||
    fail "np=$np: outputs with held and spilled values differ from np=1"
  [ ! -e "$P/data/store/.spill" ] && ok "np=$np: spill files removed at the end" ||
    fail "spill files left: $(ls -R "$P/data/store/.spill" | head -3)"
done
# A spill file that cannot be written (.spill is a file here): the value
# goes through rank 0 instead, with one warning per worker.
rm -rf "$P/data/out" "$P/data/store" && mkdir -p "$P/data/store"
touch "$P/data/store/.spill"
HPCPIPE_SPILL_MIN=0 HPCPIPE_SPREAD=1 hp 3 run "$P/conf"
expect_rc 0 "frames run np=3, spill files cannot be written"
expect_err "sending such values through rank 0 instead" "unwritable spill: says so"
[ "$(grep -c 'through rank 0 instead' "$ERR")" -le 2 ] && ok "unwritable spill: one warning per worker" ||
  fail "unwritable spill: $(grep -c 'through rank 0 instead' "$ERR") warnings"
diff -r "$SCRATCH/np1" "$P/data/out" >/dev/null &&
  ok "unwritable spill: the outputs of np=1" ||
  fail "unwritable spill: outputs differ from np=1"
rm -f "$P/data/store/.spill"

# Joins reading both sides from HDF5 through a projection: the consumers
# (memory datasets: a saved output keeps every column) keep a few
# columns, so only those (and the keys) are read - including
# `x` on both sides, whose clash names the kept `x_x` / `x_y`. The key is
# int64 with values far apart (the hashed path). Run 1 writes the HDF5
# tables; run 2 reads them as sources.
JP=$SCRATCH/jproj && mkdir -p "$JP/conf/base" "$JP/data"
cp -r "$FIX/in" "$JP/data/frames"
cp "$FIX/idsparse.csv" "$JP/data/"
cat >"$JP/conf/base/catalog.yml" <<'Y'
frames: {type: csv, filepath: data/frames/, columns: {name: string,
  city: string, id: int64, x: float64, k: int64, flag: bool, ts: timestamp}}
idsparse: {type: csv, filepath: data/idsparse.csv}
frames_h5: {type: hdf5, filepath: data/frames.h5}
idsparse_h5: {type: hdf5, filepath: data/idsparse.h5}
jsp_inner: {type: csv, filepath: data/out/jsp_inner.csv}
jsp_gb: {type: csv, filepath: data/out/jsp_gb.csv}
jsp_left: {type: csv, filepath: data/out/jsp_left.csv}
ji: {type: memory}
jg: {type: memory}
jl: {type: memory}
lk: {type: csv, filepath: data/lk.csv}
rk: {type: csv, filepath: data/rk.csv}
lk_h5: {type: hdf5, filepath: data/lk.h5}
rk_h5: {type: hdf5, filepath: data/rk.h5}
jk: {type: memory}
jk_full: {type: hdf5, filepath: data/jk_full.h5}
jk_sel: {type: csv, filepath: data/out/jk_sel.csv}
jk_full_sel: {type: csv, filepath: data/out/jk_full_sel.csv}
Y
printf 'm_y,m,v\n1,10,100\n2,20,200\n3,30,300\n' >"$JP/data/lk.csv"
printf 'rk,m,m_y\n2,21,5\n3,31,6\n4,41,7\n' >"$JP/data/rk.csv"
cat >"$JP/conf/base/pipelines.yml" <<'Y'
pipelines:
  to_h5:
    - {node: fh, func: core.identity, inputs: frames, outputs: frames_h5, partitioned: true}
    - {node: ih, func: core.identity, inputs: idsparse, outputs: idsparse_h5}
    - {node: lh, func: core.identity, inputs: lk, outputs: lk_h5}
    - {node: rh, func: core.identity, inputs: rk, outputs: rk_h5}
  # left_on/right_on: the left key m_y clashes with a column m_y on the
  # right that no consumer keeps; projected (memory) and whole (hdf5)
  jk:
    - {node: jk, func: frame.join, inputs: [lk_h5, rk_h5], outputs: jk, args: {left_on: m_y, right_on: rk}}
    - {node: jk_sel, func: frame.select, inputs: jk, outputs: jk_sel, args: {columns: [m_x, v]}}
    - {node: jk_full, func: frame.join, inputs: [lk_h5, rk_h5], outputs: jk_full, args: {left_on: m_y, right_on: rk}}
    - {node: jk_full_sel, func: frame.select, inputs: jk_full, outputs: jk_full_sel, args: {columns: [m_x, v]}}
  ji:
    - {node: ji, func: frame.join, inputs: [frames_h5, idsparse_h5], outputs: ji, args: {on: id}}
    - {node: ji_sel, func: frame.select, inputs: ji, outputs: jsp_inner, args: {columns: [id, x_x, label, w]}}
  jg:
    - {node: jg, func: frame.join, inputs: [frames_h5, idsparse_h5], outputs: jg, args: {on: id}}
    - {node: jg_gb, func: frame.groupby, inputs: jg, outputs: jsp_gb, args: {by: label, agg: {x_y: sum}}}
  jl:
    - {node: jl, func: frame.join, inputs: [frames_h5, idsparse_h5], outputs: jl, args: {on: id, how: left}}
    - {node: jl_sel, func: frame.select, inputs: jl, outputs: jsp_left, args: {columns: [id, x_x, x_y, label]}}
Y
hp 1 run "$JP/conf" --pipelines to_h5
expect_rc 0 "frames and idsparse written to HDF5"
for np in 1 3; do
  rm -rf "$JP/data/out"
  for pl in ji jg jl jk; do # one run each: a run reads the union of its needs
    hp "$np" run "$JP/conf" --pipelines $pl
    expect_rc 0 "join $pl of HDF5 tables run np=$np"
  done
  for o in jsp_inner jsp_left; do
    if /usr/bin/python3 "$SRC/tests/e2e/csv_close.py" --sort "$JP/data/out/$o.csv" \
      "$FIX/expected_$o.csv"; then ok "$o: join of projected HDF5 tables = pandas (np=$np)"
    else fail "$o: join of projected HDF5 tables = pandas (np=$np)"; fi
  done
  check_close "$JP/data/out/jsp_gb.csv" "$FIX/expected_jsp_gb.csv" \
    "groupby of a suffixed column after a projected join = pandas (np=$np)"
  if [ "$(cat "$JP/data/out/jk_sel.csv" 2>&1)" = "$(printf 'm_x,v\n20,200\n30,300')" ] &&
    cmp -s "$JP/data/out/jk_sel.csv" "$JP/data/out/jk_full_sel.csv"; then
    ok "left_on/right_on join: projected output = whole output (np=$np)"
  else fail "left_on/right_on join: projected output differs (np=$np)"; fi
done

# Partitions whose types differ: an int column in one file reads as
# float64 in another (an empty field). groupby sum and max must use every
# partition's values, whichever partial comes first.
MX=$SCRATCH/mixed && mkdir -p "$MX/conf/base" "$MX/data/in"
printf 'k,v\na,1\na,2\nb,5\n' >"$MX/data/in/part-0.csv"
printf 'k,v\na,\nb,10\n' >"$MX/data/in/part-1.csv"
cat >"$MX/conf/base/catalog.yml" <<'Y'
mixed: {type: csv, filepath: data/in/}
gb_mixed: {type: csv, filepath: data/out/gb_mixed.csv}
Y
cat >"$MX/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: g, func: frame.groupby, inputs: mixed, outputs: gb_mixed, args: {by: k, agg: {v: [sum, max, count]}}}
Y
printf 'k,v_sum,v_max,v_count\na,3.0,2.0,2\nb,15.0,10.0,2\n' >"$SCRATCH/gb_mixed_expected.csv"
for np in 1 3; do
  rm -rf "$MX/data/out" "$MX/data/store"
  hp "$np" run "$MX/conf"
  expect_rc 0 "groupby over int and float partitions np=$np"
  check_close "$MX/data/out/gb_mixed.csv" "$SCRATCH/gb_mixed_expected.csv" \
    "groupby over int and float partitions = pandas (np=$np)"
done

# Infinities: a sum or mean with +inf is inf, with both signs NaN (an
# empty field): numpy's and pandas >= 2.1's answer. Debian's pandas 1.5
# says NaN for all three, its compensation term turning NaN.
# Group d has a NaN (text "nan", not an empty field): it is left out of
# the mean's count, as pandas leaves it.
printf 'k,v\na,1\na,inf\nb,-inf\nb,2.5\nc,inf\nc,-inf\nd,1\nd,nan\n' >"$MX/data/in/part-0.csv"
# part 1 has no NaN (a sum's faster path) but an inf to merge with part 0's
printf 'k,v\na,3\nb,4\nc,1\nd,3\na,inf\n' >"$MX/data/in/part-1.csv"
sed -i 's/agg: {v: \[sum, max, count\]}/agg: {v: [sum, mean, max, min]}/' "$MX/conf/base/pipelines.yml"
# a mean alone takes the path for float columns without a null mask
echo '    - {node: m, func: frame.groupby, inputs: mixed, outputs: gb_mean, args: {by: k, agg: {v: mean}}}' \
  >>"$MX/conf/base/pipelines.yml"
echo 'gb_mean: {type: csv, filepath: data/out/gb_mean.csv}' >>"$MX/conf/base/catalog.yml"
printf 'k,v\na,inf\nb,-inf\nc,\nd,2.0\n' >"$SCRATCH/gb_mean_expected.csv"
printf 'k,v_sum,v_mean,v_max,v_min\na,inf,inf,inf,1.0\nb,-inf,-inf,4.0,-inf\nc,,,inf,-inf\nd,4.0,2.0,3.0,1.0\n' >"$SCRATCH/gb_inf_expected.csv"
for np in 1 3; do
  rm -rf "$MX/data/out" "$MX/data/store"
  hp "$np" run "$MX/conf"
  expect_rc 0 "groupby sums with infinities np=$np"
  check_close "$MX/data/out/gb_mixed.csv" "$SCRATCH/gb_inf_expected.csv" \
    "groupby sums with infinities = inf / -inf / nan (np=$np)"
  check_close "$MX/data/out/gb_mean.csv" "$SCRATCH/gb_mean_expected.csv" \
    "groupby mean leaves NaN out of the count (np=$np)"
done

# Grouped sums, counts and min/max over a small key and float columns take
# one pass over the rows (frame.c onepass); a first/last pick sends the same
# aggregations down the general path. Both must give the same bytes: keys
# in a window of slots, a key far outside it mid-partition (the one pass
# gives up), keys too spread to try, a dictionary key, NaN and infinities.
OP=$SCRATCH/onepass && mkdir -p "$OP/conf/base" "$OP/data/in"
for p in 0 1 2; do
  awk -v p=$p 'BEGIN {
    print "ik,sk,x,y"
    split("Ann Bob Cyd Dee Eli", nm, " ")
    for (i = 0; i < 3000; i++) {
      ik = (i * 7 + p) % 40
      if (p == 1 && i == 2000) ik = 100000
      if (p == 2) ik = i * 1000
      x = ((i * 37 + p) % 1000) / 250.0 - 2
      xs = sprintf("%.17g", x)
      if (p < 2 && i % 97 == 5) xs = "nan"
      if (p == 0 && i == 1234) xs = "inf"
      if (p == 1 && i == 17) xs = "-inf"
      printf "%d,%s,%s,%.17g\n", ik, nm[1 + (i * 3 + p) % 5], xs, ((i * 53) % 997) / 99.7 - 5
    }
  }' >"$OP/data/in/part-$p.csv"
done
{
  echo "in: {type: csv, filepath: data/in/, columns: {ik: int64, sk: string, x: float64, y: float64}}"
  for o in f_ik g_ik f_sk g_sk f_y g_y; do
    echo "$o: {type: csv, filepath: data/out/$o.csv}"
  done
} >"$OP/conf/base/catalog.yml"
AGG='{x: [sum, mean], y: [min, max, count]}'
AGGP='{x: [sum, mean, first], y: [min, max, count]}'
KEEP='x_sum, x_mean, y_min, y_max, y_count'
cat >"$OP/conf/base/pipelines.yml" <<Y
pipelines:
  __default__:
    - {node: f_ik, func: frame.groupby, inputs: in, outputs: f_ik, args: {by: ik, agg: $AGG}}
    - {node: p_ik, func: frame.groupby, inputs: in, outputs: p_ik, args: {by: ik, agg: $AGGP}}
    - {node: g_ik, func: frame.select, inputs: p_ik, outputs: g_ik, args: {columns: [ik, $KEEP]}}
    - {node: f_sk, func: frame.groupby, inputs: in, outputs: f_sk, args: {by: sk, agg: $AGG}}
    - {node: p_sk, func: frame.groupby, inputs: in, outputs: p_sk, args: {by: sk, agg: $AGGP}}
    - {node: g_sk, func: frame.select, inputs: p_sk, outputs: g_sk, args: {columns: [sk, $KEEP]}}
    - {node: f_y, func: frame.groupby, inputs: in, outputs: f_y, args: {by: ik, agg: {y: [max]}}}
    - {node: p_y, func: frame.groupby, inputs: in, outputs: p_y, args: {by: ik, agg: {y: [max, last]}}}
    - {node: g_y, func: frame.select, inputs: p_y, outputs: g_y, args: {columns: [ik, y_max]}}
Y
for np in 1 3; do
  rm -rf "$OP/data/out" "$OP/data/store"
  hp "$np" run "$OP/conf"
  expect_rc 0 "grouped reductions, one pass and general np=$np"
  for k in ik sk y; do
    if cmp -s "$OP/data/out/f_$k.csv" "$OP/data/out/g_$k.csv" &&
       [ "$(wc -l <"$OP/data/out/f_$k.csv")" -gt 5 ]; then
      ok "groupby by $k: one pass = general path (np=$np)"
    else
      fail "groupby by $k: one pass differs from the general path (np=$np)"
      diff "$OP/data/out/f_$k.csv" "$OP/data/out/g_$k.csv" | head -5 >&2
    fi
  done
done
grep -q '^100000,' "$OP/data/out/f_ik.csv" && grep -q '^2999000,' "$OP/data/out/f_ik.csv" &&
  grep -q ',inf,' "$OP/data/out/f_ik.csv" && grep -q ',-inf,' "$OP/data/out/f_ik.csv" ||
  fail "onepass data lacks its outlier keys or infinities"

# An outer join whose key is int64 with a null on the left (declared
# int64: a masked null) and float64 on the right: the coalesced key is
# float64 (pandas reads the left key as float64 and gives this output),
# the left's null stays null, the right-only row takes the right's key.
KJ=$SCRATCH/keyjoin && mkdir -p "$KJ/conf/base" "$KJ/data"
printf 'k,a\n1,x\n,y\n3,z\n' >"$KJ/data/l.csv"
printf 'k,b\n1.0,p\n2.5,q\n' >"$KJ/data/r.csv"
cat >"$KJ/conf/base/catalog.yml" <<'Y'
l: {type: csv, filepath: data/l.csv, columns: {k: int64}}
r: {type: csv, filepath: data/r.csv}
kj_outer: {type: csv, filepath: data/out/kj_outer.csv}
kj_right: {type: csv, filepath: data/out/kj_right.csv}
Y
cat >"$KJ/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: o, func: frame.join, inputs: [l, r], outputs: kj_outer, args: {on: k, how: outer}}
    - {node: g, func: frame.join, inputs: [l, r], outputs: kj_right, args: {on: k, how: right}}
Y
printf 'k,a,b\n1.0,x,p\n2.5,,q\n3.0,z,\n,y,\n' >"$SCRATCH/kj_outer_expected.csv"
printf 'k,a,b\n1.0,x,p\n2.5,,q\n' >"$SCRATCH/kj_right_expected.csv"
for np in 1 3; do
  rm -rf "$KJ/data/out" "$KJ/data/store"
  hp "$np" run "$KJ/conf"
  expect_rc 0 "outer join of an int key with nulls and a float key np=$np"
  for o in kj_outer kj_right; do
    if /usr/bin/python3 "$SRC/tests/e2e/csv_close.py" --sort "$KJ/data/out/$o.csv" \
      "$SCRATCH/${o}_expected.csv"; then ok "$o: coalesced int/float key = pandas (np=$np)"
    else fail "$o: coalesced int/float key = pandas (np=$np)"; fi
  done
done

# Bad arguments: the node fails with a one-line message naming the problem.
echo "sel: {type: memory}" >>"$P/conf/base/catalog.yml"
bad() { # NODE-YAML EXPECTED-TEXT WHAT
  cat >"$P/conf/base/pipelines.yml" <<Y
pipelines:
  __default__:
    - {node: sel, func: frame.select, inputs: frames, outputs: sel, args: {columns: [name, id]}}
    - $1
Y
  hp 2 run "$P/conf"
  expect_rc 1 "$3"
  expect_err "$2" "$3: message"
  no_mpi_noise "$3"
}
bad "{node: f, func: frame.fillna, inputs: frames, outputs: o, args: {columns: {nope: 1}}}" \
  "no column 'nope' in input 'frames'" "fillna of a missing column"
bad "{node: f, func: frame.fillna, inputs: frames, outputs: o, args: {columns: {x: abc}}}" \
  "args.columns.x: 'abc' is not a float64 value" "fillna value of the wrong type"
bad "{node: f, func: frame.fillna, inputs: frames, outputs: o}" \
  "frame.fillna needs args.value" "fillna without args"
bad "{node: d, func: frame.dropna, inputs: frames, outputs: o, args: {columns: [x, nope]}}" \
  "no column 'nope' in input 'frames'" "dropna of a missing column"
bad "{node: h, func: frame.head, inputs: frames, outputs: o, args: {n: -1}}" \
  "args.n must be a whole number >= 0" "head with n < 0"
bad "{node: d, func: frame.describe, inputs: sel, outputs: o, args: {columns: [name]}}" \
  "column 'name' is string, not a number" "describe of a string column"
bad "{node: d, func: frame.drop_duplicates, inputs: frames, outputs: o, args: {columns: nope}}" \
  "no column 'nope' in input 'frames'" "drop_duplicates of a missing column"
bad "{node: g, func: frame.groupby, inputs: frames, outputs: o, args: {by: name, agg: {nope: first}}}" \
  "no column 'nope' in input 'frames'" "groupby first of a missing column"
bad "{node: g, func: frame.groupby, inputs: frames, outputs: o, args: {by: name, agg: {x: median}}}" \
  "unknown aggregation 'median'" "groupby with an unknown aggregation"
bad "{node: c, func: frame.cumulative, inputs: frames, outputs: o, args: {by: name, column: city, func: cumsum}}" \
  "column 'city' is string; cumsum needs numbers" "cumsum of strings"
bad "{node: c, func: frame.concat, inputs: [frames, sel], outputs: o}" \
  "input 'sel' has no column 'city' (input 'frames' has)" "concat of mismatched tables"
# Large tables: a sort and a join of 300,000 rows gather their rows in
# blocks on several cores (hp_node_parallel): the same files with one
# thread, with three, and on three ranks. The sort reads the file in 1 MB
# blocks, so its runs (numbers only) are merged in segments (sort.c), as
# pandas' stable sort orders them.
G=$SCRATCH/gather && mkdir -p "$G/conf/base" "$G/data"
/usr/bin/python3 - "$G/data/big.csv" "$G/data/keys.csv" <<'PY'
import random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    f.write("k,x,s,flag\n")
    for i in range(300000):
        x = "" if i % 17 == 0 else f"{random.random():.6f}"
        f.write(f"{random.randrange(50000)},{x},s{random.randrange(40)},{'true' if i % 3 else 'false'}\n")
with open(sys.argv[2], "w") as f:
    f.write("k,w\n")
    for k in range(0, 50000, 2):
        f.write(f"{k},{k * 0.5}\n")
import pandas as pd
big = pd.read_csv(sys.argv[1], dtype={"flag": str})
big[["k", "x", "flag"]].sort_values("k", kind="stable").to_csv(sys.argv[1] + ".sorted", index=False)
# pandas' left join keeps the left rows' order, each one's matches in the
# right's order: hpcpipe's too, however many blocks probe it at once
big.merge(pd.read_csv(sys.argv[2]), on="k", how="left").to_csv(sys.argv[1] + ".joined", index=False)
# 100,000 left rows: one block of more than 65,536 (the last block of a
# join takes all the rows that remain)
mid = sys.argv[1].replace("big.csv", "mid.csv")
big.head(100000).to_csv(mid, index=False)
big.head(100000).merge(pd.read_csv(sys.argv[2]), on="k", how="outer").to_csv(mid + ".joined", index=False)
PY
cat >"$G/conf/base/catalog.yml" <<'Y'
big: {type: csv, filepath: data/big.csv}
big_blocks: {type: csv, filepath: data/big.csv, blocksize: 1MB}
sorted_csv: {type: csv, filepath: data/out/sorted.csv}
joined_csv: {type: csv, filepath: data/out/joined.csv}
mid: {type: csv, filepath: data/mid.csv}
mid_joined: {type: csv, filepath: data/out/mid_joined.csv}
keys: {type: csv, filepath: data/keys.csv}
sorted: {type: hdf5, filepath: data/out/sorted.h5}
joined: {type: hdf5, filepath: data/out/joined.h5}
Y
cat >"$G/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: numbers, func: frame.select, inputs: big_blocks, outputs: numbers, args: {columns: [k, x, flag]}}
    - {node: sort, func: frame.sort, inputs: numbers, outputs: sorted, args: {by: k}}
    - {node: as_csv, func: core.identity, inputs: sorted, outputs: sorted_csv}
    - {node: join_csv, func: core.identity, inputs: joined, outputs: joined_csv}
    - {node: join_mid, func: frame.join, inputs: [mid, keys], outputs: mid_joined, args: {on: k, how: outer}}
    - {node: join, func: frame.join, inputs: [big, keys], outputs: joined, args: {on: k, how: left}}
Y
for how in "1 1" "1 3" "3 1"; do
  set -- $how
  rm -rf "$G/data/out" "$G/data/store"
  HPCPIPE_THREADS=$2 hp "$1" run "$G/conf"
  expect_rc 0 "sort and join of 300,000 rows, np $1, $2 thread(s)"
  for f in sorted joined; do cp "$G/data/out/$f.h5" "$G/$f.$1.$2.h5"; done
  check_close "$G/data/out/sorted.csv" "$G/data/big.csv.sorted" \
    "sort of 300,000 rows in 8 blocks (ties kept in file order) = pandas' stable sort (np $1, $2 thread(s))"
  check_close "$G/data/out/joined.csv" "$G/data/big.csv.joined" \
    "left join of 300,000 rows, probed in blocks = pandas' merge, in its order (np $1, $2 thread(s))"
  /usr/bin/python3 "$SRC/tests/e2e/csv_close.py" --sort "$G/data/out/mid_joined.csv" \
    "$G/data/mid.csv.joined" && ok "outer join of 100,000 rows = pandas' merge (np $1, $2 thread(s))" ||
    fail "outer join of 100,000 rows differs from pandas' merge (np $1, $2 thread(s))"
  # (how many of the 3 join depends on how fast helpers wake: at least 2)
  [ "$1$2" = 13 ] && { grep -o '"task":"[a-z]*[^}]*"cores":[23]' "$G"/data/store/reports/*.json | grep -q '"task":"sort' &&
    ok "the sort's rows were gathered on several cores" || fail "the sort used one core"; }
done
for f in sorted joined; do # the data, not the run's lineage attributes
  h5diff -q --exclude-attribute / "$G/$f.1.1.h5" "$G/$f.1.3.h5" &&
    h5diff -q --exclude-attribute / "$G/$f.1.1.h5" "$G/$f.3.1.h5" &&
    ok "$f: the same data on 1 or 3 threads and 3 ranks" || fail "$f differs with threads or ranks"
done

# A block of a CSV file (blocksize) whose columns are all given numbers
# or bools is parsed in pieces of about 1 MB on the task's cores: the same
# table as the whole file read at once (nulls in some pieces only, quoted
# text skipped), and an error in a later piece of a later block names the
# file's line.
C=$SCRATCH/pieces && mkdir -p "$C/conf/base" "$C/data"
/usr/bin/python3 - "$C/data/pieces.csv" "$C/data/pieces_bad.csv" <<'PY'
import random, sys
random.seed(3)
rows = []
for i in range(250000):
    gid = "" if i > 150000 and i % 1000 == 0 else str(i * 7)
    v = "" if i % 13 == 0 else f"{random.uniform(-1e4, 1e4):.5f}"
    b = "" if i % 777 == 0 else ("true" if random.random() < 0.5 else "False")
    rows.append(f'{gid},{v},{b},"n, {random.randrange(999)}"\n')
with open(sys.argv[1], "w") as f:
    f.write("id,v,b,name\n"); f.writelines(rows)
rows[199998] = '14,x1,true,"bad"\n' # line 200,000 of the file
with open(sys.argv[2], "w") as f:
    f.write("id,v,b,name\n"); f.writelines(rows)
PY
cat >"$C/conf/base/catalog.yml" <<'Y'
whole: {type: csv, filepath: data/pieces.csv, columns: {id: int64, v: float64, b: bool}}
block: {type: csv, filepath: data/pieces.csv, columns: {id: int64, v: float64, b: bool}, blocksize: 4MB}
bad: {type: csv, filepath: data/pieces_bad.csv, columns: {id: int64, v: float64, b: bool}, blocksize: 4MB}
whole_h5: {type: hdf5, filepath: data/out/whole.h5}
block_h5: {type: hdf5, filepath: data/out/block.h5}
bad_h5: {type: hdf5, filepath: data/out/bad.h5}
Y
cat >"$C/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: read_whole, func: frame.select, inputs: whole, outputs: whole_h5, args: {columns: [id, v, b]}}
    - {node: read_block, func: frame.select, inputs: block, outputs: block_h5, args: {columns: [id, v, b]}}
  bad:
    - {node: read_bad, func: frame.select, inputs: bad, outputs: bad_h5, args: {columns: [id, v, b]}}
Y
for th in 1 3; do
  rm -rf "$C/data/out" "$C/data/store"
  HPCPIPE_THREADS=$th hp 1 run "$C/conf"
  expect_rc 0 "8 MB in two blocks read on $th thread(s)"
  /usr/bin/python3 - "$C/data/out" <<'PY' && ok "$th thread(s): the block's table = the whole file's, bit for bit" || fail "$th thread(s): the block's table differs"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1] + "/whole.h5"), h5py.File(sys.argv[1] + "/block.h5")
def sets(f): # every dataset (columns and their validity masks)
    out = {}
    f.visititems(lambda k, o: out.__setitem__(k, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out
x, y = sets(a), sets(b)
assert sorted(x) == sorted(y) == [".valid/b", ".valid/id", "b", "id", "v"], (sorted(x), sorted(y))
for k in x:
    assert x[k].dtype == y[k].dtype and x[k].tobytes() == y[k].tobytes(), k
assert len(x["id"]) == 250000
PY
done
grep -o '"task":"read_block\[[^}]*"cores":[23]' "$C"/data/store/reports/*.json >/dev/null &&
  ok "the block was parsed on several cores" || fail "the block was parsed on one core"
HPCPIPE_THREADS=3 hp 1 run "$C/conf" --pipelines bad
expect_rc 1 "a bad value in a later piece"
expect_err "pieces_bad.csv:200000:" "the error names the file's line 200000"
[ ! -e "$C/data/out/bad.h5" ] && ok "no output for the failed read" || fail "bad.h5 written"

finish
