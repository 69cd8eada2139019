package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dropexp/dropexp/internal/tile"
)

// stride2Inputs returns n images of c maps h×w, δ of m maps for a 3×3
// stride-2 pad-1 convolution, padded as the direct weight gradient reads them.
func stride2Inputs(d *Direct, n int, rng *rand.Rand) (x, dl, planes, grids []float32) {
	x = make([]float32, n*d.C*d.H*d.W)
	dl = make([]float32, n*d.M*d.OH*d.OW)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range dl {
		dl[i] = float32(rng.NormFloat64())
	}
	planes = make([]float32, n*d.C*d.Plane())
	grids = make([]float32, n*d.M*d.Span())
	for i := 0; i < n; i++ {
		d.Pad(planes[i*d.C*d.Plane():], x[i*d.C*d.H*d.W:], nil, d.C)
		d.PadGrid(grids[i*d.M*d.Span():], dl[i*d.M*d.OH*d.OW:], d.M)
	}
	return
}

// The stride-2 weight gradient (δ on the output grid, the forward pass's
// parity planes) against float64 loops, on the tiles this CPU runs or
// their Go loops, at ResNet-20's stride-2 shapes and an odd one.
func TestStride2WeightGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][5]int{{16, 32, 32, 3, 1}, {32, 64, 16, 2, 1}, {3, 8, 9, 2, 1}, {16, 32, 32, 2, 0}, {3, 8, 9, 2, 0}} {
		c, m, h, n, wide := s[0], s[1], s[2], s[3], s[4] == 1
		d := newDirect(c, m, h, h, 3, 1, 2, wide && tile.Wide) // the AVX-512 tiles, and the AVX2 ones
		x, dl, planes, grids := stride2Inputs(d, n, rng)
		lanes := make([]float32, d.LaneLen())
		d.WeightGrad(lanes, grids, planes, n)
		dw := make([]float32, m*c*9)
		d.SumLanes(dw, lanes)
		for mm := 0; mm < m; mm++ {
			for cc := 0; cc < c; cc++ {
				for ki := 0; ki < 3; ki++ {
					for kj := 0; kj < 3; kj++ {
						var want, mag float64
						for i := 0; i < n; i++ {
							for oy := 0; oy < d.OH; oy++ {
								for ox := 0; ox < d.OW; ox++ {
									y, xx := 2*oy+ki-1, 2*ox+kj-1
									if y < 0 || y >= h || xx < 0 || xx >= h {
										continue
									}
									v := float64(dl[((i*m+mm)*d.OH+oy)*d.OW+ox]) * float64(x[((i*c+cc)*h+y)*h+xx])
									want += v
									mag += math.Abs(v)
								}
							}
						}
						got := float64(dw[(mm*c+cc)*9+ki*3+kj])
						if math.Abs(got-want) > 1e-5*mag+1e-6 {
							t.Fatalf("c%d m%d h%d wide %v: dW[%d][%d][%d][%d] = %v, want %v", c, m, h, d.wide, mm, cc, ki, kj, got, want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkStride2WeightGrad: ResNet-20's two stride-2 layers, batch 128,
// one thread: δ padded onto the grid, the tiles and the lane sums (the
// input planes are the forward pass's, kept), against im2col and one GEMM
// per image as the im2col weight gradient computes it.
func BenchmarkStride2WeightGrad(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][3]int{{16, 32, 32}, {32, 64, 16}} {
		c, m, h := s[0], s[1], s[2]
		const n = 128
		d := NewDirect(c, m, h, h, 3, 1, 2)
		if d == nil {
			b.Skip("no tiles on this CPU")
		}
		x, dl, planes, grids := stride2Inputs(d, n, rng)
		lanes := make([]float32, d.LaneLen())
		dw := make([]float32, m*c*9)
		flops := 2 * float64(n*m*c*9*d.OH*d.OW)
		b.Run("direct-"+string(rune('0'+c/16)), func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < n; i++ {
					d.PadGrid(grids[i*d.M*d.Span():], dl[i*d.M*d.OH*d.OW:], d.M)
				}
				clear(lanes)
				chunk := max(1, (256<<10)/((d.M*d.Span()+d.C*d.Plane())*4))
				for g0 := 0; g0 < n; g0 += chunk {
					g1 := min(g0+chunk, n)
					d.WeightGrad(lanes, grids[g0*d.M*d.Span():g1*d.M*d.Span()], planes[g0*d.C*d.Plane():g1*d.C*d.Plane()], g1-g0)
				}
				d.SumLanes(dw, lanes)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		p := d.OH * d.OW
		col := make([]float32, c*9*p)
		b.Run("im2col-"+string(rune('0'+c/16)), func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < n; i++ {
					Im2col(x[i*c*h*h:], c, h, h, 3, 1, 2, col, p)
					beta := float32(1)
					if i == 0 {
						beta = 0
					}
					Gemm(false, true, m, c*9, p, dl[i*m*p:], p, col, p, beta, dw, c*9)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// The stride-2 input gradient (parity planes of the padded input, each a
// stride-1 convolution of δ) against float64 loops, with a mask, on both
// tile widths, at ResNet-20's stride-2 shapes and odd ones (5×5 kernels,
// maps that are not a multiple of the tile).
func TestStride2InputGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, cs := range directCases([]directShape{{16, 32, 32, 32, 3}, {32, 64, 16, 16, 3}, {3, 5, 7, 9, 3}, {2, 9, 6, 5, 5}, {5, 3, 9, 7, 5}}) {
		s := cs.shape
		pad := (s.k - 1) / 2
		d := newDirect(s.c, s.m, s.h, s.w, s.k, pad, 2, cs.wide)
		delta, delta64 := randSlice(r, s.m*d.OH*d.OW)
		w, w64 := randSlice(r, s.m*s.c*s.k*s.k)
		mask, mask64 := randSlice(r, s.c*s.h*s.w)
		packed := make([]float32, d.Grad2PackedLen())
		d.PackGrad2(packed, w)
		planes := make([]float32, s.m*d.Grad2PlaneLen())
		for i := range planes {
			planes[i] = float32(math.NaN()) // PadGrad2 must write every float the tiles read
		}
		d.PadGrad2(planes, delta, s.m)
		grids := make([]float32, d.Grad2GridLen())
		d.InputGrad2(grids, planes, packed)
		got := make([]float32, s.c*s.h*s.w)
		d.UnpadGrad2(got, grids, mask)
		for c := 0; c < s.c; c++ {
			for y := 0; y < s.h; y++ {
				for x := 0; x < s.w; x++ {
					var want, mag float64
					for m := 0; m < s.m; m++ {
						for ki := 0; ki < s.k; ki++ {
							for kj := 0; kj < s.k; kj++ {
								oy2, ox2 := y+pad-ki, x+pad-kj
								if oy2 < 0 || ox2 < 0 || oy2%2 != 0 || ox2%2 != 0 || oy2/2 >= d.OH || ox2/2 >= d.OW {
									continue
								}
								v := w64[((m*s.c+c)*s.k+ki)*s.k+kj] * delta64[(m*d.OH+oy2/2)*d.OW+ox2/2]
								want += v
								mag += math.Abs(v)
							}
						}
					}
					i := (c*s.h+y)*s.w + x
					want *= mask64[i]
					mag *= math.Abs(mask64[i])
					if g := float64(got[i]); math.Abs(g-want) > 1e-5*mag+1e-6 || g != g {
						t.Fatalf("%s: dx[%d][%d][%d] = %v, want %v", cs.name, c, y, x, g, want)
					}
				}
			}
		}
	}
}

// BenchmarkStride2InputGrad: ResNet-20's two stride-2 layers, batch 128,
// one thread, image by image as the networks' input gradients run: δ
// padded, the tiles, the interleave; against Wᵀδ by one GEMM and col2im.
func BenchmarkStride2InputGrad(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][3]int{{16, 32, 32}, {32, 64, 16}} {
		c, m, h := s[0], s[1], s[2]
		const n = 128
		d := NewDirect(c, m, h, h, 3, 1, 2)
		if d == nil {
			b.Skip("no tiles on this CPU")
		}
		delta, _ := randSlice(rng, n*m*d.OH*d.OW)
		w, _ := randSlice(rng, m*c*9)
		dx := make([]float32, n*c*h*h)
		flops := 2 * float64(n*m*c*9*d.OH*d.OW)
		packed := make([]float32, d.Grad2PackedLen())
		planes := make([]float32, m*d.Grad2PlaneLen())
		grids := make([]float32, d.Grad2GridLen())
		b.Run("direct-"+string(rune('0'+c/16)), func(b *testing.B) {
			for b.Loop() {
				d.PackGrad2(packed, w)
				for i := 0; i < n; i++ {
					d.PadGrad2(planes, delta[i*m*d.OH*d.OW:], m)
					d.InputGrad2(grids, planes, packed)
					d.UnpadGrad2(dx[i*c*h*h:(i+1)*c*h*h], grids, nil)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		p := d.OH * d.OW
		col := make([]float32, c*9*p)
		b.Run("col2im-"+string(rune('0'+c/16)), func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < n; i++ {
					Gemm(true, false, c*9, p, m, w, c*9, delta[i*m*p:], p, 0, col, p)
					img := dx[i*c*h*h : (i+1)*c*h*h]
					clear(img)
					Col2im(col, c, h, h, 3, 1, 2, img, p)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
