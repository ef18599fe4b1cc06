#!/usr/bin/python3
"""The peers of the frames benchmark (tests/perf/frames.sh): W1a-d on the
timeseries table that hpcpipe stored, in pandas, Dask threaded and Dask
distributed.

  frames_peers.py DATA pandas|pandas-proj|threads|distributed REPS OUTDIR
  frames_peers.py DATA check HPCPIPE_OUTDIR PEER_OUTDIR

DATA is the directory holding ts.h5 (hpcpipe's master of HDF5 virtual
datasets) and ts-parts/part-NNNNN.h5 (one file per partition). pandas reads
the master with h5py (one read per column, as hpcpipe does); Dask reads one
part file per partition (dd.from_map). Every column is read (timestamp as
the index, id, name, x, y), as hpcpipe reads the whole table; `name` is an
HDF5 enum and becomes a pandas Categorical (codes + 26 names), so neither
side parses strings. Each rep times read + compute + writing the small
result as CSV to OUTDIR/<q>.csv; interpreter and cluster start-up are
excluded (the cluster's is printed). Output: one line per query,
"<q> <seconds> <seconds> ..."; pandas adds "read<q> ..." lines with the
h5py read alone. pandas-proj reads only the columns the query uses (as
hpcpipe does). Dask distributed pauses 1 s between reps
(peers.md section 4.1: identical keys resubmitted at once can hit results
the scheduler has not forgotten yet).

`check` compares hpcpipe's CSV results with pandas': counts exactly,
floats to 1e-9 relative; prints one "WARNING: ..." line per mismatch and
exits 1 if there is any.
"""
import glob
import os
import sys
import time

import h5py
import numpy as np
import pandas as pd

QUERIES = ["a", "b", "c", "d"]


# The columns each query uses ("pandas-proj" reads only these, as hpcpipe
# does after its column projection).
USES = {"a": ["name"], "b": ["name"], "c": ["name", "x"], "d": ["id", "x", "y"]}


def frame_from(f, cols=None):
    """A DataFrame of the columns (default: every one) of an hpcpipe table
    file (open h5py)."""
    want = cols or ["id", "name", "x", "y"]
    data = {}
    for c in want:
        if c == "name":
            names = h5py.check_enum_dtype(f["name"].dtype)
            cats = sorted(names, key=names.get)
            assert [names[k] for k in cats] == list(range(len(cats)))
            data[c] = pd.Categorical.from_codes(f["name"][()].astype(np.int8),
                                                cats)
        else:
            data[c] = f[c][()]
    if cols:
        return pd.DataFrame(data)
    return pd.DataFrame(
        data, index=pd.DatetimeIndex(f["timestamp"][()].view("datetime64[ns]"),
                                     name="timestamp"))


def read_part(path):
    with h5py.File(path, "r") as f:
        return frame_from(f)


def run_query(q, df, compute):
    """Query q on frame df (pandas or Dask); compute() makes it concrete."""
    if q == "a":
        n = compute((df.name == "Zelda").sum())
        return pd.DataFrame({"count": [int(n)]})
    if q == "b":
        return compute(df.name.value_counts()).rename("count") \
            .rename_axis("name").reset_index()
    if q == "c":
        return compute(df.groupby("name").x.mean()).reset_index()
    if q == "d":
        return compute(df.groupby("id").agg({"x": "sum", "y": "max"})) \
            .reset_index()
    raise ValueError(q)


def bench(data, how, reps, outdir):
    os.makedirs(outdir, exist_ok=True)
    parts = sorted(glob.glob(os.path.join(data, "ts-parts", "part-*.h5")))
    master = os.path.join(data, "ts.h5")
    times = {q: [] for q in QUERIES}
    reads = {q: [] for q in QUERIES}
    client = None
    if how == "distributed":
        from distributed import Client, LocalCluster
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
        print(f"# cluster start-up {time.perf_counter() - t0:.3f} s",
              flush=True)
    if how not in ("pandas", "pandas-proj"):
        import dask
        import dask.dataframe as dd
        meta = read_part(parts[0]).iloc[:0]
        if how == "threads":
            dask.config.set(scheduler="threads", num_workers=2)

        def compute(x):
            return x.compute()
    for r in range(reps):
        for q in QUERIES:
            if how == "distributed" and (r, q) != (0, "a"):
                time.sleep(1.0)
            t0 = time.perf_counter()
            if how in ("pandas", "pandas-proj"):
                with h5py.File(master, "r") as f:
                    df = frame_from(f, USES[q] if how == "pandas-proj"
                                    else None)
                reads[q].append(time.perf_counter() - t0)
                res = run_query(q, df, lambda x: x)
            else:
                df = dd.from_map(read_part, parts, meta=meta,
                                 enforce_metadata=False)
                res = run_query(q, df, compute)
            res.to_csv(os.path.join(outdir, q + ".csv"), index=False)
            times[q].append(time.perf_counter() - t0)
            del df, res
    if client is not None:
        client.close()
        cluster.close()
    for q in QUERIES:
        print(q, " ".join(f"{t:.4f}" for t in times[q]), flush=True)
    for q in QUERIES:
        if reads[q]:
            print("read" + q, " ".join(f"{t:.4f}" for t in reads[q]))


def close(a, b):
    return np.allclose(a, b, rtol=1e-9, atol=0, equal_nan=True)


def check(hp_dir, pd_dir):
    bad = []
    for q in QUERIES:
        try:
            h = pd.read_csv(os.path.join(hp_dir, q + ".csv"))
            p = pd.read_csv(os.path.join(pd_dir, q + ".csv"))
        except OSError as e:
            bad.append(f"W1{q}: {e}")
            continue
        key = {"a": None, "b": "name", "c": "name", "d": "id"}[q]
        if key:
            if sorted(h[key]) != sorted(p[key]):
                bad.append(f"W1{q}: keys differ ({len(h)} vs {len(p)} rows)")
                continue
            h = h.set_index(key).sort_index()
            p = p.set_index(key).loc[h.index]
        if list(h.columns) != list(p.columns):
            bad.append(f"W1{q}: columns {list(h.columns)} vs {list(p.columns)}")
            continue
        for c in h.columns:
            if np.issubdtype(p[c].dtype, np.integer):
                ok = h[c].dtype.kind in "iu" and (h[c].values == p[c].values).all()
            else:
                ok = close(h[c].values, p[c].values)
            if not ok:
                d = (h[c] - p[c]).abs().max()
                bad.append(f"W1{q}: column {c} differs from pandas (max abs "
                           f"diff {d})")
    for b in bad:
        print("WARNING: " + b)
    return 1 if bad else 0


def main():
    data, how = sys.argv[1], sys.argv[2]
    if how == "check":
        sys.exit(check(sys.argv[3], sys.argv[4]))
    bench(data, how, int(sys.argv[3]), sys.argv[4])


if __name__ == "__main__":
    main()
