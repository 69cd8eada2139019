package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/results"
)

// TrainCommand is dropexp train without cobra: it refuses what it cannot
// do before loading data, trains a config into --out, reads overrides from
// its environment, and resumes a run directory with its own config.
// RepairCommand, dropexp repair, then rebuilds the run's lost summary.
func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	if err := datasettest.WriteCIFAR10(filepath.Join(dir, "data"), 20, 10, 1); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "run.yaml")
	cfg := "model: convnet-quick\nthreads: 1\ndataset: {name: cifar10, path: " + filepath.Join(dir, "data", "cifar-10-batches-bin") +
		"}\ndropout: {variant: standard, ratio: \"0.3\"}\ntrain: {batch_size: 5, iterations: 2, lr: 0.001, eval_every: 1, checkpoint_every: 1}\n"
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results")
	run := filepath.Join(out, "standard-p0.3-layer-s4")
	for _, tc := range []struct {
		name    string
		o       TrainOptions
		wantErr string
		want    string // in stdout+stderr
	}{
		{name: "empty resume", o: TrainOptions{ResumeGiven: true}, wantErr: `--resume "": give the run directory`},
		{name: "restart of the demo", o: TrainOptions{Mode: Mode{Restart: true}}, wantErr: "the demo trains four runs"},
		{name: "bad override", o: TrainOptions{File: file, Sets: []string{"train.lr=fast"}}, wantErr: "train.lr"},
		{name: "not a run directory", o: TrainOptions{Resume: dir}, wantErr: "not a run directory?"},
		{name: "config into out, seed from the environment", o: TrainOptions{File: file, Out: out, Env: []string{"DROPEXP_SEED=4"}}, want: "run standard-p0.3-layer-s4: "},
		{name: "again: finished", o: TrainOptions{File: file, Out: out, Env: []string{"DROPEXP_SEED=4"}}, want: "already finished: " + run},
		{name: "resume: finished", o: TrainOptions{Resume: run, ResumeGiven: true}, want: "already finished: " + run},
		{name: "resume with another config", o: TrainOptions{Resume: run, File: file}, wantErr: "Differences (- run, + now):\n- seed: 4\n+ seed: 1"},
	} {
		var buf bytes.Buffer
		o := tc.o
		o.Stdout, o.Stderr = &buf, &buf
		err := TrainCommand(context.Background(), o)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(buf.String(), tc.want) {
			t.Errorf("%s: err %v, output lacks %q:\n%s", tc.name, err, tc.want, buf.String())
		}
	}
	if _, err := os.Stat(filepath.Join(run, results.SummaryFile)); err != nil {
		t.Errorf("the run did not go into --out: %v", err)
	}
	// RepairCommand rebuilds the summary.json the run lost.
	if err := os.Remove(filepath.Join(run, results.SummaryFile)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RepairCommand(RepairOptions{Dir: run, Stdout: &buf}); err != nil {
		t.Fatal(err)
	}
	if sum, err := results.ReadSummary(filepath.Join(run, results.SummaryFile)); err != nil || sum.Status != results.StatusFinished || buf.Len() == 0 {
		t.Errorf("repaired summary %+v, %v; output %q", sum, err, buf.String())
	}
	if err := RepairCommand(RepairOptions{Dir: dir, Stdout: &buf}); err == nil {
		t.Errorf("repair of a directory that holds no run: no error")
	}
}
