package dropout

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LinearSpec describes a fully connected layer with an optional dropout site on its input.
type LinearSpec struct {
	Name      string
	Mode      Mode
	InputGrad bool
	Threads   int
}

// The matrix multiplies of a fully connected layer are cut into blocks of
// about rowBlock rows of the batch (forward, input gradient) or colBlock
// input features (weight gradient), whatever the thread count: OpenBLAS
// gives an element different bits in a block of another shape (its edge
// kernels), so blocks cut by thread count would make the numbers depend
// on it.
const rowBlock, colBlock = 32, 128

// rowBlocks returns how many blocks n rows are cut into.
func rowBlocks(n int) int { return max(1, (n+rowBlock-1)/rowBlock) }

// linearLayer is one fully connected layer of a graph: h (N×…, D features
// per row) times Wᵀ (W is M×D).
type linearLayer struct {
	spec              LinearSpec
	lay               layout
	in                tensor.Shape // h's shape when the layer was added
	d, m              int
	out, dxOut, dwOut opbase.Buffer
	tmp, dwTmp        opbase.Floats
}

// Linear adds z = (h ⊙ mf) Wᵀ + b, flattening h to N×D; W is M×D (Caffe's
// InnerProduct layout). Its backward pass follows docs/DESIGN.md §1 like Conv's.
func Linear(spec LinearSpec, h *G.Node, site *Site, w, b *G.Node) (*G.Node, error) {
	if site == nil {
		spec.Mode = Mode{}
	}
	hs, ws := h.Shape(), w.Shape()
	d := hs.TotalSize() / hs[0]
	if len(ws) != 2 || ws[1] != d {
		return nil, fmt.Errorf("%s: input %v (%d features) does not fit weights %v", spec.Name, hs, d, ws)
	}
	l := &linearLayer{spec: spec, lay: layout{masked: spec.Mode.Masked(), bias: b != nil}, in: hs.Clone(), d: d, m: ws[0]}
	ins := l.lay.nodes(h, site, w, b)
	// h and the masks may have any rank (a conv feature map feeds ip1 directly).
	return opbase.Apply(opbase.Spec{
		Name:     "linear:" + spec.Name,
		In:       l.lay.types(hm.TypeVariable('a'), opbase.T(2)),
		Out:      opbase.T(2),
		Shape:    l.shape,
		Forward:  l.forward,
		Diff:     l.lay.diffWRT(len(ins), spec.InputGrad),
		Backward: l.backward,
		Pass:     opbase.ForwardPass,
		Flops:    l.flopsOf(0), // h is input 0 (layout.positions)
	}, ins...)
}

func (l *linearLayer) shape(in []tensor.Shape) (tensor.Shape, error) {
	hi, _, _, wi, _ := l.lay.positions()
	hs, ws := in[hi], in[wi]
	if hs.TotalSize()/hs[0] != l.d || !ws.Eq(tensor.Shape{l.m, l.d}) {
		return nil, fmt.Errorf("%s: input %v and weights %v are not the %v and %v the layer was built for", l.spec.Name, hs, ws, l.in, tensor.Shape{l.m, l.d})
	}
	return tensor.Shape{hs[0], l.m}, nil
}

func (l *linearLayer) forward(vs []G.Value) (G.Value, error) {
	s := &l.spec
	hi, mfi, _, wi, bi := l.lay.positions()
	h, w := opbase.F32(vs[hi]), opbase.F32(vs[wi])
	n := vs[hi].Shape()[0]
	if s.Mode.UseF {
		tmp := l.tmp.Get(len(h))
		kernels.MulTo(tmp, h, opbase.F32(vs[mfi]))
		h = tmp
	}
	out := l.out.Get(tensor.Shape{n, l.m}, false)
	od := out.Float32s()
	var bias []float32
	if bi >= 0 {
		bias = opbase.F32(vs[bi])
	}
	nb := rowBlocks(n)
	kernels.Parallel(nb, s.Threads, func(_, b0, b1 int) {
		for b := b0; b < b1; b++ {
			lo, hi := kernels.Block(n, nb, b)
			kernels.Gemm(false, true, hi-lo, l.m, l.d, h[lo*l.d:hi*l.d], l.d, w, l.d, 0, od[lo*l.m:hi*l.m], l.m)
			for i := lo; i < hi; i++ {
				row := od[i*l.m : (i+1)*l.m]
				for j, bv := range bias {
					row[j] += bv
				}
			}
		}
	})
	return out, nil
}

// backward adds ∂J/∂h = (δ W) ⊙ mb from (W, δ[, mb]) and ∂J/∂W = δᵀ (h ⊙ m)
// from (h, δ[, m]).
func (l *linearLayer) backward(ins G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	name := "linear:" + l.spec.Name
	a := hm.TypeVariable('a')
	dxIn, dxOut := []hm.Type{opbase.T(2), opbase.T(2)}, opbase.T(len(l.in))
	if l.spec.Mode.UseB {
		dxIn, dxOut = append(dxIn, a), a
	}
	dh := opbase.New(opbase.Spec{
		Name: name + "/dh",
		In:   dxIn,
		Out:  dxOut,
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			return l.inShape(in[1][0]), nil
		},
		Forward: l.inputGrad,
		Pass:    opbase.InputGradPass,
		Flops:   l.flopsOf(1),
	})
	dwIn := []hm.Type{a, opbase.T(2)}
	if l.spec.Mode.weightMask() != 0 {
		dwIn = append(dwIn, a)
	}
	dW := opbase.New(opbase.Spec{
		Name:    name + "/dW",
		In:      dwIn,
		Out:     opbase.T(2),
		Shape:   func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{l.m, l.d}, nil },
		Forward: l.weightGrad,
		Pass:    opbase.WeightGradPass,
		Flops:   l.flopsOf(0),
	})
	return l.lay.backward(l.spec.Mode, l.spec.InputGrad, name, ins, grad, dh, dW, l.spec.Threads)
}

// flopsOf returns the Spec.Flops of a pass whose batch is input i's first axis.
func (l *linearLayer) flopsOf(i int) func([]G.Value) float64 {
	return func(vs []G.Value) float64 { return 2 * float64(vs[i].Shape()[0]) * float64(l.d*l.m) }
}

// inShape is h's shape for a batch of n.
func (l *linearLayer) inShape(n int) tensor.Shape {
	s := l.in.Clone()
	s[0] = n
	return s
}

// inputGrad computes ∂J/∂h = (δ W) ⊙ mb; inputs W, δ[, mb].
func (l *linearLayer) inputGrad(vs []G.Value) (G.Value, error) {
	w, d := opbase.F32(vs[0]), opbase.F32(vs[1])
	n := vs[1].Shape()[0]
	out := l.dxOut.Get(l.inShape(n), false)
	od := out.Float32s()
	nb := rowBlocks(n)
	kernels.Parallel(nb, l.spec.Threads, func(_, b0, b1 int) {
		for b := b0; b < b1; b++ {
			lo, hi := kernels.Block(n, nb, b)
			kernels.Gemm(false, false, hi-lo, l.d, l.m, d[lo*l.m:hi*l.m], l.m, w, l.d, 0, od[lo*l.d:hi*l.d], l.d)
			if len(vs) == 3 {
				kernels.Mul(od[lo*l.d:hi*l.d], opbase.F32(vs[2])[lo*l.d:hi*l.d])
			}
		}
	})
	return out, nil
}

// weightGrad computes ∂J/∂W = δᵀ (h ⊙ m); inputs h, δ[, m].
func (l *linearLayer) weightGrad(vs []G.Value) (G.Value, error) {
	h, d := opbase.F32(vs[0]), opbase.F32(vs[1])
	n := vs[0].Shape()[0]
	if len(vs) == 3 {
		tmp := l.dwTmp.Get(len(h))
		kernels.MulTo(tmp, h, opbase.F32(vs[2]))
		h = tmp
	}
	out := l.dwOut.Get(tensor.Shape{l.m, l.d}, false)
	od := out.Float32s()
	// Blocks of output columns, so workers never write the same element;
	// their width does not depend on the threads (see rowBlocks).
	nb := (l.d + colBlock - 1) / colBlock
	kernels.Parallel(nb, l.spec.Threads, func(_, b0, b1 int) {
		for b := b0; b < b1; b++ {
			lo, hi := kernels.Block(l.d, nb, b)
			kernels.Gemm(true, false, l.m, hi-lo, n, d, l.m, h[lo:], l.d, 0, od[lo:], l.d)
		}
	})
	return out, nil
}
