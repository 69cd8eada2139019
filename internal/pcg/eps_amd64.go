//go:build amd64 && !noasm

package pcg

import (
	"math"
	"math/rand/v2"

	"golang.org/x/sys/cpu"
)

// wide reports whether this CPU runs epsAsm: AVX-512 F and DQ (VPMULLQ).
var wide = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// epsAsm is epsGo on AVX-512 for vectors·16 elements: lane j of hi, lo
// holds the state that gives the stream's output j (after the LCG step),
// step the multiplier and increment of eight steps (mulHi, mulLo, incHi,
// incLo); the lanes are left at the states of the next eight outputs.
//
//go:noescape
func epsAsm(dst *float32, vectors int, hi, lo *[8]uint64, step *[4]uint64, thresh, kept uint32, multiply bool)

// eps8 runs epsAsm over dst (a whole number of vectors of 16) and moves
// p past the outputs it drew; it reports false where the CPU lacks it.
func eps8(p *rand.PCG, dst []float32, thresh uint32, kept float32, multiply bool) bool {
	if !wide {
		return false
	}
	var hi, lo [8]uint64
	s := state(p).mul(mul).add(inc) // output 0's state
	for j := range hi {
		hi[j], lo[j] = s.hi, s.lo
		s = s.mul(mul).add(inc)
	}
	m, c := power(8)
	step := [4]uint64{m.hi, m.lo, c.hi, c.lo}
	epsAsm(&dst[0], len(dst)/16, &hi, &lo, &step, thresh, math.Float32bits(kept), multiply)
	*p = Jump(p, uint64(len(dst)/2))
	return true
}
