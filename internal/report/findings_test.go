package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
)

// claimRuns is a Table 1 grid on which the poster's claims (a)–(e) all
// hold with 5 seeds, and claimRunsAgainst one on which (a), (c) and (d)
// clearly do not.
func claimRuns(against bool) []fakeRun {
	var runs []fakeRun
	noise := []float64{0.0004, -0.0003, 0.0001, -0.0002, 0}
	cell := 0
	add := func(variant, ratio string, acc, loss float64) {
		// Each cell its own size of the noise, so differences vary by seed.
		for i := range noise {
			e := noise[(i+cell)%len(noise)] * (1 + 0.3*float64(cell))
			r := full(cq(variant, ratio, int64(i+1), acc+e))
			r.loss = loss + 2*e
			runs = append(runs, r)
		}
		cell++
	}
	add("plain", "", 0.7500, 0.50)
	if !against {
		add("standard", "0.3", 0.7450, 0.90)
		add("forward", "0.3", 0.6900, 1.40) // 1.56 × standard's loss
		add("backward", "0.3", 0.7400, 0.70)
		add("standard", "0.2", 0.7600, 0.80)
		add("forward", "0.2", 0.7200, 1.10)
		add("backward", "0.2", 0.7550, 0.60)
		add("forward", "0.05", 0.7600, 0.55)
		add("backward", "0.05", 0.7550, 0.52)
		add("forward", "0.005", 0.7501, 0.50)
		add("backward", "0.005", 0.7550, 0.50)
	} else {
		add("standard", "0.3", 0.7450, 0.90)
		add("forward", "0.3", 0.7500, 1.00) // 1.11 × standard's loss, and more accurate
		add("forward", "0.05", 0.7400, 0.55)
		add("backward", "0.05", 0.7450, 0.52)
		add("forward", "0.005", 0.7600, 0.50)
		add("backward", "0.005", 0.7550, 0.50)
	}
	return runs
}

func TestFindings(t *testing.T) {
	elementwise := func(r fakeRun) fakeRun { r.semantics = "elementwise"; return r }
	for _, tc := range []struct {
		name string
		sem  string
		runs []fakeRun
		want map[string]analysis.Verdict
		text []string
	}{
		{"claims hold", "layer", claimRuns(false), map[string]analysis.Verdict{"a": analysis.Holds, "b": analysis.Holds, "c": analysis.Holds, "d": analysis.Holds, "e": analysis.Holds},
			[]string{"Mean final training loss: forward 1.4000, standard 0.9000 (ratio 1.56).", "| standard beats forward at p = 0.2 | standard/0.2/layer | forward/0.2/layer | paired | 5 pairs | +0.0400 |"}},
		{"claims do not hold", "layer", claimRuns(true), map[string]analysis.Verdict{"a": analysis.DoesNotHold, "b": analysis.DoesNotHold, "c": analysis.DoesNotHold, "d": analysis.DoesNotHold, "e": analysis.NotRun},
			[]string{"| forward indistinguishable from plain at p = 0.005 | forward/0.005/layer | plain |", "Not run: backward's training loss below standard's at p = 0.3 (backward/0.3/layer not run)"}},
		{"two seeds", "layer", []fakeRun{
			full(cq("standard", "0.3", 1, 0.712)), full(cq("standard", "0.3", 2, 0.7121)),
			full(cq("forward", "0.3", 1, 0.6227)), full(cq("forward", "0.3", 2, 0.6335)),
		}, map[string]analysis.Verdict{"a": analysis.NotResolved, "b": analysis.NotResolved, "c": analysis.NotRun, "d": analysis.NotRun, "e": analysis.NotRun}, nil},
		// Standard has one rule: the elementwise claims meet its layer runs.
		{"elementwise", "elementwise", []fakeRun{
			full(cq("plain", "", 1, 0.750)), full(cq("plain", "", 2, 0.752)), full(cq("plain", "", 3, 0.749)),
			full(cq("standard", "0.3", 1, 0.712)), full(cq("standard", "0.3", 2, 0.7121)), full(cq("standard", "0.3", 3, 0.715)),
			elementwise(full(cq("forward", "0.3", 1, 0.6227))), elementwise(full(cq("forward", "0.3", 2, 0.6335))), elementwise(full(cq("forward", "0.3", 3, 0.6301))),
		}, map[string]analysis.Verdict{"a": analysis.DoesNotHold, "b": analysis.Holds, "c": analysis.NotRun, "d": analysis.NotRun, "e": analysis.NotRun}, // loss 1.5 − acc: 1.11× standard's
			[]string{"| forward's test accuracy below standard's | forward/0.3/elementwise | standard/0.3/layer | paired | 3 pairs | -0.0843 |",
				"| standard beats forward at p = 0.3 | standard/0.3/layer | forward/0.3/elementwise | paired | 3 pairs | +0.0843 |"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := collect(t, tc.runs)
			groups, _ := analysis.Groups(c.Runs)
			if len(groups) != 1 {
				t.Fatalf("%d groups", len(groups))
			}
			for _, f := range analysis.Findings(groups[0], experiment.Semantics(tc.sem)) {
				if f.Verdict != tc.want[f.ID] {
					var b strings.Builder
					findingsMarkdown(&b, []analysis.Finding{f})
					t.Errorf("(%s): %s, want %s\n%s", f.ID, f.Verdict, tc.want[f.ID], b.String())
				}
			}
			doc := findingsDoc("", groups)
			for _, w := range append(tc.text, "Rule. Every check is a two-sided t-test") {
				if !strings.Contains(doc, w) {
					t.Errorf("findings.md lacks %q\n%s", w, doc)
				}
			}
			if strings.Contains(doc, "NaN") {
				t.Errorf("findings.md prints NaN\n%s", doc)
			}
		})
	}
}

func TestFindingsWithoutConvNetQuick(t *testing.T) {
	_, c := collect(t, []fakeRun{resnet("svhn", "plain", "", 1, 0.95)})
	groups, _ := analysis.Groups(c.Runs)
	if doc := findingsDoc("", groups); !strings.Contains(doc, "No ConvNet-Quick dropout runs: nothing to check.") {
		t.Errorf("findings.md:\n%s", doc)
	}
	_ = results.StatusFinished
}

// table2Runs is standard against augmented on the JPEG-size CIFAR-10 with
// 4 seeds; augmented is ahead by gain[i] at table2Ratios[i].
func table2Runs(gain [3]float64) []fakeRun {
	var runs []fakeRun
	noise := []float64{0.0006, -0.0004, 0.0001, -0.0003}
	for i, p := range analysis.Table2Ratios {
		for s := range noise {
			e := noise[(s+i)%len(noise)]
			runs = append(runs,
				resnet("cifar10", "standard", p.String(), int64(s+1), 0.90+e),
				resnet("cifar10", "augmented", p.String()+"/0.0001", int64(s+1), 0.90+gain[i]+e/2))
		}
	}
	return runs
}

func TestTable2Findings(t *testing.T) {
	only01 := slices.DeleteFunc(table2Runs([3]float64{0.01, 0.01, 0.01}), func(r fakeRun) bool { return r.ratio != "0.1" && r.ratio != "0.1/0.0001" })
	for _, tc := range []struct {
		name string
		runs []fakeRun
		want analysis.Verdict
		text []string
	}{
		{"augmented ahead at every ratio", table2Runs([3]float64{0.01, 0.012, 0.008}), analysis.Holds,
			[]string{"| augmented beats standard at p = 0.2 | augmented/0.2/0.0001/layer | standard/0.2/layer | paired | 4 pairs | +0.0120 |"}},
		{"behind at one ratio", table2Runs([3]float64{0.01, -0.01, 0.008}), analysis.DoesNotHold, nil},
		{"level at one ratio", table2Runs([3]float64{0.01, 0, 0.008}), analysis.NotResolved, nil},
		{"one ratio ran", only01, analysis.Holds,
			[]string{"Verdict: **holds** for what ran", "| augmented beats standard at p = 0.3 | – | – | – | – | – | – | – | – | not run: augmented at p = 0.3 not run |"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := collect(t, tc.runs)
			groups, _ := analysis.Groups(c.Runs)
			if len(groups) != 1 {
				t.Fatalf("%d groups", len(groups))
			}
			f := analysis.Table2Findings(groups[0], "layer")
			if f.Verdict != tc.want {
				var b strings.Builder
				findingsMarkdown(&b, []analysis.Finding{f})
				t.Errorf("%s, want %s\n%s", f.Verdict, tc.want, b.String())
			}
			doc := findingsDoc("", groups)
			for _, w := range append(tc.text, "## ResNet-20 on CIFAR-10, layer gradient", "| "+analysis.Table2Claim+" | "+string(tc.want)+" |", analysis.Table2Claim) {
				if !strings.Contains(doc, w) {
					t.Errorf("findings.md lacks %q\n%s", w, doc)
				}
			}
			if strings.Contains(doc, "NaN") || strings.Contains(doc, "No ConvNet-Quick dropout runs") {
				t.Errorf("findings.md:\n%s", doc)
			}
		})
	}
}

// A sweep that ran none of the claims' cells gets, in the answer, the
// comparisons it did run; an open check, the seeds that would settle it.
func TestAnswer(t *testing.T) {
	var runs []fakeRun
	for s, e := range []float64{0.001, -0.002, 0.0005} {
		runs = append(runs, full(cq("forward", "0.1", int64(s+1), 0.74+e)), full(cq("backward", "0.1", int64(s+1), 0.73+e/2)))
	}
	_, c := collect(t, runs)
	groups, _ := analysis.Groups(c.Runs)
	doc := findingsDoc("", groups)
	for _, w := range []string{"## The answer\n", "None of the claims' cells ran; the comparisons that did (test accuracy, one Holm family):",
		"  - forward/0.1/layer − backward/0.1/layer = +0.0099, ", ": significant\n", "- Not run: (a), (b), (c), (d), (e)"} {
		if !strings.Contains(doc, w) {
			t.Errorf("findings.md lacks %q\n%s", w, doc)
		}
	}

	_, c = collect(t, claimRuns(false)[:20]) // plain, standard, forward and backward at 0.3 with 5 seeds
	groups, _ = analysis.Groups(c.Runs)
	doc = findingsDoc("", groups)
	for _, w := range []string{"- **(a) Forward dropout at p = 0.3 underfits: holds with 5 seeds per cell.** forward's training loss ≥ 1.3 × standard's holds (a − b = ",
		"| check | a | b | test | n | a − b | interval (Holm level) | p | p (Holm) | verdict | seeds to resolve |"} {
		if !strings.Contains(doc, w) {
			t.Errorf("findings.md lacks %q\n%s", w, doc)
		}
	}

	// A grid still running: forward at 0.3 has 4 of standard's 5 seeds.
	_, c = collect(t, claimRuns(false)[:14])
	groups, _ = analysis.Groups(c.Runs)
	doc = findingsDoc("", groups)
	if w := " with 4–5 seeds per cell.**"; !strings.Contains(doc, "- **(a) Forward dropout at p = 0.3 underfits: ") || !strings.Contains(doc, w) {
		t.Errorf("findings.md lacks claim (a) checked %q\n%s", w, doc)
	}
}
