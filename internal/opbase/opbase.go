// Package opbase turns a small description of a custom Gorgonia op (Spec:
// a unique name, input and output types, a pure shape function, the
// forward computation and the backward graph) into a gorgonia.Op, so that
// the layers say only what is particular to them; it also holds the
// helpers they share: float32 types, the data behind a Value, and output
// and scratch buffers reused from run to run; and Engine, the tensor
// engine the graphs run on.
package opbase

import (
	"bytes"
	"fmt"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// T returns the float32 tensor type of the given rank (0 = scalar).
func T(dims int) hm.Type {
	if dims == 0 {
		return tensor.Float32
	}
	return G.TensorType{Dims: dims, Of: tensor.Float32}
}

// F32 returns the float32 data behind v (a *tensor.Dense or a scalar *G.F32).
func F32(v G.Value) []float32 {
	switch t := v.(type) {
	case *tensor.Dense:
		return t.Float32s()
	case *G.F32:
		return []float32{float32(*t)}
	}
	panic(fmt.Sprintf("opbase: value %T is not float32", v))
}

// Buffer is a lazily allocated output tensor owned by an op, reused every run
// so the hot loop does not allocate.
type Buffer struct {
	t *tensor.Dense
}

// Get returns the buffer with the given shape, allocating it on first use or
// when the shape changes; zero clears it.
func (b *Buffer) Get(shape tensor.Shape, zero bool) *tensor.Dense {
	if b.t == nil || !b.t.Shape().Eq(shape) {
		b.t = tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(tensor.Float32))
		return b.t
	}
	if zero {
		clear(b.t.Float32s())
	}
	return b.t
}

// SameBits reports whether a and b hold the same float32 bits (−0 is not
// 0, and a NaN is itself), as a cache of something computed from a needs.
func SameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), 4*len(a)),
		unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 4*len(b)))
}

// Floats is a reusable []float32 scratch slice.
type Floats []float32

// Get returns a slice of length n, growing the backing array when needed.
func (f *Floats) Get(n int) []float32 {
	if cap(*f) < n {
		*f = make([]float32, n)
	}
	return (*f)[:n]
}

// Float64s is Floats for float64 sums.
type Float64s []float64

// Get returns a slice of length n, growing the backing array when needed.
func (f *Float64s) Get(n int) []float64 {
	if cap(*f) < n {
		*f = make([]float64, n)
	}
	return (*f)[:n]
}
