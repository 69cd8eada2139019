package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/evaluate"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/runner"
	"github.com/dropexp/dropexp/internal/status"
	"github.com/spf13/cobra"
)

func TestVersionFlag(t *testing.T) {
	flag, err := dropexp(t, "--version")
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := dropexp(t, "version")
	if !strings.HasPrefix(flag, "dropexp 0.") || flag != cmd {
		t.Errorf("--version %q, version %q", flag, cmd)
	}
}

func TestFlagTypoSuggestion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "--ratoi", "0.3"}, "dropexp sweep: unknown flag --ratoi (did you mean --ratios?); see dropexp sweep --help"},
		{[]string{"train", "--sett", "seed=2"}, "(did you mean --set?)"},
		{[]string{"train", "--configg=x.yaml"}, "unknown flag --configg (did you mean --config?)"},
		{[]string{"report", "-in", "x"}, "unknown shorthand flag 'i' in -in (did you mean --in?)"},
		{[]string{"status", "--wacth", "x"}, "(did you mean --watch?)"},
		{[]string{"train", "--zzzzzz"}, "dropexp train: unknown flag --zzzzzz; see dropexp train --help for its flags"},
	} {
		_, err := dropexp(t, tc.args...)
		checkErr(t, err, tc.want)
	}
	_, err := dropexp(t, "trian")
	checkErr(t, err, `unknown command "trian"`, "Did you mean this?", "train")
}

// Every command a user can run says in its help how to use it.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if (c.Runnable() || c.Name() == "completion") && !c.Hidden && c.Name() != "help" && !strings.HasPrefix(c.CommandPath(), "dropexp completion ") && c.Example == "" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRoot())
}

func TestSetCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "train", "--set", "dropout.g"}, []string{"dropout.gradient=", ":6"}},
		{[]string{"__complete", "sweep", "--set", "dropout.variant=ba"}, []string{"dropout.variant=backward", ":4"}},
		{[]string{"__complete", "train", "--set", "dataset.preprocess="}, []string{"dataset.preprocess=mean_image", "dataset.preprocess=channel_norm"}},
	} {
		out, err := dropexp(t, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("%q: completions lack %q:\n%s", tc.args, w, out)
			}
		}
	}
}

func TestTrainHelpListsKeys(t *testing.T) {
	out, err := dropexp(t, "train", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n  dropout.variant         " + strings.Join(experiment.VariantNames(), "|") + " — ", "Examples:\n  dropexp train "} {
		if !strings.Contains(out, want) {
			t.Errorf("train --help lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "[model seed") {
		t.Errorf("keys still printed as a Go slice:\n%s", out)
	}
}

func TestStatusCmd(t *testing.T) {
	dir, file := tinyRun(t)
	if _, err := dropexp(t, "train", "--config", file); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "results")
	out, err := dropexp(t, "status", runs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 run: 1 finished; iterations 2/2 (100%)", "standard-p0.3-layer-s1  finished", "2/2"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	// The finished run left no heartbeat behind.
	if _, err := os.Stat(filepath.Join(runs, "standard-p0.3-layer-s1", "progress.json")); !os.IsNotExist(err) {
		t.Errorf("heartbeat after the run finished: %v", err)
	}
	if _, err := os.Stat(filepath.Join(runs, "standard-p0.3-layer-s1", results.SummaryFile)); err != nil {
		t.Fatal(err)
	}
	_, err = dropexp(t, "status", filepath.Join(dir, "nope"))
	checkErr(t, err, "status:", "give a sweep directory")
}

// The flags and arguments of status, eval and repair parse into the
// options their run functions take.
func TestCommandOptions(t *testing.T) {
	var st *status.CommandOptions
	var ev *evaluate.CommandOptions
	var rp *runner.RepairOptions
	for _, tc := range []struct {
		cmd   *cobra.Command
		args  []string
		check func() bool
	}{
		{newStatusCmd(func(o *status.CommandOptions) error { st = o; return nil }), []string{"d"},
			func() bool {
				return st.Dir == "d" && !st.Watch && st.Interval == 5*time.Second && st.Stdout != nil && !st.TTY
			}},
		{newStatusCmd(func(o *status.CommandOptions) error { st = o; return nil }), []string{"-w", "--interval", "1m", "d"},
			func() bool { return st.Dir == "d" && st.Watch && st.Interval == time.Minute }},
		{newEvalCmd(func(o *evaluate.CommandOptions) error { ev = o; return nil }), []string{"r"},
			func() bool {
				return ev.Run == "r" && ev.Data == "" && ev.Sets == nil && ev.Log != nil && ev.Stdout != nil
			}},
		{newEvalCmd(func(o *evaluate.CommandOptions) error { ev = o; return nil }), []string{"r", "--data", "p", "--set", "a=1", "--train-data", "t", "--out", "o"},
			func() bool {
				return ev.Run == "r" && ev.Data == "p" && slices.Equal(ev.Sets, []string{"a=1"}) && ev.TrainPath == "t" && ev.Out == "o"
			}},
		{newRepairCmd(func(o *runner.RepairOptions) error { rp = o; return nil }), []string{"r"},
			func() bool { return rp.Dir == "r" && rp.Stdout != nil }},
	} {
		tc.cmd.SetArgs(tc.args)
		tc.cmd.SetOut(io.Discard)
		if err := tc.cmd.Execute(); err != nil {
			t.Fatalf("%s %q: %v", tc.cmd.Name(), tc.args, err)
		}
		if !tc.check() {
			t.Errorf("%s %q parsed to %+v %+v %+v", tc.cmd.Name(), tc.args, st, ev, rp)
		}
	}
}
