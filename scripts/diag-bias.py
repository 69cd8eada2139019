#!/usr/bin/env python3
"""Split each run's gradient deviation into bias and sampling noise.

For every diagnostics.csv under the given results directories, over the
diagnosed iterations of the run: mean_dev = |gbar - g0| / |g0| is the
distance of the mean of K mask draws from the clean gradient. Its square is
the variant's squared bias |E g - g0|^2 / |g0|^2 plus the sampling error of
a K-draw mean, tr Cov / K = noise * (|gbar| / |g0|)^2 / K. The difference
estimates the bias: 0 when the variant's expected gradient is the clean
one (backward dropout's, whose masks act on errors only), positive when the
variant follows another objective's gradient (forward dropout's, whose
masks change the features).

    scripts/diag-bias.py results/table1-jpeg results/diag-table1 [--draws 8]
"""
import argparse, csv, glob, math, os

ap = argparse.ArgumentParser()
ap.add_argument("dirs", nargs="+")
ap.add_argument("--draws", type=int, default=8, help="diagnostics.draws of the runs")
a = ap.parse_args()
print(f"{'run':30s} {'mean_dev²':>9s} {'sampling':>9s} {'bias':>6s} {'cosine':>7s}")
for d in a.dirs:
    for f in sorted(glob.glob(os.path.join(d, "runs", "*", "diagnostics.csv"))):
        rows = {}
        for r in csv.DictReader(open(f)):
            if r["tensor"] == "total":
                rows.setdefault(int(r["iteration"]), {})[r["quantity"]] = float(r["value"])
        its = sorted(rows)
        if not its:
            continue  # a run that has not reached its first diagnosed iteration
        md2 = sum(rows[i]["mean_dev"] ** 2 for i in its) / len(its)
        mc = sum(rows[i]["noise"] * (rows[i]["norm_mean"] / rows[i]["norm_g0"]) ** 2 / a.draws for i in its) / len(its)
        cos = sum(rows[i]["cosine"] for i in its) / len(its)
        name = os.path.basename(os.path.dirname(f))
        print(f"{name:30s} {md2:9.4f} {mc:9.4f} {math.sqrt(max(md2 - mc, 0)):6.3f} {cos:7.3f}")
