package train

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dropexp/dropexp/internal/diagnostics"
	"github.com/dropexp/dropexp/internal/results"
)

// Gradient diagnostics add passes but change nothing the run computes:
// metrics.csv is byte-identical with them on and off: plain (no sites),
// augmented (a backward mask of its own) and ResNet-20 under standard
// dropout (one mask tensor for both passes), whose BatchNorm running
// statistics the extra passes would otherwise move.
func TestDiagnosticsLeaveMetricsAlone(t *testing.T) {
	for _, tc := range []struct{ name string }{
		{"plain"}, {"augmented"}, {"resnet20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sets := []string{"dropout.variant=" + tc.name}
			switch tc.name {
			case "augmented":
				sets = append(sets, "dropout.ratio=0.3/0.05")
			case "resnet20":
				// Shorter: ResNet-20 steps are several times ConvNet-Quick's.
				sets = []string{"model=resnet20", "dropout.sites=*.conv2", "dropout.ratio=0.2", "train.lr=0.05", "train.lr_steps=", "dataset.preprocess=channel_norm",
					"train.iterations=6", "train.eval_every=3", "dataset.test_limit=20"}
			}
			off := tinyConfig(t, fixtureDir, sets...)
			on := tinyConfig(t, fixtureDir, append(sets, "diagnostics.every=4", "diagnostics.draws=3")...)
			a, b := filepath.Join(t.TempDir(), "off"), filepath.Join(t.TempDir(), "on")
			if _, err := runTo(t, off, a, false, nil); err != nil {
				t.Fatal(err)
			}
			sum, err := runTo(t, on, b, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ma, mb := read(t, filepath.Join(a, results.MetricsFile)), read(t, filepath.Join(b, results.MetricsFile)); !bytes.Equal(ma, mb) {
				t.Errorf("metrics.csv with diagnostics differs:\n%s\nwithout:\n%s", mb, ma)
			}
			if _, err := os.Stat(filepath.Join(a, results.DiagnosticsFile)); !os.IsNotExist(err) {
				t.Errorf("a run without diagnostics wrote %s (err %v)", results.DiagnosticsFile, err)
			}
			if sum.DiagnosticsSeconds <= 0 {
				t.Errorf("summary diagnostics_seconds = %v, want the time of the extra passes", sum.DiagnosticsSeconds)
			}
			rows, err := results.ReadDiagnostics(filepath.Join(b, results.DiagnosticsFile))
			if err != nil {
				t.Fatal(err)
			}
			its := map[int]bool{}
			for _, r := range rows {
				its[r.Iteration] = true
				if tc.name == "plain" && (r.Quantity == diagnostics.RelDev || r.Quantity == diagnostics.Noise) && r.Value != 0 {
					t.Errorf("plain: %s %s at %d = %g, want exactly 0 (every pass is the same pass)", r.Tensor, r.Quantity, r.Iteration, r.Value)
				}
			}
			if n := on.Train.Iterations / 4; len(its) != n || !its[4] {
				t.Errorf("diagnosed iterations %v, want every 4th (%d)", its, n)
			}
		})
	}
}

// copyAt copies the run's checkpoint aside when training reaches an
// iteration, then cancels at another, so a test can put the older
// checkpoint back as if the process had died in between.
type copyAt struct {
	dir          string
	copy, cancel int
	stop         func()
}

func (c *copyAt) Step(iter int, _ float64) {
	if iter == c.copy {
		b, _ := os.ReadFile(filepath.Join(c.dir, CheckpointFile))
		os.WriteFile(filepath.Join(c.dir, "older.gob"), b, 0o644)
	}
	if iter == c.cancel {
		c.stop()
	}
}
func (c *copyAt) Eval(int, float64, float64, float64, float64) {}
func (c *copyAt) Finish()                                      {}

// Interrupted and resumed, a run with diagnostics writes the same
// metrics.csv as one without and the same diagnostics.csv as one never
// interrupted: the checkpoint carries the diagnostics' mask stream and
// records. The run is "killed" after iteration 8 has written its files and
// resumes from the checkpoint of 6, so the diagnosed step 8 is computed
// again.
func TestDiagnosticsAcrossResume(t *testing.T) {
	off := tinyConfig(t, fixtureDir, "dropout.variant=backward")
	on := tinyConfig(t, fixtureDir, "dropout.variant=backward", "diagnostics.every=2", "diagnostics.draws=2")
	ref, plain := filepath.Join(t.TempDir(), "ref"), filepath.Join(t.TempDir(), "off")
	if _, err := runTo(t, on, ref, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := runTo(t, off, plain, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		copy, cancel int
	}{{"killed", 7, 8}} {
		dir := filepath.Join(t.TempDir(), tc.name)
		os.MkdirAll(dir, 0o755)
		ctx, cancel := context.WithCancel(context.Background())
		Run(ctx, Options{Config: on, Dir: dir, Progress: &copyAt{dir: dir, copy: tc.copy, cancel: tc.cancel, stop: cancel}})
		cancel()
		if tc.copy > 0 {
			if err := os.Rename(filepath.Join(dir, "older.gob"), filepath.Join(dir, CheckpointFile)); err != nil {
				t.Fatal(err)
			}
			if c, err := loadCheckpoint(filepath.Join(dir, CheckpointFile)); err != nil || c.Iteration != 6 {
				t.Fatalf("the older checkpoint is not of iteration 6 (%v)", err)
			}
		}
		if _, err := runTo(t, on, dir, true, nil); err != nil {
			t.Fatal(err)
		}
		if a, b := read(t, filepath.Join(plain, results.MetricsFile)), read(t, filepath.Join(dir, results.MetricsFile)); !bytes.Equal(a, b) {
			t.Errorf("%s: metrics.csv differs from the run without diagnostics:\n%s\nwant\n%s", tc.name, b, a)
		}
		if a, b := read(t, filepath.Join(ref, results.DiagnosticsFile)), read(t, filepath.Join(dir, results.DiagnosticsFile)); !bytes.Equal(a, b) {
			t.Errorf("%s: diagnostics.csv differs from the uninterrupted run's", tc.name)
		}
	}
}
