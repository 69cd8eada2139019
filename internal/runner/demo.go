package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/train"
)

// DemoVariants are the variants the demo compares, in the paper's order.
var DemoVariants = []experiment.Variant{experiment.Plain, experiment.Standard, experiment.Forward, experiment.Backward}

// ExplodeFactor sets when a loss counts as diverged although it is still a
// number: above ExplodeFactor times ln(classes), the loss of a uniform guess
// and so where a freshly initialised network starts. A network whose loss
// went that far has lost what it learnt, and printing the number
// (1e32, say) reads as a broken tool.
const ExplodeFactor = 1000

// Exploded reports whether loss, of a network over classes classes, counts
// as diverged: not finite (the rule the trainer stops a run on), or above
// ExplodeFactor × ln(classes).
func Exploded(loss float64, classes int) bool {
	return math.IsNaN(loss) || math.IsInf(loss, 0) || loss > ExplodeFactor*math.Log(float64(max(classes, 2)))
}

// DemoRow is one variant's outcome in the demo table.
type DemoRow struct {
	Variant    experiment.Variant
	Ratio      string // "–" for plain
	Summary    results.Summary
	DivergedAt int // first iteration (or evaluation) at which the loss exploded; 0: it did not
}

// divergedAt returns the iteration at which run sum with metrics rows
// diverged: where the trainer stopped it, else the first evaluation whose
// training or test loss Exploded; 0 if none did.
func divergedAt(sum results.Summary, rows []results.Metric, classes int) int {
	if sum.Status == results.StatusDiverged {
		return sum.DivergedAt
	}
	for _, m := range rows {
		if Exploded(m.TrainLoss, classes) || Exploded(m.TestLoss, classes) {
			return m.Iteration
		}
	}
	return 0
}

// Demo trains cfg once per demo variant on data loaded once, then prints a
// table of final test accuracy, test loss and training loss, and a line
// that reads the table against the paper's Figure 1.
func Demo(ctx context.Context, cfg config.Run, stdout, stderr io.Writer) error {
	start := time.Now()
	data, err := LoadData(cfg, stderr)
	if err != nil {
		return err
	}
	classes := len(data.Train.Classes)
	fp := dataset.Fingerprint(data)
	fmt.Fprintf(stdout, "demo: %s on %s (%d train / %d test images), %d iterations of %d, lr %g, dropout ratio %s, seed %d\n",
		cfg.Model, cfg.Dataset.Name, data.Train.Len(), data.Test.Len(), cfg.Train.Iterations, cfg.Train.BatchSize,
		cfg.Train.LR, cfg.Dropout.Ratio, cfg.Seed)
	var rows []DemoRow
	for _, v := range DemoVariants {
		c := cfg
		c.Dropout.Variant = string(v)
		if err := c.Validate(); err != nil {
			return err
		}
		row := DemoRow{Variant: v, Ratio: c.Ratio().String()}
		if v == experiment.Plain {
			row.Ratio = "–"
		}
		sum, err := one(ctx, c, data, fp, Mode{}, stdout, stderr)
		if errors.Is(err, train.ErrDiverged) && ctx.Err() == nil {
			// A variant that blows up is one of the things the demo can
			// show; the others still run.
			fmt.Fprintf(stderr, "demo: %v\n", err)
		} else if err != nil {
			return err
		}
		var metrics []results.Metric
		if plan, err := PlanRun(c.Out, Name(c), c, fp); err == nil {
			metrics, _ = results.ReadMetrics(filepath.Join(plan.Dir, results.MetricsFile))
		}
		row.Summary, row.DivergedAt = sum, divergedAt(sum, metrics, classes)
		rows = append(rows, row)
	}
	fmt.Fprintf(stdout, "\n%s\n%s\n", DemoTable(rows), DemoReading(rows))
	fmt.Fprintf(stdout, "%d runs in %s, written to %s; curves: dropexp report --in %s --ratio %s\n",
		len(rows), time.Since(start).Round(time.Second), cfg.Out, cfg.Out, cfg.Dropout.Ratio)
	return nil
}

// DemoTable formats rows as an aligned Markdown table; a diverged run shows
// where it diverged instead of its numbers.
func DemoTable(rows []DemoRow) string {
	cells := [][]string{{"variant", "ratio", "test_acc", "test_loss", "train_loss"}}
	for _, r := range rows {
		s := r.Summary
		line := []string{string(r.Variant), r.Ratio}
		if r.DivergedAt > 0 {
			line = append(line, fmt.Sprintf("diverged at %d", r.DivergedAt), "–", "–")
		} else {
			line = append(line, fmt.Sprintf("%.4f", s.FinalTestAcc), fmt.Sprintf("%.4f", s.FinalTestLoss), fmt.Sprintf("%.4f", s.FinalTrainLoss))
		}
		cells = append(cells, line)
	}
	width := make([]int, len(cells[0]))
	for _, line := range cells {
		for i, c := range line {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for n, line := range cells {
		for i, c := range line {
			fmt.Fprintf(&b, "| %s%s ", c, strings.Repeat(" ", width[i]-len([]rune(c))))
		}
		b.WriteString("|\n")
		if n == 0 {
			for _, w := range width {
				b.WriteString("|" + strings.Repeat("-", w+2))
			}
			b.WriteString("|\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// narrow is the ratio of forward's to standard's final training loss below
// which the demo calls the paper's order narrow rather than shown.
const narrow = 1.1

// DemoReading says in one line whether the table shows the paper's Figure 1
// finding: forward dropout underfits (the highest final training loss),
// standard comes next, and plain and backward reach the lowest. It is
// computed from the rows, so it says so when the order does not hold.
func DemoReading(rows []DemoRow) string {
	loss := map[experiment.Variant]float64{}
	var diverged []string
	for _, r := range rows {
		if r.DivergedAt > 0 {
			why := "its loss exploded"
			if r.Summary.Status == results.StatusDiverged && r.Summary.DivergedReason != "" {
				why = r.Summary.DivergedReason
			}
			diverged = append(diverged, fmt.Sprintf("%s diverged at iteration %d (%s)", r.Variant, r.DivergedAt, why))
			continue
		}
		loss[r.Variant] = r.Summary.FinalTrainLoss
	}
	if len(diverged) > 0 {
		return "Reading: " + strings.Join(diverged, ", ") + ", so the paper's order of training losses cannot be checked; lower train.lr or dropout.ratio."
	}
	f, okF := loss[experiment.Forward]
	s, okS := loss[experiment.Standard]
	p, okP := loss[experiment.Plain]
	b, okB := loss[experiment.Backward]
	if !okF || !okS || !okP || !okB {
		return "Reading: the demo needs plain, standard, forward and backward to compare their training losses."
	}
	if f > s && s > max(p, b) && f < narrow*s {
		return fmt.Sprintf("Reading: the paper's order holds, but narrowly: forward's final training loss (%.3g) is only %.2f× standard's (%.3g), within what another seed can move; plain %.3g, backward %.3g.",
			f, f/s, s, p, b)
	}
	if f > s && s > max(p, b) {
		return fmt.Sprintf("Reading: as in the paper's Figure 1, forward dropout underfits: its final training loss (%.3g) is the highest, %.2f× standard's (%.3g); plain (%.3g) and backward (%.3g) reach the lowest: backward, which drops only errors, trains below standard.",
			f, f/s, s, p, b)
	}
	order := slices.Clone(DemoVariants)
	slices.SortStableFunc(order, func(x, y experiment.Variant) int { return cmp.Compare(loss[y], loss[x]) })
	parts := make([]string, len(order))
	for i, v := range order {
		parts[i] = fmt.Sprintf("%s %.3g", v, loss[v])
	}
	return "Reading: the paper's order of final training losses (forward highest, then standard, then plain and backward) does not hold here: " + strings.Join(parts, " > ") + "."
}
