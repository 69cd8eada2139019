package train

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/results"
)

// fixture writes a tiny CIFAR-10 in the official binary format once per test binary.
var fixtureDir string

func TestMain(m *testing.M) {
	if dir := os.Getenv("DROPEXP_TEST_CHILD"); dir != "" {
		os.Exit(child(dir))
	}
	tmp, err := os.MkdirTemp("", "train-fixture")
	if err != nil {
		panic(err)
	}
	if err := datasettest.WriteCIFAR10(tmp, 200, 50, 1); err != nil {
		panic(err)
	}
	fixtureDir = tmp
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func tinyConfig(t testing.TB, data string, sets ...string) config.Run {
	t.Helper()
	base := []string{"model=convnet-quick", "dataset.name=cifar10", "dataset.path=" + data,
		"dropout.variant=standard", "dropout.ratio=0.3", "train.batch_size=10", "train.iterations=12",
		"train.lr_steps=[{at: 8, lr: 0.0005}]", "train.lr=0.002", "train.eval_every=4", "train.checkpoint_every=3", "threads=2"}
	cfg, err := config.Load("", append(base, sets...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runTo(t testing.TB, cfg config.Run, dir string, resume bool, prog Progress) (results.Summary, error) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return Run(context.Background(), Options{Config: cfg, Dir: dir, Resume: resume, Progress: prog})
}

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunWritesResultsAndIsDeterministic(t *testing.T) {
	for _, v := range []string{"plain", "forward", "backward", "augmented"} {
		t.Run(v, func(t *testing.T) {
			ratio := "0.3"
			if v == "augmented" {
				ratio = "0.3/0.01"
			}
			cfg := tinyConfig(t, fixtureDir, "dropout.variant="+v, "dropout.ratio="+ratio)
			a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
			sum, err := runTo(t, cfg, a, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := runTo(t, cfg, b, false, nil); err != nil {
				t.Fatal(err)
			}
			ma, mb := read(t, filepath.Join(a, results.MetricsFile)), read(t, filepath.Join(b, results.MetricsFile))
			if !bytes.Equal(ma, mb) {
				t.Errorf("same config and seed gave different metrics.csv:\n%s\n%s", ma, mb)
			}
			rows, err := results.ReadMetrics(filepath.Join(a, results.MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 3 || rows[2].Iteration != 12 || rows[2].LR != 0.0005 || rows[0].LR != 0.002 {
				t.Errorf("metrics rows %+v, want evaluations at 4,8,12 with the lr schedule", rows)
			}
			if sum.Status != results.StatusFinished || sum.FinalTestAcc != rows[2].TestAcc || sum.TrainSize != 200 || sum.TestSize != 50 {
				t.Errorf("summary %+v", sum)
			}
			if _, err := os.Stat(filepath.Join(a, CheckpointFile)); !os.IsNotExist(err) {
				t.Errorf("finished run kept its checkpoint (err %v)", err)
			}
			if c, err := loadCheckpoint(filepath.Join(a, ModelFile)); err != nil || c == nil || c.Iteration != 12 || len(c.Params) == 0 {
				t.Errorf("final model.gob missing or incomplete (err %v)", err)
			}
			if _, err := config.Load(filepath.Join(a, results.ConfigFile), nil, nil); err != nil {
				t.Errorf("resolved config.yaml does not load: %v", err)
			}
		})
	}
}

// cancelAt cancels its context when training reaches an iteration.
type cancelAt struct {
	at     int
	cancel func()
}

func (c *cancelAt) Step(iter int, _ float64) {
	if iter == c.at {
		c.cancel()
	}
}
func (c *cancelAt) Eval(int, float64, float64, float64, float64) {}
func (c *cancelAt) Finish()                                      {}

// A resumed run continues where it stopped, its learning-rate schedule too
// (the rate is a function of the iteration alone).
func TestInterruptAndResumeMatchesUninterrupted(t *testing.T) {
	for name, sets := range map[string][]string{
		"step":          nil, // tinyConfig's
		"cosine-warmup": {"train.lr_schedule=cosine", "train.warmup=3", "train.lr_steps="},
		"onecycle":      {"train.lr_schedule=onecycle", "train.lr_steps="},
	} {
		t.Run(name, func(t *testing.T) { interruptAndResume(t, tinyConfig(t, fixtureDir, sets...)) })
	}
}

func interruptAndResume(t *testing.T, cfg config.Run) {
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := runTo(t, cfg, ref, false, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := results.ReadMetrics(filepath.Join(ref, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.LR != cfg.LRAt(r.Iteration) {
			t.Errorf("metrics.csv: lr %v at iteration %d, schedule %v", r.LR, r.Iteration, cfg.LRAt(r.Iteration))
		}
	}
	for _, at := range []int{2, 7} {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(at))
		ctx, cancel := context.WithCancel(context.Background())
		os.MkdirAll(dir, 0o755)
		sum, err := Run(ctx, Options{Config: cfg, Dir: dir, Progress: &cancelAt{at: at, cancel: cancel}})
		cancel()
		if err == nil || sum.Status != results.StatusInterrupted {
			t.Fatalf("cancel at %d: status %q, err %v; want interrupted", at, sum.Status, err)
		}
		if _, err := runTo(t, cfg, dir, true, nil); err != nil {
			t.Fatal(err)
		}
		if a, b := read(t, filepath.Join(ref, results.MetricsFile)), read(t, filepath.Join(dir, results.MetricsFile)); !bytes.Equal(a, b) {
			t.Errorf("interrupted at %d and resumed: metrics.csv differs:\n%s\nwant\n%s", at, b, a)
		}
	}
}

// interruptedRun trains cfg into a new directory until iteration at and
// returns the directory, which holds a checkpoint.
func interruptedRun(t *testing.T, cfg config.Run, at int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "r")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	os.MkdirAll(dir, 0o755)
	Run(ctx, Options{Config: cfg, Dir: dir, Progress: &cancelAt{at: at, cancel: cancel}})
	return dir
}

func TestResumeRefusesOtherConfig(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	dir := interruptedRun(t, cfg, 5)
	other := tinyConfig(t, fixtureDir, "dropout.ratio=0.2")
	_, err := runTo(t, other, dir, true, nil)
	if !errors.Is(err, ErrConfigMismatch) || !strings.Contains(err.Error(), `- dropout:`) && !strings.Contains(err.Error(), `ratio: "0.2"`) {
		t.Errorf("resume with another ratio: err = %v, want a refusal showing the difference", err)
	}
}

func TestDivergenceIsReported(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir, "train.lr=1e6", "dropout.variant=plain")
	dir := filepath.Join(t.TempDir(), "d")
	sum, err := runTo(t, cfg, dir, false, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("err = %v, want ErrDiverged", err)
	}
	got, rerr := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if got.Status != results.StatusDiverged || got.DivergedAt == 0 || got.DivergedAt != sum.DivergedAt {
		t.Errorf("summary status %q diverged_at %d, want diverged at an iteration", got.Status, got.DivergedAt)
	}
}

// child trains the config in dir (a subprocess of the SIGKILL test) and
// prints each finished iteration so the parent can kill it at a chosen one.
func child(dir string) int {
	cfg, err := config.Load(filepath.Join(dir, "want.yaml"), nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = Run(context.Background(), Options{Config: cfg, Dir: dir, Resume: true, Progress: stepPrinter{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type stepPrinter struct{}

func (stepPrinter) Step(iter int, _ float64)                     { fmt.Printf("step %d\n", iter) }
func (stepPrinter) Eval(int, float64, float64, float64, float64) {}
func (stepPrinter) Finish()                                      {}

// A training process killed with SIGKILL at a random iteration and resumed
// ends with the same metrics.csv, byte for byte, as one never interrupted.
func TestSIGKILLAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	cfg := tinyConfig(t, fixtureDir)
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := runTo(t, cfg, ref, false, nil); err != nil {
		t.Fatal(err)
	}
	want := read(t, filepath.Join(ref, results.MetricsFile))
	yaml, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "want.yaml"), yaml, 0o644)
	kills := []int{1 + rng.IntN(5), 6 + rng.IntN(5)}
	t.Logf("killing at iterations %v", kills)
	for _, at := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "DROPEXP_TEST_CHILD="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		killed := false
		for sc.Scan() {
			n, _ := strconv.Atoi(strings.TrimPrefix(sc.Text(), "step "))
			if n >= at {
				cmd.Process.Kill() // SIGKILL: no handler runs
				killed = true
				break
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("child finished before iteration %d", at)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DROPEXP_TEST_CHILD="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("resumed child: %v\n%s", err, out)
	}
	if got := read(t, filepath.Join(dir, results.MetricsFile)); !bytes.Equal(got, want) {
		t.Errorf("killed at %v and resumed: metrics.csv differs:\n%s\nwant\n%s", kills, got, want)
	}
	s, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	if err != nil || s.Status != results.StatusFinished {
		t.Errorf("summary after resume: %+v %v", s, err)
	}
}

// TestShortRunEvaluatesItsLastIteration: a run whose iterations are not a
// multiple of eval_every gets a row at its last iteration too, and so does
// the same run interrupted and resumed, also when it had written that row
// before it stopped (a kill between the last evaluation and model.gob).
func TestShortRunEvaluatesItsLastIteration(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir, "train.iterations=25", "train.eval_every=10", "train.checkpoint_every=7", "train.lr_steps=[{at: 22, lr: 0.0005}]")
	ref := filepath.Join(t.TempDir(), "ref")
	sum, err := runTo(t, cfg, ref, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := results.ReadMetrics(filepath.Join(ref, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var its []int
	for _, r := range rows {
		its = append(its, r.Iteration)
	}
	if fmt.Sprint(its) != "[10 20 25]" || rows[2].LR != 0.0005 || sum.FinalTestAcc != rows[2].TestAcc {
		t.Fatalf("rows at iterations %v (last %+v, summary's final_test_acc %v), want rows at 10, 20, 25, the last at lr 0.0005 and the summary's", its, rows[len(rows)-1], sum.FinalTestAcc)
	}
	want := read(t, filepath.Join(ref, results.MetricsFile))
	for _, tc := range []struct {
		name     string
		at       int
		lastRows bool // metrics.csv holds the run's final rows when it resumes
	}{
		{"interrupted before the last evaluation", 23, false},
		{"interrupted after the last evaluation was written", 21, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := interruptedRun(t, cfg, tc.at)
			if tc.lastRows {
				if err := os.WriteFile(filepath.Join(dir, results.MetricsFile), want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := runTo(t, cfg, dir, true, nil); err != nil {
				t.Fatal(err)
			}
			if got := read(t, filepath.Join(dir, results.MetricsFile)); !bytes.Equal(got, want) {
				t.Errorf("resumed: metrics.csv\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// Mismatch says how a run directory differs in a value a caller reads
// (errors.As), not only in its message: the identity lines that differ, or
// that only the data do.
func TestMismatchIsTyped(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	recOf := func(c config.Run, fp string) results.Recorded {
		y, err := c.YAML()
		if err != nil {
			t.Fatal(err)
		}
		return results.Recorded{Dir: "runs/x", Config: y, Identity: c.Identity(fp), DataFingerprint: fp}
	}
	noID := recOf(cfg, "fp1")
	noID.Identity = ""
	for _, tc := range []struct {
		name     string
		rec      results.Recorded
		fp       string
		sentinel error
		data     bool
		diff     []string
	}{
		{"same run", recOf(cfg, "fp1"), "fp1", nil, false, nil},
		{"other ratio", recOf(tinyConfig(t, fixtureDir, "dropout.ratio=0.2"), "fp1"), "fp1", ErrConfigMismatch, false, []string{`-   ratio: "0.2"`, `+   ratio: "0.3"`}},
		{"other data", recOf(cfg, "fp0"), "fp1", ErrDataChanged, true, nil},
		{"no identity", noID, "fp1", ErrNoIdentity, false, nil},
		{"no config", results.Recorded{Dir: "runs/x", Identity: "abc"}, "fp1", ErrConfigMismatch, false, nil},
	} {
		err := Mismatch(tc.rec, cfg, tc.fp)
		if tc.sentinel == nil {
			if err != nil {
				t.Errorf("%s: %v, want nil", tc.name, err)
			}
			continue
		}
		var m *MismatchError
		if !errors.As(err, &m) || !errors.Is(err, tc.sentinel) {
			t.Errorf("%s: %v (%T), want a *MismatchError wrapping %v", tc.name, err, err, tc.sentinel)
			continue
		}
		if m.DataChanged != tc.data || !slices.Equal(m.Diff, tc.diff) {
			t.Errorf("%s: DataChanged %v, Diff %q; want %v, %q", tc.name, m.DataChanged, m.Diff, tc.data, tc.diff)
		}
		if len(tc.diff) > 0 && !strings.Contains(err.Error(), "Differences (- run, + now):\n"+strings.Join(tc.diff, "\n")) {
			t.Errorf("%s: the message does not show the differences:\n%v", tc.name, err)
		}
	}
}
