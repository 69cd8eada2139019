package winograd

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/tile"
)

// conv is the definition, in float64, of a kk×kk kernel padded to the
// same size: out[k][m][y][x] = bias[m] +
// Σ_c Σ_i Σ_j w[m][c][i][j]·(x·mask)[k][c][y+i−kk/2][x+j−kk/2].
func conv(x, mask, w, bias []float32, n, c, m, h, wd, kk int) []float64 {
	out := make([]float64, n*m*h*wd)
	for k := 0; k < n; k++ {
		for o := 0; o < m; o++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < wd; xx++ {
					s := 0.0
					if bias != nil {
						s = float64(bias[o])
					}
					for ci := 0; ci < c; ci++ {
						for i := 0; i < kk; i++ {
							for j := 0; j < kk; j++ {
								yy, xj := y+i-kk/2, xx+j-kk/2
								if yy < 0 || yy >= h || xj < 0 || xj >= wd {
									continue
								}
								at := ((k*c+ci)*h+yy)*wd + xj
								v := float64(x[at])
								if mask != nil {
									v *= float64(mask[at])
								}
								s += float64(w[((o*c+ci)*kk+i)*kk+j]) * v
							}
						}
					}
					out[((k*m+o)*h+y)*wd+xx] = s
				}
			}
		}
	}
	return out
}

func randoms(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// Conv against the definition, for the shapes of ResNet-20's stages and
// ConvNet-Quick's 5×5 layers, a partial group, a mask, a bias, and the
// turned, transposed weights of the input gradient; within float32
// rounding of the transforms.
func TestConvAgainstDefinition(t *testing.T) {
	if !tile.Wide {
		t.Skip("no AVX-512 tile on this CPU")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		c, m, h, w, n, k int
		masked, bias     bool
		transposed       bool
		outMasked        bool
	}{
		{3, 16, 32, 32, 1, 3, false, true, false, false},
		{16, 16, 32, 32, 2, 3, true, false, false, true},
		{32, 32, 16, 16, 3, 3, false, false, true, true},
		{64, 64, 8, 8, 9, 3, true, true, false, false},
		{16, 8, 12, 20, 5, 3, false, false, true, true},
		{16, 8, 8, 8, 4, 3, true, true, true, true},
		{32, 16, 8, 8, 29, 3, true, false, false, true},
		{32, 32, 16, 16, 3, 5, true, true, false, false},
		{32, 64, 8, 8, 7, 5, false, false, false, true},
		{64, 32, 8, 8, 6, 5, true, false, true, true},
		{32, 32, 16, 16, 2, 5, false, true, true, true},
		{8, 16, 6, 10, 5, 5, true, true, false, true},
		{16, 8, 32, 32, 2, 5, false, false, true, false},
	} {
		p := NewPlan(tc.c, tc.m, tc.h, tc.w, tc.k)
		kk := tc.k * tc.k
		x := randoms(rng, tc.n*tc.c*tc.h*tc.w)
		var mask, bias []float32
		if tc.masked {
			mask = randoms(rng, len(x))
		}
		if tc.bias {
			bias = randoms(rng, tc.m)
		}
		var outMask []float32
		if tc.outMasked {
			outMask = randoms(rng, tc.n*tc.m*tc.h*tc.w)
		}
		w := randoms(rng, tc.m*tc.c*kk)
		ref := w
		if tc.transposed {
			// w is then c'×m'×k×k with c' = m and m' = c: the plan's m
			// outputs read it turned; the reference takes it as an
			// ordinary m×c kernel.
			w = randoms(rng, tc.m*tc.c*kk)
			ref = make([]float32, len(w))
			for o := 0; o < tc.m; o++ {
				for ci := 0; ci < tc.c; ci++ {
					for i := 0; i < tc.k; i++ {
						for j := 0; j < tc.k; j++ {
							ref[((o*tc.c+ci)*tc.k+i)*tc.k+j] = w[((ci*tc.m+o)*tc.k+tc.k-1-i)*tc.k+tc.k-1-j]
						}
					}
				}
			}
		}
		u := make([]float32, p.WeightsLen())
		p.TransformWeights(u, w, tc.transposed)
		out := make([]float32, tc.n*tc.m*tc.h*tc.w)
		scratch := make([]float32, p.ScratchLen())
		img, o := tc.c*tc.h*tc.w, tc.m*tc.h*tc.w
		for k := 0; k < tc.n; k += p.G {
			g := min(p.G, tc.n-k)
			var mk, om []float32
			if mask != nil {
				mk = mask[k*img:]
			}
			if outMask != nil {
				om = outMask[k*o:]
			}
			p.Conv(out[k*o:], x[k*img:], mk, om, u, bias, scratch, g, nil)
		}
		want := conv(x, mask, ref, bias, tc.n, tc.c, tc.m, tc.h, tc.w, tc.k)
		var worst float64
		for i, v := range want {
			scale := math.Sqrt(float64(tc.c*kk)) * 4 // the size of a sum of c·k² unit products
			if outMask != nil {
				v *= float64(outMask[i])
				scale *= max(1, math.Abs(float64(outMask[i])))
			}
			worst = max(worst, math.Abs(float64(out[i])-v)/scale)
		}
		if !(worst <= 2e-5) { // NaN fails too
			t.Errorf("%+v: worst error %.3g of the sum's scale", tc, worst)
		}
		t.Logf("%+v: worst error %.3g of the sum's scale", tc, worst)
	}
}

// The result does not depend on how images are grouped, nor on whether
// the products take the tiles alone (packed) or their whole grid.
func TestConvGroupingInvariant(t *testing.T) {
	if !tile.Wide {
		t.Skip("no AVX-512 tile on this CPU")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ c, h, n, k int }{{64, 8, 7, 3}, {32, 16, 5, 3}, {16, 32, 3, 3}, {32, 16, 3, 5}, {32, 8, 6, 5}} {
		c, m, h, w, n := s.c, s.c, s.h, s.h, s.n
		p := NewPlan(c, m, h, w, s.k)
		x, wt := randoms(rng, n*c*h*w), randoms(rng, m*c*s.k*s.k)
		u := make([]float32, p.WeightsLen())
		p.TransformWeights(u, wt, false)
		scratch := make([]float32, p.ScratchLen())
		all := make([]float32, n*m*h*w)
		for k := 0; k < n; k += p.G {
			p.Conv(all[k*m*h*w:], x[k*c*h*w:], nil, nil, u, nil, scratch, min(p.G, n-k), nil)
		}
		one := make([]float32, len(all))
		for k := 0; k < n; k++ {
			p.Conv(one[k*m*h*w:], x[k*c*h*w:], nil, nil, u, nil, scratch, 1, nil)
		}
		for i := range all {
			if math.Float32bits(all[i]) != math.Float32bits(one[i]) {
				t.Fatalf("%dx%d maps, output %d: %v in a group, %v alone", h, w, i, all[i], one[i])
			}
		}
		up := NewPlanUpTo(c, m, h, w, s.k, 2) // 2 images, or 4 on 8×8 maps
		if want := max(GroupStep(h, w, s.k), min(p.G, 2)); up.G != want {
			t.Fatalf("%dx%d maps: NewPlanUpTo(…, 2) groups %d images, want %d", h, w, up.G, want)
		}
		for k := 0; k < n; k += up.G {
			up.Conv(one[k*m*h*w:], x[k*c*h*w:], nil, nil, u, nil, make([]float32, up.ScratchLen()), min(up.G, n-k), nil)
		}
		for i := range all {
			if math.Float32bits(all[i]) != math.Float32bits(one[i]) {
				t.Fatalf("%dx%d maps, output %d: %v in a group of %d, %v of %d", h, w, i, all[i], p.G, one[i], up.G)
			}
		}
		p = newGroupPlan(c, m, h, w, s.k, p.G, true)
		for k := 0; k < n; k += p.G {
			p.Conv(all[k*m*h*w:], x[k*c*h*w:], nil, nil, u, nil, make([]float32, p.ScratchLen()), min(p.G, n-k), nil)
		}
		g := newGroupPlan(c, m, h, w, s.k, n, false)
		if p.pack == nil || g.pack != nil {
			t.Fatalf("plans of %dx%d maps: packed %v (G %d) and %v (G %d), want true and false", h, w, p.pack != nil, p.G, g.pack != nil, g.G)
		}
		grid := make([]float32, len(all))
		g.Conv(grid, x, nil, nil, u, nil, make([]float32, g.ScratchLen()), n, nil)
		for i := range all {
			if math.Float32bits(all[i]) != math.Float32bits(grid[i]) {
				t.Fatalf("%dx%d maps, output %d: %v packed, %v over the whole grid", h, w, i, all[i], grid[i])
			}
		}
	}
}

// BenchmarkStages times Conv per image against the direct convolution's
// forward pass for ResNet-20's three stride-1 shapes (named by their
// maps) and ConvNet-Quick's two 5×5 layers (5x5-C-M).
func BenchmarkStages(b *testing.B) {
	if !tile.Wide {
		b.Skip("no AVX-512 tile on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range []struct{ c, m, h, k int }{{16, 16, 32, 3}, {32, 32, 16, 3}, {64, 64, 8, 3}, {32, 32, 16, 5}, {32, 64, 8, 5}} {
		const n = 64
		c, m, h, k := s.c, s.m, s.h, s.k
		name := strconv.Itoa(c)
		if k == 5 {
			name = "5x5-" + strconv.Itoa(c) + "-" + strconv.Itoa(m)
		}
		x, wt := randoms(rng, n*c*h*h), randoms(rng, m*c*k*k)
		out := make([]float32, n*m*h*h)
		p := NewPlan(c, m, h, h, k)
		u := make([]float32, p.WeightsLen())
		p.TransformWeights(u, wt, false)
		scratch := make([]float32, p.ScratchLen())
		flops := 2 * float64(n*c*m*k*k*h*h)
		g := newGroupPlan(c, m, h, h, k, p.G, false)
		gs := make([]float32, g.ScratchLen())
		b.Run("grid-"+name, func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < n; i += g.G {
					g.Conv(out[i*m*h*h:], x[i*c*h*h:], nil, nil, u, nil, gs, min(g.G, n-i), nil)
				}
			}
		})
		b.Run("winograd-"+name, func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < n; i += p.G {
					p.Conv(out[i*m*h*h:], x[i*c*h*h:], nil, nil, u, nil, scratch, min(p.G, n-i), nil)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run("stages-"+name, func(b *testing.B) { benchStages(b, p, x, u, out, scratch, n) })
		d := kernels.NewDirect(c, m, h, h, k, k/2, 1)
		packed := make([]float32, d.PackedLen(c, m))
		d.Pack(packed, wt)
		grid := make([]float32, d.Rows(m)*d.Span())
		planes := make([]float32, c*d.Plane())
		b.Run("direct-"+name, func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < n; i++ {
					d.Pad(planes, x[i*c*h*h:(i+1)*c*h*h], nil, c)
					d.Conv(grid, planes, packed, c, m)
					d.Unpad(out[i*m*h*h:(i+1)*m*h*h], grid, m, nil, nil)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// inputTiles, outputTiles, output2Tiles, gradTiles and grad2Tiles (assembly
// on AVX-512) give the
// bits of their Go loops, specials included, from scattered offsets.
func TestTilesEqualLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 48
	src := randoms(rng, 64*n)
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -3e-39, 3e38}
	for i := range src {
		if rng.IntN(10) == 0 {
			src[i] = special[rng.IntN(len(special))]
		}
	}
	var soff, din [36]int
	for i, k := range rng.Perm(63)[:36] {
		soff[i] = k * n
	}
	for i, k := range rng.Perm(40)[:36] {
		din[i] = k * n
	}
	var dout [16]int
	for i, k := range rng.Perm(20)[:16] {
		dout[i] = k * n
	}
	got, want := make([]float32, 40*n), make([]float32, 40*n)
	inputTiles(got, &din, src, &soff, make([]float32, 576), n, his(din[:], soff[:]))
	inputTilesGo(want, &din, src, &soff, n)
	same(t, "input", got, want)
	got, want = make([]float32, 20*n), make([]float32, 20*n)
	outputTiles(got, &dout, src, &soff, make([]float32, 384), n, his(dout[:], soff[:]))
	outputTilesGo(want, &dout, src, &soff, n)
	same(t, "output", got, want)
	got, want = make([]float32, 20*n), make([]float32, 20*n)
	output2Tiles(got, (*[4]int)(dout[:4]), src, &soff, make([]float32, 192), n, his(dout[:4], soff[:]))
	output2TilesGo(want, (*[4]int)(dout[:4]), src, &soff, n)
	same(t, "output2", got, want)
	// The output gradient's 4×4 tiles from dout's 16 offsets to din's 36.
	got, want = make([]float32, 40*n), make([]float32, 40*n)
	gradTiles(got, &din, src, &dout, make([]float32, 384), n, his(din[:], dout[:]))
	gradTilesGo(want, &din, src, &dout, n)
	same(t, "grad", got, want)
	got, want = make([]float32, 40*n), make([]float32, 40*n)
	grad2Tiles(got, &din, src, (*[4]int)(dout[:4]), make([]float32, 192), n, his(din[:], dout[:4]))
	grad2TilesGo(want, &din, src, (*[4]int)(dout[:4]), n)
	same(t, "grad2", got, want)
}

func same(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s %d: %v, loop %v", what, i, got[i], want[i])
		}
	}
}

// splitPlane and scatterPlane (assembly for 32, 16 and 8 wide on AVX-512)
// and split2Plane and scatter2Plane (16 and 8 wide) give the bits of
// their Go loops, with and without mask and bias (and scatterPlane's
// epilogue, with and without residual and ReLU), and write nothing past
// their planes and rows.
func TestSplitScatterEqualLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, k := range []int{3, 5} {
		mt := tileOf(k)
		split, splitGo, scatter, scatterGo := splitPlane, splitPlaneGo, scatterPlane, scatterPlaneGo
		ext := 1
		if k == 5 {
			split, splitGo = split2Plane, split2PlaneGo
			scatter = func(dst, y, mask []float32, run, ld, th, w int, bias float32, hasBias bool, _ *scatterEpi) {
				scatter2Plane(dst, y, mask, run, ld, th, w, bias, hasBias)
			}
			scatterGo = func(dst, y, mask []float32, run, ld, th, w int, bias float32, hasBias bool, _ *scatterEpi) {
				scatter2PlaneGo(dst, y, mask, run, ld, th, w, bias, hasBias)
			}
			ext = 2
		}
		for _, w := range []int{32, 16, 8, 12} {
			for _, th := range []int{1, 2, 8} {
				h, ld := mt*th, w/mt+ext
				plane := (th+ext)*ld + 5
				src, mask := randoms(rng, h*w), randoms(rng, h*w)
				for _, m := range [][]float32{nil, mask} {
					got, want := randoms(rng, mt*mt*plane), make([]float32, mt*mt*plane)
					copy(want, got)
					pld := w + 3
					gotPad, wantPad := randoms(rng, h*pld), make([]float32, h*pld)
					copy(wantPad, gotPad)
					split(got, plane, ld, src, m, th, w, gotPad, pld)
					splitGo(want, plane, ld, src, m, th, w, wantPad, pld)
					same(t, "split", got, want)
					same(t, "split's padded planes", gotPad, wantPad)
					split(got, plane, ld, src, m, th, w, nil, 0)
					splitGo(want, plane, ld, src, m, th, w, nil, 0)
					same(t, "split", got, want)
				}
				run := th*ld + 3
				y := randoms(rng, mt*mt*run)
				for i := 0; i < len(y); i += 5 {
					y[i] = float32(math.Copysign(0, float64(i%2)-0.5)) // ±0 for the ReLU
				}
				epis := []*scatterEpi{nil}
				if k == 3 {
					res := randoms(rng, h*w)
					for _, relu := range []bool{false, true} {
						for _, r := range [][]float32{nil, res} {
							epis = append(epis, &scatterEpi{affine: [3]float32{0.25, -1.5, 0.125}, relu: relu, res: r})
						}
					}
					epis = append(epis, &scatterEpi{affine: [3]float32{0, 1, -0.0}, relu: true}) // −0 through
				}
				for _, e := range epis {
					for _, hasBias := range []bool{false, true} {
						for _, om := range [][]float32{nil, randoms(rng, h*w)} {
							got, want := randoms(rng, h*w+7), make([]float32, h*w+7)
							copy(want, got)
							scatter(got[:h*w], y, om, run, ld, th, w, -0.625, hasBias, e)
							scatterGo(want[:h*w], y, om, run, ld, th, w, -0.625, hasBias, e)
							same(t, "scatter", got, want)
						}
					}
				}
			}
		}
	}
}

// benchStages reports Conv's four stages' share: ms per n images each.
func benchStages(b *testing.B, p *Plan, x, u, out, scratch []float32, n int) {
	phases, v, prod, tmp, grid := p.scratch(scratch, p.C)
	var t [4]time.Duration
	img, o := p.C*p.H*p.W, p.M*p.H*p.W
	for b.Loop() {
		for k := 0; k < n; k += p.G {
			g := min(p.G, n-k)
			t0 := time.Now()
			p.splitMaps(phases, x[k*img:], nil, g, p.C, nil)
			t1 := time.Now()
			for c := 0; c < p.C; c++ {
				p.inputTransform(v, phases[c*p.mt*p.mt*p.phase:], tmp, c)
			}
			t2 := time.Now()
			p.multiply(prod, v, u)
			t3 := time.Now()
			for m := 0; m < p.M; m++ {
				p.outputTransform(out[k*o:], nil, prod, tmp, grid, m, g, 0, false, nil)
			}
			t4 := time.Now()
			t[0] += t1.Sub(t0)
			t[1] += t2.Sub(t1)
			t[2] += t3.Sub(t2)
			t[3] += t4.Sub(t3)
		}
	}
	for i, name := range []string{"split-ms", "input-ms", "multiply-ms", "output-ms"} {
		b.ReportMetric(t[i].Seconds()*1e3/float64(b.N), name)
	}
}

// The weight gradient against its definition, in float64:
// dw[m][c][i][j] = Σ_k Σ_y Σ_x δ[k][m][y][x]·(x·mask)[k][c][y+i−r][x+j−r]
// (r = k/2, 3×3 and 5×5 kernels), over groups of images, partial ones
// included.
func TestWeightGradAgainstDefinition(t *testing.T) {
	if !tile.Wide {
		t.Skip("no AVX-512 tile on this CPU")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		c, m, h, w, n, g int
		masked           bool
		k                int
	}{
		{16, 16, 32, 32, 3, 1, true, 3},
		{16, 16, 32, 32, 7, 3, false, 3},
		{32, 32, 16, 16, 5, 2, false, 3},
		{8, 16, 8, 8, 12, 5, true, 3},
		{16, 8, 12, 20, 4, 4, false, 3},
		{64, 64, 8, 8, 9, 9, true, 3},
		{64, 64, 8, 8, 13, 8, true, 3},
		{16, 32, 8, 8, 6, 4, false, 3},
		{32, 32, 16, 16, 7, 3, true, 5},
		{32, 64, 8, 8, 9, 4, false, 5},
		{8, 16, 6, 10, 5, 2, true, 5},
		{16, 8, 32, 32, 2, 1, false, 5},
	} {
		p := NewGroupPlan(tc.c, tc.m, tc.h, tc.w, tc.k, tc.g)
		kk, r := tc.k, tc.k/2
		hw := tc.h * tc.w
		x, d := randoms(rng, tc.n*tc.c*hw), randoms(rng, tc.n*tc.m*hw)
		var mask []float32
		if tc.masked {
			mask = randoms(rng, len(x))
		}
		scratch := make([]float32, p.GradScratchLen())
		for i := range scratch {
			scratch[i] = float32(math.NaN()) // stale values must not leak in
		}
		groups := (tc.n + p.G - 1) / p.G
		parts := make([]float32, groups*p.SumsLen())
		for i := range parts {
			parts[i] = float32(math.NaN()) // every sum is written
		}
		for k := 0; k < groups; k++ {
			g := min(p.G, tc.n-k*p.G)
			var mk []float32
			if mask != nil {
				mk = mask[k*p.G*tc.c*hw:]
			}
			p.GroupWeightGrad(parts[k*p.SumsLen():], x[k*p.G*tc.c*hw:], mk, d[k*p.G*tc.m*hw:], scratch, g)
		}
		u := make([]float64, p.SumsLen())
		p.SumGroups(u, parts, groups, 0, len(u)/3)
		p.SumGroups(u, parts, groups, len(u)/3, len(u))
		dw := make([]float32, tc.m*tc.c*kk*kk)
		p.WeightGrad(dw, u, 0, tc.m/2)
		p.WeightGrad(dw, u, tc.m/2, tc.m)
		var worst float64
		for m := 0; m < tc.m; m++ {
			for c := 0; c < tc.c; c++ {
				for i := 0; i < kk; i++ {
					for j := 0; j < kk; j++ {
						s := 0.0
						for k := 0; k < tc.n; k++ {
							for y := 0; y < tc.h; y++ {
								for xx := 0; xx < tc.w; xx++ {
									yy, xj := y+i-r, xx+j-r
									if yy < 0 || yy >= tc.h || xj < 0 || xj >= tc.w {
										continue
									}
									at := ((k*tc.c+c)*tc.h+yy)*tc.w + xj
									v := float64(x[at])
									if mask != nil {
										v *= float64(mask[at])
									}
									s += float64(d[((k*tc.m+m)*tc.h+y)*tc.w+xx]) * v
								}
							}
						}
						scale := math.Sqrt(float64(tc.n*hw)) * 4 // a sum of n·h·w unit products
						worst = max(worst, math.Abs(float64(dw[((m*tc.c+c)*kk+i)*kk+j])-s)/scale)
					}
				}
			}
		}
		if !(worst <= 2e-5) { // NaN fails too
			t.Errorf("%+v: worst error %.3g of the sum's scale", tc, worst)
		}
	}
}

// compactGo writes the tiles of pk's images without their grids' padding
// positions: tile (y, x) of image k from src[k·img + y·ld + x] to
// dst[(k·th + y)·tw + x], as the packed transforms read them.
func compactGo(pk *packing, dst, src []float32) {
	for k := 0; k < pk.n; k++ {
		for y := 0; y < pk.th; y++ {
			for x := 0; x < pk.tw; x++ {
				dst[(k*pk.th+y)*pk.tw+x] = src[k*pk.img+y*pk.ld+x]
			}
		}
	}
}

// expandGo spreads pk's packed tiles over their grid: tile (y, x) of
// image k from src[(k·th + y)·tw + x] to dst[k·img + y·ld + x], the
// padding positions of dst left as they were.
func expandGo(pk *packing, dst, src []float32) {
	for k := 0; k < pk.n; k++ {
		for y := 0; y < pk.th; y++ {
			for x := 0; x < pk.tw; x++ {
				dst[k*pk.img+y*pk.ld+x] = src[(k*pk.th+y)*pk.tw+x]
			}
		}
	}
}

// packings are tile grids the tests pack: 3×3 plans' on 8×8, 16×16 and
// 32×32 maps and 5×5 plans' on 16×16 and 8×8, a few group sizes each.
var packings = []struct{ th, ext, n int }{{2, 1, 4}, {2, 1, 12}, {2, 1, 28}, {4, 1, 1}, {4, 1, 3}, {8, 1, 1}, {8, 1, 2}, {8, 2, 1}, {8, 2, 4}, {4, 2, 1}, {4, 2, 8}}

// expandGo undoes compactGo, leaving the grid's padding positions; the
// packed transforms give the floats of the grid's transforms, packed.
func TestPackedEqualLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, s := range packings {
		th, ld := s.th, s.th+s.ext
		pk := newPacking(s.n, th, th, ld, ld*ld)
		if pk == nil {
			t.Fatalf("%+v: no packing", s)
		}
		tiles := s.n * th * th
		src := randoms(rng, pk.reach()+5)
		packed := make([]float32, tiles)
		compactGo(pk, packed, src)
		back := randoms(rng, len(src))
		old := append([]float32(nil), back...)
		expandGo(pk, back, packed)
		for i := range back {
			k, y, x := i/pk.img, i%pk.img/pk.ld, i%pk.ld
			real := k < s.n && y < th && x < th
			switch {
			case real && back[i] != src[i]:
				t.Fatalf("%+v: position %d of a tile is %v after compact and expand, was %v", s, i, back[i], src[i])
			case !real && back[i] != old[i]:
				t.Fatalf("%+v: padding position %d changed", s, i)
			}
		}

		// The transforms: inputs at scattered offsets of a source long
		// enough for every offset's 32-position reads.
		n := roundUp(s.n*pk.img, 16)
		in := randoms(rng, 64*n+64)
		var soff, din [36]int
		for i, k := range rng.Perm(63)[:36] {
			soff[i] = k * n
		}
		for i, k := range rng.Perm(40)[:36] {
			din[i] = k * tiles
		}
		var s16 [16]int
		var s4 [4]int
		copy(s16[:], soff[:16])
		copy(s4[:], soff[:4])
		grid, want := make([]float32, 40*n), make([]float32, 40*tiles)
		gridOff := func(off [36]int) (g [36]int) {
			for i, o := range off {
				g[i] = o / tiles * n
			}
			return
		}
		gOff := gridOff(din)
		for _, tr := range []struct {
			name   string
			packed func(dst []float32)
			loop   func(dst []float32)
		}{
			{"input", func(d []float32) {
				inputTilesPacked(pk, d, &din, in, &soff, make([]float32, 576), his(din[:], soff[:]))
			}, func(d []float32) { inputTilesGo(d, &gOff, in, &soff, n) }},
			{"grad", func(d []float32) { gradTilesPacked(pk, d, &din, in, &s16, make([]float32, 384), his(din[:], s16[:])) }, func(d []float32) { gradTilesGo(d, &gOff, in, &s16, n) }},
			{"grad2", func(d []float32) { grad2TilesPacked(pk, d, &din, in, &s4, make([]float32, 192), his(din[:], s4[:])) }, func(d []float32) { grad2TilesGo(d, &gOff, in, &s4, n) }},
		} {
			got := make([]float32, 40*tiles)
			tr.packed(got)
			clear(grid)
			tr.loop(grid)
			for xi, o := range gOff {
				compactGo(pk, want[din[xi]:], grid[o:])
			}
			for xi, o := range din {
				for i := 0; i < tiles; i++ {
					if math.Float32bits(got[o+i]) != math.Float32bits(want[o+i]) {
						t.Fatalf("%s, %+v: ξ %d tile %d: %v, the grid's transform %v", tr.name, s, xi, i, got[o+i], want[o+i])
					}
				}
			}
		}
	}
	if newPacking(7, 2, 2, 3, 9) != nil {
		t.Fatal("7 images of 8x8 maps (28 tiles) packed into vectors of 16")
	}
}

// TransformWeightsMaps (eight maps a lane on AVX2) gives the one-map
// loop's bits over any range of maps, both kernels, both ways round.
func TestTransformWeightsLanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, k := range []int{3, 5} {
		for _, transposed := range []bool{false, true} {
			p := NewPlan(8, 32, 8, 8, k)
			w := randoms(rng, p.M*p.C*k*k)
			for _, r := range [][2]int{{0, 32}, {3, 29}, {8, 16}, {5, 7}} {
				got, want := randoms(rng, p.WeightsLen()), make([]float32, p.WeightsLen())
				copy(want, got)
				p.TransformWeightsMaps(got, w, transposed, r[0], r[1])
				p.transformWeightsLoop(want, w, transposed, r[0], r[1])
				same(t, "weights", got, want)
			}
		}
	}
}

// WeightGrad, whose whole blocks of 4 maps take weightGrad16 where the CPU
// has it, against weightGradLoop: the same bits over any range of maps
// (ranges that start or end inside a block run the loop there), with
// zeros of both signs among U's sums, and large ones that cancel exactly
// beside small ones, so that summing in another order changes the results.
func TestWeightGradLanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, k := range []int{3, 5} {
		p := NewPlan(16, 24, 8, 8, k)
		u := make([]float64, p.SumsLen())
		for i := range u {
			switch rng.IntN(6) {
			case 0:
				u[i] = 0
			case 1:
				u[i] = math.Copysign(0, -1)
			case 2, 3:
				u[i] = math.Copysign(1e17, rng.NormFloat64())
			default:
				u[i] = rng.NormFloat64()
			}
		}
		for _, r := range [][2]int{{0, 24}, {3, 21}, {8, 16}, {5, 7}, {4, 8}} {
			got, want := randoms(rng, p.M*p.C*k*k), randoms(rng, p.M*p.C*k*k)
			copy(want, got)
			p.WeightGrad(got, u, r[0], r[1])
			p.weightGradLoop(want, u, r[0], r[1])
			same(t, "weight gradient", got, want)
		}
	}
}

// SumGroups against its definition, each element's groups added in
// order from the first, bit for bit over ranges that end inside a vector,
// with large parts that cancel beside small ones.
func TestSumGroupsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	p := NewPlan(16, 16, 8, 8, 3)
	const groups = 5
	sl := p.SumsLen()
	parts := make([]float32, groups*sl)
	for i := range parts {
		if rng.IntN(2) == 0 {
			parts[i] = float32(math.Copysign(1e17, rng.NormFloat64()))
		} else {
			parts[i] = float32(rng.NormFloat64())
		}
	}
	for _, r := range [][2]int{{0, sl}, {3, 29}, {8, 16}, {5, 7}} {
		u := make([]float64, sl)
		p.SumGroups(u, parts, groups, r[0], r[1])
		for e := r[0]; e < r[1]; e++ {
			want := float64(parts[e])
			for k := 1; k < groups; k++ {
				want += float64(parts[k*sl+e])
			}
			if math.Float64bits(u[e]) != math.Float64bits(want) {
				t.Fatalf("range %v: U'[%d] = %v, want %v", r, e, u[e], want)
			}
		}
	}
}

// The transforms' bounds check: n positions from the largest offset must
// fit the buffer, n whole vectors; a negative offset fits nothing.
func TestTilesFit(t *testing.T) {
	buf := make([]float32, 100)
	for _, c := range []struct {
		off  []int
		n    int
		want bool
	}{
		{[]int{0, 20, 68}, 32, true},
		{[]int{68, 0, 20}, 32, true},
		{[]int{0, 69}, 32, false},
		{[]int{0, 20}, 24, false},
		{[]int{-16, 0}, 16, false},
		{nil, 96, true},
		{nil, 112, false},
	} {
		if got := tilesFit(buf, largest(c.off), c.n); got != c.want {
			t.Errorf("offsets %v, %d positions in 100: tilesFit = %v, want %v", c.off, c.n, got, c.want)
		}
	}
}
