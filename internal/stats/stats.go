// Package stats holds the few statistics the report needs to tell a result
// from seed noise: the mean of a handful of runs with its Student-t
// interval, the paired and the Welch t-test of a difference of means,
// Holm's adjustment of a family of p-values with intervals that agree with
// it, and the power of a paired test (how many seeds a difference needs).
// All functions are pure; a
// statistic that the data cannot give (an interval from one value, a test
// without spread) is NaN, and callers print it as such, not as a number.
package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of every interval in this package.
const Level = 0.95

// TQuantile returns the p-quantile of Student's t distribution with df
// degrees of freedom (df need not be an integer, as Welch's is not).
func TQuantile(p, df float64) float64 {
	if math.IsNaN(p) || math.IsNaN(df) || df <= 0 || p < 0 || p > 1 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

// TCDF returns P(T ≤ t) for Student's t distribution with df degrees of freedom.
func TCDF(t, df float64) float64 {
	if math.IsNaN(t) || math.IsNaN(df) || df <= 0 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(t)
}

// twoSided returns P(|T| ≥ |t|) with df degrees of freedom.
func twoSided(t, df float64) float64 {
	if math.IsInf(t, 0) {
		return 0
	}
	// The survival function, not 1 − CDF, keeps small p-values exact.
	return 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
}

// Sample describes a sample: size, mean, sample standard deviation (n − 1)
// and the Level interval of the mean from Student's t.
type Sample struct {
	N         int
	Mean      float64 // NaN if N = 0
	Std       float64 // NaN if N < 2
	Low, High float64 // the interval of the mean; NaN if N < 2
}

// Describe computes the Sample of xs.
func Describe(xs []float64) Sample {
	s := Sample{N: len(xs), Mean: math.NaN(), Std: math.NaN(), Low: math.NaN(), High: math.NaN()}
	if s.N == 0 {
		return s
	}
	s.Mean = mean(xs)
	if s.N < 2 {
		return s
	}
	s.Std = math.Sqrt(variance(xs, s.Mean))
	h := TQuantile(1-(1-Level)/2, float64(s.N-1)) * s.Std / math.Sqrt(float64(s.N))
	s.Low, s.High = s.Mean-h, s.Mean+h
	return s
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// variance is the sample variance (n − 1) of xs around their mean m.
func variance(xs []float64, m float64) float64 {
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return ss / float64(len(xs)-1)
}

// The kinds of Test.
const (
	PairedTest = "paired"
	WelchTest  = "welch"
)

// Test is a two-sided t-test of the difference of means a − b.
type Test struct {
	Kind      string  // PairedTest or WelchTest
	NA, NB    int     // sample sizes (equal for a paired test: the pairs)
	Diff      float64 // mean(a) − mean(b)
	Low, High float64 // Level interval of the difference
	SE        float64 // standard error of Diff
	T, DF     float64 // the statistic and its degrees of freedom
	P         float64 // two-sided p-value
}

// Significant reports whether p (e.g. a Holm-adjusted P) is below 1 − Level.
func Significant(p float64) bool { return p < 1-Level }

// ErrTooFew means a sample has fewer than two values, so it has no spread to test against.
var ErrTooFew = errors.New("fewer than 2 runs on a side: no spread to test against")

// ErrNoSpread means every difference (paired) or every value (Welch) is
// the same, so the t statistic is 0/0 or ±∞ and says nothing.
var ErrNoSpread = errors.New("no spread: the values do not vary, so a t-test says nothing")

// Paired tests a − b over pairs a[i], b[i] (a one-sample t-test of the
// differences, as scipy.stats.ttest_rel).
func Paired(a, b []float64) (Test, error) {
	if len(a) != len(b) {
		return Test{}, fmt.Errorf("paired test of %d against %d values: the samples must pair up", len(a), len(b))
	}
	nan := math.NaN()
	t := Test{Kind: PairedTest, NA: len(a), NB: len(b), Diff: nan, Low: nan, High: nan, SE: nan, T: nan, DF: nan, P: nan}
	if len(a) < 2 {
		if len(a) == 1 {
			t.Diff = a[0] - b[0]
		}
		return t, ErrTooFew
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	s := Describe(d)
	t.Diff, t.Low, t.High, t.DF = s.Mean, s.Low, s.High, float64(s.N-1)
	if s.Std <= roundoff(a, b) {
		t.Low, t.High, t.T, t.P = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		return t, ErrNoSpread
	}
	t.SE = s.Std / math.Sqrt(float64(s.N))
	t.T = s.Mean / t.SE
	t.P = twoSided(t.T, t.DF)
	return t, nil
}

// Welch tests mean(a) − mean(b) without assuming equal variances (as
// scipy.stats.ttest_ind with equal_var=False), with the Welch–Satterthwaite
// degrees of freedom.
func Welch(a, b []float64) (Test, error) {
	nan := math.NaN()
	t := Test{Kind: WelchTest, NA: len(a), NB: len(b), Diff: nan, Low: nan, High: nan, SE: nan, T: nan, DF: nan, P: nan}
	if len(a) < 2 || len(b) < 2 {
		if len(a) > 0 && len(b) > 0 {
			t.Diff = mean(a) - mean(b)
		}
		return t, ErrTooFew
	}
	ma, mb := mean(a), mean(b)
	va, vb := variance(a, ma)/float64(len(a)), variance(b, mb)/float64(len(b))
	t.Diff = ma - mb
	se2 := va + vb
	if math.Sqrt(se2) <= roundoff(a, b) {
		return t, ErrNoSpread
	}
	t.DF = se2 * se2 / (va*va/float64(len(a)-1) + vb*vb/float64(len(b)-1))
	t.SE = math.Sqrt(se2)
	t.T = t.Diff / t.SE
	t.P = twoSided(t.T, t.DF)
	t.Low, t.High = t.Interval(1 - Level)
	return t, nil
}

// roundoff is the spread below which values differ by floating-point
// rounding only (a difference of 0.7 − 0.6 and 0.8 − 0.7, say): a t-test
// on it would report p ≈ 1e-60 for what is in truth no spread at all.
func roundoff(a, b []float64) float64 {
	m := 0.0
	for _, x := range append(slices.Clone(a), b...) {
		m = math.Max(m, math.Abs(x))
	}
	return 1e-12 * m
}

// Holm returns the Holm–Bonferroni adjusted p-values of a family of tests,
// in the order of ps. NaN entries (tests that could not be made) are not
// members of the family and stay NaN.
func Holm(ps []float64) []float64 {
	adj := make([]float64, len(ps))
	for i := range adj {
		adj[i] = math.NaN()
	}
	idx := holmOrder(ps)
	m := len(idx)
	running := 0.0
	for k, i := range idx {
		// p_(k) · (m − k), made monotone so a smaller raw p never gets a larger adjusted one.
		running = math.Max(running, math.Min(1, ps[i]*float64(m-k)))
		adj[i] = running
	}
	return adj
}

// holmOrder returns the indices of the tests of ps that are members of the
// family (p not NaN) in Holm's order: ascending p, stable, so tied p-values
// keep their order and get the same adjusted value.
func holmOrder(ps []float64) []int {
	var idx []int
	for i, p := range ps {
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		switch {
		case ps[i] < ps[j]:
			return -1
		case ps[i] > ps[j]:
			return 1
		}
		return 0
	})
	return idx
}
