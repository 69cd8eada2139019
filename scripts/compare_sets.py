#!/usr/bin/python3
"""Sets a kernel set's accuracy-check runs beside the same runs (the same
names: variant, ratio, rule, seed) of a sweep on the default set, from
their summary.json: each run's final test accuracy and training loss on
both sets and the difference, then each cell's mean over its seeds on
both sets, with the default set's 95 % Student-t interval when it has
two runs or more.

  python3 scripts/compare_sets.py DEFAULT_SWEEP CHECK_SWEEP
"""
import json
import math
import os
import re
import sys

from scipy import stats


def finished(sweep):
    runs = {}
    root = os.path.join(sweep, "runs")
    for name in sorted(os.listdir(root)):
        try:
            with open(os.path.join(root, name, "summary.json")) as f:
                s = json.load(f)
        except (OSError, ValueError):
            continue
        if s.get("status") == "finished" and s.get("final_test_acc") is not None:
            runs[name] = s
    return runs


def interval(xs):
    n = len(xs)
    m = sum(xs) / n
    if n < 2:
        return m, None
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    h = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return m, (m - h, m + h)


def main():
    base, check = sys.argv[1], sys.argv[2]
    a, b = finished(base), finished(check)
    print(f"# {check} against {base}: final test accuracy and training loss of the same runs")
    print(f"{'run':32} {'default':>8} {'check':>8} {'diff':>8}   {'loss':>7} {'loss':>7}")
    cells = {}
    for name in sorted(b):
        cell = re.sub(r"-s\d+$", "", name)
        cells.setdefault(cell, [[], []])
        cells[cell][1].append(b[name]["final_test_acc"])
        if name in a:
            ta, tb = a[name]["final_test_acc"], b[name]["final_test_acc"]
            print(f"{name:32} {ta:8.4f} {tb:8.4f} {tb - ta:+8.4f}   {a[name]['final_train_loss']:7.4f} {b[name]['final_train_loss']:7.4f}")
        else:
            print(f"{name:32} {'–':>8} {b[name]['final_test_acc']:8.4f}")
    for name in a:
        cell = re.sub(r"-s\d+$", "", name)
        if cell in cells:
            cells[cell][0].append(a[name]["final_test_acc"])
    print("cell: mean over seeds, default (n, 95 % interval) and check (n)")
    for cell, (xa, xb) in sorted(cells.items()):
        ma, ia = interval(xa) if xa else (float("nan"), None)
        mb, _ = interval(xb)
        iv = f"[{ia[0]:.4f}, {ia[1]:.4f}]" if ia else "no interval"
        inside = "" if not ia else ("inside" if ia[0] <= mb <= ia[1] else "outside")
        print(f"{cell:28} default {ma:.4f} (n={len(xa)}, {iv})  check {mb:.4f} (n={len(xb)}) {inside}")


main()
