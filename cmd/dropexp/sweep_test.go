package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/sweep"
)

// tinySweep writes a two-run sweep (plain and standard 0.3) over tinyRun's
// config and returns the sweep file and the sweep directory.
func tinySweep(t *testing.T) (dir, base, spec, out string) {
	t.Helper()
	dir, base = tinyRun(t)
	spec = filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(spec, []byte("name: tiny\nbase: run.yaml\naxes: {variant: [plain, standard], ratio: [0.3], seed: [1]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, base, spec, filepath.Join(dir, "sweep")
}

func TestSweepIndexOutsideTheGrid(t *testing.T) {
	_, _, spec, out := tinySweep(t)
	for _, i := range []string{"2", "-2", "99"} {
		_, err := dropexp(t, "sweep", "--config", spec, "--out", out, "--index", i)
		checkErr(t, err, "--index "+i+": the grid of "+spec+" has 2 runs, 0..1")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused --index made the sweep directory (%v)", err)
	}
}

// Negative --jobs and --cores are refused, not clamped.
func TestSweepNegativeJobsCores(t *testing.T) {
	_, _, spec, out := tinySweep(t)
	for _, args := range [][]string{{"--jobs", "-1"}, {"--cores", "-4"}} {
		_, err := dropexp(t, append([]string{"sweep", "--config", spec, "--out", out}, args...)...)
		checkErr(t, err, args[0]+" "+args[1], "give a positive number, or 0 for the default")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused sweep made the sweep directory (%v)", err)
	}
}

// A report that cannot write into its directory says to use --out.
func TestReportUnwritableOut(t *testing.T) {
	dir, file := tinyRun(t)
	if _, err := dropexp(t, "train", "--config", file); err != nil {
		t.Fatal(err)
	}
	// Root ignores permissions: a path under a regular file cannot be written either.
	_, err := dropexp(t, "report", "--in", filepath.Join(dir, "results"), "--out", filepath.Join(file, "sub"))
	checkErr(t, err, "not a directory", "write the report elsewhere with --out DIR")
	ro := filepath.Join(dir, "ro")
	os.MkdirAll(ro, 0o555)
	if f, err := os.Create(filepath.Join(ro, "probe")); err == nil {
		f.Close()
		t.Skip("running as root: a read-only directory is writable")
	}
	_, err = dropexp(t, "report", "--in", filepath.Join(dir, "results"), "--out", ro)
	checkErr(t, err, "permission denied", "write the report elsewhere with --out DIR")
}

// A run whose process was killed (its summary still says running, and so
// does index.json) shows as interrupted once nobody holds its lock, in
// --list and in the index.json --list rewrites.
func TestSweepListShowsKilledRunsInterrupted(t *testing.T) {
	_, _, spec, out := tinySweep(t)
	if o, err := dropexp(t, "sweep", "--config", spec, "--out", out, "--jobs", "1"); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	run := filepath.Join(out, sweep.RunsDir, "standard-p0.3-layer-s1")
	sum, err := results.ReadSummary(filepath.Join(run, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	sum.Status = results.StatusRunning // as a SIGKILL leaves it
	if err := results.WriteSummary(filepath.Join(run, results.SummaryFile), sum); err != nil {
		t.Fatal(err)
	}
	unfinish(t, run)
	o, err := dropexp(t, "sweep", "--config", spec, "--out", out, "--list")
	if err != nil || !strings.Contains(o, "interrupted standard-p0.3-layer-s1") {
		t.Errorf("--list: %v\n%s", err, o)
	}
	data, err := os.ReadFile(filepath.Join(out, sweep.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	var ix sweep.Index
	if err := json.Unmarshal(data, &ix); err != nil {
		t.Fatal(err)
	}
	if ix.Runs[1].Status != sweep.Interrupted || ix.Runs[0].Status != sweep.Finished || ix.Runs[1].Identity != sum.Identity {
		t.Errorf("index.json after --list: %+v", ix.Runs)
	}
}

// train --resume of a run inside a sweep takes the sweep's lock of that
// run, so it never trains a run a sweep task is training.
func TestResumeTakesTheSweepLock(t *testing.T) {
	_, base, spec, out := tinySweep(t)
	if o, err := dropexp(t, "sweep", "--config", spec, "--out", out, "--emit", "slurm"); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	runs := filepath.Join(out, sweep.RunsDir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// An interrupted run of the grid, made by train into the sweep's runs/.
	dropexpCtx(t, ctx, "train", "--config", base, "--out", runs)
	run := filepath.Join(runs, "standard-p0.3-layer-s1")
	if _, err := os.Stat(filepath.Join(run, results.CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	lock, ok, err := results.TryLock(filepath.Join(out, sweep.LocksDir, "standard-p0.3-layer-s1.lock"))
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	_, err = dropexp(t, "train", "--resume", run)
	checkErr(t, err, "--resume "+run+": the run is being trained by another process", filepath.Join(out, sweep.LocksDir, "standard-p0.3-layer-s1.lock"))
	lock.Unlock()
	if o, err := dropexp(t, "train", "--resume", run); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	// The sweep skips the run train finished: same identity.
	o, err := dropexp(t, "sweep", "--config", spec, "--out", out, "--jobs", "1")
	if err != nil || !strings.Contains(o, "standard-p0.3-layer-s1: already finished") {
		t.Errorf("sweep after the resume: %v\n%s", err, o)
	}
}

// A sweep of a base config and --axis alone trains one run per value, names
// them by it, records the values in index.json, and a rerun skips them.
func TestSweepAxisWithoutAFile(t *testing.T) {
	dir, base := tinyRun(t)
	out := filepath.Join(dir, "lr")
	args := []string{"sweep", "--base", base, "--axis", "train.lr=0.001,0.01", "--out", out, "--jobs", "1"}
	if o, err := dropexp(t, args...); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	var ix sweep.Index
	data, err := os.ReadFile(filepath.Join(out, sweep.IndexFile))
	if err == nil {
		err = json.Unmarshal(data, &ix)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Runs) != 2 || ix.Config != "" {
		t.Fatalf("index.json: %+v", ix)
	}
	for i, lr := range []string{"0.001", "0.01"} {
		r := ix.Runs[i]
		if r.Name != "standard-p0.3-layer-s1-lr"+lr || r.Axes["train.lr"] != lr || r.Status != sweep.Finished {
			t.Errorf("run %d: %+v", i, r)
		}
		cfg, err := os.ReadFile(filepath.Join(out, r.Dir, results.ConfigFile))
		if err != nil || !strings.Contains(string(cfg), "lr: "+lr+"\n") {
			t.Errorf("run %d's config.yaml (%v):\n%s", i, err, cfg)
		}
	}
	o, err := dropexp(t, args...)
	if err != nil || strings.Count(o, "already finished") != 2 {
		t.Errorf("rerun: %v\n%s", err, o)
	}
	_, err = dropexp(t, "sweep", "--base", base, "--axis", "train.lr=0.001,fast", "--out", out, "--list")
	checkErr(t, err, `--axis train.lr=0.001,fast: value "fast": train.lr: expected a number, got "fast"`)
	_, err = dropexp(t, "sweep", "--out", out)
	checkErr(t, err, "give a sweep file (--config")
}

// --index takes a list: the runs train in the order given, and --list shows
// only them.
func TestSweepIndexList(t *testing.T) {
	_, _, spec, out := tinySweep(t)
	o, err := dropexp(t, "sweep", "--config", spec, "--out", out, "--index", "1,0", "--jobs", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	s, p := strings.Index(o, "] standard-p0.3-layer-s1: convnet-quick"), strings.Index(o, "] plain-layer-s1: convnet-quick")
	if s < 0 || p < 0 || s > p {
		t.Errorf("--index 1,0 did not start standard (1) before plain (0):\n%s", o)
	}
	o, err = dropexp(t, "sweep", "--config", spec, "--out", out, "--index", "1", "--list")
	if err != nil || !strings.Contains(o, "finished    standard-p0.3-layer-s1") || strings.Contains(o, "plain") {
		t.Errorf("--index 1 --list: %v\n%s", err, o)
	}
}

// The sweep command's flags parse into the options sweep.RunCommand takes,
// with which of the grid's overrides were given.
func TestSweepFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(o *sweep.CommandOptions) bool
	}{
		{[]string{"--config", "s.yaml"}, func(o *sweep.CommandOptions) bool {
			return o.File == "s.yaml" && !o.BaseGiven && !o.RatiosGiven && !o.SeedsGiven && !o.IndexGiven &&
				o.MaxRuns == sweep.DefaultMaxRuns && o.Job.CPUs == 2 && o.Job.Image == "dropexp:latest" && o.Job.Mount == "/results"
		}},
		{[]string{"--base", "", "--axis", "train.lr=0.1,0.2", "--axis", "seed=1,2"}, func(o *sweep.CommandOptions) bool {
			return o.BaseGiven && o.Base == "" && slices.Equal(o.Axes, []string{"train.lr=0.1,0.2", "seed=1,2"})
		}},
		{[]string{"--config", "s.yaml", "--ratios", "0.3,0.1/0.01", "--seeds", "1,2", "--index", "0", "--set", "a=1", "--set", "b=2"}, func(o *sweep.CommandOptions) bool {
			return o.RatiosGiven && slices.Equal(o.Ratios, []string{"0.3", "0.1/0.01"}) && o.SeedsGiven && slices.Equal(o.Seeds, []int64{1, 2}) &&
				o.IndexGiven && o.Index == "0" && slices.Equal(o.Sets, []string{"a=1", "b=2"})
		}},
		{[]string{"--config", "s.yaml", "--jobs", "3", "--cores", "4", "--list", "--allow-kernel-change", "--max-runs", "9", "--out", "o"}, func(o *sweep.CommandOptions) bool {
			return o.Jobs == 3 && o.Cores == 4 && o.List && o.AllowKernelChange && o.MaxRuns == 9 && o.Out == "o"
		}},
		{[]string{"--config", "s.yaml", "--emit", "slurm", "--exe", "/bin/d", "--cpus", "8", "--mem", "4G", "--parallelism", "5", "--time", "1:00:00", "--partition", "p"}, func(o *sweep.CommandOptions) bool {
			j := o.Job
			return o.Emit == "slurm" && o.Exe == "/bin/d" && j.CPUs == 8 && j.Mem == "4G" && j.Parallelism == 5 && j.Time == "1:00:00" && j.Partition == "p"
		}},
		{[]string{"--config", "s.yaml", "--emit", "k8s", "--image", "i", "--workdir", "/w", "--claim", "c", "--mount", "/m"}, func(o *sweep.CommandOptions) bool {
			j := o.Job
			return j.Image == "i" && j.Workdir == "/w" && j.Claim == "c" && j.Mount == "/m"
		}},
	} {
		var got *sweep.CommandOptions
		cmd := newSweepCmd(func(o *sweep.CommandOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got == nil || got.Stdout == nil || got.Stderr == nil || !tc.check(got) {
			t.Errorf("%q parsed to %+v", tc.args, got)
		}
	}
}
