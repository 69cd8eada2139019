// Package train runs one training job: batches in a seeded order, fresh
// dropout masks every step, forward and backward through the graph, Caffe's
// SGD update, evaluation over the whole test set at a fixed interval, and the
// run directory's metrics and summary.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/results"
)

// Version is the dropexp version recorded in every summary.
var Version = "0.1.0"

// ErrDiverged reports a NaN or infinite training loss.
var ErrDiverged = errors.New("training diverged")

// Progress receives per-step and per-evaluation reports.
type Progress interface {
	Step(iter int, loss float64)
	Eval(iter int, lr, trainLoss, testLoss, testAcc float64, elapsed time.Duration)
	Finish()
}

// Options configure one run.
type Options struct {
	Config   config.Run     // validated
	Dir      string         // run directory (created)
	Data     *dataset.Split // nil: load Config.Dataset
	Progress Progress       // nil: silent
}

// Threads resolves the configured thread count (0: every core).
func Threads(cfg config.Run) int {
	if cfg.Threads > 0 {
		return cfg.Threads
	}
	return runtime.NumCPU()
}

// LoadData reads the configured data set and applies its size limits.
func LoadData(cfg config.Run) (*dataset.Split, error) {
	path := cfg.Dataset.Path
	if cfg.Dataset.Name == "mnist" && path == "" {
		dir, err := dataset.MNISTModuleDir()
		if err != nil {
			return nil, err
		}
		path = dir
	}
	sp, err := dataset.Load(cfg.Dataset.Name, path)
	if err != nil {
		return nil, err
	}
	return &dataset.Split{Train: sp.Train.Subset(cfg.Dataset.TrainLimit), Test: sp.Test.Subset(cfg.Dataset.TestLimit)}, nil
}

// Run trains the configured network and writes config.yaml, metrics.csv and
// summary.json into opt.Dir. It returns the summary also when training
// diverges (with ErrDiverged) or the context is cancelled.
func Run(ctx context.Context, opt Options) (results.Summary, error) {
	cfg := opt.Config
	start := time.Now()
	sum := results.Summary{
		Status: "running", Seed: cfg.Seed, Model: cfg.Model, Variant: cfg.Dropout.Variant,
		Ratio: cfg.Ratio().String(), Semantics: cfg.Dropout.Gradient, Dataset: cfg.Dataset.Name,
		DatasetPath: cfg.Dataset.Path, Iterations: cfg.Train.Iterations, DropexpVersion: Version,
		GoVersion: runtime.Version(), Threads: Threads(cfg), Started: start.UTC(),
	}
	if cfg.Variant() == "plain" {
		sum.Ratio = ""
	}
	resolved, err := cfg.YAML()
	if err != nil {
		return sum, err
	}
	if err := results.WriteFileAtomic(filepath.Join(opt.Dir, "config.yaml"), resolved); err != nil {
		return sum, err
	}
	data := opt.Data
	if data == nil {
		if data, err = LoadData(cfg); err != nil {
			return sum, err
		}
	}
	sum.TrainSize, sum.TestSize = data.Train.Len(), data.Test.Len()
	tr, err := newTrainer(cfg, data)
	if err != nil {
		return sum, err
	}
	defer tr.close()

	var rows []results.Metric
	var lossSum float64
	var lossN int
	var trainTime time.Duration
	prog := opt.Progress
	finish := func(status string) error {
		sum.Status = status
		sum.WallSeconds = time.Since(start).Seconds()
		if trainTime > 0 {
			sum.ImagesPerSecond = float64(tr.iter*cfg.Train.BatchSize) / trainTime.Seconds()
		}
		sum.Finished = time.Now().UTC()
		if n := len(rows); n > 0 {
			last := rows[n-1]
			sum.FinalTestAcc, sum.FinalTestLoss, sum.FinalTrainLoss = last.TestAcc, last.TestLoss, last.TrainLoss
		}
		if err := results.WriteMetrics(filepath.Join(opt.Dir, "metrics.csv"), rows); err != nil {
			return err
		}
		return results.WriteSummary(filepath.Join(opt.Dir, "summary.json"), sum)
	}
	for tr.iter < cfg.Train.Iterations {
		if err := ctx.Err(); err != nil {
			if werr := finish("interrupted"); werr != nil {
				return sum, werr
			}
			return sum, err
		}
		t0 := time.Now()
		loss, err := tr.step()
		trainTime += time.Since(t0)
		if err != nil {
			return sum, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			sum.DivergedAt = tr.iter
			if werr := finish("diverged"); werr != nil {
				return sum, werr
			}
			return sum, fmt.Errorf("%w: loss is %v at iteration %d (lower train.lr or check the data)", ErrDiverged, loss, tr.iter)
		}
		lossSum += loss
		lossN++
		if prog != nil {
			prog.Step(tr.iter, loss)
		}
		if tr.iter%cfg.Train.EvalEvery == 0 || tr.iter == cfg.Train.Iterations {
			testLoss, testAcc, err := tr.evaluate()
			if err != nil {
				return sum, err
			}
			row := results.Metric{Iteration: tr.iter, LR: cfg.LRAt(tr.iter), TrainLoss: lossSum / float64(lossN),
				TestLoss: testLoss, TestAcc: testAcc, Seconds: time.Since(start).Seconds()}
			rows = append(rows, row)
			lossSum, lossN = 0, 0
			if err := results.WriteMetrics(filepath.Join(opt.Dir, "metrics.csv"), rows); err != nil {
				return sum, err
			}
			if prog != nil {
				prog.Eval(row.Iteration, row.LR, row.TrainLoss, row.TestLoss, row.TestAcc, time.Since(start))
			}
		}
	}
	if prog != nil {
		prog.Finish()
	}
	return sum, finish("finished")
}

// trainer holds the graphs, solver and random sources of one run.
type trainer struct {
	cfg       config.Run
	data      *dataset.Split
	net, eval *model.Net
	solver    *Solver
	sampler   *dropout.Sampler
	order     *dataset.Order
	prep      *preprocessor
	iter      int
	idx       []int
}

func newTrainer(cfg config.Run, data *dataset.Split) (*trainer, error) {
	tr := &trainer{cfg: cfg, data: data}
	s := data.Train
	opt := model.Options{Model: cfg.Model, Batch: cfg.Train.BatchSize, C: s.C, H: s.H, W: s.W,
		Classes: len(s.Classes), Variant: cfg.Variant(), Semantics: cfg.Semantics(), Sites: cfg.Dropout.Sites,
		Threads: Threads(cfg), Train: true}
	var err error
	if tr.net, err = model.Build(opt, nil); err != nil {
		return nil, err
	}
	// Parameters, data order and masks each draw from their own stream of
	// the run's seed, so changing one never shifts another.
	seed := uint64(cfg.Seed)
	model.Init(tr.net.Params, rand.New(rand.NewPCG(seed, 1)))
	opt.Train = false
	if tr.eval, err = model.Build(opt, tr.net.Params); err != nil {
		return nil, err
	}
	tr.solver = NewSolver(tr.net.Params, cfg.Train.Momentum, cfg.Train.WeightDecay, cfg.Train.BiasLRMult)
	tr.sampler = dropout.NewSampler(cfg.Variant(), cfg.Ratio(), seed^0xd0d0)
	tr.order = dataset.NewOrder(s.Len(), seed^0x5eed)
	tr.prep = newPreprocessor(cfg.Dataset.Preprocess, s)
	tr.idx = make([]int, cfg.Train.BatchSize)
	return tr, nil
}

func (tr *trainer) close() {
	tr.net.Close()
	tr.eval.Close()
}

// step runs one training iteration and returns its mean loss.
func (tr *trainer) step() (float64, error) {
	tr.iter++
	x, y := tr.net.Input()
	tr.idx = tr.order.Next(len(tr.idx), tr.idx)
	tr.prep.fill(x, y, tr.data.Train, tr.idx)
	tr.sampler.Sample(tr.net.Sites)
	if err := tr.net.Run(); err != nil {
		return 0, fmt.Errorf("iteration %d: %w", tr.iter, err)
	}
	loss := tr.net.LossValue()
	tr.solver.Step(tr.cfg.LRAt(tr.iter))
	return loss, nil
}

// evaluate runs the whole test set without dropout and returns its mean loss and accuracy.
func (tr *trainer) evaluate() (loss, acc float64, err error) {
	test := tr.data.Test
	b := tr.cfg.Train.BatchSize
	x, y := tr.eval.Input()
	idx := make([]int, 0, b)
	var sumLoss float64
	var correct int
	for lo := 0; lo < test.Len(); lo += b {
		idx = idx[:0]
		for i := lo; i < min(lo+b, test.Len()); i++ {
			idx = append(idx, i)
		}
		tr.prep.fill(x, y, test, idx)
		if err := tr.eval.Run(); err != nil {
			return 0, 0, fmt.Errorf("evaluation at iteration %d: %w", tr.iter, err)
		}
		sumLoss += tr.eval.Loss.Sum()
		correct += tr.eval.Loss.Correct()
	}
	n := float64(test.Len())
	return sumLoss / n, float64(correct) / n, nil
}
