package progress

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEvalLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		label   string
		first   int // first iteration passed to Step; 0 = no Step before Eval
		iter    int
		lr      float64
		losses  [3]float64
		elapsed time.Duration
		want    string
	}{
		// The clock starts when the first Step returns: iterations 2..500,
		// 49,900 images, in 160 s.
		{
			name: "fresh run", first: 1, iter: 500, lr: 0.001, losses: [3]float64{1.2345, 1.1234, 0.6012}, elapsed: 160 * time.Second,
			want: "iter 500/5000  lr 0.001  train_loss 1.2345  test_loss 1.1234  test_acc 0.6012  312 img/s  eta 24m3s\n",
		},
		// Only this process's iterations count (2002..2500), never the
		// time of the run's earlier sessions.
		{
			name: "resumed run counts iterations since the first Step", first: 2001, iter: 2500, lr: 0.0001,
			losses: [3]float64{0.5, 0.6, 0.75}, elapsed: 160 * time.Second,
			want: "iter 2500/5000  lr 0.0001  train_loss 0.5000  test_loss 0.6000  test_acc 0.7500  312 img/s  eta 13m22s\n",
		},
		{
			name: "label prefixes the line", label: "standard-p0.3-layer-s1", first: 1, iter: 5000, lr: 0.0001,
			losses: [3]float64{0.5, 0.6, 0.75}, elapsed: 1600 * time.Second,
			want: "standard-p0.3-layer-s1: iter 5000/5000  lr 0.0001  train_loss 0.5000  test_loss 0.6000  test_acc 0.7500  312 img/s  eta 0s\n",
		},
		{
			name: "evaluation before training", iter: 0, lr: 0.001, losses: [3]float64{math.NaN(), 2.3026, 0.1},
			want: "iter 0/5000  lr 0.001  train_loss NaN  test_loss 2.3026  test_acc 0.1000  - img/s  eta -\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := New(&buf, 5000, 100, tc.label)
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			r.now = func() time.Time { return clock }
			if tc.first > 0 {
				for it := tc.first; it <= tc.iter; it++ {
					r.Step(it, 1)
				}
			}
			if buf.Len() != 0 {
				t.Fatalf("Step wrote to a non-terminal: %q", buf.String())
			}
			clock = clock.Add(tc.elapsed)
			r.Eval(tc.iter, tc.lr, tc.losses[0], tc.losses[1], tc.losses[2])
			r.Finish()
			if got := buf.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// A file that is not a terminal, such as a Slurm log, gets plain lines only.
func TestRegularFileIsNotATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if r := New(f, 10, 1, ""); r.bar != nil {
		t.Error("bar drawn into a regular file")
	}
}

func TestTerminalBar(t *testing.T) {
	var buf bytes.Buffer
	r := newReporter(&buf, 10, 2, "run", true)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	for it := 1; it <= 10; it++ {
		if it == 10 {
			// 9 iterations of 2 images since the first Step took 2 s.
			clock = clock.Add(2 * time.Second)
		}
		r.Step(it, 0.5)
		if it == 5 {
			r.Eval(5, 0.01, 0.5, 0.6, 0.7)
		}
	}
	r.Eval(10, 0.01, 0.5, 0.6, 0.7)
	r.Finish()
	r.Finish() // idempotent
	out := buf.String()
	for _, want := range []string{"run: loss 0.5000", "run: iter 5/10  lr 0.01", "10/10", "run: loss 0.5000  9 img/s  eta 0s", "test_acc 0.7000  9 img/s  eta 0s"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	// After the eval line at 5 the bar is redrawn below it; the full bar
	// stays above the last eval line.
	if after5 := out[strings.Index(out, "run: iter 5/10"):]; !strings.Contains(after5, "\n\r") || !strings.Contains(after5, "(5/10)") {
		t.Errorf("bar not redrawn after the eval line:\n%q", out)
	}
	if !strings.Contains(out, "(10/10)") || !strings.Contains(out[strings.LastIndex(out, "(10/10)"):], ") \nrun: iter 10/10") {
		t.Errorf("last eval line should follow the full bar:\n%q", out)
	}
	if !strings.HasSuffix(out, "eta 0s\n") {
		t.Errorf("output should end with the last eval line: %q", out)
	}
}

// A resumed run's bar gives the rate of this process's iterations: 9
// iterations of 100 images in 9 s after the first Step, 100 img/s, never
// the 2,000 iterations of its earlier sessions as done in the first second.
func TestTerminalBarResumedRate(t *testing.T) {
	var buf bytes.Buffer
	r := newReporter(&buf, 5000, 100, "run", true)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	r.Step(2001, 0.5)
	clock = clock.Add(9 * time.Second)
	for it := 2002; it <= 2010; it++ {
		r.Step(it, 0.5)
	}
	r.Finish()
	out := buf.String()
	if !strings.Contains(out, "run: loss 0.5000  100 img/s  eta 49m50s") || !strings.Contains(out, "(2010/5000)") {
		t.Errorf("bar lacks this process's rate and ETA at 2010/5000:\n%q", out)
	}
	// Any other rate on the bar would count the resumed iterations.
	if n := strings.Count(out, "/s"); n != strings.Count(out, "img/s") {
		t.Errorf("bar shows a rate besides img/s:\n%q", out)
	}
}

func TestTerminalBarStoppedEarly(t *testing.T) {
	var buf bytes.Buffer
	r := newReporter(&buf, 10, 2, "", true)
	r.Step(1, math.NaN())
	r.Finish()
	if out := buf.String(); strings.Contains(out, "10/10") || !strings.Contains(out, "1/10") || !strings.HasSuffix(out, "\n") {
		t.Errorf("a diverged run must show its bar as it stands, then a newline: %q", out)
	}
}

func TestStepIsCheapOffTerminal(t *testing.T) {
	r := New(&bytes.Buffer{}, 1000, 100, "x")
	it := 0
	if allocs := testing.AllocsPerRun(100, func() { it++; r.Step(it, 1) }); allocs != 0 {
		t.Errorf("Step allocates %v times per call", allocs)
	}
}

// Off a terminal, a long run also writes a plain line every so often between evaluations.
func TestPeriodicLineOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, 10, 100, "run")
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	r.every = time.Minute
	at := func(d time.Duration, iter int, loss float64) string {
		buf.Reset()
		clock = clock.Add(d)
		r.Step(iter, loss)
		return buf.String()
	}
	for _, s := range []struct {
		after time.Duration
		iter  int
		want  string // "" for no output
	}{
		{0, 1, ""},
		{30 * time.Second, 2, ""},
		// 2 iterations of 100 images since the first Step, in 61 s.
		{31 * time.Second, 3, "run: iter 3/10  loss 1.5000  3 img/s  eta 3m34s\n"},
		{59 * time.Second, 4, ""},
		{time.Second, 5, "run: iter 5/10  loss 1.5000  3 img/s  eta 2m31s\n"},
		{time.Hour, 10, ""}, // the last iteration: the evaluation line reports it
	} {
		got := at(s.after, s.iter, 1.5)
		if got != s.want {
			t.Errorf("iteration %d after %v: got %q, want %q", s.iter, s.after, got, s.want)
		}
	}
}
