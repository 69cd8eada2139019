package analysis

import (
	"fmt"
	"math"

	"github.com/dropexp/dropexp/internal/stats"
)

// How many seeds would settle a check the runs leave open, for the answer
// of findings.md.

// SeedsPower is the power the seeds a check needs are computed for.
const SeedsPower = 0.8

// mostSeeds is the most seeds per cell the report will suggest.
const mostSeeds = 1000

// FamilyOf returns the checks of fs that ran: one Holm family.
func FamilyOf(fs []Finding) []Check {
	var ks []Check
	for _, f := range fs {
		for _, k := range f.Checks {
			if k.Ran {
				ks = append(ks, k)
			}
		}
	}
	return ks
}

// Seeds returns how many seeds per cell (paired by seed) would resolve a
// check that the runs leave open, at the observed difference and spread:
// 80 % power of the two-sided t-test at Holm's strictest level 0.05/m (m
// checks in the family), so it resolves in whatever order Holm meets it;
// for "indistinguishable" and "does not beat" within the margin, instead
// an expected interval at that level narrow enough to fall inside it. ok
// is false when no number of seeds up to mostSeeds would, or the check is
// not open.
func (k Check) Seeds(m int) (n int, ok bool, why string) {
	c := k.C
	if !k.Ran || c.Err != nil || k.Verdict() != NotResolved || m < 1 {
		return 0, false, ""
	}
	pairs := float64(c.Test.NA+c.Test.NB) / 2
	sd := c.Test.SE * math.Sqrt(pairs) // of the differences, were the runs paired
	alpha := (1 - stats.Level) / float64(m)
	tooMany := fmt.Sprintf("more than %d", mostSeeds)
	room := math.Inf(-1) // how far the interval may reach; none: only significance settles it
	switch k.Kind {
	case equivalent:
		room = Margin - math.Abs(c.Test.Diff)
	case notPositive:
		room = Margin - c.Test.Diff // the interval must end below +Margin
	}
	if room <= 0 {
		if n, ok := stats.SeedsNeeded(math.Abs(c.Test.Diff)/sd, alpha, SeedsPower, mostSeeds); ok {
			return n, true, ""
		}
		return 0, false, tooMany
	}
	for n := 2; n <= mostSeeds; n++ {
		if stats.TQuantile(1-alpha/2, float64(n-1))*sd/math.Sqrt(float64(n)) < room {
			return n, true, ""
		}
	}
	return 0, false, tooMany
}

// against reports whether the observed difference points against the
// check, so that more seeds would rather show it does not hold.
func (k Check) Against() bool {
	d := k.C.Test.Diff
	switch k.Kind {
	case positive, UnderfitRatio:
		return d < 0
	case negative:
		return d > 0
	case equivalent:
		return math.Abs(d) >= Margin
	case notPositive:
		return d >= Margin
	}
	return false
}
