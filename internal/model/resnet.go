package model

import (
	"fmt"
	"math"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// resnetSites lists the dropout sites of a CIFAR ResNet with n blocks per
// stage: the stem conv, both convs of every block (sXbY.conv1, sXbY.conv2) and fc.
func resnetSites(n int) []string {
	s := []string{"conv1"}
	for st := 1; st <= 3; st++ {
		for bl := 1; bl <= n; bl++ {
			s = append(s, fmt.Sprintf("s%db%d.conv1", st, bl), fmt.Sprintf("s%db%d.conv2", st, bl))
		}
	}
	return append(s, "fc")
}

// bnMomentum is the weight of each new batch in the running statistics (PyTorch's default).
const bnMomentum = 0.1

// resnet builds He et al.'s CIFAR ResNet-(6n+2) (SPEC §2): 3×3 conv 16 → BN →
// ReLU → 3 stages × n basic blocks (16, 32, 64 maps) → global average pool → fc.
func (b *builder) resnet(x *G.Node, n int) (*G.Node, error) {
	h, err := b.convBN("conv1", "bn1", x, 16, 1, b.opt.InputNeedsDx, true, nil)
	if err != nil {
		return nil, err
	}
	for st, maps := range []int{16, 32, 64} {
		for bl := 1; bl <= n; bl++ {
			stride := 1
			if st > 0 && bl == 1 {
				stride = 2
			}
			if h, err = b.basicBlock(fmt.Sprintf("s%db%d", st+1, bl), h, maps, stride); err != nil {
				return nil, err
			}
		}
	}
	s := h.Shape()
	if h, err = layers.Pool("gap", layers.AvgPool, h, s[2], 0, 1, b.opt.Threads); err != nil {
		return nil, err
	}
	d := s[1]
	w := b.param("fc/W", tensor.Shape{b.opt.Classes, d}, math.Sqrt(2/float64(d)), false)
	bias := b.param("fc/b", tensor.Shape{b.opt.Classes}, 0, true)
	spec := dropout.LinearSpec{Name: "fc", Mode: b.mode(), InputGrad: true, Threads: b.opt.Threads}
	return dropout.Linear(spec, h, b.site("fc", h), w, bias)
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
		if short, err = layers.ShortcutA(name+".shortcut", x, stride, maps, b.opt.Threads); err != nil {
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
	return layers.AddReLU(name+".add", h, short, b.opt.Threads)
}

// convBN is a bias-free 3×3 convolution (with its dropout site) followed by
// BatchNorm, and by a ReLU if relu is set. An evaluation graph fuses them,
// adding res (when not nil) before the ReLU.
func (b *builder) convBN(conv, bn string, x *G.Node, maps, stride int, needDx, relu bool, res *G.Node) (*G.Node, error) {
	c := x.Shape()[1]
	w := b.param(conv+"/W", tensor.Shape{maps, c, 3, 3}, math.Sqrt(2/float64(c*9)), false)
	gamma := b.param(bn+"/gamma", tensor.Shape{maps}, 0, false)
	beta := b.param(bn+"/beta", tensor.Shape{maps}, 0, true)
	b.params[len(b.params)-2].Const = 1
	stats, ok := b.bn[bn]
	if !ok {
		stats = layers.NewBNStats(maps)
		b.bn[bn] = stats
	}
	spec := dropout.ConvSpec{Name: conv, K: 3, Pad: 1, Stride: stride, Mode: b.mode(), InputGrad: needDx, Threads: b.opt.Threads}
	if !b.opt.Train {
		// Evaluation normalises with fixed statistics, which the convolution
		// applies as it writes each image: one pass over the maps less.
		g, be := b.params[len(b.params)-2].Value, b.params[len(b.params)-1].Value
		spec.Post = &dropout.Post{ReLU: relu, Residual: res, Affine: func(mu, sc, sh []float32) {
			stats.EvalAffine(mu, sc, sh, g.Data().([]float32), be.Data().([]float32), 0)
		}}
		return dropout.Conv(spec, x, nil, w, nil)
	}
	h, err := dropout.Conv(spec, x, b.site(conv, x), w, nil)
	if err != nil {
		return nil, err
	}
	cfg := layers.BNConfig{Name: bn, Train: b.opt.Train, Momentum: bnMomentum, Threads: b.opt.Threads, ReLU: relu}
	return layers.BatchNorm(cfg, h, gamma, beta, stats)
}
