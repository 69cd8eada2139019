// Package report turns run directories into the paper's tables and figures:
// Table 1 (ConvNet-Quick, variants × ratios) and Table 2 (ResNet-20, standard
// against augmented dropout per data set) in Markdown and CSV, each cell the
// mean, standard deviation and 95 % interval of the final test accuracy over
// seeds; the comparisons between cells (paired or Welch t-tests, Holm
// adjusted); the poster's claims checked against them; the paper's values
// beside the cells only where the runs are the paper's data and protocol;
// Figure 1 (training loss, test loss and test accuracy against iteration
// per variant at a ratio, mean over seeds with the band of its 95 % interval) and test
// accuracy against ratio per variant; and, for runs that recorded gradient
// diagnostics, the gradient's deviation and noise per variant with the
// generalisation gap beside them (diagnostics.go).
//
// A table cell holds the seeds of one run: runs whose config differs in
// anything but the seed (and where or how fast it ran) are never averaged,
// but split into groups, each reported apart (grouping.go).
//
// It reads finished run directories only (package results) and never
// trains, so it can report on a sweep that is still running.
package report

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// Run is one run directory with a final summary.
type Run struct {
	Dir       string
	Summary   results.Summary
	Cell      experiment.Cell  // the summary's variant, ratio and semantics, parsed
	Metrics   []results.Metric // nil if metrics.csv is missing or unreadable
	Config    *config.Run      // config.yaml over the built-in defaults (see readConfig); nil if unreadable
	DataLabel string           // the sweep's label of the data set (see dataLabel), "" if none
}

// Collection is what the run directories under the report's inputs hold.
type Collection struct {
	Runs     []Run    // finished or diverged, sorted by directory
	Pending  []string // run directories without a final summary: unfinished, interrupted or failed
	Partial  []Run    // with Options.Partial, the runs of Pending that have metrics, drawn as partial curves only
	Problems []string // files that could not be read, one message each
	Warnings []string // figures left out because they had nothing to draw, and why
}

// Collect reads the run directories under each of dirs: DIR/runs/* of a
// sweep directory, else DIR/* (a results root of dropexp train), or DIR itself
// when it is a run directory.
func Collect(dirs ...string) (Collection, error) {
	var c Collection
	seen := map[string]bool{}
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil {
			return c, fmt.Errorf("report: %w (pass a sweep directory, e.g. --in results/table1)", err)
		}
		if !fi.IsDir() {
			return c, fmt.Errorf("report: %s is not a directory (pass a sweep directory, e.g. --in results/table1)", dir)
		}
		var runDirs []string
		switch {
		case isRunDir(dir):
			runDirs = []string{dir}
		default:
			root := dir
			if isDir(filepath.Join(dir, "runs")) {
				root = filepath.Join(dir, "runs")
			}
			entries, err := os.ReadDir(root)
			if err != nil {
				return c, fmt.Errorf("report: %w", err)
			}
			for _, e := range entries {
				if p := filepath.Join(root, e.Name()); e.IsDir() && isRunDir(p) {
					runDirs = append(runDirs, p)
				}
			}
		}
		for _, rd := range runDirs {
			if abs, err := filepath.Abs(rd); err == nil {
				if seen[abs] {
					continue
				}
				seen[abs] = true
			}
			c.add(rd)
		}
	}
	slices.SortFunc(c.Runs, func(a, b Run) int { return strings.Compare(a.Dir, b.Dir) })
	slices.Sort(c.Pending)
	return c, nil
}

// add reads one run directory into c.
func (c *Collection) add(dir string) {
	sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Pending = append(c.Pending, dir)
		return
	case err != nil:
		c.Problems = append(c.Problems, err.Error()+"; rebuild it with: dropexp repair "+dir)
		return
	case sum.Status != results.StatusFinished && sum.Status != results.StatusDiverged:
		c.Pending = append(c.Pending, dir)
		return
	}
	if err := checkFinal(sum); err != nil {
		c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", filepath.Join(dir, results.SummaryFile), err))
		return
	}
	cell, err := experiment.ParseCell(sum.Variant, sum.Ratio, sum.Semantics)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", filepath.Join(dir, results.SummaryFile), err))
		return
	}
	r := Run{Dir: dir, Summary: sum, Cell: cell, DataLabel: dataLabel(dir, sum)}
	if cfg, err := readConfig(filepath.Join(dir, results.ConfigFile)); err != nil {
		// Without it the run is grouped by what summary.json says, which
		// cannot tell runs of different settings apart.
		c.Problems = append(c.Problems, err.Error()+" (grouped by summary.json alone)")
	} else {
		r.Config = cfg
	}
	m, err := results.ReadMetrics(filepath.Join(dir, results.MetricsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Runs of early builds: the final numbers are in summary.json.
		c.Problems = append(c.Problems, err.Error()+" (no curves for this run)")
	case err != nil:
		// A metrics.csv no run wrote: the run's numbers are not trusted.
		c.Problems = append(c.Problems, err.Error())
		return
	default:
		r.Metrics = m
	}
	c.Runs = append(c.Runs, r)
}

// checkFinal reports final numbers a finished run cannot have: a diverged
// run's may be missing (NaN), a finished run's are finite, the losses
// non-negative and the accuracy in [0, 1].
func checkFinal(s results.Summary) error {
	if s.Status == results.StatusDiverged {
		return nil
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"final_train_loss", s.FinalTrainLoss}, {"final_test_loss", s.FinalTestLoss}} {
		if err := results.CheckLoss(f.name, f.v); err != nil {
			return err
		}
	}
	if !(s.FinalTestAcc >= 0 && s.FinalTestAcc <= 1) {
		return fmt.Errorf("final_test_acc %v is outside [0, 1]", s.FinalTestAcc)
	}
	return nil
}

// isRunDir reports whether dir looks like a run directory.
func isRunDir(dir string) bool {
	for _, f := range []string{results.SummaryFile, results.ConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// Cell is the mean and spread of the final test accuracy over some runs,
// for the figures (the tables use CellRuns, which knows its group).
type Cell struct {
	N        int     // finished runs
	Mean     float64 // of their final test accuracy; NaN if N = 0
	Std      float64 // sample standard deviation; NaN if N < 2
	Diverged int     // runs of the cell that diverged (not in N)
	Paper    float64 // the paper's value; NaN if the paper has none
}

// newCell computes the cell of runs, with the paper's value paper.
func newCell(runs []Run, paper float64) Cell {
	c := Cell{Mean: math.NaN(), Std: math.NaN(), Paper: paper}
	var accs []float64
	for _, r := range runs {
		if r.Summary.Status == results.StatusDiverged {
			c.Diverged++
			continue
		}
		accs = append(accs, r.Summary.FinalTestAcc)
	}
	c.N = len(accs)
	if c.N == 0 {
		return c
	}
	var sum float64
	for _, a := range accs {
		sum += a
	}
	c.Mean = sum / float64(c.N)
	if c.N > 1 {
		var ss float64
		for _, a := range accs {
			ss += (a - c.Mean) * (a - c.Mean)
		}
		c.Std = math.Sqrt(ss / float64(c.N-1))
	}
	return c
}

// canonRatio spells a ratio the way results and config do; one that does
// not parse stays as written.
func canonRatio(r string) string {
	if x, _, err := experiment.ParseAnyRatio(r); err == nil {
		return x.String()
	}
	return r
}

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
func Write(opt Options) (files []string, c Collection, err error) {
	if len(opt.In) == 0 {
		return nil, c, fmt.Errorf("report: no input: pass --in SWEEPDIR")
	}
	ratios, err := figRatios(opt.FigRatios)
	if err != nil {
		return nil, c, err
	}
	if c, err = Collect(opt.In...); err != nil {
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
		c.readPartial()
	}
	note := c.Note(opt.In)
	groups, dups := Groups(c.Runs)
	c.Problems = append(c.Problems, dups...)
	t1, t2 := BuildTable(Table1Model, groups), BuildTable(Table2Model, groups)
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
		{Table1MD, t1.Markdown(note)}, {Table1CSV, t1.CSV()}, {Table2MD, t2.Markdown(note)}, {Table2CSV, t2.CSV()},
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
