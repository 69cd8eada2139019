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
	stride2Layers(b, func(d *Direct, n int, run func(string, func())) {
		c, m, h := d.C, d.M, d.H
		x, dl, planes, grids := stride2Inputs(d, n, rng)
		lanes := make([]float32, d.LaneLen())
		dw := make([]float32, m*c*9)
		run("direct", func() {
			for i := 0; i < n; i++ {
				d.PadGrid(grids[i*m*d.Span():], dl[i*m*d.OH*d.OW:], m)
			}
			clear(lanes)
			chunk := max(1, (256<<10)/((m*d.Span()+c*d.Plane())*4))
			for g0 := 0; g0 < n; g0 += chunk {
				g1 := min(g0+chunk, n)
				d.WeightGrad(lanes, grids[g0*m*d.Span():g1*m*d.Span()], planes[g0*c*d.Plane():g1*c*d.Plane()], g1-g0)
			}
			d.SumLanes(dw, lanes)
		})
		p := d.OH * d.OW
		col := make([]float32, c*9*p)
		run("im2col", func() {
			for i := 0; i < n; i++ {
				Im2col(x[i*c*h*h:], c, h, h, 3, 1, 2, col, p)
				beta := float32(1)
				if i == 0 {
					beta = 0
				}
				Gemm(false, true, m, c*9, p, dl[i*m*p:], p, col, p, beta, dw, c*9)
			}
		})
	})
}

// BenchmarkStride2InputGrad: ResNet-20's two stride-2 layers, batch 128,
// one thread, image by image as the networks' input gradients run: δ
// padded, the tiles, the interleave; against Wᵀδ by one GEMM and col2im.
func BenchmarkStride2InputGrad(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	stride2Layers(b, func(d *Direct, n int, run func(string, func())) {
		c, m, h := d.C, d.M, d.H
		delta, _ := randSlice(rng, n*m*d.OH*d.OW)
		w, _ := randSlice(rng, m*c*9)
		dx := make([]float32, n*c*h*h)
		packed := make([]float32, d.Grad2PackedLen())
		planes := make([]float32, m*d.Grad2PlaneLen())
		grids := make([]float32, d.Grad2GridLen())
		run("direct", func() {
			d.PackGrad2(packed, w)
			for i := 0; i < n; i++ {
				d.PadGrad2(planes, delta[i*m*d.OH*d.OW:], m)
				d.InputGrad2(grids, planes, packed)
				d.UnpadGrad2(dx[i*c*h*h:(i+1)*c*h*h], grids, nil)
			}
		})
		p := d.OH * d.OW
		col := make([]float32, c*9*p)
		run("col2im", func() {
			for i := 0; i < n; i++ {
				Gemm(true, false, c*9, p, m, w, c*9, delta[i*m*p:], p, 0, col, p)
				img := dx[i*c*h*h : (i+1)*c*h*h]
				clear(img)
				Col2im(col, c, h, h, 3, 1, 2, img, p)
			}
		})
	})
}

// stride2Layers runs bench on ResNet-20's two stride-2 layers (batch n =
// 128) with each one's direct convolution and direct-convolution FLOPs,
// timing runs named name-1 and name-2, reporting GFLOP/s.
func stride2Layers(b *testing.B, bench func(d *Direct, n int, run func(name string, fn func()))) {
	for _, s := range [][3]int{{16, 32, 32}, {32, 64, 16}} {
		c, m, h := s[0], s[1], s[2]
		const n = 128
		d := NewDirect(c, m, h, h, 3, 1, 2)
		if d == nil {
			b.Skip("no tiles on this CPU")
		}
		flops := 2 * float64(n*m*c*9*d.OH*d.OW)
		bench(d, n, func(name string, fn func()) {
			b.Run(name+"-"+string(rune('0'+c/16)), func(b *testing.B) {
				for b.Loop() {
					fn()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}
