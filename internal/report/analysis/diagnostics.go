package analysis

import (
	"cmp"
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// The quantities of diagnostics.csv the report draws (package diagnostics defines them).
const (
	QRelDev   = "rel_dev"
	QNoise    = "noise"
	qMeanDev  = "mean_dev"
	qNormMean = "norm_mean"
	qNormG0   = "norm_g0"
)

// diagQuantities are the quantities loadDiagnostics keeps.
var diagQuantities = []string{QRelDev, QNoise, qMeanDev, qNormMean, qNormG0}

// endFraction is the part of training whose diagnosed iterations make a
// run's value "at the end": their mean, since one batch's value is noisy.
const EndFraction = 0.1

// DiagRun is a finished run with the totals of its diagnostics.csv.
type DiagRun struct {
	Run
	Its  []int                // the diagnosed iterations
	Vals map[string][]float64 // by quantity, one value per iteration of Its
}

// mean returns the mean of quantity q over the diagnosed iterations from
// iteration from on (NaN if there are none).
func (d DiagRun) mean(q string, from int) float64 {
	var s float64
	n := 0
	for i, it := range d.Its {
		if it >= from {
			s += d.Vals[q][i]
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// end returns quantity q at the end of training: the mean over the
// diagnosed iterations of the run's last endFraction (at least the last one).
func (d DiagRun) End(q string) float64 {
	if len(d.Its) == 0 {
		return math.NaN()
	}
	last := d.Its[len(d.Its)-1]
	from := min(last, int(math.Ceil(float64(d.Summary.Iterations)*(1-EndFraction))))
	return d.mean(q, from)
}

// bias estimates ‖E g − g0‖ / ‖g0‖, how far the variant's expected gradient
// lies from the clean one, over the run's diagnosed iterations. mean_dev²
// (the K-draw mean's distance) is the squared bias plus the mean's sampling
// error tr Cov / K, and tr Cov / ‖g0‖² = noise · (norm_mean / norm_g0)²; the
// difference of their means is the squared bias, clipped at 0 where the
// sampling error is the larger (an unbiased variant, within its noise).
// NaN when the run's draws are unknown.
func (d DiagRun) bias() float64 {
	if d.Config == nil || d.Config.Diagnostics.Draws < 2 {
		return math.NaN()
	}
	k := d.Config.Diagnostics.Draws
	var dev2, sampling float64
	for i := range d.Its {
		if math.IsNaN(d.Vals[qMeanDev][i] + d.Vals[qNormMean][i] + d.Vals[qNormG0][i] + d.Vals[QNoise][i]) {
			return math.NaN() // a diagnostics.csv without these quantities
		}
		dev2 += d.Vals[qMeanDev][i] * d.Vals[qMeanDev][i]
		r := d.Vals[qNormMean][i] / d.Vals[qNormG0][i]
		sampling += d.Vals[QNoise][i] * r * r / float64(k)
	}
	return math.Sqrt(max(dev2-sampling, 0) / float64(len(d.Its)))
}

// gap is the generalisation gap: final test loss minus final training loss
// (the latter as metrics.csv logs it: with the variant's masks, the running
// mean since the previous evaluation).
func (d DiagRun) gap() float64 { return d.Summary.FinalTestLoss - d.Summary.FinalTrainLoss }

// loadDiagnostics reads diagnostics.csv of every finished run that has one;
// a file that cannot be read is a problem of c.
func LoadDiagnostics(c *Collection) []DiagRun {
	var out []DiagRun
	for _, r := range c.Runs {
		if r.Summary.Status != results.StatusFinished {
			continue
		}
		rows, err := results.ReadDiagnostics(filepath.Join(r.Dir, results.DiagnosticsFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			c.Problems = append(c.Problems, err.Error())
			continue
		}
		d := DiagRun{Run: r, Vals: map[string][]float64{}}
		for _, row := range rows {
			if row.Tensor != results.TotalTensor || !slices.Contains(diagQuantities, row.Quantity) {
				continue
			}
			if n := len(d.Its); n == 0 || d.Its[n-1] != row.Iteration {
				d.Its = append(d.Its, row.Iteration)
				for _, q := range diagQuantities {
					d.Vals[q] = append(d.Vals[q], math.NaN())
				}
			}
			d.Vals[row.Quantity][len(d.Its)-1] = row.Value
		}
		if len(d.Its) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// DiagGroup is the runs of one variant and ratio in one panel (seeds).
type DiagGroup struct {
	Label string          // variant and ratio, as legends write them
	Cell  experiment.Cell // variant and ratio
	Style int             // the variant's rank, for its colour and marker
	Runs  []DiagRun
}

// diagGroups groups the runs of panel pn by variant and ratio, plain first;
// keep filters the non-plain groups by their ratio.
func DiagGroups(runs []DiagRun, pn Panel, keep func(experiment.Ratio) bool) []DiagGroup {
	var gs []DiagGroup
	for _, r := range runs {
		if !pn.member(r.Run) {
			continue
		}
		c := r.Cell
		Label := string(c.Variant)
		if c.Variant.Form() != experiment.NoRatio {
			if !keep(c.Ratio) {
				continue
			}
			Label += " " + c.Ratio.String()
		}
		i := slices.IndexFunc(gs, func(g DiagGroup) bool { return g.Label == Label })
		if i < 0 {
			gs = append(gs, DiagGroup{Label: Label, Cell: c, Style: c.Variant.Rank()})
			i = len(gs) - 1
		}
		gs[i].Runs = append(gs[i].Runs, r)
	}
	slices.SortFunc(gs, func(a, b DiagGroup) int {
		return cmp.Or(cmp.Compare(a.Style, b.Style), cmp.Compare(b.Cell.Ratio.P, a.Cell.Ratio.P), strings.Compare(a.Label, b.Label))
	})
	return gs
}

// DiagPanels returns the panels that hold runs with diagnostics.
func DiagPanels(runs []DiagRun) []Panel {
	rs := make([]Run, len(runs))
	for i, r := range runs {
		rs[i] = r.Run
	}
	return panels(rs)
}

// MeanStd returns the mean and sample standard deviation (NaN for one value).
func MeanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}

// NoiseRow is one variant and ratio of the gradient-noise table.
type NoiseRow struct {
	Model, Dataset, Semantics string          // the panel's (a plain row's semantics is its panel's)
	Cell                      experiment.Cell // variant and ratio
	Data                      string          // the data set's title (DataTitle)
	N                         int
	Noise, NoiseStd           float64 // mean over the run's diagnosed iterations, then over seeds
	NoiseEnd, NoiseEndStd     float64 // at the end of training
	RelDevEnd, RelDevEndStd   float64
	Bias, BiasStd             float64 // ‖E g − g0‖ / ‖g0‖ over the run (diagRun.bias)
	Gap, GapStd               float64 // final test loss − final training loss
	TestAcc                   float64
}

// NoiseTable returns a row per panel, variant and ratio of the runs with diagnostics.
func NoiseTable(runs []DiagRun) []NoiseRow {
	var rows []NoiseRow
	for _, pn := range DiagPanels(runs) {
		for _, g := range DiagGroups(runs, pn, func(experiment.Ratio) bool { return true }) {
			row := NoiseRow{Model: pn.Model, Dataset: pn.Dataset, Semantics: pn.Semantics, Data: pn.Data, Cell: g.Cell, N: len(g.Runs)}
			col := func(f func(DiagRun) float64) (float64, float64) {
				v := make([]float64, len(g.Runs))
				for i, r := range g.Runs {
					v[i] = f(r)
				}
				return MeanStd(v)
			}
			row.Noise, row.NoiseStd = col(func(r DiagRun) float64 { return r.mean(QNoise, 0) })
			row.NoiseEnd, row.NoiseEndStd = col(func(r DiagRun) float64 { return r.End(QNoise) })
			row.RelDevEnd, row.RelDevEndStd = col(func(r DiagRun) float64 { return r.End(QRelDev) })
			row.Bias, row.BiasStd = col(DiagRun.bias)
			row.Gap, row.GapStd = col(DiagRun.gap)
			row.TestAcc, _ = col(func(r DiagRun) float64 { return r.Summary.FinalTestAcc })
			rows = append(rows, row)
		}
	}
	return rows
}
