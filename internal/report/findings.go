package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/stats"
)

// findings.md: the claims as package analysis checks them (the rule of
// analysis.FindingsRule), with the answer on top.

// findingsMarkdown renders findings of one section.
func findingsMarkdown(b *strings.Builder, fs []analysis.Finding) {
	for _, f := range fs {
		fmt.Fprintf(b, "**%s** Verdict: **%s**", f.Claim, f.Verdict)
		var notRun []string
		for _, k := range f.Checks {
			if !k.Ran {
				notRun = append(notRun, k.What+" ("+k.Note+")")
			}
		}
		if f.Verdict != analysis.NotRun && len(notRun) > 0 {
			b.WriteString(" for what ran")
		}
		b.WriteString(".\n\n")
		if f.Verdict == analysis.NotRun {
			fmt.Fprintf(b, "Not run: %s.\n\n", strings.Join(notRun, "; "))
			continue
		}
		b.WriteString("| check | a | b | test | n | a − b | interval (Holm level) | p | p (Holm) | verdict | seeds to resolve |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, k := range f.Checks {
			if !k.Ran {
				fmt.Fprintf(b, "| %s | – | – | – | – | – | – | – | – | not run: %s | – |\n", k.What, k.Note)
				continue
			}
			c := k.C
			a, bb := c.A.Name(), c.B.Name()
			if k.Kind == analysis.UnderfitRatio {
				bb = fmt.Sprintf("%.1f × %s", c.Scale, bb)
			}
			if k.Metric == "training loss" {
				a, bb = a+" (loss)", bb+" (loss)"
			}
			v := string(k.Verdict())
			if c.Err != nil {
				v += ": " + c.Why()
			}
			lo, hi := c.HolmInterval()
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.What, a, bb, testName(c), nText(c),
				signed(c.Test.Diff), intervalAt(lo, hi, c.Alpha), pText(c.Test.P), pText(c.PHolm), v, seedsText(k, len(analysis.FamilyOf(fs))))
		}
		if f.ID == "a" && f.Checks[0].Ran && f.Checks[0].C.A.TrainLoss.N > 0 && f.Checks[0].C.B.TrainLoss.N > 0 {
			fa, fb := f.Checks[0].C.A.TrainLoss.Mean, f.Checks[0].C.B.TrainLoss.Mean
			fmt.Fprintf(b, "\nMean final training loss: forward %.4f, standard %.4f (ratio %.2f).\n", fa, fb, fa/fb)
		}
		b.WriteString("\n")
	}
}

// testName is "paired", "welch" or "–" for a comparison without a test.
func testName(c analysis.Comparison) string {
	if c.Err != nil {
		return "–"
	}
	return c.Test.Kind
}

// nText gives the runs on each side: "2" for pairs, "2 / 3" otherwise.
func nText(c analysis.Comparison) string {
	if c.Err == nil && c.Test.Kind == stats.PairedTest {
		return fmt.Sprintf("%d pairs", c.Test.NA)
	}
	return fmt.Sprintf("%d / %d", c.Test.NA, c.Test.NB)
}

// signed formats a difference with its sign; NaN as "–".
func signed(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%+.4f", v)
}

// interval formats [low, high]; no interval as "–".
func interval(lo, hi float64) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return "–"
	}
	return fmt.Sprintf("[%+.4f, %+.4f]", lo, hi)
}

// pText formats a p-value; NaN as "–".
func pText(p float64) string {
	switch {
	case math.IsNaN(p):
		return "–"
	case p < 0.0001:
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.4f", p)
}

// findingsDoc renders findings.md: the answer first, then every check of
// the poster's claims about Table 1 (ConvNet-Quick groups) and of the
// paper's claim about Table 2 (ResNet-20 groups).
func findingsDoc(note string, groups []*analysis.Group) string {
	var secs []findingSection
	for _, g := range groups {
		if g.Model != analysis.Table1Model {
			continue
		}
		for _, sem := range g.Semantics() {
			sec := findingSection{title: g.Title() + ", " + string(sem) + " gradient", g: g, fs: analysis.Findings(g, sem)}
			if ok, why := analysis.PaperBasis(g); !ok {
				sec.note = fmt.Sprintf("The claims are about CIFAR-10 under the Table 1 protocol; %s, so these checks say what these runs show, not whether the paper reproduces.\n\n", why)
			}
			secs = append(secs, sec)
		}
	}
	for _, g := range groups {
		if g.Model != analysis.Table2Model {
			continue
		}
		for _, sem := range g.Semantics() {
			if !analysis.HasTable2Cells(g, sem) {
				continue
			}
			sec := findingSection{title: g.Title() + ", " + string(sem) + " gradient", g: g, fs: []analysis.Finding{analysis.Table2Findings(g, sem)}}
			switch ok, why := analysis.PaperBasis(g); {
			case !ok:
				sec.note = "The claim is about Table 2's protocol (164 epochs); " + why + ", so this check says what these runs show, not whether the paper reproduces.\n\n"
			case why != "":
				sec.note = "Note: " + why + ".\n\n"
			}
			secs = append(secs, sec)
		}
	}

	var b strings.Builder
	b.WriteString("# The poster's claims, checked against the runs\n\n")
	if note != "" {
		b.WriteString(note + "\n\n")
	}
	answerMarkdown(&b, secs)
	b.WriteString(analysis.FindingsRule + "\n\n")
	for _, sec := range secs {
		fmt.Fprintf(&b, "## %s\n\n", sec.title)
		b.WriteString(sec.note)
		b.WriteString("| claim | verdict |\n|---|---|\n")
		for _, f := range sec.fs {
			fmt.Fprintf(&b, "| %s | %s |\n", f.Claim, f.Verdict)
		}
		b.WriteString("\n")
		findingsMarkdown(&b, sec.fs)
	}
	if len(secs) == 0 {
		b.WriteString("No ConvNet-Quick dropout runs: nothing to check.\n")
	}
	return b.String()
}
