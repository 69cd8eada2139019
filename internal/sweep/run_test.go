package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/train"
)

// fake is a stand-in trainer: it writes the files train.Run writes, and
// fails, panics or diverges for the runs named in its maps.
type fake struct {
	mu                  sync.Mutex
	calls               []string       // run directory names, in call order
	threads             map[string]int // Config.Threads per run
	points              map[string]*results.SweepPoint
	data                map[string]*dataset.Split
	fail                map[string]bool
	panics              map[string]bool
	diverges            map[string]bool
	running, maxRunning int // runs in train at once, now and at most
}

func newFake() *fake {
	return &fake{threads: map[string]int{}, points: map[string]*results.SweepPoint{}, data: map[string]*dataset.Split{}, fail: map[string]bool{}, panics: map[string]bool{}, diverges: map[string]bool{}}
}

func (f *fake) train(_ context.Context, opt train.Options) (results.Summary, error) {
	name := filepath.Base(opt.Dir)
	f.mu.Lock()
	f.calls = append(f.calls, name)
	f.threads[name] = opt.Config.Threads
	f.data[name] = opt.Data
	f.points[name] = opt.Sweep
	fail, panics, diverges := f.fail[name], f.panics[name], f.diverges[name]
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()
	time.Sleep(time.Millisecond) // runs that overlap show it
	if panics {
		panic("index out of range in " + name)
	}
	if _, err := writeRun(opt.Dir, opt.Config, opt.DataFingerprint, "running", 0); err != nil {
		return results.Summary{}, err
	}
	if fail {
		return results.Summary{}, errors.New("evaluation at iteration 5: out of memory")
	}
	if diverges {
		if _, err := writeRun(opt.Dir, opt.Config, opt.DataFingerprint, results.StatusDiverged, 0); err != nil {
			return results.Summary{}, err
		}
		return results.Summary{}, fmt.Errorf("%w: loss is NaN at iteration 3", train.ErrDiverged)
	}
	return writeRun(opt.Dir, opt.Config, opt.DataFingerprint, results.StatusFinished, 0.5)
}

// emptyFP is the fingerprint of the empty data fakeOptions loads.
var emptyFP = dataset.Fingerprint(&dataset.Split{})

// writeRun writes a run directory as train.Run leaves it: config.yaml with
// the identity of cfg on data of fingerprint fp, metrics.csv and, unless
// status is "", summary.json.
func writeRun(dir string, cfg config.Run, fp, status string, acc float64) (results.Summary, error) {
	id := cfg.Identity(fp)
	sum := results.Summary{Status: status, Identity: id, DataFingerprint: fp, FinalTestAcc: acc, Model: cfg.Model, Variant: cfg.Dropout.Variant, Seed: cfg.Seed, Started: time.Now()}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sum, err
	}
	y, err := cfg.YAML()
	if err != nil {
		return sum, err
	}
	if err := results.WriteConfig(filepath.Join(dir, results.ConfigFile), y, id, fp); err != nil {
		return sum, err
	}
	if err := results.WriteMetrics(filepath.Join(dir, results.MetricsFile), []results.Metric{{Iteration: 5, TestAcc: acc}}); err != nil {
		return sum, err
	}
	if status != "" {
		return sum, results.WriteSummary(filepath.Join(dir, results.SummaryFile), sum)
	}
	return sum, nil
}

func mustWriteRun(t *testing.T, dir string, cfg config.Run, status string, acc float64) {
	t.Helper()
	if _, err := writeRun(dir, cfg, emptyFP, status, acc); err != nil {
		t.Fatal(err)
	}
}

// grid expands a four-run grid: plain and standard, forward, backward at 0.3.
func grid(t *testing.T) (*Spec, []Run) {
	t.Helper()
	s := writeSpec(t, "name: t\nbase: base.yaml\naxes: {variant: [plain, standard, forward, backward], ratio: [0.3], seed: [1]}\n")
	runs, err := Expand(s, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return s, runs
}

func fakeOptions(dir string, f *fake) Options {
	return Options{Dir: dir, Jobs: 1, Cores: 4, Train: f.train, LockWait: time.Millisecond,
		LoadData: func(config.Run) (*dataset.Split, error) { return &dataset.Split{}, nil }}
}

// snapshot returns every file under dir with its content and modification time.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		m[p] = fmt.Sprintf("%s@%v", data, fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func statuses(t *testing.T, dir string) map[string]Status {
	t.Helper()
	ix, err := ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Status{}
	for _, e := range ix.Runs {
		m[e.Name] = e.Status
	}
	return m
}

func TestSkipAndResume(t *testing.T) {
	s, runs := grid(t)
	dir := t.TempDir()
	rd := func(i int) string { return filepath.Join(dir, RunsDir, runs[i].Name) }

	// 0: finished with the same config (other threads and out do not matter): skipped.
	same := runs[0].Config
	same.Threads, same.Out = 7, "/somewhere/else"
	mustWriteRun(t, rd(0), same, results.StatusFinished, 0.61)
	// 1: its name holds a finished run of another config: left untouched,
	// and the run goes to a directory of its own.
	other := runs[1].Config
	other.Train.Iterations = 99
	mustWriteRun(t, rd(1), other, results.StatusFinished, 0.62)
	// 2: a summary still saying running (the process was killed): rerun.
	mustWriteRun(t, rd(2), runs[2].Config, "running", 0)
	// 3: an earlier attempt failed: rerun, and the failure record goes.
	mustWriteRun(t, rd(3), runs[3].Config, "", 0)
	if err := writeFailure(rd(3), errors.New("disk full")); err != nil {
		t.Fatal(err)
	}
	before0, before1 := snapshot(t, rd(0)), snapshot(t, rd(1))

	f := newFake()
	var log bytes.Buffer
	opt := fakeOptions(dir, f)
	opt.Log = &log
	rep, err := Execute(context.Background(), s, runs, opt)
	if err != nil {
		t.Fatal(err)
	}
	own := runs[1].Name + "-" + results.ShortIdentity(runs[1].Config.Identity(emptyFP))
	if want := []string{own, runs[2].Name, runs[3].Name}; !slices.Equal(f.calls, want) {
		t.Errorf("trained %q, want %q", f.calls, want)
	}
	if after := snapshot(t, rd(0)); !mapsEqual(before0, after) {
		t.Errorf("finished run touched")
	}
	if after := snapshot(t, rd(1)); !mapsEqual(before1, after) {
		t.Errorf("finished run of another config touched")
	}
	if _, err := os.Stat(filepath.Join(rd(3), FailureFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failure record of a run that now finished: %v", err)
	}
	want := map[string]Status{runs[0].Name: Finished, runs[1].Name: Finished, runs[2].Name: Finished, runs[3].Name: Finished}
	if got := statuses(t, dir); !mapsEqual(got, want) {
		t.Errorf("index statuses %v, want %v", got, want)
	}
	ix, err := ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e := ix.Runs[1]; e.Dir != "runs/"+own || !strings.Contains(e.Note, "runs/"+runs[1].Name+" holds a run of another config") || e.Identity != runs[1].Config.Identity(emptyFP) {
		t.Errorf("index entry of the displaced run: %+v", e)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
	for _, w := range []string{runs[1].Name + ": runs/" + runs[1].Name, "holds a run of another config (- iterations: 99, + iterations: 10), left as it is", "this run goes to " + filepath.Join(dir, RunsDir, own),
		runs[0].Name + ": already finished"} {
		if !strings.Contains(log.String(), w) && !strings.Contains(log.String(), strings.ReplaceAll(w, "runs/", filepath.Join(dir, RunsDir)+"/")) {
			t.Errorf("log lacks %q:\n%s", w, log.String())
		}
	}

	// A second sweep finds everything final and trains nothing.
	f2 := newFake()
	if _, err := Execute(context.Background(), s, runs, fakeOptions(dir, f2)); err != nil {
		t.Fatal(err)
	}
	if len(f2.calls) != 0 {
		t.Errorf("rerun trained %q", f2.calls)
	}
}

// A finished run is skipped only if it was trained on the data the sweep
// loads now: the same images from another path are the same run, other
// images another run, which gets its own directory.
func TestSkipChecksTheData(t *testing.T) {
	s, runs := grid(t)
	runs = runs[:1]
	dir := t.TempDir()
	split := func(pix uint8) *dataset.Split {
		set := &dataset.Set{C: 1, H: 1, W: 1, Classes: []string{"a"}, Images: []uint8{pix}, Labels: []int32{0}}
		return &dataset.Split{Train: set, Test: set}
	}
	f := newFake()
	opt := fakeOptions(dir, f)
	opt.LoadData = func(config.Run) (*dataset.Split, error) { return split(1), nil }
	if _, err := Execute(context.Background(), s, runs, opt); err != nil {
		t.Fatal(err)
	}
	// The same pixels from elsewhere: skipped.
	runs[0].Config.Dataset.Path = "/a/copy"
	opt.LoadData = func(config.Run) (*dataset.Split, error) { return split(1), nil }
	if _, err := Execute(context.Background(), s, runs, opt); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 {
		t.Errorf("the same data from another path trained again: %q", f.calls)
	}
	// Another pixel: another run, beside the first.
	opt.LoadData = func(config.Run) (*dataset.Split, error) { return split(2), nil }
	rep, err := Execute(context.Background(), s, runs, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 2 || f.calls[1] == runs[0].Name || rep.Outcomes[0].Action != "ran" {
		t.Errorf("other data: trained %q (%s), want a second run in a directory of its own", f.calls, rep.Outcomes[0].Action)
	}
	if st := rep.Outcomes[0].State; st.Status != Finished || filepath.Base(st.Dir) != f.calls[1] {
		t.Errorf("state after training on other data: %+v", st)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestFailuresDoNotStopTheSweep(t *testing.T) {
	s := writeSpec(t, "name: t\nbase: base.yaml\naxes: {variant: [plain, standard], ratio: [0.3, 0.2], seed: [1, 2]}\n")
	runs, err := Expand(s, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := newFake()
	f.fail[runs[1].Name] = true
	f.panics[runs[2].Name] = true
	f.diverges[runs[3].Name] = true
	opt := fakeOptions(dir, f)
	opt.Jobs = 2
	rep, err := Execute(context.Background(), s, runs, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != len(runs) {
		t.Errorf("trained %d of %d runs: a failure stopped the sweep", len(f.calls), len(runs))
	}
	got := statuses(t, dir)
	want := map[string]Status{}
	for _, r := range runs {
		want[r.Name] = Finished
	}
	want[runs[1].Name], want[runs[2].Name], want[runs[3].Name] = Failed, Failed, Diverged
	if !mapsEqual(got, want) {
		t.Errorf("statuses %v\nwant %v", got, want)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "3 of 6 runs did not finish (1 diverged, 2 failed)") {
		t.Errorf("Err() = %v", err)
	}
	for i, w := range map[int]string{1: "out of memory", 2: "panic: index out of range in " + runs[2].Name} {
		fr, ok := readFailure(filepath.Join(dir, RunsDir, runs[i].Name))
		if !ok || !strings.Contains(fr.Error, w) {
			t.Errorf("%s: failure record %+v, want %q", runs[i].Name, fr, w)
		}
	}

	// The next sweep retries the failed runs, not the diverged one.
	f2 := newFake()
	rep, err = Execute(context.Background(), s, runs, fakeOptions(dir, f2))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{runs[1].Name, runs[2].Name}; !slices.Equal(f2.calls, want) {
		t.Errorf("retried %q, want %q", f2.calls, want)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "1 of 6 runs did not finish (1 diverged)") {
		t.Errorf("Err() = %v", err)
	}
}

func TestThreadsAndSharedData(t *testing.T) {
	s, runs := grid(t)
	dir := t.TempDir()
	f := newFake()
	loads := 0
	var mu sync.Mutex
	split := &dataset.Split{}
	opt := fakeOptions(dir, f)
	opt.Jobs, opt.Cores = 2, 5
	opt.LoadData = func(config.Run) (*dataset.Split, error) {
		mu.Lock()
		defer mu.Unlock()
		loads++
		return split, nil
	}
	if _, err := Execute(context.Background(), s, runs, opt); err != nil {
		t.Fatal(err)
	}
	if loads != 1 {
		t.Errorf("data loaded %d times for one data set", loads)
	}
	for _, r := range runs {
		if f.threads[r.Name] != 2 {
			t.Errorf("%s: %d threads, want 5 cores / 2 jobs = 2", r.Name, f.threads[r.Name])
		}
		if f.data[r.Name] != split {
			t.Errorf("%s: not given the shared data", r.Name)
		}
	}

	// A rerun with one run left to train gives it all the cores.
	if err := os.RemoveAll(filepath.Join(dir, RunsDir, runs[3].Name)); err != nil {
		t.Fatal(err)
	}
	f1 := newFake()
	opt.Train = f1.train
	if _, err := Execute(context.Background(), s, runs, opt); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f1.calls, []string{runs[3].Name}) || f1.threads[runs[3].Name] != 5 {
		t.Errorf("rerun trained %q with %v threads, want the one left with 5", f1.calls, f1.threads)
	}

	// --index runs one run, with all the cores.
	f2 := newFake()
	opt2 := fakeOptions(t.TempDir(), f2)
	opt2.Jobs, opt2.Cores, opt2.Indices = 2, 5, []int{2}
	if _, err := Execute(context.Background(), s, runs, opt2); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f2.calls, []string{runs[2].Name}) || f2.threads[runs[2].Name] != 5 {
		t.Errorf("--index 2 trained %q with %v threads", f2.calls, f2.threads)
	}
	opt2.Indices = []int{4}
	if _, err := Execute(context.Background(), s, runs, opt2); err == nil || !strings.Contains(err.Error(), "--index 4: the grid of") {
		t.Errorf("index out of range: %v", err)
	}
}

func TestBusyRunIsLeftToItsHolder(t *testing.T) {
	s, runs := grid(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, LocksDir), 0o755); err != nil {
		t.Fatal(err)
	}
	l, ok, err := results.TryLock(filepath.Join(dir, LocksDir, runs[0].Name+".lock"))
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer l.Unlock()
	f := newFake()
	rep, err := Execute(context.Background(), s, runs, fakeOptions(dir, f))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(f.calls, runs[0].Name) {
		t.Errorf("trained a run another process holds")
	}
	if o := rep.Outcomes[0]; o.Action != "busy" || o.State.Status != Running {
		t.Errorf("outcome %+v", o)
	}
	if got := statuses(t, dir)[runs[0].Name]; got != Running {
		t.Errorf("index says %s for a locked run", got)
	}
}

func TestCancelledSweepStartsNothing(t *testing.T) {
	s, runs := grid(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFake()
	rep, err := Execute(ctx, s, runs, fakeOptions(t.TempDir(), f))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 0 || rep.Err() == nil {
		t.Errorf("cancelled sweep trained %q, Err %v", f.calls, rep.Err())
	}
}

// The index is derived: rebuilt from the run directories alone it is the
// same, and it is written atomically (no temporary file stays behind).
func TestIndexIsDerived(t *testing.T) {
	s, runs := grid(t)
	dir := t.TempDir()
	f := newFake()
	f.fail[runs[1].Name] = true
	if _, err := Execute(context.Background(), s, runs, fakeOptions(dir, f)); err != nil {
		t.Fatal(err)
	}
	first, err := ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, IndexFile)); err != nil {
		t.Fatal(err)
	}
	if err := WriteIndex(dir, s, runs, Scan(dir, runs)); err != nil {
		t.Fatal(err)
	}
	again, err := ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(first.Runs)
	b, _ := json.Marshal(again.Runs)
	if !bytes.Equal(a, b) || !mapsEqual(first.Counts, again.Counts) {
		t.Errorf("index from the run directories differs:\n%+v\n%+v", first.Runs, again.Runs)
	}
	if first.Counts[Finished] != 3 || first.Counts[Failed] != 1 || first.Runs[1].Detail == "" {
		t.Errorf("counts %v, run 1 %+v", first.Counts, first.Runs[1])
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	// A run directory changed by hand shows in the next index.
	if err := os.RemoveAll(filepath.Join(dir, RunsDir, runs[0].Name)); err != nil {
		t.Fatal(err)
	}
	if err := WriteIndex(dir, s, runs, Scan(dir, runs)); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, dir)[runs[0].Name]; got != Pending {
		t.Errorf("removed run is %s in the index, want pending", got)
	}
}

func TestInspect(t *testing.T) {
	_, runs := grid(t)
	r := runs[1]
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		want  Status
	}{
		{"nothing", func(string) {}, Pending},
		{"config only", func(d string) { mustWriteRun(t, d, r.Config, "", 0) }, Unfinished},
		{"interrupted", func(d string) { mustWriteRun(t, d, r.Config, "interrupted", 0) }, Interrupted},
		{"killed: running, but nobody holds the lock", func(d string) { mustWriteRun(t, d, r.Config, "running", 0) }, Interrupted},
		{"diverged", func(d string) { mustWriteRun(t, d, r.Config, results.StatusDiverged, 0) }, Diverged},
		{"finished", func(d string) { mustWriteRun(t, d, r.Config, results.StatusFinished, 0.5) }, Finished},
		{"finished, config unreadable", func(d string) {
			mustWriteRun(t, d, r.Config, results.StatusFinished, 0.5)
			os.WriteFile(filepath.Join(d, results.ConfigFile), []byte("model: [\n"), 0o644)
		}, Pending},
		{"finished, config from a newer dropexp", func(d string) {
			mustWriteRun(t, d, r.Config, results.StatusFinished, 0.5)
			y, _ := r.Config.YAML()
			os.WriteFile(filepath.Join(d, results.ConfigFile), append(y, "future_key: 1\n"...), 0o644)
		}, Pending},
		// Not retrained (it may have finished): failed until dropexp repair rebuilds the summary.
		{"summary unreadable", func(d string) {
			mustWriteRun(t, d, r.Config, "", 0)
			os.WriteFile(filepath.Join(d, results.SummaryFile), []byte("{"), 0o644)
		}, Failed},
		{"finished, summary unreadable", func(d string) {
			mustWriteRun(t, d, r.Config, results.StatusFinished, 0.5)
			os.WriteFile(filepath.Join(d, results.ModelFile), []byte("model"), 0o644)
			os.WriteFile(filepath.Join(d, results.SummaryFile), []byte("{"), 0o644)
		}, Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), r.Name)
			tc.setup(dir)
			st := Inspect(filepath.Dir(dir), r, false, "")
			if st.Status != tc.want {
				t.Errorf("status %s, want %s", st.Status, tc.want)
			}
			if strings.Contains(tc.name, "summary unreadable") && !strings.Contains(st.Detail, "dropexp repair "+dir) {
				t.Errorf("detail %q lacks the repair command", st.Detail)
			}
		})
	}
}

// More jobs than cores train at most one run per core, one thread each,
// and say so.
func TestJobsNeverExceedCores(t *testing.T) {
	s, runs := grid(t)
	f := newFake()
	var log strings.Builder
	opt := fakeOptions(t.TempDir(), f)
	opt.Jobs, opt.Cores, opt.Log = 4, 2, &log
	if _, err := Execute(context.Background(), s, runs, opt); err != nil {
		t.Fatal(err)
	}
	if f.maxRunning > 2 {
		t.Errorf("%d runs at once on 2 cores", f.maxRunning)
	}
	for _, r := range runs {
		if f.threads[r.Name] != 1 {
			t.Errorf("%s: %d threads, want 1", r.Name, f.threads[r.Name])
		}
	}
	if !strings.Contains(log.String(), "4 jobs on 2 cores: training 2 runs at a time") {
		t.Errorf("log does not say the jobs were capped:\n%s", log.String())
	}
}

// A run trained by a sweep records its grid point (data label and key
// axes) for summary.json, so a report needs no directory name to know it.
func TestExecuteRecordsGridPoint(t *testing.T) {
	s := writeSpec(t, "name: t\nbase: base.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1], train.lr: [0.5], dataset: [{label: lab}, {label: other}]}\n")
	runs, err := Expand(s, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	if _, err := Execute(context.Background(), s, runs, fakeOptions(t.TempDir(), f)); err != nil {
		t.Fatal(err)
	}
	p := f.points[runs[0].Name]
	if p == nil || p.DataLabel != "lab" || p.Axes["train.lr"] != "0.5" {
		t.Errorf("grid point recorded: %+v", p)
	}
}
