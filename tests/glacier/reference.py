#!/usr/bin/python3
"""Python reference of the glacier clustering pipeline (conf/, jobs/glacier).

    reference.py PROJECT_DIR [--check] [--namespace active|candidate ...]
                 [--params k=v,..]

PROJECT_DIR is a project that hpcpipe has run (the parent of conf/ and
data/). The reference recomputes, with pandas and numpy only:

  (a) merge_data from the raw CSVs (data/01_raw/*.csv) exactly as
      conf/base/pipelines.yml defines it with frame.* builtins
      (docs/collections.md): drop_duplicates (first), dropna, fillna,
      select, filter, groupby sum (all-NaN sums to 0, groups sorted by
      key), cumsum per WGMS_ID in year order, a right join then two outer
      joins on [WGMS_ID, YEAR], and a stable sort by [WGMS_ID, YEAR];
  (b) glacier.to_timeseries and glacier.scale as jobs/glacier/nodes.c
      implements them;
  (c) Euclidean k-means: the Lloyd iterations of gl_kmeans_from
      (jobs/glacier/glacier.h, cluster.c) from the init_centers the C run
      stored in data/06_models/<ns>_model.h5.

Without --check it runs all of that end to end and prints timings (what the
benchmark times against hpcpipe). With --check it also compares with the
files hpcpipe wrote and prints one line per check; the exit code is 1 if any
check fails.

Floating point: every sum the C code makes in a fixed order is made here in
the same order (numpy's pairwise summation is avoided where it would change
the result), so the merged table, the series, the scaled series, the labels,
the centers and the inertia are expected to match bit for bit.
  - frame.groupby's sum is compensated (Neumaier) and pandas' is Kahan; the
    two agree exactly for groups of one or two rows (all the synthetic data
    has). Larger groups are summed here with Neumaier's algorithm, as the
    C code does.
  - frame.cumulative's cumsum is Kahan's, as pandas' groupby cumsum.
"""
import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

# ---- configuration ----------------------------------------------------------

# Dataset paths of conf/base/catalog.yml, relative to the project root.
RAW = {name: f"data/01_raw/{name}.csv"
       for name in ("glacier", "mass_balance", "change", "state")}
MERGED = "data/03_primary/merged.h5"
TIMESERIES = "data/03_primary/timeseries.h5"
MODEL = "data/06_models/{ns}_model.h5"
LABELS = "data/07_model_output/{ns}_labels.csv"
SCALED = "data/store/{ns}.scaled.h5"

# The parameters' defaults (conf/base/parameters.yml, and nodes.c's read_km
# defaults), used only if PyYAML is missing.
DEFAULT_PARAMS = {
    "timeseries": {
        "features": ["AREA", "LENGTH", "MEDIAN_ELEVATION", "AREA_CHANGE",
                     "THICKNESS_CHG", "VOLUME_CHANGE", "ANNUAL_BALANCE"],
        "min_obs": 2,
    },
}
BLOCK = 256  # GL_BLOCK of jobs/glacier/glacier.h
MODEL_DEFAULTS = {"max_iter": 50, "tol": 1e-6, "n_clusters": 3,
                  "metric": "euclidean", "min_obs": 2}


def deep_merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = v
    return dst


def load_params(project, overrides):
    """conf/base/parameters.yml, conf/local over it, then --params (dotted
    keys, YAML-typed values), as hpcpipe merges them."""
    try:
        import yaml
    except ImportError:
        yaml = None
        print("reference: PyYAML missing, using the default parameters",
              file=sys.stderr)
    params = {}
    if yaml:
        for env in ("base", "local"):
            p = os.path.join(project, "conf", env, "parameters.yml")
            if os.path.exists(p):
                with open(p) as f:
                    deep_merge(params, yaml.safe_load(f) or {})
    else:
        deep_merge(params, {k: dict(v) for k, v in DEFAULT_PARAMS.items()})
    for item in (overrides or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, _, val = item.partition("=")
        val = val.strip()
        if yaml:
            try:
                val = yaml.safe_load(val) if val else None
            except yaml.YAMLError:
                pass
        node = params
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = val
    return params


# ---- (a) merge_data -----------------------------------------------------------


def read_raw(project, name, usecols):
    # catalog.yml: columns {WGMS_ID: int64, YEAR: int64}; hpcpipe reads an
    # empty field as null and any other text as text ("NA" stays "NA").
    dtype = {c: "Int64" for c in ("WGMS_ID", "YEAR") if c in usecols}
    return pd.read_csv(os.path.join(project, RAW[name]), usecols=usecols,
                       dtype=dtype, keep_default_na=False, na_values=[""])


def neumaier_group_sum(df, by, cols):
    """frame.groupby's sum: per group, in row order, Neumaier's compensated
    sum s + c of the non-NaN values (0 for none); groups sorted by key."""
    codes = df.groupby(by, sort=True).ngroup().to_numpy()
    keys = df[by].drop_duplicates().sort_values(by, kind="mergesort")
    ng = len(keys)
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    start = np.r_[0, np.flatnonzero(np.diff(sc)) + 1]
    rank = np.arange(len(sc)) - np.repeat(start, np.diff(np.r_[start, len(sc)]))
    out = keys.reset_index(drop=True)
    for col in cols:
        x = df[col].to_numpy(dtype=float, na_value=np.nan)[order]
        s = np.zeros(ng)
        c = np.zeros(ng)
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = rank == r
            g, v = sc[sel], x[sel]
            ok = ~np.isnan(v)
            g, v = g[ok], v[ok]
            t = s[g] + v
            big = np.abs(s[g]) >= np.abs(v)
            c[g] += np.where(big, (s[g] - t) + v, (v - t) + s[g])
            s[g] = t
        out[col] = s + c
    return out


def yearly_cumulated(df, cols):
    """filter -> select -> groupby([WGMS_ID, YEAR]) sum -> cumsum per
    WGMS_ID (the groups come sorted by key, so in year order)."""
    keys = ["WGMS_ID", "YEAR"]
    if df.groupby(keys).size().max() > 2:
        g = neumaier_group_sum(df, keys, cols)
    else:  # one or two rows per group: Kahan == Neumaier == a + b
        g = df.groupby(keys, sort=True)[cols].sum().reset_index()
    g[cols] = g.groupby("WGMS_ID", sort=False)[cols].cumsum()
    return g


def recent(df, glacier_wide):
    keep = df["WGMS_ID"].notna() & (df["YEAR"] >= 2000).fillna(False)
    if glacier_wide:
        keep &= (df["LOWER_BOUND"] == 9999).fillna(False)
    out = df[keep.to_numpy(dtype=bool)]
    return out.astype({"WGMS_ID": "int64", "YEAR": "int64"})


def merge_data(project):
    """The merged table of pipelines.yml's merge_data, and the timings."""
    t = {}
    t0 = time.perf_counter()
    glacier = read_raw(project, "glacier",
                       ["WGMS_ID", "LATITUDE", "LONGITUDE", "PRIM_CLASSIFIC",
                        "FORM", "FRONTAL_CHARS"])
    change = read_raw(project, "change",
                      ["WGMS_ID", "YEAR", "LOWER_BOUND", "AREA_CHANGE",
                       "THICKNESS_CHG", "VOLUME_CHANGE"])
    balance = read_raw(project, "mass_balance",
                       ["WGMS_ID", "YEAR", "LOWER_BOUND", "WINTER_BALANCE",
                        "SUMMER_BALANCE", "ANNUAL_BALANCE"])
    state = read_raw(project, "state",
                     ["WGMS_ID", "YEAR", "AREA", "LENGTH", "HIGHEST_ELEVATION",
                      "MEDIAN_ELEVATION", "LOWEST_ELEVATION"])
    t["read CSVs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # load_glacier: the first row of each WGMS_ID, with a position, codes
    # missing -> 99
    codes = ["PRIM_CLASSIFIC", "FORM", "FRONTAL_CHARS"]
    g = glacier.drop_duplicates(subset=["WGMS_ID"], keep="first")
    g = g.dropna(subset=["WGMS_ID", "LATITUDE", "LONGITUDE"])
    g = g.fillna({c: 99 for c in codes})
    g = g.astype({"WGMS_ID": "int64", **{c: "Int64" for c in codes}})
    g = g[["WGMS_ID", "LATITUDE", "LONGITUDE"] + codes]

    chg_cols = ["AREA_CHANGE", "THICKNESS_CHG", "VOLUME_CHANGE"]
    chg = recent(change, True)[["WGMS_ID", "YEAR"] + chg_cols]
    chg = yearly_cumulated(chg, chg_cols)

    mb_cols = ["WINTER_BALANCE", "SUMMER_BALANCE", "ANNUAL_BALANCE"]
    mb = recent(balance, True)[["WGMS_ID", "YEAR"] + mb_cols]
    mb = yearly_cumulated(mb, mb_cols)

    st = recent(state, False)[["WGMS_ID", "YEAR", "AREA", "LENGTH",
                               "HIGHEST_ELEVATION", "MEDIAN_ELEVATION",
                               "LOWEST_ELEVATION"]]

    m = g.merge(chg, on="WGMS_ID", how="right")
    m = m.merge(st, on=["WGMS_ID", "YEAR"], how="outer")
    m = m.merge(mb, on=["WGMS_ID", "YEAR"], how="outer")
    m = m.sort_values(["WGMS_ID", "YEAR"], kind="mergesort",
                      ignore_index=True)
    t["merge_data"] = time.perf_counter() - t0
    return m, t


# ---- (b) to_timeseries and scale ---------------------------------------------


def to_timeseries(merged, features, min_obs):
    """glacier.to_timeseries: rows with an id, a year and any feature; a
    glacier with >= min_obs of them is a series, its rows in (YEAR, row)
    order filling slots 0, 1, ...; glaciers by WGMS_ID; NaN padding."""
    ids = merged["WGMS_ID"].to_numpy(dtype=float, na_value=np.nan)
    yrs = merged["YEAR"].to_numpy(dtype=float, na_value=np.nan)
    fx = merged[features].to_numpy(dtype=float, na_value=np.nan)
    keep = ~np.isnan(ids) & ~np.isnan(yrs) & ~np.isnan(fx).all(axis=1)
    rows = np.flatnonzero(keep)
    order = np.lexsort((rows, yrs[rows], ids[rows]))  # stable by id, year
    rows = rows[order]
    rid = ids[rows].astype(np.int64)
    uid, start, cnt = np.unique(rid, return_index=True, return_counts=True)
    slot = np.arange(len(rows)) - np.repeat(start, cnt)
    ok_g = cnt >= min_obs
    if not ok_g.any():
        raise SystemExit(f"no glacier has {min_obs} rows with any of the "
                         "features")
    gidx = np.cumsum(ok_g) - 1          # series number of each glacier
    ser = np.repeat(np.where(ok_g, gidx, -1), cnt)
    used = ser >= 0
    ng, T, nf = int(ok_g.sum()), int(cnt[ok_g].max()), len(features)
    data = np.full((ng, T, nf), np.nan)
    data[ser[used], slot[used]] = fx[rows[used]]
    years = np.full((ng, T), -1, dtype=np.int64)
    years[ser[used], slot[used]] = yrs[rows[used]].astype(np.int64)
    return {"data": data, "len": cnt[ok_g].astype(np.int64),
            "wgms_id": uid[ok_g], "year": years, "features": list(features)}


def scale(ts, features, min_obs):
    """glacier.scale: a series keeps the slots where any of the model's
    features is observed (moved up, in order) and is dropped with fewer
    than min_obs of them; then per series and feature, (x - mean) / sd
    over the observed non-NaN values (population sd; 1 if not > 0), sums
    in slot order; NaN and padding -> 0. Returns (X, wgms_ids, lens): lens
    the observed slots of each series."""
    src = [ts["features"].index(f) for f in features]
    x = ts["data"][:, :, src]                  # (n, T, d), NaN-padded
    n, T, d = x.shape
    obs = (~np.isnan(x)).any(axis=2) & (np.arange(T)[None, :] < ts["len"][:, None])
    L = obs.sum(axis=1)
    keep = L >= min_obs
    x, obs, L = x[keep], obs[keep], L[keep]
    ids = ts["wgms_id"][keep]
    n2, T2 = len(L), int(L.max()) if len(L) else 0
    xc = np.full((n2, T2, d), np.nan)
    ii, tt = np.nonzero(obs)
    pos = np.cumsum(obs, axis=1) - 1
    xc[ii, pos[ii, tt]] = x[ii, tt]
    x, T = xc, T2
    valid = ~np.isnan(x)
    cnt = valid.sum(axis=1).astype(float)
    s = np.zeros((n2, d))
    for t in range(T):                         # sequential, as the C loop
        s += np.where(valid[:, t], x[:, t], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, s / cnt, 0.0)
    ss = np.zeros((n2, d))
    dev = x - mean[:, None, :]
    for t in range(T):
        ss += np.where(valid[:, t], dev[:, t] * dev[:, t], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.where(cnt > 0, np.sqrt(ss / cnt), 0.0)
    sd = np.where(sd > 0, sd, 1.0)
    y = (x - mean[:, None, :]) / sd[:, None, :]
    return np.where(valid, y, 0.0), ids, L


# ---- (c) Euclidean k-means ------------------------------------------------------


def kmeans_from(X, lens, init, max_iter, tol):
    """gl_kmeans_from, Euclidean: X (n, T, d) zero-padded scaled series
    with lens observed slots each, init (k, T, d). A distance adds (x - c)^2
    over the series' observed values (slot, then feature order), then the
    center's tail: its squared values from slot lens on, summed from its
    last value backwards; ties go to the lowest center; inertia = the
    distances' sum in index order / n; stop when it > 1 and prev - inertia
    < tol; a center becomes the mean of its members (summed per block of
    BLOCK series in index order, then the blocks' sums in block order), an
    empty one keeps its value. Returns labels, inertia,
    iterations, centers."""
    n = X.shape[0]
    k = init.shape[0]
    Xf = X.reshape(n, -1)
    Td = Xf.shape[1]
    Lv = np.asarray(lens, dtype=np.int64) * X.shape[2]  # observed values
    order = np.argsort(-Lv, kind="stable")   # longest first: the series
    Ls = Lv[order]                           # observed at q are a prefix
    Xt = np.ascontiguousarray(Xf[order].T)   # (T*d, n), in that order
    live = np.searchsorted(-Ls, -np.arange(Td), side="left")  # Ls > q
    C = init.reshape(k, -1).copy()
    D = np.empty((n, k))
    Dn = np.empty((n, k))
    buf = np.empty((n, k))
    tail = np.zeros((k, Td + 1))
    prev = 0.0
    labels, inertia, it = None, None, 0
    for it in range(1, max_iter + 1):
        D.fill(0.0)
        for q in range(Td):                  # one running sum each
            m = int(live[q])
            if m == 0:
                break
            np.subtract(Xt[q, :m][:, None], C[:, q][None, :], out=buf[:m])
            np.multiply(buf[:m], buf[:m], out=buf[:m])
            D[:m] += buf[:m]
        tail[:, :Td] = np.cumsum((C * C)[:, ::-1], axis=1)[:, ::-1]
        D += tail[:, Ls].T
        Dn[order] = D                        # back to index order
        labels = np.argmin(Dn, axis=1)               # first minimum
        dist = Dn[np.arange(n), labels]
        inertia = float(np.cumsum(dist)[-1]) / n     # in index order
        if it > 1 and prev - inertia < tol:
            break
        for c in range(k):
            idx = np.flatnonzero(labels == c)
            if len(idx):                             # cumsum: in order
                blk = idx // BLOCK                   # per block, then the
                cut = np.flatnonzero(np.diff(blk)) + 1   # blocks in order
                parts = [np.cumsum(Xf[g], axis=0)[-1]
                         for g in np.split(idx, cut)]
                C[c] = np.cumsum(parts, axis=0)[-1] / len(idx)
        prev = inertia
    return labels, inertia, it, C.reshape(init.shape)


# ---- reading hpcpipe's files -------------------------------------------------------


def h5_table(path):
    """An hpcpipe table in HDF5 as {column: (values, valid or None)}, in the
    order of its hpcpipe_columns attribute."""
    import h5py
    out = {}
    with h5py.File(path, "r") as f:
        cols = f.attrs["hpcpipe_columns"]
        cols = cols.decode() if isinstance(cols, bytes) else cols
        for c in cols.split(",") if cols else []:
            ds = f[c]
            v = ds[()]
            enum = h5py.check_enum_dtype(ds.dtype)
            if enum:
                names = {code: name for name, code in enum.items()}
                v = np.array([names.get(x) for x in v], dtype=object)
            elif v.dtype.kind in "OS":
                v = np.array([x.decode() if isinstance(x, bytes) else x
                              for x in v], dtype=object)
            valid = f[".valid"][c][()].astype(bool) \
                if ".valid" in f and c in f[".valid"] else None
            out[c] = (v, valid)
    return out


def model_of(project, ns):
    import h5py
    with h5py.File(os.path.join(project, MODEL.format(ns=ns)), "r") as f:
        a = f.attrs
        feats = [x.decode() if isinstance(x, bytes) else x
                 for x in f["features"]["name"][()]]
        return {"metric": str(a["metric"]), "n_clusters": int(a["n_clusters"]),
                "inertia": float(a["inertia"]),
                "iterations": int(a["iterations"]),
                "init_centers": f["init_centers"][()],
                "centers": f["centers"][()], "features": feats}


# ---- checks ----------------------------------------------------------------------


class Checks:
    def __init__(self):
        self.failed = 0

    def report(self, ok, what, detail=""):
        print(f"{'ok' if ok else 'MISMATCH'}: {what}"
              + (f" ({detail})" if detail else ""))
        if not ok:
            self.failed += 1
        sys.stdout.flush()


def same_floats(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(
        np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def max_rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    both = ~(np.isnan(a) & np.isnan(b))
    if not both.any():
        return 0.0
    d = np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), 1e-300)
    return float(np.nanmax(np.where(np.isnan(d), np.inf, d)))


def check_merged(chk, project, ref):
    got = h5_table(os.path.join(project, MERGED))
    cols = list(ref.columns)
    chk.report(list(got) == cols, "merged: same columns in the same order",
               f"{len(cols)} columns" if list(got) == cols else
               f"hpcpipe {list(got)} vs reference {cols}")
    nrows = {len(v) for v, _ in got.values()}
    chk.report(nrows == {len(ref)}, "merged: same row count",
               f"{len(ref)} rows" if nrows == {len(ref)} else
               f"hpcpipe {sorted(nrows)} vs reference {len(ref)}")
    if nrows != {len(ref)}:
        return
    bad = []
    for c in cols:
        if c not in got:
            continue
        v, valid = got[c]
        r = ref[c]
        rnull = r.isna().to_numpy()
        if v.dtype.kind in "iu":
            gnull = ~valid if valid is not None else np.zeros(len(v), bool)
            rv = r.to_numpy(dtype=float, na_value=np.nan)
            same = np.array_equal(gnull, rnull) and np.array_equal(
                v[~gnull].astype(float), rv[~rnull]) and np.array_equal(
                v[~gnull], rv[~rnull].astype(np.int64))
            kind = "integers"
        elif v.dtype.kind == "f":
            same = same_floats(v, r.to_numpy(dtype=float, na_value=np.nan))
            kind = "floats"
            if not same:
                kind += f", max rel diff {max_rel(v, r.to_numpy(float)):.3g}"
        else:
            gv = np.array([None if x is None else x for x in v], dtype=object)
            same = list(gv) == [None if isinstance(x, float) and np.isnan(x)
                                else x for x in r.to_numpy(dtype=object)]
            kind = "strings"
        if not same:
            bad.append(f"{c} ({kind})")
    chk.report(not bad, "merged: every value equal (integers and floats "
               "exactly, NaN == NaN)",
               "; ".join(bad) if bad else "")


def check_timeseries(chk, project, ts):
    import h5py
    p = os.path.join(project, TIMESERIES)
    with h5py.File(p, "r") as f:
        feats = [x.decode() if isinstance(x, bytes) else x
                 for x in f["features"]["name"][()]]
        ok = (feats == ts["features"] and f["data"].shape == ts["data"].shape
              and same_floats(f["data"][()], ts["data"])
              and np.array_equal(f["len"][()], ts["len"])
              and np.array_equal(f["wgms_id"][()], ts["wgms_id"])
              and np.array_equal(f["year"][()], ts["year"]))
        shape = f["data"].shape
    chk.report(ok, "timeseries: data, len, wgms_id, year and features equal",
               f"{shape[0]} series x {shape[1]} slots x {shape[2]} features"
               if ok else f"hpcpipe {shape} vs reference {ts['data'].shape}")


def check_scaled(chk, project, ns, X):
    import h5py
    p = os.path.join(project, SCALED.format(ns=ns))
    if not os.path.exists(p):
        print(f"skip: {ns}.scaled: {SCALED.format(ns=ns)} not written")
        return
    with h5py.File(p, "r") as f:
        got = f["data"][()]
    ok = got.shape == X.shape and same_floats(got, X)
    chk.report(ok, f"{ns}.scaled: equal bit for bit",
               "" if ok else (f"max rel diff {max_rel(got, X):.3g}"
                              if got.shape == X.shape else
                              f"shape {got.shape} vs {X.shape}"))


def check_model(chk, project, ns, ids, labels, inertia, iters, centers):
    lab = pd.read_csv(os.path.join(project, LABELS.format(ns=ns)))
    ok = (list(lab.columns) == ["WGMS_ID", "CLUSTER"]
          and np.array_equal(lab["WGMS_ID"].to_numpy(), ids)
          and np.array_equal(lab["CLUSTER"].to_numpy(), labels))
    detail = f"{len(labels)} series"
    if not ok and len(lab) == len(labels):
        detail = (f"{int((lab['CLUSTER'].to_numpy() != labels).sum())} labels"
                  f" differ; ids equal: "
                  f"{np.array_equal(lab['WGMS_ID'].to_numpy(), ts['wgms_id'])}")
    elif not ok:
        detail = f"{len(lab)} rows vs {len(labels)} series"
    chk.report(ok, f"{ns}: labels equal {LABELS.format(ns=ns)} (same "
               "WGMS_ID order)", detail)
    m = model_of(project, ns)
    rel = abs(inertia - m["inertia"]) / max(abs(m["inertia"]), 1e-300)
    chk.report(rel <= 1e-9, f"{ns}: inertia within 1e-9 relative",
               f"hpcpipe {m['inertia']!r}, reference {inertia!r}, "
               f"rel diff {rel:.3g}")
    chk.report(iters == m["iterations"], f"{ns}: iterations equal",
               f"hpcpipe {m['iterations']}, reference {iters}")
    ok = centers.shape == m["centers"].shape and same_floats(
        centers, m["centers"])
    chk.report(ok, f"{ns}: centers equal bit for bit", "" if ok else (
        f"max rel diff {max_rel(centers, m['centers']):.3g}"
        if centers.shape == m["centers"].shape else "shapes differ"))


# ---- main --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("project", help="project directory (parent of conf/)")
    ap.add_argument("--check", action="store_true",
                    help="compare with hpcpipe's outputs; exit 1 on a "
                    "mismatch")
    ap.add_argument("--namespace", nargs="+", action="extend",
                    choices=["active", "candidate"],
                    help="models to recompute (default: both)")
    ap.add_argument("--params", default="",
                    help="parameter overrides k=v,.. as given to hpcpipe")
    a = ap.parse_args()
    project = a.project
    namespaces = a.namespace or ["active", "candidate"]
    params = load_params(project, a.params)
    tsp = params.get("timeseries", {})
    features = tsp.get("features", DEFAULT_PARAMS["timeseries"]["features"])
    min_obs = int(tsp.get("min_obs", 2))
    chk = Checks()
    timings = {}
    total0 = time.perf_counter()

    merged, t = merge_data(project)
    timings.update(t)
    print(f"merged: {len(merged)} rows x {merged.shape[1]} columns")
    if a.check:
        check_merged(chk, project, merged)

    t0 = time.perf_counter()
    ts = to_timeseries(merged, features, min_obs)
    timings["to_timeseries"] = time.perf_counter() - t0
    n, T, nf = ts["data"].shape
    print(f"timeseries: {n} glaciers x {T} slots x {nf} features")
    if a.check:
        check_timeseries(chk, project, ts)

    for ns in namespaces:
        opts = deep_merge(dict(MODEL_DEFAULTS),
                          params.get(ns, {}).get("model_options", {}) or {})
        try:
            m = model_of(project, ns)
        except (OSError, KeyError) as e:
            print(f"{'MISMATCH' if a.check else 'skip'}: {ns}: no model "
                  f"file {MODEL.format(ns=ns)} ({e})")
            chk.failed += a.check
            continue
        if m["metric"] != "euclidean":
            print(f"skip: {ns}: the model's metric is {m['metric']}; the "
                  "reference implements Euclidean k-means only (run hpcpipe "
                  f"with --params {ns}.model_options.metric=euclidean)")
            continue
        feats = list(opts.get("features") or m["features"])
        if feats != m["features"]:
            print(f"MISMATCH: {ns}: parameter features {feats} are not the "
                  f"model's {m['features']}")
            chk.failed += 1
            continue
        t0 = time.perf_counter()
        X, ids, lens = scale(ts, feats, int(opts["min_obs"]))
        timings[f"{ns}: scale"] = time.perf_counter() - t0
        if a.check:
            check_scaled(chk, project, ns, X)
        if m["init_centers"].shape != (m["n_clusters"],) + X.shape[1:]:
            print(f"MISMATCH: {ns}: init_centers {m['init_centers'].shape} do "
                  f"not fit {m['n_clusters']} centers of {X.shape[1:]}")
            chk.failed += 1
            continue
        t0 = time.perf_counter()
        labels, inertia, iters, centers = kmeans_from(
            X, lens, m["init_centers"], int(opts["max_iter"]),
            float(opts["tol"]))
        timings[f"{ns}: kmeans"] = time.perf_counter() - t0
        print(f"{ns}: euclidean k-means, k = {m['n_clusters']}: inertia "
              f"{inertia:.6g} after {iters} iterations")
        if a.check:
            check_model(chk, project, ns, ids, labels, inertia, iters, centers)

    timings["total"] = time.perf_counter() - total0
    for k, v in timings.items():
        print(f"time: {k}: {v:.3f} s")
    if a.check:
        print("reference check: " + ("all checks passed" if not chk.failed
                                     else f"{chk.failed} check(s) failed"))
        return 1 if chk.failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
