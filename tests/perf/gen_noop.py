#!/usr/bin/env python3
"""Writes a project of N core.noop nodes:
gen_noop.py DIR N independent|chain [memory|store] [--blocks]


memory: every output is `type: memory` (scheduler and bookkeeping cost only);
store:  every output is committed to the HDF5 store (one file per output).
--blocks: N/1000 reuses of a 1000-node pipeline under namespaces b0, b1...
(the modular-pipeline way to write a huge pipeline)."""
import os
import sys

d, n, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kind = sys.argv[4] if len(sys.argv) > 4 else "memory"
blocks = "--blocks" in sys.argv[5:]
os.makedirs(f"{d}/conf/base", exist_ok=True)
with open(f"{d}/conf/base/catalog.yml", "w") as f:
    if kind == "memory":
        f.write('"{name}":\n  type: memory\n')
with open(f"{d}/conf/base/parameters.yml", "w") as f:
    f.write("{}\n")


def node(f, i):
    if shape == "chain" and i > 0:
        f.write(f"    - {{node: n{i}, func: core.noop, inputs: d{i-1}, outputs: d{i}}}\n")
    else:
        f.write(f"    - {{node: n{i}, func: core.noop, outputs: d{i}}}\n")


with open(f"{d}/conf/base/pipelines.yml", "w") as f:
    if blocks:
        f.write("pipelines:\n  block:\n")
        for i in range(1000):
            node(f, i)
        f.write("  __default__:\n")
        for j in range(n // 1000):
            f.write(f"    - {{pipeline: block, namespace: b{j}}}\n")
        sys.exit(0)
    f.write("pipelines:\n  __default__:\n")
    for i in range(n):
        node(f, i)
