package analysis

import (
	"errors"
	"math"
	"testing"

	"github.com/dropexp/dropexp/internal/stats"
)

func TestCheckVerdict(t *testing.T) {
	nan := math.NaN()
	// diff, interval, p (Holm)
	c := func(d, lo, hi, ph float64) Comparison {
		return Comparison{Test: stats.Test{Diff: d, Low: lo, High: hi, P: ph}, PHolm: ph, HLow: lo, HHigh: hi}
	}
	for _, tc := range []struct {
		name string
		kind checkKind
		c    Comparison
		ran  bool
		want Verdict
	}{
		{"beats, significant", positive, c(0.01, 0.005, 0.015, 0.01), true, Holds},
		{"beats, significant the other way", positive, c(-0.01, -0.015, -0.005, 0.01), true, DoesNotHold},
		{"beats, not significant", positive, c(0.01, -0.005, 0.025, 0.2), true, NotResolved},
		{"below, significant", negative, c(-0.01, -0.015, -0.005, 0.001), true, Holds},
		{"below, significant the other way", negative, c(0.01, 0.005, 0.015, 0.001), true, DoesNotHold},
		{"loss ratio, significant", UnderfitRatio, c(0.2, 0.1, 0.3, 0.01), true, Holds},
		{"indistinguishable, narrow interval", equivalent, c(0.0005, -0.001, 0.0019, 0.5), true, Holds},
		{"indistinguishable, wide interval", equivalent, c(0.0005, -0.01, 0.011, 0.5), true, NotResolved},
		{"indistinguishable, significant", equivalent, c(0.0015, 0.001, 0.0019, 0.01), true, DoesNotHold},
		{"does not beat, interval below the margin", notPositive, c(-0.01, -0.02, 0.001, 0.3), true, Holds},
		{"does not beat, wide interval", notPositive, c(-0.01, -0.1, 0.08, 0.8), true, NotResolved},
		{"does not beat, significantly better", notPositive, c(0.01, 0.005, 0.015, 0.01), true, DoesNotHold},
		{"does not beat, significantly worse", notPositive, c(-0.01, -0.015, -0.005, 0.01), true, Holds},
		{"n=1", positive, Comparison{Test: stats.Test{Diff: 0.1, Low: nan, High: nan, P: nan}, PHolm: nan, Err: stats.ErrTooFew}, true, NotResolved},
		{"not run", positive, Comparison{}, false, NotRun},
	} {
		if got := (Check{Kind: tc.kind, C: tc.c, Ran: tc.ran}).Verdict(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if !errors.Is(stats.ErrTooFew, stats.ErrTooFew) {
		t.Fatal("unreachable")
	}
}

func TestCombine(t *testing.T) {
	sig := Comparison{Test: stats.Test{Diff: 0.01, Low: 0.005, High: 0.015}, PHolm: 0.01}
	insig := Comparison{Test: stats.Test{Diff: 0.01, Low: -0.01, High: 0.03}, PHolm: 0.5}
	for _, tc := range []struct {
		name   string
		checks []Check
		want   Verdict
	}{
		{"all hold", []Check{{Kind: positive, C: sig, Ran: true}, {Kind: positive, C: sig, Ran: true}}, Holds},
		{"one does not hold", []Check{{Kind: positive, C: sig, Ran: true}, {Kind: negative, C: sig, Ran: true}, {Kind: positive, C: insig, Ran: true}}, DoesNotHold},
		{"one unresolved", []Check{{Kind: positive, C: sig, Ran: true}, {Kind: positive, C: insig, Ran: true}}, NotResolved},
		{"what ran holds", []Check{{Kind: positive, C: sig, Ran: true}, {Kind: positive}}, Holds},
		{"nothing ran", []Check{{Kind: positive}, {Kind: negative}}, NotRun},
		{"no checks", nil, NotRun},
	} {
		if got := combine(tc.checks); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// The seeds that would settle an open check: the paired t-test's power at
// the observed difference and spread, at Holm's strictest level.
func TestCheckSeeds(t *testing.T) {
	open := func(kind checkKind, diff, se float64, n int) Check {
		return Check{Kind: kind, Ran: true, C: Comparison{Test: stats.Test{Diff: diff, SE: se, NA: n, NB: n, DF: float64(n - 1)}, PHolm: 0.5,
			HLow: diff - 10*se, HHigh: diff + 10*se}}
	}
	// effect = diff / (se·√n) = 1 standard deviation of the differences.
	k := open(positive, 0.01, 0.01/math.Sqrt(3), 3)
	if n, ok, _ := k.Seeds(1); !ok || n != 10 { // stats.SeedsNeeded(1, 0.05, 0.8) = 10 (SciPy)
		t.Errorf("seeds of an open check, one in its family: %d, %v; want 10", n, ok)
	}
	if n, ok, _ := k.Seeds(4); !ok || n <= 10 {
		t.Errorf("seeds in a family of 4: %d, %v; want more than alone", n, ok)
	}
	held := k
	held.C.PHolm, held.C.HLow = 0.001, 0.001
	if _, ok, _ := held.Seeds(1); ok {
		t.Error("a settled check asks for seeds")
	}
	if n, ok, _ := open(equivalent, 0.0005, 0.002, 3).Seeds(1); !ok || n < 3 {
		t.Errorf("an open equivalence check: %d, %v", n, ok)
	}
}
