package report

// The diagnostics figures' rows: one per model, data set and gradient rule.

import (
	"cmp"
	"fmt"
	"github.com/dropexp/dropexp/internal/experiment"
	"slices"
	"strings"
)

// panel is a group of runs drawn in one row: one model on one data set with
// one gradient semantics; data is the data set's title (DataTitle).
type panel struct{ model, dataset, semantics, data string }

func (p panel) title() string {
	return fmt.Sprintf("%s on %s, %s gradient", modelTitle(p.model), p.data, p.semantics)
}

// key is what tells panels apart; the title follows from it.
func (p panel) key() [3]string { return [3]string{p.model, p.dataset, p.semantics} }

// panels returns the groups that hold non-plain runs, Table 1's model first;
// plain runs belong to every group of their model and data set.
func panels(runs []Run) []panel {
	var ps []panel
	for _, r := range runs {
		s := r.Summary
		if r.Cell.Variant.Form() == experiment.NoRatio {
			continue
		}
		p := panel{s.Model, s.Dataset, s.Semantics, DataTitle(s)}
		if !slices.ContainsFunc(ps, func(q panel) bool { return q.key() == p.key() }) {
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
	return s.Model == p.model && s.Dataset == p.dataset && (r.Cell.Variant.Form() == experiment.NoRatio || s.Semantics == p.semantics)
}
