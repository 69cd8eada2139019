// Package train runs one training job: batches in a seeded order, fresh
// dropout masks every step, forward and backward through the graph, Caffe's
// SGD update, evaluation over the test set at a fixed interval, the run
// directory's metrics and summary, and checkpoints that a resumed run
// (checked against the run's identity, Mismatch) continues from with the
// same numbers.
package train

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/conv"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/diagnostics"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/threads"
)

// Version is the dropexp version recorded in every summary.
const Version = "0.1.0"

// KernelSet names the kernels that compute a run's numbers in this process:
// this build's on this CPU (kernels.Impl) and the BLAS core chosen at run
// time. Another set rounds differently.
func KernelSet(k experiment.Kernels) string {
	return kernels.Impl(conv.SetName(k)) + ", core " + kernels.BLASCore()
}

// ErrKernelChange reports a resume under another kernel set, dropexp or
// Go version than computed the run so far.
var ErrKernelChange = errors.New("the run was computed by other kernels")

// ErrDiverged reports a NaN or infinite training or test loss, or weights
// that are no longer finite.
var ErrDiverged = errors.New("training diverged")

// Progress receives per-step and per-evaluation reports.
type Progress interface {
	Step(iter int, loss float64)
	Eval(iter int, lr, trainLoss, testLoss, testAcc float64)
	Finish()
}

// Options configure one run.
type Options struct {
	Config config.Run     // validated
	Dir    string         // run directory (created)
	Data   *dataset.Split // nil: load Config.Dataset
	// DataFingerprint is dataset.Fingerprint(Data), for a caller that has
	// it already; "" computes it.
	DataFingerprint string
	Progress        Progress // nil: silent
	// Resume continues from Dir's checkpoint when there is one; it must be
	// a checkpoint of this run (identity, data) that passes its checks.
	// Without a checkpoint the run starts from scratch.
	Resume bool
	// Restart discards Dir's checkpoint and starts the run from scratch.
	// Without Resume or Restart, a Dir holding a checkpoint is an error.
	Restart bool
	// AllowKernelChange resumes from a checkpoint computed by another
	// kernel set, dropexp or Go version (ErrKernelChange without it),
	// recorded in the summary's kernel_changes.
	AllowKernelChange bool
	// Sweep is the run's grid point when a sweep trains it, recorded in summary.json.
	Sweep *results.SweepPoint
}

// CheckMemory refuses a run whose network would not fit in the memory the
// machine has now (the data already loaded), before anything is built or
// written.
func CheckMemory(cfg config.Run, data *dataset.Split) error {
	avail, from := dataset.AvailableMemory()
	// The estimate builds its graphs on one thread of its own.
	return fitMemory(graphOptions(cfg, threads.Executor{}, data.Train), avail, from)
}

// graphOptions are the options of a run's training graph, for images of
// the shape and classes of its training set s, on the threads ex.
func graphOptions(cfg config.Run, ex threads.Executor, s *dataset.Set) model.Options {
	return model.Options{Model: cfg.Model, Batch: cfg.Train.BatchSize, C: s.C, H: s.H, W: s.W,
		Classes: len(s.Classes), Variant: cfg.Variant(), Semantics: cfg.Semantics(), Sites: cfg.Dropout.Sites,
		Exec: ex, Train: true, Kernels: cfg.KernelSet()}
}

// fitMemory refuses a network whose graphs need more than the avail bytes
// the machine has (from says where that figure comes from; avail < 0: no
// limit known), before they are built.
func fitMemory(opt model.Options, avail int64, from string) error {
	if avail < 0 {
		return nil
	}
	need, err := model.EstimateBytes(opt)
	if err != nil {
		return err
	}
	if need > avail {
		return fmt.Errorf("model: %s at train.batch_size %d needs about %.1f GB for its activations and gradients, more than the %.1f GB available (%s); lower train.batch_size, free memory, or run where there is more",
			opt.Model, opt.Batch, float64(need)/1e9, float64(avail)/1e9, from)
	}
	return nil
}

// LoadData reads the configured data set and cuts its stratified subsets
// (dataset.train_limit, dataset.test_limit), silently.
func LoadData(cfg config.Run) (*dataset.Split, error) { return LoadDataLog(cfg, nil) }

// LoadDataLog is LoadData writing what it loads, how long it took, the
// class counts and any warnings to log (nil: silent). It decodes on the
// configured threads.
func LoadDataLog(cfg config.Run, log io.Writer) (*dataset.Split, error) {
	return dataset.LoadWith(cfg.Dataset.Name, cfg.Dataset.Path, dataset.Options{
		TrainLimit: cfg.Dataset.TrainLimit, TestLimit: cfg.Dataset.TestLimit, Log: log,
		Exec: threads.Resolve(cfg.Threads)})
}

// ErrConfigMismatch reports a resume against a run directory of another config.
var ErrConfigMismatch = errors.New("config differs from the run being resumed")

// ErrNoIdentity reports a run directory whose config.yaml records no
// identity, so nothing can tell which run it holds.
var ErrNoIdentity = errors.New("no identity recorded")

// ErrOccupied reports a run directory that holds another run, or a finished
// one: train.Run never writes over either.
var ErrOccupied = errors.New("run directory holds another run")

// ErrHasCheckpoint reports a start without Resume or Restart in a directory
// whose checkpoint would be overwritten.
var ErrHasCheckpoint = errors.New("run directory holds a checkpoint")

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

// runID is what names a run: its identity, the text and data fingerprint
// it hashes, and the resolved config.
type runID struct {
	identity, text, fingerprint string
	resolved                    []byte
}

// training counts the runs of this process that are in their training loop.
var training atomic.Int32

// Training reports whether some run of this process is in its training
// loop, where a stop request ends in a checkpoint. Before that (loading
// data) there is nothing to save, so a signal may end the process at once.
func Training() bool { return training.Load() > 0 }

// Run trains the configured network and writes config.yaml, metrics.csv,
// timing.csv, summary.json and checkpoints into opt.Dir. It returns the
// summary also when training diverges (with ErrDiverged) or the context is
// cancelled (after writing a checkpoint). It never writes into a directory
// that holds a finished run or a run of another identity (ErrOccupied).
func Run(ctx context.Context, opt Options) (results.Summary, error) {
	cfg := opt.Config
	ex := threads.Resolve(cfg.Threads)
	st := &loopState{start: time.Now()}
	sum := startSummary(cfg, ex, st.start)
	sum.Sweep = opt.Sweep
	resolved, err := cfg.YAML()
	if err != nil {
		return sum, err
	}
	data, fp, err := runData(opt)
	if err != nil {
		return sum, err
	}
	id := runID{identity: cfg.Identity(fp), text: cfg.IdentityText(), fingerprint: fp, resolved: resolved}
	sum.Identity, sum.DataFingerprint = id.identity, fp
	sum.TrainSize, sum.TestSize = data.Train.Len(), data.Test.Len()

	rec, err := results.ReadRecorded(opt.Dir)
	if err != nil {
		return sum, err
	}
	if rec.Identity != id.identity && rec.Holds(cfg.Identities(fp)...) {
		// A run recorded before its sites were spelled canonically goes
		// on under the identity it recorded, so that its files agree.
		id.identity, id.text = rec.Identity, cfg.IdentityTextOf(rec.Identity, fp)
		sum.Identity = id.identity
	}
	ckPath := filepath.Join(opt.Dir, CheckpointFile)
	if err := claim(opt, rec, fp, ckPath); err != nil {
		return sum, err
	}
	ck, err := resumePoint(opt, rec, data, id, &sum, ckPath)
	if err != nil {
		return sum, err
	}
	tr, err := newTrainer(cfg, ex, data, id)
	if err != nil {
		return sum, err
	}
	defer tr.close()
	if ck != nil {
		if err := tr.restore(ckPath, ck, st); err != nil {
			return sum, err
		}
	}
	if err := results.WriteConfig(filepath.Join(opt.Dir, results.ConfigFile), resolved, id.identity, fp); err != nil {
		return sum, err
	}
	s := &session{opt: opt, tr: tr, st: st, sum: sum, ckPath: ckPath}
	return s.train(ctx)
}

// startSummary is the summary of a run of cfg on the threads ex that
// started at start, before anything about its data or directory is known.
func startSummary(cfg config.Run, ex threads.Executor, start time.Time) results.Summary {
	sum := results.Summary{
		Status: results.StatusRunning, Seed: cfg.Seed, Model: cfg.Model, Variant: cfg.Dropout.Variant,
		Ratio: cfg.Ratio().String(), Semantics: cfg.Dropout.Gradient, Dataset: cfg.Dataset.Name,
		DatasetPath: cfg.Dataset.Path, Iterations: cfg.Train.Iterations, DropexpVersion: Version,
		GoVersion: runtime.Version(), Kernels: KernelSet(cfg.KernelSet()), Threads: ex.Threads(), Started: start.UTC(),
		FinalTestAcc: math.NaN(), FinalTestLoss: math.NaN(), FinalTrainLoss: math.NaN(),
	}
	if cfg.Variant() == experiment.Plain {
		sum.Ratio = ""
	}
	return sum
}

// runData is the run's data (opt.Data, or loaded) checked to fit its batch
// and crop, and their fingerprint.
func runData(opt Options) (*dataset.Split, string, error) {
	cfg := opt.Config
	data := opt.Data
	if data == nil {
		var err error
		if data, err = LoadData(cfg); err != nil {
			return nil, "", err
		}
	}
	if err := data.CheckFit(cfg.Train.BatchSize, cfg.Dataset.CropPad); err != nil {
		return nil, "", err
	}
	fp := opt.DataFingerprint
	if fp == "" {
		fp = dataset.Fingerprint(data)
	}
	return data, fp, nil
}

// claim decides whether the run of opt.Config on data of fingerprint fp
// may be written into opt.Dir, which holds rec: never over another run or
// a finished one, over a checkpoint only to resume it or (Restart, which
// removes it here) to start again. What a killed atomic write left behind
// is then removed.
func claim(opt Options, rec results.Recorded, fp, ckPath string) error {
	cfg := opt.Config
	switch {
	case !rec.Empty() && !rec.Holds(cfg.Identities(fp)...):
		err := Mismatch(rec, cfg, fp)
		if !opt.Resume {
			err = fmt.Errorf("%w; it is never overwritten: %w", ErrOccupied, err)
		}
		return err
	case rec.Damaged() != nil && (rec.Final() || !opt.Restart):
		// A finished run whose summary.json was lost is never trained
		// again, and a resume needs the summary's record of what computed
		// it; --restart of an unfinished one needs neither.
		return fmt.Errorf("%w: %w", ErrOccupied, rec.Damaged())
	case rec.Final():
		return fmt.Errorf("%w: %s holds a %s run; it is never written again (move it away to train it anew)", ErrOccupied, opt.Dir, rec.Summary.Status)
	case rec.Checkpoint && opt.Restart:
		if err := os.Remove(ckPath); err != nil {
			return fmt.Errorf("--restart: %w", err)
		}
	case rec.Checkpoint && !opt.Resume:
		return fmt.Errorf("%w: %s holds the checkpoint of an interrupted run; resume it (dropexp train --resume %s) or discard it (add --restart)", ErrHasCheckpoint, opt.Dir, opt.Dir)
	}
	// Only the holder of the run (its lock, or the only process) gets here:
	// what a killed atomic write left behind is nobody's.
	_, err := results.RemoveTemps(opt.Dir)
	return err
}

// resumePoint is the checkpoint at ckPath that a resume continues from,
// once it has passed its checks against the run (id, data), its metrics
// and the machine (which sum records); nil when the run starts from
// scratch.
func resumePoint(opt Options, rec results.Recorded, data *dataset.Split, id runID, sum *results.Summary, ckPath string) (*checkpoint, error) {
	if !opt.Resume || opt.Restart {
		return nil, nil
	}
	ck, err := loadCheckpoint(ckPath)
	if err != nil || ck == nil {
		return nil, err
	}
	if err := check(ckPath, ck, opt.Config, data, id); err != nil {
		return nil, err
	}
	if err := checkMetrics(filepath.Join(opt.Dir, results.MetricsFile), ckPath, ck); err != nil {
		return nil, err
	}
	if err := checkMachine(opt, rec.Summary, sum, ck.Iteration); err != nil {
		return nil, err
	}
	return ck, nil
}

// session is a run in its training loop: the trainer, the loop's
// bookkeeping and the summary that its files are written from.
type session struct {
	opt    Options
	tr     *trainer
	st     *loopState
	sum    results.Summary
	ckPath string
}

// train runs the training loop to the last iteration, evaluating,
// writing the results and checkpointing as configured; a cancelled ctx
// ends it in a checkpoint.
func (s *session) train(ctx context.Context) (results.Summary, error) {
	cfg, tr, st := s.opt.Config, s.tr, s.st
	if err := s.write(results.StatusRunning); err != nil {
		return s.sum, err
	}
	training.Add(1)
	defer training.Add(-1)
	prog := s.opt.Progress
	every := cfg.Train.CheckpointEvery
	for tr.iter < cfg.Train.Iterations {
		if err := ctx.Err(); err != nil {
			return s.interrupt()
		}
		t0 := time.Now()
		loss, err := tr.step()
		st.trainTime += time.Since(t0)
		if err != nil {
			return s.sum, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return s.diverged(tr.iter, fmt.Sprintf("training loss is %v", loss))
		}
		st.lossSum += loss
		st.lossN++
		if prog != nil {
			prog.Step(tr.iter, loss)
		}
		evalNow := tr.iter%cfg.Train.EvalEvery == 0 || tr.iter == cfg.Train.Iterations
		if evalNow {
			if stop, err := s.evaluate(); stop {
				return s.sum, err
			}
		}
		if every > 0 && tr.iter%every == 0 && tr.iter < cfg.Train.Iterations {
			if err := s.checkpoint(s.ckPath); err != nil {
				return s.failed(err)
			}
		}
	}
	if prog != nil {
		prog.Finish()
	}
	// The final state (weights, BatchNorm statistics, …) stays with the run.
	if err := s.checkpoint(filepath.Join(s.opt.Dir, ModelFile)); err != nil {
		return s.failed(err)
	}
	if err := s.write(results.StatusFinished); err != nil {
		return s.sum, err
	}
	// A finished run needs no checkpoint; its results are complete.
	os.Remove(s.ckPath)
	return s.sum, nil
}

// evaluate runs the test set at the current iteration, records the
// metrics row and writes the results; stop says that the run ends here
// (with err, or as diverged).
func (s *session) evaluate() (stop bool, err error) {
	cfg, tr, st := s.opt.Config, s.tr, s.st
	testLoss, testAcc, err := evaluate(tr)
	if err != nil {
		return true, err
	}
	if math.IsNaN(testLoss) || math.IsInf(testLoss, 0) {
		_, err := s.diverged(tr.iter, fmt.Sprintf("test loss is %v", testLoss))
		return true, err
	}
	row := results.Metric{Iteration: tr.iter, LR: cfg.LRAt(tr.iter), TrainLoss: st.lossSum / float64(st.lossN),
		TestLoss: testLoss, TestAcc: testAcc}
	st.rows = append(st.rows, row)
	st.timing = append(st.timing, results.Timing{Iteration: tr.iter, Seconds: st.wall(),
		ImagesPerSecond: float64(tr.iter*cfg.Train.BatchSize) / st.trainTime.Seconds()})
	st.lossSum, st.lossN = 0, 0
	if err := s.write(results.StatusRunning); err != nil {
		return true, err
	}
	if prog := s.opt.Progress; prog != nil {
		prog.Eval(row.Iteration, row.LR, row.TrainLoss, row.TestLoss, row.TestAcc)
	}
	return false, nil
}

// interrupt ends a cancelled run in a checkpoint and an interrupted summary.
func (s *session) interrupt() (results.Summary, error) {
	if err := s.checkpoint(s.ckPath); err != nil {
		return s.failed(err)
	}
	if err := s.write(results.StatusInterrupted); err != nil {
		return s.sum, err
	}
	return s.sum, fmt.Errorf("interrupted at iteration %d; checkpoint saved, continue with: dropexp train --resume %s", s.tr.iter, s.opt.Dir)
}

// failed ends the run on a checkpoint's error: as diverged when the state
// was no longer finite.
func (s *session) failed(err error) (results.Summary, error) {
	if d, ok := err.(errDivergedNow); ok {
		return s.diverged(s.tr.iter, d.what)
	}
	return s.sum, err
}

// write writes the results so far (metrics, timing, diagnostics, the
// summary with status).
func (s *session) write(status string) error {
	cfg, tr, st, sum, dir := s.opt.Config, s.tr, s.st, &s.sum, s.opt.Dir
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
	if err := results.WriteMetrics(filepath.Join(dir, results.MetricsFile), st.rows); err != nil {
		return err
	}
	if err := results.WriteTiming(filepath.Join(dir, results.TimingFile), st.timing); err != nil {
		return err
	}
	if err := tr.diag.Write(dir); err != nil { // nil unless diagnostics.every > 0
		return err
	}
	sum.DiagnosticsSeconds = tr.diag.Seconds()
	return results.WriteSummary(filepath.Join(dir, results.SummaryFile), *sum)
}

// diverged ends the run: the loss or the weights of iteration iter are
// not finite. The last checkpoint was written from finite weights and
// stays.
func (s *session) diverged(iter int, what string) (results.Summary, error) {
	s.sum.DivergedAt, s.sum.DivergedReason = iter, what
	if werr := s.write(results.StatusDiverged); werr != nil {
		return s.sum, werr
	}
	kept := "no checkpoint was written before"
	if _, err := os.Stat(s.ckPath); err == nil {
		kept = "the last good checkpoint is kept in " + s.ckPath
	}
	return s.sum, fmt.Errorf("%w: %s at iteration %d (lower train.lr or check the data); %s", ErrDiverged, what, iter, kept)
}

// checkpoint saves the state; weights that are no longer finite end
// the run as diverged instead (errDivergedNow).
func (s *session) checkpoint(path string) error {
	err := s.tr.save(path, s.st)
	if errors.Is(err, ErrDiverged) {
		return errDivergedNow{strings.TrimPrefix(err.Error(), ErrDiverged.Error()+": ")}
	}
	return err
}

// MismatchError says how a run directory or checkpoint differs from the run
// of a config, for callers that report the difference their own way
// (errors.As); it unwraps to ErrConfigMismatch, ErrDataChanged or
// ErrNoIdentity.
type MismatchError struct {
	// Diff lists the identity lines only in the recorded run ("- ") and
	// only in the config now ("+ "); empty when the configs cannot be
	// compared line by line or do not differ.
	Diff []string
	// DataChanged: the config is the same, the data are not.
	DataChanged bool
	err         error // the whole message, wrapping the sentinel
}

func (e *MismatchError) Error() string { return e.err.Error() }

func (e *MismatchError) Unwrap() error { return e.err }

// mismatch is a MismatchError of message format (whose first verb wraps the
// sentinel) with diff.
func mismatch(diff []string, format string, args ...any) *MismatchError {
	err := fmt.Errorf(format, args...)
	return &MismatchError{Diff: diff, DataChanged: errors.Is(err, ErrDataChanged), err: err}
}

// Mismatch explains why the run directory rec does not hold the run of cfg
// on data of fingerprint fp, as a *MismatchError: ErrDataChanged when only
// the data differ, else ErrConfigMismatch with the config lines that
// differ; nil if it holds that run.
func Mismatch(rec results.Recorded, cfg config.Run, fp string) error {
	if rec.Holds(cfg.Identities(fp)...) {
		return nil
	}
	file := filepath.Join(rec.Dir, results.ConfigFile)
	if rec.Config == nil {
		return mismatch(nil, "%w: %s has no %s to compare with", ErrConfigMismatch, rec.Dir, results.ConfigFile)
	}
	saved, err := config.Decode(rec.Config)
	if err != nil {
		return mismatch(nil, "%w: %s does not read as a run config of this dropexp (%v)", ErrConfigMismatch, file, err)
	}
	if saved.IdentityText() != cfg.IdentityText() {
		a, _ := saved.IdentityYAML()
		b, _ := cfg.IdentityYAML()
		diff := DiffLines(string(a), string(b))
		return mismatch(diff, "%w: %s holds a run of another config. Differences (- run, + now):\n%s", ErrConfigMismatch, rec.Dir, strings.Join(diff, "\n"))
	}
	if rec.Identity == "" {
		return mismatch(nil, "%w in %s (a run of a dropexp before run identities, or written by hand), which is neither resumed nor overwritten; to train its config again: dropexp train --config %s (the new run gets a directory of its own)", ErrNoIdentity, file, file)
	}
	if !slices.Contains(saved.Identities(rec.DataFingerprint), rec.Identity) {
		return mismatch(nil, "%w: %s was edited after the run wrote it (its identity no longer matches its content)", ErrConfigMismatch, file)
	}
	size := ""
	if s := rec.Summary; s != nil {
		size = fmt.Sprintf("%d training and %d test images, ", s.TrainSize, s.TestSize)
	}
	return mismatch(nil, "%w: %s was trained on %sfingerprint %s; the data now loaded have fingerprint %s (the files at dataset.path changed, or dataset.path, the limits or the subset now select other images; point dataset.path at the original data)",
		ErrDataChanged, rec.Dir, size, short(rec.DataFingerprint), short(fp))
}

// checkMachine refuses to resume at iteration iter a run whose summary
// prev records another kernel set, dropexp or Go version than this
// process's sum, unless opt.AllowKernelChange, which sum then records.
func checkMachine(opt Options, prev *results.Summary, sum *results.Summary, iter int) error {
	if prev == nil {
		// Damaged() refuses a checkpoint without a summary before this.
		return fmt.Errorf("%w: %s has no %s", ErrKernelChange, opt.Dir, results.SummaryFile)
	}
	sum.KernelChanges = prev.KernelChanges
	was, now := machine(*prev), machine(*sum)
	if was == now {
		return nil
	}
	if opt.AllowKernelChange {
		sum.KernelChanges = append(slices.Clone(prev.KernelChanges), fmt.Sprintf("at iteration %d from %s to %s", iter, was, now))
		return nil
	}
	return fmt.Errorf("%w: %s was computed up to iteration %d by %s; this process is %s, whose numbers differ in the last bits, so the run would match neither. "+
		"Resume it where it was computed (the same build and config key kernels, and OPENBLAS_CORETYPE for another BLAS core), "+
		"or train it again from the start: dropexp train --resume %s --restart; "+
		"or continue anyway with --allow-kernel-change (dropexp train --resume %s --allow-kernel-change, or sweep --allow-kernel-change), which summary.json records",
		ErrKernelChange, opt.Dir, iter, was, now, opt.Dir, opt.Dir)
}

// machine names what besides the config and data decides a run's bits.
func machine(s results.Summary) string {
	or := func(v string) string { return cmp.Or(v, "not recorded") }
	return fmt.Sprintf("dropexp %s (%s, kernels %s)", or(s.DropexpVersion), or(s.GoVersion), or(s.Kernels))
}

// evaluate is the trainer's evaluation; a test replaces it to see a run
// through a test loss that is not finite.
var evaluate = (*trainer).evaluate

// errDivergedNow is a checkpoint refused because the state is not finite.
type errDivergedNow struct{ what string }

func (e errDivergedNow) Error() string { return e.what }

// DiffLines lists the lines only in a (prefixed "- ") and only in b ("+ ").
func DiffLines(a, b string) []string {
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
	return out
}

// trainer holds the graphs, solver and random sources of one run.
type trainer struct {
	cfg       config.Run
	exec      threads.Executor
	id        runID
	data      *dataset.Split
	net, eval *model.Net
	solver    *Solver
	sampler   *dropout.Sampler
	order     *dataset.Order
	prep      *preprocessor
	aug       *augmenter
	iter      int
	idx       []int
	diag      *diagnostics.Diagnoser // nil: diagnostics off
}

// newTrainer builds a run's graphs, solver and random sources on the
// threads ex; tweaks change the graph options first (Stepper forces the
// im2col path with one).
func newTrainer(cfg config.Run, ex threads.Executor, data *dataset.Split, id runID, tweaks ...func(*model.Options)) (*trainer, error) {
	tr := &trainer{cfg: cfg, exec: ex, data: data, id: id}
	s := data.Train
	opt := graphOptions(cfg, ex, data.Train)
	for _, tweak := range tweaks {
		tweak(&opt)
	}
	avail, from := dataset.AvailableMemory()
	if err := fitMemory(opt, avail, from); err != nil {
		return nil, err
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
	tr.sampler.Threads = ex.Threads()
	tr.order = dataset.NewOrder(s.Len(), seed^0x5eed)
	tr.prep = newPreprocessor(cfg.Dataset.Preprocess, s)
	tr.aug = newAugmenter(cfg.Dataset.CropPad, cfg.Dataset.Flip, seed)
	tr.idx = make([]int, cfg.Train.BatchSize)
	tr.diag = diagnostics.ForRun(cfg, tr.net, ex)
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
	// Diagnostics run their extra passes before the step's own and record after it.
	if err := tr.diag.Before(tr.iter); err != nil {
		return 0, fmt.Errorf("iteration %d: diagnostics: %w", tr.iter, err)
	}
	if err := tr.net.Run(); err != nil {
		return 0, fmt.Errorf("iteration %d: %w", tr.iter, err)
	}
	if err := tr.diag.After(tr.iter); err != nil {
		return 0, fmt.Errorf("iteration %d: %w", tr.iter, err)
	}
	loss := tr.net.LossValue()
	tr.solver.Step(tr.cfg.LRAt(tr.iter))
	return loss, nil
}

// evaluate runs the whole test set without dropout and returns its mean loss and accuracy.
func (tr *trainer) evaluate() (loss, acc float64, err error) {
	sumLoss, correct, err := evalSet(tr.eval, tr.prep, tr.data.Test, tr.cfg.Train.BatchSize, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("evaluation at iteration %d: %w", tr.iter, err)
	}
	n := float64(tr.data.Test.Len())
	return sumLoss / n, float64(correct) / n, nil
}
