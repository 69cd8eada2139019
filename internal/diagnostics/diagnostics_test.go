package diagnostics

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/layers"
	"github.com/dropexp/dropexp/internal/results"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The small network the hand computation follows:
// x (N×D) ─site1─ linear W1 (H×D), b1 → relu ─site2─ linear W2 (C×H), b2 → softmax CE.
const (
	sN, sD, sH, sC = 4, 5, 6, 3
	sDraws         = 3
)

// maskSet is one draw of both sites' masks: mf and mb of site 1, then of site 2.
type maskSet [4][]float32

// fixedMasks hands out predetermined draws in order (the Masks of the tests).
type fixedMasks struct {
	sets []maskSet
	next int
}

func (f *fixedMasks) Sample(sites []*dropout.Site) {
	m := f.sets[f.next%len(f.sets)]
	f.next++
	for i, s := range sites {
		copy(s.Forward(), m[2*i])
		if s.MB != s.MF { // one tensor serves both passes (standard) or only one is masked (forward)
			copy(s.Backward(), m[2*i+1])
		}
	}
}

func (f *fixedMasks) MarshalBinary() ([]byte, error) {
	return binary.AppendUvarint(nil, uint64(f.next)), nil
}

func (f *fixedMasks) UnmarshalBinary(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return errors.New("bad state")
	}
	f.next = int(n)
	return nil
}

type smallNet struct {
	x, w1, b1, w2, b2, y []float32
}

func gauss(r *rand.Rand, n int, std float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * std)
	}
	return s
}

func newSmall(seed uint64) smallNet {
	r := rand.New(rand.NewPCG(seed, 3))
	n := smallNet{x: gauss(r, sN*sD, 1), w1: gauss(r, sH*sD, 0.6), b1: gauss(r, sH, 0.1), w2: gauss(r, sC*sH, 0.6), b2: gauss(r, sC, 0.1)}
	for range sN {
		n.y = append(n.y, float32(r.IntN(sC)))
	}
	return n
}

func ones(n int) []float32 {
	s := make([]float32, n)
	fill(s, 1)
	return s
}

// eps returns Bernoulli(1−p)/(1−p) draws.
func eps(r *rand.Rand, n int, p float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		if r.Float64() >= p {
			s[i] = float32(1 / (1 - p))
		}
	}
	return s
}

// drawFor returns one draw of the variant's masks straight from its table
// (docs/DESIGN.md §1): mf, mb = ε, ε (standard), ε, 1 (forward), 1, ε
// (backward), ε, ε⊙ε_q (augmented).
func drawFor(r *rand.Rand, v experiment.Variant) maskSet {
	var m maskSet
	for site, n := range []int{sN * sD, sN * sH} {
		e := eps(r, n, 0.4)
		mf, mb := ones(n), ones(n)
		switch v {
		case experiment.Standard:
			mf, mb = e, e
		case experiment.Forward:
			mf = e
		case experiment.Backward:
			mb = e
		case experiment.Augmented:
			q := eps(r, n, 0.25)
			mf, mb = e, make([]float32, n)
			for i := range mb {
				mb[i] = e[i] * q[i]
			}
		}
		m[2*site], m[2*site+1] = mf, mb
	}
	return m
}

// built is the small network as a Gorgonia graph with dropexp's site ops.
type built struct {
	graph Graph
	sites []*dropout.Site
	loss  *layers.Loss
}

func tensorOf(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(slices.Clone(data)))
}

func (n smallNet) build(t *testing.T, v experiment.Variant, sem experiment.Semantics) built {
	t.Helper()
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithName("x"), G.WithValue(tensorOf(n.x, sN, sD)))
	w1 := G.NewMatrix(g, tensor.Float32, G.WithName("ip1/W"), G.WithValue(tensorOf(n.w1, sH, sD)))
	b1 := G.NewVector(g, tensor.Float32, G.WithName("ip1/b"), G.WithValue(tensorOf(n.b1, sH)))
	w2 := G.NewMatrix(g, tensor.Float32, G.WithName("ip2/W"), G.WithValue(tensorOf(n.w2, sC, sH)))
	b2 := G.NewVector(g, tensor.Float32, G.WithName("ip2/b"), G.WithValue(tensorOf(n.b2, sC)))
	y := G.NewVector(g, tensor.Float32, G.WithName("y"), G.WithValue(tensorOf(n.y, sN)))
	mode := dropout.ModeOf(v, sem)
	var sites []*dropout.Site
	site := func(name string, h *G.Node) *dropout.Site {
		if !mode.Masked() {
			return nil
		}
		s := dropout.NewSite(g, name, h.Shape(), v)
		sites = append(sites, s)
		return s
	}
	must := func(n *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	z1 := must(dropout.Linear(dropout.LinearSpec{Name: "ip1", Mode: mode, Threads: 1}, x, site("ip1", x), w1, b1))
	h := must(layers.ReLU("relu", z1, 1))
	z2 := must(dropout.Linear(dropout.LinearSpec{Name: "ip2", Mode: mode, InputGrad: true, Threads: 1}, h, site("ip2", h), w2, b2))
	loss, err := layers.SoftmaxCrossEntropy("loss", z2, y)
	if err != nil {
		t.Fatal(err)
	}
	params := G.Nodes{w1, b1, w2, b2}
	grads, err := G.Grad(loss.Node, params...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	t.Cleanup(func() { vm.Close() })
	gr := Graph{Sites: sites, Run: func() error {
		defer vm.Reset()
		return vm.RunAll()
	}}
	for i, p := range params {
		gr.Names = append(gr.Names, p.Name())
		gr.Grads = append(gr.Grads, func() []float32 { return grads[i].Value().Data().([]float32) })
	}
	return built{graph: gr, sites: sites, loss: loss}
}

// reference returns the gradients (W1, b1, W2, b2) of the small network with
// masks m, computed by hand in float64:
//
//	z1 = (x⊙mf1) W1ᵀ + b1, a = relu(z1), z2 = (a⊙mf2) W2ᵀ + b2, δ2 = (softmax(z2) − onehot(y)) / N
//	∂W2 = δ2ᵀ (a⊙w2), ∂b2 = Σ δ2, δ1 = ((δ2 W2) ⊙ mb2) ⊙ [z1 > 0], ∂W1 = δ1ᵀ (x⊙w1), ∂b1 = Σ δ1
//
// where the features the weight gradient sees are w = mb under the layer
// rule and w = mf under the elementwise rule. So forward dropout under the
// layer rule (mb = 1) computes ∂W2 from the undropped a, although the loss
// it differentiates saw a⊙mf2.
func (n smallNet) reference(m maskSet, sem experiment.Semantics) [4][]float64 {
	mf1, mb1, mf2, mb2 := m[0], m[1], m[2], m[3]
	w1m, w2m := mb1, mb2
	if sem == experiment.Elementwise {
		w1m, w2m = mf1, mf2
	}
	z1 := make([]float64, sN*sH)
	for i := range sN {
		for j := range sH {
			s := float64(n.b1[j])
			for k := range sD {
				s += float64(n.x[i*sD+k]) * float64(mf1[i*sD+k]) * float64(n.w1[j*sD+k])
			}
			z1[i*sH+j] = s
		}
	}
	a := make([]float64, len(z1))
	for i, z := range z1 {
		a[i] = max(z, 0)
	}
	d2 := make([]float64, sN*sC)
	for i := range sN {
		z2 := make([]float64, sC)
		top := math.Inf(-1)
		for c := range sC {
			s := float64(n.b2[c])
			for j := range sH {
				s += a[i*sH+j] * float64(mf2[i*sH+j]) * float64(n.w2[c*sH+j])
			}
			z2[c] = s
			top = max(top, s)
		}
		var sum float64
		for c := range sC {
			sum += math.Exp(z2[c] - top)
		}
		for c := range sC {
			p := math.Exp(z2[c]-top) / sum
			if c == int(n.y[i]) {
				p--
			}
			d2[i*sC+c] = p / sN
		}
	}
	var g [4][]float64
	g[0], g[1], g[2], g[3] = make([]float64, sH*sD), make([]float64, sH), make([]float64, sC*sH), make([]float64, sC)
	d1 := make([]float64, sN*sH)
	for i := range sN {
		for c := range sC {
			d := d2[i*sC+c]
			g[3][c] += d
			for j := range sH {
				g[2][c*sH+j] += d * a[i*sH+j] * float64(w2m[i*sH+j])
				d1[i*sH+j] += d * float64(n.w2[c*sH+j]) * float64(mb2[i*sH+j])
			}
		}
		for j := range sH {
			if z1[i*sH+j] <= 0 {
				d1[i*sH+j] = 0
			}
			g[1][j] += d1[i*sH+j]
			for k := range sD {
				g[0][j*sD+k] += d1[i*sH+j] * float64(n.x[i*sD+k]) * float64(w1m[i*sD+k])
			}
		}
	}
	return g
}

// expected computes every quantity from reference gradients with the plain
// formulas (two passes for the mean and the variance, not Welford's update):
// per tensor, then over the concatenation of all tensors.
func expected(g, g0 [4][]float64, draws [][4][]float64) [][]float64 {
	var out [][]float64
	q := func(sel []int) []float64 {
		cat := func(x [4][]float64) []float64 {
			var c []float64
			for _, t := range sel {
				c = append(c, x[t]...)
			}
			return c
		}
		gv, cv := cat(g), cat(g0)
		ks := make([][]float64, len(draws))
		for k, d := range draws {
			ks[k] = cat(d)
		}
		mean := make([]float64, len(gv))
		for _, k := range ks {
			for j := range mean {
				mean[j] += k[j] / float64(len(ks))
			}
		}
		norm := func(a []float64) float64 {
			var s float64
			for _, v := range a {
				s += v * v
			}
			return math.Sqrt(s)
		}
		diff := func(a, b []float64) []float64 {
			d := make([]float64, len(a))
			for j := range a {
				d[j] = a[j] - b[j]
			}
			return d
		}
		var dot, tr float64
		for j := range gv {
			dot += gv[j] * cv[j]
		}
		for _, k := range ks {
			dn := norm(diff(k, mean))
			tr += dn * dn
		}
		tr /= float64(len(ks) - 1)
		nm := norm(mean)
		return []float64{norm(gv), norm(cv), norm(diff(gv, cv)) / norm(cv), dot / (norm(gv) * norm(cv)),
			nm, norm(diff(mean, cv)) / norm(cv), tr / (nm * nm)}
	}
	for t := range 4 {
		out = append(out, q([]int{t}))
	}
	return append(out, q([]int{0, 1, 2, 3}))
}

// setMasks puts a draw into the sites as the step's masks.
func setMasks(sites []*dropout.Site, m maskSet) { (&fixedMasks{sets: []maskSet{m}}).Sample(sites) }

func TestQuantitiesMatchHandComputation(t *testing.T) {
	clean := maskSet{ones(sN * sD), ones(sN * sD), ones(sN * sH), ones(sN * sH)}
	for _, v := range experiment.Variants() {
		for _, sem := range []experiment.Semantics{experiment.Layer, experiment.Elementwise} {
			t.Run(fmt.Sprintf("%s/%s", v, sem), func(t *testing.T) {
				net := newSmall(5)
				r := rand.New(rand.NewPCG(9, 9))
				step := drawFor(r, v)
				masks := &fixedMasks{}
				for range sDraws {
					masks.sets = append(masks.sets, drawFor(r, v))
				}
				b := net.build(t, v, sem)
				d := New(1, sDraws, b.graph, masks)
				setMasks(b.sites, step)
				got := runStep(t, d, b.graph, 1)

				var draws [][4][]float64
				for _, m := range masks.sets {
					draws = append(draws, net.reference(m, sem))
				}
				want := expected(net.reference(step, sem), net.reference(clean, sem), draws)
				names := append(slices.Clone(b.graph.Names), results.TotalTensor)
				for i, name := range names {
					for j, q := range Quantities {
						g, w := got[i][j], want[i][j]
						if v == experiment.Plain && (q == RelDev || q == Noise || q == MeanDev) {
							// Nothing is dropped: every pass is the same pass, to the bit.
							if g != 0 {
								t.Errorf("%s %s = %g, want exactly 0", name, q, g)
							}
							continue
						}
						if math.Abs(g-w) > 1e-5+2e-4*math.Abs(w) {
							t.Errorf("%s %s = %.7g, want %.7g", name, q, g, w)
						}
					}
				}
				// The extra passes left the step's masks as they were.
				for i, s := range b.sites {
					if !slices.Equal(s.Forward(), step[2*i]) || s.MB != s.MF && !slices.Equal(s.Backward(), step[2*i+1]) {
						t.Errorf("site %s: masks changed by the diagnostics", s.Name)
					}
				}
			})
		}
	}
}

// runStep does what the training loop does on a diagnosed iteration and
// returns the recorded values by tensor (the total last) and quantity.
func runStep(t *testing.T, d *Diagnoser, g Graph, iter int) [][]float64 {
	t.Helper()
	if err := d.Before(iter); err != nil {
		t.Fatal(err)
	}
	if err := g.Run(); err != nil {
		t.Fatal(err)
	}
	if err := d.After(iter); err != nil {
		t.Fatal(err)
	}
	st := d.Steps()[len(d.Steps())-1]
	if st.Iteration != iter {
		t.Fatalf("last step is iteration %d, want %d", st.Iteration, iter)
	}
	var out [][]float64
	for i := 0; i < len(st.Values); i += len(Quantities) {
		out = append(out, st.Values[i:i+len(Quantities)])
	}
	return out
}

// The two gradient rules give the forward variant different weight
// gradients but the same bias gradients (Σδ, and δ does not depend on the
// rule): the layer rule's ∂W2 is computed from the undropped features.
func TestForwardRulesDiffer(t *testing.T) {
	net := newSmall(2)
	r := rand.New(rand.NewPCG(4, 4))
	step := drawFor(r, experiment.Forward)
	draws := &fixedMasks{sets: []maskSet{drawFor(r, experiment.Forward), drawFor(r, experiment.Forward)}}
	vals := map[experiment.Semantics][][]float64{}
	for _, sem := range []experiment.Semantics{experiment.Layer, experiment.Elementwise} {
		b := net.build(t, experiment.Forward, sem)
		setMasks(b.sites, step)
		vals[sem] = runStep(t, New(1, 2, b.graph, &fixedMasks{sets: draws.sets}), b.graph, 1)
	}
	l, e := vals[experiment.Layer], vals[experiment.Elementwise]
	const w2, b2, relDev = 2, 3, 2
	if l[w2][relDev] == e[w2][relDev] {
		t.Errorf("ip2/W: rel_dev %g under both rules, want them to differ", l[w2][relDev])
	}
	if math.Abs(l[b2][relDev]-e[b2][relDev]) > 1e-6 {
		t.Errorf("ip2/b: rel_dev %g (layer) and %g (elementwise), want the same", l[b2][relDev], e[b2][relDev])
	}
	// Pinned: ∂W2 under the layer rule is δ2ᵀ a with a undropped.
	want := net.reference(maskSet{step[0], ones(sN * sD), step[2], ones(sN * sH)}, experiment.Layer)
	b := net.build(t, experiment.Forward, experiment.Layer)
	setMasks(b.sites, step)
	if err := b.graph.Run(); err != nil {
		t.Fatal(err)
	}
	for j, g := range b.graph.Grads[w2]() {
		if math.Abs(float64(g)-want[w2][j]) > 1e-6 {
			t.Fatalf("ip2/W gradient [%d] = %g, want δ2ᵀa = %g", j, g, want[w2][j])
		}
	}
}

// Only every N-th iteration is diagnosed, and a nil Diagnoser does nothing.
func TestScheduleAndNil(t *testing.T) {
	net := newSmall(1)
	b := net.build(t, experiment.Standard, experiment.Layer)
	r := rand.New(rand.NewPCG(1, 1))
	d := New(3, 2, b.graph, &fixedMasks{sets: []maskSet{drawFor(r, experiment.Standard), drawFor(r, experiment.Standard)}})
	for it := 1; it <= 7; it++ {
		setMasks(b.sites, drawFor(r, experiment.Standard))
		if err := d.Before(it); err != nil {
			t.Fatal(err)
		}
		if err := b.graph.Run(); err != nil {
			t.Fatal(err)
		}
		if err := d.After(it); err != nil {
			t.Fatal(err)
		}
	}
	var its []int
	for _, s := range d.Steps() {
		its = append(its, s.Iteration)
	}
	if !slices.Equal(its, []int{3, 6}) {
		t.Errorf("diagnosed iterations %v, want [3 6]", its)
	}
	if rows := d.Rows(); len(rows) != 2*5*len(Quantities) || rows[0].Tensor != "ip1/W" || rows[len(rows)-1].Tensor != results.TotalTensor {
		t.Errorf("rows: %d, first %+v", len(rows), rows[0])
	}
	if err := d.After(9); err == nil {
		t.Error("After without Before: no error")
	}
	var none *Diagnoser
	if none.Before(3) != nil || none.After(3) != nil || none.Write(t.TempDir()) != nil || none.Steps() != nil {
		t.Error("a nil Diagnoser did something")
	}
	if b, err := none.MarshalBinary(); b != nil || err != nil || none.UnmarshalBinary([]byte{1}) != nil {
		t.Error("a nil Diagnoser saved or restored something")
	}
}

// The saved state brings back the mask stream and the steps, so a resumed
// run records what an uninterrupted one does.
func TestMarshalRoundTrip(t *testing.T) {
	net := newSmall(3)
	r := rand.New(rand.NewPCG(2, 2))
	sets := []maskSet{drawFor(r, experiment.Backward), drawFor(r, experiment.Backward), drawFor(r, experiment.Backward)}
	step := drawFor(r, experiment.Backward)
	mk := func() (*Diagnoser, built) {
		b := net.build(t, experiment.Backward, experiment.Layer)
		return New(1, 2, b.graph, &fixedMasks{sets: sets}), b
	}
	a, ab := mk()
	setMasks(ab.sites, step)
	runStep(t, a, ab.graph, 1)
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	setMasks(ab.sites, step)
	want := runStep(t, a, ab.graph, 2)

	c, cb := mk()
	if err := c.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	setMasks(cb.sites, step)
	got := runStep(t, c, cb.graph, 2)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(c.Steps()) != 2 {
		t.Errorf("restored diagnostics recorded %v, want %v", got, want)
	}
	dir := t.TempDir()
	if err := c.Write(dir); err != nil {
		t.Fatal(err)
	}
	rows, err := results.ReadDiagnostics(filepath.Join(dir, results.DiagnosticsFile))
	if err != nil || len(rows) != 2*5*len(Quantities) {
		t.Errorf("diagnostics.csv: %d rows, %v", len(rows), err)
	}

	other := New(1, 2, Graph{Names: []string{"w"}, Grads: []func() []float32{nil}}, &fixedMasks{})
	if err := other.UnmarshalBinary(state); err == nil {
		t.Error("state of another model restored without error")
	}
}
