package runner

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/results"
)

// demoConfig is the embedded demo shrunk to a few iterations on an MNIST fixture.
func demoConfig(t *testing.T, lr float64) config.Run {
	t.Helper()
	data := t.TempDir()
	if err := datasettest.WriteMNIST(data, 100, 20, 3); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Dataset.Path, cfg.Out, cfg.Threads = data, t.TempDir(), 1
	cfg.Dataset.TestLimit = 0
	cfg.Train.BatchSize, cfg.Train.Iterations, cfg.Train.EvalEvery, cfg.Train.LRSteps = 20, 4, 2, nil
	cfg.Train.LR = lr
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The demo trains every variant and prints one table row each; a variant
// whose loss blows up is a row saying so, not the end of the demo.
func TestDemo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lr       float64
		diverged bool
	}{{"trains every variant", 0.001, false}, {"goes on past diverged variants", 1e30, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := demoConfig(t, tc.lr)
			var out, errOut bytes.Buffer
			if err := Demo(context.Background(), cfg, &out, &errOut); err != nil {
				t.Fatalf("Demo: %v\n%s", err, errOut.String())
			}
			for _, v := range DemoVariants {
				row := ""
				for _, l := range strings.Split(out.String(), "\n") {
					if strings.HasPrefix(l, "| "+string(v)+" ") {
						row = l
					}
				}
				if row == "" {
					t.Fatalf("no table row for %s in:\n%s", v, out.String())
				}
				if got := strings.Contains(row, "diverged"); got != tc.diverged {
					t.Errorf("%s row %q: diverged = %v, want %v", v, row, got, tc.diverged)
				}
			}
			if !strings.Contains(out.String(), "\nReading: ") || !strings.Contains(errOut.String(), "data: loading mnist") {
				t.Errorf("no reading of the table, or no loading line:\n%s\n%s", out.String(), errOut.String())
			}
			if tc.diverged {
				dirs, _ := filepath.Glob(filepath.Join(cfg.Out, "*", results.SummaryFile))
				if len(dirs) != len(DemoVariants) {
					t.Errorf("%d run summaries written, want %d", len(dirs), len(DemoVariants))
				}
				if !strings.Contains(errOut.String(), "demo: run ") {
					t.Errorf("the divergence was not reported on stderr:\n%s", errOut.String())
				}
			}
		})
	}
}
