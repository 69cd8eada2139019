// Package opbase holds what every custom Gorgonia op of dropexp shares: a
// unique name (Gorgonia hash-conses nodes, so two ops with equal hashes on
// equal inputs would silently become one node), types, and access to the
// float32 data behind a Value.
package opbase

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Base implements the bookkeeping methods of gorgonia.Op for an op with a unique name.
type Base struct {
	Name string
}

// ReturnsPtr reports false: ops return buffers they own, never their inputs.
func (b Base) ReturnsPtr() bool { return false }

// CallsExtern reports false.
func (b Base) CallsExtern() bool { return false }

// OverwritesInput reports -1: no op writes into its inputs.
func (b Base) OverwritesInput() int { return -1 }

// WriteHash writes the unique name.
func (b Base) WriteHash(h hash.Hash) { fmt.Fprint(h, b.Name) }

// Hashcode hashes the unique name.
func (b Base) Hashcode() uint32 {
	h := fnv.New32a()
	b.WriteHash(h)
	return h.Sum32()
}

// String returns the unique name.
func (b Base) String() string { return b.Name }

// T returns the float32 tensor type of the given rank (0 = scalar).
func T(dims int) hm.Type {
	if dims == 0 {
		return tensor.Float32
	}
	return G.TensorType{Dims: dims, Of: tensor.Float32}
}

// Fn builds the function type in₁ → in₂ → … → out from ranks.
func Fn(out int, ins ...int) hm.Type {
	ts := make([]hm.Type, 0, len(ins)+1)
	for _, d := range ins {
		ts = append(ts, T(d))
	}
	return hm.NewFnType(append(ts, T(out))...)
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

// Shape returns the shape of a DimSizer argument of InferShape.
func Shape(d G.DimSizer) (tensor.Shape, error) {
	if s, ok := d.(tensor.Shape); ok {
		return s, nil
	}
	return nil, fmt.Errorf("expected a shape, got %T", d)
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
