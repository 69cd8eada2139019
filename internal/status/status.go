// Package status shows how far runs and sweeps have got, read from the files
// a run directory holds (summary.json, metrics.csv, timing.csv, config.yaml,
// the heartbeat progress.json, a checkpoint) and from a sweep's index.json
// and lock files, without changing any of them: per run its state,
// iteration, latest training and test loss, test accuracy, images/s and
// ETA, and the sweep's progress and ETA as a whole.
package status

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/progress"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/sweep"
	"github.com/dropexp/dropexp/internal/train"
)

// The states of a run.
const (
	Pending     = "pending"     // no run directory (or no config.yaml) yet
	Running     = "running"     // a process trains it now
	Stalled     = "stalled"     // says running, but no process has touched it for a while: killed or crashed
	Interrupted = "interrupted" // stopped by a signal with a checkpoint
	Failed      = "failed"      // a sweep's attempt ended with an error (failure.json)
	Finished    = "finished"
	Diverged    = "diverged"
	Conflict    = "conflict" // a sweep found a finished run of another config here
	Damaged     = "damaged"  // summary.json cannot be read (or is missing beside a checkpoint): dropexp repair rebuilds it
)

// How long a run may go without a sign of life before status calls it
// stalled: a heartbeat is written every few seconds, but an evaluation of a
// large test set on a busy machine can take minutes; without a heartbeat
// (runs of older builds) the only signs are the files written at each
// evaluation.
const (
	heartbeatStale = 5 * time.Minute
	filesStale     = 30 * time.Minute
	pidReuse       = time.Hour // a live pid with a heartbeat this old is someone else's
)

// Run is what status knows about one run.
type Run struct {
	Name   string
	Dir    string
	State  string
	Detail string // why it failed or stalled, one line
	// Problems names each file of the run that could not be read, and why.
	Problems   []string
	Model      string
	Dataset    string // a sweep's data set label ("" outside sweeps)
	Iteration  int    // last finished iteration known (heartbeat, else the last evaluation)
	Iterations int    // the run's total; 0 unknown
	BatchSize  int
	TrainLoss  float64 // mean training loss since the previous evaluation; NaN unknown
	TrainAt    int     // the iteration TrainLoss was taken at
	TestLoss   float64 // of the last evaluation; NaN unknown
	TestAcc    float64 // NaN unknown
	EvalAt     int     // the last evaluation's iteration; 0 none
	DivergedAt int
	// ImagesPerSecond is the wall-clock training rate, evaluations
	// included, so that it predicts the time left; 0 unknown.
	ImagesPerSecond float64
	ETA             time.Duration // of a running run; -1 unknown
	Updated         time.Time     // the last sign of life: heartbeat or the newest file
}

// remaining returns the images the run still has to train.
func (r Run) remaining() float64 {
	if r.Iterations <= 0 || r.BatchSize <= 0 {
		return 0
	}
	return float64(max(r.Iterations-r.Iteration, 0) * r.BatchSize)
}

// Final reports whether the run is over (nothing will change it without a rerun).
func (r Run) Final() bool {
	switch r.State {
	case Finished, Diverged, Conflict:
		return true
	}
	return false
}

// Report is the status of a sweep directory, a results root or one run directory.
type Report struct {
	Dir   string
	Kind  string // "sweep", "results" or "run"
	Sweep string // the sweep's name, for a sweep directory
	Now   time.Time
	Runs  []Run
	// Done and Total count iterations over every run whose length is known.
	Done, Total int
	// ETA is the time until the last run ends at the current rates with the
	// runs now running in parallel; -1 when unknown (nothing running, or no
	// rate measured yet).
	ETA time.Duration
}

// Counts returns the number of runs in each state, in a fixed order.
func (r Report) Counts() [][2]string {
	var out [][2]string
	for _, s := range []string{Finished, Diverged, Running, Stalled, Interrupted, Failed, Damaged, Conflict, Pending} {
		n := 0
		for _, run := range r.Runs {
			if run.State == s {
				n++
			}
		}
		if n > 0 {
			out = append(out, [2]string{strconv.Itoa(n), s})
		}
	}
	return out
}

// Busy reports whether any run is running now.
func (r Report) Busy() bool {
	for _, run := range r.Runs {
		if run.State == Running {
			return true
		}
	}
	return false
}

// Read reads the status of dir at time now: a sweep directory (with
// index.json or runs/), a results root of `dropexp train` (run directories
// inside) or a single run directory.
func Read(dir string, now time.Time) (Report, error) {
	rep := Report{Dir: dir, Now: now, ETA: -1}
	fi, err := os.Stat(dir)
	if err != nil {
		return rep, fmt.Errorf("status: %w (give a sweep directory such as results/table1, or a run directory)", err)
	}
	if !fi.IsDir() {
		return rep, fmt.Errorf("status: %s is not a directory (give a sweep directory such as results/table1, or a run directory)", dir)
	}
	host, _ := os.Hostname()
	switch {
	case isRunDir(dir):
		rep.Kind = "run"
		name, parent := filepath.Base(filepath.Clean(dir)), filepath.Dir(filepath.Clean(dir))
		// A run of a sweep has its lock in the sweep directory, also when
		// dir is reached through a symbolic link.
		lock := results.LockPath(parent, results.PlainName(name))
		rep.Runs = []Run{readRun(name, dir, lock, host, now)}
	case exists(filepath.Join(dir, sweep.IndexFile)) || isDir(filepath.Join(dir, sweep.RunsDir)):
		rep.Kind = "sweep"
		rep.Runs, rep.Sweep, err = readSweep(dir, host, now)
		if err != nil {
			return rep, err
		}
	default:
		rep.Kind = "results"
		entries, err := os.ReadDir(dir)
		if err != nil {
			return rep, fmt.Errorf("status: %w", err)
		}
		for _, e := range entries {
			if p := filepath.Join(dir, e.Name()); e.IsDir() && isRunDir(p) {
				rep.Runs = append(rep.Runs, readRun(e.Name(), p, results.TrainLock(dir, e.Name()), host, now))
			}
		}
		if len(rep.Runs) == 0 {
			return rep, fmt.Errorf("status: no run directories in %s (a run directory holds config.yaml and summary.json; a sweep directory index.json and runs/)", dir)
		}
	}
	rep.total()
	return rep, nil
}

// readSweep reads every run of the sweep in dir: those index.json lists
// (pending ones included) in grid order, then any other run directory in runs/.
func readSweep(dir, host string, now time.Time) ([]Run, string, error) {
	var runs []Run
	seen := map[string]bool{}
	name := filepath.Base(filepath.Clean(dir))
	ix, err := sweep.ReadIndex(dir)
	switch {
	case err == nil:
		name = ix.Sweep
		for _, e := range ix.Runs {
			seen[e.Name] = true
			r := readRun(e.Name, filepath.Join(dir, filepath.FromSlash(e.Dir)), results.SweepLock(dir, e.Name), host, now)
			if e.Status == sweep.Conflict && r.State == Finished {
				r.State, r.Detail = Conflict, e.Detail
			}
			r.Dataset = e.Dataset
			runs = append(runs, r)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, name, fmt.Errorf("status: %w", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, sweep.RunsDir))
	for _, e := range entries {
		if !e.IsDir() || seen[e.Name()] {
			continue
		}
		runs = append(runs, readRun(e.Name(), filepath.Join(dir, sweep.RunsDir, e.Name()), results.SweepLock(dir, e.Name()), host, now))
	}
	// A run not started yet has no config to read its length from; the
	// runs of one data set share a protocol, so it gets its siblings'.
	for i := range runs {
		if runs[i].Iterations > 0 {
			continue
		}
		for _, o := range runs {
			if o.Iterations > 0 && o.Dataset == runs[i].Dataset {
				runs[i].Iterations, runs[i].BatchSize, runs[i].Model = o.Iterations, o.BatchSize, o.Model
				break
			}
		}
	}
	return runs, name, nil
}

// readRun reads the run in dir; lock is the sweep's lock file of the run ("" for none).
func readRun(name, dir, lock, host string, now time.Time) Run {
	r := Run{Name: name, Dir: dir, TrainLoss: math.NaN(), TestLoss: math.NaN(), TestAcc: math.NaN(), ETA: -1}
	cfgTime := readConfig(&r)
	if cfgTime.IsZero() {
		r.State = Pending
		if lock != "" && lockHeld(lock) {
			r.State = Running // the sweep has taken it and is about to write its config
		}
		return r
	}
	r.Updated = cfgTime
	sum, sumErr := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	problem := func(err error) {
		r.Problems = append(r.Problems, strings.TrimPrefix(err.Error(), "results: "))
	}
	if sumErr != nil && !errors.Is(sumErr, fs.ErrNotExist) {
		problem(sumErr)
	}
	if sumErr == nil {
		r.Model = cmpOr(sum.Model, r.Model)
		if sum.Iterations > 0 {
			r.Iterations = sum.Iterations
		}
		r.DivergedAt = sum.DivergedAt
	}
	rows, err := results.ReadMetrics(filepath.Join(dir, results.MetricsFile))
	if err == nil && len(rows) > 0 {
		last := rows[len(rows)-1]
		r.Iteration, r.EvalAt = last.Iteration, last.Iteration
		r.TrainLoss, r.TrainAt, r.TestLoss, r.TestAcc = last.TrainLoss, last.Iteration, last.TestLoss, last.TestAcc
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		problem(err)
	}
	if _, err := results.ReadTiming(filepath.Join(dir, results.TimingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		problem(err)
	}
	r.ImagesPerSecond = wallRate(dir, r.BatchSize)
	if sumErr == nil && sum.Status == results.StatusFinished && sum.WallSeconds > 0 && sum.Iterations > 0 && r.BatchSize > 0 {
		r.ImagesPerSecond = float64(sum.Iterations*r.BatchSize) / sum.WallSeconds
	}
	for _, f := range []string{results.SummaryFile, results.MetricsFile, results.TimingFile, train.CheckpointFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.ModTime().After(r.Updated) {
			r.Updated = fi.ModTime()
		}
	}
	hb, hbErr := progress.ReadHeartbeat(dir)
	if hbErr == nil {
		if hb.Updated.After(r.Updated) {
			r.Updated = hb.Updated
		}
		if hb.Iteration >= r.Iteration {
			r.Iteration = hb.Iteration
			if hb.Iteration > r.TrainAt && hb.TrainLoss != 0 {
				r.TrainLoss, r.TrainAt = hb.TrainLoss, hb.Iteration
			}
		}
		if r.Iterations == 0 {
			r.Iterations = hb.Iterations
		}
		if hb.ImagesPerSecond > 0 {
			r.ImagesPerSecond = hb.ImagesPerSecond
		}
	}
	locked := lock != "" && lockHeld(lock)
	// What the directory says without trusting summary.json, as train decides it.
	rec, _ := results.ReadRecorded(dir)
	if rec.Damaged() != nil {
		// The state's detail names summary.json and the repair.
		r.Problems = slices.DeleteFunc(r.Problems, func(p string) bool {
			return strings.HasPrefix(p, filepath.Join(dir, results.SummaryFile))
		})
	}
	switch {
	case !locked && rec.Damaged() != nil && rec.Final():
		// model.gob or the last metrics row: finished, whatever summary.json says.
		r.State, r.Iteration, r.Detail = Finished, max(r.Iteration, r.Iterations), rec.Damaged().Error()
	case !locked && rec.Damaged() != nil:
		r.State, r.Detail = Damaged, rec.Damaged().Error()
	case sumErr == nil && sum.Status == results.StatusFinished:
		r.State, r.Iteration = Finished, max(r.Iteration, sum.Iterations)
		if !sum.Finished.IsZero() {
			r.Updated = sum.Finished // files may be younger: copied, checked out
		}
	case sumErr == nil && sum.Status == results.StatusDiverged:
		r.State = Diverged
		if sum.DivergedAt > 0 {
			r.Iteration = sum.DivergedAt
		}
		if !sum.Finished.IsZero() {
			r.Updated = sum.Finished
		}
	case locked:
		r.State = Running
	case failed(dir, &r):
	case sumErr == nil && sum.Status == results.StatusInterrupted:
		r.State, r.Detail = Interrupted, "stopped by a signal; continue with: dropexp train --resume "+dir
	case hbErr == nil:
		r.State = Running
		age := now.Sub(hb.Updated)
		sameHost := hb.Host != "" && hb.Host == host
		switch {
		case sameHost && !alive(hb.PID):
			r.State, r.Detail = Stalled, fmt.Sprintf("its process %d is gone (killed or crashed) since %s; continue with: dropexp train --resume %s", hb.PID, since(age), dir)
		case sameHost && age > pidReuse, !sameHost && age > heartbeatStale:
			r.State, r.Detail = Stalled, fmt.Sprintf("no heartbeat for %s; continue with: dropexp train --resume %s", since(age), dir)
		}
	case now.Sub(r.Updated) > filesStale:
		r.State, r.Detail = Stalled, fmt.Sprintf("no file written for %s; continue with: dropexp train --resume %s", since(now.Sub(r.Updated)), dir)
	default:
		r.State = Running
	}
	if r.State == Running && r.ImagesPerSecond > 0 && r.Iterations > 0 {
		r.ETA = time.Duration(r.remaining() / r.ImagesPerSecond * float64(time.Second))
	}
	return r
}

// failed fills in a sweep's record of a failed attempt, if dir has one.
func failed(dir string, r *Run) bool {
	data, err := os.ReadFile(filepath.Join(dir, sweep.FailureFile))
	if err != nil {
		return false
	}
	r.State = Failed
	r.Detail = "see " + filepath.Join(dir, sweep.FailureFile)
	var f sweep.Failure
	if json.Unmarshal(data, &f) == nil && f.Error != "" {
		line, _, _ := strings.Cut(f.Error, "\n")
		r.Detail = line
	}
	return true
}

// readConfig takes the model, length and batch size from the run's
// config.yaml and returns its modification time (zero when it is missing).
func readConfig(r *Run) time.Time {
	path := filepath.Join(r.Dir, results.ConfigFile)
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	var cfg struct {
		Model string `yaml:"model"`
		Train struct {
			BatchSize  int `yaml:"batch_size"`
			Iterations int `yaml:"iterations"`
		} `yaml:"train"`
	}
	data, err := os.ReadFile(path)
	if err == nil {
		err = yaml.Unmarshal(data, &cfg)
	}
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", path, err))
	} else {
		r.Model, r.Iterations, r.BatchSize = cfg.Model, cfg.Train.Iterations, cfg.Train.BatchSize
	}
	return fi.ModTime()
}

// wallRate returns the wall-clock rate (evaluations included) up to the
// last row of the run's timing.csv, or 0 if there is none.
func wallRate(dir string, batch int) float64 {
	data, err := os.ReadFile(filepath.Join(dir, results.TimingFile))
	if err != nil || batch <= 0 {
		return 0
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) < 2 || len(rows[len(rows)-1]) < 2 {
		return 0
	}
	last := rows[len(rows)-1]
	it, err1 := strconv.Atoi(last[0])
	secs, err2 := strconv.ParseFloat(last[1], 64)
	if err1 != nil || err2 != nil || secs <= 0 {
		return 0
	}
	return float64(it*batch) / secs
}

// total fills in the report's iteration counts and ETA.
func (rep *Report) total() {
	// Runs not yet running are assumed to go at the rate of the other runs
	// of their model (they share the machine the same way).
	rates := map[string][]float64{}
	running := 0
	for _, r := range rep.Runs {
		if r.ImagesPerSecond > 0 {
			rates[r.Model] = append(rates[r.Model], r.ImagesPerSecond)
		}
		if r.State == Running {
			running++
		}
	}
	var work float64 // seconds of one job
	known := true
	for _, r := range rep.Runs {
		if r.Iterations > 0 {
			rep.Total += r.Iterations
			rep.Done += min(r.Iteration, r.Iterations)
		}
		if r.Final() {
			continue
		}
		if r.Iterations <= 0 {
			known = false
			continue
		}
		rate := r.ImagesPerSecond
		if rate <= 0 || r.State != Running {
			if rs := rates[r.Model]; len(rs) > 0 {
				rate = mean(rs)
			}
		}
		if rate <= 0 {
			known = false
			continue
		}
		work += r.remaining() / rate
	}
	switch {
	case running == 0 || !known:
		rep.ETA = -1
	default:
		rep.ETA = time.Duration(work / float64(running) * float64(time.Second))
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// since formats an age for a person: 3s, 4m10s, 2h5m, 3d4h.
func since(d time.Duration) string {
	d = max(d, 0) // another host's clock may run ahead
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	days := int(d / (24 * time.Hour))
	return fmt.Sprintf("%dd%dh", days, int((d-time.Duration(days)*24*time.Hour)/time.Hour))
}

func isRunDir(dir string) bool {
	return exists(filepath.Join(dir, results.ConfigFile)) || exists(filepath.Join(dir, results.SummaryFile))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
