package train

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/threads"
)

// A checkpoint with one flipped byte anywhere (header, payload, last byte)
// is refused with ErrCheckpoint, the file is kept as it was, and nothing of
// the run is written; once the byte is back, the resume ends with the
// metrics of a run never interrupted.
func TestFlippedByteInCheckpoint(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := runTo(t, cfg, ref, false, nil); err != nil {
		t.Fatal(err)
	}
	want := read(t, filepath.Join(ref, results.MetricsFile))
	dir := interruptedRun(t, cfg, 5)
	ck := filepath.Join(dir, CheckpointFile)
	good := read(t, ck)
	metrics := read(t, filepath.Join(dir, results.MetricsFile))
	rng := rand.New(rand.NewPCG(uint64(len(good)), 3))
	positions := []int{0, 10, len(checkpointMagic) + 3, len(checkpointMagic) + 64, len(checkpointMagic) + 70, len(good) - 1}
	for range 12 {
		positions = append(positions, rng.IntN(len(good)))
	}
	for _, pos := range positions {
		bad := bytes.Clone(good)
		bad[pos] ^= 1 << rng.IntN(8)
		if err := os.WriteFile(ck, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := runTo(t, cfg, dir, true, nil)
		if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "the file is kept") {
			t.Errorf("byte %d of %d flipped: err = %v, want ErrCheckpoint", pos, len(good), err)
		}
		if got := read(t, ck); !bytes.Equal(got, bad) {
			t.Errorf("byte %d flipped: the damaged checkpoint was not kept as it was", pos)
		}
		if got := read(t, filepath.Join(dir, results.MetricsFile)); !bytes.Equal(got, metrics) {
			t.Errorf("byte %d flipped: metrics.csv was rewritten:\n%s", pos, got)
		}
	}
	if err := os.WriteFile(ck, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runTo(t, cfg, dir, true, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, results.MetricsFile)); !bytes.Equal(got, want) {
		t.Errorf("resumed from the intact checkpoint: metrics.csv\n%s\nwant\n%s", got, want)
	}
}

// rewrite decodes the checkpoint at path, edits it and writes it back with
// a valid checksum: what a bug, rather than a damaged disk, would write.
func rewrite(t *testing.T, path string, edit func(*checkpoint)) {
	t.Helper()
	c, err := loadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(c)
	data, err := encodeCheckpoint(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A checkpoint whose bookkeeping does not add up, or that disagrees with
// the run's metrics.csv, is refused: no resume writes iterations twice.
func TestCheckpointMustAgreeWithTheRun(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir) // evaluations at 4, 8, 12; interrupted at 9 after the checkpoint of 9
	interrupted := interruptedRun(t, cfg, 9)
	for _, tc := range []struct {
		name string
		edit func(dir string, c *checkpoint)
		want string
	}{
		{"iteration reset to 0", func(_ string, c *checkpoint) { c.Iteration = 0 }, "2 metrics rows at iteration 0"},
		{"iteration moved on", func(_ string, c *checkpoint) { c.Iteration = 10 }, "the running loss counts 1 iterations"},
		{"iteration past the end", func(_ string, c *checkpoint) { c.Iteration = 40 }, "iteration 40 outside 0..11"},
		{"a metrics row lost", func(_ string, c *checkpoint) { c.Rows, c.Timing = c.Rows[:1], c.Timing[:1] }, "1 metrics rows at iteration 9"},
		{"data position", func(_ string, c *checkpoint) { c.Pos += 10 }, "data position epoch"},
		{"data position past the data", func(_ string, c *checkpoint) { c.Pos = 5000 }, "data position epoch"},
		{"non-finite weights", func(_ string, c *checkpoint) {
			for k := range c.Params {
				c.Params[k][0] = float32(math.NaN())
				break
			}
		}, "are not finite"},
		{"metrics.csv of another run", func(dir string, c *checkpoint) {
			rows := append([]results.Metric(nil), c.Rows...)
			rows[1].TestAcc += 0.01
			if err := results.WriteMetrics(filepath.Join(dir, results.MetricsFile), rows); err != nil {
				panic(err)
			}
		}, "disagree: row 2"},
		{"metrics.csv with a row too many", func(dir string, c *checkpoint) {
			rows := append(append([]results.Metric(nil), c.Rows[:1]...), results.Metric{Iteration: 6}, c.Rows[1])
			if err := results.WriteMetrics(filepath.Join(dir, results.MetricsFile), rows); err != nil {
				panic(err)
			}
		}, "disagree: row 2"},
		{"metrics.csv lost its rows", func(dir string, c *checkpoint) {
			if err := results.WriteMetrics(filepath.Join(dir, results.MetricsFile), nil); err != nil {
				panic(err)
			}
		}, "metrics.csv ends there"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "r")
			if err := os.CopyFS(dir, os.DirFS(interrupted)); err != nil {
				t.Fatal(err)
			}
			ck := filepath.Join(dir, CheckpointFile)
			rewrite(t, ck, func(c *checkpoint) { tc.edit(dir, c) })
			before := read(t, ck)
			_, err := runTo(t, cfg, dir, true, nil)
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrCheckpoint with %q", err, tc.want)
			}
			if !bytes.Equal(read(t, ck), before) {
				t.Errorf("the refused checkpoint was changed")
			}
		})
	}
}

// A checkpoint of dropexp 0.1.0 (plain gob, no checksum) is refused, not read.
func TestCheckpointWithoutChecksum(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	dir := interruptedRun(t, cfg, 5)
	ck := filepath.Join(dir, CheckpointFile)
	c, err := loadCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	var old bytes.Buffer
	if err := gob.NewEncoder(&old).Encode(c); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(ck, old.Bytes(), 0o644)
	_, err = runTo(t, cfg, dir, true, nil)
	if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "no checksum header") {
		t.Errorf("err = %v", err)
	}
}

// A resume on data that changed (fewer images, even fewer than the saved
// position) is a clear error, never a panic, and a resume of another
// config shows the difference.
func TestResumeChecksTheData(t *testing.T) {
	data := t.TempDir()
	if err := datasettest.WriteCIFAR10(data, 500, 50, 1); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig(t, data, "train.batch_size=50", "train.iterations=12") // at iteration 9: 450 images into epoch 0
	dir := interruptedRun(t, cfg, 9)
	for _, n := range []int{100, 300, 500} {
		if err := os.RemoveAll(data); err != nil {
			t.Fatal(err)
		}
		seed := int64(1)
		if n == 500 {
			seed = 2 // as many images as before, other pixels
		}
		if err := datasettest.WriteCIFAR10(data, n, 50, seed); err != nil {
			t.Fatal(err)
		}
		_, err := runTo(t, cfg, dir, true, nil)
		if !errors.Is(err, ErrDataChanged) || !strings.Contains(err.Error(), "500 training and 50 test images") {
			t.Errorf("%d training images now: err = %v, want ErrDataChanged naming the sizes", n, err)
		}
	}
	// The same data from another path resume fine.
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := datasettest.WriteCIFAR10(other, 500, 50, 1); err != nil {
		t.Fatal(err)
	}
	cfg.Dataset.Path = other
	if _, err := runTo(t, cfg, dir, true, nil); err != nil {
		t.Errorf("resume on the same images from another path: %v", err)
	}
}

// Weights that stop being finite are never checkpointed: save refuses, and
// the run ends as diverged with the earlier checkpoint in place.
func TestCheckpointOnlyOfFiniteWeights(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	data, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(cfg, threads.Resolve(cfg.Threads), data, runID{identity: "x"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	path := filepath.Join(t.TempDir(), CheckpointFile)
	st := &loopState{}
	if err := tr.save(path, st); err != nil {
		t.Fatal(err)
	}
	good := read(t, path)
	tr.net.Params[3].Data()[7] = float32(math.Inf(1))
	if err := tr.save(path, st); !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "weights of "+tr.net.Params[3].Name+" not finite") {
		t.Errorf("save of infinite weights: %v", err)
	}
	if !bytes.Equal(read(t, path), good) {
		t.Errorf("the checkpoint was replaced by one of infinite weights")
	}

	// Runs that diverge: whatever checkpoint stays is of finite weights.
	for _, lr := range []string{"1e6", "30", "10"} {
		cfg := tinyConfig(t, fixtureDir, "train.lr="+lr, "dropout.variant=plain", "train.checkpoint_every=1")
		dir := filepath.Join(t.TempDir(), "d")
		sum, err := runTo(t, cfg, dir, false, nil)
		if !errors.Is(err, ErrDiverged) || sum.Status != results.StatusDiverged || sum.DivergedReason == "" {
			t.Errorf("lr %s: %v, summary %+v; want diverged", lr, err, sum)
			continue
		}
		c, err := loadCheckpoint(filepath.Join(dir, CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		if c != nil {
			for name, v := range c.Params {
				if !finite(v) {
					t.Errorf("lr %s: the kept checkpoint of iteration %d holds non-finite %s", lr, c.Iteration, name)
				}
			}
		}
	}
}

// A NaN test loss ends the run as diverged, as a NaN training loss does.
func TestNaNTestLossStopsTheRun(t *testing.T) {
	defer func(f func(*trainer) (float64, float64, error)) { evaluate = f }(evaluate)
	evaluate = func(tr *trainer) (float64, float64, error) {
		loss, acc, err := tr.evaluate()
		if tr.iter == 8 {
			loss = math.NaN()
		}
		return loss, acc, err
	}
	cfg := tinyConfig(t, fixtureDir) // evaluations at 4, 8, 12
	dir := filepath.Join(t.TempDir(), "d")
	sum, err := runTo(t, cfg, dir, false, nil)
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "test loss is NaN at iteration 8") {
		t.Fatalf("err = %v", err)
	}
	got, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := results.ReadMetrics(filepath.Join(dir, results.MetricsFile))
	if got.Status != results.StatusDiverged || got.DivergedAt != 8 || got.DivergedReason != "test loss is NaN" || len(rows) != 1 || got.FinalTestAcc != rows[0].TestAcc || sum.DivergedAt != 8 {
		t.Errorf("summary %+v, rows %+v", got, rows)
	}
}

// A run that diverges before its first evaluation has no final accuracy:
// null in summary.json, not 0.
func TestNoEvaluationNoAccuracy(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir, "train.lr=1e6", "dropout.variant=plain")
	dir := filepath.Join(t.TempDir(), "d")
	if _, err := runTo(t, cfg, dir, false, nil); !errors.Is(err, ErrDiverged) {
		t.Fatalf("err = %v", err)
	}
	raw := string(read(t, filepath.Join(dir, results.SummaryFile)))
	for _, w := range []string{`"final_test_acc": null`, `"final_test_loss": null`, `"final_train_loss": null`, `"kernels": "` + KernelSet(experiment.DirectKernels) + `"`} {
		if !strings.Contains(raw, w) {
			t.Errorf("summary.json lacks %s:\n%s", w, raw)
		}
	}
}

// Without Resume or Restart, a directory with a checkpoint is refused; a
// finished one is refused whatever the options.
func TestRunNeverOverwrites(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	dir := interruptedRun(t, cfg, 5)
	ck := read(t, filepath.Join(dir, CheckpointFile))
	if _, err := runTo(t, cfg, dir, false, nil); !errors.Is(err, ErrHasCheckpoint) {
		t.Errorf("start over a checkpoint: %v", err)
	}
	if !bytes.Equal(read(t, filepath.Join(dir, CheckpointFile)), ck) {
		t.Errorf("checkpoint changed")
	}
	if _, err := Run(context.Background(), Options{Config: cfg, Dir: dir, Restart: true}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{Resume: true}, {Restart: true}, {}} {
		o.Config, o.Dir = cfg, dir
		if _, err := Run(context.Background(), o); !errors.Is(err, ErrOccupied) {
			t.Errorf("%+v into a finished run: %v", o, err)
		}
	}
	other := tinyConfig(t, fixtureDir, "train.lr=0.003")
	if _, err := runTo(t, other, dir, false, nil); !errors.Is(err, ErrOccupied) || !strings.Contains(err.Error(), "lr: 0.003") {
		t.Errorf("another config into a finished run: %v", err)
	}
}

// The temporary files of atomic writes a kill interrupted are removed when
// the run next starts.
func TestLeftoverTempFilesRemoved(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	dir := interruptedRun(t, cfg, 5)
	for _, f := range []string{".metrics.csv.tmp42", ".checkpoint.gob.tmp7"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := runTo(t, cfg, dir, true, nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
