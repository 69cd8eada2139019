package report

import (
	"fmt"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
)

// SettingsFigureName is the figure of runs that differ in settings beyond
// variant, ratio, gradient and seed (a sweep over train.lr, say): one row per
// cell that several such groups share, one curve per group, the settings
// in the legend.
const SettingsFigureName = "curves_by_setting"

// SettingsFigure draws, for every model and data set whose runs fall into
// several groups (tables) by their settings, and every cell (variant,
// ratio, gradient) that two or more of those groups ran, the training
// loss, test loss and test accuracy against iteration, one curve per
// group labelled with what sets it apart (train.lr=0.01): the mean over
// seeds with the band of its 95 % interval, unfinished runs dashed on their own. It has no
// rows when no runs differ that way.
func SettingsFigure(runs []analysis.Run) Figure {
	fig := Figure{Name: SettingsFigureName, PanelW: 4.2 * vg.Inch, PanelH: 3.3 * vg.Inch}
	type md struct{ model, dataset string }
	var order []md
	families := map[md][]*analysis.Group{}
	for _, g := range allGroups(runs) {
		k := md{g.Model, g.Dataset}
		if _, ok := families[k]; !ok {
			order = append(order, k)
		}
		families[k] = append(families[k], g)
	}
	for _, k := range order {
		gs := families[k]
		if len(gs) < 2 {
			continue
		}
		first := len(fig.Rows) // this model and data set's rows share y ranges
		// The cells in the order of the first group that has each.
		var names []string
		cellsOf := map[string][]*analysis.CellRuns{}
		groupOf := map[*analysis.CellRuns]int{}
		for gi, g := range gs {
			for _, c := range g.All() {
				n := c.Name()
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
				cellsOf[n] = append(cellsOf[n], c)
				groupOf[c] = gi
			}
		}
		for _, n := range names {
			cells := cellsOf[n]
			if len(cells) < 2 {
				continue
			}
			var curves []curve
			for _, c := range cells {
				g := gs[groupOf[c]]
				label := g.Label
				if label == "" {
					label = "(the others' settings)"
				}
				if rs := withMetrics(c.Runs); len(rs) > 0 {
					curves = append(curves, curve{label: fmt.Sprintf("%s (n=%d)", label, len(rs)), style: groupOf[c] + 1, runs: rs})
				}
				for _, r := range withMetrics(c.Partial) {
					curves = append(curves, curve{label: fmt.Sprintf("%s s%d, %s", label, r.Summary.Seed, progressText(r)), style: groupOf[c] + 1, runs: []analysis.Run{r}, partial: true})
				}
			}
			if len(curves) < 2 {
				continue
			}
			cellTitle := strings.ReplaceAll(n, "/", " ")
			if c := cells[0]; c.Variant.Form() != experiment.NoRatio {
				cellTitle = fmt.Sprintf("%s %s, %s gradient", c.Variant, c.Ratio, c.Semantics)
			}
			title := fmt.Sprintf("%s on %s, %s: by setting", analysis.ModelTitle(k.model), gs[0].DataTitle(), cellTitle)
			fig.Rows = append(fig.Rows, curveRow(title, curves, lossMetrics))
		}
		shareY(fig.Rows[first:])
	}
	return fig
}

// allGroups returns the groups of runs with at least one run drawn (the
// figures' groups, plain-only groups included).
func allGroups(runs []analysis.Run) []*analysis.Group {
	groups, _ := analysis.Groups(runs)
	return groups
}

// curveRow draws one row of panels, one per metric, with curves (mean ±
// std over seeds; partial runs dashed) and their legend.
func curveRow(title string, curves []curve, metrics []curveMetric) FigureRow {
	row := FigureRow{Title: title, Legend: newLegend()}
	banded, partial := false, false
	for _, m := range metrics {
		p := newPlot(m.title, "iteration", m.y)
		p.X.Tick.Marker = intTicks{}
		p.X.Min = 0
		for _, c := range curves {
			sts := seedStats(c.runs, m.f)
			l, sc, err := meanLine(sts, c.style)
			if err != nil {
				continue
			}
			if c.partial {
				l.Dashes, l.Width = partialDashes(), vg.Points(1.2)
				sc.Shape, sc.Radius = hollow(c.style), vg.Points(2)
			} else if b := band(sts, c.style); b != nil {
				p.Add(b)
				banded = true
			}
			p.Add(l, sc)
			if len(row.Panels) == 0 {
				row.Legend.Add(c.label, l, sc)
				partial = partial || c.partial
			}
		}
		row.Panels = append(row.Panels, p)
	}
	if banded {
		row.Legend.Add("band: 95 % interval of", bandKey())
		row.Legend.Add("  the mean over seeds")
	}
	row.Legend.Add("training loss: measured")
	row.Legend.Add("  with the variant's masks")
	if partial {
		row.Legend.Add("dashed: unfinished run,")
		row.Legend.Add("  not in any statistic")
	}
	return row
}
