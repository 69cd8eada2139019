//go:build goexperiment.simd && amd64

package winograd

import "simd/archsimd"

// wide is fixed at start-up: the vector bodies need AVX-512 and leave
// the work to the scalar loops on CPUs without it.
var wide = archsimd.X86.AVX512()

type f16 = archsimd.Float32x16

// every4 picks lanes c0, c0+4, …, c0+28 of two vectors into lanes 0–7
// (c0 = 0; add c0 to each index), and joinLo joins the low halves of two.
var (
	every4 = [16]uint32{0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28}
	joinLo = [16]uint32{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23}
)

// part loads s[k:] (at most 16, zeros past its end; none when k ≥ len(s)).
func part(s []float32, k int) f16 {
	if k >= len(s) {
		return archsimd.Float32x16{}
	}
	return archsimd.LoadFloat32x16SlicePart(s[k:min(k+16, len(s))])
}

// vecDeal4 is deal4 on 64 values at a time: each phase's sixteen by
// three permutes; it does all (products by mrow as the loop takes them).
func vecDeal4(dst [4][]float32, row, mrow []float32) bool {
	if !wide {
		return false
	}
	var idx [4]archsimd.Uint32x16
	base := archsimd.LoadUint32x16Slice(every4[:])
	for b, c0 := range [4]uint32{3, 0, 1, 2} {
		idx[b] = base.Add(archsimd.BroadcastUint32x16(c0))
	}
	join := archsimd.LoadUint32x16Slice(joinLo[:])
	n := len(row)
	for x := 0; x < n; x += 64 {
		v0, v1, v2, v3 := part(row, x), part(row, x+16), part(row, x+32), part(row, x+48)
		if mrow != nil {
			v0, v1 = v0.Mul(part(mrow, x)), v1.Mul(part(mrow, x+16))
			v2, v3 = v2.Mul(part(mrow, x+32)), v3.Mul(part(mrow, x+48))
		}
		for b, c0 := range [4]int{3, 0, 1, 2} {
			cnt := min(16, (n-x-c0+3)/4)
			if cnt <= 0 {
				continue
			}
			o := v0.ConcatPermute(v1, idx[b])
			if cnt > 8 {
				o = o.ConcatPermute(v2.ConcatPermute(v3, idx[b]), join)
			}
			o.StoreSlicePart(dst[b][x/4 : x/4+cnt])
		}
	}
	return true
}

// zip4 interleaves lanes 0–7 (zip4[0]) or 8–15 (zip4[1]) of two vectors
// pairwise; pairs4 then interleaves pairs of two such vectors.
var (
	zip4 = [2][16]uint32{
		{0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23},
		{8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31},
	}
	pairs4 = [2][16]uint32{
		{0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23},
		{8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31},
	}
)

// vecInterleave4 is interleave on sixteen of each y at a time: 64 outputs
// by eight permutes, the bias added to each (as the loop does).
func vecInterleave4(row []float32, y [4][]float32, bias float32, hasBias bool) bool {
	if !wide {
		return false
	}
	z0, z1 := archsimd.LoadUint32x16Slice(zip4[0][:]), archsimd.LoadUint32x16Slice(zip4[1][:])
	q0, q1 := archsimd.LoadUint32x16Slice(pairs4[0][:]), archsimd.LoadUint32x16Slice(pairs4[1][:])
	bv := archsimd.BroadcastFloat32x16(bias)
	n := len(y[0])
	for x := 0; x < n; x += 16 {
		a, b, c, d := part(y[0], x), part(y[1], x), part(y[2], x), part(y[3], x)
		if hasBias {
			a, b, c, d = a.Add(bv), b.Add(bv), c.Add(bv), d.Add(bv)
		}
		ab0, cd0 := a.ConcatPermute(b, z0), c.ConcatPermute(d, z0)
		out := row[4*x : 4*n]
		ab0.ConcatPermute(cd0, q0).StoreSlicePart(out[:min(16, len(out))])
		if len(out) > 16 {
			ab0.ConcatPermute(cd0, q1).StoreSlicePart(out[16:min(32, len(out))])
		}
		if len(out) > 32 {
			ab1, cd1 := a.ConcatPermute(b, z1), c.ConcatPermute(d, z1)
			ab1.ConcatPermute(cd1, q0).StoreSlicePart(out[32:min(48, len(out))])
			if len(out) > 48 {
				ab1.ConcatPermute(cd1, q1).StoreSlicePart(out[48:min(64, len(out))])
			}
		}
	}
	return true
}
