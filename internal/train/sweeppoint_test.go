package train

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dropexp/dropexp/internal/results"
)

// A run a sweep trains records its grid point in summary.json.
func TestRunRecordsSweepPoint(t *testing.T) {
	cfg := tinyConfig(t, fixtureDir)
	dir := filepath.Join(t.TempDir(), "r")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	point := &results.SweepPoint{DataLabel: "small", Axes: map[string]string{"train.lr": "0.002"}}
	if _, err := Run(context.Background(), Options{Config: cfg, Dir: dir, Sweep: point}); err != nil {
		t.Fatal(err)
	}
	sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sum.Sweep, point) {
		t.Errorf("summary.json's sweep = %+v, want %+v", sum.Sweep, point)
	}
}
