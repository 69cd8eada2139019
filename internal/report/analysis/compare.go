package analysis

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/stats"
)

// Comparison is a test of cell A's mean against cell B's: paired by seed
// when both ran the same seeds (a seed fixes the initial weights and the
// data order for every variant, so the pairs share them), Welch otherwise.
type Comparison struct {
	A, B  *CellRuns
	Scale float64 // B's values are multiplied by it (1: a plain difference; 1.3 tests A against 1.3 × B)
	Test  stats.Test
	Err   error   // why no test could be made (Test then has NaN p and interval)
	PHolm float64 // Test.P adjusted over its family; NaN without a test
	Alpha float64 // the level of the Holm step that decided it (stats.HolmAlphas); NaN without a test
	// HLow and HHigh are the interval of the difference at level 1 − Alpha:
	// it excludes 0 exactly when the comparison is significant after Holm.
	HLow, HHigh float64
}

// HolmInterval returns the interval at the level of the Holm step that
// decided the comparison; NaN without a test.
func (c Comparison) HolmInterval() (lo, hi float64) { return c.HLow, c.HHigh }

// compare tests f(A) − Scale·f(B) over the finished runs of a and b.
func compare(a, b *CellRuns, f func(results.Summary) float64, scale float64) Comparison {
	c := Comparison{A: a, B: b, Scale: scale, PHolm: math.NaN(), Alpha: math.NaN(), HLow: math.NaN(), HHigh: math.NaN()}
	va, vb := a.values(f), b.values(f)
	for i := range vb {
		vb[i] *= scale
	}
	if slices.Equal(a.Seeds(), b.Seeds()) && len(va) >= 2 {
		c.Test, c.Err = stats.Paired(va, vb)
	} else {
		c.Test, c.Err = stats.Welch(va, vb)
	}
	return c
}

// Significant reports whether the comparison is significant after Holm.
func (c Comparison) Significant() bool { return c.Err == nil && stats.Significant(c.PHolm) }

// Why says in words why a comparison has no test.
func (c Comparison) Why() string {
	switch {
	case c.Err == nil:
		return ""
	case errors.Is(c.Err, stats.ErrTooFew):
		return fmt.Sprintf("not possible: n=%d against n=%d (a test needs 2 runs on each side)", c.Test.NA, c.Test.NB)
	case errors.Is(c.Err, stats.ErrNoSpread):
		return "not possible: the runs do not vary, so a t-test says nothing"
	}
	return "not possible: " + c.Err.Error()
}

// holm fills PHolm of cs as one family.
func holm(cs []Comparison) {
	ps := make([]float64, len(cs))
	for i, c := range cs {
		ps[i] = math.NaN()
		if c.Err == nil {
			ps[i] = c.Test.P
		}
	}
	alphas := stats.HolmAlphas(ps)
	for i, p := range stats.Holm(ps) {
		cs[i].PHolm, cs[i].Alpha = p, alphas[i]
		cs[i].HLow, cs[i].HHigh = math.NaN(), math.NaN()
		if cs[i].Err == nil {
			cs[i].HLow, cs[i].HHigh = cs[i].Test.Interval(alphas[i])
		}
	}
}

// comparisons returns the test accuracy comparisons of a group, as one Holm
// family: every dropout cell against plain; then each comparison of the
// variant table (experiment.VariantSpec.Against: e.g. forward against
// standard and against backward at the same ratio and semantics,
// augmented against standard at its p), in the order the table first
// names it; layer against elementwise for the same variant and ratio. A
// variant whose two gradient rules are one computation (standard) is met
// under the other semantics when only that ran.
func Comparisons(g *Group) []Comparison {
	var cs []Comparison
	if g.Plain != nil {
		for _, c := range g.Cells {
			cs = append(cs, compare(c, g.Plain, accOf, 1))
		}
	}
	for _, a := range againsts() {
		for _, c := range g.Cells {
			if !slices.Contains(c.Variant.Spec().Against, a) {
				continue
			}
			r := c.Ratio
			if a.AtP {
				r = r.OfP()
			}
			if o := g.CellOrAlike(experiment.NewCell(a.Variant, r, c.Semantics)); o != nil {
				cs = append(cs, compare(c, o, accOf, 1))
			}
		}
	}
	for _, c := range g.Cells {
		if c.Semantics == experiment.Layer {
			if e := g.Cell(experiment.NewCell(c.Variant, c.Ratio, experiment.Elementwise)); e != nil {
				cs = append(cs, compare(c, e, accOf, 1))
			}
		}
	}
	holm(cs)
	return cs
}

// againsts returns the comparisons of the variant table, each once, in the
// order the table first names them.
func againsts() []experiment.Against {
	var as []experiment.Against
	for _, s := range experiment.VariantSpecs() {
		for _, a := range s.Against {
			if !slices.Contains(as, a) {
				as = append(as, a)
			}
		}
	}
	return as
}

// VersusPlain returns the comparison of cell c against plain in cs, if any.
func VersusPlain(cs []Comparison, c *CellRuns) (Comparison, bool) {
	for _, x := range cs {
		if x.A == c && x.B.Variant.Form() == experiment.NoRatio {
			return x, true
		}
	}
	return Comparison{}, false
}

// cellOrAlike returns the cell of key k: of its semantics if it ran, else,
// for a variant whose layer and elementwise rules are one computation
// (mf = mb, as for standard dropout), of the other semantics.
func (g *Group) CellOrAlike(k experiment.Cell) *CellRuns {
	if c := g.Cell(k); c != nil || !k.Variant.SemanticsInvariant() {
		return c
	}
	for _, other := range experiment.SemanticsOrder {
		k.Semantics = other
		if c := g.Cell(k); c != nil {
			return c
		}
	}
	return nil
}
