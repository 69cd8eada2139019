package opbase

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Engine's Add gives StandardEngine's bits in every form Gorgonia calls
// it with: into a third tensor (its own path, on several threads, with
// lengths around the vector and chunk sizes), into an increment, in place,
// and on float64 (StandardEngine's paths).
func TestEngineAddMatchesStandard(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 8, 9, 1000, 1 << 17} {
		for _, threads := range []int{1, 2, 3} {
			a, b := randF32(rng, n), randF32(rng, n)
			e := Engine{Threads: threads}
			for _, form := range []string{"reuse", "reuse=a", "incr", "unsafe"} {
				got, want := a.Clone().(*tensor.Dense), a.Clone().(*tensor.Dense)
				var r1, r2 tensor.Tensor
				var err1, err2 error
				switch form {
				case "reuse":
					o1, o2 := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n)), tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n))
					r1, err1 = e.Add(got, b, tensor.WithReuse(o1))
					r2, err2 = G.StandardEngine{}.Add(want, b, tensor.WithReuse(o2))
				case "reuse=a":
					r1, err1 = e.Add(got, b, tensor.WithReuse(got))
					r2, err2 = G.StandardEngine{}.Add(want, b, tensor.WithReuse(want))
				case "incr":
					o1, o2 := randF32(rand.New(rand.NewPCG(3, 4)), n), randF32(rand.New(rand.NewPCG(3, 4)), n)
					r1, err1 = e.Add(got, b, tensor.WithIncr(o1))
					r2, err2 = G.StandardEngine{}.Add(want, b, tensor.WithIncr(o2))
				case "unsafe":
					r1, err1 = e.Add(got, b, tensor.UseUnsafe())
					r2, err2 = G.StandardEngine{}.Add(want, b, tensor.UseUnsafe())
				}
				if err1 != nil || err2 != nil {
					t.Fatalf("n=%d %s: errors %v, %v", n, form, err1, err2)
				}
				x, y := r1.Data().([]float32), r2.Data().([]float32)
				for i := range y {
					if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
						t.Fatalf("n=%d threads=%d %s: element %d is %v, want %v", n, threads, form, i, x[i], y[i])
					}
				}
			}
		}
	}
	a := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, 2, 3}))
	r := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(3))
	if _, err := (Engine{Threads: 2}).Add(a, a, tensor.WithReuse(r)); err != nil || r.Float64s()[2] != 6 {
		t.Fatalf("float64: %v, %v", r, err)
	}
}

func randF32(rng *rand.Rand, n int) *tensor.Dense {
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(n), tensor.WithBacking(d))
}
