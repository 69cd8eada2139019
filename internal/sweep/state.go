package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/dropexp/dropexp/internal/results"
)

// Status is the state of one run of a grid, read from its run directory.
type Status string

// The statuses of a run. Finished and Diverged are final: a rerun of the
// sweep leaves those directories alone; so is Conflict, which no rerun can
// resolve.
const (
	Pending     Status = "pending"     // not started: no run directory of this run yet
	Unfinished  Status = "unfinished"  // started, no summary yet (or an unreadable one)
	Running     Status = "running"     // a process holds the run's lock now
	Interrupted Status = "interrupted" // stopped by a signal, or killed (its summary says running but nobody holds its lock); the next sweep resumes it
	Failed      Status = "failed"      // the last attempt ended with an error (failure.json says which)
	Finished    Status = "finished"
	Diverged    Status = "diverged" // the loss or the weights became NaN or infinite; rerunning the same seed would again
	Conflict    Status = "conflict" // no directory can be had: the run's names are taken by runs of other configs
)

// Statuses lists every status in the order summaries count them.
var Statuses = []Status{Finished, Diverged, Conflict, Failed, Interrupted, Unfinished, Running, Pending}

// Final reports whether a sweep leaves a run in status s alone.
func (s Status) Final() bool { return s == Finished || s == Diverged || s == Conflict }

// The files of a sweep directory.
const (
	IndexFile   = results.SweepIndex    // the grid and each run's status, derived from the run directories
	RunsDir     = results.SweepRunsDir  // the run directories
	LocksDir    = results.SweepLocksDir // one lock file per run, held while a process runs it
	FailureFile = "failure.json"        // in a run directory: why its last attempt failed
)

// State is what the run directories say about a run.
type State struct {
	Status   Status
	Dir      string           // the run's directory; "" while it has none
	Identity string           // the identity recorded in Dir
	Summary  *results.Summary // nil when the run has no summary.json
	Detail   string           // why it failed
	// Note is set when the run's plain name holds a run of another
	// config, so that this run has (or will get) a directory with an
	// identity suffix.
	Note string
}

// Failure is the content of failure.json.
type Failure struct {
	Error string    `json:"error"`
	Host  string    `json:"host"`
	Time  time.Time `json:"time"`
}

// Inspect reads the state of run r from the run directories under root
// (SWEEP/runs); locked reports whether a process holds the run's lock. fp
// is the fingerprint of r's data when this process has loaded them: then a
// directory is r's if it records r's identity. Without it ("", as for
// --list, which loads no data), a directory is r's if it records r's
// config with the data fingerprint it names; the sweep checks the data
// itself before it skips a run.
func Inspect(root string, r Run, locked bool, fp string) State {
	cands := results.Candidates(root, r.Name)
	plain, _ := results.ReadRecorded(cands[0])
	var match *results.Recorded
	for _, dir := range cands {
		rec, err := results.ReadRecorded(dir)
		if err != nil || rec.Identity == "" {
			continue
		}
		want := fp
		if want == "" {
			want = rec.DataFingerprint
		}
		if !rec.Holds(r.Config.Identities(want)...) {
			continue
		}
		// Without the data, several directories may hold this config on
		// different data: the one started last is the run now.
		if match == nil || started(rec).After(started(*match)) {
			match = &rec
		}
	}
	var st State
	if match == nil {
		if !plain.Empty() {
			st.Note = fmt.Sprintf("%s holds a run of another config; this run gets a directory of its own", rel(root, plain.Dir))
		} else if f, ok := readFailure(plain.Dir); ok {
			st.Status, st.Detail = Failed, f.Error
		}
		if locked {
			st.Status = Running
		} else if st.Status == "" {
			st.Status = Pending
		}
		return st
	}
	st.Dir, st.Identity, st.Summary = match.Dir, match.Identity, match.Summary
	if match.Dir != plain.Dir {
		st.Note = fmt.Sprintf("%s holds a run of another config; this run is in %s", rel(root, plain.Dir), rel(root, match.Dir))
	}
	sum := match.Summary
	switch {
	case locked:
		st.Status = Running
	case match.Damaged() != nil:
		// Never trained again if it finished (Final), and never taken for
		// finished without a summary to report: it waits for dropexp repair.
		st.Status, st.Detail = Failed, match.Damaged().Error()
	case sum != nil && (sum.Status == results.StatusFinished || sum.Status == results.StatusDiverged):
		st.Status = Status(sum.Status)
	case match.SummaryErr != nil:
		// An unreadable summary cannot be a finished run: summaries are written atomically.
		st.Status, st.Detail = Unfinished, match.SummaryErr.Error()
	default:
		if f, ok := readFailure(match.Dir); ok {
			st.Status, st.Detail = Failed, f.Error
		} else if sum != nil && sum.Status == results.StatusRunning {
			st.Status, st.Detail = Interrupted, "its summary says running but no process holds its lock (killed?); the next sweep resumes it"
		} else if sum != nil && sum.Status == results.StatusInterrupted {
			st.Status = Interrupted
		} else {
			st.Status = Unfinished
		}
	}
	return st
}

func started(rec results.Recorded) time.Time {
	if rec.Summary == nil {
		return time.Time{}
	}
	return rec.Summary.Started
}

// rel names dir as seen from the sweep directory (root's parent).
func rel(root, dir string) string {
	if r, err := filepath.Rel(filepath.Dir(root), dir); err == nil {
		return filepath.ToSlash(r)
	}
	return dir
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

// Index is the content of index.json, with the sweep's run statuses.
type Index = results.SweepIndexOf[Status]

// Entry is one run of index.json.
type Entry = results.SweepEntry[Status]

// newEntry describes run r in state st; fp is the fingerprint of its data if known.
func newEntry(r Run, st State, fp string) Entry {
	c := r.Config
	e := Entry{
		Index: r.Index, Name: r.Name, Dir: filepath.ToSlash(filepath.Join(RunsDir, r.Name)), Dataset: r.Dataset,
		Variant: c.Dropout.Variant, Ratio: c.Dropout.Ratio, Gradient: c.Dropout.Gradient, Seed: c.Seed,
		Identity: st.Identity, Status: st.Status, Detail: st.Detail, Note: st.Note,
	}
	base := r.Base
	if abs, err := filepath.Abs(base); err == nil && base != "" {
		base = abs
	}
	e.Base = &base
	for _, kv := range r.Axes {
		if e.Axes == nil {
			e.Axes = map[string]string{}
		}
		e.Axes[kv.Key] = kv.Value
	}
	if st.Dir != "" {
		e.Dir = filepath.ToSlash(filepath.Join(RunsDir, filepath.Base(st.Dir)))
	}
	if e.Identity == "" && fp != "" {
		e.Identity = c.Identity(fp)
	}
	if st.Status == Finished && st.Summary != nil && !math.IsNaN(st.Summary.FinalTestAcc) {
		acc := st.Summary.FinalTestAcc
		e.TestAcc = &acc
	}
	return e
}

// WriteIndex atomically writes SWEEPDIR/index.json from the states of runs.
func WriteIndex(dir string, s *Spec, runs []Run, states []State) error {
	return writeIndex(dir, s, runs, states, nil)
}

// writeIndex is WriteIndex with the data fingerprints this process knows
// (by grid index), for the identities of runs that have no directory yet.
func writeIndex(dir string, s *Spec, runs []Run, states []State, fps map[int]string) error {
	ix := Index{Sweep: s.Name, Config: s.File, Updated: time.Now().UTC().Truncate(time.Second), Counts: map[Status]int{}}
	if abs, err := filepath.Abs(s.File); err == nil && s.File != "" {
		ix.Config = abs
	}
	for i, r := range runs {
		ix.Runs = append(ix.Runs, newEntry(r, states[i], fps[r.Index]))
		ix.Counts[states[i].Status]++
	}
	data, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: encoding %s: %w", IndexFile, err)
	}
	return results.WriteFileAtomic(filepath.Join(dir, IndexFile), append(data, '\n'))
}

// ReadIndex reads SWEEPDIR/index.json.
func ReadIndex(dir string) (Index, error) { return results.ReadSweepIndex[Status](dir) }
