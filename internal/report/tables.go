package report

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/stats"
)

// title is the table's heading.
func tableTitle(t analysis.Table) string {
	if t.Model == analysis.Table2Model {
		return "Table 2: test accuracy of ResNet-20, standard against augmented dropout"
	}
	return "Table 1: test accuracy of ConvNet-Quick"
}

// cellNote explains the sections, under each table.
const cellNote = "Test accuracy is each run's final one; mean, sample standard deviation (n − 1) and the 95 % Student-t interval " +
	"of the mean are over the seeds of a cell (n finished runs; diverged runs are counted apart and left out). " +
	"A cell holds only runs whose config differs in nothing but the seed; runs that differ in anything else are a section of their own, " +
	"titled with what sets them apart. Comparisons are of a − b: paired by seed when both cells ran the same seeds, Welch otherwise; " +
	"p is two-sided and p (Holm) is adjusted over the section's comparisons. " +
	"The paper reports one run per cell."

// Markdown renders the table; note (which runs were read) goes under the title.
func TableMarkdown(t analysis.Table, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", tableTitle(t))
	if note != "" {
		b.WriteString(note + "\n\n")
	}
	if len(t.Sections) == 0 {
		fmt.Fprintf(&b, "No finished %s runs.\n\n", analysis.ModelTitle(t.Model))
	}
	for _, s := range t.Sections {
		sectionMarkdown(s, &b)
	}
	b.WriteString(cellNote + "\n")
	return b.String()
}

// markdown renders one section.
func sectionMarkdown(s analysis.Section, b *strings.Builder) {
	g := s.Group
	fmt.Fprintf(b, "## %s\n\n", g.Title())
	var runs []analysis.Run
	seeds := map[int64]bool{}
	for _, c := range g.All() {
		runs = append(append(runs, c.Runs...), c.Diverged...)
		for _, r := range c.Runs {
			seeds[r.Summary.Seed] = true
		}
	}
	fmt.Fprintf(b, "Runs: %s; seeds %s.", protocol(runs), joinInts(slices.Sorted(maps.Keys(seeds))))
	// The file names only: where the data sat on the machine that trained
	// is no business of a report that travels (the fingerprint in each
	// run's summary.json says which data it was).
	var paths []string
	for _, p := range g.Paths {
		if p != "" && !slices.Contains(paths, filepath.Base(p)) {
			paths = append(paths, filepath.Base(p))
		}
	}
	if len(paths) > 0 {
		fmt.Fprintf(b, " Data: %s from %s.", g.Dataset, strings.Join(paths, ", "))
	}
	if k := kernelsNote(runs); k != "" {
		b.WriteString(" " + k)
	}
	if w := wallNote(runs); w != "" {
		b.WriteString(" " + w)
	}
	b.WriteString("\n\n")

	b.WriteString("### Test accuracy\n\n")
	b.WriteString("| variant | ratio | gradient | n | mean | 95 % interval | std | final training loss |\n|---|---|---|---|---|---|---|---|\n")
	marked := false
	for _, c := range g.All() {
		mark := ""
		if x, ok := analysis.VersusPlain(s.Comparisons, c); ok && x.Significant() {
			mark, marked = " ▲", true
			if x.Test.Diff < 0 {
				mark = " ▼"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s%s | %s | %s | %s |\n", c.Variant, dash(c.RatioText()), dash(string(c.Semantics)), nCell(c),
			num(c.Acc.Mean), mark, interval4(c.Acc), num(c.Acc.Std), lossText(c.TrainLoss))
	}
	b.WriteString("\n")
	if marked {
		b.WriteString("▲/▼: above/below plain, significant after Holm (p (Holm) < 0.05).\n\n")
	}
	if one := slices.ContainsFunc(g.All(), func(c *analysis.CellRuns) bool { return c.Acc.N == 1 }); one {
		b.WriteString("A cell with n = 1 has no interval and cannot be compared: its runs need more seeds.\n\n")
	}

	if g.Model == analysis.Table1Model {
		paperLayout(s, b)
	}

	b.WriteString("### Against the paper\n\n")
	if !s.Paper {
		fmt.Fprintf(b, "No paper column: %s.\n\n", s.PaperWhy)
	} else {
		if s.PaperWhy != "" {
			fmt.Fprintf(b, "Note: %s.\n\n", s.PaperWhy)
		}
		b.WriteString("| variant | ratio | gradient | mean | 95 % interval | paper | mean − paper | paper inside the interval |\n|---|---|---|---|---|---|---|---|\n")
		for _, c := range g.All() {
			p := analysis.PaperValue(g, c.Cell)
			if math.IsNaN(p) {
				fmt.Fprintf(b, "| %s | %s | %s | %s | %s | – | – | no paper value |\n", c.Variant, dash(c.RatioText()), dash(string(c.Semantics)), num(c.Acc.Mean), interval4(c.Acc))
				continue
			}
			inside := "–"
			if c.Acc.N >= 2 {
				inside = "no"
				if p >= c.Acc.Low && p <= c.Acc.High {
					inside = "yes"
				}
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %.4f | %s | %s |\n", c.Variant, dash(c.RatioText()), dash(string(c.Semantics)), num(c.Acc.Mean), interval4(c.Acc), p, signed(c.Acc.Mean-p), inside)
		}
		b.WriteString("\n")
	}

	b.WriteString("### Comparisons (test accuracy, a − b)\n\n")
	if len(s.Comparisons) == 0 {
		b.WriteString("None: the section has no two cells to compare.\n\n")
	} else {
		b.WriteString("| a | b | test | n | a − b | 95 % interval | p | p (Holm) |\n|---|---|---|---|---|---|---|---|\n")
		anySig := false
		for _, c := range s.Comparisons {
			if c.Err != nil {
				fmt.Fprintf(b, "| %s | %s | – | %s | %s | %s | – | – |\n", c.A.Name(), c.B.Name(), nText(c), signed(c.Test.Diff), c.Why())
				continue
			}
			bold := ""
			star := ""
			if c.Significant() {
				bold, star, anySig = "**", " *", true
			}
			fmt.Fprintf(b, "| %s%s%s | %s%s%s | %s | %s | %s%s%s | %s | %s | %s%s |\n", bold, c.A.Name(), bold, bold, c.B.Name(), bold, c.Test.Kind, nText(c),
				bold, signed(c.Test.Diff), bold, interval(c.Test.Low, c.Test.High), pText(c.Test.P), pText(c.PHolm), star)
		}
		if anySig {
			b.WriteString("\n**bold** and *: significant after Holm (p (Holm) < 0.05).\n\n")
		} else {
			b.WriteString("\nNone is significant after Holm (p (Holm) < 0.05).\n\n")
		}
	}
	if nr := notRun(g); nr != "" {
		fmt.Fprintf(b, "Not run (of the paper's grid): %s.\n\n", nr)
	}
}

// notRun lists the paper's cells of the group's model and data set that have no finished run.
func notRun(g *analysis.Group) string {
	var parts []string
	if g.Plain == nil || g.Plain.Acc.N == 0 {
		parts = append(parts, string(experiment.Plain))
	}
	switch g.Model {
	case analysis.Table1Model:
		// The paper's grid is of the layer semantics.
		for _, sem := range []experiment.Semantics{experiment.Layer} {
			// Variants that miss the same ratios share one entry.
			var vs, misses []string
			for _, v := range analysis.Table1Variants {
				var miss []experiment.Ratio
				for _, r := range analysis.Table1Ratios {
					if c := g.Cell(experiment.NewCell(v, r, sem)); c == nil || c.Acc.N == 0 {
						miss = append(miss, r)
					}
				}
				if len(miss) == 0 {
					continue
				}
				m := experiment.Ratios(miss)
				if i := slices.Index(misses, m); i >= 0 {
					vs[i] += ", " + string(v)
					continue
				}
				vs, misses = append(vs, string(v)), append(misses, m)
			}
			for i := range vs {
				parts = append(parts, fmt.Sprintf("%s at %s", vs[i], misses[i]))
			}
		}
	case analysis.Table2Model:
		parts = parts[:0] // Table 2 has no plain network
		for _, sem := range []experiment.Semantics{experiment.Layer} {
			for _, row := range analysis.PaperTable2 {
				if row.Dataset != g.PaperDataset() {
					continue
				}
				if c := g.Cell(experiment.NewCell(experiment.Standard, row.P, sem)); c == nil || c.Acc.N == 0 {
					parts = append(parts, "standard "+row.P.String())
				}
				if c := g.Cell(experiment.NewCell(experiment.Augmented, row.AugRatio, sem)); c == nil || c.Acc.N == 0 {
					parts = append(parts, "augmented "+row.AugRatio.String())
				}
			}
		}
	}
	return strings.Join(parts, "; ")
}

// TableHeader is the first line of table1.csv and table2.csv.
var TableHeader = []string{"variant", "ratio", "semantics", "n", "mean", "std", "ci95_low", "ci95_high", "paper", "diff_paper", "diverged", "group"}

// CSV renders the table with one line per cell that ran.
func TableCSV(t analysis.Table) string {
	rows := [][]string{TableHeader}
	for _, s := range t.Sections {
		for _, c := range s.Group.All() {
			paper := math.NaN()
			if s.Paper {
				paper = analysis.PaperValue(s.Group, c.Cell)
			}
			rows = append(rows, []string{string(c.Variant), c.RatioText(), string(c.Semantics), strconv.Itoa(c.Acc.N), csvFloat(c.Acc.Mean), csvFloat(c.Acc.Std),
				csvFloat(c.Acc.Low), csvFloat(c.Acc.High), csvFloat(paper), csvFloat(c.Acc.Mean - paper), strconv.Itoa(len(c.Diverged)), s.Group.Name()})
		}
	}
	return writeCSV(rows)
}

// comparisonsCSV renders the comparisons of every section of tables.
func comparisonsCSV(tables ...analysis.Table) string {
	rows := [][]string{ComparisonsHeader}
	for _, t := range tables {
		for _, s := range t.Sections {
			rows = append(rows, comparisonRows(s.Group.Name(), s.Comparisons)...)
		}
	}
	return writeCSV(rows)
}

// protocol describes the iterations and data sizes of runs, to tell a smoke
// run from the full protocol at a glance.
func protocol(runs []analysis.Run) string {
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

// nCell gives a cell's n, with the diverged runs beside it.
func nCell(c *analysis.CellRuns) string {
	n := strconv.Itoa(c.Acc.N)
	if len(c.Diverged) > 0 {
		n += fmt.Sprintf(" (+%d diverged)", len(c.Diverged))
	}
	return n
}

// num formats an accuracy; NaN as "–".
func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.4f", v)
}

// interval4 formats a sample's interval of the mean; none for n < 2.
func interval4(s stats.Sample) string {
	switch {
	case s.N == 1:
		return "none (n=1)"
	case s.N < 2:
		return "–"
	}
	return fmt.Sprintf("[%.4f, %.4f]", s.Low, s.High)
}

// lossText gives the mean final training loss with its interval.
func lossText(s stats.Sample) string {
	switch {
	case s.N == 0:
		return "–"
	case s.N == 1:
		return fmt.Sprintf("%.4f", s.Mean)
	}
	return fmt.Sprintf("%.4f [%.4f, %.4f]", s.Mean, s.Low, s.High)
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func joinInts(xs []int64) string {
	if len(xs) == 0 {
		return "none"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, ", ")
}

func writeCSV(rows [][]string) string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(rows) // a bytes.Buffer does not fail
	return buf.String()
}

// kernelsNote names the kernel sets that computed runs, with how many runs
// each when they differ: another BLAS gives other last bits, so a run is
// reproduced bit for bit only by a build with its kernels. "" when no run
// recorded them.
func kernelsNote(runs []analysis.Run) string {
	count := map[string]int{}
	for _, r := range runs {
		count[cmp.Or(r.Summary.Kernels, "not recorded")]++
	}
	if len(count) == 0 || (len(count) == 1 && count["not recorded"] > 0) {
		return ""
	}
	if len(count) == 1 {
		for k := range count {
			return "Kernels: " + k + "."
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		n := fmt.Sprintf("%d runs", count[k])
		if count[k] == 1 {
			n = "1 run"
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", k, n))
	}
	return "Kernels: " + strings.Join(parts, "; ") + "."
}

// wallNote says what the runs cost as measured: their wall times summed and
// per run (median and range), with the threads each used. A resumed run's
// wall time is what its summary recorded. "" when no run recorded one.
func wallNote(runs []analysis.Run) string {
	var walls []float64
	threads := map[int]bool{}
	for _, r := range runs {
		if r.Summary.WallSeconds > 0 {
			walls = append(walls, r.Summary.WallSeconds)
			threads[r.Summary.Threads] = true
		}
	}
	if len(walls) == 0 {
		return ""
	}
	slices.Sort(walls)
	total := 0.0
	for _, w := range walls {
		total += w
	}
	med := walls[len(walls)/2]
	if len(walls)%2 == 0 {
		med = (walls[len(walls)/2-1] + walls[len(walls)/2]) / 2
	}
	var ts []string
	for _, t := range slices.Sorted(maps.Keys(threads)) {
		ts = append(ts, strconv.Itoa(t))
	}
	th := "threads " + strings.Join(ts, ", ")
	switch {
	case len(ts) == 1 && ts[0] == "1":
		th = "1 thread each"
	case len(ts) == 1:
		th = ts[0] + " threads each"
	}
	if len(walls) == 1 {
		return fmt.Sprintf("Wall time: 1 run, %s (%s).", duration(total), strings.TrimSuffix(th, " each"))
	}
	return fmt.Sprintf("Wall time: %d runs, %s in all; per run median %s (%s), %s.",
		len(walls), duration(total), duration(med), durationRange(walls[0], walls[len(walls)-1]), th)
}

// durationRange writes lo–hi with one unit when duration gives both the same.
func durationRange(lo, hi float64) string {
	l, h := duration(lo), duration(hi)
	if lu, hu := l[strings.LastIndexByte(l, ' '):], h[strings.LastIndexByte(h, ' '):]; lu == hu {
		l = strings.TrimSuffix(l, lu)
	}
	return l + "–" + h
}

// duration writes seconds as minutes below two hours and as hours above.
func duration(sec float64) string {
	if sec < 7200 {
		return fmt.Sprintf("%.1f min", sec/60)
	}
	return fmt.Sprintf("%.1f h", sec/3600)
}

// paperLayout writes Table 1's cells as the paper lays them out (a row per
// variant and gradient rule, a column per ratio), each as the mean ± the
// half-width of its 95 % interval with the paper's value beside it, so the
// grid reads at a glance. Only ratios and rows that ran appear.
func paperLayout(s analysis.Section, b *strings.Builder) {
	g := s.Group
	var ratios []experiment.Ratio
	for _, r := range analysis.Table1Ratios {
		if slices.ContainsFunc(g.Cells, func(c *analysis.CellRuns) bool { return c.Ratio == r && c.Acc.N > 0 }) {
			ratios = append(ratios, r)
		}
	}
	if len(ratios) == 0 {
		return
	}
	maxN := 0
	for _, c := range g.All() {
		maxN = max(maxN, c.Acc.N)
	}
	marked, missing := false, false
	cellText := func(c *analysis.CellRuns) string {
		if c == nil || c.Acc.N == 0 {
			missing = true
			return "–"
		}
		t := num(c.Acc.Mean)
		if c.Acc.N >= 2 {
			t += fmt.Sprintf(" ± %.4f", (c.Acc.High-c.Acc.Low)/2)
		}
		if c.Acc.N != maxN {
			t += fmt.Sprintf(" (n=%d)", c.Acc.N)
		}
		if x, ok := analysis.VersusPlain(s.Comparisons, c); ok && x.Significant() {
			t += map[bool]string{true: " ▲", false: " ▼"}[x.Test.Diff > 0]
			marked = true
		}
		if p := analysis.PaperValue(g, c.Cell); s.Paper && !math.IsNaN(p) {
			t += fmt.Sprintf(" [%.4f]", p)
		}
		return t
	}
	b.WriteString("### In the paper's layout\n\n")
	fmt.Fprintf(b, "Mean ± half-width of the 95 %% interval over seeds (n = %d unless marked)", maxN)
	if s.Paper {
		b.WriteString("; the paper's value in brackets")
	}
	b.WriteString(".")
	if g.Plain != nil && g.Plain.Acc.N > 0 {
		fmt.Fprintf(b, " Plain network: %s.", cellText(g.Plain))
	}
	var rows strings.Builder
	for _, sem := range g.Semantics() {
		for _, v := range analysis.Table1Variants {
			row := make([]string, len(ratios))
			ran := false
			for i, r := range ratios {
				c := g.Cell(experiment.NewCell(v, r, sem))
				ran = ran || (c != nil && c.Acc.N > 0)
				row[i] = cellText(c)
			}
			if ran {
				fmt.Fprintf(&rows, "| %s | %s | %s |\n", v, sem, strings.Join(row, " | "))
			}
		}
	}
	if marked {
		b.WriteString(" ▲/▼: above/below plain, significant after Holm.")
	}
	if missing {
		b.WriteString(" –: not run.")
	}
	b.WriteString("\n\n| variant | gradient | " + strings.ReplaceAll(experiment.Ratios(ratios), ", ", " | ") + " |\n|---|---|" + strings.Repeat("---|", len(ratios)) + "\n")
	b.WriteString(rows.String() + "\n")
}
