// Package conv holds the strategies that compute a 2-D convolution and its
// two gradients, and the planner that picks one strategy per pass when a
// graph is built:
//
//	pass              strategies (file)
//	forward           direct (direct.go), winograd (winograd.go), im2col (im2col.go)
//	input gradient    direct (direct.go), winograd (winograd.go), transposed (transposed.go), col2im (col2im.go)
//	weight gradient   direct (direct.go), im2col (im2col.go)
//
// Every strategy of a pass has the same signature (Forward, InputGrad,
// WeightGrad), works on whole batches of float32 N×C×H×W images and gives
// the same bits for any thread count. What a forward pass keeps for its
// weight gradient (the padded planes or the unrolled columns of its input)
// is a Saved that the caller holds and hands to both. The evaluation
// epilogue (a fixed BatchNorm, a residual sum and a ReLU applied as the
// output is written) is Epilogue, shared with internal/chain. The Gorgonia
// ops and the dropout masks are internal/dropout's.
package conv

import (
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
)

// Geom is a convolution's shape: C input maps of H×W pixels, M output maps
// of OH×OW, a K×K kernel with padding Pad and stride Stride.
type Geom struct {
	C, H, W, M, K, Pad, Stride int
	OH, OW                     int
}

// NewGeom returns the geometry of a convolution, computing its output size.
func NewGeom(c, h, w, m, k, pad, stride int) Geom {
	return Geom{C: c, H: h, W: w, M: m, K: k, Pad: pad, Stride: stride,
		OH: kernels.ConvOut(h, k, pad, stride), OW: kernels.ConvOut(w, k, pad, stride)}
}

// Flops returns the floating-point operations of one pass (forward, input
// gradient or weight gradient) over n images, counted as a direct
// convolution computes them: two per multiply-add.
func (g Geom) Flops(n int) float64 {
	return 2 * float64(n) * float64(g.M*g.ckk()) * float64(g.p())
}

func (g Geom) img() int { return g.C * g.H * g.W }   // floats per input image
func (g Geom) p() int   { return g.OH * g.OW }       // pixels per output map
func (g Geom) ckk() int { return g.C * g.K * g.K }   // rows of the unrolled input
func (g Geom) out() int { return g.M * g.OH * g.OW } // floats per output image

// Forward is a strategy for the forward pass.
type Forward interface {
	// Name names the strategy ("direct", "winograd", "im2col").
	Name() string
	// Forward writes conv(x ⊙ mf, w) + bias for n images into out (mf
	// and bias nil: none). With epi it writes epi applied to the
	// convolution instead, adding res (nil: none) before the ReLU; only
	// the im2col strategy adds bias then too. With save (nil: nothing to
	// keep) it keeps what the weight gradient of the same plan reads.
	Forward(out, x, mf, w, bias []float32, epi *Epilogue, res []float32, save *Saved, n int)
}

// InputGrad is a strategy for the gradient of the input.
type InputGrad interface {
	// Name names the strategy ("direct", "winograd", "transposed", "col2im").
	Name() string
	// InputGrad writes ∂J/∂x = convᵀ(δ, w) ⊙ mb (mb nil: none) of n images into dx.
	InputGrad(dx, w, d, mb []float32, n int)
}

// WeightGrad is a strategy for the gradient of the weights.
type WeightGrad interface {
	// Name names the strategy ("direct", "winograd", "im2col").
	Name() string
	// WeightGrad writes ∂J/∂w = Σₙ δₙ ⋆ (xₙ ⊙ m) over n images into dw (m
	// nil: none), reading what the forward pass kept in saved instead of
	// x ⊙ m when saved is not nil.
	WeightGrad(dw, x, d, m []float32, saved *Saved, n int)
}

// Saved is what a forward pass keeps for its weight gradient: the padded
// planes of x ⊙ mf (direct) or their unrolled columns (im2col), for the
// whole batch. The planner hands one out only when the two passes are of
// the same strategy and the weight gradient sees the forward's features.
type Saved struct {
	buf opbase.Floats
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
