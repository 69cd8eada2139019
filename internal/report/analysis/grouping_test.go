package analysis

import (
	"testing"

	"github.com/dropexp/dropexp/internal/results"
)

func TestDataLabelWithSweptKeys(t *testing.T) {
	s := results.Summary{Variant: "standard", Ratio: "0.1", Semantics: "layer", Seed: 1}
	for dir, want := range map[string]string{
		"runs/svhn-standard-p0.1-layer-s1":                      "svhn",
		"runs/svhn-standard-p0.1-layer-s1-lr0.01":               "svhn",
		"runs/svhn-standard-p0.1-layer-s1-lr0.01-0123abcd":      "svhn",
		"runs/standard-p0.1-layer-s1-lr0.01":                    "",
		"runs/standard-p0.1-layer-s10":                          "",
		"runs/x-standard-p0.1-layer-s10-standard-p0.1-layer-s1": "x-standard-p0.1-layer-s10",
	} {
		if got := dataLabel(dir, s); got != want {
			t.Errorf("dataLabel(%s) = %q, want %q", dir, got, want)
		}
	}
}

// A summary that records its grid point gives the data label; the
// directory's name is not read then.
func TestDataLabelFromSummary(t *testing.T) {
	s := results.Summary{Variant: "standard", Ratio: "0.1", Semantics: "layer", Seed: 1}
	for _, tc := range []struct {
		point *results.SweepPoint
		want  string
	}{
		{&results.SweepPoint{DataLabel: "svhn-extra"}, "svhn-extra"},
		{&results.SweepPoint{}, ""}, // a sweep without labels: "svhn" in the name is no label
		{nil, "svhn"},               // recorded by a dropexp without grid points
	} {
		s.Sweep = tc.point
		if got := dataLabel("runs/svhn-standard-p0.1-layer-s1", s); got != tc.want {
			t.Errorf("dataLabel with %+v = %q, want %q", tc.point, got, tc.want)
		}
	}
}
