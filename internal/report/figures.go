package report

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/stats"
)

// Figure is one figure file: rows of panels, each row with a title above it
// and a legend to its right, outside the data.
type Figure struct {
	Name           string // file name without extension, e.g. figure1
	Rows           []FigureRow
	PanelW, PanelH vg.Length
}

// FigureRow is one row of a figure.
type FigureRow struct {
	Title  string
	Panels []*plot.Plot
	Legend plot.Legend
}

// Figures returns the report's figures drawn from runs: Figure 1 at each of
// ratios, test accuracy against ratio, and the curves of runs that differ
// in other settings side by side (SettingsFigure). A figure with nothing
// to draw is left out, with a warning saying why (none for the last: most
// reports have no such runs). Unfinished runs among runs are drawn as
// partial curves and left out of every statistic.
func Figures(runs []analysis.Run, ratios []experiment.Ratio) (figs []Figure, warnings []string) {
	for _, f := range []func() (Figure, string){
		func() (Figure, string) { return Figure1(runs, ratios) },
		func() (Figure, string) { return AccuracyVsRatio(runs) },
		func() (Figure, string) { return SettingsFigure(runs), "" },
	} {
		fig, warn := f()
		if warn != "" {
			warnings = append(warnings, warn)
		}
		if len(fig.Rows) > 0 {
			figs = append(figs, fig)
		}
	}
	return figs, warnings
}

// figureGroups returns the groups (as the tables form them: runs that
// differ only in variant, ratio, semantics and seed) that hold dropout runs.
func figureGroups(runs []analysis.Run) []*analysis.Group {
	groups, _ := analysis.Groups(runs)
	return slices.DeleteFunc(groups, func(g *analysis.Group) bool { return len(g.Cells) == 0 })
}

// groupTitle names a group's network and data for a figure: "ConvNet-Quick
// on CIFAR-10 (JPEG image folder)", with what sets it apart from the other
// groups of its data (the tables' label).
func groupTitle(g *analysis.Group) string {
	var s results.Summary
	for _, c := range g.All() {
		if rs := append(slices.Clone(c.Runs), c.Diverged...); len(rs) > 0 {
			s = rs[0].Summary
			break
		}
	}
	t := analysis.ModelTitle(g.Model) + " on " + analysis.DataTitle(s)
	if g.Label != "" {
		t += ", " + g.Label
	}
	return t
}

// withMetrics returns the runs that have metrics to draw.
func withMetrics(runs []analysis.Run) []analysis.Run {
	return slices.DeleteFunc(slices.Clone(runs), func(r analysis.Run) bool { return len(r.Metrics) == 0 })
}

// A curve's style is its variant's rank in the variant table
// (experiment.Variant.Rank), which fixes its colour, marker and legend
// position across figures.

// palette is the variant table's colours in its order (Okabe and Ito's
// colour-blind safe palette), then the rest of that palette (orange, sky
// blue and yellow) for other styles.
var palette = func() []color.RGBA {
	var p []color.RGBA
	for _, s := range experiment.VariantSpecs() {
		p = append(p, s.Colour)
	}
	for _, c := range []color.RGBA{{0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0xf0, 0xe4, 0x42, 0xff}} {
		if !slices.Contains(p, c) {
			p = append(p, c)
		}
	}
	return p
}()

// markers tell the variants apart in print without colour: filled shapes
// for measured values (hollow ones for the paper's), in the variant table's order.
var markers = []draw.GlyphDrawer{
	draw.CrossGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.CircleGlyph{}, draw.PlusGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.CircleGlyph{},
}

func colorOf(style int) color.RGBA { return palette[style%len(palette)] }

// bandColor is the translucent version of a curve's colour for its band.
func bandColor(style int) color.NRGBA {
	c := colorOf(style)
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: 0x38}
}

// curve is a line of a figure with its label and style index.
type curve struct {
	label   string
	style   int
	runs    []analysis.Run
	partial bool // one unfinished run, drawn dashed and never averaged with others
}

// lossCurves returns the curves of group g under semantics sem at ratio
// p0: plain, and each dropout cell whose p is p0, with their finished runs
// that have metrics, then each unfinished run of those cells on its own.
func lossCurves(g *analysis.Group, sem experiment.Semantics, p0 float64) []curve {
	var cs []curve
	var cells []*analysis.CellRuns
	if g.Plain != nil {
		cells = append(cells, g.Plain)
	}
	for _, c := range g.Cells {
		if c.Semantics == sem && c.Ratio.P == p0 {
			cells = append(cells, c)
		}
	}
	cells = withStandard(g, sem, cells, func(c *analysis.CellRuns) bool { return c.Ratio.P == p0 })
	for _, c := range cells {
		label := string(c.Variant)
		if c.Variant.Form() != experiment.NoRatio {
			label += " " + c.Ratio.String()
		}
		if rs := withMetrics(c.Runs); len(rs) > 0 {
			cs = append(cs, curve{label: fmt.Sprintf("%s (n=%d)", label, len(rs)), style: c.Variant.Rank(), runs: rs})
		}
		for _, r := range withMetrics(c.Partial) {
			cs = append(cs, curve{label: fmt.Sprintf("%s s%d, %s", label, r.Summary.Seed, progressText(r)),
				style: c.Variant.Rank(), runs: []analysis.Run{r}, partial: true})
		}
	}
	return cs
}

// withStandard adds to cells, drawn under semantics sem, the cells of the
// other semantics that keep picks of a variant whose two gradient rules
// are one computation (standard dropout), where sem has none of its own at
// their ratio: the tables compare an elementwise cell with standard's
// layer runs, and the figures draw them too.
func withStandard(g *analysis.Group, sem experiment.Semantics, cells []*analysis.CellRuns, keep func(*analysis.CellRuns) bool) []*analysis.CellRuns {
	for _, c := range g.Cells {
		if !c.Variant.SemanticsInvariant() || c.Semantics == sem || !keep(c) {
			continue
		}
		if g.CellOrAlike(experiment.NewCell(c.Variant, c.Ratio, sem)) == c && !slices.Contains(cells, c) {
			cells = append(cells, c)
		}
	}
	slices.SortStableFunc(cells, func(a, b *analysis.CellRuns) int { return cmp.Compare(a.Variant.Rank(), b.Variant.Rank()) })
	return cells
}

// partialDashes is the dash pattern of an unfinished run's curve.
func partialDashes() []vg.Length { return []vg.Length{vg.Points(2), vg.Points(2)} }

// stat is the mean and sample standard deviation of a metric over n seeds at one iteration.
type stat struct {
	x, mean, std float64 // std is 0 for one run
	n            int
}

// halfWidth is the half-width of the Student-t interval of the mean (the
// tables' interval, at stats.Level); 0 for one run.
func (s stat) halfWidth() float64 {
	if s.n < 2 || s.std == 0 {
		return 0
	}
	return stats.TQuantile(1-(1-stats.Level)/2, float64(s.n-1)) * s.std / math.Sqrt(float64(s.n))
}

// seedStats returns, at each iteration that every run recorded with a
// finite value, the mean and standard deviation of metric over the runs.
func seedStats(runs []analysis.Run, metric func(results.Metric) float64) []stat {
	series := make([]map[int]float64, len(runs))
	for i, r := range runs {
		series[i] = make(map[int]float64, len(r.Metrics))
		for _, m := range r.Metrics {
			series[i][m.Iteration] = metric(m)
		}
	}
	return statsOver(series)
}

// statsOver returns, at each iteration that every series has with a finite
// value, the mean and sample standard deviation (0 for one series) over them.
func statsOver(series []map[int]float64) []stat {
	vals := map[int][]float64{}
	for _, sr := range series {
		for it, v := range sr {
			vals[it] = append(vals[it], v)
		}
	}
	var its []int
	for it, vs := range vals {
		if len(vs) == len(series) && !slices.ContainsFunc(vs, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }) {
			its = append(its, it)
		}
	}
	slices.Sort(its)
	out := make([]stat, len(its))
	for i, it := range its {
		m, sd := analysis.MeanStd(vals[it])
		if math.IsNaN(sd) {
			sd = 0
		}
		out[i] = stat{x: float64(it), mean: m, std: sd, n: len(vals[it])}
	}
	return out
}

// meanLine draws the mean of stats in the curve's style, with a marker at each evaluation.
func meanLine(sts []stat, style int) (*plotter.Line, *plotter.Scatter, error) {
	xys := make(plotter.XYs, len(sts))
	for i, s := range sts {
		xys[i] = plotter.XY{X: s.x, Y: s.mean}
	}
	l, sc, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, nil, err
	}
	l.Color, l.Width = colorOf(style), vg.Points(1.5)
	sc.Color, sc.Shape, sc.Radius = colorOf(style), markers[style%len(markers)], vg.Points(2.2)
	return l, sc, nil
}

// band is the shaded 95 % interval of the mean of stats (the tables'
// interval); nil when it has no width anywhere (one seed).
func band(sts []stat, style int) *plotter.Polygon {
	if !slices.ContainsFunc(sts, func(s stat) bool { return s.halfWidth() > 0 }) {
		return nil
	}
	xys := make(plotter.XYs, 0, 2*len(sts))
	for _, s := range sts {
		xys = append(xys, plotter.XY{X: s.x, Y: s.mean + s.halfWidth()})
	}
	for i := len(sts) - 1; i >= 0; i-- {
		xys = append(xys, plotter.XY{X: sts[i].x, Y: sts[i].mean - sts[i].halfWidth()})
	}
	pg, err := plotter.NewPolygon(xys)
	if err != nil {
		return nil
	}
	pg.Color, pg.LineStyle.Width = bandColor(style), 0
	return pg
}

// bandKey is the legend entry that explains the shading.
func bandKey() *plotter.Polygon {
	pg, _ := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
	pg.Color, pg.LineStyle.Width = color.NRGBA{A: 0x38}, 0
	return pg
}

// intTicks marks iterations with whole numbers at a round step (1, 2 or 5 × 10^k).
type intTicks struct{}

// Ticks implements plot.Ticker.
func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if !(span > 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(math.Round(lo), 'f', 0, 64)}}
	}
	// The smallest round step that gives at most six intervals.
	step := math.Inf(1)
	for _, m := range []float64{1, 2, 5} {
		for e := 0.0; e < 12; e++ {
			if s := m * math.Pow(10, e); span/s <= 6 {
				step = min(step, s)
				break
			}
		}
	}
	var ticks []plot.Tick
	minor := step / 2
	if minor < 1 || minor != math.Trunc(minor) {
		minor = step
	}
	for v := math.Ceil(lo/minor) * minor; v <= hi+1e-9; v += minor {
		t := plot.Tick{Value: v}
		if math.Mod(v, step) == 0 {
			t.Label = strconv.FormatFloat(v, 'f', 0, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// roundTicks labels an axis at round values (1, 2 or 5 × 10^k), three to
// six of them, with as many decimals as the step needs.
type roundTicks struct{}

// Ticks implements plot.Ticker.
func (roundTicks) Ticks(lo, hi float64) []plot.Tick {
	step := roundStep(lo, hi)
	if !(step > 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if v == 0 {
			v = 0 // not −0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
	}
	return ticks
}

// roundStep is the smallest step of 1, 2 or 5 × 10^k that cuts [lo, hi]
// into at most five intervals.
func roundStep(lo, hi float64) float64 {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return 0
	}
	base := math.Pow(10, math.Floor(math.Log10(span/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(m*base) <= 5 {
			return m * base
		}
	}
	return 10 * base
}

// newPlot returns a panel with the report's common look.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Y.Tick.Marker = roundTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// newLegend returns a legend in the report's look.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.Left, l.Top = true, true
	l.TextStyle.Font.Size = vg.Points(10)
	l.Padding = vg.Points(3)
	return l
}

// lossMetrics are the panels of Figure 1's rows and of the settings figure.
var lossMetrics = []curveMetric{
	{"Training loss (running mean, with the masks)", "training loss", func(m results.Metric) float64 { return m.TrainLoss }},
	{"Test loss", "test loss", func(m results.Metric) float64 { return m.TestLoss }},
	{"Test accuracy", "test accuracy", func(m results.Metric) float64 { return m.TestAcc }},
}

// curveMetric is one panel of a row of curves: its title, y label and value.
type curveMetric struct {
	title, y string
	f        func(results.Metric) float64
}

// Figure1 draws Figure 1: for each group of runs and each ratio, a row of
// the training loss (running mean, measured with each variant's masks),
// the test loss and the test accuracy against iteration, one line per
// variant: the mean over seeds with a band of its 95 % interval, plain
// included; the panels of a metric share one y range across rows. Like the paper's it shows the
// ConvNet-Quick runs when there are any, else every group. With nothing to
// draw it returns no rows and a warning.
func Figure1(runs []analysis.Run, ratios []experiment.Ratio) (Figure, string) {
	fig := Figure{Name: strings.TrimSuffix(Figure1PNG, ".png"), PanelW: 4.2 * vg.Inch, PanelH: 3.3 * vg.Inch}
	groups := figureGroups(runs)
	if slices.ContainsFunc(groups, func(g *analysis.Group) bool { return g.Model == analysis.Table1Model }) {
		groups = slices.DeleteFunc(groups, func(g *analysis.Group) bool { return g.Model != analysis.Table1Model })
	}
	type rowKey struct {
		g     *analysis.Group
		sem   experiment.Semantics
		ratio experiment.Ratio
	}
	var keys []rowKey
	for _, g := range groups {
		for _, sem := range g.Semantics() {
			for _, ratio := range ratios {
				keys = append(keys, rowKey{g, sem, ratio})
			}
		}
	}
	first := 0 // the first row of the current group
	for i, k := range keys {
		if i > 0 && k.g != keys[i-1].g {
			shareY(fig.Rows[first:])
			first = len(fig.Rows)
		}
		curves := lossCurves(k.g, k.sem, k.ratio.P)
		if !slices.ContainsFunc(curves, func(c curve) bool { return c.style != experiment.Plain.Rank() }) {
			continue // plain alone is no comparison at this ratio
		}
		title := fmt.Sprintf("%s, %s gradient, dropout ratio %s", groupTitle(k.g), k.sem, k.ratio)
		fig.Rows = append(fig.Rows, curveRow(title, curves, lossMetrics))
	}
	shareY(fig.Rows[first:])
	if len(fig.Rows) == 0 {
		return fig, fmt.Sprintf("%s not written: no finished run with metrics at dropout ratio %s%s", fig.Name, experiment.Ratios(ratios), ratiosHint(runs))
	}
	return fig, ""
}

// shareY gives the panels in each column of rows one y range, the union
// of theirs, so rows that are read against each other are drawn to one
// scale.
func shareY(rows []FigureRow) {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r.Panels))
	}
	for j := 0; j < cols; j++ {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range rows {
			if j < len(r.Panels) {
				lo, hi = min(lo, r.Panels[j].Y.Min), max(hi, r.Panels[j].Y.Max)
			}
		}
		for _, r := range rows {
			if j < len(r.Panels) && lo <= hi {
				r.Panels[j].Y.Min, r.Panels[j].Y.Max = lo, hi
			}
		}
	}
}

// ratiosHint names the ratios the finished non-plain runs do have.
func ratiosHint(runs []analysis.Run) string {
	var rs []experiment.Ratio
	for _, r := range runs {
		if r.Cell.Variant.Form() == experiment.NoRatio || r.Summary.Status != results.StatusFinished || len(r.Metrics) == 0 {
			continue
		}
		if p := r.Cell.Ratio.OfP(); !slices.Contains(rs, p) {
			rs = append(rs, p)
		}
	}
	if len(rs) == 0 {
		return " (none has finished yet)"
	}
	slices.SortFunc(rs, func(a, b experiment.Ratio) int { return cmp.Compare(b.P, a.P) })
	return " (the runs have " + experiment.Ratios(rs) + "; pass one with --ratio)"
}

// AccuracyVsRatio draws one row per group and gradient semantics: final
// test accuracy against p per variant (mean with the tables' 95 % interval as bars),
// plain as a horizontal line, and the paper's values dashed in the
// variant's colour where the runs are comparable with them (the full data
// set under the paper's protocol, as the tables decide). With nothing to
// draw it returns no rows and a warning.
func AccuracyVsRatio(runs []analysis.Run) (Figure, string) {
	fig := Figure{Name: strings.TrimSuffix(AccuracyPNG, ".png"), PanelW: 5.5 * vg.Inch, PanelH: 3.8 * vg.Inch}
	for _, g := range figureGroups(runs) {
		paperOK, _ := analysis.PaperBasis(g)
		for _, sem := range g.Semantics() {
			if row, ok := accuracyRow(g, sem, paperOK); ok {
				fig.Rows = append(fig.Rows, row)
			}
		}
	}
	if len(fig.Rows) == 0 {
		return fig, fig.Name + " not written: no finished run with a dropout ratio (only plain runs, or none finished)"
	}
	return fig, ""
}

// accuracyRow draws the accuracy of group g's cells of semantics sem against p.
func accuracyRow(g *analysis.Group, sem experiment.Semantics, paperOK bool) (FigureRow, bool) {
	p := newPlot("Final test accuracy against dropout ratio", "dropout ratio p", "test accuracy")
	row := FigureRow{Title: fmt.Sprintf("%s, %s gradient", groupTitle(g), sem), Legend: newLegend()}
	byLabel := map[string][]*analysis.CellRuns{} // by variant (augmented with its q)
	var labels []string
	var ps []float64
	var own []*analysis.CellRuns
	for _, c := range g.Cells {
		if c.Semantics == sem {
			own = append(own, c)
		}
	}
	for _, c := range withStandard(g, sem, own, func(*analysis.CellRuns) bool { return true }) {
		if c.Acc.N == 0 {
			continue
		}
		label := string(c.Variant)
		if q := c.Ratio.QText(); q != "" {
			label += " q=" + q
		}
		if _, ok := byLabel[label]; !ok {
			labels = append(labels, label)
		}
		byLabel[label] = append(byLabel[label], c)
		if x := c.Ratio.P; x > 0 && !slices.Contains(ps, x) {
			ps = append(ps, x)
		}
	}
	if len(ps) == 0 {
		return row, false
	}
	var paperKeys []string
	paperThumbs := map[string][]plot.Thumbnailer{}
	for _, label := range labels {
		cells := byLabel[label]
		style := cells[0].Variant.Rank()
		var pts errPoints
		n := 0
		slices.SortFunc(cells, func(a, b *analysis.CellRuns) int { return cmp.Compare(a.Ratio.P, b.Ratio.P) })
		for _, c := range cells {
			lo, hi := c.Acc.Mean-c.Acc.Low, c.Acc.High-c.Acc.Mean // the tables' 95 % interval
			if math.IsNaN(lo) || math.IsNaN(hi) {
				lo, hi = 0, 0
			}
			pts.XYs = append(pts.XYs, plotter.XY{X: c.Ratio.P, Y: c.Acc.Mean})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{lo, hi})
			n = max(n, c.Acc.N)
		}
		l, sc, err := errLine(p, pts, style)
		if err != nil {
			continue
		}
		row.Legend.Add(fmt.Sprintf("%s (n=%d)", label, n), l, sc)
		if !paperOK {
			continue
		}
		paper := paperLine(g, cells[0], sem)
		if len(paper) == 0 {
			continue
		}
		pl, psc, err := plotter.NewLinePoints(paper)
		if err != nil {
			continue
		}
		pl.Color, pl.Width, pl.Dashes = colorOf(style), vg.Points(1.2), paperDashes()
		psc.Color, psc.Shape, psc.Radius = colorOf(style), hollow(style), vg.Points(2.5)
		p.Add(pl, psc)
		key := label + ", paper"
		paperKeys = append(paperKeys, key)
		paperThumbs[key] = []plot.Thumbnailer{pl, psc}
		for _, xy := range paper {
			if !slices.Contains(ps, xy.X) {
				ps = append(ps, xy.X)
			}
		}
	}
	slices.Sort(ps)
	if g.Plain != nil && g.Plain.Acc.N > 0 {
		if l, err := plotter.NewLine(plotter.XYs{{X: ps[0], Y: g.Plain.Acc.Mean}, {X: ps[len(ps)-1], Y: g.Plain.Acc.Mean}}); err == nil {
			l.Color, l.Width = colorOf(0), vg.Points(1.5)
			p.Add(l)
			row.Legend.Add(fmt.Sprintf("plain (n=%d)", g.Plain.Acc.N), l)
		}
		if y := analysis.PaperValue(g, g.Plain.Cell); paperOK && !math.IsNaN(y) {
			if l, err := plotter.NewLine(plotter.XYs{{X: ps[0], Y: y}, {X: ps[len(ps)-1], Y: y}}); err == nil {
				l.Color, l.Width, l.Dashes = colorOf(0), vg.Points(1.2), paperDashes()
				p.Add(l)
				paperKeys = append(paperKeys, "plain, paper")
				paperThumbs["plain, paper"] = []plot.Thumbnailer{l}
			}
		}
	}
	for _, k := range paperKeys {
		row.Legend.Add(k, paperThumbs[k]...)
	}
	row.Legend.Add("bars: 95 % interval of the")
	row.Legend.Add("  mean over seeds (as the tables)")
	ratioAxis(p, ps, 0.15)
	// An accuracy lies in [0, 1]; a single point would get an axis of ±1 around it.
	if p.Y.Max-p.Y.Min < 0.01 {
		p.Y.Min, p.Y.Max = p.Y.Min-0.05, p.Y.Max+0.05
	}
	p.Y.Min, p.Y.Max = max(p.Y.Min, 0), min(p.Y.Max, 1)
	row.Panels = []*plot.Plot{p}
	return row, true
}

// hollow is the open marker of the paper's values of a variant.
func hollow(style int) draw.GlyphDrawer {
	switch markers[style%len(markers)].(type) {
	case draw.BoxGlyph:
		return draw.SquareGlyph{}
	case draw.PyramidGlyph:
		return draw.TriangleGlyph{}
	}
	return draw.RingGlyph{}
}

// paperDashes is the dash pattern of the paper's values.
func paperDashes() []vg.Length { return []vg.Length{vg.Points(5), vg.Points(3)} }

// errPoints are points with symmetric y error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// errLine draws pts on p in the curve style's colour and marker, with their
// error bars, and returns the line and markers for a legend entry.
func errLine(p *plot.Plot, pts errPoints, style int) (*plotter.Line, *plotter.Scatter, error) {
	l, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, nil, err
	}
	l.Color, l.Width = colorOf(style), vg.Points(1.5)
	sc.Color, sc.Shape, sc.Radius = colorOf(style), markers[style%len(markers)], vg.Points(3)
	p.Add(l, sc)
	if eb, err := plotter.NewYErrorBars(pts); err == nil {
		eb.Color, eb.Width = colorOf(style), vg.Points(1)
		p.Add(eb)
	}
	return l, sc, nil
}

// paperLine returns the paper's accuracy against p for the variant of
// cell c (and its q), at every ratio the paper ran, as the tables read the
// paper's values; nil if it has none.
func paperLine(g *analysis.Group, c *analysis.CellRuns, sem experiment.Semantics) plotter.XYs {
	var ratios []experiment.Ratio
	switch g.Model {
	case analysis.Table1Model:
		ratios = analysis.Table1Ratios[:]
	case analysis.Table2Model:
		for _, row := range analysis.PaperTable2 {
			if !slices.Contains(ratios, row.P) {
				ratios = append(ratios, row.P)
			}
		}
	}
	var xys plotter.XYs
	for _, r := range ratios {
		r.Q = c.Ratio.Q
		if y := analysis.PaperValue(g, experiment.NewCell(c.Variant, r, sem)); !math.IsNaN(y) {
			xys = append(xys, plotter.XY{X: r.P, Y: y})
		}
	}
	slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
	return xys
}

// Render draws the figure, each row's title above its panels and its legend
// to their right, and returns it as PNG and as SVG.
func (f Figure) Render() (pngData, svgData []byte, err error) {
	if len(f.Rows) == 0 {
		return nil, nil, fmt.Errorf("report: %s has nothing to draw", f.Name)
	}
	titleStyle := plot.New().Title.TextStyle
	titleStyle.Font = font.From(plot.DefaultFont, vg.Points(12))
	titleStyle.XAlign, titleStyle.YAlign = draw.XLeft, draw.YBottom
	titleH := titleStyle.Rectangle("Xg").Size().Y + vg.Millimeter*3
	cols, legendW := 0, vg.Length(0)
	for _, r := range f.Rows {
		cols = max(cols, len(r.Panels))
		lr := r.Legend.Rectangle(draw.Canvas{})
		legendW = max(legendW, lr.Max.X-lr.Min.X)
	}
	legendW += vg.Millimeter * 6
	w := f.PanelW*vg.Length(cols) + legendW
	h := (f.PanelH + titleH) * vg.Length(len(f.Rows))
	return encode(f.Name, w, h, func(dc draw.Canvas) {
		// A white page: viewers with a dark background show PNGs as they are.
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		rowH := f.PanelH + titleH
		for i, r := range f.Rows {
			top := h - rowH*vg.Length(i)
			rc := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: 0, Y: top - rowH}, Max: vg.Point{X: w, Y: top}}}
			rc.FillText(titleStyle, vg.Point{X: vg.Millimeter * 3, Y: top - titleH + vg.Millimeter*1.5}, r.Title)
			panelsW := f.PanelW * vg.Length(len(r.Panels))
			pc := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: 0, Y: top - rowH}, Max: vg.Point{X: panelsW, Y: top - titleH}}}
			tiles := draw.Tiles{Rows: 1, Cols: len(r.Panels), PadX: vg.Millimeter * 8, PadY: vg.Millimeter * 2,
				PadTop: vg.Millimeter * 1, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 2}
			canvases := plot.Align([][]*plot.Plot{r.Panels}, tiles, pc)
			for j, p := range r.Panels {
				p.Draw(canvases[0][j])
			}
			lc := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: panelsW + vg.Millimeter*2, Y: top - rowH},
				Max: vg.Point{X: w - vg.Millimeter*2, Y: top - titleH - vg.Millimeter*6},
			}}
			r.Legend.Draw(lc)
		}
	})
}

// encode draws a w×h page with paint and returns it as PNG and as SVG.
func encode(name string, w, h vg.Length, paint func(dc draw.Canvas)) (pngData, svgData []byte, err error) {
	img := vgimg.New(w, h)
	svg := vgsvg.New(w, h)
	for _, c := range []struct {
		canvas vg.CanvasSizer
		out    io.WriterTo
		dst    *[]byte
	}{{img, vgimg.PngCanvas{Canvas: img}, &pngData}, {svg, svg, &svgData}} {
		paint(draw.New(c.canvas))
		var buf bytes.Buffer
		if _, err := c.out.WriteTo(&buf); err != nil {
			return nil, nil, fmt.Errorf("report: rendering %s: %w", name, err)
		}
		*c.dst = buf.Bytes()
	}
	return pngData, svgData, nil
}

// ratioAxis puts the dropout ratios ps (ascending) on p's x axis, each a
// tick, on a log scale when they span a decade or more (Table 1's span two),
// with margin m on either side.
func ratioAxis(p *plot.Plot, ps []float64, m float64) {
	if ps[0] > 0 && len(ps) > 1 && ps[len(ps)-1]/ps[0] >= 10 {
		p.X.Scale = plot.LogScale{}
		p.X.Label.Text += " (log scale)"
	}
	ticks := make([]plot.Tick, len(ps))
	for i, x := range ps {
		ticks[i] = plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = ps[0]*(1-m), ps[len(ps)-1]*(1+m)
}
