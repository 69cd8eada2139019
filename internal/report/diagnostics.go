package report

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// The gradient diagnostics' files (written when any run recorded diagnostics.csv).
const (
	DiagnosticsPNG      = "diagnostics.png"          // deviation and noise against iteration
	DiagnosticsSVG      = "diagnostics.svg"          //
	DiagnosticsRatioPNG = "diagnostics_vs_ratio.png" // the same at the end of training against ratio
	DiagnosticsRatioSVG = "diagnostics_vs_ratio.svg" //
	GradientNoiseMD     = "gradient_noise.md"        // noise beside the generalisation gap
	GradientNoiseCSV    = "gradient_noise.csv"       //
)

// The quantities of diagnostics.csv the report draws (package diagnostics defines them).
const (
	qRelDev   = "rel_dev"
	qNoise    = "noise"
	qMeanDev  = "mean_dev"
	qNormMean = "norm_mean"
	qNormG0   = "norm_g0"
)

// diagQuantities are the quantities loadDiagnostics keeps.
var diagQuantities = []string{qRelDev, qNoise, qMeanDev, qNormMean, qNormG0}

// endFraction is the part of training whose diagnosed iterations make a
// run's value "at the end": their mean, since one batch's value is noisy.
const endFraction = 0.1

// diagRun is a finished run with the totals of its diagnostics.csv.
type diagRun struct {
	Run
	its  []int
	vals map[string][]float64 // by quantity, one value per its
}

// series returns quantity q of the run against iteration.
func (d diagRun) series(q string) plotter.XYs {
	xys := make(plotter.XYs, len(d.its))
	for i, it := range d.its {
		xys[i] = plotter.XY{X: float64(it), Y: d.vals[q][i]}
	}
	return xys
}

// mean returns the mean of quantity q over the diagnosed iterations from
// iteration from on (NaN if there are none).
func (d diagRun) mean(q string, from int) float64 {
	var s float64
	n := 0
	for i, it := range d.its {
		if it >= from {
			s += d.vals[q][i]
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
func (d diagRun) end(q string) float64 {
	if len(d.its) == 0 {
		return math.NaN()
	}
	last := d.its[len(d.its)-1]
	from := min(last, int(math.Ceil(float64(d.Summary.Iterations)*(1-endFraction))))
	return d.mean(q, from)
}

// bias estimates ‖E g − g0‖ / ‖g0‖, how far the variant's expected gradient
// lies from the clean one, over the run's diagnosed iterations. mean_dev²
// (the K-draw mean's distance) is the squared bias plus the mean's sampling
// error tr Cov / K, and tr Cov / ‖g0‖² = noise · (norm_mean / norm_g0)²; the
// difference of their means is the squared bias, clipped at 0 where the
// sampling error is the larger (an unbiased variant, within its noise).
// NaN when the run's draws are unknown.
func (d diagRun) bias() float64 {
	if d.Config == nil || d.Config.Diagnostics.Draws < 2 {
		return math.NaN()
	}
	k := d.Config.Diagnostics.Draws
	var dev2, sampling float64
	for i := range d.its {
		if math.IsNaN(d.vals[qMeanDev][i] + d.vals[qNormMean][i] + d.vals[qNormG0][i] + d.vals[qNoise][i]) {
			return math.NaN() // a diagnostics.csv without these quantities
		}
		dev2 += d.vals[qMeanDev][i] * d.vals[qMeanDev][i]
		r := d.vals[qNormMean][i] / d.vals[qNormG0][i]
		sampling += d.vals[qNoise][i] * r * r / float64(k)
	}
	return math.Sqrt(max(dev2-sampling, 0) / float64(len(d.its)))
}

// gap is the generalisation gap: final test loss minus final training loss
// (the latter as metrics.csv logs it: with the variant's masks, the running
// mean since the previous evaluation).
func (d diagRun) gap() float64 { return d.Summary.FinalTestLoss - d.Summary.FinalTrainLoss }

// loadDiagnostics reads diagnostics.csv of every finished run that has one;
// a file that cannot be read is a problem of c.
func loadDiagnostics(c *Collection) []diagRun {
	var out []diagRun
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
		d := diagRun{Run: r, vals: map[string][]float64{}}
		for _, row := range rows {
			if row.Tensor != results.TotalTensor || !slices.Contains(diagQuantities, row.Quantity) {
				continue
			}
			if n := len(d.its); n == 0 || d.its[n-1] != row.Iteration {
				d.its = append(d.its, row.Iteration)
				for _, q := range diagQuantities {
					d.vals[q] = append(d.vals[q], math.NaN())
				}
			}
			d.vals[row.Quantity][len(d.its)-1] = row.Value
		}
		if len(d.its) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// diagGroup is the runs of one variant and ratio in one panel (seeds).
type diagGroup struct {
	label string
	cell  experiment.Cell
	style int
	runs  []diagRun
}

// diagGroups groups the runs of panel pn by variant and ratio, plain first;
// keep filters the non-plain groups by their ratio.
func diagGroups(runs []diagRun, pn panel, keep func(experiment.Ratio) bool) []diagGroup {
	var gs []diagGroup
	for _, r := range runs {
		if !pn.member(r.Run) {
			continue
		}
		c := r.Cell
		label := string(c.Variant)
		if c.Variant.Form() != experiment.NoRatio {
			if !keep(c.Ratio) {
				continue
			}
			label += " " + c.Ratio.String()
		}
		i := slices.IndexFunc(gs, func(g diagGroup) bool { return g.label == label })
		if i < 0 {
			gs = append(gs, diagGroup{label: label, cell: c, style: c.Variant.Rank()})
			i = len(gs) - 1
		}
		gs[i].runs = append(gs[i].runs, r)
	}
	slices.SortFunc(gs, func(a, b diagGroup) int {
		return cmp.Or(cmp.Compare(a.style, b.style), cmp.Compare(b.cell.Ratio.P, a.cell.Ratio.P), strings.Compare(a.label, b.label))
	})
	return gs
}

// diagPanels returns the panels that hold runs with diagnostics.
func diagPanels(runs []diagRun) []panel {
	rs := make([]Run, len(runs))
	for i, r := range runs {
		rs[i] = r.Run
	}
	return panels(rs)
}

// diagStats returns quantity q of runs against iteration, as Figure 1's
// seedStats does for the losses.
func diagStats(runs []diagRun, q string) []stat {
	series := make([]map[int]float64, len(runs))
	for i, r := range runs {
		series[i] = make(map[int]float64, len(r.its))
		for j, it := range r.its {
			series[i][it] = r.vals[q][j]
		}
	}
	return statsOver(series)
}

// diagTitles names the two quantities the figures draw.
var diagTitles = [...]struct{ q, title, axis string }{
	{qRelDev, "Deviation from the clean gradient", "‖g − g0‖ / ‖g0‖"},
	{qNoise, "Gradient noise over mask draws", "tr Cov(g) / ‖mean g‖²"},
}

// DiagnosticsFigure draws, for each group of runs with diagnostics and each
// ratio, a row of the total relative deviation and the total noise against
// iteration: one line per variant, the mean over seeds with a band of ± 1
// standard deviation, plain included. With nothing to draw it returns no
// rows and a warning.
func DiagnosticsFigure(runs []diagRun, ratios []experiment.Ratio) (Figure, string) {
	fig := Figure{Name: strings.TrimSuffix(DiagnosticsPNG, ".png"), PanelW: 4.6 * vg.Inch, PanelH: 3.3 * vg.Inch}
	for _, pn := range diagPanels(runs) {
		for _, ratio := range ratios {
			gs := diagGroups(runs, pn, func(r experiment.Ratio) bool { return r.P == ratio.P })
			if !slices.ContainsFunc(gs, func(g diagGroup) bool { return g.cell.Variant.Form() != experiment.NoRatio }) {
				continue // plain alone is no comparison at this ratio
			}
			row := FigureRow{Title: fmt.Sprintf("%s, dropout ratio %s", pn.title(), ratio), Legend: newLegend()}
			banded := false
			for _, t := range diagTitles {
				p := newPlot(t.title, "iteration", t.axis)
				p.X.Tick.Marker = intTicks{}
				p.X.Min, p.Y.Min = 0, 0
				for _, g := range gs {
					sts := diagStats(g.runs, t.q)
					l, sc, err := meanLine(sts, g.style)
					if err != nil {
						continue // no finite point to draw
					}
					if b := band(sts, g.style); b != nil {
						p.Add(b)
						banded = true
					}
					p.Add(l, sc)
					if len(row.Panels) == 0 {
						row.Legend.Add(fmt.Sprintf("%s (n=%d)", g.label, len(g.runs)), l, sc)
					}
				}
				row.Panels = append(row.Panels, p)
			}
			if banded {
				row.Legend.Add("band: 95 % interval of", bandKey())
				row.Legend.Add("  the mean over seeds")
			}
			fig.Rows = append(fig.Rows, row)
		}
	}
	if len(fig.Rows) == 0 {
		return fig, fmt.Sprintf("%s not written: no finished runs with diagnostics at dropout ratio %s", fig.Name, experiment.Ratios(ratios))
	}
	return fig, ""
}

// DiagnosticsVsRatio draws, per group of runs, the total relative deviation
// and noise at the end of training (see endFraction) against the ratio p,
// one line per variant (augmented per q) with ± std bars over seeds; plain,
// whose values are 0, is left out. With nothing to draw it returns no rows
// and a warning.
func DiagnosticsVsRatio(runs []diagRun) (Figure, string) {
	fig := Figure{Name: strings.TrimSuffix(DiagnosticsRatioPNG, ".png"), PanelW: 4.6 * vg.Inch, PanelH: 3.3 * vg.Inch}
	for _, pn := range diagPanels(runs) {
		gs := diagGroups(runs, pn, func(experiment.Ratio) bool { return true })
		gs = slices.DeleteFunc(gs, func(g diagGroup) bool { return g.cell.Variant.Form() == experiment.NoRatio })
		var ps []float64
		for _, g := range gs {
			if x := g.cell.Ratio.P; x > 0 && !slices.Contains(ps, x) {
				ps = append(ps, x)
			}
		}
		if len(ps) == 0 {
			continue
		}
		slices.Sort(ps)
		// One line per variant (and q), through its ratios.
		byLine := map[string][]diagGroup{}
		var lines []string
		for _, g := range gs {
			v := string(g.cell.Variant)
			if q := g.cell.Ratio.QText(); q != "" {
				v += " q=" + q
			}
			if _, ok := byLine[v]; !ok {
				lines = append(lines, v)
			}
			byLine[v] = append(byLine[v], g)
		}
		row := FigureRow{Title: pn.title() + ", at the end of training", Legend: newLegend()}
		for _, t := range diagTitles {
			p := newPlot(t.title, "dropout ratio p", t.axis)
			p.Y.Min = 0
			for _, name := range lines {
				var e errPoints
				groups := byLine[name]
				style := groups[0].style
				slices.SortFunc(groups, func(a, b diagGroup) int { return cmp.Compare(a.cell.Ratio.P, b.cell.Ratio.P) })
				nMin, nMax := math.MaxInt, 0
				for _, g := range groups {
					var vals []float64
					for _, r := range g.runs {
						if v := r.end(t.q); !math.IsNaN(v) && !math.IsInf(v, 0) {
							vals = append(vals, v)
						}
					}
					if len(vals) == 0 {
						continue
					}
					m, sd := meanStd(vals)
					if math.IsNaN(sd) {
						sd = 0
					}
					h := stat{mean: m, std: sd, n: len(vals)}.halfWidth()
					e.XYs = append(e.XYs, plotter.XY{X: g.cell.Ratio.P, Y: m})
					e.YErrors = append(e.YErrors, struct{ Low, High float64 }{h, h})
					nMin, nMax = min(nMin, len(vals)), max(nMax, len(vals))
				}
				if len(e.XYs) == 0 {
					continue
				}
				l, sc, err := errLine(p, e, style)
				if err != nil {
					continue
				}
				if len(row.Panels) == 0 {
					n := strconv.Itoa(nMax)
					if nMin < nMax {
						n = fmt.Sprintf("%d–%d", nMin, nMax)
					}
					row.Legend.Add(fmt.Sprintf("%s (n=%s)", name, n), l, sc)
				}
			}
			ratioAxis(p, ps, 0.1)
			row.Panels = append(row.Panels, p)
		}
		row.Legend.Add("bars: 95 % interval of the")
		row.Legend.Add("  mean over seeds")
		fig.Rows = append(fig.Rows, row)
	}
	if len(fig.Rows) == 0 {
		return fig, fig.Name + " not written: no finished runs with diagnostics and a dropout ratio"
	}
	return fig, ""
}

// meanStd returns the mean and sample standard deviation (NaN for one value).
func meanStd(v []float64) (mean, std float64) {
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
func NoiseTable(runs []diagRun) []NoiseRow {
	var rows []NoiseRow
	for _, pn := range diagPanels(runs) {
		for _, g := range diagGroups(runs, pn, func(experiment.Ratio) bool { return true }) {
			row := NoiseRow{Model: pn.model, Dataset: pn.dataset, Semantics: pn.semantics, Data: pn.data, Cell: g.cell, N: len(g.runs)}
			col := func(f func(diagRun) float64) (float64, float64) {
				v := make([]float64, len(g.runs))
				for i, r := range g.runs {
					v[i] = f(r)
				}
				return meanStd(v)
			}
			row.Noise, row.NoiseStd = col(func(r diagRun) float64 { return r.mean(qNoise, 0) })
			row.NoiseEnd, row.NoiseEndStd = col(func(r diagRun) float64 { return r.end(qNoise) })
			row.RelDevEnd, row.RelDevEndStd = col(func(r diagRun) float64 { return r.end(qRelDev) })
			row.Bias, row.BiasStd = col(diagRun.bias)
			row.Gap, row.GapStd = col(diagRun.gap)
			row.TestAcc, _ = col(func(r diagRun) float64 { return r.Summary.FinalTestAcc })
			rows = append(rows, row)
		}
	}
	return rows
}

// pm formats a mean ± std, or the mean alone for one run.
func pm(m, s float64) string {
	if math.IsNaN(m) {
		return "–"
	}
	if math.IsNaN(s) {
		return fmt.Sprintf("%.3g", m)
	}
	return fmt.Sprintf("%.3g ± %.2g", m, s)
}

// noiseMarkdown renders the gradient-noise table.
func noiseMarkdown(rows []NoiseRow, note string) string {
	var b strings.Builder
	b.WriteString("# Gradient noise and generalisation gap\n\n")
	if note != "" {
		b.WriteString(note + "\n\n")
	}
	for i, r := range rows {
		pn := panel{r.Model, r.Dataset, r.Semantics, r.Data}
		if i == 0 || pn.key() != (panel{rows[i-1].Model, rows[i-1].Dataset, rows[i-1].Semantics, ""}).key() {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "## %s\n\n", pn.title())
			b.WriteString("| variant | ratio | n | noise (run mean) | noise (end) | deviation (end) | bias | gap | test acc |\n|---|---|---|---|---|---|---|---|---|\n")
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %.4f |\n", r.Cell.Variant, cmp.Or(r.Cell.RatioText(), "–"), r.N,
			pm(r.Noise, r.NoiseStd), pm(r.NoiseEnd, r.NoiseEndStd), pm(r.RelDevEnd, r.RelDevEndStd), pm(r.Bias, r.BiasStd), pm(r.Gap, r.GapStd), r.TestAcc)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Noise: tr Cov(g) / ‖mean g‖² of the whole gradient over the diagnostics' mask draws on one batch "+
		"(0 for plain); deviation: ‖g − g0‖ / ‖g0‖, the step's gradient against the clean one (no masks). "+
		"Run mean: over every diagnosed iteration; end: over those in the last %g%% of training. "+
		"Bias: ‖E g − g0‖ / ‖g0‖, the variant's expected gradient against the clean one over the run: the K-draw mean's "+
		"squared distance from g0 less its sampling error tr Cov / K (0 when the sampling error explains it all). "+
		"Gap: final test loss − final training loss (the logged training loss, with the variant's masks). "+
		"Each value: mean ± sample std over seeds (n runs).\n", endFraction*100)
	if aug := augmentedNoiseMarkdown(rows); aug != "" {
		b.WriteString("\n" + aug)
	}
	return b.String()
}

// noiseCSV renders the gradient-noise table with one line per row.
func noiseCSV(rows []NoiseRow) string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 8, 64)
	}
	out := [][]string{{"model", "dataset", "gradient", "variant", "ratio", "n", "noise", "noise_std", "noise_end", "noise_end_std",
		"rel_dev_end", "rel_dev_end_std", "bias", "bias_std", "gap", "gap_std", "test_acc"}}
	for _, r := range rows {
		out = append(out, []string{r.Model, r.Dataset, r.Semantics, string(r.Cell.Variant), r.Cell.RatioText(), strconv.Itoa(r.N), f(r.Noise), f(r.NoiseStd),
			f(r.NoiseEnd), f(r.NoiseEndStd), f(r.RelDevEnd), f(r.RelDevEndStd), f(r.Bias), f(r.BiasStd), f(r.Gap), f(r.GapStd), f(r.TestAcc)})
	}
	return writeCSV(out)
}

// writeDiagnostics writes the diagnostics' figures and table through write
// when any finished run of c recorded diagnostics; otherwise nothing.
func writeDiagnostics(c *Collection, ratios []experiment.Ratio, note string, write func(name string, data []byte) error) error {
	runs := loadDiagnostics(c)
	if len(runs) == 0 {
		return nil
	}
	rows := NoiseTable(runs)
	if err := write(GradientNoiseMD, []byte(noiseMarkdown(rows, note))); err != nil {
		return err
	}
	if err := write(GradientNoiseCSV, []byte(noiseCSV(rows))); err != nil {
		return err
	}
	for _, f := range []func() (Figure, string){
		func() (Figure, string) { return DiagnosticsFigure(runs, ratios) },
		func() (Figure, string) { return DiagnosticsVsRatio(runs) },
	} {
		fig, warn := f()
		if warn != "" {
			c.Warnings = append(c.Warnings, warn)
		}
		if len(fig.Rows) == 0 {
			continue
		}
		pngData, svgData, err := fig.Render()
		if err != nil {
			return err
		}
		if err := write(fig.Name+".png", pngData); err != nil {
			return err
		}
		if err := write(fig.Name+".svg", svgData); err != nil {
			return err
		}
	}
	return nil
}
