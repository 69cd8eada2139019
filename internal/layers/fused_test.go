package layers

import (
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// inputs adds a named tensor node to g for every value, with the given shapes.
func inputs(g *G.ExprGraph, shapes [][]int, vals ...[]float32) G.Nodes {
	var ins G.Nodes
	for i, v := range vals {
		ins = append(ins, G.NewTensor(g, tensor.Float32, len(shapes[i]), G.WithName(string(rune('a'+i))),
			G.WithValue(tensor.New(tensor.WithShape(shapes[i]...), tensor.WithBacking(slices.Clone(v))))))
	}
	return ins
}

// runGraph runs g once on a tape machine.
func runGraph(t *testing.T, g *G.ExprGraph) {
	t.Helper()
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
}

// gradsOf builds loss = Σ f(inputs)⊙r and returns the output and the gradients of every input.
func gradsOf(t *testing.T, f func(ins ...*G.Node) (*G.Node, error), r []float32, shapes [][]int, vals ...[]float32) [][]float32 {
	t.Helper()
	g := G.NewGraph()
	ins := inputs(g, shapes, vals...)
	out, err := f(ins...)
	if err != nil {
		t.Fatal(err)
	}
	rn := G.NewTensor(g, tensor.Float32, out.Dims(), G.WithName("r"), G.WithValue(tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(slices.Clone(r)))))
	grads, err := G.Grad(G.Must(G.Sum(G.Must(G.HadamardProd(out, rn)))), ins...)
	if err != nil {
		t.Fatal(err)
	}
	runGraph(t, g)
	res := [][]float32{slices.Clone(out.Value().Data().([]float32))}
	for _, gr := range grads {
		res = append(res, slices.Clone(gr.Value().Data().([]float32)))
	}
	return res
}

// The fused ReLU ops compute exactly (bit for bit) what the op followed by ReLU computes.
func TestFusedReLUMatchesSeparateOps(t *testing.T) {
	const n, c, h, w = 3, 4, 5, 5
	shape := []int{n, c, h, w}
	rng := rand.New(rand.NewPCG(9, 9))
	rs := func(k int) []float32 {
		s := make([]float32, k)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	x, x2, r := rs(n*c*h*w), rs(n*c*h*w), rs(n*c*h*w)
	gamma, beta := rs(c), rs(c)
	bn := func(relu bool) func(ins ...*G.Node) (*G.Node, error) {
		return func(ins ...*G.Node) (*G.Node, error) {
			cfg := BNConfig{Name: "bn", Train: true, Momentum: 0.1, Threads: 2, ReLU: relu}
			y, err := BatchNorm(cfg, ins[0], ins[1], ins[2], NewBNStats(c))
			if err != nil || relu {
				return y, err
			}
			return ReLU("relu", y, 2)
		}
	}
	add := func(relu bool) func(ins ...*G.Node) (*G.Node, error) {
		return func(ins ...*G.Node) (*G.Node, error) {
			if relu {
				return AddReLU("add", ins[0], ins[1], 2)
			}
			y, err := Add("add", ins[0], ins[1], 2)
			if err != nil {
				return nil, err
			}
			return ReLU("relu", y, 2)
		}
	}
	for _, tc := range []struct {
		name   string
		f      func(bool) func(ins ...*G.Node) (*G.Node, error)
		shapes [][]int
		vals   [][]float32
	}{
		{"batchnorm", bn, [][]int{shape, {c}, {c}}, [][]float32{x, gamma, beta}},
		{"add", add, [][]int{shape, shape}, [][]float32{x, x2}},
	} {
		sep := gradsOf(t, tc.f(false), r, tc.shapes, tc.vals...)
		fused := gradsOf(t, tc.f(true), r, tc.shapes, tc.vals...)
		var zeros int
		for _, v := range sep[0] {
			if v == 0 {
				zeros++
			}
		}
		if zeros == 0 || zeros == len(sep[0]) {
			t.Fatalf("%s: %d of %d outputs are zero; the test needs both signs", tc.name, zeros, len(sep[0]))
		}
		for i := range sep {
			if !slices.Equal(sep[i], fused[i]) {
				t.Errorf("%s: result %d differs between separate and fused ReLU", tc.name, i)
			}
		}
	}
}
