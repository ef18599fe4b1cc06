#!/usr/bin/env python3
"""Writes a project of N core.noop nodes: gen_noop.py DIR N independent|chain [memory|store].

memory: every output is `type: memory` (scheduler and bookkeeping cost only);
store:  every output is committed to the HDF5 store (one file per output)."""
import os
import sys

d, n, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kind = sys.argv[4] if len(sys.argv) > 4 else "memory"
os.makedirs(f"{d}/conf/base", exist_ok=True)
with open(f"{d}/conf/base/catalog.yml", "w") as f:
    if kind == "memory":
        f.write('"{name}":\n  type: memory\n')
with open(f"{d}/conf/base/parameters.yml", "w") as f:
    f.write("{}\n")
with open(f"{d}/conf/base/pipelines.yml", "w") as f:
    f.write("pipelines:\n  __default__:\n")
    for i in range(n):
        if shape == "chain" and i > 0:
            f.write(f"    - {{node: n{i}, func: core.noop, inputs: d{i-1}, outputs: d{i}}}\n")
        else:
            f.write(f"    - {{node: n{i}, func: core.noop, outputs: d{i}}}\n")
