#!/usr/bin/python3
"""PyTorch reference for `dropexp bench`: same networks, same dropout sites.

Builds ConvNet-Quick (Caffe cifar10_quick) or ResNet-20 (He et al., CIFAR
variant, option-A shortcuts) in float32 NCHW exactly as docs/DESIGN.md §2 describes,
with standard dropout (nn.Dropout) on the default sites, and measures on
synthetic random data (fixed seed):

  train_img_s  forward + backward + SGD step, median over timed blocks
  eval_img_s   model.eval() under torch.no_grad(), median over timed blocks
  peak_rss_mb  ru_maxrss of a separate process that only trains
               (warm-up + one block), so evaluation buffers don't count

Prints one JSON line on stdout, the same fields as
`dropexp bench --json` (less alloc_bytes_per_iter). Diagnostics go to stderr.

Needs the Debian package python3-torch; run it with /usr/bin/python3 (a pyenv
python3 earlier on PATH does not see Debian's dist-packages).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - environment problem
    sys.stderr.write("bench_pytorch: cannot import torch; install it with "
                     "`apt-get install -y python3-torch` and run with /usr/bin/python3\n")
    sys.exit(2)

MODELS = {
    # name: (default batch, default dropout, lr, weight decay, expected params)
    "convnet-quick": (100, 0.3, 0.001, 0.004, 145578),
    "resnet20": (128, 0.1, 0.1, 1e-4, 269722),
}


# ---------------------------------------------------------------- networks

class ConvNetQuick(nn.Module):
    """Caffe cifar10_quick. Pooling rounds up like Caffe (ceil_mode): 32→16→8→4."""

    def __init__(self, p, in_ch=3, classes=10, hw=32):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 32, 5, padding=2)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.drop2 = nn.Dropout(p)            # site: input of conv2
        self.conv2 = nn.Conv2d(32, 32, 5, padding=2)
        self.pool2 = nn.AvgPool2d(3, 2, ceil_mode=True)
        self.drop3 = nn.Dropout(p)            # site: input of conv3
        self.conv3 = nn.Conv2d(32, 64, 5, padding=2)
        self.pool3 = nn.AvgPool2d(3, 2, ceil_mode=True)
        s = hw
        for _ in range(3):
            s = -(-(s - 3) // 2) + 1          # ceil((s-3)/2)+1
        self.drop_ip1 = nn.Dropout(p)         # site: input of ip1
        self.ip1 = nn.Linear(64 * s * s, 64)
        self.drop_ip2 = nn.Dropout(p)         # site: input of ip2
        self.ip2 = nn.Linear(64, classes)
        for m, std in ((self.conv1, 1e-4), (self.conv2, 1e-2), (self.conv3, 1e-2),
                       (self.ip1, 0.1), (self.ip2, 0.1)):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.relu(self.pool1(self.conv1(x)))
        x = F.relu(self.conv2(self.drop2(x)))
        x = self.pool2(x)
        x = F.relu(self.conv3(self.drop3(x)))
        x = self.pool3(x)
        x = self.ip1(self.drop_ip1(torch.flatten(x, 1)))   # no ReLU
        return self.ip2(self.drop_ip2(x))


class BasicBlock(nn.Module):
    """conv3×3-BN-ReLU-[dropout]-conv3×3-BN + shortcut, then ReLU (option A)."""

    def __init__(self, in_planes, planes, stride, p):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.drop = nn.Dropout(p)             # site: input of the second conv
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.subsample = stride != 1 or in_planes != planes
        self.pad = planes - in_planes

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(self.drop(out)))
        if self.subsample:
            sc = x[:, :, ::2, ::2]
            sc = F.pad(sc, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        else:
            sc = x
        return F.relu(out + sc)


class ResNet20(nn.Module):
    def __init__(self, p, in_ch=3, classes=10, n=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                layers.append(BasicBlock(in_planes, planes, stride if i == 0 else 1, p))
                in_planes = planes
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)   # He (MSRA) init

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.blocks(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def build(model, p):
    _, _, lr, wd, expect = MODELS[model]
    net = ConvNetQuick(p) if model == "convnet-quick" else ResNet20(p)
    nparams = sum(t.numel() for t in net.parameters())
    assert nparams == expect, f"{model}: {nparams} parameters, want {expect}"
    if model == "convnet-quick":
        # Caffe quick solver: biases learn at 2x the rate; decay on everything.
        weights = [t for n, t in net.named_parameters() if not n.endswith("bias")]
        biases = [t for n, t in net.named_parameters() if n.endswith("bias")]
        groups = [{"params": weights, "lr": lr}, {"params": biases, "lr": 2 * lr}]
    else:
        groups = [{"params": list(net.parameters()), "lr": lr}]
    opt = torch.optim.SGD(groups, lr=lr, momentum=0.9, weight_decay=wd)
    return net, opt


# ---------------------------------------------------------------- measuring

def synthetic(batch, nbatches=4):
    """A few fixed random batches (pixels ~ N(0,1), labels uniform in 0..9)."""
    g = torch.Generator().manual_seed(1234)
    xs = [torch.randn(batch, 3, 32, 32, generator=g) for _ in range(nbatches)]
    ys = [torch.randint(0, 10, (batch,), generator=g) for _ in range(nbatches)]
    return xs, ys


def train_step(net, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    return loss


def timed_blocks(fn, blocks, per_block, batch):
    rates = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(per_block):
            fn()
        rates.append(per_block * batch / (time.perf_counter() - t0))
    return rates


def set_threads(t):
    torch.set_num_threads(t)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:   # already set (only possible once per process)
        pass


def rss_child(args, per_block):
    """Peak RSS (MB) of a separate process that only trains."""
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-only",
           "--model", args.model, "--batch", str(args.batch),
           "--iters", str(per_block), "--warmup", str(args.warmup),
           "--threads", str(args.threads), "--dropout", str(args.dropout),
           "--seed", str(args.seed)] + (["--channels-last"] if args.channels_last else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="convnet-quick")
    ap.add_argument("--batch", type=int, default=None,
                    help="default 100 (convnet-quick) / 128 (resnet20)")
    ap.add_argument("--iters", type=int, default=10,
                    help="timed iterations per block (as in `dropexp bench`)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed warm-up iterations")
    ap.add_argument("--blocks", type=int, default=3,
                    help="timed blocks; the reported rate is their median")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dropout", type=float, default=None,
                    help="standard dropout ratio on every site "
                         "(default 0.3 convnet-quick / 0.1 resnet20; 0 = none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--channels-last", action="store_true",
                    help="NHWC memory format instead of NCHW (not the comparison "
                         "setting; this build's NCHW max-pool is slow, NHWC shows "
                         "what PyTorch can do at best); adds \"layout\": \"nhwc\"")
    ap.add_argument("--no-rss", action="store_true",
                    help="skip the separate peak-RSS run (peak_rss_mb: null)")
    ap.add_argument("--rss-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    dbatch, ddrop, *_ = MODELS[args.model]
    args.batch = args.batch or dbatch
    args.dropout = ddrop if args.dropout is None else args.dropout
    if min(args.batch, args.iters, args.blocks, args.threads) < 1 or args.warmup < 0:
        ap.error("batch, iters, blocks and threads must be >= 1, warmup >= 0")
    if not 0.0 <= args.dropout < 1.0:
        ap.error("dropout must be in [0, 1)")

    set_threads(args.threads)
    torch.manual_seed(args.seed)
    net, opt = build(args.model, args.dropout)
    xs, ys = synthetic(args.batch)
    if args.channels_last:
        net = net.to(memory_format=torch.channels_last)
        xs = [x.contiguous(memory_format=torch.channels_last) for x in xs]
    k = [0]

    def step():
        i = k[0] % len(xs)
        k[0] += 1
        train_step(net, opt, xs[i], ys[i])

    blocks, per_block = args.blocks, args.iters

    net.train()
    for _ in range(args.warmup):
        step()

    if args.rss_only:
        for _ in range(per_block):
            step()
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
        return

    train_rates = timed_blocks(step, blocks, per_block, args.batch)

    net.eval()

    def infer():
        i = k[0] % len(xs)
        k[0] += 1
        net(xs[i])

    with torch.no_grad():
        for _ in range(max(1, args.warmup)):
            infer()
        eval_rates = timed_blocks(infer, blocks, per_block, args.batch)

    rss = None if args.no_rss else round(rss_child(args, per_block), 1)
    sys.stderr.write("bench_pytorch: %s threads=%d dropout=%g blocks=%dx%d train=%s eval=%s\n" % (
        args.model, args.threads, args.dropout, blocks, per_block,
        [round(r, 1) for r in train_rates], [round(r, 1) for r in eval_rates]))
    line = {
        "impl": "pytorch",
        "model": args.model,
        "batch": args.batch,
        "threads": args.threads,
        "train_img_s": round(statistics.median(train_rates), 1),
        "eval_img_s": round(statistics.median(eval_rates), 1),
        "peak_rss_mb": rss,
    }
    if args.channels_last:
        line["layout"] = "nhwc"
    print(json.dumps(line))


if __name__ == "__main__":
    main()
