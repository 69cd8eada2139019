package analysis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

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
