package report

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
)

// IndexHTML is the report as one self-contained page: the tables, findings
// and comparisons, every figure as inline SVG, and each run's curves and
// its config's differences from the base config it started from. It loads
// nothing (no network, no script, no other file) and prints as it shows.
const IndexHTML = "index.html"

// htmlReport collects what the report writes, to show it on one page.
type htmlReport struct {
	note               string
	docs               []htmlDoc       // the Markdown files, in the order written
	figures            []htmlDoc       // the SVG figures, in the order written
	files              []string        // every file written, for the list of downloads
	empty              map[string]bool // Markdown files with nothing to show (a table without runs)
	runs               []analysis.Run  // finished, diverged and (with Options.Partial) unfinished
	problems, warnings []string
}

// htmlDoc is one file the report wrote.
type htmlDoc struct {
	name string
	data []byte
}

// add records a file the report wrote.
func (h *htmlReport) add(name string, data []byte) {
	h.files = append(h.files, name)
	switch {
	case strings.HasSuffix(name, ".md"):
		h.docs = append(h.docs, htmlDoc{name, data})
	case strings.HasSuffix(name, ".svg"):
		h.figures = append(h.figures, htmlDoc{name, data})
	}
}

// pageCSS is the page's whole style: readable tables, figures as wide as
// the page, runs folded until opened.
const pageCSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1360px;padding:1rem 2rem 3rem;color:#1d1d1d;line-height:1.45}
h1{font-size:1.7rem;margin:.5rem 0}h2{font-size:1.35rem;margin-top:2.2rem;border-bottom:2px solid #ddd;padding-bottom:.2rem}
h3{font-size:1.12rem;margin-top:1.6rem}h4{font-size:1rem;margin-top:1.2rem}
nav a{margin-right:1rem}p.note{color:#444}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d0d0;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f1f3f5}tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0 2rem}figure svg{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555;margin-bottom:.3rem}
.run-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:1rem}
.run{border:1px solid #ddd;border-radius:4px;padding:.4rem .8rem}.run h3{margin:.2rem 0 .4rem;font-size:1rem}
.run table{font-size:.82rem}.run p{margin:.3rem 0;font-size:.88rem}
.partial{color:#a04000}.diverged{color:#b00020}.run-curves svg{width:100%;height:auto}
code{background:#f3f3f3;padding:0 .2rem;border-radius:3px}ul{padding-left:1.4rem}
.files a{margin-right:.8rem}
`

// esc escapes text for HTML: the one function every name, label, path and
// message goes through on its way into the page, in text and in
// attributes (always double-quoted) alike.
func esc(text string) string { return html.EscapeString(text) }

// render returns the page.
func (h *htmlReport) render() []byte {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>dropexp report</title>\n<style>" + pageCSS + "</style>\n</head>\n<body>\n")
	b.WriteString("<header>\n<h1>dropexp report</h1>\n")
	fmt.Fprintf(&b, "<p class=\"note\">%s</p>\n<nav>", esc(h.note))
	var docs []htmlDoc
	for _, d := range h.docs {
		if !h.empty[d.name] {
			docs = append(docs, d)
		}
	}
	for _, d := range docs {
		if d.name == FindingsMD && strings.Contains(string(d.data), answerHeading) {
			b.WriteString("<a href=\"#answer\">Answer</a>")
		}
	}
	for _, d := range docs {
		if d.name == Table1MD || d.name == Table2MD {
			fmt.Fprintf(&b, "<a href=\"#%s\">%s</a>", esc(docID(d.name)), esc(docTitle(d)))
		}
	}
	if len(h.figures) > 0 {
		b.WriteString("<a href=\"#figures\">Figures</a>")
	}
	for _, d := range docs {
		if d.name != Table1MD && d.name != Table2MD {
			fmt.Fprintf(&b, "<a href=\"#%s\">%s</a>", esc(docID(d.name)), esc(docTitle(d)))
		}
	}
	if len(h.runs) > 0 {
		b.WriteString("<a href=\"#runs\">Runs</a>")
	}
	b.WriteString("</nav>\n</header>\n")

	// The answer first (from findings.md), then the tables, the figures,
	// the findings and the rest.
	for i, d := range docs {
		if d.name != FindingsMD {
			continue
		}
		if answer, rest, ok := cutAnswer(string(d.data)); ok {
			fmt.Fprintf(&b, "<section id=\"answer\" class=\"doc\">\n%s</section>\n", markdownHTML(answer, 1))
			docs[i].data = []byte(rest)
		}
	}
	isTable := func(d htmlDoc) bool { return d.name == Table1MD || d.name == Table2MD }
	for _, d := range docs {
		if isTable(d) {
			fmt.Fprintf(&b, "<section id=\"%s\" class=\"doc\">\n%s</section>\n", esc(docID(d.name)), markdownHTML(string(d.data), 1))
		}
	}
	if len(h.figures) > 0 {
		b.WriteString("<section id=\"figures\">\n<h2>Figures</h2>\n")
		for _, f := range h.figures {
			name := strings.TrimSuffix(f.name, ".svg")
			fmt.Fprintf(&b, "<figure id=\"fig-%s\" class=\"report-figure\">\n<figcaption>%s (<a href=\"%s\">SVG</a>, <a href=\"%s.png\">PNG</a>)</figcaption>\n%s\n</figure>\n",
				esc(name), esc(name), esc(f.name), esc(name), inlineSVG(f.data))
		}
		b.WriteString("</section>\n")
	}
	for _, d := range docs {
		if !isTable(d) {
			fmt.Fprintf(&b, "<section id=\"%s\" class=\"doc\">\n%s</section>\n", esc(docID(d.name)), markdownHTML(string(d.data), 1))
		}
	}
	if len(h.runs) > 0 {
		h.renderRuns(&b)
	}
	if len(h.problems)+len(h.warnings) > 0 {
		b.WriteString("<section id=\"problems\">\n<h2>Problems and warnings</h2>\n<ul>\n")
		for _, p := range h.problems {
			fmt.Fprintf(&b, "<li>skipped: %s</li>\n", esc(p))
		}
		for _, w := range h.warnings {
			fmt.Fprintf(&b, "<li>warning: %s</li>\n", esc(w))
		}
		b.WriteString("</ul>\n</section>\n")
	}
	b.WriteString("<footer>\n<h2>Files</h2>\n<p class=\"files\">")
	for _, f := range h.files {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a> ", esc(f), esc(f))
	}
	b.WriteString("</p>\n</footer>\n</body>\n</html>\n")
	return b.Bytes()
}

// answerHeading opens the answer section of findings.md.
const answerHeading = "## The answer\n"

// cutAnswer splits findings.md into its answer section (up to the rule that
// follows it) and the rest.
func cutAnswer(md string) (answer, rest string, ok bool) {
	i := strings.Index(md, answerHeading)
	if i < 0 {
		return "", md, false
	}
	j := strings.Index(md[i:], "\nRule. ")
	if j < 0 {
		return "", md, false
	}
	return md[i : i+j+1], md[:i] + md[i+j+1:], true
}

// docID is the anchor of a Markdown file's section.
func docID(name string) string { return "doc-" + strings.TrimSuffix(name, ".md") }

// docTitle is the text of a Markdown file's first heading, else its name.
func docTitle(d htmlDoc) string {
	for line := range strings.SplitSeq(string(d.data), "\n") {
		if t, ok := strings.CutPrefix(line, "# "); ok {
			if i := strings.Index(t, ":"); i > 0 && i < 12 {
				t = t[:i] // "Table 1: test accuracy of ..." -> "Table 1"
			}
			return t
		}
	}
	return d.name
}

// inlineSVG returns an SVG file as an element to put in the page: its XML
// declaration and comments dropped.
func inlineSVG(data []byte) string {
	s := string(data)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return s
}

// renderRuns writes the runs section: a table of every run with its status
// and swept settings, then each run's curves and config differences.
func (h *htmlReport) renderRuns(b *bytes.Buffer) {
	names := runNames(h.runs)
	keys := sweptKeys(h.runs)
	runs := slices.Clone(h.runs)
	slices.SortStableFunc(runs, func(a, c analysis.Run) int { return strings.Compare(names[a.Dir], names[c.Dir]) })
	diffs, shared, bases := configDiffs(runs)

	b.WriteString("<section id=\"runs\">\n<h2>Runs</h2>\n")
	if len(bases) == 0 {
		b.WriteString("<p>The runs' base configs are not recorded (not a sweep directory, or one written before dropexp recorded them); the table shows the settings that differ between runs.</p>\n")
	}
	if len(shared) > 0 {
		fmt.Fprintf(b, "<p>Every run differs from its base config (%s) in:</p>\n", esc(strings.Join(bases, ", ")))
		b.WriteString("<table class=\"shared\">\n<tr><th>key</th><th>base</th><th>every run</th></tr>\n")
		for _, d := range shared {
			fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", esc(d.key), esc(d.base), esc(d.run))
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("<table class=\"runs\">\n<tr><th>run</th><th>status</th><th>test accuracy</th><th>final training loss</th>")
	for _, k := range keys {
		fmt.Fprintf(b, "<th>%s</th>", esc(k))
	}
	b.WriteString("</tr>\n")
	for _, r := range runs {
		set := analysis.SettingsOf(r)
		fmt.Fprintf(b, "<tr><td><a href=\"#%s\">%s</a></td><td>%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>",
			esc(runID(names[r.Dir])), esc(names[r.Dir]), statusHTML(r), finalNum(r, r.Summary.FinalTestAcc), finalNum(r, r.Summary.FinalTrainLoss))
		for _, k := range keys {
			fmt.Fprintf(b, "<td>%s</td>", esc(dash(set[k])))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	ranges := runRanges(runs)
	b.WriteString("<div class=\"run-grid\">\n")
	for _, r := range runs {
		name := names[r.Dir]
		fmt.Fprintf(b, "<div id=\"%s\" class=\"run\">\n<h3>%s: %s</h3>\n", esc(runID(name)), esc(name), statusHTML(r))
		fmt.Fprintf(b, "<div class=\"run-curves\">%s</div>\n", runCurvesSVG(r, ranges[rangeKey(r)]))
		for _, e := range evaluations(r.Dir) {
			fmt.Fprintf(b, "<div class=\"run-eval\"><p>%s</p>%s</div>\n", esc(e.caption), confusionSVG(e.c))
		}
		switch d := diffs[r.Dir]; {
		case d.base == "" && len(bases) == 0:
		case d.base == "":
			b.WriteString("<p>Its base config is not known (not in a sweep directory, or one written before dropexp recorded it).</p>\n")
		case len(d.rows) == 0:
			fmt.Fprintf(b, "<p>Config: as its base %s%s.</p>\n", esc(d.base), map[bool]string{true: " but for what every run changes (above)", false: ""}[len(shared) > 0])
		default:
			fmt.Fprintf(b, "<p>Config differences from its base %s%s:</p>\n<table class=\"diff\">\n<tr><th>key</th><th>base</th><th>this run</th></tr>\n",
				esc(d.base), map[bool]string{true: " (besides those of every run, above)", false: ""}[len(shared) > 0])
			for _, row := range d.rows {
				fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", esc(row.key), esc(row.base), esc(row.run))
			}
			b.WriteString("</table>\n")
		}
		fmt.Fprintf(b, "<p>Directory: <code>%s</code></p>\n</div>\n", esc(r.Dir))
	}
	b.WriteString("</div>\n</section>\n")
}

// runID is the anchor of a run's details, one HTML token whatever the
// run directory is called: letters, digits, '-' and '.' kept, '_' as "__"
// and any other byte as _XX (hex), so that two names never share one.
func runID(name string) string {
	var b strings.Builder
	b.WriteString("run-")
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteByte(c)
		case c == '_':
			b.WriteString("__")
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// statusHTML says how a run ended, or how far an unfinished one got.
func statusHTML(r analysis.Run) string {
	s := r.Summary
	switch {
	case s.Status == results.StatusFinished:
		return "finished"
	case s.Status == results.StatusDiverged:
		return fmt.Sprintf("<span class=\"diverged\">diverged at %d</span>", s.DivergedAt)
	}
	return fmt.Sprintf("<span class=\"partial\">unfinished (%s), %s</span>", esc(s.Status), esc(progressText(r)))
}

// finalNum is a finished run's final value; "–" for others (an unfinished
// run's last value is not a final one).
func finalNum(r analysis.Run, v float64) string {
	if r.Summary.Status != results.StatusFinished || math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// diffRow is one key whose value differs from the base config's.
type diffRow struct{ key, base, run string }

// runDiff is a run's differences from its base config.
type runDiff struct {
	base string // the base config as the page names it; "" if not known
	rows []diffRow
}

// configDiffs returns each run's differences from its base config (by run
// directory), less the differences every run shares, which are returned
// apart, and the base configs' names.
func configDiffs(runs []analysis.Run) (diffs map[string]runDiff, shared []diffRow, bases []string) {
	diffs = map[string]runDiff{}
	indexes := map[string]map[string]*string{} // sweep directory -> run directory name -> base
	baseSettings := map[string]map[string]string{}
	known := 0
	for _, r := range runs {
		sweepDir := filepath.Dir(filepath.Dir(r.Dir))
		if _, ok := indexes[sweepDir]; !ok {
			indexes[sweepDir] = readBases(sweepDir)
		}
		base, ok := indexes[sweepDir][filepath.Base(r.Dir)]
		if !ok || base == nil {
			diffs[r.Dir] = runDiff{}
			continue
		}
		set, ok := baseSettings[*base]
		if !ok {
			set = loadBase(*base)
			baseSettings[*base] = set
		}
		name := *base
		if name == "" {
			name = "the embedded demo config"
		}
		if set == nil {
			diffs[r.Dir] = runDiff{}
			continue
		}
		if !slices.Contains(bases, name) {
			bases = append(bases, name)
		}
		known++
		var rows []diffRow
		runSet := analysis.SettingsOf(r)
		for _, k := range config.Keys() {
			if slices.Contains([]string{"out", "threads"}, k) {
				continue
			}
			if rv, bv := runSet[k], set[k]; rv != bv {
				rows = append(rows, diffRow{k, dash(bv), dash(rv)})
			}
		}
		diffs[r.Dir] = runDiff{base: name, rows: rows}
	}
	if known < 2 || known < len(runs) {
		return diffs, nil, bases
	}
	// What every run changes, said once.
	first := diffs[runs[0].Dir].rows
	for _, row := range first {
		if !slices.ContainsFunc(runs, func(r analysis.Run) bool { return !slices.Contains(diffs[r.Dir].rows, row) }) {
			shared = append(shared, row)
		}
	}
	for dir, d := range diffs {
		d.rows = slices.DeleteFunc(d.rows, func(row diffRow) bool { return slices.Contains(shared, row) })
		diffs[dir] = d
	}
	return diffs, shared, bases
}

// readBases returns the base config of each run of the sweep directory dir
// by run directory name, from its index.json; nil values where the index
// does not say (written by an older dropexp).
func readBases(dir string) map[string]*string {
	ix, err := results.ReadSweepIndex[string](dir)
	if err != nil {
		return nil
	}
	out := map[string]*string{}
	for _, e := range ix.Runs {
		out[filepath.Base(e.Dir)] = e.Base
	}
	return out
}

// loadBase returns the settings of a base run config ("" the embedded
// demo config) as readConfig spells them, or nil if it cannot be loaded.
func loadBase(file string) map[string]string {
	cfg, err := config.Load(file, nil, nil)
	if err != nil {
		return nil
	}
	return cfg.Settings()
}

// Each run's curves: two panels, the training and test loss and the test
// accuracy against iteration, drawn to the run's full length, so an
// unfinished run shows how far it got (dashed, with its iteration).
const (
	curveW, curveH = 360.0, 170.0 // one panel, in px
	padL, padR     = 44.0, 18.0
	padT, padB     = 22.0, 28.0
)

// yRanges are the y ranges of a run's two panels: [lo, hi] of the losses
// and of the test accuracy.
type yRanges struct{ loss, acc [2]float64 }

// rangeKey is what runs share their panels' y ranges by: the network and
// the data, so runs read against each other are drawn to one scale.
func rangeKey(r analysis.Run) string { return r.Summary.Model + "\x00" + analysis.DataTitle(r.Summary) }

// runRanges returns the y ranges of the runs' panels by rangeKey.
func runRanges(runs []analysis.Run) map[string]yRanges {
	out := map[string]yRanges{}
	grow := func(rg *[2]float64, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			rg[0], rg[1] = min(rg[0], v), max(rg[1], v)
		}
	}
	for _, r := range runs {
		k := rangeKey(r)
		yr, ok := out[k]
		if !ok {
			yr = yRanges{loss: [2]float64{math.Inf(1), math.Inf(-1)}, acc: [2]float64{math.Inf(1), math.Inf(-1)}}
		}
		for _, m := range r.Metrics {
			grow(&yr.loss, m.TrainLoss)
			grow(&yr.loss, m.TestLoss)
			grow(&yr.acc, m.TestAcc)
		}
		out[k] = yr
	}
	return out
}

// runCurvesSVG draws a run's curves as an inline SVG, on the y ranges yr.
func runCurvesSVG(r analysis.Run, yr yRanges) string {
	total := float64(r.Summary.Iterations)
	if total == 0 && r.Config != nil {
		total = float64(r.Config.Train.Iterations)
	}
	for _, m := range r.Metrics {
		total = max(total, float64(m.Iteration))
	}
	if total <= 0 || len(r.Metrics) == 0 {
		return "<p>No metrics.</p>"
	}
	partial := !analysis.Final(r)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="curves" viewBox="0 0 %g %g" width="%g" height="%g" font-family="sans-serif" font-size="11">`,
		2*curveW, curveH, 2*curveW, curveH)
	b.WriteString(`<rect width="100%" height="100%" fill="#fff"/>`)
	series := func(f func(results.Metric) float64) [][2]float64 {
		var pts [][2]float64
		for _, m := range r.Metrics {
			if v := f(m); !math.IsNaN(v) && !math.IsInf(v, 0) {
				pts = append(pts, [2]float64{float64(m.Iteration), v})
			}
		}
		return pts
	}
	train, test := series(func(m results.Metric) float64 { return m.TrainLoss }), series(func(m results.Metric) float64 { return m.TestLoss })
	acc := series(func(m results.Metric) float64 { return m.TestAcc })
	runPanel(&b, 0, "loss", total, []curveSeries{{"training (with masks)", "#0072b2", train}, {"test", "#d55e00", test}}, partial, yr.loss)
	runPanel(&b, curveW, "test accuracy", total, []curveSeries{{"test accuracy", "#009e73", acc}}, partial, yr.acc)
	if partial {
		fmt.Fprintf(&b, `<text x="%g" y="%g" fill="#a04000" text-anchor="end">unfinished: %s</text>`, 2*curveW-padR, curveH-4, esc(progressText(r)))
	}
	b.WriteString("</svg>")
	return b.String()
}

// curveSeries is one line of a run's panel.
type curveSeries struct {
	label, color string
	pts          [][2]float64
}

// runPanel draws one panel at x offset ox: axes, 0..total iterations, rg
// on y (widened to the series' own range if they leave it) with ticks at
// round values, and a legend in the top row.
func runPanel(b *strings.Builder, ox float64, title string, total float64, ss []curveSeries, dashed bool, rg [2]float64) {
	lo, hi := rg[0], rg[1]
	for _, s := range ss {
		for _, p := range s.pts {
			lo, hi = min(lo, p[1]), max(hi, p[1])
		}
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-0.5*max(math.Abs(lo), 1e-3), hi+0.5*max(math.Abs(hi), 1e-3)
	}
	pad := (hi - lo) * 0.06
	lo, hi = lo-pad, hi+pad
	x0, x1 := ox+padL, ox+curveW-padR
	y0, y1 := curveH-padB, padT
	px := func(x float64) float64 { return x0 + (x1-x0)*x/total }
	py := func(y float64) float64 { return y0 + (y1-y0)*(y-lo)/(hi-lo) }
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`, x0, y1, x1-x0, y0-y1)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-weight="600">%s</text>`, x0, padT-8, esc(title))
	for _, t := range (roundTicks{}).Ticks(lo, hi) {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, x0-3, py(t.Value)+4, esc(t.Label))
	}
	for _, x := range []float64{0, total / 2, total} {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px(x), y0+13, strconv.FormatFloat(math.Round(x), 'f', 0, 64))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">iteration</text>`, (x0+x1)/2, curveH-3)
	lx := x1
	for i := len(ss) - 1; i >= 0; i-- {
		s := ss[i]
		if len(ss) > 1 {
			lx -= 7 * float64(len(s.label)+3)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/><text x="%.1f" y="%.1f">%s</text>`,
				lx, padT-11, lx+14, padT-11, s.color, lx+17, padT-7, esc(s.label))
		}
		var pts []string
		for _, p := range s.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p[0]), py(p[1])))
		}
		dash := ""
		if dashed {
			dash = ` stroke-dasharray="4 3"`
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.6"%s/>`, strings.Join(pts, " "), s.color, dash)
	}
}

// markdownHTML renders the Markdown the report writes (headings, paragraphs,
// lists, pipe tables, **bold**, *emphasis* and `code`) as HTML, headings
// shifted down by shift levels under the page's own title.
func markdownHTML(md string, shift int) string {
	var b strings.Builder
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case strings.TrimSpace(line) == "":
			i++
		case strings.HasPrefix(line, "#"):
			level := len(line) - len(strings.TrimLeft(line, "#"))
			text := strings.TrimSpace(line[level:])
			level = min(level+shift, 6)
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", level, inlineHTML(text), level)
			i++
		case strings.HasPrefix(line, "|"):
			var rows [][]string
			for ; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
				rows = append(rows, tableCells(lines[i]))
			}
			b.WriteString("<table>\n")
			for j, row := range rows {
				if j == 1 && isSeparator(row) {
					continue
				}
				tag := "td"
				if j == 0 {
					tag = "th"
				}
				b.WriteString("<tr>")
				for _, c := range row {
					class := ""
					if tag == "td" && numericCell.MatchString(c) {
						class = ` class="num"`
					}
					fmt.Fprintf(&b, "<%s%s>%s</%s>", tag, class, inlineHTML(c), tag)
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</table>\n")
		case strings.HasPrefix(line, "- "):
			b.WriteString("<ul>\n")
			for i < len(lines) && strings.HasPrefix(lines[i], "- ") {
				item := strings.TrimPrefix(lines[i], "- ")
				for i++; i < len(lines) && strings.HasPrefix(lines[i], "  ") && strings.TrimSpace(lines[i]) != ""; i++ {
					item += " " + strings.TrimSpace(lines[i])
				}
				fmt.Fprintf(&b, "<li>%s</li>\n", inlineHTML(item))
			}
			b.WriteString("</ul>\n")
		default:
			var para []string
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && !strings.HasPrefix(lines[i], "#") &&
				!strings.HasPrefix(lines[i], "|") && !strings.HasPrefix(lines[i], "- "); i++ {
				para = append(para, strings.TrimSpace(lines[i]))
			}
			fmt.Fprintf(&b, "<p>%s</p>\n", inlineHTML(strings.Join(para, " ")))
		}
	}
	return b.String()
}

// numericCell matches a table cell that holds a number (right-aligned).
var numericCell = regexp.MustCompile(`^[−+-]?[0-9.]+( [▲▼*])?$`)

// tableCells splits a pipe-table row into its cells.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	cells := strings.Split(line, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// isSeparator reports whether a table row is the |---|---| line.
func isSeparator(row []string) bool {
	for _, c := range row {
		if strings.Trim(c, "-: ") != "" {
			return false
		}
	}
	return true
}

var (
	boldRE = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	emRE   = regexp.MustCompile(`(^|[\s(])\*([^*\s][^*]*[^*\s]|[^*\s])\*([\s).,;:]|$)`)
	codeRE = regexp.MustCompile("`([^`]+)`")
)

// inlineHTML escapes text and renders its **bold**, *emphasis* and `code`.
func inlineHTML(text string) string {
	s := esc(text)
	s = codeRE.ReplaceAllString(s, "<code>$1</code>")
	s = boldRE.ReplaceAllString(s, "<strong>$1</strong>")
	s = emRE.ReplaceAllString(s, "$1<em>$2</em>$3")
	return s
}
