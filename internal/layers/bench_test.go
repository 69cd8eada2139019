package layers

import (
	"math/rand/v2"
	"testing"

	"github.com/dropexp/dropexp/internal/opbase"
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

func benchOp(b *testing.B, do func(...G.Value) (G.Value, error), vs ...G.Value) {
	b.SetBytes(int64(benchShape.TotalSize() * 4))
	for i := 0; i < b.N; i++ {
		if _, err := do(vs...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReLU(b *testing.B) {
	op := &reluOp{Base: opbase.Base{Name: "relu"}, threads: 2}
	benchOp(b, op.Do, randDense(benchShape, false))
}

func BenchmarkReLUGrad(b *testing.B) {
	op := &reluGrad{Base: opbase.Base{Name: "relu/dx"}, threads: 2}
	benchOp(b, op.Do, randDense(benchShape, true), randDense(benchShape, false))
}

func benchBN() (*bnOp, *tensor.Dense, *tensor.Dense) {
	c := benchShape[1]
	op := &bnOp{Base: opbase.Base{Name: "bn"}, cfg: BNConfig{Train: true, Momentum: 0.1, Eps: 1e-5, Threads: 2}, stats: NewBNStats(c)}
	return op, randDense(tensor.Shape{c}, false), randDense(tensor.Shape{c}, false)
}

func BenchmarkBatchNorm(b *testing.B) {
	op, g, be := benchBN()
	benchOp(b, op.Do, randDense(benchShape, false), g, be)
}

func BenchmarkBatchNormGrad(b *testing.B) {
	op, g, be := benchBN()
	if _, err := op.Do(randDense(benchShape, false), g, be); err != nil {
		b.Fatal(err)
	}
	grad := &bnGrad{Base: opbase.Base{Name: "bn/dx"}, fwd: op, part: 'x'}
	benchOp(b, grad.Do, g, randDense(benchShape, false))
}

func BenchmarkMaxPool(b *testing.B) {
	for _, train := range []bool{false, true} {
		b.Run(map[bool]string{false: "eval", true: "train"}[train], func(b *testing.B) {
			op := &poolOp{Base: opbase.Base{Name: "pool"}, kind: MaxPool, k: 3, stride: 2, threads: 2, withArg: train}
			if _, err := op.InferShape(benchShape); err != nil {
				b.Fatal(err)
			}
			benchOp(b, op.Do, randDense(benchShape, false))
		})
	}
}
