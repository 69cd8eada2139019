// Package diagnostics measures what a dropout variant does to the gradient.
// Every N iterations, on that step's batch and weights, it computes beside
// the step's own gradient g (the variant's masks, from the training stream)
// the clean gradient g0 (every mask 1: nothing dropped in either pass) and
// the gradients g_1..g_K of K fresh mask draws of the variant (from a stream
// of its own), and records per parameter tensor and over all of them:
//
//	norm_g     ‖g‖
//	norm_g0    ‖g0‖
//	rel_dev    ‖g − g0‖ / ‖g0‖
//	cosine     ⟨g, g0⟩ / (‖g‖ ‖g0‖)
//	norm_mean  ‖ḡ‖, with ḡ = (1/K) Σ_k g_k
//	mean_dev   ‖ḡ − g0‖ / ‖g0‖: how far the variant's expected gradient is from the clean one
//	noise      (1/(K−1)) Σ_k ‖g_k − ḡ‖² / ‖ḡ‖²: the trace of the gradient's covariance
//	           over mask draws (unbiased estimate) relative to the squared mean
//
// The totals treat all parameters as one vector (the norms and sums run over
// every tensor), so they are not means of the per-tensor values. The
// gradients are those of the loss alone: the solver's weight decay is not in
// them. The masks themselves are described in docs/DESIGN.md §1; under the
// layer rule the forward variant's consuming-layer weight gradient sees the
// undropped features, so its deviation differs from the elementwise rule's.
//
// The extra passes (1 + K per diagnosed step) run before the step's own pass
// and leave nothing behind that the run computes with: the step's masks and
// the BatchNorm running statistics are put back, and the step's pass then
// runs as it would without diagnostics, so metrics.csv is byte-identical
// with diagnostics on and off.
package diagnostics

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/threads"
)

// The quantities of diagnostics.csv, in the order each tensor's rows have.
const (
	NormG    = "norm_g"
	NormG0   = "norm_g0"
	RelDev   = "rel_dev"
	Cosine   = "cosine"
	NormMean = "norm_mean"
	MeanDev  = "mean_dev"
	Noise    = "noise"
)

// Quantities lists the recorded quantities in file order.
var Quantities = []string{NormG, NormG0, RelDev, Cosine, NormMean, MeanDev, Noise}

// Graph is what the diagnostics need of a training graph.
type Graph struct {
	Run   func() error       // one forward and backward pass
	Names []string           // the parameter tensors
	Grads []func() []float32 // each tensor's gradient as the last Run left it
	Sites []*dropout.Site
	// State holds values a pass updates that the run must not see change
	// (BatchNorm running statistics); they are put back after the extra passes.
	State [][]float32
}

// FromNet returns the Graph of a training net built by package model.
func FromNet(n *model.Net) Graph {
	g := Graph{Run: n.Run, Sites: n.Sites}
	for _, p := range n.Params {
		size := len(p.Data())
		g.Names = append(g.Names, p.Name)
		g.Grads = append(g.Grads, func() []float32 { return p.Grad.Value().Data().([]float32)[:size] })
	}
	names := make([]string, 0, len(n.BN))
	for name := range n.BN {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		g.State = append(g.State, n.BN[name].Mean, n.BN[name].Var)
	}
	return g
}

// Masks draws the masks of the K extra passes; *dropout.Sampler is one.
type Masks interface {
	Sample(sites []*dropout.Site)
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// streamSeed makes the diagnostics' mask stream its own: the training masks
// are drawn with the seed xor 0xd0d0, and no other stream uses this one.
const streamSeed = 0xd1a9_0000

// ForRun returns the diagnostics cfg asks for on the training net n, or nil
// when diagnostics.every is 0 (every method of a nil *Diagnoser does nothing).
// Its masks are drawn on the run's threads ex.
func ForRun(cfg config.Run, n *model.Net, ex threads.Executor) *Diagnoser {
	if cfg.Diagnostics.Every <= 0 {
		return nil
	}
	s := dropout.NewSampler(cfg.Variant(), cfg.Ratio(), uint64(cfg.Seed)^streamSeed)
	s.Threads = ex.Threads()
	return New(cfg.Diagnostics.Every, cfg.Diagnostics.Draws, FromNet(n), s)
}

// Diagnoser runs the extra passes at every Every-th iteration and keeps what they measured.
type Diagnoser struct {
	every, draws int
	g            Graph
	masks        Masks
	saved        [][]float32 // the step's masks: mf of every site, and mb where it is a tensor of its own
	state        [][]float32 // copy of g.State
	g0           [][]float32
	mean         [][]float64
	m2           []float64 // per tensor: Σ_k ‖g_k − ḡ‖², by Welford's update per element
	prepared     int       // the iteration Before ran its passes for
	steps        []Step
	elapsed      time.Duration // this session's extra passes
	// secondsBefore is the time of the extra passes of earlier sessions.
	secondsBefore float64
}

// Step holds the values of one diagnosed iteration: for each tensor, then
// the total, the Quantities in order.
type Step struct {
	Iteration int
	Values    []float64
}

// New returns a Diagnoser that diagnoses every every-th iteration with
// draws (>= 2) draws from masks.
func New(every, draws int, g Graph, masks Masks) *Diagnoser {
	d := &Diagnoser{every: every, draws: draws, g: g, masks: masks, m2: make([]float64, len(g.Names))}
	for _, s := range g.Sites {
		for _, m := range masksOf(s) {
			d.saved = append(d.saved, make([]float32, len(m)))
		}
	}
	for _, v := range g.State {
		d.state = append(d.state, make([]float32, len(v)))
	}
	// The gradients' sizes are known once the graph has run (see Before).
	d.g0, d.mean = make([][]float32, len(g.Grads)), make([][]float64, len(g.Grads))
	return d
}

// due reports whether iteration iter is diagnosed.
func (d *Diagnoser) due(iter int) bool { return d != nil && iter%d.every == 0 }

// Before runs the extra passes of iteration iter, if it is diagnosed, with
// the batch, weights and step masks the step's own pass is about to use;
// it leaves masks and running statistics as it found them. Call it after
// the step's masks are drawn and before its pass.
func (d *Diagnoser) Before(iter int) error {
	if !d.due(iter) {
		return nil
	}
	t0 := time.Now()
	defer func() { d.elapsed += time.Since(t0) }()
	d.swapMasks(func(live, saved []float32) {
		copy(saved, live)
		fill(live, 1)
	})
	for i, v := range d.g.State {
		copy(d.state[i], v)
	}
	if err := d.g.Run(); err != nil {
		return fmt.Errorf("clean pass: %w", err)
	}
	for i, grad := range d.g.Grads {
		g0 := grad()
		if d.g0[i] == nil {
			d.g0[i], d.mean[i] = make([]float32, len(g0)), make([]float64, len(g0))
		}
		copy(d.g0[i], g0)
		clear(d.mean[i])
		d.m2[i] = 0
	}
	for k := 1; k <= d.draws; k++ {
		d.masks.Sample(d.g.Sites)
		if err := d.g.Run(); err != nil {
			return fmt.Errorf("mask draw %d: %w", k, err)
		}
		for i, grad := range d.g.Grads {
			d.m2[i] += welford(d.mean[i], grad(), k)
		}
	}
	d.swapMasks(func(live, saved []float32) { copy(live, saved) })
	for i, v := range d.g.State {
		copy(v, d.state[i])
	}
	d.prepared = iter
	return nil
}

// masksOf returns a site's mask tensors: mf, and mb unless it is mf itself
// (the variants that draw one mask for both passes or mask one pass only).
func masksOf(s *dropout.Site) [][]float32 {
	if s.MB == s.MF {
		return [][]float32{s.Forward()}
	}
	return [][]float32{s.Forward(), s.Backward()}
}

// swapMasks calls fn with every mask tensor of the graph and its saved copy.
func (d *Diagnoser) swapMasks(fn func(live, saved []float32)) {
	i := 0
	for _, s := range d.g.Sites {
		for _, m := range masksOf(s) {
			fn(m, d.saved[i])
			i++
		}
	}
}

// welford adds the k-th sample x to the running mean and returns its
// contribution to Σ‖x_k − mean‖² (Welford's update, element by element).
func welford(mean []float64, x []float32, k int) float64 {
	var m2 float64
	inv := 1 / float64(k)
	for j, v := range x {
		xv := float64(v)
		delta := xv - mean[j]
		mean[j] += delta * inv
		m2 += delta * (xv - mean[j])
	}
	return m2
}

func fill(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

// After records iteration iter, if it is diagnosed, from the gradient the
// step's own pass just computed. Call it after that pass and before the
// solver's update.
func (d *Diagnoser) After(iter int) error {
	if !d.due(iter) {
		return nil
	}
	if d.prepared != iter {
		return fmt.Errorf("diagnostics: iteration %d recorded without its extra passes (Before not called)", iter)
	}
	nq := len(Quantities)
	vals := make([]float64, (len(d.g.Names)+1)*nq)
	var tot sums
	for i, grad := range d.g.Grads {
		s := tensorSums(grad(), d.g0[i], d.mean[i])
		s.m2 = d.m2[i]
		s.values(vals[i*nq:(i+1)*nq], d.draws)
		tot.add(s)
	}
	tot.values(vals[len(d.g.Names)*nq:], d.draws)
	d.steps = append(d.steps, Step{Iteration: iter, Values: vals})
	return nil
}

// sums are the sums of squares and products behind one tensor's quantities.
type sums struct {
	gg, g0g0, dev, dot, mm, mdev, m2 float64
}

func tensorSums(g, g0 []float32, mean []float64) sums {
	var s sums
	for j, v := range g {
		gv, cv, mv := float64(v), float64(g0[j]), mean[j]
		s.gg += gv * gv
		s.g0g0 += cv * cv
		s.dev += (gv - cv) * (gv - cv)
		s.dot += gv * cv
		s.mm += mv * mv
		s.mdev += (mv - cv) * (mv - cv)
	}
	return s
}

func (s *sums) add(o sums) {
	s.gg += o.gg
	s.g0g0 += o.g0g0
	s.dev += o.dev
	s.dot += o.dot
	s.mm += o.mm
	s.mdev += o.mdev
	s.m2 += o.m2
}

// values writes the Quantities of s into v; a zero denominator gives NaN
// (or ±Inf), which the file keeps as such.
func (s sums) values(v []float64, draws int) {
	n0 := math.Sqrt(s.g0g0)
	v[0] = math.Sqrt(s.gg)
	v[1] = n0
	v[2] = math.Sqrt(s.dev) / n0
	v[3] = s.dot / (math.Sqrt(s.gg) * n0)
	v[4] = math.Sqrt(s.mm)
	v[5] = math.Sqrt(s.mdev) / n0
	v[6] = s.m2 / float64(draws-1) / s.mm
}

// Steps returns the diagnosed iterations so far.
func (d *Diagnoser) Steps() []Step {
	if d == nil {
		return nil
	}
	return d.steps
}

// Rows returns the diagnosed iterations as the rows of diagnostics.csv.
func (d *Diagnoser) Rows() []results.Diagnostic {
	if d == nil {
		return nil
	}
	tensors := append(slices.Clone(d.g.Names), results.TotalTensor)
	rows := make([]results.Diagnostic, 0, len(d.steps)*len(tensors)*len(Quantities))
	for _, st := range d.steps {
		for i, t := range tensors {
			for j, q := range Quantities {
				rows = append(rows, results.Diagnostic{Iteration: st.Iteration, Tensor: t, Quantity: q, Value: st.Values[i*len(Quantities)+j]})
			}
		}
	}
	return rows
}

// Write atomically writes diagnostics.csv into the run directory dir.
func (d *Diagnoser) Write(dir string) error {
	if d == nil {
		return nil
	}
	return results.WriteDiagnostics(filepath.Join(dir, results.DiagnosticsFile), d.Rows())
}

// Seconds returns the wall time the extra passes took, over every session of the run.
func (d *Diagnoser) Seconds() float64 {
	if d == nil {
		return 0
	}
	return d.secondsBefore + d.elapsed.Seconds()
}

// savedState is what a checkpoint keeps of a Diagnoser.
type savedState struct {
	Tensors []string
	Masks   []byte
	Steps   []Step
	Seconds float64 // wall time of the extra passes so far
}

// MarshalBinary saves the mask stream and the diagnosed iterations so far (for checkpoints).
func (d *Diagnoser) MarshalBinary() ([]byte, error) {
	if d == nil {
		return nil, nil
	}
	m, err := d.masks.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(savedState{Tensors: d.g.Names, Masks: m, Steps: d.steps, Seconds: d.Seconds()}); err != nil {
		return nil, fmt.Errorf("diagnostics: encoding state: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary restores what MarshalBinary saved. Empty data (a
// checkpoint of a run without diagnostics) leaves the fresh state alone.
func (d *Diagnoser) UnmarshalBinary(data []byte) error {
	if d == nil || len(data) == 0 {
		return nil
	}
	var s savedState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return fmt.Errorf("diagnostics state: %w", err)
	}
	if !slices.Equal(s.Tensors, d.g.Names) {
		return fmt.Errorf("diagnostics state: tensors %v, the model has %v (checkpoint of another model?)", s.Tensors, d.g.Names)
	}
	want := (len(d.g.Names) + 1) * len(Quantities)
	for _, st := range s.Steps {
		if len(st.Values) != want {
			return fmt.Errorf("diagnostics state: iteration %d has %d values, want %d", st.Iteration, len(st.Values), want)
		}
	}
	if err := d.masks.UnmarshalBinary(s.Masks); err != nil {
		return fmt.Errorf("diagnostics state: mask stream: %w", err)
	}
	d.steps, d.secondsBefore, d.elapsed = s.Steps, s.Seconds, 0
	return nil
}
