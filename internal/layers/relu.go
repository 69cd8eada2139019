package layers

import (
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
)

// ReLU adds max(x, 0) element-wise, computed by up to threads workers.
func ReLU(name string, x *G.Node, threads int) (*G.Node, error) {
	name = "relu:" + name
	var buf opbase.Buffer
	in, out := opbase.Same(1)
	return opbase.Apply(opbase.Spec{
		Name: name, In: in, Out: out, Shape: opbase.SameShape,
		Forward: func(vs []G.Value) (G.Value, error) {
			x := opbase.F32(vs[0])
			out := buf.Get(vs[0].Shape(), false)
			od := out.Float32s()
			kernels.ParallelChunks(len(x), threads, func(lo, hi int) { kernels.ReLU(od[lo:hi], x[lo:hi]) })
			return out, nil
		},
		Diff: []bool{true},
		Backward: func(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
			d, err := opbase.Apply(reluGrad(name+"/dx", threads), output, grad)
			return G.Nodes{d}, err
		},
	}, x)
}

// reluGrad passes δ where the output was positive; inputs y, δ.
func reluGrad(name string, threads int) opbase.Spec {
	var buf opbase.Buffer
	in, out := opbase.Same(2)
	return opbase.Spec{
		Name: name, In: in, Out: out, Shape: opbase.SameShape,
		Forward: func(vs []G.Value) (G.Value, error) {
			y, d := opbase.F32(vs[0]), opbase.F32(vs[1])
			out := buf.Get(vs[0].Shape(), false)
			od := out.Float32s()
			d = d[:len(y)]
			kernels.ParallelChunks(len(y), threads, func(lo, hi int) { kernels.ReLUGrad(od[lo:hi], y[lo:hi], d[lo:hi]) })
			return out, nil
		},
	}
}
