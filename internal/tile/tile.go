// Package tile holds the inner loops of the direct convolution (kept apart
// from package kernels because Go does not allow assembly in a package that
// uses cgo, as the OpenBLAS build does). On amd64 they are AVX2 and AVX-512
// assembly; each exported function's doc comment is the Go loop it
// computes, and that loop (conv and dot below) is the function itself on
// every other GOARCH and under the noasm build tag, computing the same bits.
package tile

import (
	"math"
	"unsafe"
)

// fma32 returns a·b + c rounded once to float32, as one lane of the
// assembly's VFMADD231PS computes it.
//
// float32(math.FMA(float64(a), float64(b), float64(c))) is not that: the
// product of two float32 is exact in float64 (24+24 ≤ 53 bits) but the sum
// is rounded twice, and the rule that rounding to 53 bits and then to 24 is
// innocuous (53 ≥ 2·24+2) holds for the sum of two float32, not for a
// 48-bit product plus a float32, which can need hundreds of bits. For
// a = 2⁻²⁴(1+2⁻¹⁵), b = 1−2⁻¹⁵, c = 1+2⁻²³ the exact sum lies 2⁻⁵⁴ below
// the float32 midpoint 1+2⁻²³+2⁻²⁴; float64 rounds it onto the midpoint and
// float32 then rounds the tie to even, 1+2⁻²², one ulp from the correct
// 1+2⁻²³ (TestFMA32 checks both). So the sum is rounded to odd in float64
// instead: the error e of s = fl(p+c) is exact by TwoSum, and when e ≠ 0 and
// s's last bit is even s steps to its neighbour on e's side. Rounding to
// odd with at least two spare bits and then to nearest equals rounding to
// nearest once (Boldo and Melquiond, "Emulation of FMA and correctly
// rounded sums: proved algorithms using rounding to odd", IEEE TC 2008);
// float64 has 29 spare bits over float32, also where float32 is
// subnormal, and no float32 product or sum comes near float64's range
// limits. Fusing by the compiler (allowed on arm64 for p + c) changes
// nothing, since p is exact.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	z := s - p
	e := (p - (s - z)) + (float64(c) - z)
	// e is NaN only when s is ±Inf or NaN, which float32(s) carries over.
	if e != 0 && e == e {
		if bits := math.Float64bits(s); bits&1 == 0 {
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// conv is Conv, Conv16 and Conv16Half for rows output rows by cols
// columns: out[i·ldo+j] = Σ_ch Σ_t w[(ch·taps+t)·rows+i] · in[ch·ldi+off[t]+j],
// each sum begun at +0 and taken in the order of ch, then t, one fma32 per
// term, as the assembly's accumulators take it; out is overwritten.
func conv(rows, cols int, out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int) {
	offs := unsafe.Slice(off, taps)
	reach := 0
	for _, o := range offs {
		reach = max(reach, o)
	}
	src := unsafe.Slice(in, (c-1)*ldi+reach+cols)
	wt := unsafe.Slice(w, c*taps*rows)
	dst := unsafe.Slice(out, (rows-1)*ldo+cols)
	var acc [8 * 32]float32
	a := acc[:rows*cols]
	for ch := 0; ch < c; ch++ {
		for t, o := range offs {
			x := src[ch*ldi+o:][:cols]
			wv := wt[(ch*taps+t)*rows:][:rows]
			for i, wi := range wv {
				r := a[i*cols:][:cols]
				for j, v := range x {
					r[j] = fma32(wi, v, r[j])
				}
			}
		}
	}
	for i := 0; i < rows; i++ {
		copy(dst[i*ldo:][:cols], a[i*cols:][:cols])
	}
}

// dot is Dot and Dot16 for len(a) a rows by len(b) b rows and lanes
// partial sums each: acc[(len(b)·i+j)·lanes+l] += a_i[img·sa+k] · b_j[img·sb+k]
// for img < imgs and k < n with k ≡ l mod lanes, in the order of img, then
// k, one fma32 per term, as the assembly's accumulators take it.
func dot(lanes int, acc *float32, a, b []*float32, n, imgs, sa, sb int) {
	sums := unsafe.Slice(acc, len(a)*len(b)*lanes)
	for img := 0; img < imgs; img++ {
		for i, ap := range a {
			x := unsafe.Slice(ap, img*sa+n)[img*sa:]
			for j, bp := range b {
				y := unsafe.Slice(bp, img*sb+n)[img*sb:]
				s := sums[(len(b)*i+j)*lanes:][:lanes]
				for k := 0; k < n; k += lanes {
					xk, yk := x[k:][:lanes], y[k:][:lanes]
					for l := range s {
						s[l] = fma32(xk[l], yk[l], s[l])
					}
				}
			}
		}
	}
}

// dotSum is Dot16Sum: dot(16, …) of four a rows by four b rows from zero,
// then each pair's sixteen lane sums s added up as the assembly's shuffles
// pair them, w_k = (s[4k]+s[4k+2]) + (s[4k+1]+s[4k+3]) for each quarter k
// and (w_0+w_2) + (w_1+w_3), into acc[4i+j]. A fixed tree, so that the
// bits do not depend on how the lanes were reached.
func dotSum(acc *float32, a, b []*float32, n, imgs, sa, sb int) {
	var lanes [16 * 16]float32
	dot(16, &lanes[0], a, b, n, imgs, sa, sb)
	out := unsafe.Slice(acc, 16)
	for e := range out {
		s := lanes[e*16:][:16]
		var w [4]float32
		for k := range w {
			w[k] = (s[4*k] + s[4*k+2]) + (s[4*k+1] + s[4*k+3])
		}
		out[e] = (w[0] + w[2]) + (w[1] + w[3])
	}
}

// PeakFMAs is the number of independent multiply-add chains in Peak.
const PeakFMAs = 12

// peak is Peak's Go loop: iters rounds of PeakFMAs independent fma32 on
// lanes lanes each, whose results are kept only so that the loop is not
// removed.
func peak(iters, lanes int) {
	var acc [PeakFMAs]float32
	for i := range acc {
		acc[i] = float32(i)
	}
	for it := 0; it < iters; it++ {
		for l := 0; l < lanes; l++ {
			for k := range acc {
				acc[k] = fma32(acc[k], 0.999, 1e-3)
			}
		}
	}
	peakSink = acc[0]
}

var peakSink float32
