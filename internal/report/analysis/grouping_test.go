package analysis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// writeIndex writes an index.json for sweep directory dir whose runs are
// the run directory names of labels, each with its data set's label.
func writeIndex(t *testing.T, dir string, labels map[string]string) {
	t.Helper()
	var ix results.SweepIndexOf[string]
	for name, label := range labels {
		ix.Runs = append(ix.Runs, results.SweepEntry[string]{Name: name, Dir: "runs/" + name, Dataset: label})
	}
	data, err := json.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.SweepIndex), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The data label is what summary.json records; for a summary without a
// grid point it is what the sweep's index.json says when the sweep has
// several data sets. A directory's name is never parsed for it.
func TestDataLabel(t *testing.T) {
	root := t.TempDir()
	several, one := filepath.Join(root, "several"), filepath.Join(root, "one")
	writeIndex(t, several, map[string]string{"svhn-standard-p0.1-layer-s1": "svhn", "c10-standard-p0.1-layer-s1": "c10"})
	writeIndex(t, one, map[string]string{"svhn-standard-p0.1-layer-s1": "svhn"})
	s := results.Summary{Variant: "standard", Ratio: "0.1", Semantics: "layer", Seed: 1}
	recorded := s
	recorded.Sweep = &results.SweepPoint{DataLabel: "svhn-extra"}
	unlabelled := s
	unlabelled.Sweep = &results.SweepPoint{}
	for _, tc := range []struct {
		name string
		dir  string
		sum  results.Summary
		want string
	}{
		{"recorded", filepath.Join(several, "runs", "svhn-standard-p0.1-layer-s1"), recorded, "svhn-extra"},
		{"recorded as none", filepath.Join(several, "runs", "svhn-standard-p0.1-layer-s1"), unlabelled, ""},
		{"from the index", filepath.Join(several, "runs", "svhn-standard-p0.1-layer-s1"), s, "svhn"},
		{"one data set", filepath.Join(one, "runs", "svhn-standard-p0.1-layer-s1"), s, ""},
		{"not in a sweep", filepath.Join(root, "svhn-standard-p0.1-layer-s1"), s, ""},
		{"no index", filepath.Join(root, "none", "runs", "svhn-standard-p0.1-layer-s1"), s, ""},
	} {
		var c Collection
		if got := c.dataLabel(tc.dir, tc.sum); got != tc.want {
			t.Errorf("%s: dataLabel = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Runs on another kernel set are a group of their own, not the default
// set's runs again: the same config and seed on both sets are two runs.
func TestGroupsKeepKernelSetsApart(t *testing.T) {
	run := func(kernels, dir string) Run {
		cfg := config.Default()
		cfg.Dropout.Variant, cfg.Dropout.Ratio, cfg.Kernels = "standard", "0.3", kernels
		return Run{Dir: dir, Config: &cfg, Cell: experiment.Cell{Variant: experiment.Standard, Ratio: experiment.Ratio{P: 0.3}, Semantics: experiment.Layer},
			Summary: results.Summary{Seed: cfg.Seed, Model: cfg.Model, Dataset: cfg.Dataset.Name, TrainSize: 100, TestSize: 10}}
	}
	for _, tc := range []struct {
		kernels [2]string
		groups  int
	}{{[2]string{"", "strided"}, 2}, {[2]string{"direct", "strided"}, 2}, {[2]string{"", "direct"}, 1}} {
		groups, problems := Groups([]Run{run(tc.kernels[0], "a"), run(tc.kernels[1], "b")})
		want := 2 - tc.groups // a second run of the same group is the same run, counted once
		if len(groups) != tc.groups || len(problems) != want {
			t.Errorf("kernels %q: %d groups and problems %q, want %d groups and %d problems", tc.kernels, len(groups), problems, tc.groups, want)
		}
	}
}
