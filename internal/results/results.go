// Package results owns the run directory: one directory per run that is
// complete in itself (resolved config, metrics, summary, checkpoints), its
// file formats, and writes that never leave a half-written file behind, so a
// sweep, a scheduler and the report can all trust what they find there.
package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The files of a run directory.
const (
	ConfigFile  = "config.yaml"  // the resolved configuration
	MetricsFile = "metrics.csv"  // one row per evaluation
	SummaryFile = "summary.json" // the outcome, rewritten as the run progresses
	TimingFile  = "timing.csv"   // wall time and images/s at each evaluation
)

// The values of Summary.Status.
const (
	StatusRunning  = "running"
	StatusFinished = "finished"
	StatusDiverged = "diverged"
	// StatusInterrupted marks a run stopped by a signal after saving a checkpoint.
	StatusInterrupted = "interrupted"
)

// RunName returns the directory name of a run, e.g. standard-p0.3-layer-s1;
// characters a file name should not hold become safe ones ("/" -> "q").
func RunName(variant, ratio, semantics string, seed int64) string {
	parts := []string{variant}
	if ratio != "" {
		parts = append(parts, "p"+strings.ReplaceAll(ratio, "/", "q"))
	}
	parts = append(parts, semantics, "s"+strconv.FormatInt(seed, 10))
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, strings.Join(parts, "-"))
}

// NewRunDir creates root/name (and root) if needed and returns its path; an
// existing directory is fine, so an interrupted run can resume in it.
func NewRunDir(root, name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("results: run name %q is not a single directory name", name)
	}
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("results: creating run directory %s: %w", dir, explain(err))
	}
	return dir, nil
}

// WriteFileAtomic replaces path with data so that readers, and the file after
// a crash, show either the old or the new content, never a mix.
func WriteFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic writes a temporary file in path's directory with fill, syncs
// it, renames it over path and syncs the directory. fill is the seam where
// tests make a write fail as a full disk would.
func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// Same directory: a rename is only atomic within one file system.
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("results: writing %s: %w", path, explain(err))
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = fill(faulty(path, f)); err != nil {
		return fmt.Errorf("results: writing %s: %w", path, explain(err))
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("results: writing %s: %w", path, explain(err))
	}
	// Without the sync, a crash after the rename can leave an empty file.
	if err = f.Sync(); err != nil {
		return fmt.Errorf("results: writing %s: %w", path, explain(err))
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("results: writing %s: %w", path, explain(err))
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("results: writing %s: %w", path, explain(err))
	}
	// The rename itself is durable only once the directory is synced.
	d, derr := os.Open(dir)
	if derr != nil {
		return fmt.Errorf("results: syncing directory of %s: %w", path, explain(derr))
	}
	defer d.Close()
	if derr := d.Sync(); derr != nil && !errors.Is(derr, syscall.EINVAL) {
		// EINVAL: the file system cannot sync directories; nothing more to do.
		return fmt.Errorf("results: syncing directory of %s: %w", path, explain(derr))
	}
	return nil
}

// explain adds the likely cause to errors whose text alone is cryptic.
func explain(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w (disk full?)", err)
	case errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w (disk quota exceeded?)", err)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%w (read-only file system?)", err)
	}
	return err
}

// Metric is one evaluation point of a run (Figure 1 plots these).
type Metric struct {
	Iteration int
	LR        float64
	TrainLoss float64 // running mean since the previous evaluation
	TestLoss  float64
	TestAcc   float64
}

// metricsHeader is the first line of metrics.csv. Wall times live in
// timing.csv, so that the same config and seed give a byte-identical
// metrics.csv, also across an interruption and resume.
var metricsHeader = [...]string{"iteration", "lr", "train_loss", "test_loss", "test_acc"}

// Timing is the wall-clock side of one evaluation point, as timing.csv.
type Timing struct {
	Iteration       int
	Seconds         float64 // wall time since the run started (summed over resumed sessions)
	ImagesPerSecond float64 // training images per second of training time so far
}

// WriteTiming atomically writes rows as timing.csv to path.
func WriteTiming(path string, rows []Timing) error {
	var buf bytes.Buffer
	buf.WriteString("iteration,seconds,images_per_second\n")
	for _, t := range rows {
		fmt.Fprintf(&buf, "%d,%.3f,%.1f\n", t.Iteration, t.Seconds, t.ImagesPerSecond)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// readCSV reads the records of the CSV file at path.
func readCSV(path string) ([][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return records, nil
}

// ReadTiming reads a file written by WriteTiming.
func ReadTiming(path string) ([]Timing, error) {
	records, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	if len(records) == 0 || strings.Join(records[0], ",") != "iteration,seconds,images_per_second" {
		return nil, fmt.Errorf("results: %s: not a timing file: want header iteration,seconds,images_per_second", path)
	}
	rows := make([]Timing, 0, len(records)-1)
	for i, rec := range records[1:] {
		it, err1 := strconv.Atoi(rec[0])
		secs, err2 := strconv.ParseFloat(rec[1], 64)
		ips, err3 := strconv.ParseFloat(rec[2], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("results: %s:%d: %w", path, i+2, err)
		}
		rows = append(rows, Timing{Iteration: it, Seconds: secs, ImagesPerSecond: ips})
	}
	return rows, nil
}

// WriteMetrics atomically writes rows as metrics.csv-formatted CSV to path.
func WriteMetrics(path string, rows []Metric) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(metricsHeader[:])
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	for _, m := range rows {
		w.Write([]string{
			strconv.Itoa(m.Iteration), g(m.LR), g(m.TrainLoss), g(m.TestLoss), g(m.TestAcc),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("results: formatting %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// CheckLoss reports a loss no run can have: not finite, negative, or
// beyond float32, in which losses are computed.
func CheckLoss(name string, l float64) error {
	if math.IsNaN(l) || l < 0 || l > math.MaxFloat32 {
		return fmt.Errorf("%s %v is not a finite, non-negative loss a float32 holds", name, l)
	}
	return nil
}

// ReadMetrics reads a file written by WriteMetrics. It refuses a row no
// run writes: a value out of its range, or an iteration not after the
// previous row's (a duplicated or an old row).
func ReadMetrics(path string) ([]Metric, error) {
	records, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	want := strings.Join(metricsHeader[:], ",")
	// Runs of dropexp 0.1.0 before timing.csv existed carry a trailing
	// seconds column; it is read past.
	if len(records) == 0 || (strings.Join(records[0], ",") != want && strings.Join(records[0], ",") != want+",seconds") {
		return nil, fmt.Errorf("results: %s: not a metrics file: want header %s", path, want)
	}
	rows := make([]Metric, 0, len(records)-1)
	for i, rec := range records[1:] {
		line := i + 2
		it, err := strconv.Atoi(rec[0])
		if err != nil {
			return nil, fmt.Errorf("results: %s:%d: iteration: %w", path, line, err)
		}
		var f [4]float64
		for j := range f {
			// ParseFloat reads NaN and ±Inf; check refuses them.
			if f[j], err = strconv.ParseFloat(rec[j+1], 64); err != nil {
				return nil, fmt.Errorf("results: %s:%d: %s: %w", path, line, metricsHeader[j+1], err)
			}
		}
		m := Metric{Iteration: it, LR: f[0], TrainLoss: f[1], TestLoss: f[2], TestAcc: f[3]}
		if err := m.check(); err != nil {
			return nil, fmt.Errorf("results: %s:%d: %w", path, line, err)
		}
		if n := len(rows); n > 0 && it <= rows[n-1].Iteration {
			what := "out of order"
			if it == rows[n-1].Iteration {
				what = "a duplicate"
			}
			return nil, fmt.Errorf("results: %s:%d: iteration %d after %d: the row is %s (a run writes one row per evaluation, in order)", path, line, it, rows[n-1].Iteration, what)
		}
		rows = append(rows, m)
	}
	return rows, nil
}

// check reports a value no evaluation of a run can have: a run that
// diverges stops before writing a row that is not finite, and losses are
// computed in float32.
func (m Metric) check() error {
	switch {
	case m.Iteration < 1:
		return fmt.Errorf("iteration %d is not positive", m.Iteration)
	case math.IsNaN(m.LR) || math.IsInf(m.LR, 0) || m.LR < 0:
		return fmt.Errorf("lr %v is not a finite, non-negative rate", m.LR)
	case CheckLoss("train_loss", m.TrainLoss) != nil:
		return CheckLoss("train_loss", m.TrainLoss)
	case CheckLoss("test_loss", m.TestLoss) != nil:
		return CheckLoss("test_loss", m.TestLoss)
	case !(m.TestAcc >= 0 && m.TestAcc <= 1):
		return fmt.Errorf("test_acc %v is outside [0, 1]", m.TestAcc)
	}
	return nil
}

// Summary is the outcome of a run, as summary.json.
type Summary struct {
	Status          string    `json:"status"`                     // StatusRunning, StatusFinished, StatusDiverged or StatusInterrupted
	Identity        string    `json:"identity,omitempty"`         // the run's identity (config.Run.Identity), also in config.yaml's header
	DataFingerprint string    `json:"data_fingerprint,omitempty"` // of the loaded data (dataset.Fingerprint), part of the identity
	DivergedAt      int       `json:"diverged_at,omitempty"`      // the iteration whose loss or weights were not finite
	DivergedReason  string    `json:"diverged_reason,omitempty"`  // what was not finite, e.g. "test loss is NaN"
	FinalTestAcc    float64   `json:"final_test_acc"`             // of the last evaluation; NaN (null in the file) before the first
	FinalTestLoss   float64   `json:"final_test_loss"`
	FinalTrainLoss  float64   `json:"final_train_loss"`
	WallSeconds     float64   `json:"wall_seconds"`
	ImagesPerSecond float64   `json:"images_per_second"` // training images per wall second
	Seed            int64     `json:"seed"`
	Model           string    `json:"model"`
	Variant         string    `json:"variant"`
	Ratio           string    `json:"ratio"`
	Semantics       string    `json:"semantics"`
	Dataset         string    `json:"dataset"`
	DatasetPath     string    `json:"dataset_path"`
	TrainSize       int       `json:"train_size"` // images used, after dataset.train_limit
	TestSize        int       `json:"test_size"`
	Iterations      int       `json:"iterations"` // as configured; DivergedAt marks an early stop
	DropexpVersion  string    `json:"dropexp_version"`
	GoVersion       string    `json:"go_version"`
	Kernels         string    `json:"kernels,omitempty"` // the kernels that computed the run, as dropexp version names them
	Threads         int       `json:"threads"`
	Started         time.Time `json:"started"`  // whole seconds in the file
	Finished        time.Time `json:"finished"` // zero (and absent from the file) while running

	// DiagnosticsSeconds is the wall time of the gradient diagnostics' extra passes (diagnostics.every > 0).
	DiagnosticsSeconds float64 `json:"diagnostics_seconds,omitempty"`

	// KernelChanges records each resume under another kernel set, dropexp
	// or Go version that --allow-kernel-change let through: the run's
	// numbers after it are those of neither set alone.
	KernelChanges []string `json:"kernel_changes,omitempty"`
	// Repaired says when dropexp repair rebuilt this file from the run's
	// other files, and what it could not recover.
	Repaired string `json:"repaired,omitempty"`

	// Sweep is the grid point of a run a sweep trained; nil for a run of
	// dropexp train, or of a dropexp that did not record it.
	Sweep *SweepPoint `json:"sweep,omitempty"`
}

// SweepPoint is where in its sweep's grid a run lies, beyond the variant,
// ratio, semantics and seed the summary holds: what a report needs to tell
// and title the sweep's runs without reading their directory names.
type SweepPoint struct {
	// DataLabel is the sweep's label of the run's data set
	// (axes.dataset[].label) when the sweep has several data sets, and the
	// label leads the run directory's name; "" otherwise.
	DataLabel string `json:"data_label,omitempty"`
	// Axes are the run's values of the sweep's key axes (any other swept
	// run config key), by key.
	Axes map[string]string `json:"axes,omitempty"`
}

// jsonFloat writes NaN and ±Inf, which JSON cannot hold and a diverged run
// produces, as null, and reads null back as NaN.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(f))
}

// summaryAlias has Summary's fields without its methods, so the shadowing
// struct below does not recurse into them.
type summaryAlias Summary

// summaryJSON shadows fields of Summary whose encoding differs from the
// default (the outer fields win over the embedded ones of the same JSON
// name): floats with jsonFloat, and times with whole-second RFC 3339, which
// every reader parses.
type summaryJSON struct {
	*summaryAlias
	FinalTestAcc    jsonFloat `json:"final_test_acc"`
	FinalTestLoss   jsonFloat `json:"final_test_loss"`
	FinalTrainLoss  jsonFloat `json:"final_train_loss"`
	WallSeconds     jsonFloat `json:"wall_seconds"`
	ImagesPerSecond jsonFloat `json:"images_per_second"`
	Started         string    `json:"started"`
	Finished        string    `json:"finished,omitempty"`
}

// formatTime writes t as RFC 3339 in whole seconds, and the zero time as "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// parseTime reads what formatTime writes (RFC3339 also accepts fractions).
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t, nil
}

// MarshalJSON encodes s with non-finite numbers as null and times in whole seconds.
func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(summaryJSON{
		summaryAlias:    (*summaryAlias)(&s),
		FinalTestAcc:    jsonFloat(s.FinalTestAcc),
		FinalTestLoss:   jsonFloat(s.FinalTestLoss),
		FinalTrainLoss:  jsonFloat(s.FinalTrainLoss),
		WallSeconds:     jsonFloat(s.WallSeconds),
		ImagesPerSecond: jsonFloat(s.ImagesPerSecond),
		Started:         formatTime(s.Started),
		Finished:        formatTime(s.Finished),
	})
}

// UnmarshalJSON decodes s, reading null numbers as NaN.
func (s *Summary) UnmarshalJSON(b []byte) error {
	aux := summaryJSON{summaryAlias: (*summaryAlias)(s)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var err error
	if s.Started, err = parseTime("started", aux.Started); err != nil {
		return err
	}
	if s.Finished, err = parseTime("finished", aux.Finished); err != nil {
		return err
	}
	s.FinalTestAcc = float64(aux.FinalTestAcc)
	s.FinalTestLoss = float64(aux.FinalTestLoss)
	s.FinalTrainLoss = float64(aux.FinalTrainLoss)
	s.WallSeconds = float64(aux.WallSeconds)
	s.ImagesPerSecond = float64(aux.ImagesPerSecond)
	return nil
}

// WriteSummary atomically writes s as indented JSON to path.
func WriteSummary(path string, s Summary) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("results: encoding %s: %w", path, err)
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// ReadSummary reads a file written by WriteSummary.
func ReadSummary(path string) (Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Summary{}, fmt.Errorf("results: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return Summary{}, fmt.Errorf("results: %s: %w", path, err)
	}
	return s, nil
}
