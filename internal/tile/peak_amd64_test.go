//go:build amd64 && !noasm

package tile

import "testing"

// BenchmarkPeak reports each assembly loop's GFLOP/s on one core.
func BenchmarkPeak(b *testing.B) {
	for _, l := range []struct {
		name  string
		ok    bool
		lanes int
		loop  func(int)
	}{{"avx2", Available && Asm, 8, peak256}, {"avx512", Wide && Asm, 16, peak512}} {
		b.Run(l.name, func(b *testing.B) {
			if !l.ok {
				b.Skip("not on this CPU")
			}
			for b.Loop() {
				l.loop(1 << 16)
			}
			b.ReportMetric(float64(b.N)*(1<<16)*PeakFMAs*float64(l.lanes)*2/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
