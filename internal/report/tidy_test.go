package report

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
)

// lrRun is a finished ConvNet-Quick run of a sweep over train.lr, named as the sweep names it.
func lrRun(variant, ratio string, seed int64, lr string, acc float64) fakeRun {
	return with(cq(variant, ratio, seed, acc), func(r *fakeRun) {
		r.suffix = "-lr" + lr
		r.edit = func(c *config.Run) { c.Train.LR, _ = strconv.ParseFloat(lr, 64); c.Dataset.TrainLimit = 1000 }
	})
}

// lrSweep is a sweep over train.lr with one unfinished run.
var lrSweep = []fakeRun{
	lrRun("standard", "0.3", 1, "0.001", 0.70), lrRun("standard", "0.3", 2, "0.001", 0.71),
	lrRun("standard", "0.3", 1, "0.01", 0.60), lrRun("standard", "0.3", 2, "0.01", 0.62),
	with(lrRun("standard", "0.3", 3, "0.01", 0.99), func(r *fakeRun) { r.status = results.StatusRunning }),
}

// TestRunsCSVReadsBack reads runs.csv as pandas or R would: one header,
// the swept keys as columns, one row per run, iteration and metric.
func TestRunsCSVReadsBack(t *testing.T) {
	dir, _ := collect(t, lrSweep)
	out := t.TempDir()
	for _, partial := range []bool{false, true} {
		if _, _, err := Write(Options{In: []string{dir}, Out: out, Partial: partial}); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(out, RunsCSV))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"run", "status", "dropout.variant", "dropout.ratio", "dropout.gradient", "seed", "train.lr", "iteration", "metric", "value"}
		if !slices.Equal(rows[0], want) {
			t.Fatalf("header %q, want %q", rows[0], want)
		}
		runs := 4
		if partial {
			runs = 5
		}
		// 3 evaluations × 4 metrics per run.
		if len(rows)-1 != runs*3*4 {
			t.Errorf("partial %v: %d rows, want %d", partial, len(rows)-1, runs*3*4)
		}
		col := func(name string) int { return slices.Index(rows[0], name) }
		found, unfinished := false, 0
		for _, r := range rows[1:] {
			if len(r) != len(want) {
				t.Fatalf("row %q has %d fields", r, len(r))
			}
			if r[col("status")] == results.StatusRunning {
				unfinished++
			}
			if r[col("run")] == "standard-p0.3-layer-s2-lr0.01" && r[col("iteration")] == "300" && r[col("metric")] == "test_acc" {
				found = true
				if r[col("train.lr")] != "0.01" || r[col("seed")] != "2" || r[col("dropout.ratio")] != "0.3" || r[col("value")] != "0.62" {
					t.Errorf("row %q", r)
				}
			}
		}
		if !found {
			t.Errorf("no test_acc row of standard-p0.3-layer-s2-lr0.01 at iteration 300")
		}
		if partial != (unfinished == 12) || !partial && unfinished != 0 {
			t.Errorf("partial %v: %d rows of the unfinished run", partial, unfinished)
		}
	}
}

func TestSweptKeys(t *testing.T) {
	_, c := collect(t, append(slices.Clone(lrSweep[:4]), with(lrRun("standard", "0.3", 1, "0.1", 0.5), func(r *fakeRun) {
		prev := r.edit
		r.edit = func(c *config.Run) { prev(c); c.Train.BatchSize = 50; c.Threads = 2; c.Out = "elsewhere" }
	})))
	got := sweptKeys(c.Runs)
	// Where and how fast a run went (threads, out) is no swept key.
	want := []string{"dropout.variant", "dropout.ratio", "dropout.gradient", "seed", "train.batch_size", "train.lr"}
	if !slices.Equal(got, want) {
		t.Errorf("sweptKeys = %q, want %q", got, want)
	}
}

// Unfinished runs are drawn, dashed and with their iteration, and enter no statistic.
func TestPartialRunsStayOutOfTheStatistics(t *testing.T) {
	dir, _ := collect(t, lrSweep)
	out := t.TempDir()
	_, c, err := Write(Options{In: []string{dir}, Out: out, Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Partial) != 1 || len(c.Runs) != 4 {
		t.Fatalf("%d partial, %d finished", len(c.Partial), len(c.Runs))
	}
	csvText, _ := os.ReadFile(filepath.Join(out, Table1CSV))
	if strings.Contains(string(csvText), "0.99") || !strings.Contains(string(csvText), "standard,0.3,layer,2,0.610000,") {
		t.Errorf("the unfinished run's accuracy reached the table:\n%s", csvText)
	}
	groups, _ := analysis.Groups(append(slices.Clone(c.Runs), c.Partial...))
	var drawn []curve
	for _, g := range groups {
		drawn = append(drawn, lossCurves(g, "layer", 0.3)...)
	}
	var partial []string
	for _, cv := range drawn {
		if cv.partial {
			partial = append(partial, cv.label)
		} else if len(cv.runs) != 2 {
			t.Errorf("curve %q averages %d runs, want the 2 finished ones", cv.label, len(cv.runs))
		}
	}
	if !slices.Equal(partial, []string{"standard 0.3 s3, at iteration 300 of 5000"}) {
		t.Errorf("partial curves %q", partial)
	}
	page, _ := os.ReadFile(filepath.Join(out, IndexHTML))
	if !strings.Contains(string(page), "unfinished (running), at iteration 300 of 5000") {
		t.Errorf("index.html does not mark the unfinished run")
	}
}

// The runs of a sweep over a key are one table each, and side by side in
// the settings figure, the key in its legend.
func TestSettingsFigure(t *testing.T) {
	_, c := collect(t, lrSweep[:4])
	fig := SettingsFigure(c.Runs)
	if len(fig.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(fig.Rows))
	}
	if r := fig.Rows[0]; !strings.Contains(r.Title, "standard 0.3, layer gradient: by setting") || len(r.Panels) != 3 {
		t.Errorf("row %q with %d panels", r.Title, len(r.Panels))
	}
	groups, _ := analysis.Groups(c.Runs)
	var labels []string
	for _, g := range groups {
		labels = append(labels, g.Label)
	}
	slices.Sort(labels)
	if !slices.Equal(labels, []string{"train.lr=0.001", "train.lr=0.01"}) {
		t.Errorf("group labels %q", labels)
	}
	if _, c1 := collect(t, lrSweep[:2]); len(SettingsFigure(c1.Runs).Rows) != 0 {
		t.Errorf("a settings figure for runs of one setting")
	}
}
