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
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/dropexp/dropexp/internal/results"
)

// panel is a group of runs drawn in one panel: one model on one data set with one gradient semantics.
type panel struct{ model, dataset, semantics string }

func (p panel) title() string {
	return fmt.Sprintf("%s, %s, %s gradient", modelTitle(p.model), datasetTitle(p.dataset), p.semantics)
}

// panels returns the groups that hold non-plain runs, Table 1's model first;
// plain runs belong to every group of their model and data set.
func panels(runs []Run) []panel {
	var ps []panel
	for _, r := range runs {
		s := r.Summary
		if s.Variant == "plain" {
			continue
		}
		if p := (panel{s.Model, s.Dataset, s.Semantics}); !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b panel) int {
		return cmp.Or(cmp.Compare(modelRank(a.model), modelRank(b.model)), strings.Compare(a.model, b.model),
			cmp.Compare(datasetRank(a.dataset), datasetRank(b.dataset)), strings.Compare(a.dataset, b.dataset),
			strings.Compare(b.semantics, a.semantics))
	})
	return ps
}

func modelRank(m string) int {
	switch m {
	case Table1Model:
		return 0
	case Table2Model:
		return 1
	}
	return 2
}

// member reports whether run r is drawn in panel p.
func (p panel) member(r Run) bool {
	s := r.Summary
	return s.Model == p.model && s.Dataset == p.dataset && (s.Variant == "plain" || s.Semantics == p.semantics)
}

// variantOrder fixes each variant's colour and legend position across figures.
var variantOrder = [...]string{"plain", "standard", "forward", "backward", "augmented"}

func variantRank(v string) int {
	if i := slices.Index(variantOrder[:], v); i >= 0 {
		return i
	}
	return len(variantOrder)
}

// curve is a line of a figure with its label and style index.
type curve struct {
	label string
	style int
	runs  []Run
}

// lossCurves returns, for panel p at ratio p0, one curve per variant and ratio whose p is p0, and plain.
func lossCurves(runs []Run, pn panel, p0 float64) []curve {
	byLabel := map[string]*curve{}
	var out []*curve
	for _, r := range runs {
		s := r.Summary
		if !pn.member(r) || s.Status != results.StatusFinished || len(r.Metrics) == 0 {
			continue
		}
		label := s.Variant
		if s.Variant != "plain" {
			if ratioP(s.Ratio) != p0 {
				continue
			}
			label += " " + canonRatio(s.Ratio)
		}
		c, ok := byLabel[label]
		if !ok {
			c = &curve{label: label, style: variantRank(s.Variant)}
			byLabel[label] = c
			out = append(out, c)
		}
		c.runs = append(c.runs, r)
	}
	slices.SortFunc(out, func(a, b *curve) int { return cmp.Or(cmp.Compare(a.style, b.style), strings.Compare(a.label, b.label)) })
	cs := make([]curve, len(out))
	for i, c := range out {
		cs[i] = *c
	}
	return cs
}

// meanCurve averages a metric over runs at each iteration that all of them recorded.
func meanCurve(runs []Run, metric func(results.Metric) float64) plotter.XYs {
	sums := map[int]float64{}
	counts := map[int]int{}
	for _, r := range runs {
		for _, m := range r.Metrics {
			sums[m.Iteration] += metric(m)
			counts[m.Iteration]++
		}
	}
	var its []int
	for it, n := range counts {
		if n == len(runs) {
			its = append(its, it)
		}
	}
	slices.Sort(its)
	xys := make(plotter.XYs, 0, len(its))
	for _, it := range its {
		y := sums[it] / float64(len(runs))
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: float64(it), Y: y})
	}
	return xys
}

// style applies the colour and dashes of style index i to a line.
func style(l *plotter.Line, i int) {
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
}

// newPlot returns a plot with the report's common look.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// emptyPlot stands in a panel that has nothing to draw, saying why.
func emptyPlot(title, why string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title + "\n(" + why + ")"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.HideAxes()
	return p
}

// Figure1 draws Figure 1: for each group of runs and each ratio, the
// training loss (running mean) and the test loss against iteration, one line
// per variant (mean over seeds), plain included. Like the paper's it shows
// the ConvNet-Quick runs when there are any, else every group.
func Figure1(runs []Run, ratios []string) [][]*plot.Plot {
	var rows [][]*plot.Plot
	groups := panels(runs)
	if slices.ContainsFunc(groups, func(p panel) bool { return p.model == Table1Model }) {
		groups = slices.DeleteFunc(groups, func(p panel) bool { return p.model != Table1Model })
	}
	for _, pn := range groups {
		for _, ratio := range ratios {
			p0 := ratioP(ratio)
			curves := lossCurves(runs, pn, p0)
			if !slices.ContainsFunc(curves, func(c curve) bool { return c.style != 0 }) {
				continue // plain alone is no comparison at this ratio
			}
			title := fmt.Sprintf("%s, ratio %s", pn.title(), canonRatio(ratio))
			train := newPlot("Training loss: "+title, "iteration", "training loss")
			test := newPlot("Test loss: "+title, "iteration", "test loss")
			for _, c := range curves {
				label := fmt.Sprintf("%s (n=%d)", c.label, len(c.runs))
				for _, pl := range []struct {
					p *plot.Plot
					f func(results.Metric) float64
				}{{train, func(m results.Metric) float64 { return m.TrainLoss }}, {test, func(m results.Metric) float64 { return m.TestLoss }}} {
					l, err := plotter.NewLine(meanCurve(c.runs, pl.f))
					if err != nil {
						continue // no finite point to draw
					}
					style(l, c.style)
					pl.p.Add(l)
					pl.p.Legend.Add(label, l)
				}
			}
			rows = append(rows, []*plot.Plot{train, test})
		}
	}
	if len(rows) == 0 {
		why := "no finished runs with metrics at ratio " + strings.Join(ratios, ", ")
		rows = [][]*plot.Plot{{emptyPlot("Training loss", why), emptyPlot("Test loss", why)}}
	}
	return rows
}

// AccuracyVsRatio draws one panel per group: final test accuracy against p
// per variant (mean with ± std bars over seeds), plain as a horizontal line,
// and the paper's values dashed where it has them.
func AccuracyVsRatio(runs []Run) [][]*plot.Plot {
	var plots []*plot.Plot
	for _, pn := range panels(runs) {
		p := newPlot(pn.title(), "dropout ratio p", "test accuracy")
		p.Legend.Top, p.Legend.Left = false, true // accuracy falls at large p, on the right
		cells := map[string][]Run{}               // by variant label (augmented with its q)
		var labels []string
		var plain []Run
		var ps []float64
		for _, r := range runs {
			s := r.Summary
			if !pn.member(r) {
				continue
			}
			if s.Variant == "plain" {
				plain = append(plain, r)
				continue
			}
			label := s.Variant
			if _, q, ok := strings.Cut(s.Ratio, "/"); ok {
				label += " q=" + q
			}
			if _, ok := cells[label]; !ok {
				labels = append(labels, label)
			}
			cells[label] = append(cells[label], r)
			if x := ratioP(s.Ratio); x > 0 && !slices.Contains(ps, x) {
				ps = append(ps, x)
			}
		}
		slices.SortFunc(labels, func(a, b string) int {
			return cmp.Or(cmp.Compare(variantRank(strings.Fields(a)[0]), variantRank(strings.Fields(b)[0])), strings.Compare(a, b))
		})
		slices.Sort(ps)
		if len(ps) == 0 {
			continue
		}
		paperShown := false
		for _, label := range labels {
			v := strings.Fields(label)[0]
			pts := accuracyPoints(cells[label])
			if len(pts.XYs) == 0 {
				continue
			}
			l, sc, err := plotter.NewLinePoints(pts)
			if err != nil {
				continue
			}
			style(l, variantRank(v))
			sc.Color = plotutil.Color(variantRank(v))
			sc.Shape = plotutil.Shape(variantRank(v))
			p.Add(l, sc)
			if eb, err := plotter.NewYErrorBars(pts); err == nil {
				eb.Color = plotutil.Color(variantRank(v))
				p.Add(eb)
			}
			p.Legend.Add(label, l, sc)
			if paper := paperLine(pn, label); len(paper) > 0 {
				if pl, err := plotter.NewLine(paper); err == nil {
					pl.Color = plotutil.Color(variantRank(v))
					pl.Dashes = paperDashes()
					p.Add(pl)
					paperShown = true
					for _, xy := range paper {
						if !slices.Contains(ps, xy.X) {
							ps = append(ps, xy.X)
						}
					}
				}
			}
		}
		slices.Sort(ps)
		if paperShown {
			key, _ := plotter.NewLine(plotter.XYs{})
			key.Color, key.Dashes = color.Gray{Y: 100}, paperDashes()
			p.Legend.Add("paper (dashed)", key)
		}
		if c := newCell(plain, math.NaN()); c.N > 0 {
			line := plotter.XYs{{X: ps[0], Y: c.Mean}, {X: ps[len(ps)-1], Y: c.Mean}}
			if l, err := plotter.NewLine(line); err == nil {
				style(l, 0)
				l.Color = color.Gray{Y: 80}
				p.Add(l)
				p.Legend.Add(fmt.Sprintf("plain (n=%d)", c.N), l)
			}
		}
		if ps[0] > 0 && len(ps) > 1 && ps[len(ps)-1]/ps[0] >= 10 {
			// Table 1's ratios span two decades; a log axis spaces them evenly.
			p.X.Scale = plot.LogScale{}
		}
		ticks := make([]plot.Tick, len(ps))
		for i, x := range ps {
			ticks[i] = plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = ps[0]*0.9, ps[len(ps)-1]*1.1
		plots = append(plots, p)
	}
	if len(plots) == 0 {
		return [][]*plot.Plot{{emptyPlot("Test accuracy against dropout ratio", "no finished runs with a dropout ratio")}}
	}
	cols := min(len(plots), 3)
	var rows [][]*plot.Plot
	for i := 0; i < len(plots); i += cols {
		row := plots[i:min(i+cols, len(plots))]
		for len(row) < cols {
			blank := plot.New()
			blank.HideAxes()
			row = append(row, blank)
		}
		rows = append(rows, row)
	}
	return rows
}

// paperDashes is the dash pattern of the paper's values.
func paperDashes() []vg.Length { return []vg.Length{vg.Points(4), vg.Points(3)} }

// errPoints are points with symmetric y error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// accuracyPoints returns mean test accuracy against p over the finished runs, with their std.
func accuracyPoints(runs []Run) errPoints {
	byP := map[float64][]Run{}
	var ps []float64
	for _, r := range runs {
		x := ratioP(r.Summary.Ratio)
		if !(x > 0) {
			continue
		}
		if _, ok := byP[x]; !ok {
			ps = append(ps, x)
		}
		byP[x] = append(byP[x], r)
	}
	slices.Sort(ps)
	var e errPoints
	for _, x := range ps {
		c := newCell(byP[x], math.NaN())
		if c.N == 0 {
			continue
		}
		std := c.Std
		if math.IsNaN(std) {
			std = 0
		}
		e.XYs = append(e.XYs, plotter.XY{X: x, Y: c.Mean})
		e.YErrors = append(e.YErrors, struct{ Low, High float64 }{std, std})
	}
	return e
}

// paperLine returns the paper's accuracy against p for a panel's variant, if the paper has it.
func paperLine(pn panel, label string) plotter.XYs {
	var xys plotter.XYs
	v, q, _ := strings.Cut(label, " q=")
	switch {
	case pn.model == Table1Model && pn.semantics == "layer" && q == "":
		for _, r := range table1Ratios {
			if y := paperT1(v, r); !math.IsNaN(y) {
				xys = append(xys, plotter.XY{X: ratioP(r), Y: y})
			}
		}
	case pn.model == Table2Model && pn.semantics == "layer":
		for _, row := range paperTable2 {
			if row.Dataset != pn.dataset {
				continue
			}
			switch {
			case v == "standard":
				xys = append(xys, plotter.XY{X: ratioP(row.P), Y: row.Standard})
			case v == "augmented" && sameRatio(row.P+"/"+q, row.AugRatio):
				xys = append(xys, plotter.XY{X: ratioP(row.P), Y: row.Augmented})
			}
		}
	}
	slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
	return xys
}

// Render draws rows of plots on one page of the given size per panel and
// returns it as PNG and as SVG.
func Render(rows [][]*plot.Plot, panelW, panelH vg.Length) (pngData, svgData []byte, err error) {
	cols := len(rows[0])
	w, h := panelW*vg.Length(cols), panelH*vg.Length(len(rows))
	tiles := draw.Tiles{Rows: len(rows), Cols: cols, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	img := vgimg.New(w, h)
	svg := vgsvg.New(w, h)
	for _, c := range []struct {
		canvas vg.CanvasSizer
		out    io.WriterTo
		dst    *[]byte
	}{{img, vgimg.PngCanvas{Canvas: img}, &pngData}, {svg, svg, &svgData}} {
		dc := draw.New(c.canvas)
		canvases := plot.Align(rows, tiles, dc)
		for i := range rows {
			for j := range rows[i] {
				rows[i][j].Draw(canvases[i][j])
			}
		}
		var buf bytes.Buffer
		if _, err := c.out.WriteTo(&buf); err != nil {
			return nil, nil, fmt.Errorf("report: rendering: %w", err)
		}
		*c.dst = buf.Bytes()
	}
	return pngData, svgData, nil
}
