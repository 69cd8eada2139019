package conv

import (
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	"github.com/dropexp/dropexp/internal/winograd"
)

// winogradForward computes a same-size 3×3 or 5×5 convolution by
// Winograd's F(4×4, 3×3) or F(2×2, 5×5) (the winograd kernel set), a few
// images at a time. When the
// weight gradient is direct and reads the forward pass's features, it also
// writes them into the direct convolution's padded planes for it, as it
// splits them into its own.
type winogradForward struct {
	g       Geom
	d       *kernels.Direct // the planes the weight gradient reads
	p       *winograd.Plan
	threads int
	u       opbase.Floats // the kernel, transformed
	ws      workspace
}

func (s *winogradForward) Name() string { return "winograd" }

func (s *winogradForward) Forward(od, h, mf, w, bias []float32, epi *Epilogue, res []float32, save *Saved, n int) {
	g, d, p := s.g, s.d, s.p
	c, img, out := g.C, g.img(), g.out()
	u := s.u.Get(p.WeightsLen())
	transformWeights(p, u, w, false, g.M, weightThreads(g, s.threads))
	var kept []float32
	if save != nil {
		kept = save.buf.Get(n * c * d.Plane())
	}
	if epi != nil {
		bias = nil // as the direct strategy: the epilogue's shift stands for it
	}
	s.ws.winogradGroups(p, n, s.threads, func(scratch []float32, i, k int) {
		var keep *winograd.Padded
		if kept != nil {
			// The split writes the pixels of the planes as it reads them.
			ld, shift := d.Interior()
			keep = &winograd.Padded{Planes: images(kept, i, k, c*d.Plane()), Plane: d.Plane(), LD: ld, Shift: shift}
			for j := 0; j < k*c; j++ {
				kernels.ClearBorders(keep.Planes[j*d.Plane():], g.H, g.W, ld, shift, d.Plane())
			}
		}
		z := od[i*out : (i+k)*out]
		p.Conv(z, h[i*img:(i+k)*img], images(mf, i, k, img), nil, u, bias, scratch, k, keep)
		if epi != nil {
			epi.Maps(z, images(res, i, k, out), 0, k*g.M, g.M, g.p())
		}
	})
}

// winogradInputGrad computes ∂J/∂h of a same-size 3×3 or 5×5 convolution
// by Winograd's minimal filtering (internal/winograd, the winograd kernel set): δ's
// M maps convolved with the turned, transposed kernel into C maps, times
// mb as they are written. A few images at a time go through the
// transforms together; the result does not depend on how they are grouped,
// so neither on the threads.
type winogradInputGrad struct {
	g       Geom
	p       *winograd.Plan // δ's M maps to the input's C
	threads int
	u       opbase.Floats // the turned, transposed kernel, transformed
	ws      workspace
}

func (s *winogradInputGrad) Name() string { return "winograd" }

func (s *winogradInputGrad) InputGrad(od, w, d, mb []float32, n int) {
	g, p := s.g, s.p
	img, out := g.img(), g.out()
	u := s.u.Get(p.WeightsLen())
	transformWeights(p, u, w, true, g.C, weightThreads(g, s.threads))
	s.ws.winogradGroups(p, n, s.threads, func(scratch []float32, i, k int) {
		p.Conv(od[i*img:(i+k)*img], d[i*out:(i+k)*out], nil, images(mb, i, k, img), u, nil, scratch, k, nil)
	})
}

// winogradGroups runs fn on groups [i, i+k) of at most p.G of n images,
// the threads taking them as they come, each with a scratch of its own.
func (w *workspace) winogradGroups(p *winograd.Plan, n, threads int, fn func(scratch []float32, i, k int)) {
	w.ensure(threads)
	kernels.Parallel(n, threads, func(wk, lo, hi int) {
		scratch := w.buf[wk].Get(p.ScratchLen())
		for i := lo; i < hi; i += p.G {
			fn(scratch, i, min(p.G, hi-i))
		}
	})
}

// images returns images [i, i+k) of s, size floats each, or nil for nil.
func images(s []float32, i, k, size int) []float32 {
	if s == nil {
		return nil
	}
	return s[i*size : (i+k)*size]
}

// WinogradTakes reports whether the winograd set computes the forward
// pass of g by Winograd (where the CPU has the direct convolution's
// tiles), so that a chain of evaluation layers makes the choice its
// op-by-op graph does.
func WinogradTakes(g Geom) bool { return winogradFits(g, g.C, g.M) }

// winogradFits reports whether the winograd set computes the pass of g
// from c to m maps by Winograd: a same-size 3×3 convolution on a CPU with
// the AVX-512 tiles, of whole blocks of 8 maps each side (the products'
// tiles take 8 output maps, and sums over fewer input maps, as ResNet's
// first convolution's 3, leave the tiles mostly idle: it ran slower than
// the direct convolution) and at most winogradMaps.
func winogradFits(g Geom, c, m int) bool {
	return g.OH == g.H && g.OW == g.W && c%8 == 0 && c <= winogradMaps && m <= winogradMaps &&
		winograd.Fits(c, m, g.H, g.W, g.K, g.Pad, g.Stride)
}

// winogradMaps is the most maps Winograd takes: ResNet-20's widest, the
// most it has been measured at (beyond, its transformed weights and a
// group's products outgrow a core's L2 cache).
const winogradMaps = 64

// weightThreads is how many threads transform a kernel: one for 3×3
// kernels below 64×64 maps, where waking the others costs more than the
// work (measured at 16 and 32 maps); all for 5×5 (ConvNet-Quick's 32×32
// and 32×64 maps, each pair 2.5 times a 3×3 pair's work).
func weightThreads(g Geom, threads int) int {
	if g.K == 3 && g.C*g.M < 64*64 {
		return 1
	}
	return threads
}

// transformWeights transforms kernel w, of maps output maps, into u on up
// to threads threads, each taking whole blocks of 8 maps: TransformWeightsMaps
// takes a whole block in vector registers, and a range that cuts one runs
// the scalar loop there (the same bits, several times slower).
func transformWeights(p *winograd.Plan, u, w []float32, transposed bool, maps, threads int) {
	kernels.Parallel((maps+7)/8, threads, func(_, b0, b1 int) {
		p.TransformWeightsMaps(u, w, transposed, 8*b0, min(8*b1, maps))
	})
}

// winogradWeightGrad computes ∂J/∂W of a same-size 3×3 or 5×5 convolution
// by Winograd's minimal filtering: each group of images gives the transformed
// kernel's gradient U' whole (internal/winograd), and the groups' U' are
// added in order. The groups depend only on the batch, so any thread
// count gives the same bits.
type winogradWeightGrad struct {
	g       Geom
	threads int
	p       *winograd.Plan  // for the batch size last seen
	parts   opbase.Floats   // each group's U'
	u       opbase.Float64s // their sum
	ws      workspace
}

func (s *winogradWeightGrad) Name() string { return "winograd" }

func (s *winogradWeightGrad) WeightGrad(dw, h, d, m []float32, _ *Saved, n int) {
	g := s.g
	img, out := g.img(), g.out()
	size := gradGroup(g, n)
	if s.p == nil || s.p.G != size {
		s.p = winograd.NewGroupPlan(g.C, g.M, g.H, g.W, g.K, size)
	}
	p := s.p
	groups, sl := (n+size-1)/size, p.SumsLen()
	parts := s.parts.Get(groups * sl)
	s.ws.ensure(s.threads)
	kernels.Parallel(groups, s.threads, func(wk, k0, k1 int) {
		scratch := s.ws.buf[wk].Get(p.GradScratchLen())
		for k := k0; k < k1; k++ {
			i := k * size
			c := min(size, n-i)
			p.GroupWeightGrad(parts[k*sl:][:sl], h[i*img:(i+c)*img], images(m, i, c, img), d[i*out:(i+c)*out], scratch, c)
		}
	})
	u := s.u.Get(sl)
	kernels.Parallel(sl, s.threads, func(_, e0, e1 int) { p.SumGroups(u, parts, groups, e0, e1) })
	// Whole blocks of 4 maps, which WeightGrad takes in vector registers.
	kernels.Parallel((g.M+3)/4, s.threads, func(_, b0, b1 int) { p.WeightGrad(dw, u, 4*b0, min(4*b1, g.M)) })
}

// gradGroup is how many images the weight gradient takes per group for a
// batch of n: about gradPositions tile positions' worth, in a number of
// groups that is a multiple of 4 where the batch allows, so that 2 or 4
// threads share them evenly, and a multiple of winograd.GroupStep.
func gradGroup(g Geom, n int) int {
	pos := winograd.Positions(g.H, g.W, g.K)
	groups := (n*pos + gradPositions - 1) / gradPositions
	groups = min(n, (groups+3)/4*4)
	size := (n + groups - 1) / groups
	if st := winograd.GroupStep(g.H, g.W, g.K); n >= st {
		size = (size + st - 1) / st * st
	}
	return size
}

// gradPositions is about how many tile positions a weight-gradient group
// spans: long enough rows for the products, short enough that a group's
// transforms stay in a core's L2 cache.
const gradPositions = 512
