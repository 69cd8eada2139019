package conv

import "github.com/dropexp/dropexp/internal/kernels"

// The im2col strategy unrolls the images of a group side by side into a
// (C·K·K)×(images·OH·OW) matrix (kernels.Im2col) and convolves the group
// with one matrix multiply; the weight gradient multiplies δ by the same
// unrolled matrix, the forward pass's when it kept it.

// im2colForward is the forward pass by im2col, group by group; a group of
// one image multiplies straight into its output.
type im2colForward struct {
	g       Geom
	threads int
	ws      workspace
}

func (s *im2colForward) Name() string { return "im2col" }

func (s *im2colForward) Forward(od, h, mf, w, bias []float32, epi *Epilogue, res []float32, save *Saved, n int) {
	g := s.g
	img, p, ckk := g.img(), g.p(), g.ckk()
	s.ws.ensure(s.threads)
	var kept []float32
	if save != nil {
		kept = save.buf.Get(n * ckk * p)
	}
	post := func(g0, g1 int) {
		if epi != nil {
			epi.Maps(od, res, g0*g.M, g1*g.M, g.M, p)
		}
	}
	ng, gs := groups(n, p)
	kernels.Parallel(ng, s.threads, func(wk, lo, hi int) {
		col := s.ws.col[wk].Get(ckk * gs * p)
		buf := s.ws.buf[wk].Get(g.M * gs * p)
		tmp := s.ws.tmp[wk].Get(img)
		for gi := lo; gi < hi; gi++ {
			g0, g1 := group(gi, n, p)
			cols := (g1 - g0) * p
			if kept != nil {
				col = kept[g0*ckk*p : g1*ckk*p]
			}
			g.unroll(col, tmp, h, mf, g0, g1)
			if g1-g0 == 1 {
				// One image: its output block already has the GEMM's layout.
				dst := od[g0*g.M*p : (g0+1)*g.M*p]
				kernels.Gemm(false, false, g.M, cols, ckk, w, ckk, col, cols, 0, dst, cols)
				if bias != nil {
					for j := 0; j < g.M; j++ {
						kernels.AddScalar(dst[j*p:(j+1)*p], bias[j])
					}
				}
				post(g0, g1)
				continue
			}
			kernels.Gemm(false, false, g.M, cols, ckk, w, ckk, col, cols, 0, buf, cols)
			for i := g0; i < g1; i++ {
				for j := 0; j < g.M; j++ {
					dst := od[(i*g.M+j)*p : (i*g.M+j+1)*p]
					src := buf[j*cols+(i-g0)*p : j*cols+(i-g0+1)*p]
					var bv float32
					if bias != nil {
						bv = bias[j]
					}
					for k, v := range src {
						dst[k] = v + bv
					}
				}
			}
			post(g0, g1)
		}
	})
}

// im2colWeightGrad sums δ times the unrolled input over the batch in
// blocks of whole groups, each into its own accumulator, and adds the
// blocks in order at the end.
type im2colWeightGrad struct {
	g       Geom
	threads int
	ws      workspace
}

func (s *im2colWeightGrad) Name() string { return "im2col" }

func (s *im2colWeightGrad) WeightGrad(dw, h, d, m []float32, saved *Saved, n int) {
	g := s.g
	img, p, ckk := g.img(), g.p(), g.ckk()
	ng, gs := groups(n, p)
	nb := min(ng, reduceBlocks)
	s.ws.ensure(max(s.threads, nb))
	kernels.Parallel(nb, s.threads, func(wk, b0, b1 int) {
		col := s.ws.col[wk].Get(ckk * gs * p)
		buf := s.ws.buf[wk].Get(g.M * gs * p)
		tmp := s.ws.tmp[wk].Get(img)
		for b := b0; b < b1; b++ {
			acc := s.ws.acc[b].Get(g.M * ckk)
			lo, hi := kernels.Block(ng, nb, b)
			for gi := lo; gi < hi; gi++ {
				g0, g1 := group(gi, n, p)
				cols := (g1 - g0) * p
				if saved != nil {
					// The forward pass unrolled the same groups of the same features.
					col = saved.buf[g0*ckk*p : g1*ckk*p]
				} else {
					g.unroll(col, tmp, h, m, g0, g1)
				}
				dg := gather(buf, d, g0, g1, g.M, p)
				beta := float32(1)
				if gi == lo {
					beta = 0
				}
				kernels.Gemm(false, true, g.M, ckk, cols, dg, cols, col, cols, beta, acc, ckk)
			}
		}
	})
	sumInto(dw, s.ws.acc[:nb])
}

// unroll writes images g0..g1 of h, times the mask m when there is one
// (through tmp, one image long), as the columns of one GEMM into col.
func (g Geom) unroll(col, tmp, h, m []float32, g0, g1 int) {
	img, p := g.img(), g.p()
	cols := (g1 - g0) * p
	for i := g0; i < g1; i++ {
		src := h[i*img : (i+1)*img]
		if m != nil {
			kernels.MulTo(tmp, src, m[i*img:(i+1)*img])
			src = tmp
		}
		kernels.Im2col(src, g.C, g.H, g.W, g.K, g.Pad, g.Stride, col[(i-g0)*p:], cols)
	}
}
