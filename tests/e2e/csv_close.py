#!/usr/bin/python3
"""csv_close.py [--sort] GOT EXPECTED: the same header and rows; numbers
equal to 1e-12 relative (exact for integers), other fields exactly. With
--sort, GOT's rows are sorted first (numbers as numbers, empty fields
last), and EXPECTED's the same way, for outputs whose row order is not
pandas'. Exit 1 with the first difference otherwise."""
import csv, math, sys


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


args = sys.argv[1:]
sort = args[:1] == ["--sort"]
if sort:
    args = args[1:]
sys.argv[1:] = args


def key(row):
    return [(1, 0, "") if f == "" else (0, num(f), "") if num(f) is not None
            else (0, 0, f) for f in row]


got = list(csv.reader(open(sys.argv[1])))
exp = list(csv.reader(open(sys.argv[2])))
if sort:
    got = got[:1] + sorted(got[1:], key=key)
    exp = exp[:1] + sorted(exp[1:], key=key)
if len(got) != len(exp):
    sys.exit(f"{sys.argv[1]}: {len(got)} lines, expected {len(exp)}")
for i, (g, e) in enumerate(zip(got, exp)):
    if len(g) != len(e):
        sys.exit(f"{sys.argv[1]}:{i + 1}: {len(g)} fields, expected {len(e)}")
    for a, b in zip(g, e):
        x, y = num(a), num(b)
        if i > 0 and x is not None and y is not None:
            if math.isnan(x) and math.isnan(y):
                continue
            if x == y or abs(x - y) <= 1e-12 * max(abs(x), abs(y)):
                continue
        elif a == b:
            continue
        sys.exit(f"{sys.argv[1]}:{i + 1}: '{a}', expected '{b}'")
