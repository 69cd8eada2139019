package report

import (
	"math"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
)

func TestAugmentedNoise(t *testing.T) {
	nan := math.NaN()
	row := func(data, variant, ratio string, n int, noise, end, gap, acc float64) analysis.NoiseRow {
		c, err := experiment.ParseCell(variant, ratio, "layer")
		if err != nil {
			t.Fatal(err)
		}
		return analysis.NoiseRow{Model: analysis.Table2Model, Dataset: "imagefolder", Data: data, Semantics: "layer", Cell: c, N: n,
			Noise: noise, NoiseStd: 0.01, NoiseEnd: end, NoiseEndStd: nan, Gap: gap, GapStd: 0.002, TestAcc: acc}
	}
	rows := []analysis.NoiseRow{
		row("CIFAR-10", "plain", "", 3, 0, 0, 0.2, 0.90),
		row("CIFAR-10", "standard", "0.1", 3, 0.2, 0.3, 0.1, 0.91),
		row("CIFAR-10", "standard", "0.2", 3, 0.3, 0.4, 0.09, 0.91),
		row("CIFAR-10", "augmented", "0.1/0.0001", 2, 0.5, 0.6, 0.05, 0.92),
		row("CIFAR-10", "augmented", "0.3/0.0001", 2, 0.5, 0.6, 0.05, 0.92), // no standard at 0.3
		row("SVHN", "standard", "0.1", 3, 9, 9, 9, 0.96),                    // another data set: no pair
	}
	md := augmentedNoiseMarkdown(rows)
	want := "| CIFAR-10 | 0.1 | 0.1/0.0001 | 3 / 2 | 0.2 ± 0.01 → 0.5 ± 0.01 | 2.5 | 0.3 → 0.6 | 2 | 0.1 ± 0.002 → 0.05 ± 0.002 | 0.9100 → 0.9200 |\n"
	if !strings.Contains(md, want) || strings.Count(md, "\n| CIFAR-10") != 1 || strings.Contains(md, "SVHN") {
		t.Errorf("got\n%s\nwant the one row\n%s", md, want)
	}
	if got := augmentedNoiseMarkdown(rows[:3]); got != "" {
		t.Errorf("without augmented rows: %q", got)
	}
}

// A budgeted protocol (shorter, another schedule) keeps the paper's
// column, marked as the full protocol's; any other change drops it.
func TestTable2BudgetKeepsThePaperColumn(t *testing.T) {
	budget := func(r fakeRun) fakeRun {
		r.edit = func(c *config.Run) {
			c.Train.Iterations, c.Train.LRSchedule, c.Train.LRSteps = 5860, "linear", nil
		}
		return r
	}
	other := func(r fakeRun) fakeRun {
		r.edit = func(c *config.Run) {
			c.Train.Iterations, c.Train.LRSchedule, c.Train.LRSteps, c.Train.Momentum = 5860, "linear", nil, 0.5
		}
		return r
	}
	for _, tc := range []struct {
		name      string
		edit      func(fakeRun) fakeRun
		want, not string
	}{
		{"budget", budget, "| standard | 0.1 | layer | 0.9000 | [0.8752, 0.9248] | 0.9193 |", "No paper column"},
		{"another solver", other, "No paper column: the runs do not follow the paper's protocol", "| 0.9193 |"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []fakeRun
			for s, acc := range []float64{0.89, 0.90, 0.91} {
				runs = append(runs, tc.edit(resnet("cifar10", "standard", "0.1", int64(s+1), acc)))
			}
			_, c := collect(t, runs)
			groups, _ := analysis.Groups(c.Runs)
			md := TableMarkdown(analysis.BuildTable(analysis.Table2Model, groups), "")
			if !strings.Contains(md, tc.want) || strings.Contains(md, tc.not) {
				t.Errorf("want %q and not %q in\n%s", tc.want, tc.not, md)
			}
			if tc.name == "budget" && !strings.Contains(md, "Note: the paper's values are its full protocol's") {
				t.Errorf("the paper column is not marked as the full protocol's:\n%s", md)
			}
		})
	}
}
