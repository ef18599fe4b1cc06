#!/usr/bin/python3
"""The peers of the collections benchmark (tests/perf/collections.sh): W3-W5
on the data hpcpipe stored, in numpy/pandas ("single"), Dask threaded and
Dask distributed.

  collections_peers.py DATA single|threads|distributed REPS OUTDIR "w3 w4 w5"
  collections_peers.py DATA check HPCPIPE_OUTDIR SINGLE_OUTDIR "w3 w4 w5"

DATA holds what collections.sh generated with hpcpipe:
  arr.h5 + arr-parts/part-NNNNN.h5   W3: a float64 array in row blocks
  ts.csv                             W4: timestamp,id,name,x,y
  left.h5 + left-parts/...           W5: the timeseries table
  right.h5                           W5: id -> value, one partition
and, for `check`, store/ingested.h5 (hpcpipe's W4 output).

  W3  numpy reads the master arr.h5 whole with h5py (one read of the
      virtual dataset), then .sum(0) and .mean(0); Dask makes one block per
      part file (da.from_delayed of an h5py read) and computes both
      reductions in one dask.compute. Results go to OUTDIR/w3.npz.
  W4  pandas: read_csv(parse_dates=["timestamp"], dtype={"name":
      "category"}), then one h5py dataset per column (timestamp as int64
      ns, name as an HDF5 enum of the category codes, as hpcpipe stores a
      dictionary column) in OUTDIR/w4.h5 (written to a temporary name and
      renamed). Dask: read_csv(blocksize="64MB", same dtypes), each
      partition written by its task to OUTDIR/w4-parts/part-NNNNN.h5.
  W5  left (every column, as hpcpipe's join reads every column; name a
      Categorical) merged with right on id (inner), then
      groupby(name).value.agg([count, sum]) to OUTDIR/w5.csv. pandas reads
      the master left.h5; Dask one part file per partition (dd.from_map) and
      merges with the pandas right table (a broadcast join).

Each rep times read + compute + write; interpreter and cluster start-up are
excluded (the cluster's is printed as "# ..."). Output: one line per
workload, "<w> <seconds> <seconds> ...". Dask distributed pauses 1 s
between reps (peers.md section 4.1) and its delayed keys are not pure
(fresh keys each rep).

`check` compares hpcpipe's results with the single-core peer's: W3 sums and
means to 1e-9 relative; W4 row counts, integer sums and per-name counts
exactly, float sums to 1e-9; W5 counts exactly, sums to 1e-9. Prints one
"WARNING: ..." line per mismatch (and an "ok" line per agreeing workload)
and exits 1 if there is any mismatch.
"""
import glob
import os
import sys
import time

import h5py
import numpy as np
import pandas as pd


def parts_of(data, name):
    return sorted(glob.glob(os.path.join(data, name + "-parts", "part-*.h5")))


# ---- W3 --------------------------------------------------------------------
def read_block(path):
    with h5py.File(path, "r") as f:
        return f["data"][()]


# ---- W4 --------------------------------------------------------------------
CSV_KW = dict(parse_dates=["timestamp"], dtype={"name": "category"})


def write_frame(df, path):
    """df's columns as h5py datasets in path, atomically; returns its rows."""
    tmp = path + ".tmp"
    cats = list(df["name"].cat.categories)
    enum = h5py.enum_dtype({c: i for i, c in enumerate(cats)},
                           basetype="i1" if len(cats) < 128 else "i4")
    with h5py.File(tmp, "w") as f:
        f["timestamp"] = df["timestamp"].values.view("i8")
        f["id"] = df["id"].values
        f.create_dataset("name", data=df["name"].cat.codes.values
                         .astype(enum), dtype=enum)
        f["x"] = df["x"].values
        f["y"] = df["y"].values
    os.replace(tmp, path)
    return len(df)


# ---- W5 --------------------------------------------------------------------
def frame_from(f):
    """Every column of an hpcpipe table file (open h5py) as a DataFrame."""
    names = h5py.check_enum_dtype(f["name"].dtype)
    cats = sorted(names, key=names.get)
    assert [names[c] for c in cats] == list(range(len(cats)))
    return pd.DataFrame(
        {"timestamp": f["timestamp"][()].view("datetime64[ns]"),
         "id": f["id"][()],
         "name": pd.Categorical.from_codes(f["name"][()].astype(np.int8),
                                           cats),
         "x": f["x"][()],
         "y": f["y"][()]})


def read_part(path):
    with h5py.File(path, "r") as f:
        return frame_from(f)


def read_right(data):
    with h5py.File(os.path.join(data, "right.h5"), "r") as f:
        return pd.DataFrame({"id": f["id"][()], "value": f["value"][()]})


def w5_result(joined, compute):
    res = compute(joined.groupby("name", observed=True)["value"]
                  .agg(["count", "sum"]))
    res.columns = ["value_count", "value_sum"]
    return res.reset_index()


# ---- the benchmark ---------------------------------------------------------
# W3's lines: both reductions in one run (each result checked), or one
W3_OPS = {"w3": ("sum", "mean"), "w3s": ("sum",), "w3m": ("mean",)}


def bench(data, how, reps, outdir, wl):
    os.makedirs(outdir, exist_ok=True)
    times = {w: [] for w in wl}
    client = None
    if how == "distributed":
        from distributed import Client, LocalCluster
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
        print(f"# cluster start-up {time.perf_counter() - t0:.3f} s",
              flush=True)
    if how != "single":
        import dask
        import dask.array as da
        import dask.dataframe as dd
        if how == "threads":
            dask.config.set(scheduler="threads", num_workers=2)
        # graph inputs known before timing (hpcpipe knows them at planning)
        if any(w in W3_OPS for w in wl):
            arr_parts = parts_of(data, "arr")
            shapes = []
            for p in arr_parts:
                with h5py.File(p, "r") as f:
                    shapes.append(f["data"].shape)
        if "w5" in wl:
            left_parts = parts_of(data, "left")
            meta = read_part(left_parts[0]).iloc[:0]
        os.makedirs(os.path.join(outdir, "w4-parts"), exist_ok=True)
    csv = os.path.join(data, "ts.csv")
    first = True
    for r in range(reps):
        for w in wl:
            if how == "distributed" and not first:
                time.sleep(1.0)
            first = False
            t0 = time.perf_counter()
            if w in W3_OPS:  # both reductions, or one alone
                ops = W3_OPS[w]
                if how == "single":
                    with h5py.File(os.path.join(data, "arr.h5"), "r") as f:
                        a = f["data"][()]
                    res = [getattr(a, op)(axis=0) for op in ops]
                    del a
                else:
                    x = da.concatenate(
                        [da.from_delayed(
                            dask.delayed(read_block, pure=False)(p),
                            shape=sh, dtype=np.float64)
                         for p, sh in zip(arr_parts, shapes)], axis=0)
                    res = dask.compute(*[getattr(x, op)(axis=0)
                                         for op in ops])
                if w == "w3":
                    np.savez(os.path.join(outdir, "w3.npz"), sum=res[0],
                             mean=res[1])
            elif w == "w4":
                if how == "single":
                    df = pd.read_csv(csv, **CSV_KW)
                    n = write_frame(df, os.path.join(outdir, "w4.h5"))
                    del df
                else:
                    ddf = dd.read_csv(csv, blocksize="64MB", **CSV_KW)
                    writes = [dask.delayed(write_frame, pure=False)(
                        p, os.path.join(outdir, "w4-parts",
                                        f"part-{i:05d}.h5"))
                        for i, p in enumerate(ddf.to_delayed())]
                    n = sum(dask.compute(*writes))
                if r == 0:
                    print(f"# W4 {how}: {n} rows written", flush=True)
            elif w == "w5":
                right = read_right(data)
                if how == "single":
                    with h5py.File(os.path.join(data, "left.h5"), "r") as f:
                        left = frame_from(f)
                    res = w5_result(left.merge(right, on="id", how="inner"),
                                    lambda x: x)
                    del left
                else:
                    left = dd.from_map(read_part, left_parts, meta=meta,
                                       enforce_metadata=False)
                    res = w5_result(left.merge(right, on="id", how="inner"),
                                    lambda x: x.compute())
                res.to_csv(os.path.join(outdir, "w5.csv"), index=False)
            times[w].append(time.perf_counter() - t0)
    if client is not None:
        client.close()
        cluster.close()
    for w in wl:
        print(w, " ".join(f"{t:.4f}" for t in times[w]), flush=True)


# ---- check -----------------------------------------------------------------
def close(a, b):
    return np.allclose(a, b, rtol=1e-9, atol=0, equal_nan=True)


def relmax(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def table_summary(f):
    """Rows, exact integer sums, float sums, per-name counts of a table."""
    names = h5py.check_enum_dtype(f["name"].dtype)
    ds = f["name"]
    # h5py reads an enum as its integer base type: raw codes. A virtual
    # dataset over partitions whose enums differ (hpcpipe's master of CSV
    # blocks) is right only if read with the enum itself as memory type, so
    # that HDF5 converts each source's codes by member name.
    codes = np.empty(ds.shape, dtype=ds.dtype)
    ds.id.read(h5py.h5s.ALL, h5py.h5s.ALL, codes, mtype=ds.id.get_type())
    raw = ds[()]
    inv = {v: k for k, v in names.items()}
    u, c = np.unique(codes, return_counts=True)
    ts = f["timestamp"]
    if h5py.check_string_dtype(ts.dtype):  # text timestamps: not parsed
        tsum = None
    else:
        tsum = int(ts[()].astype(np.int64).sum(dtype=np.int64))
    return {"rows": len(f["id"]), "id": int(f["id"][()].sum(dtype=np.int64)),
            "timestamp": tsum,
            "x": math_fsum(f["x"][()]), "y": math_fsum(f["y"][()]),
            "names": {inv[int(k)]: int(n) for k, n in zip(u, c)},
            "raw_ok": bool((raw == codes).all())}


def math_fsum(v):
    import math
    return math.fsum(v.tolist())


def check(data, hp_dir, pd_dir, wl):
    bad = []
    if "w3" in wl:
        p = np.load(os.path.join(pd_dir, "w3.npz"))
        for what in ("sum", "mean"):
            with h5py.File(os.path.join(hp_dir, f"col{what}.h5"), "r") as f:
                h = f["data"][()]
            if h.shape != p[what].shape:
                bad.append(f"W3 {what}: shape {h.shape} vs {p[what].shape}")
            elif not close(h, p[what]):
                bad.append(f"W3 {what}: differs from numpy (max rel diff "
                           f"{relmax(h, p[what]):.3g})")
            else:
                print(f"ok: W3 {what} of {h.size} columns agrees with numpy "
                      f"(max rel diff {relmax(h, p[what]):.2g})")
    if "w4" in wl:
        with h5py.File(os.path.join(data, "store", "ingested.h5"), "r") as f:
            h = table_summary(f)
        with h5py.File(os.path.join(pd_dir, "w4.h5"), "r") as f:
            p = table_summary(f)
        b0 = len(bad)
        if not h["raw_ok"]:
            bad.append("W4 name: reading hpcpipe's master store/ingested.h5 "
                       "with h5py's default (integer codes) gives wrong "
                       "names: its partitions have different dictionaries "
                       "(first-seen order per CSV block) and the master maps "
                       "them virtually under one union enum; only a read "
                       "with the enum memory type (HDF5 converts by name) is "
                       "right, and the check above used it")
        for k in ("rows", "id", "timestamp", "names"):
            if h[k] != p[k]:
                bad.append(f"W4 {k}: hpcpipe {h[k]} vs pandas {p[k]}")
        for k in ("x", "y"):
            if not close(h[k], p[k]):
                bad.append(f"W4 sum of {k}: hpcpipe {h[k]!r} vs pandas {p[k]!r}")
        if len(bad) <= b0 + (not h["raw_ok"]):
            print(f"ok: W4 {h['rows']} rows, id/timestamp sums and name counts "
                  f"equal, x/y sums within 1e-9 of pandas'")
    if "w5" in wl:
        h = pd.read_csv(os.path.join(hp_dir, "w5.csv"))
        p = pd.read_csv(os.path.join(pd_dir, "w5.csv"))
        b0 = len(bad)
        if list(h.columns) != list(p.columns):
            bad.append(f"W5 columns {list(h.columns)} vs {list(p.columns)}")
        elif sorted(h["name"]) != sorted(p["name"]):
            bad.append(f"W5 groups differ ({len(h)} vs {len(p)})")
        else:
            h = h.set_index("name").sort_index()
            p = p.set_index("name").loc[h.index]
            if not (h["value_count"].values == p["value_count"].values).all():
                bad.append("W5 value_count differs from pandas")
            if not close(h["value_sum"].values, p["value_sum"].values):
                bad.append(f"W5 value_sum differs from pandas (max rel diff "
                           f"{relmax(h.value_sum, p.value_sum):.3g})")
        if len(bad) == b0:
            print(f"ok: W5 {int(h['value_count'].sum())} joined rows, counts "
                  f"equal, sums within {relmax(h.value_sum, p.value_sum):.2g}"
                  f" of pandas'")
    for b in bad:
        print("WARNING: " + b)
    return 1 if bad else 0


def main():
    data, how = sys.argv[1], sys.argv[2]
    if how == "check":
        wl = sys.argv[5].split()
        sys.exit(check(data, sys.argv[3], sys.argv[4], wl))
    wl = [w for w in sys.argv[5].split()
          if w in W3_OPS or w in ("w4", "w5")]
    bench(data, how, int(sys.argv[3]), sys.argv[4], wl)


if __name__ == "__main__":
    main()
