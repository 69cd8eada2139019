#!/usr/bin/python3
# Reference values of TestTable1 (report_test.go), computed with SciPy:
# `/usr/bin/python3 internal/report/testdata/table1_reference.py`.
import numpy as np
from scipy import stats

plain = [0.750, 0.760, 0.755]          # seeds 1, 2, 3
standard = [0.700, 0.712, 0.703]       # seeds 1, 2, 3
forward = [0.650, 0.640]               # seeds 1, 2 (3 diverged)
backward = [0.701, 0.709, 0.700]       # seeds 1, 2, 3
forward_e = [0.660, 0.662]             # elementwise, seeds 1, 2
aug = [0.96, 0.975]                    # Table 2, SVHN augmented 0.1/0.0002
std_svhn = [0.95, 0.97]

def ci(x):
    x = np.array(x)
    return stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))

for name, x in [("plain", plain), ("standard", standard), ("forward", forward), ("forward_e", forward_e), ("aug", aug), ("std_svhn", std_svhn)]:
    print(name, np.mean(x), np.std(x, ddof=1), ci(x))
print("plain train loss (1.5 - acc)", ci(1.5 - np.array(plain)))

def paired(a, b):
    d = np.array(a) - np.array(b)
    r = stats.ttest_rel(a, b)
    return d.mean(), ci(d), r.pvalue

def welch(a, b):
    return np.mean(a) - np.mean(b), stats.ttest_ind(a, b, equal_var=False).pvalue

# The section's family, in the report's order.
fam = [
    ("standard/0.3/layer - plain", *paired(standard, plain)),
    ("forward/0.3/layer - plain", *welch(forward, plain)),
    ("backward/0.3/layer - plain", *paired(backward, plain)),
    ("forward/0.3/elementwise - plain", *welch(forward_e, plain)),
    ("forward/0.3/layer - standard/0.3/layer", *welch(forward, standard)),
    ("backward/0.3/layer - standard/0.3/layer", *paired(backward, standard)),
    # standard has one rule (mf = mb): elementwise cells meet its layer runs
    ("forward/0.3/elementwise - standard/0.3/layer", *welch(forward_e, standard)),
    ("forward/0.3/layer - backward/0.3/layer", *welch(forward, backward)),
    ("forward/0.3/layer - forward/0.3/elementwise", *paired(forward, forward_e)),
]
ps = [f[-1] for f in fam]
order = np.argsort(ps, kind="stable")
holm, run = [0.0] * len(ps), 0.0
for k, i in enumerate(order):
    run = max(run, min(1.0, ps[i] * (len(ps) - k)))
    holm[i] = run
for f, h in zip(fam, holm):
    print(*f, "holm", h)
print("svhn augmented - standard", paired(aug, std_svhn))
