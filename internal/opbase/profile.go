package opbase

import (
	"sync"
	"sync/atomic"
	"time"

	G "gorgonia.org/gorgonia"
)

// Pass says which part of training an op computes, for the per-layer
// timings of dropexp bench --layers.
type Pass uint8

// The passes; Elementwise is every op that is not a layer's matrix work
// (BatchNorm, ReLU, pooling, masks, the loss).
const (
	Elementwise Pass = iota
	ForwardPass
	InputGradPass
	WeightGradPass
)

// String names the pass as the bench table prints it.
func (p Pass) String() string {
	return [...]string{"element-wise", "forward", "input gradient", "weight gradient"}[p]
}

// OpTime is what a Profile recorded of one op.
type OpTime struct {
	Name  string
	Pass  Pass
	Calls int
	Time  time.Duration
	Flops float64 // multiply-adds × 2 over all calls, as Spec.Flops counts them
}

// A Profile records the time of every op's Do while it is active. Only
// one is active at a time; when none is, Do costs one atomic load more.
type Profile struct {
	mu    sync.Mutex
	order []string
	ops   map[string]*OpTime
}

var active atomic.Pointer[Profile]

// StartProfile makes a new Profile active and returns it.
func StartProfile() *Profile {
	p := &Profile{ops: map[string]*OpTime{}}
	active.Store(p)
	return p
}

// Stop makes p inactive.
func (p *Profile) Stop() { active.CompareAndSwap(p, nil) }

// Ops returns the ops in the order they first ran.
func (p *Profile) Ops() []OpTime {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]OpTime, 0, len(p.order))
	for _, n := range p.order {
		out = append(out, *p.ops[n])
	}
	return out
}

func (p *Profile) add(s *Spec, vs []G.Value, d time.Duration) {
	var fl float64
	if s.Flops != nil {
		fl = s.Flops(vs)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.ops[s.Name]
	if t == nil {
		t = &OpTime{Name: s.Name, Pass: s.Pass}
		p.ops[s.Name] = t
		p.order = append(p.order, s.Name)
	}
	t.Calls++
	t.Time += d
	t.Flops += fl
}
