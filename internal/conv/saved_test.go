package conv

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// A weight gradient that reads what its forward pass kept computes the
// same bits as one that unrolls or pads the input itself, on every
// strategy pair the planner hands a Saved to.
func TestSavedGivesSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	for _, im2col := range []bool{false, true} {
		for _, threads := range []int{1, 2} {
			g := NewGeom(3, 9, 7, 5, 3, 1, 1)
			opt := Options{Threads: threads, Im2col: im2col, KeepCols: true}
			n := 11
			x, mf, w := fill(n*g.img()), fill(n*g.img()), fill(g.M*g.ckk())
			d := fill(n * g.out())
			fwd := PlanForward(g, opt)
			_, dw, saved := PlanBackward(g, opt, fwd, true)
			if saved == nil {
				t.Fatalf("im2col=%v: the planner kept nothing for %s/%s", im2col, fwd.Name(), dw.Name())
			}
			out := make([]float32, n*g.out())
			fwd.Forward(out, x, mf, w, nil, nil, nil, saved, n)
			a, b := make([]float32, len(w)), make([]float32, len(w))
			dw.WeightGrad(a, x, d, mf, saved, n)
			dw.WeightGrad(b, x, d, mf, nil, n)
			if !slices.Equal(a, b) {
				t.Errorf("%s/%s threads %d: the weight gradient from the saved state differs", fwd.Name(), dw.Name(), threads)
			}
		}
	}
}
