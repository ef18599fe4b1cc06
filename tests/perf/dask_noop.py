#!/usr/bin/python3
"""The peer of the scheduler benchmark: N no-op tasks in Dask.

dask_noop.py N independent|chain threads|distributed -> prints seconds
(compute only: building the graph and starting the cluster are excluded)."""
import sys
import time

import dask
from dask import delayed


def noop(*args):
    return None


def build(n, shape):
    if shape == "chain":
        x = delayed(noop)()
        for _ in range(n - 1):
            x = delayed(noop)(x)
        return [x]
    return [delayed(noop)() for _ in range(n)]


def main():
    n, shape, sched = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if sched == "distributed":
        from distributed import Client, LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, \
                Client(cluster):
            tasks = build(n, shape)
            t0 = time.perf_counter()
            dask.compute(*tasks)
            print(f"{time.perf_counter() - t0:.4f}")
    else:
        tasks = build(n, shape)
        t0 = time.perf_counter()
        dask.compute(*tasks, scheduler="threads", num_workers=2)
        print(f"{time.perf_counter() - t0:.4f}")


if __name__ == "__main__":
    main()
