package dropout

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConvSpec describes a 2-D convolution (square kernel) with an optional dropout site on its input.
type ConvSpec struct {
	Name      string
	K, Pad    int
	Stride    int
	Mode      Mode // zero Mode: no site
	InputGrad bool // false when the input is data and needs no gradient
	// KeepCols trades memory (N·C·k²·OH·OW floats) for one im2col less per
	// step on the im2col path, when the weight gradient sees the features
	// the forward pass saw (the direct convolution keeps its padded planes
	// instead, without being asked: they are hardly larger than the input).
	KeepCols bool
	// Im2col turns the direct convolution off (tests compare the two paths).
	Im2col  bool
	Threads int
	// Post, in an evaluation graph, normalises the output as it is written.
	Post        *Post
	direct      *kernels.Direct // nil: im2col and matrix multiplies
	hasBias     bool
	inShape     tensor.Shape
	outH, outW  int
	wShape      tensor.Shape
	channels, m int
}

// Post is an evaluation BatchNorm fused into a convolution: the output is
// (z − μ[m])·g[m] + b[m] per map m, then max(·, 0) with ReLU, computed by
// the same kernels as the BatchNorm op so the bits are the same, but while
// each image's maps are still in cache instead of in a pass of its own.
type Post struct {
	// Affine fills μ, g and b (one per output map) before each run, from
	// the current parameters and running statistics.
	Affine func(mu, g, b []float32)
	ReLU   bool
	// Residual, when not nil, is added after the normalisation and before
	// the ReLU: a basic block's second convolution, BatchNorm and sum.
	Residual *G.Node
}

// Conv adds z = conv(h ⊙ mf, W) + b to the graph, with the backward pass of
// docs/DESIGN.md §1: ∂J/∂h = (Wᵀδ) ⊙ mb and ∂J/∂W = δ (h ⊙ mb)ᵀ (layer semantics) or
// δ (h ⊙ mf)ᵀ (elementwise). site may be nil (no dropout) and b may be nil.
func Conv(spec ConvSpec, h *G.Node, site *Site, w, b *G.Node) (*G.Node, error) {
	op := &convOp{Base: opbase.Base{Name: "conv:" + spec.Name}, spec: spec}
	op.spec.hasBias = b != nil
	if op.spec.Stride == 0 {
		op.spec.Stride = 1
	}
	if site == nil {
		op.spec.Mode = Mode{}
	}
	m := op.spec.Mode
	switch m.weightMask() {
	case 0:
		op.sameMask = !m.UseF
	case 'f':
		op.sameMask = true
	case 'b':
		op.sameMask = m.UseF && site.MF == site.MB
	}
	ins := op.layout().nodes(h, site, w, b)
	if r := op.residual(); r != nil {
		ins = append(ins, r)
	}
	return G.ApplyOp(op, ins...)
}

// convOp is the forward convolution; it owns the spec its backward ops share.
type convOp struct {
	opbase.Base
	spec ConvSpec
	out  opbase.Buffer
	// μ, g and b of spec.Post for the current run.
	mu, g, b []float32
	// sameMask: the weight gradient sees exactly the features the forward
	// pass unrolled, so the forward im2col can be kept and reused.
	sameMask bool
	keep     bool          // set once the graph has a backward pass
	cols     opbase.Floats // kept im2col of every image, group by group
	planes   opbase.Floats // kept padded input of every image (direct convolution)
	// keepPlanes: the graph has a backward pass whose weight gradient sees
	// the forward pass's features, so the padded planes are kept for it.
	keepPlanes bool
	packed     opbase.Floats // W packed for the direct convolution
	ws         workspace
}

// workspace holds per-worker scratch buffers so steady-state steps allocate nothing.
type workspace struct {
	col, tmp, acc, buf []opbase.Floats
}

func (w *workspace) ensure(n int) {
	for len(w.col) < n {
		w.col = append(w.col, nil)
		w.tmp = append(w.tmp, nil)
		w.acc = append(w.acc, nil)
		w.buf = append(w.buf, nil)
	}
}

// groupCols is how many output pixels one matrix multiply covers: images are
// unrolled side by side until a group has about this many columns, because
// one large multiply runs much faster than many small ones.
const groupCols = 512

// groups cuts n images of p pixels into groups of size images (the last
// may be smaller), size making about groupCols columns. The groups start
// at multiples of size whatever the thread count, so every matrix multiply
// has the same shape for any threads: OpenBLAS's result for an element
// depends on the shape of the block it lies in (its edge kernels).
func groups(n, p int) (count, size int) {
	size = max(1, groupCols/p)
	return (n + size - 1) / size, min(n, size)
}

// group returns the images [g0,g1) of group gi of n images.
func group(gi, n, p int) (g0, g1 int) {
	size := max(1, groupCols/p)
	return gi * size, min((gi+1)*size, n)
}

// reduceBlocks is how many blocks a sum over the batch is cut into, each
// summed on its own and then all added in order, so that the result does
// not depend on how many threads share the blocks (up to this many can).
const reduceBlocks = 8

// gather lays δ of images [g0,g1) (each M×P) side by side as an M×cols
// matrix: a copy into buf, or δ itself for a single image.
func gather(buf, d []float32, g0, g1, m, p int) []float32 {
	if g1-g0 == 1 {
		return d[g0*m*p : (g0+1)*m*p]
	}
	cols := (g1 - g0) * p
	for j := g0; j < g1; j++ {
		for mm := 0; mm < m; mm++ {
			copy(buf[mm*cols+(j-g0)*p:mm*cols+(j-g0+1)*p], d[(j*m+mm)*p:(j*m+mm+1)*p])
		}
	}
	return buf
}

func (op *convOp) masked() bool { return op.spec.Mode.Masked() }

func (op *convOp) Arity() int {
	if op.residual() != nil {
		return op.layout().arity() + 1
	}
	return op.layout().arity()
}

// residual returns the node Post adds, or nil.
func (op *convOp) residual() *G.Node {
	if op.spec.Post == nil {
		return nil
	}
	return op.spec.Post.Residual
}

// inputs returns the positions of h, mf, mb, W and b among the inputs.
func (op *convOp) inputs() (h, mf, mb, w, b int) { return op.layout().positions() }

func (op *convOp) layout() layout {
	return layout{masked: op.spec.Mode.Masked(), bias: op.spec.hasBias}
}

func (op *convOp) Type() hm.Type {
	ins := make([]int, op.Arity())
	for i := range ins {
		ins[i] = 4
	}
	_, _, _, _, b := op.inputs()
	if b >= 0 {
		ins[b] = 1
	}
	return opbase.Fn(4, ins...)
}

func (op *convOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	hi, _, _, wi, _ := op.inputs()
	hs, err := opbase.Shape(ds[hi])
	if err != nil {
		return nil, err
	}
	ws, err := opbase.Shape(ds[wi])
	if err != nil {
		return nil, err
	}
	s := &op.spec
	if len(hs) != 4 || len(ws) != 4 || ws[1] != hs[1] || ws[2] != s.K || ws[3] != s.K {
		return nil, fmt.Errorf("%s: input %v and weights %v do not fit a %dx%d convolution", s.Name, hs, ws, s.K, s.K)
	}
	s.inShape, s.wShape = hs.Clone(), ws.Clone()
	s.channels, s.m = hs[1], ws[0]
	s.outH = kernels.ConvOut(hs[2], s.K, s.Pad, s.Stride)
	s.outW = kernels.ConvOut(hs[3], s.K, s.Pad, s.Stride)
	s.direct = nil
	if !s.Im2col {
		s.direct = kernels.NewDirect(s.channels, s.m, hs[2], hs[3], s.K, s.Pad, s.Stride)
	}
	return tensor.Shape{hs[0], s.m, s.outH, s.outW}, nil
}

func (op *convOp) Do(vs ...G.Value) (G.Value, error) {
	s := &op.spec
	hi, mfi, _, wi, bi := op.inputs()
	h, w := opbase.F32(vs[hi]), opbase.F32(vs[wi])
	var mf, bias []float32
	if s.Mode.UseF {
		mf = opbase.F32(vs[mfi])
	}
	if bi >= 0 {
		bias = opbase.F32(vs[bi])
	}
	n := vs[hi].Shape()[0]
	out := op.out.Get(tensor.Shape{n, s.m, s.outH, s.outW}, false)
	od := out.Float32s()
	c, ih, iw := s.channels, s.inShape[2], s.inShape[3]
	img, p, ckk := c*ih*iw, s.outH*s.outW, c*s.K*s.K
	op.ws.ensure(s.Threads)
	var res []float32
	if s.Post != nil {
		if op.residual() != nil {
			res = opbase.F32(vs[len(vs)-1])
		}
		if len(op.mu) != s.m {
			op.mu, op.g, op.b = make([]float32, s.m), make([]float32, s.m), make([]float32, s.m)
		}
		s.Post.Affine(op.mu, op.g, op.b)
	}
	if s.direct != nil {
		op.direct(h, mf, w, bias, res, od, n)
		return out, nil
	}
	var kept []float32
	if op.keep {
		kept = op.cols.Get(n * ckk * p)
	}
	ng, g := groups(n, p)
	kernels.Parallel(ng, s.Threads, func(wk, lo, hi int) {
		col := op.ws.col[wk].Get(ckk * g * p)
		buf := op.ws.buf[wk].Get(s.m * g * p)
		tmp := op.ws.tmp[wk].Get(img)
		for gi := lo; gi < hi; gi++ {
			g0, g1 := group(gi, n, p)
			cols := (g1 - g0) * p
			if kept != nil {
				col = kept[g0*ckk*p : g1*ckk*p]
			}
			for i := g0; i < g1; i++ {
				src := h[i*img : (i+1)*img]
				if mf != nil {
					kernels.MulTo(tmp, src, mf[i*img:(i+1)*img])
					src = tmp
				}
				kernels.Im2col(src, c, ih, iw, s.K, s.Pad, s.Stride, col[(i-g0)*p:], cols)
			}
			if g1-g0 == 1 {
				// One image: its output block already has the GEMM's layout.
				dst := od[g0*s.m*p : (g0+1)*s.m*p]
				kernels.Gemm(false, false, s.m, cols, ckk, w, ckk, col, cols, 0, dst, cols)
				if bias != nil {
					for j := 0; j < s.m; j++ {
						kernels.AddScalar(dst[j*p:(j+1)*p], bias[j])
					}
				}
				op.post(od, res, g0, g1)
				continue
			}
			kernels.Gemm(false, false, s.m, cols, ckk, w, ckk, col, cols, 0, buf, cols)
			for i := g0; i < g1; i++ {
				for j := 0; j < s.m; j++ {
					dst := od[(i*s.m+j)*p : (i*s.m+j+1)*p]
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
			op.post(od, res, g0, g1)
		}
	})
	return out, nil
}

// post applies spec.Post in place to output images [g0,g1), adding res's
// images when res is not nil.
func (op *convOp) post(od, res []float32, g0, g1 int) {
	s := &op.spec
	if s.Post == nil {
		return
	}
	p := s.outH * s.outW
	for j := g0 * s.m; j < g1*s.m; j++ { // map j%m of image j/m
		z, m := od[j*p:(j+1)*p], j%s.m
		kernels.NormalizeAdd(z, z, kernels.Part(res, j, p), op.mu[m], op.g[m], op.b[m], s.Post.ReLU)
	}
}

// direct is Do for the direct convolution: pad each image (times mf) into
// planes, which the weight gradient reuses when it sees the same features,
// and convolve them tile by tile.
func (op *convOp) direct(h, mf, w, bias, res, od []float32, n int) {
	s := &op.spec
	d := s.direct
	c, img, out := s.channels, s.channels*s.inShape[2]*s.inShape[3], s.m*s.outH*s.outW
	packed := op.packed.Get(d.PackedLen(s.m, c))
	d.Pack(packed, w)
	var kept []float32
	if op.keepPlanes && d.Backward() {
		kept = op.planes.Get(n * c * d.Plane())
	}
	kernels.Parallel(n, s.Threads, func(wk, lo, hi int) {
		grid := op.ws.buf[wk].Get(d.Rows(s.m) * d.Span())
		planes := op.ws.col[wk].Get(c * d.Plane())
		for i := lo; i < hi; i++ {
			if kept != nil {
				planes = kept[i*c*d.Plane() : (i+1)*c*d.Plane()]
			}
			d.Pad(planes, h[i*img:(i+1)*img], kernels.Part(mf, i, img), c)
			d.Conv(grid, planes, packed, c, s.m)
			if s.Post != nil {
				d.Normalize(od[i*out:(i+1)*out], d.Out(), grid, s.m, op.mu, op.g, op.b, kernels.Part(res, i, out), d.Out(), s.Post.ReLU)
			} else {
				d.Unpad(od[i*out:(i+1)*out], grid, s.m, bias, nil)
			}
		}
	})
}

func (op *convOp) DiffWRT(n int) []bool { return op.layout().diffWRT(n, op.spec.InputGrad) }

func (op *convOp) SymDiff(ins G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.spec.Post != nil {
		return nil, fmt.Errorf("%s: a convolution with a fused evaluation BatchNorm has no gradient", op.Name)
	}
	// The direct forward pass unrolls nothing to keep; its planes serve the
	// weight gradient when that runs direct too.
	op.keep = op.sameMask && op.spec.KeepCols && op.spec.direct == nil
	op.keepPlanes = op.sameMask
	dh := &convInputGrad{Base: opbase.Base{Name: op.Name + "/dh"}, fwd: op}
	dW := &convWeightGrad{Base: opbase.Base{Name: op.Name + "/dW"}, fwd: op}
	return op.layout().backward(op.spec.Mode, op.spec.InputGrad, op.Name, ins, grad, dh, dW, op.spec.Threads)
}

func (op *convOp) CallsExtern() bool { return kernels.Backend != "gonum" }
func (op *convOp) String() string    { return "conv:" + op.spec.Name }

// convInputGrad computes ∂J/∂h = col2im(Wᵀ δ) ⊙ mb; inputs W, δ[, mb].
type convInputGrad struct {
	opbase.Base
	fwd *convOp
	out opbase.Buffer
	ws  workspace
	wt  opbase.Floats // W rearranged for the transposed convolution
}

// direct computes ∂J/∂h as the direct convolution of δ with the turned,
// transposed kernel, times mb.
func (op *convInputGrad) direct(w, d, mb, od []float32, n int) {
	s := &op.fwd.spec
	dc := s.direct
	c, img, out := s.channels, s.channels*s.inShape[2]*s.inShape[3], s.m*s.outH*s.outW
	packed := op.wt.Get(dc.PackedLen(c, s.m))
	dc.PackTransposed(packed, w)
	kernels.Parallel(n, s.Threads, func(wk, lo, hi int) {
		grid := op.ws.buf[wk].Get(dc.Rows(c) * dc.Span())
		planes := op.ws.col[wk].Get(s.m * dc.Plane())
		for i := lo; i < hi; i++ {
			dc.Pad(planes, d[i*out:(i+1)*out], nil, s.m)
			dc.Conv(grid, planes, packed, s.m, c)
			dc.Unpad(od[i*img:(i+1)*img], grid, c, nil, kernels.Part(mb, i, img))
		}
	})
}

func (op *convInputGrad) Arity() int {
	if op.fwd.spec.Mode.UseB {
		return 3
	}
	return 2
}
func (op *convInputGrad) Type() hm.Type {
	if op.Arity() == 3 {
		return opbase.Fn(4, 4, 4, 4)
	}
	return opbase.Fn(4, 4, 4)
}
func (op *convInputGrad) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.spec.inShape.Clone(), nil
}
func (op *convInputGrad) Do(vs ...G.Value) (G.Value, error) {
	s := &op.fwd.spec
	w, d := opbase.F32(vs[0]), opbase.F32(vs[1])
	var mb []float32
	if len(vs) == 3 {
		mb = opbase.F32(vs[2])
	}
	n := vs[1].Shape()[0]
	shape := s.inShape.Clone()
	shape[0] = n
	out := op.out.Get(shape, false)
	od := out.Float32s()
	c, ih, iw := s.channels, s.inShape[2], s.inShape[3]
	img, p, ckk := c*ih*iw, s.outH*s.outW, c*s.K*s.K
	op.ws.ensure(s.Threads)
	if s.direct != nil && s.direct.Backward() {
		op.direct(w, d, mb, od, n)
		return out, nil
	}
	if s.Stride == 1 && s.outH == ih && s.outW == iw {
		op.transposed(w, d, mb, od, n)
		return out, nil
	}
	ng, g := groups(n, p)
	kernels.Parallel(ng, s.Threads, func(wk, lo, hi int) {
		col := op.ws.col[wk].Get(ckk * g * p)
		buf := op.ws.buf[wk].Get(s.m * g * p)
		for gi := lo; gi < hi; gi++ {
			g0, g1 := group(gi, n, p)
			cols := (g1 - g0) * p
			dg := gather(buf, d, g0, g1, s.m, p)
			kernels.Gemm(true, false, ckk, cols, s.m, w, ckk, dg, cols, 0, col, cols)
			for i := g0; i < g1; i++ {
				dst := od[i*img : (i+1)*img]
				clear(dst)
				kernels.Col2im(col[(i-g0)*p:], c, ih, iw, s.K, s.Pad, s.Stride, dst, cols)
				if mb != nil {
					kernels.Mul(dst, mb[i*img:(i+1)*img])
				}
			}
		}
	})
	return out, nil
}

// transposed computes the input gradient of a stride-1 convolution that
// keeps the image size as a convolution of δ with the flipped, transposed
// kernel: dh[c] = Σₘ δ[m] ⋆ rot180(W[m,c]). Its matrix multiply sums over
// M·K·K instead of M, which is far faster for ResNet's 16–64 maps, and the
// unrolling of δ is a fast shifted copy where col2im's scatter-add is not.
func (op *convInputGrad) transposed(w, d, mb, od []float32, n int) {
	s := &op.fwd.spec
	c, h, wd, k, m := s.channels, s.inShape[2], s.inShape[3], s.K, s.m
	p, mkk := h*wd, m*k*k
	wt := op.wt.Get(c * mkk)
	for mm := 0; mm < m; mm++ {
		for ch := 0; ch < c; ch++ {
			src := w[(mm*c+ch)*k*k : (mm*c+ch+1)*k*k]
			for r := 0; r < k*k; r++ {
				wt[ch*mkk+mm*k*k+r] = src[k*k-1-r]
			}
		}
	}
	ng, g := groups(n, p)
	kernels.Parallel(ng, s.Threads, func(wk, lo, hi int) {
		col := op.ws.col[wk].Get(mkk * g * p)
		buf := op.ws.buf[wk].Get(c * g * p)
		for gi := lo; gi < hi; gi++ {
			g0, g1 := group(gi, n, p)
			cols := (g1 - g0) * p
			for i := g0; i < g1; i++ {
				kernels.Im2col(d[i*m*p:(i+1)*m*p], m, h, wd, k, s.Pad, 1, col[(i-g0)*p:], cols)
			}
			dst := od[g0*c*p : g1*c*p]
			if g1-g0 == 1 {
				kernels.Gemm(false, false, c, cols, mkk, wt, mkk, col, cols, 0, dst, cols)
			} else {
				kernels.Gemm(false, false, c, cols, mkk, wt, mkk, col, cols, 0, buf, cols)
				scatter(dst, buf, g1-g0, c, p)
			}
			if mb != nil {
				kernels.Mul(dst, mb[g0*c*p:g1*c*p])
			}
		}
	})
}

// scatter is gather's inverse: it copies a C×(g·P) matrix of g images side
// by side into g consecutive C×P images.
func scatter(dst, buf []float32, g, c, p int) {
	cols := g * p
	for j := 0; j < g; j++ {
		for ch := 0; ch < c; ch++ {
			copy(dst[(j*c+ch)*p:(j*c+ch+1)*p], buf[ch*cols+j*p:ch*cols+(j+1)*p])
		}
	}
}

func (op *convInputGrad) CallsExtern() bool { return false }
func (op *convInputGrad) String() string    { return "conv:" + op.fwd.spec.Name + "/dh" }

// convWeightGrad computes ∂J/∂W = Σₙ δₙ im2col(hₙ ⊙ m)ᵀ; inputs h, δ[, m].
type convWeightGrad struct {
	opbase.Base
	fwd   *convOp
	out   opbase.Buffer
	ws    workspace
	lanes opbase.Floats // the direct weight gradient's partial sums
}

func (op *convWeightGrad) Arity() int {
	if op.fwd.spec.Mode.weightMask() != 0 {
		return 3
	}
	return 2
}
func (op *convWeightGrad) Type() hm.Type {
	if op.Arity() == 3 {
		return opbase.Fn(4, 4, 4, 4)
	}
	return opbase.Fn(4, 4, 4)
}
func (op *convWeightGrad) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.spec.wShape.Clone(), nil
}
func (op *convWeightGrad) Do(vs ...G.Value) (G.Value, error) {
	s := &op.fwd.spec
	h, d := opbase.F32(vs[0]), opbase.F32(vs[1])
	var m []float32
	if len(vs) == 3 {
		m = opbase.F32(vs[2])
	}
	n := vs[0].Shape()[0]
	out := op.out.Get(s.wShape, false)
	c, ih, iw := s.channels, s.inShape[2], s.inShape[3]
	img, p, ckk := c*ih*iw, s.outH*s.outW, c*s.K*s.K
	if s.direct != nil && s.direct.Backward() {
		op.ws.ensure(s.Threads)
		op.direct(h, d, m, out.Float32s(), n)
		return out, nil
	}
	// Blocks of whole groups, each summed into its own accumulator; the
	// blocks are added in order at the end.
	ng, g := groups(n, p)
	nb := min(ng, reduceBlocks)
	op.ws.ensure(max(s.Threads, nb))
	kernels.Parallel(nb, s.Threads, func(wk, b0, b1 int) {
		col := op.ws.col[wk].Get(ckk * g * p)
		buf := op.ws.buf[wk].Get(s.m * g * p)
		tmp := op.ws.tmp[wk].Get(img)
		for b := b0; b < b1; b++ {
			acc := op.ws.acc[b].Get(s.m * ckk)
			lo, hi := kernels.Block(ng, nb, b)
			for gi := lo; gi < hi; gi++ {
				g0, g1 := group(gi, n, p)
				cols := (g1 - g0) * p
				if op.fwd.keep {
					// The forward pass unrolled the same groups of the same features.
					col = op.fwd.cols[g0*ckk*p : g1*ckk*p]
				} else {
					for i := g0; i < g1; i++ {
						src := h[i*img : (i+1)*img]
						if m != nil {
							kernels.MulTo(tmp, src, m[i*img:(i+1)*img])
							src = tmp
						}
						kernels.Im2col(src, c, ih, iw, s.K, s.Pad, s.Stride, col[(i-g0)*p:], cols)
					}
				}
				dg := gather(buf, d, g0, g1, s.m, p)
				beta := float32(1)
				if gi == lo {
					beta = 0
				}
				kernels.Gemm(false, true, s.m, ckk, cols, dg, cols, col, cols, beta, acc, ckk)
			}
		}
	})
	sumInto(out.Float32s(), op.ws.acc[:nb])
	return out, nil
}

// directChunk is about how many bytes of padded planes (input and δ) the
// weight gradient takes in at once, so that its tiles find them in cache.
const directChunk = 256 << 10

// direct computes ∂J/∂W from padded planes: the forward pass's, when it kept
// them, or h ⊙ m padded here; δ is padded here, a few images at a time.
// Workers take ranges of the weight gradient's tiles (blocks of output
// maps by unrolled input rows), each over the whole batch in order, so
// no sum is split between them and any split gives the same bits. A
// worker pads only the maps of δ its tiles read.
func (op *convWeightGrad) direct(h, d, m, dw []float32, n int) {
	s := &op.fwd.spec
	dc := s.direct
	c, img, out, hw := s.channels, s.channels*s.inShape[2]*s.inShape[3], s.m*s.outH*s.outW, s.outH*s.outW
	pl := dc.Plane()
	chunk := max(1, directChunk/((s.m+c)*pl*4))
	var kept []float32
	if op.fwd.keepPlanes {
		kept = op.fwd.planes
	}
	lanes := op.lanes.Get(dc.LaneLen())
	kernels.Parallel(dc.Tiles(), s.Threads, func(wk, t0, t1 int) {
		l0, l1 := dc.TileLanes(t0, t1)
		clear(lanes[l0:l1])
		m0, m1 := dc.TileMaps(t0, t1)
		dpl := op.ws.buf[wk].Get(chunk * s.m * pl)
		var ipl []float32
		if kept == nil {
			ipl = op.ws.col[wk].Get(chunk * c * pl)
		}
		for g0 := 0; g0 < n; g0 += chunk {
			g1 := min(g0+chunk, n)
			in := ipl
			if kept != nil {
				in = kept[g0*c*pl : g1*c*pl]
			}
			for i := g0; i < g1; i++ {
				dc.Pad(dpl[((i-g0)*s.m+m0)*pl:], d[i*out+m0*hw:i*out+m1*hw], nil, m1-m0)
				if kept == nil {
					dc.Pad(ipl[(i-g0)*c*pl:], h[i*img:(i+1)*img], kernels.Part(m, i, img), c)
				}
			}
			dc.WeightGradTiles(lanes, dpl, in, g1-g0, t0, t1)
		}
		dc.SumLanesTiles(dw, lanes, t0, t1)
	})
}

func (op *convWeightGrad) CallsExtern() bool { return false }
func (op *convWeightGrad) String() string    { return "conv:" + op.fwd.spec.Name + "/dW" }

// sumInto writes the element-wise sum of the block accumulators, in order, into dst.
func sumInto(dst []float32, accs []opbase.Floats) {
	copy(dst, accs[0][:len(dst)])
	for _, a := range accs[1:] {
		a := a[:len(dst)]
		for i := range dst {
			dst[i] += a[i]
		}
	}
}

// BiasGrad sums δ over the batch and any spatial axes: ∂J/∂b[m] = Σₙ Σₚ δ[n,m,p].
type BiasGrad struct {
	opbase.Base
	Threads int
	out     opbase.Buffer
}

func (op *BiasGrad) Arity() int    { return 1 }
func (op *BiasGrad) Type() hm.Type { return hm.NewFnType(hm.TypeVariable('a'), opbase.T(1)) }
func (op *BiasGrad) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := opbase.Shape(ds[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[1]}, nil
}
func (op *BiasGrad) Do(vs ...G.Value) (G.Value, error) {
	s := vs[0].Shape()
	d := opbase.F32(vs[0])
	n, m := s[0], s[1]
	p := len(d) / (n * m)
	out := op.out.Get(tensor.Shape{m}, true)
	od := out.Float32s()
	// Workers take blocks of four maps, and sum four at once: four chains
	// of dependent adds keep the adder busy where one would wait on each
	// add. Each map's sum keeps its order, whatever the threads.
	kernels.Parallel((m+3)/4, op.Threads, func(_, lo, hi int) {
		for i := 0; i < n; i++ {
			j := 4 * lo
			for ; j+4 <= min(4*hi, m); j += 4 {
				a := d[(i*m+j)*p : (i*m+j+1)*p]
				b, c, e := d[(i*m+j+1)*p:][:len(a)], d[(i*m+j+2)*p:][:len(a)], d[(i*m+j+3)*p:][:len(a)]
				var s0, s1, s2, s3 float32
				for k, v := range a {
					s0 += v
					s1 += b[k]
					s2 += c[k]
					s3 += e[k]
				}
				od[j] += s0
				od[j+1] += s1
				od[j+2] += s2
				od[j+3] += s3
			}
			for ; j < min(4*hi, m); j++ {
				var sum float32
				for _, v := range d[(i*m+j)*p : (i*m+j+1)*p] {
					sum += v
				}
				od[j] += sum
			}
		}
	})
	return out, nil
}
