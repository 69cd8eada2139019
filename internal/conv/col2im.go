package conv

import "github.com/dropexp/dropexp/internal/kernels"

// col2imInputGrad is the input gradient of any geometry: Wᵀδ of a group
// of images as one matrix multiply, scattered back onto the images by
// col2im, times mb.
type col2imInputGrad struct {
	g       Geom
	threads int
	ws      workspace
}

func (s *col2imInputGrad) Name() string { return "col2im" }

func (s *col2imInputGrad) InputGrad(od, w, d, mb []float32, n int) {
	g := s.g
	c, ih, iw := g.C, g.H, g.W
	img, p, ckk := g.img(), g.p(), g.ckk()
	s.ws.ensure(s.threads)
	ng, gs := groups(n, p)
	kernels.Parallel(ng, s.threads, func(wk, lo, hi int) {
		col := s.ws.col[wk].Get(ckk * gs * p)
		buf := s.ws.buf[wk].Get(g.M * gs * p)
		for gi := lo; gi < hi; gi++ {
			g0, g1 := group(gi, n, p)
			cols := (g1 - g0) * p
			dg := gather(buf, d, g0, g1, g.M, p)
			kernels.Gemm(true, false, ckk, cols, g.M, w, ckk, dg, cols, 0, col, cols)
			for i := g0; i < g1; i++ {
				dst := od[i*img : (i+1)*img]
				clear(dst)
				kernels.Col2im(col[(i-g0)*p:], c, ih, iw, g.K, g.Pad, g.Stride, dst, cols)
				if mb != nil {
					kernels.Mul(dst, mb[i*img:(i+1)*img])
				}
			}
		}
	})
}
