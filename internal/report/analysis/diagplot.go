package analysis

// The diagnostics figures' rows: one per model, data set and gradient rule.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
)

// Panel is a model, data set and gradient semantics whose runs with
// diagnostics are drawn and tabulated together; Data is the data set's
// title (DataTitle).
type Panel struct{ Model, Dataset, Semantics, Data string }

// Title describes the panel for a heading.
func (p Panel) Title() string {
	return fmt.Sprintf("%s on %s, %s gradient", ModelTitle(p.Model), p.Data, p.Semantics)
}

// Key is what tells panels apart; the title follows from it.
func (p Panel) Key() [3]string { return [3]string{p.Model, p.Dataset, p.Semantics} }

// panels returns the groups that hold non-plain runs, Table 1's model first;
// plain runs belong to every group of their model and data set.
func panels(runs []Run) []Panel {
	var ps []Panel
	for _, r := range runs {
		s := r.Summary
		if r.Cell.Variant.Form() == experiment.NoRatio {
			continue
		}
		p := Panel{s.Model, s.Dataset, s.Semantics, DataTitle(s)}
		if !slices.ContainsFunc(ps, func(q Panel) bool { return q.Key() == p.Key() }) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b Panel) int {
		return cmp.Or(cmp.Compare(modelRank(a.Model), modelRank(b.Model)), strings.Compare(a.Model, b.Model),
			cmp.Compare(datasetRank(a.Dataset), datasetRank(b.Dataset)), strings.Compare(a.Dataset, b.Dataset),
			strings.Compare(b.Semantics, a.Semantics))
	})
	return ps
}

// member reports whether run r is drawn in panel p.
func (p Panel) member(r Run) bool {
	s := r.Summary
	return s.Model == p.Model && s.Dataset == p.Dataset && (r.Cell.Variant.Form() == experiment.NoRatio || s.Semantics == p.Semantics)
}
