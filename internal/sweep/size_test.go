package sweep

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// values is n distinct values of a key, for --axis.
func values(n int, format string) string {
	v := make([]string, n)
	for i := range v {
		v[i] = fmt.Sprintf(format, i+1)
	}
	return strings.Join(v, ",")
}

// A grid past the limit is refused from its axes' lengths, at once, before
// its runs are made: --axis with 10^6 combinations took 348 MB and a
// minute, 10^9 grew without end.
func TestExpandRefusesHugeGrids(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    string
		axes    []string
		maxRuns int
		want    string // "" for a grid within the limit
	}{
		{"10^6 key combinations", "base: base.yaml\naxes: {variant: [plain]}\n",
			[]string{"train.iterations=" + values(1000, "%d"), "train.batch_size=" + values(1000, "%d")}, 0, "more than 100000 runs"},
		{"10^9 key combinations", "base: base.yaml\naxes: {variant: [plain]}\n",
			[]string{"train.iterations=" + values(1000, "%d"), "train.batch_size=" + values(1000, "%d"), "train.eval_every=" + values(1000, "%d")}, 0, "more than 100000 runs"},
		{"a limit of 11", "base: base.yaml\naxes: {variant: [plain, standard], ratio: [0.1, 0.2, 0.3], seed: [1, 2, 3]}\n",
			nil, 11, "more than 11 runs"},
		{"exactly the limit", "base: base.yaml\naxes: {variant: [plain, standard], ratio: [0.1, 0.2, 0.3], seed: [1, 2, 3]}\n",
			nil, 12, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSpecFile(t, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			runs, err := Expand(s, Overrides{Axes: tc.axes, MaxRuns: tc.maxRuns})
			if took := time.Since(start); tc.want != "" && took > 10*time.Second {
				t.Errorf("refusing took %v", took)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want == "" && len(runs) != tc.maxRuns:
				t.Errorf("%d runs, want %d", len(runs), tc.maxRuns)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
