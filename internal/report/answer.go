package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/dropexp/dropexp/internal/report/analysis"
)

// The answer: what the runs say of each claim, one sentence per claim with
// the numbers it rests on, and for a check the runs leave open, how many
// seeds would settle it.

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
	note  string // why the section's checks do not, or only roughly, speak for the paper
	g     *analysis.Group
	fs    []analysis.Finding
}

// seedsText is the seeds column of a check: "–" unless it is open.
func seedsText(k analysis.Check, m int) string {
	n, ok, why := k.Seeds(m)
	switch {
	case ok:
		return fmt.Sprintf("%d", n)
	case why != "":
		return why
	}
	return "–"
}

// checkPhrase is one check in words with its numbers.
func checkPhrase(k analysis.Check, m int) string {
	if !k.Ran {
		return k.What + ": not run (" + k.Note + ")"
	}
	c := k.C
	if c.Err != nil {
		return fmt.Sprintf("%s: %s (a − b = %s)", k.What, c.Why(), signed(c.Test.Diff))
	}
	lo, hi := c.HolmInterval()
	s := fmt.Sprintf("%s %s (a − b = %s, %s, Holm p %s)", k.What, verdictWord(k.Verdict()), signed(c.Test.Diff), intervalAt(lo, hi, c.Alpha), pText(c.PHolm))
	if n, ok, why := k.Seeds(m); ok {
		s += fmt.Sprintf(", which about %d seeds per cell would settle", n)
		if k.Against() {
			s += " (against the claim, at this difference)"
		}
	} else if why != "" {
		s += ", which even " + why + " seeds per cell would hardly settle"
	}
	return s
}

// verdictWord is a check's verdict inside a sentence.
func verdictWord(v analysis.Verdict) string {
	switch v {
	case analysis.Holds:
		return "holds"
	case analysis.DoesNotHold:
		return "does not hold"
	case analysis.NotRun:
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
		m := len(analysis.FamilyOf(sec.fs))
		ran := 0
		for _, f := range sec.fs {
			if f.Verdict == analysis.NotRun {
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
			if f.Verdict == analysis.NotRun {
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

// seedsNote says how many seeds a claim was checked with: a range when its
// cells ran different numbers (a grid still running).
func seedsNote(f analysis.Finding) string {
	lo, hi := 0, 0
	for _, k := range f.Checks {
		if !k.Ran {
			continue
		}
		for _, n := range []int{k.C.Test.NA, k.C.Test.NB} {
			if lo == 0 || n < lo {
				lo = n
			}
			hi = max(hi, n)
		}
	}
	switch {
	case hi == 0:
		return ""
	case hi == 1:
		return " with 1 seed per cell"
	case lo < hi:
		return fmt.Sprintf(" with %d–%d seeds per cell", lo, hi)
	}
	return fmt.Sprintf(" with %d seeds per cell", hi)
}

// ranComparisons lists a group's comparisons when none of the claims ran.
func ranComparisons(b *strings.Builder, g *analysis.Group) {
	cs := analysis.Comparisons(g)
	if len(cs) == 0 {
		b.WriteString("- None of the claims' cells ran, and the runs have no two cells to compare.\n")
		return
	}
	b.WriteString("- None of the claims' cells ran; the comparisons that did (test accuracy, one Holm family):\n")
	for _, c := range cs {
		if c.Err != nil {
			fmt.Fprintf(b, "  - %s − %s = %s: %s\n", c.A.Name(), c.B.Name(), signed(c.Test.Diff), c.Why())
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
