package report

// The diagnostics figures' layout: one panel per model, data set and
// gradient rule, drawn as a grid of plots.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

// member reports whether run r is drawn in panel p.
func (p panel) member(r Run) bool {
	s := r.Summary
	return s.Model == p.model && s.Dataset == p.dataset && (s.Variant == "plain" || s.Semantics == p.semantics)
}

// style applies the colour and dashes of style index i to a line.
func style(l *plotter.Line, i int) {
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
}

// emptyPlot stands in a panel that has nothing to draw, saying why.
func emptyPlot(title, why string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title + "\n(" + why + ")"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.HideAxes()
	return p
}

// renderGrid draws rows of plots on one page of the given size per panel and
// returns it as PNG and as SVG.
func renderGrid(rows [][]*plot.Plot, panelW, panelH vg.Length) (pngData, svgData []byte, err error) {
	cols := len(rows[0])
	tiles := draw.Tiles{Rows: len(rows), Cols: cols, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	return encode("diagnostics", panelW*vg.Length(cols), panelH*vg.Length(len(rows)), func(dc draw.Canvas) {
		canvases := plot.Align(rows, tiles, dc)
		for i := range rows {
			for j := range rows[i] {
				rows[i][j].Draw(canvases[i][j])
			}
		}
	})
}
