package dropout

import (
	"fmt"

	"github.com/dropexp/dropexp/internal/conv"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConvSpec describes a 2-D convolution (square kernel) with an optional dropout site on its input.
type ConvSpec struct {
	Name      string
	K, Pad    int
	Stride    int
	Mode      Mode // zero Mode: no site
	InputGrad bool // false when the input is data and needs no gradient
	// KeepCols trades memory (N·C·k²·OH·OW floats) for one im2col less per
	// step on the im2col path, when the weight gradient sees the features
	// the forward pass saw (the direct convolution keeps its padded planes
	// instead, without being asked: they are hardly larger than the input).
	KeepCols bool
	// Im2col turns the direct convolution off (tests compare the two paths).
	Im2col bool
	// Kernels is the kernel set (conv.Options.Kernels).
	Kernels experiment.Kernels
	Threads int
	// Post, in an evaluation graph, normalises the output as it is written.
	Post *Post
}

// Post is an evaluation BatchNorm fused into a convolution: the output is
// (z − μ[m])·g[m] + b[m] per map m, then max(·, 0) with ReLU, computed by
// the same kernels as the BatchNorm op so the bits are the same, but while
// each image's maps are still in cache instead of in a pass of its own.
type Post struct {
	// Affine fills μ, g and b (one per output map) before each run, from
	// the current parameters and running statistics.
	Affine func(mu, g, b []float32)
	ReLU   bool
	// Residual, when not nil, is added after the normalisation and before
	// the ReLU: a basic block's second convolution, BatchNorm and sum.
	Residual *G.Node
}

// convLayer is one convolution of a graph: its geometry and the strategy
// of each pass (internal/conv), chosen when the layer is added (forward)
// and when the graph gets its backward pass (the gradients).
type convLayer struct {
	spec ConvSpec
	geom conv.Geom
	lay  layout
	// sameMask: the weight gradient sees exactly the features the forward
	// pass convolved, so what the forward pass keeps can serve it.
	sameMask bool
	epi      *conv.Epilogue // spec.Post's epilogue; nil in a training graph
	fwd      conv.Forward
	dx       conv.InputGrad
	dw       conv.WeightGrad
	// saved is the state the forward pass writes and the weight gradient
	// reads (nil: none). It is set with dx and dw, as Gorgonia builds the
	// backward pass after the forward op.
	saved             *conv.Saved
	out, dxOut, dwOut opbase.Buffer
}

func (l *convLayer) options() conv.Options {
	return conv.Options{Threads: l.spec.Threads, Im2col: l.spec.Im2col, KeepCols: l.spec.KeepCols, Kernels: l.spec.Kernels}
}

// Conv adds z = conv(h ⊙ mf, W) + b to the graph, with the backward pass of
// docs/DESIGN.md §1: ∂J/∂h = (Wᵀδ) ⊙ mb and ∂J/∂W = δ (h ⊙ mb)ᵀ (layer semantics) or
// δ (h ⊙ mf)ᵀ (elementwise). site may be nil (no dropout) and b may be nil.
func Conv(spec ConvSpec, h *G.Node, site *Site, w, b *G.Node) (*G.Node, error) {
	if spec.Stride == 0 {
		spec.Stride = 1
	}
	if site == nil {
		spec.Mode = Mode{}
	}
	hs, ws := h.Shape(), w.Shape()
	if len(hs) != 4 || len(ws) != 4 || ws[1] != hs[1] || ws[2] != spec.K || ws[3] != spec.K {
		return nil, fmt.Errorf("%s: input %v and weights %v do not fit a %dx%d convolution", spec.Name, hs, ws, spec.K, spec.K)
	}
	l := &convLayer{spec: spec, lay: layout{masked: spec.Mode.Masked(), bias: b != nil}}
	l.geom = conv.NewGeom(hs[1], hs[2], hs[3], ws[0], spec.K, spec.Pad, spec.Stride)
	m := spec.Mode
	switch m.weightMask() {
	case 0:
		l.sameMask = !m.UseF
	case 'f':
		l.sameMask = true
	case 'b':
		l.sameMask = m.UseF && site.MF == site.MB
	}
	l.fwd = conv.PlanForward(l.geom, l.options())
	ins := l.lay.nodes(h, site, w, b)
	types := l.lay.types(opbase.T(4), opbase.T(4))
	if spec.Post != nil {
		l.epi = &conv.Epilogue{Affine: spec.Post.Affine, ReLU: spec.Post.ReLU}
		if r := spec.Post.Residual; r != nil {
			ins, types = append(ins, r), append(types, opbase.T(4))
		}
	}
	return opbase.Apply(opbase.Spec{
		Name:     "conv:" + spec.Name,
		In:       types,
		Out:      opbase.T(4),
		Shape:    l.shape,
		Forward:  l.forward,
		Diff:     l.lay.diffWRT(len(ins), spec.InputGrad),
		Backward: l.backward,
		Extern:   kernels.Backend != "gonum",
		Pass:     opbase.ForwardPass,
		Flops:    l.flopsOf(0), // h is input 0 (layout.positions)
	}, ins...)
}

func (l *convLayer) shape(in []tensor.Shape) (tensor.Shape, error) {
	hi, _, _, wi, _ := l.lay.positions()
	g, hs, ws := l.geom, in[hi], in[wi]
	if len(hs) != 4 || !hs[1:].Eq(tensor.Shape{g.C, g.H, g.W}) || !ws.Eq(l.wShape()) {
		return nil, fmt.Errorf("%s: input %v and weights %v are not the %v and %v the layer was built for", l.spec.Name, hs, ws, tensor.Shape{g.C, g.H, g.W}, l.wShape())
	}
	return tensor.Shape{hs[0], g.M, g.OH, g.OW}, nil
}

// flopsOf returns the Spec.Flops of a pass whose batch is input i's first axis.
func (l *convLayer) flopsOf(i int) func([]G.Value) float64 {
	return func(vs []G.Value) float64 { return l.geom.Flops(vs[i].Shape()[0]) }
}

func (l *convLayer) wShape() tensor.Shape {
	return tensor.Shape{l.geom.M, l.geom.C, l.geom.K, l.geom.K}
}

func (l *convLayer) forward(vs []G.Value) (G.Value, error) {
	hi, mfi, _, wi, bi := l.lay.positions()
	h, w := opbase.F32(vs[hi]), opbase.F32(vs[wi])
	var mf, bias, res []float32
	if l.spec.Mode.UseF {
		mf = opbase.F32(vs[mfi])
	}
	if bi >= 0 {
		bias = opbase.F32(vs[bi])
	}
	g, n := l.geom, vs[hi].Shape()[0]
	out := l.out.Get(tensor.Shape{n, g.M, g.OH, g.OW}, false)
	if l.epi != nil {
		if l.spec.Post.Residual != nil {
			res = opbase.F32(vs[len(vs)-1])
		}
		l.epi.Refresh(g.M)
	}
	l.fwd.Forward(out.Float32s(), h, mf, w, bias, l.epi, res, l.saved, n)
	return out, nil
}

// backward plans the gradients and adds their ops: ∂J/∂h from (W, δ[, mb])
// and ∂J/∂W from (h, δ[, the mask the semantics pick]).
func (l *convLayer) backward(ins G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	name := "conv:" + l.spec.Name
	if l.spec.Post != nil {
		return nil, fmt.Errorf("%s: a convolution with a fused evaluation BatchNorm has no gradient", name)
	}
	l.dx, l.dw, l.saved = conv.PlanBackward(l.geom, l.options(), l.fwd, l.sameMask)
	g := l.geom
	dh := opbase.New(opbase.Spec{
		Name: name + "/dh",
		In:   opbase.Ts(4, 4, 4)[:2+b2i(l.spec.Mode.UseB)],
		Out:  opbase.T(4),
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			return tensor.Shape{in[1][0], g.C, g.H, g.W}, nil
		},
		Forward: func(vs []G.Value) (G.Value, error) {
			n := vs[1].Shape()[0]
			out := l.dxOut.Get(tensor.Shape{n, g.C, g.H, g.W}, false)
			l.dx.InputGrad(out.Float32s(), opbase.F32(vs[0]), opbase.F32(vs[1]), optF32(vs, 2), n)
			return out, nil
		},
		Pass:  opbase.InputGradPass,
		Flops: l.flopsOf(1),
	})
	dW := opbase.New(opbase.Spec{
		Name:  name + "/dW",
		In:    opbase.Ts(4, 4, 4)[:2+b2i(l.spec.Mode.weightMask() != 0)],
		Out:   opbase.T(4),
		Shape: func([]tensor.Shape) (tensor.Shape, error) { return l.wShape(), nil },
		Forward: func(vs []G.Value) (G.Value, error) {
			out := l.dwOut.Get(l.wShape(), false)
			l.dw.WeightGrad(out.Float32s(), opbase.F32(vs[0]), opbase.F32(vs[1]), optF32(vs, 2), l.saved, vs[0].Shape()[0])
			return out, nil
		},
		Pass:  opbase.WeightGradPass,
		Flops: l.flopsOf(0),
	})
	return l.lay.backward(l.spec.Mode, l.spec.InputGrad, name, ins, grad, dh, dW, l.spec.Threads)
}

// b2i is 1 for true, 0 for false: whether an optional input is there.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// optF32 returns the data of vs[i], or nil when there is no input i.
func optF32(vs []G.Value, i int) []float32 {
	if i < len(vs) {
		return opbase.F32(vs[i])
	}
	return nil
}
