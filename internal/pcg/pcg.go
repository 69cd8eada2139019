// Package pcg draws dropout's Bernoulli masks from Go's math/rand/v2 PCG
// (128-bit LCG, DXSM output) stream, and jumps that stream ahead.
//
// Eps writes, from consecutive outputs, two 32-bit draws each (the low
// half first), an element kept where its draw is below a threshold. On
// AVX-512 it computes eight outputs at a time (eps_amd64.s): eight lanes
// hold the states of eight consecutive outputs and step eight at a time,
// by the LCG's multiplier and increment raised to the eighth step, so the
// values and their order are the stream's, bit for bit, as the Go loop
// epsGo computes them.
package pcg

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
)

// The LCG: state ← state·mul + inc mod 2¹²⁸ (math/rand/v2's constants).
var (
	mul = u128{2549297995355413924, 4865540595714422341}
	inc = u128{6364136223846793005, 1442695040888963407}
)

// cheapMul is DXSM's 64-bit multiplier.
const cheapMul = 0xda942042e4dd58b5

// Threshold returns the draw below which an element is kept with
// probability keep (0 ≤ keep ≤ 1): keep·2³², truncated.
func Threshold(keep float64) uint64 { return uint64(keep * (1 << 32)) }

// Eps writes into dst (len even) one ε per 32-bit draw of p's next
// len(dst)/2 outputs, the low half of each first: kept where the draw is
// below thresh, else +0 — or, when multiply, multiplies dst by it.
func Eps(p *rand.PCG, dst []float32, thresh uint64, kept float32, multiply bool) {
	n := len(dst) / 16 * 16
	if n > 0 && thresh <= math.MaxUint32 && eps8(p, dst[:n], uint32(thresh), kept, multiply) {
		dst = dst[n:]
	}
	epsGo(p, dst, thresh, kept, multiply)
}

// epsGo is Eps' loop, one output at a time. The choice is made with a
// sign mask, not a branch: at r = 0.3 a branch would be mispredicted on
// about every third element.
func epsGo(p *rand.PCG, dst []float32, thresh uint64, kept float32, multiply bool) {
	e := NewOf(thresh, kept)
	if multiply {
		for i := 0; i+1 < len(dst); i += 2 {
			u := p.Uint64()
			d := dst[i : i+2 : i+2]
			d[0] *= e.Eps(u)
			d[1] *= e.Eps(u >> 32)
		}
		return
	}
	for i := 0; i+1 < len(dst); i += 2 {
		u := p.Uint64()
		d := dst[i : i+2 : i+2]
		d[0] = e.Eps(u)
		d[1] = e.Eps(u >> 32)
	}
}

// Of turns a draw into ε.
type Of struct {
	thresh int64
	kept   uint32
}

// NewOf returns the ε of draws against thresh: kept below it, else +0.
func NewOf(thresh uint64, kept float32) Of {
	return Of{thresh: int64(thresh), kept: math.Float32bits(kept)}
}

// Eps is the ε of the low 32 bits of u.
func (e Of) Eps(u uint64) float32 {
	return math.Float32frombits(e.kept & uint32((int64(u&0xffffffff)-e.thresh)>>63))
}

// Jump returns p as it will be after k more outputs, in O(log k): k steps
// of the LCG are one step with mul^k and inc·(mul^(k−1) + … + 1) (Brown,
// "Random number generation with arbitrary strides", 1994).
func Jump(p *rand.PCG, k uint64) rand.PCG {
	m, c := power(k)
	return withState(state(p).mul(m).add(c))
}

// power returns the multiplier and increment of k steps of the LCG.
func power(k uint64) (m, c u128) {
	m = u128{0, 1}
	sm, sc := mul, inc
	for ; k > 0; k >>= 1 {
		if k&1 == 1 {
			m, c = m.mul(sm), c.mul(sm).add(sc)
		}
		sc = sm.add(u128{0, 1}).mul(sc)
		sm = sm.mul(sm)
	}
	return
}

// state reads p's 128-bit state (from its binary encoding).
func state(p *rand.PCG) u128 {
	var b [20]byte
	enc, _ := p.AppendBinary(b[:0])
	return u128{binary.BigEndian.Uint64(enc[4:]), binary.BigEndian.Uint64(enc[12:])}
}

// withState returns a PCG in state s.
func withState(s u128) rand.PCG {
	var q rand.PCG
	enc, _ := q.AppendBinary(nil)
	binary.BigEndian.PutUint64(enc[4:], s.hi)
	binary.BigEndian.PutUint64(enc[12:], s.lo)
	if err := q.UnmarshalBinary(enc); err != nil {
		panic(err) // an encoding AppendBinary just wrote
	}
	return q
}

// u128 is an unsigned 128-bit integer; arithmetic wraps mod 2¹²⁸.
type u128 struct{ hi, lo uint64 }

func (a u128) mul(b u128) u128 {
	hi, lo := bits.Mul64(a.lo, b.lo)
	return u128{hi + a.hi*b.lo + a.lo*b.hi, lo}
}

func (a u128) add(b u128) u128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(a.hi, b.hi, c)
	return u128{hi, lo}
}
