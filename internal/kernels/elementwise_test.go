package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// elementwiseInput returns n values mixing signs, zeros of both signs and
// exact ties, so masks and ReLUs meet every case.
func elementwiseInput(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch r.IntN(8) {
		case 0:
			x[i] = 0
		case 1:
			x[i] = float32(math.Copysign(0, -1))
		default:
			x[i] = float32(r.NormFloat64() * 3)
		}
	}
	return x
}

// laneSums is the reference summation: element i into float32 lane i mod 4
// — except a tail past the last multiple of 4, which goes to lane 0 — then
// the lanes added in float64.
func laneSums(n int, term func(i int) (float32, float32)) (float64, float64) {
	var a, q lanes
	for i := 0; i < n; i++ {
		l := i % 4
		if i >= n/4*4 {
			l = 0
		}
		s, t := term(i)
		a[l] += s
		q[l] += t
	}
	return a.fold(), q.fold()
}

// TestElementwiseMatchesFormulas pins every element-wise kernel, bit for bit,
// to its per-element formula at lengths that exercise the vector bodies'
// tails; the same test runs with and without GOEXPERIMENT=simd (make test).
func TestElementwiseMatchesFormulas(t *testing.T) {
	t.Logf("vector bodies: %s", Vector())
	r := rand.New(rand.NewPCG(1, 2))
	keep := func(d, y float32) float32 {
		if y != 0 {
			return d
		}
		return 0
	}
	reluf := func(v float32) float32 {
		if v > 0 || (v == 0 && !math.Signbit(float64(v))) {
			return v
		}
		return 0
	}
	const mu, g, b, k, a = 0.25, 1.5, -0.125, 0.75, 0.375
	// A fused ReLU's affine map: x = ±0 gives (±0 − 0)·(−1.25) + 0 = +0,
	// an output of zero, so both sides of the mask are taken.
	r0 := ReLUOf{On: true, Mu: 0, G: -1.25, B: 0}
	yOf := func(x float32) float32 { return reluf(float32((x-r0.Mu)*r0.G) + r0.B) }
	maps := []struct {
		name string
		run  func(dst, x, y, z []float32)
		want func(x, y, z float32, old float32) float32
	}{
		{"Mul", func(dst, x, _, _ []float32) { Mul(dst, x) }, func(x, _, _, old float32) float32 { return old * x }},
		{"AddTo", func(dst, x, y, _ []float32) { AddTo(dst, x, y) }, func(x, y, _, _ float32) float32 { return x + y }},
		{"MulTo", func(dst, x, y, _ []float32) { MulTo(dst, x, y) }, func(x, y, _, _ float32) float32 { return x * y }},
		{"ReLU", func(dst, x, _, _ []float32) { ReLU(dst, x) }, func(x, _, _, _ float32) float32 { return reluf(x) }},
		{"ReLUGrad", func(dst, x, _, z []float32) { ReLUGrad(dst, z, x) }, func(x, _, z, _ float32) float32 { return keep(x, z) }},
		{"Normalize", func(dst, x, _, _ []float32) { Normalize(dst, x, mu, g, b) }, func(x, _, _, _ float32) float32 { return float32((x-mu)*g) + b }},
		{"NormalizeReLU", func(dst, x, _, _ []float32) { NormalizeReLU(dst, x, mu, g, b) }, func(x, _, _, _ float32) float32 { return reluf(float32((x-mu)*g) + b) }},
		{"AddReLU", func(dst, x, y, _ []float32) { AddReLU(dst, x, y) }, func(x, y, _, _ float32) float32 { return reluf(x + y) }},
		{"BNGrad", func(dst, x, y, _ []float32) { BNGrad(dst, x, y, ReLUOf{}, mu, g, k, a, b) }, func(x, y, _, _ float32) float32 { return k * (x - a - float32(((y-mu)*g)*b)) }},
		{"BNGrad masked", func(dst, x, y, _ []float32) { BNGrad(dst, x, y, r0, mu, g, k, a, b) }, func(x, y, _, _ float32) float32 { return k * (keep(x, yOf(y)) - a - float32(((y-mu)*g)*b)) }},
		{"AddScalar", func(dst, _, _, _ []float32) { AddScalar(dst, b) }, func(_, _, _, old float32) float32 { return old + b }},
		{"NormalizeAdd", func(dst, x, y, _ []float32) { NormalizeAdd(dst, x, y, mu, g, b, false) }, func(x, y, _, _ float32) float32 { return (float32((x-mu)*g) + b) + y }},
		{"NormalizeAdd relu", func(dst, x, y, _ []float32) { NormalizeAdd(dst, x, y, mu, g, b, true) }, func(x, y, _, _ float32) float32 { return reluf((float32((x-mu)*g) + b) + y) }},
	}
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 64, 1027} {
		x, y, z := elementwiseInput(r, n), elementwiseInput(r, n), elementwiseInput(r, n)
		for i := range z {
			z[i] = reluf(z[i]) // a ReLU's output, as the masked kernels expect
		}
		old := elementwiseInput(r, n)
		for _, m := range maps {
			dst := append([]float32(nil), old...)
			m.run(dst, x, y, z)
			want := make([]float32, n)
			for i := range want {
				want[i] = m.want(x[i], y[i], z[i], old[i])
			}
			for i := range want {
				if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
					t.Errorf("%s, n=%d (vector %s): element %d is %v, want %v", m.name, n, Vector(), i, dst[i], want[i])
					break
				}
			}
		}
		sums := []struct {
			name string
			got  func() (float64, float64)
			term func(i int) (float32, float32)
		}{
			{"SumSq", func() (float64, float64) { return SumSq(x, mu) }, func(i int) (float32, float32) { d := x[i] - mu; return d, float32(d * d) }},
			{"StdSums", func() (float64, float64) { return StdSums(x, y, ReLUOf{}, mu, g) }, func(i int) (float32, float32) { return x[i], float32(x[i] * ((y[i] - mu) * g)) }},
			{"StdSums masked", func() (float64, float64) { return StdSums(x, y, r0, mu, g) }, func(i int) (float32, float32) { v := keep(x[i], yOf(y[i])); return v, float32(v * ((y[i] - mu) * g)) }},
		}
		for _, s := range sums {
			g1, g2 := s.got()
			w1, w2 := laneSums(n, s.term)
			if g1 != w1 || g2 != w2 {
				t.Errorf("%s, n=%d (vector %s): got %v, %v; want %v, %v", s.name, n, Vector(), g1, g2, w1, w2)
			}
		}
		// The four-at-once sums give each pair what the one-pair sums give.
		var xs, ys [4][]float32
		for k := range xs {
			xs[k], ys[k] = elementwiseInput(r, n), elementwiseInput(r, n)
		}
		s1, s2 := SumSq4(&xs, mu)
		for k := range xs {
			if w1, w2 := SumSq(xs[k], mu); s1[k] != w1 || s2[k] != w2 {
				t.Errorf("SumSq4, n=%d, slice %d: got %v, %v; want %v, %v", n, k, s1[k], s2[k], w1, w2)
			}
		}
		for _, rr := range []ReLUOf{{}, r0} {
			s1, s2 := StdSums4(&xs, &ys, rr, mu, g)
			for k := range xs {
				if w1, w2 := StdSums(xs[k], ys[k], rr, mu, g); s1[k] != w1 || s2[k] != w2 {
					t.Errorf("StdSums4 (ReLU %v), n=%d, slice %d: got %v, %v; want %v, %v", rr.On, n, k, s1[k], s2[k], w1, w2)
				}
			}
		}
	}
}

// MaxRows and MaxRowsArg against direct loops, on inputs full of ties and
// with NaNs, at widths with and without a vector tail.
func TestMaxRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	nan := float32(math.NaN())
	for _, w := range []int{1, 7, 8, 16, 19, 32} {
		const h = 6
		src := make([]float32, h*w)
		for i := range src {
			src[i] = float32(r.IntN(3)) - 1
			if r.IntN(40) == 0 {
				src[i] = nan
			}
		}
		for y0 := 0; y0 < h; y0++ {
			for y1 := y0 + 1; y1 <= h; y1++ {
				dst, dst2, at := make([]float32, w), make([]float32, w), make([]int32, w)
				MaxRows(dst, src, w, y0, y1)
				MaxRowsArg(dst2, at, src, w, y0, y1)
				for x := 0; x < w; x++ {
					m, a, isNaN := float32(math.Inf(-1)), int32(-1), false
					for y := y0; y < y1; y++ {
						v := src[y*w+x]
						isNaN = isNaN || v != v
						if v > m {
							m, a = v, int32(y*w+x)
						}
					}
					if isNaN {
						m, a = nan, int32(y0*w+x)
					}
					same := func(g float32) bool { return g == m || (g != g && m != m) }
					if !same(dst[x]) || !same(dst2[x]) || at[x] != a {
						t.Fatalf("w=%d rows [%d,%d) column %d (vector %s): max %v / %v at %d, want %v at %d", w, y0, y1, x, Vector(), dst[x], dst2[x], at[x], m, a)
					}
				}
			}
		}
	}
}

// StridedWindowMax gives the bits of WindowMaxArg's windows that it picks
// (every s-th), keys included, with and without keys, at lengths that end
// inside and past a vector's reads, with ties, zeros of both signs and NaNs.
func TestStridedWindowMax(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	nan, negZero := float32(math.NaN()), float32(math.Copysign(0, -1))
	for _, n := range []int{1, 5, 7, 8, 9, 15, 16, 17, 31} {
		for _, k := range []int{1, 2, 3, 5} {
			for _, s := range []int{1, 2, 3} {
				for _, spare := range []int{0, 40} { // values past the last window
					m := s*(n-1) + k + spare
					src, key := make([]float32, m), make([]int32, m)
					for i := range src {
						src[i], key[i] = float32(r.IntN(3))-1, int32(r.IntN(100))
						switch r.IntN(30) {
						case 0:
							src[i] = nan
						case 1:
							src[i] = negZero
						}
					}
					// The vector windows' reference is WindowMaxArg's vector
					// body on whole vectors; the loops' is maxDown's.
					all, allAt := make([]float32, s*(n-1)+1), make([]int32, s*(n-1)+1)
					if StridedVector(k, s) {
						whole := (len(all) + Lanes - 1) / Lanes * Lanes
						wide, wideAt := make([]float32, whole), make([]int32, whole)
						WindowMaxArg(wide, wideAt, append(src, make([]float32, whole-len(all))...), append(key, make([]int32, whole-len(all))...), k)
						copy(all, wide)
						copy(allAt, wideAt)
					} else {
						for x := range all {
							all[x] = maxDown(src, 1, x, 0, k)
							allAt[x] = math.MaxInt32
							for j := 0; j < k; j++ {
								if src[x+j] == all[x] {
									allAt[x] = min(allAt[x], key[x+j])
								}
							}
						}
					}
					dst, at, dst2 := make([]float32, n), make([]int32, n), make([]float32, n)
					StridedWindowMax(dst, at, src, key, k, s)
					StridedWindowMax(dst2, nil, src, nil, k, s)
					for o := 0; o < n; o++ {
						want := math.Float32bits(all[s*o])
						if math.Float32bits(dst[o]) != want || math.Float32bits(dst2[o]) != want || at[o] != allAt[s*o] {
							t.Fatalf("n=%d k=%d s=%d spare=%d o=%d: max %v / %v, key %d; want %v, %d", n, k, s, spare, o, dst[o], dst2[o], at[o], all[s*o], allAt[s*o])
						}
					}
				}
			}
		}
	}
}

// MaxRows over k consecutive values (stride 1) and WindowMaxArg against
// direct loops, ties and NaNs included.
func TestWindowMax(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	nan := float32(math.NaN())
	for _, n := range []int{1, 7, 8, 9, 16, 30} {
		for _, k := range []int{1, 2, 3, 5} {
			src, key := make([]float32, n+k-1), make([]int32, n+k-1)
			for i := range src {
				src[i], key[i] = float32(r.IntN(3))-1, int32(r.IntN(100))
				if r.IntN(30) == 0 {
					src[i] = nan
				}
			}
			dst, dst2, at := make([]float32, n), make([]float32, n), make([]int32, n)
			MaxRows(dst, src, 1, 0, k) // the k-wide window maxima pooling takes
			WindowMaxArg(dst2, at, src, key, k)
			for x := 0; x < n; x++ {
				m, isNaN := float32(math.Inf(-1)), false
				for _, v := range src[x : x+k] {
					isNaN = isNaN || v != v
					m = max(m, v)
				}
				a := int32(math.MaxInt32)
				for j := 0; j < k; j++ {
					if src[x+j] == m && key[x+j] < a {
						a = key[x+j]
					}
				}
				same := func(g float32) bool { return g == m || (g != g && isNaN) }
				if !same(dst[x]) || !same(dst2[x]) || at[x] != a {
					t.Fatalf("n=%d k=%d x=%d (vector %s): max %v / %v, key %d; want %v, %d", n, k, x, Vector(), dst[x], dst2[x], at[x], m, a)
				}
			}
		}
	}
}

// Deinterleave2 against its definition, with and without a mask, at
// lengths around the vector's 32 values, ±0 included.
func TestDeinterleave2(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for n := 0; n <= 70; n++ {
		src, mask := elementwiseInput(r, n), elementwiseInput(r, n)
		for _, m := range [][]float32{nil, mask} {
			even, odd := make([]float32, (n+1)/2), make([]float32, n/2)
			Deinterleave2(even, odd, src, m)
			for x := range src {
				want := src[x]
				if m != nil {
					want *= m[x]
				}
				got := even[x/2]
				if x%2 == 1 {
					got = odd[x/2]
				}
				if math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("n=%d mask %v: element %d is %v, want %v", n, m != nil, x, got, want)
				}
			}
		}
	}
}

// PadRows and UnpadRows against their loops, at widths around the vectors'
// eight and sixteen lanes, with and without mask and bias; PadRows'
// borders must come out zero over whatever the plane held.
func TestPadUnpadRows(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	const h, extra = 3, 5
	for w := 1; w <= 40; w++ {
		ld, s := w+extra, extra+2
		total := s + h*ld + 3
		src, mask, grid := elementwiseInput(r, h*w), elementwiseInput(r, h*w), elementwiseInput(r, h*ld)
		for _, m := range [][]float32{nil, mask} {
			at := func(y, x int) float32 {
				if m == nil {
					return 1
				}
				return m[y*w+x]
			}
			dst := elementwiseInput(r, total)
			PadRows(dst, src, m, h, w, ld, s, total)
			for i, v := range dst {
				want := float32(0)
				if y, x := (i-s)/ld, (i-s)%ld; i >= s && y < h && x < w {
					want = src[y*w+x] * at(y, x)
				}
				if math.Float32bits(v) != math.Float32bits(want) {
					t.Fatalf("PadRows w=%d mask %v: dst[%d] = %v, want %v", w, m != nil, i, v, want)
				}
			}
			for _, addBias := range []bool{false, true} {
				out := make([]float32, h*w)
				UnpadRows(out, grid, m, h, w, ld, 0.375, addBias)
				for i, v := range out {
					y, x := i/w, i%w
					want := grid[y*ld+x]
					if addBias {
						want += 0.375
					}
					want *= at(y, x)
					if math.Float32bits(v) != math.Float32bits(want) {
						t.Fatalf("UnpadRows w=%d mask %v bias %v: out[%d] = %v, want %v", w, m != nil, addBias, i, v, want)
					}
				}
			}
		}
	}
}

// Interleave2 against its loop, at lengths around the vector's sixteen.
func TestInterleave2(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for n := 0; n <= 50; n++ {
		even, odd := elementwiseInput(r, (n+1)/2), elementwiseInput(r, n/2)
		dst := make([]float32, n)
		Interleave2(dst, even, odd)
		for x := range dst {
			want := even[x/2]
			if x%2 == 1 {
				want = odd[x/2]
			}
			if math.Float32bits(dst[x]) != math.Float32bits(want) {
				t.Fatalf("n=%d: dst[%d] = %v, want %v", n, x, dst[x], want)
			}
		}
	}
}

// ReLUOf's mask, scalar and vector, is exactly where NormalizeReLU's output
// is not zero, at the values where a sign test could go wrong: ±0 results
// (B = −0 makes (±0)·G + B = −0 possible), ±Inf, NaNs of either sign and
// subnormals.
func TestReLUOfMatchesNormalizeReLU(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	negNaN := math.Float32frombits(math.Float32bits(nan) | 1<<31)
	inf := float32(math.Inf(1))
	specials := []float32{0, negZero, 1, -1, nan, negNaN, inf, -inf, 1e-45, -1e-45, 3.5, -2.25}
	for _, r := range []ReLUOf{{On: true, Mu: 0, G: 1, B: negZero}, {On: true, Mu: 0, G: -1, B: negZero}, {On: true, Mu: 1, G: 2, B: 0}, {On: true, Mu: 0.5, G: -1.5, B: 0.75}} {
		// Every special at every lane of the vector bodies and the scalar tail.
		x := make([]float32, 0, 3*len(specials)+3)
		for k := 0; k < 3; k++ {
			x = append(x, specials...)
		}
		x = append(x, 2, -2, 0)
		y := make([]float32, len(x))
		NormalizeReLU(y, x, r.Mu, r.G, r.B)
		d := make([]float32, len(x))
		for i := range d {
			d[i] = float32(i + 1)
		}
		// BNGrad with k = 1, a = 0, inv = 1: δ′ − x·b, δ′ = δ where y ≠ 0.
		const bb = 0.5
		got := make([]float32, len(x))
		BNGrad(got, d, x, r, 0, 1, 1, 0, bb)
		for i := range x {
			kept := float32(0)
			if math.Float32bits(y[i]) != 0 {
				kept = d[i]
			}
			want := 1 * (kept - 0 - float32(((x[i]-0)*1)*bb))
			if math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Errorf("%+v: x = %v gives y = %v; BNGrad gives %v, want %v", r, x[i], y[i], got[i], want)
			}
			if keepScalar := r.keep(x[i]) != 0; keepScalar != (math.Float32bits(y[i]) != 0) {
				t.Errorf("%+v: x = %v gives y = %v, and keep says %v", r, x[i], y[i], keepScalar)
			}
		}
	}
}
