package train

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/results"
)

// A finished run whose summary.json is damaged, missing or says running is
// never trained again (ErrOccupied, naming the file and dropexp repair),
// whether model.gob or the last metrics row says it finished; and
// RebuildSummary gives back the summary the run wrote.
func TestDamagedSummaryOfAFinishedRun(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	good := filepath.Join(t.TempDir(), "r")
	want, err := runTo(t, cfg, good, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		damage func(dir string)
	}{
		{"truncated", func(dir string) { truncate(t, filepath.Join(dir, results.SummaryFile), 40) }},
		{"empty", func(dir string) { truncate(t, filepath.Join(dir, results.SummaryFile), 0) }},
		{"missing", func(dir string) { os.Remove(filepath.Join(dir, results.SummaryFile)) }},
		{"says running", func(dir string) {
			s := want
			s.Status, s.Finished = results.StatusRunning, time.Time{}
			results.WriteSummary(filepath.Join(dir, results.SummaryFile), s)
		}},
		{"missing, no model.gob: the last metrics row", func(dir string) {
			os.Remove(filepath.Join(dir, results.SummaryFile))
			os.Remove(filepath.Join(dir, ModelFile))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "r")
			copyDir(t, good, dir)
			c.damage(dir)
			metrics := read(t, filepath.Join(dir, results.MetricsFile))
			for _, o := range []Options{{Resume: true}, {Restart: true}, {}} {
				o.Config, o.Dir = cfg, dir
				_, err := Run(t.Context(), o)
				if !errors.Is(err, ErrOccupied) || !strings.Contains(err.Error(), filepath.Join(dir, results.SummaryFile)) || !strings.Contains(err.Error(), "dropexp repair "+dir) {
					t.Errorf("%+v: %v; want ErrOccupied naming summary.json and dropexp repair", o, err)
				}
			}
			if !bytes.Equal(read(t, filepath.Join(dir, results.MetricsFile)), metrics) {
				t.Fatalf("metrics.csv rewritten")
			}
			got, err := RebuildSummary(dir, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != results.StatusFinished || got.FinalTestAcc != want.FinalTestAcc || got.FinalTestLoss != want.FinalTestLoss ||
				got.FinalTrainLoss != want.FinalTrainLoss || got.Identity != want.Identity || got.DataFingerprint != want.DataFingerprint ||
				got.Iterations != want.Iterations || got.Ratio != want.Ratio || got.Seed != want.Seed || got.Repaired == "" {
				t.Errorf("rebuilt %+v\nwant %+v", got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, ModelFile)); err == nil && (got.TrainSize != want.TrainSize || got.TestSize != want.TestSize) {
				t.Errorf("sizes %d/%d, want %d/%d", got.TrainSize, got.TestSize, want.TrainSize, want.TestSize)
			}
			if err := results.WriteSummary(filepath.Join(dir, results.SummaryFile), got); err != nil {
				t.Fatal(err)
			}
			// Repaired: a finished run again, which a second repair leaves alone.
			if _, err := Run(t.Context(), Options{Config: cfg, Dir: dir, Resume: true}); !errors.Is(err, ErrOccupied) || strings.Contains(err.Error(), "repair") {
				t.Errorf("after repair: %v", err)
			}
			if _, err := RebuildSummary(dir, time.Now()); !errors.Is(err, ErrNothingToRepair) {
				t.Errorf("second repair: %v", err)
			}
		})
	}
}

// An interrupted run whose summary.json is damaged is not resumed until it
// is repaired; the rebuilt summary says interrupted and the run then
// resumes to the numbers of an uninterrupted run.
func TestDamagedSummaryOfAnInterruptedRun(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	ref, err := runTo(t, cfg, filepath.Join(t.TempDir(), "ref"), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := interruptedRun(t, cfg, 5)
	truncate(t, filepath.Join(dir, results.SummaryFile), 10)
	if _, err := runTo(t, cfg, dir, true, nil); !errors.Is(err, ErrOccupied) || !strings.Contains(err.Error(), "dropexp repair") {
		t.Fatalf("resume with a damaged summary: %v", err)
	}
	s, err := RebuildSummary(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != results.StatusInterrupted || s.TrainSize != ref.TrainSize {
		t.Errorf("rebuilt %+v", s)
	}
	if err := results.WriteSummary(filepath.Join(dir, results.SummaryFile), s); err != nil {
		t.Fatal(err)
	}
	// The rebuilt summary cannot say which kernels computed the first part.
	got, err := Run(t.Context(), Options{Config: cfg, Dir: dir, Resume: true, AllowKernelChange: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.FinalTestAcc != ref.FinalTestAcc || got.FinalTrainLoss != ref.FinalTrainLoss {
		t.Errorf("resumed after repair: %v %v, want %v %v", got.FinalTestAcc, got.FinalTrainLoss, ref.FinalTestAcc, ref.FinalTrainLoss)
	}
}

func truncate(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// A resume under another kernel set, dropexp version or Go version than
// summary.json records is refused naming both; --allow-kernel-change
// resumes and records the change, which later resumes keep.
func TestResumeUnderOtherKernels(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	for _, edit := range []struct {
		name string
		set  func(*results.Summary)
		was  string
	}{
		{"kernels", func(s *results.Summary) { s.Kernels = "blas openblas, vector avx2, conv direct-avx2, core SkylakeX" }, "core SkylakeX"},
		{"version", func(s *results.Summary) { s.DropexpVersion = "0.0.9" }, "dropexp 0.0.9"},
		{"go", func(s *results.Summary) { s.GoVersion = "go1.20" }, "(go1.20,"},
		{"not recorded", func(s *results.Summary) { s.Kernels = "" }, "kernels not recorded"},
	} {
		t.Run(edit.name, func(t *testing.T) {
			dir := interruptedRun(t, cfg, 5)
			path := filepath.Join(dir, results.SummaryFile)
			s, err := results.ReadSummary(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(s.Kernels, ", core "+kernels.BLASCore()) {
				t.Errorf("kernels %q lack the BLAS core %q", s.Kernels, kernels.BLASCore())
			}
			edit.set(&s)
			results.WriteSummary(path, s)
			ck := read(t, filepath.Join(dir, CheckpointFile))
			_, err = runTo(t, cfg, dir, true, nil)
			if !errors.Is(err, ErrKernelChange) || !strings.Contains(err.Error(), edit.was) || !strings.Contains(err.Error(), KernelSet(experiment.DirectKernels)) ||
				!strings.Contains(err.Error(), "--restart") || !strings.Contains(err.Error(), "--allow-kernel-change") {
				t.Fatalf("resume under other kernels: %v", err)
			}
			if !bytes.Equal(read(t, filepath.Join(dir, CheckpointFile)), ck) {
				t.Errorf("checkpoint changed by a refused resume")
			}
			got, err := Run(t.Context(), Options{Config: cfg, Dir: dir, Resume: true, AllowKernelChange: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.KernelChanges) != 1 || !strings.Contains(got.KernelChanges[0], edit.was) || !strings.Contains(got.KernelChanges[0], "at iteration 5") {
				t.Errorf("kernel_changes %q", got.KernelChanges)
			}
			if file, _ := results.ReadSummary(path); len(file.KernelChanges) != 1 {
				t.Errorf("summary.json kernel_changes %q", file.KernelChanges)
			}
		})
	}
	// The same kernels: resumed without a word.
	dir := interruptedRun(t, cfg, 5)
	if got, err := runTo(t, cfg, dir, true, nil); err != nil || len(got.KernelChanges) != 0 {
		t.Errorf("resume under the same kernels: %v %q", err, got.KernelChanges)
	}
}
