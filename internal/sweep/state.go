package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/results"
)

// Status is the state of one run of a grid, read from its run directory.
type Status string

// The statuses of a run. Finished, Diverged and Conflict are final: a rerun
// of the sweep leaves those directories alone.
const (
	Pending     Status = "pending"     // not started: no run directory or no config.yaml
	Unfinished  Status = "unfinished"  // started, no final summary (killed, or summary still says running)
	Running     Status = "running"     // a sweep process holds the run's lock now
	Interrupted Status = "interrupted" // stopped by a signal; the next sweep reruns it
	Failed      Status = "failed"      // the last attempt ended with an error (failure.json says which)
	Finished    Status = "finished"
	Diverged    Status = "diverged" // the loss became NaN or infinite; rerunning the same seed would again
	Conflict    Status = "conflict" // finished with a different config; never overwritten
)

// Statuses lists every status in the order summaries count them.
var Statuses = []Status{Finished, Diverged, Conflict, Failed, Interrupted, Unfinished, Running, Pending}

// Final reports whether a sweep leaves a run in status s alone.
func (s Status) Final() bool { return s == Finished || s == Diverged || s == Conflict }

// The files of a sweep directory.
const (
	IndexFile   = "index.json"   // the grid and each run's status, derived from the run directories
	RunsDir     = "runs"         // one run directory per grid point
	LocksDir    = "locks"        // one lock file per run, held while a process runs it
	FailureFile = "failure.json" // in a run directory: why its last attempt failed
)

// State is what a run directory says about a run.
type State struct {
	Status  Status
	Summary *results.Summary // nil when the run has no summary.json
	Detail  string           // why it failed, or how its config differs
}

// Failure is the content of failure.json.
type Failure struct {
	Error string    `json:"error"`
	Host  string    `json:"host"`
	Time  time.Time `json:"time"`
}

// Inspect reads the state of run r from its directory dir; locked reports
// whether another process holds the run's lock.
func Inspect(dir string, r Run, locked bool) State {
	if locked {
		return State{Status: Running}
	}
	sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	switch {
	case err == nil && (sum.Status == results.StatusFinished || sum.Status == results.StatusDiverged):
		st := State{Status: Status(sum.Status), Summary: &sum}
		if diff := configDiff(filepath.Join(dir, results.ConfigFile), r.Identity); diff != "" {
			st.Status, st.Detail = Conflict, fmt.Sprintf("%s with another config (%s); left untouched: move %s away or sweep into another --out", sum.Status, diff, dir)
		}
		return st
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		// An unreadable summary cannot be a finished run: summaries are written atomically.
		return State{Status: Unfinished, Detail: err.Error()}
	}
	var sp *results.Summary
	if err == nil {
		sp = &sum
	}
	if f, ok := readFailure(dir); ok {
		return State{Status: Failed, Summary: sp, Detail: f.Error}
	}
	if sp != nil && sp.Status == results.StatusInterrupted {
		return State{Status: Interrupted, Summary: sp}
	}
	if sp != nil {
		return State{Status: Unfinished, Summary: sp}
	}
	if _, err := os.Stat(filepath.Join(dir, results.ConfigFile)); err == nil {
		return State{Status: Unfinished}
	}
	return State{Status: Pending}
}

// SameConfig reports whether the config.yaml in dir is the one of r, so an
// unfinished run there may be resumed rather than restarted.
func SameConfig(dir string, r Run) bool {
	return configDiff(filepath.Join(dir, results.ConfigFile), r.Identity) == ""
}

// configDiff returns "" if the config file holds the identity want, or else
// a short description of the first difference.
func configDiff(file string, want []byte) string {
	cfg, err := readRunConfig(file)
	if err != nil {
		return err.Error()
	}
	got, _, err := Identity(cfg)
	if err != nil {
		return err.Error()
	}
	if bytes.Equal(got, want) {
		return ""
	}
	return firstDiff(got, want)
}

// readRunConfig reads a run directory's config.yaml as written, without
// validating it (a finished run stays readable when validation rules change).
func readRunConfig(file string) (config.Run, error) {
	var cfg config.Run
	data, err := os.ReadFile(file)
	if err != nil {
		return cfg, fmt.Errorf("its %s is unreadable (%v)", results.ConfigFile, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("its %s does not parse as a run config of this dropexp (%v)", results.ConfigFile, err)
	}
	return cfg, nil
}

// firstDiff names the first line that differs between the run's config and the grid's.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("its %s has %q, the grid %q", results.ConfigFile, strings.TrimSpace(gl), strings.TrimSpace(wl))
		}
	}
	return "its config differs"
}

func readFailure(dir string) (Failure, bool) {
	data, err := os.ReadFile(filepath.Join(dir, FailureFile))
	if err != nil {
		return Failure{}, false
	}
	var f Failure
	if err := json.Unmarshal(data, &f); err != nil {
		f.Error = fmt.Sprintf("unreadable %s: %v", FailureFile, err)
	}
	return f, true
}

// writeFailure records in dir why the run failed.
func writeFailure(dir string, cause error) error {
	host, _ := os.Hostname()
	data, err := json.MarshalIndent(Failure{Error: cause.Error(), Host: host, Time: time.Now().UTC().Truncate(time.Second)}, "", "  ")
	if err != nil {
		return err
	}
	return results.WriteFileAtomic(filepath.Join(dir, FailureFile), append(data, '\n'))
}

// clearFailure removes the record of an earlier failed attempt.
func clearFailure(dir string) error {
	if err := os.Remove(filepath.Join(dir, FailureFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// Index is the content of index.json.
type Index struct {
	Sweep   string         `json:"sweep"`  // the sweep's name
	Config  string         `json:"config"` // the sweep config file
	Updated time.Time      `json:"updated"`
	Counts  map[Status]int `json:"counts"` // runs per status
	Runs    []Entry        `json:"runs"`
}

// Entry is one run of index.json.
type Entry struct {
	Index    int      `json:"index"`
	Name     string   `json:"name"`
	Dir      string   `json:"dir"` // relative to the sweep directory
	Dataset  string   `json:"dataset"`
	Variant  string   `json:"variant"`
	Ratio    string   `json:"ratio,omitempty"`
	Gradient string   `json:"gradient"`
	Seed     int64    `json:"seed"`
	Hash     string   `json:"config_sha256"` // of the config without threads and out (see Identity)
	Status   Status   `json:"status"`
	TestAcc  *float64 `json:"test_acc,omitempty"` // final test accuracy of a finished run
	Detail   string   `json:"detail,omitempty"`
}

// newEntry describes run r in state st.
func newEntry(r Run, st State) Entry {
	c := r.Config
	e := Entry{
		Index: r.Index, Name: r.Name, Dir: filepath.ToSlash(filepath.Join(RunsDir, r.Name)), Dataset: r.Dataset,
		Variant: c.Dropout.Variant, Ratio: c.Dropout.Ratio, Gradient: c.Dropout.Gradient, Seed: c.Seed,
		Hash: r.Hash, Status: st.Status, Detail: st.Detail,
	}
	if st.Status == Finished && st.Summary != nil {
		acc := st.Summary.FinalTestAcc
		e.TestAcc = &acc
	}
	return e
}

// WriteIndex atomically writes SWEEPDIR/index.json from the states of runs.
func WriteIndex(dir string, s *Spec, runs []Run, states []State) error {
	ix := Index{Sweep: s.Name, Config: s.File, Updated: time.Now().UTC().Truncate(time.Second), Counts: map[Status]int{}}
	if abs, err := filepath.Abs(s.File); err == nil {
		ix.Config = abs
	}
	for i, r := range runs {
		ix.Runs = append(ix.Runs, newEntry(r, states[i]))
		ix.Counts[states[i].Status]++
	}
	data, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: encoding %s: %w", IndexFile, err)
	}
	return results.WriteFileAtomic(filepath.Join(dir, IndexFile), append(data, '\n'))
}

// ReadIndex reads SWEEPDIR/index.json.
func ReadIndex(dir string) (Index, error) {
	var ix Index
	data, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		return ix, fmt.Errorf("sweep: %w", err)
	}
	if err := json.Unmarshal(data, &ix); err != nil {
		return ix, fmt.Errorf("sweep: %s: %w", filepath.Join(dir, IndexFile), err)
	}
	return ix, nil
}
