package dropout_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The tiny network the gradient tests pin:
// x (N×C×H×W) ─site1─ conv 3×3 pad 1 stride 1 or 2 (+b1) → relu ─site2─
// linear (+b2) → softmax CE.
const (
	tN       = 3
	tClasses = 4
)

// tinyShape is the tiny net's convolution: c input maps of h×w pixels, m
// output maps, a k×k kernel padded by k/2.
type tinyShape struct{ c, h, w, m, k int }

// tinyShapes are the convolutions the gradient tests take: odd sizes, and
// four the winograd set computes by Winograd (maps multiples of 8): 3×3
// kernels on sizes of 4, both ways on 8×8 and its weight gradient too on
// 16×16, and ConvNet-Quick's 5×5 kernels (forward pass and input gradient).
var tinyShapes = []tinyShape{{2, 5, 4, 3, 3}, {8, 8, 8, 8, 3}, {8, 16, 16, 8, 3}, {8, 8, 8, 8, 5}, {8, 16, 16, 8, 5}}

type tinyNet struct {
	tinyShape
	stride, oh, ow    int
	d                 int // features into the linear layer: m·oh·ow
	x, w1, b1, w2, b2 []float32
	labels            []float32
	// Masks as the variant table defines them (1 where the variant does not drop).
	mf1, mb1, mf2, mb2 []float32
}

func randSlice(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
	}
	return s
}

func bernoulli(r *rand.Rand, n int, p float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		if r.Float64() >= p {
			s[i] = float32(1 / (1 - p))
		}
	}
	return s
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func mul(a, b []float32) []float32 {
	s := make([]float32, len(a))
	for i := range a {
		s[i] = a[i] * b[i]
	}
	return s
}

// masksFor returns mf and mb of one site straight from the table of docs/DESIGN.md §1.
func masksFor(r *rand.Rand, v experiment.Variant, n int) (mf, mb []float32) {
	eps := bernoulli(r, n, 0.4)
	switch v {
	case experiment.Plain:
		return ones(n), ones(n)
	case experiment.Standard:
		return eps, eps
	case experiment.Forward:
		return eps, ones(n)
	case experiment.Backward:
		return ones(n), eps
	case experiment.Augmented:
		return eps, mul(eps, bernoulli(r, n, 0.3))
	case experiment.Independent:
		return eps, bernoulli(r, n, 0.4)
	}
	panic(v)
}

func newTiny(v experiment.Variant, seed uint64, stride int, sh tinyShape) *tinyNet {
	r := rand.New(rand.NewPCG(seed, 1))
	tC, tH, tW, tM := sh.c, sh.h, sh.w, sh.m
	oh, ow := (tH-1)/stride+1, (tW-1)/stride+1
	t := &tinyNet{
		tinyShape: sh, stride: stride, oh: oh, ow: ow, d: tM * oh * ow,
		x:  randSlice(r, tN*tC*tH*tW, 1),
		w1: randSlice(r, tM*tC*sh.k*sh.k, 0.5),
		b1: randSlice(r, tM, 0.1),
		w2: randSlice(r, tClasses*tM*oh*ow, 0.3),
		b2: randSlice(r, tClasses, 0.1),
	}
	for i := 0; i < tN; i++ {
		t.labels = append(t.labels, float32(r.IntN(tClasses)))
	}
	t.mf1, t.mb1 = masksFor(r, v, len(t.x))
	t.mf2, t.mb2 = masksFor(r, v, tN*t.d)
	return t
}

// grads holds ∂J/∂ of every input of the tiny net.
type grads struct {
	loss              float64
	x, w1, b1, w2, b2 []float64
}

// reference computes the loss and the gradients of docs/DESIGN.md §1 with direct loops in float64.
func (t *tinyNet) reference(sem experiment.Semantics) grads {
	tC, tH, tW, tM, tK, tPad := t.c, t.h, t.w, t.m, t.k, t.k/2
	at := func(img []float32, n, c, y, x int) float64 {
		if y < 0 || y >= tH || x < 0 || x >= tW {
			return 0
		}
		return float64(img[((n*tC+c)*tH+y)*tW+x])
	}
	wsel := func(mf, mb []float32) []float32 { // features the weight gradient sees
		if sem == experiment.Elementwise {
			return mf
		}
		return mb
	}
	tD, st := t.d, t.stride
	xf := mul(t.x, t.mf1)
	z1 := make([]float64, tN*tD)
	for n := 0; n < tN; n++ {
		for m := 0; m < tM; m++ {
			for y := 0; y < t.oh; y++ {
				for x := 0; x < t.ow; x++ {
					s := float64(t.b1[m])
					for c := 0; c < tC; c++ {
						for i := 0; i < tK; i++ {
							for j := 0; j < tK; j++ {
								s += float64(t.w1[((m*tC+c)*tK+i)*tK+j]) * at(xf, n, c, st*y+i-tPad, st*x+j-tPad)
							}
						}
					}
					z1[((n*tM+m)*t.oh+y)*t.ow+x] = s
				}
			}
		}
	}
	h := make([]float32, len(z1))
	for i, v := range z1 {
		h[i] = float32(math.Max(v, 0))
	}
	hf := mul(h, t.mf2)
	g := grads{x: make([]float64, len(t.x)), w1: make([]float64, len(t.w1)), b1: make([]float64, tM),
		w2: make([]float64, len(t.w2)), b2: make([]float64, tClasses)}
	delta2 := make([]float64, tN*tClasses)
	for n := 0; n < tN; n++ {
		z := make([]float64, tClasses)
		mx := math.Inf(-1)
		for k := range z {
			z[k] = float64(t.b2[k])
			for d := 0; d < tD; d++ {
				z[k] += float64(t.w2[k*tD+d]) * float64(hf[n*tD+d])
			}
			mx = math.Max(mx, z[k])
		}
		var den float64
		for _, v := range z {
			den += math.Exp(v - mx)
		}
		y := int(t.labels[n])
		g.loss += (math.Log(den) + mx - z[y]) / tN
		for k := range z {
			delta2[n*tClasses+k] = math.Exp(z[k]-mx) / den / tN
		}
		delta2[n*tClasses+y] -= 1.0 / tN
	}
	h2w := mul(h, wsel(t.mf2, t.mb2))
	dh := make([]float64, tN*tD)
	for n := 0; n < tN; n++ {
		for k := 0; k < tClasses; k++ {
			d := delta2[n*tClasses+k]
			g.b2[k] += d
			for j := 0; j < tD; j++ {
				g.w2[k*tD+j] += d * float64(h2w[n*tD+j])
				dh[n*tD+j] += d * float64(t.w2[k*tD+j])
			}
		}
	}
	delta1 := make([]float64, len(dh))
	for i := range dh {
		if z1[i] > 0 {
			delta1[i] = dh[i] * float64(t.mb2[i])
		}
	}
	xw := mul(t.x, wsel(t.mf1, t.mb1))
	for n := 0; n < tN; n++ {
		for m := 0; m < tM; m++ {
			for y := 0; y < t.oh; y++ {
				for x := 0; x < t.ow; x++ {
					d := delta1[((n*tM+m)*t.oh+y)*t.ow+x]
					g.b1[m] += d
					for c := 0; c < tC; c++ {
						for i := 0; i < tK; i++ {
							for j := 0; j < tK; j++ {
								yy, xx := st*y+i-tPad, st*x+j-tPad
								if yy < 0 || yy >= tH || xx < 0 || xx >= tW {
									continue
								}
								wi := ((m*tC+c)*tK+i)*tK + j
								xi := ((n*tC+c)*tH+yy)*tW + xx
								g.w1[wi] += d * float64(xw[xi])
								g.x[xi] += d * float64(t.w1[wi]) * float64(t.mb1[xi])
							}
						}
					}
				}
			}
		}
	}
	return g
}

func tensorOf(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), data...)))
}

// graph runs the tiny net through the Gorgonia ops and returns its gradients.
// convPaths are the ways the convolution can run: one or two threads, and
// the direct convolution (where the CPU has it) or im2col with the kept
// unrolled features.
var convPaths = []struct {
	name    string
	threads int
	im2col  bool
	kernels experiment.Kernels // strided: direct gradients at stride 2 too; winograd: and Winograd's input gradients
}{{"direct/threads1", 1, false, experiment.DirectKernels}, {"direct/threads2", 2, false, experiment.DirectKernels},
	{"strided/threads2", 2, false, experiment.StridedKernels}, {"winograd/threads1", 1, false, experiment.WinogradKernels},
	{"winograd/threads2", 2, false, experiment.WinogradKernels},
	{"im2col/threads1", 1, true, experiment.DirectKernels}, {"im2col/threads2", 2, true, experiment.DirectKernels}}

func (t *tinyNet) graph(tb testing.TB, v experiment.Variant, sem experiment.Semantics, threads int, im2col bool, k experiment.Kernels) grads {
	tC, tH, tW, tM, tK, tPad := t.c, t.h, t.w, t.m, t.k, t.k/2
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithName("x"), G.WithValue(tensorOf(t.x, tN, tC, tH, tW)))
	w1 := G.NewTensor(g, tensor.Float32, 4, G.WithName("w1"), G.WithValue(tensorOf(t.w1, tM, tC, tK, tK)))
	b1 := G.NewVector(g, tensor.Float32, G.WithName("b1"), G.WithValue(tensorOf(t.b1, tM)))
	w2 := G.NewMatrix(g, tensor.Float32, G.WithName("w2"), G.WithValue(tensorOf(t.w2, tClasses, t.d)))
	b2 := G.NewVector(g, tensor.Float32, G.WithName("b2"), G.WithValue(tensorOf(t.b2, tClasses)))
	labels := G.NewVector(g, tensor.Float32, G.WithName("y"), G.WithValue(tensorOf(t.labels, tN)))
	mode := dropout.ModeOf(v, sem)
	site1 := dropout.NewSite(g, "s1", x.Shape(), v)
	set := func(s *dropout.Site, mf, mb []float32) {
		copy(s.Forward(), mf)
		if v != experiment.Standard && v != experiment.Forward {
			copy(s.Backward(), mb)
		}
	}
	set(site1, t.mf1, t.mb1)
	must := func(n *G.Node, err error) *G.Node {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return n
	}
	// Two threads also exercise the kept im2col of the forward pass.
	z1 := must(dropout.Conv(dropout.ConvSpec{Name: "c", K: tK, Pad: tPad, Stride: t.stride, Mode: mode, InputGrad: true, Threads: threads,
		KeepCols: threads == 2, Im2col: im2col, Kernels: k}, x, site1, w1, b1))
	h := must(layers.ReLU("r", z1, threads))
	site2 := dropout.NewSite(g, "s2", h.Shape(), v)
	set(site2, t.mf2, t.mb2)
	z2 := must(dropout.Linear(dropout.LinearSpec{Name: "l", Mode: mode, InputGrad: true, Threads: threads}, h, site2, w2, b2))
	loss, err := layers.SoftmaxCrossEntropy("loss", z2, labels)
	if err != nil {
		tb.Fatal(err)
	}
	wrt := G.Nodes{x, w1, b1, w2, b2}
	gr, err := G.Grad(loss.Node, wrt...)
	if err != nil {
		tb.Fatal(err)
	}
	runGraph(tb, g)
	f64 := func(n *G.Node) []float64 {
		d := n.Value().Data().([]float32)
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return grads{loss: float64(loss.Node.Value().Data().(float32)),
		x: f64(gr[0]), w1: f64(gr[1]), b1: f64(gr[2]), w2: f64(gr[3]), b2: f64(gr[4])}
}

// assertClose checks each element within 1e-5 + 1e-4·|want|; scaled, the
// absolute term grows with the gradient's largest element past 1
// (1e-5·max(1, max|want|)), the bound of Winograd's transforms, which round
// in proportion to the whole gradient's size (TestRoundingAcrossSeeds).
func assertClose(t *testing.T, what string, got, want []float64, scaled bool) {
	t.Helper()
	abs := 1e-5
	if scaled {
		for _, w := range want {
			abs = max(abs, 1e-5*math.Abs(w))
		}
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= abs+1e-4*math.Abs(want[i])) { // NaN fails too
			t.Errorf("%s[%d] = %.7g, want %.7g", what, i, got[i], want[i])
			return
		}
	}
}

func TestGradientsMatchFormulas(t *testing.T) {
	for _, v := range experiment.Variants() {
		for _, sem := range []experiment.Semantics{experiment.Layer, experiment.Elementwise} {
			for _, c := range convPaths {
				for _, stride := range []int{1, 2} {
					for _, sh := range tinyShapes {
						t.Run(fmt.Sprintf("%s/%s/%s/stride%d/%dx%dx%d/k%d", v, sem, c.name, stride, sh.c, sh.h, sh.w, sh.k), func(t *testing.T) {
							net := newTiny(v, 7, stride, sh)
							want := net.reference(sem)
							got := net.graph(t, v, sem, c.threads, c.im2col, c.kernels)
							if math.Abs(got.loss-want.loss) > 1e-5*(1+math.Abs(want.loss)) { // float32 sums of a few hundred terms
								t.Errorf("loss = %v, want %v", got.loss, want.loss)
							}
							// Winograd's transforms, and 5×5 kernels' sums of a few
							// thousand terms on any path, round beyond the fixed
							// absolute term (TestRoundingAcrossSeeds).
							scaled := c.kernels.Winograd() || sh.k == 5
							assertClose(t, "dJ/dx", got.x, want.x, scaled)
							assertClose(t, "dJ/dW1", got.w1, want.w1, scaled)
							assertClose(t, "dJ/db1", got.b1, want.b1, scaled)
							assertClose(t, "dJ/dW2", got.w2, want.w2, scaled)
							assertClose(t, "dJ/db2", got.b2, want.b2, scaled)
						})
					}
				}
			}
		}
	}
}

// The variants must actually differ: forward's weight gradient under layer
// semantics sees undropped features, so it differs from elementwise's.
func TestSemanticsDiffer(t *testing.T) {
	for _, v := range []experiment.Variant{experiment.Forward, experiment.Backward, experiment.Augmented, experiment.Independent} {
		net := newTiny(v, 3, 1, tinyShapes[0])
		a, b := net.graph(t, v, experiment.Layer, 1, false, experiment.DirectKernels), net.graph(t, v, experiment.Elementwise, 1, false, experiment.DirectKernels)
		same := true
		for i := range a.w2 {
			if math.Abs(a.w2[i]-b.w2[i]) > 1e-6 {
				same = false
			}
		}
		if same {
			t.Errorf("%s: layer and elementwise weight gradients are identical", v)
		}
	}
}

// For plain and standard the gradient is the derivative of the forward loss
// with the masks held fixed: check it by central differences.
func TestFiniteDifferences(t *testing.T) {
	for _, v := range []experiment.Variant{experiment.Plain, experiment.Standard} {
		t.Run(string(v), func(t *testing.T) {
			net := newTiny(v, 11, 1, tinyShapes[0])
			ana := net.reference(experiment.Layer)
			got := net.graph(t, v, experiment.Layer, 1, false, experiment.DirectKernels)
			assertClose(t, "graph vs formula dW1", got.w1, ana.w1, false)
			const eps = 1e-3
			check := func(name string, p []float32, grad []float64) {
				for _, i := range []int{0, len(p) / 3, len(p) / 2, len(p) - 1} {
					old := p[i]
					p[i] = old + eps
					lp := net.reference(experiment.Layer).loss
					p[i] = old - eps
					lm := net.reference(experiment.Layer).loss
					p[i] = old
					fd := (lp - lm) / (2 * eps)
					if math.Abs(fd-grad[i]) > 2e-3*math.Max(1, math.Abs(fd)) {
						t.Errorf("%s[%d]: finite difference %.6g, gradient %.6g", name, i, fd, grad[i])
					}
				}
			}
			check("W1", net.w1, got.w1)
			check("b1", net.b1, got.b1)
			check("W2", net.w2, got.w2)
			check("b2", net.b2, got.b2)
			check("x", net.x, got.x)
		})
	}
}
