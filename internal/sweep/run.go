package sweep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/runner"
	"github.com/dropexp/dropexp/internal/threads"
	"github.com/dropexp/dropexp/internal/train"
)

// DefaultJobs is how many runs train at once when Options.Jobs is 0: one
// single-threaded run per core. Measured on 2 cores (ConvNet-Quick, batch
// 100, OpenBLAS): two 1-thread runs at once train 501 + 495 = 996 img/s, one
// 2-thread run 859 img/s, because the ops' parallel-for leaves gaps that a
// second process fills.
func DefaultJobs() int { return runtime.NumCPU() }

// TrainFunc trains one run into opt.Dir, as train.Run does.
type TrainFunc = runner.TrainFunc

// Options configure Execute.
type Options struct {
	Dir      string                                   // the sweep directory
	Jobs     int                                      // runs at a time; 0: DefaultJobs
	Cores    int                                      // cores shared by the jobs (each run's threads = Cores/Jobs); 0: all
	Indices  []int                                    // grid positions to run, in this order; nil: all
	Log      io.Writer                                // a line per run start and finish, and each run's progress; nil: none
	Train    TrainFunc                                // nil: train.Run
	LoadData func(config.Run) (*dataset.Split, error) // nil: runner.LoadData
	LockWait time.Duration                            // how long a run waits for its lock; 0: DefaultLockWait
	// AllowKernelChange resumes runs computed so far by another kernel
	// set, dropexp or Go version (recorded in their summaries).
	AllowKernelChange bool
}

// Outcome is what one sweep process did with one run.
type Outcome struct {
	Run    Run
	Action string // ran, skipped (already final), busy (another process runs it), not started (cancelled)
	State  State  // the run directory's state afterwards
	Err    error  // the error of the attempt, if it ran and failed
}

// Report is the outcome of every run Execute was asked to run.
type Report struct {
	Sweep    string
	Outcomes []Outcome
	Took     time.Duration // wall time of Execute
}

// DefaultLockWait bounds how long a run waits for its lock: another process
// holds it for a moment when it reads the run's state, and for hours when it
// trains the run.
const DefaultLockWait = 2 * time.Second

// Execute runs the selected runs of the grid into opt.Dir, opt.Jobs at a
// time, skipping runs whose directory already holds a final result. A failed
// run is recorded and the others go on; Report.Err says whether all finished.
// The error is for problems that stop the sweep as a whole.
func Execute(ctx context.Context, s *Spec, runs []Run, opt Options) (rep Report, err error) {
	rep = Report{Sweep: s.Name}
	began := time.Now()
	defer func() { rep.Took = time.Since(began) }()
	selected := runs
	if opt.Indices != nil {
		selected = nil
		for _, i := range opt.Indices {
			if err := checkIndex(i, len(runs), s.Source()); err != nil {
				return rep, fmt.Errorf("sweep: --index %d: %w", i, err)
			}
			selected = append(selected, runs[i])
		}
	}
	for _, d := range []string{RunsDir, LocksDir} {
		if err := os.MkdirAll(filepath.Join(opt.Dir, d), 0o755); err != nil {
			return rep, fmt.Errorf("sweep: creating the sweep directory: %w", err)
		}
	}
	x := &executor{
		dir: opt.Dir, spec: s, runs: runs, log: opt.Log, train: opt.Train, lockWait: cmp.Or(opt.LockWait, DefaultLockWait),
		data: &dataCache{load: opt.LoadData, m: map[string]*dataEntry{}}, fps: map[int]string{},
		allowKernelChange: opt.AllowKernelChange,
	}
	if x.log == nil {
		x.log = io.Discard
	}
	if x.train == nil {
		x.train = train.Run
	}
	if x.data.load == nil {
		// Errors name the keys that chose the data; the load log goes to the sweep's log.
		x.data.load = func(c config.Run) (*dataset.Split, error) { return runner.LoadData(c, x.log) }
	}
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = DefaultJobs()
	}
	// Cores go to the runs left to train: a rerun that finds all but one
	// finished gives that one every core.
	todo := 0
	for _, st := range Scan(opt.Dir, selected) {
		// Without the data loaded yet, a run counts as done by the config
		// and data fingerprint its directory records; do checks the data.
		if !st.Status.Final() && st.Status != Running {
			todo++
		}
	}
	cores := opt.Cores
	if cores <= 0 {
		cores = threads.Resolve(0).Threads() // every core, as a run's threads 0
	}
	// Never more busy threads than cores: runs beyond them would only
	// take turns on the cores, and every step would wait for a run that
	// the OS has descheduled.
	if jobs > cores && todo > cores {
		fmt.Fprintf(x.log, "sweep: %d jobs on %d cores: training %d runs at a time\n", jobs, cores, cores)
	}
	jobs = max(1, min(jobs, todo, cores))
	x.threads = max(1, cores/jobs)
	x.progress = x.log
	if jobs > 1 {
		// Concurrent runs share the log line by line; not being a terminal
		// file, it also makes their reporters print lines rather than bars.
		x.progress = &lineWriter{w: x.log}
		x.log = x.progress
	}
	if err := x.writeIndex(); err != nil {
		return rep, err
	}

	rep.Outcomes = make([]Outcome, len(selected))
	next := make(chan int)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for i := range next {
				rep.Outcomes[i] = x.do(ctx, selected[i])
				if err := x.writeIndex(); err != nil {
					fmt.Fprintf(x.log, "sweep: %v\n", err)
				}
			}
		})
	}
	for i := range selected {
		next <- i
	}
	close(next)
	wg.Wait()
	return rep, x.writeIndex()
}

// executor holds what the workers of one Execute share.
type executor struct {
	dir      string
	spec     *Spec
	runs     []Run
	threads  int
	log      io.Writer // start and finish lines
	progress io.Writer // the runs' reporters
	train    TrainFunc
	data     *dataCache
	lockWait time.Duration
	// allowKernelChange is Options.AllowKernelChange.
	allowKernelChange bool
	indexMu           sync.Mutex
	fpMu              sync.Mutex
	fps               map[int]string // data fingerprint by grid index, once loaded
}

func (x *executor) runsDir() string { return filepath.Join(x.dir, RunsDir) }

// lockPath is the run's lock file, the one `dropexp train --resume` takes too.
func lockPath(dir string, r Run) string { return results.SweepLock(dir, r.Name) }

func (x *executor) fp(r Run) string {
	x.fpMu.Lock()
	defer x.fpMu.Unlock()
	return x.fps[r.Index]
}

func (x *executor) inspect(r Run, locked bool) State {
	return Inspect(x.runsDir(), r, locked, x.fp(r))
}

// writeIndex rewrites index.json from the run directories.
func (x *executor) writeIndex() error {
	x.indexMu.Lock()
	defer x.indexMu.Unlock()
	x.fpMu.Lock()
	fps := maps.Clone(x.fps)
	x.fpMu.Unlock()
	return writeIndex(x.dir, x.spec, x.runs, scan(x.dir, x.runs, fps), fps)
}

// Scan returns the state of every run of a grid in the sweep directory dir,
// from the run directories alone (no data are loaded; see Inspect).
func Scan(dir string, runs []Run) []State { return scan(dir, runs, nil) }

func scan(dir string, runs []Run, fps map[int]string) []State {
	states := make([]State, len(runs))
	for i, r := range runs {
		states[i] = Inspect(filepath.Join(dir, RunsDir), r, locked(lockPath(dir, r)), fps[r.Index])
	}
	return states
}

// locked reports whether some process (this one included) holds the lock file.
func locked(path string) bool {
	if _, err := os.Stat(path); err != nil {
		return false // never locked; and probing must not create lock files in a read-only look
	}
	l, ok, err := results.TryLock(path)
	if err != nil || !ok {
		return err == nil
	}
	l.Unlock()
	return false
}

// do runs r unless its directory holds a final result or another process has it.
func (x *executor) do(ctx context.Context, r Run) Outcome {
	out := Outcome{Run: r}
	tag := fmt.Sprintf("sweep [%d/%d] %s", r.Index+1, len(x.runs), r.Name)
	if ctx.Err() != nil {
		out.Action, out.State = "not started", x.inspect(r, false)
		return out
	}
	lock, err := x.lock(ctx, r)
	if err != nil {
		out.Action, out.Err, out.State = "not started", err, State{Status: Failed, Detail: err.Error()}
		fmt.Fprintf(x.log, "%s: %v\n", tag, err)
		return out
	}
	if lock == nil {
		out.Action, out.State = "busy", State{Status: Running, Detail: "another process holds " + lockPath(x.dir, r)}
		fmt.Fprintf(x.log, "%s: running in another process, left to it\n", tag)
		return out
	}
	defer lock.Unlock()
	// The identity holds the data fingerprint, so the data come first: a
	// finished run is skipped only if it was trained on these data.
	data, fp, err := x.data.get(r.Config)
	if err != nil {
		return x.failed(r, tag, err)
	}
	x.fpMu.Lock()
	x.fps[r.Index] = fp
	x.fpMu.Unlock()
	plan, err := runner.PlanRun(x.runsDir(), r.Name, r.Config, fp)
	if err != nil {
		out.Action, out.Err, out.State = "skipped", err, State{Status: Conflict, Detail: err.Error()}
		fmt.Fprintf(x.log, "%s: conflict: %v\n", tag, err)
		return out
	}
	if plan.Taken != "" {
		fmt.Fprintf(x.log, "%s: %s; this run goes to %s\n", tag, plan.Taken, plan.Dir)
	}
	if err := plan.Recorded.Damaged(); err != nil {
		out.Action, out.Err, out.State = "skipped", err, x.inspect(r, false)
		fmt.Fprintf(x.log, "%s: skipped: %v\n", tag, err)
		return out
	}
	if plan.Action == runner.Done {
		// We hold the lock: a checkpoint a killed pass left beside a finished run goes.
		if removed, err := plan.Recorded.RemoveStaleCheckpoint(); err != nil {
			fmt.Fprintf(x.log, "%s: %v\n", tag, err)
		} else if removed {
			fmt.Fprintf(x.log, "%s: removed the checkpoint a killed pass left beside the finished run\n", tag)
		}
		out.Action, out.State = "skipped", x.inspect(r, false)
		fmt.Fprintf(x.log, "%s: already %s (%s), skipped\n", tag, out.State.Status, plan.Dir)
		return out
	}
	out.Action = "ran"
	was := ""
	if plan.Action == runner.Continue {
		was = " (was " + string(x.inspect(r, false).Status) + ")"
	}
	fmt.Fprintf(x.log, "%s: %s%s\n", tag, plan.Start(r.Config, r.Dataset, false), was)
	// index.json says running while the run trains (Inspect sees the lock).
	if err := x.writeIndex(); err != nil {
		fmt.Fprintf(x.log, "sweep: %v\n", err)
	}
	began := time.Now()
	sum, err := x.attempt(ctx, r, plan, data, fp)
	err = runner.Explain(err, plan.Dir)
	out.Err = err
	if err != nil && !errors.Is(err, train.ErrDiverged) && ctx.Err() == nil {
		if werr := writeFailure(plan.Dir, err); werr != nil {
			err = errors.Join(err, werr)
			out.Err = err
		}
	}
	out.State = x.inspect(r, false)
	took := time.Since(began).Round(time.Second)
	switch {
	case err == nil && out.State.Status == Finished:
		fmt.Fprintf(x.log, "%s: finished: %s  in %s\n", tag, runner.Result(sum), took)
	case err == nil:
		// The trainer returned without a final summary: a bug, not the run's fault.
		out.Err = fmt.Errorf("training returned but %s says %s", filepath.Join(plan.Dir, results.SummaryFile), out.State.Status)
		fmt.Fprintf(x.log, "%s: %v\n", tag, out.Err)
	default:
		fmt.Fprintf(x.log, "%s: %s after %s: %v\n", tag, out.State.Status, took, firstLine(err.Error()))
	}
	return out
}

// failed records an attempt that failed before the run had a directory of
// its own (its data did not load): in the run's plain directory if that
// holds no run, so the index shows it.
func (x *executor) failed(r Run, tag string, err error) Outcome {
	out := Outcome{Run: r, Action: "ran", Err: err}
	plain := filepath.Join(x.runsDir(), r.Name)
	if rec, rerr := results.ReadRecorded(plain); rerr == nil && rec.Empty() {
		if _, derr := results.NewRunDir(x.runsDir(), r.Name); derr == nil {
			if werr := writeFailure(plain, err); werr != nil {
				out.Err = errors.Join(err, werr)
			}
		}
	}
	out.State = x.inspect(r, false)
	if out.State.Status != Failed {
		out.State.Status, out.State.Detail = Failed, err.Error()
	}
	fmt.Fprintf(x.log, "%s: failed: %v\n", tag, firstLine(err.Error()))
	return out
}

// lock takes r's lock, waiting up to x.lockWait for a momentary holder; nil
// means another process is running r.
func (x *executor) lock(ctx context.Context, r Run) (*results.Lock, error) {
	deadline := time.Now().Add(x.lockWait)
	for {
		l, ok, err := results.TryLock(lockPath(x.dir, r))
		if err != nil || ok {
			return l, err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// attempt trains r as plan says, turning a panic into an error so the sweep goes on.
func (x *executor) attempt(ctx context.Context, r Run, plan runner.Plan, data *dataset.Split, fp string) (sum results.Summary, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	if err := clearFailure(plan.Dir); err != nil {
		return sum, err
	}
	// Threads are not part of the identity, and do not change the numbers:
	// a resumed run takes the threads this sweep gives it.
	cfg := r.Config
	cfg.Threads = x.threads
	cfg.Out = filepath.Dir(plan.Dir)
	next := x.train
	if next == nil {
		next = train.Run
	}
	point := r.Point()
	recordPoint := func(ctx context.Context, opt train.Options) (results.Summary, error) {
		opt.Sweep = &point
		return next(ctx, opt)
	}
	return runner.Train(ctx, recordPoint, cfg, plan, data, fp, runner.Mode{AllowKernelChange: x.allowKernelChange}, x.progress)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// dataCache loads each data set once and shares it between runs (a Split
// is only read by training), with its fingerprint.
type dataCache struct {
	load func(config.Run) (*dataset.Split, error)
	mu   sync.Mutex
	m    map[string]*dataEntry
}

type dataEntry struct {
	once  sync.Once
	split *dataset.Split
	fp    string
	err   error
}

// get returns the data of cfg and their fingerprint, loading them on first use.
func (c *dataCache) get(cfg config.Run) (*dataset.Split, string, error) {
	d := cfg.Dataset
	key := fmt.Sprintf("%s\x00%s\x00%d\x00%d", d.Name, d.Path, d.TrainLimit, d.TestLimit)
	c.mu.Lock()
	e, ok := c.m[key]
	if !ok {
		e = &dataEntry{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		if e.split, e.err = c.load(cfg); e.err == nil {
			e.fp = dataset.Fingerprint(e.split)
		}
	})
	return e.split, e.fp, e.err
}

// lineWriter serialises writes, so lines from concurrent runs do not interleave.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Err returns nil if every run ended finished, or an error counting the others.
func (r Report) Err() error {
	counts := map[Status]int{}
	bad := 0
	for _, o := range r.Outcomes {
		if o.State.Status != Finished {
			counts[o.State.Status]++
			bad++
		}
	}
	if bad == 0 {
		return nil
	}
	var parts []string
	for _, s := range Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return fmt.Errorf("sweep %s: %d of %d runs did not finish (%s)", r.Sweep, bad, len(r.Outcomes), strings.Join(parts, ", "))
}

// WriteSummary writes the count per status and a line per run that did not finish.
func (r Report) WriteSummary(w io.Writer) {
	counts := map[Status]int{}
	actions := map[string]int{}
	for _, o := range r.Outcomes {
		counts[o.State.Status]++
		actions[o.Action]++
	}
	var parts []string
	for _, s := range Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	var acts []string
	for _, a := range []string{"ran", "skipped", "busy", "not started"} {
		if actions[a] > 0 {
			acts = append(acts, fmt.Sprintf("%d %s", actions[a], a))
		}
	}
	fmt.Fprintf(w, "sweep %s: %d runs: %s (%s) in %s\n", r.Sweep, len(r.Outcomes), strings.Join(parts, ", "), strings.Join(acts, ", "), r.Took.Round(time.Second))
	outs := slices.Clone(r.Outcomes)
	slices.SortStableFunc(outs, func(a, b Outcome) int {
		return slices.Index(Statuses, a.State.Status) - slices.Index(Statuses, b.State.Status)
	})
	for _, o := range outs {
		if o.State.Status == Finished {
			continue
		}
		detail := o.State.Detail
		if o.Err != nil {
			detail = o.Err.Error()
		}
		if detail == "" && o.State.Summary != nil && o.State.Status == Diverged {
			detail = fmt.Sprintf("loss not finite at iteration %d", o.State.Summary.DivergedAt)
		}
		fmt.Fprintf(w, "  %-11s %s: %s\n", o.State.Status, o.Run.Name, firstLine(detail))
	}
}
