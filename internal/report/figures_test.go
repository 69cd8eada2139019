package report

import (
	"bytes"
	"image/png"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
)

func TestIntTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string // the labelled ticks
	}{
		{0, 300, []string{"0", "50", "100", "150", "200", "250", "300"}},
		{0, 5000, []string{"0", "1000", "2000", "3000", "4000", "5000"}},
		{0, 5860, []string{"0", "1000", "2000", "3000", "4000", "5000"}},
		{0, 4, []string{"0", "1", "2", "3", "4"}},
		{100, 100, []string{"100"}},
	} {
		var got []string
		for _, tk := range (intTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
			if tk.Value != math.Trunc(tk.Value) {
				t.Errorf("[%g, %g]: tick at %g is not an iteration", tc.lo, tc.hi, tk.Value)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("[%g, %g]: labels %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestDataTitle(t *testing.T) {
	for _, tc := range []struct {
		name, path  string
		train, test int
		want        string
	}{
		{"mnist", "", 60000, 2000, "MNIST (60000/2000 images)"},
		{"mnist", "", 60000, 10000, "MNIST"},
		{"imagefolder", "cifar10-jpeg.tar.xz", 5000, 1000, "CIFAR-10 (JPEG image folder, 5000/1000 images)"},
		{"imagefolder", "cifar10-jpeg.tar.xz", 50000, 10000, "CIFAR-10 (JPEG image folder)"},
	} {
		if got := analysis.DataTitle(results.Summary{Dataset: tc.name, DatasetPath: tc.path, TrainSize: tc.train, TestSize: tc.test}); got != tc.want {
			t.Errorf("DataTitle(%s, %q, %d/%d) = %q, want %q", tc.name, tc.path, tc.train, tc.test, got, tc.want)
		}
	}
	for _, tc := range []struct{ name, path, want string }{
		{"imagefolder", "../shared/data/cifar10-jpeg.tar.xz", "CIFAR-10 (JPEG image folder)"},
		{"imagefolder", "/data/CIFAR-100_png/", "CIFAR-100 (PNG image folder)"},
		{"imagefolder", "data/flowers.tar.gz", "flowers (image folder)"},
		{"imagefolder", "", "image folder"},
		{"cifar10", "data/cifar10", "CIFAR-10"},
		{"mnist", "", "MNIST"},
		{"svhn", "x", "SVHN"},
		{"cifar100-coarse", "x", "CIFAR-100 (20 coarse classes)"},
	} {
		if got := analysis.DataTitle(results.Summary{Dataset: tc.name, DatasetPath: tc.path}); got != tc.want {
			t.Errorf("DataTitle(%s, %q) = %q, want %q", tc.name, tc.path, got, tc.want)
		}
	}
}

// figureRuns returns the table 1 fixture runs, read back as a report reads them.
func figureRuns(t *testing.T) []analysis.Run {
	_, c := collect(t, table1Runs)
	return c.Runs
}

func TestFigure1(t *testing.T) {
	runs := figureRuns(t)
	fig, warn := Figure1(runs, []experiment.Ratio{{P: 0.3}})
	if warn != "" || len(fig.Rows) != 2 {
		t.Fatalf("%d rows, warning %q; want the layer and elementwise rows at 0.3", len(fig.Rows), warn)
	}
	row := fig.Rows[0]
	if row.Title != "ConvNet-Quick on CIFAR-10, layer gradient, dropout ratio 0.3" {
		t.Errorf("title %q", row.Title)
	}
	var titles []string
	for _, p := range row.Panels {
		titles = append(titles, p.Title.Text)
	}
	if !slices.Equal(titles, []string{"Training loss (running mean, with the masks)", "Test loss", "Test accuracy"}) {
		t.Errorf("panels %q", titles)
	}
	// Three seeds of standard differ in training loss: their band is drawn and explained.
	png1, svg, err := fig.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"plain (n=3)", "standard 0.3 (n=3)", "band: 95 % interval of", "over seeds", "ConvNet-Quick on CIFAR-10, layer gradient"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("figure lacks %q", want)
		}
	}
	img, err := png.Decode(bytes.NewReader(png1))
	if err != nil {
		t.Fatal(err)
	}
	// Two rows of three panels and the legend beside them.
	if b := img.Bounds(); b.Dx() < 3*int(fig.PanelW.Dots(96))*9/10 || b.Dy() < 2*int(fig.PanelH.Dots(96)) {
		t.Errorf("figure is %v", b)
	}
	// No ticks with decimals on the iteration axis.
	for _, tk := range row.Panels[0].X.Tick.Marker.Ticks(0, 300) {
		if strings.Contains(tk.Label, ".") {
			t.Errorf("iteration tick %q", tk.Label)
		}
	}
}

func TestFigure1NothingToDraw(t *testing.T) {
	runs := figureRuns(t)
	fig, warn := Figure1(runs, []experiment.Ratio{{P: 0.2}})
	if len(fig.Rows) != 0 {
		t.Errorf("%d rows at a ratio without runs", len(fig.Rows))
	}
	if want := "figure1 not written: no finished run with metrics at dropout ratio 0.2 (the runs have 0.3, 0.1; pass one with --ratio)"; warn != want {
		t.Errorf("warning\n%q\nwant\n%q", warn, want)
	}
	figs, warns := Figures(runs, []experiment.Ratio{{P: 0.2}})
	if len(figs) != 1 || figs[0].Name != "accuracy_vs_ratio" || len(warns) != 1 {
		t.Errorf("figures %d, warnings %q", len(figs), warns)
	}
	if _, w := AccuracyVsRatio(nil); !strings.Contains(w, "accuracy_vs_ratio not written") {
		t.Errorf("no runs: warning %q", w)
	}
}

func TestAccuracyVsRatio(t *testing.T) {
	fig, warn := AccuracyVsRatio(figureRuns(t))
	if warn != "" || len(fig.Rows) != 2 {
		t.Fatalf("%d rows, warning %q", len(fig.Rows), warn)
	}
	_, svg, err := fig.Render()
	if err != nil {
		t.Fatal(err)
	}
	// Each variant's paper values have their own legend entry (and colour).
	for _, want := range []string{"standard (n=3)", "standard, paper", "forward, paper", "backward, paper", "plain, paper", "bars: 95 % interval of the"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("accuracy figure lacks %q", want)
		}
	}
	// The paper's values stand beside full CIFAR-10 runs only: not beside
	// MNIST, nor beside a part of CIFAR-10.
	for _, tc := range []struct {
		runs  []fakeRun
		paper bool
	}{
		{[]fakeRun{full(cq("plain", "", 1, 0.75)), full(cq("standard", "0.3", 1, 0.7))}, true},
		{[]fakeRun{cq("plain", "", 1, 0.75), cq("standard", "0.3", 1, 0.7)}, false},
		{[]fakeRun{with(full(cq("standard", "0.3", 1, 0.7)), func(r *fakeRun) { r.dataset = "mnist" })}, false},
	} {
		_, c := collect(t, tc.runs)
		fig, _ := AccuracyVsRatio(c.Runs)
		_, svg, err := fig.Render()
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(svg, []byte("standard, paper")); got != tc.paper {
			t.Errorf("%s: paper values drawn = %v, want %v", fig.Rows[0].Title, got, tc.paper)
		}
	}
}

func TestSeedStats(t *testing.T) {
	run := func(losses ...float64) analysis.Run {
		var m []results.Metric
		for i, l := range losses {
			m = append(m, results.Metric{Iteration: 100 * (i + 1), TrainLoss: l})
		}
		return analysis.Run{Metrics: m}
	}
	sts := seedStats([]analysis.Run{run(1, 2, 3), run(3, math.NaN(), 5)}, func(m results.Metric) float64 { return m.TrainLoss })
	// Iteration 200 has a NaN and is left out; the others: mean, sample std.
	want := []stat{{100, 2, math.Sqrt2, 2}, {300, 4, math.Sqrt2, 2}}
	if len(sts) != len(want) {
		t.Fatalf("stats %v", sts)
	}
	for i := range want {
		if sts[i].x != want[i].x || sts[i].mean != want[i].mean || math.Abs(sts[i].std-want[i].std) > 1e-12 || sts[i].n != 2 {
			t.Errorf("stat %d = %+v, want %+v", i, sts[i], want[i])
		}
	}
	// The band is the tables' interval: t(0.975, 1)·std/√2 = 12.7062·1 (SciPy).
	if h := sts[0].halfWidth(); math.Abs(h-12.706204736174707) > 1e-9 {
		t.Errorf("band half-width %v, want the 95 %% t interval's 12.7062", h)
	}
	if band(seedStats([]analysis.Run{run(1, 2)}, func(m results.Metric) float64 { return m.TrainLoss }), 1) != nil {
		t.Error("one seed drew a band")
	}
}

func TestRoundTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{0.26, 0.44, []string{"0.30", "0.35", "0.40"}},
		{0.2, 0.45, []string{"0.20", "0.25", "0.30", "0.35", "0.40", "0.45"}},
		{0, 2.3, []string{"0.0", "0.5", "1.0", "1.5", "2.0"}},
		{0.7, 0.76, []string{"0.70", "0.72", "0.74", "0.76"}},
		{12, 180, []string{"50", "100", "150"}},
	} {
		var got []string
		for _, tk := range (roundTicks{}).Ticks(tc.lo, tc.hi) {
			got = append(got, tk.Label)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ticks of [%v, %v] = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}

// The figures read as the tables do: standard (one computation under both
// rules) is drawn under elementwise too, rows of one group share their y
// ranges, a log ratio axis says so, and a run's panels share the y range of
// the runs of its network and data.
func TestFiguresReadAsTheTables(t *testing.T) {
	runs := figureRuns(t)
	fig, _ := Figure1(runs, []experiment.Ratio{{P: 0.3}, {P: 0.1}})
	var elementwise *FigureRow
	for i, r := range fig.Rows {
		if strings.Contains(r.Title, "elementwise gradient, dropout ratio 0.3") {
			elementwise = &fig.Rows[i]
		}
	}
	if elementwise == nil {
		t.Fatalf("no elementwise row at 0.3: %d rows", len(fig.Rows))
	}
	_, svg, err := Figure{Name: "x", Rows: []FigureRow{*elementwise}, PanelW: fig.PanelW, PanelH: fig.PanelH}.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("standard 0.3 (n=3)")) {
		t.Error("the elementwise row leaves out standard's runs, which its comparisons use")
	}
	if len(fig.Rows) < 2 {
		t.Fatalf("%d rows", len(fig.Rows))
	}
	for j := range fig.Rows[0].Panels {
		for _, r := range fig.Rows[1:] {
			a, b := fig.Rows[0].Panels[j].Y, r.Panels[j].Y
			if a.Min != b.Min || a.Max != b.Max {
				t.Errorf("panel %d: y [%v, %v] in %q, [%v, %v] in %q", j, a.Min, a.Max, fig.Rows[0].Title, b.Min, b.Max, r.Title)
			}
		}
	}

	p := newPlot("", "dropout ratio p", "")
	ratioAxis(p, []float64{0.005, 0.05, 0.3}, 0.1)
	if p.X.Label.Text != "dropout ratio p (log scale)" {
		t.Errorf("log axis labelled %q", p.X.Label.Text)
	}
	p = newPlot("", "dropout ratio p", "")
	ratioAxis(p, []float64{0.1, 0.2, 0.3}, 0.1)
	if p.X.Label.Text != "dropout ratio p" {
		t.Errorf("linear axis labelled %q", p.X.Label.Text)
	}

	// The runs' panels carry the same y ticks: one scale for all of them.
	ranges := runRanges(runs)
	if len(ranges) != 1 {
		t.Fatalf("%d range keys for one network on one data set", len(ranges))
	}
	ticks := regexp.MustCompile(`text-anchor="end">([^<]*)</text>`)
	var first []string
	for _, r := range runs {
		if len(r.Metrics) == 0 {
			continue
		}
		var got []string
		for _, m := range ticks.FindAllStringSubmatch(runCurvesSVG(r, ranges[rangeKey(r)]), -1) {
			got = append(got, m[1])
		}
		if first == nil {
			first = got
		} else if !slices.Equal(got, first) {
			t.Errorf("%s: y ticks %q, another run's %q", r.Dir, got, first)
		}
	}
	if len(first) < 4 {
		t.Errorf("y ticks %q", first)
	}
}
