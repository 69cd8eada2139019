// Package train runs one training job: batches in a seeded order, fresh
// dropout masks every step, forward and backward through the graph, Caffe's
// SGD update, evaluation over the whole test set at a fixed interval, and the
// run directory's metrics and summary.
package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/results"
)

// Version is the dropexp version recorded in every summary.
const Version = "0.1.0"

// ErrDiverged reports a NaN or infinite training loss.
var ErrDiverged = errors.New("training diverged")

// Progress receives per-step and per-evaluation reports.
type Progress interface {
	Step(iter int, loss float64)
	Eval(iter int, lr, trainLoss, testLoss, testAcc float64)
	Finish()
}

// Options configure one run.
type Options struct {
	Config   config.Run     // validated
	Dir      string         // run directory (created)
	Data     *dataset.Split // nil: load Config.Dataset
	Progress Progress       // nil: silent
	// Resume continues from Dir's checkpoint when there is one; its config
	// must equal Config. Without a checkpoint the run starts from scratch.
	Resume bool
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
	sp, err := dataset.Load(cfg.Dataset.Name, cfg.Dataset.Path)
	if err != nil {
		return nil, err
	}
	return &dataset.Split{Train: sp.Train.Subset(cfg.Dataset.TrainLimit), Test: sp.Test.Subset(cfg.Dataset.TestLimit)}, nil
}

// ErrConfigMismatch reports a resume against a run directory of another config.
var ErrConfigMismatch = errors.New("config differs from the run being resumed")

// loopState is the bookkeeping of the training loop that a checkpoint carries.
type loopState struct {
	rows       []results.Metric
	timing     []results.Timing
	lossSum    float64
	lossN      int
	trainTime  time.Duration
	wallBefore time.Duration // wall time of earlier sessions of this run
	start      time.Time
}

func (st *loopState) wall() float64 { return (st.wallBefore + time.Since(st.start)).Seconds() }

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Run trains the configured network and writes config.yaml, metrics.csv,
// timing.csv, summary.json and checkpoints into opt.Dir. It returns the
// summary also when training diverges (with ErrDiverged) or the context is
// cancelled (after writing a checkpoint).
func Run(ctx context.Context, opt Options) (results.Summary, error) {
	cfg := opt.Config
	st := &loopState{start: time.Now()}
	sum := results.Summary{
		Status: results.StatusRunning, Seed: cfg.Seed, Model: cfg.Model, Variant: cfg.Dropout.Variant,
		Ratio: cfg.Ratio().String(), Semantics: cfg.Dropout.Gradient, Dataset: cfg.Dataset.Name,
		DatasetPath: cfg.Dataset.Path, Iterations: cfg.Train.Iterations, DropexpVersion: Version,
		GoVersion: runtime.Version(), Threads: Threads(cfg), Started: st.start.UTC(),
	}
	if cfg.Variant() == dropout.Plain {
		sum.Ratio = ""
	}
	resolved, err := cfg.YAML()
	if err != nil {
		return sum, err
	}
	ckPath := filepath.Join(opt.Dir, CheckpointFile)
	var ck *checkpoint
	if opt.Resume {
		if ck, err = loadCheckpoint(ckPath); err != nil {
			return sum, err
		}
		if ck != nil && !bytes.Equal(ck.Config, resolved) {
			return sum, fmt.Errorf("%w: %s was trained with a different config; refusing to resume. Differences (- run, + now):\n%s\nResume with the run's own config (dropexp train --resume %s, without --config or --set), or start a new run elsewhere.",
				ErrConfigMismatch, opt.Dir, DiffLines(string(ck.Config), string(resolved)), opt.Dir)
		}
	}
	if err := results.WriteFileAtomic(filepath.Join(opt.Dir, results.ConfigFile), resolved); err != nil {
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
	if ck != nil {
		if err := tr.restore(ckPath, ck, st); err != nil {
			return sum, err
		}
	}

	write := func(status string) error {
		sum.Status = status
		sum.WallSeconds = st.wall()
		if st.trainTime > 0 {
			sum.ImagesPerSecond = float64(tr.iter*cfg.Train.BatchSize) / st.trainTime.Seconds()
		}
		if status != results.StatusRunning {
			sum.Finished = time.Now().UTC()
		}
		if n := len(st.rows); n > 0 {
			last := st.rows[n-1]
			sum.FinalTestAcc, sum.FinalTestLoss, sum.FinalTrainLoss = last.TestAcc, last.TestLoss, last.TrainLoss
		}
		if err := results.WriteMetrics(filepath.Join(opt.Dir, results.MetricsFile), st.rows); err != nil {
			return err
		}
		if err := results.WriteTiming(filepath.Join(opt.Dir, results.TimingFile), st.timing); err != nil {
			return err
		}
		return results.WriteSummary(filepath.Join(opt.Dir, results.SummaryFile), sum)
	}
	checkpoint := func() error { return tr.save(ckPath, resolved, st) }
	if err := write(results.StatusRunning); err != nil {
		return sum, err
	}
	prog := opt.Progress
	every := cfg.Train.CheckpointEvery
	for tr.iter < cfg.Train.Iterations {
		if err := ctx.Err(); err != nil {
			if werr := checkpoint(); werr != nil {
				return sum, werr
			}
			if werr := write(results.StatusInterrupted); werr != nil {
				return sum, werr
			}
			return sum, fmt.Errorf("interrupted at iteration %d; checkpoint saved, continue with: dropexp train --resume %s", tr.iter, opt.Dir)
		}
		t0 := time.Now()
		loss, err := tr.step()
		st.trainTime += time.Since(t0)
		if err != nil {
			return sum, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			// The last good checkpoint stays as it is.
			sum.DivergedAt = tr.iter
			if werr := write(results.StatusDiverged); werr != nil {
				return sum, werr
			}
			return sum, fmt.Errorf("%w: loss is %v at iteration %d (lower train.lr or check the data); last good checkpoint kept in %s", ErrDiverged, loss, tr.iter, ckPath)
		}
		st.lossSum += loss
		st.lossN++
		if prog != nil {
			prog.Step(tr.iter, loss)
		}
		evalNow := tr.iter%cfg.Train.EvalEvery == 0 || tr.iter == cfg.Train.Iterations
		if evalNow {
			testLoss, testAcc, err := tr.evaluate()
			if err != nil {
				return sum, err
			}
			row := results.Metric{Iteration: tr.iter, LR: cfg.LRAt(tr.iter), TrainLoss: st.lossSum / float64(st.lossN),
				TestLoss: testLoss, TestAcc: testAcc}
			st.rows = append(st.rows, row)
			st.timing = append(st.timing, results.Timing{Iteration: tr.iter, Seconds: st.wall(),
				ImagesPerSecond: float64(tr.iter*cfg.Train.BatchSize) / st.trainTime.Seconds()})
			st.lossSum, st.lossN = 0, 0
			if err := write(results.StatusRunning); err != nil {
				return sum, err
			}
			if prog != nil {
				prog.Eval(row.Iteration, row.LR, row.TrainLoss, row.TestLoss, row.TestAcc)
			}
		}
		if every > 0 && tr.iter%every == 0 && tr.iter < cfg.Train.Iterations {
			if err := checkpoint(); err != nil {
				return sum, err
			}
		}
	}
	if prog != nil {
		prog.Finish()
	}
	// The final state (weights, BatchNorm statistics, …) stays with the run.
	if err := tr.save(filepath.Join(opt.Dir, ModelFile), resolved, st); err != nil {
		return sum, err
	}
	if err := write(results.StatusFinished); err != nil {
		return sum, err
	}
	// A finished run needs no checkpoint; its results are complete.
	os.Remove(ckPath)
	return sum, nil
}

// DiffLines lists the lines only in a (prefixed "- ") and only in b ("+ ").
func DiffLines(a, b string) string {
	in := func(lines []string) map[string]bool {
		m := map[string]bool{}
		for _, l := range lines {
			m[l] = true
		}
		return m
	}
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	ma, mb := in(la), in(lb)
	var out []string
	for _, l := range la {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range lb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
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
	aug       *augmenter
	iter      int
	idx       []int
}

// newTrainer builds a run's graphs, solver and random sources; tweaks
// change the graph options first (Stepper forces the im2col path with one).
func newTrainer(cfg config.Run, data *dataset.Split, tweaks ...func(*model.Options)) (*trainer, error) {
	tr := &trainer{cfg: cfg, data: data}
	s := data.Train
	opt := model.Options{Model: cfg.Model, Batch: cfg.Train.BatchSize, C: s.C, H: s.H, W: s.W,
		Classes: len(s.Classes), Variant: cfg.Variant(), Semantics: cfg.Semantics(), Sites: cfg.Dropout.Sites,
		Threads: Threads(cfg), Train: true}
	for _, tweak := range tweaks {
		tweak(&opt)
	}
	var err error
	if tr.net, err = model.Build(opt, nil); err != nil {
		return nil, err
	}
	// Parameters, data order and masks each draw from their own stream of
	// the run's seed, so changing one never shifts another.
	seed := uint64(cfg.Seed)
	model.Init(tr.net.Params, rand.New(rand.NewPCG(seed, 1)))
	opt.Train = false
	if tr.eval, err = model.Build(opt, tr.net); err != nil {
		return nil, err
	}
	tr.solver = NewSolver(tr.net.Params, cfg.Train.Momentum, cfg.Train.WeightDecay, cfg.Train.BiasLRMult)
	tr.sampler = dropout.NewSampler(cfg.Variant(), cfg.Ratio(), seed^0xd0d0)
	tr.sampler.Threads = Threads(cfg)
	tr.order = dataset.NewOrder(s.Len(), seed^0x5eed)
	tr.prep = newPreprocessor(cfg.Dataset.Preprocess, s)
	tr.aug = newAugmenter(cfg.Dataset.CropPad, cfg.Dataset.Flip, seed)
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
	tr.prep.fill(x, y, tr.data.Train, tr.idx, tr.aug)
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
		tr.prep.fill(x, y, test, idx, nil)
		if err := tr.eval.Run(); err != nil {
			return 0, 0, fmt.Errorf("evaluation at iteration %d: %w", tr.iter, err)
		}
		sumLoss += tr.eval.Loss.Sum()
		correct += tr.eval.Loss.Correct()
	}
	n := float64(test.Len())
	return sumLoss / n, float64(correct) / n, nil
}
