package model

import (
	"github.com/dropexp/dropexp/internal/chain"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convnetQuick builds Caffe's cifar10_quick (docs/DESIGN.md §2):
// conv1 → maxpool → relu → conv2 → relu → avgpool → conv3 → relu → avgpool → ip1 → ip2.
func (b *builder) convnetQuick(x *G.Node) (*G.Node, error) {
	t := b.opt.Exec.Threads()
	conv := func(name string, h *G.Node, out int, std float64, needDx bool) (*G.Node, error) {
		c := h.Shape()[1]
		w := b.param(name+"/W", tensor.Shape{out, c, 5, 5}, std, false)
		bias := b.param(name+"/b", tensor.Shape{out}, 0, true)
		spec := dropout.ConvSpec{Name: name, K: 5, Pad: 2, Stride: 1, Mode: b.mode(), InputGrad: needDx, Threads: t, KeepCols: true, Im2col: b.opt.Im2col, Kernels: b.opt.Kernels}
		return dropout.Conv(spec, h, b.site(name, h), w, bias)
	}
	linear := func(name string, h *G.Node, out int, std float64) (*G.Node, error) {
		d := h.Shape().TotalSize() / h.Shape()[0]
		w := b.param(name+"/W", tensor.Shape{out, d}, std, false)
		bias := b.param(name+"/b", tensor.Shape{out}, 0, true)
		spec := dropout.LinearSpec{Name: name, Mode: b.mode(), InputGrad: true, Threads: t}
		return dropout.Linear(spec, h, b.site(name, h), w, bias)
	}
	var err error
	var steps []func(*G.Node) (*G.Node, error)
	if !b.opt.Train && !b.opt.OpByOp && chain.Available() && !b.opt.Im2col {
		steps = append(steps, b.convnetChain)
	} else {
		steps = append(steps,
			func(h *G.Node) (*G.Node, error) { return conv("conv1", h, 32, 1e-4, b.opt.InputNeedsDx) },
			func(h *G.Node) (*G.Node, error) { return layers.Pool("pool1", layers.MaxPool, h, 3, 0, 2, t) },
			func(h *G.Node) (*G.Node, error) { return layers.ReLU("relu1", h, t) },
			func(h *G.Node) (*G.Node, error) { return conv("conv2", h, 32, 1e-2, true) },
			func(h *G.Node) (*G.Node, error) { return layers.ReLU("relu2", h, t) },
			func(h *G.Node) (*G.Node, error) { return layers.Pool("pool2", layers.AvgPool, h, 3, 0, 2, t) },
			func(h *G.Node) (*G.Node, error) { return conv("conv3", h, 64, 1e-2, true) },
			func(h *G.Node) (*G.Node, error) { return layers.ReLU("relu3", h, t) },
			func(h *G.Node) (*G.Node, error) { return layers.Pool("pool3", layers.AvgPool, h, 3, 0, 2, t) },
		)
	}
	steps = append(steps,
		func(h *G.Node) (*G.Node, error) { return linear("ip1", h, 64, 0.1) },
		func(h *G.Node) (*G.Node, error) { return linear("ip2", h, b.opt.Classes, 0.1) },
	)
	h := x
	for _, step := range steps {
		if h, err = step(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// convnetChain builds conv1 … pool3 for evaluation as one chain op, which
// takes the batch image by image (same bits, fewer trips to memory); the
// evaluation graph has no dropout masks, and a bias is the epilogue's shift.
func (b *builder) convnetChain(x *G.Node) (*G.Node, error) {
	var steps []chain.Step
	in := x.Shape()[1]
	for i, l := range []struct {
		name string
		out  int
		std  float64
		pool chain.Pool
	}{
		{"conv1", 32, 1e-4, chain.Pool{Kind: layers.MaxPool, K: 3, Stride: 2, BeforeReLU: true}},
		{"conv2", 32, 1e-2, chain.Pool{Kind: layers.AvgPool, K: 3, Stride: 2}},
		{"conv3", 64, 1e-2, chain.Pool{Kind: layers.AvgPool, K: 3, Stride: 2}},
	} {
		w := b.param(l.name+"/W", tensor.Shape{l.out, in, 5, 5}, l.std, false)
		b.param(l.name+"/b", tensor.Shape{l.out}, 0, true)
		bias := b.params[len(b.params)-1]
		affine := func(mu, g, sh []float32) {
			for m := range mu {
				mu[m], g[m] = 0, 1
			}
			copy(sh, bias.Data())
		}
		steps = append(steps, chain.Step{Name: l.name, W: w, Stride: 1, Affine: affine, ReLU: true, From: i, Residual: -1, Pool: &l.pool,
			Winograd: b.opt.Kernels.Winograd()})
		in = l.out
	}
	return chain.Apply("convnet", x, steps, b.opt.Exec.Threads())
}
