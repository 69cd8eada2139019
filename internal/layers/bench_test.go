package layers

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// benchShape is ResNet-20's largest activation: a batch of 128 with 16 maps of 32×32.
var benchShape = tensor.Shape{128, 16, 32, 32}

func randDense(s tensor.Shape, relu bool) *tensor.Dense {
	rng := rand.New(rand.NewPCG(1, 2))
	d := make([]float32, s.TotalSize())
	for i := range d {
		d[i] = float32(rng.NormFloat64())
		if relu {
			d[i] = max(d[i], 0)
		}
	}
	return tensor.New(tensor.WithShape(s...), tensor.WithBacking(d))
}

func benchOp(b *testing.B, do func([]G.Value) (G.Value, error), vs ...G.Value) {
	b.SetBytes(int64(benchShape.TotalSize() * 4))
	for i := 0; i < b.N; i++ {
		if _, err := do(vs); err != nil {
			b.Fatal(err)
		}
	}
}

// forwardOf returns the forward function of the op of node n.
func forwardOf(b *testing.B, n *G.Node, err error) func([]G.Value) (G.Value, error) {
	if err != nil {
		b.Fatal(err)
	}
	return func(vs []G.Value) (G.Value, error) { return n.Op().Do(vs...) }
}

func BenchmarkReLU(b *testing.B) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(benchShape...))
	n, err := ReLU("relu", x, 2)
	benchOp(b, forwardOf(b, n, err), randDense(benchShape, false))
}

func BenchmarkReLUGrad(b *testing.B) {
	benchOp(b, reluGrad("relu/dx", 2).Forward, randDense(benchShape, true), randDense(benchShape, false))
}

func benchBN() (*bnOp, *tensor.Dense, *tensor.Dense) {
	c := benchShape[1]
	op := &bnOp{name: "bn", cfg: BNConfig{Train: true, Momentum: 0.1, Eps: 1e-5, Threads: 2}, stats: NewBNStats(c)}
	return op, randDense(tensor.Shape{c}, false), randDense(tensor.Shape{c}, false)
}

func BenchmarkBatchNorm(b *testing.B) {
	op, g, be := benchBN()
	benchOp(b, op.forward, randDense(benchShape, false), g, be)
}

func BenchmarkBatchNormGrad(b *testing.B) {
	op, g, be := benchBN()
	x, d := randDense(benchShape, false), randDense(benchShape, false)
	if _, err := op.forward([]G.Value{x, g, be}); err != nil {
		b.Fatal(err)
	}
	benchOp(b, op.sumsForward, d, x, g)
}

func BenchmarkMaxPool(b *testing.B) {
	for _, train := range []bool{false, true} {
		b.Run(map[bool]string{false: "eval", true: "train"}[train], func(b *testing.B) {
			op, err := newPool("pool", MaxPool, benchShape, 3, 0, 2, 2)
			if err != nil {
				b.Fatal(err)
			}
			op.withArg = train
			benchOp(b, op.forward, randDense(benchShape, false))
		})
	}
}

// BenchmarkPool times ConvNet-Quick's three poolings (3×3, stride 2) on a
// batch of 100, one thread: forward with the argmax a training graph
// keeps, and back.
func BenchmarkPool(b *testing.B) {
	for _, tc := range []struct {
		name string
		kind PoolKind
		c, h int
	}{{"max32", MaxPool, 32, 32}, {"avg16", AvgPool, 32, 16}, {"avg8", AvgPool, 64, 8}} {
		s := tensor.Shape{100, tc.c, tc.h, tc.h}
		op, err := newPool("pool", tc.kind, s, 3, 0, 2, 1)
		if err != nil {
			b.Fatal(err)
		}
		op.withArg = true
		x := randDense(s, true)
		d := randDense(tensor.Shape{100, tc.c, op.oh, op.ow}, false)
		b.Run(tc.name+"/forward", func(b *testing.B) {
			b.SetBytes(int64(s.TotalSize() * 4))
			for b.Loop() {
				if _, err := op.forward([]G.Value{x}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/backward", func(b *testing.B) {
			b.SetBytes(int64(s.TotalSize() * 4))
			for b.Loop() {
				if _, err := op.grad([]G.Value{d}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
