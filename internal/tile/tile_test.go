package tile

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA32 is a·b + c rounded once to float32, by math/big: the exact
// sum of a 48-bit product and a float32 fits 2000 bits.
func exactFMA32(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(2000).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	f, _ := x.Float32()
	if f == 0 {
		// math/big keeps no sign for an exact zero sum; IEEE gives +0.
		return 0
	}
	return f
}

// naiveFMA32 rounds twice, through float64: the rounding fma32 avoids.
func naiveFMA32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// nearTies returns n triples (a, b, c) whose exact a·b + c lies within
// float64's rounding of a float32 midpoint, where rounding twice goes
// wrong: a·b within 2⁻²⁹ of a power of two 2ʲ, and c a float32 whose ulp
// is 2ʲ⁺¹, so that c + 2ʲ is a midpoint. Some are exact ties.
func nearTies(r *rand.Rand, n int) (t [][3]float32) {
	for len(t) < n {
		a, b := tiePair(r)
		t = append(t, tieFor(r, a, b))
	}
	return t
}

// tiePair returns a and b whose product is within 2⁻²⁹ of a power of two.
func tiePair(r *rand.Rand) (a, b float32) {
	for {
		switch r.IntN(4) {
		case 0: // a·b = 1 − 2⁻²ᵐ or 1 + 2⁻ᵐ⁺¹ + 2⁻²ᵐ
			m := 15 + r.IntN(9)
			a, b = float32(1+math.Ldexp(1, -m)), float32(1-math.Ldexp(1, -m))
			if r.IntN(2) == 0 {
				b = a
			}
			return a, b
		case 1: // an exact tie
			return 1, 1
		default: // a random a and the b that brings a·b closest to 1
			a = float32(1 + r.Float64())
			b = float32(1 / float64(a))
			if math.Abs(float64(a)*float64(b)-1) <= math.Ldexp(1, -29) {
				return a, b
			}
		}
	}
}

// tieFor scales b of a tiePair by a random 2ʲ and returns the triple with
// c = ±(1 + f)·2ʲ⁺²⁴ for a random 23-bit f (c's ulp 2ʲ⁺¹) and random
// signs.
func tieFor(r *rand.Rand, a, b float32) [3]float32 {
	j := r.IntN(60) - 30
	b = float32(math.Ldexp(float64(b), j))
	c := float32(math.Ldexp(1+float64(r.IntN(1<<23))/(1<<23), j+24))
	if r.IntN(2) == 0 {
		c = -c
	}
	if r.IntN(2) == 0 {
		b = -b
	}
	return [3]float32{a, b, c}
}

// randomTriples returns n triples of random signs and significands whose
// product and addend are up to 2³⁰ apart, and some in float32's subnormal
// range.
func randomTriples(r *rand.Rand, n int) (t [][3]float32) {
	f := func(e int) float32 {
		v := float32(math.Ldexp(1+r.Float64(), e))
		if r.IntN(2) == 0 {
			v = -v
		}
		return v
	}
	for i := 0; i < n; i++ {
		ea, eb := r.IntN(40)-20, r.IntN(40)-20
		if i%10 == 0 { // results near and below 2⁻¹²⁶
			ea, eb = -70+r.IntN(10), -70+r.IntN(10)
		}
		t = append(t, [3]float32{f(ea), f(eb), f(ea + eb + r.IntN(60) - 30)})
	}
	return t
}

func same(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y) || (x != x && y != y)
}

func TestFMA32(t *testing.T) {
	one := func(e int) float64 { return math.Ldexp(1, e) }
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	maxf := float32(math.MaxFloat32)
	tiny := float32(math.SmallestNonzeroFloat32)
	negZero := float32(math.Copysign(0, -1))
	cases := []struct {
		name    string
		a, b, c float32
		want    float32
	}{
		// The doc comment's example: rounding twice gives 1+2⁻²².
		{"double rounding", float32(one(-24) * (1 + one(-15))), float32(1 - one(-15)), float32(1 + one(-23)), float32(1 + one(-23))},
		{"tie to even", 1, float32(one(-24)), float32(1 + one(-23)), float32(1 + one(-22))},
		{"exact", 3, 5, 7, 22},
		{"+0 from cancellation", 2, 3, -6, 0},
		{"-0 + -0", negZero, 1, negZero, negZero},
		{"-0 + +0", negZero, 1, 0, 0},
		{"overflow", maxf, 2, 0, inf},
		{"back from float32 overflow", maxf, 2, -maxf, maxf},
		{"subnormal", tiny, 0.5, tiny, 2 * tiny},
		{"subnormal tie to even", tiny, 0.5, 0, 0},
		{"inf", inf, 1, 1, inf},
		{"inf·0", inf, 0, 1, nan},
		{"inf − inf", inf, 1, -inf, nan},
		{"nan", nan, 1, 1, nan},
	}
	for _, c := range cases {
		if got := fma32(c.a, c.b, c.c); !same(got, c.want) {
			t.Errorf("%s: fma32(%g, %g, %g) = %g (%#x), want %g", c.name, c.a, c.b, c.c, got, math.Float32bits(got), c.want)
		}
	}
	if c := cases[0]; naiveFMA32(c.a, c.b, c.c) == c.want {
		t.Errorf("rounding through float64 is exact on the doc comment's example; the comment is wrong")
	}

	// Against math/big on random and near-tie triples; rounding twice must
	// fail on some of them, or they test nothing.
	r := rand.New(rand.NewPCG(7, 11))
	naive := 0
	for _, x := range append(nearTies(r, 20000), randomTriples(r, 20000)...) {
		want := exactFMA32(x[0], x[1], x[2])
		if got := fma32(x[0], x[1], x[2]); !same(got, want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", x[0], x[1], x[2], got, want)
		}
		if !same(naiveFMA32(x[0], x[1], x[2]), want) {
			naive++
		}
	}
	if naive == 0 {
		t.Fatal("no triple where rounding twice differs: the near ties are not near")
	}
	t.Logf("rounding twice differs from rounding once on %d of 40000 triples", naive)
}

func randFloats(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// convShape is a convolution tile call: c channels ldi floats apart, taps
// at offsets off, output rows ldo floats apart.
type convShape struct {
	c, ldi, ldo int
	off         []int
}

var convShapes = []convShape{
	{1, 40, 24, []int{0}},
	{3, 100, 30, []int{0, 1, 2, 40, 41, 42, 80, 81, 82}},
	{2, 64, 64, []int{0, 7}},
	{5, 77, 33, []int{3, 0, 9, 1}}, // taps out of order
}

// TestConvLoop checks conv, the Go loop of every convolution tile, against
// the textbook sum in float64, and that it writes its rows and no more.
func TestConvLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, rc := range [][2]int{{4, 24}, {8, 32}, {8, 16}} {
		rows, cols := rc[0], rc[1]
		for _, s := range convShapes {
			ldo := max(s.ldo, cols)
			in := randFloats(r, s.c*s.ldi+cols+90)
			w := randFloats(r, s.c*len(s.off)*rows)
			out := make([]float32, rows*ldo+1)
			for i := range out {
				out[i] = float32(math.NaN())
			}
			conv(rows, cols, &out[0], ldo, &in[0], s.ldi, &s.off[0], len(s.off), &w[0], s.c)
			for i := 0; i < rows; i++ {
				for j := 0; j < ldo; j++ {
					got := out[i*ldo+j]
					if j >= cols {
						if got == got {
							t.Fatalf("%dx%d %+v: wrote out[%d][%d] past the tile", rows, cols, s, i, j)
						}
						continue
					}
					var want float64
					for ch := 0; ch < s.c; ch++ {
						for tp, o := range s.off {
							want += float64(w[(ch*len(s.off)+tp)*rows+i]) * float64(in[ch*s.ldi+o+j])
						}
					}
					if math.Abs(float64(got)-want) > 1e-5*float64(s.c*len(s.off)) {
						t.Fatalf("%dx%d %+v: out[%d][%d] = %v, want %v", rows, cols, s, i, j, got, want)
					}
				}
			}
			if out[rows*ldo] == out[rows*ldo] {
				t.Fatalf("%dx%d %+v: wrote past the last row", rows, cols, s)
			}
		}
	}
}

// dotShape is a weight-gradient tile call: n floats per row, imgs images,
// a and b rows sa and sb floats apart between images.
type dotShape struct{ n, imgs, sa, sb int }

var dotShapes = []dotShape{{16, 1, 16, 16}, {48, 3, 50, 70}, {32, 2, 100, 33}, {160, 4, 161, 170}}

// TestDotLoop checks dot, the Go loop of both weight-gradient tiles,
// against the textbook sums in float64, added to what acc held.
func TestDotLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, rl := range [][2]int{{3, 8}, {4, 16}} {
		rows, lanes := rl[0], rl[1]
		for _, s := range dotShapes {
			mem := randFloats(r, 2*rows*20+s.imgs*(s.sa+s.sb)+2*s.n)
			a, b := make([]*float32, rows), make([]*float32, rows)
			for i := range a {
				a[i], b[i] = &mem[3*i], &mem[len(mem)/2+5*i]
			}
			acc := randFloats(r, rows*rows*lanes)
			acc0 := append([]float32(nil), acc...)
			dot(lanes, &acc[0], a, b, s.n, s.imgs, s.sa, s.sb)
			for i := 0; i < rows; i++ {
				for j := 0; j < rows; j++ {
					for l := 0; l < lanes; l++ {
						k0 := (rows*i+j)*lanes + l
						want := float64(acc0[k0])
						for img := 0; img < s.imgs; img++ {
							for k := l; k < s.n; k += lanes {
								want += float64(mem[3*i+img*s.sa+k]) * float64(mem[len(mem)/2+5*j+img*s.sb+k])
							}
						}
						if math.Abs(float64(acc[k0])-want) > 1e-5*float64(s.n*s.imgs) {
							t.Fatalf("rows %d lanes %d %+v: acc[%d] = %v, want %v", rows, lanes, s, k0, acc[k0], want)
						}
					}
				}
			}
		}
	}
}

// convTile is one of the convolution tiles and its Go loop's shape.
type convTile struct {
	name       string
	f          func(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int)
	rows, cols int
	runs       bool
}

func convTiles() []convTile {
	return []convTile{
		{"Conv", Conv, 4, 24, Available},
		{"Conv16", Conv16, 8, 32, Wide},
		{"Conv16Half", Conv16Half, 8, 16, Wide},
	}
}

// TestAsmConvIsLoop checks each assembly convolution tile against its Go
// loop bit for bit: on random shapes, and on near-tie FMAs (tap 0 puts c
// into the accumulator exactly, with weight 1; tap 1 adds a·b) where a
// rounding that is not exactly one per term would show.
func TestAsmConvIsLoop(t *testing.T) {
	if !Asm {
		t.Skip("the tiles are the Go loops in this build")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, tl := range convTiles() {
		t.Run(tl.name, func(t *testing.T) {
			if !tl.runs {
				t.Skip("this CPU lacks the instructions")
			}
			check := func(what string, in, w []float32, ldo, ldi int, off []int, c int) {
				t.Helper()
				got := make([]float32, tl.rows*ldo)
				want := make([]float32, tl.rows*ldo)
				tl.f(&got[0], ldo, &in[0], ldi, &off[0], len(off), &w[0], c)
				conv(tl.rows, tl.cols, &want[0], ldo, &in[0], ldi, &off[0], len(off), &w[0], c)
				for i := range got {
					if !same(got[i], want[i]) {
						t.Fatalf("%s: out[%d] = %g (%#x), the Go loop gives %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
			for _, s := range convShapes {
				in := randFloats(r, s.c*s.ldi+tl.cols+90)
				w := randFloats(r, s.c*len(s.off)*tl.rows)
				check(fmt.Sprintf("%+v", s), in, w, max(s.ldo, tl.cols), s.ldi, s.off, s.c)
			}
			for call := 0; call < 200; call++ {
				// Row i's accumulator j gets c_j from tap 0 (weight 1,
				// exactly) and a_i·b_j from tap 1. Row 0's a and the b_j make
				// products near powers of two and the c_j near ties; the
				// other rows' a are random.
				cols := tl.cols
				in := make([]float32, 2*cols)
				w := make([]float32, 2*tl.rows)
				a, b := tiePair(r)
				for i := 0; i < tl.rows; i++ {
					w[i], w[tl.rows+i] = 1, float32(r.NormFloat64())
				}
				w[tl.rows] = a
				for j := 0; j < cols; j++ {
					x := tieFor(r, a, b)
					in[j], in[cols+j] = x[2], x[1]
				}
				check("near ties", in, w, cols, 0, []int{0, cols}, 1)
			}
		})
	}
}

// TestDotSumTree checks dotSum against the sums in float64 and its tree:
// lanes that cancel only in the documented order, (l0+l2)+(l1+l3) within
// each quarter, then (w0+w2)+(w1+w3), give exactly their sum.
func TestDotSumTree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range dotShapes {
		mem := randFloats(r, 2*4*20+s.imgs*(s.sa+s.sb)+2*s.n)
		a, b := make([]*float32, 4), make([]*float32, 4)
		for i := range a {
			a[i], b[i] = &mem[3*i], &mem[len(mem)/2+5*i]
		}
		got := make([]float32, 16)
		dotSum(&got[0], a, b, s.n, s.imgs, s.sa, s.sb)
		for e := range got {
			want := 0.0
			for img := 0; img < s.imgs; img++ {
				for k := 0; k < s.n; k++ {
					want += float64(mem[3*(e/4)+img*s.sa+k]) * float64(mem[len(mem)/2+5*(e%4)+img*s.sb+k])
				}
			}
			if math.Abs(float64(got[e])-want) > 1e-5*float64(s.n*s.imgs) {
				t.Fatalf("%+v: sum %d = %v, want %v", s, e, got[e], want)
			}
		}
	}
	// One row of ones against b = lanes: lane l holds b[l]. In the tree's
	// order 2^30 cancels within each pair (l, l+2) and what is left adds
	// exactly; any other pairing rounds the 1s away against 2^30.
	var x, y [16]float32
	for l := range x {
		x[l] = 1
	}
	const big = 1 << 30
	for k := 0; k < 4; k++ {
		y[4*k], y[4*k+2], y[4*k+1], y[4*k+3] = big, -big, 1, 2
	}
	ones := []*float32{&x[0], &x[0], &x[0], &x[0]}
	ys := []*float32{&y[0], &y[0], &y[0], &y[0]}
	got := make([]float32, 16)
	dotSum(&got[0], ones, ys, 16, 1, 0, 0)
	for e, v := range got {
		if v != 12 {
			t.Fatalf("sum %d = %v, want 12: the lanes are not added in the tree's order", e, v)
		}
	}
	if Asm && Wide {
		var a4, b4 [4]*float32
		copy(a4[:], ones)
		copy(b4[:], ys)
		Dot16Sum(&got[0], &a4, &b4, 16, 1, 0, 0)
		for e, v := range got {
			if v != 12 {
				t.Fatalf("Dot16Sum: sum %d = %v, want 12", e, v)
			}
		}
	}
}

// TestAsmDotIsLoop checks each assembly weight-gradient tile against its
// Go loop bit for bit.
func TestAsmDotIsLoop(t *testing.T) {
	if !Asm {
		t.Skip("the tiles are the Go loops in this build")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, wide := range []bool{false, true} {
		rows, lanes := 3, 8
		if wide {
			rows, lanes = 4, 16
		}
		t.Run(fmt.Sprintf("lanes=%d", lanes), func(t *testing.T) {
			if (wide && !Wide) || !Available {
				t.Skip("this CPU lacks the instructions")
			}
			for _, s := range dotShapes {
				mem := randFloats(r, 2*rows*20+s.imgs*(s.sa+s.sb)+2*s.n)
				var a, b [4]*float32
				for i := 0; i < rows; i++ {
					a[i], b[i] = &mem[3*i], &mem[len(mem)/2+5*i]
				}
				got := randFloats(r, rows*rows*lanes)
				want := append([]float32(nil), got...)
				if wide {
					Dot16(&got[0], &a, &b, s.n, s.imgs, s.sa, s.sb)
				} else {
					Dot(&got[0], a[0], a[1], a[2], b[0], b[1], b[2], s.n, s.imgs, s.sa, s.sb)
				}
				dot(lanes, &want[0], a[:rows], b[:rows], s.n, s.imgs, s.sa, s.sb)
				for i := range got {
					if !same(got[i], want[i]) {
						t.Fatalf("%+v: acc[%d] = %g, the Go loop gives %g", s, i, got[i], want[i])
					}
				}
				if wide {
					got, want := randFloats(r, 17), randFloats(r, 17)
					want[16] = got[16]
					Dot16Sum(&got[0], &a, &b, s.n, s.imgs, s.sa, s.sb)
					dotSum(&want[0], a[:], b[:], s.n, s.imgs, s.sa, s.sb)
					for i := range got {
						if !same(got[i], want[i]) {
							t.Fatalf("%+v: Dot16Sum's acc[%d] = %g, the Go loop gives %g", s, i, got[i], want[i])
						}
					}
				}
			}
			// One image of one block: lane l of pair (i, i) is the single
			// FMA a_i[l]·b_i[l] + acc, for near-tie and random triples.
			ties := append(nearTies(r, 8000), randomTriples(r, 8000)...)
			for len(ties) >= rows*lanes {
				var a, b [4]*float32
				acc := make([]float32, rows*rows*lanes)
				for i := 0; i < rows; i++ {
					x, y := make([]float32, lanes), make([]float32, lanes)
					for l := range x {
						tr := ties[i*lanes+l]
						x[l], y[l], acc[(rows*i+i)*lanes+l] = tr[0], tr[1], tr[2]
					}
					a[i], b[i] = &x[0], &y[0]
				}
				ties = ties[rows*lanes:]
				want := append([]float32(nil), acc...)
				if wide {
					Dot16(&acc[0], &a, &b, lanes, 1, 0, 0)
				} else {
					Dot(&acc[0], a[0], a[1], a[2], b[0], b[1], b[2], lanes, 1, 0, 0)
				}
				dot(lanes, &want[0], a[:rows], b[:rows], lanes, 1, 0, 0)
				for i := range acc {
					if !same(acc[i], want[i]) {
						t.Fatalf("near ties: acc[%d] = %g (%#x), the Go loop gives %g (%#x)", i, acc[i], math.Float32bits(acc[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		})
	}
}
