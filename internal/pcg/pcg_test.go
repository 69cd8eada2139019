package pcg

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Eps (eight outputs at a time on AVX-512) gives epsGo's bits and leaves
// the source where epsGo does, for lengths around the vector's 16, both
// ways (written and multiplied), at several thresholds.
func TestEpsIsTheStream(t *testing.T) {
	for _, keep := range []float64{0.7, 0.9, 0.995, 0.9999, 1} {
		for _, n := range []int{0, 2, 14, 16, 18, 32, 46, 1000, 4098} {
			for _, multiply := range []bool{false, true} {
				p, q := rand.NewPCG(3, uint64(n)), rand.NewPCG(3, uint64(n))
				got, want := make([]float32, n), make([]float32, n)
				for i := range got {
					got[i] = float32(i%7) - 3
					want[i] = got[i]
				}
				th, kept := Threshold(keep), float32(1/keep)
				Eps(p, got, th, kept, multiply)
				epsGo(q, want, th, kept, multiply)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("keep %v n %d multiply %v: element %d is %v, the loop gives %v", keep, n, multiply, i, got[i], want[i])
					}
				}
				if a, b := p.Uint64(), q.Uint64(); a != b {
					t.Errorf("keep %v n %d: Eps left the source elsewhere", keep, n)
				}
			}
		}
	}
}

// Jump(p, k) is p after k outputs, and leaves p as it was.
func TestJump(t *testing.T) {
	for _, k := range []uint64{0, 1, 2, 3, 8, 64, 1000, 123457} {
		p, q := rand.NewPCG(11, 13), rand.NewPCG(11, 13)
		j := Jump(p, k)
		for range k {
			q.Uint64()
		}
		if a, b := j.Uint64(), q.Uint64(); a != b {
			t.Errorf("k=%d: jumped PCG gives %x, stepped one %x", k, a, b)
		}
		if a, b := p.Uint64(), rand.NewPCG(11, 13).Uint64(); a != b {
			t.Errorf("k=%d: Jump moved its argument", k)
		}
	}
}

func BenchmarkEps(b *testing.B) {
	dst := make([]float32, 1<<20)
	p := rand.NewPCG(1, 2)
	th := Threshold(0.7)
	b.Run("vector", func(b *testing.B) {
		for b.Loop() {
			Eps(p, dst, th, 1/0.7, false)
		}
	})
	b.Run("loop", func(b *testing.B) {
		for b.Loop() {
			epsGo(p, dst, th, 1/0.7, false)
		}
	})
}
