package dropout

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFillDrawsTheDocumentedStream pins fill to its definition, bit for bit:
// the PCG's outputs in order, the low then the high 32 bits of each, an
// element kept (1/(1−r)) when its draw is below (1−r)·2³², else +0 — so a
// faster fill cannot change any run's masks, nor can drawing a large mask
// in parts on several threads.
func TestFillDrawsTheDocumentedStream(t *testing.T) {
	for _, r := range []float64{0.3, 0.1, 0.005} {
		for _, n := range []int{0, 1, 2, 7, 64, 1001, 4*partPairs + 1, 6*partPairs + 6} {
			for _, multiply := range []bool{false, true} {
				threads := 1 + n%4 // 2, 3 and 4 for the large masks
				s := &Sampler{pcg: rand.NewPCG(7, 9), Threads: threads}
				ref := rand.NewPCG(7, 9)
				got := make([]float32, n)
				for i := range got {
					got[i] = float32(i%5) - 2 // includes negatives and zero
				}
				want := append([]float32(nil), got...)
				s.fill(got, r, multiply)
				keep := 1 - r
				var u uint64
				for i := range want {
					if i%2 == 0 {
						u = ref.Uint64()
					} else {
						u >>= 32
					}
					var e float32
					if u&0xffffffff < uint64(keep*(1<<32)) {
						e = float32(1 / keep)
					}
					if multiply {
						want[i] *= e
					} else {
						want[i] = e
					}
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("r=%v n=%d multiply=%v threads=%d: element %d is %v, want %v", r, n, multiply, threads, i, got[i], want[i])
					}
				}
				if a, b := s.pcg.Uint64(), ref.Uint64(); a != b {
					t.Errorf("r=%v n=%d: fill consumed a different number of draws", r, n)
				}
			}
		}
	}
}

func BenchmarkFill(b *testing.B) {
	dst := make([]float32, 1<<20)
	s := &Sampler{pcg: rand.NewPCG(1, 2)}
	for range b.N {
		s.fill(dst, 0.3, false)
	}
	b.SetBytes(int64(4 * len(dst)))
}
