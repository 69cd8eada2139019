// Package layers holds the Gorgonia ops of the networks other than the
// dropout-site layers: Caffe-style pooling (rounding up, with a correct
// average pooling, which Gorgonia's AveragePool2D is not), ReLU, BatchNorm
// with running statistics the model owns, the residual sum and option-A
// shortcut, and the mean softmax cross-entropy loss.
package layers

import (
	"fmt"
	"math"

	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PoolOut returns Caffe's pooled size along one axis: it rounds up, so that
// 32→16→8→4 with a 3×3 window and stride 2.
func PoolOut(in, k, pad, stride int) int {
	out := int(math.Ceil(float64(in+2*pad-k)/float64(stride))) + 1
	if pad > 0 && (out-1)*stride >= in+pad {
		out--
	}
	return out
}

// window returns the input rows [lo,hi) pooled into output row o, and the
// divisor Caffe's average pooling uses (the window clipped to the padded input).
func window(o, in, k, pad, stride int) (lo, hi, size int) {
	lo = o*stride - pad
	hi = min(lo+k, in+pad)
	size = hi - lo
	return max(lo, 0), min(hi, in), size
}

// PoolKind selects max or average pooling.
type PoolKind int

const (
	// MaxPool takes the window maximum.
	MaxPool PoolKind = iota
	// AvgPool takes the window mean as Caffe does.
	AvgPool
)

// Pool adds a K×K pooling with the given stride and padding over an N×C×H×W node.
func Pool(name string, kind PoolKind, x *G.Node, k, pad, stride, threads int) (*G.Node, error) {
	op, err := newPool("pool:"+name, kind, x.Shape(), k, pad, stride, threads)
	if err != nil {
		return nil, err
	}
	return opbase.Apply(opbase.Spec{
		Name: op.name, In: opbase.Ts(4), Out: opbase.T(4),
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			if len(in[0]) != 4 || !in[0][1:].Eq(op.in[1:]) {
				return nil, fmt.Errorf("%s: input %v is not the N×%d×%d×%d it was built for", op.name, in[0], op.in[1], op.in[2], op.in[3])
			}
			return tensor.Shape{in[0][0], op.in[1], op.oh, op.ow}, nil
		},
		Forward:  op.forward,
		Diff:     []bool{true},
		Backward: op.backward,
	}, x)
}

// newPool returns the pooling of an input of shape s.
func newPool(name string, kind PoolKind, s tensor.Shape, k, pad, stride, threads int) (*poolOp, error) {
	if len(s) != 4 {
		return nil, fmt.Errorf("%s: want N×C×H×W input, got %v", name, s)
	}
	return &poolOp{name: name, kind: kind, k: k, pad: pad, stride: stride, threads: threads, in: s.Clone(),
		oh: PoolOut(s[2], k, pad, stride), ow: PoolOut(s[3], k, pad, stride)}, nil
}

// poolOp is one pooling layer.
type poolOp struct {
	name           string
	kind           PoolKind
	k, pad, stride int
	threads        int
	in             tensor.Shape // the input's shape when the layer was added
	oh, ow         int
	out, dxOut     opbase.Buffer
	scratch        []*PoolScratch // per worker
	// argmax is the saved state of a training graph's max pooling: where
	// each window's maximum lies, written by the forward pass for the
	// backward pass. withArg is set when the graph gets its backward pass.
	withArg bool
	argmax  []int32
}

func (op *poolOp) forward(vs []G.Value) (G.Value, error) {
	x := opbase.F32(vs[0])
	s := vs[0].Shape()
	n, c, h, w := s[0], s[1], s[2], s[3]
	out := op.out.Get(tensor.Shape{n, c, op.oh, op.ow}, false)
	od := out.Float32s()
	if op.withArg && len(op.argmax) < len(od) {
		op.argmax = make([]int32, len(od))
	}
	for len(op.scratch) < max(op.threads, 1) {
		op.scratch = append(op.scratch, &PoolScratch{})
	}
	kernels.Parallel(n*c, op.threads, func(wk, lo, hi int) {
		sc := op.scratch[wk]
		sc.ensure(w, op.k)
		for pl := lo; pl < hi; pl++ {
			var arg []int32
			if op.withArg {
				arg = op.argmax[pl*op.oh*op.ow : (pl+1)*op.oh*op.ow]
			}
			op.plane(od[pl*op.oh*op.ow:(pl+1)*op.oh*op.ow], x[pl*h*w:(pl+1)*h*w], sc, arg, h, w)
		}
	})
	return out, nil
}

// plane pools one plane of h×w into dst, recording a max pooling's
// argmax in arg when it is not nil; sc is sized for planes w wide.
func (op *poolOp) plane(dst, plane []float32, sc *PoolScratch, arg []int32, h, w int) {
	if op.kind == MaxPool {
		op.maxPlane(plane, dst, sc, arg, h, w)
		return
	}
	op.avgPlane(plane, dst, sc.row(op.ow), h, w)
}

// Pooling pools one image at a time with the pooling op's kernels (the
// same bits), for ops that pool inside a loop of their own (internal/chain).
type Pooling struct{ op *poolOp }

// NewPooling returns the K×K pooling with the given stride and padding of
// images of c maps of h×w.
func NewPooling(kind PoolKind, c, h, w, k, pad, stride int) *Pooling {
	op, _ := newPool("pooling", kind, tensor.Shape{1, c, h, w}, k, pad, stride, 1) // a 4-d shape: no error
	return &Pooling{op: op}
}

// Out returns the pooled maps' size.
func (p *Pooling) Out() (h, w int) { return p.op.oh, p.op.ow }

// Image pools the maps of one image, src, into dst; sc is the calling
// worker's own.
func (p *Pooling) Image(dst, src []float32, sc *PoolScratch) {
	op := p.op
	c, h, w := op.in[1], op.in[2], op.in[3]
	sc.ensure(w, op.k)
	for pl := 0; pl < c; pl++ {
		op.plane(dst[pl*op.oh*op.ow:(pl+1)*op.oh*op.ow], src[pl*h*w:(pl+1)*h*w], sc, nil, h, w)
	}
}

// avgPlane average-pools one plane: without padding a row of windows at
// a time (kernels.AvgPoolRow, in vector registers where the CPU can),
// with the bits of avgAt's loops; div is scratch for a row of outputs.
func (op *poolOp) avgPlane(plane, dst, div []float32, h, w int) {
	for oy := 0; oy < op.oh; oy++ {
		o := dst[oy*op.ow : (oy+1)*op.ow]
		if op.pad != 0 {
			for ox := range o {
				o[ox] = op.avgAt(plane, oy, ox, h, w)
			}
			continue
		}
		y0, y1, sy := window(oy, h, op.k, 0, op.stride)
		for ox := range div {
			_, _, sx := window(ox, w, op.k, 0, op.stride)
			div[ox] = float32(sy * sx)
		}
		kernels.AvgPoolRow(o, plane, w, y0, y1, op.k, op.stride, div)
	}
}

// avgAt is output (oy, ox) of average pooling: the window's sum, taken
// row by row, divided by the size of the window clipped to the padded input.
func (op *poolOp) avgAt(plane []float32, oy, ox, h, w int) float32 {
	y0, y1, sy := window(oy, h, op.k, op.pad, op.stride)
	x0, x1, sx := window(ox, w, op.k, op.pad, op.stride)
	var sum float32
	for y := y0; y < y1; y++ {
		for _, v := range plane[y*w+x0 : y*w+x1] {
			sum += v
		}
	}
	return sum / float32(sy*sx)
}

// PoolScratch holds one worker's rows for maxPlane, each the width of a
// plane, and a row of outputs for average pooling; the zero value is ready.
type PoolScratch struct {
	cm, tm  []float32 // column maxima; maxima of k of those
	key, tk []int32   // where each column maximum is first; the first of k
	out     []float32
}

// row returns n floats of scratch.
func (s *PoolScratch) row(n int) []float32 {
	if len(s.out) < n {
		s.out = make([]float32, n)
	}
	return s.out[:n]
}

// ensure sizes the rows for planes w wide, with room for the k-wide
// maxima to run to a whole vector past the last window (those are junk).
func (s *PoolScratch) ensure(w, k int) {
	if n := w + k + kernels.Lanes; len(s.cm) < n {
		s.cm, s.tm, s.key, s.tk = make([]float32, n), make([]float32, n), make([]int32, n), make([]int32, n)
	}
}

// maxPlane max-pools one plane in two separable passes, both in vector
// registers: for each output row, the window maximum down every input
// column (kernels.MaxRows), then that of every k consecutive columns
// (kernels.MaxRows again, with a stride of 1), which the windows inside
// the plane pick up, or, without padding where the CPU permutes sixteen
// lanes, of just the windows' columns (kernels.StridedWindowMax); windows
// clipped by the border take a scalar loop. With arg (training) it also
// records where each window first reaches its maximum in row-major order,
// the tie rule of Caffe and PyTorch: the first row holding each column's
// maximum, then the smallest position among the columns whose maximum is
// the window's, by comparisons rather than a branch per new maximum as a
// running argmax takes. A window holding a NaN pools to NaN, which equals
// nothing, and sends its gradient to its first element.
func (op *poolOp) maxPlane(plane, dst []float32, sc *PoolScratch, arg []int32, h, w int) {
	k, st := op.k, op.stride
	inner := max(w-k+1, 0)                                              // windows starting at x < inner are whole
	inner = (inner + kernels.Lanes - 1) / kernels.Lanes * kernels.Lanes // whole vectors: no scalar tail
	// Outputs [ox0, ox1) have whole windows along x, read off tm and tk.
	ox0, ox1 := min((op.pad+st-1)/st, op.ow), 0
	if w-k+op.pad >= 0 {
		ox1 = min((w-k+op.pad)/st+1, op.ow)
	}
	ox1 = max(ox1, ox0)
	cm, key := sc.cm[:w], sc.key[:w]
	// Without padding the whole windows start at column 0, and where the
	// CPU can, one kernel takes just the windows st apart (in vector
	// registers, with the bits of the stride-1 windows it would pick from).
	strided := op.pad == 0 && kernels.StridedVector(k, st)
	for oy := 0; oy < op.oh; oy++ {
		y0, y1, _ := window(oy, h, k, op.pad, st)
		o := dst[oy*op.ow : (oy+1)*op.ow]
		var at []int32
		if arg != nil {
			at = arg[oy*op.ow : (oy+1)*op.ow]
		}
		switch {
		case strided && arg == nil:
			kernels.MaxRows(cm, plane, w, y0, y1)
			kernels.StridedWindowMax(o[:ox1], nil, cm, nil, k, st)
		case strided:
			kernels.MaxRowsArg(cm, key, plane, w, y0, y1)
			kernels.StridedWindowMax(o[:ox1], at[:ox1], cm, key, k, st)
		case arg == nil:
			kernels.MaxRows(cm, plane, w, y0, y1)
			if inner > 0 {
				kernels.MaxRows(sc.tm[:inner], sc.cm, 1, 0, k)
			}
		default:
			kernels.MaxRowsArg(cm, key, plane, w, y0, y1)
			if inner > 0 {
				kernels.WindowMaxArg(sc.tm[:inner], sc.tk[:inner], sc.cm, sc.key, k)
			}
		}
		if !strided {
			for ox := ox0; ox < ox1; ox++ {
				o[ox] = sc.tm[ox*st-op.pad]
			}
		}
		if at != nil {
			for ox := ox0; ox < ox1; ox++ {
				x0 := ox*st - op.pad
				if !strided {
					at[ox] = sc.tk[x0]
				}
				if o[ox] != o[ox] {
					at[ox] = int32(y0*w + x0) // a NaN window's first element
				}
			}
		}
		op.clippedMax(o, at, cm, key, 0, ox0, y0, w)
		op.clippedMax(o, at, cm, key, ox1, op.ow, y0, w)
	}
}

// clippedMax pools the windows [ox0, ox1) of an output row o that the
// plane's border clips, from the column maxima cm (first rows key) of
// the row's window, which starts at input row y0; at (when not nil)
// takes their argmax, by the rule of maxPlane.
func (op *poolOp) clippedMax(o []float32, at []int32, cm []float32, key []int32, ox0, ox1, y0, w int) {
	for ox := ox0; ox < ox1; ox++ {
		x0, x1, _ := window(ox, w, op.k, op.pad, op.stride)
		m := cm[x0]
		for _, v := range cm[x0+1 : x1] {
			m = max(m, v)
		}
		o[ox] = m
		if at == nil {
			continue
		}
		first := int32(math.MaxInt32)
		for x := x0; x < x1; x++ {
			if cm[x] == m {
				first = min(first, key[x])
			}
		}
		if m != m {
			first = int32(y0*w + x0)
		}
		at[ox] = first
	}
}

// backward adds the op that routes δ back: to the argmax (max) or spread
// over the window (average).
func (op *poolOp) backward(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	op.withArg = true
	d, err := opbase.Apply(opbase.Spec{
		Name: op.name + "/dx", In: opbase.Ts(4), Out: opbase.T(4),
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			return tensor.Shape{in[0][0], op.in[1], op.in[2], op.in[3]}, nil
		},
		Forward: op.grad,
	}, grad)
	return G.Nodes{d}, err
}

// grad routes δ back: to the argmax (max) or spread over the window (average).
func (op *poolOp) grad(vs []G.Value) (G.Value, error) {
	d := opbase.F32(vs[0])
	n := vs[0].Shape()[0]
	c, h, w := op.in[1], op.in[2], op.in[3]
	out := op.dxOut.Get(tensor.Shape{n, c, h, w}, false)
	od := out.Float32s()
	for len(op.scratch) < max(op.threads, 1) {
		op.scratch = append(op.scratch, &PoolScratch{})
	}
	kernels.Parallel(n*c, op.threads, func(wk, lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			dst := od[pl*h*w : (pl+1)*h*w]
			clear(dst)
			src := d[pl*op.oh*op.ow : (pl+1)*op.oh*op.ow]
			if op.kind == MaxPool {
				arg := op.argmax[pl*op.oh*op.ow:][:len(src)]
				for o, g := range src {
					dst[arg[o]] += g
				}
				continue
			}
			op.avgGradPlane(dst, src, op.scratch[wk].row(op.ow), h, w)
		}
	})
	return out, nil
}

// avgGradPlane adds to dst (a plane) what every window sends back: its δ
// divided by its size, to each of its elements, window by window. Without
// padding a row of windows goes at a time (kernels.AvgPoolRowGrad), with
// the bits of avgGradLoop's; g is scratch for a row of outputs.
func (op *poolOp) avgGradPlane(dst, src, g []float32, h, w int) {
	if op.pad != 0 {
		op.avgGradLoop(dst, src, h, w)
		return
	}
	for oy := 0; oy < op.oh; oy++ {
		y0, y1, sy := window(oy, h, op.k, 0, op.stride)
		for ox := range g {
			_, _, sx := window(ox, w, op.k, 0, op.stride)
			g[ox] = src[oy*op.ow+ox] / float32(sy*sx)
		}
		kernels.AvgPoolRowGrad(dst, g, w, y0, y1, op.k, op.stride)
	}
}

// avgGradLoop adds to dst (a plane) what every window sends back: its δ
// divided by its size, to each of its elements, window by window.
func (op *poolOp) avgGradLoop(dst, src []float32, h, w int) {
	for oy := 0; oy < op.oh; oy++ {
		y0, y1, sy := window(oy, h, op.k, op.pad, op.stride)
		for ox := 0; ox < op.ow; ox++ {
			x0, x1, sx := window(ox, w, op.k, op.pad, op.stride)
			g := src[oy*op.ow+ox] / float32(sy*sx)
			for yy := y0; yy < y1; yy++ {
				row := dst[yy*w+x0 : yy*w+x1]
				for i := range row {
					row[i] += g
				}
			}
		}
	}
}
