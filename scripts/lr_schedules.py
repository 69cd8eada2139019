#!/usr/bin/python3
"""Learning rates of PyTorch's own schedulers, as expected values for dropexp.

Writes internal/schedule/testdata/pytorch.json: for each case of CASES,
the learning rate that torch.optim.lr_scheduler gives every iteration of a
short run, stepping the scheduler once per iteration (after the optimizer
step, as PyTorch's documentation prescribes). internal/schedule's tests
compare dropexp's schedules with these values; they read the committed
file, so the tests need no Python.

The dropexp schedules and their PyTorch counterparts (N = train.iterations,
W = train.warmup, lr = train.lr):
  step      MultiStepLR: the milestones of train.lr_steps (Caffe's "from
            iteration at+1") with gamma chosen so each product is the step's lr
  cosine    CosineAnnealingLR(T_max=N, eta_min=0)
  linear    LinearLR(start_factor=1, end_factor=0, total_iters=N)
  onecycle  OneCycleLR(max_lr=lr, total_steps=N, pct_start=0.3,
            anneal_strategy='cos', div_factor=25, final_div_factor=1e4,
            cycle_momentum=False)
  warm-up   SequentialLR([LinearLR(start_factor=1/(W+1), end_factor=1,
            total_iters=W), the schedule over N-W iterations], milestones=[W])

Run with Debian's python3-torch:
  /usr/bin/python3 scripts/lr_schedules.py [--out FILE]
"""

import argparse
import json
import os
import warnings

import torch
from torch.optim import lr_scheduler as S

# name, schedule, lr, iterations, warmup, lr_steps [(at, lr)]
CASES = [
    ("cosine", "cosine", 0.1, 50, 0, []),
    ("cosine-warmup5", "cosine", 0.1, 50, 5, []),
    ("cosine-warmup6-of-7", "cosine", 0.001, 7, 6, []),
    ("cosine-1", "cosine", 0.1, 1, 0, []),
    ("linear", "linear", 0.1, 50, 0, []),
    ("linear-warmup10", "linear", 0.05, 50, 10, []),
    ("linear-2", "linear", 0.3, 2, 0, []),
    ("onecycle", "onecycle", 0.1, 50, 0, []),
    ("onecycle-37", "onecycle", 0.4, 37, 0, []),
    ("onecycle-4", "onecycle", 0.2, 4, 0, []),
    ("step", "step", 0.1, 50, 0, [(25, 0.01), (37, 0.001)]),
    ("step-none", "step", 0.02, 10, 0, []),
]


def scheduler(opt, kind, lr, n, steps):
    if kind == "cosine":
        return S.CosineAnnealingLR(opt, T_max=n, eta_min=0)
    if kind == "linear":
        return S.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=n)
    if kind == "onecycle":
        return S.OneCycleLR(opt, max_lr=lr, total_steps=n, pct_start=0.3,
                            anneal_strategy="cos", div_factor=25.0,
                            final_div_factor=1e4, cycle_momentum=False)
    if kind == "step":
        # MultiStepLR multiplies by one gamma; dropexp's steps name their lr,
        # so every step here is one that divides by 10.
        prev = lr
        for _, s in steps:
            if abs(s / prev - 0.1) > 1e-12:
                raise SystemExit("step cases must divide the lr by 10 at every step")
            prev = s
        return S.MultiStepLR(opt, milestones=[at for at, _ in steps], gamma=0.1)
    raise SystemExit("unknown schedule " + kind)


def rates(kind, lr, n, warmup, steps):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr, momentum=0.9)
    if warmup > 0:
        warm = S.LinearLR(opt, start_factor=1.0 / (warmup + 1), end_factor=1.0, total_iters=warmup)
        main = scheduler(opt, kind, lr, n - warmup, steps)
        sched = S.SequentialLR(opt, [warm, main], milestones=[warmup])
    else:
        sched = scheduler(opt, kind, lr, n, steps)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        param.grad = torch.zeros(1)
        opt.step()
        sched.step()
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "internal", "schedule", "testdata", "pytorch.json"))
    args = ap.parse_args()
    # SequentialLR steps its second scheduler with an explicit epoch at the
    # milestone, which PyTorch warns about; the values are what is wanted.
    warnings.simplefilter("ignore")
    cases = []
    for name, kind, lr, n, warmup, steps in CASES:
        cases.append({
            "name": name, "schedule": kind, "lr": lr, "iterations": n, "warmup": warmup,
            "lr_steps": [{"at": at, "lr": s} for at, s in steps],
            "lrs": rates(kind, lr, n, warmup, steps),
        })
    doc = {"generator": "scripts/lr_schedules.py", "torch": torch.__version__.split("+")[0], "cases": cases}
    with open(args.out + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
