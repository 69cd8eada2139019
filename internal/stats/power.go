package stats

import (
	"math"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interval returns the two-sided 1 − alpha interval of the difference,
// the dual of the test: it excludes 0 exactly when P < alpha.
func (t Test) Interval(alpha float64) (lo, hi float64) {
	h := TQuantile(1-alpha/2, t.DF) * t.SE
	return t.Diff - h, t.Diff + h
}

// HolmAlphas returns, for each test of a family (in the order of ps; NaN
// entries are no members and get NaN), the level of the step of Holm's
// procedure that decided it: α/(m − k) for the tests it rejected at step
// k, and α/(m − f) for the rest, f being the step where it stopped, α =
// 1 − Level. A test's interval at its level excludes 0 exactly when its
// Holm-adjusted p-value is below α, so intervals drawn at these levels
// never contradict the verdicts (Bonferroni intervals at α/m can).
func HolmAlphas(ps []float64) []float64 {
	alpha := 1 - Level
	out := make([]float64, len(ps))
	for i := range out {
		out[i] = math.NaN()
	}
	idx := holmOrder(ps)
	m, stopped := len(idx), -1
	for k, i := range idx {
		if stopped < 0 && ps[i]*float64(m-k) >= alpha {
			stopped = k
		}
		step := k
		if stopped >= 0 {
			step = stopped
		}
		out[i] = alpha / float64(m-step)
	}
	return out
}

// PairedPower returns the power of a two-sided paired t-test at level
// alpha with n pairs when the mean of the differences is effect standard
// deviations of them: P(|T| > t(1 − alpha/2, n − 1)) for T noncentral t
// with n − 1 degrees of freedom and noncentrality effect·√n.
func PairedPower(effect float64, n int, alpha float64) float64 {
	if n < 2 || math.IsNaN(effect) || math.IsInf(effect, 0) || !(alpha > 0 && alpha < 1) {
		return math.NaN()
	}
	df := float64(n - 1)
	ncp := effect * math.Sqrt(float64(n))
	c := TQuantile(1-alpha/2, df)
	// T = (Z + ncp)/(S/√df) with S ~ χ(df): integrate P(|Z + ncp| > c·S/√df)
	// over S's density, which has no singularity (χ², at df = 1, has).
	lg, _ := math.Lgamma(df / 2)
	logNorm := -(df/2-1)*math.Ln2 - lg
	f := func(s float64) float64 {
		if s <= 0 {
			return 0
		}
		dens := math.Exp((df-1)*math.Log(s) - s*s/2 + logNorm)
		x := c * s / math.Sqrt(df)
		return dens * (distuv.UnitNormal.Survival(x-ncp) + distuv.UnitNormal.CDF(-x-ncp))
	}
	// χ(df) has mean ≈ √df and standard deviation < 0.76: ±12 leaves out
	// less than 1e-30 of it.
	lo, hi := math.Max(0, math.Sqrt(df)-12), math.Sqrt(df)+12
	return quad.Fixed(f, lo, hi, 300, quad.Legendre{}, 0)
}

// SeedsNeeded returns the fewest pairs (seeds, in a design paired by
// seed) at which a two-sided paired t-test at level alpha has at least
// the given power against effect (mean difference over the standard
// deviation of the differences), and false when even most pairs do not.
func SeedsNeeded(effect, alpha, power float64, most int) (int, bool) {
	if math.IsNaN(effect) || effect == 0 {
		return 0, false
	}
	for n := 2; n <= most; n++ {
		if PairedPower(effect, n, alpha) >= power {
			return n, true
		}
	}
	return 0, false
}
