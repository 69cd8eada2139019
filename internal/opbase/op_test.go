package opbase

import (
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// scale returns the spec of y = k·x, whose backward pass is another Spec.
func scale(name string, k float32) Spec {
	var buf Buffer
	in, out := Same(1)
	return Spec{
		Name: name, In: in, Out: out, Shape: SameShape,
		Forward: func(vs []G.Value) (G.Value, error) {
			x := F32(vs[0])
			o := buf.Get(vs[0].Shape(), false)
			for i, v := range x {
				o.Float32s()[i] = k * v
			}
			return o, nil
		},
		Diff: []bool{true},
		Backward: func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
			d, err := Apply(scale(name+"/dx", k), grad)
			return G.Nodes{d}, err
		},
	}
}

// An op made from a Spec runs forward and backward in a Gorgonia graph.
func TestSpecInGraph(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 2, G.WithShape(2, 3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))))
	y, err := Apply(scale("scale", 3), x)
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(tensor.Shape{2, 3}) {
		t.Fatalf("shape %v, want (2, 3)", y.Shape())
	}
	grads, err := G.Grad(G.Must(G.Sum(y)), x)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := y.Value().Data().([]float32); got[5] != 18 {
		t.Errorf("y = %v, want 3x", got)
	}
	if got := grads[0].Value().Data().([]float32); got[0] != 3 || got[5] != 3 {
		t.Errorf("dx = %v, want 3 everywhere", got)
	}
}

// The methods Op supplies.
func TestOpMethods(t *testing.T) {
	op := New(Spec{Name: "noop", In: Ts(4, 1), Out: T(4)})
	if op.Arity() != 2 || op.String() != "noop" || op.ReturnsPtr() || op.OverwritesInput() != -1 || op.CallsExtern() {
		t.Errorf("arity %d, name %q, returns ptr %v, overwrites %d, extern %v", op.Arity(), op, op.ReturnsPtr(), op.OverwritesInput(), op.CallsExtern())
	}
	if d := op.DiffWRT(2); d != nil {
		t.Errorf("DiffWRT of an op without Diff = %v, want nil (a constant to Gorgonia)", d)
	}
	if _, err := op.SymDiff(nil, nil, nil); err == nil || !strings.Contains(err.Error(), "noop") {
		t.Errorf("SymDiff without Backward: err %v, want one naming the op", err)
	}
	if New(Spec{Name: "a"}).Hashcode() == New(Spec{Name: "b"}).Hashcode() {
		t.Error("ops of different names hash alike")
	}
	if got := op.Type().String(); got != "Tensor-4 float32 → Vector float32 → Tensor-4 float32" {
		t.Errorf("type %q", got)
	}
}

// A Profile times every Do of its ops while active and none after Stop,
// with each op's pass and FLOPs.
func TestProfile(t *testing.T) {
	spec := scale("twice", 2)
	spec.Pass = ForwardPass
	spec.Flops = func(in []G.Value) float64 { return float64(in[0].Shape().TotalSize()) }
	op := New(spec)
	x := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}))
	p := StartProfile()
	for range 2 {
		if _, err := op.Do(x); err != nil {
			t.Fatal(err)
		}
	}
	p.Stop()
	if _, err := op.Do(x); err != nil {
		t.Fatal(err)
	}
	ops := p.Ops()
	if len(ops) != 1 || ops[0].Name != "twice" || ops[0].Calls != 2 || ops[0].Flops != 6 || ops[0].Pass != ForwardPass || ops[0].Time <= 0 {
		t.Errorf("profile %+v, want one op twice called twice, 6 FLOPs, forward, timed", ops)
	}
}

func TestSameBits(t *testing.T) {
	nan1 := math.Float32frombits(0x7fc00001)
	nan2 := math.Float32frombits(0x7fc00002)
	negZero := float32(math.Copysign(0, -1))
	for _, c := range []struct {
		name string
		a, b []float32
		want bool
	}{
		{"empty", nil, []float32{}, true},
		{"equal", []float32{1, 2, 3}, []float32{1, 2, 3}, true},
		{"lengths", []float32{1, 2}, []float32{1, 2, 3}, false},
		{"last element", []float32{1, 2, 3}, []float32{1, 2, 4}, false},
		{"signed zeros", []float32{0}, []float32{negZero}, false},
		{"same NaN", []float32{nan1}, []float32{nan1}, true},
		{"other NaN", []float32{nan1}, []float32{nan2}, false},
	} {
		if got := SameBits(c.a, c.b); got != c.want {
			t.Errorf("%s: SameBits = %v, want %v", c.name, got, c.want)
		}
	}
}
