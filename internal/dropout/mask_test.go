package dropout_test

import (
	"math"
	"testing"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rate returns the fraction of zeros in m and checks every non-zero equals scale.
func rate(t *testing.T, name string, m []float32, scale float64) float64 {
	t.Helper()
	zeros := 0
	for i, v := range m {
		switch {
		case v == 0:
			zeros++
		case math.Abs(float64(v)-scale) > 1e-6*scale:
			t.Fatalf("%s[%d] = %v, want 0 or %v", name, i, v, scale)
		}
	}
	return float64(zeros) / float64(len(m))
}

// within checks a sampled drop rate against p with a 6σ tolerance; the
// sampler is seeded, so the test is deterministic and cannot flake, and 6σ
// still catches a wrong ratio (0.3 vs 0.31 is 20σ at this size).
func within(t *testing.T, name string, got, p float64, n int) {
	t.Helper()
	tol := 6 * math.Sqrt(p*(1-p)/float64(n))
	if math.Abs(got-p) > tol {
		t.Errorf("%s drop rate %.5f, want %.5f ± %.5f", name, got, p, tol)
	}
}

func TestSampledMasks(t *testing.T) {
	const n = 1 << 20
	g := G.NewGraph()
	shape := tensor.Shape{n}
	for _, tc := range []struct {
		v    experiment.Variant
		r    experiment.Ratio
		seed uint64
	}{
		{experiment.Standard, experiment.Ratio{P: 0.3}, 1},
		{experiment.Forward, experiment.Ratio{P: 0.2}, 2},
		{experiment.Backward, experiment.Ratio{P: 0.05}, 3},
		{experiment.Augmented, experiment.Ratio{P: 0.1, Q: 0.02}, 4},
		{experiment.Independent, experiment.Ratio{P: 0.3}, 5},
	} {
		t.Run(string(tc.v), func(t *testing.T) {
			site := dropout.NewSite(g, "s-"+string(tc.v), shape, tc.v)
			s := dropout.NewSampler(tc.v, tc.r, tc.seed)
			s.Sample([]*dropout.Site{site})
			mf, mb := site.Forward(), site.Backward()
			p := tc.r.P
			switch tc.v {
			case experiment.Standard:
				if site.MF != site.MB {
					t.Error("standard dropout must use one mask for both passes")
				}
				within(t, "mf", rate(t, "mf", mf, 1/(1-p)), p, n)
			case experiment.Forward:
				within(t, "mf", rate(t, "mf", mf, 1/(1-p)), p, n)
			case experiment.Backward:
				within(t, "mb", rate(t, "mb", mb, 1/(1-p)), p, n)
			case experiment.Augmented:
				within(t, "mf", rate(t, "mf", mf, 1/(1-p)), p, n)
				// mb = mf ⊙ ε_q: zero wherever mf is, and ε_q drops a fraction q of the rest.
				kept, dropped := 0, 0
				for i := range mb {
					if mf[i] == 0 && mb[i] != 0 {
						t.Fatalf("mb[%d] = %v where mf dropped", i, mb[i])
					}
					if mf[i] != 0 {
						kept++
						if mb[i] == 0 {
							dropped++
						} else if want := 1 / ((1 - p) * (1 - tc.r.Q)); math.Abs(float64(mb[i])-want) > 1e-5*want {
							t.Fatalf("mb[%d] = %v, want %v", i, mb[i], want)
						}
					}
				}
				within(t, "ε_q", float64(dropped)/float64(kept), tc.r.Q, kept)
			case experiment.Independent:
				within(t, "mf", rate(t, "mf", mf, 1/(1-p)), p, n)
				within(t, "mb", rate(t, "mb", mb, 1/(1-p)), p, n)
				// Independent draws: both drop a unit at rate p², not p.
				both := 0
				for i := range mf {
					if mf[i] == 0 && mb[i] == 0 {
						both++
					}
				}
				within(t, "mf and mb", float64(both)/n, p*p, n)
			}
			// Masks are fresh at every step.
			before := append([]float32(nil), mf...)
			s.Sample([]*dropout.Site{site})
			same := 0
			for i := range before {
				if before[i] == mf[i] {
					same++
				}
			}
			if tc.v != experiment.Backward && same == len(before) {
				t.Error("the second step drew the same mask")
			}
		})
	}
}

func TestSamplerIsSeeded(t *testing.T) {
	g := G.NewGraph()
	a := dropout.NewSite(g, "a", tensor.Shape{1000}, experiment.Standard)
	b := dropout.NewSite(g, "b", tensor.Shape{1000}, experiment.Standard)
	dropout.NewSampler(experiment.Standard, experiment.Ratio{P: 0.5}, 9).Sample([]*dropout.Site{a})
	dropout.NewSampler(experiment.Standard, experiment.Ratio{P: 0.5}, 9).Sample([]*dropout.Site{b})
	for i := range a.Forward() {
		if a.Forward()[i] != b.Forward()[i] {
			t.Fatal("the same seed drew different masks")
		}
	}
}

// Every variant of the variant table has a mask rule, and a sampler of
// it draws the masks the table says: the forward mask only if the variant
// masks forward, a backward mask of its own only if the table says so.
func TestEveryVariantHasAMaskRule(t *testing.T) {
	for _, v := range experiment.Variants() {
		g := G.NewGraph()
		site := dropout.NewSite(g, "s", tensor.Shape{64, 64}, v)
		r, err := experiment.ParseRatio(v, "0.5")
		if err != nil {
			t.Fatal(err)
		}
		s := dropout.NewSampler(v, r, 1)
		s.Sample([]*dropout.Site{site}) // panics without a rule
		if (site.MF != site.MB) != v.OwnBackwardDraw() {
			t.Errorf("%s: backward mask is its own node: %v, table says %v", v, site.MF != site.MB, v.OwnBackwardDraw())
		}
		drawn := func(m []float32) bool {
			for _, x := range m {
				if x != 1 {
					return true
				}
			}
			return false
		}
		if v.OwnBackwardDraw() && drawn(site.Forward()) != v.MasksForward() {
			t.Errorf("%s: forward mask drawn %v, table says it masks forward: %v", v, drawn(site.Forward()), v.MasksForward())
		}
		if drawn(site.Backward()) && !(v.MasksBackward() || !v.OwnBackwardDraw()) {
			t.Errorf("%s draws a backward mask it does not apply", v)
		}
	}
}
