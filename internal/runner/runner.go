// Package runner turns a resolved config into finished run directories: it
// names and creates the directory, wires progress output to the terminal or
// a log, trains, and prints the outcome. The demo (four variants on the
// embedded MNIST config) lives here too.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/progress"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/train"
)

// One trains cfg into a new run directory under cfg.Out and prints where it went.
func One(ctx context.Context, cfg config.Run, stdout, stderr io.Writer) (results.Summary, error) {
	return one(ctx, cfg, nil, stdout, stderr)
}

// Name returns the run directory name of cfg.
func Name(cfg config.Run) string {
	ratio := cfg.Ratio().String()
	if cfg.Variant() == dropout.Plain {
		ratio = ""
	}
	return results.RunName(cfg.Dropout.Variant, ratio, cfg.Dropout.Gradient, cfg.Seed)
}

func one(ctx context.Context, cfg config.Run, data *dataset.Split, stdout, stderr io.Writer) (results.Summary, error) {
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
	dir, err := results.NewRunDir(cfg.Out, Name(cfg))
	if err != nil {
		return results.Summary{}, fmt.Errorf("out %s: %w (give a writable results root with --out DIR or --set out=DIR)", cfg.Out, err)
	}
	return inDir(ctx, cfg, dir, data, false, stdout, stderr)
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
// config is refused with the differences.
func Resume(ctx context.Context, dir string, cfg config.Run, stdout, stderr io.Writer) (results.Summary, error) {
	saved, err := os.ReadFile(filepath.Join(dir, results.ConfigFile))
	if err != nil {
		return results.Summary{}, notRunDir(dir, err)
	}
	now, err := cfg.YAML()
	if err != nil {
		return results.Summary{}, err
	}
	if string(saved) != string(now) {
		return results.Summary{}, fmt.Errorf("--resume %s: %w; refusing. Differences (- run, + now):\n%s\n"+
			"To continue the run, resume without --config and --set (its own %s is used); to train the new config, run it without --resume.",
			dir, train.ErrConfigMismatch, train.DiffLines(string(saved), string(now)), results.ConfigFile)
	}
	if s, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile)); err == nil && s.Status == results.StatusFinished {
		fmt.Fprintf(stdout, "%s: already finished (test_acc %.4f); nothing to do\n", dir, s.FinalTestAcc)
		return s, nil
	}
	data, err := LoadData(cfg, stderr)
	if err != nil {
		return results.Summary{}, err
	}
	return inDir(ctx, cfg, dir, data, true, stdout, stderr)
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

func inDir(ctx context.Context, cfg config.Run, dir string, data *dataset.Split, resume bool, stdout, stderr io.Writer) (results.Summary, error) {
	name := filepath.Base(dir)
	fmt.Fprintf(stderr, "run %s: %s %s on %s, writing %s\n", name, cfg.Model, describe(cfg), cfg.Dataset.Name, dir)
	prog := progress.New(stderr, cfg.Train.Iterations, cfg.Train.BatchSize, name)
	sum, err := train.Run(ctx, train.Options{Config: cfg, Dir: dir, Data: data, Progress: prog, Resume: resume})
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		// The files written before are whole (atomic writes), and so is the
		// last checkpoint: the run can go on once there is room.
		return sum, fmt.Errorf("run %s (%s): %w; free some space, then continue with: dropexp train --resume %s", name, dir, err, dir)
	}
	if err != nil {
		return sum, fmt.Errorf("run %s (%s): %w", name, dir, err)
	}
	fmt.Fprintf(stdout, "%s: test_acc %.4f  test_loss %.4f  train_loss %.4f  %.0f img/s  %.0fs  -> %s\n",
		name, sum.FinalTestAcc, sum.FinalTestLoss, sum.FinalTrainLoss, sum.ImagesPerSecond, sum.WallSeconds, dir)
	return sum, nil
}

func describe(cfg config.Run) string {
	if cfg.Variant() == dropout.Plain {
		return "plain"
	}
	return fmt.Sprintf("%s dropout %s (%s gradient)", cfg.Dropout.Variant, cfg.Ratio(), cfg.Dropout.Gradient)
}

// DemoVariants are the variants the demo compares.
var DemoVariants = []dropout.Variant{dropout.Plain, dropout.Standard, dropout.Forward, dropout.Backward}

// Demo trains cfg once per demo variant on data loaded once and prints a table of test accuracy.
func Demo(ctx context.Context, cfg config.Run, stdout, stderr io.Writer) error {
	data, err := LoadData(cfg, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: %s on %s (%d train / %d test images), %d iterations, ratio %s\n",
		cfg.Model, cfg.Dataset.Name, data.Train.Len(), data.Test.Len(), cfg.Train.Iterations, cfg.Dropout.Ratio)
	var rows []string
	for _, v := range DemoVariants {
		c := cfg
		c.Dropout.Variant = string(v)
		if err := c.Validate(); err != nil {
			return err
		}
		ratio := c.Ratio().String()
		if v == dropout.Plain {
			ratio = "–"
		}
		sum, err := one(ctx, c, data, stdout, stderr)
		if errors.Is(err, train.ErrDiverged) && ctx.Err() == nil {
			// A variant that blows up is one of the things the demo shows
			// (forward dropout on raw MNIST can); the others still run.
			fmt.Fprintf(stderr, "demo: %v\n", err)
			rows = append(rows, fmt.Sprintf("| %-8s | %-5s | diverged: NaN/Inf loss at iteration %d | | |", v, ratio, sum.DivergedAt))
			continue
		}
		if err != nil {
			return err
		}
		rows = append(rows, fmt.Sprintf("| %-8s | %-5s | %.4f | %.4f | %.4f |", v, ratio, sum.FinalTestAcc, sum.FinalTestLoss, sum.FinalTrainLoss))
	}
	fmt.Fprintln(stdout, "\n| variant  | ratio | test_acc | test_loss | train_loss |\n|---|---|---|---|---|")
	fmt.Fprintln(stdout, strings.Join(rows, "\n"))
	return nil
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
