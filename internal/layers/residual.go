package layers

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Add adds a + b element-wise (the residual sum of a basic block) with up to threads workers.
func Add(name string, a, b *G.Node, threads int) (*G.Node, error) {
	return G.ApplyOp(&addOp{Base: opbase.Base{Name: "add:" + name}, threads: threads}, a, b)
}

// AddReLU adds max(a + b, 0): a basic block's sum and its final ReLU in one pass.
func AddReLU(name string, a, b *G.Node, threads int) (*G.Node, error) {
	return G.ApplyOp(&addOp{Base: opbase.Base{Name: "addrelu:" + name}, relu: true, threads: threads}, a, b)
}

type addOp struct {
	opbase.Base
	relu    bool
	threads int
	out     opbase.Buffer
}

func (op *addOp) Arity() int { return 2 }
func (op *addOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}
func (op *addOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	a, err := opbase.Shape(ds[0])
	if err != nil {
		return nil, err
	}
	b, err := opbase.Shape(ds[1])
	if err != nil {
		return nil, err
	}
	if !a.Eq(b) {
		return nil, fmt.Errorf("%s: shapes %v and %v differ", op.Name, a, b)
	}
	return a.Clone(), nil
}
func (op *addOp) Do(vs ...G.Value) (G.Value, error) {
	a, b := opbase.F32(vs[0]), opbase.F32(vs[1])
	out := op.out.Get(vs[0].Shape(), false)
	od := out.Float32s()
	b = b[:len(a)]
	kernels.ParallelChunks(len(a), op.threads, func(lo, hi int) {
		if op.relu {
			kernels.AddReLU(od[lo:hi], a[lo:hi], b[lo:hi])
			return
		}
		for i := lo; i < hi; i++ {
			od[i] = a[i] + b[i]
		}
	})
	return out, nil
}
func (op *addOp) DiffWRT(int) []bool { return []bool{true, true} }
func (op *addOp) SymDiff(ins G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.relu {
		d, err := G.ApplyOp(&reluGrad{Base: opbase.Base{Name: op.Name + "/relu"}, threads: op.threads}, output, grad)
		return G.Nodes{d, d}, err
	}
	return G.Nodes{grad, grad}, nil
}

// ShortcutA is He et al.'s option-A shortcut: subsample by stride and pad the
// channels with zeros on both sides up to outC (no parameters).
func ShortcutA(name string, x *G.Node, stride, outC, threads int) (*G.Node, error) {
	return G.ApplyOp(&shortcutOp{Base: opbase.Base{Name: "shortcut:" + name}, stride: stride, outC: outC, threads: threads}, x)
}

type shortcutOp struct {
	opbase.Base
	stride, outC int
	threads      int
	in           tensor.Shape
	out          opbase.Buffer
}

func (op *shortcutOp) Arity() int    { return 1 }
func (op *shortcutOp) Type() hm.Type { return opbase.Fn(4, 4) }
func (op *shortcutOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := opbase.Shape(ds[0])
	if err != nil {
		return nil, err
	}
	if len(s) != 4 || op.outC < s[1] || (op.outC-s[1])%2 != 0 {
		return nil, fmt.Errorf("%s: cannot pad %v to %d channels", op.Name, s, op.outC)
	}
	op.in = s.Clone()
	return tensor.Shape{s[0], op.outC, (s[2] + op.stride - 1) / op.stride, (s[3] + op.stride - 1) / op.stride}, nil
}

func (op *shortcutOp) Do(vs ...G.Value) (G.Value, error) {
	x := opbase.F32(vs[0])
	s := vs[0].Shape()
	oshape := tensor.Shape{s[0], op.outC, (s[2] + op.stride - 1) / op.stride, (s[3] + op.stride - 1) / op.stride}
	out := op.out.Get(oshape, false)
	od := out.Float32s()
	img := oshape[1] * oshape[2] * oshape[3]
	in := s[1] * s[2] * s[3]
	kernels.Parallel(s[0], op.threads, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			kernels.ShortcutA(od[i*img:(i+1)*img], x[i*in:(i+1)*in], s[1], s[2], s[3], op.outC, op.stride)
		}
	})
	return out, nil
}
func (op *shortcutOp) DiffWRT(int) []bool { return []bool{true} }
func (op *shortcutOp) SymDiff(ins G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&shortcutGrad{Base: opbase.Base{Name: op.Name + "/dx"}, fwd: op}, grad)
	return G.Nodes{d}, err
}

type shortcutGrad struct {
	opbase.Base
	fwd *shortcutOp
	out opbase.Buffer
}

func (op *shortcutGrad) Arity() int    { return 1 }
func (op *shortcutGrad) Type() hm.Type { return opbase.Fn(4, 4) }
func (op *shortcutGrad) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.in.Clone(), nil
}
func (op *shortcutGrad) Do(vs ...G.Value) (G.Value, error) {
	d := opbase.F32(vs[0])
	n := vs[0].Shape()[0]
	s := op.fwd.in.Clone()
	s[0] = n
	out := op.out.Get(s, false)
	od := out.Float32s()
	img, oimg := s[1]*s[2]*s[3], len(d)/n
	kernels.Parallel(n, op.fwd.threads, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			kernels.ShortcutAGrad(od[i*img:(i+1)*img], d[i*oimg:(i+1)*oimg], s[1], s[2], s[3], op.fwd.outC, op.fwd.stride)
		}
	})
	return out, nil
}
