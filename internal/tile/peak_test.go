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
