package tile

import "testing"

// Peak returns on every build, the assembly where the CPU has it and the
// Go loop elsewhere, with any count (a register-only loop that broke the
// frame or the count would crash or hang here).
func TestPeakReturns(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 1000} {
		Peak(n)
	}
}

func BenchmarkPeak256(b *testing.B) {
	if !Available || !Asm {
		b.Skip("no AVX2 assembly")
	}
	for b.Loop() {
		peak256(1 << 16)
	}
	b.ReportMetric(float64(b.N)*(1<<16)*PeakFMAs*8*2/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkPeak512(b *testing.B) {
	if !Wide || !Asm {
		b.Skip("no AVX-512 assembly")
	}
	for b.Loop() {
		peak512(1 << 16)
	}
	b.ReportMetric(float64(b.N)*(1<<16)*PeakFMAs*16*2/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
