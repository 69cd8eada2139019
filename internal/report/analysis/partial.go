package analysis

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// Unfinished runs (running, interrupted, failed) are drawn, with
// Options.Partial, as curves of their own marked as partial, and never
// enter a cell's statistics: a table or a final-accuracy figure holds
// finished runs only.

// readPartial reads the run directories of c.Pending that have metrics
// into c.Partial, for the figures and the HTML report.
func (c *Collection) ReadPartial() {
	for _, dir := range c.Pending {
		cfg, err := readConfig(filepath.Join(dir, results.ConfigFile))
		if err != nil {
			continue // not even started: nothing to draw
		}
		m, err := results.ReadMetrics(filepath.Join(dir, results.MetricsFile))
		if err != nil || len(m) == 0 {
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				c.Problems = append(c.Problems, err.Error())
			}
			continue
		}
		sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
		if err != nil {
			// Before the data have loaded the run has no summary yet: say what its config says.
			sum = results.Summary{Status: "pending", Model: cfg.Model, Dataset: cfg.Dataset.Name, Variant: cfg.Dropout.Variant,
				Ratio: canonRatio(cfg.Dropout.Ratio), Semantics: cfg.Dropout.Gradient, Seed: cfg.Seed, Iterations: cfg.Train.Iterations}
		}
		cell, err := experiment.ParseCell(sum.Variant, sum.Ratio, sum.Semantics)
		if err != nil {
			c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", dir, err))
			continue
		}
		c.Partial = append(c.Partial, Run{Dir: dir, Summary: sum, Cell: cell, Metrics: m, Config: cfg, DataLabel: c.dataLabel(dir, sum)})
	}
}

// Final reports whether r is a finished or diverged run (not a partial one).
func Final(r Run) bool {
	return r.Summary.Status == results.StatusFinished || r.Summary.Status == results.StatusDiverged
}
