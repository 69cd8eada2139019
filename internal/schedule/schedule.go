// Package schedule gives the learning rate of every iteration of a run:
// Caffe's multistep schedule and the schedules of PyTorch's
// torch.optim.lr_scheduler that decay to zero over the budget (cosine,
// linear, one-cycle), with an optional linear warm-up. The rate is a pure
// function of the iteration, so a resumed run follows its schedule exactly
// with nothing about it in the checkpoint. The formulas are those of
// docs/DESIGN.md ("Learning-rate schedules"); the tests hold them to
// PyTorch's own values (scripts/lr_schedules.py).
package schedule

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Kind names a learning-rate schedule (the key train.lr_schedule).
type Kind string

// The schedules.
const (
	Step     Kind = "step"     // Caffe multistep: train.lr, then each of train.lr_steps in turn
	Cosine   Kind = "cosine"   // CosineAnnealingLR(T_max=iterations, eta_min=0)
	Linear   Kind = "linear"   // LinearLR(start_factor=1, end_factor=0, total_iters=iterations)
	OneCycle Kind = "onecycle" // OneCycleLR(max_lr=lr, total_steps=iterations), momentum not cycled
)

// kinds are the allowed schedules, the default first: an array, so no caller can change them.
var kinds = [...]Kind{Step, Cosine, Linear, OneCycle}

// Kinds returns the allowed schedules, the default (step) first.
func Kinds() []Kind { return slices.Clone(kinds[:]) }

// Names returns the allowed schedules as the config spells them.
func Names() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// Parse reads a schedule name; the empty name is step, the schedule of
// every run whose config predates the key.
func Parse(s string) (Kind, error) {
	if s == "" {
		return Step, nil
	}
	for _, k := range kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown schedule %q (allowed: %s)", s, strings.Join(Names(), ", "))
}

// Warms reports whether k takes a warm-up (train.warmup): the decays to
// zero do. One-cycle has its own rising phase, and a step schedule writes
// a constant warm-up as a low train.lr and a first step up (He et al.'s
// ResNet-110).
func (k Kind) Warms() bool { return k == Cosine || k == Linear }

// The parameters of OneCycleLR that onecycle uses: PyTorch's defaults.
const (
	OneCyclePctStart       = 0.3 // share of the iterations spent rising
	OneCycleDivFactor      = 25  // the first rate is lr / OneCycleDivFactor
	OneCycleFinalDivFactor = 1e4 // the last rate is the first / OneCycleFinalDivFactor
)

// Milestone switches the learning rate to LR from iteration At+1 on.
type Milestone struct {
	At int
	LR float64
}

// Schedule is the learning-rate schedule of one run. It is checked by
// config.Run.Validate; At assumes a valid one.
type Schedule struct {
	Kind       Kind
	LR         float64     // the base rate: the first of step, cosine and linear, the peak of onecycle
	Iterations int         // the length of the run
	Warmup     int         // iterations of linear warm-up before the decay (cosine, linear)
	Steps      []Milestone // step only, in increasing order of At
}

// At returns the learning rate of the 1-based iteration iter, 1..Iterations.
func (s Schedule) At(iter int) float64 {
	// t is PyTorch's last_epoch: how often the scheduler has stepped (once
	// after each iteration) when iteration iter runs.
	t := iter - 1
	switch s.Kind {
	case Cosine, Linear:
		if t < s.Warmup {
			// LinearLR(start_factor=1/(W+1), end_factor=1, total_iters=W):
			// a line from 0 at iteration 0 to lr at iteration W+1.
			return s.LR * float64(t+1) / float64(s.Warmup+1)
		}
		t -= s.Warmup
		n := float64(s.Iterations - s.Warmup)
		if s.Kind == Cosine {
			return s.LR * (1 + math.Cos(math.Pi*float64(t)/n)) / 2
		}
		return s.LR * (1 - float64(t)/n)
	case OneCycle:
		return s.oneCycle(float64(t))
	}
	lr := s.LR
	for _, m := range s.Steps {
		if iter > m.At {
			lr = m.LR
		}
	}
	return lr
}

// oneCycle is OneCycleLR's two-phase cosine annealing at step t, written
// as PyTorch computes it: from lr/25 up to lr until step 0.3N-1, then down
// to lr/25/1e4 at step N-1.
func (s Schedule) oneCycle(t float64) float64 {
	initial := s.LR / OneCycleDivFactor
	final := initial / OneCycleFinalDivFactor
	pct := OneCyclePctStart // a variable: the product must round as PyTorch's does at run time
	peak := pct*float64(s.Iterations) - 1
	last := float64(s.Iterations - 1)
	anneal := func(from, to, pct float64) float64 {
		return to + (from-to)/2*(math.Cos(math.Pi*pct)+1)
	}
	if t <= peak {
		return anneal(initial, s.LR, t/peak)
	}
	return anneal(s.LR, final, (t-peak)/(last-peak))
}
