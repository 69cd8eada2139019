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
	hasBias   bool
	inShape   tensor.Shape
	d, m      int
}

// Linear adds z = (h ⊙ mf) Wᵀ + b, flattening h to N×D; W is M×D (Caffe's
// InnerProduct layout). Its backward pass follows docs/DESIGN.md §1 like Conv's.
func Linear(spec LinearSpec, h *G.Node, site *Site, w, b *G.Node) (*G.Node, error) {
	op := &linearOp{Base: opbase.Base{Name: "linear:" + spec.Name}, spec: spec}
	op.spec.hasBias = b != nil
	if site == nil {
		op.spec.Mode = Mode{}
	}
	return G.ApplyOp(op, op.layout().nodes(h, site, w, b)...)
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

type linearOp struct {
	opbase.Base
	spec LinearSpec
	out  opbase.Buffer
	tmp  opbase.Floats
}

func (op *linearOp) Arity() int { return op.layout().arity() }

// inputs returns the positions of h, mf, mb, W and b among the inputs.
func (op *linearOp) inputs() (h, mf, mb, w, b int) { return op.layout().positions() }

func (op *linearOp) layout() layout {
	return layout{masked: op.spec.Mode.Masked(), bias: op.spec.hasBias}
}

func (op *linearOp) Type() hm.Type {
	// h and the masks may have any rank (a conv feature map feeds ip1 directly).
	a := hm.TypeVariable('a')
	ts := []hm.Type{a}
	if op.spec.Mode.Masked() {
		ts = append(ts, a, a)
	}
	ts = append(ts, opbase.T(2))
	if op.spec.hasBias {
		ts = append(ts, opbase.T(1))
	}
	return hm.NewFnType(append(ts, opbase.T(2))...)
}

func (op *linearOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	hi, _, _, wi, _ := op.inputs()
	hs, err := opbase.Shape(ds[hi])
	if err != nil {
		return nil, err
	}
	ws, err := opbase.Shape(ds[wi])
	if err != nil {
		return nil, err
	}
	d := hs.TotalSize() / hs[0]
	if len(ws) != 2 || ws[1] != d {
		return nil, fmt.Errorf("%s: input %v (%d features) does not fit weights %v", op.spec.Name, hs, d, ws)
	}
	op.spec.inShape, op.spec.d, op.spec.m = hs.Clone(), d, ws[0]
	return tensor.Shape{hs[0], ws[0]}, nil
}

func (op *linearOp) Do(vs ...G.Value) (G.Value, error) {
	s := &op.spec
	hi, mfi, _, wi, bi := op.inputs()
	h, w := opbase.F32(vs[hi]), opbase.F32(vs[wi])
	n := vs[hi].Shape()[0]
	if s.Mode.UseF {
		tmp := op.tmp.Get(len(h))
		kernels.MulTo(tmp, h, opbase.F32(vs[mfi]))
		h = tmp
	}
	out := op.out.Get(tensor.Shape{n, s.m}, false)
	od := out.Float32s()
	var bias []float32
	if bi >= 0 {
		bias = opbase.F32(vs[bi])
	}
	nb := rowBlocks(n)
	kernels.Parallel(nb, s.Threads, func(_, b0, b1 int) {
		for b := b0; b < b1; b++ {
			lo, hi := kernels.Block(n, nb, b)
			kernels.Gemm(false, true, hi-lo, s.m, s.d, h[lo*s.d:hi*s.d], s.d, w, s.d, 0, od[lo*s.m:hi*s.m], s.m)
			for i := lo; i < hi; i++ {
				row := od[i*s.m : (i+1)*s.m]
				for j, bv := range bias {
					row[j] += bv
				}
			}
		}
	})
	return out, nil
}

func (op *linearOp) DiffWRT(n int) []bool { return op.layout().diffWRT(n, op.spec.InputGrad) }

func (op *linearOp) SymDiff(ins G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dh := &linearInputGrad{Base: opbase.Base{Name: op.Name + "/dh"}, fwd: op}
	dW := &linearWeightGrad{Base: opbase.Base{Name: op.Name + "/dW"}, fwd: op}
	return op.layout().backward(op.spec.Mode, op.spec.InputGrad, op.Name, ins, grad, dh, dW, op.spec.Threads)
}

// linearInputGrad computes ∂J/∂h = (δ W) ⊙ mb; inputs W, δ[, mb].
type linearInputGrad struct {
	opbase.Base
	fwd *linearOp
	out opbase.Buffer
}

func (op *linearInputGrad) Arity() int {
	if op.fwd.spec.Mode.UseB {
		return 3
	}
	return 2
}
func (op *linearInputGrad) Type() hm.Type {
	a := hm.TypeVariable('a')
	if op.Arity() == 3 {
		return hm.NewFnType(opbase.T(2), opbase.T(2), a, a)
	}
	return hm.NewFnType(opbase.T(2), opbase.T(2), opbase.T(len(op.fwd.spec.inShape)))
}
func (op *linearInputGrad) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.spec.inShape.Clone(), nil
}
func (op *linearInputGrad) Do(vs ...G.Value) (G.Value, error) {
	s := &op.fwd.spec
	w, d := opbase.F32(vs[0]), opbase.F32(vs[1])
	n := vs[1].Shape()[0]
	shape := s.inShape.Clone()
	shape[0] = n
	out := op.out.Get(shape, false)
	od := out.Float32s()
	nb := rowBlocks(n)
	kernels.Parallel(nb, s.Threads, func(_, b0, b1 int) {
		for b := b0; b < b1; b++ {
			lo, hi := kernels.Block(n, nb, b)
			kernels.Gemm(false, false, hi-lo, s.d, s.m, d[lo*s.m:hi*s.m], s.m, w, s.d, 0, od[lo*s.d:hi*s.d], s.d)
			if len(vs) == 3 {
				kernels.Mul(od[lo*s.d:hi*s.d], opbase.F32(vs[2])[lo*s.d:hi*s.d])
			}
		}
	})
	return out, nil
}

// linearWeightGrad computes ∂J/∂W = δᵀ (h ⊙ m); inputs h, δ[, m].
type linearWeightGrad struct {
	opbase.Base
	fwd *linearOp
	out opbase.Buffer
	tmp opbase.Floats
}

func (op *linearWeightGrad) Arity() int {
	if op.fwd.spec.Mode.weightMask() != 0 {
		return 3
	}
	return 2
}
func (op *linearWeightGrad) Type() hm.Type {
	a := hm.TypeVariable('a')
	if op.Arity() == 3 {
		return hm.NewFnType(a, opbase.T(2), a, opbase.T(2))
	}
	return hm.NewFnType(a, opbase.T(2), opbase.T(2))
}
func (op *linearWeightGrad) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.fwd.spec.m, op.fwd.spec.d}, nil
}
func (op *linearWeightGrad) Do(vs ...G.Value) (G.Value, error) {
	s := &op.fwd.spec
	h, d := opbase.F32(vs[0]), opbase.F32(vs[1])
	n := vs[0].Shape()[0]
	if len(vs) == 3 {
		tmp := op.tmp.Get(len(h))
		kernels.MulTo(tmp, h, opbase.F32(vs[2]))
		h = tmp
	}
	out := op.out.Get(tensor.Shape{s.m, s.d}, false)
	od := out.Float32s()
	// Blocks of output columns, so workers never write the same element;
	// their width does not depend on the threads (see rowBlocks).
	nb := (s.d + colBlock - 1) / colBlock
	kernels.Parallel(nb, s.Threads, func(_, b0, b1 int) {
		for b := b0; b < b1; b++ {
			lo, hi := kernels.Block(s.d, nb, b)
			kernels.Gemm(true, false, s.m, hi-lo, n, d, s.m, h[lo:], s.d, 0, od[lo:], s.d)
		}
	})
	return out, nil
}
