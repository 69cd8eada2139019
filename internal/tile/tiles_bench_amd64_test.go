//go:build amd64 && !noasm

package tile

import (
	"fmt"
	"testing"
)

// BenchmarkConv16 reports the AVX-512 tile's GFLOP/s alone, its rows in
// cache: 16 channels of 3×3 taps, rows 34 floats apart, planes of 4 rows
// (L1) or of ResNet-20's first stage (L2), against BenchmarkPeak's loop.
func BenchmarkConv16(b *testing.B) {
	if !Wide {
		b.Skip("not on this CPU")
	}
	const c, taps, ld = 16, 9, 34
	for _, plane := range []int{34 * 4, 34 * 34} {
		in := make([]float32, c*plane+4*ld)
		for i := range in {
			in[i] = float32(i%7) * 0.1
		}
		off := []int{0, 1, 2, ld, ld + 1, ld + 2, 2 * ld, 2*ld + 1, 2*ld + 2}
		w := make([]float32, c*taps*8)
		out := make([]float32, 8*ld+32)
		b.Run(map[int]string{34 * 4: "L1", 34 * 34: "L2"}[plane], func(b *testing.B) {
			for b.Loop() {
				for k := 0; k < 32; k++ {
					Conv16(&out[0], ld, &in[0], plane, &off[0], taps, &w[0], c)
				}
			}
			b.ReportMetric(float64(b.N)*32*c*taps*8*32*2/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkDot16 reports the weight-gradient tile's GFLOP/s alone on rows
// of n floats: n = 256 fits L1 with the 8 rows, n = 1088 (ResNet-20's
// first stage) does not.
func BenchmarkDot16(b *testing.B) {
	if !Wide {
		b.Skip("not on this CPU")
	}
	for _, n := range []int{256, 512, 1088} {
		buf := make([]float32, 16*1160+n)
		for i := range buf {
			buf[i] = float32(i%7) * 0.1
		}
		acc := make([]float32, 256)
		var x, y [4]*float32
		for i := range x {
			x[i] = &buf[i*1160]
			y[i] = &buf[(8+i/2)*1160+i%2]
		}
		b.Run(fmt.Sprint("n", n), func(b *testing.B) {
			for b.Loop() {
				for k := 0; k < 36; k++ {
					Dot16(&acc[0], &x, &y, n, 1, 0, 0)
				}
			}
			b.ReportMetric(float64(b.N)*36*16*float64(n)*2/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
