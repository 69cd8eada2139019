package report

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dropexp/dropexp/internal/results"
)

// Table1 is the paper's Table 1 over the ConvNet-Quick runs: one section per
// data set and gradient semantics.
type Table1 struct {
	Sections []Section1
}

// Section1 is Table 1 for one data set and gradient semantics.
type Section1 struct {
	Dataset   string
	Semantics string
	Protocol  string   // iterations and data sizes of the runs, e.g. "5000 iterations, 50000/10000 images"
	Plain     Cell     // the plain network (plain runs of either semantics)
	Ratios    []string // the columns: the paper's ratios, then any others that ran
	Rows      []Row1   // standard, forward, backward
}

// Row1 is one variant's row of Table 1.
type Row1 struct {
	Variant string
	Cells   []Cell // by Section1.Ratios
}

// Table2 is the paper's Table 2 over the ResNet-20 runs: one section per gradient semantics.
type Table2 struct {
	Sections []Section2
}

// Section2 is Table 2 for one gradient semantics.
type Section2 struct {
	Semantics string
	Protocol  string
	Rows      []Row2
}

// Row2 is one row of Table 2: a data set and ratio p, standard against augmented p/q.
type Row2 struct {
	Dataset   string
	P         string
	Standard  Cell
	Augmented Cell
	AugRatio  string // p/q of the augmented runs (the paper's when none ran)
}

// groupKey groups runs into table cells.
type groupKey struct{ model, dataset, semantics, variant, ratio string }

func keyOf(r Run) groupKey {
	s := r.Summary
	ratio := s.Ratio
	if s.Variant == "plain" {
		ratio = ""
	}
	return groupKey{s.Model, s.Dataset, s.Semantics, s.Variant, canonRatio(ratio)}
}

// byKey groups runs by their cell.
func byKey(runs []Run) map[groupKey][]Run {
	m := map[groupKey][]Run{}
	for _, r := range runs {
		k := keyOf(r)
		m[k] = append(m[k], r)
	}
	return m
}

// sortRatios orders ratios from large to small p (then q), as the paper's columns.
func sortRatios(rs []string) {
	slices.SortFunc(rs, func(a, b string) int {
		if c := cmp.Compare(ratioP(b), ratioP(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}

// protocol describes the iterations and data sizes of runs, to tell a smoke
// run from the full protocol at a glance.
func protocol(runs []Run) string {
	var its, sizes []string
	for _, r := range runs {
		s := r.Summary
		it := fmt.Sprintf("%d iterations", s.Iterations)
		sz := fmt.Sprintf("%d train / %d test images", s.TrainSize, s.TestSize)
		if !slices.Contains(its, it) {
			its = append(its, it)
		}
		if !slices.Contains(sizes, sz) {
			sizes = append(sizes, sz)
		}
	}
	if len(its) == 0 {
		return "no runs"
	}
	return strings.Join(its, " or ") + ", " + strings.Join(sizes, " or ")
}

// BuildTable1 lays out the ConvNet-Quick runs like the paper's Table 1. With
// no such runs it has one section of empty cells beside the paper's values.
func BuildTable1(runs []Run) Table1 {
	var mine []Run
	for _, r := range runs {
		if r.Summary.Model == Table1Model && r.Summary.Variant != "augmented" {
			mine = append(mine, r)
		}
	}
	cells := byKey(mine)
	type sec struct{ dataset, semantics string }
	var secs []sec
	for _, r := range mine {
		s := sec{r.Summary.Dataset, r.Summary.Semantics}
		if r.Summary.Variant == "plain" {
			continue
		}
		if !slices.Contains(secs, s) {
			secs = append(secs, s)
		}
	}
	// A data set with plain runs only still gets its section.
	for _, r := range mine {
		if r.Summary.Variant == "plain" && !slices.ContainsFunc(secs, func(s sec) bool { return s.dataset == r.Summary.Dataset }) {
			secs = append(secs, sec{r.Summary.Dataset, r.Summary.Semantics})
		}
	}
	if len(secs) == 0 {
		secs = []sec{{"cifar10", "layer"}}
	}
	slices.SortFunc(secs, func(a, b sec) int {
		return cmp.Or(cmp.Compare(datasetRank(a.dataset), datasetRank(b.dataset)), strings.Compare(a.dataset, b.dataset),
			strings.Compare(b.semantics, a.semantics)) // layer, the paper's, before elementwise
	})
	var t Table1
	for _, s := range secs {
		var secRuns, plain []Run
		ratios := slices.Clone(table1Ratios[:])
		for _, r := range mine {
			if r.Summary.Dataset != s.dataset {
				continue
			}
			if r.Summary.Variant == "plain" {
				// Plain computes the same under both semantics.
				plain = append(plain, r)
				secRuns = append(secRuns, r)
				continue
			}
			if r.Summary.Semantics != s.semantics {
				continue
			}
			secRuns = append(secRuns, r)
			if k := keyOf(r); !slices.ContainsFunc(ratios, func(x string) bool { return sameRatio(x, k.ratio) }) {
				ratios = append(ratios, k.ratio)
			}
		}
		sortRatios(ratios)
		sc := Section1{Dataset: s.dataset, Semantics: s.semantics, Protocol: protocol(secRuns), Plain: newCell(plain, PaperPlain), Ratios: ratios}
		for _, v := range table1Variants {
			row := Row1{Variant: v}
			for _, ratio := range ratios {
				row.Cells = append(row.Cells, newCell(cells[groupKey{Table1Model, s.dataset, s.semantics, v, canonRatio(ratio)}], paperT1(v, ratio)))
			}
			sc.Rows = append(sc.Rows, row)
		}
		t.Sections = append(t.Sections, sc)
	}
	return t
}

// BuildTable2 lays out the ResNet-20 runs like the paper's Table 2: the
// paper's rows first, then any other data set and ratio that ran.
func BuildTable2(runs []Run) Table2 {
	var mine []Run
	for _, r := range runs {
		if r.Summary.Model == Table2Model && (r.Summary.Variant == "standard" || r.Summary.Variant == "augmented") {
			mine = append(mine, r)
		}
	}
	cells := byKey(mine)
	var sems []string
	for _, r := range mine {
		if !slices.Contains(sems, r.Summary.Semantics) {
			sems = append(sems, r.Summary.Semantics)
		}
	}
	if len(sems) == 0 {
		sems = []string{"layer"}
	}
	slices.SortFunc(sems, func(a, b string) int { return strings.Compare(b, a) })
	var t Table2
	for _, sem := range sems {
		var secRuns []Run
		// The (data set, p) pairs that ran, and the augmented ratios of each.
		type dp struct{ dataset, p string }
		augs := map[dp][]string{}
		var pairs []dp
		for _, r := range mine {
			if r.Summary.Semantics != sem {
				continue
			}
			secRuns = append(secRuns, r)
			k := keyOf(r)
			pair := dp{k.dataset, canonRatio(strconv.FormatFloat(ratioP(k.ratio), 'g', -1, 64))}
			if !slices.Contains(pairs, pair) {
				pairs = append(pairs, pair)
			}
			if k.variant == "augmented" && !slices.Contains(augs[pair], k.ratio) {
				augs[pair] = append(augs[pair], k.ratio)
			}
		}
		sec := Section2{Semantics: sem, Protocol: protocol(secRuns)}
		addRows := func(pair dp, paper *paperRow2) {
			std := math.NaN()
			ratios := augs[pair]
			sortRatios(ratios)
			if paper != nil {
				std = paper.Standard
				if len(ratios) == 0 {
					ratios = []string{paper.AugRatio}
				}
			}
			for _, aug := range ratios {
				augPaper := math.NaN()
				if paper != nil && sameRatio(aug, paper.AugRatio) {
					augPaper = paper.Augmented
				}
				sec.Rows = append(sec.Rows, Row2{
					Dataset:   pair.dataset,
					P:         pair.p,
					Standard:  newCell(cells[groupKey{Table2Model, pair.dataset, sem, "standard", pair.p}], std),
					Augmented: newCell(cells[groupKey{Table2Model, pair.dataset, sem, "augmented", aug}], augPaper),
					AugRatio:  aug,
				})
			}
			if paper == nil && len(ratios) == 0 {
				sec.Rows = append(sec.Rows, Row2{Dataset: pair.dataset, P: pair.p,
					Standard:  newCell(cells[groupKey{Table2Model, pair.dataset, sem, "standard", pair.p}], math.NaN()),
					Augmented: newCell(nil, math.NaN())})
			}
		}
		for i := range paperTable2 {
			p := paperTable2[i]
			addRows(dp{p.Dataset, p.P}, &p)
		}
		slices.SortFunc(pairs, func(a, b dp) int {
			return cmp.Or(cmp.Compare(datasetRank(a.dataset), datasetRank(b.dataset)), strings.Compare(a.dataset, b.dataset), cmp.Compare(ratioP(a.p), ratioP(b.p)))
		})
		for _, pair := range pairs {
			if !slices.ContainsFunc(paperTable2[:], func(p paperRow2) bool { return p.Dataset == pair.dataset && sameRatio(p.P, pair.p) }) {
				addRows(pair, nil)
			}
		}
		t.Sections = append(t.Sections, sec)
	}
	return t
}

// cellNote explains the cells, under each table.
const cellNote = "Each cell: mean ± sample standard deviation of the final test accuracy over seeds (n = finished runs), " +
	"the paper's value (one run per cell) and diff = mean − paper. Diverged runs are counted apart and left out of the mean."

// Markdown renders Table 1; note (e.g. which runs were read) goes under the title.
func (t Table1) Markdown(note string) string {
	var b strings.Builder
	b.WriteString("# Table 1: test accuracy of ConvNet-Quick\n\n")
	if note != "" {
		b.WriteString(note + "\n\n")
	}
	for _, s := range t.Sections {
		fmt.Fprintf(&b, "## ConvNet-Quick on %s, %s gradient\n\n", datasetTitle(s.Dataset), s.Semantics)
		fmt.Fprintf(&b, "Runs: %s.\n\n", s.Protocol)
		fmt.Fprintf(&b, "Plain network: %s\n\n", s.Plain.Text())
		b.WriteString("| dropout ratio |")
		for _, r := range s.Ratios {
			fmt.Fprintf(&b, " %s |", r)
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(s.Ratios)) + "\n")
		for _, row := range s.Rows {
			fmt.Fprintf(&b, "| %s |", row.Variant)
			for _, c := range row.Cells {
				fmt.Fprintf(&b, " %s |", c.Text())
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(cellNote + " The paper's values are ConvNet-Quick on CIFAR-10 with the layer semantics (SPEC §4).\n")
	return b.String()
}

// CSV renders Table 1 with one line per cell.
func (t Table1) CSV() string {
	rows := [][]string{append([]string{"model", "dataset", "gradient", "variant", "ratio"}, cellHeader...)}
	for _, s := range t.Sections {
		rows = append(rows, append([]string{Table1Model, s.Dataset, s.Semantics, "plain", ""}, s.Plain.csvFields()...))
		for _, row := range s.Rows {
			for i, c := range row.Cells {
				rows = append(rows, append([]string{Table1Model, s.Dataset, s.Semantics, row.Variant, s.Ratios[i]}, c.csvFields()...))
			}
		}
	}
	return writeCSV(rows)
}

// Markdown renders Table 2; note goes under the title.
func (t Table2) Markdown(note string) string {
	var b strings.Builder
	b.WriteString("# Table 2: test accuracy of ResNet-20, standard against augmented dropout\n\n")
	if note != "" {
		b.WriteString(note + "\n\n")
	}
	for _, s := range t.Sections {
		fmt.Fprintf(&b, "## ResNet-20, %s gradient\n\n", s.Semantics)
		fmt.Fprintf(&b, "Runs: %s.\n\n", s.Protocol)
		b.WriteString("| data set | p | standard | augmented | augmented ratio |\n|---|---|---|---|---|\n")
		for _, r := range s.Rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", datasetTitle(r.Dataset), r.P, r.Standard.Text(), r.Augmented.Text(), cmp.Or(r.AugRatio, "–"))
		}
		b.WriteString("\n")
	}
	b.WriteString(cellNote + " The paper's values are ResNet-20 with the layer semantics (SPEC §4).\n")
	return b.String()
}

// CSV renders Table 2 with one line per cell.
func (t Table2) CSV() string {
	rows := [][]string{append([]string{"model", "dataset", "gradient", "p", "variant", "ratio"}, cellHeader...)}
	for _, s := range t.Sections {
		for _, r := range s.Rows {
			rows = append(rows, append([]string{Table2Model, r.Dataset, s.Semantics, r.P, "standard", r.P}, r.Standard.csvFields()...))
			rows = append(rows, append([]string{Table2Model, r.Dataset, s.Semantics, r.P, "augmented", r.AugRatio}, r.Augmented.csvFields()...))
		}
	}
	return writeCSV(rows)
}

func writeCSV(rows [][]string) string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(rows) // a bytes.Buffer does not fail
	return buf.String()
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
	if len(c.Pending) > 0 {
		s += fmt.Sprintf(", %d not finished (left out)", len(c.Pending))
	}
	return s + "."
}
