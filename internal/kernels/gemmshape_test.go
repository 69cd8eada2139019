package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkGemmShapes times the convolution multiplies of both networks
// (forward, one group) and reports GFLOP/s, to show how far each shape is
// from the machine's peak.
func BenchmarkGemmShapes(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{
		{32, 1024, 75}, {32, 512, 800}, {64, 512, 800}, // ConvNet-Quick
		{16, 1024, 144}, {32, 512, 288}, {64, 512, 576}, // ResNet-20
		{64, 4096, 576}, {16, 8192, 144},
	} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
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
				Gemm(false, false, s.m, s.n, s.k, a, s.k, x, s.n, 0, c, s.n)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
