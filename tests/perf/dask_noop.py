#!/usr/bin/python3
"""The peer of the scheduler benchmark: N no-op tasks in Dask.

dask_noop.py N independent|chain threads|distributed -> prints seconds."""
import sys
import time

import dask
from dask import delayed

n, shape, sched = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def noop(*args):
    return None


def build():
    if shape == "chain":
        x = delayed(noop)()
        for _ in range(n - 1):
            x = delayed(noop)(x)
        return [x]
    return [delayed(noop)() for _ in range(n)]


if sched == "distributed":
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    tasks = build()
    t0 = time.perf_counter()
    dask.compute(*tasks)
    print(f"{time.perf_counter() - t0:.4f}")
    client.close()
    cluster.close()
else:
    tasks = build()
    t0 = time.perf_counter()
    dask.compute(*tasks, scheduler="threads", num_workers=2)
    print(f"{time.perf_counter() - t0:.4f}")
