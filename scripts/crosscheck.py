#!/usr/bin/python3
"""Independent PyTorch check of dropexp's training steps.

dropexp's hidden `dump-step` command writes training steps of a real run
(the training code's own graph, masks and solver) to disk; this script
recomputes every step from the dumped inputs with its own PyTorch version
of the networks, the dropout sites and the solver, written from the
definitions below and not from dropexp's ops, and says how far the two
agree.

The dump format (one directory per step, step-NNNNNN/):
  index.json   format "dropexp-stepdump/1"; iteration, model, variant,
               ratio {p, q}, gradient (layer | elementwise), threads,
               conv_path (direct | strided | winograd | im2col), lr, momentum, weight_decay,
               bias_lr_mult, loss, full, params [{name, is_bias}],
               sites [{name, shape}], bn [names], config (YAML), tensors
  tensors      {name: {file, shape, dtype}}: raw little-endian float32
               ("float32"), or bytes into a codebook ("uint8", element =
               codebook[byte]), or {const, shape}: every element = const
  names        input/x, input/labels; site/S/mf, site/S/mb;
               param/P/before|grad|after; momentum/P/before|after;
               bn/B/mean|var/before|after
A dump directory also has run.json: {steps, losses (every iteration)}.

What is computed (the semantics of the dropout variants)
---------------------------------------------------------
Every dropout site sits on the input h of a layer z = W x + b (a
convolution or a fully connected layer). In one training step it holds a
forward mask mf and a backward mask mb of h's shape, each element
Bernoulli(1-r)/(1-r) (kept elements scaled up so that the mean is 1):
  plain     mf = 1,   mb = 1
  standard  mf = e_p, mb = the same e_p
  forward   mf = e_p, mb = 1
  backward  mf = 1,   mb = e_p
  augmented mf = e_p, mb = e_p * e_q  (e_q drawn independently, small q)
With delta = dJ/dz the layer computes
  value            z = W (h * mf) + b
  error to h       dJ/dh = (W^T delta) * mb
  weight gradient  `layer` rule:       dJ/dW = delta (h * mb)^T
                   `elementwise` rule: dJ/dW = delta (h * mf)^T
  bias gradient    sum of delta
SiteLayer below is a torch.autograd.Function that does exactly this; the
rest of the network is ordinary autograd.

Networks (the protocols' own definitions)
  ConvNet-Quick (Caffe cifar10_quick): conv1 5x5 pad 2 (32) -> max pool
    3x3 s2 -> ReLU -> conv2 5x5 pad 2 (32) -> ReLU -> avg pool 3x3 s2 ->
    conv3 5x5 pad 2 (64) -> ReLU -> avg pool 3x3 s2 -> ip1 (64, no ReLU) ->
    ip2 (classes); pooling rounds up (Caffe) and an average pool divides by
    the part of its window inside the image.
  ResNet-20 (He et al., CIFAR): 3x3 conv 16 -> BN -> ReLU -> 3 stages x 3
    basic blocks (16, 32, 64 maps; stride 2 in the first block of stages 2
    and 3; conv-BN-ReLU-conv-BN + shortcut, ReLU; option A shortcut:
    subsample by 2 and zero-pad the channels evenly on both sides) ->
    global average pool -> fc. Convolutions have no bias. BatchNorm in
    training mode: batch mean and biased variance, eps 1e-5; running
    statistics r = 0.9 r + 0.1 batch (the variance unbiased).
  Loss: mean softmax cross-entropy over the rows with a label >= 0.
  Solver (Caffe SGD): v = momentum v + lr mult (g + weight_decay w),
    w = w - v, mult = bias_lr_mult for biases (and BatchNorm's beta).

Commands
  crosscheck.py step DIR...            compare every dumped step below DIR
  crosscheck.py masks DIR [DIR2]       mask statistics of a multi-step dump
                                       (DIR2: the same run with other threads)
  crosscheck.py trajectory DIR --png F replay a consecutive dump in PyTorch
  crosscheck.py all --bin BIN ...      dump a matrix of runs and run the above
                                       (what `make crosscheck` runs)

Errors are relative to the tensor's scale: max|a - b| / max|b| with b the
float64 PyTorch value. "f32" columns give the same for PyTorch's own float32
computation of the step: the size of float32 rounding for that tensor.
A step is "ok" when no gradient and no update is further from float64 than
both 1e-4 and 3x PyTorch's own float32 error for that tensor (the larger for
an ill-conditioned tensor, or where a max-pool tie or a ReLU at 0 falls the
other way in float32), the loss within 1e-5, the rest as below. "ok*": a difference that goes
away when one ReLU whose input lies within float32 rounding of 0, or one
max-pool window whose two largest inputs are that close, takes the other
side (float32 and float64 may put such an activation on either side of the
kink; the gradient then differs at that element and below it).
"update" compares the solver's step v (the momentum buffer after the step;
w_after = w_before - v) with the one from PyTorch's float64 gradients,
"solver" with the one from dropexp's own gradients, and "w-v" counts the
elements where w_after is not exactly w_before - v in float32; "bn" compares
the running statistics after the step, "eval" the evaluation graph's logits
on the first test images with the weights after the step.
Needs Debian python3-torch, python3-numpy (python3-matplotlib for the figure).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - environment problem
    sys.stderr.write("crosscheck: needs torch and numpy: apt-get install -y python3-torch python3-numpy; "
                     "run with /usr/bin/python3\n")
    sys.exit(2)

GRAD_TOL = 1e-4   # relative, on gradients: beyond float32 rounding
LOSS_TOL = 1e-5


# ------------------------------------------------------------------ dumps

class Step:
    """One dumped step: its index and lazy access to its tensors."""

    def __init__(self, path):
        self.path = path
        with open(os.path.join(path, "index.json")) as f:
            self.idx = json.load(f)
        if self.idx.get("format") != "dropexp-stepdump/1":
            raise SystemExit(f"{path}/index.json: format {self.idx.get('format')!r}, want dropexp-stepdump/1")

    def has(self, name):
        return name in self.idx["tensors"]

    def get(self, name):
        e = self.idx["tensors"][name]
        shape = tuple(e["shape"])
        if "const" in e and e.get("file") is None:
            return np.full(shape, e["const"], dtype=np.float32)
        raw = os.path.join(self.path, e["file"])
        if e["dtype"] == "float32":
            a = np.fromfile(raw, dtype="<f4")
        elif e["dtype"] == "uint8":
            a = np.asarray(e["codebook"], dtype=np.float32)[np.fromfile(raw, dtype=np.uint8)]
        else:
            raise SystemExit(f"{raw}: unknown dtype {e['dtype']}")
        if a.size != int(np.prod(shape)):
            raise SystemExit(f"{raw}: {a.size} elements, index says shape {shape}")
        return a.reshape(shape)

    def __getattr__(self, k):
        try:
            return self.idx[k]
        except KeyError:
            raise AttributeError(k)


def find_steps(root):
    out = []
    for d, _, files in os.walk(root):
        if "index.json" in files:
            out.append(d)
    return sorted(out)


# ------------------------------------------------------------ the site op

class SiteLayer(torch.autograd.Function):
    """z = layer(h * mf; W, b); dJ/dh = (W^T delta) * mb; dJ/dW from h * mw
    where mw is mb (layer rule) or mf (elementwise rule)."""

    @staticmethod
    def forward(ctx, h, mf, mb, w, b, rule, stride, pad):
        ctx.rule, ctx.stride, ctx.pad = rule, stride, pad
        ctx.save_for_backward(h, mf, mb, w)
        ctx.has_b = b is not None
        return _layer(h * mf, w, b, stride, pad)

    @staticmethod
    def backward(ctx, delta):
        h, mf, mb, w = ctx.saved_tensors
        mw = mb if ctx.rule == "layer" else mf
        with torch.enable_grad():
            # Each gradient is the ordinary one of a plain layer, taken at
            # the input the rule names.
            hi = h.detach().requires_grad_(True)
            dh, = torch.autograd.grad(_layer(hi, w.detach(), None, ctx.stride, ctx.pad), hi, delta)
            wi = w.detach().requires_grad_(True)
            dw, = torch.autograd.grad(_layer((h * mw).detach(), wi, None, ctx.stride, ctx.pad), wi, delta)
        db = None
        if ctx.has_b:
            db = delta.sum(dim=(0, 2, 3)) if delta.dim() == 4 else delta.sum(dim=0)
        return dh * mb, None, None, dw, db, None, None, None


def _layer(x, w, b, stride, pad):
    if w.dim() == 4:
        return F.conv2d(x, w, b, stride=stride, padding=pad)
    z = x.reshape(x.shape[0], -1) @ w.t()
    return z + b if b is not None else z


# --------------------------------------------------------------- networks

def avg_pool_caffe(x, k, s):
    """Average pooling rounding up, dividing by the window's part inside the image."""
    ones = torch.ones_like(x[:1, :1])
    total = F.avg_pool2d(x, k, s, ceil_mode=True, divisor_override=1)
    count = F.avg_pool2d(ones, k, s, ceil_mode=True, divisor_override=1)
    return total / count


class Net:
    """A network over a dict of parameter tensors (dropexp's names) and the
    step's masks; forward() returns the mean loss and records BN statistics."""

    def __init__(self, step, dtype, params, running=None, flip=None):
        # flip: {ReLU number: element}: that ReLU's derivative is toggled at
        # that element (the value is unchanged), to test whether a
        # difference comes from one activation at float32 rounding of 0.
        self.flip = flip or {}
        self.relu_in = []
        self.pool_in = []
        self.model = step.model
        self.rule = step.gradient
        self.p = params
        self.dtype = dtype
        self.masks = {}
        # running: {bn name: (mean, var)} for evaluation (no dropout).
        self.running = running
        for s in (step.sites or []) if running is None else []:
            self.masks[s["name"]] = (torch.from_numpy(step.get(f"site/{s['name']}/mf")).to(dtype),
                                     torch.from_numpy(step.get(f"site/{s['name']}/mb")).to(dtype))
        self.bn_batch = {}

    def layer(self, name, h, w, b, stride=1, pad=0):
        if name in self.masks:
            mf, mb = self.masks[name]
            return SiteLayer.apply(h, mf, mb, w, b, self.rule, stride, pad)
        return _layer(h, w, b, stride, pad)

    def relu(self, x):
        i = len(self.relu_in)
        self.relu_in.append(x.detach())
        y = F.relu(x)
        if i in self.flip:
            m = torch.zeros_like(x)
            m.view(-1)[self.flip[i]] = 1
            sign = 1 - 2 * (x.detach() > 0).to(x.dtype)  # off -> on: +1, on -> off: -1
            y = y + (x - x.detach()) * m * sign
        return y

    def maxpool(self, x):
        """Max pooling 3x3 stride 2 rounding up; with flip {("pool", i):
        (plane, window, index)} window's gradient goes to that element."""
        i = len(self.pool_in)
        self.pool_in.append(x.detach())
        out, idx = F.max_pool2d(x, 3, 2, ceil_mode=True, return_indices=True)
        if ("pool", i) not in self.flip:
            return out
        plane, win, alt = self.flip[("pool", i)]
        idx = idx.clone()
        idx.view(idx.shape[0] * idx.shape[1], -1)[plane, win] = alt
        flat = x.reshape(x.shape[0], x.shape[1], -1)
        return flat.gather(2, idx.reshape(idx.shape[0], idx.shape[1], -1)).view_as(out)

    def logits(self, x):
        return self.convnet(x) if self.model == "convnet-quick" else self.resnet(x)

    def forward(self, x, labels):
        logits = self.logits(x)
        keep = labels >= 0
        return F.cross_entropy(logits[keep], labels[keep].long(), reduction="mean")

    def convnet(self, x):
        p = self.p
        h = self.layer("conv1", x, p["conv1/W"], p["conv1/b"], 1, 2)
        h = self.relu(self.maxpool(h))
        h = self.relu(self.layer("conv2", h, p["conv2/W"], p["conv2/b"], 1, 2))
        h = avg_pool_caffe(h, 3, 2)
        h = self.relu(self.layer("conv3", h, p["conv3/W"], p["conv3/b"], 1, 2))
        h = avg_pool_caffe(h, 3, 2)
        h = self.layer("ip1", h, p["ip1/W"], p["ip1/b"])
        return self.layer("ip2", h, p["ip2/W"], p["ip2/b"])

    def bn(self, name, x):
        if self.running is not None:
            mean, var = self.running[name]
            xh = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + 1e-5)
            return xh * self.p[name + "/gamma"][None, :, None, None] + self.p[name + "/beta"][None, :, None, None]
        mean = x.mean(dim=(0, 2, 3))
        var = ((x - mean[None, :, None, None]) ** 2).mean(dim=(0, 2, 3))
        self.bn_batch[name] = (mean.detach(), var.detach(), x.shape[0] * x.shape[2] * x.shape[3])
        xh = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + 1e-5)
        return xh * self.p[name + "/gamma"][None, :, None, None] + self.p[name + "/beta"][None, :, None, None]

    def resnet(self, x):
        p = self.p
        h = self.relu(self.bn("bn1", self.layer("conv1", x, p["conv1/W"], None, 1, 1)))
        cin = 16
        for st, maps in enumerate((16, 32, 64)):
            for bl in range(1, 4):
                name = f"s{st + 1}b{bl}"
                stride = 2 if st > 0 and bl == 1 else 1
                y = self.relu(self.bn(name + ".bn1", self.layer(name + ".conv1", h, p[name + ".conv1/W"], None, stride, 1)))
                y = self.bn(name + ".bn2", self.layer(name + ".conv2", y, p[name + ".conv2/W"], None, 1, 1))
                short = h
                if stride != 1 or cin != maps:
                    short = h[:, :, ::stride, ::stride]
                    extra = maps - cin
                    short = F.pad(short, (0, 0, 0, 0, extra // 2, extra - extra // 2))
                h = self.relu(y + short)
                cin = maps
        h = h.mean(dim=(2, 3), keepdim=True)
        return self.layer("fc", h, p["fc/W"], p["fc/b"])


def compute(step, dtype, params_np=None, flip=None, relus=None, pools=None):
    """Recompute a step: loss, gradients, the solver's update, new BN stats.
    relus and pools, lists, receive every ReLU's and max pool's input."""
    names = [q["name"] for q in step.params]
    if params_np is None:
        params_np = {n: step.get(f"param/{n}/before") for n in names}
    params = {n: torch.from_numpy(np.asarray(params_np[n])).to(dtype).requires_grad_(True) for n in names}
    net = Net(step, dtype, params, flip=flip)
    x = torch.from_numpy(step.get("input/x")).to(dtype)
    labels = torch.from_numpy(step.get("input/labels")).to(dtype)
    loss = net.forward(x, labels)
    grads = torch.autograd.grad(loss, [params[n] for n in names])
    if relus is not None:
        relus.extend(net.relu_in)
    if pools is not None:
        pools.extend(net.pool_in)
    return float(loss), {n: g.detach() for n, g in zip(names, grads)}, net.bn_batch


def solver_step(step, params, momentum, grads):
    """Caffe SGD from the given state; returns (new params, new momentum)."""
    new_p, new_v = {}, {}
    for q in step.params:
        n = q["name"]
        rate = step.lr * (step.bias_lr_mult if q["is_bias"] else 1.0)
        v = step.momentum * momentum[n] + rate * (grads[n] + step.weight_decay * params[n])
        new_v[n] = v
        new_p[n] = params[n] - v
    return new_p, new_v


def bn_update(step, bn_batch, dtype):
    out = {}
    for name in step.bn or []:
        m0 = torch.from_numpy(step.get(f"bn/{name}/mean/before")).to(dtype)
        v0 = torch.from_numpy(step.get(f"bn/{name}/var/before")).to(dtype)
        mean, var, cnt = bn_batch[name]
        out[name] = (0.9 * m0 + 0.1 * mean, 0.9 * v0 + 0.1 * var * cnt / max(cnt - 1, 1))
    return out


def rel(a, b):
    """max|a - b| / max|b| (b the reference)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.max(np.abs(b)) if b.size else 0.0
    d = np.max(np.abs(a - b)) if b.size else 0.0
    if scale == 0:
        return 0.0 if d == 0 else math.inf
    return d / scale


def check_step(step):
    """Compare one dumped step against PyTorch in float64 and float32."""
    if not step.full:
        raise SystemExit(f"{step.path}: not a full step (no weights); dump it without --full-every")
    names = [q["name"] for q in step.params]
    before = {n: step.get(f"param/{n}/before").astype(np.float64) for n in names}
    mom = {n: step.get(f"momentum/{n}/before").astype(np.float64) for n in names}
    res = {}
    relus, pools = [], []
    l64, g64, bn64 = compute(step, torch.float64, relus=relus, pools=pools)
    l32, g32, _ = compute(step, torch.float32)
    res["loss"] = (abs(step.loss - l64) / abs(l64), abs(l32 - l64) / abs(l64))
    ge, ge32 = {}, {}
    for n in names:
        ge[n] = rel(step.get(f"param/{n}/grad"), g64[n].numpy())
        ge32[n] = rel(g32[n].numpy(), g64[n].numpy())
    res["grad"] = ge
    res["grad32"] = ge32
    res["kink"] = None
    if any(ge[n] > max(GRAD_TOL, 3 * ge32[n]) for n in names):
        res["kink"] = explain_by_kink(step, names, relus, pools, ge32)
    g64n = {n: g64[n].numpy() for n in names}
    _, newv = solver_step(step, before, mom, g64n)
    # The update is v (w_after = w_before - v): compared through the
    # momentum buffer, because w_after - w_before carries the float32
    # rounding of w, which is large against a small step.
    res["update"] = {n: rel(step.get(f"momentum/{n}/after"), newv[n]) for n in names}
    # The update from dropexp's own gradients isolates the solver.
    _, own = solver_step(step, before, mom, {n: step.get(f"param/{n}/grad").astype(np.float64) for n in names})
    res["solver"] = {n: rel(step.get(f"momentum/{n}/after"), own[n]) for n in names}
    # And the weights must be exactly w - v in float32.
    res["apply"] = {n: int(np.sum(step.get(f"param/{n}/after") !=
                                  (step.get(f"param/{n}/before") - step.get(f"momentum/{n}/after")).astype(np.float32)))
                    for n in names}
    bnr = {}
    for name, (m, v) in bn_update(step, bn64, torch.float64).items():
        bnr[name] = max(rel(step.get(f"bn/{name}/mean/after"), m.numpy()), rel(step.get(f"bn/{name}/var/after"), v.numpy()))
    res["bn"] = bnr
    if step.has("eval/logits"):
        # Evaluation with the weights and statistics after the step.
        after = {n: torch.from_numpy(step.get(f"param/{n}/after")).double() for n in names}
        running = {b: (torch.from_numpy(step.get(f"bn/{b}/mean/after")).double(),
                       torch.from_numpy(step.get(f"bn/{b}/var/after")).double()) for b in step.bn or []}
        with torch.no_grad():
            lg = Net(step, torch.float64, after, running).logits(torch.from_numpy(step.get("eval/x")).double())
        res["eval"] = rel(step.get("eval/logits"), lg.numpy())
    else:
        res["eval"] = float("nan")
    return res


def pool_ties(x, tries):
    """The max-pool windows (3x3, stride 2, rounding up) of x whose two
    largest elements are closest: (gap / max|x|, plane, window, index of
    the runner-up in its plane)."""
    n, c, h, w = x.shape
    oh, ow = -(-(h - 3) // 2) + 1, -(-(w - 3) // 2) + 1
    ph, pw = (oh - 1) * 2 + 3 - h, (ow - 1) * 2 + 3 - w
    xp = F.pad(x, (0, pw, 0, ph), value=-math.inf)
    u = xp.unfold(2, 3, 2).unfold(3, 3, 2).reshape(n * c, oh * ow, 9)
    top, pos = u.topk(2, dim=2)
    gap = (top[..., 0] - top[..., 1]).reshape(-1)
    scale = float(x.abs().max())
    out = []
    for k in torch.argsort(gap)[:tries].tolist():
        plane, win = divmod(k, oh * ow)
        oy, ox = divmod(win, ow)
        dy, dx = divmod(int(pos.reshape(-1, 2)[k, 1]), 3)
        out.append((float(gap[k]) / scale, plane, win, (2 * oy + dy) * w + 2 * ox + dx))
    return out


def explain_by_kink(step, names, relus, pools, ge32, tries=16):
    """Whether one activation at a kink taken the other way brings every
    gradient within tolerance: a ReLU whose input is within float32
    rounding of 0, or a max-pool window whose two largest inputs are (the
    gradient then goes to the runner-up). Float32 and float64 may fall on
    either side of such a kink, which is no bug. Returns a description or
    None."""
    cands = []
    for i, x in enumerate(relus):
        a = x.abs().reshape(-1)
        scale = float(a.max())
        for j in torch.argsort(a)[:tries].tolist():
            if scale > 0 and float(a[j]) / scale < 1e-5:
                cands.append((float(a[j]) / scale, i, j, f"ReLU #{i} element {j} (|input| {float(a[j]) / scale:.1e} of its max)"))
    for i, x in enumerate(pools):
        for gap, plane, win, alt in pool_ties(x, tries):
            if gap < 1e-5:
                cands.append((gap, ("pool", i), (plane, win, alt),
                              f"max pool #{i} plane {plane} window {win} (top two {gap:.1e} of its max apart)"))
    cands.sort(key=lambda c: c[0])
    go = {n: step.get(f"param/{n}/grad") for n in names}
    for _, key, val, what in cands[:3 * tries]:
        _, g, _ = compute(step, torch.float64, flip={key: val})
        if all(rel(go[n], g[n].numpy()) <= max(GRAD_TOL, 3 * ge32[n]) for n in names):
            worst_after = max(rel(go[n], g[n].numpy()) for n in names)
            return f"{what} taken the other way: then {worst_after:.1e}"
    return None


def worst(d):
    if not d:
        return ("-", 0.0)
    k = max(d, key=lambda n: d[n])
    return (k, d[k])


def cmd_step(args):
    rows = []
    dirs = []
    for root in args.dirs:
        dirs += find_steps(root)
    if not dirs:
        raise SystemExit(f"no step dumps (index.json) under {' '.join(args.dirs)}")
    bad = 0
    hdr = (f"{'network':13} {'variant':9} {'p':>5} {'rule':11} {'path':7} {'thr':>3} {'iter':>5} | "
           f"{'loss':>8} {'loss32':>8} | {'grad':>8} {'grad32':>8} {'worst tensor':18} | {'update':>8} {'solver':>8} {'w-v':>5} {'bn':>8} {'eval':>8}  ok")
    print(hdr)
    print("-" * len(hdr))
    for d in dirs:
        st = Step(d)
        if not st.full:
            continue
        t0 = time.time()
        r = check_step(st)
        gname, gerr = worst(r["grad"])
        _, g32 = worst(r["grad32"])
        _, uerr = worst(r["update"])
        _, serr = worst(r["solver"])
        _, berr = worst(r["bn"])
        napply = sum(r["apply"].values())
        # A tensor is off when dropexp is further from float64 than 1e-4
        # and than 3x PyTorch's own float32 (which is the larger for an
        # ill-conditioned tensor, or where a max-pool tie or a ReLU at 0
        # falls the other way in float32).
        off = {n: e for n, e in r["grad"].items() if e > max(GRAD_TOL, 3 * r["grad32"][n])}
        uoff = {n: e for n, e in r["update"].items() if e > max(GRAD_TOL, 3 * r["grad32"][n])}
        if r["kink"]:
            off, uoff = {}, {}
        ok = bool(not off and not uoff and r["loss"][0] <= LOSS_TOL and serr <= 1e-5 and berr <= GRAD_TOL
              and napply == 0 and not r["eval"] > GRAD_TOL)
        bad += not ok
        ratio = st.ratio["p"] if st.variant != "plain" else 0
        if st.variant == "augmented":
            ratio = f"{st.ratio['p']:g}/{st.ratio['q']:g}"
        line = (f"{st.model:13} {st.variant:9} {str(ratio):>5} {st.gradient:11} {st.conv_path:7} {st.threads:>3} {st.iteration:>5} | "
                f"{r['loss'][0]:8.1e} {r['loss'][1]:8.1e} | {gerr:8.1e} {g32:8.1e} {gname[:18]:18} | {uerr:8.1e} {serr:8.1e} {napply:>5} {berr:8.1e} {r['eval']:8.1e}  "
                f"{('ok*' if r['kink'] else 'ok') if ok else 'DIFF'}")
        print(line, flush=True)
        if r["kink"]:
            print(f"    ok*: {r['kink']}")
        rows.append({"dir": d, "model": st.model, "variant": st.variant, "ratio": st.ratio, "gradient": st.gradient,
                     "conv_path": st.conv_path, "threads": st.threads, "iteration": st.iteration, "ok": ok, **r,
                     "seconds": time.time() - t0})
        if args.verbose or not ok:
            if not ok and not r["kink"]:
                print("    not explained by one ReLU or max-pool tie at float32 rounding")
            for n in r["grad"]:
                print(f"    {n:22} grad {r['grad'][n]:8.1e} (f32 {r['grad32'][n]:8.1e})  update {r['update'][n]:8.1e}  "
                      f"solver {r['solver'][n]:8.1e}  w-v mismatches {r['apply'][n]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print(f"{len(rows)} steps, {bad} beyond tolerance (a gradient or update further from float64 than {GRAD_TOL:g} and "
          f"3x PyTorch float32's own error; loss {LOSS_TOL:g}; solver 1e-5; BN and eval {GRAD_TOL:g}; w-v 0)")
    return bad


# ------------------------------------------------------------------ masks

def zscore_corr(a, b):
    """Pearson correlation of two equal-length 0/1 arrays and its z (r sqrt(n))."""
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    n = a.size
    sa, sb = a.std(), b.std()
    if n < 2 or sa == 0 or sb == 0:
        return float("nan"), float("nan"), n
    r = float(((a - a.mean()) * (b - b.mean())).mean() / (sa * sb))
    return r, r * math.sqrt(n), n


def load_series(root):
    dirs = [d for d in find_steps(root)]
    steps = [Step(d) for d in dirs]
    steps.sort(key=lambda s: s.iteration)
    return steps


def cmd_masks(args):
    steps = load_series(args.dir)
    if len(steps) < 2:
        raise SystemExit(f"{args.dir}: need a dump of consecutive steps (dump-step --iter 1-100)")
    s0 = steps[0]
    var, p, q = s0.variant, s0.ratio["p"], s0.ratio["q"]
    print(f"masks of {s0.model} {var} p={p:g} q={q:g}, {len(steps)} steps ({steps[0].iteration}..{steps[-1].iteration}), "
          f"sites {', '.join(s['name'] for s in s0.sites)}")
    kinds = []
    if var in ("standard", "forward", "augmented"):
        kinds.append(("mf", p))
    if var in ("backward",):
        kinds.append(("mb", p))
    if var == "augmented":
        kinds.append(("mb", 1 - (1 - p) * (1 - q)))
    bad = 0
    lines = []

    def report(what, r, z, n, limit=4.5):
        nonlocal bad
        ok = not (abs(z) > limit)
        bad += not ok
        lines.append(f"  {what:58} r {r:+.5f}  z {z:+6.2f}  n {n:>9}  {'ok' if ok else 'CORRELATED'}")

    for kind, rate in kinds:
        print(f"{kind} (expected drop rate {rate:.6g}):")
        lines = []
        per_site = {}
        for s in s0.sites:
            name = s["name"]
            drops = np.stack([(st.get(f"site/{name}/{kind}") == 0) for st in steps])  # T x N x ...
            per_site[name] = drops
            kept_vals = np.unique(np.stack([st.get(f"site/{name}/{kind}") for st in steps[:5]]))
            kept_vals = kept_vals[kept_vals != 0]
            n = drops.size
            rate_obs = drops.mean()
            z = (rate_obs - rate) / math.sqrt(rate * (1 - rate) / n)
            want = np.float32(1 / (1 - p))
            if kind == "mb" and var == "augmented":
                vals = f"{', '.join(f'{v:.7g}' for v in kept_vals)}"
                okv = True
            else:
                okv = len(kept_vals) == 1 and kept_vals[0] == want
                vals = f"{kept_vals[0]:.7g}" if len(kept_vals) else "-"
            ok = abs(z) < 4.5 and okv
            bad += not ok
            print(f"  site {name:12} drop rate {rate_obs:.5f} (z {z:+6.2f}, n {n})  kept value {vals}"
                  f"{'' if okv else f' (want {want:.7g})'}  {'ok' if ok else 'WRONG'}")
            d = drops
            if d.shape[1] > 1:
                report(f"{name}: image i vs i+1", *zscore_corr(d[:, :-1], d[:, 1:]))
            if d.ndim >= 4 and d.shape[2] > 1:
                report(f"{name}: channel c vs c+1", *zscore_corr(d[:, :, :-1], d[:, :, 1:]))
            if d.ndim == 5:
                report(f"{name}: pixel x vs x+1", *zscore_corr(d[..., :-1], d[..., 1:]))
                report(f"{name}: pixel y vs y+1", *zscore_corr(d[..., :-1, :], d[..., 1:, :]))
            elif d.ndim == 3 and d.shape[2] > 1:
                report(f"{name}: unit j vs j+1", *zscore_corr(d[..., :-1], d[..., 1:]))
            report(f"{name}: step t vs t+1", *zscore_corr(d[:-1], d[1:]))
            flat = d.reshape(d.shape[0], -1)
            for lag in (2, 32768, 65536):
                if flat.shape[1] > lag * 2:
                    report(f"{name}: element j vs j+{lag} (one draw, mask parts)", *zscore_corr(flat[:, :-lag], flat[:, lag:]))
        names = list(per_site)
        for a, b in zip(names, names[1:]):
            fa = per_site[a].reshape(len(steps), -1)
            fb = per_site[b].reshape(len(steps), -1)
            m = min(fa.shape[1], fb.shape[1])
            report(f"site {a} vs {b} (element j)", *zscore_corr(fa[:, :m], fb[:, :m]))
            report(f"site {a} (step t+1) vs {b} (step t)", *zscore_corr(fa[1:, :m], fb[:-1, :m]))
        print("\n".join(lines))
    if var == "augmented":
        print("mb given mf (augmented: mb = mf * e_q):")
        for s in s0.sites:
            name = s["name"]
            mf = np.stack([st.get(f"site/{name}/mf") for st in steps])
            mb = np.stack([st.get(f"site/{name}/mb") for st in steps])
            bad_zero = int(np.sum((mf == 0) & (mb != 0)))
            kept = mf != 0
            qd = (mb[kept] == 0).mean()
            n = int(kept.sum())
            z = (qd - q) / math.sqrt(q * (1 - q) / n) if q > 0 else 0.0
            want = np.float32(np.float32(1 / (1 - p)) * np.float32(1 / (1 - q)))
            vals = np.unique(mb[kept & (mb != 0)])
            ok = bad_zero == 0 and abs(z) < 4.5 and len(vals) == 1 and vals[0] == want
            bad += not ok
            print(f"  site {name:12} mb dropped where mf kept: {qd:.6f} (q {q:g}, z {z:+.2f}, n {n}); mb kept where mf "
                  f"dropped: {bad_zero}; mb kept value {', '.join(f'{v:.7g}' for v in vals)} (want {want:.7g})  "
                  f"{'ok' if ok else 'WRONG'}")
    if args.other:
        other = {st.iteration: st for st in load_series(args.other)}
        diff = 0
        cnt = 0
        for st in steps:
            o = other.get(st.iteration)
            if o is None:
                continue
            for s in s0.sites:
                for kind in ("mf", "mb"):
                    cnt += 1
                    diff += not np.array_equal(st.get(f"site/{s['name']}/{kind}"), o.get(f"site/{s['name']}/{kind}"))
        ok = diff == 0 and cnt > 0
        bad += not ok
        print(f"masks with threads {s0.threads} vs {Step(find_steps(args.other)[0]).threads}: {cnt - diff} of {cnt} "
              f"identical  {'ok' if ok else 'DIFFER'}")
    bad += check_batches(steps)
    print(f"{bad} mask and batch checks failed")
    return bad


def check_batches(steps):
    """The data order and preprocessing seen from the dumped batches: no
    image twice within an epoch, and rows that differ by whole pixel
    values (raw pixels minus one per-pixel mean)."""
    bad = 0
    xs = [st.get("input/x") for st in steps]
    n = xs[0].shape[0]
    labels = np.concatenate([st.get("input/labels") for st in steps])
    size = steps[0].idx.get("train_size", 0)
    flat = np.concatenate([x.reshape(n, -1) for x in xs])
    keys = [r.tobytes() for r in flat]
    print(f"batches: {len(keys)} training images in {len(steps)} steps (training set {size}); labels "
          f"{np.bincount(labels.astype(int)).tolist()}")
    # The order is a fresh permutation every epoch: within each epoch's
    # stretch of the batches no image comes twice, and a whole epoch has
    # them all. (Assumes the dump starts at iteration 1, an epoch's start.)
    if steps[0].iteration == 1 and size:
        for e in range(0, len(keys), size):
            chunk = keys[e:e + size]
            ok = len(set(chunk)) == len(chunk)
            bad += not ok
            print(f"  epoch {e // size + 1}: {len(chunk)} images, {len(set(chunk))} distinct"
                  f"{' (whole epoch)' if len(chunk) == size else ''}  {'ok' if ok else 'REPEATED'}")
            if e // size >= 3:
                break
        if len(keys) >= 2 * size:
            same = sum(a == b for a, b in zip(keys[:size], keys[size:2 * size]))
            ok = same <= 10
            bad += not ok
            print(f"  epoch 2 reshuffled: {same} of {size} positions hold epoch 1's image  {'ok' if ok else 'NOT RESHUFFLED'}")
    frac = np.abs((flat[1:] - flat[0]) - np.round(flat[1:] - flat[0]))
    ok2 = frac.max() < 1e-3
    print(f"  rows differ by whole pixel values (max fraction {frac.max():.2e}): {'ok' if ok2 else 'WRONG'}")
    bad += not ok2
    return bad


# ------------------------------------------------------------- trajectory

def cmd_trajectory(args):
    steps = load_series(args.dir)
    its = [s.iteration for s in steps]
    if its != list(range(its[0], its[0] + len(its))):
        raise SystemExit(f"{args.dir}: the dumped steps are not consecutive")
    s0 = steps[0]
    names = [q["name"] for q in s0.params]
    with open(os.path.join(args.dir, "run.json")) as f:
        run = json.load(f)
    go_loss = [s.loss for s in steps]
    curves = {}
    wdiff = {}
    for label, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        params = {n: s0.get(f"param/{n}/before").astype(np.float64) for n in names}
        mom = {n: s0.get(f"momentum/{n}/before").astype(np.float64) for n in names}
        losses = []
        wd = []
        t0 = time.time()
        for st in steps:
            if st.full and st.has(f"param/{names[0]}/before"):
                # Where dropexp's weights and the replayed ones stand apart.
                errs = {n: rel(st.get(f"param/{n}/before"), params[n]) for n in names}
                wd.append((st.iteration,) + worst(errs))
            pp = {n: params[n].astype(np.float32) if dtype == torch.float32 else params[n] for n in names}
            loss, grads, _ = compute(st, dtype, pp)
            losses.append(loss)
            g = {n: grads[n].numpy().astype(np.float64) for n in names}
            if dtype == torch.float32:
                # Keep the state in float32 throughout, as dropexp does.
                params = {n: params[n].astype(np.float32) for n in names}
                mom = {n: mom[n].astype(np.float32) for n in names}
                g = {n: g[n].astype(np.float32) for n in names}
                stp = _f32_solver(st, params, mom, g)
                params, mom = stp
            else:
                params, mom = solver_step(st, params, mom, g)
        curves[label] = losses
        wdiff[label] = wd
        print(f"replayed {len(steps)} steps in {label} ({time.time() - t0:.0f} s)")
    go = np.array(go_loss)
    print(f"{'iter':>5} {'dropexp':>10} {'torch f32':>10} {'torch f64':>10} {'rel f32':>9} {'rel f64':>9}")
    for i, st in enumerate(steps):
        if i < 5 or (i + 1) % 20 == 0 or i == len(steps) - 1:
            a, b = curves["float32"][i], curves["float64"][i]
            print(f"{st.iteration:>5} {go[i]:10.6f} {a:10.6f} {b:10.6f} {abs(go[i] - b) / abs(b):9.1e} {abs(a - b) / abs(b):9.1e}")
    r64 = np.abs(go - np.array(curves["float64"])) / np.abs(np.array(curves["float64"]))
    r32 = np.abs(np.array(curves["float32"]) - np.array(curves["float64"])) / np.abs(np.array(curves["float64"]))
    for thr in (1e-5, 1e-3, 1e-2):
        k = np.argmax(r64 > thr) if np.any(r64 > thr) else None
        k32 = np.argmax(r32 > thr) if np.any(r32 > thr) else None
        print(f"first step with loss rel. difference > {thr:g}: dropexp vs f64 "
              f"{steps[k].iteration if k is not None else 'none'}, torch f32 vs f64 {steps[k32].iteration if k32 is not None else 'none'}")
    print("weights rel. difference (max over tensors) dropexp vs replay, at full steps:")
    for (it, na, a), (_, nb, b) in zip(wdiff["float64"], wdiff["float32"]):
        print(f"  before step {it:>4}: vs f64 {a:8.1e} ({na:10})  vs f32 {b:8.1e} ({nb})")
    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (ax, bx) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
        x = [s.iteration for s in steps]
        ax.plot(x, go, label="dropexp", lw=1.6)
        ax.plot(x, curves["float32"], label="PyTorch float32", lw=1.0, ls="--")
        ax.plot(x, curves["float64"], label="PyTorch float64", lw=0.8, ls=":")
        ax.set_ylabel("training loss (step)")
        ax.set_title(f"{s0.model} {s0.variant} p={s0.ratio['p']:g} {s0.gradient}, {s0.conv_path}, {s0.threads} thread(s): same weights, batches, masks")
        ax.title.set_fontsize(9)
        ax.legend()
        bx.semilogy(x, np.maximum(r64, 1e-12), label="|dropexp - f64| / f64")
        bx.semilogy(x, np.maximum(r32, 1e-12), label="|torch f32 - f64| / f64")
        bx.set_xlabel("iteration")
        bx.set_ylabel("relative loss difference")
        bx.legend()
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)
        print(f"wrote {args.png}")
    return 0


def _f32_solver(st, params, mom, g):
    new_p, new_v = {}, {}
    mu, wd = np.float32(st.momentum), np.float32(st.weight_decay)
    for q in st.params:
        n = q["name"]
        rate = np.float32(st.lr * (st.bias_lr_mult if q["is_bias"] else 1.0))
        v = mu * mom[n] + rate * (g[n] + wd * params[n])
        new_v[n] = v.astype(np.float32)
        new_p[n] = (params[n] - new_v[n]).astype(np.float32)
    return new_p, new_v


# -------------------------------------------------------------------- all

VARIANTS = [("plain", None), ("standard", "0.3"), ("forward", "0.3"), ("backward", "0.3"), ("augmented", "0.3/0.01")]


def cases(threads, paths, extra=(), quick=False):
    """Every variant x rule x threads x path; quick: all threads and paths
    only for forward and augmented, the others on the first of each."""
    out = []
    for v, r in VARIANTS:
        for rule in ("layer", "elementwise"):
            for t in threads:
                for path in paths:
                    if quick and v not in ("forward", "augmented") and (t != threads[0] or path != paths[0]):
                        continue
                    sets = f"dropout.variant={v} dropout.gradient={rule} threads={t} conv={path}"
                    if r:
                        sets += f" dropout.ratio={r}"
                    out.append((f"{v}-{rule}-t{t}-{path}", sets))
    for name, sets in extra:
        out.append((name, sets))
    return out


def run(cmd):
    ncase = cmd.count("--case")
    shown = cmd[:cmd.index("--case")] if ncase else cmd
    print("+ " + " ".join(shown) + (f" (and {ncase} --case runs)" if ncase else ""), flush=True)
    subprocess.run(cmd, check=True, stdout=sys.stderr)


def cmd_all(args):
    work = args.work
    os.makedirs(work, exist_ok=True)
    data = args.data
    if not data:
        data = os.path.join(work, "data")
        if not os.path.exists(os.path.join(data, "cifar-10-batches-bin")):
            run(["go", "run", "./scripts/synthdata", "--out", data, "--sets", "cifar10", "--train", "400", "--test", "50"])
        data = os.path.join(data, "cifar-10-batches-bin")
        dsets = ["--set", "dataset.name=cifar10", "--set", f"dataset.path={data}"]
    else:
        dsets = ["--set", "dataset.name=imagefolder", "--set", f"dataset.path={data}"]
    dsets += list(args.set or [])
    bad = 0
    iters = args.iters
    extra_cq = [("forward-layer-allsites-t2-direct", "dropout.variant=forward dropout.gradient=layer threads=2 dropout.sites=conv1,conv2,conv3,ip1,ip2"),
                ("augmented-layer-allsites-t2-im2col", "dropout.variant=augmented dropout.ratio=0.3/0.01 dropout.gradient=layer threads=2 conv=im2col dropout.sites=conv1,conv2,conv3,ip1,ip2"),
                # The winograd kernel set: conv2 and conv3 by Winograd's F(2x2, 5x5).
                ("plain-t2-winograd", "dropout.variant=plain threads=2 kernels=winograd"),
                ("forward-layer-allsites-t1-winograd", "dropout.variant=forward dropout.ratio=0.3 dropout.gradient=layer threads=1 kernels=winograd dropout.sites=conv1,conv2,conv3,ip1,ip2"),
                ("augmented-elementwise-allsites-t2-winograd", "dropout.variant=augmented dropout.ratio=0.3/0.01 dropout.gradient=elementwise threads=2 kernels=winograd dropout.sites=conv1,conv2,conv3,ip1,ip2")]
    nets = []
    if "convnet-quick" in args.models:
        nets.append(("convnet-quick", "configs/convnet-quick-cifar10.yaml", args.cq_batch, extra_cq))
    if "resnet20" in args.models and not args.data:
        extra_rn = [("forward-layer-allsites-t2-direct", "dropout.variant=forward dropout.ratio=0.3 dropout.gradient=layer threads=2 dropout.sites=conv1,*.conv1,*.conv2,fc"),
                    ("backward-layer-allsites-t1-im2col", "dropout.variant=backward dropout.ratio=0.3 dropout.gradient=layer threads=1 conv=im2col dropout.sites=conv1,*.conv1,*.conv2,fc"),
                    ("augmented-elementwise-allsites-t2-direct", "dropout.variant=augmented dropout.ratio=0.3/0.01 dropout.gradient=elementwise threads=2 dropout.sites=conv1,*.conv1,*.conv2,fc"),
                    # The strided kernel set: the stride-2 layers' gradients by the direct convolution.
                    ("standard-layer-allsites-t2-strided", "dropout.variant=standard dropout.ratio=0.3 dropout.gradient=layer threads=2 kernels=strided dropout.sites=conv1,*.conv1,*.conv2,fc"),
                    ("backward-elementwise-allsites-t1-strided", "dropout.variant=backward dropout.ratio=0.3 dropout.gradient=elementwise threads=1 kernels=strided dropout.sites=conv1,*.conv1,*.conv2,fc"),
                    # The winograd kernel set: the stride-1 3x3 layers' forward passes and input gradients by Winograd's F(4x4, 3x3).
                    ("augmented-layer-allsites-t2-winograd", "dropout.variant=augmented dropout.ratio=0.3/0.01 dropout.gradient=layer threads=2 kernels=winograd dropout.sites=conv1,*.conv1,*.conv2,fc"),
                    ("backward-elementwise-allsites-t1-winograd", "dropout.variant=backward dropout.ratio=0.3 dropout.gradient=elementwise threads=1 kernels=winograd dropout.sites=conv1,*.conv1,*.conv2,fc")]
        nets.append(("resnet20", "configs/resnet20-cifar10.yaml", args.rn_batch, extra_rn))
    for model, cfgfile, batch, extra in nets:
        out = os.path.join(work, "steps", model)
        todo = [(name, sets) for name, sets in cases(args.threads.split(","), args.paths.split(","), extra,
                                                     quick=model in args.quick.split(","))
                if not (args.reuse and os.path.exists(os.path.join(out, name, "run.json")))]
        if todo:
            cmd = [args.bin, "dump-step", "--config", cfgfile, "--iter", iters, "--out", out,
                   "--set", f"train.batch_size={batch}"] + dsets
            for name, sets in todo:
                cmd += ["--case", f"{name}: {sets}"]
            run(cmd)
        print(f"\n== {model}: every variant x rule x path x threads, iterations {iters}")
        bad += cmd_step(argparse.Namespace(dirs=[out], verbose=False, json=os.path.join(work, f"steps-{model}.json")))
    # Masks over 100 steps and the trajectory, on ConvNet-Quick.
    cq = os.path.join(work, "series")
    mask_cases = [("augmented-t1", "dropout.variant=augmented dropout.ratio=0.3/0.01 threads=1"),
                  ("augmented-t2", "dropout.variant=augmented dropout.ratio=0.3/0.01 threads=2")]
    todo = [(n, s) for n, s in mask_cases if not (args.reuse and os.path.exists(os.path.join(cq, n, "run.json")))]
    if todo:
        cmd = [args.bin, "dump-step", "--config", "configs/convnet-quick-cifar10.yaml", "--iter", f"1-{args.mask_steps}",
               "--full-every", "1000000", "--out", cq, "--set", f"train.batch_size={args.cq_batch}"] + dsets
        for name, sets in todo:
            cmd += ["--case", f"{name}: {sets}"]
        run(cmd)
    print(f"\n== masks: ConvNet-Quick, augmented 0.3/0.01, {args.mask_steps} steps")
    bad += cmd_masks(argparse.Namespace(dir=os.path.join(cq, "augmented-t1"), other=os.path.join(cq, "augmented-t2")))
    tr = os.path.join(work, "trajectory")
    if not (args.reuse and os.path.exists(os.path.join(tr, "run.json"))):
        run([args.bin, "dump-step", "--config", "configs/convnet-quick-cifar10.yaml", "--iter", f"1-{args.traj_steps}",
             "--full-every", "10", "--out", tr, "--set", f"train.batch_size={args.cq_batch}",
             "--set", "dropout.variant=forward", "--set", "dropout.ratio=0.3", "--set", "dropout.gradient=layer",
             "--set", "threads=1"] + dsets)
    print(f"\n== trajectory: ConvNet-Quick forward 0.3 layer, {args.traj_steps} steps")
    bad += cmd_trajectory(argparse.Namespace(dir=tr, png=os.path.join(work, "trajectory.png")))
    print(f"\ncrosscheck: {bad} problem(s); dumps and figure in {work}")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("step", help="compare dumped steps with PyTorch")
    a.add_argument("dirs", nargs="+")
    a.add_argument("-v", "--verbose", action="store_true", help="every tensor's errors")
    a.add_argument("--json", help="write the results here")
    a = sub.add_parser("masks", help="mask statistics of a multi-step dump")
    a.add_argument("dir")
    a.add_argument("other", nargs="?", help="the same run dumped with another thread count")
    a = sub.add_parser("trajectory", help="replay consecutive dumped steps in PyTorch")
    a.add_argument("dir")
    a.add_argument("--png")
    a = sub.add_parser("all", help="dump a matrix of runs and check them (make crosscheck)")
    a.add_argument("--bin", default="bin/dropexp")
    a.add_argument("--work", default="results/crosscheck")
    a.add_argument("--data", help="an image folder archive (real data: ConvNet-Quick only); default synthetic CIFAR-10")
    a.add_argument("--set", action="append", help="extra --set for every dump")
    a.add_argument("--models", default="convnet-quick,resnet20")
    a.add_argument("--iters", default="1,101")
    a.add_argument("--threads", default="1,2")
    a.add_argument("--paths", default="direct,im2col")
    a.add_argument("--cq-batch", type=int, default=100)
    a.add_argument("--rn-batch", type=int, default=128)
    a.add_argument("--mask-steps", type=int, default=100)
    a.add_argument("--traj-steps", type=int, default=200)
    a.add_argument("--quick", default="", help="networks (comma-separated) whose matrix runs every thread count and "
                   "path for forward and augmented only")
    a.add_argument("--reuse", action="store_true", help="check existing dumps, dump only what is missing")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("CROSSCHECK_THREADS", "1")))
    if args.cmd == "step":
        sys.exit(1 if cmd_step(args) else 0)
    if args.cmd == "masks":
        sys.exit(1 if cmd_masks(args) else 0)
    if args.cmd == "trajectory":
        sys.exit(cmd_trajectory(args))
    sys.exit(cmd_all(args))


if __name__ == "__main__":
    main()
