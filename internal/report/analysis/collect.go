// Package analysis is the report's analysis, without any rendering: it
// reads run directories into typed records (Collect: summary.json, the
// run's config through package config, metrics.csv and diagnostics.csv),
// sorts runs into groups and table cells keyed by experiment.Cell
// (Groups), tests cells against each other (Comparisons, paired or Welch
// t-tests, Holm adjusted), sets the paper's values beside cells where the
// runs are the paper's data and protocol (PaperBasis, PaperValue), checks
// the poster's and Table 2's claims and the seeds an open check needs
// (Findings, Table2Findings) and tabulates the gradient diagnostics
// (NoiseTable). Package report renders what it returns as Markdown, CSV,
// figures and HTML.
//
// A table cell holds the seeds of one run: runs whose config differs in
// anything but the seed (and where or how fast it ran) are never averaged,
// but split into groups, each reported apart (grouping.go).
//
// It reads run directories only (package results) and never trains, so it
// can analyse a sweep that is still running; it links no training code.
package analysis

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// Run is one run directory with a final summary.
type Run struct {
	Dir       string
	Summary   results.Summary
	Cell      experiment.Cell  // the summary's variant, ratio and semantics, parsed
	Metrics   []results.Metric // nil if metrics.csv is missing or unreadable
	Config    *config.Run      // config.yaml over the built-in defaults (see readConfig); nil if unreadable
	DataLabel string           // the sweep's label of the data set (see dataLabel), "" if none
}

// Collection is what the run directories under the report's inputs hold.
type Collection struct {
	Runs     []Run    // finished or diverged, sorted by directory
	Pending  []string // run directories without a final summary: unfinished, interrupted or failed
	Partial  []Run    // with Options.Partial, the runs of Pending that have metrics, drawn as partial curves only
	Problems []string // files that could not be read, one message each
	Warnings []string // figures left out because they had nothing to draw, and why

	labels map[string]map[string]string // data labels by sweep directory and run directory name (dataLabel)
}

// Collect reads the run directories under each of dirs: DIR/runs/* of a
// sweep directory, else DIR/* (a results root of dropexp train), or DIR itself
// when it is a run directory.
func Collect(dirs ...string) (Collection, error) {
	var c Collection
	seen := map[string]bool{}
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil {
			return c, fmt.Errorf("report: %w (pass a sweep directory, e.g. --in results/table1)", err)
		}
		if !fi.IsDir() {
			return c, fmt.Errorf("report: %s is not a directory (pass a sweep directory, e.g. --in results/table1)", dir)
		}
		var runDirs []string
		switch {
		case isRunDir(dir):
			runDirs = []string{dir}
		default:
			root := dir
			if isDir(filepath.Join(dir, "runs")) {
				root = filepath.Join(dir, "runs")
			}
			entries, err := os.ReadDir(root)
			if err != nil {
				return c, fmt.Errorf("report: %w", err)
			}
			for _, e := range entries {
				if p := filepath.Join(root, e.Name()); e.IsDir() && isRunDir(p) {
					runDirs = append(runDirs, p)
				}
			}
		}
		for _, rd := range runDirs {
			if abs, err := filepath.Abs(rd); err == nil {
				if seen[abs] {
					continue
				}
				seen[abs] = true
			}
			c.add(rd)
		}
	}
	slices.SortFunc(c.Runs, func(a, b Run) int { return strings.Compare(a.Dir, b.Dir) })
	slices.Sort(c.Pending)
	return c, nil
}

// add reads one run directory into c.
func (c *Collection) add(dir string) {
	sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Pending = append(c.Pending, dir)
		return
	case err != nil:
		c.Problems = append(c.Problems, err.Error()+"; rebuild it with: dropexp repair "+dir)
		return
	case sum.Status != results.StatusFinished && sum.Status != results.StatusDiverged:
		c.Pending = append(c.Pending, dir)
		return
	}
	if err := checkFinal(sum); err != nil {
		c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", filepath.Join(dir, results.SummaryFile), err))
		return
	}
	cell, err := experiment.ParseCell(sum.Variant, sum.Ratio, sum.Semantics)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", filepath.Join(dir, results.SummaryFile), err))
		return
	}
	r := Run{Dir: dir, Summary: sum, Cell: cell, DataLabel: c.dataLabel(dir, sum)}
	if cfg, err := readConfig(filepath.Join(dir, results.ConfigFile)); err != nil {
		// Without it the run is grouped by what summary.json says, which
		// cannot tell runs of different settings apart.
		c.Problems = append(c.Problems, err.Error()+" (grouped by summary.json alone)")
	} else {
		r.Config = cfg
	}
	m, err := results.ReadMetrics(filepath.Join(dir, results.MetricsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Runs of early builds: the final numbers are in summary.json.
		c.Problems = append(c.Problems, err.Error()+" (no curves for this run)")
	case err != nil:
		// A metrics.csv no run wrote: the run's numbers are not trusted.
		c.Problems = append(c.Problems, err.Error())
		return
	default:
		r.Metrics = m
	}
	c.Runs = append(c.Runs, r)
}

// checkFinal reports final numbers a finished run cannot have: a diverged
// run's may be missing (NaN), a finished run's are finite, the losses
// non-negative and the accuracy in [0, 1].
func checkFinal(s results.Summary) error {
	if s.Status == results.StatusDiverged {
		return nil
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"final_train_loss", s.FinalTrainLoss}, {"final_test_loss", s.FinalTestLoss}} {
		if err := results.CheckLoss(f.name, f.v); err != nil {
			return err
		}
	}
	if !(s.FinalTestAcc >= 0 && s.FinalTestAcc <= 1) {
		return fmt.Errorf("final_test_acc %v is outside [0, 1]", s.FinalTestAcc)
	}
	return nil
}

// isRunDir reports whether dir looks like a run directory.
func isRunDir(dir string) bool {
	for _, f := range []string{results.SummaryFile, results.ConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// Cell is the mean and spread of the final test accuracy over some runs,
// for the figures (the tables use CellRuns, which knows its group).
type Cell struct {
	N        int     // finished runs
	Mean     float64 // of their final test accuracy; NaN if N = 0
	Std      float64 // sample standard deviation; NaN if N < 2
	Diverged int     // runs of the cell that diverged (not in N)
	Paper    float64 // the paper's value; NaN if the paper has none
}

// newCell computes the cell of runs, with the paper's value paper.
func newCell(runs []Run, paper float64) Cell {
	c := Cell{Mean: math.NaN(), Std: math.NaN(), Paper: paper}
	var accs []float64
	for _, r := range runs {
		if r.Summary.Status == results.StatusDiverged {
			c.Diverged++
			continue
		}
		accs = append(accs, r.Summary.FinalTestAcc)
	}
	c.N = len(accs)
	if c.N == 0 {
		return c
	}
	var sum float64
	for _, a := range accs {
		sum += a
	}
	c.Mean = sum / float64(c.N)
	if c.N > 1 {
		var ss float64
		for _, a := range accs {
			ss += (a - c.Mean) * (a - c.Mean)
		}
		c.Std = math.Sqrt(ss / float64(c.N-1))
	}
	return c
}

// canonRatio spells a ratio the way results and config do; one that does
// not parse stays as written.
func canonRatio(r string) string {
	if x, _, err := experiment.ParseAnyRatio(r); err == nil {
		return x.String()
	}
	return r
}
