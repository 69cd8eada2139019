package sweep

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/results"
)

// TestSweepTrains runs a tiny real sweep: ConvNet-Quick on a synthetic
// CIFAR-10 in the official format, two runs in parallel, then again to see
// both skipped.
func TestSweepTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two small networks")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := datasettest.WriteCIFAR10(data, 200, 100, 1); err != nil {
		t.Fatal(err)
	}
	base := `
model: convnet-quick
dataset: {name: cifar10, path: ` + data + `}
dropout: {variant: standard, ratio: "0.3"}
train: {batch_size: 10, iterations: 4, lr: 0.001, eval_every: 2}
`
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(file, []byte("name: e2e\nbase: base.yaml\naxes: {variant: [plain, standard], ratio: [0.3], seed: [1]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSpec(file)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Expand(s, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sweep")
	var log bytes.Buffer
	rep, err := Execute(context.Background(), s, runs, Options{Dir: out, Jobs: 2, Cores: 2, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, r := range runs {
		rd := filepath.Join(out, RunsDir, r.Name)
		sum, err := results.ReadSummary(filepath.Join(rd, results.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		if sum.Status != results.StatusFinished || sum.TrainSize != 200 || sum.Threads != 1 {
			t.Errorf("%s: %+v", r.Name, sum)
		}
		m, err := results.ReadMetrics(filepath.Join(rd, results.MetricsFile))
		if err != nil || len(m) != 2 {
			t.Errorf("%s: metrics %v, %v", r.Name, m, err)
		}
	}
	if got := statuses(t, out); got[runs[0].Name] != Finished || got[runs[1].Name] != Finished {
		t.Errorf("index: %v", got)
	}
	rep, err = Execute(context.Background(), s, runs, Options{Dir: out, Jobs: 2, Cores: 2})
	if err != nil || rep.Err() != nil {
		t.Fatal(err, rep.Err())
	}
	for _, o := range rep.Outcomes {
		if o.Action != "skipped" {
			t.Errorf("%s: %s on the second sweep, want skipped", o.Run.Name, o.Action)
		}
	}
}
