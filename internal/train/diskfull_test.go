package train

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dropexp/dropexp/internal/results"
)

// A disk that fills up while training writes its results: the error names
// the file and says the disk is full, the files written before are whole,
// the last checkpoint is kept, and a resume once there is room again ends
// with the metrics.csv of a run that never failed.
func TestDiskFullWhileWritingResults(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir) // 12 iterations, evaluations at 4, 8, 12, checkpoints at 3, 6, 9
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := runTo(t, cfg, ref, false, nil); err != nil {
		t.Fatal(err)
	}
	want := read(t, filepath.Join(ref, results.MetricsFile))

	dir := filepath.Join(t.TempDir(), "full")
	metrics := filepath.Join(dir, results.MetricsFile)
	writes := 0
	restore := results.SimulateWriteFailure(func(path string) error {
		if path != metrics {
			return nil
		}
		// metrics.csv is written at the start and after every evaluation:
		// the third write is the one after iteration 8.
		if writes++; writes == 3 {
			return &os.PathError{Op: "write", Path: path + ".tmp", Err: syscall.ENOSPC}
		}
		return nil
	})
	sum, err := runTo(t, cfg, dir, false, nil)
	restore()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	for _, s := range []string{metrics, "no space left on device", "disk full?"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	if sum.Status == results.StatusFinished {
		t.Errorf("summary status %q after a failed write", sum.Status)
	}

	// metrics.csv holds the evaluation at 4, as written before the failure.
	lines := strings.SplitAfter(string(want), "\n")
	if got := read(t, metrics); string(got) != lines[0]+lines[1] {
		t.Errorf("metrics.csv after the failure:\n%s\nwant the header and the row of iteration 4:\n%s", got, lines[0]+lines[1])
	}
	if _, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile)); err != nil {
		t.Errorf("summary.json: %v", err)
	}
	ck, err := loadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil || ck == nil || ck.Iteration != 6 {
		t.Fatalf("checkpoint after the failure: %+v, %v; want the one of iteration 6", ck, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	if _, err := runTo(t, cfg, dir, true, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(t, metrics); !bytes.Equal(got, want) {
		t.Errorf("resumed after the disk-full failure: metrics.csv differs:\n%s\nwant\n%s", got, want)
	}
}
