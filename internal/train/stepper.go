package train

import (
	"fmt"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/threads"
)

// Stepper drives a run's own trainer one training step at a time, without
// evaluation, checkpoints or result files, so that a tool can look at the
// state between steps (dropexp dump-step). A step is exactly the step Run
// takes: the same graph, data order, masks and solver.
type Stepper struct {
	tr *trainer
}

// StepperOptions change how a Stepper builds its graph.
type StepperOptions struct {
	// Im2col turns the direct convolution off (the im2col and GEMM path).
	Im2col bool
	// From, when not empty, is a checkpoint.gob or model.gob whose state
	// (weights, momentum, BatchNorm statistics, random sources, data
	// position and iteration) the stepper continues from. Its config is
	// not compared with cfg: the caller picks a matching one.
	From string
}

// NewStepper builds the trainer of cfg on data, initialised as Run would.
func NewStepper(cfg config.Run, data *dataset.Split, opt StepperOptions) (*Stepper, error) {
	tr, err := newTrainer(cfg, threads.Resolve(cfg.Threads), data, runID{}, func(o *model.Options) { o.Im2col = opt.Im2col })
	if err != nil {
		return nil, err
	}
	if opt.From != "" {
		ck, err := loadCheckpoint(opt.From)
		if err == nil && ck == nil {
			err = fmt.Errorf("%s: no such checkpoint (give a run's checkpoint.gob or model.gob)", opt.From)
		}
		if err == nil {
			err = tr.restore(opt.From, ck, &loopState{})
		}
		if err != nil {
			tr.close()
			return nil, err
		}
	}
	return &Stepper{tr: tr}, nil
}

// Step runs the next training iteration (batch, masks, forward, backward,
// solver update) and returns its mean loss.
func (s *Stepper) Step() (float64, error) { return s.tr.step() }

// Threads returns the number of threads the steps compute on.
func (s *Stepper) Threads() int { return s.tr.exec.Threads() }

// Iter returns the number of steps taken so far.
func (s *Stepper) Iter() int { return s.tr.iter }

// Net returns the training graph: its parameters, gradients, sites, input
// buffers and BatchNorm statistics as the last step left them.
func (s *Stepper) Net() *model.Net { return s.tr.net }

// History returns the solver's momentum buffers, one per parameter of Net.
func (s *Stepper) History() [][]float32 { return s.tr.solver.History() }

// TrainSize returns the number of training images (an epoch).
func (s *Stepper) TrainSize() int { return s.tr.data.Train.Len() }

// Solver returns the solver (its momentum, weight decay and bias multiplier).
func (s *Stepper) Solver() *Solver { return s.tr.solver }

// Evaluate runs the evaluation graph (no dropout, BatchNorm with running
// statistics) on test images [0, n) with the current weights and returns
// copies of its input batch and logits (n rows of each).
func (s *Stepper) Evaluate(n int) (x, logits []float32, err error) {
	tr := s.tr
	n = min(n, tr.cfg.Train.BatchSize, tr.data.Test.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	in, y := tr.eval.Input()
	tr.prep.fill(in, y, tr.data.Test, idx, nil)
	if err := tr.eval.Run(); err != nil {
		return nil, nil, fmt.Errorf("evaluation: %w", err)
	}
	l := tr.eval.Logits.Value().Data().([]float32)
	per := len(l) / len(y)
	return append([]float32(nil), in[:n*len(in)/len(y)]...), append([]float32(nil), l[:n*per]...), nil
}

// Close releases the graphs.
func (s *Stepper) Close() { s.tr.close() }
