//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"
)

// avx2 is fixed at start-up: the vector bodies need AVX2 and fall back to
// the scalar loops on CPUs without it.
var avx2 = archsimd.X86.AVX2()

// avx512 likewise gates the kernels that take sixteen lanes.
var avx512 = archsimd.X86.AVX512()

// Vector names the vector instruction set the element-wise kernels use.
func Vector() string {
	if avx2 {
		return "avx2"
	}
	return "none"
}

type (
	f8 = archsimd.Float32x8
	f4 = archsimd.Float32x4
	i8 = archsimd.Int32x8
	i4 = archsimd.Int32x4
)

func load8(s []float32) f8 { return archsimd.LoadFloat32x8Slice(s) }
func load4(s []float32) f4 { return archsimd.LoadFloat32x4Slice(s) }

// relu8 is relu on eight lanes: clear the bits of negative values.
func relu8(v f8) f8 {
	u := v.AsInt32x8()
	return u.AndNot(u.ShiftAllRight(31)).AsFloat32x8()
}

// The element-wise kernels take sixteen lanes at a time where the CPU has
// AVX-512 (half the instructions; each lane the same operations, so the
// same bits), then eight, then the scalar loop.

type (
	f16 = archsimd.Float32x16
	i16 = archsimd.Int32x16
)

func load16(s []float32) f16 { return archsimd.LoadFloat32x16Slice(s) }

// relu16 is relu8 on sixteen lanes.
func relu16(v f16) f16 {
	u := v.AsInt32x16()
	return u.AndNot(u.ShiftAllRight(31)).AsFloat32x16()
}

// keep16 is keep8 on sixteen lanes.
func keep16(d, y f16) f16 {
	u := y.AsInt32x16()
	m := i16{}.Sub(u).Or(u).ShiftAllRight(31)
	return d.AsInt32x16().And(m).AsFloat32x16()
}

// keepPositive16 is keepPositive8 on sixteen lanes.
func keepPositive16(d, v f16) f16 {
	u := v.AsInt32x16()
	return d.AsInt32x16().And(i16{}.Sub(u).AndNot(u).ShiftAllRight(31)).AsFloat32x16()
}

// keep8 is d where y ≠ 0 and 0 elsewhere, as nonzero does it.
func keep8(d, y f8) f8 {
	u := y.AsInt32x8()
	m := i8{}.Sub(u).Or(u).ShiftAllRight(31)
	return d.AsInt32x8().And(m).AsFloat32x8()
}

// keepPositive8 is d where v is positive (sign bit clear, bits not all
// zero) and 0 elsewhere, as ReLUOf.keep does it.
func keepPositive8(d, v f8) f8 {
	u := v.AsInt32x8()
	return d.AsInt32x8().And(i8{}.Sub(u).AndNot(u).ShiftAllRight(31)).AsFloat32x8()
}

// keepPositive4 is keepPositive8 on four lanes.
func keepPositive4(d, v f4) f4 {
	u := v.AsInt32x4()
	return d.AsInt32x4().And(i4{}.Sub(u).AndNot(u).ShiftAllRight(31)).AsFloat32x4()
}

func vecMul(dst, m []float32) int {
	if !avx2 {
		return 0
	}
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		load8(dst[i:]).Mul(load8(m[i:])).StoreSlice(dst[i:])
	}
	return i
}

func vecAddTo(dst, a, b []float32) int {
	if !avx2 {
		return 0
	}
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		load8(a[i:]).Add(load8(b[i:])).StoreSlice(dst[i:])
	}
	return i
}

func vecMulTo(dst, a, b []float32) int {
	if !avx2 {
		return 0
	}
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		load8(a[i:]).Mul(load8(b[i:])).StoreSlice(dst[i:])
	}
	return i
}

func vecReLU(dst, x []float32) int {
	if !avx2 {
		return 0
	}
	i := 0
	for ; avx512 && i+16 <= len(dst); i += 16 {
		relu16(load16(x[i:])).StoreSlice(dst[i:])
	}
	for ; i+8 <= len(dst); i += 8 {
		relu8(load8(x[i:])).StoreSlice(dst[i:])
	}
	return i
}

func vecReLUGrad(dst, y, d []float32) int {
	if !avx2 {
		return 0
	}
	i := 0
	for ; avx512 && i+16 <= len(dst); i += 16 {
		keep16(load16(d[i:]), load16(y[i:])).StoreSlice(dst[i:])
	}
	for ; i+8 <= len(dst); i += 8 {
		keep8(load8(d[i:]), load8(y[i:])).StoreSlice(dst[i:])
	}
	return i
}

// The reductions keep the scalar loops' four lanes (element i in lane
// i mod 4), so their sums round exactly as the scalar ones do.

func vecSumSq(x []float32, s float32, a, q *lanes) int {
	if !avx2 {
		return 0
	}
	sv := archsimd.BroadcastFloat32x4(s)
	var sa, sq f4
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d := load4(x[i:]).Sub(sv)
		sa = sa.Add(d)
		sq = sq.Add(d.Mul(d))
	}
	sa.Store((*[4]float32)(a))
	sq.Store((*[4]float32)(q))
	return i
}

// vecSumSq4 is vecSumSq on four x of one length, their chains interleaved.
func vecSumSq4(x *[4][]float32, s float32, a, q *[4]lanes) int {
	if !avx2 {
		return 0
	}
	sv := archsimd.BroadcastFloat32x4(s)
	var a0, a1, a2, a3, q0, q1, q2, q3 f4
	x0, x1, x2, x3 := x[0], x[1][:len(x[0])], x[2][:len(x[0])], x[3][:len(x[0])]
	i := 0
	if avx512 {
		xs := [4][]float32{x0, x1, x2, x3}
		var sa, sq [4]f4
		i = sumSq4x16(&xs, s, &sa, &sq)
		a0, a1, a2, a3, q0, q1, q2, q3 = sa[0], sa[1], sa[2], sa[3], sq[0], sq[1], sq[2], sq[3]
	}
	for ; i+4 <= len(x0); i += 4 {
		d0, d1 := load4(x0[i:]).Sub(sv), load4(x1[i:]).Sub(sv)
		d2, d3 := load4(x2[i:]).Sub(sv), load4(x3[i:]).Sub(sv)
		a0, a1, a2, a3 = a0.Add(d0), a1.Add(d1), a2.Add(d2), a3.Add(d3)
		q0, q1, q2, q3 = q0.Add(d0.Mul(d0)), q1.Add(d1.Mul(d1)), q2.Add(d2.Mul(d2)), q3.Add(d3.Mul(d3))
	}
	for k, v := range [4]f4{a0, a1, a2, a3} {
		v.Store((*[4]float32)(&a[k]))
	}
	for k, v := range [4]f4{q0, q1, q2, q3} {
		v.Store((*[4]float32)(&q[k]))
	}
	return i
}

// vecStdSums4 is vecStdSums on four pairs d, x of one length, their
// chains interleaved.
func vecStdSums4(d, x *[4][]float32, r ReLUOf, mu, inv float32, a, q *[4]lanes) int {
	if !avx2 {
		return 0
	}
	m, s := archsimd.BroadcastFloat32x4(mu), archsimd.BroadcastFloat32x4(inv)
	rm, rg, rb := archsimd.BroadcastFloat32x4(r.Mu), archsimd.BroadcastFloat32x4(r.G), archsimd.BroadcastFloat32x4(r.B)
	var sa, sq [4]f4
	n := len(d[0])
	var dd, xx [4][]float32
	for k := range dd {
		dd[k], xx[k] = d[k][:n], x[k][:n]
	}
	i := 0
	if avx512 {
		i = stdSums4x16(&dd, &xx, r, mu, inv, &sa, &sq)
	}
	for ; i+4 <= n; i += 4 {
		for k := 0; k < 4; k++ {
			xv := load4(xx[k][i:])
			v := load4(dd[k][i:])
			if r.On {
				v = keepPositive4(v, xv.Sub(rm).Mul(rg).Add(rb))
			}
			sa[k] = sa[k].Add(v)
			sq[k] = sq[k].Add(v.Mul(xv.Sub(m).Mul(s)))
		}
	}
	for k := range sa {
		sa[k].Store((*[4]float32)(&a[k]))
		sq[k].Store((*[4]float32)(&q[k]))
	}
	return i
}

// gather4 puts the four elements at i of each of four slices into one
// vector, slice k in lanes 4k to 4k+3.
func gather4(s *[4][]float32, i int) f16 {
	lo := archsimd.Float32x8{}.SetLo(load4(s[0][i:])).SetHi(load4(s[1][i:]))
	hi := archsimd.Float32x8{}.SetLo(load4(s[2][i:])).SetHi(load4(s[3][i:]))
	return f16{}.SetLo(lo).SetHi(hi)
}

// sumSq4x16 is stdSums4x16 for vecSumSq4: the four slices' four lanes in
// one vector, the same bits.
func sumSq4x16(x *[4][]float32, s float32, sa, sq *[4]f4) int {
	sv := archsimd.BroadcastFloat32x16(s)
	var a, q f16
	i := 0
	for ; i+4 <= len(x[0]); i += 4 {
		d := gather4(x, i).Sub(sv)
		a = a.Add(d)
		q = q.Add(d.Mul(d))
	}
	*sa, *sq = quarters(a), quarters(q)
	return i
}

// quarters splits a vector of sixteen into its four vectors of four.
func quarters(v f16) [4]f4 {
	return [4]f4{v.GetLo().GetLo(), v.GetLo().GetHi(), v.GetHi().GetLo(), v.GetHi().GetHi()}
}

// stdSums4x16 is vecStdSums4's loop with the four pairs' four lanes in
// one vector of sixteen (pair k in lanes 4k to 4k+3): each lane takes the
// same elements in the same order, so the same bits, with one instruction
// where the four-lane loop takes four. It carries sa and sq on and returns
// where it stopped.
func stdSums4x16(d, x *[4][]float32, r ReLUOf, mu, inv float32, sa, sq *[4]f4) int {
	m, s := archsimd.BroadcastFloat32x16(mu), archsimd.BroadcastFloat32x16(inv)
	rm, rg, rb := archsimd.BroadcastFloat32x16(r.Mu), archsimd.BroadcastFloat32x16(r.G), archsimd.BroadcastFloat32x16(r.B)
	var a, q f16
	n := len(d[0])
	i := 0
	for ; i+4 <= n; i += 4 {
		xv, v := gather4(x, i), gather4(d, i)
		if r.On {
			v = keepPositive16(v, xv.Sub(rm).Mul(rg).Add(rb))
		}
		a = a.Add(v)
		q = q.Add(v.Mul(xv.Sub(m).Mul(s)))
	}
	*sa, *sq = quarters(a), quarters(q)
	return i
}

// vecStdSums masks d by y ≠ 0 when y is not nil.
func vecStdSums(d, x []float32, r ReLUOf, mu, inv float32, a, q *lanes) int {
	if !avx2 {
		return 0
	}
	m, s := archsimd.BroadcastFloat32x4(mu), archsimd.BroadcastFloat32x4(inv)
	rm, rg, rb := archsimd.BroadcastFloat32x4(r.Mu), archsimd.BroadcastFloat32x4(r.G), archsimd.BroadcastFloat32x4(r.B)
	var sa, sq f4
	i := 0
	if r.On {
		for ; i+4 <= len(d); i += 4 {
			xv := load4(x[i:])
			v := keepPositive4(load4(d[i:]), xv.Sub(rm).Mul(rg).Add(rb))
			sa = sa.Add(v)
			sq = sq.Add(v.Mul(xv.Sub(m).Mul(s)))
		}
	} else {
		for ; i+4 <= len(d); i += 4 {
			v := load4(d[i:])
			sa = sa.Add(v)
			sq = sq.Add(v.Mul(load4(x[i:]).Sub(m).Mul(s)))
		}
	}
	sa.Store((*[4]float32)(a))
	sq.Store((*[4]float32)(q))
	return i
}

func vecNormalize(dst, x []float32, mu, g, b float32, relu bool) int {
	if !avx2 {
		return 0
	}
	m, gv, bv := archsimd.BroadcastFloat32x8(mu), archsimd.BroadcastFloat32x8(g), archsimd.BroadcastFloat32x8(b)
	i := 0
	if avx512 {
		m, gv, bv := archsimd.BroadcastFloat32x16(mu), archsimd.BroadcastFloat32x16(g), archsimd.BroadcastFloat32x16(b)
		if relu {
			for ; i+16 <= len(dst); i += 16 {
				relu16(load16(x[i:]).Sub(m).Mul(gv).Add(bv)).StoreSlice(dst[i:])
			}
		} else {
			for ; i+16 <= len(dst); i += 16 {
				load16(x[i:]).Sub(m).Mul(gv).Add(bv).StoreSlice(dst[i:])
			}
		}
	}
	if relu {
		for ; i+8 <= len(dst); i += 8 {
			relu8(load8(x[i:]).Sub(m).Mul(gv).Add(bv)).StoreSlice(dst[i:])
		}
		return i
	}
	for ; i+8 <= len(dst); i += 8 {
		load8(x[i:]).Sub(m).Mul(gv).Add(bv).StoreSlice(dst[i:])
	}
	return i
}

func vecAddReLU(dst, a, b []float32) int {
	if !avx2 {
		return 0
	}
	i := 0
	for ; avx512 && i+16 <= len(dst); i += 16 {
		relu16(load16(a[i:]).Add(load16(b[i:]))).StoreSlice(dst[i:])
	}
	for ; i+8 <= len(dst); i += 8 {
		relu8(load8(a[i:]).Add(load8(b[i:]))).StoreSlice(dst[i:])
	}
	return i
}

// vecBNGrad masks d by y ≠ 0 when y is not nil.
func vecBNGrad(dst, d, x []float32, r ReLUOf, mu, inv, k, a, b float32) int {
	if !avx2 {
		return 0
	}
	mv, sv := archsimd.BroadcastFloat32x8(mu), archsimd.BroadcastFloat32x8(inv)
	kv, av, bv := archsimd.BroadcastFloat32x8(k), archsimd.BroadcastFloat32x8(a), archsimd.BroadcastFloat32x8(b)
	rm, rg, rb := archsimd.BroadcastFloat32x8(r.Mu), archsimd.BroadcastFloat32x8(r.G), archsimd.BroadcastFloat32x8(r.B)
	i := 0
	if avx512 {
		i = bnGrad16(dst, d, x, r, mu, inv, k, a, b)
	}
	if r.On {
		for ; i+8 <= len(dst); i += 8 {
			xv := load8(x[i:])
			v := keepPositive8(load8(d[i:]), xv.Sub(rm).Mul(rg).Add(rb))
			xh := xv.Sub(mv).Mul(sv)
			kv.Mul(v.Sub(av).Sub(xh.Mul(bv))).StoreSlice(dst[i:])
		}
		return i
	}
	for ; i+8 <= len(dst); i += 8 {
		xh := load8(x[i:]).Sub(mv).Mul(sv)
		kv.Mul(load8(d[i:]).Sub(av).Sub(xh.Mul(bv))).StoreSlice(dst[i:])
	}
	return i
}

// bnGrad16 is vecBNGrad's body on sixteen lanes, up to the last whole sixteen.
func bnGrad16(dst, d, x []float32, r ReLUOf, mu, inv, k, a, b float32) int {
	mv, sv := archsimd.BroadcastFloat32x16(mu), archsimd.BroadcastFloat32x16(inv)
	kv, av, bv := archsimd.BroadcastFloat32x16(k), archsimd.BroadcastFloat32x16(a), archsimd.BroadcastFloat32x16(b)
	rm, rg, rb := archsimd.BroadcastFloat32x16(r.Mu), archsimd.BroadcastFloat32x16(r.G), archsimd.BroadcastFloat32x16(r.B)
	i := 0
	if r.On {
		for ; i+16 <= len(dst); i += 16 {
			xv := load16(x[i:])
			v := keepPositive16(load16(d[i:]), xv.Sub(rm).Mul(rg).Add(rb))
			xh := xv.Sub(mv).Mul(sv)
			kv.Mul(v.Sub(av).Sub(xh.Mul(bv))).StoreSlice(dst[i:])
		}
		return i
	}
	for ; i+16 <= len(dst); i += 16 {
		xh := load16(x[i:]).Sub(mv).Mul(sv)
		kv.Mul(load16(d[i:]).Sub(av).Sub(xh.Mul(bv))).StoreSlice(dst[i:])
	}
	return i
}

func vecAddScalar(dst []float32, b float32) int {
	if !avx2 {
		return 0
	}
	bv := archsimd.BroadcastFloat32x8(b)
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		load8(dst[i:]).Add(bv).StoreSlice(dst[i:])
	}
	return i
}

// iota16 is 0, 1, …, 15, loaded where used: a vector of sixteen made at
// start-up would need AVX-512 on every CPU.
var iota16 = [16]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// iota8 is 0, 1, …, 7.
var iota8 = archsimd.LoadInt32x8Slice([]int32{0, 1, 2, 3, 4, 5, 6, 7})

// max8 is the maximum of src[i+j·ld : i+j·ld+8] over j in [j0,j1), NaN
// where any is NaN: VMAXPS alone would drop a NaN in one operand.
func max8(src []float32, ld, i, j0, j1 int) f8 {
	m := load8(src[j0*ld+i:])
	nan := m.IsNaN()
	sum := m
	for j := j0 + 1; j < j1; j++ {
		v := load8(src[j*ld+i:])
		nan = nan.Or(v.IsNaN())
		m = m.Max(v)
		sum = sum.Add(v)
	}
	return sum.Merge(m, nan) // the sum is NaN where any value is
}

func vecMaxRows(dst, src []float32, ld, y0, y1 int) int {
	if !avx2 {
		return 0
	}
	i := 0
	for ; avx512 && i+16 <= len(dst); i += 16 {
		max16(src, ld, i, y0, y1).StoreSlice(dst[i:])
	}
	for ; i+8 <= len(dst); i += 8 {
		max8(src, ld, i, y0, y1).StoreSlice(dst[i:])
	}
	return i
}

// max16 is max8 on sixteen lanes, the same operations lane by lane.
func max16(src []float32, ld, i, j0, j1 int) archsimd.Float32x16 {
	m := archsimd.LoadFloat32x16Slice(src[j0*ld+i:])
	nan := m.IsNaN()
	sum := m
	for j := j0 + 1; j < j1; j++ {
		v := archsimd.LoadFloat32x16Slice(src[j*ld+i:])
		nan = nan.Or(v.IsNaN())
		m = m.Max(v)
		sum = sum.Add(v)
	}
	return sum.Merge(m, nan)
}

func vecMaxRowsArg(dst []float32, at []int32, src []float32, ld, y0, y1 int) int {
	if !avx2 {
		return 0
	}
	i := 0
	for ; avx512 && i+16 <= len(dst); i += 16 {
		m := max16(src, ld, i, y0, y1)
		x := archsimd.LoadInt32x16Slice(iota16[:]).Add(archsimd.BroadcastInt32x16(int32(i)))
		a := archsimd.BroadcastInt32x16(int32(y0 * ld)).Add(x)
		for y := y1 - 1; y >= y0; y-- {
			a = archsimd.BroadcastInt32x16(int32(y*ld)).Add(x).Merge(a, archsimd.LoadFloat32x16Slice(src[y*ld+i:]).Equal(m))
		}
		m.StoreSlice(dst[i:])
		a.StoreSlice(at[i:])
	}
	for ; i+8 <= len(dst); i += 8 {
		m := max8(src, ld, i, y0, y1)
		x := iota8.Add(archsimd.BroadcastInt32x8(int32(i)))
		a := archsimd.BroadcastInt32x8(int32(y0 * ld)).Add(x)
		for y := y1 - 1; y >= y0; y-- {
			a = archsimd.BroadcastInt32x8(int32(y*ld)).Add(x).Merge(a, load8(src[y*ld+i:]).Equal(m))
		}
		m.StoreSlice(dst[i:])
		a.StoreSlice(at[i:])
	}
	return i
}

func vecWindowMaxArg(dst []float32, at []int32, src []float32, key []int32, k int) int {
	if !avx2 {
		return 0
	}
	none := archsimd.BroadcastInt32x8(math.MaxInt32)
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		m := max8(src, 1, i, 0, k)
		a := none
		for j := 0; j < k; j++ {
			kj := archsimd.LoadInt32x8Slice(key[i+j:]).Merge(none, load8(src[i+j:]).Equal(m))
			a = a.Min(kj)
		}
		m.StoreSlice(dst[i:])
		a.StoreSlice(at[i:])
	}
	return i
}

// The row kernels below cover the whole vectors of every row, one call a
// map, and return where the rows' scalar tails start.

func vecUnpadRows(dst, src, m []float32, h, w, ld int, bias float32, addBias bool) int {
	if !avx2 {
		return 0
	}
	bv := archsimd.BroadcastFloat32x8(bias)
	n, n16 := w&^7, 0
	if avx512 && w >= 16 {
		n16 = w &^ 15
		unpadRows16(dst, src, m, h, w, ld, n16, bias, addBias)
	}
	for y := 0; y < h; y++ {
		for i := n16; i < n; i += 8 {
			v := load8(src[y*ld+i:])
			if addBias {
				v = v.Add(bv)
			}
			if m != nil {
				v = v.Mul(load8(m[y*w+i:]))
			}
			v.StoreSlice(dst[y*w+i:])
		}
	}
	return n
}

func vecNormalizeRows(dst []float32, dld int, src []float32, sld int, r []float32, rld, h, w int, mu, g, b float32, relu bool) int {
	if !avx2 {
		return 0
	}
	m, gv, bv := archsimd.BroadcastFloat32x8(mu), archsimd.BroadcastFloat32x8(g), archsimd.BroadcastFloat32x8(b)
	n, n16 := w&^7, 0
	if avx512 {
		n16 = w &^ 15
		normalizeRows16(dst, dld, src, sld, r, rld, h, n16, mu, g, b, relu)
	}
	for y := 0; y < h; y++ {
		for i := n16; i < n; i += 8 {
			v := load8(src[y*sld+i:]).Sub(m).Mul(gv).Add(bv)
			if r != nil {
				v = v.Add(load8(r[y*rld+i:]))
			}
			if relu {
				v = relu8(v)
			}
			v.StoreSlice(dst[y*dld+i:])
		}
	}
	return n
}

// normalizeRows16 is vecNormalizeRows' body on sixteen lanes, for the
// first n of each row: half the instructions of eight lanes, the same
// operations on each.
func normalizeRows16(dst []float32, dld int, src []float32, sld int, r []float32, rld, h, n int, mu, g, b float32, relu bool) {
	m, gv, bv := archsimd.BroadcastFloat32x16(mu), archsimd.BroadcastFloat32x16(g), archsimd.BroadcastFloat32x16(b)
	for y := 0; y < h; y++ {
		for i := 0; i < n; i += 16 {
			v := load16(src[y*sld+i:]).Sub(m).Mul(gv).Add(bv)
			if r != nil {
				v = v.Add(load16(r[y*rld+i:]))
			}
			if relu {
				v = relu16(v)
			}
			v.StoreSlice(dst[y*dld+i:])
		}
	}
}

// unpadRows16 is vecUnpadRows' loop on sixteen lanes for columns [0, n),
// one loop per case so that no row tests the flags.
func unpadRows16(dst, src, m []float32, h, w, ld, n int, bias float32, addBias bool) {
	bv := archsimd.BroadcastFloat32x16(bias)
	for y := 0; y < h; y++ {
		in, out := src[y*ld:y*ld+n], dst[y*w:y*w+n]
		switch {
		case m == nil && !addBias:
			for i := 0; i < n; i += 16 {
				load16(in[i:]).StoreSlice(out[i:])
			}
		case m == nil:
			for i := 0; i < n; i += 16 {
				load16(in[i:]).Add(bv).StoreSlice(out[i:])
			}
		case !addBias:
			mr := m[y*w : y*w+n]
			for i := 0; i < n; i += 16 {
				load16(in[i:]).Mul(load16(mr[i:])).StoreSlice(out[i:])
			}
		default:
			mr := m[y*w : y*w+n]
			for i := 0; i < n; i += 16 {
				load16(in[i:]).Add(bv).Mul(load16(mr[i:])).StoreSlice(out[i:])
			}
		}
	}
}

// padRows16 is vecPadRows' loop on sixteen lanes for columns [0, n).
func padRows16(dst, src, m []float32, h, w, ld, n int) {
	for y := 0; y < h; y++ {
		in, out := src[y*w:y*w+n], dst[y*ld:y*ld+n]
		if m == nil {
			for i := 0; i < n; i += 16 {
				load16(in[i:]).StoreSlice(out[i:])
			}
			continue
		}
		mr := m[y*w : y*w+n]
		for i := 0; i < n; i += 16 {
			load16(in[i:]).Mul(load16(mr[i:])).StoreSlice(out[i:])
		}
	}
}

func vecPadRows(dst, src, m []float32, h, w, ld int) int {
	if !avx2 {
		return 0
	}
	n, n16 := w&^7, 0
	if avx512 && w >= 16 {
		n16 = w &^ 15
		padRows16(dst, src, m, h, w, ld, n16)
	}
	for y := 0; y < h; y++ {
		for i := n16; i < n; i += 8 {
			v := load8(src[y*w+i:])
			if m != nil {
				v = v.Mul(load8(m[y*w+i:]))
			}
			v.StoreSlice(dst[y*ld+i:])
		}
	}
	return n
}

// vecHsum is hsum for 8 or 16 lanes, in the same order.
func vecHsum(l []float32) (float32, bool) {
	if !avx2 || (len(l) != 8 && len(l) != 16) {
		return 0, false
	}
	s := load8(l)
	if len(l) == 16 {
		s = s.Add(load8(l[8:]))
	}
	var q [4]float32
	s.GetLo().Add(s.GetHi()).Store(&q)
	return (q[0] + q[2]) + (q[1] + q[3]), true
}

func stridedVector(k, s int) bool { return avx512 && s == 2 && k <= maxStrided }

// maxStrided is the widest window vecStridedWindowMax takes: eight
// windows two apart then span at most 32 values, two vectors.
const maxStrided = 18

// pick2[j] gathers element j of eight windows two apart from 32 values
// (lane l ← value 2l+j); the upper eight lanes are not used.
var pick2 = func() (p [maxStrided][16]uint32) {
	for j := range p {
		for l := range p[j] {
			p[j][l] = uint32(2*l+j) % 32
		}
	}
	return p
}()

// vecStridedWindowMax takes eight windows of stride 2 at a time: their
// elements j are one permute of two vectors of values (and of keys), and
// the maximum and first key follow vecWindowMaxArg's operations in the
// same order, so the bits are those of the stride-1 windows it would
// pick from. Reads past the end of src and key fill lanes that no window
// of dst uses with zeros.
func vecStridedWindowMax(dst []float32, at []int32, src []float32, key []int32, k, s int) int {
	if !stridedVector(k, s) {
		return 0
	}
	none := archsimd.BroadcastInt32x16(math.MaxInt32)
	for o := 0; o < len(dst); o += 8 {
		a, b := part16(src, 2*o), part16(src, 2*o+16)
		m := a.ConcatPermute(b, archsimd.LoadUint32x16Slice(pick2[0][:]))
		nan := m.IsNaN()
		sum := m
		for j := 1; j < k; j++ {
			v := a.ConcatPermute(b, archsimd.LoadUint32x16Slice(pick2[j][:]))
			nan = nan.Or(v.IsNaN())
			m = m.Max(v)
			sum = sum.Add(v)
		}
		m = sum.Merge(m, nan) // the sum is NaN where any value is
		if at != nil {
			ka, kb := partInt16(key, 2*o), partInt16(key, 2*o+16)
			first := none
			for j := 0; j < k; j++ {
				idx := archsimd.LoadUint32x16Slice(pick2[j][:])
				kj := ka.ConcatPermute(kb, idx).Merge(none, a.ConcatPermute(b, idx).Equal(m))
				first = first.Min(kj)
			}
			first.GetLo().StoreSlicePart(at[o:])
		}
		m.GetLo().StoreSlicePart(dst[o:])
	}
	return len(dst)
}

// part16 loads s[i:i+16], zeros past the end of s.
func part16(s []float32, i int) archsimd.Float32x16 {
	if i >= len(s) {
		return archsimd.Float32x16{}
	}
	return archsimd.LoadFloat32x16SlicePart(s[i:])
}

// partInt16 is part16 for keys.
func partInt16(s []int32, i int) archsimd.Int32x16 {
	if i >= len(s) {
		return archsimd.Int32x16{}
	}
	return archsimd.LoadInt32x16SlicePart(s[i:])
}

// pick2m[j] marks the lanes of pick2[j] that stay inside 32 values.
var pick2m = func() (m [maxStrided][16]int32) {
	for j := range m {
		for l := range m[j] {
			if 2*l+j < 32 {
				m[j][l] = -1
			}
		}
	}
	return m
}()

// spread2 are pick2's inverses: spread2[j][h][p] is the lane of sixteen
// outputs whose window holds value 16h+p as its element j, or 16 (a zero
// lane) where none does.
var spread2 = func() (t [maxStrided][2][16]uint32) {
	for j := range t {
		for h := range t[j] {
			for p := range t[j][h] {
				t[j][h][p] = 16
				if x := 16*h + p - j; x >= 0 && x%2 == 0 && x/2 < 16 {
					t[j][h][p] = uint32(x / 2)
				}
			}
		}
	}
	return t
}()

// vecAvgPoolRow takes the sixteen windows of a row of at most 32 values
// at once: element j of every window is one permute of the row, the
// elements past the row zeros (which leave a sum begun at +0 as it is:
// such a sum is never −0), added in AvgPoolRow's order.
func vecAvgPoolRow(dst, plane []float32, w, y0, y1, k, s int, div []float32) int {
	if !stridedVector(k, s) || w > 32 || len(dst) > 16 {
		return 0
	}
	var acc archsimd.Float32x16
	for y := y0; y < y1; y++ {
		row := plane[y*w : (y+1)*w]
		a, b := part16(row, 0), part16(row, 16)
		for j := 0; j < k; j++ {
			in := archsimd.LoadInt32x16Slice(pick2m[j][:]).NotEqual(archsimd.Int32x16{})
			acc = acc.Add(a.ConcatPermute(b, archsimd.LoadUint32x16Slice(pick2[j][:])).Masked(in))
		}
	}
	acc.Div(archsimd.LoadFloat32x16SlicePart(div)).StoreSlicePart(dst)
	return len(dst)
}

// vecAvgPoolRowGrad adds the sixteen windows' g to a row of at most 32
// values at once, element j of every window by one permute (zeros where
// a value is in no window, which change nothing), j from the last so that
// each value takes its windows in order.
func vecAvgPoolRowGrad(plane, g []float32, w, y0, y1, k, s int) bool {
	if !stridedVector(k, s) || w > 32 || len(g) > 16 {
		return false
	}
	gv, zero := archsimd.LoadFloat32x16SlicePart(g), archsimd.Float32x16{}
	for y := y0; y < y1; y++ {
		row := plane[y*w : (y+1)*w]
		a, b := part16(row, 0), part16(row, 16)
		for j := k - 1; j >= 0; j-- {
			a = a.Add(gv.ConcatPermute(zero, archsimd.LoadUint32x16Slice(spread2[j][0][:])))
			b = b.Add(gv.ConcatPermute(zero, archsimd.LoadUint32x16Slice(spread2[j][1][:])))
		}
		a.StoreSlicePart(row)
		if w > 16 {
			b.StoreSlicePart(row[16:])
		}
	}
	return true
}

// zip2 interleaves the first eight lanes of two vectors.
var zip2 = [16]uint32{0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23}

// unzip2 gathers the even (and, plus one, the odd) lanes of two vectors.
var unzip2 = [16]uint32{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}

// vecDeinterleave2 takes 32 values at a time by two permutes, the last
// ones by loads and stores of part of a vector; it does them all.
func vecDeinterleave2(even, odd, src, mask []float32) int {
	if !avx512 {
		return 0
	}
	ie := archsimd.LoadUint32x16Slice(unzip2[:])
	io := ie.Add(archsimd.BroadcastUint32x16(1))
	x := 0
	for ; x+32 <= len(src); x += 32 { // whole vectors: no masks
		a, b := load16(src[x:]), load16(src[x+16:])
		if mask != nil {
			a, b = a.Mul(load16(mask[x:])), b.Mul(load16(mask[x+16:]))
		}
		a.ConcatPermute(b, ie).StoreSlice(even[x/2:])
		a.ConcatPermute(b, io).StoreSlice(odd[x/2:])
	}
	for ; x < len(src); x += 32 {
		n := min(len(src)-x, 32)
		lo, hi := src[x:x+min(n, 16)], src[x+min(n, 16):x+n]
		a, b := archsimd.LoadFloat32x16SlicePart(lo), archsimd.LoadFloat32x16SlicePart(hi)
		if mask != nil {
			a = a.Mul(archsimd.LoadFloat32x16SlicePart(mask[x : x+len(lo)]))
			b = b.Mul(archsimd.LoadFloat32x16SlicePart(mask[x+len(lo) : x+n]))
		}
		a.ConcatPermute(b, ie).StoreSlicePart(even[x/2 : x/2+(n+1)/2])
		a.ConcatPermute(b, io).StoreSlicePart(odd[x/2 : x/2+n/2])
	}
	return len(src)
}

// vecInterleave2 takes 32 outputs at a time by two permutes, then sixteen
// by one.
func vecInterleave2(dst, even, odd []float32) int {
	if !avx512 {
		return 0
	}
	idx := archsimd.LoadUint32x16Slice(zip2[:])
	hi := idx.Add(archsimd.BroadcastUint32x16(8))
	x := 0
	for ; x+32 <= len(dst); x += 32 { // whole vectors: no masks
		e, o := load16(even[x/2:]), load16(odd[x/2:])
		e.ConcatPermute(o, idx).StoreSlice(dst[x:])
		e.ConcatPermute(o, hi).StoreSlice(dst[x+16:])
	}
	for ; x+16 <= len(dst); x += 16 {
		e := archsimd.LoadFloat32x16SlicePart(even[x/2:])
		e.ConcatPermute(archsimd.LoadFloat32x16SlicePart(odd[x/2:]), idx).StoreSlice(dst[x:])
	}
	return x
}
