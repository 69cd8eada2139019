// Package report renders what package analysis finds in run directories:
// Table 1 (ConvNet-Quick, variants × ratios) and Table 2 (ResNet-20, standard
// against augmented dropout per data set) in Markdown and CSV, each cell the
// mean, standard deviation and 95 % interval of the final test accuracy over
// seeds; the comparisons between cells; findings.md, which opens with the
// answer and checks the claims; Figure 1 (training loss, test loss and test
// accuracy against iteration per variant at a ratio, mean over seeds with
// the band of its 95 % interval), test accuracy against ratio per variant,
// the settings figure; for runs that recorded gradient diagnostics, the
// gradient's deviation and noise per variant with the generalisation gap
// beside them (diagnostics.go); runs.csv for other tools; and index.html,
// which shows them all. Write does it all.
//
// It never trains, so it can report on a sweep that is still running.
package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
)

// The files Write produces.
const (
	Table1MD        = "table1.md"
	ComparisonsCSV  = "comparisons.csv"
	FindingsMD      = "findings.md"
	Table1CSV       = "table1.csv"
	Table2MD        = "table2.md"
	Table2CSV       = "table2.csv"
	Figure1PNG      = "figure1.png"
	Figure1SVG      = "figure1.svg"
	AccuracyPNG     = "accuracy_vs_ratio.png"
	AccuracySVG     = "accuracy_vs_ratio.svg"
	DefaultFigRatio = "0.3"
)

// Options configure Write.
type Options struct {
	In        []string // sweep directories, results roots or run directories
	Out       string   // where the files go; "": the first of In
	FigRatios []string // ratios of Figure 1's rows; nil: DefaultFigRatio
	Partial   bool     // draw the curves of unfinished runs too, marked as partial (never in the statistics)
}

// Write reads the run directories of opt.In and writes into opt.Out both
// tables as Markdown and CSV, the comparisons as CSV, the checked claims
// as Markdown and both figures as PNG and SVG. It returns the files written
// and what it could not read.
func Write(opt Options) (files []string, c analysis.Collection, err error) {
	if len(opt.In) == 0 {
		return nil, c, fmt.Errorf("report: no input: pass --in SWEEPDIR")
	}
	ratios, err := figRatios(opt.FigRatios)
	if err != nil {
		return nil, c, err
	}
	if c, err = analysis.Collect(opt.In...); err != nil {
		return nil, c, err
	}
	if len(c.Runs) == 0 && len(c.Pending) == 0 {
		if len(c.Problems) > 0 {
			return nil, c, fmt.Errorf("report: no run under %s could be read:\n  %s", strings.Join(opt.In, ", "), strings.Join(c.Problems, "\n  "))
		}
		return nil, c, fmt.Errorf("report: no run directories under %s (a sweep directory holds runs/NAME/summary.json)", strings.Join(opt.In, ", "))
	}
	out := opt.Out
	if out == "" {
		out = opt.In[0]
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, c, fmt.Errorf("report: %w", err)
	}
	// Before writing: a report killed while writing left its temporary files.
	if err := removeStaleTemps(out, time.Now()); err != nil {
		return nil, c, err
	}
	if opt.Partial {
		c.ReadPartial()
	}
	note := c.Note(opt.In)
	groups, dups := analysis.Groups(c.Runs)
	c.Problems = append(c.Problems, dups...)
	t1, t2 := analysis.BuildTable(analysis.Table1Model, groups), analysis.BuildTable(analysis.Table2Model, groups)
	page := htmlReport{note: note, runs: nil}
	write := func(name string, data []byte) error {
		p := filepath.Join(out, name)
		if err := results.WriteFileAtomic(p, data); err != nil {
			return err
		}
		files = append(files, p)
		page.add(name, data)
		return nil
	}
	for _, f := range []struct {
		name, text string
	}{
		{Table1MD, TableMarkdown(t1, note)}, {Table1CSV, TableCSV(t1)}, {Table2MD, TableMarkdown(t2, note)}, {Table2CSV, TableCSV(t2)},
		{ComparisonsCSV, comparisonsCSV(t1, t2)}, {FindingsMD, findingsDoc(note, groups)},
	} {
		if err := write(f.name, []byte(f.text)); err != nil {
			return files, c, err
		}
	}
	drawn := c.Runs
	if opt.Partial {
		drawn = append(slices.Clone(c.Runs), c.Partial...)
	}
	if err := write(RunsCSV, []byte(runsCSV(drawn))); err != nil {
		return files, c, err
	}
	figs, warnings := Figures(drawn, ratios)
	c.Warnings = append(c.Warnings, warnings...)
	for _, fig := range figs {
		pngData, svgData, err := fig.Render()
		if err != nil {
			return files, c, err
		}
		if err := write(fig.Name+".png", pngData); err != nil {
			return files, c, err
		}
		if err := write(fig.Name+".svg", svgData); err != nil {
			return files, c, err
		}
	}
	// The gradient diagnostics of the runs that recorded them (diagnostics.go).
	if err := writeDiagnostics(&c, ratios, note, write); err != nil {
		return files, c, err
	}
	// Last: it shows what the others wrote.
	page.runs, page.problems, page.warnings = drawn, c.Problems, c.Warnings
	page.empty = map[string]bool{Table1MD: len(t1.Sections) == 0, Table2MD: len(t2.Sections) == 0}
	if err := write(IndexHTML, page.render()); err != nil {
		return files, c, err
	}
	return files, c, nil
}

// figRatios parses the ratios of Figure 1's rows, DefaultFigRatio for none.
func figRatios(in []string) ([]experiment.Ratio, error) {
	if len(in) == 0 {
		in = []string{DefaultFigRatio}
	}
	var rs []experiment.Ratio
	for _, s := range in {
		r, _, err := experiment.ParseAnyRatio(s)
		if err != nil {
			return nil, fmt.Errorf("report: --ratio: %w", err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// staleTemp is the age past which a temporary file of an atomic write in a
// report directory is taken for one a killed report left: a report takes
// seconds.
const staleTemp = 10 * time.Minute

// removeStaleTemps removes from dir the temporary files (.NAME.tmpNNN) of
// atomic writes of the files a report writes (tables, figures, index.html,
// any .md, .csv, .png, .svg or .html) older than staleTemp; a report
// running now into the same directory keeps its own.
func removeStaleTemps(dir string, now time.Time) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), ".")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		base, _, ok := strings.Cut(name, ".tmp")
		if !ok || !slices.Contains([]string{".md", ".csv", ".png", ".svg", ".html"}, filepath.Ext(base)) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < staleTemp {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("report: removing a temporary file a killed report left: %w", err)
		}
	}
	return nil
}
