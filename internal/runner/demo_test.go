package runner

import (
	"math"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

func TestExploded(t *testing.T) {
	for _, tc := range []struct {
		loss    float64
		classes int
		want    bool
	}{
		{2.3, 10, false},
		{2000, 10, false}, // 1000 × ln 10 = 2302.6
		{2400, 10, true},
		{3.6e32, 10, true},
		{math.NaN(), 10, true},
		{math.Inf(1), 100, true},
		{4000, 100, false}, // 1000 × ln 100 = 4605
		{800, 1, true},     // fewer than 2 classes: ln 2
	} {
		if got := Exploded(tc.loss, tc.classes); got != tc.want {
			t.Errorf("Exploded(%g, %d) = %v, want %v", tc.loss, tc.classes, got, tc.want)
		}
	}
}

func TestDivergedAt(t *testing.T) {
	rows := []results.Metric{{Iteration: 100, TrainLoss: 8, TestLoss: 16}, {Iteration: 200, TrainLoss: 5, TestLoss: 3e5}, {Iteration: 300, TrainLoss: math.NaN(), TestLoss: 1}}
	if got := divergedAt(results.Summary{Status: results.StatusFinished}, rows, 10); got != 200 {
		t.Errorf("exploded test loss: %d, want 200", got)
	}
	if got := divergedAt(results.Summary{Status: results.StatusDiverged, DivergedAt: 126}, rows[:1], 10); got != 126 {
		t.Errorf("stopped by the trainer: %d, want 126", got)
	}
	if got := divergedAt(results.Summary{Status: results.StatusFinished}, rows[:1], 10); got != 0 {
		t.Errorf("finite losses: %d, want 0", got)
	}
}

func demoRows(train [4]float64) []DemoRow {
	var rows []DemoRow
	for i, v := range DemoVariants {
		r := DemoRow{Variant: v, Ratio: "0.3", Summary: results.Summary{Status: results.StatusFinished, FinalTestAcc: 0.9, FinalTestLoss: 0.3, FinalTrainLoss: train[i]}}
		if v == experiment.Plain {
			r.Ratio = "–"
		}
		rows = append(rows, r)
	}
	return rows
}

func TestDemoTable(t *testing.T) {
	rows := demoRows([4]float64{0.1491, 0.3722, 0.9, 0.166})
	rows[2].Summary.FinalTrainLoss, rows[2].Summary.FinalTestLoss = 3.6e32, 9.07e33
	rows[2].DivergedAt = 200
	want := `| variant  | ratio | test_acc        | test_loss | train_loss |
|----------|-------|-----------------|-----------|------------|
| plain    | –     | 0.9000          | 0.3000    | 0.1491     |
| standard | 0.3   | 0.9000          | 0.3000    | 0.3722     |
| forward  | 0.3   | diverged at 200 | –         | –          |
| backward | 0.3   | 0.9000          | 0.3000    | 0.1660     |`
	if got := DemoTable(rows); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDemoReading(t *testing.T) {
	for _, tc := range []struct {
		name     string
		train    [4]float64 // plain, standard, forward, backward
		diverged int        // DivergedAt of forward
		want     string
	}{
		{"the paper's order", [4]float64{0.15, 0.37, 0.8, 0.17}, 0,
			"Reading: as in the paper's Figure 1, forward dropout underfits: its final training loss (0.8) is the highest, 2.16× standard's (0.37); plain (0.15) and backward (0.17) reach the lowest: backward, which drops only errors, trains below standard."},
		{"narrowly", [4]float64{0.15, 0.37, 0.39, 0.17}, 0,
			"Reading: the paper's order holds, but narrowly: forward's final training loss (0.39) is only 1.05× standard's (0.37), within what another seed can move; plain 0.15, backward 0.17."},
		{"forward below standard", [4]float64{0.15, 0.37, 0.3, 0.17}, 0,
			"Reading: the paper's order of final training losses (forward highest, then standard, then plain and backward) does not hold here: standard 0.37 > forward 0.3 > backward 0.17 > plain 0.15."},
		{"backward above standard", [4]float64{0.15, 0.37, 0.8, 0.4}, 0,
			"Reading: the paper's order of final training losses (forward highest, then standard, then plain and backward) does not hold here: forward 0.8 > backward 0.4 > standard 0.37 > plain 0.15."},
		{"diverged", [4]float64{0.15, 0.37, 0.8, 0.17}, 126,
			"Reading: forward diverged at iteration 126 (its loss exploded), so the paper's order of training losses cannot be checked; lower train.lr or dropout.ratio."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := demoRows(tc.train)
			rows[2].DivergedAt = tc.diverged
			if got := DemoReading(rows); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if got := DemoReading(demoRows([4]float64{1, 2, 3, 1})[1:]); !strings.Contains(got, "needs plain") {
		t.Errorf("without plain: %s", got)
	}
}
