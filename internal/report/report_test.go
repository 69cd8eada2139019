package report

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/results"
)

// fakeRun is a run directory to write for a test.
type fakeRun struct {
	model, dataset, semantics, variant, ratio string
	seed                                      int64
	status                                    string // "" writes no summary (an unfinished run)
	acc                                       float64
}

// writeRuns writes the runs as run directories under dir/runs/ (a sweep
// directory), with metrics whose losses fall with the iteration.
func writeRuns(t *testing.T, dir string, runs []fakeRun) {
	t.Helper()
	for i, r := range runs {
		rd := filepath.Join(dir, "runs", fmt.Sprintf("%s-%s-%s-%s-s%d-%d", r.dataset, r.variant, strings.ReplaceAll(r.ratio, "/", "q"), r.semantics, r.seed, i))
		if err := os.MkdirAll(rd, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rd, results.ConfigFile), []byte("model: "+r.model+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var m []results.Metric
		for it := 100; it <= 300; it += 100 {
			m = append(m, results.Metric{Iteration: it, TrainLoss: 2 / float64(it) * 100 * (1 + float64(r.seed)/10), TestLoss: 2.5 / float64(it) * 100, TestAcc: r.acc})
		}
		if err := results.WriteMetrics(filepath.Join(rd, results.MetricsFile), m); err != nil {
			t.Fatal(err)
		}
		if r.status == "" {
			continue
		}
		sum := results.Summary{Status: r.status, Model: r.model, Dataset: r.dataset, Semantics: r.semantics, Variant: r.variant,
			Ratio: r.ratio, Seed: r.seed, FinalTestAcc: r.acc, Iterations: 300, TrainSize: 1000, TestSize: 200}
		if r.status == results.StatusDiverged {
			sum.FinalTestAcc, sum.DivergedAt = math.NaN(), 150
		}
		if err := results.WriteSummary(filepath.Join(rd, results.SummaryFile), sum); err != nil {
			t.Fatal(err)
		}
	}
}

// table1Runs: plain 0.75/0.76; standard 0.3 at 0.70/0.72/0.74; forward 0.1
// one finished (0.70) and one diverged; backward at an extra ratio 0.5; one
// unfinished run; an elementwise run in its own section.
var table1Runs = []fakeRun{
	{"convnet-quick", "cifar10", "layer", "plain", "", 1, "finished", 0.75},
	{"convnet-quick", "cifar10", "layer", "plain", "", 2, "finished", 0.76},
	{"convnet-quick", "cifar10", "layer", "standard", "0.3", 1, "finished", 0.70},
	{"convnet-quick", "cifar10", "layer", "standard", "0.3", 2, "finished", 0.72},
	{"convnet-quick", "cifar10", "layer", "standard", "0.3", 3, "finished", 0.74},
	{"convnet-quick", "cifar10", "layer", "forward", "0.1", 1, "finished", 0.70},
	{"convnet-quick", "cifar10", "layer", "forward", "0.1", 2, "diverged", 0},
	{"convnet-quick", "cifar10", "layer", "backward", "0.5", 1, "finished", 0.60},
	{"convnet-quick", "cifar10", "layer", "backward", "0.3", 1, "", 0},
	{"convnet-quick", "cifar10", "elementwise", "forward", "0.3", 1, "finished", 0.65},
}

// table2Runs: SVHN p=0.1 standard 0.95/0.97 and augmented 0.1/0.0002 at
// 0.96; CIFAR-10 augmented at a q the paper did not use; an extra ratio.
var table2Runs = []fakeRun{
	{"resnet20", "svhn", "layer", "standard", "0.1", 1, "finished", 0.95},
	{"resnet20", "svhn", "layer", "standard", "0.1", 2, "finished", 0.97},
	{"resnet20", "svhn", "layer", "augmented", "0.1/0.0002", 1, "finished", 0.96},
	{"resnet20", "cifar10", "layer", "augmented", "0.2/0.001", 1, "finished", 0.90},
	{"resnet20", "cifar100", "layer", "standard", "0.5", 1, "finished", 0.60},
}

func collect(t *testing.T, runs []fakeRun) (string, Collection) {
	t.Helper()
	dir := t.TempDir()
	writeRuns(t, dir, runs)
	c, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, c
}

func TestCellText(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		cell Cell
		want string
	}{
		{Cell{N: 3, Mean: 0.72, Std: 0.02, Paper: 0.7523}, "0.7200 ± 0.0200 (n=3); paper 0.7523; diff -0.0323"},
		{Cell{N: 1, Mean: 0.8, Std: nan, Paper: 0.7523}, "0.8000 (n=1); paper 0.7523; diff +0.0477"},
		{Cell{N: 0, Mean: nan, Std: nan, Paper: 0.7617}, "– (n=0); paper 0.7617"},
		{Cell{N: 2, Mean: 0.6, Std: 0.01, Paper: nan, Diverged: 2}, "0.6000 ± 0.0100 (n=2); 2 diverged"},
	} {
		if got := tc.cell.Text(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func TestTable1(t *testing.T) {
	_, c := collect(t, table1Runs)
	if len(c.Runs) != 9 || len(c.Pending) != 1 {
		t.Fatalf("%d runs, %d pending", len(c.Runs), len(c.Pending))
	}
	md := BuildTable1(c.Runs).Markdown(c.Note([]string{"SWEEP"}))
	for _, want := range []string{
		"From SWEEP: 8 finished runs, 1 diverged, 1 not finished (left out).",
		"## ConvNet-Quick on CIFAR-10, layer gradient\n\nRuns: 300 iterations, 1000 train / 200 test images.",
		// mean 0.755, std sqrt(0.00005) = 0.00707
		"Plain network: 0.7550 ± 0.0071 (n=2); paper 0.7579; diff -0.0029\n",
		"| dropout ratio | 0.5 | 0.3 | 0.2 | 0.1 | 0.05 | 0.01 | 0.005 |\n|---|---|---|---|---|---|---|---|\n",
		// mean 0.72, std 0.02
		"| standard | – (n=0) | 0.7200 ± 0.0200 (n=3); paper 0.7523; diff -0.0323 | – (n=0); paper 0.7617 |",
		"| forward | – (n=0) | – (n=0); paper 0.6908 | – (n=0); paper 0.7211 | 0.7000 (n=1); paper 0.7482; diff -0.0482; 1 diverged |",
		"| backward | 0.6000 (n=1) | – (n=0); paper 0.7433 |",
		// plain serves both semantics
		"## ConvNet-Quick on CIFAR-10, elementwise gradient\n\nRuns: 300 iterations, 1000 train / 200 test images.\n\nPlain network: 0.7550 ± 0.0071 (n=2)",
		"| forward | 0.6500 (n=1); paper 0.6908; diff -0.0408 | – (n=0); paper 0.7211 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table1.md lacks\n%q\n%s", want, md)
		}
	}
	if strings.Index(md, "layer gradient") > strings.Index(md, "elementwise gradient") {
		t.Errorf("the paper's layer semantics should come first")
	}
	csv := BuildTable1(c.Runs).CSV()
	for _, want := range []string{
		"model,dataset,gradient,variant,ratio,n,mean,std,diverged,paper,diff\n",
		"convnet-quick,cifar10,layer,plain,,2,0.755000,0.007071,0,0.757900,-0.002900\n",
		"convnet-quick,cifar10,layer,standard,0.3,3,0.720000,0.020000,0,0.752300,-0.032300\n",
		"convnet-quick,cifar10,layer,forward,0.1,1,0.700000,,1,0.748200,-0.048200\n",
		"convnet-quick,cifar10,layer,backward,0.5,1,0.600000,,0,,\n",
		"convnet-quick,cifar10,layer,standard,0.2,0,,,0,0.761700,\n",
	} {
		if !strings.Contains(csv, want) {
			t.Errorf("table1.csv lacks %q\n%s", want, csv)
		}
	}
}

func TestTable1WithoutRuns(t *testing.T) {
	md := BuildTable1(nil).Markdown("")
	for _, want := range []string{"Runs: no runs.", "Plain network: – (n=0); paper 0.7579", "| backward | – (n=0); paper 0.7433 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("lacks %q:\n%s", want, md)
		}
	}
}

func TestTable2(t *testing.T) {
	_, c := collect(t, table2Runs)
	t2 := BuildTable2(c.Runs)
	md := t2.Markdown("")
	for _, want := range []string{
		"| data set | p | standard | augmented | augmented ratio |\n|---|---|---|---|---|\n",
		// mean 0.96, std sqrt(0.0002) = 0.01414
		"| SVHN | 0.1 | 0.9600 ± 0.0141 (n=2); paper 0.9618; diff -0.0018 | 0.9600 (n=1); paper 0.9627; diff -0.0027 | 0.1/0.0002 |\n",
		"| SVHN | 0.2 | – (n=0); paper 0.9626 | – (n=0); paper 0.9648 | 0.2/0.0002 |\n",
		// another q than the paper's: no paper value for that augmented cell
		"| CIFAR-10 | 0.2 | – (n=0); paper 0.9176 | 0.9000 (n=1) | 0.2/0.001 |\n",
		"| CIFAR-100 | 0.3 | – (n=0); paper 0.6686 | – (n=0); paper 0.6688 | 0.3/0.0001 |\n| CIFAR-100 | 0.5 | 0.6000 (n=1) | – (n=0) | – |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table2.md lacks\n%q\n%s", want, md)
		}
	}
	if n := strings.Count(md, "\n| "); n != 11 { // header + 9 paper rows + the extra row
		t.Errorf("%d table lines, want 11:\n%s", n, md)
	}
	csv := t2.CSV()
	for _, want := range []string{
		"model,dataset,gradient,p,variant,ratio,n,mean,std,diverged,paper,diff\n",
		"resnet20,svhn,layer,0.1,standard,0.1,2,0.960000,0.014142,0,0.961800,-0.001800\n",
		"resnet20,svhn,layer,0.1,augmented,0.1/0.0002,1,0.960000,,0,0.962700,-0.002700\n",
	} {
		if !strings.Contains(csv, want) {
			t.Errorf("table2.csv lacks %q\n%s", want, csv)
		}
	}
}

func TestWrite(t *testing.T) {
	dir, _ := collect(t, append(append([]fakeRun{}, table1Runs...), table2Runs...))
	out := filepath.Join(t.TempDir(), "report")
	if d := os.Getenv("REPORT_TEST_OUT"); d != "" {
		out = d
	}
	files, c, err := Write(Options{In: []string{dir}, Out: out, FigRatios: []string{"0.3", "0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs) != 14 || len(files) != 8 {
		t.Errorf("%d runs, files %q", len(c.Runs), files)
	}
	for _, name := range []string{Table1MD, Table1CSV, Table2MD, Table2CSV, Figure1PNG, Figure1SVG, AccuracyPNG, AccuracySVG} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 100 {
			t.Errorf("%s: %d bytes", name, len(data))
		}
		switch filepath.Ext(name) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
				t.Errorf("%s: %v", name, b)
			}
		case ".svg":
			if !bytes.HasPrefix(data, []byte("<?xml")) || !bytes.Contains(data, []byte("</svg>")) {
				t.Errorf("%s is not an SVG document", name)
			}
		}
	}
	// Figure 1 has a row per ConvNet-Quick group and ratio that has runs: the
	// layer group at 0.3 and 0.1, the elementwise one at 0.3; ResNet-20
	// (SVHN at 0.1) only when there is no ConvNet-Quick run.
	if rows := Figure1(c.Runs, []string{"0.3", "0.1"}); len(rows) != 3 {
		t.Errorf("figure 1 has %d rows, want 3", len(rows))
	}
	var resnet []Run
	for _, r := range c.Runs {
		if r.Summary.Model == Table2Model {
			resnet = append(resnet, r)
		}
	}
	if rows := Figure1(resnet, []string{"0.3", "0.1"}); len(rows) != 1 {
		t.Errorf("figure 1 of the ResNet-20 runs has %d rows, want 1", len(rows))
	}
	svg, _ := os.ReadFile(filepath.Join(out, Figure1SVG))
	for _, want := range []string{"standard 0.3 (n=3)", "plain (n=2)", "forward 0.1 (n=1)"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("figure1.svg lacks the legend entry %q", want)
		}
	}
}

func TestWriteWithoutRuns(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Write(Options{In: []string{dir}}); err == nil || !strings.Contains(err.Error(), "no run directories under") {
		t.Errorf("got %v", err)
	}
	if _, _, err := Write(Options{In: []string{filepath.Join(dir, "nope")}}); err == nil || !strings.Contains(err.Error(), "pass a sweep directory") {
		t.Errorf("got %v", err)
	}
	// Unfinished runs only: tables of empty cells and placeholder figures.
	writeRuns(t, dir, []fakeRun{{"convnet-quick", "cifar10", "layer", "plain", "", 1, "", 0}})
	files, _, err := Write(Options{In: []string{dir}})
	if err != nil || len(files) != 8 {
		t.Errorf("files %q, %v", files, err)
	}
}

func TestCollectLayouts(t *testing.T) {
	// A results root of dropexp train (run directories directly inside) and
	// a single run directory both work, and a directory given twice counts once.
	root := t.TempDir()
	writeRuns(t, root, table2Runs[:2])
	runs := filepath.Join(root, "runs")
	entries, _ := os.ReadDir(runs)
	one := filepath.Join(runs, entries[0].Name())
	c, err := Collect(runs, one, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs) != 2 {
		t.Errorf("%d runs, want 2", len(c.Runs))
	}
}
