package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkGemmShapes times the convolution multiplies of both networks
// (one group of images) and reports GFLOP/s, to show how far each shape is
// from the machine's peak.
func BenchmarkGemmShapes(b *testing.B) {
	for _, s := range []struct {
		m, n, k int
		tB      bool
	}{
		// ConvNet-Quick: forward, then weight gradients (B transposed).
		{32, 1024, 75, false}, {32, 512, 800, false}, {64, 512, 800, false},
		{32, 75, 1024, true}, {32, 800, 512, true}, {64, 800, 512, true},
		// ResNet-20 forward.
		{16, 1024, 144, false}, {32, 512, 288, false}, {64, 512, 576, false},
	} {
		b.Run(fmt.Sprintf("%dx%dx%d/tB=%v", s.m, s.n, s.k, s.tB), func(b *testing.B) {
			a := make([]float32, s.m*s.k)
			x := make([]float32, s.k*s.n)
			c := make([]float32, s.m*s.n)
			for i := range x {
				x[i] = float32(i%7) * 0.1
			}
			for i := range a {
				a[i] = float32(i%5) * 0.1
			}
			for i := 0; i < b.N; i++ {
				if s.tB {
					Gemm(false, true, s.m, s.n, s.k, a, s.k, x, s.k, 1, c, s.n)
				} else {
					Gemm(false, false, s.m, s.n, s.k, a, s.k, x, s.n, 0, c, s.n)
				}
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
