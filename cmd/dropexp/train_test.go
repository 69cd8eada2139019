package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/results"
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
