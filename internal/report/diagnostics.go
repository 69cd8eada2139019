package report

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

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
	qRelDev = "rel_dev"
	qNoise  = "noise"
)

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
			if row.Tensor != results.TotalTensor || (row.Quantity != qRelDev && row.Quantity != qNoise) {
				continue
			}
			if n := len(d.its); n == 0 || d.its[n-1] != row.Iteration {
				d.its = append(d.its, row.Iteration)
				for _, q := range []string{qRelDev, qNoise} {
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
	label, ratio string
	style        int
	runs         []diagRun
}

// diagGroups groups the runs of panel pn by variant and ratio, plain first;
// keep filters the non-plain groups by their ratio.
func diagGroups(runs []diagRun, pn panel, keep func(ratio string) bool) []diagGroup {
	var gs []diagGroup
	for _, r := range runs {
		s := r.Summary
		if !pn.member(r.Run) {
			continue
		}
		label, ratio := s.Variant, ""
		if s.Variant != "plain" {
			ratio = canonRatio(s.Ratio)
			if !keep(ratio) {
				continue
			}
			label += " " + ratio
		}
		i := slices.IndexFunc(gs, func(g diagGroup) bool { return g.label == label })
		if i < 0 {
			gs = append(gs, diagGroup{label: label, ratio: ratio, style: variantRank(s.Variant)})
			i = len(gs) - 1
		}
		gs[i].runs = append(gs[i].runs, r)
	}
	slices.SortFunc(gs, func(a, b diagGroup) int {
		return cmp.Or(cmp.Compare(a.style, b.style), cmp.Compare(ratioP(b.ratio), ratioP(a.ratio)), strings.Compare(a.label, b.label))
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

// diagBand is a curve's mean over seeds with the lowest and highest seed.
type diagBand struct{ mean, lo, hi plotter.XYs }

// meanBand returns quantity q of the runs against iteration at the
// iterations all of them diagnosed, leaving out non-finite values.
func meanBand(runs []diagRun, q string) diagBand {
	per := map[int][]float64{}
	for _, r := range runs {
		for i, it := range r.its {
			per[it] = append(per[it], r.vals[q][i])
		}
	}
	its := make([]int, 0, len(per))
	for it, v := range per {
		if len(v) == len(runs) {
			its = append(its, it)
		}
	}
	slices.Sort(its)
	var b diagBand
	for _, it := range its {
		v := per[it]
		if slices.ContainsFunc(v, func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }) {
			continue
		}
		var s float64
		for _, x := range v {
			s += x
		}
		x := float64(it)
		b.mean = append(b.mean, plotter.XY{X: x, Y: s / float64(len(v))})
		b.lo = append(b.lo, plotter.XY{X: x, Y: slices.Min(v)})
		b.hi = append(b.hi, plotter.XY{X: x, Y: slices.Max(v)})
	}
	return b
}

// addBand draws b on p in style i: the band between the lowest and highest
// seed, translucent, under the mean's line.
func addBand(p *plot.Plot, b diagBand, i int, label string) {
	if len(b.mean) == 0 {
		return
	}
	if len(b.mean) > 1 && !slices.Equal(b.lo, b.hi) {
		poly := append(slices.Clone(b.lo), b.hi...)
		slices.Reverse(poly[len(b.lo):])
		if pg, err := plotter.NewPolygon(poly); err == nil {
			c := color.NRGBAModel.Convert(plotutil.Color(i)).(color.NRGBA)
			c.A = 60
			pg.Color, pg.LineStyle.Width = c, 0
			p.Add(pg)
		}
	}
	l, s, err := plotter.NewLinePoints(b.mean)
	if err != nil {
		return
	}
	style(l, i)
	s.Color, s.Shape, s.Radius = plotutil.Color(i), plotutil.Shape(i), vg.Points(2)
	p.Add(l, s)
	p.Legend.Add(label, l, s)
}

// diagTitles names the two quantities the figures draw.
var diagTitles = [...]struct{ q, title, axis string }{
	{qRelDev, "Deviation from the clean gradient", "|g − g0| / |g0|"},
	{qNoise, "Gradient noise over mask draws", "tr Cov(g) / |mean g|²"},
}

// DiagnosticsFigure draws, for each group of runs with diagnostics and each
// ratio, the total relative deviation and the total noise against
// iteration: one line per variant (mean over seeds) with the band between
// the lowest and the highest seed, plain included.
func DiagnosticsFigure(runs []diagRun, ratios []string) [][]*plot.Plot {
	var rows [][]*plot.Plot
	for _, pn := range diagPanels(runs) {
		for _, ratio := range ratios {
			p0 := ratioP(ratio)
			gs := diagGroups(runs, pn, func(r string) bool { return ratioP(r) == p0 })
			if !slices.ContainsFunc(gs, func(g diagGroup) bool { return g.style != 0 }) {
				continue // plain alone is no comparison at this ratio
			}
			var row []*plot.Plot
			for _, t := range diagTitles {
				p := newPlot(fmt.Sprintf("%s\n%s, ratio %s", t.title, pn.title(), canonRatio(ratio)), "iteration", t.axis)
				top := 0.0
				for _, g := range gs {
					b := meanBand(g.runs, t.q)
					addBand(p, b, g.style, fmt.Sprintf("%s (n=%d)", g.label, len(g.runs)))
					for _, xy := range b.hi {
						top = max(top, xy.Y)
					}
				}
				headroom(p, top)
				row = append(row, p)
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		why := "no finished runs with diagnostics at ratio " + strings.Join(ratios, ", ")
		rows = [][]*plot.Plot{{emptyPlot(diagTitles[0].title, why), emptyPlot(diagTitles[1].title, why)}}
	}
	return rows
}

// DiagnosticsVsRatio draws, per group of runs, the total relative deviation
// and noise at the end of training (see endFraction) against the ratio p,
// one line per variant (augmented per q) with ± std bars over seeds; plain,
// whose values are 0, is left out.
func DiagnosticsVsRatio(runs []diagRun) [][]*plot.Plot {
	var rows [][]*plot.Plot
	for _, pn := range diagPanels(runs) {
		gs := diagGroups(runs, pn, func(string) bool { return true })
		gs = slices.DeleteFunc(gs, func(g diagGroup) bool { return g.style == 0 })
		var ps []float64
		for _, g := range gs {
			if x := ratioP(g.ratio); x > 0 && !slices.Contains(ps, x) {
				ps = append(ps, x)
			}
		}
		if len(ps) == 0 {
			continue
		}
		slices.Sort(ps)
		var row []*plot.Plot
		for _, t := range diagTitles {
			p := newPlot(fmt.Sprintf("%s at the end of training\n%s", t.title, pn.title()), "dropout ratio p", t.axis)
			p.Legend.Top, p.Legend.Left = true, true
			top := 0.0
			// One line per variant (and q), through its ratios.
			byLine := map[string][]diagGroup{}
			var lines []string
			for _, g := range gs {
				v := strings.Fields(g.label)[0]
				if _, q, ok := strings.Cut(g.ratio, "/"); ok {
					v += " q=" + q
				}
				if _, ok := byLine[v]; !ok {
					lines = append(lines, v)
				}
				byLine[v] = append(byLine[v], g)
			}
			for _, name := range lines {
				var e errPoints
				style0 := byLine[name][0].style
				groups := byLine[name]
				slices.SortFunc(groups, func(a, b diagGroup) int { return cmp.Compare(ratioP(a.ratio), ratioP(b.ratio)) })
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
					top = max(top, m+sd)
					e.XYs = append(e.XYs, plotter.XY{X: ratioP(g.ratio), Y: m})
					e.YErrors = append(e.YErrors, struct{ Low, High float64 }{sd, sd})
					nMin, nMax = min(nMin, len(vals)), max(nMax, len(vals))
				}
				if len(e.XYs) == 0 {
					continue
				}
				l, s, err := plotter.NewLinePoints(e)
				if err != nil {
					continue
				}
				style(l, style0)
				s.Color, s.Shape = plotutil.Color(style0), plotutil.Shape(style0)
				p.Add(l, s)
				if eb, err := plotter.NewYErrorBars(e); err == nil {
					eb.Color = plotutil.Color(style0)
					p.Add(eb)
				}
				n := strconv.Itoa(nMax)
				if nMin < nMax {
					n = fmt.Sprintf("%d–%d", nMin, nMax)
				}
				p.Legend.Add(fmt.Sprintf("%s (n=%s)", name, n), l, s)
			}
			ratioAxis(p, ps, 0.1)
			headroom(p, top)
			row = append(row, p)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		why := "no finished runs with diagnostics and a dropout ratio"
		rows = [][]*plot.Plot{{emptyPlot(diagTitles[0].title, why), emptyPlot(diagTitles[1].title, why)}}
	}
	return rows
}

// headroom starts p's y axis at 0 and leaves room above the highest value
// top for the legend, which sits at the top.
func headroom(p *plot.Plot, top float64) {
	if top > 0 && !math.IsInf(top, 0) {
		p.Y.Min, p.Y.Max = 0, top*1.35
	}
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
	Model, Dataset, Semantics, Variant, Ratio string
	N                                         int
	Noise, NoiseStd                           float64 // mean over the run's diagnosed iterations, then over seeds
	NoiseEnd, NoiseEndStd                     float64 // at the end of training
	RelDevEnd, RelDevEndStd                   float64
	Gap, GapStd                               float64 // final test loss − final training loss
	TestAcc                                   float64
}

// NoiseTable returns a row per panel, variant and ratio of the runs with diagnostics.
func NoiseTable(runs []diagRun) []NoiseRow {
	var rows []NoiseRow
	for _, pn := range diagPanels(runs) {
		for _, g := range diagGroups(runs, pn, func(string) bool { return true }) {
			row := NoiseRow{Model: pn.model, Dataset: pn.dataset, Semantics: pn.semantics, Variant: strings.Fields(g.label)[0], Ratio: g.ratio, N: len(g.runs)}
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
			row.Gap, row.GapStd = col(diagRun.gap)
			row.TestAcc, _ = col(func(r diagRun) float64 { return r.Summary.FinalTestAcc })
			rows = append(rows, row)
		}
	}
	return rows
}

// pm formats a mean ± std, or the mean alone for one run.
func pm(m, s float64) string {
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
		pn := panel{r.Model, r.Dataset, r.Semantics}
		if i == 0 || pn != (panel{rows[i-1].Model, rows[i-1].Dataset, rows[i-1].Semantics}) {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "## %s\n\n", pn.title())
			b.WriteString("| variant | ratio | n | noise (run mean) | noise (end) | deviation (end) | gap | test acc |\n|---|---|---|---|---|---|---|---|\n")
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %.4f |\n", r.Variant, cmp.Or(r.Ratio, "–"), r.N,
			pm(r.Noise, r.NoiseStd), pm(r.NoiseEnd, r.NoiseEndStd), pm(r.RelDevEnd, r.RelDevEndStd), pm(r.Gap, r.GapStd), r.TestAcc)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Noise: tr Cov(g) / ‖mean g‖² of the whole gradient over the diagnostics' mask draws on one batch "+
		"(0 for plain); deviation: ‖g − g0‖ / ‖g0‖, the step's gradient against the clean one (no masks). "+
		"Run mean: over every diagnosed iteration; end: over those in the last %g%% of training. "+
		"Gap: final test loss − final training loss (the logged training loss, with the variant's masks). "+
		"Each value: mean ± sample std over seeds (n runs).\n", endFraction*100)
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
		"rel_dev_end", "rel_dev_end_std", "gap", "gap_std", "test_acc"}}
	for _, r := range rows {
		out = append(out, []string{r.Model, r.Dataset, r.Semantics, r.Variant, r.Ratio, strconv.Itoa(r.N), f(r.Noise), f(r.NoiseStd),
			f(r.NoiseEnd), f(r.NoiseEndStd), f(r.RelDevEnd), f(r.RelDevEndStd), f(r.Gap), f(r.GapStd), f(r.TestAcc)})
	}
	return writeCSV(out)
}

// writeDiagnostics writes the diagnostics' figures and table through write
// when any finished run of c recorded diagnostics; otherwise nothing.
func writeDiagnostics(c *Collection, ratios []string, note string, write func(name string, data []byte) error) error {
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
	for _, fig := range []struct {
		png, svg string
		rows     [][]*plot.Plot
	}{
		{DiagnosticsPNG, DiagnosticsSVG, DiagnosticsFigure(runs, ratios)},
		{DiagnosticsRatioPNG, DiagnosticsRatioSVG, DiagnosticsVsRatio(runs)},
	} {
		pngData, svgData, err := renderGrid(fig.rows, 6*vg.Inch, 4*vg.Inch)
		if err != nil {
			return err
		}
		if err := write(fig.png, pngData); err != nil {
			return err
		}
		if err := write(fig.svg, svgData); err != nil {
			return err
		}
	}
	return nil
}
