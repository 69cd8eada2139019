package report

import (
	"fmt"

	"github.com/dropexp/dropexp/internal/report/analysis"
)

// Unfinished runs (running, interrupted, failed) are drawn, with
// Options.Partial, as curves of their own marked as partial, and never
// enter a cell's statistics: a table or a final-accuracy figure holds
// finished runs only.

// progressText says how far an unfinished run got: "at iteration 120 of 300".
func progressText(r analysis.Run) string {
	last := 0
	if n := len(r.Metrics); n > 0 {
		last = r.Metrics[n-1].Iteration
	}
	total := r.Summary.Iterations
	if total == 0 && r.Config != nil {
		total = r.Config.Train.Iterations
	}
	return fmt.Sprintf("at iteration %d of %d", last, total)
}
