package train

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// ErrNothingToRepair reports a run directory whose summary.json reads and
// agrees with the run's other files.
var ErrNothingToRepair = errors.New("nothing to repair")

// RebuildSummary returns the summary.json of the run in dir rebuilt from
// its config.yaml (the run's settings and identity), model.gob (the final
// state of a finished run: data sizes, wall and training time, metrics),
// metrics.csv, timing.csv and checkpoint.gob, for a summary.json that is
// damaged, missing, or says running beside a finished run. What the files
// cannot tell (the dropexp and Go versions and kernels, when the old
// summary is unreadable) stays empty, and Repaired says so. A readable
// summary that agrees with the files is ErrNothingToRepair: a finished
// run's summary is never rewritten. The caller holds the run's lock.
func RebuildSummary(dir string, now time.Time) (results.Summary, error) {
	rec, err := results.ReadRecorded(dir)
	if err != nil {
		return results.Summary{}, err
	}
	cfgFile := filepath.Join(dir, results.ConfigFile)
	if rec.Config == nil {
		return results.Summary{}, fmt.Errorf("%s has no %s: not a run directory, or one whose run never started; nothing to rebuild from", dir, results.ConfigFile)
	}
	if rec.Damaged() == nil && rec.Summary != nil {
		return *rec.Summary, fmt.Errorf("%w: %s reads and agrees with the run's other files (status %s)", ErrNothingToRepair, filepath.Join(dir, results.SummaryFile), rec.Summary.Status)
	}
	cfg, err := config.Decode(rec.Config)
	if err != nil {
		return results.Summary{}, fmt.Errorf("%s does not read as a run config (%v); summary.json cannot be rebuilt without it", cfgFile, err)
	}
	if rec.Identity == "" || cfg.Identity(rec.DataFingerprint) != rec.Identity {
		return results.Summary{}, fmt.Errorf("%s records no identity, or one that no longer matches its content (edited by hand?); summary.json cannot be rebuilt from it", cfgFile)
	}
	ratio, err := experiment.ParseRatio(cfg.Variant(), cfg.Dropout.Ratio)
	if err != nil {
		return results.Summary{}, fmt.Errorf("%s: dropout.ratio: %w", cfgFile, err)
	}
	sum := results.Summary{Status: results.StatusRunning, Threads: cfg.Threads,
		FinalTestAcc: math.NaN(), FinalTestLoss: math.NaN(), FinalTrainLoss: math.NaN()}
	var lost []string
	if rec.Summary != nil {
		// Readable but stale (says running beside a finished run): what it records of the machine stays.
		sum = *rec.Summary
	} else {
		lost = append(lost, "dropexp_version, go_version, kernels and threads are not recorded")
	}
	sum.Identity, sum.DataFingerprint = rec.Identity, rec.DataFingerprint
	sum.Seed, sum.Model, sum.Variant, sum.Semantics = cfg.Seed, cfg.Model, cfg.Dropout.Variant, cfg.Dropout.Gradient
	sum.Ratio = ratio.String()
	if cfg.Variant() == experiment.Plain {
		sum.Ratio = ""
	}
	sum.Dataset, sum.DatasetPath, sum.Iterations = cfg.Dataset.Name, cfg.Dataset.Path, cfg.Train.Iterations

	metricsFile := filepath.Join(dir, results.MetricsFile)
	rows, merr := results.ReadMetrics(metricsFile)
	if merr != nil && !errors.Is(merr, fs.ErrNotExist) {
		return results.Summary{}, fmt.Errorf("%w; summary.json cannot be rebuilt from it", merr)
	}
	// The final state of a finished run, or the last checkpoint of an unfinished one.
	state := filepath.Join(dir, ModelFile)
	if !rec.Model {
		state = filepath.Join(dir, CheckpointFile)
	}
	ck, err := loadCheckpoint(state)
	if err != nil {
		return results.Summary{}, fmt.Errorf("%w; summary.json cannot be rebuilt from it", err)
	}
	var stamp time.Time
	if ck != nil {
		if ck.Identity != rec.Identity {
			return results.Summary{}, fmt.Errorf("%s belongs to another run (identity %s, %s says %s); summary.json cannot be rebuilt from it", state, short(ck.Identity), cfgFile, short(rec.Identity))
		}
		if merr == nil && len(ck.Rows) <= len(rows) && !slices.Equal(rows[:len(ck.Rows)], ck.Rows) {
			return results.Summary{}, fmt.Errorf("%s and %s disagree on the metrics rows; summary.json cannot be rebuilt from them", metricsFile, state)
		}
		sum.TrainSize, sum.TestSize = ck.TrainSize, ck.TestSize
		sum.WallSeconds = ck.WallSecs
		if ck.TrainSecs > 0 {
			sum.ImagesPerSecond = float64(ck.Iteration*cfg.Train.BatchSize) / ck.TrainSecs
		}
		if rec.Model {
			rows = ck.Rows // the rows as the run finished
		}
		if fi, err := os.Stat(state); err == nil {
			stamp = fi.ModTime()
		}
	} else if rec.Summary == nil {
		lost = append(lost, "train_size and test_size are not recorded")
	}
	if merr != nil && ck == nil {
		return results.Summary{}, fmt.Errorf("%s has neither %s nor %s nor %s; nothing to rebuild summary.json from", dir, results.MetricsFile, ModelFile, CheckpointFile)
	}
	if t, err := results.ReadTiming(filepath.Join(dir, results.TimingFile)); err == nil && len(t) > 0 && len(rows) > 0 && t[len(t)-1].Iteration == rows[len(rows)-1].Iteration {
		last := t[len(t)-1]
		sum.WallSeconds = max(sum.WallSeconds, last.Seconds)
		if sum.ImagesPerSecond == 0 {
			sum.ImagesPerSecond = last.ImagesPerSecond
		}
	}
	if n := len(rows); n > 0 {
		last := rows[n-1]
		sum.FinalTestAcc, sum.FinalTestLoss, sum.FinalTrainLoss = last.TestAcc, last.TestLoss, last.TrainLoss
	}
	sum.Finished = time.Time{}
	switch {
	case rec.Model || (len(rows) > 0 && rows[len(rows)-1].Iteration >= cfg.Train.Iterations):
		sum.Status = results.StatusFinished
		if !rec.Model {
			lost = append(lost, ModelFile+" is missing (the final weights are lost; the metrics are complete)")
			if fi, err := os.Stat(metricsFile); err == nil {
				stamp = fi.ModTime()
			}
		}
		sum.Finished = stamp.UTC().Truncate(time.Second)
		sum.DivergedAt, sum.DivergedReason = 0, ""
	case rec.Checkpoint:
		sum.Status = results.StatusInterrupted
	default:
		sum.Status = results.StatusRunning
	}
	if sum.Started.IsZero() {
		sum.Started = stamp.Add(-time.Duration(sum.WallSeconds * float64(time.Second))).UTC().Truncate(time.Second)
		if stamp.IsZero() {
			if fi, err := os.Stat(cfgFile); err == nil {
				sum.Started = fi.ModTime().UTC().Truncate(time.Second)
			}
		}
	}
	sum.Repaired = fmt.Sprintf("rebuilt by dropexp %s repair at %s from %s", Version, now.UTC().Format(time.RFC3339), strings.Join(sources(rec, merr == nil, ck != nil, state), ", "))
	if len(lost) > 0 {
		sum.Repaired += "; " + strings.Join(lost, "; ")
	}
	return sum, nil
}

// sources lists the files RebuildSummary read.
func sources(rec results.Recorded, metrics, state bool, statePath string) []string {
	out := []string{results.ConfigFile}
	if metrics {
		out = append(out, results.MetricsFile)
	}
	if state {
		out = append(out, filepath.Base(statePath))
	}
	if rec.Summary != nil {
		out = append(out, "the stale "+results.SummaryFile)
	}
	return out
}
