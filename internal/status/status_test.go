//go:build unix

// The tests hold run locks with flock, as the sweep does on Unix (locks are
// no-ops elsewhere).

package status

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/progress"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/sweep"
)

// now is the time the fixtures are read at; their files are written just before.
var now = time.Now().Truncate(time.Second)

// fixture is one run directory to write.
type fixture struct {
	name      string
	summary   string // status in summary.json; "" for none
	metrics   []results.Metric
	timing    []results.Timing
	heartbeat *progress.Heartbeat
	failure   string
	locked    bool // a process holds the sweep's lock on it
	noDir     bool // pending: the sweep has not made its directory
}

const runConfig = "model: convnet-quick\ntrain:\n  batch_size: 100\n  iterations: 1000\n"

// writeSweep writes a sweep directory with index.json and the fixtures'
// run directories, and returns it with a function that releases the locks.
func writeSweep(t *testing.T, fs []fixture) string {
	t.Helper()
	dir := t.TempDir()
	ix := sweep.Index{Sweep: "table1", Counts: map[sweep.Status]int{}}
	for i, f := range fs {
		ix.Runs = append(ix.Runs, sweep.Entry{Index: i, Name: f.name, Dir: "runs/" + f.name, Dataset: "cifar10", Status: sweep.Pending})
		if f.locked {
			os.MkdirAll(filepath.Join(dir, sweep.LocksDir), 0o755)
			lf, err := os.Create(filepath.Join(dir, sweep.LocksDir, f.name+".lock"))
			if err != nil {
				t.Fatal(err)
			}
			if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { lf.Close() })
		}
		if f.noDir {
			continue
		}
		writeRun(t, filepath.Join(dir, sweep.RunsDir, f.name), f)
	}
	data, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(dir, sweep.IndexFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeRun(t *testing.T, rd string, f fixture) {
	t.Helper()
	if err := os.MkdirAll(rd, 0o755); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(rd, results.ConfigFile), []byte(runConfig), 0o644))
	if f.summary != "" {
		s := results.Summary{Status: f.summary, Model: "convnet-quick", Iterations: 1000, Started: now.Add(-time.Hour)}
		if f.summary == results.StatusFinished {
			s.Finished, s.WallSeconds = now.Add(-10*time.Minute), 200 // 1000 × 100 images in 200 s: 500 img/s
		}
		if f.summary == results.StatusDiverged {
			s.DivergedAt, s.Finished = 321, now.Add(-time.Minute)
		}
		must(results.WriteSummary(filepath.Join(rd, results.SummaryFile), s))
	}
	if f.metrics != nil {
		must(results.WriteMetrics(filepath.Join(rd, results.MetricsFile), f.metrics))
	}
	if f.timing != nil {
		must(results.WriteTiming(filepath.Join(rd, results.TimingFile), f.timing))
	}
	if f.heartbeat != nil {
		data, _ := json.Marshal(f.heartbeat)
		must(os.WriteFile(filepath.Join(rd, progress.HeartbeatFile), data, 0o644))
	}
	if f.failure != "" {
		data, _ := json.Marshal(sweep.Failure{Error: f.failure + "\nstack", Time: now})
		must(os.WriteFile(filepath.Join(rd, sweep.FailureFile), data, 0o644))
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot start a process:", err)
	}
	return cmd.Process.Pid
}

func TestReadSweep(t *testing.T) {
	host, _ := os.Hostname()
	m := func(it int, train, test, acc float64) results.Metric {
		return results.Metric{Iteration: it, TrainLoss: train, TestLoss: test, TestAcc: acc}
	}
	dir := writeSweep(t, []fixture{
		{name: "plain-layer-s1", summary: results.StatusFinished, metrics: []results.Metric{m(500, 1, 1, 0.5), m(1000, 0.5, 0.8, 0.7)}},
		// Trained by this process (alive), 250 img/s, 400 of 1000 iterations.
		{name: "standard-p0.3-layer-s1", summary: results.StatusRunning, metrics: []results.Metric{m(250, 1.5, 1.2, 0.6)},
			heartbeat: &progress.Heartbeat{Iteration: 400, Iterations: 1000, BatchSize: 100, TrainLoss: 1.25, ImagesPerSecond: 250, Updated: now.Add(-3 * time.Second), PID: os.Getpid(), Host: host}},
		// Held by a sweep's lock, no heartbeat yet (an older build): the rate comes from timing.csv.
		{name: "forward-p0.3-layer-s1", summary: results.StatusRunning, locked: true, metrics: []results.Metric{m(500, 2, 1.9, 0.3)},
			timing: []results.Timing{{Iteration: 500, Seconds: 200, ImagesPerSecond: 300}}},
		// Its process is gone.
		{name: "backward-p0.3-layer-s1", summary: results.StatusRunning,
			heartbeat: &progress.Heartbeat{Iteration: 120, Iterations: 1000, BatchSize: 100, TrainLoss: 2, ImagesPerSecond: 250, Updated: now.Add(-2 * time.Hour), PID: deadPID(t), Host: host}},
		{name: "standard-p0.2-layer-s1", summary: results.StatusDiverged, metrics: []results.Metric{m(250, 3, 3, 0.1)}},
		{name: "forward-p0.2-layer-s1", failure: "dataset.path data/x: no such file"},
		{name: "backward-p0.2-layer-s1", summary: results.StatusInterrupted, metrics: []results.Metric{m(250, 1, 1, 0.5)}},
		{name: "plain-layer-s2", noDir: true},
	})
	rep, err := Read(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "sweep" || rep.Sweep != "table1" || len(rep.Runs) != 8 {
		t.Fatalf("kind %q sweep %q, %d runs", rep.Kind, rep.Sweep, len(rep.Runs))
	}
	type want struct {
		state     string
		iter      int
		trainLoss float64
		testAcc   float64
		ips       float64
		eta       time.Duration
	}
	nan := math.NaN()
	for i, w := range []want{
		{Finished, 1000, 0.5, 0.7, 500, -1},
		{Running, 400, 1.25, 0.6, 250, 240 * time.Second}, // 600 × 100 images at 250 img/s
		{Running, 500, 2, 0.3, 250, 200 * time.Second},    // 500 × 100 in 200 s wall: 250 img/s
		{Stalled, 120, 2, nan, 250, -1},
		{Diverged, 321, 3, 0.1, 0, -1},
		{Failed, 0, nan, nan, 0, -1},
		{Interrupted, 250, 1, 0.5, 0, -1},
		{Pending, 0, nan, nan, 0, -1},
	} {
		r := rep.Runs[i]
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if r.State != w.state || r.Iteration != w.iter || !same(r.TrainLoss, w.trainLoss) || !same(r.TestAcc, w.testAcc) || r.ImagesPerSecond != w.ips || r.ETA != w.eta {
			t.Errorf("%s: got state %s iter %d train %v acc %v ips %v eta %v; want %+v", r.Name, r.State, r.Iteration, r.TrainLoss, r.TestAcc, r.ImagesPerSecond, r.ETA, w)
		}
	}
	if d := rep.Runs[3].Detail; !strings.Contains(d, "is gone") || !strings.Contains(d, "dropexp train --resume") {
		t.Errorf("stalled detail %q", d)
	}
	if d := rep.Runs[5].Detail; d != "dataset.path data/x: no such file" {
		t.Errorf("failed detail %q", d)
	}
	// The pending run takes its length from its siblings.
	if r := rep.Runs[7]; r.Iterations != 1000 || r.BatchSize != 100 {
		t.Errorf("pending run: %d iterations of %d", r.Iterations, r.BatchSize)
	}
	// Done: 1000 + 400 + 500 + 120 + 321 + 0 + 250 + 0 of 8000.
	if rep.Done != 2591 || rep.Total != 8000 {
		t.Errorf("iterations %d/%d, want 2591/8000", rep.Done, rep.Total)
	}
	// Left: 600, 500, 880, 1000 (failed, to be rerun), 750 and 1000
	// iterations of 100 images; the running runs go at 250 img/s, the others
	// at the mean of convnet-quick's measured rates (500, 250, 250, 250 → 312.5);
	// two run at once. Work: 240 + 200 + (88000+100000+75000+100000)/312.5 s = 1601.6 s; /2.
	if want := time.Duration(800.8 * float64(time.Second)); rep.ETA.Round(time.Millisecond) != want {
		t.Errorf("ETA %v, want %v", rep.ETA, want)
	}

	// One run of the sweep read on its own still sees the sweep's lock: its
	// files are an hour old (a long evaluation), yet it is running.
	fwd := filepath.Join(dir, sweep.RunsDir, "forward-p0.3-layer-s1")
	entries, _ := os.ReadDir(fwd)
	for _, e := range entries {
		os.Chtimes(filepath.Join(fwd, e.Name()), now.Add(-time.Hour), now.Add(-time.Hour))
	}
	if one, err := Read(fwd, now); err != nil || one.Runs[0].State != Running {
		t.Errorf("the locked run read alone: %+v, %v", one.Runs, err)
	}

	var buf bytes.Buffer
	Write(&buf, rep)
	out := buf.String()
	for _, s := range []string{
		"sweep table1 in " + dir + " at " + now.Format("2006-01-02 15:04:05") + "\n",
		"8 runs: 1 finished, 1 diverged, 2 running, 1 stalled, 1 interrupted, 1 failed, 1 pending; iterations 2591/8000 (32%); ETA 13m21s (" + now.Add(rep.ETA).Format("15:04") + ", 2 running at 500 img/s)\n",
		"standard-p0.3-layer-s1  running",
		"400/1000",
		"1.2500",
		"4m00s",
		"diverged at 321",
		"  └ dataset.path data/x: no such file\n",
		"  └ its process",
		"plain-layer-s2          pending",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestReadRunAndResultsRoot(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "a"), fixture{summary: results.StatusFinished, metrics: []results.Metric{{Iteration: 1000, TrainLoss: 0.5, TestLoss: 0.6, TestAcc: 0.8}}})
	// A run that stopped writing an hour ago without a heartbeat (an older build, killed).
	b := filepath.Join(root, "b")
	writeRun(t, b, fixture{summary: results.StatusRunning})
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{results.ConfigFile, results.SummaryFile} {
		os.Chtimes(filepath.Join(b, f), old, old)
	}
	// The same, but dropexp train holds its lock (a long evaluation): running.
	c := filepath.Join(root, "c")
	writeRun(t, c, fixture{summary: results.StatusRunning})
	for _, f := range []string{results.ConfigFile, results.SummaryFile} {
		os.Chtimes(filepath.Join(c, f), old, old)
	}
	os.MkdirAll(filepath.Join(root, ".locks"), 0o755)
	lf, err := os.Create(filepath.Join(root, ".locks", "c.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	rep, err := Read(root, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "results" || len(rep.Runs) != 3 || rep.Runs[0].State != Finished || rep.Runs[1].State != Stalled || rep.Runs[2].State != Running {
		t.Errorf("results root: %+v", rep.Runs)
	}
	if one, err := Read(c, time.Now()); err != nil || one.Runs[0].State != Running {
		t.Errorf("the locked run read alone: %+v, %v", one.Runs, err)
	}
	one, err := Read(filepath.Join(root, "a"), time.Now())
	if err != nil || one.Kind != "run" || len(one.Runs) != 1 || one.Runs[0].Name != "a" {
		t.Errorf("run directory: %+v, %v", one, err)
	}
	for _, bad := range []string{filepath.Join(root, "nope"), t.TempDir()} {
		if _, err := Read(bad, time.Now()); err == nil || !strings.Contains(err.Error(), "run director") {
			t.Errorf("Read(%s): %v", bad, err)
		}
	}
}

func TestWatchOffTerminal(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "a"), fixture{summary: results.StatusFinished})
	var buf bytes.Buffer
	// Nothing runs: one block, then the watch ends by itself.
	if err := Watch(t.Context(), &buf, root, time.Hour, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "== ") || strings.Count(out, "== ") != 1 || !strings.HasSuffix(out, "nothing running; watch ends\n") || strings.Contains(out, "\x1b[") {
		t.Errorf("watch output:\n%q", out)
	}
	buf.Reset()
	Watch(t.Context(), &buf, root, time.Hour, true)
	if !strings.HasPrefix(buf.String(), "\x1b[H\x1b[2J") {
		t.Errorf("a terminal is not redrawn: %q", buf.String())
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 12*time.Minute + 30*time.Second: "12m30s", 3*time.Hour + 5*time.Minute: "3h05m", 0: "0s",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// Damaged files are named: a truncated summary.json of a finished run
// (model.gob there) shows finished with the repair command, of an unfinished
// one damaged; a duplicated or garbage metrics.csv and a bad config.yaml are
// named with why, and never taken for the run's latest row.
func TestDamagedFilesNamed(t *testing.T) {
	root := t.TempDir()
	rows := []results.Metric{{Iteration: 500, LR: 0.01, TrainLoss: 0.9, TestLoss: 1, TestAcc: 0.6}, {Iteration: 1000, LR: 0.01, TrainLoss: 0.5, TestLoss: 0.6, TestAcc: 0.8}}
	fin := filepath.Join(root, "fin")
	writeRun(t, fin, fixture{summary: results.StatusFinished, metrics: rows})
	os.WriteFile(filepath.Join(fin, results.ModelFile), []byte("model"), 0o644)
	os.Truncate(filepath.Join(fin, results.SummaryFile), 30)
	unf := filepath.Join(root, "unf")
	writeRun(t, unf, fixture{summary: results.StatusRunning, metrics: rows[:1]})
	os.Truncate(filepath.Join(unf, results.SummaryFile), 30)
	dup := filepath.Join(root, "dup")
	writeRun(t, dup, fixture{summary: results.StatusInterrupted})
	os.WriteFile(filepath.Join(dup, results.MetricsFile), []byte("iteration,lr,train_loss,test_loss,test_acc\n500,0.01,0.9,1,0.6\n1000,0.01,0.5,0.6,0.8\n500,0.01,0.9,1,0.6\n"), 0o644)
	garbage := filepath.Join(root, "garbage")
	writeRun(t, garbage, fixture{summary: results.StatusInterrupted})
	os.WriteFile(filepath.Join(garbage, results.MetricsFile), []byte("\x00\x01\x02 not csv at all\n"), 0o644)
	os.WriteFile(filepath.Join(garbage, results.ConfigFile), []byte("model: [\n"), 0o644)

	rep, err := Read(root, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Write(&out, rep)
	byName := map[string]Run{}
	for _, r := range rep.Runs {
		byName[r.Name] = r
	}
	if r := byName["fin"]; r.State != Finished || !strings.Contains(r.Detail, filepath.Join(fin, results.SummaryFile)) || !strings.Contains(r.Detail, "dropexp repair "+fin) || r.ETA >= 0 {
		t.Errorf("finished run with a truncated summary: %+v", r)
	}
	if r := byName["unf"]; r.State != Damaged || !strings.Contains(r.Detail, "cannot be read") || !strings.Contains(r.Detail, "dropexp repair "+unf) {
		t.Errorf("unfinished run with a truncated summary: %+v", r)
	}
	if r := byName["dup"]; r.EvalAt == 500 || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], filepath.Join(dup, results.MetricsFile)+":4: iteration 500 after 1000") {
		t.Errorf("duplicated metrics row: %+v", r)
	}
	if r := byName["garbage"]; len(r.Problems) != 2 {
		t.Errorf("garbage metrics.csv and config.yaml: %q", r.Problems)
	}
	for _, want := range []string{
		"damaged", "└ " + filepath.Join(unf, results.SummaryFile) + " cannot be read",
		"└ could not read " + filepath.Join(dup, results.MetricsFile) + ":4:",
		"└ could not read " + filepath.Join(garbage, results.MetricsFile) + ": not a metrics file",
		"└ could not read " + filepath.Join(garbage, results.ConfigFile) + ": yaml",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
}

// --watch refuses an interval that would re-read every run's files in a busy loop.
func TestWatchRefusesTinyInterval(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "a"), fixture{summary: results.StatusFinished})
	for _, d := range []time.Duration{0, -time.Second, time.Millisecond} {
		var buf bytes.Buffer
		if err := Watch(t.Context(), &buf, root, d, false); err == nil || !strings.Contains(err.Error(), "--interval") || buf.Len() != 0 {
			t.Errorf("interval %s: %v, output %q", d, err, buf.String())
		}
	}
}
