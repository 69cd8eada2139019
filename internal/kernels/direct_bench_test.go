package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkDirectVsIm2col times one image's forward convolution, input
// gradient and weight gradient both ways, on each network's stride-1 shapes.
func BenchmarkDirectVsIm2col(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range directShapes[:6] {
		d := NewDirect(s.c, s.m, s.h, s.w, s.k, (s.k-1)/2, 1)
		if d == nil {
			b.Skip("no direct convolution on this CPU")
		}
		const n = 8
		img, _ := randSlice(r, n*s.c*s.h*s.w)
		w, _ := randSlice(r, s.m*s.c*s.k*s.k)
		delta, _ := randSlice(r, n*s.m*s.h*s.w)
		in, out, p, ckk := s.c*s.h*s.w, s.m*s.h*s.w, s.h*s.w, s.c*s.k*s.k
		res := make([]float32, n*out)
		name := fmt.Sprintf("%dx%dx%dx%d/k%d", s.c, s.m, s.h, s.w, s.k)
		// im2colGroups unrolls the images in groups of about 512 columns, as
		// the convolution op does, and hands each group to gemm.
		g := max(1, 512/p)
		col := make([]float32, ckk*g*p)
		im2colGroups := func(gemm func(g0, cols int, col []float32)) {
			for g0 := 0; g0 < n; g0 += g {
				g1 := min(g0+g, n)
				cols := (g1 - g0) * p
				for i := g0; i < g1; i++ {
					Im2col(img[i*in:(i+1)*in], s.c, s.h, s.w, s.k, (s.k-1)/2, 1, col[(i-g0)*p:], cols)
				}
				gemm(g0, cols, col)
			}
		}
		flops := func(b *testing.B) {
			b.ReportMetric(2*float64(n*s.m*ckk*p)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		b.Run(name+"/fwd/direct", func(b *testing.B) {
			planes := make([]float32, s.c*d.Plane())
			packed := make([]float32, d.PackedLen(s.m, s.c))
			grid := make([]float32, d.Rows(s.m)*d.Span())
			for it := 0; it < b.N; it++ {
				d.Pack(packed, w)
				for i := 0; i < n; i++ {
					d.Pad(planes, img[i*in:], nil, s.c)
					d.Conv(grid, planes, packed, s.c, s.m)
					d.Unpad(res[i*out:], grid, s.m, nil, nil)
				}
			}
			flops(b)
		})
		b.Run(name+"/fwd/im2col", func(b *testing.B) {
			for it := 0; it < b.N; it++ {
				im2colGroups(func(g0, cols int, col []float32) {
					Gemm(false, false, s.m, cols, ckk, w, ckk, col, cols, 0, res[g0*out:], cols)
				})
			}
			flops(b)
		})
		b.Run(name+"/dW/direct", func(b *testing.B) {
			planes := make([]float32, n*s.c*d.Plane())
			dpl := make([]float32, n*s.m*d.Plane())
			dw := make([]float32, len(w))
			lanes := make([]float32, d.LaneLen())
			for it := 0; it < b.N; it++ {
				clear(lanes)
				for i := 0; i < n; i++ {
					d.Pad(planes[i*s.c*d.Plane():], img[i*in:], nil, s.c)
					d.Pad(dpl[i*s.m*d.Plane():], delta[i*out:], nil, s.m)
				}
				d.WeightGrad(lanes, dpl, planes, n)
				d.SumLanes(dw, lanes)
			}
			flops(b)
		})
		b.Run(name+"/dW/im2col", func(b *testing.B) {
			dw := make([]float32, len(w))
			for it := 0; it < b.N; it++ {
				im2colGroups(func(g0, cols int, col []float32) {
					Gemm(false, true, s.m, ckk, cols, delta[g0*out:], cols, col, cols, 1, dw, ckk)
				})
			}
			flops(b)
		})
	}
}
