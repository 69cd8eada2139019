package layers

import (
	"fmt"

	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Add adds a + b element-wise (the residual sum of a basic block) with up to threads workers.
func Add(name string, a, b *G.Node, threads int) (*G.Node, error) {
	return add("add:"+name, false, a, b, threads)
}

// AddReLU adds max(a + b, 0): a basic block's sum and its final ReLU in one pass.
func AddReLU(name string, a, b *G.Node, threads int) (*G.Node, error) {
	return add("addrelu:"+name, true, a, b, threads)
}

func add(name string, relu bool, a, b *G.Node, threads int) (*G.Node, error) {
	var buf opbase.Buffer
	in, out := opbase.Same(2)
	return opbase.Apply(opbase.Spec{
		Name: name, In: in, Out: out,
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			if !in[0].Eq(in[1]) {
				return nil, fmt.Errorf("%s: shapes %v and %v differ", name, in[0], in[1])
			}
			return in[0].Clone(), nil
		},
		Forward: func(vs []G.Value) (G.Value, error) {
			a, b := opbase.F32(vs[0]), opbase.F32(vs[1])
			out := buf.Get(vs[0].Shape(), false)
			od := out.Float32s()
			b = b[:len(a)]
			kernels.ParallelChunks(len(a), threads, func(lo, hi int) {
				if relu {
					kernels.AddReLU(od[lo:hi], a[lo:hi], b[lo:hi])
					return
				}
				for i := lo; i < hi; i++ {
					od[i] = a[i] + b[i]
				}
			})
			return out, nil
		},
		Diff: []bool{true, true},
		Backward: func(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
			if relu {
				d, err := opbase.Apply(reluGrad(name+"/relu", threads), output, grad)
				return G.Nodes{d, d}, err
			}
			return G.Nodes{grad, grad}, nil
		},
	}, a, b)
}

// ShortcutA is He et al.'s option-A shortcut: subsample by stride and pad the
// channels with zeros on both sides up to outC (no parameters).
func ShortcutA(name string, x *G.Node, stride, outC, threads int) (*G.Node, error) {
	op, err := newShortcut("shortcut:"+name, x.Shape(), stride, outC, threads)
	if err != nil {
		return nil, err
	}
	return opbase.Apply(opbase.Spec{
		Name: op.name, In: opbase.Ts(4), Out: opbase.T(4),
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			if len(in[0]) != 4 || !in[0][1:].Eq(tensor.Shape{op.c, op.h, op.w}) {
				return nil, fmt.Errorf("%s: input %v is not the N×%d×%d×%d it was built for", op.name, in[0], op.c, op.h, op.w)
			}
			return tensor.Shape{in[0][0], op.outC, op.oh, op.ow}, nil
		},
		Forward: op.forward,
		Diff:    []bool{true},
		Backward: func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
			d, err := opbase.Apply(opbase.Spec{
				Name: op.name + "/dx", In: opbase.Ts(4), Out: opbase.T(4),
				Shape: func(in []tensor.Shape) (tensor.Shape, error) {
					return tensor.Shape{in[0][0], op.c, op.h, op.w}, nil
				},
				Forward: op.grad,
			}, grad)
			return G.Nodes{d}, err
		},
	}, x)
}

// shortcutOp is one option-A shortcut from c maps of h×w pixels.
type shortcutOp struct {
	name            string
	c, h, w, oh, ow int
	stride, outC    int
	threads         int
	out, dxOut      opbase.Buffer
}

// newShortcut returns the shortcut of an input of shape s.
func newShortcut(name string, s tensor.Shape, stride, outC, threads int) (*shortcutOp, error) {
	if len(s) != 4 || outC < s[1] || (outC-s[1])%2 != 0 {
		return nil, fmt.Errorf("%s: cannot pad %v to %d channels", name, s, outC)
	}
	return &shortcutOp{name: name, c: s[1], h: s[2], w: s[3], oh: (s[2] + stride - 1) / stride, ow: (s[3] + stride - 1) / stride,
		stride: stride, outC: outC, threads: threads}, nil
}

func (op *shortcutOp) forward(vs []G.Value) (G.Value, error) {
	x := opbase.F32(vs[0])
	n := vs[0].Shape()[0]
	out := op.out.Get(tensor.Shape{n, op.outC, op.oh, op.ow}, false)
	od := out.Float32s()
	img, in := op.outC*op.oh*op.ow, op.c*op.h*op.w
	kernels.Parallel(n, op.threads, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			kernels.ShortcutA(od[i*img:(i+1)*img], x[i*in:(i+1)*in], op.c, op.h, op.w, op.outC, op.stride)
		}
	})
	return out, nil
}

// grad routes δ back to the pixels the shortcut kept.
func (op *shortcutOp) grad(vs []G.Value) (G.Value, error) {
	d := opbase.F32(vs[0])
	n := vs[0].Shape()[0]
	out := op.dxOut.Get(tensor.Shape{n, op.c, op.h, op.w}, false)
	od := out.Float32s()
	img, oimg := op.c*op.h*op.w, len(d)/n
	kernels.Parallel(n, op.threads, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			kernels.ShortcutAGrad(od[i*img:(i+1)*img], d[i*oimg:(i+1)*oimg], op.c, op.h, op.w, op.outC, op.stride)
		}
	})
	return out, nil
}
