// Package chain runs a sequence of evaluation convolutions — each followed
// by its BatchNorm with fixed statistics or its bias, an optional residual
// sum, a ReLU and an optional pooling — as one Gorgonia op that takes the
// batch a few images at a time (one, or a unit of several where Winograd
// wants more tiles than an image has), so the activations stay in cache
// from one layer to the next instead of going to memory between
// whole-batch layers. Each layer goes through the same kernels as the
// op-by-op evaluation graph (the direct convolution or, in the winograd
// kernel set, Winograd's; then the fused normalisation, internal/conv's
// Epilogue, then internal/layers' pooling), so the outputs are the same
// bits.
package chain

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/dropexp/dropexp/internal/conv"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/layers"
	"github.com/dropexp/dropexp/internal/opbase"
	"github.com/dropexp/dropexp/internal/winograd"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Step is one convolution of a chain: a k×k kernel (k odd, padding
// (k−1)/2) with stride 1 or 2 and no bias, then the affine map of an
// evaluation BatchNorm, the residual and the ReLU.
type Step struct {
	Name   string
	W      *G.Node // M×C×k×k
	Stride int
	// Affine fills μ, g and b (one per output map; out = (z−μ)·g + b)
	// before each run, from the current parameters and running statistics.
	Affine func(mu, g, b []float32)
	ReLU   bool
	// From is the activation the step convolves: 0 is the chain's input,
	// i+1 the output of step i.
	From int
	// Residual is the activation added before the ReLU, or -1 for none.
	// When its shape is not the output's, it is the option-A shortcut of
	// it: subsampled to the output's size, channels zero-padded on both sides.
	Residual int
	// Pool, when not nil, pools the step's output (no padding); a step
	// that pools has no residual.
	Pool *Pool
	// Winograd computes the convolution by internal/winograd where the
	// winograd kernel set's op-by-op graph does (conv.WinogradTakes:
	// same-size 3×3 and 5×5 kernels on whole blocks of 8 maps), with that
	// graph's bits; the direct convolution elsewhere.
	Winograd bool
}

// Pool is the pooling that ends a step.
type Pool struct {
	Kind      layers.PoolKind
	K, Stride int
	// BeforeReLU pools before the ReLU instead of after it, in the order
	// of a network that does (ConvNet-Quick's conv1 → maxpool → relu).
	BeforeReLU bool
}

// Available reports whether chains can run on this CPU (they need the
// direct convolution); where not, build the layers op by op.
func Available() bool { return kernels.ConvImpl() != "im2col" }

// Apply adds the chain of steps on x (N×C×H×W) to the graph; its output is
// the last step's.
func Apply(name string, x *G.Node, steps []Step, threads int) (*G.Node, error) {
	if len(steps) == 0 {
		return nil, fmt.Errorf("chain %s: no steps", name)
	}
	op := &chainOp{name: "chain:" + name, steps: steps, threads: threads}
	ins := G.Nodes{x}
	types := []hm.Type{opbase.T(4)}
	shapes := []tensor.Shape{x.Shape()}
	for _, s := range steps {
		ins, types, shapes = append(ins, s.W), append(types, opbase.T(4)), append(shapes, s.W.Shape())
	}
	if err := op.plan(shapes); err != nil {
		return nil, err
	}
	return opbase.Apply(opbase.Spec{Name: op.name, In: types, Out: opbase.T(4), Shape: op.shape, Forward: op.forward}, ins...)
}

// shape is one image's activation: c maps of h×w.
type shape struct{ c, h, w int }

func (s shape) size() int { return s.c * s.h * s.w }

// activation is one image's activation as the chain keeps it.
type activation struct {
	shape
	// lay is how its maps lie: dense, or (when only stride-1 convolutions
	// read it as their input) as the padded planes they convolve, written
	// so by the step before and never copied.
	lay kernels.Layout
}

func (a activation) size() int { return a.c * a.lay.Map }

// padded reports whether the maps lie as padded planes.
func (a activation) padded() bool { return a.lay.Padded(a.h, a.w) }

// layer is what a step needs at run time.
type layer struct {
	d        *kernels.Direct
	res      shape // the residual activation's shape
	shortcut int   // option-A stride, or 0 when the residual is added as is
	epi      conv.Epilogue
	packed   opbase.Floats
	pool     *layers.Pooling // nil: none
	reluLast bool            // the ReLU comes after the pooling
	wino     *winograd.Plan  // not nil: the convolution by Winograd, at most a unit at a time
	u        opbase.Floats   // its transformed kernel
	// from is the kernel that packed or u was prepared from: a test set's
	// batches all see the same weights, so only the first prepares them.
	from  opbase.Floats
	fresh bool // packed or u holds from's preparation
}

// prepare packs the kernel w (or transforms it, for Winograd) unless the
// last run prepared these very bits.
func (l *layer) prepare(w []float32) {
	if l.fresh && opbase.SameBits(l.from, w) {
		return
	}
	if l.wino != nil {
		l.wino.TransformWeights(l.u.Get(l.wino.WeightsLen()), w, false)
	} else {
		l.d.Pack(l.packed.Get(l.d.PackedLen(l.d.M, l.d.C)), w)
	}
	copy(l.from.Get(len(w)), w)
	l.fresh = true
}

// conv is the shape of the layer's convolution output.
func (l *layer) conv() shape { return shape{l.d.M, l.d.OH, l.d.OW} }

// out is the shape of the layer's output: the convolution's, pooled.
func (l *layer) out() shape {
	if l.pool == nil {
		return l.conv()
	}
	h, w := l.pool.Out()
	return shape{l.d.M, h, w}
}

// chainOp is a chain's op: its layers and the buffers of its activations,
// planned when the chain is added.
type chainOp struct {
	name    string
	steps   []Step
	threads int
	layers  []layer
	acts    []activation // the input, then each step's output
	slot    []int        // worker buffer of each activation (-1: input or output tensor)
	nslots  int
	out     opbase.Buffer
	ws      []worker
	// unit is the images the workers take at a time: 1, or unitImages
	// when a Winograd layer packs several images' tiles into a vector.
	unit int
}

// unitImages is a unit of a chain with 3×3 Winograd layers: on 8×8 maps
// an image has 4 tiles, and only four images together fill a vector of
// 16; eight fill two, the products' tile width. ResNet-20's evaluation
// (2 threads, batch 128) ran at 3229–3463 img/s in units of 8 against
// 3270–3346 in units of 4 and 3292–3374 of 16: no clear optimum, and
// larger units hold more of the 32×32 maps' activations outside the L2
// cache.
const unitImages = 8

// worker holds one goroutine's buffers.
type worker struct {
	planes, grid, short, pre opbase.Floats
	wino                     opbase.Floats // Winograd's scratch
	slots                    []opbase.Floats
	pool                     layers.PoolScratch
}

// plan lays out the chain for an input and weights of these shapes.
func (op *chainOp) plan(in []tensor.Shape) error {
	xs := in[0]
	if len(xs) != 4 {
		return fmt.Errorf("%s: input shape %v is not N×C×H×W", op.name, xs)
	}
	op.acts = []activation{{shape: shape{xs[1], xs[2], xs[3]}}}
	op.layers = make([]layer, len(op.steps))
	op.unit = 1
	for i, s := range op.steps {
		if k := in[1+i]; s.Winograd && len(k) == 4 && s.Stride == 1 && k[2] == 3 {
			op.unit = unitImages // (a 3×3 layer may run on 8×8 maps)
		}
	}
	for i, s := range op.steps {
		ws := in[1+i]
		if s.From < 0 || s.From > i || s.Residual < -1 || s.Residual > i {
			return fmt.Errorf("%s: step %s reads activation %d or %d, not produced before it", op.name, s.Name, s.From, s.Residual)
		}
		in := op.acts[s.From].shape
		if len(ws) != 4 || ws[1] != in.c || ws[2] != ws[3] {
			return fmt.Errorf("%s: step %s: weights %v do not fit input %v", op.name, s.Name, ws, in)
		}
		k := ws[2]
		d := kernels.NewDirect(in.c, ws[0], in.h, in.w, k, (k-1)/2, s.Stride)
		if d == nil {
			return fmt.Errorf("%s: step %s: no direct convolution for a %dx%d kernel with stride %d on this CPU", op.name, s.Name, k, k, s.Stride)
		}
		l := layer{d: d}
		if s.Winograd && conv.WinogradTakes(conv.NewGeom(in.c, in.h, in.w, ws[0], k, (k-1)/2, s.Stride)) {
			if l.wino = winograd.NewPlanUpTo(in.c, ws[0], in.h, in.w, k, op.unit); op.unit%l.wino.G != 0 {
				return fmt.Errorf("%s: step %s: Winograd groups of %d images do not divide the chain's unit of %d", op.name, s.Name, l.wino.G, op.unit)
			}
		}
		if p := s.Pool; p != nil {
			if s.Residual >= 0 {
				return fmt.Errorf("%s: step %s both pools and adds a residual", op.name, s.Name)
			}
			l.pool = layers.NewPooling(p.Kind, d.M, d.OH, d.OW, p.K, 0, p.Stride)
			l.reluLast = p.BeforeReLU && s.ReLU
		}
		out := l.out()
		if s.Residual >= 0 {
			l.res = op.acts[s.Residual].shape
			if l.res != out {
				st := (l.res.h + out.h - 1) / out.h
				if (l.res.h+st-1)/st != out.h || (l.res.w+st-1)/st != out.w || l.res.c > out.c || (out.c-l.res.c)%2 != 0 {
					return fmt.Errorf("%s: step %s: residual %v cannot be shortcut to output %v", op.name, s.Name, l.res, out)
				}
				l.shortcut = st
			}
		}
		l.epi = conv.Epilogue{Affine: s.Affine, ReLU: s.ReLU && !l.reluLast}
		op.layers[i] = l
		op.acts = append(op.acts, activation{shape: out})
	}
	op.layOut()
	op.assignSlots()
	return nil
}

// shape checks the shapes against those the chain was planned for.
func (op *chainOp) shape(in []tensor.Shape) (tensor.Shape, error) {
	x := op.acts[0]
	if len(in[0]) != 4 || !in[0][1:].Eq(tensor.Shape{x.c, x.h, x.w}) {
		return nil, fmt.Errorf("%s: input shape %v is not the N×%d×%d×%d the chain was built for", op.name, in[0], x.c, x.h, x.w)
	}
	for i, l := range op.layers {
		if w := (tensor.Shape{l.d.M, l.d.C, l.d.K, l.d.K}); !in[1+i].Eq(w) {
			return nil, fmt.Errorf("%s: step %s: weights %v are not the %v the chain was built for", op.name, op.steps[i].Name, in[1+i], w)
		}
	}
	last := op.acts[len(op.acts)-1]
	return tensor.Shape{in[0][0], last.c, last.h, last.w}, nil
}

// layOut chooses each activation's layout: the padded planes of the
// convolutions that read it when they all are stride-1 ones with the same
// planes, no shortcut subsamples it and no pooling writes it; dense
// otherwise, and always for the chain's input and output tensors.
func (op *chainOp) layOut() {
	n := len(op.acts)
	for a := range op.acts {
		op.acts[a].lay = kernels.Dense(op.acts[a].h, op.acts[a].w)
	}
	for a := 1; a < n-1; a++ {
		var in *kernels.Layout
		ok := op.layers[a-1].pool == nil && op.layers[a-1].wino == nil
		for i, s := range op.steps {
			l := &op.layers[i]
			if s.Residual == a && (l.shortcut > 0 || l.wino != nil) {
				ok = false
			}
			if s.From != a {
				continue
			}
			if l.d.Stride != 1 || l.wino != nil || (in != nil && *in != l.d.In()) {
				ok = false
			}
			lay := l.d.In()
			in = &lay
		}
		if ok && in != nil {
			op.acts[a].lay = *in
		}
	}
}

// assignSlots gives each intermediate activation a worker buffer, reusing
// those of activations no later step reads, so that few buffers (and
// cache lines) cycle.
func (op *chainOp) assignSlots() {
	n := len(op.acts)
	lastUse := make([]int, n) // the last step to write or read each activation
	for a := 1; a < n; a++ {
		lastUse[a] = a - 1
	}
	for i, s := range op.steps {
		lastUse[s.From] = i
		if s.Residual >= 0 {
			lastUse[s.Residual] = i
		}
	}
	op.slot = make([]int, n)
	op.slot[0], op.slot[n-1] = -1, -1 // the input and output tensors
	op.nslots = 0
	var free []int
	for i := range op.steps {
		if a := i + 1; a < n-1 {
			if len(free) > 0 {
				op.slot[a], free = free[len(free)-1], free[:len(free)-1]
			} else {
				op.slot[a] = op.nslots
				op.nslots++
			}
		}
		// Step i reads these for the last time while writing its output,
		// so their buffers serve step i+1 on.
		for r := 1; r < n-1; r++ {
			if lastUse[r] == i {
				free = append(free, op.slot[r])
			}
		}
	}
}

func (op *chainOp) forward(vs []G.Value) (G.Value, error) {
	x := opbase.F32(vs[0])
	n := vs[0].Shape()[0]
	last := op.acts[len(op.acts)-1]
	out := op.out.Get(tensor.Shape{n, last.c, last.h, last.w}, false)
	od := out.Float32s()
	// The layers' kernels are prepared side by side, each on one thread
	// (ResNet-20's Winograd transforms took a fortieth of its evaluation
	// on one thread while the other waited).
	kernels.Each(len(op.layers), op.threads, func(_, i int) {
		l := &op.layers[i]
		l.prepare(opbase.F32(vs[1+i]))
		l.epi.Refresh(l.d.M)
	})
	for len(op.ws) < op.threads {
		op.ws = append(op.ws, worker{})
	}
	in, units := op.acts[0].size(), (n+op.unit-1)/op.unit
	kernels.Each(units, op.threads, func(wk, u int) {
		i, k := u*op.unit, min(op.unit, n-u*op.unit)
		op.images(&op.ws[wk], x[i*in:(i+k)*in], od[i*last.size():(i+k)*last.size()], k)
	})
	return out, nil
}

// images runs every step on k ≤ op.unit images x into y, each activation
// held for the k images one after another.
func (op *chainOp) images(w *worker, x, y []float32, k int) {
	if len(w.slots) < op.nslots {
		w.slots = make([]opbase.Floats, op.nslots)
	}
	act := func(a int) []float32 {
		switch {
		case a == 0:
			return x
		case a == len(op.acts)-1:
			return y
		}
		return w.slots[op.slot[a]].Get(k * op.acts[a].size())
	}
	for i := range op.layers {
		l, s := &op.layers[i], &op.steps[i]
		var res []float32
		if s.Residual >= 0 {
			res = act(s.Residual)
		}
		if l.wino != nil {
			op.winogradImages(w, l, act(s.From), act(i+1), res, k)
			continue
		}
		x, y := act(s.From), act(i+1)
		in, out, rs := op.acts[s.From].size(), op.acts[i+1].size(), op.acts[max(s.Residual, 0)].size()
		for j := 0; j < k; j++ {
			var rj []float32
			if res != nil {
				rj = res[j*rs : (j+1)*rs]
			}
			op.directImage(w, i, x[j*in:(j+1)*in], y[j*out:(j+1)*out], rj)
		}
	}
}

// directImage runs step i, a direct convolution, on one image x into y,
// adding the residual activation res when not nil.
func (op *chainOp) directImage(w *worker, i int, x, y, res []float32) {
	l, s := &op.layers[i], &op.steps[i]
	planes := x
	if !op.acts[s.From].padded() {
		planes = w.planes.Get(l.d.C * l.d.Plane())
		l.d.Pad(planes, x, nil, l.d.C)
	}
	grid := w.grid.Get(l.d.Rows(l.d.M) * l.d.Span())
	l.d.Conv(grid, planes, l.packed, l.d.C, l.d.M)
	var rl kernels.Layout
	if res != nil {
		rl = op.acts[s.Residual].lay
		if l.shortcut > 0 {
			short := w.short.Get(l.out().size())
			kernels.ShortcutA(short, res, l.res.c, l.res.h, l.res.w, l.d.M, l.shortcut)
			res, rl = short, l.d.Out()
		}
	}
	if l.pool == nil {
		l.epi.Grid(l.d, y, op.acts[i+1].lay, grid, res, rl)
		return
	}
	pre := w.pre.Get(l.conv().size())
	l.epi.Grid(l.d, pre, kernels.Dense(l.d.OH, l.d.OW), grid, nil, rl)
	l.pool.Image(y, pre, &w.pool)
	if l.reluLast {
		kernels.ReLU(y, y)
	}
}

// winogradImages runs a Winograd step on k images x (dense) into y
// (dense), adding res (dense, or subsampled by the option-A shortcut)
// when not nil: the convolution by the plan's groups, the epilogue in
// place, then the pooling and the ReLU after it; the order of the
// op-by-op graph's passes, so its bits.
func (op *chainOp) winogradImages(w *worker, l *layer, x, y, res []float32, k int) {
	p, m, hw := l.wino, l.d.M, l.d.OH*l.d.OW
	out := l.out().size()
	z := y
	if l.pool != nil {
		z = w.pre.Get(k * m * hw)
	}
	if res != nil && l.shortcut > 0 {
		short, rs := w.short.Get(k*out), l.res.size()
		for j := 0; j < k; j++ {
			kernels.ShortcutA(short[j*out:(j+1)*out], res[j*rs:(j+1)*rs], l.res.c, l.res.h, l.res.w, m, l.shortcut)
		}
		res = short
	}
	// 3×3 layers take the epilogue as their outputs are scattered (one
	// pass over the activation fewer); 5×5 ones, which pool, after.
	fused := p.K == 3 && l.pool == nil
	in, u, scratch := l.d.C*l.d.H*l.d.W, l.u.Get(p.WeightsLen()), w.wino.Get(p.ScratchLen())
	for i := 0; i < k; i += p.G {
		g := min(p.G, k-i)
		zg, xg := z[i*m*hw:(i+g)*m*hw], x[i*in:(i+g)*in]
		if !fused {
			p.Conv(zg, xg, nil, nil, u, nil, scratch, g, nil)
			continue
		}
		var rg []float32
		if res != nil {
			rg = res[i*m*hw : (i+g)*m*hw]
		}
		p.ConvEpilogue(zg, xg, u, scratch, g, l.epi.Winograd(rg))
	}
	if !fused {
		l.epi.Maps(z, res, 0, k*m, m, hw)
	}
	if l.pool != nil {
		for j := 0; j < k; j++ {
			yj := y[j*out : (j+1)*out]
			l.pool.Image(yj, z[j*m*hw:(j+1)*m*hw], &w.pool)
			if l.reluLast {
				kernels.ReLU(yj, yj)
			}
		}
	}
}
