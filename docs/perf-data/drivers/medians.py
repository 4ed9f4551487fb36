#!/usr/bin/env python3
"""Medians of bench.txt per scenario and driver, and ratios to modernc-sql
(actas's driver today). Usage: python3 medians.py bench.txt"""
import re
import statistics
import sys
from collections import defaultdict

vals = defaultdict(lambda: defaultdict(list))
for line in open(sys.argv[1]):
    m = re.match(r"Benchmark(\w+)/([\w-]+?)-\d+\s+\d+\s+(.*)", line)
    if not m:
        continue
    scen, drv, rest = m.groups()
    for v, unit in re.findall(r"([\d.]+) (\S+)", rest):
        vals[(scen, drv)][unit].append(float(v))

units = ["cpu-ns/op", "user-ns/op", "ns/op", "allocs/op", "B/op"]
scens = list(dict.fromkeys(s for s, _ in vals))
drvs = list(dict.fromkeys(d for _, d in vals))
base = "modernc-sql"
for scen in scens:
    print(f"\n{scen} (median of {len(vals[(scen, base)]['ns/op'])} runs; ratio to {base})")
    print("| driver | " + " | ".join(units) + " |")
    print("|---|" + "---|" * len(units))
    for d in drvs:
        cells = []
        for u in units:
            xs = vals[(scen, d)][u]
            if not xs:
                cells.append("")
                continue
            med = statistics.median(xs)
            b = statistics.median(vals[(scen, base)][u])
            r = f" ({med / b:.2f})" if b and u != "B/op" else ""
            cells.append(f"{med:,.0f}{r}")
        print(f"| {d} | " + " | ".join(cells) + " |")
