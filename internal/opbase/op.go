package opbase

import (
	"fmt"
	"hash"
	"hash/fnv"
	"time"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Spec describes a custom op by what differs between ops; New turns it
// into a gorgonia.Op that supplies the rest of Gorgonia's interface.
//
// What a backward op reads of its forward pass is either one of its
// inputs in the graph or a saved-state field of the layer that declares
// both ops, written by Forward and named in the layer's type, never a
// field reached through another op.
type Spec struct {
	// Name is unique within a graph: Gorgonia hash-conses nodes by their
	// op's hash, so two ops with one name on the same inputs would
	// silently become one node.
	Name string
	In   []hm.Type // the inputs' types, in order (their count is the arity)
	Out  hm.Type
	// Shape returns the output shape from the inputs' shapes. It must not
	// change anything: a layer's geometry is computed when it is added.
	Shape func(in []tensor.Shape) (tensor.Shape, error)
	// Forward computes the output from the inputs' values, into a buffer
	// the op owns (never an input).
	Forward func(in []G.Value) (G.Value, error)
	// Diff marks the inputs that get a gradient; nil: none, and Backward
	// is never called.
	Diff []bool
	// Backward adds the nodes of the gradients of the inputs Diff marks
	// (nil elsewhere) from the op's inputs, its output and its output's gradient.
	Backward func(in G.Nodes, out, grad *G.Node) (G.Nodes, error)
	// Extern reports that Forward calls C (OpenBLAS through cgo).
	Extern bool
	// Pass and Flops describe the work of Forward for a Profile: which
	// pass it is and its floating-point operations on these inputs
	// (nil: none counted).
	Pass  Pass
	Flops func(in []G.Value) float64
}

// Op is a gorgonia.Op (and SDOp) made from a Spec.
type Op struct{ s Spec }

// New returns the op that spec describes.
func New(spec Spec) *Op { return &Op{s: spec} }

// Apply adds the op that spec describes, on ins, to their graph.
func Apply(spec Spec, ins ...*G.Node) (*G.Node, error) { return G.ApplyOp(New(spec), ins...) }

// Arity is the number of inputs.
func (o *Op) Arity() int { return len(o.s.In) }

// Type is in₁ → … → out.
func (o *Op) Type() hm.Type { return hm.NewFnType(append(append([]hm.Type{}, o.s.In...), o.s.Out)...) }

// InferShape applies Spec.Shape to the inputs' shapes.
func (o *Op) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	in := make([]tensor.Shape, len(ds))
	for i, d := range ds {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%s: input %d: expected a shape, got %T", o.s.Name, i, d)
		}
		in[i] = s
	}
	return o.s.Shape(in)
}

// Do runs Spec.Forward, timed when a Profile is active.
func (o *Op) Do(vs ...G.Value) (G.Value, error) {
	if p := active.Load(); p != nil {
		t0 := time.Now()
		v, err := o.s.Forward(vs)
		p.add(&o.s, vs, time.Since(t0))
		return v, err
	}
	return o.s.Forward(vs)
}

// ReturnsPtr reports false: ops return buffers they own, never their inputs.
func (o *Op) ReturnsPtr() bool { return false }

// CallsExtern reports Spec.Extern.
func (o *Op) CallsExtern() bool { return o.s.Extern }

// OverwritesInput reports -1: no op writes into its inputs.
func (o *Op) OverwritesInput() int { return -1 }

// WriteHash writes the unique name.
func (o *Op) WriteHash(h hash.Hash) { fmt.Fprint(h, o.s.Name) }

// Hashcode hashes the unique name.
func (o *Op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// String returns the unique name.
func (o *Op) String() string { return o.s.Name }

// DiffWRT returns Spec.Diff (nil: Gorgonia treats the op as a constant).
func (o *Op) DiffWRT(int) []bool { return append([]bool(nil), o.s.Diff...) }

// SymDiff runs Spec.Backward.
func (o *Op) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if o.s.Backward == nil {
		return nil, fmt.Errorf("%s has no gradient", o.s.Name)
	}
	return o.s.Backward(ins, out, grad)
}

// Same returns the function type a → a → … → a of n inputs: element-wise
// ops whose inputs and output share one type of any rank.
func Same(n int) ([]hm.Type, hm.Type) {
	a := hm.TypeVariable('a')
	in := make([]hm.Type, n)
	for i := range in {
		in[i] = a
	}
	return in, a
}

// Ts returns the float32 tensor types of the given ranks.
func Ts(ranks ...int) []hm.Type {
	ts := make([]hm.Type, len(ranks))
	for i, r := range ranks {
		ts[i] = T(r)
	}
	return ts
}

// SameShape is a Spec.Shape for ops whose output has their first input's shape.
func SameShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
