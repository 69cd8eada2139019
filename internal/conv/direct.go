package conv

import (
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
)

// The direct strategy convolves without im2col (kernels.Direct): each
// input channel is padded once into a plane and the tiles multiply-add
// shifted rows of the planes. Its input gradient is the direct
// convolution of δ with the turned, transposed kernel; its weight gradient
// takes the padded planes of the input (the forward pass's, when it kept
// them) and of δ, a few images at a time. At stride 2 (the strided kernel
// set) the input gradient convolves δ into the four parity planes of the
// input and interleaves them, and the weight gradient reads δ on the
// forward pass's output grid.

// directForward pads each image (times mf) into planes, kept for the
// weight gradient when it is direct too, and convolves them tile by tile.
type directForward struct {
	g       Geom
	d       *kernels.Direct
	threads int
	packed  opbase.Floats // w packed for the tiles
	ws      workspace
}

func (s *directForward) Name() string { return "direct" }

func (s *directForward) Forward(od, h, mf, w, bias []float32, epi *Epilogue, res []float32, save *Saved, n int) {
	g, d := s.g, s.d
	c, img, out := g.C, g.img(), g.out()
	s.ws.ensure(s.threads)
	packed := s.packed.Get(d.PackedLen(g.M, c))
	d.Pack(packed, w)
	var kept []float32
	if save != nil {
		kept = save.buf.Get(n * c * d.Plane())
	}
	kernels.Parallel(n, s.threads, func(wk, lo, hi int) {
		grid := s.ws.buf[wk].Get(d.Rows(g.M) * d.Span())
		planes := s.ws.col[wk].Get(c * d.Plane())
		for i := lo; i < hi; i++ {
			if kept != nil {
				planes = kept[i*c*d.Plane() : (i+1)*c*d.Plane()]
			}
			d.Pad(planes, h[i*img:(i+1)*img], kernels.Part(mf, i, img), c)
			d.Conv(grid, planes, packed, c, g.M)
			if epi != nil {
				epi.Grid(d, od[i*out:(i+1)*out], d.Out(), grid, kernels.Part(res, i, out), d.Out())
			} else {
				d.Unpad(od[i*out:(i+1)*out], grid, g.M, bias, nil)
			}
		}
	})
}

// directInputGrad computes ∂J/∂h as the direct convolution of δ with the
// turned, transposed kernel, times mb.
type directInputGrad struct {
	g       Geom
	d       *kernels.Direct
	threads int
	wt      opbase.Floats // w packed turned and transposed
	ws      workspace
}

func (s *directInputGrad) Name() string { return "direct" }

func (s *directInputGrad) InputGrad(od, w, d, mb []float32, n int) {
	g, dc := s.g, s.d
	c, img, out := g.C, g.img(), g.out()
	s.ws.ensure(s.threads)
	if dc.Stride == 2 {
		s.inputGrad2(od, w, d, mb, n)
		return
	}
	packed := s.wt.Get(dc.PackedLen(c, g.M))
	dc.PackTransposed(packed, w)
	kernels.Parallel(n, s.threads, func(wk, lo, hi int) {
		grid := s.ws.buf[wk].Get(dc.Rows(c) * dc.Span())
		planes := s.ws.col[wk].Get(g.M * dc.Plane())
		for i := lo; i < hi; i++ {
			dc.Pad(planes, d[i*out:(i+1)*out], nil, g.M)
			dc.Conv(grid, planes, packed, g.M, c)
			dc.Unpad(od[i*img:(i+1)*img], grid, c, nil, kernels.Part(mb, i, img))
		}
	})
}

// inputGrad2 is InputGrad at stride 2: each image's δ padded, the four
// parity planes of its input gradient convolved, interleaved (times mb).
func (s *directInputGrad) inputGrad2(od, w, d, mb []float32, n int) {
	g, dc := s.g, s.d
	img, out := g.img(), g.out()
	packed := s.wt.Get(dc.Grad2PackedLen())
	dc.PackGrad2(packed, w)
	kernels.Parallel(n, s.threads, func(wk, lo, hi int) {
		grids := s.ws.buf[wk].Get(dc.Grad2GridLen())
		planes := s.ws.col[wk].Get(g.M * dc.Grad2PlaneLen())
		for i := lo; i < hi; i++ {
			dc.PadGrad2(planes, d[i*out:(i+1)*out], g.M)
			dc.InputGrad2(grids, planes, packed)
			dc.UnpadGrad2(od[i*img:(i+1)*img], grids, kernels.Part(mb, i, img))
		}
	})
}

// directChunk is about how many bytes of padded planes (input and δ) the
// weight gradient takes in at once, so that its tiles find them in cache.
const directChunk = 256 << 10

// directWeightGrad computes ∂J/∂W from padded planes: the forward pass's,
// when it kept them, or h ⊙ m padded here; δ is padded here, a few images
// at a time. Workers take ranges of the weight gradient's tiles (blocks of
// output maps by unrolled input rows), each over the whole batch in order,
// so no sum is split between them and any split gives the same bits. A
// worker pads only the maps of δ its tiles read.
type directWeightGrad struct {
	g       Geom
	d       *kernels.Direct
	threads int
	lanes   opbase.Floats // partial sums
	ws      workspace
}

func (s *directWeightGrad) Name() string { return "direct" }

func (s *directWeightGrad) WeightGrad(dw, h, d, m []float32, saved *Saved, n int) {
	g, dc := s.g, s.d
	c, img, out, hw := g.C, g.img(), g.out(), g.p()
	s.ws.ensure(s.threads)
	pl, dl := dc.Plane(), dc.DeltaLen()
	chunk := max(1, directChunk/((g.M*dl+c*pl)*4))
	var kept []float32
	if saved != nil {
		kept = saved.buf
	}
	lanes := s.lanes.Get(dc.LaneLen())
	// Each chunk pads the maps of δ its tiles read for the whole batch.
	kernels.ParallelCoarse(dc.Tiles(), s.threads, func(wk, t0, t1 int) {
		l0, l1 := dc.TileLanes(t0, t1)
		clear(lanes[l0:l1])
		m0, m1 := dc.TileMaps(t0, t1)
		dpl := s.ws.buf[wk].Get(chunk * g.M * dl)
		var ipl []float32
		if kept == nil {
			ipl = s.ws.col[wk].Get(chunk * c * pl)
		}
		for g0 := 0; g0 < n; g0 += chunk {
			g1 := min(g0+chunk, n)
			in := ipl
			if kept != nil {
				in = kept[g0*c*pl : g1*c*pl]
			}
			for i := g0; i < g1; i++ {
				dc.PadDelta(dpl[((i-g0)*g.M+m0)*dl:], d[i*out+m0*hw:i*out+m1*hw], m1-m0)
				if kept == nil {
					dc.Pad(ipl[(i-g0)*c*pl:], h[i*img:(i+1)*img], kernels.Part(m, i, img), c)
				}
			}
			dc.WeightGradTiles(lanes, dpl, in, g1-g0, t0, t1)
		}
		dc.SumLanesTiles(dw, lanes, t0, t1)
	})
}
