//go:build goexperiment.simd && amd64

package winograd

import "simd/archsimd"

// wide is fixed at start-up: the vector bodies need AVX-512 and leave
// the work to the scalar loops on CPUs without it.
var wide = archsimd.X86.AVX512()

type f16 = archsimd.Float32x16

func load(s []float32, k int) f16 { return archsimd.LoadFloat32x16Slice(s[k:]) }

// vecBT6 is bt6To's loop on 16 lanes at a time, the same operations in
// the same order; it returns how many elements it did.
func vecBT6(o [6][]float32, d0, d1, d2, d3, d4, d5 []float32) int {
	if !wide {
		return 0
	}
	four, five, two := archsimd.BroadcastFloat32x16(4), archsimd.BroadcastFloat32x16(5), archsimd.BroadcastFloat32x16(2)
	n := len(o[0]) / 16 * 16
	for k := 0; k < n; k += 16 {
		a, b, c, e, f := load(d1, k), load(d2, k), load(d3, k), load(d4, k), load(d5, k)
		four.Mul(load(d0, k)).Sub(five.Mul(b)).Add(e).StoreSlice(o[0][k:])
		c.Sub(four.Mul(a.Add(b))).Add(e).StoreSlice(o[1][k:]) // −4·(a+b) + c = c − 4·(a+b) exactly
		four.Mul(a.Sub(b)).Sub(c).Add(e).StoreSlice(o[2][k:])
		two.Mul(c.Sub(a)).Sub(b).Add(e).StoreSlice(o[3][k:])
		two.Mul(a.Sub(c)).Sub(b).Add(e).StoreSlice(o[4][k:])
		four.Mul(a).Sub(five.Mul(c)).Add(f).StoreSlice(o[5][k:])
	}
	return n
}

// vecAT6 is at6To's loop on 16 lanes at a time.
func vecAT6(o [4][]float32, m0, m1, m2, m3, m4, m5 []float32) int {
	if !wide {
		return 0
	}
	two, four, eight := archsimd.BroadcastFloat32x16(2), archsimd.BroadcastFloat32x16(4), archsimd.BroadcastFloat32x16(8)
	n := len(o[0]) / 16 * 16
	for k := 0; k < n; k += 16 {
		a, b, c, d := load(m1, k), load(m2, k), load(m3, k), load(m4, k)
		s12, d12, s34, d34 := a.Add(b), a.Sub(b), c.Add(d), c.Sub(d)
		load(m0, k).Add(s12).Add(s34).StoreSlice(o[0][k:])
		d12.Add(two.Mul(d34)).StoreSlice(o[1][k:])
		s12.Add(four.Mul(s34)).StoreSlice(o[2][k:])
		d12.Add(eight.Mul(d34)).Add(load(m5, k)).StoreSlice(o[3][k:])
	}
	return n
}
