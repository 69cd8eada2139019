package conv

import (
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/winograd"
)

// Options are what the planner takes besides the geometry.
type Options struct {
	Threads int
	// Im2col turns the direct convolution off (tests compare the paths;
	// machines without the tiles in hardware never have it).
	Im2col bool
	// KeepCols lets an im2col forward pass keep its unrolled columns for
	// the weight gradient (N·C·k²·OH·OW floats, one im2col less per step).
	// The direct strategy keeps its padded planes without being asked:
	// they are hardly larger than the input.
	KeepCols bool
	// Kernels is the kernel set: strided takes the direct convolution's
	// gradients at stride 2 too, where the default set runs them by
	// im2col and col2im; winograd takes all three passes of same-size
	// 3×3 and 5×5 convolutions by Winograd's F(4×4, 3×3) and F(2×2, 5×5)
	// as well. Each is faster than the one before, with other bits.
	Kernels experiment.Kernels
}

// SetName names what the kernel set k runs on this CPU beyond the default
// set's kernels: "", "strided", or "winograd" (which needs the AVX-512
// tiles; without them its layers run as strided's).
func SetName(k experiment.Kernels) string {
	switch {
	case k.Winograd() && winograd.Available():
		return "winograd"
	case k.Strided():
		return "strided"
	}
	return ""
}

// PlanForward picks the forward strategy: the direct convolution where
// the CPU has its tiles and the geometry fits them (Winograd in the
// winograd set where it fits), im2col and one matrix multiply per group of
// images elsewhere.
func PlanForward(g Geom, opt Options) Forward {
	if d := direct(g, opt); d != nil {
		if opt.Kernels.Winograd() && winogradFits(g, g.C, g.M) {
			return &winogradForward{g: g, d: d, p: winograd.NewPlan(g.C, g.M, g.H, g.W, g.K), threads: opt.Threads}
		}
		return &directForward{g: g, d: d, threads: opt.Threads}
	}
	return &im2colForward{g: g, threads: opt.Threads}
}

// PlanBackward picks the gradient strategies of a convolution whose
// forward strategy is fwd, and the Saved that fwd fills for wgrad (nil:
// none). sameMask reports that the weight gradient sees the features the
// forward pass convolved (the same mask, or none).
//
// The input gradient runs by Winograd in the winograd set where it fits,
// else direct where the direct convolution has a backward pass (stride 1;
// stride 2 too in the strided and winograd sets), else as a
// transposed convolution where the convolution keeps the image size
// (stride 1), else by col2im. The weight gradient runs by Winograd in the
// winograd set where the forward pass does (which then keeps nothing for
// it), else direct where it has a backward pass, else by im2col.
func PlanBackward(g Geom, opt Options, fwd Forward, sameMask bool) (InputGrad, WeightGrad, *Saved) {
	d := direct(g, opt)
	if d != nil && (d.Backward() || opt.Kernels.Strided() && d.Stride == 2) {
		var saved *Saved
		switch fwd.(type) {
		case *directForward, *winogradForward:
			if sameMask {
				saved = &Saved{}
			}
		}
		var dx InputGrad = &directInputGrad{g: g, d: d, threads: opt.Threads}
		if opt.Kernels.Winograd() && winogradFits(g, g.M, g.C) {
			dx = &winogradInputGrad{g: g, p: winograd.NewPlan(g.M, g.C, g.H, g.W, g.K), threads: opt.Threads}
		}
		if opt.Kernels.Winograd() && winogradFits(g, g.C, g.M) {
			// It transforms the features itself: the forward pass keeps nothing.
			return dx, &winogradWeightGrad{g: g, threads: opt.Threads}, nil
		}
		return dx, &directWeightGrad{g: g, d: d, threads: opt.Threads}, saved
	}
	var dx InputGrad = &col2imInputGrad{g: g, threads: opt.Threads}
	if g.Stride == 1 && g.OH == g.H && g.OW == g.W {
		dx = &transposedInputGrad{g: g, threads: opt.Threads}
	}
	var saved *Saved
	if _, ok := fwd.(*im2colForward); ok && sameMask && opt.KeepCols {
		saved = &Saved{}
	}
	return dx, &im2colWeightGrad{g: g, threads: opt.Threads}, saved
}

// direct returns the direct convolution of g, or nil where it does not apply.
func direct(g Geom, opt Options) *kernels.Direct {
	if opt.Im2col {
		return nil
	}
	return kernels.NewDirect(g.C, g.M, g.H, g.W, g.K, g.Pad, g.Stride)
}
