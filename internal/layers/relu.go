package layers

import (
	"github.com/chewxy/hm"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ReLU adds max(x, 0) element-wise, computed by up to threads workers.
func ReLU(name string, x *G.Node, threads int) (*G.Node, error) {
	return G.ApplyOp(&reluOp{Base: opbase.Base{Name: "relu:" + name}, threads: threads}, x)
}

type reluOp struct {
	opbase.Base
	threads int
	out     opbase.Buffer
}

func (op *reluOp) Arity() int { return 1 }
func (op *reluOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op *reluOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := opbase.Shape(ds[0])
	return s.Clone(), err
}
func (op *reluOp) Do(vs ...G.Value) (G.Value, error) {
	x := opbase.F32(vs[0])
	out := op.out.Get(vs[0].Shape(), false)
	od := out.Float32s()
	kernels.ParallelChunks(len(x), op.threads, func(lo, hi int) { kernels.ReLU(od[lo:hi], x[lo:hi]) })
	return out, nil
}
func (op *reluOp) DiffWRT(int) []bool { return []bool{true} }
func (op *reluOp) SymDiff(ins G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&reluGrad{Base: opbase.Base{Name: op.Name + "/dx"}, threads: op.threads}, output, grad)
	return G.Nodes{d}, err
}

// reluGrad passes δ where the output was positive; inputs y, δ.
type reluGrad struct {
	opbase.Base
	threads int
	out     opbase.Buffer
}

func (op *reluGrad) Arity() int { return 2 }
func (op *reluGrad) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}
func (op *reluGrad) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := opbase.Shape(ds[0])
	return s.Clone(), err
}
func (op *reluGrad) Do(vs ...G.Value) (G.Value, error) {
	y, d := opbase.F32(vs[0]), opbase.F32(vs[1])
	out := op.out.Get(vs[0].Shape(), false)
	od := out.Float32s()
	d = d[:len(y)]
	kernels.ParallelChunks(len(y), op.threads, func(lo, hi int) { kernels.ReLUGrad(od[lo:hi], y[lo:hi], d[lo:hi]) })
	return out, nil
}
