package opbase

import (
	"github.com/dropexp/dropexp/internal/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Engine is Gorgonia's standard CPU engine, but for one case of Add: the
// sum of two dense float32 tensors into a third (WithReuse), which a
// graph computes where a node feeds two ops and their gradients meet
// (the input of every ResNet block). Gorgonia's loop takes it on one
// thread, one element at a time; here it runs on Threads threads in
// vector registers. Each element is a[i] + b[i] either way, so the bits
// are the same.
type Engine struct {
	G.StandardEngine
	Threads int
}

// Add computes a + b as StandardEngine does.
func (e Engine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	var fo tensor.OpOpt // not ParseFuncOpts: its pooled options go back to the pool only inside package tensor
	for _, o := range opts {
		o(&fo)
	}
	r, ok := fo.Reuse().(*tensor.Dense)
	if !ok || fo.Incr() != nil {
		return e.StandardEngine.Add(a, b, opts...)
	}
	da, db := plainF32(a), plainF32(b)
	dr := plainF32(r)
	if da == nil || db == nil || dr == nil || !a.Shape().Eq(b.Shape()) || len(da) != len(dr) {
		return e.StandardEngine.Add(a, b, opts...)
	}
	kernels.ParallelChunks(len(dr), e.Threads, func(lo, hi int) {
		kernels.AddTo(dr[lo:hi], da[lo:hi], db[lo:hi])
	})
	return r, nil
}

// plainF32 returns the data of t when it is a float32 *tensor.Dense that
// is neither a view nor masked (its elements in order), else nil.
func plainF32(t tensor.Tensor) []float32 {
	d, ok := t.(*tensor.Dense)
	if !ok || d.Dtype() != tensor.Float32 || d.RequiresIterator() || d.IsMasked() {
		return nil
	}
	return d.Float32s()[:d.Shape().TotalSize()]
}
