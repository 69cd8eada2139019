package model

import (
	"fmt"
	"math"

	"github.com/dropexp/dropexp/internal/chain"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bnMomentum is the weight of each new batch in the running statistics (PyTorch's default).
const bnMomentum = 0.1

// resnet builds He et al.'s CIFAR ResNet-(6n+2) (docs/DESIGN.md §2): 3×3 conv 16 → BN →
// ReLU → 3 stages × n basic blocks (16, 32, 64 maps) → global average pool → fc.
func (b *builder) resnet(x *G.Node, n int) (*G.Node, error) {
	var h *G.Node
	var err error
	if !b.opt.Train && !b.opt.OpByOp && chain.Available() && !b.opt.Im2col {
		h, err = b.resnetChain(x, n)
	} else {
		h, err = b.resnetLayers(x, n)
	}
	if err != nil {
		return nil, err
	}
	s := h.Shape()
	if h, err = layers.Pool("gap", layers.AvgPool, h, s[2], 0, 1, b.opt.Exec.Threads()); err != nil {
		return nil, err
	}
	d := s[1]
	w := b.param("fc/W", tensor.Shape{b.opt.Classes, d}, math.Sqrt(2/float64(d)), false)
	bias := b.param("fc/b", tensor.Shape{b.opt.Classes}, 0, true)
	spec := dropout.LinearSpec{Name: "fc", Mode: b.mode(), InputGrad: true, Threads: b.opt.Exec.Threads()}
	return dropout.Linear(spec, h, b.site("fc", h), w, bias)
}

// blocks calls fn for each basic block of the 3 stages of n blocks, in order.
func blocks(n int, fn func(name string, maps, stride int) error) error {
	for st, maps := range []int{16, 32, 64} {
		for bl := 1; bl <= n; bl++ {
			stride := 1
			if st > 0 && bl == 1 {
				stride = 2
			}
			if err := fn(fmt.Sprintf("s%db%d", st+1, bl), maps, stride); err != nil {
				return err
			}
		}
	}
	return nil
}

// resnetLayers builds the stem and the blocks op by op, up to the last block's output.
func (b *builder) resnetLayers(x *G.Node, n int) (*G.Node, error) {
	h, err := b.convBN("conv1", "bn1", x, 16, 1, b.opt.InputNeedsDx, true, nil)
	if err != nil {
		return nil, err
	}
	err = blocks(n, func(name string, maps, stride int) error {
		h, err = b.basicBlock(name, h, maps, stride)
		return err
	})
	return h, err
}

// resnetChain builds what resnetLayers does for evaluation as one chain op,
// which takes the batch image by image (same bits, fewer trips to memory).
func (b *builder) resnetChain(x *G.Node, n int) (*G.Node, error) {
	var steps []chain.Step
	add := func(conv, bn string, in, maps, stride, from, res int) {
		w, affine := b.convBNParams(conv, bn, in, maps)
		steps = append(steps, chain.Step{Name: conv, W: w, Stride: stride, Affine: affine, ReLU: true, From: from, Residual: res,
			Winograd: b.opt.Kernels.Winograd()})
	}
	add("conv1", "bn1", x.Shape()[1], 16, 1, 0, -1)
	in := 16
	blocks(n, func(name string, maps, stride int) error {
		a := len(steps) // the block's input activation
		add(name+".conv1", name+".bn1", in, maps, stride, a, -1)
		add(name+".conv2", name+".bn2", maps, maps, 1, a+1, a)
		in = maps
		return nil
	})
	return chain.Apply("resnet", x, steps, b.opt.Exec.Threads())
}

// basicBlock is conv-BN-ReLU-conv-BN plus the shortcut, then ReLU; the
// shortcut is the identity, or option A (subsample, zero-pad channels) where the shape changes.
func (b *builder) basicBlock(name string, x *G.Node, maps, stride int) (*G.Node, error) {
	h, err := b.convBN(name+".conv1", name+".bn1", x, maps, stride, true, true, nil)
	if err != nil {
		return nil, err
	}
	short := x
	if stride != 1 || x.Shape()[1] != maps {
		if short, err = layers.ShortcutA(name+".shortcut", x, stride, maps, b.opt.Exec.Threads()); err != nil {
			return nil, err
		}
	}
	if !b.opt.Train {
		// Evaluation: the second convolution adds the shortcut and applies
		// the ReLU as it writes its output.
		return b.convBN(name+".conv2", name+".bn2", h, maps, 1, true, true, short)
	}
	if h, err = b.convBN(name+".conv2", name+".bn2", h, maps, 1, true, false, nil); err != nil {
		return nil, err
	}
	return layers.AddReLU(name+".add", h, short, b.opt.Exec.Threads())
}

// convBN is a bias-free 3×3 convolution (with its dropout site) followed by
// BatchNorm, and by a ReLU if relu is set. An evaluation graph fuses them,
// adding res (when not nil) before the ReLU.
func (b *builder) convBN(conv, bn string, x *G.Node, maps, stride int, needDx, relu bool, res *G.Node) (*G.Node, error) {
	w, affine := b.convBNParams(conv, bn, x.Shape()[1], maps)
	spec := dropout.ConvSpec{Name: conv, K: 3, Pad: 1, Stride: stride, Mode: b.mode(), InputGrad: needDx, Threads: b.opt.Exec.Threads(), Im2col: b.opt.Im2col, Kernels: b.opt.Kernels}
	if !b.opt.Train {
		// Evaluation normalises with fixed statistics, which the convolution
		// applies as it writes each image: one pass over the maps less.
		spec.Post = &dropout.Post{ReLU: relu, Residual: res, Affine: affine}
		return dropout.Conv(spec, x, nil, w, nil)
	}
	h, err := dropout.Conv(spec, x, b.site(conv, x), w, nil)
	if err != nil {
		return nil, err
	}
	gamma, beta := b.params[len(b.params)-2].Node, b.params[len(b.params)-1].Node
	cfg := layers.BNConfig{Name: bn, Train: b.opt.Train, Momentum: bnMomentum, Threads: b.opt.Exec.Threads(), ReLU: relu}
	return layers.BatchNorm(cfg, h, gamma, beta, b.bn[bn])
}

// convBNParams adds conv's 3×3 weights (c to maps channels) and bn's γ, β
// and running statistics, returning the weights and the affine map an
// evaluation BatchNorm applies with the current γ, β and statistics.
func (b *builder) convBNParams(conv, bn string, c, maps int) (*G.Node, func(mu, g, b []float32)) {
	w := b.param(conv+"/W", tensor.Shape{maps, c, 3, 3}, math.Sqrt(2/float64(c*9)), false)
	b.param(bn+"/gamma", tensor.Shape{maps}, 0, false)
	b.param(bn+"/beta", tensor.Shape{maps}, 0, true)
	gamma, beta := b.params[len(b.params)-2], b.params[len(b.params)-1]
	gamma.Const = 1
	stats, ok := b.bn[bn]
	if !ok {
		stats = layers.NewBNStats(maps)
		b.bn[bn] = stats
	}
	return w, func(mu, g, sh []float32) {
		stats.EvalAffine(mu, g, sh, gamma.Data(), beta.Data(), 0)
	}
}
