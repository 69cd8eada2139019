package conv

import (
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/winograd"
)

// Epilogue is an evaluation BatchNorm folded into a convolution: each
// output map m becomes (z − μ[m])·g[m] + b[m], plus a residual when there
// is one, then max(·, 0) with ReLU. It computes with the BatchNorm op's
// kernels, so the bits are the same, but while each image's maps are still
// in cache instead of in a pass of its own.
type Epilogue struct {
	// Affine fills μ, g and b (one per output map) from the current
	// parameters and running statistics.
	Affine   func(mu, g, b []float32)
	ReLU     bool
	mu, g, b []float32
}

// Refresh sizes μ, g and b for m maps and fills them; call it before each run.
func (e *Epilogue) Refresh(m int) {
	if len(e.mu) != m {
		e.mu, e.g, e.b = make([]float32, m), make([]float32, m), make([]float32, m)
	}
	e.Affine(e.mu, e.g, e.b)
}

// Grid writes a direct convolution's output grid of one image through the
// epilogue into dst, laid out as dl, adding res (laid out as rl) when it
// is not nil.
func (e *Epilogue) Grid(d *kernels.Direct, dst []float32, dl kernels.Layout, grid, res []float32, rl kernels.Layout) {
	d.Normalize(dst, dl, grid, d.M, e.mu, e.g, e.b, res, rl, e.ReLU)
}

// Winograd is the epilogue for winograd.Plan.ConvEpilogue, adding res
// (laid out as the output) when it is not nil: the operations of Maps,
// so its bits.
func (e *Epilogue) Winograd(res []float32) *winograd.Epilogue {
	return &winograd.Epilogue{Mu: e.mu, G: e.g, B: e.b, ReLU: e.ReLU, Res: res}
}

// Maps applies the epilogue in place to the dense maps [j0, j1) of z, p
// pixels each (map j is map j mod m of image j/m), adding res's same maps
// when res is not nil.
func (e *Epilogue) Maps(z, res []float32, j0, j1, m, p int) {
	for j := j0; j < j1; j++ {
		zj := z[j*p : (j+1)*p]
		kernels.NormalizeAdd(zj, zj, kernels.Part(res, j, p), e.mu[j%m], e.g[j%m], e.b[j%m], e.ReLU)
	}
}
