package results

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunName(t *testing.T) {
	for _, tc := range []struct {
		variant, ratio, semantics string
		seed                      int64
		want                      string
	}{
		{"standard", "0.3", "layer", 1, "standard-p0.3-layer-s1"},
		{"augmented", "0.1/0.0002", "layer", 1, "augmented-p0.1q0.0002-layer-s1"},
		{"backward", "0.05", "elementwise", 42, "backward-p0.05-elementwise-s42"},
		{"plain", "", "layer", 3, "plain-layer-s3"},
		{"forward", "0.1 /x:y", "layer", -1, "forward-p0.1_qx_y-layer-s-1"},
	} {
		if got := RunName(tc.variant, tc.ratio, tc.semantics, tc.seed); got != tc.want {
			t.Errorf("RunName(%q, %q, %q, %d) = %q, want %q", tc.variant, tc.ratio, tc.semantics, tc.seed, got, tc.want)
		}
	}
}

func TestNewRunDir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "results")
	dir, err := NewRunDir(root, "standard-p0.3-layer-s1")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("run directory not created: %v", err)
	}
	if again, err := NewRunDir(root, "standard-p0.3-layer-s1"); err != nil || again != dir {
		t.Errorf("reopening an existing run directory: %q, %v", again, err)
	}
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`} {
		if _, err := NewRunDir(root, bad); err == nil {
			t.Errorf("NewRunDir accepted name %q", bad)
		}
	}
	// A root that cannot be a directory (root ignores permissions, so a
	// path under a regular file stands in for one not writable).
	file := filepath.Join(t.TempDir(), "file.txt")
	os.WriteFile(file, nil, 0o644)
	_, err = NewRunDir(filepath.Join(file, "sub"), "plain-layer-s1")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(file, "sub", "plain-layer-s1")) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("err = %v, want one naming the run directory", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	for _, content := range []string{"first", "second, longer than the first", ""} {
		if err := WriteFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	assertOnlyFiles(t, dir, "f.txt")
}

// A write that fails half-way, as on a full disk, must leave the old file
// whole, no temporary file behind, and say what probably happened.
func TestWriteAtomicFailureKeepsOldFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"disk full", syscall.ENOSPC, []string{"disk full?", "no space left"}},
		{"quota", syscall.EDQUOT, []string{"quota"}},
		{"other", errors.New("boom"), []string{"boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metrics.csv")
			if err := WriteFileAtomic(path, []byte("old content\n")); err != nil {
				t.Fatal(err)
			}
			err := writeAtomic(path, func(w io.Writer) error {
				io.WriteString(w, "new cont")
				return &os.PathError{Op: "write", Path: "tmp", Err: tc.err}
			})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if got, _ := os.ReadFile(path); string(got) != "old content\n" {
				t.Errorf("old file changed to %q", got)
			}
			assertOnlyFiles(t, dir, "metrics.csv")
		})
	}
}

func TestWriteFileAtomicReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.json")
	if err := WriteFileAtomic(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	err := WriteFileAtomic(path, []byte("new"))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v does not name %s", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("old file changed to %q", got)
	}
}

func TestWriteFileAtomicMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "f")
	if err := WriteFileAtomic(path, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name %s", err, path)
	}
}

// assertOnlyFiles fails unless dir holds exactly the named files.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("directory holds %v, want %v", got, names)
	}
}

func TestMetricsRoundTrip(t *testing.T) {
	rows := []Metric{
		{Iteration: 500, LR: 0.001, TrainLoss: 1.2345678901234567, TestLoss: 1.1, TestAcc: 0.6012},
		{Iteration: 1000, LR: 1e-4, TrainLoss: 0.9, TestLoss: 0.95, TestAcc: 0.7},
		{Iteration: 1500, LR: 1e-4, TrainLoss: math.NaN(), TestLoss: math.Inf(1), TestAcc: 0.1},
	}
	path := filepath.Join(t.TempDir(), MetricsFile)
	if err := WriteMetrics(path, rows); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	wantText := "iteration,lr,train_loss,test_loss,test_acc\n" +
		"500,0.001,1.2345678901234567,1.1,0.6012\n" +
		"1000,0.0001,0.9,0.95,0.7\n" +
		"1500,0.0001,NaN,+Inf,0.1\n"
	if string(data) != wantText {
		t.Errorf("metrics.csv:\n%s\nwant:\n%s", data, wantText)
	}
	// No run writes a row that is not finite (it diverges first): such a row is refused, by file and line.
	if _, err := ReadMetrics(path); err == nil || !strings.Contains(err.Error(), path+":4: train_loss NaN") {
		t.Errorf("non-finite row: %v", err)
	}
	rows = rows[:2]
	if err := WriteMetrics(path, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	for i, g := range got {
		w := rows[i]
		if g.Iteration != w.Iteration || g.LR != w.LR || !sameFloat(g.TrainLoss, w.TrainLoss) ||
			!sameFloat(g.TestLoss, w.TestLoss) || g.TestAcc != w.TestAcc {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}

	empty := filepath.Join(t.TempDir(), MetricsFile)
	if err := WriteMetrics(empty, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadMetrics(empty); err != nil || len(got) != 0 {
		t.Errorf("empty metrics: %v, %v", got, err)
	}
}

// sameFloat compares floats treating NaN as equal to NaN.
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func TestReadMetricsLegacySecondsColumn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.csv")
	if err := os.WriteFile(path, []byte("iteration,lr,train_loss,test_loss,test_acc,seconds\n500,0.001,1.5,1.2,0.55,207.8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := ReadMetrics(path)
	if err != nil || len(rows) != 1 || rows[0].TestAcc != 0.55 || rows[0].Iteration != 500 {
		t.Errorf("ReadMetrics(legacy) = %+v, %v", rows, err)
	}
}

func TestReadMetricsErrors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"header", "it,lr\n1,2\n", "not a metrics file"},
		{"iteration", "iteration,lr,train_loss,test_loss,test_acc\nx,1,1,1,1\n", ":2: iteration"},
		{"float", "iteration,lr,train_loss,test_loss,test_acc\n1,1,1,oops,1\n", ":2: test_loss"},
		{"columns", "iteration,lr,train_loss,test_loss,test_acc\n1,1,1\n", "wrong number of fields"},
		{"accuracy above 1", "iteration,lr,train_loss,test_loss,test_acc\n1,1,1,1,1.7\n", ":2: test_acc 1.7 is outside [0, 1]"},
		{"negative accuracy", "iteration,lr,train_loss,test_loss,test_acc\n1,1,1,1,-0.1\n", ":2: test_acc -0.1 is outside [0, 1]"},
		{"infinite loss", "iteration,lr,train_loss,test_loss,test_acc\n1,0.1,1,1,0.5\n2,0.1,1,+Inf,0.5\n", ":3: test_loss +Inf is not a finite"},
		{"NaN loss", "iteration,lr,train_loss,test_loss,test_acc\n1,0.1,NaN,1,0.5\n", ":2: train_loss NaN"},
		{"negative loss", "iteration,lr,train_loss,test_loss,test_acc\n1,0.1,-2,1,0.5\n", ":2: train_loss -2 is not a finite, non-negative"},
		{"negative rate", "iteration,lr,train_loss,test_loss,test_acc\n1,-0.1,2,1,0.5\n", ":2: lr -0.1"},
		{"iteration zero", "iteration,lr,train_loss,test_loss,test_acc\n0,0.1,2,1,0.5\n", ":2: iteration 0 is not positive"},
		{"duplicated row", "iteration,lr,train_loss,test_loss,test_acc\n10,0.1,2,1,0.5\n20,0.1,2,1,0.6\n20,0.1,2,1,0.6\n", ":4: iteration 20 after 20: the row is a duplicate"},
		{"old row at the end", "iteration,lr,train_loss,test_loss,test_acc\n10,0.1,2,1,0.5\n20,0.1,2,1,0.6\n10,0.1,2,1,0.5\n", ":4: iteration 10 after 20: the row is out of order"},
		{"garbage", "\x00\x01garbage\xff\n", "not a metrics file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), MetricsFile)
			os.WriteFile(path, []byte(tc.content), 0o644)
			_, err := ReadMetrics(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want one naming %s and %q", err, path, tc.want)
			}
		})
	}
	if _, err := ReadMetrics(filepath.Join(t.TempDir(), "absent.csv")); err == nil {
		t.Error("no error for a missing file")
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	started := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []Summary{
		{
			Status: StatusFinished, FinalTestAcc: 0.7523, FinalTestLoss: 0.75, FinalTrainLoss: 0.6,
			WallSeconds: 870.5, ImagesPerSecond: 574.4, Seed: 1, Model: "convnet-quick", Variant: "standard",
			Ratio: "0.3", Semantics: "layer", Dataset: "cifar10", DatasetPath: "../data", TrainSize: 50000,
			TestSize: 10000, Iterations: 5000, DropexpVersion: "v0.1.0", GoVersion: "go1.26", Threads: 8,
			Started: started, Finished: started.Add(870 * time.Second),
		},
		{Status: StatusRunning, Iterations: 1500, Started: started},
		{Status: StatusRunning, Started: started, Sweep: &SweepPoint{DataLabel: "svhn", Axes: map[string]string{"train.lr": "0.01"}}},
	} {
		path := filepath.Join(t.TempDir(), SummaryFile)
		if err := WriteSummary(path, s); err != nil {
			t.Fatal(err)
		}
		got, err := ReadSummary(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("round trip:\ngot  %+v\nwant %+v", got, s)
		}
	}
}

func TestSummaryJSON(t *testing.T) {
	s := Summary{
		Status: StatusDiverged, DivergedAt: 1234, FinalTestLoss: math.NaN(), FinalTrainLoss: math.Inf(1),
		Started: time.Date(2025, 3, 1, 12, 0, 0, 999, time.FixedZone("CET", 3600)),
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("a diverged run must still encode: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"status": "diverged", "diverged_at": 1234.0, "final_test_loss": nil, "final_train_loss": nil,
		"final_test_acc": 0.0, "started": "2025-03-01T12:00:00+01:00",
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	if _, ok := m["finished"]; ok {
		t.Error("finished present although zero")
	}
	for _, key := range []string{"seed", "model", "variant", "ratio", "semantics", "dataset", "dataset_path", "train_size",
		"test_size", "iterations", "dropexp_version", "go_version", "threads", "wall_seconds", "images_per_second"} {
		if _, ok := m[key]; !ok {
			t.Errorf("key %s missing", key)
		}
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.FinalTestLoss) || !math.IsNaN(back.FinalTrainLoss) || back.DivergedAt != 1234 {
		t.Errorf("non-finite losses read back as %+v", back)
	}
	if _, ok := m["diverged_at"]; !ok {
		t.Error("diverged_at missing")
	}
	if b, _ := json.Marshal(Summary{Status: StatusFinished}); strings.Contains(string(b), "diverged_at") {
		t.Errorf("diverged_at present although zero: %s", b)
	}
	if err := json.Unmarshal([]byte(`{"started": "yesterday"}`), &back); err == nil || !strings.Contains(err.Error(), "started") {
		t.Errorf("bad time: %v", err)
	}
}

// SimulateWriteFailure reaches the public writers, fails only the paths it
// is told to, and ends when restored.
func TestSimulateWriteFailure(t *testing.T) {
	dir := t.TempDir()
	metrics, summary := filepath.Join(dir, MetricsFile), filepath.Join(dir, SummaryFile)
	rows := []Metric{{Iteration: 4, LR: 0.1, TrainLoss: 2, TestLoss: 2, TestAcc: 0.1}}
	if err := WriteMetrics(metrics, rows); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(metrics)
	restore := SimulateWriteFailure(func(path string) error {
		if filepath.Base(path) == MetricsFile {
			return &os.PathError{Op: "write", Path: path + ".tmp", Err: syscall.ENOSPC}
		}
		return nil
	})
	err := WriteMetrics(metrics, append(rows, Metric{Iteration: 8}))
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	for _, w := range []string{"results: writing " + metrics, "no space left on device (disk full?)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if got, _ := os.ReadFile(metrics); string(got) != string(old) {
		t.Errorf("metrics.csv changed to %q", got)
	}
	if err := WriteSummary(summary, Summary{Status: StatusRunning}); err != nil {
		t.Errorf("a write the simulation does not fail: %v", err)
	}
	restore()
	if err := WriteMetrics(metrics, rows); err != nil {
		t.Errorf("after restore: %v", err)
	}
	assertOnlyFiles(t, dir, MetricsFile, SummaryFile)
}
