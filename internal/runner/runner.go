// Package runner turns a resolved config into finished run directories: it
// names the run (Name), places it by its identity (PlanRun: a finished run
// is not trained again, an interrupted one resumes, another config never
// lands in its directory), says what it trains and does (Describe,
// Plan.Start), wires progress output to the terminal or a log and trains
// (Train), and prints the outcome (Result). `dropexp train` (TrainCommand:
// One, Resume) and package sweep go through these same functions, so a run
// is named, placed, checked and started one way. The demo (four variants on
// the embedded MNIST config) and `dropexp repair` (RepairCommand) live here
// too.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/threads"
	"github.com/dropexp/dropexp/internal/train"
)

// Mode says how a run already under way is continued.
type Mode struct {
	// Restart trains an unfinished run again from iteration 0, discarding its checkpoint.
	Restart bool
	// AllowKernelChange resumes a run under another kernel set, dropexp or
	// Go version than computed its first part, recorded in its summary.
	AllowKernelChange bool
}

// One trains cfg into its run directory under cfg.Out and prints where it
// went. A finished run of the same identity is reported and not trained
// again; an interrupted one is resumed (mode.Restart: started again, its
// checkpoint discarded). A directory holding a run of another config is
// never written to: the run gets a directory with an identity suffix.
func One(ctx context.Context, cfg config.Run, mode Mode, stdout, stderr io.Writer) (results.Summary, error) {
	return one(ctx, cfg, nil, "", mode, stdout, stderr)
}

// Name returns the plain run directory name of cfg.
func Name(cfg config.Run) string {
	ratio := cfg.Ratio().String()
	if cfg.Variant() == experiment.Plain {
		ratio = ""
	}
	return results.RunName(cfg.Dropout.Variant, ratio, cfg.Dropout.Gradient, cfg.Seed)
}

// one is One on data already loaded (nil: load them) with fingerprint fp ("": compute it).
func one(ctx context.Context, cfg config.Run, data *dataset.Split, fp string, mode Mode, stdout, stderr io.Writer) (results.Summary, error) {
	if note := threads.Note(cfg.Threads); note != "" {
		fmt.Fprintln(stderr, note)
	}
	// Sites and data first: a wrong site or dataset.path then leaves no run directory behind.
	if err := model.CheckSites(cfg.Model, cfg.Dropout.Sites); err != nil {
		return results.Summary{}, err
	}
	if data == nil {
		var err error
		if data, err = LoadData(cfg, stderr); err != nil {
			return results.Summary{}, err
		}
	}
	if err := data.CheckFit(cfg.Train.BatchSize, cfg.Dataset.CropPad); err != nil {
		return results.Summary{}, err
	}
	if err := train.CheckMemory(cfg, data); err != nil {
		return results.Summary{}, err
	}
	if fp == "" {
		fp = dataset.Fingerprint(data)
	}
	name := Name(cfg)
	plan, err := PlanRun(cfg.Out, name, cfg, fp)
	if err != nil {
		return results.Summary{}, fmt.Errorf("out %s: %w (give a writable results root with --out DIR or --set out=DIR)", cfg.Out, err)
	}
	if plan.Action == Done {
		return finished(plan.Recorded, mode.Restart, stdout)
	}
	if err := plan.Recorded.Damaged(); err != nil {
		return results.Summary{}, err
	}
	if _, err := results.NewRunDir(filepath.Dir(plan.Dir), filepath.Base(plan.Dir)); err != nil {
		return results.Summary{}, fmt.Errorf("out %s: %w (give a writable results root with --out DIR or --set out=DIR)", cfg.Out, err)
	}
	lock, lockFile, err := lockRun(cfg.Out, name)
	if err != nil {
		return results.Summary{}, err
	}
	if lock == nil {
		return results.Summary{}, fmt.Errorf("%s is being trained by another process (it holds %s); nothing done", plan.Dir, lockFile)
	}
	defer lock.Unlock()
	// Placed again under the lock: another process may have taken the name meanwhile.
	if plan, err = PlanRun(cfg.Out, name, cfg, fp); err != nil {
		return results.Summary{}, err
	}
	if plan.Action == Done {
		return finished(plan.Recorded, mode.Restart, stdout)
	}
	if plan.Taken != "" {
		fmt.Fprintf(stderr, "run %s: %s; this run goes to %s\n", name, plan.Taken, plan.Dir)
	}
	return inDir(ctx, cfg, plan, data, fp, mode, stdout, stderr)
}

// finished reports a run that is over and returns its summary; --restart
// cannot undo it.
func finished(rec results.Recorded, restart bool, stdout io.Writer) (results.Summary, error) {
	if err := rec.Damaged(); err != nil {
		return results.Summary{}, err
	}
	s := *rec.Summary
	if restart {
		return s, fmt.Errorf("--restart: %s holds a %s run of this config, which is never overwritten (--restart discards the checkpoint of an unfinished run); move the directory away to train it again", rec.Dir, s.Status)
	}
	if s.Status == results.StatusDiverged {
		fmt.Fprintf(stdout, "already diverged: %s (at iteration %d: %s); nothing to do\n", rec.Dir, s.DivergedAt, s.DivergedReason)
		return s, nil
	}
	fmt.Fprintf(stdout, "already finished: %s (test_acc %s); nothing to do\n", rec.Dir, acc(s.FinalTestAcc))
	return s, nil
}

// acc formats a final accuracy, which is NaN when the run has none.
func acc(a float64) string {
	if math.IsNaN(a) {
		return "none"
	}
	return fmt.Sprintf("%.4f", a)
}

// LoadData reads the configured data set like train.LoadDataLog, with
// errors that also name the config keys that chose it.
func LoadData(cfg config.Run, log io.Writer) (*dataset.Split, error) {
	data, err := train.LoadDataLog(cfg, log)
	if err != nil {
		path := cfg.Dataset.Path
		if path == "" {
			path = `""`
		}
		return nil, fmt.Errorf("dataset.name %s, dataset.path %s: %w", cfg.Dataset.Name, path, err)
	}
	return data, nil
}

// Resume continues the run in dir. cfg is the config to continue with (read
// from dir's config.yaml when the caller gave none); a run of a different
// config, or on other data, is refused with the differences. mode.Restart
// discards the run's checkpoint and trains it from the start.
func Resume(ctx context.Context, dir string, cfg config.Run, mode Mode, stdout, stderr io.Writer) (results.Summary, error) {
	rec, err := results.ReadRecorded(dir)
	if err == nil && rec.Config == nil {
		err = fs.ErrNotExist
	}
	if err != nil {
		return results.Summary{}, notRunDir(dir, err)
	}
	// The config first, before the data are loaded: a wrong one is told at once.
	if saved, err := config.Decode(rec.Config); err != nil || saved.IdentityText() != cfg.IdentityText() {
		var diff []string
		if m := (*train.MismatchError)(nil); err == nil && errors.As(train.Mismatch(rec, cfg, ""), &m) && !m.DataChanged {
			diff = m.Diff
		}
		return results.Summary{}, fmt.Errorf("--resume %s: %w; refusing. Differences (- run, + now):\n%s\n"+
			"To continue the run, resume without --config and --set (its own %s is used); to train the new config, run it without --resume.",
			dir, train.ErrConfigMismatch, strings.Join(diff, "\n"), results.ConfigFile)
	}
	if err := rec.Damaged(); err != nil {
		return results.Summary{}, fmt.Errorf("--resume %s: %w", dir, err)
	}
	if rec.Final() {
		return finished(rec, mode.Restart, stdout)
	}
	// The lock of the directory's real path: a symbolic link to a sweep's
	// run must take the sweep's lock of it.
	real := dir
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		real = r
	}
	root, name := filepath.Dir(real), results.PlainName(filepath.Base(real))
	lock, lockFile, err := lockRun(root, name)
	if err != nil {
		return results.Summary{}, err
	}
	if lock == nil {
		return results.Summary{}, fmt.Errorf("--resume %s: the run is being trained by another process (it holds %s); nothing done", dir, lockFile)
	}
	defer lock.Unlock()
	data, err := LoadData(cfg, stderr)
	if err != nil {
		return results.Summary{}, err
	}
	fp := dataset.Fingerprint(data)
	if rec, err = results.ReadRecorded(dir); err != nil {
		return results.Summary{}, err
	}
	if rec.Final() {
		return finished(rec, mode.Restart, stdout)
	}
	if err := train.Mismatch(rec, cfg, fp); err != nil {
		return results.Summary{}, fmt.Errorf("--resume %s: %w", dir, Explain(err, dir))
	}
	return inDir(ctx, cfg, Plan{Dir: dir, Action: Continue, Recorded: rec}, data, fp, mode, stdout, stderr)
}

// ConfigOf loads the config.yaml of run directory dir with overrides.
func ConfigOf(dir string, sets, env []string) (config.Run, error) {
	file := filepath.Join(dir, results.ConfigFile)
	if _, err := os.Stat(file); err != nil {
		return config.Run{}, notRunDir(dir, err)
	}
	return config.Load(file, sets, env)
}

// notRunDir reports a --resume directory without a readable config.yaml.
func notRunDir(dir string, err error) error {
	return fmt.Errorf("--resume %s: %w (not a run directory? give the directory a run was written to, e.g. results/standard-p0.3-layer-s1, which holds %s)",
		dir, err, results.ConfigFile)
}

// inDir trains cfg into plan.Dir as the plan says; the caller holds the run's lock.
func inDir(ctx context.Context, cfg config.Run, plan Plan, data *dataset.Split, fp string, mode Mode, stdout, stderr io.Writer) (results.Summary, error) {
	name := filepath.Base(plan.Dir)
	fmt.Fprintf(stderr, "run %s: %s\n", name, plan.Start(cfg, cfg.Dataset.Name, mode.Restart))
	sum, err := Train(ctx, nil, cfg, plan, data, fp, mode, stderr)
	if err != nil {
		return sum, fmt.Errorf("run %s (%s): %w", name, plan.Dir, Explain(err, plan.Dir))
	}
	fmt.Fprintf(stdout, "%s: %s  %.0f img/s  %.0fs  -> %s\n", name, Result(sum), sum.ImagesPerSecond, sum.WallSeconds, plan.Dir)
	return sum, nil
}

// fmtLoss prints a loss with four decimals, or in e-notation when it has
// blown up, so that 3.6e+32 never fills a line with 33 digits.
func fmtLoss(l float64) string {
	if math.Abs(l) < 1e4 {
		return strconv.FormatFloat(l, 'f', 4, 64)
	}
	return strconv.FormatFloat(l, 'g', 3, 64)
}

// VariantSet reports whether --set or the environment chose dropout.variant,
// in which case a config-less train runs that one variant, not the demo.
func VariantSet(sets, env []string) bool {
	for _, s := range sets {
		if strings.HasPrefix(strings.TrimSpace(s), "dropout.variant=") {
			return true
		}
	}
	for _, e := range env {
		if strings.HasPrefix(e, config.EnvVar("dropout.variant")+"=") {
			return true
		}
	}
	return false
}

// Repair rebuilds the summary.json of the run directory dir from its other
// files (train.RebuildSummary) under the run's lock, writes it atomically
// and says what it wrote. A summary that needs no repair is left as it is.
func Repair(dir string, stdout io.Writer) (results.Summary, error) {
	if _, err := os.Stat(filepath.Join(dir, results.ConfigFile)); err != nil {
		return results.Summary{}, fmt.Errorf("repair %s: %w (give a run directory, e.g. results/standard-p0.3-layer-s1, which holds %s)", dir, err, results.ConfigFile)
	}
	real := dir
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		real = r
	}
	lock, lockFile, err := lockRun(filepath.Dir(real), results.PlainName(filepath.Base(real)))
	if err != nil {
		return results.Summary{}, err
	}
	if lock == nil {
		return results.Summary{}, fmt.Errorf("repair %s: the run is being trained by another process (it holds %s); nothing done", dir, lockFile)
	}
	defer lock.Unlock()
	sum, err := train.RebuildSummary(dir, time.Now())
	if errors.Is(err, train.ErrNothingToRepair) {
		fmt.Fprintf(stdout, "%v; left as it is\n", err)
		return sum, nil
	}
	if err != nil {
		return sum, fmt.Errorf("repair %s: %w", dir, err)
	}
	path := filepath.Join(dir, results.SummaryFile)
	if err := results.WriteSummary(path, sum); err != nil {
		return sum, err
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %s (%s)\n", path, sum.Status, Result(sum), sum.Repaired)
	return sum, nil
}
