package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/progress"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/train"
)

// The one way a run is driven into a directory, shared by train and sweep:
// the run's identity picks its directory (results.Place), what is there
// decides what to do (Plan), and errors carry the command that goes on.

// Action is what driving a run into its directory does.
type Action int

// The actions of a Plan.
const (
	Fresh    Action = iota // no run there yet: train from scratch
	Continue               // an unfinished run of this identity: resume it (from its checkpoint, if any)
	Done                   // a finished or diverged run of this identity: nothing to train
)

// Plan is where a run goes and what happens there.
type Plan struct {
	Dir      string
	Action   Action
	Recorded results.Recorded // what Dir holds now
	// Taken, when set, says that the run's plain name holds a run of
	// another config (and how it differs), which is why Dir carries an
	// identity suffix.
	Taken string
}

// PlanRun places the run of cfg on data of fingerprint fp, whose plain
// directory name is name, under root.
func PlanRun(root, name string, cfg config.Run, fp string) (Plan, error) {
	ids := cfg.Identities(fp)
	p, err := results.Place(root, name, ids[0], ids[1:]...)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Dir: p.Dir, Recorded: p.Recorded, Action: actionOf(p.Recorded)}
	if p.Taken != nil {
		plan.Taken = p.Taken.Dir + " holds " + difference(train.Mismatch(*p.Taken, cfg, fp)) + ", left as it is"
	}
	return plan, nil
}

func actionOf(rec results.Recorded) Action {
	switch {
	case rec.Final():
		return Done
	case rec.Empty():
		return Fresh
	}
	return Continue
}

// difference says in one line what another run is, from the Mismatch
// error that compares it with this one.
func difference(err error) string {
	switch {
	case errors.Is(err, train.ErrDataChanged):
		return "a run of this config on other data"
	case errors.Is(err, train.ErrNoIdentity):
		return "a run that records no identity (written before run identities)"
	}
	if m := (*train.MismatchError)(nil); errors.As(err, &m) && len(m.Diff) > 0 {
		var lines []string
		for _, l := range m.Diff {
			if f := strings.Fields(l); len(f) > 0 {
				lines = append(lines, strings.Join(f, " "))
			}
		}
		return "a run of another config (" + strings.Join(lines, ", ") + ")"
	}
	msg := err.Error()
	if _, why, ok := strings.Cut(msg, ": "); ok {
		msg = why
	}
	return "another run (" + msg + ")"
}

// Start says what training cfg on data (a data set's name or a sweep's
// label for it) into the plan's directory does, for the line that starts
// the run, e.g. "convnet-quick standard dropout 0.3 (layer gradient) on
// cifar10, resuming the interrupted run from its checkpoint in DIR".
func (p Plan) Start(cfg config.Run, data string, restart bool) string {
	how := "writing"
	switch {
	case p.Action == Continue && restart:
		how = "starting again from iteration 0 (--restart discards its checkpoint) in"
	case p.Action == Continue && p.Recorded.Checkpoint:
		how = "resuming the interrupted run from its checkpoint in"
	case p.Action == Continue:
		how = "starting again (it stopped before its first checkpoint) in"
	}
	return fmt.Sprintf("%s on %s, %s %s", Describe(cfg), data, how, p.Dir)
}

// Result gives a run's final numbers as train and sweep print them:
// "test_acc 0.7131  test_loss 0.8412  train_loss 0.9640".
func Result(s results.Summary) string {
	return fmt.Sprintf("test_acc %s  test_loss %s  train_loss %s", acc(s.FinalTestAcc), fmtLoss(s.FinalTestLoss), fmtLoss(s.FinalTrainLoss))
}

// TrainFunc trains one run into opt.Dir, as train.Run does.
type TrainFunc func(ctx context.Context, opt train.Options) (results.Summary, error)

// Train trains cfg into plan.Dir as the plan says (the directory is made if
// need be), reporting progress to w under the directory's name and in its
// progress.json (for dropexp status); the caller holds the run's lock.
// run nil means train.Run. It is the one way train and sweep start a run.
func Train(ctx context.Context, run TrainFunc, cfg config.Run, plan Plan, data *dataset.Split, fp string, mode Mode, w io.Writer) (results.Summary, error) {
	dir := plan.Dir
	if _, err := results.NewRunDir(filepath.Dir(dir), filepath.Base(dir)); err != nil {
		return results.Summary{}, err
	}
	if run == nil {
		run = train.Run
	}
	prog := progress.New(w, cfg.Train.Iterations, cfg.Train.BatchSize, filepath.Base(dir))
	prog.Record(dir)
	defer prog.Finish()
	return run(ctx, train.Options{Config: cfg, Dir: dir, Data: data, DataFingerprint: fp, Progress: prog,
		Resume: plan.Action == Continue, Restart: mode.Restart, AllowKernelChange: mode.AllowKernelChange})
}

// Describe says in a few words which network and dropout cfg trains.
func Describe(cfg config.Run) string {
	if cfg.Dropout.Variant == string(experiment.Plain) {
		return cfg.Model + " plain"
	}
	ratio := cfg.Dropout.Ratio
	if p, err := experiment.ParseRatio(experiment.Variant(cfg.Dropout.Variant), ratio); err == nil {
		ratio = p.String()
	}
	return fmt.Sprintf("%s %s dropout %s (%s gradient)", cfg.Model, cfg.Dropout.Variant, ratio, cfg.Dropout.Gradient)
}

// Explain adds to an error of training the run in dir the command that
// goes on from it.
func Explain(err error, dir string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		// The files written before are whole (atomic writes), and so is the
		// last checkpoint: the run can go on once there is room.
		return fmt.Errorf("%w; free some space, then continue with: dropexp train --resume %s", err, dir)
	case errors.Is(err, train.ErrCheckpoint):
		return fmt.Errorf("%w. To train the run again from its start, discarding the checkpoint: dropexp train --resume %s --restart", err, dir)
	case errors.Is(err, train.ErrDataChanged):
		return fmt.Errorf("%w. To train this config on the data as they are now, run it without --resume (dropexp train --config %s): it gets a run directory of its own beside this one",
			err, filepath.Join(dir, results.ConfigFile))
	}
	return err
}

// lockRun takes the lock of the run whose plain name is name under root
// (a sweep's per-run lock when root is a sweep's runs directory); nil
// without an error means another process holds it.
func lockRun(root, name string) (*results.Lock, string, error) {
	path, err := results.LockFile(root, name)
	if err != nil {
		return nil, "", err
	}
	l, ok, err := results.TryLock(path)
	if err != nil || !ok {
		return nil, path, err
	}
	return l, path, nil
}
