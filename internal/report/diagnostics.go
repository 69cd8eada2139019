package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
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

// series returns quantity q of the run against iteration.
func series(d analysis.DiagRun, q string) plotter.XYs {
	xys := make(plotter.XYs, len(d.Its))
	for i, it := range d.Its {
		xys[i] = plotter.XY{X: float64(it), Y: d.Vals[q][i]}
	}
	return xys
}

// diagStats returns quantity q of runs against iteration, as Figure 1's
// seedStats does for the losses.
func diagStats(runs []analysis.DiagRun, q string) []stat {
	series := make([]map[int]float64, len(runs))
	for i, r := range runs {
		series[i] = make(map[int]float64, len(r.Its))
		for j, it := range r.Its {
			series[i][it] = r.Vals[q][j]
		}
	}
	return statsOver(series)
}

// diagTitles names the two quantities the figures draw.
var diagTitles = [...]struct{ q, title, axis string }{
	{analysis.QRelDev, "Deviation from the clean gradient", "‖g − g0‖ / ‖g0‖"},
	{analysis.QNoise, "Gradient noise over mask draws", "tr Cov(g) / ‖mean g‖²"},
}

// DiagnosticsFigure draws, for each group of runs with diagnostics and each
// ratio, a row of the total relative deviation and the total noise against
// iteration: one line per variant, the mean over seeds with a band of ± 1
// standard deviation, plain included. With nothing to draw it returns no
// rows and a warning.
func DiagnosticsFigure(runs []analysis.DiagRun, ratios []experiment.Ratio) (Figure, string) {
	fig := Figure{Name: strings.TrimSuffix(DiagnosticsPNG, ".png"), PanelW: 4.6 * vg.Inch, PanelH: 3.3 * vg.Inch}
	for _, pn := range analysis.DiagPanels(runs) {
		for _, ratio := range ratios {
			gs := analysis.DiagGroups(runs, pn, func(r experiment.Ratio) bool { return r.P == ratio.P })
			if !slices.ContainsFunc(gs, func(g analysis.DiagGroup) bool { return g.Cell.Variant.Form() != experiment.NoRatio }) {
				continue // plain alone is no comparison at this ratio
			}
			row := FigureRow{Title: fmt.Sprintf("%s, dropout ratio %s", pn.Title(), ratio), Legend: newLegend()}
			banded := false
			for _, t := range diagTitles {
				p := newPlot(t.title, "iteration", t.axis)
				p.X.Tick.Marker = intTicks{}
				p.X.Min, p.Y.Min = 0, 0
				for _, g := range gs {
					sts := diagStats(g.Runs, t.q)
					l, sc, err := meanLine(sts, g.Style)
					if err != nil {
						continue // no finite point to draw
					}
					if b := band(sts, g.Style); b != nil {
						p.Add(b)
						banded = true
					}
					p.Add(l, sc)
					if len(row.Panels) == 0 {
						row.Legend.Add(fmt.Sprintf("%s (n=%d)", g.Label, len(g.Runs)), l, sc)
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
func DiagnosticsVsRatio(runs []analysis.DiagRun) (Figure, string) {
	fig := Figure{Name: strings.TrimSuffix(DiagnosticsRatioPNG, ".png"), PanelW: 4.6 * vg.Inch, PanelH: 3.3 * vg.Inch}
	for _, pn := range analysis.DiagPanels(runs) {
		gs := analysis.DiagGroups(runs, pn, func(experiment.Ratio) bool { return true })
		gs = slices.DeleteFunc(gs, func(g analysis.DiagGroup) bool { return g.Cell.Variant.Form() == experiment.NoRatio })
		var ps []float64
		for _, g := range gs {
			if x := g.Cell.Ratio.P; x > 0 && !slices.Contains(ps, x) {
				ps = append(ps, x)
			}
		}
		if len(ps) == 0 {
			continue
		}
		slices.Sort(ps)
		// One line per variant (and q), through its ratios.
		byLine := map[string][]analysis.DiagGroup{}
		var lines []string
		for _, g := range gs {
			v := string(g.Cell.Variant)
			if q := g.Cell.Ratio.QText(); q != "" {
				v += " q=" + q
			}
			if _, ok := byLine[v]; !ok {
				lines = append(lines, v)
			}
			byLine[v] = append(byLine[v], g)
		}
		row := FigureRow{Title: pn.Title() + ", at the end of training", Legend: newLegend()}
		for _, t := range diagTitles {
			p := newPlot(t.title, "dropout ratio p", t.axis)
			p.Y.Min = 0
			for _, name := range lines {
				var e errPoints
				groups := byLine[name]
				style := groups[0].Style
				slices.SortFunc(groups, func(a, b analysis.DiagGroup) int { return cmp.Compare(a.Cell.Ratio.P, b.Cell.Ratio.P) })
				nMin, nMax := math.MaxInt, 0
				for _, g := range groups {
					var vals []float64
					for _, r := range g.Runs {
						if v := r.End(t.q); !math.IsNaN(v) && !math.IsInf(v, 0) {
							vals = append(vals, v)
						}
					}
					if len(vals) == 0 {
						continue
					}
					m, sd := analysis.MeanStd(vals)
					if math.IsNaN(sd) {
						sd = 0
					}
					h := stat{mean: m, std: sd, n: len(vals)}.halfWidth()
					e.XYs = append(e.XYs, plotter.XY{X: g.Cell.Ratio.P, Y: m})
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
func noiseMarkdown(rows []analysis.NoiseRow, note string) string {
	var b strings.Builder
	b.WriteString("# Gradient noise and generalisation gap\n\n")
	if note != "" {
		b.WriteString(note + "\n\n")
	}
	for i, r := range rows {
		pn := analysis.Panel{Model: r.Model, Dataset: r.Dataset, Semantics: r.Semantics, Data: r.Data}
		if i == 0 || pn.Key() != (analysis.Panel{Model: rows[i-1].Model, Dataset: rows[i-1].Dataset, Semantics: rows[i-1].Semantics}).Key() {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "## %s\n\n", pn.Title())
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
		"Each value: mean ± sample std over seeds (n runs).\n", analysis.EndFraction*100)
	if aug := augmentedNoiseMarkdown(rows); aug != "" {
		b.WriteString("\n" + aug)
	}
	return b.String()
}

// noiseCSV renders the gradient-noise table with one line per row.
func noiseCSV(rows []analysis.NoiseRow) string {
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
func writeDiagnostics(c *analysis.Collection, ratios []experiment.Ratio, note string, write func(name string, data []byte) error) error {
	runs := analysis.LoadDiagnostics(c)
	if len(runs) == 0 {
		return nil
	}
	rows := analysis.NoiseTable(runs)
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
