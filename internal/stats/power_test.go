package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Expected values from SciPy's noncentral t (testdata/reference.py).
func TestPairedPower(t *testing.T) {
	for _, tc := range []struct {
		effect      float64
		n           int
		alpha, want float64
	}{
		{1.0, 5, 0.05, 0.40138991737179386},
		{0.5, 10, 0.05, 0.29317560653004143},
		{2.0, 3, 0.05, 0.4707494312554774},
		{0.3, 40, 0.0125, 0.2496472659519073},
		{1.5, 4, 0.01, 0.17150430907449826},
		{-0.8, 12, 0.05, 0.7136600656028484},
		{0.0, 6, 0.05, 0.05},
	} {
		if got := PairedPower(tc.effect, tc.n, tc.alpha); math.Abs(got-tc.want) > 1e-8 {
			t.Errorf("PairedPower(%v, %d, %v) = %.12f, SciPy %.12f", tc.effect, tc.n, tc.alpha, got, tc.want)
		}
	}
	for _, n := range []int{0, 1} {
		if got := PairedPower(1, n, 0.05); !math.IsNaN(got) {
			t.Errorf("PairedPower with %d pairs = %v, want NaN", n, got)
		}
	}
}

func TestSeedsNeeded(t *testing.T) {
	for _, tc := range []struct {
		effect, alpha float64
		want          int
		ok            bool
	}{
		{1.0, 0.05, 10, true},
		{0.5, 0.05, 34, true},
		{2.0, 0.05, 5, true},
		{0.3, 0.01, 134, true},
		{3.0, 0.005, 6, true},
		{0.1, 0.05, 787, true},
		{0.1, 0.05, 0, false}, // with at most 500 seeds
		{0, 0.05, 0, false},
	} {
		most := 1000
		if tc.want == 0 && tc.effect != 0 {
			most = 500
		}
		got, ok := SeedsNeeded(tc.effect, tc.alpha, 0.8, most)
		if got != tc.want || ok != tc.ok {
			t.Errorf("SeedsNeeded(%v, %v) = %d, %v; SciPy %d, %v", tc.effect, tc.alpha, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHolmAlphas(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct{ ps, want []float64 }{
		// 0.005 rejected at 0.05/4, 0.01 at 0.05/3; stops at 0.03 ≥ 0.05/2,
		// and 0.04 keeps that step's level.
		{[]float64{0.01, 0.04, 0.03, 0.005}, []float64{0.05 / 3, 0.05 / 2, 0.05 / 2, 0.05 / 4}},
		// All rejected.
		{[]float64{0.01, 0.04, 0.02, 0.005}, []float64{0.05 / 3, 0.05 / 1, 0.05 / 2, 0.05 / 4}},
		// Stops at the second step (0.03 ≥ 0.05/2): the rest keep its level.
		{[]float64{0.2, 0.01, 0.03}, []float64{0.05 / 2, 0.05 / 3, 0.05 / 2}},
		// Stops at once.
		{[]float64{0.5, 0.04}, []float64{0.05 / 2, 0.05 / 2}},
		{[]float64{0.2, nan, 0.001}, []float64{0.05 / 1, nan, 0.05 / 2}},
	} {
		got := HolmAlphas(tc.ps)
		for i := range got {
			if !near(got[i], tc.want[i]) {
				t.Errorf("HolmAlphas(%v) = %v, want %v", tc.ps, got, tc.want)
				break
			}
		}
	}
}

// An interval at its Holm level excludes 0 exactly when Holm rejects.
func TestHolmIntervalsMatchTheVerdicts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for family := 0; family < 300; family++ {
		m := 2 + rng.IntN(6)
		tests := make([]Test, m)
		ps := make([]float64, m)
		for k := range tests {
			n := 2 + rng.IntN(5)
			a, b := make([]float64, n), make([]float64, n)
			shift := rng.NormFloat64() * 2
			for i := range a {
				a[i], b[i] = rng.NormFloat64()+shift, rng.NormFloat64()
			}
			tt, err := Paired(a, b)
			if err != nil {
				t.Fatal(err)
			}
			tests[k], ps[k] = tt, tt.P
		}
		adj, alphas := Holm(ps), HolmAlphas(ps)
		for k, tt := range tests {
			lo, hi := tt.Interval(alphas[k])
			if excludes := lo > 0 || hi < 0; excludes != Significant(adj[k]) {
				t.Fatalf("family %v: test %d (p %v, Holm %v) has interval [%v, %v] at level 1 − %v", ps, k, ps[k], adj[k], lo, hi, alphas[k])
			}
		}
	}
}

// A test's Level interval is its Interval at 1 − Level.
func TestIntervalAtLevel(t *testing.T) {
	for _, f := range []func(a, b []float64) (Test, error){Paired, Welch} {
		tt, err := f(samples["five"], samples["five_b"])
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := tt.Interval(1 - Level)
		if !near(lo, tt.Low) || !near(hi, tt.High) {
			t.Errorf("%s: Interval(0.05) = [%v, %v], Low/High [%v, %v]", tt.Kind, lo, hi, tt.Low, tt.High)
		}
	}
}
