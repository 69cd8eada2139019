package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/dropexp/dropexp/internal/stats"
)

// The answer: what the runs say of each claim, one sentence per claim with
// the numbers it rests on, and for a check the runs leave open, how many
// seeds would settle it.

// SeedsPower is the power the seeds a check needs are computed for.
const SeedsPower = 0.8

// mostSeeds is the most seeds per cell the report will suggest.
const mostSeeds = 1000

// claimQuestion is each claim in a few words, for the answer.
var claimQuestion = map[string]string{
	"a":  "Forward dropout at p = 0.3 underfits",
	"b":  "Standard dropout beats forward dropout at p ≥ 0.2",
	"c":  "At p = 0.05 forward and backward dropout beat plain, and forward beats backward",
	"d":  "At p = 0.005 backward dropout beats plain while forward dropout is indistinguishable from plain",
	"e":  "Backward dropout trains to a lower loss than standard dropout but does not beat it on the test set (p ≥ 0.2)",
	"T2": "Augmented dropout beats standard dropout at every ratio",
}

// findingSection is one group and semantics of findings.md.
type findingSection struct {
	title string
	g     *Group
	fs    []Finding
}

// familyOf returns the checks of fs that ran: one Holm family.
func familyOf(fs []Finding) []check {
	var ks []check
	for _, f := range fs {
		for _, k := range f.Checks {
			if k.ran {
				ks = append(ks, k)
			}
		}
	}
	return ks
}

// seeds returns how many seeds per cell (paired by seed) would resolve a
// check that the runs leave open, at the observed difference and spread:
// for "beats"-type checks 80 % power of the two-sided t-test at Holm's
// strictest level 0.05/m (m checks in the family), so it resolves in
// whatever order Holm meets it; for "indistinguishable" and "does not
// beat" an expected interval at that level narrow enough to fall inside
// the margin. ok is false when no number of seeds up to mostSeeds would,
// or the check is not open.
func (k check) seeds(m int) (n int, ok bool, why string) {
	c := k.c
	if !k.ran || c.Err != nil || k.verdict() != NotResolved || m < 1 {
		return 0, false, ""
	}
	pairs := float64(c.Test.NA+c.Test.NB) / 2
	sd := c.Test.SE * math.Sqrt(pairs) // of the differences, were the runs paired
	alpha := (1 - stats.Level) / float64(m)
	switch k.kind {
	case positive, negative, underfitRatio:
		n, ok := stats.SeedsNeeded(math.Abs(c.Test.Diff)/sd, alpha, SeedsPower, mostSeeds)
		if !ok {
			return 0, false, fmt.Sprintf("more than %d", mostSeeds)
		}
		return n, true, ""
	case equivalent, notPositive:
		room := Margin - c.Test.Diff // notPositive: the interval must end below +Margin
		if k.kind == equivalent {
			room = Margin - math.Abs(c.Test.Diff)
		}
		if room <= 0 {
			// Only a significant difference can settle it (against the claim).
			n, ok := stats.SeedsNeeded(math.Abs(c.Test.Diff)/sd, alpha, SeedsPower, mostSeeds)
			if !ok {
				return 0, false, fmt.Sprintf("more than %d", mostSeeds)
			}
			return n, true, ""
		}
		for n := 2; n <= mostSeeds; n++ {
			if stats.TQuantile(1-alpha/2, float64(n-1))*sd/math.Sqrt(float64(n)) < room {
				return n, true, ""
			}
		}
		return 0, false, fmt.Sprintf("more than %d", mostSeeds)
	}
	return 0, false, ""
}

// seedsText is the seeds column of a check: "–" unless it is open.
func (k check) seedsText(m int) string {
	n, ok, why := k.seeds(m)
	switch {
	case ok:
		return fmt.Sprintf("%d", n)
	case why != "":
		return why
	}
	return "–"
}

// checkPhrase is one check in words with its numbers.
func checkPhrase(k check, m int) string {
	if !k.ran {
		return k.what + ": not run (" + k.note + ")"
	}
	c := k.c
	if c.Err != nil {
		return fmt.Sprintf("%s: %s (a − b = %s)", k.what, c.why(), signed(c.Test.Diff))
	}
	lo, hi := c.HolmInterval()
	s := fmt.Sprintf("%s %s (a − b = %s, %s, Holm p %s)", k.what, verdictWord(k.verdict()), signed(c.Test.Diff), intervalAt(lo, hi, c.Alpha), pText(c.PHolm))
	if n, ok, why := k.seeds(m); ok {
		s += fmt.Sprintf(", which about %d seeds per cell would settle", n)
		if k.against() {
			s += " (against the claim, at this difference)"
		}
	} else if why != "" {
		s += ", which even " + why + " seeds per cell would hardly settle"
	}
	return s
}

// verdictWord is a check's verdict inside a sentence.
func verdictWord(v Verdict) string {
	switch v {
	case Holds:
		return "holds"
	case DoesNotHold:
		return "does not hold"
	case NotRun:
		return "was not run"
	}
	return "is not resolved"
}

// answerMarkdown writes the answer section of findings.md: per section, a
// sentence per claim; for a section in which none of the claims' cells
// ran, the comparisons that did run.
func answerMarkdown(b *strings.Builder, secs []findingSection) {
	if len(secs) == 0 {
		return
	}
	b.WriteString(answerHeading + "\n")
	for _, sec := range secs {
		fmt.Fprintf(b, "### %s\n\n", sec.title)
		m := len(familyOf(sec.fs))
		ran := 0
		for _, f := range sec.fs {
			if f.Verdict == NotRun {
				continue
			}
			ran++
			var parts []string
			for _, k := range f.Checks {
				parts = append(parts, checkPhrase(k, m))
			}
			fmt.Fprintf(b, "- **(%s) %s: %s%s.** %s.\n", f.ID, claimQuestion[f.ID], f.Verdict, seedsNote(f), strings.Join(parts, "; "))
		}
		var notRun []string
		for _, f := range sec.fs {
			if f.Verdict == NotRun {
				notRun = append(notRun, "("+f.ID+")")
			}
		}
		if len(notRun) > 0 {
			fmt.Fprintf(b, "- Not run: %s (their cells have no finished runs).\n", strings.Join(notRun, ", "))
		}
		if ran == 0 {
			ranComparisons(b, sec.g)
		}
		b.WriteString("\n")
	}
	b.WriteString("Intervals are at the level of the Holm step that decided each check (they exclude 0 exactly when the check is significant); " +
		"seeds: per cell, paired by seed, for 80 % power at the observed difference and spread at Holm's strictest level (0.05 over the family's checks).\n\n")
}

// seedsNote says how many seeds a claim was checked with.
func seedsNote(f Finding) string {
	n := 0
	for _, k := range f.Checks {
		if k.ran {
			n = max(n, k.c.Test.NA, k.c.Test.NB)
		}
	}
	if n == 0 {
		return ""
	}
	if n == 1 {
		return " with 1 seed per cell"
	}
	return fmt.Sprintf(" with %d seeds per cell", n)
}

// ranComparisons lists a group's comparisons when none of the claims ran.
func ranComparisons(b *strings.Builder, g *Group) {
	cs := comparisons(g)
	if len(cs) == 0 {
		b.WriteString("- None of the claims' cells ran, and the runs have no two cells to compare.\n")
		return
	}
	b.WriteString("- None of the claims' cells ran; the comparisons that did (test accuracy, one Holm family):\n")
	for _, c := range cs {
		if c.Err != nil {
			fmt.Fprintf(b, "  - %s − %s = %s: %s\n", c.A.Name(), c.B.Name(), signed(c.Test.Diff), c.why())
			continue
		}
		lo, hi := c.HolmInterval()
		word := "not significant"
		if c.Significant() {
			word = "significant"
		}
		fmt.Fprintf(b, "  - %s − %s = %s, %s, Holm p %s: %s\n", c.A.Name(), c.B.Name(), signed(c.Test.Diff), intervalAt(lo, hi, c.Alpha), pText(c.PHolm), word)
	}
}

// intervalAt formats an interval with its level: "[−0.0080, −0.0028] at 98.3 %".
func intervalAt(lo, hi, alpha float64) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return "–"
	}
	return fmt.Sprintf("%s at %s %%", interval(lo, hi), levelText(1-alpha))
}

// levelText formats a confidence level in percent with the digits it needs.
func levelText(l float64) string {
	s := fmt.Sprintf("%.1f", 100*l)
	if strings.HasSuffix(s, ".0") {
		return strings.TrimSuffix(s, ".0")
	}
	return s
}

// against reports whether the observed difference points against the
// check, so that more seeds would rather show it does not hold.
func (k check) against() bool {
	d := k.c.Test.Diff
	switch k.kind {
	case positive, underfitRatio:
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
