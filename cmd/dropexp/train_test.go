package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/runner"
	"github.com/dropexp/dropexp/internal/train"
)

// tinyRun writes a CIFAR-10 fixture of 20 training and 10 test images and
// a config training on it for 2 iterations of batch 5 into a fresh
// directory, and returns the directory and the config file.
func tinyRun(t *testing.T, edit ...func(string) string) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	if err := datasettest.WriteCIFAR10(filepath.Join(dir, "data"), 20, 10, 1); err != nil {
		t.Fatal(err)
	}
	cfg := `model: convnet-quick
threads: 1
out: ` + filepath.Join(dir, "results") + `
dataset: {name: cifar10, path: ` + filepath.Join(dir, "data", "cifar-10-batches-bin") + `}
dropout: {variant: standard, ratio: "0.3"}
train: {batch_size: 5, iterations: 2, lr: 0.001, eval_every: 1, checkpoint_every: 1}
`
	for _, e := range edit {
		cfg = e(cfg)
	}
	file = filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// dropexp runs the command line args in-process and returns its output and error.
func dropexp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	t.Log(err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// TestTrainBadInput runs dropexp train on bad input of each kind and checks
// that the error names the file, the key and the fix.
func TestTrainBadInput(t *testing.T) {
	replace := func(old, new string) func(string) string {
		return func(s string) string { return strings.Replace(s, old, new, 1) }
	}
	for _, tc := range []struct {
		name   string
		edit   func(string) string
		args   func(dir, file string) []string
		errHas func(dir, file string) []string
	}{
		{
			name: "unknown key in the config file",
			edit: replace("ratio:", "ratoi:"),
			args: func(_, file string) []string { return []string{"--config", file} },
			errHas: func(_, file string) []string {
				return []string{file + `: unknown key "dropout.ratoi"`, "did you mean dropout.ratio?", "keys under dropout: dropout.variant, dropout.ratio"}
			},
		},
		{
			name: "wrong type in the config file",
			edit: replace("iterations: 2", "iterations: two"),
			args: func(_, file string) []string { return []string{"--config", file} },
			errHas: func(_, file string) []string {
				return []string{file + `: train.iterations: expected an integer, got "two"`}
			},
		},
		{
			name: "ratio >= 1 in --set",
			args: func(_, file string) []string { return []string{"--config", file, "--set", "dropout.ratio=1.5"} },
			errHas: func(_, _ string) []string {
				return []string{`dropout.ratio: dropout ratio "1.5" out of range: 1.5 must be in [0,1)`, "(from --set dropout.ratio=1.5)"}
			},
		},
		{
			name: "unknown site",
			args: func(_, file string) []string { return []string{"--config", file, "--set", "dropout.sites=conv2,conv9"} },
			errHas: func(_, _ string) []string {
				return []string{`dropout.sites: unknown site "conv9" for convnet-quick`, "allowed: conv1, conv2, conv3, ip1, ip2", "patterns like *.conv2"}
			},
		},
		{
			name: "data path missing",
			edit: replace("cifar-10-batches-bin", "nope"),
			args: func(_, file string) []string { return []string{"--config", file} },
			errHas: func(dir, _ string) []string {
				p := filepath.Join(dir, "data", "nope")
				return []string{"dataset.path " + p, "no such file or directory", "dropexp data fetch cifar10 --dir " + p}
			},
		},
		{
			name: "empty --resume",
			args: func(_, file string) []string { return []string{"--resume", ""} },
			errHas: func(_, _ string) []string {
				return []string{`--resume "": give the run directory to continue`}
			},
		},
		{
			// Root ignores permissions; a path under a regular file is
			// equally impossible to write to.
			name: "output directory not writable",
			args: func(_, file string) []string { return []string{"--config", file, "--out", filepath.Join(file, "sub")} },
			errHas: func(_, file string) []string {
				return []string{"out " + filepath.Join(file, "sub"), filepath.Join(file, "sub", "standard-p0.3-layer-s1"), "not a directory", "--out DIR"}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var edits []func(string) string
			if tc.edit != nil {
				edits = append(edits, tc.edit)
			}
			dir, file := tinyRun(t, edits...)
			_, err := dropexp(t, append([]string{"train"}, tc.args(dir, file)...)...)
			checkErr(t, err, tc.errHas(dir, file)...)
			if tc.name == "data path missing" {
				// The data are read before the run directory is made.
				if _, serr := os.Stat(filepath.Join(dir, "results")); !os.IsNotExist(serr) {
					t.Errorf("a run directory was made for a run without data (stat: %v)", serr)
				}
			}
		})
	}
}

// TestTrainResumeOtherConfig resumes a run with a config that differs in
// one key: refused, with that key (and only it) shown.
func TestTrainResumeOtherConfig(t *testing.T) {
	dir, file := tinyRun(t)
	if out, err := dropexp(t, "train", "--config", file); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run := filepath.Join(dir, "results", "standard-p0.3-layer-s1")
	other := filepath.Join(dir, "other.yaml")
	data, _ := os.ReadFile(file)
	os.WriteFile(other, bytes.Replace(data, []byte("lr: 0.001"), []byte("lr: 0.002"), 1), 0o644)
	_, err := dropexp(t, "train", "--resume", run, "--config", other)
	checkErr(t, err, "--resume "+run, "config differs from the run being resumed; refusing", "-   lr: 0.001", "+   lr: 0.002",
		"resume without --config and --set")
	if !errors.Is(err, train.ErrConfigMismatch) {
		t.Errorf("err %v is not ErrConfigMismatch", err)
	}
	if strings.Contains(err.Error(), "out:") {
		t.Errorf("the difference shows out, which a resume does not use:\n%v", err)
	}
	_, err = dropexp(t, "train", "--resume", run, "--set", "dropout.ratio=0.2")
	checkErr(t, err, `-   ratio: "0.3"`, `+   ratio: "0.2"`)
	_, err = dropexp(t, "train", "--resume", filepath.Join(dir, "nope"))
	checkErr(t, err, "--resume "+filepath.Join(dir, "nope"), "not a run directory?", "config.yaml")
}

// TestTrainDiskFull fills the disk while the run writes metrics.csv after
// its first evaluation: the error names the file, says the disk is full and
// how to go on, and the resume finishes the run.
func TestTrainDiskFull(t *testing.T) {
	dir, file := tinyRun(t)
	run := filepath.Join(dir, "results", "standard-p0.3-layer-s1")
	metrics := filepath.Join(run, results.MetricsFile)
	writes := 0
	restore := results.SimulateWriteFailure(func(path string) error {
		if path == metrics {
			if writes++; writes == 3 { // the start, iteration 1, iteration 2
				return &os.PathError{Op: "write", Path: path + ".tmp", Err: syscall.ENOSPC}
			}
		}
		return nil
	})
	_, err := dropexp(t, "train", "--config", file)
	restore()
	checkErr(t, err, "results: writing "+metrics, "no space left on device (disk full?)", "free some space, then continue with: dropexp train --resume "+run)
	rows, rerr := results.ReadMetrics(metrics)
	if rerr != nil || len(rows) != 1 || rows[0].Iteration != 1 {
		t.Errorf("metrics.csv after the failure: %+v, %v; want the row of iteration 1", rows, rerr)
	}
	if out, err := dropexp(t, "train", "--resume", run); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if s, err := results.ReadSummary(filepath.Join(run, results.SummaryFile)); err != nil || s.Status != results.StatusFinished {
		t.Errorf("summary after the resume: %+v, %v", s, err)
	}
}

// dropexpCtx is dropexp with a context, e.g. one already cancelled, which
// interrupts the run before its first step as a Ctrl-C would.
func dropexpCtx(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

// snapshotDir returns every file of dir with its content and modification time.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := e.Info()
		m[e.Name()] = fmt.Sprintf("%x@%d", sha256.Sum256(data), fi.ModTime().UnixNano())
	}
	return m
}

// TestTrainNeverOverwrites trains into one --out again and again: the same
// config (also with other threads or another path to the same data) is
// reported as finished and not trained; another learning rate, data set or
// test limit gets a directory of its own, and the first run stays as it was.
func TestTrainNeverOverwrites(t *testing.T) {
	dir, file := tinyRun(t)
	if err := datasettest.WriteMNIST(filepath.Join(dir, "data"), 20, 10, 1); err != nil {
		t.Fatal(err)
	}
	// The same images in another place.
	if err := os.CopyFS(filepath.Join(dir, "copy"), os.DirFS(filepath.Join(dir, "data"))); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "results", "standard-p0.3-layer-s1")
	if out, err := dropexp(t, "train", "--config", file); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	first := snapshotDir(t, run)
	sum, err := results.ReadSummary(filepath.Join(run, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	id, fp, err := results.ReadIdentity(filepath.Join(run, results.ConfigFile))
	if err != nil || len(id) != 64 || len(fp) != 64 || sum.Identity != id || sum.DataFingerprint != fp {
		t.Fatalf("identity in config.yaml %q / %q, in summary.json %q / %q (%v)", id, fp, sum.Identity, sum.DataFingerprint, err)
	}
	for _, again := range [][]string{nil, {"--set", "threads=2"}, {"--set", "train.checkpoint_every=2"},
		{"--set", "dataset.path=" + filepath.Join(dir, "copy", "cifar-10-batches-bin")}} {
		out, err := dropexp(t, append([]string{"train", "--config", file}, again...)...)
		if err != nil || !strings.Contains(out, "already finished: "+run) {
			t.Errorf("train %q again: %v\n%s\nwant already finished: %s", again, err, out, run)
		}
	}
	dirs := map[string]bool{}
	for _, other := range [][]string{{"--set", "train.lr=0.002"}, {"--set", "dataset.test_limit=5"},
		{"--set", "dataset.name=mnist", "--set", "dataset.path=" + filepath.Join(dir, "data")}} {
		out, err := dropexp(t, append([]string{"train", "--config", file}, other...)...)
		if err != nil {
			t.Fatalf("train %q: %v\n%s", other, err, out)
		}
		if !strings.Contains(out, run+" holds a run of another config (") || !strings.Contains(out, "), left as it is; this run goes to "+run+"-") {
			t.Errorf("train %q: output does not say the name is taken:\n%s", other, out)
		}
		entries, _ := filepath.Glob(run + "-*")
		for _, e := range entries {
			dirs[e] = true
		}
		if after := snapshotDir(t, run); !reflect.DeepEqual(after, first) {
			t.Errorf("train %q changed the finished run in %s", other, run)
		}
	}
	if len(dirs) != 3 {
		t.Errorf("three other configs, run directories %v", dirs)
	}
	for d := range dirs {
		if s, err := results.ReadSummary(filepath.Join(d, results.SummaryFile)); err != nil || s.Status != results.StatusFinished || s.Identity == sum.Identity {
			t.Errorf("%s: %+v %v", d, s, err)
		}
	}
	// Rerunning one of them finds its own directory.
	out, err := dropexp(t, "train", "--config", file, "--set", "train.lr=0.002")
	if err != nil || !strings.Contains(out, "already finished: "+run+"-") {
		t.Errorf("train lr=0.002 again: %v\n%s", err, out)
	}
}

// TestTrainResumesInterrupted: train without --resume on an interrupted run
// resumes it (and says so) instead of starting again over its checkpoint,
// and ends with the metrics of a run never interrupted; --restart starts it
// again on purpose.
func TestTrainResumesInterrupted(t *testing.T) {
	dir, file := tinyRun(t, func(s string) string { return strings.Replace(s, "iterations: 2", "iterations: 4", 1) })
	ref := filepath.Join(dir, "ref")
	if out, err := dropexp(t, "train", "--config", file, "--out", ref); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want, _ := os.ReadFile(filepath.Join(ref, "standard-p0.3-layer-s1", results.MetricsFile))
	run := filepath.Join(dir, "results", "standard-p0.3-layer-s1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := dropexpCtx(t, ctx, "train", "--config", file); err == nil || !strings.Contains(err.Error(), "interrupted at iteration 0") {
		t.Fatalf("cancelled run: %v", err)
	}
	ck := filepath.Join(run, train.CheckpointFile)
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("no checkpoint after the interruption: %v", err)
	}
	out, err := dropexp(t, "train", "--config", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "resuming the interrupted run from its checkpoint in "+run) {
		t.Errorf("the second train does not say it resumes:\n%s", out)
	}
	if got, _ := os.ReadFile(filepath.Join(run, results.MetricsFile)); !bytes.Equal(got, want) {
		t.Errorf("resumed run's metrics.csv:\n%s\nwant\n%s", got, want)
	}
	if entries, _ := filepath.Glob(run + "-*"); len(entries) != 0 {
		t.Errorf("the resumed run made other directories: %v", entries)
	}

	// --restart: an interrupted run starts again from iteration 0.
	run2 := filepath.Join(dir, "r2", "standard-p0.3-layer-s1")
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	dropexpCtx(t, ctx, "train", "--config", file, "--out", filepath.Join(dir, "r2"))
	out, err = dropexp(t, "train", "--config", file, "--out", filepath.Join(dir, "r2"), "--restart")
	if err != nil || !strings.Contains(out, "starting again from iteration 0 (--restart discards its checkpoint)") {
		t.Errorf("--restart: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(run2, results.MetricsFile)); !bytes.Equal(got, want) {
		t.Errorf("restarted run's metrics.csv:\n%s\nwant\n%s", got, want)
	}
	// A finished run is never restarted.
	_, err = dropexp(t, "train", "--config", file, "--restart")
	checkErr(t, err, "--restart: "+run+" holds a finished run of this config, which is never overwritten", "move the directory away")
	_, err = dropexp(t, "train", "--resume", run, "--restart")
	checkErr(t, err, "never overwritten")
}

// A run directory of a dropexp before identities (its config.yaml records
// none) is neither resumed nor overwritten: a train of its config goes
// beside it, and --resume says why it cannot continue it.
// unfinish makes the finished run in dir look stopped before its end, as
// a kill leaves it: no final model, metrics short of the last iteration
// (otherwise its files say it finished whatever summary.json says).
func unfinish(t *testing.T, dir string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, results.ModelFile)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, results.MetricsFile)
	metrics, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(metrics), "\n"), "\n")
	if err := os.WriteFile(file, []byte(strings.Join(lines[:len(lines)-1], "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunsWithoutIdentity(t *testing.T) {
	dir, file := tinyRun(t)
	run := filepath.Join(dir, "results", "standard-p0.3-layer-s1")
	if out, err := dropexp(t, "train", "--config", file); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// As dropexp 0.1.0 left it: no identity header, no identity in the summary.
	cfgFile := filepath.Join(run, results.ConfigFile)
	data, _ := os.ReadFile(cfgFile)
	var kept []string
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(l, "#") {
			kept = append(kept, l)
		}
	}
	os.WriteFile(cfgFile, []byte(strings.Join(kept, "")), 0o644)
	sum, _ := results.ReadSummary(filepath.Join(run, results.SummaryFile))
	sum.Identity, sum.DataFingerprint, sum.Status = "", "", results.StatusInterrupted
	results.WriteSummary(filepath.Join(run, results.SummaryFile), sum)
	unfinish(t, run)
	before := snapshotDir(t, run)

	_, err := dropexp(t, "train", "--resume", run)
	checkErr(t, err, "no identity recorded in "+cfgFile, "neither resumed nor overwritten", "dropexp train --config "+cfgFile)
	out, err := dropexp(t, "train", "--config", file)
	if err != nil || !strings.Contains(out, run+" holds a run that records no identity") {
		t.Errorf("train beside a run without identity: %v\n%s", err, out)
	}
	if after := snapshotDir(t, run); !reflect.DeepEqual(after, before) {
		t.Errorf("the run without identity was changed")
	}
}

// An eval_every beyond the run trains, evaluates at the last iteration
// and says so before it starts.
func TestTrainWarnsEvalEveryBeyondTheRun(t *testing.T) {
	dir, file := tinyRun(t, func(s string) string { return strings.Replace(s, "eval_every: 1,", "eval_every: 5,", 1) })
	out, err := dropexp(t, "train", "--config", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if want := "warning: train.eval_every 5 is more than train.iterations 2: the run is evaluated once, at its last iteration"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	rows, err := results.ReadMetrics(filepath.Join(dir, "results", "standard-p0.3-layer-s1", results.MetricsFile))
	if err != nil || len(rows) != 1 || rows[0].Iteration != 2 {
		t.Errorf("metrics rows %+v (%v), want one, of iteration 2", rows, err)
	}
	_, spec := tinyRun(t)
	out, err = dropexp(t, "train", "--config", spec)
	if err != nil || strings.Contains(out, "eval_every") {
		t.Errorf("a run evaluated every iteration warned (%v):\n%s", err, out)
	}
}

// dropexp eval prints a finished run's final accuracy and writes its files.
func TestEvalCmd(t *testing.T) {
	dir, file := tinyRun(t)
	if out, err := dropexp(t, "train", "--config", file); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run := filepath.Join(dir, "results", "standard-p0.3-layer-s1")
	sum, err := results.ReadSummary(filepath.Join(run, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	out, err := dropexp(t, "eval", run)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{fmt.Sprintf("accuracy %.4f (", sum.FinalTestAcc), "wrote eval.csv and confusion.csv in " + run} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, err = dropexp(t, "eval", run, "--data", filepath.Join(dir, "nowhere"))
	checkErr(t, err, "eval: dataset.name cifar10, dataset.path \""+filepath.Join(dir, "nowhere"))
}

// The train command's flags parse into the options runner.TrainCommand takes.
func TestTrainFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want runner.TrainOptions
	}{
		{nil, runner.TrainOptions{}},
		{[]string{"--config", "c.yaml", "--out", "o", "--set", "a=1", "--set", "b=2"}, runner.TrainOptions{File: "c.yaml", Out: "o", Sets: []string{"a=1", "b=2"}}},
		{[]string{"--resume", ""}, runner.TrainOptions{ResumeGiven: true}},
		{[]string{"--resume", "r", "--restart", "--allow-kernel-change"}, runner.TrainOptions{Resume: "r", ResumeGiven: true, Mode: runner.Mode{Restart: true, AllowKernelChange: true}}},
	} {
		var got *runner.TrainOptions
		cmd := newTrainCmd(func(o *runner.TrainOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(io.Discard)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got == nil || got.Stdout == nil || got.Stderr == nil || got.Env == nil {
			t.Fatalf("%q: options %+v without their writers or environment", tc.args, got)
		}
		g := *got
		g.Stdout, g.Stderr, g.Env = nil, nil, nil
		if !reflect.DeepEqual(g, tc.want) {
			t.Errorf("%q parsed to %+v, want %+v", tc.args, g, tc.want)
		}
	}
}
