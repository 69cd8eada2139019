package schedule

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pytorchCase is one case of testdata/pytorch.json, written by
// scripts/lr_schedules.py from torch.optim.lr_scheduler.
type pytorchCase struct {
	Name       string  `json:"name"`
	Schedule   string  `json:"schedule"`
	LR         float64 `json:"lr"`
	Iterations int     `json:"iterations"`
	Warmup     int     `json:"warmup"`
	LRSteps    []struct {
		At int     `json:"at"`
		LR float64 `json:"lr"`
	} `json:"lr_steps"`
	LRs []float64 `json:"lrs"` // the rate of iterations 1..Iterations
}

// Every schedule gives, at every iteration, the learning rate PyTorch's own
// scheduler gives (committed values; regenerate with scripts/lr_schedules.py).
func TestMatchesPyTorch(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "pytorch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Torch string        `json:"torch"`
		Cases []pytorchCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[Kind]bool{}
	warmed := map[Kind]bool{}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			k, err := Parse(c.Schedule)
			if err != nil {
				t.Fatal(err)
			}
			seen[k] = true
			warmed[k] = warmed[k] || c.Warmup > 0
			s := Schedule{Kind: k, LR: c.LR, Iterations: c.Iterations, Warmup: c.Warmup}
			for _, m := range c.LRSteps {
				s.Steps = append(s.Steps, Milestone{At: m.At, LR: m.LR})
			}
			if len(c.LRs) != c.Iterations {
				t.Fatalf("%d rates for %d iterations", len(c.LRs), c.Iterations)
			}
			for i, want := range c.LRs {
				got := s.At(i + 1)
				if !(math.Abs(got-want) <= 1e-9*math.Abs(want)) {
					t.Errorf("iteration %d: lr %v, PyTorch %s %v (relative difference %.2g)", i+1, got, doc.Torch, want, math.Abs(got-want)/math.Abs(want))
				}
			}
		})
	}
	for _, k := range Kinds() {
		if !seen[k] {
			t.Errorf("no PyTorch case for schedule %s; add one to scripts/lr_schedules.py", k)
		}
		if k.Warms() && !warmed[k] {
			t.Errorf("no PyTorch case for schedule %s with a warm-up", k)
		}
	}
}

// The step schedule is Caffe's multistep exactly: the same float64 values,
// bit for bit, that runs before the other schedules existed used.
func TestStepIsCaffeMultistep(t *testing.T) {
	s := Schedule{Kind: Step, LR: 0.001, Iterations: 5000, Steps: []Milestone{{At: 4000, LR: 0.0001}}}
	for iter, want := range map[int]float64{1: 0.001, 4000: 0.001, 4001: 0.0001, 5000: 0.0001} {
		if got := s.At(iter); got != want {
			t.Errorf("lr at iteration %d = %v, want %v", iter, got, want)
		}
	}
}

// Shapes the PyTorch table does not spell out: where each schedule starts,
// peaks and ends, and that the decays never go below zero.
func TestShapes(t *testing.T) {
	const n = 1000
	for _, tc := range []struct {
		s           Schedule
		first, last float64
		peakAt      int // the first iteration at the peak lr
	}{
		{Schedule{Kind: Cosine, LR: 0.1, Iterations: n}, 0.1, 0.1 * (1 + math.Cos(math.Pi*(n-1)/n)) / 2, 1},
		{Schedule{Kind: Linear, LR: 0.1, Iterations: n}, 0.1, 0.1 / n, 1},
		{Schedule{Kind: Cosine, LR: 0.1, Iterations: n, Warmup: 99}, 0.1 / 100, 0.1 * (1 + math.Cos(math.Pi*(n-100)/(n-99))) / 2, 100},
		{Schedule{Kind: Linear, LR: 0.1, Iterations: n, Warmup: 99}, 0.1 / 100, 0.1 / (n - 99), 100},
		{Schedule{Kind: OneCycle, LR: 0.1, Iterations: n}, 0.1 / 25, 0.1 / 25 / 1e4, 300},
	} {
		name := string(tc.s.Kind)
		if got := tc.s.At(1); math.Abs(got-tc.first) > 1e-12 {
			t.Errorf("%s warm-up %d: first lr %v, want %v", name, tc.s.Warmup, got, tc.first)
		}
		if got := tc.s.At(n); math.Abs(got-tc.last) > 1e-12 {
			t.Errorf("%s warm-up %d: last lr %v, want %v", name, tc.s.Warmup, got, tc.last)
		}
		maxAt, maxLR := 0, 0.0
		for i := 1; i <= n; i++ {
			lr := tc.s.At(i)
			if !(lr > 0) {
				t.Fatalf("%s warm-up %d: lr %v at iteration %d", name, tc.s.Warmup, lr, i)
			}
			if lr > maxLR+1e-15 {
				maxAt, maxLR = i, lr
			}
		}
		if maxAt != tc.peakAt || math.Abs(maxLR-tc.s.LR) > 1e-12 {
			t.Errorf("%s warm-up %d: peak %v at iteration %d, want %v at %d", name, tc.s.Warmup, maxLR, maxAt, tc.s.LR, tc.peakAt)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Kind{"": Step, "step": Step, "cosine": Cosine, "linear": Linear, "onecycle": OneCycle} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Cosine", "one-cycle", "exp", " step"} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), "allowed: step, cosine, linear, onecycle") {
			t.Errorf("Parse(%q): error %v, want one listing the allowed schedules", in, err)
		}
	}
}
