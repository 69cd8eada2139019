package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// Table is Table 1 (the ConvNet-Quick groups) or Table 2 (the ResNet-20
// groups): one section per group of runs.
type Table struct {
	Model    string
	Sections []Section
}

// Section is one group's table: its cells, their comparisons (one Holm
// family) and whether the paper's numbers apply.
type Section struct {
	Group       *Group
	Comparisons []Comparison
	Paper       bool   // the paper's values may stand beside these
	PaperWhy    string // why not (or a caveat when they may)
}

// BuildTable returns the table of model (Table1Model or Table2Model) over groups.
func BuildTable(model string, groups []*Group) Table {
	t := Table{Model: model}
	for _, g := range groups {
		if g.Model != model {
			continue
		}
		ok, why := PaperBasis(g)
		t.Sections = append(t.Sections, Section{Group: g, Comparisons: Comparisons(g), Paper: ok, PaperWhy: why})
	}
	return t
}

// Name describes the group in one line for the CSV files: model, data set,
// train/test images and what sets it apart.
func (g *Group) Name() string {
	n := g.Model + " " + g.Dataset + " " + g.Settings[DataSizeKey]
	if g.Label != "" {
		n += ", " + g.Label
	}
	return n
}

// sortRatios orders ratios from large to small p (then q), as the paper's columns.
func sortRatios(rs []experiment.Ratio) {
	slices.SortFunc(rs, func(a, b experiment.Ratio) int {
		return cmp.Or(cmp.Compare(b.P, a.P), strings.Compare(a.String(), b.String()))
	})
}

// Note describes what a report was made from, for the top of the tables.
func (c Collection) Note(dirs []string) string {
	fin, div := 0, 0
	for _, r := range c.Runs {
		if r.Summary.Status == results.StatusDiverged {
			div++
		} else {
			fin++
		}
	}
	s := fmt.Sprintf("From %s: %d finished runs, %d diverged", strings.Join(dirs, ", "), fin, div)
	switch {
	case len(c.Pending) > 0 && len(c.Partial) > 0:
		s += fmt.Sprintf(", %d not finished (left out of the tables; %d drawn as partial curves)", len(c.Pending), len(c.Partial))
	case len(c.Pending) > 0:
		s += fmt.Sprintf(", %d not finished (left out)", len(c.Pending))
	}
	return s + "."
}
