package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/stats"
)

// The poster's claims about Table 1 (ConvNet-Quick), each checked against a
// group's runs with the rule of FindingsRule.

// Verdict is what the runs say about a claim or one check of it.
type Verdict string

// The verdicts.
const (
	Holds       Verdict = "holds"
	DoesNotHold Verdict = "does not hold"
	NotResolved Verdict = "not resolved at this n"
	NotRun      Verdict = "not run"
)

// Margin is the difference of test accuracy below which two cells count as
// indistinguishable: 0.2 points, the paper's own gain of backward dropout
// over plain at p = 0.005 (0.7599 − 0.7579), so that "indistinguishable"
// is narrower than the effects it is set against.
const Margin = 0.002

// UnderfitFactor is how much higher forward dropout's final training loss
// must be than standard's to count as underfitting.
const UnderfitFactor = 1.3

// FindingsRule states how a verdict is reached, for the top of findings.md.
var FindingsRule = fmt.Sprintf(`Rule. Every check is a two-sided t-test of a difference of means over seeds
(paired by seed when both cells ran the same seeds, Welch otherwise); the
p-values of all checks of one section form one family, adjusted by Holm's
method, and a check is significant when its adjusted p < %.2g. Its interval
is drawn at the level of the Holm step that decided it (1 − 0.05/k, k the
checks still in the family at that step), so it excludes 0 exactly when
the check is significant.

- "A beats B" (or "A is above B"): holds when A − B is significant and
  positive; does not hold when it is significant and negative; otherwise not
  resolved at this n.
- "A is indistinguishable from B": does not hold when A − B is significant;
  holds when the interval of A − B lies inside ±%.3g (%.1f points, the
  paper's own gain of backward over plain at p = 0.005); otherwise not
  resolved.
- "A does not beat B": does not hold when A − B is significant and positive;
  holds when the interval of A − B ends below +%.3g; otherwise not
  resolved.
- "A's training loss is at least %.1f× B's": the same as "beats" for
  loss(A) − %.1f·loss(B).

A claim holds when all its checks hold, does not hold when one of them does
not, and is otherwise not resolved; a check whose cells did not run, or ran
once (no spread to test against), is not run or not resolved and says so.
Test accuracy and training loss are the final ones of each run (training
loss: the running mean over the last evaluation interval).`,
	1-stats.Level, Margin, 100*Margin, Margin, UnderfitFactor, UnderfitFactor)

// Check is one test a claim rests on.
type Check struct {
	What   string     // in words, e.g. "forward beats backward (test accuracy)"
	Kind   checkKind  // what the comparison must show
	C      Comparison // of the two cells; valid when Ran
	Ran    bool       // both cells ran
	Note   string     // what did not run
	Metric string     // "test accuracy" or "training loss"
}

type checkKind int

const (
	positive      checkKind = iota // A − B > 0
	negative                       // A − B < 0
	equivalent                     // |A − B| < Margin
	notPositive                    // A − B < Margin
	UnderfitRatio                  // loss(A) − UnderfitFactor·loss(B) > 0 (sign as positive)
)

// Verdict applies FindingsRule to a check.
func (k Check) Verdict() Verdict {
	if !k.Ran {
		return NotRun
	}
	c := k.C
	if c.Err != nil {
		return NotResolved
	}
	sig, d := c.Significant(), c.Test.Diff
	lo, hi := c.HolmInterval()
	switch k.Kind {
	case positive, UnderfitRatio:
		return direction(sig, d > 0)
	case negative:
		return direction(sig, d < 0)
	case equivalent:
		switch {
		case sig:
			return DoesNotHold
		case lo > -Margin && hi < Margin:
			return Holds
		}
	case notPositive:
		switch {
		case sig && d > 0:
			return DoesNotHold
		case hi < Margin:
			return Holds
		}
	}
	return NotResolved
}

func direction(sig, right bool) Verdict {
	switch {
	case sig && right:
		return Holds
	case sig:
		return DoesNotHold
	}
	return NotResolved
}

// Finding is one of the poster's claims checked against a group's runs.
type Finding struct {
	ID        string // "a" to "e", in the order the claims are listed
	Claim     string
	Semantics string
	Checks    []Check
	Verdict   Verdict
}

// findings checks the poster's claims against the ConvNet-Quick cells of g
// under semantics sem, all checks one Holm family.
func Findings(g *Group, sem experiment.Semantics) []Finding {
	const (
		standard, forward, backward = experiment.Standard, experiment.Forward, experiment.Backward
	)
	plain := string(experiment.Plain)
	p3, p05, p005 := experiment.Ratio{P: 0.3}, experiment.Ratio{P: 0.05}, experiment.Ratio{P: 0.005}
	cell := func(v experiment.Variant, ratio experiment.Ratio) *CellRuns {
		return g.CellOrAlike(experiment.NewCell(v, ratio, sem)) // standard: one computation under either rule
	}
	mk := func(what, metric string, kind checkKind, a, b *CellRuns, an, bn string) Check {
		k := Check{What: what, Kind: kind, Metric: metric}
		var missing []string
		if a == nil {
			missing = append(missing, an)
		}
		if b == nil {
			missing = append(missing, bn)
		}
		if len(missing) > 0 {
			k.Note = strings.Join(missing, " and ") + " not run"
			return k
		}
		k.Ran = true
		f, scale := accOf, 1.0
		if metric == "training loss" {
			f = trainLossOf
		}
		if kind == UnderfitRatio {
			scale = UnderfitFactor
		}
		k.C = compare(a, b, f, scale)
		return k
	}
	name := func(v experiment.Variant, r experiment.Ratio) string {
		if c := cell(v, r); c != nil {
			return c.Name()
		}
		return experiment.NewCell(v, r, sem).String()
	}
	var fs []Finding
	// (a) forward at p = 0.3 underfits.
	f3, s3 := cell(forward, p3), cell(standard, p3)
	fs = append(fs, Finding{ID: "a", Claim: "(a) At p = 0.3 forward dropout underfits: its final training loss is at least 1.3× standard's, and its test accuracy is below standard's.",
		Checks: []Check{
			mk("forward's training loss ≥ 1.3 × standard's", "training loss", UnderfitRatio, f3, s3, name(forward, p3), name(standard, p3)),
			mk("forward's test accuracy below standard's", "test accuracy", negative, f3, s3, name(forward, p3), name(standard, p3)),
		}})
	// (b) standard beats forward at p ≥ 0.2, and (e) backward trains lower
	// than standard but does not beat it, at the large ratios the poster
	// speaks of: each such ratio that ran (0.3 and 0.2 when none did).
	large := largeRatios(g, sem)
	var b, e []Check
	for _, r := range large {
		s, fw, bw := cell(standard, r), cell(forward, r), cell(backward, r)
		b = append(b, mk("standard beats forward at p = "+r.String(), "test accuracy", positive, s, fw, name(standard, r), name(forward, r)))
		e = append(e,
			mk("backward's training loss below standard's at p = "+r.String(), "training loss", negative, bw, s, name(backward, r), name(standard, r)),
			mk("backward does not beat standard at p = "+r.String(), "test accuracy", notPositive, bw, s, name(backward, r), name(standard, r)))
	}
	fs = append(fs, Finding{ID: "b", Claim: "(b) At p ≥ 0.2 standard dropout beats forward dropout.", Checks: b})
	// (c) at p = 0.05.
	f05, b05 := cell(forward, p05), cell(backward, p05)
	fs = append(fs, Finding{ID: "c", Claim: "(c) At p = 0.05 forward and backward dropout are a little better than plain, and forward beats backward.",
		Checks: []Check{
			mk("forward beats plain at p = 0.05", "test accuracy", positive, f05, g.Plain, name(forward, p05), plain),
			mk("backward beats plain at p = 0.05", "test accuracy", positive, b05, g.Plain, name(backward, p05), plain),
			mk("forward beats backward at p = 0.05", "test accuracy", positive, f05, b05, name(forward, p05), name(backward, p05)),
		}})
	// (d) at p = 0.005.
	f005, b005 := cell(forward, p005), cell(backward, p005)
	fs = append(fs, Finding{ID: "d", Claim: "(d) At p = 0.005 backward dropout beats plain, while forward dropout is indistinguishable from plain.",
		Checks: []Check{
			mk("backward beats plain at p = 0.005", "test accuracy", positive, b005, g.Plain, name(backward, p005), plain),
			mk("forward indistinguishable from plain at p = 0.005", "test accuracy", equivalent, f005, g.Plain, name(forward, p005), plain),
		}})
	fs = append(fs, Finding{ID: "e", Claim: "(e) Backward dropout reaches a lower training loss than standard dropout but does not beat it on the test set (at the large ratios, p ≥ 0.2).", Checks: e})

	// One Holm family over every check that has a test.
	var fam []Comparison
	for _, f := range fs {
		for _, k := range f.Checks {
			if k.Ran {
				fam = append(fam, k.C)
			}
		}
	}
	holm(fam)
	i := 0
	for fi := range fs {
		fs[fi].Semantics = string(sem)
		for ki := range fs[fi].Checks {
			if fs[fi].Checks[ki].Ran {
				fs[fi].Checks[ki].C = fam[i]
				i++
			}
		}
		fs[fi].Verdict = combine(fs[fi].Checks)
	}
	return fs
}

// largeRatios returns the ratios ≥ 0.2 of sem that ran in g, or the
// paper's 0.3 and 0.2 when none did (so the claim reads "not run").
func largeRatios(g *Group, sem experiment.Semantics) []experiment.Ratio {
	var rs []experiment.Ratio
	for _, c := range g.Cells {
		if c.Semantics == sem && c.Ratio.P >= 0.2 && slices.Contains(Table1Variants[:], c.Variant) {
			if !slices.Contains(rs, c.Ratio) {
				rs = append(rs, c.Ratio)
			}
		}
	}
	if len(rs) == 0 {
		return []experiment.Ratio{{P: 0.3}, {P: 0.2}}
	}
	sortRatios(rs)
	return rs
}

// combine is a claim's verdict from its checks' (FindingsRule). Checks
// that did not run do not decide, unless none ran.
func combine(ks []Check) Verdict {
	ran, holds := 0, 0
	for _, k := range ks {
		switch k.Verdict() {
		case DoesNotHold:
			return DoesNotHold
		case Holds:
			holds++
		}
		if k.Ran {
			ran++
		}
	}
	switch {
	case ran == 0:
		return NotRun
	case holds == ran:
		return Holds
	}
	return NotResolved
}
