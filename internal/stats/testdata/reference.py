#!/usr/bin/python3
# Reference values for stats_test.go, computed with SciPy (1.10.1 when the
# table was written): `/usr/bin/python3 internal/stats/testdata/reference.py` (Debian: python3-scipy).
# Holm is written out by hand (statsmodels' multipletests(method="holm")
# gives the same numbers).
import numpy as np
from scipy import stats

samples = {
    "one": [0.7443],
    "plain": [0.7443, 0.7457],
    "standard": [0.7121, 0.7120],
    "backward": [0.7025, 0.7188],
    "three": [0.70, 0.72, 0.74],
    "five": [0.7401, 0.7433, 0.7390, 0.7452, 0.7418],
    "five_b": [0.7380, 0.7391, 0.7402, 0.7379, 0.7420],
}

print("# describe: n, mean, std (ddof=1), 95 % t interval")
for name, x in samples.items():
    x = np.array(x)
    if len(x) < 2:
        print(name, len(x), x.mean())
        continue
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    print(name, len(x), repr(x.mean()), repr(x.std(ddof=1)), repr(lo), repr(hi))

print("# t.ppf and t.cdf")
for p, df in [(0.975, 1), (0.975, 2), (0.975, 4), (0.975, 3.7), (0.025, 10), (0.5, 3)]:
    print("ppf", p, df, repr(stats.t.ppf(p, df)))
for t, df in [(2.0, 1), (-1.5, 4), (12.7062, 1), (0.3, 2.5)]:
    print("cdf", t, df, repr(stats.t.cdf(t, df)))

def paired(a, b):
    a, b = np.array(a), np.array(b)
    r = stats.ttest_rel(a, b)
    d = a - b
    lo, hi = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    return d.mean(), lo, hi, r.statistic, len(d) - 1, r.pvalue

def welch(a, b):
    a, b = np.array(a), np.array(b)
    r = stats.ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    d = a.mean() - b.mean()
    h = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    return d, d - h, d + h, r.statistic, df, r.pvalue

print("# tests: diff, ci low, ci high, t, df, p")
for kind, f, a, b in [
    ("paired", paired, "standard", "plain"),
    ("paired", paired, "backward", "standard"),
    ("paired", paired, "five", "five_b"),
    ("welch", welch, "standard", "plain"),
    ("welch", welch, "three", "plain"),
    ("welch", welch, "five", "five_b"),
]:
    print(kind, a, b, *map(repr, f(samples[a], samples[b])))

def holm(ps):
    order = np.argsort(ps, kind="stable")
    m, out, run = len(ps), [0.0] * len(ps), 0.0
    for k, i in enumerate(order):
        run = max(run, min(1.0, ps[i] * (m - k)))
        out[i] = run
    return out

print("# holm")
for ps in [[0.01, 0.04, 0.03, 0.005], [0.2, 0.01, 0.5], [0.03, 0.03]]:
    print(ps, holm(ps))

def paired_power(effect, n, alpha):
    # Two-sided paired t-test with n pairs at level alpha, true mean
    # difference / its standard deviation = effect: the noncentral t.
    df, nc = n - 1, effect * np.sqrt(n)
    c = stats.t.ppf(1 - alpha / 2, df)
    return stats.nct.sf(c, df, nc) + stats.nct.cdf(-c, df, nc)

def seeds_needed(effect, alpha, power=0.8, most=1000):
    for n in range(2, most + 1):
        if paired_power(effect, n, alpha) >= power:
            return n
    return -1

print("# paired power: effect, n, alpha, power")
for effect, n, alpha in [(1.0, 5, 0.05), (0.5, 10, 0.05), (2.0, 3, 0.05), (0.3, 40, 0.0125), (1.5, 4, 0.01), (-0.8, 12, 0.05), (0.0, 6, 0.05)]:
    print("power", effect, n, alpha, repr(paired_power(effect, n, alpha)))
print("# seeds needed at 80 % power: effect, alpha, n")
for effect, alpha in [(1.0, 0.05), (0.5, 0.05), (2.0, 0.05), (0.3, 0.01), (3.0, 0.005), (0.1, 0.05)]:
    print("seeds", effect, alpha, seeds_needed(effect, alpha))
